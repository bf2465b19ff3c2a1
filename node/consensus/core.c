/* The rules of Algorithm 1 (arXiv 1807.04938, p. 6) over the message store of rounds.c.
 *
 * Every event handler stores what it received, then calls run_rules, which applies the
 * "upon" rules that are enabled until none is (each application changes the step, the round
 * or a "first time" flag, so it terminates). Comments name the paper's line numbers:
 *   11-21 StartRound          22-27 proposal without POL     28-33 proposal with POL
 *   34-35 2f+1 prevotes any   36-43 lock / valid value       44-46 2f+1 nil prevotes
 *   47-48 2f+1 precommits any 49-54 decide (any round)       55-56 f+1 of a higher round
 *   57-67 the three timeouts
 * Deviations, all liveness-only (safety never depends on timing or on which enabled rule
 * runs first): the proposer also schedules timeoutPropose (so a refused or never-built
 * proposal cannot stall it); the round skip counts a validator toward round r if it sent
 * anything at a round >= r (a superset of the paper's exact-round count that still needs
 * more than 1/3 of the power, hence at least one correct validator at round >= r); deciding
 * emits DECIDE and waits for cn_cons_start_height instead of starting the next height itself.
 */
#include "node/consensus/core.h"

#include <string.h>

#include "node/consensus/rounds.h"

uint64_t cn_cons_timeout_ms(const cn_cons_config *cfg, cn_cons_timeout_kind kind, uint32_t r) {
    uint64_t base = 0, delta = 0;
    switch (kind) {
    case CN_CONS_TIMEOUT_PROPOSE:
        base = cfg->timeout_propose_ms;
        delta = cfg->timeout_propose_delta_ms;
        break;
    case CN_CONS_TIMEOUT_PREVOTE:
        base = cfg->timeout_prevote_ms;
        delta = cfg->timeout_prevote_delta_ms;
        break;
    case CN_CONS_TIMEOUT_PRECOMMIT:
        base = cfg->timeout_precommit_ms;
        delta = cfg->timeout_precommit_delta_ms;
        break;
    }
    if (delta != 0 && r > (UINT64_MAX - base) / delta)
        return UINT64_MAX;
    return base + (uint64_t)r * delta;
}

static cn_cons_value value_of(const uint8_t id[32]) {
    cn_cons_value v;
    v.has_value = 1;
    memcpy(v.id, id, 32);
    return v;
}

static cn_cons_value nil_value(void) {
    cn_cons_value v;
    memset(&v, 0, sizeof v);
    return v;
}

/* broadcast ⟨PREVOTE|PRECOMMIT, h, round, value⟩, through the sign guard. The vote counts
 * toward this node's own tally at once. */
static void cast_vote(cn_cons *c, cn_cons_vote_type type, const cn_cons_value *value) {
    if (c->self == CN_CONS_NONE)
        return;
    cn_cons_step step = type == CN_CONS_PREVOTE ? CN_CONS_STEP_PREVOTE : CN_CONS_STEP_PRECOMMIT;
    cn_cons_sign_verdict vd = cn_cons_sign_check(&c->sign, c->height, c->round, step, value, -1);
    if (vd == CN_CONS_SIGN_REFUSE) {
        c->refused++;
        return;
    }
    cn_cons_output o;
    memset(&o, 0, sizeof o);
    if (vd == CN_CONS_SIGN_NEW) {
        cn_cons_sign_record(&c->sign, c->height, c->round, step, value, -1);
        o.kind = CN_CONS_OUT_PERSIST;
        o.u.sign = c->sign;
        cn_cons_emit(c, &o);
        memset(&o, 0, sizeof o);
    }
    o.kind = CN_CONS_OUT_VOTE;
    o.resend = vd == CN_CONS_SIGN_SAME;
    o.u.vote.type = (uint8_t)type;
    o.u.vote.height = c->height;
    o.u.vote.round = c->round;
    o.u.vote.value = value->has_value ? *value : nil_value();
    o.u.vote.validator = c->self;
    cn_cons_emit(c, &o);
    (void)cn_cons_store_vote(c, &o.u.vote);
}

/* broadcast ⟨PROPOSAL, h, round, id, pol_round⟩, through the sign guard; the proposer
 * receives its own proposal at once. */
static void propose(cn_cons *c, const uint8_t id[32], int32_t pol_round) {
    cn_cons_value v = value_of(id);
    cn_cons_sign_verdict vd =
        cn_cons_sign_check(&c->sign, c->height, c->round, CN_CONS_STEP_PROPOSE, &v, pol_round);
    if (vd == CN_CONS_SIGN_REFUSE) {
        c->refused++;
        return;
    }
    cn_cons_output o;
    memset(&o, 0, sizeof o);
    if (vd == CN_CONS_SIGN_NEW) {
        cn_cons_sign_record(&c->sign, c->height, c->round, CN_CONS_STEP_PROPOSE, &v, pol_round);
        o.kind = CN_CONS_OUT_PERSIST;
        o.u.sign = c->sign;
        cn_cons_emit(c, &o);
        memset(&o, 0, sizeof o);
    }
    o.kind = CN_CONS_OUT_PROPOSAL;
    o.resend = vd == CN_CONS_SIGN_SAME;
    o.u.proposal.height = c->height;
    o.u.proposal.round = c->round;
    o.u.proposal.pol_round = pol_round;
    memcpy(o.u.proposal.id, id, 32);
    o.u.proposal.proposer = c->self;
    cn_cons_emit(c, &o);
    cn_cons_round *s = cn_cons_get_round(c, c->round);
    if (s)
        (void)cn_cons_store_proposal(c, s, &o.u.proposal, 1);
}

/* Lines 11-21: StartRound(r). */
static void start_round(cn_cons *c, uint32_t r) {
    c->round = r;
    c->step = CN_CONS_STEP_PROPOSE;
    c->awaiting_value = 0;
    cn_cons_round *s = cn_cons_get_round(c, r); /* never NULL for the current round */
    cn_cons_schedule(c, CN_CONS_TIMEOUT_PROPOSE, r);
    if (c->self == CN_CONS_NONE || !s || s->proposer != c->self)
        return;
    if (c->valid_round >= 0) {
        propose(c, c->valid_value.id, (int32_t)c->valid_round);
    } else {
        cn_cons_output o;
        memset(&o, 0, sizeof o);
        o.kind = CN_CONS_OUT_GET_VALUE;
        o.u.get_value.height = c->height;
        o.u.get_value.round = r;
        cn_cons_emit(c, &o);
        c->awaiting_value = 1;
    }
}

/* Lines 49-54: a proposal from proposer(h, r) with valid(v) and 2f+1 precommits for id(v) in
 * any round r decides v. */
static int rule_decide(cn_cons *c) {
    for (uint32_t i = 0; i < CN_CONS_ROUND_SLOTS; i++) {
        cn_cons_round *s = &c->rounds[i];
        if (!s->used)
            continue;
        const cn_cons_value *q = cn_cons_voteset_quorum_value(&s->precommits);
        if (!q || !q->has_value)
            continue;
        for (uint32_t k = 0; k < s->nprops; k++) {
            if (!s->prop_valid[k] || memcmp(s->props[k].id, q->id, 32) != 0)
                continue;
            cn_cons_output o;
            memset(&o, 0, sizeof o);
            o.kind = CN_CONS_OUT_DECIDE;
            o.u.decide.round = s->round;
            o.u.decide.proposal = s->props[k];
            cn_cons_emit(c, &o);
            c->decided = 1;
            return 1;
        }
    }
    return 0;
}

/* Lines 55-56: more than 1/3 of the power at rounds above ours: skip to the highest round r
 * such that validators holding more than 1/3 of the power sent messages at rounds >= r. */
static int rule_skip(cn_cons *c) {
    uint32_t idx[CN_CONS_MAX_VALIDATORS];
    uint32_t m = 0;
    for (uint32_t i = 0; i < c->vs.n; i++)
        if (c->seen[i] && c->max_round_seen[i] > c->round)
            idx[m++] = i;
    /* Selection by descending round; m is at most a few dozen. */
    int64_t acc = 0;
    for (uint32_t k = 0; k < m; k++) {
        uint32_t best = k;
        for (uint32_t j = k + 1; j < m; j++)
            if (c->max_round_seen[idx[j]] > c->max_round_seen[idx[best]])
                best = j;
        uint32_t t = idx[k];
        idx[k] = idx[best];
        idx[best] = t;
        acc += c->vs.power[idx[k]];
        if (cn_cons_valset_third(&c->vs, acc)) {
            start_round(c, c->max_round_seen[idx[k]]);
            return 1;
        }
    }
    return 0;
}

/* Lines 22-33: the first proposal of this round that enables a rule makes us prevote. */
static int rule_proposal(cn_cons *c, cn_cons_round *s) {
    for (uint32_t k = 0; k < s->nprops; k++) {
        const cn_cons_proposal *p = &s->props[k];
        int ok;
        if (p->pol_round < 0) {
            /* Line 23: valid(v) and (lockedRound = -1 or lockedValue = v). */
            ok = s->prop_valid[k] &&
                 (c->locked_round < 0 || memcmp(c->locked_value.id, p->id, 32) == 0);
        } else {
            /* Line 28: needs 2f+1 prevotes for id(v) at vr; line 29 the vote. */
            cn_cons_round *pr = cn_cons_find_round(c, (uint32_t)p->pol_round);
            const cn_cons_value *q = pr ? cn_cons_voteset_quorum_value(&pr->prevotes) : NULL;
            if (!q || !q->has_value || memcmp(q->id, p->id, 32) != 0)
                continue;
            ok = s->prop_valid[k] && (c->locked_round <= (int64_t)p->pol_round ||
                                      memcmp(c->locked_value.id, p->id, 32) == 0);
        }
        cn_cons_value v = ok ? value_of(p->id) : nil_value();
        cast_vote(c, CN_CONS_PREVOTE, &v);
        c->step = CN_CONS_STEP_PREVOTE;
        return 1;
    }
    return 0;
}

/* Lines 36-43: proposal v with valid(v) and 2f+1 prevotes for id(v) in this round, step >=
 * prevote, first time: lock and precommit (if still at prevote), and remember v as valid. */
static int rule_lock(cn_cons *c, cn_cons_round *s) {
    const cn_cons_value *q = cn_cons_voteset_quorum_value(&s->prevotes);
    if (!q || !q->has_value)
        return 0;
    for (uint32_t k = 0; k < s->nprops; k++) {
        if (!s->prop_valid[k] || memcmp(s->props[k].id, q->id, 32) != 0)
            continue;
        cn_cons_value v = value_of(q->id);
        s->lock_done = 1;
        if (c->step == CN_CONS_STEP_PREVOTE) {
            c->locked_value = v;
            c->locked_round = c->round;
            cast_vote(c, CN_CONS_PRECOMMIT, &v);
            c->step = CN_CONS_STEP_PRECOMMIT;
        }
        c->valid_value = v;
        c->valid_round = c->round;
        return 1;
    }
    return 0;
}

/* Applies every enabled rule until none is. */
static void run_rules(cn_cons *c) {
    while (!c->decided) {
        if (rule_decide(c))
            return;
        if (rule_skip(c))
            continue;
        cn_cons_round *s = cn_cons_find_round(c, c->round);
        if (!s)
            return;
        if (c->step == CN_CONS_STEP_PROPOSE && rule_proposal(c, s))
            continue;
        if (c->step >= CN_CONS_STEP_PREVOTE && !s->lock_done && rule_lock(c, s))
            continue;
        if (c->step == CN_CONS_STEP_PREVOTE) {
            cn_cons_value nil = nil_value();
            /* Lines 44-46: 2f+1 nil prevotes. */
            if (cn_cons_valset_quorum(&c->vs, cn_cons_voteset_power(&s->prevotes, &nil))) {
                cast_vote(c, CN_CONS_PRECOMMIT, &nil);
                c->step = CN_CONS_STEP_PRECOMMIT;
                continue;
            }
            /* Lines 34-35: 2f+1 prevotes of any kind, first time. */
            if (!s->prevote_timeout_done && cn_cons_valset_quorum(&c->vs, s->prevotes.any_power)) {
                s->prevote_timeout_done = 1;
                cn_cons_schedule(c, CN_CONS_TIMEOUT_PREVOTE, c->round);
                continue;
            }
        }
        /* Lines 47-48: 2f+1 precommits of any kind, first time. */
        if (!s->precommit_timeout_done && cn_cons_valset_quorum(&c->vs, s->precommits.any_power)) {
            s->precommit_timeout_done = 1;
            cn_cons_schedule(c, CN_CONS_TIMEOUT_PRECOMMIT, c->round);
            continue;
        }
        return;
    }
}

int cn_cons_init(cn_cons *c, const cn_cons_config *cfg, const cn_cons_sign_state *restored) {
    memset(c, 0, sizeof *c);
    c->cfg = *cfg;
    c->self = CN_CONS_NONE;
    c->locked_round = -1;
    c->valid_round = -1;
    if (!restored) {
        cn_cons_sign_state_empty(&c->sign);
        return 1;
    }
    /* Accept only a state the stored form could hold. */
    uint8_t buf[CN_CONS_SIGN_STATE_BYTES];
    cn_cons_sign_state_encode(restored, buf);
    if (!cn_cons_sign_state_decode(&c->sign, buf, sizeof buf)) {
        cn_cons_sign_state_empty(&c->sign);
        return 0;
    }
    return 1;
}

int cn_cons_start_height(cn_cons *c, uint64_t h, const cn_cons_valset *vs, uint32_t self) {
    c->nout = 0;
    if (h == 0 || !cn_cons_valset_check(vs) || (self != CN_CONS_NONE && self >= vs->n))
        return CN_CONS_INVALID;
    c->vs = *vs;
    c->cursor_steps = 0;
    c->self = self;
    c->started = 1;
    c->decided = 0;
    c->height = h;
    c->round = 0;
    c->locked_round = -1;
    c->locked_value = nil_value();
    c->valid_round = -1;
    c->valid_value = nil_value();
    memset(c->seen, 0, sizeof c->seen);
    memset(c->max_round_seen, 0, sizeof c->max_round_seen);
    for (uint32_t i = 0; i < CN_CONS_ROUND_SLOTS; i++)
        c->rounds[i].used = 0;

    const cn_cons_sign_state *sg = &c->sign;
    if (self != CN_CONS_NONE && sg->step != CN_CONS_STEP_NONE && sg->height == h) {
        /* Resume where the last signature left off: same round and step, same lock (a lock
         * is also a valid value, lines 38-43), and resend the last message. */
        if (sg->locked_round >= 0) {
            c->locked_round = sg->locked_round;
            c->locked_value = value_of(sg->locked_id);
            c->valid_round = sg->locked_round;
            c->valid_value = c->locked_value;
        }
        c->round = sg->round;
        if (sg->step == CN_CONS_STEP_PROPOSE) {
            c->step = CN_CONS_STEP_PROPOSE;
            cn_cons_round *s = cn_cons_get_round(c, c->round);
            cn_cons_schedule(c, CN_CONS_TIMEOUT_PROPOSE, c->round);
            if (s && s->proposer == self)
                propose(c, sg->value.id, sg->pol_round);
        } else {
            cn_cons_value v = sg->value;
            c->step = sg->step;
            (void)cn_cons_get_round(c, c->round);
            if (sg->step == CN_CONS_STEP_PREVOTE) {
                cast_vote(c, CN_CONS_PREVOTE, &v);
                cn_cons_schedule(c, CN_CONS_TIMEOUT_PREVOTE, c->round);
            } else {
                cast_vote(c, CN_CONS_PRECOMMIT, &v);
                cn_cons_schedule(c, CN_CONS_TIMEOUT_PRECOMMIT, c->round);
            }
        }
    } else {
        start_round(c, 0);
    }
    run_rules(c);
    return CN_CONS_OK;
}

/* Common checks for a message of height h and round r; 1 to go on, else *res is set. */
static int admit(const cn_cons *c, uint64_t h, uint32_t r, int *res) {
    if (!c->started) {
        *res = CN_CONS_ESTATE;
        return 0;
    }
    if (r > CN_CONS_MAX_ROUND) {
        *res = CN_CONS_INVALID;
        return 0;
    }
    if (h != c->height) {
        *res = h < c->height ? CN_CONS_STALE : CN_CONS_FUTURE;
        return 0;
    }
    return 1;
}

int cn_cons_on_vote(cn_cons *c, const cn_cons_vote *v) {
    int res;
    c->nout = 0;
    if (!admit(c, v->height, v->round, &res))
        return res;
    if ((v->type != CN_CONS_PREVOTE && v->type != CN_CONS_PRECOMMIT) || v->validator >= c->vs.n ||
        v->value.has_value > 1)
        return CN_CONS_INVALID;
    cn_cons_vote vote = *v;
    if (!vote.value.has_value)
        vote.value = nil_value();
    cn_cons_note_round(c, vote.validator, vote.round);
    res = cn_cons_store_vote(c, &vote);
    run_rules(c);
    return res;
}

int cn_cons_on_proposal(cn_cons *c, const cn_cons_proposal *p, int valid) {
    int res;
    c->nout = 0;
    if (!admit(c, p->height, p->round, &res))
        return res;
    if (p->pol_round < -1 || (int64_t)p->pol_round >= (int64_t)p->round)
        return CN_CONS_INVALID;
    /* Beyond the window the proposer cannot be checked cheaply: drop it (votes of that round
     * still count toward the round skip). */
    cn_cons_round *s = cn_cons_get_round(c, p->round);
    if (!s)
        return CN_CONS_STALE;
    if (p->proposer != s->proposer)
        return CN_CONS_INVALID;
    cn_cons_note_round(c, p->proposer, p->round);
    res = cn_cons_store_proposal(c, s, p, valid);
    run_rules(c);
    return res;
}

int cn_cons_on_timeout(cn_cons *c, cn_cons_timeout_kind kind, uint64_t h, uint32_t r) {
    c->nout = 0;
    if (!c->started)
        return CN_CONS_ESTATE;
    if (h != c->height || r != c->round || c->decided)
        return CN_CONS_STALE;
    cn_cons_value nil = nil_value();
    switch (kind) {
    case CN_CONS_TIMEOUT_PROPOSE: /* lines 57-60 */
        if (c->step != CN_CONS_STEP_PROPOSE)
            return CN_CONS_STALE;
        cast_vote(c, CN_CONS_PREVOTE, &nil);
        c->step = CN_CONS_STEP_PREVOTE;
        break;
    case CN_CONS_TIMEOUT_PREVOTE: /* lines 61-64 */
        if (c->step != CN_CONS_STEP_PREVOTE)
            return CN_CONS_STALE;
        cast_vote(c, CN_CONS_PRECOMMIT, &nil);
        c->step = CN_CONS_STEP_PRECOMMIT;
        break;
    case CN_CONS_TIMEOUT_PRECOMMIT: /* lines 65-67 */
        if (c->round >= CN_CONS_MAX_ROUND)
            return CN_CONS_STALE;
        start_round(c, c->round + 1);
        break;
    default:
        return CN_CONS_INVALID;
    }
    run_rules(c);
    return CN_CONS_OK;
}

int cn_cons_on_value(cn_cons *c, uint64_t h, uint32_t r, const uint8_t id[32]) {
    c->nout = 0;
    if (!c->started)
        return CN_CONS_ESTATE;
    if (c->decided || h != c->height || r != c->round || !c->awaiting_value ||
        c->step != CN_CONS_STEP_PROPOSE)
        return CN_CONS_STALE;
    c->awaiting_value = 0;
    propose(c, id, -1);
    run_rules(c);
    return CN_CONS_OK;
}

const cn_cons_output *cn_cons_outputs(const cn_cons *c, size_t *n) {
    *n = c->nout;
    return c->out;
}

size_t cn_cons_commit_votes(const cn_cons *c, uint32_t r, const uint8_t id[32], cn_cons_vote *out,
                            size_t max) {
    cn_cons_value want = value_of(id);
    size_t k = 0;
    for (uint32_t i = 0; i < CN_CONS_ROUND_SLOTS; i++) {
        const cn_cons_round *s = &c->rounds[i];
        if (!s->used || s->round != r)
            continue;
        for (uint32_t v = 0; v < s->precommits.n; v++) {
            if (!cn_cons_voteset_has(&s->precommits, v, &want))
                continue;
            const cn_cons_vote_rec *rec = &s->precommits.votes[v];
            if (k < max) {
                if (cn_cons_value_eq(&rec->vote.value, &want)) {
                    out[k] = rec->vote;
                } else { /* a conflicting vote counted for this value (voteset.h) */
                    memset(&out[k], 0, sizeof out[k]);
                    out[k].type = CN_CONS_PRECOMMIT;
                    out[k].height = c->height;
                    out[k].round = r;
                    out[k].value = want;
                    out[k].validator = v;
                }
            }
            k++;
        }
    }
    return k;
}
