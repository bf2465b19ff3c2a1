/* The verified-signature cache: ids of transactions whose signature already verified.
 *
 * A tx id is H_tag("clearnode/tx", Signed bytes), which covers the body, the signer and the
 * signature, so an id in the cache means these exact bytes verified; execution then skips the
 * second verification (the most expensive step of a transaction). The cache is bounded: when
 * full, the oldest id is forgotten, which only costs a re-verification. Thread-safe.
 */
#ifndef CLEARNODE_NODE_APP_SIGCACHE_H
#define CLEARNODE_NODE_APP_SIGCACHE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "node/util/bmap.h"

typedef struct {
    pthread_mutex_t mu;
    cn_bmap set;
    uint8_t (*ring)[32];
    size_t cap, head;
    int wrapped;
} cn_sigcache;

/* Returns 1, or 0 if memory ran out. */
int cn_sigcache_init(cn_sigcache *c, size_t cap);
void cn_sigcache_free(cn_sigcache *c);
void cn_sigcache_add(cn_sigcache *c, const uint8_t id[32]);
int cn_sigcache_has(cn_sigcache *c, const uint8_t id[32]);
/* Forgets an id (after execution). */
void cn_sigcache_remove(cn_sigcache *c, const uint8_t id[32]);

#endif
