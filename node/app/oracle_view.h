/* What contracts may ask of the oracle module: the current price of an asset and whether
 * trading in it is halted. Contracts see assets by index into the genesis asset list.
 *
 * The default implementation (oracle_view.c) answers "no price" and "not halted"; the oracle
 * and circuit-breaker module replaces its bodies with reads of its own state through the
 * block overlay. Answers must depend only on the overlay (deterministic).
 */
#ifndef CLEARNODE_NODE_APP_ORACLE_VIEW_H
#define CLEARNODE_NODE_APP_ORACLE_VIEW_H

#include <stdint.h>

#include "node/app/overlay.h"
#include "node/genesis/genesis.h"

/* Price of asset `asset` in micro-USD: 1 and *price set, 0 if none, <0 on storage failure. */
int cn_oracle_view_price(cn_overlay *ov, const cn_genesis *g, int64_t asset, int64_t *price);
/* 1 if trading in `asset` is halted (asset -1: the whole market), 0 if not, <0 on failure. */
int cn_oracle_view_halted(cn_overlay *ov, const cn_genesis *g, int64_t asset);

#endif
