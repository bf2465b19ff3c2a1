/* ReservesProof <-> cn_por_proof. See sumtree_pb.h. */
#include "crypto/sumtree_pb.h"

#include <string.h>

static cn_por_err copy32(uint8_t out[32], ProtobufCBinaryData b) {
    if (b.len != 32 || !b.data)
        return CN_POR_E_FIELD_LENGTH;
    memcpy(out, b.data, 32);
    return CN_POR_OK;
}

static cn_por_err copy_sums(cn_u128 *out, uint32_t k, size_t n, const ProtobufCBinaryData *v) {
    if (n != k)
        return CN_POR_E_SUM_COUNT;
    for (uint32_t a = 0; a < k; a++) {
        if (v[a].len != 16 || !v[a].data)
            return CN_POR_E_FIELD_LENGTH;
        out[a] = cn_por_get_u128(v[a].data);
    }
    return CN_POR_OK;
}

cn_por_err cn_por_proof_from_pb(cn_por_proof *out, const Clearnode__V1__ReservesProof *m,
                                cn_por_where *w) {
    if (w) {
        w->level = UINT32_MAX;
        w->asset = UINT32_MAX;
        w->leaf = UINT64_MAX;
    }
    memset(out, 0, sizeof *out);
    size_t len = m->chain_id ? strlen(m->chain_id) : 0;
    if (len == 0 || len > CN_POR_CHAIN_ID_MAX)
        return CN_POR_E_CHAIN_ID;
    memcpy(out->chain_id, m->chain_id, len + 1);
    out->epoch = m->epoch;
    out->height = m->height;
    out->depth = m->depth;
    out->leaf_count = m->leaf_count;
    out->leaf_index = m->leaf_index;
    if (w)
        w->leaf = m->leaf_index;
    cn_por_err e;
    if ((e = copy32(out->account, m->account)) != CN_POR_OK ||
        (e = copy32(out->salt, m->salt)) != CN_POR_OK ||
        (e = copy32(out->root, m->root)) != CN_POR_OK)
        return e;
    if (m->n_assets == 0 || m->n_assets > CN_POR_MAX_ASSETS)
        return CN_POR_E_ASSET_COUNT;
    uint32_t k = (uint32_t)m->n_assets;
    out->n_assets = k;
    for (uint32_t a = 0; a < k; a++) {
        size_t sl = m->assets[a] ? strlen(m->assets[a]) : 0;
        if (sl == 0 || sl > CN_POR_SYMBOL_MAX) {
            if (w)
                w->asset = a;
            return CN_POR_E_ASSET_NAME;
        }
        memcpy(out->assets[a], m->assets[a], sl + 1);
    }
    if (m->n_balances != k)
        return CN_POR_E_BALANCE_COUNT;
    memcpy(out->balances, m->balances, k * sizeof(uint64_t));
    if (m->n_path > CN_POR_MAX_DEPTH)
        return CN_POR_E_DEPTH_RANGE;
    out->n_path = (uint32_t)m->n_path;
    for (uint32_t l = 0; l < out->n_path; l++) {
        const Clearnode__V1__ReservesProofStep *st = m->path[l];
        if (w)
            w->level = l;
        if ((e = copy32(out->path[l].hash, st->hash)) != CN_POR_OK ||
            (e = copy_sums(out->path[l].sums, k, st->n_sums, st->sums)) != CN_POR_OK)
            return e;
    }
    if (w)
        w->level = UINT32_MAX;
    return copy_sums(out->totals, k, m->n_totals, m->totals);
}

void cn_por_proof_to_pb(cn_por_proof_pb *pb, cn_por_proof *p) {
    uint32_t k = p->n_assets <= CN_POR_MAX_ASSETS ? p->n_assets : CN_POR_MAX_ASSETS;
    uint32_t np = p->n_path <= CN_POR_MAX_DEPTH ? p->n_path : CN_POR_MAX_DEPTH;
    clearnode__v1__reserves_proof__init(&pb->msg);
    pb->msg.chain_id = p->chain_id;
    pb->msg.epoch = p->epoch;
    pb->msg.height = p->height;
    pb->msg.depth = p->depth;
    pb->msg.leaf_count = p->leaf_count;
    pb->msg.leaf_index = p->leaf_index;
    pb->msg.account = (ProtobufCBinaryData){32, p->account};
    pb->msg.salt = (ProtobufCBinaryData){32, p->salt};
    pb->msg.root = (ProtobufCBinaryData){32, p->root};
    for (uint32_t a = 0; a < k; a++) {
        pb->asset_ptrs[a] = p->assets[a];
        pb->balances[a] = p->balances[a];
        cn_por_put_u128(pb->total_bytes[a], p->totals[a]);
        pb->totals[a] = (ProtobufCBinaryData){16, pb->total_bytes[a]};
    }
    pb->msg.n_assets = k;
    pb->msg.assets = pb->asset_ptrs;
    pb->msg.n_balances = k;
    pb->msg.balances = pb->balances;
    pb->msg.n_totals = k;
    pb->msg.totals = pb->totals;
    for (uint32_t l = 0; l < np; l++) {
        clearnode__v1__reserves_proof_step__init(&pb->steps[l]);
        pb->steps[l].hash = (ProtobufCBinaryData){32, p->path[l].hash};
        for (uint32_t a = 0; a < k; a++) {
            cn_por_put_u128(pb->sum_bytes[l][a], p->path[l].sums[a]);
            pb->sums[l][a] = (ProtobufCBinaryData){16, pb->sum_bytes[l][a]};
        }
        pb->steps[l].n_sums = k;
        pb->steps[l].sums = pb->sums[l];
        pb->step_ptrs[l] = &pb->steps[l];
    }
    pb->msg.n_path = np;
    pb->msg.path = pb->step_ptrs;
}
