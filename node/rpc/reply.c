/* Building answers: JSON bodies, the error shape, raw bytes. See internal.h.
 *
 * Every error is {"error":{"code":"...","message":"..."}} (plus "hash" when a rejected
 * transaction's id is known). Messages can come from the node with arbitrary bytes, so they
 * are reduced to printable ASCII before going into JSON; if building JSON fails (out of
 * memory) a fixed 500 body is sent instead.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "node/rpc/internal.h"

#define MSG_MAX 512

static const char internal_body[] =
    "{\"error\":{\"code\":\"internal\",\"message\":\"internal error\"}}";

void cn_rpc_clean_message(char *dst, size_t cap, const char *src) {
    size_t n = 0;
    if (cap == 0)
        return;
    for (; src != NULL && src[n] != '\0' && n + 1 < cap; n++) {
        unsigned char ch = (unsigned char)src[n];
        dst[n] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
    }
    dst[n] = '\0';
}

static void set_internal(cn_rpc_resp *r) {
    evbuffer_drain(r->body, evbuffer_get_length(r->body));
    evbuffer_add(r->body, internal_body, sizeof internal_body - 1);
    r->status = 500;
    r->content_type = "application/json";
}

void cn_rpc_resp_json(cn_rpc_resp *r, int status, json_t *owned) {
    char *text = owned ? json_dumps(owned, JSON_COMPACT) : NULL;
    json_decref(owned);
    if (text == NULL) {
        set_internal(r);
        return;
    }
    evbuffer_drain(r->body, evbuffer_get_length(r->body));
    if (evbuffer_add(r->body, text, strlen(text)) != 0 || evbuffer_add(r->body, "\n", 1) != 0) {
        free(text);
        set_internal(r);
        return;
    }
    free(text);
    r->status = status;
    r->content_type = "application/json";
}

void cn_rpc_resp_error(cn_rpc_resp *r, int status, const char *code, const char *message,
                       const char *hash_hex) {
    char msg[MSG_MAX];
    cn_rpc_clean_message(msg, sizeof msg, message);
    json_t *err = json_pack("{s:s, s:s}", "code", code, "message", msg);
    if (err != NULL && hash_hex != NULL)
        json_object_set_new(err, "hash", json_string(hash_hex));
    json_t *o = err ? json_pack("{s:o}", "error", err) : NULL;
    cn_rpc_resp_json(r, status, o);
}

void cn_rpc_resp_api_error(cn_rpc_resp *r, cn_rpc_err e, const char *message) {
    cn_rpc_resp_error(r, cn_rpc_err_status(e), cn_rpc_err_name(e),
                      message ? message : cn_rpc_err_message(e), NULL);
}

void cn_rpc_resp_bytes(cn_rpc_resp *r, int status, const char *content_type,
                       const uint8_t *data, size_t len) {
    evbuffer_drain(r->body, evbuffer_get_length(r->body));
    if (evbuffer_add(r->body, data, len) != 0) {
        set_internal(r);
        return;
    }
    r->status = status;
    r->content_type = content_type;
}

const char *cn_rpc_reason(int status) {
    switch (status) {
    case 200: return "OK";
    case 202: return "Accepted";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Error";
    }
}
