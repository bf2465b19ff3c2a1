/* Block sync (docs/consensus.md, "Block sync"): a node behind its peers downloads committed
 * blocks with their commit certificates, checks and executes them in order, and joins
 * consensus when it is at most one height behind.
 *
 * Peers announce their last committed height in PeerStatus. When some peer is two or more
 * heights ahead the node stops its consensus core (it signs nothing while catching up),
 * commits without flushing each block (store durability off: the blocks can be fetched
 * again; the store is synced before the core runs again), and keeps up to EN_SYNC_WINDOW
 * requests in flight, spread over the peers that have the heights, re-asking another peer
 * after EN_SYNC_TIMEOUT_MS. In consensus, a node that sat at one height for a second while a
 * peer has already committed it fetches that block the same way (it missed the decision). */
#include "node/chain/engine_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/bytes.h"
#include "crypto/hash.h"
#include "node/chain/cert.h"
#include "node/store/keys.h"
#include "node/util/log.h"

void en_sync_reset(cn_engine *e) {
    for (size_t i = 0; i < EN_SYNC_WINDOW; i++) {
        free(e->sync[i].block);
        free(e->sync[i].commit);
        memset(&e->sync[i], 0, sizeof e->sync[i]);
        e->sync[i].peer = -1;
    }
    for (size_t i = 0; i < e->n_peers; i++)
        e->peers[i].inflight = 0;
}

static void slot_free(cn_engine *e, en_sync_slot *s) {
    if (s->peer >= 0 && e->peers[s->peer].inflight)
        e->peers[s->peer].inflight--;
    free(s->block);
    free(s->commit);
    memset(s, 0, sizeof *s);
    s->peer = -1;
}

static en_sync_slot *slot_of(cn_engine *e, uint64_t h) {
    for (size_t i = 0; i < EN_SYNC_WINDOW; i++)
        if (e->sync[i].height == h)
            return &e->sync[i];
    return NULL;
}

static uint64_t target_of(cn_engine *e) {
    uint64_t t = 0;
    for (size_t i = 0; i < e->n_peers; i++)
        if (e->peers[i].connected && e->peers[i].has_status && e->peers[i].last_committed > t)
            t = e->peers[i].last_committed;
    return t;
}

static void enter_catch_up(cn_engine *e) {
    const cn_tip *tip = cn_app_tip(e->p.app);
    CN_LOG_INFO("sync: catching up from height %llu to %llu", (unsigned long long)tip->height,
                (unsigned long long)e->sync_target);
    e->catching_up = 1;
    e->sync_mark_ms = en_now(e);
    e->sync_mark_n = e->sync_applied;
    e->sync_log_ms = e->sync_mark_ms;
    if (cn_store_set_durable(e->store, 0) != CN_STORE_OK)
        CN_LOG_WARN("sync: could not relax commit durability; catching up at full sync cost");
    en_next_height(e, 0); /* abandons the core's height; the core stays off */
}

static void leave_catch_up(cn_engine *e) {
    if (cn_store_set_durable(e->store, 1) != CN_STORE_OK) {
        en_fatal(e, "sync: could not flush the blocks fetched to disk");
        return;
    }
    e->catching_up = 0;
    CN_LOG_INFO("sync: caught up at height %llu (%llu blocks fetched); joining consensus",
                (unsigned long long)cn_app_tip(e->p.app)->height,
                (unsigned long long)e->sync_applied);
    en_next_height(e, 0);
}

void en_sync_on_status(cn_engine *e, int peer) {
    (void)peer;
    e->sync_target = target_of(e);
    uint64_t tip = cn_app_tip(e->p.app)->height;
    if (!e->catching_up && e->sync_target >= tip + 2)
        enter_catch_up(e);
}

static int pick_peer(cn_engine *e, uint64_t h) {
    int best = -1;
    for (size_t i = 0; i < e->n_peers; i++) {
        en_peer *p = &e->peers[i];
        if (!p->connected || !p->has_status || p->last_committed < h)
            continue;
        if (best < 0 || p->inflight < e->peers[best].inflight)
            best = (int)i;
    }
    return best;
}

static void request(cn_engine *e, en_sync_slot *s, uint64_t h, int peer) {
    Clearnode__V1__BlockRequest rq;
    clearnode__v1__block_request__init(&rq);
    rq.height = h;
    Clearnode__V1__Envelope env;
    clearnode__v1__envelope__init(&env);
    env.msg_case = CLEARNODE__V1__ENVELOPE__MSG_BLOCK_REQUEST;
    env.block_request = &rq;
    uint8_t *enc;
    size_t len;
    if (!cn_encode(&env.base, CN_CAP_ENVELOPE, &enc, &len))
        return;
    en_send(e, peer, enc, len, CN_P2P_PRIO_BLOCK);
    free(enc);
    s->height = h;
    s->peer = peer;
    s->sent_ms = en_now(e);
    e->peers[peer].inflight++;
}

void en_sync_tick(cn_engine *e) {
    if (!e->p2p)
        return;
    uint64_t now = en_now(e), tip = cn_app_tip(e->p.app)->height;
    e->sync_target = target_of(e);
    for (size_t i = 0; i < EN_SYNC_WINDOW; i++) {
        en_sync_slot *s = &e->sync[i];
        if (s->height && (s->height <= tip || (!s->block && now - s->sent_ms > EN_SYNC_TIMEOUT_MS)))
            slot_free(e, s);
    }
    if (e->catching_up && e->sync_target <= tip + 1) {
        leave_catch_up(e);
        return;
    }
    if (!e->catching_up && e->sync_target >= tip + 2) {
        enter_catch_up(e);
        return;
    }
    uint64_t last = e->sync_target;
    if (!e->catching_up) {
        /* in consensus: fetch only the current height, and only after a second at it */
        if (last < e->height || now - e->height_started_ms < 1000)
            return;
        last = e->height;
    }
    if (last > tip + EN_SYNC_WINDOW)
        last = tip + EN_SYNC_WINDOW;
    for (uint64_t h = tip + 1; h <= last; h++) {
        if (slot_of(e, h))
            continue;
        en_sync_slot *free_slot = slot_of(e, 0);
        int peer = pick_peer(e, h);
        if (!free_slot || peer < 0)
            break;
        request(e, free_slot, h, peer);
    }
    if (e->catching_up && now - e->sync_mark_ms >= 1000) {
        e->sync_rate = (e->sync_applied - e->sync_mark_n) * 1000 / (now - e->sync_mark_ms);
        e->sync_mark_ms = now;
        e->sync_mark_n = e->sync_applied;
        CN_LOG_INFO("sync: height %llu / %llu, %llu blocks/s", (unsigned long long)tip,
                    (unsigned long long)e->sync_target, (unsigned long long)e->sync_rate);
    }
}

void en_sync_on_request(cn_engine *e, int peer, uint64_t h) {
    if (h == 0 || h > cn_app_tip(e->p.app)->height)
        return;
    cn_store_rtxn *r;
    if (cn_store_read_begin(e->store, &r) != CN_STORE_OK)
        return;
    uint8_t k[8];
    cn_key_height(k, h);
    const void *bv, *cv;
    size_t bl, cl;
    cn_pb cpb;
    if (cn_store_read_get(r, CN_DB_BLOCKS, k, 8, &bv, &bl) == CN_STORE_OK &&
        cn_store_read_get(r, CN_DB_COMMITS, k, 8, &cv, &cl) == CN_STORE_OK &&
        cn_decode(CN_MSG_COMMIT, cv, cl, &cpb) == CN_DECODE_OK) {
        Clearnode__V1__BlockResponse rs;
        clearnode__v1__block_response__init(&rs);
        rs.block.data = (uint8_t *)(uintptr_t)bv;
        rs.block.len = bl;
        rs.commit = (Clearnode__V1__Commit *)cpb.msg;
        Clearnode__V1__Envelope env;
        clearnode__v1__envelope__init(&env);
        env.msg_case = CLEARNODE__V1__ENVELOPE__MSG_BLOCK_RESPONSE;
        env.block_response = &rs;
        uint8_t *enc;
        size_t len;
        if (cn_encode(&env.base, CN_CAP_ENVELOPE, &enc, &len)) {
            en_send(e, peer, enc, len, CN_P2P_PRIO_BLOCK);
            free(enc);
        }
        cn_pb_free(&cpb);
    }
    cn_store_read_end(r);
}

/* A peer served something that is not the committed block: drop it and its connection. */
static void bad_response(cn_engine *e, en_sync_slot *s, const char *why) {
    int peer = s->peer;
    e->bad_messages++;
    CN_LOG_WARN("sync: height %llu from peer %d refused: %s", (unsigned long long)s->height,
                peer, why);
    slot_free(e, s);
    if (peer >= 0 && e->p2p)
        cn_p2p_disconnect(e->p2p, e->peers[peer].key);
}

/* Applies the fetched blocks that continue the chain. */
static void apply_ready(cn_engine *e) {
    for (;;) {
        uint64_t h = cn_app_tip(e->p.app)->height + 1;
        en_sync_slot *s = slot_of(e, h);
        if (!s || !s->block || atomic_load(&e->failed))
            return;
        cn_pb bpb, cpb;
        if (cn_decode(CN_MSG_BLOCK, s->block, s->block_len, &bpb) != CN_DECODE_OK) {
            bad_response(e, s, "block does not decode");
            continue;
        }
        uint8_t id[32];
        const Clearnode__V1__Block *b = (const Clearnode__V1__Block *)bpb.msg;
        cn_hash_tagged(id, CN_TAG_BLOCK, b->header.data, b->header.len);
        cn_pb_free(&bpb);
        char why[256];
        if (cn_decode(CN_MSG_COMMIT, s->commit, s->commit_len, &cpb) != CN_DECODE_OK) {
            bad_response(e, s, "commit does not decode");
            continue;
        }
        int ok = cn_commit_verify(e->g->chain_id, &e->set, (const Clearnode__V1__Commit *)cpb.msg,
                                  h, id, why, sizeof why);
        cn_pb_free(&cpb);
        if (!ok) {
            bad_response(e, s, why);
            continue;
        }
        int was_active = e->core_active;
        e->core_active = 0;
        int r = en_commit_block(e, s->block, s->block_len, s->commit, s->commit_len, 0, why,
                                sizeof why);
        if (r < 0)
            return;
        if (r == 0) {
            e->core_active = was_active;
            bad_response(e, s, why);
            continue;
        }
        slot_free(e, s);
        e->sync_applied++;
        if (!e->catching_up) {
            CN_LOG_INFO("sync: height %llu fetched from a peer (this node missed its decision)",
                        (unsigned long long)h);
            en_next_height(e, 0);
        } else {
            en_next_height(e, 0); /* keeps the core off, moves the height on */
        }
    }
}

void en_sync_on_response(cn_engine *e, int peer, const Clearnode__V1__BlockResponse *r) {
    if (!r->commit || r->block.len == 0 || r->block.len > CN_CAP_BLOCK) {
        e->bad_messages++;
        return;
    }
    en_sync_slot *s = slot_of(e, r->commit->height);
    if (!s || s->peer != peer || s->block)
        return; /* not asked, or asked elsewhere after a timeout */
    uint8_t *cb;
    size_t cl;
    if (!cn_encode(&r->commit->base, CN_CAP_COMMIT, &cb, &cl))
        return;
    s->block = malloc(r->block.len);
    if (!s->block) {
        free(cb);
        return;
    }
    memcpy(s->block, r->block.data, r->block.len);
    s->block_len = r->block.len;
    s->commit = cb;
    s->commit_len = cl;
    apply_ready(e);
    if (e->catching_up && !atomic_load(&e->failed))
        en_sync_tick(e); /* keep the window full */
}

void en_sync_peer_down(cn_engine *e, int peer) {
    for (size_t i = 0; i < EN_SYNC_WINDOW; i++)
        if (e->sync[i].peer == peer && !e->sync[i].block)
            slot_free(e, &e->sync[i]);
    e->peers[peer].inflight = 0;
    e->sync_target = target_of(e);
}
