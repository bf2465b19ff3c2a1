/* Store write throughput: plain LMDB (mdb_put straight into one write transaction per batch)
 * against the same writes through node/store (buffered in the overlay, applied and committed
 * by cn_store_commit), in the same run, same keys, same values, every commit synced.
 *
 * Keys are 8-byte big-endian integers in scattered order (a bijection of the counter), values
 * 100 bytes; a batch stands in for a block. Prints keys/s for each and the store/raw ratio.
 * CLEARNODE_BENCH_KEYS and CLEARNODE_BENCH_BATCH override the sizes. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "crypto/bytes.h"
#include "node/store/store.h"
#include "tests/bench/bench_clock.h"
#include "tests/unit/tmpdir.h"

#define VLEN 100



/* Key i: an odd multiplier makes a bijection on 64 bits, so keys are distinct and scattered. */
static void key_of(uint8_t k[8], uint64_t i) { cn_put_be64(k, i * UINT64_C(0x9e3779b97f4a7c15)); }

static void value_of(uint8_t v[VLEN], uint64_t i) {
    for (size_t j = 0; j < VLEN; j++)
        v[j] = (uint8_t)(i + j);
}

static int die(const char *what, int rc) {
    fprintf(stderr, "bench_store: %s: %s\n", what, mdb_strerror(rc));
    exit(1);
}

static uint64_t bench_raw(const char *dir, uint64_t nkeys, uint64_t batch) {
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    int rc;
    if ((rc = mdb_env_create(&env)) || (rc = mdb_env_set_maxdbs(env, 8)) ||
        (rc = mdb_env_set_mapsize(env, (size_t)1 << 30)) ||
        (rc = mdb_env_open(env, dir, MDB_NOTLS, 0600)))
        die("raw open", rc);
    if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) ||
        (rc = mdb_dbi_open(txn, "state", MDB_CREATE, &dbi)) || (rc = mdb_txn_commit(txn)))
        die("raw dbi", rc);
    uint8_t k[8], v[VLEN];
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < nkeys;) {
        if ((rc = mdb_txn_begin(env, NULL, 0, &txn)))
            die("raw begin", rc);
        for (uint64_t j = 0; j < batch && i < nkeys; j++, i++) {
            key_of(k, i);
            value_of(v, i);
            MDB_val mk = {8, k}, mv = {VLEN, v};
            if ((rc = mdb_put(txn, dbi, &mk, &mv, 0)))
                die("raw put", rc);
        }
        if ((rc = mdb_txn_commit(txn)))
            die("raw commit", rc);
    }
    uint64_t ns = bench_now_ns() - t0;
    mdb_env_close(env);
    return ns;
}

static uint64_t bench_store(const char *dir, uint64_t nkeys, uint64_t batch) {
    cn_store_opts o = {0};
    o.map_size = (size_t)1 << 30;
    cn_store *s;
    cn_store_err e = cn_store_open(&s, dir, &o);
    if (e != CN_STORE_OK) {
        fprintf(stderr, "bench_store: open: %s\n", cn_store_strerror(e));
        exit(1);
    }
    uint8_t k[8], v[VLEN];
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < nkeys;) {
        cn_store_wtxn *w;
        if ((e = cn_store_begin(s, &w)) != CN_STORE_OK)
            break;
        for (uint64_t j = 0; j < batch && i < nkeys && e == CN_STORE_OK; j++, i++) {
            key_of(k, i);
            value_of(v, i);
            e = cn_store_put(w, CN_DB_STATE, k, 8, v, VLEN);
        }
        if (e != CN_STORE_OK) {
            cn_store_abort(w);
            break;
        }
        if ((e = cn_store_commit(w)) != CN_STORE_OK)
            break;
    }
    if (e != CN_STORE_OK) {
        fprintf(stderr, "bench_store: %s (%s)\n", cn_store_strerror(e), cn_store_last_detail());
        exit(1);
    }
    uint64_t ns = bench_now_ns() - t0;
    cn_store_close(s);
    return ns;
}

static uint64_t env_u64(const char *name, uint64_t def) {
    const char *v = getenv(name);
    if (!v)
        return def;
    unsigned long long x = strtoull(v, NULL, 10);
    return x ? (uint64_t)x : def;
}

int main(void) {
    uint64_t nkeys = env_u64("CLEARNODE_BENCH_KEYS", 200000);
    uint64_t batch = env_u64("CLEARNODE_BENCH_BATCH", 1000);
    char root[64], raw_dir[96], store_dir[96];
    strcpy(root, "/tmp/cn_bench_store_XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(raw_dir, sizeof raw_dir, "%s/raw", root);
    snprintf(store_dir, sizeof store_dir, "%s/store", root);
    if (mkdir(raw_dir, 0700) != 0) {
        perror("mkdir");
        return 1;
    }
    printf("bench_store: %llu keys of 8 bytes, values %d bytes, %llu keys per synced commit\n",
           (unsigned long long)nkeys, VLEN, (unsigned long long)batch);
    uint64_t raw_ns = bench_raw(raw_dir, nkeys, batch);
    uint64_t store_ns = bench_store(store_dir, nkeys, batch);
    uint64_t raw_rate = nkeys * 1000000000u / (raw_ns ? raw_ns : 1);
    uint64_t store_rate = nkeys * 1000000000u / (store_ns ? store_ns : 1);
    uint64_t ratio_x100 = raw_rate ? store_rate * 100 / raw_rate : 0;
    printf("  %-26s %10llu puts/s  (%llu ms)\n", "raw LMDB (mdb_put)", (unsigned long long)raw_rate,
           (unsigned long long)(raw_ns / 1000000));
    printf("  %-26s %10llu puts/s  (%llu ms)\n", "node/store (cn_store_put)",
           (unsigned long long)store_rate, (unsigned long long)(store_ns / 1000000));
    printf("  store/raw ratio            %llu.%02llu\n", (unsigned long long)(ratio_x100 / 100),
           (unsigned long long)(ratio_x100 % 100));
    rm_tree(root);
    return 0;
}
