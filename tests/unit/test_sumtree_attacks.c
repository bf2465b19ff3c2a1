/* Attacks on the proof of reserves, each of which must be rejected with its own error:
 * Maxwell's max-sibling attack, negative and over-bound balances, a sibling sum above its
 * level's bound, leaf/node confusion, a duplicated last leaf, fake padding, two users sharing
 * a leaf, a root that differs from the on-chain one, forged totals and cross-asset netting.
 * Malicious trees are built by hand here (the library refuses to build them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/schnorr.h"
#include "crypto/sumtree.h"

#define D 4
#define SLOTS (1u << D)
#define K 2

static const char *const ASSETS[] = {"AAPL", "USD"};
static const cn_por_params P = {"clearnode-test", 5, K, ASSETS};

static int setup(void **state) {
    (void)state;
    return cn_crypto_init() ? 0 : -1;
}

/* A hand-built tree: level 0 given, levels above hashed by `node` (ours or a flawed one). */
typedef void (*node_fn)(uint8_t out[32], const uint8_t params[32], uint32_t level,
                        const uint8_t hl[32], const cn_u128 *sl, const uint8_t hr[32],
                        const cn_u128 *sr, uint32_t k);
typedef struct {
    uint8_t params[32];
    uint8_t h[D + 1][SLOTS][32];
    cn_u128 s[D + 1][SLOTS][K];
} hand_tree;

typedef struct {
    uint8_t pub[32];
    uint8_t salt[32];
    uint64_t bal[K];
} user;

static void make_user(user *u, uint8_t tag, uint64_t b0, uint64_t b1) {
    memset(u->pub, tag, 32);
    memset(u->salt, (uint8_t)(tag ^ 0x5a), 32);
    u->bal[0] = b0;
    u->bal[1] = b1;
}

static void set_user_leaf(hand_tree *t, uint32_t slot, const user *u) {
    uint8_t ah[32];
    cn_por_account_hash(ah, P.epoch, u->pub);
    cn_por_leaf(t->h[0][slot], P.epoch, ah, u->salt, K, u->bal);
    for (int a = 0; a < K; a++)
        t->s[0][slot][a] = u->bal[a];
}

static void set_pad(hand_tree *t, uint32_t from) {
    for (uint32_t i = from; i < SLOTS; i++) {
        cn_por_pad_leaf(t->h[0][i], P.epoch, i);
        memset(t->s[0][i], 0, sizeof t->s[0][i]);
    }
}

static void hash_up(hand_tree *t, uint64_t leaf_count, node_fn node) {
    assert_int_equal(cn_por_params_digest(t->params, &P, leaf_count, D), CN_POR_OK);
    for (uint32_t l = 1; l <= D; l++)
        for (uint32_t j = 0; j < (SLOTS >> l); j++) {
            node(t->h[l][j], t->params, l, t->h[l - 1][2 * j], t->s[l - 1][2 * j],
                 t->h[l - 1][2 * j + 1], t->s[l - 1][2 * j + 1], K);
            for (int a = 0; a < K; a++)
                t->s[l][j][a] = t->s[l - 1][2 * j][a] + t->s[l - 1][2 * j + 1][a];
        }
}

static void proof_of(cn_por_proof *p, const hand_tree *t, uint32_t slot, const user *u,
                     uint64_t leaf_count) {
    memset(p, 0, sizeof *p);
    strcpy(p->chain_id, P.chain_id);
    p->epoch = P.epoch;
    p->depth = D;
    p->leaf_count = leaf_count;
    p->leaf_index = slot;
    memcpy(p->account, u->pub, 32);
    memcpy(p->salt, u->salt, 32);
    p->n_assets = K;
    for (int a = 0; a < K; a++) {
        strcpy(p->assets[a], ASSETS[a]);
        p->balances[a] = u->bal[a];
        p->totals[a] = t->s[D][0][a];
    }
    p->n_path = D;
    for (uint32_t l = 0; l < D; l++) {
        uint32_t s = (slot >> l) ^ 1;
        memcpy(p->path[l].hash, t->h[l][s], 32);
        memcpy(p->path[l].sums, t->s[l][s], sizeof t->s[l][s]);
    }
    memcpy(p->root, t->h[D][0], 32);
}

/* An honest 3-user tree and a proof for user `which`. */
static void honest(hand_tree *t, user us[3], cn_por_proof *p, uint32_t which) {
    make_user(&us[0], 0x11, 100, 2500);
    make_user(&us[1], 0x22, 0, 700);
    make_user(&us[2], 0x33, 42, 0);
    for (uint32_t i = 0; i < 3; i++)
        set_user_leaf(t, i, &us[i]); /* slot order is irrelevant to a single proof */
    set_pad(t, 3);
    hash_up(t, 3, cn_por_node);
    proof_of(p, t, which, &us[which], 3);
    assert_int_equal(cn_por_verify(p, t->h[D][0], NULL), CN_POR_OK);
}

typedef struct {
    hand_tree t;
    user us[3];
    cn_por_proof p;
} fixture;

static fixture *fx(void) {
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    return f;
}

/* Maxwell's original node hashes only the total: H(total || hL || hR). */
static void maxwell_node(uint8_t out[32], const uint8_t params[32], uint32_t level,
                         const uint8_t hl[32], const cn_u128 *sl, const uint8_t hr[32],
                         const cn_u128 *sr, uint32_t k) {
    (void)params;
    (void)level;
    cn_hasher h;
    cn_hasher_start_named(&h, "test/maxwell");
    for (uint32_t a = 0; a < k; a++) {
        uint8_t b[16];
        cn_por_put_u128(b, sl[a] + sr[a]);
        cn_hasher_update(&h, b, 16);
    }
    cn_hasher_update(&h, hl, 32);
    cn_hasher_update(&h, hr, 32);
    cn_hasher_finish(&h, out);
}

/* Maxwell's verifier: walks up with the claimed sibling sums, hashing only totals. */
static int maxwell_verify(const cn_por_proof *p) {
    uint8_t ah[32], cur[32];
    cn_u128 s[K];
    cn_por_account_hash(ah, p->epoch, p->account);
    cn_por_leaf(cur, p->epoch, ah, p->salt, K, p->balances);
    for (int a = 0; a < K; a++)
        s[a] = p->balances[a];
    for (uint32_t l = 0; l < p->depth; l++) {
        uint8_t next[32];
        const cn_por_step *st = &p->path[l];
        if ((p->leaf_index >> l) & 1)
            maxwell_node(next, NULL, l + 1, st->hash, st->sums, cur, s, K);
        else
            maxwell_node(next, NULL, l + 1, cur, s, st->hash, st->sums, K);
        for (int a = 0; a < K; a++)
            s[a] += st->sums[a];
        memcpy(cur, next, 32);
    }
    return memcmp(cur, p->root, 32) == 0;
}

static void test_maxwell_max_sibling(void **state) {
    (void)state;
    /* Two users with 100 AAPL each; the prover commits a total of only 100 by telling each
     * user that the other holds 0. With totals-only hashing both proofs verify. */
    fixture *f = fx();
    user a, b;
    make_user(&a, 0x41, 100, 0);
    make_user(&b, 0x42, 100, 0);
    set_user_leaf(&f->t, 0, &a);
    set_user_leaf(&f->t, 1, &b);
    set_pad(&f->t, 2);
    hash_up(&f->t, 2, maxwell_node); /* honest sums: total 200 */
    /* Forge: sibling sums per user adjusted so the parent total reads 100. */
    cn_por_proof *pa = malloc(sizeof *pa), *pb = malloc(sizeof *pb);
    assert_true(pa && pb);
    hand_tree *forged = &f->t;
    forged->s[0][0][0] = 0; /* what B is told about A */
    forged->s[0][1][0] = 100;
    uint8_t ha[32], hb[32];
    memcpy(ha, forged->h[0][0], 32);
    memcpy(hb, forged->h[0][1], 32);
    /* Level 1 node for both: total 100. */
    maxwell_node(forged->h[1][0], NULL, 1, ha, forged->s[0][0], hb, forged->s[0][1], K);
    forged->s[1][0][0] = 100;
    for (uint32_t l = 2; l <= D; l++) {
        maxwell_node(forged->h[l][0], NULL, l, forged->h[l - 1][0], forged->s[l - 1][0],
                     forged->h[l - 1][1], forged->s[l - 1][1], K);
        for (int x = 0; x < K; x++)
            forged->s[l][0][x] = forged->s[l - 1][0][x] + forged->s[l - 1][1][x];
    }
    proof_of(pb, forged, 1, &b, 2); /* B sees sibling A with 0 */
    forged->s[0][0][0] = 100;
    forged->s[0][1][0] = 0;
    proof_of(pa, forged, 0, &a, 2); /* A sees sibling B with 0 */
    assert_true(maxwell_verify(pa) && maxwell_verify(pb));
    assert_true(pa->totals[0] == 100 && pb->totals[0] == 100);
    /* Our verifier hashes both children's sums: neither proof holds. */
    assert_int_equal(cn_por_verify(pa, NULL, NULL), CN_POR_E_ROOT_MISMATCH);
    assert_int_equal(cn_por_verify(pb, NULL, NULL), CN_POR_E_ROOT_MISMATCH);

    /* The same trick against an honest tree of ours: lowering the sibling's sums (and the
     * totals to match) changes the parent hash. */
    honest(&f->t, f->us, &f->p, 0);
    cn_por_where w;
    f->p.path[0].sums[1] -= 700;
    f->p.totals[1] -= 700;
    assert_int_equal(cn_por_verify(&f->p, NULL, &w), CN_POR_E_ROOT_MISMATCH);
    assert_int_equal(w.level, D);
    free(pa);
    free(pb);
    free(f);
}

static void test_balance_bounds(void **state) {
    (void)state;
    fixture *f = fx();
    honest(&f->t, f->us, &f->p, 2);
    cn_por_where w;
    f->p.balances[1] = (uint64_t)-5; /* a negative claim as it arrives in a uint64 field */
    assert_int_equal(cn_por_verify(&f->p, NULL, &w), CN_POR_E_BALANCE_BOUND);
    assert_int_equal(w.asset, 1);
    f->p.balances[1] = (uint64_t)INT64_MAX + 1;
    assert_int_equal(cn_por_verify(&f->p, NULL, NULL), CN_POR_E_BALANCE_BOUND);
    free(f);
}

static void test_sibling_over_bound(void **state) {
    (void)state;
    fixture *f = fx();
    /* A sibling at level 1 claims 2 * (2^63-1) + 1 in USD: impossible for 2 leaves. */
    honest(&f->t, f->us, &f->p, 0);
    cn_por_where w;
    f->p.path[1].sums[1] = cn_por_level_bound(1) + 1;
    assert_int_equal(cn_por_verify(&f->p, NULL, &w), CN_POR_E_SIBLING_BOUND);
    assert_int_equal(w.level, 1);
    assert_int_equal(w.asset, 1);
    /* Exactly at the bound passes the bound check (and then fails the hash). */
    f->p.path[1].sums[1] = cn_por_level_bound(1);
    assert_int_equal(cn_por_verify(&f->p, NULL, NULL), CN_POR_E_ROOT_MISMATCH);
    /* A "negative" sibling (two's complement in u128) is far above any bound. */
    f->p.path[1].sums[0] = (cn_u128)0 - 100;
    assert_int_equal(cn_por_verify(&f->p, NULL, NULL), CN_POR_E_SIBLING_BOUND);
    free(f);
}

static void test_leaf_node_confusion(void **state) {
    (void)state;
    fixture *f = fx();
    honest(&f->t, f->us, &f->p, 0);
    /* Present the level-1 node as if it were a leaf: one step fewer than the depth. */
    cn_por_proof *p = &f->p;
    memmove(&p->path[0], &p->path[1], (D - 1) * sizeof p->path[0]);
    p->n_path = D - 1;
    assert_int_equal(cn_por_verify(p, NULL, NULL), CN_POR_E_PATH_LENGTH);
    /* ... claiming a shallower tree than the leaf count allows. */
    p->depth = D - 1;
    assert_int_equal(cn_por_verify(p, NULL, NULL), CN_POR_E_DEPTH_RANGE);
    /* Node bytes hashed as a leaf never give the node: different tags. */
    uint8_t node[32], as_leaf[32], pre[32 + 4 + 2 * (32 + 16 * K)];
    memcpy(pre, f->t.params, 32);
    pre[32] = pre[33] = pre[34] = 0;
    pre[35] = 1;
    memcpy(pre + 36, f->t.h[0][0], 32);
    cn_por_put_u128(pre + 68, f->t.s[0][0][0]);
    cn_por_put_u128(pre + 84, f->t.s[0][0][1]);
    memcpy(pre + 100, f->t.h[0][1], 32);
    cn_por_put_u128(pre + 132, f->t.s[0][1][0]);
    cn_por_put_u128(pre + 148, f->t.s[0][1][1]);
    cn_hash_tagged(node, CN_TAG_POR_NODE, pre, sizeof pre);
    assert_memory_equal(node, f->t.h[1][0], 32);
    cn_hash_tagged(as_leaf, CN_TAG_POR_LEAF, pre, sizeof pre);
    assert_memory_not_equal(node, as_leaf, 32);
    /* With 17 leaves the depth must be 5: a proof claiming depth 4 breaks the depth rule. */
    honest(&f->t, f->us, &f->p, 0);
    f->p.leaf_count = 17;
    assert_int_equal(cn_por_verify(&f->p, NULL, NULL), CN_POR_E_DEPTH_RULE);
    free(f);
}

static void test_duplicated_last_leaf(void **state) {
    (void)state;
    fixture *f = fx();
    /* Three users; slot 3 (padding) filled with a copy of slot 2, as in CVE-2012-2459. */
    make_user(&f->us[0], 0x11, 100, 2500);
    make_user(&f->us[1], 0x22, 0, 700);
    make_user(&f->us[2], 0x33, 42, 0);
    for (uint32_t i = 0; i < 3; i++)
        set_user_leaf(&f->t, i, &f->us[i]);
    set_pad(&f->t, 3);
    set_user_leaf(&f->t, 3, &f->us[2]);
    hash_up(&f->t, 3, cn_por_node);
    proof_of(&f->p, &f->t, 2, &f->us[2], 3);
    cn_por_where w;
    assert_int_equal(cn_por_verify(&f->p, NULL, &w), CN_POR_E_PAD_COPY);
    assert_int_equal(w.level, 0);
    free(f);
}

static void test_fake_padding(void **state) {
    (void)state;
    fixture *f = fx();
    user ghost;
    make_user(&ghost, 0x77, 0, 0);
    /* Padding slot 3 replaced by a real-looking zero leaf: not pad(epoch, 3). */
    make_user(&f->us[0], 0x11, 100, 2500);
    make_user(&f->us[1], 0x22, 0, 700);
    make_user(&f->us[2], 0x33, 42, 0);
    for (uint32_t i = 0; i < 3; i++)
        set_user_leaf(&f->t, i, &f->us[i]);
    set_pad(&f->t, 3);
    set_user_leaf(&f->t, 3, &ghost);
    hash_up(&f->t, 3, cn_por_node);
    proof_of(&f->p, &f->t, 2, &f->us[2], 3);
    assert_int_equal(cn_por_verify(&f->p, NULL, NULL), CN_POR_E_PAD_HASH);
    /* A padding subtree carrying a negative-offset trick: nonzero sums where only padding is. */
    set_pad(&f->t, 3);
    f->t.s[0][5][1] = 1;
    hash_up(&f->t, 3, cn_por_node);
    proof_of(&f->p, &f->t, 2, &f->us[2], 3);
    cn_por_where w;
    assert_int_equal(cn_por_verify(&f->p, NULL, &w), CN_POR_E_PAD_SUMS);
    assert_int_equal(w.level, 2);
    free(f);
}

static void test_shared_leaf(void **state) {
    (void)state;
    fixture *f = fx();
    /* Two users shown the same leaf: the leaf binds the account key, so the second user's
     * proof cannot rebuild it. */
    honest(&f->t, f->us, &f->p, 0);
    memcpy(f->p.account, f->us[1].pub, 32);
    assert_int_equal(cn_por_verify(&f->p, NULL, NULL), CN_POR_E_ROOT_MISMATCH);
    /* In the full leaf set, two leaves with one account hash are refused when building. */
    uint8_t ah[2][32], salt[2][32];
    uint64_t bal[2][K] = {{1, 2}, {3, 4}};
    cn_por_account_hash(ah[0], P.epoch, f->us[0].pub);
    memcpy(ah[1], ah[0], 32);
    memset(salt[0], 1, 32);
    memset(salt[1], 2, 32);
    cn_sumtree_input in = {2, &ah[0][0], &salt[0][0], &bal[0][0]};
    cn_sumtree *t;
    assert_int_equal(cn_sumtree_build(&t, &P, &in, 0, NULL), CN_POR_E_DUP_ACCOUNT);
    free(f);
}

static void test_root_not_on_chain(void **state) {
    (void)state;
    fixture *f = fx();
    honest(&f->t, f->us, &f->p, 1);
    uint8_t onchain[32];
    memcpy(onchain, f->t.h[D][0], 32);
    onchain[31] ^= 1;
    assert_int_equal(cn_por_verify(&f->p, onchain, NULL), CN_POR_E_ROOT_NOT_COMMITTED);
    /* Totals not matching the path. */
    f->p.totals[0] += 1;
    assert_int_equal(cn_por_verify(&f->p, NULL, NULL), CN_POR_E_TOTALS_MISMATCH);
    free(f);
}

static void test_cross_asset_netting(void **state) {
    (void)state;
    /* Liabilities 100 AAPL and 1,000 USD; reserves 50 AAPL and 1,000,000 USD. In USD value
     * the custodians hold far more than they owe, but AAPL is short: insolvent. */
    cn_u128 liab[K] = {100, 1000}, res[K] = {50, 1000000};
    uint32_t bad;
    assert_int_equal(cn_por_check_solvency(K, liab, res, &bad), CN_POR_E_INSOLVENT);
    assert_int_equal(bad, 0);
    res[0] = 100;
    assert_int_equal(cn_por_check_solvency(K, liab, res, &bad), CN_POR_OK);
    assert_int_equal(bad, UINT32_MAX);
}

static void test_errors_distinct(void **state) {
    (void)state;
    const cn_por_err errs[] = {
        CN_POR_E_ROOT_MISMATCH,     CN_POR_E_BALANCE_BOUND,  CN_POR_E_BALANCE_NEGATIVE,
        CN_POR_E_SIBLING_BOUND,     CN_POR_E_PATH_LENGTH,    CN_POR_E_PAD_COPY,
        CN_POR_E_DUP_ACCOUNT,       CN_POR_E_DUP_LEAF,       CN_POR_E_ROOT_NOT_COMMITTED,
        CN_POR_E_INSOLVENT,         CN_POR_E_PAD_HASH,       CN_POR_E_PAD_SUMS,
        CN_POR_E_TOTALS_MISMATCH,   CN_POR_E_DEPTH_RULE,
    };
    size_t n = sizeof errs / sizeof errs[0];
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            assert_int_not_equal(errs[i], errs[j]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_maxwell_max_sibling), cmocka_unit_test(test_balance_bounds),
        cmocka_unit_test(test_sibling_over_bound),  cmocka_unit_test(test_leaf_node_confusion),
        cmocka_unit_test(test_duplicated_last_leaf), cmocka_unit_test(test_fake_padding),
        cmocka_unit_test(test_shared_leaf),          cmocka_unit_test(test_root_not_on_chain),
        cmocka_unit_test(test_cross_asset_netting),  cmocka_unit_test(test_errors_distinct),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
