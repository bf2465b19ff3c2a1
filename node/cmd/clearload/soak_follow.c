/* Commit tracking for `clearload soak` (see soak.h): instead of polling every receipt, follow
 * the chain. Every 10 ms ask each live node for its height (GET /v1/status), then read each new
 * block from the highest one (GET /v1/blocks/{h}, which lists its tx ids) and stamp every
 * transfer in it with the time its block was first seen. Asking every node keeps the follower
 * going when the node it read from is killed, paused or left behind. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/encoding.h"
#include "node/cmd/clearload/soak.h"

uint64_t cl_soak_tip(cl_soak *s, cl_http *conns, int *best) {
    uint64_t tip = 0, now = cl_now_us();
    *best = -1;
    for (unsigned i = 0; i < s->nodes.n; i++) {
        if (atomic_load(&s->nodes.node[i].skip_until) > now)
            continue;
        int st;
        json_t *j = cl_get_json(&conns[i], "/v1/status", &st);
        json_t *h = json_object_get(j, "height");
        if (st == 200 && json_is_integer(h) && json_integer_value(h) >= 0) {
            if (*best < 0 || (uint64_t)json_integer_value(h) > tip) {
                tip = (uint64_t)json_integer_value(h);
                *best = (int)i;
            }
        } else if (st < 0) {
            cl_http_close(&conns[i]);
            cl_nodes_down(&s->nodes, i);
        }
        json_decref(j);
    }
    return tip;
}

/* Stamps the transfers in block h. Returns 1, or 0 when the block could not be read. */
static int read_block(cl_soak *s, cl_http *c, uint64_t h) {
    char path[64];
    snprintf(path, sizeof path, "/v1/blocks/%llu", (unsigned long long)h);
    int st;
    json_t *j = cl_get_json(c, path, &st);
    uint64_t now = cl_now_us();
    json_t *txs = json_object_get(j, "txs"), *jh = json_object_get(j, "height");
    if (st != 200 || !json_is_array(txs) || !json_is_integer(jh) ||
        (uint64_t)json_integer_value(jh) != h) {
        if (st == 200)
            atomic_fetch_add(&s->bad_blocks, 1);
        if (st < 0)
            cl_http_close(c);
        json_decref(j);
        return 0;
    }
    for (size_t i = 0; i < json_array_size(txs); i++) {
        const char *hex = json_string_value(json_array_get(txs, i));
        uint8_t id[32];
        if (!hex || strlen(hex) != 64 || !cn_hex_decode_exact(id, 32, hex)) {
            atomic_fetch_add(&s->bad_blocks, 1);
            continue;
        }
        long k = cl_soak_find(s, id);
        if (k < 0)
            continue; /* someone else's transaction */
        cl_soak_state *tx = cl_soak_st(s, (size_t)k);
        if (atomic_load(&tx->commit_us))
            continue;
        atomic_store(&tx->height, h);
        atomic_store(&tx->commit_us, now);
        atomic_fetch_add(&s->committed, 1);
        if (now > atomic_load(&s->last_commit_us))
            atomic_store(&s->last_commit_us, now);
    }
    json_decref(j);
    return 1;
}

void *cl_soak_follow_thread(void *arg) {
    cl_soak *s = arg;
    cl_http conns[CL_MAX_NODES];
    cl_nodes_conns(&s->nodes, conns);
    uint64_t seen = s->start_height;
    while (!atomic_load(&s->stop)) {
        int best;
        uint64_t tip = cl_soak_tip(s, conns, &best);
        while (best >= 0 && seen < tip && !atomic_load(&s->stop) &&
               read_block(s, &conns[best], seen + 1))
            atomic_store(&s->seen_height, ++seen);
        usleep(10000);
    }
    cl_nodes_conns_close(&s->nodes, conns);
    return NULL;
}
