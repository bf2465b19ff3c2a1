/* Custody: multisig withdrawals driven through the custody executor and end of block
 * (cuskit.h), plus one run through the real chain (mempool -> producer -> app -> store) that
 * checks the stored supply invariant (supply = balances + locked) after a burn.
 * Edge cases: M-1 approvals, M from one key, an approver removed while a request is pending,
 * approval after expiry, execution during a freeze, replays on another request or chain,
 * stale policy version, cooldown boundary, cancel then approve, velocity boundary, allow-list
 * delay boundary, tiers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cuskit.h"
#include "node/chain/verify.h"
#include "node/rpc/routes.h"

#define USD(x) ((uint64_t)(x) * 1000000u)
#define DEST "bank:CH93-0000-0000"
#define CUSTODY_DIGEST_EXAMPLE "9c89129659a7402b288c5ca274ef12da5e287b0c1fef35655288d2b5b4d62b4b"

static ck_world W;

static int setup(void **state) {
    (void)state;
    assert_true(cn_crypto_init());
    assert_true(ck_open(&W));
    ck_mint(&W, W.cl.pub, (int64_t)USD(5000));
    assert_true(cn_param_put(&W.ov, "custody.allowlist_delay_ms", 0));
    assert_int_equal(ck_allow(&W, &W.cl, DEST, 0), CN_TX_OK);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    ck_close(&W);
    return 0;
}

static void test_two_of_three_with_cooldown(void **state) {
    (void)state;
    int64_t supply0 = ck_supply(&W);
    assert_int_equal(ck_request(&W, &W.cl, USD(10), DEST, W.now + 60000), CN_TX_OK);
    assert_int_equal(ck_bal(&W, W.cl.pub), (int64_t)USD(4990));
    assert_int_equal(ck_locked(&W, W.cl.pub), (int64_t)USD(10));
    assert_true(ck_supply_ok(&W));
    /* M-1 approvals: nothing happens */
    assert_int_equal(ck_approve(&W, &W.k[0], 1), CN_TX_OK);
    assert_true(ck_end(&W, 5000));
    assert_int_equal(ck_status(&W, 1), CN_WD_PENDING);
    /* the second approval starts the 1000 ms cooldown */
    assert_int_equal(ck_approve(&W, &W.k[1], 1), CN_TX_OK);
    assert_true(ck_end(&W, 999));
    assert_int_equal(ck_status(&W, 1), CN_WD_PENDING); /* cooldown: 0 ms elapsed */
    assert_true(ck_end(&W, 1));
    assert_int_equal(ck_status(&W, 1), CN_WD_PENDING); /* 999 ms elapsed */
    assert_true(ck_end(&W, 1));                        /* exactly 1000 ms: executes */
    assert_int_equal(ck_status(&W, 1), CN_WD_EXECUTED);
    assert_int_equal(ck_locked(&W, W.cl.pub), 0);
    assert_int_equal(ck_bal(&W, W.cl.pub), (int64_t)USD(4990));
    assert_int_equal(ck_supply(&W), supply0 - (int64_t)USD(10));
    assert_true(ck_supply_ok(&W));
    /* a third approval after execution is refused */
    assert_int_equal(ck_approve(&W, &W.k[2], 1), CN_TX_BAD_STATE);
}

static void test_same_key_counted_once(void **state) {
    (void)state;
    assert_int_equal(ck_request(&W, &W.cl, USD(1), DEST, W.now + 60000), CN_TX_OK);
    assert_int_equal(ck_approve(&W, &W.k[0], 1), CN_TX_OK);
    assert_int_equal(ck_approve(&W, &W.k[0], 1), CN_TX_DUPLICATE_APPROVAL);
    assert_true(ck_end(&W, 10000));
    assert_true(ck_end(&W, 10000));
    assert_int_equal(ck_status(&W, 1), CN_WD_PENDING);
}

static void test_non_approver_and_replays(void **state) {
    (void)state;
    assert_int_equal(ck_request(&W, &W.cl, USD(1), DEST, W.now + 60000), CN_TX_OK);
    assert_int_equal(ck_request(&W, &W.cl, USD(2), DEST, W.now + 60000), CN_TX_OK);
    uint64_t pv = ck_pv(&W);
    /* a member outside the approver set */
    assert_int_equal(ck_approve(&W, &W.k[3], 1), CN_TX_NOT_APPROVER);
    /* request 2's approval replayed on request 1 */
    assert_int_equal(ck_approve_x(&W, &W.k[0], 1, 2, pv, TK_CHAIN), CN_TX_BAD_APPROVAL_SIG);
    /* an approval made for another chain */
    assert_int_equal(ck_approve_x(&W, &W.k[0], 1, 1, pv, "other-chain"),
                     CN_TX_BAD_APPROVAL_SIG);
    /* stale / future policy version */
    assert_int_equal(ck_approve_x(&W, &W.k[0], 1, 1, pv + 1, TK_CHAIN), CN_TX_STALE_POLICY);
    /* the genuine one still works, once */
    assert_int_equal(ck_approve(&W, &W.k[0], 1), CN_TX_OK);
    cn_withdrawal wd;
    assert_int_equal(cn_custody_get(&W.ov, 1, &wd), 1);
    assert_int_equal(wd.n_approvals, 1);
    assert_int_equal(cn_custody_get(&W.ov, 2, &wd), 1);
    assert_int_equal(wd.n_approvals, 0);
}

static void test_approval_after_expiry(void **state) {
    (void)state;
    uint64_t exp = W.now + 5000;
    assert_int_equal(ck_request(&W, &W.cl, USD(7), DEST, exp), CN_TX_OK);
    assert_int_equal(ck_approve(&W, &W.k[0], 1), CN_TX_OK);
    W.now = exp; /* at expiry: still valid */
    assert_int_equal(ck_approve(&W, &W.k[1], 1), CN_TX_OK);
    W.now = exp + 1;
    assert_int_equal(ck_approve(&W, &W.k[2], 1), CN_TX_EXPIRED);
    /* the cooldown had not passed at expiry: the request lapses and unlocks */
    assert_true(ck_end(&W, 1000));
    assert_int_equal(ck_status(&W, 1), CN_WD_EXPIRED);
    assert_int_equal(ck_locked(&W, W.cl.pub), 0);
    assert_int_equal(ck_bal(&W, W.cl.pub), (int64_t)USD(5000));
    assert_true(ck_supply_ok(&W));
    /* a request whose expiry is not after block time is refused */
    assert_int_equal(ck_request(&W, &W.cl, USD(1), DEST, W.now), CN_TX_EXPIRED);
}

static void test_freeze_blocks_execution(void **state) {
    (void)state;
    assert_int_equal(ck_request(&W, &W.cl, USD(3), DEST, W.now + 600000), CN_TX_OK);
    assert_int_equal(ck_approve(&W, &W.k[0], 1), CN_TX_OK);
    assert_int_equal(ck_approve(&W, &W.k[1], 1), CN_TX_OK);
    /* one governor can freeze (threshold 1 for freezing) */
    assert_int_equal(ck_freeze(&W, &W.k[2], 1), CN_TX_OK);
    assert_true(ck_end(&W, 10000));
    assert_true(ck_end(&W, 10000));
    assert_int_equal(ck_status(&W, 1), CN_WD_PENDING);
    assert_int_equal(ck_request(&W, &W.cl, USD(1), DEST, W.now + 60000), CN_TX_FROZEN);
    assert_int_equal(ck_approve(&W, &W.k[2], 1), CN_TX_FROZEN);
    /* unfreezing needs M = 2 */
    assert_int_equal(ck_freeze(&W, &W.k[0], 0), CN_TX_OK);
    uint64_t pid = 2;
    assert_int_equal(ck_gov_status(&W, pid), CN_GOV_OPEN);
    assert_true(ck_end(&W, 1000));
    assert_int_equal(ck_status(&W, 1), CN_WD_PENDING);
    assert_int_equal(ck_gov_approve(&W, &W.k[1], pid), CN_TX_OK);
    assert_int_equal(ck_gov_status(&W, pid), CN_GOV_EXECUTED);
    assert_true(ck_end(&W, 1000));
    assert_int_equal(ck_status(&W, 1), CN_WD_EXECUTED);
    assert_true(ck_supply_ok(&W));
}

static void test_cancel_then_approve(void **state) {
    (void)state;
    assert_int_equal(ck_request(&W, &W.cl, USD(4), DEST, W.now + 60000), CN_TX_OK);
    assert_int_equal(ck_cancel(&W, &W.cl2, 1), CN_TX_NOT_OWNER);
    assert_int_equal(ck_cancel(&W, &W.cl, 1), CN_TX_OK);
    assert_int_equal(ck_status(&W, 1), CN_WD_CANCELLED);
    assert_int_equal(ck_bal(&W, W.cl.pub), (int64_t)USD(5000));
    assert_int_equal(ck_locked(&W, W.cl.pub), 0);
    assert_int_equal(ck_approve(&W, &W.k[0], 1), CN_TX_BAD_STATE);
    assert_int_equal(ck_cancel(&W, &W.cl, 1), CN_TX_BAD_STATE);
    assert_int_equal(ck_cancel(&W, &W.cl, 99), CN_TX_NOT_FOUND);
    assert_true(ck_supply_ok(&W));
}

static void test_approver_removed_while_pending(void **state) {
    (void)state;
    /* make m3 an approver too (2 of 3 governors), so removing a1 keeps 3 approvers */
    Clearnode__V1__GovernancePropose p;
    Clearnode__V1__MemberChange mc;
    clearnode__v1__governance_propose__init(&p);
    clearnode__v1__member_change__init(&mc);
    mc.pubkey.data = W.k[3].pub;
    mc.pubkey.len = 32;
    mc.roles = CN_ROLE_APPROVER | CN_ROLE_AUDITOR;
    mc.name = (char *)(uintptr_t)"m3";
    p.action_case = CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_ADD_MEMBER;
    p.add_member = &mc;
    assert_int_equal(ck_propose(&W, &W.k[0], &p, W.now + 60000, NULL), CN_TX_OK);
    assert_int_equal(ck_gov_approve(&W, &W.k[2], 1), CN_TX_OK);
    assert_int_equal(ck_pv(&W), 2);
    assert_int_equal(ck_request(&W, &W.cl, USD(5), DEST, W.now + 600000), CN_TX_OK);
    assert_int_equal(ck_approve(&W, &W.k[0], 1), CN_TX_OK);
    assert_int_equal(ck_approve(&W, &W.k[1], 1), CN_TX_OK);
    /* remove a1 before the cooldown ends */
    Clearnode__V1__GovernancePropose rm;
    clearnode__v1__governance_propose__init(&rm);
    rm.action_case = CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_REMOVE_MEMBER;
    rm.remove_member.data = W.k[1].pub;
    rm.remove_member.len = 32;
    assert_int_equal(ck_propose(&W, &W.k[0], &rm, W.now + 60000, NULL), CN_TX_OK);
    assert_int_equal(ck_gov_approve(&W, &W.k[2], 2), CN_TX_OK);
    assert_int_equal(ck_pv(&W), 3);
    assert_true(ck_end(&W, 10000));
    assert_true(ck_end(&W, 10000));
    /* a1's approval no longer counts (and the policy version moved on) */
    assert_int_equal(ck_status(&W, 1), CN_WD_PENDING);
    uint64_t last;
    cn_withdrawal wd;
    assert_int_equal(cn_custody_get(&W.ov, 1, &wd), 1);
    assert_int_equal(cn_custody_count(&W.ov, &wd, &last), 0);
    /* a1 can no longer approve at all */
    assert_int_equal(ck_approve(&W, &W.k[1], 1), CN_TX_NOT_APPROVER);
    assert_int_equal(ck_approve(&W, &W.k[0], 1), CN_TX_OK);
    assert_int_equal(ck_approve(&W, &W.k[3], 1), CN_TX_OK);
    assert_true(ck_end(&W, 1000));
    assert_int_equal(ck_status(&W, 1), CN_WD_PENDING); /* cooldown 0 ms elapsed */
    assert_true(ck_end(&W, 0));
    assert_int_equal(ck_status(&W, 1), CN_WD_EXECUTED);
}

static void test_high_tier_needs_three(void **state) {
    (void)state;
    assert_int_equal(ck_request(&W, &W.cl, USD(1000), DEST, W.now + 600000), CN_TX_OK);
    assert_int_equal(ck_approve(&W, &W.k[0], 1), CN_TX_OK);
    assert_int_equal(ck_approve(&W, &W.k[1], 1), CN_TX_OK);
    assert_true(ck_end(&W, 60000));
    assert_int_equal(ck_status(&W, 1), CN_WD_PENDING);
    assert_int_equal(ck_approve(&W, &W.k[2], 1), CN_TX_OK);
    assert_true(ck_end(&W, 4999)); /* at the third approval */
    assert_int_equal(ck_status(&W, 1), CN_WD_PENDING);
    assert_true(ck_end(&W, 1)); /* 4999 ms later */
    assert_int_equal(ck_status(&W, 1), CN_WD_PENDING);
    assert_true(ck_end(&W, 0)); /* 5000 ms later */
    assert_int_equal(ck_status(&W, 1), CN_WD_EXECUTED);
}

static void test_velocity_boundary(void **state) {
    (void)state;
    assert_true(cn_param_put(&W.ov, "custody.velocity_client_usd", (int64_t)USD(5)));
    assert_true(cn_param_put(&W.ov, "custody.velocity_period_ms", 60000));
    assert_int_equal(ck_request(&W, &W.cl, USD(3), DEST, W.now + 600000), CN_TX_OK);
    assert_int_equal(ck_request(&W, &W.cl, USD(2), DEST, W.now + 600000), CN_TX_OK); /* = 5 */
    assert_int_equal(ck_request(&W, &W.cl, 1, DEST, W.now + 600000), CN_TX_VELOCITY); /* +1 */
    assert_int_equal(ck_locked(&W, W.cl.pub), (int64_t)USD(5));
    /* cancelling does not give the allowance back */
    assert_int_equal(ck_cancel(&W, &W.cl, 2), CN_TX_OK);
    assert_int_equal(ck_request(&W, &W.cl, 1, DEST, W.now + 600000), CN_TX_VELOCITY);
    /* the window rolls: 60 s after the first request it no longer counts */
    uint64_t t1 = W.now;
    W.now = t1 + 59999;
    assert_int_equal(ck_request(&W, &W.cl, 1, DEST, W.now + 600000), CN_TX_VELOCITY);
    W.now = t1 + 60000;
    assert_int_equal(ck_request(&W, &W.cl, USD(3), DEST, W.now + 600000), CN_TX_OK);
    /* global limit */
    ck_mint(&W, W.cl2.pub, (int64_t)USD(100));
    assert_int_equal(ck_allow(&W, &W.cl2, DEST, 0), CN_TX_OK);
    assert_true(cn_param_put(&W.ov, "custody.velocity_global_usd", (int64_t)USD(7)));
    /* in the global window now: client 1's USD 3; client 2's own limit (5) would allow these */
    assert_int_equal(ck_request(&W, &W.cl2, USD(5), DEST, W.now + 600000), CN_TX_VELOCITY);
    assert_int_equal(ck_request(&W, &W.cl2, USD(4), DEST, W.now + 600000), CN_TX_OK); /* = 7 */
    assert_int_equal(ck_request(&W, &W.cl2, 1, DEST, W.now + 600000), CN_TX_VELOCITY);
    assert_true(ck_supply_ok(&W));
}

static void test_allowlist_delay_boundary(void **state) {
    (void)state;
    assert_true(cn_param_put(&W.ov, "custody.allowlist_delay_ms", 3600000));
    const char *d2 = "bank:NEW";
    uint64_t t0 = W.now;
    assert_int_equal(ck_allow(&W, &W.cl, d2, 0), CN_TX_OK);
    assert_int_equal(ck_request(&W, &W.cl, 1, d2, t0 + 7200000), CN_TX_NOT_ALLOWLISTED);
    W.now = t0 + 3599999;
    assert_int_equal(ck_request(&W, &W.cl, 1, d2, t0 + 7200000), CN_TX_NOT_ALLOWLISTED);
    W.now = t0 + 3600000;
    assert_int_equal(ck_request(&W, &W.cl, 1, d2, t0 + 7200000), CN_TX_OK);
    /* a removal also waits: the destination stays usable until it takes effect */
    uint64_t t1 = W.now;
    assert_int_equal(ck_allow(&W, &W.cl, d2, 1), CN_TX_OK);
    W.now = t1 + 3599999;
    assert_int_equal(ck_request(&W, &W.cl, 1, d2, W.now + 60000), CN_TX_OK);
    W.now = t1 + 3600000;
    assert_int_equal(ck_request(&W, &W.cl, 1, d2, W.now + 60000), CN_TX_NOT_ALLOWLISTED);
    /* another client's list is separate; members have none */
    ck_mint(&W, W.cl2.pub, 10);
    assert_int_equal(ck_request(&W, &W.cl2, 1, DEST, W.now + 60000), CN_TX_NOT_ALLOWLISTED);
    assert_int_equal(ck_allow(&W, &W.k[0], DEST, 0), CN_TX_NOT_PERMITTED);
}

static void test_validation_and_funds(void **state) {
    (void)state;
    assert_int_equal(ck_request(&W, &W.cl, 0, DEST, W.now + 1000), CN_TX_INVALID_FIELD);
    assert_int_equal(ck_request(&W, &W.cl, 1, "", W.now + 1000), CN_TX_INVALID_FIELD);
    assert_int_equal(ck_request(&W, &W.cl, 1, "has space", W.now + 1000), CN_TX_INVALID_FIELD);
    assert_int_equal(ck_request(&W, &W.cl, USD(5001), DEST, W.now + 1000), CN_TX_MARGIN);
    assert_int_equal(ck_request(&W, &W.cl, 1, DEST, W.now + UINT64_C(604800001)),
                     CN_TX_INVALID_FIELD);
    assert_int_equal(ck_locked(&W, W.cl.pub), 0);
}

static void test_digest_vector(void **state) {
    (void)state;
    /* The worked example of docs/custody.md. */
    uint8_t d[32];
    char hex[65];
    cn_withdraw_digest(d, "clearnode-testnet", 1, 1, "USD", 25000000, "bank:CH93-0000-0000",
                       1767229200000ULL);
    cn_hex_encode(hex, d, 32);
    printf("digest %s\n", hex);
    uint8_t d2[32];
    cn_withdraw_digest(d2, "clearnode-testnet", 2, 1, "USD", 25000000, "bank:CH93-0000-0000",
                       1767229200000ULL);
    assert_memory_not_equal(d, d2, 32);
    assert_string_equal(hex, CUSTODY_DIGEST_EXAMPLE);
}

static void test_routes(void **state) {
    (void)state;
    const char *param;
    char path[128];
    snprintf(path, sizeof path, "/v1/accounts/%064d/withdrawals", 0);
    assert_int_equal(cn_rpc_route_match(path, &param), CN_RPC_ROUTE_ACCOUNT_WITHDRAWALS);
    assert_int_equal(strncmp(param, path + 13, 64), 0);
    assert_int_equal(cn_rpc_route_match("/v1/accounts/ab/other", &param), CN_RPC_ROUTE_NONE);
    assert_int_equal(cn_rpc_route_match("/v1/accounts//withdrawals", &param), CN_RPC_ROUTE_NONE);
    assert_int_equal(cn_rpc_route_match("/v1/accounts/ab/withdrawals/x", &param),
                     CN_RPC_ROUTE_NONE);
    assert_int_equal(cn_rpc_route_match("/v1/accounts/ab", &param), CN_RPC_ROUTE_ACCOUNT);
    assert_int_equal(cn_rpc_route_match("/v1/withdrawals/5", &param), CN_RPC_ROUTE_WITHDRAWAL);
    assert_string_equal(param, "5");
    assert_int_equal(cn_rpc_route_match("/v1/governance/proposals/7", &param),
                     CN_RPC_ROUTE_PROPOSAL);
    assert_string_equal(param, "7");
}

/* ---- through the real chain ----------------------------------------------------------------- */

static cn_txerr chain_tx(tk_chain *c, const cn_keypair *kp, uint64_t nonce, Clearnode__V1__Tx *tx,
                         uint8_t hash[32]) {
    uint8_t *b;
    size_t n;
    tx->nonce = nonce;
    assert_true(cn_tx_sign(kp, TK_CHAIN, tx, &b, &n));
    return tk_submit(c, b, n, hash);
}

static void check_supply(tk_chain *c) {
    cn_store_rtxn *r;
    assert_int_equal(cn_store_read_begin(c->store, &r), CN_STORE_OK);
    size_t na;
    char err[256];
    int ok = cn_verify_supply(r, &na, err, sizeof err);
    cn_store_read_end(r);
    if (!ok)
        fail_msg("supply invariant: %s", err);
}

static void test_chain_burn_keeps_invariant(void **state) {
    (void)state;
    tk_chain C;
    assert_true(tk_open(&C, NULL));
    cn_keypair k0, cl;
    tk_key(&k0, 0);
    tk_key(&cl, 100);
    uint8_t h[32], *b;
    size_t n;
    assert_true(cn_tx_register_client(&k0, TK_CHAIN, 1, cl.pub, "c", &b, &n));
    assert_int_equal(tk_submit(&C, b, n, NULL), CN_TX_OK);
    assert_true(cn_tx_deposit(&k0, TK_CHAIN, 2, cl.pub, "USD", USD(50), (const uint8_t *)"r1", 2,
                              &b, &n));
    assert_int_equal(tk_submit(&C, b, n, NULL), CN_TX_OK);
    /* governance (threshold 1 in this genesis): allow-list changes take effect at once */
    Clearnode__V1__Tx tx;
    Clearnode__V1__GovernancePropose gp;
    Clearnode__V1__ParamChange pc;
    clearnode__v1__tx__init(&tx);
    clearnode__v1__governance_propose__init(&gp);
    clearnode__v1__param_change__init(&pc);
    pc.key = (char *)(uintptr_t)"custody.allowlist_delay_ms";
    pc.value = 0;
    gp.expiry = tk_clock_now + 3600000;
    gp.action_case = CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_PARAM_CHANGE;
    gp.param_change = &pc;
    tx.kind_case = CLEARNODE__V1__TX__KIND_GOVERNANCE_PROPOSE;
    tx.governance_propose = &gp;
    assert_int_equal(chain_tx(&C, &k0, 3, &tx, h), CN_TX_OK);
    assert_int_equal(tk_block(&C), 1);
    assert_int_equal(tk_receipt_code(&C, h), CN_TX_OK);
    Clearnode__V1__AllowlistChange al;
    clearnode__v1__tx__init(&tx);
    clearnode__v1__allowlist_change__init(&al);
    al.destination = (char *)(uintptr_t)DEST;
    tx.kind_case = CLEARNODE__V1__TX__KIND_ALLOWLIST_CHANGE;
    tx.allowlist_change = &al;
    assert_int_equal(chain_tx(&C, &cl, 1, &tx, h), CN_TX_OK);
    assert_int_equal(tk_block(&C), 1);
    assert_int_equal(tk_receipt_code(&C, h), CN_TX_OK);
    Clearnode__V1__WithdrawRequest q;
    clearnode__v1__tx__init(&tx);
    clearnode__v1__withdraw_request__init(&q);
    q.asset = (char *)(uintptr_t)"USD";
    q.amount = USD(20);
    q.destination = (char *)(uintptr_t)DEST;
    q.expiry = tk_clock_now + 3600000;
    tx.kind_case = CLEARNODE__V1__TX__KIND_WITHDRAW_REQUEST;
    tx.withdraw_request = &q;
    assert_int_equal(chain_tx(&C, &cl, 2, &tx, h), CN_TX_OK);
    assert_int_equal(tk_block(&C), 1);
    assert_int_equal(tk_receipt_code(&C, h), CN_TX_OK);
    check_supply(&C); /* 30 free + 20 locked = 50 */
    assert_int_equal(tk_balance(&C, cl.pub, "USD"), (int64_t)USD(30));
    uint8_t d[32], sig[64];
    cn_withdraw_digest(d, TK_CHAIN, 1, 1, "USD", USD(20), DEST, q.expiry);
    assert_true(cn_sign32(&k0, sig, d, NULL));
    Clearnode__V1__WithdrawApprove ap;
    clearnode__v1__tx__init(&tx);
    clearnode__v1__withdraw_approve__init(&ap);
    ap.request_id = 1;
    ap.policy_version = 1;
    ap.approval_sig.data = sig;
    ap.approval_sig.len = 64;
    tx.kind_case = CLEARNODE__V1__TX__KIND_WITHDRAW_APPROVE;
    tx.withdraw_approve = &ap;
    assert_int_equal(chain_tx(&C, &k0, 4, &tx, h), CN_TX_OK);
    assert_int_equal(tk_block(&C), 1); /* 1 approval, cooldown 0: burns at end of block */
    assert_int_equal(tk_receipt_code(&C, h), CN_TX_OK);
    check_supply(&C);
    cn_store_rtxn *r;
    assert_int_equal(cn_store_read_begin(C.store, &r), CN_STORE_OK);
    cn_overlay ov;
    cn_overlay_init(&ov, r);
    int64_t s;
    cn_key k;
    cn_sk_supply(&k, "USD");
    assert_int_equal(cn_state_get_i64(&ov, &k, &s), 1);
    assert_int_equal(s, (int64_t)USD(30));
    assert_int_equal(ck_status_ov(&ov, 1), CN_WD_EXECUTED);
    cn_overlay_free(&ov);
    cn_store_read_end(r);
    tk_close(&C);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_two_of_three_with_cooldown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_key_counted_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_non_approver_and_replays, setup, teardown),
        cmocka_unit_test_setup_teardown(test_approval_after_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_freeze_blocks_execution, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_then_approve, setup, teardown),
        cmocka_unit_test_setup_teardown(test_approver_removed_while_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_high_tier_needs_three, setup, teardown),
        cmocka_unit_test_setup_teardown(test_velocity_boundary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allowlist_delay_boundary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validation_and_funds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_digest_vector, setup, teardown),
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_chain_burn_keeps_invariant),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
