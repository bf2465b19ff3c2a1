/* The API error table. See errors.h. */
#include "node/rpc/errors.h"

#include <stddef.h>

struct row {
    const char *name;
    int status;
    const char *message;
};

/* Indexed by cn_rpc_err; the static assert below keeps it in step with the enum. */
static const struct row rows[] = {
    [CN_RPC_E_NOT_FOUND] = {"not_found", 404, "not found"},
    [CN_RPC_E_METHOD] = {"method_not_allowed", 405, "method not allowed on this route"},
    [CN_RPC_E_INVALID_JSON] = {"invalid_json", 400,
                               "body must be a JSON object {\"tx\": \"<base64>\"}"},
    [CN_RPC_E_INVALID_BASE64] = {"invalid_base64", 400,
                                 "tx is not standard padded base64"},
    [CN_RPC_E_INVALID_HASH] = {"invalid_hash", 400, "hash must be exactly 64 hex digits"},
    [CN_RPC_E_INVALID_PUBKEY] = {"invalid_pubkey", 400,
                                 "public key must be exactly 64 hex digits"},
    [CN_RPC_E_INVALID_HEIGHT] = {"invalid_height", 400,
                                 "height must be a decimal integer from 1 to 2^64-1"},
    [CN_RPC_E_INVALID_QUERY] = {"invalid_query", 400, "unexpected query string"},
    [CN_RPC_E_MEDIA_TYPE] = {"unsupported_media_type", 415,
                             "Content-Type must be application/x-protobuf or application/json"},
    [CN_RPC_E_TOO_LARGE] = {"too_large", 413, "request body exceeds the size cap"},
    [CN_RPC_E_RATE_LIMITED] = {"rate_limited", 429, "too many requests, retry later"},
    [CN_RPC_E_UNAVAILABLE] = {"unavailable", 503, "the node cannot answer this now"},
    [CN_RPC_E_INTERNAL] = {"internal", 500, "internal error"},
};

_Static_assert(sizeof rows / sizeof rows[0] == CN_RPC_E_COUNT, "one row per cn_rpc_err");

static const struct row *find(cn_rpc_err e) {
    return (unsigned)e < CN_RPC_E_COUNT ? &rows[e] : &rows[CN_RPC_E_INTERNAL];
}

const char *cn_rpc_err_name(cn_rpc_err e) { return find(e)->name; }
int cn_rpc_err_status(cn_rpc_err e) { return find(e)->status; }
const char *cn_rpc_err_message(cn_rpc_err e) { return find(e)->message; }
