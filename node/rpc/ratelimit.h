/* Per-client-address request rate limit: one token bucket per address.
 *
 * Each address may make `burst` requests at once and then `rate` per second. Buckets hold
 * milli-tokens and refill by elapsed milliseconds times `rate`, so all arithmetic is in
 * integers and exact. Time comes from the caller (cn_rpc_monotonic_ms in the server, a fake
 * clock in tests), so the limiter is a pure function of its inputs.
 *
 * Memory is fixed: a table of `slots` buckets, found by a keyed hash (SipHash with a random
 * key, so clients cannot aim at each other's slots) and a short linear probe. When the probe
 * finds neither the address nor a free slot, the least recently seen bucket of the probe is
 * reused for the new address. Buckets idle long enough to be full again are as good as free.
 */
#ifndef CLEARNODE_NODE_RPC_RATELIMIT_H
#define CLEARNODE_NODE_RPC_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#define CN_RPC_RL_KEY_MAX 17 /* address family byte + up to 16 address bytes */

typedef struct cn_rpc_ratelimit cn_rpc_ratelimit;

/* Creates a limiter of `rate` requests/s with a bucket of `burst` (0 = rate; both capped at
 * 10,000,000) and at least `slots` buckets (rounded up to a power of two, 64..65536).
 * Returns NULL if rate is 0 or memory ran out. */
cn_rpc_ratelimit *cn_rpc_ratelimit_new(unsigned rate, unsigned burst, size_t slots);
void cn_rpc_ratelimit_free(cn_rpc_ratelimit *rl);

/* Takes one token for `key` at time `now_ms`. Returns 1 if the request may proceed, 0 if the
 * address is over its rate. key_len is at most CN_RPC_RL_KEY_MAX (longer keys are cut). */
int cn_rpc_ratelimit_take(cn_rpc_ratelimit *rl, const uint8_t *key, size_t key_len,
                          uint64_t now_ms);

/* Milliseconds of CLOCK_MONOTONIC. */
uint64_t cn_rpc_monotonic_ms(void);

#endif
