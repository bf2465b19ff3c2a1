/* The margin contract's events as node events (margin.h, docs/margin.md "Events").
 *
 * Every contract event's data is the 32-byte account id and three big-endian int64; the
 * topic says what they are. The node names them so receipts and the end-of-block receipt read
 * like the other modules' events: account in hex, an asset as its symbol, amounts in decimal.
 */
#include "node/app/margin.h"

#include <stdio.h>
#include <string.h>

#include "crypto/bytes.h"
#include "crypto/encoding.h"

static const struct {
    const char *topic;
    const char *type; /* static string for cn_event.type */
    const char *f[3]; /* names of the three fields; "asset" is printed as a symbol */
} shapes[] = {
    {"margin.open", "margin.open", {"asset", "quantity", "price"}},
    {"margin.close", "margin.close", {"asset", "quantity", "price"}},
    {"margin.call", "margin.call", {"equity", "maintenance", "initial"}},
    {"margin.liquidation", "margin.liquidation", {"asset", "quantity", "price"}},
    {"margin.penalty", "margin.penalty", {"asset", "penalty", "gross"}},
    {"margin.shortfall", "margin.shortfall", {"shortfall", "insurance_paid", "bad_debt"}},
    {"margin.bad_debt", "margin.bad_debt", {"amount", "total", NULL}},
};

int cn_margin_event(const cn_genesis *g, const cn_vm_event *ve, cn_event *out) {
    if (ve->dlen != 56)
        return 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t tl = strlen(shapes[s].topic);
        if (ve->tlen != tl || memcmp(ve->topic, shapes[s].topic, tl) != 0)
            continue;
        memset(out, 0, sizeof *out);
        out->type = shapes[s].type;
        out->attrs[0].key = "account";
        cn_hex_encode(out->attrs[0].value, ve->data, 32);
        out->n = 1;
        for (int i = 0; i < 3 && shapes[s].f[i]; i++) {
            int64_t v = (int64_t)cn_get_be64(ve->data + 32 + 8 * i);
            out->attrs[out->n].key = shapes[s].f[i];
            if (strcmp(shapes[s].f[i], "asset") == 0 && v >= 0 && (uint64_t)v < g->n_assets)
                snprintf(out->attrs[out->n].value, CN_EVENT_VALUE_MAX, "%s",
                         g->assets[v].symbol);
            else
                snprintf(out->attrs[out->n].value, CN_EVENT_VALUE_MAX, "%lld", (long long)v);
            out->n++;
        }
        return 1;
    }
    return 0;
}
