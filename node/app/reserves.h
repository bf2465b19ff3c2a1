/* Proof of reserves on chain (docs/reserves.md, "On chain").
 *
 * Epochs: with E = genesis param reserves.epoch_blocks, epoch e (e >= 1) ends with block
 * e * E. At the end of that block (end-of-block step 4) the chain builds the Merkle sum tree
 * (crypto/sumtree.h) over every account that has an 'a' record (members and clients; contract
 * balances have no 'a' record and are not client liabilities). Each leaf holds, per genesis
 * asset in genesis order, the account's claim = balance + locked balance ('l', custody), and
 * on the cash asset (genesis asset 0) also the non-negative part of its cash in the margin
 * contract when one is deployed (margin_store.h; open positions are not claims). Debts are
 * never netted in (balances are never negative; a margin loan counts 0). A cash claim above
 * the leaf bound is recorded as the bound and reported (reserves.claim_capped). Accounts
 * whose claims are all zero are left out.
 *
 * Salts: secret(pubkey) = H_tag("clearnode/por/salt-secret", reserves_key(32) || pubkey(32)),
 * salt = cn_por_salt(secret, epoch, pubkey). reserves_key is the consortium's shared secret
 * (file `reserves.secret` in the node home, identical on every member, never in genesis or
 * state); it is installed with cn_reserves_set_key before blocks execute. All members can
 * compute every salt; a client learns its secret from GET /v1/reserves/{e}/proof/{pubkey}.
 *
 * State (module byte 'r'; docs/state.md):
 *   'r' 'E' be64 epoch             epoch record: u8 version=1, be64 height, root(32), be32 depth,
 *                                  be64 leaf_count, be32 K, K x (u8 len, symbol, u128 total)
 *   'r' 'L' be64 epoch be32 chunk  leaf set in chunks of at most CN_RESERVES_CHUNK_BYTES: rows
 *                                  (pubkey(32), K x be64 claim) in account-key order, leaf_count
 *                                  rows in all; the tree is rebuilt from it on demand
 *   'r' 'A' be64 epoch custodian   attestation: be32 n, n x (u8 len, symbol, be64 amount)
 *   'r' 'S' be64 epoch             solvency: be32 K, K x (u128 reserves, u8 solvent)
 *   'r' 'P'                        latest published epoch, be64 (absent before the first)
 */
#ifndef CLEARNODE_NODE_APP_RESERVES_H
#define CLEARNODE_NODE_APP_RESERVES_H

#include <stdint.h>

#include "crypto/sumtree.h"
#include "node/app/ledger.h"
#include "node/app/oracle.h"
#include "node/app/overlay.h"
#include "node/genesis/genesis.h"

#define CN_SK_RESERVES 'r'
#define CN_RESERVES_KEY_LEN 32u
#define CN_RESERVES_CHUNK_BYTES ((size_t)4 * 1024 * 1024) /* leaf-set bytes per state value */

/* An epoch's published record, decoded. */
typedef struct {
    uint64_t epoch;
    uint64_t height;        /* block whose end built the tree */
    uint8_t root[32];
    uint32_t depth;
    uint64_t leaf_count;
    uint32_t n_assets;
    char assets[CN_POR_MAX_ASSETS][CN_POR_SYMBOL_MAX + 1];
    cn_u128 totals[CN_POR_MAX_ASSETS];
} cn_reserves_epoch;

/* Per-asset attested reserves of an epoch and whether each covers its liabilities. */
typedef struct {
    uint32_t n_assets;
    cn_u128 reserves[CN_POR_MAX_ASSETS];
    uint8_t solvent[CN_POR_MAX_ASSETS];
} cn_reserves_solvency;

/* Installs the consortium reserves key (all members use the same one). Until called, the key
 * is all zero: salts are then derivable by anyone (tests, single-operator dev chains). */
void cn_reserves_set_key(const uint8_t key[CN_RESERVES_KEY_LEN]);
/* Loads `<home>/reserves.secret` (64 hex digits, optional trailing newline) and installs it.
 * An absent file leaves the all-zero key (returns 1); a malformed one returns 0 with why. */
int cn_reserves_load_key(const char *home, char *why, size_t cap);
/* Validates `src` (64 hex digits) and writes it as `<home>/reserves.secret`, mode 0600, never
 * overwriting (clearnode init --reserves-secret). 1, or 0 with why. */
int cn_reserves_install_key(const char *src, const char *home, char *why, size_t cap);
/* The per-account secret a client receives (see top). */
void cn_reserves_account_secret(uint8_t out[32], const uint8_t pubkey[32]);

/* End-of-block step: builds and stores the epoch's tree when `height` ends an epoch, and
 * emits "reserves.published". Returns 1, or 0 on a storage or memory failure. */
int cn_reserves_end_block(cn_overlay *ov, const cn_genesis *g, uint64_t height, cn_evlist *ev);

/* Reads an epoch record: 1 found, 0 absent, -1 storage error or malformed. */
int cn_reserves_get_epoch(cn_overlay *ov, uint64_t epoch, cn_reserves_epoch *out);
/* Latest published epoch (0 when none): 1, or -1 on a storage error. */
int cn_reserves_latest(cn_overlay *ov, uint64_t *epoch);
/* Solvency record: 1 found, 0 absent (no attestation yet), -1 error. */
int cn_reserves_get_solvency(cn_overlay *ov, uint64_t epoch, cn_reserves_solvency *out);

/* Rebuilds an epoch's tree from its stored leaf set (the same root as published). Returns
 * 1 with *out set, 0 if the epoch is unknown, -1 on a storage, memory or consistency error. */
int cn_reserves_rebuild(cn_overlay *ov, const char *chain_id, uint64_t epoch,
                        cn_sumtree **out);

/* The reserves root the next header must carry: the latest published epoch's root in the
 * committed state. Returns 1 with root set, 0 when no epoch is published, -1 on a storage
 * error. */
int cn_reserves_committed_root(cn_store *store, uint8_t root[32]);
/* Header check: `len` must be 0 before the first epoch, else 32 bytes equal to that root. On
 * failure returns 0 with the reason in why. */
int cn_reserves_header_ok(cn_store *store, const uint8_t *root, size_t len, char *why,
                          size_t cap);

/* reserve_attest: stateless field checks and execution (custodian role checked by the
 * permission table). */
cn_txerr cn_reserves_validate(const Clearnode__V1__ReserveAttest *a, char *msg, size_t cap);
void cn_reserves_exec(cn_overlay *ov, const uint8_t signer[32],
                      const Clearnode__V1__ReserveAttest *a, cn_exec_result *r);

#endif
