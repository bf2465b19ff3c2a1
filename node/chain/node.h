/* A running node, validator or full node: `clearnode start`.
 *
 * Layout of a home directory (docs/operator.md):
 *   <home>/config          key = value settings (node/config)
 *   <home>/genesis.json    the chain's genesis (plus contract files it names by path)
 *   <home>/validator.key   the validator's key file (crypto/keyfile.h)
 *   <home>/data/           the LMDB environment (node/store), readable with mdb_stat
 */
#ifndef CLEARNODE_NODE_CHAIN_NODE_H
#define CLEARNODE_NODE_CHAIN_NODE_H

#include <stddef.h>

#include "crypto/schnorr.h"
#include "node/app/app.h"
#include "node/config/config.h"
#include "node/rpc/backend.h"

typedef struct cn_node cn_node;

/* Opens the node's home: loads and validates genesis, opens the store and the app (genesis
 * state on first start, otherwise resumes at the last committed height), creates the mempool.
 * `key` is the node key: a validator's consensus key, or a full node's p2p identity.
 * Returns 1, or 0 with a reason. */
int cn_node_open(cn_node **out, const char *home, const cn_config *cfg, const cn_keypair *key,
                 char *err, size_t cap);

/* Runs the HTTP API and SIGINT/SIGTERM on the event loop and the consensus engine on its own
 * thread (docs/architecture.md "Threads"); a stop joins the engine after its current step.
 * Returns 0 after a clean stop, 1 after a fatal error. */
int cn_node_run(cn_node *n);

cn_app *cn_node_app(cn_node *n);
const cn_rpc_backend *cn_node_rpc_backend(cn_node *n);

void cn_node_close(cn_node *n);

#endif
