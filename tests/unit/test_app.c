/* The app/consensus boundary: app hash determinism (same txs -> same hash on two independent
 * stores; another order -> another hash), the hash chain, restart resuming at the last
 * committed height, a genesis mismatch refused, and process_proposal rejecting tampered
 * blocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "chainkit.h"
#include "node/chain/block.h"
#include "node/chain/cert.h"
#include "node/chain/propose.h"
#include "node/chain/verify.h"

static cn_keypair K0, CL[3];

static int setup(void **state) {
    (void)state;
    assert_true(cn_crypto_init());
    tk_key(&K0, 0);
    for (unsigned i = 0; i < 3; i++)
        tk_key(&CL[i], 100 + i);
    return 0;
}

/* Builds a block of `txs` on c's tip (fixed time) and returns it encoded. */
static uint8_t *make_block(tk_chain *c, uint8_t **txs, size_t *lens, size_t n, size_t *blen,
                           uint8_t id[32]) {
    const cn_tip *t = cn_app_tip(c->app);
    uint8_t vh[32];
    cn_genesis_validators_hash(&c->g, vh);
    uint64_t bt; /* BFT time: from the precommit of the previous block (stamped + 1 s below) */
    assert_true(cn_block_next_time(c->app, &bt));
    cn_header_fields f = {TK_CHAIN, t->height + 1, bt,
                          t->height ? t->block_id : NULL, t->height ? t->last_commit : NULL,
                          t->height ? t->last_commit_len : 0, t->app_hash, vh, K0.pub, NULL, NULL, 0};
    uint8_t *b;
    assert_true(cn_block_build(&f, txs, lens, n, &b, blen, id));
    return b;
}

/* process + finalize + commit a block; returns the new app hash in out. */
static void run_block(tk_chain *c, uint8_t **txs, size_t *lens, size_t n, uint8_t out[32]) {
    size_t blen;
    uint8_t id[32];
    uint8_t *b = make_block(c, txs, lens, n, &blen, id);
    char why[256];
    if (!cn_app_process_proposal(c->app, b, blen, why, sizeof why))
        fail_msg("process_proposal: %s", why);
    cn_block_result *r = cn_app_finalize_block(c->app, b, blen, why, sizeof why);
    assert_non_null(r);
    memcpy(out, r->app_hash, 32);
    uint8_t *vote, *commit;
    size_t vl, cl;
    uint64_t h = r->height;
    assert_true(cn_vote_sign(&K0, TK_CHAIN, CLEARNODE__V1__VOTE_TYPE__VOTE_PRECOMMIT, h, 0, id,
                             r->time_ms + 1000, &vote, &vl));
    assert_true(cn_commit_encode(h, 0, id, &vote, &vl, 1, &commit, &cl));
    assert_true(cn_app_commit(c->app, r, commit, cl, NULL, NULL, why, sizeof why));
    free(vote);
    free(commit);
    free(b);
    assert_memory_equal(cn_app_tip(c->app)->app_hash, out, 32);
}

/* The txs of the determinism tests: setup (register + deposit) and two transfers. */
static void fixture_txs(uint8_t *txs[8], size_t lens[8]) {
    int k = 0;
    for (unsigned i = 0; i < 2; i++)
        assert_true(cn_tx_register_client(&K0, TK_CHAIN, i + 1, CL[i].pub, "", &txs[k], &lens[k])),
            k++;
    for (unsigned i = 0; i < 2; i++)
        assert_true(cn_tx_deposit(&K0, TK_CHAIN, 3 + i, CL[i].pub, "USD", 100,
                                  (const uint8_t *)"r", 1 + i, &txs[k], &lens[k])),
            k++;
    assert_true(cn_tx_transfer(&CL[0], TK_CHAIN, 1, CL[1].pub, "USD", 10, &txs[k], &lens[k]));
    k++;
    assert_true(cn_tx_transfer(&CL[1], TK_CHAIN, 1, CL[0].pub, "USD", 20, &txs[k], &lens[k]));
}

static void test_determinism(void **state) {
    (void)state;
    tk_chain a, b, c;
    assert_true(tk_open(&a, NULL));
    assert_true(tk_open(&b, NULL));
    assert_true(tk_open(&c, NULL));
    assert_memory_equal(cn_app_tip(a.app)->app_hash, cn_app_tip(b.app)->app_hash, 32);
    uint8_t *txs[8];
    size_t lens[8];
    fixture_txs(txs, lens);
    uint8_t ha[32], hb[32], hc[32];
    run_block(&a, txs, lens, 4, ha);
    run_block(&b, txs, lens, 4, hb);
    run_block(&c, txs, lens, 4, hc);
    assert_memory_equal(ha, hb, 32);
    assert_memory_equal(ha, hc, 32);
    /* Same two transfers: same order on a and b, swapped on c. */
    run_block(&a, txs + 4, lens + 4, 2, ha);
    run_block(&b, txs + 4, lens + 4, 2, hb);
    uint8_t *sw[2] = {txs[5], txs[4]};
    size_t swl[2] = {lens[5], lens[4]};
    run_block(&c, sw, swl, 2, hc);
    assert_memory_equal(ha, hb, 32);
    assert_memory_not_equal(ha, hc, 32);
    /* The balances are the same either way (the transfers commute); only the results and
     * therefore the app hash differ. */
    assert_int_equal(tk_balance(&a, CL[0].pub, "USD"), 110);
    assert_int_equal(tk_balance(&c, CL[0].pub, "USD"), 110);
    /* An empty block still changes the app hash (height and time are state). */
    uint8_t he[32];
    run_block(&a, NULL, NULL, 0, he);
    assert_memory_not_equal(he, ha, 32);
    for (int i = 0; i < 6; i++)
        free(txs[i]);
    cn_verify_report rep;
    char err[256];
    if (!cn_verify_chain(a.store, &a.g, 1, &rep, err, sizeof err))
        fail_msg("verify: %s", err);
    assert_int_equal(rep.height, 3);
    assert_int_equal(rep.txs, 6);
    tk_close(&a);
    tk_close(&b);
    tk_close(&c);
}

static void test_restart_resumes(void **state) {
    (void)state;
    tk_chain c;
    assert_true(tk_open(&c, NULL));
    uint8_t *txs[8];
    size_t lens[8];
    fixture_txs(txs, lens);
    for (int i = 0; i < 4; i++)
        assert_int_equal(tk_submit(&c, txs[i], lens[i], NULL), CN_TX_OK);
    assert_int_equal(tk_block(&c), 1);
    cn_tip before = *cn_app_tip(c.app);
    tk_stop(&c);
    assert_true(tk_open_store(&c));
    const cn_tip *after = cn_app_tip(c.app);
    assert_int_equal(after->height, 1);
    assert_int_equal(after->time_ms, before.time_ms);
    assert_memory_equal(after->app_hash, before.app_hash, 32);
    assert_memory_equal(after->block_id, before.block_id, 32);
    assert_non_null(after->last_commit);
    /* Nonces carry over: the transfers (nonce 1) are admitted and committed at height 2. */
    uint8_t h[32];
    assert_int_equal(tk_submit(&c, txs[4], lens[4], h), CN_TX_OK);
    free(txs[5]);
    assert_int_equal(tk_block(&c), 1);
    assert_int_equal(cn_app_tip(c.app)->height, 2);
    assert_int_equal(tk_receipt_code(&c, h), CN_TX_OK);
    /* A registration re-signed after restart (new signature bytes) is refused: nonce used. */
    uint8_t *again;
    size_t n;
    assert_true(cn_tx_register_client(&K0, TK_CHAIN, 1, CL[0].pub, "", &again, &n));
    assert_int_equal(tk_submit(&c, again, n, NULL), CN_TX_BAD_NONCE);
    cn_verify_report rep;
    char err[256];
    if (!cn_verify_chain(c.store, &c.g, 1, &rep, err, sizeof err))
        fail_msg("verify: %s", err);
    /* The same store refuses another genesis. */
    tk_stop(&c);
    char *other = tk_genesis_json("");
    other[strlen(other) - 1] = ' '; /* different bytes, same meaning */
    cn_genesis g2;
    assert_true(cn_genesis_parse(&g2, (const uint8_t *)other, strlen(other), NULL, err, sizeof err));
    char data[96];
    snprintf(data, sizeof data, "%s/data", c.dir);
    cn_store *s;
    assert_int_equal(cn_store_open(&s, data, NULL), CN_STORE_OK);
    cn_app *app;
    assert_false(cn_app_open(&app, s, &g2, 16, err, sizeof err));
    assert_non_null(strstr(err, "different genesis"));
    cn_store_close(s);
    cn_genesis_free(&g2);
    free(other);
    tk_close(&c);
}

static void expect_reject(tk_chain *c, const uint8_t *b, size_t n, const char *want) {
    char why[256];
    if (cn_app_process_proposal(c->app, b, n, why, sizeof why))
        fail_msg("accepted a block that should fail with '%s'", want);
    if (!strstr(why, want))
        fail_msg("reason '%s' lacks '%s'", why, want);
}

static void test_process_proposal_rejects(void **state) {
    (void)state;
    tk_chain c;
    assert_true(tk_open(&c, NULL));
    uint8_t *txs[8];
    size_t lens[8];
    fixture_txs(txs, lens);
    uint8_t h[32];
    run_block(&c, txs, lens, 2, h);
    const cn_tip *t = cn_app_tip(c.app);
    uint8_t vh[32], id[32], bad[32];
    cn_genesis_validators_hash(&c.g, vh);
    memset(bad, 7, 32);
    uint8_t *b;
    size_t n;
    uint64_t bt;
    assert_true(cn_block_next_time(c.app, &bt));
    assert_int_equal(bt, t->time_ms + 1000); /* the precommit of block 1 was stamped so */
    cn_header_fields ok = {TK_CHAIN, 2, bt, t->block_id, t->last_commit,
                           t->last_commit_len, t->app_hash, vh, K0.pub, NULL, NULL, 0};
    cn_header_fields f = ok;
    f.app_hash = bad;
    assert_true(cn_block_build(&f, txs + 2, lens + 2, 1, &b, &n, id));
    expect_reject(&c, b, n, "header.app_hash");
    free(b);
    f = ok;
    f.height = 3;
    assert_true(cn_block_build(&f, txs + 2, lens + 2, 1, &b, &n, id));
    expect_reject(&c, b, n, "header.height");
    free(b);
    /* Block time: not after the previous one, or any time but the commit's BFT time. */
    f = ok;
    f.time_ms = t->time_ms;
    assert_true(cn_block_build(&f, txs + 2, lens + 2, 1, &b, &n, id));
    expect_reject(&c, b, n, "header.time");
    free(b);
    f = ok;
    f.time_ms = bt + 1;
    assert_true(cn_block_build(&f, txs + 2, lens + 2, 1, &b, &n, id));
    expect_reject(&c, b, n, "the BFT time of last_commit");
    free(b);
    f = ok;
    f.last_block_id = bad;
    assert_true(cn_block_build(&f, txs + 2, lens + 2, 1, &b, &n, id));
    expect_reject(&c, b, n, "header.last_block_id");
    free(b);
    f = ok;
    f.proposer = CL[0].pub;
    assert_true(cn_block_build(&f, txs + 2, lens + 2, 1, &b, &n, id));
    expect_reject(&c, b, n, "header.proposer");
    free(b);
    /* A tx repeated in the block, and one already committed. */
    uint8_t *rep[2] = {txs[2], txs[2]};
    size_t repl[2] = {lens[2], lens[2]};
    assert_true(cn_block_build(&ok, rep, repl, 2, &b, &n, id));
    expect_reject(&c, b, n, "repeated");
    free(b);
    assert_true(cn_block_build(&ok, txs, lens, 1, &b, &n, id));
    expect_reject(&c, b, n, "already committed");
    free(b);
    /* A tx that does not decode. */
    uint8_t junk[3] = {1, 2, 3};
    uint8_t *jp = junk;
    size_t jl = 3;
    assert_true(cn_block_build(&ok, &jp, &jl, 1, &b, &n, id));
    expect_reject(&c, b, n, "malformed");
    free(b);
    /* A forged commit certificate (signed by a non-validator). */
    uint8_t *vote, *commit;
    size_t vl, cl;
    assert_true(cn_vote_sign(&CL[0], TK_CHAIN, CLEARNODE__V1__VOTE_TYPE__VOTE_PRECOMMIT, 1, 0,
                             t->block_id, 1, &vote, &vl));
    assert_true(cn_commit_encode(1, 0, t->block_id, &vote, &vl, 1, &commit, &cl));
    f = ok;
    f.last_commit = commit;
    f.last_commit_len = cl;
    assert_true(cn_block_build(&f, txs + 2, lens + 2, 1, &b, &n, id));
    expect_reject(&c, b, n, "not a validator");
    free(b);
    free(vote);
    free(commit);
    /* Garbage. */
    expect_reject(&c, junk, 3, "block:");
    /* The untampered block passes. */
    assert_true(cn_block_build(&ok, txs + 2, lens + 2, 1, &b, &n, id));
    char why[256];
    assert_true(cn_app_process_proposal(c.app, b, n, why, sizeof why));
    free(b);
    for (int i = 0; i < 6; i++)
        free(txs[i]);
    tk_close(&c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_restart_resumes),
        cmocka_unit_test(test_process_proposal_rejects),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
