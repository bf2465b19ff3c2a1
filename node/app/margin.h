/* The margin module: the node's side of the margin contract (contracts/margin.cas,
 * docs/margin.md). The contract keeps the accounts and enforces every margin rule; this module
 *   - executes open_position and close_position as calls of the contract's `open` / `close`
 *     with the signer as caller (margin_tx.c);
 *   - writes the contract's parameter record and house rates at genesis (margin_params.c);
 *   - runs the end-of-block liquidation pass: interest, recorded prices, the crossing scan of
 *     the liquidation-price index, the persisted queue, the per-block cap and the grace rule
 *     (margin_end.c, margin_queue.c);
 *   - answers the pre-withdrawal check of custody (margin_withdraw.c) and the account view of
 *     GET /v1/margin/{pubkey} (margin_view.c, margin_json.c).
 * The contract is the one deployed under the name "margin"; on a chain without it the
 * transactions fail with unknown_contract and the pass does nothing.
 *
 * Node state (module byte 'q', docs/state.md):
 *   'q' 'Q' rank(8) account(32)   the liquidation queue, empty value, in key order = worst
 *                                 first (rank = floor(E * 10000 / MM), sign bit flipped),
 *                                 ties by account id
 *   'q' 'A' account(32)           rank(8): the account's entry in the queue
 */
#ifndef CLEARNODE_NODE_APP_MARGIN_H
#define CLEARNODE_NODE_APP_MARGIN_H

#include <stddef.h>
#include <stdint.h>

#include "node/app/ledger.h"
#include "node/app/oracle.h"
#include "node/app/overlay.h"
#include "node/contract/runtime.h"
#include "node/genesis/genesis.h"

#define CN_MARGIN_NAME "margin"
#define CN_SK_MARGIN 'q'
#define CN_MARGIN_UNIT INT64_C(1000000) /* contract quantity units per whole asset unit */

/* Contract revert codes (docs/margin.md, "Entry-point ABI"). */
enum {
    CN_MR_BAD_ASSET = 10,
    CN_MR_BAD_SIDE = 11,
    CN_MR_NOT_POSITIVE = 12,
    CN_MR_HALTED = 13,
    CN_MR_NO_PRICE = 14,
    CN_MR_LIMIT = 15,
    CN_MR_INITIAL = 16,
    CN_MR_LEVERAGE = 17,
    CN_MR_CLOSE_BIG = 18,
    CN_MR_NO_POSITION = 19,
    CN_MR_NOT_LIQUIDATABLE = 20,
    CN_MR_SHORT = 21,
    CN_MR_REFUSED = 22,
};

/* The node parameters of the pass ('p' names; genesis params.margin). */
#define CN_MARGIN_P_MAX_LIQ "margin.max_liquidations_per_block"
#define CN_MARGIN_P_GRACE "margin.grace_liquidation_bps"
#define CN_MARGIN_DEF_MAX_LIQ 100
#define CN_MARGIN_DEF_GRACE 5000

/* An account id as the contract's four big-endian int64 words. */
void cn_margin_words(const uint8_t id[32], int64_t w[4]);

/* Genesis index of `symbol`, or -1. */
int64_t cn_margin_asset_index(const cn_genesis *g, const char *symbol);

/* 1 for open_position and close_position. */
int cn_margin_kind(int kind_case);
/* Stateless field checks of open_position / close_position. */
cn_txerr cn_margin_validate(const Clearnode__V1__Tx *tx, char *msg, size_t cap);
/* Executes a validated open_position / close_position whose nonce was consumed. On failure
 * the caller rolls the overlay back to its mark. */
void cn_margin_exec(cn_overlay *ov, const cn_genesis *g, uint64_t height, uint64_t time_ms,
                    const uint8_t signer[32], const Clearnode__V1__Tx *tx, cn_exec_result *r);

/* Genesis: when a contract named "margin" is deployed, its parameter record "g", the house
 * rate "h" of every non-cash asset (its maintenance_margin_bps) and the pass parameters.
 * Returns 1, or 0 when memory ran out. */
int cn_margin_write_genesis(cn_overlay *ov, const cn_genesis *g);

/* Contract events (topic, 32-byte account, three int64) as node events: "margin.open" ...
 * with named attributes (docs/margin.md, "Events"). Returns 1, 0 for an event of another
 * shape (skipped). */
int cn_margin_event(const cn_genesis *g, const cn_vm_event *ve, cn_event *out);

/* The end-of-block liquidation pass (endblock.h step 3). Returns 1, or 0 on a storage or
 * memory failure (the block cannot be trusted). */
int cn_margin_end_block(cn_overlay *ov, const cn_genesis *g, uint64_t height, uint64_t time_ms,
                        cn_evlist *ev);

/* ---- account view (GET /v1/margin/{pubkey}) --------------------------------------------- */

enum { CN_MS_NONE = 0, CN_MS_OK, CN_MS_MARGIN_CALL, CN_MS_LIQUIDATING, CN_MS_HALTED };

typedef struct {
    int64_t asset;      /* genesis index */
    int64_t qty;        /* contract units (10^6 per whole unit), signed */
    int64_t cost;       /* + paid, - received, micro-USD */
    int64_t liq_price;  /* indexed liquidation price, micro-USD (0: never for a long) */
    int64_t price;      /* oracle price, 0 if none */
    uint32_t halt;      /* CN_OH_* flags of the asset at the view's time */
} cn_margin_pos;

typedef struct {
    int exists;        /* the account has cash or a position */
    int evaluable;     /* every position has a price (else equity is unknown) */
    int64_t cash, equity, initial, maintenance;
    size_t npos;
    cn_margin_pos pos[CN_MAX_ASSETS];
    int queued;
    int64_t rank;
    int state;         /* CN_MS_* */
} cn_margin_account;

/* Reads an account through the contract's views and storage. Returns 1, 0 when the margin
 * contract is not deployed, -1 on a storage failure. */
int cn_margin_account_get(cn_overlay *ov, const cn_genesis *g, uint64_t height,
                          uint64_t time_ms, const uint8_t id[32], cn_margin_account *out);
const char *cn_margin_state_name(int state);

#endif
