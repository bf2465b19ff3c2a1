/* `clearctl query account|tx|block|status|oracle|margin`: read the chain through a node's HTTP API.
 *
 * The argument is checked locally first (64 hex digits, a decimal height), so a typo never
 * reaches the node. Answers print as readable "key  value" lines, or as the node's JSON with
 * --json; `query block H --proto FILE` saves the raw block bytes instead.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "node/app/ledger.h"
#include "node/cmd/clearctl/clearctl.h"

static void query_usage(FILE *f) {
    fprintf(f,
            "usage:\n"
            "  clearctl query account PUBKEY_HEX [--node URL] [--json]\n"
            "  clearctl query tx HASH_HEX [--node URL] [--json]\n"
            "  clearctl query block HEIGHT [--node URL] [--json] [--proto FILE]\n"
            "  clearctl query status [--node URL] [--json]\n"
            "  clearctl query oracle ASSET [--node URL] [--json]\n"
            "  clearctl query margin PUBKEY_HEX [--node URL] [--json]\n"
            "  clearctl query reserves EPOCH [--node URL] [--json]\n"
            "  clearctl query reserves-proof EPOCH --key FILE --out FILE [--proto]\n"
            "  clearctl query reserves-leaves EPOCH --key FILE --out FILE\n"
            "\n"
            "The node URL defaults to $" CLEARCTL_NODE_ENV " or " CLEARCTL_NODE_DEFAULT ".\n"
            "Exit codes: 0 found, 1 not found or rejected, 2 usage error, 3 node unreachable.\n");
}

/* Saves a raw answer to a file. */
static int save(const char *path, const clearctl_http_resp *r) {
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(r->body, 1, r->len, f) != r->len) {
        fprintf(stderr, "error: %s: %s\n", path, strerror(errno));
        if (f)
            fclose(f);
        return CLEARCTL_FAILED;
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "error: %s: %s\n", path, strerror(errno));
        return CLEARCTL_FAILED;
    }
    printf("wrote %zu bytes to %s\n", r->len, path);
    return CLEARCTL_OK;
}

int clearctl_query(int argc, char **argv) {
    if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
        query_usage(argc < 1 ? stderr : stdout);
        return argc < 1 ? CLEARCTL_USAGE : CLEARCTL_OK;
    }
    if (!strcmp(argv[0], "reserves") || !strcmp(argv[0], "reserves-proof") ||
        !strcmp(argv[0], "reserves-leaves"))
        return clearctl_reserves_query(argc, argv);
    if (!strcmp(argv[0], "withdrawal") || !strcmp(argv[0], "withdrawals") ||
        !strcmp(argv[0], "proposal"))
        return clearctl_custody_query(argc, argv);
    const char *what = argv[0], *arg = NULL, *node = NULL, *proto = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--help") == 0) {
            query_usage(stdout);
            return CLEARCTL_OK;
        } else if (strcmp(argv[i], "--node") == 0 && i + 1 < argc && node == NULL)
            node = argv[++i];
        else if (strcmp(argv[i], "--proto") == 0 && i + 1 < argc && proto == NULL)
            proto = argv[++i];
        else if (argv[i][0] != '-' && arg == NULL)
            arg = argv[i];
        else {
            fprintf(stderr, "error: unexpected argument '%s'\n", argv[i]);
            query_usage(stderr);
            return CLEARCTL_USAGE;
        }
    }
    char path[128];
    uint8_t b32[32];
    int is_status = strcmp(what, "status") == 0, is_block = strcmp(what, "block") == 0;
    if (is_status) {
        if (arg != NULL) {
            fprintf(stderr, "error: query status takes no argument\n");
            return CLEARCTL_USAGE;
        }
        snprintf(path, sizeof path, "/v1/status");
    } else if (strcmp(what, "account") == 0 || strcmp(what, "tx") == 0 ||
               strcmp(what, "margin") == 0) {
        const char *label = what;
        if (arg == NULL) {
            fprintf(stderr, "error: query %s needs a %s\n", label,
                    what[0] == 't' ? "transaction hash" : "public key");
            return CLEARCTL_USAGE;
        }
        if (!clearctl_parse_hex32(label, arg, b32))
            return CLEARCTL_USAGE;
        char hex[65];
        cn_hex_encode(hex, b32, 32);
        snprintf(path, sizeof path, "/v1/%s/%s",
                 what[0] == 'a' ? "accounts" : what[0] == 'm' ? "margin" : "tx", hex);
    } else if (strcmp(what, "oracle") == 0) {
        if (arg == NULL || !cn_symbol_valid(arg)) {
            fprintf(stderr, "error: query oracle needs an asset symbol (1..16 of [A-Z0-9.])\n");
            return CLEARCTL_USAGE;
        }
        snprintf(path, sizeof path, "/v1/oracle/%s", arg);
    } else if (is_block) {
        uint64_t h;
        if (arg == NULL) {
            fprintf(stderr, "error: query block needs a height\n");
            return CLEARCTL_USAGE;
        }
        if (!clearctl_parse_u64("height", arg, 1, UINT64_MAX, &h))
            return CLEARCTL_USAGE;
        snprintf(path, sizeof path, "/v1/blocks/%llu%s", (unsigned long long)h,
                 proto ? "?format=proto" : "");
    } else {
        fprintf(stderr, "error: unknown query '%s'\n", what);
        query_usage(stderr);
        return CLEARCTL_USAGE;
    }
    if (proto != NULL && !is_block) {
        fprintf(stderr, "error: --proto applies to query block only\n");
        return CLEARCTL_USAGE;
    }
    const char *url = clearctl_node_url(node);
    clearctl_http_resp r;
    int rc = clearctl_call(url, "GET", path, NULL, NULL, 0, &r);
    if (rc != CLEARCTL_OK)
        return rc;
    if (r.status != 200) {
        rc = clearctl_node_error(&r, json);
    } else if (proto != NULL) {
        rc = save(proto, &r);
    } else {
        json_t *v = clearctl_json_body(&r);
        if (v == NULL) {
            rc = CLEARCTL_FAILED;
        } else {
            clearctl_print(v, json);
            json_decref(v);
        }
    }
    clearctl_http_free(&r);
    return rc;
}
