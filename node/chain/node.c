/* Node lifecycle: open the home directory, run the event loop, stop cleanly (see node.h).
 *
 * Threads (docs/architecture.md "Threads"): the libevent loop runs the HTTP API
 * (node/rpc/server.h) and SIGINT/SIGTERM; the producer thread makes a block every
 * block.interval_ms (reap under the mempool lock, finalize + commit without it, update under
 * it), so admission goes on while a block commits; a small worker pool verifies the
 * signatures of batch submissions in parallel. A stop breaks the loop, then asks the producer
 * to stop and joins it after its current block, so a stop never leaves a half-done height; a
 * SIGKILL leaves the previous height committed (one LMDB transaction per block) and the next
 * start resumes there.
 */
#include "node/chain/node_internal.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "crypto/encoding.h"
#include "node/app/reserves.h"
#include "node/rpc/server.h"
#include "node/util/log.h"

static void tip_publish(cn_node *n);

int cn_node_open(cn_node **out, const char *home, const cn_config *cfg, const cn_keypair *key,
                 char *err, size_t cap) {
    *out = NULL;
    cn_node *n = calloc(1, sizeof *n);
    if (!n) {
        snprintf(err, cap, "out of memory");
        return 0;
    }
    snprintf(n->home, sizeof n->home, "%s", home);
    pthread_mutex_init(&n->mp_mu, NULL);
    pthread_mutex_init(&n->tip_mu, NULL);
    pthread_mutex_init(&n->ctl_mu, NULL);
    pthread_cond_init(&n->ctl_cv, NULL);
    atomic_init(&n->prod_fatal, 0);
    n->cfg = *cfg;
    n->key = *key;
    char path[4200], why[512];
    snprintf(path, sizeof path, "%s/genesis.json", home);
    if (!cn_genesis_load(&n->g, path, why, sizeof why)) {
        snprintf(err, cap, "genesis: %s", why);
        free(n);
        return 0;
    }
    const cn_gen_member *m = cn_genesis_member(&n->g, key->pub);
    if (!m || !(m->roles & CN_ROLE_VALIDATOR)) {
        char hex[65];
        cn_hex_encode(hex, key->pub, 32);
        snprintf(err, cap, "the validator key %s is not a validator in genesis", hex);
        cn_node_close(n);
        return 0;
    }
    if (n->g.total_power != m->power) {
        snprintf(err, cap, "genesis has several validators; this version runs a single-validator "
                           "chain only");
        cn_node_close(n);
        return 0;
    }
    if (!cn_reserves_load_key(home, why, sizeof why)) {
        snprintf(err, cap, "reserves: %s", why);
        cn_node_close(n);
        return 0;
    }
    snprintf(path, sizeof path, "%s/data", home);
    cn_store_err se = cn_store_open(&n->store, path, NULL);
    if (se) {
        snprintf(err, cap, "store %s: %s%s%s", path, cn_store_strerror(se),
                 cn_store_last_raw() ? ": " : "", cn_store_last_detail());
        cn_node_close(n);
        return 0;
    }
    size_t sig_cap = (size_t)cfg->mempool_max_txs * 2;
    if (!cn_app_open(&n->app, n->store, &n->g, sig_cap, why, sizeof why)) {
        snprintf(err, cap, "%s", why);
        cn_node_close(n);
        return 0;
    }
    cn_mempool_limits lim = {cfg->mempool_max_txs, cfg->mempool_max_bytes,
                             cfg->mempool_nonce_window};
    n->mp = cn_mempool_new(n->app, &lim);
    if (!n->mp) {
        snprintf(err, cap, "out of memory");
        cn_node_close(n);
        return 0;
    }
    n->prod = (cn_producer){.app = n->app, .mp = n->mp, .key = &n->key, .mp_lock = &n->mp_mu};
    /* Batch signature checks run on the calling thread plus one worker per other core. */
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned workers = cpus > 1 ? (unsigned)(cpus > 8 ? 7 : cpus - 1) : 0;
    n->verifiers = cn_workpool_new(workers);
    if (!n->verifiers) {
        snprintf(err, cap, "could not start %u signature verification threads", workers);
        cn_node_close(n);
        return 0;
    }
    tip_publish(n);
    cn_node_backend_init(n);
    n->last_block_wall = cn_wall_ms();
    *out = n;
    return 1;
}

cn_app *cn_node_app(cn_node *n) { return n->app; }

/* Copies the app's tip for the API; called by the thread that commits, after each commit. */
static void tip_publish(cn_node *n) {
    const cn_tip *t = cn_app_tip(n->app);
    pthread_mutex_lock(&n->tip_mu);
    n->tip_height = t->height;
    n->tip_time_ms = t->time_ms;
    memcpy(n->tip_app_hash, t->app_hash, 32);
    memcpy(n->tip_block_id, t->block_id, 32);
    pthread_mutex_unlock(&n->tip_mu);
}

void cn_node_tip_get(cn_node *n, uint64_t *height, uint64_t *time_ms, uint8_t app_hash[32],
                     uint8_t block_id[32]) {
    pthread_mutex_lock(&n->tip_mu);
    *height = n->tip_height;
    *time_ms = n->tip_time_ms;
    memcpy(app_hash, n->tip_app_hash, 32);
    memcpy(block_id, n->tip_block_id, 32);
    pthread_mutex_unlock(&n->tip_mu);
}
const cn_rpc_backend *cn_node_rpc_backend(cn_node *n) { return &n->backend; }

/* Called by the producer thread only (samp_* are its own; the API reads the rate under
 * tip_mu). */
static void sample_rate(cn_node *n) {
    cn_app_stats st;
    cn_app_stats_get(n->app, &st);
    n->samp_t[n->samp_head] = cn_wall_ms();
    n->samp_n[n->samp_head] = st.txs_committed;
    n->samp_head = (n->samp_head + 1) % CN_RATE_SAMPLES;
    if (n->samp_count < CN_RATE_SAMPLES)
        n->samp_count++;
}

uint64_t cn_node_tx_rate(cn_node *n) {
    uint64_t rate = 0;
    pthread_mutex_lock(&n->tip_mu);
    if (n->samp_count >= 2) {
        size_t newest = (n->samp_head + CN_RATE_SAMPLES - 1) % CN_RATE_SAMPLES;
        size_t oldest = (n->samp_head + CN_RATE_SAMPLES - n->samp_count) % CN_RATE_SAMPLES;
        uint64_t dt = n->samp_t[newest] - n->samp_t[oldest];
        if (dt > 0)
            rate = (n->samp_n[newest] - n->samp_n[oldest]) * 1000u / dt;
    }
    pthread_mutex_unlock(&n->tip_mu);
    return rate;
}

int cn_node_produce(cn_node *n, int allow_empty, char *err, size_t cap) {
    int r = cn_producer_step(&n->prod, allow_empty, err, cap);
    if (r == 1) {
        n->last_block_wall = cn_wall_ms();
        pthread_mutex_lock(&n->tip_mu);
        sample_rate(n);
        pthread_mutex_unlock(&n->tip_mu);
        tip_publish(n);
        const cn_tip *t = cn_app_tip(n->app);
        if (cn_log_enabled(CN_LOGL_INFO)) {
            char ah[65];
            cn_hex_encode(ah, t->app_hash, 32);
            cn_app_stats st;
            cn_app_stats_get(n->app, &st);
            pthread_mutex_lock(&n->mp_mu);
            size_t pending = cn_mempool_count(n->mp);
            pthread_mutex_unlock(&n->mp_mu);
            CN_LOG_INFO("committed height=%llu app_hash=%.16s mempool=%zu block_ms=%llu",
                        (unsigned long long)t->height, ah, pending,
                        (unsigned long long)st.last_block_ms);
        }
    }
    return r;
}

/* The producer thread: one step every block.interval_ms until asked to stop or a fatal error
 * (which the loop's watch timer notices). */
static void *producer_main(void *arg) {
    cn_node *n = arg;
    uint64_t interval = n->cfg.block_interval_ms ? n->cfg.block_interval_ms : 1;
    for (;;) {
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        uint64_t ns = (uint64_t)dl.tv_nsec + (interval % 1000u) * 1000000u;
        dl.tv_sec += (time_t)(interval / 1000u + ns / 1000000000u);
        dl.tv_nsec = (long)(ns % 1000000000u);
        pthread_mutex_lock(&n->ctl_mu);
        int rc = 0;
        while (!n->stop && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&n->ctl_cv, &n->ctl_mu, &dl);
        int stop = n->stop;
        pthread_mutex_unlock(&n->ctl_mu);
        if (stop)
            return NULL;
        uint64_t idle = cn_wall_ms() - n->last_block_wall;
        int allow_empty = n->cfg.empty_block_interval_ms && idle >= n->cfg.empty_block_interval_ms;
        char err[512];
        if (cn_node_produce(n, allow_empty, err, sizeof err) < 0) {
            CN_LOG_ERROR("stopping: %s", err);
            atomic_store(&n->prod_fatal, 1);
            return NULL;
        }
    }
}

/* Loop side: stops the loop when the producer thread hit a fatal error. */
static void on_watch(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    cn_node *n = arg;
    if (atomic_load(&n->prod_fatal)) {
        n->fatal = 1;
        event_base_loopbreak(n->base);
    }
}

/* Asks the producer thread to stop and joins it (after its current block). */
static void producer_stop(cn_node *n) {
    if (!n->prod_started)
        return;
    pthread_mutex_lock(&n->ctl_mu);
    n->stop = 1;
    pthread_cond_broadcast(&n->ctl_cv);
    pthread_mutex_unlock(&n->ctl_mu);
    pthread_join(n->prod_th, NULL);
    n->prod_started = 0;
}

static void on_signal(evutil_socket_t sig, short what, void *arg) {
    (void)what;
    cn_node *n = arg;
    CN_LOG_INFO("received %s, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    event_base_loopbreak(n->base);
}

int cn_node_run(cn_node *n) {
    n->base = event_base_new();
    if (!n->base) {
        CN_LOG_ERROR("could not create the event loop");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    struct timeval tv = {0, 50000};
    n->timer = event_new(n->base, -1, EV_PERSIST, on_watch, n);
    n->sigint = evsignal_new(n->base, SIGINT, on_signal, n);
    n->sigterm = evsignal_new(n->base, SIGTERM, on_signal, n);
    if (!n->timer || !n->sigint || !n->sigterm || event_add(n->timer, &tv) ||
        event_add(n->sigint, NULL) || event_add(n->sigterm, NULL)) {
        CN_LOG_ERROR("could not register events");
        return 1;
    }
    cn_rpc_limits lim = {(size_t)n->cfg.rpc_max_body, n->cfg.rpc_max_connections,
                         n->cfg.rpc_requests_per_sec, n->cfg.rpc_burst};
    char err[512];
    n->rpc = cn_rpc_server_start(n->base, n->cfg.api_listen.host, n->cfg.api_listen.port,
                                 &n->backend, &lim, err, sizeof err);
    if (!n->rpc) {
        CN_LOG_ERROR("HTTP API on %s:%u: %s", n->cfg.api_listen.host,
                     (unsigned)n->cfg.api_listen.port, err);
        return 1;
    }
    const cn_tip *t = cn_app_tip(n->app);
    char vk[65];
    cn_hex_encode(vk, n->key.pub, 32);
    CN_LOG_INFO("chain %s at height %llu; validator %s; API on http://%s:%u; block interval "
                "%u ms",
                n->g.chain_id, (unsigned long long)t->height, vk, n->cfg.api_listen.host,
                (unsigned)cn_rpc_server_port(n->rpc), n->cfg.block_interval_ms);
    if (pthread_create(&n->prod_th, NULL, producer_main, n) != 0) {
        CN_LOG_ERROR("could not start the producer thread");
        return 1;
    }
    n->prod_started = 1;
    event_base_dispatch(n->base);
    producer_stop(n);
    CN_LOG_INFO("stopped at height %llu", (unsigned long long)cn_app_tip(n->app)->height);
    return n->fatal ? 1 : 0;
}

void cn_node_close(cn_node *n) {
    if (!n)
        return;
    producer_stop(n);
    cn_rpc_server_stop(n->rpc);
    if (n->timer)
        event_free(n->timer);
    if (n->sigint)
        event_free(n->sigint);
    if (n->sigterm)
        event_free(n->sigterm);
    if (n->base)
        event_base_free(n->base);
    cn_workpool_free(n->verifiers);
    cn_mempool_free(n->mp);
    cn_app_close(n->app);
    cn_store_close(n->store);
    cn_genesis_free(&n->g);
    cn_keypair_wipe(&n->key);
    pthread_cond_destroy(&n->ctl_cv);
    pthread_mutex_destroy(&n->ctl_mu);
    pthread_mutex_destroy(&n->tip_mu);
    pthread_mutex_destroy(&n->mp_mu);
    free(n);
}
