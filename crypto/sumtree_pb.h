/* Conversion between cn_por_proof and the wire message clearnode.v1.ReservesProof.
 *
 * Decoding external bytes always goes through cn_decode(CN_MSG_RESERVES_PROOF, ...)
 * (proto/codec.h); cn_por_proof_from_pb then checks every count and fixed length and copies
 * the values, so the verifier only ever sees well-formed sizes. The reverse direction fills a
 * caller-owned cn_por_proof_pb whose message points into itself and into the proof; encode it
 * with cn_encode(&pb->msg.base, CN_CAP_RESERVES_PROOF, ...).
 *
 * Linking: these functions use the generated descriptors, which live in libcnproto; any
 * program using them also calls cn_decode or cn_encode, which pulls those in.
 */
#ifndef CLEARNODE_CRYPTO_SUMTREE_PB_H
#define CLEARNODE_CRYPTO_SUMTREE_PB_H

#include "crypto/sumtree.h"
#include "proto/clearnode.pb-c.h"

/* Copies a decoded ReservesProof into `out` after checking sizes.
 * Errors: CN_POR_E_CHAIN_ID (empty or over 64 bytes), E_ASSET_COUNT, E_ASSET_NAME (over 16
 * bytes), E_BALANCE_COUNT, E_DEPTH_RANGE (more than 32 path steps), E_SUM_COUNT,
 * E_FIELD_LENGTH (account, salt, root or a step hash not 32 bytes, a sum not 16 bytes).
 * Values are not judged here: cn_por_verify does that. */
cn_por_err cn_por_proof_from_pb(cn_por_proof *out, const Clearnode__V1__ReservesProof *m,
                                cn_por_where *where);

/* Storage for the wire form of one proof (about 70 KB: allocate it). */
typedef struct {
    Clearnode__V1__ReservesProof msg;
    Clearnode__V1__ReservesProofStep steps[CN_POR_MAX_DEPTH];
    Clearnode__V1__ReservesProofStep *step_ptrs[CN_POR_MAX_DEPTH];
    ProtobufCBinaryData sums[CN_POR_MAX_DEPTH][CN_POR_MAX_ASSETS];
    uint8_t sum_bytes[CN_POR_MAX_DEPTH][CN_POR_MAX_ASSETS][16];
    char *asset_ptrs[CN_POR_MAX_ASSETS];
    uint64_t balances[CN_POR_MAX_ASSETS];
    ProtobufCBinaryData totals[CN_POR_MAX_ASSETS];
    uint8_t total_bytes[CN_POR_MAX_ASSETS][16];
} cn_por_proof_pb;

/* Fills `pb` from `proof` (which must stay alive and unchanged while pb->msg is used). */
void cn_por_proof_to_pb(cn_por_proof_pb *pb, cn_por_proof *proof);

#endif
