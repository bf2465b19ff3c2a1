/* A forward cursor over the live keys under one prefix of the block overlay: the committed
 * snapshot merged with the block's sorted write set, one LMDB cursor step per key.
 *
 * For passes over a whole key family (the reserves epoch reads every account's balances):
 * a point read through the overlay costs a hash probe and an LMDB descent per key, a cursor
 * step costs a fraction of that. overlay_scan.h is for bounded ranges and copies its rows;
 * this copies nothing. */
#ifndef CLEARNODE_NODE_APP_OVERLAY_CURSOR_H
#define CLEARNODE_NODE_APP_OVERLAY_CURSOR_H

#include <stddef.h>
#include <stdint.h>

#include "node/app/overlay.h"

typedef struct {
    cn_store_iter *it;     /* the snapshot's keys under the prefix; NULL without a base */
    const void *sk, *sv;   /* its current row, when s_has */
    size_t skl, svl;
    int s_has;
    int s_step; /* the snapshot side must move on before it is compared */
    const cn_ov_write *w;  /* this block's writes under the prefix, in key order */
    size_t wn, wi;
} cn_ov_cursor;

/* Opens a cursor over the keys of `ov` that start with prefix[0..plen). `writes` is the
 * overlay's sorted write set (cn_overlay_writes, n entries) and must stay unchanged while the
 * cursor is used: nothing may be written to the overlay until it is closed. Returns 1, or 0
 * on a storage failure. */
int cn_ov_cursor_open(cn_ov_cursor *c, cn_overlay *ov, const cn_ov_write *writes, size_t n,
                      const uint8_t *prefix, size_t plen);

/* The next live key in order: 1 with *k, *v valid until the next step, 0 at the end, -1 on a
 * storage failure. A key this block deleted is skipped; one it wrote gives its new value. */
int cn_ov_cursor_next(cn_ov_cursor *c, const uint8_t **k, size_t *kl, const uint8_t **v,
                      size_t *vl);

void cn_ov_cursor_close(cn_ov_cursor *c);

#endif
