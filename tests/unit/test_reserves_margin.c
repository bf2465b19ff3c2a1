/* The reserves epoch with the margin contract deployed (docs/reserves.md, "On chain"): a
 * client's margin cash is part of its claim on the cash asset, a loan counts 0 (never
 * negative, never netted against the ledger balance), open positions are not claims, and the
 * per-asset totals include the margin cash. The node reads the contract's "c" record; the
 * test checks that this is the non-negative part of the contract's own `cash` view, interest
 * included. A claim beyond the leaf bound is recorded as the bound and reported. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/bytes.h"
#include "node/app/margin.h"
#include "node/app/margin_store.h"
#include "node/app/reserves.h"
#include "node/app/state.h"
#include "node/contract/contract.h"
#include "tests/unit/chainkit.h"

#define USD(x) ((int64_t)(x) * 1000000)
#define T0 1700000000000ULL
#define NACC 6

static cn_genesis G;
static cn_overlay OV;
static uint8_t ACC[NACC][32];

/* chainkit's genesis with the margin contract (AAPL's house maintenance rate 25%), 0.1% loan
 * interest per block, 3-block reserves epochs. */
static int setup(void **st) {
    (void)st;
    if (!cn_crypto_init())
        return -1;
    char err[256], *j = tk_genesis_json_contracts(
                        "\"params\":{\"reserves\":{\"epoch_blocks\":3},\"margin\":{"
                        "\"initial_floor_bps\":2000,\"maintenance_floor_bps\":2000,"
                        "\"fee_bps\":0,\"interest_ppb\":1000000}},",
                        "[{\"name\":\"margin\",\"path\":\"margin.cas\"}]");
    int ok = cn_genesis_parse(&G, (const uint8_t *)j, strlen(j), "contracts", err, sizeof err);
    free(j);
    if (!ok) {
        fprintf(stderr, "genesis: %s\n", err);
        return -1;
    }
    cn_overlay_init(&OV, NULL);
    if (!cn_state_write_genesis(&OV, &G))
        return -1;
    cn_key key;
    cn_sk_named(&key, CN_SK_META, "time");
    if (!cn_state_put_i64(&OV, &key, (int64_t)T0))
        return -1;
    cn_oracle_asset A;
    if (cn_oracle_asset_get(&OV, "AAPL", &A) < 0)
        return -1;
    A.state = CN_OA_LIVE;
    A.price = USD(100);
    A.updated_at = T0;
    if (!cn_oracle_asset_put(&OV, "AAPL", &A))
        return -1;
    for (unsigned i = 0; i < NACC; i++)
        if (!tk_put_client(&OV, 10 + i, ACC[i]))
            return -1;
    return 0;
}

static int teardown(void **st) {
    (void)st;
    cn_overlay_free(&OV);
    cn_genesis_free(&G);
    return 0;
}

/* Runs a contract entry as account i at `height` and applies it; returns the result. */
static int64_t call(unsigned i, uint64_t height, const char *entry, const int64_t *args,
                    uint32_t n, int64_t allow) {
    cn_crt rt;
    assert_int_equal(cn_crt_open(&rt, &OV, &G, CN_MARGIN_NAME, height, (int64_t)T0), 1);
    cn_crt_out out;
    assert_int_equal(cn_crt_run(&rt, ACC[i], entry, args, n, CN_CRT_VIEW_GAS, allow ? 0 : -1,
                                allow, &out),
                     1);
    assert_int_equal(out.res.status, CN_VM_OK);
    char msg[160];
    assert_int_equal(cn_crt_apply(&rt, &out.vo, msg, sizeof msg), CN_TX_OK);
    int64_t r = out.res.value;
    cn_crt_out_free(&out);
    cn_crt_close(&rt);
    return r;
}

/* Mints `ledger` USD to account i and moves `margin` of it into margin cash at height 1. */
static void fund(unsigned i, int64_t ledger, int64_t margin) {
    assert_true(cn_state_set_balance(&OV, ACC[i], "USD", ledger));
    if (margin)
        assert_int_equal(call(i, 1, "deposit", &margin, 1, margin), margin);
}

/* The contract's `cash` view of account i at `height` (interest included). */
static int64_t cash_view(unsigned i, uint64_t height) {
    cn_crt rt;
    assert_int_equal(cn_crt_open(&rt, &OV, &G, CN_MARGIN_NAME, height, (int64_t)T0), 1);
    int64_t a[4], v;
    cn_margin_words(ACC[i], a);
    assert_int_equal(cn_crt_view(&rt, "cash", a, 4, &v), 1);
    cn_crt_close(&rt);
    return v;
}

/* The leaf of account i in epoch `epoch`: its balances, checked by a verified proof. */
static void leaf_of(unsigned i, uint64_t epoch, uint64_t bal[CN_POR_MAX_ASSETS]) {
    cn_reserves_epoch e;
    assert_int_equal(cn_reserves_get_epoch(&OV, epoch, &e), 1);
    cn_sumtree *t = NULL;
    assert_int_equal(cn_reserves_rebuild(&OV, G.chain_id, epoch, &t), 1);
    uint8_t ah[32];
    uint64_t idx;
    cn_por_account_hash(ah, epoch, ACC[i]);
    assert_true(cn_sumtree_find(t, ah, &idx));
    cn_por_proof *p = malloc(sizeof *p);
    assert_non_null(p);
    assert_int_equal(cn_sumtree_prove(t, idx, ACC[i], 3, p), CN_POR_OK);
    assert_int_equal(cn_por_verify(p, e.root, NULL), CN_POR_OK);
    memcpy(bal, p->balances, sizeof p->balances);
    free(p);
    cn_sumtree_free(t);
}

/* a: 100 USD on the ledger and 400 in margin. b: 25 USD and 3 AAPL on the ledger, 300 USD in
 * margin and a 10-share long bought for 1000 USD: a 700 USD loan accruing interest. c: only
 * 50 USD of margin cash. d: 500 USD in margin and 10 shares sold short: 1500 USD of cash. */
static void test_margin_cash_in_leaves(void **st) {
    (void)st;
    fund(0, USD(500), USD(400));
    fund(1, USD(325), USD(300));
    assert_true(cn_state_set_balance(&OV, ACC[1], "AAPL", 30000));
    int64_t buy[4] = {1, 0, 10 * CN_MARGIN_UNIT, 0}, sell[4] = {1, 1, 10 * CN_MARGIN_UNIT, 0};
    assert_int_equal(call(1, 1, "open", buy, 4, 0), 10 * CN_MARGIN_UNIT);
    fund(2, USD(50), USD(50));
    fund(3, USD(500), USD(500));
    assert_int_equal(call(3, 1, "open", sell, 4, 0), -10 * CN_MARGIN_UNIT);
    assert_int_equal(call(0, 2, "accrue", NULL, 0, 0), 1002000000);

    /* The node's read is the non-negative part of the contract's view, interest included. */
    uint8_t cid[32];
    assert_int_equal(cn_margin_deployed(&OV, cid), 1);
    const int64_t want[4] = {USD(400), 0, USD(50), USD(1500)};
    for (unsigned i = 0; i < 4; i++) {
        int64_t claim, v = cash_view(i, 3);
        assert_int_equal(cn_margin_cash_claim(&OV, cid, ACC[i], &claim), 1);
        assert_int_equal(claim, v > 0 ? v : 0);
        assert_int_equal(claim, want[i]);
    }
    assert_true(cash_view(1, 3) < -USD(700)); /* the loan grew with interest */
    int64_t none;
    assert_int_equal(cn_margin_cash_claim(&OV, cid, ACC[4], &none), 1);
    assert_int_equal(none, 0);

    cn_evlist ev = {0};
    assert_true(cn_reserves_end_block(&OV, &G, 3, &ev));
    assert_int_equal(ev.n, 1); /* published, nothing capped */
    cn_evlist_free(&ev);
    cn_reserves_epoch e;
    assert_int_equal(cn_reserves_get_epoch(&OV, 1, &e), 1);
    /* c is a leaf through its margin cash alone; the contract's own ledger balance is not. */
    assert_int_equal(e.leaf_count, 4);
    assert_string_equal(e.assets[0], "USD");
    assert_string_equal(e.assets[1], "AAPL");
    /* USD: a 100 + 400, b 25 + 0 (the loan is not netted), c 50, d 1500; AAPL: b's 3 on the
     * ledger (positions are not claims). */
    assert_true(e.totals[0] == (cn_u128)USD(2075));
    assert_true(e.totals[1] == (cn_u128)30000);
    uint64_t bal[CN_POR_MAX_ASSETS];
    leaf_of(0, 1, bal);
    assert_int_equal(bal[0], USD(500));
    assert_int_equal(bal[1], 0);
    leaf_of(1, 1, bal);
    assert_int_equal(bal[0], USD(25));
    assert_int_equal(bal[1], 30000);
    leaf_of(2, 1, bal);
    assert_int_equal(bal[0], USD(50));
    leaf_of(3, 1, bal);
    assert_int_equal(bal[0], USD(1500));
}

/* A claim past the leaf bound (margin cash is not bounded by the supply) is recorded as the
 * bound, the epoch is still published, and one alert names how many and the first. */
static void test_claim_capped(void **st) {
    (void)st;
    uint8_t cid[32], key[33], k[CN_CSTORE_PREFIX_LEN + CN_VM_MAX_KEY], v[16];
    assert_int_equal(cn_margin_deployed(&OV, cid), 1);
    unsigned lo = memcmp(ACC[4], ACC[5], 32) < 0 ? 4 : 5;
    for (unsigned i = 4; i < 6; i++) {
        assert_true(cn_state_set_balance(&OV, ACC[i], "USD", 1));
        key[0] = 'c';
        memcpy(key + 1, ACC[i], 32);
        cn_put_be64(v, (uint64_t)INT64_MAX);
        cn_put_be64(v + 8, 1000000000u);
        assert_true(cn_overlay_put(&OV, k, cn_cstore_key(k, cid, key, sizeof key), v, 16));
    }
    assert_true(cn_state_set_balance(&OV, ACC[0], "USD", 7));
    cn_evlist ev = {0};
    assert_true(cn_reserves_end_block(&OV, &G, 3, &ev));
    assert_int_equal(ev.n, 2);
    assert_string_equal(ev.ev[1].type, "reserves.claim_capped");
    char first[65];
    tk_hex(first, ACC[lo]);
    assert_string_equal(ev.ev[1].attrs[1].value, "2");
    assert_string_equal(ev.ev[1].attrs[2].value, first);
    cn_evlist_free(&ev);
    uint64_t bal[CN_POR_MAX_ASSETS];
    leaf_of(4, 1, bal);
    assert_int_equal(bal[0], CN_POR_LEAF_MAX);
    leaf_of(0, 1, bal);
    assert_int_equal(bal[0], 7);
    cn_reserves_epoch e;
    assert_int_equal(cn_reserves_get_epoch(&OV, 1, &e), 1);
    assert_true(e.totals[0] == (cn_u128)CN_POR_LEAF_MAX * 2 + 7);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_margin_cash_in_leaves, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claim_capped, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
