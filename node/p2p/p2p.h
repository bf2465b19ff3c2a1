/* Encrypted peer-to-peer transport between validators and allowlisted full nodes.
 *
 * What it is: persistent TCP connections, one per allowlisted peer, on an event_base the node
 * owns. Each connection starts with a one-round-trip handshake (X25519 ephemeral keys through
 * crypto_kx, a transcript signed with BIP340 by both node keys, chain id and protocol version
 * checked), then carries length-prefixed frames sealed with crypto_secretstream in each
 * direction. Every frame's payload is one encoded clearnode.v1.Envelope, decoded only through
 * proto/codec.h. docs/p2p.md gives the byte layouts, caps, queue policy, scoring and backoff.
 *
 * What it is not: gossip policy. Which messages go to which peer, and what to re-send to a
 * lagging peer, is the node's decision; this module moves Envelope bytes and reports who sent
 * what. The optional per-peer "seen" filter is a cheap helper for that policy.
 *
 * Threading: every function must be called on the thread that runs the event_base. Callbacks
 * run on that thread too. A callback may call cn_p2p_send, cn_p2p_broadcast, cn_p2p_disconnect
 * and the status functions; it must not call cn_p2p_stop or cn_p2p_free.
 *
 * Caveats:
 *   - The process must ignore SIGPIPE (the node does at start): libevent writes to sockets
 *     without MSG_NOSIGNAL, and a peer may vanish at any time.
 *   - Peer addresses are numeric "ip:port" (IPv4, or "[ipv6]:port"); no DNS lookups are made on
 *     the event loop.
 *   - A message handed to cn_p2p_send is only queued: delivery is not acknowledged, and the
 *     queue of a peer is dropped when its connection ends. The node re-sends what a peer lacks
 *     after on_peer_up (consensus gossip does this anyway).
 *   - Handshake failures are never scored against the key a peer claims, because that claim is
 *     unauthenticated; only offences on an authenticated connection lower a peer's score.
 */
#ifndef CLEARNODE_NODE_P2P_P2P_H
#define CLEARNODE_NODE_P2P_P2P_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/schnorr.h"
#include "proto/codec.h"

struct event_base;

#define CN_P2P_VERSION 1          /* protocol version carried in the handshake */
#define CN_P2P_CHAIN_ID_MAX 64    /* chain id bytes (same bound as genesis) */
#define CN_P2P_MAX_PEERS 256      /* entries in the peer list */
#define CN_P2P_ADDR_MAX 64        /* "ip:port" text, NUL included */

/* Send priorities, most urgent first. Under pressure lower classes are dropped first;
 * consensus messages are never dropped silently (docs/p2p.md, "Send queues"). */
typedef enum {
    CN_P2P_PRIO_CONSENSUS = 0, /* proposals, votes, evidence, status */
    CN_P2P_PRIO_BLOCK = 1,     /* block parts, block requests and responses */
    CN_P2P_PRIO_TX = 2,        /* transactions */
    CN_P2P_PRIO_COUNT
} cn_p2p_prio;

/* Why a connection ended or was refused. Stable; cn_p2p_reason_code gives the short name. */
typedef enum {
    CN_P2P_R_NONE = 0,
    /* handshake: refused before the peer is authenticated (never scored) */
    CN_P2P_R_GARBAGE,      /* bytes that are not a clearnode handshake (bad magic, bad length) */
    CN_P2P_R_VERSION,      /* protocol version differs */
    CN_P2P_R_CHAIN,        /* chain id differs */
    CN_P2P_R_BAD_KEY,      /* static key is not a valid x-only public key */
    CN_P2P_R_UNKNOWN_KEY,  /* static key not in the allowlist */
    CN_P2P_R_WRONG_PEER,   /* the dialled address answered with another allowlisted key */
    CN_P2P_R_SELF,         /* the peer presented our own node key */
    CN_P2P_R_REFLECTED,    /* the peer echoed our own ephemeral key */
    CN_P2P_R_KX,           /* key exchange failed (degenerate X25519 point) */
    CN_P2P_R_BAD_AUTH,     /* the auth message failed decryption */
    CN_P2P_R_BAD_SIG,      /* transcript signature invalid */
    CN_P2P_R_BANNED,       /* the key is serving a ban */
    CN_P2P_R_DUPLICATE,    /* already connected to this peer; the tie-break kept the other */
    CN_P2P_R_HS_TIMEOUT,   /* handshake not finished in time */
    CN_P2P_R_TOO_MANY,     /* too many unauthenticated inbound connections */
    /* after the handshake */
    CN_P2P_R_OVERSIZED,    /* frame length above the cap or below the AEAD overhead */
    CN_P2P_R_DECRYPT,      /* frame failed authentication (tampered, reordered, wrong key) */
    CN_P2P_R_BAD_TAG,      /* secretstream tag other than MESSAGE or FINAL */
    CN_P2P_R_DECODE,       /* payload is not a valid Envelope (cn_decode rejected it) */
    CN_P2P_R_EOF,          /* connection closed without an orderly FINAL (or mid-frame) */
    CN_P2P_R_CLOSED,       /* the peer closed in order (FINAL frame) */
    CN_P2P_R_IO,           /* socket error */
    CN_P2P_R_CONNECT,      /* outbound connect failed */
    CN_P2P_R_IDLE,         /* nothing read or no write progress within the idle timeout */
    CN_P2P_R_SLOW,         /* a consensus message did not fit in the peer's send queue */
    CN_P2P_R_REPLACED,     /* superseded by another connection to the same peer */
    CN_P2P_R_LOCAL,        /* closed by us (cn_p2p_disconnect, cn_p2p_stop) */
    CN_P2P_R_NOMEM,        /* out of memory while handling the connection */
    CN_P2P_R_COUNT
} cn_p2p_reason;

/* Results of the calls below. */
typedef enum {
    CN_P2P_OK = 0,
    CN_P2P_EINVAL,    /* bad argument (empty message, NULL) */
    CN_P2P_EUNKNOWN,  /* key not in the peer list */
    CN_P2P_ENOTCONN,  /* peer has no authenticated connection */
    CN_P2P_ETOOBIG,   /* message longer than CN_CAP_ENVELOPE */
    CN_P2P_EFULL,     /* queue full: this (non-consensus) message was dropped */
    CN_P2P_ESLOW,     /* queue full for a consensus message: the peer was disconnected */
    CN_P2P_ENOMEM,
    CN_P2P_ERR_COUNT
} cn_p2p_err;

/* Limits and timings. cn_p2p_limits_default fills the values docs/p2p.md lists. */
typedef struct {
    uint32_t max_queue_msgs;       /* messages queued per peer */
    uint64_t max_queue_bytes;      /* payload bytes queued per peer (>= CN_CAP_ENVELOPE) */
    uint32_t out_buffer_bytes;     /* sealed bytes handed to the socket layer ahead of time */
    uint32_t max_pending;          /* unauthenticated inbound connections at once */
    uint32_t handshake_timeout_ms; /* connect + handshake must finish within this */
    uint32_t keepalive_ms;         /* empty frame sent when the line was quiet this long */
    uint32_t idle_timeout_ms;      /* close when nothing arrives (or nothing drains) this long */
    uint32_t backoff_min_ms;       /* first reconnect delay cap */
    uint32_t backoff_max_ms;       /* reconnect delay cap */
    uint32_t ban_base_ms;          /* first ban; doubles with each further ban */
    uint32_t ban_max_ms;           /* longest ban */
} cn_p2p_limits;

/* One allowlisted peer: its node key and, if we dial it, its address. */
typedef struct {
    uint8_t key[CN_PUBKEY_LEN];
    const char *addr; /* "ip:port" to dial; NULL or "" = accept its connections only */
} cn_p2p_peer_cfg;

typedef struct {
    /* One decoded Envelope from an authenticated peer. `env` and `raw` (the exact decrypted
     * payload bytes) are valid only during the call. */
    void (*on_message)(void *ctx, const uint8_t peer[CN_PUBKEY_LEN],
                       const Clearnode__V1__Envelope *env, const uint8_t *raw, size_t raw_len);
    /* A peer's authenticated connection came up / went down (with the reason). */
    void (*on_peer_up)(void *ctx, const uint8_t peer[CN_PUBKEY_LEN]);
    void (*on_peer_down)(void *ctx, const uint8_t peer[CN_PUBKEY_LEN], cn_p2p_reason why);
    void *ctx;
} cn_p2p_callbacks;

typedef struct {
    struct event_base *base;       /* the node's loop; must outlive the cn_p2p */
    const char *chain_id;          /* 1..CN_P2P_CHAIN_ID_MAX bytes */
    const cn_keypair *node_key;    /* copied; wiped on free */
    const char *listen;            /* "ip:port" (port 0 = any); NULL = do not listen */
    const cn_p2p_peer_cfg *peers;  /* the allowlist; our own key may appear and is skipped */
    size_t n_peers;
    const cn_p2p_limits *limits;   /* NULL = defaults */
    cn_p2p_callbacks cb;
} cn_p2p_config;

/* Status of one peer, for /v1/status and metrics. */
typedef struct {
    uint8_t key[CN_PUBKEY_LEN];
    char addr[CN_P2P_ADDR_MAX];    /* configured address, else the last remote address */
    int connected;                 /* 1 if an authenticated connection is up */
    int outbound;                  /* that connection was dialled by us */
    int32_t score;                 /* 0 = clean; <= CN_P2P_SCORE_BAN bans (docs/p2p.md) */
    uint32_t bans;                 /* bans served so far */
    uint64_t ban_remaining_ms;     /* 0 if not banned */
    uint32_t queue_msgs;
    uint64_t queue_bytes;
    uint64_t bytes_in, bytes_out;  /* framed bytes on authenticated connections */
    uint64_t msgs_in, msgs_out;    /* Envelopes received / sealed for sending */
    uint64_t dropped;              /* messages refused or evicted by the queue policy */
    uint32_t connects;             /* authenticated connections established */
    cn_p2p_reason last_reason;     /* why the last connection ended (NONE if none yet) */
} cn_p2p_peer_status;

/* Process-wide counters of one cn_p2p. */
typedef struct {
    uint64_t closes[CN_P2P_R_COUNT]; /* connections ended or refused, by reason */
    uint32_t pending;                /* connections in handshake now */
    uint32_t connected;              /* peers with an authenticated connection now */
} cn_p2p_stats;

typedef struct cn_p2p cn_p2p;

#define CN_P2P_SCORE_BAN (-100)

/* Fills `l` with the defaults of docs/p2p.md. */
void cn_p2p_limits_default(cn_p2p_limits *l);

/* Creates the transport: copies the config, binds the listener (if any) and schedules a dial
 * to every peer with an address. Nothing happens on the network until the loop runs.
 * Returns NULL with a reason in `err` (bad chain id, bad or duplicate peer key, unparsable
 * address, bind failure, limits out of range, out of memory). */
cn_p2p *cn_p2p_new(const cn_p2p_config *cfg, char *err, size_t err_cap);

/* The port the listener is bound to (useful with port 0); 0 if not listening. */
uint16_t cn_p2p_listen_port(const cn_p2p *p);

/* Admits one more key to the allowlist while running: its inbound connections are accepted
 * from now on (the node adds validators that governance brought into the set). No address:
 * set one with cn_p2p_set_peer_addr to dial it. Returns CN_P2P_OK (also when already listed),
 * EINVAL (not a valid key, or our own), EFULL (CN_P2P_MAX_PEERS reached) or ENOMEM. */
cn_p2p_err cn_p2p_add_peer(cn_p2p *p, const uint8_t key[CN_PUBKEY_LEN]);

/* Sets (or clears, with NULL/"") the address we dial for an allowlisted peer, and schedules
 * a dial if it is not connected. Returns CN_P2P_OK, CN_P2P_EUNKNOWN or CN_P2P_EINVAL. */
cn_p2p_err cn_p2p_set_peer_addr(cn_p2p *p, const uint8_t key[CN_PUBKEY_LEN], const char *addr);

/* Queues one encoded Envelope for `peer` at `prio` (bytes copied). The bytes are sent as
 * they are; the receiver decodes and rejects them if they are not a valid Envelope.
 * Returns CN_P2P_OK, or EINVAL, EUNKNOWN, ENOTCONN, ETOOBIG, EFULL (dropped, non-consensus),
 * ESLOW (consensus message did not fit: the peer was disconnected), ENOMEM. */
cn_p2p_err cn_p2p_send(cn_p2p *p, const uint8_t peer[CN_PUBKEY_LEN], const uint8_t *env,
                       size_t len, cn_p2p_prio prio);

/* cn_p2p_send to every connected peer except `except` (NULL = none). Returns the number of
 * peers the message was queued for. */
size_t cn_p2p_broadcast(cn_p2p *p, const uint8_t *env, size_t len, cn_p2p_prio prio,
                        const uint8_t *except);

/* Closes the peer's connection (reason LOCAL, no score change); it is redialled after the
 * usual backoff. Returns CN_P2P_OK, EUNKNOWN or ENOTCONN. */
cn_p2p_err cn_p2p_disconnect(cn_p2p *p, const uint8_t peer[CN_PUBKEY_LEN]);

/* 1 if the peer has an authenticated connection. */
int cn_p2p_is_connected(const cn_p2p *p, const uint8_t peer[CN_PUBKEY_LEN]);

/* Number of peers in the list (own key excluded). */
size_t cn_p2p_peer_count(const cn_p2p *p);

/* Fills out[0..min(n, cap)) with the status of every peer in list order; returns n. */
size_t cn_p2p_peers(const cn_p2p *p, cn_p2p_peer_status *out, size_t cap);

/* Status of one peer. Returns 1, or 0 if the key is not in the list. */
int cn_p2p_peer_status_get(const cn_p2p *p, const uint8_t key[CN_PUBKEY_LEN],
                           cn_p2p_peer_status *out);

/* Process-wide counters. */
void cn_p2p_stats_get(const cn_p2p *p, cn_p2p_stats *out);

/* Per-peer "seen" filter for gossip: marks / tests a 32-byte message id (e.g. a tx hash).
 * A lossy filter of CN_P2P_SEEN_SLOTS entries per peer: "seen" answers are exact up to a
 * keyed 64-bit hash, but old ids are evicted, so "not seen" may mean "forgotten". Cleared
 * when the peer's connection ends. Unknown peers are ignored (check returns 0). */
#define CN_P2P_SEEN_SLOTS 4096
void cn_p2p_seen_mark(cn_p2p *p, const uint8_t peer[CN_PUBKEY_LEN], const uint8_t id[32]);
int cn_p2p_seen_check(const cn_p2p *p, const uint8_t peer[CN_PUBKEY_LEN], const uint8_t id[32]);

/* Orderly shutdown: stops listening and dialling, sends FINAL on every authenticated
 * connection (best effort, without blocking) and closes all connections; on_peer_down is
 * called with CN_P2P_R_LOCAL for each connected peer. Idempotent. */
void cn_p2p_stop(cn_p2p *p);

/* Stops (if not yet) and frees everything, wiping key material. NULL is a no-op. */
void cn_p2p_free(cn_p2p *p);

/* Stable short names ("unknown_key", "oversized", ...) and one-line messages. */
const char *cn_p2p_reason_code(cn_p2p_reason r);
const char *cn_p2p_reason_str(cn_p2p_reason r);
const char *cn_p2p_strerror(cn_p2p_err e);

#endif
