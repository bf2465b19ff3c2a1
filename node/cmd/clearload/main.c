/* clearload: signs transactions offline and generates load against a node.
 *
 *   clearload sign --key FILE --chain-id ID --nonce N [--b64] KIND ARGS...
 *       register-client PUBKEY [LABEL] | deposit ACCOUNT ASSET AMOUNT REF | transfer TO ASSET AMOUNT
 *       Writes the Signed transaction bytes to stdout (base64 with --b64).
 *   clearload run --node URL --key FILE [--clients N] [--txs N] [--threads T] [--batch B]
 *                 [--asset SYM] [--json]
 *       With a custodian member key: registers N fresh clients, deposits to each, then signs
 *       all transfers up front and submits them over HTTP from T connections as fast as the node
 *       takes them (retrying 503 mempool_full), waits until every one is committed, and prints
 *       committed tx/s next to the single-core BIP340 verifications per second of this machine.
 *       --batch B > 1 sends B transfers per request (POST /v1/txs). The rate counts only when
 *       the node's failed-tx counter did not move and every client's balance and nonce match;
 *       one transfer in 128 is followed from send to receipt for the latency p50/p99.
 *
 *   clearload soak --nodes URL[,URL...] --key FILE [--clients N] [--rate TX_PER_S]
 *                  [--txs N | --duration S] [--batch B] [--threads T] [--resubmit-ms MS]
 *                  [--wait-s S] [--timeout-ms MS] [--acked FILE] [--json]
 *       Sustained load on a network of validators (soak.h): the same setup and transfers as
 *       run, submitted round-robin over the nodes in batches, paced to --rate (0 = as fast as
 *       they are accepted), skipping a node that fails for a second and resending what is not
 *       committed after --resubmit-ms to another node. Follows the blocks to time every
 *       transfer from its first send to the first sight of its block; at the end waits up to
 *       --wait-s for the rest, checks every receipt and the accounts, writes the committed ids
 *       to --acked and prints committed tx/s, latency p50/p90/p99/max, resends and the
 *       transfers never committed. Exit 0 only when every transfer committed with code 0.
 *   clearload acked --nodes URL[,URL...] --file FILE [--wait-s S] [--threads T]
 *       Exit 0 only when every id in FILE has the same receipt (height, index, code) on every
 *       node; otherwise names the first id and node that differ or lack it (acked.c).
 *
 * Used by the integration tests, the crash test, the fault scenarios (testnet/) and `make
 * bench` (tests/bench/bench_node.c, tests/bench/bench_testnet.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/encoding.h"
#include "crypto/keyfile.h"
#include "crypto/schnorr.h"
#include "node/app/txbuild.h"
#include "node/cli/passphrase.h"
#include "node/cmd/clearload/clearload.h"

int cl_load_key(const char *path, cn_keypair *kp) {
    uint8_t pub[32], sec[32];
    int enc = 0;
    cn_keyfile_err e = cn_keyfile_read_pubkey(path, pub, &enc);
    char pass[CN_PASSPHRASE_MAX];
    long pl = 0;
    if (!e && enc && (pl = cn_passphrase_get(pass, sizeof pass, "Key passphrase: ", 0)) < 0)
        return 0;
    if (!e)
        e = cn_keyfile_read(path, enc ? pass : NULL, (size_t)(enc ? pl : 0), sec, pub, NULL);
    sodium_memzero(pass, sizeof pass);
    if (e) {
        fprintf(stderr, "error: %s: %s\n", path, cn_keyfile_strerror(e));
        return 0;
    }
    int ok = cn_keypair_from_seckey(kp, sec);
    sodium_memzero(sec, sizeof sec);
    return ok;
}

static int parse_u64(const char *s, uint64_t *v) {
    char *end;
    if (!*s || *s == '-')
        return 0;
    *v = strtoull(s, &end, 10);
    return *end == 0;
}

static void usage(FILE *out) {
    fprintf(out,
            "usage:\n"
            "  clearload sign --key FILE --chain-id ID --nonce N [--b64] KIND ARGS...\n"
            "      register-client PUBKEY [LABEL]\n"
            "      deposit ACCOUNT ASSET AMOUNT REF\n"
            "      transfer TO ASSET AMOUNT\n"
            "  clearload run --node URL --key FILE [--clients N] [--txs N] [--threads T]\n"
            "                [--batch B] [--asset SYM] [--json]\n"
            "  clearload soak --nodes URL[,URL...] --key FILE [--clients N (200)]\n"
            "                 [--rate TX_PER_S (0: as fast as accepted)]\n"
            "                 [--txs N (10000) | --duration S] [--batch B (32)] [--threads T (4)]\n"
            "                 [--resubmit-ms MS (3000)] [--wait-s S (60)] [--timeout-ms MS (5000)]\n"
            "                 [--acked FILE] [--json]\n"
            "  clearload acked --nodes URL[,URL...] --file FILE [--wait-s S (30)] [--threads T (4)]\n"
            "                  [--timeout-ms MS (5000)]\n");
}

static int cmd_sign(int argc, char **argv) {
    const char *key = NULL, *chain = NULL;
    uint64_t nonce = 0;
    int b64 = 0, i;
    for (i = 0; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--key") == 0 && i + 1 < argc)
            key = argv[++i];
        else if (strcmp(argv[i], "--chain-id") == 0 && i + 1 < argc)
            chain = argv[++i];
        else if (strcmp(argv[i], "--nonce") == 0 && i + 1 < argc) {
            if (!parse_u64(argv[++i], &nonce))
                return usage(stderr), 2;
        } else if (strcmp(argv[i], "--b64") == 0)
            b64 = 1;
        else
            return usage(stderr), 2;
    }
    if (!key || !chain || i >= argc)
        return usage(stderr), 2;
    cn_keypair kp;
    if (!cl_load_key(key, &kp))
        return 1;
    const char *kind = argv[i++];
    int rest = argc - i;
    char **a = argv + i;
    uint8_t pk[32], *out = NULL;
    size_t len = 0;
    uint64_t amount;
    int ok = 0;
    if (strcmp(kind, "register-client") == 0 && (rest == 1 || rest == 2) &&
        cn_hex_decode_exact(pk, 32, a[0]))
        ok = cn_tx_register_client(&kp, chain, nonce, pk, rest == 2 ? a[1] : "", &out, &len);
    else if (strcmp(kind, "deposit") == 0 && rest == 4 && cn_hex_decode_exact(pk, 32, a[0]) &&
             parse_u64(a[2], &amount))
        ok = cn_tx_deposit(&kp, chain, nonce, pk, a[1], amount, (const uint8_t *)a[3],
                           strlen(a[3]), &out, &len);
    else if (strcmp(kind, "transfer") == 0 && rest == 3 && cn_hex_decode_exact(pk, 32, a[0]) &&
             parse_u64(a[2], &amount))
        ok = cn_tx_transfer(&kp, chain, nonce, pk, a[1], amount, &out, &len);
    else {
        fprintf(stderr, "error: bad arguments for '%s'\n", kind);
        cn_keypair_wipe(&kp);
        return usage(stderr), 2;
    }
    cn_keypair_wipe(&kp);
    if (!ok) {
        fprintf(stderr, "error: could not sign\n");
        return 1;
    }
    if (b64) {
        size_t n = cn_b64_encoded_len(len);
        char *s = malloc(n);
        if (!s)
            return 1;
        cn_b64_encode(s, n, out, len);
        printf("%s\n", s);
        free(s);
    } else {
        fwrite(out, 1, len, stdout);
    }
    free(out);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!cn_crypto_init()) {
        fprintf(stderr, "error: crypto libraries failed to initialize\n");
        return 1;
    }
    if (strcmp(argv[1], "sign") == 0)
        return cmd_sign(argc - 2, argv + 2);
    if (strcmp(argv[1], "run") == 0)
        return cl_run(argc - 2, argv + 2);
    if (strcmp(argv[1], "soak") == 0)
        return cl_soak_cmd(argc - 2, argv + 2);
    if (strcmp(argv[1], "acked") == 0)
        return cl_acked_cmd(argc - 2, argv + 2);
    usage(stderr);
    return 2;
}
