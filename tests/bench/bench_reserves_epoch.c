/* The on-chain reserves epoch step (node/app/reserves.c): N client accounts with two asset
 * balances each in a block overlay, then cn_reserves_end_block at an epoch boundary (collect
 * accounts, read balance + locked per asset, derive account hashes and salts, build the tree,
 * store the leaf set and the record) and one rebuild from the stored leaf set (what a proof
 * request costs). Usage: bench_reserves_epoch [N] (default 100000). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_clock.h"
#include "crypto/schnorr.h"
#include "node/app/reserves.h"
#include "node/app/state.h"

int main(int argc, char **argv) {
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 100000;
    if (!cn_crypto_init() || n == 0)
        return 1;
    cn_genesis g;
    memset(&g, 0, sizeof g);
    cn_genesis_default_params(&g.params);
    g.params.reserves_epoch_blocks = 10;
    snprintf(g.chain_id, sizeof g.chain_id, "bench-chain");
    cn_gen_asset assets[2];
    memset(assets, 0, sizeof assets);
    snprintf(assets[0].symbol, sizeof assets[0].symbol, "USD");
    snprintf(assets[1].symbol, sizeof assets[1].symbol, "AAPL");
    g.assets = assets;
    g.n_assets = 2;
    cn_overlay ov;
    cn_overlay_init(&ov, NULL);
    cn_account a;
    memset(&a, 0, sizeof a);
    a.kind = CN_ACCT_CLIENT;
    uint8_t pub[32];
    for (uint64_t i = 0; i < n; i++) {
        cn_sha256(pub, &i, sizeof i);
        if (!cn_state_put_account(&ov, pub, &a) ||
            !cn_state_set_balance(&ov, pub, "USD", (int64_t)(i % 1000000 + 1)) ||
            (i % 3 == 0 && !cn_state_set_balance(&ov, pub, "AAPL", (int64_t)(i % 97 + 1))))
            return 1;
    }
    cn_evlist ev = {0};
    uint64_t t0 = bench_now_ns();
    int ok = cn_reserves_end_block(&ov, &g, 10, &ev);
    uint64_t t1 = bench_now_ns();
    cn_sumtree *t = NULL;
    ok = ok && cn_reserves_rebuild(&ov, g.chain_id, 1, &t) == 1;
    uint64_t t2 = bench_now_ns();
    cn_sumtree_free(t);
    cn_evlist_free(&ev);
    cn_overlay_free(&ov);
    if (!ok) {
        fprintf(stderr, "bench_reserves_epoch: failed\n");
        return 1;
    }
    printf("reserves epoch step, %llu accounts x 2 assets: %llu ms (end of block), "
           "%llu ms (rebuild for a proof)\n",
           (unsigned long long)n, (unsigned long long)((t1 - t0) / 1000000),
           (unsigned long long)((t2 - t1) / 1000000));
    return 0;
}
