/* Genesis parsing and validation (see genesis.h).
 *
 * Structure: small typed field readers (int, string, hex key) that each produce a specific
 * "<path>: <reason>" error, one function per object kind (member, asset, params, contract),
 * then cross-field checks (unique keys and names, at least one validator, quorums that the
 * member roles can satisfy). The first error wins; nothing is half-filled on failure.
 */
#include "node/genesis/genesis.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "crypto/schnorr.h"
#include "node/genesis/genesis_code.h"
#include "node/genesis/genesis_io.h"

typedef struct {
    char *err;
    size_t cap;
    const char *base_dir;
} pctx;

static const char *const role_names[] = {"validator", "custodian", "oracle", "approver",
                                         "liquidator", "governor",  "auditor"};

const char *cn_role_name(uint32_t bit) {
    for (unsigned i = 0; i < 7; i++)
        if (bit == (1u << i))
            return role_names[i];
    return NULL;
}

/* Formats "<path>: <reason>" into the error buffer; returns 0 for `return fail(...)`. */
__attribute__((format(printf, 3, 4))) static int fail(pctx *c, const char *path,
                                                      const char *fmt, ...) {
    char reason[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    snprintf(c->err, c->cap, "%s: %s", path[0] ? path : "genesis", reason);
    return 0;
}

static void join(char *out, size_t cap, const char *path, const char *key) {
    snprintf(out, cap, "%s%s%s", path, path[0] ? "." : "", key);
}

/* Rejects keys of `obj` outside `allowed` (NULL-terminated). */
static int check_keys(pctx *c, json_t *obj, const char *path, const char *const *allowed) {
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        int ok = 0;
        for (size_t i = 0; allowed[i]; i++)
            if (strcmp(key, allowed[i]) == 0)
                ok = 1;
        if (!ok) {
            char p[160];
            join(p, sizeof p, path, key);
            return fail(c, p, "unknown field");
        }
    }
    return 1;
}

static int need_object(pctx *c, json_t *v, const char *path) {
    if (!json_is_object(v))
        return fail(c, path, "must be an object");
    return 1;
}

/* Reads integer field `key`; absent fields take `def` unless `required`. */
static int get_int(pctx *c, json_t *obj, const char *path, const char *key, int required,
                   int64_t def, int64_t min, int64_t max, int64_t *out) {
    char p[160];
    join(p, sizeof p, path, key);
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required)
            return fail(c, p, "missing");
        *out = def;
        return 1;
    }
    if (!json_is_integer(v))
        return fail(c, p, "must be an integer");
    json_int_t x = json_integer_value(v);
    if (x < min || x > max)
        return fail(c, p, "%lld is outside %lld..%lld", (long long)x, (long long)min,
                    (long long)max);
    *out = (int64_t)x;
    return 1;
}

static int get_u32(pctx *c, json_t *obj, const char *path, const char *key, int required,
                   uint32_t def, uint32_t min, uint32_t max, uint32_t *out) {
    int64_t x;
    if (!get_int(c, obj, path, key, required, def, min, max, &x))
        return 0;
    *out = (uint32_t)x;
    return 1;
}

typedef int (*char_ok_fn)(int ch);
static int ch_chain(int ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '_' || ch == '.';
}
static int ch_name(int ch) { return ch >= 0x20 && ch < 0x7f; }
static int ch_symbol(int ch) { return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.'; }
static int ch_contract(int ch) { return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'; }

/* Reads a required string of 1..max characters from `okch` into out (max+1 bytes). */
static int get_str(pctx *c, json_t *obj, const char *path, const char *key, size_t max,
                   char_ok_fn okch, const char *charset, char *out) {
    char p[160];
    join(p, sizeof p, path, key);
    json_t *v = json_object_get(obj, key);
    if (!v)
        return fail(c, p, "missing");
    if (!json_is_string(v))
        return fail(c, p, "must be a string");
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (n == 0 || n > max)
        return fail(c, p, "must be 1..%zu characters", max);
    for (size_t i = 0; i < n; i++)
        if (!okch((unsigned char)s[i]))
            return fail(c, p, "character %zu is not in %s", i, charset);
    memcpy(out, s, n + 1);
    return 1;
}

/* ---- members ------------------------------------------------------------------------------ */

static int parse_member(pctx *c, json_t *m, const char *path, cn_gen_member *out) {
    static const char *const keys[] = {"name", "pubkey", "roles", "power", NULL};
    if (!need_object(c, m, path) || !check_keys(c, m, path, keys))
        return 0;
    if (!get_str(c, m, path, "name", CN_MEMBER_NAME_MAX, ch_name, "printable ASCII", out->name))
        return 0;
    char p[160];
    join(p, sizeof p, path, "pubkey");
    json_t *pk = json_object_get(m, "pubkey");
    if (!pk)
        return fail(c, p, "missing");
    if (!json_is_string(pk) || json_string_length(pk) != 64 ||
        !cn_hex_decode_exact(out->pubkey, 32, json_string_value(pk)))
        return fail(c, p, "not 64 hex digits");
    if (!cn_pubkey_valid(out->pubkey))
        return fail(c, p, "not a valid x-only secp256k1 public key");
    join(p, sizeof p, path, "roles");
    json_t *roles = json_object_get(m, "roles");
    if (!roles)
        return fail(c, p, "missing");
    if (!json_is_array(roles) || json_array_size(roles) == 0)
        return fail(c, p, "must be a non-empty array of role names");
    out->roles = 0;
    size_t i;
    json_t *r;
    json_array_foreach(roles, i, r) {
        char rp[200];
        snprintf(rp, sizeof rp, "%s[%zu]", p, i);
        if (!json_is_string(r))
            return fail(c, rp, "must be a role name");
        uint32_t bit = 0;
        for (unsigned k = 0; k < 7; k++)
            if (strcmp(json_string_value(r), role_names[k]) == 0)
                bit = 1u << k;
        if (!bit)
            return fail(c, rp, "unknown role '%s' (validator, custodian, oracle, approver, "
                        "liquidator, governor, auditor)", json_string_value(r));
        if (out->roles & bit)
            return fail(c, rp, "role '%s' listed twice", json_string_value(r));
        out->roles |= bit;
    }
    int is_val = (out->roles & CN_ROLE_VALIDATOR) != 0;
    if (!get_int(c, m, path, "power", is_val, 0, is_val ? 1 : 0, is_val ? CN_MAX_POWER : 0,
                 &out->power)) {
        if (!is_val && json_object_get(m, "power")) {
            join(p, sizeof p, path, "power");
            return fail(c, p, "only validators have voting power");
        }
        return 0;
    }
    return 1;
}

/* ---- assets ------------------------------------------------------------------------------- */

static int parse_asset(pctx *c, json_t *a, const char *path, cn_gen_asset *out) {
    static const char *const keys[] = {"symbol", "decimals", "risk_tier", "haircut_bps",
                                       "initial_margin_bps", "maintenance_margin_bps",
                                       "liquidation_penalty_bps", "reference_price", NULL};
    if (!need_object(c, a, path) || !check_keys(c, a, path, keys))
        return 0;
    if (!get_str(c, a, path, "symbol", CN_SYMBOL_MAX, ch_symbol, "[A-Z0-9.]", out->symbol))
        return 0;
    if (!get_u32(c, a, path, "decimals", 1, 0, 0, 18, &out->decimals) ||
        !get_u32(c, a, path, "risk_tier", 1, 0, 1, 5, &out->risk_tier) ||
        !get_u32(c, a, path, "haircut_bps", 0, 0, 0, 10000, &out->haircut_bps) ||
        !get_u32(c, a, path, "initial_margin_bps", 1, 0, 1, 10000, &out->initial_margin_bps) ||
        !get_u32(c, a, path, "maintenance_margin_bps", 1, 0, 1, 10000,
                 &out->maintenance_margin_bps) ||
        !get_u32(c, a, path, "liquidation_penalty_bps", 0, 0, 0, 5000,
                 &out->liquidation_penalty_bps) ||
        !get_int(c, a, path, "reference_price", 1, 0, 1, INT64_MAX, &out->reference_price))
        return 0;
    if (out->maintenance_margin_bps > out->initial_margin_bps) {
        char p[160];
        join(p, sizeof p, path, "maintenance_margin_bps");
        return fail(c, p, "%u exceeds initial_margin_bps %u", out->maintenance_margin_bps,
                    out->initial_margin_bps);
    }
    return 1;
}

/* ---- params ------------------------------------------------------------------------------- */

void cn_genesis_default_params(cn_gen_params *p) {
    memset(p, 0, sizeof *p);
    p->block_max_txs = 5000;
    p->block_max_bytes = (uint64_t)2 << 20;
    p->mempool_max_txs = 50000;
    p->mempool_max_bytes = (uint64_t)64 << 20;
    p->mempool_nonce_window = 64;
    p->reserves_epoch_blocks = 1000;
    p->oracle_quorum = 1;
    p->oracle_max_age_ms = 10000;
    p->oracle_band_bps = 500;
    p->oracle_max_spread_bps = 1000;
    p->breaker_band_bps = 1000;
    p->breaker_window_ms = 300000;
    p->breaker_levels_bps[0] = 700;
    p->breaker_levels_bps[1] = 1300;
    p->breaker_levels_bps[2] = 2000;
    p->breaker_grace_ms = 60000;
    p->margin_initial_floor_bps = 5000;
    p->margin_maintenance_floor_bps = 2500;
    p->margin_short_initial_bps = 5000;
    p->margin_short_maintenance_bps = 3000;
    p->margin_fee_bps = 10;
    p->margin_penalty_bps = 500;
    p->margin_close_factor_bps = 5000;
    p->margin_full_threshold_bps = 5000;
    p->margin_concentration_tier_usd = 0;
    p->margin_concentration_addon_bps = 0;
    p->margin_volatility_k_bps = 0;
    p->margin_interest_ppb = 0;
    p->margin_max_liquidations = 100;
    p->margin_grace_liquidation_bps = 5000;
    p->n_tiers = 1;
    p->tiers[0] = (cn_gen_tier){0, 1, 0};
    p->withdraw_max_expiry_ms = 7LL * 24 * 3600 * 1000;
    p->governance_threshold = 1;
    p->governance_max_expiry_ms = 30LL * 24 * 3600 * 1000;
}

/* Reads the optional sub-object `key` of params; *sub is NULL when absent. */
static int sub_object(pctx *c, json_t *params, const char *key, const char *const *keys,
                      json_t **sub, char *path, size_t cap) {
    snprintf(path, cap, "params.%s", key);
    *sub = json_object_get(params, key);
    if (!*sub)
        return 1;
    return need_object(c, *sub, path) && check_keys(c, *sub, path, keys);
}

static int parse_tiers(pctx *c, json_t *custody, cn_gen_params *p) {
    json_t *tiers = json_object_get(custody, "tiers");
    if (!tiers)
        return 1;
    const char *tp = "params.custody.tiers";
    if (!json_is_array(tiers) || json_array_size(tiers) == 0 ||
        json_array_size(tiers) > CN_MAX_TIERS)
        return fail(c, tp, "must be an array of 1..%d tiers", CN_MAX_TIERS);
    static const char *const keys[] = {"min_amount_usd", "approvals", "cooldown_ms", NULL};
    size_t i;
    json_t *t;
    p->n_tiers = json_array_size(tiers);
    json_array_foreach(tiers, i, t) {
        char path[64];
        snprintf(path, sizeof path, "%s[%zu]", tp, i);
        cn_gen_tier *x = &p->tiers[i];
        if (!need_object(c, t, path) || !check_keys(c, t, path, keys) ||
            !get_int(c, t, path, "min_amount_usd", 1, 0, 0, INT64_MAX, &x->min_amount_usd) ||
            !get_u32(c, t, path, "approvals", 1, 0, 1, CN_MAX_MEMBERS, &x->approvals) ||
            !get_int(c, t, path, "cooldown_ms", 0, 0, 0, 30LL * 24 * 3600 * 1000,
                     &x->cooldown_ms))
            return 0;
        char fp[200];
        join(fp, sizeof fp, path, "min_amount_usd");
        if (i == 0 && x->min_amount_usd != 0)
            return fail(c, fp, "the first tier must start at 0");
        if (i > 0 && x->min_amount_usd <= p->tiers[i - 1].min_amount_usd)
            return fail(c, fp, "tiers must be in strictly increasing order");
        join(fp, sizeof fp, path, "approvals");
        if (i > 0 && x->approvals < p->tiers[i - 1].approvals)
            return fail(c, fp, "a larger tier cannot need fewer approvals");
    }
    return 1;
}

/* params.margin: the margin contract's parameter record and the liquidation pass. */
static int parse_margin(pctx *c, json_t *params, cn_gen_params *p) {
    static const char *const k[] = {
        "initial_floor_bps", "maintenance_floor_bps", "short_initial_bps",
        "short_maintenance_bps", "fee_bps", "penalty_bps", "close_factor_bps",
        "full_threshold_bps", "concentration_tier_usd", "concentration_addon_bps",
        "volatility_k_bps", "interest_ppb", "max_liquidations_per_block",
        "grace_liquidation_bps", NULL};
    char path[64];
    json_t *o;
    if (!sub_object(c, params, "margin", k, &o, path, sizeof path))
        return 0;
    if (!o)
        return 1;
    if (!get_u32(c, o, path, "initial_floor_bps", 0, p->margin_initial_floor_bps, 1, 10000,
                 &p->margin_initial_floor_bps) ||
        !get_u32(c, o, path, "maintenance_floor_bps", 0, p->margin_maintenance_floor_bps, 1,
                 10000, &p->margin_maintenance_floor_bps) ||
        !get_u32(c, o, path, "short_initial_bps", 0, p->margin_short_initial_bps, 1, 10000,
                 &p->margin_short_initial_bps) ||
        !get_u32(c, o, path, "short_maintenance_bps", 0, p->margin_short_maintenance_bps, 1,
                 9999, &p->margin_short_maintenance_bps) ||
        !get_u32(c, o, path, "fee_bps", 0, p->margin_fee_bps, 0, 1000, &p->margin_fee_bps) ||
        !get_u32(c, o, path, "penalty_bps", 0, p->margin_penalty_bps, 0, 5000,
                 &p->margin_penalty_bps) ||
        !get_u32(c, o, path, "close_factor_bps", 0, p->margin_close_factor_bps, 1, 10000,
                 &p->margin_close_factor_bps) ||
        !get_u32(c, o, path, "full_threshold_bps", 0, p->margin_full_threshold_bps, 0, 10000,
                 &p->margin_full_threshold_bps) ||
        !get_int(c, o, path, "concentration_tier_usd", 0, p->margin_concentration_tier_usd, 0,
                 INT64_MAX, &p->margin_concentration_tier_usd) ||
        !get_u32(c, o, path, "concentration_addon_bps", 0, p->margin_concentration_addon_bps,
                 0, 10000, &p->margin_concentration_addon_bps) ||
        !get_u32(c, o, path, "volatility_k_bps", 0, p->margin_volatility_k_bps, 0, 100000,
                 &p->margin_volatility_k_bps) ||
        !get_int(c, o, path, "interest_ppb", 0, p->margin_interest_ppb, 0, 1000000000,
                 &p->margin_interest_ppb) ||
        !get_u32(c, o, path, "max_liquidations_per_block", 0, p->margin_max_liquidations, 1,
                 100000, &p->margin_max_liquidations) ||
        !get_u32(c, o, path, "grace_liquidation_bps", 0, p->margin_grace_liquidation_bps, 0,
                 10000, &p->margin_grace_liquidation_bps))
        return 0;
    /* Maintenance must stay below 100%: the contract caps a rate at 9999 bps. */
    if (p->margin_maintenance_floor_bps > 9999)
        return fail(c, "params.margin.maintenance_floor_bps", "must be at most 9999");
    if (p->margin_maintenance_floor_bps > p->margin_initial_floor_bps)
        return fail(c, "params.margin.maintenance_floor_bps", "%u exceeds initial_floor_bps %u",
                    p->margin_maintenance_floor_bps, p->margin_initial_floor_bps);
    return 1;
}

static int parse_params(pctx *c, json_t *params, cn_gen_params *p) {
    cn_genesis_default_params(p);
    if (!params)
        return 1;
    static const char *const top[] = {"block", "mempool", "reserves", "oracle", "breakers",
                                      "margin", "custody", "governance", NULL};
    if (!need_object(c, params, "params") || !check_keys(c, params, "params", top))
        return 0;
    char path[64];
    json_t *o;
    static const char *const kb[] = {"max_txs", "max_bytes", NULL};
    if (!sub_object(c, params, "block", kb, &o, path, sizeof path))
        return 0;
    if (o) {
        int64_t mb;
        if (!get_u32(c, o, path, "max_txs", 0, p->block_max_txs, 1, 10000, &p->block_max_txs) ||
            !get_int(c, o, path, "max_bytes", 0, (int64_t)p->block_max_bytes, 1024, 3 << 20, &mb))
            return 0;
        p->block_max_bytes = (uint64_t)mb;
    }
    static const char *const km[] = {"max_txs", "max_bytes", "nonce_window", NULL};
    if (!sub_object(c, params, "mempool", km, &o, path, sizeof path))
        return 0;
    if (o) {
        int64_t mb;
        if (!get_u32(c, o, path, "max_txs", 0, p->mempool_max_txs, 1, 10000000,
                     &p->mempool_max_txs) ||
            !get_int(c, o, path, "max_bytes", 0, (int64_t)p->mempool_max_bytes, 128 * 1024,
                     (int64_t)1 << 34, &mb) ||
            !get_u32(c, o, path, "nonce_window", 0, p->mempool_nonce_window, 1, 100000,
                     &p->mempool_nonce_window))
            return 0;
        p->mempool_max_bytes = (uint64_t)mb;
    }
    static const char *const kr[] = {"epoch_blocks", NULL};
    if (!sub_object(c, params, "reserves", kr, &o, path, sizeof path))
        return 0;
    if (o) {
        int64_t eb;
        if (!get_int(c, o, path, "epoch_blocks", 0, (int64_t)p->reserves_epoch_blocks, 1,
                     100000000, &eb))
            return 0;
        p->reserves_epoch_blocks = (uint64_t)eb;
    }
    static const char *const ko[] = {"quorum", "max_age_ms", "band_bps", "max_spread_bps", NULL};
    if (!sub_object(c, params, "oracle", ko, &o, path, sizeof path))
        return 0;
    if (o && (!get_u32(c, o, path, "quorum", 0, p->oracle_quorum, 1, CN_MAX_MEMBERS,
                       &p->oracle_quorum) ||
              !get_int(c, o, path, "max_age_ms", 0, p->oracle_max_age_ms, 1, 3600000,
                       &p->oracle_max_age_ms) ||
              !get_u32(c, o, path, "band_bps", 0, p->oracle_band_bps, 1, 10000,
                       &p->oracle_band_bps) ||
              !get_u32(c, o, path, "max_spread_bps", 0, p->oracle_max_spread_bps, 1, 10000,
                       &p->oracle_max_spread_bps)))
        return 0;
    static const char *const kc[] = {"band_bps", "window_ms", "levels_bps", "grace_ms", NULL};
    if (!sub_object(c, params, "breakers", kc, &o, path, sizeof path))
        return 0;
    if (o) {
        if (!get_u32(c, o, path, "band_bps", 0, p->breaker_band_bps, 1, 10000,
                     &p->breaker_band_bps) ||
            !get_int(c, o, path, "window_ms", 0, p->breaker_window_ms, 1000, 86400000,
                     &p->breaker_window_ms) ||
            !get_int(c, o, path, "grace_ms", 0, p->breaker_grace_ms, 0, 86400000,
                     &p->breaker_grace_ms))
            return 0;
        json_t *lv = json_object_get(o, "levels_bps");
        if (lv) {
            const char *lp = "params.breakers.levels_bps";
            if (!json_is_array(lv) || json_array_size(lv) != 3)
                return fail(c, lp, "must be an array of 3 integers");
            for (size_t i = 0; i < 3; i++) {
                json_t *x = json_array_get(lv, i);
                char ip[96];
                snprintf(ip, sizeof ip, "%s[%zu]", lp, i);
                if (!json_is_integer(x) || json_integer_value(x) < 1 ||
                    json_integer_value(x) > 10000)
                    return fail(c, ip, "must be an integer in 1..10000");
                p->breaker_levels_bps[i] = (uint32_t)json_integer_value(x);
                if (i > 0 && p->breaker_levels_bps[i] <= p->breaker_levels_bps[i - 1])
                    return fail(c, ip, "levels must be strictly increasing");
            }
        }
    }
    if (!parse_margin(c, params, p))
        return 0;
    static const char *const kcu[] = {"tiers", "withdraw_max_expiry_ms", NULL};
    if (!sub_object(c, params, "custody", kcu, &o, path, sizeof path))
        return 0;
    if (o && (!parse_tiers(c, o, p) ||
              !get_int(c, o, path, "withdraw_max_expiry_ms", 0, p->withdraw_max_expiry_ms,
                       60000, 365LL * 24 * 3600 * 1000, &p->withdraw_max_expiry_ms)))
        return 0;
    static const char *const kg[] = {"threshold", "max_expiry_ms", NULL};
    if (!sub_object(c, params, "governance", kg, &o, path, sizeof path))
        return 0;
    if (o && (!get_u32(c, o, path, "threshold", 0, p->governance_threshold, 1, CN_MAX_MEMBERS,
                       &p->governance_threshold) ||
              !get_int(c, o, path, "max_expiry_ms", 0, p->governance_max_expiry_ms, 60000,
                       365LL * 24 * 3600 * 1000, &p->governance_max_expiry_ms)))
        return 0;
    return 1;
}

/* ---- contracts ---------------------------------------------------------------------------- */

static int parse_contract(pctx *c, json_t *k, const char *path, cn_gen_contract *out) {
    static const char *const keys[] = {"name", "path", "bytecode_hex", NULL};
    if (!need_object(c, k, path) || !check_keys(c, k, path, keys))
        return 0;
    if (!get_str(c, k, path, "name", CN_CONTRACT_NAME_MAX, ch_contract, "[a-z0-9_]", out->name))
        return 0;
    json_t *fp = json_object_get(k, "path"), *hx = json_object_get(k, "bytecode_hex");
    char p[160];
    if ((fp != NULL) == (hx != NULL)) {
        join(p, sizeof p, path, "path");
        return fail(c, p, "give exactly one of path and bytecode_hex");
    }
    if (hx) {
        join(p, sizeof p, path, "bytecode_hex");
        size_t n = json_is_string(hx) ? json_string_length(hx) : 0;
        if (n == 0 || n % 2 || n / 2 > CN_GENESIS_MAX_CODE)
            return fail(c, p, "must be an even number of hex digits, at most %zu bytes",
                        CN_GENESIS_MAX_CODE);
        out->code = malloc(n / 2);
        if (!out->code)
            return fail(c, p, "out of memory");
        if (!cn_hex_decode(out->code, n / 2, &out->code_len, json_string_value(hx), n))
            return fail(c, p, "not hex");
        return 1;
    }
    join(p, sizeof p, path, "path");
    if (!json_is_string(fp) || json_string_length(fp) == 0 || json_string_length(fp) > 255)
        return fail(c, p, "must be a relative file path of 1..255 characters");
    const char *rel = json_string_value(fp);
    if (rel[0] == '/' || strstr(rel, "..") || !c->base_dir)
        return fail(c, p, "must be relative to the genesis file, without '..'");
    char full[4096];
    snprintf(full, sizeof full, "%s/%s", c->base_dir, rel);
    char why[600];
    if (!cn_genesis_code_load(full, CN_GENESIS_MAX_CODE, &out->code, &out->code_len, why,
                              sizeof why))
        return fail(c, p, "%s: %s", rel, why);
    if (out->code_len == 0)
        return fail(c, p, "%s: empty file", rel);
    return 1;
}

/* ---- top level ---------------------------------------------------------------------------- */

static int cross_checks(pctx *c, cn_genesis *g) {
    size_t validators = 0, oracles = 0, approvers = 0, governors = 0;
    g->total_power = 0;
    for (size_t i = 0; i < g->n_members; i++) {
        const cn_gen_member *m = &g->members[i];
        char p[64];
        for (size_t j = 0; j < i; j++) {
            if (memcmp(m->pubkey, g->members[j].pubkey, 32) == 0) {
                snprintf(p, sizeof p, "members[%zu].pubkey", i);
                return fail(c, p, "same key as members[%zu]", j);
            }
            if (strcmp(m->name, g->members[j].name) == 0) {
                snprintf(p, sizeof p, "members[%zu].name", i);
                return fail(c, p, "same name as members[%zu]", j);
            }
        }
        validators += (m->roles & CN_ROLE_VALIDATOR) != 0;
        oracles += (m->roles & CN_ROLE_ORACLE) != 0;
        approvers += (m->roles & CN_ROLE_APPROVER) != 0;
        governors += (m->roles & CN_ROLE_GOVERNOR) != 0;
        g->total_power += m->power; /* each <= 1e9, at most 256 members: no overflow */
    }
    if (validators == 0)
        return fail(c, "members", "no member has the validator role");
    if (validators > CN_MAX_VALIDATORS)
        return fail(c, "members", "more than %d validators", CN_MAX_VALIDATORS);
    for (size_t i = 0; i < g->n_assets; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(g->assets[i].symbol, g->assets[j].symbol) == 0) {
                char p[64];
                snprintf(p, sizeof p, "assets[%zu].symbol", i);
                return fail(c, p, "same symbol as assets[%zu]", j);
            }
    for (size_t i = 0; i < g->n_contracts; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(g->contracts[i].name, g->contracts[j].name) == 0) {
                char p[64];
                snprintf(p, sizeof p, "contracts[%zu].name", i);
                return fail(c, p, "same name as contracts[%zu]", j);
            }
    /* The margin contract keeps cash in micro-USD: the cash asset is assets[0], 6 decimals. */
    for (size_t i = 0; i < g->n_contracts; i++)
        if (strcmp(g->contracts[i].name, "margin") == 0 &&
            (g->n_assets < 2 || g->assets[0].decimals != 6)) {
            char p[64];
            snprintf(p, sizeof p, "contracts[%zu]", i);
            return fail(c, p, "margin needs a cash asset (assets[0]) with 6 decimals and at "
                              "least one other asset");
        }
    const cn_gen_params *p = &g->params;
    /* An odd quorum makes the median a reported price, never an average of two. */
    if (p->oracle_quorum % 2 == 0)
        return fail(c, "params.oracle.quorum", "%u must be odd", p->oracle_quorum);
    if (p->oracle_quorum > oracles)
        return fail(c, "params.oracle.quorum", "%u exceeds the %zu members with role oracle",
                    p->oracle_quorum, oracles);
    if (p->governance_threshold > governors)
        return fail(c, "params.governance.threshold",
                    "%u exceeds the %zu members with role governor", p->governance_threshold,
                    governors);
    for (size_t i = 0; i < p->n_tiers; i++)
        if (p->tiers[i].approvals > approvers) {
            char tp[64];
            snprintf(tp, sizeof tp, "params.custody.tiers[%zu].approvals", i);
            return fail(c, tp, "%u exceeds the %zu members with role approver",
                        p->tiers[i].approvals, approvers);
        }
    if (p->mempool_max_bytes < p->block_max_bytes)
        return fail(c, "params.mempool.max_bytes", "smaller than params.block.max_bytes");
    return 1;
}

static int parse_root(pctx *c, json_t *root, cn_genesis *g) {
    static const char *const keys[] = {"chain_id", "genesis_time", "members", "assets",
                                       "params",   "contracts",    NULL};
    if (!json_is_object(root))
        return fail(c, "", "the top level must be a JSON object");
    if (!check_keys(c, root, "", keys))
        return 0;
    if (!get_str(c, root, "", "chain_id", CN_CHAIN_ID_MAX, ch_chain, "[A-Za-z0-9._-]",
                 g->chain_id))
        return 0;
    /* 2000-01-01 .. 9999-12-31 in ms since the epoch. */
    if (!get_int(c, root, "", "genesis_time", 1, 0, INT64_C(946684800000),
                 INT64_C(253402300799999), &g->genesis_time_ms))
        return 0;
    json_t *members = json_object_get(root, "members");
    if (!members)
        return fail(c, "members", "missing");
    if (!json_is_array(members) || json_array_size(members) == 0 ||
        json_array_size(members) > CN_MAX_MEMBERS)
        return fail(c, "members", "must be an array of 1..%d members", CN_MAX_MEMBERS);
    g->n_members = json_array_size(members);
    g->members = calloc(g->n_members, sizeof *g->members);
    if (!g->members)
        return fail(c, "members", "out of memory");
    size_t i;
    json_t *v;
    json_array_foreach(members, i, v) {
        char p[32];
        snprintf(p, sizeof p, "members[%zu]", i);
        if (!parse_member(c, v, p, &g->members[i]))
            return 0;
    }
    json_t *assets = json_object_get(root, "assets");
    if (!assets)
        return fail(c, "assets", "missing");
    if (!json_is_array(assets) || json_array_size(assets) > CN_MAX_ASSETS)
        return fail(c, "assets", "must be an array of 0..%d assets", CN_MAX_ASSETS);
    g->n_assets = json_array_size(assets);
    g->assets = calloc(g->n_assets ? g->n_assets : 1, sizeof *g->assets);
    if (!g->assets)
        return fail(c, "assets", "out of memory");
    json_array_foreach(assets, i, v) {
        char p[32];
        snprintf(p, sizeof p, "assets[%zu]", i);
        if (!parse_asset(c, v, p, &g->assets[i]))
            return 0;
    }
    if (!parse_params(c, json_object_get(root, "params"), &g->params))
        return 0;
    json_t *contracts = json_object_get(root, "contracts");
    if (contracts) {
        if (!json_is_array(contracts) || json_array_size(contracts) > CN_MAX_CONTRACTS)
            return fail(c, "contracts", "must be an array of 0..%d contracts", CN_MAX_CONTRACTS);
        g->n_contracts = json_array_size(contracts);
        g->contracts = calloc(g->n_contracts ? g->n_contracts : 1, sizeof *g->contracts);
        if (!g->contracts)
            return fail(c, "contracts", "out of memory");
        json_array_foreach(contracts, i, v) {
            char p[32];
            snprintf(p, sizeof p, "contracts[%zu]", i);
            if (!parse_contract(c, v, p, &g->contracts[i]))
                return 0;
            char why[200], bp[48];
            snprintf(bp, sizeof bp, "contracts[%zu].bytecode", i);
            if (!cn_genesis_code_verify(g->contracts[i].code, g->contracts[i].code_len, why,
                                        sizeof why))
                return fail(c, bp, "%s", why);
        }
    }
    return cross_checks(c, g);
}

int cn_genesis_parse(cn_genesis *g, const uint8_t *json, size_t len, const char *base_dir,
                     char *err, size_t err_cap) {
    memset(g, 0, sizeof *g);
    pctx c = {err, err_cap, base_dir};
    if (len > CN_GENESIS_MAX_FILE)
        return fail(&c, "", "file larger than %zu bytes", CN_GENESIS_MAX_FILE);
    json_error_t je;
    json_t *root = json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return fail(&c, "", "invalid JSON at line %d column %d: %s", je.line, je.column,
                    je.text);
    int ok = parse_root(&c, root, g);
    json_decref(root);
    if (!ok) {
        cn_genesis_free(g);
        return 0;
    }
    cn_hasher h;
    cn_hasher_start_named(&h, "clearnode/genesis");
    cn_hasher_bytes(&h, json, len);
    for (size_t i = 0; i < g->n_contracts; i++)
        cn_hasher_bytes(&h, g->contracts[i].code, g->contracts[i].code_len);
    cn_hasher_finish(&h, g->hash);
    return 1;
}

int cn_genesis_load(cn_genesis *g, const char *path, char *err, size_t err_cap) {
    memset(g, 0, sizeof *g);
    uint8_t *buf;
    size_t len;
    char why[128];
    if (!cn_read_file_capped(path, CN_GENESIS_MAX_FILE, &buf, &len, why, sizeof why)) {
        snprintf(err, err_cap, "%s: %s", path, why);
        return 0;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    else
        snprintf(dir, sizeof dir, ".");
    int ok = cn_genesis_parse(g, buf, len, dir, err, err_cap);
    free(buf);
    return ok;
}

void cn_genesis_free(cn_genesis *g) {
    for (size_t i = 0; i < g->n_contracts && g->contracts; i++)
        free(g->contracts[i].code);
    free(g->contracts);
    free(g->members);
    free(g->assets);
    memset(g, 0, sizeof *g);
}

const cn_gen_member *cn_genesis_member(const cn_genesis *g, const uint8_t pubkey[32]) {
    for (size_t i = 0; i < g->n_members; i++)
        if (memcmp(g->members[i].pubkey, pubkey, 32) == 0)
            return &g->members[i];
    return NULL;
}

static int cmp_member_key(const void *a, const void *b) {
    return memcmp((*(const cn_gen_member *const *)a)->pubkey,
                  (*(const cn_gen_member *const *)b)->pubkey, 32);
}

void cn_genesis_validators_hash(const cn_genesis *g, uint8_t out[32]) {
    const cn_gen_member *v[CN_MAX_MEMBERS] = {NULL};
    size_t n = 0;
    for (size_t i = 0; i < g->n_members; i++)
        if (g->members[i].roles & CN_ROLE_VALIDATOR)
            v[n++] = &g->members[i];
    qsort(v, n, sizeof v[0], cmp_member_key);
    cn_hasher h;
    cn_hasher_start(&h, CN_TAG_VALIDATORS);
    for (size_t i = 0; i < n; i++) {
        cn_hasher_update(&h, v[i]->pubkey, 32);
        cn_hasher_u64(&h, (uint64_t)v[i]->power);
    }
    cn_hasher_finish(&h, out);
}
