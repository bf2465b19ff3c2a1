/* node/store: open/create, each database, batches (read-own-writes, abort, write set),
 * snapshots (isolation, threads during map growth), ordered prefix iteration checked against a
 * reference model, reopen, format version, size limits and misuse.
 *
 * Randomized parts print their seed; CLEARNODE_SEED=<n> replays one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "crypto/bytes.h"
#include "node/store/keys.h"
#include "node/store/store.h"
#include "tests/unit/tmpdir.h"

#define OK(x)                                                                                 \
    do {                                                                                      \
        cn_store_err e_ = (x);                                                                \
        if (e_ != CN_STORE_OK)                                                                \
            fail_msg("%s: %s (%s)", #x, cn_store_strerror(e_), cn_store_last_detail());       \
    } while (0)
#define EXPECT(x, want)                                                                       \
    do {                                                                                      \
        cn_store_err e_ = (x);                                                                \
        if (e_ != (want))                                                                     \
            fail_msg("%s: got %s, want %s", #x, cn_store_strerror(e_),                        \
                     cn_store_strerror(want));                                                \
    } while (0)

/* ---- temporary directories ---------------------------------------------------------------- */


static void tdir_make(tdir *t) {
    assert_int_equal(tdir_make_prefixed(t, "cn_store_"), 0);
}



static uint64_t rng_state;

static uint64_t rnd(void) {
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * UINT64_C(2685821657736338717);
}

static void seed_rng(const char *what) {
    const char *env = getenv("CLEARNODE_SEED");
    uint64_t seed = (uint64_t)time(NULL) ^ (uint64_t)getpid();
    if (env)
        seed = (uint64_t)strtoull(env, NULL, 10);
    if (!seed)
        seed = 1;
    rng_state = seed;
    printf("[%s] seed %llu (CLEARNODE_SEED=%llu replays)\n", what, (unsigned long long)seed,
           (unsigned long long)seed);
}

static cn_store *open_store(const char *dir) {
    cn_store *s = NULL;
    OK(cn_store_open(&s, dir, NULL));
    assert_non_null(s);
    return s;
}

static void put_str(cn_store_wtxn *w, cn_db db, const char *k, const char *v) {
    OK(cn_store_put(w, db, k, strlen(k), v, strlen(v)));
}

/* Expects key k in db, through a fresh snapshot, to hold v (NULL: absent). */
static void expect_committed(cn_store *s, cn_db db, const char *k, const char *v) {
    cn_store_rtxn *r;
    const void *val;
    size_t vlen;
    OK(cn_store_read_begin(s, &r));
    cn_store_err e = cn_store_read_get(r, db, k, strlen(k), &val, &vlen);
    if (v) {
        OK(e);
        assert_int_equal(vlen, strlen(v));
        assert_memory_equal(val, v, vlen);
    } else {
        EXPECT(e, CN_STORE_NOTFOUND);
    }
    cn_store_read_end(r);
}

/* ---- tests -------------------------------------------------------------------------------- */

static void test_open_create(void **state) {
    (void)state;
    tdir t;
    tdir_make(&t);
    cn_store *s = open_store(t.data);
    struct stat st;
    assert_int_equal(stat(t.data, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0700);
    char f[160];
    snprintf(f, sizeof f, "%s/data.mdb", t.data);
    assert_int_equal(stat(f, &st), 0);
    snprintf(f, sizeof f, "%s/lock.mdb", t.data);
    assert_int_equal(stat(f, &st), 0);
    assert_true(cn_store_map_size(s) >= CN_STORE_DEFAULT_MAP_SIZE);

    /* The version record. */
    cn_store_rtxn *r;
    const void *v;
    size_t vl;
    OK(cn_store_read_begin(s, &r));
    OK(cn_store_read_get(r, CN_DB_META, CN_STORE_META_VERSION_KEY,
                         strlen(CN_STORE_META_VERSION_KEY), &v, &vl));
    assert_int_equal(vl, 4);
    assert_int_equal(cn_get_be32(v), CN_STORE_FORMAT_VERSION);
    cn_store_read_end(r);
    cn_store_close(s);

    /* Every named database exists in the file (checked with LMDB directly). */
    MDB_env *env;
    MDB_txn *txn;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
    assert_int_equal(mdb_env_open(env, t.data, MDB_RDONLY, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    for (int i = 0; i < CN_DB_COUNT; i++) {
        MDB_dbi dbi;
        const char *name = cn_store_db_name((cn_db)i);
        assert_non_null(name);
        assert_int_equal(mdb_dbi_open(txn, name, 0, &dbi), 0);
    }
    mdb_txn_abort(txn);
    mdb_env_close(env);
    assert_null(cn_store_db_name(CN_DB_COUNT));
    tdir_remove(&t);
}

static void test_each_db(void **state) {
    (void)state;
    tdir t;
    tdir_make(&t);
    cn_store *s = open_store(t.data);
    cn_store_wtxn *w;
    OK(cn_store_begin(s, &w));
    for (int i = 0; i < CN_DB_COUNT; i++) {
        char v[32];
        snprintf(v, sizeof v, "value-%d", i);
        put_str(w, (cn_db)i, "k", v);
        put_str(w, (cn_db)i, "gone", "x");
    }
    OK(cn_store_commit(w));
    for (int i = 0; i < CN_DB_COUNT; i++) {
        char v[32];
        snprintf(v, sizeof v, "value-%d", i);
        expect_committed(s, (cn_db)i, "k", v);
    }
    OK(cn_store_begin(s, &w));
    for (int i = 0; i < CN_DB_COUNT; i++)
        OK(cn_store_del(w, (cn_db)i, "gone", 4));
    OK(cn_store_commit(w));
    for (int i = 0; i < CN_DB_COUNT; i++)
        expect_committed(s, (cn_db)i, "gone", NULL);
    /* Same key in two databases are two entries. */
    OK(cn_store_begin(s, &w));
    OK(cn_store_del(w, CN_DB_STATE, "k", 1));
    OK(cn_store_commit(w));
    expect_committed(s, CN_DB_STATE, "k", NULL);
    expect_committed(s, CN_DB_META, "k", "value-4");
    cn_store_close(s);
    tdir_remove(&t);
}

static void test_read_own_writes(void **state) {
    (void)state;
    tdir t;
    tdir_make(&t);
    cn_store *s = open_store(t.data);
    cn_store_wtxn *w;
    const void *v;
    size_t vl;
    OK(cn_store_begin(s, &w));
    put_str(w, CN_DB_STATE, "base", "committed");
    OK(cn_store_commit(w));

    OK(cn_store_begin(s, &w));
    assert_int_equal(cn_store_batch_count(w), 0);
    put_str(w, CN_DB_STATE, "a", "1");
    OK(cn_store_get(w, CN_DB_STATE, "a", 1, &v, &vl));
    assert_int_equal(vl, 1);
    assert_memory_equal(v, "1", 1);
    put_str(w, CN_DB_STATE, "a", "22");
    OK(cn_store_get(w, CN_DB_STATE, "a", 1, &v, &vl));
    assert_int_equal(vl, 2);
    assert_memory_equal(v, "22", 2);
    /* Empty value is a value. */
    OK(cn_store_put(w, CN_DB_STATE, "e", 1, NULL, 0));
    OK(cn_store_get(w, CN_DB_STATE, "e", 1, &v, &vl));
    assert_non_null(v);
    assert_int_equal(vl, 0);
    /* Committed value visible, then deleted in the batch only. */
    OK(cn_store_get(w, CN_DB_STATE, "base", 4, &v, &vl));
    assert_memory_equal(v, "committed", 9);
    OK(cn_store_del(w, CN_DB_STATE, "base", 4));
    EXPECT(cn_store_get(w, CN_DB_STATE, "base", 4, &v, &vl), CN_STORE_NOTFOUND);
    EXPECT(cn_store_del(w, CN_DB_STATE, "base", 4), CN_STORE_NOTFOUND);
    expect_committed(s, CN_DB_STATE, "base", "committed");
    /* Put then delete of a new key leaves no write. */
    put_str(w, CN_DB_STATE, "tmp", "t");
    assert_int_equal(cn_store_batch_count(w), 4);
    OK(cn_store_del(w, CN_DB_STATE, "tmp", 3));
    assert_int_equal(cn_store_batch_count(w), 3);
    EXPECT(cn_store_get(w, CN_DB_STATE, "tmp", 3, &v, &vl), CN_STORE_NOTFOUND);
    EXPECT(cn_store_del(w, CN_DB_STATE, "nope", 4), CN_STORE_NOTFOUND);
    /* Re-put after delete. */
    put_str(w, CN_DB_STATE, "tmp", "again");
    OK(cn_store_commit(w));
    expect_committed(s, CN_DB_STATE, "a", "22");
    expect_committed(s, CN_DB_STATE, "e", "");
    expect_committed(s, CN_DB_STATE, "base", NULL);
    expect_committed(s, CN_DB_STATE, "tmp", "again");
    cn_store_close(s);
    tdir_remove(&t);
}

static void test_abort_leaves_nothing(void **state) {
    (void)state;
    tdir t;
    tdir_make(&t);
    cn_store *s = open_store(t.data);
    cn_store_wtxn *w;
    OK(cn_store_begin(s, &w));
    put_str(w, CN_DB_STATE, "keep", "1");
    OK(cn_store_commit(w));
    OK(cn_store_begin(s, &w));
    put_str(w, CN_DB_STATE, "new", "x");
    put_str(w, CN_DB_BLOCKS, "b", "y");
    OK(cn_store_del(w, CN_DB_STATE, "keep", 4));
    cn_store_iter *it;
    OK(cn_store_iter_write(&it, w, CN_DB_STATE, NULL, 0, NULL, 0, 0)); /* closed by abort */
    cn_store_abort(w);
    expect_committed(s, CN_DB_STATE, "keep", "1");
    expect_committed(s, CN_DB_STATE, "new", NULL);
    expect_committed(s, CN_DB_BLOCKS, "b", NULL);
    /* An empty batch commits nothing and succeeds. */
    OK(cn_store_begin(s, &w));
    OK(cn_store_commit(w));
    cn_store_abort(NULL);
    cn_store_close(s);
    tdir_remove(&t);
}

static void test_snapshot_isolation(void **state) {
    (void)state;
    tdir t;
    tdir_make(&t);
    cn_store *s = open_store(t.data);
    cn_store_wtxn *w;
    cn_store_rtxn *before, *after;
    const void *v;
    size_t vl;
    OK(cn_store_begin(s, &w));
    put_str(w, CN_DB_STATE, "x", "old");
    OK(cn_store_commit(w));

    OK(cn_store_read_begin(s, &before));
    OK(cn_store_begin(s, &w));
    put_str(w, CN_DB_STATE, "x", "new");
    put_str(w, CN_DB_STATE, "y", "added");
    /* Uncommitted writes are invisible to snapshots. */
    OK(cn_store_read_get(before, CN_DB_STATE, "x", 1, &v, &vl));
    assert_memory_equal(v, "old", 3);
    OK(cn_store_commit(w));
    /* A snapshot opened before the commit still does not see it. */
    OK(cn_store_read_get(before, CN_DB_STATE, "x", 1, &v, &vl));
    assert_int_equal(vl, 3);
    assert_memory_equal(v, "old", 3);
    EXPECT(cn_store_read_get(before, CN_DB_STATE, "y", 1, &v, &vl), CN_STORE_NOTFOUND);
    OK(cn_store_read_begin(s, &after));
    OK(cn_store_read_get(after, CN_DB_STATE, "x", 1, &v, &vl));
    assert_memory_equal(v, "new", 3);
    OK(cn_store_read_get(after, CN_DB_STATE, "y", 1, &v, &vl));
    cn_store_read_end(after);
    cn_store_read_end(before);
    cn_store_close(s);
    tdir_remove(&t);
}

/* Collects an iteration into "k1,k2,..." with keys printed as hex. */
static void collect(cn_store_iter *it, char *out, size_t cap) {
    const void *k, *v;
    size_t kl, vl;
    size_t n = 0;
    out[0] = 0;
    cn_store_err e;
    while ((e = cn_store_iter_next(it, &k, &kl, &v, &vl)) == CN_STORE_OK) {
        for (size_t i = 0; i < kl && n + 3 < cap; i++)
            n += (size_t)snprintf(out + n, cap - n, "%02x", ((const uint8_t *)k)[i]);
        if (n + 2 < cap)
            n += (size_t)snprintf(out + n, cap - n, ",");
    }
    EXPECT(e, CN_STORE_NOTFOUND);
    /* Stays at the end. */
    EXPECT(cn_store_iter_next(it, &k, &kl, &v, &vl), CN_STORE_NOTFOUND);
}

static void test_prefix_scan_order(void **state) {
    (void)state;
    tdir t;
    tdir_make(&t);
    cn_store *s = open_store(t.data);
    cn_store_wtxn *w;
    OK(cn_store_begin(s, &w));
    /* Unsigned heights under prefix 0x01, inserted out of order. */
    const uint64_t hs[] = {256, 1, UINT64_MAX, 0, 255, 65536, 2};
    for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++) {
        cn_key k;
        cn_key_start(&k, 0x01);
        cn_key_be64(&k, hs[i]);
        OK(cn_store_put(w, CN_DB_STATE, k.b, k.len, "", 0));
    }
    /* Signed prices under prefix 0x02. */
    const int64_t ps[] = {5, -1, INT64_MIN, 0, INT64_MAX, -256, 1};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        cn_key k;
        cn_key_start(&k, 0x02);
        cn_key_i64(&k, ps[i]);
        uint8_t v[8];
        cn_put_be64_signed(v, ps[i]);
        OK(cn_store_put(w, CN_DB_STATE, k.b, k.len, v, 8));
    }
    /* Neighbours that must not leak into the 0x01/0x02 scans. */
    put_str(w, CN_DB_STATE, "\x01", "short");
    put_str(w, CN_DB_STATE, "\x03", "three");
    put_str(w, CN_DB_STATE, "\xff\xff", "ff");
    put_str(w, CN_DB_STATE, "\xff\xff\x01", "ff01");
    OK(cn_store_commit(w));

    cn_store_rtxn *r;
    cn_store_iter *it;
    const void *k, *v;
    size_t kl, vl;
    OK(cn_store_read_begin(s, &r));
    /* Unsigned ascending equals numeric order; the bare 1-byte key "\x01" comes first. */
    uint8_t pfx = 0x01;
    OK(cn_store_iter_read(&it, r, CN_DB_STATE, &pfx, 1, NULL, 0, 0));
    OK(cn_store_iter_next(it, &k, &kl, &v, &vl));
    assert_int_equal(kl, 1);
    const uint64_t sorted_h[] = {0, 1, 2, 255, 256, 65536, UINT64_MAX};
    for (size_t i = 0; i < 7; i++) {
        OK(cn_store_iter_next(it, &k, &kl, &v, &vl));
        assert_int_equal(kl, 9);
        assert_true(cn_get_be64((const uint8_t *)k + 1) == sorted_h[i]);
    }
    EXPECT(cn_store_iter_next(it, &k, &kl, &v, &vl), CN_STORE_NOTFOUND);
    cn_store_iter_close(it);

    /* Signed ascending and descending. */
    const int64_t sorted_p[] = {INT64_MIN, -256, -1, 0, 1, 5, INT64_MAX};
    pfx = 0x02;
    OK(cn_store_iter_read(&it, r, CN_DB_STATE, &pfx, 1, NULL, 0, 0));
    for (size_t i = 0; i < 7; i++) {
        OK(cn_store_iter_next(it, &k, &kl, &v, &vl));
        assert_true(cn_get_be64_signed((const uint8_t *)k + 1) == sorted_p[i]);
        assert_true(cn_get_be64_signed(v) == sorted_p[i]);
    }
    EXPECT(cn_store_iter_next(it, &k, &kl, &v, &vl), CN_STORE_NOTFOUND);
    cn_store_iter_close(it);
    OK(cn_store_iter_read(&it, r, CN_DB_STATE, &pfx, 1, NULL, 0, CN_STORE_ITER_REVERSE));
    for (size_t i = 7; i-- > 0;) {
        OK(cn_store_iter_next(it, &k, &kl, &v, &vl));
        assert_true(cn_get_be64_signed((const uint8_t *)k + 1) == sorted_p[i]);
    }
    EXPECT(cn_store_iter_next(it, &k, &kl, &v, &vl), CN_STORE_NOTFOUND);
    cn_store_iter_close(it);

    /* Start bounds: ascending from -1 (inclusive), descending from 0 (inclusive), and a start
     * between keys. */
    cn_key st;
    cn_key_start(&st, 0x02);
    cn_key_i64(&st, -1);
    OK(cn_store_iter_read(&it, r, CN_DB_STATE, &pfx, 1, st.b, st.len, 0));
    OK(cn_store_iter_next(it, &k, &kl, &v, &vl));
    assert_true(cn_get_be64_signed((const uint8_t *)k + 1) == -1);
    cn_store_iter_close(it);
    cn_key_start(&st, 0x02);
    cn_key_i64(&st, 3);
    OK(cn_store_iter_read(&it, r, CN_DB_STATE, &pfx, 1, st.b, st.len, CN_STORE_ITER_REVERSE));
    OK(cn_store_iter_next(it, &k, &kl, &v, &vl));
    assert_true(cn_get_be64_signed((const uint8_t *)k + 1) == 1);
    OK(cn_store_iter_next(it, &k, &kl, &v, &vl));
    assert_true(cn_get_be64_signed((const uint8_t *)k + 1) == 0);
    cn_store_iter_close(it);
    /* A start beyond the prefix range, descending, begins at the prefix's last key. */
    uint8_t far[2] = {0x05, 0x00};
    OK(cn_store_iter_read(&it, r, CN_DB_STATE, &pfx, 1, far, 2, CN_STORE_ITER_REVERSE));
    OK(cn_store_iter_next(it, &k, &kl, &v, &vl));
    assert_true(cn_get_be64_signed((const uint8_t *)k + 1) == INT64_MAX);
    cn_store_iter_close(it);
    /* ... and ascending, finds nothing. */
    OK(cn_store_iter_read(&it, r, CN_DB_STATE, &pfx, 1, far, 2, 0));
    EXPECT(cn_store_iter_next(it, &k, &kl, &v, &vl), CN_STORE_NOTFOUND);
    cn_store_iter_close(it);

    /* An all-0xff prefix has no successor. */
    char buf[256];
    OK(cn_store_iter_read(&it, r, CN_DB_STATE, "\xff\xff", 2, NULL, 0, 0));
    collect(it, buf, sizeof buf);
    assert_string_equal(buf, "ffff,ffff01,");
    cn_store_iter_close(it);
    OK(cn_store_iter_read(&it, r, CN_DB_STATE, "\xff\xff", 2, NULL, 0, CN_STORE_ITER_REVERSE));
    collect(it, buf, sizeof buf);
    assert_string_equal(buf, "ffff01,ffff,");
    cn_store_iter_close(it);
    /* Missing prefix, and an empty database. */
    OK(cn_store_iter_read(&it, r, CN_DB_STATE, "\x04", 1, NULL, 0, 0));
    EXPECT(cn_store_iter_next(it, &k, &kl, &v, &vl), CN_STORE_NOTFOUND);
    cn_store_iter_close(it);
    OK(cn_store_iter_read(&it, r, CN_DB_TXS, NULL, 0, NULL, 0, CN_STORE_ITER_REVERSE));
    EXPECT(cn_store_iter_next(it, &k, &kl, &v, &vl), CN_STORE_NOTFOUND);
    cn_store_iter_close(it);
    cn_store_read_end(r);

    /* Over a write batch: overlay puts and deletes merge with committed keys, and deleting
     * while iterating (the usual scan-and-prune) visits every key once. */
    OK(cn_store_begin(s, &w));
    put_str(w, CN_DB_STATE, "\x03" "a", "new");
    OK(cn_store_del(w, CN_DB_STATE, "\x03", 1));
    OK(cn_store_put(w, CN_DB_STATE, "\x00", 1, "zero", 4));
    OK(cn_store_iter_write(&it, w, CN_DB_STATE, "\x03", 1, NULL, 0, 0));
    collect(it, buf, sizeof buf);
    assert_string_equal(buf, "0361,");
    cn_store_iter_close(it);
    pfx = 0x01;
    OK(cn_store_iter_write(&it, w, CN_DB_STATE, &pfx, 1, NULL, 0, 0));
    size_t seen = 0;
    while (cn_store_iter_next(it, &k, &kl, &v, &vl) == CN_STORE_OK) {
        uint8_t copy[16];
        memcpy(copy, k, kl);
        OK(cn_store_del(w, CN_DB_STATE, copy, kl));
        seen++;
    }
    assert_int_equal(seen, 8);
    cn_store_iter_close(it);
    OK(cn_store_iter_write(&it, w, CN_DB_STATE, &pfx, 1, NULL, 0, 0));
    EXPECT(cn_store_iter_next(it, &k, &kl, &v, &vl), CN_STORE_NOTFOUND);
    cn_store_iter_close(it);
    OK(cn_store_iter_write(&it, w, CN_DB_STATE, NULL, 0, NULL, 0, CN_STORE_ITER_REVERSE));
    OK(cn_store_iter_next(it, &k, &kl, &v, &vl));
    assert_int_equal(kl, 3);
    assert_memory_equal(k, "\xff\xff\x01", 3);
    cn_store_iter_close(it);
    OK(cn_store_commit(w));
    OK(cn_store_read_begin(s, &r));
    OK(cn_store_iter_read(&it, r, CN_DB_STATE, NULL, 0, NULL, 0, 0));
    collect(it, buf, sizeof buf);
    cn_store_iter_close(it);
    cn_store_read_end(r);
    /* 0x00, then 0x02 x7, then 0x03 'a', ff ff, ff ff 01 */
    assert_true(strncmp(buf, "00,02", 5) == 0);
    assert_non_null(strstr(buf, ",0361,ffff,ffff01,"));
    assert_null(strstr(buf, ",01"));
    cn_store_close(s);
    tdir_remove(&t);
}

/* ---- model-based check of the overlay, iteration and write set --------------------------- */

/* Universe: every key of 1..3 bytes over this alphabet (4 + 16 + 64 keys). */
static const uint8_t alpha[4] = {0x00, 0x01, 0x7f, 0xff};
#define NKEYS 84

typedef struct {
    uint8_t k[3];
    size_t len;
} mkey;

static mkey universe[NKEYS]; /* sorted in LMDB order */

typedef struct {
    int present;
    uint8_t v[8];
    size_t vlen;
} mval;

static int mkey_cmp(const void *a, const void *b) {
    const mkey *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->k, y->k, n);
    if (c)
        return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

static void build_universe(void) {
    size_t n = 0;
    for (size_t len = 1; len <= 3; len++) {
        size_t count = (size_t)1 << (2 * len);
        for (size_t i = 0; i < count; i++) {
            universe[n].len = len;
            for (size_t j = 0; j < len; j++)
                universe[n].k[j] = alpha[(i >> (2 * j)) & 3];
            n++;
        }
    }
    qsort(universe, NKEYS, sizeof universe[0], mkey_cmp);
}

static void random_key(mkey *out, size_t maxlen) {
    out->len = 1 + (size_t)(rnd() % maxlen);
    for (size_t j = 0; j < out->len; j++)
        out->k[j] = alpha[rnd() % 4];
}

/* Checks one iteration against the model `m` (indexed like universe). */
static void check_iter(cn_store_iter *it, const mval *m, const mkey *prefix, const mkey *start,
                       int reverse) {
    const void *k, *v;
    size_t kl, vl;
    for (size_t step = 0; step < NKEYS; step++) {
        size_t i = reverse ? NKEYS - 1 - step : step;
        const mkey *u = &universe[i];
        if (!m[i].present)
            continue;
        if (prefix && (u->len < prefix->len || memcmp(u->k, prefix->k, prefix->len)))
            continue;
        if (start) {
            int c = mkey_cmp(u, start);
            if ((!reverse && c < 0) || (reverse && c > 0))
                continue;
        }
        OK(cn_store_iter_next(it, &k, &kl, &v, &vl));
        assert_int_equal(kl, u->len);
        assert_memory_equal(k, u->k, kl);
        assert_int_equal(vl, m[i].vlen);
        if (vl)
            assert_memory_equal(v, m[i].v, vl);
    }
    EXPECT(cn_store_iter_next(it, &k, &kl, &v, &vl), CN_STORE_NOTFOUND);
}

static size_t key_index(const mkey *k) {
    const mkey *p = bsearch(k, universe, NKEYS, sizeof universe[0], mkey_cmp);
    assert_non_null(p);
    return (size_t)(p - universe);
}

typedef struct {
    const mval *base, *cur;
    const int *touched;
    size_t next; /* universe index to resume scanning */
} ws_check;

static int ws_cb(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                 int deleted) {
    ws_check *c = ctx;
    /* The next expected write in universe order. */
    while (c->next < NKEYS) {
        size_t i = c->next;
        if (c->touched[i] && (c->cur[i].present || c->base[i].present))
            break;
        c->next++;
    }
    assert_true(c->next < NKEYS);
    size_t i = c->next++;
    assert_int_equal(klen, universe[i].len);
    assert_memory_equal(key, universe[i].k, klen);
    if (c->cur[i].present) {
        assert_int_equal(deleted, 0);
        assert_int_equal(vlen, c->cur[i].vlen);
        if (vlen)
            assert_memory_equal(val, c->cur[i].v, vlen);
    } else {
        assert_int_equal(deleted, 1);
        assert_null(val);
    }
    return 0;
}

static void test_model(void **state) {
    (void)state;
    seed_rng("test_model");
    build_universe();
    tdir t;
    tdir_make(&t);
    cn_store *s = open_store(t.data);
    mval base[NKEYS], cur[NKEYS];
    int touched[NKEYS];
    memset(base, 0, sizeof base);
    for (int round = 0; round < 60; round++) {
        cn_store_wtxn *w;
        OK(cn_store_begin(s, &w));
        memcpy(cur, base, sizeof cur);
        memset(touched, 0, sizeof touched);
        int ops = 1 + (int)(rnd() % 40);
        for (int op = 0; op < ops; op++) {
            mkey k;
            random_key(&k, 3);
            size_t i = key_index(&k);
            const void *v;
            size_t vl;
            unsigned what = (unsigned)(rnd() % 10);
            if (what < 5) {
                mval nv = {1, {0}, (size_t)(rnd() % 9)};
                for (size_t j = 0; j < nv.vlen; j++)
                    nv.v[j] = (uint8_t)rnd();
                OK(cn_store_put(w, CN_DB_STATE, k.k, k.len, nv.v, nv.vlen));
                cur[i] = nv;
                touched[i] = 1;
            } else if (what < 8) {
                cn_store_err e = cn_store_del(w, CN_DB_STATE, k.k, k.len);
                EXPECT(e, cur[i].present ? CN_STORE_OK : CN_STORE_NOTFOUND);
                if (cur[i].present)
                    touched[i] = 1;
                cur[i].present = 0;
            } else {
                cn_store_err e = cn_store_get(w, CN_DB_STATE, k.k, k.len, &v, &vl);
                if (cur[i].present) {
                    OK(e);
                    assert_int_equal(vl, cur[i].vlen);
                    if (vl)
                        assert_memory_equal(v, cur[i].v, vl);
                } else {
                    EXPECT(e, CN_STORE_NOTFOUND);
                }
            }
            if (rnd() % 4 == 0) {
                mkey p, st;
                int use_p = (int)(rnd() % 3), use_s = (int)(rnd() % 2);
                int rev = (int)(rnd() % 2);
                random_key(&p, 2);
                random_key(&st, 3);
                cn_store_iter *it;
                OK(cn_store_iter_write(&it, w, CN_DB_STATE, use_p ? p.k : NULL,
                                       use_p ? p.len : 0, use_s ? st.k : NULL,
                                       use_s ? st.len : 0, rev ? CN_STORE_ITER_REVERSE : 0));
                check_iter(it, cur, use_p ? &p : NULL, use_s ? &st : NULL, rev);
                cn_store_iter_close(it);
            }
        }
        size_t expect_count = 0;
        for (size_t i = 0; i < NKEYS; i++)
            if (touched[i] && (cur[i].present || base[i].present))
                expect_count++;
        assert_int_equal(cn_store_batch_count(w), expect_count);
        ws_check c = {base, cur, touched, 0};
        assert_int_equal(cn_store_write_set(w, CN_DB_STATE, ws_cb, &c), 0);
        while (c.next < NKEYS) { /* no expected write left unvisited */
            size_t i = c.next++;
            assert_false(touched[i] && (cur[i].present || base[i].present));
        }
        if (rnd() % 4 == 0) {
            cn_store_abort(w);
        } else {
            OK(cn_store_commit(w));
            memcpy(base, cur, sizeof base);
        }
        /* Snapshot iteration equals the committed model, both directions. */
        cn_store_rtxn *r;
        cn_store_iter *it;
        OK(cn_store_read_begin(s, &r));
        OK(cn_store_iter_read(&it, r, CN_DB_STATE, NULL, 0, NULL, 0, 0));
        check_iter(it, base, NULL, NULL, 0);
        cn_store_iter_close(it);
        OK(cn_store_iter_read(&it, r, CN_DB_STATE, NULL, 0, NULL, 0, CN_STORE_ITER_REVERSE));
        check_iter(it, base, NULL, NULL, 1);
        cn_store_iter_close(it);
        cn_store_read_end(r);
    }
    cn_store_close(s);
    tdir_remove(&t);
}

static void test_reopen_persists(void **state) {
    (void)state;
    tdir t;
    tdir_make(&t);
    cn_store *s = open_store(t.data);
    cn_store_wtxn *w;
    OK(cn_store_begin(s, &w));
    for (uint64_t h = 1; h <= 100; h++) {
        uint8_t k[8], v[16];
        cn_key_height(k, h);
        cn_put_be64(v, h * 3);
        cn_put_be64(v + 8, ~h);
        OK(cn_store_put(w, CN_DB_BLOCKS, k, 8, v, 16));
    }
    put_str(w, CN_DB_SIGNER, "last", "h/r/s");
    OK(cn_store_commit(w));
    cn_store_close(s);

    s = open_store(t.data);
    cn_store_rtxn *r;
    OK(cn_store_read_begin(s, &r));
    for (uint64_t h = 1; h <= 100; h++) {
        uint8_t k[8];
        const void *v;
        size_t vl;
        cn_key_height(k, h);
        OK(cn_store_read_get(r, CN_DB_BLOCKS, k, 8, &v, &vl));
        assert_int_equal(vl, 16);
        assert_true(cn_get_be64(v) == h * 3);
        assert_true(cn_get_be64((const uint8_t *)v + 8) == ~h);
    }
    cn_store_read_end(r);
    expect_committed(s, CN_DB_SIGNER, "last", "h/r/s");
    cn_store_close(s);
    tdir_remove(&t);
}

/* Rewrites meta "format_version" with raw LMDB (NULL: deletes it). */
static void raw_set_version(const char *dir, const uint8_t *v, size_t vlen) {
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
    assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
    MDB_val k = {strlen(CN_STORE_META_VERSION_KEY), (void *)(uintptr_t)CN_STORE_META_VERSION_KEY};
    if (v) {
        MDB_val d = {vlen, (void *)(uintptr_t)v};
        assert_int_equal(mdb_put(txn, dbi, &k, &d, 0), 0);
    } else {
        assert_int_equal(mdb_del(txn, dbi, &k, NULL), 0);
    }
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

static void test_version_mismatch(void **state) {
    (void)state;
    tdir t;
    tdir_make(&t);
    cn_store *s = open_store(t.data);
    cn_store_close(s);
    uint8_t v[4];
    cn_put_be32(v, CN_STORE_FORMAT_VERSION + 1);
    raw_set_version(t.data, v, 4);
    s = (cn_store *)1;
    EXPECT(cn_store_open(&s, t.data, NULL), CN_STORE_VERSION);
    assert_null(s);
    cn_put_be32(v, 0);
    raw_set_version(t.data, v, 4);
    EXPECT(cn_store_open(&s, t.data, NULL), CN_STORE_VERSION);
    raw_set_version(t.data, v, 3); /* malformed record */
    EXPECT(cn_store_open(&s, t.data, NULL), CN_STORE_CORRUPT);
    raw_set_version(t.data, NULL, 0); /* an LMDB env that is not a clearnode store */
    EXPECT(cn_store_open(&s, t.data, NULL), CN_STORE_CORRUPT);
    cn_put_be32(v, CN_STORE_FORMAT_VERSION);
    raw_set_version(t.data, v, 4);
    s = open_store(t.data);
    cn_store_close(s);

    /* A file that is not LMDB at all. */
    tdir t2;
    tdir_make(&t2);
    assert_int_equal(mkdir(t2.data, 0700), 0);
    char f[160];
    snprintf(f, sizeof f, "%s/data.mdb", t2.data);
    FILE *fp = fopen(f, "wb");
    assert_non_null(fp);
    for (int i = 0; i < 4096; i++)
        fputc(0x5a, fp);
    fclose(fp);
    EXPECT(cn_store_open(&s, t2.data, NULL), CN_STORE_CORRUPT);
    assert_true(strlen(cn_store_last_detail()) > 0);
    tdir_remove(&t2);
    tdir_remove(&t);
}

/* Commits without the flush (catch-up mode) are kept across a clean reopen, and switching
 * back to durable syncs them. */
static void test_durability_toggle(void **state) {
    (void)state;
    tdir t;
    tdir_make(&t);
    cn_store *s = open_store(t.data);
    cn_store_wtxn *w;
    OK(cn_store_set_durable(s, 0));
    for (int i = 0; i < 20; i++) {
        uint8_t k[8] = {'n', 0, 0, 0, 0, 0, 0, (uint8_t)i};
        OK(cn_store_begin(s, &w));
        OK(cn_store_put(w, CN_DB_STATE, k, 8, "v", 1));
        OK(cn_store_commit(w));
    }
    OK(cn_store_sync(s));
    OK(cn_store_set_durable(s, 1));
    OK(cn_store_begin(s, &w));
    OK(cn_store_put(w, CN_DB_STATE, "durable", 7, "d", 1));
    OK(cn_store_commit(w));
    cn_store_close(s);
    s = open_store(t.data);
    cn_store_rtxn *r;
    const void *v;
    size_t vl;
    OK(cn_store_read_begin(s, &r));
    uint8_t k19[8] = {'n', 0, 0, 0, 0, 0, 0, 19};
    OK(cn_store_read_get(r, CN_DB_STATE, k19, 8, &v, &vl));
    assert_int_equal(vl, 1);
    OK(cn_store_read_get(r, CN_DB_STATE, "durable", 7, &v, &vl));
    cn_store_read_end(r);
    cn_store_close(s);
    tdir_remove(&t);
}

static void test_size_limits(void **state) {
    (void)state;
    tdir t;
    tdir_make(&t);
    cn_store *s = open_store(t.data);
    cn_store_wtxn *w;
    static uint8_t big[CN_STORE_MAX_KEY + 2];
    memset(big, 0xab, sizeof big);
    const void *v;
    size_t vl;
    OK(cn_store_begin(s, &w));
    EXPECT(cn_store_put(w, CN_DB_STATE, big, 0, "x", 1), CN_STORE_KEY_SIZE);
    OK(cn_store_put(w, CN_DB_STATE, big, CN_STORE_MAX_KEY - 1, "a", 1));
    OK(cn_store_put(w, CN_DB_STATE, big, CN_STORE_MAX_KEY, "b", 1));
    EXPECT(cn_store_put(w, CN_DB_STATE, big, CN_STORE_MAX_KEY + 1, "c", 1), CN_STORE_KEY_SIZE);
    EXPECT(cn_store_get(w, CN_DB_STATE, big, CN_STORE_MAX_KEY + 1, &v, &vl), CN_STORE_KEY_SIZE);
    EXPECT(cn_store_del(w, CN_DB_STATE, big, CN_STORE_MAX_KEY + 1), CN_STORE_KEY_SIZE);
    cn_store_iter *it;
    EXPECT(cn_store_iter_write(&it, w, CN_DB_STATE, big, CN_STORE_MAX_KEY + 1, NULL, 0, 0),
           CN_STORE_KEY_SIZE);
    EXPECT(cn_store_iter_write(&it, w, CN_DB_STATE, NULL, 0, big, 0, 0), CN_STORE_KEY_SIZE);
    /* Values: the cap is accepted, one more byte is not. */
    uint8_t *val = malloc((size_t)CN_STORE_MAX_VALUE + 1);
    assert_non_null(val);
    memset(val, 0x5c, (size_t)CN_STORE_MAX_VALUE + 1);
    val[0] = 1;
    val[CN_STORE_MAX_VALUE - 1] = 2;
    OK(cn_store_put(w, CN_DB_BLOCKS, "max", 3, val, CN_STORE_MAX_VALUE));
    EXPECT(cn_store_put(w, CN_DB_BLOCKS, "over", 4, val, (size_t)CN_STORE_MAX_VALUE + 1),
           CN_STORE_VALUE_SIZE);
    OK(cn_store_commit(w));
    cn_store_rtxn *r;
    OK(cn_store_read_begin(s, &r));
    OK(cn_store_read_get(r, CN_DB_STATE, big, CN_STORE_MAX_KEY, &v, &vl));
    assert_memory_equal(v, "b", 1);
    OK(cn_store_read_get(r, CN_DB_STATE, big, CN_STORE_MAX_KEY - 1, &v, &vl));
    assert_memory_equal(v, "a", 1);
    OK(cn_store_read_get(r, CN_DB_BLOCKS, "max", 3, &v, &vl));
    assert_int_equal(vl, CN_STORE_MAX_VALUE);
    assert_memory_equal(v, val, vl);
    EXPECT(cn_store_read_get(r, CN_DB_BLOCKS, "over", 4, &v, &vl), CN_STORE_NOTFOUND);
    EXPECT(cn_store_read_get(r, CN_DB_STATE, big, 0, &v, &vl), CN_STORE_KEY_SIZE);
    cn_store_read_end(r);
    free(val);

    /* The key builder: exactly 511 bytes is fine, 512 overflows into a rejected length. */
    cn_key k;
    cn_key_init(&k);
    assert_false(cn_key_ok(&k));
    cn_key_bytes(&k, big, CN_STORE_MAX_KEY - 8);
    cn_key_be64(&k, 7);
    assert_true(cn_key_ok(&k));
    assert_int_equal(k.len, CN_STORE_MAX_KEY);
    cn_key_u8(&k, 1);
    assert_false(cn_key_ok(&k));
    assert_int_equal(k.len, CN_STORE_MAX_KEY + 1);
    cn_key_be32(&k, 1); /* stays overflowed */
    assert_int_equal(k.len, CN_STORE_MAX_KEY + 1);
    OK(cn_store_begin(s, &w));
    EXPECT(cn_store_put(w, CN_DB_STATE, k.b, k.len, "x", 1), CN_STORE_KEY_SIZE);
    cn_store_abort(w);
    cn_key_start(&k, 0x09);
    cn_key_be16(&k, 0x0102);
    cn_key_be32(&k, 0x03040506);
    cn_key_i64(&k, -1);
    cn_key_bytes(&k, "xy", 2);
    const uint8_t want[] = {0x09, 1, 2, 3, 4, 5, 6, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                            0xff, 'x', 'y'};
    assert_int_equal(k.len, sizeof want);
    assert_memory_equal(k.b, want, sizeof want);

    cn_store_close(s);
    tdir_remove(&t);
}

static void test_batch_limit(void **state) {
    (void)state;
    tdir t;
    tdir_make(&t);
    cn_store_opts o = {0};
    o.max_batch_bytes = 4096;
    cn_store *s;
    OK(cn_store_open(&s, t.data, &o));
    cn_store_wtxn *w;
    uint8_t v[2048] = {0};
    OK(cn_store_begin(s, &w));
    OK(cn_store_put(w, CN_DB_STATE, "a", 1, v, 1000));
    OK(cn_store_put(w, CN_DB_STATE, "b", 1, v, 1000));
    OK(cn_store_put(w, CN_DB_STATE, "c", 1, v, 1000));
    EXPECT(cn_store_put(w, CN_DB_STATE, "d", 1, v, 1024), CN_STORE_BATCH_TOO_LARGE);
    EXPECT(cn_store_put(w, CN_DB_STATE, "a", 1, v, 2000), CN_STORE_BATCH_TOO_LARGE);
    /* The batch is unchanged and still usable; replacing with a smaller value frees room. */
    const void *g;
    size_t gl;
    OK(cn_store_get(w, CN_DB_STATE, "a", 1, &g, &gl));
    assert_int_equal(gl, 1000);
    OK(cn_store_put(w, CN_DB_STATE, "a", 1, v, 10));
    OK(cn_store_put(w, CN_DB_STATE, "d", 1, v, 900));
    OK(cn_store_commit(w));
    cn_store_rtxn *r;
    OK(cn_store_read_begin(s, &r));
    OK(cn_store_read_get(r, CN_DB_STATE, "a", 1, &g, &gl));
    assert_int_equal(gl, 10);
    OK(cn_store_read_get(r, CN_DB_STATE, "d", 1, &g, &gl));
    assert_int_equal(gl, 900);
    cn_store_read_end(r);
    cn_store_close(s);
    tdir_remove(&t);
}

static int stop_at_second(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val,
                          size_t vlen, int deleted) {
    (void)key, (void)klen, (void)val, (void)vlen, (void)deleted;
    int *n = ctx;
    return ++*n == 2 ? 42 : 0;
}

static void test_misuse(void **state) {
    (void)state;
    tdir t;
    tdir_make(&t);
    cn_store *s = open_store(t.data);
    cn_store_wtxn *w, *w2;
    cn_store_rtxn *r;
    cn_store_iter *it;
    const void *v, *k;
    size_t vl, kl;
    EXPECT(cn_store_open(NULL, t.data, NULL), CN_STORE_INVALID);
    cn_store *s2;
    EXPECT(cn_store_open(&s2, NULL, NULL), CN_STORE_INVALID);
    EXPECT(cn_store_open(&s2, "", NULL), CN_STORE_INVALID);
    cn_store_opts bad = {0};
    bad.map_size = (size_t)1 << 30;
    bad.max_map_size = (size_t)1 << 20;
    EXPECT(cn_store_open(&s2, t.data, &bad), CN_STORE_INVALID);
    /* The same directory twice in one process (also through another path spelling). */
    EXPECT(cn_store_open(&s2, t.data, NULL), CN_STORE_BUSY);
    char other[160];
    snprintf(other, sizeof other, "%s/../data/", t.data);
    EXPECT(cn_store_open(&s2, other, NULL), CN_STORE_BUSY);
    EXPECT(cn_store_begin(NULL, &w), CN_STORE_INVALID);
    EXPECT(cn_store_read_begin(NULL, &r), CN_STORE_INVALID);

    OK(cn_store_begin(s, &w));
    /* A second batch in the same thread would deadlock in LMDB: refused. */
    EXPECT(cn_store_begin(s, &w2), CN_STORE_BUSY);
    EXPECT(cn_store_put(w, CN_DB_COUNT, "k", 1, "v", 1), CN_STORE_INVALID);
    EXPECT(cn_store_put(w, (cn_db)-1, "k", 1, "v", 1), CN_STORE_INVALID);
    EXPECT(cn_store_put(w, CN_DB_STATE, NULL, 1, "v", 1), CN_STORE_INVALID);
    EXPECT(cn_store_put(w, CN_DB_STATE, "k", 1, NULL, 1), CN_STORE_INVALID);
    EXPECT(cn_store_put(NULL, CN_DB_STATE, "k", 1, "v", 1), CN_STORE_INVALID);
    EXPECT(cn_store_get(w, CN_DB_STATE, "k", 1, NULL, &vl), CN_STORE_INVALID);
    EXPECT(cn_store_iter_write(&it, w, CN_DB_STATE, NULL, 0, NULL, 0, 2), CN_STORE_INVALID);
    EXPECT(cn_store_iter_write(&it, w, CN_DB_STATE, NULL, 3, NULL, 0, 0), CN_STORE_INVALID);
    assert_int_equal(cn_store_write_set(w, CN_DB_COUNT, stop_at_second, NULL), -1);
    put_str(w, CN_DB_STATE, "k1", "v");
    put_str(w, CN_DB_STATE, "k2", "v");
    put_str(w, CN_DB_STATE, "k3", "v");
    int n = 0;
    assert_int_equal(cn_store_write_set(w, CN_DB_STATE, stop_at_second, &n), 42);
    /* Commit with an iterator open is refused and leaves the batch intact. */
    OK(cn_store_iter_write(&it, w, CN_DB_STATE, NULL, 0, NULL, 0, 0));
    EXPECT(cn_store_commit(w), CN_STORE_INVALID);
    OK(cn_store_iter_next(it, &k, &kl, &v, &vl));
    assert_memory_equal(k, "k1", 2);
    cn_store_iter_close(it);
    OK(cn_store_commit(w));
    expect_committed(s, CN_DB_STATE, "k3", "v");

    /* read_end closes iterators left open. */
    OK(cn_store_read_begin(s, &r));
    OK(cn_store_iter_read(&it, r, CN_DB_STATE, NULL, 0, NULL, 0, 0));
    OK(cn_store_iter_read(&it, r, CN_DB_META, NULL, 0, NULL, 0, 0));
    EXPECT(cn_store_read_get(r, CN_DB_COUNT, "k", 1, &v, &vl), CN_STORE_INVALID);
    EXPECT(cn_store_iter_next(NULL, &k, &kl, &v, &vl), CN_STORE_INVALID);
    cn_store_read_end(r);
    cn_store_read_end(NULL);
    cn_store_iter_close(NULL);
    cn_store_close(NULL);

    /* Every code has its own text. */
    for (int i = 0; i < CN_STORE_ERR_COUNT; i++) {
        assert_non_null(cn_store_strerror((cn_store_err)i));
        for (int j = 0; j < i; j++)
            assert_string_not_equal(cn_store_strerror((cn_store_err)i),
                                    cn_store_strerror((cn_store_err)j));
    }
    assert_string_equal(cn_store_strerror(CN_STORE_ERR_COUNT), "unknown store error");
    cn_store_close(s);
    tdir_remove(&t);
}

/* ---- threads: snapshots in other threads while the map grows ------------------------------ */

typedef struct {
    cn_store *s;
    int stop;
    int failures;
    unsigned long snapshots;
} reader_ctx;

/* Each snapshot must be internally consistent: meta "n" = N and state holds keys 1..N whose
 * values are their own index. */
static void *reader_main(void *arg) {
    reader_ctx *c = arg;
    while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
        cn_store_rtxn *r;
        if (cn_store_read_begin(c->s, &r) != CN_STORE_OK) {
            c->failures++;
            break;
        }
        const void *v;
        size_t vl;
        uint64_t n = 0;
        if (cn_store_read_get(r, CN_DB_META, "n", 1, &v, &vl) == CN_STORE_OK)
            n = cn_get_be64(v);
        cn_store_iter *it;
        uint64_t count = 0;
        if (cn_store_iter_read(&it, r, CN_DB_STATE, NULL, 0, NULL, 0, 0) == CN_STORE_OK) {
            const void *k;
            size_t kl;
            while (cn_store_iter_next(it, &k, &kl, &v, &vl) == CN_STORE_OK) {
                count++;
                if (kl != 8 || vl < 8 || cn_get_be64(k) != count || cn_get_be64(v) != count)
                    c->failures++;
            }
            cn_store_iter_close(it);
        } else {
            c->failures++;
        }
        if (count != n)
            c->failures++;
        /* The HTTP thread's snapshots are handed between threads; NOTLS allows it. */
        cn_store_read_end(r);
        c->snapshots++;
    }
    return NULL;
}

static void test_threads_during_growth(void **state) {
    (void)state;
    tdir t;
    tdir_make(&t);
    cn_store_opts o = {0};
    o.map_size = 64 * 1024;
    cn_store *s;
    OK(cn_store_open(&s, t.data, &o));
    size_t start_map = cn_store_map_size(s);
    reader_ctx c[2] = {{s, 0, 0, 0}, {s, 0, 0, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, reader_main, &c[i]), 0);
    uint64_t n = 0;
    static uint8_t val[2048];
    for (int batch = 0; batch < 60; batch++) {
        cn_store_wtxn *w;
        OK(cn_store_begin(s, &w));
        for (int i = 0; i < 20; i++) {
            n++;
            uint8_t k[8];
            cn_put_be64(k, n);
            cn_put_be64(val, n);
            OK(cn_store_put(w, CN_DB_STATE, k, 8, val, sizeof val));
        }
        uint8_t nv[8];
        cn_put_be64(nv, n);
        OK(cn_store_put(w, CN_DB_META, "n", 1, nv, 8));
        OK(cn_store_commit(w));
    }
    for (int i = 0; i < 2; i++)
        __atomic_store_n(&c[i].stop, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(c[i].failures, 0);
        assert_true(c[i].snapshots > 0);
    }
    assert_true(cn_store_map_size(s) > start_map);
    printf("[threads] map %zu -> %zu bytes, %lu snapshots checked\n", start_map,
           cn_store_map_size(s), c[0].snapshots + c[1].snapshots);

    /* Growth is refused, not deadlocked, when the committing thread holds a snapshot. */
    cn_store_rtxn *mine;
    OK(cn_store_read_begin(s, &mine));
    size_t before = cn_store_map_size(s);
    cn_store_wtxn *w;
    OK(cn_store_begin(s, &w));
    for (uint64_t i = 0; i < 4 * before / sizeof val + 16; i++) {
        uint8_t k[9] = {0xee};
        cn_put_be64(k + 1, i);
        OK(cn_store_put(w, CN_DB_BLOCKS, k, 9, val, sizeof val));
    }
    EXPECT(cn_store_commit(w), CN_STORE_BUSY);
    cn_store_read_end(mine);
    expect_committed(s, CN_DB_BLOCKS, "\xee", NULL);
    cn_store_close(s);
    tdir_remove(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_create),
        cmocka_unit_test(test_each_db),
        cmocka_unit_test(test_read_own_writes),
        cmocka_unit_test(test_abort_leaves_nothing),
        cmocka_unit_test(test_snapshot_isolation),
        cmocka_unit_test(test_prefix_scan_order),
        cmocka_unit_test(test_model),
        cmocka_unit_test(test_reopen_persists),
        cmocka_unit_test(test_version_mismatch),
        cmocka_unit_test(test_size_limits),
        cmocka_unit_test(test_durability_toggle),
        cmocka_unit_test(test_batch_limit),
        cmocka_unit_test(test_misuse),
        cmocka_unit_test(test_threads_during_growth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
