/* Connection tracking and the connection cap.
 *
 * libevent 2.1's evhttp has no hook for "a connection closed" that covers every connection
 * (the close callback can only be set once a request arrived). So the server creates each
 * connection's bufferevent itself (evhttp_set_bevcb), takes one extra reference on it, and
 * keeps it in a list. evhttp frees a connection with bufferevent_free(), which clears the
 * bufferevent's callbacks; a periodic sweep finds bufferevents whose callbacks are gone,
 * drops its reference (which closes the socket) and removes them from the list. The list
 * length is therefore exactly the number of open sockets, with no reliance on libevent
 * internals.
 *
 * At the cap, accepting pauses (the listener is disabled) and further connections wait in
 * the kernel's listen queue; the sweep resumes accepting as soon as a connection is gone.
 * A read high-watermark bounds what a socket can buffer between evhttp closing it and the
 * sweep.
 */
#include <stdlib.h>
#include <sys/time.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "node/rpc/internal.h"

/* Lets the listener accept again when below the cap. */
static void maybe_resume(cn_rpc_server *srv) {
    if (srv->paused && srv->conns.len < srv->lim.max_connections && srv->listener) {
        evconnlistener_enable(srv->listener);
        srv->paused = 0;
    }
}

/* Reaps connections evhttp has freed (their callbacks are cleared). */
static void sweep(cn_rpc_server *srv) {
    cn_rpc_conns *c = &srv->conns;
    for (size_t i = 0; i < c->len;) {
        bufferevent_data_cb rd, wr;
        bufferevent_event_cb ev;
        void *arg = NULL;
        bufferevent_getcb(c->bev[i], &rd, &wr, &ev, &arg);
        if (arg != NULL) {
            i++;
            continue;
        }
        bufferevent_disable(c->bev[i], EV_READ | EV_WRITE);
        bufferevent_decref(c->bev[i]); /* the last reference: closes the socket */
        c->bev[i] = c->bev[--c->len];
    }
    srv->metrics.connections = (unsigned)c->len;
    maybe_resume(srv);
}

static void on_sweep(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    sweep(arg);
}

int cn_rpc_conns_init(cn_rpc_server *srv) {
    cn_rpc_conns *c = &srv->conns;
    c->cap = srv->lim.max_connections;
    c->bev = calloc(c->cap, sizeof *c->bev);
    c->sweep = event_new(srv->base, -1, EV_PERSIST, on_sweep, srv);
    if (c->bev == NULL || c->sweep == NULL)
        return 0;
    struct timeval tv = {0, CN_RPC_SWEEP_MS * 1000};
    return event_add(c->sweep, &tv) == 0;
}

/* Called after evhttp_free(): every connection has been freed by evhttp, so the sweep
 * releases them all. */
void cn_rpc_conns_close(cn_rpc_server *srv) {
    cn_rpc_conns *c = &srv->conns;
    srv->listener = NULL;
    if (c->bev != NULL)
        sweep(srv);
    /* Anything left is still owned by evhttp too (it should not be after evhttp_free):
     * drop only our reference. */
    for (size_t i = 0; i < c->len; i++)
        bufferevent_decref(c->bev[i]);
    c->len = 0;
    if (c->sweep != NULL)
        event_free(c->sweep);
    free(c->bev);
    c->bev = NULL;
    c->sweep = NULL;
}

/* evhttp's bufferevent factory: one socket bufferevent per accepted connection. Returning
 * NULL makes evhttp create one itself, which is then untracked; that only happens when
 * memory ran out. */
struct bufferevent *cn_rpc_conns_new_bev(struct event_base *base, void *arg) {
    cn_rpc_server *srv = arg;
    cn_rpc_conns *c = &srv->conns;
    if (c->len >= c->cap)
        sweep(srv);
    struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL)
        return NULL;
    if (c->len >= c->cap) {
        /* Over the cap only if the listener accepted a burst before it was paused; the
         * connection is served, and accepting stays paused until enough have closed. */
        size_t ncap = c->cap * 2;
        struct bufferevent **nb = realloc(c->bev, ncap * sizeof *nb);
        if (nb == NULL)
            return bev;
        c->bev = nb;
        c->cap = ncap;
    }
    bufferevent_incref(bev);
    bufferevent_setwatermark(bev, EV_READ, 0, srv->lim.max_body + CN_RPC_MAX_HEADERS + 65536);
    c->bev[c->len++] = bev;
    srv->metrics.connections = (unsigned)c->len;
    if (c->len >= srv->lim.max_connections && !srv->paused && srv->listener) {
        evconnlistener_disable(srv->listener);
        srv->paused = 1;
        srv->metrics.connection_paused++;
    }
    return bev;
}
