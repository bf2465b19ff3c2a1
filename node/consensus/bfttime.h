/* BFT time: block time from a commit's precommit timestamps.
 *
 * Rule. Block h + 1 carries the commit of block h. Its time is
 *     time(h + 1) = max(M, time(h) + 1)
 * where M is the weighted median of the commit's precommit timestamps: sort the precommits by
 * timestamp (ties by validator index), M is the smallest timestamp t such that the power of
 * the precommits with timestamp <= t is more than half the power of the commit.
 *
 * Why it is safe: a commit holds more than 2/3 of the total power and faulty validators hold
 * less than 1/3, so they hold less than half of the commit; M therefore lies between the
 * smallest and largest timestamp of correct validators, and faulty ones cannot move it
 * outside that range. Correct validators sign precommits with cn_cons_vote_time (never
 * earlier than time(h) + 1), so M > time(h) already; the max() only makes strict increase
 * an invariant that holds by construction for every commit a node accepts.
 * Times are milliseconds since the Unix epoch.
 */
#ifndef CLEARNODE_NODE_CONSENSUS_BFTTIME_H
#define CLEARNODE_NODE_CONSENSUS_BFTTIME_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t validator;
    int64_t power;
    uint64_t timestamp;
} cn_cons_timed_vote;

/* Block time for a commit whose precommits are v[0..n) (sorted in place), following a block
 * with time prev_time. Returns 1 and sets *out, or 0 if n is 0, a power is not positive, or
 * prev_time + 1 overflows. */
int cn_cons_bft_time(cn_cons_timed_vote *v, size_t n, uint64_t prev_time, uint64_t *out);

/* Timestamp a correct validator puts in a vote: max(now, prev_time + 1) (saturating). */
uint64_t cn_cons_vote_time(uint64_t now, uint64_t prev_time);

#endif
