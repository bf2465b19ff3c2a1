/* The on-chain reserves epoch step (node/app/reserves.c): N client accounts with two asset
 * balances each, committed to an LMDB store as earlier blocks leave them, then, in the overlay of
 * the next block, cn_reserves_end_block at an epoch boundary (collect
 * accounts, read balance + locked per asset, derive account hashes and salts, build the tree,
 * store the leaf set and the record) and one rebuild from the stored leaf set (what a proof
 * request costs). Two runs over the same ledger: without the margin contract, and with it
 * deployed and half of the accounts holding margin cash (a quarter positive, a quarter loans,
 * written in the contract's storage layout, docs/margin.md), so the step also walks the
 * contract's "c" records. The step less the rebuild is the gathering of the claims (and the
 * leaf set's write); next to it, the floor for that gathering: a raw LMDB cursor over every
 * record of the same state. Run from the repository root (the contract is assembled from
 * contracts/margin.cas).
 * Usage: bench_reserves_epoch [N] (default 100000). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>
#include <malloc.h>

#include "bench_clock.h"
#include "contracts/asm/asm.h"
#include "crypto/bytes.h"
#include "crypto/schnorr.h"
#include "node/app/margin.h"
#include "node/app/margin_store.h"
#include "node/app/reserves.h"
#include "node/app/state.h"
#include "node/contract/chost.h"
#include "node/contract/contract.h"
#include "node/store/store.h"
#include "tests/unit/tmpdir.h"

/* The accounts' ledger; with `code`, the margin contract and every other account's cash. */
static int fill(cn_overlay *ov, uint64_t n, const uint8_t *code, size_t clen) {
    cn_account a;
    memset(&a, 0, sizeof a);
    a.kind = CN_ACCT_CLIENT;
    uint8_t pub[32], cid[32], key[33], k[CN_CSTORE_PREFIX_LEN + CN_VM_MAX_KEY], v[16];
    cn_contract_id(CN_MARGIN_NAME, cid);
    if (code) {
        cn_key ck;
        cn_sk_named(&ck, CN_SK_CONTRACT, CN_MARGIN_NAME);
        if (!cn_overlay_put(ov, ck.b, ck.len, code, clen))
            return 0;
    }
    for (uint64_t i = 0; i < n; i++) {
        cn_sha256(pub, &i, sizeof i);
        if (!cn_state_put_account(ov, pub, &a) ||
            !cn_state_set_balance(ov, pub, "USD", (int64_t)(i % 1000000 + 1)) ||
            (i % 3 == 0 && !cn_state_set_balance(ov, pub, "AAPL", (int64_t)(i % 97 + 1))))
            return 0;
        if (!code || i % 2 == 0)
            continue;
        int64_t cash = (int64_t)(i % 500000 + 1) * (i % 4 == 1 ? 1 : -1);
        key[0] = 'c';
        memcpy(key + 1, pub, 32);
        cn_put_be64(v, (uint64_t)cash);
        cn_put_be64(v + 8, 1000000000u);
        if (!cn_overlay_put(ov, k, cn_cstore_key(k, cid, key, sizeof key), v, sizeof v))
            return 0;
    }
    return 1;
}

/* The floor for gathering the claims: a raw LMDB cursor over every record of the committed
 * state (accounts, balances, contract records), in its own read-only environment. Returns the
 * ns (0 on failure) and the record count in *n. */
static uint64_t raw_walk(const char *dir, uint64_t *n) {
    MDB_env *env;
    MDB_txn *txn = NULL;
    MDB_dbi dbi;
    MDB_cursor *cur;
    MDB_val k, v;
    *n = 0;
    if (mdb_env_create(&env))
        return 0;
    uint64_t dt = 0;
    if (!mdb_env_set_maxdbs(env, 16) && !mdb_env_set_mapsize(env, (size_t)4 << 30) &&
        !mdb_env_open(env, dir, MDB_RDONLY | MDB_NOTLS, 0600) &&
        !mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) && !mdb_dbi_open(txn, "state", 0, &dbi) &&
        !mdb_cursor_open(txn, dbi, &cur)) {
        uint64_t t0 = bench_now_ns();
        for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
            (*n)++;
        dt = bench_now_ns() - t0;
        mdb_cursor_close(cur);
    }
    if (txn)
        mdb_txn_abort(txn);
    mdb_env_close(env);
    return dt;
}

/* Commits the ledger into a fresh store in `dir`, as the chain holds it after earlier blocks. */
static cn_store *commit_ledger(const char *dir, uint64_t n, const uint8_t *code, size_t clen) {
    cn_overlay ov;
    cn_overlay_init(&ov, NULL);
    cn_store *s = NULL;
    cn_store_opts o = {.map_size = (size_t)4 << 30};
    size_t nw = 0;
    cn_ov_write *w = NULL;
    int ok = fill(&ov, n, code, clen) && (w = cn_overlay_writes(&ov, &nw)) != NULL &&
             cn_store_open(&s, dir, &o) == CN_STORE_OK;
    cn_store_wtxn *t = NULL;
    for (size_t i = 0; ok && i < nw; i++) {
        ok = (t || cn_store_begin(s, &t) == CN_STORE_OK) &&
             cn_store_put(t, CN_DB_STATE, w[i].key, w[i].klen, w[i].val, w[i].vlen) ==
                 CN_STORE_OK;
        if (ok && (i % 500000 == 499999 || i + 1 == nw)) {
            ok = cn_store_commit(t) == CN_STORE_OK;
            t = NULL;
        }
    }
    free(w);
    cn_overlay_free(&ov);
    if (!ok && s) {
        cn_store_close(s);
        s = NULL;
    }
    return s;
}

/* One epoch step and one rebuild over a committed ledger, and the raw cursor walk over the
 * same records; times in ms. */
static int run(const cn_genesis *g, uint64_t n, const uint8_t *code, size_t clen,
               uint64_t *step_ms, uint64_t *rebuild_ms, uint64_t *walk_ms, uint64_t *records) {
    tdir td;
    if (tdir_make_prefixed(&td, "cn-bench-epoch-"))
        return 0;
    cn_store *s = commit_ledger(td.data, n, code, clen);
    /* Building the ledger in one overlay left millions of freed entries in the heap, which a
     * node's heap does not hold; consolidate them so the step is not charged for it. */
    malloc_trim(0);
    cn_store_rtxn *r = NULL;
    if (!s || cn_store_read_begin(s, &r) != CN_STORE_OK) {
        if (s)
            cn_store_close(s);
        tdir_remove(&td);
        return 0;
    }
    cn_overlay ov;
    cn_overlay_init(&ov, r);
    cn_evlist ev = {0};
    int ok = 1;
    uint64_t t0 = bench_now_ns();
    ok = ok && cn_reserves_end_block(&ov, g, 10, &ev);
    uint64_t t1 = bench_now_ns();
    cn_sumtree *t = NULL;
    ok = ok && cn_reserves_rebuild(&ov, g->chain_id, 1, &t) == 1;
    uint64_t t2 = bench_now_ns();
    cn_sumtree_free(t);
    cn_evlist_free(&ev);
    cn_overlay_free(&ov);
    cn_store_read_end(r);
    uint64_t walk = raw_walk(td.data, records);
    cn_store_close(s);
    tdir_remove(&td);
    *walk_ms = walk / 1000000;
    ok = ok && walk != 0;
    *step_ms = (t1 - t0) / 1000000;
    *rebuild_ms = (t2 - t1) / 1000000;
    return ok;
}

int main(int argc, char **argv) {
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 100000;
    if (!cn_crypto_init() || n == 0)
        return 1;
    cn_genesis g;
    memset(&g, 0, sizeof g);
    cn_genesis_default_params(&g.params);
    g.params.reserves_epoch_blocks = 10;
    snprintf(g.chain_id, sizeof g.chain_id, "bench-chain");
    cn_gen_asset assets[2];
    memset(assets, 0, sizeof assets);
    snprintf(assets[0].symbol, sizeof assets[0].symbol, "USD");
    snprintf(assets[1].symbol, sizeof assets[1].symbol, "AAPL");
    g.assets = assets;
    g.n_assets = 2;
    uint8_t *code;
    size_t clen;
    cn_asm_diag d;
    if (!cn_asm_build_file("contracts/margin.cas", &code, &clen, &d)) {
        fprintf(stderr, "bench_reserves_epoch: assembling contracts/margin.cas (run from the "
                        "repository root)\n");
        return 1;
    }
    uint64_t s0, r0, w0, n0, s1, r1, w1, n1;
    int ok = run(&g, n, NULL, 0, &s0, &r0, &w0, &n0) &&
             run(&g, n, code, clen, &s1, &r1, &w1, &n1);
    free(code);
    if (!ok) {
        fprintf(stderr, "bench_reserves_epoch: failed\n");
        return 1;
    }
    printf("reserves epoch step, %llu accounts x 2 assets: %llu ms (end of block), "
           "%llu ms (rebuild for a proof); raw LMDB cursor over the state's %llu records: "
           "%llu ms\n",
           (unsigned long long)n, (unsigned long long)s0, (unsigned long long)r0,
           (unsigned long long)n0, (unsigned long long)w0);
    printf("  with margin cash on half of them: %llu ms (end of block), %llu ms (rebuild); raw "
           "cursor over %llu records: %llu ms\n",
           (unsigned long long)s1, (unsigned long long)r1, (unsigned long long)n1,
           (unsigned long long)w1);
    return 0;
}
