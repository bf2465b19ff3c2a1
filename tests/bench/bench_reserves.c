/* Proof-of-reserves benchmark: the Merkle sum tree for 1,000,000 accounts on one core, next to
 * the raw SHA-256 rate measured in the same run and the minimum time that rate implies for the
 * compressions the tree needs; then proof generation and verification per proof. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/schnorr.h"
#include "crypto/sumtree.h"
#include "tests/bench/bench_clock.h"

#define N_ACCOUNTS 1000000u
#define K 4u
#define RAW_N 2000000u
#define PROOFS 20000u

static const char *const ASSETS[K] = {"AAPL", "MSFT", "TSLA", "USD"};

/* SHA-256 compressions for a tagged hash of `len` bytes after the tag midstate. */
static uint64_t blocks(uint64_t len) { return (len + 9 + 63) / 64; }

static uint64_t us_per_1000(uint64_t ns, uint64_t n) { return n ? ns / n : 0; }

int main(void) {
    if (!cn_crypto_init())
        return 1;
    volatile uint8_t sink = 0;
    uint8_t msg[55], out[32];
    memset(msg, 3, sizeof msg);

    /* Raw SHA-256 of 55 bytes: exactly one compression each. */
    uint64_t t0 = bench_now_ns();
    for (uint32_t i = 0; i < RAW_N; i++) {
        msg[0] = (uint8_t)i;
        crypto_hash_sha256(out, msg, sizeof msg);
        sink ^= out[0];
    }
    uint64_t raw = bench_rate(RAW_N, bench_now_ns() - t0);

    /* Inputs: random keys and secrets, balances below 2^40. */
    uint64_t n = N_ACCOUNTS;
    uint8_t *pub = malloc(n * 32), *sec = malloc(n * 32), *ah = malloc(n * 32),
            *salt = malloc(n * 32);
    uint64_t *bal = malloc(n * K * sizeof(uint64_t));
    if (!pub || !sec || !ah || !salt || !bal)
        return 1;
    randombytes_buf(pub, n * 32);
    randombytes_buf(sec, n * 32);
    for (uint64_t i = 0; i < n * K; i++)
        bal[i] = randombytes_random() | (uint64_t)(randombytes_random() & 0xFF) << 32;

    t0 = bench_now_ns();
    for (uint64_t i = 0; i < n; i++) {
        cn_por_account_hash(ah + i * 32, 11, pub + i * 32);
        cn_por_salt(salt + i * 32, sec + i * 32, 11, pub + i * 32);
    }
    uint64_t derive_ns = bench_now_ns() - t0;

    cn_por_params p = {"bench-chain", 11, K, ASSETS};
    cn_sumtree_input in = {n, ah, salt, bal};
    cn_sumtree *t;
    t0 = bench_now_ns();
    cn_por_err e = cn_sumtree_build(&t, &p, &in, 0, NULL);
    uint64_t build_ns = bench_now_ns() - t0;
    if (e != CN_POR_OK) {
        fprintf(stderr, "build: %s\n", cn_por_strerror(e));
        return 1;
    }
    uint32_t d = cn_sumtree_depth(t);
    uint64_t slots = UINT64_C(1) << d;
    uint64_t leaf_c = n * blocks(76 + 8 * K) + (slots - n) * blocks(16);
    uint64_t node_c = (slots - 1) * blocks(36 + 2 * (32 + 16 * K));
    uint64_t derive_c = n * (blocks(40) + blocks(72));
    uint64_t tree_c = leaf_c + node_c;

    printf("reserves benchmark (one core): %llu accounts, K = %u assets, depth %u (%llu slots)\n",
           (unsigned long long)n, K, d, (unsigned long long)slots);
    printf("raw SHA-256 (55 B, 1 compression)      %10llu hashes/s\n", (unsigned long long)raw);
    uint64_t min_ns = tree_c * 1000000000 / raw;
    printf("tree build (sort + leaves + nodes)     %10llu ms   needs %llu compressions, "
           "implied minimum %llu ms (%llu.%llu%% of build); target < 2000 ms: %s\n",
           (unsigned long long)(build_ns / 1000000), (unsigned long long)tree_c,
           (unsigned long long)(min_ns / 1000000),
           (unsigned long long)(bench_permille(min_ns, build_ns) / 10),
           (unsigned long long)(bench_permille(min_ns, build_ns) % 10),
           build_ns < UINT64_C(2000000000) ? "met" : "MISSED");
    printf("account hash + salt derivation         %10llu ms   needs %llu compressions, "
           "implied minimum %llu ms\n",
           (unsigned long long)(derive_ns / 1000000), (unsigned long long)derive_c,
           (unsigned long long)(derive_c * 1000 / raw));
    printf("end to end (derivation + build)        %10llu ms\n",
           (unsigned long long)((derive_ns + build_ns) / 1000000));

    /* Proofs of random leaves. */
    cn_por_proof *pr = malloc(sizeof *pr);
    uint8_t root[32];
    cn_sumtree_root(t, root);
    uint64_t gen_ns = 0, ver_ns = 0;
    for (uint32_t i = 0; i < PROOFS; i++) {
        uint64_t idx = randombytes_uniform((uint32_t)n);
        uint64_t row = cn_sumtree_origin(t, idx);
        t0 = bench_now_ns();
        e = cn_sumtree_prove(t, idx, pub + row * 32, 1, pr);
        uint64_t t1 = bench_now_ns();
        if (e == CN_POR_OK)
            e = cn_por_verify(pr, root, NULL);
        ver_ns += bench_now_ns() - t1;
        gen_ns += t1 - t0;
        if (e != CN_POR_OK) {
            fprintf(stderr, "proof: %s\n", cn_por_strerror(e));
            return 1;
        }
    }
    printf("proof generation                       %10llu ns/proof (%u proofs)\n",
           (unsigned long long)us_per_1000(gen_ns, PROOFS), PROOFS);
    printf("proof verification                     %10llu ns/proof (%u node hashes each)\n",
           (unsigned long long)us_per_1000(ver_ns, PROOFS), d);
    sink ^= root[0];
    (void)sink;
    free(pr);
    cn_sumtree_free(t);
    free(pub);
    free(sec);
    free(ah);
    free(salt);
    free(bal);
    return 0;
}
