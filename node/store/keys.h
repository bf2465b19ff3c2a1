/* Key builder for LMDB keys: `prefix byte(s) || big-endian integers || bytes`.
 *
 * LMDB orders keys by memcmp (shorter first on a tie), so integers are written big-endian and
 * signed integers with the sign bit flipped (crypto/bytes.h): byte order is then numeric order
 * and a range scan over a prefix visits entries in logical order (DESIGN.md §6).
 *
 * A cn_key is a fixed buffer; appending past CN_STORE_MAX_KEY bytes does not write past it but
 * marks the key overflowed, and an overflowed key reports a length of CN_STORE_MAX_KEY + 1 so
 * any store call given it fails with CN_STORE_KEY_SIZE instead of using a truncated key.
 *
 * Caveat: cn_key_bytes appends raw bytes with no length. Put a variable-length field last, or
 * give it a fixed width, or the same bytes could parse as two different keys.
 */
#ifndef CLEARNODE_NODE_STORE_KEYS_H
#define CLEARNODE_NODE_STORE_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "node/store/store.h"

typedef struct {
    size_t len;   /* bytes used; CN_STORE_MAX_KEY + 1 once overflowed */
    int overflow; /* 1 once an append did not fit */
    uint8_t b[CN_STORE_MAX_KEY + 1];
} cn_key;

/* Starts an empty key. */
void cn_key_init(cn_key *k);
/* Starts a key with a one-byte module prefix. */
void cn_key_start(cn_key *k, uint8_t prefix);

/* Append fields. Each is a no-op once the key has overflowed. */
void cn_key_u8(cn_key *k, uint8_t v);
void cn_key_be16(cn_key *k, uint16_t v);
void cn_key_be32(cn_key *k, uint32_t v);
void cn_key_be64(cn_key *k, uint64_t v);
void cn_key_i64(cn_key *k, int64_t v); /* order-preserving: INT64_MIN sorts first */
void cn_key_bytes(cn_key *k, const void *p, size_t n);

/* Returns 1 if the key is non-empty and has not overflowed, else 0. */
int cn_key_ok(const cn_key *k);

/* One-call key of a height or other counter, as the blocks and commits databases use:
 * writes 8 big-endian bytes to out. */
void cn_key_height(uint8_t out[8], uint64_t height);

#endif
