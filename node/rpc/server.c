/* The HTTP API server: evhttp setup, limits, and the one request callback.
 *
 * Every request goes through on_request(): the client address's token bucket first (429),
 * then the route (404), the method (405) and the query (400), then the route's handler.
 * The answer always carries a JSON error body on failure and is counted in the server's
 * metrics by route and status. evhttp itself enforces the header size cap, the body size
 * cap (answering 413 on its own for bodies over limits.max_body) and the read/write timeouts.
 */
#include "node/rpc/server.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "node/rpc/internal.h"
#include "node/rpc/routes.h"

/* The client address as a rate-limit key: family byte then the address bytes. */
static size_t peer_key(struct evhttp_request *req, uint8_t key[CN_RPC_RL_KEY_MAX]) {
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    const struct sockaddr *sa = evcon ? evhttp_connection_get_addr(evcon) : NULL;
    if (sa != NULL && sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        key[0] = 4;
        memcpy(key + 1, &in->sin_addr, 4);
        return 5;
    }
    if (sa != NULL && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        key[0] = 6;
        memcpy(key + 1, &in6->sin6_addr, 16);
        return 17;
    }
    key[0] = 0;
    return 1;
}

/* Picks the handler for an admitted request. */
static void dispatch(cn_rpc_server *srv, struct evhttp_request *req, cn_rpc_route route,
                     const char *param, const char *query, cn_rpc_resp *r) {
    switch (route) {
    case CN_RPC_ROUTE_TX_SUBMIT:
        cn_rpc_handle_tx_submit(
            srv->be, evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type"),
            evhttp_request_get_input_buffer(req), r);
        break;
    case CN_RPC_ROUTE_TX_GET:
        cn_rpc_handle_tx_get(srv->be, param, r);
        break;
    case CN_RPC_ROUTE_ACCOUNT:
        cn_rpc_handle_account(srv->be, param, r);
        break;
    case CN_RPC_ROUTE_BLOCK:
        cn_rpc_handle_block(srv->be, param, query, r);
        break;
    case CN_RPC_ROUTE_STATUS:
        cn_rpc_handle_status(srv->be, r);
        break;
    case CN_RPC_ROUTE_METRICS:
        cn_rpc_handle_metrics(srv->be, &srv->metrics, r);
        break;
    case CN_RPC_ROUTE_TXS_SUBMIT:
        cn_rpc_handle_txs_submit(
            srv->be, evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type"),
            evhttp_request_get_input_buffer(req), r);
        break;
    case CN_RPC_ROUTE_ORACLE:
        cn_rpc_handle_oracle(srv->be, param, r);
        break;
    case CN_RPC_ROUTE_MARGIN:
        cn_rpc_handle_margin(srv->be, param, r);
        break;
    case CN_RPC_ROUTE_VALIDATORS:
        cn_rpc_handle_validators(srv->be, param, r);
        break;
    case CN_RPC_ROUTE_WITHDRAWAL:
    case CN_RPC_ROUTE_ACCOUNT_WITHDRAWALS:
    case CN_RPC_ROUTE_PROPOSAL:
        cn_rpc_handle_custody(srv->be, route, param, r);
        break;
    case CN_RPC_ROUTE_RESERVES: {
        struct evkeyvalq *ih = evhttp_request_get_input_headers(req);
        cn_rpc_handle_reserves(srv->be, param, query, evhttp_find_header(ih, "X-Clearnode-Signer"),
                               evhttp_find_header(ih, "X-Clearnode-Signature"),
                               evhttp_find_header(ih, "X-Clearnode-Timestamp"), r);
        break;
    }
    case CN_RPC_ROUTE_NONE:
    case CN_RPC_ROUTE_COUNT:
        cn_rpc_resp_api_error(r, CN_RPC_E_NOT_FOUND, "no such route");
        break;
    }
}

/* Validates route, method and query, then dispatches. */
static cn_rpc_route route_request(cn_rpc_server *srv, struct evhttp_request *req,
                                  cn_rpc_resp *r) {
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
    const char *param = NULL;
    cn_rpc_route route = cn_rpc_route_match(path, &param);
    if (route == CN_RPC_ROUTE_NONE || (uri && evhttp_uri_get_fragment(uri) != NULL)) {
        cn_rpc_resp_api_error(r, CN_RPC_E_NOT_FOUND, "no such route");
        return CN_RPC_ROUTE_NONE;
    }
    enum evhttp_cmd_type want =
        cn_rpc_route_method(route) == CN_RPC_POST ? EVHTTP_REQ_POST : EVHTTP_REQ_GET;
    if (evhttp_request_get_command(req) != want) {
        r->allow = want == EVHTTP_REQ_POST ? "POST" : "GET";
        cn_rpc_resp_api_error(r, CN_RPC_E_METHOD,
                              want == EVHTTP_REQ_POST ? "this route only accepts POST"
                                                      : "this route only accepts GET");
        return route;
    }
    if (route != CN_RPC_ROUTE_BLOCK && route != CN_RPC_ROUTE_RESERVES && query != NULL &&
        query[0] != '\0') {
        cn_rpc_resp_api_error(r, CN_RPC_E_INVALID_QUERY, "this route takes no query string");
        return route;
    }
    dispatch(srv, req, route, param, query, r);
    return route;
}

/* Sends the answer and counts it. */
static void send_resp(cn_rpc_server *srv, struct evhttp_request *req, cn_rpc_route route,
                      cn_rpc_resp *r) {
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", r->content_type ? r->content_type : "application/json");
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    if (r->allow != NULL)
        evhttp_add_header(h, "Allow", r->allow);
    if (r->retry_after > 0) {
        char s[16];
        snprintf(s, sizeof s, "%d", r->retry_after);
        evhttp_add_header(h, "Retry-After", s);
    }
    cn_rpc_metrics_count(&srv->metrics, route, r->status);
    evhttp_send_reply(req, r->status, cn_rpc_reason(r->status), r->body);
}

static void on_request(struct evhttp_request *req, void *arg) {
    cn_rpc_server *srv = arg;
    cn_rpc_resp r = {0};
    r.body = evbuffer_new();
    if (r.body == NULL) {
        evhttp_send_error(req, 500, "Internal Server Error");
        return;
    }
    cn_rpc_route route = CN_RPC_ROUTE_NONE;
    uint8_t key[CN_RPC_RL_KEY_MAX];
    size_t key_len = peer_key(req, key);
    if (srv->rl != NULL &&
        !cn_rpc_ratelimit_take(srv->rl, key, key_len, cn_rpc_monotonic_ms())) {
        srv->metrics.rate_limited++;
        r.retry_after = 1;
        cn_rpc_resp_api_error(&r, CN_RPC_E_RATE_LIMITED, NULL);
    } else {
        route = route_request(srv, req, &r);
    }
    send_resp(srv, req, route, &r);
    evbuffer_free(r.body);
}

static void set_err(char *err, size_t cap, const char *msg, const char *host, unsigned port) {
    if (err != NULL && cap > 0)
        snprintf(err, cap, "%s %s:%u", msg, host ? host : "(null)", port);
}

cn_rpc_server *cn_rpc_server_start(struct event_base *base, const char *host, uint16_t port,
                                   const cn_rpc_backend *backend, const cn_rpc_limits *limits,
                                   char *err, size_t err_cap) {
    if (base == NULL || host == NULL || backend == NULL) {
        set_err(err, err_cap, "rpc: missing event base, host or backend for", host, port);
        return NULL;
    }
    cn_rpc_server *srv = calloc(1, sizeof *srv);
    if (srv == NULL) {
        set_err(err, err_cap, "rpc: out of memory starting", host, port);
        return NULL;
    }
    srv->base = base;
    srv->be = backend;
    if (limits != NULL)
        srv->lim = *limits;
    if (srv->lim.max_body == 0)
        srv->lim.max_body = CN_RPC_DEFAULT_MAX_BODY;
    if (srv->lim.max_connections == 0)
        srv->lim.max_connections = CN_RPC_DEFAULT_MAX_CONNECTIONS;
    if (srv->lim.requests_per_sec > 0) {
        srv->rl = cn_rpc_ratelimit_new(srv->lim.requests_per_sec, srv->lim.burst,
                                       (size_t)srv->lim.max_connections * 4);
        if (srv->rl == NULL) {
            free(srv);
            set_err(err, err_cap, "rpc: out of memory starting", host, port);
            return NULL;
        }
    }
    srv->http = evhttp_new(base);
    if (srv->http == NULL || !cn_rpc_conns_init(srv)) {
        set_err(err, err_cap, "rpc: out of memory starting", host, port);
        cn_rpc_server_stop(srv);
        return NULL;
    }
    evhttp_set_max_headers_size(srv->http, (ev_ssize_t)CN_RPC_MAX_HEADERS);
    evhttp_set_max_body_size(srv->http, (ev_ssize_t)srv->lim.max_body);
    evhttp_set_timeout(srv->http, CN_RPC_TIMEOUT_SECS);
    /* Every method reaches on_request, so a wrong one gets the JSON 405. */
    evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                              EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                              EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                                              EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
    evhttp_set_bevcb(srv->http, cn_rpc_conns_new_bev, srv);
    evhttp_set_gencb(srv->http, on_request, srv);
    srv->bound = evhttp_bind_socket_with_handle(srv->http, host, port);
    if (srv->bound == NULL) {
        set_err(err, err_cap, "rpc: cannot listen on", host, port);
        cn_rpc_server_stop(srv);
        return NULL;
    }
    srv->listener = evhttp_bound_socket_get_listener(srv->bound);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    evutil_socket_t fd = evhttp_bound_socket_get_fd(srv->bound);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET)
            srv->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            srv->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    return srv;
}

uint16_t cn_rpc_server_port(const cn_rpc_server *srv) { return srv ? srv->port : 0; }

void cn_rpc_server_stop(cn_rpc_server *srv) {
    if (srv == NULL)
        return;
    srv->listener = NULL;
    if (srv->http != NULL)
        evhttp_free(srv->http); /* closes the listener and frees every connection */
    cn_rpc_conns_close(srv);
    cn_rpc_ratelimit_free(srv->rl);
    free(srv);
}
