/* Merged forward cursor over one key prefix (overlay_cursor.h). Both sides are in the same
 * order as LMDB's default comparison: bytes, then the shorter key first. */
#include "node/app/overlay_cursor.h"

#include <string.h>

static int key_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl) {
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c)
        return c;
    return (al > bl) - (al < bl);
}

static int has_prefix(const cn_ov_write *w, const uint8_t *p, size_t pl) {
    return w->klen >= pl && memcmp(w->key, p, pl) == 0;
}

int cn_ov_cursor_open(cn_ov_cursor *c, cn_overlay *ov, const cn_ov_write *writes, size_t n,
                      const uint8_t *prefix, size_t plen) {
    memset(c, 0, sizeof *c);
    /* the writes under the prefix are one run of the sorted set: find its first entry */
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (key_cmp(writes[mid].key, writes[mid].klen, prefix, plen) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t end = lo;
    while (end < n && has_prefix(&writes[end], prefix, plen))
        end++;
    c->w = writes + lo;
    c->wn = end - lo;
    c->s_step = 1;
    if (ov->base && cn_store_iter_read(&c->it, ov->base, CN_DB_STATE, prefix, plen, NULL, 0,
                                       0) != CN_STORE_OK) {
        ov->failed = 1;
        return 0;
    }
    return 1;
}

/* Moves the snapshot side one key on: 1 there is a row, 0 end, -1 failure. */
static int snap_step(cn_ov_cursor *c) {
    c->s_has = 0;
    if (!c->it)
        return 0;
    cn_store_err e = cn_store_iter_next(c->it, &c->sk, &c->skl, &c->sv, &c->svl);
    if (e == CN_STORE_NOTFOUND)
        return 0;
    if (e != CN_STORE_OK)
        return -1;
    c->s_has = 1;
    return 1;
}

int cn_ov_cursor_next(cn_ov_cursor *c, const uint8_t **k, size_t *kl, const uint8_t **v,
                      size_t *vl) {
    if (c->s_step) {
        c->s_step = 0;
        if (snap_step(c) < 0)
            return -1;
    }
    for (;;) {
        const cn_ov_write *w = c->wi < c->wn ? &c->w[c->wi] : NULL;
        if (!w && !c->s_has)
            return 0;
        int cmp = !w ? -1 : !c->s_has ? 1 : key_cmp(c->sk, c->skl, w->key, w->klen);
        if (cmp < 0) {
            /* a committed key this block did not touch: hand it out, step past it next time */
            *k = c->sk;
            *kl = c->skl;
            *v = c->sv;
            *vl = c->svl;
            c->s_step = 1;
            return 1;
        }
        if (cmp == 0 && snap_step(c) < 0) /* the block's write replaces the committed row */
            return -1;
        c->wi++;
        if (w->op == CN_OV_PUT) {
            *k = w->key;
            *kl = w->klen;
            *v = w->val;
            *vl = w->vlen;
            return 1;
        }
    }
}

void cn_ov_cursor_close(cn_ov_cursor *c) {
    cn_store_iter_close(c->it);
    c->it = NULL;
}
