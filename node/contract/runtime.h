/* A deployed contract loaded once for many calls made by the node itself: the margin module's
 * transactions, its end-of-block pass and its read-only views, and contract_call (call.c).
 *
 * Loading verifies the bytecode (cn_vm_load), which costs far more than a typical call, so a
 * caller that runs many calls in one block opens the runtime once. Every call runs against
 * the block overlay through a fresh host (chost.c); its effects stay in the VM's per-call
 * overlay until cn_crt_apply writes them, so a read-only view is a run that is never applied.
 */
#ifndef CLEARNODE_NODE_CONTRACT_RUNTIME_H
#define CLEARNODE_NODE_CONTRACT_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "contracts/vm/overlay.h"
#include "contracts/vm/vm.h"
#include "node/app/overlay.h"
#include "node/app/txerr.h"
#include "node/contract/chost.h"
#include "node/genesis/genesis.h"

#define CN_CRT_VIEW_GAS 10000000u /* gas of the node's own calls (CN_CONTRACT_GAS_MAX) */

typedef struct {
    cn_overlay *ov;
    const cn_genesis *g;
    char name[CN_CONTRACT_NAME_MAX + 1];
    uint8_t id[32];
    uint64_t height;
    int64_t time_ms;
    cn_vm_program *prog;
    cn_vm_machine *m;
    cn_vm_err load_err; /* why the stored code did not load (cn_crt_open returned -2) */
    /* The sorted keys of the contract's namespace in the block overlay, built at the first
     * call and extended by cn_crt_apply, so that many calls in one block do not each sort
     * the block's writes again (chost.h); keys are owned copies. */
    struct cn_chost_key *idx;
    size_t nidx, cap;
    int built;
} cn_crt;

/* Loads contract `name` from the overlay. Returns 1, 0 when it is not deployed, -1 on a
 * storage failure or no memory, -2 when the stored code does not load (rt->load_err). */
int cn_crt_open(cn_crt *rt, cn_overlay *ov, const cn_genesis *g, const char *name,
                uint64_t height, int64_t time_ms);
void cn_crt_close(cn_crt *rt);

/* The outcome of one run; vo holds its effects until cn_crt_out_free. */
typedef struct {
    cn_vm_result res;
    cn_vm_overlay vo;
} cn_crt_out;

/* Runs exported `entry` with `caller` and the caller's allowance (allow_asset -1: none).
 * Returns 1 when it ran (out->res.status says how it ended), 0 when the entry is not
 * exported or takes another number of arguments, -1 on a storage failure or no memory.
 * out->vo must be freed with cn_crt_out_free whatever the result. */
int cn_crt_run(cn_crt *rt, const uint8_t caller[32], const char *entry, const int64_t *args,
               uint32_t nargs, uint64_t gas, int64_t allow_asset, int64_t allow_amount,
               cn_crt_out *out);
void cn_crt_out_free(cn_crt_out *out);

/* Applies a successful run's storage writes (in key order) and transfers to the block overlay.
 * Returns CN_TX_OK, or a code with msg set (the caller rolls the overlay back to its mark). */
cn_txerr cn_crt_apply(cn_crt *rt, const cn_vm_overlay *vo, char *msg, size_t cap);

/* Fills a host context for the contract as `caller` that scans through the runtime's key
 * index (built here on first use). Returns 1, or 0 on no memory. Free with cn_chost_free. */
int cn_crt_host(cn_crt *rt, cn_chost *hc, const uint8_t caller[32]);

/* A read-only call with a zero caller: 1 returned *v, 0 reverted with code *v or trapped
 * (*v = -status) or no such entry, -1 storage failure or no memory. */
int cn_crt_view(cn_crt *rt, const char *entry, const int64_t *args, uint32_t nargs, int64_t *v);
/* The same with a given caller (entries that act for the caller, e.g. withdraw_ok). */
int cn_crt_view_as(cn_crt *rt, const uint8_t caller[32], const char *entry,
                   const int64_t *args, uint32_t nargs, int64_t *v);

#endif
