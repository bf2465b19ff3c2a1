/* `clearctl keys new|show`: the first user-facing commands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "crypto/encoding.h"
#include "crypto/keyfile.h"
#include "crypto/schnorr.h"
#include "node/cli/passphrase.h"
#include "node/cmd/clearctl/clearctl.h"

static void keys_usage(FILE *out) {
    fprintf(out,
            "usage:\n"
            "  clearctl keys new [--out FILE] [--dev] [--force] [--json]\n"
            "      Creates a secp256k1 key and prints its x-only public key (hex).\n"
            "      --out FILE  where to write the key file (default: ./clearnode.key)\n"
            "      --dev       store the secret UNENCRYPTED (local development only)\n"
            "      --force     overwrite an existing file\n"
            "      The passphrase comes from CLEARNODE_PASSPHRASE or a prompt (typed twice).\n"
            "  clearctl keys show FILE [--json]\n"
            "      Prints the public key of a key file (no passphrase needed).\n");
}

static void print_key(const uint8_t pub[32], const char *path, int encrypted, int json) {
    char hex[65];
    cn_hex_encode(hex, pub, 32);
    if (!json) {
        printf("%s\n", hex);
        return;
    }
    json_t *o = json_pack("{s:s, s:s, s:b}", "pubkey", hex, "file", path, "encrypted",
                          encrypted);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    printf("%s\n", text ? text : "{}");
    free(text);
    json_decref(o);
}

static int keys_new(int argc, char **argv) {
    const char *out = "clearnode.key";
    int dev = 0, force = 0, json = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (strcmp(argv[i], "--dev") == 0)
            dev = 1;
        else if (strcmp(argv[i], "--force") == 0)
            force = 1;
        else if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--help") == 0) {
            keys_usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "error: unexpected argument '%s'\n", argv[i]);
            keys_usage(stderr);
            return 2;
        }
    }
    uint8_t sec[32], pub[32];
    char pass[CN_PASSPHRASE_MAX];
    long pass_len = 0;
    if (!dev) {
        pass_len = cn_passphrase_get(pass, sizeof pass, "New key passphrase: ", 1);
        if (pass_len < 0)
            return 1;
    }
    if (!cn_seckey_generate(sec)) {
        fprintf(stderr, "error: could not generate a key\n");
        return 1;
    }
    cn_keypair kp;
    if (!cn_keypair_from_seckey(&kp, sec)) {
        sodium_memzero(sec, sizeof sec);
        fprintf(stderr, "error: could not derive the public key\n");
        return 1;
    }
    memcpy(pub, kp.pub, sizeof pub);
    cn_keypair_wipe(&kp);
    cn_keyfile_err err = cn_keyfile_write(out, sec, dev ? NULL : pass, (size_t)pass_len, force);
    sodium_memzero(pass, sizeof pass);
    sodium_memzero(sec, sizeof sec);
    if (err != CN_KEYFILE_OK) {
        fprintf(stderr, "error: %s: %s\n", out, cn_keyfile_strerror(err));
        return 1;
    }
    if (dev && !json)
        fprintf(stderr, "warning: %s holds the secret key UNENCRYPTED (development only)\n",
                out);
    print_key(pub, out, !dev, json);
    return 0;
}

static int keys_show(int argc, char **argv) {
    const char *file = NULL;
    int json = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--help") == 0) {
            keys_usage(stdout);
            return 0;
        } else if (!file && argv[i][0] != '-')
            file = argv[i];
        else {
            fprintf(stderr, "error: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!file) {
        keys_usage(stderr);
        return 2;
    }
    uint8_t pub[32];
    int encrypted = 0;
    cn_keyfile_err err = cn_keyfile_read_pubkey(file, pub, &encrypted);
    if (err != CN_KEYFILE_OK) {
        fprintf(stderr, "error: %s: %s\n", file, cn_keyfile_strerror(err));
        return 1;
    }
    print_key(pub, file, encrypted, json);
    return 0;
}

int clearctl_keys(int argc, char **argv) {
    if (argc < 1 || strcmp(argv[0], "--help") == 0) {
        keys_usage(argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    if (strcmp(argv[0], "new") == 0)
        return keys_new(argc - 1, argv + 1);
    if (strcmp(argv[0], "show") == 0)
        return keys_show(argc - 1, argv + 1);
    fprintf(stderr, "error: unknown keys command '%s'\n", argv[0]);
    keys_usage(stderr);
    return 2;
}
