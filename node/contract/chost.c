/* The node's VM host over the block overlay (chost.h).
 *
 * Range scans (storage_next) merge two sources in key order: the committed snapshot, walked
 * with a store iterator from the lower bound and skipping keys this block deleted, and the
 * block overlay's own writes. The overlay's map has no order, so the first scan of a call
 * collects the overlay keys in the contract's namespace into a sorted index (one pass over
 * the block's writes); later scans binary-search it. The block overlay does not change during
 * a call (the call's own writes are in the VM overlay, which the VM merges itself).
 */
#include "node/contract/chost.h"

#include <stdlib.h>
#include <string.h>

#include "contracts/vm/overlay.h"
#include "node/app/oracle_view.h"
#include "node/app/state.h"
#include "node/contract/contract.h"

size_t cn_cstore_key(uint8_t out[CN_CSTORE_PREFIX_LEN + CN_VM_MAX_KEY], const uint8_t id[32],
                     const uint8_t *key, size_t klen) {
    out[0] = CN_SK_CSTORE;
    memcpy(out + 1, id, 32);
    if (klen)
        memcpy(out + CN_CSTORE_PREFIX_LEN, key, klen);
    return CN_CSTORE_PREFIX_LEN + klen;
}

static int h_get(void *ctx, const uint8_t contract[CN_VM_ID_LEN], const uint8_t *key,
                 size_t klen, uint8_t *val, size_t cap, size_t *len) {
    cn_chost *c = ctx;
    if (klen == 0 || klen > CN_VM_MAX_KEY)
        return -1;
    uint8_t k[CN_CSTORE_PREFIX_LEN + CN_VM_MAX_KEY];
    size_t kl = cn_cstore_key(k, contract, key, klen);
    const uint8_t *v;
    size_t vl;
    int r = cn_overlay_get(c->ov, k, kl, &v, &vl);
    if (r <= 0)
        return r;
    *len = vl;
    if (cap && val)
        memcpy(val, v, vl < cap ? vl : cap);
    return 1;
}

/* Is k (full state key) in [lo, hi) where hi_len 0 means unbounded? */
static int in_range(const uint8_t *k, size_t kl, const uint8_t *lo, size_t lol, const uint8_t *hi,
                    size_t hil) {
    if (cn_vm_key_cmp(k, (uint32_t)kl, lo, (uint32_t)lol) < 0)
        return 0;
    return hil == 0 || cn_vm_key_cmp(k, (uint32_t)kl, hi, (uint32_t)hil) < 0;
}

static int key_order(const void *a, const void *b) {
    const struct cn_chost_key *x = a, *y = b;
    return cn_vm_key_cmp(x->k, (uint32_t)x->kl, y->k, (uint32_t)y->kl);
}

/* Builds the sorted index of overlay keys under prefix (33 bytes). Returns 1, or 0 on no
 * memory. */
static int build_index(cn_chost *c, const uint8_t *prefix) {
    size_t pos = 0, n = 0, cap = 0;
    const uint8_t *k;
    size_t kl;
    void *val;
    while (cn_bmap_next(&c->ov->map, &pos, &k, &kl, &val)) {
        if (kl <= CN_CSTORE_PREFIX_LEN || kl > CN_CSTORE_PREFIX_LEN + CN_VM_MAX_KEY ||
            memcmp(k, prefix, CN_CSTORE_PREFIX_LEN) != 0)
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            struct cn_chost_key *x = realloc(c->idx, nc * sizeof *x);
            if (!x)
                return 0;
            c->idx = x;
            cap = nc;
        }
        c->idx[n].k = k;
        c->idx[n].kl = kl;
        n++;
    }
    if (n > 1)
        qsort(c->idx, n, sizeof *c->idx, key_order);
    c->nidx = n;
    return 1;
}

void cn_chost_free(cn_chost *ctx) {
    if (!ctx->borrowed)
        free(ctx->idx);
    ctx->idx = NULL;
    ctx->nidx = 0;
    ctx->indexed = 0;
}

static int h_next(void *ctx, const uint8_t contract[CN_VM_ID_LEN], const uint8_t *from,
                  size_t flen, const uint8_t *to, size_t tlen, uint8_t key[CN_VM_MAX_KEY],
                  size_t *klen) {
    cn_chost *c = ctx;
    if (flen > CN_VM_MAX_KEY || tlen > CN_VM_MAX_KEY)
        return -1;
    uint8_t lo[CN_CSTORE_PREFIX_LEN + CN_VM_MAX_KEY], hi[CN_CSTORE_PREFIX_LEN + CN_VM_MAX_KEY];
    size_t lol = cn_cstore_key(lo, contract, from, flen);
    size_t hil = tlen ? cn_cstore_key(hi, contract, to, tlen) : 0;
    uint8_t best[CN_CSTORE_PREFIX_LEN + CN_VM_MAX_KEY];
    size_t bestl = 0;
    int found = 0;
    /* 1. The snapshot, from the lower bound, skipping keys deleted in this block. */
    if (c->ov->base) {
        cn_store_iter *it = NULL;
        if (cn_store_iter_read(&it, c->ov->base, CN_DB_STATE, lo, CN_CSTORE_PREFIX_LEN, lo, lol,
                               0) != CN_STORE_OK)
            return -1;
        for (;;) {
            const void *k, *v;
            size_t kl, vl;
            cn_store_err e = cn_store_iter_next(it, &k, &kl, &v, &vl);
            if (e == CN_STORE_NOTFOUND)
                break;
            if (e != CN_STORE_OK || kl > sizeof best) {
                cn_store_iter_close(it);
                return -1;
            }
            if (!in_range(k, kl, lo, lol, hi, hil))
                break;
            const uint8_t *ov_v;
            size_t ov_l;
            int r = cn_overlay_get(c->ov, k, kl, &ov_v, &ov_l);
            if (r < 0) {
                cn_store_iter_close(it);
                return -1;
            }
            if (r == 1) {
                memcpy(best, k, kl);
                bestl = kl;
                found = 1;
                break;
            }
        }
        cn_store_iter_close(it);
    }
    /* 2. This block's own puts in range, if smaller: the first live key >= lo in the index. */
    if (c->indexed == 0)
        c->indexed = build_index(c, lo) ? 1 : -1;
    if (c->indexed < 0)
        return -1;
    size_t a = 0, b = c->nidx;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (cn_vm_key_cmp(c->idx[m].k, (uint32_t)c->idx[m].kl, lo, (uint32_t)lol) < 0)
            a = m + 1;
        else
            b = m;
    }
    for (; a < c->nidx; a++) {
        const uint8_t *k = c->idx[a].k;
        size_t kl = c->idx[a].kl;
        if (!in_range(k, kl, lo, lol, hi, hil) ||
            (found && cn_vm_key_cmp(k, (uint32_t)kl, best, (uint32_t)bestl) >= 0))
            break;
        const uint8_t *ov_v;
        size_t ov_l;
        int r = cn_overlay_get(c->ov, k, kl, &ov_v, &ov_l);
        if (r < 0)
            return -1;
        if (r == 1) { /* a put; a delete hides nothing here (the snapshot walk skipped it) */
            memcpy(best, k, kl);
            bestl = kl;
            found = 1;
            break;
        }
    }
    if (!found)
        return 0;
    *klen = bestl - CN_CSTORE_PREFIX_LEN;
    memcpy(key, best + CN_CSTORE_PREFIX_LEN, *klen);
    return 1;
}

static int h_price(void *ctx, int64_t asset, int64_t *price) {
    cn_chost *c = ctx;
    return cn_oracle_view_price(c->ov, c->g, asset, price);
}

static int h_halted(void *ctx, int64_t asset) {
    cn_chost *c = ctx;
    return cn_oracle_view_halted(c->ov, c->g, asset);
}

/* Judges a transfer by the authority rules in contract.h. */
static int h_transfer(void *ctx, const uint8_t contract[CN_VM_ID_LEN],
                      const uint8_t from[CN_VM_ID_LEN], const uint8_t to[CN_VM_ID_LEN],
                      int64_t asset, int64_t amount, int64_t pending) {
    cn_chost *c = ctx;
    if (asset < 0 || (uint64_t)asset >= c->g->n_assets || amount <= 0 ||
        memcmp(from, to, 32) == 0)
        return CN_VM_TRANSFER_DENIED;
    const char *sym = c->g->assets[asset].symbol;
    int own = memcmp(from, contract, 32) == 0, caller = memcmp(from, c->caller, 32) == 0;
    if (!own && !caller)
        return CN_VM_TRANSFER_DENIED;
    int64_t out;
    if (__builtin_sub_overflow(amount, pending, &out)) /* net outflow after this one */
        return CN_VM_TRANSFER_DENIED;
    if (!own && (asset != c->allow_asset || out > c->allow_amount))
        return CN_VM_TRANSFER_DENIED;
    if (memcmp(to, contract, 32) != 0) {
        cn_account a;
        int r = cn_state_get_account(c->ov, to, &a);
        if (r < 0)
            return -1;
        if (r == 0)
            return CN_VM_TRANSFER_DENIED;
    }
    int64_t bal;
    if (cn_state_get_balance(c->ov, from, sym, &bal) < 0)
        return -1;
    return out > bal ? CN_VM_TRANSFER_SHORT : CN_VM_TRANSFER_OK;
}

void cn_chost_table(cn_chost *ctx, cn_vm_host *h) {
    memset(h, 0, sizeof *h);
    h->ctx = ctx;
    h->get = h_get;
    h->next = h_next;
    h->price = h_price;
    h->halted = h_halted;
    h->transfer = h_transfer;
}
