/* The transfers of a soak run and the index from tx id to transfer (see soak.h).
 *
 * Chunks are allocated on first use and never move or shrink, so a pointer to a transfer
 * stays valid while other threads sign more. The index is a small open-addressing table
 * behind a mutex: submitters insert a batch at a time, the block follower looks up a block
 * at a time, so the lock is taken a few hundred times a second at most. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "node/cmd/clearload/soak.h"

int cl_soak_txs_init(cl_soak *s) {
    pthread_mutex_init(&s->chunk_mu, NULL);
    pthread_mutex_init(&s->idx_mu, NULL);
    s->slot_cap = 1024;
    while (s->slot_cap < 2 * s->max_txs && s->slot_cap < (size_t)4 * CL_SOAK_MAX_TXS &&
           s->presigned)
        s->slot_cap *= 2;
    s->slot = calloc(s->slot_cap, sizeof *s->slot);
    return s->slot != NULL;
}

void cl_soak_txs_free(cl_soak *s) {
    for (size_t c = 0; c < CL_SOAK_CHUNKS; c++) {
        cl_soak_chunk *ch = atomic_load(&s->chunk[c]);
        if (!ch)
            continue;
        for (size_t i = 0; i < CL_SOAK_CHUNK; i++)
            free(ch->tx[i].bytes);
        free(ch);
    }
    free(s->slot);
    pthread_mutex_destroy(&s->chunk_mu);
    pthread_mutex_destroy(&s->idx_mu);
}

cl_tx *cl_soak_tx(cl_soak *s, size_t k) {
    return &atomic_load(&s->chunk[k / CL_SOAK_CHUNK])->tx[k % CL_SOAK_CHUNK];
}

cl_soak_state *cl_soak_st(cl_soak *s, size_t k) {
    return &atomic_load(&s->chunk[k / CL_SOAK_CHUNK])->st[k % CL_SOAK_CHUNK];
}

cl_soak_state *cl_soak_st_if(cl_soak *s, size_t k) {
    cl_soak_chunk *ch = atomic_load(&s->chunk[k / CL_SOAK_CHUNK]);
    return ch ? &ch->st[k % CL_SOAK_CHUNK] : NULL;
}

static cl_soak_chunk *chunk_for(cl_soak *s, size_t k) {
    size_t c = k / CL_SOAK_CHUNK;
    cl_soak_chunk *ch = atomic_load(&s->chunk[c]);
    if (ch)
        return ch;
    pthread_mutex_lock(&s->chunk_mu);
    ch = atomic_load(&s->chunk[c]);
    if (!ch && (ch = calloc(1, sizeof *ch)) != NULL) {
        for (size_t i = 0; i < CL_SOAK_CHUNK; i++)
            atomic_init(&ch->st[i].last_node, -1);
        atomic_store(&s->chunk[c], ch);
    }
    pthread_mutex_unlock(&s->chunk_mu);
    return ch;
}

static size_t slot_of(const uint8_t hash[32], size_t mask) {
    uint64_t v;
    memcpy(&v, hash, sizeof v);
    return (size_t)v & mask;
}

/* Inserts index k (its hash is signed already); the caller holds idx_mu. */
static int idx_put(cl_soak *s, size_t k) {
    if (2 * (s->slot_used + 1) > s->slot_cap) {
        size_t cap = s->slot_cap * 2;
        uint32_t *ns = calloc(cap, sizeof *ns);
        if (!ns)
            return 0;
        for (size_t i = 0; i < s->slot_cap; i++) {
            if (!s->slot[i])
                continue;
            size_t j = slot_of(cl_soak_tx(s, s->slot[i] - 1)->hash, cap - 1);
            while (ns[j])
                j = (j + 1) & (cap - 1);
            ns[j] = s->slot[i];
        }
        free(s->slot);
        s->slot = ns;
        s->slot_cap = cap;
    }
    size_t j = slot_of(cl_soak_tx(s, k)->hash, s->slot_cap - 1);
    while (s->slot[j])
        j = (j + 1) & (s->slot_cap - 1);
    s->slot[j] = (uint32_t)(k + 1);
    s->slot_used++;
    return 1;
}

long cl_soak_find(cl_soak *s, const uint8_t hash[32]) {
    long found = -1;
    pthread_mutex_lock(&s->idx_mu);
    for (size_t j = slot_of(hash, s->slot_cap - 1); s->slot[j];
         j = (j + 1) & (s->slot_cap - 1)) {
        size_t k = s->slot[j] - 1;
        if (memcmp(cl_soak_tx(s, k)->hash, hash, 32) == 0) {
            found = (long)k;
            break;
        }
    }
    pthread_mutex_unlock(&s->idx_mu);
    return found;
}

int cl_soak_sign(cl_soak *s, size_t from, size_t to) {
    for (size_t k = from; k < to; k++) {
        cl_soak_chunk *ch = chunk_for(s, k);
        if (!ch)
            return 0;
        cl_tx *t = &ch->tx[k % CL_SOAK_CHUNK];
        if (t->bytes)
            continue; /* signed and indexed before */
        if (!cl_sign_transfer(s->ck, s->clients, s->chain, s->asset, k, t))
            return 0;
        pthread_mutex_lock(&s->idx_mu);
        int ok = idx_put(s, k);
        pthread_mutex_unlock(&s->idx_mu);
        if (!ok)
            return 0;
    }
    return 1;
}

typedef struct {
    cl_soak *s;
    size_t from, to;
    int ok;
} presign_part;

static void *presign_thread(void *arg) {
    presign_part *p = arg;
    p->ok = cl_soak_sign(p->s, p->from, p->to);
    return NULL;
}

int cl_soak_presign(cl_soak *s, size_t n) {
    presign_part part[64];
    unsigned t = s->threads < 64 ? s->threads : 64;
    for (unsigned i = 0; i < t; i++)
        part[i] = (presign_part){s, n * i / t, n * (i + 1) / t, 0};
    cl_parallel(t, presign_thread, part, sizeof part[0]);
    int ok = 1;
    for (unsigned i = 0; i < t; i++)
        ok &= part[i].ok;
    return ok;
}
