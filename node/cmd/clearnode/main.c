/* clearnode: the validator node (init, start, keys, verify). */
#include <stdio.h>
#include <string.h>

#include "crypto/schnorr.h"
#include "node/cmd/clearnode/clearnode.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: clearnode <command> [args]\n"
            "\n"
            "commands:\n"
            "  init --home DIR --genesis FILE [--key FILE | --dev-key]\n"
            "                      create a node home: genesis, config, validator key\n"
            "  start --home DIR [flags]\n"
            "                      run the node (block producer and HTTP API)\n"
            "  keys show --home DIR [--json]\n"
            "                      print the validator's public key\n"
            "  verify --home DIR [--replay]\n"
            "                      check the stored chain offline (node stopped)\n"
            "\n"
            "Run 'clearnode <command> --help' for details. Key passphrases come from the\n"
            "CLEARNODE_PASSPHRASE environment variable or a terminal prompt.\n");
}

int main(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!cn_crypto_init()) {
        fprintf(stderr, "error: crypto libraries failed to initialize\n");
        return 1;
    }
    if (strcmp(argv[1], "init") == 0)
        return clearnode_init(argc - 2, argv + 2);
    if (strcmp(argv[1], "start") == 0)
        return clearnode_start(argc - 2, argv + 2);
    if (strcmp(argv[1], "keys") == 0)
        return clearnode_keys(argc - 2, argv + 2);
    if (strcmp(argv[1], "verify") == 0)
        return clearnode_verify(argc - 2, argv + 2);
    fprintf(stderr, "error: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
