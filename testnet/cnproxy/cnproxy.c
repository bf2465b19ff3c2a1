/* cnproxy: a userspace TCP proxy that adds delay, loss and cut links between test validators
 * (docs/operator.md, "Fault injection"). It stands in for netem, which some kernels lack.
 *
 *   cnproxy [--config FILE] LISTEN_PORT:TARGET_IP:TARGET_PORT ...
 *
 * Each route listens on 127.0.0.1:LISTEN_PORT and forwards every connection to the target.
 * The config file (re-read when it changes, checked every 200 ms) holds `key = value` lines:
 *   delay_ms   one-way delay added to every chunk of bytes (default 0)
 *   jitter_ms  extra delay, uniform in 0..jitter_ms, per chunk (default 0)
 *   loss_pct   percent of chunks that are "lost": TCP retransmits them, so the application
 *              sees them late, never missing; such a chunk waits rto_ms more (default 0)
 *   rto_ms     the retransmission delay of a lost chunk (default 200)
 *   block      comma-separated LISTEN_PORTs whose link is cut: their connections are closed
 *              and new ones refused until the port leaves the list (default none)
 * Chunks of one connection keep their order (a stream cannot reorder); messages on different
 * connections reorder freely because their delays differ. Stops on SIGINT or SIGTERM.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#define MAX_ROUTES 1024

typedef struct {
    uint64_t delay_ms, jitter_ms, loss_pct, rto_ms;
    uint16_t blocked[MAX_ROUTES];
    size_t n_blocked;
} params;

typedef struct chunk {
    struct chunk *next;
    uint64_t due;
    size_t len;
    uint8_t data[];
} chunk;

struct conn;
typedef struct {
    struct conn *c;
    struct bufferevent *from, *to;
    chunk *head, *tail;
    uint64_t last_due;
    struct event *timer;
} direction;

typedef struct conn {
    struct conn *next, *prev;
    struct route *r;
    struct bufferevent *a, *b; /* a: accepted side, b: towards the target */
    direction ab, ba;
    int connected;
} conn;

typedef struct route {
    uint16_t listen_port;
    struct sockaddr_in target;
    struct evconnlistener *lis;
    conn *conns;
} route;

static struct event_base *base;
static route routes[MAX_ROUTES];
static size_t n_routes;
static params P = {0, 0, 0, 200, {0}, 0};
static const char *config_path;
static struct timespec config_mtime;
static off_t config_size = -1;
static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t rnd(uint64_t below) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return below ? rng % below : 0;
}

static int is_blocked(const route *r) {
    for (size_t i = 0; i < P.n_blocked; i++)
        if (P.blocked[i] == r->listen_port)
            return 1;
    return 0;
}

static void dir_free(direction *d) {
    while (d->head) {
        chunk *n = d->head->next;
        free(d->head);
        d->head = n;
    }
    if (d->timer)
        event_free(d->timer);
}

static void conn_close(conn *c) {
    if (c->prev)
        c->prev->next = c->next;
    else
        c->r->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    dir_free(&c->ab);
    dir_free(&c->ba);
    if (c->a)
        bufferevent_free(c->a);
    if (c->b)
        bufferevent_free(c->b);
    free(c);
}

static void arm(direction *d) {
    if (!d->head)
        return;
    uint64_t now = now_ms();
    uint64_t wait = d->head->due > now ? d->head->due - now : 0;
    struct timeval tv = {(time_t)(wait / 1000), (suseconds_t)(wait % 1000) * 1000};
    evtimer_add(d->timer, &tv);
}

static void on_due(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    direction *d = arg;
    uint64_t now = now_ms();
    while (d->head && d->head->due <= now) {
        chunk *c = d->head;
        d->head = c->next;
        if (!d->head)
            d->tail = NULL;
        bufferevent_write(d->to, c->data, c->len);
        free(c);
    }
    arm(d);
}

static void pump(direction *d) {
    struct evbuffer *in = bufferevent_get_input(d->from);
    size_t len = evbuffer_get_length(in);
    if (len == 0)
        return;
    chunk *c = malloc(sizeof *c + len);
    if (!c) {
        conn_close(d->c);
        return;
    }
    evbuffer_remove(in, c->data, len);
    c->len = len;
    c->next = NULL;
    uint64_t due = now_ms() + P.delay_ms + rnd(P.jitter_ms + 1);
    if (P.loss_pct && rnd(100) < P.loss_pct)
        due += P.rto_ms;
    if (due < d->last_due)
        due = d->last_due; /* a stream keeps its order */
    d->last_due = due;
    c->due = due;
    int was_empty = d->head == NULL;
    if (d->tail)
        d->tail->next = c;
    else
        d->head = c;
    d->tail = c;
    if (was_empty)
        arm(d);
}

static void on_read(struct bufferevent *bev, void *arg) {
    conn *c = arg;
    pump(bev == c->a ? &c->ab : &c->ba);
}

static void on_event(struct bufferevent *bev, short what, void *arg) {
    conn *c = arg;
    if (what & BEV_EVENT_CONNECTED) {
        c->connected = 1;
        bufferevent_enable(c->a, EV_READ);
        (void)bev;
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        conn_close(c);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
                      void *arg) {
    (void)l;
    (void)sa;
    (void)len;
    route *r = arg;
    if (is_blocked(r)) {
        evutil_closesocket(fd);
        return;
    }
    conn *c = calloc(1, sizeof *c);
    if (!c) {
        evutil_closesocket(fd);
        return;
    }
    c->r = r;
    c->a = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    c->b = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    c->ab = (direction){c, c->a, c->b, NULL, NULL, 0, NULL};
    c->ba = (direction){c, c->b, c->a, NULL, NULL, 0, NULL};
    c->ab.timer = evtimer_new(base, on_due, &c->ab);
    c->ba.timer = evtimer_new(base, on_due, &c->ba);
    c->next = r->conns;
    if (r->conns)
        r->conns->prev = c;
    r->conns = c;
    if (!c->a || !c->b || !c->ab.timer || !c->ba.timer) {
        conn_close(c);
        return;
    }
    bufferevent_setcb(c->a, on_read, NULL, on_event, c);
    bufferevent_setcb(c->b, on_read, NULL, on_event, c);
    bufferevent_enable(c->b, EV_READ);
    if (bufferevent_socket_connect(c->b, (struct sockaddr *)&r->target, sizeof r->target) < 0)
        conn_close(c);
}

/* Reads the config file if it changed; closes the connections of newly blocked routes. */
static void load_config(void) {
    if (!config_path)
        return;
    struct stat st;
    if (stat(config_path, &st) != 0 ||
        (st.st_mtim.tv_sec == config_mtime.tv_sec && st.st_mtim.tv_nsec == config_mtime.tv_nsec &&
         st.st_size == config_size))
        return;
    config_mtime = st.st_mtim;
    config_size = st.st_size;
    FILE *f = fopen(config_path, "r");
    if (!f)
        return;
    params np = {0, 0, 0, 200, {0}, 0};
    char line[8192];
    while (fgets(line, sizeof line, f)) {
        char key[64], val[8000];
        if (line[0] == '#' || sscanf(line, " %63[a-z_] = %7999[^\n]", key, val) != 2)
            continue;
        uint64_t v = strtoull(val, NULL, 10);
        if (strcmp(key, "delay_ms") == 0)
            np.delay_ms = v;
        else if (strcmp(key, "jitter_ms") == 0)
            np.jitter_ms = v;
        else if (strcmp(key, "loss_pct") == 0)
            np.loss_pct = v > 100 ? 100 : v;
        else if (strcmp(key, "rto_ms") == 0)
            np.rto_ms = v;
        else if (strcmp(key, "block") == 0)
            for (char *p = strtok(val, ", "); p && np.n_blocked < MAX_ROUTES; p = strtok(NULL, ", "))
                np.blocked[np.n_blocked++] = (uint16_t)strtoul(p, NULL, 10);
    }
    fclose(f);
    P = np;
    fprintf(stderr, "cnproxy: delay %llu ms, jitter %llu ms, loss %llu%%, %zu links cut\n",
            (unsigned long long)P.delay_ms, (unsigned long long)P.jitter_ms,
            (unsigned long long)P.loss_pct, P.n_blocked);
    for (size_t i = 0; i < n_routes; i++)
        if (is_blocked(&routes[i]))
            while (routes[i].conns)
                conn_close(routes[i].conns);
}

static void on_poll(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    (void)arg;
    load_config();
}

static void on_signal(evutil_socket_t sig, short what, void *arg) {
    (void)sig;
    (void)what;
    (void)arg;
    event_base_loopbreak(base);
}

static int parse_route(const char *s, route *r) {
    unsigned lp, tp;
    char ip[64];
    if (sscanf(s, "%u:%63[0-9.]:%u", &lp, ip, &tp) != 3 || lp == 0 || lp > 65535 || tp == 0 ||
        tp > 65535)
        return 0;
    memset(r, 0, sizeof *r);
    r->listen_port = (uint16_t)lp;
    r->target.sin_family = AF_INET;
    r->target.sin_port = htons((uint16_t)tp);
    return inet_pton(AF_INET, ip, &r->target.sin_addr) == 1;
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    base = event_base_new();
    if (!base)
        return 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            config_path = argv[++i];
            continue;
        }
        if (strcmp(argv[i], "--help") == 0) {
            printf("usage: cnproxy [--config FILE] LISTEN_PORT:TARGET_IP:TARGET_PORT ...\n");
            return 0;
        }
        if (n_routes == MAX_ROUTES || !parse_route(argv[i], &routes[n_routes])) {
            fprintf(stderr, "cnproxy: bad route '%s' (LISTEN_PORT:TARGET_IP:TARGET_PORT)\n",
                    argv[i]);
            return 2;
        }
        n_routes++;
    }
    for (size_t i = 0; i < n_routes; i++) {
        struct sockaddr_in a;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_port = htons(routes[i].listen_port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        routes[i].lis = evconnlistener_new_bind(base, on_accept, &routes[i],
                                                LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 64,
                                                (struct sockaddr *)&a, sizeof a);
        if (!routes[i].lis) {
            fprintf(stderr, "cnproxy: cannot listen on 127.0.0.1:%u: %s\n",
                    (unsigned)routes[i].listen_port, strerror(errno));
            return 1;
        }
    }
    load_config();
    struct event *poll_ev = event_new(base, -1, EV_PERSIST, on_poll, NULL);
    struct event *si = evsignal_new(base, SIGINT, on_signal, NULL);
    struct event *st = evsignal_new(base, SIGTERM, on_signal, NULL);
    struct timeval tv = {0, 200000};
    event_add(poll_ev, &tv);
    event_add(si, NULL);
    event_add(st, NULL);
    fprintf(stderr, "cnproxy: %zu routes\n", n_routes);
    event_base_dispatch(base);
    for (size_t i = 0; i < n_routes; i++) {
        while (routes[i].conns)
            conn_close(routes[i].conns);
        evconnlistener_free(routes[i].lis);
    }
    event_free(poll_ev);
    event_free(si);
    event_free(st);
    event_base_free(base);
    return 0;
}
