/* Directed tests of the consensus core (node/consensus): the classic locking scenarios, round
 * skip on f+1, deciding in a later round on precommits of an earlier one, nil prevotes leading
 * to a new round, growing timeouts, equivocation evidence, restart without double signing,
 * proposer rotation, the sign state's stored form and BFT time. One core ("me") is driven by
 * hand with the messages of the other validators. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/consensus/bfttime.h"
#include "node/consensus/core.h"
#include "node/consensus/rounds.h"

static const cn_cons_config CFG = {1000, 100, 500, 50, 500, 50};

typedef struct {
    cn_cons *c;
    cn_cons_valset vs;
    uint32_t me;
} fx;

static void id_of(uint8_t id[32], uint8_t tag) {
    memset(id, tag, 32);
}

/* Four validators of equal power; me proposes none of rounds 0, 1 and 2. */
static void setup(fx *f, const cn_cons_sign_state *restored) {
    int64_t pw[4] = {1, 1, 1, 1};
    assert_true(cn_cons_valset_init(&f->vs, pw, 4));
    uint32_t p0 = cn_cons_valset_proposer(&f->vs, 0), p1 = cn_cons_valset_proposer(&f->vs, 1);
    uint32_t p2 = cn_cons_valset_proposer(&f->vs, 2);
    f->me = 0;
    while (f->me == p0 || f->me == p1 || f->me == p2)
        f->me++;
    assert_true(f->me < 4);
    f->c = calloc(1, sizeof *f->c);
    assert_non_null(f->c);
    assert_true(cn_cons_init(f->c, &CFG, restored));
    assert_int_equal(cn_cons_start_height(f->c, 1, &f->vs, f->me), CN_CONS_OK);
}

static void teardown(fx *f) {
    free(f->c);
}

/* The first output of kind (and, for votes, of vote type vtype) from the last call. */
static const cn_cons_output *find_out(const cn_cons *c, cn_cons_out_kind kind, int vtype) {
    size_t n;
    const cn_cons_output *o = cn_cons_outputs(c, &n);
    for (size_t i = 0; i < n; i++)
        if (o[i].kind == kind && (vtype == 0 || o[i].u.vote.type == vtype))
            return &o[i];
    return NULL;
}

static int send_vote(fx *f, uint8_t type, uint32_t round, uint32_t from, uint8_t tag) {
    cn_cons_vote v;
    memset(&v, 0, sizeof v);
    v.type = type;
    v.height = 1;
    v.round = round;
    v.validator = from;
    if (tag) {
        v.value.has_value = 1;
        id_of(v.value.id, tag);
    }
    return cn_cons_on_vote(f->c, &v);
}

static int send_proposal(fx *f, uint32_t round, int32_t pol, uint8_t tag, int valid) {
    cn_cons_proposal p;
    memset(&p, 0, sizeof p);
    p.height = 1;
    p.round = round;
    p.pol_round = pol;
    id_of(p.id, tag);
    p.proposer = cn_cons_valset_proposer(&f->vs, round);
    return cn_cons_on_proposal(f->c, &p, valid);
}

/* Votes of type for tag from `count` validators other than me (in index order). */
static void others_vote(fx *f, uint8_t type, uint32_t round, uint8_t tag, uint32_t count) {
    for (uint32_t i = 0; i < 4 && count > 0; i++) {
        if (i == f->me)
            continue;
        send_vote(f, type, round, i, tag);
        count--;
    }
}

static void expect_vote(fx *f, uint8_t type, uint8_t tag) {
    const cn_cons_output *o = find_out(f->c, CN_CONS_OUT_VOTE, type);
    assert_non_null(o);
    if (tag == 0) {
        assert_int_equal(o->u.vote.value.has_value, 0);
    } else {
        uint8_t id[32];
        id_of(id, tag);
        assert_int_equal(o->u.vote.value.has_value, 1);
        assert_memory_equal(o->u.vote.value.id, id, 32);
    }
    /* Every new signature is persisted first. */
    size_t n;
    const cn_cons_output *all = cn_cons_outputs(f->c, &n);
    assert_true(o > all && (o - 1)->kind == CN_CONS_OUT_PERSIST);
}

static void fire(fx *f, cn_cons_timeout_kind k, uint32_t round) {
    assert_int_equal(cn_cons_on_timeout(f->c, k, 1, round), CN_CONS_OK);
}

static void test_happy_path(void **state) {
    (void)state;
    fx f;
    setup(&f, NULL);
    assert_non_null(find_out(f.c, CN_CONS_OUT_TIMEOUT, 0));
    assert_int_equal(send_proposal(&f, 0, -1, 0xA1, 1), CN_CONS_OK);
    expect_vote(&f, CN_CONS_PREVOTE, 0xA1);
    others_vote(&f, CN_CONS_PREVOTE, 0, 0xA1, 2);
    expect_vote(&f, CN_CONS_PRECOMMIT, 0xA1);
    others_vote(&f, CN_CONS_PRECOMMIT, 0, 0xA1, 1);
    assert_null(find_out(f.c, CN_CONS_OUT_DECIDE, 0));
    others_vote(&f, CN_CONS_PRECOMMIT, 0, 0xA1, 2); /* first repeats: duplicate */
    const cn_cons_output *d = find_out(f.c, CN_CONS_OUT_DECIDE, 0);
    assert_non_null(d);
    assert_int_equal(d->u.decide.round, 0);
    assert_int_equal(d->u.decide.proposal.id[0], 0xA1);
    cn_cons_vote cv[4];
    assert_int_equal(cn_cons_commit_votes(f.c, 0, d->u.decide.proposal.id, cv, 4), 3);
    teardown(&f);
}

static void test_invalid_value_prevotes_nil(void **state) {
    (void)state;
    fx f;
    setup(&f, NULL);
    send_proposal(&f, 0, -1, 0xB1, 0);
    expect_vote(&f, CN_CONS_PREVOTE, 0);
    teardown(&f);
}

/* Locked on A in round 0; round 1 proposes B without a POL: prevote nil, no precommit for B.
 * Only 2f+1 prevotes for B in round 1 (a POL) move the lock. */
static void test_lock_blocks_other_value(void **state) {
    (void)state;
    fx f;
    setup(&f, NULL);
    send_proposal(&f, 0, -1, 0xA1, 1);
    others_vote(&f, CN_CONS_PREVOTE, 0, 0xA1, 2);
    expect_vote(&f, CN_CONS_PRECOMMIT, 0xA1); /* locked on A, round 0 */
    others_vote(&f, CN_CONS_PRECOMMIT, 0, 0, 2);
    assert_non_null(find_out(f.c, CN_CONS_OUT_TIMEOUT, 0));
    fire(&f, CN_CONS_TIMEOUT_PRECOMMIT, 0);
    assert_int_equal(f.c->round, 1);
    send_proposal(&f, 1, -1, 0xB2, 1);
    expect_vote(&f, CN_CONS_PREVOTE, 0); /* locked: nil */
    /* Two prevotes for B: not 2f+1 with mine nil, no precommit. */
    others_vote(&f, CN_CONS_PREVOTE, 1, 0xB2, 2);
    assert_null(find_out(f.c, CN_CONS_OUT_VOTE, CN_CONS_PRECOMMIT));
    assert_int_equal(f.c->locked_round, 0);
    /* The third other prevote for B makes a POL for B in round 1: lock moves, precommit B. */
    others_vote(&f, CN_CONS_PREVOTE, 1, 0xB2, 3);
    expect_vote(&f, CN_CONS_PRECOMMIT, 0xB2);
    assert_int_equal(f.c->locked_round, 1);
    teardown(&f);
}

/* Proposal with pol_round: without the 2f+1 prevotes at pol_round nothing happens (then the
 * timeout gives nil); with them and lockedRound <= pol_round the locked node prevotes it. */
static void test_pol_round_proposal(void **state) {
    (void)state;
    fx f;
    setup(&f, NULL);
    send_proposal(&f, 0, -1, 0xA1, 1);
    others_vote(&f, CN_CONS_PREVOTE, 0, 0xA1, 2);
    expect_vote(&f, CN_CONS_PRECOMMIT, 0xA1); /* locked on A at 0 */
    others_vote(&f, CN_CONS_PRECOMMIT, 0, 0, 2);
    fire(&f, CN_CONS_TIMEOUT_PRECOMMIT, 0);
    /* Round 1: nobody proposes; everyone prevotes B (f+1 not needed): a POL for B at 1. */
    fire(&f, CN_CONS_TIMEOUT_PROPOSE, 1);
    expect_vote(&f, CN_CONS_PREVOTE, 0);
    others_vote(&f, CN_CONS_PREVOTE, 1, 0xB2, 3);
    /* No proposal for B in round 1 seen: no lock change. Precommit nil after timeout. */
    assert_null(find_out(f.c, CN_CONS_OUT_VOTE, CN_CONS_PRECOMMIT));
    fire(&f, CN_CONS_TIMEOUT_PREVOTE, 1);
    expect_vote(&f, CN_CONS_PRECOMMIT, 0);
    others_vote(&f, CN_CONS_PRECOMMIT, 1, 0, 3);
    fire(&f, CN_CONS_TIMEOUT_PRECOMMIT, 1);
    assert_int_equal(f.c->round, 2);
    uint32_t p2 = cn_cons_valset_proposer(&f.vs, 2);
    if (p2 == f.me) {
        /* me proposes in round 2: its valid value is still A from round 0 (it never saw a
         * proposal for B), so it re-proposes A with pol_round 0. */
        const cn_cons_output *o = find_out(f.c, CN_CONS_OUT_PROPOSAL, 0);
        assert_non_null(o);
        assert_int_equal(o->u.proposal.id[0], 0xA1);
        assert_int_equal(o->u.proposal.pol_round, 0);
    } else {
        /* B re-proposed with pol_round 1: lockedRound 0 <= 1, so prevote B (line 29). */
        send_proposal(&f, 2, 1, 0xB2, 1);
        expect_vote(&f, CN_CONS_PREVOTE, 0xB2);
    }
    teardown(&f);
}

/* Locked at round 1 on A; round 2 proposes B with a real POL from round 0: the lock is newer
 * than the POL (lockedRound 1 > vr 0), so prevote nil (line 29). */
static void test_lock_newer_than_pol(void **state) {
    (void)state;
    fx f;
    setup(&f, NULL);
    fire(&f, CN_CONS_TIMEOUT_PROPOSE, 0);
    others_vote(&f, CN_CONS_PREVOTE, 0, 0xB2, 3); /* POL for B at 0, no proposal seen */
    fire(&f, CN_CONS_TIMEOUT_PREVOTE, 0);
    others_vote(&f, CN_CONS_PRECOMMIT, 0, 0, 2);
    fire(&f, CN_CONS_TIMEOUT_PRECOMMIT, 0);
    send_proposal(&f, 1, -1, 0xA1, 1);
    expect_vote(&f, CN_CONS_PREVOTE, 0xA1);
    others_vote(&f, CN_CONS_PREVOTE, 1, 0xA1, 2);
    expect_vote(&f, CN_CONS_PRECOMMIT, 0xA1);
    assert_int_equal(f.c->locked_round, 1);
    others_vote(&f, CN_CONS_PRECOMMIT, 1, 0, 2);
    fire(&f, CN_CONS_TIMEOUT_PRECOMMIT, 1);
    send_proposal(&f, 2, 0, 0xB2, 1);
    expect_vote(&f, CN_CONS_PREVOTE, 0);
    teardown(&f);
}

/* A proposal with pol_round whose POL is missing waits; a POL for another value at that round
 * does not count. */
static void test_pol_missing_waits(void **state) {
    (void)state;
    fx f;
    setup(&f, NULL);
    fire(&f, CN_CONS_TIMEOUT_PROPOSE, 0);
    others_vote(&f, CN_CONS_PREVOTE, 0, 0xC3, 3);
    fire(&f, CN_CONS_TIMEOUT_PREVOTE, 0);
    others_vote(&f, CN_CONS_PRECOMMIT, 0, 0, 3);
    fire(&f, CN_CONS_TIMEOUT_PRECOMMIT, 0);
    send_proposal(&f, 1, 0, 0xB2, 1); /* claims a POL at 0 for B: there is none */
    assert_null(find_out(f.c, CN_CONS_OUT_VOTE, 0));
    assert_int_equal(f.c->step, CN_CONS_STEP_PROPOSE);
    fire(&f, CN_CONS_TIMEOUT_PROPOSE, 1);
    expect_vote(&f, CN_CONS_PREVOTE, 0);
    teardown(&f);
}

static void test_round_skip(void **state) {
    (void)state;
    fx f;
    setup(&f, NULL);
    uint32_t a = f.me == 0 ? 1 : 0, b = (f.me == 2 || a == 2) ? 3 : 2;
    /* One validator (1/4 of the power) at round 5: not more than 1/3. */
    send_vote(&f, CN_CONS_PREVOTE, 5, a, 0);
    assert_int_equal(f.c->round, 0);
    /* A second one at round 3: 2/4 at rounds >= 3, skip to 3 (not 5). */
    send_vote(&f, CN_CONS_PRECOMMIT, 3, b, 0);
    assert_int_equal(f.c->round, 3);
    assert_int_equal(f.c->step, CN_CONS_STEP_PROPOSE);
    teardown(&f);
}

/* At round 2, the proposal and 2f+1 precommits of round 0 arrive late: decide, round 0. */
static void test_decide_earlier_round(void **state) {
    (void)state;
    fx f;
    setup(&f, NULL);
    for (uint32_t r = 0; r < 2; r++) {
        fire(&f, CN_CONS_TIMEOUT_PROPOSE, r);
        fire(&f, CN_CONS_TIMEOUT_PREVOTE, r);
        fire(&f, CN_CONS_TIMEOUT_PRECOMMIT, r);
    }
    assert_int_equal(f.c->round, 2);
    others_vote(&f, CN_CONS_PRECOMMIT, 0, 0xD4, 3);
    assert_null(find_out(f.c, CN_CONS_OUT_DECIDE, 0)); /* no proposal yet */
    send_proposal(&f, 0, -1, 0xD4, 1);
    const cn_cons_output *d = find_out(f.c, CN_CONS_OUT_DECIDE, 0);
    assert_non_null(d);
    assert_int_equal(d->u.decide.round, 0);
    assert_int_equal(d->u.decide.proposal.id[0], 0xD4);
    teardown(&f);
}

/* 2f+1 nil prevotes: precommit nil; 2f+1 precommits: timeoutPrecommit; then round 1. */
static void test_nil_prevotes_new_round(void **state) {
    (void)state;
    fx f;
    setup(&f, NULL);
    send_proposal(&f, 0, -1, 0xA1, 1);
    expect_vote(&f, CN_CONS_PREVOTE, 0xA1);
    others_vote(&f, CN_CONS_PREVOTE, 0, 0, 3);
    expect_vote(&f, CN_CONS_PRECOMMIT, 0);
    others_vote(&f, CN_CONS_PRECOMMIT, 0, 0, 2);
    const cn_cons_output *t = find_out(f.c, CN_CONS_OUT_TIMEOUT, 0);
    assert_non_null(t);
    assert_int_equal(t->u.timeout.kind, CN_CONS_TIMEOUT_PRECOMMIT);
    assert_int_equal(t->u.timeout.ms, 500);
    fire(&f, CN_CONS_TIMEOUT_PRECOMMIT, 0);
    assert_int_equal(f.c->round, 1);
    assert_int_equal(f.c->step, CN_CONS_STEP_PROPOSE);
    t = find_out(f.c, CN_CONS_OUT_TIMEOUT, 0);
    assert_non_null(t);
    assert_int_equal(t->u.timeout.kind, CN_CONS_TIMEOUT_PROPOSE);
    assert_int_equal(t->u.timeout.ms, 1100);
    /* Stale timeouts of round 0 do nothing. */
    assert_int_equal(cn_cons_on_timeout(f.c, CN_CONS_TIMEOUT_PROPOSE, 1, 0), CN_CONS_STALE);
    teardown(&f);
}

static void test_timeouts_grow(void **state) {
    (void)state;
    assert_int_equal(cn_cons_timeout_ms(&CFG, CN_CONS_TIMEOUT_PROPOSE, 0), 1000);
    assert_int_equal(cn_cons_timeout_ms(&CFG, CN_CONS_TIMEOUT_PROPOSE, 7), 1700);
    assert_int_equal(cn_cons_timeout_ms(&CFG, CN_CONS_TIMEOUT_PREVOTE, 3), 650);
    assert_int_equal(cn_cons_timeout_ms(&CFG, CN_CONS_TIMEOUT_PRECOMMIT, 10), 1000);
    cn_cons_config big = {UINT64_MAX - 5, UINT64_MAX / 2, 0, 0, 0, 0};
    assert_true(cn_cons_timeout_ms(&big, CN_CONS_TIMEOUT_PROPOSE, 3) == UINT64_MAX);
    /* In the core: each new round's propose timeout is longer than the last. */
    fx f;
    setup(&f, NULL);
    uint64_t last = 0;
    for (uint32_t r = 0; r < 5; r++) {
        if (r > 0)
            fire(&f, CN_CONS_TIMEOUT_PRECOMMIT, r - 1);
        const cn_cons_output *t = find_out(f.c, CN_CONS_OUT_TIMEOUT, 0);
        assert_non_null(t);
        assert_true(t->u.timeout.ms > last);
        last = t->u.timeout.ms;
    }
    teardown(&f);
}

static void test_equivocation_evidence(void **state) {
    (void)state;
    fx f;
    setup(&f, NULL);
    uint32_t x = f.me == 0 ? 1 : 0;
    assert_int_equal(send_vote(&f, CN_CONS_PREVOTE, 0, x, 0xA1), CN_CONS_OK);
    assert_int_equal(send_vote(&f, CN_CONS_PREVOTE, 0, x, 0xA1), CN_CONS_DUPLICATE);
    assert_int_equal(send_vote(&f, CN_CONS_PREVOTE, 0, x, 0xB2), CN_CONS_CONFLICT);
    const cn_cons_output *e = find_out(f.c, CN_CONS_OUT_EVIDENCE, 0);
    assert_non_null(e);
    assert_int_equal(e->u.evidence.a.validator, x);
    assert_int_equal(e->u.evidence.a.value.id[0], 0xA1);
    assert_int_equal(e->u.evidence.b.value.id[0], 0xB2);
    /* The second vote is not counted; a third conflict is not reported again. */
    cn_cons_value b = {1, {0}};
    id_of(b.id, 0xB2);
    assert_int_equal(cn_cons_voteset_power(&cn_cons_find_round(f.c, 0)->prevotes, &b), 0);
    assert_int_equal(send_vote(&f, CN_CONS_PREVOTE, 0, x, 0), CN_CONS_CONFLICT);
    assert_null(find_out(f.c, CN_CONS_OUT_EVIDENCE, 0));
    /* Bad index, wrong proposer, bad pol_round. */
    assert_int_equal(send_vote(&f, CN_CONS_PREVOTE, 0, 9, 0xA1), CN_CONS_INVALID);
    cn_cons_proposal p;
    memset(&p, 0, sizeof p);
    p.height = 1;
    p.pol_round = -1;
    p.proposer = (cn_cons_valset_proposer(&f.vs, 0) + 1) % 4;
    assert_int_equal(cn_cons_on_proposal(f.c, &p, 1), CN_CONS_INVALID);
    assert_int_equal(send_proposal(&f, 0, 0, 0xA1, 1), CN_CONS_INVALID);
    /* A second proposal from the proposer: reported, kept. */
    assert_int_equal(send_proposal(&f, 0, -1, 0xA1, 1), CN_CONS_OK);
    assert_int_equal(send_proposal(&f, 0, -1, 0xB2, 1), CN_CONS_CONFLICT);
    assert_non_null(find_out(f.c, CN_CONS_OUT_PROPOSAL_CONFLICT, 0));
    /* Other heights. */
    cn_cons_vote v;
    memset(&v, 0, sizeof v);
    v.type = CN_CONS_PREVOTE;
    v.height = 2;
    assert_int_equal(cn_cons_on_vote(f.c, &v), CN_CONS_FUTURE);
    teardown(&f);
}

/* Restart: the persisted sign state resumes the round and step, resends the identical last
 * message, keeps the lock and refuses anything conflicting. */
static void test_restart_no_double_sign(void **state) {
    (void)state;
    fx f;
    setup(&f, NULL);
    send_proposal(&f, 0, -1, 0xA1, 1);
    const cn_cons_output *p = find_out(f.c, CN_CONS_OUT_PERSIST, 0);
    assert_non_null(p);
    cn_cons_sign_state saved = p->u.sign;
    assert_int_equal(saved.step, CN_CONS_STEP_PREVOTE);

    fx g;
    setup(&g, &saved);
    const cn_cons_output *o = find_out(g.c, CN_CONS_OUT_VOTE, CN_CONS_PREVOTE);
    assert_non_null(o);
    assert_int_equal(o->resend, 1);
    assert_int_equal(o->u.vote.value.id[0], 0xA1);
    assert_null(find_out(g.c, CN_CONS_OUT_PERSIST, 0));
    /* A different proposal for round 0 (from a faulty proposer) gets no second prevote. */
    send_proposal(&g, 0, -1, 0xB2, 1);
    assert_null(find_out(g.c, CN_CONS_OUT_VOTE, 0));
    assert_int_equal(cn_cons_on_timeout(g.c, CN_CONS_TIMEOUT_PROPOSE, 1, 0), CN_CONS_STALE);
    assert_int_equal(send_proposal(&g, 0, -1, 0xA1, 1), CN_CONS_CONFLICT);
    /* Lock on A at round 0, then restart again: round 1 proposing B gets prevote nil. */
    others_vote(&g, CN_CONS_PREVOTE, 0, 0xA1, 2);
    o = find_out(g.c, CN_CONS_OUT_PERSIST, 0);
    assert_non_null(o);
    saved = o->u.sign;
    assert_int_equal(saved.locked_round, 0);
    uint8_t enc[CN_CONS_SIGN_STATE_BYTES];
    cn_cons_sign_state_encode(&saved, enc);
    cn_cons_sign_state back;
    assert_true(cn_cons_sign_state_decode(&back, enc, sizeof enc));
    fx h;
    setup(&h, &back);
    assert_int_equal(h.c->locked_round, 0);
    o = find_out(h.c, CN_CONS_OUT_VOTE, CN_CONS_PRECOMMIT);
    assert_non_null(o);
    assert_int_equal(o->resend, 1);
    others_vote(&h, CN_CONS_PRECOMMIT, 0, 0, 3);
    fire(&h, CN_CONS_TIMEOUT_PRECOMMIT, 0);
    send_proposal(&h, 1, -1, 0xB2, 1);
    expect_vote(&h, CN_CONS_PREVOTE, 0);
    /* The guard itself: going back or changing the value is refused. */
    cn_cons_value a = {1, {0}}, b = {1, {0}};
    id_of(a.id, 0xA1);
    id_of(b.id, 0xB2);
    cn_cons_sign_state s;
    cn_cons_sign_state_empty(&s);
    assert_int_equal(cn_cons_sign_check(&s, 5, 0, CN_CONS_STEP_PREVOTE, &a, -1), CN_CONS_SIGN_NEW);
    cn_cons_sign_record(&s, 5, 2, CN_CONS_STEP_PREVOTE, &a, -1);
    assert_int_equal(cn_cons_sign_check(&s, 5, 2, CN_CONS_STEP_PREVOTE, &a, -1), CN_CONS_SIGN_SAME);
    assert_int_equal(cn_cons_sign_check(&s, 5, 2, CN_CONS_STEP_PREVOTE, &b, -1),
                     CN_CONS_SIGN_REFUSE);
    assert_int_equal(cn_cons_sign_check(&s, 5, 1, CN_CONS_STEP_PRECOMMIT, &a, -1),
                     CN_CONS_SIGN_REFUSE);
    assert_int_equal(cn_cons_sign_check(&s, 4, 9, CN_CONS_STEP_PRECOMMIT, &a, -1),
                     CN_CONS_SIGN_REFUSE);
    assert_int_equal(cn_cons_sign_check(&s, 5, 2, CN_CONS_STEP_PRECOMMIT, &b, -1),
                     CN_CONS_SIGN_NEW);
    teardown(&f);
    teardown(&g);
    teardown(&h);
}

static void test_sign_state_codec(void **state) {
    (void)state;
    cn_cons_sign_state s, t;
    cn_cons_sign_state_empty(&s);
    uint8_t enc[CN_CONS_SIGN_STATE_BYTES];
    cn_cons_sign_state_encode(&s, enc);
    assert_true(cn_cons_sign_state_decode(&t, enc, sizeof enc));
    cn_cons_value a = {1, {0}};
    id_of(a.id, 0x5A);
    cn_cons_sign_record(&s, 7, 3, CN_CONS_STEP_PRECOMMIT, &a, -1);
    cn_cons_sign_record(&s, 7, 4, CN_CONS_STEP_PROPOSE, &a, 3);
    cn_cons_sign_state_encode(&s, enc);
    assert_true(cn_cons_sign_state_decode(&t, enc, sizeof enc));
    assert_int_equal(t.height, 7);
    assert_int_equal(t.round, 4);
    assert_int_equal(t.pol_round, 3);
    assert_int_equal(t.locked_round, 3);
    assert_memory_equal(t.locked_id, a.id, 32);
    /* Truncated, wrong version, every single-byte flip that breaks a rule. */
    assert_false(cn_cons_sign_state_decode(&t, enc, sizeof enc - 1));
    size_t rejected = 0;
    for (size_t i = 0; i < sizeof enc; i++) {
        uint8_t c[CN_CONS_SIGN_STATE_BYTES];
        memcpy(c, enc, sizeof c);
        c[i] ^= 0x80;
        rejected += !cn_cons_sign_state_decode(&t, c, sizeof c);
    }
    assert_true(rejected >= 10);
    enc[0] = 2;
    assert_false(cn_cons_sign_state_decode(&t, enc, sizeof enc));
    /* cn_cons_init refuses an inconsistent state. */
    cn_cons *c = calloc(1, sizeof *c);
    assert_non_null(c);
    s.step = 9;
    assert_false(cn_cons_init(c, &CFG, &s));
    free(c);
}

static void test_proposer_rotation(void **state) {
    (void)state;
    cn_cons_valset vs;
    int64_t eq[4] = {1, 1, 1, 1};
    assert_true(cn_cons_valset_init(&vs, eq, 4));
    /* Equal power: plain round robin. */
    uint32_t seen = 0;
    for (uint32_t r = 0; r < 4; r++)
        seen |= 1u << cn_cons_valset_proposer(&vs, r);
    assert_int_equal(seen, 0xF);
    /* Weighted: over T * 100 steps each validator proposes power * 100 times. */
    int64_t pw[4] = {5, 3, 1, 1};
    assert_true(cn_cons_valset_init(&vs, pw, 4));
    uint32_t count[4] = {0};
    for (uint32_t i = 0; i < 1000; i++) {
        count[cn_cons_valset_step(&vs)]++;
        assert_true(cn_cons_valset_check(&vs));
    }
    assert_int_equal(count[0], 500);
    assert_int_equal(count[1], 300);
    assert_int_equal(count[2], 100);
    assert_int_equal(count[3], 100);
    /* Next height's round 0 is this height's round 1. */
    assert_true(cn_cons_valset_init(&vs, pw, 4));
    uint32_t p1 = cn_cons_valset_proposer(&vs, 1);
    cn_cons_valset_next_height(&vs);
    assert_int_equal(cn_cons_valset_proposer(&vs, 0), p1);
    int64_t bad[2] = {1, 0};
    assert_false(cn_cons_valset_init(&vs, bad, 2));
}

static void test_bft_time(void **state) {
    (void)state;
    cn_cons_timed_vote v[4] = {{0, 1, 100}, {1, 1, 400}, {2, 1, 200}, {3, 1, 300}};
    uint64_t t;
    /* Equal power, 4 votes: smallest t with more than half the power at <= t is 300. */
    assert_true(cn_cons_bft_time(v, 4, 50, &t));
    assert_int_equal(t, 300);
    /* Weighted: one heavy early vote. */
    cn_cons_timed_vote w[3] = {{0, 5, 1000}, {1, 2, 2000}, {2, 2, 3000}};
    assert_true(cn_cons_bft_time(w, 3, 0, &t));
    assert_int_equal(t, 1000);
    /* A faulty validator's extreme timestamp does not move the median. */
    cn_cons_timed_vote x[3] = {{0, 1, 500}, {1, 1, 510}, {2, 1, UINT64_MAX - 1}};
    assert_true(cn_cons_bft_time(x, 3, 0, &t));
    assert_int_equal(t, 510);
    /* Strictly after the previous block. */
    cn_cons_timed_vote y[1] = {{0, 1, 10}};
    assert_true(cn_cons_bft_time(y, 1, 10, &t));
    assert_int_equal(t, 11);
    assert_false(cn_cons_bft_time(y, 0, 10, &t));
    assert_false(cn_cons_bft_time(y, 1, UINT64_MAX, &t));
    assert_int_equal(cn_cons_vote_time(5, 10), 11);
    assert_int_equal(cn_cons_vote_time(50, 10), 50);
}

/* A non-validator follows and decides but never signs. */
static void test_observer(void **state) {
    (void)state;
    fx f;
    int64_t pw[4] = {1, 1, 1, 1};
    assert_true(cn_cons_valset_init(&f.vs, pw, 4));
    f.me = 99; /* others_vote skips nobody */
    f.c = calloc(1, sizeof *f.c);
    assert_non_null(f.c);
    assert_true(cn_cons_init(f.c, &CFG, NULL));
    assert_int_equal(cn_cons_start_height(f.c, 1, &f.vs, 7), CN_CONS_INVALID);
    assert_int_equal(cn_cons_start_height(f.c, 1, &f.vs, CN_CONS_NONE), CN_CONS_OK);
    send_proposal(&f, 0, -1, 0xA1, 1);
    assert_null(find_out(f.c, CN_CONS_OUT_VOTE, 0));
    others_vote(&f, CN_CONS_PRECOMMIT, 0, 0xA1, 3);
    assert_non_null(find_out(f.c, CN_CONS_OUT_DECIDE, 0));
    teardown(&f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_happy_path),
        cmocka_unit_test(test_invalid_value_prevotes_nil),
        cmocka_unit_test(test_lock_blocks_other_value),
        cmocka_unit_test(test_pol_round_proposal),
        cmocka_unit_test(test_pol_missing_waits),
        cmocka_unit_test(test_lock_newer_than_pol),
        cmocka_unit_test(test_round_skip),
        cmocka_unit_test(test_decide_earlier_round),
        cmocka_unit_test(test_nil_prevotes_new_round),
        cmocka_unit_test(test_timeouts_grow),
        cmocka_unit_test(test_equivocation_evidence),
        cmocka_unit_test(test_restart_no_double_sign),
        cmocka_unit_test(test_sign_state_codec),
        cmocka_unit_test(test_proposer_rotation),
        cmocka_unit_test(test_bft_time),
        cmocka_unit_test(test_observer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
