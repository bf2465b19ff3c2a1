/* Mempool admission: count and byte caps, nonce window, future nonces held until executable,
 * duplicates (pending and committed), bad envelopes, the signature cache, deterministic
 * reaping, and cleanup after commit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "chainkit.h"
#include "node/chain/block.h"

static tk_chain C;
static cn_keypair K0, CL[3];

static int setup(void **state) {
    (void)state;
    assert_true(cn_crypto_init());
    assert_true(tk_open(&C, NULL));
    tk_key(&K0, 0);
    for (unsigned i = 0; i < 3; i++)
        tk_key(&CL[i], 100 + i);
    for (unsigned i = 0; i < 3; i++) {
        uint8_t *b;
        size_t n;
        assert_true(cn_tx_register_client(&K0, TK_CHAIN, i + 1, CL[i].pub, "", &b, &n));
        assert_int_equal(tk_submit(&C, b, n, NULL), CN_TX_OK);
        assert_true(cn_tx_deposit(&K0, TK_CHAIN, 4 + i, CL[i].pub, "USD", 1000000,
                                  (const uint8_t *)&i, sizeof i, &b, &n));
        assert_int_equal(tk_submit(&C, b, n, NULL), CN_TX_OK);
    }
    assert_int_equal(tk_block(&C), 1);
    assert_int_equal(cn_mempool_count(C.mp), 0);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    tk_close(&C);
    return 0;
}

static void xfer(const cn_keypair *k, uint64_t nonce, uint64_t amount, uint8_t **b, size_t *n) {
    assert_true(cn_tx_transfer(k, TK_CHAIN, nonce, CL[2].pub, "USD", amount, b, n));
}

static cn_txerr add(cn_mempool *mp, uint8_t *b, size_t n) {
    uint8_t h[32];
    char msg[256];
    cn_txerr e = cn_mempool_add(mp, b, n, h, msg, sizeof msg);
    free(b);
    return e;
}

static void test_caps(void **state) {
    (void)state;
    cn_mempool_limits lim = {3, 1 << 20, 16};
    cn_mempool *mp = cn_mempool_new(C.app, &lim);
    uint8_t *b;
    size_t n;
    for (uint64_t i = 1; i <= 3; i++) {
        xfer(&CL[0], i, 1, &b, &n);
        assert_int_equal(add(mp, b, n), CN_TX_OK);
    }
    xfer(&CL[0], 4, 1, &b, &n);
    assert_int_equal(add(mp, b, n), CN_TX_MEMPOOL_FULL);
    assert_int_equal(cn_mempool_rejected(mp, CN_TX_MEMPOOL_FULL), 1);
    cn_mempool_free(mp);
    /* Byte cap: room for exactly two txs of this size. */
    xfer(&CL[0], 1, 1, &b, &n);
    size_t one = n;
    free(b);
    cn_mempool_limits lim2 = {100, 2 * one + one / 2, 16};
    mp = cn_mempool_new(C.app, &lim2);
    for (uint64_t i = 1; i <= 2; i++) {
        xfer(&CL[0], i, 1, &b, &n);
        assert_int_equal(add(mp, b, n), CN_TX_OK);
    }
    xfer(&CL[0], 3, 1, &b, &n);
    assert_int_equal(add(mp, b, n), CN_TX_MEMPOOL_FULL);
    assert_int_equal(cn_mempool_count(mp), 2);
    assert_int_equal(cn_mempool_bytes(mp), 2 * one);
    cn_mempool_free(mp);
}

static void test_nonce_window_and_future(void **state) {
    (void)state;
    uint8_t *b;
    size_t n;
    /* Window 16 (chainkit): next = 1, so 16 is the last acceptable nonce. */
    xfer(&CL[0], 17, 1, &b, &n);
    assert_int_equal(tk_submit(&C, b, n, NULL), CN_TX_BAD_NONCE);
    xfer(&CL[0], 16, 1, &b, &n);
    assert_int_equal(tk_submit(&C, b, n, NULL), CN_TX_OK);
    xfer(&CL[0], 3, 1, &b, &n);
    assert_int_equal(tk_submit(&C, b, n, NULL), CN_TX_OK);
    /* Nothing is executable yet: no block. */
    assert_int_equal(tk_block(&C), 0);
    xfer(&CL[0], 2, 1, &b, &n);
    assert_int_equal(tk_submit(&C, b, n, NULL), CN_TX_OK);
    uint8_t h1[32], h3[32];
    xfer(&CL[0], 1, 1, &b, &n);
    assert_int_equal(tk_submit(&C, b, n, h1), CN_TX_OK);
    /* Same nonce, different tx: refused while one is pending. */
    xfer(&CL[0], 1, 2, &b, &n);
    assert_int_equal(tk_submit(&C, b, n, NULL), CN_TX_BAD_NONCE);
    uint8_t **txs;
    size_t *lens;
    size_t k = cn_mempool_reap(C.mp, 100, 1 << 20, &txs, &lens);
    assert_int_equal(k, 3); /* 1, 2, 3; 16 waits for the gap */
    cn_tx_id(txs[0], lens[0], h3);
    assert_memory_equal(h3, h1, 32);
    free(txs);
    free(lens);
    assert_int_equal(tk_block(&C), 1);
    assert_int_equal(tk_receipt_code(&C, h1), CN_TX_OK);
    assert_int_equal(cn_mempool_count(C.mp), 1); /* nonce 16 still held */
    /* A used nonce is refused; the committed tx is a duplicate. */
    xfer(&CL[0], 2, 1, &b, &n);
    assert_int_equal(tk_submit(&C, b, n, NULL), CN_TX_BAD_NONCE);
}

static void test_duplicates_and_envelopes(void **state) {
    (void)state;
    uint8_t *b, *copy;
    size_t n;
    xfer(&CL[1], 1, 5, &b, &n);
    copy = malloc(n);
    memcpy(copy, b, n);
    assert_int_equal(tk_submit(&C, b, n, NULL), CN_TX_OK);
    uint8_t *again = malloc(n);
    memcpy(again, copy, n);
    assert_int_equal(tk_submit(&C, again, n, NULL), CN_TX_DUPLICATE);
    /* The signature was verified once and cached for execution. */
    uint8_t id[32];
    cn_tx_id(copy, n, id);
    assert_true(cn_sigcache_has(cn_app_sigcache(C.app), id));
    assert_int_equal(tk_block(&C), 1);
    assert_false(cn_sigcache_has(cn_app_sigcache(C.app), id));
    assert_int_equal(tk_submit(&C, copy, n, NULL), CN_TX_DUPLICATE); /* committed */
    /* A flipped signature bit. */
    xfer(&CL[1], 2, 5, &b, &n);
    b[n - 1] ^= 1;
    assert_int_equal(tk_submit(&C, b, n, NULL), CN_TX_BAD_SIGNATURE);
    /* Another chain. */
    assert_true(cn_tx_transfer(&CL[1], "other-chain", 2, CL[2].pub, "USD", 1, &b, &n));
    assert_int_equal(tk_submit(&C, b, n, NULL), CN_TX_WRONG_CHAIN);
    /* Garbage and oversize. */
    uint8_t junk[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    b = malloc(sizeof junk);
    memcpy(b, junk, sizeof junk);
    assert_int_equal(tk_submit(&C, b, sizeof junk, NULL), CN_TX_MALFORMED);
    b = calloc(1, CN_CAP_TX + 1);
    assert_int_equal(tk_submit(&C, b, CN_CAP_TX + 1, NULL), CN_TX_TOO_LARGE);
    b = malloc(1);
    assert_int_equal(tk_submit(&C, b, 0, NULL), CN_TX_MALFORMED);
    /* A body with no kind. */
    Clearnode__V1__Tx tx;
    clearnode__v1__tx__init(&tx);
    tx.nonce = 2;
    assert_true(cn_tx_sign(&CL[1], TK_CHAIN, &tx, &b, &n));
    assert_int_equal(tk_submit(&C, b, n, NULL), CN_TX_NO_KIND);
    /* Every kind is executed now; one with empty fields fails its field checks. */
    Clearnode__V1__ClosePosition cp;
    clearnode__v1__close_position__init(&cp);
    tx.kind_case = CLEARNODE__V1__TX__KIND_CLOSE_POSITION;
    tx.close_position = &cp;
    assert_true(cn_tx_sign(&CL[1], TK_CHAIN, &tx, &b, &n));
    assert_int_equal(tk_submit(&C, b, n, NULL), CN_TX_INVALID_FIELD);
}

static void test_reap_order(void **state) {
    (void)state;
    uint8_t *b;
    size_t n;
    uint8_t h[4][32];
    /* Arrival: CL1#1, CL0#2 (held), CL0#1, CL1#2. Senders go by their oldest tx: CL1 first. */
    xfer(&CL[1], 1, 1, &b, &n);
    assert_int_equal(tk_submit(&C, b, n, h[0]), CN_TX_OK);
    xfer(&CL[0], 2, 1, &b, &n);
    assert_int_equal(tk_submit(&C, b, n, h[1]), CN_TX_OK);
    xfer(&CL[0], 1, 1, &b, &n);
    assert_int_equal(tk_submit(&C, b, n, h[2]), CN_TX_OK);
    xfer(&CL[1], 2, 1, &b, &n);
    assert_int_equal(tk_submit(&C, b, n, h[3]), CN_TX_OK);
    uint8_t **txs;
    size_t *lens;
    assert_int_equal(cn_mempool_reap(C.mp, 100, 1 << 20, &txs, &lens), 4);
    int want[4] = {0, 3, 2, 1};
    for (int i = 0; i < 4; i++) {
        uint8_t id[32];
        cn_tx_id(txs[i], lens[i], id);
        assert_memory_equal(id, h[want[i]], 32);
    }
    free(txs);
    free(lens);
    /* Caps on reaping. */
    assert_int_equal(cn_mempool_reap(C.mp, 3, 1 << 20, &txs, &lens), 3);
    free(txs);
    free(lens);
    assert_int_equal(cn_mempool_reap(C.mp, 100, 1, &txs, &lens), 0);
    assert_null(txs);
    assert_int_equal(tk_block(&C), 1);
    assert_int_equal(cn_mempool_count(C.mp), 0);
    assert_int_equal(cn_mempool_bytes(C.mp), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_caps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nonce_window_and_future, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates_and_envelopes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reap_order, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
