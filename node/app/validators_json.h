/* GET /v1/validators/{height} (docs/api.md): the validator set that signs a height, for
 * auditors following set changes (clearaudit verify-chain, docs/auditor.md). Read-only. */
#ifndef CLEARNODE_NODE_APP_VALIDATORS_JSON_H
#define CLEARNODE_NODE_APP_VALIDATORS_JSON_H

#include <stdint.h>

#include <jansson.h>

#include "node/store/store.h"

/* {"height","hash","total_power","validators":[{"pubkey","power"}...]} in key order, for
 * 1 <= height <= committed height + 1 (the next height's set is fixed by the last block).
 * NULL for any other height or on a storage failure. */
json_t *cn_validators_json(cn_store *store, uint64_t height);

#endif
