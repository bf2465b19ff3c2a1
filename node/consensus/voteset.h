/* Votes of one type (prevote or precommit) in one round of one height, with a power tally per
 * value.
 *
 * Counting. A validator's first vote in the set always counts. A second vote from it for a
 * different value (or nil versus a value) is equivocation: cn_cons_voteset_add reports it with
 * the first vote, so the caller can emit evidence. The conflicting vote is NOT counted, with
 * one exception the caller decides (extra_ok): when its value is nil or a value some proposal
 * at this height proposes, it also counts toward that value (each validator at most once per
 * value). Algorithm 1 counts messages, so a faulty validator's two votes each count for their
 * own value; without the exception a validator that sends X to some peers and nil to others
 * can leave correct validators locked on X while the rest can never see the POL for X, and
 * the chain stalls. Safety is unaffected: it rests on correct validators never voting twice,
 * and two values can both reach 2/3 of one set only if more than 1/3 of the power
 * equivocates. The exception is bounded: values that no proposal names never count twice.
 *
 * "any" power (2f+1 of anything) counts each validator once. The set remembers the first
 * value that crossed two thirds.
 */
#ifndef CLEARNODE_NODE_CONSENSUS_VOTESET_H
#define CLEARNODE_NODE_CONSENSUS_VOTESET_H

#include <stdint.h>

#include "node/consensus/types.h"
#include "node/consensus/valset.h"

_Static_assert(CN_CONS_MAX_VALIDATORS <= 64, "voter bitmaps are 64 bits");

typedef struct {
    uint8_t has;      /* a vote from this validator is counted */
    uint8_t reported; /* equivocation by this validator already reported */
    cn_cons_vote vote;
} cn_cons_vote_rec;

typedef struct {
    cn_cons_value value;
    int64_t power;
    uint64_t voters; /* bit i: validator i counted here */
} cn_cons_tally;

/* Distinct values a set can count: every validator's first vote, plus nil and the values of
 * the proposals a height keeps (CN_CONS_ROUND_SLOTS * CN_CONS_MAX_PROPOSALS = 64). */
#define CN_CONS_TALLY_MAX (CN_CONS_MAX_VALIDATORS + 65u)

typedef struct {
    uint32_t n;        /* validators in the set */
    uint32_t ntally;   /* distinct values seen */
    int64_t any_power; /* power of all counted votes */
    int32_t quorum;    /* index in tally of the value with more than 2/3, or -1 */
    cn_cons_tally tally[CN_CONS_TALLY_MAX];
    cn_cons_vote_rec votes[CN_CONS_MAX_VALIDATORS];
} cn_cons_voteset;

typedef enum {
    CN_CONS_ADD_OK = 0,       /* counted */
    CN_CONS_ADD_DUP = 1,      /* already counted */
    CN_CONS_ADD_EQUIVOCATION = 2, /* conflicts with the first vote: first report */
    CN_CONS_ADD_EQUIVOCATION_AGAIN = 3 /* conflicts again: already reported */
} cn_cons_add_result;

/* Empties the set for a validator set of n validators (touches only n entries). */
void cn_cons_voteset_reset(cn_cons_voteset *s, uint32_t n);
/* Adds v (v->validator < n, checked by the caller) with the validator's power. On an
 * equivocation *first points to the validator's first vote, and v also counts for its value
 * if extra_ok (see above). */
cn_cons_add_result cn_cons_voteset_add(cn_cons_voteset *s, const cn_cons_valset *vs,
                                       const cn_cons_vote *v, int extra_ok,
                                       const cn_cons_vote **first);
/* Returns 1 if validator's vote for value is counted in the set. */
int cn_cons_voteset_has(const cn_cons_voteset *s, uint32_t validator, const cn_cons_value *value);
/* Power of the votes for value (nil when value->has_value is 0). */
int64_t cn_cons_voteset_power(const cn_cons_voteset *s, const cn_cons_value *value);
/* The value with more than two thirds of the power, or NULL. */
const cn_cons_value *cn_cons_voteset_quorum_value(const cn_cons_voteset *s);

/* Returns 1 if a and b are the same value (both nil, or the same id). */
int cn_cons_value_eq(const cn_cons_value *a, const cn_cons_value *b);

#endif
