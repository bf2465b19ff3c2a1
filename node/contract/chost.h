/* The node's VM host (cn_vm_host) over the block overlay, for one contract call.
 *
 * It only reads: storage from the contract's namespace ('k' id key), prices and halts from
 * the oracle view, balances for judging transfers. Every effect stays in the VM's per-call
 * overlay until apply.c writes it after the call succeeds.
 */
#ifndef CLEARNODE_NODE_CONTRACT_CHOST_H
#define CLEARNODE_NODE_CONTRACT_CHOST_H

#include <stdint.h>

#include "contracts/vm/host.h"
#include "node/app/overlay.h"
#include "node/genesis/genesis.h"

#define CN_CSTORE_PREFIX_LEN 33u /* 'k' || contract id */

/* One block-overlay key in a contract's namespace (full state key). */
struct cn_chost_key {
    const uint8_t *k;
    size_t kl;
};

typedef struct {
    cn_overlay *ov;
    const cn_genesis *g;
    uint8_t caller[32];
    uint8_t self[32];
    int64_t allow_asset;  /* genesis asset index the caller authorized, -1 if none */
    int64_t allow_amount; /* net amount of it the contract may take from the caller */
    /* Lazily built, sorted index of the block overlay's keys in the contract's namespace
     * (the block overlay does not change during a call). */
    struct cn_chost_key *idx;
    size_t nidx;
    int indexed; /* 0 not built, 1 built, -1 out of memory */
    int borrowed; /* 1: idx belongs to the caller (runtime.h keeps it across calls) */
} cn_chost;

/* Fills the host table for ctx (whose fields are set by the caller, idx zeroed). */
void cn_chost_table(cn_chost *ctx, cn_vm_host *h);
/* Frees the index; the host stays usable (it rebuilds the index when needed). */
void cn_chost_free(cn_chost *ctx);

/* Builds the state key of a contract storage key: 'k' id key (klen <= CN_VM_MAX_KEY).
 * Returns its length. */
size_t cn_cstore_key(uint8_t out[CN_CSTORE_PREFIX_LEN + CN_VM_MAX_KEY], const uint8_t id[32],
                     const uint8_t *key, size_t klen);

#endif
