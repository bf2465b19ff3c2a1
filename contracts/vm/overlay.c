/* The per-call overlay (overlay.h): a sorted array of writes plus ordered transfer and event
 * logs. A sorted array keeps lookup logarithmic, iteration ordered and the code short; it is
 * bounded by CN_VM_MAX_WRITES, so insertion's memmove stays cheap.
 */
#include "contracts/vm/overlay.h"

#include <stdlib.h>
#include <string.h>

void cn_vm_overlay_init(cn_vm_overlay *ov) { memset(ov, 0, sizeof *ov); }

void cn_vm_overlay_clear(cn_vm_overlay *ov) {
    for (uint32_t i = 0; i < ov->nwrites; i++)
        free(ov->writes[i].key);
    for (uint32_t i = 0; i < ov->nevents; i++)
        free(ov->events[i].topic);
    ov->nwrites = ov->ntransfers = ov->nevents = 0;
}

void cn_vm_overlay_free(cn_vm_overlay *ov) {
    cn_vm_overlay_clear(ov);
    free(ov->writes);
    free(ov->transfers);
    free(ov->events);
    memset(ov, 0, sizeof *ov);
}

int cn_vm_key_cmp(const uint8_t *a, uint32_t alen, const uint8_t *b, uint32_t blen) {
    uint32_t n = alen < blen ? alen : blen;
    int r = n ? memcmp(a, b, n) : 0;
    if (r)
        return r;
    return alen < blen ? -1 : alen > blen;
}

/* Binary search over the sorted writes. */
int32_t cn_vm_overlay_find(const cn_vm_overlay *ov, const uint8_t *key, uint32_t klen,
                           uint32_t *pos) {
    uint32_t lo = 0, hi = ov->nwrites;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int r = cn_vm_key_cmp(ov->writes[mid].key, ov->writes[mid].klen, key, klen);
        if (r == 0) {
            if (pos)
                *pos = mid;
            return (int32_t)mid;
        }
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (pos)
        *pos = lo;
    return -1;
}

/* Grows an array of `size`-byte elements to hold at least need, doubling. */
static int grow(void **arr, uint32_t *cap, uint32_t need, size_t size) {
    if (need <= *cap)
        return 1;
    uint32_t ncap = *cap ? *cap * 2 : 16;
    while (ncap < need)
        ncap *= 2;
    void *p = realloc(*arr, (size_t)ncap * size);
    if (!p)
        return 0;
    *arr = p;
    *cap = ncap;
    return 1;
}

/* Records a write or delete, replacing an earlier one of the same key. */
cn_vm_err cn_vm_overlay_put(cn_vm_overlay *ov, const uint8_t *key, uint32_t klen,
                            const uint8_t *val, uint32_t vlen, int deleted) {
    uint32_t pos;
    int32_t idx = cn_vm_overlay_find(ov, key, klen, &pos);
    if (idx < 0 && ov->nwrites >= CN_VM_MAX_WRITES)
        return CN_VM_E_LIMIT_EFFECTS;
    uint8_t *buf = malloc((size_t)klen + vlen + 1);
    if (!buf)
        return CN_VM_E_NOMEM;
    memcpy(buf, key, klen);
    if (vlen)
        memcpy(buf + klen, val, vlen);
    cn_vm_write *w;
    if (idx >= 0) {
        w = &ov->writes[idx];
        free(w->key);
    } else {
        if (!grow((void **)&ov->writes, &ov->cap_writes, ov->nwrites + 1, sizeof *ov->writes)) {
            free(buf);
            return CN_VM_E_NOMEM;
        }
        memmove(&ov->writes[pos + 1], &ov->writes[pos],
                (ov->nwrites - pos) * sizeof *ov->writes);
        ov->nwrites++;
        w = &ov->writes[pos];
    }
    w->key = buf;
    w->val = deleted ? NULL : buf + klen;
    w->klen = klen;
    w->vlen = deleted ? 0 : vlen;
    w->deleted = deleted != 0;
    return CN_VM_OK;
}

cn_vm_err cn_vm_overlay_transfer(cn_vm_overlay *ov, const cn_vm_transfer *t) {
    if (ov->ntransfers >= CN_VM_MAX_TRANSFERS)
        return CN_VM_E_LIMIT_EFFECTS;
    if (!grow((void **)&ov->transfers, &ov->cap_transfers, ov->ntransfers + 1,
              sizeof *ov->transfers))
        return CN_VM_E_NOMEM;
    ov->transfers[ov->ntransfers++] = *t;
    return CN_VM_OK;
}

cn_vm_err cn_vm_overlay_emit(cn_vm_overlay *ov, const uint8_t *topic, uint32_t tlen,
                             const uint8_t *data, uint32_t dlen) {
    if (ov->nevents >= CN_VM_MAX_EVENTS)
        return CN_VM_E_LIMIT_EFFECTS;
    if (!grow((void **)&ov->events, &ov->cap_events, ov->nevents + 1, sizeof *ov->events))
        return CN_VM_E_NOMEM;
    uint8_t *buf = malloc((size_t)tlen + dlen + 1);
    if (!buf)
        return CN_VM_E_NOMEM;
    memcpy(buf, topic, tlen);
    if (dlen)
        memcpy(buf + tlen, data, dlen);
    cn_vm_event *e = &ov->events[ov->nevents++];
    e->topic = buf;
    e->data = buf + tlen;
    e->tlen = tlen;
    e->dlen = dlen;
    return CN_VM_OK;
}

/* Sums the recorded transfers into and out of `account` in `asset`, checking overflow. */
cn_vm_err cn_vm_overlay_pending(const cn_vm_overlay *ov, const uint8_t account[CN_VM_ID_LEN],
                                int64_t asset, int64_t *out) {
    int64_t sum = 0;
    for (uint32_t i = 0; i < ov->ntransfers; i++) {
        const cn_vm_transfer *t = &ov->transfers[i];
        if (t->asset != asset)
            continue;
        if (memcmp(t->from, account, CN_VM_ID_LEN) == 0 &&
            __builtin_sub_overflow(sum, t->amount, &sum))
            return CN_VM_E_OVERFLOW;
        if (memcmp(t->to, account, CN_VM_ID_LEN) == 0 &&
            __builtin_add_overflow(sum, t->amount, &sum))
            return CN_VM_E_OVERFLOW;
    }
    *out = sum;
    return CN_VM_OK;
}
