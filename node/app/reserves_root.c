/* The reserves root carried by headers: block h's header carries the root of the latest epoch
 * published in the committed state after block h-1 (empty before the first epoch). */
#include "node/app/reserves.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "crypto/encoding.h"

int cn_reserves_committed_root(cn_store *store, uint8_t root[32]) {
    cn_store_rtxn *r;
    if (cn_store_read_begin(store, &r) != CN_STORE_OK)
        return -1;
    cn_overlay ov;
    cn_overlay_init(&ov, r);
    uint64_t epoch = 0;
    int rc = cn_reserves_latest(&ov, &epoch);
    if (rc == 1 && epoch == 0) {
        rc = 0;
    } else if (rc == 1) {
        cn_reserves_epoch e;
        rc = cn_reserves_get_epoch(&ov, epoch, &e) == 1 ? 1 : -1;
        if (rc == 1)
            memcpy(root, e.root, 32);
    }
    cn_overlay_free(&ov);
    cn_store_read_end(r);
    return rc;
}

int cn_reserves_header_ok(cn_store *store, const uint8_t *root, size_t len, char *why,
                          size_t cap) {
    uint8_t want[32];
    int rc = cn_reserves_committed_root(store, want);
    if (rc < 0) {
        snprintf(why, cap, "header.reserves_root: storage error reading the reserves root");
        return 0;
    }
    if (rc == 0 && len != 0) {
        snprintf(why, cap, "header.reserves_root: no reserves epoch has been published");
        return 0;
    }
    if (rc == 1 && (len != 32 || memcmp(root, want, 32) != 0)) {
        snprintf(why, cap, "header.reserves_root: not the latest published reserves root");
        return 0;
    }
    return 1;
}

/* Reads a key file: 64 hex digits, trailing whitespace allowed. Returns 1 with the key and
 * its hex in hex[0..64], 0 for a malformed file (why says so), -1 when it cannot be opened. */
static int read_key_file(const char *path, uint8_t key[CN_RESERVES_KEY_LEN],
                         char hex[2 * CN_RESERVES_KEY_LEN + 1], char *why, size_t cap) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    char buf[80];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        n--;
    buf[n] = 0;
    if (n != 2 * CN_RESERVES_KEY_LEN || !cn_hex_decode_exact(key, CN_RESERVES_KEY_LEN, buf)) {
        snprintf(why, cap, "%s: expected 64 hex digits (a 32-byte key)", path);
        return 0;
    }
    memcpy(hex, buf, n + 1);
    return 1;
}

int cn_reserves_load_key(const char *home, char *why, size_t cap) {
    char path[4200], hex[2 * CN_RESERVES_KEY_LEN + 1];
    snprintf(path, sizeof path, "%s/reserves.secret", home);
    uint8_t key[CN_RESERVES_KEY_LEN];
    int r = read_key_file(path, key, hex, why, cap);
    if (r < 0)
        return 1; /* no file: the default key */
    if (r == 1)
        cn_reserves_set_key(key);
    return r;
}

int cn_reserves_install_key(const char *src, const char *home, char *why, size_t cap) {
    char hex[2 * CN_RESERVES_KEY_LEN + 2];
    uint8_t key[CN_RESERVES_KEY_LEN];
    int r = read_key_file(src, key, hex, why, cap);
    if (r < 0)
        snprintf(why, cap, "%s: cannot open", src);
    if (r != 1)
        return 0;
    char path[4200];
    snprintf(path, sizeof path, "%s/reserves.secret", home);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        snprintf(why, cap, "%s: cannot create (already there?)", path);
        return 0;
    }
    size_t n = 2 * CN_RESERVES_KEY_LEN;
    hex[n] = '\n';
    int ok = write(fd, hex, n + 1) == (ssize_t)(n + 1);
    ok = close(fd) == 0 && ok;
    if (!ok)
        snprintf(why, cap, "%s: write failed", path);
    return ok;
}
