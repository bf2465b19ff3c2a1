/* `clearctl tx deploy --name N --bytecode FILE` and
 * `clearctl tx call --contract NAME --entry E [--args a,b,c] [--gas N]
 *                   [--allow-asset SYM --allow-amount N]`.
 * A --bytecode file ending in .cas is assembled (and verified) first; any other file is taken
 * as container bytes. The node checks everything again; these checks give early, clear errors.
 */
#include "node/cmd/clearctl/tx_contract.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contracts/asm/asm.h"
#include "node/cmd/clearctl/clearctl.h"
#include "node/contract/contract.h"
#include "node/genesis/genesis_io.h"
#include "proto/codec.h"

int clearctl_contract_kind(const char *kind) {
    return strcmp(kind, "deploy") == 0 || strcmp(kind, "call") == 0;
}

/* Parses "a,b,c" (decimal int64, at most 8). */
static int parse_args(const char *s, clearctl_contract_vals *v) {
    v->nargs = 0;
    if (s[0] == '\0')
        return 1;
    const char *p = s;
    for (;;) {
        if (v->nargs == CN_CONTRACT_MAX_ARGS) {
            fprintf(stderr, "error: --args: at most %u values\n", CN_CONTRACT_MAX_ARGS);
            return 0;
        }
        char *end;
        errno = 0;
        long long x = strtoll(p, &end, 10);
        if (end == p || errno != 0 || (*end != ',' && *end != '\0')) {
            fprintf(stderr, "error: --args: expected comma-separated 64-bit integers\n");
            return 0;
        }
        v->args[v->nargs++] = (int64_t)x;
        if (*end == '\0')
            return 1;
        p = end + 1;
    }
}

static int load_code(const char *path, clearctl_contract_vals *v) {
    size_t n = strlen(path);
    if (n > 4 && strcmp(path + n - 4, ".cas") == 0) {
        cn_asm_diag d;
        if (!cn_asm_build_file(path, &v->code, &v->code_len, &d)) {
            fprintf(stderr, "error: --bytecode: %s\n", d.msg);
            return 0;
        }
    } else {
        char why[160];
        if (!cn_read_file_capped(path, CN_CONTRACT_DEPLOY_MAX, &v->code, &v->code_len, why,
                                 sizeof why)) {
            fprintf(stderr, "error: --bytecode: %s: %s\n", path, why);
            return 0;
        }
    }
    if (v->code_len == 0 || v->code_len > CN_CONTRACT_DEPLOY_MAX) {
        fprintf(stderr, "error: --bytecode: must be 1..%zu bytes\n", CN_CONTRACT_DEPLOY_MAX);
        return 0;
    }
    char why[200];
    if (!cn_contract_verify(v->code, v->code_len, why, sizeof why)) {
        fprintf(stderr, "error: --bytecode: %s\n", why);
        return 0;
    }
    return 1;
}

static int need(const char *v, const char *flag) {
    if (v == NULL)
        fprintf(stderr, "error: %s is required\n", flag);
    return v != NULL;
}

int clearctl_contract_check(const char *kind, const clearctl_contract_flags *f,
                            clearctl_contract_vals *v) {
    int dep = strcmp(kind, "deploy") == 0, call = strcmp(kind, "call") == 0;
    struct {
        const char *v, *name;
        int allowed;
    } fl[] = {{f->name, "--name", dep},           {f->bytecode, "--bytecode", dep},
              {f->contract, "--contract", call},  {f->entry, "--entry", call},
              {f->args, "--args", call},          {f->gas, "--gas", call},
              {f->allow_asset, "--allow-asset", call}, {f->allow_amount, "--allow-amount", call}};
    for (size_t i = 0; i < sizeof fl / sizeof fl[0]; i++) {
        if (fl[i].v != NULL && !fl[i].allowed) {
            fprintf(stderr, "error: %s does not apply to %s\n", fl[i].name, kind);
            return 0;
        }
    }
    if (dep) {
        if (!need(f->name, "--name") || !need(f->bytecode, "--bytecode"))
            return 0;
        if (!cn_contract_name_valid(f->name)) {
            fprintf(stderr, "error: --name: 1..%d characters of [a-z0-9_]\n",
                    CN_CONTRACT_NAME_MAX);
            return 0;
        }
        return load_code(f->bytecode, v);
    }
    if (!call)
        return 1;
    if (!need(f->contract, "--contract") || !need(f->entry, "--entry"))
        return 0;
    if (!cn_contract_name_valid(f->contract)) {
        fprintf(stderr, "error: --contract: 1..%d characters of [a-z0-9_]\n",
                CN_CONTRACT_NAME_MAX);
        return 0;
    }
    if (strlen(f->entry) == 0 || strlen(f->entry) > CN_VM_MAX_NAME) {
        fprintf(stderr, "error: --entry: 1..%u characters\n", CN_VM_MAX_NAME);
        return 0;
    }
    if (f->args != NULL && !parse_args(f->args, v))
        return 0;
    if (f->gas != NULL && !clearctl_parse_u64("--gas", f->gas, 1, CN_CONTRACT_GAS_MAX, &v->gas))
        return 0;
    if ((f->allow_asset != NULL) != (f->allow_amount != NULL)) {
        fprintf(stderr, "error: --allow-asset and --allow-amount go together\n");
        return 0;
    }
    if (f->allow_asset != NULL &&
        (!clearctl_parse_asset("--allow-asset", f->allow_asset) ||
         !clearctl_parse_u64("--allow-amount", f->allow_amount, 1, INT64_MAX, &v->allow_amount)))
        return 0;
    return 1;
}

int clearctl_contract_encode(const char *kind, const clearctl_contract_flags *f,
                             const clearctl_contract_vals *v, const char *chain_id,
                             uint64_t nonce, uint8_t **out, size_t *len) {
    Clearnode__V1__Tx tx;
    clearnode__v1__tx__init(&tx);
    tx.chain_id = (char *)(uintptr_t)chain_id;
    tx.nonce = nonce;
    Clearnode__V1__ContractDeploy d;
    clearnode__v1__contract_deploy__init(&d);
    Clearnode__V1__ContractCall c;
    clearnode__v1__contract_call__init(&c);
    int64_t args[8];
    memcpy(args, v->args, sizeof args);
    if (strcmp(kind, "deploy") == 0) {
        d.name = (char *)(uintptr_t)f->name;
        d.bytecode.data = v->code;
        d.bytecode.len = v->code_len;
        tx.kind_case = CLEARNODE__V1__TX__KIND_CONTRACT_DEPLOY;
        tx.contract_deploy = &d;
    } else {
        c.contract = (char *)(uintptr_t)f->contract;
        c.entry = (char *)(uintptr_t)f->entry;
        c.args = args;
        c.n_args = v->nargs;
        c.gas_limit = v->gas;
        if (f->allow_asset != NULL)
            c.allow_asset = (char *)(uintptr_t)f->allow_asset;
        c.allow_amount = v->allow_amount;
        tx.kind_case = CLEARNODE__V1__TX__KIND_CONTRACT_CALL;
        tx.contract_call = &c;
    }
    return cn_encode(&tx.base, CN_CAP_TX, out, len);
}

void clearctl_contract_free(clearctl_contract_vals *v) {
    free(v->code);
    v->code = NULL;
}
