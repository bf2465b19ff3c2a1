/* Peer-tx admission thread (see admitter.h). */
#include "node/chain/admitter.h"

#include <pthread.h>
#include <stdlib.h>

#define ROUND_MAX 2048u /* txs admitted per round: one verifier-pool loop */

struct cn_admitter {
    cn_admit_fn admit;
    void *ctx;
    size_t max_pending;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    /* FIFO ring of owned txs, guarded by mu */
    uint8_t **q;
    size_t *ql;
    size_t cap, head, n;
    uint64_t dropped;
};

static void *run(void *arg) {
    cn_admitter *a = arg;
    uint8_t **bytes = malloc(ROUND_MAX * sizeof *bytes);
    size_t *lens = malloc(ROUND_MAX * sizeof *lens);
    pthread_mutex_lock(&a->mu);
    for (;;) {
        while (!a->stop && a->n == 0)
            pthread_cond_wait(&a->cv, &a->mu);
        if (a->stop)
            break;
        size_t k = 0;
        while (a->n > 0 && k < ROUND_MAX && bytes && lens) {
            bytes[k] = a->q[a->head];
            lens[k++] = a->ql[a->head];
            a->head = (a->head + 1) % a->cap;
            a->n--;
        }
        pthread_mutex_unlock(&a->mu);
        if (k > 0)
            a->admit(a->ctx, k, (const uint8_t *const *)bytes, lens);
        for (size_t i = 0; i < k; i++)
            free(bytes[i]);
        pthread_mutex_lock(&a->mu);
        if (!bytes || !lens) { /* no memory for a round: drop what waits */
            for (; a->n > 0; a->n--, a->head = (a->head + 1) % a->cap, a->dropped++)
                free(a->q[a->head]);
        }
    }
    pthread_mutex_unlock(&a->mu);
    free(bytes);
    free(lens);
    return NULL;
}

cn_admitter *cn_admitter_new(cn_admit_fn admit, void *ctx, size_t max_pending) {
    cn_admitter *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->admit = admit;
    a->ctx = ctx;
    a->max_pending = max_pending ? max_pending : 1;
    a->cap = a->max_pending;
    a->q = malloc(a->cap * sizeof *a->q);
    a->ql = malloc(a->cap * sizeof *a->ql);
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    if (!a->q || !a->ql || pthread_create(&a->th, NULL, run, a) != 0) {
        pthread_cond_destroy(&a->cv);
        pthread_mutex_destroy(&a->mu);
        free(a->q);
        free(a->ql);
        free(a);
        return NULL;
    }
    return a;
}

size_t cn_admitter_push(cn_admitter *a, size_t n, uint8_t *const *bytes, const size_t *lens) {
    size_t dropped = 0;
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; i < n; i++) {
        if (a->n == a->cap) {
            free(bytes[i]);
            dropped++;
            continue;
        }
        size_t at = (a->head + a->n) % a->cap;
        a->q[at] = bytes[i];
        a->ql[at] = lens[i];
        a->n++;
    }
    a->dropped += dropped;
    pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
    return dropped;
}

size_t cn_admitter_pending(cn_admitter *a) {
    if (!a)
        return 0;
    pthread_mutex_lock(&a->mu);
    size_t n = a->n;
    pthread_mutex_unlock(&a->mu);
    return n;
}

uint64_t cn_admitter_dropped(cn_admitter *a) {
    if (!a)
        return 0;
    pthread_mutex_lock(&a->mu);
    uint64_t d = a->dropped;
    pthread_mutex_unlock(&a->mu);
    return d;
}

void cn_admitter_free(cn_admitter *a) {
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    a->stop = 1;
    pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->th, NULL);
    for (; a->n > 0; a->n--, a->head = (a->head + 1) % a->cap)
        free(a->q[a->head]);
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
    free(a->q);
    free(a->ql);
    free(a);
}
