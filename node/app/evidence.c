/* Evidence on chain (see evidence.h). */
#include "node/app/evidence.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/bytes.h"
#include "crypto/hash.h"
#include "crypto/schnorr.h"
#include "node/app/state.h"
#include "node/app/validators.h"

void cn_evidence_key(const cn_evidence_info *x, uint8_t out[CN_EVIDENCE_KEY_LEN]) {
    out[0] = CN_SK_EVIDENCE;
    memcpy(out + 1, x->validator, 32);
    cn_put_be64(out + 33, x->height);
    cn_put_be32(out + 41, x->round);
    out[45] = x->type;
}

/* One signed vote of the pair: decoded body, signer = validator, signature. */
static int one_vote(const char *chain_id, const Clearnode__V1__Signed *s, cn_pb *pb,
                    const Clearnode__V1__Vote **v, char *why, size_t cap, const char *which) {
    if (!s || s->signer.len != 32 || s->sig.len != CN_SIG_LEN) {
        snprintf(why, cap, "evidence: vote %s: missing, or bad signer or signature length", which);
        return 0;
    }
    if (cn_decode(CN_MSG_VOTE, s->body.data, s->body.len, pb) != CN_DECODE_OK) {
        snprintf(why, cap, "evidence: vote %s does not decode", which);
        return 0;
    }
    *v = (const Clearnode__V1__Vote *)pb->msg;
    if ((*v)->validator.len != 32 || memcmp((*v)->validator.data, s->signer.data, 32) != 0 ||
        ((*v)->block_id.len != 0 && (*v)->block_id.len != 32) ||
        ((*v)->type != CLEARNODE__V1__VOTE_TYPE__VOTE_PREVOTE &&
         (*v)->type != CLEARNODE__V1__VOTE_TYPE__VOTE_PRECOMMIT)) {
        snprintf(why, cap, "evidence: vote %s is not a well-formed vote of its signer", which);
        cn_pb_free(pb);
        return 0;
    }
    if (!cn_verify_body(s->sig.data, s->signer.data, CN_TAG_SIG_VOTE, chain_id, s->body.data,
                        s->body.len)) {
        snprintf(why, cap, "evidence: vote %s: signature does not verify", which);
        cn_pb_free(pb);
        return 0;
    }
    return 1;
}

int cn_evidence_check(cn_store_rtxn *r, const char *chain_id,
                      const Clearnode__V1__DuplicateVoteEvidence *ev, uint64_t block_height,
                      cn_evidence_info *out, char *why, size_t cap) {
    cn_pb pa, pb;
    const Clearnode__V1__Vote *a, *b;
    if (!one_vote(chain_id, ev->vote_a, &pa, &a, why, cap, "a"))
        return 0;
    if (!one_vote(chain_id, ev->vote_b, &pb, &b, why, cap, "b")) {
        cn_pb_free(&pa);
        return 0;
    }
    int ok = 0;
    if (memcmp(ev->vote_a->signer.data, ev->vote_b->signer.data, 32) != 0) {
        snprintf(why, cap, "evidence: the votes have different signers");
    } else if (a->type != b->type || a->height != b->height || a->round != b->round) {
        snprintf(why, cap, "evidence: the votes are not for one type, height and round");
    } else if (a->block_id.len == b->block_id.len &&
               (a->block_id.len == 0 || memcmp(a->block_id.data, b->block_id.data, 32) == 0)) {
        snprintf(why, cap, "evidence: the votes are for the same block");
    } else if (a->height == 0 || a->height >= block_height ||
               block_height - a->height > CN_EVIDENCE_MAX_AGE) {
        snprintf(why, cap, "evidence: height %llu is not within the %u heights before %llu",
                 (unsigned long long)a->height, CN_EVIDENCE_MAX_AGE,
                 (unsigned long long)block_height);
    } else {
        memcpy(out->validator, ev->vote_a->signer.data, 32);
        out->height = a->height;
        out->round = a->round;
        out->type = (uint8_t)a->type;
        ok = 1;
    }
    cn_pb_free(&pa);
    cn_pb_free(&pb);
    if (!ok)
        return 0;
    cn_validators vs;
    int x = cn_validators_at(r, out->height, &vs);
    if (x != 1 || cn_validators_index(&vs, out->validator) < 0) {
        snprintf(why, cap, "evidence: the signer was not a validator at height %llu",
                 (unsigned long long)out->height);
        return 0;
    }
    uint8_t k[CN_EVIDENCE_KEY_LEN];
    cn_evidence_key(out, k);
    const void *v;
    size_t vl;
    cn_store_err e = cn_store_read_get(r, CN_DB_STATE, k, sizeof k, &v, &vl);
    if (e != CN_STORE_NOTFOUND) {
        snprintf(why, cap, "evidence: %s", e == CN_STORE_OK ? "already recorded" : "state read failed");
        return 0;
    }
    return 1;
}

int cn_evidence_hash(Clearnode__V1__DuplicateVoteEvidence *const *ev, size_t n, uint8_t out[32]) {
    cn_hasher h;
    cn_hasher_start(&h, CN_TAG_EVIDENCE);
    for (size_t i = 0; i < n; i++) {
        uint8_t *enc;
        size_t len;
        if (!cn_encode(&ev[i]->base, CN_CAP_EVIDENCE, &enc, &len))
            return 0;
        cn_hasher_bytes(&h, enc, len);
        free(enc);
    }
    cn_hasher_finish(&h, out);
    return 1;
}

int cn_evidence_check_block(cn_store_rtxn *r, const char *chain_id,
                            const Clearnode__V1__Block *b, const Clearnode__V1__Header *h,
                            char *why, size_t cap) {
    if (b->n_evidence == 0) {
        if (h->evidence_hash.len != 0) {
            snprintf(why, cap, "header.evidence_hash: set on a block without evidence");
            return 0;
        }
        return 1;
    }
    if (b->n_evidence > CN_EVIDENCE_PER_BLOCK) {
        snprintf(why, cap, "block has %zu pieces of evidence, at most %u", b->n_evidence,
                 CN_EVIDENCE_PER_BLOCK);
        return 0;
    }
    uint8_t eh[32];
    if (!cn_evidence_hash(b->evidence, b->n_evidence, eh) || h->evidence_hash.len != 32 ||
        memcmp(h->evidence_hash.data, eh, 32) != 0) {
        snprintf(why, cap, "header.evidence_hash: does not match the block's evidence");
        return 0;
    }
    uint8_t keys[CN_EVIDENCE_PER_BLOCK][CN_EVIDENCE_KEY_LEN];
    for (size_t i = 0; i < b->n_evidence; i++) {
        cn_evidence_info x;
        char w[200];
        if (!cn_evidence_check(r, chain_id, b->evidence[i], h->height, &x, w, sizeof w)) {
            snprintf(why, cap, "evidence %zu: %s", i, w);
            return 0;
        }
        cn_evidence_key(&x, keys[i]);
        for (size_t j = 0; j < i; j++)
            if (memcmp(keys[i], keys[j], CN_EVIDENCE_KEY_LEN) == 0) {
                snprintf(why, cap, "evidence %zu: the same equivocation twice", i);
                return 0;
            }
    }
    return 1;
}

int cn_evidence_end_block(cn_overlay *ov, const Clearnode__V1__Block *b, uint64_t height,
                          cn_evlist *ev) {
    for (size_t i = 0; b && i < b->n_evidence; i++) {
        const Clearnode__V1__DuplicateVoteEvidence *d = b->evidence[i];
        cn_pb pb;
        if (cn_decode(CN_MSG_VOTE, d->vote_a->body.data, d->vote_a->body.len, &pb) !=
            CN_DECODE_OK)
            return 0; /* checked by process_proposal: cannot happen */
        const Clearnode__V1__Vote *v = (const Clearnode__V1__Vote *)pb.msg;
        cn_evidence_info x;
        memcpy(x.validator, d->vote_a->signer.data, 32);
        x.height = v->height;
        x.round = v->round;
        x.type = (uint8_t)v->type;
        cn_pb_free(&pb);
        uint8_t k[CN_EVIDENCE_KEY_LEN], val[8];
        cn_evidence_key(&x, k);
        cn_put_be64(val, height);
        if (!cn_overlay_put(ov, k, sizeof k, val, sizeof val))
            return 0;
        cn_event *e = cn_evlist_add(ev, "consensus.equivocation");
        if (!e)
            return 0;
        cn_ev_hex(e, "validator", x.validator, 32);
        cn_ev_i64(e, "height", (int64_t)x.height);
        cn_ev_i64(e, "round", (int64_t)x.round);
        cn_ev_str(e, "type", x.type == CLEARNODE__V1__VOTE_TYPE__VOTE_PREVOTE ? "prevote"
                                                                             : "precommit");
        cn_ev_i64(e, "included_at", (int64_t)height);
    }
    return 1;
}
