/* GET /v1/withdrawals/{id}, GET /v1/accounts/{pubkey}/withdrawals and
 * GET /v1/governance/proposals/{id} (docs/api.md, docs/custody.md, docs/governance.md). */
#include "node/rpc/internal.h"

#include <string.h>

#include "crypto/encoding.h"
#include "node/rpc/routes.h"

/* A decimal id 1..2^63-1 without sign, spaces or leading zeros. */
static int parse_id(const char *s, uint64_t *out) {
    size_t n = strlen(s);
    if (n == 0 || n > 19 || s[0] == '0')
        return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > (uint64_t)INT64_MAX)
        return 0;
    *out = v;
    return 1;
}

void cn_rpc_handle_custody(const cn_rpc_backend *be, cn_rpc_route route, const char *param,
                           cn_rpc_resp *r) {
    json_t *o = NULL;
    if (route == CN_RPC_ROUTE_ACCOUNT_WITHDRAWALS) {
        uint8_t pub[32];
        /* param is "<64 hex>/withdrawals" */
        const char *slash = strchr(param, '/');
        size_t got = 0;
        if (!slash || slash - param != 64 || !cn_hex_decode(pub, 32, &got, param, 64) ||
            got != 32) {
            cn_rpc_resp_error(r, 400, "invalid_pubkey", "the account must be 64 hex digits",
                              NULL);
            return;
        }
        if (be->get_account_withdrawals == NULL) {
            cn_rpc_resp_api_error(r, CN_RPC_E_UNAVAILABLE, NULL);
            return;
        }
        o = be->get_account_withdrawals(be->ctx, pub);
        if (o == NULL)
            cn_rpc_resp_api_error(r, CN_RPC_E_NOT_FOUND, "no account with this key");
        else
            cn_rpc_resp_json(r, 200, o);
        return;
    }
    uint64_t id;
    if (!parse_id(param, &id)) {
        cn_rpc_resp_error(r, 400, "invalid_id", "the id must be a decimal number >= 1", NULL);
        return;
    }
    json_t *(*get)(void *, uint64_t) =
        route == CN_RPC_ROUTE_WITHDRAWAL ? be->get_withdrawal : be->get_proposal;
    if (get == NULL) {
        cn_rpc_resp_api_error(r, CN_RPC_E_UNAVAILABLE, NULL);
        return;
    }
    o = get(be->ctx, id);
    if (o == NULL)
        cn_rpc_resp_api_error(r, CN_RPC_E_NOT_FOUND,
                              route == CN_RPC_ROUTE_WITHDRAWAL ? "no withdrawal with this id"
                                                               : "no proposal with this id");
    else
        cn_rpc_resp_json(r, 200, o);
}
