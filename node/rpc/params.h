/* Strict parsing of the API's path parameters, query strings and media types.
 *
 * Each parser accepts exactly one spelling and rejects everything else: no signs, no
 * whitespace, no prefixes, no percent-encoding, no leading zeros, no overflow. The input is
 * the raw path text as received (never percent-decoded), so what is checked is what is used.
 */
#ifndef CLEARNODE_NODE_RPC_PARAMS_H
#define CLEARNODE_NODE_RPC_PARAMS_H

#include <stddef.h>
#include <stdint.h>

/* Parses exactly 64 hex digits (either case) into 32 bytes. Returns 1, or 0 on anything else. */
int cn_rpc_parse_hex32(const char *s, uint8_t out[32]);

/* Parses a block height: 1..20 decimal digits, no leading zero, value 1..UINT64_MAX.
 * Returns 1, or 0 on anything else (including "0" and overflow). */
int cn_rpc_parse_height(const char *s, uint64_t *out);

/* Block response format selected by the query string. */
typedef enum { CN_RPC_FMT_JSON = 0, CN_RPC_FMT_PROTO = 1 } cn_rpc_format;

/* Parses the query of GET /v1/blocks/{height}: NULL or "" (JSON), "format=json" or
 * "format=proto". Returns 1, or 0 for any other query. */
int cn_rpc_parse_block_query(const char *query, cn_rpc_format *out);

/* Kinds of request body POST /v1/tx accepts. */
typedef enum { CN_RPC_BODY_UNSUPPORTED = 0, CN_RPC_BODY_PROTOBUF, CN_RPC_BODY_JSON } cn_rpc_body_kind;

/* Classifies a Content-Type header value (NULL when absent): "application/x-protobuf" or
 * "application/json", case-insensitive, optionally followed by ";" parameters. */
cn_rpc_body_kind cn_rpc_parse_content_type(const char *value);

#endif
