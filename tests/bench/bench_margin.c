/* The margin pass at scale: 1,000,000 margin accounts over 500 assets in an LMDB store, one
 * price tick on one asset crossing k accounts (k = 0, 100, 10,000), and 1,000 liquidations in
 * one block. Each figure is printed next to the physical limit measured in the same run: the
 * same crossing range and the same account records read with raw LMDB cursors and native C
 * arithmetic, which is what any implementation of the check has to touch.
 *
 * The state is written in the exact storage layout the margin contract writes
 * (docs/margin.md "Storage layout"): per account the cash record "c" (cash, index 1e9), one
 * position "q" (quantity, cost, liquidation price) and its index entry "x" asset 'L' price
 * account, as the contract leaves them after `deposit(D)` and `open(asset, long, 100 units)`
 * at 100 USD with no fee (the liquidation price by the contract's formula). Writing through
 * the entries would cost two VM calls per account only to build the fixture; the unit tests
 * and scenarios check that the contract writes this layout. Asset 1 holds 20,000 accounts
 * (so a tick can cross 10,000), the other 499 share the rest.
 *
 * What the pass does for one block (cn_margin_end_block): accrue, record the moved price,
 * scan the index range the move crosses, check each crossed account with the contract's
 * `requirements`, queue those under maintenance, liquidate up to the cap. CLEARNODE_BENCH_
 * ACCOUNTS overrides the account count (at least 100,000).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "contracts/asm/asm.h"
#include "crypto/bytes.h"
#include "crypto/hash.h"
#include "node/app/margin.h"
#include "node/app/margin_queue.h"
#include "node/app/state.h"
#include "node/contract/chost.h"
#include "node/contract/contract.h"
#include "node/store/store.h"
#include "tests/bench/bench_clock.h"
#include "tests/unit/tmpdir.h"

#define NASSETS 500
#define HOT 20000                    /* accounts on asset 1 */
#define P0 INT64_C(100000000)        /* 100 USD */
#define QTY INT64_C(100000000)       /* 100 units */
#define NOTIONAL INT64_C(10000000000) /* 10 000 USD */
#define MM 2500                      /* the FINRA floor; no house rate, no add-ons */
#define T0 UINT64_C(1700000000000)

static uint8_t CID[32];

static void die(const char *what) {
    fprintf(stderr, "bench_margin: %s\n", what);
    exit(1);
}

static void acct_id(uint8_t id[32], uint64_t i) {
    memset(id, 0, 32);
    cn_put_be64(id, i * UINT64_C(0x9e3779b97f4a7c15)); /* scattered, distinct */
    cn_put_be64(id + 24, i);
}

/* The contract's long liquidation price for a single position (margin.md):
 * ceil(ceil(-cash * UNIT / q) * 10000 / (10000 - m)). */
static int64_t liq_long(int64_t cash) {
    unsigned __int128 a = ((unsigned __int128)(-cash) * 1000000u + (uint64_t)QTY - 1) / (uint64_t)QTY;
    return (int64_t)((a * 10000u + (10000u - MM) - 1) / (10000u - MM));
}

/* Account i on asset a with the j-th of n deposits: leverage from 1.5 to ~3.9, so liquidation
 * prices spread from 44 to 88 USD, rising with j. */
static int64_t deposit_of(uint64_t j, uint64_t n) {
    return NOTIONAL / 4 + (int64_t)((unsigned __int128)(NOTIONAL / 3) * (n - 1 - j) / n);
}

static void put(cn_store_wtxn *w, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
    if (cn_store_put(w, CN_DB_STATE, k, kl, v, vl) != CN_STORE_OK)
        die("store put");
}

static void cstore_put(cn_store_wtxn *w, const uint8_t *key, size_t kl, const uint8_t *v,
                       size_t vl) {
    uint8_t k[CN_CSTORE_PREFIX_LEN + CN_VM_MAX_KEY];
    put(w, k, cn_cstore_key(k, CID, key, kl), v, vl);
}

/* Writes one account as the contract would. Returns its liquidation price. */
static int64_t write_account(cn_store_wtxn *w, uint64_t i, int64_t asset, int64_t dep) {
    uint8_t id[32], key[64], v[24];
    acct_id(id, i);
    int64_t cash = dep - NOTIONAL, liq = liq_long(cash);
    key[0] = 'c';
    memcpy(key + 1, id, 32);
    cn_put_be64(v, (uint64_t)cash);
    cn_put_be64(v + 8, 1000000000u);
    cstore_put(w, key, 33, v, 16);
    key[0] = 'q';
    cn_put_be64(key + 33, (uint64_t)asset);
    cn_put_be64(v, (uint64_t)QTY);
    cn_put_be64(v + 8, (uint64_t)NOTIONAL);
    cn_put_be64(v + 16, (uint64_t)liq);
    cstore_put(w, key, 41, v, 24);
    key[0] = 'x';
    cn_put_be64(key + 1, (uint64_t)asset);
    key[9] = 'L';
    cn_put_be64(key + 10, (uint64_t)liq);
    memcpy(key + 18, id, 32);
    cstore_put(w, key, 50, NULL, 0);
    return liq;
}

static int cmp_desc(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

static cn_genesis G;
static int64_t *HOT_LIQ; /* asset 1's liquidation prices, descending */

static void build(cn_store *s, uint64_t n) {
    G.n_assets = NASSETS + 1;
    G.assets = calloc(G.n_assets, sizeof *G.assets);
    HOT_LIQ = malloc(HOT * sizeof *HOT_LIQ);
    if (!G.assets || !HOT_LIQ)
        die("no memory");
    for (size_t a = 0; a < G.n_assets; a++) {
        snprintf(G.assets[a].symbol, sizeof G.assets[a].symbol, a ? "A%zu" : "USD", a);
        G.assets[a].decimals = 6;
        G.assets[a].risk_tier = 3;
        G.assets[a].reference_price = P0;
    }
    uint8_t *code;
    size_t clen;
    cn_asm_diag d;
    if (!cn_asm_build_file("contracts/margin.cas", &code, &clen, &d))
        die("assembling contracts/margin.cas (run from the repository root)");
    cn_contract_id(CN_MARGIN_NAME, CID);
    cn_store_wtxn *w;
    if (cn_store_begin(s, &w) != CN_STORE_OK)
        die("begin");
    cn_key k;
    cn_sk_named(&k, CN_SK_CONTRACT, CN_MARGIN_NAME);
    put(w, k.b, k.len, code, clen);
    free(code);
    /* oracle records: every asset live at 100 USD, published at T0 */
    cn_overlay ov;
    cn_overlay_init(&ov, NULL);
    for (size_t a = 1; a < G.n_assets; a++) {
        uint8_t rec[CN_ASSET_ENC];
        cn_asset_encode(&G.assets[a], rec);
        cn_sk_asset(&k, G.assets[a].symbol);
        if (!cn_overlay_put(&ov, k.b, k.len, rec, sizeof rec))
            die("asset record");
        cn_oracle_asset A;
        memset(&A, 0, sizeof A);
        A.state = CN_OA_LIVE;
        A.price = P0;
        A.updated_at = T0;
        if (!cn_oracle_asset_put(&ov, G.assets[a].symbol, &A))
            die("oracle record");
    }
    size_t nw;
    cn_ov_write *ws = cn_overlay_writes(&ov, &nw);
    for (size_t i = 0; i < nw; i++)
        put(w, ws[i].key, ws[i].klen, ws[i].val, ws[i].vlen);
    free(ws);
    cn_overlay_free(&ov);
    uint64_t cold = n - HOT, per = cold / (NASSETS - 1);
    for (uint64_t i = 0; i < n; i++) {
        int64_t asset, dep;
        if (i < HOT) {
            asset = 1;
            dep = deposit_of(i, HOT);
        } else {
            uint64_t c = i - HOT;
            asset = 2 + (int64_t)(c % (NASSETS - 1));
            dep = deposit_of((c / (NASSETS - 1)) % per, per);
        }
        int64_t liq = write_account(w, i, asset, dep);
        if (i < HOT)
            HOT_LIQ[i] = liq;
        if (i % 200000 == 199999) {
            if (cn_store_commit(w) != CN_STORE_OK || cn_store_begin(s, &w) != CN_STORE_OK)
                die("commit");
        }
    }
    if (cn_store_commit(w) != CN_STORE_OK)
        die("commit");
    qsort(HOT_LIQ, HOT, sizeof *HOT_LIQ, cmp_desc);
}

/* The price on asset 1 that crosses exactly k accounts (liquidation price >= P). */
static int64_t price_crossing(uint64_t k) {
    if (k == 0)
        return HOT_LIQ[0] + 1;
    return HOT_LIQ[k - 1];
}

/* One block's pass over the committed state with asset 1 at price p; returns ns, and the
 * number of liquidation steps and crossed accounts through the pass event. */
static uint64_t tick(cn_store *s, int64_t p, int64_t cap, int64_t *liq, int64_t *crossed) {
    cn_store_rtxn *r;
    if (cn_store_read_begin(s, &r) != CN_STORE_OK)
        die("snapshot");
    cn_overlay ov;
    cn_overlay_init(&ov, r);
    uint64_t now = T0 + 1000;
    cn_key k;
    cn_sk_named(&k, CN_SK_META, "time");
    cn_oracle_asset A;
    cn_sk_named(&k, CN_SK_META, "time");
    if (!cn_state_put_i64(&ov, &k, (int64_t)now) || cn_oracle_asset_get(&ov, "A1", &A) <= 0)
        die("setup");
    A.price = p;
    A.updated_at = now;
    cn_sk_named(&k, CN_SK_PARAM, CN_MARGIN_P_MAX_LIQ);
    if (!cn_oracle_asset_put(&ov, "A1", &A) || !cn_state_put_i64(&ov, &k, cap))
        die("setup");
    cn_evlist ev;
    memset(&ev, 0, sizeof ev);
    uint64_t t0 = bench_now_ns();
    if (!cn_margin_end_block(&ov, &G, 2, now, &ev))
        die("pass failed");
    uint64_t dt = bench_now_ns() - t0;
    *liq = *crossed = 0;
    for (size_t i = 0; i < ev.n; i++)
        if (strcmp(ev.ev[i].type, "margin.pass") == 0) {
            *crossed = strtoll(ev.ev[i].attrs[0].value, NULL, 10);
            *liq = strtoll(ev.ev[i].attrs[1].value, NULL, 10);
        }
    cn_evlist_free(&ev);
    cn_overlay_free(&ov);
    cn_store_read_end(r);
    return dt;
}

/* The physical floor of the same check: a raw LMDB cursor over the crossed index range, and
 * for each entry the account's cash and position read with mdb_get and its equity and
 * maintenance computed in C. The raw environment is opened once, read-only, beside the
 * store's own (benchmark only: LMDB advises one handle per process). */
static MDB_env *RAW;

static uint64_t raw_check(int64_t p, uint64_t *under) {
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_cursor *cur;
    if (mdb_txn_begin(RAW, NULL, MDB_RDONLY, &txn) || mdb_dbi_open(txn, "state", 0, &dbi) ||
        mdb_cursor_open(txn, dbi, &cur))
        die("raw open");
    uint8_t lo[CN_CSTORE_PREFIX_LEN + CN_VM_MAX_KEY], hi[CN_CSTORE_PREFIX_LEN + CN_VM_MAX_KEY], x[18];
    x[0] = 'x';
    cn_put_be64(x + 1, 1);
    x[9] = 'L';
    cn_put_be64(x + 10, (uint64_t)p);
    size_t lol = cn_cstore_key(lo, CID, x, 18);
    x[9] = 'M';
    size_t hil = cn_cstore_key(hi, CID, x, 10);
    *under = 0;
    uint64_t t0 = bench_now_ns();
    MDB_val k = {lol, lo}, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        size_t n = k.mv_size < hil ? k.mv_size : hil;
        int c = memcmp(k.mv_data, hi, n);
        if (c > 0 || (c == 0 && k.mv_size >= hil))
            break;
        const uint8_t *id = (const uint8_t *)k.mv_data + CN_CSTORE_PREFIX_LEN + 18;
        uint8_t ck[CN_CSTORE_PREFIX_LEN + CN_VM_MAX_KEY], key[64];
        key[0] = 'c';
        memcpy(key + 1, id, 32);
        MDB_val kc = {cn_cstore_key(ck, CID, key, 33), ck}, vc, vq;
        if (mdb_get(txn, dbi, &kc, &vc))
            die("raw cash");
        int64_t cash = (int64_t)cn_get_be64(vc.mv_data);
        key[0] = 'q';
        cn_put_be64(key + 33, 1);
        MDB_val kq = {cn_cstore_key(ck, CID, key, 41), ck};
        if (mdb_get(txn, dbi, &kq, &vq))
            die("raw position");
        int64_t q = (int64_t)cn_get_be64(vq.mv_data);
        __int128 val = (__int128)q * p / 1000000, e = cash + val;
        __int128 mm = (val * MM + 9999) / 10000;
        *under += e < mm;
    }
    uint64_t dt = bench_now_ns() - t0;
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return dt;
}

int main(void) {
    if (!cn_crypto_init())
        die("crypto init");
    uint64_t n = 1000000;
    const char *e = getenv("CLEARNODE_BENCH_ACCOUNTS");
    if (e && strtoull(e, NULL, 10) >= 100000)
        n = strtoull(e, NULL, 10);
    tdir t;
    if (tdir_make_prefixed(&t, "cn-bench-margin-"))
        die("mkdtemp");
    cn_store *s = NULL;
    cn_store_opts o = {.map_size = (size_t)2 << 30};
    if (cn_store_open(&s, t.data, &o) != CN_STORE_OK)
        die("store open");
    uint64_t b0 = bench_now_ns();
    build(s, n);
    printf("margin state: %llu accounts over %d assets (%d on the ticked asset), built in "
           "%llu ms\n",
           (unsigned long long)n, NASSETS, HOT,
           (unsigned long long)((bench_now_ns() - b0) / 1000000));
    if (mdb_env_create(&RAW) || mdb_env_set_maxdbs(RAW, 16) ||
        mdb_env_set_mapsize(RAW, (size_t)2 << 30) ||
        mdb_env_open(RAW, t.data, MDB_RDONLY | MDB_NOTLS, 0600))
        die("raw env");
    const uint64_t ks[3] = {0, 100, 10000};
    for (size_t i = 0; i < 3; i++) {
        int64_t p = price_crossing(ks[i]), liq, crossed;
        uint64_t best = UINT64_MAX, raw = UINT64_MAX, under = 0;
        for (int rep = 0; rep < 3; rep++) {
            uint64_t dt = tick(s, p, 100, &liq, &crossed);
            best = dt < best ? dt : best;
            uint64_t r = raw_check(p, &under);
            raw = r < raw ? r : raw;
        }
        printf("tick crossing k=%-5llu: pass %8llu us (crossed %lld, liquidated %lld of cap "
               "100) | raw LMDB cursor + native C check of the same %llu accounts: %6llu us "
               "(%llu under maintenance)\n",
               (unsigned long long)ks[i], (unsigned long long)(best / 1000), (long long)crossed,
               (long long)liq, (unsigned long long)ks[i], (unsigned long long)(raw / 1000),
               (unsigned long long)under);
    }
    int64_t liq, crossed;
    uint64_t under, dt = tick(s, price_crossing(1000), 1000, &liq, &crossed);
    uint64_t raw = raw_check(price_crossing(1000), &under);
    printf("one block liquidating 1000 accounts: %llu ms (%lld steps, %llu steps/s) | raw "
           "check of the same accounts: %llu us\n",
           (unsigned long long)(dt / 1000000), (long long)liq,
           (unsigned long long)bench_rate((uint64_t)liq, dt), (unsigned long long)(raw / 1000));
    mdb_env_close(RAW);
    cn_store_close(s);
    tdir_remove(&t);
    free(G.assets);
    free(HOT_LIQ);
    return 0;
}
