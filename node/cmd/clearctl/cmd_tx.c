/* `clearctl tx ...`: build, sign and submit transactions.
 *
 *   tx register-client|deposit|transfer|deploy|call [kind flags] --key FILE [--node URL]
 *        [--chain-id ID] [--nonce N] [--wait [--timeout S]] [--json]
 *   tx sign register-client|deposit|transfer [kind flags] --key FILE --chain-id ID
 *        --nonce N --out FILE [--force]
 *   tx send FILE [--node URL] [--wait [--timeout S]] [--json]
 *
 * Every value is checked before the key is unlocked or the node is contacted. Without
 * --chain-id the chain id comes from GET /v1/status; without --nonce the nonce is the
 * signer's account nonce (GET /v1/accounts/{signer}) plus one. The transaction id is
 * computed locally and must equal the one the node answers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "node/cmd/clearctl/clearctl.h"
#include "node/cmd/clearctl/tx_contract.h"
#include "node/cmd/clearctl/tx_margin.h"
#include "node/cmd/clearctl/tx_oracle.h"
#include "proto/codec.h"

#define POLL_MS 250
#define MAX_LABEL 64
#define MAX_REF 64
#define MAX_CHAIN_ID 64

typedef struct {
    const char *kind;
    const char *key, *node, *chain_id, *nonce, *out, *timeout;
    const char *pubkey, *label, *account, *asset, *amount, *ref, *to;
    const char *file; /* tx send */
    int json, wait, force;
    clearctl_contract_flags cf; /* tx deploy, tx call (tx_contract.c) */
    clearctl_oracle_flags of;   /* tx oracle-report (tx_oracle.c) */
    clearctl_margin_flags mf;   /* tx open, tx close (tx_margin.c) */
} tx_opts;

static void tx_usage(FILE *f) {
    fprintf(f,
            "usage:\n"
            "  clearctl tx register-client --pubkey HEX [--label L] COMMON\n"
            "  clearctl tx deposit --account HEX --asset SYM --amount N --ref REF COMMON\n"
            "  clearctl tx transfer --to HEX --asset SYM --amount N COMMON\n"
            "  clearctl tx deploy --name NAME --bytecode FILE(.cas|.bin) COMMON\n"
            "  clearctl tx call --contract NAME --entry E [--args a,b,c] [--gas N]\n"
            "      [--allow-asset SYM --allow-amount N] COMMON\n"
            "  clearctl tx oracle-report --asset SYM --price MICRO_USD [--observed-at MS]\n"
            "      --round N COMMON\n"
            "  clearctl tx open --asset SYM --side long|short --quantity N\n"
            "      [--limit-price MICRO_USD] COMMON\n"
            "  clearctl tx close --asset SYM --side long|short [--quantity N]\n"
            "      [--limit-price MICRO_USD] COMMON\n"
            "      COMMON: --key FILE [--node URL] [--chain-id ID] [--nonce N]\n"
            "              [--wait [--timeout SECONDS]] [--json]\n"
            "      Signs the transaction with the key and submits it to the node. The chain\n"
            "      id defaults to the node's, the nonce to the signer's account nonce + 1.\n"
            "      --wait polls until the transaction is committed (default timeout 30 s).\n"
            "  clearctl tx sign <register-client|deposit|transfer> [kind flags] --key FILE\n"
            "      --chain-id ID --nonce N --out FILE [--force]\n"
            "      Signs offline and writes the Signed protobuf bytes to FILE.\n"
            "  clearctl tx send FILE [--node URL] [--wait [--timeout SECONDS]] [--json]\n"
            "      Submits a file written by 'tx sign'.\n"
            "\n"
            "The node URL defaults to $" CLEARCTL_NODE_ENV " or " CLEARCTL_NODE_DEFAULT ".\n"
            "Exit codes: 0 accepted (committed with --wait), 1 rejected or failed,\n"
            "2 usage error, 3 node unreachable.\n");
}

/* Parses flags into o. Returns 1, or 0 after printing a usage error. */
static int parse_flags(int argc, char **argv, tx_opts *o) {
    static const struct {
        const char *name;
        size_t off;
    } vals[] = {
        {"--key", offsetof(tx_opts, key)},         {"--node", offsetof(tx_opts, node)},
        {"--chain-id", offsetof(tx_opts, chain_id)}, {"--nonce", offsetof(tx_opts, nonce)},
        {"--out", offsetof(tx_opts, out)},         {"--timeout", offsetof(tx_opts, timeout)},
        {"--pubkey", offsetof(tx_opts, pubkey)},   {"--label", offsetof(tx_opts, label)},
        {"--account", offsetof(tx_opts, account)}, {"--asset", offsetof(tx_opts, asset)},
        {"--amount", offsetof(tx_opts, amount)},   {"--ref", offsetof(tx_opts, ref)},
        {"--to", offsetof(tx_opts, to)},
        {"--name", offsetof(tx_opts, cf.name)},    {"--bytecode", offsetof(tx_opts, cf.bytecode)},
        {"--contract", offsetof(tx_opts, cf.contract)}, {"--entry", offsetof(tx_opts, cf.entry)},
        {"--args", offsetof(tx_opts, cf.args)},    {"--gas", offsetof(tx_opts, cf.gas)},
        {"--allow-asset", offsetof(tx_opts, cf.allow_asset)},
        {"--allow-amount", offsetof(tx_opts, cf.allow_amount)},
        {"--price", offsetof(tx_opts, of.price)},
        {"--observed-at", offsetof(tx_opts, of.observed_at)},
        {"--round", offsetof(tx_opts, of.round)},
        {"--side", offsetof(tx_opts, mf.side)},
        {"--quantity", offsetof(tx_opts, mf.quantity)},
        {"--limit-price", offsetof(tx_opts, mf.limit_price)},
    };
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0) {
            o->json = 1;
            continue;
        }
        if (strcmp(a, "--wait") == 0) {
            o->wait = 1;
            continue;
        }
        if (strcmp(a, "--force") == 0) {
            o->force = 1;
            continue;
        }
        size_t k = 0;
        for (; k < sizeof vals / sizeof vals[0]; k++)
            if (strcmp(a, vals[k].name) == 0)
                break;
        if (k < sizeof vals / sizeof vals[0]) {
            const char **slot = (const char **)(void *)((char *)o + vals[k].off);
            if (i + 1 >= argc) {
                fprintf(stderr, "error: %s needs a value\n", a);
                return 0;
            }
            if (*slot != NULL) {
                fprintf(stderr, "error: %s given twice\n", a);
                return 0;
            }
            *slot = argv[++i];
            continue;
        }
        if (a[0] != '-' && o->file == NULL) {
            o->file = a;
            continue;
        }
        fprintf(stderr, "error: unexpected argument '%s'\n", a);
        return 0;
    }
    return 1;
}

/* Flags a kind may use, beyond the common ones. */
static int only_kind_flags(const tx_opts *o) {
    int rc = strcmp(o->kind, "register-client") == 0, dep = strcmp(o->kind, "deposit") == 0,
        tr = strcmp(o->kind, "transfer") == 0;
    struct {
        const char *v, *name;
        int allowed;
    } f[] = {{o->pubkey, "--pubkey", rc}, {o->label, "--label", rc},
             {o->account, "--account", dep}, {o->ref, "--ref", dep},
             {o->asset, "--asset",
              dep || tr || clearctl_oracle_kind(o->kind) || clearctl_margin_kind(o->kind)},
             {o->amount, "--amount", dep || tr},
             {o->to, "--to", tr}};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (f[i].v != NULL && !f[i].allowed) {
            fprintf(stderr, "error: %s does not apply to %s\n", f[i].name, o->kind);
            return 0;
        }
    }
    return 1;
}

static int need(const char *v, const char *flag) {
    if (v == NULL)
        fprintf(stderr, "error: %s is required\n", flag);
    return v != NULL;
}

/* The validated kind fields. */
typedef struct {
    uint8_t key32[32]; /* pubkey, account or to */
    uint64_t amount;
    clearctl_contract_vals c; /* deploy, call */
    clearctl_oracle_vals ov;  /* oracle-report */
    clearctl_margin_vals mv;  /* open, close */
} kind_vals;

/* Checks the kind flags. Returns 1, or 0 after printing the problem. */
static int check_kind(const tx_opts *o, kind_vals *v) {
    if (!only_kind_flags(o) || !clearctl_contract_check(o->kind, &o->cf, &v->c) ||
        !clearctl_oracle_check(o->kind, o->asset, &o->of, &v->ov) ||
        !clearctl_margin_check(o->kind, o->asset, &o->mf, &v->mv))
        return 0;
    if (clearctl_contract_kind(o->kind) || clearctl_oracle_kind(o->kind) ||
        clearctl_margin_kind(o->kind))
        return 1;
    if (strcmp(o->kind, "register-client") == 0) {
        if (!need(o->pubkey, "--pubkey") || !clearctl_parse_hex32("--pubkey", o->pubkey, v->key32))
            return 0;
        if (o->label != NULL && strlen(o->label) > MAX_LABEL) {
            fprintf(stderr, "error: --label: at most %d bytes\n", MAX_LABEL);
            return 0;
        }
        return 1;
    }
    int dep = strcmp(o->kind, "deposit") == 0;
    const char *who = dep ? o->account : o->to, *who_flag = dep ? "--account" : "--to";
    if (!need(who, who_flag) || !clearctl_parse_hex32(who_flag, who, v->key32))
        return 0;
    if (!need(o->asset, "--asset") || !clearctl_parse_asset("--asset", o->asset))
        return 0;
    if (!need(o->amount, "--amount") ||
        !clearctl_parse_u64("--amount", o->amount, 1, INT64_MAX, &v->amount))
        return 0;
    if (dep) {
        if (!need(o->ref, "--ref"))
            return 0;
        size_t n = strlen(o->ref);
        if (n < 1 || n > MAX_REF) {
            fprintf(stderr, "error: --ref: 1 to %d bytes\n", MAX_REF);
            return 0;
        }
    }
    return 1;
}

static int known_kind(const char *k) {
    return strcmp(k, "register-client") == 0 || strcmp(k, "deposit") == 0 ||
           strcmp(k, "transfer") == 0 || clearctl_contract_kind(k) || clearctl_oracle_kind(k) ||
           clearctl_margin_kind(k);
}

/* Encodes the Tx body. Returns 1 with *out malloc'd. */
static int encode_body(const tx_opts *o, const kind_vals *v, const char *chain_id,
                       uint64_t nonce, uint8_t **out, size_t *len) {
    if (clearctl_contract_kind(o->kind))
        return clearctl_contract_encode(o->kind, &o->cf, &v->c, chain_id, nonce, out, len);
    if (clearctl_oracle_kind(o->kind))
        return clearctl_oracle_encode(o->asset, &v->ov, chain_id, nonce, out, len);
    if (clearctl_margin_kind(o->kind))
        return clearctl_margin_encode(o->kind, o->asset, &v->mv, chain_id, nonce, out, len);
    Clearnode__V1__Tx tx;
    clearnode__v1__tx__init(&tx);
    Clearnode__V1__RegisterClient rc;
    clearnode__v1__register_client__init(&rc);
    Clearnode__V1__DepositAttest da;
    clearnode__v1__deposit_attest__init(&da);
    Clearnode__V1__Transfer tr;
    clearnode__v1__transfer__init(&tr);
    tx.chain_id = (char *)(uintptr_t)chain_id;
    tx.nonce = nonce;
    uint8_t key[32];
    memcpy(key, v->key32, 32);
    if (strcmp(o->kind, "register-client") == 0) {
        rc.pubkey.data = key;
        rc.pubkey.len = 32;
        rc.label = (char *)(uintptr_t)(o->label ? o->label : "");
        tx.kind_case = CLEARNODE__V1__TX__KIND_REGISTER_CLIENT;
        tx.register_client = &rc;
    } else if (strcmp(o->kind, "deposit") == 0) {
        da.account.data = key;
        da.account.len = 32;
        da.asset = (char *)(uintptr_t)o->asset;
        da.amount = v->amount;
        da.deposit_ref.data = (uint8_t *)(uintptr_t)o->ref;
        da.deposit_ref.len = strlen(o->ref);
        tx.kind_case = CLEARNODE__V1__TX__KIND_DEPOSIT_ATTEST;
        tx.deposit_attest = &da;
    } else {
        tr.to.data = key;
        tr.to.len = 32;
        tr.asset = (char *)(uintptr_t)o->asset;
        tr.amount = v->amount;
        tx.kind_case = CLEARNODE__V1__TX__KIND_TRANSFER;
        tx.transfer = &tr;
    }
    return cn_encode(&tx.base, CN_CAP_TX, out, len);
}

/* Signs the body and encodes the Signed envelope. */
static int sign_tx(const cn_keypair *kp, const char *chain_id, const uint8_t *body,
                   size_t body_len, uint8_t **out, size_t *len) {
    uint8_t sig[64];
    if (!cn_sign_body(kp, sig, CN_TAG_SIG_TX, chain_id, body, body_len))
        return 0;
    Clearnode__V1__Signed s;
    clearnode__v1__signed__init(&s);
    s.body.data = (uint8_t *)(uintptr_t)body;
    s.body.len = body_len;
    s.signer.data = (uint8_t *)(uintptr_t)kp->pub;
    s.signer.len = 32;
    s.sig.data = sig;
    s.sig.len = 64;
    return cn_encode(&s.base, CN_CAP_TX, out, len);
}

/* GET /v1/status -> chain_id. */
static int fetch_chain_id(const char *node, char *out, size_t cap) {
    clearctl_http_resp r;
    int rc = clearctl_call(node, "GET", "/v1/status", NULL, NULL, 0, &r);
    if (rc != CLEARCTL_OK)
        return rc;
    if (r.status != 200) {
        rc = clearctl_node_error(&r, 0);
        clearctl_http_free(&r);
        return rc;
    }
    json_t *v = clearctl_json_body(&r);
    clearctl_http_free(&r);
    const char *id = json_string_value(json_object_get(v, "chain_id"));
    rc = CLEARCTL_FAILED;
    if (id == NULL || strlen(id) == 0 || strlen(id) >= cap)
        fprintf(stderr, "error: the node's status has no usable chain_id\n");
    else {
        snprintf(out, cap, "%s", id);
        rc = CLEARCTL_OK;
    }
    json_decref(v);
    return rc;
}

/* GET /v1/accounts/{signer} -> nonce + 1. */
static int fetch_nonce(const char *node, const uint8_t pub[32], uint64_t *nonce) {
    char hex[65], path[96];
    cn_hex_encode(hex, pub, 32);
    snprintf(path, sizeof path, "/v1/accounts/%s", hex);
    clearctl_http_resp r;
    int rc = clearctl_call(node, "GET", path, NULL, NULL, 0, &r);
    if (rc != CLEARCTL_OK)
        return rc;
    if (r.status == 404) {
        clearctl_http_free(&r);
        fprintf(stderr, "error: signer %s is not a registered account on this node\n", hex);
        return CLEARCTL_FAILED;
    }
    if (r.status != 200) {
        rc = clearctl_node_error(&r, 0);
        clearctl_http_free(&r);
        return rc;
    }
    json_t *v = clearctl_json_body(&r);
    clearctl_http_free(&r);
    json_t *n = json_object_get(v, "nonce");
    uint64_t cur = 0;
    int ok = 0;
    if (json_is_integer(n) && json_integer_value(n) >= 0) {
        cur = (uint64_t)json_integer_value(n);
        ok = 1;
    } else if (json_is_string(n)) {
        ok = clearctl_parse_u64("account nonce", json_string_value(n), 0, UINT64_MAX - 1, &cur);
    }
    json_decref(v);
    if (!ok || cur == UINT64_MAX) {
        fprintf(stderr, "error: the node's account answer has no usable nonce\n");
        return CLEARCTL_FAILED;
    }
    *nonce = cur + 1;
    return CLEARCTL_OK;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Polls GET /v1/tx/{hash} until the receipt exists or the timeout passes. */
static int wait_receipt(const char *node, const char *hex, uint64_t timeout_s, int json) {
    char path[96];
    snprintf(path, sizeof path, "/v1/tx/%s", hex);
    int64_t deadline = mono_ms() + (int64_t)timeout_s * 1000;
    for (;;) {
        clearctl_http_resp r;
        int rc = clearctl_call(node, "GET", path, NULL, NULL, 0, &r);
        if (rc != CLEARCTL_OK)
            return rc;
        if (r.status == 200) {
            json_t *v = clearctl_json_body(&r);
            clearctl_http_free(&r);
            if (v == NULL)
                return CLEARCTL_FAILED;
            json_t *code = json_object_get(v, "code");
            int ok = json_is_integer(code) && json_integer_value(code) == 0;
            if (!json) {
                json_t *h = json_object_get(v, "height");
                printf("%s %s at height %lld\n", ok ? "committed" : "FAILED", hex,
                       json_is_integer(h) ? (long long)json_integer_value(h) : -1LL);
            }
            clearctl_print(v, json);
            if (!ok && !json) {
                const char *name = json_string_value(json_object_get(v, "code_name"));
                const char *msg = json_string_value(json_object_get(v, "message"));
                fprintf(stderr, "error: transaction failed: %s: %s\n", name ? name : "?",
                        msg ? msg : "");
            }
            json_decref(v);
            return ok ? CLEARCTL_OK : CLEARCTL_FAILED;
        }
        if (r.status != 404) {
            rc = clearctl_node_error(&r, json);
            clearctl_http_free(&r);
            return rc;
        }
        clearctl_http_free(&r);
        if (mono_ms() >= deadline) {
            fprintf(stderr, "error: %s not committed within %llu s\n", hex,
                    (unsigned long long)timeout_s);
            return CLEARCTL_FAILED;
        }
        sleep_ms(POLL_MS);
    }
}

/* POSTs Signed bytes, checks the answered id against the local one, optionally waits. */
static int submit(const char *node, const uint8_t *bytes, size_t len, const tx_opts *o) {
    uint64_t timeout_s = 30;
    if (o->timeout != NULL && !clearctl_parse_u64("--timeout", o->timeout, 1, 86400, &timeout_s))
        return CLEARCTL_USAGE;
    uint8_t id[32];
    char hex[65];
    cn_hash_tagged(id, CN_TAG_TX, bytes, len);
    cn_hex_encode(hex, id, 32);
    clearctl_http_resp r;
    int rc = clearctl_call(node, "POST", "/v1/tx", "application/x-protobuf", bytes, len, &r);
    if (rc != CLEARCTL_OK)
        return rc;
    if (r.status != 200 && r.status != 202) {
        rc = clearctl_node_error(&r, o->json);
        clearctl_http_free(&r);
        return rc;
    }
    json_t *v = clearctl_json_body(&r);
    clearctl_http_free(&r);
    const char *got = json_string_value(json_object_get(v, "hash"));
    if (got == NULL || strcmp(got, hex) != 0) {
        fprintf(stderr, "error: the node answered transaction id %s, expected %s\n",
                got ? got : "(none)", hex);
        json_decref(v);
        return CLEARCTL_FAILED;
    }
    json_decref(v);
    if (o->wait)
        return wait_receipt(node, hex, timeout_s, o->json);
    if (o->json)
        printf("{\"hash\":\"%s\"}\n", hex);
    else
        printf("accepted %s\n", hex);
    return CLEARCTL_OK;
}

/* Writes bytes to a new file (or over an old one with --force). */
static int write_file(const char *path, const uint8_t *data, size_t len, int force) {
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL), 0644);
    if (fd < 0) {
        fprintf(stderr, "error: %s: %s%s\n", path, strerror(errno),
                errno == EEXIST ? " (use --force to overwrite)" : "");
        return 0;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n <= 0) {
            fprintf(stderr, "error: %s: %s\n", path, strerror(errno));
            close(fd);
            return 0;
        }
        off += (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        fprintf(stderr, "error: %s: %s\n", path, strerror(errno));
        return 0;
    }
    return 1;
}

/* tx <kind> and tx sign <kind>, with kv zeroed by build(). */
static int build_kv(tx_opts *o, int offline, kind_vals *kv) {
    if (!check_kind(o, kv))
        return CLEARCTL_USAGE;
    if (o->file != NULL) {
        fprintf(stderr, "error: unexpected argument '%s'\n", o->file);
        return CLEARCTL_USAGE;
    }
    if (!need(o->key, "--key"))
        return CLEARCTL_USAGE;
    if (offline && (!need(o->chain_id, "--chain-id") || !need(o->nonce, "--nonce") ||
                    !need(o->out, "--out")))
        return CLEARCTL_USAGE;
    if (!offline && (o->out != NULL || o->force)) {
        fprintf(stderr, "error: --out and --force belong to 'tx sign'\n");
        return CLEARCTL_USAGE;
    }
    if (offline && (o->wait || o->timeout || o->node)) {
        fprintf(stderr, "error: 'tx sign' works offline: no --node or --wait\n");
        return CLEARCTL_USAGE;
    }
    uint64_t nonce = 0;
    if (o->nonce != NULL && !clearctl_parse_u64("--nonce", o->nonce, 1, UINT64_MAX, &nonce))
        return CLEARCTL_USAGE;
    if (o->chain_id != NULL && (o->chain_id[0] == '\0' || strlen(o->chain_id) > MAX_CHAIN_ID)) {
        fprintf(stderr, "error: --chain-id: 1 to %d characters\n", MAX_CHAIN_ID);
        return CLEARCTL_USAGE;
    }
    uint64_t t;
    if (o->timeout != NULL && !clearctl_parse_u64("--timeout", o->timeout, 1, 86400, &t))
        return CLEARCTL_USAGE;
    cn_keypair kp;
    if (!clearctl_load_key(o->key, &kp))
        return CLEARCTL_FAILED;
    const char *node = clearctl_node_url(o->node);
    char chain[MAX_CHAIN_ID + 1];
    int rc = CLEARCTL_OK;
    if (o->chain_id != NULL)
        snprintf(chain, sizeof chain, "%s", o->chain_id);
    else
        rc = fetch_chain_id(node, chain, sizeof chain);
    if (rc == CLEARCTL_OK && o->nonce == NULL)
        rc = fetch_nonce(node, kp.pub, &nonce);
    uint8_t *body = NULL, *signed_tx = NULL;
    size_t body_len = 0, len = 0;
    if (rc == CLEARCTL_OK && (!encode_body(o, kv, chain, nonce, &body, &body_len) ||
                              !sign_tx(&kp, chain, body, body_len, &signed_tx, &len))) {
        fprintf(stderr, "error: could not encode or sign the transaction\n");
        rc = CLEARCTL_FAILED;
    }
    cn_keypair_wipe(&kp);
    free(body);
    if (rc == CLEARCTL_OK && offline) {
        if (write_file(o->out, signed_tx, len, o->force)) {
            uint8_t id[32];
            char hex[65];
            cn_hash_tagged(id, CN_TAG_TX, signed_tx, len);
            cn_hex_encode(hex, id, 32);
            if (o->json)
                printf("{\"hash\":\"%s\",\"file\":\"%s\",\"nonce\":%llu}\n", hex, o->out,
                       (unsigned long long)nonce);
            else
                printf("signed %s (nonce %llu) -> %s\n", hex, (unsigned long long)nonce, o->out);
        } else {
            rc = CLEARCTL_FAILED;
        }
    } else if (rc == CLEARCTL_OK) {
        rc = submit(node, signed_tx, len, o);
    }
    free(signed_tx);
    return rc;
}

static int build(tx_opts *o, int offline) {
    kind_vals kv;
    memset(&kv, 0, sizeof kv);
    int rc = build_kv(o, offline, &kv);
    clearctl_contract_free(&kv.c);
    return rc;
}

/* tx send FILE. */
static int send_file(const tx_opts *o) {
    if (!need(o->file, "FILE"))
        return CLEARCTL_USAGE;
    if (o->key || o->chain_id || o->nonce || o->out || o->pubkey || o->label || o->account ||
        o->asset || o->amount || o->ref || o->to || o->force) {
        fprintf(stderr, "error: 'tx send' takes only FILE, --node, --wait, --timeout, --json\n");
        return CLEARCTL_USAGE;
    }
    FILE *f = fopen(o->file, "rb");
    if (f == NULL) {
        fprintf(stderr, "error: %s: %s\n", o->file, strerror(errno));
        return CLEARCTL_FAILED;
    }
    uint8_t *buf = malloc(CN_CAP_TX + 1);
    size_t n = buf ? fread(buf, 1, CN_CAP_TX + 1, f) : 0;
    int bad = buf == NULL || ferror(f);
    fclose(f);
    if (bad || n == 0 || n > CN_CAP_TX) {
        fprintf(stderr, "error: %s: %s\n", o->file,
                bad ? "cannot read" : n == 0 ? "empty file" : "larger than a transaction may be");
        free(buf);
        return CLEARCTL_FAILED;
    }
    cn_pb pb;
    cn_decode_err de = cn_decode(CN_MSG_SIGNED, buf, n, &pb);
    cn_pb_free(&pb);
    if (de != CN_DECODE_OK) {
        fprintf(stderr, "error: %s: not a signed transaction: %s\n", o->file,
                cn_decode_strerror(de));
        free(buf);
        return CLEARCTL_FAILED;
    }
    int rc = submit(clearctl_node_url(o->node), buf, n, o);
    free(buf);
    return rc;
}

int clearctl_tx(int argc, char **argv) {
    if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
        tx_usage(argc < 1 ? stderr : stdout);
        return argc < 1 ? CLEARCTL_USAGE : CLEARCTL_OK;
    }
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            tx_usage(stdout);
            return CLEARCTL_OK;
        }
    }
    if (clearctl_custody_kind(argv[0]))
        return clearctl_custody_tx(argc, argv);
    if (strcmp(argv[0], "reserve-attest") == 0)
        return clearctl_reserves_attest(argc, argv);
    tx_opts o;
    memset(&o, 0, sizeof o);
    int offline = 0, skip = 1;
    if (strcmp(argv[0], "send") == 0) {
        if (!parse_flags(argc - 1, argv + 1, &o)) {
            tx_usage(stderr);
            return CLEARCTL_USAGE;
        }
        return send_file(&o);
    }
    if (strcmp(argv[0], "sign") == 0) {
        if (argc < 2 || !known_kind(argv[1])) {
            fprintf(stderr, "error: tx sign needs a kind: register-client, deposit, transfer, deploy, "
                            "call\n");
            return CLEARCTL_USAGE;
        }
        offline = 1;
        skip = 2;
    } else if (!known_kind(argv[0])) {
        fprintf(stderr, "error: unknown tx command '%s'\n", argv[0]);
        tx_usage(stderr);
        return CLEARCTL_USAGE;
    }
    o.kind = argv[skip - 1];
    if (!parse_flags(argc - skip, argv + skip, &o)) {
        tx_usage(stderr);
        return CLEARCTL_USAGE;
    }
    return build(&o, offline);
}
