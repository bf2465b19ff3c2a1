/* Read side of the reserves module for the HTTP API (docs/api.md; docs/reserves.md "On
 * chain"). Every function reads one committed snapshot of `store`.
 *
 * Signed requests (proof and leaf export): the client sends
 *   X-Clearnode-Signer: <64 hex x-only key>
 *   X-Clearnode-Timestamp: <unix seconds>, within CN_RESERVES_SKEW_S of the node's clock
 *   X-Clearnode-Signature: <128 hex BIP340 signature> over
 *     H_tag("clearnode/sig/api", u32 len(chain_id) || chain_id ||
 *           u32 len(request) || request || u64 timestamp)
 * where request is "GET " followed by the path without the query ("GET /v1/reserves/3/proof/ab..").
 */
#ifndef CLEARNODE_NODE_APP_RESERVES_VIEW_H
#define CLEARNODE_NODE_APP_RESERVES_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "node/app/reserves.h"
#include "node/store/store.h"

#define CN_RESERVES_SKEW_S 60u
#define CN_RESERVES_REQUEST_MAX 256u

/* GET /v1/reserves/{epoch}: NULL when the epoch is not published. */
json_t *cn_reserves_view_epoch(cn_store *store, uint64_t epoch);
/* A client's proof: the encoded ReservesProof (want_proto) or its JSON form with the client's
 * "secret". Returns 1 with *out malloc'd, 0 when the epoch or the account is not in a tree,
 * -1 on an error. */
int cn_reserves_view_proof(cn_store *store, const char *chain_id, uint64_t epoch,
                           const uint8_t pub[32], int want_proto, uint8_t **out, size_t *len);
/* The leaf export text (docs/reserves.md "Leaf export"); same returns. */
int cn_reserves_view_leaves(cn_store *store, const char *chain_id, uint64_t epoch, char **out,
                            size_t *len);
/* Rebuilds the latest published epoch's tree into the cache the proof and export routes read,
 * unless it is there already or it is epoch `skip` (0: none), so the first request after an
 * epoch does not wait for the rebuild. Cheap when there is nothing to do. For a thread other
 * than the API's. Returns 1 (cached), 2 (it is `skip`), 0 (nothing published) or -1 (storage
 * error or a leaf set that does not rebuild the root); *epoch is the latest epoch. */
int cn_reserves_view_warm(cn_store *store, const char *chain_id, uint64_t skip,
                          uint64_t *epoch);
/* The digest a signed request signs (see top). */
void cn_reserves_api_digest(uint8_t out[32], const char *chain_id, const char *request,
                            uint64_t timestamp_s);
/* Checks a signed request: headers well-formed, timestamp within the skew, signature valid,
 * and the signer is `account` (NULL: nobody) or an auditor member. 1 allowed, else 0 and why. */
int cn_reserves_api_auth(cn_store *store, const char *chain_id, const char *request,
                         const char *signer_hex, const char *sig_hex, const char *ts_str,
                         uint64_t now_s, const uint8_t *account, char *why, size_t cap);

#endif
