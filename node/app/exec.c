/* Block execution (finalize_block) and the one-transaction commit (see app.h).
 *
 * finalize_block runs each tx in block order against an overlay over a read snapshot:
 *   stateless checks -> signer registered and permitted -> nonce = next -> signature (skipped
 *   when the same bytes verified at admission) -> the nonce is consumed -> the kind executes
 *   inside an overlay mark and is rolled back if it fails.
 * A tx failing before its nonce is consumed changes nothing; one failing in its kind keeps only
 * the nonce increment. Every tx gets a receipt. Then the block meta ('m' height, time,
 * results) is written, the sorted write set is hashed and linked into the app hash.
 *
 * commit copies the write set, the block, the certificate, the receipts (tx index), the meta
 * and the signer record into one store batch and commits it (synced).
 */
#include "node/app/app_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/bytes.h"
#include "crypto/hash.h"
#include "node/app/custody.h"
#include "node/app/gov.h"
#include "node/app/margin.h"
#include "node/chain/block.h"
#include "node/contract/contract.h"
#include "node/app/endblock.h"

static uint64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void free_result(cn_block_result *res) {
    if (!res)
        return;
    for (size_t i = 0; i < res->n_txs && res->txs; i++)
        free(res->txs[i].receipt);
    free(res->txs);
    free(res->block);
    free(res->last_commit);
    cn_overlay_free(&res->ov);
    cn_store_read_end(res->snap);
    free(res);
}

void cn_app_abandon(cn_app *app, cn_block_result *res) {
    if (app->pending == res)
        app->pending = NULL;
    free_result(res);
}

/* Encodes a receipt; returns 1 or 0 on no memory. */
static int encode_receipt(const cn_exec_result *r, uint64_t height, uint32_t index,
                          uint8_t **out, size_t *len) {
    Clearnode__V1__Receipt rc;
    clearnode__v1__receipt__init(&rc);
    rc.code = (uint32_t)r->code;
    rc.message = (char *)(uintptr_t)r->message;
    rc.gas_used = r->gas_used;
    rc.height = height;
    rc.index = index;
    Clearnode__V1__Event ev[2], *evp[2];
    Clearnode__V1__EventAttr at[2][CN_EVENT_MAX_ATTRS], *atp[2][CN_EVENT_MAX_ATTRS];
    for (size_t i = 0; i < r->n_events && i < 2; i++) {
        clearnode__v1__event__init(&ev[i]);
        ev[i].type = (char *)(uintptr_t)r->events[i].type;
        for (size_t j = 0; j < r->events[i].n; j++) {
            clearnode__v1__event_attr__init(&at[i][j]);
            at[i][j].key = (char *)(uintptr_t)r->events[i].attrs[j].key;
            at[i][j].value = (char *)(uintptr_t)r->events[i].attrs[j].value;
            atp[i][j] = &at[i][j];
        }
        ev[i].n_attrs = r->events[i].n;
        ev[i].attrs = atp[i];
        evp[i] = &ev[i];
    }
    rc.n_events = r->n_events;
    rc.events = evp;
    if (r->n_xevents)
        return cn_contract_receipt_encode(&rc, r, out, len);
    return cn_encode(&rc.base, CN_CAP_RECEIPT, out, len);
}

/* Runs one tx. Returns 0 only on a storage or memory failure (the block cannot be trusted). */
static int run_tx(cn_app *app, cn_block_result *res, const uint8_t *bytes, size_t len,
                  uint32_t index, cn_exec_result *r) {
    memset(r, 0, sizeof *r);
    cn_parsed_tx p;
    cn_account acct;
    cn_txerr e = cn_app_parse_known(app, bytes, len, res->txs[index].hash, &p, r->message,
                                    sizeof r->message);
    if (!e)
        e = cn_app_authorize(&res->ov, &p, &acct, r->message, sizeof r->message);
    if (!e && p.tx->nonce != acct.nonce + 1) {
        snprintf(r->message, sizeof r->message, "nonce %llu, expected %llu",
                 (unsigned long long)p.tx->nonce, (unsigned long long)(acct.nonce + 1));
        e = CN_TX_BAD_NONCE;
    }
    if (!e)
        e = cn_app_verify_sig(app, &p, res->txs[index].hash, 1, r->message, sizeof r->message);
    r->code = e;
    if (e) {
        cn_parsed_free(&p);
        return e != CN_TX_INTERNAL;
    }
    acct.nonce++;
    if (!cn_state_put_account(&res->ov, p.s->signer.data, &acct)) {
        cn_parsed_free(&p);
        return 0;
    }
    cn_overlay_release(&res->ov);
    size_t mark = cn_overlay_mark(&res->ov);
    if (p.tx->kind_case == CLEARNODE__V1__TX__KIND_CONTRACT_DEPLOY ||
        p.tx->kind_case == CLEARNODE__V1__TX__KIND_CONTRACT_CALL)
        cn_contract_exec(&res->ov, app->g, res->height, (int64_t)res->time_ms, p.s->signer.data,
                         p.tx, r);
    else if (p.tx->kind_case == CLEARNODE__V1__TX__KIND_ORACLE_REPORT)
        cn_oracle_exec(&res->ov, res->time_ms, p.s->signer.data, p.tx->oracle_report, r);
    else if (cn_custody_kind((int)p.tx->kind_case))
        cn_custody_exec(&res->ov, app->g, res->height, res->time_ms, p.s->signer.data, p.tx,
                        r);
    else if (cn_margin_kind((int)p.tx->kind_case))
        cn_margin_exec(&res->ov, app->g, res->height, res->time_ms, p.s->signer.data, p.tx, r);
    else if (cn_gov_kind((int)p.tx->kind_case))
        cn_gov_exec(&res->ov, app->g, res->height, res->time_ms, p.s->signer.data, p.tx, r);
    else
        cn_ledger_exec(&res->ov, res->height, p.s->signer.data, p.tx, r);
    if (r->code != CN_TX_OK)
        cn_overlay_rollback(&res->ov, mark);
    cn_overlay_release(&res->ov);
    cn_parsed_free(&p);
    return r->code != CN_TX_INTERNAL && !res->ov.failed;
}

/* Writes the block meta into state and hashes the write set into the app hash. */
static int close_block(cn_app *app, cn_block_result *res, const uint8_t results[32]) {
    cn_key k;
    cn_sk_named(&k, CN_SK_META, "height");
    if (!cn_state_put_i64(&res->ov, &k, (int64_t)res->height))
        return 0;
    cn_sk_named(&k, CN_SK_META, "time");
    if (!cn_state_put_i64(&res->ov, &k, (int64_t)res->time_ms))
        return 0;
    cn_sk_named(&k, CN_SK_META, "results");
    if (!cn_overlay_put(&res->ov, k.b, k.len, results, 32))
        return 0;
    cn_overlay_release(&res->ov);
    size_t n;
    cn_ov_write *w = cn_overlay_writes(&res->ov, &n);
    if (n == SIZE_MAX)
        return 0;
    cn_overlay_hash_writes(w, n, res->ws_hash);
    free(w);
    cn_app_hash_link(app->tip.app_hash, res->ws_hash, res->app_hash);
    return 1;
}

cn_block_result *cn_app_finalize_block(cn_app *app, const uint8_t *block, size_t len,
                                       char *err, size_t cap) {
    uint64_t t0 = mono_ms();
    if (app->pending) {
        snprintf(err, cap, "a finalized block is already pending");
        return NULL;
    }
    cn_pb bpb = {0}, hpb = {0};
    cn_block_result *res = calloc(1, sizeof *res);
    if (!res) {
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    cn_overlay_init(&res->ov, NULL);
    if (cn_decode(CN_MSG_BLOCK, block, len, &bpb) != CN_DECODE_OK) {
        snprintf(err, cap, "block does not decode");
        goto fail;
    }
    const Clearnode__V1__Block *b = (const Clearnode__V1__Block *)bpb.msg;
    if (cn_decode(CN_MSG_HEADER, b->header.data, b->header.len, &hpb) != CN_DECODE_OK) {
        snprintf(err, cap, "header does not decode");
        goto fail;
    }
    const Clearnode__V1__Header *h = (const Clearnode__V1__Header *)hpb.msg;
    res->height = h->height;
    res->time_ms = h->time;
    cn_hash_tagged(res->block_id, CN_TAG_BLOCK, b->header.data, b->header.len);
    res->block = malloc(len);
    res->txs = calloc(b->n_txs ? b->n_txs : 1, sizeof *res->txs);
    if (!res->block || !res->txs) {
        snprintf(err, cap, "out of memory");
        goto fail;
    }
    memcpy(res->block, block, len);
    res->block_len = len;
    if (b->last_commit &&
        !cn_encode(&b->last_commit->base, CN_CAP_COMMIT, &res->last_commit, &res->last_commit_len)) {
        snprintf(err, cap, "out of memory");
        goto fail;
    }
    cn_store_err se = cn_store_read_begin(app->store, &res->snap);
    if (se) {
        snprintf(err, cap, "read snapshot: %s", cn_store_strerror(se));
        goto fail;
    }
    res->ov.base = res->snap;
    cn_hasher rh;
    cn_hasher_start_named(&rh, "clearnode/results");
    res->n_txs = b->n_txs;
    for (size_t i = 0; i < b->n_txs; i++) {
        cn_tx_outcome *o = &res->txs[i];
        cn_tx_id(b->txs[i].data, b->txs[i].len, o->hash);
        cn_exec_result r;
        if (!run_tx(app, res, b->txs[i].data, b->txs[i].len, (uint32_t)i, &r)) {
            cn_exec_result_release(&r);
            snprintf(err, cap, "tx %zu: state storage failed", i);
            goto fail;
        }
        o->code = r.code;
        int enc = encode_receipt(&r, res->height, (uint32_t)i, &o->receipt, &o->receipt_len);
        cn_exec_result_release(&r);
        if (!enc) {
            snprintf(err, cap, "tx %zu: receipt encoding failed", i);
            goto fail;
        }
        cn_hasher_bytes(&rh, o->receipt, o->receipt_len);
    }
    if (!cn_app_end_block(&res->ov, app->g, b, res->height, res->time_ms, (uint32_t)b->n_txs)) {
        snprintf(err, cap, "end of block: state storage failed");
        goto fail;
    }
    uint8_t results[32];
    cn_hasher_finish(&rh, results);
    if (!close_block(app, res, results)) {
        snprintf(err, cap, "state write failed (out of memory)");
        goto fail;
    }
    cn_pb_free(&hpb);
    cn_pb_free(&bpb);
    app->pending = res;
    pthread_mutex_lock(&app->stats_mu);
    app->stats.last_block_ms = mono_ms() - t0;
    pthread_mutex_unlock(&app->stats_mu);
    return res;
fail:
    cn_pb_free(&hpb);
    cn_pb_free(&bpb);
    free_result(res);
    return NULL;
}

int cn_app_commit(cn_app *app, cn_block_result *res, const uint8_t *commit, size_t commit_len,
                  cn_app_commit_hook hook, void *hook_ctx, char *err, size_t cap) {
    uint64_t t0 = mono_ms();
    if (!res || res != app->pending) {
        snprintf(err, cap, "commit of a block that is not the pending one");
        free_result(res);
        return 0;
    }
    app->pending = NULL;
    size_t n;
    cn_ov_write *w = cn_overlay_writes(&res->ov, &n);
    uint8_t *commit_copy = malloc(commit_len ? commit_len : 1);
    if (n == SIZE_MAX || !commit_copy) {
        free(commit_copy);
        snprintf(err, cap, "out of memory");
        free_result(res);
        return 0;
    }
    memcpy(commit_copy, commit, commit_len);
    /* The overlay's own copies are all that is left to read: end the snapshot so the store can
     * grow its map during this commit. */
    cn_store_read_end(res->snap);
    res->snap = NULL;
    res->ov.base = NULL;
    cn_store_wtxn *b;
    cn_store_err e = cn_store_begin(app->store, &b);
    int valset_changed = 0;
    cn_key eb;
    cn_sk_named(&eb, CN_SK_META, "endblock");
    for (size_t i = 0; !e && i < n; i++) {
        if (w[i].op == CN_OV_PUT)
            e = cn_store_put(b, CN_DB_STATE, w[i].key, w[i].klen, w[i].val, w[i].vlen);
        else if ((e = cn_store_del(b, CN_DB_STATE, w[i].key, w[i].klen)) == CN_STORE_NOTFOUND)
            e = CN_STORE_OK;
        /* the end-of-block events stay readable per height (GET /v1/blocks/{h}) although
         * the state keeps only the last block's */
        if (!e && w[i].op == CN_OV_PUT && w[i].klen == eb.len && memcmp(w[i].key, eb.b, eb.len) == 0) {
            uint8_t mk[15];
            cn_app_meta_events_key(res->height, mk);
            e = cn_store_put(b, CN_DB_META, mk, sizeof mk, w[i].val, w[i].vlen);
        }
        if (!e && w[i].klen == 2 && w[i].key[0] == CN_SK_VALSET && w[i].op == CN_OV_PUT) {
            valset_changed = 1;
            /* history for commit checks of old heights (cn_validators_at) */
            if (w[i].key[1] == 'n')
                e = cn_validators_history_put(b, res->height + 1, w[i].val, w[i].vlen);
        }
    }
    free(w);
    uint8_t hk[8];
    cn_key_height(hk, res->height);
    if (!e)
        e = cn_store_put(b, CN_DB_BLOCKS, hk, 8, res->block, res->block_len);
    if (!e)
        e = cn_store_put(b, CN_DB_COMMITS, hk, 8, commit, commit_len);
    /* The commit of the previous height that this block carries becomes the stored one: every
     * node then serves the same certificate, the one the chain hashed (last_commit_hash),
     * whichever precommits it collected itself. */
    if (!e && res->last_commit && res->height > 1) {
        uint8_t pk[8];
        cn_key_height(pk, res->height - 1);
        e = cn_store_put(b, CN_DB_COMMITS, pk, 8, res->last_commit, res->last_commit_len);
    }
    uint64_t failed = 0;
    for (size_t i = 0; !e && i < res->n_txs; i++) {
        const void *v;
        size_t vl;
        failed += res->txs[i].code != CN_TX_OK;
        /* A receipt is written once: never replace the first result of these bytes. */
        if (cn_store_get(b, CN_DB_TXS, res->txs[i].hash, 32, &v, &vl) == CN_STORE_OK)
            continue;
        e = cn_store_put(b, CN_DB_TXS, res->txs[i].hash, 32, res->txs[i].receipt,
                         res->txs[i].receipt_len);
    }
    uint8_t be[8], tb[8], link[64];
    char ak[32];
    cn_put_be64(be, res->height);
    cn_put_be64(tb, res->time_ms);
    memcpy(link, res->app_hash, 32);
    memcpy(link + 32, res->ws_hash, 32);
    cn_app_meta_apphash_key(res->height, ak);
#define META(k, v, l) \
    if (!e)           \
    e = cn_store_put(b, CN_DB_META, k, strlen(k), v, l)
    META(CN_META_HEIGHT, be, 8);
    META(CN_META_APP_HASH, res->app_hash, 32);
    META(CN_META_BLOCK_ID, res->block_id, 32);
    META(CN_META_TIME, tb, 8);
    META(ak, link, 64);
#undef META
    if (!e && hook)
        e = hook(hook_ctx, b);
    if (e) {
        cn_store_abort(b);
    } else {
        e = cn_store_commit(b);
    }
    if (e) {
        snprintf(err, cap, "commit of height %llu: %s%s%s", (unsigned long long)res->height,
                 cn_store_strerror(e), cn_store_last_raw() ? ": " : "", cn_store_last_detail());
        free(commit_copy);
        free_result(res);
        return 0;
    }
    app->tip.height = res->height;
    app->tip.time_ms = res->time_ms;
    memcpy(app->tip.block_id, res->block_id, 32);
    memcpy(app->tip.app_hash, res->app_hash, 32);
    free(app->tip.last_commit);
    app->tip.last_commit = commit_copy;
    app->tip.last_commit_len = commit_len;
    if (valset_changed && !cn_app_load_validators(app, err, cap)) {
        free_result(res);
        return 0;
    }
    pthread_mutex_lock(&app->stats_mu);
    app->stats.blocks++;
    app->stats.txs_committed += res->n_txs;
    app->stats.txs_failed += failed;
    app->stats.last_block_ms += mono_ms() - t0;
    pthread_mutex_unlock(&app->stats_mu);
    free_result(res);
    return 1;
}
