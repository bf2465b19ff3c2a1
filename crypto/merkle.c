/* Binary Merkle tree with odd-node promotion. See merkle.h. */
#include "crypto/merkle.h"

#include <string.h>

void cn_merkle_leaf(uint8_t out[CN_HASH_LEN], const uint8_t *data, size_t len) {
    cn_hash_tagged(out, CN_TAG_MERKLE_LEAF, data, len);
}

/* Replaces level[0..n) by the next level in place; returns its size. */
static uint64_t reduce_level(uint8_t (*level)[CN_HASH_LEN], uint64_t n) {
    uint64_t out = 0;
    for (uint64_t i = 0; i + 1 < n; i += 2)
        cn_hash_pair(level[out++], CN_TAG_MERKLE_NODE, level[i], level[i + 1]);
    if (n % 2 == 1)
        memmove(level[out++], level[n - 1], CN_HASH_LEN);
    return out;
}

int cn_merkle_root(uint8_t root[CN_HASH_LEN], const uint8_t (*leaves)[CN_HASH_LEN],
                   uint64_t count, uint8_t (*scratch)[CN_HASH_LEN]) {
    if (count > (UINT64_C(1) << CN_MERKLE_MAX_DEPTH))
        return 0;
    if (count == 0) {
        cn_hash_tagged(root, CN_TAG_MERKLE_EMPTY, NULL, 0);
        return 1;
    }
    if (scratch != leaves)
        memmove(scratch, leaves, (size_t)count * CN_HASH_LEN);
    uint64_t n = count;
    while (n > 1)
        n = reduce_level(scratch, n);
    memcpy(root, scratch[0], CN_HASH_LEN);
    return 1;
}

int cn_merkle_prove(cn_merkle_proof *proof, const uint8_t (*leaves)[CN_HASH_LEN],
                    uint64_t count, uint64_t index, uint8_t (*scratch)[CN_HASH_LEN]) {
    if (count > (UINT64_C(1) << CN_MERKLE_MAX_DEPTH) || index >= count)
        return 0;
    memset(proof, 0, sizeof *proof);
    proof->index = index;
    proof->count = count;
    if (scratch != leaves)
        memmove(scratch, leaves, (size_t)count * CN_HASH_LEN);
    uint64_t n = count, pos = index;
    while (n > 1) {
        uint64_t sib = pos ^ 1;
        if (sib < n) /* the last node of an odd level has no sibling: it is promoted */
            memcpy(proof->siblings[proof->n_siblings++], scratch[sib], CN_HASH_LEN);
        n = reduce_level(scratch, n);
        pos /= 2;
    }
    return 1;
}

int cn_merkle_verify(const cn_merkle_proof *proof, const uint8_t leaf[CN_HASH_LEN],
                     const uint8_t root[CN_HASH_LEN]) {
    if (proof->count == 0 || proof->index >= proof->count ||
        proof->count > (UINT64_C(1) << CN_MERKLE_MAX_DEPTH) ||
        proof->n_siblings > CN_MERKLE_MAX_DEPTH)
        return 0;
    uint8_t cur[CN_HASH_LEN];
    memcpy(cur, leaf, CN_HASH_LEN);
    uint64_t n = proof->count, pos = proof->index;
    uint32_t used = 0;
    while (n > 1) {
        uint64_t sib = pos ^ 1;
        if (sib < n) {
            if (used >= proof->n_siblings)
                return 0;
            if (pos & 1)
                cn_hash_pair(cur, CN_TAG_MERKLE_NODE, proof->siblings[used], cur);
            else
                cn_hash_pair(cur, CN_TAG_MERKLE_NODE, cur, proof->siblings[used]);
            used++;
        }
        n = (n + 1) / 2;
        pos /= 2;
    }
    if (used != proof->n_siblings)
        return 0;
    return sodium_memcmp(cur, root, CN_HASH_LEN) == 0;
}
