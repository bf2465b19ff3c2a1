/* Parsed x-only public keys, remembered (internal to crypto/schnorr.c).
 *
 * Parsing a BIP340 key lifts its x coordinate onto the curve (a field square root), about a
 * tenth of a signature verification; a node parses the same few account keys again and again
 * (signer validity, recipient validity, the verification itself, on every validator). Parsing
 * is a pure function of the 32 bytes, so a remembered result is the same result: the cache
 * changes cost, never an answer. Only keys that parse are kept; an invalid key is parsed each
 * time. Direct-mapped, so a key chosen to collide only evicts another (costing a re-parse).
 * Thread-safe (striped locks).
 */
#ifndef CN_CRYPTO_XONLY_CACHE_H
#define CN_CRYPTO_XONLY_CACHE_H

#include <stdint.h>

#include <secp256k1.h>
#include <secp256k1_extrakeys.h>

/* Fills *out with the parsed key; returns 0 (out untouched) when pub is not a valid key. */
int cn_xonly_cached_parse(const secp256k1_context *ctx, secp256k1_xonly_pubkey *out,
                          const uint8_t pub[32]);

#endif
