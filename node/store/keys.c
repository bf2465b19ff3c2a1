/* Key builder (see keys.h): appends fixed-width big-endian fields to a bounded buffer and
 * turns any overflow into a length the store rejects. */
#include "node/store/keys.h"

#include <string.h>

#include "crypto/bytes.h"

void cn_key_init(cn_key *k) {
    k->len = 0;
    k->overflow = 0;
}

void cn_key_start(cn_key *k, uint8_t prefix) {
    cn_key_init(k);
    cn_key_u8(k, prefix);
}

/* Reserves n bytes; returns where to write them, or NULL after marking overflow. */
static uint8_t *reserve(cn_key *k, size_t n) {
    if (k->overflow)
        return NULL;
    if (n > CN_STORE_MAX_KEY - k->len) {
        k->overflow = 1;
        k->len = CN_STORE_MAX_KEY + 1;
        return NULL;
    }
    uint8_t *p = k->b + k->len;
    k->len += n;
    return p;
}

void cn_key_u8(cn_key *k, uint8_t v) {
    uint8_t *p = reserve(k, 1);
    if (p)
        *p = v;
}

void cn_key_be16(cn_key *k, uint16_t v) {
    uint8_t *p = reserve(k, 2);
    if (p)
        cn_put_be16(p, v);
}

void cn_key_be32(cn_key *k, uint32_t v) {
    uint8_t *p = reserve(k, 4);
    if (p)
        cn_put_be32(p, v);
}

void cn_key_be64(cn_key *k, uint64_t v) {
    uint8_t *p = reserve(k, 8);
    if (p)
        cn_put_be64(p, v);
}

void cn_key_i64(cn_key *k, int64_t v) {
    uint8_t *p = reserve(k, 8);
    if (p)
        cn_put_be64_signed(p, v);
}

void cn_key_bytes(cn_key *k, const void *src, size_t n) {
    if (n == 0)
        return;
    uint8_t *p = reserve(k, n);
    if (p)
        memcpy(p, src, n);
}

int cn_key_ok(const cn_key *k) { return !k->overflow && k->len > 0; }

void cn_key_height(uint8_t out[8], uint64_t height) { cn_put_be64(out, height); }
