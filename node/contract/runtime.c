/* Contract runtime for the node's own calls (runtime.h). */
#include "node/contract/runtime.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/app/state.h"
#include "node/contract/chost.h"
#include "node/contract/contract.h"
#include "node/util/sorted.h"

int cn_crt_open(cn_crt *rt, cn_overlay *ov, const cn_genesis *g, const char *name,
                uint64_t height, int64_t time_ms) {
    memset(rt, 0, sizeof *rt);
    if (strlen(name) > CN_CONTRACT_NAME_MAX)
        return 0;
    rt->ov = ov;
    rt->g = g;
    snprintf(rt->name, sizeof rt->name, "%s", name);
    cn_contract_id(name, rt->id);
    rt->height = height;
    rt->time_ms = time_ms;
    cn_key k;
    cn_sk_named(&k, CN_SK_CONTRACT, name);
    const uint8_t *code;
    size_t len;
    int x = cn_overlay_get(ov, k.b, k.len, &code, &len);
    if (x <= 0)
        return x;
    rt->load_err = cn_vm_load(code, len, CN_CONTRACT_HOST_ALLOW, &rt->prog, NULL);
    if (rt->load_err != CN_VM_OK) {
        rt->prog = NULL;
        return rt->load_err == CN_VM_E_NOMEM ? -1 : -2;
    }
    rt->m = cn_vm_machine_new();
    if (!rt->m) {
        cn_crt_close(rt);
        return -1;
    }
    return 1;
}

void cn_crt_close(cn_crt *rt) {
    for (size_t i = 0; i < rt->nidx; i++)
        free((void *)(uintptr_t)rt->idx[i].k);
    free(rt->idx);
    rt->idx = NULL;
    rt->nidx = rt->cap = 0;
    rt->built = 0;
    if (rt->m)
        cn_vm_machine_free(rt->m);
    if (rt->prog)
        cn_vm_program_free(rt->prog);
    rt->m = NULL;
    rt->prog = NULL;
}

static int kcmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl) {
    int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : al < bl ? -1 : al > bl;
}

/* Inserts a copy of full key k into the sorted index (no-op if present). 1, or 0 on no
 * memory. */
static int key_order(const void *elem, const void *key) {
    const struct cn_chost_key *a = elem, *b = key;
    return kcmp(a->k, a->kl, b->k, b->kl);
}

static int idx_insert(cn_crt *rt, const uint8_t *k, size_t kl) {
    struct cn_chost_key want = {k, kl};
    int found;
    size_t lo = cn_lower_bound(rt->idx, rt->nidx, sizeof *rt->idx, &want, key_order, &found);
    if (found)
        return 1;
    if (rt->nidx == rt->cap) {
        size_t nc = rt->cap ? rt->cap * 2 : 64;
        struct cn_chost_key *x = realloc(rt->idx, nc * sizeof *x);
        if (!x)
            return 0;
        rt->idx = x;
        rt->cap = nc;
    }
    uint8_t *copy = malloc(kl);
    if (!copy)
        return 0;
    memcpy(copy, k, kl);
    memmove(rt->idx + lo + 1, rt->idx + lo, (rt->nidx - lo) * sizeof *rt->idx);
    rt->idx[lo].k = copy;
    rt->idx[lo].kl = kl;
    rt->nidx++;
    return 1;
}

/* The first use: every overlay key in the contract's namespace. */
static int idx_build(cn_crt *rt) {
    uint8_t prefix[CN_CSTORE_PREFIX_LEN + CN_VM_MAX_KEY];
    cn_cstore_key(prefix, rt->id, NULL, 0);
    size_t pos = 0, kl;
    const uint8_t *k;
    void *val;
    while (cn_bmap_next(&rt->ov->map, &pos, &k, &kl, &val))
        if (kl > CN_CSTORE_PREFIX_LEN && kl <= CN_CSTORE_PREFIX_LEN + CN_VM_MAX_KEY &&
            memcmp(k, prefix, CN_CSTORE_PREFIX_LEN) == 0 && !idx_insert(rt, k, kl))
            return 0;
    rt->built = 1;
    return 1;
}

int cn_crt_host(cn_crt *rt, cn_chost *hc, const uint8_t caller[32]) {
    memset(hc, 0, sizeof *hc);
    if (!rt->built && !idx_build(rt))
        return 0;
    hc->ov = rt->ov;
    hc->g = rt->g;
    hc->allow_asset = -1;
    memcpy(hc->caller, caller, 32);
    memcpy(hc->self, rt->id, 32);
    hc->idx = rt->idx;
    hc->nidx = rt->nidx;
    hc->indexed = 1;
    hc->borrowed = 1;
    return 1;
}

void cn_crt_out_free(cn_crt_out *out) { cn_vm_overlay_free(&out->vo); }

int cn_crt_run(cn_crt *rt, const uint8_t caller[32], const char *entry, const int64_t *args,
               uint32_t nargs, uint64_t gas, int64_t allow_asset, int64_t allow_amount,
               cn_crt_out *out) {
    memset(&out->res, 0, sizeof out->res);
    cn_vm_overlay_init(&out->vo);
    int32_t fn = cn_vm_program_export(rt->prog, entry);
    if (fn < 0 || cn_vm_program_params(rt->prog, (uint32_t)fn) != nargs)
        return 0;
    cn_chost hc;
    if (!cn_crt_host(rt, &hc, caller))
        return -1;
    hc.allow_asset = allow_asset;
    hc.allow_amount = allow_amount;
    cn_vm_host host;
    cn_chost_table(&hc, &host);
    cn_vm_call call;
    memset(&call, 0, sizeof call);
    call.prog = rt->prog;
    call.host = &host;
    call.overlay = &out->vo;
    call.entry = (uint32_t)fn;
    call.args = args;
    call.nargs = nargs;
    call.gas_limit = gas;
    memcpy(call.caller, caller, 32);
    memcpy(call.contract, rt->id, 32);
    call.height = (int64_t)rt->height;
    call.time = rt->time_ms;
    cn_vm_exec_fast(rt->m, &call, &out->res);
    cn_chost_free(&hc);
    if (out->res.status == CN_VM_E_HOST_FAULT || out->res.status == CN_VM_E_NOMEM ||
        rt->ov->failed)
        return -1;
    return 1;
}

cn_txerr cn_crt_apply(cn_crt *rt, const cn_vm_overlay *vo, char *msg, size_t cap) {
    cn_overlay *ov = rt->ov;
    const cn_genesis *g = rt->g;
    for (uint32_t i = 0; i < vo->nwrites; i++) {
        const cn_vm_write *w = &vo->writes[i];
        uint8_t k[CN_CSTORE_PREFIX_LEN + CN_VM_MAX_KEY];
        size_t kl = cn_cstore_key(k, rt->id, w->key, w->klen);
        int ok = w->deleted ? cn_overlay_del(ov, k, kl)
                            : cn_overlay_put(ov, k, kl, w->val, w->vlen);
        /* a delete stays in the index: scans skip keys the overlay reads as absent */
        if (ok && rt->built)
            ok = idx_insert(rt, k, kl);
        if (!ok) {
            snprintf(msg, cap, "contract storage write failed");
            return CN_TX_INTERNAL;
        }
    }
    for (uint32_t i = 0; i < vo->ntransfers; i++) {
        const cn_vm_transfer *t = &vo->transfers[i];
        if (t->asset < 0 || (uint64_t)t->asset >= g->n_assets || t->amount <= 0) {
            snprintf(msg, cap, "contract transfer %u: bad asset or amount", i);
            return CN_TX_INTERNAL;
        }
        const char *sym = g->assets[t->asset].symbol;
        int64_t from, to, nto;
        if (cn_state_get_balance(ov, t->from, sym, &from) < 0 ||
            cn_state_get_balance(ov, t->to, sym, &to) < 0) {
            snprintf(msg, cap, "state read failed");
            return CN_TX_INTERNAL;
        }
        if (from < t->amount) {
            snprintf(msg, cap, "contract transfer %u: balance %lld %s < %lld", i,
                     (long long)from, sym, (long long)t->amount);
            return CN_TX_INSUFFICIENT_FUNDS;
        }
        if (__builtin_add_overflow(to, t->amount, &nto)) {
            snprintf(msg, cap, "contract transfer %u: recipient balance would overflow", i);
            return CN_TX_OVERFLOW;
        }
        if (!cn_state_set_balance(ov, t->from, sym, from - t->amount) ||
            !cn_state_set_balance(ov, t->to, sym, nto)) {
            snprintf(msg, cap, "state write failed");
            return CN_TX_INTERNAL;
        }
    }
    return ov->failed ? CN_TX_INTERNAL : CN_TX_OK;
}

int cn_crt_view(cn_crt *rt, const char *entry, const int64_t *args, uint32_t nargs, int64_t *v) {
    static const uint8_t zero[32];
    return cn_crt_view_as(rt, zero, entry, args, nargs, v);
}

int cn_crt_view_as(cn_crt *rt, const uint8_t caller[32], const char *entry,
                   const int64_t *args, uint32_t nargs, int64_t *v) {
    cn_crt_out out;
    int x = cn_crt_run(rt, caller, entry, args, nargs, CN_CRT_VIEW_GAS, -1, 0, &out);
    cn_crt_out_free(&out);
    if (x <= 0) {
        *v = 0;
        return x < 0 ? -1 : 0;
    }
    if (out.res.status == CN_VM_OK) {
        *v = out.res.value;
        return 1;
    }
    *v = out.res.status == CN_VM_E_REVERT ? out.res.value : -(int64_t)out.res.status;
    return 0;
}
