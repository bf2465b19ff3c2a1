/* Validator set: limits, thresholds and priority-based proposer rotation (see valset.h).
 *
 * Overflow: powers are at most 2^40, the total at most 2^46 and priorities are kept within
 * 4 * 2^46 = 2^48 by the rescale and centring steps, so a sum over 64 validators stays below
 * 2^55 and every intermediate fits int64.
 */
#include "node/consensus/valset.h"

#include <string.h>

int cn_cons_valset_init(cn_cons_valset *vs, const int64_t *powers, uint32_t n) {
    memset(vs, 0, sizeof *vs);
    if (n == 0 || n > CN_CONS_MAX_VALIDATORS)
        return 0;
    int64_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (powers[i] < 1 || powers[i] > CN_CONS_MAX_POWER)
            return 0;
        total += powers[i];
        vs->power[i] = powers[i];
    }
    if (total > CN_CONS_MAX_TOTAL_POWER)
        return 0;
    vs->n = n;
    vs->total = total;
    return 1;
}

int cn_cons_valset_check(const cn_cons_valset *vs) {
    if (vs->n == 0 || vs->n > CN_CONS_MAX_VALIDATORS)
        return 0;
    int64_t total = 0;
    for (uint32_t i = 0; i < vs->n; i++) {
        if (vs->power[i] < 1 || vs->power[i] > CN_CONS_MAX_POWER)
            return 0;
        if (vs->priority[i] > CN_CONS_MAX_PRIORITY || vs->priority[i] < -CN_CONS_MAX_PRIORITY)
            return 0;
        total += vs->power[i];
    }
    return total == vs->total && total <= CN_CONS_MAX_TOTAL_POWER;
}

/* Floor division for a positive divisor (C's / truncates toward zero). */
static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    if ((a % b != 0) && (a < 0))
        q--;
    return q;
}

uint32_t cn_cons_valset_step(cn_cons_valset *vs) {
    uint32_t n = vs->n;
    int64_t lo = vs->priority[0], hi = vs->priority[0];
    for (uint32_t i = 1; i < n; i++) {
        if (vs->priority[i] < lo)
            lo = vs->priority[i];
        if (vs->priority[i] > hi)
            hi = vs->priority[i];
    }
    int64_t window = 2 * vs->total;
    if (hi - lo > window) {
        int64_t ratio = (hi - lo + window - 1) / window;
        for (uint32_t i = 0; i < n; i++)
            vs->priority[i] /= ratio;
    }
    int64_t sum = 0;
    for (uint32_t i = 0; i < n; i++)
        sum += vs->priority[i];
    int64_t avg = floor_div(sum, (int64_t)n);
    uint32_t best = 0;
    for (uint32_t i = 0; i < n; i++) {
        vs->priority[i] = vs->priority[i] - avg + vs->power[i];
        if (vs->priority[i] > vs->priority[best])
            best = i;
    }
    vs->priority[best] -= vs->total;
    return best;
}

void cn_cons_valset_next_height(cn_cons_valset *vs) {
    (void)cn_cons_valset_step(vs);
}

uint32_t cn_cons_valset_proposer(const cn_cons_valset *vs, uint32_t round) {
    cn_cons_valset tmp = *vs;
    uint32_t p = cn_cons_valset_step(&tmp);
    for (uint32_t r = 0; r < round; r++)
        p = cn_cons_valset_step(&tmp);
    return p;
}

int cn_cons_valset_quorum(const cn_cons_valset *vs, int64_t power) {
    return 3 * power > 2 * vs->total;
}

int cn_cons_valset_third(const cn_cons_valset *vs, int64_t power) {
    return 3 * power > vs->total;
}
