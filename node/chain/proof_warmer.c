/* The reserves proof warmer (proof_warmer.h): one thread waiting on a condition variable. */
#include "node/chain/proof_warmer.h"

#include <pthread.h>
#include <stdlib.h>

#include "node/app/reserves_view.h"
#include "node/util/log.h"

struct cn_proof_warmer {
    cn_store *store;
    const char *chain_id;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int pending, stop;
    uint64_t ready;  /* the last epoch cached (under mu) */
    uint64_t failed; /* the last epoch whose rebuild failed, not retried (the thread's own) */
};

static void *run(void *arg) {
    cn_proof_warmer *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->pending && !w->stop)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->stop)
            break;
        w->pending = 0;
        pthread_mutex_unlock(&w->mu);
        uint64_t epoch = 0;
        int rc = cn_reserves_view_warm(w->store, w->chain_id, w->failed, &epoch);
        if (rc < 0) {
            w->failed = epoch;
            CN_LOG_WARN("reserves: rebuilding the tree of epoch %llu failed; proof requests "
                        "will retry it", (unsigned long long)epoch);
        }
        pthread_mutex_lock(&w->mu);
        if (rc == 1 && epoch != w->ready) {
            w->ready = epoch;
            CN_LOG_INFO("reserves: epoch %llu tree ready for proofs",
                        (unsigned long long)epoch);
        }
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

cn_proof_warmer *cn_proof_warmer_new(cn_store *store, const char *chain_id) {
    cn_proof_warmer *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->store = store;
    w->chain_id = chain_id;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->th, NULL, run, w) != 0) {
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return NULL;
    }
    return w;
}

void cn_proof_warmer_poke(cn_proof_warmer *w) {
    pthread_mutex_lock(&w->mu);
    w->pending = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

uint64_t cn_proof_warmer_ready(cn_proof_warmer *w) {
    pthread_mutex_lock(&w->mu);
    uint64_t d = w->ready;
    pthread_mutex_unlock(&w->mu);
    return d;
}

void cn_proof_warmer_free(cn_proof_warmer *w) {
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->th, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
