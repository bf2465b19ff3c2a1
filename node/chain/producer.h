/* The single-validator block producer (DESIGN.md §7, "one validator uses the same code path").
 *
 * It plays the part the BFT engine will play, through the same app calls: reap the mempool,
 * cn_app_prepare_proposal, build the block (header: height, time strictly increasing,
 * last_block_id, last_commit_hash, tx_root, app_hash of the previous height, validators_hash,
 * proposer), cn_app_process_proposal on its own block, cn_app_finalize_block, sign a precommit
 * with the validator key to form the commit certificate (n = 1), cn_app_commit, and finally
 * cn_mempool_update. Replacing it by consensus means replacing cn_producer_step's middle:
 * "decide on a block and collect 2f+1 precommits" instead of "sign one".
 *
 * Block time: max(wall clock ms, previous block time + 1).
 * Empty blocks: only if the caller asks (heartbeat after block.empty_interval_ms).
 * Signer record (CN_DB_SIGNER "last"): be64 height || be32 round || u8 step (3 = precommit) ||
 * block id, written in the block's own commit transaction, so after a crash the node never
 * holds a signature it has not persisted (with n = 1 nothing is sent before commit).
 */
#ifndef CLEARNODE_NODE_CHAIN_PRODUCER_H
#define CLEARNODE_NODE_CHAIN_PRODUCER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/schnorr.h"
#include "node/app/app.h"
#include "node/mempool/mempool.h"

typedef struct {
    cn_app *app;
    cn_mempool *mp;
    const cn_keypair *key;
    uint64_t (*clock_ms)(void); /* NULL: wall clock */
    /* When set, held around every mempool call (reap, update), never across finalize and
     * commit, so admission goes on while a block executes and commits. */
    pthread_mutex_t *mp_lock;
} cn_producer;

/* Produces at most one block. Returns 1 if a block was committed, 0 if there was nothing to
 * do (no executable tx and !allow_empty), -1 on a fatal error (message in err; stop the node,
 * nothing of the failed height is on disk). */
int cn_producer_step(cn_producer *p, int allow_empty, char *err, size_t cap);

uint64_t cn_wall_ms(void);

#endif
