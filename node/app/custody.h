/* The custody module: multisig withdrawals (DESIGN.md §8, docs/custody.md).
 *
 * Life of a withdrawal:
 *   withdraw_request  (client)   checks: withdrawals not frozen, asset not halted, margin hook,
 *                                destination active on the client's allow-list, per-client and
 *                                global velocity limits (micro-USD per rolling period); then
 *                                the amount moves from the balance to the locked balance.
 *   withdraw_approve  (approver) approval_sig over the request digest (custody_digest.c);
 *                                one approval per key and policy version.
 *   end of block                 a pending request whose tier's approvals are met (counting only
 *                                keys in the current approver set, signed at the current policy
 *                                version) and whose cooldown has elapsed executes: the locked
 *                                amount burns (supply decreases) and a release event is logged.
 *                                Requests past their expiry unlock.
 *   withdraw_cancel   (client)   unlocks a pending request.
 *   allowlist_change  (client)   adds/removes a destination, effective after a delay.
 * Invariant: for each asset, supply = sum of balances + sum of locked balances.
 *
 * State (module bytes 'w' and 'l'; docs/state.md):
 *   'l' client(32) symbol          locked balance, be64 (absent = 0)
 *   'w' 'n'                        last request id, be64
 *   'w' 'R' id(8)                  request record
 *   'w' 'P'                        pending request ids (be64 list)
 *   'w' 'C' client(32)             the client's most recent request ids (be64 list)
 *   'w' 'L' client(32) dest        allow-list entry
 *   'w' 'G' client(32)             client velocity window: (be64 time, be64 usd) list
 *   'w' 'H'                        global velocity window
 *   'w' 'S'                        approver set (32-byte keys)
 *   'w' 'v'                        approval policy version, be64 (starts at 1)
 *   'w' 'F'                        withdrawals frozen flag, be64 (absent = 0)
 *   'w' 'E' height(8) id(8) kind   end-of-block audit event (encoded Event)
 *   'w' 'i'                        the chain id (bound into approval digests)
 */
#ifndef CLEARNODE_NODE_APP_CUSTODY_H
#define CLEARNODE_NODE_APP_CUSTODY_H

#include <stddef.h>
#include <stdint.h>

#include "node/app/ledger.h"
#include "node/app/oracle.h"
#include "node/app/overlay.h"

#define CN_SK_LOCKED 'l'
#define CN_SK_CUSTODY 'w'

#define CN_DEST_MAX 128
#define CN_CUSTODY_MAX_APPROVERS 64
#define CN_CUSTODY_MAX_APPROVALS 64   /* approvals stored per request (all versions) */
#define CN_CUSTODY_MAX_PENDING 1024   /* pending requests chain-wide */
#define CN_CUSTODY_CLIENT_LIST 256    /* request ids kept per client for queries */
#define CN_CUSTODY_VEL_CLIENT 64      /* withdrawals per client inside one velocity period */
#define CN_CUSTODY_VEL_GLOBAL 4096    /* withdrawals chain-wide inside one velocity period */

/* Defaults of the custody parameters that are not in genesis (governance may change them). */
#define CN_CUSTODY_DEF_ALLOWLIST_DELAY_MS INT64_C(86400000)
#define CN_CUSTODY_DEF_VELOCITY_PERIOD_MS INT64_C(86400000)
#define CN_CUSTODY_DEF_VELOCITY_CLIENT_USD INT64_C(1000000000000)  /* 1,000,000 USD */
#define CN_CUSTODY_DEF_VELOCITY_GLOBAL_USD INT64_C(10000000000000) /* 10,000,000 USD */

enum {
    CN_WD_PENDING = 1,
    CN_WD_EXECUTED = 2,
    CN_WD_CANCELLED = 3,
    CN_WD_EXPIRED = 4,
};

typedef struct {
    uint8_t key[32];
    uint64_t policy_version;
    uint64_t time; /* block time of the approving tx */
} cn_wd_approval;

typedef struct {
    uint64_t id;
    int status;
    uint8_t client[32];
    char asset[CN_SYMBOL_MAX + 1];
    int64_t amount;
    int64_t usd; /* micro-USD value at request time (reference price, rounded up) */
    char dest[CN_DEST_MAX + 1];
    uint64_t expiry;
    uint64_t created_time, created_height;
    uint64_t closed_height; /* executed/cancelled/expired at; 0 while pending */
    size_t n_approvals;
    cn_wd_approval approvals[CN_CUSTODY_MAX_APPROVALS];
} cn_withdrawal;

/* ---- state helpers (custody_state.c) ---- */
int cn_custody_get(cn_overlay *ov, uint64_t id, cn_withdrawal *w); /* 1, 0 absent, -1 error */
int cn_custody_put(cn_overlay *ov, const cn_withdrawal *w);
int cn_custody_get_locked(cn_overlay *ov, const uint8_t client[32], const char *sym,
                          int64_t *v);
int cn_custody_set_locked(cn_overlay *ov, const uint8_t client[32], const char *sym, int64_t v);
/* A named parameter ('p' name) or `def` when absent. Returns 1, or -1 on a storage error. */
int cn_param_get(cn_overlay *ov, const char *name, int64_t def, int64_t *v);
int cn_param_put(cn_overlay *ov, const char *name, int64_t v);
/* be64 id lists and key lists stored as one value. Returns the count, or -1. */
int cn_list_get(cn_overlay *ov, const cn_key *k, uint8_t *out, size_t item, size_t max);
int cn_list_put(cn_overlay *ov, const cn_key *k, const uint8_t *items, size_t item, size_t n);
void cn_sk_custody(cn_key *k, uint8_t sub);
/* Current approver set (n keys into out) and policy version. Return -1 on storage error. */
int cn_custody_approvers(cn_overlay *ov, uint8_t out[CN_CUSTODY_MAX_APPROVERS][32]);
int cn_custody_policy_version(cn_overlay *ov, uint64_t *v);
int cn_custody_frozen(cn_overlay *ov, int *frozen);
/* Whether `dest` is active on the client's allow-list at block time `now`. 1/0, -1 error. */
int cn_custody_allowlisted(cn_overlay *ov, const uint8_t client[32], const char *dest,
                           uint64_t now);
/* Records an allow-list change effective at `eff`. 1, or 0 on failure. */
int cn_custody_allow_change(cn_overlay *ov, const uint8_t client[32], const char *dest,
                            int remove, uint64_t now, uint64_t eff);
/* Tier for a micro-USD value: approvals M and cooldown. Returns 1, 0 no tiers, -1 error. */
int cn_custody_tier(cn_overlay *ov, int64_t usd, uint32_t *approvals, int64_t *cooldown_ms);
/* Writes the custody genesis records (approver set from members with the approver role,
 * policy version 1). */
int cn_custody_write_genesis(cn_overlay *ov, const cn_genesis *g);
/* The chain id kept in state; 1, or 0/-1. */
int cn_custody_chain_id(cn_overlay *ov, char out[CN_CHAIN_ID_MAX + 1]);

/* ---- the digest approvers sign (custody_digest.c; layout in docs/custody.md) ---- */
void cn_withdraw_digest(uint8_t out[32], const char *chain_id, uint64_t request_id,
                        uint64_t policy_version, const char *asset, uint64_t amount,
                        const char *dest, uint64_t expiry);

/* ---- hooks other modules replace (custody_hooks.c) ---- */
/* The margin module's part of a withdrawal request (margin_withdraw.c): whether the client
 * may withdraw `amount` of `asset`. When the margin contract is deployed and the available
 * balance of the cash asset is short, the difference is drawn from the client's margin
 * account through the contract's `withdraw`, which applies `withdraw_ok`: no position in a
 * halted asset, and equity minus the amount still covers the initial requirement. Returns 1
 * (the available balance now covers amount), 0 refused (msg says why), -1 storage failure.
 * Writes only through the block overlay, so a request that fails later rolls it back. */
int cn_margin_withdraw_ok(cn_overlay *ov, const cn_genesis *g, uint64_t height, uint64_t now,
                          const uint8_t client[32], const char *asset, int64_t amount,
                          char *msg, size_t cap);
/* Whether the asset or the whole market is halted at block time now (the oracle module's
 * circuit breakers: an asset band halt or any market-wide level). 1/0, -1 error. */
int cn_custody_asset_halted(cn_overlay *ov, const char *asset, uint64_t now);
/* micro-USD value of `amount` smallest units of `asset`: price x amount / 10^decimals, rounded
 * up, with the oracle's published price, or the genesis reference price before the first
 * one. Returns 1, 0 unknown asset, -1 error or overflow. */
int cn_custody_usd_value(cn_overlay *ov, const char *asset, int64_t amount, int64_t *usd);

/* ---- transactions (custody.c) ---- */
int cn_custody_kind(int kind_case);
cn_txerr cn_custody_validate(const Clearnode__V1__Tx *tx, char *msg, size_t cap);
void cn_custody_exec(cn_overlay *ov, const cn_genesis *g, uint64_t height, uint64_t now,
                     const uint8_t signer[32], const Clearnode__V1__Tx *tx, cn_exec_result *r);
/* Removes `id` from the pending list; 1, or 0 on failure. */
int cn_custody_unpend(cn_overlay *ov, uint64_t id);
/* Moves a pending request's amount from locked back to the balance and closes it with
 * `status`. 1, or 0 on failure. */
int cn_custody_unlock(cn_overlay *ov, cn_withdrawal *w, int status, uint64_t height);
/* Number of approvals of `w` that count now: distinct keys in the current approver set, made
 * at the current policy version; *last gets the latest such approval's time. -1 on error. */
int cn_custody_count(cn_overlay *ov, const cn_withdrawal *w, uint64_t *last);
/* End of block: executes ready requests, expires lapsed ones; events go to the audit log and,
 * when ev is not NULL, to the block's end-of-block events. 0 on a storage failure. */
int cn_custody_end_block(cn_overlay *ov, uint64_t height, uint64_t now, cn_evlist *ev);

/* Copies an event into an end-of-block event list (NULL: none). 0 on no memory. */
int cn_evlist_copy(cn_evlist *l, const cn_event *e);
/* Appends an end-of-block audit event ('w'/'g' module byte, height, id, kind). 0 on failure. */
int cn_audit_put(cn_overlay *ov, uint8_t module, uint64_t height, uint64_t id, uint8_t kind,
                 const cn_event *e);

#endif
