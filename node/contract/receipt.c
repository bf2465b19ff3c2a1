/* Receipts with contract events: the fixed events of the result followed by one
 * "contract.event" per event a contract emitted (attrs contract, topic, data). */
#include <stdlib.h>

#include "node/contract/contract.h"

int cn_contract_receipt_encode(Clearnode__V1__Receipt *rc, const cn_exec_result *r,
                               uint8_t **out, size_t *len) {
    size_t nx = r->n_xevents, nf = rc->n_events;
    Clearnode__V1__Event **all = malloc((nf + nx) * sizeof *all);
    Clearnode__V1__Event *ev = malloc((nx ? nx : 1) * sizeof *ev);
    Clearnode__V1__EventAttr *at = malloc((nx ? nx : 1) * 3 * sizeof *at);
    Clearnode__V1__EventAttr **atp = malloc((nx ? nx : 1) * 3 * sizeof *atp);
    int ok = 0;
    if (all && ev && at && atp) {
        for (size_t i = 0; i < nf; i++)
            all[i] = rc->events[i];
        for (size_t i = 0; i < nx; i++) {
            const cn_xevent *x = &r->xevents[i];
            clearnode__v1__event__init(&ev[i]);
            ev[i].type = (char *)(uintptr_t) "contract.event";
            const char *keys[3] = {"contract", "topic", "data"};
            const char *vals[3] = {x->contract, x->topic, x->data};
            for (size_t j = 0; j < 3; j++) {
                clearnode__v1__event_attr__init(&at[i * 3 + j]);
                at[i * 3 + j].key = (char *)(uintptr_t)keys[j];
                at[i * 3 + j].value = (char *)(uintptr_t)vals[j];
                atp[i * 3 + j] = &at[i * 3 + j];
            }
            ev[i].n_attrs = 3;
            ev[i].attrs = &atp[i * 3];
            all[nf + i] = &ev[i];
        }
        Clearnode__V1__Event **saved = rc->events;
        rc->events = all;
        rc->n_events = nf + nx;
        ok = cn_encode(&rc->base, CN_CAP_RECEIPT, out, len);
        rc->events = saved;
        rc->n_events = nf;
    }
    free(all);
    free(ev);
    free(at);
    free(atp);
    return ok;
}
