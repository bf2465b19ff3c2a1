/* Node configuration: `<home>/config`, a `key = value` text file, and command-line overrides.
 *
 * One table (config.c) lists every key with its type, range, default and one-line help; the
 * file parser, the `--flag` parser, the default file writer and `clearnode start --help` all
 * come from it, so they cannot disagree. A flag is the key with '.' and '_' turned into '-'
 * and a leading "--": `block.interval_ms` is `--block-interval-ms`.
 *
 * File syntax: one `key = value` per line; blank lines and lines starting with '#' are
 * ignored; values are unquoted. Unknown keys, repeated keys, out-of-range numbers and malformed
 * lines are errors naming the line. The file is capped at CN_CONFIG_MAX_FILE bytes.
 */
#ifndef CLEARNODE_NODE_CONFIG_CONFIG_H
#define CLEARNODE_NODE_CONFIG_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CN_CONFIG_MAX_FILE (64 * 1024)
#define CN_CONFIG_HOST_MAX 255
#define CN_CONFIG_LIST_MAX 8191 /* characters of a list value (p2p.peers, p2p.allow) */

typedef enum { CN_LOG_ERROR = 0, CN_LOG_WARN, CN_LOG_INFO, CN_LOG_DEBUG } cn_log_level;

typedef struct {
    char host[CN_CONFIG_HOST_MAX + 1];
    uint16_t port;
} cn_addr;

typedef struct {
    cn_addr api_listen;
    cn_addr p2p_listen;
    uint32_t block_interval_ms;
    uint32_t empty_block_interval_ms; /* 0: never produce empty blocks */
    uint32_t mempool_max_txs;
    uint64_t mempool_max_bytes;
    uint32_t mempool_nonce_window;
    cn_log_level log_level;
    uint64_t rpc_max_body;
    uint32_t rpc_max_connections;
    uint32_t rpc_requests_per_sec; /* per client address; 0 = unlimited */
    uint32_t rpc_burst;
    /* consensus timeouts (docs/consensus.md "Timeouts") */
    uint32_t timeout_propose_ms, timeout_propose_delta_ms;
    uint32_t timeout_prevote_ms, timeout_prevote_delta_ms;
    uint32_t timeout_precommit_ms, timeout_precommit_delta_ms;
    /* peers (docs/p2p.md "Configuration keys"): "<key hex>@<ip:port>,..." and "<key hex>,..." */
    char p2p_peers[CN_CONFIG_LIST_MAX + 1];
    char p2p_allow[CN_CONFIG_LIST_MAX + 1];
    uint32_t p2p_max_queue_msgs;
    uint64_t p2p_max_queue_bytes;
    uint32_t p2p_out_buffer_bytes;
    uint32_t p2p_max_pending;
    uint32_t p2p_handshake_timeout_ms;
    uint32_t p2p_keepalive_ms;
    uint32_t p2p_idle_timeout_ms;
    uint32_t p2p_backoff_min_ms;
    uint32_t p2p_backoff_max_ms;
    uint32_t p2p_ban_base_ms;
    uint32_t p2p_ban_max_ms;
} cn_config;

/* One entry of p2p.peers: a node key and the address to dial. */
typedef struct {
    uint8_t key[32];
    char addr[64];
} cn_config_peer;

/* Parses p2p.peers into out[0..max); returns the count, or -1 with a reason. An empty list
 * gives 0. */
int cn_config_parse_peers(const char *list, cn_config_peer *out, size_t max, char *err,
                          size_t cap);
/* Parses p2p.allow (node keys) into out[0..max); returns the count, or -1 with a reason. */
int cn_config_parse_keys(const char *list, uint8_t (*out)[32], size_t max, char *err,
                         size_t cap);

/* Fills every field with its default. */
void cn_config_defaults(cn_config *c);

/* Sets one key from its text value. Returns 1, or 0 with a reason in err. */
int cn_config_set(cn_config *c, const char *key, const char *value, char *err, size_t err_cap);

/* Parses config text (over the current values). Returns 1, or 0 with "line N: reason". */
int cn_config_parse(cn_config *c, const char *text, size_t len, char *err, size_t err_cap);

/* Reads and parses a config file. */
int cn_config_load(cn_config *c, const char *path, char *err, size_t err_cap);

/* If argv[*i] is a config flag, applies it (consuming its value, `--flag V` or `--flag=V`),
 * advances *i past it and returns 1; returns 0 if it is not a config flag, -1 with a reason in
 * err if it is one but its value is missing or invalid. */
int cn_config_flag(cn_config *c, int argc, char **argv, int *i, char *err, size_t err_cap);

/* Writes the documented config file with the values of c. Returns 1, or 0 (errno set). */
int cn_config_write(const cn_config *c, const char *path);

/* Prints the flag list with defaults for --help. */
void cn_config_print_flags(FILE *out);

/* "error", "warn", "info", "debug". */
const char *cn_log_level_name(cn_log_level l);

/* Formats an address as host:port. */
void cn_addr_format(const cn_addr *a, char *out, size_t cap);

#endif
