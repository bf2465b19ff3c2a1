/* The account view of the margin module (cn_margin_account_get, margin.h): requirements
 * through the contract's views, positions and cash from its storage and views, the queue
 * entry, and a state:
 *   halted       a position's asset takes no new risk now (halted, stale or unpriced): no
 *                trading in it, no withdrawal from the account, no liquidation of it;
 *   liquidating  equity below maintenance: the end-of-block pass liquidates it;
 *   margin_call  equity below the initial requirement: no new risk, no withdrawal;
 *   ok           otherwise.
 */
#include "node/app/margin.h"

#include <string.h>

#include "node/app/margin_queue.h"
#include "node/app/margin_store.h"

const char *cn_margin_state_name(int s) {
    switch (s) {
    case CN_MS_OK: return "ok";
    case CN_MS_MARGIN_CALL: return "margin_call";
    case CN_MS_LIQUIDATING: return "liquidating";
    case CN_MS_HALTED: return "halted";
    default: return "none";
    }
}

int cn_margin_account_get(cn_overlay *ov, const cn_genesis *g, uint64_t height,
                          uint64_t time_ms, const uint8_t id[32], cn_margin_account *out) {
    memset(out, 0, sizeof *out);
    cn_crt rt;
    int x = cn_crt_open(&rt, ov, g, CN_MARGIN_NAME, height, (int64_t)time_ms);
    if (x <= 0) {
        cn_crt_close(&rt);
        return x == 0 ? 0 : -1;
    }
    int halted = 0, ok = 1;
    for (size_t i = 1; ok && i < g->n_assets; i++) {
        cn_margin_pos *p = &out->pos[out->npos];
        int64_t q, c, l;
        uint64_t at, until;
        x = cn_margin_pos_get(ov, rt.id, id, (int64_t)i, &q, &c, &l);
        if (x < 0 || (x > 0 && (cn_oracle_halt_state(ov, g->assets[i].symbol, time_ms,
                                                     &p->halt, &until) < 0 ||
                                cn_oracle_price(ov, g->assets[i].symbol, &p->price, &at) < 0)))
            ok = 0;
        else if (x > 0) {
            p->asset = (int64_t)i;
            p->qty = q;
            p->cost = c;
            p->liq_price = l;
            halted |= (p->halt & CN_OH_NO_RISK) != 0;
            out->npos++;
        }
    }
    int64_t w[4];
    cn_margin_words(id, w);
    if (ok)
        ok = cn_crt_view(&rt, "cash", w, 4, &out->cash) >= 0;
    if (ok) {
        x = cn_margin_eval(&rt, id, &out->equity, &out->initial, &out->maintenance);
        ok = x >= 0;
        out->evaluable = x > 0;
    }
    if (ok)
        ok = (out->queued = cn_mq_get(ov, id, &out->rank)) >= 0;
    cn_crt_close(&rt);
    if (!ok)
        return -1;
    out->exists = out->npos > 0 || out->cash != 0;
    if (halted || !out->evaluable)
        out->state = CN_MS_HALTED;
    else if (out->equity < out->maintenance)
        out->state = CN_MS_LIQUIDATING;
    else if (out->equity < out->initial)
        out->state = CN_MS_MARGIN_CALL;
    else
        out->state = CN_MS_OK;
    return 1;
}
