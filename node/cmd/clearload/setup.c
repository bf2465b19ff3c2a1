/* The setup of a load run (see load.h): fresh client keys, registered and funded by a member
 * key, submitted in nonce order through whichever node answers.
 *
 * The member's transactions carry consecutive nonces, so they go out in order, 32 per batch,
 * and a node admits them only within its nonce window: a `bad_nonce` answer means "beyond the
 * window, wait for commits" (or, after a failover, "already committed"), so the loop re-reads
 * the member's committed nonce and carries on from there. A node that fails is left out and
 * the rest is sent to another one (what the first one had admitted and gossiped comes back
 * `duplicate`). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/encoding.h"
#include "node/app/txbuild.h"
#include "node/cmd/clearload/load.h"

#define SETUP_BATCH 32u

json_t *cl_get_json(cl_http *c, const char *path, int *status) {
    char *body = NULL;
    size_t bl = 0;
    *status = cl_http_do(c, "GET", path, NULL, NULL, 0, &body, &bl);
    json_t *j = body ? json_loadb(body, bl, 0, NULL) : NULL;
    free(body);
    return j;
}

int cl_chain_id(cl_nodes *ns, char *chain, size_t cap) {
    int st = -1;
    for (unsigned i = 0; i < ns->n; i++) {
        cl_http c = ns->node[i].proto;
        json_t *j = cl_get_json(&c, "/v1/status", &st);
        cl_http_close(&c);
        const char *cid = json_string_value(json_object_get(j, "chain_id"));
        int ok = st == 200 && cid && strlen(cid) < cap;
        if (ok)
            snprintf(chain, cap, "%s", cid);
        json_decref(j);
        if (ok)
            return 1;
        cl_nodes_down(ns, i);
    }
    fprintf(stderr, "error: no node answered GET /v1/status (last: HTTP %d)\n", st);
    return 0;
}

/* The member's next nonce as committed on c: >= 1, 0 when it is not registered, -1 when the
 * node did not answer. */
static long long next_nonce(cl_http *c, const uint8_t pub[32]) {
    char path[128], hex[65];
    cn_hex_encode(hex, pub, 32);
    snprintf(path, sizeof path, "/v1/accounts/%s", hex);
    int st;
    json_t *j = cl_get_json(c, path, &st);
    json_t *nn = json_object_get(j, "next_nonce");
    long long v = st == 404 ? 0 : json_is_integer(nn) ? (long long)json_integer_value(nn) : -1;
    json_decref(j);
    return v;
}

/* Signs the setup in nonce order: register client i at base + 2i, deposit to it at
 * base + 2i + 1 (a deposit needs its account registered first). */
static int sign_setup(const cn_keypair *member, const char *chain, const char *asset,
                      unsigned long clients, uint64_t deposit, uint64_t base, cn_keypair *ck,
                      cl_tx *tx) {
    uint8_t runid[8];
    randombytes_buf(runid, sizeof runid);
    for (unsigned long i = 0; i < clients; i++) {
        uint8_t sec[32], *b = NULL;
        size_t n = 0;
        do
            randombytes_buf(sec, 32);
        while (!cn_keypair_from_seckey(&ck[i], sec));
        sodium_memzero(sec, sizeof sec);
        int ok = cn_tx_register_client(member, chain, base + 2 * i, ck[i].pub, "load", &b, &n);
        if (!cl_tx_set(&tx[2 * i], ok, b, n))
            return 0;
        char ref[64];
        cn_hex_encode(ref, runid, 8);
        snprintf(ref + 16, sizeof ref - 16, "-%lu", i);
        ok = cn_tx_deposit(member, chain, base + 2 * i + 1, ck[i].pub, asset, deposit,
                           (const uint8_t *)ref, strlen(ref), &b, &n);
        if (!cl_tx_set(&tx[2 * i + 1], ok, b, n))
            return 0;
    }
    return 1;
}

/* Sends tx[0..n) (nonces base..) in order until every one is admitted or committed. */
static int submit_setup(cl_nodes *ns, const uint8_t member[32], uint64_t base, cl_tx *tx,
                        size_t n, uint64_t deadline) {
    const cl_tx *ptr[SETUP_BATCH];
    size_t maxlen = 0;
    for (size_t i = 0; i < n; i++)
        maxlen = tx[i].len > maxlen ? tx[i].len : maxlen;
    uint8_t *buf = malloc(SETUP_BATCH * (maxlen + 10));
    if (!buf)
        return 0;
    size_t sent = 0; /* tx[0..sent) admitted by the current node, or committed */
    int node = -1, refresh = 1, ok = 0;
    while (cl_now_us() < deadline) {
        if (node < 0 && (node = cl_nodes_pick(ns, -1)) < 0) {
            usleep(50000);
            continue;
        }
        cl_http *c = &ns->node[node].proto;
        if (refresh) {
            long long nn = next_nonce(c, member);
            if (nn <= 0) {
                if (nn == 0) {
                    fprintf(stderr, "error: the member key is not a registered account\n");
                    break;
                }
                cl_http_close(c);
                cl_nodes_down(ns, (unsigned)node);
                node = -1;
                continue;
            }
            if ((uint64_t)nn > base + sent)
                sent = (uint64_t)nn - base < n ? (size_t)((uint64_t)nn - base) : n;
            refresh = 0;
        }
        if (sent == n) {
            ok = 1;
            break;
        }
        size_t k = n - sent < SETUP_BATCH ? n - sent : SETUP_BATCH;
        for (size_t j = 0; j < k; j++)
            ptr[j] = &tx[sent + j];
        size_t len = cl_batch_encode(ptr, k, buf);
        int st;
        char *err = NULL;
        json_t *ans = cl_post_batch(c, buf, len, k, &st, &err);
        if (!ans) {
            if (st >= 0 && st != 429 && st != 503)
                fprintf(stderr, "clearload: setup batch answered HTTP %d: %.300s\n", st,
                        err ? err : "");
            free(err);
            cl_http_close(c);
            cl_nodes_down(ns, (unsigned)node);
            node = -1;
            sent = 0;
            refresh = 1;
            continue;
        }
        json_t *res = json_object_get(ans, "results");
        size_t j = 0;
        for (; j < k; j++) {
            json_t *r = json_array_get(res, j);
            const char *code = json_string_value(json_object_get(r, "code"));
            code = code ? code : "";
            if (strcmp(code, "ok") == 0 || strcmp(code, "duplicate") == 0)
                continue;
            if (strcmp(code, "bad_nonce") != 0 && strcmp(code, "mempool_full") != 0) {
                char *d = json_dumps(r, JSON_COMPACT);
                fprintf(stderr, "error: setup transaction rejected: %s\n", d ? d : code);
                free(d);
                json_decref(ans);
                free(buf);
                return 0;
            }
            refresh = 1;
            break;
        }
        json_decref(ans);
        sent += j;
        if (j < k)
            usleep(20000);
    }
    free(buf);
    if (!ok && cl_now_us() >= deadline)
        fprintf(stderr, "error: setup transactions not admitted in time\n");
    return ok;
}

/* Waits until every setup tx has a receipt with code 0 on some live node. */
static int await_setup(cl_nodes *ns, const cl_tx *tx, size_t n, uint64_t deadline) {
    size_t i = n; /* the last one first: once it is there, all are */
    int checking_last = 1;
    while (cl_now_us() < deadline) {
        int node = cl_nodes_pick(ns, -1);
        if (node < 0) {
            usleep(50000);
            continue;
        }
        cl_http *c = &ns->node[node].proto;
        size_t k = checking_last ? n - 1 : i;
        cl_receipt rc;
        int st = cl_receipt_get(c, tx[k].hash, &rc);
        int good = st == 200 && rc.code == 0;
        if (st == 200 && !good) {
            char hex[65];
            cn_hex_encode(hex, tx[k].hash, 32);
            fprintf(stderr, "error: setup transaction %s failed: code %lld (%s)\n", hex,
                    rc.code, rc.code_name);
            return 0;
        }
        if (st < 0) {
            cl_nodes_down(ns, (unsigned)node);
        } else if (good && checking_last) {
            checking_last = 0;
            i = 0;
        } else if (good && ++i == n) {
            return 1;
        } else if (!good) {
            usleep(20000);
        }
    }
    fprintf(stderr, "error: setup transactions were not committed in time\n");
    return 0;
}

int cl_setup(cl_nodes *ns, const cn_keypair *member, const char *chain, const char *asset,
             unsigned long clients, uint64_t deposit, cn_keypair *ck) {
    uint64_t deadline = cl_now_us() + (60u + clients / 50u) * 1000000u;
    long long base = -1;
    for (unsigned i = 0; i < ns->n && base < 0; i++) {
        base = next_nonce(&ns->node[i].proto, member->pub);
        cl_http_close(&ns->node[i].proto);
    }
    if (base <= 0) {
        fprintf(stderr, base == 0 ? "error: the member key is not a registered account\n"
                                  : "error: no node answered GET /v1/accounts\n");
        return 0;
    }
    size_t n = 2 * (size_t)clients;
    cl_tx *tx = calloc(n, sizeof *tx);
    int ok = tx && sign_setup(member, chain, asset, clients, deposit, (uint64_t)base, ck, tx);
    if (!ok)
        fprintf(stderr, "error: signing the setup failed\n");
    ok = ok && submit_setup(ns, member->pub, (uint64_t)base, tx, n, deadline);
    ok = ok && await_setup(ns, tx, n, deadline);
    for (size_t i = 0; tx && i < n; i++)
        free(tx[i].bytes);
    free(tx);
    for (unsigned i = 0; i < ns->n; i++)
        cl_http_close(&ns->node[i].proto);
    return ok;
}
