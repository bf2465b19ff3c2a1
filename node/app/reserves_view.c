/* Read side of the reserves module for the HTTP API (docs/api.md, docs/reserves.md "On
 * chain"): the epoch summary as JSON, a client's inclusion proof (protobuf or JSON), the
 * auditor leaf export, and the check of signed proof requests. All read one committed
 * snapshot; nothing here writes. */
#include "node/app/reserves_view.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "crypto/schnorr.h"
#include "crypto/sumtree_pb.h"
#include "node/app/state.h"
#include "proto/codec.h"

static json_t *hexj(const uint8_t *p, size_t n) {
    char s[129];
    if (n > 64)
        return NULL;
    cn_hex_encode(s, p, n);
    return json_string(s);
}

static json_t *u128j(cn_u128 v) {
    char d[CN_POR_DEC_MAX + 1];
    cn_por_u128_to_dec(d, v);
    return json_string(d);
}

/* Attestations of an epoch from the committed snapshot, as a JSON array. */
static json_t *attestations(cn_store_rtxn *r, uint64_t epoch) {
    json_t *arr = json_array();
    cn_key k;
    cn_key_start(&k, CN_SK_RESERVES);
    cn_key_u8(&k, 'A');
    cn_key_be64(&k, epoch);
    cn_store_iter *it;
    if (!arr || cn_store_iter_read(&it, r, CN_DB_STATE, k.b, k.len, NULL, 0, 0) != CN_STORE_OK)
        return arr;
    const void *kv, *vv;
    size_t kl, vl;
    while (cn_store_iter_next(it, &kv, &kl, &vv, &vl) == CN_STORE_OK) {
        const uint8_t *key = kv, *v = vv;
        if (kl != k.len + 32 || vl < 4)
            continue;
        json_t *h = json_object();
        size_t o = 4, cnt = v[3];
        for (size_t i = 0; i < cnt && o < vl; i++) {
            size_t l = v[o++];
            if (l == 0 || l > CN_POR_SYMBOL_MAX || o + l + 8 > vl)
                break;
            char sym[CN_POR_SYMBOL_MAX + 1];
            memcpy(sym, v + o, l);
            sym[l] = 0;
            o += l;
            uint64_t a = 0;
            for (int b = 0; b < 8; b++)
                a = (a << 8) | v[o + (size_t)b];
            o += 8;
            json_object_set_new(h, sym, u128j(a));
        }
        json_array_append_new(arr, json_pack("{s:o,s:o}", "custodian",
                                             hexj(key + k.len, 32), "holdings", h));
    }
    cn_store_iter_close(it);
    return arr;
}

json_t *cn_reserves_view_epoch(cn_store *store, uint64_t epoch) {
    cn_store_rtxn *r;
    if (cn_store_read_begin(store, &r) != CN_STORE_OK)
        return NULL;
    cn_overlay ov;
    cn_overlay_init(&ov, r);
    cn_reserves_epoch e;
    cn_reserves_solvency s;
    json_t *out = NULL;
    if (cn_reserves_get_epoch(&ov, epoch, &e) == 1 &&
        cn_reserves_get_solvency(&ov, epoch, &s) >= 0) {
        json_t *totals = json_object(), *solv = json_object(), *res = json_object(),
               *assets = json_array();
        int all = s.n_assets == e.n_assets;
        for (uint32_t a = 0; a < e.n_assets; a++) {
            json_array_append_new(assets, json_string(e.assets[a]));
            json_object_set_new(totals, e.assets[a], u128j(e.totals[a]));
            int ok = s.n_assets == e.n_assets && s.solvent[a];
            json_object_set_new(res, e.assets[a],
                                u128j(s.n_assets == e.n_assets ? s.reserves[a] : 0));
            json_object_set_new(solv, e.assets[a], json_boolean(ok));
            all &= ok;
        }
        int64_t tip = 0;
        cn_key hk;
        cn_sk_named(&hk, CN_SK_META, "height");
        (void)cn_state_get_i64(&ov, &hk, &tip);
        out = json_pack("{s:I,s:I,s:o,s:I,s:I,s:o,s:o,s:o,s:o,s:o,s:b}", "epoch",
                        (json_int_t)epoch, "end_height", (json_int_t)e.height, "root",
                        hexj(e.root, 32), "depth", (json_int_t)e.depth, "leaf_count",
                        (json_int_t)e.leaf_count, "assets", assets, "totals", totals,
                        "reserves", res, "solvent", solv, "attestations",
                        attestations(r, epoch), "all_solvent", all);
        if (out)
            json_object_set_new(out, "header_height",
                                (uint64_t)tip > e.height ? json_integer((json_int_t)e.height + 1)
                                                         : json_null());
    }
    cn_overlay_free(&ov);
    cn_store_read_end(r);
    return out;
}

/* One rebuilt tree is kept (epoch, root) so repeated proof requests for the latest epoch cost
 * a lookup, not a rebuild (about 3 s for 1,000,000 accounts). The API thread reads it; the
 * node's warmer (cn_reserves_view_warm) fills it for a new epoch before the first request. */
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static cn_sumtree *cache_tree;
static uint64_t cache_epoch;
static uint8_t cache_root[32];

/* Returns the epoch's tree (borrowed; valid until the next call), or NULL with *rc 0 (not
 * published) or -1 (error). Call with cache_mu held. */
static cn_sumtree *cached_tree(cn_store *store, const char *chain_id, uint64_t epoch,
                               cn_reserves_epoch *e, int *rc) {
    cn_store_rtxn *r;
    if (cn_store_read_begin(store, &r) != CN_STORE_OK) {
        *rc = -1;
        return NULL;
    }
    cn_overlay ov;
    cn_overlay_init(&ov, r);
    *rc = cn_reserves_get_epoch(&ov, epoch, e);
    if (*rc == 1 && !(cache_tree && cache_epoch == epoch && memcmp(cache_root, e->root, 32) == 0)) {
        cn_sumtree *t = NULL;
        *rc = cn_reserves_rebuild(&ov, chain_id, epoch, &t);
        if (*rc == 1) {
            cn_sumtree_free(cache_tree);
            cache_tree = t;
            cache_epoch = epoch;
            memcpy(cache_root, e->root, 32);
        }
    }
    cn_overlay_free(&ov);
    cn_store_read_end(r);
    return *rc == 1 ? cache_tree : NULL;
}

int cn_reserves_view_warm(cn_store *store, const char *chain_id, uint64_t skip,
                          uint64_t *epoch) {
    *epoch = 0;
    cn_store_rtxn *r;
    if (cn_store_read_begin(store, &r) != CN_STORE_OK)
        return -1;
    cn_overlay ov;
    cn_overlay_init(&ov, r);
    cn_reserves_epoch e;
    int rc = cn_reserves_latest(&ov, epoch);
    if (rc == 1 && *epoch == 0)
        rc = 0;
    if (rc == 1 && *epoch == skip)
        rc = 2;
    if (rc == 1)
        rc = cn_reserves_get_epoch(&ov, *epoch, &e);
    if (rc == 1) {
        pthread_mutex_lock(&cache_mu);
        int hit = cache_tree && cache_epoch == *epoch && memcmp(cache_root, e.root, 32) == 0;
        pthread_mutex_unlock(&cache_mu);
        cn_sumtree *t = NULL;
        /* built outside the lock: the API thread keeps serving the cached epoch meanwhile */
        if (!hit && (rc = cn_reserves_rebuild(&ov, chain_id, *epoch, &t)) == 1) {
            pthread_mutex_lock(&cache_mu);
            if (!cache_tree || cache_epoch <= *epoch) { /* never replace a newer one */
                cn_sumtree_free(cache_tree);
                cache_tree = t;
                cache_epoch = *epoch;
                memcpy(cache_root, e.root, 32);
                t = NULL;
            }
            pthread_mutex_unlock(&cache_mu);
            cn_sumtree_free(t);
        }
    }
    cn_overlay_free(&ov);
    cn_store_read_end(r);
    return rc;
}

/* JSON form of a proof (docs/reserves.md) plus the client's secret. */
static json_t *proof_json(const cn_por_proof *p, const uint8_t secret[32]) {
    json_t *assets = json_array(), *bal = json_array(), *path = json_array(),
           *totals = json_array();
    for (uint32_t a = 0; a < p->n_assets; a++) {
        json_array_append_new(assets, json_string(p->assets[a]));
        json_array_append_new(bal, json_integer((json_int_t)p->balances[a]));
        json_array_append_new(totals, u128j(p->totals[a]));
    }
    for (uint32_t l = 0; l < p->n_path; l++) {
        json_t *sums = json_array();
        for (uint32_t a = 0; a < p->n_assets; a++)
            json_array_append_new(sums, u128j(p->path[l].sums[a]));
        json_array_append_new(path, json_pack("{s:o,s:o}", "hash", hexj(p->path[l].hash, 32),
                                              "sums", sums));
    }
    return json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "chain_id",
                     p->chain_id, "epoch", (json_int_t)p->epoch, "height",
                     (json_int_t)p->height, "depth", (json_int_t)p->depth, "leaf_count",
                     (json_int_t)p->leaf_count, "leaf_index", (json_int_t)p->leaf_index,
                     "account", hexj(p->account, 32), "salt", hexj(p->salt, 32), "assets",
                     assets, "balances", bal, "path", path, "root", hexj(p->root, 32),
                     "totals", totals, "secret", hexj(secret, 32));
}

int cn_reserves_view_proof(cn_store *store, const char *chain_id, uint64_t epoch,
                           const uint8_t pub[32], int want_proto, uint8_t **out, size_t *len) {
    *out = NULL;
    *len = 0;
    cn_reserves_epoch e;
    int rc;
    pthread_mutex_lock(&cache_mu);
    const cn_sumtree *t = cached_tree(store, chain_id, epoch, &e, &rc);
    uint8_t ah[32];
    uint64_t idx;
    cn_por_account_hash(ah, epoch, pub);
    cn_por_proof *p = NULL;
    cn_por_proof_pb *pb = NULL;
    if (!t) {
        /* rc says why */
    } else if (!cn_sumtree_find(t, ah, &idx)) {
        rc = 0;
    } else if (!(p = malloc(sizeof *p)) ||
               cn_sumtree_prove(t, idx, pub, e.height + 1, p) != CN_POR_OK) {
        rc = -1;
    } else if (want_proto) {
        pb = malloc(sizeof *pb);
        if (!pb) {
            rc = -1;
        } else {
            cn_por_proof_to_pb(pb, p);
            rc = cn_encode(&pb->msg.base, CN_CAP_BLOCK, out, len) ? 1 : -1;
        }
    } else {
        uint8_t secret[32];
        cn_reserves_account_secret(secret, pub);
        json_t *j = proof_json(p, secret);
        char *s = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
        json_decref(j);
        rc = s ? 1 : -1;
        *out = (uint8_t *)s;
        *len = s ? strlen(s) : 0;
    }
    pthread_mutex_unlock(&cache_mu);
    free(pb);
    free(p);
    return rc;
}

/* Appends formatted text to a growing buffer; returns 0 when memory ran out. */
typedef struct {
    char *b;
    size_t n, cap;
} sbuf;

static int sb_add(sbuf *s, const char *txt) {
    size_t l = strlen(txt);
    if (s->n + l + 1 > s->cap) {
        size_t nc = s->cap ? s->cap : 4096;
        while (nc < s->n + l + 1)
            nc *= 2;
        char *p = realloc(s->b, nc);
        if (!p)
            return 0;
        s->b = p;
        s->cap = nc;
    }
    memcpy(s->b + s->n, txt, l + 1);
    s->n += l;
    return 1;
}

int cn_reserves_view_leaves(cn_store *store, const char *chain_id, uint64_t epoch, char **out,
                            size_t *len) {
    *out = NULL;
    *len = 0;
    cn_reserves_epoch e;
    int rc;
    pthread_mutex_lock(&cache_mu);
    const cn_sumtree *t = cached_tree(store, chain_id, epoch, &e, &rc);
    if (!t) {
        pthread_mutex_unlock(&cache_mu);
        return rc;
    }
    sbuf s = {0};
    char line[256], hex[65], hex2[65], d[CN_POR_DEC_MAX + 1];
    uint32_t K = cn_sumtree_n_assets(t);
    uint64_t n = cn_sumtree_leaf_count(t);
    cn_u128 totals[CN_POR_MAX_ASSETS];
    cn_sumtree_totals(t, totals);
    cn_hex_encode(hex, e.root, 32);
    int ok = 1;
    snprintf(line, sizeof line,
             "clearnode-reserves-leaves 1\nchain_id %s\nepoch %llu\nassets ", chain_id,
             (unsigned long long)epoch);
    ok = ok && sb_add(&s, line);
    for (uint32_t a = 0; ok && a < K; a++)
        ok = sb_add(&s, a ? "," : "") && sb_add(&s, e.assets[a]);
    snprintf(line, sizeof line, "\nleaf_count %llu\ndepth %u\nroot %s\ntotals ",
             (unsigned long long)n, cn_sumtree_depth(t), hex);
    ok = ok && sb_add(&s, line);
    for (uint32_t a = 0; ok && a < K; a++) {
        cn_por_u128_to_dec(d, totals[a]);
        ok = sb_add(&s, a ? "," : "") && sb_add(&s, d);
    }
    ok = ok && sb_add(&s, "\n");
    for (uint64_t i = 0; ok && i < n; i++) {
        cn_hex_encode(hex, cn_sumtree_leaf_account(t, i), 32);
        cn_hex_encode(hex2, cn_sumtree_leaf_salt(t, i), 32);
        snprintf(line, sizeof line, "leaf %s %s ", hex, hex2);
        ok = sb_add(&s, line);
        const uint64_t *b = cn_sumtree_leaf_balances(t, i);
        for (uint32_t a = 0; ok && a < K; a++) {
            snprintf(d, sizeof d, "%s%llu", a ? "," : "", (unsigned long long)b[a]);
            ok = sb_add(&s, d);
        }
        ok = ok && sb_add(&s, "\n");
    }
    ok = ok && sb_add(&s, "end\n");
    pthread_mutex_unlock(&cache_mu);
    if (!ok) {
        free(s.b);
        return -1;
    }
    *out = s.b;
    *len = s.n;
    return 1;
}

void cn_reserves_api_digest(uint8_t out[32], const char *chain_id, const char *request,
                            uint64_t timestamp_s) {
    size_t rl = strlen(request);
    uint8_t body[4 + CN_RESERVES_REQUEST_MAX + 8];
    if (rl > CN_RESERVES_REQUEST_MAX)
        rl = CN_RESERVES_REQUEST_MAX;
    body[0] = (uint8_t)(rl >> 24);
    body[1] = (uint8_t)(rl >> 16);
    body[2] = (uint8_t)(rl >> 8);
    body[3] = (uint8_t)rl;
    memcpy(body + 4, request, rl);
    for (int i = 0; i < 8; i++)
        body[4 + rl + (size_t)i] = (uint8_t)(timestamp_s >> (56 - 8 * i));
    cn_sig_digest(out, CN_TAG_SIG_API, chain_id, body, 4 + rl + 8);
}

int cn_reserves_api_auth(cn_store *store, const char *chain_id, const char *request,
                         const char *signer_hex, const char *sig_hex, const char *ts_str,
                         uint64_t now_s, const uint8_t *account, char *why, size_t cap) {
    uint8_t signer[32], sig[64];
    if (!signer_hex || !sig_hex || !ts_str) {
        snprintf(why, cap, "missing X-Clearnode-Signer, X-Clearnode-Signature or "
                           "X-Clearnode-Timestamp");
        return 0;
    }
    if (strlen(signer_hex) != 64 || !cn_hex_decode_exact(signer, 32, signer_hex) ||
        strlen(sig_hex) != 128 || !cn_hex_decode_exact(sig, 64, sig_hex)) {
        snprintf(why, cap, "X-Clearnode-Signer must be 64 hex digits and X-Clearnode-Signature "
                           "128");
        return 0;
    }
    uint64_t ts = 0;
    size_t tl = strlen(ts_str);
    if (tl == 0 || tl > 12) {
        snprintf(why, cap, "X-Clearnode-Timestamp: unix seconds expected");
        return 0;
    }
    for (size_t i = 0; i < tl; i++) {
        if (ts_str[i] < '0' || ts_str[i] > '9') {
            snprintf(why, cap, "X-Clearnode-Timestamp: unix seconds expected");
            return 0;
        }
        ts = ts * 10 + (uint64_t)(ts_str[i] - '0');
    }
    if (ts + CN_RESERVES_SKEW_S < now_s || ts > now_s + CN_RESERVES_SKEW_S) {
        snprintf(why, cap, "X-Clearnode-Timestamp: more than %u s from the node's time",
                 CN_RESERVES_SKEW_S);
        return 0;
    }
    uint8_t d[32];
    cn_reserves_api_digest(d, chain_id, request, ts);
    if (!cn_verify32(sig, d, signer)) {
        snprintf(why, cap, "X-Clearnode-Signature does not verify for this request");
        return 0;
    }
    if (account && memcmp(account, signer, 32) == 0)
        return 1;
    /* Otherwise the signer must be a member with the auditor role. */
    cn_store_rtxn *r;
    if (cn_store_read_begin(store, &r) != CN_STORE_OK) {
        snprintf(why, cap, "storage error");
        return 0;
    }
    cn_overlay ov;
    cn_overlay_init(&ov, r);
    cn_account a;
    int ok = cn_state_get_account(&ov, signer, &a) == 1 && a.kind == CN_ACCT_MEMBER &&
             (a.roles & CN_ROLE_AUDITOR) != 0;
    cn_overlay_free(&ov);
    cn_store_read_end(r);
    if (!ok)
        snprintf(why, cap, "the signer is neither the account nor an auditor");
    return ok;
}
