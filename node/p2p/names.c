/* Stable short codes and one-line messages for P2P reasons and errors (see p2p.h). The codes
 * appear in logs, metrics and /v1/status, so they never change once released. */
#include "node/p2p/p2p.h"

typedef struct {
    const char *code, *msg;
} cn_p2p_name;

static const cn_p2p_name reasons[CN_P2P_R_COUNT] = {
    [CN_P2P_R_NONE] = {"none", "no error"},
    [CN_P2P_R_GARBAGE] = {"garbage", "bytes are not a clearnode handshake"},
    [CN_P2P_R_VERSION] = {"version", "protocol version differs"},
    [CN_P2P_R_CHAIN] = {"chain", "chain id differs"},
    [CN_P2P_R_BAD_KEY] = {"bad_key", "node key is not a valid public key"},
    [CN_P2P_R_UNKNOWN_KEY] = {"unknown_key", "node key is not in the allowlist"},
    [CN_P2P_R_WRONG_PEER] = {"wrong_peer", "address answered with another node key"},
    [CN_P2P_R_SELF] = {"self", "connection to ourselves"},
    [CN_P2P_R_REFLECTED] = {"reflected", "peer echoed our ephemeral key"},
    [CN_P2P_R_KX] = {"kx", "key exchange failed"},
    [CN_P2P_R_BAD_AUTH] = {"bad_auth", "auth message failed decryption"},
    [CN_P2P_R_BAD_SIG] = {"bad_sig", "handshake signature invalid"},
    [CN_P2P_R_BANNED] = {"banned", "peer is banned"},
    [CN_P2P_R_DUPLICATE] = {"duplicate", "already connected to this peer"},
    [CN_P2P_R_HS_TIMEOUT] = {"hs_timeout", "handshake timed out"},
    [CN_P2P_R_TOO_MANY] = {"too_many", "too many pending inbound connections"},
    [CN_P2P_R_OVERSIZED] = {"oversized", "frame length out of range"},
    [CN_P2P_R_DECRYPT] = {"decrypt", "frame failed authentication"},
    [CN_P2P_R_BAD_TAG] = {"bad_tag", "unexpected secretstream tag"},
    [CN_P2P_R_DECODE] = {"decode", "payload is not a valid Envelope"},
    [CN_P2P_R_EOF] = {"eof", "connection closed without FINAL"},
    [CN_P2P_R_CLOSED] = {"closed", "peer closed the connection"},
    [CN_P2P_R_IO] = {"io", "socket error"},
    [CN_P2P_R_CONNECT] = {"connect", "connect failed"},
    [CN_P2P_R_IDLE] = {"idle", "connection idle too long"},
    [CN_P2P_R_SLOW] = {"slow", "peer cannot keep up with consensus messages"},
    [CN_P2P_R_REPLACED] = {"replaced", "replaced by another connection to the peer"},
    [CN_P2P_R_LOCAL] = {"local", "closed locally"},
    [CN_P2P_R_NOMEM] = {"nomem", "out of memory"},
};

static const char *const errs[CN_P2P_ERR_COUNT] = {
    [CN_P2P_OK] = "ok",
    [CN_P2P_EINVAL] = "invalid argument",
    [CN_P2P_EUNKNOWN] = "peer not in the peer list",
    [CN_P2P_ENOTCONN] = "peer not connected",
    [CN_P2P_ETOOBIG] = "message larger than the envelope cap",
    [CN_P2P_EFULL] = "send queue full; message dropped",
    [CN_P2P_ESLOW] = "send queue full for a consensus message; peer disconnected",
    [CN_P2P_ENOMEM] = "out of memory",
};

const char *cn_p2p_reason_code(cn_p2p_reason r) {
    return (unsigned)r < CN_P2P_R_COUNT ? reasons[r].code : "unknown";
}

const char *cn_p2p_reason_str(cn_p2p_reason r) {
    return (unsigned)r < CN_P2P_R_COUNT ? reasons[r].msg : "unknown reason";
}

const char *cn_p2p_strerror(cn_p2p_err e) {
    return (unsigned)e < CN_P2P_ERR_COUNT ? errs[e] : "unknown error";
}
