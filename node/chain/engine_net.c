/* Peers: the transport's setup and callbacks, status messages, consensus gossip and
 * transaction relay (docs/p2p.md, "Gossip"). */
#include "node/chain/engine_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "crypto/encoding.h"
#include "node/util/log.h"

static int peer_index(cn_engine *e, const uint8_t key[32]) {
    for (size_t i = 0; i < e->n_peers; i++)
        if (memcmp(e->peers[i].key, key, 32) == 0)
            return (int)i;
    return -1;
}

void en_send(cn_engine *e, int peer, const uint8_t *env, size_t len, cn_p2p_prio prio) {
    if (e->p2p && peer >= 0 && e->peers[peer].connected)
        (void)cn_p2p_send(e->p2p, e->peers[peer].key, env, len, prio);
}

void en_broadcast(cn_engine *e, const uint8_t *env, size_t len, cn_p2p_prio prio, int except) {
    if (!e->p2p)
        return;
    (void)cn_p2p_broadcast(e->p2p, env, len, prio, except >= 0 ? e->peers[except].key : NULL);
}

int en_env_signed(int kind, const uint8_t *bytes, size_t len, uint8_t **out, size_t *olen) {
    cn_pb pb;
    if (cn_decode(CN_MSG_SIGNED, bytes, len, &pb) != CN_DECODE_OK)
        return 0;
    Clearnode__V1__Envelope env;
    clearnode__v1__envelope__init(&env);
    if (kind == CN_CLOG_PROPOSAL) {
        env.msg_case = CLEARNODE__V1__ENVELOPE__MSG_PROPOSAL;
        env.proposal = (Clearnode__V1__Signed *)pb.msg;
    } else {
        env.msg_case = CLEARNODE__V1__ENVELOPE__MSG_VOTE;
        env.vote = (Clearnode__V1__Signed *)pb.msg;
    }
    int ok = cn_encode(&env.base, CN_CAP_ENVELOPE, out, olen);
    cn_pb_free(&pb);
    return ok;
}

void en_send_status(cn_engine *e, int peer) {
    if (!e->p2p)
        return;
    Clearnode__V1__PeerStatus st;
    clearnode__v1__peer_status__init(&st);
    st.height = e->height;
    st.round = e->core_active ? e->core->round : 0;
    st.step = e->core_active ? e->core->step : 0;
    st.last_committed = cn_app_tip(e->p.app)->height;
    Clearnode__V1__Envelope env;
    clearnode__v1__envelope__init(&env);
    env.msg_case = CLEARNODE__V1__ENVELOPE__MSG_STATUS;
    env.status = &st;
    uint8_t *enc;
    size_t len;
    if (!cn_encode(&env.base, CN_CAP_ENVELOPE, &enc, &len))
        return;
    if (peer >= 0)
        en_send(e, peer, enc, len, CN_P2P_PRIO_CONSENSUS);
    else
        en_broadcast(e, enc, len, CN_P2P_PRIO_CONSENSUS, -1);
    free(enc);
    e->last_status_ms = en_now(e);
}

/* Sends peer the messages of this height it is not known to have, with their blocks. */
static void gossip_to(cn_engine *e, int peer) {
    for (size_t i = 0; i < e->n_msgs; i++) {
        en_msg *m = &e->msgs[i];
        if (en_bit(m->sent, peer))
            continue;
        uint8_t *env;
        size_t len;
        if (!en_env_signed(m->kind, m->bytes, m->len, &env, &len))
            continue;
        en_send(e, peer, env, len, CN_P2P_PRIO_CONSENSUS);
        free(env);
        en_set_bit(m->sent, peer);
        if (m->kind == CN_CLOG_PROPOSAL) {
            en_block *b = en_block_find(e, m->value.id);
            if (b && !en_bit(b->sent, peer))
                en_block_send(e, b, e->height, m->round, peer);
        }
    }
}

void en_gossip(cn_engine *e) {
    if (!e->p2p)
        return;
    if (en_now(e) - e->last_status_ms >= EN_STATUS_MS)
        en_send_status(e, -1);
    if (!e->core_active)
        return;
    for (size_t i = 0; i < e->n_peers; i++) {
        en_peer *p = &e->peers[i];
        if (p->connected && p->has_status && p->height == e->height)
            gossip_to(e, (int)i);
    }
}

/* ---- transactions ---------------------------------------------------------------------------- */

void en_tx_flush(cn_engine *e) {
    if (e->n_rx_tx == 0)
        return;
    if (e->p.admit)
        e->p.admit(e->p.ctx, e->n_rx_tx, e->rx_tx, e->rx_tx_len); /* takes the buffers */
    else
        for (size_t i = 0; i < e->n_rx_tx; i++)
            free(e->rx_tx[i]);
    e->n_rx_tx = 0;
}

static void on_peer_tx(cn_engine *e, const ProtobufCBinaryData *tx) {
    if (tx->len == 0 || tx->len > CN_CAP_TX)
        return;
    uint8_t *copy = malloc(tx->len);
    if (!copy)
        return;
    memcpy(copy, tx->data, tx->len);
    e->rx_tx[e->n_rx_tx] = copy;
    e->rx_tx_len[e->n_rx_tx++] = tx->len;
    if (e->n_rx_tx == EN_TX_BATCH) {
        en_tx_flush(e);
        return;
    }
    if (e->n_rx_tx == 1) {
        struct timeval tv = {0, 5000}; /* gather a batch: signatures are checked in parallel */
        event_add(e->txflush_ev, &tv);
    }
}

void en_drain_txq(cn_engine *e) {
    pthread_mutex_lock(&e->txq_mu);
    size_t n = e->txq_n;
    uint8_t **q = e->txq;
    size_t *ql = e->txq_len;
    e->txq = NULL;
    e->txq_len = NULL;
    e->txq_n = e->txq_cap = 0;
    pthread_mutex_unlock(&e->txq_mu);
    for (size_t i = 0; i < n; i++) {
        Clearnode__V1__Envelope env;
        clearnode__v1__envelope__init(&env);
        env.msg_case = CLEARNODE__V1__ENVELOPE__MSG_TX;
        env.tx.data = q[i];
        env.tx.len = ql[i];
        uint8_t *enc;
        size_t len;
        if (cn_encode(&env.base, CN_CAP_ENVELOPE, &enc, &len)) {
            en_broadcast(e, enc, len, CN_P2P_PRIO_TX, -1);
            free(enc);
        }
        free(q[i]);
    }
    free(q);
    free(ql);
}

static void clear_sent(cn_engine *e, int peer);

/* ---- transport callbacks ---------------------------------------------------------------------- */

static void on_message(void *ctx, const uint8_t key[CN_PUBKEY_LEN],
                       const Clearnode__V1__Envelope *env, const uint8_t *raw, size_t raw_len) {
    (void)raw;
    (void)raw_len;
    cn_engine *e = ctx;
    int peer = peer_index(e, key);
    if (peer < 0 || atomic_load(&e->failed))
        return;
    int ok = 1;
    switch ((int)env->msg_case) { /* int: protobuf-c adds a sentinel enumerator */
    case CLEARNODE__V1__ENVELOPE__MSG_TX:
        on_peer_tx(e, &env->tx);
        break;
    case CLEARNODE__V1__ENVELOPE__MSG_PROPOSAL:
    case CLEARNODE__V1__ENVELOPE__MSG_VOTE: {
        int kind = env->msg_case == CLEARNODE__V1__ENVELOPE__MSG_PROPOSAL ? CN_CLOG_PROPOSAL
                                                                          : CN_CLOG_VOTE;
        const Clearnode__V1__Signed *s = kind == CN_CLOG_PROPOSAL ? env->proposal : env->vote;
        uint8_t *bytes;
        size_t len;
        if (!s || !cn_encode(&s->base, CN_CAP_PROPOSAL, &bytes, &len)) {
            ok = 0;
            break;
        }
        ok = en_on_signed(e, kind, bytes, len, peer);
        free(bytes);
        break;
    }
    case CLEARNODE__V1__ENVELOPE__MSG_BLOCK_PART:
        if (env->block_part)
            en_block_parts(e, env->block_part, peer);
        break;
    case CLEARNODE__V1__ENVELOPE__MSG_STATUS: {
        const Clearnode__V1__PeerStatus *st = env->status;
        en_peer *p = &e->peers[peer];
        if (!st || st->last_committed >= st->height) {
            ok = 0;
            break;
        }
        int arrived = (!p->has_status || p->height != st->height) && st->height == e->height;
        p->has_status = 1;
        p->height = st->height;
        p->round = st->round;
        p->step = st->step;
        p->last_committed = st->last_committed;
        en_sync_on_status(e, peer);
        /* It just reached this height: what it got earlier may have been dropped as too far
         * ahead (its buffer for the next height is bounded), so send it all again. */
        if (arrived && e->core_active) {
            clear_sent(e, peer);
            gossip_to(e, peer);
        }
        break;
    }
    case CLEARNODE__V1__ENVELOPE__MSG_BLOCK_REQUEST:
        if (env->block_request)
            en_sync_on_request(e, peer, env->block_request->height);
        break;
    case CLEARNODE__V1__ENVELOPE__MSG_BLOCK_RESPONSE:
        if (env->block_response)
            en_sync_on_response(e, peer, env->block_response);
        break;
    case CLEARNODE__V1__ENVELOPE__MSG_EVIDENCE:
        if (env->evidence)
            ok = en_evidence_from_peer(e, env->evidence);
        break;
    case CLEARNODE__V1__ENVELOPE__MSG__NOT_SET:
    default:
        break;
    }
    if (!ok) {
        e->bad_messages++;
        CN_LOG_DEBUG("consensus: a message from peer %d failed its checks", peer);
    }
}

static void clear_sent(cn_engine *e, int peer) {
    uint8_t bit = (uint8_t)(1u << (peer % 8));
    for (size_t i = 0; i < e->n_msgs; i++)
        e->msgs[i].sent[peer / 8] &= (uint8_t)~bit;
    for (size_t i = 0; i < e->n_blocks; i++)
        e->blocks[i].sent[peer / 8] &= (uint8_t)~bit;
}

static void on_peer_up(void *ctx, const uint8_t key[CN_PUBKEY_LEN]) {
    cn_engine *e = ctx;
    int peer = peer_index(e, key);
    if (peer < 0)
        return;
    e->peers[peer].connected = 1;
    e->peers[peer].has_status = 0;
    clear_sent(e, peer); /* a new connection starts with nothing */
    en_send_status(e, peer);
    char k[65];
    cn_hex_encode(k, key, 32);
    CN_LOG_INFO("p2p: peer %.16s connected", k);
}

static void on_peer_down(void *ctx, const uint8_t key[CN_PUBKEY_LEN], cn_p2p_reason why) {
    cn_engine *e = ctx;
    int peer = peer_index(e, key);
    if (peer < 0)
        return;
    en_peer *p = &e->peers[peer];
    p->connected = 0;
    p->has_status = 0;
    free(p->asm_.buf);
    memset(&p->asm_, 0, sizeof p->asm_);
    clear_sent(e, peer);
    en_sync_peer_down(e, peer);
    char k[65];
    cn_hex_encode(k, key, 32);
    CN_LOG_INFO("p2p: peer %.16s disconnected (%s)", k, cn_p2p_reason_code(why));
}

/* ---- setup ----------------------------------------------------------------------------------- */

void en_net_admit_set(cn_engine *e) {
    if (!e->p2p)
        return; /* a lone validator runs without a network (docs/operator.md) */
    for (uint32_t i = 0; i < e->set.n; i++) {
        const uint8_t *k = e->set.key[i];
        if (memcmp(k, e->key.pub, 32) == 0 || peer_index(e, k) >= 0)
            continue;
        char hex[65];
        cn_hex_encode(hex, k, 32);
        if (e->n_peers == EN_MAX_PEERS || cn_p2p_add_peer(e->p2p, k) != CN_P2P_OK) {
            CN_LOG_WARN("p2p: validator %.16s joined the set but cannot be added as a peer "
                        "(%d peers at most)", hex, EN_MAX_PEERS);
            continue;
        }
        en_peer *p = &e->peers[e->n_peers++];
        memset(p, 0, sizeof *p);
        memcpy(p->key, k, 32);
        CN_LOG_INFO("p2p: validator %.16s joined the set: its connections are accepted", hex);
    }
}

int en_net_open(cn_engine *e, char *err, size_t cap) {
    static cn_config_peer dial[EN_MAX_PEERS];
    static uint8_t allow[EN_MAX_PEERS][32];
    char why[256];
    int nd = cn_config_parse_peers(e->cfg.p2p_peers, dial, EN_MAX_PEERS, why, sizeof why);
    int na = nd < 0 ? -1 : cn_config_parse_keys(e->cfg.p2p_allow, allow, EN_MAX_PEERS, why,
                                                  sizeof why);
    if (nd < 0 || na < 0) {
        snprintf(err, cap, "p2p.%s: %s", nd < 0 ? "peers" : "allow", why);
        return 0;
    }
    /* the allowlist: genesis validators, the current set, p2p.allow */
    uint8_t keys[EN_MAX_PEERS + CN_MAX_MEMBERS + CN_VALIDATORS_MAX][32];
    size_t nk = 0;
    for (size_t i = 0; i < e->g->n_members; i++)
        if (e->g->members[i].roles & CN_ROLE_VALIDATOR)
            memcpy(keys[nk++], e->g->members[i].pubkey, 32);
    for (uint32_t i = 0; i < e->set.n; i++)
        memcpy(keys[nk++], e->set.key[i], 32);
    for (int i = 0; i < na; i++)
        memcpy(keys[nk++], allow[i], 32);
    e->n_peers = 0;
    for (size_t i = 0; i < nk; i++) {
        if (memcmp(keys[i], e->key.pub, 32) == 0 || peer_index(e, keys[i]) >= 0)
            continue;
        if (e->n_peers == EN_MAX_PEERS) {
            snprintf(err, cap, "more than %d peers", EN_MAX_PEERS);
            return 0;
        }
        memcpy(e->peers[e->n_peers++].key, keys[i], 32);
    }
    for (int i = 0; i < nd; i++)
        if (peer_index(e, dial[i].key) < 0) {
            char k[65];
            cn_hex_encode(k, dial[i].key, 32);
            snprintf(err, cap,
                     "p2p.peers: %s is neither a genesis validator nor in p2p.allow%s", k,
                     memcmp(dial[i].key, e->key.pub, 32) == 0 ? " (it is this node)" : "");
            return 0;
        }
    e->lone = e->set.n == 1 && memcmp(e->set.key[0], e->key.pub, 32) == 0 && nd == 0 &&
              na == 0 && e->n_peers == 0;
    if (e->lone)
        return 1;
    static cn_p2p_peer_cfg pc[EN_MAX_PEERS];
    for (size_t i = 0; i < e->n_peers; i++) {
        memcpy(pc[i].key, e->peers[i].key, 32);
        pc[i].addr = NULL;
        for (int j = 0; j < nd; j++)
            if (memcmp(dial[j].key, e->peers[i].key, 32) == 0)
                pc[i].addr = dial[j].addr;
    }
    cn_p2p_limits lim;
    cn_p2p_limits_default(&lim);
    lim.max_queue_msgs = e->cfg.p2p_max_queue_msgs;
    lim.max_queue_bytes = e->cfg.p2p_max_queue_bytes;
    lim.out_buffer_bytes = e->cfg.p2p_out_buffer_bytes;
    lim.max_pending = e->cfg.p2p_max_pending;
    lim.handshake_timeout_ms = e->cfg.p2p_handshake_timeout_ms;
    lim.keepalive_ms = e->cfg.p2p_keepalive_ms;
    lim.idle_timeout_ms = e->cfg.p2p_idle_timeout_ms;
    lim.backoff_min_ms = e->cfg.p2p_backoff_min_ms;
    lim.backoff_max_ms = e->cfg.p2p_backoff_max_ms;
    lim.ban_base_ms = e->cfg.p2p_ban_base_ms;
    lim.ban_max_ms = e->cfg.p2p_ban_max_ms;
    char listen[300];
    cn_addr_format(&e->cfg.p2p_listen, listen, sizeof listen);
    cn_p2p_config pcfg = {
        .base = e->base,
        .chain_id = e->g->chain_id,
        .node_key = &e->key,
        .listen = listen,
        .peers = pc,
        .n_peers = e->n_peers,
        .limits = &lim,
        .cb = {on_message, on_peer_up, on_peer_down, e},
    };
    e->p2p = cn_p2p_new(&pcfg, why, sizeof why);
    if (!e->p2p) {
        snprintf(err, cap, "p2p on %s: %s", listen, why);
        return 0;
    }
    return 1;
}
