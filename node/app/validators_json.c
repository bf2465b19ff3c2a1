/* GET /v1/validators/{height} (validators_json.h). */
#include "node/app/validators_json.h"

#include <stdlib.h>

#include "crypto/encoding.h"
#include "node/app/state.h"
#include "node/app/validators.h"

static json_t *build(const cn_validators *v, uint64_t height) {
    uint8_t hash[32];
    char hex[65];
    cn_validators_hash(v, hash);
    cn_hex_encode(hex, hash, 32);
    json_t *list = json_array();
    for (uint32_t i = 0; i < v->n; i++) {
        char pk[65];
        cn_hex_encode(pk, v->key[i], 32);
        json_array_append_new(list, json_pack("{s:s, s:I}", "pubkey", pk, "power",
                                              (json_int_t)v->power[i]));
    }
    return json_pack("{s:I, s:s, s:I, s:o}", "height", (json_int_t)height, "hash", hex,
                     "total_power", (json_int_t)v->total, "validators", list);
}

json_t *cn_validators_json(cn_store *store, uint64_t height) {
    cn_store_rtxn *r;
    if (height == 0 || height > INT64_MAX || cn_store_read_begin(store, &r) != CN_STORE_OK)
        return NULL;
    cn_overlay ov;
    cn_overlay_init(&ov, r);
    cn_key k;
    int64_t tip = 0;
    cn_sk_named(&k, CN_SK_META, "height");
    cn_validators *v = malloc(sizeof *v);
    json_t *out = NULL;
    /* the sets of heights up to tip + 1 are final; later ones may still change */
    if (v && cn_state_get_i64(&ov, &k, &tip) >= 0 && tip >= 0 && height <= (uint64_t)tip + 1 &&
        cn_validators_at(r, height, v) == 1)
        out = build(v, height);
    free(v);
    cn_overlay_free(&ov);
    cn_store_read_end(r);
    return out;
}
