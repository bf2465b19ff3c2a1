/* A minimal blocking HTTP/1.1 client for clearload: one keep-alive connection per thread,
 * requests with Content-Length bodies, responses with Content-Length (what node/rpc sends). */
#ifndef CLEARNODE_NODE_CMD_CLEARLOAD_HTTP_H
#define CLEARNODE_NODE_CMD_CLEARLOAD_HTTP_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char host[256];
    uint16_t port;
    int fd;
} cl_http;

/* Parses "http://host:port" (path ignored). Returns 1 or 0. */
int cl_http_parse_url(cl_http *c, const char *url);
/* Sends a request and reads the response body into a malloc'd NUL-terminated *body (caller
 * frees). Reconnects once if the kept-alive connection was closed. Returns the HTTP status,
 * or -1 on a connection error. */
int cl_http_do(cl_http *c, const char *method, const char *path, const char *ctype,
               const uint8_t *data, size_t len, char **body, size_t *blen);
void cl_http_close(cl_http *c);

#endif
