/* Custody transactions: withdraw_request, withdraw_approve, withdraw_cancel, allowlist_change
 * (see custody.h for the life of a withdrawal; docs/custody.md for every rule).
 *
 * Each exec function checks everything before its first write, so a failing tx writes nothing
 * (the caller also rolls back to its mark).
 */
#include "node/app/custody.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "crypto/bytes.h"
#include "crypto/encoding.h"
#include "crypto/schnorr.h"

int cn_custody_kind(int k) {
    return k == CLEARNODE__V1__TX__KIND_WITHDRAW_REQUEST ||
           k == CLEARNODE__V1__TX__KIND_WITHDRAW_APPROVE ||
           k == CLEARNODE__V1__TX__KIND_WITHDRAW_CANCEL ||
           k == CLEARNODE__V1__TX__KIND_ALLOWLIST_CHANGE;
}

__attribute__((format(printf, 4, 5))) static cn_txerr verr(char *msg, size_t cap, cn_txerr code,
                                                           const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, cap, fmt, ap);
    va_end(ap);
    return code;
}

/* A destination: 1..128 bytes of printable ASCII. */
static int dest_valid(const char *d) {
    size_t n = strlen(d);
    if (n == 0 || n > CN_DEST_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)d[i] < 0x21 || (unsigned char)d[i] > 0x7e)
            return 0;
    return 1;
}

cn_txerr cn_custody_validate(const Clearnode__V1__Tx *tx, char *msg, size_t cap) {
    switch ((int)tx->kind_case) {
    case CLEARNODE__V1__TX__KIND_WITHDRAW_REQUEST: {
        const Clearnode__V1__WithdrawRequest *w = tx->withdraw_request;
        if (!cn_symbol_valid(w->asset))
            return verr(msg, cap, CN_TX_INVALID_FIELD,
                        "withdraw_request.asset: not 1..16 characters of [A-Z0-9.]");
        if (w->amount == 0 || w->amount > (uint64_t)INT64_MAX)
            return verr(msg, cap, CN_TX_INVALID_FIELD, "withdraw_request.amount: must be 1..%lld",
                        (long long)INT64_MAX);
        if (!dest_valid(w->destination))
            return verr(msg, cap, CN_TX_INVALID_FIELD,
                        "withdraw_request.destination: must be 1..%d printable characters",
                        CN_DEST_MAX);
        if (w->expiry == 0 || w->expiry > (uint64_t)INT64_MAX)
            return verr(msg, cap, CN_TX_INVALID_FIELD, "withdraw_request.expiry: must be set");
        return CN_TX_OK;
    }
    case CLEARNODE__V1__TX__KIND_WITHDRAW_APPROVE: {
        const Clearnode__V1__WithdrawApprove *a = tx->withdraw_approve;
        if (a->request_id == 0)
            return verr(msg, cap, CN_TX_INVALID_FIELD, "withdraw_approve.request_id: must be set");
        if (a->policy_version == 0)
            return verr(msg, cap, CN_TX_INVALID_FIELD,
                        "withdraw_approve.policy_version: must be set");
        if (a->approval_sig.len != CN_SIG_LEN)
            return verr(msg, cap, CN_TX_INVALID_FIELD,
                        "withdraw_approve.approval_sig: must be 64 bytes");
        return CN_TX_OK;
    }
    case CLEARNODE__V1__TX__KIND_WITHDRAW_CANCEL:
        if (tx->withdraw_cancel->request_id == 0)
            return verr(msg, cap, CN_TX_INVALID_FIELD, "withdraw_cancel.request_id: must be set");
        return CN_TX_OK;
    case CLEARNODE__V1__TX__KIND_ALLOWLIST_CHANGE:
        if (!dest_valid(tx->allowlist_change->destination))
            return verr(msg, cap, CN_TX_INVALID_FIELD,
                        "allowlist_change.destination: must be 1..%d printable characters",
                        CN_DEST_MAX);
        return CN_TX_OK;
    default:
        return verr(msg, cap, CN_TX_UNSUPPORTED, "not a custody kind");
    }
}

/* ---- execution ---------------------------------------------------------------------------- */

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

static cn_event *ev_new(cn_exec_result *r, const char *type) {
    cn_event *e = &r->events[r->n_events++];
    memset(e, 0, sizeof *e);
    e->type = type;
    return e;
}

static void ev_str(cn_event *e, const char *key, const char *v) {
    if (e->n >= CN_EVENT_MAX_ATTRS)
        return;
    e->attrs[e->n].key = key;
    snprintf(e->attrs[e->n].value, CN_EVENT_VALUE_MAX, "%s", v);
    e->n++;
}

static void ev_u64(cn_event *e, const char *key, uint64_t v) {
    char s[24];
    snprintf(s, sizeof s, "%llu", (unsigned long long)v);
    ev_str(e, key, s);
}

static void ev_key(cn_event *e, const char *key, const uint8_t k[32]) {
    char hex[65];
    cn_hex_encode(hex, k, 32);
    ev_str(e, key, hex);
}

/* Sums a velocity window's entries newer than `since`, dropping older ones in place.
 * Returns the number kept; *sum gets their total (saturating at INT64_MAX). */
static size_t window_prune(uint8_t *list, size_t n, uint64_t since, int64_t *sum) {
    size_t kept = 0;
    *sum = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t t = cn_get_be64(list + i * 16);
        if (t <= since)
            continue;
        int64_t v = (int64_t)cn_get_be64(list + i * 16 + 8);
        if (__builtin_add_overflow(*sum, v, sum))
            *sum = INT64_MAX;
        memmove(list + kept * 16, list + i * 16, 16);
        kept++;
    }
    return kept;
}

/* Checks one velocity window (key k, cap max, limit) for a new `usd`; on success leaves the
 * updated list in buf with *n entries (the new one appended). */
static cn_txerr velocity_check(cn_overlay *ov, const cn_key *k, size_t max, int64_t limit,
                               uint64_t since, uint64_t now, int64_t usd, uint8_t *buf,
                               size_t *n, const char *what, cn_exec_result *r) {
    int got = cn_list_get(ov, k, buf, 16, max);
    if (got < 0)
        return STORAGE_FAIL(r), CN_TX_INTERNAL;
    int64_t sum, total;
    size_t kept = window_prune(buf, (size_t)got, since, &sum);
    if (__builtin_add_overflow(sum, usd, &total) || total > limit) {
        fail(r, CN_TX_VELOCITY,
             "withdraw_request.amount: %s velocity limit: %lld + %lld micro-USD > %lld in the "
             "period",
             what, (long long)sum, (long long)usd, (long long)limit);
        return CN_TX_VELOCITY;
    }
    if (kept >= max) {
        fail(r, CN_TX_LIMIT, "withdraw_request: %zu %s withdrawals already in the period", kept,
             what);
        return CN_TX_LIMIT;
    }
    cn_put_be64(buf + kept * 16, now);
    cn_put_be64(buf + kept * 16 + 8, (uint64_t)usd);
    *n = kept + 1;
    return CN_TX_OK;
}

static uint8_t vel_client[CN_CUSTODY_VEL_CLIENT * 16];
static uint8_t vel_global[CN_CUSTODY_VEL_GLOBAL * 16];

static void exec_request(cn_overlay *ov, const cn_genesis *g, uint64_t height, uint64_t now,
                         const uint8_t signer[32], const Clearnode__V1__WithdrawRequest *q,
                         cn_exec_result *r) {
    int64_t amount = (int64_t)q->amount, usd, max_exp, v_period, v_client, v_global;
    int frozen;
    if (cn_custody_frozen(ov, &frozen) < 0)
        return STORAGE_FAIL(r);
    if (frozen)
        return fail(r, CN_TX_FROZEN, "withdraw_request: withdrawals are frozen by governance");
    if (q->expiry <= now)
        return fail(r, CN_TX_EXPIRED, "withdraw_request.expiry: %llu is not after block time %llu",
                    (unsigned long long)q->expiry, (unsigned long long)now);
    if (cn_param_get(ov, "custody.withdraw_max_expiry_ms", INT64_C(604800000), &max_exp) < 0 ||
        cn_param_get(ov, "custody.velocity_period_ms", CN_CUSTODY_DEF_VELOCITY_PERIOD_MS,
                     &v_period) < 0 ||
        cn_param_get(ov, "custody.velocity_client_usd", CN_CUSTODY_DEF_VELOCITY_CLIENT_USD,
                     &v_client) < 0 ||
        cn_param_get(ov, "custody.velocity_global_usd", CN_CUSTODY_DEF_VELOCITY_GLOBAL_USD,
                     &v_global) < 0)
        return STORAGE_FAIL(r);
    if (q->expiry - now > (uint64_t)max_exp)
        return fail(r, CN_TX_INVALID_FIELD,
                    "withdraw_request.expiry: more than %lld ms after block time",
                    (long long)max_exp);
    int x = cn_custody_usd_value(ov, q->asset, amount, &usd);
    if (x < 0)
        return fail(r, CN_TX_OVERFLOW, "withdraw_request.amount: value overflows");
    if (x == 0)
        return fail(r, CN_TX_UNKNOWN_ASSET, "withdraw_request.asset: '%s' is not in genesis",
                    q->asset);
    x = cn_custody_asset_halted(ov, q->asset, now);
    if (x < 0)
        return STORAGE_FAIL(r);
    if (x)
        return fail(r, CN_TX_HALTED, "withdraw_request.asset: %s is halted", q->asset);
    x = cn_margin_withdraw_ok(ov, g, height, now, signer, q->asset, amount, r->message,
                              sizeof r->message);
    if (x < 0)
        return STORAGE_FAIL(r);
    if (!x) {
        r->code = CN_TX_MARGIN;
        return;
    }
    x = cn_custody_allowlisted(ov, signer, q->destination, now);
    if (x < 0)
        return STORAGE_FAIL(r);
    if (!x)
        return fail(r, CN_TX_NOT_ALLOWLISTED,
                    "withdraw_request.destination: not active on the allow-list");
    uint64_t since = now > (uint64_t)v_period ? now - (uint64_t)v_period : 0;
    cn_key kc, kg, kp, kl, kn;
    cn_sk_custody(&kc, 'G');
    cn_key_bytes(&kc, signer, 32);
    cn_sk_custody(&kg, 'H');
    size_t nc, ng;
    if (velocity_check(ov, &kc, CN_CUSTODY_VEL_CLIENT, v_client, since, now, usd, vel_client,
                       &nc, "client", r) ||
        velocity_check(ov, &kg, CN_CUSTODY_VEL_GLOBAL, v_global, since, now, usd, vel_global,
                       &ng, "global", r))
        return;
    static uint8_t pend[CN_CUSTODY_MAX_PENDING * 8];
    uint8_t mine[(CN_CUSTODY_CLIENT_LIST + 1) * 8];
    cn_sk_custody(&kp, 'P');
    cn_sk_custody(&kl, 'C');
    cn_key_bytes(&kl, signer, 32);
    int np = cn_list_get(ov, &kp, pend, 8, CN_CUSTODY_MAX_PENDING);
    int nm = cn_list_get(ov, &kl, mine, 8, CN_CUSTODY_CLIENT_LIST);
    if (np < 0 || nm < 0)
        return STORAGE_FAIL(r);
    if (np >= CN_CUSTODY_MAX_PENDING)
        return fail(r, CN_TX_LIMIT, "withdraw_request: %d requests are already pending", np);
    int64_t bal, locked, nlocked, last;
    cn_sk_custody(&kn, 'n');
    if (cn_state_get_balance(ov, signer, q->asset, &bal) < 0 ||
        cn_custody_get_locked(ov, signer, q->asset, &locked) < 0 ||
        cn_state_get_i64(ov, &kn, &last) < 0)
        return STORAGE_FAIL(r);
    if (bal < amount)
        return fail(r, CN_TX_INSUFFICIENT_FUNDS, "withdraw_request.amount: balance %lld < %lld",
                    (long long)bal, (long long)amount);
    if (__builtin_add_overflow(locked, amount, &nlocked))
        return fail(r, CN_TX_OVERFLOW, "withdraw_request.amount: locked balance would overflow");
    cn_withdrawal w;
    memset(&w, 0, sizeof w);
    w.id = (uint64_t)last + 1;
    w.status = CN_WD_PENDING;
    memcpy(w.client, signer, 32);
    snprintf(w.asset, sizeof w.asset, "%s", q->asset);
    w.amount = amount;
    w.usd = usd;
    snprintf(w.dest, sizeof w.dest, "%s", q->destination);
    w.expiry = q->expiry;
    w.created_time = now;
    w.created_height = height;
    cn_put_be64(pend + (size_t)np * 8, w.id);
    if (nm == CN_CUSTODY_CLIENT_LIST) { /* keep the most recent ids */
        memmove(mine, mine + 8, (size_t)(nm - 1) * 8);
        nm--;
    }
    cn_put_be64(mine + (size_t)nm * 8, w.id);
    if (!cn_state_set_balance(ov, signer, q->asset, bal - amount) ||
        !cn_custody_set_locked(ov, signer, q->asset, nlocked) ||
        !cn_state_put_i64(ov, &kn, (int64_t)w.id) || !cn_custody_put(ov, &w) ||
        !cn_list_put(ov, &kp, pend, 8, (size_t)np + 1) ||
        !cn_list_put(ov, &kl, mine, 8, (size_t)nm + 1) ||
        !cn_list_put(ov, &kc, vel_client, 16, nc) || !cn_list_put(ov, &kg, vel_global, 16, ng))
        return STORAGE_FAIL(r);
    cn_event *e = ev_new(r, "custody.withdraw_request");
    ev_u64(e, "request_id", w.id);
    ev_key(e, "client", signer);
    ev_str(e, "asset", w.asset);
    ev_u64(e, "amount", (uint64_t)amount);
    ev_str(e, "destination", w.dest);
    ev_u64(e, "usd", (uint64_t)usd);
}

/* Index of `key` in the approver set, or -1. */
static int in_set(uint8_t set[][32], int n, const uint8_t key[32]) {
    for (int i = 0; i < n; i++)
        if (memcmp(set[i], key, 32) == 0)
            return i;
    return -1;
}

static void exec_approve(cn_overlay *ov, uint64_t now, const uint8_t signer[32],
                         const Clearnode__V1__WithdrawApprove *a, cn_exec_result *r) {
    cn_withdrawal w;
    int x = cn_custody_get(ov, a->request_id, &w);
    if (x < 0)
        return STORAGE_FAIL(r);
    if (!x)
        return fail(r, CN_TX_NOT_FOUND, "withdraw_approve.request_id: no request %llu",
                    (unsigned long long)a->request_id);
    if (w.status != CN_WD_PENDING)
        return fail(r, CN_TX_BAD_STATE, "withdraw_approve.request_id: request %llu is not pending",
                    (unsigned long long)w.id);
    if (now > w.expiry)
        return fail(r, CN_TX_EXPIRED, "withdraw_approve.request_id: request %llu expired",
                    (unsigned long long)w.id);
    int frozen;
    if (cn_custody_frozen(ov, &frozen) < 0)
        return STORAGE_FAIL(r);
    if (frozen)
        return fail(r, CN_TX_FROZEN, "withdraw_approve: withdrawals are frozen by governance");
    uint8_t set[CN_CUSTODY_MAX_APPROVERS][32];
    int ns = cn_custody_approvers(ov, set);
    uint64_t pv;
    char chain[CN_CHAIN_ID_MAX + 1];
    if (ns < 0 || cn_custody_policy_version(ov, &pv) < 0 || cn_custody_chain_id(ov, chain) != 1)
        return STORAGE_FAIL(r);
    if (in_set(set, ns, signer) < 0)
        return fail(r, CN_TX_NOT_APPROVER, "withdraw_approve: signer is not in the approver set");
    if (a->policy_version != pv)
        return fail(r, CN_TX_STALE_POLICY,
                    "withdraw_approve.policy_version: %llu, the current version is %llu",
                    (unsigned long long)a->policy_version, (unsigned long long)pv);
    uint8_t d[32];
    cn_withdraw_digest(d, chain, w.id, pv, w.asset, (uint64_t)w.amount, w.dest, w.expiry);
    if (!cn_verify32(a->approval_sig.data, d, signer))
        return fail(r, CN_TX_BAD_APPROVAL_SIG,
                    "withdraw_approve.approval_sig: does not verify over request %llu's digest",
                    (unsigned long long)w.id);
    for (size_t i = 0; i < w.n_approvals; i++)
        if (memcmp(w.approvals[i].key, signer, 32) == 0 && w.approvals[i].policy_version == pv)
            return fail(r, CN_TX_DUPLICATE_APPROVAL,
                        "withdraw_approve: this key already approved request %llu",
                        (unsigned long long)w.id);
    if (w.n_approvals == CN_CUSTODY_MAX_APPROVALS)
        return fail(r, CN_TX_LIMIT, "withdraw_approve: request %llu has %d approvals stored",
                    (unsigned long long)w.id, CN_CUSTODY_MAX_APPROVALS);
    memcpy(w.approvals[w.n_approvals].key, signer, 32);
    w.approvals[w.n_approvals].policy_version = pv;
    w.approvals[w.n_approvals].time = now;
    w.n_approvals++;
    if (!cn_custody_put(ov, &w))
        return STORAGE_FAIL(r);
    cn_event *e = ev_new(r, "custody.withdraw_approve");
    ev_u64(e, "request_id", w.id);
    ev_key(e, "approver", signer);
    ev_u64(e, "policy_version", pv);
    ev_u64(e, "approvals", w.n_approvals);
}

/* Removes `id` from the pending list. 1, or 0 on failure. */
int cn_custody_unpend(cn_overlay *ov, uint64_t id) {
    static uint8_t pend[CN_CUSTODY_MAX_PENDING * 8];
    cn_key kp;
    cn_sk_custody(&kp, 'P');
    int np = cn_list_get(ov, &kp, pend, 8, CN_CUSTODY_MAX_PENDING);
    if (np < 0)
        return 0;
    size_t k = 0;
    for (size_t i = 0; i < (size_t)np; i++)
        if (cn_get_be64(pend + i * 8) != id)
            memmove(pend + k++ * 8, pend + i * 8, 8);
    return cn_list_put(ov, &kp, pend, 8, k);
}

/* Moves a pending request's amount from locked back to the balance and closes it. */
int cn_custody_unlock(cn_overlay *ov, cn_withdrawal *w, int status, uint64_t height) {
    int64_t bal, locked, nbal;
    if (cn_state_get_balance(ov, w->client, w->asset, &bal) < 0 ||
        cn_custody_get_locked(ov, w->client, w->asset, &locked) < 0 || locked < w->amount ||
        __builtin_add_overflow(bal, w->amount, &nbal))
        return 0;
    w->status = status;
    w->closed_height = height;
    return cn_state_set_balance(ov, w->client, w->asset, nbal) &&
           cn_custody_set_locked(ov, w->client, w->asset, locked - w->amount) &&
           cn_custody_put(ov, w) && cn_custody_unpend(ov, w->id);
}

static void exec_cancel(cn_overlay *ov, uint64_t height, const uint8_t signer[32],
                        const Clearnode__V1__WithdrawCancel *c, cn_exec_result *r) {
    cn_withdrawal w;
    int x = cn_custody_get(ov, c->request_id, &w);
    if (x < 0)
        return STORAGE_FAIL(r);
    if (!x)
        return fail(r, CN_TX_NOT_FOUND, "withdraw_cancel.request_id: no request %llu",
                    (unsigned long long)c->request_id);
    if (memcmp(w.client, signer, 32) != 0)
        return fail(r, CN_TX_NOT_OWNER, "withdraw_cancel: request %llu is not the signer's",
                    (unsigned long long)w.id);
    if (w.status != CN_WD_PENDING)
        return fail(r, CN_TX_BAD_STATE, "withdraw_cancel: request %llu is not pending",
                    (unsigned long long)w.id);
    if (!cn_custody_unlock(ov, &w, CN_WD_CANCELLED, height))
        return STORAGE_FAIL(r);
    cn_event *e = ev_new(r, "custody.withdraw_cancel");
    ev_u64(e, "request_id", w.id);
    ev_key(e, "client", signer);
    ev_str(e, "asset", w.asset);
    ev_u64(e, "amount", (uint64_t)w.amount);
}

static void exec_allow(cn_overlay *ov, uint64_t now, const uint8_t signer[32],
                       const Clearnode__V1__AllowlistChange *c, cn_exec_result *r) {
    cn_account acct;
    int x = cn_state_get_account(ov, signer, &acct);
    if (x < 0)
        return STORAGE_FAIL(r);
    if (!x || acct.kind != CN_ACCT_CLIENT)
        return fail(r, CN_TX_NOT_PERMITTED, "allowlist_change: only clients keep an allow-list");
    int64_t delay;
    if (cn_param_get(ov, "custody.allowlist_delay_ms", CN_CUSTODY_DEF_ALLOWLIST_DELAY_MS,
                     &delay) < 0)
        return STORAGE_FAIL(r);
    uint64_t eff = now + (uint64_t)delay;
    if (!cn_custody_allow_change(ov, signer, c->destination, c->remove, now, eff))
        return STORAGE_FAIL(r);
    cn_event *e = ev_new(r, "custody.allowlist_change");
    ev_key(e, "client", signer);
    ev_str(e, "destination", c->destination);
    ev_str(e, "op", c->remove ? "remove" : "add");
    ev_u64(e, "effective_at", eff);
}

void cn_custody_exec(cn_overlay *ov, const cn_genesis *g, uint64_t height, uint64_t now,
                     const uint8_t signer[32], const Clearnode__V1__Tx *tx, cn_exec_result *r) {
    r->code = CN_TX_OK;
    snprintf(r->message, sizeof r->message, "ok");
    r->gas_used = CN_GAS_LEDGER;
    r->n_events = 0;
    switch ((int)tx->kind_case) {
    case CLEARNODE__V1__TX__KIND_WITHDRAW_REQUEST:
        exec_request(ov, g, height, now, signer, tx->withdraw_request, r);
        return;
    case CLEARNODE__V1__TX__KIND_WITHDRAW_APPROVE:
        exec_approve(ov, now, signer, tx->withdraw_approve, r);
        return;
    case CLEARNODE__V1__TX__KIND_WITHDRAW_CANCEL:
        exec_cancel(ov, height, signer, tx->withdraw_cancel, r);
        return;
    case CLEARNODE__V1__TX__KIND_ALLOWLIST_CHANGE:
        exec_allow(ov, now, signer, tx->allowlist_change, r);
        return;
    default:
        fail(r, CN_TX_UNSUPPORTED, "not a custody kind");
        return;
    }
}
