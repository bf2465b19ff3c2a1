/* Blocks: ids, tx roots and building a proposal (DESIGN.md §4, §7).
 *
 * block id        = H_tag("clearnode/block", encoded Header bytes)
 * tx id           = H_tag("clearnode/tx", Signed bytes)
 * tx_root         = Merkle root (crypto/merkle.h) over leaf(tx id) of each tx in block order
 * last_commit_hash = H_tag("clearnode/commit", encoded Commit), empty at height 1
 *
 * The proposer (the single-validator producer, later the BFT proposer) builds a block with
 * cn_block_build; every validator checks it with cn_app_process_proposal.
 */
#ifndef CLEARNODE_NODE_CHAIN_BLOCK_H
#define CLEARNODE_NODE_CHAIN_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "proto/codec.h"

void cn_tx_id(const uint8_t *bytes, size_t len, uint8_t out[32]);

/* Merkle root over tx ids. Returns 1, or 0 if memory ran out. */
int cn_tx_root(const uint8_t (*ids)[32], size_t n, uint8_t out[32]);

typedef struct {
    const char *chain_id;
    uint64_t height;
    uint64_t time_ms;
    const uint8_t *last_block_id;  /* NULL at height 1 */
    const uint8_t *last_commit;    /* encoded Commit of height-1; NULL at height 1 */
    size_t last_commit_len;
    const uint8_t *app_hash;       /* 32 bytes: app hash after height-1 */
    const uint8_t *validators_hash;
    const uint8_t *proposer;
    /* equivocation evidence to record: encoded DuplicateVoteEvidence (node/app/evidence.h) */
    uint8_t *const *evidence;
    const size_t *evidence_lens;
    size_t n_evidence;
} cn_header_fields;

/* Encodes a Block of the given txs (Signed bytes) and returns its id. Returns 1, or 0 on no
 * memory or a block over CN_CAP_BLOCK. */
int cn_block_build(const cn_header_fields *f, uint8_t *const *txs, const size_t *lens, size_t n,
                   uint8_t **out, size_t *out_len, uint8_t block_id[32]);
/* The same, with the header's reserves_root (32 bytes, or NULL before the first reserves
 * epoch is published; node/app/reserves.h). */
int cn_block_build_r(const cn_header_fields *f, const uint8_t *reserves_root,
                     uint8_t *const *txs, const size_t *lens, size_t n, uint8_t **out,
                     size_t *out_len, uint8_t block_id[32]);

#endif
