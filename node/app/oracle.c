/* The oracle_report transaction: stateless validation, execution against the block overlay,
 * and a builder for clients and tests (oracle.h, docs/oracle.md "Reports").
 *
 * Execution checks everything before its first write: asset known, price inside the asset's
 * bounds (an out-of-bounds price is invalid, never clamped), observed_at neither beyond
 * block time + oracle.future_ms nor older than block time - oracle.max_age_ms, round strictly
 * above the source's previous round for this asset. Then the report replaces the source's
 * previous one for the asset and the source joins the asset's source list.
 */
#include "node/app/oracle.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "node/app/txbuild.h"

cn_txerr cn_oracle_validate(const Clearnode__V1__OracleReport *r, char *msg, size_t cap) {
    if (!cn_symbol_valid(r->asset)) {
        snprintf(msg, cap, "oracle_report.asset: not 1..16 characters of [A-Z0-9.]");
        return CN_TX_INVALID_FIELD;
    }
    if (r->price == 0 || r->price > (uint64_t)INT64_MAX) {
        snprintf(msg, cap, "oracle_report.price: must be 1..%lld", (long long)INT64_MAX);
        return CN_TX_INVALID_FIELD;
    }
    if (r->observed_at == 0 || r->observed_at > (uint64_t)INT64_MAX) {
        snprintf(msg, cap, "oracle_report.observed_at: must be 1..%lld ms",
                 (long long)INT64_MAX);
        return CN_TX_INVALID_FIELD;
    }
    if (r->round == 0) {
        snprintf(msg, cap, "oracle_report.round: must be >= 1");
        return CN_TX_INVALID_FIELD;
    }
    return CN_TX_OK;
}

static void fail(cn_exec_result *r, cn_txerr code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(cn_exec_result *r, cn_txerr code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
    r->code = code;
    r->n_events = 0;
}

void cn_oracle_exec(cn_overlay *ov, uint64_t time_ms, const uint8_t src[32],
                    const Clearnode__V1__OracleReport *rep, cn_exec_result *r) {
    r->code = CN_TX_OK;
    snprintf(r->message, sizeof r->message, "ok");
    r->gas_used = CN_GAS_LEDGER;
    r->n_events = 0;
    cn_oracle_params p;
    int64_t lo, hi;
    if (cn_oracle_params_load(ov, &p) < 0)
        return fail(r, CN_TX_INTERNAL, "oracle parameters unreadable");
    int x = cn_oracle_bounds(ov, &p, rep->asset, &lo, &hi);
    if (x < 0)
        return fail(r, CN_TX_INTERNAL, "state read failed");
    if (!x)
        return fail(r, CN_TX_UNKNOWN_ASSET, "oracle_report.asset: '%s' is not in genesis",
                    rep->asset);
    int64_t price = (int64_t)rep->price;
    if (price < lo || price > hi)
        return fail(r, CN_TX_INVALID_FIELD,
                    "oracle_report.price: %lld outside the bounds [%lld, %lld] of %s",
                    (long long)price, (long long)lo, (long long)hi, rep->asset);
    if (rep->observed_at > time_ms + (uint64_t)p.future_ms)
        return fail(r, CN_TX_INVALID_FIELD,
                    "oracle_report.observed_at: %llu is more than %lld ms after block time %llu",
                    (unsigned long long)rep->observed_at, (long long)p.future_ms,
                    (unsigned long long)time_ms);
    if (rep->observed_at + (uint64_t)p.max_age_ms < time_ms)
        return fail(r, CN_TX_INVALID_FIELD,
                    "oracle_report.observed_at: %llu is older than max_age %lld ms at block "
                    "time %llu",
                    (unsigned long long)rep->observed_at, (long long)p.max_age_ms,
                    (unsigned long long)time_ms);
    cn_oracle_report prev;
    if ((x = cn_oracle_report_get(ov, rep->asset, src, &prev)) < 0)
        return fail(r, CN_TX_INTERNAL, "state read failed");
    if (x && rep->round <= prev.round)
        return fail(r, CN_TX_INVALID_FIELD,
                    "oracle_report.round: %llu is not above this source's last round %llu",
                    (unsigned long long)rep->round, (unsigned long long)prev.round);
    if ((x = cn_oracle_sources_add(ov, rep->asset, src)) < 0)
        return fail(r, CN_TX_INTERNAL, "state write failed");
    if (!x)
        return fail(r, CN_TX_INVALID_FIELD, "oracle_report: %s already has %d sources",
                    rep->asset, CN_ORACLE_MAX_SOURCES);
    cn_oracle_report now = {price, rep->observed_at, rep->round};
    if (!cn_oracle_report_put(ov, rep->asset, src, &now))
        return fail(r, CN_TX_INTERNAL, "state write failed");
    cn_event *e = &r->events[r->n_events++];
    e->type = "oracle.report";
    e->n = 0;
    cn_ev_str(e, "asset", rep->asset);
    cn_ev_hex(e, "source", src, 32);
    cn_ev_i64(e, "price", price);
    cn_ev_i64(e, "observed_at", (int64_t)rep->observed_at);
    cn_ev_i64(e, "round", (int64_t)rep->round);
}

int cn_tx_oracle_report(const cn_keypair *kp, const char *chain_id, uint64_t nonce,
                        const char *asset, uint64_t price, uint64_t observed_at,
                        uint64_t round, uint8_t **out, size_t *len) {
    Clearnode__V1__Tx tx;
    Clearnode__V1__OracleReport o;
    clearnode__v1__tx__init(&tx);
    clearnode__v1__oracle_report__init(&o);
    o.asset = (char *)(uintptr_t)asset;
    o.price = price;
    o.observed_at = observed_at;
    o.round = round;
    tx.nonce = nonce;
    tx.kind_case = CLEARNODE__V1__TX__KIND_ORACLE_REPORT;
    tx.oracle_report = &o;
    return cn_tx_sign(kp, chain_id, &tx, out, len);
}
