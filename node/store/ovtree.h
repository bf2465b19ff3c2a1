/* The write batch's overlay: one AVL tree per database, keyed by (bytes, length) in the order
 * LMDB sorts keys (memcmp over the common length, then the shorter key first). Internal to
 * node/store: a batch's puts and deletes live here until cn_store_commit applies them. */
#ifndef CLEARNODE_NODE_STORE_OVTREE_H
#define CLEARNODE_NODE_STORE_OVTREE_H

#include <stddef.h>
#include <stdint.h>

enum { OV_PUT = 1, OV_DEL = 2, OV_NOP = 3 }; /* NOP: put then deleted, absent before the batch */

typedef struct ov_node {
    struct ov_node *kid[2];
    uint8_t *val; /* malloc'd, NULL when vlen is 0 or the node is not a put */
    size_t vlen;
    int height;
    int state;
    size_t klen;
    uint8_t key[]; /* klen bytes */
} ov_node;

int cn_ovt_key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);
/* Inserts `nn`, whose key is not in the tree; returns the new root. */
ov_node *cn_ovt_insert(ov_node *n, ov_node *nn);
ov_node *cn_ovt_find(ov_node *n, const uint8_t *k, size_t klen);
/* Smallest node with key > k (strict) or >= k; k NULL means the first node. */
ov_node *cn_ovt_ceil(ov_node *n, const uint8_t *k, size_t klen, int strict);
/* Largest node with key < k (strict) or <= k; k NULL means the last node. */
ov_node *cn_ovt_floor(ov_node *n, const uint8_t *k, size_t klen, int strict);
void cn_ovt_free(ov_node *n);

#endif
