/* clearload run internals shared by run.c (setup, driver, report), submit.c (batch submission
 * and latency sampling) and check.c (the honesty check of the result). */
#ifndef CLEARNODE_NODE_CMD_CLEARLOAD_LOAD_H
#define CLEARNODE_NODE_CMD_CLEARLOAD_LOAD_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/schnorr.h"
#include "node/cmd/clearload/http.h"

/* One latency sample out of this many transfers. */
#define CL_SAMPLE_EVERY 128u

typedef struct {
    uint8_t *bytes;
    size_t len;
    uint8_t hash[32];
} cl_tx;

typedef struct {
    cl_http proto;
    cl_tx *txs;
    size_t n;
    size_t batch; /* txs per request: 1 = POST /v1/tx, more = POST /v1/txs */
    atomic_size_t next;
    atomic_size_t ok, failed, retried;
    atomic_int first_err_printed;
    /* latency samples: tx index k = s * CL_SAMPLE_EVERY; first send and receipt times (us) */
    size_t n_samples;
    _Atomic uint64_t *sent_us;
    uint64_t *lat_us;  /* written by the sampler thread only; 0 = not seen yet */
    atomic_size_t sample_bad; /* sampled receipts with a nonzero code */
    atomic_int stop_sampler;
} cl_submit;

/* Monotonic time in microseconds. */
uint64_t cl_now_us(void);

/* Submits one tx on c, retrying mempool_full / nonce beyond window. 1 accepted, 0 rejected. */
int cl_submit_one(cl_http *c, const cl_tx *t, atomic_size_t *retried, atomic_int *printed);

/* Submission thread over s (one tx or one batch per request). */
void *cl_submit_thread(void *arg);

/* Latency sampler thread: polls the receipts of the sampled txs once they were sent. */
void *cl_sampler_thread(void *arg);

/* The result check: the node's failed-tx counter (clearnode_txs_failed_total), or -1. */
long long cl_failed_total(cl_http *c);

/* Checks every client's balance of `asset` and next nonce against what the transfers imply
 * when all of them succeeded. Returns the number of mismatching clients (0 = all match), or -1
 * when an account could not be read. */
long cl_check_accounts(cl_http *c, const cn_keypair *ck, unsigned long clients,
                       unsigned long txs, uint64_t per, const char *asset);

#endif
