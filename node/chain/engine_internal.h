/* Internals of the consensus engine (engine.h), shared by its files:
 *   engine.c         lifecycle, thread, timers, core outputs, heights and commits
 *   engine_msg.c     proposals and votes: checks, signing, the message store
 *   engine_blocks.c  proposal blocks: cache, validity verdicts, parts
 *   engine_net.c     peers: callbacks, status, gossip, transactions
 *   engine_sync.c    block sync: requests, responses, catching up
 * Everything here runs on the engine thread, except what the status and tx-queue mutexes
 * guard.
 */
#ifndef CLEARNODE_NODE_CHAIN_ENGINE_INTERNAL_H
#define CLEARNODE_NODE_CHAIN_ENGINE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "node/app/validators.h"
#include "node/chain/conslog.h"
#include "node/chain/engine.h"
#include "node/consensus/core.h"
#include "node/p2p/p2p.h"

struct event;
struct event_base;

#define EN_MAX_PEERS CN_P2P_MAX_PEERS
#define EN_PEER_BYTES (EN_MAX_PEERS / 8)
#define EN_MAX_MSGS 4096u         /* proposals and votes kept for one height */
#define EN_MAX_BLOCKS 16u         /* proposal blocks kept for one height */
#define EN_MAX_FUTURE 1024u       /* messages of the next height held */
#define EN_PART_BYTES (64u * 1024u) /* block part size on the wire */
#define EN_SYNC_WINDOW 64u        /* block requests in flight */
#define EN_SYNC_TIMEOUT_MS 4000u  /* a request unanswered this long goes to another peer */
#define EN_GOSSIP_MS 100u         /* gossip tick */
#define EN_STATUS_MS 1000u        /* status broadcast when nothing changes */
#define EN_TX_BATCH 512u          /* peer transactions admitted at once */
#define EN_FRESH_MS 1000u
#define EN_EVPOOL 32u             /* evidence kept for the next proposals */         /* a block with transactions is at most this far behind */
/* meta "evidence:" be64 height be32 round u8 type validator(32) -> DuplicateVoteEvidence */
#define EN_EVIDENCE_KEY (9 + 8 + 4 + 1 + 32)

/* One signed proposal or vote of the current height. */
typedef struct {
    uint8_t kind; /* CN_CLOG_PROPOSAL or CN_CLOG_VOTE */
    uint8_t type; /* votes: cn_cons_vote_type */
    uint8_t fed;  /* proposals: handed to the core */
    uint32_t round;
    uint32_t validator;
    int32_t pol_round;
    cn_cons_value value;
    uint64_t timestamp;
    uint8_t hash[32]; /* H(Signed bytes): the gossip identity */
    uint8_t *bytes;   /* Signed bytes */
    size_t len;
    uint8_t sent[EN_PEER_BYTES]; /* peers known to have it */
} en_msg;

/* A proposal block of the current height and its verdict. */
typedef struct {
    uint8_t id[32];
    uint8_t *bytes;
    size_t len;
    int valid;  /* cn_app_process_proposal's verdict */
    int logged; /* in the consensus log (a proposal for it was accepted) */
    uint8_t sent[EN_PEER_BYTES];
} en_block;

/* A block arriving in parts from one peer (parts come in order on one connection). */
typedef struct {
    int active;
    uint64_t height;
    uint32_t round, total, got;
    uint8_t id[32];
    uint8_t *buf;
    size_t len;
} en_assembly;

typedef struct {
    uint8_t key[32];
    int connected;
    int has_status;
    uint64_t height, last_committed;
    uint32_t round, step;
    uint32_t inflight;          /* sync requests outstanding */
    en_assembly asm_;
} en_peer;

typedef struct {
    uint8_t kind; /* CN_CLOG_* */
    uint16_t peer;
    uint8_t *bytes;
    size_t len;
} en_future;

typedef struct en_timer {
    struct en_timer *next, *prev;
    struct cn_engine *e;
    struct event *ev;
    uint8_t kind; /* cn_cons_timeout_kind */
    uint64_t height;
    uint32_t round;
} en_timer;

/* A sync request or a response waiting for its turn. */
typedef struct {
    uint64_t height;
    int peer;            /* -1: free slot */
    uint64_t sent_ms;
    uint8_t *block, *commit;
    size_t block_len, commit_len;
} en_sync_slot;

struct cn_engine {
    cn_engine_params p;
    cn_config cfg;
    cn_keypair key;
    const cn_genesis *g;
    cn_store *store;
    cn_cons *core;
    cn_cons_config ccfg;
    cn_conslog *log;
    cn_clog_loaded loaded; /* the log read at start, replayed into the first height */
    int replaying;
    struct event_base *base;
    struct event *wake, *tick, *start_ev, *value_ev, *txflush_ev;
    cn_p2p *p2p;
    int lone; /* a set of one and no peers: no network */

    /* the current height */
    uint64_t height;
    int core_active; /* the core runs this height (not catching up, not between heights) */
    cn_cons_valset vs;    /* with priorities at the start of the height */
    cn_validators set;    /* keys and powers, same order as vs */
    uint32_t self;        /* index in set, or CN_CONS_NONE */
    en_msg *msgs;
    size_t n_msgs;
    en_block blocks[EN_MAX_BLOCKS];
    size_t n_blocks;
    en_future future[EN_MAX_FUTURE];
    size_t n_future;
    struct {
        uint64_t height;
        uint8_t id[32];
        uint8_t *bytes;
        size_t len;
    } fblocks[4]; /* complete blocks of the next height, judged when it starts */
    size_t n_fblocks;
    uint8_t *last_signed; /* Signed bytes of the last message signed (resends) */
    size_t last_signed_len;
    int last_signed_kind;
    uint8_t *pending_signed; /* signed at PERSIST, sent by the next output */
    size_t pending_len;
    int want_value;          /* a GET_VALUE is being held for transactions */
    uint32_t want_round;
    uint64_t want_since;
    uint64_t height_started_ms, last_status_ms;
    uint8_t *conflict_bytes; /* the vote that produced the last CONFLICT */
    size_t conflict_len;
    en_timer *timers;

    /* peers */
    en_peer peers[EN_MAX_PEERS];
    size_t n_peers;

    /* block sync */
    int catching_up;
    uint64_t sync_target;
    en_sync_slot sync[EN_SYNC_WINDOW];
    uint64_t sync_applied, sync_rate, sync_mark_ms, sync_mark_n, sync_log_ms;

    /* evidence for blocks: equivocations seen here or sent by peers, not yet recorded */
    uint8_t *evpool[EN_EVPOOL];
    size_t evpool_len[EN_EVPOOL], n_evpool;

    /* evidence waiting for the next commit (this node's local record) */
    uint8_t *evidence[16];
    size_t evidence_len[16];
    uint8_t evidence_key[16][EN_EVIDENCE_KEY];
    size_t n_evidence;

    /* transactions: from the API (any thread, under txq_mu) and from peers */
    pthread_mutex_t txq_mu;
    uint8_t **txq;
    size_t *txq_len, txq_n, txq_cap;
    uint8_t *rx_tx[EN_TX_BATCH];
    size_t rx_tx_len[EN_TX_BATCH], n_rx_tx;

    /* counters (engine thread) and the published status (under st_mu) */
    uint64_t n_evidence_total, bad_messages, rounds_skipped, last_round;
    pthread_mutex_t st_mu;
    cn_engine_status st;

    pthread_t th;
    int started;
    atomic_int stop, failed;
};

/* engine.c */
uint64_t en_now(cn_engine *e);
void en_fatal(cn_engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void en_run_outputs(cn_engine *e);
/* Executes and commits block `h` = tip + 1 with its commit (both encoded); `checked`: the
 * block already passed process_proposal. Returns 1, 0 if the block is refused (reason in
 * why; nothing changed), -1 after a fatal error. */
int en_commit_block(cn_engine *e, const uint8_t *block, size_t len, const uint8_t *commit,
                    size_t clen, int checked, char *why, size_t cap);
/* Begins the next height now, or after block.interval_ms (paced). */
void en_next_height(cn_engine *e, int paced);
void en_publish_status(cn_engine *e);

/* engine_msg.c */
/* A Signed proposal or vote from peer (-1: from this node's log). Returns 0 when the message
 * failed a check (the peer may be penalised), 1 otherwise (accepted, duplicate, or kept). */
int en_on_signed(cn_engine *e, int kind, const uint8_t *bytes, size_t len, int peer);
/* Signs the message of a PROPOSAL or VOTE output (malloc'd Signed bytes). */
int en_sign_output(cn_engine *e, const cn_cons_output *o, uint8_t **out, size_t *len);
/* Stores and broadcasts a message this node signed. */
void en_own_message(cn_engine *e, int kind, uint8_t *bytes, size_t len);
/* Feeds the core every stored proposal whose block is now judged. */
void en_feed_proposals(cn_engine *e);
en_msg *en_find_precommit(cn_engine *e, uint32_t round, uint32_t validator, const uint8_t id[32]);
void en_msgs_clear(cn_engine *e);
void en_future_replay(cn_engine *e);
void en_evidence(cn_engine *e, const cn_cons_output *o);
/* Evidence a peer sent: checked against the tip, kept for proposals if new and valid.
 * Returns 0 if it is not valid evidence. */
int en_evidence_from_peer(cn_engine *e, const Clearnode__V1__DuplicateVoteEvidence *ev);
/* The pool's evidence still valid for the block at e->height (invalid ones are dropped);
 * fills up to CN_EVIDENCE_PER_BLOCK pointers into the pool. */
size_t en_evidence_for_block(cn_engine *e, uint8_t **out, size_t *lens);

/* engine_blocks.c */
en_block *en_block_find(cn_engine *e, const uint8_t id[32]);
/* Judges and keeps a complete block for the current height; NULL if not kept. */
en_block *en_block_add(cn_engine *e, const uint8_t *bytes, size_t len, const uint8_t id[32],
                       int from_log);
void en_blocks_clear(cn_engine *e);
/* Judges the blocks of the next height kept while it had not started. */
void en_future_blocks(cn_engine *e);
void en_block_parts(cn_engine *e, const Clearnode__V1__BlockPart *bp, int peer);
/* Sends the parts of b to peer (-1: every connected peer without it). */
void en_block_send(cn_engine *e, en_block *b, uint64_t height, uint32_t round, int peer);

/* engine_net.c */
int en_net_open(cn_engine *e, char *err, size_t cap);
/* After a commit: every key of the validator set that is not yet a peer becomes one, so a
 * validator that governance added can connect without a restart of this node. */
void en_net_admit_set(cn_engine *e);
void en_broadcast(cn_engine *e, const uint8_t *env, size_t len, cn_p2p_prio prio, int except);
void en_send(cn_engine *e, int peer, const uint8_t *env, size_t len, cn_p2p_prio prio);
/* Encodes an Envelope holding a proposal or vote (Signed bytes). */
int en_env_signed(int kind, const uint8_t *bytes, size_t len, uint8_t **out, size_t *olen);
void en_send_status(cn_engine *e, int peer);
void en_gossip(cn_engine *e);
void en_tx_flush(cn_engine *e);
void en_drain_txq(cn_engine *e);
static inline int en_bit(const uint8_t *set, int i) { return (set[i / 8] >> (i % 8)) & 1; }
static inline void en_set_bit(uint8_t *set, int i) { set[i / 8] |= (uint8_t)(1u << (i % 8)); }

/* engine_sync.c */
void en_sync_on_status(cn_engine *e, int peer);
void en_sync_tick(cn_engine *e);
void en_sync_on_request(cn_engine *e, int peer, uint64_t height);
void en_sync_on_response(cn_engine *e, int peer, const Clearnode__V1__BlockResponse *r);
void en_sync_peer_down(cn_engine *e, int peer);
void en_sync_reset(cn_engine *e);

#endif
