/* The margin module's part of a withdrawal request (cn_margin_withdraw_ok, custody.h).
 *
 * A client's tokens live in two places: the available ledger balance, which a withdrawal
 * takes, and margin cash held by the margin contract. A withdrawal of the cash asset that the
 * available balance does not cover draws the difference from the margin account through the
 * contract's `withdraw` entry, which moves it only if `withdraw_ok` holds: no position in a
 * halted asset (so gains marked at a price that the breakers froze cannot leave) and equity
 * minus the amount at least the initial requirement. Other assets are not margin collateral.
 */
#include "node/app/custody.h"

#include <stdio.h>
#include <string.h>

#include "node/app/margin.h"
#include "node/app/margin_store.h"

/* Names a position of the client in an asset that takes no new risk now, if any. */
static int halted_position(cn_crt *rt, const uint8_t client[32], uint64_t now,
                           const char **sym) {
    for (size_t i = 1; i < rt->g->n_assets; i++) {
        int64_t q, c, l;
        uint32_t f;
        uint64_t until;
        int x = cn_margin_pos_get(rt->ov, rt->id, client, (int64_t)i, &q, &c, &l);
        if (x < 0)
            return -1;
        if (x == 0)
            continue;
        if (cn_oracle_halt_state(rt->ov, rt->g->assets[i].symbol, now, &f, &until) < 0)
            return -1;
        if (f & CN_OH_NO_RISK) {
            *sym = rt->g->assets[i].symbol;
            return 1;
        }
    }
    return 0;
}

int cn_margin_withdraw_ok(cn_overlay *ov, const cn_genesis *g, uint64_t height, uint64_t now,
                          const uint8_t client[32], const char *asset, int64_t amount,
                          char *msg, size_t cap) {
    int64_t bal;
    if (cn_state_get_balance(ov, client, asset, &bal) < 0)
        return -1;
    if (bal >= amount)
        return 1;
    cn_crt rt;
    memset(&rt, 0, sizeof rt);
    int x = strcmp(asset, g->assets[0].symbol) == 0
                ? cn_crt_open(&rt, ov, g, CN_MARGIN_NAME, height, (int64_t)now)
                : 0;
    if (x <= 0) {
        cn_crt_close(&rt);
        if (x < 0)
            return -1;
        snprintf(msg, cap, "withdraw_request.amount: available %lld %s < %lld", (long long)bal,
                 asset, (long long)amount);
        return 0;
    }
    int64_t need = amount - bal, args[2] = {0, need}, ok;
    const char *hsym = NULL;
    x = cn_crt_view_as(&rt, client, "withdraw_ok", args, 2, &ok);
    if (x > 0 && !ok) {
        int h = halted_position(&rt, client, now, &hsym);
        if (h < 0)
            x = -1;
        else if (h > 0)
            snprintf(msg, cap,
                     "withdraw_request.amount: %lld %s must come from the margin account, "
                     "which holds a position in %s, halted",
                     (long long)need, asset, hsym);
        else
            snprintf(msg, cap,
                     "withdraw_request.amount: %lld %s must come from the margin account, "
                     "which would fall below its initial requirement (or holds less cash)",
                     (long long)need, asset);
    } else if (x > 0) {
        cn_crt_out out;
        x = cn_crt_run(&rt, client, "withdraw", &need, 1, CN_CRT_VIEW_GAS, -1, 0, &out);
        if (x > 0 && out.res.status == CN_VM_OK)
            x = cn_crt_apply(&rt, &out.vo, msg, cap) == CN_TX_OK ? 1 : -1;
        else if (x > 0) {
            snprintf(msg, cap, "withdraw_request.amount: the margin contract refused %lld %s",
                     (long long)need, asset);
            ok = 0;
        }
        cn_crt_out_free(&out);
    } else if (x == 0) {
        snprintf(msg, cap, "withdraw_request.amount: the margin contract cannot check it");
    }
    cn_crt_close(&rt);
    return x < 0 ? -1 : x > 0 && ok;
}
