/* Key files. See keyfile.h for the format. */
#include "crypto/keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/encoding.h"

#define MAGIC "clearnode-key-v1"
#define MODE_ENC "mode: encrypted"
#define MODE_DEV "mode: plaintext-dev (UNENCRYPTED: for local development only)"
#define SALT_LEN crypto_pwhash_SALTBYTES
#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define CT_LEN (CN_SECKEY_LEN + crypto_aead_xchacha20poly1305_ietf_ABYTES)
/* A hostile file must not make us spend unbounded time or memory in the KDF. */
#define MAX_OPS 16
#define MAX_MEM ((size_t)1 << 30)

static const char *const messages[CN_KEYFILE_ERR_COUNT] = {
    [CN_KEYFILE_OK] = "ok",
    [CN_KEYFILE_IO] = "key file could not be read or written",
    [CN_KEYFILE_EXISTS] = "key file already exists (refusing to overwrite)",
    [CN_KEYFILE_TOO_LARGE] = "file is too large to be a key file",
    [CN_KEYFILE_FORMAT] = "not a clearnode-key-v1 key file, or a malformed line",
    [CN_KEYFILE_KDF_PARAMS] = "key file KDF parameters are outside the accepted range",
    [CN_KEYFILE_DECRYPT] = "wrong passphrase, or the key file was modified",
    [CN_KEYFILE_KEY_MISMATCH] = "secret key does not match the key file's public key",
    [CN_KEYFILE_NO_PASSPHRASE] = "key file is encrypted and no passphrase was given",
    [CN_KEYFILE_NOMEM] = "not enough memory for the key derivation",
    [CN_KEYFILE_BAD_KEY] = "not a valid secp256k1 secret key",
};

const char *cn_keyfile_strerror(cn_keyfile_err err) {
    return (unsigned)err < CN_KEYFILE_ERR_COUNT ? messages[err] : "unknown key file error";
}

/* Writes `len` bytes to `path` atomically with mode 0600. */
static cn_keyfile_err write_atomic(const char *path, const char *data, size_t len,
                                   int overwrite) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof tmp)
        return CN_KEYFILE_IO;
    int fd = mkstemp(tmp); /* mkstemp creates the file 0600 */
    if (fd < 0)
        return CN_KEYFILE_IO;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto fail;
        off += (size_t)w;
    }
    if (fchmod(fd, 0600) != 0 || fsync(fd) != 0)
        goto fail;
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (overwrite) {
        if (rename(tmp, path) != 0)
            goto fail;
    } else {
        /* link() fails if the target exists: an atomic no-clobber rename. */
        if (link(tmp, path) != 0) {
            int e = errno;
            unlink(tmp);
            return e == EEXIST ? CN_KEYFILE_EXISTS : CN_KEYFILE_IO;
        }
        unlink(tmp);
    }
    /* Make the directory entry durable too. */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return CN_KEYFILE_OK;
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return CN_KEYFILE_IO;
}

cn_keyfile_err cn_keyfile_write(const char *path, const uint8_t sec[CN_SECKEY_LEN],
                                const char *pass, size_t pass_len, int overwrite) {
    cn_keypair kp;
    if (!cn_keypair_from_seckey(&kp, sec))
        return CN_KEYFILE_BAD_KEY;
    char pub_hex[2 * CN_PUBKEY_LEN + 1];
    cn_hex_encode(pub_hex, kp.pub, CN_PUBKEY_LEN);
    cn_keypair_wipe(&kp);

    char buf[CN_KEYFILE_MAX_SIZE];
    int n;
    if (!pass) {
        char sec_hex[2 * CN_SECKEY_LEN + 1];
        cn_hex_encode(sec_hex, sec, CN_SECKEY_LEN);
        n = snprintf(buf, sizeof buf, MAGIC "\n" MODE_DEV "\npubkey: %s\nsecret: %s\n",
                     pub_hex, sec_hex);
        sodium_memzero(sec_hex, sizeof sec_hex);
    } else {
        uint8_t salt[SALT_LEN], nonce[NONCE_LEN], key[32], ct[CT_LEN];
        unsigned long long ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
        size_t mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
        randombytes_buf(salt, sizeof salt);
        randombytes_buf(nonce, sizeof nonce);
        if (crypto_pwhash(key, sizeof key, pass, pass_len, salt, ops, mem,
                          crypto_pwhash_ALG_ARGON2ID13) != 0)
            return CN_KEYFILE_NOMEM;
        char salt_hex[2 * SALT_LEN + 1], nonce_hex[2 * NONCE_LEN + 1], ct_hex[2 * CT_LEN + 1];
        cn_hex_encode(salt_hex, salt, sizeof salt);
        cn_hex_encode(nonce_hex, nonce, sizeof nonce);
        /* The header (every line before "secret:") is the associated data. */
        int hlen = snprintf(buf, sizeof buf,
                            MAGIC "\n" MODE_ENC "\npubkey: %s\nkdf: argon2id13 ops=%llu "
                                  "mem=%zu salt=%s\nnonce: %s\n",
                            pub_hex, ops, mem, salt_hex, nonce_hex);
        unsigned long long ct_len = 0;
        crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &ct_len, sec, CN_SECKEY_LEN,
                                                   (const uint8_t *)buf, (unsigned long long)hlen, NULL,
                                                   nonce, key);
        sodium_memzero(key, sizeof key);
        cn_hex_encode(ct_hex, ct, sizeof ct);
        n = hlen + snprintf(buf + hlen, sizeof buf - (size_t)hlen, "secret: %s\n", ct_hex);
    }
    cn_keyfile_err err = write_atomic(path, buf, (size_t)n, overwrite);
    sodium_memzero(buf, sizeof buf);
    return err;
}

/* Reads the whole file (at most CN_KEYFILE_MAX_SIZE bytes) into buf, NUL-terminated. */
static cn_keyfile_err slurp(const char *path, char *buf, size_t cap, size_t *len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return CN_KEYFILE_IO;
    size_t off = 0;
    for (;;) {
        ssize_t r = read(fd, buf + off, cap - 1 - off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            close(fd);
            return CN_KEYFILE_IO;
        }
        if (r == 0)
            break;
        off += (size_t)r;
        if (off == cap - 1) {
            char extra;
            ssize_t more = read(fd, &extra, 1);
            close(fd);
            return more == 0 ? (buf[off] = '\0', *len = off, CN_KEYFILE_OK)
                             : CN_KEYFILE_TOO_LARGE;
        }
    }
    close(fd);
    buf[off] = '\0';
    *len = off;
    return CN_KEYFILE_OK;
}

/* Splits buf into at most `max` lines (each must end with '\n'). Returns the count or -1. */
static int split_lines(char *buf, size_t len, char **lines, int max) {
    int n = 0;
    char *p = buf, *end = buf + len;
    if (memchr(buf, '\0', len))
        return -1;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl || n == max)
            return -1;
        *nl = '\0';
        lines[n++] = p;
        p = nl + 1;
    }
    return n;
}

/* Expects `line` to be "<prefix><hex of exactly len bytes>". */
static int hex_field(const char *line, const char *prefix, uint8_t *out, size_t len) {
    size_t pl = strlen(prefix);
    return strncmp(line, prefix, pl) == 0 && cn_hex_decode_exact(out, len, line + pl);
}

/* Parses "kdf: argon2id13 ops=N mem=N salt=HEX". */
static cn_keyfile_err parse_kdf(const char *line, unsigned long long *ops, size_t *mem,
                                uint8_t salt[SALT_LEN]) {
    char salt_hex[2 * SALT_LEN + 2];
    unsigned long long o, m;
    int consumed = 0;
    if (sscanf(line, "kdf: argon2id13 ops=%20llu mem=%20llu salt=%33s%n", &o, &m, salt_hex,
               &consumed) != 3 ||
        line[consumed] != '\0' || !cn_hex_decode_exact(salt, SALT_LEN, salt_hex))
        return CN_KEYFILE_FORMAT;
    /* Re-print to reject leading zeros, signs or spaces that sscanf would accept. */
    char canon[256];
    snprintf(canon, sizeof canon, "kdf: argon2id13 ops=%llu mem=%llu salt=%s", o, m, salt_hex);
    if (strcmp(canon, line) != 0)
        return CN_KEYFILE_FORMAT;
    if (o < crypto_pwhash_OPSLIMIT_MIN || o > MAX_OPS || m < crypto_pwhash_MEMLIMIT_MIN ||
        m > MAX_MEM)
        return CN_KEYFILE_KDF_PARAMS;
    *ops = o;
    *mem = (size_t)m;
    return CN_KEYFILE_OK;
}

/* Parses buf; fills pub and, when want_secret, sec. */
static cn_keyfile_err parse(char *buf, size_t len, const char *pass, size_t pass_len,
                            int want_secret, uint8_t sec[CN_SECKEY_LEN],
                            uint8_t pub[CN_PUBKEY_LEN], int *encrypted) {
    char *lines[8];
    int n = split_lines(buf, len, lines, 8);
    if (n < 4 || strcmp(lines[0], MAGIC) != 0)
        return CN_KEYFILE_FORMAT;
    int enc = strcmp(lines[1], MODE_ENC) == 0;
    if (!enc && strcmp(lines[1], MODE_DEV) != 0)
        return CN_KEYFILE_FORMAT;
    if ((enc && n != 6) || (!enc && n != 4))
        return CN_KEYFILE_FORMAT;
    if (!hex_field(lines[2], "pubkey: ", pub, CN_PUBKEY_LEN) || !cn_pubkey_valid(pub))
        return CN_KEYFILE_FORMAT;
    if (encrypted)
        *encrypted = enc;
    if (!enc) {
        if (!hex_field(lines[3], "secret: ", sec, CN_SECKEY_LEN))
            return CN_KEYFILE_FORMAT;
    } else {
        unsigned long long ops;
        size_t mem;
        uint8_t salt[SALT_LEN], nonce[NONCE_LEN], ct[CT_LEN], key[32];
        cn_keyfile_err err = parse_kdf(lines[3], &ops, &mem, salt);
        if (err != CN_KEYFILE_OK)
            return err;
        if (!hex_field(lines[4], "nonce: ", nonce, NONCE_LEN) ||
            !hex_field(lines[5], "secret: ", ct, CT_LEN))
            return CN_KEYFILE_FORMAT;
        if (!want_secret)
            return CN_KEYFILE_OK;
        if (!pass)
            return CN_KEYFILE_NO_PASSPHRASE;
        if (crypto_pwhash(key, sizeof key, pass, pass_len, salt, ops, mem,
                          crypto_pwhash_ALG_ARGON2ID13) != 0)
            return CN_KEYFILE_NOMEM;
        /* Associated data: the header lines, each with its newline restored. */
        size_t ad_len = (size_t)(lines[5] - buf);
        char ad[CN_KEYFILE_MAX_SIZE];
        memcpy(ad, buf, ad_len);
        for (size_t i = 0; i < ad_len; i++)
            if (ad[i] == '\0')
                ad[i] = '\n';
        unsigned long long out_len = 0;
        int bad = crypto_aead_xchacha20poly1305_ietf_decrypt(
            sec, &out_len, NULL, ct, sizeof ct, (const uint8_t *)ad, (unsigned long long)ad_len, nonce, key);
        sodium_memzero(key, sizeof key);
        if (bad || out_len != CN_SECKEY_LEN)
            return CN_KEYFILE_DECRYPT;
    }
    if (!want_secret)
        return CN_KEYFILE_OK;
    cn_keypair kp;
    if (!cn_keypair_from_seckey(&kp, sec))
        return CN_KEYFILE_BAD_KEY;
    int same = sodium_memcmp(kp.pub, pub, CN_PUBKEY_LEN) == 0;
    cn_keypair_wipe(&kp);
    return same ? CN_KEYFILE_OK : CN_KEYFILE_KEY_MISMATCH;
}

cn_keyfile_err cn_keyfile_read(const char *path, const char *pass, size_t pass_len,
                               uint8_t sec[CN_SECKEY_LEN], uint8_t pub[CN_PUBKEY_LEN],
                               int *encrypted) {
    char buf[CN_KEYFILE_MAX_SIZE + 1];
    size_t len;
    cn_keyfile_err err = slurp(path, buf, sizeof buf, &len);
    if (err == CN_KEYFILE_OK)
        err = parse(buf, len, pass, pass_len, 1, sec, pub, encrypted);
    sodium_memzero(buf, sizeof buf);
    if (err != CN_KEYFILE_OK)
        sodium_memzero(sec, CN_SECKEY_LEN);
    return err;
}

cn_keyfile_err cn_keyfile_read_pubkey(const char *path, uint8_t pub[CN_PUBKEY_LEN],
                                      int *encrypted) {
    char buf[CN_KEYFILE_MAX_SIZE + 1];
    uint8_t sec[CN_SECKEY_LEN];
    size_t len;
    cn_keyfile_err err = slurp(path, buf, sizeof buf, &len);
    if (err == CN_KEYFILE_OK)
        err = parse(buf, len, NULL, 0, 0, sec, pub, encrypted);
    sodium_memzero(buf, sizeof buf);
    sodium_memzero(sec, sizeof sec);
    return err;
}
