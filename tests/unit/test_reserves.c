/* Reserves module: epoch trees from balances + locked balances, the state record, reserve_attest
 * validation and per-asset solvency, and the reserves_root carried by the next header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "chainkit.h"
#include "node/app/custody.h"
#include "node/app/endblock.h"
#include "node/app/margin.h"
#include "node/app/margin_store.h"
#include "node/app/reserves.h"
#include "node/app/reserves_view.h"
#include "node/contract/chost.h"
#include "node/contract/contract.h"
#include "proto/codec.h"
#include "crypto/bytes.h"
#include "crypto/sumtree_pb.h"
#include "tests/unit/tmpdir.h"

static int cmp_pub(const void *a, const void *b) { return memcmp(a, b, 32); }

static int setup(void **st) {
    (void)st;
    return cn_crypto_init() ? 0 : -1;
}

/* A genesis with 3-block reserves epochs. */
static void load_genesis(cn_genesis *g) {
    char *j = tk_genesis_json("\"params\":{\"reserves\":{\"epoch_blocks\":3}},");
    char err[256];
    assert_true(cn_genesis_parse(g, (const uint8_t *)j, strlen(j), NULL, err, sizeof err));
    free(j);
}

static void put_client(cn_overlay *ov, const uint8_t pub[32]) {
    cn_account a;
    memset(&a, 0, sizeof a);
    a.kind = CN_ACCT_CLIENT;
    assert_true(cn_state_put_account(ov, pub, &a));
}

typedef struct {
    cn_genesis g;
    cn_overlay ov;
    cn_keypair c1, c2, contract, cust, beta;
} world;

/* Two clients (c1: 100 USD + 30 locked USD, 7 AAPL; c2: 50 USD), and a contract id holding
 * 1000 USD without an 'a' record (not a client: left out). */
static void world_open(world *w) {
    memset(w, 0, sizeof *w);
    load_genesis(&w->g);
    cn_overlay_init(&w->ov, NULL);
    tk_key(&w->c1, 10);
    tk_key(&w->c2, 11);
    tk_key(&w->contract, 12);
    tk_key(&w->cust, 0);
    tk_key(&w->beta, 1);
    put_client(&w->ov, w->c1.pub);
    put_client(&w->ov, w->c2.pub);
    assert_true(cn_state_set_balance(&w->ov, w->c1.pub, "USD", 100));
    assert_true(cn_custody_set_locked(&w->ov, w->c1.pub, "USD", 30));
    assert_true(cn_state_set_balance(&w->ov, w->c1.pub, "AAPL", 7));
    assert_true(cn_state_set_balance(&w->ov, w->c2.pub, "USD", 50));
    assert_true(cn_state_set_balance(&w->ov, w->contract.pub, "USD", 1000));
}

static void world_close(world *w) {
    cn_overlay_free(&w->ov);
    cn_genesis_free(&w->g);
}

static size_t asset_index(const cn_reserves_epoch *e, const char *sym) {
    for (size_t i = 0; i < e->n_assets; i++)
        if (strcmp(e->assets[i], sym) == 0)
            return i;
    fail_msg("asset %s missing", sym);
    return 0;
}

static void test_epoch_boundary_builds_tree(void **st) {
    (void)st;
    world w;
    world_open(&w);
    cn_evlist ev = {0};
    cn_reserves_epoch e;
    /* Heights 1 and 2 are inside epoch 1: nothing is built. */
    assert_true(cn_reserves_end_block(&w.ov, &w.g, 2, &ev));
    assert_int_equal(cn_reserves_get_epoch(&w.ov, 1, &e), 0);
    uint64_t latest = 99;
    assert_int_equal(cn_reserves_latest(&w.ov, &latest), 1);
    assert_int_equal(latest, 0);
    /* Height 3 ends epoch 1. */
    assert_true(cn_reserves_end_block(&w.ov, &w.g, 3, &ev));
    assert_int_equal(cn_reserves_get_epoch(&w.ov, 1, &e), 1);
    assert_int_equal(e.height, 3);
    assert_int_equal(e.leaf_count, 2); /* the contract balance is not a client's */
    assert_int_equal(e.depth, CN_POR_MIN_DEPTH);
    assert_int_equal(e.n_assets, w.g.n_assets);
    /* Totals = Σ (balance + locked) per asset. */
    assert_true(e.totals[asset_index(&e, "USD")] == (cn_u128)180);
    assert_true(e.totals[asset_index(&e, "AAPL")] == (cn_u128)7);
    assert_int_equal(cn_reserves_latest(&w.ov, &latest), 1);
    assert_int_equal(latest, 1);
    assert_int_equal(ev.n, 1);
    assert_string_equal(ev.ev[0].type, "reserves.published");
    /* The stored leaf set rebuilds the same root, and c1's proof verifies with its locked
     * balance counted. */
    cn_sumtree *t = NULL;
    assert_int_equal(cn_reserves_rebuild(&w.ov, w.g.chain_id, 1, &t), 1);
    uint8_t ah[32];
    uint64_t idx;
    cn_por_account_hash(ah, 1, w.c1.pub);
    assert_true(cn_sumtree_find(t, ah, &idx));
    cn_por_proof *p = malloc(sizeof *p);
    assert_non_null(p);
    assert_int_equal(cn_sumtree_prove(t, idx, w.c1.pub, 4, p), CN_POR_OK);
    assert_int_equal(cn_por_verify(p, e.root, NULL), CN_POR_OK);
    assert_int_equal(p->balances[asset_index(&e, "USD")], 130);
    /* The salt is the documented derivation from the client's secret. */
    uint8_t secret[32], salt[32];
    cn_reserves_account_secret(secret, w.c1.pub);
    cn_por_salt(salt, secret, 1, w.c1.pub);
    assert_memory_equal(p->salt, salt, 32);
    free(p);
    cn_sumtree_free(t);
    /* A different consortium key changes every salt, hence the root. */
    uint8_t key[32];
    memset(key, 7, sizeof key);
    cn_reserves_set_key(key);
    assert_true(cn_reserves_end_block(&w.ov, &w.g, 6, &ev));
    cn_reserves_epoch e2;
    assert_int_equal(cn_reserves_get_epoch(&w.ov, 2, &e2), 1);
    assert_memory_not_equal(e2.root, e.root, 32);
    memset(key, 0, sizeof key);
    cn_reserves_set_key(key);
    cn_evlist_free(&ev);
    world_close(&w);
}

/* The stored leaf-set chunk `chunk` of `epoch` ('r' 'L' epoch chunk); it must exist. */
static const uint8_t *leaf_chunk(cn_overlay *ov, uint64_t epoch, uint32_t chunk, size_t *len) {
    cn_key k;
    cn_key_start(&k, CN_SK_RESERVES);
    cn_key_u8(&k, 'L');
    cn_key_be64(&k, epoch);
    cn_key_be32(&k, chunk);
    const uint8_t *v;
    assert_int_equal(cn_overlay_get(ov, k.b, k.len, &v, len), 1);
    return v;
}

/* A leaf set larger than one 4 MiB chunk is stored in several values and rebuilds the same
 * root. */
static void test_leaf_set_chunks(void **st) {
    (void)st;
    cn_genesis g;
    load_genesis(&g);
    cn_overlay ov;
    cn_overlay_init(&ov, NULL);
    size_t per = CN_RESERVES_CHUNK_BYTES / (32 + 8 * g.n_assets), n = per + 100;
    for (uint64_t i = 0; i < n; i++) {
        uint8_t pub[32];
        cn_sha256(pub, &i, sizeof i);
        put_client(&ov, pub);
        assert_true(cn_state_set_balance(&ov, pub, "USD", (int64_t)i + 1));
    }
    cn_evlist ev = {0};
    assert_true(cn_reserves_end_block(&ov, &g, 3, &ev));
    cn_evlist_free(&ev);
    cn_reserves_epoch e;
    assert_int_equal(cn_reserves_get_epoch(&ov, 1, &e), 1);
    assert_int_equal(e.leaf_count, n);
    assert_true(e.totals[0] == (cn_u128)n * (n + 1) / 2);
    size_t vl;
    leaf_chunk(&ov, 1, 1, &vl);
    assert_int_equal(vl, 100 * (32 + 8 * g.n_assets));
    cn_sumtree *t = NULL;
    assert_int_equal(cn_reserves_rebuild(&ov, g.chain_id, 1, &t), 1);
    cn_sumtree_free(t);
    cn_overlay_free(&ov);
    cn_genesis_free(&g);
}

/* The epoch step over state split between the committed store and the block's overlay
 * (updates, deletes, new clients, balances in a symbol that only shares a prefix with a
 * genesis asset, margin cash and loans) gathers exactly the claims that point reads of each
 * account's balance, locked balance and margin cash give: same accounts, same order, same
 * amounts. */
#define SPLIT_N 240

/* Writes pub's margin cash record in the contract's layout (docs/margin.md): be64 cash in
 * two's complement, be64 interest index. */
static void put_cash(cn_overlay *ov, const uint8_t pub[32], int64_t cash) {
    uint8_t cid[32], key[33], k[CN_CSTORE_PREFIX_LEN + CN_VM_MAX_KEY], v[16];
    cn_contract_id(CN_MARGIN_NAME, cid);
    key[0] = 'c';
    memcpy(key + 1, pub, 32);
    cn_put_be64(v, (uint64_t)cash);
    cn_put_be64(v + 8, 1000000000u);
    assert_true(cn_overlay_put(ov, k, cn_cstore_key(k, cid, key, sizeof key), v, sizeof v));
}

static void rand_state(cn_overlay *ov, uint64_t i) {
    uint8_t pub[32];
    cn_sha256(pub, &i, sizeof i);
    if (i % 7 != 3)
        put_client(ov, pub); /* every 7th is a holder without an account record */
    if (i % 4 != 0)
        assert_true(cn_state_set_balance(ov, pub, "USD", (int64_t)(i * 977 % 100000) + 1));
    if (i % 3 == 0)
        assert_true(cn_state_set_balance(ov, pub, "AAPL", (int64_t)(i % 50) + 1));
    if (i % 5 == 0)
        assert_true(cn_custody_set_locked(ov, pub, i % 10 ? "USD" : "AAPL", (int64_t)i + 1));
    if (i % 6 == 0)
        assert_true(cn_state_set_balance(ov, pub, "USDX", 999)); /* not a genesis asset */
    if (i % 2 == 1)
        put_cash(ov, pub, (int64_t)(i * 31 % 5000) * (i % 4 == 1 ? 1 : -1));
}

static void block_changes(cn_overlay *ov, uint64_t i) {
    uint8_t pub[32];
    cn_sha256(pub, &i, sizeof i);
    cn_key k;
    switch (i % 9) {
    case 0: /* a new client */
        cn_sha256(pub, (uint64_t[1]){i + 100000}, 8);
        put_client(ov, pub);
        assert_true(cn_state_set_balance(ov, pub, "AAPL", (int64_t)i + 5));
        break;
    case 1: /* spends everything */
        assert_true(cn_state_set_balance(ov, pub, "USD", 0));
        assert_true(cn_state_set_balance(ov, pub, "AAPL", 0));
        assert_true(cn_custody_set_locked(ov, pub, "USD", 0));
        break;
    case 2:
        assert_true(cn_state_set_balance(ov, pub, "USD", 123456));
        break;
    case 4:
        assert_true(cn_custody_set_locked(ov, pub, "AAPL", 17));
        put_cash(ov, pub, 4242);
        break;
    case 8: /* a loan in the block */
        put_cash(ov, pub, -77);
        break;
    case 5: /* the account record goes: its balances are no client's claim */
        cn_sk_account(&k, pub);
        assert_true(cn_overlay_del(ov, k.b, k.len));
        break;
    case 7: /* becomes a client */
        put_client(ov, pub);
        break;
    default:
        break;
    }
}

/* Expected leaf rows by point reads: (pubkey, K x be64) for every account with a claim. */
static size_t expected_rows(cn_overlay *ov, const cn_genesis *g, uint8_t *rows) {
    uint8_t(*pubs)[32] = malloc(2 * SPLIT_N * 32);
    assert_non_null(pubs);
    size_t np = 0;
    for (uint64_t i = 0; i < SPLIT_N; i++) {
        cn_sha256(pubs[np++], &i, sizeof i);
        cn_sha256(pubs[np++], (uint64_t[1]){i + 100000}, 8);
    }
    qsort(pubs, np, 32, cmp_pub);
    size_t row = 32 + 8 * g->n_assets, n = 0;
    uint8_t cid[32];
    assert_int_equal(cn_margin_deployed(ov, cid), 1);
    for (size_t i = 0; i < np; i++) {
        cn_account a;
        int r = cn_state_get_account(ov, pubs[i], &a);
        assert_true(r >= 0);
        if (!r)
            continue;
        uint8_t *p = rows + n * row;
        int any = 0;
        memcpy(p, pubs[i], 32);
        for (size_t k = 0; k < g->n_assets; k++) {
            int64_t b, l;
            assert_true(cn_state_get_balance(ov, pubs[i], g->assets[k].symbol, &b) >= 0);
            assert_true(cn_custody_get_locked(ov, pubs[i], g->assets[k].symbol, &l) >= 0);
            int64_t m = 0;
            if (k == 0)
                assert_int_equal(cn_margin_cash_claim(ov, cid, pubs[i], &m), 1);
            cn_put_be64(p + 32 + 8 * k, (uint64_t)(b + l + m));
            any |= b + l + m != 0;
        }
        n += any ? 1 : 0;
    }
    free(pubs);
    return n;
}

static void test_epoch_over_committed_state(void **st) {
    (void)st;
    cn_genesis g;
    load_genesis(&g);
    tdir td;
    assert_int_equal(tdir_make_prefixed(&td, "cn-test-reserves-"), 0);
    cn_store *s = NULL;
    cn_store_opts o = {.map_size = (size_t)64 << 20};
    assert_int_equal(cn_store_open(&s, td.data, &o), CN_STORE_OK);
    cn_overlay ov;
    cn_overlay_init(&ov, NULL);
    cn_key mk; /* the margin contract counts as deployed once its record exists */
    cn_sk_named(&mk, CN_SK_CONTRACT, CN_MARGIN_NAME);
    assert_true(cn_overlay_put(&ov, mk.b, mk.len, "code", 4));
    for (uint64_t i = 0; i < SPLIT_N; i++)
        rand_state(&ov, i);
    size_t nw;
    cn_ov_write *w = cn_overlay_writes(&ov, &nw);
    cn_store_wtxn *t;
    assert_int_equal(cn_store_begin(s, &t), CN_STORE_OK);
    for (size_t i = 0; i < nw; i++)
        assert_int_equal(cn_store_put(t, CN_DB_STATE, w[i].key, w[i].klen, w[i].val, w[i].vlen),
                         CN_STORE_OK);
    assert_int_equal(cn_store_commit(t), CN_STORE_OK);
    free(w);
    cn_overlay_free(&ov);
    cn_store_rtxn *r;
    assert_int_equal(cn_store_read_begin(s, &r), CN_STORE_OK);
    cn_overlay_init(&ov, r);
    for (uint64_t i = 0; i < SPLIT_N; i++)
        block_changes(&ov, i);
    size_t row = 32 + 8 * g.n_assets;
    uint8_t *want = malloc(2 * SPLIT_N * row);
    assert_non_null(want);
    size_t n = expected_rows(&ov, &g, want);
    assert_true(n > SPLIT_N / 2);
    cn_evlist ev = {0};
    assert_true(cn_reserves_end_block(&ov, &g, 3, &ev));
    cn_evlist_free(&ev);
    cn_reserves_epoch e;
    assert_int_equal(cn_reserves_get_epoch(&ov, 1, &e), 1);
    assert_int_equal(e.leaf_count, n);
    size_t vl;
    const uint8_t *v = leaf_chunk(&ov, 1, 0, &vl);
    assert_int_equal(vl, n * row);
    assert_memory_equal(v, want, n * row);
    free(want);
    cn_overlay_free(&ov);
    cn_store_read_end(r);
    cn_store_close(s);
    tdir_remove(&td);
    cn_genesis_free(&g);
}

/* Runs reserve_attest through validate and exec; returns the code. */
static cn_txerr attest(world *w, const uint8_t signer[32], uint64_t epoch, const char **assets,
                       const uint64_t *amounts, size_t n, cn_exec_result *r) {
    Clearnode__V1__AssetAmount h[4], *hp[4];
    Clearnode__V1__ReserveAttest a;
    clearnode__v1__reserve_attest__init(&a);
    for (size_t i = 0; i < n; i++) {
        clearnode__v1__asset_amount__init(&h[i]);
        h[i].asset = (char *)(uintptr_t)assets[i];
        h[i].amount = amounts[i];
        hp[i] = &h[i];
    }
    a.epoch = epoch;
    a.n_holdings = n;
    a.holdings = hp;
    memset(r, 0, sizeof *r);
    cn_txerr e = cn_reserves_validate(&a, r->message, sizeof r->message);
    if (e != CN_TX_OK)
        return e;
    size_t mark = cn_overlay_mark(&w->ov);
    cn_reserves_exec(&w->ov, signer, &a, r);
    if (r->code != CN_TX_OK)
        cn_overlay_rollback(&w->ov, mark);
    cn_overlay_release(&w->ov);
    return r->code;
}

static const char *event_attr(const cn_event *e, const char *key) {
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->attrs[i].key, key) == 0)
            return e->attrs[i].value;
    return NULL;
}

static void test_attest_and_solvency(void **st) {
    (void)st;
    world w;
    world_open(&w);
    cn_evlist ev = {0};
    assert_true(cn_reserves_end_block(&w.ov, &w.g, 3, &ev));
    cn_evlist_free(&ev);
    cn_exec_result r;
    const char *both[] = {"USD", "AAPL"};
    const char *dup[] = {"USD", "USD"};
    const char *bad[] = {"EUR"};
    uint64_t amt[] = {1000000, 3};
    /* Field checks: duplicate asset, unknown epoch, unknown asset. */
    assert_int_equal(attest(&w, w.cust.pub, 1, dup, amt, 2, &r), CN_TX_INVALID_FIELD);
    assert_non_null(strstr(r.message, "twice"));
    assert_int_equal(attest(&w, w.cust.pub, 2, both, amt, 2, &r), CN_TX_NOT_FOUND);
    assert_int_equal(attest(&w, w.cust.pub, 0, both, amt, 2, &r), CN_TX_INVALID_FIELD);
    assert_int_equal(attest(&w, w.cust.pub, 1, bad, amt, 1, &r), CN_TX_UNKNOWN_ASSET);
    /* Non-custodians are refused by the permission table. */
    cn_account client = {.kind = CN_ACCT_CLIENT};
    cn_account auditor = {.kind = CN_ACCT_MEMBER, .roles = CN_ROLE_AUDITOR};
    cn_account cust = {.kind = CN_ACCT_MEMBER, .roles = CN_ROLE_CUSTODIAN};
    assert_false(cn_tx_permitted(CLEARNODE__V1__TX__KIND_RESERVE_ATTEST, &client));
    assert_false(cn_tx_permitted(CLEARNODE__V1__TX__KIND_RESERVE_ATTEST, &auditor));
    assert_true(cn_tx_permitted(CLEARNODE__V1__TX__KIND_RESERVE_ATTEST, &cust));
    /* USD hugely over-covered (1,000,000 >= 180) but AAPL short (3 < 7): insolvent. A surplus
     * in one asset never covers another. */
    assert_int_equal(attest(&w, w.cust.pub, 1, both, amt, 2, &r), CN_TX_OK);
    assert_int_equal(r.n_events, 2);
    assert_string_equal(r.events[0].type, "reserves.attested");
    assert_string_equal(r.events[1].type, "reserves.insolvent");
    assert_string_equal(event_attr(&r.events[1], "asset"), "AAPL");
    assert_string_equal(event_attr(&r.events[1], "shortfall"), "4");
    cn_reserves_solvency s;
    cn_reserves_epoch e;
    assert_int_equal(cn_reserves_get_epoch(&w.ov, 1, &e), 1);
    assert_int_equal(cn_reserves_get_solvency(&w.ov, 1, &s), 1);
    assert_int_equal(s.solvent[asset_index(&e, "USD")], 1);
    assert_int_equal(s.solvent[asset_index(&e, "AAPL")], 0);
    /* The same custodian cannot attest the epoch twice. */
    assert_int_equal(attest(&w, w.cust.pub, 1, both, amt, 2, &r), CN_TX_DUPLICATE_APPROVAL);
    /* A second custodian holding 4 AAPL: reserves are summed per asset, now all covered. */
    const char *aapl[] = {"AAPL"};
    uint64_t four[] = {4};
    assert_int_equal(attest(&w, w.beta.pub, 1, aapl, four, 1, &r), CN_TX_OK);
    assert_string_equal(r.events[1].type, "reserves.solvent");
    assert_int_equal(cn_reserves_get_solvency(&w.ov, 1, &s), 1);
    assert_true(s.reserves[asset_index(&e, "AAPL")] == (cn_u128)7);
    assert_int_equal(s.solvent[asset_index(&e, "AAPL")], 1);
    world_close(&w);
}

/* Reads block `h`'s header reserves_root from the store into out; returns its length. */
static size_t header_root(tk_chain *c, uint64_t h, uint8_t out[32]) {
    cn_store_rtxn *r;
    assert_int_equal(cn_store_read_begin(c->store, &r), CN_STORE_OK);
    uint8_t k[8];
    cn_key_height(k, h);
    const void *v;
    size_t n, len = 99;
    assert_int_equal(cn_store_read_get(r, CN_DB_BLOCKS, k, 8, &v, &n), CN_STORE_OK);
    cn_pb pb;
    assert_int_equal(cn_decode(CN_MSG_BLOCK, v, n, &pb), CN_DECODE_OK);
    const Clearnode__V1__Block *b = (const Clearnode__V1__Block *)pb.msg;
    cn_pb hp;
    assert_int_equal(cn_decode(CN_MSG_HEADER, b->header.data, b->header.len, &hp), CN_DECODE_OK);
    const Clearnode__V1__Header *hd = (const Clearnode__V1__Header *)hp.msg;
    len = hd->reserves_root.len;
    if (len == 32)
        memcpy(out, hd->reserves_root.data, 32);
    cn_pb_free(&hp);
    cn_pb_free(&pb);
    cn_store_read_end(r);
    return len;
}

/* Signs `request` at time ts with kp; fills the header values. */
static void sign_req(const cn_keypair *kp, const char *request, uint64_t ts, char signer[65],
                     char sig[129], char tss[24]) {
    uint8_t d[32], s[64];
    cn_reserves_api_digest(d, TK_CHAIN, request, ts);
    assert_true(cn_sign32(kp, s, d, NULL));
    cn_hex_encode(signer, kp->pub, 32);
    cn_hex_encode(sig, s, 64);
    snprintf(tss, 24, "%llu", (unsigned long long)ts);
}

/* The read side on a chain whose epoch 1 holds client `cl`: summary, proof, export, auth. */
static void check_views(tk_chain *c, const uint8_t cl_pub[32]) {
    json_t *j = cn_reserves_view_epoch(c->store, 1);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "leaf_count")), 1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "totals"), "USD")),
                        "500");
    assert_int_equal(json_integer_value(json_object_get(j, "header_height")), 4);
    assert_true(json_is_true(json_object_get(j, "all_solvent")));
    assert_int_equal(json_array_size(json_object_get(j, "attestations")), 1);
    json_decref(j);
    assert_null(cn_reserves_view_epoch(c->store, 2));
    /* The proof (proto) decodes and verifies against the committed root. */
    uint8_t *out;
    size_t len;
    assert_int_equal(cn_reserves_view_proof(c->store, TK_CHAIN, 1, cl_pub, 1, &out, &len), 1);
    cn_pb pb;
    assert_int_equal(cn_decode(CN_MSG_RESERVES_PROOF, out, len, &pb), CN_DECODE_OK);
    cn_por_proof *p = malloc(sizeof *p);
    assert_non_null(p);
    assert_int_equal(cn_por_proof_from_pb(p, (const Clearnode__V1__ReservesProof *)pb.msg, NULL),
                     CN_POR_OK);
    uint8_t root[32];
    assert_int_equal(cn_reserves_committed_root(c->store, root), 1);
    assert_int_equal(cn_por_verify(p, root, NULL), CN_POR_OK);
    free(p);
    cn_pb_free(&pb);
    free(out);
    /* JSON form carries the client's secret. */
    assert_int_equal(cn_reserves_view_proof(c->store, TK_CHAIN, 1, cl_pub, 0, &out, &len), 1);
    assert_non_null(strstr((char *)out, "\"secret\""));
    free(out);
    cn_keypair other;
    tk_key(&other, 21);
    assert_int_equal(cn_reserves_view_proof(c->store, TK_CHAIN, 1, other.pub, 1, &out, &len), 0);
    char *txt;
    assert_int_equal(cn_reserves_view_leaves(c->store, TK_CHAIN, 1, &txt, &len), 1);
    assert_int_equal(strncmp(txt, "clearnode-reserves-leaves 1\nchain_id test-chain\n", 46), 0);
    assert_non_null(strstr(txt, "\nleaf_count 1\n"));
    assert_non_null(strstr(txt, "\nend\n"));
    free(txt);
    /* Request signing: the account itself, an auditor, nobody else; fresh timestamps only. */
    char hex[65], req[200], signer[65], sig[129], ts[24], why[160];
    cn_hex_encode(hex, cl_pub, 32);
    snprintf(req, sizeof req, "GET /v1/reserves/1/proof/%s", hex);
    uint64_t now = 1800000000;
    cn_keypair client, auditor;
    tk_key(&client, 20);
    tk_key(&auditor, 2);
    sign_req(&client, req, now, signer, sig, ts);
    assert_true(cn_reserves_api_auth(c->store, TK_CHAIN, req, signer, sig, ts, now + 60, cl_pub,
                                     why, sizeof why));
    assert_false(cn_reserves_api_auth(c->store, TK_CHAIN, req, signer, sig, ts, now + 61, cl_pub,
                                      why, sizeof why));
    assert_non_null(strstr(why, "Timestamp"));
    /* the same signature on another path or chain does not verify */
    assert_false(cn_reserves_api_auth(c->store, TK_CHAIN, "GET /v1/reserves/2/leaves", signer,
                                      sig, ts, now, NULL, why, sizeof why));
    assert_false(cn_reserves_api_auth(c->store, "other-chain", req, signer, sig, ts, now, cl_pub,
                                      why, sizeof why));
    sign_req(&other, req, now, signer, sig, ts);
    assert_false(cn_reserves_api_auth(c->store, TK_CHAIN, req, signer, sig, ts, now, cl_pub, why,
                                      sizeof why));
    assert_non_null(strstr(why, "neither"));
    sign_req(&auditor, req, now, signer, sig, ts);
    assert_true(cn_reserves_api_auth(c->store, TK_CHAIN, req, signer, sig, ts, now, cl_pub, why,
                                     sizeof why));
    assert_false(cn_reserves_api_auth(c->store, TK_CHAIN, req, NULL, sig, ts, now, cl_pub, why,
                                      sizeof why));
    assert_false(cn_reserves_api_auth(c->store, TK_CHAIN, req, signer, sig, "12x", now, cl_pub,
                                      why, sizeof why));
}

static void test_header_carries_root(void **st) {
    (void)st;
    tk_chain c;
    char *j = tk_genesis_json("\"params\":{\"reserves\":{\"epoch_blocks\":3}},");
    assert_true(tk_open(&c, j));
    free(j);
    cn_keypair cl;
    tk_key(&cl, 20);
    uint8_t *b;
    size_t n;
    assert_true(cn_tx_register_client(&c.val, TK_CHAIN, 1, cl.pub, "c", &b, &n));
    assert_int_equal(tk_submit(&c, b, n, NULL), CN_TX_OK);
    assert_true(cn_tx_deposit(&c.val, TK_CHAIN, 2, cl.pub, "USD", 500, (const uint8_t *)"r1", 2,
                              &b, &n));
    assert_int_equal(tk_submit(&c, b, n, NULL), CN_TX_OK);
    char err[256];
    for (int i = 0; i < 4; i++)
        assert_int_equal(cn_producer_step(&c.prod, 1, err, sizeof err), 1);
    uint8_t root[32], want[32];
    for (uint64_t h = 1; h <= 3; h++)
        assert_int_equal(header_root(&c, h, root), 0);
    assert_int_equal(cn_reserves_committed_root(c.store, want), 1);
    assert_int_equal(header_root(&c, 4, root), 32);
    assert_memory_equal(root, want, 32);
    /* A header with the wrong root is refused. */
    char why[200];
    uint8_t wrong[32];
    memcpy(wrong, want, 32);
    wrong[0] ^= 1;
    assert_false(cn_reserves_header_ok(c.store, wrong, 32, why, sizeof why));
    assert_non_null(strstr(why, "reserves_root"));
    assert_false(cn_reserves_header_ok(c.store, NULL, 0, why, sizeof why));
    assert_true(cn_reserves_header_ok(c.store, want, 32, why, sizeof why));
    /* A custodian attests through a real tx. */
    Clearnode__V1__AssetAmount h;
    clearnode__v1__asset_amount__init(&h);
    h.asset = (char *)(uintptr_t)"USD";
    h.amount = 500;
    Clearnode__V1__AssetAmount *hp = &h;
    Clearnode__V1__ReserveAttest a;
    clearnode__v1__reserve_attest__init(&a);
    a.epoch = 1;
    a.n_holdings = 1;
    a.holdings = &hp;
    Clearnode__V1__Tx tx;
    clearnode__v1__tx__init(&tx);
    tx.nonce = 3;
    tx.kind_case = CLEARNODE__V1__TX__KIND_RESERVE_ATTEST;
    tx.reserve_attest = &a;
    assert_true(cn_tx_sign(&c.val, TK_CHAIN, &tx, &b, &n));
    uint8_t id[32];
    assert_int_equal(tk_submit(&c, b, n, id), CN_TX_OK);
    assert_int_equal(tk_block(&c), 1);
    assert_int_equal(tk_receipt_code(&c, id), CN_TX_OK);
    check_views(&c, cl.pub);
    tk_close(&c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_epoch_boundary_builds_tree),
        cmocka_unit_test(test_attest_and_solvency),
        cmocka_unit_test(test_leaf_set_chunks),
        cmocka_unit_test(test_epoch_over_committed_state),
        cmocka_unit_test(test_header_carries_root),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
