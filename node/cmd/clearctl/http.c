/* Blocking HTTP client with a deadline. See http.h. */
#include "node/cmd/clearctl/http.h"

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

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left until the deadline (0 when passed). */
static int left(int64_t deadline) {
    int64_t l = deadline - now_ms();
    return l <= 0 ? 0 : (int)l;
}

int clearctl_http_parse_url(const char *url, char *host, size_t host_cap, char *port,
                            size_t port_cap, char *err, size_t err_cap) {
    const char *p = url;
    if (url == NULL || strncmp(url, "http://", 7) != 0) {
        snprintf(err, err_cap, "node URL must start with http:// (got '%s')", url ? url : "");
        return 0;
    }
    p += 7;
    const char *hs = p, *he;
    if (*p == '[') {
        hs = ++p;
        he = strchr(p, ']');
        if (he == NULL) {
            snprintf(err, err_cap, "node URL has an unterminated [IPv6] host");
            return 0;
        }
        p = he + 1;
    } else {
        while (*p && *p != ':' && *p != '/')
            p++;
        he = p;
    }
    size_t hl = (size_t)(he - hs);
    if (hl == 0 || hl >= host_cap) {
        snprintf(err, err_cap, "node URL has an empty or too long host");
        return 0;
    }
    for (const char *c = hs; c < he; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '.' || *c == '-' || *c == ':')) {
            snprintf(err, err_cap, "node URL host has an invalid character");
            return 0;
        }
    }
    memcpy(host, hs, hl);
    host[hl] = '\0';
    const char *ps = "80";
    size_t pl = 2;
    if (*p == ':') {
        ps = ++p;
        unsigned v = 0;
        while (*p >= '0' && *p <= '9' && v <= 65535)
            v = v * 10 + (unsigned)(*p++ - '0');
        pl = (size_t)(p - ps);
        if (pl == 0 || pl > 5 || v == 0 || v > 65535) {
            snprintf(err, err_cap, "node URL has an invalid port");
            return 0;
        }
    }
    if (!(*p == '\0' || (p[0] == '/' && p[1] == '\0'))) {
        snprintf(err, err_cap, "node URL must be http://HOST:PORT with no path");
        return 0;
    }
    if (pl >= port_cap) {
        snprintf(err, err_cap, "node URL port too long");
        return 0;
    }
    memcpy(port, ps, pl);
    port[pl] = '\0';
    return 1;
}

/* Connects to the first address that answers before the deadline. Returns the fd or -1. */
static int dial(const char *host, const char *port, int64_t deadline, char *err, size_t cap) {
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, cap, "cannot resolve %s: %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1, last = 0;
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            last = errno;
            continue;
        }
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
            last = errno;
            close(fd);
            fd = -1;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            if (errno != EINPROGRESS) {
                last = errno;
                close(fd);
                fd = -1;
                continue;
            }
            struct pollfd pf = {fd, POLLOUT, 0};
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            if (poll(&pf, 1, left(deadline)) != 1 ||
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
                last = soerr ? soerr : ETIMEDOUT;
                close(fd);
                fd = -1;
            }
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(err, cap, "cannot connect to %s:%s: %s", host, port, strerror(last));
    return fd;
}

static int send_all(int fd, const uint8_t *p, size_t len, int64_t deadline) {
    while (len > 0) {
        struct pollfd pf = {fd, POLLOUT, 0};
        if (poll(&pf, 1, left(deadline)) != 1)
            return 0;
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n <= 0)
            return 0;
        p += n;
        len -= (size_t)n;
    }
    return 1;
}

/* Reads until the peer closes, up to `cap` bytes. Returns the length, or -1 on timeout,
 * error or overflow. */
static long read_all(int fd, uint8_t **out, size_t cap, int64_t deadline) {
    size_t len = 0, alloc = 8192;
    uint8_t *buf = malloc(alloc + 1);
    if (buf == NULL)
        return -1;
    for (;;) {
        if (len == alloc) {
            if (alloc >= cap) {
                free(buf);
                return -1;
            }
            alloc = alloc * 2 > cap ? cap : alloc * 2;
            uint8_t *nb = realloc(buf, alloc + 1);
            if (nb == NULL) {
                free(buf);
                return -1;
            }
            buf = nb;
        }
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, left(deadline)) != 1) {
            free(buf);
            return -1;
        }
        ssize_t n = recv(fd, buf + len, alloc - len, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n < 0) {
            free(buf);
            return -1;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = 0;
    *out = buf;
    return (long)len;
}

/* Finds header `name` in the head (between the status line and the blank line) and copies
 * its trimmed value. Returns 1 if present. */
static int header(const char *head, const char *name, char *val, size_t cap) {
    size_t nl = strlen(name);
    for (const char *line = strstr(head, "\r\n"); line != NULL; line = strstr(line, "\r\n")) {
        line += 2;
        if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            const char *e = strstr(v, "\r\n");
            size_t l = e ? (size_t)(e - v) : strlen(v);
            while (l > 0 && (v[l - 1] == ' ' || v[l - 1] == '\t'))
                l--;
            if (l >= cap)
                l = cap - 1;
            memcpy(val, v, l);
            val[l] = '\0';
            return 1;
        }
    }
    return 0;
}

/* Splits a raw response into status, content type and body. */
static int parse_response(uint8_t *raw, size_t len, clearctl_http_resp *out, char *err,
                          size_t cap) {
    char *text = (char *)raw;
    char *end = NULL;
    size_t lim = len < CLEARCTL_HTTP_MAX_HEAD ? len : CLEARCTL_HTTP_MAX_HEAD;
    for (size_t i = 0; i + 3 < lim; i++) {
        if (memcmp(text + i, "\r\n\r\n", 4) == 0) {
            end = text + i;
            break;
        }
    }
    if (len < 12 || strncmp(text, "HTTP/1.", 7) != 0 || end == NULL || text[8] != ' ' ||
        text[9] < '1' || text[9] > '5' || text[10] < '0' || text[10] > '9' || text[11] < '0' ||
        text[11] > '9') {
        snprintf(err, cap, "the node's answer is not an HTTP response");
        return 0;
    }
    out->status = (text[9] - '0') * 100 + (text[10] - '0') * 10 + (text[11] - '0');
    size_t head_len = (size_t)(end - text);
    char *head = malloc(head_len + 1);
    if (head == NULL) {
        snprintf(err, cap, "out of memory");
        return 0;
    }
    memcpy(head, text, head_len);
    head[head_len] = '\0';
    char val[64];
    if (header(head, "Transfer-Encoding", val, sizeof val)) {
        free(head);
        snprintf(err, cap, "the node sent a chunked response, which clearctl does not accept");
        return 0;
    }
    size_t body_off = head_len + 4, body_len = len - body_off;
    if (header(head, "Content-Length", val, sizeof val)) {
        char *e = NULL;
        errno = 0;
        unsigned long long cl = strtoull(val, &e, 10);
        if (val[0] < '0' || val[0] > '9' || *e != '\0' || errno != 0 || cl != body_len) {
            free(head);
            snprintf(err, cap, "the node's answer is truncated or has a bad Content-Length");
            return 0;
        }
    }
    if (!header(head, "Content-Type", out->content_type, sizeof out->content_type))
        out->content_type[0] = '\0';
    free(head);
    out->body = malloc(body_len + 1);
    if (out->body == NULL) {
        snprintf(err, cap, "out of memory");
        return 0;
    }
    memcpy(out->body, raw + body_off, body_len);
    out->body[body_len] = 0;
    out->len = body_len;
    return 1;
}

static const char *extra_headers = "";

void clearctl_http_set_extra_headers(const char *lines) {
    extra_headers = lines ? lines : "";
}

int clearctl_http(const char *url, const char *method, const char *path,
                  const char *content_type, const uint8_t *body, size_t body_len,
                  clearctl_http_resp *out, char *err, size_t err_cap) {
    memset(out, 0, sizeof *out);
    char host[256], port[8];
    if (!clearctl_http_parse_url(url, host, sizeof host, port, sizeof port, err, err_cap))
        return 0;
    int64_t deadline = now_ms() + CLEARCTL_HTTP_TIMEOUT_MS;
    int fd = dial(host, port, deadline, err, err_cap);
    if (fd < 0)
        return 0;
    char head[1024];
    int n = snprintf(head, sizeof head,
                     "%s %s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: clearctl\r\n"
                     "Accept: application/json, application/x-protobuf\r\nConnection: close\r\n"
                     "%s%s%s%sContent-Length: %zu\r\n\r\n",
                     method, path, host, port, content_type ? "Content-Type: " : "",
                     content_type ? content_type : "", content_type ? "\r\n" : "",
                     extra_headers, body_len);
    if (n < 0 || (size_t)n >= sizeof head) {
        close(fd);
        snprintf(err, err_cap, "request too long");
        return 0;
    }
    uint8_t *raw = NULL;
    long got = -1;
    if (send_all(fd, (const uint8_t *)head, (size_t)n, deadline) &&
        (body_len == 0 || send_all(fd, body, body_len, deadline)))
        got = read_all(fd, &raw, CLEARCTL_HTTP_MAX_HEAD + CLEARCTL_HTTP_MAX_BODY, deadline);
    else if (left(deadline) > 0)
        /* The node may answer (413) and close before taking the whole body. */
        got = read_all(fd, &raw, CLEARCTL_HTTP_MAX_HEAD + CLEARCTL_HTTP_MAX_BODY, deadline);
    close(fd);
    if (got < 0) {
        snprintf(err, err_cap, "no complete answer from %s:%s within %d s (or it was too large)",
                 host, port, CLEARCTL_HTTP_TIMEOUT_MS / 1000);
        return 0;
    }
    int ok = parse_response(raw, (size_t)got, out, err, err_cap);
    free(raw);
    return ok;
}

void clearctl_http_free(clearctl_http_resp *r) {
    if (r == NULL)
        return;
    free(r->body);
    r->body = NULL;
    r->len = 0;
}
