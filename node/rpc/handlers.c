/* The route handlers: validate the request strictly, ask the backend, build the answer.
 *
 * POST /v1/tx accepts the Signed bytes either raw (application/x-protobuf) or as
 * {"tx":"<base64>"} (application/json, nothing else in the object). Sizes are checked before
 * any parsing: the raw body against CN_CAP_TX, the JSON body against the base64 length of
 * CN_CAP_TX plus a little room for the envelope. Decoding and checking the transaction
 * itself is the backend's job (the mempool's admission checks), so the answer codes for
 * those come from the cn_txerr table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "crypto/encoding.h"
#include "node/rpc/internal.h"
#include "node/rpc/params.h"
#include "proto/codec.h"

#define JSON_ENVELOPE_ROOM 256 /* bytes of JSON around the base64 text */
#define BACKEND_MSG_MAX 256

/* Hands transaction bytes to the backend and turns its verdict into the answer. */
static void submit(const cn_rpc_backend *be, const uint8_t *bytes, size_t len, cn_rpc_resp *r) {
    uint8_t hash[32] = {0};
    char msg[BACKEND_MSG_MAX] = "";
    cn_txerr res = be->submit_tx(be->ctx, bytes, len, hash, msg, sizeof msg);
    msg[sizeof msg - 1] = '\0';
    char hex[65];
    cn_hex_encode(hex, hash, sizeof hash);
    if (res == CN_TX_OK) {
        cn_rpc_resp_json(r, 202, json_pack("{s:s}", "hash", hex));
        return;
    }
    static const uint8_t zero[32] = {0};
    int have_hash = memcmp(hash, zero, sizeof hash) != 0;
    int status = cn_txerr_http_status(res);
    if (status < 400)
        status = 500; /* a backend that fails without a failure status is a server bug */
    cn_rpc_resp_error(r, status, cn_txerr_name(res), msg[0] ? msg : cn_txerr_message(res),
                      have_hash ? hex : NULL);
}

/* Extracts and decodes {"tx":"<base64>"}; answers the error itself and returns 0 on failure. */
static int json_tx(const char *text, size_t len, uint8_t **out, size_t *out_len, cn_rpc_resp *r) {
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        char msg[300];
        snprintf(msg, sizeof msg, "invalid JSON at line %d column %d: %s", jerr.line,
                 jerr.column, jerr.text);
        cn_rpc_resp_api_error(r, CN_RPC_E_INVALID_JSON, msg);
        return 0;
    }
    json_t *tx = json_object_get(root, "tx");
    if (!json_is_object(root) || json_object_size(root) != 1 || !json_is_string(tx)) {
        json_decref(root);
        cn_rpc_resp_api_error(r, CN_RPC_E_INVALID_JSON,
                              "body must be an object with exactly one member, \"tx\", a string");
        return 0;
    }
    const char *b64 = json_string_value(tx);
    size_t b64_len = json_string_length(tx);
    if (b64_len + 1 > cn_b64_encoded_len(CN_CAP_TX)) {
        json_decref(root);
        cn_rpc_resp_api_error(r, CN_RPC_E_TOO_LARGE, "transaction exceeds the size cap");
        return 0;
    }
    uint8_t *buf = malloc(CN_CAP_TX);
    if (buf == NULL) {
        json_decref(root);
        cn_rpc_resp_api_error(r, CN_RPC_E_INTERNAL, NULL);
        return 0;
    }
    size_t n = 0;
    int ok = cn_b64_decode(buf, CN_CAP_TX, &n, b64, b64_len);
    json_decref(root);
    if (!ok) {
        free(buf);
        cn_rpc_resp_api_error(r, CN_RPC_E_INVALID_BASE64, NULL);
        return 0;
    }
    *out = buf;
    *out_len = n;
    return 1;
}

void cn_rpc_handle_tx_submit(const cn_rpc_backend *be, const char *content_type,
                             struct evbuffer *body, cn_rpc_resp *r) {
    cn_rpc_body_kind kind = cn_rpc_parse_content_type(content_type);
    size_t len = evbuffer_get_length(body);
    if (kind == CN_RPC_BODY_UNSUPPORTED) {
        cn_rpc_resp_api_error(r, CN_RPC_E_MEDIA_TYPE, NULL);
        return;
    }
    if (be->submit_tx == NULL) {
        cn_rpc_resp_api_error(r, CN_RPC_E_UNAVAILABLE, "this node does not accept transactions");
        return;
    }
    size_t cap = kind == CN_RPC_BODY_PROTOBUF ? CN_CAP_TX
                                              : cn_b64_encoded_len(CN_CAP_TX) + JSON_ENVELOPE_ROOM;
    if (len > cap) {
        cn_rpc_resp_api_error(r, CN_RPC_E_TOO_LARGE, kind == CN_RPC_BODY_PROTOBUF
                                                         ? "transaction exceeds the size cap"
                                                         : "request body exceeds the size cap");
        return;
    }
    if (len == 0) {
        cn_rpc_resp_error(r, cn_txerr_http_status(CN_TX_MALFORMED), cn_txerr_name(CN_TX_MALFORMED),
                          "empty body", NULL);
        return;
    }
    const uint8_t *data = evbuffer_pullup(body, (ev_ssize_t)len);
    if (data == NULL) {
        cn_rpc_resp_api_error(r, CN_RPC_E_INTERNAL, NULL);
        return;
    }
    if (kind == CN_RPC_BODY_PROTOBUF) {
        submit(be, data, len, r);
        return;
    }
    uint8_t *tx = NULL;
    size_t tx_len = 0;
    if (!json_tx((const char *)data, len, &tx, &tx_len, r))
        return;
    if (tx_len == 0)
        cn_rpc_resp_error(r, cn_txerr_http_status(CN_TX_MALFORMED),
                          cn_txerr_name(CN_TX_MALFORMED), "empty transaction", NULL);
    else
        submit(be, tx, tx_len, r);
    free(tx);
}

/* Answers 200 with `obj`, or 404 with `what` when the backend found nothing. */
static void answer(cn_rpc_resp *r, json_t *obj, const char *what) {
    if (obj == NULL)
        cn_rpc_resp_api_error(r, CN_RPC_E_NOT_FOUND, what);
    else
        cn_rpc_resp_json(r, 200, obj);
}

void cn_rpc_handle_tx_get(const cn_rpc_backend *be, const char *param, cn_rpc_resp *r) {
    uint8_t hash[32];
    if (!cn_rpc_parse_hex32(param, hash)) {
        cn_rpc_resp_api_error(r, CN_RPC_E_INVALID_HASH, NULL);
        return;
    }
    if (be->get_tx == NULL) {
        cn_rpc_resp_api_error(r, CN_RPC_E_UNAVAILABLE, NULL);
        return;
    }
    answer(r, be->get_tx(be->ctx, hash), "no committed transaction with this hash");
}

void cn_rpc_handle_account(const cn_rpc_backend *be, const char *param, cn_rpc_resp *r) {
    uint8_t key[32];
    if (!cn_rpc_parse_hex32(param, key)) {
        cn_rpc_resp_api_error(r, CN_RPC_E_INVALID_PUBKEY, NULL);
        return;
    }
    if (be->get_account == NULL) {
        cn_rpc_resp_api_error(r, CN_RPC_E_UNAVAILABLE, NULL);
        return;
    }
    answer(r, be->get_account(be->ctx, key), "no account with this public key");
}

void cn_rpc_handle_margin(const cn_rpc_backend *be, const char *param, cn_rpc_resp *r) {
    uint8_t key[32];
    if (!cn_rpc_parse_hex32(param, key)) {
        cn_rpc_resp_api_error(r, CN_RPC_E_INVALID_PUBKEY, NULL);
        return;
    }
    if (be->get_margin == NULL) {
        cn_rpc_resp_api_error(r, CN_RPC_E_UNAVAILABLE, NULL);
        return;
    }
    answer(r, be->get_margin(be->ctx, key), "no margin account for this public key");
}

void cn_rpc_handle_validators(const cn_rpc_backend *be, const char *param, cn_rpc_resp *r) {
    uint64_t height;
    if (!cn_rpc_parse_height(param, &height)) {
        cn_rpc_resp_api_error(r, CN_RPC_E_INVALID_HEIGHT, NULL);
        return;
    }
    if (be->get_validators == NULL) {
        cn_rpc_resp_api_error(r, CN_RPC_E_UNAVAILABLE, NULL);
        return;
    }
    answer(r, be->get_validators(be->ctx, height),
           "no final validator set at this height (above the committed height + 1)");
}

void cn_rpc_handle_block(const cn_rpc_backend *be, const char *param, const char *query,
                         cn_rpc_resp *r) {
    uint64_t height;
    cn_rpc_format fmt;
    if (!cn_rpc_parse_height(param, &height)) {
        cn_rpc_resp_api_error(r, CN_RPC_E_INVALID_HEIGHT, NULL);
        return;
    }
    if (!cn_rpc_parse_block_query(query, &fmt)) {
        cn_rpc_resp_api_error(r, CN_RPC_E_INVALID_QUERY,
                              "the only query accepted is format=json or format=proto");
        return;
    }
    if (fmt == CN_RPC_FMT_JSON) {
        if (be->get_block == NULL)
            cn_rpc_resp_api_error(r, CN_RPC_E_UNAVAILABLE, NULL);
        else
            answer(r, be->get_block(be->ctx, height), "no block at this height");
        return;
    }
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (be->get_block_raw == NULL) {
        cn_rpc_resp_api_error(r, CN_RPC_E_UNAVAILABLE, NULL);
        return;
    }
    if (!be->get_block_raw(be->ctx, height, &bytes, &len)) {
        free(bytes);
        cn_rpc_resp_api_error(r, CN_RPC_E_NOT_FOUND, "no block at this height");
        return;
    }
    cn_rpc_resp_bytes(r, 200, "application/x-protobuf", bytes, len);
    free(bytes);
}

void cn_rpc_handle_status(const cn_rpc_backend *be, cn_rpc_resp *r) {
    json_t *st = be->get_status ? be->get_status(be->ctx) : NULL;
    if (st == NULL)
        cn_rpc_resp_api_error(r, CN_RPC_E_UNAVAILABLE, "node status is not available");
    else
        cn_rpc_resp_json(r, 200, st);
}

void cn_rpc_handle_metrics(const cn_rpc_backend *be, const cn_rpc_metrics *m, cn_rpc_resp *r) {
    evbuffer_drain(r->body, evbuffer_get_length(r->body));
    if (be->write_metrics != NULL)
        be->write_metrics(be->ctx, r->body);
    cn_rpc_metrics_write(m, r->body);
    r->status = 200;
    r->content_type = "text/plain; version=0.0.4; charset=utf-8";
}
