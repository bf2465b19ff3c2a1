/* The P2P protocol pieces without sockets: handshake state machine (every refusal reason,
 * replay and reflection), transcript layout, frame sealing/opening at and around the caps,
 * tampering, truncation and tags, the send-queue policy, scoring/bans, backoff bounds, the
 * seen filter and the reason names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "crypto/bytes.h"
#include "node/p2p/frame.h"
#include "node/p2p/handshake.h"
#include "node/p2p/queue.h"
#include "node/p2p/score.h"
#include "node/p2p/seen.h"

static const char *CHAIN = "p2p-test-chain";

static void make_key(cn_keypair *kp, uint8_t seed) {
    uint8_t sec[32];
    memset(sec, 0, sizeof sec);
    sec[0] = 1;
    sec[31] = seed;
    assert_true(cn_keypair_from_seckey(kp, sec));
}

typedef struct {
    cn_keypair ka, kb;
    cn_p2p_hs a, b; /* a initiates */
    uint8_t ha[CN_P2P_HELLO_MAX], hb[CN_P2P_HELLO_MAX];
    size_t la, lb;
} pair;

static void pair_init(pair *p, const char *chain_b) {
    make_key(&p->ka, 1);
    make_key(&p->kb, 2);
    assert_true(cn_p2p_hs_init(&p->a, &p->ka, CHAIN, 1, NULL));
    assert_true(cn_p2p_hs_init(&p->b, &p->kb, chain_b ? chain_b : CHAIN, 0, NULL));
    p->la = cn_p2p_hs_hello(&p->a, p->ha);
    p->lb = cn_p2p_hs_hello(&p->b, p->hb);
}

/* Runs the full handshake; asserts success. */
static void pair_handshake(pair *p) {
    size_t used;
    cn_p2p_reason why;
    assert_int_equal(cn_p2p_hs_read_hello(&p->a, p->hb, p->lb, &used, &why), CN_P2P_HS_OK);
    assert_int_equal(used, p->lb);
    assert_int_equal(cn_p2p_hs_read_hello(&p->b, p->ha, p->la, &used, &why), CN_P2P_HS_OK);
    uint8_t aa[CN_P2P_AUTH_LEN], ab[CN_P2P_AUTH_LEN];
    assert_true(cn_p2p_hs_auth(&p->a, aa, &why));
    assert_true(cn_p2p_hs_auth(&p->b, ab, &why));
    assert_int_equal(cn_p2p_hs_read_auth(&p->a, ab), CN_P2P_R_NONE);
    assert_int_equal(cn_p2p_hs_read_auth(&p->b, aa), CN_P2P_R_NONE);
}

static void test_hello_layout(void **state) {
    (void)state;
    pair p;
    pair_init(&p, NULL);
    size_t cl = strlen(CHAIN);
    assert_int_equal(p.la, CN_P2P_HELLO_FIXED + cl);
    assert_memory_equal(p.ha, "CNP2", 4);
    assert_int_equal(cn_get_be16(p.ha + 4), CN_P2P_VERSION);
    assert_int_equal(p.ha[6], cl);
    assert_memory_equal(p.ha + 7, CHAIN, cl);
    assert_memory_equal(p.ha + 7 + cl, p.ka.pub, 32);
    assert_memory_equal(p.ha + 7 + cl + 32, p.a.eph_pk, 32);
    cn_p2p_hs_wipe(&p.a);
    cn_p2p_hs_wipe(&p.b);
}

static void test_handshake_ok_and_frames(void **state) {
    (void)state;
    pair p;
    pair_init(&p, NULL);
    pair_handshake(&p);
    assert_memory_equal(p.a.peer_key, p.kb.pub, 32);
    assert_memory_equal(p.b.peer_key, p.ka.pub, 32);
    /* Frames both ways, including an empty keepalive and FINAL. */
    const uint8_t msg[] = "hello frames";
    uint8_t wire[128], plain[128];
    size_t used, plen;
    cn_p2p_reason why;
    for (int dir = 0; dir < 2; dir++) {
        cn_p2p_hs *tx = dir ? &p.b : &p.a, *rx = dir ? &p.a : &p.b;
        assert_true(cn_p2p_frame_seal(&tx->push, wire, msg, sizeof msg,
                                      crypto_secretstream_xchacha20poly1305_TAG_MESSAGE));
        size_t fl = cn_p2p_frame_len(sizeof msg);
        assert_int_equal(cn_get_be32(wire), sizeof msg + 17);
        /* Every proper prefix asks for more and consumes nothing. */
        for (size_t k = 0; k < fl; k++)
            assert_int_equal(cn_p2p_frame_open(&rx->pull, wire, k, &used, plain, &plen, &why),
                             CN_P2P_FR_MORE);
        assert_int_equal(cn_p2p_frame_open(&rx->pull, wire, fl, &used, plain, &plen, &why),
                         CN_P2P_FR_MSG);
        assert_int_equal(used, fl);
        assert_int_equal(plen, sizeof msg);
        assert_memory_equal(plain, msg, sizeof msg);
        assert_true(cn_p2p_frame_seal(&tx->push, wire, NULL, 0,
                                      crypto_secretstream_xchacha20poly1305_TAG_MESSAGE));
        assert_int_equal(cn_p2p_frame_open(&rx->pull, wire, 21, &used, plain, &plen, &why),
                         CN_P2P_FR_MSG);
        assert_int_equal(plen, 0);
        assert_true(cn_p2p_frame_seal(&tx->push, wire, NULL, 0,
                                      crypto_secretstream_xchacha20poly1305_TAG_FINAL));
        assert_int_equal(cn_p2p_frame_open(&rx->pull, wire, 21, &used, plain, &plen, &why),
                         CN_P2P_FR_FINAL);
    }
    cn_p2p_hs_wipe(&p.a);
    cn_p2p_hs_wipe(&p.b);
}

/* Expects the peer's HELLO bytes h[0..n) to be refused by hs with `want`. */
static void expect_hello(cn_p2p_hs *hs, const uint8_t *h, size_t n, cn_p2p_reason want) {
    size_t used = 99;
    cn_p2p_reason why;
    assert_int_equal(cn_p2p_hs_read_hello(hs, h, n, &used, &why), CN_P2P_HS_FAIL);
    assert_int_equal(why, want);
    assert_int_equal(used, 0);
}

static void test_hello_refusals(void **state) {
    (void)state;
    pair p;
    pair_init(&p, NULL);
    uint8_t h[CN_P2P_HELLO_MAX];
    size_t used;
    cn_p2p_reason why;
    /* Garbage is refused at the first byte; a correct prefix waits. */
    expect_hello(&p.b, (const uint8_t *)"G", 1, CN_P2P_R_GARBAGE);
    expect_hello(&p.b, (const uint8_t *)"GET / HTTP/1.1\r\n", 16, CN_P2P_R_GARBAGE);
    for (size_t k = 0; k < p.la; k++)
        assert_int_equal(cn_p2p_hs_read_hello(&p.b, p.ha, k, &used, &why), CN_P2P_HS_MORE);
    memcpy(h, p.ha, p.la);
    cn_put_be16(h + 4, CN_P2P_VERSION + 1);
    expect_hello(&p.b, h, p.la, CN_P2P_R_VERSION);
    memcpy(h, p.ha, p.la);
    h[6] = 0;
    expect_hello(&p.b, h, p.la, CN_P2P_R_GARBAGE);
    h[6] = CN_P2P_CHAIN_ID_MAX + 1;
    expect_hello(&p.b, h, CN_P2P_HELLO_MAX, CN_P2P_R_GARBAGE);
    memcpy(h, p.ha, p.la);
    h[7] ^= 1; /* same length, other chain */
    expect_hello(&p.b, h, p.la, CN_P2P_R_CHAIN);
    /* Self: our own static key with a fresh ephemeral key. */
    memcpy(h, p.ha, p.la);
    size_t kofs = 7 + strlen(CHAIN);
    memcpy(h + kofs, p.kb.pub, 32);
    expect_hello(&p.b, h, p.la, CN_P2P_R_SELF);
    /* Reflection: our own HELLO echoed back, or only our ephemeral key. */
    expect_hello(&p.b, p.hb, p.lb, CN_P2P_R_REFLECTED);
    memcpy(h, p.ha, p.la);
    memcpy(h + kofs + 32, p.b.eph_pk, 32);
    expect_hello(&p.b, h, p.la, CN_P2P_R_REFLECTED);
    /* A static key that is not a curve point (x >= field size). */
    memcpy(h, p.ha, p.la);
    memset(h + kofs, 0xff, 32);
    expect_hello(&p.b, h, p.la, CN_P2P_R_BAD_KEY);
    /* The other chain as seen from the peer: same-length and different-length ids. */
    pair q;
    pair_init(&q, "p2p-test-chaiN");
    expect_hello(&q.b, q.ha, q.la, CN_P2P_R_CHAIN);
    pair r;
    pair_init(&r, "other");
    expect_hello(&r.b, r.ha, r.la, CN_P2P_R_CHAIN);
    /* Still good afterwards: refusals leave no state behind. */
    assert_int_equal(cn_p2p_hs_read_hello(&p.b, p.ha, p.la, &used, &why), CN_P2P_HS_OK);
    cn_p2p_hs_wipe(&p.a);
    cn_p2p_hs_wipe(&p.b);
}

static void test_auth_refusals(void **state) {
    (void)state;
    size_t used;
    cn_p2p_reason why;
    uint8_t aa[CN_P2P_AUTH_LEN], ab[CN_P2P_AUTH_LEN];
    /* Bad signature: a signs with another key than the one its HELLO names. */
    {
        pair p;
        pair_init(&p, NULL);
        cn_keypair other;
        make_key(&other, 9);
        assert_int_equal(cn_p2p_hs_read_hello(&p.a, p.hb, p.lb, &used, &why), CN_P2P_HS_OK);
        assert_int_equal(cn_p2p_hs_read_hello(&p.b, p.ha, p.la, &used, &why), CN_P2P_HS_OK);
        p.a.kp = &other;
        assert_true(cn_p2p_hs_auth(&p.a, aa, &why));
        assert_true(cn_p2p_hs_auth(&p.b, ab, &why));
        assert_int_equal(cn_p2p_hs_read_auth(&p.b, aa), CN_P2P_R_BAD_SIG);
    }
    /* Tampered AUTH (any byte), and our own AUTH reflected back. */
    for (size_t i = 0; i < CN_P2P_AUTH_LEN; i += 13) {
        pair p;
        pair_init(&p, NULL);
        assert_int_equal(cn_p2p_hs_read_hello(&p.a, p.hb, p.lb, &used, &why), CN_P2P_HS_OK);
        assert_int_equal(cn_p2p_hs_read_hello(&p.b, p.ha, p.la, &used, &why), CN_P2P_HS_OK);
        assert_true(cn_p2p_hs_auth(&p.a, aa, &why));
        assert_true(cn_p2p_hs_auth(&p.b, ab, &why));
        uint8_t t[CN_P2P_AUTH_LEN];
        memcpy(t, aa, sizeof t);
        t[i] ^= 0x40;
        assert_int_equal(cn_p2p_hs_read_auth(&p.b, t), CN_P2P_R_BAD_AUTH);
        assert_int_equal(cn_p2p_hs_read_auth(&p.a, aa), CN_P2P_R_BAD_AUTH);
    }
    /* Replay: a's AUTH from one session does not open another session with b. */
    {
        pair p;
        pair_init(&p, NULL);
        pair_handshake(&p);
        uint8_t old_auth[CN_P2P_AUTH_LEN];
        cn_p2p_hs a2;
        assert_true(cn_p2p_hs_init(&a2, &p.ka, CHAIN, 1, NULL));
        uint8_t h2[CN_P2P_HELLO_MAX];
        size_t l2 = cn_p2p_hs_hello(&a2, h2);
        cn_p2p_hs b2;
        assert_true(cn_p2p_hs_init(&b2, &p.kb, CHAIN, 0, NULL));
        assert_int_equal(cn_p2p_hs_read_hello(&a2, p.hb, p.lb, &used, &why), CN_P2P_HS_OK);
        assert_true(cn_p2p_hs_auth(&a2, old_auth, &why)); /* a's AUTH against b's old HELLO */
        assert_int_equal(cn_p2p_hs_read_hello(&b2, h2, l2, &used, &why), CN_P2P_HS_OK);
        assert_true(cn_p2p_hs_auth(&b2, ab, &why));
        assert_int_equal(cn_p2p_hs_read_auth(&b2, old_auth), CN_P2P_R_BAD_AUTH);
        cn_p2p_hs_wipe(&a2);
        cn_p2p_hs_wipe(&b2);
    }
    /* Out of order calls are refused, not crashes. */
    {
        pair p;
        pair_init(&p, NULL);
        assert_false(cn_p2p_hs_auth(&p.a, aa, &why));
        assert_int_equal(cn_p2p_hs_read_auth(&p.a, aa), CN_P2P_R_GARBAGE);
    }
    /* A degenerate (all-zero, low order) ephemeral key fails the key exchange. */
    {
        pair p;
        pair_init(&p, NULL);
        uint8_t h[CN_P2P_HELLO_MAX];
        memcpy(h, p.ha, p.la);
        memset(h + p.la - 32, 0, 32);
        assert_int_equal(cn_p2p_hs_read_hello(&p.b, h, p.la, &used, &why), CN_P2P_HS_OK);
        assert_false(cn_p2p_hs_auth(&p.b, ab, &why));
        assert_int_equal(why, CN_P2P_R_KX);
    }
}

static void test_transcript_layout(void **state) {
    (void)state;
    pair p;
    pair_init(&p, NULL);
    pair_handshake(&p);
    /* pair_handshake wiped nothing: transcripts are recomputable from keys. */
    uint8_t ta[CN_P2P_TRANSCRIPT_LEN], tb[CN_P2P_TRANSCRIPT_LEN];
    cn_p2p_hs_transcript(&p.a, 0, ta);
    cn_p2p_hs_transcript(&p.b, 0, tb);
    assert_memory_equal(ta, tb, sizeof ta); /* both sides compute the same bytes */
    assert_int_equal(CN_P2P_TRANSCRIPT_LEN, 131);
    assert_int_equal(cn_get_be16(ta), CN_P2P_VERSION);
    assert_int_equal(ta[2], 0);
    assert_memory_equal(ta + 3, p.ka.pub, 32);
    assert_memory_equal(ta + 35, p.a.eph_pk, 32);
    assert_memory_equal(ta + 67, p.kb.pub, 32);
    assert_memory_equal(ta + 99, p.b.eph_pk, 32);
    cn_p2p_hs_transcript(&p.b, 1, tb);
    assert_int_equal(tb[2], 1);
    assert_memory_equal(ta + 3, tb + 3, 128);
    /* What is signed: the handshake tag over the chain id and the transcript. */
    uint8_t sig[64];
    assert_true(cn_sign_body(&p.ka, sig, CN_TAG_SIG_HANDSHAKE, CHAIN, ta, sizeof ta));
    assert_true(cn_verify_body(sig, p.ka.pub, CN_TAG_SIG_HANDSHAKE, CHAIN, ta, sizeof ta));
    assert_false(cn_verify_body(sig, p.ka.pub, CN_TAG_SIG_HANDSHAKE, "other", ta, sizeof ta));
    assert_int_equal(CN_P2P_AUTH_LEN, 105);
    cn_p2p_hs_wipe(&p.a);
    cn_p2p_hs_wipe(&p.b);
}

static void test_frame_limits(void **state) {
    (void)state;
    pair p;
    pair_init(&p, NULL);
    pair_handshake(&p);
    size_t used, plen, flen;
    cn_p2p_reason why;
    uint8_t hdr[4];
    /* Length prefix bounds: 17 .. CN_CAP_ENVELOPE + 17. */
    cn_put_be32(hdr, 16);
    assert_int_equal(cn_p2p_frame_peek(hdr, 4, &flen, &why), CN_P2P_FR_ERR);
    assert_int_equal(why, CN_P2P_R_OVERSIZED);
    cn_put_be32(hdr, 17);
    assert_int_equal(cn_p2p_frame_peek(hdr, 4, &flen, &why), CN_P2P_FR_MSG);
    cn_put_be32(hdr, (uint32_t)CN_P2P_FRAME_MAX_CT);
    assert_int_equal(cn_p2p_frame_peek(hdr, 4, &flen, &why), CN_P2P_FR_MSG);
    assert_int_equal(flen, CN_P2P_FRAME_MAX);
    cn_put_be32(hdr, (uint32_t)CN_P2P_FRAME_MAX_CT + 1);
    assert_int_equal(cn_p2p_frame_peek(hdr, 4, &flen, &why), CN_P2P_FR_ERR);
    cn_put_be32(hdr, UINT32_MAX);
    uint8_t tiny[8];
    assert_int_equal(cn_p2p_frame_open(&p.b.pull, hdr, 4, &used, tiny, &plen, &why),
                     CN_P2P_FR_ERR);
    assert_int_equal(why, CN_P2P_R_OVERSIZED);
    /* The largest payload round-trips; one more byte is refused by the sealer. */
    uint8_t *big = malloc(CN_P2P_FRAME_MAX + 1), *plain = malloc(CN_P2P_FRAME_MAX_PLAIN + 1);
    assert_non_null(big);
    assert_non_null(plain);
    memset(plain, 0xa5, CN_P2P_FRAME_MAX_PLAIN + 1);
    assert_false(cn_p2p_frame_seal(&p.a.push, big, plain, CN_P2P_FRAME_MAX_PLAIN + 1,
                                   crypto_secretstream_xchacha20poly1305_TAG_MESSAGE));
    assert_true(cn_p2p_frame_seal(&p.a.push, big, plain, CN_P2P_FRAME_MAX_PLAIN,
                                  crypto_secretstream_xchacha20poly1305_TAG_MESSAGE));
    memset(plain, 0, CN_P2P_FRAME_MAX_PLAIN);
    assert_int_equal(cn_p2p_frame_open(&p.b.pull, big, CN_P2P_FRAME_MAX, &used, plain, &plen,
                                       &why),
                     CN_P2P_FR_MSG);
    assert_int_equal(plen, CN_P2P_FRAME_MAX_PLAIN);
    assert_int_equal(plain[0], 0xa5);
    assert_int_equal(plain[CN_P2P_FRAME_MAX_PLAIN - 1], 0xa5);
    free(big);
    free(plain);
    cn_p2p_hs_wipe(&p.a);
    cn_p2p_hs_wipe(&p.b);
}

static void test_frame_tamper_reorder_tag(void **state) {
    (void)state;
    uint8_t f1[64], f2[64], plain[64];
    size_t used, plen;
    cn_p2p_reason why;
    const uint8_t m1[] = "first", m2[] = "second";
    size_t l1 = cn_p2p_frame_len(sizeof m1), l2 = cn_p2p_frame_len(sizeof m2);
    /* Any flipped byte after the length prefix fails authentication. */
    for (size_t i = 4; i < l1; i++) {
        pair p;
        pair_init(&p, NULL);
        pair_handshake(&p);
        assert_true(cn_p2p_frame_seal(&p.a.push, f1, m1, sizeof m1,
                                      crypto_secretstream_xchacha20poly1305_TAG_MESSAGE));
        f1[i] ^= 0x01;
        assert_int_equal(cn_p2p_frame_open(&p.b.pull, f1, l1, &used, plain, &plen, &why),
                         CN_P2P_FR_ERR);
        assert_int_equal(why, CN_P2P_R_DECRYPT);
    }
    /* Reordered (or dropped) frames fail; a shortened length prefix fails. */
    {
        pair p;
        pair_init(&p, NULL);
        pair_handshake(&p);
        assert_true(cn_p2p_frame_seal(&p.a.push, f1, m1, sizeof m1,
                                      crypto_secretstream_xchacha20poly1305_TAG_MESSAGE));
        assert_true(cn_p2p_frame_seal(&p.a.push, f2, m2, sizeof m2,
                                      crypto_secretstream_xchacha20poly1305_TAG_MESSAGE));
        assert_int_equal(cn_p2p_frame_open(&p.b.pull, f2, l2, &used, plain, &plen, &why),
                         CN_P2P_FR_ERR);
        assert_int_equal(why, CN_P2P_R_DECRYPT);
    }
    {
        pair p;
        pair_init(&p, NULL);
        pair_handshake(&p);
        assert_true(cn_p2p_frame_seal(&p.a.push, f1, m1, sizeof m1,
                                      crypto_secretstream_xchacha20poly1305_TAG_MESSAGE));
        cn_put_be32(f1, (uint32_t)(l1 - 5));
        assert_int_equal(cn_p2p_frame_open(&p.b.pull, f1, l1, &used, plain, &plen, &why),
                         CN_P2P_FR_ERR);
        assert_int_equal(why, CN_P2P_R_DECRYPT);
    }
    /* PUSH and REKEY tags are not part of the protocol. */
    {
        pair p;
        pair_init(&p, NULL);
        pair_handshake(&p);
        assert_true(cn_p2p_frame_seal(&p.a.push, f1, m1, sizeof m1,
                                      crypto_secretstream_xchacha20poly1305_TAG_PUSH));
        assert_int_equal(cn_p2p_frame_open(&p.b.pull, f1, l1, &used, plain, &plen, &why),
                         CN_P2P_FR_ERR);
        assert_int_equal(why, CN_P2P_R_BAD_TAG);
    }
    /* A frame sealed for the other direction does not open. */
    {
        pair p;
        pair_init(&p, NULL);
        pair_handshake(&p);
        assert_true(cn_p2p_frame_seal(&p.a.push, f1, m1, sizeof m1,
                                      crypto_secretstream_xchacha20poly1305_TAG_MESSAGE));
        assert_int_equal(cn_p2p_frame_open(&p.a.pull, f1, l1, &used, plain, &plen, &why),
                         CN_P2P_FR_ERR);
    }
}

static void test_queue_policy(void **state) {
    (void)state;
    cn_p2p_queue q;
    memset(&q, 0, sizeof q);
    uint8_t b[16] = {0};
    /* Pops come most urgent first, FIFO within a class. */
    b[0] = 1;
    assert_int_equal(cn_p2p_queue_push(&q, CN_P2P_PRIO_TX, b, 4, 10, 1000), CN_P2P_Q_OK);
    b[0] = 2;
    assert_int_equal(cn_p2p_queue_push(&q, CN_P2P_PRIO_BLOCK, b, 4, 10, 1000), CN_P2P_Q_OK);
    b[0] = 3;
    assert_int_equal(cn_p2p_queue_push(&q, CN_P2P_PRIO_CONSENSUS, b, 4, 10, 1000), CN_P2P_Q_OK);
    b[0] = 4;
    assert_int_equal(cn_p2p_queue_push(&q, CN_P2P_PRIO_CONSENSUS, b, 4, 10, 1000), CN_P2P_Q_OK);
    assert_int_equal(q.count, 4);
    assert_int_equal(q.bytes, 16);
    const uint8_t order[] = {3, 4, 2, 1};
    for (int i = 0; i < 4; i++) {
        cn_p2p_qmsg *m = cn_p2p_queue_pop(&q);
        assert_non_null(m);
        assert_int_equal(m->data[0], order[i]);
        free(m);
    }
    assert_null(cn_p2p_queue_pop(&q));
    assert_int_equal(q.bytes, 0);
    /* Count limit 3: txs fill it; a 4th tx is refused; a vote evicts the oldest tx; votes
     * fill it; then a vote overflows (caller disconnects) and a block part is refused. */
    for (uint8_t i = 0; i < 3; i++) {
        b[0] = i;
        assert_int_equal(cn_p2p_queue_push(&q, CN_P2P_PRIO_TX, b, 4, 3, 1000), CN_P2P_Q_OK);
    }
    assert_int_equal(cn_p2p_queue_push(&q, CN_P2P_PRIO_TX, b, 4, 3, 1000), CN_P2P_Q_FULL);
    assert_int_equal(q.dropped, 1);
    assert_int_equal(cn_p2p_queue_push(&q, CN_P2P_PRIO_CONSENSUS, b, 4, 3, 1000), CN_P2P_Q_OK);
    assert_int_equal(q.dropped, 2);
    assert_int_equal(q.count, 3);
    cn_p2p_qmsg *m = cn_p2p_queue_pop(&q); /* the vote */
    free(m);
    m = cn_p2p_queue_pop(&q); /* oldest surviving tx is #1: #0 was evicted */
    assert_int_equal(m->data[0], 1);
    free(m);
    cn_p2p_queue_clear(&q);
    for (int i = 0; i < 3; i++)
        assert_int_equal(cn_p2p_queue_push(&q, CN_P2P_PRIO_CONSENSUS, b, 4, 3, 1000),
                         CN_P2P_Q_OK);
    assert_int_equal(cn_p2p_queue_push(&q, CN_P2P_PRIO_CONSENSUS, b, 4, 3, 1000),
                     CN_P2P_Q_OVERFLOW);
    assert_int_equal(cn_p2p_queue_push(&q, CN_P2P_PRIO_BLOCK, b, 4, 3, 1000), CN_P2P_Q_FULL);
    cn_p2p_queue_clear(&q);
    /* Byte limit: at the limit fits, one byte over evicts or refuses. */
    assert_int_equal(cn_p2p_queue_push(&q, CN_P2P_PRIO_TX, b, 10, 100, 16), CN_P2P_Q_OK);
    assert_int_equal(cn_p2p_queue_push(&q, CN_P2P_PRIO_TX, b, 6, 100, 16), CN_P2P_Q_OK);
    assert_int_equal(q.bytes, 16);
    assert_int_equal(cn_p2p_queue_push(&q, CN_P2P_PRIO_TX, b, 1, 100, 16), CN_P2P_Q_FULL);
    assert_int_equal(cn_p2p_queue_push(&q, CN_P2P_PRIO_BLOCK, b, 11, 100, 16), CN_P2P_Q_OK);
    assert_int_equal(q.bytes, 11); /* both txs evicted */
    assert_int_equal(cn_p2p_queue_push(&q, CN_P2P_PRIO_TX, b, 17, 100, 16), CN_P2P_Q_FULL);
    cn_p2p_queue_clear(&q);
    assert_int_equal(q.count, 0);
}

static void test_score_and_ban(void **state) {
    (void)state;
    cn_p2p_score s;
    memset(&s, 0, sizeof s);
    uint64_t t = 1000000;
    assert_int_equal(cn_p2p_penalty(CN_P2P_R_EOF), 0);
    assert_int_equal(cn_p2p_penalty(CN_P2P_R_BAD_SIG), 0); /* unauthenticated: never scored */
    assert_int_equal(cn_p2p_score_offence(&s, CN_P2P_R_IDLE, t, 60000, 3600000), 0);
    assert_int_equal(s.score, 0);
    assert_int_equal(cn_p2p_score_offence(&s, CN_P2P_R_OVERSIZED, t, 60000, 3600000), 0);
    assert_int_equal(s.score, -25);
    /* Recovery: one point per 6 s, never above 0. */
    cn_p2p_score_recover(&s, t + 5999);
    assert_int_equal(s.score, -25);
    cn_p2p_score_recover(&s, t + 12000);
    assert_int_equal(s.score, -23);
    cn_p2p_score_recover(&s, t + 10000000);
    assert_int_equal(s.score, 0);
    t += 10000000;
    /* Two proven offences ban; the ban doubles each time up to the cap. */
    assert_int_equal(cn_p2p_score_offence(&s, CN_P2P_R_DECODE, t, 60000, 200000), 0);
    assert_int_equal(cn_p2p_score_offence(&s, CN_P2P_R_DECODE, t, 60000, 200000), 1);
    assert_int_equal(cn_p2p_ban_left(&s, t), 60000);
    assert_int_equal(cn_p2p_ban_left(&s, t + 60000), 0);
    assert_int_equal(s.score, CN_P2P_SCORE_BAN / 2);
    assert_int_equal(cn_p2p_score_offence(&s, CN_P2P_R_BAD_TAG, t, 60000, 200000), 1);
    assert_int_equal(cn_p2p_ban_left(&s, t), 120000);
    assert_int_equal(cn_p2p_score_offence(&s, CN_P2P_R_BAD_TAG, t, 60000, 200000), 1);
    assert_int_equal(cn_p2p_ban_left(&s, t), 200000);
    assert_int_equal(s.bans, 3);
    /* Four unproven ones also ban. */
    memset(&s, 0, sizeof s);
    for (int i = 0; i < 3; i++)
        assert_int_equal(cn_p2p_score_offence(&s, CN_P2P_R_DECRYPT, t, 1000, 1000), 0);
    assert_int_equal(cn_p2p_score_offence(&s, CN_P2P_R_DECRYPT, t, 1000, 1000), 1);
}

static void test_backoff(void **state) {
    (void)state;
    for (uint32_t a = 0; a < 40; a++) {
        uint32_t cap = 100;
        for (uint32_t i = 0; i < a && cap < 5000; i++)
            cap *= 2;
        if (cap > 5000)
            cap = 5000;
        uint32_t lo = cn_p2p_backoff_ms(a, 100, 5000, 0);
        uint32_t hi = cn_p2p_backoff_ms(a, 100, 5000, cap / 2 + cap - cap / 2);
        assert_int_equal(lo, cap / 2);
        assert_true(hi <= cap);
        for (uint32_t r = 0; r < 1000; r++) {
            uint32_t d = cn_p2p_backoff_ms(a, 100, 5000, randombytes_random());
            assert_true(d >= cap / 2 && d <= cap);
        }
    }
    assert_true(cn_p2p_backoff_ms(UINT32_MAX, 1, UINT32_MAX, UINT32_MAX) <= UINT32_MAX);
}

static void test_seen(void **state) {
    (void)state;
    cn_p2p_seen *s = calloc(1, sizeof *s);
    assert_non_null(s);
    uint8_t key[crypto_shorthash_KEYBYTES], id[32];
    randombytes_buf(key, sizeof key);
    int present = 0;
    for (int i = 0; i < 1000; i++) {
        memset(id, 0, sizeof id);
        id[0] = (uint8_t)i;
        id[1] = (uint8_t)(i >> 8);
        assert_false(i == 0 && cn_p2p_seen_has(s, key, id));
        cn_p2p_seen_put(s, key, id);
        assert_true(cn_p2p_seen_has(s, key, id));
    }
    for (int i = 0; i < 1000; i++) {
        memset(id, 0, sizeof id);
        id[0] = (uint8_t)i;
        id[1] = (uint8_t)(i >> 8);
        present += cn_p2p_seen_has(s, key, id);
    }
    assert_true(present > 850); /* few evictions at 1000 of 4096 slots */
    memset(id, 0xee, sizeof id);
    assert_false(cn_p2p_seen_has(s, key, id));
    free(s);
}

static void test_names(void **state) {
    (void)state;
    for (int i = 0; i < CN_P2P_R_COUNT; i++) {
        const char *a = cn_p2p_reason_code((cn_p2p_reason)i);
        assert_non_null(a);
        assert_string_not_equal(a, "unknown");
        assert_non_null(cn_p2p_reason_str((cn_p2p_reason)i));
        for (int j = 0; j < i; j++)
            assert_string_not_equal(a, cn_p2p_reason_code((cn_p2p_reason)j));
    }
    assert_string_equal(cn_p2p_reason_code(CN_P2P_R_COUNT), "unknown");
    for (int i = 0; i < CN_P2P_ERR_COUNT; i++)
        assert_string_not_equal(cn_p2p_strerror((cn_p2p_err)i), "unknown error");
}

int main(void) {
    if (!cn_crypto_init())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello_layout),
        cmocka_unit_test(test_handshake_ok_and_frames),
        cmocka_unit_test(test_hello_refusals),
        cmocka_unit_test(test_auth_refusals),
        cmocka_unit_test(test_transcript_layout),
        cmocka_unit_test(test_frame_limits),
        cmocka_unit_test(test_frame_tamper_reorder_tag),
        cmocka_unit_test(test_queue_policy),
        cmocka_unit_test(test_score_and_ban),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_seen),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
