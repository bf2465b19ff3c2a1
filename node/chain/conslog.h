/* The consensus log: what a validator must find again after a crash (docs/consensus.md,
 * "Signing guard and restart safety"), in the store's `signer` database.
 *
 *   "state"                      the 87-byte sign state (node/consensus/signstate.h)
 *   "signed"                     u8 kind || Signed bytes of the last message signed
 *   "m" be64 height be32 seq     u8 kind || Signed bytes: a proposal or vote accepted at that
 *                                height (own ones included), in the order accepted
 *   "b" be64 height id(32)       encoded Block of a proposal at that height
 *   "prio"                       be64 height || be32 n || n × be64 (signed) proposer priorities
 *                                of the validator set at the start of that height
 * kind: 1 proposal, 2 vote.
 *
 * Durability. cn_conslog_persist writes the new sign state, the signed message and every
 * entry buffered since the last persist in ONE write transaction and returns only after it
 * is on disk: the node calls it before the message leaves (persist before send). Accepted
 * messages and blocks are buffered in memory (cn_conslog_add*) and become durable with the
 * next persist; losing unsynced ones in a crash is allowed (they were not yet needed to
 * justify any signature). At a decision cn_conslog_commit_hook, run inside the block's
 * commit transaction, writes the sign state and the priorities and deletes the log of the
 * decided height, so block, state and signing state move together.
 *
 * Loading. cn_conslog_load checks everything it reads: a record that does not decode, an
 * entry for a height other than the one being resumed, a last signed message that is not the
 * one the sign state names, is an error and the node refuses to start (never guesses).
 * Signatures of logged messages are checked by the node when it replays them.
 */
#ifndef CLEARNODE_NODE_CHAIN_CONSLOG_H
#define CLEARNODE_NODE_CHAIN_CONSLOG_H

#include <stddef.h>
#include <stdint.h>

#include "node/consensus/signstate.h"
#include "node/consensus/valset.h"
#include "node/store/store.h"

enum { CN_CLOG_PROPOSAL = 1, CN_CLOG_VOTE = 2 };

typedef struct cn_conslog cn_conslog;

/* One logged message or block, as loaded. */
typedef struct {
    int kind;         /* CN_CLOG_*, or 0 for a block */
    uint8_t id[32];   /* blocks: the block id */
    uint8_t *bytes;   /* Signed bytes (messages) or encoded Block */
    size_t len;
} cn_clog_entry;

/* What a restart resumes from. */
typedef struct {
    int has_state;
    cn_cons_sign_state state;
    int last_kind;          /* of the last signed message (0 if none) */
    uint8_t *last;          /* its Signed bytes */
    size_t last_len;
    int has_prio;
    uint64_t prio_height;
    cn_cons_valset prio;    /* n and priorities only */
    size_t n;               /* entries of the resumed height: messages, then blocks */
    cn_clog_entry *e;
} cn_clog_loaded;

cn_conslog *cn_conslog_new(cn_store *s);
void cn_conslog_free(cn_conslog *l);

/* Reads the log for resuming at `height` (the last committed height + 1). Returns 1, or 0
 * with a reason naming the bad record. */
int cn_conslog_load(cn_store *s, uint64_t height, cn_clog_loaded *out, char *err, size_t cap);
void cn_clog_loaded_free(cn_clog_loaded *x);

/* Starts logging `height` (entries of other heights are dropped from the buffer); `seq`
 * continues after the entries already stored for it. */
void cn_conslog_begin_height(cn_conslog *l, uint64_t height, uint32_t seq);

/* Buffers an accepted message (durable with the next persist). Returns 1, 0 on no memory. */
int cn_conslog_add_msg(cn_conslog *l, int kind, const uint8_t *bytes, size_t len);
/* Buffers a proposal's block. Returns 1, 0 on no memory. */
int cn_conslog_add_block(cn_conslog *l, const uint8_t id[32], const uint8_t *bytes, size_t len);

/* Persists the sign state, the signed message about to be sent (also logged as accepted) and
 * the buffered entries, then syncs. Returns 1, or 0 with a reason (stop the node: nothing may
 * be sent). */
int cn_conslog_persist(cn_conslog *l, const cn_cons_sign_state *st, int kind,
                       const uint8_t *bytes, size_t len, char *err, size_t cap);

/* Set before committing a block: the sign state and the priorities of the next height to
 * write in the block's transaction (st NULL: leave the stored state alone). */
void cn_conslog_prepare_commit(cn_conslog *l, uint64_t decided, const cn_cons_sign_state *st,
                               const cn_cons_valset *next_prio);
/* cn_app_commit_hook: the writes cn_conslog_prepare_commit asked for, and the deletion of
 * every log entry of heights <= the decided one. Clears the buffer. */
cn_store_err cn_conslog_commit_hook(void *ctx, cn_store_wtxn *b);

#endif
