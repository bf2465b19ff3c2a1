/* The end-of-block hook point: module work that runs after a block's transactions and before
 * its write set is hashed (cn_app_finalize_block calls cn_app_end_block exactly once).
 *
 * Modules run in a fixed order, the same on every validator:
 *   0. consensus evidence carried by the block      (cn_evidence_end_block)
 *   1. oracle aggregation and 2. circuit breakers   (cn_oracle_end_block)
 *   2a. governance: delayed actions, expiries       (cn_gov_end_block)
 *   2b. custody: withdrawal expiry and execution    (cn_custody_end_block)
 *   3. liquidations                                 (cn_margin_end_block)
 *   4. reserves: sum tree at epoch end            (cn_reserves_end_block)
 * A later step sees every write of an earlier one. The events they emit are stored, encoded
 * as one Receipt (code 0, index = number of txs in the block), under the state key
 * 'm' "endblock" (replaced every block; absent when the block emitted none), so the app
 * hash covers them and GET /v1/oracle and the logs can show them.
 */
#ifndef CLEARNODE_NODE_APP_ENDBLOCK_H
#define CLEARNODE_NODE_APP_ENDBLOCK_H

#include <stdint.h>

#include "node/app/oracle.h"
#include "node/app/overlay.h"
#include "node/genesis/genesis.h"

/* Runs the modules in order and stores their events. Returns 1, or 0 on a storage or memory
 * failure (the block cannot be trusted; the node stops). */
int cn_app_end_block(cn_overlay *ov, const cn_genesis *g, const Clearnode__V1__Block *b,
                     uint64_t height, uint64_t time_ms, uint32_t n_txs);

#endif
