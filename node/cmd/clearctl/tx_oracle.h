/* `clearctl tx oracle-report`: flags, checks and the Tx body. */
#ifndef CLEARNODE_CLEARCTL_TX_ORACLE_H
#define CLEARNODE_CLEARCTL_TX_ORACLE_H

#include <stddef.h>
#include <stdint.h>

/* The oracle flags as given (NULL when absent); --asset is the common kind flag. */
typedef struct {
    const char *price, *observed_at, *round;
} clearctl_oracle_flags;

typedef struct {
    uint64_t price, observed_at, round;
} clearctl_oracle_vals;

/* 1 for "oracle-report". */
int clearctl_oracle_kind(const char *kind);
/* For oracle-report: checks --asset, --price (1..2^63-1 micro-USD), --observed-at (ms;
 * default: now) and --round (>= 1). For other kinds: refuses the oracle flags. Returns 1,
 * or 0 after printing the problem. */
int clearctl_oracle_check(const char *kind, const char *asset, const clearctl_oracle_flags *f,
                          clearctl_oracle_vals *v);
/* Encodes the Tx body. Returns 1 with *out malloc'd. */
int clearctl_oracle_encode(const char *asset, const clearctl_oracle_vals *v,
                           const char *chain_id, uint64_t nonce, uint8_t **out, size_t *len);

#endif
