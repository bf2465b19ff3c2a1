/* The persisted liquidation queue of the margin module (margin.h, docs/margin.md
 * "Liquidation pass"). An account under maintenance that the pass could not liquidate in its
 * block (work cap, halted or stale price, grace rule) stays here across blocks and restarts;
 * being state, the queue is covered by the app hash.
 *
 *   'q' 'Q' rank(8) account(32)  empty value; key order = worst first, ties by account id
 *   'q' 'A' account(32)          rank(8): finds the account's 'Q' key
 * rank = floor(E * 10000 / MM) (equity as basis points of maintenance; negative when equity
 * is), stored big-endian with the sign bit flipped so byte order is numeric order.
 */
#ifndef CLEARNODE_NODE_APP_MARGIN_QUEUE_H
#define CLEARNODE_NODE_APP_MARGIN_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "node/app/overlay.h"

typedef struct {
    uint8_t id[32];
    int64_t rank;
} cn_mq_entry;

/* floor(equity * 10000 / maintenance), clamped to int64; maintenance must be > 0. */
int64_t cn_mq_rank(int64_t equity, int64_t maintenance);

/* 1 queued (*rank set), 0 not, -1 storage failure. */
int cn_mq_get(cn_overlay *ov, const uint8_t id[32], int64_t *rank);
/* Queues id at rank (moving an existing entry). 1, or 0 on no memory or storage failure. */
int cn_mq_put(cn_overlay *ov, const uint8_t id[32], int64_t rank);
/* Removes id (no-op when absent). 1, or 0 on failure. */
int cn_mq_del(cn_overlay *ov, const uint8_t id[32]);
/* cn_mq_put and cn_mq_del for a caller that has just read the entry with cn_mq_get
 * (queued = its result, old = the rank it gave): no second lookup. */
int cn_mq_put_known(cn_overlay *ov, const uint8_t id[32], int queued, int64_t old,
                    int64_t rank);
int cn_mq_del_known(cn_overlay *ov, const uint8_t id[32], int64_t old);
/* The whole queue in order (malloc'd). Returns the count, or -1 on failure. */
long cn_mq_list(cn_overlay *ov, cn_mq_entry **out);

#endif
