/* The validator set per height (node/app/validators.h): genesis order and limits, the stored
 * encoding and every rule its decoder enforces, power changes at the end of a block (change,
 * removal, a new validator; 'l' following 'n' one block later), the refusal of changes that
 * would empty or overfill the set, and the per-height history in the meta database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto/bytes.h"
#include "node/app/validators.h"

static void key_of(uint8_t out[32], uint8_t b) {
    memset(out, 0, 32);
    out[0] = b;
    out[31] = 1;
}

static cn_genesis gen3(void) {
    static cn_gen_member m[4];
    memset(m, 0, sizeof m);
    key_of(m[0].pubkey, 0x30);
    m[0].power = 10;
    key_of(m[1].pubkey, 0x10);
    m[1].power = 20;
    key_of(m[2].pubkey, 0x40); /* a member without power */
    key_of(m[3].pubkey, 0x20);
    m[3].power = 5;
    cn_genesis g;
    memset(&g, 0, sizeof g);
    g.n_members = 4;
    g.members = m;
    return g;
}

static void test_genesis_order_and_hash(void **state) {
    (void)state;
    cn_genesis g = gen3();
    cn_validators v;
    char err[96];
    assert_true(cn_validators_from_genesis(&v, &g, err, sizeof err));
    assert_int_equal(v.n, 3);
    assert_int_equal(v.total, 35);
    assert_int_equal(v.key[0][0], 0x10);
    assert_int_equal(v.key[1][0], 0x20);
    assert_int_equal(v.key[2][0], 0x30);
    assert_int_equal(v.power[1], 5);
    uint8_t k[32];
    key_of(k, 0x20);
    assert_int_equal(cn_validators_index(&v, k), 1);
    key_of(k, 0x40);
    assert_int_equal(cn_validators_index(&v, k), -1);
    /* The set hash is the genesis validators hash (the header's validators_hash). */
    for (size_t i = 0; i < g.n_members; i++)
        g.members[i].roles = g.members[i].power ? CN_ROLE_VALIDATOR : CN_ROLE_AUDITOR;
    uint8_t a[32], b[32];
    cn_validators_hash(&v, a);
    cn_genesis_validators_hash(&g, b);
    assert_memory_equal(a, b, 32);
    /* No validator at all. */
    for (size_t i = 0; i < g.n_members; i++)
        g.members[i].power = 0;
    assert_false(cn_validators_from_genesis(&v, &g, err, sizeof err));
    assert_non_null(strstr(err, "no validator"));
}

static void test_encoding_rules(void **state) {
    (void)state;
    cn_genesis g = gen3();
    cn_validators v, w;
    char err[96];
    assert_true(cn_validators_from_genesis(&v, &g, err, sizeof err));
    uint8_t buf[CN_VALIDATORS_ENC_MAX];
    size_t n = cn_validators_encode(&v, buf);
    assert_int_equal(n, 4 + 3 * 40);
    assert_true(cn_validators_decode(&w, buf, n));
    assert_int_equal(w.n, 3);
    assert_int_equal(w.total, 35);
    assert_memory_equal(w.key, v.key, 3 * 32);
    /* length off by one either way */
    assert_false(cn_validators_decode(&w, buf, n - 1));
    assert_false(cn_validators_decode(&w, buf, n + 1));
    /* empty set */
    uint8_t zero[4] = {0};
    assert_false(cn_validators_decode(&w, zero, 4));
    /* keys out of order, and a repeated key */
    uint8_t bad[CN_VALIDATORS_ENC_MAX];
    memcpy(bad, buf, n);
    memcpy(bad + 4, buf + 44, 32);
    assert_false(cn_validators_decode(&w, bad, n));
    memcpy(bad, buf, n);
    memcpy(bad + 44, buf + 4, 32);
    assert_false(cn_validators_decode(&w, bad, n));
    /* power 0, and power above the maximum */
    memcpy(bad, buf, n);
    cn_put_be64(bad + 4 + 32, 0);
    assert_false(cn_validators_decode(&w, bad, n));
    cn_put_be64(bad + 4 + 32, (uint64_t)CN_MAX_POWER + 1);
    assert_false(cn_validators_decode(&w, bad, n));
    cn_put_be64(bad + 4 + 32, (uint64_t)CN_MAX_POWER);
    assert_true(cn_validators_decode(&w, bad, n));
    /* a count above the limit */
    cn_put_be32(bad, CN_VALIDATORS_MAX + 1);
    assert_false(cn_validators_decode(&w, bad, 4 + (CN_VALIDATORS_MAX + 1) * 40));
}

static void change(uint8_t *list, size_t i, uint8_t key, uint64_t power) {
    key_of(list + i * 40, key);
    cn_put_be64(list + i * 40 + 32, power);
}

static void test_end_block_changes(void **state) {
    (void)state;
    cn_genesis g = gen3();
    cn_validators v, next, last;
    char err[96];
    assert_true(cn_validators_from_genesis(&v, &g, err, sizeof err));
    cn_overlay ov;
    cn_overlay_init(&ov, NULL);
    assert_true(cn_validators_write_genesis(&ov, &v));
    /* A block without changes writes nothing. */
    size_t before = cn_overlay_mark(&ov);
    assert_true(cn_validators_end_block(&ov, NULL, 0));
    assert_int_equal(cn_overlay_mark(&ov), before);
    /* Raise 0x20 to 7, remove 0x30, add 0x05 with 1. */
    uint8_t list[3 * 40];
    change(list, 0, 0x20, 7);
    change(list, 1, 0x30, 0);
    change(list, 2, 0x05, 1);
    assert_true(cn_validators_end_block(&ov, list, 3));
    assert_int_equal(cn_validators_get(&ov, 1, &next), 1);
    assert_int_equal(cn_validators_get(&ov, 0, &last), 1);
    assert_int_equal(next.n, 3);
    assert_int_equal(next.total, 28);
    assert_int_equal(next.key[0][0], 0x05);
    assert_int_equal(next.key[1][0], 0x10);
    assert_int_equal(next.key[2][0], 0x20);
    assert_int_equal(next.power[2], 7);
    assert_int_equal(last.total, 35); /* still the set that signed this block */
    /* One block later 'l' catches up. */
    assert_true(cn_validators_end_block(&ov, NULL, 0));
    assert_int_equal(cn_validators_get(&ov, 0, &last), 1);
    assert_int_equal(last.total, 28);
    /* Removing every validator is refused, at proposal time and at the end of a block. */
    uint8_t all[3 * 40];
    change(all, 0, 0x05, 0);
    change(all, 1, 0x10, 0);
    change(all, 2, 0x20, 0);
    char msg[160];
    assert_int_equal(cn_validators_check_change(&ov, all, 1, all + 40, 0, msg, sizeof msg), 1);
    assert_int_equal(cn_validators_check_change(&ov, all, 2, all + 80, 0, msg, sizeof msg), 0);
    assert_non_null(strstr(msg, "empty"));
    assert_false(cn_validators_end_block(&ov, all, 3));
    /* A new key with power 0 changes nothing and is allowed. */
    uint8_t k[32];
    key_of(k, 0x77);
    assert_int_equal(cn_validators_check_change(&ov, NULL, 0, k, 0, msg, sizeof msg), 1);
    cn_overlay_free(&ov);
}

static void test_full_set_refuses_another(void **state) {
    (void)state;
    cn_overlay ov;
    cn_overlay_init(&ov, NULL);
    cn_validators v;
    memset(&v, 0, sizeof v);
    for (uint32_t i = 0; i < CN_VALIDATORS_MAX; i++) {
        key_of(v.key[i], (uint8_t)(i + 1));
        v.power[i] = 1;
    }
    v.n = CN_VALIDATORS_MAX;
    v.total = CN_VALIDATORS_MAX;
    assert_true(cn_validators_write_genesis(&ov, &v));
    uint8_t k[32];
    char msg[160];
    key_of(k, 0xee);
    assert_int_equal(cn_validators_check_change(&ov, NULL, 0, k, 3, msg, sizeof msg), 0);
    assert_non_null(strstr(msg, "exceed"));
    /* but after a pending removal there is room */
    uint8_t rm[40];
    change(rm, 0, 1, 0);
    assert_int_equal(cn_validators_check_change(&ov, rm, 1, k, 3, msg, sizeof msg), 1);
    cn_overlay_free(&ov);
}

static void test_history(void **state) {
    (void)state;
    char dir[] = "/tmp/cn-valset-XXXXXX";
    assert_non_null(mkdtemp(dir));
    cn_store *s;
    assert_int_equal(cn_store_open(&s, dir, NULL), CN_STORE_OK);
    cn_genesis g = gen3();
    cn_validators v, w;
    char err[96];
    assert_true(cn_validators_from_genesis(&v, &g, err, sizeof err));
    uint8_t buf[CN_VALIDATORS_ENC_MAX];
    size_t n1 = cn_validators_encode(&v, buf);
    cn_store_wtxn *b;
    assert_int_equal(cn_store_begin(s, &b), CN_STORE_OK);
    assert_int_equal(cn_validators_history_put(b, 1, buf, n1), CN_STORE_OK);
    v.power[0] = 99;
    v.total += 79;
    size_t n2 = cn_validators_encode(&v, buf);
    assert_int_equal(cn_validators_history_put(b, 50, buf, n2), CN_STORE_OK);
    assert_int_equal(cn_store_commit(b), CN_STORE_OK);
    cn_store_rtxn *r;
    assert_int_equal(cn_store_read_begin(s, &r), CN_STORE_OK);
    assert_int_equal(cn_validators_at(r, 0, &w), 0);
    assert_int_equal(cn_validators_at(r, 1, &w), 1);
    assert_int_equal(w.total, 35);
    assert_int_equal(cn_validators_at(r, 49, &w), 1);
    assert_int_equal(w.total, 35);
    assert_int_equal(cn_validators_at(r, 50, &w), 1);
    assert_int_equal(w.total, 114);
    assert_int_equal(cn_validators_at(r, UINT64_MAX, &w), 1);
    assert_int_equal(w.power[0], 99);
    cn_store_read_end(r);
    cn_store_close(s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_genesis_order_and_hash),
        cmocka_unit_test(test_encoding_rules),
        cmocka_unit_test(test_end_block_changes),
        cmocka_unit_test(test_full_set_refuses_another),
        cmocka_unit_test(test_history),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
