/* The liquidation queue (margin_queue.h). */
#include "node/app/margin_queue.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/bytes.h"
#include "node/app/margin.h"
#include "node/app/overlay_scan.h"

#define SIGN UINT64_C(0x8000000000000000)

int64_t cn_mq_rank(int64_t equity, int64_t maintenance) {
    __int128 n = (__int128)equity * 10000, q = n / maintenance;
    if (n % maintenance != 0 && (n < 0) != (maintenance < 0))
        q -= 1; /* floor, not truncation */
    if (q > INT64_MAX)
        return INT64_MAX;
    if (q < INT64_MIN)
        return INT64_MIN;
    return (int64_t)q;
}

static void key_a(uint8_t k[34], const uint8_t id[32]) {
    k[0] = CN_SK_MARGIN;
    k[1] = 'A';
    memcpy(k + 2, id, 32);
}

static void key_q(uint8_t k[42], const uint8_t id[32], int64_t rank) {
    k[0] = CN_SK_MARGIN;
    k[1] = 'Q';
    cn_put_be64(k + 2, (uint64_t)rank ^ SIGN);
    memcpy(k + 10, id, 32);
}

int cn_mq_get(cn_overlay *ov, const uint8_t id[32], int64_t *rank) {
    uint8_t k[34];
    key_a(k, id);
    const uint8_t *v;
    size_t n;
    int x = cn_overlay_get(ov, k, sizeof k, &v, &n);
    if (x <= 0)
        return x;
    if (n != 8)
        return -1;
    *rank = (int64_t)cn_get_be64(v);
    return 1;
}

int cn_mq_del_known(cn_overlay *ov, const uint8_t id[32], int64_t old) {
    uint8_t ka[34], kq[42];
    key_a(ka, id);
    key_q(kq, id, old);
    return cn_overlay_del(ov, kq, sizeof kq) && cn_overlay_del(ov, ka, sizeof ka);
}

int cn_mq_del(cn_overlay *ov, const uint8_t id[32]) {
    int64_t rank;
    int x = cn_mq_get(ov, id, &rank);
    if (x <= 0)
        return x == 0;
    return cn_mq_del_known(ov, id, rank);
}

int cn_mq_put(cn_overlay *ov, const uint8_t id[32], int64_t rank) {
    int64_t old = 0;
    int x = cn_mq_get(ov, id, &old);
    return x >= 0 && cn_mq_put_known(ov, id, x, old, rank);
}

int cn_mq_put_known(cn_overlay *ov, const uint8_t id[32], int queued, int64_t old,
                    int64_t rank) {
    if (queued && old == rank)
        return 1;
    if (queued && !cn_mq_del_known(ov, id, old))
        return 0;
    uint8_t ka[34], kq[42], v[8];
    key_a(ka, id);
    key_q(kq, id, rank);
    cn_put_be64(v, (uint64_t)rank);
    return cn_overlay_put(ov, kq, sizeof kq, "", 0) && cn_overlay_put(ov, ka, sizeof ka, v, 8);
}

long cn_mq_list(cn_overlay *ov, cn_mq_entry **out) {
    const uint8_t lo[2] = {CN_SK_MARGIN, 'Q'};
    const uint8_t hi[2] = {CN_SK_MARGIN, 'R'};
    cn_scan_row *rows;
    *out = NULL;
    long n = cn_overlay_scan(ov, lo, 2, lo, 2, hi, 2, SIZE_MAX, &rows);
    if (n < 0)
        return -1;
    cn_mq_entry *e = calloc(n ? (size_t)n : 1, sizeof *e);
    if (!e) {
        cn_scan_free(rows, n);
        return -1;
    }
    long m = 0;
    for (long i = 0; i < n; i++) {
        if (rows[i].klen != 42)
            continue;
        e[m].rank = (int64_t)(cn_get_be64(rows[i].key + 2) ^ SIGN);
        memcpy(e[m].id, rows[i].key + 10, 32);
        m++;
    }
    cn_scan_free(rows, n);
    *out = e;
    return m;
}
