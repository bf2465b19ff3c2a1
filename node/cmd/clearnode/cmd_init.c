/* `clearnode init`: creates a node home from a genesis file (docs/operator.md).
 *
 * Steps, each checked before anything is written: the genesis validates; the home has no
 * genesis, config or key yet. Then: copy the genesis bytes (and contract files it names by
 * relative path) into the home, write the default config (mempool limits from the genesis
 * parameters), and create or import the validator key. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <sodium.h>

#include "crypto/encoding.h"
#include "crypto/keyfile.h"
#include "node/app/reserves.h"
#include "node/cli/passphrase.h"
#include "node/cmd/clearnode/clearnode.h"
#include "node/config/config.h"
#include "node/genesis/genesis.h"
#include "node/genesis/genesis_io.h"

static void init_usage(FILE *out) {
    fprintf(out,
            "usage: clearnode init --home DIR --genesis FILE [--key FILE | --dev-key]\n"
            "                      [--reserves-secret FILE]\n"
            "  --home DIR      node home to create (must not be initialized already)\n"
            "  --genesis FILE  genesis JSON (docs/genesis.md); validated first\n"
            "  --key FILE      import this key file as the validator key (copied as is)\n"
            "  --dev-key       create an UNENCRYPTED validator key (local development only)\n"
            "  --reserves-secret FILE  the consortium reserves key (64 hex digits; the same\n"
            "                  file for every member; docs/reserves.md \"On chain\")\n"
            "Without --key or --dev-key a new encrypted key is created; its passphrase comes\n"
            "from CLEARNODE_PASSPHRASE or a prompt.\n");
}

/* mkdir -p with mode 0700 for created directories. */
static int mkdirs(const char *path) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return 0;
        *p = '/';
    }
    return mkdir(buf, 0700) == 0 || errno == EEXIST;
}

static int write_file(const char *path, const uint8_t *data, size_t len) {
    FILE *f = fopen(path, "wbx");
    if (!f)
        return 0;
    int ok = fwrite(data, 1, len, f) == len && fflush(f) == 0;
    return fclose(f) == 0 && ok;
}

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* Copies contract files named by relative path next to the genesis into the home. */
static int copy_contracts(const char *genesis_path, const char *home) {
    uint8_t *buf;
    size_t len;
    char why[128];
    if (!cn_read_file_capped(genesis_path, CN_GENESIS_MAX_FILE, &buf, &len, why, sizeof why))
        return 0;
    json_t *root = json_loadb((const char *)buf, len, 0, NULL);
    free(buf);
    json_t *cs = root ? json_object_get(root, "contracts") : NULL;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", genesis_path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    else
        snprintf(dir, sizeof dir, ".");
    size_t i;
    json_t *c;
    int ok = 1;
    json_array_foreach(cs, i, c) {
        const char *rel = json_string_value(json_object_get(c, "path"));
        if (!rel)
            continue;
        char src[8300], dst[8300];
        snprintf(src, sizeof src, "%s/%s", dir, rel);
        snprintf(dst, sizeof dst, "%s/%s", home, rel);
        char *ds = strrchr(dst, '/');
        *ds = 0;
        ok = ok && mkdirs(dst);
        *ds = '/';
        uint8_t *code;
        size_t clen;
        if (!ok || !cn_read_file_capped(src, CN_GENESIS_MAX_CODE, &code, &clen, why, sizeof why) ||
            !write_file(dst, code, clen)) {
            fprintf(stderr, "error: copying contract %s to %s failed\n", src, dst);
            ok = 0;
        }
        if (ok)
            free(code);
    }
    json_decref(root);
    return ok;
}

static int make_key(const char *path, const char *import, int dev, uint8_t pub[32]) {
    if (import) {
        uint8_t sec[32];
        int enc = 0;
        cn_keyfile_err ke = cn_keyfile_read_pubkey(import, pub, &enc);
        if (ke) {
            fprintf(stderr, "error: %s: %s\n", import, cn_keyfile_strerror(ke));
            return 0;
        }
        char pass[CN_PASSPHRASE_MAX];
        long pl = 0;
        if (enc && (pl = cn_passphrase_get(pass, sizeof pass, "Validator key passphrase: ", 0)) < 0)
            return 0;
        ke = cn_keyfile_read(import, enc ? pass : NULL, (size_t)(enc ? pl : 0), sec, pub, NULL);
        sodium_memzero(pass, sizeof pass);
        if (ke) {
            fprintf(stderr, "error: %s: %s\n", import, cn_keyfile_strerror(ke));
            return 0;
        }
        sodium_memzero(sec, sizeof sec);
        /* The key decrypts: copy the file as it is (same encryption, same passphrase). */
        uint8_t *raw;
        size_t rl;
        char why[128];
        if (!cn_read_file_capped(import, CN_KEYFILE_MAX_SIZE, &raw, &rl, why, sizeof why)) {
            fprintf(stderr, "error: %s: %s\n", import, why);
            return 0;
        }
        int ok = write_file(path, raw, rl) && chmod(path, 0600) == 0;
        sodium_memzero(raw, rl);
        free(raw);
        if (!ok)
            fprintf(stderr, "error: could not write %s\n", path);
        return ok;
    }
    uint8_t sec[32];
    char pass[CN_PASSPHRASE_MAX];
    long pl = 0;
    if (!dev && (pl = cn_passphrase_get(pass, sizeof pass, "New validator key passphrase: ", 1)) < 0)
        return 0;
    cn_keypair kp;
    int ok = cn_seckey_generate(sec) && cn_keypair_from_seckey(&kp, sec);
    cn_keyfile_err ke = ok ? cn_keyfile_write(path, sec, dev ? NULL : pass, (size_t)pl, 0)
                           : CN_KEYFILE_BAD_KEY;
    sodium_memzero(pass, sizeof pass);
    sodium_memzero(sec, sizeof sec);
    if (ke) {
        fprintf(stderr, "error: %s: %s\n", path, cn_keyfile_strerror(ke));
        return 0;
    }
    memcpy(pub, kp.pub, 32);
    cn_keypair_wipe(&kp);
    if (dev)
        fprintf(stderr, "warning: %s is UNENCRYPTED (development only)\n", path);
    return 1;
}

int clearnode_init(int argc, char **argv) {
    const char *home = NULL, *genesis = NULL, *key = NULL, *rsecret = NULL;
    int dev = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--home") == 0 && i + 1 < argc)
            home = argv[++i];
        else if (strcmp(argv[i], "--genesis") == 0 && i + 1 < argc)
            genesis = argv[++i];
        else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc)
            key = argv[++i];
        else if (strcmp(argv[i], "--dev-key") == 0)
            dev = 1;
        else if (strcmp(argv[i], "--reserves-secret") == 0 && i + 1 < argc)
            rsecret = argv[++i];
        else if (strcmp(argv[i], "--help") == 0) {
            init_usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "error: unexpected argument '%s'\n", argv[i]);
            init_usage(stderr);
            return 2;
        }
    }
    if (!home || !genesis || (key && dev)) {
        fprintf(stderr, "error: %s\n", (key && dev) ? "--key and --dev-key exclude each other"
                                                    : "--home and --genesis are required");
        init_usage(stderr);
        return 2;
    }
    cn_genesis g;
    char err[512];
    if (!cn_genesis_load(&g, genesis, err, sizeof err)) {
        fprintf(stderr, "error: invalid genesis: %s\n", err);
        return 1;
    }
    char gpath[4200], cpath[4200], kpath[4200];
    snprintf(gpath, sizeof gpath, "%s/genesis.json", home);
    snprintf(cpath, sizeof cpath, "%s/config", home);
    snprintf(kpath, sizeof kpath, "%s/validator.key", home);
    if (exists(gpath) || exists(cpath) || exists(kpath)) {
        fprintf(stderr, "error: %s is already initialized (genesis.json, config or "
                        "validator.key exists)\n", home);
        cn_genesis_free(&g);
        return 1;
    }
    uint8_t *gbytes;
    size_t glen;
    int ok = mkdirs(home);
    if (!ok)
        fprintf(stderr, "error: cannot create %s: %s\n", home, strerror(errno));
    ok = ok && cn_read_file_capped(genesis, CN_GENESIS_MAX_FILE, &gbytes, &glen, err, sizeof err);
    if (ok) {
        ok = write_file(gpath, gbytes, glen);
        free(gbytes);
        if (!ok)
            fprintf(stderr, "error: cannot write %s\n", gpath);
    }
    ok = ok && copy_contracts(genesis, home);
    if (ok && rsecret && !cn_reserves_install_key(rsecret, home, err, sizeof err)) {
        fprintf(stderr, "error: --reserves-secret: %s\n", err);
        ok = 0;
    }
    cn_config cfg;
    cn_config_defaults(&cfg);
    cfg.mempool_max_txs = g.params.mempool_max_txs;
    cfg.mempool_max_bytes = g.params.mempool_max_bytes;
    cfg.mempool_nonce_window = g.params.mempool_nonce_window;
    if (ok && !cn_config_write(&cfg, cpath)) {
        fprintf(stderr, "error: cannot write %s\n", cpath);
        ok = 0;
    }
    uint8_t pub[32];
    ok = ok && make_key(kpath, key, dev, pub);
    if (ok) {
        char hex[65];
        cn_hex_encode(hex, pub, 32);
        const cn_gen_member *m = cn_genesis_member(&g, pub);
        if (!m || !(m->roles & CN_ROLE_VALIDATOR))
            fprintf(stderr, "note: key %s is not a genesis validator: the node follows the "
                            "chain as a full node, and signs once governance adds it to the "
                            "validator set (docs/operator.md)\n", hex);
        printf("initialized %s for chain %s\nvalidator %s\n", home, g.chain_id, hex);
    }
    cn_genesis_free(&g);
    return ok ? 0 : 1;
}
