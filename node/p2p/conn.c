/* One P2P connection on a bufferevent: handshake, admission, duplicate tie-break, frame
 * reading, queue flushing, keepalive and closing (see internal.h for ownership).
 *
 * Memory per connection is bounded by the read high watermark: while handshaking the input
 * buffer holds at most one HELLO and one AUTH; once open, at most one maximal frame. The
 * output side holds at most out_buffer_bytes plus one frame; the rest waits, unsealed, in the
 * peer's priority queue, so urgent messages overtake bulk ones.
 *
 * Duplicate tie-break: of two authenticated connections between the same two nodes, the one
 * dialled by the node with the smaller key (bytewise) survives; between two connections dialled
 * by the same node, the newer survives (the dialler only dials when it believes the old one is
 * gone). Both ends compute the same answer from the same facts.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "node/p2p/frame.h"
#include "node/p2p/internal.h"
#include "node/util/log.h"

/* Short hex of a key for log lines (first 8 bytes). */
static void key_short(const uint8_t key[CN_PUBKEY_LEN], char out[17]) {
    sodium_bin2hex(out, 17, key, 8);
}

/* Latency matters more than throughput for votes; dead peers are found by keepalive. */
static void set_sockopts(evutil_socket_t fd) {
    int one = 1;
    if (fd < 0)
        return;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    (void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
}

/* Formats a socket address as ip:port. */
static void format_sa(const struct sockaddr *sa, char out[CN_P2P_ADDR_MAX]) {
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        evutil_inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
        port = ntohs(in->sin_port);
        snprintf(out, CN_P2P_ADDR_MAX, "%s:%u", ip, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        evutil_inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
        port = ntohs(in6->sin6_port);
        snprintf(out, CN_P2P_ADDR_MAX, "[%s]:%u", ip, port);
    } else {
        snprintf(out, CN_P2P_ADDR_MAX, "?");
    }
}

/* Seals one frame straight into the output buffer. Returns 0 if memory ran out. */
static int conn_seal(cn_p2p_conn *c, const uint8_t *data, size_t len, unsigned char tag) {
    struct evbuffer *out = bufferevent_get_output(c->bev);
    size_t flen = cn_p2p_frame_len(len);
    struct evbuffer_iovec v;
    if (evbuffer_reserve_space(out, (ev_ssize_t)flen, &v, 1) < 1 || v.iov_len < flen)
        return 0;
    if (!cn_p2p_frame_seal(&c->push, v.iov_base, data, len, tag))
        return 0;
    v.iov_len = flen;
    if (evbuffer_commit_space(out, &v, 1) != 0)
        return 0;
    c->peer->bytes_out += flen;
    c->last_write_ms = cn_p2p_now_ms();
    return 1;
}

void cn_p2p_conn_flush(cn_p2p_conn *c) {
    if (c->state != CN_P2P_CS_OPEN || c->peer->active != c)
        return;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    while (evbuffer_get_length(out) < c->p->lim.out_buffer_bytes) {
        cn_p2p_qmsg *m = cn_p2p_queue_pop(&c->peer->q);
        if (!m)
            return;
        int ok = conn_seal(c, m->data, m->len, crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
        free(m);
        if (!ok) {
            cn_p2p_conn_close(c, CN_P2P_R_NOMEM);
            return;
        }
        c->peer->msgs_out++;
    }
}

/* Keepalive tick: an empty MESSAGE frame when nothing was written for keepalive_ms. */
static void ka_cb(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    cn_p2p_conn *c = arg;
    if (c->state != CN_P2P_CS_OPEN)
        return;
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) > 0 ||
        cn_p2p_now_ms() - c->last_write_ms < c->p->lim.keepalive_ms)
        return;
    if (!conn_seal(c, NULL, 0, crypto_secretstream_xchacha20poly1305_TAG_MESSAGE))
        cn_p2p_conn_close(c, CN_P2P_R_NOMEM);
}

static void hs_timeout_cb(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    cn_p2p_conn_close(arg, CN_P2P_R_HS_TIMEOUT);
}

/* After a good HELLO: is this key welcome on this connection? NONE if so. */
static cn_p2p_reason conn_admit(cn_p2p_conn *c) {
    cn_p2p_peer *peer = cn_p2p_find(c->p, c->hs.peer_key);
    if (!peer)
        return CN_P2P_R_UNKNOWN_KEY;
    if (c->outbound && peer != c->peer)
        return CN_P2P_R_WRONG_PEER;
    if (cn_p2p_ban_left(&peer->score, cn_p2p_now_ms()) > 0)
        return CN_P2P_R_BANNED;
    c->peer = peer;
    return CN_P2P_R_NONE;
}

/* The key of the node that dialled connection c. */
static const uint8_t *dialler_key(const cn_p2p_conn *c) {
    return c->outbound ? c->p->kp.pub : c->peer->key;
}

/* Makes an authenticated connection the peer's active one, or refuses it as a duplicate.
 * Returns 1 if c is open and active afterwards. */
static int conn_established(cn_p2p_conn *c) {
    cn_p2p *p = c->p;
    cn_p2p_peer *peer = c->peer;
    char ks[17];
    key_short(peer->key, ks);
    event_del(c->hs_timer);
    if (!c->outbound)
        p->pending--;
    c->state = CN_P2P_CS_OPEN;
    if (peer->dialing == c)
        peer->dialing = NULL;
    c->push = c->hs.push;
    c->pull = c->hs.pull;
    cn_p2p_hs_wipe(&c->hs);
    snprintf(peer->last_remote, sizeof peer->last_remote, "%s", c->remote);

    cn_p2p_conn *old = peer->active;
    if (old && memcmp(dialler_key(c), dialler_key(old), CN_PUBKEY_LEN) > 0) {
        cn_p2p_conn_close(c, CN_P2P_R_DUPLICATE);
        return 0;
    }
    struct timeval idle = {(time_t)(p->lim.idle_timeout_ms / 1000),
                           (suseconds_t)(p->lim.idle_timeout_ms % 1000) * 1000};
    bufferevent_set_timeouts(c->bev, &idle, &idle);
    bufferevent_setwatermark(c->bev, EV_READ, 0, CN_P2P_FRAME_MAX);
    bufferevent_setwatermark(c->bev, EV_WRITE, p->lim.out_buffer_bytes / 2, 0);
    struct timeval ka = {(time_t)(p->lim.keepalive_ms / 1000),
                         (suseconds_t)(p->lim.keepalive_ms % 1000) * 1000};
    event_add(c->ka_timer, &ka);
    c->last_write_ms = cn_p2p_now_ms();
    peer->active = c;
    peer->attempts = 0;
    peer->connects++;
    event_del(peer->dial_timer);
    if (old) {
        CN_LOG_INFO("p2p: peer %s: connection %s replaces %s", ks, c->remote, old->remote);
        cn_p2p_conn_close(old, CN_P2P_R_REPLACED);
    } else {
        CN_LOG_INFO("p2p: peer %s up (%s, %s)", ks, c->remote, c->outbound ? "out" : "in");
        if (p->cb.on_peer_up)
            p->cb.on_peer_up(p->cb.ctx, peer->key);
    }
    cn_p2p_conn_flush(c);
    return c->state == CN_P2P_CS_OPEN;
}

/* Decodes one payload as an Envelope and hands it to the node. */
static void conn_deliver(cn_p2p_conn *c, const uint8_t *plain, size_t len) {
    cn_pb pb;
    cn_decode_err err = cn_decode(CN_MSG_ENVELOPE, plain, len, &pb);
    const Clearnode__V1__Envelope *env = (const Clearnode__V1__Envelope *)pb.msg;
    if (err != CN_DECODE_OK || env->msg_case == CLEARNODE__V1__ENVELOPE__MSG__NOT_SET) {
        char ks[17];
        key_short(c->peer->key, ks);
        CN_LOG_WARN("p2p: peer %s sent an invalid Envelope (%s, %zu bytes)", ks,
                    err != CN_DECODE_OK ? cn_decode_code(err) : "empty_oneof", len);
        cn_pb_free(&pb);
        cn_p2p_conn_close(c, CN_P2P_R_DECODE);
        return;
    }
    c->peer->msgs_in++;
    if (c->p->cb.on_message)
        c->p->cb.on_message(c->p->cb.ctx, c->peer->key, env, plain, len);
    cn_pb_free(&pb);
}

/* Reads every complete frame in the input buffer. */
static void conn_read_frames(cn_p2p_conn *c) {
    struct evbuffer *in = bufferevent_get_input(c->bev);
    while (c->state == CN_P2P_CS_OPEN) {
        size_t have = evbuffer_get_length(in), flen = 0;
        if (have < CN_P2P_FRAME_HDR)
            return;
        cn_p2p_reason why;
        if (cn_p2p_frame_peek(evbuffer_pullup(in, CN_P2P_FRAME_HDR), CN_P2P_FRAME_HDR, &flen,
                              &why) == CN_P2P_FR_ERR) {
            cn_p2p_conn_close(c, why);
            return;
        }
        if (have < flen)
            return;
        const uint8_t *buf = evbuffer_pullup(in, (ev_ssize_t)flen);
        uint8_t *plain = malloc(flen - CN_P2P_FRAME_HDR - CN_P2P_SS_ABYTES + 1);
        if (!buf || !plain) {
            free(plain);
            cn_p2p_conn_close(c, CN_P2P_R_NOMEM);
            return;
        }
        size_t used = 0, plen = 0;
        cn_p2p_fr_rc rc = cn_p2p_frame_open(&c->pull, buf, flen, &used, plain, &plen, &why);
        evbuffer_drain(in, flen);
        c->peer->bytes_in += flen;
        switch (rc) {
        case CN_P2P_FR_MSG:
            if (plen > 0) /* empty = keepalive */
                conn_deliver(c, plain, plen);
            break;
        case CN_P2P_FR_FINAL:
            cn_p2p_conn_close(c, CN_P2P_R_CLOSED);
            break;
        case CN_P2P_FR_ERR:
            cn_p2p_conn_close(c, why);
            break;
        case CN_P2P_FR_MORE:
            break;
        }
        free(plain);
    }
}

/* Handshake steps while the connection is not open; returns 1 when it became open. */
static int conn_handshake(cn_p2p_conn *c) {
    struct evbuffer *in = bufferevent_get_input(c->bev);
    cn_p2p_reason why = CN_P2P_R_NONE;
    if (c->state == CN_P2P_CS_HELLO) {
        size_t have = evbuffer_get_length(in);
        if (have == 0)
            return 0;
        size_t n = have < CN_P2P_HELLO_MAX ? have : CN_P2P_HELLO_MAX, used = 0;
        cn_p2p_hs_rc rc =
            cn_p2p_hs_read_hello(&c->hs, evbuffer_pullup(in, (ev_ssize_t)n), n, &used, &why);
        if (rc == CN_P2P_HS_MORE)
            return 0;
        if (rc == CN_P2P_HS_OK) {
            evbuffer_drain(in, used);
            why = conn_admit(c);
        }
        uint8_t auth[CN_P2P_AUTH_LEN];
        if (why == CN_P2P_R_NONE && cn_p2p_hs_auth(&c->hs, auth, &why))
            bufferevent_write(c->bev, auth, sizeof auth);
        if (why != CN_P2P_R_NONE) {
            cn_p2p_conn_close(c, why);
            return 0;
        }
        c->state = CN_P2P_CS_AUTH;
    }
    if (c->state != CN_P2P_CS_AUTH || evbuffer_get_length(in) < CN_P2P_AUTH_LEN)
        return 0;
    why = cn_p2p_hs_read_auth(&c->hs, evbuffer_pullup(in, CN_P2P_AUTH_LEN));
    evbuffer_drain(in, CN_P2P_AUTH_LEN);
    if (why != CN_P2P_R_NONE) {
        cn_p2p_conn_close(c, why);
        return 0;
    }
    return conn_established(c);
}

static void read_cb(struct bufferevent *bev, void *arg) {
    (void)bev;
    cn_p2p_conn *c = arg;
    if (c->state == CN_P2P_CS_HELLO || c->state == CN_P2P_CS_AUTH)
        if (!conn_handshake(c))
            return;
    if (c->state == CN_P2P_CS_OPEN)
        conn_read_frames(c);
}

static void write_cb(struct bufferevent *bev, void *arg) {
    (void)bev;
    cn_p2p_conn_flush(arg);
}

static void event_cb(struct bufferevent *bev, short what, void *arg) {
    cn_p2p_conn *c = arg;
    if (what & BEV_EVENT_CONNECTED) {
        set_sockopts(bufferevent_getfd(bev));
        return;
    }
    if (what & BEV_EVENT_TIMEOUT)
        cn_p2p_conn_close(c, CN_P2P_R_IDLE);
    else if (what & BEV_EVENT_EOF)
        cn_p2p_conn_close(c, CN_P2P_R_EOF);
    else if (c->outbound && c->state == CN_P2P_CS_HELLO &&
             evbuffer_get_length(bufferevent_get_input(bev)) == 0)
        cn_p2p_conn_close(c, CN_P2P_R_CONNECT);
    else
        cn_p2p_conn_close(c, CN_P2P_R_IO);
}

cn_p2p_conn *cn_p2p_conn_start(cn_p2p *p, int fd, const struct sockaddr *sa, int salen,
                               cn_p2p_peer *peer) {
    cn_p2p_conn *c = calloc(1, sizeof *c);
    if (c)
        c->bev = bufferevent_socket_new(p->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (c && c->bev) {
        c->hs_timer = evtimer_new(p->base, hs_timeout_cb, c);
        c->ka_timer = event_new(p->base, -1, EV_PERSIST, ka_cb, c);
    }
    if (!c || !c->bev || !c->hs_timer || !c->ka_timer ||
        !cn_p2p_hs_init(&c->hs, &p->kp, p->chain_id, fd < 0, NULL)) {
        if (c && c->bev)
            bufferevent_free(c->bev);
        else if (fd >= 0)
            evutil_closesocket(fd);
        if (c) {
            if (c->hs_timer)
                event_free(c->hs_timer);
            if (c->ka_timer)
                event_free(c->ka_timer);
            cn_p2p_hs_wipe(&c->hs);
        }
        free(c);
        p->closes[CN_P2P_R_NOMEM]++;
        return NULL;
    }
    c->p = p;
    c->outbound = fd < 0;
    c->peer = peer;
    c->state = CN_P2P_CS_HELLO;
    c->next = p->conns;
    p->conns = c;
    format_sa(sa, c->remote);
    if (c->outbound)
        peer->dialing = c;
    else {
        p->pending++;
        set_sockopts(fd);
    }
    struct timeval hs = {(time_t)(p->lim.handshake_timeout_ms / 1000),
                         (suseconds_t)(p->lim.handshake_timeout_ms % 1000) * 1000};
    event_add(c->hs_timer, &hs);
    bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
    bufferevent_setwatermark(c->bev, EV_READ, 0, CN_P2P_HELLO_MAX + CN_P2P_AUTH_LEN);
    uint8_t hello[CN_P2P_HELLO_MAX];
    size_t n = cn_p2p_hs_hello(&c->hs, hello);
    if (bufferevent_write(c->bev, hello, n) != 0 ||
        bufferevent_enable(c->bev, EV_READ | EV_WRITE) != 0) {
        cn_p2p_conn_close(c, CN_P2P_R_NOMEM);
        return c;
    }
    if (c->outbound && bufferevent_socket_connect(c->bev, sa, salen) != 0)
        cn_p2p_conn_close(c, CN_P2P_R_CONNECT);
    return c;
}

/* Best-effort, non-blocking: writes what the socket takes of the output buffer (the
 * bufferevent keeps its front frozen, so this goes around it with sendmsg), half-closes, and
 * discards unread input so that close() sends FIN rather than a RST that could destroy the
 * data in flight. */
static void conn_push_out(cn_p2p_conn *c) {
    evutil_socket_t fd = bufferevent_getfd(c->bev);
    if (fd < 0)
        return;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    struct evbuffer_iovec v[32];
    int n = evbuffer_peek(out, -1, NULL, v, 32);
    if (n > 32)
        n = 32;
    struct iovec iov[32];
    for (int i = 0; i < n; i++) {
        iov[i].iov_base = v[i].iov_base;
        iov[i].iov_len = v[i].iov_len;
    }
    if (n > 0) {
        struct msghdr mh;
        memset(&mh, 0, sizeof mh);
        mh.msg_iov = iov;
        mh.msg_iovlen = (size_t)n;
        (void)sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    (void)shutdown(fd, SHUT_WR);
    uint8_t sink[4096];
    for (int i = 0; i < 16 && recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0; i++)
        ;
}

/* Log level for a close: offences and refusals of known peers are warnings. */
static int close_level(cn_p2p_reason why) {
    if (cn_p2p_penalty(why) > 0)
        return CN_LOGL_WARN;
    switch (why) {
    case CN_P2P_R_VERSION:
    case CN_P2P_R_CHAIN:
    case CN_P2P_R_WRONG_PEER:
    case CN_P2P_R_SELF:
    case CN_P2P_R_BAD_SIG:
    case CN_P2P_R_BAD_AUTH:
    case CN_P2P_R_UNKNOWN_KEY:
    case CN_P2P_R_REFLECTED:
        return CN_LOGL_WARN;
    case CN_P2P_R_CONNECT:
    case CN_P2P_R_DUPLICATE:
    case CN_P2P_R_REPLACED:
    case CN_P2P_R_HS_TIMEOUT:
        return CN_LOGL_DEBUG;
    case CN_P2P_R_NONE:
    case CN_P2P_R_GARBAGE:
    case CN_P2P_R_BAD_KEY:
    case CN_P2P_R_KX:
    case CN_P2P_R_BANNED:
    case CN_P2P_R_TOO_MANY:
    case CN_P2P_R_OVERSIZED:
    case CN_P2P_R_DECRYPT:
    case CN_P2P_R_BAD_TAG:
    case CN_P2P_R_DECODE:
    case CN_P2P_R_EOF:
    case CN_P2P_R_CLOSED:
    case CN_P2P_R_IO:
    case CN_P2P_R_IDLE:
    case CN_P2P_R_SLOW:
    case CN_P2P_R_LOCAL:
    case CN_P2P_R_NOMEM:
    case CN_P2P_R_COUNT:
        break;
    }
    return CN_LOGL_INFO;
}

void cn_p2p_conn_close(cn_p2p_conn *c, cn_p2p_reason why) {
    if (c->state == CN_P2P_CS_DEAD)
        return;
    cn_p2p *p = c->p;
    cn_p2p_cstate prev = c->state;
    c->state = CN_P2P_CS_DEAD;
    if ((unsigned)why < CN_P2P_R_COUNT)
        p->closes[why]++;
    event_del(c->hs_timer);
    event_del(c->ka_timer);
    /* A refused handshake still sends our HELLO, so the other side can log why. */
    if (prev != CN_P2P_CS_OPEN && why != CN_P2P_R_CONNECT && why != CN_P2P_R_HS_TIMEOUT)
        conn_push_out(c);
    bufferevent_disable(c->bev, EV_READ | EV_WRITE);
    bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
    if (!c->outbound && prev != CN_P2P_CS_OPEN)
        p->pending--;
    for (cn_p2p_conn **pp = &p->conns; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    c->next = p->dead;
    p->dead = c;
    event_active(p->reaper, 0, 0);

    cn_p2p_peer *peer = c->peer;
    char ks[17] = "-";
    if (peer && (c->outbound || prev != CN_P2P_CS_HELLO))
        key_short(peer->key, ks);
    else if (c->hs.have_hello)
        key_short(c->hs.peer_key, ks);
    cn_log(close_level(why), "p2p: %s connection %s (peer %s) closed: %s",
           c->outbound ? "outbound" : "inbound", c->remote, ks, cn_p2p_reason_code(why));
    if (!peer)
        return;
    if (peer->dialing == c)
        peer->dialing = NULL;
    int was_active = peer->active == c;
    if (was_active) {
        peer->active = NULL;
        peer->last_reason = why;
        cn_p2p_queue_clear(&peer->q);
        free(peer->seen);
        peer->seen = NULL;
        uint64_t now = cn_p2p_now_ms();
        if (cn_p2p_score_offence(&peer->score, why, now, p->lim.ban_base_ms, p->lim.ban_max_ms))
            CN_LOG_WARN("p2p: peer %s banned for %llu ms (ban %u)", ks,
                        (unsigned long long)cn_p2p_ban_left(&peer->score, now),
                        (unsigned)peer->score.bans);
    } else if (c->outbound && prev != CN_P2P_CS_OPEN) {
        peer->last_reason = why;
    }
    cn_p2p_schedule_dial(peer);
    if (was_active && p->cb.on_peer_down)
        p->cb.on_peer_down(p->cb.ctx, peer->key, why);
}

void cn_p2p_conn_final(cn_p2p_conn *c) {
    if (c->state == CN_P2P_CS_OPEN &&
        conn_seal(c, NULL, 0, crypto_secretstream_xchacha20poly1305_TAG_FINAL))
        conn_push_out(c);
    cn_p2p_conn_close(c, CN_P2P_R_LOCAL);
}

void cn_p2p_conn_free(cn_p2p_conn *c) {
    event_free(c->hs_timer);
    event_free(c->ka_timer);
    bufferevent_free(c->bev);
    cn_p2p_hs_wipe(&c->hs);
    sodium_memzero(&c->push, sizeof c->push);
    sodium_memzero(&c->pull, sizeof c->pull);
    free(c);
}
