/* A lossy per-peer "seen" filter for gossip ids (see cn_p2p_seen_mark in p2p.h).
 *
 * Direct-mapped table of CN_P2P_SEEN_SLOTS keyed 64-bit SipHash values (crypto_shorthash with
 * a per-process random key, so a peer cannot aim ids at one slot). A new id overwrites its
 * slot: memory is fixed and lookups are O(1); "not seen" may mean "evicted". */
#ifndef CLEARNODE_NODE_P2P_SEEN_H
#define CLEARNODE_NODE_P2P_SEEN_H

#include <stdint.h>

#include <sodium.h>

#include "node/p2p/p2p.h"

typedef struct {
    uint64_t slot[CN_P2P_SEEN_SLOTS];
} cn_p2p_seen;

void cn_p2p_seen_put(cn_p2p_seen *s, const uint8_t key[crypto_shorthash_KEYBYTES],
                     const uint8_t id[32]);
int cn_p2p_seen_has(const cn_p2p_seen *s, const uint8_t key[crypto_shorthash_KEYBYTES],
                    const uint8_t id[32]);

#endif
