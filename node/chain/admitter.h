/* Admission of transactions received from peers, on a thread of its own.
 *
 * A tx gossiped by a peer must have its signature checked before it enters the mempool. Done
 * on the engine thread, a burst of gossip (thousands of txs arrive in one read) held up the
 * proposals and votes queued behind it, and under sustained load heights took seconds. The
 * engine now hands each batch to this queue and goes back to consensus; one thread drains
 * the queue through the node's batch admission (signatures on the verifier pool, then the
 * mempool in arrival order). The queue is bounded: past `max_pending` txs a batch is dropped
 * and counted (gossip is best effort: the tx stays in the sender's mempool and reaches a
 * block through it).
 */
#ifndef CLEARNODE_NODE_CHAIN_ADMITTER_H
#define CLEARNODE_NODE_CHAIN_ADMITTER_H

#include <stddef.h>
#include <stdint.h>

typedef struct cn_admitter cn_admitter;

/* admit(ctx, n, bytes, lens) runs on the admitter's thread, one batch at a time. */
typedef void (*cn_admit_fn)(void *ctx, size_t n, const uint8_t *const *bytes,
                            const size_t *lens);

/* Starts the thread. NULL when memory or the thread could not be had. */
cn_admitter *cn_admitter_new(cn_admit_fn admit, void *ctx, size_t max_pending);
/* Takes ownership of bytes[0..n) (malloc'd); any thread. Returns how many were dropped. */
size_t cn_admitter_push(cn_admitter *a, size_t n, uint8_t *const *bytes, const size_t *lens);
/* Txs waiting, and txs dropped since the start (for metrics); 0 for NULL. */
size_t cn_admitter_pending(cn_admitter *a);
uint64_t cn_admitter_dropped(cn_admitter *a);
/* Stops and joins the thread (what is still queued is freed, not admitted). NULL: no-op. */
void cn_admitter_free(cn_admitter *a);

#endif
