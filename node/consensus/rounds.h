/* Internal to node/consensus: the per-height message store of the core (round slots,
 * proposals, votes), the proposer cursor and output emission. core.c holds the rules.
 *
 * Round slots. CN_CONS_ROUND_SLOTS rounds are kept at once. A slot is opened for a round
 * within CN_CONS_ROUND_WINDOW above the current one; when all are in use, the slot with the
 * least voting power behind it (prevote plus precommit power; ties: farthest from the current
 * round) is dropped, never the current round's. Forgetting messages is always safe: it is
 * indistinguishable from not having received them yet, and every action of the algorithm is
 * justified by the messages present. A faulty validator spamming rounds can only churn
 * slots that hold little power.
 */
#ifndef CLEARNODE_NODE_CONSENSUS_ROUNDS_H
#define CLEARNODE_NODE_CONSENSUS_ROUNDS_H

#include "node/consensus/core.h"

/* Appends an output (sets c->overflow if the list is full). */
void cn_cons_emit(cn_cons *c, const cn_cons_output *o);
/* Emits a TIMEOUT output for kind at the current height and round r. */
void cn_cons_schedule(cn_cons *c, cn_cons_timeout_kind kind, uint32_t r);

/* Proposer of round r at the current height (cursor: amortised O(n) per round). */
uint32_t cn_cons_proposer_of(cn_cons *c, uint32_t r);

/* The slot of round r, or NULL. */
cn_cons_round *cn_cons_find_round(cn_cons *c, uint32_t r);
/* The slot of round r, opening one if r is within the window; NULL otherwise. */
cn_cons_round *cn_cons_get_round(cn_cons *c, uint32_t r);

/* Stores a vote of the current height (validated by the caller); emits EVIDENCE on a first
 * equivocation. Returns a cn_cons_result. */
int cn_cons_store_vote(cn_cons *c, const cn_cons_vote *v);
/* Stores a proposal from the slot's proposer (validated by the caller) with its validity
 * verdict; emits PROPOSAL_CONFLICT on the first different proposal of the round. */
int cn_cons_store_proposal(cn_cons *c, cn_cons_round *s, const cn_cons_proposal *p, int valid);

/* Records that validator sent a message at round r (for the f+1 round skip). */
void cn_cons_note_round(cn_cons *c, uint32_t validator, uint32_t r);

#endif
