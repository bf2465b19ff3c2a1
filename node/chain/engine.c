/* The consensus engine: lifecycle, timers, the core's outputs, heights and commits
 * (engine.h; the other parts are listed in engine_internal.h). */
#include "node/chain/engine_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "crypto/encoding.h"
#include "node/app/evidence.h"
#include "node/chain/cert.h"
#include "node/chain/producer.h"
#include "node/chain/propose.h"
#include "node/consensus/bfttime.h"
#include "node/util/log.h"

uint64_t en_now(cn_engine *e) { return e->p.clock_ms ? e->p.clock_ms() : cn_wall_ms(); }

void en_fatal(cn_engine *e, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    CN_LOG_ERROR("consensus: stopping: %s", msg);
    atomic_store(&e->failed, 1);
    event_base_loopbreak(e->base);
}

static int dead(cn_engine *e) { return atomic_load(&e->failed) || atomic_load(&e->stop); }

/* ---- proposer priorities across heights ----------------------------------------------------- */

/* The set of the next height with priorities: one rotation step of the current set, then the
 * priorities carried by key into the next set; a validator that joins starts at
 * -(T + T/8) of the new total T, behind everyone (docs/consensus.md "Proposer rotation"). */
static void next_valset(const cn_cons_valset *cur, const cn_validators *cur_set,
                        const cn_validators *next_set, cn_cons_valset *out) {
    cn_cons_valset stepped = *cur;
    cn_cons_valset_next_height(&stepped);
    memset(out, 0, sizeof *out);
    out->n = next_set->n;
    out->total = next_set->total;
    for (uint32_t i = 0; i < next_set->n; i++) {
        int j = cn_validators_index(cur_set, next_set->key[i]);
        out->power[i] = next_set->power[i];
        out->priority[i] = j >= 0 ? stepped.priority[j] : -(next_set->total + next_set->total / 8);
    }
    if (!cn_cons_valset_check(out)) /* cannot happen with sane powers; stay deterministic */
        for (uint32_t i = 0; i < out->n; i++)
            out->priority[i] = 0;
}

static int valset_of(const cn_validators *set, cn_cons_valset *vs) {
    int64_t powers[CN_CONS_MAX_VALIDATORS];
    for (uint32_t i = 0; i < set->n; i++)
        powers[i] = set->power[i];
    return cn_cons_valset_init(vs, powers, set->n);
}

/* ---- timers ---------------------------------------------------------------------------------- */

static void timer_unlink(cn_engine *e, en_timer *t) {
    if (t->prev)
        t->prev->next = t->next;
    else
        e->timers = t->next;
    if (t->next)
        t->next->prev = t->prev;
    event_free(t->ev);
    free(t);
}

static void on_timer(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    en_timer *t = arg;
    cn_engine *e = t->e;
    uint8_t kind = t->kind;
    uint64_t h = t->height;
    uint32_t r = t->round;
    timer_unlink(e, t);
    if (dead(e) || !e->core_active || h != e->height)
        return;
    cn_cons_on_timeout(e->core, (cn_cons_timeout_kind)kind, h, r);
    en_run_outputs(e);
}

static void schedule_timeout(cn_engine *e, const cn_cons_output *o) {
    en_timer *t = calloc(1, sizeof *t);
    if (!t) {
        en_fatal(e, "out of memory for a timer");
        return;
    }
    t->e = e;
    t->kind = o->u.timeout.kind;
    t->height = o->u.timeout.height;
    t->round = o->u.timeout.round;
    t->ev = event_new(e->base, -1, 0, on_timer, t);
    struct timeval tv = {(time_t)(o->u.timeout.ms / 1000), (suseconds_t)(o->u.timeout.ms % 1000) * 1000};
    if (!t->ev || event_add(t->ev, &tv) != 0) {
        if (t->ev)
            event_free(t->ev);
        free(t);
        en_fatal(e, "could not schedule a timeout");
        return;
    }
    t->next = e->timers;
    if (e->timers)
        e->timers->prev = t;
    e->timers = t;
}

static void timers_clear(cn_engine *e) {
    while (e->timers)
        timer_unlink(e, e->timers);
}

static void add_ms(struct event *ev, uint64_t ms) {
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    event_add(ev, &tv);
}

/* ---- commits --------------------------------------------------------------------------------- */

/* Writes the consensus log's part and the evidence kept since the last commit. */
static cn_store_err commit_hook(void *ctx, cn_store_wtxn *b) {
    cn_engine *e = ctx;
    cn_store_err rc = cn_conslog_commit_hook(e->log, b);
    for (size_t i = 0; rc == CN_STORE_OK && i < e->n_evidence; i++)
        rc = cn_store_put(b, CN_DB_META, e->evidence_key[i], sizeof e->evidence_key[i],
                               e->evidence[i], e->evidence_len[i]);
    return rc;
}

int en_commit_block(cn_engine *e, const uint8_t *block, size_t len, const uint8_t *commit,
                    size_t clen, int checked, char *why, size_t cap) {
    if (!checked && !cn_app_process_proposal(e->p.app, block, len, why, cap))
        return 0;
    char err[512];
    cn_block_result *res = cn_app_finalize_block(e->p.app, block, len, err, sizeof err);
    if (!res) {
        en_fatal(e, "finalize: %s", err);
        return -1;
    }
    uint64_t h = res->height;
    cn_validators nset;
    if (cn_validators_get(&res->ov, 1, &nset) != 1) {
        cn_app_abandon(e->p.app, res);
        en_fatal(e, "height %llu: no validator set for the next height",
                 (unsigned long long)h);
        return -1;
    }
    cn_cons_valset nvs;
    next_valset(&e->vs, &e->set, &nset, &nvs);
    size_t n_txs = res->n_txs;
    uint8_t(*ids)[32] = malloc((n_txs ? n_txs : 1) * 32);
    if (!ids) {
        cn_app_abandon(e->p.app, res);
        en_fatal(e, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n_txs; i++)
        memcpy(ids[i], res->txs[i].hash, 32);
    cn_conslog_prepare_commit(e->log, h, &e->core->sign, &nvs);
    if (!cn_app_commit(e->p.app, res, commit, clen, commit_hook, e, err, sizeof err)) {
        free(ids);
        en_fatal(e, "%s", err);
        return -1;
    }
    for (size_t i = 0; i < e->n_evidence; i++)
        free(e->evidence[i]);
    e->n_evidence = 0;
    cn_clog_loaded_free(&e->loaded); /* a log of this height is void once it is committed */
    pthread_mutex_lock(e->p.mp_lock);
    cn_mempool_update(e->p.mp, (const uint8_t(*)[32])ids, n_txs);
    pthread_mutex_unlock(e->p.mp_lock);
    free(ids);
    e->vs = nvs;
    e->set = nset;
    en_net_admit_set(e);
    if (e->p.on_commit)
        e->p.on_commit(e->p.ctx, h, n_txs);
    return 1;
}

/* DECIDE: the commit certificate from the stored precommits, then the block. */
static void decide(cn_engine *e, const cn_cons_output *o) {
    const cn_cons_proposal *p = &o->u.decide.proposal;
    uint32_t round = o->u.decide.round;
    en_block *b = en_block_find(e, p->id);
    if (!b || !b->valid) {
        en_fatal(e, "height %llu decided a block this node does not hold",
                 (unsigned long long)p->height);
        return;
    }
    cn_cons_vote votes[CN_CONS_MAX_VALIDATORS];
    size_t n = cn_cons_commit_votes(e->core, round, p->id, votes, CN_CONS_MAX_VALIDATORS);
    uint8_t *vb[CN_CONS_MAX_VALIDATORS];
    size_t vl[CN_CONS_MAX_VALIDATORS], k = 0;
    int64_t power = 0;
    for (size_t i = 0; i < n; i++) {
        en_msg *m = en_find_precommit(e, round, votes[i].validator, p->id);
        if (!m)
            continue;
        vb[k] = m->bytes;
        vl[k++] = m->len;
        power += e->vs.power[votes[i].validator];
    }
    uint8_t *commit = NULL;
    size_t clen = 0;
    if (!cn_cons_valset_quorum(&e->vs, power) ||
        !cn_commit_encode(p->height, round, p->id, vb, vl, k, &commit, &clen)) {
        en_fatal(e, "height %llu: could not assemble the commit certificate",
                 (unsigned long long)p->height);
        return;
    }
    /* Keep the block: clearing the height frees the cache. */
    uint8_t *blk = b->bytes;
    size_t blen = b->len;
    b->bytes = NULL;
    e->core_active = 0;
    char why[256];
    int r = en_commit_block(e, blk, blen, commit, clen, 1, why, sizeof why);
    free(blk);
    free(commit);
    if (r == 0) {
        en_fatal(e, "height %llu: the decided block was refused: %s",
                 (unsigned long long)p->height, why);
        return;
    }
    if (r < 0)
        return;
    e->last_round = round;
    if (round > 0)
        e->rounds_skipped++;
    en_next_height(e, 1);
}

/* ---- values ---------------------------------------------------------------------------------- */

/* How long a proposer holds GET_VALUE for transactions before proposing an empty block. */
static uint64_t value_wait_ms(cn_engine *e) {
    uint64_t half = e->cfg.timeout_propose_ms / 2;
    if (e->cfg.empty_block_interval_ms)
        return e->cfg.empty_block_interval_ms < half ? e->cfg.empty_block_interval_ms : half;
    return half;
}

static void try_value(cn_engine *e) {
    if (!e->want_value || !e->core_active)
        return;
    pthread_mutex_lock(e->p.mp_lock);
    size_t pending = cn_mempool_count(e->p.mp);
    pthread_mutex_unlock(e->p.mp_lock);
    int allow_empty = en_now(e) - e->want_since >= value_wait_ms(e);
    if (!pending && !allow_empty) {
        add_ms(e->value_ev, 10);
        return;
    }
    /* BFT time comes from the last commit, so after an idle spell the next block's time lags
     * the clock. A block with transactions must not: oracle reports and deadlines are judged
     * against it. So a stale height gets an empty block, whose commit brings a fresh time. */
    uint64_t bt;
    int stale = pending && cn_block_next_time(e->p.app, &bt) && en_now(e) > bt + EN_FRESH_MS;
    cn_built_block bb;
    char err[256];
    uint8_t *evb[CN_EVIDENCE_PER_BLOCK];
    size_t evl[CN_EVIDENCE_PER_BLOCK];
    size_t nev = en_evidence_for_block(e, evb, evl);
    int r = cn_block_propose_ev(e->p.app, stale ? NULL : e->p.mp, e->p.mp_lock, e->key.pub,
                                allow_empty || stale, evb, evl, nev, &bb, err, sizeof err);
    if (r < 0) {
        en_fatal(e, "%s", err);
        return;
    }
    if (r == 0) { /* the mempool held nothing executable yet */
        add_ms(e->value_ev, 10);
        return;
    }
    e->want_value = 0;
    en_block *b = en_block_add(e, bb.block, bb.len, bb.id, 0);
    uint8_t id[32];
    memcpy(id, bb.id, 32);
    cn_built_block_free(&bb);
    if (!b || !b->valid) {
        en_fatal(e, "height %llu: own proposal refused", (unsigned long long)e->height);
        return;
    }
    cn_conslog_add_block(e->log, id, b->bytes, b->len);
    cn_cons_on_value(e->core, e->height, e->want_round, id);
    en_run_outputs(e);
}

static void on_value_timer(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    cn_engine *e = arg;
    if (!dead(e))
        try_value(e);
}

/* ---- outputs --------------------------------------------------------------------------------- */

static int out_kind(const cn_cons_output *o) {
    return o->kind == CN_CONS_OUT_PROPOSAL ? CN_CLOG_PROPOSAL : CN_CLOG_VOTE;
}

void en_run_outputs(cn_engine *e) {
    size_t n;
    const cn_cons_output *src = cn_cons_outputs(e->core, &n);
    if (e->core->overflow) {
        en_fatal(e, "consensus core output overflow");
        return;
    }
    cn_cons_output buf[CN_CONS_MAX_OUTPUTS];
    memcpy(buf, src, n * sizeof buf[0]);
    const cn_cons_output *dec = NULL;
    int get_value = 0;
    for (size_t k = 0; k < n && !dead(e); k++) {
        const cn_cons_output *o = &buf[k];
        switch ((cn_cons_out_kind)o->kind) {
        case CN_CONS_OUT_PERSIST: {
            const cn_cons_output *next = k + 1 < n ? &buf[k + 1] : NULL;
            if (!next || (next->kind != CN_CONS_OUT_PROPOSAL && next->kind != CN_CONS_OUT_VOTE)) {
                en_fatal(e, "PERSIST without a message to sign");
                return;
            }
            uint8_t *bytes;
            size_t len;
            if (!en_sign_output(e, next, &bytes, &len)) {
                en_fatal(e, "could not sign");
                return;
            }
            char err[256];
            if (!cn_conslog_persist(e->log, &o->u.sign, out_kind(next), bytes, len, err,
                                    sizeof err)) {
                free(bytes);
                en_fatal(e, "%s", err);
                return;
            }
            free(e->last_signed);
            e->last_signed = malloc(len);
            if (e->last_signed)
                memcpy(e->last_signed, bytes, len);
            e->last_signed_len = e->last_signed ? len : 0;
            e->last_signed_kind = out_kind(next);
            free(e->pending_signed);
            e->pending_signed = bytes;
            e->pending_len = len;
            break;
        }
        case CN_CONS_OUT_PROPOSAL:
        case CN_CONS_OUT_VOTE: {
            uint8_t *bytes = NULL;
            size_t len = 0;
            if (!o->resend && e->pending_signed) {
                bytes = e->pending_signed;
                len = e->pending_len;
                e->pending_signed = NULL;
            } else if (o->resend && e->last_signed && e->last_signed_kind == out_kind(o)) {
                bytes = malloc(e->last_signed_len);
                if (bytes)
                    memcpy(bytes, e->last_signed, e->last_signed_len);
                len = e->last_signed_len;
            }
            if (!bytes) {
                en_fatal(e, "a message to send was neither signed nor stored");
                return;
            }
            en_own_message(e, out_kind(o), bytes, len);
            break;
        }
        case CN_CONS_OUT_GET_VALUE:
            get_value = 1;
            e->want_round = o->u.get_value.round;
            break;
        case CN_CONS_OUT_TIMEOUT:
            schedule_timeout(e, o);
            break;
        case CN_CONS_OUT_DECIDE:
            dec = o;
            break;
        case CN_CONS_OUT_EVIDENCE:
            en_evidence(e, o);
            break;
        case CN_CONS_OUT_PROPOSAL_CONFLICT:
            CN_LOG_WARN("consensus: validator %u signed two proposals at height %llu round %u",
                        o->u.proposal_conflict.b.proposer,
                        (unsigned long long)o->u.proposal_conflict.b.height,
                        o->u.proposal_conflict.b.round);
            break;
        }
    }
    if (dead(e))
        return;
    if (dec) {
        decide(e, dec);
        return;
    }
    if (get_value) {
        e->want_value = 1;
        e->want_since = en_now(e);
        try_value(e);
    }
}

/* ---- heights --------------------------------------------------------------------------------- */

static void replay_log(cn_engine *e) {
    cn_clog_loaded *L = &e->loaded;
    e->replaying = 1;
    for (size_t i = 0; i < L->n && !dead(e); i++)
        if (L->e[i].kind != 0)
            (void)en_on_signed(e, L->e[i].kind, L->e[i].bytes, L->e[i].len, -1);
    e->replaying = 0;
    cn_clog_loaded_free(L);
}

static void start_height_now(cn_engine *e) {
    const cn_tip *tip = cn_app_tip(e->p.app);
    e->height = tip->height + 1;
    int idx = cn_validators_index(&e->set, e->key.pub);
    e->self = idx >= 0 ? (uint32_t)idx : CN_CONS_NONE;
    int first = e->loaded.has_state || e->loaded.n;
    uint32_t seq = 0;
    if (first) {
        /* blocks of the log first: a resent proposal needs its block */
        for (size_t i = 0; i < e->loaded.n; i++) {
            if (e->loaded.e[i].kind == 0)
                (void)en_block_add(e, e->loaded.e[i].bytes, e->loaded.e[i].len,
                                   e->loaded.e[i].id, 1);
            else
                seq++;
        }
    }
    en_future_blocks(e);
    cn_conslog_begin_height(e->log, e->height, seq);
    e->core_active = 1;
    e->height_started_ms = en_now(e);
    if (cn_cons_start_height(e->core, e->height, &e->vs, e->self) != CN_CONS_OK) {
        en_fatal(e, "height %llu: the validator set was refused by the core",
                 (unsigned long long)e->height);
        return;
    }
    en_run_outputs(e);
    if (first && !dead(e))
        replay_log(e);
    if (!dead(e) && e->core_active)
        en_future_replay(e);
    en_send_status(e, -1);
    en_publish_status(e);
}

static void on_start_timer(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    cn_engine *e = arg;
    if (dead(e) || e->catching_up || e->core_active)
        return;
    if (e->lone) {
        /* A lone validator waits for transactions (or the empty-block interval). */
        pthread_mutex_lock(e->p.mp_lock);
        size_t pending = cn_mempool_count(e->p.mp);
        pthread_mutex_unlock(e->p.mp_lock);
        uint64_t idle = en_now(e) - e->height_started_ms;
        if (!pending && (!e->cfg.empty_block_interval_ms || idle < e->cfg.empty_block_interval_ms)) {
            add_ms(e->start_ev, 5);
            return;
        }
    }
    start_height_now(e);
}

void en_next_height(cn_engine *e, int paced) {
    e->core_active = 0;
    e->want_value = 0;
    timers_clear(e);
    en_msgs_clear(e);
    en_blocks_clear(e);
    e->height = cn_app_tip(e->p.app)->height + 1;
    en_publish_status(e);
    if (e->catching_up || dead(e))
        return;
    if (e->lone) {
        add_ms(e->start_ev, paced ? e->cfg.block_interval_ms : 0);
        return;
    }
    if (paced && e->cfg.block_interval_ms) {
        add_ms(e->start_ev, e->cfg.block_interval_ms);
        en_send_status(e, -1);
        return;
    }
    start_height_now(e);
}

/* ---- status ---------------------------------------------------------------------------------- */

void en_publish_status(cn_engine *e) {
    cn_engine_status st;
    memset(&st, 0, sizeof st);
    st.height = e->height;
    st.round = e->core_active ? e->core->round : 0;
    st.step = e->core_active ? e->core->step : 0;
    st.validator = e->self == CN_CONS_NONE ? -1 : (int)e->self;
    st.validators = e->set.n;
    st.catching_up = e->catching_up;
    st.sync_target = e->sync_target;
    st.sync_blocks = e->sync_applied;
    st.sync_rate = e->sync_rate;
    st.evidence = e->n_evidence_total;
    st.rounds_skipped = e->rounds_skipped;
    st.last_round = e->last_round;
    st.refused = e->core->refused;
    st.bad_messages = e->bad_messages;
    st.p2p_listen_port = e->p2p ? cn_p2p_listen_port(e->p2p) : 0;
    for (size_t i = 0; i < e->n_peers && st.n_peers < CN_ENGINE_STATUS_PEERS; i++) {
        cn_engine_peer_status *ps = &st.peers[st.n_peers++];
        const en_peer *p = &e->peers[i];
        memcpy(ps->key, p->key, 32);
        ps->connected = p->connected;
        ps->height = p->has_status ? p->height : 0;
        ps->last_committed = p->has_status ? p->last_committed : 0;
        ps->round = p->round;
        cn_p2p_peer_status q;
        if (e->p2p && cn_p2p_peer_status_get(e->p2p, p->key, &q)) {
            snprintf(ps->addr, sizeof ps->addr, "%s", q.addr);
            ps->score = q.score;
            ps->msgs_in = q.msgs_in;
            ps->msgs_out = q.msgs_out;
            ps->dropped = q.dropped;
        }
    }
    pthread_mutex_lock(&e->st_mu);
    e->st = st;
    pthread_mutex_unlock(&e->st_mu);
}

void cn_engine_status_get(cn_engine *e, cn_engine_status *out) {
    pthread_mutex_lock(&e->st_mu);
    *out = e->st;
    pthread_mutex_unlock(&e->st_mu);
}

/* ---- lifecycle ------------------------------------------------------------------------------- */

static void on_wake(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    cn_engine *e = arg;
    if (atomic_load(&e->stop)) {
        event_base_loopbreak(e->base);
        return;
    }
    en_drain_txq(e);
}

static void on_tick(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    cn_engine *e = arg;
    if (dead(e))
        return;
    en_sync_tick(e);
    if (!dead(e))
        en_gossip(e);
    en_publish_status(e);
}

static void on_txflush(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    en_tx_flush(arg);
}

static int init_sets(cn_engine *e, char *err, size_t cap) {
    const cn_tip *tip = cn_app_tip(e->p.app);
    e->set = *cn_app_validators(e->p.app, 1);
    cn_clog_loaded *L = &e->loaded;
    if (L->has_prio && L->prio_height == tip->height + 1 && L->prio.n == e->set.n) {
        for (uint32_t i = 0; i < e->set.n; i++) {
            e->vs.power[i] = e->set.power[i];
            e->vs.priority[i] = L->prio.priority[i];
        }
        e->vs.n = e->set.n;
        e->vs.total = e->set.total;
        if (cn_cons_valset_check(&e->vs))
            return 1;
        snprintf(err, cap, "consensus log: the stored proposer priorities are out of range");
        return 0;
    }
    if (tip->height == 0 && !L->has_prio)
        return valset_of(&e->set, &e->vs) ? 1 : (snprintf(err, cap, "bad validator set"), 0);
    snprintf(err, cap,
             "consensus log: proposer priorities for height %llu are missing or do not match "
             "the validator set",
             (unsigned long long)tip->height + 1);
    return 0;
}

/* libevent must know about threads before any base exists: other threads wake the loop. */
static void use_threads(void) { (void)evthread_use_pthreads(); }

cn_engine *cn_engine_new(const cn_engine_params *p, char *err, size_t cap) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    (void)pthread_once(&once, use_threads);
    cn_engine *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    e->p = *p;
    e->cfg = *p->cfg;
    e->key = *p->key;
    e->g = cn_app_genesis(p->app);
    e->store = cn_app_store(p->app);
    pthread_mutex_init(&e->txq_mu, NULL);
    pthread_mutex_init(&e->st_mu, NULL);
    atomic_init(&e->stop, 0);
    atomic_init(&e->failed, 0);
    e->ccfg = (cn_cons_config){e->cfg.timeout_propose_ms, e->cfg.timeout_propose_delta_ms,
                               e->cfg.timeout_prevote_ms, e->cfg.timeout_prevote_delta_ms,
                               e->cfg.timeout_precommit_ms, e->cfg.timeout_precommit_delta_ms};
    e->core = calloc(1, sizeof *e->core);
    e->log = cn_conslog_new(e->store);
    e->base = event_base_new();
    if (!e->core || !e->log || !e->base) {
        snprintf(err, cap, "out of memory");
        goto fail;
    }
    const cn_tip *tip = cn_app_tip(p->app);
    if (!cn_conslog_load(e->store, tip->height + 1, &e->loaded, err, cap))
        goto fail;
    if (!cn_cons_init(e->core, &e->ccfg, e->loaded.has_state ? &e->loaded.state : NULL)) {
        snprintf(err, cap, "consensus log: the sign state is inconsistent");
        goto fail;
    }
    if (e->loaded.last) {
        e->last_signed = e->loaded.last;
        e->last_signed_len = e->loaded.last_len;
        e->last_signed_kind = e->loaded.last_kind;
        e->loaded.last = NULL;
    }
    if (!init_sets(e, err, cap))
        goto fail;
    e->height = tip->height + 1;
    e->self = CN_CONS_NONE;
    e->wake = event_new(e->base, -1, EV_PERSIST, on_wake, e);
    e->tick = event_new(e->base, -1, EV_PERSIST, on_tick, e);
    e->start_ev = event_new(e->base, -1, 0, on_start_timer, e);
    e->value_ev = event_new(e->base, -1, 0, on_value_timer, e);
    e->txflush_ev = event_new(e->base, -1, 0, on_txflush, e);
    if (!e->wake || !e->tick || !e->start_ev || !e->value_ev || !e->txflush_ev) {
        snprintf(err, cap, "could not create the engine's events");
        goto fail;
    }
    en_sync_reset(e);
    if (!en_net_open(e, err, cap))
        goto fail;
    en_publish_status(e);
    return e;
fail:
    cn_engine_free(e);
    return NULL;
}

static void *engine_main(void *arg) {
    cn_engine *e = arg;
    struct timeval tv = {0, EN_GOSSIP_MS * 1000};
    event_add(e->wake, NULL);
    event_add(e->tick, &tv);
    if (e->lone)
        e->height_started_ms = en_now(e);
    /* The first height starts at once (its pacing happened before the restart). */
    if (e->lone)
        add_ms(e->start_ev, 0);
    else
        start_height_now(e);
    if (!dead(e))
        event_base_dispatch(e->base);
    if (e->p2p)
        cn_p2p_stop(e->p2p);
    return NULL;
}

int cn_engine_start(cn_engine *e, char *err, size_t cap) {
    const cn_tip *tip = cn_app_tip(e->p.app);
    char vk[65];
    cn_hex_encode(vk, e->key.pub, 32);
    int idx = cn_validators_index(&e->set, e->key.pub);
    CN_LOG_INFO("consensus: height %llu, %u validators, this node %s%s; p2p %s",
                (unsigned long long)tip->height + 1, e->set.n, vk,
                idx >= 0 ? " is a validator" : " is a full node",
                e->lone ? "off (lone validator)" : "on");
    if (pthread_create(&e->th, NULL, engine_main, e) != 0) {
        snprintf(err, cap, "could not start the consensus thread");
        return 0;
    }
    e->started = 1;
    return 1;
}

void cn_engine_stop(cn_engine *e) {
    if (!e || !e->started)
        return;
    atomic_store(&e->stop, 1);
    event_active(e->wake, EV_READ, 0);
    pthread_join(e->th, NULL);
    e->started = 0;
}

int cn_engine_failed(cn_engine *e) { return atomic_load(&e->failed); }

void cn_engine_gossip_tx(cn_engine *e, const uint8_t *bytes, size_t len) {
    if (!e || e->lone)
        return;
    uint8_t *copy = malloc(len);
    if (!copy)
        return;
    memcpy(copy, bytes, len);
    pthread_mutex_lock(&e->txq_mu);
    if (e->txq_n == e->txq_cap) {
        size_t nc = e->txq_cap ? e->txq_cap * 2 : 256;
        uint8_t **q = realloc(e->txq, nc * sizeof *q);
        size_t *ql = q ? realloc(e->txq_len, nc * sizeof *ql) : NULL;
        if (q)
            e->txq = q;
        if (!q || !ql) {
            pthread_mutex_unlock(&e->txq_mu);
            free(copy);
            return;
        }
        e->txq_len = ql;
        e->txq_cap = nc;
    }
    e->txq[e->txq_n] = copy;
    e->txq_len[e->txq_n++] = len;
    int first = e->txq_n == 1;
    pthread_mutex_unlock(&e->txq_mu);
    if (first)
        event_active(e->wake, EV_READ, 0);
}

void cn_engine_free(cn_engine *e) {
    if (!e)
        return;
    cn_engine_stop(e);
    if (e->base)
        timers_clear(e);
    en_msgs_clear(e);
    free(e->msgs);
    en_blocks_clear(e);
    for (size_t i = 0; i < e->n_future; i++)
        free(e->future[i].bytes);
    for (size_t i = 0; i < e->n_fblocks; i++)
        free(e->fblocks[i].bytes);
    for (size_t i = 0; i < e->n_peers; i++)
        free(e->peers[i].asm_.buf);
    for (size_t i = 0; i < EN_SYNC_WINDOW; i++) {
        free(e->sync[i].block);
        free(e->sync[i].commit);
    }
    for (size_t i = 0; i < e->n_evidence; i++)
        free(e->evidence[i]);
    for (size_t i = 0; i < e->n_evpool; i++)
        free(e->evpool[i]);
    for (size_t i = 0; i < e->txq_n; i++)
        free(e->txq[i]);
    for (size_t i = 0; i < e->n_rx_tx; i++)
        free(e->rx_tx[i]);
    free(e->txq);
    free(e->txq_len);
    cn_p2p_free(e->p2p);
    struct event *evs[] = {e->wake, e->tick, e->start_ev, e->value_ev, e->txflush_ev};
    for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
        if (evs[i])
            event_free(evs[i]);
    if (e->base)
        event_base_free(e->base);
    cn_clog_loaded_free(&e->loaded);
    cn_conslog_free(e->log);
    free(e->core);
    free(e->last_signed);
    free(e->pending_signed);
    free(e->conflict_bytes);
    cn_keypair_wipe(&e->key);
    pthread_mutex_destroy(&e->txq_mu);
    pthread_mutex_destroy(&e->st_mu);
    free(e);
}
