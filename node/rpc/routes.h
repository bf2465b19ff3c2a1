/* The route table of the HTTP API: path patterns, their one method, and their names.
 *
 * Matching is on the raw path: exact for fixed routes, and a fixed prefix followed by one
 * parameter segment (no '/') for the others. Anything else is CN_RPC_ROUTE_NONE (404).
 */
#ifndef CLEARNODE_NODE_RPC_ROUTES_H
#define CLEARNODE_NODE_RPC_ROUTES_H

typedef enum {
    CN_RPC_ROUTE_TX_SUBMIT = 0, /* POST /v1/tx */
    CN_RPC_ROUTE_TX_GET,        /* GET  /v1/tx/{hash} */
    CN_RPC_ROUTE_ACCOUNT,       /* GET  /v1/accounts/{pubkey} */
    CN_RPC_ROUTE_BLOCK,         /* GET  /v1/blocks/{height} */
    CN_RPC_ROUTE_STATUS,        /* GET  /v1/status */
    CN_RPC_ROUTE_METRICS,       /* GET  /metrics */
    CN_RPC_ROUTE_TXS_SUBMIT,    /* POST /v1/txs (a batch) */
    CN_RPC_ROUTE_ORACLE,        /* GET  /v1/oracle/{asset} */
    CN_RPC_ROUTE_WITHDRAWAL,    /* GET  /v1/withdrawals/{id} */
    CN_RPC_ROUTE_ACCOUNT_WITHDRAWALS, /* GET /v1/accounts/{pubkey}/withdrawals */
    CN_RPC_ROUTE_PROPOSAL,      /* GET  /v1/governance/proposals/{id} */
    CN_RPC_ROUTE_RESERVES,      /* GET  /v1/reserves/{epoch}[/proof/{pubkey}|/leaves] */
    CN_RPC_ROUTE_MARGIN,        /* GET  /v1/margin/{pubkey} */
    CN_RPC_ROUTE_VALIDATORS,    /* GET  /v1/validators/{height} */
    CN_RPC_ROUTE_NONE,          /* no route: 404 (also the metrics label of rejected requests) */
    CN_RPC_ROUTE_COUNT
} cn_rpc_route;

/* HTTP methods a route can have (a subset of libevent's, kept here so callers need not
 * include event2/http.h). */
typedef enum { CN_RPC_GET = 0, CN_RPC_POST = 1 } cn_rpc_method;

/* Finds the route of `path`. For parameter routes *param points into `path` at the
 * parameter (possibly ""); otherwise it is set to NULL. */
cn_rpc_route cn_rpc_route_match(const char *path, const char **param);

/* The route's only method. */
cn_rpc_method cn_rpc_route_method(cn_rpc_route r);

/* Short label for metrics ("tx_submit"). */
const char *cn_rpc_route_name(cn_rpc_route r);

#endif
