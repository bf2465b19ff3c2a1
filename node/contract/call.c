/* contract_call: run an exported entry with the fast interpreter, then apply its effects.
 *
 * Steps: load the stored bytecode ('c' name) through the runtime (runtime.h); resolve the
 * caller's allowance; check the entry is exported and takes exactly the given arguments; run
 * with gas_limit (0: CN_CONTRACT_GAS_DEFAULT) against the overlay host (chost.c). On success
 * the VM overlay is applied in order: storage writes (sorted by key) under 'k' id, transfers
 * through the checked balance reads and writes of state.h, events into the receipt. Any
 * failure, including one found while applying (a receipt over its event budget), sets r->code
 * and the caller rolls the block overlay back to its mark: nothing of the call remains but
 * the nonce.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contracts/vm/overlay.h"
#include "crypto/encoding.h"
#include "node/app/state.h"
#include "node/contract/contract.h"
#include "node/contract/runtime.h"

void cn_contract_call_exec(cn_overlay *ov, const cn_genesis *g, uint64_t height, int64_t time_ms,
                           const uint8_t signer[32], const Clearnode__V1__ContractCall *c,
                           cn_exec_result *r);

static void fail(cn_exec_result *r, cn_txerr code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(cn_exec_result *r, cn_txerr code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
    r->code = code;
}

void cn_exec_result_release(cn_exec_result *r) {
    for (size_t i = 0; i < r->n_xevents && r->xevents; i++) {
        free(r->xevents[i].topic);
        free(r->xevents[i].data);
    }
    free(r->xevents);
    r->xevents = NULL;
    r->n_xevents = 0;
}

static int printable(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 || p[i] > 0x7e)
            return 0;
    return 1;
}

/* Copies the VM events into r->xevents. Returns 1, 0 over budget (message set), -1 no memory. */
static int take_events(const cn_vm_overlay *vo, const char *name, cn_exec_result *r) {
    if (vo->nevents == 0)
        return 1;
    size_t budget = 0;
    for (uint32_t i = 0; i < vo->nevents; i++)
        budget += 4u + 2u * vo->events[i].tlen + 2u * vo->events[i].dlen + strlen(name) + 48u;
    if (budget > CN_CONTRACT_EVENT_BUDGET) {
        fail(r, CN_TX_CONTRACT_ERROR,
             "contract events: %u events need %zu receipt bytes, over the budget of %u",
             vo->nevents, budget, CN_CONTRACT_EVENT_BUDGET);
        return 0;
    }
    r->xevents = calloc(vo->nevents, sizeof *r->xevents);
    if (!r->xevents)
        return -1;
    r->n_xevents = vo->nevents;
    for (uint32_t i = 0; i < vo->nevents; i++) {
        const cn_vm_event *e = &vo->events[i];
        cn_xevent *x = &r->xevents[i];
        snprintf(x->contract, sizeof x->contract, "%s", name);
        x->topic = malloc(2u * e->tlen + 5u);
        x->data = malloc(2u * e->dlen + 1u);
        if (!x->topic || !x->data)
            return -1;
        if (printable(e->topic, e->tlen)) {
            memcpy(x->topic, e->topic, e->tlen);
            x->topic[e->tlen] = 0;
        } else {
            memcpy(x->topic, "hex:", 4);
            cn_hex_encode(x->topic + 4, e->topic, e->tlen);
        }
        cn_hex_encode(x->data, e->data, e->dlen);
    }
    return 1;
}

void cn_contract_call_exec(cn_overlay *ov, const cn_genesis *g, uint64_t height, int64_t time_ms,
                           const uint8_t signer[32], const Clearnode__V1__ContractCall *c,
                           cn_exec_result *r) {
    r->gas_used = 0;
    cn_crt rt;
    int x = cn_crt_open(&rt, ov, g, c->contract, height, time_ms);
    if (x == 0)
        return fail(r, CN_TX_UNKNOWN_CONTRACT, "contract_call.contract: '%s' is not deployed",
                    c->contract);
    if (x == -2)
        return fail(r, CN_TX_CONTRACT_ERROR, "contract '%s' does not load: %s", c->contract,
                    cn_vm_errname(rt.load_err));
    if (x < 0)
        return fail(r, CN_TX_INTERNAL, "state read failed");
    int64_t allow_asset = -1;
    if (c->allow_amount) {
        for (size_t i = 0; i < g->n_assets; i++)
            if (strcmp(g->assets[i].symbol, c->allow_asset) == 0)
                allow_asset = (int64_t)i;
        if (allow_asset < 0) {
            cn_crt_close(&rt);
            return fail(r, CN_TX_UNKNOWN_ASSET, "contract_call.allow_asset: '%s' is not in genesis",
                        c->allow_asset);
        }
    }
    cn_crt_out out;
    x = cn_crt_run(&rt, signer, c->entry, c->args, (uint32_t)c->n_args,
                   c->gas_limit ? c->gas_limit : CN_CONTRACT_GAS_DEFAULT, allow_asset,
                   (int64_t)c->allow_amount, &out);
    const cn_vm_result *res = &out.res;
    r->gas_used = res->gas_used;
    if (x == 0) {
        int32_t fn = cn_vm_program_export(rt.prog, c->entry);
        if (fn < 0)
            fail(r, CN_TX_INVALID_FIELD, "contract_call.entry: '%s' is not exported by '%s'",
                 c->entry, c->contract);
        else
            fail(r, CN_TX_INVALID_FIELD, "contract_call.args: '%s' takes %u, got %zu", c->entry,
                 cn_vm_program_params(rt.prog, (uint32_t)fn), c->n_args);
    } else if (x < 0) {
        if (res->status == CN_VM_E_NOMEM)
            fail(r, CN_TX_INTERNAL, "out of memory");
        else
            fail(r, CN_TX_INTERNAL, "contract '%s': state read failed", c->contract);
    } else if (res->status == CN_VM_E_REVERT) {
        fail(r, CN_TX_CONTRACT_ERROR, "revert: contract '%s' reverted with code %lld (gas %llu)",
             c->contract, (long long)res->value, (unsigned long long)res->gas_used);
    } else if (res->status != CN_VM_OK) {
        fail(r, CN_TX_CONTRACT_ERROR, "%s: %s in '%s' function %u instruction %u (gas %llu)",
             cn_vm_errname(res->status), cn_vm_strerror(res->status), c->contract, res->func,
             res->pc, (unsigned long long)res->gas_used);
    } else if ((r->code = cn_crt_apply(&rt, &out.vo, r->message, sizeof r->message)) ==
                   CN_TX_OK &&
               (x = take_events(&out.vo, c->contract, r)) == 1) {
        snprintf(r->message, sizeof r->message, "ok: returned %lld", (long long)res->value);
        cn_event *e = &r->events[r->n_events++];
        e->type = "contract.call";
        e->n = 0;
        const char *keys[4] = {"contract", "entry", "result", "gas_used"};
        for (size_t i = 0; i < 4; i++)
            e->attrs[i].key = keys[i];
        snprintf(e->attrs[0].value, CN_EVENT_VALUE_MAX, "%s", c->contract);
        snprintf(e->attrs[1].value, CN_EVENT_VALUE_MAX, "%s", c->entry);
        snprintf(e->attrs[2].value, CN_EVENT_VALUE_MAX, "%lld", (long long)res->value);
        snprintf(e->attrs[3].value, CN_EVENT_VALUE_MAX, "%llu",
                 (unsigned long long)res->gas_used);
        e->n = 4;
    } else if (r->code == CN_TX_OK && x < 0) {
        fail(r, CN_TX_INTERNAL, "out of memory");
    }
    cn_crt_out_free(&out);
    cn_crt_close(&rt);
}
