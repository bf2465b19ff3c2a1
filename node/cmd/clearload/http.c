/* Minimal blocking HTTP/1.1 client with a deadline per request (see http.h). */
#include "node/cmd/clearload/http.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Waits until fd is ready for `ev` or the deadline passes. Returns 1 when ready. */
static int ready(int fd, short ev, uint64_t deadline) {
    for (;;) {
        uint64_t now = mono_ms();
        if (now >= deadline)
            return 0;
        struct pollfd pf = {.fd = fd, .events = ev, .revents = 0};
        int r = poll(&pf, 1, (int)(deadline - now));
        if (r > 0)
            return 1;
        if (r == 0 || errno != EINTR)
            return 0;
    }
}

int cl_http_parse_url(cl_http *c, const char *url) {
    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->timeout_ms = CL_HTTP_TIMEOUT_MS;
    if (strncmp(url, "http://", 7) == 0)
        url += 7;
    size_t hl = strcspn(url, ":");
    if (hl == 0 || hl >= sizeof c->host || url[hl] != ':')
        return 0;
    for (size_t i = 0; i < hl; i++) {
        char ch = url[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '-'))
            return 0;
    }
    memcpy(c->host, url, hl);
    const char *p = url + hl + 1;
    unsigned long port = 0;
    size_t digits = 0;
    while (p[digits] >= '0' && p[digits] <= '9' && digits < 6)
        port = port * 10 + (unsigned long)(p[digits++] - '0');
    p += digits;
    if (digits == 0 || port == 0 || port > 65535 || !(p[0] == 0 || (p[0] == '/' && p[1] == 0)))
        return 0;
    c->port = (uint16_t)port;
    return 1;
}

/* Opens a non-blocking connection before the deadline. Returns 1 or 0. */
static int dial(cl_http *c, uint64_t deadline) {
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    char port[8];
    snprintf(port, sizeof port, "%u", (unsigned)c->port);
    if (getaddrinfo(c->host, port, &hints, &res) != 0 || !res)
        return 0;
    int fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int ok = fd >= 0;
    if (ok && connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        ok = errno == EINPROGRESS && ready(fd, POLLOUT, deadline) &&
             getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0;
    }
    freeaddrinfo(res);
    if (!ok) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->fd = fd;
    return 1;
}

void cl_http_close(cl_http *c) {
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static int send_all(int fd, const void *p, size_t n, uint64_t deadline) {
    const uint8_t *b = p;
    while (n) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w < 0 && (errno == EINTR || errno == EAGAIN)) {
            if (errno == EAGAIN && !ready(fd, POLLOUT, deadline))
                return 0;
            continue;
        }
        if (w <= 0)
            return 0;
        b += w;
        n -= (size_t)w;
    }
    return 1;
}

/* Reads at most `room` bytes into buf. Returns the bytes read, 0 when the peer
 * closed, -1 on an error or at the deadline. */
static long recv_some(int fd, char *buf, size_t room, uint64_t deadline) {
    for (;;) {
        ssize_t r = recv(fd, buf, room, 0);
        if (r >= 0)
            return (long)r;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN || !ready(fd, POLLIN, deadline))
            return -1;
    }
}

/* Offset just past "\r\n\r\n" in buf[0..n), or 0 when not there yet. */
static size_t head_end(const char *buf, size_t n) {
    for (size_t i = 3; i < n; i++)
        if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r')
            return i + 1;
    return 0;
}

/* Value of header `name` in a NUL-terminated head, or NULL. */
static const char *header(const char *head, const char *name) {
    size_t nl = strlen(name);
    for (const char *l = strstr(head, "\r\n"); l; l = strstr(l + 2, "\r\n"))
        if (strncasecmp(l + 2, name, nl) == 0 && l[2 + nl] == ':') {
            const char *v = l + 3 + nl;
            while (*v == ' ')
                v++;
            return v;
        }
    return NULL;
}

/* Reads one answer. Returns the status; -1 on an error, a timeout or an answer over the caps;
 * -2 when the peer closed before sending anything (a stale kept-alive connection).
 * *close_after is set when the server asked to close the connection. */
static int read_answer(int fd, uint64_t deadline, char **body, size_t *blen, int *close_after) {
    char head[CL_HTTP_MAX_HEAD + 1];
    size_t have = 0, hlen = 0;
    while (!hlen) {
        if (have == CL_HTTP_MAX_HEAD)
            return -1;
        long r = recv_some(fd, head + have, CL_HTTP_MAX_HEAD - have, deadline);
        if (r <= 0)
            return r == 0 && have == 0 ? -2 : -1;
        have += (size_t)r;
        hlen = head_end(head, have);
    }
    char saved = head[hlen];
    head[hlen] = 0;
    int status = 0;
    if (sscanf(head, "HTTP/1.%*1[01] %3d", &status) != 1 || status < 100)
        return -1;
    const char *cl = header(head, "Content-Length");
    unsigned long long clen = 0;
    if (cl) {
        char *end;
        errno = 0;
        clen = strtoull(cl, &end, 10);
        if (errno || end == cl || (*end != '\r' && *end != ' ') || clen > CL_HTTP_MAX_BODY)
            return -1;
    }
    const char *conn = header(head, "Connection");
    *close_after = conn && strncasecmp(conn, "close", 5) == 0;
    head[hlen] = saved;
    char *b = malloc((size_t)clen + 1);
    if (!b)
        return -1;
    size_t got = have - hlen < clen ? have - hlen : (size_t)clen;
    memcpy(b, head + hlen, got);
    while (got < clen) {
        long r = recv_some(fd, b + got, (size_t)clen - got, deadline);
        if (r <= 0) {
            free(b);
            return -1;
        }
        got += (size_t)r;
    }
    b[clen] = 0;
    if (body)
        *body = b;
    else
        free(b);
    if (blen)
        *blen = (size_t)clen;
    return status;
}

int cl_http_do(cl_http *c, const char *method, const char *path, const char *ctype,
               const uint8_t *data, size_t len, char **body, size_t *blen) {
    if (body)
        *body = NULL;
    char head[512];
    int hl = snprintf(head, sizeof head,
                      "%s %s HTTP/1.1\r\nHost: %s:%u\r\nContent-Type: %s\r\n"
                      "Content-Length: %zu\r\n\r\n",
                      method, path, c->host, (unsigned)c->port, ctype ? ctype : "text/plain",
                      len);
    if (hl < 0 || (size_t)hl >= sizeof head)
        return -1;
    uint64_t deadline = mono_ms() + (uint64_t)(c->timeout_ms > 0 ? c->timeout_ms : 1);
    /* A kept-alive connection the server has closed fails on first use: dial once more. */
    for (int attempt = 0; attempt < 2; attempt++) {
        int reused = c->fd >= 0;
        if (!reused && !dial(c, deadline))
            return -1;
        int st = -1, close_after = 0;
        if (send_all(c->fd, head, (size_t)hl, deadline) &&
            (!len || send_all(c->fd, data, len, deadline)))
            st = read_answer(c->fd, deadline, body, blen, &close_after);
        else if (reused && mono_ms() < deadline)
            st = -2;
        if (st >= 0) {
            if (close_after)
                cl_http_close(c);
            return st;
        }
        cl_http_close(c);
        if (st != -2 || !reused)
            return -1;
    }
    return -1;
}
