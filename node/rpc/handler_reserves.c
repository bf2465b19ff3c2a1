/* GET /v1/reserves/{epoch}, /v1/reserves/{epoch}/proof/{pubkey} and /v1/reserves/{epoch}/leaves
 * (docs/api.md): the query (?format=json|proto) is checked here; the node answers through
 * the backend, which also checks the request signature of the last two. */
#include "node/rpc/internal.h"

#include <stdlib.h>

#include "node/rpc/params.h"

void cn_rpc_handle_reserves(const cn_rpc_backend *be, const char *rest, const char *query,
                            const char *signer, const char *sig, const char *ts,
                            cn_rpc_resp *r) {
    cn_rpc_format fmt;
    if (!cn_rpc_parse_block_query(query, &fmt)) {
        cn_rpc_resp_api_error(r, CN_RPC_E_INVALID_QUERY,
                              "the only query accepted is format=json or format=proto");
        return;
    }
    if (be->reserves == NULL) {
        cn_rpc_resp_api_error(r, CN_RPC_E_UNAVAILABLE, NULL);
        return;
    }
    const char *ctype = NULL, *code = "error";
    uint8_t *body = NULL;
    size_t len = 0;
    char why[200] = "";
    int status = be->reserves(be->ctx, rest, fmt == CN_RPC_FMT_PROTO, signer, sig, ts, &ctype,
                              &body, &len, &code, why, sizeof why);
    if (status == 200 && body) {
        cn_rpc_resp_bytes(r, 200, ctype ? ctype : "application/json", body, len);
    } else {
        char clean[200];
        cn_rpc_clean_message(clean, sizeof clean, why);
        cn_rpc_resp_error(r, status == 200 ? 500 : status, code, clean, NULL);
    }
    free(body);
}
