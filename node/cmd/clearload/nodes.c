/* Node list with round-robin choice and skipping (see nodes.h). */
#include "node/cmd/clearload/nodes.h"

#include <stdio.h>
#include <string.h>

#include "node/cmd/clearload/load.h"

int cl_nodes_parse(cl_nodes *ns, const char *list, int timeout_ms) {
    memset(ns, 0, sizeof *ns);
    const char *p = list;
    while (*p) {
        size_t l = strcspn(p, ",");
        if (ns->n == CL_MAX_NODES) {
            fprintf(stderr, "error: more than %d nodes in --nodes\n", CL_MAX_NODES);
            return 0;
        }
        cl_node *nd = &ns->node[ns->n];
        if (l == 0 || l >= sizeof nd->url) {
            fprintf(stderr, "error: empty or too long URL in --nodes\n");
            return 0;
        }
        memcpy(nd->url, p, l);
        nd->url[l] = 0;
        if (!cl_http_parse_url(&nd->proto, nd->url)) {
            fprintf(stderr, "error: bad node URL '%s' (http://host:port)\n", nd->url);
            return 0;
        }
        nd->proto.timeout_ms = timeout_ms;
        ns->n++;
        p += l;
        if (*p == ',')
            p++;
    }
    if (ns->n == 0) {
        fprintf(stderr, "error: --nodes names no node\n");
        return 0;
    }
    return 1;
}

int cl_nodes_pick(cl_nodes *ns, int avoid) {
    uint64_t now = cl_now_us();
    int fallback = -1;
    for (unsigned k = 0; k < ns->n; k++) {
        unsigned i = atomic_fetch_add(&ns->rr, 1) % ns->n;
        if (atomic_load(&ns->node[i].skip_until) > now)
            continue;
        if ((int)i != avoid)
            return (int)i;
        fallback = (int)i;
    }
    return fallback;
}

void cl_nodes_down(cl_nodes *ns, unsigned i) {
    uint64_t now = cl_now_us(), was = atomic_load(&ns->node[i].skip_until);
    /* Count a node going down once, not once per thread that noticed. */
    if (was <= now &&
        atomic_compare_exchange_strong(&ns->node[i].skip_until, &was, now + CL_NODE_SKIP_US))
        atomic_fetch_add(&ns->node[i].downs, 1);
}

void cl_nodes_conns(const cl_nodes *ns, cl_http *conns) {
    for (unsigned i = 0; i < ns->n; i++) {
        conns[i] = ns->node[i].proto;
        conns[i].fd = -1;
    }
}

void cl_nodes_conns_close(const cl_nodes *ns, cl_http *conns) {
    for (unsigned i = 0; i < ns->n; i++)
        cl_http_close(&conns[i]);
}
