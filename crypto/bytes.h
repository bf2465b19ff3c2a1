/* Fixed-width big-endian integer encoding.
 *
 * Hashed preimages and LMDB keys store integers big-endian so that byte order equals numeric
 * order (DESIGN.md §4, §6). These helpers are the only place that encoding is written.
 */
#ifndef CLEARNODE_CRYPTO_BYTES_H
#define CLEARNODE_CRYPTO_BYTES_H

#include <stddef.h>
#include <stdint.h>

static inline void cn_put_be16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void cn_put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void cn_put_be64(uint8_t *p, uint64_t v) {
    cn_put_be32(p, (uint32_t)(v >> 32));
    cn_put_be32(p + 4, (uint32_t)v);
}

static inline uint16_t cn_get_be16(const uint8_t *p) {
    return (uint16_t)((unsigned)p[0] << 8 | (unsigned)p[1]);
}

static inline uint32_t cn_get_be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline uint64_t cn_get_be64(const uint8_t *p) {
    return (uint64_t)cn_get_be32(p) << 32 | (uint64_t)cn_get_be32(p + 4);
}

/* Signed values are stored with the sign bit flipped so that byte order equals numeric order
 * (INT64_MIN encodes as all zeros). */
static inline void cn_put_be64_signed(uint8_t *p, int64_t v) {
    cn_put_be64(p, (uint64_t)v ^ UINT64_C(0x8000000000000000));
}

static inline int64_t cn_get_be64_signed(const uint8_t *p) {
    uint64_t u = cn_get_be64(p) ^ UINT64_C(0x8000000000000000);
    int64_t v;
    /* Two's-complement reinterpretation without implementation-defined conversion. */
    __builtin_memcpy(&v, &u, sizeof v);
    return v;
}

#endif
