/* clearctl query reserves EPOCH             GET /v1/reserves/{epoch}
 * clearctl query reserves-proof EPOCH --key FILE [--account HEX] [--proto] --out FILE
 *   signs the request (docs/reserves.md "On chain", request signing) with the key and saves
 *   the proof: JSON by default (with the client's secret), the encoded ReservesProof with
 *   --proto. --account asks for another account's proof (auditor keys only).
 * clearctl query reserves-leaves EPOCH --key FILE --out FILE
 *   the epoch's leaf export (auditor keys only), for clearaudit verify-tree. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clearctl.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "node/app/txbuild.h"
#include "crypto/schnorr.h"
#include "node/app/reserves_view.h"
#include "node/cmd/clearctl/http.h"

static void usage(FILE *f) {
    fprintf(f, "usage:\n"
               "  clearctl query reserves EPOCH [--node URL] [--json]\n"
               "  clearctl query reserves-proof EPOCH --key FILE --out FILE [--account HEX]\n"
               "                                [--proto] [--node URL]\n"
               "  clearctl query reserves-leaves EPOCH --key FILE --out FILE [--node URL]\n");
}

static int save(const char *path, const clearctl_http_resp *r) {
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(r->body, 1, r->len, f) == r->len;
    if (f && fclose(f) != 0)
        ok = 0;
    if (!ok) {
        fprintf(stderr, "error: cannot write %s\n", path);
        return CLEARCTL_FAILED;
    }
    printf("wrote %zu bytes to %s\n", r->len, path);
    return CLEARCTL_OK;
}

/* The node's chain id from GET /v1/status (the signed digest binds it). */
static int chain_id(const char *node, char *out, size_t cap) {
    clearctl_http_resp resp;
    int rc = clearctl_call(node, "GET", "/v1/status", NULL, NULL, 0, &resp);
    if (rc != CLEARCTL_OK)
        return 0;
    json_t *st = resp.status == 200 ? clearctl_json_body(&resp) : NULL;
    const char *cid = st ? json_string_value(json_object_get(st, "chain_id")) : NULL;
    int ok = cid && strlen(cid) < cap;
    if (ok)
        snprintf(out, cap, "%s", cid);
    else
        fprintf(stderr, "error: the node's status has no usable chain_id\n");
    json_decref(st);
    clearctl_http_free(&resp);
    return ok;
}

int clearctl_reserves_query(int argc, char **argv) {
    int leavesq = strcmp(argv[0], "reserves-leaves") == 0;
    int proofq = strcmp(argv[0], "reserves-proof") == 0 || leavesq, json = 0, proto = 0;
    const char *ep = NULL, *node = NULL, *key = NULL, *out = NULL, *acct = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--proto") == 0 && proofq)
            proto = 1;
        else if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return CLEARCTL_OK;
        } else if (strcmp(argv[i], "--node") == 0 && i + 1 < argc && !node)
            node = argv[++i];
        else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc && !key && proofq)
            key = argv[++i];
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc && !out && proofq)
            out = argv[++i];
        else if (strcmp(argv[i], "--account") == 0 && i + 1 < argc && !acct && proofq &&
                 !leavesq)
            acct = argv[++i];
        else if (argv[i][0] != '-' && !ep)
            ep = argv[i];
        else {
            fprintf(stderr, "error: unexpected argument '%s'\n", argv[i]);
            usage(stderr);
            return CLEARCTL_USAGE;
        }
    }
    node = clearctl_node_url(node);
    uint64_t epoch;
    if (!ep) {
        fprintf(stderr, "error: an EPOCH is required\n");
        usage(stderr);
        return CLEARCTL_USAGE;
    }
    if (!clearctl_parse_u64("epoch", ep, 1, UINT64_MAX / 2, &epoch))
        return CLEARCTL_USAGE;
    char path[200];
    clearctl_http_resp resp;
    if (!proofq) {
        snprintf(path, sizeof path, "/v1/reserves/%llu", (unsigned long long)epoch);
        int rc = clearctl_call(node, "GET", path, NULL, NULL, 0, &resp);
        if (rc != CLEARCTL_OK)
            return rc;
        if (resp.status != 200) {
            rc = clearctl_node_error(&resp, json);
        } else {
            json_t *j = clearctl_json_body(&resp);
            rc = j ? CLEARCTL_OK : CLEARCTL_FAILED;
            if (j)
                clearctl_print(j, json);
            json_decref(j);
        }
        clearctl_http_free(&resp);
        return rc;
    }
    if (!key || !out) {
        fprintf(stderr, "error: %s needs --key FILE and --out FILE\n", argv[0]);
        return CLEARCTL_USAGE;
    }
    cn_keypair kp;
    if (!clearctl_load_key(key, &kp))
        return CLEARCTL_FAILED;
    uint8_t target[32];
    memcpy(target, kp.pub, 32);
    if (acct && !clearctl_parse_hex32("account", acct, target)) {
        cn_keypair_wipe(&kp);
        return CLEARCTL_USAGE;
    }
    char cid[80];
    if (!chain_id(node, cid, sizeof cid)) {
        cn_keypair_wipe(&kp);
        return CLEARCTL_FAILED;
    }
    char hex[65], request[240], sighex[129], hdr[512];
    cn_hex_encode(hex, target, 32);
    if (leavesq)
        snprintf(path, sizeof path, "/v1/reserves/%llu/leaves", (unsigned long long)epoch);
    else
        snprintf(path, sizeof path, "/v1/reserves/%llu/proof/%s", (unsigned long long)epoch,
                 hex);
    snprintf(request, sizeof request, "GET %s", path);
    uint64_t ts = (uint64_t)time(NULL);
    uint8_t d[32], sig[64];
    cn_reserves_api_digest(d, cid, request, ts);
    int signed_ok = cn_sign32(&kp, sig, d, NULL);
    cn_hex_encode(hex, kp.pub, 32);
    cn_keypair_wipe(&kp);
    if (!signed_ok) {
        fprintf(stderr, "error: signing failed\n");
        return CLEARCTL_FAILED;
    }
    cn_hex_encode(sighex, sig, 64);
    snprintf(hdr, sizeof hdr,
             "X-Clearnode-Signer: %s\r\nX-Clearnode-Signature: %s\r\n"
             "X-Clearnode-Timestamp: %llu\r\n",
             hex, sighex, (unsigned long long)ts);
    if (proto)
        strncat(path, "?format=proto", sizeof path - strlen(path) - 1);
    clearctl_http_set_extra_headers(hdr);
    int rc = clearctl_call(node, "GET", path, NULL, NULL, 0, &resp);
    clearctl_http_set_extra_headers(NULL);
    if (rc != CLEARCTL_OK)
        return rc;
    rc = resp.status == 200 ? save(out, &resp) : clearctl_node_error(&resp, json);
    clearctl_http_free(&resp);
    return rc;
}

/* clearctl tx reserve-attest --epoch N --holding ASSET=AMOUNT [--holding ...] --key FILE
 * [--node URL]: signs and submits a reserve_attest; prints "accepted <hash>". */
int clearctl_reserves_attest(int argc, char **argv) {
    const char *ep = NULL, *node = NULL, *key = NULL;
    char sym[CN_POR_MAX_ASSETS][CN_POR_SYMBOL_MAX + 1];
    Clearnode__V1__AssetAmount h[CN_POR_MAX_ASSETS], *hp[CN_POR_MAX_ASSETS];
    size_t nh = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--epoch") == 0 && i + 1 < argc && !ep)
            ep = argv[++i];
        else if (strcmp(argv[i], "--node") == 0 && i + 1 < argc && !node)
            node = argv[++i];
        else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc && !key)
            key = argv[++i];
        else if (strcmp(argv[i], "--holding") == 0 && i + 1 < argc && nh < CN_POR_MAX_ASSETS) {
            const char *v = argv[++i], *eq = strchr(v, '=');
            size_t l = eq ? (size_t)(eq - v) : 0;
            if (!eq || l == 0 || l > CN_POR_SYMBOL_MAX) {
                fprintf(stderr, "error: --holding: ASSET=AMOUNT expected\n");
                return CLEARCTL_USAGE;
            }
            memcpy(sym[nh], v, l);
            sym[nh][l] = 0;
            clearnode__v1__asset_amount__init(&h[nh]);
            if (!clearctl_parse_asset("--holding", sym[nh]) ||
                !clearctl_parse_u64("--holding", eq + 1, 0, INT64_MAX, &h[nh].amount))
                return CLEARCTL_USAGE;
            h[nh].asset = sym[nh];
            hp[nh] = &h[nh];
            nh++;
        } else {
            fprintf(stderr, "error: unexpected argument '%s'\n", argv[i]);
            return CLEARCTL_USAGE;
        }
    }
    node = clearctl_node_url(node);
    Clearnode__V1__ReserveAttest a;
    clearnode__v1__reserve_attest__init(&a);
    if (!ep || !key || nh == 0 || !clearctl_parse_u64("--epoch", ep, 1, INT64_MAX, &a.epoch)) {
        fprintf(stderr, "usage: clearctl tx reserve-attest --epoch N --holding ASSET=AMOUNT "
                        "[--holding ...] --key FILE [--node URL]\n");
        return CLEARCTL_USAGE;
    }
    a.n_holdings = nh;
    a.holdings = hp;
    char cid[80], hex[65], path[100];
    if (!chain_id(node, cid, sizeof cid))
        return CLEARCTL_FAILED;
    cn_keypair kp;
    if (!clearctl_load_key(key, &kp))
        return CLEARCTL_FAILED;
    cn_hex_encode(hex, kp.pub, 32);
    snprintf(path, sizeof path, "/v1/accounts/%s", hex);
    clearctl_http_resp resp;
    int rc = clearctl_call(node, "GET", path, NULL, NULL, 0, &resp);
    json_t *acct = rc == CLEARCTL_OK && resp.status == 200 ? clearctl_json_body(&resp) : NULL;
    if (rc == CLEARCTL_OK)
        clearctl_http_free(&resp);
    json_t *nj = acct ? json_object_get(acct, "nonce") : NULL;
    Clearnode__V1__Tx tx;
    clearnode__v1__tx__init(&tx);
    tx.nonce = json_is_integer(nj) ? (uint64_t)json_integer_value(nj) + 1 : 0;
    json_decref(acct);
    tx.kind_case = CLEARNODE__V1__TX__KIND_RESERVE_ATTEST;
    tx.reserve_attest = &a;
    uint8_t *b = NULL;
    size_t len = 0;
    int ok = tx.nonce != 0 && cn_tx_sign(&kp, cid, &tx, &b, &len);
    cn_keypair_wipe(&kp);
    if (!ok) {
        fprintf(stderr, "error: no nonce for the signer, or the tx cannot be encoded\n");
        return rc == CLEARCTL_OK ? CLEARCTL_FAILED : rc;
    }
    uint8_t id[32];
    cn_hash_tagged(id, CN_TAG_TX, b, len);
    cn_hex_encode(hex, id, 32);
    rc = clearctl_call(node, "POST", "/v1/tx", "application/x-protobuf", b, len, &resp);
    free(b);
    if (rc != CLEARCTL_OK)
        return rc;
    rc = resp.status == 200 || resp.status == 202 ? CLEARCTL_OK : clearctl_node_error(&resp, 0);
    clearctl_http_free(&resp);
    if (rc == CLEARCTL_OK)
        printf("accepted %s\n", hex);
    return rc;
}
