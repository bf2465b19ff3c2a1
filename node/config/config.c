/* Node configuration (see config.h): one key table drives the file, the flags and the docs. */
#include "node/config/config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/genesis/genesis_io.h"

typedef enum { T_ADDR, T_U32, T_U64, T_LOG, T_PEERS, T_KEYS } key_type;

typedef struct {
    const char *key;
    key_type type;
    size_t off;
    uint64_t min, max;
    const char *def;
    const char *help;
} key_def;

#define OFF(f) offsetof(cn_config, f)

static const key_def keys[] = {
    {"api.listen", T_ADDR, OFF(api_listen), 0, 0, "127.0.0.1:26657",
     "HTTP API listen address (host:port)"},
    {"p2p.listen", T_ADDR, OFF(p2p_listen), 0, 0, "127.0.0.1:26656",
     "peer-to-peer listen address (numeric ip:port; not opened by a lone validator)"},
    {"p2p.peers", T_PEERS, OFF(p2p_peers), 0, 0, "",
     "comma-separated <node key hex>@<ip:port> of the peers to dial"},
    {"p2p.allow", T_KEYS, OFF(p2p_allow), 0, 0, "",
     "comma-separated node keys of full nodes allowed besides the genesis validators"},
    {"p2p.max_queue_msgs", T_U32, OFF(p2p_max_queue_msgs), 16, 10000000, "10000",
     "messages queued per peer"},
    {"p2p.max_queue_bytes", T_U64, OFF(p2p_max_queue_bytes), 5505024, (uint64_t)1 << 34,
     "67108864", "payload bytes queued per peer (at least one maximal frame)"},
    {"p2p.out_buffer_bytes", T_U32, OFF(p2p_out_buffer_bytes), 65536, 1u << 30, "1048576",
     "sealed bytes handed to the socket ahead of time per peer"},
    {"p2p.max_pending", T_U32, OFF(p2p_max_pending), 1, 4096, "16",
     "inbound connections in handshake at once"},
    {"p2p.handshake_timeout_ms", T_U32, OFF(p2p_handshake_timeout_ms), 100, 600000, "10000",
     "connect plus handshake deadline"},
    {"p2p.keepalive_ms", T_U32, OFF(p2p_keepalive_ms), 100, 3600000, "10000",
     "empty frame after this long without writing (below the idle timeout)"},
    {"p2p.idle_timeout_ms", T_U32, OFF(p2p_idle_timeout_ms), 200, 3600000, "30000",
     "close a connection after this long without reading or write progress"},
    {"p2p.backoff_min_ms", T_U32, OFF(p2p_backoff_min_ms), 10, 3600000, "500",
     "first reconnect delay cap"},
    {"p2p.backoff_max_ms", T_U32, OFF(p2p_backoff_max_ms), 10, 3600000, "30000",
     "longest reconnect delay"},
    {"p2p.ban_base_ms", T_U32, OFF(p2p_ban_base_ms), 1000, 86400000, "60000",
     "first ban of a misbehaving peer"},
    {"p2p.ban_max_ms", T_U32, OFF(p2p_ban_max_ms), 1000, 604800000, "3600000",
     "longest ban"},
    {"consensus.timeout_propose_ms", T_U32, OFF(timeout_propose_ms), 10, 600000, "3000",
     "wait for a proposal in round 0"},
    {"consensus.timeout_propose_delta_ms", T_U32, OFF(timeout_propose_delta_ms), 0, 600000,
     "500", "added to timeout_propose_ms per round"},
    {"consensus.timeout_prevote_ms", T_U32, OFF(timeout_prevote_ms), 10, 600000, "1000",
     "wait after 2/3 of any prevotes in round 0"},
    {"consensus.timeout_prevote_delta_ms", T_U32, OFF(timeout_prevote_delta_ms), 0, 600000,
     "500", "added to timeout_prevote_ms per round"},
    {"consensus.timeout_precommit_ms", T_U32, OFF(timeout_precommit_ms), 10, 600000, "1000",
     "wait after 2/3 of any precommits in round 0"},
    {"consensus.timeout_precommit_delta_ms", T_U32, OFF(timeout_precommit_delta_ms), 0, 600000,
     "500", "added to timeout_precommit_ms per round"},
    {"block.interval_ms", T_U32, OFF(block_interval_ms), 0, 60000, "200",
     "pause after a commit before the next height starts (lets transactions gather)"},
    {"block.empty_interval_ms", T_U32, OFF(empty_block_interval_ms), 0, 86400000, "0",
     "a proposer with no transactions waits this long before proposing an empty block; 0 = "
     "as long as a lone validator likes, half of timeout_propose_ms with several"},
    {"mempool.max_txs", T_U32, OFF(mempool_max_txs), 1, 10000000, "50000",
     "transactions held in the mempool at most"},
    {"mempool.max_bytes", T_U64, OFF(mempool_max_bytes), 131072, (uint64_t)1 << 34, "67108864",
     "bytes of transactions held in the mempool at most"},
    {"mempool.nonce_window", T_U32, OFF(mempool_nonce_window), 1, 100000, "64",
     "accept nonces next..next+window-1 per account; later ones are rejected"},
    {"log.level", T_LOG, OFF(log_level), 0, 0, "info", "error, warn, info or debug"},
    {"rpc.max_body", T_U64, OFF(rpc_max_body), 1024, (uint64_t)16 << 20, "262144",
     "largest accepted HTTP request body in bytes (larger: 413)"},
    {"rpc.max_connections", T_U32, OFF(rpc_max_connections), 1, 100000, "256",
     "concurrent HTTP connections at most"},
    {"rpc.requests_per_sec", T_U32, OFF(rpc_requests_per_sec), 0, 10000000, "0",
     "requests per second per client address (token bucket); 0 = unlimited"},
    {"rpc.burst", T_U32, OFF(rpc_burst), 1, 10000000, "1000",
     "token bucket size for rpc.requests_per_sec"},
};
#define N_KEYS (sizeof keys / sizeof keys[0])

static const char *const log_names[] = {"error", "warn", "info", "debug"};

const char *cn_log_level_name(cn_log_level l) {
    return (unsigned)l < 4 ? log_names[l] : "info";
}

void cn_addr_format(const cn_addr *a, char *out, size_t cap) {
    snprintf(out, cap, "%s:%u", a->host, (unsigned)a->port);
}

static int parse_u64(const char *s, uint64_t *out) {
    if (!*s || *s == '-' || *s == '+' || *s == ' ')
        return 0;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return 0;
    *out = (uint64_t)v;
    return 1;
}

static int parse_addr(const char *s, cn_addr *a) {
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s || (size_t)(colon - s) > CN_CONFIG_HOST_MAX)
        return 0;
    uint64_t port;
    if (!parse_u64(colon + 1, &port) || port == 0 || port > 65535)
        return 0;
    for (const char *p = s; p < colon; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '-'))
            return 0;
    memcpy(a->host, s, (size_t)(colon - s));
    a->host[colon - s] = 0;
    a->port = (uint16_t)port;
    return 1;
}

static int set_def(cn_config *c, const key_def *k, const char *value, char *err, size_t cap) {
    char *base = (char *)c + k->off;
    uint64_t v;
    switch (k->type) {
    case T_ADDR:
        if (!parse_addr(value, (cn_addr *)(void *)base)) {
            snprintf(err, cap, "%s: '%s' is not host:port (port 1..65535)", k->key, value);
            return 0;
        }
        return 1;
    case T_LOG:
        for (unsigned i = 0; i < 4; i++)
            if (strcmp(value, log_names[i]) == 0) {
                *(cn_log_level *)(void *)base = (cn_log_level)i;
                return 1;
            }
        snprintf(err, cap, "%s: '%s' is not error, warn, info or debug", k->key, value);
        return 0;
    case T_PEERS:
    case T_KEYS: {
        char why[256];
        int n = k->type == T_PEERS ? cn_config_parse_peers(value, NULL, 0, why, sizeof why)
                                   : cn_config_parse_keys(value, NULL, 0, why, sizeof why);
        if (n < 0 || strlen(value) > CN_CONFIG_LIST_MAX) {
            snprintf(err, cap, "%s: %s", k->key, n < 0 ? why : "list too long");
            return 0;
        }
        memcpy(base, value, strlen(value) + 1);
        return 1;
    }
    case T_U32:
    case T_U64:
        if (!parse_u64(value, &v) || v < k->min || v > k->max) {
            snprintf(err, cap, "%s: '%s' is not an integer in %llu..%llu", k->key, value,
                     (unsigned long long)k->min, (unsigned long long)k->max);
            return 0;
        }
        if (k->type == T_U32)
            *(uint32_t *)(void *)base = (uint32_t)v;
        else
            *(uint64_t *)(void *)base = v;
        return 1;
    }
    return 0;
}

static const key_def *find_key(const char *key) {
    for (size_t i = 0; i < N_KEYS; i++)
        if (strcmp(keys[i].key, key) == 0)
            return &keys[i];
    return NULL;
}

int cn_config_set(cn_config *c, const char *key, const char *value, char *err, size_t cap) {
    const key_def *k = find_key(key);
    if (!k) {
        snprintf(err, cap, "unknown key '%s'", key);
        return 0;
    }
    return set_def(c, k, value, err, cap);
}

void cn_config_defaults(cn_config *c) {
    memset(c, 0, sizeof *c);
    char err[128];
    for (size_t i = 0; i < N_KEYS; i++)
        (void)set_def(c, &keys[i], keys[i].def, err, sizeof err);
}

static char *trim(char *s) {
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = 0;
    return s;
}

int cn_config_parse(cn_config *c, const char *text, size_t len, char *err, size_t cap) {
    if (len > CN_CONFIG_MAX_FILE) {
        snprintf(err, cap, "config larger than %d bytes", CN_CONFIG_MAX_FILE);
        return 0;
    }
    unsigned char seen[N_KEYS] = {0};
    size_t pos = 0;
    unsigned line = 0;
    while (pos < len) {
        line++;
        size_t end = pos;
        while (end < len && text[end] != '\n')
            end++;
        char buf[CN_CONFIG_LIST_MAX + 64];
        if (end - pos >= sizeof buf) {
            snprintf(err, cap, "line %u: longer than %zu characters", line, sizeof buf - 1);
            return 0;
        }
        memcpy(buf, text + pos, end - pos);
        buf[end - pos] = 0;
        pos = end + 1;
        char *s = trim(buf);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, cap, "line %u: expected 'key = value'", line);
            return 0;
        }
        *eq = 0;
        char *key = trim(s), *val = trim(eq + 1);
        const key_def *k = find_key(key);
        if (!k) {
            snprintf(err, cap, "line %u: unknown key '%s'", line, key);
            return 0;
        }
        if (seen[k - keys]++) {
            snprintf(err, cap, "line %u: '%s' set twice", line, key);
            return 0;
        }
        char why[512];
        if (!set_def(c, k, val, why, sizeof why)) {
            snprintf(err, cap, "line %u: %.480s", line, why);
            return 0;
        }
    }
    return 1;
}

int cn_config_load(cn_config *c, const char *path, char *err, size_t cap) {
    uint8_t *buf;
    size_t len;
    char why[128];
    if (!cn_read_file_capped(path, CN_CONFIG_MAX_FILE, &buf, &len, why, sizeof why)) {
        snprintf(err, cap, "%s: %s", path, why);
        return 0;
    }
    if (memchr(buf, 0, len)) {
        free(buf);
        snprintf(err, cap, "%s: contains a NUL byte", path);
        return 0;
    }
    char inner[512];
    int ok = cn_config_parse(c, (const char *)buf, len, inner, sizeof inner);
    free(buf);
    if (!ok)
        snprintf(err, cap, "%s: %s", path, inner);
    return ok;
}

/* "--block-interval-ms" for "block.interval_ms". */
static void flag_name(const char *key, char *out, size_t cap) {
    size_t j = 0;
    out[j++] = '-';
    out[j++] = '-';
    for (size_t i = 0; key[i] && j + 1 < cap; i++)
        out[j++] = (key[i] == '.' || key[i] == '_') ? '-' : key[i];
    out[j] = 0;
}

int cn_config_flag(cn_config *c, int argc, char **argv, int *i, char *err, size_t cap) {
    const char *arg = argv[*i];
    for (size_t k = 0; k < N_KEYS; k++) {
        char name[64];
        flag_name(keys[k].key, name, sizeof name);
        size_t n = strlen(name);
        const char *value = NULL;
        int used = 1;
        if (strcmp(arg, name) == 0) {
            if (*i + 1 >= argc) {
                snprintf(err, cap, "%s needs a value", name);
                return -1;
            }
            value = argv[*i + 1];
            used = 2;
        } else if (strncmp(arg, name, n) == 0 && arg[n] == '=') {
            value = arg + n + 1;
        } else {
            continue;
        }
        char why[512];
        if (!set_def(c, &keys[k], value, why, sizeof why)) {
            snprintf(err, cap, "%s: %s", name, why);
            return -1;
        }
        *i += used;
        return 1;
    }
    return 0;
}

static void format_value(const cn_config *c, const key_def *k, char *out, size_t cap) {
    const char *base = (const char *)c + k->off;
    switch (k->type) {
    case T_ADDR:
        cn_addr_format((const cn_addr *)(const void *)base, out, cap);
        return;
    case T_LOG:
        snprintf(out, cap, "%s", cn_log_level_name(*(const cn_log_level *)(const void *)base));
        return;
    case T_U32:
        snprintf(out, cap, "%u", *(const uint32_t *)(const void *)base);
        return;
    case T_PEERS:
    case T_KEYS:
        snprintf(out, cap, "%s", base);
        return;
    case T_U64:
        snprintf(out, cap, "%llu", (unsigned long long)*(const uint64_t *)(const void *)base);
        return;
    }
}

int cn_config_write(const cn_config *c, const char *path) {
    FILE *f = fopen(path, "w");
    if (!f)
        return 0;
    fprintf(f, "# clearnode node configuration (docs/operator.md).\n"
               "# One 'key = value' per line. Every key can be overridden on the command line:\n"
               "# clearnode start --home DIR --<key with '.' and '_' as '-'> VALUE\n");
    for (size_t i = 0; i < N_KEYS; i++) {
        char v[CN_CONFIG_LIST_MAX + 1];
        format_value(c, &keys[i], v, sizeof v);
        fprintf(f, "\n# %s (default %s)\n%s = %s\n", keys[i].help, keys[i].def, keys[i].key, v);
    }
    int ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
    return fclose(f) == 0 && ok;
}

void cn_config_print_flags(FILE *out) {
    for (size_t i = 0; i < N_KEYS; i++) {
        char name[64];
        flag_name(keys[i].key, name, sizeof name);
        fprintf(out, "  %-28s %s (config %s, default %s)\n", name, keys[i].help, keys[i].key,
                keys[i].def);
    }
}

/* One "<64 hex>" key at s (length n). */
static int parse_key(const char *s, size_t n, uint8_t out[32]) {
    if (n != 64)
        return 0;
    for (size_t i = 0; i < 64; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return 0;
        if (i % 2 == 0)
            out[i / 2] = (uint8_t)(d << 4);
        else
            out[i / 2] |= (uint8_t)d;
    }
    return 1;
}

/* Splits list at commas, calling item() for each (trimmed, non-empty); -1 on error. */
static int each_item(const char *list, int (*item)(const char *s, size_t n, void *ctx, char *err,
                                                   size_t cap),
                     void *ctx, char *err, size_t cap) {
    int count = 0;
    const char *p = list;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        while (n && (*p == ' ')) {
            p++;
            n--;
        }
        while (n && p[n - 1] == ' ')
            n--;
        if (n == 0) {
            snprintf(err, cap, "entry %d is empty", count + 1);
            return -1;
        }
        if (!item(p, n, ctx, err, cap))
            return -1;
        count++;
        if (!e)
            break;
        p = e + 1;
        if (!*p) {
            snprintf(err, cap, "trailing comma");
            return -1;
        }
    }
    return count;
}

typedef struct {
    cn_config_peer *out;
    size_t max, n;
} peers_ctx;

static int peer_item(const char *s, size_t n, void *vctx, char *err, size_t cap) {
    peers_ctx *c = vctx;
    const char *at = memchr(s, '@', n);
    uint8_t key[32];
    cn_addr a;
    char addr[64];
    size_t alen = at ? n - (size_t)(at - s) - 1 : 0;
    if (!at || !parse_key(s, (size_t)(at - s), key)) {
        snprintf(err, cap, "'%.*s': expected <64 lowercase hex key>@<ip:port>", (int)(n > 100 ? 100 : n), s);
        return 0;
    }
    if (alen == 0 || alen >= sizeof addr) {
        snprintf(err, cap, "'%.*s': bad address", (int)(n > 100 ? 100 : n), s);
        return 0;
    }
    memcpy(addr, at + 1, alen);
    addr[alen] = 0;
    if (!parse_addr(addr, &a)) {
        snprintf(err, cap, "'%s' is not ip:port", addr);
        return 0;
    }
    if (c->out) {
        if (c->n == c->max) {
            snprintf(err, cap, "more than %zu peers", c->max);
            return 0;
        }
        memcpy(c->out[c->n].key, key, 32);
        memcpy(c->out[c->n].addr, addr, alen + 1);
    }
    c->n++;
    return 1;
}

int cn_config_parse_peers(const char *list, cn_config_peer *out, size_t max, char *err,
                          size_t cap) {
    peers_ctx c = {out, max, 0};
    return each_item(list, peer_item, &c, err, cap);
}

typedef struct {
    uint8_t (*out)[32];
    size_t max, n;
} keys_ctx;

static int key_item(const char *s, size_t n, void *vctx, char *err, size_t cap) {
    keys_ctx *c = vctx;
    uint8_t key[32];
    if (!parse_key(s, n, key)) {
        snprintf(err, cap, "'%.*s': expected a 64 lowercase hex node key", (int)(n > 100 ? 100 : n), s);
        return 0;
    }
    if (c->out) {
        if (c->n == c->max) {
            snprintf(err, cap, "more than %zu keys", c->max);
            return 0;
        }
        memcpy(c->out[c->n], key, 32);
    }
    c->n++;
    return 1;
}

int cn_config_parse_keys(const char *list, uint8_t (*out)[32], size_t max, char *err,
                         size_t cap) {
    keys_ctx c = {out, max, 0};
    return each_item(list, key_item, &c, err, cap);
}
