/* Key files: a secret key at rest.
 *
 * Format (text, one field per line, in this order; docs/protocol.md "Key files"):
 *
 *   clearnode-key-v1
 *   mode: encrypted
 *   pubkey: <64 hex>
 *   kdf: argon2id13 ops=<n> mem=<bytes> salt=<32 hex>
 *   nonce: <48 hex>
 *   secret: <96 hex>            XChaCha20-Poly1305(secret key), 32 bytes + 16-byte tag
 *
 * The key is derived from the passphrase with argon2id (crypto_pwhash). Every line before
 * "secret:" is authenticated as associated data, so changing the public key, the KDF
 * parameters or the nonce is detected like a wrong passphrase.
 *
 * Development mode stores the secret in the clear and says so in the file:
 *
 *   clearnode-key-v1
 *   mode: plaintext-dev (UNENCRYPTED: for local development only)
 *   pubkey: <64 hex>
 *   secret: <64 hex>
 *
 * Files are written with mode 0600 through a temporary file, fsync and rename, so a crash
 * never leaves a half-written key. On load the public key is re-derived from the secret and
 * must match the file's pubkey line.
 */
#ifndef CLEARNODE_CRYPTO_KEYFILE_H
#define CLEARNODE_CRYPTO_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/schnorr.h"

#define CN_KEYFILE_MAX_SIZE 1024

typedef enum {
    CN_KEYFILE_OK = 0,
    CN_KEYFILE_IO,             /* the file could not be read or written (errno kept) */
    CN_KEYFILE_EXISTS,         /* refusing to overwrite an existing file */
    CN_KEYFILE_TOO_LARGE,      /* larger than CN_KEYFILE_MAX_SIZE: not a key file */
    CN_KEYFILE_FORMAT,         /* not a clearnode-key-v1 file, or a malformed line */
    CN_KEYFILE_KDF_PARAMS,     /* KDF parameters outside the accepted range */
    CN_KEYFILE_DECRYPT,        /* wrong passphrase, or the file was modified */
    CN_KEYFILE_KEY_MISMATCH,   /* the secret does not belong to the stated public key */
    CN_KEYFILE_NO_PASSPHRASE,  /* an encrypted file needs a passphrase */
    CN_KEYFILE_NOMEM,          /* the KDF could not get its memory */
    CN_KEYFILE_BAD_KEY,        /* the secret is not a valid secp256k1 secret key */
    CN_KEYFILE_ERR_COUNT
} cn_keyfile_err;

const char *cn_keyfile_strerror(cn_keyfile_err err);

/* Writes `sec` to `path`. With `pass` NULL the file is plaintext (development mode).
 * `overwrite` 0 refuses an existing file (CN_KEYFILE_EXISTS).
 * Errors: CN_KEYFILE_IO, CN_KEYFILE_EXISTS, CN_KEYFILE_NOMEM, CN_KEYFILE_BAD_KEY. */
cn_keyfile_err cn_keyfile_write(const char *path, const uint8_t sec[CN_SECKEY_LEN],
                                const char *pass, size_t pass_len, int overwrite);

/* Reads and, if encrypted, decrypts a key file. `pass` may be NULL for a plaintext file.
 * `encrypted` (may be NULL) is set to 1 for an encrypted file.
 * Errors: every code except CN_KEYFILE_EXISTS. The secret is wiped on failure. */
cn_keyfile_err cn_keyfile_read(const char *path, const char *pass, size_t pass_len,
                               uint8_t sec[CN_SECKEY_LEN], uint8_t pub[CN_PUBKEY_LEN],
                               int *encrypted);

/* Reads only the public key line (no passphrase needed).
 * Errors: CN_KEYFILE_IO, CN_KEYFILE_TOO_LARGE, CN_KEYFILE_FORMAT. */
cn_keyfile_err cn_keyfile_read_pubkey(const char *path, uint8_t pub[CN_PUBKEY_LEN],
                                      int *encrypted);

#endif
