/* Merkle tree for tx roots: odd promotion, no duplication malleability, proofs for every leaf
 * of every size up to 70, and rejection of altered proofs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/merkle.h"
#include "crypto/schnorr.h"

static void make_leaves(uint8_t (*leaves)[32], size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint8_t data[8];
        for (int b = 0; b < 8; b++)
            data[b] = (uint8_t)(i >> (8 * b));
        cn_merkle_leaf(leaves[i], data, sizeof data);
    }
}

static void root_of(uint8_t root[32], uint8_t (*leaves)[32], size_t n) {
    uint8_t scratch[80][32];
    assert_true(cn_merkle_root(root, (const uint8_t(*)[32])leaves, n, scratch));
}

static void test_abc_vs_abcc(void **state) {
    (void)state;
    uint8_t l[4][32], r3[32], r4[32];
    make_leaves(l, 3);
    memcpy(l[3], l[2], 32);
    root_of(r3, l, 3);
    root_of(r4, l, 4);
    assert_memory_not_equal(r3, r4, 32);
}

static void test_structure(void **state) {
    (void)state;
    uint8_t l[3][32], ab[32], expect[32], root[32];
    make_leaves(l, 3);
    /* [a,b,c]: node(node(a,b), c) — c promoted, never hashed with itself. */
    cn_hash_pair(ab, CN_TAG_MERKLE_NODE, l[0], l[1]);
    cn_hash_pair(expect, CN_TAG_MERKLE_NODE, ab, l[2]);
    root_of(root, l, 3);
    assert_memory_equal(root, expect, 32);
    /* One leaf: the root is the leaf hash. */
    root_of(root, l, 1);
    assert_memory_equal(root, l[0], 32);
    /* Empty tree has its own tag. */
    uint8_t empty[32], tagged[32];
    root_of(empty, l, 0);
    cn_hash_tagged(tagged, CN_TAG_MERKLE_EMPTY, NULL, 0);
    assert_memory_equal(empty, tagged, 32);
}

static void test_leaf_is_not_node(void **state) {
    (void)state;
    /* A leaf whose data is the concatenation of two hashes must not equal their node. */
    uint8_t l[2][32], node[32], fake[32];
    uint8_t concat[64];
    make_leaves(l, 2);
    memcpy(concat, l[0], 32);
    memcpy(concat + 32, l[1], 32);
    cn_hash_pair(node, CN_TAG_MERKLE_NODE, l[0], l[1]);
    cn_merkle_leaf(fake, concat, 64);
    assert_memory_not_equal(node, fake, 32);
}

static void test_proofs_all_sizes(void **state) {
    (void)state;
    uint8_t leaves[70][32], scratch[70][32], root[32];
    make_leaves(leaves, 70);
    for (uint64_t n = 1; n <= 70; n++) {
        root_of(root, leaves, n);
        for (uint64_t i = 0; i < n; i++) {
            cn_merkle_proof p;
            assert_true(cn_merkle_prove(&p, (const uint8_t(*)[32])leaves, n, i, scratch));
            assert_true(cn_merkle_verify(&p, leaves[i], root));
            /* wrong leaf */
            assert_false(cn_merkle_verify(&p, leaves[(i + 1) % 70], root));
            /* wrong index */
            cn_merkle_proof q = p;
            q.index = (i + 1) % n;
            if (n > 1)
                assert_false(cn_merkle_verify(&q, leaves[i], root));
            /* altered sibling */
            if (p.n_siblings > 0) {
                q = p;
                q.siblings[0][5] ^= 0x40;
                assert_false(cn_merkle_verify(&q, leaves[i], root));
                /* a dropped sibling */
                q = p;
                q.n_siblings--;
                assert_false(cn_merkle_verify(&q, leaves[i], root));
            }
            /* an index outside the claimed tree, or an empty tree */
            q = p;
            q.index = n;
            assert_false(cn_merkle_verify(&q, leaves[i], root));
            q = p;
            q.count = 0;
            assert_false(cn_merkle_verify(&q, leaves[i], root));
        }
    }
    cn_merkle_proof p;
    assert_false(cn_merkle_prove(&p, (const uint8_t(*)[32])leaves, 5, 5, scratch));
}

int main(void) {
    assert_true(cn_crypto_init());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_abc_vs_abcc),
        cmocka_unit_test(test_structure),
        cmocka_unit_test(test_leaf_is_not_node),
        cmocka_unit_test(test_proofs_all_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
