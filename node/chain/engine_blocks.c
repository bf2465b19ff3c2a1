/* Proposal blocks: the cache of the current height, validity verdicts, and blocks in parts on
 * the wire (docs/p2p.md "Gossip": a block travels as BlockPart messages of at most 64 KiB,
 * in order on one connection, reassembled per sending peer and checked against its id). */
#include "node/chain/engine_internal.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/hash.h"
#include "node/util/log.h"

en_block *en_block_find(cn_engine *e, const uint8_t id[32]) {
    for (size_t i = 0; i < e->n_blocks; i++)
        if (memcmp(e->blocks[i].id, id, 32) == 0)
            return &e->blocks[i];
    return NULL;
}

en_block *en_block_add(cn_engine *e, const uint8_t *bytes, size_t len, const uint8_t id[32],
                       int from_log) {
    en_block *b = en_block_find(e, id);
    if (b)
        return b;
    if (e->n_blocks == EN_MAX_BLOCKS)
        return NULL;
    uint8_t *copy = malloc(len);
    if (!copy)
        return NULL;
    memcpy(copy, bytes, len);
    char why[256];
    b = &e->blocks[e->n_blocks++];
    memset(b, 0, sizeof *b);
    memcpy(b->id, id, 32);
    b->bytes = copy;
    b->len = len;
    b->logged = from_log;
    b->valid = cn_app_process_proposal(e->p.app, bytes, len, why, sizeof why);
    if (!b->valid)
        CN_LOG_WARN("consensus: height %llu: invalid proposal block: %s",
                    (unsigned long long)e->height, why);
    return b;
}

void en_blocks_clear(cn_engine *e) {
    for (size_t i = 0; i < e->n_blocks; i++)
        free(e->blocks[i].bytes);
    e->n_blocks = 0;
    /* parts of the next height go on arriving */
    for (size_t i = 0; i < e->n_peers; i++)
        if (e->peers[i].asm_.height <= e->height) {
            free(e->peers[i].asm_.buf);
            memset(&e->peers[i].asm_, 0, sizeof e->peers[i].asm_);
        }
}

void en_future_blocks(cn_engine *e) {
    for (size_t i = 0; i < e->n_fblocks; i++) {
        if (e->fblocks[i].height == e->height)
            (void)en_block_add(e, e->fblocks[i].bytes, e->fblocks[i].len, e->fblocks[i].id, 0);
        free(e->fblocks[i].bytes);
    }
    e->n_fblocks = 0;
}

/* Keeps a complete block of the next height (bytes taken). */
static void keep_future_block(cn_engine *e, uint64_t height, const uint8_t id[32],
                              uint8_t *bytes, size_t len) {
    if (e->n_fblocks == sizeof e->fblocks / sizeof e->fblocks[0]) {
        free(bytes);
        return;
    }
    e->fblocks[e->n_fblocks].height = height;
    memcpy(e->fblocks[e->n_fblocks].id, id, 32);
    e->fblocks[e->n_fblocks].bytes = bytes;
    e->fblocks[e->n_fblocks++].len = len;
}

void en_block_send(cn_engine *e, en_block *b, uint64_t height, uint32_t round, int peer) {
    if (!e->p2p)
        return;
    uint32_t total = (uint32_t)((b->len + EN_PART_BYTES - 1) / EN_PART_BYTES);
    if (total == 0)
        total = 1;
    int targets[EN_MAX_PEERS];
    size_t nt = 0;
    for (size_t i = 0; i < e->n_peers; i++) {
        if (!e->peers[i].connected || (peer >= 0 && (size_t)peer != i) ||
            (peer < 0 && en_bit(b->sent, (int)i)))
            continue;
        targets[nt++] = (int)i;
    }
    for (uint32_t k = 0; k < total && nt; k++) {
        size_t off = (size_t)k * EN_PART_BYTES;
        size_t n = b->len - off < EN_PART_BYTES ? b->len - off : EN_PART_BYTES;
        Clearnode__V1__BlockPart bp;
        clearnode__v1__block_part__init(&bp);
        bp.height = height;
        bp.round = round;
        bp.block_id.data = b->id;
        bp.block_id.len = 32;
        bp.index = k;
        bp.total = total;
        bp.data.data = b->bytes + off;
        bp.data.len = n;
        Clearnode__V1__Envelope env;
        clearnode__v1__envelope__init(&env);
        env.msg_case = CLEARNODE__V1__ENVELOPE__MSG_BLOCK_PART;
        env.block_part = &bp;
        uint8_t *enc;
        size_t elen;
        if (!cn_encode(&env.base, CN_CAP_ENVELOPE, &enc, &elen))
            return;
        for (size_t t = 0; t < nt; t++)
            en_send(e, targets[t], enc, elen, CN_P2P_PRIO_BLOCK);
        free(enc);
    }
    for (size_t t = 0; t < nt; t++)
        en_set_bit(b->sent, targets[t]);
}

static void asm_reset(en_assembly *a) {
    free(a->buf);
    memset(a, 0, sizeof *a);
}

/* A peer sent parts that cannot be a block: drop the connection (it is redialled). */
static void bad_parts(cn_engine *e, int peer, const char *why) {
    e->bad_messages++;
    CN_LOG_WARN("consensus: peer %d sent a bad block: %s", peer, why);
    asm_reset(&e->peers[peer].asm_);
    if (e->p2p)
        cn_p2p_disconnect(e->p2p, e->peers[peer].key);
}

void en_block_parts(cn_engine *e, const Clearnode__V1__BlockPart *bp, int peer) {
    uint32_t max_parts = (uint32_t)(CN_CAP_BLOCK / EN_PART_BYTES + 1);
    if (bp->block_id.len != 32 || bp->total == 0 || bp->total > max_parts ||
        bp->index >= bp->total || bp->data.len == 0 || bp->data.len > EN_PART_BYTES) {
        bad_parts(e, peer, "malformed part");
        return;
    }
    int now = bp->height == e->height && e->core_active;
    int later = bp->height == e->height + 1 || (bp->height == e->height && !e->core_active);
    if (e->catching_up || (!now && !later))
        return;
    en_block *have = en_block_find(e, bp->block_id.data);
    if (have) {
        en_set_bit(have->sent, peer);
        return;
    }
    en_assembly *a = &e->peers[peer].asm_;
    if (bp->index == 0) {
        asm_reset(a);
        a->active = 1;
        a->height = bp->height;
        a->round = bp->round;
        a->total = bp->total;
        memcpy(a->id, bp->block_id.data, 32);
    } else if (!a->active || a->got != bp->index || a->total != bp->total ||
               memcmp(a->id, bp->block_id.data, 32) != 0) {
        asm_reset(a); /* a gap (a new connection, or a dropped part): wait for a resend */
        return;
    }
    if (a->len + bp->data.len > CN_CAP_BLOCK) {
        bad_parts(e, peer, "larger than a block may be");
        return;
    }
    uint8_t *nb = realloc(a->buf, a->len + bp->data.len);
    if (!nb) {
        asm_reset(a);
        return;
    }
    a->buf = nb;
    memcpy(a->buf + a->len, bp->data.data, bp->data.len);
    a->len += bp->data.len;
    if (++a->got < a->total)
        return;
    cn_pb pb;
    uint8_t id[32];
    if (cn_decode(CN_MSG_BLOCK, a->buf, a->len, &pb) != CN_DECODE_OK) {
        bad_parts(e, peer, "the parts do not decode as a block");
        return;
    }
    const Clearnode__V1__Block *blk = (const Clearnode__V1__Block *)pb.msg;
    cn_hash_tagged(id, CN_TAG_BLOCK, blk->header.data, blk->header.len);
    cn_pb_free(&pb);
    if (memcmp(id, a->id, 32) != 0) {
        bad_parts(e, peer, "the block is not the one its parts name");
        return;
    }
    if (!(a->height == e->height && e->core_active)) {
        keep_future_block(e, a->height, id, a->buf, a->len);
        a->buf = NULL;
        asm_reset(a);
        return;
    }
    en_block *b = en_block_add(e, a->buf, a->len, id, 0);
    asm_reset(a);
    if (b) {
        en_set_bit(b->sent, peer);
        en_feed_proposals(e);
    }
}
