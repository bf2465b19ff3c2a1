/* Oracle arithmetic: median, outlier band, spread, rolling mean, risk-tier bands and the
 * market index fall (oracle.h, docs/oracle.md). Pure functions of their arguments, integers
 * only, 128-bit intermediates so no product can overflow.
 */
#include "node/app/oracle.h"

#include <string.h>

/* Insertion sort: n is at most CN_ORACLE_MAX_SOURCES, and it needs no allocation. */
static void sort_i64(int64_t *v, size_t n) {
    for (size_t i = 1; i < n; i++) {
        int64_t x = v[i];
        size_t j = i;
        while (j > 0 && v[j - 1] > x) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

int64_t cn_oracle_median(int64_t *v, size_t n) {
    sort_i64(v, n);
    return v[(n - 1) / 2];
}

int cn_oracle_beyond(int64_t p, int64_t ref, int64_t bps) {
    __int128 d = (__int128)p - ref;
    if (d < 0)
        d = -d;
    return d * 10000 > (__int128)bps * ref;
}

const char *cn_agg_reason(cn_agg_result r) {
    switch (r) {
    case CN_AGG_OK: return "ok";
    case CN_AGG_NO_QUORUM: return "no_quorum";
    case CN_AGG_OUTLIERS: return "outliers";
    case CN_AGG_SPREAD: return "spread";
    }
    return "unknown";
}

cn_agg_result cn_oracle_aggregate(const int64_t *prices, size_t n, int64_t quorum,
                                  int64_t band_bps, int64_t max_spread_bps, uint8_t *keep,
                                  int64_t *out) {
    int64_t tmp[CN_ORACLE_MAX_SOURCES];
    if (n > CN_ORACLE_MAX_SOURCES)
        n = CN_ORACLE_MAX_SOURCES;
    for (size_t i = 0; i < n; i++)
        keep[i] = 0;
    *out = 0;
    if ((int64_t)n < quorum || n == 0)
        return CN_AGG_NO_QUORUM;
    memcpy(tmp, prices, n * sizeof *tmp);
    int64_t m0 = cn_oracle_median(tmp, n);
    size_t k = 0;
    int64_t lo = INT64_MAX, hi = 0;
    for (size_t i = 0; i < n; i++) {
        if (cn_oracle_beyond(prices[i], m0, band_bps))
            continue;
        keep[i] = 1;
        tmp[k++] = prices[i];
        if (prices[i] < lo)
            lo = prices[i];
        if (prices[i] > hi)
            hi = prices[i];
    }
    if ((int64_t)k < quorum)
        return CN_AGG_OUTLIERS;
    int64_t m1 = cn_oracle_median(tmp, k);
    if ((__int128)(hi - lo) * 10000 > (__int128)max_spread_bps * m1)
        return CN_AGG_SPREAD;
    *out = m1;
    return CN_AGG_OK;
}

int64_t cn_oracle_mean(const int64_t *v, size_t n) {
    __int128 s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    return (int64_t)(s / (__int128)n);
}

int64_t cn_oracle_tier_band(const cn_oracle_params *p, uint32_t risk_tier) {
    if (risk_tier <= 1)
        return p->tier_bps[0];
    if (risk_tier == 2)
        return p->tier_bps[1];
    return p->tier_bps[2];
}

#define FALL_ONE INT64_C(100000000) /* 1e8: the fall's unit is 1e-8 of the reference */

int64_t cn_oracle_market_fall(const int64_t *w, const int64_t *p, const int64_t *c, size_t n) {
    __int128 sw = 0, s = 0;
    for (size_t i = 0; i < n; i++) {
        if (w[i] <= 0 || c[i] <= 0)
            continue;
        __int128 r = (__int128)p[i] * FALL_ONE / c[i];
        s += (__int128)w[i] * r;
        sw += w[i];
    }
    if (sw == 0)
        return -1;
    __int128 idx = s / sw;
    return idx >= FALL_ONE ? 0 : (int64_t)(FALL_ONE - idx);
}
