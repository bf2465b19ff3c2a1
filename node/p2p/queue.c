/* Per-peer priority send queue (see queue.h for the policy). Singly linked FIFOs: push at the
 * tail, pop and evict at the head, all O(1). */
#include "node/p2p/queue.h"

#include <stdlib.h>
#include <string.h>

/* Unlinks the head of class c (which must be non-empty) and returns it. */
static cn_p2p_qmsg *q_take(cn_p2p_queue *q, int c) {
    cn_p2p_qmsg *m = q->head[c];
    q->head[c] = m->next;
    if (!q->head[c])
        q->tail[c] = NULL;
    q->count--;
    q->bytes -= m->len;
    m->next = NULL;
    return m;
}

/* 1 if a message of `len` bytes fits beside what is queued. */
static int q_fits(const cn_p2p_queue *q, size_t len, uint32_t max_msgs, uint64_t max_bytes) {
    return q->count < max_msgs && (uint64_t)len <= max_bytes && q->bytes <= max_bytes - len;
}

cn_p2p_q_rc cn_p2p_queue_push(cn_p2p_queue *q, cn_p2p_prio prio, const uint8_t *data, size_t len,
                              uint32_t max_msgs, uint64_t max_bytes) {
    int p = (int)prio;
    if (p < 0 || p >= CN_P2P_PRIO_COUNT)
        p = CN_P2P_PRIO_TX;
    while (!q_fits(q, len, max_msgs, max_bytes)) {
        int victim = -1;
        for (int c = CN_P2P_PRIO_COUNT - 1; c > p; c--)
            if (q->head[c]) {
                victim = c;
                break;
            }
        if (victim < 0) {
            q->dropped++;
            return p == CN_P2P_PRIO_CONSENSUS ? CN_P2P_Q_OVERFLOW : CN_P2P_Q_FULL;
        }
        free(q_take(q, victim));
        q->dropped++;
    }
    cn_p2p_qmsg *m = malloc(sizeof *m + len);
    if (!m)
        return CN_P2P_Q_NOMEM;
    m->next = NULL;
    m->len = len;
    if (len)
        memcpy(m->data, data, len);
    if (q->tail[p])
        q->tail[p]->next = m;
    else
        q->head[p] = m;
    q->tail[p] = m;
    q->count++;
    q->bytes += len;
    return CN_P2P_Q_OK;
}

cn_p2p_qmsg *cn_p2p_queue_pop(cn_p2p_queue *q) {
    for (int c = 0; c < CN_P2P_PRIO_COUNT; c++)
        if (q->head[c])
            return q_take(q, c);
    return NULL;
}

void cn_p2p_queue_clear(cn_p2p_queue *q) {
    cn_p2p_qmsg *m;
    while ((m = cn_p2p_queue_pop(q)) != NULL)
        free(m);
}
