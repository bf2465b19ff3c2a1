/* Byte-string hash map (see bmap.h). */
#include "node/util/bmap.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

static const uint8_t cn_bmap_tomb_byte = 0;
#define TOMB ((uint8_t *)(uintptr_t)&cn_bmap_tomb_byte)

/* One SipHash key per process, drawn once: maps are created per transaction check, and a
 * system random call each time would dominate. */
static uint8_t process_key[16];
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static void draw_key(void) { randombytes_buf(process_key, sizeof process_key); }

void cn_bmap_init(cn_bmap *m) {
    memset(m, 0, sizeof *m);
    pthread_once(&key_once, draw_key);
    memcpy(m->sipkey, process_key, sizeof m->sipkey);
}

void cn_bmap_free(cn_bmap *m) {
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key && m->slots[i].key != TOMB)
            free(m->slots[i].key);
    free(m->slots);
    m->slots = NULL;
    m->cap = m->count = m->used = 0;
}

static uint64_t hash_key(const cn_bmap *m, const void *key, size_t klen) {
    uint8_t out[crypto_shorthash_BYTES];
    crypto_shorthash(out, key, klen, m->sipkey);
    uint64_t h;
    memcpy(&h, out, sizeof h);
    return h;
}

/* Finds the slot holding key, or SIZE_MAX. */
static size_t find(const cn_bmap *m, uint64_t h, const void *key, size_t klen) {
    if (m->cap == 0)
        return SIZE_MAX;
    size_t mask = m->cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        const cn_bmap_slot *s = &m->slots[i];
        if (!s->key)
            return SIZE_MAX;
        if (s->key != TOMB && s->hash == h && s->klen == klen && memcmp(s->key, key, klen) == 0)
            return i;
    }
}

/* Rebuilds the table with `cap` slots (dropping tombstones). */
static int rehash(cn_bmap *m, size_t cap) {
    cn_bmap_slot *ns = calloc(cap, sizeof *ns);
    if (!ns)
        return 0;
    for (size_t i = 0; i < m->cap; i++) {
        cn_bmap_slot *s = &m->slots[i];
        if (!s->key || s->key == TOMB)
            continue;
        size_t j = (size_t)s->hash & (cap - 1);
        while (ns[j].key)
            j = (j + 1) & (cap - 1);
        ns[j] = *s;
    }
    free(m->slots);
    m->slots = ns;
    m->cap = cap;
    m->used = m->count;
    return 1;
}

void *cn_bmap_get(const cn_bmap *m, const void *key, size_t klen) {
    size_t i = find(m, hash_key(m, key, klen), key, klen);
    return i == SIZE_MAX ? NULL : m->slots[i].val;
}

int cn_bmap_has(const cn_bmap *m, const void *key, size_t klen) {
    return find(m, hash_key(m, key, klen), key, klen) != SIZE_MAX;
}

int cn_bmap_put(cn_bmap *m, const void *key, size_t klen, void *val, void **old) {
    uint64_t h = hash_key(m, key, klen);
    size_t i = find(m, h, key, klen);
    if (old)
        *old = NULL;
    if (i != SIZE_MAX) {
        if (old)
            *old = m->slots[i].val;
        m->slots[i].val = val;
        return 1;
    }
    if ((m->used + 1) * 2 > m->cap) {
        size_t cap = 16;
        while ((m->count + 1) * 4 > cap)
            cap *= 2;
        if (cap < m->cap)
            cap = m->cap; /* same size: the rehash drops tombstones */
        if (!rehash(m, cap))
            return 0;
    }
    uint8_t *k = malloc(klen ? klen : 1);
    if (!k)
        return 0;
    if (klen)
        memcpy(k, key, klen);
    size_t mask = m->cap - 1;
    size_t j = (size_t)h & mask;
    while (m->slots[j].key && m->slots[j].key != TOMB)
        j = (j + 1) & mask;
    if (!m->slots[j].key)
        m->used++;
    m->slots[j] = (cn_bmap_slot){h, k, klen, val};
    m->count++;
    return 1;
}

void *cn_bmap_del(cn_bmap *m, const void *key, size_t klen) {
    size_t i = find(m, hash_key(m, key, klen), key, klen);
    if (i == SIZE_MAX)
        return NULL;
    void *v = m->slots[i].val;
    free(m->slots[i].key);
    m->slots[i].key = TOMB;
    m->slots[i].val = NULL;
    m->count--;
    return v;
}

int cn_bmap_next(const cn_bmap *m, size_t *pos, const uint8_t **key, size_t *klen, void **val) {
    for (size_t i = *pos; i < m->cap; i++) {
        const cn_bmap_slot *s = &m->slots[i];
        if (s->key && s->key != TOMB) {
            *key = s->key;
            *klen = s->klen;
            *val = s->val;
            *pos = i + 1;
            return 1;
        }
    }
    *pos = m->cap;
    return 0;
}
