/* Reserves epochs: at the end of each epoch's last block, collect every account's claims
 * (ledger, locked and margin cash), build the Merkle sum tree and store the epoch record and
 * leaf set (reserves.h). */
#include "node/app/reserves.h"

#include <stdlib.h>
#include <string.h>

#include "node/app/custody.h"
#include "node/app/margin_store.h"
#include "node/app/state.h"

static uint8_t g_reserves_key[CN_RESERVES_KEY_LEN];

void cn_reserves_set_key(const uint8_t key[CN_RESERVES_KEY_LEN]) {
    memcpy(g_reserves_key, key, CN_RESERVES_KEY_LEN);
}

void cn_reserves_account_secret(uint8_t out[32], const uint8_t pubkey[32]) {
    cn_hasher h;
    cn_hasher_start_named(&h, "clearnode/por/salt-secret");
    cn_hasher_update(&h, g_reserves_key, sizeof g_reserves_key);
    cn_hasher_update(&h, pubkey, 32);
    cn_hasher_finish(&h, out);
}

static void put64(uint8_t *p, uint64_t v) {
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}
static uint64_t get64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}
static void put32(uint8_t *p, uint32_t v) {
    for (int i = 3; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}
static uint32_t get32(const uint8_t *p) {
    return (uint32_t)get64((const uint8_t[8]){0, 0, 0, 0, p[0], p[1], p[2], p[3]});
}

static void key_epoch(cn_key *k, uint8_t sub, uint64_t epoch) {
    cn_key_start(k, CN_SK_RESERVES);
    cn_key_u8(k, sub);
    cn_key_be64(k, epoch);
}

/* ---- account enumeration ----------------------------------------------------------------- */

typedef struct {
    uint8_t (*keys)[32];
    size_t n, cap;
} keyset;

static int keyset_add(keyset *s, const uint8_t *k) {
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 256;
        void *p = realloc(s->keys, nc * 32);
        if (!p)
            return 0;
        s->keys = p;
        s->cap = nc;
    }
    memcpy(s->keys[s->n++], k, 32);
    return 1;
}

static int cmp32(const void *a, const void *b) {
    return memcmp(a, b, 32);
}

/* Every pubkey with an 'a' key in the committed snapshot or written by this block, sorted and
 * unique. Whether it still exists is checked by the caller through the overlay. */
static int collect_accounts(cn_overlay *ov, keyset *s) {
    const uint8_t prefix = CN_SK_ACCOUNT;
    if (ov->base) {
        cn_store_iter *it = NULL;
        if (cn_store_iter_read(&it, ov->base, CN_DB_STATE, &prefix, 1, NULL, 0, 0) != CN_STORE_OK)
            return 0;
        const void *k, *v;
        size_t kl, vl;
        cn_store_err e;
        while ((e = cn_store_iter_next(it, &k, &kl, &v, &vl)) == CN_STORE_OK)
            if (kl == 33 && !keyset_add(s, (const uint8_t *)k + 1)) {
                cn_store_iter_close(it);
                return 0;
            }
        cn_store_iter_close(it);
        if (e != CN_STORE_NOTFOUND)
            return 0;
    }
    size_t nw = 0;
    cn_ov_write *w = cn_overlay_writes(ov, &nw);
    if (!w && nw == SIZE_MAX)
        return 0;
    for (size_t i = 0; i < nw; i++)
        if (w[i].op == CN_OV_PUT && w[i].klen == 33 && w[i].key[0] == CN_SK_ACCOUNT &&
            !keyset_add(s, w[i].key + 1)) {
            free(w);
            return 0;
        }
    free(w);
    if (s->n)
        qsort(s->keys, s->n, 32, cmp32);
    size_t u = 0;
    for (size_t i = 0; i < s->n; i++)
        if (u == 0 || memcmp(s->keys[u - 1], s->keys[i], 32) != 0)
            memmove(s->keys[u++], s->keys[i], 32);
    s->n = u;
    return 1;
}

/* ---- leaf set ---------------------------------------------------------------------------- */

/* The asset order of a tree. */
typedef struct {
    uint32_t n;
    const char *names[CN_POR_MAX_ASSETS];
} cn_genesis_asset_list;

/* Builds the tree from (pubkey, claims) rows: account hashes and salts derived here. */
static cn_por_err build_tree(const char *chain_id, const cn_genesis_asset_list *al,
                             uint64_t epoch, size_t n, const uint8_t (*keys)[32],
                             const uint64_t *claims, cn_sumtree **out) {
    *out = NULL;
    if (n == 0)
        return CN_POR_E_LEAF_COUNT;
    uint8_t *ah = malloc(n * 32), *salts = malloc(n * 32);
    if (!ah || !salts) {
        free(ah);
        free(salts);
        return CN_POR_E_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t secret[32];
        cn_por_account_hash(ah + i * 32, epoch, keys[i]);
        cn_reserves_account_secret(secret, keys[i]);
        cn_por_salt(salts + i * 32, secret, epoch, keys[i]);
    }
    cn_por_params p = {chain_id, epoch, al->n, al->names};
    cn_sumtree_input in = {n, ah, salts, claims};
    cn_por_err e = cn_sumtree_build(out, &p, &in, 0, NULL);
    free(ah);
    free(salts);
    return e;
}

/* Rows of one leaf-set chunk: at most CN_RESERVES_CHUNK_BYTES per state value (the store
 * caps a value at 16 MiB). */
static size_t chunk_rows(uint32_t k) {
    return CN_RESERVES_CHUNK_BYTES / (32 + 8 * (size_t)k);
}

static void key_chunk(cn_key *k, uint64_t epoch, uint32_t chunk) {
    key_epoch(k, 'L', epoch);
    cn_key_be32(k, chunk);
}

/* Stores the leaf set as chunks of rows (pubkey, K x be64 claim), in account order. */
static int store_leaves(cn_overlay *ov, uint64_t epoch, size_t n, uint32_t k,
                        const uint8_t (*keys)[32], const uint64_t *claims) {
    size_t row = 32 + 8 * (size_t)k, per = chunk_rows(k);
    uint8_t *b = malloc(per * row);
    if (!b)
        return 0;
    int ok = 1;
    for (size_t first = 0, c = 0; ok && first < n; first += per, c++) {
        size_t cnt = n - first < per ? n - first : per;
        for (size_t i = 0; i < cnt; i++) {
            uint8_t *p = b + i * row;
            memcpy(p, keys[first + i], 32);
            for (uint32_t a = 0; a < k; a++)
                put64(p + 32 + 8 * a, claims[(first + i) * k + a]);
        }
        cn_key key;
        key_chunk(&key, epoch, (uint32_t)c);
        ok = cn_overlay_put(ov, key.b, key.len, b, cnt * row);
    }
    free(b);
    return ok;
}

static int encode_epoch(cn_overlay *ov, const cn_reserves_epoch *e) {
    uint8_t b[1 + 8 + 32 + 4 + 8 + 4 + CN_POR_MAX_ASSETS * (1 + CN_POR_SYMBOL_MAX + 16)];
    size_t o = 0;
    b[o++] = 1;
    put64(b + o, e->height);
    o += 8;
    memcpy(b + o, e->root, 32);
    o += 32;
    put32(b + o, e->depth);
    o += 4;
    put64(b + o, e->leaf_count);
    o += 8;
    put32(b + o, e->n_assets);
    o += 4;
    for (uint32_t a = 0; a < e->n_assets; a++) {
        size_t l = strlen(e->assets[a]);
        b[o++] = (uint8_t)l;
        memcpy(b + o, e->assets[a], l);
        o += l;
        cn_por_put_u128(b + o, e->totals[a]);
        o += 16;
    }
    cn_key k;
    key_epoch(&k, 'E', e->epoch);
    return cn_overlay_put(ov, k.b, k.len, b, o);
}

int cn_reserves_get_epoch(cn_overlay *ov, uint64_t epoch, cn_reserves_epoch *out) {
    cn_key k;
    key_epoch(&k, 'E', epoch);
    const uint8_t *v;
    size_t n;
    int r = cn_overlay_get(ov, k.b, k.len, &v, &n);
    if (r <= 0)
        return r;
    memset(out, 0, sizeof *out);
    out->epoch = epoch;
    if (n < 57 || v[0] != 1)
        return -1;
    out->height = get64(v + 1);
    memcpy(out->root, v + 9, 32);
    out->depth = get32(v + 41);
    out->leaf_count = get64(v + 45);
    out->n_assets = get32(v + 53);
    if (out->n_assets == 0 || out->n_assets > CN_POR_MAX_ASSETS)
        return -1;
    size_t o = 57;
    for (uint32_t a = 0; a < out->n_assets; a++) {
        if (o >= n || v[o] == 0 || v[o] > CN_POR_SYMBOL_MAX || o + 1 + v[o] + 16 > n)
            return -1;
        size_t l = v[o++];
        memcpy(out->assets[a], v + o, l);
        out->assets[a][l] = 0;
        o += l;
        out->totals[a] = cn_por_get_u128(v + o);
        o += 16;
    }
    return o == n ? 1 : -1;
}

int cn_reserves_latest(cn_overlay *ov, uint64_t *epoch) {
    cn_key k;
    cn_key_start(&k, CN_SK_RESERVES);
    cn_key_u8(&k, 'P');
    const uint8_t *v;
    size_t n;
    *epoch = 0;
    int r = cn_overlay_get(ov, k.b, k.len, &v, &n);
    if (r < 0 || (r == 1 && n != 8))
        return -1;
    if (r == 1)
        *epoch = get64(v);
    return 1;
}

int cn_reserves_get_solvency(cn_overlay *ov, uint64_t epoch, cn_reserves_solvency *out) {
    cn_key k;
    key_epoch(&k, 'S', epoch);
    const uint8_t *v;
    size_t n;
    memset(out, 0, sizeof *out);
    int r = cn_overlay_get(ov, k.b, k.len, &v, &n);
    if (r <= 0)
        return r;
    if (n < 4)
        return -1;
    out->n_assets = get32(v);
    if (out->n_assets > CN_POR_MAX_ASSETS || n != 4 + (size_t)out->n_assets * 17)
        return -1;
    for (uint32_t a = 0; a < out->n_assets; a++) {
        out->reserves[a] = cn_por_get_u128(v + 4 + 17 * a);
        out->solvent[a] = v[4 + 17 * a + 16];
    }
    return 1;
}

int cn_reserves_rebuild(cn_overlay *ov, const char *chain_id, uint64_t epoch,
                        cn_sumtree **out) {
    *out = NULL;
    cn_reserves_epoch e;
    int r = cn_reserves_get_epoch(ov, epoch, &e);
    if (r <= 0)
        return r;
    uint64_t cnt = e.leaf_count;
    size_t row = 32 + 8 * (size_t)e.n_assets, per = chunk_rows(e.n_assets);
    if (cnt == 0 || cnt > CN_POR_MAX_LEAVES)
        return -1;
    uint8_t(*keys)[32] = malloc((size_t)cnt * 32);
    uint64_t *claims = malloc((size_t)cnt * e.n_assets * 8);
    cn_genesis_asset_list al = {e.n_assets, {0}};
    for (uint32_t a = 0; a < e.n_assets; a++)
        al.names[a] = e.assets[a];
    int ok = keys && claims;
    for (size_t first = 0, c = 0; ok && first < cnt; first += per, c++) {
        size_t want = cnt - first < per ? (size_t)cnt - first : per, n;
        const uint8_t *v;
        cn_key k;
        key_chunk(&k, epoch, (uint32_t)c);
        ok = cn_overlay_get(ov, k.b, k.len, &v, &n) == 1 && n == want * row;
        for (size_t i = 0; ok && i < want; i++) {
            const uint8_t *p = v + i * row;
            memcpy(keys[first + i], p, 32);
            for (uint32_t a = 0; a < e.n_assets; a++)
                claims[(first + i) * e.n_assets + a] = get64(p + 32 + 8 * a);
        }
    }
    if (ok)
        ok = build_tree(chain_id, &al, epoch, (size_t)cnt, (const uint8_t(*)[32])keys, claims,
                        out) == CN_POR_OK;
    free(keys);
    free(claims);
    if (ok) {
        uint8_t root[32];
        cn_sumtree_root(*out, root);
        if (memcmp(root, e.root, 32) != 0) {
            cn_sumtree_free(*out);
            *out = NULL;
            ok = 0;
        }
    }
    return ok ? 1 : -1;
}

/* ---- the epoch step ---------------------------------------------------------------------- */

/* Claims of one account in genesis asset order; *any is set when one is nonzero. `mcid` is
 * the margin contract's id (NULL when it is not deployed): its non-negative margin cash is a
 * claim on the cash asset, genesis asset 0 (docs/reserves.md, "On chain"). *capped is set when
 * the claim on that asset exceeded the leaf bound and was recorded as the bound. */
static int account_claims(cn_overlay *ov, const cn_genesis *g, const uint8_t *mcid,
                          const uint8_t pub[32], uint64_t *row, int *any, int *capped) {
    for (size_t a = 0; a < g->n_assets; a++) {
        int64_t bal, locked;
        if (cn_state_get_balance(ov, pub, g->assets[a].symbol, &bal) < 0 ||
            cn_custody_get_locked(ov, pub, g->assets[a].symbol, &locked) < 0)
            return 0;
        if (bal < 0 || locked < 0)
            return 0; /* never stored: a corrupt state */
        uint64_t c = (uint64_t)bal + (uint64_t)locked;
        if (c > CN_POR_LEAF_MAX)
            return 0; /* supply is int64, so Σ balance + locked cannot exceed it */
        if (a == 0 && mcid) {
            /* Margin cash is not bounded by the supply (the house pays gains out of its own
             * book), so the sum may pass the leaf bound: record the bound rather than stop
             * the chain, and report it (reserves.claim_capped). */
            int64_t m;
            if (cn_margin_cash_claim(ov, mcid, pub, &m) < 0)
                return 0;
            if (__builtin_add_overflow(c, (uint64_t)m, &c) || c > CN_POR_LEAF_MAX) {
                c = CN_POR_LEAF_MAX;
                *capped = 1;
            }
        }
        row[a] = c;
        *any |= c != 0;
    }
    return 1;
}

int cn_reserves_end_block(cn_overlay *ov, const cn_genesis *g, uint64_t height, cn_evlist *ev) {
    uint64_t eb = g->params.reserves_epoch_blocks;
    if (eb == 0 || height == 0 || height % eb != 0 || g->n_assets == 0 ||
        g->n_assets > CN_POR_MAX_ASSETS)
        return 1;
    uint64_t epoch = height / eb;
    uint32_t K = (uint32_t)g->n_assets;
    keyset s = {0};
    uint8_t mcid[32];
    int margin = cn_margin_deployed(ov, mcid);
    int ok = margin >= 0 && collect_accounts(ov, &s);
    uint64_t *claims = ok && s.n ? malloc(s.n * K * 8) : NULL;
    size_t n = 0, capped = 0, first_capped = 0;
    if (ok && s.n && !claims)
        ok = 0;
    for (size_t i = 0; ok && i < s.n; i++) {
        cn_account acct;
        int r = cn_state_get_account(ov, s.keys[i], &acct);
        if (r < 0) {
            ok = 0;
            break;
        }
        if (r == 0)
            continue;
        int any = 0, cap = 0;
        ok = account_claims(ov, g, margin > 0 ? mcid : NULL, s.keys[i], claims + n * K, &any,
                            &cap);
        if (ok && cap && capped++ == 0)
            first_capped = n;
        if (ok && any) {
            memmove(s.keys[n], s.keys[i], 32);
            n++;
        }
    }
    cn_reserves_epoch e;
    memset(&e, 0, sizeof e);
    e.epoch = epoch;
    e.height = height;
    e.n_assets = K;
    cn_genesis_asset_list al = {K, {0}};
    for (uint32_t a = 0; a < K; a++) {
        memcpy(e.assets[a], g->assets[a].symbol, sizeof e.assets[a] - 1);
        al.names[a] = e.assets[a];
    }
    /* An epoch with no claims at all publishes nothing: an empty tree has no root. */
    if (ok && n > 0) {
        cn_sumtree *t = NULL;
        cn_por_err pe = build_tree(g->chain_id, &al, epoch, n, (const uint8_t(*)[32])s.keys,
                                   claims, &t);
        if (pe != CN_POR_OK) {
            ok = 0;
        } else {
            cn_sumtree_root(t, e.root);
            e.depth = cn_sumtree_depth(t);
            e.leaf_count = cn_sumtree_leaf_count(t);
            cn_sumtree_totals(t, e.totals);
            cn_sumtree_free(t);
            uint8_t pv[8];
            put64(pv, epoch);
            cn_key pk;
            cn_key_start(&pk, CN_SK_RESERVES);
            cn_key_u8(&pk, 'P');
            ok = store_leaves(ov, epoch, n, K, (const uint8_t(*)[32])s.keys, claims) &&
                 encode_epoch(ov, &e) && cn_overlay_put(ov, pk.b, pk.len, pv, 8);
            cn_event *x = ok ? cn_evlist_add(ev, "reserves.published") : NULL;
            if (x) {
                cn_ev_i64(x, "epoch", (int64_t)epoch);
                cn_ev_hex(x, "root", e.root, 32);
                cn_ev_i64(x, "leaf_count", (int64_t)e.leaf_count);
                cn_ev_i64(x, "depth", (int64_t)e.depth);
            }
            /* One alert per epoch, however many claims were capped (receipts are bounded). */
            x = ok && capped ? cn_evlist_add(ev, "reserves.claim_capped") : NULL;
            if (x) {
                cn_ev_i64(x, "epoch", (int64_t)epoch);
                cn_ev_i64(x, "accounts", (int64_t)capped);
                cn_ev_hex(x, "first", s.keys[first_capped], 32);
                cn_ev_str(x, "asset", g->assets[0].symbol);
            }
        }
    }
    free(claims);
    free(s.keys);
    return ok;
}
