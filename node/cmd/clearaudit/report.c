/* clearaudit's output and file helpers: one report per command, printed as text lines or as
 * one JSON object (--json); bounded file reads. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "node/cmd/clearaudit/clearaudit.h"

void ca_report_init(ca_report *r, const char *command, int json) {
    r->json = json;
    r->command = command;
    r->obj = json_object();
    json_object_set_new(r->obj, "command", json_string(command));
}

void ca_note(ca_report *r, const char *key, json_t *val, const char *fmt, ...) {
    if (key && val)
        json_object_set_new(r->obj, key, val);
    else if (val)
        json_decref(val);
    if (r->json || !fmt)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("  ok  ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
}

static void print_json(ca_report *r) {
    char *s = json_dumps(r->obj, JSON_INDENT(2));
    if (s) {
        puts(s);
        free(s);
    }
}

int ca_fail(ca_report *r, int status, const char *code, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (r->json) {
        json_object_set_new(r->obj, "ok", json_false());
        json_object_set_new(r->obj, "exit", json_integer(status));
        json_object_set_new(r->obj, "error",
                            json_pack("{s:s, s:s}", "code", code, "message", msg));
        print_json(r);
    } else {
        printf("FAILED %s: %s\n", code, msg);
    }
    fflush(stdout);
    json_decref(r->obj);
    r->obj = NULL;
    return status;
}

int ca_ok(ca_report *r, const char *summary) {
    if (r->json) {
        json_object_set_new(r->obj, "ok", json_true());
        json_object_set_new(r->obj, "exit", json_integer(0));
        json_object_set_new(r->obj, "summary", json_string(summary));
        print_json(r);
    } else {
        printf("VERIFIED: %s\n", summary);
    }
    fflush(stdout);
    json_decref(r->obj);
    r->obj = NULL;
    return CA_EXIT_OK;
}

int ca_read_file(const char *path, size_t cap, uint8_t **buf, size_t *len, char *err,
                 size_t err_cap) {
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_cap, "%s: %s", path, strerror(errno));
        return 0;
    }
    size_t room = 4096, n = 0;
    uint8_t *b = malloc(room + 1);
    while (b) {
        size_t got = fread(b + n, 1, room - n, f);
        n += got;
        if (n > cap) {
            snprintf(err, err_cap, "%s: larger than %zu bytes", path, cap);
            break;
        }
        if (got == 0) {
            if (ferror(f)) {
                snprintf(err, err_cap, "%s: read error", path);
                break;
            }
            fclose(f);
            b[n] = 0;
            *buf = b;
            *len = n;
            return 1;
        }
        if (n == room) {
            size_t nr = room * 2 > cap + 1 ? cap + 1 : room * 2;
            uint8_t *nb = realloc(b, nr + 1);
            if (!nb) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
            room = nr;
        }
    }
    if (!b)
        snprintf(err, err_cap, "%s: out of memory", path);
    free(b);
    fclose(f);
    return 0;
}

int ca_is_json(const uint8_t *buf, size_t len) {
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r')
            continue;
        return buf[i] == '{';
    }
    return 0;
}

const char *ca_hex32(char out[65], const uint8_t v[32]) {
    cn_hex_encode(out, v, 32);
    return out;
}
