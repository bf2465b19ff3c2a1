/* The governance module: M-of-N governors propose and approve chain changes
 * (DESIGN.md §10, docs/governance.md).
 *
 * governance_propose (governor) creates proposal id n (1, 2, ...) with an expiry; the proposer's
 * proposal counts as their approval. governance_approve (governor) adds one approval per key.
 * When the approvals of keys still in the governor set reach the proposal's threshold, the
 * action runs inside that transaction (a failing action fails the transaction and records
 * nothing). Thresholds: M = param governance.threshold for every action, except
 * freeze_withdrawals=true (1: any governor can pull the brake; unfreezing needs M) and
 * approver_policy (min(M+1, N): a higher threshold), which then waits
 * governance.policy_delay_ms before it applies, cancellable by a cancel_proposal meanwhile.
 * Open proposals past their expiry lapse at the end of the block.
 *
 * State (module byte 'g'; docs/state.md):
 *   'g' 'n'                       last proposal id, be64
 *   'g' 'P' id(8)                 proposal record (gov.c)
 *   'g' 'O'                       open and delayed proposal ids (be64 list)
 *   'g' 'S'                       governor set (32-byte keys)
 *   'g' 'V' height(8)             validator power changes effective at that height:
 *                                 (key(32), be64 power) list
 *   'g' 'E' height(8) id(8) kind  end-of-block audit event (encoded Event)
 */
#ifndef CLEARNODE_NODE_APP_GOV_H
#define CLEARNODE_NODE_APP_GOV_H

#include <stddef.h>
#include <stdint.h>

#include "node/app/ledger.h"
#include "node/app/oracle.h"
#include "node/app/overlay.h"

#define CN_SK_GOV 'g'
#define CN_GOV_MAX_GOVERNORS 64
#define CN_GOV_MAX_OPEN 256
#define CN_GOV_MAX_POWER_CHANGES 64
#define CN_GOV_DEF_POLICY_DELAY_MS INT64_C(86400000)

enum {
    CN_GOV_OPEN = 1,
    CN_GOV_EXECUTED = 2,
    CN_GOV_EXPIRED = 3,
    CN_GOV_CANCELLED = 4,
    CN_GOV_DELAYED = 5, /* approved; applies at effective_time unless cancelled */
    CN_GOV_FAILED = 6,  /* a delayed action no longer applied when its time came */
};

typedef struct {
    uint64_t id;
    int status;
    uint8_t proposer[32];
    uint64_t expiry, created_time, created_height, effective_time, closed_height;
    size_t n_approvals;
    uint8_t approvals[CN_GOV_MAX_GOVERNORS][32];
    uint8_t *action; /* encoded Tx holding only governance_propose (malloc'd) */
    size_t action_len;
} cn_proposal;

int cn_gov_kind(int kind_case);
cn_txerr cn_gov_validate(const Clearnode__V1__Tx *tx, char *msg, size_t cap);
void cn_gov_exec(cn_overlay *ov, const cn_genesis *g, uint64_t height, uint64_t now,
                 const uint8_t signer[32], const Clearnode__V1__Tx *tx, cn_exec_result *r);
/* End of block: lapses expired proposals, applies due delayed ones and the validator power
 * changes due at height + 1. Events go to the audit log and ev (may be NULL). 0 on a storage
 * failure. */
int cn_gov_end_block(cn_overlay *ov, uint64_t height, uint64_t now, cn_evlist *ev);
/* Writes the governor set from genesis members with the governor role. */
int cn_gov_write_genesis(cn_overlay *ov, const cn_genesis *g);

/* Proposal records (gov_state.c). get: 1, 0 absent, -1 error; free p->action after. */
int cn_gov_get(cn_overlay *ov, uint64_t id, cn_proposal *p);
int cn_gov_put(cn_overlay *ov, const cn_proposal *p);
int cn_gov_governors(cn_overlay *ov, uint8_t out[CN_GOV_MAX_GOVERNORS][32]);
/* Adds or removes `key` in a key-set record (cap `max`); 1, or 0 on failure or when full. */
int cn_keyset_update(cn_overlay *ov, const cn_key *k, size_t max, const uint8_t key[32], int add,
                     int *changed);

/* Parameter registry (gov_params.c): checks a param_change. CN_TX_OK or CN_TX_BAD_PARAM with
 * the reason in msg. */
cn_txerr cn_gov_param_check(cn_overlay *ov, const char *name, int64_t value, char *msg,
                            size_t cap);
/* Prints the registry (name, range, owner) for docs and clearctl. */
size_t cn_gov_param_count(void);
const char *cn_gov_param_name(size_t i);

#endif
