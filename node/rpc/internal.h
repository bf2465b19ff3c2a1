/* Private state of the API server, shared by its files (server.c, conns.c, handlers.c,
 * reply.c). Nothing outside node/rpc includes this. */
#ifndef CLEARNODE_NODE_RPC_INTERNAL_H
#define CLEARNODE_NODE_RPC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "node/rpc/backend.h"
#include "node/rpc/errors.h"
#include "node/rpc/metrics.h"
#include "node/rpc/ratelimit.h"
#include "node/rpc/routes.h"
#include "node/rpc/server.h"

struct bufferevent;
struct event;
struct evbuffer;
struct evhttp;
struct evhttp_bound_socket;
struct evconnlistener;

/* Defaults for zero fields of cn_rpc_limits. */
#define CN_RPC_DEFAULT_MAX_BODY ((size_t)256 * 1024)
#define CN_RPC_DEFAULT_MAX_CONNECTIONS 256u
#define CN_RPC_MAX_HEADERS ((size_t)8 * 1024) /* request line plus headers */
#define CN_RPC_TIMEOUT_SECS 10                /* read and write timeout per connection */
#define CN_RPC_SWEEP_MS 100                   /* how often closed connections are reaped */

/* Open connections: every accepted socket's bufferevent, with a reference held by us (see
 * conns.c for why). */
typedef struct {
    struct bufferevent **bev;
    size_t len, cap;
    struct event *sweep; /* periodic reaper */
} cn_rpc_conns;

struct cn_rpc_server {
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *bound;
    struct evconnlistener *listener;
    const cn_rpc_backend *be;
    cn_rpc_limits lim;
    uint16_t port;
    int paused; /* accepting is paused at the connection cap */
    cn_rpc_ratelimit *rl; /* NULL when unlimited */
    cn_rpc_conns conns;
    cn_rpc_metrics metrics;
};

/* An answer being built: status, body and the few headers the API sets. */
typedef struct {
    int status;
    struct evbuffer *body;
    const char *content_type;
    const char *allow;   /* Allow header (405) or NULL */
    int retry_after;     /* Retry-After seconds (429), 0 for none */
} cn_rpc_resp;

/* conns.c: connection tracking and the cap. */
int cn_rpc_conns_init(cn_rpc_server *srv);
void cn_rpc_conns_close(cn_rpc_server *srv);
struct bufferevent *cn_rpc_conns_new_bev(struct event_base *base, void *srv);

/* reply.c: building answers. Each sets status, content type and body. */
void cn_rpc_resp_json(cn_rpc_resp *r, int status, json_t *owned);
void cn_rpc_resp_error(cn_rpc_resp *r, int status, const char *code, const char *message,
                       const char *hash_hex);
void cn_rpc_resp_api_error(cn_rpc_resp *r, cn_rpc_err e, const char *message);
void cn_rpc_resp_bytes(cn_rpc_resp *r, int status, const char *content_type,
                       const uint8_t *data, size_t len);
/* Copies a message for JSON: printable ASCII only (others become '?'), at most cap-1 bytes. */
void cn_rpc_clean_message(char *dst, size_t cap, const char *src);
/* Standard reason phrase of a status. */
const char *cn_rpc_reason(int status);

/* handlers.c: one function per route; inputs are plain values so they are testable. */
void cn_rpc_handle_tx_submit(const cn_rpc_backend *be, const char *content_type,
                             struct evbuffer *body, cn_rpc_resp *r);
void cn_rpc_handle_tx_get(const cn_rpc_backend *be, const char *param, cn_rpc_resp *r);
void cn_rpc_handle_account(const cn_rpc_backend *be, const char *param, cn_rpc_resp *r);
void cn_rpc_handle_block(const cn_rpc_backend *be, const char *param, const char *query,
                         cn_rpc_resp *r);
void cn_rpc_handle_status(const cn_rpc_backend *be, cn_rpc_resp *r);
void cn_rpc_handle_metrics(const cn_rpc_backend *be, const cn_rpc_metrics *m, cn_rpc_resp *r);
void cn_rpc_handle_margin(const cn_rpc_backend *be, const char *param, cn_rpc_resp *r);
void cn_rpc_handle_validators(const cn_rpc_backend *be, const char *param, cn_rpc_resp *r);
void cn_rpc_handle_oracle(const cn_rpc_backend *be, const char *param, cn_rpc_resp *r);
/* handler_reserves.c: GET /v1/reserves/... with the request-signing headers (may be NULL). */
void cn_rpc_handle_reserves(const cn_rpc_backend *be, const char *rest, const char *query,
                            const char *signer, const char *sig, const char *ts, cn_rpc_resp *r);
/* handler_custody.c: withdrawals and governance proposals. */
void cn_rpc_handle_custody(const cn_rpc_backend *be, cn_rpc_route route, const char *param,
                           cn_rpc_resp *r);
/* batch.c: POST /v1/txs. */
void cn_rpc_handle_txs_submit(const cn_rpc_backend *be, const char *content_type,
                              struct evbuffer *body, cn_rpc_resp *r);

#endif
