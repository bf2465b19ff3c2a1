/* Private structures shared by p2p.c (peers, listener, dialling, public calls) and conn.c
 * (one TCP connection: handshake, frames, flushing, closing).
 *
 * Ownership: a peer (one per allowlisted key) lives as long as the cn_p2p and owns the send
 * queue, score and counters, so they survive reconnections. A connection is transient: it
 * belongs to the cn_p2p's `conns` list and, once authenticated, is the peer's `active` one.
 * Closing never frees at once (a callback may be running on the connection's stack): it moves
 * the connection to the `dead` list and a deferred event frees it.
 */
#ifndef CLEARNODE_NODE_P2P_INTERNAL_H
#define CLEARNODE_NODE_P2P_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <sodium.h>

#include "node/p2p/handshake.h"
#include "node/p2p/p2p.h"
#include "node/p2p/queue.h"
#include "node/p2p/score.h"
#include "node/p2p/seen.h"

struct bufferevent;
struct event;
struct evconnlistener;

typedef struct cn_p2p_peer cn_p2p_peer;
typedef struct cn_p2p_conn cn_p2p_conn;

typedef enum {
    CN_P2P_CS_HELLO = 0, /* waiting for the peer's HELLO */
    CN_P2P_CS_AUTH,      /* AUTH sent, waiting for the peer's AUTH */
    CN_P2P_CS_OPEN,      /* authenticated; frames flow */
    CN_P2P_CS_DEAD       /* closed, waiting to be freed */
} cn_p2p_cstate;

struct cn_p2p_conn {
    cn_p2p *p;
    struct bufferevent *bev;
    struct event *hs_timer; /* handshake deadline */
    struct event *ka_timer; /* keepalive tick once open */
    cn_p2p_peer *peer;      /* dialled peer, or the authenticated one */
    int outbound;
    cn_p2p_cstate state;
    cn_p2p_hs hs;
    crypto_secretstream_xchacha20poly1305_state push, pull;
    uint64_t last_write_ms;
    char remote[CN_P2P_ADDR_MAX];
    cn_p2p_conn *next; /* in p->conns or p->dead */
};

struct cn_p2p_peer {
    cn_p2p *p;
    uint8_t key[CN_PUBKEY_LEN];
    char addr[CN_P2P_ADDR_MAX]; /* "" = do not dial */
    struct sockaddr_storage sa;
    int salen;
    char last_remote[CN_P2P_ADDR_MAX];
    cn_p2p_conn *active;  /* authenticated connection, or NULL */
    cn_p2p_conn *dialing; /* our outbound connection in progress, or NULL */
    struct event *dial_timer;
    uint32_t attempts; /* consecutive dials without an authenticated connection */
    cn_p2p_score score;
    cn_p2p_queue q;
    cn_p2p_seen *seen; /* allocated on first mark */
    uint64_t bytes_in, bytes_out, msgs_in, msgs_out;
    uint32_t connects;
    cn_p2p_reason last_reason;
};

struct cn_p2p {
    struct event_base *base;
    char chain_id[CN_P2P_CHAIN_ID_MAX + 1];
    cn_keypair kp;
    cn_p2p_limits lim;
    cn_p2p_callbacks cb;
    struct evconnlistener *listener;
    uint16_t port;
    cn_p2p_peer *peers;
    size_t n_peers;
    cn_p2p_conn *conns; /* every live connection */
    cn_p2p_conn *dead;  /* closed, to be freed by `reaper` */
    struct event *reaper;
    uint32_t pending; /* inbound connections not yet authenticated */
    uint64_t closes[CN_P2P_R_COUNT];
    uint8_t seen_key[crypto_shorthash_KEYBYTES];
    int stopped;
};

/* Monotonic milliseconds. */
uint64_t cn_p2p_now_ms(void);

/* The peer with `key`, or NULL. */
cn_p2p_peer *cn_p2p_find(const cn_p2p *p, const uint8_t key[CN_PUBKEY_LEN]);

/* Schedules the next dial of `peer` after backoff (or after its ban); no-op if it has no
 * address, is connected or dialling, or the transport is stopped. */
void cn_p2p_schedule_dial(cn_p2p_peer *peer);

/* conn.c: starts a connection on an accepted socket (fd) or dials `peer` (fd < 0). Returns
 * the connection or NULL (the fd is closed on failure). */
cn_p2p_conn *cn_p2p_conn_start(cn_p2p *p, int fd, const struct sockaddr *sa, int salen,
                               cn_p2p_peer *peer);

/* conn.c: ends a connection with `why` (idempotent): updates the peer, score and counters,
 * calls on_peer_down if it was the active one, schedules a redial, defers the free. */
void cn_p2p_conn_close(cn_p2p_conn *c, cn_p2p_reason why);

/* conn.c: moves queued messages of the connection's peer into the socket buffer. */
void cn_p2p_conn_flush(cn_p2p_conn *c);

/* conn.c: sends FINAL and writes what it can without blocking (used by cn_p2p_stop). */
void cn_p2p_conn_final(cn_p2p_conn *c);

/* conn.c: frees a connection that is already on the dead list. */
void cn_p2p_conn_free(cn_p2p_conn *c);

#endif
