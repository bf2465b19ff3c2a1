/* Vote signing and commit certificate checks (see cert.h). */
#include "node/chain/cert.h"

#include "node/consensus/bfttime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int sign_wrap(const cn_keypair *kp, const char *chain_id, cn_tag_id tag,
                     const uint8_t *body, size_t blen, size_t out_cap, uint8_t **out,
                     size_t *len);

int cn_vote_sign(const cn_keypair *kp, const char *chain_id, Clearnode__V1__VoteType type,
                 uint64_t height, uint32_t round, const uint8_t block_id[32], uint64_t ts_ms,
                 uint8_t **out, size_t *len) {
    Clearnode__V1__Vote v;
    clearnode__v1__vote__init(&v);
    v.type = type;
    v.height = height;
    v.round = round;
    v.block_id.data = (uint8_t *)(uintptr_t)block_id;
    v.block_id.len = block_id ? 32 : 0;
    v.timestamp = ts_ms;
    v.validator.data = (uint8_t *)(uintptr_t)kp->pub;
    v.validator.len = 32;
    uint8_t *body;
    size_t blen;
    if (!cn_encode(&v.base, CN_CAP_VOTE, &body, &blen))
        return 0;
    int ok = sign_wrap(kp, chain_id, CN_TAG_SIG_VOTE, body, blen, CN_CAP_VOTE, out, len);
    free(body);
    return ok;
}

int cn_proposal_sign(const cn_keypair *kp, const char *chain_id, uint64_t height,
                     uint32_t round, int32_t pol_round, const uint8_t block_id[32],
                     uint64_t ts_ms, uint8_t **out, size_t *len) {
    Clearnode__V1__Proposal p;
    clearnode__v1__proposal__init(&p);
    p.height = height;
    p.round = round;
    p.pol_round = pol_round;
    p.block_id.data = (uint8_t *)(uintptr_t)block_id;
    p.block_id.len = 32;
    p.timestamp = ts_ms;
    p.proposer.data = (uint8_t *)(uintptr_t)kp->pub;
    p.proposer.len = 32;
    uint8_t *body;
    size_t blen;
    if (!cn_encode(&p.base, CN_CAP_PROPOSAL, &body, &blen))
        return 0;
    int ok = sign_wrap(kp, chain_id, CN_TAG_SIG_PROPOSAL, body, blen, CN_CAP_PROPOSAL, out, len);
    free(body);
    return ok;
}

/* Signs body with kind `tag` and encodes Signed{body, signer, sig}. */
static int sign_wrap(const cn_keypair *kp, const char *chain_id, cn_tag_id tag,
                     const uint8_t *body, size_t blen, size_t out_cap, uint8_t **out,
                     size_t *len) {
    uint8_t sig[CN_SIG_LEN];
    if (!cn_sign_body(kp, sig, tag, chain_id, body, blen))
        return 0;
    Clearnode__V1__Signed s;
    clearnode__v1__signed__init(&s);
    s.body.data = (uint8_t *)(uintptr_t)body;
    s.body.len = blen;
    s.signer.data = (uint8_t *)(uintptr_t)kp->pub;
    s.signer.len = 32;
    s.sig.data = sig;
    s.sig.len = CN_SIG_LEN;
    return cn_encode(&s.base, out_cap, out, len);
}

int cn_commit_encode(uint64_t height, uint32_t round, const uint8_t block_id[32],
                     uint8_t *const *votes, const size_t *lens, size_t n, uint8_t **out,
                     size_t *len) {
    Clearnode__V1__Commit c;
    clearnode__v1__commit__init(&c);
    c.height = height;
    c.round = round;
    c.block_id.data = (uint8_t *)(uintptr_t)block_id;
    c.block_id.len = 32;
    cn_pb *pbs = calloc(n ? n : 1, sizeof *pbs);
    Clearnode__V1__Signed **ps = calloc(n ? n : 1, sizeof *ps);
    int ok = pbs && ps;
    for (size_t i = 0; ok && i < n; i++) {
        ok = cn_decode(CN_MSG_SIGNED, votes[i], lens[i], &pbs[i]) == CN_DECODE_OK;
        if (ok)
            ps[i] = (Clearnode__V1__Signed *)pbs[i].msg;
    }
    if (ok) {
        c.n_precommits = n;
        c.precommits = ps;
        ok = cn_encode(&c.base, CN_CAP_COMMIT, out, len);
    }
    for (size_t i = 0; pbs && i < n; i++)
        cn_pb_free(&pbs[i]);
    free(pbs);
    free(ps);
    return ok;
}

/* Verifies each precommit against the validator set; fills tv[] (validator index, power,
 * timestamp) and returns the power that signed, or -1 with why. */
static int64_t tally(const char *chain_id, const cn_validators *vs,
                     const Clearnode__V1__Commit *c, uint64_t height, const uint8_t *block_id,
                     cn_cons_timed_vote *tv, size_t *n_tv, char *why, size_t cap) {
    int64_t power = 0;
    uint8_t seen[CN_VALIDATORS_MAX] = {0};
    *n_tv = 0;
    if (c->n_precommits > vs->n) {
        snprintf(why, cap, "commit has %zu precommits for %u validators", c->n_precommits,
                 vs->n);
        return -1;
    }
    for (size_t i = 0; i < c->n_precommits; i++) {
        const Clearnode__V1__Signed *s = c->precommits[i];
        if (s->signer.len != 32 || s->sig.len != CN_SIG_LEN) {
            snprintf(why, cap, "precommit %zu: bad signer or signature length", i);
            return -1;
        }
        int idx = cn_validators_index(vs, s->signer.data);
        if (idx < 0) {
            snprintf(why, cap, "precommit %zu: signer is not a validator of height %llu", i,
                     (unsigned long long)height);
            return -1;
        }
        if (seen[idx]++) {
            snprintf(why, cap, "precommit %zu: validator %d voted twice", i, idx);
            return -1;
        }
        cn_pb pb;
        if (cn_decode(CN_MSG_VOTE, s->body.data, s->body.len, &pb) != CN_DECODE_OK) {
            snprintf(why, cap, "precommit %zu: vote does not decode", i);
            return -1;
        }
        const Clearnode__V1__Vote *v = (const Clearnode__V1__Vote *)pb.msg;
        int ok = v->type == CLEARNODE__V1__VOTE_TYPE__VOTE_PRECOMMIT && v->height == height &&
                 v->round == c->round && v->block_id.len == 32 &&
                 (!block_id || memcmp(v->block_id.data, block_id, 32) == 0) &&
                 v->validator.len == 32 && memcmp(v->validator.data, s->signer.data, 32) == 0;
        uint64_t t = v->timestamp;
        cn_pb_free(&pb);
        if (!ok) {
            snprintf(why, cap, "precommit %zu: not a precommit for this height, round and block",
                     i);
            return -1;
        }
        if (!cn_verify_body(s->sig.data, s->signer.data, CN_TAG_SIG_VOTE, chain_id,
                            s->body.data, s->body.len)) {
            snprintf(why, cap, "precommit %zu: signature does not verify", i);
            return -1;
        }
        power += vs->power[idx];
        tv[(*n_tv)++] = (cn_cons_timed_vote){(uint32_t)idx, vs->power[idx], t};
    }
    return power;
}

int cn_commit_verify(const char *chain_id, const cn_validators *vs,
                     const Clearnode__V1__Commit *c, uint64_t height, const uint8_t block_id[32],
                     char *why, size_t cap) {
    if (c->height != height || c->block_id.len != 32 ||
        memcmp(c->block_id.data, block_id, 32) != 0) {
        snprintf(why, cap, "commit is for another height or block");
        return 0;
    }
    cn_cons_timed_vote tv[CN_VALIDATORS_MAX];
    size_t n;
    int64_t power = tally(chain_id, vs, c, height, block_id, tv, &n, why, cap);
    if (power < 0)
        return 0;
    /* power * 3 > total * 2, with totals far below overflow (<= 64e9). */
    if (power * 3 <= vs->total * 2) {
        snprintf(why, cap, "commit has %lld of %lld voting power, needs more than 2/3",
                 (long long)power, (long long)vs->total);
        return 0;
    }
    return 1;
}

int cn_commit_bft_time(const cn_validators *vs, const Clearnode__V1__Commit *c,
                       uint64_t prev_time, uint64_t *out) {
    cn_cons_timed_vote tv[CN_VALIDATORS_MAX];
    size_t n = 0;
    for (size_t i = 0; i < c->n_precommits && n < CN_VALIDATORS_MAX; i++) {
        const Clearnode__V1__Signed *s = c->precommits[i];
        int idx = s->signer.len == 32 ? cn_validators_index(vs, s->signer.data) : -1;
        cn_pb pb;
        if (idx < 0 || cn_decode(CN_MSG_VOTE, s->body.data, s->body.len, &pb) != CN_DECODE_OK)
            return 0;
        tv[n++] = (cn_cons_timed_vote){(uint32_t)idx, vs->power[idx],
                                       ((const Clearnode__V1__Vote *)pb.msg)->timestamp};
        cn_pb_free(&pb);
    }
    return cn_cons_bft_time(tv, n, prev_time, out);
}
