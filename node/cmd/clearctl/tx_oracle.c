/* `clearctl tx oracle-report --asset A --price P [--observed-at MS] --round N` (tx_oracle.h).
 * The node checks the bounds, freshness and round order when the report executes
 * (docs/oracle.md); here only the formats are checked. */
#include "node/cmd/clearctl/tx_oracle.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "node/cmd/clearctl/clearctl.h"
#include "proto/codec.h"

int clearctl_oracle_kind(const char *kind) { return strcmp(kind, "oracle-report") == 0; }

int clearctl_oracle_check(const char *kind, const char *asset, const clearctl_oracle_flags *f,
                          clearctl_oracle_vals *v) {
    memset(v, 0, sizeof *v);
    if (!clearctl_oracle_kind(kind)) {
        const char *bad = f->price ? "--price" : f->observed_at ? "--observed-at"
                                   : f->round     ? "--round"
                                                  : NULL;
        if (bad)
            fprintf(stderr, "error: %s does not apply to %s\n", bad, kind);
        return bad == NULL;
    }
    if (asset == NULL || f->price == NULL || f->round == NULL) {
        fprintf(stderr, "error: %s is required\n",
                asset == NULL ? "--asset" : f->price == NULL ? "--price" : "--round");
        return 0;
    }
    if (!clearctl_parse_asset("--asset", asset) ||
        !clearctl_parse_u64("--price", f->price, 1, INT64_MAX, &v->price) ||
        !clearctl_parse_u64("--round", f->round, 1, UINT64_MAX, &v->round))
        return 0;
    if (f->observed_at) {
        if (!clearctl_parse_u64("--observed-at", f->observed_at, 1, INT64_MAX, &v->observed_at))
            return 0;
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        v->observed_at = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    }
    return 1;
}

int clearctl_oracle_encode(const char *asset, const clearctl_oracle_vals *v,
                           const char *chain_id, uint64_t nonce, uint8_t **out, size_t *len) {
    Clearnode__V1__Tx tx;
    Clearnode__V1__OracleReport o;
    clearnode__v1__tx__init(&tx);
    clearnode__v1__oracle_report__init(&o);
    o.asset = (char *)(uintptr_t)asset;
    o.price = v->price;
    o.observed_at = v->observed_at;
    o.round = v->round;
    tx.chain_id = (char *)(uintptr_t)chain_id;
    tx.nonce = nonce;
    tx.kind_case = CLEARNODE__V1__TX__KIND_ORACLE_REPORT;
    tx.oracle_report = &o;
    return cn_encode(&tx.base, CN_CAP_TX, out, len);
}
