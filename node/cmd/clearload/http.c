/* Minimal blocking HTTP/1.1 client (see http.h). */
#include "node/cmd/clearload/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

int cl_http_parse_url(cl_http *c, const char *url) {
    memset(c, 0, sizeof *c);
    c->fd = -1;
    if (strncmp(url, "http://", 7) == 0)
        url += 7;
    const char *colon = strchr(url, ':');
    if (!colon || (size_t)(colon - url) >= sizeof c->host)
        return 0;
    memcpy(c->host, url, (size_t)(colon - url));
    long p = strtol(colon + 1, NULL, 10);
    if (p <= 0 || p > 65535)
        return 0;
    c->port = (uint16_t)p;
    return 1;
}

static int do_connect(cl_http *c) {
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    char port[8];
    snprintf(port, sizeof port, "%u", (unsigned)c->port);
    if (getaddrinfo(c->host, port, &hints, &res) != 0)
        return 0;
    int fd = socket(res->ai_family, res->ai_socktype, 0);
    if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return 0;
    }
    freeaddrinfo(res);
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

static int send_all(int fd, const void *p, size_t n) {
    const uint8_t *b = p;
    while (n) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return 0;
        b += w;
        n -= (size_t)w;
    }
    return 1;
}

/* Reads one response. Returns status or -1. */
static int read_response(int fd, char **body, size_t *blen) {
    size_t cap = 4096, have = 0;
    char *buf = malloc(cap + 1);
    if (!buf)
        return -1;
    char *hend = NULL;
    for (;;) {
        if (have == cap) {
            cap *= 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                return -1;
            }
            buf = nb;
        }
        ssize_t r = recv(fd, buf + have, cap - have, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            free(buf);
            return -1;
        }
        have += (size_t)r;
        buf[have] = 0;
        if (!hend && (hend = strstr(buf, "\r\n\r\n")) != NULL) {
            /* Headers complete: find Content-Length. */
        }
        if (hend) {
            size_t hlen = (size_t)(hend - buf) + 4;
            size_t clen = 0;
            for (char *l = strstr(buf, "\r\n"); l && l < hend; l = strstr(l + 2, "\r\n"))
                if (strncasecmp(l + 2, "Content-Length:", 15) == 0)
                    clen = (size_t)strtoul(l + 17, NULL, 10);
            if (have >= hlen + clen) {
                int status = 0;
                if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
                    status = -1;
                char *b = malloc(clen + 1);
                if (b) {
                    memcpy(b, buf + hlen, clen);
                    b[clen] = 0;
                }
                if (body)
                    *body = b;
                else
                    free(b);
                if (blen)
                    *blen = clen;
                free(buf);
                return status;
            }
            size_t need = hlen + clen;
            if (need > cap) {
                /* Keep the header end as an offset: buf is invalid after realloc. */
                size_t hoff = (size_t)(hend - buf);
                char *nb = realloc(buf, need + 1);
                if (!nb) {
                    free(buf);
                    return -1;
                }
                hend = nb + hoff;
                buf = nb;
                cap = need;
            }
        }
    }
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
    for (int attempt = 0; attempt < 2; attempt++) {
        if (c->fd < 0 && !do_connect(c))
            return -1;
        if (send_all(c->fd, head, (size_t)hl) && (!len || send_all(c->fd, data, len))) {
            int st = read_response(c->fd, body, blen);
            if (st >= 0)
                return st;
        }
        cl_http_close(c);
    }
    return -1;
}
