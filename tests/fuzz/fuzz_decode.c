/* Fuzzes the one decoding entry point with every message kind: the first input byte picks
 * the kind, the rest is the message. Decoded messages are re-encoded to exercise the
 * generated packers on whatever the decoder accepted. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "proto/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    cn_msg_kind kind = (cn_msg_kind)(data[0] % CN_MSG_COUNT);
    cn_pb pb;
    if (cn_decode(kind, data + 1, size - 1, &pb) == CN_DECODE_OK) {
        uint8_t *out;
        size_t len;
        if (cn_encode(pb.msg, 0, &out, &len))
            free(out);
    }
    cn_pb_free(&pb);
    return 0;
}
