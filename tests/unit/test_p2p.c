/* The P2P transport end to end, in process, on 127.0.0.1 with kernel-chosen ports: two and
 * three nodes exchanging Envelopes both ways (one connection per pair whoever dials), large
 * messages, broadcast, status and seen helpers; reconnect after a restart and after a local
 * disconnect; send-queue limits, eviction order and the slow-peer disconnect; orderly
 * shutdown (FINAL); configuration errors. Hostile peers are in test_p2p_hostile.c. */
#include "tests/unit/p2p_harness.h"

/* Two nodes that both dial each other end up with one connection and exchange both ways. */
static void test_two_peers(void **state) {
    (void)state;
    node a = {0}, b = {0};
    node_key(&a);
    node_key(&b);
    node *pa[] = {&b}, *pb[] = {&a};
    node_start(&a, pa, 1);
    node_start(&b, pb, 1);
    point(&a, &b);
    point(&b, &a);
    WAIT_FOR(cn_p2p_is_connected(a.p, b.kp.pub) && cn_p2p_is_connected(b.p, a.kp.pub), 3000);
    pump(200); /* let the tie-break settle */
    assert_true(cn_p2p_is_connected(a.p, b.kp.pub));
    assert_true(cn_p2p_is_connected(b.p, a.kp.pub));
    /* a simultaneous connect may flap once; the count of ups always exceeds downs by one */
    assert_int_equal(a.ups - a.downs, 1);
    assert_int_equal(b.ups - b.downs, 1);
    int a_downs = a.downs;
    /* The surviving connection was dialled by the smaller key. */
    cn_p2p_peer_status sa, sb;
    assert_true(cn_p2p_peer_status_get(a.p, b.kp.pub, &sa));
    assert_true(cn_p2p_peer_status_get(b.p, a.kp.pub, &sb));
    int a_small = memcmp(a.kp.pub, b.kp.pub, 32) < 0;
    assert_int_equal(sa.outbound, a_small);
    assert_int_equal(sb.outbound, !a_small);

    send_env(&a, &b, 0x11, 100, CN_P2P_PRIO_TX, CN_P2P_OK);
    send_env(&b, &a, 0x22, 200, CN_P2P_PRIO_CONSENSUS, CN_P2P_OK);
    WAIT_FOR(a.got == 1 && b.got == 1, 3000);
    assert_memory_equal(b.from[0], a.kp.pub, 32);
    assert_int_equal(b.len[0], 100);
    assert_int_equal(b.first[0], 0x11);
    assert_memory_equal(a.from[0], b.kp.pub, 32);
    assert_int_equal(a.len[0], 200);
    /* The raw bytes handed over are exactly the bytes sent. */
    size_t el;
    uint8_t *env = make_env(0x11, 100, &el);
    assert_int_equal(b.last_len, el);
    assert_memory_equal(b.last, env, el);
    free(env);
    /* A 1 MiB message arrives intact. */
    send_env(&a, &b, 0x33, 1 << 20, CN_P2P_PRIO_BLOCK, CN_P2P_OK);
    WAIT_FOR(b.got == 2, 5000);
    assert_int_equal(b.len[1], 1 << 20);
    assert_int_equal(b.first[1], 0x33);

    assert_true(cn_p2p_peer_status_get(a.p, b.kp.pub, &sa));
    assert_true(sa.bytes_out > (1 << 20));
    assert_int_equal(sa.msgs_out, 2);
    assert_int_equal(sa.msgs_in, 1);
    assert_int_equal(sa.score, 0);
    assert_int_equal(sa.queue_msgs, 0);
    /* Argument checks. */
    uint8_t x = 0;
    assert_int_equal(cn_p2p_send(a.p, b.kp.pub, &x, 0, CN_P2P_PRIO_TX), CN_P2P_EINVAL);
    assert_int_equal(cn_p2p_send(a.p, a.kp.pub, &x, 1, CN_P2P_PRIO_TX), CN_P2P_EUNKNOWN);
    uint8_t *huge = calloc(1, CN_CAP_ENVELOPE + 1);
    assert_non_null(huge);
    assert_int_equal(cn_p2p_send(a.p, b.kp.pub, huge, CN_CAP_ENVELOPE + 1, CN_P2P_PRIO_TX),
                     CN_P2P_ETOOBIG);
    free(huge);
    /* Keepalives keep an otherwise idle link up past several keepalive periods. */
    pump(700);
    assert_true(cn_p2p_is_connected(a.p, b.kp.pub));
    assert_int_equal(a.downs, a_downs);
    node_free(&a);
    node_free(&b);
}

/* Three nodes in a full mesh; every broadcast reaches both others. */
static void test_three_peers(void **state) {
    (void)state;
    node n[3];
    memset(n, 0, sizeof n);
    for (int i = 0; i < 3; i++)
        node_key(&n[i]);
    for (int i = 0; i < 3; i++) {
        node *ps[3] = {&n[0], &n[1], &n[2]}; /* own key included: it is skipped */
        node_start(&n[i], ps, 3);
        assert_int_equal(cn_p2p_peer_count(n[i].p), 2);
    }
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            if (i != j)
                point(&n[i], &n[j]);
    WAIT_FOR(cn_p2p_is_connected(n[0].p, n[1].kp.pub) && cn_p2p_is_connected(n[0].p, n[2].kp.pub) &&
                 cn_p2p_is_connected(n[1].p, n[2].kp.pub) &&
                 cn_p2p_is_connected(n[1].p, n[0].kp.pub) &&
                 cn_p2p_is_connected(n[2].p, n[0].kp.pub) &&
                 cn_p2p_is_connected(n[2].p, n[1].kp.pub),
             3000);
    for (int i = 0; i < 3; i++) {
        size_t el;
        uint8_t *env = make_env((uint8_t)(0x40 + i), 64, &el);
        assert_int_equal(cn_p2p_broadcast(n[i].p, env, el, CN_P2P_PRIO_CONSENSUS, NULL), 2);
        free(env);
    }
    WAIT_FOR(n[0].got == 2 && n[1].got == 2 && n[2].got == 2, 3000);
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 2; k++) {
            int from = n[i].first[k] - 0x40;
            assert_true(from >= 0 && from < 3 && from != i);
            assert_memory_equal(n[i].from[k], n[from].kp.pub, 32);
        }
    /* broadcast with an exception */
    size_t el;
    uint8_t *env = make_env(0x50, 8, &el);
    assert_int_equal(cn_p2p_broadcast(n[0].p, env, el, CN_P2P_PRIO_TX, n[1].kp.pub), 1);
    free(env);
    WAIT_FOR(n[2].got == 3, 3000);
    pump(50);
    assert_int_equal(n[1].got, 2);
    /* status lists every peer */
    cn_p2p_peer_status st[4];
    assert_int_equal(cn_p2p_peers(n[0].p, st, 4), 2);
    assert_true(st[0].connected && st[1].connected);
    assert_true(strncmp(st[0].addr, "127.0.0.1:", 10) == 0);
    /* seen helpers */
    uint8_t id[32];
    memset(id, 7, sizeof id);
    assert_false(cn_p2p_seen_check(n[0].p, n[1].kp.pub, id));
    cn_p2p_seen_mark(n[0].p, n[1].kp.pub, id);
    assert_true(cn_p2p_seen_check(n[0].p, n[1].kp.pub, id));
    assert_false(cn_p2p_seen_check(n[0].p, n[2].kp.pub, id));
    for (int i = 0; i < 3; i++)
        node_free(&n[i]);
}

/* The other side restarts on the same port: the link comes back by itself. */
static void test_reconnect(void **state) {
    (void)state;
    node a = {0}, b = {0};
    node_key(&a);
    node_key(&b);
    node *pa[] = {&b}, *pb[] = {&a};
    node_start(&a, pa, 1);
    node_start(&b, pb, 1);
    point(&a, &b);
    WAIT_FOR(cn_p2p_is_connected(a.p, b.kp.pub), 3000);
    char baddr[64];
    snprintf(baddr, sizeof baddr, "127.0.0.1:%u", (unsigned)cn_p2p_listen_port(b.p));
    node_free(&b);
    WAIT_FOR(a.downs == 1, 3000);
    assert_int_equal(a.last_down, CN_P2P_R_CLOSED); /* b sent FINAL on the way out */
    assert_int_equal(cn_p2p_send(a.p, b.kp.pub, (const uint8_t *)"x", 1, CN_P2P_PRIO_TX),
                     CN_P2P_ENOTCONN);
    pump(300); /* a retries against a closed port, backing off */
    assert_true(closes(&a, CN_P2P_R_CONNECT) >= 1);
    b.ups = b.downs = 0;
    node_start_ex(&b, CHAIN, pb, 1, NULL, baddr);
    WAIT_FOR(cn_p2p_is_connected(a.p, b.kp.pub) && cn_p2p_is_connected(b.p, a.kp.pub), 3000);
    assert_int_equal(a.ups, 2);
    send_env(&a, &b, 0x71, 10, CN_P2P_PRIO_TX, CN_P2P_OK);
    WAIT_FOR(b.got == 1, 3000);
    /* A local disconnect is redialled too. */
    assert_int_equal(cn_p2p_disconnect(a.p, b.kp.pub), CN_P2P_OK);
    assert_int_equal(a.last_down, CN_P2P_R_LOCAL);
    WAIT_FOR(cn_p2p_is_connected(a.p, b.kp.pub) && a.ups == 3, 3000);
    node_free(&a);
    node_free(&b);
}

/* A key admitted while running (a validator governance added): refused before, accepted
 * after cn_p2p_add_peer, and messages flow both ways. */
static void test_admit_peer(void **state) {
    (void)state;
    node a = {0}, b = {0};
    node_key(&a);
    node_key(&b);
    node *pb[] = {&a};
    node_start(&a, NULL, 0);
    node_start(&b, pb, 1);
    point(&b, &a);
    WAIT_FOR(closes(&a, CN_P2P_R_UNKNOWN_KEY) >= 1, 3000);
    assert_false(cn_p2p_is_connected(a.p, b.kp.pub));
    assert_int_equal(cn_p2p_peer_count(a.p), 0);
    assert_int_equal(cn_p2p_add_peer(a.p, b.kp.pub), CN_P2P_OK);
    assert_int_equal(cn_p2p_add_peer(a.p, b.kp.pub), CN_P2P_OK); /* listed once */
    assert_int_equal(cn_p2p_peer_count(a.p), 1);
    assert_int_equal(cn_p2p_add_peer(a.p, a.kp.pub), CN_P2P_EINVAL);
    uint8_t bad[32];
    memset(bad, 0xff, sizeof bad);
    assert_int_equal(cn_p2p_add_peer(a.p, bad), CN_P2P_EINVAL);
    /* b redials with backoff and is let in now */
    WAIT_FOR(cn_p2p_is_connected(a.p, b.kp.pub) && cn_p2p_is_connected(b.p, a.kp.pub), 5000);
    send_env(&a, &b, 0x72, 10, CN_P2P_PRIO_TX, CN_P2P_OK);
    send_env(&b, &a, 0x73, 10, CN_P2P_PRIO_TX, CN_P2P_OK);
    WAIT_FOR(b.got == 1 && a.got == 1, 3000);
    assert_int_equal(a.first[0], 0x73);
    node_free(&a);
    node_free(&b);
}

/* Queue limits and priorities on a live connection. */
static void test_queue_limits(void **state) {
    (void)state;
    node a = {0}, b = {0};
    node_key(&a);
    node_key(&b);
    cn_p2p_limits l;
    test_limits(&l);
    l.max_queue_msgs = 4;
    l.out_buffer_bytes = 1; /* everything past the first message waits in the queue */
    node *pa[] = {&b}, *pb[] = {&a};
    node_start_ex(&a, CHAIN, pa, 1, &l, NULL);
    node_start(&b, pb, 1);
    point(&a, &b);
    WAIT_FOR(cn_p2p_is_connected(a.p, b.kp.pub) && cn_p2p_is_connected(b.p, a.kp.pub), 3000);
    pump(50);
    /* no loop turns between sends: #1 goes to the socket buffer, the rest queue */
    send_env(&a, &b, 1, 16, CN_P2P_PRIO_TX, CN_P2P_OK);
    for (uint8_t i = 2; i <= 5; i++)
        send_env(&a, &b, i, 16, CN_P2P_PRIO_TX, CN_P2P_OK);
    send_env(&a, &b, 6, 16, CN_P2P_PRIO_TX, CN_P2P_EFULL);
    send_env(&a, &b, 7, 16, CN_P2P_PRIO_CONSENSUS, CN_P2P_OK); /* evicts #2 */
    send_env(&a, &b, 8, 16, CN_P2P_PRIO_BLOCK, CN_P2P_OK);     /* evicts #3 */
    cn_p2p_peer_status st;
    assert_true(cn_p2p_peer_status_get(a.p, b.kp.pub, &st));
    assert_int_equal(st.queue_msgs, 4);
    assert_int_equal(st.dropped, 3);
    WAIT_FOR(b.got == 5, 3000);
    const uint8_t want[] = {1, 7, 8, 4, 5};
    for (int i = 0; i < 5; i++)
        assert_int_equal(b.first[i], want[i]);
    /* consensus messages that do not fit disconnect the peer instead of being dropped */
    pump(50);
    send_env(&a, &b, 9, 16, CN_P2P_PRIO_CONSENSUS, CN_P2P_OK);
    for (int i = 0; i < 4; i++)
        send_env(&a, &b, 10, 16, CN_P2P_PRIO_CONSENSUS, CN_P2P_OK);
    send_env(&a, &b, 11, 16, CN_P2P_PRIO_CONSENSUS, CN_P2P_ESLOW);
    assert_int_equal(a.downs, 1);
    assert_int_equal(a.last_down, CN_P2P_R_SLOW);
    assert_true(cn_p2p_peer_status_get(a.p, b.kp.pub, &st));
    assert_int_equal(st.queue_msgs, 0);
    assert_int_equal(st.score, 0); /* slowness is not an offence */
    WAIT_FOR(cn_p2p_is_connected(a.p, b.kp.pub) && cn_p2p_is_connected(b.p, a.kp.pub), 3000);
    node_free(&a);
    node_free(&b);
}

/* cn_p2p_stop sends FINAL: the other side sees an orderly close. */
static void test_shutdown(void **state) {
    (void)state;
    node n[3];
    memset(n, 0, sizeof n);
    for (int i = 0; i < 3; i++)
        node_key(&n[i]);
    for (int i = 0; i < 3; i++) {
        node *ps[3] = {&n[0], &n[1], &n[2]};
        node_start(&n[i], ps, 3);
    }
    point(&n[0], &n[1]);
    point(&n[0], &n[2]);
    WAIT_FOR(cn_p2p_is_connected(n[1].p, n[0].kp.pub) && cn_p2p_is_connected(n[2].p, n[0].kp.pub),
             3000);
    send_env(&n[0], &n[1], 1, 1000, CN_P2P_PRIO_TX, CN_P2P_OK);
    cn_p2p_stop(n[0].p);
    cn_p2p_stop(n[0].p); /* idempotent */
    assert_int_equal(n[0].downs, 2);
    assert_int_equal(n[0].last_down, CN_P2P_R_LOCAL);
    WAIT_FOR(n[1].downs == 1 && n[2].downs == 1, 3000);
    assert_int_equal(n[1].last_down, CN_P2P_R_CLOSED);
    assert_int_equal(n[2].last_down, CN_P2P_R_CLOSED);
    assert_int_equal(n[1].got, 1); /* what was written before the FINAL arrived */
    for (int i = 0; i < 3; i++)
        node_free(&n[i]);
    cn_p2p_free(NULL);
}

/* Configuration errors are reported, not crashes. */
static void test_bad_config(void **state) {
    (void)state;
    node a = {0}, b = {0};
    node_key(&a);
    node_key(&b);
    char err[200];
    cn_p2p_peer_cfg pc[2];
    memcpy(pc[0].key, b.kp.pub, 32);
    pc[0].addr = NULL;
    cn_p2p_config c = {.base = base, .chain_id = CHAIN, .node_key = &a.kp, .listen = NULL,
                       .peers = pc, .n_peers = 1};
    cn_p2p *p = cn_p2p_new(&c, err, sizeof err);
    assert_non_null(p);
    assert_int_equal(cn_p2p_listen_port(p), 0);
    cn_p2p_free(p);
    c.chain_id = "";
    assert_null(cn_p2p_new(&c, err, sizeof err));
    c.chain_id = CHAIN;
    pc[1] = pc[0];
    c.n_peers = 2;
    assert_null(cn_p2p_new(&c, err, sizeof err));
    assert_non_null(strstr(err, "duplicate"));
    memset(pc[1].key, 0xff, 32);
    assert_null(cn_p2p_new(&c, err, sizeof err));
    assert_non_null(strstr(err, "invalid key"));
    c.n_peers = 1;
    pc[0].addr = "localhost:80";
    assert_null(cn_p2p_new(&c, err, sizeof err));
    pc[0].addr = "127.0.0.1:0";
    assert_null(cn_p2p_new(&c, err, sizeof err));
    pc[0].addr = "[::1]:26656";
    p = cn_p2p_new(&c, err, sizeof err);
    assert_non_null(p);
    cn_p2p_free(p);
    pc[0].addr = NULL;
    c.listen = "127.0.0.1:http";
    assert_null(cn_p2p_new(&c, err, sizeof err));
    c.listen = NULL;
    cn_p2p_limits l;
    cn_p2p_limits_default(&l);
    l.max_queue_bytes = 1000;
    c.limits = &l;
    assert_null(cn_p2p_new(&c, err, sizeof err));
    cn_p2p_limits_default(&l);
    l.keepalive_ms = l.idle_timeout_ms;
    assert_null(cn_p2p_new(&c, err, sizeof err));
    /* a port in use */
    c.limits = NULL;
    c.listen = "127.0.0.1:0";
    cn_p2p *q = cn_p2p_new(&c, err, sizeof err);
    assert_non_null(q);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", (unsigned)cn_p2p_listen_port(q));
    c.listen = addr;
    /* SO_REUSEADDR does not allow two listeners on one port */
    p = cn_p2p_new(&c, err, sizeof err);
    assert_null(p);
    assert_non_null(strstr(err, "cannot listen"));
    cn_p2p_free(q);
}

int main(void) {
    if (!cn_crypto_init())
        return 1;
    signal(SIGPIPE, SIG_IGN); /* as the node does: peers may vanish mid-write */
    cn_log_set_level(getenv("P2P_TEST_LOG") ? CN_LOGL_DEBUG : CN_LOGL_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_two_peers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_three_peers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconnect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_admit_peer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shutdown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_config, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
