/* clearaudit: entry point and command dispatch (see clearaudit.h and docs/auditor.md). */
#include <stdio.h>
#include <string.h>

#include "crypto/schnorr.h"
#include "node/cmd/clearaudit/clearaudit.h"

static int usage(FILE *out, int status) {
    fputs("usage: clearaudit COMMAND [options]   (clearaudit COMMAND --help for details)\n"
          "  verify-proof PROOF --header HEADER --validators GENESIS\n"
          "        a client's reserves inclusion proof against a certified header\n"
          "  verify-tree LEAVES [--attestations FILE] [--root HEX | --header ...]\n"
          "        rebuild an epoch's whole sum tree; per-asset solvency\n"
          "  verify-chain --node URL --validators GENESIS\n"
          "        headers and commit certificates block by block\n"
          "Every command takes --json. Exit: 0 verified, 1 a check failed, 2 usage,\n"
          "3 unreadable input, 4 network.\n",
          out);
    return status;
}

int main(int argc, char **argv) {
    if (argc < 2)
        return usage(stderr, CA_EXIT_USAGE);
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0)
        return usage(stdout, CA_EXIT_OK);
    if (!cn_crypto_init()) {
        fputs("clearaudit: cannot initialize libsodium/libsecp256k1\n", stderr);
        return CA_EXIT_INPUT;
    }
    if (strcmp(cmd, "verify-proof") == 0)
        return ca_cmd_verify_proof(argc - 1, argv + 1);
    if (strcmp(cmd, "verify-tree") == 0)
        return ca_cmd_verify_tree(argc - 1, argv + 1);
    if (strcmp(cmd, "verify-chain") == 0)
        return ca_cmd_verify_chain(argc - 1, argv + 1);
    fprintf(stderr, "clearaudit: unknown command '%s'\n", cmd);
    return usage(stderr, CA_EXIT_USAGE);
}
