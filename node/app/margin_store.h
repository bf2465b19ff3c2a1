/* Direct reads of the margin contract's storage by the node (layout in docs/margin.md,
 * "Storage layout"): positions, the liquidation-price index and cash for the reserves. The node only reads these
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

/* The margin contract's id when a contract named "margin" is deployed: 1 with cid set, 0 when
 * it is not, -1 on a storage failure. */
int cn_margin_deployed(cn_overlay *ov, uint8_t cid[32]);

/* The int64 at byte `off` of the value the contract `cid` stores under `key` (its globals, the
 * volatility ring): 1 with *v set; 0 when the key is absent or its value too short (*v = 0,
 * as the contract reads an absent key); -1 on a storage failure. */
int cn_margin_word(cn_overlay *ov, const uint8_t cid[32], const uint8_t *key, size_t klen,
                   size_t off, int64_t *v);

/* The margin cash of `id` that the proof of reserves counts as a claim on the cash asset
 * (docs/reserves.md, "On chain"): the non-negative part of what the contract's `cash` view
 * returns. It is read from the "c" record (cash, index at its last write) rather than by
 * running the view, so an epoch costs one lookup per account: positive cash earns no interest,
 * so the stored value is the view's, and a loan only grows with interest and counts 0.
 * Returns 1 with *claim set (0 without a record), -1 on a storage failure or a malformed
 * record. */
int cn_margin_cash_claim(cn_overlay *ov, const uint8_t cid[32], const uint8_t id[32],
                         int64_t *claim);

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
