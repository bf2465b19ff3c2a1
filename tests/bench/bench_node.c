/* Node throughput benchmark (`make bench`).
 *
 * Makes a one-member test network (testnet/gen.sh) in a temporary directory, starts a real
 * `clearnode` on a free loopback port, and runs `clearload run`, which signs all transfers up
 * front, submits them over HTTP as fast as the node takes them (CLEARNODE_BENCH_BATCH transfers
 * per POST /v1/txs request, default 256; 1 = one POST /v1/tx each), waits until every one has
 * a committed receipt, checks that all executed with code 0 (the node's failed-tx counter and
 * every client's balance and nonce), and prints committed tx/s, the submit->receipt latency
 * p50/p99, the single-core BIP340 verifications per second measured in the same run and the
 * ratio. The node is stopped by its PID and the directory removed; each attempt is bounded
 * (clearload waits at most 300 s for commits). CLEARNODE_BENCH_TXS (default 60000) and
 * CLEARNODE_BENCH_CLIENTS (default 600) size the run. Target: >= 10,000 committed tx/s on one
 * validator on a 2-core machine.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int run(const char *cmd) {
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : 1;
}

int main(void) {
    const char *bin = getenv("CLEARNODE_BIN");
    if (!bin) {
        fprintf(stderr, "bench_node: CLEARNODE_BIN must point at the built programs\n");
        return 1;
    }
    const char *txs = getenv("CLEARNODE_BENCH_TXS"), *clients = getenv("CLEARNODE_BENCH_CLIENTS");
    const char *batch = getenv("CLEARNODE_BENCH_BATCH");
    batch = batch ? batch : "256";
    txs = txs ? txs : "60000";
    clients = clients ? clients : "600";
    char dir[] = "/tmp/cn-bench-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char cmd[16384];
    snprintf(cmd, sizeof cmd,
             "CLEARNODE_BIN=%s testnet/gen.sh -n 1 --out %s/net --chain-id bench >/dev/null && "
             "%s/clearnode init --home %s/home --genesis %s/net/genesis.json "
             "--key %s/net/keys/member0.key >/dev/null",
             bin, dir, bin, dir, dir, dir);
    if (run(cmd) != 0) {
        fprintf(stderr, "bench_node: setup failed\n");
        return 1;
    }
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    int rc = 1;
    for (int attempt = 0; attempt < 5 && rc != 0; attempt++) {
        int port = 20000 + rand() % 40000;
        char listen[32], logf[4200], home[4200], url[64];
        snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
        snprintf(logf, sizeof logf, "%s/node.log", dir);
        snprintf(home, sizeof home, "%s/home", dir);
        snprintf(url, sizeof url, "http://%s", listen);
        char node[4200];
        snprintf(node, sizeof node, "%s/clearnode", bin);
        pid_t pid = fork();
        if (pid == 0) {
            if (!freopen(logf, "a", stderr))
                _exit(127);
            execl(node, node, "start", "--home", home, "--api-listen", listen,
                  "--mempool-nonce-window", "100000", "--mempool-max-txs", "200000",
                  "--mempool-max-bytes", "1073741824", "--log-level", "warn", (char *)NULL);
            _exit(127);
        }
        snprintf(cmd, sizeof cmd,
                 "for i in $(seq 1 100); do curl -sf %s/v1/status >/dev/null && exit 0; "
                 "sleep 0.05; done; exit 1",
                 url);
        if (run(cmd) == 0) {
            printf("bench_node: one validator, %s transfers from %s clients, %s per request\n",
                   txs, clients, batch);
            fflush(stdout);
            snprintf(cmd, sizeof cmd,
                     "%s/clearload run --node %s --key %s/net/keys/member0.key --clients %s "
                     "--txs %s --threads 4 --batch %s",
                     bin, url, dir, clients, txs, batch);
            rc = run(cmd);
        }
        kill(pid, SIGTERM);
        int st;
        waitpid(pid, &st, 0);
        if (rc != 0) {
            snprintf(cmd, sizeof cmd, "tail -5 %s", logf);
            run(cmd);
        }
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    run(cmd);
    return rc;
}
