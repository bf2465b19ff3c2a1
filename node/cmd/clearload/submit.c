/* clearload run: submission threads and the latency sampler (see load.h).
 *
 * With --batch 1 every request is one POST /v1/tx. With --batch B each request is one
 * POST /v1/txs carrying up to B consecutive transfers as length-delimited Signed messages;
 * the per-tx verdicts decide what is retried (mempool_full, nonce beyond the window) and what
 * counts as rejected. The sampler follows one transfer in CL_SAMPLE_EVERY from its first send
 * to its receipt (polling GET /v1/tx/{hash} every 10 ms) and records whether its code is 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "crypto/encoding.h"
#include "node/cmd/clearload/load.h"

uint64_t cl_now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int cl_submit_one(cl_http *c, const cl_tx *t, atomic_size_t *retried, atomic_int *printed) {
    for (int attempt = 0; attempt < 20000; attempt++) {
        char *body = NULL;
        size_t bl;
        int st = cl_http_do(c, "POST", "/v1/tx", "application/x-protobuf", t->bytes, t->len,
                            &body, &bl);
        int dup = body && strstr(body, "\"duplicate\"");
        int nonce = body && strstr(body, "\"bad_nonce\"");
        if (st == 200 || st == 202 || (st == 409 && dup)) {
            free(body);
            return 1;
        }
        if (st == 503 || st == 429 || (st == 409 && nonce && attempt < 2000) || st < 0) {
            free(body);
            if (retried)
                atomic_fetch_add(retried, 1);
            if (st < 0 && attempt > 50)
                return 0;
            usleep(st == 409 ? 20000 : 2000);
            continue;
        }
        if (!printed || atomic_exchange(printed, 1) == 0)
            fprintf(stderr, "clearload: tx rejected with HTTP %d: %s\n", st, body ? body : "");
        free(body);
        return 0;
    }
    return 0;
}

/* Marks the first send time of the sampled txs among idx[0..n). */
static void mark_sent(cl_submit *s, const size_t *idx, size_t n, uint64_t t) {
    for (size_t j = 0; j < n; j++) {
        if (idx[j] % CL_SAMPLE_EVERY)
            continue;
        size_t k = idx[j] / CL_SAMPLE_EVERY;
        uint64_t zero = 0;
        if (k < s->n_samples)
            atomic_compare_exchange_strong(&s->sent_us[k], &zero, t);
    }
}

/* Appends a protobuf varint. */
static size_t put_varint(uint8_t *p, uint64_t v) {
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

size_t cl_batch_encode(const cl_tx *const *txs, size_t n, uint8_t *buf) {
    size_t len = 0;
    for (size_t j = 0; j < n; j++) {
        len += put_varint(buf + len, txs[j]->len);
        memcpy(buf + len, txs[j]->bytes, txs[j]->len);
        len += txs[j]->len;
    }
    return len;
}

json_t *cl_post_batch(cl_http *c, const uint8_t *body, size_t len, size_t n, int *status,
                      char **errbody) {
    char *ans = NULL;
    size_t al = 0;
    if (errbody)
        *errbody = NULL;
    *status = cl_http_do(c, "POST", "/v1/txs", "application/x-protobuf", body, len, &ans, &al);
    json_t *j = *status == 200 && ans ? json_loadb(ans, al, 0, NULL) : NULL;
    json_t *res = json_object_get(j, "results");
    if (json_is_array(res) && json_array_size(res) == n) {
        free(ans);
        return j;
    }
    json_decref(j);
    if (errbody)
        *errbody = ans;
    else
        free(ans);
    return NULL;
}

/* Sends idx[0..*np) as one batch; keeps in idx the ones to retry. Returns 0 when the request
 * failed as a whole and should be retried, 1 otherwise. */
static int send_batch(cl_submit *s, cl_http *c, size_t *idx, size_t *np, uint8_t *buf,
                      const cl_tx **ptrs, int *nonce_retry) {
    for (size_t j = 0; j < *np; j++)
        ptrs[j] = &s->txs[idx[j]];
    size_t len = cl_batch_encode(ptrs, *np, buf);
    mark_sent(s, idx, *np, cl_now_us());
    char *body = NULL;
    int st;
    json_t *j = cl_post_batch(c, buf, len, *np, &st, &body);
    if (!j) {
        if (st != 503 && st != 429 && st >= 0 && atomic_exchange(&s->first_err_printed, 1) == 0)
            fprintf(stderr, "clearload: batch answered HTTP %d: %.300s\n", st, body ? body : "");
        free(body);
        return 0;
    }
    json_t *res = json_object_get(j, "results");
    size_t keep = 0;
    *nonce_retry = 0;
    for (size_t k = 0; k < *np; k++) {
        const char *code = json_string_value(json_object_get(json_array_get(res, k), "code"));
        code = code ? code : "";
        if (strcmp(code, "ok") == 0 || strcmp(code, "duplicate") == 0) {
            atomic_fetch_add(&s->ok, 1);
        } else if (strcmp(code, "mempool_full") == 0 || strcmp(code, "bad_nonce") == 0) {
            *nonce_retry |= code[0] == 'b';
            idx[keep++] = idx[k];
        } else {
            atomic_fetch_add(&s->failed, 1);
            if (atomic_exchange(&s->first_err_printed, 1) == 0) {
                char *d = json_dumps(json_array_get(res, k), JSON_COMPACT);
                fprintf(stderr, "clearload: tx rejected: %s\n", d ? d : code);
                free(d);
            }
        }
    }
    *np = keep;
    json_decref(j);
    return 1;
}

/* One thread: takes `batch` consecutive txs at a time until none are left. */
void *cl_submit_thread(void *arg) {
    cl_submit *s = arg;
    cl_http c = s->proto;
    c.fd = -1;
    size_t b = s->batch ? s->batch : 1;
    size_t *idx = malloc(b * sizeof *idx);
    size_t maxlen = 0;
    for (size_t i = 0; i < s->n; i++)
        maxlen = s->txs[i].len > maxlen ? s->txs[i].len : maxlen;
    uint8_t *buf = malloc(b * (maxlen + 10));
    const cl_tx **ptrs = malloc(b * sizeof *ptrs);
    for (;;) {
        size_t start = atomic_fetch_add(&s->next, b);
        if (start >= s->n)
            break;
        size_t end = start + b < s->n ? start + b : s->n;
        if (b == 1 || !idx || !buf || !ptrs) {
            for (size_t i = start; i < end; i++) {
                size_t one = i;
                mark_sent(s, &one, 1, cl_now_us());
                if (cl_submit_one(&c, &s->txs[i], &s->retried, &s->first_err_printed))
                    atomic_fetch_add(&s->ok, 1);
                else
                    atomic_fetch_add(&s->failed, 1);
            }
            continue;
        }
        size_t np = 0;
        for (size_t i = start; i < end; i++)
            idx[np++] = i;
        int fails = 0;
        for (int attempt = 0; np > 0 && attempt < 20000; attempt++) {
            int nonce_retry = 0;
            if (!send_batch(s, &c, idx, &np, buf, ptrs, &nonce_retry)) {
                if (++fails > 50)
                    break;
                atomic_fetch_add(&s->retried, np);
                usleep(5000);
                continue;
            }
            if (np) {
                atomic_fetch_add(&s->retried, np);
                usleep(nonce_retry ? 20000 : 2000);
            }
        }
        if (np)
            atomic_fetch_add(&s->failed, np);
    }
    free(idx);
    free(buf);
    free(ptrs);
    cl_http_close(&c);
    return NULL;
}

void *cl_sampler_thread(void *arg) {
    cl_submit *s = arg;
    cl_http c = s->proto;
    c.fd = -1;
    size_t left = s->n_samples;
    uint64_t t0 = cl_now_us();
    while (left > 0 && !atomic_load(&s->stop_sampler) && cl_now_us() - t0 < 600000000u) {
        for (size_t k = 0; k < s->n_samples; k++) {
            uint64_t sent = atomic_load(&s->sent_us[k]);
            if (s->lat_us[k] || sent == 0)
                continue;
            char path[128], hex[65];
            cn_hex_encode(hex, s->txs[k * CL_SAMPLE_EVERY].hash, 32);
            snprintf(path, sizeof path, "/v1/tx/%s", hex);
            char *body = NULL;
            size_t bl;
            int st = cl_http_do(&c, "GET", path, NULL, NULL, 0, &body, &bl);
            if (st == 200) {
                uint64_t now = cl_now_us();
                s->lat_us[k] = now > sent ? now - sent : 1;
                json_t *j = body ? json_loadb(body, bl, 0, NULL) : NULL;
                if (!json_is_integer(json_object_get(j, "code")) ||
                    json_integer_value(json_object_get(j, "code")) != 0)
                    atomic_fetch_add(&s->sample_bad, 1);
                json_decref(j);
                left--;
            }
            free(body);
        }
        usleep(10000);
    }
    cl_http_close(&c);
    return NULL;
}
