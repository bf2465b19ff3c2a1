/* What the HTTP API needs from the node.
 *
 * The RPC server (node/rpc) knows nothing of the app, the store or consensus: it calls this
 * table, which the node fills in (and unit tests fill with a fake). Every function is called
 * on the node's event-loop thread. Query functions return a new jansson object the server
 * owns and frees, or NULL for "not found".
 */
#ifndef CLEARNODE_NODE_RPC_BACKEND_H
#define CLEARNODE_NODE_RPC_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "node/app/txerr.h"

struct evbuffer;

typedef struct cn_rpc_backend {
    void *ctx;
    /* Admits encoded Signed transaction bytes into the mempool. Fills `hash` (the tx id,
     * H_tag("clearnode/tx", bytes)) whenever the bytes are within the size cap, and `msg`
     * with a specific reason on failure. */
    cn_txerr (*submit_tx)(void *ctx, const uint8_t *bytes, size_t len, uint8_t hash[32],
                          char *msg, size_t msg_cap);
    /* {"hash","height","index","code","code_name","message","gas_used","events":[...]}
     * or NULL when the tx is not committed. */
    json_t *(*get_tx)(void *ctx, const uint8_t hash[32]);
    /* {"pubkey","roles":[...],"nonce","balances":{"ASSET":"amount",...}} or NULL. */
    json_t *(*get_account)(void *ctx, const uint8_t pubkey[32]);
    /* {"height","id","header":{...},"txs":[hash...],"last_commit":{...}} or NULL. */
    json_t *(*get_block)(void *ctx, uint64_t height);
    /* Raw encoded Block bytes (malloc'd, caller frees). Returns 0 when not found. */
    int (*get_block_raw)(void *ctx, uint64_t height, uint8_t **bytes, size_t *len);
    /* {"chain_id","height","app_hash","block_id","time","peers","mempool":{...},...} */
    json_t *(*get_status)(void *ctx);
    /* Appends Prometheus text-format metrics. */
    void (*write_metrics)(void *ctx, struct evbuffer *out);
    /* GET /v1/oracle/{asset} (docs/oracle.md): price, sources, flags, breaker state; NULL
     * when the asset is not in genesis. */
    json_t *(*get_oracle)(void *ctx, const char *asset);
    /* GET /v1/withdrawals/{id}, /v1/accounts/{pubkey}/withdrawals and
     * /v1/governance/proposals/{id} (docs/custody.md, docs/governance.md); NULL: not found. */
    json_t *(*get_withdrawal)(void *ctx, uint64_t id);
    json_t *(*get_account_withdrawals)(void *ctx, const uint8_t pubkey[32]);
    json_t *(*get_proposal)(void *ctx, uint64_t id);
    /* GET /v1/margin/{pubkey} (docs/margin.md): equity, requirements, positions with their
     * liquidation prices, state; NULL when the account has no margin account. A node without
     * it answers 503. */
    json_t *(*get_margin)(void *ctx, const uint8_t pubkey[32]);
    /* GET /v1/validators/{height}: the set that signs that height (docs/api.md); NULL: not
     * a height whose set is final. */
    json_t *(*get_validators)(void *ctx, uint64_t height);
    /* Admits n encoded Signed txs (POST /v1/txs), each with the same checks and results as
     * submit_tx; signatures may be verified in parallel, admission is in array order. Fills
     * codes[i], hashes[i] (zero when over the size cap) and the NUL-terminated message at
     * msgs + i * msg_cap. NULL: the node has no batch path (the route answers 503). */
    void (*submit_txs)(void *ctx, size_t n, const uint8_t *const *bytes, const size_t *lens,
                       cn_txerr *codes, uint8_t (*hashes)[32], char *msgs, size_t msg_cap);
    /* GET /v1/reserves/... (docs/reserves.md "On chain"): `rest` is the path after
     * "/v1/reserves/", the three X-Clearnode-* signing headers may be NULL. Returns the HTTP
     * status; 200 fills *ctype (static) and *body (malloc'd), others fill *code and why. */
    int (*reserves)(void *ctx, const char *rest, int want_proto, const char *signer,
                    const char *sig, const char *ts, const char **ctype, uint8_t **body,
                    size_t *len, const char **code, char *why, size_t why_cap);
} cn_rpc_backend;

#endif
