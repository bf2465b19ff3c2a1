/* `clearnode keys show`: the validator's public key, and loading the key for `start`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "crypto/encoding.h"
#include "crypto/keyfile.h"
#include "node/cli/passphrase.h"
#include "node/cmd/clearnode/clearnode.h"

int clearnode_load_key(const char *home, cn_keypair *kp) {
    char path[4200];
    snprintf(path, sizeof path, "%s/validator.key", home);
    uint8_t pub[32], sec[32];
    int enc = 0;
    cn_keyfile_err ke = cn_keyfile_read_pubkey(path, pub, &enc);
    if (ke) {
        fprintf(stderr, "error: %s: %s\n", path, cn_keyfile_strerror(ke));
        return 0;
    }
    char pass[CN_PASSPHRASE_MAX];
    long pl = 0;
    if (enc && (pl = cn_passphrase_get(pass, sizeof pass, "Validator key passphrase: ", 0)) < 0)
        return 0;
    ke = cn_keyfile_read(path, enc ? pass : NULL, (size_t)(enc ? pl : 0), sec, pub, NULL);
    sodium_memzero(pass, sizeof pass);
    if (ke) {
        fprintf(stderr, "error: %s: %s\n", path, cn_keyfile_strerror(ke));
        return 0;
    }
    int ok = cn_keypair_from_seckey(kp, sec);
    sodium_memzero(sec, sizeof sec);
    if (!ok)
        fprintf(stderr, "error: %s: not a valid secret key\n", path);
    return ok;
}

static void keys_usage(FILE *out) {
    fprintf(out, "usage: clearnode keys show --home DIR [--json]\n"
                 "  Prints the validator key's x-only public key (no passphrase needed).\n");
}

int clearnode_keys(int argc, char **argv) {
    if (argc < 1 || strcmp(argv[0], "--help") == 0) {
        keys_usage(argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    if (strcmp(argv[0], "show") != 0) {
        fprintf(stderr, "error: unknown keys command '%s'\n", argv[0]);
        keys_usage(stderr);
        return 2;
    }
    const char *home = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--home") == 0 && i + 1 < argc)
            home = argv[++i];
        else if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--help") == 0) {
            keys_usage(stdout);
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
    char path[4200];
    snprintf(path, sizeof path, "%s/validator.key", home);
    uint8_t pub[32];
    int enc = 0;
    cn_keyfile_err ke = cn_keyfile_read_pubkey(path, pub, &enc);
    if (ke) {
        fprintf(stderr, "error: %s: %s\n", path, cn_keyfile_strerror(ke));
        return 1;
    }
    char hex[65];
    cn_hex_encode(hex, pub, 32);
    if (json)
        printf("{\"pubkey\":\"%s\",\"file\":\"%s\",\"encrypted\":%s}\n", hex, path,
               enc ? "true" : "false");
    else
        printf("%s\n", hex);
    return 0;
}
