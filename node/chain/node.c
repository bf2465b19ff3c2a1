/* Node lifecycle: open the home directory, run the event loop, stop cleanly (see node.h).
 *
 * Threads (docs/architecture.md "Threads"): the libevent loop runs the HTTP API
 * (node/rpc/server.h) and SIGINT/SIGTERM; the consensus engine (engine.h) runs on a thread of
 * its own with the peer-to-peer network, timers, block sync and block execution, so
 * admission goes on while a block commits; a small worker pool verifies the signatures of
 * batch submissions in parallel; the admitter admits peers' transactions, and the proof
 * warmer rebuilds each new reserves epoch's tree. A stop breaks the loop, then stops the engine after its
 * current step, so a stop never leaves a half-done height; a SIGKILL leaves the previous
 * height committed (one LMDB transaction per block) and the next start resumes there.
 */
#include "node/chain/node_internal.h"
#include "node/chain/producer.h"

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
static void sample_rate(cn_node *n);
static void admit_from_peers(void *ctx, size_t n, uint8_t *const *bytes, const size_t *lens);
static void admit_now(void *ctx, size_t n, const uint8_t *const *bytes, const size_t *lens);
static void on_commit(void *ctx, uint64_t height, size_t n_txs);

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
    n->cfg = *cfg;
    n->key = *key;
    char path[4200], why[512];
    snprintf(path, sizeof path, "%s/genesis.json", home);
    if (!cn_genesis_load(&n->g, path, why, sizeof why)) {
        snprintf(err, cap, "genesis: %s", why);
        free(n);
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
    /* Batch signature checks run on the calling thread plus one worker per other core. */
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned workers = cpus > 1 ? (unsigned)(cpus > 8 ? 7 : cpus - 1) : 0;
    n->verifiers = cn_workpool_new(workers);
    if (!n->verifiers) {
        snprintf(err, cap, "could not start %u signature verification threads", workers);
        cn_node_close(n);
        return 0;
    }
    n->admitter = cn_admitter_new(admit_now, n, cfg->mempool_max_txs);
    if (!n->admitter) {
        snprintf(err, cap, "could not start the peer transaction admission thread");
        cn_node_close(n);
        return 0;
    }
    n->warmer = cn_proof_warmer_new(n->store, n->g.chain_id);
    if (!n->warmer) {
        snprintf(err, cap, "could not start the reserves proof thread");
        cn_node_close(n);
        return 0;
    }
    cn_proof_warmer_poke(n->warmer); /* an epoch published before a restart */
    tip_publish(n);
    cn_node_backend_init(n);
    cn_engine_params ep = {.app = n->app,
                           .mp = n->mp,
                           .mp_lock = &n->mp_mu,
                           .key = &n->key,
                           .cfg = &n->cfg,
                           .admit = admit_from_peers,
                           .on_commit = on_commit,
                           .ctx = n};
    n->eng = cn_engine_new(&ep, why, sizeof why);
    if (!n->eng) {
        snprintf(err, cap, "%s", why);
        cn_node_close(n);
        return 0;
    }
    *out = n;
    return 1;
}

/* Transactions from peers, on the admitter's thread: the batch path, verdicts not reported
 * (the sender's node answered its client). */
static void admit_now(void *ctx, size_t n, const uint8_t *const *bytes, const size_t *lens) {
    cn_node *node = ctx;
    cn_txerr *codes = malloc(n * sizeof *codes);
    uint8_t(*hashes)[32] = malloc(n * 32);
    char *msgs = malloc(n * 96);
    if (codes && hashes && msgs)
        cn_node_admit_batch(node, n, bytes, lens, codes, hashes, msgs, 96, 0);
    free(codes);
    free(hashes);
    free(msgs);
}

/* On the engine thread: queue them and return to consensus. */
static void admit_from_peers(void *ctx, size_t n, uint8_t *const *bytes, const size_t *lens) {
    cn_node *node = ctx;
    size_t dropped = cn_admitter_push(node->admitter, n, bytes, lens);
    if (dropped)
        CN_LOG_WARN("peer transactions: %zu dropped, %zu already wait for admission", dropped,
                    cn_admitter_pending(node->admitter));
}

/* After each commit, on the engine thread. */
static void on_commit(void *ctx, uint64_t height, size_t n_txs) {
    cn_node *n = ctx;
    pthread_mutex_lock(&n->tip_mu);
    sample_rate(n);
    pthread_mutex_unlock(&n->tip_mu);
    tip_publish(n);
    cn_proof_warmer_poke(n->warmer);
    if (cn_log_enabled(CN_LOGL_INFO)) {
        const cn_tip *t = cn_app_tip(n->app);
        char ah[65];
        cn_hex_encode(ah, t->app_hash, 32);
        cn_app_stats st;
        cn_app_stats_get(n->app, &st);
        pthread_mutex_lock(&n->mp_mu);
        size_t pending = cn_mempool_count(n->mp);
        pthread_mutex_unlock(&n->mp_mu);
        CN_LOG_INFO("committed height=%llu txs=%zu app_hash=%.16s mempool=%zu block_ms=%llu",
                    (unsigned long long)height, n_txs, ah, pending,
                    (unsigned long long)st.last_block_ms);
    }
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

/* Called by the engine thread only (samp_* are its own; the API reads the rate under
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

/* Loop side: stops the loop when the engine hit a fatal error. */
static void on_watch(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    cn_node *n = arg;
    if (cn_engine_failed(n->eng)) {
        n->fatal = 1;
        event_base_loopbreak(n->base);
    }
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
    CN_LOG_INFO("chain %s at height %llu; node key %s; API on http://%s:%u; block interval "
                "%u ms",
                n->g.chain_id, (unsigned long long)t->height, vk, n->cfg.api_listen.host,
                (unsigned)cn_rpc_server_port(n->rpc), n->cfg.block_interval_ms);
    if (!cn_engine_start(n->eng, err, sizeof err)) {
        CN_LOG_ERROR("%s", err);
        return 1;
    }
    event_base_dispatch(n->base);
    cn_engine_stop(n->eng);
    CN_LOG_INFO("stopped at height %llu", (unsigned long long)cn_app_tip(n->app)->height);
    return n->fatal ? 1 : 0;
}

void cn_node_close(cn_node *n) {
    if (!n)
        return;
    cn_engine_free(n->eng); /* stops its thread first */
    n->eng = NULL;
    cn_admitter_free(n->admitter); /* after the engine, which feeds it */
    n->admitter = NULL;
    cn_proof_warmer_free(n->warmer); /* after the engine, which pokes it; before the store */
    n->warmer = NULL;
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
    pthread_mutex_destroy(&n->tip_mu);
    pthread_mutex_destroy(&n->mp_mu);
    free(n);
}
