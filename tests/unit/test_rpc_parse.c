/* HTTP API building blocks without a server: strict path parameter parsers, the route
 * table, Content-Type classification, the error table and the token bucket (driven by a
 * fake clock). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "node/rpc/errors.h"
#include "node/rpc/params.h"
#include "node/rpc/ratelimit.h"
#include "node/rpc/routes.h"

static const char hex64[] = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";

static void test_hex32(void **state) {
    (void)state;
    uint8_t out[32];
    assert_true(cn_rpc_parse_hex32(hex64, out));
    assert_int_equal(out[0], 0x00);
    assert_int_equal(out[31], 0xff);
    const char *bad[] = {"", "00", hex64 + 1, "0x112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
                         "g0112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
                         " 0112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
                         "%0112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(cn_rpc_parse_hex32(bad[i], out));
    char longer[70];
    snprintf(longer, sizeof longer, "%s0", hex64);
    assert_false(cn_rpc_parse_hex32(longer, out));
    assert_false(cn_rpc_parse_hex32(NULL, out));
}

static void test_height(void **state) {
    (void)state;
    uint64_t h = 0;
    assert_true(cn_rpc_parse_height("1", &h));
    assert_int_equal(h, 1);
    assert_true(cn_rpc_parse_height("1234567890", &h));
    assert_int_equal(h, 1234567890);
    assert_true(cn_rpc_parse_height("18446744073709551615", &h));
    assert_true(h == UINT64_MAX);
    const char *bad[] = {"",   "0",  "00", "01", "-1", "+1", " 1", "1 ", "1a", "0x10", "1.0",
                         "1e3", "18446744073709551616", "99999999999999999999",
                         "100000000000000000000", "999999999999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(cn_rpc_parse_height(bad[i], &h));
    assert_false(cn_rpc_parse_height(NULL, &h));
}

static void test_block_query(void **state) {
    (void)state;
    cn_rpc_format f;
    assert_true(cn_rpc_parse_block_query(NULL, &f));
    assert_int_equal(f, CN_RPC_FMT_JSON);
    assert_true(cn_rpc_parse_block_query("", &f));
    assert_true(cn_rpc_parse_block_query("format=json", &f));
    assert_int_equal(f, CN_RPC_FMT_JSON);
    assert_true(cn_rpc_parse_block_query("format=proto", &f));
    assert_int_equal(f, CN_RPC_FMT_PROTO);
    const char *bad[] = {"format=", "format=xml", "format=proto&x=1", "Format=proto", "x=1",
                         "format=proto ", "format=%70roto"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(cn_rpc_parse_block_query(bad[i], &f));
}

static void test_content_type(void **state) {
    (void)state;
    assert_int_equal(cn_rpc_parse_content_type("application/x-protobuf"), CN_RPC_BODY_PROTOBUF);
    assert_int_equal(cn_rpc_parse_content_type("Application/X-Protobuf"), CN_RPC_BODY_PROTOBUF);
    assert_int_equal(cn_rpc_parse_content_type("application/json"), CN_RPC_BODY_JSON);
    assert_int_equal(cn_rpc_parse_content_type("application/json; charset=utf-8"),
                     CN_RPC_BODY_JSON);
    assert_int_equal(cn_rpc_parse_content_type(NULL), CN_RPC_BODY_UNSUPPORTED);
    assert_int_equal(cn_rpc_parse_content_type(""), CN_RPC_BODY_UNSUPPORTED);
    assert_int_equal(cn_rpc_parse_content_type("text/plain"), CN_RPC_BODY_UNSUPPORTED);
    assert_int_equal(cn_rpc_parse_content_type("application/jsonx"), CN_RPC_BODY_UNSUPPORTED);
    assert_int_equal(cn_rpc_parse_content_type("application/x-protobufs"),
                     CN_RPC_BODY_UNSUPPORTED);
}

static void test_routes(void **state) {
    (void)state;
    const char *p;
    assert_int_equal(cn_rpc_route_match("/v1/tx", &p), CN_RPC_ROUTE_TX_SUBMIT);
    assert_null(p);
    assert_int_equal(cn_rpc_route_match("/v1/tx/abc", &p), CN_RPC_ROUTE_TX_GET);
    assert_string_equal(p, "abc");
    assert_int_equal(cn_rpc_route_match("/v1/tx/", &p), CN_RPC_ROUTE_TX_GET);
    assert_string_equal(p, "");
    assert_int_equal(cn_rpc_route_match("/v1/accounts/k", &p), CN_RPC_ROUTE_ACCOUNT);
    assert_int_equal(cn_rpc_route_match("/v1/blocks/7", &p), CN_RPC_ROUTE_BLOCK);
    assert_int_equal(cn_rpc_route_match("/v1/validators/7", &p), CN_RPC_ROUTE_VALIDATORS);
    assert_string_equal(p, "7");
    assert_int_equal(cn_rpc_route_match("/v1/status", &p), CN_RPC_ROUTE_STATUS);
    assert_int_equal(cn_rpc_route_match("/metrics", &p), CN_RPC_ROUTE_METRICS);
    assert_int_equal(cn_rpc_route_match("/v1/txs", &p), CN_RPC_ROUTE_TXS_SUBMIT);
    assert_int_equal(cn_rpc_route_method(CN_RPC_ROUTE_TXS_SUBMIT), CN_RPC_POST);
    assert_int_equal(cn_rpc_route_match("/v1/oracle/BTC", &p), CN_RPC_ROUTE_ORACLE);
    assert_string_equal(p, "BTC");
    const char *none[] = {"",          "/",          "/v1",         "/v1/",        "/v1/status/",
                          "/v1/tx/a/b", "/v1/txs/",  "/V1/status",  "/v2/status",  "//v1/status",
                          "/metrics/", "/v1/blocks", "/v1/accounts"};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
        assert_int_equal(cn_rpc_route_match(none[i], &p), CN_RPC_ROUTE_NONE);
    assert_int_equal(cn_rpc_route_match(NULL, &p), CN_RPC_ROUTE_NONE);
    assert_int_equal(cn_rpc_route_method(CN_RPC_ROUTE_TX_SUBMIT), CN_RPC_POST);
    assert_int_equal(cn_rpc_route_method(CN_RPC_ROUTE_TX_GET), CN_RPC_GET);
    assert_string_equal(cn_rpc_route_name(CN_RPC_ROUTE_BLOCK), "block");
}

static void test_error_table(void **state) {
    (void)state;
    for (int e = 0; e < CN_RPC_E_COUNT; e++) {
        assert_non_null(cn_rpc_err_name((cn_rpc_err)e));
        assert_true(cn_rpc_err_status((cn_rpc_err)e) >= 400);
        for (int f = 0; f < e; f++)
            assert_string_not_equal(cn_rpc_err_name((cn_rpc_err)e), cn_rpc_err_name((cn_rpc_err)f));
    }
    assert_int_equal(cn_rpc_err_status(CN_RPC_E_TOO_LARGE), 413);
    assert_int_equal(cn_rpc_err_status(CN_RPC_E_RATE_LIMITED), 429);
    assert_string_equal(cn_rpc_err_name(CN_RPC_E_COUNT), "internal");
}

static void test_ratelimit(void **state) {
    (void)state;
    assert_null(cn_rpc_ratelimit_new(0, 10, 64));
    cn_rpc_ratelimit *rl = cn_rpc_ratelimit_new(2, 3, 64); /* 2/s, burst 3 */
    assert_non_null(rl);
    const uint8_t a[] = {4, 127, 0, 0, 1}, b[] = {4, 10, 0, 0, 1};
    uint64_t t = 1000000;
    for (int i = 0; i < 3; i++)
        assert_true(cn_rpc_ratelimit_take(rl, a, sizeof a, t));
    assert_false(cn_rpc_ratelimit_take(rl, a, sizeof a, t));
    /* Another address has its own bucket. */
    assert_true(cn_rpc_ratelimit_take(rl, b, sizeof b, t));
    /* 2/s: one token every 500 ms, none after 499 ms. */
    assert_false(cn_rpc_ratelimit_take(rl, a, sizeof a, t + 499));
    assert_true(cn_rpc_ratelimit_take(rl, a, sizeof a, t + 500));
    assert_false(cn_rpc_ratelimit_take(rl, a, sizeof a, t + 500));
    /* A long idle time refills to the burst, not beyond. */
    t += 1000000000;
    for (int i = 0; i < 3; i++)
        assert_true(cn_rpc_ratelimit_take(rl, a, sizeof a, t));
    assert_false(cn_rpc_ratelimit_take(rl, a, sizeof a, t));
    /* A clock that does not move earns nothing. */
    assert_false(cn_rpc_ratelimit_take(rl, a, sizeof a, t - 5));
    cn_rpc_ratelimit_free(rl);
}

/* Many addresses in a small table: lookups stay bounded and limiting stays per address. */
static void test_ratelimit_many(void **state) {
    (void)state;
    cn_rpc_ratelimit *rl = cn_rpc_ratelimit_new(1, 1, 64);
    assert_non_null(rl);
    for (uint32_t i = 0; i < 10000; i++) {
        uint8_t k[5] = {4, (uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
        assert_true(cn_rpc_ratelimit_take(rl, k, sizeof k, 5000 + i / 100));
    }
    /* A fresh address right after its first request is limited. */
    const uint8_t z[] = {6, 1, 2, 3};
    assert_true(cn_rpc_ratelimit_take(rl, z, sizeof z, 9000));
    assert_false(cn_rpc_ratelimit_take(rl, z, sizeof z, 9000));
    /* Extreme values do not overflow. */
    cn_rpc_ratelimit *big = cn_rpc_ratelimit_new(4000000000u, 4000000000u, 1);
    assert_non_null(big);
    assert_true(cn_rpc_ratelimit_take(big, z, sizeof z, 0));
    assert_true(cn_rpc_ratelimit_take(big, z, sizeof z, UINT64_MAX));
    assert_true(cn_rpc_ratelimit_take(big, z, 0, UINT64_MAX));
    cn_rpc_ratelimit_free(big);
    cn_rpc_ratelimit_free(rl);
    cn_rpc_ratelimit_free(NULL);
    assert_true(cn_rpc_monotonic_ms() > 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hex32),        cmocka_unit_test(test_height),
        cmocka_unit_test(test_block_query),  cmocka_unit_test(test_content_type),
        cmocka_unit_test(test_routes),       cmocka_unit_test(test_error_table),
        cmocka_unit_test(test_ratelimit),    cmocka_unit_test(test_ratelimit_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
