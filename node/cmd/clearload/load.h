/* clearload internals shared by `run` (run.c, submit.c, check.c) and `soak` (soak*.c): the
 * transfers of a load run (sign.c), the setup that registers and funds their clients
 * (setup.c), batch submission (submit.c) and the honesty check of the result (check.c). */
#ifndef CLEARNODE_NODE_CMD_CLEARLOAD_LOAD_H
#define CLEARNODE_NODE_CMD_CLEARLOAD_LOAD_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "crypto/schnorr.h"
#include "node/cmd/clearload/http.h"
#include "node/cmd/clearload/nodes.h"

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

/* Runs fn(args + i * stride) for i in [0, n) (n <= 64) on n threads and waits for all; one
 * that cannot get a thread runs on the caller's. */
void cl_parallel(unsigned n, void *(*fn)(void *), void *args, size_t stride);

/* Monotonic time in microseconds. */
uint64_t cl_now_us(void);

/* Fills t with bytes (taking them) and their tx id when ok. Returns ok. */
int cl_tx_set(cl_tx *t, int ok, uint8_t *bytes, size_t len);

/* Signs transfer k of a run over `clients` clients (keys ck): from client k % clients to the
 * next one, nonce k / clients + 1, amount 1 + k % 7 (cl_check_accounts relies on this).
 * Returns 1, or 0 when signing failed. */
int cl_sign_transfer(const cn_keypair *ck, unsigned long clients, const char *chain,
                     const char *asset, uint64_t k, cl_tx *out);

/* Single-core BIP340 verifications per second over txs[0..n), measured for about a second:
 * the physical limit a node's throughput is compared with. 0 on a decoding failure. */
uint64_t cl_verify_rate(const cl_tx *txs, size_t n, const char *chain);

/* GET path on c, parsed as JSON (NULL when the answer is not JSON); *status as cl_http_do. */
json_t *cl_get_json(cl_http *c, const char *path, int *status);

/* A committed transaction's place and result, as GET /v1/tx/{hash} gives them. */
typedef struct {
    long long height, index, code;
    char code_name[40];
} cl_receipt;

/* Reads the receipt of tx `hash` from c. Returns the HTTP status: 200 with *r filled, 404 when
 * the node has not committed it, -1 when the node did not answer (the connection is closed),
 * 0 for a 200 answer without height, index and code. */
int cl_receipt_get(cl_http *c, const uint8_t hash[32], cl_receipt *r);

/* Reads the chain id from GET /v1/status of the first node of ns that answers. Returns 1, or
 * 0 after saying why on stderr. */
int cl_chain_id(cl_nodes *ns, char *chain, size_t cap);

/* Makes `clients` fresh client keys (into ck), registers each with the member key and
 * deposits `deposit` of `asset` to it, through whichever node of ns answers (moving on when
 * one fails), and waits until all of it is committed with code 0. Returns 1, or 0 after
 * saying why on stderr. */
int cl_setup(cl_nodes *ns, const cn_keypair *member, const char *chain, const char *asset,
             unsigned long clients, uint64_t deposit, cn_keypair *ck);

/* Encodes txs[0..n) as a POST /v1/txs body (each length as a varint, then the bytes) into
 * buf, which has room for every tx plus 10 bytes each. Returns the body length. */
size_t cl_batch_encode(const cl_tx *const *txs, size_t n, uint8_t *buf);

/* POSTs a batch body of n txs. Returns the answer when it is 200 with n results (the caller
 * reads json_object_get(ans, "results") and json_decref's it); otherwise NULL, with *status
 * the HTTP status (-1: no answer) and, when errbody is not NULL, the body to print (caller
 * frees; may be NULL). */
json_t *cl_post_batch(cl_http *c, const uint8_t *body, size_t len, size_t n, int *status,
                      char **errbody);

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
