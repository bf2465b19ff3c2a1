/* End-of-block custody work and the end-of-block audit log.
 *
 * After the block's transactions, each pending request (in id order) is examined once:
 *   block time > expiry                      -> expired: the locked amount returns to the balance
 *   withdrawals frozen                       -> left pending
 *   counted approvals >= the tier's M and
 *   block time >= last counted approval + the tier's cooldown
 *                                            -> executed: the locked amount burns (supply
 *                                               decreases) and a release event tells the
 *                                               custodian to pay out to the destination.
 * Events made here have no transaction receipt, so they are written to state as an audit log
 * under module byte 'E' (custody.h), covered by the app hash like every other write.
 */
#include "node/app/custody.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/bytes.h"
#include "crypto/encoding.h"

int cn_audit_put(cn_overlay *ov, uint8_t module, uint64_t height, uint64_t id, uint8_t kind,
                 const cn_event *e) {
    Clearnode__V1__Event ev;
    Clearnode__V1__EventAttr at[CN_EVENT_MAX_ATTRS], *atp[CN_EVENT_MAX_ATTRS];
    clearnode__v1__event__init(&ev);
    ev.type = (char *)(uintptr_t)e->type;
    for (size_t j = 0; j < e->n; j++) {
        clearnode__v1__event_attr__init(&at[j]);
        at[j].key = (char *)(uintptr_t)e->attrs[j].key;
        at[j].value = (char *)(uintptr_t)e->attrs[j].value;
        atp[j] = &at[j];
    }
    ev.n_attrs = e->n;
    ev.attrs = atp;
    uint8_t *buf;
    size_t len;
    if (!cn_encode(&ev.base, CN_CAP_RECEIPT, &buf, &len))
        return 0;
    cn_key k;
    cn_key_start(&k, module);
    cn_key_u8(&k, 'E');
    cn_key_be64(&k, height);
    cn_key_be64(&k, id);
    cn_key_u8(&k, kind);
    int ok = cn_overlay_put(ov, k.b, k.len, buf, len);
    free(buf);
    return ok;
}

static void attr(cn_event *e, const char *key, const char *fmt_val) {
    if (e->n >= CN_EVENT_MAX_ATTRS)
        return;
    e->attrs[e->n].key = key;
    snprintf(e->attrs[e->n].value, CN_EVENT_VALUE_MAX, "%s", fmt_val);
    e->n++;
}

static void attr_u64(cn_event *e, const char *key, uint64_t v) {
    char s[24];
    snprintf(s, sizeof s, "%llu", (unsigned long long)v);
    attr(e, key, s);
}

/* Fills the common attributes of a withdrawal event. */
static void wd_event(cn_event *e, const char *type, const cn_withdrawal *w) {
    char hex[65];
    memset(e, 0, sizeof *e);
    e->type = type;
    attr_u64(e, "request_id", w->id);
    cn_hex_encode(hex, w->client, 32);
    attr(e, "client", hex);
    attr(e, "asset", w->asset);
    attr_u64(e, "amount", (uint64_t)w->amount);
    attr(e, "destination", w->dest);
}

/* Copies an event into the block's end-of-block list (if any). 0 on no memory. */
int cn_evlist_copy(cn_evlist *l, const cn_event *e) {
    if (!l)
        return 1;
    cn_event *d = cn_evlist_add(l, e->type);
    if (!d)
        return 0;
    const char *type = d->type;
    *d = *e;
    d->type = type;
    return 1;
}
#define emit cn_evlist_copy

int cn_custody_count(cn_overlay *ov, const cn_withdrawal *w, uint64_t *last) {
    uint8_t set[CN_CUSTODY_MAX_APPROVERS][32];
    int ns = cn_custody_approvers(ov, set);
    uint64_t pv;
    if (ns < 0 || cn_custody_policy_version(ov, &pv) < 0)
        return -1;
    int count = 0;
    *last = 0;
    for (size_t i = 0; i < w->n_approvals; i++) {
        const cn_wd_approval *a = &w->approvals[i];
        if (a->policy_version != pv)
            continue;
        int member = 0, dup = 0;
        for (int s = 0; s < ns; s++)
            member |= memcmp(set[s], a->key, 32) == 0;
        for (size_t j = 0; j < i; j++)
            dup |= memcmp(w->approvals[j].key, a->key, 32) == 0 &&
                   w->approvals[j].policy_version == pv;
        if (!member || dup)
            continue;
        count++;
        if (a->time > *last)
            *last = a->time;
    }
    return count;
}

/* Burns an approved request's locked amount. 1, or 0 on failure. */
static int execute(cn_overlay *ov, cn_withdrawal *w, uint64_t height) {
    int64_t locked, supply;
    cn_key sk;
    cn_sk_supply(&sk, w->asset);
    if (cn_custody_get_locked(ov, w->client, w->asset, &locked) < 0 ||
        cn_state_get_i64(ov, &sk, &supply) < 0 || locked < w->amount || supply < w->amount)
        return 0;
    w->status = CN_WD_EXECUTED;
    w->closed_height = height;
    return cn_custody_set_locked(ov, w->client, w->asset, locked - w->amount) &&
           cn_state_put_i64(ov, &sk, supply - w->amount) && cn_custody_put(ov, w) &&
           cn_custody_unpend(ov, w->id);
}

int cn_custody_end_block(cn_overlay *ov, uint64_t height, uint64_t now, cn_evlist *ev) {
    static uint8_t pend[CN_CUSTODY_MAX_PENDING * 8];
    cn_key kp;
    cn_sk_custody(&kp, 'P');
    int np = cn_list_get(ov, &kp, pend, 8, CN_CUSTODY_MAX_PENDING);
    int frozen;
    if (np < 0 || cn_custody_frozen(ov, &frozen) < 0)
        return 0;
    for (size_t i = 0; i < (size_t)np; i++) {
        cn_withdrawal w;
        if (cn_custody_get(ov, cn_get_be64(pend + i * 8), &w) != 1 ||
            w.status != CN_WD_PENDING)
            return 0;
        cn_event e;
        if (now > w.expiry) {
            if (!cn_custody_unlock(ov, &w, CN_WD_EXPIRED, height))
                return 0;
            wd_event(&e, "custody.withdraw_expired", &w);
            if (!cn_audit_put(ov, CN_SK_CUSTODY, height, w.id, 'x', &e) || !emit(ev, &e))
                return 0;
            continue;
        }
        if (frozen)
            continue;
        uint64_t last;
        uint32_t m;
        int64_t cooldown;
        int count = cn_custody_count(ov, &w, &last);
        int t = cn_custody_tier(ov, w.usd, &m, &cooldown);
        if (count < 0 || t < 0)
            return 0;
        if (t == 0 || (uint32_t)count < m || now < last + (uint64_t)cooldown)
            continue;
        if (!execute(ov, &w, height))
            return 0;
        wd_event(&e, "custody.withdraw_release", &w);
        attr_u64(&e, "approvals", (uint64_t)count);
        if (!cn_audit_put(ov, CN_SK_CUSTODY, height, w.id, 'r', &e) || !emit(ev, &e))
            return 0;
    }
    return 1;
}
