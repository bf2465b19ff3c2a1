/* Test kit for the node's unit tests: deterministic keys, a genesis, a chain in a temporary
 * store driven through the same calls as the node (mempool -> producer -> app).
 * Header-only (static inline) so it is compiled only into the tests that include it. */
#ifndef CLEARNODE_TESTS_UNIT_CHAINKIT_H
#define CLEARNODE_TESTS_UNIT_CHAINKIT_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "crypto/schnorr.h"
#include "node/app/app.h"
#include "node/app/state.h"
#include "node/app/txbuild.h"
#include "node/chain/producer.h"
#include "node/genesis/genesis.h"
#include "node/mempool/mempool.h"

#define TK_CHAIN "test-chain"

/* Deterministic key number i (secret = SHA256("tk" || i)). */
static inline void tk_key(cn_keypair *kp, unsigned i) {
    uint8_t seed[8] = {'t', 'k', 0, 0, (uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8),
                       (uint8_t)i};
    uint8_t sec[32];
    for (unsigned salt = 0;; salt++) {
        seed[2] = (uint8_t)salt;
        cn_sha256(sec, seed, sizeof seed);
        if (cn_keypair_from_seckey(kp, sec))
            return;
    }
}

static inline void tk_hex(char out[65], const uint8_t p[32]) { cn_hex_encode(out, p, 32); }

/* Registers key i as a client account directly in the overlay (no registrar); its public key
 * in pub. Returns 1, or 0 when memory ran out. */
static inline int tk_put_client(cn_overlay *ov, unsigned i, uint8_t pub[32]) {
    cn_keypair k;
    tk_key(&k, i);
    memcpy(pub, k.pub, 32);
    cn_account a;
    memset(&a, 0, sizeof a);
    a.kind = CN_ACCT_CLIENT;
    return cn_state_put_account(ov, pub, &a);
}

/* Genesis JSON: key 0 is validator+custodian+governor+approver+oracle (power 10), key 1 is a
 * custodian+oracle member, key 2 an auditor member. Assets USD (6 decimals) and AAPL. `extra`
 * is spliced in after the assets (e.g. "\"params\":{...},"), or ""; `contracts` is the JSON
 * array of contracts (paths relative to the directory given to cn_genesis_parse). */
static inline char *tk_genesis_json_contracts(const char *extra, const char *contracts) {
    cn_keypair k[3];
    char h[3][65];
    for (unsigned i = 0; i < 3; i++) {
        tk_key(&k[i], i);
        tk_hex(h[i], k[i].pub);
    }
    char *buf = malloc(8192);
    snprintf(buf, 8192,
             "{\"chain_id\":\"" TK_CHAIN "\",\"genesis_time\":1700000000000,\n"
             "\"members\":[\n"
             " {\"name\":\"alpha\",\"pubkey\":\"%s\",\"roles\":[\"validator\",\"custodian\","
             "\"governor\",\"approver\",\"oracle\"],\"power\":10},\n"
             " {\"name\":\"beta\",\"pubkey\":\"%s\",\"roles\":[\"custodian\",\"oracle\"]},\n"
             " {\"name\":\"gamma\",\"pubkey\":\"%s\",\"roles\":[\"auditor\"]}],\n"
             "\"assets\":[\n"
             " {\"symbol\":\"USD\",\"decimals\":6,\"risk_tier\":1,\"initial_margin_bps\":10000,"
             "\"maintenance_margin_bps\":10000,\"reference_price\":1000000},\n"
             " {\"symbol\":\"AAPL\",\"decimals\":4,\"risk_tier\":2,\"initial_margin_bps\":5000,"
             "\"maintenance_margin_bps\":2500,\"reference_price\":190000000}],\n"
             "%s\"contracts\":%s}\n",
             h[0], h[1], h[2], extra, contracts);
    return buf;
}

static inline char *tk_genesis_json(const char *extra) {
    return tk_genesis_json_contracts(extra, "[]");
}

static inline void tk_rmtree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            size_t need = strlen(path) + strlen(e->d_name) + 2;
            char *sub = malloc(need);
            if (!sub)
                break;
            snprintf(sub, need, "%s/%s", path, e->d_name);
            tk_rmtree(sub);
            free(sub);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* A chain: genesis, store, app, mempool and producer in a temporary directory. */
typedef struct {
    char dir[64];
    cn_genesis g;
    cn_store *store;
    cn_app *app;
    cn_mempool *mp;
    cn_keypair val;
    cn_producer prod;
} tk_chain;

static uint64_t tk_clock_now = 1700000001000ULL;
static inline uint64_t tk_clock(void) { return tk_clock_now += 1000; }

static inline int tk_open_store(tk_chain *c) {
    char data[96], err[256];
    snprintf(data, sizeof data, "%s/data", c->dir);
    if (cn_store_open(&c->store, data, NULL) != CN_STORE_OK)
        return 0;
    if (!cn_app_open(&c->app, c->store, &c->g, 4096, err, sizeof err)) {
        fprintf(stderr, "app open: %s\n", err);
        return 0;
    }
    cn_mempool_limits lim = {1000, 1 << 24, 16};
    c->mp = cn_mempool_new(c->app, &lim);
    c->prod = (cn_producer){.app = c->app, .mp = c->mp, .key = &c->val, .clock_ms = tk_clock};
    return c->mp != NULL;
}

/* Opens a fresh chain from genesis JSON `json` (NULL: tk_genesis_json("")). */
static inline int tk_open(tk_chain *c, const char *json) {
    memset(c, 0, sizeof *c);
    strcpy(c->dir, "/tmp/cn_chain_XXXXXX");
    if (!mkdtemp(c->dir))
        return 0;
    char *own = json ? NULL : tk_genesis_json("");
    const char *j = json ? json : own;
    char err[256];
    int ok = cn_genesis_parse(&c->g, (const uint8_t *)j, strlen(j), NULL, err, sizeof err);
    free(own);
    if (!ok) {
        fprintf(stderr, "genesis: %s\n", err);
        return 0;
    }
    tk_key(&c->val, 0);
    return tk_open_store(c);
}

/* Closes app and store but keeps the directory (for restart tests). */
static inline void tk_stop(tk_chain *c) {
    cn_mempool_free(c->mp);
    cn_app_close(c->app);
    cn_store_close(c->store);
    c->mp = NULL;
    c->app = NULL;
    c->store = NULL;
}

static inline void tk_close(tk_chain *c) {
    tk_stop(c);
    cn_genesis_free(&c->g);
    tk_rmtree(c->dir);
}

/* Submits bytes to the mempool and frees them; returns the admission code. */
static inline cn_txerr tk_submit(tk_chain *c, uint8_t *bytes, size_t len, uint8_t hash[32]) {
    char msg[256];
    uint8_t h[32];
    cn_txerr e = cn_mempool_add(c->mp, bytes, len, hash ? hash : h, msg, sizeof msg);
    free(bytes);
    return e;
}

/* Produces one block; returns cn_producer_step's result. */
static inline int tk_block(tk_chain *c) {
    char err[256];
    int r = cn_producer_step(&c->prod, 0, err, sizeof err);
    if (r < 0)
        fprintf(stderr, "producer: %s\n", err);
    return r;
}

/* Reads a committed receipt's code; -1 if absent. */
static inline int tk_receipt_code(tk_chain *c, const uint8_t hash[32]) {
    cn_store_rtxn *r;
    if (cn_store_read_begin(c->store, &r) != CN_STORE_OK)
        return -1;
    const void *v;
    size_t n;
    int code = -1;
    if (cn_store_read_get(r, CN_DB_TXS, hash, 32, &v, &n) == CN_STORE_OK) {
        cn_pb pb;
        if (cn_decode(CN_MSG_RECEIPT, v, n, &pb) == CN_DECODE_OK) {
            code = (int)((Clearnode__V1__Receipt *)pb.msg)->code;
            cn_pb_free(&pb);
        }
    }
    cn_store_read_end(r);
    return code;
}

/* Committed balance of pub in asset (0 if none). */
static inline int64_t tk_balance(tk_chain *c, const uint8_t pub[32], const char *sym) {
    cn_store_rtxn *r;
    if (cn_store_read_begin(c->store, &r) != CN_STORE_OK)
        return -1;
    cn_overlay ov;
    cn_overlay_init(&ov, r);
    int64_t v = -1;
    if (cn_state_get_balance(&ov, pub, sym, &v) < 0)
        v = -1;
    cn_overlay_free(&ov);
    cn_store_read_end(r);
    return v;
}

#endif
