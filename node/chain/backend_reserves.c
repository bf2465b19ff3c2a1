/* The node's answer to GET /v1/reserves/... (node/rpc/backend.h `reserves`): parses the path,
 * checks the request signature for proofs and the leaf export (node/app/reserves_view.h), and
 * reads the committed reserves state. */
#include "node/chain/backend_reserves.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/encoding.h"
#include "node/app/reserves_view.h"

/* Parses a decimal epoch of 1..20 digits ending at '/' or NUL; returns the end or NULL. */
static const char *parse_epoch(const char *s, uint64_t *out) {
    uint64_t v = 0;
    size_t i = 0;
    for (; s[i] >= '0' && s[i] <= '9'; i++) {
        if (i >= 19)
            return NULL;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (i == 0 || v == 0 || (s[i] != '/' && s[i] != '\0'))
        return NULL;
    *out = v;
    return s + i;
}

static int err(const char **code, const char *c, char *why, size_t cap, int status,
               const char *msg) {
    *code = c;
    snprintf(why, cap, "%s", msg);
    return status;
}

int cn_backend_reserves(void *ctx, const char *rest, int want_proto, const char *signer,
                        const char *sig, const char *ts, const char **ctype, uint8_t **body,
                        size_t *len, const char **code, char *why, size_t why_cap) {
    cn_node *n = ctx;
    uint64_t epoch;
    const char *p = parse_epoch(rest, &epoch);
    if (!p)
        return err(code, "invalid_epoch", why, why_cap, 400, "epoch: a decimal number >= 1");
    if (*p == '\0') {
        json_t *j = cn_reserves_view_epoch(n->store, epoch);
        if (!j)
            return err(code, "not_found", why, why_cap, 404, "epoch not published");
        char *s = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        if (!s)
            return err(code, "internal", why, why_cap, 500, "out of memory");
        *ctype = "application/json";
        *body = (uint8_t *)s;
        *len = strlen(s);
        return 200;
    }
    uint8_t account[32];
    int leaves = strcmp(p, "/leaves") == 0;
    if (!leaves) {
        if (strncmp(p, "/proof/", 7) != 0 || strlen(p + 7) != 64 ||
            !cn_hex_decode_exact(account, 32, p + 7))
            return err(code, "not_found", why, why_cap, 404, "no such route");
    }
    char request[CN_RESERVES_REQUEST_MAX + 1];
    if (strlen(rest) + 17 > CN_RESERVES_REQUEST_MAX)
        return err(code, "not_found", why, why_cap, 404, "no such route");
    snprintf(request, sizeof request, "GET /v1/reserves/%s", rest);
    char auth[160];
    if (!cn_reserves_api_auth(n->store, n->g.chain_id, request, signer, sig, ts,
                              (uint64_t)time(NULL), leaves ? NULL : account, auth,
                              sizeof auth))
        return err(code, "unauthorized", why, why_cap, 403, auth);
    int rc;
    if (leaves) {
        char *txt = NULL;
        rc = cn_reserves_view_leaves(n->store, n->g.chain_id, epoch, &txt, len);
        *body = (uint8_t *)txt;
        *ctype = "text/plain; charset=utf-8";
    } else {
        rc = cn_reserves_view_proof(n->store, n->g.chain_id, epoch, account, want_proto, body,
                                    len);
        *ctype = want_proto ? "application/x-protobuf" : "application/json";
    }
    if (rc == 0)
        return err(code, "not_found", why, why_cap, 404,
                   leaves ? "epoch not published" : "epoch not published or account not in it");
    if (rc < 0)
        return err(code, "internal", why, why_cap, 500, "reserves state unreadable");
    return 200;
}
