/* JSON and metrics views of the oracle state for the HTTP API (GET /v1/oracle/{asset},
 * /metrics); shapes in docs/api.md and docs/oracle.md. Read-only: they take a read snapshot
 * and write nothing. */
#ifndef CLEARNODE_NODE_APP_ORACLE_JSON_H
#define CLEARNODE_NODE_APP_ORACLE_JSON_H

#include <stdint.h>

#include <jansson.h>

#include "node/genesis/genesis.h"
#include "node/store/store.h"

struct evbuffer;

/* The oracle view of one asset at block time now_ms (the tip's time), or NULL when the asset
 * is not in genesis or storage fails. */
json_t *cn_oracle_json(cn_store *store, const char *asset, uint64_t now_ms);

/* Appends the oracle's Prometheus metrics: flagged reports, halts by kind, stale events,
 * per-source flag counts, the market level and per-asset halt gauges. */
void cn_oracle_write_metrics(cn_store *store, const cn_genesis *g, uint64_t now_ms,
                             struct evbuffer *out);

#endif
