/* Helpers shared by clearctl's command groups. See clearctl.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/encoding.h"
#include "crypto/keyfile.h"
#include "node/cli/passphrase.h"
#include "node/cmd/clearctl/clearctl.h"

const char *clearctl_node_url(const char *flag) {
    if (flag != NULL)
        return flag;
    const char *env = getenv(CLEARCTL_NODE_ENV);
    return env != NULL && env[0] != '\0' ? env : CLEARCTL_NODE_DEFAULT;
}

int clearctl_parse_hex32(const char *flag, const char *s, uint8_t out[32]) {
    if (s == NULL || strlen(s) != 64 || !cn_hex_decode_exact(out, 32, s)) {
        fprintf(stderr, "error: %s: expected exactly 64 hex digits\n", flag);
        return 0;
    }
    return 1;
}

int clearctl_parse_u64(const char *flag, const char *s, uint64_t min, uint64_t max,
                       uint64_t *out) {
    uint64_t v = 0;
    size_t n = 0;
    int ok = s != NULL && s[0] >= '0' && s[0] <= '9' && !(s[0] == '0' && s[1] != '\0');
    for (; ok && s[n] != '\0'; n++) {
        uint64_t d = (uint64_t)(s[n] - '0');
        if (s[n] < '0' || s[n] > '9' || v > (UINT64_MAX - d) / 10)
            ok = 0;
        else
            v = v * 10 + d;
    }
    if (!ok || v < min || v > max) {
        fprintf(stderr, "error: %s: expected a decimal integer from %llu to %llu\n", flag,
                (unsigned long long)min, (unsigned long long)max);
        return 0;
    }
    *out = v;
    return 1;
}

int clearctl_parse_asset(const char *flag, const char *s) {
    size_t n = s ? strlen(s) : 0;
    int ok = n >= 1 && n <= 16;
    for (size_t i = 0; ok && i < n; i++)
        ok = (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '.';
    if (!ok)
        fprintf(stderr, "error: %s: an asset symbol is 1 to 16 characters of [A-Z0-9.]\n",
                flag);
    return ok;
}

int clearctl_load_key(const char *path, cn_keypair *kp) {
    uint8_t sec[32], pub[32];
    int encrypted = 0;
    cn_keyfile_err e = cn_keyfile_read_pubkey(path, pub, &encrypted);
    char pass[CN_PASSPHRASE_MAX];
    long pass_len = 0;
    if (e == CN_KEYFILE_OK && encrypted) {
        char prompt[300];
        snprintf(prompt, sizeof prompt, "Passphrase for %.256s: ", path);
        pass_len = cn_passphrase_get(pass, sizeof pass, prompt, 0);
        if (pass_len < 0)
            return 0;
    }
    if (e == CN_KEYFILE_OK)
        e = cn_keyfile_read(path, encrypted ? pass : NULL, (size_t)pass_len, sec, pub, NULL);
    sodium_memzero(pass, sizeof pass);
    if (e != CN_KEYFILE_OK) {
        fprintf(stderr, "error: %s: %s\n", path, cn_keyfile_strerror(e));
        return 0;
    }
    int ok = cn_keypair_from_seckey(kp, sec);
    sodium_memzero(sec, sizeof sec);
    if (!ok)
        fprintf(stderr, "error: %s: invalid secret key\n", path);
    return ok;
}

int clearctl_call(const char *node, const char *method, const char *path, const char *ctype,
                  const uint8_t *body, size_t len, clearctl_http_resp *resp) {
    char err[512], host[256], port[8];
    if (!clearctl_http_parse_url(node, host, sizeof host, port, sizeof port, err, sizeof err)) {
        fprintf(stderr, "error: --node: %s\n", err);
        return CLEARCTL_USAGE;
    }
    if (!clearctl_http(node, method, path, ctype, body, len, resp, err, sizeof err)) {
        fprintf(stderr, "error: node %s unreachable: %s\n", node, err);
        return CLEARCTL_UNREACHABLE;
    }
    return CLEARCTL_OK;
}

json_t *clearctl_json_body(const clearctl_http_resp *resp) {
    json_error_t je;
    json_t *v = json_loadb((const char *)resp->body, resp->len, JSON_REJECT_DUPLICATES, &je);
    if (v == NULL || !json_is_object(v)) {
        fprintf(stderr, "error: the node's answer is not a JSON object (HTTP %d)\n",
                resp->status);
        json_decref(v);
        return NULL;
    }
    return v;
}

int clearctl_node_error(const clearctl_http_resp *resp, int json) {
    json_t *v = json_loadb((const char *)resp->body, resp->len, 0, NULL);
    json_t *e = json_object_get(v, "error");
    const char *code = json_string_value(json_object_get(e, "code"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    if (json && v != NULL) {
        char *text = json_dumps(v, JSON_COMPACT);
        printf("%s\n", text ? text : "{}");
        free(text);
    } else if (code != NULL) {
        fprintf(stderr, "error: %s: %s (HTTP %d)\n", code, msg ? msg : "", resp->status);
    } else {
        fprintf(stderr, "error: the node answered HTTP %d without an error body\n",
                resp->status);
    }
    json_decref(v);
    return CLEARCTL_FAILED;
}

/* One value on one line: strings bare, arrays of scalars comma-separated, others as JSON. */
static void print_value(const json_t *v) {
    if (json_is_string(v)) {
        printf("%s", json_string_value(v));
        return;
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *x;
        int scalars = 1;
        json_array_foreach(v, i, x) scalars = scalars && !json_is_object(x) && !json_is_array(x);
        if (scalars) {
            json_array_foreach(v, i, x) {
                if (i)
                    printf(", ");
                print_value(x);
            }
            if (json_array_size(v) == 0)
                printf("-");
            return;
        }
    }
    char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    printf("%s", t ? t : "?");
    free(t);
}

void clearctl_print(const json_t *v, int json) {
    if (json || !json_is_object(v)) {
        char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        printf("%s\n", t ? t : "null");
        free(t);
        return;
    }
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)(uintptr_t)v, k, x) {
        if (json_is_object(x) && json_object_size(x) > 0) {
            printf("%s\n", k);
            const char *k2;
            json_t *x2;
            json_object_foreach(x, k2, x2) {
                printf("  %-16s ", k2);
                print_value(x2);
                printf("\n");
            }
        } else {
            printf("%-18s ", k);
            print_value(x);
            printf("\n");
        }
    }
}
