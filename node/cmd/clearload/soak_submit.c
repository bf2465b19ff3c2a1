/* Submission for `clearload soak` (see soak.h).
 *
 * First sends: each thread takes the next `batch` transfers (so transfers go out in index
 * order, which keeps every client's nonces in order), waits for their slot when the run is
 * paced (transfer k is due at t0 + k / rate), and POSTs them to the next live node. Entries
 * answered mempool_full or bad_nonce (beyond a node's nonce window) go again after a short
 * pause, to the next node, for at most the resubmit delay; after that they are the
 * resubmitter's. A node that does not answer is left out for a second (nodes.h).
 *
 * Resubmission: a transfer sent but not seen committed for resubmit_ms is sent again, the same
 * bytes, to another node than last time. Nonces are sequential per client, so a transfer lost
 * with a killed node would stall every later one of its client until it is resent. "duplicate"
 * and "bad_nonce" (the nonce was used: it is committed) answers to a resend are expected. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/cmd/clearload/soak.h"

typedef struct {
    cl_soak *s;
    cl_http conn[CL_MAX_NODES];
    size_t *idx; /* transfers of the batch in flight */
    const cl_tx **ptr;
    uint8_t *buf;
    size_t cap;
} sender;

static int sender_init(sender *w, cl_soak *s) {
    memset(w, 0, sizeof *w);
    w->s = s;
    cl_nodes_conns(&s->nodes, w->conn);
    w->cap = s->batch;
    w->idx = malloc(w->cap * sizeof *w->idx);
    w->ptr = malloc(w->cap * sizeof *w->ptr);
    /* A transfer is far below 1 KiB; cl_sign_transfer never makes a larger one. */
    w->buf = malloc(w->cap * (1024 + 10));
    return w->idx && w->ptr && w->buf;
}

static void sender_free(sender *w) {
    cl_nodes_conns_close(&w->s->nodes, w->conn);
    free(w->idx);
    free(w->ptr);
    free(w->buf);
}

/* Is this verdict one to send again later (rather than done or refused)? */
static int again(const char *code) {
    return strcmp(code, "mempool_full") == 0 || strcmp(code, "bad_nonce") == 0;
}

/* Sends w->idx[0..*np) to node `node`. Keeps in w->idx the ones to send again. Returns 1 when
 * the node answered the batch, 0 when it did not (all kept; the node is left out). */
static int send_to(sender *w, int node, size_t *np, int first, int *full) {
    cl_soak *s = w->s;
    uint64_t now = cl_now_us();
    for (size_t j = 0; j < *np; j++) {
        cl_soak_state *st = cl_soak_st(s, w->idx[j]);
        uint64_t zero = 0;
        if (first)
            atomic_compare_exchange_strong(&st->first_us, &zero, now);
        atomic_store(&st->last_us, now);
        atomic_store(&st->last_node, node);
        w->ptr[j] = cl_soak_tx(s, w->idx[j]);
        if (w->ptr[j]->len > 1024) /* cannot happen: see sender_init */
            return 0;
    }
    size_t len = cl_batch_encode(w->ptr, *np, w->buf);
    int status;
    char *err = NULL;
    json_t *ans = cl_post_batch(&w->conn[node], w->buf, len, *np, &status, &err);
    if (!ans) {
        if (status >= 0 && status != 429 && status != 503 &&
            atomic_exchange(&s->err_printed, 1) == 0)
            fprintf(stderr, "clearload: %s answered a batch with HTTP %d: %.300s\n",
                    s->nodes.node[node].url, status, err ? err : "");
        free(err);
        cl_http_close(&w->conn[node]);
        if (status != 429 && status != 503)
            cl_nodes_down(&s->nodes, (unsigned)node);
        return 0;
    }
    json_t *res = json_object_get(ans, "results");
    size_t keep = 0;
    *full = 0;
    for (size_t j = 0; j < *np; j++) {
        json_t *r = json_array_get(res, j);
        const char *code = json_string_value(json_object_get(r, "code"));
        code = code ? code : "";
        if (strcmp(code, "ok") == 0) {
            atomic_fetch_add(&s->nodes.node[node].accepted, 1);
        } else if (strcmp(code, "duplicate") == 0) {
            atomic_fetch_add(&s->nodes.node[node].duplicates, 1);
        } else if (again(code)) {
            *full |= code[0] == 'm';
            w->idx[keep++] = w->idx[j];
        } else {
            atomic_store(&cl_soak_st(s, w->idx[j])->refused, 1);
            atomic_fetch_add(&s->refused, 1);
            if (atomic_exchange(&s->err_printed, 1) == 0) {
                char *d = json_dumps(r, JSON_COMPACT);
                fprintf(stderr, "clearload: %s refused a transfer: %s\n",
                        s->nodes.node[node].url, d ? d : code);
                free(d);
            }
        }
    }
    json_decref(ans);
    *np = keep;
    return 1;
}

/* Waits until transfer k is due. */
static void pace(const cl_soak *s, size_t k) {
    if (!s->rate)
        return;
    uint64_t due = s->t0 + (uint64_t)((unsigned __int128)k * 1000000u / s->rate);
    for (uint64_t now = cl_now_us(); now < due && !atomic_load(&s->stop); now = cl_now_us())
        usleep((useconds_t)(due - now < 100000u ? due - now : 100000u));
}

/* First sends of w->idx[0..np): to the next live node, again after mempool_full or bad_nonce,
 * for at most the resubmit delay. */
static void first_send(sender *w, size_t np) {
    cl_soak *s = w->s;
    uint64_t until = cl_now_us() + s->resubmit_us;
    int first = 1;
    while (np && !atomic_load(&s->stop) && cl_now_us() < until) {
        int node = cl_nodes_pick(&s->nodes, -1), full = 0;
        if (node < 0) {
            usleep(20000);
            continue;
        }
        size_t before = np;
        if (!send_to(w, node, &np, first, &full)) {
            first = 0;
            continue;
        }
        first = 0;
        if (np) {
            atomic_fetch_add(&s->retried, np);
            usleep(np == before && !full ? 20000 : 2000);
        }
    }
}

void *cl_soak_submit_thread(void *arg) {
    cl_soak *s = arg;
    sender w;
    if (!sender_init(&w, s)) {
        sender_free(&w);
        atomic_store(&s->stop_submit, 1);
        atomic_fetch_sub(&s->submitting, 1);
        return NULL;
    }
    for (;;) {
        if (atomic_load(&s->stop_submit) || atomic_load(&s->stop))
            break;
        /* Unpaced --duration: take nothing new once the time is up, so that the transfers
         * taken are exactly [0, next) and every one of them is sent. */
        if (s->duration_us && !s->rate && cl_now_us() - s->t0 >= s->duration_us)
            break;
        size_t start = atomic_fetch_add(&s->next, s->batch);
        if (start >= s->max_txs)
            break;
        size_t end = start + s->batch < s->max_txs ? start + s->batch : s->max_txs;
        if (!s->presigned && !cl_soak_sign(s, start, end)) {
            atomic_fetch_add(&s->sign_failed, end - start);
            atomic_store(&s->stop_submit, 1);
            break;
        }
        pace(s, start);
        size_t np = 0;
        for (size_t k = start; k < end; k++)
            w.idx[np++] = k;
        first_send(&w, np);
    }
    sender_free(&w);
    atomic_fetch_sub(&s->submitting, 1);
    return NULL;
}

/* Sends w->idx[0..np) again, to another node than the first one's last. */
static void resend(sender *w, size_t np) {
    cl_soak *s = w->s;
    int avoid = atomic_load(&cl_soak_st(s, w->idx[0])->last_node);
    for (unsigned tries = 0; np && tries < s->nodes.n && !atomic_load(&s->stop); tries++) {
        int node = cl_nodes_pick(&s->nodes, avoid), full;
        if (node < 0)
            return;
        atomic_fetch_add(&s->resubmitted, np);
        if (send_to(w, node, &np, 0, &full))
            return; /* what is still kept goes again on a later round */
        avoid = node;
    }
}

void *cl_soak_resubmit_thread(void *arg) {
    cl_soak *s = arg;
    sender w;
    if (!sender_init(&w, s)) {
        sender_free(&w);
        return NULL;
    }
    uint64_t period = s->resubmit_us / 4;
    period = period < 10000u ? 10000u : period > 250000u ? 250000u : period;
    size_t floor = 0; /* every transfer below it is committed */
    while (!atomic_load(&s->stop)) {
        usleep((useconds_t)period);
        size_t hw = atomic_load(&s->next);
        hw = hw < s->max_txs ? hw : s->max_txs;
        /* A transfer taken but not signed yet (unpaced --duration signs on the way) may have
         * no chunk yet: it is not sent either. */
        cl_soak_state *fs;
        while (floor < hw && (fs = cl_soak_st_if(s, floor)) && atomic_load(&fs->commit_us))
            floor++;
        size_t np = 0;
        uint64_t now = cl_now_us();
        for (size_t k = floor; k < hw && !atomic_load(&s->stop); k++) {
            cl_soak_state *st = cl_soak_st_if(s, k);
            uint64_t last = st ? atomic_load(&st->last_us) : 0;
            if (!st || atomic_load(&st->commit_us) || atomic_load(&st->refused) || !last ||
                now - last < s->resubmit_us)
                continue;
            w.idx[np++] = k;
            if (np == w.cap) {
                resend(&w, np);
                np = 0;
            }
        }
        if (np)
            resend(&w, np);
    }
    sender_free(&w);
    return NULL;
}
