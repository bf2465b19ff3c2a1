/* The RPC backend table (node/rpc/backend.h) over the node's app, mempool and store.
 *
 * Every query reads one consistent read snapshot of the committed state; nothing here writes.
 * Shapes are documented in docs/api.md; amounts are JSON strings (int64 may exceed what
 * JavaScript numbers hold exactly), heights, nonces and times are JSON integers.
 */
#include "node/chain/node_internal.h"
#include "node/chain/backend_reserves.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "node/app/margin_json.h"
#include "node/app/custody_json.h"
#include "node/app/ledger.h"
#include "node/app/state.h"
#include "node/app/oracle_json.h"
#include "node/app/validators_json.h"
#include "crypto/bytes.h"
#include "node/store/keys.h"

static json_t *hexj(const uint8_t *p, size_t n) {
    char *s = malloc(2 * n + 1);
    if (!s)
        return NULL;
    cn_hex_encode(s, p, n);
    json_t *j = json_string(s);
    free(s);
    return j;
}

static json_t *i64s(int64_t v) {
    char s[24];
    snprintf(s, sizeof s, "%lld", (long long)v);
    return json_string(s);
}

static cn_txerr be_submit(void *ctx, const uint8_t *bytes, size_t len, uint8_t hash[32],
                          char *msg, size_t cap) {
    cn_node *n = ctx;
    pthread_mutex_lock(&n->mp_mu);
    cn_txerr e = cn_mempool_add(n->mp, bytes, len, hash, msg, cap);
    pthread_mutex_unlock(&n->mp_mu);
    if (e == CN_TX_OK)
        cn_engine_gossip_tx(n->eng, bytes, len);
    return e;
}

/* A decoded receipt as JSON. */
/* A receipt's events as [{"type", "attrs": {key: value}}]. */
static json_t *events_json(const Clearnode__V1__Receipt *r) {
    json_t *evs = json_array();
    for (size_t i = 0; i < r->n_events; i++) {
        json_t *attrs = json_object();
        for (size_t j = 0; j < r->events[i]->n_attrs; j++)
            json_object_set_new(attrs, r->events[i]->attrs[j]->key,
                                json_string(r->events[i]->attrs[j]->value));
        json_array_append_new(evs, json_pack("{s:s, s:o}", "type", r->events[i]->type, "attrs",
                                             attrs));
    }
    return evs;
}

static json_t *receipt_json(const uint8_t hash[32], const Clearnode__V1__Receipt *r) {
    json_t *evs = events_json(r);
    return json_pack("{s:o, s:I, s:i, s:i, s:s, s:s, s:I, s:o}", "hash", hexj(hash, 32),
                     "height", (json_int_t)r->height, "index", (int)r->index, "code",
                     (int)r->code, "code_name", cn_txerr_name((cn_txerr)r->code), "message",
                     r->message, "gas_used", (json_int_t)r->gas_used, "events", evs);
}

static json_t *be_get_tx(void *ctx, const uint8_t hash[32]) {
    cn_node *n = ctx;
    cn_store_rtxn *r;
    if (cn_store_read_begin(n->store, &r) != CN_STORE_OK)
        return NULL;
    const void *v;
    size_t len;
    json_t *out = NULL;
    if (cn_store_read_get(r, CN_DB_TXS, hash, 32, &v, &len) == CN_STORE_OK) {
        cn_pb pb;
        if (cn_decode(CN_MSG_RECEIPT, v, len, &pb) == CN_DECODE_OK) {
            out = receipt_json(hash, (const Clearnode__V1__Receipt *)pb.msg);
            cn_pb_free(&pb);
        }
    }
    cn_store_read_end(r);
    return out;
}

static json_t *roles_json(uint32_t roles) {
    json_t *a = json_array();
    for (unsigned b = 0; b < 7; b++)
        if (roles & (1u << b))
            json_array_append_new(a, json_string(cn_role_name(1u << b)));
    return a;
}

static json_t *be_get_account(void *ctx, const uint8_t pub[32]) {
    cn_node *n = ctx;
    cn_store_rtxn *r;
    if (cn_store_read_begin(n->store, &r) != CN_STORE_OK)
        return NULL;
    cn_overlay ov;
    cn_overlay_init(&ov, r);
    cn_account a;
    json_t *out = NULL;
    if (cn_state_get_account(&ov, pub, &a) == 1) {
        json_t *bal = json_object();
        cn_key k;
        cn_key_start(&k, CN_SK_BALANCE);
        cn_key_bytes(&k, pub, 32);
        cn_store_iter *it;
        if (cn_store_iter_read(&it, r, CN_DB_STATE, k.b, k.len, NULL, 0, 0) == CN_STORE_OK) {
            const void *kk, *vv;
            size_t kl, vl;
            while (cn_store_iter_next(it, &kk, &kl, &vv, &vl) == CN_STORE_OK) {
                if (vl != 8 || kl <= 33 || kl > 33 + CN_SYMBOL_MAX)
                    continue;
                char sym[CN_SYMBOL_MAX + 1];
                memcpy(sym, (const uint8_t *)kk + 33, kl - 33);
                sym[kl - 33] = 0;
                json_object_set_new(bal, sym, i64s(cn_get_be64_signed(vv)));
            }
            cn_store_iter_close(it);
        }
        out = json_pack("{s:o, s:s, s:s, s:o, s:I, s:I, s:o}", "pubkey", hexj(pub, 32), "kind",
                        a.kind == CN_ACCT_MEMBER ? "member" : "client", "label", a.label,
                        "roles", roles_json(a.roles), "nonce", (json_int_t)a.nonce,
                        "next_nonce", (json_int_t)(a.nonce + 1), "balances", bal);
        if (out && a.kind == CN_ACCT_CLIENT)
            json_object_set_new(out, "registrar", hexj(a.registrar, 32));
        if (out && a.power > 0)
            json_object_set_new(out, "power", json_integer(a.power));
    }
    cn_overlay_free(&ov);
    cn_store_read_end(r);
    return out;
}

static json_t *commit_json(const Clearnode__V1__Commit *c) {
    json_t *pcs = json_array();
    for (size_t i = 0; i < c->n_precommits; i++) {
        const Clearnode__V1__Signed *s = c->precommits[i];
        json_t *o = json_pack("{s:o, s:o}", "validator", hexj(s->signer.data, s->signer.len),
                              "sig", hexj(s->sig.data, s->sig.len));
        cn_pb vpb;
        if (cn_decode(CN_MSG_VOTE, s->body.data, s->body.len, &vpb) == CN_DECODE_OK) {
            json_object_set_new(o, "timestamp",
                                json_integer((json_int_t)((Clearnode__V1__Vote *)vpb.msg)->timestamp));
            cn_pb_free(&vpb);
        }
        json_array_append_new(pcs, o);
    }
    return json_pack("{s:I, s:i, s:o, s:o}", "height", (json_int_t)c->height, "round",
                     (int)c->round, "block_id", hexj(c->block_id.data, c->block_id.len),
                     "precommits", pcs);
}

static json_t *header_json(const Clearnode__V1__Header *h) {
    return json_pack("{s:s, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "chain_id",
                     h->chain_id, "height", (json_int_t)h->height, "time", (json_int_t)h->time,
                     "last_block_id", hexj(h->last_block_id.data, h->last_block_id.len),
                     "last_commit_hash", hexj(h->last_commit_hash.data, h->last_commit_hash.len),
                     "tx_root", hexj(h->tx_root.data, h->tx_root.len), "app_hash",
                     hexj(h->app_hash.data, h->app_hash.len), "validators_hash",
                     hexj(h->validators_hash.data, h->validators_hash.len), "reserves_root",
                     hexj(h->reserves_root.data, h->reserves_root.len), "proposer",
                     hexj(h->proposer.data, h->proposer.len));
}

static json_t *be_get_block(void *ctx, uint64_t height) {
    cn_node *n = ctx;
    cn_store_rtxn *r;
    if (height == 0 || cn_store_read_begin(n->store, &r) != CN_STORE_OK)
        return NULL;
    uint8_t k[8];
    cn_key_height(k, height);
    const void *v;
    size_t len;
    json_t *out = NULL;
    cn_pb bpb = {0}, hpb = {0}, cpb = {0};
    if (cn_store_read_get(r, CN_DB_BLOCKS, k, 8, &v, &len) == CN_STORE_OK &&
        cn_decode(CN_MSG_BLOCK, v, len, &bpb) == CN_DECODE_OK) {
        const Clearnode__V1__Block *b = (const Clearnode__V1__Block *)bpb.msg;
        if (cn_decode(CN_MSG_HEADER, b->header.data, b->header.len, &hpb) == CN_DECODE_OK) {
            uint8_t id[32];
            cn_hash_tagged(id, CN_TAG_BLOCK, b->header.data, b->header.len);
            json_t *txs = json_array();
            for (size_t i = 0; i < b->n_txs; i++) {
                uint8_t th[32];
                cn_hash_tagged(th, CN_TAG_TX, b->txs[i].data, b->txs[i].len);
                json_array_append_new(txs, hexj(th, 32));
            }
            out = json_pack("{s:I, s:o, s:o, s:o}", "height", (json_int_t)height, "id",
                            hexj(id, 32), "header",
                            header_json((const Clearnode__V1__Header *)hpb.msg), "txs", txs);
            json_object_set_new(out, "last_commit",
                                b->last_commit ? commit_json(b->last_commit) : json_null());
            if (cn_store_read_get(r, CN_DB_COMMITS, k, 8, &v, &len) == CN_STORE_OK &&
                cn_decode(CN_MSG_COMMIT, v, len, &cpb) == CN_DECODE_OK)
                json_object_set_new(out, "commit",
                                    commit_json((const Clearnode__V1__Commit *)cpb.msg));
            uint8_t ek[15];
            cn_pb epb;
            cn_app_meta_events_key(height, ek);
            if (cn_store_read_get(r, CN_DB_META, ek, sizeof ek, &v, &len) == CN_STORE_OK &&
                cn_decode(CN_MSG_RECEIPT, v, len, &epb) == CN_DECODE_OK) {
                json_object_set_new(out, "end_block_events",
                                    events_json((const Clearnode__V1__Receipt *)epb.msg));
                cn_pb_free(&epb);
            } else {
                json_object_set_new(out, "end_block_events", json_array());
            }
        }
    }
    cn_pb_free(&cpb);
    cn_pb_free(&hpb);
    cn_pb_free(&bpb);
    cn_store_read_end(r);
    return out;
}

static int be_get_block_raw(void *ctx, uint64_t height, uint8_t **bytes, size_t *len) {
    cn_node *n = ctx;
    cn_store_rtxn *r;
    *bytes = NULL;
    *len = 0;
    if (height == 0 || cn_store_read_begin(n->store, &r) != CN_STORE_OK)
        return 0;
    uint8_t k[8];
    cn_key_height(k, height);
    const void *v;
    size_t l;
    int ok = 0;
    if (cn_store_read_get(r, CN_DB_BLOCKS, k, 8, &v, &l) == CN_STORE_OK) {
        *bytes = malloc(l ? l : 1);
        if (*bytes) {
            memcpy(*bytes, v, l);
            *len = l;
            ok = 1;
        }
    }
    cn_store_read_end(r);
    return ok;
}

static const char *const step_names[] = {"none", "propose", "prevote", "precommit"};

/* The consensus part of /v1/status. */
static json_t *consensus_json(const cn_engine_status *es) {
    json_t *peers = json_array();
    for (size_t i = 0; i < es->n_peers; i++) {
        const cn_engine_peer_status *p = &es->peers[i];
        json_array_append_new(
            peers, json_pack("{s:o, s:s, s:b, s:I, s:I, s:i, s:I, s:I, s:I}", "key",
                             hexj(p->key, 32), "addr", p->addr, "connected", p->connected,
                             "working_height", (json_int_t)p->height, "last_committed",
                             (json_int_t)p->last_committed, "score", (int)p->score, "msgs_in",
                             (json_int_t)p->msgs_in, "msgs_out", (json_int_t)p->msgs_out,
                             "dropped", (json_int_t)p->dropped));
    }
    /* "height" appears once in the status, at the top: the committed height (the consensus
     * works on the next one) */
    return json_pack("{s:i, s:s, s:i, s:i, s:s, s:{s:I, s:I, s:I}, s:I, s:I, s:I, s:o}",
                     "round", (int)es->round, "step",
                     step_names[es->step < 4 ? es->step : 0], "validator_index", es->validator,
                     "validators", (int)es->validators, "mode",
                     es->catching_up ? "catching_up" : "consensus", "sync", "target",
                     (json_int_t)es->sync_target, "blocks", (json_int_t)es->sync_blocks,
                     "blocks_per_sec", (json_int_t)es->sync_rate, "evidence",
                     (json_int_t)es->evidence, "last_decision_round",
                     (json_int_t)es->last_round, "p2p_port", (json_int_t)es->p2p_listen_port,
                     "peers", peers);
}

static json_t *be_get_status(void *ctx) {
    cn_node *n = ctx;
    uint64_t height, time_ms;
    uint8_t app_hash[32], block_id[32];
    cn_node_tip_get(n, &height, &time_ms, app_hash, block_id);
    pthread_mutex_lock(&n->mp_mu);
    size_t mp_count = cn_mempool_count(n->mp);
    uint64_t mp_bytes = cn_mempool_bytes(n->mp);
    pthread_mutex_unlock(&n->mp_mu);
    cn_engine_status *es = malloc(sizeof *es);
    if (!es)
        return NULL;
    cn_engine_status_get(n->eng, es);
    int connected = 0;
    for (size_t i = 0; i < es->n_peers; i++)
        connected += es->peers[i].connected;
    json_t *cons = consensus_json(es);
    free(es);
    return json_pack("{s:s, s:I, s:o, s:o, s:I, s:i, s:o, s:o, s:{s:I, s:I, s:I, s:I}, s:o}",
                     "chain_id", n->g.chain_id, "height", (json_int_t)height, "app_hash",
                     hexj(app_hash, 32), "block_id", hexj(block_id, 32), "time",
                     (json_int_t)time_ms, "peers", connected, "node_key", hexj(n->key.pub, 32),
                     "genesis_hash", hexj(n->g.hash, 32), "mempool", "size",
                     (json_int_t)mp_count, "bytes", (json_int_t)mp_bytes, "max_txs",
                     (json_int_t)n->cfg.mempool_max_txs, "max_bytes",
                     (json_int_t)n->cfg.mempool_max_bytes, "consensus", cons);
}

static void consensus_metrics(cn_node *n, struct evbuffer *out) {
    cn_engine_status *es = malloc(sizeof *es);
    if (!es)
        return;
    cn_engine_status_get(n->eng, es);
    int connected = 0;
    uint64_t dropped = 0;
    for (size_t i = 0; i < es->n_peers; i++) {
        connected += es->peers[i].connected;
        dropped += es->peers[i].dropped;
    }
    evbuffer_add_printf(
        out,
        "# HELP clearnode_consensus_round Round of the height in progress.\n"
        "# TYPE clearnode_consensus_round gauge\nclearnode_consensus_round %u\n"
        "# HELP clearnode_consensus_catching_up 1 while the node downloads blocks.\n"
        "# TYPE clearnode_consensus_catching_up gauge\nclearnode_consensus_catching_up %d\n"
        "# HELP clearnode_sync_target_height Highest height a peer has committed.\n"
        "# TYPE clearnode_sync_target_height gauge\nclearnode_sync_target_height %llu\n"
        "# HELP clearnode_sync_blocks_total Blocks applied by block sync.\n"
        "# TYPE clearnode_sync_blocks_total counter\nclearnode_sync_blocks_total %llu\n"
        "# HELP clearnode_evidence_total Equivocations (conflicting votes) seen.\n"
        "# TYPE clearnode_evidence_total counter\nclearnode_evidence_total %llu\n"
        "# HELP clearnode_consensus_late_decisions_total Heights decided after round 0.\n"
        "# TYPE clearnode_consensus_late_decisions_total counter\n"
        "clearnode_consensus_late_decisions_total %llu\n"
        "# HELP clearnode_p2p_bad_messages_total Peer messages that failed their checks.\n"
        "# TYPE clearnode_p2p_bad_messages_total counter\nclearnode_p2p_bad_messages_total %llu\n"
        "# HELP clearnode_p2p_peers_connected Peers with an authenticated connection.\n"
        "# TYPE clearnode_p2p_peers_connected gauge\nclearnode_p2p_peers_connected %d\n"
        "# HELP clearnode_p2p_dropped_total Messages dropped by the send queues.\n"
        "# TYPE clearnode_p2p_dropped_total counter\nclearnode_p2p_dropped_total %llu\n",
        es->round, es->catching_up, (unsigned long long)es->sync_target,
        (unsigned long long)es->sync_blocks, (unsigned long long)es->evidence,
        (unsigned long long)es->rounds_skipped, (unsigned long long)es->bad_messages, connected,
        (unsigned long long)dropped);
    free(es);
}

static void be_metrics(void *ctx, struct evbuffer *out) {
    cn_node *n = ctx;
    cn_app_stats st;
    cn_app_stats_get(n->app, &st);
    uint64_t height, time_ms;
    uint8_t app_hash[32], block_id[32];
    cn_node_tip_get(n, &height, &time_ms, app_hash, block_id);
    uint64_t rejected[100];
    pthread_mutex_lock(&n->mp_mu);
    size_t mp_count = cn_mempool_count(n->mp);
    uint64_t mp_bytes = cn_mempool_bytes(n->mp);
    for (unsigned c = 0; c < 100; c++)
        rejected[c] = cn_mempool_rejected(n->mp, (cn_txerr)c);
    pthread_mutex_unlock(&n->mp_mu);
    evbuffer_add_printf(out,
                        "# HELP clearnode_height Last committed block height.\n"
                        "# TYPE clearnode_height gauge\nclearnode_height %llu\n"
                        "# HELP clearnode_blocks_total Blocks committed since start.\n"
                        "# TYPE clearnode_blocks_total counter\nclearnode_blocks_total %llu\n"
                        "# HELP clearnode_txs_committed_total Transactions committed since start.\n"
                        "# TYPE clearnode_txs_committed_total counter\n"
                        "clearnode_txs_committed_total %llu\n"
                        "# HELP clearnode_txs_failed_total Committed transactions with a nonzero result code.\n"
                        "# TYPE clearnode_txs_failed_total counter\nclearnode_txs_failed_total %llu\n"
                        "# HELP clearnode_tx_per_second Committed transactions per second over recent blocks.\n"
                        "# TYPE clearnode_tx_per_second gauge\nclearnode_tx_per_second %llu\n"
                        "# HELP clearnode_block_time_ms Time to execute and commit the last block.\n"
                        "# TYPE clearnode_block_time_ms gauge\nclearnode_block_time_ms %llu\n"
                        "# HELP clearnode_mempool_txs Transactions in the mempool.\n"
                        "# TYPE clearnode_mempool_txs gauge\nclearnode_mempool_txs %zu\n"
                        "# HELP clearnode_mempool_bytes Bytes in the mempool.\n"
                        "# TYPE clearnode_mempool_bytes gauge\nclearnode_mempool_bytes %llu\n",
                        (unsigned long long)height, (unsigned long long)st.blocks,
                        (unsigned long long)st.txs_committed, (unsigned long long)st.txs_failed,
                        (unsigned long long)cn_node_tx_rate(n),
                        (unsigned long long)st.last_block_ms, mp_count,
                        (unsigned long long)mp_bytes);
    evbuffer_add_printf(out, "# HELP clearnode_tx_rejected_total Transactions refused at "
                             "admission, by result code.\n"
                             "# TYPE clearnode_tx_rejected_total counter\n");
    for (unsigned c = 1; c < 100; c++) {
        uint64_t v = rejected[c];
        if (v)
            evbuffer_add_printf(out, "clearnode_tx_rejected_total{code=\"%s\"} %llu\n",
                                cn_txerr_name((cn_txerr)c), (unsigned long long)v);
    }
    evbuffer_add_printf(out,
                        "# HELP clearnode_peer_tx_pending Transactions from peers waiting for "
                        "admission.\n# TYPE clearnode_peer_tx_pending gauge\n"
                        "clearnode_peer_tx_pending %zu\n"
                        "# HELP clearnode_peer_tx_dropped_total Transactions from peers dropped "
                        "because the admission queue was full.\n"
                        "# TYPE clearnode_peer_tx_dropped_total counter\n"
                        "clearnode_peer_tx_dropped_total %llu\n",
                        cn_admitter_pending(n->admitter),
                        (unsigned long long)cn_admitter_dropped(n->admitter));
    consensus_metrics(n, out);
    cn_oracle_write_metrics(n->store, &n->g, time_ms, out);
    cn_margin_write_metrics(n->store, out);
}

static json_t *be_get_oracle(void *ctx, const char *asset) {
    cn_node *n = ctx;
    uint64_t height, time_ms;
    uint8_t app_hash[32], block_id[32];
    cn_node_tip_get(n, &height, &time_ms, app_hash, block_id);
    return cn_oracle_json(n->store, asset, time_ms);
}

static json_t *be_get_withdrawal(void *ctx, uint64_t id) {
    return cn_custody_json_withdrawal(((cn_node *)ctx)->store, id);
}

static json_t *be_get_account_withdrawals(void *ctx, const uint8_t pub[32]) {
    return cn_custody_json_account(((cn_node *)ctx)->store, pub);
}

static json_t *be_get_margin(void *ctx, const uint8_t pub[32]) {
    cn_node *n = ctx;
    return cn_margin_json(n->store, &n->g, pub);
}

static json_t *be_get_validators(void *ctx, uint64_t height) {
    return cn_validators_json(((cn_node *)ctx)->store, height);
}

static json_t *be_get_proposal(void *ctx, uint64_t id) {
    return cn_gov_json_proposal(((cn_node *)ctx)->store, id);
}

void cn_node_backend_init(cn_node *n) {
    n->backend = (cn_rpc_backend){
        .ctx = n,
        .submit_tx = be_submit,
        .submit_txs = cn_node_submit_batch,
        .get_tx = be_get_tx,
        .get_account = be_get_account,
        .get_block = be_get_block,
        .get_block_raw = be_get_block_raw,
        .get_status = be_get_status,
        .write_metrics = be_metrics,
        .get_oracle = be_get_oracle,
        .get_withdrawal = be_get_withdrawal,
        .get_account_withdrawals = be_get_account_withdrawals,
        .get_proposal = be_get_proposal,
        .get_margin = be_get_margin,
        .get_validators = be_get_validators,
        .reserves = cn_backend_reserves,
    };
}
