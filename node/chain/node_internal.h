/* The assembled node: genesis, store, app, mempool, producer, event loop and HTTP API.
 * Shared by node.c (lifecycle) and backend.c (the RPC backend table). */
#ifndef CLEARNODE_NODE_CHAIN_NODE_INTERNAL_H
#define CLEARNODE_NODE_CHAIN_NODE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "node/chain/admitter.h"
#include "node/chain/node.h"
#include "node/chain/engine.h"
#include "node/chain/proof_warmer.h"
#include "node/mempool/mempool.h"
#include "node/rpc/backend.h"
#include "node/util/workpool.h"

#define CN_RATE_SAMPLES 32

struct cn_node {
    char home[4096];
    cn_config cfg;
    cn_genesis g;
    cn_store *store;
    cn_app *app;
    cn_mempool *mp;
    cn_keypair key;
    cn_engine *eng;
    cn_rpc_backend backend;
    struct event_base *base;
    struct event *timer, *sigint, *sigterm;
    struct cn_rpc_server *rpc;
    int fatal;
    /* Threads (docs/architecture.md "Threads"): the event loop owns the HTTP API; the engine
     * thread runs consensus, the network and block execution; `verifiers` check batch
     * signatures in parallel. */
    pthread_mutex_t mp_mu; /* guards mp (every cn_mempool_* call) */
    pthread_mutex_t tip_mu; /* guards the tip copy below, which the API reads */
    uint64_t tip_height, tip_time_ms;
    uint8_t tip_app_hash[32], tip_block_id[32];
    struct event *watch;
    cn_workpool *verifiers;
    cn_admitter *admitter; /* peers' txs, admitted off the engine thread */
    cn_proof_warmer *warmer; /* rebuilds a new reserves epoch's tree for the proof routes */
    /* (wall ms, committed tx total) at recent blocks, for the tx/s metric */
    uint64_t samp_t[CN_RATE_SAMPLES], samp_n[CN_RATE_SAMPLES];
    size_t samp_head, samp_count;
};

/* Fills the RPC backend table for this node. */
void cn_node_backend_init(cn_node *n);

/* Copies the committed tip for the API (under tip_mu). */
void cn_node_tip_get(cn_node *n, uint64_t *height, uint64_t *time_ms, uint8_t app_hash[32],
                     uint8_t block_id[32]);

/* The RPC batch path (batch.c): signatures in parallel, admission in order. */
void cn_node_submit_batch(void *ctx, size_t n, const uint8_t *const *bytes, const size_t *lens,
                          cn_txerr *codes, uint8_t (*hashes)[32], char *msgs, size_t msg_cap);

/* The same for transactions from peers (gossip = 0: not relayed again). */
void cn_node_admit_batch(cn_node *node, size_t n, const uint8_t *const *bytes,
                         const size_t *lens, cn_txerr *codes, uint8_t (*hashes)[32], char *msgs,
                         size_t msg_cap, int gossip);

/* Committed tx/s over the recent samples. */
uint64_t cn_node_tx_rate(cn_node *n);

#endif
