/* Genesis parsing: a valid genesis, defaults, and one invalid case per field rule, each
 * checked for the field path in the error message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "chainkit.h"

static char *base_json;

static int setup(void **state) {
    (void)state;
    assert_true(cn_crypto_init());
    base_json = tk_genesis_json("");
    return 0;
}

static int teardown(void **state) {
    (void)state;
    free(base_json);
    return 0;
}

/* Replaces the first occurrence of `from` in the base genesis by `to` and parses it. */
static int parse_with(const char *from, const char *to, char *err, size_t cap) {
    const char *at = strstr(base_json, from);
    if (!at)
        fail_msg("pattern '%s' not in the base genesis", from);
    size_t n = strlen(base_json) - strlen(from) + strlen(to) + 1;
    char *j = malloc(n);
    snprintf(j, n, "%.*s%s%s", (int)(at - base_json), base_json, to, at + strlen(from));
    cn_genesis g;
    int ok = cn_genesis_parse(&g, (const uint8_t *)j, strlen(j), NULL, err, cap);
    cn_genesis_free(&g);
    free(j);
    return ok;
}

static void expect_error(const char *from, const char *to, const char *want) {
    char err[512];
    if (parse_with(from, to, err, sizeof err))
        fail_msg("accepted a genesis with '%s' -> '%s'", from, to);
    if (!strstr(err, want))
        fail_msg("error '%s' does not contain '%s'", err, want);
}

static void test_valid(void **state) {
    (void)state;
    cn_genesis g;
    char err[256];
    assert_true(cn_genesis_parse(&g, (const uint8_t *)base_json, strlen(base_json), NULL, err,
                                 sizeof err));
    assert_string_equal(g.chain_id, TK_CHAIN);
    assert_int_equal(g.genesis_time_ms, 1700000000000LL);
    assert_int_equal(g.n_members, 3);
    assert_int_equal(g.members[0].roles, CN_ROLE_VALIDATOR | CN_ROLE_CUSTODIAN |
                                             CN_ROLE_GOVERNOR | CN_ROLE_APPROVER |
                                             CN_ROLE_ORACLE);
    assert_int_equal(g.members[0].power, 10);
    assert_int_equal(g.total_power, 10);
    assert_int_equal(g.n_assets, 2);
    assert_int_equal(g.assets[1].reference_price, 190000000);
    assert_int_equal(g.params.block_max_txs, 5000); /* default */
    uint8_t h1[32];
    memcpy(h1, g.hash, 32);
    cn_genesis_free(&g);
    /* Same bytes, same hash; any change, another hash. */
    assert_true(cn_genesis_parse(&g, (const uint8_t *)base_json, strlen(base_json), NULL, err,
                                 sizeof err));
    assert_memory_equal(h1, g.hash, 32);
    cn_genesis_free(&g);
}

static void test_params_and_contracts(void **state) {
    (void)state;
    char err[512];
    const char *params =
        "\"params\":{\"block\":{\"max_txs\":100,\"max_bytes\":65536},"
        "\"mempool\":{\"nonce_window\":8},\"oracle\":{\"quorum\":1,\"max_age_ms\":5000},"
        "\"custody\":{\"tiers\":[{\"min_amount_usd\":0,\"approvals\":1},"
        "{\"min_amount_usd\":1000,\"approvals\":1,\"cooldown_ms\":100}]},"
        "\"governance\":{\"threshold\":1}},\"contracts\":[{\"name\":\"margin\","
        "\"bytecode_hex\":\"434e564d0001000000000000000000020000000100000000000000000000"
        "000100000000000000020001000000000000036f6e6502000000000000014a00000000000000\"}],";
    char *j = tk_genesis_json(params);
    /* tk_genesis_json appends "contracts":[] after extra: drop that duplicate. */
    char *dup = strstr(j, "\"contracts\":[]");
    assert_non_null(dup);
    memmove(dup - 1, dup + strlen("\"contracts\":[]"), strlen(dup + strlen("\"contracts\":[]")) + 1);
    cn_genesis g;
    if (!cn_genesis_parse(&g, (const uint8_t *)j, strlen(j), NULL, err, sizeof err))
        fail_msg("%s", err);
    assert_int_equal(g.params.block_max_txs, 100);
    assert_int_equal(g.params.mempool_nonce_window, 8);
    assert_int_equal(g.params.oracle_quorum, 1);
    assert_int_equal(g.params.n_tiers, 2);
    assert_int_equal(g.n_contracts, 1);
    assert_int_equal(g.contracts[0].code_len, 68); /* a verified one-function container */
    cn_genesis_free(&g);
    free(j);
}

static void test_invalid_fields(void **state) {
    (void)state;
    char err[256];
    /* Top level and JSON. */
    expect_error("{\"chain_id\"", "[{\"chain_id\"", "invalid JSON");
    expect_error("\"chain_id\":\"" TK_CHAIN "\"", "\"chain_id\":\"bad chain\"", "chain_id:");
    expect_error("\"chain_id\":\"" TK_CHAIN "\"", "\"chain_id\":\"\"", "chain_id: must be 1..64");
    expect_error("\"chain_id\":\"" TK_CHAIN "\",", "", "chain_id: missing");
    expect_error("\"genesis_time\":1700000000000", "\"genesis_time\":\"2023-11-14\"",
                 "genesis_time: must be an integer");
    expect_error("\"genesis_time\":1700000000000", "\"genesis_time\":5", "genesis_time: 5 is outside");
    expect_error("\"chain_id\"", "\"extra\":1,\"chain_id\"", "extra: unknown field");
    expect_error("\"chain_id\"", "\"chain_id\":\"x\",\"chain_id\"", "invalid JSON");
    /* Members. */
    expect_error("{\"name\":\"alpha\",\"pubkey\":\"", "{\"name\":\"alpha\",\"pubkey\":\"zz",
                 "members[0].pubkey: not 64 hex digits");
    expect_error("{\"name\":\"gamma\",\"pubkey\":\"", "{\"name\":\"gamma\",\"pubkey\":\"0",
                 "members[2].pubkey: not 64 hex digits");
    expect_error("\"name\":\"beta\"", "\"name\":\"alpha\"", "members[1].name: same name as members[0]");
    expect_error("\"name\":\"beta\",", "", "members[1].name: missing");
    expect_error("[\"auditor\"]", "[\"auditer\"]", "members[2].roles[0]: unknown role");
    expect_error("[\"auditor\"]", "[]", "members[2].roles: must be a non-empty array");
    expect_error("[\"auditor\"]", "[\"auditor\",\"auditor\"]", "members[2].roles[1]: role 'auditor' listed twice");
    expect_error("[\"auditor\"]", "[\"auditor\"],\"power\":3", "members[2].power: only validators");
    expect_error("\"power\":10", "\"power\":0", "members[0].power: 0 is outside");
    expect_error("\"power\":10", "\"power\":\"10\"", "members[0].power: must be an integer");
    expect_error("\"oracle\"],\"power\":10", "\"oracle\"]", "members[0].power: missing");
    expect_error("\"oracle\"],\"power\":10}", "\"oracle\"],\"power\":10,\"x\":1}", "members[0].x: unknown field");
    expect_error("[\"validator\",\"custodian\",\"governor\"", "[\"custodian\",\"governor\"",
                 "members[0].power: only validators");
    /* Assets. */
    expect_error("\"symbol\":\"USD\"", "\"symbol\":\"usd\"", "assets[0].symbol: character 0");
    expect_error("\"symbol\":\"AAPL\"", "\"symbol\":\"USD\"", "assets[1].symbol: same symbol as assets[0]");
    expect_error("\"decimals\":6", "\"decimals\":19", "assets[0].decimals: 19 is outside 0..18");
    expect_error("\"risk_tier\":2", "\"risk_tier\":0", "assets[1].risk_tier: 0 is outside");
    expect_error("\"maintenance_margin_bps\":2500", "\"maintenance_margin_bps\":6000",
                 "assets[1].maintenance_margin_bps: 6000 exceeds initial_margin_bps 5000");
    expect_error("\"initial_margin_bps\":5000", "\"initial_margin_bps\":10001",
                 "assets[1].initial_margin_bps: 10001 is outside");
    expect_error("\"reference_price\":190000000", "\"reference_price\":0",
                 "assets[1].reference_price: 0 is outside");
    expect_error("\"reference_price\":190000000", "\"reference_price\":1.5",
                 "assets[1].reference_price: must be an integer");
    /* Params and contracts. */
    expect_error("\"contracts\":[]", "\"params\":{\"block\":{\"max_txs\":0}},\"contracts\":[]",
                 "params.block.max_txs: 0 is outside");
    expect_error("\"contracts\":[]", "\"params\":{\"blok\":{}},\"contracts\":[]",
                 "params.blok: unknown field");
    expect_error("\"contracts\":[]", "\"params\":{\"oracle\":{\"quorum\":2}},\"contracts\":[]",
                 "params.oracle.quorum: 2 must be odd");
    expect_error("\"contracts\":[]", "\"params\":{\"oracle\":{\"quorum\":3}},\"contracts\":[]",
                 "params.oracle.quorum: 3 exceeds the 2 members with role oracle");
    expect_error("\"contracts\":[]", "\"params\":{\"governance\":{\"threshold\":2}},\"contracts\":[]",
                 "params.governance.threshold: 2 exceeds");
    expect_error("\"contracts\":[]",
                 "\"params\":{\"custody\":{\"tiers\":[{\"min_amount_usd\":5,\"approvals\":1}]}},"
                 "\"contracts\":[]",
                 "params.custody.tiers[0].min_amount_usd: the first tier must start at 0");
    expect_error("\"contracts\":[]",
                 "\"params\":{\"breakers\":{\"levels_bps\":[700,700,2000]}},\"contracts\":[]",
                 "params.breakers.levels_bps[1]: levels must be strictly increasing");
    expect_error("\"contracts\":[]", "\"contracts\":[{\"name\":\"Margin\",\"bytecode_hex\":\"00\"}]",
                 "contracts[0].name: character 0");
    expect_error("\"contracts\":[]", "\"contracts\":[{\"name\":\"m\",\"bytecode_hex\":\"0\"}]",
                 "contracts[0].bytecode_hex: must be an even number");
    expect_error("\"contracts\":[]", "\"contracts\":[{\"name\":\"m\"}]",
                 "contracts[0].path: give exactly one of path and bytecode_hex");
    expect_error("\"contracts\":[]", "\"contracts\":[{\"name\":\"m\",\"path\":\"../x\"}]",
                 "contracts[0].path: must be relative");
    /* No validator at all. */
    expect_error("[\"validator\",\"custodian\",\"governor\",\"approver\",\"oracle\"],\"power\":10",
                 "[\"custodian\",\"governor\",\"approver\",\"oracle\"]",
                 "members: no member has the validator role");
    /* Too large. */
    cn_genesis g;
    assert_false(cn_genesis_parse(&g, (const uint8_t *)base_json, CN_GENESIS_MAX_FILE + 1, NULL,
                                  err, sizeof err));
    assert_non_null(strstr(err, "larger than"));
}

static void test_file_load(void **state) {
    (void)state;
    char dir[] = "/tmp/cn_gen_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], code[128];
    snprintf(path, sizeof path, "%s/genesis.json", dir);
    snprintf(code, sizeof code, "%s/m.bin", dir);
    /* A verified one-function container (clearasm build of "ldi r0, 1; ret r0"). */
    static const char tiny_hex[] =
        "434e564d0001000000000000000000020000000100000000000000000000000100000000000000020001"
        "000000000000036f6e6502000000000000014a00000000000000";
    uint8_t tiny[68];
    assert_true(cn_hex_decode_exact(tiny, sizeof tiny, tiny_hex));
    FILE *f = fopen(code, "wb");
    fwrite(tiny, 1, sizeof tiny, f);
    fclose(f);
    char *j = tk_genesis_json("");
    char *c = strstr(j, "\"contracts\":[]");
    const char *rep = "\"contracts\":[{\"name\":\"margin\",\"path\":\"m.bin\"}]}\n";
    strcpy(c, rep);
    f = fopen(path, "wb");
    fwrite(j, 1, strlen(j), f);
    fclose(f);
    free(j);
    cn_genesis g;
    char err[256];
    if (!cn_genesis_load(&g, path, err, sizeof err))
        fail_msg("%s", err);
    assert_int_equal(g.n_contracts, 1);
    assert_memory_equal(g.contracts[0].code, tiny, sizeof tiny);
    cn_genesis_free(&g);
    /* Bytes that fail the VM verifier: a genesis error naming the field. */
    f = fopen(code, "wb");
    fwrite("CNVM", 1, 4, f);
    fclose(f);
    assert_false(cn_genesis_load(&g, path, err, sizeof err));
    assert_non_null(strstr(err, "contracts[0].bytecode: verifier: truncated"));
    unlink(code);
    assert_false(cn_genesis_load(&g, path, err, sizeof err));
    assert_non_null(strstr(err, "contracts[0].path: m.bin: cannot open"));
    unlink(path);
    assert_false(cn_genesis_load(&g, path, err, sizeof err));
    tk_rmtree(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_params_and_contracts),
        cmocka_unit_test(test_invalid_fields),
        cmocka_unit_test(test_file_load),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
