/* Rebuilds the latest reserves tree on a thread of its own after an epoch is published.
 *
 * Proofs and the leaf export are served from a tree rebuilt from the stored leaf set (the
 * state keeps leaves, not the tree). Rebuilt on demand, the first request after each epoch
 * held the API's single thread for the whole rebuild (about 3 s at 1,000,000 accounts) and
 * every other route waited behind it. The node pokes this thread after every commit (and once
 * at start); it rebuilds when a new epoch is published, off both the API and the engine.
 */
#ifndef CLEARNODE_NODE_CHAIN_PROOF_WARMER_H
#define CLEARNODE_NODE_CHAIN_PROOF_WARMER_H

#include <stdint.h>

#include "node/store/store.h"

typedef struct cn_proof_warmer cn_proof_warmer;

/* Starts the thread over `store` (both must outlive it). NULL when it could not start. */
cn_proof_warmer *cn_proof_warmer_new(cn_store *store, const char *chain_id);
/* Asks it to make sure the latest epoch's tree is cached; any thread, never blocks. Cheap
 * when it is (the node pokes after every commit). Pokes during a rebuild fold into one. */
void cn_proof_warmer_poke(cn_proof_warmer *w);
/* The latest epoch whose tree it has cached (0: none yet). */
uint64_t cn_proof_warmer_ready(cn_proof_warmer *w);
/* Stops the thread, after a rebuild in progress finishes. NULL is a no-op. */
void cn_proof_warmer_free(cn_proof_warmer *w);

#endif
