/* The end-of-block liquidation pass of the margin module (endblock.h step 3; docs/margin.md
 * "Liquidation pass"). After the oracle and breakers have run for this block:
 *
 *   1. accrue(): the loan index moves to this height;
 *   2. for every asset whose price was published in this block: record_price() (volatility
 *      add-on); if the add-on changed, refresh() every holder of the asset (their liquidation
 *      prices moved); then the crossing scan of the liquidation-price index at the new price
 *      gives the candidates: only accounts the move crossed are touched;
 *   3. candidates and queued accounts are checked with `requirements`; those with equity
 *      below maintenance are (re)queued at their rank, the others leave the queue;
 *   4. the queue is worked in key order (worst rank first, ties by account id), at most
 *      `margin.max_liquidations_per_block` liquidation steps. Each account gets one step per
 *      block, on its largest position whose asset takes liquidations (not halted, not stale,
 *      priced); inside a grace period only an account with E < grace_bps × MM is liquidated.
 *      What is not liquidated stays queued for the next block.
 * The pass emits margin.queued / margin.unqueued as accounts enter and leave the queue; the
 * contract's events (margin.call, margin.liquidation, margin.penalty, margin.shortfall,
 * margin.bad_debt) join the block's end-of-block events, and "margin.pass" summarizes it.
 */
#include "node/app/margin.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/bytes.h"
#include "node/app/custody.h"
#include "node/app/margin_queue.h"
#include "node/app/margin_store.h"

typedef struct {
    cn_crt *rt;
    cn_overlay *ov;
    const cn_genesis *g;
    uint64_t time_ms;
    cn_evlist *ev;
    int64_t cap, grace_bps;
    int64_t candidates, crossed, liquidated, deferred_halt, deferred_grace, left_queue;
    int64_t entered_queue, queue_events;
} pass;

/* Queue events listed per block. The end-of-block receipt is one message capped at 4 MiB
 * (CN_CAP_BLOCK), and a crash may cross hundreds of thousands of accounts at once: an
 * unbounded list would make the block impossible to store. The counts in margin.pass stay
 * complete; the queue itself is state (GET /v1/margin shows each account's entry). */
#define QUEUE_EVENTS_MAX 1000

static const uint8_t keeper[32]; /* the caller of the node's own calls: the zero id */

/* Runs entry and applies it; contract events go to the block's events. Returns 1 applied,
 * 0 reverted (*code set), -1 failure. */
static int call_apply(pass *p, const char *entry, const int64_t *args, uint32_t nargs,
                      int64_t *value) {
    cn_crt_out out;
    int x = cn_crt_run(p->rt, keeper, entry, args, nargs, CN_CRT_VIEW_GAS, -1, 0, &out);
    if (x > 0 && out.res.status != CN_VM_OK) {
        *value = out.res.status == CN_VM_E_REVERT ? out.res.value : -(int64_t)out.res.status;
        x = 0;
    } else if (x > 0) {
        char msg[160];
        *value = out.res.value;
        if (cn_crt_apply(p->rt, &out.vo, msg, sizeof msg) != CN_TX_OK)
            x = -1;
        for (uint32_t i = 0; x > 0 && i < out.vo.nevents; i++) {
            cn_event e;
            if (!cn_margin_event(p->g, &out.vo.events[i], &e))
                continue;
            cn_event *d = cn_evlist_add(p->ev, e.type);
            if (!d)
                x = -1;
            else
                *d = e;
        }
    } else if (x == 0) {
        x = -1; /* a deployed margin contract exports every entry the pass uses */
    }
    cn_crt_out_free(&out);
    return x;
}

/* The volatility add-on stored in the asset's ring ("v" asset, offset 16), 0 if none. */
static int stored_addon(pass *p, int64_t asset, int64_t *addon) {
    uint8_t key[9];
    key[0] = 'v';
    cn_put_be64(key + 1, (uint64_t)asset);
    return cn_margin_word(p->ov, p->rt->id, key, sizeof key, 16, addon) < 0 ? -1 : 1;
}

/* Step 2 for one asset: records the price, refreshes holders on an add-on change, adds the
 * crossed accounts to cand. */
static int asset_moved(pass *p, int64_t asset, int64_t price, cn_idset *cand) {
    int64_t before, after, args[5] = {asset};
    if (stored_addon(p, asset, &before) < 0)
        return 0;
    int x = call_apply(p, "record_price", args, 1, &after);
    if (x < 0)
        return 0;
    if (x > 0 && after != before) {
        cn_idset h = {0};
        int ok = cn_margin_holders(p->rt, asset, &h) >= 0;
        for (size_t i = 0; ok && i < h.n; i++) {
            int64_t eq;
            cn_margin_words(h.id[i], args);
            /* a refresh that reverts (another position without a price) changes nothing */
            ok = call_apply(p, "refresh", args, 4, &eq) >= 0;
        }
        cn_idset_free(&h);
        if (!ok)
            return 0;
    }
    int64_t n = cn_margin_crossing(p->rt, asset, price, cand);
    if (n < 0)
        return 0;
    p->crossed += n;
    return 1;
}

/* What step 3 found for one account. */
typedef struct {
    int verdict; /* 1 under maintenance, 0 not, 2 not evaluable now (a position without a
                  * price), -1 failure */
    int64_t rank, equity, maintenance;
} judgement;

static judgement judge(pass *p, const uint8_t id[32]) {
    judgement j = {0, 0, 0, 0};
    int x = cn_margin_eval(p->rt, id, &j.equity, NULL, &j.maintenance);
    if (x <= 0)
        j.verdict = x < 0 ? -1 : 2;
    else if (j.maintenance > 0 && j.equity < j.maintenance) {
        j.rank = cn_mq_rank(j.equity, j.maintenance);
        j.verdict = 1;
    }
    return j;
}

/* "margin.queued" / "margin.unqueued": an account enters or leaves the queue. Entering is
 * the margin call proper (equity fell below maintenance), emitted once, whether or not the
 * account can be liquidated in this block; the contract's margin.call comes with each step. */
static int queue_event(pass *p, const char *type, const uint8_t id[32], const judgement *j) {
    if (p->queue_events >= QUEUE_EVENTS_MAX)
        return 1;
    p->queue_events++;
    cn_event *e = cn_evlist_add(p->ev, type);
    if (!e)
        return 0;
    cn_ev_hex(e, "account", id, 32);
    cn_ev_i64(e, "equity", j->equity);
    cn_ev_i64(e, "maintenance", j->maintenance);
    if (j->verdict == 1)
        cn_ev_i64(e, "rank_bps", j->rank);
    return 1;
}

/* Applies a judgement: queue at its rank, or leave the queue. */
static int settle(pass *p, const uint8_t id[32], const judgement *j) {
    if (j->verdict == 2)
        return 1; /* left as it is */
    int64_t r = 0;
    int q = cn_mq_get(p->ov, id, &r);
    if (q < 0)
        return 0;
    if (j->verdict == 1) {
        p->entered_queue += !q;
        return (q || queue_event(p, "margin.queued", id, j)) &&
               cn_mq_put_known(p->ov, id, q, r, j->rank);
    }
    if (!q)
        return 1;
    p->left_queue++;
    return queue_event(p, "margin.unqueued", id, j) && cn_mq_del_known(p->ov, id, r);
}

static int check(pass *p, const uint8_t id[32]) {
    judgement j = judge(p, id);
    return j.verdict >= 0 && settle(p, id, &j);
}

/* The position a step liquidates: the largest by value among assets that take
 * liquidations now. Returns 1 (*asset, *flags), 0 none (all halted or stale), -1 failure. */
static int pick_position(pass *p, const uint8_t id[32], int64_t *asset, uint32_t *flags) {
    unsigned __int128 best = 0;
    int found = 0;
    int64_t held[CN_MAX_ASSETS];
    long nh = cn_margin_positions(p->rt, id, held, CN_MAX_ASSETS);
    if (nh < 0)
        return -1;
    for (long j = 0; j < nh; j++) {
        int64_t i = held[j], q, cost, liq, price;
        uint64_t at, until;
        uint32_t f;
        if (i < 1 || (uint64_t)i >= p->g->n_assets)
            continue;
        int x = cn_margin_pos_get(p->ov, p->rt->id, id, i, &q, &cost, &liq);
        if (x < 0)
            return -1;
        if (x == 0)
            continue;
        const char *sym = p->g->assets[i].symbol;
        if (cn_oracle_halt_state(p->ov, sym, p->time_ms, &f, &until) < 0 ||
            cn_oracle_price(p->ov, sym, &price, &at) < 0)
            return -1;
        if ((f & CN_OH_NO_RISK) || price <= 0)
            continue;
        unsigned __int128 v = (unsigned __int128)(q < 0 ? -(__int128)q : q) * (uint64_t)price;
        if (!found || v > best) {
            best = v;
            *asset = (int64_t)i;
            *flags = f;
            found = 1;
        }
    }
    return found;
}

/* Step 4 for one queued account, judged in this block's step 3 (its rank is current).
 * Returns 1, 0 on failure. */
static int work(pass *p, const uint8_t id[32], int64_t rank) {
    int64_t asset = 0;
    uint32_t flags = 0;
    int x = pick_position(p, id, &asset, &flags);
    if (x < 0)
        return 0;
    if (x == 0) {
        p->deferred_halt++;
        return 1;
    }
    /* grace: only deeply under-margined accounts, E < grace_bps × MM / 10000, which for
     * an integer grace_bps is rank = floor(E × 10000 / MM) < grace_bps */
    if ((flags & CN_OH_GRACE) && !(rank < p->grace_bps)) {
        p->deferred_grace++;
        return 1;
    }
    int64_t args[5], closed;
    cn_margin_words(id, args);
    args[4] = asset;
    x = call_apply(p, "liquidate", args, 5, &closed);
    if (x < 0)
        return 0;
    p->liquidated += x;
    return check(p, id);
}

static int run_pass(pass *p) {
    int64_t idx;
    if (call_apply(p, "accrue", NULL, 0, &idx) <= 0)
        return 0;
    cn_idset cand = {0};
    int ok = 1;
    for (size_t i = 1; ok && i < p->g->n_assets; i++) {
        int64_t price;
        uint64_t at;
        int x = cn_oracle_price(p->ov, p->g->assets[i].symbol, &price, &at);
        if (x < 0)
            ok = 0;
        else if (x > 0 && at == p->time_ms)
            ok = asset_moved(p, (int64_t)i, price, &cand);
    }
    cn_mq_entry *q = NULL;
    long nq = ok ? cn_mq_list(p->ov, &q) : -1;
    for (long i = 0; ok && i < nq; i++)
        ok = cn_idset_add(&cand, q[i].id);
    free(q);
    ok = ok && nq >= 0;
    p->candidates = (int64_t)cand.n;
    /* judged first, queued after: every write to the block overlay makes the next contract
     * call's scans index more keys, so the k checks of a tick stay linear in k */
    judgement *jd = calloc(cand.n ? cand.n : 1, sizeof *jd);
    ok = ok && jd;
    for (size_t i = 0; ok && i < cand.n; i++)
        ok = (jd[i] = judge(p, cand.id[i])).verdict >= 0;
    for (size_t i = 0; ok && i < cand.n; i++)
        ok = settle(p, cand.id[i], &jd[i]);
    free(jd);
    cn_idset_free(&cand);
    q = NULL;
    nq = ok ? cn_mq_list(p->ov, &q) : -1;
    ok = ok && nq >= 0;
    /* the list is the queue as ranked now; work changes ranks but not this order */
    for (long i = 0; ok && i < nq && p->liquidated < p->cap; i++)
        ok = work(p, q[i].id, q[i].rank);
    free(q);
    return ok;
}

int cn_margin_end_block(cn_overlay *ov, const cn_genesis *g, uint64_t height, uint64_t time_ms,
                        cn_evlist *ev) {
    cn_crt rt;
    int x = cn_crt_open(&rt, ov, g, CN_MARGIN_NAME, height, (int64_t)time_ms);
    if (x == 0)
        return 1;
    if (x < 0) {
        cn_crt_close(&rt);
        return 0;
    }
    pass p;
    memset(&p, 0, sizeof p);
    p.rt = &rt;
    p.ov = ov;
    p.g = g;
    p.time_ms = time_ms;
    p.ev = ev;
    int ok = cn_param_get(ov, CN_MARGIN_P_MAX_LIQ, CN_MARGIN_DEF_MAX_LIQ, &p.cap) >= 0 &&
             cn_param_get(ov, CN_MARGIN_P_GRACE, CN_MARGIN_DEF_GRACE, &p.grace_bps) >= 0;
    ok = ok && run_pass(&p);
    cn_crt_close(&rt);
    if (!ok)
        return 0;
    cn_mq_entry *q = NULL;
    long nq = cn_mq_list(ov, &q);
    free(q);
    if (nq < 0)
        return 0;
    if (p.crossed || p.liquidated || nq || p.left_queue || p.entered_queue) {
        cn_event *e = cn_evlist_add(ev, "margin.pass");
        if (!e)
            return 0;
        cn_ev_i64(e, "crossed", p.crossed);
        cn_ev_i64(e, "liquidated", p.liquidated);
        cn_ev_i64(e, "queued", nq);
        cn_ev_i64(e, "deferred_halted", p.deferred_halt);
        cn_ev_i64(e, "deferred_grace", p.deferred_grace);
        cn_ev_i64(e, "left_queue", p.left_queue);
        cn_ev_i64(e, "entered_queue", p.entered_queue);
        cn_ev_i64(e, "queue_events_unlisted", p.entered_queue + p.left_queue - p.queue_events);
    }
    return !ev->oom;
}
