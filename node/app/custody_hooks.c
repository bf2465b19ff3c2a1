/* The approval digest and the points where other modules plug into custody.
 *
 * Approval digest (docs/custody.md): H_tag("clearnode/withdraw/approve",
 *   u32 len || chain_id || be64 request_id || be64 policy_version || u32 len || asset ||
 *   be64 amount || u32 len || destination || be64 expiry)
 * Every variable-length field carries a u32 big-endian length so no two requests can share a
 * digest.
 *
 * Hooks:
 *   cn_margin_withdraw_ok    the margin module's check (margin_withdraw.c).
 *   cn_custody_asset_halted  reads the oracle module's circuit-breaker state.
 * Valuation uses the oracle's published price (the genesis reference price before the first
 * one), rounded up.
 */
#include "node/app/custody.h"

#include <stdio.h>
#include <string.h>

#include "crypto/hash.h"

void cn_withdraw_digest(uint8_t out[32], const char *chain_id, uint64_t request_id,
                        uint64_t policy_version, const char *asset, uint64_t amount,
                        const char *dest, uint64_t expiry) {
    cn_hasher h;
    cn_hasher_start(&h, CN_TAG_WITHDRAW_APPROVE);
    cn_hasher_bytes(&h, chain_id, strlen(chain_id));
    cn_hasher_u64(&h, request_id);
    cn_hasher_u64(&h, policy_version);
    cn_hasher_bytes(&h, asset, strlen(asset));
    cn_hasher_u64(&h, amount);
    cn_hasher_bytes(&h, dest, strlen(dest));
    cn_hasher_u64(&h, expiry);
    cn_hasher_finish(&h, out);
}

int cn_custody_asset_halted(cn_overlay *ov, const char *asset, uint64_t now) {
    uint32_t flags;
    uint64_t until;
    int r = cn_oracle_halt_state(ov, asset, now, &flags, &until);
    if (r <= 0)
        return r;
    return (flags & (CN_OH_ASSET | CN_OH_MARKET)) != 0;
}

int cn_custody_usd_value(cn_overlay *ov, const char *asset, int64_t amount, int64_t *usd) {
    cn_key k;
    cn_sk_asset(&k, asset);
    const uint8_t *v;
    size_t n;
    int r = cn_overlay_get(ov, k.b, k.len, &v, &n);
    if (r <= 0)
        return r;
    cn_gen_asset a;
    if (!cn_asset_decode(&a, asset, v, n) || a.decimals > 18 || amount < 0)
        return -1;
    unsigned __int128 scale = 1;
    for (uint32_t i = 0; i < a.decimals; i++)
        scale *= 10;
    int64_t price = a.reference_price;
    uint64_t at;
    int64_t op;
    int got = cn_oracle_price(ov, asset, &op, &at);
    if (got < 0)
        return -1;
    if (got && op > 0)
        price = op;
    unsigned __int128 x = (unsigned __int128)(uint64_t)amount * (uint64_t)price;
    x = (x + scale - 1) / scale;
    if (x > (unsigned __int128)INT64_MAX)
        return -1;
    *usd = (int64_t)x;
    return 1;
}
