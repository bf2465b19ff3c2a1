/* Simulator plumbing: a seeded PRNG (xoshiro256**, seeded through splitmix64) and the event
 * queue (a binary min-heap ordered by time, then by insertion sequence, so equal times pop in
 * a fixed order). Nothing here depends on the host: same seed, same run. */
#include "tests/sim/simnet.h"

#include <stdlib.h>
#include <string.h>

static uint64_t splitmix(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void sim_rng_seed(sim_rng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix(&seed);
}

static uint64_t rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

uint64_t sim_rng_next(sim_rng *r) {
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

uint64_t sim_rng_below(sim_rng *r, uint64_t n) {
    return n == 0 ? 0 : sim_rng_next(r) % n;
}

int sim_rng_pm(sim_rng *r, uint32_t permille) {
    return sim_rng_below(r, 1000) < permille;
}

static int ev_before(const sim_event *a, const sim_event *b) {
    return a->time != b->time ? a->time < b->time : a->seq < b->seq;
}

int sim_heap_push(sim_heap *h, const sim_event *e) {
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 1024;
        sim_event *a = realloc(h->a, cap * sizeof *a);
        if (!a)
            return 0;
        h->a = a;
        h->cap = cap;
    }
    size_t i = h->n++;
    h->a[i] = *e;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!ev_before(&h->a[i], &h->a[p]))
            break;
        sim_event t = h->a[i];
        h->a[i] = h->a[p];
        h->a[p] = t;
        i = p;
    }
    return 1;
}

int sim_heap_pop(sim_heap *h, sim_event *out) {
    if (h->n == 0)
        return 0;
    *out = h->a[0];
    h->a[0] = h->a[--h->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && ev_before(&h->a[l], &h->a[m]))
            m = l;
        if (r < h->n && ev_before(&h->a[r], &h->a[m]))
            m = r;
        if (m == i)
            break;
        sim_event t = h->a[i];
        h->a[i] = h->a[m];
        h->a[m] = t;
        i = m;
    }
    return 1;
}

void sim_heap_free(sim_heap *h) {
    free(h->a);
    memset(h, 0, sizeof *h);
}
