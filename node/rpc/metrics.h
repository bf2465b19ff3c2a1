/* The API server's own counters, exported on GET /metrics next to the node's.
 *
 *   clearnode_rpc_requests_total{route="...",code="..."}   answered requests
 *   clearnode_rpc_rejected_total{reason="rate_limit"}       429 answers
 *   clearnode_rpc_rejected_total{reason="connection_limit"} times accepting paused at the cap
 *   clearnode_rpc_connections                               open connections
 *
 * Status codes are counted in a fixed set of slots (the statuses the API answers with, plus
 * "other"), so the memory is fixed whatever clients send.
 */
#ifndef CLEARNODE_NODE_RPC_METRICS_H
#define CLEARNODE_NODE_RPC_METRICS_H

#include <stdint.h>

#include "node/rpc/routes.h"

struct evbuffer;

#define CN_RPC_STATUS_SLOTS 16

typedef struct {
    uint64_t requests[CN_RPC_ROUTE_COUNT][CN_RPC_STATUS_SLOTS];
    uint64_t rate_limited;
    uint64_t connection_paused;
    unsigned connections;
} cn_rpc_metrics;

/* Counts one answered request. */
void cn_rpc_metrics_count(cn_rpc_metrics *m, cn_rpc_route route, int status);

/* Appends the counters in Prometheus text format. */
void cn_rpc_metrics_write(const cn_rpc_metrics *m, struct evbuffer *out);

#endif
