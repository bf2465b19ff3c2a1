/* contracts/margin.cas under random trading, run on the in-memory host.
 *
 * The vectors (tests/vm/margin_*.vmt) pin the worked examples of docs/margin.md; this test
 * drives the contract through a long deterministic pseudo-random sequence of deposits,
 * withdrawals, opens, closes, price moves, volatility records and liquidations over several
 * accounts and assets, committing every successful call, and checks after every step:
 *  - conservation: sum(cash) + house + insurance - bad debt (`conserved`) equals the
 *    contract's ledger balance of asset 0 (deposits - withdrawals), to the unit;
 *  - insurance and bad debt never negative, bad debt never decreases;
 *  - the liquidation index misses no account: every account under maintenance has its
 *    position's indexed liquidation price crossed by the current price;
 *  - liquidate succeeds only on accounts under maintenance;
 *  - both interpreters agree on every call.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "contracts/asm/asm.h"
#include "contracts/asm/memhost.h"
#include "contracts/vm/host.h"
#include "contracts/vm/overlay.h"
#include "contracts/vm/vm.h"
#include "crypto/schnorr.h"

#define NACCT 4
#define NASSET 2
#define STEPS 600

typedef struct {
    cn_asm_memhost *mh;
    cn_vm_machine *m;
    cn_vm_program *prog;
    uint8_t contract[CN_VM_ID_LEN];
    uint8_t acct[NACCT][CN_VM_ID_LEN];
    int64_t height;
    uint64_t rng;
} world;

static uint64_t rnd(world *w) {
    w->rng = w->rng * 6364136223846793005u + 1442695040888963407u;
    return w->rng >> 33;
}

/* Runs entry on both interpreters; commits on success. Returns the status, *value the
 * result (or revert code). */
static cn_vm_err call(world *w, int who, const char *entry, const int64_t *args,
                      uint32_t nargs, int64_t *value) {
    cn_vm_host host;
    cn_asm_memhost_table(w->mh, &host);
    int32_t fn = cn_vm_program_export(w->prog, entry);
    assert_true(fn >= 0);
    cn_vm_result res[2];
    cn_vm_overlay ov[2];
    for (int k = 0; k < 2; k++) {
        cn_vm_overlay_init(&ov[k]);
        cn_vm_call c;
        memset(&c, 0, sizeof c);
        c.prog = w->prog;
        c.host = &host;
        c.overlay = &ov[k];
        c.entry = (uint32_t)fn;
        c.args = args;
        c.nargs = nargs;
        c.gas_limit = 10000000;
        memcpy(c.caller, w->acct[who], CN_VM_ID_LEN);
        memcpy(c.contract, w->contract, CN_VM_ID_LEN);
        c.height = w->height;
        c.time = 1700000000000;
        if (k == 0)
            (void)cn_vm_exec_fast(w->m, &c, &res[k]);
        else
            (void)cn_vm_exec_ref(w->m, &c, &res[k]);
    }
    assert_int_equal(res[0].status, res[1].status);
    assert_int_equal(res[0].value, res[1].value);
    assert_int_equal(res[0].gas_used, res[1].gas_used);
    if (res[0].status == CN_VM_OK)
        assert_int_equal(cn_asm_memhost_commit(w->mh, w->contract, &ov[0]), CN_VM_OK);
    cn_vm_overlay_free(&ov[0]);
    cn_vm_overlay_free(&ov[1]);
    /* the contract never traps: it succeeds or reverts with a code */
    assert_true(res[0].status == CN_VM_OK || res[0].status == CN_VM_E_REVERT);
    *value = res[0].value;
    return res[0].status;
}

/* A view that must succeed. */
static int64_t view(world *w, const char *entry, const int64_t *args, uint32_t nargs) {
    int64_t v;
    assert_int_equal(call(w, 0, entry, args, nargs, &v), CN_VM_OK);
    return v;
}

static void acct_words(const world *w, int a, int64_t out[4]) {
    for (int i = 0; i < 4; i++) {
        uint64_t x = 0;
        for (int j = 0; j < 8; j++)
            x = (x << 8) | w->acct[a][i * 8 + j];
        out[i] = (int64_t)x;
    }
}

/* What the node does after an add-on or the loan index changed: re-index every account. */
static void refresh_all(world *w) {
    for (int a = 0; a < NACCT; a++) {
        int64_t args[4], v;
        acct_words(w, a, args);
        assert_int_equal(call(w, a, "refresh", args, 4, &v), CN_VM_OK);
    }
}

static void setup_world(world *w, uint64_t seed) {
    memset(w, 0, sizeof *w);
    assert_int_equal(cn_crypto_init(), 1);
    w->mh = cn_asm_memhost_new();
    w->m = cn_vm_machine_new();
    assert_non_null(w->mh);
    assert_non_null(w->m);
    uint8_t *bin = NULL;
    size_t blen = 0;
    cn_asm_diag d;
    assert_true(cn_asm_build_file("contracts/margin.cas", &bin, &blen, &d));
    assert_int_equal(cn_vm_load(bin, blen, CN_VM_HOST_ALLOW_ALL, &w->prog, NULL), CN_VM_OK);
    free(bin);
    memcpy(w->contract, "margin", 6);
    for (int a = 0; a < NACCT; a++) {
        w->acct[a][0] = 'u';
        w->acct[a][1] = (uint8_t)('0' + a);
        assert_true(cn_asm_memhost_set_balance(w->mh, w->acct[a], 0, 1000000000000));
    }
    for (int64_t s = 1; s <= NASSET; s++)
        assert_true(cn_asm_memhost_set_price(w->mh, s, 100000000));
    /* params: 30% initial, 20% / 25% maintenance floors (liquidations happen often), fee 10 bps, penalty 5%, close factor 50%, vol_k 50%, interest 1 ppm/block */
    uint8_t g[96];
    const int64_t p[12] = {3000, 3000, 2000, 2500, 10, 500, 5000, 5000,
                           20000000000, 500, 5000, 1000};
    for (int i = 0; i < 12; i++)
        for (int j = 0; j < 8; j++)
            g[i * 8 + j] = (uint8_t)((uint64_t)p[i] >> (56 - 8 * j));
    assert_true(cn_asm_memhost_put(w->mh, w->contract, (const uint8_t *)"g", 1, g, sizeof g));
    w->height = 1;
    w->rng = seed;
}

static void teardown_world(world *w) {
    cn_vm_program_free(w->prog);
    cn_vm_machine_free(w->m);
    cn_asm_memhost_free(w->mh);
}

/* The checks after every step. */
static void check_invariants(world *w, int64_t *last_bad, const int64_t price[NASSET + 1]) {
    int64_t g1 = 1, g2 = 2;
    int64_t conserved = view(w, "conserved", NULL, 0);
    assert_int_equal(conserved, cn_asm_memhost_balance(w->mh, w->contract, 0));
    int64_t ins = view(w, "globals", &g1, 1);
    int64_t bad = view(w, "globals", &g2, 1);
    assert_true(ins >= 0);
    assert_true(bad >= *last_bad);
    *last_bad = bad;
    for (int a = 0; a < NACCT; a++) {
        int64_t args[6];
        acct_words(w, a, args);
        args[4] = 3;
        int64_t excess = view(w, "requirements", args, 5);
        if (excess >= 0)
            continue;
        /* under maintenance: each position of this single-asset account is crossed */
        for (int64_t s = 1; s <= NASSET; s++) {
            args[4] = s;
            args[5] = 0;
            int64_t q = view(w, "position", args, 6);
            if (q == 0)
                continue;
            args[5] = 2;
            int64_t liq = view(w, "position", args, 6);
            if (q > 0)
                assert_true(liq >= price[s]);
            else
                assert_true(liq <= price[s]);
        }
    }
}

static void random_trading(void **state) {
    (void)state;
    world w;
    setup_world(&w, 42);
    int64_t price[NASSET + 1] = {0, 100000000, 100000000};
    int64_t last_bad = 0, v;
    int liquidations = 0, shortfalls = 0, opens = 0;
    for (int step = 0; step < STEPS; step++) {
        int a = (int)(rnd(&w) % NACCT);
        int64_t asset = 1 + a % NASSET; /* each account trades one asset */
        int64_t args[6];
        switch (rnd(&w) % 8) {
        case 0: /* deposit */
            args[0] = (int64_t)(1 + rnd(&w) % 5000) * 1000000;
            assert_int_equal(call(&w, a, "deposit", args, 1, &v), CN_VM_OK);
            break;
        case 1: /* withdraw: refused iff withdraw_ok says 0 */
        {
            int64_t ok_args[2] = {0, (int64_t)(1 + rnd(&w) % 10000) * 1000000};
            int64_t ok;
            assert_int_equal(call(&w, a, "withdraw_ok", ok_args, 2, &ok), CN_VM_OK);
            cn_vm_err st = call(&w, a, "withdraw", &ok_args[1], 1, &v);
            assert_int_equal(st == CN_VM_OK, ok == 1);
            break;
        }
        case 2:
        case 3: /* open */
            args[0] = asset;
            args[1] = (int64_t)(rnd(&w) % 2);
            args[2] = (int64_t)(1 + rnd(&w) % 150) * 1000000;
            args[3] = 0;
            if (call(&w, a, "open", args, 4, &v) == CN_VM_OK)
                opens++;
            else
                assert_true(v == 16 || v == 17);
            break;
        case 4: /* close part */
            args[0] = asset;
            args[1] = (int64_t)(1 + rnd(&w) % 50) * 1000000;
            if (call(&w, a, "close", args, 2, &v) != CN_VM_OK)
                assert_true(v == 18 || v == 19);
            break;
        case 5: /* price move of -12%..+8% or a -50% gap, then a volatility record */
        {
            int64_t pct = (int64_t)(rnd(&w) % 21) - 12;
            if (rnd(&w) % 8 == 0)
                pct = -50; /* a gap: equity can go below zero */
            int64_t s = 1 + (int64_t)(rnd(&w) % NASSET);
            price[s] = price[s] * (100 + pct) / 100;
            if (price[s] < 1000000)
                price[s] = 1000000;
            assert_true(cn_asm_memhost_set_price(w.mh, s, price[s]));
            assert_int_equal(call(&w, 0, "record_price", &s, 1, &v), CN_VM_OK);
            refresh_all(&w);
            break;
        }
        default: /* liquidation pass over all accounts */
            for (int b = 0; b < NACCT; b++) {
                acct_words(&w, b, args);
                args[4] = 3;
                int64_t excess = view(&w, "requirements", args, 5);
                int64_t bad_before = last_bad, g1 = 1;
                int64_t ins_before = view(&w, "globals", &g1, 1);
                args[4] = 1 + b % NASSET;
                cn_vm_err st = call(&w, a, "liquidate", args, 5, &v);
                if (st == CN_VM_OK) {
                    assert_true(excess < 0);
                    assert_true(v > 0);
                    liquidations++;
                    int64_t g2 = 2;
                    /* a shortfall: the fund paid (net of the penalty) or bad debt grew */
                    if (view(&w, "globals", &g2, 1) > bad_before ||
                        view(&w, "globals", &g1, 1) < ins_before)
                        shortfalls++;
                } else {
                    assert_true(v == 19 || v == 20);
                    if (v == 20)
                        assert_true(excess >= 0);
                }
                check_invariants(&w, &last_bad, price);
            }
            break;
        }
        w.height++;
        if (step % 50 == 0)
        {
            assert_int_equal(call(&w, 0, "accrue", NULL, 0, &v), CN_VM_OK);
            refresh_all(&w);
        }
        check_invariants(&w, &last_bad, price);
    }
    /* the run exercised what it claims to */
    assert_true(opens > 20);
    assert_true(liquidations > 0);
    assert_true(shortfalls > 0);
    print_message("opens %d, liquidations %d, with a shortfall %d\n", opens, liquidations,
                  shortfalls);
    teardown_world(&w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_trading),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
