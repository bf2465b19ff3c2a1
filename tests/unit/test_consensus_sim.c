/* Seeded consensus simulator (tests/sim) over thousands of seeds, N = 4 and N = 7.
 *
 * The simulator's code lives in tests/sim/ and is compiled into this translation unit by
 * including its .c files below: the build turns each tests/unit/test_*.c into one binary and
 * links every other .c file of tests/unit into all of them, so this keeps the simulator out of the
 * other tests and out of the product library without touching the build.
 *
 * Environment:
 *   CLEARNODE_SIM_SEEDS=k    seeds per N (default 4000 for N = 4 and 3000 for N = 7, fewer
 *                            under AddressSanitizer or without optimisation)
 *   CLEARNODE_SIM_FIRST=s    first seed (default 1)
 *   CLEARNODE_SIM_N=n        run only this N (4..7)
 *   CLEARNODE_SIM_SEED=s     replay one seed (with CLEARNODE_SIM_N); CLEARNODE_SIM_TRACE=1
 *                            prints every decision, crash and restart
 * A failing seed prints a one-line replay command.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/sim/sim.c"
#include "tests/sim/simnet.c"

#if defined(__SANITIZE_ADDRESS__)
#define SIM_SLOW 4
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SIM_SLOW 4
#endif
#endif
#if !defined(SIM_SLOW) && !defined(__OPTIMIZE__)
#define SIM_SLOW 2
#endif
#ifndef SIM_SLOW
#define SIM_SLOW 1
#endif

static const char *g_argv0 = "build/release/tests/test_consensus_sim";

static uint64_t env_u64(const char *name, uint64_t dflt) {
    const char *v = getenv(name);
    if (!v || !*v)
        return dflt;
    char *end;
    unsigned long long x = strtoull(v, &end, 10);
    return *end ? dflt : (uint64_t)x;
}

/* Runs count seeds from first at n validators; returns the number of failing seeds. */
static uint64_t run_seeds(uint32_t n, uint64_t first, uint64_t count, int trace) {
    uint64_t failed = 0, events = 0, deliveries = 0, crashes = 0, evidence = 0, heights = 0;
    for (uint64_t seed = first; seed < first + count; seed++) {
        sim_params p = {seed, n, trace};
        sim_result r;
        sim_run(&p, &r);
        events += r.events;
        deliveries += r.deliveries;
        crashes += r.crashes;
        evidence += r.evidence;
        heights += r.heights;
        if (r.ok)
            continue;
        failed++;
        fprintf(stderr, "sim: seed %llu, n=%u: %s\n  replay: CLEARNODE_SIM_SEED=%llu "
                        "CLEARNODE_SIM_N=%u %s\n",
                (unsigned long long)seed, n, r.why, (unsigned long long)seed, n, g_argv0);
        if (failed >= 5)
            break;
    }
    printf("sim n=%u: seeds %llu..%llu, %llu failed; %llu events, %llu deliveries, %llu crashes, "
           "%llu evidence, %llu heights decided\n",
           n, (unsigned long long)first, (unsigned long long)(first + count - 1),
           (unsigned long long)failed, (unsigned long long)events, (unsigned long long)deliveries,
           (unsigned long long)crashes, (unsigned long long)evidence, (unsigned long long)heights);
    return failed;
}

static void run_default(uint32_t n, uint64_t dflt) {
    uint64_t only = env_u64("CLEARNODE_SIM_N", 0);
    if (only != 0 && only != n) {
        skip();
        return;
    }
    uint64_t count = env_u64("CLEARNODE_SIM_SEEDS", dflt / SIM_SLOW);
    uint64_t first = env_u64("CLEARNODE_SIM_FIRST", 1);
    assert_int_equal(run_seeds(n, first, count, 0), 0);
}

static void test_sim_n4(void **state) {
    (void)state;
    run_default(4, 4000);
}

static void test_sim_n7(void **state) {
    (void)state;
    run_default(7, 3000);
}

int main(int argc, char **argv) {
    (void)argc;
    g_argv0 = argv[0];
    const char *one = getenv("CLEARNODE_SIM_SEED");
    if (one && *one) {
        uint64_t seed = env_u64("CLEARNODE_SIM_SEED", 1);
        uint32_t n = (uint32_t)env_u64("CLEARNODE_SIM_N", 4);
        return run_seeds(n, seed, 1, env_u64("CLEARNODE_SIM_TRACE", 0) != 0) ? 1 : 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sim_n4),
        cmocka_unit_test(test_sim_n7),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
