/* BIP340 through libsecp256k1. See schnorr.h. */
#include "crypto/schnorr.h"

#include <string.h>

#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>
#include <sodium.h>

#include "crypto/xonly_cache.h"

_Static_assert(sizeof(secp256k1_keypair) <= sizeof(((cn_keypair *)0)->data),
               "cn_keypair must hold a secp256k1_keypair");

/* One context for the whole process: it is read-only after randomization, so threads may
 * share it. Verification and signing both work with a SECP256K1_CONTEXT_NONE context in
 * libsecp256k1 >= 0.2. */
static secp256k1_context *ctx;

int cn_crypto_init(void) {
    if (ctx)
        return 1;
    if (sodium_init() < 0)
        return 0;
    secp256k1_context *c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (!c)
        return 0;
    uint8_t seed[32];
    randombytes_buf(seed, sizeof seed);
    int ok = secp256k1_context_randomize(c, seed);
    sodium_memzero(seed, sizeof seed);
    if (!ok) {
        secp256k1_context_destroy(c);
        return 0;
    }
    cn_hash_init_tags();
    ctx = c;
    return 1;
}

int cn_seckey_generate(uint8_t sec[CN_SECKEY_LEN]) {
    /* A uniformly random 32-byte string is a valid key except with negligible probability;
     * loop anyway so the result is always valid. */
    for (int tries = 0; tries < 64; tries++) {
        randombytes_buf(sec, CN_SECKEY_LEN);
        if (secp256k1_ec_seckey_verify(ctx, sec))
            return 1;
    }
    sodium_memzero(sec, CN_SECKEY_LEN);
    return 0;
}

int cn_keypair_from_seckey(cn_keypair *kp, const uint8_t sec[CN_SECKEY_LEN]) {
    secp256k1_keypair k;
    secp256k1_xonly_pubkey xpk;
    memset(kp, 0, sizeof *kp);
    if (!secp256k1_keypair_create(ctx, &k, sec))
        return 0;
    if (!secp256k1_keypair_xonly_pub(ctx, &xpk, NULL, &k) ||
        !secp256k1_xonly_pubkey_serialize(ctx, kp->pub, &xpk)) {
        sodium_memzero(&k, sizeof k);
        return 0;
    }
    memcpy(kp->data, &k, sizeof k);
    sodium_memzero(&k, sizeof k);
    return 1;
}

void cn_keypair_wipe(cn_keypair *kp) {
    sodium_memzero(kp, sizeof *kp);
}

int cn_sign32(const cn_keypair *kp, uint8_t sig[CN_SIG_LEN], const uint8_t msg[32],
              const uint8_t *aux) {
    secp256k1_keypair k;
    uint8_t fresh[32];
    memcpy(&k, kp->data, sizeof k);
    if (!aux) {
        randombytes_buf(fresh, sizeof fresh);
        aux = fresh;
    }
    int ok = secp256k1_schnorrsig_sign32(ctx, sig, msg, &k, aux);
    sodium_memzero(&k, sizeof k);
    return ok;
}

int cn_verify(const uint8_t sig[CN_SIG_LEN], const uint8_t *msg, size_t msglen,
              const uint8_t pub[CN_PUBKEY_LEN]) {
    secp256k1_xonly_pubkey xpk;
    if (!cn_xonly_cached_parse(ctx, &xpk, pub))
        return 0;
    return secp256k1_schnorrsig_verify(ctx, sig, msg, msglen, &xpk);
}

int cn_verify32(const uint8_t sig[CN_SIG_LEN], const uint8_t msg[32],
                const uint8_t pub[CN_PUBKEY_LEN]) {
    return cn_verify(sig, msg, 32, pub);
}

int cn_pubkey_valid(const uint8_t pub[CN_PUBKEY_LEN]) {
    secp256k1_xonly_pubkey xpk;
    return cn_xonly_cached_parse(ctx, &xpk, pub);
}

void cn_sig_digest(uint8_t out[32], cn_tag_id kind, const char *chain_id, const uint8_t *body,
                   size_t body_len) {
    cn_hasher h;
    cn_hasher_start(&h, kind);
    cn_hasher_bytes(&h, chain_id, strlen(chain_id));
    cn_hasher_update(&h, body, body_len);
    cn_hasher_finish(&h, out);
}

int cn_sign_body(const cn_keypair *kp, uint8_t sig[CN_SIG_LEN], cn_tag_id kind,
                 const char *chain_id, const uint8_t *body, size_t body_len) {
    uint8_t digest[32];
    cn_sig_digest(digest, kind, chain_id, body, body_len);
    return cn_sign32(kp, sig, digest, NULL);
}

int cn_verify_body(const uint8_t sig[CN_SIG_LEN], const uint8_t pub[CN_PUBKEY_LEN],
                   cn_tag_id kind, const char *chain_id, const uint8_t *body, size_t body_len) {
    uint8_t digest[32];
    cn_sig_digest(digest, kind, chain_id, body, body_len);
    return cn_verify32(sig, digest, pub);
}
