/* clearctl: the command-line tool for clients and operators (keys, transactions, queries).
 * Each command group lives in its own file and is dispatched from main.c; helpers shared by
 * the groups (argument parsing, key loading, talking to a node, printing) are in common.c. */
#ifndef CLEARNODE_CLEARCTL_H
#define CLEARNODE_CLEARCTL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "crypto/schnorr.h"
#include "node/cmd/clearctl/http.h"

/* Exit codes (docs/client.md). */
enum {
    CLEARCTL_OK = 0,          /* done; for tx commands: accepted (and committed with --wait) */
    CLEARCTL_FAILED = 1,      /* the node rejected the request, the tx failed, or a local error */
    CLEARCTL_USAGE = 2,       /* bad command line */
    CLEARCTL_UNREACHABLE = 3, /* the node could not be reached or gave no valid answer */
};

#define CLEARCTL_NODE_ENV "CLEARNODE_NODE"
#define CLEARCTL_NODE_DEFAULT "http://127.0.0.1:26657"

/* `clearctl keys ...`, `clearctl tx ...`, `clearctl query ...`: return the exit code. */
int clearctl_keys(int argc, char **argv);
int clearctl_tx(int argc, char **argv);
int clearctl_query(int argc, char **argv);
/* cmd_custody.c: withdrawals and governance (tx withdraw|approve|cancel|allowlist|propose|
 * gov-approve; query withdrawal|withdrawals|proposal). */
int clearctl_custody_kind(const char *kind);
int clearctl_custody_tx(int argc, char **argv);
int clearctl_custody_query(int argc, char **argv);
/* cmd_reserves.c: query reserves EPOCH, query reserves-proof EPOCH --key FILE --out FILE. */
int clearctl_reserves_query(int argc, char **argv);
/* tx reserve-attest --epoch N --holding ASSET=AMOUNT... --key FILE: prints "accepted HASH". */
int clearctl_reserves_attest(int argc, char **argv);

/* --- common.c --- */

/* The node URL: the --node value if given, else $CLEARNODE_NODE, else the default. */
const char *clearctl_node_url(const char *flag);

/* Strict parsers for command-line values; each prints "error: --flag: reason" and
 * returns 0 on failure. */
int clearctl_parse_hex32(const char *flag, const char *s, uint8_t out[32]);
int clearctl_parse_u64(const char *flag, const char *s, uint64_t min, uint64_t max,
                       uint64_t *out);
int clearctl_parse_asset(const char *flag, const char *s);

/* Loads a key file, asking for the passphrase only if it is encrypted. Returns 1, or 0 with
 * a message on stderr. Wipe kp with cn_keypair_wipe. */
int clearctl_load_key(const char *path, cn_keypair *kp);

/* One request to the node. Returns CLEARCTL_OK with *resp filled, CLEARCTL_USAGE for a
 * malformed node URL, or CLEARCTL_UNREACHABLE, after printing why. */
int clearctl_call(const char *node, const char *method, const char *path, const char *ctype,
                  const uint8_t *body, size_t len, clearctl_http_resp *resp);

/* Parses a JSON object answer; NULL (with a message) if it is not one. */
json_t *clearctl_json_body(const clearctl_http_resp *resp);

/* Reports a non-2xx answer: with --json the node's body goes to stdout as is; otherwise
 * "error: <code>: <message> (HTTP <status>)" goes to stderr. Returns CLEARCTL_FAILED. */
int clearctl_node_error(const clearctl_http_resp *resp, int json);

/* Prints a JSON value: compact JSON with `json`, else readable "key  value" lines. */
void clearctl_print(const json_t *v, int json);

#endif
