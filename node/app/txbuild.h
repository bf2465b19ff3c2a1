/* Building signed transactions (clients, tests, the load generator).
 *
 * cn_tx_sign encodes a Tx body once, signs exactly those bytes for kind "tx" on the chain id
 * (DESIGN.md §4) and wraps them in a Signed envelope. The helpers fill the common kinds.
 */
#ifndef CLEARNODE_NODE_APP_TXBUILD_H
#define CLEARNODE_NODE_APP_TXBUILD_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/schnorr.h"
#include "proto/codec.h"

/* Signs `tx` (its chain_id is set to chain_id). Returns 1 and a malloc'd Signed encoding. */
int cn_tx_sign(const cn_keypair *kp, const char *chain_id, Clearnode__V1__Tx *tx,
               uint8_t **out, size_t *len);

int cn_tx_register_client(const cn_keypair *kp, const char *chain_id, uint64_t nonce,
                          const uint8_t client[32], const char *label, uint8_t **out,
                          size_t *len);
int cn_tx_deposit(const cn_keypair *kp, const char *chain_id, uint64_t nonce,
                  const uint8_t account[32], const char *asset, uint64_t amount,
                  const uint8_t *ref, size_t ref_len, uint8_t **out, size_t *len);
int cn_tx_transfer(const cn_keypair *kp, const char *chain_id, uint64_t nonce,
                   const uint8_t to[32], const char *asset, uint64_t amount, uint8_t **out,
                   size_t *len);

#endif
