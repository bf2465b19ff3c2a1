/* The oracle's end of block: aggregation, per-asset breakers, stale detection, market-wide
 * breakers, and the governance resume (oracle.h; docs/oracle.md has every rule with numbers).
 *
 * Order, fixed for determinism: assets in genesis order, first aggregation for all of them,
 * then the breakers for all of them, then the market. Every decision is announced by an
 * event: oracle.flag, oracle.no_update (with reason), oracle.price, oracle.halt,
 * oracle.asset_resume, oracle.stale, oracle.close, oracle.market_halt, oracle.market_resume.
 */
#include "node/app/oracle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/app/state.h"

#define FALL_ONE INT64_C(100000000)

typedef struct {
    int64_t cand; /* 0: no candidate this block */
    size_t used;
} agg_out;

static int sat_add(uint64_t a, int64_t b, uint64_t *out) {
    return !__builtin_add_overflow(a, (uint64_t)b, out);
}

/* Step 1 for one asset: fresh reports from sources that still hold the oracle role. */
static int aggregate_asset(cn_overlay *ov, const cn_oracle_params *P, const char *sym,
                           uint64_t now, cn_evlist *ev, agg_out *out) {
    uint8_t *src;
    size_t n;
    memset(out, 0, sizeof *out);
    if (cn_oracle_sources_get(ov, sym, &src, &n) < 0)
        return 0;
    int64_t prices[CN_ORACLE_MAX_SOURCES];
    uint8_t keys[CN_ORACLE_MAX_SOURCES][32], keep[CN_ORACLE_MAX_SOURCES];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        cn_account a;
        cn_oracle_report r;
        int x = cn_state_get_account(ov, src + 32 * i, &a);
        int y = x > 0 ? cn_oracle_report_get(ov, sym, src + 32 * i, &r) : 0;
        if (x < 0 || y < 0) {
            free(src);
            return 0;
        }
        if (!x || !(a.roles & CN_ROLE_ORACLE) || !y)
            continue;
        uint64_t fresh_until;
        if (sat_add(r.observed_at, P->max_age_ms, &fresh_until) && fresh_until < now)
            continue; /* older than max_age */
        prices[k] = r.price;
        memcpy(keys[k], src + 32 * i, 32);
        k++;
    }
    free(src);
    cn_agg_result res = cn_oracle_aggregate(prices, k, P->quorum, P->band_bps,
                                            P->max_spread_bps, keep, &out->cand);
    uint8_t used[CN_ORACLE_MAX_SOURCES][32], flagged[CN_ORACLE_MAX_SOURCES][32];
    size_t nu = 0, nf = 0;
    if (res != CN_AGG_NO_QUORUM) {
        int64_t tmp[CN_ORACLE_MAX_SOURCES];
        memcpy(tmp, prices, k * sizeof *tmp);
        int64_t m0 = cn_oracle_median(tmp, k);
        for (size_t i = 0; i < k; i++) {
            if (keep[i]) {
                memcpy(used[nu++], keys[i], 32);
                continue;
            }
            memcpy(flagged[nf++], keys[i], 32);
            cn_event *e = cn_evlist_add(ev, "oracle.flag");
            cn_ev_str(e, "asset", sym);
            cn_ev_hex(e, "source", keys[i], 32);
            cn_ev_i64(e, "price", prices[i]);
            cn_ev_i64(e, "median", m0);
            cn_ev_i64(e, "band_bps", P->band_bps);
            if (!cn_oracle_flags_add(ov, keys[i]) || !cn_oracle_counter_add(ov, "flags", 1))
                return 0;
        }
    }
    if (res != CN_AGG_OK) {
        nu = 0;
        cn_event *e = cn_evlist_add(ev, "oracle.no_update");
        cn_ev_str(e, "asset", sym);
        cn_ev_str(e, "reason", cn_agg_reason(res));
        cn_ev_i64(e, "fresh", (int64_t)k);
        cn_ev_i64(e, "quorum", P->quorum);
    }
    out->used = nu;
    return cn_oracle_last_put(ov, sym, &used[0][0], nu, &flagged[0][0], nf);
}

/* Rolling reference: floor mean of the window prices no older than window_ms; when all are
 * older, the last published price; 0 before the first price. */
static int64_t reference(const cn_oracle_asset *A, const cn_oracle_params *P, uint64_t now) {
    int64_t v[CN_ORACLE_MAX_WINDOW];
    size_t k = 0;
    for (size_t i = 0; i < A->nwin; i++) {
        uint64_t until;
        if (sat_add(A->win_time[i], P->window_ms, &until) && until < now)
            continue;
        v[k++] = A->win_price[i];
    }
    return k ? cn_oracle_mean(v, k) : A->price;
}

static void publish(cn_oracle_asset *A, const cn_oracle_params *P, int64_t p, uint64_t now) {
    if (A->reopen)
        A->nwin = 0; /* the reopening price starts a new window */
    if (A->nwin >= (size_t)P->window_prices) {
        size_t drop = A->nwin - (size_t)P->window_prices + 1;
        memmove(A->win_price, A->win_price + drop, (A->nwin - drop) * sizeof A->win_price[0]);
        memmove(A->win_time, A->win_time + drop, (A->nwin - drop) * sizeof A->win_time[0]);
        A->nwin -= drop;
    }
    A->win_price[A->nwin] = p;
    A->win_time[A->nwin] = now;
    A->nwin++;
    A->price = p;
    A->updated_at = now;
    A->state = CN_OA_LIVE;
    A->reopen = 0;
}

/* Step 2 for one asset: reopen after a pause, band check, publish or halt, stale. */
static int breakers_asset(cn_overlay *ov, const cn_oracle_params *P, const cn_gen_asset *ga,
                          uint64_t now, const agg_out *ag, cn_evlist *ev) {
    const char *sym = ga->symbol;
    cn_oracle_asset A;
    if (cn_oracle_asset_get(ov, sym, &A) < 0)
        return 0;
    if (A.state == CN_OA_HALTED && now >= A.halt_until) {
        A.state = A.price ? CN_OA_LIVE : CN_OA_NONE;
        A.reopen = 1;
        A.grace_until = now + (uint64_t)P->grace_ms;
        cn_event *e = cn_evlist_add(ev, "oracle.asset_resume");
        cn_ev_str(e, "asset", sym);
        cn_ev_str(e, "reason", "pause_over");
        cn_ev_i64(e, "grace_until", (int64_t)A.grace_until);
    }
    if (ag->cand) {
        int64_t ref = reference(&A, P, now), band = cn_oracle_tier_band(P, ga->risk_tier);
        if (A.state == CN_OA_HALTED) {
            cn_event *e = cn_evlist_add(ev, "oracle.no_update");
            cn_ev_str(e, "asset", sym);
            cn_ev_str(e, "reason", "halted");
            cn_ev_i64(e, "candidate", ag->cand);
            cn_ev_i64(e, "halt_until", (int64_t)A.halt_until);
        } else if (!A.reopen && ref && cn_oracle_beyond(ag->cand, ref, band)) {
            A.state = CN_OA_HALTED;
            A.halt_until = now + (uint64_t)P->asset_pause_ms;
            cn_event *e = cn_evlist_add(ev, "oracle.halt");
            cn_ev_str(e, "asset", sym);
            cn_ev_i64(e, "candidate", ag->cand);
            cn_ev_i64(e, "reference", ref);
            cn_ev_i64(e, "band_bps", band);
            cn_ev_i64(e, "halt_until", (int64_t)A.halt_until);
            if (!cn_oracle_counter_add(ov, "halts", 1) ||
                !cn_oracle_counter_add(ov, "asset_halts", 1))
                return 0;
        } else {
            publish(&A, P, ag->cand, now);
            cn_event *e = cn_evlist_add(ev, "oracle.price");
            cn_ev_str(e, "asset", sym);
            cn_ev_i64(e, "price", ag->cand);
            cn_ev_i64(e, "reference", ref);
            cn_ev_i64(e, "sources", (int64_t)ag->used);
        }
    }
    uint64_t fresh_until;
    if ((A.state == CN_OA_LIVE) && sat_add(A.updated_at, P->max_age_ms, &fresh_until) &&
        fresh_until < now) {
        A.state = CN_OA_STALE;
        cn_event *e = cn_evlist_add(ev, "oracle.stale");
        cn_ev_str(e, "asset", sym);
        cn_ev_i64(e, "price", A.price);
        cn_ev_i64(e, "updated_at", (int64_t)A.updated_at);
        if (!cn_oracle_counter_add(ov, "stale", 1))
            return 0;
    }
    return cn_oracle_asset_put(ov, sym, &A);
}

static int basket_weight(cn_overlay *ov, const char *sym, int64_t *w) {
    char name[64];
    cn_key k;
    snprintf(name, sizeof name, "breakers.weight.%s", sym);
    cn_sk_named(&k, CN_SK_PARAM, name);
    int x = cn_state_get_i64(ov, &k, w);
    if (x < 0)
        return 0;
    if (!x)
        *w = 1;
    return *w >= 0 && *w <= 10000; /* the range cn_oracle_param_check enforces */
}

/* Step 3: reference close, pause expiry, the index fall and the three levels. */
static int breakers_market(cn_overlay *ov, const cn_oracle_params *P, const cn_genesis *g,
                           uint64_t now, cn_evlist *ev) {
    cn_oracle_market M;
    if (cn_oracle_market_get(ov, &M) < 0)
        return 0;
    uint64_t interval = now / (uint64_t)P->close_interval_ms + 1;
    int new_interval = M.interval != interval;
    if (new_interval) {
        M.interval = interval;
        M.triggered = M.level; /* a halt in force keeps its level counted */
        cn_event *e = cn_evlist_add(ev, "oracle.close");
        cn_ev_i64(e, "interval", (int64_t)(interval - 1));
        cn_ev_i64(e, "interval_ms", P->close_interval_ms);
    }
    if ((M.level == 1 || M.level == 2) && now >= M.halt_until) {
        M.level = 0;
        M.halt_until = 0;
        M.grace_until = now + (uint64_t)P->grace_ms;
        cn_event *e = cn_evlist_add(ev, "oracle.market_resume");
        cn_ev_str(e, "reason", "pause_over");
        cn_ev_i64(e, "grace_until", (int64_t)M.grace_until);
    }
    size_t n = g->n_assets;
    int64_t *w = calloc(n ? n : 1, sizeof *w), *p = calloc(n ? n : 1, sizeof *p),
            *c = calloc(n ? n : 1, sizeof *c);
    int ok = w && p && c;
    for (size_t i = 0; ok && i < n; i++) {
        const char *sym = g->assets[i].symbol;
        cn_oracle_asset A;
        if (cn_oracle_asset_get(ov, sym, &A) < 0 || !basket_weight(ov, sym, &w[i]) ||
            cn_oracle_close_get(ov, sym, &c[i]) < 0) {
            ok = 0;
            break;
        }
        p[i] = A.price;
        if (A.price > 0 && (new_interval || c[i] <= 0)) {
            c[i] = A.price;
            ok = cn_oracle_close_put(ov, sym, c[i]);
        }
        if (A.price <= 0)
            w[i] = 0;
    }
    int64_t fall = ok ? cn_oracle_market_fall(w, p, c, n) : 0;
    free(w);
    free(p);
    free(c);
    if (!ok)
        return 0;
    M.last_fall = fall < 0 ? 0 : fall;
    int level = 0;
    for (int l = 3; l >= 1; l--)
        if ((__int128)M.last_fall >= (__int128)P->level_bps[l - 1] * (FALL_ONE / 10000)) {
            level = l;
            break;
        }
    if (level > M.triggered && level > M.level) {
        M.level = level;
        M.triggered = level;
        M.halt_until = level < 3 ? now + (uint64_t)P->level_pause_ms[level - 1] : 0;
        cn_event *e = cn_evlist_add(ev, "oracle.market_halt");
        cn_ev_i64(e, "level", level);
        cn_ev_i64(e, "fall_1e8", M.last_fall);
        cn_ev_i64(e, "level_bps", P->level_bps[level - 1]);
        cn_ev_i64(e, "halt_until", (int64_t)M.halt_until);
        if (!cn_oracle_counter_add(ov, "halts", 1) ||
            !cn_oracle_counter_add(ov, "market_halts", 1))
            return 0;
    }
    return cn_oracle_market_put(ov, &M);
}

int cn_oracle_end_block(cn_overlay *ov, const cn_genesis *g, uint64_t now, cn_evlist *ev) {
    cn_oracle_params P;
    if (cn_oracle_params_load(ov, &P) < 0)
        return 0;
    agg_out *ag = calloc(g->n_assets ? g->n_assets : 1, sizeof *ag);
    if (!ag)
        return 0;
    int ok = 1;
    for (size_t i = 0; ok && i < g->n_assets; i++)
        ok = aggregate_asset(ov, &P, g->assets[i].symbol, now, ev, &ag[i]);
    for (size_t i = 0; ok && i < g->n_assets; i++)
        ok = breakers_asset(ov, &P, &g->assets[i], now, &ag[i], ev);
    free(ag);
    if (ok)
        ok = breakers_market(ov, &P, g, now, ev);
    return ok && !ev->oom && !ov->failed;
}

int cn_oracle_resume_market(cn_overlay *ov, uint64_t now, const char *asset, cn_evlist *ev,
                            char *msg, size_t cap) {
    cn_oracle_params P;
    if (cn_oracle_params_load(ov, &P) < 0)
        return -1;
    if (asset && asset[0]) {
        cn_oracle_asset A;
        int x = cn_oracle_asset_get(ov, asset, &A);
        if (x < 0)
            return -1;
        if (A.state != CN_OA_HALTED) {
            snprintf(msg, cap, "resume_market: asset '%s' is not halted", asset);
            return 0;
        }
        A.state = A.price ? CN_OA_LIVE : CN_OA_NONE;
        A.reopen = 1;
        A.halt_until = 0;
        A.grace_until = now + (uint64_t)P.grace_ms;
        if (!cn_oracle_asset_put(ov, asset, &A))
            return -1;
        cn_event *e = ev ? cn_evlist_add(ev, "oracle.asset_resume") : NULL;
        cn_ev_str(e, "asset", asset);
        cn_ev_str(e, "reason", "governance");
        cn_ev_i64(e, "grace_until", (int64_t)A.grace_until);
        return 1;
    }
    cn_oracle_market M;
    if (cn_oracle_market_get(ov, &M) < 0)
        return -1;
    if (M.level == 0) {
        snprintf(msg, cap, "resume_market: the market is not halted");
        return 0;
    }
    int was = M.level;
    M.level = 0;
    M.halt_until = 0;
    M.grace_until = now + (uint64_t)P.grace_ms;
    if (!cn_oracle_market_put(ov, &M))
        return -1;
    cn_event *e = ev ? cn_evlist_add(ev, "oracle.market_resume") : NULL;
    cn_ev_str(e, "reason", "governance");
    cn_ev_i64(e, "level", was);
    cn_ev_i64(e, "grace_until", (int64_t)M.grace_until);
    return 1;
}
