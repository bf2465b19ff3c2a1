/* `clearnode start`: loads config (file, then flags), the node key, and runs the node. */
#include <stdio.h>
#include <string.h>

#include "node/chain/node.h"
#include "node/cmd/clearnode/clearnode.h"
#include "node/config/config.h"
#include "node/util/log.h"

static void start_usage(FILE *out) {
    fprintf(out, "usage: clearnode start --home DIR [flags]\n"
                 "  Runs the node from DIR (created by 'clearnode init'): consensus, peers and\n"
                 "  the HTTP API. Stops cleanly on SIGINT or SIGTERM. Settings come from\n"
                 "  DIR/config; each can be overridden by a flag:\n");
    cn_config_print_flags(out);
}

int clearnode_start(int argc, char **argv) {
    const char *home = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            start_usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--home") == 0 && i + 1 < argc)
            home = argv[i + 1];
    }
    if (!home) {
        fprintf(stderr, "error: --home is required\n");
        start_usage(stderr);
        return 2;
    }
    cn_config cfg;
    cn_config_defaults(&cfg);
    char path[4200], err[1024];
    snprintf(path, sizeof path, "%s/config", home);
    if (!cn_config_load(&cfg, path, err, sizeof err)) {
        fprintf(stderr, "error: config: %s\n", err);
        return 1;
    }
    for (int i = 0; i < argc;) {
        if (strcmp(argv[i], "--home") == 0 && i + 1 < argc) {
            i += 2;
            continue;
        }
        int r = cn_config_flag(&cfg, argc, argv, &i, err, sizeof err);
        if (r < 0) {
            fprintf(stderr, "error: %s\n", err);
            return 2;
        }
        if (r == 0) {
            fprintf(stderr, "error: unexpected argument '%s'\n", argv[i]);
            start_usage(stderr);
            return 2;
        }
    }
    cn_log_set_level((int)cfg.log_level);
    cn_keypair kp;
    if (!clearnode_load_key(home, &kp))
        return 1;
    cn_node *n;
    int ok = cn_node_open(&n, home, &cfg, &kp, err, sizeof err);
    cn_keypair_wipe(&kp);
    if (!ok) {
        CN_LOG_ERROR("cannot start: %s", err);
        return 1;
    }
    int rc = cn_node_run(n);
    cn_node_close(n);
    return rc;
}
