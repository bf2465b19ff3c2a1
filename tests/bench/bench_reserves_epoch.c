/* The on-chain reserves epoch step (node/app/reserves.c): N client accounts with two asset
 * balances each in a block overlay, then cn_reserves_end_block at an epoch boundary (collect
 * accounts, read balance + locked per asset, derive account hashes and salts, build the tree,
 * store the leaf set and the record) and one rebuild from the stored leaf set (what a proof
 * request costs). Two runs over the same ledger: without the margin contract, and with it
 * deployed and half of the accounts holding margin cash (a quarter positive, a quarter loans,
 * written in the contract's storage layout, docs/margin.md), so the step also reads each
 * account's "c" record. That addition is small next to the hashing, so the run also times
 * the margin-cash reads alone (one per account, the lookups the step adds). Run from the
 * repository root (the contract is assembled from contracts/margin.cas).
 * Usage: bench_reserves_epoch [N] (default 100000). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_clock.h"
#include "contracts/asm/asm.h"
#include "crypto/bytes.h"
#include "crypto/schnorr.h"
#include "node/app/margin.h"
#include "node/app/margin_store.h"
#include "node/app/reserves.h"
#include "node/app/state.h"
#include "node/contract/chost.h"
#include "node/contract/contract.h"

/* The accounts' ledger; with `code`, the margin contract and every other account's cash. */
static int fill(cn_overlay *ov, uint64_t n, const uint8_t *code, size_t clen) {
    cn_account a;
    memset(&a, 0, sizeof a);
    a.kind = CN_ACCT_CLIENT;
    uint8_t pub[32], cid[32], key[33], k[CN_CSTORE_PREFIX_LEN + CN_VM_MAX_KEY], v[16];
    cn_contract_id(CN_MARGIN_NAME, cid);
    if (code) {
        cn_key ck;
        cn_sk_named(&ck, CN_SK_CONTRACT, CN_MARGIN_NAME);
        if (!cn_overlay_put(ov, ck.b, ck.len, code, clen))
            return 0;
    }
    for (uint64_t i = 0; i < n; i++) {
        cn_sha256(pub, &i, sizeof i);
        if (!cn_state_put_account(ov, pub, &a) ||
            !cn_state_set_balance(ov, pub, "USD", (int64_t)(i % 1000000 + 1)) ||
            (i % 3 == 0 && !cn_state_set_balance(ov, pub, "AAPL", (int64_t)(i % 97 + 1))))
            return 0;
        if (!code || i % 2 == 0)
            continue;
        int64_t cash = (int64_t)(i % 500000 + 1) * (i % 4 == 1 ? 1 : -1);
        key[0] = 'c';
        memcpy(key + 1, pub, 32);
        cn_put_be64(v, (uint64_t)cash);
        cn_put_be64(v + 8, 1000000000u);
        if (!cn_overlay_put(ov, k, cn_cstore_key(k, cid, key, sizeof key), v, sizeof v))
            return 0;
    }
    return 1;
}

/* The margin-cash reads the step adds, alone: one per account. Returns the ns, 0 on failure. */
static uint64_t margin_reads(cn_overlay *ov, uint64_t n) {
    uint8_t cid[32], (*pub)[32] = malloc(n * sizeof *pub);
    if (!pub || cn_margin_deployed(ov, cid) != 1) {
        free(pub);
        return 0;
    }
    for (uint64_t i = 0; i < n; i++)
        cn_sha256(pub[i], &i, sizeof i);
    uint64_t t0 = bench_now_ns(), t1;
    int ok = 1;
    for (uint64_t i = 0; ok && i < n; i++) {
        int64_t m;
        ok = cn_margin_cash_claim(ov, cid, pub[i], &m) == 1;
    }
    t1 = bench_now_ns();
    free(pub);
    return ok ? t1 - t0 : 0;
}

/* One epoch step and one rebuild, and with `code` the margin reads alone; times in ms. */
static int run(const cn_genesis *g, uint64_t n, const uint8_t *code, size_t clen,
               uint64_t *step_ms, uint64_t *rebuild_ms, uint64_t *reads_ms) {
    cn_overlay ov;
    cn_overlay_init(&ov, NULL);
    cn_evlist ev = {0};
    int ok = fill(&ov, n, code, clen);
    if (ok && code) {
        uint64_t ns = margin_reads(&ov, n);
        ok = ns != 0;
        *reads_ms = ns / 1000000;
    }
    uint64_t t0 = bench_now_ns();
    ok = ok && cn_reserves_end_block(&ov, g, 10, &ev);
    uint64_t t1 = bench_now_ns();
    cn_sumtree *t = NULL;
    ok = ok && cn_reserves_rebuild(&ov, g->chain_id, 1, &t) == 1;
    uint64_t t2 = bench_now_ns();
    cn_sumtree_free(t);
    cn_evlist_free(&ev);
    cn_overlay_free(&ov);
    *step_ms = (t1 - t0) / 1000000;
    *rebuild_ms = (t2 - t1) / 1000000;
    return ok;
}

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
    uint8_t *code;
    size_t clen;
    cn_asm_diag d;
    if (!cn_asm_build_file("contracts/margin.cas", &code, &clen, &d)) {
        fprintf(stderr, "bench_reserves_epoch: assembling contracts/margin.cas (run from the "
                        "repository root)\n");
        return 1;
    }
    uint64_t s0, r0, s1, r1, m1;
    int ok = run(&g, n, NULL, 0, &s0, &r0, NULL) && run(&g, n, code, clen, &s1, &r1, &m1);
    free(code);
    if (!ok) {
        fprintf(stderr, "bench_reserves_epoch: failed\n");
        return 1;
    }
    printf("reserves epoch step, %llu accounts x 2 assets: %llu ms (end of block), "
           "%llu ms (rebuild for a proof)\n",
           (unsigned long long)n, (unsigned long long)s0, (unsigned long long)r0);
    printf("  with margin cash on half of them: %llu ms (end of block), %llu ms (rebuild); "
           "the margin-cash reads alone: %llu ms\n",
           (unsigned long long)s1, (unsigned long long)r1, (unsigned long long)m1);
    return 0;
}
