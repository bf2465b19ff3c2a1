/* Genesis writes of the margin module (margin.h): the contract's parameter record, the house
 * maintenance rates and the parameters of the liquidation pass. */
#include "node/app/margin.h"

#include <string.h>

#include "crypto/bytes.h"
#include "node/contract/chost.h"
#include "node/contract/contract.h"

static int put_cstore(cn_overlay *ov, const uint8_t cid[32], const uint8_t *key, size_t kl,
                      const uint8_t *val, size_t vl) {
    uint8_t k[CN_CSTORE_PREFIX_LEN + CN_VM_MAX_KEY];
    size_t n = cn_cstore_key(k, cid, key, kl);
    return cn_overlay_put(ov, k, n, val, vl);
}

int cn_margin_write_genesis(cn_overlay *ov, const cn_genesis *g) {
    int deployed = 0;
    for (size_t i = 0; i < g->n_contracts; i++)
        deployed |= strcmp(g->contracts[i].name, CN_MARGIN_NAME) == 0;
    if (!deployed)
        return 1;
    const cn_gen_params *p = &g->params;
    /* the record "g" of docs/margin.md, "Parameters", in offset order */
    const int64_t rec[12] = {
        p->margin_initial_floor_bps,       p->margin_short_initial_bps,
        p->margin_maintenance_floor_bps,   p->margin_short_maintenance_bps,
        p->margin_fee_bps,                 p->margin_penalty_bps,
        p->margin_close_factor_bps,        p->margin_full_threshold_bps,
        p->margin_concentration_tier_usd,  p->margin_concentration_addon_bps,
        p->margin_volatility_k_bps,        p->margin_interest_ppb,
    };
    uint8_t cid[32], buf[96];
    cn_contract_id(CN_MARGIN_NAME, cid);
    for (size_t i = 0; i < 12; i++)
        cn_put_be64(buf + 8 * i, (uint64_t)rec[i]);
    if (!put_cstore(ov, cid, (const uint8_t *)"g", 1, buf, sizeof buf))
        return 0;
    for (size_t i = 1; i < g->n_assets; i++) {
        uint8_t key[9], v[8];
        key[0] = 'h';
        cn_put_be64(key + 1, (uint64_t)i);
        cn_put_be64(v, g->assets[i].maintenance_margin_bps);
        if (!put_cstore(ov, cid, key, sizeof key, v, sizeof v))
            return 0;
    }
    cn_key k;
    cn_sk_named(&k, CN_SK_PARAM, CN_MARGIN_P_MAX_LIQ);
    if (!cn_state_put_i64(ov, &k, p->margin_max_liquidations))
        return 0;
    cn_sk_named(&k, CN_SK_PARAM, CN_MARGIN_P_GRACE);
    return cn_state_put_i64(ov, &k, p->margin_grace_liquidation_bps);
}
