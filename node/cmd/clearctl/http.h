/* A small blocking HTTP/1.1 client for clearctl's talks with a node.
 *
 * One request per connection (Connection: close), plain http:// only. Everything is bounded:
 * a total deadline covers resolving, connecting, sending and reading; the response head is
 * capped at CLEARCTL_HTTP_MAX_HEAD and the body at CLEARCTL_HTTP_MAX_BODY; a body shorter than
 * its Content-Length is an error, never a silently truncated answer. Chunked responses are
 * refused (the node never sends them).
 */
#ifndef CLEARNODE_CLEARCTL_HTTP_H
#define CLEARNODE_CLEARCTL_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define CLEARCTL_HTTP_MAX_HEAD ((size_t)16 * 1024)
#define CLEARCTL_HTTP_MAX_BODY ((size_t)64 * 1024 * 1024)
#define CLEARCTL_HTTP_TIMEOUT_MS 10000

typedef struct {
    int status;
    char content_type[128];
    uint8_t *body; /* NUL-terminated for convenience; len excludes the NUL */
    size_t len;
} clearctl_http_resp;

/* Checks a node URL: http://HOST[:PORT][/] with HOST a name, IPv4 or [IPv6].
 * Returns 1 and fills host/port, or 0 with a reason in err. */
int clearctl_http_parse_url(const char *url, char *host, size_t host_cap, char *port,
                            size_t port_cap, char *err, size_t err_cap);

/* Sends one request to `url` + `path` and reads the answer (any status).
 * Returns 1 with *out filled (free with clearctl_http_free), or 0 with a reason in err when
 * the node could not be reached or answered something that is not a valid HTTP response. */
int clearctl_http(const char *url, const char *method, const char *path,
                  const char *content_type, const uint8_t *body, size_t body_len,
                  clearctl_http_resp *out, char *err, size_t err_cap);

void clearctl_http_free(clearctl_http_resp *r);

/* Extra header lines (each ending in CRLF) sent with every following request; NULL clears. */
void clearctl_http_set_extra_headers(const char *lines);

#endif
