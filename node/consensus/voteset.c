/* Vote set with per-value tally and equivocation detection (see voteset.h). */
#include "node/consensus/voteset.h"

#include <string.h>

int cn_cons_value_eq(const cn_cons_value *a, const cn_cons_value *b) {
    if (a->has_value != b->has_value)
        return 0;
    return !a->has_value || memcmp(a->id, b->id, 32) == 0;
}

void cn_cons_voteset_reset(cn_cons_voteset *s, uint32_t n) {
    s->n = n;
    s->ntally = 0;
    s->any_power = 0;
    s->quorum = -1;
    memset(s->votes, 0, n * sizeof s->votes[0]);
}

/* Index of value in the tally, or -1. */
static int32_t find_tally(const cn_cons_voteset *s, const cn_cons_value *value) {
    for (uint32_t i = 0; i < s->ntally; i++)
        if (cn_cons_value_eq(&s->tally[i].value, value))
            return (int32_t)i;
    return -1;
}

/* Counts validator's power for value, once. */
static void count(cn_cons_voteset *s, const cn_cons_valset *vs, uint32_t validator,
                  const cn_cons_value *value) {
    int32_t t = find_tally(s, value);
    if (t < 0) {
        if (s->ntally == CN_CONS_TALLY_MAX)
            return; /* unreachable with the caller's bound; not counting is safe */
        t = (int32_t)s->ntally++;
        s->tally[t].value = *value;
        s->tally[t].power = 0;
        s->tally[t].voters = 0;
    }
    uint64_t bit = (uint64_t)1 << validator;
    if (s->tally[t].voters & bit)
        return;
    s->tally[t].voters |= bit;
    s->tally[t].power += vs->power[validator];
    if (s->quorum < 0 && cn_cons_valset_quorum(vs, s->tally[t].power))
        s->quorum = t;
}

cn_cons_add_result cn_cons_voteset_add(cn_cons_voteset *s, const cn_cons_valset *vs,
                                       const cn_cons_vote *v, int extra_ok,
                                       const cn_cons_vote **first) {
    cn_cons_vote_rec *rec = &s->votes[v->validator];
    if (!rec->has) {
        rec->has = 1;
        rec->vote = *v;
        s->any_power += vs->power[v->validator];
        count(s, vs, v->validator, &v->value);
        return CN_CONS_ADD_OK;
    }
    if (cn_cons_value_eq(&rec->vote.value, &v->value))
        return CN_CONS_ADD_DUP;
    *first = &rec->vote;
    if (extra_ok)
        count(s, vs, v->validator, &v->value);
    if (rec->reported)
        return CN_CONS_ADD_EQUIVOCATION_AGAIN;
    rec->reported = 1;
    return CN_CONS_ADD_EQUIVOCATION;
}

int cn_cons_voteset_has(const cn_cons_voteset *s, uint32_t validator, const cn_cons_value *value) {
    int32_t t = find_tally(s, value);
    return t >= 0 && ((s->tally[t].voters >> validator) & 1u);
}

int64_t cn_cons_voteset_power(const cn_cons_voteset *s, const cn_cons_value *value) {
    int32_t t = find_tally(s, value);
    return t < 0 ? 0 : s->tally[t].power;
}

const cn_cons_value *cn_cons_voteset_quorum_value(const cn_cons_voteset *s) {
    return s->quorum < 0 ? NULL : &s->tally[s->quorum].value;
}
