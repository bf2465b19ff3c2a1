/* Single-validator block production (see producer.h). */
#include "node/chain/producer.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/chain/cert.h"
#include "node/chain/propose.h"
#include "node/consensus/bfttime.h"
#include "node/util/log.h"

uint64_t cn_wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int cn_producer_step(cn_producer *p, int allow_empty, char *err, size_t cap) {
    const cn_genesis *g = cn_app_genesis(p->app);
    cn_built_block bb;
    int r = cn_block_propose(p->app, p->mp, p->mp_lock, p->key->pub, allow_empty, &bb, err, cap);
    if (r <= 0)
        return r;
    uint64_t height = bb.height;
    uint8_t *vote = NULL, *commit = NULL;
    size_t vlen = 0, clen = 0;
    int rc = -1;
    char why[256];
    cn_block_result *res = NULL;
    if (!cn_app_process_proposal(p->app, bb.block, bb.len, why, sizeof why)) {
        snprintf(err, cap, "height %llu: own proposal rejected: %s", (unsigned long long)height,
                 why);
        goto out;
    }
    res = cn_app_finalize_block(p->app, bb.block, bb.len, why, sizeof why);
    if (!res) {
        snprintf(err, cap, "height %llu: finalize: %s", (unsigned long long)height, why);
        goto out;
    }
    /* The precommit's timestamp becomes the next block's time (BFT time with n = 1). */
    uint64_t now = p->clock_ms ? p->clock_ms() : cn_wall_ms();
    uint64_t ts = cn_cons_vote_time(now, bb.time_ms);
    if (!cn_vote_sign(p->key, g->chain_id, CLEARNODE__V1__VOTE_TYPE__VOTE_PRECOMMIT, height, 0,
                      bb.id, ts, &vote, &vlen) ||
        !cn_commit_encode(height, 0, bb.id, &vote, &vlen, 1, &commit, &clen)) {
        cn_app_abandon(p->app, res);
        snprintf(err, cap, "height %llu: could not sign the precommit",
                 (unsigned long long)height);
        goto out;
    }
    uint64_t ws_n = res->n_txs;
    if (!cn_app_commit(p->app, res, commit, clen, NULL, NULL, why, sizeof why)) {
        snprintf(err, cap, "%s", why);
        goto out;
    }
    if (p->mp_lock)
        pthread_mutex_lock(p->mp_lock);
    if (p->mp)
        cn_mempool_update(p->mp, (const uint8_t(*)[32])bb.tx_ids, bb.n_txs);
    if (p->mp_lock)
        pthread_mutex_unlock(p->mp_lock);
    CN_LOG_DEBUG("committed height %llu with %llu txs", (unsigned long long)height,
                 (unsigned long long)ws_n);
    rc = 1;
out:
    cn_built_block_free(&bb);
    free(vote);
    free(commit);
    return rc;
}
