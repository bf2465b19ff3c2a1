/* Node lifecycle: open the home directory, run the event loop, stop cleanly (see node.h).
 *
 * Everything runs on one libevent loop: the producer timer (every block.interval_ms), the HTTP
 * API (node/rpc/server.h), and SIGINT/SIGTERM, which break the loop after the current block.
 * Because a block is finalized and committed inside one timer callback, a stop never leaves a
 * half-done height; a SIGKILL leaves the previous height committed (one LMDB transaction per
 * block) and the next start resumes there.
 */
#include "node/chain/node_internal.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "crypto/encoding.h"
#include "node/rpc/server.h"
#include "node/util/log.h"

int cn_node_open(cn_node **out, const char *home, const cn_config *cfg, const cn_keypair *key,
                 char *err, size_t cap) {
    *out = NULL;
    cn_node *n = calloc(1, sizeof *n);
    if (!n) {
        snprintf(err, cap, "out of memory");
        return 0;
    }
    snprintf(n->home, sizeof n->home, "%s", home);
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
    n->prod = (cn_producer){n->app, n->mp, &n->key, NULL};
    cn_node_backend_init(n);
    n->last_block_wall = cn_wall_ms();
    *out = n;
    return 1;
}

cn_app *cn_node_app(cn_node *n) { return n->app; }
const cn_rpc_backend *cn_node_rpc_backend(cn_node *n) { return &n->backend; }

static void sample_rate(cn_node *n) {
    cn_app_stats st;
    cn_app_stats_get(n->app, &st);
    n->samp_t[n->samp_head] = cn_wall_ms();
    n->samp_n[n->samp_head] = st.txs_committed;
    n->samp_head = (n->samp_head + 1) % CN_RATE_SAMPLES;
    if (n->samp_count < CN_RATE_SAMPLES)
        n->samp_count++;
}

uint64_t cn_node_tx_rate(const cn_node *n) {
    if (n->samp_count < 2)
        return 0;
    size_t newest = (n->samp_head + CN_RATE_SAMPLES - 1) % CN_RATE_SAMPLES;
    size_t oldest = (n->samp_head + CN_RATE_SAMPLES - n->samp_count) % CN_RATE_SAMPLES;
    uint64_t dt = n->samp_t[newest] - n->samp_t[oldest];
    if (dt == 0)
        return 0;
    return (n->samp_n[newest] - n->samp_n[oldest]) * 1000u / dt;
}

int cn_node_produce(cn_node *n, int allow_empty, char *err, size_t cap) {
    int r = cn_producer_step(&n->prod, allow_empty, err, cap);
    if (r == 1) {
        n->last_block_wall = cn_wall_ms();
        sample_rate(n);
        const cn_tip *t = cn_app_tip(n->app);
        if (cn_log_enabled(CN_LOGL_INFO)) {
            char ah[65];
            cn_hex_encode(ah, t->app_hash, 32);
            cn_app_stats st;
            cn_app_stats_get(n->app, &st);
            CN_LOG_INFO("committed height=%llu app_hash=%.16s mempool=%zu block_ms=%llu",
                        (unsigned long long)t->height, ah, cn_mempool_count(n->mp),
                        (unsigned long long)st.last_block_ms);
        }
    }
    return r;
}

static void on_timer(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    cn_node *n = arg;
    uint64_t idle = cn_wall_ms() - n->last_block_wall;
    int allow_empty = n->cfg.empty_block_interval_ms && idle >= n->cfg.empty_block_interval_ms;
    char err[512];
    if (cn_node_produce(n, allow_empty, err, sizeof err) < 0) {
        CN_LOG_ERROR("stopping: %s", err);
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
    struct timeval tv = {(time_t)(n->cfg.block_interval_ms / 1000),
                         (suseconds_t)((n->cfg.block_interval_ms % 1000) * 1000)};
    n->timer = event_new(n->base, -1, EV_PERSIST, on_timer, n);
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
    event_base_dispatch(n->base);
    CN_LOG_INFO("stopped at height %llu", (unsigned long long)cn_app_tip(n->app)->height);
    return n->fatal ? 1 : 0;
}

void cn_node_close(cn_node *n) {
    if (!n)
        return;
    cn_rpc_server_stop(n->rpc);
    if (n->timer)
        event_free(n->timer);
    if (n->sigint)
        event_free(n->sigint);
    if (n->sigterm)
        event_free(n->sigterm);
    if (n->base)
        event_base_free(n->base);
    cn_mempool_free(n->mp);
    cn_app_close(n->app);
    cn_store_close(n->store);
    cn_genesis_free(&n->g);
    cn_keypair_wipe(&n->key);
    free(n);
}
