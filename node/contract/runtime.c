/* Contract runtime for the node's own calls (runtime.h). */
#include "node/contract/runtime.h"

#include <stdio.h>
#include <string.h>

#include "node/app/state.h"
#include "node/contract/chost.h"
#include "node/contract/contract.h"

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
    if (rt->m)
        cn_vm_machine_free(rt->m);
    if (rt->prog)
        cn_vm_program_free(rt->prog);
    rt->m = NULL;
    rt->prog = NULL;
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
    memset(&hc, 0, sizeof hc);
    hc.ov = rt->ov;
    hc.g = rt->g;
    hc.allow_asset = allow_asset;
    hc.allow_amount = allow_amount;
    memcpy(hc.caller, caller, 32);
    memcpy(hc.self, rt->id, 32);
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
