/* Oracle state: the parameter table and the records kept under the module byte 'o'
 * (oracle.h, docs/state.md, docs/oracle.md).
 *
 *   'o' 'a' symbol                 asset record (price, state, halt/grace times, window)
 *   'o' 'm'                        market record (level, halt/grace times, close interval)
 *   'o' 'c' symbol                 reference close, be64
 *   'o' 'r' source(32) symbol      latest report: be64 price, be64 observed_at, be64 round
 *   'o' 'l' symbol                 sources that reported the asset, n * 32 bytes
 *   'o' 'u' symbol                 last aggregation: u16 n_used, u16 n_flagged, keys
 *   'o' 'n' name                   counters for metrics, be64
 *   'o' 'f' source(32)             times the source was flagged, be64
 *
 * Every record is fixed-layout binary with a version byte where it may grow; a malformed
 * record reads as a storage error (-1), never as a default.
 */
#include "node/app/oracle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/bytes.h"
#include "crypto/encoding.h"
#include "node/app/state.h"

/* ---- parameters --------------------------------------------------------------------------- */

struct param {
    const char *name;
    int64_t def, lo, hi;
    size_t off; /* offset of the int64_t field in cn_oracle_params */
};

#define OFF(f) offsetof(cn_oracle_params, f)
static const struct param params[] = {
    {"oracle.quorum", 1, 1, CN_MAX_MEMBERS, OFF(quorum)},
    {"oracle.max_age_ms", 10000, 1, 3600000, OFF(max_age_ms)},
    {"oracle.band_bps", 500, 1, 10000, OFF(band_bps)},
    {"oracle.max_spread_bps", 1000, 1, 10000, OFF(max_spread_bps)},
    {"oracle.future_ms", 2000, 0, 60000, OFF(future_ms)},
    {"oracle.bound_factor", 100, 2, 1000000, OFF(bound_factor)},
    {"breakers.window_ms", 300000, 1000, 86400000, OFF(window_ms)},
    {"breakers.window_prices", 10, 1, CN_ORACLE_MAX_WINDOW, OFF(window_prices)},
    {"breakers.tier1_bps", 500, 1, 10000, OFF(tier_bps[0])},
    {"breakers.tier2_bps", 1000, 1, 10000, OFF(tier_bps[1])},
    {"breakers.tier3_bps", 2000, 1, 10000, OFF(tier_bps[2])},
    {"breakers.asset_pause_ms", 300000, 1000, 86400000, OFF(asset_pause_ms)},
    {"breakers.level1_bps", 700, 1, 10000, OFF(level_bps[0])},
    {"breakers.level2_bps", 1300, 1, 10000, OFF(level_bps[1])},
    {"breakers.level3_bps", 2000, 1, 10000, OFF(level_bps[2])},
    {"breakers.level1_pause_ms", 900000, 1000, 86400000, OFF(level_pause_ms[0])},
    {"breakers.level2_pause_ms", 900000, 1000, 86400000, OFF(level_pause_ms[1])},
    {"breakers.close_interval_ms", 86400000, 1000, 7 * 86400000LL, OFF(close_interval_ms)},
    {"breakers.grace_ms", 60000, 0, 86400000, OFF(grace_ms)},
};
#undef OFF
#define N_PARAMS (sizeof params / sizeof params[0])

static int has_prefix(const char *s, const char *p, const char **rest) {
    size_t n = strlen(p);
    if (strncmp(s, p, n) != 0)
        return 0;
    *rest = s + n;
    return 1;
}

int cn_oracle_param_check(const char *name, int64_t v, char *msg, size_t cap) {
    const char *sym;
    if (has_prefix(name, "oracle.min_price.", &sym) ||
        has_prefix(name, "oracle.max_price.", &sym)) {
        if (!cn_symbol_valid(sym)) {
            snprintf(msg, cap, "%s: not an asset symbol", name);
            return 0;
        }
        if (v < 1) {
            snprintf(msg, cap, "%s: must be >= 1", name);
            return 0;
        }
        return 1;
    }
    if (has_prefix(name, "breakers.weight.", &sym)) {
        if (!cn_symbol_valid(sym) || v < 0 || v > 10000) {
            snprintf(msg, cap, "%s: must name an asset and be 0..10000", name);
            return 0;
        }
        return 1;
    }
    for (size_t i = 0; i < N_PARAMS; i++) {
        if (strcmp(name, params[i].name) != 0)
            continue;
        if (v < params[i].lo || v > params[i].hi) {
            snprintf(msg, cap, "%s: must be %lld..%lld", name, (long long)params[i].lo,
                     (long long)params[i].hi);
            return 0;
        }
        if (strcmp(name, "oracle.quorum") == 0 && v % 2 == 0) {
            snprintf(msg, cap, "%s: must be odd", name);
            return 0;
        }
        return 1;
    }
    snprintf(msg, cap, "%s: not an oracle or breaker parameter", name);
    return 0;
}

int cn_oracle_params_load(cn_overlay *ov, cn_oracle_params *p) {
    memset(p, 0, sizeof *p);
    for (size_t i = 0; i < N_PARAMS; i++) {
        cn_key k;
        int64_t v;
        cn_sk_named(&k, CN_SK_PARAM, params[i].name);
        int got = cn_state_get_i64(ov, &k, &v);
        if (got < 0)
            return -1;
        if (!got)
            v = params[i].def;
        if (v < params[i].lo || v > params[i].hi)
            return -1;
        memcpy((char *)p + params[i].off, &v, sizeof v);
    }
    /* The median needs an odd quorum: an even genesis value is raised to the next odd one. */
    if (p->quorum % 2 == 0)
        p->quorum++;
    if (!(p->level_bps[0] < p->level_bps[1] && p->level_bps[1] < p->level_bps[2]))
        return -1;
    return 1;
}

int cn_oracle_bounds(cn_overlay *ov, const cn_oracle_params *p, const char *sym, int64_t *lo,
                     int64_t *hi) {
    cn_key k;
    const uint8_t *v;
    size_t n;
    cn_sk_asset(&k, sym);
    int x = cn_overlay_get(ov, k.b, k.len, &v, &n);
    if (x <= 0)
        return x;
    cn_gen_asset a;
    if (!cn_asset_decode(&a, sym, v, n))
        return -1;
    *lo = a.reference_price / p->bound_factor;
    if (*lo < 1)
        *lo = 1;
    if (__builtin_mul_overflow(a.reference_price, p->bound_factor, hi))
        *hi = INT64_MAX;
    char name[64];
    int64_t o;
    snprintf(name, sizeof name, "oracle.min_price.%s", sym);
    cn_sk_named(&k, CN_SK_PARAM, name);
    if ((x = cn_state_get_i64(ov, &k, &o)) < 0)
        return -1;
    if (x)
        *lo = o;
    snprintf(name, sizeof name, "oracle.max_price.%s", sym);
    cn_sk_named(&k, CN_SK_PARAM, name);
    if ((x = cn_state_get_i64(ov, &k, &o)) < 0)
        return -1;
    if (x)
        *hi = o;
    return 1;
}

/* ---- keys --------------------------------------------------------------------------------- */

static void key_sym(cn_key *k, uint8_t sub, const char *sym) {
    cn_key_start(k, CN_SK_ORACLE);
    cn_key_u8(k, sub);
    cn_key_bytes(k, sym, strlen(sym));
}

static void key_src(cn_key *k, uint8_t sub, const uint8_t src[32]) {
    cn_key_start(k, CN_SK_ORACLE);
    cn_key_u8(k, sub);
    cn_key_bytes(k, src, 32);
}

/* ---- asset record: u8 version 1, u8 state, u8 reopen, u8 nwin, be64 price, updated_at,
 *      halt_until, grace_until, then nwin * (be64 price, be64 time) ------------------------ */

#define ASSET_HDR (4 + 4 * 8)

int cn_oracle_asset_get(cn_overlay *ov, const char *sym, cn_oracle_asset *a) {
    memset(a, 0, sizeof *a);
    cn_key k;
    key_sym(&k, 'a', sym);
    const uint8_t *v;
    size_t n;
    int x = cn_overlay_get(ov, k.b, k.len, &v, &n);
    if (x <= 0)
        return x;
    if (n < ASSET_HDR || v[0] != 1 || v[1] > CN_OA_HALTED || v[2] > 1 ||
        v[3] > CN_ORACLE_MAX_WINDOW || n != ASSET_HDR + (size_t)v[3] * 16)
        return -1;
    a->state = v[1];
    a->reopen = v[2];
    a->nwin = v[3];
    a->price = cn_get_be64_signed(v + 4);
    a->updated_at = cn_get_be64(v + 12);
    a->halt_until = cn_get_be64(v + 20);
    a->grace_until = cn_get_be64(v + 28);
    for (size_t i = 0; i < a->nwin; i++) {
        a->win_price[i] = cn_get_be64_signed(v + ASSET_HDR + 16 * i);
        a->win_time[i] = cn_get_be64(v + ASSET_HDR + 16 * i + 8);
    }
    return 1;
}

int cn_oracle_asset_put(cn_overlay *ov, const char *sym, const cn_oracle_asset *a) {
    uint8_t b[ASSET_HDR + 16 * CN_ORACLE_MAX_WINDOW];
    size_t nwin = a->nwin > CN_ORACLE_MAX_WINDOW ? CN_ORACLE_MAX_WINDOW : a->nwin;
    b[0] = 1;
    b[1] = (uint8_t)a->state;
    b[2] = (uint8_t)(a->reopen != 0);
    b[3] = (uint8_t)nwin;
    cn_put_be64_signed(b + 4, a->price);
    cn_put_be64(b + 12, a->updated_at);
    cn_put_be64(b + 20, a->halt_until);
    cn_put_be64(b + 28, a->grace_until);
    for (size_t i = 0; i < nwin; i++) {
        cn_put_be64_signed(b + ASSET_HDR + 16 * i, a->win_price[i]);
        cn_put_be64(b + ASSET_HDR + 16 * i + 8, a->win_time[i]);
    }
    cn_key k;
    key_sym(&k, 'a', sym);
    return cn_overlay_put(ov, k.b, k.len, b, ASSET_HDR + 16 * nwin);
}

/* ---- market record: u8 version 1, u8 level, u8 triggered, be64 halt_until, grace_until,
 *      interval, last_fall ------------------------------------------------------------------ */

#define MARKET_LEN (3 + 4 * 8)

int cn_oracle_market_get(cn_overlay *ov, cn_oracle_market *m) {
    memset(m, 0, sizeof *m);
    cn_key k;
    cn_key_start(&k, CN_SK_ORACLE);
    cn_key_u8(&k, 'm');
    const uint8_t *v;
    size_t n;
    int x = cn_overlay_get(ov, k.b, k.len, &v, &n);
    if (x <= 0)
        return x;
    if (n != MARKET_LEN || v[0] != 1 || v[1] > 3 || v[2] > 3)
        return -1;
    m->level = v[1];
    m->triggered = v[2];
    m->halt_until = cn_get_be64(v + 3);
    m->grace_until = cn_get_be64(v + 11);
    m->interval = cn_get_be64(v + 19);
    m->last_fall = cn_get_be64_signed(v + 27);
    return 1;
}

int cn_oracle_market_put(cn_overlay *ov, const cn_oracle_market *m) {
    uint8_t b[MARKET_LEN];
    b[0] = 1;
    b[1] = (uint8_t)m->level;
    b[2] = (uint8_t)m->triggered;
    cn_put_be64(b + 3, m->halt_until);
    cn_put_be64(b + 11, m->grace_until);
    cn_put_be64(b + 19, m->interval);
    cn_put_be64_signed(b + 27, m->last_fall);
    cn_key k;
    cn_key_start(&k, CN_SK_ORACLE);
    cn_key_u8(&k, 'm');
    return cn_overlay_put(ov, k.b, k.len, b, sizeof b);
}

int cn_oracle_close_get(cn_overlay *ov, const char *sym, int64_t *close) {
    cn_key k;
    key_sym(&k, 'c', sym);
    return cn_state_get_i64(ov, &k, close);
}

int cn_oracle_close_put(cn_overlay *ov, const char *sym, int64_t close) {
    cn_key k;
    key_sym(&k, 'c', sym);
    return cn_state_put_i64(ov, &k, close);
}

/* ---- reports and source lists ------------------------------------------------------------- */

static void key_report(cn_key *k, const char *sym, const uint8_t src[32]) {
    key_src(k, 'r', src);
    cn_key_bytes(k, sym, strlen(sym));
}

int cn_oracle_report_get(cn_overlay *ov, const char *sym, const uint8_t src[32],
                         cn_oracle_report *r) {
    memset(r, 0, sizeof *r);
    cn_key k;
    key_report(&k, sym, src);
    const uint8_t *v;
    size_t n;
    int x = cn_overlay_get(ov, k.b, k.len, &v, &n);
    if (x <= 0)
        return x;
    if (n != 24)
        return -1;
    r->price = cn_get_be64_signed(v);
    r->observed_at = cn_get_be64(v + 8);
    r->round = cn_get_be64(v + 16);
    return 1;
}

int cn_oracle_report_put(cn_overlay *ov, const char *sym, const uint8_t src[32],
                         const cn_oracle_report *r) {
    uint8_t b[24];
    cn_put_be64_signed(b, r->price);
    cn_put_be64(b + 8, r->observed_at);
    cn_put_be64(b + 16, r->round);
    cn_key k;
    key_report(&k, sym, src);
    return cn_overlay_put(ov, k.b, k.len, b, sizeof b);
}

int cn_oracle_sources_get(cn_overlay *ov, const char *sym, uint8_t **keys, size_t *n) {
    *keys = NULL;
    *n = 0;
    cn_key k;
    key_sym(&k, 'l', sym);
    const uint8_t *v;
    size_t len;
    int x = cn_overlay_get(ov, k.b, k.len, &v, &len);
    if (x <= 0)
        return x;
    if (len == 0 || len % 32 || len / 32 > CN_ORACLE_MAX_SOURCES)
        return -1;
    if (!(*keys = malloc(len)))
        return -1;
    memcpy(*keys, v, len);
    *n = len / 32;
    return 1;
}

int cn_oracle_sources_add(cn_overlay *ov, const char *sym, const uint8_t src[32]) {
    uint8_t *keys;
    size_t n;
    if (cn_oracle_sources_get(ov, sym, &keys, &n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (memcmp(keys + 32 * i, src, 32) == 0) {
            free(keys);
            return 1;
        }
    if (n >= CN_ORACLE_MAX_SOURCES) {
        free(keys);
        return 0;
    }
    uint8_t *nk = realloc(keys, 32 * (n + 1));
    if (!nk) {
        free(keys);
        return -1;
    }
    memcpy(nk + 32 * n, src, 32);
    cn_key k;
    key_sym(&k, 'l', sym);
    int ok = cn_overlay_put(ov, k.b, k.len, nk, 32 * (n + 1));
    free(nk);
    return ok ? 1 : -1;
}

int cn_oracle_last_get(cn_overlay *ov, const char *sym, uint8_t **used, size_t *n_used,
                       uint8_t **flagged, size_t *n_flagged) {
    *used = *flagged = NULL;
    *n_used = *n_flagged = 0;
    cn_key k;
    key_sym(&k, 'u', sym);
    const uint8_t *v;
    size_t len;
    int x = cn_overlay_get(ov, k.b, k.len, &v, &len);
    if (x <= 0)
        return x;
    if (len < 4)
        return -1;
    size_t nu = cn_get_be16(v), nf = cn_get_be16(v + 2);
    if (len != 4 + 32 * (nu + nf))
        return -1;
    *used = malloc(32 * nu + 1);
    *flagged = malloc(32 * nf + 1);
    if (!*used || !*flagged) {
        free(*used);
        free(*flagged);
        *used = *flagged = NULL;
        return -1;
    }
    memcpy(*used, v + 4, 32 * nu);
    memcpy(*flagged, v + 4 + 32 * nu, 32 * nf);
    *n_used = nu;
    *n_flagged = nf;
    return 1;
}

int cn_oracle_last_put(cn_overlay *ov, const char *sym, const uint8_t *used, size_t n_used,
                       const uint8_t *flagged, size_t n_flagged) {
    size_t len = 4 + 32 * (n_used + n_flagged);
    uint8_t *b = malloc(len);
    if (!b)
        return 0;
    cn_put_be16(b, (uint16_t)n_used);
    cn_put_be16(b + 2, (uint16_t)n_flagged);
    if (n_used)
        memcpy(b + 4, used, 32 * n_used);
    if (n_flagged)
        memcpy(b + 4 + 32 * n_used, flagged, 32 * n_flagged);
    cn_key k;
    key_sym(&k, 'u', sym);
    int ok = cn_overlay_put(ov, k.b, k.len, b, len);
    free(b);
    return ok;
}

/* ---- counters ----------------------------------------------------------------------------- */

int cn_oracle_counter_get(cn_overlay *ov, const char *name, int64_t *v) {
    cn_key k;
    key_sym(&k, 'n', name);
    return cn_state_get_i64(ov, &k, v);
}

int cn_oracle_counter_add(cn_overlay *ov, const char *name, int64_t d) {
    cn_key k;
    int64_t v;
    key_sym(&k, 'n', name);
    if (cn_state_get_i64(ov, &k, &v) < 0 || __builtin_add_overflow(v, d, &v))
        return 0;
    return cn_state_put_i64(ov, &k, v);
}

int cn_oracle_flags_get(cn_overlay *ov, const uint8_t src[32], int64_t *v) {
    cn_key k;
    key_src(&k, 'f', src);
    return cn_state_get_i64(ov, &k, v);
}

int cn_oracle_flags_add(cn_overlay *ov, const uint8_t src[32]) {
    cn_key k;
    int64_t v;
    key_src(&k, 'f', src);
    if (cn_state_get_i64(ov, &k, &v) < 0 || v == INT64_MAX)
        return 0;
    return cn_state_put_i64(ov, &k, v + 1);
}

/* ---- end-of-block event list -------------------------------------------------------------- */

cn_event *cn_evlist_add(cn_evlist *l, const char *type) {
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 16;
        cn_event *ne = realloc(l->ev, nc * sizeof *ne);
        if (!ne) {
            l->oom = 1;
            return NULL;
        }
        l->ev = ne;
        l->cap = nc;
    }
    cn_event *e = &l->ev[l->n++];
    memset(e, 0, sizeof *e);
    e->type = type;
    return e;
}

void cn_evlist_free(cn_evlist *l) {
    free(l->ev);
    memset(l, 0, sizeof *l);
}

void cn_ev_str(cn_event *e, const char *key, const char *v) {
    if (!e || e->n >= CN_EVENT_MAX_ATTRS)
        return;
    e->attrs[e->n].key = key;
    snprintf(e->attrs[e->n].value, CN_EVENT_VALUE_MAX, "%s", v);
    e->n++;
}

void cn_ev_i64(cn_event *e, const char *key, int64_t v) {
    char s[24];
    snprintf(s, sizeof s, "%lld", (long long)v);
    cn_ev_str(e, key, s);
}

void cn_ev_hex(cn_event *e, const char *key, const uint8_t *p, size_t n) {
    char hex[CN_EVENT_VALUE_MAX];
    if (n * 2 + 1 > sizeof hex)
        n = (sizeof hex - 1) / 2;
    cn_hex_encode(hex, p, n);
    cn_ev_str(e, key, hex);
}
