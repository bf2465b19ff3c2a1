/* Vote signing and commit certificate checks (see cert.h). */
#include "node/chain/cert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cn_vote_sign(const cn_keypair *kp, const char *chain_id, Clearnode__V1__VoteType type,
                 uint64_t height, uint32_t round, const uint8_t block_id[32], uint64_t ts_ms,
                 uint8_t **out, size_t *len) {
    Clearnode__V1__Vote v;
    clearnode__v1__vote__init(&v);
    v.type = type;
    v.height = height;
    v.round = round;
    v.block_id.data = (uint8_t *)(uintptr_t)block_id;
    v.block_id.len = 32;
    v.timestamp = ts_ms;
    v.validator.data = (uint8_t *)(uintptr_t)kp->pub;
    v.validator.len = 32;
    uint8_t *body;
    size_t blen;
    if (!cn_encode(&v.base, CN_CAP_VOTE, &body, &blen))
        return 0;
    uint8_t sig[CN_SIG_LEN];
    if (!cn_sign_body(kp, sig, CN_TAG_SIG_VOTE, chain_id, body, blen)) {
        free(body);
        return 0;
    }
    Clearnode__V1__Signed s;
    clearnode__v1__signed__init(&s);
    s.body.data = body;
    s.body.len = blen;
    s.signer.data = (uint8_t *)(uintptr_t)kp->pub;
    s.signer.len = 32;
    s.sig.data = sig;
    s.sig.len = CN_SIG_LEN;
    int ok = cn_encode(&s.base, CN_CAP_VOTE, out, len);
    free(body);
    return ok;
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

typedef struct {
    uint64_t ts;
    int64_t power;
} weighted_ts;

static int cmp_ts(const void *a, const void *b) {
    uint64_t x = ((const weighted_ts *)a)->ts, y = ((const weighted_ts *)b)->ts;
    return (x > y) - (x < y);
}

/* Verifies each precommit; fills ts[] and returns the power that signed, or -1 with why. */
static int64_t tally(const cn_genesis *g, const Clearnode__V1__Commit *c, uint64_t height,
                     const uint8_t *block_id, weighted_ts *ts, size_t *n_ts, char *why,
                     size_t cap) {
    int64_t power = 0;
    uint8_t seen[CN_MAX_MEMBERS] = {0};
    *n_ts = 0;
    if (c->n_precommits > g->n_members) {
        snprintf(why, cap, "commit has more precommits than members");
        return -1;
    }
    for (size_t i = 0; i < c->n_precommits; i++) {
        const Clearnode__V1__Signed *s = c->precommits[i];
        if (s->signer.len != 32 || s->sig.len != CN_SIG_LEN) {
            snprintf(why, cap, "precommit %zu: bad signer or signature length", i);
            return -1;
        }
        const cn_gen_member *m = cn_genesis_member(g, s->signer.data);
        if (!m || !(m->roles & CN_ROLE_VALIDATOR)) {
            snprintf(why, cap, "precommit %zu: signer is not a validator", i);
            return -1;
        }
        size_t idx = (size_t)(m - g->members);
        if (seen[idx]++) {
            snprintf(why, cap, "precommit %zu: validator '%s' voted twice", i, m->name);
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
        if (!cn_verify_body(s->sig.data, s->signer.data, CN_TAG_SIG_VOTE, g->chain_id,
                            s->body.data, s->body.len)) {
            snprintf(why, cap, "precommit %zu: signature does not verify", i);
            return -1;
        }
        power += m->power;
        ts[(*n_ts)++] = (weighted_ts){t, m->power};
    }
    return power;
}

int cn_commit_verify(const cn_genesis *g, const Clearnode__V1__Commit *c, uint64_t height,
                     const uint8_t block_id[32], char *why, size_t cap) {
    if (c->height != height || c->block_id.len != 32 ||
        memcmp(c->block_id.data, block_id, 32) != 0) {
        snprintf(why, cap, "commit is for another height or block");
        return 0;
    }
    weighted_ts ts[CN_MAX_MEMBERS];
    size_t n;
    int64_t power = tally(g, c, height, block_id, ts, &n, why, cap);
    if (power < 0)
        return 0;
    /* power * 3 > total * 2, with totals far below overflow (<= 256e9). */
    if (power * 3 <= g->total_power * 2) {
        snprintf(why, cap, "commit has %lld of %lld voting power, needs more than 2/3",
                 (long long)power, (long long)g->total_power);
        return 0;
    }
    return 1;
}

uint64_t cn_commit_time(const cn_genesis *g, const Clearnode__V1__Commit *c) {
    weighted_ts ts[CN_MAX_MEMBERS];
    size_t n;
    char why[128];
    const uint8_t *id = c->block_id.len == 32 ? c->block_id.data : NULL;
    int64_t power = tally(g, c, c->height, id, ts, &n, why, sizeof why);
    if (power <= 0)
        return 0;
    qsort(ts, n, sizeof ts[0], cmp_ts);
    int64_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        acc += ts[i].power;
        if (acc * 2 >= power)
            return ts[i].ts;
    }
    return ts[n - 1].ts;
}
