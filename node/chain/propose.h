/* Building a proposal: the block a proposer offers for height tip + 1 (DESIGN.md §3, §7).
 *
 * Reaps the mempool (under its lock), lets the app choose what fits (prepare_proposal), and
 * builds the block with the header every validator expects (cn_app_process_proposal):
 *   time             height 1: genesis time + 1 ms; otherwise the BFT time of the tip's
 *                    commit (node/chain/cert.h), so no proposer's clock enters a header
 *   last_block_id, last_commit (and its hash), app_hash of the tip
 *   validators_hash  of the set of this height (node/app/validators.h)
 *   reserves_root    the latest published reserves root, if any
 *   proposer         the given key
 *   evidence_hash    over the evidence given (at most CN_EVIDENCE_PER_BLOCK), if any
 * Used by the consensus engine and by the synchronous single-validator producer.
 */
#ifndef CLEARNODE_NODE_CHAIN_PROPOSE_H
#define CLEARNODE_NODE_CHAIN_PROPOSE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "node/app/app.h"
#include "node/mempool/mempool.h"

typedef struct {
    uint8_t *block; /* encoded Block (malloc'd) */
    size_t len;
    uint8_t id[32];
    uint64_t height, time_ms;
    size_t n_txs;
    uint8_t (*tx_ids)[32]; /* malloc'd, n_txs entries (at least one slot) */
} cn_built_block;

/* Returns 1 with *out filled, 0 when there is nothing to propose (no executable tx and
 * !allow_empty; *out empty), -1 with a reason (no memory, or a tip commit that gives no
 * time). mp_lock may be NULL. */
int cn_block_propose(cn_app *app, cn_mempool *mp, pthread_mutex_t *mp_lock,
                     const uint8_t proposer[32], int allow_empty, cn_built_block *out,
                     char *err, size_t cap);
/* The same, with equivocation evidence to record (encoded DuplicateVoteEvidence, already
 * checked against the tip: node/app/evidence.h). */
int cn_block_propose_ev(cn_app *app, cn_mempool *mp, pthread_mutex_t *mp_lock,
                        const uint8_t proposer[32], int allow_empty, uint8_t *const *evidence,
                        const size_t *ev_lens, size_t n_ev, cn_built_block *out, char *err,
                        size_t cap);

/* The header time of block tip + 1 (see above). Returns 1, or 0 if the tip's commit does not
 * give one. */
int cn_block_next_time(cn_app *app, uint64_t *out);

void cn_built_block_free(cn_built_block *b);

#endif
