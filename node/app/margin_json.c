/* GET /v1/margin/{pubkey} (margin_json.h). Amounts are decimal strings (JSON numbers lose
 * int64 precision in many clients); quantities in 10^-6 of a whole unit, as the contract
 * keeps them. */
#include "node/app/margin_json.h"

#include <inttypes.h>
#include <stdio.h>

#include "crypto/encoding.h"
#include "node/app/margin.h"
#include "node/app/state.h"

static json_t *i64s(int64_t v) {
    char b[24];
    snprintf(b, sizeof b, "%" PRId64, v);
    return json_string(b);
}

/* value(q, P) = floor(q × P / 10^6), as the contract computes it. */
static int64_t value(int64_t q, int64_t p) {
    __int128 x = (__int128)q * p, d = CN_MARGIN_UNIT, r = x / d;
    if (x % d != 0 && x < 0)
        r -= 1;
    return r > INT64_MAX ? INT64_MAX : r < INT64_MIN ? INT64_MIN : (int64_t)r;
}

static json_t *build(const cn_margin_account *a, const cn_genesis *g, const uint8_t pub[32]) {
    char hex[65];
    cn_hex_encode(hex, pub, 32);
    json_t *o = json_object();
    json_object_set_new(o, "account", json_string(hex));
    json_object_set_new(o, "state", json_string(cn_margin_state_name(a->state)));
    json_object_set_new(o, "cash", i64s(a->cash));
    if (a->evaluable) {
        json_object_set_new(o, "equity", i64s(a->equity));
        json_object_set_new(o, "initial", i64s(a->initial));
        json_object_set_new(o, "maintenance", i64s(a->maintenance));
    } else {
        json_object_set_new(o, "equity", json_null());
        json_object_set_new(o, "initial", json_null());
        json_object_set_new(o, "maintenance", json_null());
    }
    json_object_set_new(o, "queued", json_boolean(a->queued));
    json_object_set_new(o, "rank_bps", a->queued ? i64s(a->rank) : json_null());
    json_t *ps = json_array();
    for (size_t i = 0; i < a->npos; i++) {
        const cn_margin_pos *p = &a->pos[i];
        json_t *x = json_object();
        json_object_set_new(x, "asset", json_string(g->assets[p->asset].symbol));
        json_object_set_new(x, "side", json_string(p->qty > 0 ? "long" : "short"));
        json_object_set_new(x, "quantity", i64s(p->qty));
        json_object_set_new(x, "cost", i64s(p->cost));
        json_object_set_new(x, "price", i64s(p->price));
        json_object_set_new(x, "value", i64s(value(p->qty, p->price)));
        json_object_set_new(x, "liquidation_price", i64s(p->liq_price));
        json_object_set_new(x, "halted", json_boolean((p->halt & CN_OH_NO_RISK) != 0));
        json_object_set_new(x, "grace", json_boolean((p->halt & CN_OH_GRACE) != 0));
        json_array_append_new(ps, x);
    }
    json_object_set_new(o, "positions", ps);
    return o;
}

json_t *cn_margin_json(cn_store *store, const cn_genesis *g, const uint8_t pub[32]) {
    cn_store_rtxn *r;
    if (cn_store_read_begin(store, &r) != CN_STORE_OK)
        return NULL;
    cn_overlay ov;
    cn_overlay_init(&ov, r);
    cn_key k;
    int64_t height = 0, time_ms = 0;
    cn_sk_named(&k, CN_SK_META, "height");
    int ok = cn_state_get_i64(&ov, &k, &height) >= 0;
    cn_sk_named(&k, CN_SK_META, "time");
    ok = ok && cn_state_get_i64(&ov, &k, &time_ms) >= 0 && height >= 0 && time_ms >= 0;
    cn_margin_account a;
    json_t *out = NULL;
    if (ok && cn_margin_account_get(&ov, g, (uint64_t)height, (uint64_t)time_ms, pub, &a) > 0 &&
        a.exists)
        out = build(&a, g, pub);
    cn_overlay_free(&ov);
    cn_store_read_end(r);
    return out;
}
