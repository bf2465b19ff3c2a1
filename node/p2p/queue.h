/* Per-peer send queue: one FIFO per priority class with a shared message and byte limit.
 *
 * Policy when a new message does not fit (docs/p2p.md, "Send queues"):
 *   1. evict the oldest message of the least urgent non-empty class that is strictly less
 *      urgent than the new one, and repeat until the new message fits;
 *   2. if it still does not fit: a consensus message gives CN_P2P_Q_OVERFLOW (the caller
 *      disconnects the peer: consensus messages are never dropped silently), any other class
 *      gives CN_P2P_Q_FULL (the new message is dropped).
 * Every evicted or refused message counts in `dropped`. Messages are popped most urgent class
 * first, FIFO within a class.
 */
#ifndef CLEARNODE_NODE_P2P_QUEUE_H
#define CLEARNODE_NODE_P2P_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "node/p2p/p2p.h"

typedef struct cn_p2p_qmsg {
    struct cn_p2p_qmsg *next;
    size_t len;
    uint8_t data[];
} cn_p2p_qmsg;

typedef struct {
    cn_p2p_qmsg *head[CN_P2P_PRIO_COUNT], *tail[CN_P2P_PRIO_COUNT];
    uint32_t count;
    uint64_t bytes;
    uint64_t dropped;
} cn_p2p_queue;

typedef enum { CN_P2P_Q_OK = 0, CN_P2P_Q_FULL, CN_P2P_Q_OVERFLOW, CN_P2P_Q_NOMEM } cn_p2p_q_rc;

/* Copies data[0..len) into the queue at `prio` under the limits, applying the policy above. */
cn_p2p_q_rc cn_p2p_queue_push(cn_p2p_queue *q, cn_p2p_prio prio, const uint8_t *data, size_t len,
                              uint32_t max_msgs, uint64_t max_bytes);

/* Removes and returns the most urgent message (caller frees it), or NULL if empty. */
cn_p2p_qmsg *cn_p2p_queue_pop(cn_p2p_queue *q);

/* Frees every queued message (the dropped counter is kept). */
void cn_p2p_queue_clear(cn_p2p_queue *q);

#endif
