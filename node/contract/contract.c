/* Contract deploy, field checks and dispatch (contract.h). Calls are in call.c. */
#include "node/contract/contract.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "node/app/state.h"

void cn_contract_call_exec(cn_overlay *ov, const cn_genesis *g, uint64_t height, int64_t time_ms,
                           const uint8_t signer[32], const Clearnode__V1__ContractCall *c,
                           cn_exec_result *r);

__attribute__((format(printf, 4, 5))) static cn_txerr set_err(char *msg, size_t cap,
                                                              cn_txerr code, const char *fmt,
                                                              ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, cap, fmt, ap);
    va_end(ap);
    return code;
}

int cn_contract_name_valid(const char *name) {
    size_t n = strlen(name);
    if (n == 0 || n > CN_CONTRACT_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
              name[i] == '_'))
            return 0;
    return 1;
}

/* Export names: 1..32 characters of [A-Za-z0-9_] (docs/vm.md §7). */
static int entry_valid(const char *e) {
    size_t n = strlen(e);
    if (n == 0 || n > CN_VM_MAX_NAME)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((e[i] >= 'a' && e[i] <= 'z') || (e[i] >= 'A' && e[i] <= 'Z') ||
              (e[i] >= '0' && e[i] <= '9') || e[i] == '_'))
            return 0;
    return 1;
}

void cn_contract_id(const char *name, uint8_t out[32]) {
    cn_hasher h;
    cn_hasher_start_named(&h, "clearnode/contract");
    cn_hasher_update(&h, name, strlen(name));
    cn_hasher_finish(&h, out);
}

int cn_contract_verify(const uint8_t *code, size_t len, char *why, size_t cap) {
    cn_vm_program *p = NULL;
    cn_vm_where w = {UINT32_MAX, UINT32_MAX};
    cn_vm_err e = cn_vm_load(code, len, CN_CONTRACT_HOST_ALLOW, &p, &w);
    if (e == CN_VM_OK) {
        cn_vm_program_free(p);
        return 1;
    }
    if (w.func != UINT32_MAX && w.pc != UINT32_MAX)
        snprintf(why, cap, "verifier: %s: %s (function %u, instruction %u)", cn_vm_errname(e),
                 cn_vm_strerror(e), w.func, w.pc);
    else if (w.func != UINT32_MAX)
        snprintf(why, cap, "verifier: %s: %s (function %u)", cn_vm_errname(e),
                 cn_vm_strerror(e), w.func);
    else
        snprintf(why, cap, "verifier: %s: %s", cn_vm_errname(e), cn_vm_strerror(e));
    return 0;
}

cn_txerr cn_contract_validate(const Clearnode__V1__Tx *tx, char *msg, size_t cap) {
    if (tx->kind_case == CLEARNODE__V1__TX__KIND_CONTRACT_DEPLOY) {
        const Clearnode__V1__ContractDeploy *d = tx->contract_deploy;
        if (!cn_contract_name_valid(d->name))
            return set_err(msg, cap, CN_TX_INVALID_FIELD,
                           "contract_deploy.name: not 1..%d characters of [a-z0-9_]",
                           CN_CONTRACT_NAME_MAX);
        if (d->bytecode.len == 0 || d->bytecode.len > CN_CONTRACT_DEPLOY_MAX)
            return set_err(msg, cap, CN_TX_INVALID_FIELD,
                           "contract_deploy.bytecode: must be 1..%zu bytes",
                           CN_CONTRACT_DEPLOY_MAX);
        char why[160];
        if (!cn_contract_verify(d->bytecode.data, d->bytecode.len, why, sizeof why))
            return set_err(msg, cap, CN_TX_INVALID_FIELD, "contract_deploy.bytecode: %s", why);
        return CN_TX_OK;
    }
    const Clearnode__V1__ContractCall *c = tx->contract_call;
    if (!cn_contract_name_valid(c->contract))
        return set_err(msg, cap, CN_TX_INVALID_FIELD,
                       "contract_call.contract: not 1..%d characters of [a-z0-9_]",
                       CN_CONTRACT_NAME_MAX);
    if (!entry_valid(c->entry))
        return set_err(msg, cap, CN_TX_INVALID_FIELD,
                       "contract_call.entry: not 1..%u characters of [A-Za-z0-9_]",
                       CN_VM_MAX_NAME);
    if (c->n_args > CN_CONTRACT_MAX_ARGS)
        return set_err(msg, cap, CN_TX_INVALID_FIELD, "contract_call.args: more than %u",
                       CN_CONTRACT_MAX_ARGS);
    if (c->gas_limit > CN_CONTRACT_GAS_MAX)
        return set_err(msg, cap, CN_TX_INVALID_FIELD, "contract_call.gas_limit: over %u",
                       CN_CONTRACT_GAS_MAX);
    int has_asset = c->allow_asset && c->allow_asset[0];
    if (has_asset != (c->allow_amount != 0))
        return set_err(msg, cap, CN_TX_INVALID_FIELD,
                       "contract_call.allow_asset: give both allow_asset and allow_amount, "
                       "or neither");
    if (has_asset && !cn_symbol_valid(c->allow_asset))
        return set_err(msg, cap, CN_TX_INVALID_FIELD,
                       "contract_call.allow_asset: not 1..16 characters of [A-Z0-9.]");
    if (c->allow_amount > (uint64_t)INT64_MAX)
        return set_err(msg, cap, CN_TX_INVALID_FIELD, "contract_call.allow_amount: over %lld",
                       (long long)INT64_MAX);
    return CN_TX_OK;
}

/* ---- deploy --------------------------------------------------------------------------------- */

static void deploy_exec(cn_overlay *ov, const uint8_t signer[32],
                        const Clearnode__V1__ContractDeploy *d, cn_exec_result *r) {
    char why[160];
    /* Verified at admission; again here so no path stores unverified code. */
    if (!cn_contract_verify(d->bytecode.data, d->bytecode.len, why, sizeof why)) {
        r->code = CN_TX_INVALID_FIELD;
        snprintf(r->message, sizeof r->message, "contract_deploy.bytecode: %s", why);
        return;
    }
    cn_key k;
    cn_sk_named(&k, CN_SK_CONTRACT, d->name);
    const uint8_t *v;
    size_t n;
    int x = cn_overlay_get(ov, k.b, k.len, &v, &n);
    if (x < 0) {
        r->code = CN_TX_INTERNAL;
        snprintf(r->message, sizeof r->message, "state read failed");
        return;
    }
    if (x) {
        r->code = CN_TX_CONTRACT_EXISTS;
        snprintf(r->message, sizeof r->message, "contract_deploy.name: '%s' is already deployed",
                 d->name);
        return;
    }
    if (!cn_overlay_put(ov, k.b, k.len, d->bytecode.data, d->bytecode.len)) {
        r->code = CN_TX_INTERNAL;
        snprintf(r->message, sizeof r->message, "state write failed");
        return;
    }
    uint8_t id[32], h[32];
    cn_contract_id(d->name, id);
    cn_sha256(h, d->bytecode.data, d->bytecode.len);
    cn_event *e = &r->events[r->n_events++];
    e->type = "contract.deploy";
    e->n = 0;
    char hex[65];
#define ATTR(k_, fmt_, ...)                                                                \
    do {                                                                                   \
        e->attrs[e->n].key = k_;                                                           \
        snprintf(e->attrs[e->n].value, CN_EVENT_VALUE_MAX, fmt_, __VA_ARGS__);             \
        e->n++;                                                                            \
    } while (0)
    ATTR("name", "%s", d->name);
    cn_hex_encode(hex, id, 32);
    ATTR("id", "%s", hex);
    cn_hex_encode(hex, h, 32);
    ATTR("code_sha256", "%s", hex);
    ATTR("size", "%zu", d->bytecode.len);
    cn_hex_encode(hex, signer, 32);
    ATTR("deployer", "%s", hex);
#undef ATTR
}

void cn_contract_exec(cn_overlay *ov, const cn_genesis *g, uint64_t height, int64_t time_ms,
                      const uint8_t signer[32], const Clearnode__V1__Tx *tx, cn_exec_result *r) {
    r->code = CN_TX_OK;
    snprintf(r->message, sizeof r->message, "ok");
    r->gas_used = CN_GAS_LEDGER;
    r->n_events = 0;
    if (tx->kind_case == CLEARNODE__V1__TX__KIND_CONTRACT_DEPLOY)
        deploy_exec(ov, signer, tx->contract_deploy, r);
    else
        cn_contract_call_exec(ov, g, height, time_ms, signer, tx->contract_call, r);
    if (r->code != CN_TX_OK) {
        r->n_events = 0;
        cn_exec_result_release(r);
    }
}
