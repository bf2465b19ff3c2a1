/* BFT time: weighted median of precommit timestamps (see bfttime.h). */
#include "node/consensus/bfttime.h"

/* Orders by timestamp, then validator index. */
static int before(const cn_cons_timed_vote *a, const cn_cons_timed_vote *b) {
    if (a->timestamp != b->timestamp)
        return a->timestamp < b->timestamp;
    return a->validator < b->validator;
}

int cn_cons_bft_time(cn_cons_timed_vote *v, size_t n, uint64_t prev_time, uint64_t *out) {
    if (n == 0 || prev_time == UINT64_MAX)
        return 0;
    int64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].power <= 0 || v[i].power > INT64_MAX / 4 - total)
            return 0;
        total += v[i].power;
    }
    /* Insertion sort: a commit has at most a few dozen entries. */
    for (size_t i = 1; i < n; i++) {
        cn_cons_timed_vote x = v[i];
        size_t j = i;
        while (j > 0 && before(&x, &v[j - 1])) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
    int64_t acc = 0;
    uint64_t median = v[n - 1].timestamp;
    for (size_t i = 0; i < n; i++) {
        acc += v[i].power;
        if (2 * acc > total) {
            median = v[i].timestamp;
            break;
        }
    }
    *out = median > prev_time ? median : prev_time + 1;
    return 1;
}

uint64_t cn_cons_vote_time(uint64_t now, uint64_t prev_time) {
    if (prev_time == UINT64_MAX)
        return UINT64_MAX;
    return now > prev_time ? now : prev_time + 1;
}
