/* Mempool (see mempool.h): a map of tx ids plus a nonce-sorted queue per signer. */
#include "node/mempool/mempool.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/app/state.h"
#include "node/chain/block.h"
#include "node/util/bmap.h"

typedef struct mp_sender mp_sender;

typedef struct {
    uint8_t hash[32];
    uint8_t *bytes;
    size_t len;
    uint64_t nonce;
    uint64_t seq; /* arrival order */
    mp_sender *sender;
} mp_entry;

struct mp_sender {
    uint8_t pub[32];
    uint64_t next;    /* committed next nonce */
    mp_entry **q;     /* sorted by nonce */
    size_t n, cap;
    int dirty;
};

struct cn_mempool {
    cn_app *app;
    cn_mempool_limits lim;
    cn_bmap txs;     /* id -> mp_entry */
    cn_bmap senders; /* pubkey -> mp_sender */
    size_t count;
    uint64_t bytes;
    uint64_t seq;
    uint64_t rejected[100];
};

cn_mempool *cn_mempool_new(cn_app *app, const cn_mempool_limits *limits) {
    cn_mempool *mp = calloc(1, sizeof *mp);
    if (!mp)
        return NULL;
    mp->app = app;
    mp->lim = *limits;
    cn_bmap_init(&mp->txs);
    cn_bmap_init(&mp->senders);
    return mp;
}

static void free_entry(mp_entry *e) {
    free(e->bytes);
    free(e);
}

void cn_mempool_free(cn_mempool *mp) {
    if (!mp)
        return;
    size_t pos = 0;
    const uint8_t *k;
    size_t kl;
    void *v;
    while (cn_bmap_next(&mp->txs, &pos, &k, &kl, &v))
        free_entry(v);
    pos = 0;
    while (cn_bmap_next(&mp->senders, &pos, &k, &kl, &v)) {
        mp_sender *s = v;
        free(s->q);
        free(s);
    }
    cn_bmap_free(&mp->txs);
    cn_bmap_free(&mp->senders);
    free(mp);
}

size_t cn_mempool_count(const cn_mempool *mp) { return mp->count; }
uint64_t cn_mempool_bytes(const cn_mempool *mp) { return mp->bytes; }
uint64_t cn_mempool_rejected(const cn_mempool *mp, cn_txerr e) {
    return (unsigned)e < 100 ? mp->rejected[e] : 0;
}

__attribute__((format(printf, 4, 5))) static cn_txerr rej(cn_mempool *mp, char *msg, size_t cap,
                                                          const char *fmt, ...);
static cn_txerr rej_code(cn_mempool *mp, cn_txerr e) {
    if ((unsigned)e < 100)
        mp->rejected[e]++;
    return e;
}
static cn_txerr rej(cn_mempool *mp, char *msg, size_t cap, const char *fmt, ...) {
    (void)mp;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, cap, fmt, ap);
    va_end(ap);
    return CN_TX_OK; /* callers pass the code through rej_code */
}

/* Index of the first entry with nonce >= `nonce` in the sender's queue. */
static size_t lower_bound(const mp_sender *s, uint64_t nonce) {
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->q[mid]->nonce < nonce)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

cn_txerr cn_mempool_add(cn_mempool *mp, const uint8_t *bytes, size_t len, uint8_t hash[32],
                        char *msg, size_t cap) {
    memset(hash, 0, 32);
    if (len <= CN_CAP_TX) {
        cn_tx_id(bytes, len, hash);
        if (cn_bmap_has(&mp->txs, hash, 32)) {
            rej(mp, msg, cap, "transaction is already in the mempool");
            return rej_code(mp, CN_TX_DUPLICATE);
        }
    }
    if (mp->count >= mp->lim.max_txs || mp->bytes + len > mp->lim.max_bytes) {
        rej(mp, msg, cap, "mempool holds %zu txs / %llu bytes (caps %u / %llu); retry later",
            mp->count, (unsigned long long)mp->bytes, mp->lim.max_txs,
            (unsigned long long)mp->lim.max_bytes);
        return rej_code(mp, CN_TX_MEMPOOL_FULL);
    }
    cn_tx_info info;
    cn_txerr e = cn_app_check_tx(mp->app, bytes, len, &info, msg, cap);
    if (e)
        return rej_code(mp, e);
    mp_sender *s = cn_bmap_get(&mp->senders, info.signer, 32);
    uint64_t next = info.next_nonce;
    if (info.nonce - next >= mp->lim.nonce_window) {
        rej(mp, msg, cap, "nonce %llu is beyond the window: the next is %llu, window %u",
            (unsigned long long)info.nonce, (unsigned long long)next, mp->lim.nonce_window);
        return rej_code(mp, CN_TX_BAD_NONCE);
    }
    if (s) {
        size_t i = lower_bound(s, info.nonce);
        if (i < s->n && s->q[i]->nonce == info.nonce) {
            rej(mp, msg, cap, "another transaction with nonce %llu is pending",
                (unsigned long long)info.nonce);
            return rej_code(mp, CN_TX_BAD_NONCE);
        }
    }
    mp_entry *en = calloc(1, sizeof *en);
    uint8_t *copy = malloc(len);
    if (!en || !copy) {
        free(en);
        free(copy);
        rej(mp, msg, cap, "out of memory");
        return rej_code(mp, CN_TX_MEMPOOL_FULL);
    }
    memcpy(copy, bytes, len);
    memcpy(en->hash, hash, 32);
    en->bytes = copy;
    en->len = len;
    en->nonce = info.nonce;
    en->seq = mp->seq++;
    int new_sender = 0;
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s || !cn_bmap_put(&mp->senders, info.signer, 32, s, NULL)) {
            free(s);
            free_entry(en);
            rej(mp, msg, cap, "out of memory");
            return rej_code(mp, CN_TX_MEMPOOL_FULL);
        }
        memcpy(s->pub, info.signer, 32);
        new_sender = 1;
    }
    s->next = next;
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 4;
        mp_entry **q = realloc(s->q, nc * sizeof *q);
        if (!q)
            goto nomem;
        s->q = q;
        s->cap = nc;
    }
    if (!cn_bmap_put(&mp->txs, hash, 32, en, NULL))
        goto nomem;
    size_t i = lower_bound(s, info.nonce);
    memmove(s->q + i + 1, s->q + i, (s->n - i) * sizeof *s->q);
    s->q[i] = en;
    s->n++;
    en->sender = s;
    mp->count++;
    mp->bytes += len;
    snprintf(msg, cap, "ok");
    return CN_TX_OK;
nomem:
    if (new_sender) {
        cn_bmap_del(&mp->senders, info.signer, 32);
        free(s->q);
        free(s);
    }
    free_entry(en);
    rej(mp, msg, cap, "out of memory");
    return rej_code(mp, CN_TX_MEMPOOL_FULL);
}

typedef struct {
    uint64_t seq;
    mp_sender *s;
} reap_head;

static int cmp_head(const void *a, const void *b) {
    uint64_t x = ((const reap_head *)a)->seq, y = ((const reap_head *)b)->seq;
    return (x > y) - (x < y);
}

size_t cn_mempool_reap(cn_mempool *mp, size_t max_txs, uint64_t max_bytes, uint8_t ***txs,
                       size_t **lens) {
    *txs = NULL;
    *lens = NULL;
    size_t ns = mp->senders.count;
    if (ns == 0 || max_txs == 0)
        return 0;
    reap_head *heads = malloc(ns * sizeof *heads);
    if (!heads)
        return 0;
    size_t nh = 0, pos = 0;
    const uint8_t *k;
    size_t kl;
    void *v;
    while (cn_bmap_next(&mp->senders, &pos, &k, &kl, &v)) {
        mp_sender *s = v;
        if (s->n && s->q[0]->nonce == s->next) {
            uint64_t oldest = s->q[0]->seq;
            for (size_t i = 1; i < s->n; i++)
                if (s->q[i]->seq < oldest)
                    oldest = s->q[i]->seq;
            heads[nh++] = (reap_head){oldest, s};
        }
    }
    qsort(heads, nh, sizeof *heads, cmp_head);
    size_t cap = max_txs < mp->count ? max_txs : mp->count;
    uint8_t **t = malloc((cap ? cap : 1) * sizeof *t);
    size_t *l = malloc((cap ? cap : 1) * sizeof *l);
    size_t n = 0;
    uint64_t bytes = 0;
    if (!t || !l) {
        free(t);
        free(l);
        free(heads);
        return 0;
    }
    for (size_t h = 0; h < nh && n < cap; h++) {
        mp_sender *s = heads[h].s;
        uint64_t want = s->next;
        for (size_t i = 0; i < s->n && n < cap; i++) {
            mp_entry *e = s->q[i];
            if (e->nonce != want || bytes + e->len > max_bytes)
                break;
            t[n] = e->bytes;
            l[n] = e->len;
            n++;
            bytes += e->len;
            want++;
        }
    }
    free(heads);
    if (n == 0) {
        free(t);
        free(l);
        return 0;
    }
    *txs = t;
    *lens = l;
    return n;
}

static void remove_entry(cn_mempool *mp, mp_entry *e) {
    mp_sender *s = e->sender;
    size_t i = lower_bound(s, e->nonce);
    if (i < s->n && s->q[i] == e) {
        memmove(s->q + i, s->q + i + 1, (s->n - i - 1) * sizeof *s->q);
        s->n--;
    }
    cn_bmap_del(&mp->txs, e->hash, 32);
    mp->count--;
    mp->bytes -= e->len;
    free_entry(e);
}

/* Reads the signer's committed next nonce; returns 0 when unreadable or unregistered. */
static int committed_next(cn_store_rtxn *r, const uint8_t pub[32], uint64_t *next) {
    cn_overlay ov;
    cn_overlay_init(&ov, r);
    cn_account a;
    int got = cn_state_get_account(&ov, pub, &a);
    cn_overlay_free(&ov);
    if (got != 1)
        return 0;
    *next = a.nonce + 1;
    return 1;
}

void cn_mempool_update(cn_mempool *mp, const uint8_t (*committed)[32], size_t n) {
    mp_sender **dirty = malloc((n ? n : 1) * sizeof *dirty);
    size_t nd = 0;
    for (size_t i = 0; i < n; i++) {
        mp_entry *e = cn_bmap_get(&mp->txs, committed[i], 32);
        if (!e)
            continue;
        mp_sender *s = e->sender;
        if (!s->dirty && dirty) {
            s->dirty = 1;
            dirty[nd++] = s;
        }
        remove_entry(mp, e);
    }
    cn_store_rtxn *r = NULL;
    if (nd && cn_store_read_begin(cn_app_store(mp->app), &r) != CN_STORE_OK)
        r = NULL;
    for (size_t i = 0; i < nd; i++) {
        mp_sender *s = dirty[i];
        s->dirty = 0;
        uint64_t next;
        if (r && committed_next(r, s->pub, &next)) {
            s->next = next;
            while (s->n && s->q[0]->nonce < next)
                remove_entry(mp, s->q[0]);
        }
        if (s->n == 0) {
            cn_bmap_del(&mp->senders, s->pub, 32);
            free(s->q);
            free(s);
        }
    }
    cn_store_read_end(r);
    free(dirty);
}
