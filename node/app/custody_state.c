/* Custody state records: withdrawal requests, locked balances, lists, allow-list entries,
 * approver set, policy version, freeze flag, tiers (see custody.h for the key layout).
 *
 * Request record (version 1), all integers big-endian:
 *   u8 1 | u8 status | client(32) | u8 len, asset | be64 amount | be64 usd | u8 len, dest |
 *   be64 expiry | be64 created_time | be64 created_height | be64 closed_height |
 *   u8 n | n x (key(32) | be64 policy_version | be64 time)
 * Allow-list entry: u8 op (1 add, 2 remove) | be64 effective_time | u8 active_before.
 */
#include "node/app/custody.h"

#include <stdio.h>
#include <string.h>

#include "crypto/bytes.h"

#define REC_MAX (2 + 32 + 1 + CN_SYMBOL_MAX + 16 + 1 + CN_DEST_MAX + 32 + 1 + \
                 CN_CUSTODY_MAX_APPROVALS * 48)

void cn_sk_custody(cn_key *k, uint8_t sub) {
    cn_key_start(k, CN_SK_CUSTODY);
    cn_key_u8(k, sub);
}

static void sk_request(cn_key *k, uint64_t id) {
    cn_sk_custody(k, 'R');
    cn_key_be64(k, id);
}

int cn_custody_put(cn_overlay *ov, const cn_withdrawal *w) {
    uint8_t b[REC_MAX], *p = b;
    size_t al = strlen(w->asset), dl = strlen(w->dest);
    *p++ = 1;
    *p++ = (uint8_t)w->status;
    memcpy(p, w->client, 32), p += 32;
    *p++ = (uint8_t)al;
    memcpy(p, w->asset, al), p += al;
    cn_put_be64(p, (uint64_t)w->amount), p += 8;
    cn_put_be64(p, (uint64_t)w->usd), p += 8;
    *p++ = (uint8_t)dl;
    memcpy(p, w->dest, dl), p += dl;
    cn_put_be64(p, w->expiry), p += 8;
    cn_put_be64(p, w->created_time), p += 8;
    cn_put_be64(p, w->created_height), p += 8;
    cn_put_be64(p, w->closed_height), p += 8;
    *p++ = (uint8_t)w->n_approvals;
    for (size_t i = 0; i < w->n_approvals; i++) {
        memcpy(p, w->approvals[i].key, 32), p += 32;
        cn_put_be64(p, w->approvals[i].policy_version), p += 8;
        cn_put_be64(p, w->approvals[i].time), p += 8;
    }
    cn_key k;
    sk_request(&k, w->id);
    return cn_overlay_put(ov, k.b, k.len, b, (size_t)(p - b));
}

int cn_custody_get(cn_overlay *ov, uint64_t id, cn_withdrawal *w) {
    cn_key k;
    sk_request(&k, id);
    const uint8_t *v;
    size_t n;
    int r = cn_overlay_get(ov, k.b, k.len, &v, &n);
    if (r <= 0)
        return r;
    memset(w, 0, sizeof *w);
    w->id = id;
    const uint8_t *p = v, *end = v + n;
#define NEED(x) \
    if ((size_t)(end - p) < (size_t)(x)) \
    return -1
    NEED(2 + 32 + 1);
    if (*p++ != 1)
        return -1;
    w->status = *p++;
    memcpy(w->client, p, 32), p += 32;
    size_t al = *p++;
    if (al > CN_SYMBOL_MAX)
        return -1;
    NEED(al + 16 + 1);
    memcpy(w->asset, p, al), p += al;
    w->amount = (int64_t)cn_get_be64(p), p += 8;
    w->usd = (int64_t)cn_get_be64(p), p += 8;
    size_t dl = *p++;
    if (dl > CN_DEST_MAX)
        return -1;
    NEED(dl + 32 + 1);
    memcpy(w->dest, p, dl), p += dl;
    w->expiry = cn_get_be64(p), p += 8;
    w->created_time = cn_get_be64(p), p += 8;
    w->created_height = cn_get_be64(p), p += 8;
    w->closed_height = cn_get_be64(p), p += 8;
    w->n_approvals = *p++;
    if (w->n_approvals > CN_CUSTODY_MAX_APPROVALS)
        return -1;
    NEED(w->n_approvals * 48);
    for (size_t i = 0; i < w->n_approvals; i++) {
        memcpy(w->approvals[i].key, p, 32), p += 32;
        w->approvals[i].policy_version = cn_get_be64(p), p += 8;
        w->approvals[i].time = cn_get_be64(p), p += 8;
    }
#undef NEED
    return p == end ? 1 : -1;
}

static void sk_locked(cn_key *k, const uint8_t client[32], const char *sym) {
    cn_key_start(k, CN_SK_LOCKED);
    cn_key_bytes(k, client, 32);
    cn_key_bytes(k, sym, strlen(sym));
}

int cn_custody_get_locked(cn_overlay *ov, const uint8_t client[32], const char *sym,
                          int64_t *v) {
    cn_key k;
    sk_locked(&k, client, sym);
    return cn_state_get_i64(ov, &k, v);
}

int cn_custody_set_locked(cn_overlay *ov, const uint8_t client[32], const char *sym, int64_t v) {
    cn_key k;
    sk_locked(&k, client, sym);
    if (v == 0)
        return cn_overlay_del(ov, k.b, k.len);
    return cn_state_put_i64(ov, &k, v);
}

int cn_param_get(cn_overlay *ov, const char *name, int64_t def, int64_t *v) {
    cn_key k;
    cn_sk_named(&k, CN_SK_PARAM, name);
    const uint8_t *p;
    size_t n;
    int r = cn_overlay_get(ov, k.b, k.len, &p, &n);
    if (r < 0 || (r == 1 && n != 8))
        return -1;
    *v = r ? cn_get_be64_signed(p) : def;
    return 1;
}

int cn_param_put(cn_overlay *ov, const char *name, int64_t v) {
    cn_key k;
    cn_sk_named(&k, CN_SK_PARAM, name);
    return cn_state_put_i64(ov, &k, v);
}

int cn_list_get(cn_overlay *ov, const cn_key *k, uint8_t *out, size_t item, size_t max) {
    const uint8_t *v;
    size_t n;
    int r = cn_overlay_get(ov, k->b, k->len, &v, &n);
    if (r <= 0)
        return r;
    if (n % item != 0 || n / item > max)
        return -1;
    if (n)
        memcpy(out, v, n);
    return (int)(n / item);
}

int cn_list_put(cn_overlay *ov, const cn_key *k, const uint8_t *items, size_t item, size_t n) {
    if (n == 0)
        return cn_overlay_del(ov, k->b, k->len);
    return cn_overlay_put(ov, k->b, k->len, items, n * item);
}

int cn_custody_approvers(cn_overlay *ov, uint8_t out[CN_CUSTODY_MAX_APPROVERS][32]) {
    cn_key k;
    cn_sk_custody(&k, 'S');
    return cn_list_get(ov, &k, &out[0][0], 32, CN_CUSTODY_MAX_APPROVERS);
}

int cn_custody_policy_version(cn_overlay *ov, uint64_t *v) {
    cn_key k;
    cn_sk_custody(&k, 'v');
    int64_t x;
    if (cn_state_get_i64(ov, &k, &x) < 0)
        return -1;
    *v = (uint64_t)x;
    return 1;
}

int cn_custody_frozen(cn_overlay *ov, int *frozen) {
    cn_key k;
    cn_sk_custody(&k, 'F');
    int64_t x;
    if (cn_state_get_i64(ov, &k, &x) < 0)
        return -1;
    *frozen = x != 0;
    return 1;
}

static void sk_allow(cn_key *k, const uint8_t client[32], const char *dest) {
    cn_sk_custody(k, 'L');
    cn_key_bytes(k, client, 32);
    cn_key_bytes(k, dest, strlen(dest));
}

int cn_custody_allowlisted(cn_overlay *ov, const uint8_t client[32], const char *dest,
                           uint64_t now) {
    cn_key k;
    sk_allow(&k, client, dest);
    const uint8_t *v;
    size_t n;
    int r = cn_overlay_get(ov, k.b, k.len, &v, &n);
    if (r <= 0)
        return r;
    if (n != 10)
        return -1;
    if (now >= cn_get_be64(v + 1))
        return v[0] == 1;
    return v[9] != 0;
}

/* Records an allow-list change effective at `eff`; the entry remembers whether the destination
 * was active before, so it stays usable (or unusable) until the change takes effect. */
int cn_custody_allow_change(cn_overlay *ov, const uint8_t client[32], const char *dest,
                            int remove, uint64_t now, uint64_t eff) {
    int before = cn_custody_allowlisted(ov, client, dest, now);
    if (before < 0)
        return 0;
    uint8_t v[10];
    v[0] = remove ? 2 : 1;
    cn_put_be64(v + 1, eff);
    v[9] = (uint8_t)before;
    cn_key k;
    sk_allow(&k, client, dest);
    return cn_overlay_put(ov, k.b, k.len, v, sizeof v);
}

int cn_custody_tier(cn_overlay *ov, int64_t usd, uint32_t *approvals, int64_t *cooldown_ms) {
    int found = 0;
    for (unsigned i = 0; i < CN_MAX_TIERS; i++) {
        char name[64];
        int64_t min, m, cd;
        snprintf(name, sizeof name, "custody.tier%u.min_amount_usd", i);
        if (cn_param_get(ov, name, -1, &min) < 0)
            return -1;
        if (min < 0)
            break;
        snprintf(name, sizeof name, "custody.tier%u.approvals", i);
        if (cn_param_get(ov, name, 1, &m) < 0)
            return -1;
        snprintf(name, sizeof name, "custody.tier%u.cooldown_ms", i);
        if (cn_param_get(ov, name, 0, &cd) < 0)
            return -1;
        if (usd < min)
            break;
        *approvals = (uint32_t)m;
        *cooldown_ms = cd;
        found = 1;
    }
    return found;
}

int cn_custody_chain_id(cn_overlay *ov, char out[CN_CHAIN_ID_MAX + 1]) {
    cn_key k;
    cn_sk_custody(&k, 'i');
    const uint8_t *v;
    size_t n;
    int r = cn_overlay_get(ov, k.b, k.len, &v, &n);
    if (r <= 0)
        return r;
    if (n > CN_CHAIN_ID_MAX)
        return -1;
    memcpy(out, v, n);
    out[n] = 0;
    return 1;
}

int cn_custody_write_genesis(cn_overlay *ov, const cn_genesis *g) {
    uint8_t set[CN_CUSTODY_MAX_APPROVERS][32];
    size_t n = 0;
    for (size_t i = 0; i < g->n_members; i++)
        if (g->members[i].roles & CN_ROLE_APPROVER) {
            if (n == CN_CUSTODY_MAX_APPROVERS)
                return 0; /* documented limit (docs/genesis.md) */
            memcpy(set[n++], g->members[i].pubkey, 32);
        }
    cn_key k;
    cn_sk_custody(&k, 'S');
    if (!cn_list_put(ov, &k, &set[0][0], 32, n))
        return 0;
    cn_sk_custody(&k, 'v');
    if (!cn_state_put_i64(ov, &k, 1))
        return 0;
    cn_sk_custody(&k, 'i');
    return cn_overlay_put(ov, k.b, k.len, g->chain_id, strlen(g->chain_id));
}
