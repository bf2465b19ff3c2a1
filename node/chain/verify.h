/* Offline chain verification (`clearnode verify`): what an operator or the crash test runs
 * against a stopped node's store to prove it is intact.
 *
 * Checks, for every height 1..tip: the block decodes and links to the previous one (height,
 * last_block_id, strictly increasing time), its last_commit certifies the previous block and
 * hashes to last_commit_hash, the stored commit certificate of the height is valid, tx_root
 * matches, every tx has its receipt at (height, index), header.app_hash is the app hash after
 * the previous height, and the stored app hash chain links: app_hash(h) = H(app_hash(h-1) ||
 * ws(h)). Then the meta tip matches, and for every asset supply = sum of balances.
 * With `replay`, every block is re-executed from genesis in a temporary store through the app
 * interface (process_proposal, finalize_block, commit): each app hash and the final state must
 * be identical, key by key.
 */
#ifndef CLEARNODE_NODE_CHAIN_VERIFY_H
#define CLEARNODE_NODE_CHAIN_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "node/genesis/genesis.h"
#include "node/store/store.h"

typedef struct {
    uint64_t height;
    uint64_t txs;
    size_t assets;
    char app_hash_hex[65];
} cn_verify_report;

/* Returns 1 if everything holds, else 0 with the first problem in err. */
int cn_verify_chain(cn_store *s, const cn_genesis *g, int replay, cn_verify_report *rep,
                    char *err, size_t cap);

/* Checks supply = sum of balances for every asset in the state of snapshot r. Returns 1, or 0
 * with the asset named in err; *n_assets gets the number of assets. */
int cn_verify_supply(cn_store_rtxn *r, size_t *n_assets, char *err, size_t cap);

#endif
