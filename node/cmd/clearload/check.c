/* clearload run: the honesty check (see load.h). A run counts its transfers as committed only
 * when the node's failed-tx counter did not move and every client's balance and next nonce are
 * exactly what the transfers imply when every one of them executed with code 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "crypto/encoding.h"
#include "node/cmd/clearload/load.h"

long long cl_failed_total(cl_http *c) {
    char *body = NULL;
    size_t bl;
    int st = cl_http_do(c, "GET", "/metrics", NULL, NULL, 0, &body, &bl);
    long long v = -1;
    const char *key = "\nclearnode_txs_failed_total ";
    const char *p = st == 200 && body ? strstr(body, key) : NULL;
    if (p)
        v = strtoll(p + strlen(key), NULL, 10);
    free(body);
    return v;
}

long cl_check_accounts(cl_http *c, const cn_keypair *ck, unsigned long clients,
                       unsigned long txs, uint64_t per, const char *asset) {
    long long *bal = calloc(clients, sizeof *bal);
    uint64_t *sent = calloc(clients, sizeof *sent);
    if (!bal || !sent) {
        free(bal);
        free(sent);
        return -1;
    }
    for (unsigned long i = 0; i < clients; i++)
        bal[i] = (long long)(per * 10);
    for (unsigned long k = 0; k < txs; k++) {
        unsigned long from = k % clients, to = (from + 1) % clients;
        long long amt = (long long)(1 + k % 7);
        bal[from] -= amt;
        bal[to] += amt;
        sent[from]++;
    }
    long bad = 0;
    for (unsigned long i = 0; i < clients && bad >= 0; i++) {
        char path[128], hex[65];
        cn_hex_encode(hex, ck[i].pub, 32);
        snprintf(path, sizeof path, "/v1/accounts/%s", hex);
        char *body = NULL;
        size_t bl;
        int st = cl_http_do(c, "GET", path, NULL, NULL, 0, &body, &bl);
        json_t *j = st == 200 && body ? json_loadb(body, bl, 0, NULL) : NULL;
        free(body);
        if (!j) {
            bad = -1;
            break;
        }
        const char *b = json_string_value(json_object_get(json_object_get(j, "balances"), asset));
        long long have = b ? strtoll(b, NULL, 10) : 0;
        json_int_t next = json_integer_value(json_object_get(j, "next_nonce"));
        if (have != bal[i] || (uint64_t)next != sent[i] + 1) {
            if (bad == 0)
                fprintf(stderr,
                        "clearload: client %lu: balance %lld (expected %lld), next nonce %lld "
                        "(expected %llu)\n",
                        i, have, bal[i], (long long)next, (unsigned long long)(sent[i] + 1));
            bad++;
        }
        json_decref(j);
    }
    free(bal);
    free(sent);
    return bad;
}
