/* The oracle module: price reports, per-block aggregation and circuit breakers (DESIGN.md §8,
 * docs/oracle.md is the specification with worked numbers).
 *
 * Registered sources (members with role oracle) send `oracle_report` transactions: asset,
 * price (micro-USD per whole unit), observed_at (ms) and round. A report is checked when it
 * executes (asset exists, price inside the asset's bounds, observed_at neither in the future
 * beyond a tolerance nor older than max_age, round strictly above the source's last round for
 * that asset) and stored as the latest report of (asset, source).
 *
 * At the end of every block (node/app/endblock.c), for each genesis asset in genesis order:
 *   1. aggregation: the lower median of fresh reports from >= quorum distinct sources; reports
 *      further than band_bps from it are dropped and their sources flagged; the median of the
 *      rest is the candidate, unless fewer than quorum remain or the spread is too wide;
 *   2. breakers: the candidate is published unless the asset is halted, or it lies outside the
 *      LULD-like band around the rolling reference (then the asset halts for a pause); an asset
 *      without a valid update for max_age turns stale; then the market-wide index is compared
 *      with the reference close (levels 1..3).
 * Everything is integer arithmetic with 128-bit intermediates; all state lives in the overlay
 * under the module byte 'o' (docs/state.md), so it is covered by the app hash.
 */
#ifndef CLEARNODE_NODE_APP_ORACLE_H
#define CLEARNODE_NODE_APP_ORACLE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/schnorr.h"
#include "node/app/ledger.h"
#include "node/app/overlay.h"
#include "node/genesis/genesis.h"
#include "proto/codec.h"

#define CN_SK_ORACLE 'o'
#define CN_ORACLE_MAX_SOURCES 256 /* distinct sources remembered per asset */
#define CN_ORACLE_MAX_WINDOW 32   /* most prices in the rolling reference window */

/* ---- parameters (one table, docs/oracle.md) ----------------------------------------------- */

typedef struct {
    int64_t quorum, max_age_ms, band_bps, max_spread_bps, future_ms, bound_factor;
    int64_t window_ms, window_prices, tier_bps[3], asset_pause_ms;
    int64_t level_bps[3], level_pause_ms[2], close_interval_ms, grace_ms;
} cn_oracle_params;

/* Checks a value for a named oracle/breaker parameter, including the per-asset names
 * ("oracle.min_price.BTC", "oracle.max_price.BTC", "breakers.weight.BTC"). Returns 1 if the
 * name belongs to this module and the value is in range; 0 with a reason otherwise. For
 * governance: validate before writing 'p' name. */
int cn_oracle_param_check(const char *name, int64_t value, char *msg, size_t cap);

/* Reads the parameters from state ('p' keys), defaults for absent ones. Returns 1, -1 storage
 * error or an out-of-range value in state. */
int cn_oracle_params_load(cn_overlay *ov, cn_oracle_params *p);

/* The asset's price bounds: 'p' oracle.min_price.SYM / oracle.max_price.SYM, else
 * reference_price / bound_factor (at least 1) and reference_price * bound_factor (saturated).
 * Returns 1, 0 unknown asset, -1 storage error. */
int cn_oracle_bounds(cn_overlay *ov, const cn_oracle_params *p, const char *sym, int64_t *lo,
                     int64_t *hi);

/* ---- pure arithmetic (unit-tested directly) ----------------------------------------------- */

/* Lower median of n > 0 values (sorts `v` in place): v[(n-1)/2] after sorting. */
int64_t cn_oracle_median(int64_t *v, size_t n);

/* 1 if |p - ref| * 10000 > bps * ref (strictly beyond the band), else 0. ref > 0. */
int cn_oracle_beyond(int64_t p, int64_t ref, int64_t bps);

/* Aggregation of fresh prices (n <= CN_ORACLE_MAX_SOURCES). Fills keep[i] (1 used, 0 dropped
 * as outlier) and *out. Returns CN_AGG_OK or the reason of no update. */
typedef enum {
    CN_AGG_OK = 0,
    CN_AGG_NO_QUORUM = 1,   /* fewer than quorum fresh reports */
    CN_AGG_OUTLIERS = 2,    /* fewer than quorum left after dropping outliers */
    CN_AGG_SPREAD = 3,      /* (max - min) * 10000 > max_spread_bps * median */
} cn_agg_result;
cn_agg_result cn_oracle_aggregate(const int64_t *prices, size_t n, int64_t quorum,
                                  int64_t band_bps, int64_t max_spread_bps, uint8_t *keep,
                                  int64_t *out);
const char *cn_agg_reason(cn_agg_result r);

/* Floor mean of n > 0 prices (128-bit sum). */
int64_t cn_oracle_mean(const int64_t *v, size_t n);

/* Band of a risk tier: tier 1 -> tier_bps[0], 2 -> tier_bps[1], 3..5 -> tier_bps[2]. */
int64_t cn_oracle_tier_band(const cn_oracle_params *p, uint32_t risk_tier);

/* Market fall in units of 1e-8 of the reference (0 when the index did not fall): with
 * r_i = floor(p_i * 1e8 / c_i) and I = floor(sum w_i r_i / sum w_i), fall = max(0, 1e8 - I).
 * n assets with weights w (>= 0), prices p and closes c (> 0). Returns -1 if sum w = 0. */
int64_t cn_oracle_market_fall(const int64_t *w, const int64_t *p, const int64_t *c, size_t n);

/* ---- state records ------------------------------------------------------------------------ */

enum { CN_OA_NONE = 0, CN_OA_LIVE = 1, CN_OA_STALE = 2, CN_OA_HALTED = 3 };

typedef struct {
    int state;            /* CN_OA_* */
    int reopen;           /* 1: the next candidate is published without the band check */
    int64_t price;        /* 0 before the first update */
    uint64_t updated_at;  /* block time of the last published price */
    uint64_t halt_until;  /* while CN_OA_HALTED */
    uint64_t grace_until; /* end of the grace period after the last resume (0 none) */
    size_t nwin;
    int64_t win_price[CN_ORACLE_MAX_WINDOW]; /* oldest first */
    uint64_t win_time[CN_ORACLE_MAX_WINDOW];
} cn_oracle_asset;

typedef struct {
    int level;            /* 0 open, 1..3 halted at that level */
    int triggered;        /* highest level triggered in the current close interval */
    uint64_t halt_until;  /* levels 1, 2; 0 for level 3 (until governance resumes) */
    uint64_t grace_until;
    uint64_t interval;    /* close interval index + 1 of the reference close; 0 none yet */
    int64_t last_fall;    /* last computed fall, 1e-8 units */
} cn_oracle_market;

int cn_oracle_asset_get(cn_overlay *ov, const char *sym, cn_oracle_asset *a);
int cn_oracle_asset_put(cn_overlay *ov, const char *sym, const cn_oracle_asset *a);
int cn_oracle_market_get(cn_overlay *ov, cn_oracle_market *m);
int cn_oracle_market_put(cn_overlay *ov, const cn_oracle_market *m);
/* Reference close of an asset (0 absent). */
int cn_oracle_close_get(cn_overlay *ov, const char *sym, int64_t *close);
int cn_oracle_close_put(cn_overlay *ov, const char *sym, int64_t close);

/* Latest report of (asset, source). */
typedef struct {
    int64_t price;
    uint64_t observed_at, round;
} cn_oracle_report;
int cn_oracle_report_get(cn_overlay *ov, const char *sym, const uint8_t src[32],
                         cn_oracle_report *r);
int cn_oracle_report_put(cn_overlay *ov, const char *sym, const uint8_t src[32],
                         const cn_oracle_report *r);
/* Sources that ever reported the asset: a malloc'd array of n*32 bytes (NULL when n = 0). */
int cn_oracle_sources_get(cn_overlay *ov, const char *sym, uint8_t **keys, size_t *n);
/* Adds a source to the asset's list if absent. Returns 1, 0 list full, -1 storage error. */
int cn_oracle_sources_add(cn_overlay *ov, const char *sym, const uint8_t src[32]);
/* Sources used and flagged in the asset's last aggregation. */
int cn_oracle_last_get(cn_overlay *ov, const char *sym, uint8_t **used, size_t *n_used,
                       uint8_t **flagged, size_t *n_flagged);
int cn_oracle_last_put(cn_overlay *ov, const char *sym, const uint8_t *used, size_t n_used,
                       const uint8_t *flagged, size_t n_flagged);
/* Counters (metrics): "flags", "halts", "asset_halts", "market_halts", "stale"; and per source
 * flag counts. */
int cn_oracle_counter_get(cn_overlay *ov, const char *name, int64_t *v);
int cn_oracle_counter_add(cn_overlay *ov, const char *name, int64_t d);
int cn_oracle_flags_get(cn_overlay *ov, const uint8_t src[32], int64_t *v);
int cn_oracle_flags_add(cn_overlay *ov, const uint8_t src[32]);

/* ---- transactions ------------------------------------------------------------------------- */

/* Stateless checks of an oracle_report. */
cn_txerr cn_oracle_validate(const Clearnode__V1__OracleReport *r, char *msg, size_t cap);

/* Executes an oracle_report signed by `src` in a block at time_ms. Writes nothing on
 * failure. Fills r like cn_ledger_exec (event "oracle.report"). */
void cn_oracle_exec(cn_overlay *ov, uint64_t time_ms, const uint8_t src[32],
                    const Clearnode__V1__OracleReport *rep, cn_exec_result *r);

/* Builds a signed oracle_report tx. */
int cn_tx_oracle_report(const cn_keypair *kp, const char *chain_id, uint64_t nonce,
                        const char *asset, uint64_t price, uint64_t observed_at,
                        uint64_t round, uint8_t **out, size_t *len);

/* ---- end of block and governance --------------------------------------------------------- */

/* A growable list of events emitted outside transactions (end of block). */
typedef struct {
    cn_event *ev;
    size_t n, cap;
    int oom;
} cn_evlist;
cn_event *cn_evlist_add(cn_evlist *l, const char *type);
void cn_evlist_free(cn_evlist *l);
void cn_ev_str(cn_event *e, const char *key, const char *v);
void cn_ev_i64(cn_event *e, const char *key, int64_t v);
void cn_ev_hex(cn_event *e, const char *key, const uint8_t *p, size_t n);

/* Aggregation then breakers for every genesis asset, then the market-wide check. Returns 1,
 * or 0 on a storage or memory failure (the block cannot be trusted). */
int cn_oracle_end_block(cn_overlay *ov, const cn_genesis *g, uint64_t time_ms, cn_evlist *ev);

/* Governance: resumes the market after a halt (asset "" or NULL) or one halted asset. The
 * grace period starts at time_ms. Returns 1, 0 nothing to resume (msg says why), -1 storage
 * error. Emits "oracle.market_resume" / "oracle.asset_resume" into ev when given. */
int cn_oracle_resume_market(cn_overlay *ov, uint64_t time_ms, const char *asset, cn_evlist *ev,
                            char *msg, size_t cap);

/* ---- reads for other modules (the VM host uses these through oracle_view.h) -------------- */

/* Halt flags of an asset as seen now. */
enum {
    CN_OH_ASSET = 1,    /* asset halted by its band breaker */
    CN_OH_MARKET = 2,   /* market-wide halt (any level) */
    CN_OH_STALE = 4,    /* no valid update within max_age */
    CN_OH_NO_PRICE = 8, /* never had a price */
    CN_OH_GRACE = 16,   /* inside a grace period after a resume (not a halt) */
};
#define CN_OH_NO_RISK (CN_OH_ASSET | CN_OH_MARKET | CN_OH_STALE | CN_OH_NO_PRICE)

/* Current published price: 1 found, 0 none (unknown asset or no price yet), -1 error. */
int cn_oracle_price(cn_overlay *ov, const char *asset, int64_t *price_micro_usd,
                    uint64_t *updated_at);
/* Halt state at block time now_ms: *flags (CN_OH_*), *until = the latest end among the active
 * halts and grace periods (0 when a level-3 market halt waits for governance or none applies).
 * Returns 1, 0 unknown asset, -1 error. */
int cn_oracle_halt_state(cn_overlay *ov, const char *asset, uint64_t now_ms, uint32_t *flags,
                         uint64_t *until);

#endif
