/* Fuzzes reserves proofs: arbitrary bytes are decoded as a ReservesProof through cn_decode,
 * converted with every size checked, and verified against the root of a fixed small tree (the
 * worked example's chain, epoch and assets, so seeds from tests/vectors/reserves.txt reach deep
 * into the verifier). Must never crash, leak or read out of bounds; a proof that verifies must
 * be one of the tree's real leaves. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/schnorr.h"
#include "crypto/sumtree.h"
#include "crypto/sumtree_pb.h"
#include "proto/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t root[32];
static cn_sumtree *tree;
static cn_por_proof *proof;

static void init(void) {
    static const char *const assets[] = {"AAPL", "USD"};
    uint8_t pub[3][32], sec[3][32], ah[3][32], salt[3][32];
    uint64_t bal[3][2] = {{100, 2500}, {0, 700}, {42, 0}};
    if (!cn_crypto_init())
        abort();
    for (int i = 0; i < 3; i++) {
        memset(pub[i], 0x11 * (i + 1), 32);
        memset(sec[i], 0xa1 + i, 32);
        cn_por_account_hash(ah[i], 7, pub[i]);
        cn_por_salt(salt[i], sec[i], 7, pub[i]);
    }
    cn_por_params p = {"clearnode-test", 7, 2, assets};
    cn_sumtree_input in = {3, &ah[0][0], &salt[0][0], &bal[0][0]};
    if (cn_sumtree_build(&tree, &p, &in, 0, NULL) != CN_POR_OK)
        abort();
    cn_sumtree_root(tree, root);
    proof = malloc(sizeof *proof);
    if (!proof)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!tree)
        init();
    cn_pb pb;
    if (cn_decode(CN_MSG_RESERVES_PROOF, data, size, &pb) != CN_DECODE_OK)
        return 0;
    cn_por_where w;
    if (cn_por_proof_from_pb(proof, (const Clearnode__V1__ReservesProof *)pb.msg, &w) ==
        CN_POR_OK) {
        cn_por_err e = cn_por_verify(proof, root, &w);
        (void)cn_por_code(e);
        if (e == CN_POR_OK) {
            /* Only a real leaf can verify: its account must be in the tree at that index. */
            uint8_t ah[32];
            uint64_t idx;
            cn_por_account_hash(ah, proof->epoch, proof->account);
            if (!cn_sumtree_find(tree, ah, &idx) || idx != proof->leaf_index)
                abort();
        }
    }
    cn_pb_free(&pb);
    return 0;
}
