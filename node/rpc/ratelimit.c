/* Token buckets keyed by client address. See ratelimit.h. */
#include "node/rpc/ratelimit.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#define MILLI 1000u
#define MAX_RATE 10000000u
#define PROBE 8

struct bucket {
    uint8_t key[CN_RPC_RL_KEY_MAX];
    uint8_t key_len; /* 0: free slot */
    uint64_t milli;  /* tokens x 1000 */
    uint64_t last_ms;
};

struct cn_rpc_ratelimit {
    uint64_t rate;     /* tokens per second = milli-tokens per millisecond */
    uint64_t cap;      /* burst x 1000 */
    size_t mask;       /* slots - 1 */
    uint8_t hkey[crypto_shorthash_KEYBYTES];
    struct bucket *b;
};

cn_rpc_ratelimit *cn_rpc_ratelimit_new(unsigned rate, unsigned burst, size_t slots) {
    if (rate == 0 || sodium_init() < 0)
        return NULL;
    if (rate > MAX_RATE)
        rate = MAX_RATE;
    if (burst == 0)
        burst = rate;
    if (burst > MAX_RATE)
        burst = MAX_RATE;
    size_t n = 64;
    while (n < slots && n < 65536)
        n <<= 1;
    cn_rpc_ratelimit *rl = calloc(1, sizeof *rl);
    if (rl == NULL)
        return NULL;
    rl->b = calloc(n, sizeof *rl->b);
    if (rl->b == NULL) {
        free(rl);
        return NULL;
    }
    rl->rate = rate;
    rl->cap = (uint64_t)burst * MILLI;
    rl->mask = n - 1;
    randombytes_buf(rl->hkey, sizeof rl->hkey);
    return rl;
}

void cn_rpc_ratelimit_free(cn_rpc_ratelimit *rl) {
    if (rl == NULL)
        return;
    free(rl->b);
    free(rl);
}

/* Adds the tokens earned since the bucket was last seen. Elapsed time is clamped so the
 * product cannot overflow: after cap/rate ms the bucket is full anyway. */
static void refill(const cn_rpc_ratelimit *rl, struct bucket *b, uint64_t now_ms) {
    if (now_ms <= b->last_ms)
        return; /* the clock is monotonic; equal times earn nothing */
    uint64_t elapsed = now_ms - b->last_ms;
    uint64_t full_after = rl->cap / rl->rate + 1;
    uint64_t add = elapsed >= full_after ? rl->cap : elapsed * rl->rate;
    b->milli = rl->cap - b->milli <= add ? rl->cap : b->milli + add;
    b->last_ms = now_ms;
}

int cn_rpc_ratelimit_take(cn_rpc_ratelimit *rl, const uint8_t *key, size_t key_len,
                          uint64_t now_ms) {
    if (key_len > CN_RPC_RL_KEY_MAX)
        key_len = CN_RPC_RL_KEY_MAX;
    if (key_len == 0) {
        static const uint8_t none = 0;
        key = &none;
        key_len = 1;
    }
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, key, key_len, rl->hkey);
    size_t start = 0;
    for (size_t i = 0; i < sizeof(size_t) && i < sizeof h; i++)
        start = (start << 8) | h[i];
    struct bucket *found = NULL, *victim = NULL;
    for (size_t i = 0; i < PROBE; i++) {
        struct bucket *b = &rl->b[(start + i) & rl->mask];
        if (b->key_len == key_len && memcmp(b->key, key, key_len) == 0) {
            found = b;
            break;
        }
        if (b->key_len == 0) {
            if (victim == NULL || victim->key_len != 0)
                victim = b;
        } else if (victim == NULL || (victim->key_len != 0 && b->last_ms < victim->last_ms)) {
            victim = b;
        }
    }
    if (found == NULL) {
        found = victim;
        memset(found, 0, sizeof *found);
        memcpy(found->key, key, key_len);
        found->key_len = (uint8_t)key_len;
        found->milli = rl->cap;
        found->last_ms = now_ms;
    } else {
        refill(rl, found, now_ms);
    }
    if (found->milli < MILLI)
        return 0;
    found->milli -= MILLI;
    return 1;
}

uint64_t cn_rpc_monotonic_ms(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
