/* Lossy per-peer seen filter (see seen.h). A zero hash is stored as 1 so that an empty slot
 * (0) never matches. */
#include "node/p2p/seen.h"

#include <string.h>

/* The keyed 64-bit hash of an id, never 0. */
static uint64_t seen_hash(const uint8_t key[crypto_shorthash_KEYBYTES], const uint8_t id[32]) {
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, id, 32, key);
    uint64_t v;
    memcpy(&v, h, sizeof v);
    return v ? v : 1;
}

void cn_p2p_seen_put(cn_p2p_seen *s, const uint8_t key[crypto_shorthash_KEYBYTES],
                     const uint8_t id[32]) {
    uint64_t v = seen_hash(key, id);
    s->slot[v % CN_P2P_SEEN_SLOTS] = v;
}

int cn_p2p_seen_has(const cn_p2p_seen *s, const uint8_t key[crypto_shorthash_KEYBYTES],
                    const uint8_t id[32]) {
    uint64_t v = seen_hash(key, id);
    return s->slot[v % CN_P2P_SEEN_SLOTS] == v;
}
