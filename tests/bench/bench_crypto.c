/* Tagged hashing and BIP340 verification through clearnode's wrappers, each next to the raw
 * library figure measured in the same run, so the ratio holds on a noisy machine. */
#include <stdio.h>
#include <string.h>

#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>
#include <sodium.h>

#include "crypto/hash.h"
#include "crypto/merkle.h"
#include "crypto/schnorr.h"
#include "tests/bench/bench_clock.h"

#define HASH_N 2000000u
#define SIG_N 20000u

static void report(const char *what, uint64_t ours, const char *raw_what, uint64_t raw) {
    uint64_t pm = bench_permille(ours, raw);
    printf("%-34s %10llu/s   %-28s %10llu/s   ratio %llu.%llu%%\n", what,
           (unsigned long long)ours, raw_what, (unsigned long long)raw,
           (unsigned long long)(pm / 10), (unsigned long long)(pm % 10));
}

int main(void) {
    if (!cn_crypto_init())
        return 1;
    uint8_t msg[64], out[32];
    memset(msg, 7, sizeof msg);
    volatile uint8_t sink = 0;

    /* Raw SHA-256 over a 64-byte message (what a Merkle node hashes). */
    uint64_t t0 = bench_now_ns();
    for (uint32_t i = 0; i < HASH_N; i++) {
        msg[0] = (uint8_t)i;
        crypto_hash_sha256(out, msg, sizeof msg);
        sink ^= out[0];
    }
    uint64_t raw_sha = bench_rate(HASH_N, bench_now_ns() - t0);

    /* Tagged hash from the precomputed midstate: one extra compression of prefix is saved. */
    t0 = bench_now_ns();
    for (uint32_t i = 0; i < HASH_N; i++) {
        msg[0] = (uint8_t)i;
        cn_hash_tagged(out, CN_TAG_MERKLE_NODE, msg, sizeof msg);
        sink ^= out[0];
    }
    uint64_t tagged = bench_rate(HASH_N, bench_now_ns() - t0);

    /* Tagged hash without a midstate, for comparison. */
    t0 = bench_now_ns();
    for (uint32_t i = 0; i < HASH_N / 4; i++) {
        cn_hasher h;
        msg[0] = (uint8_t)i;
        cn_hasher_start_named(&h, "clearnode/merkle/node");
        cn_hasher_update(&h, msg, sizeof msg);
        cn_hasher_finish(&h, out);
        sink ^= out[0];
    }
    uint64_t unmid = bench_rate(HASH_N / 4, bench_now_ns() - t0);

    /* Merkle root over 4096 leaves. */
    static uint8_t leaves[4096][32], scratch[4096][32];
    for (int i = 0; i < 4096; i++)
        cn_merkle_leaf(leaves[i], (const uint8_t *)&i, sizeof i);
    t0 = bench_now_ns();
    for (int r = 0; r < 100; r++)
        if (!cn_merkle_root(out, (const uint8_t(*)[32])leaves, 4096, scratch))
            return 1;
    uint64_t merkle_nodes = bench_rate(100u * 4095u, bench_now_ns() - t0);

    /* Signatures: one key, SIG_N distinct messages. */
    uint8_t sec[32], sigs[64], digest[32];
    cn_keypair kp;
    if (!cn_seckey_generate(sec) || !cn_keypair_from_seckey(&kp, sec))
        return 1;
    static uint8_t all_sigs[SIG_N][64];
    static uint8_t all_msgs[SIG_N][32];
    t0 = bench_now_ns();
    for (uint32_t i = 0; i < SIG_N; i++) {
        memset(all_msgs[i], 0, 32);
        memcpy(all_msgs[i], &i, sizeof i);
        if (!cn_sign32(&kp, all_sigs[i], all_msgs[i], NULL))
            return 1;
    }
    uint64_t signs = bench_rate(SIG_N, bench_now_ns() - t0);

    /* Raw libsecp256k1 verify with the public key parsed once. */
    secp256k1_context *raw = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    secp256k1_xonly_pubkey xpk;
    if (!secp256k1_xonly_pubkey_parse(raw, &xpk, kp.pub))
        return 1;
    t0 = bench_now_ns();
    for (uint32_t i = 0; i < SIG_N; i++)
        if (!secp256k1_schnorrsig_verify(raw, all_sigs[i], all_msgs[i], 32, &xpk))
            return 1;
    uint64_t raw_verify = bench_rate(SIG_N, bench_now_ns() - t0);

    /* clearnode's verify: parses the x-only key each time, as a mempool does per tx. */
    t0 = bench_now_ns();
    for (uint32_t i = 0; i < SIG_N; i++)
        if (!cn_verify32(all_sigs[i], all_msgs[i], kp.pub))
            return 1;
    uint64_t verify = bench_rate(SIG_N, bench_now_ns() - t0);

    /* Full transaction check: domain digest of a 150-byte body, then verify. */
    uint8_t body[150];
    memset(body, 3, sizeof body);
    if (!cn_sign_body(&kp, sigs, CN_TAG_SIG_TX, "clearnode-bench", body, sizeof body))
        return 1;
    t0 = bench_now_ns();
    for (uint32_t i = 0; i < SIG_N; i++) {
        cn_sig_digest(digest, CN_TAG_SIG_TX, "clearnode-bench", body, sizeof body);
        if (!cn_verify32(sigs, digest, kp.pub))
            return 1;
    }
    uint64_t tx_verify = bench_rate(SIG_N, bench_now_ns() - t0);
    secp256k1_context_destroy(raw);
    cn_keypair_wipe(&kp);

    printf("crypto benchmark (one core)\n");
    report("tagged hash, midstate (64 B)", tagged, "raw SHA-256 (64 B)", raw_sha);
    report("tagged hash, no midstate (64 B)", unmid, "raw SHA-256 (64 B)", raw_sha);
    report("merkle nodes hashed", merkle_nodes, "raw SHA-256 (64 B)", raw_sha);
    report("cn_verify32 (key parsed each time)", verify, "raw secp256k1 verify", raw_verify);
    report("tx signature check (digest+verify)", tx_verify, "raw secp256k1 verify", raw_verify);
    report("cn_sign32", signs, "raw secp256k1 verify", raw_verify);
    return sink == 255 ? 0 : 0;
}
