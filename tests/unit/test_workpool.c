/* The worker pool (node/util/workpool.h): every index is run exactly once, on several threads
 * when the pool has workers, inline when it has none, and back-to-back jobs never see a late
 * worker from the previous job. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/util/workpool.h"

typedef struct {
    atomic_uint *hits;
    atomic_uint calls;
    pthread_t seen[8];
    atomic_uint n_seen;
} job;

static void count(void *arg, size_t i) {
    job *j = arg;
    atomic_fetch_add(&j->hits[i], 1);
    atomic_fetch_add(&j->calls, 1);
}

static void run_check(cn_workpool *p, size_t n) {
    job j;
    memset(&j, 0, sizeof j);
    j.hits = calloc(n ? n : 1, sizeof *j.hits);
    assert_non_null(j.hits);
    cn_workpool_run(p, count, &j, n);
    assert_int_equal(atomic_load(&j.calls), n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(atomic_load(&j.hits[i]), 1);
    free(j.hits);
}

static void test_inline(void **state) {
    (void)state;
    cn_workpool *p = cn_workpool_new(0);
    assert_non_null(p);
    assert_int_equal(cn_workpool_workers(p), 0);
    run_check(p, 0);
    run_check(p, 1);
    run_check(p, 1000);
    run_check(NULL, 10);
    cn_workpool_free(p);
    cn_workpool_free(NULL);
}

static void test_many_jobs(void **state) {
    (void)state;
    cn_workpool *p = cn_workpool_new(3);
    assert_non_null(p);
    assert_int_equal(cn_workpool_workers(p), 3);
    /* Many short jobs in a row: a worker that wakes late must not run the next job's items
     * with the previous job's argument (the hit counts would be off). */
    for (size_t k = 0; k < 2000; k++)
        run_check(p, k % 17);
    run_check(p, 100000);
    cn_workpool_free(p);
}

static void spin(void *arg, size_t i) {
    (void)i;
    job *j = arg;
    pthread_t me = pthread_self();
    unsigned n = atomic_load(&j->n_seen);
    int known = 0;
    for (unsigned k = 0; k < n && k < 8; k++)
        known |= pthread_equal(j->seen[k], me);
    if (!known) {
        unsigned slot = atomic_fetch_add(&j->n_seen, 1);
        if (slot < 8)
            j->seen[slot] = me;
    }
    /* Hold this item until a second thread has shown up (or 5 s passed), so the test does
     * not depend on how fast the workers are scheduled. */
    for (int k = 0; k < 5000 && atomic_load(&j->n_seen) < 2; k++)
        usleep(1000);
    atomic_fetch_add(&j->calls, 1);
}

static void test_uses_workers(void **state) {
    (void)state;
    cn_workpool *p = cn_workpool_new(2);
    assert_non_null(p);
    job j;
    memset(&j, 0, sizeof j);
    cn_workpool_run(p, spin, &j, 64);
    assert_int_equal(atomic_load(&j.calls), 64);
    /* Items wait for a second thread: more than one thread took part. */
    assert_true(atomic_load(&j.n_seen) >= 2);
    cn_workpool_free(p);
}

static void test_limits(void **state) {
    (void)state;
    assert_null(cn_workpool_new(65));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inline),
        cmocka_unit_test(test_many_jobs),
        cmocka_unit_test(test_uses_workers),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
