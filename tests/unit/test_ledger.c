/* The ledger module driven end to end through mempool -> producer -> app -> store:
 * register_client, deposit_attest, transfer, failures (insufficient funds, overflow, duplicate
 * deposit reference, unknown asset/account), the role permission table, and the supply
 * invariant over a random sequence (seed printed; CLEARNODE_SEED=<n> replays). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <time.h>

#include "chainkit.h"
#include "node/chain/verify.h"

static tk_chain C;
static cn_keypair K0, K1, K2, CL[4];

static int setup(void **state) {
    (void)state;
    assert_true(cn_crypto_init());
    assert_true(tk_open(&C, NULL));
    tk_key(&K0, 0);
    tk_key(&K1, 1);
    tk_key(&K2, 2);
    for (unsigned i = 0; i < 4; i++)
        tk_key(&CL[i], 100 + i);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    tk_close(&C);
    return 0;
}

/* Registers clients 0..3 by K0 (nonces 1..4) and commits. */
static void register_clients(void) {
    for (unsigned i = 0; i < 4; i++) {
        uint8_t *b;
        size_t n;
        assert_true(cn_tx_register_client(&K0, TK_CHAIN, i + 1, CL[i].pub, "client", &b, &n));
        assert_int_equal(tk_submit(&C, b, n, NULL), CN_TX_OK);
    }
    assert_int_equal(tk_block(&C), 1);
}

static cn_txerr deposit(const cn_keypair *by, uint64_t nonce, const uint8_t *to, const char *asset,
                        uint64_t amount, const char *ref, uint8_t hash[32]) {
    uint8_t *b;
    size_t n;
    assert_true(cn_tx_deposit(by, TK_CHAIN, nonce, to, asset, amount, (const uint8_t *)ref,
                              strlen(ref), &b, &n));
    return tk_submit(&C, b, n, hash);
}

static cn_txerr transfer(const cn_keypair *by, uint64_t nonce, const uint8_t *to,
                         const char *asset, uint64_t amount, uint8_t hash[32]) {
    uint8_t *b;
    size_t n;
    assert_true(cn_tx_transfer(by, TK_CHAIN, nonce, to, asset, amount, &b, &n));
    return tk_submit(&C, b, n, hash);
}

static void check_supply(void) {
    cn_store_rtxn *r;
    assert_int_equal(cn_store_read_begin(C.store, &r), CN_STORE_OK);
    size_t na;
    char err[256];
    int ok = cn_verify_supply(r, &na, err, sizeof err);
    cn_store_read_end(r);
    if (!ok)
        fail_msg("supply invariant: %s", err);
    assert_int_equal(na, 2);
}

static void test_register_deposit_transfer(void **state) {
    (void)state;
    register_clients();
    uint8_t h1[32], h2[32];
    assert_int_equal(deposit(&K0, 5, CL[0].pub, "USD", 1000000, "wire-1", h1), CN_TX_OK);
    assert_int_equal(tk_block(&C), 1);
    assert_int_equal(tk_receipt_code(&C, h1), CN_TX_OK);
    assert_int_equal(tk_balance(&C, CL[0].pub, "USD"), 1000000);
    assert_int_equal(transfer(&CL[0], 1, CL[1].pub, "USD", 250000, h2), CN_TX_OK);
    assert_int_equal(tk_block(&C), 1);
    assert_int_equal(tk_receipt_code(&C, h2), CN_TX_OK);
    assert_int_equal(tk_balance(&C, CL[0].pub, "USD"), 750000);
    assert_int_equal(tk_balance(&C, CL[1].pub, "USD"), 250000);
    check_supply();
}

static void test_execution_failures(void **state) {
    (void)state;
    register_clients();
    uint8_t h[8][32];
    assert_int_equal(deposit(&K0, 5, CL[0].pub, "USD", 100, "ref-a", h[0]), CN_TX_OK);
    assert_int_equal(tk_block(&C), 1);
    /* Insufficient funds: 101 > 100. The nonce is still consumed. */
    assert_int_equal(transfer(&CL[0], 1, CL[1].pub, "USD", 101, h[1]), CN_TX_OK);
    /* Duplicate deposit reference of the same custodian. */
    assert_int_equal(deposit(&K0, 6, CL[0].pub, "USD", 5, "ref-a", h[2]), CN_TX_OK);
    /* Another custodian may use the same reference text. */
    assert_int_equal(deposit(&K1, 1, CL[0].pub, "USD", 5, "ref-a", h[3]), CN_TX_OK);
    /* Unknown asset; unknown account. */
    assert_int_equal(deposit(&K0, 7, CL[0].pub, "TSLA", 5, "ref-b", h[4]), CN_TX_OK);
    cn_keypair stranger;
    tk_key(&stranger, 999);
    assert_int_equal(deposit(&K0, 8, stranger.pub, "USD", 5, "ref-c", h[5]), CN_TX_OK);
    /* Overflow: supply would exceed INT64_MAX. */
    assert_int_equal(deposit(&K0, 9, CL[2].pub, "USD", (uint64_t)INT64_MAX, "ref-d", h[6]),
                     CN_TX_OK);
    assert_int_equal(tk_block(&C), 1);
    assert_int_equal(tk_receipt_code(&C, h[1]), CN_TX_INSUFFICIENT_FUNDS);
    assert_int_equal(tk_receipt_code(&C, h[2]), CN_TX_DUPLICATE_DEPOSIT);
    assert_int_equal(tk_receipt_code(&C, h[3]), CN_TX_OK);
    assert_int_equal(tk_receipt_code(&C, h[4]), CN_TX_UNKNOWN_ASSET);
    assert_int_equal(tk_receipt_code(&C, h[5]), CN_TX_UNKNOWN_ACCOUNT);
    assert_int_equal(tk_receipt_code(&C, h[6]), CN_TX_OVERFLOW);
    assert_int_equal(tk_balance(&C, CL[0].pub, "USD"), 105);
    assert_int_equal(tk_balance(&C, CL[1].pub, "USD"), 0);
    /* The failed transfer consumed nonce 1: nonce 2 is next. */
    assert_int_equal(transfer(&CL[0], 1, CL[1].pub, "USD", 1, NULL), CN_TX_BAD_NONCE);
    assert_int_equal(transfer(&CL[0], 2, CL[1].pub, "USD", 1, h[7]), CN_TX_OK);
    assert_int_equal(tk_block(&C), 1);
    assert_int_equal(tk_receipt_code(&C, h[7]), CN_TX_OK);
    check_supply();
}

static void test_permissions(void **state) {
    (void)state;
    register_clients();
    uint8_t *b;
    size_t n;
    /* A client may not register clients or attest deposits. */
    cn_keypair newc;
    tk_key(&newc, 500);
    assert_true(cn_tx_register_client(&CL[0], TK_CHAIN, 1, newc.pub, "", &b, &n));
    assert_int_equal(tk_submit(&C, b, n, NULL), CN_TX_NOT_PERMITTED);
    assert_int_equal(deposit(&CL[0], 1, CL[0].pub, "USD", 1, "x", NULL), CN_TX_NOT_PERMITTED);
    /* An auditor member may register clients (any member) but not attest deposits. */
    assert_int_equal(deposit(&K2, 1, CL[0].pub, "USD", 1, "x", NULL), CN_TX_NOT_PERMITTED);
    assert_true(cn_tx_register_client(&K2, TK_CHAIN, 1, newc.pub, "", &b, &n));
    assert_int_equal(tk_submit(&C, b, n, NULL), CN_TX_OK);
    /* An unregistered key can do nothing. */
    cn_keypair stranger;
    tk_key(&stranger, 999);
    assert_int_equal(transfer(&stranger, 1, CL[0].pub, "USD", 1, NULL), CN_TX_UNKNOWN_SIGNER);
    /* Registering an existing account fails at execution. */
    uint8_t h[32];
    assert_true(cn_tx_register_client(&K0, TK_CHAIN, 5, CL[1].pub, "", &b, &n));
    assert_int_equal(tk_submit(&C, b, n, h), CN_TX_OK);
    assert_int_equal(tk_block(&C), 1);
    assert_int_equal(tk_receipt_code(&C, h), CN_TX_ALREADY_REGISTERED);
    /* Field validation at admission. */
    assert_int_equal(transfer(&CL[0], 1, CL[0].pub, "USD", 1, NULL), CN_TX_INVALID_FIELD);
    assert_int_equal(transfer(&CL[0], 1, CL[1].pub, "usd", 1, NULL), CN_TX_INVALID_FIELD);
    assert_int_equal(transfer(&CL[0], 1, CL[1].pub, "USD", 0, NULL), CN_TX_INVALID_FIELD);
    assert_int_equal(transfer(&CL[0], 1, CL[1].pub, "USD", (uint64_t)INT64_MAX + 1, NULL),
                     CN_TX_INVALID_FIELD);
}

static void test_supply_invariant_random(void **state) {
    (void)state;
    unsigned seed = (unsigned)time(NULL);
    const char *env = getenv("CLEARNODE_SEED");
    if (env)
        seed = (unsigned)strtoul(env, NULL, 10);
    printf("test_supply_invariant_random: seed %u\n", seed);
    srand(seed);
    register_clients();
    uint64_t nonce[4] = {0}, cust_nonce[2] = {4, 0};
    const char *assets[] = {"USD", "AAPL"};
    unsigned refs = 0;
    for (int round = 0; round < 20; round++) {
        int ntx = 1 + rand() % 20;
        for (int i = 0; i < ntx; i++) {
            int kind = rand() % 3;
            const char *a = assets[rand() % 2];
            if (kind == 0) {
                unsigned c = (unsigned)rand() % 2;
                char ref[32];
                snprintf(ref, sizeof ref, "r%u", (rand() % 4 == 0 && refs) ? refs - 1 : refs++);
                cn_txerr e = deposit(c ? &K1 : &K0, ++cust_nonce[c], CL[rand() % 4].pub, a,
                                     (uint64_t)(rand() % 1000000 + 1), ref, NULL);
                assert_int_equal(e, CN_TX_OK);
            } else {
                unsigned from = (unsigned)rand() % 4, to = (from + 1 + (unsigned)rand() % 3) % 4;
                cn_txerr e = transfer(&CL[from], ++nonce[from], CL[to].pub, a,
                                      (uint64_t)(rand() % 300000 + 1), NULL);
                assert_int_equal(e, CN_TX_OK);
            }
        }
        assert_int_equal(tk_block(&C), 1);
        check_supply();
    }
    cn_verify_report rep;
    char err[256];
    if (!cn_verify_chain(C.store, &C.g, 1, &rep, err, sizeof err))
        fail_msg("verify: %s", err);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_register_deposit_transfer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_execution_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_permissions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_supply_invariant_random, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
