/* The ledger module: accounts, roles, tokenized collateral balances and supply (DESIGN.md §8).
 *
 * Each transaction kind has three steps, split so admission (check_tx) and execution
 * (finalize_block) apply exactly the same rules:
 *   cn_ledger_validate  stateless field checks (sizes, formats, amount ranges);
 *   cn_tx_permitted     the role permission table (docs/ledger.md);
 *   cn_ledger_exec      stateful execution against the block overlay.
 * Execution checks everything before its first write, and all amounts are int64 with checked
 * arithmetic, so a failing transaction leaves nothing to undo; the caller still runs it
 * inside an overlay mark and rolls back on failure as a second line of defence.
 *
 * Invariant kept by every kind: for each asset, supply = sum of all balances. Only
 * deposit_attest mints (by a custodian, once per deposit reference); transfers move.
 */
#ifndef CLEARNODE_NODE_APP_LEDGER_H
#define CLEARNODE_NODE_APP_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "node/app/overlay.h"
#include "node/app/state.h"
#include "node/app/txerr.h"
#include "proto/codec.h"

#define CN_GAS_LEDGER 1000u /* fixed gas of every ledger transaction */
#define CN_DEPOSIT_REF_MAX 64
#define CN_EVENT_MAX_ATTRS 8
#define CN_EVENT_VALUE_MAX 160

typedef struct {
    const char *type;
    size_t n;
    struct {
        const char *key;
        char value[CN_EVENT_VALUE_MAX];
    } attrs[CN_EVENT_MAX_ATTRS];
} cn_event;

/* An event emitted by a contract (type "contract.event"); strings malloc'd. */
typedef struct {
    char contract[33];
    char *topic; /* printable ASCII as is, else "hex:" and the bytes in hex */
    char *data;  /* hex */
} cn_xevent;

typedef struct {
    cn_txerr code;
    char message[200];
    uint64_t gas_used;
    size_t n_events;
    cn_event events[2];
    size_t n_xevents;    /* contract events after `events` (node/contract/contract.h) */
    cn_xevent *xevents;  /* malloc'd; freed by cn_exec_result_release */
} cn_exec_result;

/* 1 if this chain version executes the kind; others get CN_TX_UNSUPPORTED at admission. */
int cn_tx_kind_supported(int kind_case);
/* Machine name of a kind ("transfer"), "unknown" for others. */
const char *cn_tx_kind_name(int kind_case);

/* Whether `acct` may sign a tx of kind_case (the table in docs/ledger.md). */
int cn_tx_permitted(int kind_case, const cn_account *acct);

/* Stateless checks of the kind's fields. Returns CN_TX_OK, or a code with the field named in
 * msg. */
cn_txerr cn_ledger_validate(const Clearnode__V1__Tx *tx, const uint8_t signer[32], char *msg,
                            size_t cap);

/* Executes a validated, authenticated tx whose nonce was already consumed. On failure writes
 * nothing (see top) and fills r->code and r->message. CN_TX_INTERNAL means storage failed. */
void cn_ledger_exec(cn_overlay *ov, uint64_t height, const uint8_t signer[32],
                    const Clearnode__V1__Tx *tx, cn_exec_result *r);

/* Sets r->code and r->message (formatted). */
void cn_exec_fail(cn_exec_result *r, cn_txerr code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Checks an asset symbol's format: 1..16 characters of [A-Z0-9.]. */
int cn_symbol_valid(const char *s);

#endif
