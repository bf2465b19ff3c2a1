/* The transfers of a load run, and the raw single-core verification rate they are compared
 * with (see load.h). */
#include <stdio.h>

#include "node/app/txbuild.h"
#include "node/chain/block.h"
#include "node/cmd/clearload/load.h"

int cl_tx_set(cl_tx *t, int ok, uint8_t *bytes, size_t len) {
    if (!ok)
        return 0;
    t->bytes = bytes;
    t->len = len;
    cn_tx_id(bytes, len, t->hash);
    return 1;
}

int cl_sign_transfer(const cn_keypair *ck, unsigned long clients, const char *chain,
                     const char *asset, uint64_t k, cl_tx *out) {
    unsigned long from = (unsigned long)(k % clients), to = (from + 1) % clients;
    uint8_t *b = NULL;
    size_t n = 0;
    int ok = cn_tx_transfer(&ck[from], chain, k / clients + 1, ck[to].pub, asset, 1 + k % 7,
                            &b, &n);
    return cl_tx_set(out, ok, b, n);
}

uint64_t cl_verify_rate(const cl_tx *txs, size_t n, const char *chain) {
    if (n == 0)
        return 0;
    uint64_t t0 = cl_now_us(), t;
    size_t done = 0;
    do {
        for (int k = 0; k < 200; k++, done++) {
            const cl_tx *x = &txs[done % n];
            cn_pb pb;
            if (cn_decode(CN_MSG_SIGNED, x->bytes, x->len, &pb) != CN_DECODE_OK)
                return 0;
            const Clearnode__V1__Signed *s = (const Clearnode__V1__Signed *)pb.msg;
            int ok = cn_verify_body(s->sig.data, s->signer.data, CN_TAG_SIG_TX, chain,
                                    s->body.data, s->body.len);
            cn_pb_free(&pb);
            if (!ok)
                return 0;
        }
        t = cl_now_us();
    } while (t - t0 < 1000000u);
    return (uint64_t)done * 1000000u / (t - t0);
}
