/* POST /v1/txs: many transactions in one request.
 *
 * The body (Content-Type application/x-protobuf) is a sequence of length-delimited Signed
 * messages: for each transaction, its byte length as a protobuf varint, then the Signed bytes
 * (the framing of protobuf's writeDelimitedTo). At most CN_RPC_BATCH_MAX transactions, each
 * within CN_CAP_TX, and the whole body within rpc.max_body. A framing error rejects the whole
 * request (400 invalid_batch) before anything is admitted; otherwise every transaction gets
 * its own verdict, in order, exactly as POST /v1/tx would give it, and the answer is 200:
 *   {"accepted": N, "rejected": M,
 *    "results": [{"hash": "...", "code": "ok"},
 *                {"hash": "...", "code": "bad_nonce", "message": "..."}, ...]}
 * The node verifies the signatures of a batch on several threads (docs/architecture.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "crypto/encoding.h"
#include "node/rpc/internal.h"
#include "node/rpc/params.h"
#include "proto/codec.h"

#define BATCH_MSG_MAX 160
#define CN_RPC_BATCH_MAX 10000u /* transactions in one batch (as in one block) */

/* Reads a varint of at most 10 bytes at *pos; returns 0 when truncated or too long. */
static int read_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *out) {
    uint64_t v = 0;
    for (unsigned shift = 0, i = 0; i < 10; i++, shift += 7) {
        if (*pos >= len)
            return 0;
        uint8_t b = p[(*pos)++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 1;
        }
    }
    return 0;
}

/* Splits the body into transactions (pointers into body). Returns the count, or 0 with the
 * error answered. */
static size_t split(const uint8_t *body, size_t len, const uint8_t **txs, size_t *lens,
                    cn_rpc_resp *r) {
    size_t pos = 0, n = 0;
    char msg[160];
    while (pos < len) {
        uint64_t l;
        if (n == CN_RPC_BATCH_MAX) {
            snprintf(msg, sizeof msg, "more than %u transactions in one batch",
                     (unsigned)CN_RPC_BATCH_MAX);
            cn_rpc_resp_error(r, 413, "too_large", msg, NULL);
            return 0;
        }
        if (!read_varint(body, len, &pos, &l)) {
            snprintf(msg, sizeof msg, "transaction %zu: truncated or overlong length varint", n);
            cn_rpc_resp_error(r, 400, "invalid_batch", msg, NULL);
            return 0;
        }
        if (l == 0 || l > CN_CAP_TX) {
            snprintf(msg, sizeof msg, "transaction %zu: length %llu is outside 1..%zu", n,
                     (unsigned long long)l, CN_CAP_TX);
            cn_rpc_resp_error(r, 400, "invalid_batch", msg, NULL);
            return 0;
        }
        if (l > len - pos) {
            snprintf(msg, sizeof msg, "transaction %zu: %llu bytes announced, %zu left", n,
                     (unsigned long long)l, len - pos);
            cn_rpc_resp_error(r, 400, "invalid_batch", msg, NULL);
            return 0;
        }
        txs[n] = body + pos;
        lens[n] = (size_t)l;
        pos += (size_t)l;
        n++;
    }
    if (n == 0)
        cn_rpc_resp_error(r, 400, "invalid_batch", "empty batch", NULL);
    return n;
}

/* The per-transaction verdicts as the JSON answer. */
static json_t *results_json(size_t n, const cn_txerr *codes, const uint8_t (*hashes)[32],
                            const char *msgs) {
    static const uint8_t zero[32] = {0};
    json_t *arr = json_array();
    size_t ok = 0;
    for (size_t i = 0; i < n; i++) {
        char hex[65], clean[BATCH_MSG_MAX];
        json_t *o = json_object();
        if (memcmp(hashes[i], zero, 32) != 0) {
            cn_hex_encode(hex, hashes[i], 32);
            json_object_set_new(o, "hash", json_string(hex));
        } else {
            json_object_set_new(o, "hash", json_null());
        }
        json_object_set_new(o, "code", json_string(cn_txerr_name(codes[i])));
        if (codes[i] == CN_TX_OK) {
            ok++;
        } else {
            const char *m = msgs + i * BATCH_MSG_MAX;
            cn_rpc_clean_message(clean, sizeof clean, m[0] ? m : cn_txerr_message(codes[i]));
            json_object_set_new(o, "message", json_string(clean));
        }
        json_array_append_new(arr, o);
    }
    return json_pack("{s:I, s:I, s:o}", "accepted", (json_int_t)ok, "rejected",
                     (json_int_t)(n - ok), "results", arr);
}

void cn_rpc_handle_txs_submit(const cn_rpc_backend *be, const char *content_type,
                              struct evbuffer *body, cn_rpc_resp *r) {
    if (cn_rpc_parse_content_type(content_type) != CN_RPC_BODY_PROTOBUF) {
        cn_rpc_resp_api_error(r, CN_RPC_E_MEDIA_TYPE,
                              "POST /v1/txs takes application/x-protobuf (length-delimited "
                              "Signed messages)");
        return;
    }
    if (be->submit_txs == NULL) {
        cn_rpc_resp_api_error(r, CN_RPC_E_UNAVAILABLE, "this node does not accept batches");
        return;
    }
    size_t len = evbuffer_get_length(body);
    const uint8_t *data = len ? evbuffer_pullup(body, -1) : NULL;
    if (len == 0 || data == NULL) {
        cn_rpc_resp_error(r, 400, "invalid_batch", "empty batch", NULL);
        return;
    }
    /* Every framed tx takes at least 2 bytes, which bounds the count by the body length. */
    size_t most = len / 2 + 1 < CN_RPC_BATCH_MAX ? len / 2 + 1 : CN_RPC_BATCH_MAX;
    const uint8_t **txs = malloc(most * sizeof *txs);
    size_t *lens = malloc(most * sizeof *lens);
    cn_txerr *codes = NULL;
    uint8_t(*hashes)[32] = NULL;
    char *msgs = NULL;
    if (!txs || !lens) {
        cn_rpc_resp_api_error(r, CN_RPC_E_INTERNAL, NULL);
        goto out;
    }
    size_t n = split(data, len, txs, lens, r);
    if (n == 0)
        goto out;
    codes = calloc(n, sizeof *codes);
    hashes = calloc(n, sizeof *hashes);
    msgs = calloc(n, BATCH_MSG_MAX);
    if (!codes || !hashes || !msgs) {
        cn_rpc_resp_api_error(r, CN_RPC_E_INTERNAL, NULL);
        goto out;
    }
    be->submit_txs(be->ctx, n, (const uint8_t *const *)txs, lens, codes, hashes, msgs,
                   BATCH_MSG_MAX);
    for (size_t i = 0; i < n; i++)
        msgs[i * BATCH_MSG_MAX + BATCH_MSG_MAX - 1] = '\0';
    json_t *j = results_json(n, codes, (const uint8_t(*)[32])hashes, msgs);
    if (j)
        cn_rpc_resp_json(r, 200, j);
    else
        cn_rpc_resp_api_error(r, CN_RPC_E_INTERNAL, NULL);
out:
    free(txs);
    free(lens);
    free(codes);
    free(hashes);
    free(msgs);
}
