/* The in-memory host (memhost.h). Small sorted arrays and linear scans: it serves tests and
 * a contract author's local runs, where clarity beats speed. Storage entries are ordered by
 * (contract id, key) so a range scan is a lower bound followed by a walk.
 */
#include "contracts/asm/memhost.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/hash.h"

typedef struct {
    uint8_t contract[CN_VM_ID_LEN];
    uint8_t *key, *val; /* one allocation: key then value */
    uint32_t klen, vlen;
} entry;

typedef struct {
    uint8_t acct[CN_VM_ID_LEN];
    int64_t asset, amount;
} balance;

typedef struct {
    int64_t asset, price;
} price;

struct cn_asm_memhost {
    entry *entries;
    size_t nentries, cap_entries;
    balance *balances;
    size_t nbalances;
    price *prices;
    size_t nprices;
    int64_t *halted;
    size_t nhalted;
    uint8_t (*denied)[CN_VM_ID_LEN];
    size_t ndenied;
};

cn_asm_memhost *cn_asm_memhost_new(void) { return calloc(1, sizeof(cn_asm_memhost)); }

void cn_asm_memhost_free(cn_asm_memhost *h) {
    if (!h)
        return;
    for (size_t i = 0; i < h->nentries; i++)
        free(h->entries[i].key);
    free(h->entries);
    free(h->balances);
    free(h->prices);
    free(h->halted);
    free(h->denied);
    free(h);
}

size_t cn_asm_memhost_count(const cn_asm_memhost *h) { return h->nentries; }

static int entry_cmp(const entry *e, const uint8_t *contract, const uint8_t *key, size_t klen) {
    int r = memcmp(e->contract, contract, CN_VM_ID_LEN);
    return r ? r : cn_vm_key_cmp(e->key, e->klen, key, (uint32_t)klen);
}

/* First entry not below (contract, key). */
static size_t lower_bound(const cn_asm_memhost *h, const uint8_t *contract, const uint8_t *key,
                          size_t klen) {
    size_t lo = 0, hi = h->nentries;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (entry_cmp(&h->entries[mid], contract, key, klen) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int cn_asm_memhost_put(cn_asm_memhost *h, const uint8_t contract[CN_VM_ID_LEN],
                       const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen) {
    size_t pos = lower_bound(h, contract, key, klen);
    uint8_t *buf = malloc(klen + vlen + 1);
    if (!buf)
        return 0;
    memcpy(buf, key, klen);
    if (vlen)
        memcpy(buf + klen, val, vlen);
    entry e;
    memcpy(e.contract, contract, CN_VM_ID_LEN);
    e.key = buf;
    e.val = buf + klen;
    e.klen = (uint32_t)klen;
    e.vlen = (uint32_t)vlen;
    if (pos < h->nentries && entry_cmp(&h->entries[pos], contract, key, klen) == 0) {
        free(h->entries[pos].key);
        h->entries[pos] = e;
        return 1;
    }
    if (h->nentries == h->cap_entries) {
        size_t ncap = h->cap_entries ? h->cap_entries * 2 : 64;
        entry *p = realloc(h->entries, ncap * sizeof *p);
        if (!p) {
            free(buf);
            return 0;
        }
        h->entries = p;
        h->cap_entries = ncap;
    }
    memmove(&h->entries[pos + 1], &h->entries[pos], (h->nentries - pos) * sizeof(entry));
    h->entries[pos] = e;
    h->nentries++;
    return 1;
}

static void memhost_delete(cn_asm_memhost *h, const uint8_t *contract, const uint8_t *key,
                           size_t klen) {
    size_t pos = lower_bound(h, contract, key, klen);
    if (pos < h->nentries && entry_cmp(&h->entries[pos], contract, key, klen) == 0) {
        free(h->entries[pos].key);
        memmove(&h->entries[pos], &h->entries[pos + 1],
                (h->nentries - pos - 1) * sizeof(entry));
        h->nentries--;
    }
}

int cn_asm_memhost_set_price(cn_asm_memhost *h, int64_t asset, int64_t p) {
    for (size_t i = 0; i < h->nprices; i++)
        if (h->prices[i].asset == asset) {
            h->prices[i].price = p;
            return 1;
        }
    price *n = realloc(h->prices, (h->nprices + 1) * sizeof *n);
    if (!n)
        return 0;
    h->prices = n;
    h->prices[h->nprices++] = (price){asset, p};
    return 1;
}

int cn_asm_memhost_set_halted(cn_asm_memhost *h, int64_t asset) {
    int64_t *n = realloc(h->halted, (h->nhalted + 1) * sizeof *n);
    if (!n)
        return 0;
    h->halted = n;
    h->halted[h->nhalted++] = asset;
    return 1;
}

int cn_asm_memhost_deny(cn_asm_memhost *h, const uint8_t acct[CN_VM_ID_LEN]) {
    void *n = realloc(h->denied, (h->ndenied + 1) * CN_VM_ID_LEN);
    if (!n)
        return 0;
    h->denied = n;
    memcpy(h->denied[h->ndenied++], acct, CN_VM_ID_LEN);
    return 1;
}

static balance *find_balance(const cn_asm_memhost *h, const uint8_t *acct, int64_t asset) {
    for (size_t i = 0; i < h->nbalances; i++)
        if (h->balances[i].asset == asset && memcmp(h->balances[i].acct, acct, CN_VM_ID_LEN) == 0)
            return &h->balances[i];
    return NULL;
}

int cn_asm_memhost_set_balance(cn_asm_memhost *h, const uint8_t acct[CN_VM_ID_LEN],
                               int64_t asset, int64_t amount) {
    balance *b = find_balance(h, acct, asset);
    if (b) {
        b->amount = amount;
        return 1;
    }
    balance *n = realloc(h->balances, (h->nbalances + 1) * sizeof *n);
    if (!n)
        return 0;
    h->balances = n;
    b = &h->balances[h->nbalances++];
    memcpy(b->acct, acct, CN_VM_ID_LEN);
    b->asset = asset;
    b->amount = amount;
    return 1;
}

int64_t cn_asm_memhost_balance(const cn_asm_memhost *h, const uint8_t acct[CN_VM_ID_LEN],
                               int64_t asset) {
    const balance *b = find_balance(h, acct, asset);
    return b ? b->amount : 0;
}

/* ---- cn_vm_host callbacks ------------------------------------------------------------------ */

static int cb_get(void *ctx, const uint8_t contract[CN_VM_ID_LEN], const uint8_t *key,
                  size_t klen, uint8_t *val, size_t cap, size_t *len) {
    const cn_asm_memhost *h = ctx;
    size_t pos = lower_bound(h, contract, key, klen);
    if (pos >= h->nentries || entry_cmp(&h->entries[pos], contract, key, klen) != 0)
        return 0;
    const entry *e = &h->entries[pos];
    if (cap && val)
        memcpy(val, e->val, e->vlen < cap ? e->vlen : cap);
    *len = e->vlen;
    return 1;
}

static int cb_next(void *ctx, const uint8_t contract[CN_VM_ID_LEN], const uint8_t *from,
                   size_t flen, const uint8_t *to, size_t tlen, uint8_t key[CN_VM_MAX_KEY],
                   size_t *klen) {
    const cn_asm_memhost *h = ctx;
    size_t pos = lower_bound(h, contract, from, flen);
    if (pos >= h->nentries)
        return 0;
    const entry *e = &h->entries[pos];
    if (memcmp(e->contract, contract, CN_VM_ID_LEN) != 0)
        return 0;
    if (tlen && cn_vm_key_cmp(e->key, e->klen, to, (uint32_t)tlen) >= 0)
        return 0;
    if (e->klen > CN_VM_MAX_KEY)
        return -1;
    memcpy(key, e->key, e->klen);
    *klen = e->klen;
    return 1;
}

static int cb_price(void *ctx, int64_t asset, int64_t *out) {
    const cn_asm_memhost *h = ctx;
    for (size_t i = 0; i < h->nprices; i++)
        if (h->prices[i].asset == asset) {
            *out = h->prices[i].price;
            return 1;
        }
    return 0;
}

static int cb_halted(void *ctx, int64_t asset) {
    const cn_asm_memhost *h = ctx;
    for (size_t i = 0; i < h->nhalted; i++)
        if (h->halted[i] == asset || h->halted[i] == -1)
            return 1;
    return 0;
}

static int cb_transfer(void *ctx, const uint8_t contract[CN_VM_ID_LEN],
                       const uint8_t from[CN_VM_ID_LEN], const uint8_t to[CN_VM_ID_LEN],
                       int64_t asset, int64_t amount, int64_t pending) {
    const cn_asm_memhost *h = ctx;
    (void)contract;
    (void)to;
    for (size_t i = 0; i < h->ndenied; i++)
        if (memcmp(h->denied[i], from, CN_VM_ID_LEN) == 0)
            return CN_VM_TRANSFER_DENIED;
    int64_t have;
    if (__builtin_add_overflow(cn_asm_memhost_balance(h, from, asset), pending, &have))
        return -1;
    return have >= amount ? CN_VM_TRANSFER_OK : CN_VM_TRANSFER_SHORT;
}

void cn_asm_memhost_table(cn_asm_memhost *h, cn_vm_host *out) {
    out->ctx = h;
    out->get = cb_get;
    out->next = cb_next;
    out->price = cb_price;
    out->halted = cb_halted;
    out->transfer = cb_transfer;
}

cn_vm_err cn_asm_memhost_commit(cn_asm_memhost *h, const uint8_t contract[CN_VM_ID_LEN],
                                const cn_vm_overlay *ov) {
    for (uint32_t i = 0; i < ov->nwrites; i++) {
        const cn_vm_write *w = &ov->writes[i];
        if (w->deleted)
            memhost_delete(h, contract, w->key, w->klen);
        else if (!cn_asm_memhost_put(h, contract, w->key, w->klen, w->val, w->vlen))
            return CN_VM_E_NOMEM;
    }
    for (uint32_t i = 0; i < ov->ntransfers; i++) {
        const cn_vm_transfer *t = &ov->transfers[i];
        int64_t from, to;
        if (__builtin_sub_overflow(cn_asm_memhost_balance(h, t->from, t->asset), t->amount,
                                   &from) ||
            !cn_asm_memhost_set_balance(h, t->from, t->asset, from))
            return CN_VM_E_OVERFLOW;
        if (__builtin_add_overflow(cn_asm_memhost_balance(h, t->to, t->asset), t->amount, &to) ||
            !cn_asm_memhost_set_balance(h, t->to, t->asset, to))
            return CN_VM_E_OVERFLOW;
    }
    return CN_VM_OK;
}

/* ---- text form -------------------------------------------------------------------------------- */

static int hexval(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int cn_asm_parse_bytes(const cn_asm_line *ln, int *i, uint8_t *out, size_t cap, size_t *len,
                       char *err, size_t errlen) {
    *len = 0;
    for (;;) {
        if (*i >= ln->n) {
            snprintf(err, errlen, "expected a value");
            return 0;
        }
        const cn_asm_tok *t = &ln->tok[*i];
        size_t n = 0;
        uint8_t part[CN_ASM_MAX_STR];
        if (t->kind == CN_ASM_TOK_STR) {
            n = t->slen;
            memcpy(part, t->str, n);
        } else if (t->kind == CN_ASM_TOK_INT && t->is_hex && t->text[0] != '-') {
            uint32_t digits = t->len - 2;
            if (digits % 2 || digits / 2 > sizeof part) {
                snprintf(err, errlen, "hex value needs an even number of digits");
                return 0;
            }
            for (uint32_t k = 0; k < digits; k += 2)
                part[n++] = (uint8_t)(hexval(t->text[2 + k]) * 16 + hexval(t->text[3 + k]));
        } else if (t->kind == CN_ASM_TOK_INT) {
            uint64_t u = (uint64_t)t->ival;
            for (int k = 0; k < 8; k++)
                part[n++] = (uint8_t)(u >> (56 - 8 * k));
        } else {
            snprintf(err, errlen, "expected \"text\", 0xHEX or an integer, found '%.*s'",
                     (int)t->len, t->text);
            return 0;
        }
        if (*len + n > cap) {
            snprintf(err, errlen, "value longer than %zu bytes", cap);
            return 0;
        }
        memcpy(out + *len, part, n);
        *len += n;
        (*i)++;
        if (*i < ln->n && cn_asm_tok_is(&ln->tok[*i], "+"))
            (*i)++;
        else
            return 1;
    }
}

int cn_asm_parse_id(const cn_asm_tok *t, uint8_t out[CN_VM_ID_LEN], char *err, size_t errlen) {
    memset(out, 0, CN_VM_ID_LEN);
    if (t->kind == CN_ASM_TOK_STR && t->slen <= CN_VM_ID_LEN) {
        memcpy(out, t->str, t->slen);
        return 1;
    }
    if (t->kind == CN_ASM_TOK_INT && t->is_hex && t->len == 2 + 2 * CN_VM_ID_LEN) {
        for (uint32_t k = 0; k < CN_VM_ID_LEN; k++)
            out[k] = (uint8_t)(hexval(t->text[2 + 2 * k]) * 16 + hexval(t->text[3 + 2 * k]));
        return 1;
    }
    snprintf(err, errlen, "expected an id: \"name\" (up to 32 bytes) or 0x and 64 hex digits");
    return 0;
}

int cn_asm_memhost_directive(cn_asm_memhost *h, const uint8_t contract[CN_VM_ID_LEN],
                             const cn_asm_line *ln, char *err, size_t errlen) {
    const cn_asm_tok *t = ln->tok;
    if (ln->n == 0 || t[0].kind != CN_ASM_TOK_WORD)
        return 0;
    if (cn_asm_tok_is(&t[0], "storage")) {
        uint8_t key[CN_VM_MAX_KEY], val[CN_VM_MAX_VALUE];
        size_t klen, vlen;
        int i = 1;
        if (!cn_asm_parse_bytes(ln, &i, key, sizeof key, &klen, err, errlen) ||
            !cn_asm_parse_bytes(ln, &i, val, sizeof val, &vlen, err, errlen))
            return -1;
        if (i != ln->n || klen == 0) {
            snprintf(err, errlen, "expected storage KEY VALUE with a non-empty key");
            return -1;
        }
        return cn_asm_memhost_put(h, contract, key, klen, val, vlen) ? 1 : -1;
    }
    if (cn_asm_tok_is(&t[0], "price") || cn_asm_tok_is(&t[0], "halted")) {
        int is_price = t[0].len == 5;
        if (ln->n != (is_price ? 3 : 2) || t[1].kind != CN_ASM_TOK_INT ||
            (is_price && t[2].kind != CN_ASM_TOK_INT) || t[1].big || (is_price && t[2].big)) {
            snprintf(err, errlen, is_price ? "expected price ASSET MICRO_USD" : "expected halted ASSET");
            return -1;
        }
        int ok = is_price ? cn_asm_memhost_set_price(h, t[1].ival, t[2].ival)
                          : cn_asm_memhost_set_halted(h, t[1].ival);
        return ok ? 1 : -1;
    }
    if (cn_asm_tok_is(&t[0], "balance") || cn_asm_tok_is(&t[0], "deny")) {
        int is_bal = t[0].len == 7;
        uint8_t id[CN_VM_ID_LEN];
        if (ln->n != (is_bal ? 4 : 2)) {
            snprintf(err, errlen, is_bal ? "expected balance ACCOUNT ASSET AMOUNT" : "expected deny ACCOUNT");
            return -1;
        }
        if (!cn_asm_parse_id(&t[1], id, err, errlen))
            return -1;
        if (!is_bal)
            return cn_asm_memhost_deny(h, id) ? 1 : -1;
        if (t[2].kind != CN_ASM_TOK_INT || t[3].kind != CN_ASM_TOK_INT || t[2].big || t[3].big) {
            snprintf(err, errlen, "expected balance ACCOUNT ASSET AMOUNT");
            return -1;
        }
        return cn_asm_memhost_set_balance(h, id, t[2].ival, t[3].ival) ? 1 : -1;
    }
    return 0;
}

/* ---- the writes digest ------------------------------------------------------------------ */

void cn_asm_writes_digest(const cn_vm_overlay *ov, uint8_t out[32]) {
    cn_hasher hs;
    cn_hasher_start(&hs, CN_TAG_VM_WRITES);
    cn_hasher_u32(&hs, ov->nwrites);
    for (uint32_t i = 0; i < ov->nwrites; i++) {
        const cn_vm_write *w = &ov->writes[i];
        cn_hasher_u8(&hs, (uint8_t)(w->deleted ? 1 : 0));
        cn_hasher_bytes(&hs, w->key, w->klen);
        cn_hasher_bytes(&hs, w->val ? w->val : w->key, w->vlen); /* vlen 0 when deleted */
    }
    cn_hasher_u32(&hs, ov->ntransfers);
    for (uint32_t i = 0; i < ov->ntransfers; i++) {
        const cn_vm_transfer *t = &ov->transfers[i];
        cn_hasher_update(&hs, t->from, CN_VM_ID_LEN);
        cn_hasher_update(&hs, t->to, CN_VM_ID_LEN);
        cn_hasher_u64(&hs, (uint64_t)t->asset);
        cn_hasher_u64(&hs, (uint64_t)t->amount);
    }
    cn_hasher_u32(&hs, ov->nevents);
    for (uint32_t i = 0; i < ov->nevents; i++) {
        cn_hasher_bytes(&hs, ov->events[i].topic, ov->events[i].tlen);
        cn_hasher_bytes(&hs, ov->events[i].data, ov->events[i].dlen);
    }
    cn_hasher_finish(&hs, out);
}
