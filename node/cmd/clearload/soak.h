/* `clearload soak` internals: sustained load on a multi-validator network (main.c has the
 * command line). soak.c parses it, sets up, runs the threads and decides the exit status;
 * soak_txs.c keeps the transfers (signed up front or on the way) and the hash -> transfer
 * index; soak_submit.c submits them round-robin over the nodes, paced, and resubmits the ones
 * not committed in time; soak_follow.c follows the committed blocks; soak_report.c checks the
 * receipts and prints the result.
 *
 * Transfer k is cl_sign_transfer's transfer k (load.h); every transfer lives in a chunk that
 * never moves, so threads may hold pointers to it while others sign more. */
#ifndef CLEARNODE_NODE_CMD_CLEARLOAD_SOAK_H
#define CLEARNODE_NODE_CMD_CLEARLOAD_SOAK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "node/cmd/clearload/load.h"
#include "node/cmd/clearload/nodes.h"

#define CL_SOAK_CHUNK 65536u
#define CL_SOAK_MAX_TXS 10000000u
#define CL_SOAK_CHUNKS (CL_SOAK_MAX_TXS / CL_SOAK_CHUNK + 1)

/* What happened to one transfer. Times are cl_now_us() values; 0 = not yet. */
typedef struct {
    _Atomic uint64_t first_us;  /* first send: where its latency starts */
    _Atomic uint64_t last_us;   /* latest send */
    _Atomic uint64_t commit_us; /* first time a block holding it was seen */
    _Atomic uint64_t height;    /* that block's height */
    atomic_int last_node;       /* node of the latest send */
    atomic_int refused;         /* rejected for good at admission: never resent */
} cl_soak_state;

typedef struct {
    cl_tx tx[CL_SOAK_CHUNK];
    cl_soak_state st[CL_SOAK_CHUNK];
} cl_soak_chunk;

typedef struct {
    /* settings */
    cl_nodes nodes;
    const cn_keypair *ck;
    unsigned long clients;
    char chain[80];
    const char *asset;
    size_t max_txs;       /* transfers at most: --txs, or rate x duration, or the cap */
    uint64_t rate;        /* tx/s; 0 = as fast as the nodes accept */
    uint64_t duration_us; /* unpaced --duration: stop taking new transfers after this */
    size_t batch;
    unsigned threads;
    uint64_t resubmit_us;
    uint64_t per;  /* each client was funded with per * 10 (check.c) */
    int presigned; /* every transfer signed before the clock started */
    /* transfers */
    _Atomic(cl_soak_chunk *) chunk[CL_SOAK_CHUNKS];
    pthread_mutex_t chunk_mu;
    /* hash -> transfer index + 1, open addressing */
    pthread_mutex_t idx_mu;
    uint32_t *slot;
    size_t slot_cap, slot_used;
    /* progress */
    uint64_t t0;
    uint64_t start_height;     /* chain height before the first transfer */
    atomic_size_t next;        /* first transfer not yet taken for its first send */
    atomic_size_t committed;
    _Atomic uint64_t last_commit_us;
    _Atomic uint64_t seen_height; /* highest block the follower has read */
    atomic_int stop_submit;    /* no new transfers (duration over, or interrupted) */
    atomic_int stop;           /* every thread ends */
    atomic_uint submitting;    /* submitter threads still running */
    atomic_size_t retried;     /* sends repeated after mempool_full / nonce window */
    atomic_size_t resubmitted; /* sends of a transfer not committed in time */
    atomic_size_t refused;     /* transfers rejected for good */
    atomic_size_t sign_failed;
    atomic_size_t bad_blocks;  /* blocks whose JSON did not parse as expected */
    atomic_int err_printed;
} cl_soak;

/* soak_txs.c */
int cl_soak_txs_init(cl_soak *s);
void cl_soak_txs_free(cl_soak *s);
/* Transfer k and its state (the chunk must exist: k was signed or is being signed). */
cl_tx *cl_soak_tx(cl_soak *s, size_t k);
cl_soak_state *cl_soak_st(cl_soak *s, size_t k);
/* The same, or NULL when k's chunk does not exist yet. */
cl_soak_state *cl_soak_st_if(cl_soak *s, size_t k);
/* Signs transfers [from, to) that are not signed yet and indexes them. Returns 1, or 0
 * when signing or an allocation failed. */
int cl_soak_sign(cl_soak *s, size_t from, size_t to);
/* Signs [0, n) on s->threads threads before the run. Returns 1 or 0. */
int cl_soak_presign(cl_soak *s, size_t n);
/* The transfer with this tx id, or -1. */
long cl_soak_find(cl_soak *s, const uint8_t hash[32]);

/* soak_submit.c */
void *cl_soak_submit_thread(void *arg);
void *cl_soak_resubmit_thread(void *arg);

/* soak_follow.c */
void *cl_soak_follow_thread(void *arg);
/* Highest committed height any node reports (0 if none answers). *best gets that node. */
uint64_t cl_soak_tip(cl_soak *s, cl_http *conns, int *best);

/* soak_report.c */
typedef struct {
    size_t txs, committed, never, receipts_bad, receipts_missing;
    long accounts_off; /* -1: not checked, or no node could be read */
    uint64_t verify_per_s, first_us, last_us, p50, p90, p99, max; /* latencies in us */
    int acked_ok;      /* --acked written (or not asked for) */
    int ok;            /* the exit status is 0 */
} cl_soak_result;
/* Checks every committed transfer's receipt (code 0, at the height its block was seen) on
 * a synced node, and the clients' accounts when every transfer committed. */
void cl_soak_check(cl_soak *s, size_t n, cl_soak_result *r);
/* Latency percentiles and the first-send / last-commit times over the committed transfers. */
void cl_soak_latency(cl_soak *s, size_t n, cl_soak_result *r);
/* Writes the ids of the committed transfers, one hex per line. Returns 1 or 0. */
int cl_soak_write_acked(cl_soak *s, size_t n, const char *path);
void cl_soak_print(cl_soak *s, const cl_soak_result *r, int json);

#endif
