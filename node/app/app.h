/* The application state machine and its boundary with consensus (DESIGN.md §3).
 *
 * Consensus (the single-validator producer today, the BFT engine later) drives the app through
 * exactly these calls, in this order for each height:
 *
 *   cn_app_check_tx           admission of one tx against the last committed state
 *   cn_app_prepare_proposal   (proposer) choose which candidate txs go into a block
 *   cn_app_process_proposal   (every validator) is this proposed block valid at this height?
 *   cn_app_finalize_block     execute the decided block: receipts and the new app hash, pending
 *   cn_app_commit             write block, commit certificate, state, receipts, tx index, app
 *                             hash and meta in ONE LMDB write transaction
 *
 * Between finalize and commit the result is pending in memory (cn_block_result); nothing is on
 * disk, and cn_app_abandon drops it. A crash at any point leaves the previous height fully
 * committed and the next one absent (DESIGN.md §6).
 *
 * App hash chain: app_hash(0) = H_tag(apphash, 32 zero bytes || ws(genesis state)),
 * app_hash(h) = H_tag(apphash, app_hash(h-1) || ws(h)), ws as in overlay.h. The header of block
 * h carries app_hash(h-1). Results of every tx are bound into the state through the key
 * 'm' "results" (the hash of the block's encoded receipts), so the app hash covers them.
 *
 * Threads: all calls from one thread, except cn_app_check_tx, which is safe to call from
 * other threads concurrently with block execution (it reads its own snapshot). */
#ifndef CLEARNODE_NODE_APP_APP_H
#define CLEARNODE_NODE_APP_APP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "node/app/overlay.h"
#include "node/app/sigcache.h"
#include "node/app/txerr.h"
#include "node/app/validators.h"
#include "node/genesis/genesis.h"
#include "node/store/store.h"

/* Meta keys (CN_DB_META), all ASCII. */
#define CN_META_CHAIN_ID "chain_id"
#define CN_META_GENESIS_HASH "genesis_hash"
#define CN_META_HEIGHT "height"         /* be64 last committed height */
#define CN_META_APP_HASH "app_hash"     /* 32 bytes, after that height */
#define CN_META_BLOCK_ID "block_id"     /* 32 bytes (zeros at height 0) */
#define CN_META_TIME "time"             /* be64 ms, block time of that height */
/* "apphash:<16 hex digits of height>" -> app_hash(h) || ws(h) for every height >= 0 */

/* The last committed height as consensus sees it. */
typedef struct {
    uint64_t height;
    uint64_t time_ms;
    uint8_t block_id[32];
    uint8_t app_hash[32];
    uint8_t *last_commit; /* encoded Commit for `height`, NULL at height 0 */
    size_t last_commit_len;
} cn_tip;

/* What admission learned about a tx. */
typedef struct {
    uint8_t hash[32];
    uint8_t signer[32];
    uint64_t nonce;
    uint64_t next_nonce; /* signer's next executable nonce in committed state */
    int kind;
    size_t size;
} cn_tx_info;

typedef struct {
    uint8_t hash[32];
    cn_txerr code;
    uint8_t *receipt; /* encoded Receipt */
    size_t receipt_len;
} cn_tx_outcome;

/* A finalized, not yet committed block. */
typedef struct {
    uint64_t height;
    uint64_t time_ms;
    uint8_t block_id[32];
    uint8_t app_hash[32]; /* after this block */
    uint8_t ws_hash[32];
    size_t n_txs;
    cn_tx_outcome *txs;
    uint8_t *block; /* encoded Block (a copy) */
    size_t block_len;
    uint8_t *last_commit; /* the block's last_commit, encoded (NULL at height 1) */
    size_t last_commit_len;
    cn_overlay ov;
    cn_store_rtxn *snap;
} cn_block_result;

typedef struct cn_app cn_app;

/* Opens the app on an open store: on an empty store writes the genesis state (height 0);
 * otherwise checks the store belongs to this genesis and loads the tip. The genesis must
 * outlive the app. Returns 1, or 0 with a reason. */
int cn_app_open(cn_app **out, cn_store *store, const cn_genesis *g, size_t sigcache_cap,
                char *err, size_t cap);
void cn_app_close(cn_app *app);

const cn_tip *cn_app_tip(const cn_app *app);
const cn_genesis *cn_app_genesis(const cn_app *app);
cn_store *cn_app_store(const cn_app *app);
cn_sigcache *cn_app_sigcache(cn_app *app);
/* The validator set of tip + 1 (next = 1), which signs the next block, or of the tip (next =
 * 0), which signed the tip's commit (node/app/validators.h). Updated by cn_app_commit. */
const cn_validators *cn_app_validators(const cn_app *app, int next);

/* Admission against committed state: size, decoding, chain id, kind supported, fields,
 * not already committed, signer registered and permitted, nonce >= next, signature (verified
 * once; recorded in the sigcache). Fills `info` whenever the bytes decode. */
cn_txerr cn_app_check_tx(cn_app *app, const uint8_t *bytes, size_t len, cn_tx_info *info,
                         char *msg, size_t cap);

/* Proposer: given candidates in mempool order, returns how many of the first ones fit the
 * block caps (params.block.max_txs and max_bytes). */
size_t cn_app_prepare_proposal(cn_app *app, const size_t *lens, size_t n);

/* Checks a proposed encoded Block against the tip: header decodes, chain id, height = tip+1,
 * time > tip time, last_block_id, last_commit (absent at height 1, else a valid certificate
 * for the tip whose hash is last_commit_hash), app_hash = tip app hash, validators_hash,
 * proposer is a validator, tx count and bytes within caps, each tx decodes with this chain id,
 * tx_root. Returns 1, or 0 with the reason. */
int cn_app_process_proposal(cn_app *app, const uint8_t *block, size_t len, char *why,
                            size_t cap);

/* Executes a block that passed process_proposal. Returns a pending result (owned by the app
 * until commit or abandon), or NULL with a reason (storage failure: stop the node). */
cn_block_result *cn_app_finalize_block(cn_app *app, const uint8_t *block, size_t len,
                                       char *err, size_t cap);

/* Extra writes the caller adds to a block's commit transaction (the consensus engine's sign
 * state and log, DESIGN.md §6). Returns CN_STORE_OK to go on, or the store's error. */
typedef cn_store_err (*cn_app_commit_hook)(void *ctx, cn_store_wtxn *b);

/* Commits the pending result with the block's commit certificate (encoded Commit), plus the
 * hook's writes (NULL: none), in one LMDB write transaction. Returns 1, or 0 with a reason
 * (nothing written; stop the node). The result is freed either way. */
int cn_app_commit(cn_app *app, cn_block_result *res, const uint8_t *commit, size_t commit_len,
                  cn_app_commit_hook hook, void *hook_ctx, char *err, size_t cap);

/* Drops a pending result. */
void cn_app_abandon(cn_app *app, cn_block_result *res);

/* Counters for metrics. */
typedef struct {
    uint64_t txs_committed;
    uint64_t txs_failed;     /* committed with a nonzero code */
    uint64_t blocks;
    uint64_t last_block_ms;  /* wall time of the last finalize + commit */
} cn_app_stats;
void cn_app_stats_get(const cn_app *app, cn_app_stats *out);

/* The meta key of a height's end-of-block events: "events:" || be64 height (15 bytes); the
 * value is the encoded Receipt the state held under 'm' "endblock" after that block. */
void cn_app_meta_events_key(uint64_t height, uint8_t out[15]);

/* The meta key "apphash:<16 hex digits>" of a height. */
void cn_app_meta_apphash_key(uint64_t height, char out[32]);

/* Computes the app hash link: H_tag(apphash, prev || ws). */
void cn_app_hash_link(const uint8_t prev[32], const uint8_t ws[32], uint8_t out[32]);

#endif
