/* BIP340 Schnorr signatures over secp256k1, through libsecp256k1.
 *
 * Identity everywhere in clearnode is a 32-byte x-only public key. What is signed is never the
 * raw body but a domain-separated digest (DESIGN.md §4):
 *     msg = H_tag("clearnode/sig/<kind>", u32 len(chain_id) || chain_id || body)
 * so a signature made for one chain or one kind of object is useless for any other.
 *
 * Returns: functions returning int give 1 on success and 0 on failure (secp256k1 convention).
 */
#ifndef CLEARNODE_CRYPTO_SCHNORR_H
#define CLEARNODE_CRYPTO_SCHNORR_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/hash.h"

#define CN_SECKEY_LEN 32
#define CN_PUBKEY_LEN 32
#define CN_SIG_LEN 64

#if defined(__GNUC__)
#define CN_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define CN_WARN_UNUSED
#endif

/* Initializes libsodium, the secp256k1 context (randomized against side channels) and the
 * hash tag midstates. Call once at program start, before any other crypto function.
 * Returns 1 on success, 0 if libsodium or libsecp256k1 could not be initialized. */
int cn_crypto_init(void) CN_WARN_UNUSED;

/* A secret key with its public key, ready for repeated signing. Wipe with cn_keypair_wipe. */
typedef struct {
    uint8_t data[96]; /* secp256k1_keypair, opaque */
    uint8_t pub[CN_PUBKEY_LEN];
} cn_keypair;

/* Fills `sec` with a fresh valid secret key from the system CSPRNG. */
int cn_seckey_generate(uint8_t sec[CN_SECKEY_LEN]) CN_WARN_UNUSED;

/* Builds a keypair from a secret key. Returns 0 if the key is zero or >= the curve order. */
int cn_keypair_from_seckey(cn_keypair *kp, const uint8_t sec[CN_SECKEY_LEN]) CN_WARN_UNUSED;
void cn_keypair_wipe(cn_keypair *kp);

/* Signs a 32-byte message. `aux` is BIP340 auxiliary randomness; NULL draws 32 fresh bytes. */
int cn_sign32(const cn_keypair *kp, uint8_t sig[CN_SIG_LEN], const uint8_t msg[32],
              const uint8_t *aux) CN_WARN_UNUSED;

/* Verifies a BIP340 signature over a 32-byte message against an x-only public key.
 * Returns 0 for an invalid key encoding as well as for a bad signature. */
int cn_verify32(const uint8_t sig[CN_SIG_LEN], const uint8_t msg[32],
                const uint8_t pub[CN_PUBKEY_LEN]) CN_WARN_UNUSED;

/* Verifies against an arbitrary-length message (BIP340 allows any length). */
int cn_verify(const uint8_t sig[CN_SIG_LEN], const uint8_t *msg, size_t msglen,
              const uint8_t pub[CN_PUBKEY_LEN]) CN_WARN_UNUSED;

/* Returns 1 if `pub` is a valid x-only public key (a point on the curve). */
int cn_pubkey_valid(const uint8_t pub[CN_PUBKEY_LEN]);

/* The digest a signer signs: H_tag(kind, u32 len(chain_id) || chain_id || body).
 * `kind` is one of CN_TAG_SIG_*. */
void cn_sig_digest(uint8_t out[32], cn_tag_id kind, const char *chain_id, const uint8_t *body,
                   size_t body_len);

/* Signs / verifies `body` for `kind` on `chain_id` (cn_sig_digest + cn_sign32 / cn_verify32). */
int cn_sign_body(const cn_keypair *kp, uint8_t sig[CN_SIG_LEN], cn_tag_id kind,
                 const char *chain_id, const uint8_t *body, size_t body_len) CN_WARN_UNUSED;
int cn_verify_body(const uint8_t sig[CN_SIG_LEN], const uint8_t pub[CN_PUBKEY_LEN],
                   cn_tag_id kind, const char *chain_id, const uint8_t *body,
                   size_t body_len) CN_WARN_UNUSED;

#endif
