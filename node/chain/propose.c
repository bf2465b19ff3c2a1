/* Building a proposal (see propose.h). */
#include "node/chain/propose.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/app/reserves.h"
#include "node/chain/block.h"
#include "node/chain/cert.h"

int cn_block_next_time(cn_app *app, uint64_t *out) {
    const cn_tip *tip = cn_app_tip(app);
    if (tip->height == 0) {
        *out = tip->time_ms + 1;
        return 1;
    }
    cn_pb pb;
    if (!tip->last_commit ||
        cn_decode(CN_MSG_COMMIT, tip->last_commit, tip->last_commit_len, &pb) != CN_DECODE_OK)
        return 0;
    int ok = cn_commit_bft_time(cn_app_validators(app, 0),
                                (const Clearnode__V1__Commit *)pb.msg, tip->time_ms, out);
    cn_pb_free(&pb);
    return ok;
}

int cn_block_propose(cn_app *app, cn_mempool *mp, pthread_mutex_t *mp_lock,
                     const uint8_t proposer[32], int allow_empty, cn_built_block *out,
                     char *err, size_t cap) {
    return cn_block_propose_ev(app, mp, mp_lock, proposer, allow_empty, NULL, NULL, 0, out, err,
                               cap);
}

int cn_block_propose_ev(cn_app *app, cn_mempool *mp, pthread_mutex_t *mp_lock,
                        const uint8_t proposer[32], int allow_empty, uint8_t *const *evidence,
                        const size_t *ev_lens, size_t n_ev, cn_built_block *out, char *err,
                        size_t cap) {
    memset(out, 0, sizeof *out);
    const cn_genesis *g = cn_app_genesis(app);
    const cn_tip *tip = cn_app_tip(app);
    uint8_t **txs = NULL;
    size_t *lens = NULL, n = 0;
    if (mp) {
        if (mp_lock)
            pthread_mutex_lock(mp_lock);
        n = cn_mempool_reap(mp, g->params.block_max_txs, g->params.block_max_bytes, &txs, &lens);
        if (mp_lock)
            pthread_mutex_unlock(mp_lock);
    }
    /* The reaped bytes stay valid without the lock until the caller's next cn_mempool_update
     * (only the thread that commits calls it). */
    n = cn_app_prepare_proposal(app, lens, n);
    int rc = 0;
    if (n == 0 && n_ev == 0 && !allow_empty)
        goto out;
    rc = -1;
    uint64_t height = tip->height + 1, t;
    if (!cn_block_next_time(app, &t)) {
        snprintf(err, cap, "height %llu: the tip's commit gives no block time",
                 (unsigned long long)height);
        goto out;
    }
    uint8_t vh[32], rroot[32];
    cn_validators_hash(cn_app_validators(app, 1), vh);
    int has_root = cn_reserves_committed_root(cn_app_store(app), rroot);
    cn_header_fields f = {
        .chain_id = g->chain_id,
        .height = height,
        .time_ms = t,
        .last_block_id = height > 1 ? tip->block_id : NULL,
        .last_commit = height > 1 ? tip->last_commit : NULL,
        .last_commit_len = height > 1 ? tip->last_commit_len : 0,
        .app_hash = tip->app_hash,
        .validators_hash = vh,
        .proposer = proposer,
        .evidence = evidence,
        .evidence_lens = ev_lens,
        .n_evidence = n_ev,
    };
    out->tx_ids = malloc((n ? n : 1) * 32);
    if (!out->tx_ids || has_root < 0 ||
        !cn_block_build_r(&f, has_root ? rroot : NULL, txs, lens, n, &out->block, &out->len,
                          out->id)) {
        snprintf(err, cap, "height %llu: could not build the block", (unsigned long long)height);
        cn_built_block_free(out);
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        cn_tx_id(txs[i], lens[i], out->tx_ids[i]);
    out->n_txs = n;
    out->height = height;
    out->time_ms = t;
    rc = 1;
out:
    free(txs);
    free(lens);
    return rc;
}

void cn_built_block_free(cn_built_block *b) {
    free(b->block);
    free(b->tx_ids);
    memset(b, 0, sizeof *b);
}
