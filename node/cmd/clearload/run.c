/* `clearload run`: setup (register clients, deposit; setup.c), sign all transfers up front,
 * submit them from several connections, wait until all are committed, report rates (see
 * main.c). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "crypto/encoding.h"
#include "node/cmd/clearload/clearload.h"
#include "node/cmd/clearload/http.h"
#include "node/cmd/clearload/load.h"

/* Prints a duration in microseconds as seconds with two decimals. */
static void fmt_s(char *out, size_t cap, uint64_t us) {
    snprintf(out, cap, "%llu.%02llu", (unsigned long long)(us / 1000000u),
             (unsigned long long)(us % 1000000u / 10000u));
}

/* Waits until every tx in `last` (hashes) has a receipt. Returns 1, or 0 on timeout. */
static int wait_committed(cl_http *c, cl_tx *const *last, size_t n, uint64_t timeout_s) {
    uint64_t t0 = cl_now_us();
    size_t i = 0;
    while (i < n) {
        char path[128], hex[65];
        cn_hex_encode(hex, last[i]->hash, 32);
        snprintf(path, sizeof path, "/v1/tx/%s", hex);
        int st;
        json_t *j = cl_get_json(c, path, &st);
        json_decref(j);
        if (st == 200) {
            i++;
            continue;
        }
        if (cl_now_us() - t0 > timeout_s * 1000000u)
            return 0;
        usleep(20000);
    }
    return 1;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

int cl_run(int argc, char **argv) {
    const char *url = NULL, *keyfile = NULL, *asset = "USD";
    unsigned long clients = 200, txs = 20000, threads = 4, batch = 1;
    int json = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--node") == 0 && i + 1 < argc)
            url = argv[++i];
        else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc)
            keyfile = argv[++i];
        else if (strcmp(argv[i], "--clients") == 0 && i + 1 < argc)
            clients = strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--txs") == 0 && i + 1 < argc)
            txs = strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
            batch = strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--asset") == 0 && i + 1 < argc)
            asset = argv[++i];
        else if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else {
            fprintf(stderr, "error: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!url || !keyfile || clients < 2 || clients > 100000 || txs > 10000000 || threads < 1 ||
        threads > 64 || batch < 1 || batch > 10000) {
        fprintf(stderr, "error: need --node URL --key FILE; 2 <= clients <= 100000, "
                        "txs <= 1e7, 1 <= threads <= 64, 1 <= batch <= 10000\n");
        return 2;
    }
    cl_nodes ns;
    if (!cl_nodes_parse(&ns, url, CL_HTTP_TIMEOUT_MS))
        return 2;
    cl_http c = ns.node[0].proto;
    char chain[80];
    if (!cl_chain_id(&ns, chain, sizeof chain))
        return 1;
    cn_keypair member;
    if (!cl_load_key(keyfile, &member))
        return 1;
    cn_keypair *ck = calloc(clients, sizeof *ck);
    cl_tx *tr = calloc(txs ? txs : 1, sizeof *tr);
    cl_tx **last = calloc(clients, sizeof *last);
    uint64_t per = txs / clients + 1;
    int ok = ck && tr && last && cl_setup(&ns, &member, chain, asset, clients, per * 10, ck);
    cn_keypair_wipe(&member);
    uint64_t ts0 = cl_now_us();
    for (unsigned long k = 0; ok && k < txs; k++) {
        ok = cl_sign_transfer(ck, clients, chain, asset, k, &tr[k]);
        last[k % clients] = &tr[k];
    }
    uint64_t sign_us = cl_now_us() - ts0;
    if (!ok) {
        fprintf(stderr, "error: setup or signing failed\n");
        for (unsigned long k = 0; tr && k < txs; k++)
            free(tr[k].bytes);
        free(tr);
        free(last);
        if (ck)
            sodium_memzero(ck, clients * sizeof *ck);
        free(ck);
        return 1;
    }
    uint64_t vps = cl_verify_rate(tr, txs < 2000 ? txs : 2000, chain);
    cl_submit s;
    memset(&s, 0, sizeof s);
    s.proto = c;
    s.txs = tr;
    s.n = txs;
    s.batch = batch;
    s.n_samples = (txs + CL_SAMPLE_EVERY - 1) / CL_SAMPLE_EVERY;
    s.sent_us = calloc(s.n_samples ? s.n_samples : 1, sizeof *s.sent_us);
    s.lat_us = calloc(s.n_samples ? s.n_samples : 1, sizeof *s.lat_us);
    long long failed0 = cl_failed_total(&c);
    if (!s.sent_us || !s.lat_us || failed0 < 0) {
        fprintf(stderr, "error: out of memory, or GET /metrics failed\n");
        return 1;
    }
    pthread_t th[64], sampler;
    uint64_t t0 = cl_now_us();
    int have_sampler = pthread_create(&sampler, NULL, cl_sampler_thread, &s) == 0;
    for (unsigned long i = 0; i < threads; i++)
        pthread_create(&th[i], NULL, cl_submit_thread, &s);
    for (unsigned long i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    uint64_t t_sub = cl_now_us() - t0;
    size_t nlast = 0;
    for (unsigned long i = 0; i < clients; i++)
        if (last[i])
            last[nlast++] = last[i];
    int done = atomic_load(&s.failed) == 0 && wait_committed(&c, last, nlast, 300);
    uint64_t t_all = cl_now_us() - t0;
    if (!done)
        atomic_store(&s.stop_sampler, 1);
    if (have_sampler)
        pthread_join(sampler, NULL);
    /* Honesty: count the transfers only when none failed at execution and the accounts show
     * every one of them applied. */
    long long failed1 = done ? cl_failed_total(&c) : -1;
    long bad_accts = done ? cl_check_accounts(&c, ck, clients, txs, per, asset) : -1;
    int verified = done && failed1 == failed0 && bad_accts == 0 &&
                   atomic_load(&s.sample_bad) == 0;
    uint64_t rate = verified && t_all ? (uint64_t)txs * 1000000u / t_all : 0;
    size_t nl = 0;
    for (size_t k = 0; k < s.n_samples; k++)
        if (s.lat_us[k])
            s.lat_us[nl++] = s.lat_us[k];
    qsort(s.lat_us, nl, sizeof *s.lat_us, cmp_u64);
    uint64_t p50 = nl ? s.lat_us[(nl - 1) / 2] / 1000u : 0;
    uint64_t p99 = nl ? s.lat_us[(nl - 1) * 99 / 100] / 1000u : 0;
    /* committed tx/s as a percentage of one core's raw verification rate, two decimals */
    uint64_t ratio = vps ? rate * 10000u / vps : 0;
    char s_sign[32], s_sub[32], s_all[32];
    fmt_s(s_sign, sizeof s_sign, sign_us);
    fmt_s(s_sub, sizeof s_sub, t_sub);
    fmt_s(s_all, sizeof s_all, t_all);
    if (json)
        printf("{\"txs\":%lu,\"clients\":%lu,\"threads\":%lu,\"batch\":%lu,\"sign_s\":%s,"
               "\"submit_s\":%s,\"commit_s\":%s,\"committed_tx_per_s\":%llu,"
               "\"verify_per_s_one_core\":%llu,\"ratio_percent\":%llu.%02llu,"
               "\"latency_ms_p50\":%llu,\"latency_ms_p99\":%llu,\"latency_samples\":%zu,"
               "\"retried\":%zu,\"rejected\":%zu,\"all_committed\":%s,\"verified\":%s}\n",
               txs, clients, threads, batch, s_sign, s_sub, s_all, (unsigned long long)rate,
               (unsigned long long)vps, (unsigned long long)(ratio / 100),
               (unsigned long long)(ratio % 100), (unsigned long long)p50,
               (unsigned long long)p99, nl, atomic_load(&s.retried), atomic_load(&s.failed),
               done ? "true" : "false", verified ? "true" : "false");
    else
        printf("clearload: %lu transfers from %lu clients over %lu connections, %lu per request\n"
               "  signed up front in %s s; submitted in %s s (%zu retries, %zu rejected)\n"
               "  all committed: %s after %s s\n"
               "  verified: %s (node failed-tx counter +%lld, %ld of %lu accounts off, %zu of %zu "
               "sampled receipts nonzero)\n"
               "  committed tx/s:                    %llu\n"
               "  submit->receipt latency (ms):      p50 %llu, p99 %llu (%zu samples)\n"
               "  BIP340 verifies/s (one core, raw): %llu\n"
               "  committed / one-core verifies:     %llu.%02llu %%\n",
               txs, clients, threads, batch, s_sign, s_sub, atomic_load(&s.retried),
               atomic_load(&s.failed), done ? "yes" : "NO", s_all, verified ? "yes" : "NO",
               failed1 >= 0 ? failed1 - failed0 : -1, bad_accts, clients,
               atomic_load(&s.sample_bad), nl, (unsigned long long)rate,
               (unsigned long long)p50, (unsigned long long)p99, nl, (unsigned long long)vps,
               (unsigned long long)(ratio / 100), (unsigned long long)(ratio % 100));
    free(s.sent_us);
    free(s.lat_us);
    for (unsigned long i = 0; i < txs; i++)
        free(tr[i].bytes);
    free(tr);
    free(last);
    sodium_memzero(ck, clients * sizeof *ck);
    free(ck);
    cl_http_close(&c);
    return verified ? 0 : 1;
}
