/* Errors of the HTTP API itself (as opposed to transaction result codes).
 *
 * Transaction admission failures use the cn_txerr table (node/app/txerr.h) for their code
 * and status. Everything the API rejects before a transaction reaches the node — an unknown
 * route, a malformed path parameter, bad JSON or base64, a request over a limit — has a code
 * here. Every API error is sent as {"error":{"code":"...","message":"..."}} with the status
 * given here; docs/api.md lists both tables. Codes are stable: clients match on them.
 */
#ifndef CLEARNODE_NODE_RPC_ERRORS_H
#define CLEARNODE_NODE_RPC_ERRORS_H

typedef enum {
    CN_RPC_E_NOT_FOUND = 0,    /* 404: unknown route, or the resource does not exist */
    CN_RPC_E_METHOD,           /* 405: the route exists with another method */
    CN_RPC_E_INVALID_JSON,     /* 400: body is not the expected JSON object */
    CN_RPC_E_INVALID_BASE64,   /* 400: "tx" is not strict padded base64 */
    CN_RPC_E_INVALID_HASH,     /* 400: path hash is not exactly 64 hex digits */
    CN_RPC_E_INVALID_PUBKEY,   /* 400: path public key is not exactly 64 hex digits */
    CN_RPC_E_INVALID_HEIGHT,   /* 400: path height is not a canonical decimal in 1..2^64-1 */
    CN_RPC_E_INVALID_QUERY,    /* 400: unexpected query string */
    CN_RPC_E_MEDIA_TYPE,       /* 415: Content-Type is neither protobuf nor JSON */
    CN_RPC_E_TOO_LARGE,        /* 413: body over the transaction or request size cap */
    CN_RPC_E_RATE_LIMITED,     /* 429: the client address ran out of request tokens */
    CN_RPC_E_UNAVAILABLE,      /* 503: the node cannot answer this now */
    CN_RPC_E_INTERNAL,         /* 500: the server failed (out of memory) */
    CN_RPC_E_COUNT
} cn_rpc_err;

/* Machine name used as error.code ("invalid_hash"). */
const char *cn_rpc_err_name(cn_rpc_err e);
/* HTTP status of the error. */
int cn_rpc_err_status(cn_rpc_err e);
/* Default human message. */
const char *cn_rpc_err_message(cn_rpc_err e);

#endif
