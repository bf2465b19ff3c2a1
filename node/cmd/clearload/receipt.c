/* Reading one receipt (GET /v1/tx/{hash}); see load.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "node/cmd/clearload/load.h"

int cl_receipt_get(cl_http *c, const uint8_t hash[32], cl_receipt *r) {
    char path[128], hex[65];
    cn_hex_encode(hex, hash, 32);
    snprintf(path, sizeof path, "/v1/tx/%s", hex);
    int st;
    json_t *j = cl_get_json(c, path, &st);
    if (st < 0)
        cl_http_close(c);
    if (st == 200) {
        json_t *h = json_object_get(j, "height"), *i = json_object_get(j, "index"),
               *code = json_object_get(j, "code");
        const char *name = json_string_value(json_object_get(j, "code_name"));
        if (json_is_integer(h) && json_is_integer(i) && json_is_integer(code)) {
            r->height = json_integer_value(h);
            r->index = json_integer_value(i);
            r->code = json_integer_value(code);
            snprintf(r->code_name, sizeof r->code_name, "%s", name ? name : "?");
        } else {
            st = 0;
        }
    }
    json_decref(j);
    return st;
}
