/* Capped whole-file reads (see genesis_io.h). */
#include "node/genesis/genesis_io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cn_read_file_capped(const char *path, size_t cap, uint8_t **out, size_t *len, char *why,
                        size_t why_cap) {
    *out = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, why_cap, "cannot open: %s", strerror(errno));
        return 0;
    }
    size_t have = 0, room = 4096;
    uint8_t *buf = malloc(room + 1);
    for (;;) {
        if (!buf) {
            fclose(f);
            snprintf(why, why_cap, "out of memory");
            return 0;
        }
        size_t n = fread(buf + have, 1, room - have, f);
        have += n;
        if (have > cap) {
            free(buf);
            fclose(f);
            snprintf(why, why_cap, "larger than %zu bytes", cap);
            return 0;
        }
        if (n == 0 || have < room) {
            if (ferror(f)) {
                free(buf);
                fclose(f);
                snprintf(why, why_cap, "read error");
                return 0;
            }
            if (feof(f))
                break;
            continue;
        }
        room *= 2;
        uint8_t *nb = realloc(buf, room + 1);
        if (!nb)
            free(buf);
        buf = nb;
    }
    fclose(f);
    buf[have] = 0;
    *out = buf;
    *len = have;
    return 1;
}
