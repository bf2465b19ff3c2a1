/* The consensus log (node/chain/conslog.h): what persist makes durable and what it does not,
 * the decision clearing a height's log and storing the next priorities, and the refusal to
 * resume from a log that is corrupt, torn or from another height. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chainkit.h"
#include "node/chain/cert.h"
#include "node/chain/conslog.h"
#include "tests/unit/tmpdir.h"

static cn_keypair K;

static int setup(void **state) {
    (void)state;
    assert_true(cn_crypto_init());
    tk_key(&K, 7);
    return 0;
}

static cn_store *open_at(tdir *t) {
    cn_store *s;
    assert_int_equal(cn_store_open(&s, t->data, NULL), CN_STORE_OK);
    return s;
}

/* A signed prevote for id (or nil) at (h, r); malloc'd. */
static uint8_t *vote(uint64_t h, uint32_t r, const uint8_t *id, size_t *len) {
    uint8_t *b;
    assert_true(cn_vote_sign(&K, TK_CHAIN, CLEARNODE__V1__VOTE_TYPE__VOTE_PREVOTE, h, r, id, 5,
                             &b, len));
    return b;
}

static cn_cons_sign_state signed_prevote(uint64_t h, uint32_t r, const uint8_t *id) {
    cn_cons_sign_state st;
    cn_cons_sign_state_empty(&st);
    cn_cons_value v;
    memset(&v, 0, sizeof v);
    if (id) {
        v.has_value = 1;
        memcpy(v.id, id, 32);
    }
    cn_cons_sign_record(&st, h, r, CN_CONS_STEP_PREVOTE, &v, -1);
    return st;
}

static void put_raw(cn_store *s, const char *key, size_t klen, const void *v, size_t vlen) {
    cn_store_wtxn *b;
    assert_int_equal(cn_store_begin(s, &b), CN_STORE_OK);
    assert_int_equal(cn_store_put(b, CN_DB_SIGNER, key, klen, v, vlen), CN_STORE_OK);
    assert_int_equal(cn_store_commit(b), CN_STORE_OK);
}

static void test_persist_and_load(void **state) {
    (void)state;
    tdir t;
    assert_int_equal(tdir_make_prefixed(&t, "cn-clog-"), 0);
    cn_store *s = open_at(&t);
    cn_conslog *l = cn_conslog_new(s);
    assert_non_null(l);
    cn_clog_loaded L;
    char err[256];
    /* an empty log: nothing signed, nothing to replay */
    assert_true(cn_conslog_load(s, 1, &L, err, sizeof err));
    assert_false(L.has_state);
    assert_int_equal(L.n, 0);
    cn_clog_loaded_free(&L);

    cn_conslog_begin_height(l, 1, 0);
    uint8_t id[32];
    memset(id, 0xab, 32);
    size_t n1, n2;
    uint8_t *other = vote(1, 0, id, &n1); /* someone's vote we accepted */
    assert_true(cn_conslog_add_msg(l, CN_CLOG_VOTE, other, n1));
    /* buffered only: a crash now loses it */
    assert_true(cn_conslog_load(s, 1, &L, err, sizeof err));
    assert_int_equal(L.n, 0);
    cn_clog_loaded_free(&L);
    uint8_t *mine = vote(1, 0, NULL, &n2);
    cn_cons_sign_state st = signed_prevote(1, 0, NULL);
    assert_true(cn_conslog_persist(l, &st, CN_CLOG_VOTE, mine, n2, err, sizeof err));
    assert_true(cn_conslog_load(s, 1, &L, err, sizeof err));
    assert_true(L.has_state);
    assert_int_equal(L.state.height, 1);
    assert_int_equal(L.state.step, CN_CONS_STEP_PREVOTE);
    assert_int_equal(L.last_kind, CN_CLOG_VOTE);
    assert_int_equal(L.last_len, n2);
    assert_memory_equal(L.last, mine, n2);
    /* the buffered vote, then our own, in that order */
    assert_int_equal(L.n, 2);
    assert_memory_equal(L.e[0].bytes, other, n1);
    assert_memory_equal(L.e[1].bytes, mine, n2);
    cn_clog_loaded_free(&L);

    /* A decision clears the height and stores the next height's priorities. */
    cn_cons_valset next;
    memset(&next, 0, sizeof next);
    next.n = 2;
    next.priority[0] = -7;
    next.priority[1] = 7;
    cn_conslog_prepare_commit(l, 1, &st, &next);
    cn_store_wtxn *b;
    assert_int_equal(cn_store_begin(s, &b), CN_STORE_OK);
    assert_int_equal(cn_conslog_commit_hook(l, b), CN_STORE_OK);
    assert_int_equal(cn_store_commit(b), CN_STORE_OK);
    assert_true(cn_conslog_load(s, 2, &L, err, sizeof err));
    assert_int_equal(L.n, 0);
    assert_true(L.has_prio);
    assert_int_equal(L.prio_height, 2);
    assert_int_equal(L.prio.n, 2);
    assert_int_equal(L.prio.priority[0], -7);
    assert_int_equal(L.prio.priority[1], 7);
    cn_clog_loaded_free(&L);
    free(other);
    free(mine);
    cn_conslog_free(l);
    cn_store_close(s);
    tdir_remove(&t);
}

static void expect_refused(cn_store *s, uint64_t h, const char *want) {
    cn_clog_loaded L;
    char err[256];
    if (cn_conslog_load(s, h, &L, err, sizeof err))
        fail_msg("a bad log was accepted (wanted '%s')", want);
    if (!strstr(err, want))
        fail_msg("'%s' lacks '%s'", err, want);
}

static void test_refuses_bad_logs(void **state) {
    (void)state;
    tdir t;
    assert_int_equal(tdir_make_prefixed(&t, "cn-clog-"), 0);
    cn_store *s = open_at(&t);
    cn_conslog *l = cn_conslog_new(s);
    uint8_t id[32];
    memset(id, 0x11, 32);
    size_t n;
    uint8_t *mine = vote(3, 1, id, &n);
    cn_cons_sign_state st = signed_prevote(3, 1, id);
    char err[256];
    cn_conslog_begin_height(l, 3, 0);
    assert_true(cn_conslog_persist(l, &st, CN_CLOG_VOTE, mine, n, err, sizeof err));
    /* resuming another height than the log's */
    expect_refused(s, 4, "does not match the chain");
    /* a sign state record that does not decode */
    uint8_t junk[10] = {9};
    put_raw(s, "state", 5, junk, sizeof junk);
    expect_refused(s, 3, "sign state record is malformed");
    /* torn: the state names round 2, the stored message is the round-1 vote */
    cn_cons_sign_state st2 = signed_prevote(3, 2, id);
    uint8_t enc[CN_CONS_SIGN_STATE_BYTES];
    cn_cons_sign_state_encode(&st2, enc);
    put_raw(s, "state", 5, enc, sizeof enc);
    expect_refused(s, 3, "torn log");
    /* a logged message that is not a message */
    cn_cons_sign_state_encode(&st, enc);
    put_raw(s, "state", 5, enc, sizeof enc);
    uint8_t mk[13] = {'m', 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 9};
    uint8_t bad[4] = {CN_CLOG_VOTE, 1, 2, 3};
    put_raw(s, (const char *)mk, sizeof mk, bad, sizeof bad);
    expect_refused(s, 3, "does not decode");
    /* a logged block that is not the block its key names */
    uint8_t blk[8] = {0x0a, 0};
    uint8_t bk[41];
    bk[0] = 'b';
    memcpy(bk + 1, mk + 1, 8);
    memset(bk + 9, 0x22, 32);
    cn_store_wtxn *b;
    assert_int_equal(cn_store_begin(s, &b), CN_STORE_OK);
    assert_int_equal(cn_store_del(b, CN_DB_SIGNER, mk, sizeof mk), CN_STORE_OK);
    assert_int_equal(cn_store_put(b, CN_DB_SIGNER, bk, sizeof bk, blk, 2), CN_STORE_OK);
    assert_int_equal(cn_store_commit(b), CN_STORE_OK);
    expect_refused(s, 3, "logged block");
    /* a priority record of the wrong size */
    assert_int_equal(cn_store_begin(s, &b), CN_STORE_OK);
    assert_int_equal(cn_store_del(b, CN_DB_SIGNER, bk, sizeof bk), CN_STORE_OK);
    assert_int_equal(cn_store_put(b, CN_DB_SIGNER, "prio", 4, junk, sizeof junk), CN_STORE_OK);
    assert_int_equal(cn_store_commit(b), CN_STORE_OK);
    expect_refused(s, 3, "priority record is malformed");
    free(mine);
    cn_conslog_free(l);
    cn_store_close(s);
    tdir_remove(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_persist_and_load),
        cmocka_unit_test(test_refuses_bad_logs),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
