/* Ordered range scans of the overlay (overlay_scan.h). The overlay's map has no order, so its
 * keys in range are collected and sorted, then merged with the snapshot's; every candidate
 * is read back through the overlay, which drops this block's deletes and gives this block's
 * values. */
#include "node/app/overlay_scan.h"

#include <stdlib.h>
#include <string.h>

static int key_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl) {
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c)
        return c;
    return al < bl ? -1 : al > bl;
}

static int in_range(const uint8_t *k, size_t kl, const uint8_t *prefix, size_t plen,
                    const uint8_t *lo, size_t lol, const uint8_t *hi, size_t hil) {
    return kl >= plen && memcmp(k, prefix, plen) == 0 && key_cmp(k, kl, lo, lol) >= 0 &&
           (hil == 0 || key_cmp(k, kl, hi, hil) < 0);
}

typedef struct {
    const uint8_t *k;
    size_t kl;
} kref;

static int kref_cmp(const void *a, const void *b) {
    const kref *x = a, *y = b;
    return key_cmp(x->k, x->kl, y->k, y->kl);
}

void cn_scan_free(cn_scan_row *rows, long n) {
    for (long i = 0; i < n && rows; i++)
        free(rows[i].key);
    free(rows);
}

static int push(kref **v, size_t *n, size_t *cap, const uint8_t *k, size_t kl) {
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 32;
        kref *x = realloc(*v, nc * sizeof *x);
        if (!x)
            return 0;
        *v = x;
        *cap = nc;
    }
    (*v)[*n].k = k;
    (*v)[(*n)++].kl = kl;
    return 1;
}

long cn_overlay_scan(cn_overlay *ov, const uint8_t *prefix, size_t plen, const uint8_t *lo,
                     size_t lol, const uint8_t *hi, size_t hil, size_t max, cn_scan_row **out) {
    *out = NULL;
    kref *v = NULL;
    size_t n = 0, cap = 0;
    long res = -1;
    cn_store_iter *it = NULL;
    /* snapshot keys are copied: the iterator's pointers end with it */
    uint8_t **copies = NULL;
    size_t ncopies = 0;
    size_t pos = 0;
    const uint8_t *k;
    size_t kl;
    void *val;
    while (cn_bmap_next(&ov->map, &pos, &k, &kl, &val))
        if (in_range(k, kl, prefix, plen, lo, lol, hi, hil) && !push(&v, &n, &cap, k, kl))
            goto done;
    if (ov->base) {
        if (cn_store_iter_read(&it, ov->base, CN_DB_STATE, prefix, plen, lo, lol, 0) !=
            CN_STORE_OK)
            goto done;
        for (size_t taken = 0; taken <= max;) {
            const void *sk, *sv;
            size_t skl, svl;
            cn_store_err e = cn_store_iter_next(it, &sk, &skl, &sv, &svl);
            if (e == CN_STORE_NOTFOUND)
                break;
            if (e != CN_STORE_OK)
                goto done;
            if (!in_range(sk, skl, prefix, plen, lo, lol, hi, hil))
                break;
            uint8_t **nc = realloc(copies, (ncopies + 1) * sizeof *nc);
            if (!nc)
                goto done;
            copies = nc;
            if (!(copies[ncopies] = malloc(skl ? skl : 1)))
                goto done;
            memcpy(copies[ncopies], sk, skl);
            if (!push(&v, &n, &cap, copies[ncopies++], skl))
                goto done;
            /* a key this block deleted does not count towards max */
            const uint8_t *x;
            size_t xl;
            int r = cn_overlay_get(ov, sk, skl, &x, &xl);
            if (r < 0)
                goto done;
            taken += (size_t)r;
        }
    }
    if (n > 1)
        qsort(v, n, sizeof *v, kref_cmp);
    cn_scan_row *rows = calloc(n ? n : 1, sizeof *rows);
    if (!rows)
        goto done;
    long m = 0;
    for (size_t i = 0; i < n && (size_t)m < max; i++) {
        if (i > 0 && key_cmp(v[i].k, v[i].kl, v[i - 1].k, v[i - 1].kl) == 0)
            continue;
        const uint8_t *x;
        size_t xl;
        int r = cn_overlay_get(ov, v[i].k, v[i].kl, &x, &xl);
        if (r < 0) {
            cn_scan_free(rows, m);
            goto done;
        }
        if (r == 0)
            continue;
        rows[m].key = malloc(v[i].kl + xl + 1);
        if (!rows[m].key) {
            cn_scan_free(rows, m);
            goto done;
        }
        memcpy(rows[m].key, v[i].k, v[i].kl);
        rows[m].klen = v[i].kl;
        rows[m].val = rows[m].key + v[i].kl;
        memcpy(rows[m].val, x, xl);
        rows[m].vlen = xl;
        m++;
    }
    *out = rows;
    res = m;
done:
    cn_store_iter_close(it);
    for (size_t i = 0; i < ncopies; i++)
        free(copies[i]);
    free(copies);
    free(v);
    return res;
}
