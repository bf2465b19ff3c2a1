/* Hex and base64 with strict parsing.
 *
 * Parsers accept exactly one spelling: hex is an even number of [0-9a-fA-F] digits and nothing
 * else (no prefix, no spaces); base64 is the standard alphabet with padding and no whitespace.
 * Every parser takes the exact or maximum output size and fails rather than truncate.
 */
#ifndef CLEARNODE_CRYPTO_ENCODING_H
#define CLEARNODE_CRYPTO_ENCODING_H

#include <stddef.h>
#include <stdint.h>

/* Writes 2*len lowercase hex digits and a NUL to `out` (room for 2*len+1 bytes). */
void cn_hex_encode(char *out, const uint8_t *in, size_t len);

/* Parses exactly `len` bytes from `hex`, which must be exactly 2*len digits long.
 * Returns 1 on success, 0 on any other length or a non-hex character. */
int cn_hex_decode_exact(uint8_t *out, size_t len, const char *hex);

/* Parses a hex string of any even length up to `cap` bytes; `*out_len` gets the length.
 * Returns 1 on success, 0 on odd length, bad digit or more than `cap` bytes. */
int cn_hex_decode(uint8_t *out, size_t cap, size_t *out_len, const char *hex, size_t hex_len);

/* Base64 (standard alphabet, padded). cn_b64_encoded_len includes the NUL. */
size_t cn_b64_encoded_len(size_t bin_len);
void cn_b64_encode(char *out, size_t out_cap, const uint8_t *in, size_t len);
/* Returns 1 on success; 0 on a bad character, bad padding, or output over `cap`. */
int cn_b64_decode(uint8_t *out, size_t cap, size_t *out_len, const char *b64, size_t b64_len);

#endif
