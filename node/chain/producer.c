/* Single-validator block production (see producer.h). */
#include "node/chain/producer.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/bytes.h"
#include "node/chain/block.h"
#include "node/chain/cert.h"
#include "node/app/reserves.h"
#include "node/util/log.h"

uint64_t cn_wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int cn_producer_step(cn_producer *p, int allow_empty, char *err, size_t cap) {
    const cn_genesis *g = cn_app_genesis(p->app);
    const cn_tip *tip = cn_app_tip(p->app);
    uint8_t **txs = NULL;
    size_t *lens = NULL;
    if (p->mp_lock)
        pthread_mutex_lock(p->mp_lock);
    size_t n = cn_mempool_reap(p->mp, g->params.block_max_txs, g->params.block_max_bytes, &txs,
                               &lens);
    if (p->mp_lock)
        pthread_mutex_unlock(p->mp_lock);
    /* The reaped bytes stay valid without the lock: only cn_mempool_update frees entries, and
     * only this thread calls it. */
    n = cn_app_prepare_proposal(p->app, lens, n);
    if (n == 0 && !allow_empty) {
        free(txs);
        free(lens);
        return 0;
    }
    uint64_t now = p->clock_ms ? p->clock_ms() : cn_wall_ms();
    uint64_t height = tip->height + 1;
    uint8_t vh[32], block_id[32];
    cn_genesis_validators_hash(g, vh);
    cn_header_fields f = {
        .chain_id = g->chain_id,
        .height = height,
        .time_ms = now > tip->time_ms ? now : tip->time_ms + 1,
        .last_block_id = height > 1 ? tip->block_id : NULL,
        .last_commit = height > 1 ? tip->last_commit : NULL,
        .last_commit_len = height > 1 ? tip->last_commit_len : 0,
        .app_hash = tip->app_hash,
        .validators_hash = vh,
        .proposer = p->key->pub,
    };
    uint8_t *block = NULL, *vote = NULL, *commit = NULL;
    size_t blen = 0, vlen = 0, clen = 0;
    uint8_t(*ids)[32] = malloc((n ? n : 1) * 32);
    int rc = -1;
    cn_block_result *res = NULL;
    uint8_t rroot[32];
    int has_root = cn_reserves_committed_root(cn_app_store(p->app), rroot);
    if (!ids || has_root < 0 ||
        !cn_block_build_r(&f, has_root ? rroot : NULL, txs, lens, n, &block, &blen, block_id)) {
        snprintf(err, cap, "height %llu: could not build the block", (unsigned long long)height);
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        cn_tx_id(txs[i], lens[i], ids[i]);
    char why[256];
    if (!cn_app_process_proposal(p->app, block, blen, why, sizeof why)) {
        snprintf(err, cap, "height %llu: own proposal rejected: %s", (unsigned long long)height,
                 why);
        goto out;
    }
    res = cn_app_finalize_block(p->app, block, blen, why, sizeof why);
    if (!res) {
        snprintf(err, cap, "height %llu: finalize: %s", (unsigned long long)height, why);
        goto out;
    }
    if (!cn_vote_sign(p->key, g->chain_id, CLEARNODE__V1__VOTE_TYPE__VOTE_PRECOMMIT, height, 0,
                      block_id, f.time_ms, &vote, &vlen) ||
        !cn_commit_encode(height, 0, block_id, &vote, &vlen, 1, &commit, &clen)) {
        cn_app_abandon(p->app, res);
        snprintf(err, cap, "height %llu: could not sign the precommit",
                 (unsigned long long)height);
        goto out;
    }
    uint8_t rec[8 + 4 + 1 + 32];
    cn_put_be64(rec, height);
    cn_put_be32(rec + 8, 0);
    rec[12] = 3;
    memcpy(rec + 13, block_id, 32);
    uint64_t ws_n = res->n_txs;
    if (!cn_app_commit(p->app, res, commit, clen, rec, sizeof rec, why, sizeof why)) {
        snprintf(err, cap, "%s", why);
        goto out;
    }
    if (p->mp_lock)
        pthread_mutex_lock(p->mp_lock);
    cn_mempool_update(p->mp, (const uint8_t(*)[32])ids, n);
    if (p->mp_lock)
        pthread_mutex_unlock(p->mp_lock);
    CN_LOG_DEBUG("committed height %llu with %llu txs", (unsigned long long)height,
                 (unsigned long long)ws_n);
    rc = 1;
out:
    free(ids);
    free(block);
    free(vote);
    free(commit);
    free(txs);
    free(lens);
    return rc;
}
