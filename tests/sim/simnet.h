/* Simulator plumbing: seeded PRNG, messages, events and the event queue (simnet.c). */
#ifndef CLEARNODE_TESTS_SIM_SIMNET_H
#define CLEARNODE_TESTS_SIM_SIMNET_H

#include <stddef.h>
#include <stdint.h>

#include "node/consensus/types.h"

typedef struct {
    uint64_t s[4];
} sim_rng;

void sim_rng_seed(sim_rng *r, uint64_t seed);
uint64_t sim_rng_next(sim_rng *r);
/* Uniform-enough in [0, n) (0 when n is 0). */
uint64_t sim_rng_below(sim_rng *r, uint64_t n);
/* 1 with probability permille / 1000. */
int sim_rng_pm(sim_rng *r, uint32_t permille);

enum { SIM_MSG_PROPOSAL = 1, SIM_MSG_VOTE = 2 };

/* A message on the wire: what the node layer would sign, as core structs. */
typedef struct {
    uint8_t kind;
    cn_cons_proposal p;
    cn_cons_vote v;
} sim_msg;

enum {
    SIM_EV_DELIVER = 1,
    SIM_EV_TIMEOUT = 2,
    SIM_EV_VALUE = 3,   /* answer a GET_VALUE */
    SIM_EV_GOSSIP = 4,  /* periodic re-gossip by one node */
    SIM_EV_CRASH = 5,
    SIM_EV_RESTART = 6,
    SIM_EV_GST = 7
};

typedef struct {
    uint64_t time, seq;
    uint8_t type;
    uint8_t tkind; /* timeout kind */
    uint32_t node, from, epoch;
    uint64_t h;
    uint32_t r;
    sim_msg msg;
} sim_event;

typedef struct {
    sim_event *a;
    size_t n, cap;
} sim_heap;

/* Returns 0 if memory ran out. */
int sim_heap_push(sim_heap *h, const sim_event *e);
/* Pops the earliest event (ties: first pushed); returns 0 when empty. */
int sim_heap_pop(sim_heap *h, sim_event *out);
void sim_heap_free(sim_heap *h);

#endif
