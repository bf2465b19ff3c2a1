/* Node config: defaults, file parsing, errors naming the line, flag overrides, and the
 * written default file parsing back to the same values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/config/config.h"

static void test_defaults_and_parse(void **state) {
    (void)state;
    cn_config c;
    cn_config_defaults(&c);
    assert_string_equal(c.api_listen.host, "127.0.0.1");
    assert_int_equal(c.api_listen.port, 26657);
    assert_int_equal(c.block_interval_ms, 200);
    assert_int_equal(c.empty_block_interval_ms, 0);
    assert_int_equal(c.log_level, CN_LOG_INFO);
    const char *text = "# comment\n\napi.listen = 0.0.0.0:8080\n  block.interval_ms=50  \r\n"
                       "log.level = debug\nmempool.max_txs = 7\nrpc.requests_per_sec = 100\n";
    char err[256];
    assert_true(cn_config_parse(&c, text, strlen(text), err, sizeof err));
    assert_string_equal(c.api_listen.host, "0.0.0.0");
    assert_int_equal(c.api_listen.port, 8080);
    assert_int_equal(c.block_interval_ms, 50);
    assert_int_equal(c.log_level, CN_LOG_DEBUG);
    assert_int_equal(c.mempool_max_txs, 7);
    assert_int_equal(c.rpc_requests_per_sec, 100);
}

#define K64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define K64U "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_peer_lists(void **state) {
    (void)state;
    cn_config c;
    cn_config_defaults(&c);
    const char *text = "p2p.peers = " K64 "@127.0.0.1:26656, " K64 "@10.0.0.2:7\n"
                       "p2p.allow = " K64 "\n";
    char err[256];
    assert_true(cn_config_parse(&c, text, strlen(text), err, sizeof err));
    cn_config_peer peers[4];
    assert_int_equal(cn_config_parse_peers(c.p2p_peers, peers, 4, err, sizeof err), 2);
    assert_string_equal(peers[0].addr, "127.0.0.1:26656");
    assert_string_equal(peers[1].addr, "10.0.0.2:7");
    assert_int_equal(peers[1].key[0], 0x01);
    assert_int_equal(peers[1].key[31], 0xef);
    assert_int_equal(cn_config_parse_peers(c.p2p_peers, peers, 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "more than 1 peers"));
    uint8_t keys[2][32];
    assert_int_equal(cn_config_parse_keys(c.p2p_allow, keys, 2, err, sizeof err), 1);
    assert_int_equal(cn_config_parse_keys("", keys, 2, err, sizeof err), 0);
}

static void expect_bad(const char *text, const char *want) {
    cn_config c;
    cn_config_defaults(&c);
    char err[256];
    if (cn_config_parse(&c, text, strlen(text), err, sizeof err))
        fail_msg("accepted '%s'", text);
    if (!strstr(err, want))
        fail_msg("error '%s' lacks '%s'", err, want);
}

static void test_errors(void **state) {
    (void)state;
    expect_bad("nonsense\n", "line 1: expected 'key = value'");
    expect_bad("\n\nfoo.bar = 1\n", "line 3: unknown key 'foo.bar'");
    expect_bad("block.interval_ms = 60001\n",
               "block.interval_ms: '60001' is not an integer in 0..60000");
    expect_bad("block.interval_ms = -50\n", "is not an integer");
    expect_bad("block.interval_ms = 50x\n", "is not an integer");
    expect_bad("block.interval_ms = 50\nblock.interval_ms = 60\n", "line 2: 'block.interval_ms' set twice");
    expect_bad("api.listen = localhost\n", "api.listen: 'localhost' is not host:port");
    expect_bad("api.listen = 127.0.0.1:0\n", "is not host:port");
    expect_bad("api.listen = 127.0.0.1:70000\n", "is not host:port");
    expect_bad("log.level = loud\n", "log.level: 'loud' is not error, warn, info or debug");
    /* peer lists */
    expect_bad("p2p.peers = abcd@127.0.0.1:1\n", "expected <64 lowercase hex key>@<ip:port>");
    expect_bad("p2p.peers = " K64 "\n", "expected <64 lowercase hex key>@<ip:port>");
    expect_bad("p2p.peers = " K64 "@127.0.0.1\n", "is not ip:port");
    expect_bad("p2p.peers = " K64 "@127.0.0.1:1,\n", "trailing comma");
    expect_bad("p2p.peers = " K64 "@127.0.0.1:1,,\n", "entry 2 is empty");
    expect_bad("p2p.allow = " K64 "00\n", "expected a 64 lowercase hex node key");
    expect_bad("p2p.allow = " K64U "\n", "expected a 64 lowercase hex node key");
    char big[CN_CONFIG_MAX_FILE + 2];
    memset(big, '#', sizeof big - 1);
    big[sizeof big - 1] = 0;
    expect_bad(big, "larger than");
}

static void test_flags(void **state) {
    (void)state;
    cn_config c;
    cn_config_defaults(&c);
    char a[9][32] = {"--api-listen", "127.0.0.1:9999", "--block-interval-ms=300",
                     "--mempool-nonce-window", "5", "--other", "--log-level", "bogus",
                     "--block-interval-ms"};
    char *argv[9];
    for (int k = 0; k < 9; k++)
        argv[k] = a[k];
    int argc = 9, i = 0;
    char err[256];
    assert_int_equal(cn_config_flag(&c, argc, argv, &i, err, sizeof err), 1);
    assert_int_equal(i, 2);
    assert_int_equal(c.api_listen.port, 9999);
    assert_int_equal(cn_config_flag(&c, argc, argv, &i, err, sizeof err), 1);
    assert_int_equal(c.block_interval_ms, 300);
    assert_int_equal(cn_config_flag(&c, argc, argv, &i, err, sizeof err), 1);
    assert_int_equal(c.mempool_nonce_window, 5);
    assert_int_equal(i, 5);
    assert_int_equal(cn_config_flag(&c, argc, argv, &i, err, sizeof err), 0);
    i = 6;
    assert_int_equal(cn_config_flag(&c, argc, argv, &i, err, sizeof err), -1);
    assert_non_null(strstr(err, "--log-level"));
    i = 8;
    assert_int_equal(cn_config_flag(&c, argc, argv, &i, err, sizeof err), -1);
    assert_non_null(strstr(err, "needs a value"));
}

static void test_write_roundtrip(void **state) {
    (void)state;
    cn_config c, d;
    cn_config_defaults(&c);
    c.block_interval_ms = 123;
    c.mempool_max_bytes = 1u << 20;
    c.log_level = CN_LOG_WARN;
    snprintf(c.api_listen.host, sizeof c.api_listen.host, "10.0.0.1");
    char path[] = "/tmp/cn_cfg_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    assert_true(cn_config_write(&c, path));
    cn_config_defaults(&d);
    char err[256];
    if (!cn_config_load(&d, path, err, sizeof err))
        fail_msg("%s", err);
    unlink(path);
    assert_memory_equal(&c, &d, sizeof c);
    assert_false(cn_config_load(&d, "/nonexistent/config", err, sizeof err));
    assert_non_null(strstr(err, "cannot open"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_parse),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_peer_lists),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_write_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
