/* Evidence on chain: equivocations recorded by the chain itself (docs/consensus.md "Evidence on
 * chain").
 *
 * A validator that signs two different votes of one type for one height and round (nil and a
 * block count as different) is caught by whichever node receives both; that node keeps the two
 * signed votes as a DuplicateVoteEvidence, and proposers put such evidence into their blocks
 * (Block.evidence, at most CN_EVIDENCE_PER_BLOCK, bound into the header by evidence_hash).
 * Every validator checks each one (cn_evidence_check) before it accepts the block; executing
 * the block records it once in state and emits the end-of-block event
 * `consensus.equivocation` (validator, height, round, type, included_at), so every node,
 * auditor and client sees the same record.
 *
 * Valid evidence: both votes decode, name the same validator as signer and as `validator`,
 * have the same type, height and round and different block ids, both signatures verify (kind
 * "vote", this chain), the height is below the including block's and at most
 * CN_EVIDENCE_MAX_AGE heights older, the signer was a validator of that height, and it is not
 * recorded yet.
 *
 * State (module byte 'e'): 'e' validator(32) height(8) round(4) type(1) -> be64 height of the
 * block that recorded it.
 */
#ifndef CLEARNODE_NODE_APP_EVIDENCE_H
#define CLEARNODE_NODE_APP_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#include "node/app/oracle.h"
#include "node/app/overlay.h"
#include "node/store/store.h"
#include "proto/codec.h"

#define CN_SK_EVIDENCE 'e'
#define CN_EVIDENCE_PER_BLOCK 16u
#define CN_EVIDENCE_MAX_AGE 100000u
#define CN_EVIDENCE_KEY_LEN (1 + 32 + 8 + 4 + 1)

/* What a piece of evidence says. */
typedef struct {
    uint8_t validator[32];
    uint64_t height;
    uint32_t round;
    uint8_t type; /* clearnode.v1.VoteType */
} cn_evidence_info;

/* The state key of the record. */
void cn_evidence_key(const cn_evidence_info *x, uint8_t out[CN_EVIDENCE_KEY_LEN]);

/* Checks one piece of evidence against committed state `r` for a block at `block_height`.
 * Returns 1 with *out filled, or 0 with a reason. */
int cn_evidence_check(cn_store_rtxn *r, const char *chain_id,
                      const Clearnode__V1__DuplicateVoteEvidence *ev, uint64_t block_height,
                      cn_evidence_info *out, char *why, size_t cap);

/* H_tag("clearnode/evidence", u32 len || encoding, for each) over the evidence as encoded by
 * cn_encode. Returns 1, or 0 when memory ran out. */
int cn_evidence_hash(Clearnode__V1__DuplicateVoteEvidence *const *ev, size_t n, uint8_t out[32]);

/* A block's evidence: count, header hash (empty without evidence), each piece valid, no piece
 * twice. Returns 1, or 0 with a reason. */
int cn_evidence_check_block(cn_store_rtxn *r, const char *chain_id,
                            const Clearnode__V1__Block *b, const Clearnode__V1__Header *h,
                            char *why, size_t cap);

/* Records the block's evidence (already checked) and emits the events. Returns 1, or 0 on a
 * storage or memory failure. */
int cn_evidence_end_block(cn_overlay *ov, const Clearnode__V1__Block *b, uint64_t height,
                          cn_evlist *ev);

#endif
