/* The reserves entry of the RPC backend table (node/rpc/backend.h `reserves`). */
#ifndef CLEARNODE_NODE_CHAIN_BACKEND_RESERVES_H
#define CLEARNODE_NODE_CHAIN_BACKEND_RESERVES_H

#include "node/chain/node_internal.h"

int cn_backend_reserves(void *ctx, const char *rest, int want_proto, const char *signer,
                        const char *sig, const char *ts, const char **ctype, uint8_t **body,
                        size_t *len, const char **code, char *why, size_t why_cap);

#endif
