/* `clearctl tx deploy` and `clearctl tx call`: flags, checks and the Tx body. */
#ifndef CLEARNODE_CLEARCTL_TX_CONTRACT_H
#define CLEARNODE_CLEARCTL_TX_CONTRACT_H

#include <stddef.h>
#include <stdint.h>

/* The contract flags as given (NULL when absent). */
typedef struct {
    const char *name, *bytecode;                  /* deploy */
    const char *contract, *entry, *args, *gas;    /* call */
    const char *allow_asset, *allow_amount;       /* call */
} clearctl_contract_flags;

/* The checked values. */
typedef struct {
    uint8_t *code; /* malloc'd bytecode (deploy) */
    size_t code_len;
    int64_t args[8];
    size_t nargs;
    uint64_t gas, allow_amount;
} clearctl_contract_vals;

/* 1 for "deploy" and "call". */
int clearctl_contract_kind(const char *kind);
/* For contract kinds: checks the flags (reading or assembling --bytecode) into v. For other
 * kinds: refuses any contract flag. Returns 1, or 0 after printing the problem. */
int clearctl_contract_check(const char *kind, const clearctl_contract_flags *f,
                            clearctl_contract_vals *v);
/* Encodes the Tx body of a contract kind. Returns 1 with *out malloc'd. */
int clearctl_contract_encode(const char *kind, const clearctl_contract_flags *f,
                             const clearctl_contract_vals *v, const char *chain_id,
                             uint64_t nonce, uint8_t **out, size_t *len);
void clearctl_contract_free(clearctl_contract_vals *v);

#endif
