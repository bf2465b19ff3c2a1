/* Fuzzes the key file parser through its public API (a file per input). Encrypted files are
 * read without a passphrase so the fuzzer never waits on the password hash. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "crypto/keyfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char path[64];
    static int ready;
    if (!ready) {
        if (!cn_crypto_init())
            return 0;
        snprintf(path, sizeof path, "/tmp/cn-fuzz-keyfile-%d", (int)getpid());
        ready = 1;
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    uint8_t sec[CN_SECKEY_LEN], pub[CN_PUBKEY_LEN];
    int enc;
    (void)cn_keyfile_read_pubkey(path, pub, &enc);
    (void)cn_keyfile_read(path, NULL, 0, sec, pub, &enc);
    return 0;
}
