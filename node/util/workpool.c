/* Worker pool (see workpool.h): one job slot guarded by a mutex, a generation counter that
 * wakes the workers for each new job, and an atomic index counter that hands out items. */
#include "node/util/workpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#define MAX_WORKERS 64

struct cn_workpool {
    pthread_mutex_t run_mu; /* one cn_workpool_run at a time */
    pthread_mutex_t mu;     /* guards the job fields and the counters below */
    pthread_cond_t wake, done;
    unsigned n_threads, busy;
    unsigned long gen;
    int stop;
    int open; /* a job is posted and workers may still join it */
    cn_workpool_fn fn;
    void *arg;
    size_t n;
    atomic_size_t next;
    pthread_t th[MAX_WORKERS];
};

/* Takes items until none are left. */
static void drain(cn_workpool *p, cn_workpool_fn fn, void *arg, size_t n) {
    for (;;) {
        size_t i = atomic_fetch_add(&p->next, 1);
        if (i >= n)
            return;
        fn(arg, i);
    }
}

static void *worker(void *v) {
    cn_workpool *p = v;
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->gen == seen)
            pthread_cond_wait(&p->wake, &p->mu);
        if (p->stop)
            break;
        seen = p->gen;
        if (!p->open)
            continue; /* woke after the job closed: nothing to join */
        cn_workpool_fn fn = p->fn;
        void *arg = p->arg;
        size_t n = p->n;
        p->busy++;
        pthread_mutex_unlock(&p->mu);
        drain(p, fn, arg, n);
        pthread_mutex_lock(&p->mu);
        if (--p->busy == 0)
            pthread_cond_broadcast(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

cn_workpool *cn_workpool_new(unsigned workers) {
    if (workers > MAX_WORKERS)
        return NULL;
    cn_workpool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    pthread_mutex_init(&p->run_mu, NULL);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    atomic_init(&p->next, 0);
    for (unsigned i = 0; i < workers; i++) {
        if (pthread_create(&p->th[i], NULL, worker, p) != 0) {
            cn_workpool_free(p);
            return NULL;
        }
        p->n_threads++;
    }
    return p;
}

void cn_workpool_free(cn_workpool *p) {
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->n_threads; i++)
        pthread_join(p->th[i], NULL);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    pthread_mutex_destroy(&p->run_mu);
    free(p);
}

unsigned cn_workpool_workers(const cn_workpool *p) { return p ? p->n_threads : 0; }

void cn_workpool_run(cn_workpool *p, cn_workpool_fn fn, void *arg, size_t n) {
    if (!p || p->n_threads == 0 || n < 2) {
        for (size_t i = 0; i < n; i++)
            fn(arg, i);
        return;
    }
    pthread_mutex_lock(&p->run_mu);
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->arg = arg;
    p->n = n;
    atomic_store(&p->next, 0);
    p->gen++;
    p->open = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    drain(p, fn, arg, n);
    /* Close the job so no late worker joins it, then wait for the ones that did. */
    pthread_mutex_lock(&p->mu);
    p->open = 0;
    while (p->busy > 0)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
    pthread_mutex_unlock(&p->run_mu);
}
