/* `clearnode verify`: offline check of a stopped node's chain (node/chain/verify.h). */
#include <stdio.h>
#include <string.h>

#include "node/app/reserves.h"
#include "node/chain/verify.h"
#include "node/cmd/clearnode/clearnode.h"
#include "node/genesis/genesis.h"
#include "node/store/store.h"

static void verify_usage(FILE *out) {
    fprintf(out, "usage: clearnode verify --home DIR [--replay]\n"
                 "  Checks the stored chain while the node is stopped: every block links to the\n"
                 "  previous one and carries a valid commit certificate, tx roots, receipts for\n"
                 "  every tx, the app hash chain, and supply = sum of balances for each asset.\n"
                 "  --replay also re-executes every block from genesis in a temporary store and\n"
                 "  compares each app hash and the final state key by key.\n");
}

int clearnode_verify(int argc, char **argv) {
    const char *home = NULL;
    int replay = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--home") == 0 && i + 1 < argc)
            home = argv[++i];
        else if (strcmp(argv[i], "--replay") == 0)
            replay = 1;
        else if (strcmp(argv[i], "--help") == 0) {
            verify_usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "error: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!home) {
        fprintf(stderr, "error: --home is required\n");
        return 2;
    }
    cn_genesis g;
    char path[4200], err[1024];
    snprintf(path, sizeof path, "%s/genesis.json", home);
    if (!cn_genesis_load(&g, path, err, sizeof err)) {
        fprintf(stderr, "error: genesis: %s\n", err);
        return 1;
    }
    /* a replay rebuilds reserves trees: it needs the same salts as the validators */
    if (!cn_reserves_load_key(home, err, sizeof err)) {
        fprintf(stderr, "error: reserves: %s\n", err);
        cn_genesis_free(&g);
        return 1;
    }
    snprintf(path, sizeof path, "%s/data", home);
    cn_store *s;
    cn_store_err se = cn_store_open(&s, path, NULL);
    if (se) {
        fprintf(stderr, "error: store %s: %s\n", path, cn_store_strerror(se));
        cn_genesis_free(&g);
        return 1;
    }
    cn_verify_report rep;
    int ok = cn_verify_chain(s, &g, replay, &rep, err, sizeof err);
    cn_store_close(s);
    cn_genesis_free(&g);
    if (!ok) {
        fprintf(stderr, "verify FAILED: %s\n", err);
        return 1;
    }
    printf("verify ok: height %llu, %llu txs with receipts, %zu assets balanced, app hash %s%s\n",
           (unsigned long long)rep.height, (unsigned long long)rep.txs, rep.assets, rep.app_hash_hex,
           replay ? ", replay identical" : "");
    return 0;
}
