/* Seeded consensus simulator (docs/consensus.md, "Simulator").
 *
 * sim_run drives N consensus cores (node/consensus) over a simulated network, entirely
 * determined by the seed: validator powers (equal or not), which validator is Byzantine,
 * the network's drop, duplication and delay rates, partitions, crash and restart times, and
 * the global stabilisation time (GST) after which messages are no longer lost and arrive
 * within a bounded delay. It checks after every step that can change them:
 *   agreement   no two honest nodes decide different values at a height;
 *   validity    every decided value satisfies the validity predicate (it was created by the
 *               proposer of its height and round);
 *   no self-equivocation  no honest node ever signs two different messages for the same
 *               (height, round, step), across crashes and restarts;
 *   evidence    equivocation evidence only ever names the Byzantine validator, and honest
 *               messages are never rejected as malformed;
 * and, once the network is stable, progress: every honest node decides K more heights
 * within a time bound.
 */
#ifndef CLEARNODE_TESTS_SIM_SIM_H
#define CLEARNODE_TESTS_SIM_SIM_H

#include <stdint.h>

typedef struct {
    uint64_t seed;
    uint32_t n;  /* validators: 4..SIM_MAX_N */
    int trace;   /* print every event to stderr */
} sim_params;

typedef struct {
    int ok;
    char why[256];     /* the first violated property, when !ok */
    uint64_t heights;  /* lowest decided height among honest nodes at the end */
    uint64_t events;
    uint64_t deliveries;
    uint64_t crashes;
    uint64_t evidence; /* evidence outputs seen by honest nodes */
    uint64_t sim_ms;   /* simulated time at the end */
} sim_result;

#define SIM_MAX_N 7u

/* Runs one seed to completion (success or the first violated property). */
void sim_run(const sim_params *p, sim_result *r);

#endif
