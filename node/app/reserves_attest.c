/* reserve_attest: a custodian states its holdings per asset for a published epoch; the chain
 * keeps per-asset reserve sums and solvency (reserves >= liabilities for EACH asset, never
 * netted across assets) and emits reserves.solvent or reserves.insolvent (reserves.h). */
#include "node/app/reserves.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "node/app/state.h"

#define CN_ATTEST_REF_MAX 64u

__attribute__((format(printf, 4, 5))) static cn_txerr verr(char *msg, size_t cap, cn_txerr c,
                                                           const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, cap, fmt, ap);
    va_end(ap);
    return c;
}

cn_txerr cn_reserves_validate(const Clearnode__V1__ReserveAttest *a, char *msg, size_t cap) {
    if (a->epoch == 0)
        return verr(msg, cap, CN_TX_INVALID_FIELD, "reserve_attest.epoch: must be >= 1");
    if (a->n_holdings == 0 || a->n_holdings > CN_POR_MAX_ASSETS)
        return verr(msg, cap, CN_TX_INVALID_FIELD, "reserve_attest.holdings: 1..%u entries",
                    CN_POR_MAX_ASSETS);
    if (a->statement_ref.len > CN_ATTEST_REF_MAX)
        return verr(msg, cap, CN_TX_INVALID_FIELD,
                    "reserve_attest.statement_ref: longer than %u bytes", CN_ATTEST_REF_MAX);
    for (size_t i = 0; i < a->n_holdings; i++) {
        const Clearnode__V1__AssetAmount *h = a->holdings[i];
        if (!cn_symbol_valid(h->asset))
            return verr(msg, cap, CN_TX_INVALID_FIELD,
                        "reserve_attest.holdings[%zu].asset: not 1..16 characters of [A-Z0-9.]",
                        i);
        if (h->amount > (uint64_t)INT64_MAX)
            return verr(msg, cap, CN_TX_INVALID_FIELD,
                        "reserve_attest.holdings[%zu].amount: above %lld", i,
                        (long long)INT64_MAX);
        for (size_t j = 0; j < i; j++)
            if (strcmp(a->holdings[j]->asset, h->asset) == 0)
                return verr(msg, cap, CN_TX_INVALID_FIELD,
                            "reserve_attest.holdings[%zu].asset: %s listed twice", i, h->asset);
    }
    return CN_TX_OK;
}

static void xfail(cn_exec_result *r, cn_txerr code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void xfail(cn_exec_result *r, cn_txerr code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
    r->code = code;
    r->n_events = 0;
}

static void ev_set(cn_event *e, const char *key, const char *v) {
    if (e->n >= CN_EVENT_MAX_ATTRS)
        return;
    e->attrs[e->n].key = key;
    snprintf(e->attrs[e->n].value, CN_EVENT_VALUE_MAX, "%s", v);
    e->n++;
}

static void put64(uint8_t *p, uint64_t v) {
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

/* Stores the attestation record and the updated solvency record. */
static int store(cn_overlay *ov, const uint8_t signer[32], const Clearnode__V1__ReserveAttest *a,
                 const cn_reserves_solvency *s) {
    uint8_t b[4 + CN_POR_MAX_ASSETS * (1 + CN_POR_SYMBOL_MAX + 8)];
    size_t o = 4;
    b[0] = b[1] = b[2] = 0;
    b[3] = (uint8_t)a->n_holdings;
    for (size_t i = 0; i < a->n_holdings; i++) {
        size_t l = strlen(a->holdings[i]->asset);
        b[o++] = (uint8_t)l;
        memcpy(b + o, a->holdings[i]->asset, l);
        o += l;
        put64(b + o, a->holdings[i]->amount);
        o += 8;
    }
    cn_key k;
    cn_key_start(&k, CN_SK_RESERVES);
    cn_key_u8(&k, 'A');
    cn_key_be64(&k, a->epoch);
    cn_key_bytes(&k, signer, 32);
    if (!cn_overlay_put(ov, k.b, k.len, b, o))
        return 0;
    uint8_t sv[4 + CN_POR_MAX_ASSETS * 17];
    sv[0] = sv[1] = sv[2] = 0;
    sv[3] = (uint8_t)s->n_assets;
    for (uint32_t i = 0; i < s->n_assets; i++) {
        cn_por_put_u128(sv + 4 + 17 * i, s->reserves[i]);
        sv[4 + 17 * i + 16] = s->solvent[i];
    }
    cn_key_start(&k, CN_SK_RESERVES);
    cn_key_u8(&k, 'S');
    cn_key_be64(&k, a->epoch);
    return cn_overlay_put(ov, k.b, k.len, sv, 4 + 17 * (size_t)s->n_assets);
}

void cn_reserves_exec(cn_overlay *ov, const uint8_t signer[32],
                      const Clearnode__V1__ReserveAttest *a, cn_exec_result *r) {
    cn_reserves_epoch e;
    int got = cn_reserves_get_epoch(ov, a->epoch, &e);
    if (got < 0)
        return xfail(r, CN_TX_INTERNAL, "storage failure reading reserves epoch");
    if (got == 0)
        return xfail(r, CN_TX_NOT_FOUND, "reserve_attest.epoch: epoch %llu not published",
                     (unsigned long long)a->epoch);
    cn_key k;
    cn_key_start(&k, CN_SK_RESERVES);
    cn_key_u8(&k, 'A');
    cn_key_be64(&k, a->epoch);
    cn_key_bytes(&k, signer, 32);
    const uint8_t *v;
    size_t vl;
    int have = cn_overlay_get(ov, k.b, k.len, &v, &vl);
    if (have < 0)
        return xfail(r, CN_TX_INTERNAL, "storage failure reading attestation");
    if (have == 1)
        return xfail(r, CN_TX_DUPLICATE_APPROVAL,
                     "reserve_attest: this custodian already attested epoch %llu",
                     (unsigned long long)a->epoch);
    cn_reserves_solvency s;
    if (cn_reserves_get_solvency(ov, a->epoch, &s) < 0)
        return xfail(r, CN_TX_INTERNAL, "storage failure reading solvency");
    s.n_assets = e.n_assets;
    for (size_t i = 0; i < a->n_holdings; i++) {
        uint32_t idx = UINT32_MAX;
        for (uint32_t j = 0; j < e.n_assets; j++)
            if (strcmp(e.assets[j], a->holdings[i]->asset) == 0)
                idx = j;
        if (idx == UINT32_MAX)
            return xfail(r, CN_TX_UNKNOWN_ASSET,
                         "reserve_attest.holdings[%zu].asset: %s not in epoch %llu", i,
                         a->holdings[i]->asset, (unsigned long long)a->epoch);
        /* A u128 sum of at most 2^32 int64 amounts per asset cannot overflow in practice, but
         * the bound is checked, never assumed. */
        cn_u128 add = a->holdings[i]->amount;
        if (s.reserves[idx] > ~(cn_u128)0 - add)
            return xfail(r, CN_TX_OVERFLOW, "reserve_attest: %s reserves overflow",
                         a->holdings[i]->asset);
        s.reserves[idx] += add;
    }
    /* Per asset, never netted: a surplus in one asset covers nothing in another. */
    uint32_t short_n = 0, first = UINT32_MAX;
    for (uint32_t j = 0; j < e.n_assets; j++) {
        s.solvent[j] = s.reserves[j] >= e.totals[j];
        if (!s.solvent[j] && short_n++ == 0)
            first = j;
    }
    if (!store(ov, signer, a, &s))
        return xfail(r, CN_TX_INTERNAL, "storage failure writing attestation");
    char num[CN_POR_DEC_MAX + 1];
    cn_event *x = &r->events[r->n_events++];
    memset(x, 0, sizeof *x);
    x->type = "reserves.attested";
    snprintf(num, sizeof num, "%llu", (unsigned long long)a->epoch);
    ev_set(x, "epoch", num);
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", signer[i]);
    ev_set(x, "custodian", hex);
    x = &r->events[r->n_events++];
    memset(x, 0, sizeof *x);
    snprintf(num, sizeof num, "%llu", (unsigned long long)a->epoch);
    if (short_n == 0) {
        x->type = "reserves.solvent";
        ev_set(x, "epoch", num);
        return;
    }
    x->type = "reserves.insolvent";
    ev_set(x, "epoch", num);
    ev_set(x, "asset", e.assets[first]);
    cn_por_u128_to_dec(num, e.totals[first] - s.reserves[first]);
    ev_set(x, "shortfall", num);
    snprintf(num, sizeof num, "%u", short_n);
    ev_set(x, "short_assets", num);
}
