/* Shared harness of the P2P network tests (test_p2p.c, test_p2p_hostile.c): nodes on one
 * event_base driven by the test thread, on 127.0.0.1 with kernel-chosen ports, with callbacks
 * that record what arrives; and a raw client that speaks the handshake and frames through
 * the pure handshake/frame modules so it can send exactly the bytes a test wants, on a
 * non-blocking socket, pumping the loop while it waits. Header-only (static inline) so each
 * test binary stays self-contained. */
#ifndef CLEARNODE_TESTS_UNIT_P2P_HARNESS_H
#define CLEARNODE_TESTS_UNIT_P2P_HARNESS_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <sodium.h>

#include "crypto/bytes.h"
#include "node/p2p/frame.h"
#include "node/p2p/handshake.h"
#include "node/p2p/p2p.h"
#include "node/util/log.h"
#include "proto/codec.h"

static const char *CHAIN = "p2p-net-test";
static struct event_base *base;

static inline uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Runs the loop for about `ms` milliseconds. */
static inline void pump(int ms) {
    struct timeval tv = {0, ms * 1000};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
}

#define WAIT_FOR(cond, ms)                                                                     \
    do {                                                                                       \
        uint64_t t0_ = now_ms();                                                               \
        while (!(cond) && now_ms() - t0_ < (uint64_t)(ms))                                     \
            pump(5);                                                                           \
        assert_true(cond);                                                                     \
    } while (0)

/* ---- nodes ---------------------------------------------------------------------------------- */

#define MAX_GOT 64

typedef struct {
    cn_keypair kp;
    cn_p2p *p;
    int ups, downs;
    cn_p2p_reason last_down;
    int got;
    uint8_t from[MAX_GOT][32];
    size_t len[MAX_GOT];
    uint8_t first[MAX_GOT]; /* first payload byte of the tx inside */
    uint8_t *last; /* copy of the last raw payload */
    size_t last_len;
} node;

static inline void on_message(void *ctx, const uint8_t peer[32], const Clearnode__V1__Envelope *env,
                       const uint8_t *raw, size_t len) {
    node *n = ctx;
    assert_int_equal(env->msg_case, CLEARNODE__V1__ENVELOPE__MSG_TX);
    if (n->got < MAX_GOT) {
        memcpy(n->from[n->got], peer, 32);
        n->len[n->got] = env->tx.len;
        n->first[n->got] = env->tx.len ? env->tx.data[0] : 0;
    }
    n->got++;
    free(n->last);
    n->last = malloc(len);
    assert_non_null(n->last);
    memcpy(n->last, raw, len);
    n->last_len = len;
}

static inline void on_up(void *ctx, const uint8_t peer[32]) {
    (void)peer;
    ((node *)ctx)->ups++;
}

static inline void on_down(void *ctx, const uint8_t peer[32], cn_p2p_reason why) {
    (void)peer;
    node *n = ctx;
    n->downs++;
    n->last_down = why;
}

static inline void test_limits(cn_p2p_limits *l) {
    cn_p2p_limits_default(l);
    l->handshake_timeout_ms = 2000;
    l->keepalive_ms = 200;
    l->idle_timeout_ms = 5000;
    l->backoff_min_ms = 20;
    l->backoff_max_ms = 200;
}

static inline void node_key(node *n) {
    uint8_t sec[32];
    assert_true(cn_seckey_generate(sec));
    assert_true(cn_keypair_from_seckey(&n->kp, sec));
    sodium_memzero(sec, sizeof sec);
}

/* Starts node n (key already set) with the keys of `peers` allowlisted, no addresses yet. */
static inline void node_start_ex(node *n, const char *chain, node **peers, size_t np,
                          const cn_p2p_limits *lim, const char *listen) {
    cn_p2p_peer_cfg cfg[8];
    for (size_t i = 0; i < np; i++) {
        memcpy(cfg[i].key, peers[i]->kp.pub, 32);
        cfg[i].addr = NULL;
    }
    cn_p2p_limits l;
    test_limits(&l);
    cn_p2p_config c = {.base = base,
                       .chain_id = chain,
                       .node_key = &n->kp,
                       .listen = listen ? listen : "127.0.0.1:0",
                       .peers = cfg,
                       .n_peers = np,
                       .limits = lim ? lim : &l,
                       .cb = {on_message, on_up, on_down, n}};
    char err[200] = "";
    n->p = cn_p2p_new(&c, err, sizeof err);
    if (!n->p)
        fail_msg("cn_p2p_new: %s", err);
    assert_true(cn_p2p_listen_port(n->p) > 0);
}

static inline void node_start(node *n, node **peers, size_t np) {
    node_start_ex(n, CHAIN, peers, np, NULL, NULL);
}

static inline void node_free(node *n) {
    cn_p2p_free(n->p);
    n->p = NULL;
    free(n->last);
    n->last = NULL;
}

/* Tells a to dial b. */
static inline void point(node *a, node *b) {
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", (unsigned)cn_p2p_listen_port(b->p));
    assert_int_equal(cn_p2p_set_peer_addr(a->p, b->kp.pub, addr), CN_P2P_OK);
}

static inline uint64_t closes(node *n, cn_p2p_reason r) {
    cn_p2p_stats s;
    cn_p2p_stats_get(n->p, &s);
    return s.closes[r];
}

/* An encoded Envelope{tx = `len` bytes starting with `tag`} (caller frees). */
static inline uint8_t *make_env(uint8_t tag, size_t len, size_t *out_len) {
    uint8_t *data = malloc(len);
    assert_non_null(data);
    for (size_t i = 0; i < len; i++)
        data[i] = (uint8_t)(tag + i);
    Clearnode__V1__Envelope e;
    clearnode__v1__envelope__init(&e);
    e.msg_case = CLEARNODE__V1__ENVELOPE__MSG_TX;
    e.tx.data = data;
    e.tx.len = len;
    uint8_t *out;
    assert_true(cn_encode(&e.base, 0, &out, out_len));
    free(data);
    return out;
}

static inline void send_env(node *a, node *b, uint8_t tag, size_t len, cn_p2p_prio prio,
                     cn_p2p_err want) {
    size_t el;
    uint8_t *env = make_env(tag, len, &el);
    assert_int_equal(cn_p2p_send(a->p, b->kp.pub, env, el, prio), want);
    free(env);
}

/* ---- raw client ------------------------------------------------------------------------------ */

typedef struct {
    int fd;
    cn_p2p_hs hs;
} raw;

static inline void raw_connect(raw *r, uint16_t port) {
    r->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(r->fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(r->fd, (struct sockaddr *)&a, sizeof a), 0);
    int fl = fcntl(r->fd, F_GETFL);
    assert_int_equal(fcntl(r->fd, F_SETFL, fl | O_NONBLOCK), 0);
}

/* Sends everything, pumping the loop while the socket is full. Returns 0 if the peer closed. */
static inline int raw_send(raw *r, const void *buf, size_t n) {
    const uint8_t *p = buf;
    uint64_t t0 = now_ms();
    while (n > 0 && now_ms() - t0 < 5000) {
        ssize_t k = send(r->fd, p, n, MSG_NOSIGNAL);
        if (k > 0) {
            p += k;
            n -= (size_t)k;
        } else if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            pump(2);
        } else {
            return 0;
        }
    }
    return n == 0;
}

/* Receives exactly n bytes; returns 1, or 0 on EOF/error/timeout. */
static inline int raw_recv(raw *r, void *buf, size_t n) {
    uint8_t *p = buf;
    uint64_t t0 = now_ms();
    while (n > 0 && now_ms() - t0 < 5000) {
        ssize_t k = recv(r->fd, p, n, MSG_DONTWAIT);
        if (k > 0) {
            p += k;
            n -= (size_t)k;
        } else if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            pump(2);
        } else {
            return 0;
        }
    }
    return n == 0;
}

/* 1 once the server has closed the connection (reads and discards whatever comes first). */
static inline int raw_closed(raw *r) {
    uint8_t buf[4096];
    uint64_t t0 = now_ms();
    while (now_ms() - t0 < 5000) {
        ssize_t k = recv(r->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            return 1;
        if (k < 0)
            pump(2);
    }
    return 0;
}

/* Runs a handshake as `kp` (signing with `signer`, normally kp) against the node on `port`.
 * Returns the server's verdict on our AUTH as seen from its AUTH: 1 if both AUTHs were
 * exchanged and the server's verified. */
static inline int raw_handshake(raw *r, uint16_t port, const cn_keypair *kp, const cn_keypair *signer,
                         const char *chain) {
    raw_connect(r, port);
    assert_true(cn_p2p_hs_init(&r->hs, kp, chain, 1, NULL));
    uint8_t h[CN_P2P_HELLO_MAX];
    size_t hl = cn_p2p_hs_hello(&r->hs, h);
    if (!raw_send(r, h, hl))
        return 0;
    uint8_t sh[CN_P2P_HELLO_MAX];
    if (!raw_recv(r, sh, 7))
        return 0;
    size_t total = CN_P2P_HELLO_FIXED + sh[6];
    if (!raw_recv(r, sh + 7, total - 7))
        return 0;
    size_t used;
    cn_p2p_reason why;
    assert_int_equal(cn_p2p_hs_read_hello(&r->hs, sh, total, &used, &why), CN_P2P_HS_OK);
    r->hs.kp = signer;
    uint8_t auth[CN_P2P_AUTH_LEN];
    assert_true(cn_p2p_hs_auth(&r->hs, auth, &why));
    r->hs.kp = kp;
    if (!raw_send(r, auth, sizeof auth))
        return 0;
    if (!raw_recv(r, auth, sizeof auth))
        return 0;
    return cn_p2p_hs_read_auth(&r->hs, auth) == CN_P2P_R_NONE;
}

/* Sends one sealed frame with `plain` on an established raw session. */
static inline int raw_frame(raw *r, const uint8_t *plain, size_t len) {
    uint8_t *f = malloc(cn_p2p_frame_len(len));
    assert_non_null(f);
    assert_true(cn_p2p_frame_seal(&r->hs.push, f, plain, len,
                                  crypto_secretstream_xchacha20poly1305_TAG_MESSAGE));
    int ok = raw_send(r, f, cn_p2p_frame_len(len));
    free(f);
    return ok;
}

static inline void raw_close(raw *r) {
    close(r->fd);
    cn_p2p_hs_wipe(&r->hs);
}

/* ---- tests ----------------------------------------------------------------------------------- */

static inline int setup(void **state) {
    (void)state;
    base = event_base_new();
    return base ? 0 : -1;
}

static inline int teardown(void **state) {
    (void)state;
    event_base_free(base);
    base = NULL;
    return 0;
}

#endif
