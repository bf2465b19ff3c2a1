/* Strict hex and base64. See encoding.h. */
#include "crypto/encoding.h"

#include <string.h>

#include <sodium.h>

static int hex_digit(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void cn_hex_encode(char *out, const uint8_t *in, size_t len) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

int cn_hex_decode(uint8_t *out, size_t cap, size_t *out_len, const char *hex, size_t hex_len) {
    if (hex_len % 2 != 0 || hex_len / 2 > cap)
        return 0;
    for (size_t i = 0; i < hex_len / 2; i++) {
        int hi = hex_digit(hex[2 * i]);
        int lo = hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return 0;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *out_len = hex_len / 2;
    return 1;
}

int cn_hex_decode_exact(uint8_t *out, size_t len, const char *hex) {
    size_t n = 0;
    size_t hl = strnlen(hex, 2 * len + 1);
    if (hl != 2 * len)
        return 0;
    return cn_hex_decode(out, len, &n, hex, hl) && n == len;
}

size_t cn_b64_encoded_len(size_t bin_len) {
    return sodium_base64_encoded_len(bin_len, sodium_base64_VARIANT_ORIGINAL);
}

void cn_b64_encode(char *out, size_t out_cap, const uint8_t *in, size_t len) {
    sodium_bin2base64(out, out_cap, in, len, sodium_base64_VARIANT_ORIGINAL);
}

int cn_b64_decode(uint8_t *out, size_t cap, size_t *out_len, const char *b64, size_t b64_len) {
    const char *end = NULL;
    size_t n = 0;
    if (b64_len % 4 != 0)
        return 0;
    if (sodium_base642bin(out, cap, b64, b64_len, NULL, &n, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return 0;
    if (end != b64 + b64_len) /* trailing garbage */
        return 0;
    *out_len = n;
    return 1;
}
