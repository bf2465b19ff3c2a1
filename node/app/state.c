/* State layout encoders and typed accessors (see state.h). */
#include "node/app/state.h"
#include "node/app/validators.h"

#include "node/app/custody.h"
#include "node/app/gov.h"
#include "node/app/margin.h"

#include <stdio.h>
#include <string.h>

#include "crypto/bytes.h"

size_t cn_account_encode(const cn_account *a, uint8_t out[CN_ACCOUNT_MAX_ENC]) {
    size_t n = 0;
    out[n++] = 1; /* version */
    out[n++] = (uint8_t)a->kind;
    cn_put_be32(out + n, a->roles);
    n += 4;
    cn_put_be64(out + n, a->nonce);
    n += 8;
    cn_put_be64_signed(out + n, a->power);
    n += 8;
    memcpy(out + n, a->registrar, 32);
    n += 32;
    size_t ll = a->label_len > CN_LABEL_MAX ? CN_LABEL_MAX : a->label_len;
    out[n++] = (uint8_t)ll;
    memcpy(out + n, a->label, ll);
    return n + ll;
}

int cn_account_decode(cn_account *a, const uint8_t *p, size_t n) {
    memset(a, 0, sizeof *a);
    if (n < 55 || p[0] != 1 || (p[1] != CN_ACCT_MEMBER && p[1] != CN_ACCT_CLIENT))
        return 0;
    a->kind = p[1];
    a->roles = cn_get_be32(p + 2);
    a->nonce = cn_get_be64(p + 6);
    a->power = cn_get_be64_signed(p + 14);
    memcpy(a->registrar, p + 22, 32);
    a->label_len = p[54];
    if (a->label_len > CN_LABEL_MAX || n != 55 + a->label_len)
        return 0;
    memcpy(a->label, p + 55, a->label_len);
    a->label[a->label_len] = 0;
    return 1;
}

void cn_asset_encode(const cn_gen_asset *a, uint8_t out[CN_ASSET_ENC]) {
    out[0] = 1;
    cn_put_be32(out + 1, a->decimals);
    cn_put_be32(out + 5, a->risk_tier);
    cn_put_be32(out + 9, a->haircut_bps);
    cn_put_be32(out + 13, a->initial_margin_bps);
    cn_put_be32(out + 17, a->maintenance_margin_bps);
    cn_put_be32(out + 21, a->liquidation_penalty_bps);
    cn_put_be64_signed(out + 25, a->reference_price);
}

int cn_asset_decode(cn_gen_asset *a, const char *symbol, const uint8_t *p, size_t n) {
    memset(a, 0, sizeof *a);
    if (n != CN_ASSET_ENC || p[0] != 1 || strlen(symbol) > CN_SYMBOL_MAX)
        return 0;
    strcpy(a->symbol, symbol);
    a->decimals = cn_get_be32(p + 1);
    a->risk_tier = cn_get_be32(p + 5);
    a->haircut_bps = cn_get_be32(p + 9);
    a->initial_margin_bps = cn_get_be32(p + 13);
    a->maintenance_margin_bps = cn_get_be32(p + 17);
    a->liquidation_penalty_bps = cn_get_be32(p + 21);
    a->reference_price = cn_get_be64_signed(p + 25);
    return 1;
}

void cn_sk_account(cn_key *k, const uint8_t pub[32]) {
    cn_key_start(k, CN_SK_ACCOUNT);
    cn_key_bytes(k, pub, 32);
}

void cn_sk_balance(cn_key *k, const uint8_t pub[32], const char *symbol) {
    cn_key_start(k, CN_SK_BALANCE);
    cn_key_bytes(k, pub, 32);
    cn_key_bytes(k, symbol, strlen(symbol));
}

void cn_sk_supply(cn_key *k, const char *symbol) { cn_sk_named(k, CN_SK_SUPPLY, symbol); }
void cn_sk_asset(cn_key *k, const char *symbol) { cn_sk_named(k, CN_SK_ASSET, symbol); }

void cn_sk_deposit(cn_key *k, const uint8_t custodian[32], const uint8_t *ref, size_t ref_len) {
    cn_key_start(k, CN_SK_DEPOSIT);
    cn_key_bytes(k, custodian, 32);
    cn_key_bytes(k, ref, ref_len);
}

void cn_sk_named(cn_key *k, uint8_t prefix, const char *name) {
    cn_key_start(k, prefix);
    cn_key_bytes(k, name, strlen(name));
}

int cn_state_get_account(cn_overlay *ov, const uint8_t pub[32], cn_account *a) {
    cn_key k;
    cn_sk_account(&k, pub);
    const uint8_t *v;
    size_t n;
    int r = cn_overlay_get(ov, k.b, k.len, &v, &n);
    if (r <= 0)
        return r;
    return cn_account_decode(a, v, n) ? 1 : -1;
}

int cn_state_put_account(cn_overlay *ov, const uint8_t pub[32], const cn_account *a) {
    cn_key k;
    cn_sk_account(&k, pub);
    uint8_t buf[CN_ACCOUNT_MAX_ENC];
    size_t n = cn_account_encode(a, buf);
    return cn_overlay_put(ov, k.b, k.len, buf, n);
}

int cn_state_get_i64(cn_overlay *ov, const cn_key *k, int64_t *v) {
    const uint8_t *p;
    size_t n;
    *v = 0;
    int r = cn_overlay_get(ov, k->b, k->len, &p, &n);
    if (r <= 0)
        return r;
    if (n != 8)
        return -1;
    *v = cn_get_be64_signed(p);
    return 1;
}

int cn_state_put_i64(cn_overlay *ov, const cn_key *k, int64_t v) {
    uint8_t b[8];
    cn_put_be64_signed(b, v);
    return cn_overlay_put(ov, k->b, k->len, b, 8);
}

int cn_state_get_balance(cn_overlay *ov, const uint8_t pub[32], const char *sym, int64_t *v) {
    cn_key k;
    cn_sk_balance(&k, pub, sym);
    int r = cn_state_get_i64(ov, &k, v);
    if (r == 1 && *v <= 0)
        return -1; /* zero balances are deleted; a stored one must be positive */
    return r;
}

int cn_state_set_balance(cn_overlay *ov, const uint8_t pub[32], const char *sym, int64_t v) {
    cn_key k;
    cn_sk_balance(&k, pub, sym);
    if (v == 0)
        return cn_overlay_del(ov, k.b, k.len);
    return cn_state_put_i64(ov, &k, v);
}

/* The named parameters kept in state, for governance to change later. */
static int put_param(cn_overlay *ov, const char *name, int64_t v) {
    cn_key k;
    cn_sk_named(&k, CN_SK_PARAM, name);
    return cn_state_put_i64(ov, &k, v);
}

int cn_state_write_genesis(cn_overlay *ov, const cn_genesis *g) {
    cn_validators vs;
    char why[96];
    if (!cn_validators_from_genesis(&vs, g, why, sizeof why) ||
        !cn_validators_write_genesis(ov, &vs))
        return 0;
    for (size_t i = 0; i < g->n_members; i++) {
        const cn_gen_member *m = &g->members[i];
        cn_account a;
        memset(&a, 0, sizeof a);
        a.kind = CN_ACCT_MEMBER;
        a.roles = m->roles;
        a.power = m->power;
        a.label_len = strlen(m->name);
        memcpy(a.label, m->name, a.label_len);
        if (!cn_state_put_account(ov, m->pubkey, &a))
            return 0;
    }
    for (size_t i = 0; i < g->n_assets; i++) {
        cn_key k;
        uint8_t rec[CN_ASSET_ENC];
        cn_asset_encode(&g->assets[i], rec);
        cn_sk_asset(&k, g->assets[i].symbol);
        if (!cn_overlay_put(ov, k.b, k.len, rec, sizeof rec))
            return 0;
        cn_sk_supply(&k, g->assets[i].symbol);
        if (!cn_state_put_i64(ov, &k, 0))
            return 0;
    }
    for (size_t i = 0; i < g->n_contracts; i++) {
        cn_key k;
        cn_sk_named(&k, CN_SK_CONTRACT, g->contracts[i].name);
        if (!cn_overlay_put(ov, k.b, k.len, g->contracts[i].code, g->contracts[i].code_len))
            return 0;
    }
    const cn_gen_params *p = &g->params;
    struct {
        const char *name;
        int64_t v;
    } params[] = {
        {"block.max_txs", p->block_max_txs},
        {"block.max_bytes", (int64_t)p->block_max_bytes},
        {"reserves.epoch_blocks", (int64_t)p->reserves_epoch_blocks},
        {"oracle.quorum", p->oracle_quorum},
        {"oracle.max_age_ms", p->oracle_max_age_ms},
        {"oracle.band_bps", p->oracle_band_bps},
        {"oracle.max_spread_bps", p->oracle_max_spread_bps},
        {"breakers.band_bps", p->breaker_band_bps},
        {"breakers.window_ms", p->breaker_window_ms},
        {"breakers.level1_bps", p->breaker_levels_bps[0]},
        {"breakers.level2_bps", p->breaker_levels_bps[1]},
        {"breakers.level3_bps", p->breaker_levels_bps[2]},
        {"breakers.grace_ms", p->breaker_grace_ms},
        {"margin.initial_floor_bps", p->margin_initial_floor_bps},
        {"margin.maintenance_floor_bps", p->margin_maintenance_floor_bps},
        {"custody.withdraw_max_expiry_ms", p->withdraw_max_expiry_ms},
        {"governance.threshold", p->governance_threshold},
        {"governance.max_expiry_ms", p->governance_max_expiry_ms},
    };
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++)
        if (!put_param(ov, params[i].name, params[i].v))
            return 0;
    for (size_t i = 0; i < p->n_tiers; i++) {
        char name[64];
        snprintf(name, sizeof name, "custody.tier%zu.min_amount_usd", i);
        if (!put_param(ov, name, p->tiers[i].min_amount_usd))
            return 0;
        snprintf(name, sizeof name, "custody.tier%zu.approvals", i);
        if (!put_param(ov, name, p->tiers[i].approvals))
            return 0;
        snprintf(name, sizeof name, "custody.tier%zu.cooldown_ms", i);
        if (!put_param(ov, name, p->tiers[i].cooldown_ms))
            return 0;
    }
    if (!cn_custody_write_genesis(ov, g) || !cn_gov_write_genesis(ov, g) ||
        !cn_margin_write_genesis(ov, g))
        return 0;
    cn_key k;
    cn_sk_named(&k, CN_SK_META, "time");
    return cn_state_put_i64(ov, &k, g->genesis_time_ms);
}
