/* Contracts on chain: deploy and call through the VM (docs/contracts.md, "Contracts on chain").
 *
 * A contract is stored under its name ('c' name -> container bytes, docs/state.md) and has a
 * 32-byte id, H_tag("clearnode/contract", name), that names its storage namespace ('k' id key)
 * and its own ledger account (balances 'b' id symbol). Bytecode is verified by the VM
 * (cn_vm_load) at genesis, at admission of a deploy and again at execution, so nothing
 * unverified is ever stored.
 *
 * A call runs one exported entry with the fast interpreter against a host (chost.c) that reads
 * the block overlay; the VM collects writes, transfers and events in its own per-call overlay,
 * and only after the call succeeds are they applied to the block overlay (apply.c). A trap or
 * out-of-gas applies nothing: the receipt says contract_error with the VM error name and the
 * gas used, and only the nonce increment remains.
 *
 * Host authority (conservative): a contract may move funds it holds (its own id), or the
 * caller's funds up to the net amount of one asset the caller authorized in the signed call
 * (allow_asset, allow_amount); recipients must be registered accounts or the contract itself.
 * Asset ids seen by contracts are indexes into the genesis asset list (file order).
 */
#ifndef CLEARNODE_NODE_CONTRACT_CONTRACT_H
#define CLEARNODE_NODE_CONTRACT_CONTRACT_H

#include <stddef.h>
#include <stdint.h>

#include "contracts/vm/host.h"
#include "contracts/vm/vm.h"
#include "node/app/ledger.h"
#include "node/app/overlay.h"
#include "node/genesis/genesis.h"
#include "proto/codec.h"

#define CN_CONTRACT_DEPLOY_MAX ((size_t)96 * 1024) /* bytecode bytes in a deploy tx */
#define CN_CONTRACT_GAS_DEFAULT 1000000u           /* gas_limit 0 means this */
#define CN_CONTRACT_GAS_MAX 10000000u              /* largest gas_limit accepted */
#define CN_CONTRACT_MAX_ARGS 8u
#define CN_CONTRACT_HOST_ALLOW CN_VM_HOST_ALLOW_ALL /* host calls a contract may use */
#define CN_CONTRACT_EVENT_BUDGET 24576u /* bytes of contract event strings in one receipt */
#define CN_SK_CSTORE 'k'                /* contract storage: 'k' id(32) key */

/* 1 if name is 1..32 characters of [a-z0-9_]. */
int cn_contract_name_valid(const char *name);
/* The contract id: H_tag("clearnode/contract", name). */
void cn_contract_id(const char *name, uint8_t out[32]);

/* Runs bytecode through the VM loader and verifier. Returns 1, or 0 with
 * "verifier: <reason> (function F, instruction P)" in why. */
int cn_contract_verify(const uint8_t *code, size_t len, char *why, size_t cap);

/* Stateless checks of contract_deploy and contract_call fields (the bytecode is verified
 * here, so a bad deploy is refused at admission). */
cn_txerr cn_contract_validate(const Clearnode__V1__Tx *tx, char *msg, size_t cap);

/* Executes a validated contract_deploy or contract_call whose nonce was consumed. On failure
 * the caller rolls back the overlay to its mark; r->code says why. Extra events are malloc'd
 * into r->xevents: call cn_exec_result_release after encoding the receipt. */
void cn_contract_exec(cn_overlay *ov, const cn_genesis *g, uint64_t height, int64_t time_ms,
                      const uint8_t signer[32], const Clearnode__V1__Tx *tx, cn_exec_result *r);

/* Frees r's extra events (safe on a result without any). */
void cn_exec_result_release(cn_exec_result *r);

/* Encodes a receipt whose fixed events are already set in rc, appending r's extra events.
 * Returns 1, or 0 on no memory or a receipt over CN_CAP_RECEIPT. */
int cn_contract_receipt_encode(Clearnode__V1__Receipt *rc, const cn_exec_result *r,
                               uint8_t **out, size_t *len);

#endif
