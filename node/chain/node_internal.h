/* The assembled node: genesis, store, app, mempool, producer, event loop and HTTP API.
 * Shared by node.c (lifecycle) and backend.c (the RPC backend table). */
#ifndef CLEARNODE_NODE_CHAIN_NODE_INTERNAL_H
#define CLEARNODE_NODE_CHAIN_NODE_INTERNAL_H

#include "node/chain/node.h"
#include "node/chain/producer.h"
#include "node/mempool/mempool.h"
#include "node/rpc/backend.h"

#define CN_RATE_SAMPLES 32

struct cn_node {
    char home[4096];
    cn_config cfg;
    cn_genesis g;
    cn_store *store;
    cn_app *app;
    cn_mempool *mp;
    cn_keypair key;
    cn_producer prod;
    cn_rpc_backend backend;
    struct event_base *base;
    struct event *timer, *sigint, *sigterm;
    struct cn_rpc_server *rpc;
    uint64_t last_block_wall;
    int fatal;
    /* (wall ms, committed tx total) at recent blocks, for the tx/s metric */
    uint64_t samp_t[CN_RATE_SAMPLES], samp_n[CN_RATE_SAMPLES];
    size_t samp_head, samp_count;
};

/* Fills the RPC backend table for this node. */
void cn_node_backend_init(cn_node *n);

/* Committed tx/s over the recent samples. */
uint64_t cn_node_tx_rate(const cn_node *n);

#endif
