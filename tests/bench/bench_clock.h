/* Monotonic wall-clock helpers for benchmarks (benchmarks only: never in node code). */
#ifndef CLEARNODE_BENCH_CLOCK_H
#define CLEARNODE_BENCH_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t bench_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Operations per second, as an integer, from a count and a duration in nanoseconds. */
static inline uint64_t bench_rate(uint64_t ops, uint64_t ns) {
    return ns ? (uint64_t)((unsigned __int128)ops * 1000000000u / ns) : 0;
}

/* A ratio in percent with one decimal, as tenths of a percent. */
static inline uint64_t bench_permille(uint64_t part, uint64_t whole) {
    return whole ? (uint64_t)((unsigned __int128)part * 1000u / whole) : 0;
}

#endif
