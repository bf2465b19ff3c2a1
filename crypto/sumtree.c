/* Merkle sum tree for proof of reserves: hashing primitives, building, proof extraction.
 *
 * Building is one pass over the sorted leaves in chunks of 2^CN_POR_DENSE_LEVEL: each chunk's
 * leaf hashes and sums live on the stack while levels 1..DENSE are hashed, so only their
 * hashes (and the chunk's level-DENSE sums) are stored; the levels above are built level by
 * level from the stored arrays. Leaves are sorted by a 4-pass LSD radix sort on the first
 * 8 bytes of the account hash, with ties (equal prefixes) ordered by the full hash.
 * Verification lives in sumtree_verify.c. See sumtree.h for the layouts.
 */
#include "crypto/sumtree.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/bytes.h"

#define CHUNK (1u << CN_POR_DENSE_LEVEL)
#define NODE_BUF (CN_HASH_LEN + 4 + 2 * (CN_HASH_LEN + 16 * CN_POR_MAX_ASSETS))
#define LEAF_BUF (8 + 2 * CN_HASH_LEN + 4 + 8 * CN_POR_MAX_ASSETS)

struct cn_sumtree {
    char chain_id[CN_POR_CHAIN_ID_MAX + 1];
    uint64_t epoch;
    uint32_t k;
    char assets[CN_POR_MAX_ASSETS][CN_POR_SYMBOL_MAX + 1];
    uint8_t params[CN_HASH_LEN];
    uint64_t n;
    uint32_t depth;
    uint8_t *ahash;    /* n x 32, tree order */
    uint8_t *salt;     /* n x 32 */
    uint64_t *bal;     /* n x k */
    uint32_t *origin;  /* n: caller's row */
    uint8_t *nodes;    /* levels 1..depth, 2^depth - 1 hashes; level l starts at node_off[l] */
    cn_u128 *sums;     /* levels DENSE..depth, k each; level l starts at sum_off[l] nodes */
    uint64_t node_off[CN_POR_MAX_DEPTH + 1];
    uint64_t sum_off[CN_POR_MAX_DEPTH + 1];
    uint8_t root[CN_HASH_LEN];
    cn_u128 totals[CN_POR_MAX_ASSETS];
};

/* ---- primitives ------------------------------------------------------------------------ */

void cn_por_put_u128(uint8_t out[16], cn_u128 v) {
    cn_put_be64(out, (uint64_t)(v >> 64));
    cn_put_be64(out + 8, (uint64_t)v);
}

cn_u128 cn_por_get_u128(const uint8_t in[16]) {
    return (cn_u128)cn_get_be64(in) << 64 | (cn_u128)cn_get_be64(in + 8);
}

void cn_por_account_hash(uint8_t out[CN_HASH_LEN], uint64_t epoch, const uint8_t pubkey[32]) {
    cn_hasher h;
    cn_hasher_start(&h, CN_TAG_POR_ACCOUNT);
    cn_hasher_u64(&h, epoch);
    cn_hasher_update(&h, pubkey, 32);
    cn_hasher_finish(&h, out);
}

void cn_por_salt(uint8_t out[CN_HASH_LEN], const uint8_t secret[CN_POR_SECRET_LEN],
                 uint64_t epoch, const uint8_t pubkey[32]) {
    cn_hasher h;
    cn_hasher_start(&h, CN_TAG_POR_SALT);
    cn_hasher_update(&h, secret, CN_POR_SECRET_LEN);
    cn_hasher_u64(&h, epoch);
    cn_hasher_update(&h, pubkey, 32);
    cn_hasher_finish(&h, out);
}

void cn_por_pad_leaf(uint8_t out[CN_HASH_LEN], uint64_t epoch, uint64_t index) {
    uint8_t b[16];
    cn_put_be64(b, epoch);
    cn_put_be64(b + 8, index);
    cn_hash_tagged(out, CN_TAG_POR_PAD, b, sizeof b);
}

void cn_por_leaf(uint8_t out[CN_HASH_LEN], uint64_t epoch, const uint8_t account_hash[32],
                 const uint8_t salt[32], uint32_t n_assets, const uint64_t *balances) {
    uint8_t b[LEAF_BUF];
    size_t o = 0;
    if (n_assets > CN_POR_MAX_ASSETS)
        n_assets = CN_POR_MAX_ASSETS; /* callers validate K; never overrun the buffer */
    cn_put_be64(b, epoch);
    o += 8;
    memcpy(b + o, account_hash, 32);
    o += 32;
    memcpy(b + o, salt, 32);
    o += 32;
    cn_put_be32(b + o, n_assets);
    o += 4;
    for (uint32_t a = 0; a < n_assets; a++, o += 8)
        cn_put_be64(b + o, balances[a]);
    cn_hash_tagged(out, CN_TAG_POR_LEAF, b, o);
}

void cn_por_node(uint8_t out[CN_HASH_LEN], const uint8_t params[CN_HASH_LEN], uint32_t level,
                 const uint8_t hl[CN_HASH_LEN], const cn_u128 *sl, const uint8_t hr[CN_HASH_LEN],
                 const cn_u128 *sr, uint32_t n_assets) {
    uint8_t b[NODE_BUF];
    size_t o = 0;
    if (n_assets > CN_POR_MAX_ASSETS)
        n_assets = CN_POR_MAX_ASSETS;
    memcpy(b, params, CN_HASH_LEN);
    o += CN_HASH_LEN;
    cn_put_be32(b + o, level);
    o += 4;
    memcpy(b + o, hl, CN_HASH_LEN);
    o += CN_HASH_LEN;
    for (uint32_t a = 0; a < n_assets; a++, o += 16)
        cn_por_put_u128(b + o, sl[a]);
    memcpy(b + o, hr, CN_HASH_LEN);
    o += CN_HASH_LEN;
    for (uint32_t a = 0; a < n_assets; a++, o += 16)
        cn_por_put_u128(b + o, sr[a]);
    cn_hash_tagged(out, CN_TAG_POR_NODE, b, o);
}

uint32_t cn_por_depth_for(uint64_t n) {
    if (n == 0 || n > CN_POR_MAX_LEAVES)
        return 0;
    uint32_t d = CN_POR_MIN_DEPTH;
    while ((UINT64_C(1) << d) < n)
        d++;
    return d;
}

cn_u128 cn_por_level_bound(uint32_t level) {
    if (level > CN_POR_MAX_DEPTH)
        level = CN_POR_MAX_DEPTH;
    return (cn_u128)CN_POR_LEAF_MAX << level;
}

cn_por_err cn_por_check_chain_id(const char *chain_id) {
    if (!chain_id)
        return CN_POR_E_CHAIN_ID;
    size_t len = strnlen(chain_id, CN_POR_CHAIN_ID_MAX + 1);
    if (len == 0 || len > CN_POR_CHAIN_ID_MAX)
        return CN_POR_E_CHAIN_ID;
    for (size_t i = 0; i < len; i++) {
        char c = chain_id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return CN_POR_E_CHAIN_ID;
    }
    return CN_POR_OK;
}

static int symbol_ok(const char *s) {
    if (!s)
        return 0;
    size_t len = strnlen(s, CN_POR_SYMBOL_MAX + 1);
    if (len == 0 || len > CN_POR_SYMBOL_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
            return 0;
    return 1;
}

cn_por_err cn_por_check_assets(uint32_t n_assets, const char *const *assets, uint32_t *bad) {
    *bad = UINT32_MAX;
    if (n_assets == 0 || n_assets > CN_POR_MAX_ASSETS || !assets)
        return CN_POR_E_ASSET_COUNT;
    for (uint32_t a = 0; a < n_assets; a++) {
        *bad = a;
        if (!symbol_ok(assets[a]))
            return CN_POR_E_ASSET_NAME;
        for (uint32_t b = 0; b < a; b++)
            if (strcmp(assets[a], assets[b]) == 0)
                return CN_POR_E_ASSET_DUP;
    }
    *bad = UINT32_MAX;
    return CN_POR_OK;
}

cn_por_err cn_por_params_digest(uint8_t out[CN_HASH_LEN], const cn_por_params *p,
                                uint64_t leaf_count, uint32_t depth) {
    uint32_t bad;
    cn_por_err e = cn_por_check_chain_id(p->chain_id);
    if (e == CN_POR_OK)
        e = cn_por_check_assets(p->n_assets, p->assets, &bad);
    if (e != CN_POR_OK)
        return e;
    cn_hasher h;
    cn_hasher_start_named(&h, "clearnode/por/params");
    cn_hasher_bytes(&h, p->chain_id, strlen(p->chain_id));
    cn_hasher_u64(&h, p->epoch);
    cn_hasher_u64(&h, leaf_count);
    cn_hasher_u32(&h, depth);
    cn_hasher_u32(&h, p->n_assets);
    for (uint32_t a = 0; a < p->n_assets; a++)
        cn_hasher_bytes(&h, p->assets[a], strlen(p->assets[a]));
    cn_hasher_finish(&h, out);
    return CN_POR_OK;
}

/* ---- sorting --------------------------------------------------------------------------- */

typedef struct {
    uint64_t key; /* first 8 bytes of the account hash, big-endian */
    uint64_t row;
} sort_ent;

/* Insertion sort of a run of equal prefixes by the full hash (runs are one or two rows:
 * equal 64-bit prefixes of hash outputs are rare even when chosen on purpose). */
static void sort_run(sort_ent *e, uint64_t len, const uint8_t *ahash) {
    for (uint64_t i = 1; i < len; i++) {
        sort_ent v = e[i];
        uint64_t j = i;
        while (j > 0 && memcmp(ahash + e[j - 1].row * 32, ahash + v.row * 32, 32) > 0) {
            e[j] = e[j - 1];
            j--;
        }
        e[j] = v;
    }
}

/* Sorts rows by account hash. Returns 0 on allocation failure. */
static int sort_rows(sort_ent *e, uint64_t n, const uint8_t *ahash) {
    sort_ent *tmp = malloc((size_t)n * sizeof *tmp);
    size_t *count = malloc(65536 * sizeof *count);
    if (!tmp || !count) {
        free(tmp);
        free(count);
        return 0;
    }
    for (uint64_t i = 0; i < n; i++) {
        e[i].key = cn_get_be64(ahash + i * 32);
        e[i].row = i;
    }
    sort_ent *src = e, *dst = tmp;
    for (unsigned shift = 0; shift < 64; shift += 16) {
        memset(count, 0, 65536 * sizeof *count);
        for (uint64_t i = 0; i < n; i++)
            count[(src[i].key >> shift) & 0xFFFF]++;
        size_t pos = 0;
        for (size_t d = 0; d < 65536; d++) {
            size_t c = count[d];
            count[d] = pos;
            pos += c;
        }
        for (uint64_t i = 0; i < n; i++)
            dst[count[(src[i].key >> shift) & 0xFFFF]++] = src[i];
        sort_ent *t = src;
        src = dst;
        dst = t;
    }
    /* Four passes: the result is back in `e`. Order equal prefixes by the full hash. */
    for (uint64_t i = 0; i < n;) {
        uint64_t j = i + 1;
        while (j < n && e[j].key == e[i].key)
            j++;
        if (j - i > 1)
            sort_run(e + i, j - i, ahash);
        i = j;
    }
    free(tmp);
    free(count);
    return 1;
}

/* ---- building -------------------------------------------------------------------------- */

static void set_where(cn_por_where *w, uint32_t level, uint32_t asset, uint64_t leaf) {
    if (w) {
        w->level = level;
        w->asset = asset;
        w->leaf = leaf;
    }
}

static void leaf_sums(const cn_sumtree *t, uint64_t i, cn_u128 *out) {
    for (uint32_t a = 0; a < t->k; a++)
        out[a] = i < t->n ? t->bal[i * t->k + a] : 0;
}

static void leaf_hash_at(const cn_sumtree *t, uint64_t i, uint8_t out[CN_HASH_LEN]) {
    if (i < t->n)
        cn_por_leaf(out, t->epoch, t->ahash + i * 32, t->salt + i * 32, t->k, t->bal + i * t->k);
    else
        cn_por_pad_leaf(out, t->epoch, i);
}

/* Hashes levels 1..DENSE of chunk `c` from its 2^DENSE leaves. */
static void build_chunk(cn_sumtree *t, uint64_t c) {
    uint8_t h[CHUNK][CN_HASH_LEN];
    cn_u128 s[CHUNK][CN_POR_MAX_ASSETS];
    uint32_t k = t->k;
    for (uint32_t j = 0; j < CHUNK; j++) {
        uint64_t i = c * CHUNK + j;
        leaf_hash_at(t, i, h[j]);
        leaf_sums(t, i, s[j]);
    }
    uint32_t width = CHUNK;
    for (uint32_t l = 1; l <= CN_POR_DENSE_LEVEL; l++) {
        width /= 2;
        for (uint32_t j = 0; j < width; j++) {
            uint8_t out[CN_HASH_LEN];
            cn_por_node(out, t->params, l, h[2 * j], s[2 * j], h[2 * j + 1], s[2 * j + 1], k);
            for (uint32_t a = 0; a < k; a++)
                s[j][a] = s[2 * j][a] + s[2 * j + 1][a]; /* <= 2^l * LEAF_MAX: no overflow */
            memcpy(h[j], out, CN_HASH_LEN);
            memcpy(t->nodes + (t->node_off[l] + (c << (CN_POR_DENSE_LEVEL - l)) + j) * 32, out,
                   CN_HASH_LEN);
        }
    }
    memcpy(t->sums + (t->sum_off[CN_POR_DENSE_LEVEL] + c) * k, s[0], k * sizeof(cn_u128));
}

static void build_upper(cn_sumtree *t) {
    uint32_t k = t->k;
    for (uint32_t l = CN_POR_DENSE_LEVEL + 1; l <= t->depth; l++) {
        uint64_t width = UINT64_C(1) << (t->depth - l);
        const uint8_t *ch = t->nodes + t->node_off[l - 1] * 32;
        const cn_u128 *cs = t->sums + t->sum_off[l - 1] * k;
        uint8_t *ph = t->nodes + t->node_off[l] * 32;
        cn_u128 *ps = t->sums + t->sum_off[l] * k;
        for (uint64_t j = 0; j < width; j++) {
            const cn_u128 *sl = cs + 2 * j * k, *sr = cs + (2 * j + 1) * k;
            cn_por_node(ph + j * 32, t->params, l, ch + 2 * j * 32, sl, ch + (2 * j + 1) * 32, sr,
                        k);
            for (uint32_t a = 0; a < k; a++)
                ps[j * k + a] = sl[a] + sr[a];
        }
    }
}

/* Checks adjacent sorted rows for duplicates: returns the error, or OK. */
static cn_por_err dup_check(const cn_sumtree_input *in, uint32_t k, uint64_t ra, uint64_t rb) {
    int c = memcmp(in->account_hashes + ra * 32, in->account_hashes + rb * 32, 32);
    if (c > 0)
        return CN_POR_E_UNSORTED;
    if (c < 0)
        return CN_POR_OK;
    if (memcmp(in->salts + ra * 32, in->salts + rb * 32, 32) == 0 &&
        memcmp(in->balances + ra * k, in->balances + rb * k, k * sizeof(uint64_t)) == 0)
        return CN_POR_E_DUP_LEAF;
    return CN_POR_E_DUP_ACCOUNT;
}

static cn_por_err alloc_tree(cn_sumtree *t) {
    uint64_t n = t->n, slots = UINT64_C(1) << t->depth;
    if (n > SIZE_MAX / 64 / CN_POR_MAX_ASSETS || slots > SIZE_MAX / 64)
        return CN_POR_E_NOMEM;
    uint64_t off = 0, soff = 0;
    for (uint32_t l = 1; l <= t->depth; l++) {
        t->node_off[l] = off;
        off += slots >> l;
        if (l >= CN_POR_DENSE_LEVEL) {
            t->sum_off[l] = soff;
            soff += slots >> l;
        }
    }
    t->ahash = malloc((size_t)n * 32);
    t->salt = malloc((size_t)n * 32);
    t->bal = malloc((size_t)n * t->k * sizeof(uint64_t));
    t->origin = malloc((size_t)n * sizeof(uint32_t));
    t->nodes = malloc((size_t)off * 32);
    t->sums = malloc((size_t)soff * t->k * sizeof(cn_u128));
    if (!t->ahash || !t->salt || !t->bal || !t->origin || !t->nodes || !t->sums)
        return CN_POR_E_NOMEM;
    return CN_POR_OK;
}

cn_por_err cn_sumtree_build(cn_sumtree **out, const cn_por_params *p, const cn_sumtree_input *in,
                            unsigned flags, cn_por_where *where) {
    set_where(where, UINT32_MAX, UINT32_MAX, UINT64_MAX);
    if (!out || !p || !in)
        return CN_POR_E_ARG;
    *out = NULL;
    uint32_t bad;
    cn_por_err e = cn_por_check_chain_id(p->chain_id);
    if (e != CN_POR_OK)
        return e;
    if ((e = cn_por_check_assets(p->n_assets, p->assets, &bad)) != CN_POR_OK) {
        set_where(where, UINT32_MAX, bad, UINT64_MAX);
        return e;
    }
    if (in->n == 0 || in->n > CN_POR_MAX_LEAVES)
        return CN_POR_E_LEAF_COUNT;
    if (!in->account_hashes || !in->salts || !in->balances)
        return CN_POR_E_ARG;
    uint32_t k = p->n_assets;
    uint64_t n = in->n;
    for (uint64_t i = 0; i < n; i++)
        for (uint32_t a = 0; a < k; a++)
            if (in->balances[i * k + a] > CN_POR_LEAF_MAX) {
                set_where(where, 0, a, i);
                return CN_POR_E_BALANCE_BOUND;
            }

    cn_sumtree *t = calloc(1, sizeof *t);
    sort_ent *order = NULL;
    if (!t)
        return CN_POR_E_NOMEM;
    memcpy(t->chain_id, p->chain_id, strlen(p->chain_id) + 1);
    t->epoch = p->epoch;
    t->k = k;
    for (uint32_t a = 0; a < k; a++)
        memcpy(t->assets[a], p->assets[a], strlen(p->assets[a]) + 1);
    t->n = n;
    t->depth = cn_por_depth_for(n);
    if ((e = alloc_tree(t)) != CN_POR_OK)
        goto fail;
    order = malloc((size_t)n * sizeof *order);
    if (!order) {
        e = CN_POR_E_NOMEM;
        goto fail;
    }
    if (flags & CN_SUMTREE_PRESORTED) {
        for (uint64_t i = 0; i < n; i++)
            order[i].row = i;
    } else if (!sort_rows(order, n, in->account_hashes)) {
        e = CN_POR_E_NOMEM;
        goto fail;
    }
    for (uint64_t i = 1; i < n; i++)
        if ((e = dup_check(in, k, order[i - 1].row, order[i].row)) != CN_POR_OK) {
            set_where(where, 0, UINT32_MAX, order[i].row);
            goto fail;
        }
    for (uint64_t i = 0; i < n; i++) {
        uint64_t r = order[i].row;
        memcpy(t->ahash + i * 32, in->account_hashes + r * 32, 32);
        memcpy(t->salt + i * 32, in->salts + r * 32, 32);
        memcpy(t->bal + i * k, in->balances + r * k, k * sizeof(uint64_t));
        t->origin[i] = (uint32_t)r;
    }
    free(order);
    order = NULL;
    cn_por_params q = *p;
    if ((e = cn_por_params_digest(t->params, &q, n, t->depth)) != CN_POR_OK)
        goto fail;
    uint64_t chunks = (UINT64_C(1) << t->depth) / CHUNK;
    for (uint64_t c = 0; c < chunks; c++)
        build_chunk(t, c);
    build_upper(t);
    memcpy(t->root, t->nodes + t->node_off[t->depth] * 32, CN_HASH_LEN);
    memcpy(t->totals, t->sums + t->sum_off[t->depth] * k, k * sizeof(cn_u128));
    *out = t;
    return CN_POR_OK;
fail:
    free(order);
    cn_sumtree_free(t);
    return e;
}

void cn_sumtree_free(cn_sumtree *t) {
    if (!t)
        return;
    free(t->ahash);
    free(t->salt);
    free(t->bal);
    free(t->origin);
    free(t->nodes);
    free(t->sums);
    free(t);
}

/* ---- accessors ------------------------------------------------------------------------- */

void cn_sumtree_root(const cn_sumtree *t, uint8_t root[CN_HASH_LEN]) {
    memcpy(root, t->root, CN_HASH_LEN);
}

void cn_sumtree_totals(const cn_sumtree *t, cn_u128 *totals) {
    memcpy(totals, t->totals, t->k * sizeof(cn_u128));
}

uint32_t cn_sumtree_depth(const cn_sumtree *t) { return t->depth; }
uint64_t cn_sumtree_leaf_count(const cn_sumtree *t) { return t->n; }
uint32_t cn_sumtree_n_assets(const cn_sumtree *t) { return t->k; }

int cn_sumtree_find(const cn_sumtree *t, const uint8_t account_hash[32], uint64_t *index) {
    uint64_t lo = 0, hi = t->n;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        int c = memcmp(t->ahash + mid * 32, account_hash, 32);
        if (c == 0) {
            *index = mid;
            return 1;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

uint64_t cn_sumtree_origin(const cn_sumtree *t, uint64_t index) {
    return index < t->n ? t->origin[index] : UINT64_MAX;
}

const uint8_t *cn_sumtree_leaf_account(const cn_sumtree *t, uint64_t index) {
    return index < t->n ? t->ahash + index * 32 : NULL;
}

const uint8_t *cn_sumtree_leaf_salt(const cn_sumtree *t, uint64_t index) {
    return index < t->n ? t->salt + index * 32 : NULL;
}

const uint64_t *cn_sumtree_leaf_balances(const cn_sumtree *t, uint64_t index) {
    return index < t->n ? t->bal + index * t->k : NULL;
}

/* ---- proofs ---------------------------------------------------------------------------- */

/* Sums of node `j` at `level`: stored from DENSE up, else added from its (<= 2^DENSE) leaves. */
static void node_sums(const cn_sumtree *t, uint32_t level, uint64_t j, cn_u128 *out) {
    if (level >= CN_POR_DENSE_LEVEL && level <= CN_POR_MAX_DEPTH) {
        memcpy(out, t->sums + (t->sum_off[level] + j) * t->k, t->k * sizeof(cn_u128));
        return;
    }
    memset(out, 0, t->k * sizeof(cn_u128));
    uint64_t lo = j << level, hi = (j + 1) << level;
    if (hi > t->n)
        hi = t->n;
    for (uint64_t i = lo; i < hi; i++)
        for (uint32_t a = 0; a < t->k; a++)
            out[a] += t->bal[i * t->k + a];
}

cn_por_err cn_sumtree_prove(const cn_sumtree *t, uint64_t index, const uint8_t pubkey[32],
                            uint64_t height, cn_por_proof *proof) {
    if (!t || !pubkey || !proof)
        return CN_POR_E_ARG;
    if (index >= t->n)
        return CN_POR_E_INDEX;
    uint8_t ah[CN_HASH_LEN];
    cn_por_account_hash(ah, t->epoch, pubkey);
    if (memcmp(ah, t->ahash + index * 32, 32) != 0)
        return CN_POR_E_ACCOUNT_MISMATCH;
    memset(proof, 0, sizeof *proof);
    memcpy(proof->chain_id, t->chain_id, sizeof proof->chain_id);
    proof->epoch = t->epoch;
    proof->height = height;
    proof->depth = t->depth;
    proof->leaf_count = t->n;
    proof->leaf_index = index;
    memcpy(proof->account, pubkey, 32);
    memcpy(proof->salt, t->salt + index * 32, 32);
    proof->n_assets = t->k;
    memcpy(proof->assets, t->assets, sizeof proof->assets);
    memcpy(proof->balances, t->bal + index * t->k, t->k * sizeof(uint64_t));
    proof->n_path = t->depth;
    for (uint32_t l = 0; l < t->depth; l++) {
        uint64_t s = (index >> l) ^ 1;
        cn_por_step *st = &proof->path[l];
        if (l == 0)
            leaf_hash_at(t, s, st->hash);
        else
            memcpy(st->hash, t->nodes + (t->node_off[l] + s) * 32, CN_HASH_LEN);
        node_sums(t, l, s, st->sums);
    }
    memcpy(proof->root, t->root, CN_HASH_LEN);
    memcpy(proof->totals, t->totals, t->k * sizeof(cn_u128));
    return CN_POR_OK;
}
