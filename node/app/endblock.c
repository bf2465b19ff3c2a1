/* The end-of-block hook (endblock.h): runs the modules in their fixed order and stores the
 * events they emitted as one Receipt under 'm' "endblock". */
#include "node/app/endblock.h"

#include <stdlib.h>

#include "node/app/custody.h"
#include "node/app/evidence.h"
#include "node/app/gov.h"
#include "node/app/margin.h"
#include "node/app/reserves.h"
#include "node/app/state.h"

/* Encodes the events as a Receipt (code 0) and writes or deletes 'm' "endblock". */
static int store_events(cn_overlay *ov, uint64_t height, uint32_t index, const cn_evlist *l) {
    cn_key k;
    cn_sk_named(&k, CN_SK_META, "endblock");
    if (l->n == 0)
        return cn_overlay_del(ov, k.b, k.len);
    Clearnode__V1__Receipt rc;
    clearnode__v1__receipt__init(&rc);
    rc.message = (char *)(uintptr_t)"end of block";
    rc.height = height;
    rc.index = index;
    Clearnode__V1__Event *ev = calloc(l->n, sizeof *ev);
    Clearnode__V1__Event **evp = calloc(l->n, sizeof *evp);
    Clearnode__V1__EventAttr *at = calloc(l->n * CN_EVENT_MAX_ATTRS, sizeof *at);
    Clearnode__V1__EventAttr **atp = calloc(l->n * CN_EVENT_MAX_ATTRS, sizeof *atp);
    int ok = ev && evp && at && atp;
    for (size_t i = 0; ok && i < l->n; i++) {
        clearnode__v1__event__init(&ev[i]);
        ev[i].type = (char *)(uintptr_t)l->ev[i].type;
        for (size_t j = 0; j < l->ev[i].n; j++) {
            size_t x = i * CN_EVENT_MAX_ATTRS + j;
            clearnode__v1__event_attr__init(&at[x]);
            at[x].key = (char *)(uintptr_t)l->ev[i].attrs[j].key;
            at[x].value = (char *)(uintptr_t)l->ev[i].attrs[j].value;
            atp[x] = &at[x];
        }
        ev[i].n_attrs = l->ev[i].n;
        ev[i].attrs = &atp[i * CN_EVENT_MAX_ATTRS];
        evp[i] = &ev[i];
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    if (ok) {
        rc.n_events = l->n;
        rc.events = evp;
        ok = cn_encode(&rc.base, CN_CAP_BLOCK, &buf, &len);
    }
    if (ok)
        ok = cn_overlay_put(ov, k.b, k.len, buf, len);
    free(buf);
    free(ev);
    free(evp);
    free(at);
    free(atp);
    return ok;
}

int cn_app_end_block(cn_overlay *ov, const cn_genesis *g, const Clearnode__V1__Block *b,
                     uint64_t height, uint64_t time_ms, uint32_t n_txs) {
    cn_evlist ev = {0};
    /* 0: equivocations the block records. */
    int ok = cn_evidence_end_block(ov, b, height, &ev);
    /* 1 + 2: oracle aggregation, then the circuit breakers. */
    if (ok)
        ok = cn_oracle_end_block(ov, g, time_ms, &ev);
    /* 2a governance (delayed actions, expiries, power changes), 2b custody withdrawals. */
    if (ok)
        ok = cn_gov_end_block(ov, height, time_ms, &ev) &&
             cn_custody_end_block(ov, height, time_ms, &ev);
    /* 3: liquidations: the margin module's pass, after this block's prices and halts. */
    if (ok)
        ok = cn_margin_end_block(ov, g, height, time_ms, &ev);
    /* 4: reserves: the epoch's sum tree when this block ends an epoch. */
    if (ok)
        ok = cn_reserves_end_block(ov, g, height, &ev);
    if (ok)
        ok = store_events(ov, height, n_txs, &ev);
    cn_evlist_free(&ev);
    return ok && !ov->failed;
}
