/* The node's HTTP API server (libevent evhttp + jansson).
 *
 * Serves the routes of docs/api.md on one event base, answering every query through a
 * cn_rpc_backend table (backend.h) and nothing else of the node. Each request is bounded:
 * body and header sizes, a connection cap, a per-client-IP token bucket on request rate,
 * and read/write timeouts. Errors are JSON {"error":{"code","message"}} with a 4xx/5xx
 * status. All calls happen on the thread that runs `base`.
 */
#ifndef CLEARNODE_NODE_RPC_SERVER_H
#define CLEARNODE_NODE_RPC_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "node/rpc/backend.h"

struct event_base;

typedef struct {
    size_t max_body;           /* request body cap in bytes (413 above it); 0 = default */
    unsigned max_connections;  /* simultaneous connections; 0 = default */
    unsigned requests_per_sec; /* per client IP refill rate; 0 = unlimited */
    unsigned burst;            /* per client IP bucket size; 0 = requests_per_sec */
} cn_rpc_limits;

typedef struct cn_rpc_server cn_rpc_server;

/* Binds host:port on `base` and serves the routes of docs/api.md through `backend`.
 * Returns NULL with a message in err on failure. `backend` must outlive the server.
 * `limits` may be NULL for the defaults. */
cn_rpc_server *cn_rpc_server_start(struct event_base *base, const char *host, uint16_t port,
                                   const cn_rpc_backend *backend, const cn_rpc_limits *limits,
                                   char *err, size_t err_cap);

/* The port actually bound (useful when started with port 0). */
uint16_t cn_rpc_server_port(const cn_rpc_server *srv);

/* Stops listening, closes connections and frees the server. NULL is a no-op. */
void cn_rpc_server_stop(cn_rpc_server *srv);

#endif
