/* Governance actions: what a proposal does once it has its approvals (docs/governance.md).
 *
 * cn_gov_action_apply checks the action against the current state and applies it; a failure
 * returns a code and a message, and the caller rolls the overlay back to its mark, so an action
 * is applied whole or not at all. After a member or approver-policy change the set invariants
 * are re-checked: 1 <= governance.threshold <= number of governors, and every tier's approvals
 * M satisfy 1 <= M <= number of approvers.
 */
#include "node/app/gov_actions.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/bytes.h"
#include "crypto/schnorr.h"
#include "node/app/custody.h"
#include "node/app/validators.h"
#include "node/contract/contract.h"

#define DAY INT64_C(86400000)

__attribute__((format(printf, 4, 5))) static cn_txerr aerr(char *msg, size_t cap, cn_txerr code,
                                                           const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, cap, fmt, ap);
    va_end(ap);
    return code;
}

const char *cn_gov_action_name(int c) {
    switch (c) {
    case CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_PARAM_CHANGE: return "param_change";
    case CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_CONTRACT_UPGRADE: return "contract_upgrade";
    case CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_ADD_MEMBER: return "add_member";
    case CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_REMOVE_MEMBER: return "remove_member";
    case CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_VALIDATOR_POWER: return "validator_power";
    case CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_RESUME_MARKET: return "resume_market";
    case CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_FREEZE_WITHDRAWALS: return "freeze_withdrawals";
    case CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_APPROVER_POLICY: return "approver_policy";
    case CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_CANCEL_PROPOSAL: return "cancel_proposal";
    default: return "none";
    }
}

uint32_t cn_gov_threshold(const Clearnode__V1__GovernancePropose *a, uint32_t m, uint32_t n) {
    if (a->action_case == CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_FREEZE_WITHDRAWALS &&
        a->freeze_withdrawals)
        return 1;
    if (a->action_case == CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_APPROVER_POLICY)
        return m + 1 <= n ? m + 1 : n;
    return m;
}

int cn_gov_action_delayed(const Clearnode__V1__GovernancePropose *a) {
    return a->action_case == CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_APPROVER_POLICY;
}

/* Set invariants after a change (see top). */
static cn_txerr check_sets(cn_overlay *ov, char *msg, size_t cap) {
    uint8_t gs[CN_GOV_MAX_GOVERNORS][32], as[CN_CUSTODY_MAX_APPROVERS][32];
    int ng = cn_gov_governors(ov, gs), na = cn_custody_approvers(ov, as);
    int64_t m;
    if (ng < 0 || na < 0 || cn_param_get(ov, "governance.threshold", 1, &m) < 0)
        return aerr(msg, cap, CN_TX_INTERNAL, "state read failed");
    if (m < 1 || m > ng)
        return aerr(msg, cap, CN_TX_BAD_PARAM,
                    "governance.threshold %lld would exceed the %d governors left", (long long)m,
                    ng);
    for (unsigned i = 0; i < CN_MAX_TIERS; i++) {
        char name[64];
        int64_t min, ap;
        snprintf(name, sizeof name, "custody.tier%u.min_amount_usd", i);
        if (cn_param_get(ov, name, -1, &min) < 0)
            return aerr(msg, cap, CN_TX_INTERNAL, "state read failed");
        if (min < 0)
            break;
        snprintf(name, sizeof name, "custody.tier%u.approvals", i);
        if (cn_param_get(ov, name, 1, &ap) < 0)
            return aerr(msg, cap, CN_TX_INTERNAL, "state read failed");
        if (ap < 1 || ap > na)
            return aerr(msg, cap, CN_TX_BAD_PARAM,
                        "custody tier %u needs %lld approvals but %d approvers would be left", i,
                        (long long)ap, na);
    }
    return CN_TX_OK;
}

/* Sets or clears one role bit on a member and keeps the role's key set in step. */
static cn_txerr set_roles(cn_overlay *ov, const uint8_t key[32], uint32_t roles,
                          const char *name, int *approvers_changed, char *msg, size_t cap) {
    cn_account a;
    int x = cn_state_get_account(ov, key, &a);
    if (x < 0)
        return aerr(msg, cap, CN_TX_INTERNAL, "state read failed");
    if (x && a.kind != CN_ACCT_MEMBER)
        return aerr(msg, cap, CN_TX_INVALID_FIELD, "member: the key is a client account");
    if (!x) {
        memset(&a, 0, sizeof a);
        a.kind = CN_ACCT_MEMBER;
    }
    a.roles = roles;
    if (name) {
        a.label_len = strlen(name);
        memcpy(a.label, name, a.label_len);
        a.label[a.label_len] = 0;
    }
    cn_key ka, kg;
    cn_sk_custody(&ka, 'S');
    cn_key_start(&kg, CN_SK_GOV);
    cn_key_u8(&kg, 'S');
    int ch_a, ch_g;
    if (!cn_state_put_account(ov, key, &a))
        return aerr(msg, cap, CN_TX_INTERNAL, "state write failed");
    if (!cn_keyset_update(ov, &ka, CN_CUSTODY_MAX_APPROVERS, key, (roles & CN_ROLE_APPROVER) != 0,
                          &ch_a))
        return aerr(msg, cap, CN_TX_LIMIT, "the approver set is full (%d)",
                    CN_CUSTODY_MAX_APPROVERS);
    if (!cn_keyset_update(ov, &kg, CN_GOV_MAX_GOVERNORS, key, (roles & CN_ROLE_GOVERNOR) != 0,
                          &ch_g))
        return aerr(msg, cap, CN_TX_LIMIT, "the governor set is full (%d)", CN_GOV_MAX_GOVERNORS);
    *approvers_changed |= ch_a;
    return CN_TX_OK;
}

static cn_txerr bump_policy(cn_overlay *ov, char *msg, size_t cap) {
    uint64_t v;
    cn_key k;
    cn_sk_custody(&k, 'v');
    if (cn_custody_policy_version(ov, &v) < 0 || !cn_state_put_i64(ov, &k, (int64_t)(v + 1)))
        return aerr(msg, cap, CN_TX_INTERNAL, "state write failed");
    return CN_TX_OK;
}

static cn_txerr apply_policy(cn_overlay *ov, const Clearnode__V1__ApproverPolicy *p, char *msg,
                             size_t cap) {
    uint8_t old[CN_CUSTODY_MAX_APPROVERS][32];
    int n_old = cn_custody_approvers(ov, old);
    if (n_old < 0)
        return aerr(msg, cap, CN_TX_INTERNAL, "state read failed");
    int changed = 0;
    cn_txerr e;
    for (int i = 0; i < n_old; i++) { /* old approvers lose the role */
        cn_account a;
        if (cn_state_get_account(ov, old[i], &a) != 1)
            return aerr(msg, cap, CN_TX_INTERNAL, "approver account missing");
        if ((e = set_roles(ov, old[i], a.roles & ~(uint32_t)CN_ROLE_APPROVER, NULL, &changed,
                           msg, cap)))
            return e;
    }
    for (size_t i = 0; i < p->n_approvers; i++) {
        cn_account a;
        int x = cn_state_get_account(ov, p->approvers[i].data, &a);
        if (x < 0)
            return aerr(msg, cap, CN_TX_INTERNAL, "state read failed");
        if (!x || a.kind != CN_ACCT_MEMBER)
            return aerr(msg, cap, CN_TX_UNKNOWN_ACCOUNT,
                        "approver_policy.approvers[%zu]: not a member", i);
        if ((e = set_roles(ov, p->approvers[i].data, a.roles | CN_ROLE_APPROVER, NULL, &changed,
                           msg, cap)))
            return e;
    }
    for (unsigned i = 0; i < CN_MAX_TIERS; i++) {
        const char *f[3] = {"min_amount_usd", "approvals", "cooldown_ms"};
        for (int j = 0; j < 3; j++) {
            char name[64];
            snprintf(name, sizeof name, "custody.tier%u.%s", i, f[j]);
            cn_key k;
            cn_sk_named(&k, CN_SK_PARAM, name);
            int ok;
            if (i < p->n_tiers) {
                const Clearnode__V1__ApprovalTier *t = p->tiers[i];
                int64_t v = j == 0 ? (int64_t)t->min_amount_usd
                                   : j == 1 ? (int64_t)t->approvals : (int64_t)t->cooldown_ms;
                ok = cn_state_put_i64(ov, &k, v);
            } else {
                ok = cn_overlay_del(ov, k.b, k.len);
            }
            if (!ok)
                return aerr(msg, cap, CN_TX_INTERNAL, "state write failed");
        }
    }
    return bump_policy(ov, msg, cap);
}

cn_txerr cn_gov_action_validate(const Clearnode__V1__GovernancePropose *a, char *msg,
                                size_t cap) {
    switch ((int)a->action_case) {
    case CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_PARAM_CHANGE: {
        size_t n = strlen(a->param_change->key);
        if (n == 0 || n > 64)
            return aerr(msg, cap, CN_TX_INVALID_FIELD, "param_change.key: must be 1..64 bytes");
        return CN_TX_OK;
    }
    case CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_CONTRACT_UPGRADE:
        if (!cn_contract_name_valid(a->contract_upgrade->name))
            return aerr(msg, cap, CN_TX_INVALID_FIELD,
                        "contract_upgrade.name: not 1..32 characters of [a-z0-9_]");
        if (a->contract_upgrade->bytecode.len == 0 ||
            a->contract_upgrade->bytecode.len > CN_CONTRACT_DEPLOY_MAX)
            return aerr(msg, cap, CN_TX_INVALID_FIELD, "contract_upgrade.bytecode: 1..%zu bytes",
                        CN_CONTRACT_DEPLOY_MAX);
        return CN_TX_OK;
    case CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_ADD_MEMBER: {
        const Clearnode__V1__MemberChange *m = a->add_member;
        if (m->pubkey.len != 32 || !cn_pubkey_valid(m->pubkey.data))
            return aerr(msg, cap, CN_TX_INVALID_FIELD, "add_member.pubkey: not a valid key");
        if (m->roles == 0 || (m->roles & ~(uint32_t)CN_ROLE_ALL))
            return aerr(msg, cap, CN_TX_INVALID_FIELD, "add_member.roles: must be 1..%u",
                        CN_ROLE_ALL);
        size_t n = strlen(m->name);
        if (n == 0 || n > CN_LABEL_MAX)
            return aerr(msg, cap, CN_TX_INVALID_FIELD, "add_member.name: must be 1..%d bytes",
                        CN_LABEL_MAX);
        return CN_TX_OK;
    }
    case CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_REMOVE_MEMBER:
        if (a->remove_member.len != 32 || !cn_pubkey_valid(a->remove_member.data))
            return aerr(msg, cap, CN_TX_INVALID_FIELD, "remove_member: not a valid key");
        return CN_TX_OK;
    case CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_VALIDATOR_POWER:
        if (a->validator_power->pubkey.len != 32 ||
            !cn_pubkey_valid(a->validator_power->pubkey.data))
            return aerr(msg, cap, CN_TX_INVALID_FIELD, "validator_power.pubkey: not a valid key");
        if (a->validator_power->power > (uint64_t)CN_MAX_POWER)
            return aerr(msg, cap, CN_TX_INVALID_FIELD, "validator_power.power: 0..%lld",
                        (long long)CN_MAX_POWER);
        return CN_TX_OK;
    case CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_RESUME_MARKET:
        if (strlen(a->resume_market) > CN_SYMBOL_MAX)
            return aerr(msg, cap, CN_TX_INVALID_FIELD, "resume_market: \"\" or an asset symbol");
        return CN_TX_OK;
    case CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_FREEZE_WITHDRAWALS:
        return CN_TX_OK;
    case CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_APPROVER_POLICY: {
        const Clearnode__V1__ApproverPolicy *p = a->approver_policy;
        if (p->n_approvers == 0 || p->n_approvers > CN_CUSTODY_MAX_APPROVERS)
            return aerr(msg, cap, CN_TX_INVALID_FIELD, "approver_policy.approvers: 1..%d keys",
                        CN_CUSTODY_MAX_APPROVERS);
        for (size_t i = 0; i < p->n_approvers; i++) {
            if (p->approvers[i].len != 32 || !cn_pubkey_valid(p->approvers[i].data))
                return aerr(msg, cap, CN_TX_INVALID_FIELD,
                            "approver_policy.approvers[%zu]: not a valid key", i);
            for (size_t j = 0; j < i; j++)
                if (memcmp(p->approvers[i].data, p->approvers[j].data, 32) == 0)
                    return aerr(msg, cap, CN_TX_INVALID_FIELD,
                                "approver_policy.approvers[%zu]: repeated", i);
        }
        if (p->n_tiers == 0 || p->n_tiers > CN_MAX_TIERS)
            return aerr(msg, cap, CN_TX_INVALID_FIELD, "approver_policy.tiers: 1..%d tiers",
                        CN_MAX_TIERS);
        for (size_t i = 0; i < p->n_tiers; i++) {
            const Clearnode__V1__ApprovalTier *t = p->tiers[i];
            if (i == 0 ? t->min_amount_usd != 0
                       : t->min_amount_usd <= p->tiers[i - 1]->min_amount_usd ||
                             t->min_amount_usd > (uint64_t)INT64_MAX)
                return aerr(msg, cap, CN_TX_INVALID_FIELD,
                            "approver_policy.tiers[%zu].min_amount_usd: the first is 0, then "
                            "strictly increasing",
                            i);
            if (t->approvals < 1 || t->approvals > p->n_approvers ||
                (i > 0 && t->approvals < p->tiers[i - 1]->approvals))
                return aerr(msg, cap, CN_TX_INVALID_FIELD,
                            "approver_policy.tiers[%zu].approvals: 1..%zu approvers, never "
                            "decreasing",
                            i, p->n_approvers);
            if (t->cooldown_ms > (uint64_t)(30 * DAY))
                return aerr(msg, cap, CN_TX_INVALID_FIELD,
                            "approver_policy.tiers[%zu].cooldown_ms: at most 30 days", i);
        }
        return CN_TX_OK;
    }
    case CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_CANCEL_PROPOSAL:
        if (a->cancel_proposal == 0)
            return aerr(msg, cap, CN_TX_INVALID_FIELD, "cancel_proposal: must be set");
        return CN_TX_OK;
    case CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION__NOT_SET:
    default:
        return aerr(msg, cap, CN_TX_INVALID_FIELD, "governance_propose: no action set");
    }
}

cn_txerr cn_gov_action_apply(cn_overlay *ov, uint64_t height, uint64_t now, uint64_t self_id,
                             const Clearnode__V1__GovernancePropose *a, char *msg, size_t cap) {
    cn_txerr e;
    int changed = 0;
    switch ((int)a->action_case) {
    case CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_PARAM_CHANGE:
        if ((e = cn_gov_param_check(ov, a->param_change->key, a->param_change->value, msg, cap)))
            return e;
        if (!cn_param_put(ov, a->param_change->key, a->param_change->value))
            return aerr(msg, cap, CN_TX_INTERNAL, "state write failed");
        return CN_TX_OK;
    case CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_CONTRACT_UPGRADE: {
        const Clearnode__V1__ContractUpgrade *u = a->contract_upgrade;
        cn_key k;
        cn_sk_named(&k, CN_SK_CONTRACT, u->name);
        const uint8_t *v;
        size_t n;
        int x = cn_overlay_get(ov, k.b, k.len, &v, &n);
        if (x < 0)
            return aerr(msg, cap, CN_TX_INTERNAL, "state read failed");
        if (!x)
            return aerr(msg, cap, CN_TX_UNKNOWN_CONTRACT, "contract_upgrade.name: '%s' is not "
                        "deployed", u->name);
        char why[160];
        if (!cn_contract_verify(u->bytecode.data, u->bytecode.len, why, sizeof why))
            return aerr(msg, cap, CN_TX_INVALID_FIELD, "contract_upgrade.bytecode: %s", why);
        if (!cn_overlay_put(ov, k.b, k.len, u->bytecode.data, u->bytecode.len))
            return aerr(msg, cap, CN_TX_INTERNAL, "state write failed");
        return CN_TX_OK;
    }
    case CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_ADD_MEMBER:
        e = set_roles(ov, a->add_member->pubkey.data, a->add_member->roles, a->add_member->name,
                      &changed, msg, cap);
        break;
    case CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_REMOVE_MEMBER: {
        cn_account acct;
        int x = cn_state_get_account(ov, a->remove_member.data, &acct);
        if (x < 0)
            return aerr(msg, cap, CN_TX_INTERNAL, "state read failed");
        if (!x || acct.kind != CN_ACCT_MEMBER || acct.roles == 0)
            return aerr(msg, cap, CN_TX_UNKNOWN_ACCOUNT, "remove_member: not a current member");
        e = set_roles(ov, a->remove_member.data, 0, NULL, &changed, msg, cap);
        break;
    }
    case CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_VALIDATOR_POWER: {
        cn_account acct;
        int x = cn_state_get_account(ov, a->validator_power->pubkey.data, &acct);
        if (x < 0)
            return aerr(msg, cap, CN_TX_INTERNAL, "state read failed");
        if (!x || !(acct.roles & CN_ROLE_VALIDATOR))
            return aerr(msg, cap, CN_TX_UNKNOWN_ACCOUNT,
                        "validator_power.pubkey: not a member with the validator role");
        /* pending: the changes for height + 1 (not applied yet), then those for height + 2 */
        uint8_t pend[2 * CN_GOV_MAX_POWER_CHANGES * 40];
        uint8_t *list = pend + CN_GOV_MAX_POWER_CHANGES * 40;
        cn_key k1, k;
        cn_key_start(&k1, CN_SK_GOV);
        cn_key_u8(&k1, 'V');
        cn_key_be64(&k1, height + 1);
        cn_key_start(&k, CN_SK_GOV);
        cn_key_u8(&k, 'V');
        cn_key_be64(&k, height + 2);
        int n1 = cn_list_get(ov, &k1, pend, 40, CN_GOV_MAX_POWER_CHANGES);
        int n = cn_list_get(ov, &k, list, 40, CN_GOV_MAX_POWER_CHANGES);
        if (n < 0 || n1 < 0)
            return aerr(msg, cap, CN_TX_INTERNAL, "state read failed");
        if (n == CN_GOV_MAX_POWER_CHANGES)
            return aerr(msg, cap, CN_TX_LIMIT, "validator_power: too many changes at one height");
        /* the changes of height + 1 move up to sit right before those of height + 2 */
        memmove(list - (size_t)n1 * 40, pend, (size_t)n1 * 40);
        char why[120];
        int okc = cn_validators_check_change(ov, list - (size_t)n1 * 40, (size_t)(n1 + n),
                                             a->validator_power->pubkey.data,
                                             (int64_t)a->validator_power->power, why,
                                             sizeof why);
        if (okc < 0)
            return aerr(msg, cap, CN_TX_INTERNAL, "state read failed");
        if (!okc)
            return aerr(msg, cap, CN_TX_INVALID_FIELD, "validator_power: %s", why);
        memcpy(list + (size_t)n * 40, a->validator_power->pubkey.data, 32);
        cn_put_be64(list + (size_t)n * 40 + 32, a->validator_power->power);
        if (!cn_list_put(ov, &k, list, 40, (size_t)n + 1))
            return aerr(msg, cap, CN_TX_INTERNAL, "state write failed");
        return CN_TX_OK;
    }
    case CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_RESUME_MARKET: {
        int x = cn_oracle_resume_market(ov, now, a->resume_market, NULL, msg, cap);
        if (x < 0)
            return aerr(msg, cap, CN_TX_INTERNAL, "state read failed");
        return x ? CN_TX_OK : CN_TX_BAD_STATE;
    }
    case CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_FREEZE_WITHDRAWALS: {
        cn_key k;
        cn_sk_custody(&k, 'F');
        int ok = a->freeze_withdrawals ? cn_state_put_i64(ov, &k, 1)
                                       : cn_overlay_del(ov, k.b, k.len);
        return ok ? CN_TX_OK : aerr(msg, cap, CN_TX_INTERNAL, "state write failed");
    }
    case CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_APPROVER_POLICY:
        if ((e = apply_policy(ov, a->approver_policy, msg, cap)))
            return e;
        return check_sets(ov, msg, cap);
    case CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_CANCEL_PROPOSAL: {
        cn_proposal p;
        if (a->cancel_proposal == self_id)
            return aerr(msg, cap, CN_TX_INVALID_FIELD, "cancel_proposal: cannot cancel itself");
        int x = cn_gov_get(ov, a->cancel_proposal, &p);
        if (x < 0)
            return aerr(msg, cap, CN_TX_INTERNAL, "state read failed");
        if (!x)
            return aerr(msg, cap, CN_TX_NOT_FOUND, "cancel_proposal: no proposal %llu",
                        (unsigned long long)a->cancel_proposal);
        int ok = 1;
        if (p.status != CN_GOV_OPEN && p.status != CN_GOV_DELAYED)
            e = aerr(msg, cap, CN_TX_BAD_STATE, "cancel_proposal: proposal %llu is not pending",
                     (unsigned long long)p.id);
        else {
            p.status = CN_GOV_CANCELLED;
            p.closed_height = height;
            ok = cn_gov_put(ov, &p) && cn_gov_unopen(ov, p.id);
            e = ok ? CN_TX_OK : aerr(msg, cap, CN_TX_INTERNAL, "state write failed");
        }
        free(p.action);
        return e;
    }
    case CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION__NOT_SET:
    default:
        return aerr(msg, cap, CN_TX_INVALID_FIELD, "governance_propose: no action set");
    }
    /* member changes */
    if (e)
        return e;
    if (changed && (e = bump_policy(ov, msg, cap)))
        return e;
    return check_sets(ov, msg, cap);
}
