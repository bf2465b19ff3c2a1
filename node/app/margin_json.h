/* JSON view of a margin account for GET /v1/margin/{pubkey} (shape in docs/api.md). Read-only:
 * it takes a read snapshot at the committed tip and writes nothing. */
#ifndef CLEARNODE_NODE_APP_MARGIN_JSON_H
#define CLEARNODE_NODE_APP_MARGIN_JSON_H

#include <stdint.h>

#include <jansson.h>

#include "node/genesis/genesis.h"
#include "node/store/store.h"

/* The account's view, or NULL when the margin contract is not deployed, the account has no
 * margin cash and no position, or storage fails. */
json_t *cn_margin_json(cn_store *store, const cn_genesis *g, const uint8_t pub[32]);

#endif
