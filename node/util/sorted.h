/* Sorted arrays: the insertion point of a key by binary search. */
#ifndef CLEARNODE_NODE_UTIL_SORTED_H
#define CLEARNODE_NODE_UTIL_SORTED_H

#include <stddef.h>

/* The first index i in [0, n) whose element is not below key (n if none); *found is 1 when
 * that element equals key. cmp(elem, key) returns <0, 0 or >0. */
static inline size_t cn_lower_bound(const void *base, size_t n, size_t size, const void *key,
                                    int (*cmp)(const void *elem, const void *key), int *found) {
    size_t lo = 0, hi = n;
    *found = 0;
    while (lo < hi) {
        size_t m = lo + (hi - lo) / 2;
        int c = cmp((const char *)base + m * size, key);
        if (c == 0) {
            *found = 1;
            return m;
        }
        if (c < 0)
            lo = m + 1;
        else
            hi = m;
    }
    return lo;
}

#endif
