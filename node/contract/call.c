/* contract_call: run an exported entry with the fast interpreter, then apply its effects.
 *
 * Steps: load the stored bytecode ('c' name) and prepare it; check the entry is exported and
 * takes exactly the given arguments; resolve the caller's allowance; run with gas_limit (0:
 * CN_CONTRACT_GAS_DEFAULT) against the overlay host (chost.c). On success the VM overlay is
 * applied in order: storage writes (sorted by key) under 'k' id, transfers through the checked
 * balance reads and writes of state.h, events into the receipt. Any failure, including one
 * found while applying (a receipt over its event budget), sets r->code and the caller rolls
 * the block overlay back to its mark: nothing of the call remains but the nonce.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contracts/vm/overlay.h"
#include "crypto/encoding.h"
#include "node/app/state.h"
#include "node/contract/chost.h"
#include "node/contract/contract.h"

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

/* Applies a successful call's effects to the block overlay. Returns 1, or 0 with r set. */
static int apply(cn_overlay *ov, const cn_genesis *g, const uint8_t id[32], const char *name,
                 const cn_vm_overlay *vo, cn_exec_result *r) {
    for (uint32_t i = 0; i < vo->nwrites; i++) {
        const cn_vm_write *w = &vo->writes[i];
        uint8_t k[CN_CSTORE_PREFIX_LEN + CN_VM_MAX_KEY];
        size_t kl = cn_cstore_key(k, id, w->key, w->klen);
        int ok = w->deleted ? cn_overlay_del(ov, k, kl)
                            : cn_overlay_put(ov, k, kl, w->val, w->vlen);
        if (!ok) {
            fail(r, CN_TX_INTERNAL, "contract storage write failed");
            return 0;
        }
    }
    for (uint32_t i = 0; i < vo->ntransfers; i++) {
        const cn_vm_transfer *t = &vo->transfers[i];
        if (t->asset < 0 || (uint64_t)t->asset >= g->n_assets || t->amount <= 0) {
            fail(r, CN_TX_INTERNAL, "contract transfer %u: bad asset or amount", i);
            return 0;
        }
        const char *sym = g->assets[t->asset].symbol;
        int64_t from, to, nto;
        if (cn_state_get_balance(ov, t->from, sym, &from) < 0 ||
            cn_state_get_balance(ov, t->to, sym, &to) < 0) {
            fail(r, CN_TX_INTERNAL, "state read failed");
            return 0;
        }
        if (from < t->amount) {
            fail(r, CN_TX_INSUFFICIENT_FUNDS, "contract transfer %u: balance %lld %s < %lld", i,
                 (long long)from, sym, (long long)t->amount);
            return 0;
        }
        if (__builtin_add_overflow(to, t->amount, &nto)) {
            fail(r, CN_TX_OVERFLOW, "contract transfer %u: recipient balance would overflow", i);
            return 0;
        }
        if (!cn_state_set_balance(ov, t->from, sym, from - t->amount) ||
            !cn_state_set_balance(ov, t->to, sym, nto)) {
            fail(r, CN_TX_INTERNAL, "state write failed");
            return 0;
        }
    }
    int x = take_events(vo, name, r);
    if (x < 0)
        fail(r, CN_TX_INTERNAL, "out of memory");
    return x == 1 && !ov->failed;
}

void cn_contract_call_exec(cn_overlay *ov, const cn_genesis *g, uint64_t height, int64_t time_ms,
                           const uint8_t signer[32], const Clearnode__V1__ContractCall *c,
                           cn_exec_result *r) {
    r->gas_used = 0;
    cn_key k;
    cn_sk_named(&k, CN_SK_CONTRACT, c->contract);
    const uint8_t *code;
    size_t code_len;
    int x = cn_overlay_get(ov, k.b, k.len, &code, &code_len);
    if (x < 0)
        return fail(r, CN_TX_INTERNAL, "state read failed");
    if (x == 0)
        return fail(r, CN_TX_UNKNOWN_CONTRACT, "contract_call.contract: '%s' is not deployed",
                    c->contract);
    cn_chost hc;
    memset(&hc, 0, sizeof hc);
    hc.ov = ov;
    hc.g = g;
    hc.allow_asset = -1;
    if (c->allow_amount) {
        for (size_t i = 0; i < g->n_assets; i++)
            if (strcmp(g->assets[i].symbol, c->allow_asset) == 0)
                hc.allow_asset = (int64_t)i;
        if (hc.allow_asset < 0)
            return fail(r, CN_TX_UNKNOWN_ASSET, "contract_call.allow_asset: '%s' is not in genesis",
                        c->allow_asset);
        hc.allow_amount = (int64_t)c->allow_amount;
    }
    cn_vm_program *prog = NULL;
    cn_vm_err ve = cn_vm_load(code, code_len, CN_CONTRACT_HOST_ALLOW, &prog, NULL);
    if (ve != CN_VM_OK)
        return fail(r, CN_TX_CONTRACT_ERROR, "contract '%s' does not load: %s", c->contract,
                    cn_vm_errname(ve));
    int32_t entry = cn_vm_program_export(prog, c->entry);
    if (entry < 0) {
        cn_vm_program_free(prog);
        return fail(r, CN_TX_INVALID_FIELD, "contract_call.entry: '%s' is not exported by '%s'",
                    c->entry, c->contract);
    }
    uint32_t params = cn_vm_program_params(prog, (uint32_t)entry);
    if (params != c->n_args) {
        cn_vm_program_free(prog);
        return fail(r, CN_TX_INVALID_FIELD, "contract_call.args: '%s' takes %u, got %zu",
                    c->entry, params, c->n_args);
    }
    cn_vm_machine *m = cn_vm_machine_new();
    if (!m) {
        cn_vm_program_free(prog);
        return fail(r, CN_TX_INTERNAL, "out of memory");
    }
    cn_vm_host host;
    cn_chost_table(&hc, &host);
    memcpy(hc.caller, signer, 32);
    cn_contract_id(c->contract, hc.self);
    cn_vm_overlay vo;
    cn_vm_overlay_init(&vo);
    cn_vm_call call;
    memset(&call, 0, sizeof call);
    call.prog = prog;
    call.host = &host;
    call.overlay = &vo;
    call.entry = (uint32_t)entry;
    call.args = c->args;
    call.nargs = (uint32_t)c->n_args;
    call.gas_limit = c->gas_limit ? c->gas_limit : CN_CONTRACT_GAS_DEFAULT;
    memcpy(call.caller, signer, 32);
    memcpy(call.contract, hc.self, 32);
    call.height = (int64_t)height;
    call.time = time_ms;
    cn_vm_result res;
    memset(&res, 0, sizeof res);
    cn_vm_exec_fast(m, &call, &res);
    r->gas_used = res.gas_used;
    if (res.status == CN_VM_E_HOST_FAULT || ov->failed) {
        fail(r, CN_TX_INTERNAL, "contract '%s': state read failed", c->contract);
    } else if (res.status == CN_VM_E_NOMEM) {
        fail(r, CN_TX_INTERNAL, "out of memory");
    } else if (res.status == CN_VM_E_REVERT) {
        fail(r, CN_TX_CONTRACT_ERROR, "revert: contract '%s' reverted with code %lld (gas %llu)",
             c->contract, (long long)res.value, (unsigned long long)res.gas_used);
    } else if (res.status != CN_VM_OK) {
        fail(r, CN_TX_CONTRACT_ERROR, "%s: %s in '%s' function %u instruction %u (gas %llu)",
             cn_vm_errname(res.status), cn_vm_strerror(res.status), c->contract, res.func,
             res.pc, (unsigned long long)res.gas_used);
    } else if (apply(ov, g, hc.self, c->contract, &vo, r)) {
        snprintf(r->message, sizeof r->message, "ok: returned %lld", (long long)res.value);
        cn_event *e = &r->events[r->n_events++];
        e->type = "contract.call";
        e->n = 0;
        const char *keys[4] = {"contract", "entry", "result", "gas_used"};
        for (size_t i = 0; i < 4; i++)
            e->attrs[i].key = keys[i];
        snprintf(e->attrs[0].value, CN_EVENT_VALUE_MAX, "%s", c->contract);
        snprintf(e->attrs[1].value, CN_EVENT_VALUE_MAX, "%s", c->entry);
        snprintf(e->attrs[2].value, CN_EVENT_VALUE_MAX, "%lld", (long long)res.value);
        snprintf(e->attrs[3].value, CN_EVENT_VALUE_MAX, "%llu",
                 (unsigned long long)res.gas_used);
        e->n = 4;
    }
    cn_vm_overlay_free(&vo);
    cn_chost_free(&hc);
    cn_vm_machine_free(m);
    cn_vm_program_free(prog);
}
