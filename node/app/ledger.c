/* Ledger transactions: register_client, deposit_attest, transfer (see ledger.h). */
#include "node/app/ledger.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "crypto/encoding.h"
#include "crypto/schnorr.h"
#include "node/app/custody.h"
#include "node/app/gov.h"
#include "node/app/margin.h"
#include "node/app/oracle.h"
#include "node/app/reserves.h"
#include "node/contract/contract.h"

__attribute__((format(printf, 4, 5))) static cn_txerr set_err(char *msg, size_t cap,
                                                              cn_txerr code, const char *fmt,
                                                              ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, cap, fmt, ap);
    va_end(ap);
    return code;
}

int cn_tx_kind_supported(int k) {
    return k == CLEARNODE__V1__TX__KIND_REGISTER_CLIENT ||
           k == CLEARNODE__V1__TX__KIND_DEPOSIT_ATTEST || k == CLEARNODE__V1__TX__KIND_TRANSFER ||
           k == CLEARNODE__V1__TX__KIND_CONTRACT_DEPLOY || k == CLEARNODE__V1__TX__KIND_CONTRACT_CALL ||
           cn_custody_kind(k) || cn_gov_kind(k) || k == CLEARNODE__V1__TX__KIND_ORACLE_REPORT ||
           k == CLEARNODE__V1__TX__KIND_RESERVE_ATTEST || cn_margin_kind(k);
}

const char *cn_tx_kind_name(int k) {
    switch (k) {
    case CLEARNODE__V1__TX__KIND_REGISTER_CLIENT: return "register_client";
    case CLEARNODE__V1__TX__KIND_DEPOSIT_ATTEST: return "deposit_attest";
    case CLEARNODE__V1__TX__KIND_TRANSFER: return "transfer";
    case CLEARNODE__V1__TX__KIND_CONTRACT_DEPLOY: return "contract_deploy";
    case CLEARNODE__V1__TX__KIND_CONTRACT_CALL: return "contract_call";
    case CLEARNODE__V1__TX__KIND_OPEN_POSITION: return "open_position";
    case CLEARNODE__V1__TX__KIND_CLOSE_POSITION: return "close_position";
    case CLEARNODE__V1__TX__KIND_ORACLE_REPORT: return "oracle_report";
    case CLEARNODE__V1__TX__KIND_WITHDRAW_REQUEST: return "withdraw_request";
    case CLEARNODE__V1__TX__KIND_WITHDRAW_APPROVE: return "withdraw_approve";
    case CLEARNODE__V1__TX__KIND_WITHDRAW_CANCEL: return "withdraw_cancel";
    case CLEARNODE__V1__TX__KIND_RESERVE_ATTEST: return "reserve_attest";
    case CLEARNODE__V1__TX__KIND_GOVERNANCE_PROPOSE: return "governance_propose";
    case CLEARNODE__V1__TX__KIND_GOVERNANCE_APPROVE: return "governance_approve";
    case CLEARNODE__V1__TX__KIND_ALLOWLIST_CHANGE: return "allowlist_change";
    default: return "unknown";
    }
}

int cn_tx_permitted(int k, const cn_account *a) {
    switch (k) {
    case CLEARNODE__V1__TX__KIND_REGISTER_CLIENT:
        return a->kind == CN_ACCT_MEMBER;
    case CLEARNODE__V1__TX__KIND_DEPOSIT_ATTEST:
    case CLEARNODE__V1__TX__KIND_RESERVE_ATTEST:
        return (a->roles & CN_ROLE_CUSTODIAN) != 0;
    case CLEARNODE__V1__TX__KIND_ORACLE_REPORT:
        return (a->roles & CN_ROLE_ORACLE) != 0;
    case CLEARNODE__V1__TX__KIND_WITHDRAW_APPROVE:
        return (a->roles & CN_ROLE_APPROVER) != 0;
    case CLEARNODE__V1__TX__KIND_CONTRACT_DEPLOY:
    case CLEARNODE__V1__TX__KIND_GOVERNANCE_PROPOSE:
    case CLEARNODE__V1__TX__KIND_GOVERNANCE_APPROVE:
        return (a->roles & CN_ROLE_GOVERNOR) != 0;
    case CLEARNODE__V1__TX__KIND_TRANSFER:
    case CLEARNODE__V1__TX__KIND_CONTRACT_CALL:
    case CLEARNODE__V1__TX__KIND_OPEN_POSITION:
    case CLEARNODE__V1__TX__KIND_CLOSE_POSITION:
    case CLEARNODE__V1__TX__KIND_WITHDRAW_REQUEST:
    case CLEARNODE__V1__TX__KIND_WITHDRAW_CANCEL:
    case CLEARNODE__V1__TX__KIND_ALLOWLIST_CHANGE:
        return 1;
    default:
        return 0;
    }
}

int cn_symbol_valid(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > CN_SYMBOL_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
            return 0;
    return 1;
}

static cn_txerr check_amount(uint64_t amount, const char *field, char *msg, size_t cap) {
    if (amount == 0 || amount > (uint64_t)INT64_MAX)
        return set_err(msg, cap, CN_TX_INVALID_FIELD, "%s: must be 1..%lld", field,
                       (long long)INT64_MAX);
    return CN_TX_OK;
}

static cn_txerr check_key(const ProtobufCBinaryData *b, const char *field, char *msg,
                          size_t cap) {
    if (b->len != 32)
        return set_err(msg, cap, CN_TX_INVALID_FIELD, "%s: must be a 32-byte public key",
                       field);
    if (!cn_pubkey_valid(b->data))
        return set_err(msg, cap, CN_TX_INVALID_FIELD, "%s: not a valid x-only public key",
                       field);
    return CN_TX_OK;
}

cn_txerr cn_ledger_validate(const Clearnode__V1__Tx *tx, const uint8_t signer[32], char *msg,
                            size_t cap) {
    cn_txerr e;
    switch ((int)tx->kind_case) {
    case CLEARNODE__V1__TX__KIND_REGISTER_CLIENT: {
        const Clearnode__V1__RegisterClient *r = tx->register_client;
        if ((e = check_key(&r->pubkey, "register_client.pubkey", msg, cap)) != CN_TX_OK)
            return e;
        size_t n = strlen(r->label);
        if (n > CN_LABEL_MAX)
            return set_err(msg, cap, CN_TX_INVALID_FIELD,
                           "register_client.label: longer than %d bytes", CN_LABEL_MAX);
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)r->label[i] < 0x20 || (unsigned char)r->label[i] > 0x7e)
                return set_err(msg, cap, CN_TX_INVALID_FIELD,
                               "register_client.label: not printable ASCII");
        return CN_TX_OK;
    }
    case CLEARNODE__V1__TX__KIND_DEPOSIT_ATTEST: {
        const Clearnode__V1__DepositAttest *d = tx->deposit_attest;
        if ((e = check_key(&d->account, "deposit_attest.account", msg, cap)) != CN_TX_OK)
            return e;
        if (!cn_symbol_valid(d->asset))
            return set_err(msg, cap, CN_TX_INVALID_FIELD,
                           "deposit_attest.asset: not 1..16 characters of [A-Z0-9.]");
        if ((e = check_amount(d->amount, "deposit_attest.amount", msg, cap)) != CN_TX_OK)
            return e;
        if (d->deposit_ref.len == 0 || d->deposit_ref.len > CN_DEPOSIT_REF_MAX)
            return set_err(msg, cap, CN_TX_INVALID_FIELD,
                           "deposit_attest.deposit_ref: must be 1..%d bytes", CN_DEPOSIT_REF_MAX);
        return CN_TX_OK;
    }
    case CLEARNODE__V1__TX__KIND_TRANSFER: {
        const Clearnode__V1__Transfer *t = tx->transfer;
        if ((e = check_key(&t->to, "transfer.to", msg, cap)) != CN_TX_OK)
            return e;
        if (memcmp(t->to.data, signer, 32) == 0)
            return set_err(msg, cap, CN_TX_INVALID_FIELD, "transfer.to: equals the sender");
        if (!cn_symbol_valid(t->asset))
            return set_err(msg, cap, CN_TX_INVALID_FIELD,
                           "transfer.asset: not 1..16 characters of [A-Z0-9.]");
        return check_amount(t->amount, "transfer.amount", msg, cap);
    }
    case CLEARNODE__V1__TX__KIND_CONTRACT_DEPLOY:
    case CLEARNODE__V1__TX__KIND_CONTRACT_CALL:
        return cn_contract_validate(tx, msg, cap);
    case CLEARNODE__V1__TX__KIND_WITHDRAW_REQUEST:
    case CLEARNODE__V1__TX__KIND_WITHDRAW_APPROVE:
    case CLEARNODE__V1__TX__KIND_WITHDRAW_CANCEL:
    case CLEARNODE__V1__TX__KIND_ALLOWLIST_CHANGE:
        return cn_custody_validate(tx, msg, cap);
    case CLEARNODE__V1__TX__KIND_GOVERNANCE_PROPOSE:
    case CLEARNODE__V1__TX__KIND_GOVERNANCE_APPROVE:
        return cn_gov_validate(tx, msg, cap);
    case CLEARNODE__V1__TX__KIND_ORACLE_REPORT:
        return cn_oracle_validate(tx->oracle_report, msg, cap);
    case CLEARNODE__V1__TX__KIND_RESERVE_ATTEST:
        return cn_reserves_validate(tx->reserve_attest, msg, cap);
    case CLEARNODE__V1__TX__KIND_OPEN_POSITION:
    case CLEARNODE__V1__TX__KIND_CLOSE_POSITION:
        return cn_margin_validate(tx, msg, cap);
    default:
        return set_err(msg, cap, CN_TX_UNSUPPORTED, "%s: not supported by this chain version",
                       cn_tx_kind_name((int)tx->kind_case));
    }
}

/* ---- execution ---------------------------------------------------------------------------- */

static void fail(cn_exec_result *r, cn_txerr code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(cn_exec_result *r, cn_txerr code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
    r->code = code;
    r->n_events = 0;
}

static void ev_attr(cn_event *e, const char *key, const char *value) {
    if (e->n >= CN_EVENT_MAX_ATTRS)
        return;
    e->attrs[e->n].key = key;
    snprintf(e->attrs[e->n].value, CN_EVENT_VALUE_MAX, "%s", value);
    e->n++;
}

static void ev_hex(cn_event *e, const char *key, const uint8_t *p, size_t n) {
    char hex[CN_EVENT_VALUE_MAX];
    if (n * 2 + 1 > sizeof hex)
        n = (sizeof hex - 1) / 2;
    cn_hex_encode(hex, p, n);
    ev_attr(e, key, hex);
}

static void ev_i64(cn_event *e, const char *key, int64_t v) {
    char s[24];
    snprintf(s, sizeof s, "%lld", (long long)v);
    ev_attr(e, key, s);
}

/* Asset must exist in state. Returns 1, 0 absent, -1 error. */
static int asset_exists(cn_overlay *ov, const char *sym) {
    cn_key k;
    cn_sk_asset(&k, sym);
    const uint8_t *v;
    size_t n;
    return cn_overlay_get(ov, k.b, k.len, &v, &n);
}

#define STORAGE_FAIL(r) fail(r, CN_TX_INTERNAL, "state read or write failed")

static void exec_register(cn_overlay *ov, const uint8_t signer[32],
                          const Clearnode__V1__RegisterClient *rc, cn_exec_result *r) {
    cn_account a;
    int got = cn_state_get_account(ov, rc->pubkey.data, &a);
    if (got < 0)
        return STORAGE_FAIL(r);
    if (got)
        return fail(r, CN_TX_ALREADY_REGISTERED, "register_client.pubkey: already registered");
    memset(&a, 0, sizeof a);
    a.kind = CN_ACCT_CLIENT;
    memcpy(a.registrar, signer, 32);
    a.label_len = strlen(rc->label);
    memcpy(a.label, rc->label, a.label_len);
    if (!cn_state_put_account(ov, rc->pubkey.data, &a))
        return STORAGE_FAIL(r);
    cn_event *e = &r->events[r->n_events++];
    e->type = "ledger.register_client";
    ev_hex(e, "account", rc->pubkey.data, 32);
    ev_hex(e, "registrar", signer, 32);
    ev_attr(e, "label", rc->label);
}

static void exec_deposit(cn_overlay *ov, uint64_t height, const uint8_t signer[32],
                         const Clearnode__V1__DepositAttest *d, cn_exec_result *r) {
    int x = asset_exists(ov, d->asset);
    if (x < 0)
        return STORAGE_FAIL(r);
    if (!x)
        return fail(r, CN_TX_UNKNOWN_ASSET, "deposit_attest.asset: '%s' is not in genesis",
                    d->asset);
    cn_account a;
    x = cn_state_get_account(ov, d->account.data, &a);
    if (x < 0)
        return STORAGE_FAIL(r);
    if (!x)
        return fail(r, CN_TX_UNKNOWN_ACCOUNT, "deposit_attest.account: not registered");
    cn_key dk;
    cn_sk_deposit(&dk, signer, d->deposit_ref.data, d->deposit_ref.len);
    const uint8_t *v;
    size_t n;
    x = cn_overlay_get(ov, dk.b, dk.len, &v, &n);
    if (x < 0)
        return STORAGE_FAIL(r);
    if (x)
        return fail(r, CN_TX_DUPLICATE_DEPOSIT,
                    "deposit_attest.deposit_ref: already minted by this custodian");
    int64_t amount = (int64_t)d->amount, supply, bal, nsupply, nbal;
    cn_key sk;
    cn_sk_supply(&sk, d->asset);
    if (cn_state_get_i64(ov, &sk, &supply) < 0 ||
        cn_state_get_balance(ov, d->account.data, d->asset, &bal) < 0)
        return STORAGE_FAIL(r);
    if (__builtin_add_overflow(supply, amount, &nsupply))
        return fail(r, CN_TX_OVERFLOW, "deposit_attest.amount: supply of %s would overflow",
                    d->asset);
    if (__builtin_add_overflow(bal, amount, &nbal))
        return fail(r, CN_TX_OVERFLOW, "deposit_attest.amount: balance would overflow");
    if (!cn_state_put_i64(ov, &sk, nsupply) ||
        !cn_state_set_balance(ov, d->account.data, d->asset, nbal) ||
        !cn_state_put_i64(ov, &dk, (int64_t)height))
        return STORAGE_FAIL(r);
    cn_event *e = &r->events[r->n_events++];
    e->type = "ledger.deposit";
    ev_hex(e, "account", d->account.data, 32);
    ev_attr(e, "asset", d->asset);
    ev_i64(e, "amount", amount);
    ev_hex(e, "custodian", signer, 32);
    ev_hex(e, "deposit_ref", d->deposit_ref.data, d->deposit_ref.len);
    ev_i64(e, "balance", nbal);
}

static void exec_transfer(cn_overlay *ov, const uint8_t signer[32],
                          const Clearnode__V1__Transfer *t, cn_exec_result *r) {
    int x = asset_exists(ov, t->asset);
    if (x < 0)
        return STORAGE_FAIL(r);
    if (!x)
        return fail(r, CN_TX_UNKNOWN_ASSET, "transfer.asset: '%s' is not in genesis", t->asset);
    cn_account a;
    x = cn_state_get_account(ov, t->to.data, &a);
    if (x < 0)
        return STORAGE_FAIL(r);
    if (!x)
        return fail(r, CN_TX_UNKNOWN_ACCOUNT, "transfer.to: not registered");
    int64_t amount = (int64_t)t->amount, from, to, nto;
    if (cn_state_get_balance(ov, signer, t->asset, &from) < 0 ||
        cn_state_get_balance(ov, t->to.data, t->asset, &to) < 0)
        return STORAGE_FAIL(r);
    if (from < amount)
        return fail(r, CN_TX_INSUFFICIENT_FUNDS, "transfer.amount: balance %lld %s < %lld",
                    (long long)from, t->asset, (long long)amount);
    if (__builtin_add_overflow(to, amount, &nto))
        return fail(r, CN_TX_OVERFLOW, "transfer.amount: recipient balance would overflow");
    if (!cn_state_set_balance(ov, signer, t->asset, from - amount) ||
        !cn_state_set_balance(ov, t->to.data, t->asset, nto))
        return STORAGE_FAIL(r);
    cn_event *e = &r->events[r->n_events++];
    e->type = "ledger.transfer";
    ev_hex(e, "from", signer, 32);
    ev_hex(e, "to", t->to.data, 32);
    ev_attr(e, "asset", t->asset);
    ev_i64(e, "amount", amount);
}

void cn_ledger_exec(cn_overlay *ov, uint64_t height, const uint8_t signer[32],
                    const Clearnode__V1__Tx *tx, cn_exec_result *r) {
    r->code = CN_TX_OK;
    snprintf(r->message, sizeof r->message, "ok");
    r->gas_used = CN_GAS_LEDGER;
    r->n_events = 0;
    switch ((int)tx->kind_case) {
    case CLEARNODE__V1__TX__KIND_REGISTER_CLIENT:
        exec_register(ov, signer, tx->register_client, r);
        return;
    case CLEARNODE__V1__TX__KIND_DEPOSIT_ATTEST:
        exec_deposit(ov, height, signer, tx->deposit_attest, r);
        return;
    case CLEARNODE__V1__TX__KIND_TRANSFER:
        exec_transfer(ov, signer, tx->transfer, r);
        return;
    case CLEARNODE__V1__TX__KIND_RESERVE_ATTEST:
        cn_reserves_exec(ov, signer, tx->reserve_attest, r);
        return;
    default:
        fail(r, CN_TX_UNSUPPORTED, "%s: not supported by this chain version",
             cn_tx_kind_name((int)tx->kind_case));
        return;
    }
}

void cn_exec_fail(cn_exec_result *r, cn_txerr code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
    r->code = code;
}
