/* Route table and matcher. See routes.h. */
#include "node/rpc/routes.h"

#include <stddef.h>
#include <string.h>

struct route {
    const char *pattern; /* exact path, or a prefix ending in '/' for parameter routes */
    int has_param;
    cn_rpc_method method;
    const char *name;
};

/* Indexed by cn_rpc_route. */
static const struct route table[] = {
    [CN_RPC_ROUTE_TX_SUBMIT] = {"/v1/tx", 0, CN_RPC_POST, "tx_submit"},
    [CN_RPC_ROUTE_TX_GET] = {"/v1/tx/", 1, CN_RPC_GET, "tx_get"},
    [CN_RPC_ROUTE_ACCOUNT] = {"/v1/accounts/", 1, CN_RPC_GET, "account"},
    [CN_RPC_ROUTE_BLOCK] = {"/v1/blocks/", 1, CN_RPC_GET, "block"},
    [CN_RPC_ROUTE_STATUS] = {"/v1/status", 0, CN_RPC_GET, "status"},
    [CN_RPC_ROUTE_METRICS] = {"/metrics", 0, CN_RPC_GET, "metrics"},
    [CN_RPC_ROUTE_TXS_SUBMIT] = {"/v1/txs", 0, CN_RPC_POST, "txs_submit"},
    [CN_RPC_ROUTE_ORACLE] = {"/v1/oracle/", 1, CN_RPC_GET, "oracle"},
    [CN_RPC_ROUTE_WITHDRAWAL] = {"/v1/withdrawals/", 1, CN_RPC_GET, "withdrawal"},
    [CN_RPC_ROUTE_ACCOUNT_WITHDRAWALS] = {"/v1/accounts/", 2, CN_RPC_GET, "account_withdrawals"},
    [CN_RPC_ROUTE_PROPOSAL] = {"/v1/governance/proposals/", 1, CN_RPC_GET, "proposal"},
    [CN_RPC_ROUTE_RESERVES] = {"/v1/reserves/", 3, CN_RPC_GET, "reserves"},
    [CN_RPC_ROUTE_MARGIN] = {"/v1/margin/", 1, CN_RPC_GET, "margin"},
    [CN_RPC_ROUTE_VALIDATORS] = {"/v1/validators/", 1, CN_RPC_GET, "validators"},
    [CN_RPC_ROUTE_NONE] = {NULL, 0, CN_RPC_GET, "none"},
};

_Static_assert(sizeof table / sizeof table[0] == CN_RPC_ROUTE_COUNT, "one row per route");

cn_rpc_route cn_rpc_route_match(const char *path, const char **param) {
    *param = NULL;
    if (path == NULL)
        return CN_RPC_ROUTE_NONE;
    for (int i = 0; i < CN_RPC_ROUTE_NONE; i++) {
        const struct route *r = &table[i];
        size_t n = strlen(r->pattern);
        if (!r->has_param) {
            if (strcmp(path, r->pattern) == 0)
                return (cn_rpc_route)i;
            continue;
        }
        if (r->has_param == 3) { /* prefix, then the rest of the path (handler parses it) */
            if (strncmp(path, r->pattern, n) == 0 && path[n] != '\0') {
                *param = path + n;
                return (cn_rpc_route)i;
            }
            continue;
        }
        if (r->has_param == 2) { /* prefix, one segment, "/withdrawals" */
            const char *s = strncmp(path, r->pattern, n) == 0 ? strchr(path + n, '/') : NULL;
            if (s && s > path + n && strcmp(s, "/withdrawals") == 0) {
                *param = path + n;
                return (cn_rpc_route)i;
            }
            continue;
        }
        if (strncmp(path, r->pattern, n) == 0 && strchr(path + n, '/') == NULL) {
            *param = path + n;
            return (cn_rpc_route)i;
        }
    }
    return CN_RPC_ROUTE_NONE;
}

cn_rpc_method cn_rpc_route_method(cn_rpc_route r) {
    return (unsigned)r < CN_RPC_ROUTE_COUNT ? table[r].method : CN_RPC_GET;
}

const char *cn_rpc_route_name(cn_rpc_route r) {
    return (unsigned)r < CN_RPC_ROUTE_COUNT ? table[r].name : "none";
}
