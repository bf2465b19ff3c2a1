/* The validator set as consensus sees it: who signs which height, with what power.
 *
 * Genesis gives the set of height 1 (members with the validator role; their power). A
 * governance `validator_power` change executed in block H takes effect at H + 2
 * (docs/governance.md): the end of block H + 1 applies it (gov.c), so the state after block h
 * always holds the complete set of height h + 1, and every validator knows the signers of the
 * next height before it starts.
 *
 * State (module byte 'v', docs/state.md):
 *   'v' 'n'   the set of the next height (h + 1 after block h)
 *   'v' 'l'   the set of the last executed height h (it signs the commit that block h + 1
 *             carries, so block h + 1 is checked against it)
 * Both are written at genesis; afterwards only when a power change takes effect (and 'l'
 * once more, at the next block, to catch up with 'n').
 *
 * Encoding: be32 n || n × (pubkey(32) || be64 power), keys strictly ascending, powers
 * 1..CN_MAX_POWER, 1 <= n <= CN_VALIDATORS_MAX. A validator's index (its number in consensus
 * messages' tallies) is its position in this order, which is also the order the set hash
 * uses: H_tag("clearnode/validators", for each: pubkey || be64 power), the header's
 * validators_hash.
 */
#ifndef CLEARNODE_NODE_APP_VALIDATORS_H
#define CLEARNODE_NODE_APP_VALIDATORS_H

#include <stddef.h>
#include <stdint.h>

#include "node/app/overlay.h"
#include "node/genesis/genesis.h"
#include "node/store/store.h"

#define CN_VALIDATORS_MAX ((uint32_t)CN_MAX_VALIDATORS)
#define CN_SK_VALSET 'v'
#define CN_VALIDATORS_ENC_MAX (4 + CN_VALIDATORS_MAX * 40)

typedef struct {
    uint32_t n;
    int64_t total;
    uint8_t key[CN_VALIDATORS_MAX][32]; /* ascending */
    int64_t power[CN_VALIDATORS_MAX];
} cn_validators;

/* The set of height 1: genesis members with power > 0. Returns 1, or 0 with a reason (none,
 * or more than CN_VALIDATORS_MAX). */
int cn_validators_from_genesis(cn_validators *v, const cn_genesis *g, char *err, size_t cap);

void cn_validators_hash(const cn_validators *v, uint8_t out[32]);
/* Index of key in the set, or -1. */
int cn_validators_index(const cn_validators *v, const uint8_t key[32]);

size_t cn_validators_encode(const cn_validators *v, uint8_t out[CN_VALIDATORS_ENC_MAX]);
/* Returns 1, or 0 for a record that breaks any rule of the encoding. */
int cn_validators_decode(cn_validators *v, const uint8_t *p, size_t n);

/* Reads 'v' 'n' (next = 1) or 'v' 'l' (next = 0). Returns 1, 0 absent, -1 storage error or a
 * malformed record. */
int cn_validators_get(cn_overlay *ov, int next, cn_validators *out);
int cn_validators_read(cn_store_rtxn *r, int next, cn_validators *out);

/* Writes both records for genesis. Returns 1, or 0 when memory ran out. */
int cn_validators_write_genesis(cn_overlay *ov, const cn_validators *v);

/* End of block: 'l' takes the old 'n'; then the (key, be64 power) changes (40 bytes each)
 * apply to 'n' (power 0 removes a validator, a new key joins). Writes only what changes.
 * Returns 1, or 0 on a storage failure or a change that would leave a set breaking the rules
 * (callers refuse such changes when they are proposed: cn_validators_check_change). */
int cn_validators_end_block(cn_overlay *ov, const uint8_t *changes, size_t n_changes);

/* Would setting key's power to `power`, after the pending changes (40 bytes each) applied to
 * the next set, leave a valid set (at least one validator, at most CN_VALIDATORS_MAX)?
 * Returns 1 yes, 0 no (reason in msg), -1 storage error. */
int cn_validators_check_change(cn_overlay *ov, const uint8_t *pending, size_t n_pending,
                               const uint8_t key[32], int64_t power, char *msg, size_t cap);

/* History in the meta database, key "valset" || be64 height: the encoded set that signs from
 * that height on. Written for height 1 at genesis and by cn_app_commit whenever 'v' 'n'
 * changes, so commits of any past height can be checked (clearnode verify, block sync
 * serving, GET /v1/validators). */
cn_store_err cn_validators_history_put(cn_store_wtxn *b, uint64_t height, const uint8_t *enc,
                              size_t len);
/* The set of `height`. Returns 1, 0 if there is no entry at or below it, -1 on a storage
 * error or a malformed record. */
int cn_validators_at(cn_store_rtxn *r, uint64_t height, cn_validators *out);

#endif
