/* GET /v1/oracle/{asset}: the oracle view of one asset (docs/api.md, docs/oracle.md). */
#include "node/rpc/internal.h"

#include <string.h>

/* The asset symbol format of the ledger: 1..16 characters of [A-Z0-9.]. */
static int symbol_ok(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > 16)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
            return 0;
    return 1;
}

void cn_rpc_handle_oracle(const cn_rpc_backend *be, const char *param, cn_rpc_resp *r) {
    if (!symbol_ok(param)) {
        cn_rpc_resp_error(r, 400, "invalid_asset",
                          "the asset must be 1..16 characters of [A-Z0-9.]", NULL);
        return;
    }
    if (be->get_oracle == NULL) {
        cn_rpc_resp_api_error(r, CN_RPC_E_UNAVAILABLE, NULL);
        return;
    }
    json_t *o = be->get_oracle(be->ctx, param);
    if (o == NULL)
        cn_rpc_resp_api_error(r, CN_RPC_E_NOT_FOUND, "no asset with this symbol");
    else
        cn_rpc_resp_json(r, 200, o);
}
