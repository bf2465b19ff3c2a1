/* BIP340: every row of the official vectors (read from the CSV at run time), signing byte for
 * byte where a secret key is given, plus the clearnode domain-separated wrappers. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/encoding.h"
#include "crypto/schnorr.h"

/* Splits one CSV line into at most `max` fields in place; returns the count. */
static int split_csv(char *line, char **fields, int max) {
    int n = 0;
    char *p = line;
    while (n < max) {
        fields[n++] = p;
        char *comma = strchr(p, ',');
        if (!comma)
            break;
        *comma = '\0';
        p = comma + 1;
    }
    char *nl = strpbrk(fields[n - 1], "\r\n");
    if (nl)
        *nl = '\0';
    return n;
}

static void test_bip340_vectors(void **state) {
    (void)state;
    const char *shared = getenv("CLEARNODE_SHARED");
    char path[1024];
    snprintf(path, sizeof path, "%s/vectors/bip340-test-vectors.csv", shared ? shared : "../shared");
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s (set CLEARNODE_SHARED)", path);
    char line[2048];
    int rows = 0, signed_rows = 0;
    assert_non_null(fgets(line, sizeof line, f)); /* header */
    while (fgets(line, sizeof line, f)) {
        char *fl[8];
        if (split_csv(line, fl, 8) < 7)
            continue;
        uint8_t pub[32], aux[32], sig[64], msg[256];
        size_t msglen = 0;
        assert_true(cn_hex_decode_exact(pub, 32, fl[2]));
        assert_true(cn_hex_decode(msg, sizeof msg, &msglen, fl[4], strlen(fl[4])));
        assert_true(cn_hex_decode_exact(sig, 64, fl[5]));
        int expect = strcmp(fl[6], "TRUE") == 0;
        if (fl[1][0] != '\0') {
            uint8_t sec[32], mine[64];
            cn_keypair kp;
            assert_true(cn_hex_decode_exact(sec, 32, fl[1]));
            assert_true(cn_hex_decode_exact(aux, 32, fl[3]));
            assert_true(cn_keypair_from_seckey(&kp, sec));
            assert_memory_equal(kp.pub, pub, 32);
            assert_int_equal(msglen, 32);
            assert_true(cn_sign32(&kp, mine, msg, aux));
            assert_memory_equal(mine, sig, 64);
            cn_keypair_wipe(&kp);
            signed_rows++;
        }
        int got = cn_verify(sig, msg, msglen, pub);
        if (got != expect)
            fail_msg("vector %s: verify gave %d, expected %d (%s)", fl[0], got, expect, fl[7]);
        rows++;
    }
    fclose(f);
    print_message("bip340: %d rows verified, %d signed byte for byte\n", rows, signed_rows);
    assert_true(rows >= 15);
    assert_true(signed_rows >= 4);
}

static void test_sign_body_domain_separation(void **state) {
    (void)state;
    uint8_t sec[32], sig[64];
    cn_keypair kp;
    assert_true(cn_seckey_generate(sec));
    assert_true(cn_keypair_from_seckey(&kp, sec));
    const uint8_t body[] = "transfer 10";
    assert_true(cn_sign_body(&kp, sig, CN_TAG_SIG_TX, "chain-a", body, sizeof body));
    assert_true(cn_verify_body(sig, kp.pub, CN_TAG_SIG_TX, "chain-a", body, sizeof body));
    /* Another chain, another kind, another body or another key must all fail. */
    assert_false(cn_verify_body(sig, kp.pub, CN_TAG_SIG_TX, "chain-b", body, sizeof body));
    assert_false(cn_verify_body(sig, kp.pub, CN_TAG_SIG_VOTE, "chain-a", body, sizeof body));
    assert_false(cn_verify_body(sig, kp.pub, CN_TAG_SIG_TX, "chain-a", body, sizeof body - 1));
    uint8_t other_sec[32];
    cn_keypair other;
    assert_true(cn_seckey_generate(other_sec));
    assert_true(cn_keypair_from_seckey(&other, other_sec));
    assert_false(cn_verify_body(sig, other.pub, CN_TAG_SIG_TX, "chain-a", body, sizeof body));
    /* A one-bit change in the signature fails. */
    sig[10] ^= 1;
    assert_false(cn_verify_body(sig, kp.pub, CN_TAG_SIG_TX, "chain-a", body, sizeof body));
    cn_keypair_wipe(&kp);
    cn_keypair_wipe(&other);
}

static void test_invalid_keys(void **state) {
    (void)state;
    uint8_t zero[32] = {0};
    cn_keypair kp;
    assert_false(cn_keypair_from_seckey(&kp, zero));
    uint8_t order[32]; /* the curve order n is not a valid secret key */
    assert_true(cn_hex_decode_exact(
        order, 32, "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"));
    assert_false(cn_keypair_from_seckey(&kp, order));
    /* x = p (field size) is not a valid x-only key. */
    uint8_t p[32];
    assert_true(cn_hex_decode_exact(
        p, 32, "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f"));
    assert_false(cn_pubkey_valid(p));
    uint8_t sig[64] = {0}, msg[32] = {0};
    assert_false(cn_verify32(sig, msg, p));
}

/* Parsed keys are cached (crypto/xonly_cache.c). 1000 keys over 8192 direct-mapped slots
 * collide (about 60 pairs expected), so evictions happen; every answer must still be the
 * answer of a fresh parse: each signature verifies under its own key, never under another,
 * and in any order, from several threads at once. */
#define CACHE_KEYS 1000
static cn_keypair ckeys[CACHE_KEYS];
static uint8_t csigs[CACHE_KEYS][64], cmsg[32];

static void *verify_all(void *arg) {
    long bad = 0;
    size_t start = (size_t)(uintptr_t)arg;
    for (size_t k = 0; k < CACHE_KEYS; k++) {
        size_t i = (start + k * 7) % CACHE_KEYS;
        if (!cn_verify32(csigs[i], cmsg, ckeys[i].pub))
            bad++;
        if (cn_verify32(csigs[i], cmsg, ckeys[(i + 1) % CACHE_KEYS].pub))
            bad++;
    }
    return (void *)(intptr_t)bad;
}

static void test_parsed_key_cache(void **state) {
    (void)state;
    memset(cmsg, 0x5a, sizeof cmsg);
    for (size_t i = 0; i < CACHE_KEYS; i++) {
        uint8_t sec[32];
        assert_true(cn_seckey_generate(sec));
        assert_true(cn_keypair_from_seckey(&ckeys[i], sec));
        assert_true(cn_sign32(&ckeys[i], csigs[i], cmsg, NULL));
    }
    uint8_t bad_x[32]; /* x = p: never a key, cached or not, before and after valid ones */
    assert_true(cn_hex_decode_exact(
        bad_x, 32, "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f"));
    assert_false(cn_pubkey_valid(bad_x));
    assert_int_equal((intptr_t)verify_all((void *)(uintptr_t)0), 0);
    assert_int_equal((intptr_t)verify_all((void *)(uintptr_t)500), 0);
    for (size_t i = 0; i < CACHE_KEYS; i++)
        assert_true(cn_pubkey_valid(ckeys[i].pub));
    assert_false(cn_pubkey_valid(bad_x));
    pthread_t th[4];
    for (size_t t = 0; t < 4; t++)
        assert_int_equal(pthread_create(&th[t], NULL, verify_all, (void *)(uintptr_t)(t * 250)), 0);
    for (size_t t = 0; t < 4; t++) {
        void *r;
        assert_int_equal(pthread_join(th[t], &r), 0);
        assert_int_equal((intptr_t)r, 0);
    }
    for (size_t i = 0; i < CACHE_KEYS; i++)
        cn_keypair_wipe(&ckeys[i]);
}

int main(void) {
    assert_true(cn_crypto_init());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bip340_vectors),
        cmocka_unit_test(test_sign_body_domain_separation),
        cmocka_unit_test(test_invalid_keys),
        cmocka_unit_test(test_parsed_key_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
