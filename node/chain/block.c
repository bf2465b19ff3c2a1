/* Block ids, tx roots and block building (see block.h). */
#include "node/chain/block.h"

#include "node/app/evidence.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/hash.h"
#include "crypto/merkle.h"

void cn_tx_id(const uint8_t *bytes, size_t len, uint8_t out[32]) {
    cn_hash_tagged(out, CN_TAG_TX, bytes, len);
}

int cn_tx_root(const uint8_t (*ids)[32], size_t n, uint8_t out[32]) {
    uint8_t(*leaves)[32] = malloc((n ? n : 1) * 32);
    if (!leaves)
        return 0;
    for (size_t i = 0; i < n; i++)
        cn_merkle_leaf(leaves[i], ids[i], 32);
    int ok = cn_merkle_root(out, (const uint8_t(*)[32])leaves, n, leaves);
    free(leaves);
    return ok;
}

static ProtobufCBinaryData bin(const uint8_t *p, size_t n) {
    ProtobufCBinaryData b = {p ? n : 0, (uint8_t *)(uintptr_t)p};
    return b;
}

int cn_block_build(const cn_header_fields *f, uint8_t *const *txs, const size_t *lens, size_t n,
                   uint8_t **out, size_t *out_len, uint8_t block_id[32]) {
    return cn_block_build_r(f, NULL, txs, lens, n, out, out_len, block_id);
}

int cn_block_build_r(const cn_header_fields *f, const uint8_t *reserves_root,
                     uint8_t *const *txs, const size_t *lens, size_t n, uint8_t **out,
                     size_t *out_len, uint8_t block_id[32]) {
    uint8_t(*ids)[32] = malloc((n ? n : 1) * 32);
    if (!ids)
        return 0;
    for (size_t i = 0; i < n; i++)
        cn_tx_id(txs[i], lens[i], ids[i]);
    uint8_t root[32], commit_hash[32];
    int ok = cn_tx_root((const uint8_t(*)[32])ids, n, root);
    free(ids);
    if (!ok)
        return 0;
    Clearnode__V1__Header h;
    clearnode__v1__header__init(&h);
    h.chain_id = (char *)(uintptr_t)f->chain_id;
    h.height = f->height;
    h.time = f->time_ms;
    h.last_block_id = bin(f->last_block_id, 32);
    if (f->last_commit) {
        cn_hash_tagged(commit_hash, CN_TAG_COMMIT, f->last_commit, f->last_commit_len);
        h.last_commit_hash = bin(commit_hash, 32);
    }
    h.tx_root = bin(root, 32);
    h.app_hash = bin(f->app_hash, 32);
    h.validators_hash = bin(f->validators_hash, 32);
    h.proposer = bin(f->proposer, 32);
    h.reserves_root = bin(reserves_root, 32);
    /* evidence: decoded for the Block, hashed as cn_encode gives it back (evidence.h) */
    uint8_t ev_hash[32];
    cn_pb *evpb = calloc(f->n_evidence ? f->n_evidence : 1, sizeof *evpb);
    Clearnode__V1__DuplicateVoteEvidence **evs =
        calloc(f->n_evidence ? f->n_evidence : 1, sizeof *evs);
    ok = evpb && evs;
    for (size_t i = 0; ok && i < f->n_evidence; i++) {
        ok = cn_decode(CN_MSG_EVIDENCE, f->evidence[i], f->evidence_lens[i], &evpb[i]) ==
             CN_DECODE_OK;
        if (ok)
            evs[i] = (Clearnode__V1__DuplicateVoteEvidence *)evpb[i].msg;
    }
    if (ok && f->n_evidence) {
        ok = cn_evidence_hash(evs, f->n_evidence, ev_hash);
        h.evidence_hash = bin(ev_hash, 32);
    }
    uint8_t *hdr = NULL;
    size_t hlen;
    if (!ok || !cn_encode(&h.base, CN_CAP_HEADER, &hdr, &hlen)) {
        ok = 0;
        goto out;
    }
    cn_hash_tagged(block_id, CN_TAG_BLOCK, hdr, hlen);
    Clearnode__V1__Block b;
    clearnode__v1__block__init(&b);
    b.header = bin(hdr, hlen);
    b.n_txs = n;
    ProtobufCBinaryData *tb = malloc((n ? n : 1) * sizeof *tb);
    cn_pb commit = {0};
    ok = tb != NULL;
    for (size_t i = 0; ok && i < n; i++)
        tb[i] = bin(txs[i], lens[i]);
    b.txs = tb;
    if (ok && f->last_commit) {
        ok = cn_decode(CN_MSG_COMMIT, f->last_commit, f->last_commit_len, &commit) ==
             CN_DECODE_OK;
        b.last_commit = ok ? (Clearnode__V1__Commit *)commit.msg : NULL;
    }
    b.n_evidence = f->n_evidence;
    b.evidence = evs;
    if (ok)
        ok = cn_encode(&b.base, CN_CAP_BLOCK, out, out_len);
    cn_pb_free(&commit);
    free(tb);
out:
    for (size_t i = 0; evpb && i < f->n_evidence; i++)
        cn_pb_free(&evpb[i]);
    free(evpb);
    free(evs);
    free(hdr);
    return ok;
}
