/* node/store crash atomicity: a child process commits numbered batches and is SIGKILLed at a
 * random moment; after each kill the parent reopens the store and checks that it holds exactly
 * batches 1..k for some k that never goes backwards: no partial batch, nothing of k+1.
 *
 * Batch n writes meta "batch" = n, a varying number of state keys 'B' || be64(n) || be32(i)
 * with values derived from (n, i) and of varying length (some span overflow pages), sets
 * state "S" = n, and deletes key i = 0 of batch n - 3, so a torn batch shows up as a wrong
 * counter, a missing or extra key, a wrong value or a missing delete. The child starts with a
 * 64 KiB map, so kills also land during map growth.
 *
 * CLEARNODE_CRASH_ITER sets the number of kills (default 50; the store starts afresh every 100
 * kills); CLEARNODE_SEED replays a run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crypto/bytes.h"
#include "node/store/store.h"
#include "tests/unit/tmpdir.h"

#define OK(x)                                                                                 \
    do {                                                                                      \
        cn_store_err e_ = (x);                                                                \
        if (e_ != CN_STORE_OK)                                                                \
            fail_msg("%s: %s (%s)", #x, cn_store_strerror(e_), cn_store_last_detail());       \
    } while (0)


static uint64_t rng_state;

static uint64_t rnd(void) {
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * UINT64_C(2685821657736338717);
}

/* ---- the batch definition, shared by writer and checker ----------------------------------- */

static uint32_t keys_in(uint64_t n) { return 1 + (uint32_t)((n * 7) % 13); }

static size_t value_len(uint64_t n, uint32_t i) {
    return 8 + (size_t)((n * 31 + (uint64_t)i * 17) % 6000);
}

static uint8_t value_byte(uint64_t n, uint32_t i, size_t j) {
    return (uint8_t)(n * 131 + (uint64_t)i * 7 + j * 13 + (j >> 8));
}

static void make_key(uint8_t k[13], uint64_t n, uint32_t i) {
    k[0] = 'B';
    cn_put_be64(k + 1, n);
    cn_put_be32(k + 9, i);
}

/* Key i = 0 of batch n is deleted by batch n + 3. */
static int key_live(uint64_t n, uint32_t i, uint64_t k) { return !(i == 0 && n + 3 <= k); }

static void fill_value(uint8_t *v, uint64_t n, uint32_t i) {
    size_t len = value_len(n, i);
    cn_put_be64(v, n); /* the first bytes name the batch */
    for (size_t j = 8; j < len; j++)
        v[j] = value_byte(n, i, j);
}

/* ---- child: write batches until killed ---------------------------------------------------- */

static cn_store_opts child_opts(void) {
    cn_store_opts o = {0};
    o.map_size = 64 * 1024;
    return o;
}

static void child_main(const char *dir) {
    cn_store_opts o = child_opts();
    cn_store *s;
    if (cn_store_open(&s, dir, &o) != CN_STORE_OK)
        _exit(2);
    uint64_t n = 0;
    cn_store_rtxn *r;
    const void *v;
    size_t vl;
    if (cn_store_read_begin(s, &r) != CN_STORE_OK)
        _exit(3);
    if (cn_store_read_get(r, CN_DB_META, "batch", 5, &v, &vl) == CN_STORE_OK)
        n = cn_get_be64(v);
    cn_store_read_end(r);
    static uint8_t val[8 + 6000];
    for (;;) {
        n++;
        cn_store_wtxn *w;
        if (cn_store_begin(s, &w) != CN_STORE_OK)
            _exit(4);
        uint8_t nb[8], k[13];
        cn_put_be64(nb, n);
        int bad = cn_store_put(w, CN_DB_META, "batch", 5, nb, 8) != CN_STORE_OK;
        for (uint32_t i = 0; i < keys_in(n); i++) {
            make_key(k, n, i);
            fill_value(val, n, i);
            bad |= cn_store_put(w, CN_DB_STATE, k, 13, val, value_len(n, i)) != CN_STORE_OK;
        }
        bad |= cn_store_put(w, CN_DB_STATE, "S", 1, nb, 8) != CN_STORE_OK;
        if (n > 3) {
            make_key(k, n - 3, 0);
            bad |= cn_store_del(w, CN_DB_STATE, k, 13) != CN_STORE_OK;
        }
        if (bad)
            _exit(5);
        cn_store_err e = cn_store_commit(w);
        if (e != CN_STORE_OK)
            _exit(10 + (int)e);
    }
}

/* ---- parent: check the prefix property ---------------------------------------------------- */

/* Returns k, the number of batches in the store, after checking everything else matches. */
static uint64_t check_store(const char *dir) {
    cn_store_opts o = child_opts();
    cn_store *s;
    OK(cn_store_open(&s, dir, &o));
    cn_store_rtxn *r;
    const void *v;
    size_t vl;
    OK(cn_store_read_begin(s, &r));
    uint64_t k = 0;
    cn_store_err e = cn_store_read_get(r, CN_DB_META, "batch", 5, &v, &vl);
    if (e == CN_STORE_OK) {
        assert_int_equal(vl, 8);
        k = cn_get_be64(v);
    } else {
        assert_int_equal(e, CN_STORE_NOTFOUND);
    }
    e = cn_store_read_get(r, CN_DB_STATE, "S", 1, &v, &vl);
    if (k == 0) {
        assert_int_equal(e, CN_STORE_NOTFOUND);
    } else {
        OK(e);
        assert_int_equal(vl, 8);
        assert_true(cn_get_be64(v) == k);
    }
    /* Every key of batches 1..k (minus the deleted ones), in order, and nothing else. */
    cn_store_iter *it;
    OK(cn_store_iter_read(&it, r, CN_DB_STATE, "B", 1, NULL, 0, 0));
    static uint8_t want[8 + 6000];
    for (uint64_t n = 1; n <= k; n++) {
        for (uint32_t i = 0; i < keys_in(n); i++) {
            if (!key_live(n, i, k))
                continue;
            const void *key;
            size_t kl;
            uint8_t wk[13];
            make_key(wk, n, i);
            e = cn_store_iter_next(it, &key, &kl, &v, &vl);
            if (e != CN_STORE_OK)
                fail_msg("k=%llu: batch %llu key %u missing", (unsigned long long)k,
                         (unsigned long long)n, i);
            if (kl != 13 || memcmp(key, wk, 13) != 0)
                fail_msg("k=%llu: expected batch %llu key %u, found batch %llu key %u",
                         (unsigned long long)k, (unsigned long long)n, i,
                         (unsigned long long)cn_get_be64((const uint8_t *)key + 1),
                         cn_get_be32((const uint8_t *)key + 9));
            fill_value(want, n, i);
            assert_int_equal(vl, value_len(n, i));
            assert_memory_equal(v, want, vl);
        }
    }
    const void *key;
    size_t kl;
    e = cn_store_iter_next(it, &key, &kl, &v, &vl);
    if (e != CN_STORE_NOTFOUND)
        fail_msg("k=%llu: extra key of batch %llu", (unsigned long long)k,
                 (unsigned long long)cn_get_be64((const uint8_t *)key + 1));
    cn_store_iter_close(it);
    cn_store_read_end(r);
    cn_store_close(s);
    return k;
}

static void test_crash_prefix(void **state) {
    (void)state;
    const char *env_seed = getenv("CLEARNODE_SEED");
    uint64_t seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
    if (env_seed)
        seed = (uint64_t)strtoull(env_seed, NULL, 10);
    if (!seed)
        seed = 1;
    rng_state = seed;
    long iters = 50;
    const char *env_iter = getenv("CLEARNODE_CRASH_ITER");
    if (env_iter && atol(env_iter) > 0)
        iters = atol(env_iter);
    printf("[crash] seed %llu, %ld kills (CLEARNODE_SEED, CLEARNODE_CRASH_ITER)\n",
           (unsigned long long)seed, iters);
    fflush(stdout);

    char root[64], dir[96];
    strcpy(root, "/tmp/cn_store_crash_XXXXXX");
    assert_non_null(mkdtemp(root));
    snprintf(dir, sizeof dir, "%s/data", root);

    uint64_t k_prev = 0;
    long advanced = 0;
    for (long it = 0; it < iters; it++) {
        /* A fresh store every 100 kills keeps the full check of each reopen cheap. */
        if (it > 0 && it % 100 == 0) {
            rm_tree(dir);
            k_prev = 0;
        }
        /* Mostly short delays so kills hit opening, growth and commits; sometimes longer. */
        useconds_t delay = (useconds_t)(rnd() % 4 == 0 ? rnd() % 60000 : rnd() % 8000);
        fflush(stdout);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            child_main(dir);
            _exit(1);
        }
        usleep(delay);
        assert_int_equal(kill(pid, SIGKILL), 0);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
            fail_msg("writer exited on its own (status %d, exit %d) at kill %ld", status,
                     WIFEXITED(status) ? WEXITSTATUS(status) : -1, it);
        uint64_t k = check_store(dir);
        if (k < k_prev)
            fail_msg("kill %ld: store went back from %llu to %llu batches", it,
                     (unsigned long long)k_prev, (unsigned long long)k);
        advanced += k > k_prev;
        k_prev = k;
    }
    printf("[crash] %ld kills, store advanced after %ld of them, %llu batches intact at the "
           "end\n", iters, advanced, (unsigned long long)k_prev);
    rm_tree(root);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crash_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
