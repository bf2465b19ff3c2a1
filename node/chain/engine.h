/* The consensus engine: runs the Tendermint core (node/consensus) against the app, the store
 * and the peers (node/p2p), on a thread and event loop of its own (docs/consensus.md, "The
 * engine"; docs/p2p.md, "Gossip").
 *
 * What it does, per height h = tip + 1:
 *   - starts the core with the validator set of h (node/app/validators.h) and the proposer
 *     priorities carried from h - 1;
 *   - performs the core's outputs: PERSIST through the consensus log with fsync before the
 *     signed message leaves (conslog.h), PROPOSAL and VOTE signed with the node key and
 *     broadcast, GET_VALUE answered with a block from the mempool (propose.h), TIMEOUT as
 *     event timers, DECIDE by executing the block and committing block, commit certificate,
 *     state and sign state in one LMDB transaction, EVIDENCE kept and counted;
 *   - receives proposals, block parts and votes from peers, checks signatures and hands them
 *     to the core, keeps messages of h + 1 until it gets there, and gossips what peers at the
 *     same height lack;
 *   - catches up: when a peer has committed heights this node lacks, it downloads them with
 *     their commits (block sync), verifies and executes them, and joins consensus when it is
 *     at most one height behind;
 *   - relays transactions admitted through the API to its peers and admits the ones peers
 *     send.
 * A lone validator (a set of one, no peers configured) runs the same code without a network.
 *
 * Threads: cn_engine_start runs the engine thread; cn_engine_gossip_tx and
 * cn_engine_status_get may be called from any thread. Everything else is the owner's.
 */
#ifndef CLEARNODE_NODE_CHAIN_ENGINE_H
#define CLEARNODE_NODE_CHAIN_ENGINE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/schnorr.h"
#include "node/app/app.h"
#include "node/config/config.h"
#include "node/mempool/mempool.h"

typedef struct cn_engine cn_engine;

typedef struct {
    cn_app *app;
    cn_mempool *mp;
    pthread_mutex_t *mp_lock;       /* held around every mempool call */
    const cn_keypair *key;          /* node key (a validator's consensus key) */
    const cn_config *cfg;
    /* Hands over transactions received from peers for admission, with ownership of every
     * bytes[i] (malloc'd); must not block on admission itself (the node queues them). */
    void (*admit)(void *ctx, size_t n, uint8_t *const *bytes, const size_t *lens);
    /* After every commit, on the engine thread (the node publishes its tip). */
    void (*on_commit)(void *ctx, uint64_t height, size_t n_txs);
    void *ctx;
    uint64_t (*clock_ms)(void);     /* NULL: wall clock */
} cn_engine_params;

/* Status for the API and metrics (a copy, consistent at one instant). */
#define CN_ENGINE_STATUS_PEERS 64
typedef struct {
    uint8_t key[32];
    char addr[64];
    int connected;
    uint64_t height;        /* its consensus height (0: no status yet) */
    uint64_t last_committed;
    uint32_t round;
    int32_t score;
    uint64_t msgs_in, msgs_out, dropped;
} cn_engine_peer_status;

typedef struct {
    uint64_t height;        /* consensus height (tip + 1) */
    uint32_t round;
    uint32_t step;          /* cn_cons_step */
    int validator;          /* index in the set of this height, -1 if not a validator */
    uint32_t validators;
    int catching_up;
    uint64_t sync_target;   /* highest height a peer has committed */
    uint64_t sync_blocks;   /* blocks applied by block sync so far */
    uint64_t sync_rate;     /* blocks/s over the last second of catching up */
    uint64_t evidence;      /* equivocations seen */
    uint64_t rounds_skipped;/* heights decided in a round above 0 */
    uint64_t last_round;    /* round of the last decision */
    uint64_t refused;       /* signatures the guard refused (after a restart) */
    size_t n_peers;
    cn_engine_peer_status peers[CN_ENGINE_STATUS_PEERS];
    uint64_t p2p_listen_port;
    uint64_t bad_messages;  /* peer messages that failed checks */
} cn_engine_status;

/* Builds the engine: reads the consensus log (refusing a corrupt one), sets up the peers.
 * Returns NULL with a reason. */
cn_engine *cn_engine_new(const cn_engine_params *p, char *err, size_t cap);

/* Starts the engine thread. Returns 1, or 0 with a reason. */
int cn_engine_start(cn_engine *e, char *err, size_t cap);

/* Asks the engine thread to stop after its current step and joins it. Idempotent. */
void cn_engine_stop(cn_engine *e);

/* 1 after a fatal error (the reason was logged); the node must stop. */
int cn_engine_failed(cn_engine *e);

/* Relays a transaction the API admitted to every peer (bytes copied). Any thread. */
void cn_engine_gossip_tx(cn_engine *e, const uint8_t *bytes, size_t len);

/* Copies the status. Any thread. */
void cn_engine_status_get(cn_engine *e, cn_engine_status *out);

void cn_engine_free(cn_engine *e);

#endif
