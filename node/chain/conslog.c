/* The consensus log (see conslog.h). */
#include "node/chain/conslog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/bytes.h"
#include "crypto/hash.h"
#include "node/consensus/voteset.h"
#include "proto/codec.h"

#define KEY_STATE "state"
#define KEY_SIGNED "signed"
#define KEY_PRIO "prio"

typedef struct {
    uint8_t key[1 + 8 + 32];
    size_t klen;
    uint8_t *val;
    size_t vlen;
} pend_entry;

struct cn_conslog {
    cn_store *s;
    uint64_t height;
    uint32_t seq;
    pend_entry *pend;
    size_t npend, cap;
    /* what the next commit hook writes */
    uint64_t decided;
    int has_state;
    cn_cons_sign_state state;
    int has_prio;
    cn_cons_valset prio;
};

cn_conslog *cn_conslog_new(cn_store *s) {
    cn_conslog *l = calloc(1, sizeof *l);
    if (l)
        l->s = s;
    return l;
}

static void drop_pending(cn_conslog *l) {
    for (size_t i = 0; i < l->npend; i++)
        free(l->pend[i].val);
    l->npend = 0;
}

void cn_conslog_free(cn_conslog *l) {
    if (!l)
        return;
    drop_pending(l);
    free(l->pend);
    free(l);
}

void cn_conslog_begin_height(cn_conslog *l, uint64_t height, uint32_t seq) {
    if (l->height != height)
        drop_pending(l);
    l->height = height;
    l->seq = seq;
}

static int push(cn_conslog *l, const uint8_t *key, size_t klen, uint8_t tag, const uint8_t *bytes,
                size_t len) {
    if (l->npend == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 32;
        pend_entry *p = realloc(l->pend, nc * sizeof *p);
        if (!p)
            return 0;
        l->pend = p;
        l->cap = nc;
    }
    size_t off = tag ? 1 : 0;
    uint8_t *v = malloc(len + off);
    if (!v)
        return 0;
    if (tag)
        v[0] = tag;
    memcpy(v + off, bytes, len);
    pend_entry *e = &l->pend[l->npend++];
    memcpy(e->key, key, klen);
    e->klen = klen;
    e->val = v;
    e->vlen = len + off;
    return 1;
}

int cn_conslog_add_msg(cn_conslog *l, int kind, const uint8_t *bytes, size_t len) {
    uint8_t k[13];
    k[0] = 'm';
    cn_put_be64(k + 1, l->height);
    cn_put_be32(k + 9, l->seq);
    if (!push(l, k, sizeof k, (uint8_t)kind, bytes, len))
        return 0;
    l->seq++;
    return 1;
}

int cn_conslog_add_block(cn_conslog *l, const uint8_t id[32], const uint8_t *bytes, size_t len) {
    uint8_t k[41];
    k[0] = 'b';
    cn_put_be64(k + 1, l->height);
    memcpy(k + 9, id, 32);
    return push(l, k, sizeof k, 0, bytes, len);
}

static int fail_store(char *err, size_t cap, const char *what, cn_store_err e) {
    snprintf(err, cap, "consensus log: %s: %s%s%s", what, cn_store_strerror(e),
             cn_store_last_raw() ? ": " : "", cn_store_last_detail());
    return 0;
}

int cn_conslog_persist(cn_conslog *l, const cn_cons_sign_state *st, int kind,
                       const uint8_t *bytes, size_t len, char *err, size_t cap) {
    if (!cn_conslog_add_msg(l, kind, bytes, len)) {
        snprintf(err, cap, "consensus log: out of memory");
        return 0;
    }
    uint8_t enc[CN_CONS_SIGN_STATE_BYTES];
    cn_cons_sign_state_encode(st, enc);
    uint8_t *sv = malloc(len + 1);
    if (!sv) {
        snprintf(err, cap, "consensus log: out of memory");
        return 0;
    }
    sv[0] = (uint8_t)kind;
    memcpy(sv + 1, bytes, len);
    cn_store_wtxn *b;
    cn_store_err e = cn_store_begin(l->s, &b);
    if (!e)
        e = cn_store_put(b, CN_DB_SIGNER, KEY_STATE, strlen(KEY_STATE), enc, sizeof enc);
    if (!e)
        e = cn_store_put(b, CN_DB_SIGNER, KEY_SIGNED, strlen(KEY_SIGNED), sv, len + 1);
    for (size_t i = 0; !e && i < l->npend; i++)
        e = cn_store_put(b, CN_DB_SIGNER, l->pend[i].key, l->pend[i].klen, l->pend[i].val,
                         l->pend[i].vlen);
    free(sv);
    if (e) {
        if (b)
            cn_store_abort(b);
        return fail_store(err, cap, "write", e);
    }
    /* The store commits durably (the node never signs while commits skip the flush). */
    if ((e = cn_store_commit(b)))
        return fail_store(err, cap, "commit", e);
    drop_pending(l);
    return 1;
}

void cn_conslog_prepare_commit(cn_conslog *l, uint64_t decided, const cn_cons_sign_state *st,
                               const cn_cons_valset *next_prio) {
    l->decided = decided;
    l->has_state = st != NULL;
    if (st)
        l->state = *st;
    l->has_prio = next_prio != NULL;
    if (next_prio)
        l->prio = *next_prio;
}

/* Deletes the 'm' and 'b' entries of heights <= upto. */
static cn_store_err delete_upto(cn_store_wtxn *b, uint8_t tag, uint64_t upto) {
    for (;;) {
        cn_store_iter *it;
        cn_store_err e = cn_store_iter_write(&it, b, CN_DB_SIGNER, &tag, 1, NULL, 0, 0);
        if (e)
            return e;
        uint8_t keys[64][41];
        size_t lens[64], n = 0;
        const void *k, *v;
        size_t kl, vl;
        while (n < 64 && (e = cn_store_iter_next(it, &k, &kl, &v, &vl)) == CN_STORE_OK) {
            if (kl < 9 || kl > 41 || cn_get_be64((const uint8_t *)k + 1) > upto)
                break;
            memcpy(keys[n], k, kl);
            lens[n++] = kl;
        }
        cn_store_iter_close(it);
        if (e != CN_STORE_OK && e != CN_STORE_NOTFOUND)
            return e;
        for (size_t i = 0; i < n; i++)
            if ((e = cn_store_del(b, CN_DB_SIGNER, keys[i], lens[i])) &&
                e != CN_STORE_NOTFOUND)
                return e;
        if (n < 64)
            return CN_STORE_OK;
    }
}

cn_store_err cn_conslog_commit_hook(void *ctx, cn_store_wtxn *b) {
    cn_conslog *l = ctx;
    cn_store_err e = CN_STORE_OK;
    if (l->has_state) {
        uint8_t enc[CN_CONS_SIGN_STATE_BYTES];
        cn_cons_sign_state_encode(&l->state, enc);
        e = cn_store_put(b, CN_DB_SIGNER, KEY_STATE, strlen(KEY_STATE), enc, sizeof enc);
    }
    if (!e && l->has_prio) {
        uint8_t buf[12 + 8 * CN_CONS_MAX_VALIDATORS];
        cn_put_be64(buf, l->decided + 1);
        cn_put_be32(buf + 8, l->prio.n);
        for (uint32_t i = 0; i < l->prio.n; i++)
            cn_put_be64(buf + 12 + 8 * i, (uint64_t)l->prio.priority[i]);
        e = cn_store_put(b, CN_DB_SIGNER, KEY_PRIO, strlen(KEY_PRIO), buf, 12 + 8 * l->prio.n);
    }
    if (!e)
        e = delete_upto(b, 'm', l->decided);
    if (!e)
        e = delete_upto(b, 'b', l->decided);
    if (!e)
        drop_pending(l);
    return e;
}

/* ---- loading ------------------------------------------------------------------------------- */

static int lfail(char *err, size_t cap, const char *msg) {
    snprintf(err, cap, "consensus log: %s", msg);
    return 0;
}

/* The (height, round, step, value) a Signed proposal or vote names; 0 if it does not decode. */
static int signed_names(int kind, const uint8_t *bytes, size_t len, uint64_t *h, uint32_t *r,
                        uint8_t *step, cn_cons_value *v) {
    cn_pb spb, bpb;
    if (cn_decode(CN_MSG_SIGNED, bytes, len, &spb) != CN_DECODE_OK)
        return 0;
    const Clearnode__V1__Signed *s = (const Clearnode__V1__Signed *)spb.msg;
    int ok = 0;
    memset(v, 0, sizeof *v);
    if (kind == CN_CLOG_PROPOSAL &&
        cn_decode(CN_MSG_PROPOSAL, s->body.data, s->body.len, &bpb) == CN_DECODE_OK) {
        const Clearnode__V1__Proposal *p = (const Clearnode__V1__Proposal *)bpb.msg;
        ok = p->block_id.len == 32;
        *h = p->height;
        *r = p->round;
        *step = CN_CONS_STEP_PROPOSE;
        v->has_value = 1;
        if (ok)
            memcpy(v->id, p->block_id.data, 32);
        cn_pb_free(&bpb);
    } else if (kind == CN_CLOG_VOTE &&
               cn_decode(CN_MSG_VOTE, s->body.data, s->body.len, &bpb) == CN_DECODE_OK) {
        const Clearnode__V1__Vote *x = (const Clearnode__V1__Vote *)bpb.msg;
        ok = (x->block_id.len == 32 || x->block_id.len == 0) &&
             (x->type == CLEARNODE__V1__VOTE_TYPE__VOTE_PREVOTE ||
              x->type == CLEARNODE__V1__VOTE_TYPE__VOTE_PRECOMMIT);
        *h = x->height;
        *r = x->round;
        *step = x->type == CLEARNODE__V1__VOTE_TYPE__VOTE_PREVOTE ? CN_CONS_STEP_PREVOTE
                                                                 : CN_CONS_STEP_PRECOMMIT;
        v->has_value = x->block_id.len == 32;
        if (v->has_value)
            memcpy(v->id, x->block_id.data, 32);
        cn_pb_free(&bpb);
    }
    cn_pb_free(&spb);
    return ok;
}

static int load_entries(cn_store_rtxn *r, uint64_t height, cn_clog_loaded *out, char *err,
                        size_t cap) {
    static const uint8_t tags[2] = {'m', 'b'};
    for (int t = 0; t < 2; t++) {
        cn_store_iter *it;
        if (cn_store_iter_read(&it, r, CN_DB_SIGNER, &tags[t], 1, NULL, 0, 0) != CN_STORE_OK)
            return lfail(err, cap, "entries: cannot read");
        const void *k, *v;
        size_t kl, vl;
        cn_store_err e;
        int ok = 1;
        while (ok && (e = cn_store_iter_next(it, &k, &kl, &v, &vl)) == CN_STORE_OK) {
            const uint8_t *kb = k, *vb = v;
            if (kl != (t == 0 ? 13u : 41u) || vl == 0) {
                ok = lfail(err, cap, t ? "malformed block entry" : "malformed message entry");
                break;
            }
            if (cn_get_be64(kb + 1) != height) {
                snprintf(err, cap,
                         "consensus log: an entry of height %llu while resuming height %llu "
                         "(the log does not match the chain)",
                         (unsigned long long)cn_get_be64(kb + 1), (unsigned long long)height);
                ok = 0;
                break;
            }
            cn_clog_entry *ne = realloc(out->e, (out->n + 1) * sizeof *ne);
            if (!ne) {
                ok = lfail(err, cap, "out of memory");
                break;
            }
            out->e = ne;
            cn_clog_entry *x = &out->e[out->n];
            memset(x, 0, sizeof *x);
            if (t == 0) {
                x->kind = vb[0];
                uint64_t hh;
                uint32_t rr;
                uint8_t st;
                cn_cons_value val;
                if ((x->kind != CN_CLOG_PROPOSAL && x->kind != CN_CLOG_VOTE) ||
                    !signed_names(x->kind, vb + 1, vl - 1, &hh, &rr, &st, &val) ||
                    hh != height) {
                    ok = lfail(err, cap, "message entry at this height does not decode");
                    break;
                }
                vb++;
                vl--;
            } else {
                memcpy(x->id, kb + 9, 32);
                cn_pb bpb;
                uint8_t id[32];
                if (cn_decode(CN_MSG_BLOCK, vb, vl, &bpb) != CN_DECODE_OK) {
                    ok = lfail(err, cap, "a logged block does not decode");
                    break;
                }
                const Clearnode__V1__Block *blk = (const Clearnode__V1__Block *)bpb.msg;
                cn_hash_tagged(id, CN_TAG_BLOCK, blk->header.data, blk->header.len);
                cn_pb_free(&bpb);
                if (memcmp(id, x->id, 32) != 0) {
                    ok = lfail(err, cap, "a logged block is not the block its key names");
                    break;
                }
            }
            x->bytes = malloc(vl);
            if (!x->bytes) {
                ok = lfail(err, cap, "out of memory");
                break;
            }
            memcpy(x->bytes, vb, vl);
            x->len = vl;
            out->n++;
        }
        cn_store_iter_close(it);
        if (!ok)
            return 0;
    }
    return 1;
}

int cn_conslog_load(cn_store *s, uint64_t height, cn_clog_loaded *out, char *err, size_t cap) {
    memset(out, 0, sizeof *out);
    cn_store_rtxn *r;
    if (cn_store_read_begin(s, &r) != CN_STORE_OK)
        return lfail(err, cap, "cannot open a read snapshot");
    const void *v;
    size_t vl;
    int ok = 1;
    cn_store_err e = cn_store_read_get(r, CN_DB_SIGNER, KEY_STATE, strlen(KEY_STATE), &v, &vl);
    if (e == CN_STORE_OK) {
        if (!cn_cons_sign_state_decode(&out->state, v, vl))
            ok = lfail(err, cap, "the sign state record is malformed or inconsistent");
        out->has_state = 1;
    } else if (e != CN_STORE_NOTFOUND) {
        ok = lfail(err, cap, "cannot read the sign state");
    }
    if (ok && out->has_state && out->state.step != CN_CONS_STEP_NONE) {
        e = cn_store_read_get(r, CN_DB_SIGNER, KEY_SIGNED, strlen(KEY_SIGNED), &v, &vl);
        uint64_t h;
        uint32_t rr;
        uint8_t st;
        cn_cons_value val;
        const uint8_t *vb = v;
        if (e != CN_STORE_OK || vl < 2 ||
            !signed_names(vb[0], vb + 1, vl - 1, &h, &rr, &st, &val) ||
            h != out->state.height || rr != out->state.round || st != out->state.step ||
            !cn_cons_value_eq(&val, &out->state.value)) {
            ok = lfail(err, cap, "the last signed message is missing or is not the one the "
                                 "sign state names (torn log)");
        } else if ((out->last = malloc(vl - 1)) == NULL) {
            ok = lfail(err, cap, "out of memory");
        } else {
            out->last_kind = vb[0];
            memcpy(out->last, vb + 1, vl - 1);
            out->last_len = vl - 1;
        }
    }
    if (ok) {
        e = cn_store_read_get(r, CN_DB_SIGNER, KEY_PRIO, strlen(KEY_PRIO), &v, &vl);
        const uint8_t *p = v;
        if (e == CN_STORE_OK) {
            uint32_t n = vl >= 12 ? cn_get_be32(p + 8) : 0;
            if (vl < 12 || n == 0 || n > CN_CONS_MAX_VALIDATORS || vl != 12 + 8 * (size_t)n) {
                ok = lfail(err, cap, "the priority record is malformed");
            } else {
                out->has_prio = 1;
                out->prio_height = cn_get_be64(p);
                out->prio.n = n;
                for (uint32_t i = 0; i < n; i++)
                    out->prio.priority[i] = (int64_t)cn_get_be64(p + 12 + 8 * i);
            }
        } else if (e != CN_STORE_NOTFOUND) {
            ok = lfail(err, cap, "cannot read the priorities");
        }
    }
    if (ok)
        ok = load_entries(r, height, out, err, cap);
    cn_store_read_end(r);
    if (!ok)
        cn_clog_loaded_free(out);
    return ok;
}

void cn_clog_loaded_free(cn_clog_loaded *x) {
    for (size_t i = 0; i < x->n; i++)
        free(x->e[i].bytes);
    free(x->e);
    free(x->last);
    memset(x, 0, sizeof *x);
}
