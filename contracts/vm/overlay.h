/* The per-call overlay: every effect of one contract call, held until the call succeeds.
 *
 * Storage writes and deletes go into a map kept sorted by key (bytewise, a prefix before its
 * extensions), so reads during the call see the call's own writes, range scans merge it with
 * the committed store in order, and the node can apply it as one ordered batch. Transfers and
 * events are kept in the order they happened. On any failure the VM clears the overlay; on
 * success the node walks `writes`, `transfers` and `events` and applies them to its store,
 * ledger and receipt inside its own block transaction.
 *
 * The fields are public for reading; change them only through these functions.
 */
#ifndef CLEARNODE_CONTRACTS_VM_OVERLAY_H
#define CLEARNODE_CONTRACTS_VM_OVERLAY_H

#include <stddef.h>
#include <stdint.h>

#include "contracts/vm/host.h"
#include "contracts/vm/vm.h"

typedef struct {
    uint8_t *key;  /* klen bytes; the value follows in the same allocation */
    uint8_t *val;  /* vlen bytes; NULL when deleted */
    uint32_t klen;
    uint32_t vlen;
    int deleted;   /* 1: a delete of the committed key */
} cn_vm_write;

typedef struct {
    uint8_t from[CN_VM_ID_LEN];
    uint8_t to[CN_VM_ID_LEN];
    int64_t asset;
    int64_t amount;
} cn_vm_transfer;

typedef struct {
    uint8_t *topic; /* tlen bytes; data follows in the same allocation */
    uint8_t *data;
    uint32_t tlen;
    uint32_t dlen;
} cn_vm_event;

typedef struct cn_vm_overlay {
    cn_vm_write *writes; /* sorted by key */
    uint32_t nwrites, cap_writes;
    cn_vm_transfer *transfers;
    uint32_t ntransfers, cap_transfers;
    cn_vm_event *events;
    uint32_t nevents, cap_events;
} cn_vm_overlay;

/* An empty overlay (no allocation until the first effect). */
void cn_vm_overlay_init(cn_vm_overlay *ov);
/* Drops every effect (keeps nothing); the overlay stays usable. */
void cn_vm_overlay_clear(cn_vm_overlay *ov);
/* Frees everything; the overlay must be initialized again before reuse. */
void cn_vm_overlay_free(cn_vm_overlay *ov);

/* Returns the index of `key` in writes, or -1; *pos gets the insertion point. */
int32_t cn_vm_overlay_find(const cn_vm_overlay *ov, const uint8_t *key, uint32_t klen,
                           uint32_t *pos);
/* Records key := val (val NULL and vlen 0 with deleted = 1 records a delete).
 * Returns CN_VM_OK, CN_VM_E_LIMIT_EFFECTS or CN_VM_E_NOMEM. */
cn_vm_err cn_vm_overlay_put(cn_vm_overlay *ov, const uint8_t *key, uint32_t klen,
                            const uint8_t *val, uint32_t vlen, int deleted);
cn_vm_err cn_vm_overlay_transfer(cn_vm_overlay *ov, const cn_vm_transfer *t);
cn_vm_err cn_vm_overlay_emit(cn_vm_overlay *ov, const uint8_t *topic, uint32_t tlen,
                             const uint8_t *data, uint32_t dlen);
/* Net change of `account`'s balance of `asset` by the recorded transfers.
 * Returns CN_VM_OK or CN_VM_E_OVERFLOW. */
cn_vm_err cn_vm_overlay_pending(const cn_vm_overlay *ov, const uint8_t account[CN_VM_ID_LEN],
                                int64_t asset, int64_t *out);

/* Compares two keys bytewise, a prefix first: <0, 0 or >0. */
int cn_vm_key_cmp(const uint8_t *a, uint32_t alen, const uint8_t *b, uint32_t blen);

#endif
