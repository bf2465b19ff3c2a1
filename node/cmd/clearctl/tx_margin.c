/* `clearctl tx open|close --asset A --side long|short [--quantity N] [--limit-price P]`
 * (tx_margin.h). The node checks the margin rules when the transaction executes; here only
 * the formats are checked. */
#include "node/cmd/clearctl/tx_margin.h"

#include <stdio.h>
#include <string.h>

#include "node/cmd/clearctl/clearctl.h"
#include "proto/codec.h"

int clearctl_margin_kind(const char *kind) {
    return strcmp(kind, "open") == 0 || strcmp(kind, "close") == 0;
}

int clearctl_margin_check(const char *kind, const char *asset, const clearctl_margin_flags *f,
                          clearctl_margin_vals *v) {
    memset(v, 0, sizeof *v);
    if (!clearctl_margin_kind(kind)) {
        const char *bad = f->side ? "--side" : f->quantity ? "--quantity"
                                  : f->limit_price     ? "--limit-price"
                                                       : NULL;
        if (bad)
            fprintf(stderr, "error: %s does not apply to %s\n", bad, kind);
        return bad == NULL;
    }
    int open = strcmp(kind, "open") == 0;
    if (asset == NULL || f->side == NULL || (open && f->quantity == NULL)) {
        fprintf(stderr, "error: %s is required\n",
                asset == NULL ? "--asset" : f->side == NULL ? "--side" : "--quantity");
        return 0;
    }
    if (!clearctl_parse_asset("--asset", asset))
        return 0;
    if (strcmp(f->side, "long") == 0)
        v->side = CLEARNODE__V1__SIDE__SIDE_LONG;
    else if (strcmp(f->side, "short") == 0)
        v->side = CLEARNODE__V1__SIDE__SIDE_SHORT;
    else {
        fprintf(stderr, "error: --side: 'long' or 'short'\n");
        return 0;
    }
    if (f->quantity &&
        !clearctl_parse_u64("--quantity", f->quantity, open ? 1 : 0, INT64_MAX, &v->quantity))
        return 0;
    if (f->limit_price &&
        !clearctl_parse_u64("--limit-price", f->limit_price, 0, INT64_MAX, &v->limit_price))
        return 0;
    return 1;
}

int clearctl_margin_encode(const char *kind, const char *asset, const clearctl_margin_vals *v,
                           const char *chain_id, uint64_t nonce, uint8_t **out, size_t *len) {
    Clearnode__V1__Tx tx;
    Clearnode__V1__OpenPosition op;
    Clearnode__V1__ClosePosition cp;
    clearnode__v1__tx__init(&tx);
    clearnode__v1__open_position__init(&op);
    clearnode__v1__close_position__init(&cp);
    tx.chain_id = (char *)(uintptr_t)chain_id;
    tx.nonce = nonce;
    if (strcmp(kind, "open") == 0) {
        op.asset = (char *)(uintptr_t)asset;
        op.side = (Clearnode__V1__Side)v->side;
        op.quantity = v->quantity;
        op.limit_price = v->limit_price;
        tx.kind_case = CLEARNODE__V1__TX__KIND_OPEN_POSITION;
        tx.open_position = &op;
    } else {
        cp.asset = (char *)(uintptr_t)asset;
        cp.side = (Clearnode__V1__Side)v->side;
        cp.quantity = v->quantity;
        cp.limit_price = v->limit_price;
        tx.kind_case = CLEARNODE__V1__TX__KIND_CLOSE_POSITION;
        tx.close_position = &cp;
    }
    return cn_encode(&tx.base, CN_CAP_TX, out, len);
}
