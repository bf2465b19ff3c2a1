/* JSON views of withdrawals and proposals (see custody_json.h). */
#include "node/app/custody_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/bytes.h"
#include "crypto/encoding.h"
#include "node/app/custody.h"
#include "node/app/gov.h"

static const char *const WD_STATUS[] = {"?", "pending", "executed", "cancelled", "expired"};
static const char *const GOV_STATUS[] = {"?",         "open",    "executed", "expired",
                                         "cancelled", "delayed", "failed"};

static json_t *hexj(const uint8_t *p, size_t n) {
    char h[65];
    cn_hex_encode(h, p, n);
    return json_string(h);
}

static json_t *i64s(int64_t v) {
    char s[24];
    snprintf(s, sizeof s, "%lld", (long long)v);
    return json_string(s);
}

/* One request as JSON, with the counted approvals and the tier it needs now. */
static json_t *wd_json(cn_overlay *ov, const cn_withdrawal *w) {
    json_t *ap = json_array();
    for (size_t i = 0; i < w->n_approvals; i++)
        json_array_append_new(ap, json_pack("{s:o, s:I, s:I}", "approver",
                                            hexj(w->approvals[i].key, 32), "policy_version",
                                            (json_int_t)w->approvals[i].policy_version, "time",
                                            (json_int_t)w->approvals[i].time));
    uint64_t last = 0, pv = 0;
    uint32_t m = 0;
    int64_t cd = 0;
    int counted = cn_custody_count(ov, w, &last);
    if (cn_custody_tier(ov, w->usd, &m, &cd) < 0 || cn_custody_policy_version(ov, &pv) < 0 ||
        counted < 0) {
        json_decref(ap);
        return NULL;
    }
    int st = w->status >= 1 && w->status <= 4 ? w->status : 0;
    return json_pack("{s:I, s:s, s:o, s:s, s:o, s:o, s:s, s:I, s:I, s:I, s:I, s:o, s:i, s:I, "
                     "s:I, s:I}",
                     "id", (json_int_t)w->id, "status", WD_STATUS[st], "client",
                     hexj(w->client, 32), "asset", w->asset, "amount", i64s(w->amount),
                     "value_usd", i64s(w->usd), "destination", w->dest, "expiry",
                     (json_int_t)w->expiry, "created_time", (json_int_t)w->created_time,
                     "created_height", (json_int_t)w->created_height, "closed_height",
                     (json_int_t)w->closed_height, "approvals", ap, "approvals_counted",
                     counted, "approvals_required", (json_int_t)m, "cooldown_ms",
                     (json_int_t)cd, "policy_version", (json_int_t)pv);
}

json_t *cn_custody_json_withdrawal(cn_store *store, uint64_t id) {
    cn_store_rtxn *r;
    if (cn_store_read_begin(store, &r) != CN_STORE_OK)
        return NULL;
    cn_overlay ov;
    cn_overlay_init(&ov, r);
    cn_withdrawal w;
    json_t *out = NULL;
    if (cn_custody_get(&ov, id, &w) == 1)
        out = wd_json(&ov, &w);
    cn_overlay_free(&ov);
    cn_store_read_end(r);
    return out;
}

json_t *cn_custody_json_account(cn_store *store, const uint8_t pub[32]) {
    cn_store_rtxn *r;
    if (cn_store_read_begin(store, &r) != CN_STORE_OK)
        return NULL;
    cn_overlay ov;
    cn_overlay_init(&ov, r);
    cn_account a;
    json_t *out = NULL;
    static uint8_t ids[CN_CUSTODY_CLIENT_LIST * 8];
    cn_key k;
    cn_sk_custody(&k, 'C');
    cn_key_bytes(&k, pub, 32);
    int n;
    if (cn_state_get_account(&ov, pub, &a) == 1 &&
        (n = cn_list_get(&ov, &k, ids, 8, CN_CUSTODY_CLIENT_LIST)) >= 0) {
        json_t *arr = json_array();
        for (int i = n - 1; i >= 0; i--) { /* newest first */
            cn_withdrawal w;
            if (cn_custody_get(&ov, cn_get_be64(ids + (size_t)i * 8), &w) != 1)
                continue;
            json_t *j = wd_json(&ov, &w);
            if (j)
                json_array_append_new(arr, j);
        }
        out = json_pack("{s:o, s:o}", "account", hexj(pub, 32), "withdrawals", arr);
    }
    cn_overlay_free(&ov);
    cn_store_read_end(r);
    return out;
}

json_t *cn_gov_json_proposal(cn_store *store, uint64_t id) {
    cn_store_rtxn *r;
    if (cn_store_read_begin(store, &r) != CN_STORE_OK)
        return NULL;
    cn_overlay ov;
    cn_overlay_init(&ov, r);
    cn_proposal p;
    json_t *out = NULL;
    if (cn_gov_get(&ov, id, &p) == 1) {
        json_t *ap = json_array();
        for (size_t i = 0; i < p.n_approvals; i++)
            json_array_append_new(ap, hexj(p.approvals[i], 32));
        cn_pb pb;
        memset(&pb, 0, sizeof pb);
        const char *action = "?";
        if (cn_decode(CN_MSG_TX, p.action, p.action_len, &pb) == CN_DECODE_OK) {
            const Clearnode__V1__Tx *t = (const Clearnode__V1__Tx *)pb.msg;
            const ProtobufCFieldDescriptor *f =
                t->kind_case == CLEARNODE__V1__TX__KIND_GOVERNANCE_PROPOSE
                    ? protobuf_c_message_descriptor_get_field(
                          t->governance_propose->base.descriptor,
                          (unsigned)t->governance_propose->action_case)
                    : NULL;
            if (f)
                action = f->name;
        }
        int st = p.status >= 1 && p.status <= 6 ? p.status : 0;
        out = json_pack("{s:I, s:s, s:s, s:o, s:I, s:I, s:I, s:I, s:I, s:o}", "id",
                        (json_int_t)p.id, "status", GOV_STATUS[st], "action", action,
                        "proposer", hexj(p.proposer, 32), "expiry", (json_int_t)p.expiry,
                        "created_time", (json_int_t)p.created_time, "created_height",
                        (json_int_t)p.created_height, "effective_time",
                        (json_int_t)p.effective_time, "closed_height",
                        (json_int_t)p.closed_height, "approvals", ap);
        cn_pb_free(&pb);
        free(p.action);
    }
    cn_overlay_free(&ov);
    cn_store_read_end(r);
    return out;
}
