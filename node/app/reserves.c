/* Reserves epochs: at the end of each epoch's last block, collect every account's claims
 * (ledger, locked and margin cash), build the Merkle sum tree and store the epoch record and
 * leaf set (reserves.h). */
#include "node/app/reserves.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/bytes.h"
#include "node/app/custody.h"
#include "node/app/margin_store.h"
#include "node/app/overlay_cursor.h"
#include "node/app/state.h"
#include "node/contract/chost.h"

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

/* The claims of every account, gathered by walking the key families that hold them ('a'
 * accounts, 'b' balances, custody 'l' locked balances, the margin contract's 'c' cash
 * records; all continue with the pubkey, so each is in account order) one after another and
 * merging each into the account rows: a cursor step per record instead of a lookup per
 * account and asset, and one sequential read of each family, which matters when the state's
 * pages are not cached. */
typedef struct {
    uint8_t (*keys)[32]; /* accounts in pubkey order; after compaction those with a claim */
    uint64_t *claims;    /* n x K */
    size_t n, cap;
    size_t capped, first_capped; /* claims recorded at the leaf bound, and the first one */
} claim_rows;

static int rows_add(claim_rows *c, uint32_t K, const uint8_t pub[32]) {
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 1024;
        void *k = realloc(c->keys, nc * 32);
        if (k)
            c->keys = k;
        void *v = k ? realloc(c->claims, nc * K * 8) : NULL;
        if (!v)
            return 0;
        c->claims = v;
        c->cap = nc;
    }
    memcpy(c->keys[c->n], pub, 32);
    memset(c->claims + c->n * K, 0, K * 8);
    c->n++;
    return 1;
}

/* Walks one family: fn(ctx, the account's row, key, value) for each record whose
 * pubkey (at byte `at` of its key) is an account's. Returns 1, or 0 when fn or storage
 * failed. */
typedef int (*family_fn)(void *ctx, uint64_t *row, const uint8_t *k, size_t kl,
                         const uint8_t *v, size_t vl);

static int walk_family(cn_overlay *ov, const cn_ov_write *wr, size_t nw, const uint8_t *prefix,
                       size_t plen, size_t at, claim_rows *c, uint32_t K, family_fn fn,
                       void *ctx) {
    cn_ov_cursor cur;
    if (!cn_ov_cursor_open(&cur, ov, wr, nw, prefix, plen))
        return 0;
    const uint8_t *k, *v;
    size_t kl, vl, j = 0;
    int r, ok = 1;
    while (ok && (r = cn_ov_cursor_next(&cur, &k, &kl, &v, &vl)) == 1) {
        if (kl < at + 32)
            continue;
        while (j < c->n && memcmp(c->keys[j], k + at, 32) < 0)
            j++;
        if (j < c->n && memcmp(c->keys[j], k + at, 32) == 0)
            ok = fn(ctx, c->claims + j * K, k, kl, v, vl);
    }
    cn_ov_cursor_close(&cur);
    return ok && r == 0;
}

/* Balances ('b') and locked balances ('l'): be64 under 'x' pubkey symbol, for the genesis
 * assets (records of other assets are not claims). A stored balance is > 0 (zero balances
 * are deleted), a locked one >= 0; anything else is a corrupt state. */
typedef struct {
    const cn_genesis *g;
    int positive;
} i64_family;

static int add_i64(void *ctx, uint64_t *row, const uint8_t *k, size_t kl, const uint8_t *v,
                   size_t vl) {
    const i64_family *f = ctx;
    for (size_t a = 0; a < f->g->n_assets; a++) {
        size_t l = strlen(f->g->assets[a].symbol);
        if (kl - 33 != l || memcmp(k + 33, f->g->assets[a].symbol, l) != 0)
            continue;
        if (vl != 8)
            return 0;
        int64_t x = cn_get_be64_signed(v);
        if (x < 0 || (f->positive && x == 0))
            return 0;
        /* supply is int64, so balance + locked cannot overflow (the leaf bound is checked
         * once both are in) */
        row[a] += (uint64_t)x;
    }
    return 1;
}

/* The margin contract's 'c' pubkey record: be64 cash, be64 interest index. Its non-negative
 * part is a claim on the cash asset, genesis asset 0 (docs/reserves.md, "On chain"). Margin
 * cash is not bounded by the supply (the house pays gains out of its own book), so the sum
 * may pass the leaf bound: it is recorded as the bound rather than stop the chain, and
 * reported (reserves.claim_capped, counted when the rows are compacted). */
static int add_margin_cash(void *ctx, uint64_t *row, const uint8_t *k, size_t kl,
                           const uint8_t *v, size_t vl) {
    (void)ctx;
    (void)k;
    if (kl != CN_CSTORE_PREFIX_LEN + 33)
        return 1;
    if (vl != 16)
        return 0; /* the contract always writes cash and its index */
    int64_t cash = (int64_t)cn_get_be64(v); /* two's complement, as the VM writes words */
    if (cash > 0 && (__builtin_add_overflow(row[0], (uint64_t)cash, &row[0]) ||
                     row[0] > CN_POR_LEAF_MAX))
        row[0] = CN_POR_LEAF_MAX + 1; /* marks the cap; recorded as the bound */
    return 1;
}

/* Keeps the accounts with a nonzero claim, in order, and turns cap marks into the bound. */
static void rows_compact(claim_rows *c, uint32_t K) {
    size_t m = 0;
    for (size_t i = 0; i < c->n; i++) {
        uint64_t *row = c->claims + i * K;
        int any = 0;
        for (uint32_t a = 0; a < K; a++)
            any |= row[a] != 0;
        if (!any)
            continue;
        if (row[0] > CN_POR_LEAF_MAX) {
            row[0] = CN_POR_LEAF_MAX;
            if (c->capped++ == 0)
                c->first_capped = m;
        }
        memmove(c->keys[m], c->keys[i], 32);
        memmove(c->claims + m * K, row, K * 8);
        m++;
    }
    c->n = m;
}

/* Claims of every account in genesis asset order: balance + locked, plus the margin cash on
 * the cash asset when the contract is deployed (`mcid`, else NULL). */
static int gather_claims(cn_overlay *ov, const cn_genesis *g, const uint8_t *mcid,
                         claim_rows *c) {
    size_t nw = 0;
    cn_ov_write *wr = cn_overlay_writes(ov, &nw);
    if (!wr && nw == SIZE_MAX)
        return 0;
    uint32_t K = (uint32_t)g->n_assets;
    const uint8_t pa = CN_SK_ACCOUNT, pb = CN_SK_BALANCE, pl = CN_SK_LOCKED;
    cn_ov_cursor cur;
    const uint8_t *k, *v;
    size_t kl, vl;
    int r = -1, ok = cn_ov_cursor_open(&cur, ov, wr, nw, &pa, 1);
    while (ok && (r = cn_ov_cursor_next(&cur, &k, &kl, &v, &vl)) == 1) {
        cn_account acct;
        if (kl == 33)
            ok = cn_account_decode(&acct, v, vl) && rows_add(c, K, k + 1);
    }
    cn_ov_cursor_close(&cur);
    ok = ok && r == 0;
    i64_family bal = {g, 1}, locked = {g, 0};
    ok = ok && walk_family(ov, wr, nw, &pb, 1, 1, c, K, add_i64, &bal) &&
         walk_family(ov, wr, nw, &pl, 1, 1, c, K, add_i64, &locked);
    for (size_t i = 0; ok && i < c->n * K; i++)
        ok = c->claims[i] <= CN_POR_LEAF_MAX;
    if (ok && mcid) {
        uint8_t pm[CN_CSTORE_PREFIX_LEN + CN_VM_MAX_KEY];
        size_t pml = cn_cstore_key(pm, mcid, (const uint8_t *)"c", 1);
        ok = walk_family(ov, wr, nw, pm, pml, pml, c, K, add_margin_cash, NULL);
    }
    if (ok)
        rows_compact(c, K);
    free(wr);
    return ok && !ov->failed;
}

int cn_reserves_end_block(cn_overlay *ov, const cn_genesis *g, uint64_t height, cn_evlist *ev) {
    uint64_t eb = g->params.reserves_epoch_blocks;
    if (eb == 0 || height == 0 || height % eb != 0 || g->n_assets == 0 ||
        g->n_assets > CN_POR_MAX_ASSETS)
        return 1;
    uint64_t epoch = height / eb;
    uint32_t K = (uint32_t)g->n_assets;
    claim_rows c = {0};
    uint8_t mcid[32];
    int margin = cn_margin_deployed(ov, mcid);
    int ok = margin >= 0 && gather_claims(ov, g, margin > 0 ? mcid : NULL, &c);
    size_t n = c.n;
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
        cn_por_err pe = build_tree(g->chain_id, &al, epoch, n, (const uint8_t(*)[32])c.keys,
                                   c.claims, &t);
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
            ok = store_leaves(ov, epoch, n, K, (const uint8_t(*)[32])c.keys, c.claims) &&
                 encode_epoch(ov, &e) && cn_overlay_put(ov, pk.b, pk.len, pv, 8);
            cn_event *x = ok ? cn_evlist_add(ev, "reserves.published") : NULL;
            if (x) {
                cn_ev_i64(x, "epoch", (int64_t)epoch);
                cn_ev_hex(x, "root", e.root, 32);
                cn_ev_i64(x, "leaf_count", (int64_t)e.leaf_count);
                cn_ev_i64(x, "depth", (int64_t)e.depth);
            }
            /* One alert per epoch, however many claims were capped (receipts are bounded). */
            x = ok && c.capped ? cn_evlist_add(ev, "reserves.claim_capped") : NULL;
            if (x) {
                cn_ev_i64(x, "epoch", (int64_t)epoch);
                cn_ev_i64(x, "accounts", (int64_t)c.capped);
                cn_ev_hex(x, "first", c.keys[c.first_capped], 32);
                cn_ev_str(x, "asset", g->assets[0].symbol);
            }
        }
    }
    free(c.claims);
    free(c.keys);
    return ok;
}
