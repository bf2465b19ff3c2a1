/* Bounded FIFO set of verified tx ids (see sigcache.h). */
#include "node/app/sigcache.h"

#include <stdlib.h>
#include <string.h>

static void *const present = (void *)(uintptr_t)1;

int cn_sigcache_init(cn_sigcache *c, size_t cap) {
    memset(c, 0, sizeof *c);
    c->ring = calloc(cap ? cap : 1, 32);
    if (!c->ring)
        return 0;
    c->cap = cap ? cap : 1;
    cn_bmap_init(&c->set);
    pthread_mutex_init(&c->mu, NULL);
    return 1;
}

void cn_sigcache_free(cn_sigcache *c) {
    if (!c->ring)
        return;
    cn_bmap_free(&c->set);
    free(c->ring);
    pthread_mutex_destroy(&c->mu);
    memset(c, 0, sizeof *c);
}

void cn_sigcache_add(cn_sigcache *c, const uint8_t id[32]) {
    pthread_mutex_lock(&c->mu);
    if (!cn_bmap_has(&c->set, id, 32)) {
        /* Once the ring has wrapped, its head slot holds the oldest id: forget it (if it was
         * re-added later this only costs one re-verification). */
        if (c->wrapped)
            cn_bmap_del(&c->set, c->ring[c->head], 32);
        memcpy(c->ring[c->head], id, 32);
        c->head = (c->head + 1) % c->cap;
        if (c->head == 0)
            c->wrapped = 1;
        (void)cn_bmap_put(&c->set, id, 32, present, NULL); /* no memory: just not cached */
    }
    pthread_mutex_unlock(&c->mu);
}

int cn_sigcache_has(cn_sigcache *c, const uint8_t id[32]) {
    pthread_mutex_lock(&c->mu);
    int r = cn_bmap_has(&c->set, id, 32);
    pthread_mutex_unlock(&c->mu);
    return r;
}

void cn_sigcache_remove(cn_sigcache *c, const uint8_t id[32]) {
    pthread_mutex_lock(&c->mu);
    cn_bmap_del(&c->set, id, 32);
    pthread_mutex_unlock(&c->mu);
}
