/* JSON views of custody and governance state for the HTTP API (docs/api.md, docs/custody.md,
 * docs/governance.md). Read-only: each takes its own read snapshot and writes nothing.
 * Amounts are decimal strings (int64 does not fit a JSON number exactly everywhere). */
#ifndef CLEARNODE_NODE_APP_CUSTODY_JSON_H
#define CLEARNODE_NODE_APP_CUSTODY_JSON_H

#include <stdint.h>

#include <jansson.h>

#include "node/store/store.h"

/* GET /v1/withdrawals/{id}: the request, or NULL when unknown or storage fails. */
json_t *cn_custody_json_withdrawal(cn_store *store, uint64_t id);
/* GET /v1/accounts/{pubkey}/withdrawals: {"account","withdrawals":[...]} (latest 256), or NULL
 * when the account is not registered. */
json_t *cn_custody_json_account(cn_store *store, const uint8_t pub[32]);
/* GET /v1/governance/proposals/{id}, or NULL when unknown. */
json_t *cn_gov_json_proposal(cn_store *store, uint64_t id);

#endif
