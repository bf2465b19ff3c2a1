/* The mempool: admitted transactions waiting for a block (DESIGN.md §3).
 *
 * Admission (cn_mempool_add), cheapest checks first:
 *   1. already in the mempool (duplicate cache by tx id)          -> CN_TX_DUPLICATE
 *   2. count or byte cap reached                                  -> CN_TX_MEMPOOL_FULL
 *   3. cn_app_check_tx: decoding, chain id, fields, committed duplicate, signer registered and
 *      permitted, nonce >= next, signature (verified once; the id goes to the sigcache so
 *      execution does not verify these bytes again)
 *   4. nonce window: nonce < next + window, where next is the signer's committed next nonce
 *                                                                 -> CN_TX_BAD_NONCE
 *   5. another tx of this signer with this nonce is pending       -> CN_TX_BAD_NONCE
 * Transactions with future nonces (a gap) are held until the gap fills.
 *
 * Reaping (cn_mempool_reap) is deterministic given the mempool contents: signers are taken in
 * order of their oldest pending tx's arrival, and from each signer the run of consecutive
 * nonces starting at its next nonce, until the block caps are reached.
 *
 * After a commit, cn_mempool_update removes the committed txs, refreshes each touched signer's
 * next nonce from the committed state and drops what became stale.
 *
 * Not thread-safe: the node serializes every call with its mempool lock (docs/architecture.md
 * "Threads"); the bytes returned by reap stay valid until the next update.
 */
#ifndef CLEARNODE_NODE_MEMPOOL_MEMPOOL_H
#define CLEARNODE_NODE_MEMPOOL_MEMPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "node/app/app.h"
#include "node/app/txerr.h"

typedef struct {
    uint32_t max_txs;
    uint64_t max_bytes;
    uint32_t nonce_window;
} cn_mempool_limits;

typedef struct cn_mempool cn_mempool;

cn_mempool *cn_mempool_new(cn_app *app, const cn_mempool_limits *limits);
void cn_mempool_free(cn_mempool *mp);

/* Admits a tx (see top). Fills `hash` whenever len is within CN_CAP_TX. */
cn_txerr cn_mempool_add(cn_mempool *mp, const uint8_t *bytes, size_t len, uint8_t hash[32],
                        char *msg, size_t cap);

/* Selects up to max_txs txs / max_bytes bytes in proposal order. *txs and *lens are malloc'd
 * arrays (caller frees the arrays, not the bytes, which stay owned by the mempool until the
 * next update). Returns the count, or 0 (arrays NULL) when nothing is executable. */
size_t cn_mempool_reap(cn_mempool *mp, size_t max_txs, uint64_t max_bytes, uint8_t ***txs,
                       size_t **lens);

/* Removes committed txs and rechecks the signers they touched against committed state. */
void cn_mempool_update(cn_mempool *mp, const uint8_t (*committed)[32], size_t n);

size_t cn_mempool_count(const cn_mempool *mp);
uint64_t cn_mempool_bytes(const cn_mempool *mp);
/* Admission rejections so far with code e (for metrics); e < 100. */
uint64_t cn_mempool_rejected(const cn_mempool *mp, cn_txerr e);

#endif
