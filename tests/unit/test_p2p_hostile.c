/* The P2P transport against misbehaving peers, in process on 127.0.0.1: handshake refusals
 * each with its own reason (unknown key, wrong chain, self, wrong peer, bad signature,
 * garbage, timeout, pending limit, duplicate and its tie-break), and hostile bytes from a raw
 * client that completes a real handshake (oversized frame, tampered ciphertext, garbage after
 * a good frame, invalid Envelope, bad tag, truncation) leading to disconnects, scores and a
 * ban. Nothing may crash or leak (the asan build checks). */
#include "tests/unit/p2p_harness.h"

/* Handshake refusals with their own reasons: unknown key, wrong chain, self, wrong peer. */
static void test_refusals(void **state) {
    (void)state;
    node a = {0}, b = {0}, stranger = {0}, other_chain = {0};
    node_key(&a);
    node_key(&b);
    node_key(&stranger);
    node_key(&other_chain);
    node *pa[] = {&b, &other_chain};
    node_start(&a, pa, 2);
    /* unknown key: `stranger` knows a, a does not know it */
    node *ps[] = {&a};
    node_start(&stranger, ps, 1);
    point(&stranger, &a);
    WAIT_FOR(closes(&a, CN_P2P_R_UNKNOWN_KEY) >= 1, 3000);
    assert_false(cn_p2p_is_connected(stranger.p, a.kp.pub));
    node_free(&stranger);
    /* wrong chain: allowlisted key, other chain id; both ends refuse */
    node_start_ex(&other_chain, "another-chain", ps, 1, NULL, NULL);
    point(&other_chain, &a);
    WAIT_FOR(closes(&a, CN_P2P_R_CHAIN) >= 1 && closes(&other_chain, CN_P2P_R_CHAIN) >= 1, 3000);
    assert_false(cn_p2p_is_connected(a.p, other_chain.kp.pub));
    node_free(&other_chain);
    /* self and wrong peer: a's entry for b points at a itself, then at a node with another key */
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", (unsigned)cn_p2p_listen_port(a.p));
    assert_int_equal(cn_p2p_set_peer_addr(a.p, b.kp.pub, addr), CN_P2P_OK);
    WAIT_FOR(closes(&a, CN_P2P_R_SELF) >= 2, 3000); /* both ends of the loop */
    /* wrong peer: b's address now answers with another allowlisted key */
    node_start(&other_chain, ps, 1);
    assert_int_equal(cn_p2p_set_peer_addr(a.p, stranger.kp.pub, "127.0.0.1:1"), CN_P2P_EUNKNOWN);
    snprintf(addr, sizeof addr, "127.0.0.1:%u", (unsigned)cn_p2p_listen_port(other_chain.p));
    assert_int_equal(cn_p2p_set_peer_addr(a.p, b.kp.pub, addr), CN_P2P_OK);
    WAIT_FOR(closes(&a, CN_P2P_R_WRONG_PEER) >= 1, 3000);
    assert_int_equal(cn_p2p_set_peer_addr(a.p, b.kp.pub, "not-an-ip:1"), CN_P2P_EINVAL);
    assert_int_equal(cn_p2p_set_peer_addr(a.p, b.kp.pub, "127.0.0.1"), CN_P2P_EINVAL);
    assert_int_equal(cn_p2p_set_peer_addr(a.p, b.kp.pub, NULL), CN_P2P_OK);
    node_free(&other_chain);
    assert_int_equal(a.ups, 0);
    node_free(&a);
}

/* Bad signature, handshake timeout, garbage before the handshake. */
static void test_raw_refusals(void **state) {
    (void)state;
    node a = {0}, b = {0}, x = {0};
    node_key(&a);
    node_key(&b);
    node_key(&x);
    node *pa[] = {&b};
    node_start(&a, pa, 1);
    uint16_t port = cn_p2p_listen_port(a.p);
    raw r;
    (void)raw_handshake(&r, port, &b.kp, &x.kp, CHAIN); /* our side of it may verify */
    WAIT_FOR(closes(&a, CN_P2P_R_BAD_SIG) == 1, 3000);
    assert_true(raw_closed(&r));
    raw_close(&r);
    cn_p2p_peer_status st;
    assert_true(cn_p2p_peer_status_get(a.p, b.kp.pub, &st));
    assert_int_equal(st.score, 0); /* an unauthenticated claim costs the claimed key nothing */

    raw_connect(&r, port);
    assert_true(raw_send(&r, "GET / HTTP/1.1\r\n\r\n", 18));
    WAIT_FOR(closes(&a, CN_P2P_R_GARBAGE) == 1, 3000);
    assert_true(raw_closed(&r));
    close(r.fd);

    node_free(&a);
    cn_p2p_limits l;
    test_limits(&l);
    l.handshake_timeout_ms = 200;
    node_start_ex(&a, CHAIN, pa, 1, &l, NULL);
    raw_connect(&r, cn_p2p_listen_port(a.p));
    WAIT_FOR(closes(&a, CN_P2P_R_HS_TIMEOUT) == 1, 3000);
    assert_true(raw_closed(&r));
    close(r.fd);
    /* Pending limit: max_pending unauthenticated connections at once. */
    node_free(&a);
    l.handshake_timeout_ms = 2000;
    l.max_pending = 2;
    node_start_ex(&a, CHAIN, pa, 1, &l, NULL);
    raw q[3];
    for (int i = 0; i < 3; i++)
        raw_connect(&q[i], cn_p2p_listen_port(a.p));
    WAIT_FOR(closes(&a, CN_P2P_R_TOO_MANY) == 1, 3000);
    cn_p2p_stats s;
    cn_p2p_stats_get(a.p, &s);
    assert_int_equal(s.pending, 2);
    for (int i = 0; i < 3; i++)
        close(q[i].fd);
    WAIT_FOR((cn_p2p_stats_get(a.p, &s), s.pending == 0), 3000);
    node_free(&a);
}

/* Duplicate connections: the connection dialled by the smaller key wins on both ends. */
static void test_duplicate(void **state) {
    (void)state;
    node n1 = {0}, n2 = {0};
    node_key(&n1);
    node_key(&n2);
    node *lo = memcmp(n1.kp.pub, n2.kp.pub, 32) < 0 ? &n1 : &n2;
    node *hi = lo == &n1 ? &n2 : &n1;
    node *pl[] = {hi}, *ph[] = {lo};
    node_start(lo, pl, 1);
    node_start(hi, ph, 1);
    point(lo, hi);
    WAIT_FOR(cn_p2p_is_connected(lo->p, hi->kp.pub) && cn_p2p_is_connected(hi->p, lo->kp.pub),
             3000);
    /* hi dials lo again (as a raw client with hi's key): refused, the old one is kept. */
    raw r;
    int ok = raw_handshake(&r, cn_p2p_listen_port(lo->p), &hi->kp, &hi->kp, CHAIN);
    (void)ok; /* lo may close before or after its AUTH is read */
    WAIT_FOR(closes(lo, CN_P2P_R_DUPLICATE) == 1, 3000);
    assert_true(raw_closed(&r));
    raw_close(&r);
    assert_true(cn_p2p_is_connected(lo->p, hi->kp.pub));
    assert_int_equal(lo->downs, 0);
    /* lo dials hi again (raw, lo's key): same dialler, newer wins, the old one is replaced
     * without a down/up flap on hi. The real lo must not redial meanwhile. */
    assert_int_equal(cn_p2p_set_peer_addr(lo->p, hi->kp.pub, NULL), CN_P2P_OK);
    assert_true(raw_handshake(&r, cn_p2p_listen_port(hi->p), &lo->kp, &lo->kp, CHAIN));
    WAIT_FOR(closes(hi, CN_P2P_R_REPLACED) == 1, 3000);
    assert_true(cn_p2p_is_connected(hi->p, lo->kp.pub));
    assert_int_equal(hi->downs, 0);
    assert_int_equal(hi->ups, 1);
    /* hi now talks to the raw client */
    send_env(hi, lo, 0x61, 10, CN_P2P_PRIO_TX, CN_P2P_OK);
    uint8_t hdr[4];
    assert_true(raw_recv(&r, hdr, 4));
    raw_close(&r);
    WAIT_FOR(hi->downs == 1, 3000);
    node_free(lo);
    node_free(hi);
}

/* Hostile frames from an authenticated peer: disconnect, score, ban. */
static void test_bad_frames(void **state) {
    (void)state;
    node a = {0}, c = {0};
    node_key(&a);
    node_key(&c);
    node *pa[] = {&c};
    node_start(&a, pa, 1);
    uint16_t port = cn_p2p_listen_port(a.p);
    cn_p2p_peer_status st;
    raw r;

    /* oversized length prefix: refused on its 4 header bytes */
    assert_true(raw_handshake(&r, port, &c.kp, &c.kp, CHAIN));
    WAIT_FOR(a.ups == 1, 3000);
    uint8_t hdr[4];
    cn_put_be32(hdr, (uint32_t)(CN_CAP_ENVELOPE + CN_P2P_SS_ABYTES + 1));
    assert_true(raw_send(&r, hdr, 4));
    WAIT_FOR(a.downs == 1, 3000);
    assert_int_equal(a.last_down, CN_P2P_R_OVERSIZED);
    assert_true(raw_closed(&r));
    raw_close(&r);
    assert_true(cn_p2p_peer_status_get(a.p, c.kp.pub, &st));
    assert_int_equal(st.score, -25);
    assert_int_equal(st.last_reason, CN_P2P_R_OVERSIZED);

    /* tampered ciphertext */
    assert_true(raw_handshake(&r, port, &c.kp, &c.kp, CHAIN));
    WAIT_FOR(a.ups == 2, 3000);
    size_t el;
    uint8_t *env = make_env(1, 32, &el);
    uint8_t f[128];
    assert_true(cn_p2p_frame_seal(&r.hs.push, f, env, el,
                                  crypto_secretstream_xchacha20poly1305_TAG_MESSAGE));
    f[10] ^= 0x80;
    assert_true(raw_send(&r, f, cn_p2p_frame_len(el)));
    WAIT_FOR(a.downs == 2, 3000);
    assert_int_equal(a.last_down, CN_P2P_R_DECRYPT);
    raw_close(&r);

    /* a valid frame followed by garbage bytes: the first is delivered, then disconnect */
    assert_true(raw_handshake(&r, port, &c.kp, &c.kp, CHAIN));
    WAIT_FOR(a.ups == 3, 3000);
    assert_true(raw_frame(&r, env, el));
    uint8_t junk[64];
    randombytes_buf(junk, sizeof junk);
    cn_put_be32(junk, 40);
    assert_true(raw_send(&r, junk, sizeof junk));
    WAIT_FOR(a.downs == 3, 3000);
    assert_int_equal(a.got, 1);
    assert_int_equal(a.last_down, CN_P2P_R_DECRYPT);
    raw_close(&r);
    assert_true(cn_p2p_peer_status_get(a.p, c.kp.pub, &st));
    assert_true(st.score <= -74 && st.score >= -75);

    /* authenticated bytes that are not an Envelope: proven offence, 50 points: ban */
    assert_true(raw_handshake(&r, port, &c.kp, &c.kp, CHAIN));
    WAIT_FOR(a.ups == 4, 3000);
    const uint8_t not_env[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
    assert_true(raw_frame(&r, not_env, sizeof not_env));
    WAIT_FOR(a.downs == 4, 3000);
    assert_int_equal(a.last_down, CN_P2P_R_DECODE);
    raw_close(&r);
    assert_true(cn_p2p_peer_status_get(a.p, c.kp.pub, &st));
    assert_int_equal(st.bans, 1);
    assert_true(st.ban_remaining_ms > 0);
    assert_int_equal(st.score, CN_P2P_SCORE_BAN / 2);

    /* banned: refused at HELLO */
    raw_connect(&r, port);
    assert_true(cn_p2p_hs_init(&r.hs, &c.kp, CHAIN, 1, NULL));
    uint8_t h[CN_P2P_HELLO_MAX];
    assert_true(raw_send(&r, h, cn_p2p_hs_hello(&r.hs, h)));
    WAIT_FOR(closes(&a, CN_P2P_R_BANNED) == 1, 3000);
    assert_true(raw_closed(&r));
    raw_close(&r);
    assert_int_equal(a.ups, 4);
    free(env);
    node_free(&a);
}

/* An Envelope with no message set, and a FINAL, and an unexpected tag. */
static void test_frame_kinds(void **state) {
    (void)state;
    node a = {0}, c = {0};
    node_key(&a);
    node_key(&c);
    node *pa[] = {&c};
    node_start(&a, pa, 1);
    uint16_t port = cn_p2p_listen_port(a.p);
    raw r;
    /* keepalive (empty) frames are accepted silently, FINAL closes in order */
    assert_true(raw_handshake(&r, port, &c.kp, &c.kp, CHAIN));
    WAIT_FOR(a.ups == 1, 3000);
    assert_true(raw_frame(&r, NULL, 0));
    uint8_t f[64];
    assert_true(cn_p2p_frame_seal(&r.hs.push, f, NULL, 0,
                                  crypto_secretstream_xchacha20poly1305_TAG_FINAL));
    assert_true(raw_send(&r, f, cn_p2p_frame_len(0)));
    WAIT_FOR(a.downs == 1, 3000);
    assert_int_equal(a.last_down, CN_P2P_R_CLOSED);
    raw_close(&r);
    cn_p2p_peer_status st;
    assert_true(cn_p2p_peer_status_get(a.p, c.kp.pub, &st));
    assert_int_equal(st.score, 0);
    /* a PUSH tag */
    assert_true(raw_handshake(&r, port, &c.kp, &c.kp, CHAIN));
    WAIT_FOR(a.ups == 2, 3000);
    assert_true(cn_p2p_frame_seal(&r.hs.push, f, (const uint8_t *)"x", 1,
                                  crypto_secretstream_xchacha20poly1305_TAG_PUSH));
    assert_true(raw_send(&r, f, cn_p2p_frame_len(1)));
    WAIT_FOR(a.downs == 2, 3000);
    assert_int_equal(a.last_down, CN_P2P_R_BAD_TAG);
    raw_close(&r);
    /* EOF in the middle of a frame */
    assert_true(raw_handshake(&r, port, &c.kp, &c.kp, CHAIN));
    WAIT_FOR(a.ups == 3, 3000);
    uint8_t part[10];
    cn_put_be32(part, 100);
    memset(part + 4, 1, 6);
    assert_true(raw_send(&r, part, sizeof part));
    raw_close(&r);
    WAIT_FOR(a.downs == 3, 3000);
    assert_int_equal(a.last_down, CN_P2P_R_EOF);
    node_free(&a);
}

int main(void) {
    if (!cn_crypto_init())
        return 1;
    signal(SIGPIPE, SIG_IGN); /* as the node does: peers may vanish mid-write */
    cn_log_set_level(getenv("P2P_TEST_LOG") ? CN_LOGL_DEBUG : CN_LOGL_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_raw_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_frames, setup, teardown),
        cmocka_unit_test_setup_teardown(test_frame_kinds, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
