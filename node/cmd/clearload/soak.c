/* `clearload soak` (see soak.h and main.c): options, setup, the run and its verdict. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "node/cmd/clearload/clearload.h"
#include "node/cmd/clearload/soak.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig) {
    (void)sig;
    interrupted = 1;
}

typedef struct {
    const char *nodes, *key, *acked;
    uint64_t clients, rate, txs, duration_s, batch, threads, resubmit_ms, wait_s, timeout_ms;
    int json;
} soak_opts;

/* Parses a decimal in [min, max] for option `name`. Returns 1, or 0 after saying why. */
static int num(const char *name, const char *v, uint64_t min, uint64_t max, uint64_t *out) {
    char *end;
    if (v[0] >= '0' && v[0] <= '9') {
        unsigned long long x = strtoull(v, &end, 10);
        if (!*end && x >= min && x <= max) {
            *out = x;
            return 1;
        }
    }
    fprintf(stderr, "error: %s takes a whole number from %llu to %llu (got '%s')\n", name,
            (unsigned long long)min, (unsigned long long)max, v);
    return 0;
}

static int parse(int argc, char **argv, soak_opts *o) {
    *o = (soak_opts){.clients = 200, .batch = 32, .threads = 4, .resubmit_ms = 3000,
                     .wait_s = 60, .timeout_ms = 5000};
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int ok = 1;
        if (strcmp(a, "--json") == 0) {
            o->json = 1;
            continue;
        }
        if (!v) {
            fprintf(stderr, "error: unexpected argument '%s' (try clearload --help)\n", a);
            return 0;
        }
        i++;
        if (strcmp(a, "--nodes") == 0)
            o->nodes = v;
        else if (strcmp(a, "--key") == 0)
            o->key = v;
        else if (strcmp(a, "--acked") == 0)
            o->acked = v;
        else if (strcmp(a, "--clients") == 0)
            ok = num(a, v, 2, 100000, &o->clients);
        else if (strcmp(a, "--rate") == 0)
            ok = num(a, v, 0, 1000000, &o->rate);
        else if (strcmp(a, "--txs") == 0)
            ok = num(a, v, 1, CL_SOAK_MAX_TXS, &o->txs);
        else if (strcmp(a, "--duration") == 0)
            ok = num(a, v, 1, 86400, &o->duration_s);
        else if (strcmp(a, "--batch") == 0)
            ok = num(a, v, 1, 1000, &o->batch);
        else if (strcmp(a, "--threads") == 0)
            ok = num(a, v, 1, 64, &o->threads);
        else if (strcmp(a, "--resubmit-ms") == 0)
            ok = num(a, v, 100, 600000, &o->resubmit_ms);
        else if (strcmp(a, "--wait-s") == 0)
            ok = num(a, v, 0, 86400, &o->wait_s);
        else if (strcmp(a, "--timeout-ms") == 0)
            ok = num(a, v, 100, 600000, &o->timeout_ms);
        else {
            fprintf(stderr, "error: unexpected argument '%s' (try clearload --help)\n", a);
            return 0;
        }
        if (!ok)
            return 0;
    }
    if (!o->nodes || !o->key) {
        fprintf(stderr, "error: soak needs --nodes URL[,URL...] and --key MEMBER_KEY\n");
        return 0;
    }
    if (o->txs && o->duration_s) {
        fprintf(stderr, "error: give --txs or --duration, not both\n");
        return 0;
    }
    if (o->duration_s && o->rate && o->rate * o->duration_s > CL_SOAK_MAX_TXS) {
        fprintf(stderr, "error: --rate x --duration is over %u transfers\n", CL_SOAK_MAX_TXS);
        return 0;
    }
    if (!o->txs && !o->duration_s)
        o->txs = 10000;
    return 1;
}

/* Starts `n` threads running fn(s); returns how many started. */
static unsigned start(pthread_t *th, unsigned n, void *(*fn)(void *), cl_soak *s) {
    unsigned k = 0;
    while (k < n && pthread_create(&th[k], NULL, fn, s) == 0)
        k++;
    return k;
}

/* Drives the run: returns the number of transfers taken for sending. */
static size_t drive(cl_soak *s, uint64_t wait_s) {
    pthread_t sub[64], follow, resub;
    s->t0 = cl_now_us();
    atomic_store(&s->submitting, s->threads);
    int have_follow = pthread_create(&follow, NULL, cl_soak_follow_thread, s) == 0;
    int have_resub = pthread_create(&resub, NULL, cl_soak_resubmit_thread, s) == 0;
    unsigned ns = start(sub, s->threads, cl_soak_submit_thread, s);
    if (!have_follow || !have_resub || ns == 0) {
        fprintf(stderr, "error: could not start the threads\n");
        atomic_store(&s->stop_submit, 1);
    }
    atomic_fetch_sub(&s->submitting, s->threads - ns);
    /* The submitters end by themselves; an interrupt only stops them taking new transfers. */
    while (atomic_load(&s->submitting) > 0) {
        if (interrupted)
            atomic_store(&s->stop_submit, 1);
        usleep(20000);
    }
    for (unsigned i = 0; i < ns; i++)
        pthread_join(sub[i], NULL);
    size_t n = atomic_load(&s->next);
    n = n < s->max_txs ? n : s->max_txs;
    uint64_t until = cl_now_us() + wait_s * 1000000u;
    while (have_follow && atomic_load(&s->committed) < n && cl_now_us() < until && !interrupted)
        usleep(20000);
    atomic_store(&s->stop, 1);
    if (have_follow)
        pthread_join(follow, NULL);
    if (have_resub)
        pthread_join(resub, NULL);
    return n;
}

int cl_soak_cmd(int argc, char **argv) {
    soak_opts o;
    if (!parse(argc, argv, &o))
        return 2;
    cl_soak *s = calloc(1, sizeof *s);
    if (!s)
        return 1;
    if (!cl_nodes_parse(&s->nodes, o.nodes, (int)o.timeout_ms)) {
        free(s);
        return 2;
    }
    s->clients = (unsigned long)o.clients;
    s->asset = "USD";
    s->rate = o.rate;
    s->batch = (size_t)o.batch;
    s->threads = (unsigned)o.threads;
    s->resubmit_us = o.resubmit_ms * 1000u;
    /* --txs: all signed before the clock starts, so signing takes no CPU from the nodes
     * during the run; --duration: signed on the way (a paced run needs little). */
    s->presigned = o.txs != 0;
    s->max_txs = o.txs ? (size_t)o.txs : o.rate ? (size_t)(o.rate * o.duration_s) : CL_SOAK_MAX_TXS;
    s->duration_us = o.duration_s * 1000000u;
    s->per = s->max_txs / s->clients + 1;
    cn_keypair member, *ck = calloc(s->clients, sizeof *ck);
    s->ck = ck;
    int ok = ck && cl_chain_id(&s->nodes, s->chain, sizeof s->chain) &&
             cl_load_key(o.key, &member);
    int have_member = ok;
    ok = ok && cl_setup(&s->nodes, &member, s->chain, s->asset, s->clients, s->per * 10, ck);
    if (have_member)
        cn_keypair_wipe(&member);
    int have_txs = ok && cl_soak_txs_init(s);
    ok = have_txs;
    if (ok && !(s->presigned ? cl_soak_presign(s, s->max_txs)
                             : cl_soak_sign(s, 0, s->max_txs < 2000 ? s->max_txs : 2000))) {
        fprintf(stderr, "error: signing the transfers failed\n");
        ok = 0;
    }
    cl_soak_result r;
    memset(&r, 0, sizeof r);
    if (ok) {
        /* The physical limit to compare with, measured on this machine before the load. */
        size_t sample = s->max_txs < 2000 ? s->max_txs : 2000;
        r.verify_per_s = cl_verify_rate(cl_soak_tx(s, 0), sample, s->chain);
        cl_http conns[CL_MAX_NODES];
        cl_nodes_conns(&s->nodes, conns);
        int best;
        s->start_height = cl_soak_tip(s, conns, &best);
        cl_nodes_conns_close(&s->nodes, conns);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        r.txs = drive(s, o.wait_s);
        r.committed = atomic_load(&s->committed);
        r.never = r.txs - r.committed;
        cl_soak_check(s, r.txs, &r);
        cl_soak_latency(s, r.txs, &r);
        r.acked_ok = !o.acked || cl_soak_write_acked(s, r.txs, o.acked);
        size_t bad_blocks = atomic_load(&s->bad_blocks);
        if (bad_blocks)
            fprintf(stderr, "clearload: %zu block answers did not parse as expected\n",
                    bad_blocks);
        if (interrupted)
            fprintf(stderr, "clearload: interrupted\n");
        r.ok = r.txs > 0 && r.never == 0 && atomic_load(&s->refused) == 0 &&
               atomic_load(&s->sign_failed) == 0 && r.receipts_bad == 0 &&
               r.receipts_missing == 0 && r.accounts_off == 0 && r.acked_ok &&
               bad_blocks == 0 && !interrupted;
        cl_soak_print(s, &r, o.json);
    }
    if (have_txs)
        cl_soak_txs_free(s);
    if (ck)
        sodium_memzero(ck, s->clients * sizeof *ck);
    free(ck);
    free(s);
    return ok && r.ok ? 0 : 1;
}
