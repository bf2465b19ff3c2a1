/* Governance: M-of-N proposals driven through the governance executor and end of block
 * (cuskit.h: three governors, threshold 2). M-1 approvals, duplicates, non-governors, expiry,
 * 1 <= M <= N, parameter registry, member changes, validator power at H+2, the delayed
 * approver-policy change and its cancellation, contract upgrade of an unknown contract. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cuskit.h"

static ck_world W;

static int setup(void **state) {
    (void)state;
    assert_true(cn_crypto_init());
    assert_true(ck_open(&W));
    return 0;
}

static int teardown(void **state) {
    (void)state;
    ck_close(&W);
    return 0;
}

static cn_txerr propose_param(const cn_keypair *by, const char *key, int64_t v, uint64_t exp) {
    Clearnode__V1__GovernancePropose p;
    Clearnode__V1__ParamChange pc;
    clearnode__v1__governance_propose__init(&p);
    clearnode__v1__param_change__init(&pc);
    pc.key = (char *)(uintptr_t)key;
    pc.value = v;
    p.action_case = CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_PARAM_CHANGE;
    p.param_change = &pc;
    return ck_propose(&W, by, &p, exp, NULL);
}

static int64_t param(const char *name) {
    int64_t v = -1;
    assert_int_equal(cn_param_get(&W.ov, name, -1, &v), 1);
    return v;
}

static void test_m_minus_one_then_m(void **state) {
    (void)state;
    assert_int_equal(propose_param(&W.k[0], "custody.allowlist_delay_ms", 5000, W.now + 60000),
                     CN_TX_OK);
    assert_int_equal(ck_gov_status(&W, 1), CN_GOV_OPEN); /* proposer = 1 of 2 */
    assert_true(ck_end(&W, 1000));
    assert_int_equal(ck_gov_status(&W, 1), CN_GOV_OPEN);
    assert_int_equal(param("custody.allowlist_delay_ms"), -1);
    assert_int_equal(ck_gov_approve(&W, &W.k[0], 1), CN_TX_DUPLICATE_APPROVAL);
    assert_int_equal(ck_gov_approve(&W, &W.k[3], 1), CN_TX_NOT_APPROVER);
    assert_int_equal(ck_gov_approve(&W, &W.k[1], 1), CN_TX_OK);
    assert_int_equal(ck_gov_status(&W, 1), CN_GOV_EXECUTED);
    assert_int_equal(param("custody.allowlist_delay_ms"), 5000);
    assert_int_equal(ck_gov_approve(&W, &W.k[2], 1), CN_TX_BAD_STATE);
    assert_int_equal(ck_gov_approve(&W, &W.k[2], 7), CN_TX_NOT_FOUND);
}

static void test_expiry(void **state) {
    (void)state;
    uint64_t exp = W.now + 2000;
    assert_int_equal(propose_param(&W.k[0], "governance.policy_delay_ms", 1, exp), CN_TX_OK);
    W.now = exp + 1;
    assert_int_equal(ck_gov_approve(&W, &W.k[1], 1), CN_TX_EXPIRED);
    assert_true(ck_end(&W, 1000));
    assert_int_equal(ck_gov_status(&W, 1), CN_GOV_EXPIRED);
    assert_int_equal(ck_gov_approve(&W, &W.k[1], 1), CN_TX_BAD_STATE);
    /* expiry in the past or too far ahead */
    assert_int_equal(propose_param(&W.k[0], "governance.policy_delay_ms", 1, W.now),
                     CN_TX_EXPIRED);
    assert_int_equal(propose_param(&W.k[0], "governance.policy_delay_ms", 1,
                                   W.now + UINT64_C(2592000001)),
                     CN_TX_INVALID_FIELD);
}

static void test_threshold_bounds(void **state) {
    (void)state;
    /* M > N and M < 1 refused when they would execute; unknown params too */
    assert_int_equal(propose_param(&W.k[0], "governance.threshold", 4, W.now + 60000), CN_TX_OK);
    assert_int_equal(ck_gov_approve(&W, &W.k[1], 1), CN_TX_BAD_PARAM);
    assert_int_equal(ck_gov_status(&W, 1), CN_GOV_OPEN);
    assert_int_equal(propose_param(&W.k[0], "governance.threshold", 0, W.now + 60000), CN_TX_OK);
    assert_int_equal(ck_gov_approve(&W, &W.k[1], 2), CN_TX_BAD_PARAM);
    assert_int_equal(propose_param(&W.k[0], "no.such", 1, W.now + 60000), CN_TX_OK);
    assert_int_equal(ck_gov_approve(&W, &W.k[1], 3), CN_TX_BAD_PARAM);
    /* M = N = 3 is fine; then removing a governor would leave N < M */
    assert_int_equal(propose_param(&W.k[0], "governance.threshold", 3, W.now + 60000), CN_TX_OK);
    assert_int_equal(ck_gov_approve(&W, &W.k[1], 4), CN_TX_OK);
    assert_int_equal(param("governance.threshold"), 3);
    Clearnode__V1__GovernancePropose rm;
    clearnode__v1__governance_propose__init(&rm);
    rm.action_case = CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_REMOVE_MEMBER;
    rm.remove_member.data = W.k[2].pub;
    rm.remove_member.len = 32;
    assert_int_equal(ck_propose(&W, &W.k[0], &rm, W.now + 60000, NULL), CN_TX_OK);
    assert_int_equal(ck_gov_approve(&W, &W.k[1], 5), CN_TX_OK);
    assert_int_equal(ck_gov_approve(&W, &W.k[2], 5), CN_TX_BAD_PARAM);
    assert_int_equal(ck_gov_status(&W, 5), CN_GOV_OPEN);
}

static Clearnode__V1__ApprovalTier T0, T1;
static Clearnode__V1__ApprovalTier *TP[2] = {&T0, &T1};
static ProtobufCBinaryData AK[3];
static Clearnode__V1__ApproverPolicy POL;

/* New policy: approvers a0, a2, m3; one tier needing `m`. */
static void make_policy(Clearnode__V1__GovernancePropose *p, uint32_t m) {
    clearnode__v1__governance_propose__init(p);
    clearnode__v1__approver_policy__init(&POL);
    clearnode__v1__approval_tier__init(&T0);
    clearnode__v1__approval_tier__init(&T1);
    T0.approvals = m;
    T0.cooldown_ms = 0;
    unsigned idx[3] = {0, 2, 3};
    for (int i = 0; i < 3; i++) {
        AK[i].data = W.k[idx[i]].pub;
        AK[i].len = 32;
    }
    POL.approvers = AK;
    POL.n_approvers = 3;
    POL.tiers = TP;
    POL.n_tiers = 1;
    p->action_case = CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_APPROVER_POLICY;
    p->approver_policy = &POL;
}

static void test_policy_delay_and_cancel(void **state) {
    (void)state;
    assert_true(cn_param_put(&W.ov, "governance.policy_delay_ms", 10000));
    Clearnode__V1__GovernancePropose p;
    make_policy(&p, 2);
    assert_int_equal(ck_propose(&W, &W.k[0], &p, W.now + 60000, NULL), CN_TX_OK);
    /* the higher threshold: M + 1 = 3 of 3 */
    assert_int_equal(ck_gov_approve(&W, &W.k[1], 1), CN_TX_OK);
    assert_int_equal(ck_gov_status(&W, 1), CN_GOV_OPEN);
    assert_int_equal(ck_gov_approve(&W, &W.k[2], 1), CN_TX_OK);
    assert_int_equal(ck_gov_status(&W, 1), CN_GOV_DELAYED);
    assert_int_equal(ck_pv(&W), 1);
    /* cancelled during the delay (M = 2) */
    Clearnode__V1__GovernancePropose c;
    clearnode__v1__governance_propose__init(&c);
    c.action_case = CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_CANCEL_PROPOSAL;
    c.cancel_proposal = 1;
    assert_int_equal(ck_propose(&W, &W.k[1], &c, W.now + 60000, NULL), CN_TX_OK);
    assert_int_equal(ck_gov_approve(&W, &W.k[2], 2), CN_TX_OK);
    assert_int_equal(ck_gov_status(&W, 1), CN_GOV_CANCELLED);
    assert_true(ck_end(&W, 20000));
    assert_true(ck_end(&W, 0));
    assert_int_equal(ck_gov_status(&W, 1), CN_GOV_CANCELLED);
    assert_int_equal(ck_pv(&W), 1);
    /* the same policy again, not cancelled: applies exactly at the end of the delay */
    make_policy(&p, 2);
    assert_int_equal(ck_propose(&W, &W.k[0], &p, W.now + 60000, NULL), CN_TX_OK);
    assert_int_equal(ck_gov_approve(&W, &W.k[1], 3), CN_TX_OK);
    assert_int_equal(ck_gov_approve(&W, &W.k[2], 3), CN_TX_OK);
    assert_true(ck_end(&W, 9999));
    assert_true(ck_end(&W, 1));
    assert_int_equal(ck_gov_status(&W, 3), CN_GOV_DELAYED);
    assert_true(ck_end(&W, 0)); /* now = approval time + 10000 */
    assert_int_equal(ck_gov_status(&W, 3), CN_GOV_EXECUTED);
    assert_int_equal(ck_pv(&W), 2);
    uint8_t set[CN_CUSTODY_MAX_APPROVERS][32];
    assert_int_equal(cn_custody_approvers(&W.ov, set), 3);
    cn_account a;
    assert_int_equal(cn_state_get_account(&W.ov, W.k[1].pub, &a), 1);
    assert_false(a.roles & CN_ROLE_APPROVER);
    assert_int_equal(cn_state_get_account(&W.ov, W.k[3].pub, &a), 1);
    assert_true(a.roles & CN_ROLE_APPROVER);
    assert_int_equal(param("custody.tier0.approvals"), 2);
    assert_int_equal(param("custody.tier1.approvals"), -1); /* the second tier is gone */
}

static void test_policy_bounds(void **state) {
    (void)state;
    Clearnode__V1__GovernancePropose p;
    cn_exec_result r;
    make_policy(&p, 4); /* M > N */
    assert_int_equal(ck_propose(&W, &W.k[0], &p, W.now + 60000, &r), CN_TX_INVALID_FIELD);
    make_policy(&p, 0); /* M < 1 */
    assert_int_equal(ck_propose(&W, &W.k[0], &p, W.now + 60000, &r), CN_TX_INVALID_FIELD);
    make_policy(&p, 1);
    T0.min_amount_usd = 5; /* first tier must start at 0 */
    assert_int_equal(ck_propose(&W, &W.k[0], &p, W.now + 60000, &r), CN_TX_INVALID_FIELD);
    make_policy(&p, 1);
    AK[1] = AK[0]; /* repeated approver */
    assert_int_equal(ck_propose(&W, &W.k[0], &p, W.now + 60000, &r), CN_TX_INVALID_FIELD);
}

static void test_validator_power_h2(void **state) {
    (void)state;
    Clearnode__V1__GovernancePropose p;
    Clearnode__V1__ValidatorPower vp;
    clearnode__v1__governance_propose__init(&p);
    clearnode__v1__validator_power__init(&vp);
    vp.pubkey.data = W.k[0].pub;
    vp.pubkey.len = 32;
    vp.power = 25;
    p.action_case = CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_VALIDATOR_POWER;
    p.validator_power = &vp;
    assert_int_equal(ck_propose(&W, &W.k[0], &p, W.now + 60000, NULL), CN_TX_OK);
    uint64_t h = W.height;
    assert_int_equal(ck_gov_approve(&W, &W.k[1], 1), CN_TX_OK);
    cn_account a;
    assert_true(ck_end(&W, 1000)); /* end of H */
    assert_int_equal(cn_state_get_account(&W.ov, W.k[0].pub, &a), 1);
    assert_int_equal(a.power, 10);
    assert_true(ck_end(&W, 1000)); /* end of H+1: in effect for H+2 */
    assert_int_equal(W.height, h + 2);
    assert_int_equal(cn_state_get_account(&W.ov, W.k[0].pub, &a), 1);
    assert_int_equal(a.power, 25);
    /* a non-validator's power cannot change */
    vp.pubkey.data = W.k[1].pub;
    assert_int_equal(ck_propose(&W, &W.k[0], &p, W.now + 60000, NULL), CN_TX_OK);
    assert_int_equal(ck_gov_approve(&W, &W.k[1], 2), CN_TX_UNKNOWN_ACCOUNT);
}

static void test_upgrade_unknown_contract(void **state) {
    (void)state;
    Clearnode__V1__GovernancePropose p;
    Clearnode__V1__ContractUpgrade u;
    clearnode__v1__governance_propose__init(&p);
    clearnode__v1__contract_upgrade__init(&u);
    uint8_t junk[4] = {1, 2, 3, 4};
    u.name = (char *)(uintptr_t)"margin";
    u.bytecode.data = junk;
    u.bytecode.len = sizeof junk;
    p.action_case = CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_CONTRACT_UPGRADE;
    p.contract_upgrade = &u;
    assert_int_equal(ck_propose(&W, &W.k[0], &p, W.now + 60000, NULL), CN_TX_OK);
    assert_int_equal(ck_gov_approve(&W, &W.k[1], 1), CN_TX_UNKNOWN_CONTRACT);
    /* a deployed name with bytecode the verifier rejects */
    cn_key k;
    cn_sk_named(&k, CN_SK_CONTRACT, "margin");
    assert_true(cn_overlay_put(&W.ov, k.b, k.len, junk, 1));
    assert_int_equal(ck_gov_approve(&W, &W.k[1], 1), CN_TX_INVALID_FIELD);
}

static void test_oracle_params_and_resume(void **state) {
    (void)state;
    /* the oracle module checks its own names: an even quorum is refused */
    assert_int_equal(propose_param(&W.k[0], "oracle.quorum", 2, W.now + 60000), CN_TX_OK);
    assert_int_equal(ck_gov_approve(&W, &W.k[1], 1), CN_TX_BAD_PARAM);
    assert_int_equal(propose_param(&W.k[0], "oracle.max_age_ms", 20000, W.now + 60000), CN_TX_OK);
    assert_int_equal(ck_gov_approve(&W, &W.k[1], 2), CN_TX_OK);
    assert_int_equal(param("oracle.max_age_ms"), 20000);
    /* resuming a market that is not halted changes nothing and fails */
    Clearnode__V1__GovernancePropose p;
    clearnode__v1__governance_propose__init(&p);
    p.action_case = CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_RESUME_MARKET;
    p.resume_market = (char *)(uintptr_t)"";
    assert_int_equal(ck_propose(&W, &W.k[0], &p, W.now + 60000, NULL), CN_TX_OK);
    assert_int_equal(ck_gov_approve(&W, &W.k[1], 3), CN_TX_BAD_STATE);
}

static void test_audit_events_on_expiry(void **state) {
    (void)state;
    assert_int_equal(propose_param(&W.k[0], "oracle.quorum", 1, W.now + 1000), CN_TX_OK);
    uint64_t h = W.height;
    W.now += 1001;
    cn_evlist ev = {0};
    assert_true(cn_gov_end_block(&W.ov, h, W.now, &ev));
    assert_int_equal(ev.n, 1);
    assert_string_equal(ev.ev[0].type, "governance.expired");
    cn_evlist_free(&ev);
    cn_key k;
    cn_key_start(&k, CN_SK_GOV);
    cn_key_u8(&k, 'E');
    cn_key_be64(&k, h);
    cn_key_be64(&k, 1);
    cn_key_u8(&k, 'x');
    const uint8_t *v;
    size_t n;
    assert_int_equal(cn_overlay_get(&W.ov, k.b, k.len, &v, &n), 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_m_minus_one_then_m, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threshold_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_delay_and_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validator_power_h2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_unknown_contract, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oracle_params_and_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_events_on_expiry, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
