/* clearctl entry point: dispatches to the command groups. */
#include <stdio.h>
#include <string.h>

#include "crypto/schnorr.h"
#include "node/cmd/clearctl/clearctl.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: clearctl <command> [args]\n"
            "\n"
            "commands:\n"
            "  keys new [--out FILE] [--dev] [--force]   create a key (encrypted unless --dev)\n"
            "  keys show FILE [--json]                   print a key file's public key\n"
            "  tx register-client|deposit|transfer ...   sign and submit a transaction\n"
            "  tx sign KIND ... --out FILE               sign offline into a file\n"
            "  tx send FILE                              submit a signed file\n"
            "  tx withdraw|approve|cancel|allowlist|propose|gov-approve ...  custody, governance\n"
            "  query account|tx|block|status|withdrawal|withdrawals|proposal ...  read the chain\n"
            "\n"
            "Run 'clearctl <command> --help' for details. Passphrases come from the\n"
            "CLEARNODE_PASSPHRASE environment variable or a terminal prompt. The node URL\n"
            "comes from --node, else CLEARNODE_NODE, else http://127.0.0.1:26657.\n"
            "\n"
            "exit codes: 0 ok, 1 rejected or failed, 2 usage error, 3 node unreachable\n");
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
    if (strcmp(argv[1], "keys") == 0)
        return clearctl_keys(argc - 2, argv + 2);
    if (strcmp(argv[1], "tx") == 0)
        return clearctl_tx(argc - 2, argv + 2);
    if (strcmp(argv[1], "query") == 0)
        return clearctl_query(argc - 2, argv + 2);
    fprintf(stderr, "error: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
