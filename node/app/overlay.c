/* State overlay with an undo journal (see overlay.h). */
#include "node/app/overlay.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "crypto/hash.h"

typedef struct {
    uint8_t *val; /* malloc'd; NULL for a delete or an empty value */
    size_t vlen;
    int op;
} ov_entry;

struct cn_ov_journal {
    uint8_t *key; /* malloc'd copy */
    size_t klen;
    int had;       /* the key had an overlay entry before this write */
    ov_entry prev; /* that entry (its value is owned by the journal) */
};

static const uint8_t empty_val[1] = {0};

void cn_overlay_init(cn_overlay *ov, cn_store_rtxn *base) {
    memset(ov, 0, sizeof *ov);
    ov->base = base;
    cn_bmap_init(&ov->map);
}

void cn_overlay_free(cn_overlay *ov) {
    cn_overlay_release(ov);
    free(ov->journal);
    size_t pos = 0;
    const uint8_t *k;
    size_t kl;
    void *v;
    while (cn_bmap_next(&ov->map, &pos, &k, &kl, &v)) {
        ov_entry *e = v;
        free(e->val);
        free(e);
    }
    cn_bmap_free(&ov->map);
    memset(ov, 0, sizeof *ov);
}

int cn_overlay_get(cn_overlay *ov, const void *key, size_t klen, const uint8_t **val,
                   size_t *vlen) {
    ov_entry *e = cn_bmap_get(&ov->map, key, klen);
    if (e) {
        if (e->op == CN_OV_DEL)
            return 0;
        *val = e->val ? e->val : empty_val;
        *vlen = e->vlen;
        return 1;
    }
    if (!ov->base)
        return 0;
    const void *v;
    size_t n;
    cn_store_err err = cn_store_read_get(ov->base, CN_DB_STATE, key, klen, &v, &n);
    if (err == CN_STORE_NOTFOUND)
        return 0;
    if (err != CN_STORE_OK) {
        ov->failed = 1;
        return -1;
    }
    *val = v;
    *vlen = n;
    return 1;
}

/* Records the key's current overlay entry in the journal before it changes. */
static int journal_push(cn_overlay *ov, const void *key, size_t klen, ov_entry *cur) {
    if (ov->jlen == ov->jcap) {
        size_t cap = ov->jcap ? ov->jcap * 2 : 64;
        cn_ov_journal *j = realloc(ov->journal, cap * sizeof *j);
        if (!j)
            return 0;
        ov->journal = j;
        ov->jcap = cap;
    }
    cn_ov_journal *j = &ov->journal[ov->jlen];
    j->key = malloc(klen);
    if (!j->key)
        return 0;
    memcpy(j->key, key, klen);
    j->klen = klen;
    j->had = cur != NULL;
    if (cur)
        j->prev = *cur;
    else
        memset(&j->prev, 0, sizeof j->prev);
    ov->jlen++;
    return 1;
}

/* Sets the overlay entry of key to (op, val). */
static int set_entry(cn_overlay *ov, const void *key, size_t klen, int op, const void *val,
                     size_t vlen) {
    uint8_t *copy = NULL;
    if (op == CN_OV_PUT && vlen) {
        copy = malloc(vlen);
        if (!copy)
            return 0;
        memcpy(copy, val, vlen);
    }
    ov_entry *e = cn_bmap_get(&ov->map, key, klen);
    if (!journal_push(ov, key, klen, e)) {
        free(copy);
        return 0;
    }
    if (e) {
        /* The journal now owns the old value. */
        e->val = copy;
        e->vlen = op == CN_OV_PUT ? vlen : 0;
        e->op = op;
        return 1;
    }
    e = malloc(sizeof *e);
    if (!e || !cn_bmap_put(&ov->map, key, klen, e, NULL)) {
        free(e);
        free(copy);
        ov->jlen--;
        free(ov->journal[ov->jlen].key);
        return 0;
    }
    e->val = copy;
    e->vlen = op == CN_OV_PUT ? vlen : 0;
    e->op = op;
    return 1;
}

int cn_overlay_put(cn_overlay *ov, const void *key, size_t klen, const void *val, size_t vlen) {
    return set_entry(ov, key, klen, CN_OV_PUT, val, vlen);
}

int cn_overlay_del(cn_overlay *ov, const void *key, size_t klen) {
    const uint8_t *v;
    size_t n;
    int r = cn_overlay_get(ov, key, klen, &v, &n);
    if (r < 0)
        return 0;
    if (r == 0)
        return 1;
    return set_entry(ov, key, klen, CN_OV_DEL, NULL, 0);
}

size_t cn_overlay_mark(const cn_overlay *ov) { return ov->jlen; }

void cn_overlay_rollback(cn_overlay *ov, size_t mark) {
    while (ov->jlen > mark) {
        cn_ov_journal *j = &ov->journal[--ov->jlen];
        if (j->had) {
            ov_entry *e = cn_bmap_get(&ov->map, j->key, j->klen);
            if (e) {
                free(e->val);
                *e = j->prev;
            }
        } else {
            ov_entry *e = cn_bmap_del(&ov->map, j->key, j->klen);
            if (e) {
                free(e->val);
                free(e);
            }
        }
        free(j->key);
    }
}

void cn_overlay_release(cn_overlay *ov) {
    for (size_t i = 0; i < ov->jlen; i++) {
        if (ov->journal[i].had)
            free(ov->journal[i].prev.val);
        free(ov->journal[i].key);
    }
    ov->jlen = 0;
}

static int cmp_write(const void *a, const void *b) {
    const cn_ov_write *x = a, *y = b;
    size_t n = x->klen < y->klen ? x->klen : y->klen;
    int c = memcmp(x->key, y->key, n);
    if (c)
        return c;
    return (x->klen > y->klen) - (x->klen < y->klen);
}

cn_ov_write *cn_overlay_writes(cn_overlay *ov, size_t *n) {
    *n = 0;
    if (ov->map.count == 0)
        return NULL;
    cn_ov_write *w = malloc(ov->map.count * sizeof *w);
    if (!w) {
        *n = SIZE_MAX;
        return NULL;
    }
    size_t pos = 0, i = 0;
    const uint8_t *k;
    size_t kl;
    void *v;
    while (cn_bmap_next(&ov->map, &pos, &k, &kl, &v)) {
        ov_entry *e = v;
        w[i++] = (cn_ov_write){k, kl, e->op == CN_OV_PUT ? (e->val ? e->val : empty_val) : NULL,
                               e->vlen, e->op};
    }
    qsort(w, i, sizeof *w, cmp_write);
    *n = i;
    return w;
}

void cn_overlay_hash_writes(const cn_ov_write *w, size_t n, uint8_t out[32]) {
    cn_hasher h;
    cn_hasher_start(&h, CN_TAG_WRITESET);
    for (size_t i = 0; i < n; i++) {
        cn_hasher_bytes(&h, w[i].key, w[i].klen);
        cn_hasher_u8(&h, (uint8_t)w[i].op);
        cn_hasher_bytes(&h, w[i].val ? w[i].val : empty_val, w[i].vlen);
    }
    cn_hasher_finish(&h, out);
}

void cn_overlay_dump(const cn_ov_write *w, size_t n, FILE *out) {
    for (size_t i = 0; i < n; i++) {
        char kh[2 * CN_STORE_MAX_KEY + 1], vh[65];
        uint8_t d[32];
        cn_hex_encode(kh, w[i].key, w[i].klen);
        cn_sha256(d, w[i].val ? w[i].val : empty_val, w[i].vlen);
        cn_hex_encode(vh, d, 32);
        fprintf(out, "%s %s %s\n", w[i].op == CN_OV_PUT ? "put" : "del", kh, vh);
    }
}
