/* Fake backend and threaded server for the API tests. See rpc_fake.h. */
#include "tests/unit/rpc_fake.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>

#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "proto/codec.h"

/* ---- fake backend ------------------------------------------------------------------------ */

static cn_txerr fake_check(rpc_fake_state *f, const uint8_t *bytes, size_t len, char *msg, size_t cap) {
    cn_pb s = {0}, t = {0};
    cn_txerr e = CN_TX_OK;
    if (cn_decode(CN_MSG_SIGNED, bytes, len, &s) != CN_DECODE_OK)
        return CN_TX_MALFORMED;
    Clearnode__V1__Signed *sg = (Clearnode__V1__Signed *)s.msg;
    if (sg->signer.len != 32) {
        e = CN_TX_BAD_SIGNER;
    } else if (sg->sig.len != 64) {
        e = CN_TX_BAD_SIGNATURE;
    } else if (cn_decode(CN_MSG_TX, sg->body.data, sg->body.len, &t) != CN_DECODE_OK) {
        e = CN_TX_MALFORMED;
    } else {
        Clearnode__V1__Tx *tx = (Clearnode__V1__Tx *)t.msg;
        if (strcmp(tx->chain_id, RPC_FAKE_CHAIN) != 0) {
            snprintf(msg, cap, "chain id \"%s\" is not " RPC_FAKE_CHAIN, tx->chain_id);
            e = CN_TX_WRONG_CHAIN;
        } else if (!cn_verify_body(sg->sig.data, sg->signer.data, CN_TAG_SIG_TX, tx->chain_id,
                                   sg->body.data, sg->body.len)) {
            e = CN_TX_BAD_SIGNATURE;
        } else if (memcmp(sg->signer.data, f->member, 32) != 0) {
            e = CN_TX_UNKNOWN_SIGNER;
        } else if (tx->nonce != f->next_nonce) {
            snprintf(msg, cap, "nonce %llu, expected %llu", (unsigned long long)tx->nonce,
                     (unsigned long long)f->next_nonce);
            e = CN_TX_BAD_NONCE;
        } else if (f->full) {
            e = CN_TX_MEMPOOL_FULL;
        } else {
            f->next_nonce++;
        }
    }
    cn_pb_free(&t);
    cn_pb_free(&s);
    return e;
}

static cn_txerr fake_submit(void *ctx, const uint8_t *bytes, size_t len, uint8_t hash[32],
                            char *msg, size_t msg_cap) {
    rpc_fake_state *f = ctx;
    if (len > CN_CAP_TX)
        return CN_TX_TOO_LARGE;
    cn_hash_tagged(hash, CN_TAG_TX, bytes, len);
    cn_txerr e = fake_check(f, bytes, len, msg, msg_cap);
    if (e == CN_TX_OK) {
        memcpy(f->last_hash, hash, 32);
        f->have_last = 1;
    }
    return e;
}

static json_t *fake_get_tx(void *ctx, const uint8_t hash[32]) {
    rpc_fake_state *f = ctx;
    if (!f->have_last || memcmp(hash, f->last_hash, 32) != 0)
        return NULL;
    char hex[65];
    cn_hex_encode(hex, hash, 32);
    return json_pack("{s:s, s:i, s:i, s:i, s:s, s:s, s:i, s:[]}", "hash", hex, "height", 5,
                     "index", 0, "code", f->fail_receipts ? 23 : 0, "code_name",
                     f->fail_receipts ? "insufficient_funds" : "ok", "message",
                     f->fail_receipts ? "balance too low" : "", "gas_used", 0, "events");
}

static json_t *fake_get_account(void *ctx, const uint8_t pubkey[32]) {
    rpc_fake_state *f = ctx;
    if (memcmp(pubkey, f->member, 32) != 0)
        return NULL;
    char hex[65];
    cn_hex_encode(hex, pubkey, 32);
    return json_pack("{s:s, s:[s], s:I, s:{s:s}}", "pubkey", hex, "roles", "custodian", "nonce",
                     (json_int_t)(f->next_nonce - 1), "balances", "USD", "100");
}

/* The member has a margin account; anyone else none. */
static json_t *fake_get_margin(void *ctx, const uint8_t pubkey[32]) {
    rpc_fake_state *f = ctx;
    if (memcmp(pubkey, f->member, 32) != 0)
        return NULL;
    return json_pack("{s:s, s:s}", "state", "ok", "equity", "2500000000");
}

static json_t *fake_get_validators(void *ctx, uint64_t height) {
    (void)ctx;
    if (height > 4)
        return NULL;
    return json_pack("{s:I, s:s}", "height", (json_int_t)height, "hash", "ab");
}

static json_t *fake_get_block(void *ctx, uint64_t height) {
    (void)ctx;
    if (height > 3)
        return NULL;
    return json_pack("{s:I, s:s, s:[]}", "height", (json_int_t)height, "id", "00", "txs");
}

static int fake_get_block_raw(void *ctx, uint64_t height, uint8_t **bytes, size_t *len) {
    (void)ctx;
    if (height > 3)
        return 0;
    *bytes = malloc(3);
    if (*bytes == NULL)
        return 0;
    memcpy(*bytes, "\x0a\x01\x00", 3);
    *len = 3;
    return 1;
}

static json_t *fake_get_status(void *ctx) {
    (void)ctx;
    return json_pack("{s:s, s:i}", "chain_id", RPC_FAKE_CHAIN, "height", 3);
}

static void fake_metrics(void *ctx, struct evbuffer *out) {
    (void)ctx;
    evbuffer_add_printf(out, "clearnode_height 3\n");
}

/* ---- server on a loop thread ------------------------------------------------------------- */


static void on_stop(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    event_base_loopbreak(arg);
}

static void *loop_main(void *arg) {
    rpc_fake *h = arg;
    event_base_loop(h->base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

rpc_fake *rpc_fake_start(const cn_rpc_limits *lim) {
    rpc_fake *h = calloc(1, sizeof *h);
    assert_non_null(h);
    uint8_t sec[32], sec2[32];
    memset(sec, 0x11, sizeof sec);
    memset(sec2, 0x22, sizeof sec2);
    assert_true(cn_keypair_from_seckey(&h->kp, sec));
    assert_true(cn_keypair_from_seckey(&h->other, sec2));
    memcpy(h->f.member, h->kp.pub, 32);
    h->f.next_nonce = 1;
    h->be = (cn_rpc_backend){.ctx = &h->f,
                             .submit_tx = fake_submit,
                             .get_tx = fake_get_tx,
                             .get_account = fake_get_account,
                             .get_margin = fake_get_margin,
                             .get_validators = fake_get_validators,
                             .get_block = fake_get_block,
                             .get_block_raw = fake_get_block_raw,
                             .get_status = fake_get_status,
                             .write_metrics = fake_metrics};
    h->base = event_base_new();
    assert_non_null(h->base);
    char err[256] = "";
    h->srv = cn_rpc_server_start(h->base, "127.0.0.1", 0, &h->be, lim, err, sizeof err);
    if (h->srv == NULL)
        fail_msg("server did not start: %s", err);
    h->port = cn_rpc_server_port(h->srv);
    assert_true(h->port != 0);
    assert_int_equal(pipe(h->stop_pipe), 0);
    h->stop_ev = event_new(h->base, h->stop_pipe[0], EV_READ, on_stop, h->base);
    assert_int_equal(event_add(h->stop_ev, NULL), 0);
    assert_int_equal(pthread_create(&h->th, NULL, loop_main, h), 0);
    return h;
}

void rpc_fake_stop(rpc_fake *h) {
    assert_int_equal(write(h->stop_pipe[1], "x", 1), 1);
    pthread_join(h->th, NULL);
    cn_rpc_server_stop(h->srv);
    event_free(h->stop_ev);
    event_base_free(h->base);
    close(h->stop_pipe[0]);
    close(h->stop_pipe[1]);
    cn_keypair_wipe(&h->kp);
    cn_keypair_wipe(&h->other);
    free(h);
}

