/* The end of a soak run (see soak.h): every committed transfer's receipt is read back (code 0,
 * at the height its block was seen), the clients' accounts are compared with what the
 * transfers imply, latencies are summarised, the committed ids written, the result printed. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/encoding.h"
#include "node/cmd/clearload/soak.h"

typedef struct {
    cl_soak *s;
    size_t n;
    unsigned part, parts;
    pthread_mutex_t *mu;
    size_t *first_bad; /* lowest transfer with a problem, and what it was */
    char *why;
    size_t bad, missing;
} checker;

static void note(checker *c, size_t k, const char *what) {
    pthread_mutex_lock(c->mu);
    if (k < *c->first_bad) {
        *c->first_bad = k;
        char hex[65];
        cn_hex_encode(hex, cl_soak_tx(c->s, k)->hash, 32);
        snprintf(c->why, 512, "transfer %zu (%s): %s", k, hex, what);
    }
    pthread_mutex_unlock(c->mu);
}

/* Reads transfer k's receipt from the first node that has it. */
static void check_one(checker *c, cl_http *conns, size_t k) {
    cl_soak *s = c->s;
    uint64_t seen = atomic_load(&cl_soak_st(s, k)->height);
    for (unsigned t = 0; t < s->nodes.n; t++) {
        cl_receipt rc;
        if (cl_receipt_get(&conns[(c->part + t) % s->nodes.n], cl_soak_tx(s, k)->hash, &rc) !=
            200)
            continue;
        char what[160];
        what[0] = 0;
        if (rc.code != 0)
            snprintf(what, sizeof what, "receipt code %lld (%s)", rc.code, rc.code_name);
        else if (rc.height < 0 || (uint64_t)rc.height != seen)
            snprintf(what, sizeof what, "receipt at height %lld, block seen at %llu",
                     rc.height, (unsigned long long)seen);
        if (what[0]) {
            c->bad++;
            note(c, k, what);
        }
        return;
    }
    c->missing++;
    note(c, k, "no node has its receipt");
}

static void *check_thread(void *arg) {
    checker *c = arg;
    cl_http conns[CL_MAX_NODES];
    cl_nodes_conns(&c->s->nodes, conns);
    for (size_t k = c->part; k < c->n; k += c->parts)
        if (atomic_load(&cl_soak_st(c->s, k)->commit_us))
            check_one(c, conns, k);
    cl_nodes_conns_close(&c->s->nodes, conns);
    return NULL;
}

/* The accounts, read from a node that has every block the follower saw. */
static long check_accounts(cl_soak *s, size_t n) {
    cl_http conns[CL_MAX_NODES];
    cl_nodes_conns(&s->nodes, conns);
    long off = -1;
    for (int tries = 0; tries < 100 && off < 0; tries++) {
        int best;
        if (cl_soak_tip(s, conns, &best) >= atomic_load(&s->seen_height) && best >= 0)
            off = cl_check_accounts(&conns[best], s->ck, s->clients, n, s->per, s->asset);
        if (off < 0)
            usleep(100000);
    }
    cl_nodes_conns_close(&s->nodes, conns);
    return off;
}

void cl_soak_check(cl_soak *s, size_t n, cl_soak_result *r) {
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    size_t first_bad = (size_t)-1;
    char why[512] = "";
    checker c[64];
    unsigned parts = s->threads < 64 ? s->threads : 64;
    for (unsigned i = 0; i < parts; i++)
        c[i] = (checker){s, n, i, parts, &mu, &first_bad, why, 0, 0};
    cl_parallel(parts, check_thread, c, sizeof c[0]);
    for (unsigned i = 0; i < parts; i++) {
        r->receipts_bad += c[i].bad;
        r->receipts_missing += c[i].missing;
    }
    pthread_mutex_destroy(&mu);
    if (why[0])
        fprintf(stderr, "clearload: %s\n", why);
    r->accounts_off = r->committed == n && n ? check_accounts(s, n) : -1;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

void cl_soak_latency(cl_soak *s, size_t n, cl_soak_result *r) {
    uint64_t *lat = malloc((n ? n : 1) * sizeof *lat);
    size_t m = 0;
    r->first_us = 0;
    for (size_t k = 0; k < n; k++) {
        cl_soak_state *st = cl_soak_st(s, k);
        uint64_t f = atomic_load(&st->first_us), c = atomic_load(&st->commit_us);
        if (f && (!r->first_us || f < r->first_us))
            r->first_us = f;
        if (lat && f && c)
            lat[m++] = c > f ? c - f : 0;
    }
    r->last_us = atomic_load(&s->last_commit_us);
    if (lat && m) {
        qsort(lat, m, sizeof *lat, cmp_u64);
        r->p50 = lat[(m - 1) * 50 / 100];
        r->p90 = lat[(m - 1) * 90 / 100];
        r->p99 = lat[(m - 1) * 99 / 100];
        r->max = lat[m - 1];
    }
    free(lat);
}

int cl_soak_write_acked(cl_soak *s, size_t n, const char *path) {
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return 0;
    }
    for (size_t k = 0; k < n; k++) {
        if (!atomic_load(&cl_soak_st(s, k)->commit_us))
            continue;
        char hex[65];
        cn_hex_encode(hex, cl_soak_tx(s, k)->hash, 32);
        fprintf(f, "%s\n", hex);
    }
    int ok = !ferror(f);
    ok &= fclose(f) == 0;
    if (!ok)
        fprintf(stderr, "error: writing %s failed\n", path);
    return ok;
}

/* Committed tx/s from the first send to the last commit, or 0. */
static uint64_t tx_rate(const cl_soak_result *r) {
    return r->last_us > r->first_us && r->committed
               ? (uint64_t)((unsigned __int128)r->committed * 1000000u /
                            (r->last_us - r->first_us))
               : 0;
}

static void print_json(cl_soak *s, const cl_soak_result *r) {
    json_t *nodes = json_array();
    for (unsigned i = 0; i < s->nodes.n; i++) {
        cl_node *nd = &s->nodes.node[i];
        json_array_append_new(
            nodes, json_pack("{s:s, s:I, s:I, s:I}", "url", nd->url, "accepted",
                             (json_int_t)atomic_load(&nd->accepted), "duplicates",
                             (json_int_t)atomic_load(&nd->duplicates), "left_out",
                             (json_int_t)atomic_load(&nd->downs)));
    }
    uint64_t span = r->last_us > r->first_us ? r->last_us - r->first_us : 0;
    json_t *o = json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "txs",
        (json_int_t)r->txs, "committed", (json_int_t)r->committed, "never_committed",
        (json_int_t)r->never, "refused", (json_int_t)atomic_load(&s->refused), "receipts_bad",
        (json_int_t)r->receipts_bad, "receipts_missing", (json_int_t)r->receipts_missing,
        "accounts_off", (json_int_t)r->accounts_off, "committed_tx_per_s",
        (json_int_t)tx_rate(r), "span_ms", (json_int_t)(span / 1000u), "resubmitted",
        (json_int_t)atomic_load(&s->resubmitted), "retried",
        (json_int_t)atomic_load(&s->retried), "height_from", (json_int_t)s->start_height,
        "height_to", (json_int_t)atomic_load(&s->seen_height), "verify_per_s_one_core",
        (json_int_t)r->verify_per_s, "cores", (json_int_t)sysconf(_SC_NPROCESSORS_ONLN));
    json_object_set_new(o, "latency_ms",
                        json_pack("{s:I, s:I, s:I, s:I}", "p50", (json_int_t)(r->p50 / 1000u),
                                  "p90", (json_int_t)(r->p90 / 1000u), "p99",
                                  (json_int_t)(r->p99 / 1000u), "max",
                                  (json_int_t)(r->max / 1000u)));
    json_object_set_new(o, "settings",
                        json_pack("{s:I, s:I, s:I, s:I, s:I}", "clients",
                                  (json_int_t)s->clients, "threads", (json_int_t)s->threads,
                                  "batch", (json_int_t)s->batch, "rate", (json_int_t)s->rate,
                                  "resubmit_ms", (json_int_t)(s->resubmit_us / 1000u)));
    json_object_set_new(o, "nodes", nodes);
    json_object_set_new(o, "ok", json_boolean(r->ok));
    char *d = o ? json_dumps(o, JSON_COMPACT) : NULL;
    printf("%s\n", d ? d : "{\"ok\":false}");
    free(d);
    json_decref(o);
}

void cl_soak_print(cl_soak *s, const cl_soak_result *r, int json) {
    if (json) {
        print_json(s, r);
        return;
    }
    uint64_t span = r->last_us > r->first_us ? r->last_us - r->first_us : 0;
    printf("clearload soak: %zu transfers from %lu clients to %u nodes, %u threads, %zu per "
           "request, ",
           r->txs, s->clients, s->nodes.n, s->threads, s->batch);
    if (s->rate)
        printf("paced at %llu tx/s\n", (unsigned long long)s->rate);
    else
        printf("unpaced\n");
    printf("  committed:       %zu (never committed: %zu; refused: %zu), heights %llu..%llu\n",
           r->committed, r->never, atomic_load(&s->refused),
           (unsigned long long)s->start_height + 1,
           (unsigned long long)atomic_load(&s->seen_height));
    printf("  receipts:        %zu with a nonzero code or another height, %zu missing\n",
           r->receipts_bad, r->receipts_missing);
    if (r->accounts_off >= 0)
        printf("  accounts:        %ld of %lu clients off what the transfers imply\n",
               r->accounts_off, s->clients);
    else
        printf("  accounts:        not checked (not every transfer committed)\n");
    printf("  committed tx/s:  %llu (first send to last commit: %llu.%03llu s)\n",
           (unsigned long long)tx_rate(r), (unsigned long long)(span / 1000000u),
           (unsigned long long)(span % 1000000u / 1000u));
    printf("  finality (ms):   p50 %llu, p90 %llu, p99 %llu, max %llu (send -> block seen)\n",
           (unsigned long long)(r->p50 / 1000u), (unsigned long long)(r->p90 / 1000u),
           (unsigned long long)(r->p99 / 1000u), (unsigned long long)(r->max / 1000u));
    printf("  resubmitted:     %zu sends after %llu ms without a commit; %zu sends repeated "
           "after mempool_full or the nonce window\n",
           atomic_load(&s->resubmitted), (unsigned long long)(s->resubmit_us / 1000u),
           atomic_load(&s->retried));
    printf("  BIP340 verifies/s (one core, raw): %llu\n", (unsigned long long)r->verify_per_s);
    for (unsigned i = 0; i < s->nodes.n; i++) {
        cl_node *nd = &s->nodes.node[i];
        printf("  %-28s accepted %zu, duplicate %zu, left out %zu times\n", nd->url,
               atomic_load(&nd->accepted), atomic_load(&nd->duplicates),
               atomic_load(&nd->downs));
    }
    printf("  result:          %s\n", r->ok ? "ok" : "FAILED");
}
