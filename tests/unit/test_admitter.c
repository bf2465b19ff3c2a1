/* The peer-tx admission queue (node/chain/admitter.h): txs reach the admit callback on the
 * admitter's own thread, all of them, once each, in arrival order; past the bound a push
 * drops (and frees) the excess and counts it; freeing with txs still queued frees them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/chain/admitter.h"

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint32_t seen[4096];
    size_t n_seen;
    int gate; /* while 0, the callback waits: lets a test fill the queue */
    int waiting; /* the callback holds a batch and waits at the gate */
    pthread_t thread;
} sink;

static void on_admit(void *ctx, size_t n, const uint8_t *const *bytes, const size_t *lens) {
    sink *s = ctx;
    pthread_mutex_lock(&s->mu);
    s->thread = pthread_self();
    s->waiting = 1;
    pthread_cond_broadcast(&s->cv);
    while (!s->gate)
        pthread_cond_wait(&s->cv, &s->mu);
    s->waiting = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t v;
        assert_int_equal(lens[i], sizeof v);
        memcpy(&v, bytes[i], sizeof v);
        s->seen[s->n_seen++] = v;
    }
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void sink_init(sink *s, int gate) {
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->gate = gate;
}

/* Pushes values [from, from + n) as 4-byte txs; returns how many were dropped. */
static size_t push_range(cn_admitter *a, uint32_t from, size_t n) {
    uint8_t *bytes[64];
    size_t lens[64];
    assert_true(n <= 64);
    for (size_t i = 0; i < n; i++) {
        uint32_t v = from + (uint32_t)i;
        bytes[i] = malloc(sizeof v);
        assert_non_null(bytes[i]);
        memcpy(bytes[i], &v, sizeof v);
        lens[i] = sizeof v;
    }
    return cn_admitter_push(a, n, bytes, lens);
}

static void wait_seen(sink *s, size_t n) {
    pthread_mutex_lock(&s->mu);
    while (s->n_seen < n)
        pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
}

/* Waits until the callback holds a batch at the closed gate. */
static void wait_at_gate(sink *s) {
    pthread_mutex_lock(&s->mu);
    while (!s->waiting)
        pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
}

static void open_gate(sink *s) {
    pthread_mutex_lock(&s->mu);
    s->gate = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void test_order_and_thread(void **state) {
    (void)state;
    sink s;
    sink_init(&s, 1);
    cn_admitter *a = cn_admitter_new(on_admit, &s, 4096);
    assert_non_null(a);
    for (uint32_t k = 0; k < 50; k++)
        assert_int_equal(push_range(a, k * 40, 40), 0);
    wait_seen(&s, 2000);
    for (uint32_t i = 0; i < 2000; i++)
        assert_int_equal(s.seen[i], i);
    assert_false(pthread_equal(s.thread, pthread_self()));
    assert_int_equal(cn_admitter_pending(a), 0);
    assert_int_equal(cn_admitter_dropped(a), 0);
    cn_admitter_free(a);
}

static void test_bound_drops_and_counts(void **state) {
    (void)state;
    sink s;
    sink_init(&s, 0);
    cn_admitter *a = cn_admitter_new(on_admit, &s, 16);
    assert_non_null(a);
    /* the first batch is taken by the thread, which then waits at the gate */
    assert_int_equal(push_range(a, 0, 4), 0);
    wait_at_gate(&s);
    /* 16 fit in the queue; of 20 more pushed, 4 are dropped */
    assert_int_equal(push_range(a, 4, 12), 0);
    assert_int_equal(push_range(a, 16, 8), 4);
    assert_int_equal(cn_admitter_pending(a), 16);
    assert_int_equal(cn_admitter_dropped(a), 4);
    open_gate(&s);
    wait_seen(&s, 20);
    for (uint32_t i = 0; i < 20; i++)
        assert_int_equal(s.seen[i], i); /* 20..23 were the dropped ones */
    cn_admitter_free(a);
}

static void test_free_with_queued(void **state) {
    (void)state;
    sink s;
    sink_init(&s, 0);
    cn_admitter *a = cn_admitter_new(on_admit, &s, 64);
    assert_non_null(a);
    assert_int_equal(push_range(a, 0, 8), 0);
    wait_at_gate(&s);
    assert_int_equal(push_range(a, 8, 30), 0);
    /* open the gate from another thread while free() waits for the admitter to stop */
    open_gate(&s);
    cn_admitter_free(a); /* what is still queued is freed (the leak checker would see it) */
    assert_true(s.n_seen >= 8 && s.n_seen <= 38);
    cn_admitter_free(NULL);
    assert_int_equal(cn_admitter_pending(NULL), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_thread),
        cmocka_unit_test(test_bound_drops_and_counts),
        cmocka_unit_test(test_free_with_queued),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
