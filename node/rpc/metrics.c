/* Server counters. See metrics.h. */
#include "node/rpc/metrics.h"

#include <inttypes.h>
#include <stddef.h>

#include <event2/buffer.h>

/* The statuses the API answers with; the last slot is "other". */
static const int statuses[CN_RPC_STATUS_SLOTS - 1] = {200, 202, 400, 401, 403, 404, 405, 409,
                                                      411, 413, 415, 429, 500, 503, 504};

static size_t slot_of(int status) {
    for (size_t i = 0; i < CN_RPC_STATUS_SLOTS - 1; i++)
        if (statuses[i] == status)
            return i;
    return CN_RPC_STATUS_SLOTS - 1;
}

void cn_rpc_metrics_count(cn_rpc_metrics *m, cn_rpc_route route, int status) {
    if ((unsigned)route >= CN_RPC_ROUTE_COUNT)
        route = CN_RPC_ROUTE_NONE;
    m->requests[route][slot_of(status)]++;
}

void cn_rpc_metrics_write(const cn_rpc_metrics *m, struct evbuffer *out) {
    evbuffer_add_printf(out, "# HELP clearnode_rpc_requests_total HTTP API requests answered, "
                             "by route and status.\n"
                             "# TYPE clearnode_rpc_requests_total counter\n");
    for (int r = 0; r < CN_RPC_ROUTE_COUNT; r++) {
        for (size_t s = 0; s < CN_RPC_STATUS_SLOTS; s++) {
            uint64_t n = m->requests[r][s];
            if (n == 0)
                continue;
            if (s < CN_RPC_STATUS_SLOTS - 1)
                evbuffer_add_printf(out,
                                    "clearnode_rpc_requests_total{route=\"%s\",code=\"%d\"} "
                                    "%" PRIu64 "\n",
                                    cn_rpc_route_name((cn_rpc_route)r), statuses[s], n);
            else
                evbuffer_add_printf(out,
                                    "clearnode_rpc_requests_total{route=\"%s\",code=\"other\"} "
                                    "%" PRIu64 "\n",
                                    cn_rpc_route_name((cn_rpc_route)r), n);
        }
    }
    evbuffer_add_printf(out,
                        "# HELP clearnode_rpc_rejected_total Requests or connections held back "
                        "by a limit.\n"
                        "# TYPE clearnode_rpc_rejected_total counter\n"
                        "clearnode_rpc_rejected_total{reason=\"rate_limit\"} %" PRIu64 "\n"
                        "clearnode_rpc_rejected_total{reason=\"connection_limit\"} %" PRIu64 "\n"
                        "# HELP clearnode_rpc_connections Open HTTP API connections.\n"
                        "# TYPE clearnode_rpc_connections gauge\n"
                        "clearnode_rpc_connections %u\n",
                        m->rate_limited, m->connection_paused, m->connections);
}
