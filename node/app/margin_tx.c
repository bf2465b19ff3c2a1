/* open_position and close_position: calls of the margin contract's `open` and `close` with the
 * signer as the account (margin.h, docs/margin.md "Trading").
 *
 * Quantities in the transaction are in the asset's smallest units (its genesis decimals);
 * the contract counts 10^6 units per whole unit, so a quantity is scaled by 10^(6 - decimals)
 * (an asset with more than 6 decimals needs a multiple of 10^(decimals - 6)). A close names
 * the side it reduces, which must be the side held; quantity 0 closes all of it. Its limit
 * price is checked here against the same oracle price the contract then trades at (both read
 * the block overlay), since the contract's `close` takes none.
 */
#include "node/app/margin.h"

#include <stdio.h>
#include <string.h>

#include "crypto/bytes.h"
#include "node/app/margin_store.h"
#include "node/app/oracle_view.h"

void cn_margin_words(const uint8_t id[32], int64_t w[4]) {
    for (int i = 0; i < 4; i++)
        w[i] = (int64_t)cn_get_be64(id + 8 * i);
}

int64_t cn_margin_asset_index(const cn_genesis *g, const char *symbol) {
    for (size_t i = 0; i < g->n_assets; i++)
        if (strcmp(g->assets[i].symbol, symbol) == 0)
            return (int64_t)i;
    return -1;
}

int cn_margin_kind(int k) {
    return k == CLEARNODE__V1__TX__KIND_OPEN_POSITION ||
           k == CLEARNODE__V1__TX__KIND_CLOSE_POSITION;
}

/* The fields open_position and close_position share. */
typedef struct {
    int open, side;
    const char *kn, *asset;
    uint64_t qty, limit;
} fields;

static void get_fields(const Clearnode__V1__Tx *tx, fields *f) {
    f->open = tx->kind_case == CLEARNODE__V1__TX__KIND_OPEN_POSITION;
    f->kn = f->open ? "open_position" : "close_position";
    if (f->open) {
        const Clearnode__V1__OpenPosition *o = tx->open_position;
        f->asset = o->asset;
        f->side = (int)o->side;
        f->qty = o->quantity;
        f->limit = o->limit_price;
    } else {
        const Clearnode__V1__ClosePosition *c = tx->close_position;
        f->asset = c->asset;
        f->side = (int)c->side;
        f->qty = c->quantity;
        f->limit = c->limit_price;
    }
}

cn_txerr cn_margin_validate(const Clearnode__V1__Tx *tx, char *msg, size_t cap) {
    fields f;
    get_fields(tx, &f);
    int open = f.open, side = f.side;
    const char *kn = f.kn, *asset = f.asset;
    uint64_t qty = f.qty, limit = f.limit;
    if (!cn_symbol_valid(asset))
        return cn_txerr_set(msg, cap, CN_TX_INVALID_FIELD,
                       "%s.asset: not 1..16 characters of [A-Z0-9.]", kn);
    if (side != CLEARNODE__V1__SIDE__SIDE_LONG && side != CLEARNODE__V1__SIDE__SIDE_SHORT)
        return cn_txerr_set(msg, cap, CN_TX_INVALID_FIELD, "%s.side: must be SIDE_LONG or SIDE_SHORT",
                       kn);
    if ((open && qty == 0) || qty > (uint64_t)INT64_MAX)
        return cn_txerr_set(msg, cap, CN_TX_INVALID_FIELD, "%s.quantity: must be %d..%lld", kn,
                       open ? 1 : 0, (long long)INT64_MAX);
    if (limit > (uint64_t)INT64_MAX)
        return cn_txerr_set(msg, cap, CN_TX_INVALID_FIELD, "%s.limit_price: over %lld", kn,
                       (long long)INT64_MAX);
    return CN_TX_OK;
}

/* Scales a quantity in the asset's smallest units to contract units. 1 ok, 0 not
 * representable (message set). */
static int to_units(const cn_gen_asset *a, const char *kn, uint64_t q, int64_t *out,
                    cn_exec_result *r) {
    int64_t x = (int64_t)q;
    for (uint32_t d = a->decimals; d < 6; d++)
        if (__builtin_mul_overflow(x, 10, &x)) {
            cn_exec_fail(r, CN_TX_OVERFLOW, "%s.quantity: %llu is too large", kn, (unsigned long long)q);
            return 0;
        }
    for (uint32_t d = 6; d < a->decimals; d++) {
        if (x % 10) {
            cn_exec_fail(r, CN_TX_INVALID_FIELD,
                 "%s.quantity: %s has %u decimals; positions are kept in 10^-6 units, so the "
                 "quantity must be a multiple of 10^%u",
                 kn, a->symbol, a->decimals, a->decimals - 6);
            return 0;
        }
        x /= 10;
    }
    *out = x;
    return 1;
}

/* The reason of a contract revert, as a tx result. */
static void revert_reason(cn_exec_result *r, const char *kn, const char *sym, int64_t code) {
    switch (code) {
    case CN_MR_HALTED:
        return cn_exec_fail(r, CN_TX_HALTED,
                    "%s.asset: %s takes no new risk now (asset or market halted, or stale price)",
                    kn, sym);
    case CN_MR_NO_PRICE:
        return cn_exec_fail(r, CN_TX_HALTED, "%s.asset: %s has no oracle price", kn, sym);
    case CN_MR_LIMIT:
        return cn_exec_fail(r, CN_TX_PRICE_LIMIT, "%s.limit_price: the oracle price of %s is worse", kn,
                    sym);
    case CN_MR_INITIAL:
        return cn_exec_fail(r, CN_TX_MARGIN, "%s: equity would fall below the initial requirement", kn);
    case CN_MR_LEVERAGE:
        return cn_exec_fail(r, CN_TX_MARGIN,
                    "%s: leverage would reach 1/maintenance (equity not above maintenance)", kn);
    case CN_MR_CLOSE_BIG:
        return cn_exec_fail(r, CN_TX_INVALID_FIELD, "%s.quantity: larger than the position", kn);
    case CN_MR_NO_POSITION:
        return cn_exec_fail(r, CN_TX_NO_POSITION, "%s: no position in %s", kn, sym);
    default:
        return cn_exec_fail(r, CN_TX_CONTRACT_ERROR, "%s: the margin contract reverted with code %lld",
                    kn, (long long)code);
    }
}

/* Runs entry as the signer and applies it; fills events. */
static void run(cn_crt *rt, const uint8_t signer[32], const char *kn, const char *sym,
                const char *entry, const int64_t *args, uint32_t nargs, cn_exec_result *r) {
    cn_crt_out out;
    int x = cn_crt_run(rt, signer, entry, args, nargs, CN_CRT_VIEW_GAS, -1, 0, &out);
    r->gas_used += out.res.gas_used;
    if (x < 0)
        cn_exec_fail(r, CN_TX_INTERNAL, "%s: state read failed", kn);
    else if (x == 0)
        cn_exec_fail(r, CN_TX_CONTRACT_ERROR, "%s: the margin contract has no entry '%s'", kn, entry);
    else if (out.res.status == CN_VM_E_REVERT)
        revert_reason(r, kn, sym, out.res.value);
    else if (out.res.status != CN_VM_OK)
        cn_exec_fail(r, CN_TX_CONTRACT_ERROR, "%s: %s in the margin contract", kn,
             cn_vm_errname(out.res.status));
    else if ((r->code = cn_crt_apply(rt, &out.vo, r->message, sizeof r->message)) == CN_TX_OK) {
        snprintf(r->message, sizeof r->message, "ok: position %lld", (long long)out.res.value);
        for (uint32_t i = 0; i < out.vo.nevents && r->n_events < 2; i++)
            r->n_events += (size_t)cn_margin_event(rt->g, &out.vo.events[i],
                                                   &r->events[r->n_events]);
    }
    cn_crt_out_free(&out);
}

void cn_margin_exec(cn_overlay *ov, const cn_genesis *g, uint64_t height, uint64_t time_ms,
                    const uint8_t signer[32], const Clearnode__V1__Tx *tx, cn_exec_result *r) {
    r->code = CN_TX_OK;
    r->n_events = 0;
    r->gas_used = CN_GAS_LEDGER;
    fields f;
    get_fields(tx, &f);
    int open = f.open, side = f.side;
    const char *kn = f.kn, *sym = f.asset;
    uint64_t qty = f.qty, limit = f.limit;
    int64_t asset = cn_margin_asset_index(g, sym);
    if (asset < 0)
        return cn_exec_fail(r, CN_TX_UNKNOWN_ASSET, "%s.asset: '%s' is not in genesis", kn, sym);
    if (asset == 0)
        return cn_exec_fail(r, CN_TX_INVALID_FIELD, "%s.asset: %s is the cash asset", kn, sym);
    int64_t units = 0;
    if (qty && !to_units(&g->assets[asset], kn, qty, &units, r))
        return;
    if (qty && units == 0)
        return cn_exec_fail(r, CN_TX_INVALID_FIELD, "%s.quantity: zero", kn);
    cn_crt rt;
    int x = cn_crt_open(&rt, ov, g, CN_MARGIN_NAME, height, (int64_t)time_ms);
    if (x == 0)
        return cn_exec_fail(r, CN_TX_UNKNOWN_CONTRACT, "%s: the margin contract is not deployed", kn);
    if (x < 0) {
        cn_crt_close(&rt);
        return cn_exec_fail(r, x == -2 ? CN_TX_CONTRACT_ERROR : CN_TX_INTERNAL,
                    "%s: the margin contract does not load", kn);
    }
    if (open) {
        int64_t args[4] = {asset, side == CLEARNODE__V1__SIDE__SIDE_LONG ? 0 : 1, units,
                           (int64_t)limit};
        run(&rt, signer, kn, sym, "open", args, 4, r);
        cn_crt_close(&rt);
        return;
    }
    int64_t pos, cost, liq, price = 0;
    x = cn_margin_pos_get(ov, rt.id, signer, asset, &pos, &cost, &liq);
    if (x < 0) {
        cn_crt_close(&rt);
        return cn_exec_fail(r, CN_TX_INTERNAL, "%s: state read failed", kn);
    }
    int held_long = pos > 0, want_long = side == CLEARNODE__V1__SIDE__SIDE_LONG;
    if (x == 0 || held_long != want_long) {
        cn_crt_close(&rt);
        return cn_exec_fail(r, CN_TX_NO_POSITION, "%s: no %s position in %s", kn,
                    want_long ? "long" : "short", sym);
    }
    if (units == 0)
        units = pos < 0 ? -pos : pos;
    if (limit) {
        /* a long is sold (price must not be below the limit), a short bought back */
        if (cn_oracle_view_price(ov, g, asset, &price) < 0) {
            cn_crt_close(&rt);
            return cn_exec_fail(r, CN_TX_INTERNAL, "%s: state read failed", kn);
        }
        if (price > 0 && (want_long ? price < (int64_t)limit : price > (int64_t)limit)) {
            cn_crt_close(&rt);
            return cn_exec_fail(r, CN_TX_PRICE_LIMIT,
                        "%s.limit_price: oracle price %lld of %s is worse than %llu", kn,
                        (long long)price, sym, (unsigned long long)limit);
        }
    }
    int64_t args[2] = {asset, units};
    run(&rt, signer, kn, sym, "close", args, 2, r);
    cn_crt_close(&rt);
}
