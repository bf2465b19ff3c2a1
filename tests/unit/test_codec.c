/* Wire format: round trips of every decodable kind, caps at limit-1/limit/limit+1, malformed
 * and expanding inputs, and the golden vector of a signed transaction (tests/vectors/).
 * Messages are initialised with the generated *__init() functions: the *__INIT macros cast
 * away const, which clang reports even from a system header. */
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
#include "proto/codec.h"

static uint8_t key32[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                            17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

static void test_tx_round_trip(void **state) {
    (void)state;
    Clearnode__V1__Transfer tr;
    clearnode__v1__transfer__init(&tr);
    tr.to.data = key32;
    tr.to.len = 32;
    tr.asset = (char *)(uintptr_t) "AAPL";
    tr.amount = 1234567;
    Clearnode__V1__Tx tx;
    clearnode__v1__tx__init(&tx);
    tx.chain_id = (char *)(uintptr_t) "clearnode-test";
    tx.nonce = 7;
    tx.kind_case = CLEARNODE__V1__TX__KIND_TRANSFER;
    tx.transfer = &tr;
    uint8_t *buf;
    size_t len;
    assert_true(cn_encode(&tx.base, CN_CAP_TX, &buf, &len));
    cn_pb pb;
    assert_int_equal(cn_decode(CN_MSG_TX, buf, len, &pb), CN_DECODE_OK);
    Clearnode__V1__Tx *got = (Clearnode__V1__Tx *)pb.msg;
    assert_string_equal(got->chain_id, "clearnode-test");
    assert_int_equal(got->nonce, 7);
    assert_int_equal(got->kind_case, CLEARNODE__V1__TX__KIND_TRANSFER);
    assert_int_equal(got->transfer->amount, 1234567);
    assert_string_equal(got->transfer->asset, "AAPL");
    assert_memory_equal(got->transfer->to.data, key32, 32);
    /* Re-encoding the decoded message gives the same bytes (proto3, fields in order). */
    uint8_t *again;
    size_t again_len;
    assert_true(cn_encode(pb.msg, 0, &again, &again_len));
    assert_int_equal(again_len, len);
    assert_memory_equal(again, buf, len);
    free(again);
    cn_pb_free(&pb);
    cn_pb_free(&pb); /* double free is safe */
    free(buf);
}

/* Every kind decodes its own minimal encoding and rejects obvious garbage. */
static void test_every_kind(void **state) {
    (void)state;
    Clearnode__V1__Header h;
    clearnode__v1__header__init(&h);
    h.chain_id = (char *)(uintptr_t) "c";
    h.height = 1;
    uint8_t *buf;
    size_t len;
    assert_true(cn_encode(&h.base, CN_CAP_HEADER, &buf, &len));
    for (int k = 0; k < CN_MSG_COUNT; k++) {
        assert_true(cn_msg_cap((cn_msg_kind)k) > 0);
        assert_string_not_equal(cn_msg_name((cn_msg_kind)k), "?");
        cn_pb pb;
        uint8_t junk[3] = {0xff, 0xff, 0xff}; /* field 0x1fff... with a truncated varint */
        assert_int_equal(cn_decode((cn_msg_kind)k, junk, sizeof junk, &pb), CN_DECODE_MALFORMED);
        assert_null(pb.msg);
        assert_int_equal(cn_decode((cn_msg_kind)k, buf, 0, &pb), CN_DECODE_EMPTY);
    }
    cn_pb pb;
    assert_int_equal(cn_decode(CN_MSG_HEADER, buf, len, &pb), CN_DECODE_OK);
    assert_int_equal(((Clearnode__V1__Header *)pb.msg)->height, 1);
    cn_pb_free(&pb);
    assert_int_equal(cn_decode(CN_MSG_COUNT, buf, len, &pb), CN_DECODE_BAD_KIND);
    free(buf);
}

/* A Signed whose body is sized so the encoding is exactly n bytes. */
static uint8_t *signed_of_size(size_t n, size_t *out_len) {
    /* field 1 (bytes): tag 0x0a, varint length, data. 128 KiB needs a 3-byte varint. */
    size_t body = n - 1 - 3;
    uint8_t *b = calloc(1, n);
    b[0] = 0x0a;
    b[1] = (uint8_t)(0x80 | (body & 0x7f));
    b[2] = (uint8_t)(0x80 | ((body >> 7) & 0x7f));
    b[3] = (uint8_t)(body >> 14);
    *out_len = n;
    return b;
}

static void test_caps_at_boundary(void **state) {
    (void)state;
    size_t cap = cn_msg_cap(CN_MSG_SIGNED), len;
    cn_pb pb;
    uint8_t *b = signed_of_size(cap - 1, &len);
    assert_int_equal(cn_decode(CN_MSG_SIGNED, b, len, &pb), CN_DECODE_OK);
    assert_int_equal(((Clearnode__V1__Signed *)pb.msg)->body.len, cap - 5);
    cn_pb_free(&pb);
    free(b);
    b = signed_of_size(cap, &len);
    assert_int_equal(cn_decode(CN_MSG_SIGNED, b, len, &pb), CN_DECODE_OK);
    cn_pb_free(&pb);
    free(b);
    b = signed_of_size(cap + 1, &len);
    assert_int_equal(cn_decode(CN_MSG_SIGNED, b, len, &pb), CN_DECODE_TOO_LARGE);
    assert_null(pb.msg);
    free(b);
}

/* Many empty sub-messages expand ~60x in memory: the budget refuses them. */
static void test_expansion_refused(void **state) {
    (void)state;
    size_t n = cn_msg_cap(CN_MSG_COMMIT) / 2;
    uint8_t *b = malloc(n * 2);
    for (size_t i = 0; i < n; i++) {
        b[2 * i] = 0x22; /* field 4 (precommits), length-delimited */
        b[2 * i + 1] = 0x00;
    }
    cn_pb pb;
    assert_int_equal(cn_decode(CN_MSG_COMMIT, b, n * 2, &pb), CN_DECODE_TOO_COMPLEX);
    /* A few hundred of them are fine. */
    assert_int_equal(cn_decode(CN_MSG_COMMIT, b, 600, &pb), CN_DECODE_OK);
    assert_int_equal(((Clearnode__V1__Commit *)pb.msg)->n_precommits, 300);
    cn_pb_free(&pb);
    free(b);
}

static void test_error_texts(void **state) {
    (void)state;
    for (int e = 0; e < CN_DECODE_ERR_COUNT; e++) {
        assert_string_not_equal(cn_decode_code((cn_decode_err)e), "unknown");
        assert_string_not_equal(cn_decode_strerror((cn_decode_err)e), "unknown decode error");
    }
}

/* Reads "name hex" lines of the golden file into a lookup. */
static char *golden_value(const char *name) {
    FILE *f = fopen("tests/vectors/wire.txt", "r");
    if (!f)
        fail_msg("cannot open tests/vectors/wire.txt");
    static char line[8192];
    char *found = NULL;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#')
            continue;
        size_t nl = strlen(name);
        if (strncmp(line, name, nl) == 0 && line[nl] == ' ') {
            found = line + nl + 1;
            found[strcspn(found, "\r\n")] = '\0';
            break;
        }
    }
    fclose(f);
    if (!found)
        fail_msg("golden value %s missing", name);
    return found;
}

static void check_golden(const char *name, const uint8_t *data, size_t len) {
    char *hex = malloc(2 * len + 1);
    cn_hex_encode(hex, data, len);
    const char *want = golden_value(name);
    if (strcmp(hex, want) != 0)
        fail_msg("%s: got %s want %s", name, hex, want);
    free(hex);
}

/* The worked example of docs/protocol.md: secret key 0x01..0x20 signs a transfer of 1234567
 * units of AAPL, nonce 7, on chain "clearnode-test", with aux randomness zero. */
static void test_golden_signed_tx(void **state) {
    (void)state;
    Clearnode__V1__Transfer tr;
    clearnode__v1__transfer__init(&tr);
    uint8_t to[32];
    memset(to, 0xab, 32);
    tr.to.data = to;
    tr.to.len = 32;
    tr.asset = (char *)(uintptr_t) "AAPL";
    tr.amount = 1234567;
    Clearnode__V1__Tx tx;
    clearnode__v1__tx__init(&tx);
    tx.chain_id = (char *)(uintptr_t) "clearnode-test";
    tx.nonce = 7;
    tx.kind_case = CLEARNODE__V1__TX__KIND_TRANSFER;
    tx.transfer = &tr;
    uint8_t *body;
    size_t body_len;
    assert_true(cn_encode(&tx.base, CN_CAP_TX, &body, &body_len));
    check_golden("tx_body", body, body_len);

    cn_keypair kp;
    assert_true(cn_keypair_from_seckey(&kp, key32));
    check_golden("signer", kp.pub, 32);
    uint8_t digest[32], sig[64], zero_aux[32] = {0};
    cn_sig_digest(digest, CN_TAG_SIG_TX, "clearnode-test", body, body_len);
    check_golden("sig_digest", digest, 32);
    assert_true(cn_sign32(&kp, sig, digest, zero_aux));
    check_golden("sig", sig, 64);
    assert_true(cn_verify_body(sig, kp.pub, CN_TAG_SIG_TX, "clearnode-test", body, body_len));

    Clearnode__V1__Signed s;
    clearnode__v1__signed__init(&s);
    s.body.data = body;
    s.body.len = body_len;
    s.signer.data = kp.pub;
    s.signer.len = 32;
    s.sig.data = sig;
    s.sig.len = 64;
    uint8_t *env;
    size_t env_len;
    assert_true(cn_encode(&s.base, CN_CAP_TX, &env, &env_len));
    check_golden("signed_tx", env, env_len);
    uint8_t txid[32];
    cn_hash_tagged(txid, CN_TAG_TX, env, env_len);
    check_golden("tx_hash", txid, 32);
    free(env);
    free(body);
    cn_keypair_wipe(&kp);
}

int main(void) {
    assert_true(cn_crypto_init());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tx_round_trip),    cmocka_unit_test(test_every_kind),
        cmocka_unit_test(test_caps_at_boundary), cmocka_unit_test(test_expansion_refused),
        cmocka_unit_test(test_error_texts),      cmocka_unit_test(test_golden_signed_tx),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
