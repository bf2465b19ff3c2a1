/* The margin module's gauges for GET /metrics (margin_json.h): what an operator watches in a
 * crash: how many accounts wait for liquidation, and how far the insurance fund still
 * covers shortfalls before losses are booked as bad debt. */
#include "node/app/margin_json.h"

#include "node/app/margin.h"
#include "node/app/margin_store.h"
#include "node/app/overlay_cursor.h"
#include "node/app/state.h"

/* One of the contract's global amounts ("H" house cash, "I" insurance, "B" bad debt); an
 * absent key is 0, as the contract reads it. Returns 1, or 0 on a storage failure. */
static int global(cn_overlay *ov, const uint8_t cid[32], char which, int64_t *v) {
    uint8_t key = (uint8_t)which;
    return cn_margin_word(ov, cid, &key, 1, 0, v) >= 0;
}

/* Accounts in the liquidation queue: its 'A' keys, one per account, counted by a cursor so a
 * long queue is not copied on every scrape. -1 on a storage failure. */
static long queue_length(cn_overlay *ov) {
    const uint8_t prefix[2] = {CN_SK_MARGIN, 'A'};
    cn_ov_cursor c;
    if (!cn_ov_cursor_open(&c, ov, NULL, 0, prefix, sizeof prefix))
        return -1;
    long n = 0;
    const uint8_t *k, *v;
    size_t kl, vl;
    int x;
    while ((x = cn_ov_cursor_next(&c, &k, &kl, &v, &vl)) > 0)
        n++;
    cn_ov_cursor_close(&c);
    return x < 0 ? -1 : n;
}

void cn_margin_write_metrics(cn_store *store, struct evbuffer *out) {
    cn_store_rtxn *r;
    if (cn_store_read_begin(store, &r) != CN_STORE_OK)
        return;
    cn_overlay ov;
    cn_overlay_init(&ov, r);
    uint8_t cid[32];
    int64_t house, fund, bad;
    long queued;
    if (cn_margin_deployed(&ov, cid) > 0 && global(&ov, cid, 'H', &house) &&
        global(&ov, cid, 'I', &fund) && global(&ov, cid, 'B', &bad) &&
        (queued = queue_length(&ov)) >= 0)
        evbuffer_add_printf(
            out,
            "# HELP clearnode_margin_queue_accounts Accounts below maintenance waiting in the "
            "liquidation queue.\n# TYPE clearnode_margin_queue_accounts gauge\n"
            "clearnode_margin_queue_accounts %ld\n"
            "# HELP clearnode_margin_insurance_fund Insurance fund (fees and penalties), in units "
            "of the cash asset.\n# TYPE clearnode_margin_insurance_fund gauge\n"
            "clearnode_margin_insurance_fund %lld\n"
            "# HELP clearnode_margin_bad_debt Shortfalls the insurance fund could not cover, in "
            "units of the cash asset.\n# TYPE clearnode_margin_bad_debt gauge\n"
            "clearnode_margin_bad_debt %lld\n"
            "# HELP clearnode_margin_house_cash The house book, counterparty of every trade, in "
            "units of the cash asset.\n# TYPE clearnode_margin_house_cash gauge\n"
            "clearnode_margin_house_cash %lld\n",
            queued, (long long)fund, (long long)bad, (long long)house);
    cn_overlay_free(&ov);
    cn_store_read_end(r);
}
