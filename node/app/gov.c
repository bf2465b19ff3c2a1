/* Governance transactions (governance_propose, governance_approve) and end-of-block work
 * (see gov.h for the rules; docs/governance.md for every detail).
 *
 * The stored action is an encoded Tx whose only field is governance_propose, so it is decoded
 * back through the same bounded decoder as any transaction.
 */
#include "node/app/gov_actions.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/bytes.h"
#include "crypto/encoding.h"
#include "node/app/custody.h"
#include "node/app/validators.h"

int cn_gov_kind(int k) {
    return k == CLEARNODE__V1__TX__KIND_GOVERNANCE_PROPOSE ||
           k == CLEARNODE__V1__TX__KIND_GOVERNANCE_APPROVE;
}

cn_txerr cn_gov_validate(const Clearnode__V1__Tx *tx, char *msg, size_t cap) {
    if (tx->kind_case == CLEARNODE__V1__TX__KIND_GOVERNANCE_APPROVE) {
        if (tx->governance_approve->proposal_id == 0) {
            snprintf(msg, cap, "governance_approve.proposal_id: must be set");
            return CN_TX_INVALID_FIELD;
        }
        return CN_TX_OK;
    }
    const Clearnode__V1__GovernancePropose *p = tx->governance_propose;
    if (p->expiry == 0 || p->expiry > (uint64_t)INT64_MAX) {
        snprintf(msg, cap, "governance_propose.expiry: must be set");
        return CN_TX_INVALID_FIELD;
    }
    return cn_gov_action_validate(p, msg, cap);
}

__attribute__((format(printf, 3, 4))) static void fail(cn_exec_result *r, cn_txerr code,
                                                       const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
    r->code = code;
    r->n_events = 0;
}
#define STORAGE_FAIL(r) fail(r, CN_TX_INTERNAL, "state read or write failed")

static void attr(cn_event *e, const char *key, const char *v) {
    if (e->n >= CN_EVENT_MAX_ATTRS)
        return;
    e->attrs[e->n].key = key;
    snprintf(e->attrs[e->n].value, CN_EVENT_VALUE_MAX, "%s", v);
    e->n++;
}

static void attr_u64(cn_event *e, const char *key, uint64_t v) {
    char s[24];
    snprintf(s, sizeof s, "%llu", (unsigned long long)v);
    attr(e, key, s);
}

static void attr_key(cn_event *e, const char *key, const uint8_t k[32]) {
    char hex[65];
    cn_hex_encode(hex, k, 32);
    attr(e, key, hex);
}

static void sk_open(cn_key *k) {
    cn_key_start(k, CN_SK_GOV);
    cn_key_u8(k, 'O');
}

int cn_gov_unopen(cn_overlay *ov, uint64_t id) {
    uint8_t list[CN_GOV_MAX_OPEN * 8];
    cn_key k;
    sk_open(&k);
    int n = cn_list_get(ov, &k, list, 8, CN_GOV_MAX_OPEN);
    if (n < 0)
        return 0;
    size_t m = 0;
    for (size_t i = 0; i < (size_t)n; i++)
        if (cn_get_be64(list + i * 8) != id)
            memmove(list + m++ * 8, list + i * 8, 8);
    return cn_list_put(ov, &k, list, 8, m);
}

/* Decodes a stored action. Returns the action or NULL (pb freed by the caller either way). */
static const Clearnode__V1__GovernancePropose *decode_action(const cn_proposal *p, cn_pb *pb) {
    memset(pb, 0, sizeof *pb);
    if (cn_decode(CN_MSG_TX, p->action, p->action_len, pb) != CN_DECODE_OK)
        return NULL;
    const Clearnode__V1__Tx *t = (const Clearnode__V1__Tx *)pb->msg;
    return t->kind_case == CLEARNODE__V1__TX__KIND_GOVERNANCE_PROPOSE ? t->governance_propose
                                                                       : NULL;
}

/* Approvals that count: keys still in the governor set. -1 on error. */
static int count_approvals(cn_overlay *ov, const cn_proposal *p, uint32_t *n_governors,
                           int signer_in_set_out[1], const uint8_t signer[32]) {
    uint8_t set[CN_GOV_MAX_GOVERNORS][32];
    int ns = cn_gov_governors(ov, set);
    if (ns < 0)
        return -1;
    int c = 0;
    signer_in_set_out[0] = 0;
    for (int j = 0; j < ns; j++)
        signer_in_set_out[0] |= memcmp(set[j], signer, 32) == 0;
    for (size_t i = 0; i < p->n_approvals; i++)
        for (int j = 0; j < ns; j++)
            c += memcmp(set[j], p->approvals[i], 32) == 0;
    *n_governors = (uint32_t)ns;
    return c;
}

/* Runs the action once the proposal reached its threshold: now, or after the policy delay. */
static void reach(cn_overlay *ov, uint64_t height, uint64_t now, cn_proposal *p,
                  const Clearnode__V1__GovernancePropose *a, cn_exec_result *r) {
    if (cn_gov_action_delayed(a)) {
        int64_t delay;
        if (cn_param_get(ov, "governance.policy_delay_ms", CN_GOV_DEF_POLICY_DELAY_MS, &delay) <
            0)
            return STORAGE_FAIL(r);
        p->status = CN_GOV_DELAYED;
        p->effective_time = now + (uint64_t)delay;
    } else {
        cn_txerr e = cn_gov_action_apply(ov, height, now, p->id, a, r->message, sizeof r->message);
        if (e) {
            r->code = e;
            r->n_events = 0;
            return;
        }
        p->status = CN_GOV_EXECUTED;
        p->closed_height = height;
        if (!cn_gov_unopen(ov, p->id))
            return STORAGE_FAIL(r);
    }
    if (!cn_gov_put(ov, p))
        return STORAGE_FAIL(r);
    cn_event *e = &r->events[r->n_events++];
    memset(e, 0, sizeof *e);
    e->type = p->status == CN_GOV_DELAYED ? "governance.delayed" : "governance.executed";
    attr_u64(e, "proposal_id", p->id);
    attr(e, "action", cn_gov_action_name((int)a->action_case));
    if (p->status == CN_GOV_DELAYED)
        attr_u64(e, "effective_at", p->effective_time);
    if (a->action_case == CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_PARAM_CHANGE) {
        char v[24];
        snprintf(v, sizeof v, "%lld", (long long)a->param_change->value);
        attr(e, "key", a->param_change->key);
        attr(e, "value", v);
    }
}

static void exec_propose(cn_overlay *ov, uint64_t height, uint64_t now, const uint8_t signer[32],
                         const Clearnode__V1__Tx *tx, cn_exec_result *r) {
    const Clearnode__V1__GovernancePropose *a = tx->governance_propose;
    int64_t max_exp, m;
    if (cn_param_get(ov, "governance.max_expiry_ms", INT64_C(2592000000), &max_exp) < 0 ||
        cn_param_get(ov, "governance.threshold", 1, &m) < 0)
        return STORAGE_FAIL(r);
    if (a->expiry <= now)
        return fail(r, CN_TX_EXPIRED, "governance_propose.expiry: not after block time %llu",
                    (unsigned long long)now);
    if (a->expiry - now > (uint64_t)max_exp)
        return fail(r, CN_TX_INVALID_FIELD,
                    "governance_propose.expiry: more than %lld ms after block time",
                    (long long)max_exp);
    uint8_t list[CN_GOV_MAX_OPEN * 8];
    cn_key ko, kn;
    sk_open(&ko);
    cn_key_start(&kn, CN_SK_GOV);
    cn_key_u8(&kn, 'n');
    int no = cn_list_get(ov, &ko, list, 8, CN_GOV_MAX_OPEN);
    int64_t last;
    if (no < 0 || cn_state_get_i64(ov, &kn, &last) < 0)
        return STORAGE_FAIL(r);
    if (no >= CN_GOV_MAX_OPEN)
        return fail(r, CN_TX_LIMIT, "governance_propose: %d proposals are already open", no);
    cn_proposal p;
    memset(&p, 0, sizeof p);
    p.id = (uint64_t)last + 1;
    p.status = CN_GOV_OPEN;
    memcpy(p.proposer, signer, 32);
    p.expiry = a->expiry;
    p.created_time = now;
    p.created_height = height;
    p.n_approvals = 1;
    memcpy(p.approvals[0], signer, 32);
    Clearnode__V1__Tx w;
    clearnode__v1__tx__init(&w);
    w.kind_case = CLEARNODE__V1__TX__KIND_GOVERNANCE_PROPOSE;
    w.governance_propose = (Clearnode__V1__GovernancePropose *)(uintptr_t)a;
    if (!cn_encode(&w.base, CN_CAP_TX, &p.action, &p.action_len))
        return STORAGE_FAIL(r);
    cn_put_be64(list + (size_t)no * 8, p.id);
    uint32_t n;
    int in_set;
    int c = count_approvals(ov, &p, &n, &in_set, signer);
    if (c >= 0 && !in_set) {
        free(p.action);
        return fail(r, CN_TX_NOT_APPROVER, "governance_propose: signer is not a governor");
    }
    if (c < 0 || !cn_state_put_i64(ov, &kn, (int64_t)p.id) ||
        !cn_list_put(ov, &ko, list, 8, (size_t)no + 1) || !cn_gov_put(ov, &p)) {
        free(p.action);
        return STORAGE_FAIL(r);
    }
    cn_event *e = &r->events[r->n_events++];
    memset(e, 0, sizeof *e);
    e->type = "governance.propose";
    attr_u64(e, "proposal_id", p.id);
    attr_key(e, "proposer", signer);
    attr(e, "action", cn_gov_action_name((int)a->action_case));
    attr_u64(e, "expiry", p.expiry);
    uint32_t need = cn_gov_threshold(a, (uint32_t)m, n);
    attr_u64(e, "threshold", need);
    if ((uint32_t)c >= need)
        reach(ov, height, now, &p, a, r);
    free(p.action);
}

static void exec_approve(cn_overlay *ov, uint64_t height, uint64_t now, const uint8_t signer[32],
                         const Clearnode__V1__GovernanceApprove *ap, cn_exec_result *r) {
    cn_proposal p;
    int x = cn_gov_get(ov, ap->proposal_id, &p);
    if (x < 0)
        return STORAGE_FAIL(r);
    if (!x)
        return fail(r, CN_TX_NOT_FOUND, "governance_approve.proposal_id: no proposal %llu",
                    (unsigned long long)ap->proposal_id);
    cn_pb pb;
    const Clearnode__V1__GovernancePropose *a = decode_action(&p, &pb);
    int64_t m;
    uint32_t n;
    int in_set;
    int c = -1;
    if (!a || cn_param_get(ov, "governance.threshold", 1, &m) < 0)
        STORAGE_FAIL(r);
    else if (p.status != CN_GOV_OPEN)
        fail(r, CN_TX_BAD_STATE, "governance_approve: proposal %llu is not open",
             (unsigned long long)p.id);
    else if (now > p.expiry)
        fail(r, CN_TX_EXPIRED, "governance_approve: proposal %llu expired",
             (unsigned long long)p.id);
    else if ((c = count_approvals(ov, &p, &n, &in_set, signer)) < 0)
        STORAGE_FAIL(r);
    else if (!in_set)
        fail(r, CN_TX_NOT_APPROVER, "governance_approve: signer is not a governor");
    else if (p.n_approvals >= CN_GOV_MAX_GOVERNORS)
        fail(r, CN_TX_LIMIT, "governance_approve: too many approvals stored");
    else {
        for (size_t i = 0; i < p.n_approvals; i++)
            if (memcmp(p.approvals[i], signer, 32) == 0) {
                fail(r, CN_TX_DUPLICATE_APPROVAL,
                     "governance_approve: this governor already approved proposal %llu",
                     (unsigned long long)p.id);
                break;
            }
    }
    if (r->code == CN_TX_OK) {
        memcpy(p.approvals[p.n_approvals++], signer, 32);
        c++;
        if (!cn_gov_put(ov, &p)) {
            STORAGE_FAIL(r);
        } else {
            cn_event *e = &r->events[r->n_events++];
            memset(e, 0, sizeof *e);
            e->type = "governance.approve";
            attr_u64(e, "proposal_id", p.id);
            attr_key(e, "governor", signer);
            attr_u64(e, "approvals", (uint64_t)c);
            uint32_t need = cn_gov_threshold(a, (uint32_t)m, n);
            attr_u64(e, "threshold", need);
            if ((uint32_t)c >= need)
                reach(ov, height, now, &p, a, r);
        }
    }
    cn_pb_free(&pb);
    free(p.action);
}

void cn_gov_exec(cn_overlay *ov, const cn_genesis *g, uint64_t height, uint64_t now,
                 const uint8_t signer[32], const Clearnode__V1__Tx *tx, cn_exec_result *r) {
    (void)g;
    r->code = CN_TX_OK;
    snprintf(r->message, sizeof r->message, "ok");
    r->gas_used = CN_GAS_LEDGER;
    r->n_events = 0;
    if (tx->kind_case == CLEARNODE__V1__TX__KIND_GOVERNANCE_PROPOSE)
        exec_propose(ov, height, now, signer, tx, r);
    else if (tx->kind_case == CLEARNODE__V1__TX__KIND_GOVERNANCE_APPROVE)
        exec_approve(ov, height, now, signer, tx->governance_approve, r);
    else
        fail(r, CN_TX_UNSUPPORTED, "not a governance kind");
}

/* ---- end of block ------------------------------------------------------------------------- */

static int log_event(cn_overlay *ov, uint64_t height, const cn_proposal *p, const char *type,
                     uint8_t kind, const char *why, cn_evlist *ev) {
    cn_event e;
    memset(&e, 0, sizeof e);
    e.type = type;
    attr_u64(&e, "proposal_id", p->id);
    if (why)
        attr(&e, "reason", why);
    return cn_audit_put(ov, CN_SK_GOV, height, p->id, kind, &e) && cn_evlist_copy(ev, &e);
}

/* Applies the validator power changes recorded for height + 1 to the member records and to
 * the validator set. */
static int apply_power(cn_overlay *ov, uint64_t height) {
    uint8_t list[CN_GOV_MAX_POWER_CHANGES * 40];
    cn_key k;
    cn_key_start(&k, CN_SK_GOV);
    cn_key_u8(&k, 'V');
    cn_key_be64(&k, height + 1);
    int n = cn_list_get(ov, &k, list, 40, CN_GOV_MAX_POWER_CHANGES);
    if (n < 0)
        return 0;
    for (size_t i = 0; i < (size_t)n; i++) {
        cn_account a;
        if (cn_state_get_account(ov, list + i * 40, &a) != 1)
            return 0;
        a.power = (int64_t)cn_get_be64(list + i * 40 + 32);
        if (!cn_state_put_account(ov, list + i * 40, &a))
            return 0;
    }
    /* The consensus set of height + 1 (node/app/validators.h). */
    return cn_validators_end_block(ov, list, (size_t)n);
}

int cn_gov_end_block(cn_overlay *ov, uint64_t height, uint64_t now, cn_evlist *ev) {
    uint8_t list[CN_GOV_MAX_OPEN * 8];
    cn_key k;
    sk_open(&k);
    int n = cn_list_get(ov, &k, list, 8, CN_GOV_MAX_OPEN);
    if (n < 0 || !apply_power(ov, height))
        return 0;
    for (size_t i = 0; i < (size_t)n; i++) {
        cn_proposal p;
        if (cn_gov_get(ov, cn_get_be64(list + i * 8), &p) != 1)
            return 0;
        int ok = 1;
        if (p.status == CN_GOV_OPEN && now > p.expiry) {
            p.status = CN_GOV_EXPIRED;
            p.closed_height = height;
            ok = cn_gov_put(ov, &p) && cn_gov_unopen(ov, p.id) &&
                 log_event(ov, height, &p, "governance.expired", 'x', NULL, ev);
        } else if (p.status == CN_GOV_DELAYED && now >= p.effective_time) {
            cn_pb pb;
            const Clearnode__V1__GovernancePropose *a = decode_action(&p, &pb);
            char why[200];
            size_t mark = cn_overlay_mark(ov);
            cn_txerr e = a ? cn_gov_action_apply(ov, height, now, p.id, a, why, sizeof why)
                           : CN_TX_INTERNAL;
            cn_pb_free(&pb);
            if (e == CN_TX_INTERNAL) {
                free(p.action);
                return 0;
            }
            if (e)
                cn_overlay_rollback(ov, mark);
            p.status = e ? CN_GOV_FAILED : CN_GOV_EXECUTED;
            p.closed_height = height;
            ok = cn_gov_put(ov, &p) && cn_gov_unopen(ov, p.id) &&
                 log_event(ov, height, &p, e ? "governance.failed" : "governance.executed",
                           e ? 'f' : 'e', e ? why : NULL, ev);
        }
        free(p.action);
        if (!ok)
            return 0;
    }
    return 1;
}
