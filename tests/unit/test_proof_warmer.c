/* The reserves proof warmer (node/chain/proof_warmer.h) over a real store: nothing to do
 * before the first epoch; once an epoch is committed a poke caches its tree (and a proof is
 * then served from it); a newer epoch replaces it; an epoch whose stored leaf set does not
 * rebuild its root is reported once and not retried on every poke. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <time.h>

#include "chainkit.h"
#include "node/app/reserves.h"
#include "node/app/reserves_view.h"
#include "node/chain/proof_warmer.h"
#include "node/util/log.h"
#include "tests/unit/tmpdir.h"

typedef struct {
    tdir td;
    cn_store *store;
    cn_genesis g;
    uint8_t client[32];
} world;

static int setup(void **st) {
    (void)st;
    cn_log_set_level(CN_LOGL_ERROR);
    return cn_crypto_init() ? 0 : -1;
}

static void world_open(world *w) {
    memset(w, 0, sizeof *w);
    char *j = tk_genesis_json("\"params\":{\"reserves\":{\"epoch_blocks\":3}},");
    char err[256];
    assert_true(cn_genesis_parse(&w->g, (const uint8_t *)j, strlen(j), NULL, err, sizeof err));
    free(j);
    assert_int_equal(tdir_make_prefixed(&w->td, "cn-test-warmer-"), 0);
    cn_store_opts o = {.map_size = (size_t)64 << 20};
    assert_int_equal(cn_store_open(&w->store, w->td.data, &o), CN_STORE_OK);
}

static void world_close(world *w) {
    cn_store_close(w->store);
    tdir_remove(&w->td);
    cn_genesis_free(&w->g);
}

/* Commits one block's worth of state: `clients` clients holding USD, and the epoch step at
 * `height`. With `corrupt`, the stored leaf set is altered after the root was computed. */
static void commit_epoch(world *w, unsigned clients, uint64_t height, int corrupt) {
    cn_store_rtxn *r;
    assert_int_equal(cn_store_read_begin(w->store, &r), CN_STORE_OK);
    cn_overlay ov;
    cn_overlay_init(&ov, r);
    for (unsigned i = 0; i < clients; i++) {
        uint8_t pub[32];
        assert_true(tk_put_client(&ov, 20 + i, pub));
        assert_true(cn_state_set_balance(&ov, pub, "USD", 1000 + i));
        if (i == 0)
            memcpy(w->client, pub, 32);
    }
    cn_evlist ev = {0};
    assert_true(cn_reserves_end_block(&ov, &w->g, height, &ev));
    cn_evlist_free(&ev);
    if (corrupt) {
        cn_key k;
        cn_key_start(&k, CN_SK_RESERVES);
        cn_key_u8(&k, 'L');
        cn_key_be64(&k, height / 3);
        cn_key_be32(&k, 0);
        const uint8_t *v;
        size_t vl;
        assert_int_equal(cn_overlay_get(&ov, k.b, k.len, &v, &vl), 1);
        uint8_t *x = malloc(vl);
        assert_non_null(x);
        memcpy(x, v, vl);
        x[vl - 1] ^= 1; /* one unit more or less in the last claim */
        assert_true(cn_overlay_put(&ov, k.b, k.len, x, vl));
        free(x);
    }
    size_t nw;
    cn_ov_write *wr = cn_overlay_writes(&ov, &nw);
    cn_store_wtxn *t;
    assert_int_equal(cn_store_begin(w->store, &t), CN_STORE_OK);
    for (size_t i = 0; i < nw; i++) {
        cn_store_err e = wr[i].op == CN_OV_PUT
                             ? cn_store_put(t, CN_DB_STATE, wr[i].key, wr[i].klen, wr[i].val,
                                            wr[i].vlen)
                             : cn_store_del(t, CN_DB_STATE, wr[i].key, wr[i].klen);
        assert_true(e == CN_STORE_OK || e == CN_STORE_NOTFOUND);
    }
    assert_int_equal(cn_store_commit(t), CN_STORE_OK);
    free(wr);
    cn_overlay_free(&ov);
    cn_store_read_end(r);
}

/* Pokes and waits (up to 10 s) until the warmer reports `epoch` cached. */
static void poke_until_ready(cn_proof_warmer *pw, uint64_t epoch) {
    cn_proof_warmer_poke(pw);
    for (int i = 0; i < 1000 && cn_proof_warmer_ready(pw) != epoch; i++)
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    assert_int_equal(cn_proof_warmer_ready(pw), epoch);
}

static void test_caches_each_new_epoch(void **st) {
    (void)st;
    world w;
    world_open(&w);
    cn_proof_warmer *pw = cn_proof_warmer_new(w.store, w.g.chain_id);
    assert_non_null(pw);
    /* nothing published: nothing to cache */
    uint64_t epoch = 9;
    assert_int_equal(cn_reserves_view_warm(w.store, w.g.chain_id, 0, &epoch), 0);
    cn_proof_warmer_poke(pw);
    commit_epoch(&w, 5, 3, 0);
    poke_until_ready(pw, 1);
    /* cached: a second warm has nothing to rebuild and says so */
    assert_int_equal(cn_reserves_view_warm(w.store, w.g.chain_id, 0, &epoch), 1);
    assert_int_equal(epoch, 1);
    uint8_t *proof = NULL;
    size_t len = 0;
    assert_int_equal(cn_reserves_view_proof(w.store, w.g.chain_id, 1, w.client, 1, &proof, &len),
                     1);
    assert_true(len > 0);
    free(proof);
    commit_epoch(&w, 7, 6, 0);
    poke_until_ready(pw, 2);
    cn_proof_warmer_free(pw);
    world_close(&w);
}

static void test_bad_leaf_set_not_retried(void **st) {
    (void)st;
    world w;
    world_open(&w);
    commit_epoch(&w, 4, 3, 1);
    uint64_t epoch = 0;
    assert_int_equal(cn_reserves_view_warm(w.store, w.g.chain_id, 0, &epoch), -1);
    assert_int_equal(epoch, 1);
    /* the warmer skips the epoch it failed on */
    assert_int_equal(cn_reserves_view_warm(w.store, w.g.chain_id, 1, &epoch), 2);
    cn_proof_warmer *pw = cn_proof_warmer_new(w.store, w.g.chain_id);
    assert_non_null(pw);
    for (int i = 0; i < 5; i++)
        cn_proof_warmer_poke(pw);
    cn_proof_warmer_free(pw); /* waits for the rebuild in progress */
    /* a good epoch after it is cached */
    pw = cn_proof_warmer_new(w.store, w.g.chain_id);
    assert_non_null(pw);
    commit_epoch(&w, 4, 6, 0);
    poke_until_ready(pw, 2);
    cn_proof_warmer_free(pw);
    world_close(&w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_caches_each_new_epoch),
        cmocka_unit_test(test_bad_leaf_set_not_retried),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
