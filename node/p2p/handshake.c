/* P2P handshake (see handshake.h for the layouts and docs/p2p.md for the rationale).
 *
 * Checks made here, in this order, on the peer's HELLO: magic (as soon as the first bytes
 * arrive), version, chain id length and bytes, ephemeral key equal to ours (reflection),
 * static key equal to ours (self-connection), static key a valid curve point. On AUTH:
 * secretstream header and first message authenticate under the derived receive key with tag
 * MESSAGE, then the BIP340 signature verifies over the transcript with the peer's role.
 *
 * Why replay fails: each signature covers both ephemeral keys, and ours is fresh per
 * connection, so a recorded AUTH never verifies again; a reflected HELLO is refused outright,
 * and a reflected AUTH would carry the wrong role byte.
 */
#include "node/p2p/handshake.h"

#include <string.h>

#include "crypto/bytes.h"

static const uint8_t hs_magic[CN_P2P_MAGIC_LEN] = {'C', 'N', 'P', '2'};

_Static_assert(CN_P2P_KX_LEN == crypto_kx_PUBLICKEYBYTES, "kx key size");
_Static_assert(CN_P2P_KX_LEN == crypto_kx_SECRETKEYBYTES, "kx secret size");
_Static_assert(crypto_kx_SESSIONKEYBYTES == crypto_secretstream_xchacha20poly1305_KEYBYTES,
               "session key size");
_Static_assert(CN_P2P_SS_HEADER == crypto_secretstream_xchacha20poly1305_HEADERBYTES,
               "secretstream header size");
_Static_assert(CN_P2P_SS_ABYTES == crypto_secretstream_xchacha20poly1305_ABYTES,
               "secretstream overhead");

int cn_p2p_hs_init(cn_p2p_hs *hs, const cn_keypair *kp, const char *chain_id, int initiator,
                   const uint8_t *eph_seed) {
    memset(hs, 0, sizeof *hs);
    size_t n = chain_id ? strlen(chain_id) : 0;
    if (n == 0 || n > CN_P2P_CHAIN_ID_MAX)
        return 0;
    memcpy(hs->chain_id, chain_id, n);
    hs->chain_len = n;
    hs->kp = kp;
    hs->initiator = initiator ? 1 : 0;
    if (eph_seed)
        crypto_kx_seed_keypair(hs->eph_pk, hs->eph_sk, eph_seed);
    else
        crypto_kx_keypair(hs->eph_pk, hs->eph_sk);
    return 1;
}

size_t cn_p2p_hs_hello(const cn_p2p_hs *hs, uint8_t out[CN_P2P_HELLO_MAX]) {
    size_t o = 0;
    memcpy(out, hs_magic, CN_P2P_MAGIC_LEN);
    o += CN_P2P_MAGIC_LEN;
    cn_put_be16(out + o, CN_P2P_VERSION);
    o += 2;
    out[o++] = (uint8_t)hs->chain_len;
    memcpy(out + o, hs->chain_id, hs->chain_len);
    o += hs->chain_len;
    memcpy(out + o, hs->kp->pub, CN_PUBKEY_LEN);
    o += CN_PUBKEY_LEN;
    memcpy(out + o, hs->eph_pk, CN_P2P_KX_LEN);
    o += CN_P2P_KX_LEN;
    return o;
}

/* Fails with `r`: a small helper so every refusal sets *why the same way. */
static cn_p2p_hs_rc hs_fail(cn_p2p_reason *why, cn_p2p_reason r) {
    *why = r;
    return CN_P2P_HS_FAIL;
}

cn_p2p_hs_rc cn_p2p_hs_read_hello(cn_p2p_hs *hs, const uint8_t *buf, size_t len, size_t *used,
                                  cn_p2p_reason *why) {
    *used = 0;
    *why = CN_P2P_R_NONE;
    if (hs->have_hello)
        return hs_fail(why, CN_P2P_R_GARBAGE);
    /* Refuse non-handshake bytes as early as possible. */
    size_t m = len < CN_P2P_MAGIC_LEN ? len : CN_P2P_MAGIC_LEN;
    if (memcmp(buf, hs_magic, m) != 0)
        return hs_fail(why, CN_P2P_R_GARBAGE);
    if (len < CN_P2P_MAGIC_LEN + 2)
        return CN_P2P_HS_MORE;
    if (cn_get_be16(buf + CN_P2P_MAGIC_LEN) != CN_P2P_VERSION)
        return hs_fail(why, CN_P2P_R_VERSION);
    if (len < CN_P2P_MAGIC_LEN + 3)
        return CN_P2P_HS_MORE;
    size_t clen = buf[CN_P2P_MAGIC_LEN + 2];
    if (clen == 0 || clen > CN_P2P_CHAIN_ID_MAX)
        return hs_fail(why, CN_P2P_R_GARBAGE);
    size_t total = CN_P2P_HELLO_FIXED + clen;
    if (len < total)
        return CN_P2P_HS_MORE;
    const uint8_t *p = buf + CN_P2P_MAGIC_LEN + 3;
    if (clen != hs->chain_len || memcmp(p, hs->chain_id, clen) != 0)
        return hs_fail(why, CN_P2P_R_CHAIN);
    p += clen;
    const uint8_t *key = p, *eph = p + CN_PUBKEY_LEN;
    if (sodium_memcmp(eph, hs->eph_pk, CN_P2P_KX_LEN) == 0)
        return hs_fail(why, CN_P2P_R_REFLECTED);
    if (memcmp(key, hs->kp->pub, CN_PUBKEY_LEN) == 0)
        return hs_fail(why, CN_P2P_R_SELF);
    if (!cn_pubkey_valid(key))
        return hs_fail(why, CN_P2P_R_BAD_KEY);
    memcpy(hs->peer_key, key, CN_PUBKEY_LEN);
    memcpy(hs->peer_eph, eph, CN_P2P_KX_LEN);
    hs->have_hello = 1;
    *used = total;
    return CN_P2P_HS_OK;
}

void cn_p2p_hs_transcript(const cn_p2p_hs *hs, int signer_role,
                          uint8_t out[CN_P2P_TRANSCRIPT_LEN]) {
    const uint8_t *ik = hs->initiator ? hs->kp->pub : hs->peer_key;
    const uint8_t *ie = hs->initiator ? hs->eph_pk : hs->peer_eph;
    const uint8_t *rk = hs->initiator ? hs->peer_key : hs->kp->pub;
    const uint8_t *re = hs->initiator ? hs->peer_eph : hs->eph_pk;
    size_t o = 0;
    cn_put_be16(out, CN_P2P_VERSION);
    o += 2;
    out[o++] = signer_role ? 1 : 0;
    memcpy(out + o, ik, CN_PUBKEY_LEN);
    o += CN_PUBKEY_LEN;
    memcpy(out + o, ie, CN_P2P_KX_LEN);
    o += CN_P2P_KX_LEN;
    memcpy(out + o, rk, CN_PUBKEY_LEN);
    o += CN_PUBKEY_LEN;
    memcpy(out + o, re, CN_P2P_KX_LEN);
}

int cn_p2p_hs_auth(cn_p2p_hs *hs, uint8_t out[CN_P2P_AUTH_LEN], cn_p2p_reason *why) {
    *why = CN_P2P_R_NONE;
    if (!hs->have_hello || hs->have_keys) {
        *why = CN_P2P_R_GARBAGE;
        return 0;
    }
    int rc = hs->initiator
                 ? crypto_kx_client_session_keys(hs->rx, hs->tx, hs->eph_pk, hs->eph_sk,
                                                 hs->peer_eph)
                 : crypto_kx_server_session_keys(hs->rx, hs->tx, hs->eph_pk, hs->eph_sk,
                                                 hs->peer_eph);
    sodium_memzero(hs->eph_sk, sizeof hs->eph_sk); /* used exactly once */
    if (rc != 0) {
        *why = CN_P2P_R_KX;
        return 0;
    }
    hs->have_keys = 1;
    crypto_secretstream_xchacha20poly1305_init_push(&hs->push, out, hs->tx);
    sodium_memzero(hs->tx, sizeof hs->tx);
    uint8_t tr[CN_P2P_TRANSCRIPT_LEN], sig[CN_SIG_LEN];
    cn_p2p_hs_transcript(hs, hs->initiator ? 0 : 1, tr);
    if (!cn_sign_body(hs->kp, sig, CN_TAG_SIG_HANDSHAKE, hs->chain_id, tr, sizeof tr)) {
        *why = CN_P2P_R_NOMEM;
        return 0;
    }
    crypto_secretstream_xchacha20poly1305_push(&hs->push, out + CN_P2P_SS_HEADER, NULL, sig,
                                               sizeof sig, NULL, 0,
                                               crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
    return 1;
}

cn_p2p_reason cn_p2p_hs_read_auth(cn_p2p_hs *hs, const uint8_t in[CN_P2P_AUTH_LEN]) {
    if (!hs->have_keys || hs->done)
        return CN_P2P_R_GARBAGE;
    if (crypto_secretstream_xchacha20poly1305_init_pull(&hs->pull, in, hs->rx) != 0) {
        sodium_memzero(hs->rx, sizeof hs->rx);
        return CN_P2P_R_BAD_AUTH;
    }
    sodium_memzero(hs->rx, sizeof hs->rx);
    uint8_t sig[CN_SIG_LEN];
    unsigned long long slen = 0;
    unsigned char tag = 0;
    if (crypto_secretstream_xchacha20poly1305_pull(&hs->pull, sig, &slen, &tag,
                                                   in + CN_P2P_SS_HEADER,
                                                   CN_SIG_LEN + CN_P2P_SS_ABYTES, NULL, 0) != 0 ||
        slen != CN_SIG_LEN || tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE)
        return CN_P2P_R_BAD_AUTH;
    uint8_t tr[CN_P2P_TRANSCRIPT_LEN];
    cn_p2p_hs_transcript(hs, hs->initiator ? 1 : 0, tr);
    if (!cn_verify_body(sig, hs->peer_key, CN_TAG_SIG_HANDSHAKE, hs->chain_id, tr, sizeof tr))
        return CN_P2P_R_BAD_SIG;
    hs->done = 1;
    return CN_P2P_R_NONE;
}

void cn_p2p_hs_wipe(cn_p2p_hs *hs) { sodium_memzero(hs, sizeof *hs); }
