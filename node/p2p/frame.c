/* P2P frame sealing and opening (see frame.h). Everything a hostile peer controls passes
 * through cn_p2p_frame_peek (length bounds) before a byte of the body is trusted, and through
 * secretstream authentication before any plaintext is returned. */
#include "node/p2p/frame.h"

#include "crypto/bytes.h"

_Static_assert(CN_P2P_FRAME_MAX_CT <= UINT32_MAX, "frame length fits the u32 prefix");

size_t cn_p2p_frame_len(size_t plain_len) {
    return CN_P2P_FRAME_HDR + plain_len + CN_P2P_SS_ABYTES;
}

int cn_p2p_frame_seal(crypto_secretstream_xchacha20poly1305_state *push, uint8_t *out,
                      const uint8_t *plain, size_t len, unsigned char tag) {
    if (len > CN_P2P_FRAME_MAX_PLAIN)
        return 0;
    cn_put_be32(out, (uint32_t)(len + CN_P2P_SS_ABYTES));
    crypto_secretstream_xchacha20poly1305_push(push, out + CN_P2P_FRAME_HDR, NULL, plain, len,
                                               NULL, 0, tag);
    return 1;
}

cn_p2p_fr_rc cn_p2p_frame_peek(const uint8_t *buf, size_t len, size_t *frame_len,
                               cn_p2p_reason *why) {
    *why = CN_P2P_R_NONE;
    if (len < CN_P2P_FRAME_HDR)
        return CN_P2P_FR_MORE;
    uint32_t n = cn_get_be32(buf);
    if (n < CN_P2P_SS_ABYTES || n > CN_P2P_FRAME_MAX_CT) {
        *why = CN_P2P_R_OVERSIZED;
        return CN_P2P_FR_ERR;
    }
    *frame_len = CN_P2P_FRAME_HDR + (size_t)n;
    return CN_P2P_FR_MSG;
}

cn_p2p_fr_rc cn_p2p_frame_open(crypto_secretstream_xchacha20poly1305_state *pull,
                               const uint8_t *buf, size_t len, size_t *used, uint8_t *plain,
                               size_t *plain_len, cn_p2p_reason *why) {
    *used = 0;
    *plain_len = 0;
    size_t flen = 0;
    cn_p2p_fr_rc rc = cn_p2p_frame_peek(buf, len, &flen, why);
    if (rc != CN_P2P_FR_MSG)
        return rc;
    if (len < flen)
        return CN_P2P_FR_MORE;
    unsigned long long mlen = 0;
    unsigned char tag = 0;
    if (crypto_secretstream_xchacha20poly1305_pull(pull, plain, &mlen, &tag,
                                                   buf + CN_P2P_FRAME_HDR,
                                                   flen - CN_P2P_FRAME_HDR, NULL, 0) != 0) {
        *why = CN_P2P_R_DECRYPT;
        return CN_P2P_FR_ERR;
    }
    *used = flen;
    *plain_len = (size_t)mlen;
    if (tag == crypto_secretstream_xchacha20poly1305_TAG_MESSAGE)
        return CN_P2P_FR_MSG;
    if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL)
        return CN_P2P_FR_FINAL;
    *why = CN_P2P_R_BAD_TAG;
    return CN_P2P_FR_ERR;
}
