/* A small fixed pool of worker threads for data-parallel loops.
 *
 * cn_workpool_run(pool, fn, arg, n) calls fn(arg, i) for every i in [0, n) and returns when
 * all calls are done. The calling thread takes part, so a pool of k workers runs the loop on
 * k + 1 threads; a pool of 0 workers (or NULL) runs it inline. Indexes are handed out one at a
 * time from a shared counter, so uneven items balance themselves. One loop at a time: callers
 * of one pool are serialized by the pool's own lock. fn must be thread-safe and must not call
 * back into the same pool.
 */
#ifndef CLEARNODE_NODE_UTIL_WORKPOOL_H
#define CLEARNODE_NODE_UTIL_WORKPOOL_H

#include <stddef.h>

typedef struct cn_workpool cn_workpool;

typedef void (*cn_workpool_fn)(void *arg, size_t i);

/* Starts `workers` threads (0..64). Returns NULL if threads or memory could not be had. */
cn_workpool *cn_workpool_new(unsigned workers);
/* Stops and joins the workers. NULL is a no-op. */
void cn_workpool_free(cn_workpool *p);
unsigned cn_workpool_workers(const cn_workpool *p);
void cn_workpool_run(cn_workpool *p, cn_workpool_fn fn, void *arg, size_t n);

#endif
