/* Offline chain verification (see verify.h). */
#include "node/chain/verify.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/bytes.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "node/app/app.h"
#include "node/app/state.h"
#include "node/chain/block.h"
#include "node/chain/cert.h"
#include "node/store/keys.h"

__attribute__((format(printf, 3, 4))) static int vfail(char *err, size_t cap, const char *fmt,
                                                       ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return 0;
}

static int meta_fixed(cn_store_rtxn *r, const char *key, uint8_t *out, size_t len) {
    const void *v;
    size_t n;
    if (cn_store_read_get(r, CN_DB_META, key, strlen(key), &v, &n) != CN_STORE_OK || n != len)
        return 0;
    memcpy(out, v, len);
    return 1;
}

int cn_verify_supply(cn_store_rtxn *r, size_t *n_assets, char *err, size_t cap) {
    struct {
        char sym[CN_SYMBOL_MAX + 1];
        int64_t supply, sum;
    } a[CN_MAX_ASSETS];
    size_t n = 0;
    cn_store_iter *it;
    const void *k, *v;
    size_t kl, vl;
    uint8_t p = CN_SK_SUPPLY;
    if (cn_store_iter_read(&it, r, CN_DB_STATE, &p, 1, NULL, 0, 0))
        return vfail(err, cap, "cannot iterate supplies");
    while (cn_store_iter_next(it, &k, &kl, &v, &vl) == CN_STORE_OK) {
        if (n == CN_MAX_ASSETS || kl < 2 || kl > 1 + CN_SYMBOL_MAX || vl != 8) {
            cn_store_iter_close(it);
            return vfail(err, cap, "malformed supply record");
        }
        memcpy(a[n].sym, (const uint8_t *)k + 1, kl - 1);
        a[n].sym[kl - 1] = 0;
        a[n].supply = cn_get_be64_signed(v);
        a[n].sum = 0;
        n++;
    }
    cn_store_iter_close(it);
    int ok = 1;
    /* balances, then locked balances ('l': pending withdrawals, docs/custody.md) */
    for (int pass = 0; ok && pass < 2; pass++) {
        p = pass ? (uint8_t)'l' : (uint8_t)CN_SK_BALANCE;
        if (cn_store_iter_read(&it, r, CN_DB_STATE, &p, 1, NULL, 0, 0))
            return vfail(err, cap, "cannot iterate balances");
        while (ok && cn_store_iter_next(it, &k, &kl, &v, &vl) == CN_STORE_OK) {
            if (kl < 34 || vl != 8) {
                ok = vfail(err, cap, "malformed balance record");
                break;
            }
            size_t sl = kl - 33;
            size_t i;
            for (i = 0; i < n; i++)
                if (strlen(a[i].sym) == sl && memcmp(a[i].sym, (const uint8_t *)k + 33, sl) == 0)
                    break;
            int64_t b = cn_get_be64_signed(v);
            if (i == n)
                ok = vfail(err, cap, "a balance of an asset without supply");
            else if (b <= 0)
                ok = vfail(err, cap, "a stored balance of %s is not positive", a[i].sym);
            else if (__builtin_add_overflow(a[i].sum, b, &a[i].sum))
                ok = vfail(err, cap, "sum of %s balances overflows", a[i].sym);
        }
        cn_store_iter_close(it);
    }
    for (size_t i = 0; ok && i < n; i++)
        if (a[i].sum != a[i].supply)
            ok = vfail(err, cap, "asset %s: supply %lld but balances sum to %lld", a[i].sym,
                       (long long)a[i].supply, (long long)a[i].sum);
    *n_assets = n;
    return ok;
}

/* Checks one height. prev_id/prev_app/prev_time advance on success. */
static int check_height(cn_store_rtxn *r, const cn_genesis *g, uint64_t h, uint8_t prev_id[32],
                        uint8_t prev_app[32], uint64_t *prev_time, uint64_t *txs, char *err,
                        size_t cap) {
    uint8_t hk[8];
    cn_key_height(hk, h);
    const void *v;
    size_t n;
    if (cn_store_read_get(r, CN_DB_BLOCKS, hk, 8, &v, &n) != CN_STORE_OK)
        return vfail(err, cap, "height %llu: block missing", (unsigned long long)h);
    cn_pb bpb = {0}, hpb = {0}, cpb = {0}, rpb = {0};
    int ok = 0;
    char why[200];
    uint8_t id[32], ch[32], root[32], link[64], calc[32];
    uint8_t(*ids)[32] = NULL;
    if (cn_decode(CN_MSG_BLOCK, v, n, &bpb) != CN_DECODE_OK) {
        vfail(err, cap, "height %llu: block does not decode", (unsigned long long)h);
        goto out;
    }
    const Clearnode__V1__Block *b = (const Clearnode__V1__Block *)bpb.msg;
    if (cn_decode(CN_MSG_HEADER, b->header.data, b->header.len, &hpb) != CN_DECODE_OK) {
        vfail(err, cap, "height %llu: header does not decode", (unsigned long long)h);
        goto out;
    }
    const Clearnode__V1__Header *hd = (const Clearnode__V1__Header *)hpb.msg;
    cn_hash_tagged(id, CN_TAG_BLOCK, b->header.data, b->header.len);
    if (hd->height != h || strcmp(hd->chain_id, g->chain_id) != 0 || hd->time <= *prev_time) {
        vfail(err, cap, "height %llu: header height, chain id or time is wrong",
              (unsigned long long)h);
        goto out;
    }
    if (hd->app_hash.len != 32 || memcmp(hd->app_hash.data, prev_app, 32) != 0) {
        vfail(err, cap, "height %llu: header.app_hash is not the app hash after %llu",
              (unsigned long long)h, (unsigned long long)(h - 1));
        goto out;
    }
    if (h > 1) {
        uint8_t pk[8];
        cn_key_height(pk, h - 1);
        const void *cv;
        size_t cn;
        if (hd->last_block_id.len != 32 || memcmp(hd->last_block_id.data, prev_id, 32) != 0 ||
            !b->last_commit) {
            vfail(err, cap, "height %llu: does not link to block %llu", (unsigned long long)h,
                  (unsigned long long)(h - 1));
            goto out;
        }
        if (cn_store_read_get(r, CN_DB_COMMITS, pk, 8, &cv, &cn) != CN_STORE_OK) {
            vfail(err, cap, "height %llu: commit certificate missing", (unsigned long long)(h - 1));
            goto out;
        }
        cn_hash_tagged(ch, CN_TAG_COMMIT, cv, cn);
        if (hd->last_commit_hash.len != 32 || memcmp(hd->last_commit_hash.data, ch, 32) != 0) {
            vfail(err, cap, "height %llu: last_commit_hash differs from the stored commit of %llu",
                  (unsigned long long)h, (unsigned long long)(h - 1));
            goto out;
        }
        cn_validators pvs;
        if (cn_validators_at(r, h - 1, &pvs) != 1) {
            vfail(err, cap, "height %llu: no validator set recorded", (unsigned long long)(h - 1));
            goto out;
        }
        if (!cn_commit_verify(g->chain_id, &pvs, b->last_commit, h - 1, prev_id, why,
                              sizeof why)) {
            vfail(err, cap, "height %llu: last_commit: %s", (unsigned long long)h, why);
            goto out;
        }
    } else if (hd->last_block_id.len || b->last_commit) {
        vfail(err, cap, "height 1 carries a previous block");
        goto out;
    }
    ids = malloc((b->n_txs ? b->n_txs : 1) * 32);
    if (!ids) {
        vfail(err, cap, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < b->n_txs; i++) {
        cn_tx_id(b->txs[i].data, b->txs[i].len, ids[i]);
        const void *rv;
        size_t rl;
        int good = cn_store_read_get(r, CN_DB_TXS, ids[i], 32, &rv, &rl) == CN_STORE_OK &&
                   cn_decode(CN_MSG_RECEIPT, rv, rl, &rpb) == CN_DECODE_OK;
        if (good) {
            const Clearnode__V1__Receipt *rc = (const Clearnode__V1__Receipt *)rpb.msg;
            good = rc->height == h && rc->index == i;
        }
        cn_pb_free(&rpb);
        if (!good) {
            vfail(err, cap, "height %llu: tx %zu has no receipt at this height and index",
                  (unsigned long long)h, i);
            goto out;
        }
    }
    *txs += b->n_txs;
    if (!cn_tx_root((const uint8_t(*)[32])ids, b->n_txs, root) || hd->tx_root.len != 32 ||
        memcmp(hd->tx_root.data, root, 32) != 0) {
        vfail(err, cap, "height %llu: tx_root does not match", (unsigned long long)h);
        goto out;
    }
    cn_validators vs;
    if (cn_validators_at(r, h, &vs) != 1 ||
        cn_store_read_get(r, CN_DB_COMMITS, hk, 8, &v, &n) != CN_STORE_OK ||
        cn_decode(CN_MSG_COMMIT, v, n, &cpb) != CN_DECODE_OK ||
        !cn_commit_verify(g->chain_id, &vs, (const Clearnode__V1__Commit *)cpb.msg, h, id, why,
                          sizeof why)) {
        vfail(err, cap, "height %llu: stored commit certificate is missing or invalid",
              (unsigned long long)h);
        goto out;
    }
    char ak[32];
    cn_app_meta_apphash_key(h, ak);
    if (!meta_fixed(r, ak, link, 64)) {
        vfail(err, cap, "height %llu: app hash record missing", (unsigned long long)h);
        goto out;
    }
    cn_app_hash_link(prev_app, link + 32, calc);
    if (memcmp(calc, link, 32) != 0) {
        vfail(err, cap, "height %llu: app hash chain broken", (unsigned long long)h);
        goto out;
    }
    memcpy(prev_app, link, 32);
    memcpy(prev_id, id, 32);
    *prev_time = hd->time;
    ok = 1;
out:
    free(ids);
    cn_pb_free(&cpb);
    cn_pb_free(&hpb);
    cn_pb_free(&bpb);
    return ok;
}

static void rm_store_dir(const char *dir) {
    char p[4200];
    snprintf(p, sizeof p, "%s/data/data.mdb", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/data/lock.mdb", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/data", dir);
    rmdir(p);
    rmdir(dir);
}

/* Compares the state databases of two snapshots key by key. */
static int same_state(cn_store_rtxn *a, cn_store_rtxn *b, char *err, size_t cap) {
    cn_store_iter *ia, *ib;
    if (cn_store_iter_read(&ia, a, CN_DB_STATE, NULL, 0, NULL, 0, 0))
        return vfail(err, cap, "cannot iterate state");
    if (cn_store_iter_read(&ib, b, CN_DB_STATE, NULL, 0, NULL, 0, 0)) {
        cn_store_iter_close(ia);
        return vfail(err, cap, "cannot iterate state");
    }
    int ok = 1;
    for (;;) {
        const void *ka, *va, *kb, *vb;
        size_t kla, vla, klb, vlb;
        cn_store_err ea = cn_store_iter_next(ia, &ka, &kla, &va, &vla);
        cn_store_err eb = cn_store_iter_next(ib, &kb, &klb, &vb, &vlb);
        if (ea == CN_STORE_NOTFOUND && eb == CN_STORE_NOTFOUND)
            break;
        if (ea != eb || ea != CN_STORE_OK || kla != klb || memcmp(ka, kb, kla) != 0 ||
            vla != vlb || memcmp(va, vb, vla) != 0) {
            char hex[2 * 64 + 1];
            size_t kl = ea == CN_STORE_OK ? kla : (eb == CN_STORE_OK ? klb : 0);
            cn_hex_encode(hex, ea == CN_STORE_OK ? ka : kb, kl > 64 ? 64 : kl);
            ok = vfail(err, cap, "replayed state differs at key %s", hex);
            break;
        }
    }
    cn_store_iter_close(ia);
    cn_store_iter_close(ib);
    return ok;
}

static int replay_chain(cn_store_rtxn *src, const cn_genesis *g, uint64_t height, char *err,
                        size_t cap) {
    char dir[] = "/tmp/cn-verify-XXXXXX";
    if (!mkdtemp(dir))
        return vfail(err, cap, "cannot create a temporary directory");
    char data[64];
    snprintf(data, sizeof data, "%s/data", dir);
    cn_store *s = NULL;
    cn_app *app = NULL;
    int ok = 1;
    char why[300];
    if (cn_store_open(&s, data, NULL) != CN_STORE_OK || !cn_app_open(&app, s, g, 1024, why, sizeof why)) {
        ok = vfail(err, cap, "replay: cannot open a temporary store");
        goto out;
    }
    for (uint64_t h = 1; ok && h <= height; h++) {
        uint8_t hk[8], link[64];
        cn_key_height(hk, h);
        const void *bv, *cv;
        size_t bn, cn;
        char ak[32];
        cn_app_meta_apphash_key(h, ak);
        if (cn_store_read_get(src, CN_DB_BLOCKS, hk, 8, &bv, &bn) ||
            cn_store_read_get(src, CN_DB_COMMITS, hk, 8, &cv, &cn) || !meta_fixed(src, ak, link, 64)) {
            ok = vfail(err, cap, "replay: height %llu missing", (unsigned long long)h);
            break;
        }
        if (!cn_app_process_proposal(app, bv, bn, why, sizeof why)) {
            ok = vfail(err, cap, "replay: height %llu rejected: %s", (unsigned long long)h, why);
            break;
        }
        cn_block_result *res = cn_app_finalize_block(app, bv, bn, why, sizeof why);
        if (!res) {
            ok = vfail(err, cap, "replay: height %llu: %s", (unsigned long long)h, why);
            break;
        }
        if (memcmp(res->app_hash, link, 32) != 0) {
            cn_app_abandon(app, res);
            ok = vfail(err, cap, "replay: height %llu computes a different app hash",
                       (unsigned long long)h);
            break;
        }
        if (!cn_app_commit(app, res, cv, cn, NULL, NULL, why, sizeof why))
            ok = vfail(err, cap, "replay: height %llu: %s", (unsigned long long)h, why);
    }
    if (ok) {
        cn_store_rtxn *mine;
        if (cn_store_read_begin(s, &mine) != CN_STORE_OK)
            ok = vfail(err, cap, "replay: cannot read the replayed state");
        else {
            ok = same_state(src, mine, err, cap);
            cn_store_read_end(mine);
        }
    }
out:
    cn_app_close(app);
    cn_store_close(s);
    rm_store_dir(dir);
    return ok;
}

int cn_verify_chain(cn_store *s, const cn_genesis *g, int replay, cn_verify_report *rep,
                    char *err, size_t cap) {
    memset(rep, 0, sizeof *rep);
    cn_store_rtxn *r;
    if (cn_store_read_begin(s, &r) != CN_STORE_OK)
        return vfail(err, cap, "cannot read the store");
    uint8_t gh[32], be[8], tip_app[32], tip_id[32], link[64];
    uint8_t prev_id[32] = {0}, prev_app[32], zero[32] = {0}, calc[32];
    int ok = 1;
    char ak[32];
    cn_app_meta_apphash_key(0, ak);
    if (!meta_fixed(r, CN_META_GENESIS_HASH, gh, 32) || memcmp(gh, g->hash, 32) != 0)
        ok = vfail(err, cap, "the store does not belong to this genesis");
    else if (!meta_fixed(r, CN_META_HEIGHT, be, 8) || !meta_fixed(r, CN_META_APP_HASH, tip_app, 32) ||
             !meta_fixed(r, CN_META_BLOCK_ID, tip_id, 32) || !meta_fixed(r, ak, link, 64))
        ok = vfail(err, cap, "store meta incomplete");
    if (ok) {
        cn_app_hash_link(zero, link + 32, calc);
        if (memcmp(calc, link, 32) != 0)
            ok = vfail(err, cap, "genesis app hash record broken");
    }
    uint64_t height = ok ? cn_get_be64(be) : 0, prev_time = (uint64_t)g->genesis_time_ms;
    memcpy(prev_app, link, 32);
    for (uint64_t h = 1; ok && h <= height; h++)
        ok = check_height(r, g, h, prev_id, prev_app, &prev_time, &rep->txs, err, cap);
    if (ok && (memcmp(prev_app, tip_app, 32) != 0 || memcmp(prev_id, tip_id, 32) != 0))
        ok = vfail(err, cap, "meta tip does not match block %llu", (unsigned long long)height);
    uint8_t hk[8];
    cn_key_height(hk, height + 1);
    const void *v;
    size_t n;
    if (ok && cn_store_read_get(r, CN_DB_BLOCKS, hk, 8, &v, &n) != CN_STORE_NOTFOUND)
        ok = vfail(err, cap, "a block above the committed tip exists");
    if (ok)
        ok = cn_verify_supply(r, &rep->assets, err, cap);
    if (ok && replay)
        ok = replay_chain(r, g, height, err, cap);
    cn_store_read_end(r);
    rep->height = height;
    cn_hex_encode(rep->app_hash_hex, prev_app, 32);
    return ok;
}
