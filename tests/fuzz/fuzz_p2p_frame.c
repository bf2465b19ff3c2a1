/* Fuzzes what a P2P peer controls, after and during the handshake. The first input byte picks:
 *   0  the rest is a raw byte stream fed to the frame reader of an established session (the
 *      way conn.c reads: peek the length, open the frame, decode the Envelope), until it asks
 *      for more or fails;
 *   1  the rest is a list of (u8 tag selector, u16 BE length, payload) records that are sealed
 *      by the session's sender, optionally with one byte flipped, and read back: what was
 *      sealed unmodified must open to the same bytes and tag (and is decoded as an Envelope),
 *      a flip must be detected;
 *   2  the rest is a peer's HELLO and AUTH fed to a responder's handshake parser.
 * The session is one fixed handshake made at start between two fixed node keys; each input
 * starts from a copy of its stream states. Must never crash, leak or read out of bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/bytes.h"
#include "node/p2p/frame.h"
#include "node/p2p/handshake.h"
#include "proto/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *CHAIN = "fuzz-chain";
static int ready;
static cn_keypair ka, kb;
static crypto_secretstream_xchacha20poly1305_state a_push, b_pull;
static uint8_t *plain; /* CN_P2P_FRAME_MAX_PLAIN bytes */

/* Fixed keys and one completed handshake (a dials b). */
static void setup(void) {
    if (!cn_crypto_init())
        abort();
    uint8_t sec[32] = {0}, seed[32] = {0};
    sec[31] = 1;
    if (!cn_keypair_from_seckey(&ka, sec))
        abort();
    sec[31] = 2;
    if (!cn_keypair_from_seckey(&kb, sec))
        abort();
    cn_p2p_hs a, b;
    seed[0] = 1;
    if (!cn_p2p_hs_init(&a, &ka, CHAIN, 1, seed))
        abort();
    seed[0] = 2;
    if (!cn_p2p_hs_init(&b, &kb, CHAIN, 0, seed))
        abort();
    uint8_t ha[CN_P2P_HELLO_MAX], hb[CN_P2P_HELLO_MAX], aa[CN_P2P_AUTH_LEN], ab[CN_P2P_AUTH_LEN];
    size_t la = cn_p2p_hs_hello(&a, ha), lb = cn_p2p_hs_hello(&b, hb), used;
    cn_p2p_reason why;
    if (cn_p2p_hs_read_hello(&a, hb, lb, &used, &why) != CN_P2P_HS_OK ||
        cn_p2p_hs_read_hello(&b, ha, la, &used, &why) != CN_P2P_HS_OK ||
        !cn_p2p_hs_auth(&a, aa, &why) || !cn_p2p_hs_auth(&b, ab, &why) ||
        cn_p2p_hs_read_auth(&a, ab) != CN_P2P_R_NONE || cn_p2p_hs_read_auth(&b, aa) != CN_P2P_R_NONE)
        abort();
    a_push = a.push;
    b_pull = b.pull;
    plain = malloc(CN_P2P_FRAME_MAX_PLAIN);
    if (!plain)
        abort();
    ready = 1;
}

/* Reads frames from buf like conn.c does; returns the number of frames accepted. */
static size_t read_stream(crypto_secretstream_xchacha20poly1305_state *pull, const uint8_t *buf,
                          size_t len) {
    size_t off = 0, n = 0;
    for (;;) {
        size_t flen = 0, used = 0, plen = 0;
        cn_p2p_reason why;
        cn_p2p_fr_rc rc = cn_p2p_frame_peek(buf + off, len - off, &flen, &why);
        if (rc != CN_P2P_FR_MSG)
            return n;
        if (flen < CN_P2P_FRAME_HDR + CN_P2P_SS_ABYTES || flen > CN_P2P_FRAME_MAX)
            abort(); /* peek must enforce the bounds */
        rc = cn_p2p_frame_open(pull, buf + off, len - off, &used, plain, &plen, &why);
        if (rc == CN_P2P_FR_MORE || rc == CN_P2P_FR_ERR)
            return n;
        if (used != flen || plen != flen - CN_P2P_FRAME_HDR - CN_P2P_SS_ABYTES)
            abort();
        off += used;
        n++;
        if (rc == CN_P2P_FR_FINAL)
            return n;
        if (plen > 0) {
            cn_pb pb;
            if (cn_decode(CN_MSG_ENVELOPE, plain, plen, &pb) == CN_DECODE_OK && !pb.msg)
                abort();
            cn_pb_free(&pb);
        }
    }
}

/* Mode 1: seal records, maybe flip one byte, read back and compare. */
static void sealed_roundtrip(const uint8_t *d, size_t n) {
    if (n < 2)
        return;
    size_t flip = cn_get_be16(d); /* position to flip (beyond the stream: none) */
    d += 2;
    n -= 2;
    size_t cap = 0, count = 0;
    const uint8_t *p = d;
    size_t left = n;
    /* first pass: size the stream */
    while (left >= 3 && count < 64) {
        size_t l = cn_get_be16(p + 1);
        if (l > left - 3)
            l = left - 3;
        cap += cn_p2p_frame_len(l);
        p += 3 + l;
        left -= 3 + l;
        count++;
    }
    if (count == 0)
        return;
    uint8_t *stream = malloc(cap);
    unsigned char *tags = malloc(count);
    if (!stream || !tags)
        abort();
    crypto_secretstream_xchacha20poly1305_state push = a_push, pull = b_pull;
    static const unsigned char tag_of[4] = {
        crypto_secretstream_xchacha20poly1305_TAG_MESSAGE,
        crypto_secretstream_xchacha20poly1305_TAG_MESSAGE,
        crypto_secretstream_xchacha20poly1305_TAG_FINAL,
        crypto_secretstream_xchacha20poly1305_TAG_PUSH};
    size_t off = 0;
    p = d;
    left = n;
    for (size_t i = 0; i < count; i++) {
        size_t l = cn_get_be16(p + 1);
        if (l > left - 3)
            l = left - 3;
        tags[i] = tag_of[p[0] & 3];
        if (!cn_p2p_frame_seal(&push, stream + off, p + 3, l, tags[i]))
            abort();
        off += cn_p2p_frame_len(l);
        p += 3 + l;
        left -= 3 + l;
    }
    int flipped = flip < cap;
    if (flipped)
        stream[flip] ^= 0x01;
    /* read back frame by frame */
    size_t roff = 0;
    p = d;
    left = n;
    for (size_t i = 0; i < count; i++) {
        size_t l = cn_get_be16(p + 1);
        if (l > left - 3)
            l = left - 3;
        size_t used = 0, plen = 0;
        cn_p2p_reason why;
        cn_p2p_fr_rc rc = cn_p2p_frame_open(&pull, stream + roff, cap - roff, &used, plain,
                                            &plen, &why);
        int hit = flipped && flip >= roff && flip < roff + cn_p2p_frame_len(l);
        if (!hit) {
            if (rc == CN_P2P_FR_MORE || rc == CN_P2P_FR_ERR) {
                if (tags[i] != crypto_secretstream_xchacha20poly1305_TAG_PUSH)
                    abort(); /* an untouched frame must open */
                break;
            }
            if (plen != l || memcmp(plain, p + 3, l) != 0)
                abort();
            if ((rc == CN_P2P_FR_FINAL) !=
                (tags[i] == crypto_secretstream_xchacha20poly1305_TAG_FINAL))
                abort();
            if (rc == CN_P2P_FR_MSG && plen > 0) { /* authenticated bytes reach the decoder */
                cn_pb pb;
                (void)cn_decode(CN_MSG_ENVELOPE, plain, plen, &pb);
                cn_pb_free(&pb);
            }
        } else {
            if (rc == CN_P2P_FR_MSG || rc == CN_P2P_FR_FINAL)
                abort(); /* a modified frame must never open */
            break;
        }
        roff += used;
        p += 3 + l;
        left -= 3 + l;
    }
    free(stream);
    free(tags);
}

/* Mode 2: the responder's handshake parser on hostile HELLO and AUTH bytes. */
static void handshake(const uint8_t *d, size_t n) {
    cn_p2p_hs b;
    uint8_t seed[32] = {9};
    if (!cn_p2p_hs_init(&b, &kb, CHAIN, 0, seed))
        abort();
    size_t used = 0;
    cn_p2p_reason why;
    cn_p2p_hs_rc rc = cn_p2p_hs_read_hello(&b, d, n, &used, &why);
    if (rc == CN_P2P_HS_OK) {
        if (used > n || used < CN_P2P_HELLO_FIXED)
            abort();
        uint8_t auth[CN_P2P_AUTH_LEN];
        if (cn_p2p_hs_auth(&b, auth, &why) && n - used >= CN_P2P_AUTH_LEN)
            (void)cn_p2p_hs_read_auth(&b, d + used);
    } else if (rc == CN_P2P_HS_FAIL && why == CN_P2P_R_NONE) {
        abort();
    }
    cn_p2p_hs_wipe(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!ready)
        setup();
    if (size < 1)
        return 0;
    crypto_secretstream_xchacha20poly1305_state pull = b_pull;
    switch (data[0] % 3) {
    case 0:
        (void)read_stream(&pull, data + 1, size - 1);
        break;
    case 1:
        sealed_roundtrip(data + 1, size - 1);
        break;
    default:
        handshake(data + 1, size - 1);
        break;
    }
    return 0;
}
