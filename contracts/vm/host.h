/* The host interface: what a contract can reach outside its registers and memory.
 *
 * A contract reaches the outside world only through HOST instructions (docs/vm.md §5). The
 * VM checks every pointer and length, charges gas before any effect, and routes storage
 * writes, transfers and events into the call's overlay (overlay.h); the host below is only
 * asked to *read* committed state and to *judge* a transfer. It never changes state during
 * a call, so a failed call needs no undo: the node applies the overlay after success.
 *
 * The node supplies a real cn_vm_host; tests and clearasm use an in-memory one
 * (contracts/asm/memhost.h). Every callback returns a negative value on an internal failure
 * (I/O, corruption), which stops the call with CN_VM_E_HOST_FAULT.
 */
#ifndef CLEARNODE_CONTRACTS_VM_HOST_H
#define CLEARNODE_CONTRACTS_VM_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "contracts/vm/vm.h"

#define CN_VM_MAX_KEY 128u         /* bytes of a storage key (at least 1) */
#define CN_VM_MAX_VALUE 4096u      /* bytes of a storage value */
#define CN_VM_MAX_WRITES 1024u     /* distinct keys written or deleted per call */
#define CN_VM_MAX_TRANSFERS 256u   /* transfers per call */
#define CN_VM_MAX_EVENTS 256u      /* events per call */
#define CN_VM_MAX_TOPIC 64u        /* bytes of an event topic (at least 1) */
#define CN_VM_MAX_EVENT_DATA 1024u /* bytes of event data */

/* Host-call ids (the imm of HOST) and their arguments; docs/vm.md §5 has the full ABI. */
typedef enum {
    CN_VM_HOST_INPUT = 0,         /* (ptr, cap) -> input length; copies min(len, cap) bytes */
    CN_VM_HOST_STORAGE_GET = 1,   /* (kptr, klen, vptr, vcap) -> value length or -1 */
    CN_VM_HOST_STORAGE_PUT = 2,   /* (kptr, klen, vptr, vlen) -> 0 */
    CN_VM_HOST_STORAGE_DEL = 3,   /* (kptr, klen) -> 1 if the key existed, else 0 */
    CN_VM_HOST_STORAGE_NEXT = 4,  /* (fptr, flen, tptr, tlen, optr, ocap) -> key length or -1 */
    CN_VM_HOST_PRICE = 5,         /* (asset) -> price in micro-USD, or -1 if none */
    CN_VM_HOST_HALTED = 6,        /* (asset) -> 1 if trading in asset is halted, else 0 */
    CN_VM_HOST_TRANSFER = 7,      /* (fromptr, toptr, asset, amount) -> 0, or -1 if short */
    CN_VM_HOST_CALLER = 8,        /* (ptr) -> 32; writes the caller id */
    CN_VM_HOST_SELF = 9,          /* (ptr) -> 32; writes the contract id */
    CN_VM_HOST_HEIGHT = 10,       /* () -> block height */
    CN_VM_HOST_TIME = 11,         /* () -> block time, unix milliseconds */
    CN_VM_HOST_EMIT = 12,         /* (tptr, tlen, dptr, dlen) -> 0; records an event */
    CN_VM_HOST_COUNT = 13
} cn_vm_host_id;

#define CN_VM_HOST_ALLOW_ALL ((uint32_t)((1u << CN_VM_HOST_COUNT) - 1u))

/* Static description of one host call: name (assembler), arity (verifier) and its dynamic
 * gas, charged before the effect: gas_base + gas_byte * (bytes named by its length args). */
typedef struct {
    const char *name;
    uint8_t arity;
    uint16_t gas_base;
    uint8_t gas_byte;
} cn_vm_host_info;

extern const cn_vm_host_info cn_vm_host_calls[CN_VM_HOST_COUNT];

/* Returns the host-call id for a name, or -1. */
int cn_vm_host_lookup(const char *name, uint32_t len);

/* Answers of cn_vm_host.transfer. */
#define CN_VM_TRANSFER_OK 0
#define CN_VM_TRANSFER_SHORT 1  /* balance too low: the contract sees -1 and decides */
#define CN_VM_TRANSFER_DENIED 2 /* not permitted: the call stops with CN_VM_E_HOST_DENIED */

/* The table a host fills in. `contract` is the id of the running contract: storage is
 * namespaced by it, so a contract can only see its own keys. */
typedef struct cn_vm_host {
    void *ctx;
    /* Committed value of `key`: copies min(length, cap) bytes to `val` (NULL when cap is 0:
     * an existence check) and sets *len. Returns 1 if found, 0 if absent, <0 on failure. */
    int (*get)(void *ctx, const uint8_t contract[CN_VM_ID_LEN], const uint8_t *key, size_t klen,
               uint8_t *val, size_t cap, size_t *len);
    /* Smallest committed key k with from <= k, and k < to unless tlen is 0 (no bound).
     * Writes it to key (room for CN_VM_MAX_KEY bytes) and sets *klen.
     * Returns 1 if found, 0 if none, <0 on failure. */
    int (*next)(void *ctx, const uint8_t contract[CN_VM_ID_LEN], const uint8_t *from, size_t flen,
                const uint8_t *to, size_t tlen, uint8_t key[CN_VM_MAX_KEY], size_t *klen);
    /* Current oracle price of `asset`. Returns 1 and sets *price, 0 if none, <0 on failure. */
    int (*price)(void *ctx, int64_t asset, int64_t *price);
    /* Returns 1 if trading in `asset` is halted (asset -1: the whole market), 0 if not,
     * <0 on failure. */
    int (*halted)(void *ctx, int64_t asset);
    /* Judges a transfer of amount (> 0) units of asset. `pending` is the net change of
     * from's balance in this asset by the call's earlier transfers, which the host has not
     * seen. Returns CN_VM_TRANSFER_OK, _SHORT or _DENIED, or <0 on failure. */
    int (*transfer)(void *ctx, const uint8_t contract[CN_VM_ID_LEN],
                    const uint8_t from[CN_VM_ID_LEN], const uint8_t to[CN_VM_ID_LEN],
                    int64_t asset, int64_t amount, int64_t pending);
} cn_vm_host;

#endif
