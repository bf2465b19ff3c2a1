/* A minimal blocking HTTP/1.1 client for clearload: one keep-alive connection per thread,
 * requests with Content-Length bodies, responses with Content-Length (what node/rpc sends).
 * Every request has a deadline (connect, send and the whole answer) and every answer a size
 * cap, so a stopped, paused or misbehaving node costs at most timeout_ms and bounded memory. */
#ifndef CLEARNODE_NODE_CMD_CLEARLOAD_HTTP_H
#define CLEARNODE_NODE_CMD_CLEARLOAD_HTTP_H

#include <stddef.h>
#include <stdint.h>

/* Largest status line plus headers, and largest body, accepted in an answer. */
#define CL_HTTP_MAX_HEAD 16384u
#define CL_HTTP_MAX_BODY (64u << 20)
/* Default deadline of one request. */
#define CL_HTTP_TIMEOUT_MS 60000

typedef struct {
    char host[256];
    uint16_t port;
    int fd;
    int timeout_ms; /* deadline of one request (connect, send, answer) */
} cl_http;

/* Parses "http://host:port" (a trailing "/" allowed, nothing else after the port); sets the
 * default deadline. Returns 1 or 0. */
int cl_http_parse_url(cl_http *c, const char *url);
/* Sends a request and reads the response body into a malloc'd NUL-terminated *body (caller
 * frees). Reconnects once if a kept-alive connection turned out closed. Returns the HTTP
 * status, or -1 on a connection error, a timeout or an answer over the caps. */
int cl_http_do(cl_http *c, const char *method, const char *path, const char *ctype,
               const uint8_t *data, size_t len, char **body, size_t *blen);
void cl_http_close(cl_http *c);

#endif
