/* Validator set of one height: voting powers, quorum thresholds and proposer rotation.
 *
 * Thresholds (n = 3f + 1 generalised to weights): with T the total power,
 *   "2f+1" means power P with 3P > 2T   (more than two thirds)
 *   "f+1"  means power P with 3P > T    (more than one third)
 *
 * Proposer rotation is priority-based weighted round robin (the scheme Tendermint uses).
 * Each validator carries an integer priority. One rotation step:
 *   1. if max - min of the priorities exceeds 2T, divide every priority by
 *      ceil((max - min) / 2T) (truncating toward zero), so the spread stays bounded;
 *   2. subtract floor(sum / n) from every priority (centre them around zero);
 *   3. add each validator's power to its priority;
 *   4. the validator with the highest priority (lowest index on a tie) is selected, and T is
 *      subtracted from its priority.
 * The set handed to the core for height h holds the priorities at the start of h. The
 * proposer of (h, r) is the validator selected by step r + 1 from there, and the set of height
 * h + 1 is the set of h after exactly one step (cn_cons_valset_next_height), whatever round h
 * was decided in. Genesis starts every priority at 0. Over any window of T consecutive steps
 * a validator is selected about power/T of the time. Everything is integer arithmetic on
 * bounded values (see types.h limits), so every node computes the same sequence.
 */
#ifndef CLEARNODE_NODE_CONSENSUS_VALSET_H
#define CLEARNODE_NODE_CONSENSUS_VALSET_H

#include <stdint.h>

#include "node/consensus/types.h"

typedef struct {
    uint32_t n;
    int64_t total;
    int64_t power[CN_CONS_MAX_VALIDATORS];
    int64_t priority[CN_CONS_MAX_VALIDATORS];
} cn_cons_valset;

/* Priorities of a sane set stay well inside this bound; a set outside it is rejected. */
#define CN_CONS_MAX_PRIORITY (CN_CONS_MAX_TOTAL_POWER * 4)

/* Builds a genesis set: n validators (1..CN_CONS_MAX_VALIDATORS) with the given powers and
 * all priorities 0. Returns 1, or 0 if n or a power is out of range. */
int cn_cons_valset_init(cn_cons_valset *vs, const int64_t *powers, uint32_t n);
/* Returns 1 if vs satisfies every limit (n, powers, total, priorities), else 0. */
int cn_cons_valset_check(const cn_cons_valset *vs);

/* One rotation step (above); returns the selected validator's index. */
uint32_t cn_cons_valset_step(cn_cons_valset *vs);
/* Advances vs from the set of height h to the set of height h + 1. */
void cn_cons_valset_next_height(cn_cons_valset *vs);
/* Proposer of round `round` for the height whose starting set is vs (O(round * n)). */
uint32_t cn_cons_valset_proposer(const cn_cons_valset *vs, uint32_t round);

/* 3P > 2T: more than two thirds of the power. */
int cn_cons_valset_quorum(const cn_cons_valset *vs, int64_t power);
/* 3P > T: more than one third of the power. */
int cn_cons_valset_third(const cn_cons_valset *vs, int64_t power);

#endif
