/* Batch admission for POST /v1/txs (node/rpc/batch.c).
 *
 * Two phases. First, on the calling (event-loop) thread plus the node's verifier pool, every
 * tx runs the app's full stateless and state-reading admission checks, cn_app_check_tx,
 * without the mempool lock: decoding, chain id, committed duplicate, signer registered and
 * permitted, nonce not used, and the BIP340 signature, whose verified id goes to the app's
 * signature cache. cn_app_check_tx only reads (read snapshots, the immutable genesis, the
 * thread-safe cache), so the threads share nothing else. A tx that fails here gets that
 * verdict. Second, under the mempool lock and in array order, each tx that passed goes through
 * cn_mempool_add exactly as a single submission does: it runs the checks again on the current
 * state, now finding the signature in the cache, so the verdict of a batch is the verdict the
 * same txs would get one by one, and the order of admission (which decides the mempool's
 * arrival order, and so block order) is the order in the body. Transactions admitted from the
 * API are then relayed to the peers; those that came from peers are not relayed again.
 */
#include "node/chain/node_internal.h"

#include <string.h>

#include "node/chain/block.h"
#include "proto/codec.h"

typedef struct {
    cn_app *app;
    const uint8_t *const *bytes;
    const size_t *lens;
    cn_txerr *codes;
    char *msgs;
    size_t msg_cap;
} precheck_job;

static void precheck_one(void *arg, size_t i) {
    precheck_job *j = arg;
    cn_tx_info info;
    j->codes[i] = cn_app_check_tx(j->app, j->bytes[i], j->lens[i], &info,
                                  j->msgs + i * j->msg_cap, j->msg_cap);
}

void cn_node_submit_batch(void *ctx, size_t n, const uint8_t *const *bytes, const size_t *lens,
                          cn_txerr *codes, uint8_t (*hashes)[32], char *msgs, size_t msg_cap) {
    cn_node_admit_batch(ctx, n, bytes, lens, codes, hashes, msgs, msg_cap, 1);
}

void cn_node_admit_batch(cn_node *node, size_t n, const uint8_t *const *bytes,
                         const size_t *lens, cn_txerr *codes, uint8_t (*hashes)[32], char *msgs,
                         size_t msg_cap, int gossip) {
    precheck_job j = {node->app, bytes, lens, codes, msgs, msg_cap};
    cn_workpool_run(node->verifiers, precheck_one, &j, n);
    pthread_mutex_lock(&node->mp_mu);
    for (size_t i = 0; i < n; i++) {
        if (codes[i] != CN_TX_OK) {
            memset(hashes[i], 0, 32);
            if (lens[i] <= CN_CAP_TX)
                cn_tx_id(bytes[i], lens[i], hashes[i]);
            continue;
        }
        codes[i] = cn_mempool_add(node->mp, bytes[i], lens[i], hashes[i], msgs + i * msg_cap,
                                  msg_cap);
    }
    pthread_mutex_unlock(&node->mp_mu);
    for (size_t i = 0; gossip && i < n; i++)
        if (codes[i] == CN_TX_OK)
            cn_engine_gossip_tx(node->eng, bytes[i], lens[i]);
}
