/* Plain data types of the consensus core (docs/consensus.md).
 *
 * The core works on these structs only: no encoding, no signatures, no clock. A validator is
 * named by its index in the height's validator set; a value (a block) is named by its 32-byte
 * id. The node layer maps a decoded, signature-checked clearnode.v1.Vote or Proposal to these
 * structs before handing it in, and maps the core's outputs back to signed messages.
 *
 * Limits are compile-time constants so the core needs no allocation: a consortium chain has
 * 4 or 7 validators, CN_CONS_MAX_VALIDATORS leaves ample room.
 */
#ifndef CLEARNODE_NODE_CONSENSUS_TYPES_H
#define CLEARNODE_NODE_CONSENSUS_TYPES_H

#include <stdint.h>

#define CN_CONS_MAX_VALIDATORS 64u
/* Voting power of one validator is 1..CN_CONS_MAX_POWER and the total stays below
 * CN_CONS_MAX_TOTAL_POWER, so tallies (3 * power) and proposer priorities never overflow. */
#define CN_CONS_MAX_POWER ((int64_t)1 << 40)
#define CN_CONS_MAX_TOTAL_POWER ((int64_t)1 << 46)
/* Rounds above this are rejected (pol_round must fit the wire's sint32). */
#define CN_CONS_MAX_ROUND ((uint32_t)1 << 30)
/* No validator / "not a validator" index. */
#define CN_CONS_NONE UINT32_MAX

typedef enum {
    CN_CONS_PREVOTE = 1,
    CN_CONS_PRECOMMIT = 2
} cn_cons_vote_type;

/* Steps in the order the algorithm moves through them in one round. */
typedef enum {
    CN_CONS_STEP_NONE = 0, /* sign state only: nothing signed yet */
    CN_CONS_STEP_PROPOSE = 1,
    CN_CONS_STEP_PREVOTE = 2,
    CN_CONS_STEP_PRECOMMIT = 3
} cn_cons_step;

typedef enum {
    CN_CONS_TIMEOUT_PROPOSE = 1,
    CN_CONS_TIMEOUT_PREVOTE = 2,
    CN_CONS_TIMEOUT_PRECOMMIT = 3
} cn_cons_timeout_kind;

/* A block id, or nil when has_value is 0 (value bytes are then all zero). */
typedef struct {
    uint8_t has_value;
    uint8_t id[32];
} cn_cons_value;

/* ⟨PREVOTE|PRECOMMIT, height, round, id(v) or nil⟩ from validator. timestamp is the
 * validator's clock in ms as signed; the core carries it along (for commits and evidence)
 * and never interprets it. */
typedef struct {
    uint8_t type; /* cn_cons_vote_type */
    uint64_t height;
    uint32_t round;
    cn_cons_value value;
    uint64_t timestamp;
    uint32_t validator;
} cn_cons_vote;

/* ⟨PROPOSAL, height, round, v, pol_round⟩ from proposer; pol_round -1 = none. */
typedef struct {
    uint64_t height;
    uint32_t round;
    int32_t pol_round;
    uint8_t id[32];
    uint64_t timestamp;
    uint32_t proposer;
} cn_cons_proposal;

#endif
