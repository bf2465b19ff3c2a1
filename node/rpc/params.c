/* Path parameter, query and media type parsers. See params.h. */
#include "node/rpc/params.h"

#include <string.h>
#include <strings.h>

#include "crypto/encoding.h"

int cn_rpc_parse_hex32(const char *s, uint8_t out[32]) {
    if (s == NULL || strlen(s) != 64)
        return 0;
    return cn_hex_decode_exact(out, 32, s);
}

int cn_rpc_parse_height(const char *s, uint64_t *out) {
    if (s == NULL || s[0] < '1' || s[0] > '9')
        return 0; /* empty, sign, space, leading zero or "0" */
    uint64_t v = 0;
    size_t n = 0;
    for (; s[n] != '\0'; n++) {
        if (s[n] < '0' || s[n] > '9' || n >= 20)
            return 0;
        uint64_t d = (uint64_t)(s[n] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return 0; /* would overflow */
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

int cn_rpc_parse_block_query(const char *query, cn_rpc_format *out) {
    if (query == NULL || query[0] == '\0' || strcmp(query, "format=json") == 0) {
        *out = CN_RPC_FMT_JSON;
        return 1;
    }
    if (strcmp(query, "format=proto") == 0) {
        *out = CN_RPC_FMT_PROTO;
        return 1;
    }
    return 0;
}

/* True if `value` is `type` followed by nothing, optional spaces, or ";" parameters. */
static int media_is(const char *value, const char *type) {
    size_t n = strlen(type);
    if (strncasecmp(value, type, n) != 0)
        return 0;
    const char *p = value + n;
    while (*p == ' ' || *p == '\t')
        p++;
    return *p == '\0' || *p == ';';
}

cn_rpc_body_kind cn_rpc_parse_content_type(const char *value) {
    if (value == NULL)
        return CN_RPC_BODY_UNSUPPORTED;
    while (*value == ' ' || *value == '\t')
        value++;
    if (media_is(value, "application/x-protobuf"))
        return CN_RPC_BODY_PROTOBUF;
    if (media_is(value, "application/json"))
        return CN_RPC_BODY_JSON;
    return CN_RPC_BODY_UNSUPPORTED;
}
