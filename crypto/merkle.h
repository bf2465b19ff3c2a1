/* Binary Merkle tree for transaction roots, with inclusion proofs.
 *
 * leaf(x)    = H_tag("clearnode/merkle/leaf", x)
 * node(l, r) = H_tag("clearnode/merkle/node", l || r)
 * root([])   = H_tag("clearnode/merkle/empty", "")
 *
 * Levels are built left to right; when a level has an odd count its last node is promoted
 * unchanged to the next level. It is never paired with a copy of itself, so [a,b,c] and
 * [a,b,c,c] have different roots (no CVE-2012-2459 style malleability), and leaf and node
 * hashes use different tags so a node can never pass as a leaf.
 *
 * A proof carries the leaf index, the leaf count and the sibling hashes bottom-up; the verifier
 * recomputes which levels have a sibling from (index, count), so no direction bits are trusted.
 */
#ifndef CLEARNODE_CRYPTO_MERKLE_H
#define CLEARNODE_CRYPTO_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/hash.h"

/* A tree of up to 2^32 leaves has at most 32 siblings on any path. */
#define CN_MERKLE_MAX_DEPTH 32

typedef struct {
    uint64_t index;   /* leaf position */
    uint64_t count;   /* number of leaves in the tree */
    uint32_t n_siblings;
    uint8_t siblings[CN_MERKLE_MAX_DEPTH][CN_HASH_LEN];
} cn_merkle_proof;

/* Hashes one leaf's data with the leaf tag. */
void cn_merkle_leaf(uint8_t out[CN_HASH_LEN], const uint8_t *data, size_t len);

/* Computes the root over `count` leaf hashes (already leaf-tagged). `scratch` must hold
 * `count` hashes (it may alias `leaves` if the caller does not need them afterwards).
 * Returns 1, or 0 if count exceeds 2^32. */
int cn_merkle_root(uint8_t root[CN_HASH_LEN], const uint8_t (*leaves)[CN_HASH_LEN],
                   uint64_t count, uint8_t (*scratch)[CN_HASH_LEN]);

/* Builds the inclusion proof of leaf `index`. `scratch` as for cn_merkle_root.
 * Returns 1, or 0 if index >= count or count exceeds 2^32. */
int cn_merkle_prove(cn_merkle_proof *proof, const uint8_t (*leaves)[CN_HASH_LEN],
                    uint64_t count, uint64_t index, uint8_t (*scratch)[CN_HASH_LEN]);

/* Checks that `leaf` (leaf-tagged hash) is at proof->index of a tree of proof->count leaves
 * with root `root`. Returns 1 if it is; 0 for a wrong root, a wrong sibling count, or an
 * index out of range. */
int cn_merkle_verify(const cn_merkle_proof *proof, const uint8_t leaf[CN_HASH_LEN],
                     const uint8_t root[CN_HASH_LEN]);

#endif
