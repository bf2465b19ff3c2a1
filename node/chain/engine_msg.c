/* Proposals and votes: checks, signing, the message store of the current height. */
#include "node/chain/engine_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/bytes.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "crypto/schnorr.h"
#include "node/app/evidence.h"
#include "node/chain/cert.h"
#include "node/consensus/bfttime.h"
#include "node/consensus/voteset.h"
#include "node/util/log.h"

/* A decoded proposal or vote, before it is mapped to a validator index. */
typedef struct {
    int kind;
    uint8_t type;
    uint64_t height;
    uint32_t round;
    int32_t pol_round;
    cn_cons_value value;
    uint64_t timestamp;
    uint8_t signer[32];
    const uint8_t *sig;
    const uint8_t *body;
    size_t body_len;
} parsed_msg;

/* Decodes Signed bytes of `kind`; the body's signer field must equal Signed.signer.
 * *spb stays alive for p->sig and p->body. Returns 1, or 0 for a malformed message. */
static int parse(int kind, const uint8_t *bytes, size_t len, cn_pb *spb, parsed_msg *p) {
    memset(p, 0, sizeof *p);
    if (len > (kind == CN_CLOG_PROPOSAL ? CN_CAP_PROPOSAL : CN_CAP_VOTE) ||
        cn_decode(CN_MSG_SIGNED, bytes, len, spb) != CN_DECODE_OK)
        return 0;
    const Clearnode__V1__Signed *s = (const Clearnode__V1__Signed *)spb->msg;
    if (s->signer.len != 32 || s->sig.len != CN_SIG_LEN) {
        cn_pb_free(spb);
        return 0;
    }
    memcpy(p->signer, s->signer.data, 32);
    p->sig = s->sig.data;
    p->body = s->body.data;
    p->body_len = s->body.len;
    p->kind = kind;
    cn_pb bpb;
    int ok = 0;
    if (kind == CN_CLOG_PROPOSAL &&
        cn_decode(CN_MSG_PROPOSAL, s->body.data, s->body.len, &bpb) == CN_DECODE_OK) {
        const Clearnode__V1__Proposal *x = (const Clearnode__V1__Proposal *)bpb.msg;
        ok = x->block_id.len == 32 && x->proposer.len == 32 &&
             memcmp(x->proposer.data, p->signer, 32) == 0 && x->pol_round >= -1 &&
             x->round < CN_CONS_MAX_ROUND && x->pol_round < (int32_t)x->round;
        if (ok) {
            p->height = x->height;
            p->round = x->round;
            p->pol_round = x->pol_round;
            p->value.has_value = 1;
            memcpy(p->value.id, x->block_id.data, 32);
            p->timestamp = x->timestamp;
        }
        cn_pb_free(&bpb);
    } else if (kind == CN_CLOG_VOTE &&
               cn_decode(CN_MSG_VOTE, s->body.data, s->body.len, &bpb) == CN_DECODE_OK) {
        const Clearnode__V1__Vote *x = (const Clearnode__V1__Vote *)bpb.msg;
        ok = (x->type == CLEARNODE__V1__VOTE_TYPE__VOTE_PREVOTE ||
              x->type == CLEARNODE__V1__VOTE_TYPE__VOTE_PRECOMMIT) &&
             (x->block_id.len == 0 || x->block_id.len == 32) && x->validator.len == 32 &&
             memcmp(x->validator.data, p->signer, 32) == 0 && x->round < CN_CONS_MAX_ROUND;
        if (ok) {
            p->type = x->type == CLEARNODE__V1__VOTE_TYPE__VOTE_PREVOTE ? CN_CONS_PREVOTE
                                                                       : CN_CONS_PRECOMMIT;
            p->height = x->height;
            p->round = x->round;
            p->pol_round = -1;
            p->value.has_value = x->block_id.len == 32;
            if (p->value.has_value)
                memcpy(p->value.id, x->block_id.data, 32);
            p->timestamp = x->timestamp;
        }
        cn_pb_free(&bpb);
    }
    if (!ok)
        cn_pb_free(spb);
    return ok;
}

static en_msg *find_hash(cn_engine *e, const uint8_t hash[32]) {
    for (size_t i = 0; i < e->n_msgs; i++)
        if (memcmp(e->msgs[i].hash, hash, 32) == 0)
            return &e->msgs[i];
    return NULL;
}

/* Stores a copy of the message; NULL when the store is full or memory ran out. */
static en_msg *store(cn_engine *e, const parsed_msg *p, uint32_t validator, const uint8_t *bytes,
                     size_t len, const uint8_t hash[32]) {
    if (e->n_msgs == EN_MAX_MSGS)
        return NULL;
    if (!e->msgs) {
        e->msgs = calloc(EN_MAX_MSGS, sizeof *e->msgs);
        if (!e->msgs)
            return NULL;
    }
    uint8_t *copy = malloc(len);
    if (!copy)
        return NULL;
    memcpy(copy, bytes, len);
    en_msg *m = &e->msgs[e->n_msgs++];
    memset(m, 0, sizeof *m);
    m->kind = (uint8_t)p->kind;
    m->type = p->type;
    m->round = p->round;
    m->validator = validator;
    m->pol_round = p->pol_round;
    m->value = p->value;
    m->timestamp = p->timestamp;
    memcpy(m->hash, hash, 32);
    m->bytes = copy;
    m->len = len;
    return m;
}

void en_msgs_clear(cn_engine *e) {
    for (size_t i = 0; i < e->n_msgs; i++)
        free(e->msgs[i].bytes);
    e->n_msgs = 0;
}

en_msg *en_find_precommit(cn_engine *e, uint32_t round, uint32_t validator,
                          const uint8_t id[32]) {
    for (size_t i = 0; i < e->n_msgs; i++) {
        en_msg *m = &e->msgs[i];
        if (m->kind == CN_CLOG_VOTE && m->type == CN_CONS_PRECOMMIT && m->round == round &&
            m->validator == validator && m->value.has_value && memcmp(m->value.id, id, 32) == 0)
            return m;
    }
    return NULL;
}

static void keep_future(cn_engine *e, int kind, const uint8_t *bytes, size_t len, int peer) {
    if (e->n_future == EN_MAX_FUTURE)
        return; /* gossip brings it again */
    uint8_t *copy = malloc(len);
    if (!copy)
        return;
    memcpy(copy, bytes, len);
    e->future[e->n_future++] = (en_future){(uint8_t)kind, (uint16_t)(peer < 0 ? 0xffff : peer),
                                           copy, len};
}

void en_future_replay(cn_engine *e) {
    size_t n = e->n_future;
    en_future *f = malloc((n ? n : 1) * sizeof *f);
    if (!f)
        return;
    memcpy(f, e->future, n * sizeof *f);
    e->n_future = 0;
    for (size_t i = 0; i < n; i++) {
        int peer = f[i].peer == 0xffff ? -1 : f[i].peer;
        if (!atomic_load(&e->failed))
            (void)en_on_signed(e, f[i].kind, f[i].bytes, f[i].len, peer);
        free(f[i].bytes);
    }
    free(f);
}

/* Hands one stored proposal to the core once its block is judged. */
static void feed(cn_engine *e, en_msg *m) {
    en_block *b = en_block_find(e, m->value.id);
    if (!b || m->fed)
        return;
    m->fed = 1;
    cn_cons_proposal p = {e->height, m->round, m->pol_round, {0}, m->timestamp, m->validator};
    memcpy(p.id, m->value.id, 32);
    int r = cn_cons_on_proposal(e->core, &p, b->valid);
    if ((r == CN_CONS_OK || r == CN_CONS_CONFLICT) && !e->replaying) {
        if (!b->logged)
            (void)cn_conslog_add_block(e->log, b->id, b->bytes, b->len);
        (void)cn_conslog_add_msg(e->log, CN_CLOG_PROPOSAL, m->bytes, m->len);
    }
    if (r == CN_CONS_OK || r == CN_CONS_CONFLICT)
        b->logged = 1;
    en_run_outputs(e);
}

void en_feed_proposals(cn_engine *e) {
    for (size_t i = 0; i < e->n_msgs && e->core_active; i++)
        if (e->msgs[i].kind == CN_CLOG_PROPOSAL && !e->msgs[i].fed)
            feed(e, &e->msgs[i]);
}

int en_on_signed(cn_engine *e, int kind, const uint8_t *bytes, size_t len, int peer) {
    cn_pb spb;
    parsed_msg p;
    if (!parse(kind, bytes, len, &spb, &p))
        return 0;
    int rc = 1;
    if (e->catching_up || p.height < e->height || p.height > e->height + 1) {
        goto out; /* not for us now: block sync or gossip covers it */
    }
    if (p.height == e->height + 1 || !e->core_active) {
        keep_future(e, kind, bytes, len, peer);
        goto out;
    }
    int idx = cn_validators_index(&e->set, p.signer);
    if (idx < 0) {
        rc = 0;
        goto out;
    }
    uint8_t hash[32];
    cn_sha256(hash, bytes, len); /* local identity for dedup and gossip only */
    en_msg *have = find_hash(e, hash);
    if (have) {
        if (peer >= 0)
            en_set_bit(have->sent, peer);
        goto out;
    }
    if (!cn_verify_body(p.sig, p.signer,
                        kind == CN_CLOG_PROPOSAL ? CN_TAG_SIG_PROPOSAL : CN_TAG_SIG_VOTE,
                        e->g->chain_id, p.body, p.body_len)) {
        rc = 0;
        goto out;
    }
    if (kind == CN_CLOG_PROPOSAL) {
        /* far rounds are not kept by the core either; and finding their proposer costs
         * rotation steps in proportion to the round */
        if (p.round > e->core->round + CN_CONS_ROUND_WINDOW)
            goto out;
        if (cn_cons_valset_proposer(&e->vs, p.round) != (uint32_t)idx) {
            rc = 0; /* not the proposer of that round */
            goto out;
        }
        en_msg *m = store(e, &p, (uint32_t)idx, bytes, len, hash);
        if (m) {
            if (peer >= 0)
                en_set_bit(m->sent, peer);
            cn_pb_free(&spb);
            feed(e, m);
            return 1;
        }
        goto out;
    }
    cn_cons_vote v = {p.type, p.height, p.round, p.value, p.timestamp, (uint32_t)idx};
    free(e->conflict_bytes);
    e->conflict_bytes = malloc(len);
    e->conflict_len = e->conflict_bytes ? len : 0;
    if (e->conflict_bytes)
        memcpy(e->conflict_bytes, bytes, len);
    int r = cn_cons_on_vote(e->core, &v);
    if (r == CN_CONS_OK || r == CN_CONS_CONFLICT) {
        en_msg *m = store(e, &p, (uint32_t)idx, bytes, len, hash);
        if (m && peer >= 0)
            en_set_bit(m->sent, peer);
        if (!e->replaying)
            (void)cn_conslog_add_msg(e->log, CN_CLOG_VOTE, bytes, len);
    } else if (r == CN_CONS_INVALID) {
        rc = 0;
    }
    cn_pb_free(&spb);
    en_run_outputs(e);
    return rc;
out:
    cn_pb_free(&spb);
    return rc;
}

int en_sign_output(cn_engine *e, const cn_cons_output *o, uint8_t **out, size_t *len) {
    uint64_t now = en_now(e);
    if (o->kind == CN_CONS_OUT_PROPOSAL) {
        const cn_cons_proposal *p = &o->u.proposal;
        return cn_proposal_sign(&e->key, e->g->chain_id, p->height, p->round, p->pol_round,
                                p->id, now, out, len);
    }
    const cn_cons_vote *v = &o->u.vote;
    uint64_t ts = cn_cons_vote_time(now, cn_app_tip(e->p.app)->time_ms);
    return cn_vote_sign(&e->key, e->g->chain_id,
                        v->type == CN_CONS_PREVOTE ? CLEARNODE__V1__VOTE_TYPE__VOTE_PREVOTE
                                                   : CLEARNODE__V1__VOTE_TYPE__VOTE_PRECOMMIT,
                        v->height, v->round, v->value.has_value ? v->value.id : NULL, ts, out,
                        len);
}

void en_own_message(cn_engine *e, int kind, uint8_t *bytes, size_t len) {
    cn_pb spb;
    parsed_msg p;
    uint8_t hash[32];
    cn_sha256(hash, bytes, len); /* local identity for dedup and gossip only */
    en_msg *m = find_hash(e, hash);
    if (!m && parse(kind, bytes, len, &spb, &p)) {
        m = store(e, &p, e->self, bytes, len, hash);
        cn_pb_free(&spb);
        if (m)
            m->fed = 1; /* the core counted its own message already */
    }
    uint8_t *env;
    size_t elen;
    if (!m || !en_env_signed(kind, bytes, len, &env, &elen)) {
        free(bytes);
        return;
    }
    en_broadcast(e, env, elen, CN_P2P_PRIO_CONSENSUS, -1);
    free(env);
    for (size_t i = 0; i < e->n_peers; i++)
        if (e->peers[i].connected)
            en_set_bit(m->sent, (int)i);
    if (kind == CN_CLOG_PROPOSAL) {
        en_block *b = en_block_find(e, m->value.id);
        if (b)
            en_block_send(e, b, e->height, m->round, -1);
    }
    free(bytes);
}

/* Keeps a copy of encoded evidence for proposals, once. */
static void pool_add(cn_engine *e, const uint8_t *enc, size_t len) {
    for (size_t i = 0; i < e->n_evpool; i++)
        if (e->evpool_len[i] == len && memcmp(e->evpool[i], enc, len) == 0)
            return;
    if (e->n_evpool == EN_EVPOOL)
        return;
    uint8_t *c = malloc(len);
    if (!c)
        return;
    memcpy(c, enc, len);
    e->evpool[e->n_evpool] = c;
    e->evpool_len[e->n_evpool++] = len;
}

int en_evidence_from_peer(cn_engine *e, const Clearnode__V1__DuplicateVoteEvidence *ev) {
    cn_store_rtxn *r;
    if (cn_store_read_begin(e->store, &r) != CN_STORE_OK)
        return 1;
    cn_evidence_info x;
    char why[200];
    int ok = cn_evidence_check(r, e->g->chain_id, ev, cn_app_tip(e->p.app)->height + 1, &x, why,
                               sizeof why);
    cn_store_read_end(r);
    if (!ok)
        return strstr(why, "already recorded") != NULL; /* old news is not misbehaviour */
    uint8_t *enc;
    size_t len;
    if (cn_encode(&ev->base, CN_CAP_EVIDENCE, &enc, &len)) {
        pool_add(e, enc, len);
        free(enc);
    }
    return 1;
}

size_t en_evidence_for_block(cn_engine *e, uint8_t **out, size_t *lens) {
    cn_store_rtxn *r;
    if (e->n_evpool == 0 || cn_store_read_begin(e->store, &r) != CN_STORE_OK)
        return 0;
    size_t n = 0, keep = 0;
    uint8_t keys[CN_EVIDENCE_PER_BLOCK][CN_EVIDENCE_KEY_LEN];
    for (size_t i = 0; i < e->n_evpool; i++) {
        cn_pb pb;
        cn_evidence_info x;
        char why[200];
        int ok = cn_decode(CN_MSG_EVIDENCE, e->evpool[i], e->evpool_len[i], &pb) == CN_DECODE_OK;
        if (ok) {
            ok = cn_evidence_check(r, e->g->chain_id,
                                   (const Clearnode__V1__DuplicateVoteEvidence *)pb.msg,
                                   e->height, &x, why, sizeof why);
            cn_pb_free(&pb);
        }
        if (!ok) { /* recorded meanwhile, or too old: drop it */
            free(e->evpool[i]);
            continue;
        }
        e->evpool[keep] = e->evpool[i];
        e->evpool_len[keep++] = e->evpool_len[i];
        uint8_t k[CN_EVIDENCE_KEY_LEN];
        cn_evidence_key(&x, k);
        int dup = 0;
        for (size_t j = 0; j < n; j++)
            dup |= memcmp(keys[j], k, sizeof k) == 0;
        if (dup || n == CN_EVIDENCE_PER_BLOCK)
            continue;
        memcpy(keys[n], k, sizeof k);
        out[n] = e->evpool[keep - 1];
        lens[n++] = e->evpool_len[keep - 1];
    }
    e->n_evpool = keep;
    cn_store_read_end(r);
    return n;
}

void en_evidence(cn_engine *e, const cn_cons_output *o) {
    const cn_cons_vote *a = &o->u.evidence.a;
    e->n_evidence_total++;
    char who[65];
    cn_hex_encode(who, e->set.key[a->validator], 32);
    CN_LOG_WARN("consensus: equivocation by validator %s at height %llu round %u (%s)", who,
                (unsigned long long)a->height, a->round,
                a->type == CN_CONS_PREVOTE ? "prevote" : "precommit");
    /* the counted vote is stored; the other is the one that just arrived */
    en_msg *ma = NULL;
    for (size_t i = 0; i < e->n_msgs && !ma; i++) {
        en_msg *m = &e->msgs[i];
        if (m->kind == CN_CLOG_VOTE && m->type == a->type && m->round == a->round &&
            m->validator == a->validator && cn_cons_value_eq(&m->value, &a->value))
            ma = m;
    }
    if (!ma || !e->conflict_bytes || e->n_evidence == 16)
        return;
    cn_pb pa, pb;
    if (cn_decode(CN_MSG_SIGNED, ma->bytes, ma->len, &pa) != CN_DECODE_OK)
        return;
    if (cn_decode(CN_MSG_SIGNED, e->conflict_bytes, e->conflict_len, &pb) != CN_DECODE_OK) {
        cn_pb_free(&pa);
        return;
    }
    Clearnode__V1__DuplicateVoteEvidence ev;
    clearnode__v1__duplicate_vote_evidence__init(&ev);
    ev.vote_a = (Clearnode__V1__Signed *)pa.msg;
    ev.vote_b = (Clearnode__V1__Signed *)pb.msg;
    uint8_t *enc;
    size_t elen;
    if (cn_encode(&ev.base, CN_CAP_EVIDENCE, &enc, &elen)) {
        pool_add(e, enc, elen);
        Clearnode__V1__Envelope env;
        clearnode__v1__envelope__init(&env);
        env.msg_case = CLEARNODE__V1__ENVELOPE__MSG_EVIDENCE;
        env.evidence = &ev;
        uint8_t *eb;
        size_t el;
        if (cn_encode(&env.base, CN_CAP_ENVELOPE, &eb, &el)) {
            en_broadcast(e, eb, el, CN_P2P_PRIO_CONSENSUS, -1);
            free(eb);
        }
        uint8_t *k = e->evidence_key[e->n_evidence];
        memcpy(k, "evidence:", 9);
        cn_put_be64(k + 9, a->height);
        cn_put_be32(k + 17, a->round);
        k[21] = a->type;
        memcpy(k + 22, e->set.key[a->validator], 32);
        e->evidence[e->n_evidence] = enc;
        e->evidence_len[e->n_evidence++] = elen;
    }
    cn_pb_free(&pa);
    cn_pb_free(&pb);
}
