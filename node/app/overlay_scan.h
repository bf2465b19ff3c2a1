/* Ordered range scans of the block overlay: the live keys of [lo, hi) in key order, merging
 * the committed snapshot (less this block's deletes) with this block's puts. */
#ifndef CLEARNODE_NODE_APP_OVERLAY_SCAN_H
#define CLEARNODE_NODE_APP_OVERLAY_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "node/app/overlay.h"

/* One key found by a scan (malloc'd copy of key and value). */
typedef struct {
    uint8_t *key;
    size_t klen;
    uint8_t *val;
    size_t vlen;
} cn_scan_row;

/* Collects the live keys in [lo, hi) that start with prefix (prefix must be a prefix of lo
 * and of every key wanted), sorted by key bytes (shorter first on a tie), at most `max` rows.
 * Returns the number of rows in *out (free with cn_scan_free), or -1 on a storage failure or
 * no memory. Costs the keys of the range plus one pass over the overlay's writes. */
long cn_overlay_scan(cn_overlay *ov, const uint8_t *prefix, size_t plen, const uint8_t *lo,
                     size_t lol, const uint8_t *hi, size_t hil, size_t max, cn_scan_row **out);
void cn_scan_free(cn_scan_row *rows, long n);

#endif
