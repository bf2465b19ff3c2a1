/* Evidence on chain (node/app/evidence.h): what counts as an equivocation and what does not,
 * a block recording one (its state record and its end-of-block event), the same evidence
 * refused once recorded, and a header whose evidence hash does not match its evidence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chainkit.h"
#include "crypto/bytes.h"
#include "node/app/evidence.h"
#include "node/chain/cert.h"
#include "node/chain/propose.h"

static cn_keypair OTHER;

static int setup(void **state) {
    (void)state;
    assert_true(cn_crypto_init());
    tk_key(&OTHER, 55);
    return 0;
}

static uint8_t *vote(const cn_keypair *k, Clearnode__V1__VoteType t, uint64_t h, uint32_t r,
                     const uint8_t *id, size_t *len) {
    uint8_t *b;
    assert_true(cn_vote_sign(k, TK_CHAIN, t, h, r, id, 7, &b, len));
    return b;
}

/* Encoded DuplicateVoteEvidence of two Signed votes. */
static uint8_t *pair(const uint8_t *a, size_t al, const uint8_t *b, size_t bl, size_t *len) {
    cn_pb pa, pb;
    assert_int_equal(cn_decode(CN_MSG_SIGNED, a, al, &pa), CN_DECODE_OK);
    assert_int_equal(cn_decode(CN_MSG_SIGNED, b, bl, &pb), CN_DECODE_OK);
    Clearnode__V1__DuplicateVoteEvidence ev;
    clearnode__v1__duplicate_vote_evidence__init(&ev);
    ev.vote_a = (Clearnode__V1__Signed *)pa.msg;
    ev.vote_b = (Clearnode__V1__Signed *)pb.msg;
    uint8_t *out;
    assert_true(cn_encode(&ev.base, CN_CAP_EVIDENCE, &out, len));
    cn_pb_free(&pa);
    cn_pb_free(&pb);
    return out;
}

/* cn_evidence_check on encoded evidence for a block at height bh; the reason when refused. */
static int check(tk_chain *c, const uint8_t *enc, size_t len, uint64_t bh, char *why) {
    cn_pb pb;
    assert_int_equal(cn_decode(CN_MSG_EVIDENCE, enc, len, &pb), CN_DECODE_OK);
    cn_store_rtxn *r;
    assert_int_equal(cn_store_read_begin(c->store, &r), CN_STORE_OK);
    cn_evidence_info x;
    int ok = cn_evidence_check(r, TK_CHAIN, (const Clearnode__V1__DuplicateVoteEvidence *)pb.msg,
                               bh, &x, why, 200);
    cn_store_read_end(r);
    cn_pb_free(&pb);
    return ok;
}

static void expect_refused(tk_chain *c, uint8_t *enc, size_t len, uint64_t bh,
                           const char *want) {
    char why[200];
    if (check(c, enc, len, bh, why))
        fail_msg("accepted evidence that should fail with '%s'", want);
    if (!strstr(why, want))
        fail_msg("'%s' lacks '%s'", why, want);
    free(enc);
}

static void test_what_counts(void **state) {
    (void)state;
    tk_chain c;
    assert_true(tk_open(&c, NULL));
    const Clearnode__V1__VoteType PV = CLEARNODE__V1__VOTE_TYPE__VOTE_PREVOTE;
    uint8_t A[32], B[32];
    memset(A, 0xa1, 32);
    memset(B, 0xb2, 32);
    size_t l1, l2, l3, l4, l5, n;
    uint8_t *va = vote(&c.val, PV, 1, 0, A, &l1);
    uint8_t *vb = vote(&c.val, PV, 1, 0, B, &l2);
    uint8_t *vnil = vote(&c.val, PV, 1, 0, NULL, &l3);
    uint8_t *vr1 = vote(&c.val, PV, 1, 1, B, &l4);
    uint8_t *vo = vote(&OTHER, PV, 1, 0, B, &l5);
    char why[200];
    /* a value and another value, or a value and nil: equivocation */
    uint8_t *ev = pair(va, l1, vb, l2, &n);
    assert_true(check(&c, ev, n, 2, why));
    free(ev);
    ev = pair(va, l1, vnil, l3, &n);
    assert_true(check(&c, ev, n, 2, why));
    free(ev);
    /* the same vote twice; different rounds; different signers; a non-validator */
    ev = pair(va, l1, va, l1, &n);
    expect_refused(&c, ev, n, 2, "the same block");
    ev = pair(va, l1, vr1, l4, &n);
    expect_refused(&c, ev, n, 2, "not for one type, height and round");
    ev = pair(va, l1, vo, l5, &n);
    expect_refused(&c, ev, n, 2, "different signers");
    size_t l6;
    uint8_t *vo2 = vote(&OTHER, PV, 1, 0, A, &l6);
    ev = pair(vo2, l6, vo, l5, &n);
    expect_refused(&c, ev, n, 2, "not a validator");
    /* heights: not below the including block, or too old */
    ev = pair(va, l1, vb, l2, &n);
    expect_refused(&c, ev, n, 1, "not within");
    ev = pair(va, l1, vb, l2, &n);
    expect_refused(&c, ev, n, 2 + CN_EVIDENCE_MAX_AGE, "not within");
    /* a tampered signature */
    uint8_t *bad = malloc(l2);
    memcpy(bad, vb, l2);
    bad[l2 - 1] ^= 1;
    ev = pair(va, l1, bad, l2, &n);
    expect_refused(&c, ev, n, 2, "signature does not verify");
    free(bad);
    free(va);
    free(vb);
    free(vnil);
    free(vr1);
    free(vo);
    free(vo2);
    tk_close(&c);
}

/* process + finalize + commit a built block; returns the end-of-block events receipt. */
static void commit_block(tk_chain *c, cn_built_block *bb) {
    char why[256];
    if (!cn_app_process_proposal(c->app, bb->block, bb->len, why, sizeof why))
        fail_msg("process_proposal: %s", why);
    cn_block_result *r = cn_app_finalize_block(c->app, bb->block, bb->len, why, sizeof why);
    assert_non_null(r);
    uint8_t *v, *commit;
    size_t vl, cl;
    assert_true(cn_vote_sign(&c->val, TK_CHAIN, CLEARNODE__V1__VOTE_TYPE__VOTE_PRECOMMIT,
                             r->height, 0, bb->id, r->time_ms + 1000, &v, &vl));
    assert_true(cn_commit_encode(r->height, 0, bb->id, &v, &vl, 1, &commit, &cl));
    assert_true(cn_app_commit(c->app, r, commit, cl, NULL, NULL, why, sizeof why));
    free(v);
    free(commit);
}

static void test_recorded_once(void **state) {
    (void)state;
    tk_chain c;
    assert_true(tk_open(&c, NULL));
    char err[256];
    assert_int_equal(cn_producer_step(&c.prod, 1, err, sizeof err), 1); /* height 1 */
    uint8_t A[32];
    memset(A, 0x3c, 32);
    size_t l1, l2, n;
    uint8_t *va = vote(&c.val, CLEARNODE__V1__VOTE_TYPE__VOTE_PRECOMMIT, 1, 0, A, &l1);
    uint8_t *vnil = vote(&c.val, CLEARNODE__V1__VOTE_TYPE__VOTE_PRECOMMIT, 1, 0, NULL, &l2);
    uint8_t *ev = pair(va, l1, vnil, l2, &n);
    uint8_t *evs[1] = {ev};
    size_t evl[1] = {n};
    cn_built_block bb;
    assert_int_equal(cn_block_propose_ev(c.app, NULL, NULL, c.val.pub, 0, evs, evl, 1, &bb, err,
                                         sizeof err),
                     1);
    /* the same header with the evidence taken out of the block: refused */
    cn_pb pb;
    assert_int_equal(cn_decode(CN_MSG_BLOCK, bb.block, bb.len, &pb), CN_DECODE_OK);
    Clearnode__V1__Block *blk = (Clearnode__V1__Block *)pb.msg;
    size_t keep = blk->n_evidence;
    blk->n_evidence = 0;
    uint8_t *stripped;
    size_t sl;
    assert_true(cn_encode(&blk->base, CN_CAP_BLOCK, &stripped, &sl));
    blk->n_evidence = keep;
    cn_pb_free(&pb);
    assert_false(cn_app_process_proposal(c.app, stripped, sl, err, sizeof err));
    assert_non_null(strstr(err, "evidence_hash"));
    free(stripped);
    /* the block records it: state and the end-of-block event */
    commit_block(&c, &bb);
    cn_built_block_free(&bb);
    cn_store_rtxn *r;
    assert_int_equal(cn_store_read_begin(c.store, &r), CN_STORE_OK);
    cn_evidence_info x;
    memcpy(x.validator, c.val.pub, 32);
    x.height = 1;
    x.round = 0;
    x.type = CLEARNODE__V1__VOTE_TYPE__VOTE_PRECOMMIT;
    uint8_t k[CN_EVIDENCE_KEY_LEN];
    cn_evidence_key(&x, k);
    const void *v;
    size_t vl;
    assert_int_equal(cn_store_read_get(r, CN_DB_STATE, k, sizeof k, &v, &vl), CN_STORE_OK);
    assert_int_equal(vl, 8);
    assert_int_equal(cn_get_be64(v), 2);
    cn_key ek;
    cn_sk_named(&ek, CN_SK_META, "endblock");
    assert_int_equal(cn_store_read_get(r, CN_DB_STATE, ek.b, ek.len, &v, &vl), CN_STORE_OK);
    assert_int_equal(cn_decode(CN_MSG_RECEIPT, v, vl, &pb), CN_DECODE_OK);
    const Clearnode__V1__Receipt *rc = (const Clearnode__V1__Receipt *)pb.msg;
    assert_true(rc->n_events >= 1);
    assert_string_equal(rc->events[0]->type, "consensus.equivocation");
    int saw_type = 0;
    for (size_t i = 0; i < rc->events[0]->n_attrs; i++)
        if (strcmp(rc->events[0]->attrs[i]->key, "type") == 0)
            saw_type = strcmp(rc->events[0]->attrs[i]->value, "precommit") == 0;
    assert_true(saw_type);
    cn_pb_free(&pb);
    cn_store_read_end(r);
    /* the same evidence again: refused */
    char why[200];
    assert_false(check(&c, ev, n, 3, why));
    assert_non_null(strstr(why, "already recorded"));
    assert_int_equal(cn_block_propose_ev(c.app, NULL, NULL, c.val.pub, 0, evs, evl, 1, &bb, err,
                                         sizeof err),
                     1);
    assert_false(cn_app_process_proposal(c.app, bb.block, bb.len, err, sizeof err));
    assert_non_null(strstr(err, "already recorded"));
    cn_built_block_free(&bb);
    free(ev);
    free(va);
    free(vnil);
    tk_close(&c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_what_counts),
        cmocka_unit_test(test_recorded_once),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
