/* The oracle module: the arithmetic (median, outlier band, spread, LULD tiers at their exact
 * boundaries, market fall), report validation, end-of-block aggregation and breakers on a
 * block overlay, governance resume and grace, and scenarios named after the incidents they
 * reproduce. The last test drives reports through mempool -> producer -> app -> store to show
 * the end-of-block hook runs in real blocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "chainkit.h"
#include "node/app/oracle.h"
#include "node/app/oracle_view.h"

#define NSRC 5
#define T0 INT64_C(1700006400000) /* a day boundary (multiple of 86400000) */
#define DAI_REF INT64_C(1000000)
#define BTC_REF INT64_C(60000000000)
#define AAPL_REF INT64_C(190000000)
#define USD_REF INT64_C(1000000)

static cn_keypair SRC[NSRC + 1]; /* 0: alpha (validator); 1..5: oracle sources */
static uint64_t ROUND[NSRC + 1];

/* Genesis: alpha (all roles but auditor), five oracle sources; USD and DAI (tier 1), AAPL
 * (tier 2), BTC (tier 3); quorum 3, max_age 60 s, band 5%, spread 10%. */
static char *genesis_json(void) {
    char h[NSRC + 1][65];
    for (unsigned i = 0; i <= NSRC; i++) {
        tk_key(&SRC[i], i);
        tk_hex(h[i], SRC[i].pub);
    }
    char *buf = malloc(8192);
    snprintf(buf, 8192,
             "{\"chain_id\":\"" TK_CHAIN "\",\"genesis_time\":1700000000000,\n"
             "\"members\":[\n"
             " {\"name\":\"alpha\",\"pubkey\":\"%s\",\"roles\":[\"validator\",\"custodian\","
             "\"governor\",\"approver\"],\"power\":10},\n"
             " {\"name\":\"s1\",\"pubkey\":\"%s\",\"roles\":[\"oracle\"]},\n"
             " {\"name\":\"s2\",\"pubkey\":\"%s\",\"roles\":[\"oracle\"]},\n"
             " {\"name\":\"s3\",\"pubkey\":\"%s\",\"roles\":[\"oracle\"]},\n"
             " {\"name\":\"s4\",\"pubkey\":\"%s\",\"roles\":[\"oracle\"]},\n"
             " {\"name\":\"s5\",\"pubkey\":\"%s\",\"roles\":[\"oracle\"]}],\n"
             "\"assets\":[\n"
             " {\"symbol\":\"USD\",\"decimals\":6,\"risk_tier\":1,\"initial_margin_bps\":10000,"
             "\"maintenance_margin_bps\":10000,\"reference_price\":1000000},\n"
             " {\"symbol\":\"DAI\",\"decimals\":6,\"risk_tier\":1,\"initial_margin_bps\":10000,"
             "\"maintenance_margin_bps\":10000,\"reference_price\":1000000},\n"
             " {\"symbol\":\"AAPL\",\"decimals\":4,\"risk_tier\":2,\"initial_margin_bps\":5000,"
             "\"maintenance_margin_bps\":2500,\"reference_price\":190000000},\n"
             " {\"symbol\":\"BTC\",\"decimals\":8,\"risk_tier\":3,\"initial_margin_bps\":5000,"
             "\"maintenance_margin_bps\":2500,\"reference_price\":60000000000}],\n"
             "\"params\":{\"oracle\":{\"quorum\":3,\"max_age_ms\":60000,\"band_bps\":500,"
             "\"max_spread_bps\":1000}},\n"
             "\"contracts\":[]}\n",
             h[0], h[1], h[2], h[3], h[4], h[5]);
    return buf;
}

/* ---- a bare block overlay holding the genesis state -------------------------------------- */

static cn_genesis G;
static cn_overlay OV;
static cn_evlist EV;

static int ov_setup(void **state) {
    (void)state;
    assert_true(cn_crypto_init());
    char *j = genesis_json(), err[256];
    int ok = cn_genesis_parse(&G, (const uint8_t *)j, strlen(j), NULL, err, sizeof err);
    free(j);
    if (!ok)
        fprintf(stderr, "genesis: %s\n", err);
    assert_true(ok);
    cn_overlay_init(&OV, NULL);
    assert_true(cn_state_write_genesis(&OV, &G));
    memset(ROUND, 0, sizeof ROUND);
    memset(&EV, 0, sizeof EV);
    return 0;
}

static int ov_teardown(void **state) {
    (void)state;
    cn_evlist_free(&EV);
    cn_overlay_free(&OV);
    cn_genesis_free(&G);
    return 0;
}

/* Source s reports sym at price, observed 1 s before block time t. Returns the result code. */
static cn_txerr rep_at(unsigned s, const char *sym, int64_t price, uint64_t obs, uint64_t t) {
    Clearnode__V1__OracleReport o;
    clearnode__v1__oracle_report__init(&o);
    o.asset = (char *)(uintptr_t)sym;
    o.price = (uint64_t)price;
    o.observed_at = obs;
    o.round = ++ROUND[s];
    char msg[200];
    cn_txerr e = cn_oracle_validate(&o, msg, sizeof msg);
    if (e)
        return e;
    cn_exec_result r;
    memset(&r, 0, sizeof r);
    size_t mark = cn_overlay_mark(&OV);
    cn_oracle_exec(&OV, t, SRC[s].pub, &o, &r);
    if (r.code)
        cn_overlay_rollback(&OV, mark);
    cn_overlay_release(&OV);
    return r.code;
}

static cn_txerr rep(unsigned s, const char *sym, int64_t price, uint64_t t) {
    return rep_at(s, sym, price, t - 1000, t);
}

/* All five sources report sym at price. */
static void rep_all(const char *sym, int64_t price, uint64_t t) {
    for (unsigned s = 1; s <= NSRC; s++)
        assert_int_equal(rep(s, sym, price, t), CN_TX_OK);
}

/* Every asset at ref * num / den from all five sources. */
static void rep_market(int64_t num, int64_t den, uint64_t t) {
    rep_all("USD", USD_REF * num / den, t);
    rep_all("DAI", DAI_REF * num / den, t);
    rep_all("AAPL", AAPL_REF * num / den, t);
    rep_all("BTC", BTC_REF * num / den, t);
}

static void endb(uint64_t t) {
    cn_evlist_free(&EV);
    assert_int_equal(cn_oracle_end_block(&OV, &G, t, &EV), 1);
    cn_overlay_release(&OV);
}

/* Events of `type` in the last end of block (for asset sym when not NULL). */
static size_t nev(const char *type, const char *sym) {
    size_t n = 0;
    for (size_t i = 0; i < EV.n; i++) {
        if (strcmp(EV.ev[i].type, type) != 0)
            continue;
        int match = sym == NULL;
        for (size_t j = 0; !match && j < EV.ev[i].n; j++)
            match = !strcmp(EV.ev[i].attrs[j].key, "asset") &&
                    !strcmp(EV.ev[i].attrs[j].value, sym);
        n += (size_t)match;
    }
    return n;
}

/* Value of `key` in the first event of `type` for asset sym. */
static const char *ev_attr(const char *type, const char *sym, const char *key) {
    for (size_t i = 0; i < EV.n; i++) {
        if (strcmp(EV.ev[i].type, type) != 0)
            continue;
        int match = sym == NULL;
        for (size_t j = 0; !match && j < EV.ev[i].n; j++)
            match = !strcmp(EV.ev[i].attrs[j].key, "asset") &&
                    !strcmp(EV.ev[i].attrs[j].value, sym);
        for (size_t j = 0; match && j < EV.ev[i].n; j++)
            if (!strcmp(EV.ev[i].attrs[j].key, key))
                return EV.ev[i].attrs[j].value;
    }
    return "";
}

static cn_oracle_asset asset(const char *sym) {
    cn_oracle_asset a;
    assert_int_equal(cn_oracle_asset_get(&OV, sym, &a), 1);
    return a;
}

static cn_oracle_market market(void) {
    cn_oracle_market m;
    assert_true(cn_oracle_market_get(&OV, &m) >= 0);
    return m;
}

static uint32_t hflags(const char *sym, uint64_t now) {
    uint32_t f;
    uint64_t until;
    assert_int_equal(cn_oracle_halt_state(&OV, sym, now, &f, &until), 1);
    return f;
}

/* ---- arithmetic ---------------------------------------------------------------------------- */

static void test_median_lower_middle(void **state) {
    (void)state;
    int64_t a[] = {5, 1, 3};
    assert_int_equal(cn_oracle_median(a, 3), 3);
    int64_t b[] = {4, 1, 3, 2}; /* even count: the lower of the two middle values */
    assert_int_equal(cn_oracle_median(b, 4), 2);
    int64_t c[] = {7};
    assert_int_equal(cn_oracle_median(c, 1), 7);
}

static void test_aggregate_quorum(void **state) {
    (void)state;
    uint8_t keep[8];
    int64_t out;
    int64_t two[] = {100, 101};
    assert_int_equal(cn_oracle_aggregate(two, 2, 3, 500, 1000, keep, &out), CN_AGG_NO_QUORUM);
    assert_int_equal(out, 0);
    int64_t three[] = {101, 100, 102};
    assert_int_equal(cn_oracle_aggregate(three, 3, 3, 500, 1000, keep, &out), CN_AGG_OK);
    assert_int_equal(out, 101);
}

static void test_aggregate_outlier_dropped(void **state) {
    (void)state;
    uint8_t keep[8];
    int64_t out;
    int64_t p[] = {1000000, 1001000, 999000, 1300000, 1000500};
    assert_int_equal(cn_oracle_aggregate(p, 5, 3, 500, 1000, keep, &out), CN_AGG_OK);
    assert_int_equal(keep[3], 0);
    assert_int_equal(keep[0] + keep[1] + keep[2] + keep[4], 4);
    assert_int_equal(out, 1000000); /* lower middle of 999000 1000000 1000500 1001000 */
    /* two outliers of five with quorum 5: too few remain */
    int64_t q[] = {100, 100, 100, 200, 300};
    assert_int_equal(cn_oracle_aggregate(q, 5, 5, 500, 1000, keep, &out), CN_AGG_OUTLIERS);
}

static void test_aggregate_spread_too_wide(void **state) {
    (void)state;
    uint8_t keep[8];
    int64_t out;
    /* all inside the 5% band of the median 100000, but max-min = 8000 > 1% of 100000 */
    int64_t p[] = {96000, 100000, 104000};
    assert_int_equal(cn_oracle_aggregate(p, 3, 3, 500, 100, keep, &out), CN_AGG_SPREAD);
    /* exactly at the spread limit is accepted */
    int64_t s[] = {99500, 100000, 100500};
    assert_int_equal(cn_oracle_aggregate(s, 3, 3, 500, 100, keep, &out), CN_AGG_OK);
}

/* Property over random inputs (fixed LCG seed): a published aggregate is one of the kept
 * prices, every kept price is inside the band of the first median, at least quorum are kept,
 * and the kept spread is within the limit. */
static void test_aggregate_properties(void **state) {
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (int iter = 0; iter < 20000; iter++) {
        int64_t p[9];
        uint8_t keep[9];
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        size_t n = 1 + (size_t)(x >> 60) % 9;
        for (size_t i = 0; i < n; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            p[i] = 1000000 + (int64_t)((x >> 33) % 200000) - 100000;
        }
        int64_t out, sorted[9];
        cn_agg_result r = cn_oracle_aggregate(p, n, 3, 500, 1000, keep, &out);
        if (n < 3) {
            assert_int_equal(r, CN_AGG_NO_QUORUM);
            continue;
        }
        memcpy(sorted, p, n * sizeof p[0]);
        int64_t m0 = cn_oracle_median(sorted, n);
        size_t kept = 0, is_member = 0;
        int64_t lo = INT64_MAX, hi = 0;
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(keep[i], !cn_oracle_beyond(p[i], m0, 500));
            if (!keep[i])
                continue;
            kept++;
            lo = p[i] < lo ? p[i] : lo;
            hi = p[i] > hi ? p[i] : hi;
            is_member += p[i] == out;
        }
        if (r == CN_AGG_OK) {
            assert_true(kept >= 3);
            assert_true(is_member > 0);
            assert_true((hi - lo) * 10000 <= 1000 * out);
        } else {
            assert_int_equal(out, 0);
        }
    }
}

static void test_band_tiers_exact_boundaries(void **state) {
    (void)state;
    cn_oracle_params P;
    cn_overlay ov;
    cn_overlay_init(&ov, NULL);
    assert_int_equal(cn_oracle_params_load(&ov, &P), 1);
    cn_overlay_free(&ov);
    int64_t ref = 1000000;
    struct {
        uint32_t tier;
        int64_t bps;
    } t[] = {{1, 500}, {2, 1000}, {3, 2000}, {5, 2000}};
    for (size_t i = 0; i < 4; i++) {
        int64_t band = cn_oracle_tier_band(&P, t[i].tier);
        assert_int_equal(band, t[i].bps);
        int64_t d = ref * band / 10000;
        assert_false(cn_oracle_beyond(ref + d, ref, band));     /* exactly at the band */
        assert_true(cn_oracle_beyond(ref + d + 1, ref, band));  /* one unit beyond */
        assert_false(cn_oracle_beyond(ref - d, ref, band));
        assert_true(cn_oracle_beyond(ref - d - 1, ref, band));
    }
}

static void test_market_fall_units(void **state) {
    (void)state;
    int64_t w[] = {1, 1}, c[] = {100000000, 200000000};
    int64_t p7[] = {93000000, 186000000};
    assert_int_equal(cn_oracle_market_fall(w, p7, c, 2), 7000000); /* 7% = 7e6 / 1e8 */
    int64_t up[] = {110000000, 200000000};
    assert_int_equal(cn_oracle_market_fall(w, up, c, 2), 0);
    int64_t z[] = {0, 0};
    assert_int_equal(cn_oracle_market_fall(z, p7, c, 2), -1);
    /* weights: only the first asset counts */
    int64_t w1[] = {1, 0}, mix[] = {90000000, 200000000};
    assert_int_equal(cn_oracle_market_fall(w1, mix, c, 2), 10000000);
}

static void test_param_check(void **state) {
    (void)state;
    char msg[128];
    assert_true(cn_oracle_param_check("oracle.quorum", 3, msg, sizeof msg));
    assert_false(cn_oracle_param_check("oracle.quorum", 4, msg, sizeof msg));
    assert_string_equal(msg, "oracle.quorum: must be odd");
    assert_false(cn_oracle_param_check("breakers.tier1_bps", 0, msg, sizeof msg));
    assert_true(cn_oracle_param_check("oracle.min_price.BTC", 1, msg, sizeof msg));
    assert_false(cn_oracle_param_check("oracle.max_price.btc", 5, msg, sizeof msg));
    assert_true(cn_oracle_param_check("breakers.weight.AAPL", 0, msg, sizeof msg));
    assert_false(cn_oracle_param_check("oracle.nope", 1, msg, sizeof msg));
}

/* ---- reports ------------------------------------------------------------------------------ */

static void test_report_validation(void **state) {
    (void)state;
    uint64_t t = (uint64_t)T0;
    /* bounds of DAI: 1000000 / 100 = 10000 .. 1000000 * 100 = 100000000; never clamped */
    assert_int_equal(rep(1, "DAI", 10000, t), CN_TX_OK);
    assert_int_equal(rep(1, "DAI", 9999, t), CN_TX_INVALID_FIELD);
    assert_int_equal(rep(1, "DAI", 100000000, t), CN_TX_OK);
    assert_int_equal(rep(1, "DAI", 100000001, t), CN_TX_INVALID_FIELD);
    assert_int_equal(rep(1, "DAI", 0, t), CN_TX_INVALID_FIELD);
    assert_int_equal(rep(1, "XYZ", 1000000, t), CN_TX_UNKNOWN_ASSET);
    /* observed_at: up to 2 s in the future, at most max_age (60 s) old */
    assert_int_equal(rep_at(2, "DAI", 1000000, t + 2000, t), CN_TX_OK);
    assert_int_equal(rep_at(2, "DAI", 1000000, t + 2001, t), CN_TX_INVALID_FIELD);
    assert_int_equal(rep_at(2, "DAI", 1000000, t - 60000, t), CN_TX_OK);
    assert_int_equal(rep_at(2, "DAI", 1000000, t - 60001, t), CN_TX_INVALID_FIELD);
    /* the stored report is the last accepted one */
    cn_oracle_report r;
    assert_int_equal(cn_oracle_report_get(&OV, "DAI", SRC[1].pub, &r), 1);
    assert_int_equal(r.price, 100000000);
    /* round strictly increasing per source and asset */
    ROUND[1] = r.round - 1; /* the next report reuses the stored round */
    assert_int_equal(rep(1, "DAI", 1000000, t), CN_TX_INVALID_FIELD);
    ROUND[1] = r.round;
    assert_int_equal(rep(1, "DAI", 1000000, t), CN_TX_OK);
}

/* ---- end of block -------------------------------------------------------------------------- */

static void test_median_with_quorum_publishes(void **state) {
    (void)state;
    uint64_t t = (uint64_t)T0;
    assert_int_equal(rep(1, "AAPL", 190000000, t), CN_TX_OK);
    assert_int_equal(rep(2, "AAPL", 190100000, t), CN_TX_OK);
    endb(t);
    assert_int_equal(nev("oracle.no_update", "AAPL"), 1);
    assert_string_equal(ev_attr("oracle.no_update", "AAPL", "reason"), "no_quorum");
    assert_int_equal(asset("AAPL").price, 0);
    assert_true(hflags("AAPL", t) & CN_OH_NO_PRICE);
    t += 1000;
    assert_int_equal(rep(3, "AAPL", 189900000, t), CN_TX_OK);
    endb(t);
    assert_int_equal(nev("oracle.price", "AAPL"), 1);
    assert_int_equal(asset("AAPL").price, 190000000);
    int64_t p;
    uint64_t at;
    assert_int_equal(cn_oracle_price(&OV, "AAPL", &p, &at), 1);
    assert_int_equal(p, 190000000);
    assert_int_equal(at, t);
    assert_int_equal(hflags("AAPL", t), 0);
    /* the contract view: AAPL is index 2 in genesis */
    assert_int_equal(cn_oracle_view_price(&OV, &G, 2, &p), 1);
    assert_int_equal(p, 190000000);
}

static void test_outlier_flagged(void **state) {
    (void)state;
    uint64_t t = (uint64_t)T0;
    for (unsigned s = 1; s <= 4; s++)
        assert_int_equal(rep(s, "BTC", BTC_REF + (int64_t)s * 1000000, t), CN_TX_OK);
    assert_int_equal(rep(5, "BTC", BTC_REF * 2, t), CN_TX_OK);
    endb(t);
    assert_int_equal(nev("oracle.flag", "BTC"), 1);
    assert_int_equal(nev("oracle.price", "BTC"), 1);
    assert_int_equal(asset("BTC").price, BTC_REF + 2000000);
    int64_t f;
    assert_int_equal(cn_oracle_flags_get(&OV, SRC[5].pub, &f), 1);
    assert_int_equal(f, 1);
    assert_int_equal(cn_oracle_counter_get(&OV, "flags", &f), 1);
    assert_int_equal(f, 1);
    uint8_t *used, *flagged;
    size_t nu, nf;
    assert_int_equal(cn_oracle_last_get(&OV, "BTC", &used, &nu, &flagged, &nf), 1);
    assert_int_equal(nu, 4);
    assert_int_equal(nf, 1);
    assert_memory_equal(flagged, SRC[5].pub, 32);
    free(used);
    free(flagged);
}

static void test_spread_no_update(void **state) {
    (void)state;
    uint64_t t = (uint64_t)T0;
    /* 181, 190, 198: all inside the 5% band of 190; spread 17/190 = 8.9% <= 10%: published */
    assert_int_equal(rep(1, "AAPL", 181000000, t), CN_TX_OK);
    assert_int_equal(rep(2, "AAPL", 190000000, t), CN_TX_OK);
    assert_int_equal(rep(3, "AAPL", 198000000, t), CN_TX_OK);
    endb(t);
    assert_int_equal(nev("oracle.price", "AAPL"), 1);
    /* lower genesis spread via the parameter table: 1% */
    cn_key k;
    cn_sk_named(&k, CN_SK_PARAM, "oracle.max_spread_bps");
    assert_true(cn_state_put_i64(&OV, &k, 100));
    t += 1000;
    assert_int_equal(rep(1, "AAPL", 181000000, t), CN_TX_OK);
    assert_int_equal(rep(2, "AAPL", 190000000, t), CN_TX_OK);
    assert_int_equal(rep(3, "AAPL", 198000000, t), CN_TX_OK);
    endb(t);
    assert_int_equal(nev("oracle.no_update", "AAPL"), 1);
    assert_string_equal(ev_attr("oracle.no_update", "AAPL", "reason"), "spread");
    assert_int_equal(asset("AAPL").updated_at, t - 1000);
}

static void test_stale_after_max_age(void **state) {
    (void)state;
    uint64_t t = (uint64_t)T0;
    rep_all("DAI", DAI_REF, t);
    endb(t);
    assert_int_equal(asset("DAI").state, CN_OA_LIVE);
    endb(t + 60000); /* exactly max_age: still fresh */
    assert_int_equal(asset("DAI").state, CN_OA_LIVE);
    endb(t + 60001);
    assert_int_equal(nev("oracle.stale", "DAI"), 1);
    assert_int_equal(asset("DAI").state, CN_OA_STALE);
    assert_true(hflags("DAI", t + 60001) & CN_OH_STALE);
    assert_int_equal(cn_oracle_view_halted(&OV, &G, 1), 1);
    rep_all("DAI", DAI_REF, t + 61000);
    endb(t + 61000);
    assert_int_equal(asset("DAI").state, CN_OA_LIVE);
}

static void test_band_breaker_halts_and_reopens(void **state) {
    (void)state;
    uint64_t t = (uint64_t)T0;
    rep_all("USD", 1000000, t);
    endb(t);
    /* tier 1: exactly +5% against the reference is published */
    rep_all("USD", 1050000, t + 1000);
    endb(t + 1000);
    assert_int_equal(asset("USD").price, 1050000);
    /* reference now the mean of 1000000 and 1050000 = 1025000; +5% of it = 1076250 */
    rep_all("USD", 1076251, t + 2000);
    endb(t + 2000);
    assert_int_equal(nev("oracle.halt", "USD"), 1);
    cn_oracle_asset a = asset("USD");
    assert_int_equal(a.state, CN_OA_HALTED);
    assert_int_equal(a.price, 1050000);
    assert_int_equal(a.halt_until, t + 2000 + 300000);
    assert_true(hflags("USD", t + 2000) & CN_OH_ASSET);
    /* during the pause: no update */
    rep_all("USD", 1076251, t + 3000);
    endb(t + 3000);
    assert_int_equal(nev("oracle.no_update", "USD"), 1);
    assert_string_equal(ev_attr("oracle.no_update", "USD", "reason"), "halted");
    /* the pause ends: the reopening price is published without the band check, grace starts */
    rep_all("USD", 1076251, t + 302000);
    endb(t + 302000);
    assert_int_equal(nev("oracle.asset_resume", "USD"), 1);
    a = asset("USD");
    assert_int_equal(a.state, CN_OA_LIVE);
    assert_int_equal(a.price, 1076251);
    assert_int_equal(a.grace_until, t + 302000 + 60000);
    assert_int_equal(a.nwin, 1);
    uint32_t f = hflags("USD", t + 302000);
    assert_true(f & CN_OH_GRACE);
    assert_false(f & CN_OH_NO_RISK);
    assert_false(hflags("USD", t + 362000) & CN_OH_GRACE);
}

static void test_governance_resume_and_grace(void **state) {
    (void)state;
    char msg[128];
    uint64_t t = (uint64_t)T0;
    assert_int_equal(cn_oracle_resume_market(&OV, t, "", NULL, msg, sizeof msg), 0);
    assert_string_equal(msg, "resume_market: the market is not halted");
    assert_int_equal(cn_oracle_resume_market(&OV, t, "BTC", NULL, msg, sizeof msg), 0);
    rep_all("BTC", BTC_REF, t);
    endb(t);
    rep_all("BTC", BTC_REF * 2, t + 1000); /* +100% on tier 3 (20%) */
    endb(t + 1000);
    assert_int_equal(asset("BTC").state, CN_OA_HALTED);
    cn_evlist ev = {0};
    assert_int_equal(cn_oracle_resume_market(&OV, t + 5000, "BTC", &ev, msg, sizeof msg), 1);
    assert_int_equal(ev.n, 1);
    assert_string_equal(ev.ev[0].type, "oracle.asset_resume");
    cn_evlist_free(&ev);
    cn_oracle_asset a = asset("BTC");
    assert_int_equal(a.state, CN_OA_LIVE);
    assert_int_equal(a.grace_until, t + 65000);
    assert_int_equal(a.reopen, 1);
    assert_true(hflags("BTC", t + 64999) & CN_OH_GRACE);
    assert_false(hflags("BTC", t + 65000) & CN_OH_GRACE);
}

/* A source that loses the oracle role stops counting at once, even with a fresh report. */
static void test_source_without_role_not_counted(void **state) {
    (void)state;
    uint64_t t = (uint64_t)T0;
    for (unsigned s = 1; s <= 3; s++)
        assert_int_equal(rep(s, "AAPL", AAPL_REF, t), CN_TX_OK);
    cn_account a;
    assert_int_equal(cn_state_get_account(&OV, SRC[3].pub, &a), 1);
    a.roles = 0;
    assert_true(cn_state_put_account(&OV, SRC[3].pub, &a));
    endb(t);
    assert_int_equal(nev("oracle.no_update", "AAPL"), 1);
    assert_string_equal(ev_attr("oracle.no_update", "AAPL", "fresh"), "2");
}

/* The reference is the floor mean of the last W = breakers.window_prices prices. */
static void test_reference_window_rolls(void **state) {
    (void)state;
    cn_key k;
    cn_sk_named(&k, CN_SK_PARAM, "breakers.window_prices");
    assert_true(cn_state_put_i64(&OV, &k, 3));
    uint64_t t = (uint64_t)T0;
    const int64_t p[] = {100000000, 101000000, 102000000, 103000000};
    for (size_t i = 0; i < 4; i++, t += 1000) {
        rep_all("AAPL", p[i], t);
        endb(t);
    }
    cn_oracle_asset a = asset("AAPL");
    assert_int_equal(a.nwin, 3);
    assert_int_equal(a.win_price[0], 101000000);
    /* next candidate is judged against (101 + 102 + 103) / 3 = 102000000 */
    rep_all("AAPL", 102000001, t);
    endb(t);
    assert_string_equal(ev_attr("oracle.price", "AAPL", "reference"), "102000000");
    /* an uneven sum rounds down: (102 + 103 + 102.000001) / 3 = 102333333.67 -> 102333333 */
    rep_all("AAPL", 102000000, t + 1000);
    endb(t + 1000);
    assert_string_equal(ev_attr("oracle.price", "AAPL", "reference"), "102333333");
}

/* ---- scenarios ----------------------------------------------------------------------------- */

/* Compound DAI, Nov 2020: one of five sources reports +30% for an hour. The price barely
 * moves, and the source is flagged every block. */
static void test_compound_dai_one_source_plus_30pct_for_an_hour(void **state) {
    (void)state;
    uint64_t t = (uint64_t)T0;
    for (int b = 0; b <= 60; b++, t += 60000) {
        for (unsigned s = 1; s <= 4; s++)
            assert_int_equal(rep(s, "DAI", DAI_REF - 200 + (int64_t)s * 100, t), CN_TX_OK);
        assert_int_equal(rep(5, "DAI", DAI_REF * 13 / 10, t), CN_TX_OK);
        endb(t);
        assert_int_equal(nev("oracle.flag", "DAI"), 1);
        assert_int_equal(nev("oracle.price", "DAI"), 1);
        cn_oracle_asset a = asset("DAI");
        assert_true(a.price >= DAI_REF - 100 && a.price <= DAI_REF + 200);
        assert_int_equal(a.state, CN_OA_LIVE);
    }
    int64_t f;
    assert_int_equal(cn_oracle_flags_get(&OV, SRC[5].pub, &f), 1);
    assert_int_equal(f, 61);
    assert_int_equal(cn_oracle_flags_get(&OV, SRC[1].pub, &f), 0);
    assert_int_equal(f, 0);
}

/* Synthetix sKRW, 2019: three of five sources go silent and one reports x1000. The x1000
 * report is invalid (outside the bounds), the rest is below quorum: no update, then stale. */
static void test_synthetix_skrw_three_silent_one_x1000(void **state) {
    (void)state;
    uint64_t t = (uint64_t)T0;
    rep_all("AAPL", AAPL_REF, t);
    endb(t);
    assert_int_equal(asset("AAPL").price, AAPL_REF);
    uint64_t tb = t;
    for (int b = 0; b < 3; b++) {
        /* from 70 s on, the silent sources' last reports are older than max_age */
        tb = t + 70000 + (uint64_t)b * 30000;
        assert_int_equal(rep(1, "AAPL", AAPL_REF * 1000, tb), CN_TX_INVALID_FIELD);
        assert_int_equal(rep(2, "AAPL", AAPL_REF, tb), CN_TX_OK);
        endb(tb);
        assert_int_equal(nev("oracle.price", "AAPL"), 0);
        assert_int_equal(nev("oracle.no_update", "AAPL"), 1);
        assert_int_equal(asset("AAPL").price, AAPL_REF);
    }
    /* past max_age since the last update: stale, no new risk */
    cn_oracle_asset a = asset("AAPL");
    assert_int_equal(a.state, CN_OA_STALE);
    assert_int_equal(a.updated_at, t);
    assert_true(hflags("AAPL", tb) & CN_OH_STALE);
    assert_int_equal(cn_oracle_view_halted(&OV, &G, 2), 1);
}

/* Mango Markets, 2022: all sources agree on a 20x pump within minutes. The band breaker halts
 * the asset; the pumped price is never published during the pause. */
static void test_mango_all_sources_20x_pump_halts_asset(void **state) {
    (void)state;
    uint64_t t = (uint64_t)T0;
    for (int b = 0; b < 3; b++, t += 20000) {
        rep_all("BTC", BTC_REF, t);
        endb(t);
    }
    t -= 20000;
    const int64_t steps[] = {2, 5, 10, 20}; /* within four minutes */
    int halted = 0;
    for (size_t i = 0; i < 4; i++) {
        t += 60000;
        rep_all("BTC", BTC_REF * steps[i], t);
        endb(t);
        halted += (int)nev("oracle.halt", "BTC");
        cn_oracle_asset a = asset("BTC");
        assert_int_equal(a.price, BTC_REF);
        assert_int_equal(a.state, CN_OA_HALTED);
        assert_true(hflags("BTC", t) & CN_OH_ASSET);
        assert_int_equal(cn_oracle_view_halted(&OV, &G, 3), 1);
    }
    assert_int_equal(halted, 1);
    int64_t n;
    assert_int_equal(cn_oracle_counter_get(&OV, "asset_halts", &n), 1);
    assert_int_equal(n, 1);
}

/* Market-wide -7%, -13%, -20%: the three levels with their durations (15 min, 15 min, until
 * governance resumes), each level at most once per close interval. */
static void test_market_wide_7_13_20_levels_with_durations(void **state) {
    (void)state;
    uint64_t t = (uint64_t)T0;
    rep_market(1, 1, t);
    endb(t);
    assert_int_equal(nev("oracle.close", NULL), 1);
    /* steps of at most 4% per block keep every asset inside its band; blocks 6 min apart
     * (> window_ms) so the reference is the last price */
    const int64_t pct[] = {96, 9301, 93};
    const int64_t den[] = {100, 10000, 100};
    for (size_t i = 0; i < 3; i++) {
        t += 360000;
        rep_market(pct[i], den[i], t);
        endb(t);
        assert_int_equal(nev("oracle.halt", NULL), 0);
        assert_int_equal(market().level, i == 2 ? 1 : 0); /* 6.99% does not, 7% does */
    }
    cn_oracle_market m = market();
    assert_int_equal(m.halt_until, t + 900000);
    assert_true(hflags("BTC", t) & CN_OH_MARKET);
    assert_int_equal(cn_oracle_view_halted(&OV, &G, -1), 1);
    uint64_t t1 = t;
    t += 360000;
    rep_market(93, 100, t);
    endb(t);
    assert_int_equal(market().level, 1);
    t = t1 + 900000;
    rep_market(93, 100, t);
    endb(t);
    assert_int_equal(nev("oracle.market_resume", NULL), 1);
    m = market();
    assert_int_equal(m.level, 0);
    assert_int_equal(m.grace_until, t + 60000);
    /* -10% does not retrigger level 1; -13% triggers level 2 */
    t += 360000;
    rep_market(90, 100, t);
    endb(t);
    assert_int_equal(market().level, 0);
    t += 360000;
    rep_market(87, 100, t);
    endb(t);
    m = market();
    assert_int_equal(m.level, 2);
    assert_int_equal(m.halt_until, t + 900000);
    t += 900000;
    rep_market(87, 100, t);
    endb(t);
    assert_int_equal(market().level, 0);
    /* -17% nothing new, -20% level 3: no end time, holds past any pause */
    t += 360000;
    rep_market(83, 100, t);
    endb(t);
    assert_int_equal(market().level, 0);
    t += 360000;
    rep_market(80, 100, t);
    endb(t);
    m = market();
    assert_int_equal(m.level, 3);
    assert_int_equal(m.halt_until, 0);
    assert_string_equal(ev_attr("oracle.market_halt", NULL, "level"), "3");
    uint32_t f;
    uint64_t until;
    assert_int_equal(cn_oracle_halt_state(&OV, "DAI", t, &f, &until), 1);
    assert_true(f & CN_OH_MARKET);
    assert_int_equal(until, 0);
    t += 3600000;
    rep_market(80, 100, t);
    endb(t);
    assert_int_equal(market().level, 3);
    /* governance resumes: grace, and level 3 is not retriggered in the same interval */
    char msg[128];
    assert_int_equal(cn_oracle_resume_market(&OV, t, "", NULL, msg, sizeof msg), 1);
    m = market();
    assert_int_equal(m.level, 0);
    assert_int_equal(m.grace_until, t + 60000);
    assert_true(hflags("DAI", t) & CN_OH_GRACE);
    t += 60000;
    rep_market(80, 100, t);
    endb(t);
    assert_int_equal(market().level, 0);
    int64_t n;
    assert_int_equal(cn_oracle_counter_get(&OV, "market_halts", &n), 1);
    assert_int_equal(n, 3);
    /* the next day: a new reference close at the current prices, levels re-armed */
    t = (uint64_t)T0 + 86400000;
    rep_market(80, 100, t);
    endb(t);
    assert_int_equal(nev("oracle.close", NULL), 1);
    int64_t close;
    assert_int_equal(cn_oracle_close_get(&OV, "AAPL", &close), 1);
    assert_int_equal(close, AAPL_REF * 80 / 100);
    assert_int_equal(market().triggered, 0);
}

/* ---- through real blocks ------------------------------------------------------------------- */

static void test_reports_in_blocks_publish_at_end_of_block(void **state) {
    (void)state;
    tk_chain c;
    char *j = genesis_json();
    assert_true(tk_open(&c, j));
    free(j);
    uint64_t t = 1700000100000ULL;
    tk_clock_now = t - 1000;
    /* an empty first block (its time is genesis + 1): its precommit, stamped now, gives the
     * next block its BFT time */
    char err[256];
    assert_int_equal(cn_producer_step(&c.prod, 1, err, sizeof err), 1);
    uint8_t *tx;
    size_t len;
    uint8_t h[NSRC + 1][32];
    for (unsigned s = 1; s <= NSRC; s++) {
        int64_t price = s == 5 ? DAI_REF * 13 / 10 : DAI_REF;
        assert_true(cn_tx_oracle_report(&SRC[s], TK_CHAIN, 1, "DAI", (uint64_t)price, t - 500,
                                        1, &tx, &len));
        assert_int_equal(tk_submit(&c, tx, len, h[s]), CN_TX_OK);
    }
    /* a member without the oracle role is refused at admission */
    assert_true(cn_tx_oracle_report(&SRC[0], TK_CHAIN, 1, "DAI", DAI_REF, t - 500, 1, &tx,
                                    &len));
    assert_int_equal(tk_submit(&c, tx, len, h[0]), CN_TX_NOT_PERMITTED);
    assert_int_equal(tk_block(&c), 1);
    for (unsigned s = 1; s <= NSRC; s++)
        assert_int_equal(tk_receipt_code(&c, h[s]), 0);
    cn_store_rtxn *r;
    assert_int_equal(cn_store_read_begin(c.store, &r), CN_STORE_OK);
    cn_overlay ov;
    cn_overlay_init(&ov, r);
    int64_t p, f;
    uint64_t at;
    assert_int_equal(cn_oracle_price(&ov, "DAI", &p, &at), 1);
    assert_int_equal(p, DAI_REF);
    assert_int_equal(at, t);
    assert_int_equal(cn_oracle_flags_get(&ov, SRC[5].pub, &f), 1);
    assert_int_equal(f, 1);
    /* the end-of-block events are stored as one receipt under 'm' "endblock" */
    cn_key k;
    const uint8_t *v;
    size_t n;
    cn_sk_named(&k, CN_SK_META, "endblock");
    assert_int_equal(cn_overlay_get(&ov, k.b, k.len, &v, &n), 1);
    cn_pb pb;
    assert_int_equal(cn_decode(CN_MSG_RECEIPT, v, n, &pb), CN_DECODE_OK);
    const Clearnode__V1__Receipt *rc = (const Clearnode__V1__Receipt *)pb.msg;
    int saw_flag = 0, saw_price = 0;
    for (size_t i = 0; i < rc->n_events; i++) {
        saw_flag += !strcmp(rc->events[i]->type, "oracle.flag");
        saw_price += !strcmp(rc->events[i]->type, "oracle.price");
    }
    assert_int_equal(saw_flag, 1);
    assert_int_equal(saw_price, 1);
    assert_int_equal(rc->index, NSRC);
    cn_pb_free(&pb);
    cn_overlay_free(&ov);
    cn_store_read_end(r);
    tk_close(&c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_median_lower_middle),
        cmocka_unit_test(test_aggregate_quorum),
        cmocka_unit_test(test_aggregate_outlier_dropped),
        cmocka_unit_test(test_aggregate_spread_too_wide),
        cmocka_unit_test(test_aggregate_properties),
        cmocka_unit_test(test_band_tiers_exact_boundaries),
        cmocka_unit_test(test_market_fall_units),
        cmocka_unit_test(test_param_check),
#define OVT(f) cmocka_unit_test_setup_teardown(f, ov_setup, ov_teardown)
        OVT(test_report_validation),
        OVT(test_median_with_quorum_publishes),
        OVT(test_outlier_flagged),
        OVT(test_spread_no_update),
        OVT(test_stale_after_max_age),
        OVT(test_band_breaker_halts_and_reopens),
        OVT(test_governance_resume_and_grace),
        OVT(test_source_without_role_not_counted),
        OVT(test_reference_window_rolls),
        OVT(test_compound_dai_one_source_plus_30pct_for_an_hour),
        OVT(test_synthetix_skrw_three_silent_one_x1000),
        OVT(test_mango_all_sources_20x_pump_halts_asset),
        OVT(test_market_wide_7_13_20_levels_with_durations),
        cmocka_unit_test_setup_teardown(test_reports_in_blocks_publish_at_end_of_block,
                                        ov_setup, ov_teardown),
#undef OVT
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
