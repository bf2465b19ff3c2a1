/* Merkle sum tree for proof of reserves (docs/reserves.md is the normative spec).
 *
 * Each epoch the chain commits to every client's liabilities: one leaf per account with its
 * non-negative claim in each of K assets. Every internal node hashes BOTH children's hashes AND
 * BOTH children's sum vectors, so a prover cannot show one user a sibling sum that differs from
 * what it shows another (the flaw in Maxwell's original scheme, where only the total was
 * hashed). Byte layouts (all integers big-endian, sums as 16-byte u128):
 *
 *   account_hash = H_tag("clearnode/por/account", u64 epoch || pubkey(32))
 *   salt         = H_tag("clearnode/por/salt",    secret(32) || u64 epoch || pubkey(32))
 *   params       = H_tag("clearnode/por/params",  u32 len || chain_id || u64 epoch ||
 *                        u64 leaf_count || u32 depth || u32 K || K x (u32 len || symbol))
 *   leaf         = H_tag("clearnode/por/leaf",    u64 epoch || account_hash || salt ||
 *                        u32 K || K x u64 balance)
 *   pad(i)       = H_tag("clearnode/por/pad",     u64 epoch || u64 i)   sums all zero
 *   node         = H_tag("clearnode/por/node",    params || u32 level || hL || sumsL ||
 *                        hR || sumsR)               sums = sumsL + sumsR
 *
 * Leaves sit at level 0 sorted by strictly increasing account_hash (so a duplicated account is
 * adjacent and detected); leaves [n, 2^depth) are padding. depth is the smallest d >= 4 with
 * 2^d >= n. `params` in every node binds the chain, epoch, leaf count, depth and the asset order
 * into the root. Bounds: a balance is at most CN_POR_LEAF_MAX (2^63 - 1), so a node at level l
 * has every sum at most 2^l * CN_POR_LEAF_MAX; a verifier rejects anything larger.
 *
 * Memory: a built tree keeps per leaf its account hash, salt, balances (u64) and caller index,
 * the hashes of levels 1..depth, and the sums of levels >= CN_POR_DENSE_LEVEL only; lower sums
 * and level-0 hashes are recomputed when a proof needs them (at most 2^DENSE leaves each).
 * About (100 + 8K) bytes per account: 132 MB for 1,000,000 accounts with K = 4.
 *
 * Errors are cn_por_err values with stable short codes (cn_por_code) and messages
 * (cn_por_strerror). cn_crypto_init() must have run.
 */
#ifndef CLEARNODE_CRYPTO_SUMTREE_H
#define CLEARNODE_CRYPTO_SUMTREE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/hash.h"

typedef unsigned __int128 cn_u128;

#define CN_POR_MAX_ASSETS 64u    /* K: assets per tree */
#define CN_POR_SYMBOL_MAX 16u    /* asset symbol: 1..16 of [A-Z0-9.] */
#define CN_POR_CHAIN_ID_MAX 64u  /* chain id: 1..64 bytes of [A-Za-z0-9._-] */
#define CN_POR_MIN_DEPTH 4u      /* at least 16 leaf slots, so tiny trees hide their size */
#define CN_POR_MAX_DEPTH 32u
#define CN_POR_MAX_LEAVES UINT64_C(0xFFFFFFFF)
#define CN_POR_DENSE_LEVEL 4u    /* sums are stored from this level up */
#define CN_POR_LEAF_MAX ((uint64_t)INT64_MAX) /* largest balance in a leaf */
#define CN_POR_SECRET_LEN 32u
#define CN_POR_DEC_MAX 40u       /* decimal digits of a u128, without the NUL */

/* Every failure has its own code. Numbers are stable (docs/reserves.md lists them). */
typedef enum {
    CN_POR_OK = 0,
    CN_POR_E_NOMEM = 1,            /* out of memory */
    CN_POR_E_ARG = 2,              /* caller misuse (NULL pointer, bad index) */
    CN_POR_E_CHAIN_ID = 3,         /* chain id empty, too long or bad character */
    CN_POR_E_ASSET_COUNT = 4,      /* K is 0 or above CN_POR_MAX_ASSETS */
    CN_POR_E_ASSET_NAME = 5,       /* a symbol is empty, too long or has a bad character */
    CN_POR_E_ASSET_DUP = 6,        /* a symbol appears twice */
    CN_POR_E_LEAF_COUNT = 7,       /* leaf count 0 or above CN_POR_MAX_LEAVES */
    CN_POR_E_DEPTH_RANGE = 8,      /* depth outside [CN_POR_MIN_DEPTH, CN_POR_MAX_DEPTH] */
    CN_POR_E_DEPTH_RULE = 9,       /* depth is not the documented depth for the leaf count */
    CN_POR_E_INDEX = 10,           /* leaf index not below the leaf count */
    CN_POR_E_PATH_LENGTH = 11,     /* number of path steps differs from depth */
    CN_POR_E_FIELD_LENGTH = 12,    /* a hash, key, salt or u128 field has the wrong size */
    CN_POR_E_BALANCE_COUNT = 13,   /* balance vector length differs from K */
    CN_POR_E_BALANCE_NEGATIVE = 14,/* a balance is negative */
    CN_POR_E_BALANCE_BOUND = 15,   /* a balance is above CN_POR_LEAF_MAX */
    CN_POR_E_SUM_COUNT = 16,       /* a sibling's or the totals' vector length differs from K */
    CN_POR_E_SIBLING_BOUND = 17,   /* a sibling sum is above 2^level * CN_POR_LEAF_MAX */
    CN_POR_E_SUM_OVERFLOW = 18,    /* a sum would exceed its level's bound */
    CN_POR_E_PAD_COPY = 19,        /* a padding slot holds a copy of the path's own node */
    CN_POR_E_PAD_SUMS = 20,        /* a sibling made only of padding has nonzero sums */
    CN_POR_E_PAD_HASH = 21,        /* a padding leaf is not pad(epoch, index) */
    CN_POR_E_ROOT_MISMATCH = 22,   /* path does not hash up to the proof's root */
    CN_POR_E_TOTALS_MISMATCH = 23, /* path sums do not add up to the proof's totals */
    CN_POR_E_ROOT_NOT_COMMITTED = 24, /* proof root differs from the root committed on chain */
    CN_POR_E_DUP_ACCOUNT = 25,     /* two leaves share an account hash */
    CN_POR_E_DUP_LEAF = 26,        /* a leaf is repeated byte for byte */
    CN_POR_E_UNSORTED = 27,        /* leaves not in strictly increasing account-hash order */
    CN_POR_E_ACCOUNT_MISMATCH = 28,/* account hash does not derive from the given key */
    CN_POR_E_SALT_MISMATCH = 29,   /* salt does not derive from the given secret */
    CN_POR_E_EPOCH = 30,           /* epoch differs from the expected one */
    CN_POR_E_INSOLVENT = 31,       /* reserves below liabilities for one asset */
    CN_POR_E_RESERVES_OVERFLOW = 32, /* attested reserves of one asset overflow u128 */
    CN_POR_ERR_COUNT
} cn_por_err;

/* Stable short code ("sibling_over_bound") and a one-line message for each error. */
const char *cn_por_code(cn_por_err err);
const char *cn_por_strerror(cn_por_err err);

/* What defines one epoch's tree. `assets` holds K distinct symbols in sum-vector order. */
typedef struct {
    const char *chain_id;
    uint64_t epoch;
    uint32_t n_assets;
    const char *const *assets;
} cn_por_params;

/* Where a check failed, for messages: the level, asset position or leaf concerned
 * (UINT32_MAX / UINT64_MAX when not applicable). */
typedef struct {
    uint32_t level;
    uint32_t asset;
    uint64_t leaf;
} cn_por_where;

/* ---- primitives ------------------------------------------------------------------------ */

void cn_por_account_hash(uint8_t out[CN_HASH_LEN], uint64_t epoch, const uint8_t pubkey[32]);
void cn_por_salt(uint8_t out[CN_HASH_LEN], const uint8_t secret[CN_POR_SECRET_LEN],
                 uint64_t epoch, const uint8_t pubkey[32]);
void cn_por_pad_leaf(uint8_t out[CN_HASH_LEN], uint64_t epoch, uint64_t index);
/* Leaf hash; balances must already be checked against CN_POR_LEAF_MAX. */
void cn_por_leaf(uint8_t out[CN_HASH_LEN], uint64_t epoch, const uint8_t account_hash[32],
                 const uint8_t salt[32], uint32_t n_assets, const uint64_t *balances);
/* Node hash at `level` (1..depth) from both children's hashes and sum vectors. */
void cn_por_node(uint8_t out[CN_HASH_LEN], const uint8_t params[CN_HASH_LEN], uint32_t level,
                 const uint8_t hl[CN_HASH_LEN], const cn_u128 *sl, const uint8_t hr[CN_HASH_LEN],
                 const cn_u128 *sr, uint32_t n_assets);
/* Checks chain id and assets, then computes the params digest. */
cn_por_err cn_por_params_digest(uint8_t out[CN_HASH_LEN], const cn_por_params *p,
                                uint64_t leaf_count, uint32_t depth);
/* Documented depth for n leaves: smallest d >= CN_POR_MIN_DEPTH with 2^d >= n (0 if n is 0
 * or above CN_POR_MAX_LEAVES). */
uint32_t cn_por_depth_for(uint64_t n);
/* Largest sum allowed at `level`: 2^level * CN_POR_LEAF_MAX. */
cn_u128 cn_por_level_bound(uint32_t level);
/* Validates a chain id / an asset list (count, symbols, distinctness). */
cn_por_err cn_por_check_chain_id(const char *chain_id);
cn_por_err cn_por_check_assets(uint32_t n_assets, const char *const *assets, uint32_t *bad);

/* ---- building -------------------------------------------------------------------------- */

typedef struct cn_sumtree cn_sumtree;

/* One epoch's leaves as flat arrays, in any order (or tree order with CN_SUMTREE_PRESORTED):
 * account_hashes and salts hold n x 32 bytes, balances n x K u64 (row i = leaf i). */
typedef struct {
    uint64_t n;
    const uint8_t *account_hashes;
    const uint8_t *salts;
    const uint64_t *balances;
} cn_sumtree_input;

enum {
    /* The input is claimed to be in tree order: check it (CN_POR_E_UNSORTED) instead of
     * sorting. Auditors rebuilding an exported leaf set use this. */
    CN_SUMTREE_PRESORTED = 1u
};

/* Builds the tree. On error *out is NULL and `where` (may be NULL) names the input row (for
 * balances and duplicates) or the asset position.
 * Errors: CN_POR_E_ARG, E_CHAIN_ID, E_ASSET_COUNT, E_ASSET_NAME, E_ASSET_DUP, E_LEAF_COUNT,
 * E_BALANCE_BOUND, E_DUP_ACCOUNT, E_DUP_LEAF, E_UNSORTED, E_NOMEM. */
cn_por_err cn_sumtree_build(cn_sumtree **out, const cn_por_params *p, const cn_sumtree_input *in,
                            unsigned flags, cn_por_where *where);
void cn_sumtree_free(cn_sumtree *t);

void cn_sumtree_root(const cn_sumtree *t, uint8_t root[CN_HASH_LEN]);
/* Copies the K root sums (per-asset liabilities). */
void cn_sumtree_totals(const cn_sumtree *t, cn_u128 *totals);
uint32_t cn_sumtree_depth(const cn_sumtree *t);
uint64_t cn_sumtree_leaf_count(const cn_sumtree *t);
uint32_t cn_sumtree_n_assets(const cn_sumtree *t);
/* Tree position of the leaf with this account hash. Returns 1 and sets *index, or 0. */
int cn_sumtree_find(const cn_sumtree *t, const uint8_t account_hash[32], uint64_t *index);
/* Row of the caller's input that became leaf `index` (UINT64_MAX if out of range). */
uint64_t cn_sumtree_origin(const cn_sumtree *t, uint64_t index);
/* Leaf data at tree position `index` (pointers into the tree; NULL on a bad index). */
const uint8_t *cn_sumtree_leaf_account(const cn_sumtree *t, uint64_t index);
const uint8_t *cn_sumtree_leaf_salt(const cn_sumtree *t, uint64_t index);
const uint64_t *cn_sumtree_leaf_balances(const cn_sumtree *t, uint64_t index);

/* ---- proofs ---------------------------------------------------------------------------- */

typedef struct {
    uint8_t hash[CN_HASH_LEN];
    cn_u128 sums[CN_POR_MAX_ASSETS];
} cn_por_step;

/* An inclusion proof, decoded and length-checked (about 35 KB: allocate it, or keep one). */
typedef struct {
    char chain_id[CN_POR_CHAIN_ID_MAX + 1];
    uint64_t epoch;
    uint64_t height;       /* block whose header carries the root (not hashed; informative) */
    uint32_t depth;
    uint64_t leaf_count;
    uint64_t leaf_index;
    uint8_t account[32];   /* the client's x-only public key */
    uint8_t salt[32];
    uint32_t n_assets;
    char assets[CN_POR_MAX_ASSETS][CN_POR_SYMBOL_MAX + 1];
    uint64_t balances[CN_POR_MAX_ASSETS];
    uint32_t n_path;
    cn_por_step path[CN_POR_MAX_DEPTH]; /* siblings, level 0 first */
    uint8_t root[CN_HASH_LEN];
    cn_u128 totals[CN_POR_MAX_ASSETS];
} cn_por_proof;

/* Fills `proof` for leaf `index`; `pubkey` must be the key whose account hash is at that leaf
 * (CN_POR_E_ACCOUNT_MISMATCH otherwise). `height` is copied into the proof.
 * Errors: CN_POR_E_ARG, CN_POR_E_INDEX, CN_POR_E_ACCOUNT_MISMATCH. */
cn_por_err cn_sumtree_prove(const cn_sumtree *t, uint64_t index, const uint8_t pubkey[32],
                            uint64_t height, cn_por_proof *proof);

/* Verifies a proof on its own: parameters, depth rule, leaf rebuilt from account, salt and
 * balances, every sibling within its level's bound, padding siblings zero (and exactly
 * pad(epoch, i) at level 0), sums added with checks, root and totals equal to the proof's.
 * With `committed_root` non-NULL, also requires the proof's root to equal it
 * (CN_POR_E_ROOT_NOT_COMMITTED). Returns the first failure; `where` says where. */
cn_por_err cn_por_verify(const cn_por_proof *proof, const uint8_t *committed_root,
                         cn_por_where *where);

/* Per-asset solvency: reserves[a] >= liabilities[a] for every a, never netted across assets.
 * Returns CN_POR_E_INSOLVENT with *bad_asset set to the first short asset. */
cn_por_err cn_por_check_solvency(uint32_t n_assets, const cn_u128 *liabilities,
                                 const cn_u128 *reserves, uint32_t *bad_asset);

/* ---- u128 helpers ---------------------------------------------------------------------- */

void cn_por_put_u128(uint8_t out[16], cn_u128 v);
cn_u128 cn_por_get_u128(const uint8_t in[16]);
/* Decimal text (no sign, no leading zeros except "0"); `out` holds CN_POR_DEC_MAX + 1. */
void cn_por_u128_to_dec(char out[CN_POR_DEC_MAX + 1], cn_u128 v);
/* Parses a decimal u128 ([0-9]+, at most 39 digits, no overflow). Returns 1 or 0. */
int cn_por_u128_from_dec(cn_u128 *out, const char *s);

#endif
