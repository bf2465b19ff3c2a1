/* The transaction result table. See txerr.h. */
#include "node/app/txerr.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

struct row {
    cn_txerr code;
    const char *name;
    int http;
    const char *message;
};

static const struct row rows[] = {
    {CN_TX_OK, "ok", 200, "ok"},
    {CN_TX_TOO_LARGE, "too_large", 413, "transaction exceeds the size cap"},
    {CN_TX_MALFORMED, "malformed", 400, "transaction bytes do not decode"},
    {CN_TX_WRONG_CHAIN, "wrong_chain", 400, "transaction is for another chain"},
    {CN_TX_BAD_SIGNER, "bad_signer", 400, "signer is not a valid x-only public key"},
    {CN_TX_BAD_SIGNATURE, "bad_signature", 401, "signature does not verify"},
    {CN_TX_UNKNOWN_SIGNER, "unknown_signer", 403, "signer is not a registered account"},
    {CN_TX_NOT_PERMITTED, "not_permitted", 403, "signer's roles do not permit this kind"},
    {CN_TX_BAD_NONCE, "bad_nonce", 409, "nonce is used or outside the nonce window"},
    {CN_TX_DUPLICATE, "duplicate", 409, "transaction already seen"},
    {CN_TX_MEMPOOL_FULL, "mempool_full", 503, "mempool is full, retry later"},
    {CN_TX_NO_KIND, "no_kind", 400, "transaction has no kind"},
    {CN_TX_INVALID_FIELD, "invalid_field", 400, "a field is invalid"},
    {CN_TX_UNKNOWN_ASSET, "unknown_asset", 400, "asset is not in genesis"},
    {CN_TX_UNKNOWN_ACCOUNT, "unknown_account", 400, "account is not registered"},
    {CN_TX_ALREADY_REGISTERED, "already_registered", 409, "account is already registered"},
    {CN_TX_INSUFFICIENT_FUNDS, "insufficient_funds", 400, "balance too low"},
    {CN_TX_OVERFLOW, "overflow", 400, "amount would overflow"},
    {CN_TX_DUPLICATE_DEPOSIT, "duplicate_deposit", 409, "deposit reference already used"},
    {CN_TX_UNSUPPORTED, "unsupported", 400, "transaction kind not supported"},
    {CN_TX_CONTRACT_ERROR, "contract_error", 400, "contract call failed"},
    {CN_TX_UNKNOWN_CONTRACT, "unknown_contract", 400, "contract is not deployed"},
    {CN_TX_HALTED, "halted", 409, "asset or market is halted"},
    {CN_TX_MARGIN, "margin", 400, "would breach the margin requirement"},
    {CN_TX_PRICE_LIMIT, "price_limit", 409, "the oracle price is worse than the limit"},
    {CN_TX_NO_POSITION, "no_position", 400, "no position on that side of the asset"},
    {CN_TX_DUPLICATE_APPROVAL, "duplicate_approval", 409, "this key already approved"},
    {CN_TX_NOT_APPROVER, "not_approver", 403, "signer is not in the current approver set"},
    {CN_TX_BAD_APPROVAL_SIG, "bad_approval_sig", 401, "approval signature does not verify"},
    {CN_TX_STALE_POLICY, "stale_policy", 409, "approval policy version is not current"},
    {CN_TX_EXPIRED, "expired", 409, "request or proposal has expired"},
    {CN_TX_FROZEN, "frozen", 409, "withdrawals are frozen"},
    {CN_TX_NOT_ALLOWLISTED, "not_allowlisted", 403, "destination is not on the allow-list"},
    {CN_TX_VELOCITY, "velocity", 429, "withdrawal velocity limit reached"},
    {CN_TX_NOT_FOUND, "not_found", 404, "unknown request or proposal"},
    {CN_TX_BAD_STATE, "bad_state", 409, "request or proposal is not pending"},
    {CN_TX_NOT_OWNER, "not_owner", 403, "only the requesting client may do this"},
    {CN_TX_LIMIT, "limit", 409, "too many pending entries"},
    {CN_TX_BAD_PARAM, "bad_param", 400, "unknown parameter or invalid value"},
    {CN_TX_CONTRACT_EXISTS, "contract_exists", 409, "a contract of that name is deployed"},
    {CN_TX_INTERNAL, "internal", 500, "internal error"},
};

static const struct row *find(cn_txerr e) {
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (rows[i].code == e)
            return &rows[i];
    return NULL;
}

const char *cn_txerr_name(cn_txerr e) {
    const struct row *r = find(e);
    return r ? r->name : "unknown";
}

const char *cn_txerr_message(cn_txerr e) {
    const struct row *r = find(e);
    return r ? r->message : "unknown result code";
}

int cn_txerr_http_status(cn_txerr e) {
    const struct row *r = find(e);
    return r ? r->http : 500;
}

cn_txerr cn_txerr_set(char *msg, size_t cap, cn_txerr code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, cap, fmt, ap);
    va_end(ap);
    return code;
}
