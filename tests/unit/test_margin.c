/* The margin module (node/app/margin*.c) on a bare block overlay holding a genesis state with
 * the margin contract (contracts/margin.cas) deployed:
 *  - the queue: rank rounding, key order worst first with ties by account id, moves;
 *  - ordered overlay scans merge a committed snapshot, this block's puts and deletes;
 *  - open_position / close_position: field checks, the leverage refusal, scaling of
 *    quantities by decimals, side and limit checks on close, the cash asset refused;
 *  - the end-of-block pass: the per-block cap, the queue persisted in worst-first order and
 *    drained in later blocks, no liquidation at a halted price, the grace rule, the
 *    margin.queued / margin.unqueued events and their per-block bound;
 *  - the withdrawal hook: cash drawn from margin only above initial margin and never while
 *    a position's asset is halted;
 *  - the genesis record of the contract's parameters and the account view.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/bytes.h"
#include "node/app/custody.h"
#include "node/app/margin.h"
#include "node/app/margin_queue.h"
#include "node/app/overlay_scan.h"
#include "node/app/state.h"
#include "node/contract/contract.h"
#include "tests/unit/chainkit.h"
#include "tests/unit/tmpdir.h"

#define USD(x) ((int64_t)(x) * 1000000)
#define T0 1700000000000ULL

static cn_genesis G;
static cn_overlay OV;
static cn_evlist EV;
static uint64_t NOW;
static uint8_t ACC[8][32];

static char *genesis_json(const char *margin) {
    cn_keypair k;
    tk_key(&k, 0);
    char h[65];
    tk_hex(h, k.pub);
    char *buf = malloc(4096);
    snprintf(buf, 4096,
             "{\"chain_id\":\"" TK_CHAIN "\",\"genesis_time\":1700000000000,\n"
             "\"members\":[{\"name\":\"alpha\",\"pubkey\":\"%s\",\"roles\":[\"validator\","
             "\"custodian\",\"governor\",\"approver\",\"oracle\"],\"power\":10}],\n"
             "\"assets\":[\n"
             " {\"symbol\":\"USD\",\"decimals\":6,\"risk_tier\":1,\"initial_margin_bps\":10000,"
             "\"maintenance_margin_bps\":10000,\"reference_price\":1000000},\n"
             " {\"symbol\":\"AAPL\",\"decimals\":4,\"risk_tier\":3,\"initial_margin_bps\":2000,"
             "\"maintenance_margin_bps\":2000,\"reference_price\":100000000},\n"
             " {\"symbol\":\"BTC\",\"decimals\":8,\"risk_tier\":3,\"initial_margin_bps\":5000,"
             "\"maintenance_margin_bps\":2500,\"reference_price\":100000000}],\n"
             "\"params\":{\"margin\":%s},\n"
             "\"contracts\":[{\"name\":\"margin\",\"path\":\"margin.cas\"}]}\n",
             h, margin);
    return buf;
}

/* Block time t: the meta time the contracts' oracle view reads, and a price for asset i. */
static void set_time(uint64_t t) {
    NOW = t;
    cn_key k;
    cn_sk_named(&k, CN_SK_META, "time");
    assert_true(cn_state_put_i64(&OV, &k, (int64_t)t));
}

static void set_price(const char *sym, int64_t p, int state, uint64_t grace_until) {
    cn_oracle_asset A;
    assert_true(cn_oracle_asset_get(&OV, sym, &A) >= 0);
    A.state = state;
    A.price = p;
    A.updated_at = NOW;
    A.grace_until = grace_until;
    assert_true(cn_oracle_asset_put(&OV, sym, &A));
}

static int world_up(const char *margin) {
    assert_true(cn_crypto_init());
    char *j = genesis_json(margin), err[256];
    int ok = cn_genesis_parse(&G, (const uint8_t *)j, strlen(j), "contracts", err, sizeof err);
    free(j);
    if (!ok)
        fprintf(stderr, "genesis: %s\n", err);
    assert_true(ok);
    cn_overlay_init(&OV, NULL);
    assert_true(cn_state_write_genesis(&OV, &G));
    memset(&EV, 0, sizeof EV);
    set_time(T0 + 1000);
    for (unsigned i = 0; i < 8; i++) {
        cn_keypair k;
        tk_key(&k, 10 + i);
        memcpy(ACC[i], k.pub, 32);
        cn_account a;
        memset(&a, 0, sizeof a);
        a.kind = CN_ACCT_CLIENT;
        assert_true(cn_state_put_account(&OV, ACC[i], &a));
    }
    set_price("AAPL", USD(100), CN_OA_LIVE, 0);
    set_price("BTC", USD(100), CN_OA_LIVE, 0);
    return 0;
}

static int setup(void **state) {
    (void)state;
    return world_up("{\"initial_floor_bps\":2000,\"maintenance_floor_bps\":2000,\"fee_bps\":0,"
                    "\"penalty_bps\":500,\"close_factor_bps\":10000,"
                    "\"max_liquidations_per_block\":2}");
}

static int teardown(void **state) {
    (void)state;
    cn_evlist_free(&EV);
    cn_overlay_free(&OV);
    cn_genesis_free(&G);
    return 0;
}

/* Mints amount USD to account i and moves it into margin cash. */
static void fund(unsigned i, int64_t amount) {
    int64_t b;
    assert_true(cn_state_get_balance(&OV, ACC[i], "USD", &b) >= 0);
    assert_true(cn_state_set_balance(&OV, ACC[i], "USD", b + amount));
    cn_crt rt;
    assert_int_equal(cn_crt_open(&rt, &OV, &G, CN_MARGIN_NAME, 1, (int64_t)NOW), 1);
    cn_crt_out out;
    assert_int_equal(cn_crt_run(&rt, ACC[i], "deposit", &amount, 1, CN_CRT_VIEW_GAS, 0, amount,
                                &out),
                     1);
    assert_int_equal(out.res.status, CN_VM_OK);
    char msg[160];
    assert_int_equal(cn_crt_apply(&rt, &out.vo, msg, sizeof msg), CN_TX_OK);
    cn_crt_out_free(&out);
    cn_crt_close(&rt);
}

/* Runs an open (side 1 long, 2 short) or close tx as account i; returns its code. */
static cn_txerr trade(unsigned i, int open, const char *sym, int side, uint64_t qty,
                      uint64_t limit, cn_exec_result *r) {
    Clearnode__V1__Tx tx;
    Clearnode__V1__OpenPosition op;
    Clearnode__V1__ClosePosition cp;
    clearnode__v1__tx__init(&tx);
    clearnode__v1__open_position__init(&op);
    clearnode__v1__close_position__init(&cp);
    if (open) {
        op.asset = (char *)(uintptr_t)sym;
        op.side = (Clearnode__V1__Side)side;
        op.quantity = qty;
        op.limit_price = limit;
        tx.kind_case = CLEARNODE__V1__TX__KIND_OPEN_POSITION;
        tx.open_position = &op;
    } else {
        cp.asset = (char *)(uintptr_t)sym;
        cp.side = (Clearnode__V1__Side)side;
        cp.quantity = qty;
        cp.limit_price = limit;
        tx.kind_case = CLEARNODE__V1__TX__KIND_CLOSE_POSITION;
        tx.close_position = &cp;
    }
    char msg[200];
    cn_txerr e = cn_margin_validate(&tx, msg, sizeof msg);
    if (e) {
        snprintf(r->message, sizeof r->message, "%s", msg);
        return e;
    }
    memset(r, 0, sizeof *r);
    size_t mark = cn_overlay_mark(&OV);
    cn_margin_exec(&OV, &G, 1, NOW, ACC[i], &tx, r);
    if (r->code)
        cn_overlay_rollback(&OV, mark);
    cn_overlay_release(&OV);
    return r->code;
}

static int64_t view(const char *entry, unsigned i, int64_t extra, int nextra) {
    cn_crt rt;
    assert_int_equal(cn_crt_open(&rt, &OV, &G, CN_MARGIN_NAME, 1, (int64_t)NOW), 1);
    int64_t a[6], v;
    cn_margin_words(ACC[i], a);
    a[4] = extra;
    a[5] = 0;
    int x = cn_crt_view(&rt, entry, a, (uint32_t)(4 + nextra), &v);
    cn_crt_close(&rt);
    assert_int_equal(x, 1);
    return v;
}
#define QTY(i, asset) view_pos(i, asset, 0)
static int64_t view_pos(unsigned i, int64_t asset, int64_t field) {
    cn_crt rt;
    assert_int_equal(cn_crt_open(&rt, &OV, &G, CN_MARGIN_NAME, 1, (int64_t)NOW), 1);
    int64_t a[6], v;
    cn_margin_words(ACC[i], a);
    a[4] = asset;
    a[5] = field;
    assert_int_equal(cn_crt_view(&rt, "position", a, 6, &v), 1);
    cn_crt_close(&rt);
    return v;
}

static size_t count_events(const char *type) {
    size_t n = 0;
    for (size_t i = 0; i < EV.n; i++)
        n += strcmp(EV.ev[i].type, type) == 0;
    return n;
}

/* The value of attribute key of the first event of type in this block's events. */
static const char *event_attr(const char *type, const char *key) {
    for (size_t i = 0; i < EV.n; i++) {
        if (strcmp(EV.ev[i].type, type) != 0)
            continue;
        for (size_t j = 0; j < EV.ev[i].n; j++)
            if (strcmp(EV.ev[i].attrs[j].key, key) == 0)
                return EV.ev[i].attrs[j].value;
    }
    return "";
}

static void end_block(void) {
    cn_evlist_free(&EV);
    memset(&EV, 0, sizeof EV);
    assert_true(cn_margin_end_block(&OV, &G, 1, NOW, &EV));
}

/* ---- the queue ------------------------------------------------------------------------- */

static void test_queue_rank_and_order(void **state) {
    (void)state;
    assert_int_equal(cn_mq_rank(1650, 1662), 9927);   /* floor(16500000 / 1662) */
    assert_int_equal(cn_mq_rank(-1, 3), -3334);       /* floor, not truncation */
    assert_int_equal(cn_mq_rank(-3000, 3000), -10000);
    assert_int_equal(cn_mq_rank(INT64_MAX, 1), INT64_MAX);
    assert_int_equal(cn_mq_rank(INT64_MIN, 1), INT64_MIN);
    uint8_t a[32], b[32], c[32];
    memset(a, 0x01, 32);
    memset(b, 0x02, 32);
    memset(c, 0x03, 32);
    assert_true(cn_mq_put(&OV, c, -5));
    assert_true(cn_mq_put(&OV, b, 9000));
    assert_true(cn_mq_put(&OV, a, 9000));
    cn_mq_entry *q;
    long n = cn_mq_list(&OV, &q);
    assert_int_equal(n, 3);
    assert_memory_equal(q[0].id, c, 32); /* worst first */
    assert_memory_equal(q[1].id, a, 32); /* tie: by id */
    assert_memory_equal(q[2].id, b, 32);
    assert_int_equal(q[0].rank, -5);
    free(q);
    assert_true(cn_mq_put(&OV, c, 9999)); /* moving keeps one entry */
    assert_true(cn_mq_del(&OV, a));
    assert_true(cn_mq_del(&OV, a)); /* absent: no-op */
    n = cn_mq_list(&OV, &q);
    assert_int_equal(n, 2);
    assert_memory_equal(q[0].id, b, 32);
    assert_memory_equal(q[1].id, c, 32);
    int64_t r;
    assert_int_equal(cn_mq_get(&OV, c, &r), 1);
    assert_int_equal(r, 9999);
    assert_int_equal(cn_mq_get(&OV, a, &r), 0);
    free(q);
}

/* ---- ordered scans over a snapshot and a block overlay --------------------------------- */

static void test_overlay_scan_merges_snapshot(void **state) {
    (void)state;
    tdir t;
    assert_int_equal(tdir_make_prefixed(&t, "cn-mscan-"), 0);
    cn_store *s = NULL;
    assert_int_equal(cn_store_open(&s, t.data, NULL), CN_STORE_OK);
    cn_store_wtxn *w;
    assert_int_equal(cn_store_begin(s, &w), CN_STORE_OK);
    const char *committed[] = {"xa", "xc", "xe", "xg", "y0"};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(cn_store_put(w, CN_DB_STATE, committed[i], 2, "s", 1), CN_STORE_OK);
    assert_int_equal(cn_store_commit(w), CN_STORE_OK);
    cn_store_rtxn *r;
    assert_int_equal(cn_store_read_begin(s, &r), CN_STORE_OK);
    cn_overlay ov;
    cn_overlay_init(&ov, r);
    assert_true(cn_overlay_put(&ov, "xb", 2, "o", 1));  /* new key between */
    assert_true(cn_overlay_put(&ov, "xe", 2, "O", 1));  /* overwrites */
    assert_true(cn_overlay_del(&ov, "xc", 2));          /* hides a committed key */
    assert_true(cn_overlay_put(&ov, "xz", 2, "o", 1));  /* outside [xb, xg) */
    cn_scan_row *rows;
    long n = cn_overlay_scan(&ov, (const uint8_t *)"x", 1, (const uint8_t *)"xb", 2,
                             (const uint8_t *)"xg", 2, SIZE_MAX, &rows);
    assert_int_equal(n, 2);
    assert_memory_equal(rows[0].key, "xb", 2);
    assert_memory_equal(rows[1].key, "xe", 2);
    assert_memory_equal(rows[1].val, "O", 1);
    cn_scan_free(rows, n);
    n = cn_overlay_scan(&ov, (const uint8_t *)"x", 1, (const uint8_t *)"x", 1, NULL, 0, 3,
                        &rows);
    assert_int_equal(n, 3); /* capped at max: xa, xb, xe */
    assert_memory_equal(rows[2].key, "xe", 2);
    cn_scan_free(rows, n);
    cn_overlay_free(&ov);
    cn_store_read_end(r);
    cn_store_close(s);
    tdir_remove(&t);
}

/* ---- transactions ---------------------------------------------------------------------- */

static void test_open_close_rules(void **state) {
    (void)state;
    cn_exec_result r;
    fund(0, USD(2500));
    fund(1, USD(2000));
    /* 100 AAPL (4 decimals) at 100 USD with 2500 USD: L = 4 */
    assert_int_equal(trade(0, 1, "AAPL", 1, 1000000, 0, &r), CN_TX_OK);
    assert_string_equal(r.events[0].type, "margin.open");
    assert_int_equal(QTY(0, 1), 100000000); /* scaled to 10^-6 units */
    assert_int_equal(view_pos(0, 1, 2), 93750000);
    /* L = 5 with m = 20%: refused, nothing applied */
    assert_int_equal(trade(1, 1, "AAPL", 1, 1000000, 0, &r), CN_TX_MARGIN);
    assert_non_null(strstr(r.message, "leverage"));
    assert_int_equal(view("cash", 1, 0, 0), USD(2000));
    /* field and state checks */
    assert_int_equal(trade(1, 1, "USD", 1, 1, 0, &r), CN_TX_INVALID_FIELD);
    assert_int_equal(trade(1, 1, "NOPE", 1, 1, 0, &r), CN_TX_UNKNOWN_ASSET);
    assert_int_equal(trade(1, 1, "AAPL", 0, 1, 0, &r), CN_TX_INVALID_FIELD);
    assert_int_equal(trade(1, 1, "AAPL", 1, 0, 0, &r), CN_TX_INVALID_FIELD);
    assert_int_equal(trade(1, 1, "AAPL", 1, 100, USD(99), &r), CN_TX_PRICE_LIMIT);
    assert_int_equal(trade(1, 1, "BTC", 1, 99, 0, &r), CN_TX_INVALID_FIELD); /* 8 decimals */
    assert_int_equal(trade(1, 1, "BTC", 1, 100, 0, &r), CN_TX_OK);
    assert_int_equal(QTY(1, 2), 1);
    assert_int_equal(trade(1, 0, "BTC", 2, 0, 0, &r), CN_TX_NO_POSITION); /* wrong side */
    assert_int_equal(trade(1, 0, "AAPL", 1, 0, 0, &r), CN_TX_NO_POSITION);
    /* close half, then the rest with quantity 0; a limit the price does not meet */
    assert_int_equal(trade(0, 0, "AAPL", 1, 500000, USD(101), &r), CN_TX_PRICE_LIMIT);
    assert_int_equal(trade(0, 0, "AAPL", 1, 500000, USD(100), &r), CN_TX_OK);
    assert_string_equal(r.events[0].type, "margin.close");
    assert_int_equal(QTY(0, 1), 50000000);
    assert_int_equal(trade(0, 0, "AAPL", 1, 0, 0, &r), CN_TX_OK);
    assert_int_equal(QTY(0, 1), 0);
    assert_int_equal(view("cash", 0, 0, 0), USD(2500));
    /* a halted asset takes no new position */
    set_price("AAPL", USD(100), CN_OA_HALTED, 0);
    assert_int_equal(trade(0, 1, "AAPL", 1, 100, 0, &r), CN_TX_HALTED);
}

/* ---- the end-of-block pass ------------------------------------------------------------- */

/* Five longs of 100 AAPL at 100 USD with deposits 2100 (worst) .. 2500 USD. */
static void five_longs(void) {
    cn_exec_result r;
    const int64_t dep[5] = {2500, 2100, 2300, 2100, 2400};
    for (unsigned i = 0; i < 5; i++) {
        fund(i, USD(dep[i]));
        assert_int_equal(trade(i, 1, "AAPL", 1, 1000000, 0, &r), CN_TX_OK);
    }
}

static void test_pass_cap_and_worst_first(void **state) {
    (void)state;
    five_longs();
    end_block();
    assert_int_equal(count_events("margin.liquidation"), 0);
    /* -8%: every account crosses (the best, 2500 USD, at 93.75) */
    set_time(NOW + 1000);
    set_price("AAPL", USD(92), CN_OA_LIVE, 0);
    end_block();
    assert_int_equal(count_events("margin.liquidation"), 2); /* the cap */
    /* all five got their margin call when they entered the queue; the two liquidated ones
     * were restored above maintenance and left it */
    assert_int_equal(count_events("margin.queued"), 5);
    assert_int_equal(count_events("margin.unqueued"), 2);
    assert_string_equal(event_attr("margin.pass", "entered_queue"), "5");
    assert_string_equal(event_attr("margin.pass", "left_queue"), "2");
    assert_string_equal(event_attr("margin.pass", "queued"), "3");
    assert_string_equal(event_attr("margin.pass", "queue_events_unlisted"), "0");
    /* the two 2100 USD accounts (1 and 3) went first, in account id order */
    unsigned first = memcmp(ACC[1], ACC[3], 32) < 0 ? 1 : 3, second = first == 1 ? 3 : 1;
    char hex[65];
    cn_hex_encode(hex, ACC[first], 32);
    size_t k = 0;
    for (; k < EV.n && strcmp(EV.ev[k].type, "margin.liquidation"); k++)
        ;
    assert_string_equal(EV.ev[k].attrs[0].value, hex);
    assert_true(QTY(first, 1) < 100000000 && QTY(second, 1) < 100000000);
    assert_int_equal(QTY(2, 1), 100000000);
    /* the rest is queued in state, worst first */
    cn_mq_entry *q;
    long n = cn_mq_list(&OV, &q);
    assert_int_equal(n, 3);
    assert_memory_equal(q[0].id, ACC[2], 32);
    assert_memory_equal(q[1].id, ACC[4], 32);
    assert_memory_equal(q[2].id, ACC[0], 32);
    assert_true(q[0].rank < q[1].rank && q[1].rank < q[2].rank);
    free(q);
    /* next block, no price change: the queue drains on */
    set_time(NOW + 1000);
    end_block();
    assert_int_equal(count_events("margin.liquidation"), 2);
    assert_int_equal(count_events("margin.queued"), 0); /* one call per entry, not per block */
    assert_int_equal(count_events("margin.unqueued"), 2);
    assert_true(QTY(2, 1) < 100000000 && QTY(4, 1) < 100000000);
    assert_int_equal(QTY(0, 1), 100000000);
    set_time(NOW + 1000);
    end_block();
    assert_int_equal(count_events("margin.liquidation"), 1);
    assert_int_equal(cn_mq_list(&OV, &q), 0);
    free(q);
    /* every step sold at 92 USD less 5% and restored the initial requirement */
    for (unsigned i = 0; i < 5; i++) {
        int64_t e = view("requirements", i, 0, 1), im = view("requirements", i, 1, 1);
        assert_true(e >= im);
    }
}

static void test_pass_halt_and_grace(void **state) {
    (void)state;
    five_longs();
    set_time(NOW + 1000);
    set_price("AAPL", USD(92), CN_OA_HALTED, 0); /* the breaker froze 92 */
    end_block();
    assert_int_equal(count_events("margin.liquidation"), 0);
    /* the margin calls are out although nothing can be sold at the halted price */
    assert_int_equal(count_events("margin.queued"), 5);
    assert_int_equal(count_events("margin.call"), 0);
    char hex[65];
    cn_hex_encode(hex, ACC[1], 32);
    int seen = 0;
    for (size_t i = 0; i < EV.n; i++) {
        if (strcmp(EV.ev[i].type, "margin.queued") || strcmp(EV.ev[i].attrs[0].value, hex))
            continue;
        /* 2100 USD bought 100 AAPL at 100: at 92 equity 1300, maintenance 20% of 9200 */
        assert_string_equal(EV.ev[i].attrs[1].value, "1300000000");
        assert_string_equal(EV.ev[i].attrs[2].value, "1840000000");
        assert_string_equal(EV.ev[i].attrs[3].value, "7065");
        seen++;
    }
    assert_int_equal(seen, 1);
    cn_mq_entry *q;
    assert_int_equal(cn_mq_list(&OV, &q), 5); /* queued, waiting for the resume */
    free(q);
    /* resumed at 92 inside a grace period: only E < 50% of MM may go. At 92 equity is
     * 2100 - 800 = 1300 USD against maintenance 1840: none is that deep. */
    set_time(NOW + 1000);
    set_price("AAPL", USD(92), CN_OA_LIVE, NOW + 60000);
    end_block();
    assert_int_equal(count_events("margin.liquidation"), 0);
    /* at 87: 2100 - 1300 = 800 < 870 (half of 1740): the two 2100 accounts only */
    set_time(NOW + 1000);
    set_price("AAPL", USD(87), CN_OA_LIVE, NOW + 60000);
    end_block();
    assert_int_equal(count_events("margin.liquidation"), 2);
    assert_true(QTY(1, 1) < 100000000 && QTY(3, 1) < 100000000);
    assert_int_equal(QTY(2, 1), 100000000);
    /* a minute later the price is stale: still nothing */
    uint64_t grace_end = NOW + 60000;
    set_time(grace_end);
    end_block();
    assert_int_equal(count_events("margin.liquidation"), 0);
    /* grace over and a fresh price: the rest go (cap 2 per block) */
    set_price("AAPL", USD(87), CN_OA_LIVE, grace_end);
    end_block();
    assert_int_equal(count_events("margin.liquidation"), 2);
}

/* A crash that crosses more accounts than the end-of-block receipt can list: the first
 * 1,000 margin calls are listed, the rest counted, and every account is queued. */
static void test_queue_events_bounded(void **state) {
    (void)state;
    enum { N = 1005 };
    cn_exec_result r;
    for (unsigned i = 0; i < N; i++) {
        cn_keypair k;
        tk_key(&k, 1000 + i);
        cn_account a;
        memset(&a, 0, sizeof a);
        a.kind = CN_ACCT_CLIENT;
        assert_true(cn_state_put_account(&OV, k.pub, &a));
        memcpy(ACC[7], k.pub, 32);
        fund(7, USD(2100));
        assert_int_equal(trade(7, 1, "AAPL", 1, 1000000, 0, &r), CN_TX_OK);
    }
    end_block();
    set_time(NOW + 1000);
    set_price("AAPL", USD(92), CN_OA_HALTED, 0);
    end_block();
    assert_int_equal(count_events("margin.liquidation"), 0);
    assert_int_equal(count_events("margin.queued"), 1000);
    assert_string_equal(event_attr("margin.pass", "entered_queue"), "1005");
    assert_string_equal(event_attr("margin.pass", "queue_events_unlisted"), "5");
    cn_mq_entry *q;
    assert_int_equal(cn_mq_list(&OV, &q), N);
    free(q);
}

/* ---- the withdrawal hook ---------------------------------------------------------------- */

static void test_withdraw_hook(void **state) {
    (void)state;
    cn_exec_result r;
    fund(0, USD(5000));
    assert_int_equal(trade(0, 1, "AAPL", 1, 1000000, 0, &r), CN_TX_OK); /* IM 2000 USD */
    char msg[200];
    assert_true(cn_state_set_balance(&OV, ACC[0], "USD", USD(100)));
    /* covered by the available balance: margin untouched */
    assert_int_equal(cn_margin_withdraw_ok(&OV, &G, 1, NOW, ACC[0], "USD", USD(100), msg,
                                           sizeof msg),
                     1);
    assert_int_equal(view("cash", 0, 0, 0), USD(-5000));
    /* 3000 more from margin keeps equity 2000 = IM: allowed and moved */
    assert_int_equal(cn_margin_withdraw_ok(&OV, &G, 1, NOW, ACC[0], "USD", USD(3100), msg,
                                           sizeof msg),
                     1);
    int64_t b;
    assert_true(cn_state_get_balance(&OV, ACC[0], "USD", &b) == 1);
    assert_int_equal(b, USD(3100));
    assert_int_equal(view("cash", 0, 0, 0), USD(-8000));
    /* one micro-USD beyond: refused */
    assert_int_equal(cn_margin_withdraw_ok(&OV, &G, 1, NOW, ACC[0], "USD", USD(3100) + 1, msg,
                                           sizeof msg),
                     0);
    assert_non_null(strstr(msg, "initial requirement"));
    /* a halted position freezes the margin account, even for gains */
    assert_true(cn_state_set_balance(&OV, ACC[0], "USD", 0));
    set_price("AAPL", USD(200), CN_OA_HALTED, 0);
    assert_int_equal(cn_margin_withdraw_ok(&OV, &G, 1, NOW, ACC[0], "USD", 1, msg, sizeof msg),
                     0);
    assert_non_null(strstr(msg, "AAPL, halted"));
    /* other assets are not margin collateral */
    assert_int_equal(cn_margin_withdraw_ok(&OV, &G, 1, NOW, ACC[0], "BTC", 1, msg, sizeof msg),
                     0);
    assert_non_null(strstr(msg, "available 0 BTC"));
}

/* ---- genesis and the account view ------------------------------------------------------ */

static void test_genesis_record_and_view(void **state) {
    (void)state;
    uint8_t cid[32], k[64];
    cn_contract_id(CN_MARGIN_NAME, cid);
    k[0] = 'k';
    memcpy(k + 1, cid, 32);
    k[33] = 'g';
    const uint8_t *v;
    size_t n;
    assert_int_equal(cn_overlay_get(&OV, k, 34, &v, &n), 1);
    assert_int_equal(n, 96);
    assert_int_equal((int64_t)cn_get_be64(v), 2000);       /* im_long */
    assert_int_equal((int64_t)cn_get_be64(v + 24), 3000);  /* mm_short default */
    assert_int_equal((int64_t)cn_get_be64(v + 40), 500);   /* penalty */
    assert_int_equal((int64_t)cn_get_be64(v + 48), 10000); /* close factor */
    cn_exec_result r;
    fund(0, USD(2500));
    assert_int_equal(trade(0, 1, "AAPL", 1, 1000000, 0, &r), CN_TX_OK);
    cn_margin_account a;
    assert_int_equal(cn_margin_account_get(&OV, &G, 1, NOW, ACC[0], &a), 1);
    assert_true(a.exists && a.evaluable);
    assert_int_equal(a.equity, USD(2500));
    assert_int_equal(a.initial, USD(2000));
    assert_int_equal(a.maintenance, USD(2000));
    assert_int_equal(a.npos, 1);
    assert_int_equal(a.pos[0].liq_price, 93750000);
    assert_int_equal(a.state, CN_MS_OK);
    /* at 93 USD: equity 1800 < maintenance 1860 */
    set_price("AAPL", USD(93), CN_OA_LIVE, 0);
    assert_int_equal(cn_margin_account_get(&OV, &G, 1, NOW, ACC[0], &a), 1);
    assert_int_equal(a.equity, USD(1800));
    assert_int_equal(a.state, CN_MS_LIQUIDATING);
    set_price("AAPL", USD(93), CN_OA_STALE, 0);
    assert_int_equal(cn_margin_account_get(&OV, &G, 1, NOW, ACC[0], &a), 1);
    assert_int_equal(a.state, CN_MS_HALTED);
}

/* A genesis deploying the margin contract needs a 6-decimal cash asset first. */
static void test_genesis_needs_cash_asset(void **state) {
    (void)state;
    char *j = genesis_json("{}"), err[256];
    char *p = strstr(j, "\"decimals\":6");
    assert_non_null(p);
    p[11] = '2';
    cn_genesis g;
    assert_false(cn_genesis_parse(&g, (const uint8_t *)j, strlen(j), "contracts", err,
                                  sizeof err));
    assert_non_null(strstr(err, "cash asset"));
    cn_genesis_free(&g);
    free(j);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_queue_rank_and_order, setup, teardown),
        cmocka_unit_test(test_overlay_scan_merges_snapshot),
        cmocka_unit_test_setup_teardown(test_open_close_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pass_cap_and_worst_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pass_halt_and_grace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_events_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_withdraw_hook, setup, teardown),
        cmocka_unit_test_setup_teardown(test_genesis_record_and_view, setup, teardown),
        cmocka_unit_test(test_genesis_needs_cash_asset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
