/* clearaudit: a minimal blocking HTTP/1.1 client for verify-chain.
 *
 * One GET per connection ("Connection: close"), http:// only, IPv4 or IPv6 through
 * getaddrinfo. Every wait is bounded by one deadline (connect, send and receive use poll), the
 * response (head + body) is capped, and the body is taken by Content-Length, chunked encoding
 * or end of stream. Nothing here trusts the node: the caller verifies what it gets.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "node/cmd/clearaudit/clearaudit.h"

#define HEAD_MAX 16384

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for `events` on fd until the deadline. Returns 1 when ready, 0 on timeout/error. */
static int wait_fd(int fd, short events, int64_t deadline) {
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {fd, events, 0};
        int r = poll(&p, 1, (int)(left > 60000 ? 60000 : left));
        if (r > 0)
            return 1;
        if (r < 0 && errno != EINTR)
            return 0;
    }
}

/* Splits "http://host[:port][/prefix]". */
static int parse_url(const char *url, char *host, size_t hcap, char *port, size_t pcap,
                     char *prefix, size_t xcap) {
    if (strncmp(url, "http://", 7) != 0)
        return 0;
    const char *h = url + 7, *slash = strchr(h, '/');
    size_t hl = slash ? (size_t)(slash - h) : strlen(h);
    char hp[256];
    if (hl == 0 || hl >= sizeof hp)
        return 0;
    memcpy(hp, h, hl);
    hp[hl] = 0;
    snprintf(prefix, xcap, "%s", slash ? slash : "");
    size_t pl = strlen(prefix);
    if (pl && prefix[pl - 1] == '/')
        prefix[pl - 1] = 0;
    char *colon = NULL;
    if (hp[0] == '[') { /* [v6]:port */
        char *end = strchr(hp, ']');
        if (!end)
            return 0;
        *end = 0;
        colon = end[1] == ':' ? end + 1 : NULL;
        snprintf(host, hcap, "%s", hp + 1);
    } else {
        colon = strrchr(hp, ':');
        if (colon)
            *colon = 0;
        snprintf(host, hcap, "%s", hp);
    }
    snprintf(port, pcap, "%s", colon ? colon + 1 : "80");
    return host[0] && port[0];
}

static int connect_to(const char *host, const char *port, int64_t deadline, char *err,
                      size_t cap) {
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0) {
        snprintf(err, cap, "%s: %s", host, gai_strerror(gai));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0)
            continue;
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        int soerr = errno;
        socklen_t sl = sizeof soerr;
        if (soerr == EINPROGRESS && wait_fd(fd, POLLOUT, deadline) &&
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
            break;
        snprintf(err, cap, "connect to %s:%s: %s", host, port,
                 soerr == EINPROGRESS ? "timed out" : strerror(soerr));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static int send_all(int fd, const char *buf, size_t len, int64_t deadline) {
    while (len) {
        if (!wait_fd(fd, POLLOUT, deadline))
            return 0;
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n <= 0)
            return 0;
        buf += n;
        len -= (size_t)n;
    }
    return 1;
}

/* Decodes a chunked body in place. Returns the body length, or -1 if malformed. */
static long dechunk(uint8_t *b, size_t len) {
    size_t in = 0, out = 0;
    for (;;) {
        char *end;
        if (in >= len)
            return -1;
        unsigned long n = strtoul((const char *)b + in, &end, 16);
        const uint8_t *crlf = memchr(b + in, '\n', len - in);
        if (!crlf || (const uint8_t *)end == b + in)
            return -1;
        in = (size_t)(crlf - b) + 1;
        if (n == 0)
            return (long)out;
        if (n > len - in || len - in - n < 2)
            return -1;
        memmove(b + out, b + in, n);
        out += n;
        in += n + 2;
    }
}

int ca_http_get(const char *base_url, const char *path, size_t cap, unsigned timeout_ms,
                uint8_t **body, size_t *blen, int *status, char *err, size_t err_cap) {
    *body = NULL;
    *blen = 0;
    char host[256], port[16], prefix[256];
    if (!parse_url(base_url, host, sizeof host, port, sizeof port, prefix, sizeof prefix)) {
        snprintf(err, err_cap, "%s: expected http://host[:port][/prefix]", base_url);
        return 0;
    }
    int64_t deadline = now_ms() + timeout_ms;
    int fd = connect_to(host, port, deadline, err, err_cap);
    if (fd < 0)
        return 0;
    char req[1024];
    int rl = snprintf(req, sizeof req,
                      "GET %s%s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: clearaudit\r\n"
                      "Accept: */*\r\nConnection: close\r\n\r\n",
                      prefix, path, host, port);
    if (rl < 0 || (size_t)rl >= sizeof req || !send_all(fd, req, (size_t)rl, deadline)) {
        snprintf(err, err_cap, "%s: sending the request failed or timed out", base_url);
        close(fd);
        return 0;
    }
    size_t room = 65536, n = 0, limit = cap + HEAD_MAX;
    uint8_t *buf = malloc(room + 1);
    int ok = 0;
    while (buf) {
        if (!wait_fd(fd, POLLIN, deadline)) {
            snprintf(err, err_cap, "%s%s: timed out after %u ms", base_url, path, timeout_ms);
            goto out;
        }
        if (n == room) {
            size_t nr = room * 2 > limit ? limit : room * 2;
            if (nr == room) {
                snprintf(err, err_cap, "%s%s: response larger than %zu bytes", base_url, path,
                         limit);
                goto out;
            }
            uint8_t *nb = realloc(buf, nr + 1);
            if (!nb)
                goto out;
            buf = nb;
            room = nr;
        }
        ssize_t got = recv(fd, buf + n, room - n, 0);
        if (got < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (got < 0) {
            snprintf(err, err_cap, "%s%s: %s", base_url, path, strerror(errno));
            goto out;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    if (!buf) {
        snprintf(err, err_cap, "out of memory");
        goto out;
    }
    buf[n] = 0;
    /* Status line and headers. */
    uint8_t *sep = NULL;
    for (size_t i = 0; i + 3 < n && i < HEAD_MAX; i++)
        if (memcmp(buf + i, "\r\n\r\n", 4) == 0) {
            sep = buf + i;
            break;
        }
    int major, minor, code;
    if (!sep || sscanf((const char *)buf, "HTTP/%d.%d %d", &major, &minor, &code) != 3) {
        snprintf(err, err_cap, "%s%s: not an HTTP response", base_url, path);
        goto out;
    }
    *sep = 0;
    size_t off = (size_t)(sep - buf) + 4, len = n - off;
    int chunked = 0;
    long clen = -1;
    for (char *line = strstr((char *)buf, "\r\n"); line; line = strstr(line, "\r\n")) {
        line += 2;
        if (strncasecmp(line, "Content-Length:", 15) == 0)
            clen = strtol(line + 15, NULL, 10);
        else if (strncasecmp(line, "Transfer-Encoding:", 18) == 0 && strstr(line, "chunked"))
            chunked = 1;
    }
    if (chunked) {
        long dl = dechunk(buf + off, len);
        if (dl < 0) {
            snprintf(err, err_cap, "%s%s: malformed chunked body", base_url, path);
            goto out;
        }
        len = (size_t)dl;
    } else if (clen >= 0) {
        if ((size_t)clen > len) {
            snprintf(err, err_cap, "%s%s: body shorter than Content-Length", base_url, path);
            goto out;
        }
        len = (size_t)clen;
    }
    if (len > cap) {
        snprintf(err, err_cap, "%s%s: body larger than %zu bytes", base_url, path, cap);
        goto out;
    }
    *body = malloc(len + 1);
    if (!*body)
        goto out;
    memcpy(*body, buf + off, len);
    (*body)[len] = 0;
    *blen = len;
    *status = code;
    ok = 1;
out:
    free(buf);
    close(fd);
    return ok;
}
