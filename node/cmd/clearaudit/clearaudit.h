/* clearaudit: the auditor's tool (docs/auditor.md is its guide, docs/reserves.md the spec).
 *
 * It links only crypto/ and proto/ so an auditor can read everything it runs. Commands:
 *   verify-proof PROOF --header FILE --validators GENESIS   one client's reserves proof
 *   verify-tree LEAVES [--attestations FILE]               a whole epoch's leaf set
 *   verify-chain --node URL --validators GENESIS            headers and commits block by block
 * Every check that fails reports a stable code ("commit_insufficient_power", the cn_por_code
 * of a proof error, ...) and a message; the exit status says what kind of failure it was.
 */
#ifndef CLEARNODE_CLEARAUDIT_H
#define CLEARNODE_CLEARAUDIT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "crypto/sumtree.h"
#include "proto/codec.h"

/* Exit statuses. */
enum {
    CA_EXIT_OK = 0,       /* everything verified */
    CA_EXIT_FAILED = 1,   /* a verification check failed */
    CA_EXIT_USAGE = 2,    /* bad command line */
    CA_EXIT_INPUT = 3,    /* an input file is missing, too large or malformed */
    CA_EXIT_NETWORK = 4   /* the node could not be reached or answered wrongly */
};

#define CA_MAX_VALIDATORS 256
#define CA_GENESIS_MAX ((size_t)8 << 20)
#define CA_JSON_MAX ((size_t)64 << 20) /* a leaf export of ~200,000 accounts */

/* The report of one command: printed as text lines, or collected and printed as one JSON
 * object with --json. */
typedef struct {
    int json;
    json_t *obj;     /* the JSON report (also built in text mode, never printed there) */
    const char *command;
} ca_report;

void ca_report_init(ca_report *r, const char *command, int json);
/* A passed check or a fact: prints "  ok  <text>" in text mode; sets key in JSON mode
 * (`val` is stolen; NULL sets nothing). */
void ca_note(ca_report *r, const char *key, json_t *val, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Prints the failure ("FAILED <code>: <message>") or the JSON report and returns `status`. */
int ca_fail(ca_report *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Prints the success line or JSON report and returns CA_EXIT_OK. */
int ca_ok(ca_report *r, const char *summary);

/* Reads a whole file of at most `cap` bytes. Returns 1, or 0 with a message in err. */
int ca_read_file(const char *path, size_t cap, uint8_t **buf, size_t *len, char *err,
                 size_t err_cap);
/* Whether the bytes look like JSON (first non-space byte is '{'). */
int ca_is_json(const uint8_t *buf, size_t len);
/* Hex of a 32-byte value into a 65-byte buffer. */
const char *ca_hex32(char out[65], const uint8_t v[32]);

/* A validator set (valset.c). */
typedef struct {
    char chain_id[65];
    size_t n;
    uint8_t pub[CA_MAX_VALIDATORS][32];
    uint64_t power[CA_MAX_VALIDATORS];
    uint64_t total;
    uint8_t hash[32]; /* H_tag("clearnode/validators", pubkey || u64 power, in key order) */
} ca_valset;

/* Loads chain_id and the validators (members with role "validator" and "power") from genesis
 * JSON. Returns 1, or 0 with "<field>: <reason>" in err. */
int ca_valset_load(ca_valset *vs, const char *path, char *err, size_t err_cap);
/* The set in a node's GET /v1/validators/{height} answer ("validators": [{"pubkey","power"}]),
 * for chain_id. Not trusted by itself: verify-chain checks it against the set before. */
int ca_valset_from_node(ca_valset *vs, const char *chain_id, json_t *answer, char *err,
                        size_t err_cap);
/* Writes the set as a genesis-format file (chain_id, members with role "validator"), which
 * ca_valset_load reads back. Returns 1, or 0 with a reason. */
int ca_valset_write(const ca_valset *vs, const char *path, char *err, size_t err_cap);

/* A header checked against its commit. */
typedef struct {
    uint64_t height;
    uint64_t time;
    uint32_t round;
    uint8_t block_id[32];
    uint8_t last_block_id[32];
    int has_last_block_id;
    uint8_t reserves_root[32];
    int has_reserves_root;
    uint8_t validators_hash[32]; /* the set the header names */
    int has_validators_hash;
    uint64_t signed_power;
    size_t signers;
} ca_header_info;

/* Decodes `hdr` (encoded Header bytes) and checks that `commit` certifies it: chain id and
 * validator set hash match `vs`, commit height and block id match, every precommit is a
 * PRECOMMIT for this height, round and block id, signed (kind "vote") by a distinct validator
 * of `vs`, and the signers hold more than 2/3 of the power. `commit` may be NULL (header only:
 * returns "commit_missing" after filling `info`). Returns NULL when the commit holds, or a
 * stable failure code with a message in msg. */
const char *ca_verify_commit(const ca_valset *vs, const uint8_t *hdr, size_t hdr_len,
                             const Clearnode__V1__Commit *commit, ca_header_info *info,
                             char *msg, size_t msg_cap);

/* A header and its commit, loaded from a HEADER file (docs/auditor.md): JSON
 * {"header": b64, "commit": b64} or {"block": b64, "next_block": b64}, or an encoded Block
 * with `next_block_path` naming the encoded Block of the next height. */
typedef struct {
    uint8_t *file;           /* the HEADER file */
    uint8_t *next_file;      /* the next block's file, when separate */
    uint8_t *hdr;            /* header bytes (malloc'd) */
    size_t hdr_len;
    cn_pb block, next, commit_pb;
    const Clearnode__V1__Commit *commit;
} ca_header_file;

/* Returns NULL on success or a failure code ("header_file", ...) with a message. */
const char *ca_header_file_load(ca_header_file *hf, const char *path,
                                const char *next_block_path, char *msg, size_t msg_cap);
void ca_header_file_free(ca_header_file *hf);

/* Minimal blocking HTTP/1.1 GET over TCP (http:// only), with a body cap and a deadline.
 * Returns 1 with the body (malloc'd, NUL-terminated) and status, or 0 with a message. */
int ca_http_get(const char *base_url, const char *path, size_t cap, unsigned timeout_ms,
                uint8_t **body, size_t *len, int *status, char *err, size_t err_cap);

/* JSON values: a non-negative integer or a decimal string. Return 1, or 0 (with *negative set
 * when the value was a negative number or "-..." string). */
int ca_json_u64(json_t *v, uint64_t *out, int *negative);
int ca_json_u128(json_t *v, cn_u128 *out, int *negative);
/* Exactly 64 hex digits. */
int ca_json_hex32(json_t *v, uint8_t out[32]);

/* Loads a proof file: an encoded ReservesProof, or its JSON form (docs/reserves.md). Returns
 * CN_POR_OK, or a cn_por_err with `*input_error` set when the file itself could not be read or
 * decoded (message in msg). */
cn_por_err ca_proof_load(const char *path, cn_por_proof *p, int *input_error, char *msg,
                         size_t cap);

/* Commands: argv[0] is the command name. Each returns an exit status. */
int ca_cmd_verify_proof(int argc, char **argv);
int ca_cmd_verify_tree(int argc, char **argv);
int ca_cmd_verify_chain(int argc, char **argv);

#endif
