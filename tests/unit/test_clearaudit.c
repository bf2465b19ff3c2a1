/* clearaudit end to end, in process: fixtures (genesis, a signed commit, a reserves tree, proof,
 * leaf export, attestations, and a tiny HTTP node) are written to a temp directory and every
 * command runs with --json; the exit status and the failure code are checked. Covers commits
 * with <= 2/3 of the power, forged and duplicated signatures, wrong votes, a root that is not
 * the header's, tampered proofs, negative and over-bound balances, duplicate and unsorted
 * leaves, and per-asset solvency. The tool's sources are compiled into this test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "node/cmd/clearaudit/cmd_chain.c"
#include "node/cmd/clearaudit/cmd_proof.c"
#include "node/cmd/clearaudit/cmd_tree.c"
#include "node/cmd/clearaudit/commit.c"
#include "node/cmd/clearaudit/http.c"
#include "node/cmd/clearaudit/jsonval.c"
#include "node/cmd/clearaudit/report.c"
#include "node/cmd/clearaudit/valset.c"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>

#include "crypto/encoding.h"
#include "crypto/schnorr.h"
#include "crypto/sumtree_pb.h"

#define CHAIN "clearnode-test"
#define NV 4
#define EPOCH 3
#define NACC 5

static char dir[256];
static cn_keypair vals[NV];
static cn_keypair strangers[NV]; /* keys no genesis set knows */
static const int64_t powers[NV] = {10, 10, 10, 30}; /* total 60: more than 40 needed */
static const char *const ASSETS[] = {"AAPL", "USD"};
static uint8_t acc_pub[NACC][32], acc_secret[NACC][32];
static uint64_t acc_bal[NACC][2] = {{5, 100}, {0, 250}, {7, 0}, {1, 1}, {20, 3000}};
static cn_sumtree *tree;
static uint8_t root[32];

static const char *path_of(const char *name) {
    static char buf[1024][512];
    static int next;
    char *p = buf[next++ % 1024];
    snprintf(p, 512, "%s/%s", dir, name);
    return p;
}

static void write_file(const char *name, const void *data, size_t len) {
    FILE *f = fopen(path_of(name), "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void write_text(const char *name, const char *text) { write_file(name, text, strlen(text)); }

static char last_msg[1024];

/* Runs a command with stdout captured; returns the exit status and the error code (or ""). */
static int run(char *code, size_t cap, int (*cmd)(int, char **), ...) {
    char *argv[32];
    int argc = 0;
    va_list ap;
    va_start(ap, cmd);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL;)
        argv[argc++] = (char *)(uintptr_t)a;
    va_end(ap);
    argv[argc++] = (char *)(uintptr_t) "--json";
    argv[argc] = NULL;
    fflush(stdout);
    int saved = dup(1);
    const char *out = path_of("stdout.json");
    FILE *f = fopen(out, "w");
    dup2(fileno(f), 1);
    int rc = cmd(argc, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    fclose(f);
    json_t *j = json_load_file(out, 0, NULL);
    const char *c = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
    const char *m = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
    snprintf(code, cap, "%s", c ? c : "");
    snprintf(last_msg, sizeof last_msg, "%s", m ? m : "");
    if (rc != (int)json_integer_value(json_object_get(j, "exit")) && rc != CA_EXIT_USAGE)
        fail_msg("exit %d but report says %lld", rc,
                 (long long)json_integer_value(json_object_get(j, "exit")));
    json_decref(j);
    return rc;
}

#define EXPECT(want_rc, want_code, ...)                                                            \
    do {                                                                                           \
        char code_[128];                                                                           \
        int rc_ = run(code_, sizeof code_, __VA_ARGS__, NULL);                                     \
        if (rc_ != (want_rc) || strcmp(code_, (want_code)) != 0)                                   \
            fail_msg("got exit %d code '%s' (%s), want %d '%s'", rc_, code_, last_msg, want_rc,    \
                     want_code);                                                                   \
    } while (0)

/* ---- fixtures ---------------------------------------------------------------------------- */

/* The set that signs the headers and commits being made: the genesis set unless a test of
 * set changes switches it. */
static const cn_keypair *set_keys = vals;
static const int64_t *set_powers = powers;

static void valset_hash(uint8_t out[32]) {
    const cn_keypair *ks = set_keys;
    const int64_t *pw = set_powers;
    int order[NV] = {0, 1, 2, 3};
    for (int i = 0; i < NV; i++)
        for (int j = i + 1; j < NV; j++)
            if (memcmp(ks[order[j]].pub, ks[order[i]].pub, 32) < 0) {
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
    cn_hasher h;
    cn_hasher_start(&h, CN_TAG_VALIDATORS);
    for (int i = 0; i < NV; i++) {
        cn_hasher_update(&h, ks[order[i]].pub, 32);
        cn_hasher_u64(&h, (uint64_t)pw[order[i]]);
    }
    cn_hasher_finish(&h, out);
}

/* Encoded header at `height` with `rroot`, linking to `last_id`/`last_commit_hash`. */
static uint8_t *make_header(uint64_t height, uint64_t time, const uint8_t *rroot,
                            const uint8_t *last_id, const uint8_t *lch, size_t *len) {
    Clearnode__V1__Header h;
    clearnode__v1__header__init(&h);
    uint8_t vh[32];
    valset_hash(vh);
    h.chain_id = (char *)(uintptr_t)CHAIN;
    h.height = height;
    h.time = time;
    h.validators_hash = (ProtobufCBinaryData){32, vh};
    if (rroot)
        h.reserves_root = (ProtobufCBinaryData){32, (uint8_t *)(uintptr_t)rroot};
    if (last_id)
        h.last_block_id = (ProtobufCBinaryData){32, (uint8_t *)(uintptr_t)last_id};
    if (lch)
        h.last_commit_hash = (ProtobufCBinaryData){32, (uint8_t *)(uintptr_t)lch};
    uint8_t *out;
    assert_true(cn_encode(&h.base, CN_CAP_HEADER, &out, len));
    return out;
}

typedef enum { V_OK, V_PREVOTE, V_OTHER_BLOCK, V_OTHER_HEIGHT, V_BAD_SIG } vote_kind;

/* A commit for `block_id` at `height` signed by the validators in `who` (-1 terminated). */
static Clearnode__V1__Commit *make_commit(uint64_t height, const uint8_t block_id[32],
                                          const int *who, vote_kind kind) {
    Clearnode__V1__Commit *c = calloc(1, sizeof *c);
    clearnode__v1__commit__init(c);
    c->height = height;
    c->block_id = (ProtobufCBinaryData){32, malloc(32)};
    memcpy(c->block_id.data, block_id, 32);
    c->precommits = calloc(NV + 2, sizeof *c->precommits);
    for (int i = 0; who[i] >= 0; i++) {
        Clearnode__V1__Vote v;
        clearnode__v1__vote__init(&v);
        uint8_t other[32];
        memcpy(other, block_id, 32);
        other[0] ^= 1;
        v.type = kind == V_PREVOTE ? CLEARNODE__V1__VOTE_TYPE__VOTE_PREVOTE
                                   : CLEARNODE__V1__VOTE_TYPE__VOTE_PRECOMMIT;
        v.height = kind == V_OTHER_HEIGHT ? height + 1 : height;
        v.block_id = (ProtobufCBinaryData){32, kind == V_OTHER_BLOCK ? other
                                                                     : (uint8_t *)(uintptr_t)block_id};
        v.timestamp = 1000;
        v.validator = (ProtobufCBinaryData){32, (uint8_t *)(uintptr_t)set_keys[who[i]].pub};
        Clearnode__V1__Signed *s = calloc(1, sizeof *s);
        clearnode__v1__signed__init(s);
        assert_true(cn_encode(&v.base, CN_CAP_VOTE, &s->body.data, &s->body.len));
        s->signer = (ProtobufCBinaryData){32, malloc(32)};
        memcpy(s->signer.data, set_keys[who[i]].pub, 32);
        s->sig = (ProtobufCBinaryData){64, malloc(64)};
        assert_true(cn_sign_body(&set_keys[who[i]], s->sig.data, CN_TAG_SIG_VOTE, CHAIN, s->body.data,
                                 s->body.len));
        if (kind == V_BAD_SIG && i == 0)
            s->sig.data[10] ^= 1;
        c->precommits[c->n_precommits++] = s;
    }
    return c;
}

static void free_commit(Clearnode__V1__Commit *c) {
    for (size_t i = 0; i < c->n_precommits; i++) {
        free(c->precommits[i]->body.data);
        free(c->precommits[i]->signer.data);
        free(c->precommits[i]->sig.data);
        free(c->precommits[i]);
    }
    free(c->precommits);
    free(c->block_id.data);
    free(c);
}

static char *b64(const uint8_t *d, size_t n) {
    size_t cap = cn_b64_encoded_len(n);
    char *s = malloc(cap);
    cn_b64_encode(s, cap, d, n);
    return s;
}

/* Writes {"header","commit"} for a header carrying `rroot`, signed by `who`. */
static void write_header_file(const char *name, const uint8_t *rroot, const int *who,
                              vote_kind kind, int dup_first) {
    size_t hlen, clen;
    uint8_t *hdr = make_header(42, 5000, rroot, NULL, NULL, &hlen), id[32];
    cn_hash_tagged(id, CN_TAG_BLOCK, hdr, hlen);
    Clearnode__V1__Commit *c = make_commit(42, id, who, kind);
    if (dup_first)
        c->precommits[c->n_precommits++] = c->precommits[0];
    uint8_t *cb;
    assert_true(cn_encode(&c->base, CN_CAP_COMMIT, &cb, &clen));
    if (dup_first)
        c->n_precommits--;
    char *hb = b64(hdr, hlen), *cbb = b64(cb, clen);
    char *json = malloc(strlen(hb) + strlen(cbb) + 64);
    sprintf(json, "{\"header\": \"%s\", \"commit\": \"%s\"}", hb, cbb);
    write_text(name, json);
    free(json);
    free(hb);
    free(cbb);
    free(cb);
    free(hdr);
    free_commit(c);
}

static void write_genesis(void) {
    char buf[4096], hex[65];
    size_t o = (size_t)snprintf(buf, sizeof buf, "{\"chain_id\": \"%s\", \"members\": [", CHAIN);
    for (int i = 0; i < NV; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o,
                              "%s{\"name\": \"v%d\", \"pubkey\": \"%s\", \"roles\": "
                              "[\"validator\", \"governor\"], \"power\": %lld}",
                              i ? ", " : "", i, ca_hex32(hex, vals[i].pub), (long long)powers[i]);
    /* A non-validator member is not part of the set. */
    memset(hex, 'a', 64);
    snprintf(buf + o, sizeof buf - o,
             ", {\"name\": \"c\", \"pubkey\": \"%s\", \"roles\": [\"custodian\"]}]}", hex);
    write_text("genesis.json", buf);
}

static void write_proof(const char *name, uint64_t leaf, void (*tamper)(cn_por_proof *)) {
    cn_por_proof *p = malloc(sizeof *p);
    cn_por_proof_pb *pb = malloc(sizeof *pb);
    uint64_t row = cn_sumtree_origin(tree, leaf);
    assert_int_equal(cn_sumtree_prove(tree, leaf, acc_pub[row], 42, p), CN_POR_OK);
    if (tamper)
        tamper(p);
    cn_por_proof_to_pb(pb, p);
    uint8_t *enc;
    size_t len;
    assert_true(cn_encode(&pb->msg.base, CN_CAP_RESERVES_PROOF, &enc, &len));
    write_file(name, enc, len);
    free(enc);
    free(p);
    free(pb);
}

/* The leaf export of `tree`, with an optional edit of the leaf lines. */
static void write_leaves(const char *name, int mode) {
    FILE *f = fopen(path_of(name), "w");
    char hex[65], salt[65], t0[41], t1[41];
    cn_u128 tot[2];
    cn_sumtree_totals(tree, tot);
    cn_por_u128_to_dec(t0, tot[0]);
    cn_por_u128_to_dec(t1, tot[1]);
    uint64_t n = cn_sumtree_leaf_count(tree);
    fprintf(f, "clearnode-reserves-leaves 1\nchain_id %s\nepoch %d\nassets AAPL,USD\n"
               "leaf_count %llu\ndepth %u\nroot %s\ntotals %s,%s\n",
            CHAIN, EPOCH, (unsigned long long)(n + (mode == 3)), cn_sumtree_depth(tree),
            ca_hex32(hex, root), t0, t1);
    for (uint64_t i = 0; i < n; i++) {
        const uint64_t *b = cn_sumtree_leaf_balances(tree, i);
        uint64_t i2 = mode == 1 && i == 1 ? 2 : mode == 1 && i == 2 ? 1 : i; /* swap */
        const uint8_t *ah = cn_sumtree_leaf_account(tree, i2);
        b = cn_sumtree_leaf_balances(tree, i2);
        ca_hex32(hex, ah);
        ca_hex32(salt, cn_sumtree_leaf_salt(tree, i2));
        if (mode == 2 && i == 1) /* second user claims the first user's account hash */
            ca_hex32(hex, cn_sumtree_leaf_account(tree, 0));
        if (mode == 4 && i == 2)
            fprintf(f, "leaf %s %s -4,%llu\n", hex, salt, (unsigned long long)b[1]);
        else if (mode == 5 && i == 2)
            fprintf(f, "leaf %s %s 9223372036854775808,%llu\n", hex, salt,
                    (unsigned long long)b[1]);
        else if (mode == 6 && i == 0)
            fprintf(f, "leaf %s %s %llu,%llu\n", hex, salt, (unsigned long long)b[0] + 1,
                    (unsigned long long)b[1]);
        else
            fprintf(f, "leaf %s %s %llu,%llu\n", hex, salt, (unsigned long long)b[0],
                    (unsigned long long)b[1]);
        if (mode == 3 && i == n - 1) /* the last leaf twice */
            fprintf(f, "leaf %s %s %llu,%llu\n", hex, salt, (unsigned long long)b[0],
                    (unsigned long long)b[1]);
    }
    fputs("end\n", f);
    fclose(f);
}

static int setup(void **state) {
    (void)state;
    if (!cn_crypto_init())
        return -1;
    snprintf(dir, sizeof dir, "/tmp/test_clearaudit.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    for (int i = 0; i < NV; i++) {
        uint8_t sk[32];
        memset(sk, 0x10 + i, 32);
        if (!cn_keypair_from_seckey(&vals[i], sk))
            return -1;
        memset(sk, 0x30 + i, 32);
        if (!cn_keypair_from_seckey(&strangers[i], sk))
            return -1;
    }
    uint8_t ah[NACC][32], salt[NACC][32];
    for (int i = 0; i < NACC; i++) {
        memset(acc_pub[i], 0x60 + i, 32);
        memset(acc_secret[i], 0x90 + i, 32);
        cn_por_account_hash(ah[i], EPOCH, acc_pub[i]);
        cn_por_salt(salt[i], acc_secret[i], EPOCH, acc_pub[i]);
    }
    cn_por_params p = {CHAIN, EPOCH, 2, ASSETS};
    cn_sumtree_input in = {NACC, &ah[0][0], &salt[0][0], &acc_bal[0][0]};
    if (cn_sumtree_build(&tree, &p, &in, 0, NULL) != CN_POR_OK)
        return -1;
    cn_sumtree_root(tree, root);
    write_genesis();
    return 0;
}

static int teardown(void **state) {
    (void)state;
    cn_sumtree_free(tree);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- verify-proof ------------------------------------------------------------------------ */

static const int ALL[] = {0, 1, 2, 3, -1}, ENOUGH[] = {3, 1, 2, -1}, EXACT_TWO_THIRDS[] = {3, 0, -1},
                 TWO_SMALL[] = {0, 1, -1};

static void lift_sibling(cn_por_proof *p) { p->path[1].sums[1] += 1; }
static void over_bound(cn_por_proof *p) { p->path[0].sums[0] = cn_por_level_bound(0) + 1; }
static void leaf_balance(cn_por_proof *p) { p->balances[0] = (uint64_t)INT64_MAX + 1; }

static void test_verify_proof(void **state) {
    (void)state;
    const char *g = path_of("genesis.json");
    write_proof("proof.pb", 1, NULL);
    write_header_file("hdr.json", root, ENOUGH, V_OK, 0);
    EXPECT(0, "", ca_cmd_verify_proof, "verify-proof", path_of("proof.pb"), "--header",
           path_of("hdr.json"), "--validators", g);
    /* The client's own checks: key and secret. */
    uint64_t row = cn_sumtree_origin(tree, 1);
    char pk[65], sec[65], other[65];
    ca_hex32(pk, acc_pub[row]);
    ca_hex32(sec, acc_secret[row]);
    ca_hex32(other, acc_secret[(row + 1) % NACC]);
    EXPECT(0, "", ca_cmd_verify_proof, "verify-proof", path_of("proof.pb"), "--header",
           path_of("hdr.json"), "--validators", g, "--account", pk, "--secret", sec);
    EXPECT(1, "salt_mismatch", ca_cmd_verify_proof, "verify-proof", path_of("proof.pb"),
           "--header", path_of("hdr.json"), "--validators", g, "--secret", other);
    EXPECT(1, "account_mismatch", ca_cmd_verify_proof, "verify-proof", path_of("proof.pb"),
           "--header", path_of("hdr.json"), "--validators", g, "--account", other);

    /* Commits. */
    write_header_file("h_all.json", root, ALL, V_OK, 0);
    EXPECT(0, "", ca_cmd_verify_proof, "verify-proof", path_of("proof.pb"), "--header",
           path_of("h_all.json"), "--validators", g);
    write_header_file("h_23.json", root, EXACT_TWO_THIRDS, V_OK, 0);
    EXPECT(1, "commit_insufficient_power", ca_cmd_verify_proof, "verify-proof",
           path_of("proof.pb"), "--header", path_of("h_23.json"), "--validators", g);
    write_header_file("h_small.json", root, TWO_SMALL, V_OK, 0);
    EXPECT(1, "commit_insufficient_power", ca_cmd_verify_proof, "verify-proof",
           path_of("proof.pb"), "--header", path_of("h_small.json"), "--validators", g);
    write_header_file("h_forged.json", root, ENOUGH, V_BAD_SIG, 0);
    EXPECT(1, "commit_bad_signature", ca_cmd_verify_proof, "verify-proof", path_of("proof.pb"),
           "--header", path_of("h_forged.json"), "--validators", g);
    /* v3 (30) + v0 (10) is exactly 2/3; counting v3 twice would reach 70. */
    write_header_file("h_dup.json", root, EXACT_TWO_THIRDS, V_OK, 1);
    EXPECT(1, "commit_duplicate_signer", ca_cmd_verify_proof, "verify-proof",
           path_of("proof.pb"), "--header", path_of("h_dup.json"), "--validators", g);
    write_header_file("h_prevote.json", root, ENOUGH, V_PREVOTE, 0);
    EXPECT(1, "commit_vote_mismatch", ca_cmd_verify_proof, "verify-proof", path_of("proof.pb"),
           "--header", path_of("h_prevote.json"), "--validators", g);
    write_header_file("h_other.json", root, ENOUGH, V_OTHER_BLOCK, 0);
    EXPECT(1, "commit_vote_mismatch", ca_cmd_verify_proof, "verify-proof", path_of("proof.pb"),
           "--header", path_of("h_other.json"), "--validators", g);
    write_header_file("h_height.json", root, ENOUGH, V_OTHER_HEIGHT, 0);
    EXPECT(1, "commit_vote_mismatch", ca_cmd_verify_proof, "verify-proof", path_of("proof.pb"),
           "--header", path_of("h_height.json"), "--validators", g);

    /* A root that differs from the header's. */
    uint8_t wrong[32];
    memcpy(wrong, root, 32);
    wrong[0] ^= 0x80;
    write_header_file("h_wrong_root.json", wrong, ENOUGH, V_OK, 0);
    EXPECT(1, "root_not_on_chain", ca_cmd_verify_proof, "verify-proof", path_of("proof.pb"),
           "--header", path_of("h_wrong_root.json"), "--validators", g);
    write_header_file("h_no_root.json", NULL, ENOUGH, V_OK, 0);
    EXPECT(1, "no_reserves_root", ca_cmd_verify_proof, "verify-proof", path_of("proof.pb"),
           "--header", path_of("h_no_root.json"), "--validators", g);

    /* Tampered proofs. */
    write_proof("p_lift.pb", 1, lift_sibling);
    EXPECT(1, "root_mismatch", ca_cmd_verify_proof, "verify-proof", path_of("p_lift.pb"),
           "--header", path_of("hdr.json"), "--validators", g);
    write_proof("p_bound.pb", 1, over_bound);
    EXPECT(1, "sibling_over_bound", ca_cmd_verify_proof, "verify-proof", path_of("p_bound.pb"),
           "--header", path_of("hdr.json"), "--validators", g);
    write_proof("p_bal.pb", 1, leaf_balance);
    EXPECT(1, "balance_over_bound", ca_cmd_verify_proof, "verify-proof", path_of("p_bal.pb"),
           "--header", path_of("hdr.json"), "--validators", g);
    write_text("p_junk.pb", "\xff\xff\xff");
    EXPECT(3, "proof_file", ca_cmd_verify_proof, "verify-proof", path_of("p_junk.pb"), "--header",
           path_of("hdr.json"), "--validators", g);
    EXPECT(3, "genesis", ca_cmd_verify_proof, "verify-proof", path_of("proof.pb"), "--header",
           path_of("hdr.json"), "--validators", path_of("missing.json"));
}

static void test_verify_proof_json(void **state) {
    (void)state;
    const char *g = path_of("genesis.json");
    write_header_file("hdr.json", root, ENOUGH, V_OK, 0);
    cn_por_proof *p = malloc(sizeof *p);
    uint64_t row = cn_sumtree_origin(tree, 0);
    assert_int_equal(cn_sumtree_prove(tree, 0, acc_pub[row], 42, p), CN_POR_OK);
    char hex[65], d[41];
    char *buf = malloc(65536);
    size_t o = (size_t)sprintf(buf,
                               "{\"chain_id\": \"%s\", \"epoch\": %llu, \"height\": 42, \"depth\": "
                               "%u, \"leaf_count\": %llu, \"leaf_index\": 0, ",
                               CHAIN, (unsigned long long)p->epoch, p->depth,
                               (unsigned long long)p->leaf_count);
    o += (size_t)sprintf(buf + o, "\"account\": \"%s\", ", ca_hex32(hex, p->account));
    o += (size_t)sprintf(buf + o, "\"salt\": \"%s\", ", ca_hex32(hex, p->salt));
    o += (size_t)sprintf(buf + o, "\"root\": \"%s\", \"assets\": [\"AAPL\", \"USD\"], ",
                         ca_hex32(hex, p->root));
    o += (size_t)sprintf(buf + o, "\"balances\": [BAL0, \"%llu\"], \"path\": [",
                         (unsigned long long)p->balances[1]);
    for (uint32_t l = 0; l < p->depth; l++) {
        o += (size_t)sprintf(buf + o, "%s{\"hash\": \"%s\", \"sums\": [", l ? ", " : "",
                             ca_hex32(hex, p->path[l].hash));
        for (int a = 0; a < 2; a++) {
            cn_por_u128_to_dec(d, p->path[l].sums[a]);
            o += (size_t)sprintf(buf + o, "%s\"%s\"", a ? ", " : "", d);
        }
        o += (size_t)sprintf(buf + o, "]}");
    }
    o += (size_t)sprintf(buf + o, "], \"totals\": [");
    for (int a = 0; a < 2; a++) {
        cn_por_u128_to_dec(d, p->totals[a]);
        o += (size_t)sprintf(buf + o, "%s\"%s\"", a ? ", " : "", d);
    }
    sprintf(buf + o, "]}");
    char *good = malloc(65536), *neg = malloc(65536);
    char b0[32];
    snprintf(b0, sizeof b0, "%llu", (unsigned long long)p->balances[0]);
    char *at = strstr(buf, "BAL0");
    snprintf(good, 65536, "%.*s%s%s", (int)(at - buf), buf, b0, at + 4);
    snprintf(neg, 65536, "%.*s%s%s", (int)(at - buf), buf, "-3", at + 4);
    write_text("proof.json", good);
    write_text("proof_neg.json", neg);
    EXPECT(0, "", ca_cmd_verify_proof, "verify-proof", path_of("proof.json"), "--header",
           path_of("hdr.json"), "--validators", g);
    EXPECT(1, "balance_negative", ca_cmd_verify_proof, "verify-proof", path_of("proof_neg.json"),
           "--header", path_of("hdr.json"), "--validators", g);
    free(buf);
    free(good);
    free(neg);
    free(p);
}

/* ---- verify-tree ------------------------------------------------------------------------- */

static void test_verify_tree(void **state) {
    (void)state;
    char hex[65];
    ca_hex32(hex, root);
    write_leaves("leaves.txt", 0);
    EXPECT(0, "", ca_cmd_verify_tree, "verify-tree", path_of("leaves.txt"), "--root", hex);
    write_header_file("hdr.json", root, ENOUGH, V_OK, 0);
    EXPECT(0, "", ca_cmd_verify_tree, "verify-tree", path_of("leaves.txt"), "--header",
           path_of("hdr.json"), "--validators", path_of("genesis.json"));
    write_leaves("l_swap.txt", 1);
    EXPECT(1, "unsorted_leaves", ca_cmd_verify_tree, "verify-tree", path_of("l_swap.txt"));
    write_leaves("l_share.txt", 2);
    EXPECT(1, "duplicate_account", ca_cmd_verify_tree, "verify-tree", path_of("l_share.txt"));
    write_leaves("l_dup_last.txt", 3);
    EXPECT(1, "duplicate_leaf", ca_cmd_verify_tree, "verify-tree", path_of("l_dup_last.txt"));
    write_leaves("l_neg.txt", 4);
    EXPECT(1, "balance_negative", ca_cmd_verify_tree, "verify-tree", path_of("l_neg.txt"));
    write_leaves("l_big.txt", 5);
    EXPECT(1, "balance_over_bound", ca_cmd_verify_tree, "verify-tree", path_of("l_big.txt"));
    write_leaves("l_edit.txt", 6);
    EXPECT(1, "root_mismatch", ca_cmd_verify_tree, "verify-tree", path_of("l_edit.txt"));
    hex[0] = hex[0] == '0' ? '1' : '0';
    EXPECT(1, "root_not_on_chain", ca_cmd_verify_tree, "verify-tree", path_of("leaves.txt"),
           "--root", hex);
    write_text("l_trunc.txt", "clearnode-reserves-leaves 1\nchain_id x\n");
    EXPECT(3, "leaves_file", ca_cmd_verify_tree, "verify-tree", path_of("l_trunc.txt"));
}

static void test_solvency(void **state) {
    (void)state;
    cn_u128 tot[2];
    cn_sumtree_totals(tree, tot); /* AAPL 33, USD 3351 */
    assert_true(tot[0] == 33 && tot[1] == 3351);
    write_leaves("leaves.txt", 0);
    write_text("att_ok.json", "{\"chain_id\": \"" CHAIN "\", \"epoch\": 3, \"attestations\": ["
                              "{\"custodian\": \"bank-a\", \"holdings\": {\"AAPL\": 20, \"USD\": "
                              "\"3000\"}}, {\"custodian\": \"bank-b\", \"holdings\": {\"AAPL\": "
                              "13, \"USD\": 351, \"TSLA\": 5}}]}");
    EXPECT(0, "", ca_cmd_verify_tree, "verify-tree", path_of("leaves.txt"), "--attestations",
           path_of("att_ok.json"));
    /* AAPL short by one share, USD over-covered by a million dollars: still insolvent. */
    write_text("att_net.json", "{\"chain_id\": \"" CHAIN "\", \"epoch\": 3, \"attestations\": ["
                               "{\"custodian\": \"bank-a\", \"holdings\": {\"AAPL\": 32, \"USD\": "
                               "\"1000003351\"}}]}");
    EXPECT(1, "insolvent_asset", ca_cmd_verify_tree, "verify-tree", path_of("leaves.txt"),
           "--attestations", path_of("att_net.json"));
    write_text("att_epoch.json", "{\"chain_id\": \"" CHAIN "\", \"epoch\": 4, \"attestations\": []}");
    EXPECT(1, "epoch_mismatch", ca_cmd_verify_tree, "verify-tree", path_of("leaves.txt"),
           "--attestations", path_of("att_epoch.json"));
    write_text("att_neg.json", "{\"chain_id\": \"" CHAIN "\", \"epoch\": 3, \"attestations\": ["
                               "{\"custodian\": \"x\", \"holdings\": {\"AAPL\": -1}}]}");
    EXPECT(1, "attestation_negative", ca_cmd_verify_tree, "verify-tree", path_of("leaves.txt"),
           "--attestations", path_of("att_neg.json"));
}

/* ---- verify-chain against a tiny HTTP node ----------------------------------------------- */

#define CHAIN_LEN 4
static uint8_t *blocks[CHAIN_LEN + 1];
static size_t block_len[CHAIN_LEN + 1];
static char *set_answer[CHAIN_LEN + 1]; /* GET /v1/validators/{h} */
static int srv_fd;

/* Validator-set changes at block 3: SET_MORE_POWER gives validator 3 power 60 (the same keys
 * vouch for it); SET_NEW_KEYS hands the chain to four keys of which the trusted set knows
 * none; SET_LYING_NODE is SET_MORE_POWER with the node answering the genesis set. */
enum { SET_SAME, SET_MORE_POWER, SET_NEW_KEYS, SET_LYING_NODE };
static const int64_t more_power[NV] = {10, 10, 10, 60};

static char *set_json(uint64_t h) {
    char *buf = malloc(2048), hex[65];
    size_t o = (size_t)snprintf(buf, 2048, "{\"height\": %llu, \"validators\": [",
                                (unsigned long long)h);
    for (int i = 0; i < NV; i++)
        o += (size_t)snprintf(buf + o, 2048 - o, "%s{\"pubkey\": \"%s\", \"power\": %lld}",
                              i ? ", " : "", ca_hex32(hex, set_keys[i].pub),
                              (long long)set_powers[i]);
    snprintf(buf + o, 2048 - o, "]}");
    return buf;
}

/* Blocks 1..CHAIN_LEN, each carrying the commit of the previous one; `bad` breaks one link;
 * `change` switches the validator set from block 3 on. */
static void make_chain_sets(int bad, int change) {
    uint8_t prev_id[32], lch[32];
    Clearnode__V1__Commit *prev_commit = NULL;
    for (uint64_t h = 1; h <= CHAIN_LEN; h++) {
        if (h == 3 && (change == SET_MORE_POWER || change == SET_LYING_NODE))
            set_powers = more_power;
        if (h == 3 && change == SET_NEW_KEYS)
            set_keys = strangers;
        free(set_answer[h]);
        if (change == SET_LYING_NODE) {
            const int64_t *p = set_powers;
            set_powers = powers;
            set_answer[h] = set_json(h);
            set_powers = p;
        } else {
            set_answer[h] = set_json(h);
        }
        size_t hlen;
        uint8_t *enc = NULL;
        size_t elen = 0;
        if (prev_commit) {
            assert_true(cn_encode(&prev_commit->base, CN_CAP_COMMIT, &enc, &elen));
            cn_hash_tagged(lch, CN_TAG_COMMIT, enc, elen);
            free(enc);
            if (bad == 2 && h == 3)
                lch[0] ^= 1;
        }
        if (bad == 1 && h == 3)
            prev_id[5] ^= 1;
        uint8_t *hdr = make_header(h, 1000 * h, root, h > 1 ? prev_id : NULL,
                                   h > 1 ? lch : NULL, &hlen);
        Clearnode__V1__Block b;
        clearnode__v1__block__init(&b);
        b.header = (ProtobufCBinaryData){hlen, hdr};
        b.last_commit = prev_commit;
        free(blocks[h]);
        assert_true(cn_encode(&b.base, CN_CAP_BLOCK, &blocks[h], &block_len[h]));
        cn_hash_tagged(prev_id, CN_TAG_BLOCK, hdr, hlen);
        if (prev_commit)
            free_commit(prev_commit);
        prev_commit = make_commit(h, prev_id, bad == 3 && h == 2 ? TWO_SMALL : ENOUGH, V_OK);
        free(hdr);
    }
    free_commit(prev_commit);
    set_keys = vals;
    set_powers = powers;
}

static void make_chain(int bad) { make_chain_sets(bad, SET_SAME); }

static void *serve(void *arg) {
    (void)arg;
    for (;;) {
        int c = accept(srv_fd, NULL, NULL);
        if (c < 0)
            return NULL;
        char req[2048];
        ssize_t n = recv(c, req, sizeof req - 1, 0);
        req[n > 0 ? n : 0] = 0;
        unsigned long long h = 0;
        char head[256];
        if (strncmp(req, "GET /v1/status ", 15) == 0) {
            char body[64];
            int bl = snprintf(body, sizeof body, "{\"height\": %d}", CHAIN_LEN);
            int hl = snprintf(head, sizeof head,
                              "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", bl, body);
            send(c, head, (size_t)hl, 0);
        } else if (sscanf(req, "GET /v1/validators/%llu ", &h) == 1 && h >= 1 &&
                   h <= CHAIN_LEN) {
            size_t bl = strlen(set_answer[h]);
            int hl = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n",
                              bl);
            send(c, head, (size_t)hl, 0);
            send(c, set_answer[h], bl, 0);
        } else if (sscanf(req, "GET /v1/blocks/%llu?format=proto ", &h) == 1 && h >= 1 &&
                   h <= CHAIN_LEN) {
            /* Chunked, to exercise the client's decoder. */
            int hl = snprintf(head, sizeof head,
                              "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%zx\r\n",
                              block_len[h]);
            send(c, head, (size_t)hl, 0);
            send(c, blocks[h], block_len[h], 0);
            send(c, "\r\n0\r\n\r\n", 7, 0);
        } else {
            const char *nf = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
            send(c, nf, strlen(nf), 0);
        }
        close(c);
    }
}

static void test_verify_chain(void **state) {
    (void)state;
    srv_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(srv_fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(srv_fd, 8), 0);
    socklen_t al = sizeof a;
    getsockname(srv_fd, (struct sockaddr *)&a, &al);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", ntohs(a.sin_port));
    pthread_t th;
    pthread_create(&th, NULL, serve, NULL);
    const char *g = path_of("genesis.json");
    make_chain(0);
    EXPECT(0, "", ca_cmd_verify_chain, "verify-chain", "--node", url, "--validators", g);
    EXPECT(1, "nothing_to_verify", ca_cmd_verify_chain, "verify-chain", "--node", url,
           "--validators", g, "--to", "4");
    make_chain(1);
    EXPECT(1, "chain_broken", ca_cmd_verify_chain, "verify-chain", "--node", url, "--validators",
           g);
    make_chain(2);
    EXPECT(1, "last_commit_hash_mismatch", ca_cmd_verify_chain, "verify-chain", "--node", url,
           "--validators", g);
    make_chain(3);
    EXPECT(1, "commit_insufficient_power", ca_cmd_verify_chain, "verify-chain", "--node", url,
           "--validators", g);
    EXPECT(0, "", ca_cmd_verify_chain, "verify-chain", "--node", url, "--validators", g, "--from",
           "3");
    /* The header file can also be two encoded blocks: block 2 and block 3 (its commit). */
    make_chain(0);
    write_file("b2.pb", blocks[2], block_len[2]);
    write_file("b3.pb", blocks[3], block_len[3]);
    write_proof("proof.pb", 0, NULL);
    EXPECT(0, "", ca_cmd_verify_proof, "verify-proof", path_of("proof.pb"), "--header",
           path_of("b2.pb"), "--next-block", path_of("b3.pb"), "--validators", g);
    EXPECT(1, "commit_missing", ca_cmd_verify_proof, "verify-proof", path_of("proof.pb"),
           "--header", path_of("b2.pb"), "--validators", g);
    EXPECT(4, "network", ca_cmd_verify_chain, "verify-chain", "--node", "http://127.0.0.1:1",
           "--validators", g);

    /* A power change at block 3, vouched for by the whole genesis set: followed, and the set
     * written out is the new one, which then verifies the later blocks by itself. */
    make_chain_sets(0, SET_MORE_POWER);
    const char *nv = path_of("validators-now.json");
    EXPECT(0, "", ca_cmd_verify_chain, "verify-chain", "--node", url, "--validators", g,
           "--write-validators", nv);
    json_t *rep = json_load_file(path_of("stdout.json"), 0, NULL);
    json_t *ch = json_object_get(rep, "set_changes");
    assert_int_equal(json_array_size(ch), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(ch, 0), "height")), 3);
    /* the precommits of validators 3, 1, 2: 30 + 10 + 10 of the genesis set's 60 */
    assert_int_equal(json_integer_value(json_object_get(json_array_get(ch, 0), "vouched_power")),
                     50);
    assert_int_equal(json_integer_value(json_object_get(rep, "total_power")), 90);
    json_decref(rep);
    ca_valset *got = malloc(sizeof *got);
    char err[256];
    assert_true(ca_valset_load(got, nv, err, sizeof err));
    set_powers = more_power;
    uint8_t want[32];
    valset_hash(want);
    set_powers = powers;
    assert_memory_equal(got->hash, want, 32);
    assert_string_equal(got->chain_id, CHAIN);
    free(got);
    EXPECT(0, "", ca_cmd_verify_chain, "verify-chain", "--node", url, "--validators", nv,
           "--from", "3");
    /* ... but the genesis set alone, without the node's answer, is not enough */
    EXPECT(1, "validator_set_mismatch", ca_cmd_verify_proof, "verify-proof", path_of("proof.pb"),
           "--header", path_of("b2.pb"), "--next-block", path_of("b3.pb"), "--validators", nv);
    /* The node answers a set that is not the one the header names. */
    make_chain_sets(0, SET_LYING_NODE);
    EXPECT(1, "validator_set_mismatch", ca_cmd_verify_chain, "verify-chain", "--node", url,
           "--validators", g);
    /* Keys the trusted set never vouched for take over: > 2/3 of their own set signed, none
     * of the trusted set did. */
    make_chain_sets(0, SET_NEW_KEYS);
    EXPECT(1, "validator_set_unverified", ca_cmd_verify_chain, "verify-chain", "--node", url,
           "--validators", g);
    EXPECT(0, "", ca_cmd_verify_chain, "verify-chain", "--node", url, "--validators", g, "--to",
           "2");
    shutdown(srv_fd, SHUT_RDWR);
    close(srv_fd);
    pthread_join(th, NULL);
    for (int i = 0; i <= CHAIN_LEN; i++) {
        free(blocks[i]);
        free(set_answer[i]);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verify_proof), cmocka_unit_test(test_verify_proof_json),
        cmocka_unit_test(test_verify_tree),  cmocka_unit_test(test_solvency),
        cmocka_unit_test(test_verify_chain),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
