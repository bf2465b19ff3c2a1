/* The oracle view (oracle_view.h for contracts, cn_oracle_price / cn_oracle_halt_state in
 * oracle.h for other modules): reads of the oracle's records through the block overlay, so
 * every answer depends only on committed state plus this block's writes.
 *
 * "Halted" for a contract means no new risk: the asset is halted by its band breaker, the
 * market is halted at any level, the price is stale, or the asset never had a price.
 */
#include "node/app/oracle_view.h"

#include "node/app/oracle.h"

int cn_oracle_price(cn_overlay *ov, const char *asset, int64_t *price, uint64_t *updated_at) {
    cn_oracle_asset A;
    int x = cn_oracle_asset_get(ov, asset, &A);
    *price = 0;
    if (updated_at)
        *updated_at = 0;
    if (x <= 0 || A.price <= 0)
        return x < 0 ? -1 : 0;
    *price = A.price;
    if (updated_at)
        *updated_at = A.updated_at;
    return 1;
}

static uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

int cn_oracle_halt_state(cn_overlay *ov, const char *asset, uint64_t now, uint32_t *flags,
                         uint64_t *until) {
    *flags = 0;
    *until = 0;
    cn_key k;
    const uint8_t *v;
    size_t n;
    cn_sk_asset(&k, asset);
    int x = cn_overlay_get(ov, k.b, k.len, &v, &n);
    if (x <= 0)
        return x;
    cn_oracle_params P;
    cn_oracle_asset A;
    cn_oracle_market M;
    if (cn_oracle_params_load(ov, &P) < 0 || cn_oracle_asset_get(ov, asset, &A) < 0 ||
        cn_oracle_market_get(ov, &M) < 0)
        return -1;
    uint64_t u = 0;
    int level3 = 0;
    if (A.state == CN_OA_HALTED) {
        *flags |= CN_OH_ASSET;
        u = max_u64(u, A.halt_until);
    }
    if (M.level > 0) {
        *flags |= CN_OH_MARKET;
        level3 = M.level == 3;
        u = max_u64(u, M.halt_until);
    }
    if (A.price <= 0)
        *flags |= CN_OH_NO_PRICE;
    else if (A.state == CN_OA_STALE || A.updated_at + (uint64_t)P.max_age_ms < now)
        *flags |= CN_OH_STALE;
    uint64_t grace = max_u64(A.grace_until, M.grace_until);
    if (now < grace) {
        *flags |= CN_OH_GRACE;
        u = max_u64(u, grace);
    }
    *until = level3 ? 0 : u;
    return 1;
}

/* Contracts name assets by their index in the genesis list. */
static const char *symbol_of(const cn_genesis *g, int64_t asset) {
    if (asset < 0 || (uint64_t)asset >= g->n_assets)
        return NULL;
    return g->assets[asset].symbol;
}

/* The block time the view judges staleness against: the block meta in the overlay. */
static uint64_t view_now(cn_overlay *ov) {
    cn_key k;
    int64_t t;
    cn_sk_named(&k, CN_SK_META, "time");
    if (cn_state_get_i64(ov, &k, &t) <= 0 || t < 0)
        return 0;
    return (uint64_t)t;
}

int cn_oracle_view_price(cn_overlay *ov, const cn_genesis *g, int64_t asset, int64_t *price) {
    const char *sym = symbol_of(g, asset);
    *price = 0;
    if (!sym)
        return 0;
    return cn_oracle_price(ov, sym, price, NULL);
}

int cn_oracle_view_halted(cn_overlay *ov, const cn_genesis *g, int64_t asset) {
    cn_oracle_market M;
    if (asset == -1) {
        if (cn_oracle_market_get(ov, &M) < 0)
            return -1;
        return M.level > 0;
    }
    const char *sym = symbol_of(g, asset);
    if (!sym)
        return 1;
    uint32_t flags;
    uint64_t until;
    int x = cn_oracle_halt_state(ov, sym, view_now(ov), &flags, &until);
    if (x < 0)
        return -1;
    return x == 0 || (flags & CN_OH_NO_RISK) != 0;
}
