/* Proof-of-reserves verification: inclusion proofs, solvency, error texts, u128 decimals.
 *
 * The verifier trusts nothing in the proof but its values: it recomputes the params digest,
 * the account hash and the leaf from the client's own data, walks the path from level 0 and
 * at each level (1) bounds the sibling's sums by 2^level * CN_POR_LEAF_MAX, (2) requires a
 * sibling that covers only padding slots to have zero sums (and, at level 0, to be exactly
 * pad(epoch, index)), (3) adds the sums with checks and hashes both children's hashes and
 * sums. Direction bits come from the leaf index, never from the proof.
 */
#include "crypto/sumtree.h"

#include <string.h>

typedef struct {
    const char *code;
    const char *msg;
} err_text;

static const err_text texts[CN_POR_ERR_COUNT] = {
    [CN_POR_OK] = {"ok", "ok"},
    [CN_POR_E_NOMEM] = {"no_memory", "out of memory"},
    [CN_POR_E_ARG] = {"bad_argument", "invalid argument"},
    [CN_POR_E_CHAIN_ID] = {"bad_chain_id", "chain id empty, longer than 64 bytes or with a bad character"},
    [CN_POR_E_ASSET_COUNT] = {"asset_count", "number of assets is 0 or above 64"},
    [CN_POR_E_ASSET_NAME] = {"asset_name", "asset symbol empty, longer than 16 or not [A-Z0-9.]"},
    [CN_POR_E_ASSET_DUP] = {"asset_duplicate", "an asset symbol appears twice"},
    [CN_POR_E_LEAF_COUNT] = {"leaf_count", "leaf count is 0 or above 2^32-1"},
    [CN_POR_E_DEPTH_RANGE] = {"depth_range", "depth outside 4..32"},
    [CN_POR_E_DEPTH_RULE] = {"depth_rule", "depth is not the smallest d >= 4 with 2^d >= leaf count"},
    [CN_POR_E_INDEX] = {"leaf_index", "leaf index is not below the leaf count"},
    [CN_POR_E_PATH_LENGTH] = {"path_length", "number of path steps differs from the depth"},
    [CN_POR_E_FIELD_LENGTH] = {"field_length", "a hash, key, salt or sum has the wrong size"},
    [CN_POR_E_BALANCE_COUNT] = {"balance_count", "number of balances differs from number of assets"},
    [CN_POR_E_BALANCE_NEGATIVE] = {"balance_negative", "a balance is negative"},
    [CN_POR_E_BALANCE_BOUND] = {"balance_over_bound", "a balance is above 2^63-1"},
    [CN_POR_E_SUM_COUNT] = {"sum_count", "a sum vector's length differs from the number of assets"},
    [CN_POR_E_SIBLING_BOUND] = {"sibling_over_bound", "a sibling sum is above 2^level x (2^63-1)"},
    [CN_POR_E_SUM_OVERFLOW] = {"sum_overflow", "a sum exceeds its level's bound"},
    [CN_POR_E_PAD_COPY] = {"padding_copies_node", "a padding slot holds a copy of the path's own node"},
    [CN_POR_E_PAD_SUMS] = {"padding_nonzero", "a sibling made only of padding has nonzero sums"},
    [CN_POR_E_PAD_HASH] = {"padding_hash", "a padding leaf is not pad(epoch, index)"},
    [CN_POR_E_ROOT_MISMATCH] = {"root_mismatch", "the path does not hash up to the proof's root"},
    [CN_POR_E_TOTALS_MISMATCH] = {"totals_mismatch", "the path's sums do not add up to the totals"},
    [CN_POR_E_ROOT_NOT_COMMITTED] = {"root_not_on_chain", "the proof's root differs from the root committed on chain"},
    [CN_POR_E_DUP_ACCOUNT] = {"duplicate_account", "two leaves share an account hash"},
    [CN_POR_E_DUP_LEAF] = {"duplicate_leaf", "a leaf is repeated"},
    [CN_POR_E_UNSORTED] = {"unsorted_leaves", "leaves are not in increasing account-hash order"},
    [CN_POR_E_ACCOUNT_MISMATCH] = {"account_mismatch", "the account hash does not derive from the key"},
    [CN_POR_E_SALT_MISMATCH] = {"salt_mismatch", "the salt does not derive from the secret"},
    [CN_POR_E_EPOCH] = {"epoch_mismatch", "the epoch differs from the expected one"},
    [CN_POR_E_INSOLVENT] = {"insolvent_asset", "reserves are below liabilities for an asset"},
    [CN_POR_E_RESERVES_OVERFLOW] = {"reserves_overflow", "attested reserves of an asset overflow"},
};

const char *cn_por_code(cn_por_err err) {
    return (unsigned)err < CN_POR_ERR_COUNT && texts[err].code ? texts[err].code : "unknown";
}

const char *cn_por_strerror(cn_por_err err) {
    return (unsigned)err < CN_POR_ERR_COUNT && texts[err].msg ? texts[err].msg : "unknown error";
}

static cn_por_err fail(cn_por_where *w, cn_por_err e, uint32_t level, uint32_t asset) {
    if (w) {
        w->level = level;
        w->asset = asset;
    }
    return e;
}

/* Checks everything that does not need hashing. */
static cn_por_err check_shape(const cn_por_proof *p, const char *const *assets,
                              cn_por_where *w) {
    uint32_t bad;
    cn_por_err e;
    if ((e = cn_por_check_chain_id(p->chain_id)) != CN_POR_OK)
        return e;
    if ((e = cn_por_check_assets(p->n_assets, assets, &bad)) != CN_POR_OK)
        return fail(w, e, UINT32_MAX, bad);
    for (uint32_t a = 0; a < p->n_assets; a++)
        if (p->balances[a] > CN_POR_LEAF_MAX)
            return fail(w, CN_POR_E_BALANCE_BOUND, 0, a);
    if (p->depth < CN_POR_MIN_DEPTH || p->depth > CN_POR_MAX_DEPTH)
        return CN_POR_E_DEPTH_RANGE;
    if (p->leaf_count == 0 || p->leaf_count > CN_POR_MAX_LEAVES)
        return CN_POR_E_LEAF_COUNT;
    if (p->n_path != p->depth)
        return CN_POR_E_PATH_LENGTH;
    if (cn_por_depth_for(p->leaf_count) != p->depth)
        return CN_POR_E_DEPTH_RULE;
    if (p->leaf_index >= p->leaf_count)
        return CN_POR_E_INDEX;
    return CN_POR_OK;
}

/* Checks one sibling: bounds, and padding when it covers only padding slots. */
static cn_por_err check_sibling(const cn_por_proof *p, uint32_t l, uint64_t s,
                                const uint8_t cur[CN_HASH_LEN], cn_por_where *w) {
    const cn_por_step *st = &p->path[l];
    cn_u128 bound = cn_por_level_bound(l);
    for (uint32_t a = 0; a < p->n_assets; a++)
        if (st->sums[a] > bound)
            return fail(w, CN_POR_E_SIBLING_BOUND, l, a);
    if (s << l < p->leaf_count)
        return CN_POR_OK;
    if (memcmp(st->hash, cur, CN_HASH_LEN) == 0)
        return fail(w, CN_POR_E_PAD_COPY, l, UINT32_MAX);
    for (uint32_t a = 0; a < p->n_assets; a++)
        if (st->sums[a] != 0)
            return fail(w, CN_POR_E_PAD_SUMS, l, a);
    if (l == 0) {
        uint8_t pad[CN_HASH_LEN];
        cn_por_pad_leaf(pad, p->epoch, s);
        if (memcmp(pad, st->hash, CN_HASH_LEN) != 0)
            return fail(w, CN_POR_E_PAD_HASH, 0, UINT32_MAX);
    }
    return CN_POR_OK;
}

cn_por_err cn_por_verify(const cn_por_proof *p, const uint8_t *committed_root,
                         cn_por_where *w) {
    if (w) {
        w->level = UINT32_MAX;
        w->asset = UINT32_MAX;
        w->leaf = p ? p->leaf_index : UINT64_MAX;
    }
    if (!p)
        return CN_POR_E_ARG;
    const char *assets[CN_POR_MAX_ASSETS];
    uint32_t k = p->n_assets <= CN_POR_MAX_ASSETS ? p->n_assets : 0;
    for (uint32_t a = 0; a < k; a++)
        assets[a] = strnlen(p->assets[a], sizeof p->assets[a]) < sizeof p->assets[a]
                        ? p->assets[a]
                        : "";
    if (strnlen(p->chain_id, sizeof p->chain_id) == sizeof p->chain_id)
        return CN_POR_E_CHAIN_ID;
    cn_por_err e = check_shape(p, assets, w);
    if (e != CN_POR_OK)
        return e;

    uint8_t params[CN_HASH_LEN], ah[CN_HASH_LEN], cur[CN_HASH_LEN];
    cn_por_params pp = {p->chain_id, p->epoch, k, assets};
    if ((e = cn_por_params_digest(params, &pp, p->leaf_count, p->depth)) != CN_POR_OK)
        return e;
    cn_por_account_hash(ah, p->epoch, p->account);
    cn_por_leaf(cur, p->epoch, ah, p->salt, k, p->balances);
    cn_u128 sums[CN_POR_MAX_ASSETS];
    for (uint32_t a = 0; a < k; a++)
        sums[a] = p->balances[a];

    for (uint32_t l = 0; l < p->depth; l++) {
        uint64_t j = p->leaf_index >> l, s = j ^ 1;
        const cn_por_step *st = &p->path[l];
        if ((e = check_sibling(p, l, s, cur, w)) != CN_POR_OK)
            return e;
        cn_u128 parent[CN_POR_MAX_ASSETS], bound = cn_por_level_bound(l + 1);
        for (uint32_t a = 0; a < k; a++) {
            parent[a] = sums[a] + st->sums[a]; /* both <= 2^l * 2^63: no wrap */
            if (parent[a] > bound)
                return fail(w, CN_POR_E_SUM_OVERFLOW, l + 1, a);
        }
        uint8_t next[CN_HASH_LEN];
        if (j & 1)
            cn_por_node(next, params, l + 1, st->hash, st->sums, cur, sums, k);
        else
            cn_por_node(next, params, l + 1, cur, sums, st->hash, st->sums, k);
        memcpy(cur, next, CN_HASH_LEN);
        memcpy(sums, parent, k * sizeof(cn_u128));
    }
    if (memcmp(cur, p->root, CN_HASH_LEN) != 0)
        return fail(w, CN_POR_E_ROOT_MISMATCH, p->depth, UINT32_MAX);
    for (uint32_t a = 0; a < k; a++)
        if (sums[a] != p->totals[a])
            return fail(w, CN_POR_E_TOTALS_MISMATCH, p->depth, a);
    if (committed_root && memcmp(committed_root, p->root, CN_HASH_LEN) != 0)
        return CN_POR_E_ROOT_NOT_COMMITTED;
    return CN_POR_OK;
}

cn_por_err cn_por_check_solvency(uint32_t n_assets, const cn_u128 *liabilities,
                                 const cn_u128 *reserves, uint32_t *bad_asset) {
    *bad_asset = UINT32_MAX;
    for (uint32_t a = 0; a < n_assets; a++)
        if (reserves[a] < liabilities[a]) {
            *bad_asset = a;
            return CN_POR_E_INSOLVENT;
        }
    return CN_POR_OK;
}

void cn_por_u128_to_dec(char out[CN_POR_DEC_MAX + 1], cn_u128 v) {
    char tmp[CN_POR_DEC_MAX + 1];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
}

int cn_por_u128_from_dec(cn_u128 *out, const char *s) {
    if (!s || !*s)
        return 0;
    size_t len = strlen(s);
    if (len > 39 || (len > 1 && s[0] == '0'))
        return 0;
    cn_u128 v = 0, max = ~(cn_u128)0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (max - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}
