/* The nodes a soak run talks to (`--nodes URL[,URL...]`): round-robin choice among the live
 * ones, and a short holiday for a node that refused a connection or timed out, so a killed or
 * paused validator costs the run one timeout per thread instead of stalling it. */
#ifndef CLEARNODE_NODE_CMD_CLEARLOAD_NODES_H
#define CLEARNODE_NODE_CMD_CLEARLOAD_NODES_H

#include <stdatomic.h>
#include <stdint.h>

#include "node/cmd/clearload/http.h"

#define CL_MAX_NODES 32
/* How long a node that failed a request is left out. */
#define CL_NODE_SKIP_US 1000000u

typedef struct {
    char url[280];
    cl_http proto;             /* parsed address; each thread dials its own connection */
    _Atomic uint64_t skip_until; /* monotonic us; 0 = live */
    atomic_size_t accepted;    /* txs this node admitted ("ok") */
    atomic_size_t duplicates;  /* txs it already had ("duplicate") */
    atomic_size_t downs;       /* times it was left out */
} cl_node;

typedef struct {
    cl_node node[CL_MAX_NODES];
    unsigned n;
    atomic_uint rr;
} cl_nodes;

/* Parses a comma-separated URL list into ns (each request gets timeout_ms). Returns 1, or 0
 * after naming the bad entry on stderr. */
int cl_nodes_parse(cl_nodes *ns, const char *list, int timeout_ms);

/* The next live node in round-robin order, other than `avoid` when another is live (-1 to
 * avoid none). Returns its index, or -1 when every node is left out. */
int cl_nodes_pick(cl_nodes *ns, int avoid);

/* Leaves node i out for CL_NODE_SKIP_US. */
void cl_nodes_down(cl_nodes *ns, unsigned i);

/* One connection per node for a thread: copies of the parsed addresses, not yet dialled. */
void cl_nodes_conns(const cl_nodes *ns, cl_http *conns);
void cl_nodes_conns_close(const cl_nodes *ns, cl_http *conns);

#endif
