/* The P2P handshake as a pure state machine: bytes in, bytes and a verdict out, no I/O.
 *
 * Both sides send HELLO at once, and AUTH as soon as they have parsed the peer's HELLO, so
 * the handshake costs one round trip. Layouts (docs/p2p.md, "Handshake"):
 *
 *   HELLO   "CNP2" | u16 version | u8 L | chain_id[L] | static key[32] | ephemeral key[32]
 *   AUTH    secretstream header[24] | secretstream(TAG_MESSAGE, signature[64])  (105 bytes)
 *
 *   transcript = u16 version | u8 signer role (0 initiator, 1 responder)
 *              | initiator static[32] | initiator ephemeral[32]
 *              | responder static[32] | responder ephemeral[32]                  (131 bytes)
 *   signature  = BIP340 over H_tag("clearnode/sig/handshake",
 *                                  u32 len(chain_id) | chain_id | transcript)
 *
 * The initiator (the side that dialled) is the crypto_kx client. The AUTH message is the first
 * message of the sender's secretstream, so it also confirms that both sides derived the same
 * session keys. Allowlist, ban and duplicate checks need the node's peer table and are made by
 * the caller between cn_p2p_hs_read_hello and cn_p2p_hs_auth (and after cn_p2p_hs_read_auth).
 */
#ifndef CLEARNODE_NODE_P2P_HANDSHAKE_H
#define CLEARNODE_NODE_P2P_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "node/p2p/p2p.h"

#define CN_P2P_MAGIC_LEN 4
#define CN_P2P_KX_LEN 32 /* crypto_kx_PUBLICKEYBYTES */
#define CN_P2P_HELLO_FIXED (CN_P2P_MAGIC_LEN + 2 + 1 + CN_PUBKEY_LEN + CN_P2P_KX_LEN)
#define CN_P2P_HELLO_MAX (CN_P2P_HELLO_FIXED + CN_P2P_CHAIN_ID_MAX)
#define CN_P2P_SS_HEADER 24 /* crypto_secretstream_xchacha20poly1305_HEADERBYTES */
#define CN_P2P_SS_ABYTES 17 /* crypto_secretstream_xchacha20poly1305_ABYTES */
#define CN_P2P_AUTH_LEN (CN_P2P_SS_HEADER + CN_SIG_LEN + CN_P2P_SS_ABYTES)
#define CN_P2P_TRANSCRIPT_LEN (2 + 1 + 2 * CN_PUBKEY_LEN + 2 * CN_P2P_KX_LEN)

typedef enum { CN_P2P_HS_OK = 0, CN_P2P_HS_MORE, CN_P2P_HS_FAIL } cn_p2p_hs_rc;

typedef struct {
    const cn_keypair *kp; /* our node key (borrowed) */
    char chain_id[CN_P2P_CHAIN_ID_MAX + 1];
    size_t chain_len;
    int initiator;
    int have_hello, have_keys, done;
    uint8_t eph_pk[CN_P2P_KX_LEN], eph_sk[CN_P2P_KX_LEN];
    uint8_t peer_key[CN_PUBKEY_LEN], peer_eph[CN_P2P_KX_LEN];
    uint8_t rx[32], tx[32];
    crypto_secretstream_xchacha20poly1305_state push, pull;
} cn_p2p_hs;

/* Starts a handshake for our side. `eph_seed` (32 bytes) makes the ephemeral key deterministic
 * for tests and fuzzing; NULL draws it from the CSPRNG. Returns 1, or 0 on a bad chain id. */
int cn_p2p_hs_init(cn_p2p_hs *hs, const cn_keypair *kp, const char *chain_id, int initiator,
                   const uint8_t *eph_seed);

/* Writes our HELLO into out; returns its length. */
size_t cn_p2p_hs_hello(const cn_p2p_hs *hs, uint8_t out[CN_P2P_HELLO_MAX]);

/* Parses the peer's HELLO from the first `len` received bytes. Returns MORE (nothing used yet),
 * OK with *used set, or FAIL with *why: GARBAGE, VERSION, CHAIN, SELF, REFLECTED, BAD_KEY.
 * Bytes that cannot begin a HELLO fail as soon as they arrive. */
cn_p2p_hs_rc cn_p2p_hs_read_hello(cn_p2p_hs *hs, const uint8_t *buf, size_t len, size_t *used,
                                  cn_p2p_reason *why);

/* After a good HELLO: derives the session keys, starts our secretstream and writes AUTH.
 * Returns 1, or 0 with *why = KX (degenerate point) or NOMEM (signing failed). */
int cn_p2p_hs_auth(cn_p2p_hs *hs, uint8_t out[CN_P2P_AUTH_LEN], cn_p2p_reason *why);

/* Checks the peer's AUTH (call after cn_p2p_hs_auth). Returns NONE on success (hs->push and
 * hs->pull are then ready for frames), BAD_AUTH or BAD_SIG. */
cn_p2p_reason cn_p2p_hs_read_auth(cn_p2p_hs *hs, const uint8_t in[CN_P2P_AUTH_LEN]);

/* The transcript signed by the initiator (signer_role 0) or the responder (1). */
void cn_p2p_hs_transcript(const cn_p2p_hs *hs, int signer_role,
                          uint8_t out[CN_P2P_TRANSCRIPT_LEN]);

/* Wipes every secret in hs (ephemeral key, session keys, stream states). */
void cn_p2p_hs_wipe(cn_p2p_hs *hs);

#endif
