/* The merged overlay cursor (node/app/overlay_cursor.h) against point reads: over a committed
 * LMDB snapshot and a block's puts, overwrites and deletes, a cursor over a prefix must give
 * exactly the keys a point read finds live, in LMDB's order (bytes, then shorter first), with
 * the values a point read gives. Keys are drawn from a small alphabet so that prefixes of one
 * another, equal keys on both sides and deletes of absent keys all occur. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/app/overlay.h"
#include "node/app/overlay_cursor.h"
#include "node/store/store.h"
#include "tests/unit/tmpdir.h"

#define MAXK 6

typedef struct {
    uint8_t b[MAXK];
    size_t n;
} key;

static uint64_t rng(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* A key of 1..MAXK bytes over {'a', 'b', 0, 1}, so many keys share prefixes. */
static key rand_key(uint64_t *s) {
    static const uint8_t alpha[4] = {'a', 'b', 0, 1};
    key k;
    k.n = 1 + rng(s) % MAXK;
    for (size_t i = 0; i < k.n; i++)
        k.b[i] = alpha[rng(s) % 4];
    return k;
}

static int key_cmp(const void *x, const void *y) {
    const key *a = x, *b = y;
    int c = memcmp(a->b, b->b, a->n < b->n ? a->n : b->n);
    return c ? c : (a->n > b->n) - (a->n < b->n);
}

/* The live keys under prefix by point reads: every key either side knows, sorted, unique,
 * kept when the overlay finds it. */
static size_t expected(cn_overlay *ov, const key *cand, size_t nc, const uint8_t *p, size_t pl,
                       key *out) {
    key *all = malloc((nc ? nc : 1) * sizeof *all);
    assert_non_null(all);
    size_t m = 0;
    for (size_t i = 0; i < nc; i++)
        if (cand[i].n >= pl && memcmp(cand[i].b, p, pl) == 0)
            all[m++] = cand[i];
    qsort(all, m, sizeof *all, key_cmp);
    size_t n = 0;
    for (size_t i = 0; i < m; i++) {
        if (i && key_cmp(&all[i], &all[i - 1]) == 0)
            continue;
        const uint8_t *v;
        size_t vl;
        int r = cn_overlay_get(ov, all[i].b, all[i].n, &v, &vl);
        assert_true(r >= 0);
        if (r)
            out[n++] = all[i];
    }
    free(all);
    return n;
}

/* Walks the cursor over prefix and checks it against point reads. */
static void check_prefix(cn_overlay *ov, const key *cand, size_t nc, const uint8_t *p,
                         size_t pl) {
    key *want = malloc((nc ? nc : 1) * sizeof *want);
    assert_non_null(want);
    size_t nwant = expected(ov, cand, nc, p, pl, want);
    size_t nw = 0;
    cn_ov_write *w = cn_overlay_writes(ov, &nw);
    assert_true(w || nw == 0);
    cn_ov_cursor c;
    assert_int_equal(cn_ov_cursor_open(&c, ov, w, nw, p, pl), 1);
    size_t got = 0;
    const uint8_t *k, *v;
    size_t kl, vl;
    int r;
    while ((r = cn_ov_cursor_next(&c, &k, &kl, &v, &vl)) == 1) {
        assert_true(got < nwant);
        assert_int_equal(kl, want[got].n);
        assert_memory_equal(k, want[got].b, kl);
        const uint8_t *pv;
        size_t pvl;
        assert_int_equal(cn_overlay_get(ov, k, kl, &pv, &pvl), 1);
        assert_int_equal(vl, pvl);
        assert_memory_equal(v, pv, vl);
        got++;
    }
    assert_int_equal(r, 0);
    assert_int_equal(got, nwant);
    /* at the end it stays at the end */
    assert_int_equal(cn_ov_cursor_next(&c, &k, &kl, &v, &vl), 0);
    cn_ov_cursor_close(&c);
    free(w);
    free(want);
}

/* One seed: `base` committed keys, then `writes` puts and deletes in the next block's
 * overlay, checked under every one- and two-byte prefix of the alphabet. */
static void run_seed(uint64_t seed, size_t base, size_t writes, int with_store) {
    uint64_t s = seed;
    key *cand = malloc((base + writes) * sizeof *cand);
    assert_non_null(cand);
    size_t nc = 0;
    tdir td;
    cn_store *st = NULL;
    cn_store_rtxn *r = NULL;
    if (with_store) {
        assert_int_equal(tdir_make_prefixed(&td, "cn-test-ovcur-"), 0);
        cn_store_opts o = {.map_size = (size_t)64 << 20};
        assert_int_equal(cn_store_open(&st, td.data, &o), CN_STORE_OK);
        cn_store_wtxn *t;
        assert_int_equal(cn_store_begin(st, &t), CN_STORE_OK);
        for (size_t i = 0; i < base; i++) {
            key k = rand_key(&s);
            uint64_t v = rng(&s);
            assert_int_equal(cn_store_put(t, CN_DB_STATE, k.b, k.n, &v, 1 + v % 8), CN_STORE_OK);
            cand[nc++] = k;
        }
        assert_int_equal(cn_store_commit(t), CN_STORE_OK);
        assert_int_equal(cn_store_read_begin(st, &r), CN_STORE_OK);
    }
    cn_overlay ov;
    cn_overlay_init(&ov, r);
    for (size_t i = 0; i < writes; i++) {
        /* half of the writes touch a committed key, when there is one */
        key k = nc && rng(&s) % 2 ? cand[rng(&s) % nc] : rand_key(&s);
        uint64_t v = rng(&s);
        if (v % 3 == 0)
            assert_true(cn_overlay_del(&ov, k.b, k.n));
        else
            assert_true(cn_overlay_put(&ov, k.b, k.n, &v, v % 9)); /* empty values too */
        cand[nc++] = k;
    }
    static const uint8_t alpha[4] = {'a', 'b', 0, 1};
    for (size_t i = 0; i < 4; i++) {
        check_prefix(&ov, cand, nc, &alpha[i], 1);
        for (size_t j = 0; j < 4; j++) {
            uint8_t p[2] = {alpha[i], alpha[j]};
            check_prefix(&ov, cand, nc, p, 2);
        }
    }
    cn_overlay_free(&ov);
    if (with_store) {
        cn_store_read_end(r);
        cn_store_close(st);
        tdir_remove(&td);
    }
    free(cand);
}

static void test_matches_point_reads(void **st) {
    (void)st;
    for (uint64_t seed = 1; seed <= 40; seed++)
        run_seed(seed, 300, 200, 1);
}

static void test_without_snapshot(void **st) {
    (void)st;
    for (uint64_t seed = 100; seed <= 120; seed++)
        run_seed(seed, 0, 300, 0);
}

/* Only the snapshot (an empty block), and a block that deletes every committed key. */
static void test_untouched_and_all_deleted(void **st) {
    (void)st;
    tdir td;
    assert_int_equal(tdir_make_prefixed(&td, "cn-test-ovcur-"), 0);
    cn_store *s = NULL;
    cn_store_opts o = {.map_size = (size_t)16 << 20};
    assert_int_equal(cn_store_open(&s, td.data, &o), CN_STORE_OK);
    cn_store_wtxn *t;
    assert_int_equal(cn_store_begin(s, &t), CN_STORE_OK);
    const char *keys[] = {"x1", "x2", "x22", "y"};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(cn_store_put(t, CN_DB_STATE, keys[i], strlen(keys[i]), "v", 1),
                         CN_STORE_OK);
    assert_int_equal(cn_store_commit(t), CN_STORE_OK);
    cn_store_rtxn *r;
    assert_int_equal(cn_store_read_begin(s, &r), CN_STORE_OK);
    cn_overlay ov;
    cn_overlay_init(&ov, r);
    cn_ov_cursor c;
    const uint8_t *k, *v;
    size_t kl, vl, n = 0;
    assert_int_equal(cn_ov_cursor_open(&c, &ov, NULL, 0, (const uint8_t *)"x", 1), 1);
    while (cn_ov_cursor_next(&c, &k, &kl, &v, &vl) == 1)
        assert_memory_equal(k, keys[n++], kl);
    cn_ov_cursor_close(&c);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < 3; i++)
        assert_true(cn_overlay_del(&ov, keys[i], strlen(keys[i])));
    size_t nw;
    cn_ov_write *w = cn_overlay_writes(&ov, &nw);
    assert_int_equal(nw, 3);
    assert_int_equal(cn_ov_cursor_open(&c, &ov, w, nw, (const uint8_t *)"x", 1), 1);
    assert_int_equal(cn_ov_cursor_next(&c, &k, &kl, &v, &vl), 0);
    cn_ov_cursor_close(&c);
    /* the neighbouring family is untouched */
    assert_int_equal(cn_ov_cursor_open(&c, &ov, w, nw, (const uint8_t *)"y", 1), 1);
    assert_int_equal(cn_ov_cursor_next(&c, &k, &kl, &v, &vl), 1);
    assert_int_equal(kl, 1);
    cn_ov_cursor_close(&c);
    free(w);
    cn_overlay_free(&ov);
    cn_store_read_end(r);
    cn_store_close(s);
    tdir_remove(&td);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_point_reads),
        cmocka_unit_test(test_without_snapshot),
        cmocka_unit_test(test_untouched_and_all_deleted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
