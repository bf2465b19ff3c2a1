/* The validator set per height (see validators.h). */
#include "node/app/validators.h"

#include <stdio.h>
#include <string.h>

#include "crypto/bytes.h"
#include "crypto/hash.h"
#include "node/store/keys.h"

int cn_validators_from_genesis(cn_validators *v, const cn_genesis *g, char *err, size_t cap) {
    memset(v, 0, sizeof *v);
    for (size_t i = 0; i < g->n_members; i++) {
        const cn_gen_member *m = &g->members[i];
        if (m->power <= 0)
            continue;
        if (v->n == CN_VALIDATORS_MAX) {
            snprintf(err, cap, "more than %u validators", CN_VALIDATORS_MAX);
            return 0;
        }
        /* insertion in key order */
        uint32_t at = v->n;
        while (at > 0 && memcmp(v->key[at - 1], m->pubkey, 32) > 0) {
            memcpy(v->key[at], v->key[at - 1], 32);
            v->power[at] = v->power[at - 1];
            at--;
        }
        memcpy(v->key[at], m->pubkey, 32);
        v->power[at] = m->power;
        v->n++;
        v->total += m->power;
    }
    if (v->n == 0) {
        snprintf(err, cap, "genesis has no validator with power");
        return 0;
    }
    return 1;
}

void cn_validators_hash(const cn_validators *v, uint8_t out[32]) {
    cn_hasher h;
    cn_hasher_start(&h, CN_TAG_VALIDATORS);
    for (uint32_t i = 0; i < v->n; i++) {
        cn_hasher_update(&h, v->key[i], 32);
        cn_hasher_u64(&h, (uint64_t)v->power[i]);
    }
    cn_hasher_finish(&h, out);
}

int cn_validators_index(const cn_validators *v, const uint8_t key[32]) {
    uint32_t lo = 0, hi = v->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = memcmp(v->key[mid], key, 32);
        if (c == 0)
            return (int)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

size_t cn_validators_encode(const cn_validators *v, uint8_t out[CN_VALIDATORS_ENC_MAX]) {
    cn_put_be32(out, v->n);
    for (uint32_t i = 0; i < v->n; i++) {
        memcpy(out + 4 + (size_t)i * 40, v->key[i], 32);
        cn_put_be64(out + 4 + (size_t)i * 40 + 32, (uint64_t)v->power[i]);
    }
    return 4 + (size_t)v->n * 40;
}

int cn_validators_decode(cn_validators *v, const uint8_t *p, size_t n) {
    memset(v, 0, sizeof *v);
    if (n < 4)
        return 0;
    uint32_t count = cn_get_be32(p);
    if (count == 0 || count > CN_VALIDATORS_MAX || n != 4 + (size_t)count * 40)
        return 0;
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *e = p + 4 + (size_t)i * 40;
        uint64_t pw = cn_get_be64(e + 32);
        if (pw == 0 || pw > (uint64_t)CN_MAX_POWER)
            return 0;
        if (i > 0 && memcmp(v->key[i - 1], e, 32) >= 0)
            return 0;
        memcpy(v->key[i], e, 32);
        v->power[i] = (int64_t)pw;
        v->total += (int64_t)pw;
    }
    v->n = count;
    return 1;
}

static void sk_valset(cn_key *k, int next) {
    cn_key_start(k, CN_SK_VALSET);
    cn_key_u8(k, next ? 'n' : 'l');
}

int cn_validators_get(cn_overlay *ov, int next, cn_validators *out) {
    cn_key k;
    sk_valset(&k, next);
    const uint8_t *val;
    size_t len;
    int r = cn_overlay_get(ov, k.b, k.len, &val, &len);
    if (r <= 0)
        return r;
    return cn_validators_decode(out, val, len) ? 1 : -1;
}

int cn_validators_read(cn_store_rtxn *r, int next, cn_validators *out) {
    cn_key k;
    sk_valset(&k, next);
    const void *val;
    size_t len;
    cn_store_err e = cn_store_read_get(r, CN_DB_STATE, k.b, k.len, &val, &len);
    if (e == CN_STORE_NOTFOUND)
        return 0;
    if (e)
        return -1;
    return cn_validators_decode(out, val, len) ? 1 : -1;
}

static int put_set(cn_overlay *ov, int next, const cn_validators *v) {
    uint8_t buf[CN_VALIDATORS_ENC_MAX];
    size_t n = cn_validators_encode(v, buf);
    cn_key k;
    sk_valset(&k, next);
    return cn_overlay_put(ov, k.b, k.len, buf, n);
}

int cn_validators_write_genesis(cn_overlay *ov, const cn_validators *v) {
    return put_set(ov, 1, v) && put_set(ov, 0, v);
}

/* Applies one change to v; returns 0 if the result would break the rules. */
static int apply_one(cn_validators *v, const uint8_t key[32], int64_t power) {
    int at = cn_validators_index(v, key);
    if (at >= 0) {
        v->total -= v->power[at];
        if (power == 0) {
            memmove(v->key[at], v->key[at + 1], (size_t)(v->n - (uint32_t)at - 1) * 32);
            memmove(&v->power[at], &v->power[at + 1],
                    (size_t)(v->n - (uint32_t)at - 1) * sizeof v->power[0]);
            v->n--;
        } else {
            v->power[at] = power;
            v->total += power;
        }
        return v->n > 0;
    }
    if (power == 0)
        return v->n > 0;
    if (v->n == CN_VALIDATORS_MAX)
        return 0;
    uint32_t i = v->n;
    while (i > 0 && memcmp(v->key[i - 1], key, 32) > 0) {
        memcpy(v->key[i], v->key[i - 1], 32);
        v->power[i] = v->power[i - 1];
        i--;
    }
    memcpy(v->key[i], key, 32);
    v->power[i] = power;
    v->n++;
    v->total += power;
    return 1;
}

static int apply_list(cn_validators *v, const uint8_t *changes, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint64_t pw = cn_get_be64(changes + i * 40 + 32);
        if (pw > (uint64_t)CN_MAX_POWER || !apply_one(v, changes + i * 40, (int64_t)pw))
            return 0;
    }
    return 1;
}

static int same_set(const cn_validators *a, const cn_validators *b) {
    return a->n == b->n && memcmp(a->key, b->key, (size_t)a->n * 32) == 0 &&
           memcmp(a->power, b->power, (size_t)a->n * sizeof a->power[0]) == 0;
}

int cn_validators_end_block(cn_overlay *ov, const uint8_t *changes, size_t n_changes) {
    cn_validators next, last;
    if (cn_validators_get(ov, 1, &next) != 1 || cn_validators_get(ov, 0, &last) != 1)
        return 0;
    if (!same_set(&next, &last) && !put_set(ov, 0, &next))
        return 0;
    if (n_changes == 0)
        return 1;
    if (!apply_list(&next, changes, n_changes))
        return 0;
    return put_set(ov, 1, &next);
}

int cn_validators_check_change(cn_overlay *ov, const uint8_t *pending, size_t n_pending,
                               const uint8_t key[32], int64_t power, char *msg, size_t cap) {
    cn_validators v;
    if (cn_validators_get(ov, 1, &v) != 1)
        return -1;
    if (!apply_list(&v, pending, n_pending)) {
        snprintf(msg, cap, "pending validator power changes already break the set");
        return 0;
    }
    if (power < 0 || power > CN_MAX_POWER || !apply_one(&v, key, power)) {
        snprintf(msg, cap, "the validator set would be empty or exceed %u validators",
                 CN_VALIDATORS_MAX);
        return 0;
    }
    return 1;
}

/* meta "valset" || be64 height: the set that signs from that height on, until the next one. */
static size_t history_key(uint8_t out[14], uint64_t height) {
    memcpy(out, "valset", 6);
    cn_put_be64(out + 6, height);
    return 14;
}

cn_store_err cn_validators_history_put(cn_store_wtxn *b, uint64_t height, const uint8_t *enc,
                              size_t len) {
    uint8_t k[14];
    return cn_store_put(b, CN_DB_META, k, history_key(k, height), enc, len);
}

int cn_validators_at(cn_store_rtxn *r, uint64_t height, cn_validators *out) {
    uint8_t k[14];
    history_key(k, height);
    cn_store_iter *it;
    if (cn_store_iter_read(&it, r, CN_DB_META, "valset", 6, k, sizeof k,
                           CN_STORE_ITER_REVERSE) != CN_STORE_OK)
        return -1;
    const void *key, *val;
    size_t klen, vlen;
    cn_store_err e = cn_store_iter_next(it, &key, &klen, &val, &vlen);
    int rc = e == CN_STORE_NOTFOUND ? 0 : -1;
    if (e == CN_STORE_OK)
        rc = klen == 14 && cn_validators_decode(out, val, vlen) ? 1 : -1;
    cn_store_iter_close(it);
    return rc;
}
