/* The app: opening (genesis or resume), admission and proposal checks (see app.h).
 * Block execution and commit are in exec.c. */
#include "node/app/app_internal.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/bytes.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "crypto/schnorr.h"
#include "node/app/evidence.h"
#include "node/app/reserves.h"
#include "node/chain/block.h"
#include "node/chain/cert.h"

__attribute__((format(printf, 4, 5))) static cn_txerr txfail(char *msg, size_t cap,
                                                             cn_txerr code, const char *fmt,
                                                             ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, cap, fmt, ap);
    va_end(ap);
    return code;
}

void cn_app_hash_link(const uint8_t prev[32], const uint8_t ws[32], uint8_t out[32]) {
    cn_hash_pair(out, CN_TAG_APPHASH, prev, ws);
}

void cn_app_meta_events_key(uint64_t height, uint8_t out[15]) {
    memcpy(out, "events:", 7);
    cn_put_be64(out + 7, height);
}

void cn_app_meta_apphash_key(uint64_t height, char out[32]) {
    snprintf(out, 32, "apphash:%016llx", (unsigned long long)height);
}

const cn_tip *cn_app_tip(const cn_app *app) { return &app->tip; }
const cn_genesis *cn_app_genesis(const cn_app *app) { return app->g; }
cn_store *cn_app_store(const cn_app *app) { return app->store; }
cn_sigcache *cn_app_sigcache(cn_app *app) { return &app->sigs; }

void cn_app_stats_get(const cn_app *app, cn_app_stats *out) {
    pthread_mutex_lock((pthread_mutex_t *)(uintptr_t)&app->stats_mu);
    *out = app->stats;
    pthread_mutex_unlock((pthread_mutex_t *)(uintptr_t)&app->stats_mu);
}

/* ---- opening ------------------------------------------------------------------------------ */

static int store_fail(char *err, size_t cap, const char *what, cn_store_err e) {
    snprintf(err, cap, "%s: %s%s%s", what, cn_store_strerror(e),
             cn_store_last_raw() ? ": " : "", cn_store_last_detail());
    return 0;
}

/* Writes the genesis state and height-0 meta in one batch. */
static int init_chain(cn_app *app, char *err, size_t cap) {
    cn_store_rtxn *snap;
    cn_store_err e = cn_store_read_begin(app->store, &snap);
    if (e)
        return store_fail(err, cap, "read snapshot", e);
    cn_overlay ov;
    cn_overlay_init(&ov, snap);
    int ok = cn_state_write_genesis(&ov, app->g);
    size_t n = 0;
    cn_ov_write *w = ok ? cn_overlay_writes(&ov, &n) : NULL;
    cn_store_read_end(snap);
    ov.base = NULL;
    if (!ok || n == SIZE_MAX) {
        free(w);
        cn_overlay_free(&ov);
        snprintf(err, cap, "genesis state: out of memory");
        return 0;
    }
    uint8_t ws[32], zero[32] = {0};
    cn_overlay_hash_writes(w, n, ws);
    cn_app_hash_link(zero, ws, app->tip.app_hash);
    cn_store_wtxn *b;
    e = cn_store_begin(app->store, &b);
    for (size_t i = 0; !e && i < n; i++)
        e = cn_store_put(b, CN_DB_STATE, w[i].key, w[i].klen, w[i].val, w[i].vlen);
    uint8_t be[8];
    cn_put_be64(be, 0);
    char hk[32];
    cn_app_meta_apphash_key(0, hk);
    uint8_t link[64];
    memcpy(link, app->tip.app_hash, 32);
    memcpy(link + 32, ws, 32);
    uint8_t tb[8];
    cn_put_be64(tb, (uint64_t)app->g->genesis_time_ms);
#define META(k, v, l) \
    if (!e)           \
    e = cn_store_put(b, CN_DB_META, k, strlen(k), v, l)
    META(CN_META_CHAIN_ID, app->g->chain_id, strlen(app->g->chain_id));
    META(CN_META_GENESIS_HASH, app->g->hash, 32);
    META(CN_META_HEIGHT, be, 8);
    META(CN_META_APP_HASH, app->tip.app_hash, 32);
    META(CN_META_BLOCK_ID, zero, 32);
    META(CN_META_TIME, tb, 8);
    META(hk, link, 64);
#undef META
    for (size_t i = 0; !e && i < n; i++)
        if (w[i].klen == 2 && w[i].key[0] == CN_SK_VALSET && w[i].key[1] == 'n')
            e = cn_validators_history_put(b, 1, w[i].val, w[i].vlen);
    free(w);
    cn_overlay_free(&ov);
    if (e) {
        cn_store_abort(b);
        return store_fail(err, cap, "genesis batch", e);
    }
    e = cn_store_commit(b);
    if (e)
        return store_fail(err, cap, "genesis commit", e);
    app->tip.height = 0;
    app->tip.time_ms = (uint64_t)app->g->genesis_time_ms;
    memset(app->tip.block_id, 0, 32);
    return 1;
}

/* Reads a fixed-size meta value. */
static int meta_get(cn_store_rtxn *r, const char *key, void *out, size_t len) {
    const void *v;
    size_t n;
    if (cn_store_read_get(r, CN_DB_META, key, strlen(key), &v, &n) != CN_STORE_OK || n != len)
        return 0;
    memcpy(out, v, len);
    return 1;
}

static int load_tip(cn_app *app, cn_store_rtxn *r, char *err, size_t cap) {
    uint8_t gh[32], be[8], tb[8];
    if (!meta_get(r, CN_META_GENESIS_HASH, gh, 32)) {
        snprintf(err, cap, "store has no genesis hash: not a clearnode data directory");
        return 0;
    }
    if (memcmp(gh, app->g->hash, 32) != 0) {
        snprintf(err, cap, "the data directory was created from a different genesis file");
        return 0;
    }
    if (!meta_get(r, CN_META_HEIGHT, be, 8) || !meta_get(r, CN_META_APP_HASH, app->tip.app_hash, 32) ||
        !meta_get(r, CN_META_BLOCK_ID, app->tip.block_id, 32) || !meta_get(r, CN_META_TIME, tb, 8)) {
        snprintf(err, cap, "store meta is incomplete (height, app_hash, block_id, time)");
        return 0;
    }
    app->tip.height = cn_get_be64(be);
    app->tip.time_ms = cn_get_be64(tb);
    if (app->tip.height > 0) {
        uint8_t k[8];
        cn_key_height(k, app->tip.height);
        const void *v;
        size_t n;
        if (cn_store_read_get(r, CN_DB_COMMITS, k, 8, &v, &n) != CN_STORE_OK || n == 0) {
            snprintf(err, cap, "commit certificate of height %llu is missing",
                     (unsigned long long)app->tip.height);
            return 0;
        }
        app->tip.last_commit = malloc(n);
        if (!app->tip.last_commit) {
            snprintf(err, cap, "out of memory");
            return 0;
        }
        memcpy(app->tip.last_commit, v, n);
        app->tip.last_commit_len = n;
    }
    return 1;
}

int cn_app_load_validators(cn_app *app, char *err, size_t cap) {
    cn_store_rtxn *r;
    cn_store_err e = cn_store_read_begin(app->store, &r);
    if (e)
        return store_fail(err, cap, "read snapshot", e);
    int a = cn_validators_read(r, 1, &app->vnext), b = cn_validators_read(r, 0, &app->vlast);
    cn_store_read_end(r);
    if (a != 1 || b != 1) {
        snprintf(err, cap, "state has no valid validator set ('v' 'n' and 'v' 'l')");
        return 0;
    }
    return 1;
}

const cn_validators *cn_app_validators(const cn_app *app, int next) {
    return next ? &app->vnext : &app->vlast;
}

int cn_app_open(cn_app **out, cn_store *store, const cn_genesis *g, size_t sigcache_cap,
                char *err, size_t cap) {
    *out = NULL;
    cn_app *app = calloc(1, sizeof *app);
    if (!app || !cn_sigcache_init(&app->sigs, sigcache_cap ? sigcache_cap : 65536)) {
        free(app);
        snprintf(err, cap, "out of memory");
        return 0;
    }
    pthread_mutex_init(&app->stats_mu, NULL);
    app->store = store;
    app->g = g;
    cn_store_rtxn *r;
    cn_store_err e = cn_store_read_begin(store, &r);
    if (e) {
        cn_app_close(app);
        return store_fail(err, cap, "read snapshot", e);
    }
    const void *v;
    size_t n;
    e = cn_store_read_get(r, CN_DB_META, CN_META_GENESIS_HASH, strlen(CN_META_GENESIS_HASH), &v,
                          &n);
    int ok;
    if (e == CN_STORE_NOTFOUND) {
        cn_store_read_end(r);
        ok = init_chain(app, err, cap);
    } else if (e) {
        cn_store_read_end(r);
        ok = store_fail(err, cap, "reading meta", e);
    } else {
        ok = load_tip(app, r, err, cap);
        cn_store_read_end(r);
    }
    if (ok)
        ok = cn_app_load_validators(app, err, cap);
    if (!ok) {
        cn_app_close(app);
        return 0;
    }
    *out = app;
    return 1;
}

void cn_app_close(cn_app *app) {
    if (!app)
        return;
    if (app->pending)
        cn_app_abandon(app, app->pending);
    free(app->tip.last_commit);
    cn_sigcache_free(&app->sigs);
    pthread_mutex_destroy(&app->stats_mu);
    free(app);
}

/* ---- admission ---------------------------------------------------------------------------- */

void cn_parsed_free(cn_parsed_tx *p) {
    cn_pb_free(&p->tpb);
    cn_pb_free(&p->spb);
    p->s = NULL;
    p->tx = NULL;
}

cn_txerr cn_app_parse_tx(const cn_app *app, const uint8_t *bytes, size_t len, cn_parsed_tx *p,
                         char *msg, size_t cap) {
    memset(p, 0, sizeof *p);
    if (len > CN_CAP_TX)
        return txfail(msg, cap, CN_TX_TOO_LARGE, "transaction is %zu bytes, the cap is %zu",
                      len, CN_CAP_TX);
    cn_decode_err de = cn_decode(CN_MSG_SIGNED, bytes, len, &p->spb);
    if (de)
        return txfail(msg, cap, CN_TX_MALFORMED, "Signed envelope: %s", cn_decode_strerror(de));
    p->s = (const Clearnode__V1__Signed *)p->spb.msg;
    if (p->s->signer.len != 32 || !cn_pubkey_valid(p->s->signer.data))
        return txfail(msg, cap, CN_TX_BAD_SIGNER, "signer: not a valid 32-byte x-only key");
    if (p->s->sig.len != CN_SIG_LEN)
        return txfail(msg, cap, CN_TX_BAD_SIGNATURE, "sig: must be 64 bytes, got %zu",
                      p->s->sig.len);
    de = cn_decode(CN_MSG_TX, p->s->body.data, p->s->body.len, &p->tpb);
    if (de)
        return txfail(msg, cap, CN_TX_MALFORMED, "Tx body: %s", cn_decode_strerror(de));
    p->tx = (const Clearnode__V1__Tx *)p->tpb.msg;
    if (strcmp(p->tx->chain_id, app->g->chain_id) != 0)
        return txfail(msg, cap, CN_TX_WRONG_CHAIN, "chain_id: this chain is '%s'",
                      app->g->chain_id);
    if (p->tx->kind_case == CLEARNODE__V1__TX__KIND__NOT_SET)
        return txfail(msg, cap, CN_TX_NO_KIND, "the transaction has no kind");
    if (!cn_tx_kind_supported((int)p->tx->kind_case))
        return txfail(msg, cap, CN_TX_UNSUPPORTED, "%s: not supported by this chain version",
                      cn_tx_kind_name((int)p->tx->kind_case));
    if (p->tx->nonce == 0)
        return txfail(msg, cap, CN_TX_BAD_NONCE, "nonce: starts at 1");
    return cn_ledger_validate(p->tx, p->s->signer.data, msg, cap);
}

cn_txerr cn_app_parse_known(cn_app *app, const uint8_t *bytes, size_t len, const uint8_t id[32],
                            cn_parsed_tx *p, char *msg, size_t cap) {
    if (len <= CN_CAP_TX && cn_sigcache_has(&app->sigs, id)) {
        memset(p, 0, sizeof *p);
        if (cn_decode(CN_MSG_SIGNED, bytes, len, &p->spb) == CN_DECODE_OK) {
            p->s = (const Clearnode__V1__Signed *)p->spb.msg;
            if (cn_decode(CN_MSG_TX, p->s->body.data, p->s->body.len, &p->tpb) ==
                CN_DECODE_OK) {
                p->tx = (const Clearnode__V1__Tx *)p->tpb.msg;
                return CN_TX_OK;
            }
        }
        cn_parsed_free(p);
    }
    return cn_app_parse_tx(app, bytes, len, p, msg, cap);
}

cn_txerr cn_app_authorize(cn_overlay *ov, const cn_parsed_tx *p, cn_account *acct, char *msg,
                          size_t cap) {
    int r = cn_state_get_account(ov, p->s->signer.data, acct);
    if (r < 0)
        return txfail(msg, cap, CN_TX_INTERNAL, "state read failed");
    if (r == 0)
        return txfail(msg, cap, CN_TX_UNKNOWN_SIGNER, "signer is not a registered account");
    if (!cn_tx_permitted((int)p->tx->kind_case, acct))
        return txfail(msg, cap, CN_TX_NOT_PERMITTED, "signer's roles do not permit %s",
                      cn_tx_kind_name((int)p->tx->kind_case));
    return CN_TX_OK;
}

cn_txerr cn_app_verify_sig(cn_app *app, const cn_parsed_tx *p, const uint8_t id[32],
                           int consume, char *msg, size_t cap) {
    if (cn_sigcache_has(&app->sigs, id)) {
        if (consume)
            cn_sigcache_remove(&app->sigs, id);
        return CN_TX_OK;
    }
    if (!cn_verify_body(p->s->sig.data, p->s->signer.data, CN_TAG_SIG_TX, app->g->chain_id,
                        p->s->body.data, p->s->body.len))
        return txfail(msg, cap, CN_TX_BAD_SIGNATURE, "signature does not verify");
    if (!consume)
        cn_sigcache_add(&app->sigs, id);
    return CN_TX_OK;
}

cn_txerr cn_app_check_tx(cn_app *app, const uint8_t *bytes, size_t len, cn_tx_info *info,
                         char *msg, size_t cap) {
    memset(info, 0, sizeof *info);
    info->size = len;
    snprintf(msg, cap, "ok");
    if (len <= CN_CAP_TX)
        cn_tx_id(bytes, len, info->hash);
    cn_parsed_tx p;
    cn_txerr e = cn_app_parse_known(app, bytes, len, info->hash, &p, msg, cap);
    if (p.s && p.s->signer.len == 32)
        memcpy(info->signer, p.s->signer.data, 32);
    if (p.tx) {
        info->nonce = p.tx->nonce;
        info->kind = (int)p.tx->kind_case;
    }
    if (e) {
        cn_parsed_free(&p);
        return e;
    }
    cn_store_rtxn *r;
    cn_store_err se = cn_store_read_begin(app->store, &r);
    if (se) {
        cn_parsed_free(&p);
        return txfail(msg, cap, CN_TX_INTERNAL, "read snapshot: %s", cn_store_strerror(se));
    }
    const void *v;
    size_t n;
    se = cn_store_read_get(r, CN_DB_TXS, info->hash, 32, &v, &n);
    if (se == CN_STORE_OK)
        e = txfail(msg, cap, CN_TX_DUPLICATE, "transaction is already committed");
    else if (se != CN_STORE_NOTFOUND)
        e = txfail(msg, cap, CN_TX_INTERNAL, "tx index read failed");
    cn_account acct;
    if (!e) {
        cn_overlay ov;
        cn_overlay_init(&ov, r);
        e = cn_app_authorize(&ov, &p, &acct, msg, cap);
        cn_overlay_free(&ov);
    }
    cn_store_read_end(r);
    if (!e) {
        info->next_nonce = acct.nonce + 1;
        if (p.tx->nonce < info->next_nonce)
            e = txfail(msg, cap, CN_TX_BAD_NONCE, "nonce %llu is used; the next is %llu",
                       (unsigned long long)p.tx->nonce, (unsigned long long)info->next_nonce);
    }
    if (!e)
        e = cn_app_verify_sig(app, &p, info->hash, 0, msg, cap);
    cn_parsed_free(&p);
    return e;
}

/* ---- proposals ---------------------------------------------------------------------------- */

size_t cn_app_prepare_proposal(cn_app *app, const size_t *lens, size_t n) {
    const cn_gen_params *p = &app->g->params;
    uint64_t bytes = 0;
    size_t i;
    for (i = 0; i < n && i < p->block_max_txs; i++) {
        if (bytes + lens[i] > p->block_max_bytes)
            break;
        bytes += lens[i];
    }
    return i;
}

static int bin_eq(const ProtobufCBinaryData *b, const uint8_t *p, size_t n) {
    return b->len == n && (n == 0 || memcmp(b->data, p, n) == 0);
}

__attribute__((format(printf, 3, 4))) static int reject(char *why, size_t cap, const char *fmt,
                                                        ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    return 0;
}

static int check_header(cn_app *app, const Clearnode__V1__Block *b,
                        const Clearnode__V1__Header *h, char *why, size_t cap) {
    const cn_tip *t = &app->tip;
    if (strcmp(h->chain_id, app->g->chain_id) != 0)
        return reject(why, cap, "header.chain_id: not this chain");
    if (h->height != t->height + 1)
        return reject(why, cap, "header.height: %llu, expected %llu",
                      (unsigned long long)h->height, (unsigned long long)(t->height + 1));
    if (!bin_eq(&h->app_hash, t->app_hash, 32))
        return reject(why, cap, "header.app_hash: differs from the app hash after height %llu",
                      (unsigned long long)t->height);
    uint8_t vh[32];
    cn_validators_hash(&app->vnext, vh);
    if (!bin_eq(&h->validators_hash, vh, 32))
        return reject(why, cap, "header.validators_hash: not the validator set of this height");
    if (!cn_reserves_header_ok(app->store, h->reserves_root.data, h->reserves_root.len, why,
                               cap))
        return 0;
    if (h->proposer.len != 32 || cn_validators_index(&app->vnext, h->proposer.data) < 0)
        return reject(why, cap, "header.proposer: not a validator of this height");
    if (h->height == 1) {
        if (h->last_block_id.len || h->last_commit_hash.len || b->last_commit)
            return reject(why, cap, "block 1 must not carry a last block id or commit");
        if (h->time != t->time_ms + 1)
            return reject(why, cap, "header.time: block 1's time is the genesis time + 1 ms");
        return 1;
    }
    if (!bin_eq(&h->last_block_id, t->block_id, 32))
        return reject(why, cap, "header.last_block_id: not the id of block %llu",
                      (unsigned long long)t->height);
    if (!b->last_commit)
        return reject(why, cap, "last_commit: missing");
    uint8_t *enc;
    size_t elen;
    if (!cn_encode(&b->last_commit->base, CN_CAP_COMMIT, &enc, &elen))
        return reject(why, cap, "last_commit: too large");
    uint8_t ch[32];
    cn_hash_tagged(ch, CN_TAG_COMMIT, enc, elen);
    free(enc);
    if (!bin_eq(&h->last_commit_hash, ch, 32))
        return reject(why, cap, "header.last_commit_hash: does not match last_commit");
    char cwhy[160];
    if (!cn_commit_verify(app->g->chain_id, &app->vlast, b->last_commit, t->height,
                          t->block_id, cwhy, sizeof cwhy))
        return reject(why, cap, "last_commit: %s", cwhy);
    uint64_t bft;
    if (!cn_commit_bft_time(&app->vlast, b->last_commit, t->time_ms, &bft) || h->time != bft)
        return reject(why, cap, "header.time: %llu, the BFT time of last_commit is %llu",
                      (unsigned long long)h->time, (unsigned long long)bft);
    return 1;
}

static int check_txs(cn_app *app, const Clearnode__V1__Block *b, const Clearnode__V1__Header *h,
                     char *why, size_t cap) {
    const cn_gen_params *p = &app->g->params;
    if (b->n_txs > p->block_max_txs)
        return reject(why, cap, "block has %zu txs, the cap is %u", b->n_txs, p->block_max_txs);
    uint8_t(*ids)[32] = malloc((b->n_txs ? b->n_txs : 1) * 32);
    cn_store_rtxn *r = NULL;
    if (!ids || cn_store_read_begin(app->store, &r) != CN_STORE_OK) {
        free(ids);
        return reject(why, cap, "out of memory or store unavailable");
    }
    cn_bmap seen;
    cn_bmap_init(&seen);
    uint64_t bytes = 0;
    int ok = 1;
    for (size_t i = 0; ok && i < b->n_txs; i++) {
        const ProtobufCBinaryData *tx = &b->txs[i];
        bytes += tx->len;
        if (bytes > p->block_max_bytes) {
            ok = reject(why, cap, "block txs exceed %llu bytes",
                        (unsigned long long)p->block_max_bytes);
            break;
        }
        cn_tx_id(tx->data, tx->len, ids[i]);
        if (cn_bmap_has(&seen, ids[i], 32) || !cn_bmap_put(&seen, ids[i], 32, NULL, NULL)) {
            ok = reject(why, cap, "tx %zu: repeated in the block", i);
            break;
        }
        const void *v;
        size_t n;
        if (cn_store_read_get(r, CN_DB_TXS, ids[i], 32, &v, &n) != CN_STORE_NOTFOUND) {
            ok = reject(why, cap, "tx %zu: already committed", i);
            break;
        }
        cn_parsed_tx pt;
        char m[160];
        cn_txerr e = cn_app_parse_known(app, tx->data, tx->len, ids[i], &pt, m, sizeof m);
        cn_parsed_free(&pt);
        /* Only txs that pass stateless admission may be proposed. */
        if (e)
            ok = reject(why, cap, "tx %zu: %s: %s", i, cn_txerr_name(e), m);
    }
    cn_store_read_end(r);
    cn_bmap_free(&seen);
    uint8_t root[32];
    if (ok && (!cn_tx_root((const uint8_t(*)[32])ids, b->n_txs, root) ||
               !bin_eq(&h->tx_root, root, 32)))
        ok = reject(why, cap, "header.tx_root: does not match the txs");
    free(ids);
    return ok;
}

int cn_app_process_proposal(cn_app *app, const uint8_t *block, size_t len, char *why,
                            size_t cap) {
    cn_pb bpb, hpb;
    cn_decode_err de = cn_decode(CN_MSG_BLOCK, block, len, &bpb);
    if (de)
        return reject(why, cap, "block: %s", cn_decode_strerror(de));
    const Clearnode__V1__Block *b = (const Clearnode__V1__Block *)bpb.msg;
    de = cn_decode(CN_MSG_HEADER, b->header.data, b->header.len, &hpb);
    if (de) {
        cn_pb_free(&bpb);
        return reject(why, cap, "header: %s", cn_decode_strerror(de));
    }
    const Clearnode__V1__Header *h = (const Clearnode__V1__Header *)hpb.msg;
    int ok = check_header(app, b, h, why, cap) && check_txs(app, b, h, why, cap);
    if (ok) {
        cn_store_rtxn *r;
        if (cn_store_read_begin(app->store, &r) != CN_STORE_OK) {
            ok = reject(why, cap, "store unavailable");
        } else {
            ok = cn_evidence_check_block(r, app->g->chain_id, b, h, why, cap);
            cn_store_read_end(r);
        }
    }
    cn_pb_free(&hpb);
    cn_pb_free(&bpb);
    return ok;
}
