/* The state overlay: a block's pending writes over a read snapshot of the committed state.
 *
 * Block execution reads through the overlay (its own writes first, then the snapshot) and
 * writes only into it; nothing reaches LMDB until commit copies the write set into one store
 * batch. A journal makes each transaction atomic: take a mark before executing it, roll back
 * to the mark if it fails, release the journal when it succeeds, so a failed transaction never
 * leaves half its writes behind.
 *
 * The write set (every key written, with its final value or a delete) sorted by key bytes is
 * hashed into the app hash (DESIGN.md §6):
 *   ws = H_tag("clearnode/writeset", for each write in key order:
 *                u32 klen || key || u8 op (1 put, 2 delete) || u32 vlen || value)
 * A validator that computes a different app hash can print its sorted write set
 * (cn_overlay_dump) and compare it key by key with another's.
 */
#ifndef CLEARNODE_NODE_APP_OVERLAY_H
#define CLEARNODE_NODE_APP_OVERLAY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "node/store/store.h"
#include "node/util/bmap.h"

enum { CN_OV_PUT = 1, CN_OV_DEL = 2 };

typedef struct {
    const uint8_t *key;
    size_t klen;
    const uint8_t *val; /* NULL for a delete */
    size_t vlen;
    int op;
} cn_ov_write;

typedef struct cn_ov_journal cn_ov_journal;

typedef struct {
    cn_store_rtxn *base; /* committed state; NULL reads as empty */
    cn_bmap map;         /* key -> struct ov_entry * */
    cn_ov_journal *journal;
    size_t jlen, jcap;
    int failed; /* a base read failed: the block cannot be trusted */
} cn_overlay;

void cn_overlay_init(cn_overlay *ov, cn_store_rtxn *base);
/* Frees every entry and the journal; the base snapshot is the caller's. */
void cn_overlay_free(cn_overlay *ov);

/* Reads key: 1 found (*val valid until the next write to that key or the snapshot ends),
 * 0 absent, -1 storage error (also sets ov->failed). */
int cn_overlay_get(cn_overlay *ov, const void *key, size_t klen, const uint8_t **val,
                   size_t *vlen);
/* Writes key. Returns 1, or 0 if memory ran out (nothing changed). */
int cn_overlay_put(cn_overlay *ov, const void *key, size_t klen, const void *val, size_t vlen);
/* Deletes key (a no-op returning 1 when it is already absent). 0 on memory or read failure. */
int cn_overlay_del(cn_overlay *ov, const void *key, size_t klen);

/* Journal: a mark, rollback to it, and release (keep writes, forget how to undo them). */
size_t cn_overlay_mark(const cn_overlay *ov);
void cn_overlay_rollback(cn_overlay *ov, size_t mark);
void cn_overlay_release(cn_overlay *ov);

/* The write set sorted by key: a malloc'd array of *n entries pointing into the overlay
 * (valid until the next write). Returns NULL with *n 0 for an empty set or on no memory
 * (*n = SIZE_MAX then). */
cn_ov_write *cn_overlay_writes(cn_overlay *ov, size_t *n);

/* Hashes a sorted write set as described above. */
void cn_overlay_hash_writes(const cn_ov_write *w, size_t n, uint8_t out[32]);

/* Prints a write set, one line per key: op, key hex, H(value) hex. For app-hash mismatches. */
void cn_overlay_dump(const cn_ov_write *w, size_t n, FILE *out);

#endif
