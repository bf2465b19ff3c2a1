/* Merkle sum tree: the worked example of docs/reserves.md (tests/vectors/reserves.txt, computed
 * independently in Python) reproduced byte for byte, every leaf's proof for many tree sizes,
 * sorting, duplicate and order detection, bounds, and the wire round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/encoding.h"
#include "crypto/schnorr.h"
#include "crypto/sumtree.h"
#include "crypto/sumtree_pb.h"
#include "proto/codec.h"

static const char *const ASSETS2[] = {"AAPL", "USD"};

static int setup(void **state) {
    (void)state;
    return cn_crypto_init() ? 0 : -1;
}

/* ---- the worked example ------------------------------------------------------------------ */

#define VMAX 3
typedef struct {
    uint8_t pub[VMAX][32], secret[VMAX][32], ahash[VMAX][32], salt[VMAX][32];
    uint64_t bal[VMAX][2];
} vec_accounts;

static void hex32(uint8_t out[32], const char *hex) {
    assert_true(cn_hex_decode_exact(out, 32, hex));
}

static void test_vectors(void **state) {
    (void)state;
    FILE *f = fopen("tests/vectors/reserves.txt", "r");
    if (!f)
        fail_msg("cannot open tests/vectors/reserves.txt");
    vec_accounts v;
    memset(&v, 0, sizeof v);
    cn_sumtree *t = NULL;
    cn_por_params p = {"clearnode-test", 7, 2, ASSETS2};
    char line[8192];
    int nodes = 0, proofs = 0, roots = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char key[32], a[4096], b[4096], c[256];
        unsigned r, lvl, idx;
        if (line[0] == '#' || sscanf(line, "%31s", key) != 1)
            continue;
        if (strcmp(key, "account") == 0) {
            assert_int_equal(sscanf(line, "account %u %4095s %4095s %255s", &r, a, b, c), 4);
            assert_true(r < VMAX);
            hex32(v.pub[r], a);
            hex32(v.secret[r], b);
            unsigned long long x, y;
            assert_int_equal(sscanf(c, "%llu,%llu", &x, &y), 2);
            v.bal[r][0] = x;
            v.bal[r][1] = y;
            cn_por_account_hash(v.ahash[r], 7, v.pub[r]);
            cn_por_salt(v.salt[r], v.secret[r], 7, v.pub[r]);
        } else if (strcmp(key, "account_hash") == 0 || strcmp(key, "salt") == 0) {
            uint8_t want[32];
            assert_int_equal(sscanf(line, "%*s %u %4095s", &r, a), 2);
            hex32(want, a);
            assert_memory_equal(key[0] == 'a' ? v.ahash[r] : v.salt[r], want, 32);
        } else if (strcmp(key, "params") == 0) {
            uint8_t want[32], got[32];
            hex32(want, line + 7);
            assert_int_equal(cn_por_params_digest(got, &p, 3, 4), CN_POR_OK);
            assert_memory_equal(got, want, 32);
            /* Build the tree now that all accounts are known. */
            cn_sumtree_input in = {3, &v.ahash[0][0], &v.salt[0][0], &v.bal[0][0]};
            assert_int_equal(cn_sumtree_build(&t, &p, &in, 0, NULL), CN_POR_OK);
            assert_int_equal(cn_sumtree_depth(t), 4);
        } else if (strcmp(key, "order") == 0) {
            unsigned o[3];
            assert_int_equal(sscanf(line, "order %u,%u,%u", &o[0], &o[1], &o[2]), 3);
            for (unsigned i = 0; i < 3; i++)
                assert_int_equal(cn_sumtree_origin(t, i), o[i]);
        } else if (strcmp(key, "node") == 0) {
            unsigned long long s0, s1;
            assert_int_equal(sscanf(line, "node %u %u %4095s %llu,%llu", &lvl, &idx, a, &s0, &s1),
                             5);
            uint8_t want[32];
            hex32(want, a);
            /* Every node is checked through the proofs below; here the leaves themselves. */
            if (lvl == 0 && idx < 3) {
                uint8_t got[32];
                const uint64_t *bal = cn_sumtree_leaf_balances(t, idx);
                cn_por_leaf(got, 7, cn_sumtree_leaf_account(t, idx), cn_sumtree_leaf_salt(t, idx),
                            2, bal);
                assert_memory_equal(got, want, 32);
                assert_true(bal[0] == s0 && bal[1] == s1);
            } else if (lvl == 0) {
                uint8_t got[32];
                cn_por_pad_leaf(got, 7, idx);
                assert_memory_equal(got, want, 32);
            }
            nodes++;
        } else if (strcmp(key, "root") == 0) {
            uint8_t want[32], got[32];
            hex32(want, line + 5);
            cn_sumtree_root(t, got);
            assert_memory_equal(got, want, 32);
            roots++;
        } else if (strcmp(key, "totals") == 0) {
            cn_u128 tot[2];
            cn_sumtree_totals(t, tot);
            assert_true(tot[0] == 142 && tot[1] == 3200);
            assert_string_equal(line, "totals 142,3200");
        } else if (strcmp(key, "proof") == 0) {
            static uint8_t want[16384];
            size_t wlen;
            assert_int_equal(sscanf(line, "proof %u %4095s", &r, a), 2);
            const char *hex = strchr(line + 6, ' ') + 1;
            assert_true(cn_hex_decode(want, sizeof want, &wlen, hex, strlen(hex)));
            uint8_t ah[32];
            uint64_t pos;
            cn_por_account_hash(ah, 7, v.pub[r]);
            assert_true(cn_sumtree_find(t, ah, &pos));
            cn_por_proof *pr = malloc(sizeof *pr);
            cn_por_proof_pb *pb = malloc(sizeof *pb);
            assert_non_null(pr);
            assert_non_null(pb);
            assert_int_equal(cn_sumtree_prove(t, pos, v.pub[r], 42, pr), CN_POR_OK);
            cn_por_proof_to_pb(pb, pr);
            uint8_t *enc;
            size_t elen;
            assert_true(cn_encode(&pb->msg.base, CN_CAP_RESERVES_PROOF, &enc, &elen));
            assert_int_equal(elen, wlen);
            assert_memory_equal(enc, want, wlen);
            /* And the independent bytes decode and verify. */
            cn_pb dec;
            assert_int_equal(cn_decode(CN_MSG_RESERVES_PROOF, want, wlen, &dec), CN_DECODE_OK);
            assert_int_equal(cn_por_proof_from_pb(pr, (Clearnode__V1__ReservesProof *)dec.msg,
                                                  NULL),
                             CN_POR_OK);
            uint8_t root[32];
            cn_sumtree_root(t, root);
            assert_int_equal(cn_por_verify(pr, root, NULL), CN_POR_OK);
            cn_pb_free(&dec);
            free(enc);
            free(pr);
            free(pb);
            proofs++;
        }
    }
    fclose(f);
    assert_int_equal(nodes, 31);
    assert_int_equal(roots, 1);
    assert_int_equal(proofs, 3);
    cn_sumtree_free(t);
}

/* ---- generated trees --------------------------------------------------------------------- */

typedef struct {
    uint64_t n;
    uint32_t k;
    uint8_t *pub, *ahash, *salt;
    uint64_t *bal;
} accounts;

static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void make_accounts(accounts *a, uint64_t n, uint32_t k, uint64_t epoch, uint64_t max) {
    a->n = n;
    a->k = k;
    a->pub = malloc(n * 32);
    a->ahash = malloc(n * 32);
    a->salt = malloc(n * 32);
    a->bal = malloc(n * k * sizeof(uint64_t));
    assert_true(a->pub && a->ahash && a->salt && a->bal);
    for (uint64_t i = 0; i < n; i++) {
        uint8_t secret[32];
        for (int b = 0; b < 32; b++) {
            a->pub[i * 32 + (uint64_t)b] = (uint8_t)rnd();
            secret[b] = (uint8_t)rnd();
        }
        cn_por_account_hash(a->ahash + i * 32, epoch, a->pub + i * 32);
        cn_por_salt(a->salt + i * 32, secret, epoch, a->pub + i * 32);
        for (uint32_t j = 0; j < k; j++)
            a->bal[i * k + j] = max ? rnd() % (max + 1) : 0;
    }
}

static void free_accounts(accounts *a) {
    free(a->pub);
    free(a->ahash);
    free(a->salt);
    free(a->bal);
}

static const char *const ASSETS4[] = {"AAPL", "MSFT", "TSLA", "USD"};

static void test_all_proofs(void **state) {
    (void)state;
    cn_por_proof *pr = malloc(sizeof *pr);
    assert_non_null(pr);
    const uint64_t sizes[] = {1, 2, 3, 15, 16, 17, 31, 32, 33, 100};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        accounts a;
        uint64_t n = sizes[s];
        make_accounts(&a, n, 4, 3, CN_POR_LEAF_MAX);
        cn_por_params p = {"chain-x", 3, 4, ASSETS4};
        cn_sumtree_input in = {n, a.ahash, a.salt, a.bal};
        cn_sumtree *t;
        assert_int_equal(cn_sumtree_build(&t, &p, &in, 0, NULL), CN_POR_OK);
        assert_int_equal(cn_sumtree_depth(t), cn_por_depth_for(n));
        assert_int_equal(cn_sumtree_leaf_count(t), n);
        cn_u128 tot[4] = {0, 0, 0, 0}, got[4];
        for (uint64_t i = 0; i < n; i++)
            for (int j = 0; j < 4; j++)
                tot[j] += a.bal[i * 4 + (uint64_t)j];
        cn_sumtree_totals(t, got);
        assert_memory_equal(tot, got, sizeof tot);
        uint8_t root[32];
        cn_sumtree_root(t, root);
        for (uint64_t i = 0; i < n; i++) {
            /* Leaves are in strictly increasing account-hash order. */
            if (i)
                assert_true(memcmp(cn_sumtree_leaf_account(t, i - 1),
                                   cn_sumtree_leaf_account(t, i), 32) < 0);
            uint64_t row = cn_sumtree_origin(t, i);
            assert_int_equal(cn_sumtree_prove(t, i, a.pub + row * 32, 9, pr), CN_POR_OK);
            assert_int_equal(cn_por_verify(pr, root, NULL), CN_POR_OK);
            /* Flip one bit anywhere in the path: rejected. */
            uint32_t l = (uint32_t)(rnd() % pr->depth);
            pr->path[l].hash[rnd() % 32] ^= 1;
            assert_int_not_equal(cn_por_verify(pr, root, NULL), CN_POR_OK);
        }
        /* The wrong key for a leaf is refused. */
        uint64_t row0 = cn_sumtree_origin(t, 0);
        if (n > 1)
            assert_int_equal(cn_sumtree_prove(t, 0, a.pub + ((row0 + 1) % n) * 32, 9, pr),
                             CN_POR_E_ACCOUNT_MISMATCH);
        assert_int_equal(cn_sumtree_prove(t, n, a.pub, 9, pr), CN_POR_E_INDEX);
        /* Rebuilding from the tree's own order with PRESORTED gives the same root. */
        uint8_t *ah2 = malloc(n * 32), *s2 = malloc(n * 32);
        uint64_t *b2 = malloc(n * 4 * sizeof(uint64_t));
        for (uint64_t i = 0; i < n; i++) {
            memcpy(ah2 + i * 32, cn_sumtree_leaf_account(t, i), 32);
            memcpy(s2 + i * 32, cn_sumtree_leaf_salt(t, i), 32);
            memcpy(b2 + i * 4, cn_sumtree_leaf_balances(t, i), 32);
        }
        cn_sumtree_input in2 = {n, ah2, s2, b2};
        cn_sumtree *t2;
        uint8_t root2[32];
        assert_int_equal(cn_sumtree_build(&t2, &p, &in2, CN_SUMTREE_PRESORTED, NULL), CN_POR_OK);
        cn_sumtree_root(t2, root2);
        assert_memory_equal(root, root2, 32);
        cn_sumtree_free(t2);
        if (n > 1) {
            /* Swapping two leaves breaks the order. */
            uint8_t tmp[32];
            memcpy(tmp, ah2, 32);
            memcpy(ah2, ah2 + 32, 32);
            memcpy(ah2 + 32, tmp, 32);
            cn_por_where w;
            assert_int_equal(cn_sumtree_build(&t2, &p, &in2, CN_SUMTREE_PRESORTED, &w),
                             CN_POR_E_UNSORTED);
            assert_null(t2);
            assert_int_equal(w.leaf, 1);
        }
        free(ah2);
        free(s2);
        free(b2);
        cn_sumtree_free(t);
        free_accounts(&a);
    }
    free(pr);
}

static void test_build_errors(void **state) {
    (void)state;
    accounts a;
    make_accounts(&a, 5, 2, 1, 1000);
    cn_por_params p = {"chain-x", 1, 2, ASSETS2};
    cn_sumtree_input in = {5, a.ahash, a.salt, a.bal};
    cn_sumtree *t = (cn_sumtree *)1;
    cn_por_where w;
    /* Over-bound balance (a negative int64 seen as u64 lands here too). */
    a.bal[3 * 2 + 1] = (uint64_t)INT64_MAX + 1;
    assert_int_equal(cn_sumtree_build(&t, &p, &in, 0, &w), CN_POR_E_BALANCE_BOUND);
    assert_null(t);
    assert_int_equal(w.leaf, 3);
    assert_int_equal(w.asset, 1);
    a.bal[3 * 2 + 1] = (uint64_t)INT64_MAX; /* the bound itself is allowed */
    assert_int_equal(cn_sumtree_build(&t, &p, &in, 0, NULL), CN_POR_OK);
    cn_sumtree_free(t);
    /* Two users sharing an account hash (different salts): duplicate account. */
    memcpy(a.ahash + 4 * 32, a.ahash + 1 * 32, 32);
    assert_int_equal(cn_sumtree_build(&t, &p, &in, 0, &w), CN_POR_E_DUP_ACCOUNT);
    /* The same leaf twice: duplicate leaf. */
    memcpy(a.salt + 4 * 32, a.salt + 1 * 32, 32);
    memcpy(a.bal + 4 * 2, a.bal + 1 * 2, 16);
    assert_int_equal(cn_sumtree_build(&t, &p, &in, 0, &w), CN_POR_E_DUP_LEAF);
    /* Parameters. */
    in.n = 0;
    assert_int_equal(cn_sumtree_build(&t, &p, &in, 0, NULL), CN_POR_E_LEAF_COUNT);
    in.n = 3;
    const char *bad_assets[] = {"AAPL", "AAPL"};
    cn_por_params q = {"chain-x", 1, 2, bad_assets};
    assert_int_equal(cn_sumtree_build(&t, &q, &in, 0, NULL), CN_POR_E_ASSET_DUP);
    const char *low[] = {"aapl", "USD"};
    q.assets = low;
    assert_int_equal(cn_sumtree_build(&t, &q, &in, 0, NULL), CN_POR_E_ASSET_NAME);
    q.assets = ASSETS2;
    q.n_assets = 0;
    assert_int_equal(cn_sumtree_build(&t, &q, &in, 0, NULL), CN_POR_E_ASSET_COUNT);
    q.n_assets = CN_POR_MAX_ASSETS + 1;
    assert_int_equal(cn_sumtree_build(&t, &q, &in, 0, NULL), CN_POR_E_ASSET_COUNT);
    q.n_assets = 2;
    q.chain_id = "";
    assert_int_equal(cn_sumtree_build(&t, &q, &in, 0, NULL), CN_POR_E_CHAIN_ID);
    q.chain_id = "bad chain";
    assert_int_equal(cn_sumtree_build(&t, &q, &in, 0, NULL), CN_POR_E_CHAIN_ID);
    free_accounts(&a);
}

static void test_depth_and_bounds(void **state) {
    (void)state;
    assert_int_equal(cn_por_depth_for(0), 0);
    assert_int_equal(cn_por_depth_for(1), 4);
    assert_int_equal(cn_por_depth_for(16), 4);
    assert_int_equal(cn_por_depth_for(17), 5);
    assert_int_equal(cn_por_depth_for(1000000), 20);
    assert_int_equal(cn_por_depth_for(UINT64_C(1) << 32), 0);
    assert_int_equal(cn_por_depth_for(CN_POR_MAX_LEAVES), 32);
    assert_true(cn_por_level_bound(0) == (cn_u128)INT64_MAX);
    assert_true(cn_por_level_bound(3) == (cn_u128)INT64_MAX * 8);
    char dec[CN_POR_DEC_MAX + 1];
    cn_u128 max = ~(cn_u128)0, v;
    cn_por_u128_to_dec(dec, max);
    assert_string_equal(dec, "340282366920938463463374607431768211455");
    assert_true(cn_por_u128_from_dec(&v, dec) && v == max);
    assert_false(cn_por_u128_from_dec(&v, "340282366920938463463374607431768211456"));
    assert_false(cn_por_u128_from_dec(&v, "01"));
    assert_false(cn_por_u128_from_dec(&v, "-1"));
    assert_false(cn_por_u128_from_dec(&v, ""));
    cn_por_u128_to_dec(dec, 0);
    assert_string_equal(dec, "0");
    for (int e = 0; e < CN_POR_ERR_COUNT; e++) {
        assert_string_not_equal(cn_por_code((cn_por_err)e), "unknown");
        for (int f = 0; f < e; f++)
            assert_string_not_equal(cn_por_code((cn_por_err)e), cn_por_code((cn_por_err)f));
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_all_proofs),
        cmocka_unit_test(test_build_errors),
        cmocka_unit_test(test_depth_and_bounds),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
