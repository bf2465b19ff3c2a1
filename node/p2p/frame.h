/* P2P frames after the handshake: pure sealing and opening, no I/O.
 *
 *   frame = u32 BE n | ciphertext[n]     n = plaintext length + 17 (secretstream overhead)
 *
 * 17 <= n <= CN_P2P_FRAME_MAX_CT, so a plaintext holds at most CN_CAP_ENVELOPE bytes. The
 * length prefix is checked before the body is awaited, so an oversized frame is refused as
 * soon as its 4 header bytes arrive. Plaintext tags: MESSAGE (an Envelope, or an empty
 * keepalive) and FINAL (orderly close, empty). Any other tag, a failed authentication, or a
 * length out of range ends the connection.
 */
#ifndef CLEARNODE_NODE_P2P_FRAME_H
#define CLEARNODE_NODE_P2P_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "node/p2p/handshake.h"

#define CN_P2P_FRAME_HDR 4
#define CN_P2P_FRAME_MAX_PLAIN CN_CAP_ENVELOPE
#define CN_P2P_FRAME_MAX_CT (CN_P2P_FRAME_MAX_PLAIN + CN_P2P_SS_ABYTES)
#define CN_P2P_FRAME_MAX (CN_P2P_FRAME_HDR + CN_P2P_FRAME_MAX_CT)

typedef enum {
    CN_P2P_FR_MORE = 0, /* need more bytes; nothing consumed */
    CN_P2P_FR_MSG,      /* a MESSAGE frame (plain_len 0 = keepalive) */
    CN_P2P_FR_FINAL,    /* the peer closed in order */
    CN_P2P_FR_ERR       /* *why: OVERSIZED, DECRYPT or BAD_TAG */
} cn_p2p_fr_rc;

/* Bytes a sealed frame of `plain_len` plaintext bytes takes on the wire. */
size_t cn_p2p_frame_len(size_t plain_len);

/* Seals `plain` into out[0..cn_p2p_frame_len(len)) with `tag` (a secretstream tag). Returns 1,
 * or 0 if len exceeds CN_P2P_FRAME_MAX_PLAIN. */
int cn_p2p_frame_seal(crypto_secretstream_xchacha20poly1305_state *push, uint8_t *out,
                      const uint8_t *plain, size_t len, unsigned char tag);

/* The length of the frame starting at buf (needs CN_P2P_FRAME_HDR bytes). Returns MORE,
 * MSG with *frame_len (header included) when the header is in range, or ERR (OVERSIZED). */
cn_p2p_fr_rc cn_p2p_frame_peek(const uint8_t *buf, size_t len, size_t *frame_len,
                               cn_p2p_reason *why);

/* Opens the frame at the start of buf[0..len). On MSG or FINAL sets *used (the whole frame)
 * and writes the plaintext to `plain` (room for CN_P2P_FRAME_MAX_PLAIN bytes, or at least
 * frame length - 21) with its length in *plain_len. MORE consumes nothing. ERR leaves the
 * stream state unusable: the caller must close. */
cn_p2p_fr_rc cn_p2p_frame_open(crypto_secretstream_xchacha20poly1305_state *pull,
                               const uint8_t *buf, size_t len, size_t *used, uint8_t *plain,
                               size_t *plain_len, cn_p2p_reason *why);

#endif
