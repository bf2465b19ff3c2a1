/* Key files: encrypted and development round trips, and a specific error for every way a
 * file can be wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto/encoding.h"
#include "crypto/keyfile.h"

static char dir[64];

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/cn-keyfile-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void path_of(char *out, size_t cap, const char *name) {
    snprintf(out, cap, "%s/%s", dir, name);
}

static char *read_all(const char *path) {
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *buf = calloc(1, 4096);
    size_t n = fread(buf, 1, 4095, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void write_all(const char *path, const char *data) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(data, f);
    fclose(f);
}

/* Replaces the first occurrence of `from` in the file with `to`. */
static void patch(const char *path, const char *from, const char *to) {
    char *s = read_all(path);
    char *at = strstr(s, from);
    assert_non_null(at);
    char out[4096];
    snprintf(out, sizeof out, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
    write_all(path, out);
    free(s);
}

static void test_encrypted_round_trip(void **state) {
    (void)state;
    char p[256];
    path_of(p, sizeof p, "enc.key");
    uint8_t sec[32], sec2[32], pub[32], pub2[32];
    cn_keypair kp;
    assert_true(cn_seckey_generate(sec));
    assert_true(cn_keypair_from_seckey(&kp, sec));
    assert_int_equal(cn_keyfile_write(p, sec, "hunter2", 7, 0), CN_KEYFILE_OK);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    int enc = 0;
    assert_int_equal(cn_keyfile_read(p, "hunter2", 7, sec2, pub, &enc), CN_KEYFILE_OK);
    assert_true(enc);
    assert_memory_equal(sec, sec2, 32);
    assert_memory_equal(pub, kp.pub, 32);
    assert_int_equal(cn_keyfile_read_pubkey(p, pub2, &enc), CN_KEYFILE_OK);
    assert_memory_equal(pub2, kp.pub, 32);
    /* The secret is not in the file in any readable form. */
    char *text = read_all(p);
    char sec_hex[65];
    cn_hex_encode(sec_hex, sec, 32);
    assert_null(strstr(text, sec_hex));
    free(text);
    /* Wrong passphrase, and no passphrase. */
    assert_int_equal(cn_keyfile_read(p, "hunter3", 7, sec2, pub, NULL), CN_KEYFILE_DECRYPT);
    uint8_t zero[32] = {0};
    assert_memory_equal(sec2, zero, 32); /* wiped on failure */
    assert_int_equal(cn_keyfile_read(p, NULL, 0, sec2, pub, NULL), CN_KEYFILE_NO_PASSPHRASE);
    /* No overwrite unless asked. */
    assert_int_equal(cn_keyfile_write(p, sec, "x", 1, 0), CN_KEYFILE_EXISTS);
    assert_int_equal(cn_keyfile_write(p, sec, "x", 1, 1), CN_KEYFILE_OK);
    assert_int_equal(cn_keyfile_read(p, "x", 1, sec2, pub, NULL), CN_KEYFILE_OK);
    cn_keypair_wipe(&kp);
}

static void test_tampering_detected(void **state) {
    (void)state;
    char p[256];
    path_of(p, sizeof p, "tamper.key");
    uint8_t sec[32], other[32], sec2[32], pub[32];
    cn_keypair okp;
    assert_true(cn_seckey_generate(sec));
    assert_true(cn_seckey_generate(other));
    assert_true(cn_keypair_from_seckey(&okp, other));
    char other_hex[65];
    cn_hex_encode(other_hex, okp.pub, 32);

    /* Swapping in another (valid) public key breaks the authenticated header. */
    assert_int_equal(cn_keyfile_write(p, sec, "pw", 2, 1), CN_KEYFILE_OK);
    char *text = read_all(p);
    char line[128];
    snprintf(line, sizeof line, "pubkey: %s", other_hex);
    char *pl = strstr(text, "pubkey: ");
    char orig[73];
    memcpy(orig, pl, 72);
    orig[72] = '\0';
    free(text);
    patch(p, orig, line);
    assert_int_equal(cn_keyfile_read(p, "pw", 2, sec2, pub, NULL), CN_KEYFILE_DECRYPT);

    /* A flipped ciphertext digit. */
    assert_int_equal(cn_keyfile_write(p, sec, "pw", 2, 1), CN_KEYFILE_OK);
    text = read_all(p);
    char *s = strstr(text, "secret: ") + 8;
    char from[9], to[9];
    memcpy(from, s, 8);
    from[8] = '\0';
    memcpy(to, from, 9);
    to[0] = to[0] == '0' ? '1' : '0';
    free(text);
    patch(p, from, to);
    assert_int_equal(cn_keyfile_read(p, "pw", 2, sec2, pub, NULL), CN_KEYFILE_DECRYPT);

    /* KDF parameters a hostile file could use to stall us. */
    assert_int_equal(cn_keyfile_write(p, sec, "pw", 2, 1), CN_KEYFILE_OK);
    patch(p, "ops=2 ", "ops=999 ");
    assert_int_equal(cn_keyfile_read(p, "pw", 2, sec2, pub, NULL), CN_KEYFILE_KDF_PARAMS);
    assert_int_equal(cn_keyfile_write(p, sec, "pw", 2, 1), CN_KEYFILE_OK);
    patch(p, "ops=2 ", "ops=02 ");
    assert_int_equal(cn_keyfile_read(p, "pw", 2, sec2, pub, NULL), CN_KEYFILE_FORMAT);
    cn_keypair_wipe(&okp);
}

static void test_dev_mode(void **state) {
    (void)state;
    char p[256];
    path_of(p, sizeof p, "dev.key");
    uint8_t sec[32], sec2[32], pub[32], other[32];
    assert_true(cn_seckey_generate(sec));
    assert_int_equal(cn_keyfile_write(p, sec, NULL, 0, 0), CN_KEYFILE_OK);
    char *text = read_all(p);
    assert_non_null(strstr(text, "UNENCRYPTED"));
    free(text);
    int enc = 1;
    assert_int_equal(cn_keyfile_read(p, NULL, 0, sec2, pub, &enc), CN_KEYFILE_OK);
    assert_false(enc);
    assert_memory_equal(sec, sec2, 32);
    /* A secret that does not belong to the stated key. */
    assert_true(cn_seckey_generate(other));
    char sec_hex[65], other_hex[65];
    cn_hex_encode(sec_hex, sec, 32);
    cn_hex_encode(other_hex, other, 32);
    patch(p, sec_hex, other_hex);
    assert_int_equal(cn_keyfile_read(p, NULL, 0, sec2, pub, NULL), CN_KEYFILE_KEY_MISMATCH);
}

static void test_malformed_files(void **state) {
    (void)state;
    char p[256];
    path_of(p, sizeof p, "bad.key");
    uint8_t sec[32], pub[32];
    const char *bad[] = {
        "",
        "clearnode-key-v1\n",
        "clearnode-key-v2\nmode: encrypted\n",
        "clearnode-key-v1\nmode: other\npubkey: 00\nsecret: 00\n",
        "clearnode-key-v1\nmode: plaintext-dev (UNENCRYPTED: for local development only)\n"
        "pubkey: zz\nsecret: 00\n",
        "clearnode-key-v1\nmode: plaintext-dev (UNENCRYPTED: for local development only)\n"
        "pubkey: 79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798\n"
        "secret: 0001\n",
        /* missing final newline */
        "clearnode-key-v1\nmode: plaintext-dev (UNENCRYPTED: for local development only)\n"
        "pubkey: 79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798\n"
        "secret: 0000000000000000000000000000000000000000000000000000000000000001",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_all(p, bad[i]);
        assert_int_equal(cn_keyfile_read(p, NULL, 0, sec, pub, NULL), CN_KEYFILE_FORMAT);
    }
    /* The generator's key (secret 1) written correctly is accepted. */
    write_all(p, "clearnode-key-v1\nmode: plaintext-dev (UNENCRYPTED: for local development "
                 "only)\npubkey: 79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
                 "\nsecret: 0000000000000000000000000000000000000000000000000000000000000001\n");
    assert_int_equal(cn_keyfile_read(p, NULL, 0, sec, pub, NULL), CN_KEYFILE_OK);
    /* Too large. */
    char big[2000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    write_all(p, big);
    assert_int_equal(cn_keyfile_read(p, NULL, 0, sec, pub, NULL), CN_KEYFILE_TOO_LARGE);
    /* Missing. */
    path_of(p, sizeof p, "absent.key");
    assert_int_equal(cn_keyfile_read(p, NULL, 0, sec, pub, NULL), CN_KEYFILE_IO);
    for (int e = 0; e < CN_KEYFILE_ERR_COUNT; e++)
        assert_string_not_equal(cn_keyfile_strerror((cn_keyfile_err)e),
                                "unknown key file error");
}

int main(void) {
    assert_true(cn_crypto_init());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encrypted_round_trip),
        cmocka_unit_test(test_tampering_detected),
        cmocka_unit_test(test_dev_mode),
        cmocka_unit_test(test_malformed_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
