/* Direct reads of the margin contract's storage by the node (layout in docs/margin.md,
 * "Storage layout"): positions and the liquidation-price index. The node only reads these
 * keys; every write goes through the contract's entries. */
#ifndef CLEARNODE_NODE_APP_MARGIN_STORE_H
#define CLEARNODE_NODE_APP_MARGIN_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "node/app/overlay.h"
#include "node/contract/runtime.h"

/* Position of `id` in `asset`: 1 with qty/cost/liq set, 0 none, -1 storage failure. */
int cn_margin_pos_get(cn_overlay *ov, const uint8_t cid[32], const uint8_t id[32],
                      int64_t asset, int64_t *qty, int64_t *cost, int64_t *liq);

/* A set of account ids, kept sorted and without duplicates. */
typedef struct {
    uint8_t (*id)[32];
    size_t n, cap;
} cn_idset;
/* Adds id; returns 1, or 0 on no memory. */
int cn_idset_add(cn_idset *s, const uint8_t id[32]);
void cn_idset_free(cn_idset *s);

/* Adds to `out` every account whose index entry in `asset` is crossed by a move to `price`:
 * longs with liquidation price >= price, shorts with liquidation price <= price. The work
 * grows with the entries crossed, not with the accounts. `rt` provides the ordered scan of
 * the block overlay. Returns the number of entries crossed, or -1 on failure. */
int64_t cn_margin_crossing(cn_crt *rt, int64_t asset, int64_t price, cn_idset *out);

/* Adds every account holding a position in `asset` (both sides of its index). */
int64_t cn_margin_holders(cn_crt *rt, int64_t asset, cn_idset *out);

/* The assets in which `id` holds a position, ascending, at most max. Returns the count, or
 * -1 on failure. One ordered scan of the account's "q" keys. */
long cn_margin_positions(cn_crt *rt, const uint8_t id[32], int64_t *assets, size_t max);

/* Equity, initial and maintenance requirements of `id` through the contract's `requirements`
 * view (interest, add-ons and prices included). Returns 1, 0 when the view reverts (a
 * position without a price), -1 on failure. im may be NULL. */
int cn_margin_eval(cn_crt *rt, const uint8_t id[32], int64_t *equity, int64_t *im,
                   int64_t *mm);

#endif
