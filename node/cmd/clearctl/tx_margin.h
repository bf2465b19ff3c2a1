/* `clearctl tx open` and `clearctl tx close`: flags, checks and the Tx body (open_position,
 * close_position; docs/client.md, docs/margin.md). */
#ifndef CLEARNODE_CLEARCTL_TX_MARGIN_H
#define CLEARNODE_CLEARCTL_TX_MARGIN_H

#include <stddef.h>
#include <stdint.h>

/* The margin flags as given (NULL when absent); --asset is the common kind flag. */
typedef struct {
    const char *side, *quantity, *limit_price;
} clearctl_margin_flags;

typedef struct {
    int side; /* clearnode.v1.Side */
    uint64_t quantity, limit_price;
} clearctl_margin_vals;

/* 1 for "open" and "close". */
int clearctl_margin_kind(const char *kind);
/* For open/close: checks --asset, --side long|short, --quantity (open: >= 1; close: >= 0, 0
 * or absent closes the whole position) and --limit-price (optional, micro-USD). For other
 * kinds: refuses these flags. Returns 1, or 0 after printing the problem. */
int clearctl_margin_check(const char *kind, const char *asset, const clearctl_margin_flags *f,
                          clearctl_margin_vals *v);
/* Encodes the Tx body. Returns 1 with *out malloc'd. */
int clearctl_margin_encode(const char *kind, const char *asset, const clearctl_margin_vals *v,
                           const char *chain_id, uint64_t nonce, uint8_t **out, size_t *len);

#endif
