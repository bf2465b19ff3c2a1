/* A hash map from byte strings to pointers, for in-memory indexes (mempool, state overlay,
 * signature cache).
 *
 * Open addressing with linear probing and tombstones; the table doubles at 50% load (counting
 * tombstones) so probes stay short. Keys are copied into the map; values are opaque pointers
 * the caller owns. Hashing is SipHash-2-4 (libsodium crypto_shorthash) under a key drawn once per
 * process, so an attacker who chooses keys (public keys, tx bytes) cannot force collisions.
 *
 * Iteration order is the table order: it is NOT deterministic across runs and must never
 * influence consensus results. Callers that need an order sort what they collect.
 */
#ifndef CLEARNODE_NODE_UTIL_BMAP_H
#define CLEARNODE_NODE_UTIL_BMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t hash;
    uint8_t *key; /* NULL: empty; (uint8_t *)&cn_bmap_tomb: deleted */
    size_t klen;
    void *val;
} cn_bmap_slot;

typedef struct {
    cn_bmap_slot *slots;
    size_t cap;   /* power of two, or 0 before the first insert */
    size_t count; /* live entries */
    size_t used;  /* live entries plus tombstones */
    uint8_t sipkey[16];
} cn_bmap;

/* Starts an empty map (allocates nothing). */
void cn_bmap_init(cn_bmap *m);
/* Frees the table and the copied keys; values are the caller's. */
void cn_bmap_free(cn_bmap *m);

/* Returns the value stored for key, or NULL if absent. */
void *cn_bmap_get(const cn_bmap *m, const void *key, size_t klen);
/* Returns 1 if key is present. */
int cn_bmap_has(const cn_bmap *m, const void *key, size_t klen);
/* Inserts or replaces. *old (may be NULL) gets the replaced value or NULL.
 * Returns 1, or 0 if memory ran out (the map is unchanged). */
int cn_bmap_put(cn_bmap *m, const void *key, size_t klen, void *val, void **old);
/* Removes key; returns its value, or NULL if absent. */
void *cn_bmap_del(cn_bmap *m, const void *key, size_t klen);

/* Iterates: start with *pos = 0; returns 1 and fills key/klen/val for each live entry, 0 at
 * the end. The map must not be modified during iteration except by cn_bmap_del of the
 * current entry. */
int cn_bmap_next(const cn_bmap *m, size_t *pos, const uint8_t **key, size_t *klen, void **val);

#endif
