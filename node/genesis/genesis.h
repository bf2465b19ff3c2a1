/* Genesis: the chain's initial members, assets, module parameters and contracts.
 *
 * The genesis file is JSON (docs/genesis.md documents every field). It is untrusted input:
 * it is size-capped before parsing, parsed with duplicate keys rejected, and every field is
 * checked for type, range and consistency. Unknown fields are errors, so a typo never silently
 * falls back to a default. The first problem found is reported as "<path>: <reason>", where
 * path names the field the way a person would write it (`members[2].pubkey`), and the node
 * refuses to start.
 *
 * The genesis hash binds a node's data directory to the genesis it was created from: it is
 * H_tag("clearnode/genesis", u32 len || file bytes || for each contract u32 len || bytecode),
 * so it also covers bytecode loaded from files next to the genesis.
 *
 * All numbers are integers (no fractions anywhere): amounts in smallest units, prices in
 * micro-USD per whole unit, ratios in basis points, times in milliseconds since the epoch.
 */
#ifndef CLEARNODE_NODE_GENESIS_GENESIS_H
#define CLEARNODE_NODE_GENESIS_GENESIS_H

#include <stddef.h>
#include <stdint.h>

#define CN_GENESIS_MAX_FILE ((size_t)8 << 20) /* bytes of genesis JSON */
#define CN_GENESIS_MAX_CODE ((size_t)1 << 20) /* bytes of one contract's bytecode */
#define CN_CHAIN_ID_MAX 64
#define CN_MEMBER_NAME_MAX 64
#define CN_SYMBOL_MAX 16
#define CN_CONTRACT_NAME_MAX 32
#define CN_MAX_MEMBERS 256
#define CN_MAX_ASSETS 64
#define CN_MAX_CONTRACTS 32
#define CN_MAX_TIERS 8
#define CN_MAX_VALIDATORS 64 /* the consensus core's limit (node/consensus/types.h) */
#define CN_MAX_POWER INT64_C(1000000000) /* per validator; the total stays far from overflow */

/* Role bits, equal to clearnode.v1.Role. */
enum {
    CN_ROLE_VALIDATOR = 1u,
    CN_ROLE_CUSTODIAN = 2u,
    CN_ROLE_ORACLE = 4u,
    CN_ROLE_APPROVER = 8u,
    CN_ROLE_LIQUIDATOR = 16u,
    CN_ROLE_GOVERNOR = 32u,
    CN_ROLE_AUDITOR = 64u,
    CN_ROLE_ALL = 127u
};

/* Name of a single role bit ("validator"), or NULL. */
const char *cn_role_name(uint32_t bit);

typedef struct {
    char name[CN_MEMBER_NAME_MAX + 1];
    uint8_t pubkey[32];
    uint32_t roles; /* CN_ROLE_* bits, nonzero */
    int64_t power;  /* voting power, > 0 exactly for validators */
} cn_gen_member;

typedef struct {
    char symbol[CN_SYMBOL_MAX + 1];
    uint32_t decimals;              /* 0..18 */
    uint32_t risk_tier;             /* 1 (lowest risk) .. 5 */
    uint32_t haircut_bps;           /* collateral value haircut, 0..10000 */
    uint32_t initial_margin_bps;    /* 1..10000 */
    uint32_t maintenance_margin_bps; /* 1..initial_margin_bps */
    uint32_t liquidation_penalty_bps; /* 0..5000 */
    int64_t reference_price;        /* micro-USD per whole unit, > 0 */
} cn_gen_asset;

typedef struct {
    int64_t min_amount_usd; /* micro-USD; the first tier starts at 0 */
    uint32_t approvals;     /* 1..number of approvers */
    int64_t cooldown_ms;
} cn_gen_tier;

typedef struct {
    /* block */
    uint32_t block_max_txs;     /* 1..CN_CAP_TX_COUNT */
    uint64_t block_max_bytes;   /* 1 KiB..3 MiB (a block must fit CN_CAP_BLOCK) */
    /* mempool: the defaults `clearnode init` writes into the node's config */
    uint32_t mempool_max_txs;
    uint64_t mempool_max_bytes;
    uint32_t mempool_nonce_window;
    /* reserves */
    uint64_t reserves_epoch_blocks;
    /* oracle and circuit breakers */
    uint32_t oracle_quorum;
    int64_t oracle_max_age_ms;
    uint32_t oracle_band_bps;
    uint32_t oracle_max_spread_bps;
    uint32_t breaker_band_bps;
    int64_t breaker_window_ms;
    uint32_t breaker_levels_bps[3]; /* market-wide levels, strictly increasing */
    int64_t breaker_grace_ms;
    /* margin */
    uint32_t margin_initial_floor_bps;     /* Reg T floor on initial margin */
    uint32_t margin_maintenance_floor_bps; /* FINRA floor on maintenance margin */
    /* the margin contract's parameter record and the node's liquidation pass (docs/margin.md):
     * initial_floor_bps is the contract's im_long, maintenance_floor_bps its mm_long */
    uint32_t margin_short_initial_bps;     /* im_short: beyond the short sale's proceeds */
    uint32_t margin_short_maintenance_bps; /* mm_short (FINRA 30%) */
    uint32_t margin_fee_bps;
    uint32_t margin_penalty_bps;
    uint32_t margin_close_factor_bps;
    uint32_t margin_full_threshold_bps;
    int64_t margin_concentration_tier_usd; /* micro-USD, 0 = no concentration add-on */
    uint32_t margin_concentration_addon_bps;
    uint32_t margin_volatility_k_bps;
    int64_t margin_interest_ppb;           /* loan interest per block, parts per billion */
    uint32_t margin_max_liquidations;      /* liquidation steps per block (work cap) */
    uint32_t margin_grace_liquidation_bps; /* in a grace period: only equity < this × MM */
    /* custody */
    size_t n_tiers;
    cn_gen_tier tiers[CN_MAX_TIERS];
    int64_t withdraw_max_expiry_ms;
    /* governance */
    uint32_t governance_threshold; /* governors' approvals needed */
    int64_t governance_max_expiry_ms;
} cn_gen_params;

typedef struct {
    char name[CN_CONTRACT_NAME_MAX + 1];
    uint8_t *code; /* malloc'd */
    size_t code_len;
} cn_gen_contract;

typedef struct {
    char chain_id[CN_CHAIN_ID_MAX + 1];
    int64_t genesis_time_ms;
    size_t n_members;
    cn_gen_member *members; /* malloc'd */
    size_t n_assets;
    cn_gen_asset *assets; /* malloc'd, in file order */
    cn_gen_params params;
    size_t n_contracts;
    cn_gen_contract *contracts; /* malloc'd */
    uint8_t hash[32];
    int64_t total_power;
} cn_genesis;

/* Fills `p` with the default parameters (docs/genesis.md lists them). */
void cn_genesis_default_params(cn_gen_params *p);

/* Parses and validates genesis JSON held in memory. `base_dir` resolves contract `path`
 * fields (NULL: contract paths are rejected). Returns 1, or 0 with "<path>: <reason>" in err
 * (g is then empty; cn_genesis_free is still safe). */
int cn_genesis_parse(cn_genesis *g, const uint8_t *json, size_t len, const char *base_dir,
                     char *err, size_t err_cap);

/* Reads a genesis file (size-capped) and parses it; contract paths resolve against the
 * file's directory. */
int cn_genesis_load(cn_genesis *g, const char *path, char *err, size_t err_cap);

void cn_genesis_free(cn_genesis *g);

/* Finds a member by public key; NULL if none. */
const cn_gen_member *cn_genesis_member(const cn_genesis *g, const uint8_t pubkey[32]);

/* The validator set hash: H_tag("clearnode/validators", for each validator in pubkey order:
 * pubkey || u64 power). */
void cn_genesis_validators_hash(const cn_genesis *g, uint8_t out[32]);

#endif
