/* Result codes of transactions: admission (check_tx, mempool) and execution (receipts).
 *
 * One table gives each code its number (stable: it is stored in receipts and documented in
 * docs/protocol.md), a short machine name for API errors, the HTTP status the API answers
 * with when admission fails, and a default message. Codes are never renumbered; new ones
 * are appended.
 */
#ifndef CLEARNODE_NODE_APP_TXERR_H
#define CLEARNODE_NODE_APP_TXERR_H

#include <stddef.h>

typedef enum {
    CN_TX_OK = 0,
    /* admission: the bytes */
    CN_TX_TOO_LARGE = 1,        /* over CN_CAP_TX */
    CN_TX_MALFORMED = 2,        /* not a Signed envelope, or a Tx body that does not decode */
    CN_TX_WRONG_CHAIN = 3,      /* chain_id differs */
    CN_TX_BAD_SIGNER = 4,       /* signer is not a valid 32-byte x-only key */
    CN_TX_BAD_SIGNATURE = 5,    /* signature does not verify */
    CN_TX_UNKNOWN_SIGNER = 6,   /* signer is not a registered account */
    CN_TX_NOT_PERMITTED = 7,    /* signer's roles do not allow this kind */
    CN_TX_BAD_NONCE = 8,        /* nonce already used, or beyond the nonce window */
    CN_TX_DUPLICATE = 9,        /* the same tx is already in the mempool or committed */
    CN_TX_MEMPOOL_FULL = 10,    /* mempool count or byte cap reached */
    CN_TX_NO_KIND = 11,         /* Tx has no kind set */
    CN_TX_INVALID_FIELD = 12,   /* a field fails validation (message names it) */
    /* execution */
    CN_TX_UNKNOWN_ASSET = 20,
    CN_TX_UNKNOWN_ACCOUNT = 21,      /* a referenced account is not registered */
    CN_TX_ALREADY_REGISTERED = 22,
    CN_TX_INSUFFICIENT_FUNDS = 23,
    CN_TX_OVERFLOW = 24,             /* an amount or supply would exceed int64 */
    CN_TX_DUPLICATE_DEPOSIT = 25,    /* deposit_ref already minted */
    CN_TX_UNSUPPORTED = 26,          /* kind not handled by this chain version yet */
    CN_TX_CONTRACT_ERROR = 27,       /* the contract trapped or ran out of gas */
    CN_TX_UNKNOWN_CONTRACT = 28,
    CN_TX_HALTED = 29,               /* asset or market halted by a circuit breaker */
    CN_TX_MARGIN = 30,               /* would breach the margin requirement */
    CN_TX_PRICE_LIMIT = 31,          /* the oracle price is worse than limit_price */
    CN_TX_NO_POSITION = 32,          /* no position on that side of the asset */
    /* custody and governance (docs/custody.md, docs/governance.md) */
    CN_TX_DUPLICATE_APPROVAL = 40,   /* this key already approved the request or proposal */
    CN_TX_NOT_APPROVER = 41,         /* signer is not in the current approver/governor set */
    CN_TX_BAD_APPROVAL_SIG = 42,     /* approval_sig does not verify over this request's digest */
    CN_TX_STALE_POLICY = 43,         /* policy_version is not the current approval policy */
    CN_TX_EXPIRED = 44,              /* the request or proposal is past its expiry */
    CN_TX_FROZEN = 45,               /* withdrawals are frozen by governance */
    CN_TX_NOT_ALLOWLISTED = 46,      /* destination is not (yet) on the client's allow-list */
    CN_TX_VELOCITY = 47,             /* a per-client or global withdrawal velocity limit */
    CN_TX_NOT_FOUND = 48,            /* unknown withdrawal request or proposal id */
    CN_TX_BAD_STATE = 49,            /* the request or proposal is no longer pending */
    CN_TX_NOT_OWNER = 50,            /* only the requesting client may do this */
    CN_TX_LIMIT = 51,                /* too many pending requests, proposals or entries */
    CN_TX_BAD_PARAM = 52,            /* unknown parameter or a value its module rejects */
    /* contracts (docs/contracts.md) */
    CN_TX_CONTRACT_EXISTS = 60,      /* contract_deploy of a name already deployed */
    CN_TX_INTERNAL = 99,             /* storage failure; the node stops */
} cn_txerr;

/* Machine name ("bad_signature"), used as the API's error.code. */
const char *cn_txerr_name(cn_txerr e);
/* Default human message. */
const char *cn_txerr_message(cn_txerr e);
/* HTTP status for an admission failure (400, 401, 403, 409, 413, 503, ...); 200 for OK. */
int cn_txerr_http_status(cn_txerr e);
/* Formats a specific message into msg and returns code (the one place modules format a
 * refusal; older modules still carry a local copy). */
cn_txerr cn_txerr_set(char *msg, size_t cap, cn_txerr code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
