/* Reads of the margin contract's storage (margin_store.h). */
#include "node/app/margin_store.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/bytes.h"
#include "node/app/margin.h"
#include "node/app/state.h"
#include "node/contract/chost.h"
#include "node/contract/contract.h"
#include "node/util/sorted.h"

int cn_margin_pos_get(cn_overlay *ov, const uint8_t cid[32], const uint8_t id[32],
                      int64_t asset, int64_t *qty, int64_t *cost, int64_t *liq) {
    uint8_t key[41], k[CN_CSTORE_PREFIX_LEN + CN_VM_MAX_KEY];
    key[0] = 'q';
    memcpy(key + 1, id, 32);
    cn_put_be64(key + 33, (uint64_t)asset);
    size_t kl = cn_cstore_key(k, cid, key, sizeof key);
    const uint8_t *v;
    size_t n;
    *qty = *cost = *liq = 0;
    int x = cn_overlay_get(ov, k, kl, &v, &n);
    if (x <= 0)
        return x;
    if (n != 24)
        return -1;
    *qty = (int64_t)cn_get_be64(v);
    *cost = (int64_t)cn_get_be64(v + 8);
    *liq = (int64_t)cn_get_be64(v + 16);
    return *qty != 0;
}

int cn_margin_deployed(cn_overlay *ov, uint8_t cid[32]) {
    cn_key k;
    cn_sk_named(&k, CN_SK_CONTRACT, CN_MARGIN_NAME);
    const uint8_t *v;
    size_t n;
    int x = cn_overlay_get(ov, k.b, k.len, &v, &n);
    if (x > 0)
        cn_contract_id(CN_MARGIN_NAME, cid);
    return x;
}

int cn_margin_word(cn_overlay *ov, const uint8_t cid[32], const uint8_t *key, size_t klen,
                   size_t off, int64_t *v) {
    uint8_t k[CN_CSTORE_PREFIX_LEN + CN_VM_MAX_KEY];
    size_t kl = cn_cstore_key(k, cid, key, klen);
    const uint8_t *p;
    size_t n;
    *v = 0;
    int x = cn_overlay_get(ov, k, kl, &p, &n);
    if (x <= 0 || n < off + 8)
        return x < 0 ? -1 : 0;
    *v = (int64_t)cn_get_be64(p + off);
    return 1;
}

int cn_margin_cash_claim(cn_overlay *ov, const uint8_t cid[32], const uint8_t id[32],
                         int64_t *claim) {
    uint8_t key[33], k[CN_CSTORE_PREFIX_LEN + CN_VM_MAX_KEY];
    key[0] = 'c';
    memcpy(key + 1, id, 32);
    size_t kl = cn_cstore_key(k, cid, key, sizeof key);
    const uint8_t *v;
    size_t n;
    *claim = 0;
    int x = cn_overlay_get(ov, k, kl, &v, &n);
    if (x <= 0)
        return x < 0 ? -1 : 1;
    if (n != 16)
        return -1; /* the contract always writes cash and its index */
    int64_t cash = (int64_t)cn_get_be64(v);
    *claim = cash > 0 ? cash : 0;
    return 1;
}

static int id_cmp(const void *a, const void *b) { return memcmp(a, b, 32); }

int cn_idset_add(cn_idset *s, const uint8_t id[32]) {
    int found;
    size_t lo = cn_lower_bound(s->id, s->n, sizeof *s->id, id, id_cmp, &found);
    if (found)
        return 1;
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 64;
        uint8_t(*x)[32] = realloc(s->id, nc * sizeof *x);
        if (!x)
            return 0;
        s->id = x;
        s->cap = nc;
    }
    memmove(s->id + lo + 1, s->id + lo, (s->n - lo) * sizeof *s->id);
    memcpy(s->id[lo], id, 32);
    s->n++;
    return 1;
}

void cn_idset_free(cn_idset *s) {
    free(s->id);
    memset(s, 0, sizeof *s);
}

/* Walks the contract keys of length klen in [from, to) in order through the runtime's host,
 * calling fn for each; fn returns 1 to go on, 0 to stop, -1 on failure. Returns the number
 * of keys walked, or -1. */
static int64_t walk(cn_crt *rt, const uint8_t *from, size_t flen, const uint8_t *to,
                    size_t tlen, size_t klen, int (*fn)(void *ctx, const uint8_t *key),
                    void *ctx) {
    static const uint8_t keeper[32];
    cn_chost hc;
    if (!cn_crt_host(rt, &hc, keeper))
        return -1;
    cn_vm_host host;
    cn_chost_table(&hc, &host);
    uint8_t lo[CN_VM_MAX_KEY + 1], key[CN_VM_MAX_KEY];
    size_t lol = flen, kl;
    memcpy(lo, from, flen);
    int64_t n = 0;
    for (;;) {
        int x = host.next(host.ctx, rt->id, lo, lol, to, tlen, key, &kl);
        if (x == 0)
            break;
        /* the layout is fixed: a key of another length means corrupt storage */
        int go = x < 0 || kl != klen ? -1 : fn(ctx, key);
        if (go < 0)
            n = -1;
        if (go <= 0)
            break;
        n++;
        memcpy(lo, key, kl); /* the next key after this one: append a zero byte */
        lo[kl] = 0;
        lol = kl + 1;
    }
    cn_chost_free(&hc);
    return n;
}

/* An index entry "x" asset side price account: adds the account. */
static int add_account(void *ctx, const uint8_t *key) {
    return cn_idset_add(ctx, key + 18) ? 1 : -1;
}

static int64_t scan(cn_crt *rt, const uint8_t *from, size_t flen, const uint8_t *to,
                    size_t tlen, cn_idset *out) {
    return walk(rt, from, flen, to, tlen, 50, add_account, out);
}

typedef struct {
    int64_t *assets;
    size_t n, max;
} held;

/* A position key "q" account asset: records the asset. */
static int add_asset(void *ctx, const uint8_t *key) {
    held *h = ctx;
    if (h->n == h->max)
        return 0;
    h->assets[h->n++] = (int64_t)cn_get_be64(key + 33);
    return 1;
}

long cn_margin_positions(cn_crt *rt, const uint8_t id[32], int64_t *assets, size_t max) {
    uint8_t lo[33], hi[33];
    lo[0] = 'q';
    memcpy(lo + 1, id, 32);
    memcpy(hi, lo, 33);
    /* the next 33-byte prefix: increment as a big-endian number */
    int i = 32;
    while (i > 0 && ++hi[i] == 0)
        i--;
    held h = {assets, 0, max};
    return walk(rt, lo, 33, hi, 33, 41, add_asset, &h) < 0 ? -1 : (long)h.n;
}

static size_t xkey(uint8_t *k, int64_t asset, uint8_t side, uint64_t price, int with_price) {
    k[0] = 'x';
    cn_put_be64(k + 1, (uint64_t)asset);
    k[9] = side;
    if (!with_price)
        return 10;
    cn_put_be64(k + 10, price);
    return 18;
}

int64_t cn_margin_crossing(cn_crt *rt, int64_t asset, int64_t price, cn_idset *out) {
    uint8_t a[18], b[18];
    if (price <= 0)
        return 0;
    /* longs: ["x" asset "L" P, "x" asset "M") */
    size_t al = xkey(a, asset, 'L', (uint64_t)price, 1), bl = xkey(b, asset, 'M', 0, 0);
    int64_t n1 = scan(rt, a, al, b, bl, out);
    if (n1 < 0)
        return -1;
    /* shorts: ["x" asset "S" 0, "x" asset "S" P+1) */
    al = xkey(a, asset, 'S', 0, 1);
    bl = xkey(b, asset, 'S', (uint64_t)price + 1u, 1);
    int64_t n2 = scan(rt, a, al, b, bl, out);
    return n2 < 0 ? -1 : n1 + n2;
}

int64_t cn_margin_holders(cn_crt *rt, int64_t asset, cn_idset *out) {
    uint8_t a[18], b[18];
    size_t al = xkey(a, asset, 'L', 0, 0), bl = xkey(b, asset, 'T', 0, 0);
    return scan(rt, a, al, b, bl, out);
}

int cn_margin_eval(cn_crt *rt, const uint8_t id[32], int64_t *equity, int64_t *im,
                   int64_t *mm) {
    int64_t a[5];
    cn_margin_words(id, a);
    const int which[3] = {0, 1, 2};
    int64_t *dst[3] = {equity, im, mm};
    for (int i = 0; i < 3; i++) {
        if (!dst[i])
            continue;
        a[4] = which[i];
        int x = cn_crt_view(rt, "requirements", a, 5, dst[i]);
        if (x <= 0)
            return x;
    }
    return 1;
}
