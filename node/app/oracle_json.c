/* JSON and metrics views of the oracle state (oracle_json.h). */
#include "node/app/oracle_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "crypto/encoding.h"
#include "node/app/oracle.h"

static json_t *keys_json(const uint8_t *k, size_t n) {
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        char hex[65];
        cn_hex_encode(hex, k + 32 * i, 32);
        json_array_append_new(a, json_string(hex));
    }
    return a;
}

static json_t *i64s(int64_t v) {
    char s[24];
    snprintf(s, sizeof s, "%lld", (long long)v);
    return json_string(s);
}

static const char *state_name(int s) {
    switch (s) {
    case CN_OA_LIVE: return "live";
    case CN_OA_STALE: return "stale";
    case CN_OA_HALTED: return "halted";
    default: return "no_price";
    }
}

static json_t *flags_json(uint32_t f) {
    static const struct {
        uint32_t bit;
        const char *name;
    } t[] = {{CN_OH_ASSET, "asset_halted"},
             {CN_OH_MARKET, "market_halted"},
             {CN_OH_STALE, "stale"},
             {CN_OH_NO_PRICE, "no_price"},
             {CN_OH_GRACE, "grace"}};
    json_t *a = json_array();
    for (size_t i = 0; a && i < sizeof t / sizeof t[0]; i++)
        if (f & t[i].bit)
            json_array_append_new(a, json_string(t[i].name));
    return a;
}

/* Builds the view from an overlay over a snapshot. */
static json_t *build(cn_overlay *ov, const char *sym, uint64_t now) {
    uint32_t flags;
    uint64_t until;
    if (cn_oracle_halt_state(ov, sym, now, &flags, &until) != 1)
        return NULL;
    cn_oracle_asset A;
    cn_oracle_market M;
    cn_oracle_params P;
    uint8_t *used = NULL, *flagged = NULL;
    size_t nu = 0, nf = 0;
    int64_t close = 0;
    if (cn_oracle_asset_get(ov, sym, &A) < 0 || cn_oracle_market_get(ov, &M) < 0 ||
        cn_oracle_params_load(ov, &P) < 0 || cn_oracle_close_get(ov, sym, &close) < 0 ||
        cn_oracle_last_get(ov, sym, &used, &nu, &flagged, &nf) < 0)
        return NULL;
    int64_t ref = 0;
    if (A.nwin) {
        int64_t v[CN_ORACLE_MAX_WINDOW];
        size_t k = 0;
        for (size_t i = 0; i < A.nwin; i++)
            if (A.win_time[i] + (uint64_t)P.window_ms >= now)
                v[k++] = A.win_price[i];
        ref = k ? cn_oracle_mean(v, k) : A.price;
    }
    json_t *win = json_array();
    for (size_t i = 0; win && i < A.nwin; i++)
        json_array_append_new(win, json_pack("{s:o, s:I}", "price", i64s(A.win_price[i]),
                                             "time", (json_int_t)A.win_time[i]));
    json_t *out = json_pack(
        "{s:s, s:o, s:I, s:o, s:o, s:o, s:{s:s, s:I, s:I, s:b}, "
        "s:{s:i, s:i, s:I, s:I, s:o, s:o}, s:o, s:o, s:o}",
        "asset", sym, "price", i64s(A.price), "updated_at", (json_int_t)A.updated_at,
        "sources_used", keys_json(used, nu), "flagged_sources", keys_json(flagged, nf),
        "reference_price", i64s(ref), "breaker", "state", state_name(A.state), "halt_until",
        (json_int_t)A.halt_until, "grace_until", (json_int_t)A.grace_until, "reopen",
        A.reopen, "market", "level", M.level, "triggered", M.triggered, "halt_until",
        (json_int_t)M.halt_until, "grace_until", (json_int_t)M.grace_until, "fall_bps",
        i64s(M.last_fall / 10000), "reference_close", i64s(close), "flags", flags_json(flags),
        "window", win, "in_grace", json_boolean((flags & CN_OH_GRACE) != 0));
    free(used);
    free(flagged);
    return out;
}

json_t *cn_oracle_json(cn_store *store, const char *asset, uint64_t now) {
    cn_store_rtxn *r;
    if (!cn_symbol_valid(asset) || cn_store_read_begin(store, &r) != CN_STORE_OK)
        return NULL;
    cn_overlay ov;
    cn_overlay_init(&ov, r);
    json_t *out = build(&ov, asset, now);
    cn_overlay_free(&ov);
    cn_store_read_end(r);
    return out;
}

void cn_oracle_write_metrics(cn_store *store, const cn_genesis *g, uint64_t now,
                             struct evbuffer *out) {
    cn_store_rtxn *r;
    if (cn_store_read_begin(store, &r) != CN_STORE_OK)
        return;
    cn_overlay ov;
    cn_overlay_init(&ov, r);
    static const struct {
        const char *key, *name, *help;
    } c[] = {
        {"flags", "clearnode_oracle_flagged_reports_total",
         "Oracle reports dropped as outliers (their source flagged)."},
        {"halts", "clearnode_breaker_halts_total", "Circuit-breaker halts, asset and market."},
        {"asset_halts", "clearnode_breaker_asset_halts_total", "Per-asset band halts."},
        {"market_halts", "clearnode_breaker_market_halts_total", "Market-wide halts."},
        {"stale", "clearnode_oracle_stale_total", "Assets that turned stale."},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        int64_t v = 0;
        if (cn_oracle_counter_get(&ov, c[i].key, &v) < 0)
            v = 0;
        evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s counter\n%s %lld\n", c[i].name,
                            c[i].help, c[i].name, c[i].name, (long long)v);
    }
    cn_oracle_market M;
    if (cn_oracle_market_get(&ov, &M) >= 0)
        evbuffer_add_printf(out,
                            "# HELP clearnode_breaker_market_level Market-wide halt level "
                            "in force (0 open).\n# TYPE clearnode_breaker_market_level gauge\n"
                            "clearnode_breaker_market_level %d\n",
                            M.level);
    evbuffer_add_printf(out, "# HELP clearnode_oracle_asset_halted 1 while the asset takes no "
                             "new risk (halted, stale or no price).\n"
                             "# TYPE clearnode_oracle_asset_halted gauge\n");
    for (size_t i = 0; i < g->n_assets; i++) {
        uint32_t f;
        uint64_t until;
        if (cn_oracle_halt_state(&ov, g->assets[i].symbol, now, &f, &until) == 1)
            evbuffer_add_printf(out, "clearnode_oracle_asset_halted{asset=\"%s\"} %d\n",
                                g->assets[i].symbol, (f & CN_OH_NO_RISK) != 0);
    }
    evbuffer_add_printf(out, "# HELP clearnode_oracle_source_flags_total Times each oracle "
                             "source was flagged.\n"
                             "# TYPE clearnode_oracle_source_flags_total counter\n");
    for (size_t i = 0; i < g->n_members; i++) {
        int64_t v;
        if (!(g->members[i].roles & CN_ROLE_ORACLE) ||
            cn_oracle_flags_get(&ov, g->members[i].pubkey, &v) < 0)
            continue;
        evbuffer_add_printf(out, "clearnode_oracle_source_flags_total{source=\"%s\"} %lld\n",
                            g->members[i].name, (long long)v);
    }
    cn_overlay_free(&ov);
    cn_store_read_end(r);
}
