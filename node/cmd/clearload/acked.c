/* `clearload acked --nodes URL[,URL...] --file FILE [--wait-s S] [--threads T]
 *                  [--timeout-ms MS]`
 *
 * The safety check after a fault scenario: every transaction id in FILE (64 hex digits a
 * line, as `clearload soak --acked` writes them) must have a receipt on every listed node,
 * and the receipts must agree on height, index and code. A receipt missing on a node may only
 * be late (the node restarted and is catching up), so a missing one is asked for again until
 * --wait-s (default 30) has passed; receipts that differ fail at once. The first failing id
 * in file order is named with the node. Exit status: 0 all agree, 1 not, 2 bad usage or file. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/encoding.h"
#include "node/cmd/clearload/clearload.h"
#include "node/cmd/clearload/load.h"
#include "node/cmd/clearload/nodes.h"

#define ACKED_MAX 10000000u

typedef struct {
    cl_nodes *ns;
    const uint8_t (*hash)[32];
    size_t n;
    unsigned part, parts;
    uint64_t deadline;
    pthread_mutex_t *mu;
    size_t *first_bad; /* lowest failing line index, and why */
    char *why;
    long long min_h, max_h;
    size_t nonzero;
} acker;

/* Reads FILE into a malloc'd array of ids. Returns the count, or -1 after saying why. */
static long read_ids(const char *path, uint8_t (**out)[32]) {
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return -1;
    }
    size_t n = 0, cap = 1024;
    uint8_t(*ids)[32] = malloc(cap * sizeof *ids);
    char line[80];
    long ret = -1;
    for (size_t lineno = 1; ids; lineno++) {
        if (!fgets(line, sizeof line, f)) {
            ret = ferror(f) ? -1 : (long)n;
            if (ferror(f))
                fprintf(stderr, "error: reading %s failed\n", path);
            break;
        }
        size_t l = strcspn(line, "\r\n");
        int eol = line[l] != 0;
        line[l] = 0;
        if (!eol && !feof(f)) {
            fprintf(stderr, "error: %s:%zu: line too long\n", path, lineno);
            break;
        }
        if (l == 0)
            continue;
        if (n == ACKED_MAX) {
            fprintf(stderr, "error: %s: more than %u ids\n", path, ACKED_MAX);
            break;
        }
        if (n == cap) {
            uint8_t(*more)[32] = realloc(ids, 2 * cap * sizeof *ids);
            if (!more)
                break;
            ids = more;
            cap *= 2;
        }
        if (l != 64 || !cn_hex_decode_exact(ids[n], 32, line)) {
            fprintf(stderr, "error: %s:%zu: not a transaction id (64 hex digits)\n", path,
                    lineno);
            break;
        }
        n++;
    }
    fclose(f);
    if (ret < 0) {
        free(ids);
        return -1;
    }
    *out = ids;
    return ret;
}

static void fail_at(acker *a, size_t k, unsigned node, const char *what) {
    pthread_mutex_lock(a->mu);
    if (k < *a->first_bad) {
        *a->first_bad = k;
        char hex[65];
        cn_hex_encode(hex, a->hash[k], 32);
        snprintf(a->why, 512, "%s (line %zu) on %s: %s", hex, k + 1, a->ns->node[node].url,
                 what);
    }
    pthread_mutex_unlock(a->mu);
}

/* Reads id k's receipt on node i, asking again while it is missing and time is left. */
static int receipt_on(acker *a, cl_http *c, size_t k, unsigned i, cl_receipt *r) {
    for (;;) {
        int st = cl_receipt_get(c, a->hash[k], r);
        if (st == 200)
            return 1;
        if (cl_now_us() >= a->deadline) {
            char what[64];
            if (st == 404)
                snprintf(what, sizeof what, "no receipt");
            else if (st < 0)
                snprintf(what, sizeof what, "the node did not answer");
            else
                snprintf(what, sizeof what, "unexpected answer (HTTP %d)", st);
            fail_at(a, k, i, what);
            return 0;
        }
        usleep(100000);
    }
}

static void *acker_thread(void *arg) {
    acker *a = arg;
    cl_http conns[CL_MAX_NODES];
    cl_nodes_conns(a->ns, conns);
    for (size_t k = a->part; k < a->n; k += a->parts) {
        pthread_mutex_lock(a->mu);
        int past = k > *a->first_bad;
        pthread_mutex_unlock(a->mu);
        if (past)
            break; /* an earlier id failed already */
        cl_receipt first, r;
        memset(&first, 0, sizeof first);
        memset(&r, 0, sizeof r);
        for (unsigned i = 0; i < a->ns->n; i++) {
            if (!receipt_on(a, &conns[i], k, i, i ? &r : &first))
                break;
            if (i && (r.height != first.height || r.index != first.index || r.code != first.code)) {
                char what[512];
                snprintf(what, sizeof what,
                         "receipt height %lld index %lld code %lld, but %s has height %lld "
                         "index %lld code %lld",
                         r.height, r.index, r.code, a->ns->node[0].url, first.height,
                         first.index, first.code);
                fail_at(a, k, i, what);
                break;
            }
            if (i + 1 == a->ns->n) {
                a->min_h = a->min_h < 0 || first.height < a->min_h ? first.height : a->min_h;
                a->max_h = first.height > a->max_h ? first.height : a->max_h;
                a->nonzero += first.code != 0;
            }
        }
    }
    cl_nodes_conns_close(a->ns, conns);
    return NULL;
}

int cl_acked_cmd(int argc, char **argv) {
    const char *nodes = NULL, *file = NULL;
    unsigned long wait_s = 30, threads = 4, timeout_ms = 5000;
    for (int i = 0; i < argc; i += 2) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        unsigned long *num = NULL;
        if (v && strcmp(argv[i], "--nodes") == 0)
            nodes = v;
        else if (v && strcmp(argv[i], "--file") == 0)
            file = v;
        else if (v && strcmp(argv[i], "--wait-s") == 0)
            num = &wait_s;
        else if (v && strcmp(argv[i], "--threads") == 0)
            num = &threads;
        else if (v && strcmp(argv[i], "--timeout-ms") == 0)
            num = &timeout_ms;
        else {
            fprintf(stderr, "error: unexpected argument '%s' (try clearload --help)\n", argv[i]);
            return 2;
        }
        if (num && (*num = strtoul(v, &end, 10), !(v[0] >= '0' && v[0] <= '9') || *end)) {
            fprintf(stderr, "error: %s takes a whole number\n", argv[i]);
            return 2;
        }
    }
    if (!nodes || !file || wait_s > 86400 || threads < 1 || threads > 64 || timeout_ms < 100 ||
        timeout_ms > 600000) {
        fprintf(stderr, "error: acked needs --nodes URL[,URL...] --file FILE; wait-s <= 86400, "
                        "1 <= threads <= 64, 100 <= timeout-ms <= 600000\n");
        return 2;
    }
    cl_nodes ns;
    if (!cl_nodes_parse(&ns, nodes, (int)timeout_ms))
        return 2;
    uint8_t(*ids)[32] = NULL;
    long n = read_ids(file, &ids);
    if (n < 0)
        return 2;
    if (n == 0) {
        fprintf(stderr, "acked: %s holds no transaction id: nothing to check\n", file);
        free(ids);
        return 1;
    }
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    size_t first_bad = (size_t)-1;
    char why[512] = "";
    acker a[64];
    uint64_t deadline = cl_now_us() + (uint64_t)wait_s * 1000000u;
    for (unsigned i = 0; i < threads; i++)
        a[i] = (acker){&ns, (const uint8_t(*)[32])ids, (size_t)n, i, (unsigned)threads,
                       deadline, &mu, &first_bad, why, -1, 0, 0};
    cl_parallel((unsigned)threads, acker_thread, a, sizeof a[0]);
    long long min_h = -1, max_h = 0;
    size_t nonzero = 0;
    for (unsigned i = 0; i < threads; i++) {
        if (a[i].min_h >= 0 && (min_h < 0 || a[i].min_h < min_h))
            min_h = a[i].min_h;
        max_h = a[i].max_h > max_h ? a[i].max_h : max_h;
        nonzero += a[i].nonzero;
    }
    pthread_mutex_destroy(&mu);
    free(ids);
    if (why[0]) {
        printf("acked: FAILED: %s\n", why);
        return 1;
    }
    printf("acked: %ld transactions have the same receipt on all %u nodes (heights %lld..%lld; "
           "%zu with a nonzero code)\n",
           n, ns.n, min_h, max_h, nonzero);
    return 0;
}
