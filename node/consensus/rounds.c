/* Message store of the consensus core: round slots, proposals, votes (see rounds.h). */
#include "node/consensus/rounds.h"

#include <string.h>

void cn_cons_emit(cn_cons *c, const cn_cons_output *o) {
    if (c->nout >= CN_CONS_MAX_OUTPUTS) {
        c->overflow = 1;
        return;
    }
    c->out[c->nout++] = *o;
}

void cn_cons_schedule(cn_cons *c, cn_cons_timeout_kind kind, uint32_t r) {
    cn_cons_output o;
    memset(&o, 0, sizeof o);
    o.kind = CN_CONS_OUT_TIMEOUT;
    o.u.timeout.kind = (uint8_t)kind;
    o.u.timeout.height = c->height;
    o.u.timeout.round = r;
    o.u.timeout.ms = cn_cons_timeout_ms(&c->cfg, kind, r);
    cn_cons_emit(c, &o);
}

uint32_t cn_cons_proposer_of(cn_cons *c, uint32_t r) {
    uint32_t steps = r + 1;
    if (c->cursor_steps == 0 || c->cursor_steps > steps) {
        c->cursor = c->vs;
        c->cursor_steps = 0;
    }
    while (c->cursor_steps < steps) {
        c->cursor_proposer = cn_cons_valset_step(&c->cursor);
        c->cursor_steps++;
    }
    return c->cursor_proposer;
}

cn_cons_round *cn_cons_find_round(cn_cons *c, uint32_t r) {
    for (uint32_t i = 0; i < CN_CONS_ROUND_SLOTS; i++)
        if (c->rounds[i].used && c->rounds[i].round == r)
            return &c->rounds[i];
    return NULL;
}

/* Power behind a slot: what dropping it would lose. */
static int64_t slot_score(const cn_cons_round *s) {
    return s->prevotes.any_power + s->precommits.any_power;
}

static uint32_t round_dist(uint32_t a, uint32_t b) {
    return a > b ? a - b : b - a;
}

cn_cons_round *cn_cons_get_round(cn_cons *c, uint32_t r) {
    cn_cons_round *s = cn_cons_find_round(c, r);
    if (s)
        return s;
    if (r > CN_CONS_MAX_ROUND || r > c->round + CN_CONS_ROUND_WINDOW)
        return NULL;
    for (uint32_t i = 0; i < CN_CONS_ROUND_SLOTS && !s; i++)
        if (!c->rounds[i].used)
            s = &c->rounds[i];
    if (!s) {
        for (uint32_t i = 0; i < CN_CONS_ROUND_SLOTS; i++) {
            cn_cons_round *t = &c->rounds[i];
            if (t->round == c->round)
                continue;
            if (!s || slot_score(t) < slot_score(s) ||
                (slot_score(t) == slot_score(s) &&
                 round_dist(t->round, c->round) > round_dist(s->round, c->round)))
                s = t;
        }
    }
    s->used = 1;
    s->round = r;
    s->proposer = cn_cons_proposer_of(c, r);
    s->nprops = 0;
    s->prop_conflict_reported = 0;
    s->prevote_timeout_done = 0;
    s->precommit_timeout_done = 0;
    s->lock_done = 0;
    cn_cons_voteset_reset(&s->prevotes, c->vs.n);
    cn_cons_voteset_reset(&s->precommits, c->vs.n);
    return s;
}

/* 1 if value is nil or the value of a proposal kept at this height: the values a
 * conflicting vote may count for (voteset.h). */
static int known_value(const cn_cons *c, const cn_cons_value *value) {
    if (!value->has_value)
        return 1;
    for (uint32_t i = 0; i < CN_CONS_ROUND_SLOTS; i++) {
        const cn_cons_round *s = &c->rounds[i];
        if (!s->used)
            continue;
        for (uint32_t k = 0; k < s->nprops; k++)
            if (memcmp(s->props[k].id, value->id, 32) == 0)
                return 1;
    }
    return 0;
}

int cn_cons_store_vote(cn_cons *c, const cn_cons_vote *v) {
    cn_cons_round *s = cn_cons_get_round(c, v->round);
    if (!s)
        return CN_CONS_STALE;
    cn_cons_voteset *set = v->type == CN_CONS_PREVOTE ? &s->prevotes : &s->precommits;
    const cn_cons_vote *counted = NULL;
    int extra_ok = set->votes[v->validator].has && known_value(c, &v->value);
    switch (cn_cons_voteset_add(set, &c->vs, v, extra_ok, &counted)) {
    case CN_CONS_ADD_OK:
        return CN_CONS_OK;
    case CN_CONS_ADD_DUP:
        return CN_CONS_DUPLICATE;
    case CN_CONS_ADD_EQUIVOCATION: {
        cn_cons_output o;
        memset(&o, 0, sizeof o);
        o.kind = CN_CONS_OUT_EVIDENCE;
        o.u.evidence.a = *counted;
        o.u.evidence.b = *v;
        cn_cons_emit(c, &o);
        return CN_CONS_CONFLICT;
    }
    case CN_CONS_ADD_EQUIVOCATION_AGAIN:
        return CN_CONS_CONFLICT;
    }
    return CN_CONS_INVALID;
}

/* Power of the votes for id in the slot (both types): how much a proposal matters. */
static int64_t support(const cn_cons_round *s, const uint8_t id[32]) {
    cn_cons_value v;
    v.has_value = 1;
    memcpy(v.id, id, 32);
    return cn_cons_voteset_power(&s->prevotes, &v) + cn_cons_voteset_power(&s->precommits, &v);
}

int cn_cons_store_proposal(cn_cons *c, cn_cons_round *s, const cn_cons_proposal *p, int valid) {
    for (uint32_t i = 0; i < s->nprops; i++)
        if (s->props[i].pol_round == p->pol_round && memcmp(s->props[i].id, p->id, 32) == 0)
            return CN_CONS_DUPLICATE;
    if (s->nprops > 0 && !s->prop_conflict_reported) {
        cn_cons_output o;
        memset(&o, 0, sizeof o);
        o.kind = CN_CONS_OUT_PROPOSAL_CONFLICT;
        o.u.proposal_conflict.a = s->props[0];
        o.u.proposal_conflict.b = *p;
        cn_cons_emit(c, &o);
        s->prop_conflict_reported = 1;
    }
    uint32_t at = s->nprops;
    if (at == CN_CONS_MAX_PROPOSALS) {
        /* Full: keep the first (it drove this node's prevote) and replace the least supported
         * other one if the newcomer has more votes behind it. */
        at = 1;
        for (uint32_t i = 2; i < CN_CONS_MAX_PROPOSALS; i++)
            if (support(s, s->props[i].id) < support(s, s->props[at].id))
                at = i;
        if (support(s, p->id) <= support(s, s->props[at].id))
            return CN_CONS_CONFLICT;
    } else {
        s->nprops++;
    }
    s->props[at] = *p;
    s->prop_valid[at] = valid ? 1 : 0;
    return at == 0 ? CN_CONS_OK : CN_CONS_CONFLICT;
}

void cn_cons_note_round(cn_cons *c, uint32_t validator, uint32_t r) {
    if (!c->seen[validator] || r > c->max_round_seen[validator]) {
        c->seen[validator] = 1;
        c->max_round_seen[validator] = r;
    }
}
