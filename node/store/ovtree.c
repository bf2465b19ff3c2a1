/* The write batch's AVL overlay (see ovtree.h). */
#include "node/store/ovtree.h"

#include <stdlib.h>
#include <string.h>

/* LMDB's default order: memcmp over the common length, then the shorter key first. */
int cn_ovt_key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

static int ov_height(const ov_node *n) { return n ? n->height : 0; }

static void ov_fix(ov_node *n) {
    int l = ov_height(n->kid[0]), r = ov_height(n->kid[1]);
    n->height = 1 + (l > r ? l : r);
}

/* Rotates so that kid[d] becomes the subtree root. */
static ov_node *ov_rotate(ov_node *n, int d) {
    ov_node *k = n->kid[d];
    n->kid[d] = k->kid[!d];
    k->kid[!d] = n;
    ov_fix(n);
    ov_fix(k);
    return k;
}

static ov_node *ov_balance(ov_node *n) {
    ov_fix(n);
    int bf = ov_height(n->kid[1]) - ov_height(n->kid[0]);
    if (bf > 1 || bf < -1) {
        int d = bf > 1 ? 1 : 0;
        ov_node *k = n->kid[d];
        if (ov_height(k->kid[!d]) > ov_height(k->kid[d]))
            n->kid[d] = ov_rotate(k, !d);
        n = ov_rotate(n, d);
    }
    return n;
}

/* Inserts `nn`, whose key is not in the tree. Recursion depth is the tree height (< 64). */
ov_node *cn_ovt_insert(ov_node *n, ov_node *nn) {
    if (!n)
        return nn;
    int d = cn_ovt_key_cmp(nn->key, nn->klen, n->key, n->klen) > 0;
    n->kid[d] = cn_ovt_insert(n->kid[d], nn);
    return ov_balance(n);
}

ov_node *cn_ovt_find(ov_node *n, const uint8_t *k, size_t klen) {
    while (n) {
        int c = cn_ovt_key_cmp(k, klen, n->key, n->klen);
        if (c == 0)
            return n;
        n = n->kid[c > 0];
    }
    return NULL;
}

/* Smallest node with key > k (strict) or >= k; k NULL means the first node. */
ov_node *cn_ovt_ceil(ov_node *n, const uint8_t *k, size_t klen, int strict) {
    ov_node *best = NULL;
    while (n) {
        int c = k ? cn_ovt_key_cmp(n->key, n->klen, k, klen) : 1;
        if (c > 0 || (c == 0 && !strict)) {
            best = n;
            n = n->kid[0];
        } else {
            n = n->kid[1];
        }
    }
    return best;
}

/* Largest node with key < k (strict) or <= k; k NULL means the last node. */
ov_node *cn_ovt_floor(ov_node *n, const uint8_t *k, size_t klen, int strict) {
    ov_node *best = NULL;
    while (n) {
        int c = k ? cn_ovt_key_cmp(n->key, n->klen, k, klen) : -1;
        if (c < 0 || (c == 0 && !strict)) {
            best = n;
            n = n->kid[1];
        } else {
            n = n->kid[0];
        }
    }
    return best;
}

void cn_ovt_free(ov_node *n) {
    while (n) {
        cn_ovt_free(n->kid[0]);
        ov_node *r = n->kid[1];
        free(n->val);
        free(n);
        n = r;
    }
}

