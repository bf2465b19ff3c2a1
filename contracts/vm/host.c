/* Host calls: the one implementation both interpreters use for HOST instructions.
 *
 * Every host call follows the same order, so its failures are the same on every build:
 *   1. check lengths and values (CN_VM_E_HOST_ARG),
 *   2. check that every memory range lies inside the call's memory (CN_VM_E_MEM_BOUNDS),
 *   3. charge gas_base + gas_byte * bytes (CN_VM_E_OUT_OF_GAS) — before any effect,
 *   4. read the host or record the effect in the overlay.
 * Storage reads consult the overlay first, so a call sees its own writes; range scans merge
 * the overlay with the committed keys, skipping keys the call deleted.
 */
#include <string.h>

#include "contracts/vm/internal.h"

const cn_vm_host_info cn_vm_host_calls[CN_VM_HOST_COUNT] = {
    [CN_VM_HOST_INPUT] = {"input", 2, 10, 1},
    [CN_VM_HOST_STORAGE_GET] = {"storage_get", 4, 100, 1},
    [CN_VM_HOST_STORAGE_PUT] = {"storage_put", 4, 200, 2},
    [CN_VM_HOST_STORAGE_DEL] = {"storage_del", 2, 150, 1},
    [CN_VM_HOST_STORAGE_NEXT] = {"storage_next", 6, 150, 1},
    [CN_VM_HOST_PRICE] = {"price", 1, 50, 0},
    [CN_VM_HOST_HALTED] = {"halted", 1, 50, 0},
    [CN_VM_HOST_TRANSFER] = {"transfer", 4, 300, 0},
    [CN_VM_HOST_CALLER] = {"caller", 1, 5, 0},
    [CN_VM_HOST_SELF] = {"self", 1, 5, 0},
    [CN_VM_HOST_HEIGHT] = {"height", 0, 2, 0},
    [CN_VM_HOST_TIME] = {"time", 0, 2, 0},
    [CN_VM_HOST_EMIT] = {"emit", 4, 100, 2},
};

int cn_vm_host_lookup(const char *name, uint32_t len) {
    for (int i = 0; i < (int)CN_VM_HOST_COUNT; i++)
        if (strlen(cn_vm_host_calls[i].name) == len &&
            memcmp(cn_vm_host_calls[i].name, name, len) == 0)
            return i;
    return -1;
}

/* Is [ptr, ptr+len) inside memory? Both are contract values, so anything goes in. */
static int in_mem(const cn_vm_hostenv *env, int64_t ptr, int64_t len) {
    return ptr >= 0 && len >= 0 && ptr <= (int64_t)env->mem_size &&
           len <= (int64_t)env->mem_size - ptr;
}

static int len_ok(int64_t len, int64_t lo, int64_t hi) { return len >= lo && len <= hi; }

/* Charges the dynamic gas of host call `id` for `bytes` bytes of arguments. */
static cn_vm_err charge(cn_vm_hostenv *env, uint32_t id, uint64_t bytes) {
    const cn_vm_host_info *h = &cn_vm_host_calls[id];
    uint64_t cost = h->gas_base + (uint64_t)h->gas_byte * bytes; /* bytes < 2^18 */
    if (cost > env->gas_left)
        return CN_VM_E_OUT_OF_GAS;
    env->gas_left -= cost;
    return CN_VM_OK;
}

/* storage_get: the overlay's value if the call wrote the key, else the committed one. */
static cn_vm_err storage_get(cn_vm_hostenv *env, const int64_t *a, int64_t *ret) {
    const cn_vm_call *call = env->call;
    uint8_t key[CN_VM_MAX_KEY];
    uint32_t klen = (uint32_t)a[1];
    memcpy(key, env->mem + a[0], klen); /* the value may be copied over the key's bytes */
    uint8_t *val = env->mem + a[2];
    size_t cap = (size_t)a[3];
    int32_t idx = cn_vm_overlay_find(call->overlay, key, klen, NULL);
    if (idx >= 0) {
        const cn_vm_write *w = &call->overlay->writes[idx];
        if (w->deleted) {
            *ret = -1;
            return CN_VM_OK;
        }
        memcpy(val, w->val, w->vlen < cap ? w->vlen : cap);
        *ret = w->vlen;
        return CN_VM_OK;
    }
    size_t len = 0;
    int r = call->host->get(call->host->ctx, call->contract, key, klen, val, cap, &len);
    if (r < 0 || len > CN_VM_MAX_VALUE)
        return CN_VM_E_HOST_FAULT;
    *ret = r ? (int64_t)len : -1;
    return CN_VM_OK;
}

/* storage_del: records a delete if the key exists in the call's view; returns whether it did. */
static cn_vm_err storage_del(cn_vm_hostenv *env, const int64_t *a, int64_t *ret) {
    const cn_vm_call *call = env->call;
    const uint8_t *key = env->mem + a[0];
    uint32_t klen = (uint32_t)a[1];
    int32_t idx = cn_vm_overlay_find(call->overlay, key, klen, NULL);
    int exists;
    if (idx >= 0) {
        exists = !call->overlay->writes[idx].deleted;
    } else {
        size_t len = 0;
        int r = call->host->get(call->host->ctx, call->contract, key, klen, NULL, 0, &len);
        if (r < 0)
            return CN_VM_E_HOST_FAULT;
        exists = r != 0;
    }
    *ret = exists;
    return exists ? cn_vm_overlay_put(call->overlay, key, klen, NULL, 0, 1) : CN_VM_OK;
}

/* storage_next: the smallest key k with from <= k < to (no upper bound if tlen is 0) in the
 * merged view. Committed keys the call deleted are skipped by restarting the committed scan
 * just after them (key || 0x00); that loop is bounded by the overlay's size. */
static cn_vm_err storage_next(cn_vm_hostenv *env, const int64_t *a, int64_t *ret) {
    const cn_vm_call *call = env->call;
    const cn_vm_overlay *ov = call->overlay;
    uint8_t from[CN_VM_MAX_KEY + 1], to[CN_VM_MAX_KEY], hk[CN_VM_MAX_KEY + 1];
    uint32_t flen = (uint32_t)a[1], tlen = (uint32_t)a[3];
    memcpy(from, env->mem + a[0], flen);
    memcpy(to, env->mem + a[2], tlen);

    /* First live overlay key at or after `from`, below `to`. */
    const cn_vm_write *best = NULL;
    uint32_t pos;
    (void)cn_vm_overlay_find(ov, from, flen, &pos);
    for (; pos < ov->nwrites; pos++) {
        const cn_vm_write *w = &ov->writes[pos];
        if (tlen && cn_vm_key_cmp(w->key, w->klen, to, tlen) >= 0)
            break;
        if (!w->deleted) {
            best = w;
            break;
        }
    }
    const uint8_t *key = best ? best->key : NULL;
    uint32_t klen = best ? best->klen : 0;

    /* First committed key at or after `from` that the call did not delete. */
    uint8_t cur[CN_VM_MAX_KEY + 1];
    uint32_t clen = flen;
    memcpy(cur, from, flen);
    for (;;) {
        size_t hlen = 0;
        int r = call->host->next(call->host->ctx, call->contract, cur, clen, to, tlen, hk, &hlen);
        if (r < 0 || hlen > CN_VM_MAX_KEY || (r && hlen == 0))
            return CN_VM_E_HOST_FAULT;
        if (r == 0)
            break;
        if (key && cn_vm_key_cmp(hk, (uint32_t)hlen, key, klen) >= 0)
            break; /* the overlay's key comes first (or is the same key, rewritten) */
        int32_t idx = cn_vm_overlay_find(ov, hk, (uint32_t)hlen, NULL);
        if (idx < 0 || !ov->writes[idx].deleted) {
            key = hk;
            klen = (uint32_t)hlen;
            break;
        }
        memcpy(cur, hk, hlen);
        cur[hlen] = 0;
        clen = (uint32_t)hlen + 1;
    }
    if (!key) {
        *ret = -1;
        return CN_VM_OK;
    }
    memcpy(env->mem + a[4], key, klen < (uint64_t)a[5] ? klen : (size_t)a[5]);
    *ret = klen;
    return CN_VM_OK;
}

/* transfer: the host judges it against the balance it knows plus this call's pending
 * transfers; an accepted transfer is only recorded, to be applied after success. */
static cn_vm_err transfer(cn_vm_hostenv *env, const int64_t *a, int64_t *ret) {
    const cn_vm_call *call = env->call;
    cn_vm_transfer t;
    memcpy(t.from, env->mem + a[0], CN_VM_ID_LEN);
    memcpy(t.to, env->mem + a[1], CN_VM_ID_LEN);
    t.asset = a[2];
    t.amount = a[3];
    int64_t pending;
    cn_vm_err err = cn_vm_overlay_pending(call->overlay, t.from, t.asset, &pending);
    if (err)
        return err;
    int r = call->host->transfer(call->host->ctx, call->contract, t.from, t.to, t.asset,
                                 t.amount, pending);
    switch (r) {
    case CN_VM_TRANSFER_OK:
        *ret = 0;
        return cn_vm_overlay_transfer(call->overlay, &t);
    case CN_VM_TRANSFER_SHORT:
        *ret = -1;
        return CN_VM_OK;
    case CN_VM_TRANSFER_DENIED:
        return CN_VM_E_HOST_DENIED;
    default:
        return CN_VM_E_HOST_FAULT;
    }
}

/* Sum of byte counts, in unsigned arithmetic: the counts are only trusted (and then small)
 * once check_args has accepted them, so a wrapped sum of rejected values is never used. */
static uint64_t sum(int64_t x, int64_t y) { return (uint64_t)x + (uint64_t)y; }

/* Checks the arguments of host call `id` (steps 1 and 2) and sets *bytes to the byte count
 * its gas is charged for. Returns CN_VM_OK, CN_VM_E_HOST_ARG or CN_VM_E_MEM_BOUNDS. */
static cn_vm_err check_args(const cn_vm_hostenv *env, uint32_t id, const int64_t *a,
                            uint64_t *bytes) {
    int64_t max_key = CN_VM_MAX_KEY, max_val = CN_VM_MAX_VALUE;
    int ok_len = 1, ok_mem = 1;
    *bytes = 0;
    switch ((cn_vm_host_id)id) {
    case CN_VM_HOST_INPUT:
        ok_len = a[1] >= 0;
        ok_mem = in_mem(env, a[0], a[1]);
        *bytes = (uint64_t)a[1];
        break;
    case CN_VM_HOST_STORAGE_GET:
        ok_len = len_ok(a[1], 1, max_key) && a[3] >= 0;
        ok_mem = in_mem(env, a[0], a[1]) && in_mem(env, a[2], a[3]);
        *bytes = sum(a[1], a[3]);
        break;
    case CN_VM_HOST_STORAGE_PUT:
        ok_len = len_ok(a[1], 1, max_key) && len_ok(a[3], 0, max_val);
        ok_mem = in_mem(env, a[0], a[1]) && in_mem(env, a[2], a[3]);
        *bytes = sum(a[1], a[3]);
        break;
    case CN_VM_HOST_STORAGE_DEL:
        ok_len = len_ok(a[1], 1, max_key);
        ok_mem = in_mem(env, a[0], a[1]);
        *bytes = (uint64_t)a[1];
        break;
    case CN_VM_HOST_STORAGE_NEXT:
        ok_len = len_ok(a[1], 0, max_key) && len_ok(a[3], 0, max_key) && a[5] >= 0;
        ok_mem = in_mem(env, a[0], a[1]) && in_mem(env, a[2], a[3]) && in_mem(env, a[4], a[5]);
        *bytes = sum(a[1], a[3]) + (uint64_t)a[5];
        break;
    case CN_VM_HOST_TRANSFER:
        ok_len = a[3] > 0;
        ok_mem = in_mem(env, a[0], CN_VM_ID_LEN) && in_mem(env, a[1], CN_VM_ID_LEN);
        break;
    case CN_VM_HOST_CALLER:
    case CN_VM_HOST_SELF:
        ok_mem = in_mem(env, a[0], CN_VM_ID_LEN);
        break;
    case CN_VM_HOST_EMIT:
        ok_len = len_ok(a[1], 1, CN_VM_MAX_TOPIC) && len_ok(a[3], 0, CN_VM_MAX_EVENT_DATA);
        ok_mem = in_mem(env, a[0], a[1]) && in_mem(env, a[2], a[3]);
        *bytes = sum(a[1], a[3]);
        break;
    case CN_VM_HOST_PRICE:
    case CN_VM_HOST_HALTED:
    case CN_VM_HOST_HEIGHT:
    case CN_VM_HOST_TIME:
    case CN_VM_HOST_COUNT:
        break;
    }
    if (!ok_len)
        return CN_VM_E_HOST_ARG;
    return ok_mem ? CN_VM_OK : CN_VM_E_MEM_BOUNDS;
}

cn_vm_err cn_vm_host_dispatch(cn_vm_hostenv *env, uint32_t id, const int64_t *a, int64_t *ret) {
    const cn_vm_call *call = env->call;
    uint64_t bytes;
    cn_vm_err err = check_args(env, id, a, &bytes);
    if (err)
        return err;
    err = charge(env, id, bytes);
    if (err)
        return err;
    *ret = 0;
    switch ((cn_vm_host_id)id) {
    case CN_VM_HOST_INPUT: {
        uint32_t n = call->input_len < (uint64_t)a[1] ? call->input_len : (uint32_t)a[1];
        if (n)
            memcpy(env->mem + a[0], call->input, n);
        *ret = call->input_len;
        return CN_VM_OK;
    }
    case CN_VM_HOST_STORAGE_GET:
        return storage_get(env, a, ret);
    case CN_VM_HOST_STORAGE_PUT:
        return cn_vm_overlay_put(call->overlay, env->mem + a[0], (uint32_t)a[1], env->mem + a[2],
                                 (uint32_t)a[3], 0);
    case CN_VM_HOST_STORAGE_DEL:
        return storage_del(env, a, ret);
    case CN_VM_HOST_STORAGE_NEXT:
        return storage_next(env, a, ret);
    case CN_VM_HOST_PRICE: {
        int64_t price = 0;
        int r = call->host->price(call->host->ctx, a[0], &price);
        if (r < 0)
            return CN_VM_E_HOST_FAULT;
        *ret = r ? price : -1;
        return CN_VM_OK;
    }
    case CN_VM_HOST_HALTED: {
        int r = call->host->halted(call->host->ctx, a[0]);
        if (r < 0)
            return CN_VM_E_HOST_FAULT;
        *ret = r != 0;
        return CN_VM_OK;
    }
    case CN_VM_HOST_TRANSFER:
        return transfer(env, a, ret);
    case CN_VM_HOST_CALLER:
        memcpy(env->mem + a[0], call->caller, CN_VM_ID_LEN);
        *ret = CN_VM_ID_LEN;
        return CN_VM_OK;
    case CN_VM_HOST_SELF:
        memcpy(env->mem + a[0], call->contract, CN_VM_ID_LEN);
        *ret = CN_VM_ID_LEN;
        return CN_VM_OK;
    case CN_VM_HOST_HEIGHT:
        *ret = call->height;
        return CN_VM_OK;
    case CN_VM_HOST_TIME:
        *ret = call->time;
        return CN_VM_OK;
    case CN_VM_HOST_EMIT:
        return cn_vm_overlay_emit(call->overlay, env->mem + a[0], (uint32_t)a[1], env->mem + a[2],
                                  (uint32_t)a[3]);
    case CN_VM_HOST_COUNT:
        break;
    }
    return CN_VM_E_HOST_ID; /* unreachable: the verifier checked the id */
}
