/* JSON view of a margin account for GET /v1/margin/{pubkey} (shape in docs/api.md). Read-only:
 * it takes a read snapshot at the committed tip and writes nothing. */
#ifndef CLEARNODE_NODE_APP_MARGIN_JSON_H
#define CLEARNODE_NODE_APP_MARGIN_JSON_H

#include <stdint.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "node/genesis/genesis.h"
#include "node/store/store.h"

/* The account's view, or NULL when the margin contract is not deployed, the account has no
 * margin cash and no position, or storage fails. */
json_t *cn_margin_json(cn_store *store, const cn_genesis *g, const uint8_t pub[32]);

/* Appends the margin gauges (queue length, insurance fund, bad debt, house cash) to a
 * /metrics body; nothing when the contract is not deployed or storage fails. */
void cn_margin_write_metrics(cn_store *store, struct evbuffer *out);

#endif
