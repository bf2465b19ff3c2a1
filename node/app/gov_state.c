/* Governance state records (see gov.h for keys).
 *
 * Proposal record (version 1), integers big-endian:
 *   u8 1 | u8 status | proposer(32) | be64 expiry | be64 created_time | be64 created_height |
 *   be64 effective_time | be64 closed_height | u8 n | n x key(32) | action bytes (the rest:
 *   an encoded Tx whose only field is governance_propose)
 */
#include "node/app/gov.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/bytes.h"
#include "node/app/custody.h"

static void sk_prop(cn_key *k, uint64_t id) {
    cn_key_start(k, CN_SK_GOV);
    cn_key_u8(k, 'P');
    cn_key_be64(k, id);
}

int cn_gov_put(cn_overlay *ov, const cn_proposal *p) {
    size_t n = 2 + 32 + 40 + 1 + p->n_approvals * 32 + p->action_len;
    uint8_t *b = malloc(n), *q = b;
    if (!b)
        return 0;
    *q++ = 1;
    *q++ = (uint8_t)p->status;
    memcpy(q, p->proposer, 32), q += 32;
    cn_put_be64(q, p->expiry), q += 8;
    cn_put_be64(q, p->created_time), q += 8;
    cn_put_be64(q, p->created_height), q += 8;
    cn_put_be64(q, p->effective_time), q += 8;
    cn_put_be64(q, p->closed_height), q += 8;
    *q++ = (uint8_t)p->n_approvals;
    for (size_t i = 0; i < p->n_approvals; i++)
        memcpy(q, p->approvals[i], 32), q += 32;
    if (p->action_len)
        memcpy(q, p->action, p->action_len);
    cn_key k;
    sk_prop(&k, p->id);
    int ok = cn_overlay_put(ov, k.b, k.len, b, n);
    free(b);
    return ok;
}

int cn_gov_get(cn_overlay *ov, uint64_t id, cn_proposal *p) {
    memset(p, 0, sizeof *p);
    cn_key k;
    sk_prop(&k, id);
    const uint8_t *v;
    size_t n;
    int r = cn_overlay_get(ov, k.b, k.len, &v, &n);
    if (r <= 0)
        return r;
    if (n < 2 + 32 + 40 + 1 || v[0] != 1)
        return -1;
    p->id = id;
    p->status = v[1];
    memcpy(p->proposer, v + 2, 32);
    const uint8_t *q = v + 34;
    p->expiry = cn_get_be64(q);
    p->created_time = cn_get_be64(q + 8);
    p->created_height = cn_get_be64(q + 16);
    p->effective_time = cn_get_be64(q + 24);
    p->closed_height = cn_get_be64(q + 32);
    q += 40;
    p->n_approvals = *q++;
    size_t used = (size_t)(q - v);
    if (p->n_approvals > CN_GOV_MAX_GOVERNORS || n - used < p->n_approvals * 32)
        return -1;
    memcpy(p->approvals, q, p->n_approvals * 32);
    used += p->n_approvals * 32;
    p->action_len = n - used;
    p->action = malloc(p->action_len ? p->action_len : 1);
    if (!p->action)
        return -1;
    memcpy(p->action, v + used, p->action_len);
    return 1;
}

int cn_gov_governors(cn_overlay *ov, uint8_t out[CN_GOV_MAX_GOVERNORS][32]) {
    cn_key k;
    cn_key_start(&k, CN_SK_GOV);
    cn_key_u8(&k, 'S');
    return cn_list_get(ov, &k, &out[0][0], 32, CN_GOV_MAX_GOVERNORS);
}

int cn_keyset_update(cn_overlay *ov, const cn_key *k, size_t max, const uint8_t key[32], int add,
                     int *changed) {
    uint8_t set[CN_GOV_MAX_GOVERNORS][32];
    if (max > CN_GOV_MAX_GOVERNORS)
        return 0;
    int n = cn_list_get(ov, k, &set[0][0], 32, max);
    if (n < 0)
        return 0;
    int at = -1;
    for (int i = 0; i < n; i++)
        if (memcmp(set[i], key, 32) == 0)
            at = i;
    *changed = 0;
    if (add && at < 0) {
        if ((size_t)n == max)
            return 0;
        memcpy(set[n++], key, 32);
        *changed = 1;
    } else if (!add && at >= 0) {
        memmove(set[at], set[at + 1], (size_t)(n - at - 1) * 32);
        n--;
        *changed = 1;
    }
    return *changed ? cn_list_put(ov, k, &set[0][0], 32, (size_t)n) : 1;
}

int cn_gov_write_genesis(cn_overlay *ov, const cn_genesis *g) {
    uint8_t set[CN_GOV_MAX_GOVERNORS][32];
    size_t n = 0;
    for (size_t i = 0; i < g->n_members; i++)
        if (g->members[i].roles & CN_ROLE_GOVERNOR) {
            if (n == CN_GOV_MAX_GOVERNORS)
                return 0; /* documented limit (docs/genesis.md) */
            memcpy(set[n++], g->members[i].pubkey, 32);
        }
    cn_key k;
    cn_key_start(&k, CN_SK_GOV);
    cn_key_u8(&k, 'S');
    return cn_list_put(ov, &k, &set[0][0], 32, n);
}
