/* The P2P transport object (see p2p.h): configuration, the peer table, the listener, dialling
 * with backoff, and the calls the node makes (send, broadcast, status, stop, free).
 * Connection mechanics live in conn.c.
 *
 * Dialling: every peer with an address is dialled at start. When a dial fails or an
 * authenticated connection ends, the next dial waits cn_p2p_backoff_ms(attempts) with jitter
 * from the CSPRNG, and at least until the peer's ban (if any) is over. Both ends dial; the
 * duplicate tie-break in conn.c keeps one connection.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "node/p2p/internal.h"
#include "node/util/log.h"

uint64_t cn_p2p_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void cn_p2p_limits_default(cn_p2p_limits *l) {
    l->max_queue_msgs = 10000;
    l->max_queue_bytes = (uint64_t)64 * 1024 * 1024;
    l->out_buffer_bytes = 1024 * 1024;
    l->max_pending = 16;
    l->handshake_timeout_ms = 10000;
    l->keepalive_ms = 10000;
    l->idle_timeout_ms = 30000;
    l->backoff_min_ms = 500;
    l->backoff_max_ms = 30000;
    l->ban_base_ms = 60000;
    l->ban_max_ms = 3600000;
}

/* Checks limits for consistency; returns a reason or NULL. */
static const char *limits_check(const cn_p2p_limits *l) {
    if (l->max_queue_msgs == 0)
        return "max_queue_msgs must be at least 1";
    if (l->max_queue_bytes < CN_CAP_ENVELOPE)
        return "max_queue_bytes must hold one maximal envelope";
    if (l->out_buffer_bytes == 0)
        return "out_buffer_bytes must be at least 1";
    if (l->max_pending == 0)
        return "max_pending must be at least 1";
    if (l->handshake_timeout_ms == 0 || l->keepalive_ms == 0 || l->idle_timeout_ms == 0)
        return "timeouts must be positive";
    if (l->keepalive_ms >= l->idle_timeout_ms)
        return "keepalive_ms must be below idle_timeout_ms";
    if (l->backoff_min_ms == 0 || l->backoff_min_ms > l->backoff_max_ms)
        return "need 0 < backoff_min_ms <= backoff_max_ms";
    if (l->ban_base_ms == 0 || l->ban_base_ms > l->ban_max_ms)
        return "need 0 < ban_base_ms <= ban_max_ms";
    return NULL;
}

/* Parses a numeric "ip:port" (IPv4) or "[ipv6]:port". Returns 1, or 0 if it is not one.
 * Port 0 is accepted only where asked (a listener that lets the kernel choose). */
static int parse_addr(const char *text, struct sockaddr_storage *sa, int *salen,
                      int allow_port0) {
    if (!text)
        return 0;
    size_t n = strlen(text);
    if (n == 0 || n >= CN_P2P_ADDR_MAX)
        return 0;
    char host[CN_P2P_ADDR_MAX];
    const char *port;
    int v6 = text[0] == '[';
    if (v6) {
        const char *end = strchr(text, ']');
        if (!end || end[1] != ':')
            return 0;
        memcpy(host, text + 1, (size_t)(end - text - 1));
        host[end - text - 1] = '\0';
        port = end + 2;
    } else {
        const char *colon = strchr(text, ':');
        if (!colon || strchr(colon + 1, ':'))
            return 0;
        memcpy(host, text, (size_t)(colon - text));
        host[colon - text] = '\0';
        port = colon + 1;
    }
    size_t pl = strlen(port);
    if (pl == 0 || pl > 5 || strspn(port, "0123456789") != pl)
        return 0;
    unsigned long pv = strtoul(port, NULL, 10);
    if (pv > 65535 || (pv == 0 && !allow_port0))
        return 0;
    memset(sa, 0, sizeof *sa);
    if (v6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)sa;
        if (evutil_inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
            return 0;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)pv);
        *salen = (int)sizeof *in6;
    } else {
        struct sockaddr_in *in = (struct sockaddr_in *)(void *)sa;
        if (evutil_inet_pton(AF_INET, host, &in->sin_addr) != 1)
            return 0;
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)pv);
        *salen = (int)sizeof *in;
    }
    return 1;
}

cn_p2p_peer *cn_p2p_find(const cn_p2p *p, const uint8_t key[CN_PUBKEY_LEN]) {
    for (size_t i = 0; i < p->n_peers; i++)
        if (memcmp(p->peers[i].key, key, CN_PUBKEY_LEN) == 0)
            return &p->peers[i];
    return NULL;
}

static void dial_cb(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    cn_p2p_peer *peer = arg;
    cn_p2p *p = peer->p;
    if (p->stopped || peer->active || peer->dialing || !peer->addr[0])
        return;
    if (cn_p2p_ban_left(&peer->score, cn_p2p_now_ms()) > 0) {
        cn_p2p_schedule_dial(peer);
        return;
    }
    peer->attempts++;
    if (!cn_p2p_conn_start(p, -1, (const struct sockaddr *)&peer->sa, peer->salen, peer))
        cn_p2p_schedule_dial(peer);
}

void cn_p2p_schedule_dial(cn_p2p_peer *peer) {
    cn_p2p *p = peer->p;
    if (p->stopped || !peer->addr[0] || peer->active || peer->dialing ||
        evtimer_pending(peer->dial_timer, NULL))
        return;
    uint64_t ms = cn_p2p_backoff_ms(peer->attempts, p->lim.backoff_min_ms, p->lim.backoff_max_ms,
                                    randombytes_random());
    if (memcmp(p->kp.pub, peer->key, CN_PUBKEY_LEN) > 0)
        ms += p->lim.backoff_min_ms; /* head start for the dial the tie-break keeps */
    uint64_t ban = cn_p2p_ban_left(&peer->score, cn_p2p_now_ms());
    if (ban > ms)
        ms = ban;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(peer->dial_timer, &tv);
}

/* First dial to a peer: at once from the smaller key, after backoff_min_ms from the larger,
 * so that when both ends start together the connection the tie-break keeps usually comes
 * first and the other is never made. */
static void dial_soon(cn_p2p_peer *peer) {
    cn_p2p *p = peer->p;
    uint32_t ms = memcmp(p->kp.pub, peer->key, CN_PUBKEY_LEN) > 0 ? p->lim.backoff_min_ms : 0;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    event_del(peer->dial_timer);
    evtimer_add(peer->dial_timer, &tv);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg) {
    (void)l;
    cn_p2p *p = arg;
    if (p->stopped || p->pending >= p->lim.max_pending) {
        p->closes[CN_P2P_R_TOO_MANY]++;
        CN_LOG_DEBUG("p2p: inbound connection refused: %s", cn_p2p_reason_code(CN_P2P_R_TOO_MANY));
        evutil_closesocket(fd);
        return;
    }
    (void)cn_p2p_conn_start(p, fd, sa, salen, NULL);
}

static void accept_error_cb(struct evconnlistener *l, void *arg) {
    (void)l;
    (void)arg;
    int e = EVUTIL_SOCKET_ERROR();
    CN_LOG_WARN("p2p: accept failed: %s", evutil_socket_error_to_string(e));
}

/* Frees closed connections outside of any callback that might still use them. */
static void reaper_cb(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    cn_p2p *p = arg;
    while (p->dead) {
        cn_p2p_conn *c = p->dead;
        p->dead = c->next;
        cn_p2p_conn_free(c);
    }
}

/* Fails cn_p2p_new with a message. */
static cn_p2p *new_fail(cn_p2p *p, char *err, size_t cap, const char *msg) {
    if (err && cap)
        snprintf(err, cap, "p2p: %s", msg);
    cn_p2p_free(p);
    return NULL;
}

/* Sets a peer's address; returns 1, or 0 if it does not parse. */
static int peer_set_addr(cn_p2p_peer *peer, const char *addr) {
    if (!addr || !addr[0]) {
        peer->addr[0] = '\0';
        return 1;
    }
    if (!parse_addr(addr, &peer->sa, &peer->salen, 0))
        return 0;
    snprintf(peer->addr, sizeof peer->addr, "%s", addr);
    return 1;
}

/* A new peer at the end of the list (the caller checked key and room). NULL: no memory. */
static cn_p2p_peer *append_peer(cn_p2p *p, const uint8_t key[CN_PUBKEY_LEN]) {
    cn_p2p_peer *peer = &p->peers[p->n_peers];
    memset(peer, 0, sizeof *peer);
    peer->p = p;
    memcpy(peer->key, key, CN_PUBKEY_LEN);
    peer->dial_timer = evtimer_new(p->base, dial_cb, peer);
    if (!peer->dial_timer)
        return NULL;
    p->n_peers++;
    return peer;
}

cn_p2p_err cn_p2p_add_peer(cn_p2p *p, const uint8_t key[CN_PUBKEY_LEN]) {
    if (!p || !key || !cn_pubkey_valid(key) || memcmp(key, p->kp.pub, CN_PUBKEY_LEN) == 0)
        return CN_P2P_EINVAL;
    if (cn_p2p_find(p, key))
        return CN_P2P_OK;
    if (p->n_peers == CN_P2P_MAX_PEERS)
        return CN_P2P_EFULL;
    return append_peer(p, key) ? CN_P2P_OK : CN_P2P_ENOMEM;
}

cn_p2p *cn_p2p_new(const cn_p2p_config *cfg, char *err, size_t err_cap) {
    if (!cfg || !cfg->base || !cfg->node_key)
        return new_fail(NULL, err, err_cap, "missing event base or node key");
    size_t clen = cfg->chain_id ? strlen(cfg->chain_id) : 0;
    if (clen == 0 || clen > CN_P2P_CHAIN_ID_MAX)
        return new_fail(NULL, err, err_cap, "chain id must be 1..64 bytes");
    if (cfg->n_peers > CN_P2P_MAX_PEERS || (cfg->n_peers && !cfg->peers))
        return new_fail(NULL, err, err_cap, "peer list missing or longer than 256");
    cn_p2p *p = calloc(1, sizeof *p);
    if (!p)
        return new_fail(NULL, err, err_cap, "out of memory");
    p->base = cfg->base;
    memcpy(p->chain_id, cfg->chain_id, clen);
    p->kp = *cfg->node_key;
    p->cb = cfg->cb;
    if (cfg->limits)
        p->lim = *cfg->limits;
    else
        cn_p2p_limits_default(&p->lim);
    randombytes_buf(p->seen_key, sizeof p->seen_key);
    const char *why = limits_check(&p->lim);
    if (why)
        return new_fail(p, err, err_cap, why);
    p->reaper = event_new(p->base, -1, 0, reaper_cb, p);
    /* room for the most peers at once: connections point into this array, so it never
     * moves when cn_p2p_add_peer admits one later */
    p->peers = calloc(CN_P2P_MAX_PEERS, sizeof *p->peers);
    if (!p->reaper || !p->peers)
        return new_fail(p, err, err_cap, "out of memory");
    for (size_t i = 0; i < cfg->n_peers; i++) {
        const cn_p2p_peer_cfg *pc = &cfg->peers[i];
        if (memcmp(pc->key, p->kp.pub, CN_PUBKEY_LEN) == 0)
            continue; /* our own entry in a shared list */
        char msg[128], ks[17];
        sodium_bin2hex(ks, sizeof ks, pc->key, 8);
        if (!cn_pubkey_valid(pc->key)) {
            snprintf(msg, sizeof msg, "peer %zu: invalid key %s...", i, ks);
            return new_fail(p, err, err_cap, msg);
        }
        if (cn_p2p_find(p, pc->key)) {
            snprintf(msg, sizeof msg, "peer %zu: duplicate key %s...", i, ks);
            return new_fail(p, err, err_cap, msg);
        }
        cn_p2p_peer *peer = append_peer(p, pc->key);
        if (!peer)
            return new_fail(p, err, err_cap, "out of memory");
        if (!peer_set_addr(peer, pc->addr)) {
            snprintf(msg, sizeof msg, "peer %zu: address is not a numeric ip:port", i);
            return new_fail(p, err, err_cap, msg);
        }
    }
    if (cfg->listen) {
        struct sockaddr_storage sa;
        int salen;
        if (!parse_addr(cfg->listen, &sa, &salen, 1))
            return new_fail(p, err, err_cap, "listen address is not a numeric ip:port");
        p->listener = evconnlistener_new_bind(p->base, accept_cb, p,
                                              LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 64,
                                              (struct sockaddr *)&sa, salen);
        if (!p->listener) {
            char msg[160];
            snprintf(msg, sizeof msg, "cannot listen on %s: %s", cfg->listen,
                     evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
            return new_fail(p, err, err_cap, msg);
        }
        evconnlistener_set_error_cb(p->listener, accept_error_cb);
        struct sockaddr_storage bound;
        socklen_t blen = sizeof bound;
        if (getsockname(evconnlistener_get_fd(p->listener), (struct sockaddr *)&bound, &blen) ==
            0)
            p->port = ntohs(bound.ss_family == AF_INET6
                                ? ((struct sockaddr_in6 *)(void *)&bound)->sin6_port
                                : ((struct sockaddr_in *)(void *)&bound)->sin_port);
    }
    for (size_t i = 0; i < p->n_peers; i++)
        if (p->peers[i].addr[0])
            dial_soon(&p->peers[i]);
    CN_LOG_INFO("p2p: %zu peers, listening on port %u", p->n_peers, (unsigned)p->port);
    return p;
}

uint16_t cn_p2p_listen_port(const cn_p2p *p) { return p ? p->port : 0; }

cn_p2p_err cn_p2p_set_peer_addr(cn_p2p *p, const uint8_t key[CN_PUBKEY_LEN], const char *addr) {
    cn_p2p_peer *peer = cn_p2p_find(p, key);
    if (!peer)
        return CN_P2P_EUNKNOWN;
    if (!peer_set_addr(peer, addr))
        return CN_P2P_EINVAL;
    if (!peer->addr[0])
        event_del(peer->dial_timer);
    else if (!peer->active && !peer->dialing && !p->stopped)
        dial_soon(peer);
    return CN_P2P_OK;
}

cn_p2p_err cn_p2p_send(cn_p2p *p, const uint8_t peer_key[CN_PUBKEY_LEN], const uint8_t *env,
                       size_t len, cn_p2p_prio prio) {
    if (!p || !peer_key || !env || len == 0 || (unsigned)prio >= CN_P2P_PRIO_COUNT)
        return CN_P2P_EINVAL;
    if (len > CN_CAP_ENVELOPE)
        return CN_P2P_ETOOBIG;
    cn_p2p_peer *peer = cn_p2p_find(p, peer_key);
    if (!peer)
        return CN_P2P_EUNKNOWN;
    if (!peer->active)
        return CN_P2P_ENOTCONN;
    switch (cn_p2p_queue_push(&peer->q, prio, env, len, p->lim.max_queue_msgs,
                              p->lim.max_queue_bytes)) {
    case CN_P2P_Q_OK:
        break;
    case CN_P2P_Q_FULL:
        return CN_P2P_EFULL;
    case CN_P2P_Q_OVERFLOW:
        cn_p2p_conn_close(peer->active, CN_P2P_R_SLOW);
        return CN_P2P_ESLOW;
    case CN_P2P_Q_NOMEM:
        return CN_P2P_ENOMEM;
    }
    cn_p2p_conn_flush(peer->active);
    return CN_P2P_OK;
}

size_t cn_p2p_broadcast(cn_p2p *p, const uint8_t *env, size_t len, cn_p2p_prio prio,
                        const uint8_t *except) {
    size_t n = 0;
    for (size_t i = 0; p && i < p->n_peers; i++) {
        cn_p2p_peer *peer = &p->peers[i];
        if (!peer->active || (except && memcmp(except, peer->key, CN_PUBKEY_LEN) == 0))
            continue;
        if (cn_p2p_send(p, peer->key, env, len, prio) == CN_P2P_OK)
            n++;
    }
    return n;
}

cn_p2p_err cn_p2p_disconnect(cn_p2p *p, const uint8_t key[CN_PUBKEY_LEN]) {
    cn_p2p_peer *peer = cn_p2p_find(p, key);
    if (!peer)
        return CN_P2P_EUNKNOWN;
    if (!peer->active)
        return CN_P2P_ENOTCONN;
    cn_p2p_conn_final(peer->active);
    return CN_P2P_OK;
}

int cn_p2p_is_connected(const cn_p2p *p, const uint8_t key[CN_PUBKEY_LEN]) {
    const cn_p2p_peer *peer = cn_p2p_find(p, key);
    return peer && peer->active;
}

size_t cn_p2p_peer_count(const cn_p2p *p) { return p->n_peers; }

/* Fills one status record. */
static void peer_status(const cn_p2p_peer *peer, uint64_t now, cn_p2p_peer_status *o) {
    memset(o, 0, sizeof *o);
    memcpy(o->key, peer->key, CN_PUBKEY_LEN);
    snprintf(o->addr, sizeof o->addr, "%s", peer->addr[0] ? peer->addr : peer->last_remote);
    o->connected = peer->active != NULL;
    o->outbound = peer->active ? peer->active->outbound : 0;
    cn_p2p_score s = peer->score;
    cn_p2p_score_recover(&s, now);
    o->score = s.score;
    o->bans = s.bans;
    o->ban_remaining_ms = cn_p2p_ban_left(&s, now);
    o->queue_msgs = peer->q.count;
    o->queue_bytes = peer->q.bytes;
    o->bytes_in = peer->bytes_in;
    o->bytes_out = peer->bytes_out;
    o->msgs_in = peer->msgs_in;
    o->msgs_out = peer->msgs_out;
    o->dropped = peer->q.dropped;
    o->connects = peer->connects;
    o->last_reason = peer->last_reason;
}

size_t cn_p2p_peers(const cn_p2p *p, cn_p2p_peer_status *out, size_t cap) {
    uint64_t now = cn_p2p_now_ms();
    for (size_t i = 0; i < p->n_peers && i < cap; i++)
        peer_status(&p->peers[i], now, &out[i]);
    return p->n_peers;
}

int cn_p2p_peer_status_get(const cn_p2p *p, const uint8_t key[CN_PUBKEY_LEN],
                           cn_p2p_peer_status *out) {
    const cn_p2p_peer *peer = cn_p2p_find(p, key);
    if (!peer)
        return 0;
    peer_status(peer, cn_p2p_now_ms(), out);
    return 1;
}

void cn_p2p_stats_get(const cn_p2p *p, cn_p2p_stats *out) {
    memset(out, 0, sizeof *out);
    memcpy(out->closes, p->closes, sizeof out->closes);
    out->pending = p->pending;
    for (size_t i = 0; i < p->n_peers; i++)
        if (p->peers[i].active)
            out->connected++;
}

void cn_p2p_seen_mark(cn_p2p *p, const uint8_t key[CN_PUBKEY_LEN], const uint8_t id[32]) {
    cn_p2p_peer *peer = cn_p2p_find(p, key);
    if (!peer || !peer->active)
        return;
    if (!peer->seen && !(peer->seen = calloc(1, sizeof *peer->seen)))
        return;
    cn_p2p_seen_put(peer->seen, p->seen_key, id);
}

int cn_p2p_seen_check(const cn_p2p *p, const uint8_t key[CN_PUBKEY_LEN], const uint8_t id[32]) {
    const cn_p2p_peer *peer = cn_p2p_find(p, key);
    return peer && peer->seen && cn_p2p_seen_has(peer->seen, p->seen_key, id);
}

void cn_p2p_stop(cn_p2p *p) {
    if (!p || p->stopped)
        return;
    p->stopped = 1;
    if (p->listener) {
        evconnlistener_free(p->listener);
        p->listener = NULL;
    }
    for (size_t i = 0; i < p->n_peers; i++)
        if (p->peers[i].dial_timer)
            event_del(p->peers[i].dial_timer);
    while (p->conns)
        cn_p2p_conn_final(p->conns);
}

void cn_p2p_free(cn_p2p *p) {
    if (!p)
        return;
    cn_p2p_stop(p);
    if (p->reaper) {
        reaper_cb(-1, 0, p);
        event_free(p->reaper);
    }
    for (size_t i = 0; p->peers && i < p->n_peers; i++) {
        cn_p2p_peer *peer = &p->peers[i];
        if (peer->dial_timer)
            event_free(peer->dial_timer);
        cn_p2p_queue_clear(&peer->q);
        free(peer->seen);
    }
    free(p->peers);
    cn_keypair_wipe(&p->kp);
    sodium_memzero(p, sizeof *p);
    free(p);
}
