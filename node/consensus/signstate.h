/* Signing state: the guard against conflicting signatures and what survives a restart.
 *
 * The state records the last message this validator signed, as (height, round, step) plus
 * the value signed, and the validator's lock at that height (the round and value of its
 * latest non-nil precommit there; in Algorithm 1 the lock changes only when a precommit for
 * a value is cast, so this is exactly lockedRound/lockedValue).
 *
 * Rule (cn_cons_sign_check): a new signature at (h, r, s) is allowed only if (h, r, s) is
 * lexicographically greater than the last one (steps ordered propose < prevote < precommit).
 * Signing the same (h, r, s) again is allowed only for the identical value (and pol_round for
 * a proposal): the node must then resend the stored signed message rather than sign again.
 * Anything else is refused. Since a correct core never moves backwards, a refusal only
 * happens after a restart that lost in-memory state, and then it is exactly what prevents a
 * conflicting signature.
 *
 * Persistence contract (docs/consensus.md): the node writes the new state and the signed
 * message durably (fsync) before sending the message, and hands the last persisted state to
 * cn_cons_init at start. cn_cons_sign_state_encode/decode give the stored layout, a fixed
 * 87-byte big-endian record; decode rejects anything that is not a well-formed state, and
 * the node must then refuse to start rather than guess.
 */
#ifndef CLEARNODE_NODE_CONSENSUS_SIGNSTATE_H
#define CLEARNODE_NODE_CONSENSUS_SIGNSTATE_H

#include <stddef.h>
#include <stdint.h>

#include "node/consensus/types.h"

typedef struct {
    uint64_t height;       /* 0 with step NONE: nothing signed yet */
    uint32_t round;
    uint8_t step;          /* cn_cons_step of the last signature */
    cn_cons_value value;   /* value signed then (nil for a nil vote) */
    int32_t pol_round;     /* of the last proposal; -1 for votes */
    int32_t locked_round;  /* lock at `height`, -1 if none */
    uint8_t locked_id[32]; /* zero when not locked */
} cn_cons_sign_state;

#define CN_CONS_SIGN_STATE_BYTES 87u

typedef enum {
    CN_CONS_SIGN_NEW = 0,    /* allowed: a new signature */
    CN_CONS_SIGN_SAME = 1,   /* identical to the last signature: resend it */
    CN_CONS_SIGN_REFUSE = 2  /* would conflict or go backwards: do not sign */
} cn_cons_sign_verdict;

/* The state of a validator that never signed. */
void cn_cons_sign_state_empty(cn_cons_sign_state *s);

/* The rule above, for signing `value` at (h, r, step); pol_round only for proposals. */
cn_cons_sign_verdict cn_cons_sign_check(const cn_cons_sign_state *s, uint64_t h, uint32_t r,
                                        cn_cons_step step, const cn_cons_value *value,
                                        int32_t pol_round);
/* Records a signature allowed by cn_cons_sign_check. A precommit for a value sets the lock;
 * the first signature at a new height clears the lock of the old one. */
void cn_cons_sign_record(cn_cons_sign_state *s, uint64_t h, uint32_t r, cn_cons_step step,
                         const cn_cons_value *value, int32_t pol_round);

/* Writes the 87-byte stored form. */
void cn_cons_sign_state_encode(const cn_cons_sign_state *s, uint8_t out[CN_CONS_SIGN_STATE_BYTES]);
/* Parses the stored form; returns 1, or 0 if len is wrong or any field is inconsistent. */
int cn_cons_sign_state_decode(cn_cons_sign_state *s, const uint8_t *in, size_t len);

#endif
