/* Votes and commit certificates (DESIGN.md §7).
 *
 * A precommit is a Vote {PRECOMMIT, height, round, block_id, timestamp, validator} signed with
 * kind "vote" on the chain id. A commit certificate for height h is a Commit holding signed
 * precommits for one block id from validators with more than 2/3 of the voting power. The
 * single-validator producer makes a certificate of one vote; the BFT engine collects them
 * from peers. Both use these functions, and anyone (clearnode verify, block sync) checks a
 * certificate with cn_commit_verify.
 */
#ifndef CLEARNODE_NODE_CHAIN_CERT_H
#define CLEARNODE_NODE_CHAIN_CERT_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/schnorr.h"
#include "node/app/validators.h"
#include "proto/codec.h"

/* Signs a vote and encodes it as Signed bytes (malloc'd); block_id NULL is a nil vote.
 * Returns 1, or 0 on failure. */
int cn_vote_sign(const cn_keypair *kp, const char *chain_id, Clearnode__V1__VoteType type,
                 uint64_t height, uint32_t round, const uint8_t block_id[32], uint64_t ts_ms,
                 uint8_t **out, size_t *len);

/* Signs a proposal (kind "proposal") and encodes it as Signed bytes (malloc'd). */
int cn_proposal_sign(const cn_keypair *kp, const char *chain_id, uint64_t height,
                     uint32_t round, int32_t pol_round, const uint8_t block_id[32],
                     uint64_t ts_ms, uint8_t **out, size_t *len);

/* Encodes a Commit from signed precommit bytes. Returns 1, or 0 on failure. */
int cn_commit_encode(uint64_t height, uint32_t round, const uint8_t block_id[32],
                     uint8_t *const *votes, const size_t *lens, size_t n, uint8_t **out,
                     size_t *len);

/* Checks that `c` certifies block_id at height for the validator set of that height: every
 * precommit decodes, is a precommit for (height, c->round, block_id) signed by its validator,
 * validators are distinct members of vs, and their power exceeds 2/3 of vs's total.
 * Returns 1, or 0 with a reason. */
int cn_commit_verify(const char *chain_id, const cn_validators *vs,
                     const Clearnode__V1__Commit *c, uint64_t height, const uint8_t block_id[32],
                     char *why, size_t cap);

/* BFT time of the block that carries `c` (a commit already verified against vs), following a
 * block with time prev_time: max(weighted median of the precommit timestamps, prev_time + 1)
 * (node/consensus/bfttime.h). Returns 1, or 0 if the commit is empty or malformed. */
int cn_commit_bft_time(const cn_validators *vs, const Clearnode__V1__Commit *c,
                       uint64_t prev_time, uint64_t *out);

#endif
