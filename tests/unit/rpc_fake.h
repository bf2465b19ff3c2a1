/* Test support for the HTTP API: a fake node backend (a one-member chain "test-chain" that
 * checks decoding, chain id, signature, signer and nonce like the mempool does) and an API
 * server running it on an event loop thread, bound to 127.0.0.1 on a free port. */
#ifndef CLEARNODE_TESTS_UNIT_RPC_FAKE_H
#define CLEARNODE_TESTS_UNIT_RPC_FAKE_H

#include <pthread.h>
#include <stdint.h>

#include "crypto/schnorr.h"
#include "node/rpc/server.h"

#define RPC_FAKE_CHAIN "test-chain"

typedef struct {
    uint8_t member[32];    /* the one registered account */
    uint64_t next_nonce;   /* its next nonce */
    int full;              /* answer mempool_full */
    int fail_receipts;     /* receipts carry code 23 (insufficient_funds) */
    uint8_t last_hash[32]; /* the last accepted tx: the only one with a receipt */
    int have_last;
} rpc_fake_state;

typedef struct {
    struct event_base *base;
    cn_rpc_server *srv;
    cn_rpc_backend be;
    rpc_fake_state f;
    cn_keypair kp;    /* the registered member (secret key 32 x 0x11) */
    cn_keypair other; /* an unregistered key (secret key 32 x 0x22) */
    pthread_t th;
    int stop_pipe[2];
    struct event *stop_ev;
    uint16_t port;
} rpc_fake;

/* Starts a server with `lim` (NULL for defaults); fails the test if it cannot. */
rpc_fake *rpc_fake_start(const cn_rpc_limits *lim);
/* Stops the loop thread, the server, and frees everything. */
void rpc_fake_stop(rpc_fake *h);

#endif
