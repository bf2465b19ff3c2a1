/* Seeded consensus simulator: nodes, network model, Byzantine validator, checks (sim.h).
 *
 * Network. Before GST each message copy is dropped with a seeded probability, lost across a
 * partition if one is active, duplicated sometimes, and delayed uniformly up to a seeded
 * maximum (so messages reorder). From GST on nothing is dropped and every delay is at most
 * SIM_DELTA_MS. A crashed node loses everything sent to it.
 *
 * Gossip. Every SIM_GOSSIP_MS each honest node sends each peer at its height the proposals
 * and votes it holds that the peer lacks (the simulator reads the peer's core, standing in
 * for the "has vote" bookkeeping of a real gossip layer), and sends a peer at a lower height
 * the decision proof of that height (its proposal and commit precommits), which is how a
 * lagging or restarted node catches up through the normal message path.
 *
 * Crashes. A node crashes at seeded times before GST, or right after persisting a signature
 * and before sending it. It keeps only what a real node persists: the sign state (written on
 * every PERSIST output) and its decided chain. On restart it builds a fresh core from them.
 *
 * Byzantine validator. It runs a core like everyone else, but rewrites what it sends, per
 * peer: the real message, a conflicting proposal (another valid value, an invalid value, a
 * random pol_round), a conflicting vote (nil or another value), both versions, or nothing;
 * and it sprays votes for random rounds. Its power is below 1/3, so safety and, after GST,
 * progress must hold regardless.
 *
 * Values. A value id encodes "SIMV", the height, the creating validator, the round and a
 * nonce. The validity predicate (what the application would judge) accepts it only at its
 * height when the creator is the proposer of that height and round.
 */
#include "tests/sim/sim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/consensus/core.h"
#include "node/consensus/rounds.h"
#include "tests/sim/simnet.h"

#define SIM_MAX_H 400u
#define SIM_K 3u
#define SIM_GOSSIP_MS 100u
#define SIM_DELTA_MS 30u
#define SIM_PROGRESS_MS 60000u

typedef struct {
    uint64_t h;
    uint32_t r;
    uint8_t step;
    cn_cons_value v;
    int32_t pol;
} sim_signed;

typedef struct {
    int byz, up;
    uint32_t epoch;
    cn_cons *core;
    /* persisted */
    int has_sign;
    cn_cons_sign_state sign;
    uint64_t decided_h;
    /* consensus log of the current height: messages signed and accepted; entries before
     * wal_synced are durable (synced together with every PERSIST) */
    sim_msg *wal;
    size_t nwal, capwal, wal_synced;
    /* checker: everything this node ever signed */
    sim_signed *sig;
    size_t nsig, capsig;
} sim_node;

typedef struct {
    int set;
    cn_cons_proposal prop;
    cn_cons_vote pc[CN_CONS_MAX_VALIDATORS];
    size_t npc;
} sim_decision;

typedef struct {
    sim_params prm;
    sim_result *res;
    sim_rng rng;
    uint32_t n, byz;
    cn_cons_config cfg;
    uint64_t now, seq;
    uint64_t gst, target, deadline;
    int after_gst;
    uint32_t drop_pm, dup_pm, delay_max, crash_mid_pm, byz_pm;
    int byz_mirror;      /* strategy: mirror each peer's own votes back to it */
    uint32_t split_mask; /* peers that get the real proposal (mirror strategy) */
    uint64_t part_from, part_to;
    uint32_t part_mask;
    uint8_t byz_pool[8][32];
    uint32_t npool;
    sim_heap q;
    sim_node nodes[SIM_MAX_N];
    cn_cons_valset vs[SIM_MAX_H + 2];
    sim_decision dec[SIM_MAX_H + 2];
} sim;

#if defined(__GNUC__)
#define SIM_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SIM_PRINTF(f, a)
#endif

static void sim_fail(sim *s, const char *fmt, ...) SIM_PRINTF(2, 3);
static void trace(const sim *s, const char *fmt, ...) SIM_PRINTF(2, 3);

static void sim_fail(sim *s, const char *fmt, ...) {
    if (!s->res->ok)
        return;
    s->res->ok = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->res->why, sizeof s->res->why, fmt, ap);
    va_end(ap);
}

static void trace(const sim *s, const char *fmt, ...) {
    if (!s->prm.trace)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "[%6llu] ", (unsigned long long)s->now);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void push(sim *s, sim_event *e) {
    e->seq = s->seq++;
    if (!sim_heap_push(&s->q, e))
        sim_fail(s, "out of memory");
}

/* ---- values ------------------------------------------------------------------------------ */

static void make_value(uint8_t id[32], uint64_t h, uint32_t creator, uint32_t r, uint64_t nonce) {
    memset(id, 0, 32);
    memcpy(id, "SIMV", 4);
    for (int i = 0; i < 8; i++)
        id[4 + i] = (uint8_t)(h >> (56 - 8 * i));
    for (int i = 0; i < 4; i++) {
        id[12 + i] = (uint8_t)(creator >> (24 - 8 * i));
        id[16 + i] = (uint8_t)(r >> (24 - 8 * i));
    }
    for (int i = 0; i < 8; i++)
        id[20 + i] = (uint8_t)(nonce >> (56 - 8 * i));
}

/* The application's validity predicate. */
static int valid_value(const sim *s, const uint8_t id[32], uint64_t h) {
    if (memcmp(id, "SIMV", 4) != 0 || h == 0 || h > SIM_MAX_H)
        return 0;
    uint64_t vh = 0;
    uint32_t creator = 0, r = 0;
    for (int i = 0; i < 8; i++)
        vh = (vh << 8) | id[4 + i];
    for (int i = 0; i < 4; i++) {
        creator = (creator << 8) | id[12 + i];
        r = (r << 8) | id[16 + i];
    }
    if (vh != h || creator >= s->n || r > 1000)
        return 0;
    return cn_cons_valset_proposer(&s->vs[h], r) == creator;
}

/* ---- network ----------------------------------------------------------------------------- */

static uint32_t signer_of(const sim_msg *m) {
    return m->kind == SIM_MSG_PROPOSAL ? m->p.proposer : m->v.validator;
}

static void send_msg(sim *s, uint32_t from, uint32_t to, const sim_msg *m) {
    if (from == to)
        return;
    if (!s->after_gst) {
        int cut = s->now >= s->part_from && s->now < s->part_to &&
                  (((s->part_mask >> from) ^ (s->part_mask >> to)) & 1u);
        if (cut || sim_rng_pm(&s->rng, s->drop_pm))
            return;
    }
    int copies = 1 + sim_rng_pm(&s->rng, s->dup_pm);
    for (int c = 0; c < copies; c++) {
        uint64_t d = 1 + sim_rng_below(&s->rng, s->after_gst ? SIM_DELTA_MS : s->delay_max);
        sim_event e;
        memset(&e, 0, sizeof e);
        e.time = s->now + d;
        e.type = SIM_EV_DELIVER;
        e.node = to;
        e.from = from;
        e.msg = *m;
        push(s, &e);
    }
}

static void broadcast(sim *s, uint32_t from, const sim_msg *m) {
    for (uint32_t j = 0; j < s->n; j++)
        send_msg(s, from, j, m);
}

static void schedule(sim *s, uint8_t type, uint32_t node, uint64_t at) {
    sim_event e;
    memset(&e, 0, sizeof e);
    e.time = at;
    e.type = type;
    e.node = node;
    e.epoch = s->nodes[node].epoch;
    push(s, &e);
}

/* ---- checks ------------------------------------------------------------------------------ */

/* No honest node signs two different messages at one (height, round, step). */
static void record_signed(sim *s, uint32_t i, const sim_msg *m, int resend) {
    sim_node *nd = &s->nodes[i];
    sim_signed x;
    memset(&x, 0, sizeof x);
    if (m->kind == SIM_MSG_PROPOSAL) {
        x.h = m->p.height;
        x.r = m->p.round;
        x.step = CN_CONS_STEP_PROPOSE;
        x.v.has_value = 1;
        memcpy(x.v.id, m->p.id, 32);
        x.pol = m->p.pol_round;
    } else {
        x.h = m->v.height;
        x.r = m->v.round;
        x.step = m->v.type == CN_CONS_PREVOTE ? CN_CONS_STEP_PREVOTE : CN_CONS_STEP_PRECOMMIT;
        x.v = m->v.value;
        x.pol = -1;
    }
    for (size_t k = 0; k < nd->nsig; k++) {
        const sim_signed *y = &nd->sig[k];
        if (y->h != x.h || y->r != x.r || y->step != x.step)
            continue;
        if (!cn_cons_value_eq(&y->v, &x.v) || y->pol != x.pol)
            sim_fail(s, "node %u signed two different messages at h=%llu r=%u step=%u", i,
                 (unsigned long long)x.h, x.r, x.step);
        return;
    }
    if (resend)
        sim_fail(s, "node %u resent a message it never signed (h=%llu r=%u)", i,
             (unsigned long long)x.h, x.r);
    if (nd->nsig == nd->capsig) {
        size_t cap = nd->capsig ? nd->capsig * 2 : 64;
        sim_signed *a = realloc(nd->sig, cap * sizeof *a);
        if (!a) {
            sim_fail(s, "out of memory");
            return;
        }
        nd->sig = a;
        nd->capsig = cap;
    }
    nd->sig[nd->nsig++] = x;
}

/* Agreement and validity at a decision; stores the first decision proof of the height. */
static void on_decide(sim *s, uint32_t i, const cn_cons_output *o) {
    sim_node *nd = &s->nodes[i];
    const cn_cons_proposal *p = &o->u.decide.proposal;
    uint64_t h = p->height;
    trace(s, "node %u decides h=%llu r=%u value=%02x%02x..", i, (unsigned long long)h,
          o->u.decide.round, p->id[12 + 3], p->id[16 + 3]);
    if (h != nd->decided_h + 1)
        sim_fail(s, "node %u decided h=%llu after %llu", i, (unsigned long long)h,
             (unsigned long long)nd->decided_h);
    if (!valid_value(s, p->id, h))
        sim_fail(s, "validity: node %u decided an invalid value at h=%llu", i, (unsigned long long)h);
    sim_decision *d = &s->dec[h];
    if (d->set) {
        if (memcmp(d->prop.id, p->id, 32) != 0)
            sim_fail(s, "agreement: node %u decided a different value at h=%llu", i,
                 (unsigned long long)h);
        return;
    }
    d->npc = cn_cons_commit_votes(nd->core, o->u.decide.round, p->id, d->pc,
                                  CN_CONS_MAX_VALIDATORS);
    int64_t power = 0;
    for (size_t k = 0; k < d->npc; k++)
        power += s->vs[h].power[d->pc[k].validator];
    if (!cn_cons_valset_quorum(&s->vs[h], power))
        sim_fail(s, "node %u decided h=%llu without a 2/3 commit", i, (unsigned long long)h);
    d->set = 1;
    d->prop = *p;
}

/* ---- nodes ------------------------------------------------------------------------------- */

static void wal_append(sim *s, sim_node *nd, const sim_msg *m) {
    if (nd->nwal == nd->capwal) {
        size_t cap = nd->capwal ? nd->capwal * 2 : 64;
        sim_msg *a = realloc(nd->wal, cap * sizeof *a);
        if (!a) {
            sim_fail(s, "out of memory");
            return;
        }
        nd->wal = a;
        nd->capwal = cap;
    }
    nd->wal[nd->nwal++] = *m;
}

static void crash(sim *s, uint32_t i, const char *why) {
    sim_node *nd = &s->nodes[i];
    if (!nd->up)
        return;
    nd->up = 0;
    nd->epoch++;
    nd->nwal = nd->wal_synced; /* unsynced log entries are lost */
    s->res->crashes++;
    uint64_t back = s->now + 20 + sim_rng_below(&s->rng, 800);
    if (back > s->gst)
        back = s->gst;
    trace(s, "node %u crashes (%s), back at %llu", i, why, (unsigned long long)back);
    schedule(s, SIM_EV_RESTART, i, back);
}

/* The message a PROPOSAL or VOTE output asks to sign, stamped now; 0 for other outputs. */
static int msg_of(const cn_cons_output *o, sim_msg *m, uint64_t now) {
    memset(m, 0, sizeof *m);
    if (o->kind == CN_CONS_OUT_PROPOSAL) {
        m->kind = SIM_MSG_PROPOSAL;
        m->p = o->u.proposal;
        m->p.timestamp = now;
        return 1;
    }
    if (o->kind == CN_CONS_OUT_VOTE) {
        m->kind = SIM_MSG_VOTE;
        m->v = o->u.vote;
        m->v.timestamp = now;
        return 1;
    }
    return 0;
}

/* Performs the outputs of node i's last core call, then those of the next height's start. */
static void process(sim *s, uint32_t i) {
    sim_node *nd = &s->nodes[i];
    cn_cons_output buf[CN_CONS_MAX_OUTPUTS];
    for (;;) {
        size_t n;
        const cn_cons_output *o = cn_cons_outputs(nd->core, &n);
        memcpy(buf, o, n * sizeof *o);
        if (nd->core->overflow)
            sim_fail(s, "node %u: output list overflow", i);
        int decided = 0;
        for (size_t k = 0; k < n; k++) {
            sim_msg m;
            memset(&m, 0, sizeof m);
            switch ((cn_cons_out_kind)buf[k].kind) {
            case CN_CONS_OUT_PERSIST:
                /* The sign state and the signed message (the next output) go to the log in
                 * one sync, which also makes every earlier log entry durable. */
                nd->sign = buf[k].u.sign;
                nd->has_sign = 1;
                if (k + 1 < n && msg_of(&buf[k + 1], &m, s->now))
                    wal_append(s, nd, &m);
                nd->wal_synced = nd->nwal;
                if (!s->after_gst && sim_rng_pm(&s->rng, s->crash_mid_pm)) {
                    if (k + 1 < n && msg_of(&buf[k + 1], &m, s->now))
                        record_signed(s, i, &m, 0);
                    crash(s, i, "after persist, before send");
                    return;
                }
                break;
            case CN_CONS_OUT_PROPOSAL:
            case CN_CONS_OUT_VOTE:
                (void)msg_of(&buf[k], &m, s->now);
                record_signed(s, i, &m, buf[k].resend);
                broadcast(s, i, &m);
                break;
            case CN_CONS_OUT_GET_VALUE: {
                sim_event e;
                memset(&e, 0, sizeof e);
                e.time = s->now;
                e.type = SIM_EV_VALUE;
                e.node = i;
                e.epoch = nd->epoch;
                e.h = buf[k].u.get_value.height;
                e.r = buf[k].u.get_value.round;
                push(s, &e);
                break;
            }
            case CN_CONS_OUT_TIMEOUT: {
                sim_event e;
                memset(&e, 0, sizeof e);
                e.time = s->now + buf[k].u.timeout.ms;
                e.type = SIM_EV_TIMEOUT;
                e.node = i;
                e.epoch = nd->epoch;
                e.tkind = buf[k].u.timeout.kind;
                e.h = buf[k].u.timeout.height;
                e.r = buf[k].u.timeout.round;
                push(s, &e);
                break;
            }
            case CN_CONS_OUT_DECIDE:
                on_decide(s, i, &buf[k]);
                decided = 1;
                break;
            case CN_CONS_OUT_EVIDENCE:
                s->res->evidence++;
                if (buf[k].u.evidence.a.validator != s->byz ||
                    buf[k].u.evidence.b.validator != s->byz ||
                    cn_cons_value_eq(&buf[k].u.evidence.a.value, &buf[k].u.evidence.b.value))
                    sim_fail(s, "node %u reported bogus evidence against %u", i,
                         buf[k].u.evidence.a.validator);
                break;
            case CN_CONS_OUT_PROPOSAL_CONFLICT:
                if (buf[k].u.proposal_conflict.b.proposer != s->byz)
                    sim_fail(s, "node %u reported a proposal conflict by honest %u", i,
                         buf[k].u.proposal_conflict.b.proposer);
                break;
            }
        }
        if (!decided || !s->res->ok)
            return;
        nd->decided_h++;
        nd->nwal = nd->wal_synced = 0; /* committed with the block */
        if (nd->decided_h >= SIM_MAX_H) {
            sim_fail(s, "height cap reached");
            return;
        }
        cn_cons_start_height(nd->core, nd->decided_h + 1, &s->vs[nd->decided_h + 1], i);
    }
}

/* ---- the Byzantine validator ---------------------------------------------------------- */

#include "tests/sim/simbyz.c"

/* ---- events ------------------------------------------------------------------------------ */

static void after_call(sim *s, uint32_t i) {
    if (s->nodes[i].byz)
        byz_process(s);
    else
        process(s, i);
}

static void deliver(sim *s, const sim_event *e) {
    sim_node *nd = &s->nodes[e->node];
    if (!nd->up)
        return;
    s->res->deliveries++;
    const sim_msg *m = &e->msg;
    int rc;
    if (m->kind == SIM_MSG_PROPOSAL) {
        rc = cn_cons_on_proposal(nd->core, &m->p, valid_value(s, m->p.id, m->p.height));
        if (nd->byz)
            byz_pool_add(s, m->p.id);
    } else {
        rc = cn_cons_on_vote(nd->core, &m->v);
    }
    if (!nd->byz && (rc == CN_CONS_OK || rc == CN_CONS_CONFLICT))
        wal_append(s, nd, m);
    if (rc == CN_CONS_INVALID && signer_of(m) != s->byz)
        sim_fail(s, "node %u rejected a message signed by honest %u", e->node, signer_of(m));
    after_call(s, e->node);
}

/* The decision proof of height h: its proposal and commit precommits. */
static void send_proof(sim *s, uint32_t from, uint32_t to, uint64_t h) {
    const sim_decision *d = &s->dec[h];
    sim_msg m;
    memset(&m, 0, sizeof m);
    m.kind = SIM_MSG_PROPOSAL;
    m.p = d->prop;
    send_msg(s, from, to, &m);
    m.kind = SIM_MSG_VOTE;
    for (size_t k = 0; k < d->npc; k++) {
        m.v = d->pc[k];
        send_msg(s, from, to, &m);
    }
}

/* Sends peer every vote counted in set that it has not counted (peer NULL: none). */
static void send_missing_votes(sim *s, uint32_t from, uint32_t to, const cn_cons *c,
                               const cn_cons_round *sl, int type, const cn_cons_voteset *peer) {
    const cn_cons_voteset *set = type == CN_CONS_PREVOTE ? &sl->prevotes : &sl->precommits;
    sim_msg m;
    memset(&m, 0, sizeof m);
    m.kind = SIM_MSG_VOTE;
    for (uint32_t t = 0; t < set->ntally; t++) {
        for (uint32_t v = 0; v < set->n; v++) {
            if (!((set->tally[t].voters >> v) & 1u) ||
                (peer && cn_cons_voteset_has(peer, v, &set->tally[t].value)))
                continue;
            if (set->votes[v].has && cn_cons_value_eq(&set->votes[v].vote.value,
                                                      &set->tally[t].value)) {
                m.v = set->votes[v].vote;
            } else {
                memset(&m.v, 0, sizeof m.v);
                m.v.type = (uint8_t)type;
                m.v.height = c->height;
                m.v.round = sl->round;
                m.v.value = set->tally[t].value;
                m.v.validator = v;
            }
            send_msg(s, from, to, &m);
        }
    }
}

static void gossip(sim *s, uint32_t i) {
    sim_node *nd = &s->nodes[i];
    schedule(s, SIM_EV_GOSSIP, i, s->now + SIM_GOSSIP_MS);
    if (!nd->up)
        return;
    if (nd->byz) {
        byz_spray(s);
        return;
    }
    cn_cons *c = nd->core;
    trace(s, "node %u at h=%llu r=%u step=%u locked=%lld valid=%lld", i,
          (unsigned long long)c->height, c->round, c->step, (long long)c->locked_round,
          (long long)c->valid_round);
    for (uint32_t j = 0; j < s->n; j++) {
        sim_node *pj = &s->nodes[j];
        if (j == i || !pj->up)
            continue;
        uint64_t ph = pj->core->height;
        if (ph < c->height) {
            if (ph <= nd->decided_h && s->dec[ph].set)
                send_proof(s, i, j, ph);
            continue;
        }
        if (ph > c->height)
            continue;
        for (uint32_t u = 0; u < CN_CONS_ROUND_SLOTS; u++) {
            const cn_cons_round *sl = &c->rounds[u];
            if (!sl->used)
                continue;
            cn_cons_round *pr = cn_cons_find_round(pj->core, sl->round);
            for (uint32_t k = 0; k < sl->nprops; k++) {
                int has = 0;
                for (uint32_t q = 0; pr && q < pr->nprops; q++)
                    has |= memcmp(pr->props[q].id, sl->props[k].id, 32) == 0 &&
                           pr->props[q].pol_round == sl->props[k].pol_round;
                if (!has) {
                    sim_msg m;
                    memset(&m, 0, sizeof m);
                    m.kind = SIM_MSG_PROPOSAL;
                    m.p = sl->props[k];
                    send_msg(s, i, j, &m);
                }
            }
            send_missing_votes(s, i, j, c, sl, CN_CONS_PREVOTE, pr ? &pr->prevotes : NULL);
            send_missing_votes(s, i, j, c, sl, CN_CONS_PRECOMMIT, pr ? &pr->precommits : NULL);
        }
    }
}

static void restart(sim *s, uint32_t i) {
    sim_node *nd = &s->nodes[i];
    if (nd->up)
        return;
    nd->up = 1;
    if (!cn_cons_init(nd->core, &s->cfg, nd->has_sign ? &nd->sign : NULL))
        sim_fail(s, "node %u: persisted sign state rejected at restart", i);
    trace(s, "node %u restarts at h=%llu (signed h=%llu r=%u step=%u)", i,
          (unsigned long long)nd->decided_h + 1, (unsigned long long)nd->sign.height,
          nd->sign.round, nd->sign.step);
    cn_cons_start_height(nd->core, nd->decided_h + 1, &s->vs[nd->decided_h + 1], i);
    process(s, i);
    /* Replay the durable consensus log of this height. */
    size_t nlog = nd->nwal;
    sim_msg *log = nlog ? malloc(nlog * sizeof *log) : NULL;
    if (nlog && !log) {
        sim_fail(s, "out of memory");
        return;
    }
    if (nlog)
        memcpy(log, nd->wal, nlog * sizeof *log);
    uint64_t h = nd->decided_h + 1;
    for (size_t k = 0; k < nlog && nd->up && nd->decided_h + 1 == h && s->res->ok; k++) {
        if (log[k].kind == SIM_MSG_PROPOSAL)
            cn_cons_on_proposal(nd->core, &log[k].p, valid_value(s, log[k].p.id, log[k].p.height));
        else
            cn_cons_on_vote(nd->core, &log[k].v);
        process(s, i);
    }
    free(log);
}

static void handle(sim *s, const sim_event *e) {
    sim_node *nd = &s->nodes[e->node];
    uint8_t id[32];
    switch (e->type) {
    case SIM_EV_DELIVER:
        deliver(s, e);
        break;
    case SIM_EV_TIMEOUT:
        if (nd->up && nd->epoch == e->epoch) {
            cn_cons_on_timeout(nd->core, (cn_cons_timeout_kind)e->tkind, e->h, e->r);
            after_call(s, e->node);
        }
        break;
    case SIM_EV_VALUE:
        if (nd->up && nd->epoch == e->epoch) {
            make_value(id, e->h, e->node, e->r, 0);
            cn_cons_on_value(nd->core, e->h, e->r, id);
            after_call(s, e->node);
        }
        break;
    case SIM_EV_GOSSIP:
        gossip(s, e->node);
        break;
    case SIM_EV_CRASH:
        if (!s->after_gst)
            crash(s, e->node, "scheduled");
        break;
    case SIM_EV_RESTART:
        restart(s, e->node);
        break;
    case SIM_EV_GST: {
        s->after_gst = 1;
        for (uint32_t i = 0; i < s->n; i++)
            restart(s, i);
        uint64_t top = 0;
        for (uint32_t i = 0; i < s->n; i++)
            if (!s->nodes[i].byz && s->nodes[i].decided_h > top)
                top = s->nodes[i].decided_h;
        s->target = top + SIM_K;
        s->deadline = s->now + SIM_PROGRESS_MS;
        trace(s, "GST: target height %llu", (unsigned long long)s->target);
        break;
    }
    default:
        sim_fail(s, "unknown event %u", e->type);
    }
}

/* ---- setup and main loop ----------------------------------------------------------------- */

static void setup(sim *s) {
    sim_rng_seed(&s->rng, s->prm.seed * 1000003u + s->prm.n);
    uint32_t n = s->n;
    int64_t pw[SIM_MAX_N];
    int equal = sim_rng_pm(&s->rng, 500);
    for (;;) {
        int64_t total = 0, max = 0;
        for (uint32_t i = 0; i < n; i++) {
            pw[i] = equal ? 1 : 1 + (int64_t)sim_rng_below(&s->rng, 10);
            total += pw[i];
            if (pw[i] > max)
                max = pw[i];
        }
        if (3 * max < total)
            break;
    }
    s->byz = (uint32_t)sim_rng_below(&s->rng, n);
    if (!cn_cons_valset_init(&s->vs[1], pw, n))
        sim_fail(s, "bad validator set");
    for (uint32_t h = 2; h <= SIM_MAX_H + 1; h++) {
        s->vs[h] = s->vs[h - 1];
        cn_cons_valset_next_height(&s->vs[h]);
    }
    s->cfg = (cn_cons_config){100, 40, 60, 30, 60, 30};
    s->gst = sim_rng_below(&s->rng, sim_rng_pm(&s->rng, 500) ? 2500 : 8000);
    s->drop_pm = (uint32_t)sim_rng_below(&s->rng, 400);
    s->dup_pm = (uint32_t)sim_rng_below(&s->rng, 100);
    s->delay_max = 5 + (uint32_t)sim_rng_below(&s->rng, 300);
    s->crash_mid_pm = sim_rng_pm(&s->rng, 300) ? (uint32_t)sim_rng_below(&s->rng, 30) : 0;
    s->byz_pm = (uint32_t)sim_rng_below(&s->rng, 1001);
    s->byz_mirror = sim_rng_pm(&s->rng, 500);
    if (sim_rng_pm(&s->rng, 300)) {
        s->part_from = sim_rng_below(&s->rng, s->gst + 1);
        s->part_to = s->part_from + sim_rng_below(&s->rng, 1500);
        s->part_mask = 1u + (uint32_t)sim_rng_below(&s->rng, (1u << n) - 2);
    }
    trace(s, "n=%u byz=%u equal=%d gst=%llu drop=%u dup=%u delay<=%u crash_mid=%u byz_pm=%u "
             "mirror=%d",
          n, s->byz, equal, (unsigned long long)s->gst, s->drop_pm, s->dup_pm, s->delay_max,
          s->crash_mid_pm, s->byz_pm, s->byz_mirror);
    for (uint32_t i = 0; i < n; i++) {
        sim_node *nd = &s->nodes[i];
        nd->byz = i == s->byz;
        nd->up = 1;
        nd->core = malloc(sizeof *nd->core);
        if (!nd->core) {
            sim_fail(s, "out of memory");
            return;
        }
        cn_cons_init(nd->core, &s->cfg, NULL);
        if (!nd->byz && s->gst > 0 && sim_rng_pm(&s->rng, 400))
            for (uint64_t k = 1 + sim_rng_below(&s->rng, 3); k > 0; k--)
                schedule(s, SIM_EV_CRASH, i, sim_rng_below(&s->rng, s->gst));
        schedule(s, SIM_EV_GOSSIP, i, sim_rng_below(&s->rng, SIM_GOSSIP_MS));
    }
    schedule(s, SIM_EV_GST, 0, s->gst);
    for (uint32_t i = 0; i < n; i++) {
        cn_cons_start_height(s->nodes[i].core, 1, &s->vs[1], i);
        after_call(s, i);
    }
}

/* 1 when every honest node has reached the target height. */
static int all_done(const sim *s) {
    for (uint32_t i = 0; i < s->n; i++)
        if (!s->nodes[i].byz && s->nodes[i].decided_h < s->target)
            return 0;
    return 1;
}

void sim_run(const sim_params *p, sim_result *r) {
    memset(r, 0, sizeof *r);
    r->ok = 1;
    if (p->n < 4 || p->n > SIM_MAX_N) {
        snprintf(r->why, sizeof r->why, "n must be 4..%u", SIM_MAX_N);
        r->ok = 0;
        return;
    }
    sim *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(r->why, sizeof r->why, "out of memory");
        r->ok = 0;
        return;
    }
    s->prm = *p;
    s->res = r;
    s->n = p->n;
    setup(s);
    sim_event e;
    while (r->ok) {
        if (!sim_heap_pop(&s->q, &e)) {
            sim_fail(s, "event queue ran dry");
            break;
        }
        s->now = e.time;
        r->events++;
        handle(s, &e);
        if (s->after_gst && all_done(s))
            break;
        if (s->after_gst && s->now > s->deadline) {
            char hs[128];
            size_t off = 0;
            for (uint32_t i = 0; i < s->n && off < sizeof hs - 24; i++)
                off += (size_t)snprintf(hs + off, sizeof hs - off, " %llu%s",
                                        (unsigned long long)s->nodes[i].decided_h,
                                        s->nodes[i].byz ? "(byz)" : "");
            sim_fail(s, "progress: heights%s, target %llu, %u ms after GST", hs,
                 (unsigned long long)s->target, SIM_PROGRESS_MS);
        }
    }
    r->heights = UINT64_MAX;
    for (uint32_t i = 0; i < s->n; i++)
        if (!s->nodes[i].byz && s->nodes[i].decided_h < r->heights)
            r->heights = s->nodes[i].decided_h;
    r->sim_ms = s->now;
    for (uint32_t i = 0; i < s->n; i++) {
        free(s->nodes[i].core);
        free(s->nodes[i].sig);
        free(s->nodes[i].wal);
    }
    sim_heap_free(&s->q);
    free(s);
}
