/* Contracts on chain: deploy (governor only, verified, no duplicates), calls through the VM
 * (storage namespaced per contract, events in the receipt, transfers under the authority
 * rules), a trap or out-of-gas reverting everything but the nonce, and two independent apps
 * computing the same app hash for the same calls. Also genesis verification of bytecode. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "chainkit.h"
#include "contracts/asm/asm.h"
#include "node/chain/block.h"
#include "node/chain/cert.h"
#include "node/chain/propose.h"
#include "node/contract/chost.h"
#include "node/contract/contract.h"

static cn_keypair K0, K1, CL;

static const char VAULT[] =
    ".mem 2048\n"
    ".data KEY \"k1\"\n"
    ".data VAL zero 8\n"
    ".data SELF zero 32\n"
    ".data WHO zero 32\n"
    ".data TOPIC \"stored\"\n"
    ".func put 1 export\n"
    "    ldi r1, VAL\n"
    "    st64 r0, r1, 0\n"
    "    ldi r2, KEY\n"
    "    ldi r3, KEY.len\n"
    "    ldi r4, VAL\n"
    "    ldi r5, 8\n"
    "    host r6, storage_put, r2, 4\n"
    "    ldi r7, TOPIC\n"
    "    ldi r8, TOPIC.len\n"
    "    ldi r9, VAL\n"
    "    ldi r10, 8\n"
    "    host r6, emit, r7, 4\n"
    "    ret r0\n"
    ".end\n"
    ".func get 0 export\n"
    "    ldi r0, KEY\n"
    "    ldi r1, KEY.len\n"
    "    ldi r2, VAL\n"
    "    ldi r3, 8\n"
    "    host r4, storage_get, r0, 4\n"
    "    ldi r5, 0\n"
    "    jlt r4, r5, none\n"
    "    ld64 r6, r2, 0\n"
    "    ret r6\n"
    "none:\n"
    "    ret r4\n"
    ".end\n"
    ".func trap 1 export\n"
    "    call r1, put, r0, 1\n"
    "    ldi r2, 0\n"
    "    div r3, r0, r2\n"
    "    ret r3\n"
    ".end\n"
    ".func flood 1 export\n" /* put(n), then n events of 1024 bytes */
    "    call r7, put, r0, 1\n"
    "    ldi r1, TOPIC\n"
    "    ldi r2, TOPIC.len\n"
    "    ldi r3, 1024\n" /* zeroed memory past the data */
    "    ldi r4, 1024\n"
    "    ldi r5, 0\n"
    "loop:\n"
    "    jge r5, r0, done\n"
    "    host r6, emit, r1, 4\n"
    "    addi r5, r5, 1\n"
    "    jmp loop\n"
    "done:\n"
    "    ret r5\n"
    ".end\n"
    ".func spin 0 export\n"
    "loop:\n"
    "    addi r0, r0, 1\n"
    "    jmp loop\n"
    ".end\n"
    ".func take 2 export\n"
    "    ldi r2, WHO\n"
    "    host r3, caller, r2, 1\n"
    "    ldi r4, SELF\n"
    "    host r3, self, r4, 1\n"
    "    ldi r5, WHO\n"
    "    ldi r6, SELF\n"
    "    mov r7, r0\n"
    "    mov r8, r1\n"
    "    host r9, transfer, r5, 4\n"
    "    ret r9\n"
    ".end\n"
    ".func give 2 export\n"
    "    ldi r2, WHO\n"
    "    host r3, caller, r2, 1\n"
    "    ldi r4, SELF\n"
    "    host r3, self, r4, 1\n"
    "    ldi r5, SELF\n"
    "    ldi r6, WHO\n"
    "    mov r7, r0\n"
    "    mov r8, r1\n"
    "    host r9, transfer, r5, 4\n"
    "    ret r9\n"
    ".end\n";

static uint8_t *g_code;
static size_t g_code_len;

static int setup(void **state) {
    (void)state;
    assert_true(cn_crypto_init());
    tk_key(&K0, 0);
    tk_key(&K1, 1);
    tk_key(&CL, 100);
    cn_asm_diag d;
    if (!cn_asm_build_source("vault.cas", VAULT, strlen(VAULT), 0, &g_code, &g_code_len, &d))
        fail_msg("assemble: %s", d.msg);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    free(g_code);
    return 0;
}

/* ---- tx builders ------------------------------------------------------------------------- */

static uint8_t *deploy_tx(const cn_keypair *kp, uint64_t nonce, const char *name,
                          const uint8_t *code, size_t len, size_t *out_len) {
    Clearnode__V1__ContractDeploy d;
    clearnode__v1__contract_deploy__init(&d);
    d.name = (char *)(uintptr_t)name;
    d.bytecode = (ProtobufCBinaryData){len, (uint8_t *)(uintptr_t)code};
    Clearnode__V1__Tx tx;
    clearnode__v1__tx__init(&tx);
    tx.nonce = nonce;
    tx.kind_case = CLEARNODE__V1__TX__KIND_CONTRACT_DEPLOY;
    tx.contract_deploy = &d;
    uint8_t *out;
    assert_true(cn_tx_sign(kp, TK_CHAIN, &tx, &out, out_len));
    return out;
}

static uint8_t *call_tx(const cn_keypair *kp, uint64_t nonce, const char *contract,
                        const char *entry, const int64_t *args, size_t nargs, uint64_t gas,
                        const char *allow_asset, uint64_t allow_amount, size_t *out_len) {
    Clearnode__V1__ContractCall c;
    clearnode__v1__contract_call__init(&c);
    c.contract = (char *)(uintptr_t)contract;
    c.entry = (char *)(uintptr_t)entry;
    c.args = (int64_t *)(uintptr_t)args;
    c.n_args = nargs;
    c.gas_limit = gas;
    if (allow_asset)
        c.allow_asset = (char *)(uintptr_t)allow_asset;
    c.allow_amount = allow_amount;
    Clearnode__V1__Tx tx;
    clearnode__v1__tx__init(&tx);
    tx.nonce = nonce;
    tx.kind_case = CLEARNODE__V1__TX__KIND_CONTRACT_CALL;
    tx.contract_call = &c;
    uint8_t *out;
    assert_true(cn_tx_sign(kp, TK_CHAIN, &tx, &out, out_len));
    return out;
}

/* ---- running blocks ---------------------------------------------------------------------- */

typedef struct {
    uint32_t code;
    char message[256];
    uint64_t gas;
    size_t n_events;
    char ev_type[4][32];
    char ev_topic[4][80]; /* topic attr of contract.event */
    char ev_data[4][80];
} rcpt;

static void decode_rcpt(const uint8_t *b, size_t n, rcpt *out) {
    cn_pb pb;
    assert_int_equal(cn_decode(CN_MSG_RECEIPT, b, n, &pb), CN_DECODE_OK);
    const Clearnode__V1__Receipt *r = (const Clearnode__V1__Receipt *)pb.msg;
    memset(out, 0, sizeof *out);
    out->code = r->code;
    snprintf(out->message, sizeof out->message, "%s", r->message);
    out->gas = r->gas_used;
    out->n_events = r->n_events;
    for (size_t i = 0; i < r->n_events && i < 4; i++) {
        snprintf(out->ev_type[i], sizeof out->ev_type[i], "%s", r->events[i]->type);
        for (size_t j = 0; j < r->events[i]->n_attrs; j++) {
            const Clearnode__V1__EventAttr *a = r->events[i]->attrs[j];
            if (strcmp(a->key, "topic") == 0)
                snprintf(out->ev_topic[i], sizeof out->ev_topic[i], "%s", a->value);
            if (strcmp(a->key, "data") == 0)
                snprintf(out->ev_data[i], sizeof out->ev_data[i], "%s", a->value);
        }
    }
    cn_pb_free(&pb);
}

/* Runs one block of n txs (freed here) through process/finalize/commit; fills receipts and
 * the new app hash. */
static void run_block(tk_chain *c, uint8_t **txs, size_t *lens, size_t n, rcpt *out,
                      uint8_t app_hash[32]) {
    const cn_tip *t = cn_app_tip(c->app);
    uint8_t vh[32], id[32];
    cn_genesis_validators_hash(&c->g, vh);
    uint64_t bt; /* BFT time: from the precommit of the previous block (stamped + 1 s below) */
    assert_true(cn_block_next_time(c->app, &bt));
    cn_header_fields f = {TK_CHAIN, t->height + 1, bt,
                          t->height ? t->block_id : NULL, t->height ? t->last_commit : NULL,
                          t->height ? t->last_commit_len : 0, t->app_hash, vh, K0.pub, NULL, NULL, 0};
    uint8_t *b;
    size_t blen;
    assert_true(cn_block_build(&f, txs, lens, n, &b, &blen, id));
    char why[256];
    if (!cn_app_process_proposal(c->app, b, blen, why, sizeof why))
        fail_msg("process_proposal: %s", why);
    cn_block_result *r = cn_app_finalize_block(c->app, b, blen, why, sizeof why);
    if (!r)
        fail_msg("finalize: %s", why);
    for (size_t i = 0; i < n; i++)
        decode_rcpt(r->txs[i].receipt, r->txs[i].receipt_len, &out[i]);
    if (app_hash)
        memcpy(app_hash, r->app_hash, 32);
    uint8_t *vote, *commit;
    size_t vl, cl;
    assert_true(cn_vote_sign(&K0, TK_CHAIN, CLEARNODE__V1__VOTE_TYPE__VOTE_PRECOMMIT, r->height,
                             0, id, r->time_ms + 1000, &vote, &vl));
    assert_true(cn_commit_encode(r->height, 0, id, &vote, &vl, 1, &commit, &cl));
    assert_true(cn_app_commit(c->app, r, commit, cl, NULL, NULL, why, sizeof why));
    free(vote);
    free(commit);
    free(b);
    for (size_t i = 0; i < n; i++)
        free(txs[i]);
}

/* One tx in its own block. */
static void run1(tk_chain *c, uint8_t *tx, size_t len, rcpt *out) {
    run_block(c, &tx, &len, 1, out, NULL);
}

/* Builds a tx (the builder sets the local `len`) and runs it alone on chain `c`. */
#define RUN(r, build)                                                                      \
    do {                                                                                   \
        uint8_t *t_ = (build);                                                             \
        run1(&c, t_, len, (r));                                                            \
    } while (0)

static uint64_t nonce_of(tk_chain *c, const uint8_t pub[32]) {
    cn_store_rtxn *r;
    assert_int_equal(cn_store_read_begin(c->store, &r), CN_STORE_OK);
    cn_overlay ov;
    cn_overlay_init(&ov, r);
    cn_account a;
    assert_int_equal(cn_state_get_account(&ov, pub, &a), 1);
    cn_overlay_free(&ov);
    cn_store_read_end(r);
    return a.nonce;
}

/* Number of committed contract-storage keys of contract `name`. */
static size_t storage_keys(tk_chain *c, const char *name) {
    uint8_t pfx[33];
    pfx[0] = CN_SK_CSTORE;
    cn_contract_id(name, pfx + 1);
    cn_store_rtxn *r;
    assert_int_equal(cn_store_read_begin(c->store, &r), CN_STORE_OK);
    cn_store_iter *it;
    assert_int_equal(cn_store_iter_read(&it, r, CN_DB_STATE, pfx, 33, NULL, 0, 0), CN_STORE_OK);
    size_t n = 0;
    const void *k, *v;
    size_t kl, vl;
    while (cn_store_iter_next(it, &k, &kl, &v, &vl) == CN_STORE_OK)
        n++;
    cn_store_iter_close(it);
    cn_store_read_end(r);
    return n;
}

/* A chain with the vault deployed as "vault" by K0 (nonce 1). */
static void open_with_vault(tk_chain *c) {
    assert_true(tk_open(c, NULL));
    size_t len;
    uint8_t *tx = deploy_tx(&K0, 1, "vault", g_code, g_code_len, &len);
    rcpt r;
    run1(c, tx, len, &r);
    if (r.code != CN_TX_OK)
        fail_msg("deploy: %s", r.message);
    assert_string_equal(r.ev_type[0], "contract.deploy");
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_deploy_rules(void **state) {
    (void)state;
    tk_chain c;
    open_with_vault(&c);
    rcpt r;
    size_t len;
    /* Duplicate name: its own code, nonce consumed. */
    RUN(&r, deploy_tx(&K0, 2, "vault", g_code, g_code_len, &len));
    assert_int_equal(r.code, CN_TX_CONTRACT_EXISTS);
    assert_non_null(strstr(r.message, "already deployed"));
    assert_int_equal(nonce_of(&c, K0.pub), 2);
    /* A member without the governor role may not deploy. */
    uint8_t *tx = deploy_tx(&K1, 1, "other", g_code, g_code_len, &len);
    cn_tx_info info;
    char msg[256];
    assert_int_equal(cn_app_check_tx(c.app, tx, len, &info, msg, sizeof msg), CN_TX_NOT_PERMITTED);
    run1(&c, tx, len, &r);
    assert_int_equal(r.code, CN_TX_NOT_PERMITTED);
    /* Bytecode that fails the verifier is refused at admission, naming the verifier. */
    uint8_t bad[] = {'C', 'N', 'V', 'M', 0, 1, 0, 0};
    tx = deploy_tx(&K0, 3, "bad", bad, sizeof bad, &len);
    assert_int_equal(cn_app_check_tx(c.app, tx, len, &info, msg, sizeof msg), CN_TX_INVALID_FIELD);
    assert_non_null(strstr(msg, "contract_deploy.bytecode: verifier: truncated"));
    free(tx);
    /* Bad names. */
    tx = deploy_tx(&K0, 3, "Vault", g_code, g_code_len, &len);
    assert_int_equal(cn_app_check_tx(c.app, tx, len, &info, msg, sizeof msg), CN_TX_INVALID_FIELD);
    assert_non_null(strstr(msg, "contract_deploy.name"));
    free(tx);
    tk_close(&c);
}

static void test_call_storage_events(void **state) {
    (void)state;
    tk_chain c;
    open_with_vault(&c);
    rcpt r[3];
    size_t len;
    int64_t a42[1] = {42};
    RUN(&r[0], call_tx(&K0, 2, "vault", "put", a42, 1, 0, NULL, 0, &len));
    if (r[0].code != CN_TX_OK)
        fail_msg("put: %s", r[0].message);
    assert_string_equal(r[0].message, "ok: returned 42");
    assert_true(r[0].gas > 0 && r[0].gas < CN_CONTRACT_GAS_DEFAULT);
    assert_int_equal(r[0].n_events, 2);
    assert_string_equal(r[0].ev_type[0], "contract.call");
    assert_string_equal(r[0].ev_type[1], "contract.event");
    assert_string_equal(r[0].ev_topic[1], "stored");
    assert_string_equal(r[0].ev_data[1], "000000000000002a");
    assert_int_equal(storage_keys(&c, "vault"), 1);
    /* Read back (a client may call too: calls are open to every registered signer). */
    RUN(&r[1], call_tx(&K0, 3, "vault", "get", NULL, 0, 0, NULL, 0, &len));
    assert_string_equal(r[1].message, "ok: returned 42");
    /* Namespacing: the same code under another name sees none of vault's keys. */
    RUN(&r[2], deploy_tx(&K0, 4, "vault2", g_code, g_code_len, &len));
    assert_int_equal(r[2].code, CN_TX_OK);
    RUN(&r[2], call_tx(&K0, 5, "vault2", "get", NULL, 0, 0, NULL, 0, &len));
    assert_string_equal(r[2].message, "ok: returned -1");
    assert_int_equal(storage_keys(&c, "vault2"), 0);
    /* Unknown contract, entry, wrong argument count. */
    RUN(&r[0], call_tx(&K0, 6, "nope", "get", NULL, 0, 0, NULL, 0, &len));
    assert_int_equal(r[0].code, CN_TX_UNKNOWN_CONTRACT);
    RUN(&r[0], call_tx(&K0, 7, "vault", "missing", NULL, 0, 0, NULL, 0, &len));
    assert_int_equal(r[0].code, CN_TX_INVALID_FIELD);
    assert_non_null(strstr(r[0].message, "not exported"));
    RUN(&r[0], call_tx(&K0, 8, "vault", "put", NULL, 0, 0, NULL, 0, &len));
    assert_int_equal(r[0].code, CN_TX_INVALID_FIELD);
    assert_non_null(strstr(r[0].message, "takes 1, got 0"));
    /* Admission: too many args, gas over the cap. */
    int64_t nine[9] = {0};
    cn_tx_info info;
    char msg[256];
    uint8_t *tx = call_tx(&K0, 9, "vault", "put", nine, 9, 0, NULL, 0, &len);
    assert_int_equal(cn_app_check_tx(c.app, tx, len, &info, msg, sizeof msg), CN_TX_INVALID_FIELD);
    free(tx);
    tx = call_tx(&K0, 9, "vault", "put", a42, 1, CN_CONTRACT_GAS_MAX + 1, NULL, 0, &len);
    assert_int_equal(cn_app_check_tx(c.app, tx, len, &info, msg, sizeof msg), CN_TX_INVALID_FIELD);
    assert_non_null(strstr(msg, "gas_limit"));
    free(tx);
    tk_close(&c);
}

static void test_trap_and_out_of_gas_revert(void **state) {
    (void)state;
    tk_chain c;
    open_with_vault(&c);
    rcpt r;
    size_t len;
    int64_t a7[1] = {7};
    RUN(&r, call_tx(&K0, 2, "vault", "put", a7, 1, 0, NULL, 0, &len));
    assert_int_equal(r.code, CN_TX_OK);
    /* trap(99) writes 99 and emits, then divides by zero: nothing of it remains. */
    int64_t a99[1] = {99};
    RUN(&r, call_tx(&K0, 3, "vault", "trap", a99, 1, 0, NULL, 0, &len));
    assert_int_equal(r.code, CN_TX_CONTRACT_ERROR);
    assert_non_null(strstr(r.message, "div_zero"));
    assert_true(r.gas > 0);
    assert_int_equal(r.n_events, 0);
    assert_int_equal(nonce_of(&c, K0.pub), 3);
    RUN(&r, call_tx(&K0, 4, "vault", "get", NULL, 0, 0, NULL, 0, &len));
    assert_string_equal(r.message, "ok: returned 7");
    /* Out of gas: the whole limit is used. */
    RUN(&r, call_tx(&K0, 5, "vault", "spin", NULL, 0, 5000, NULL, 0, &len));
    assert_int_equal(r.code, CN_TX_CONTRACT_ERROR);
    assert_non_null(strstr(r.message, "out_of_gas"));
    assert_int_equal(r.gas, 5000);
    assert_int_equal(nonce_of(&c, K0.pub), 5);
    tk_close(&c);
}

/* Contract events must fit the receipt: over the budget the call fails and applies nothing. */
static void test_event_budget(void **state) {
    (void)state;
    tk_chain c;
    open_with_vault(&c);
    rcpt r;
    size_t len;
    int64_t n11[1] = {11}, n12[1] = {12};
    /* 11 big events + put's: 11 * (4 + 12 + 2048 + 5 + 48) + 85 = 23372 <= 24576. */
    RUN(&r, call_tx(&K0, 2, "vault", "flood", n11, 1, 0, NULL, 0, &len));
    if (r.code != CN_TX_OK)
        fail_msg("flood 11: %s", r.message);
    assert_int_equal(r.n_events, 13);
    RUN(&r, call_tx(&K0, 3, "vault", "flood", n12, 1, 0, NULL, 0, &len));
    assert_int_equal(r.code, CN_TX_CONTRACT_ERROR);
    assert_non_null(strstr(r.message, "over the budget"));
    assert_int_equal(r.n_events, 0);
    RUN(&r, call_tx(&K0, 4, "vault", "get", NULL, 0, 0, NULL, 0, &len));
    assert_string_equal(r.message, "ok: returned 11");
    tk_close(&c);
}

/* A genesis contract given as a .cas path is assembled; one that does not assemble is a
 * genesis error naming the path. */
static void test_genesis_cas_path(void **state) {
    (void)state;
    char dir[] = "/tmp/cn_gcas_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], src[128], err[768];
    snprintf(path, sizeof path, "%s/genesis.json", dir);
    snprintf(src, sizeof src, "%s/v.cas", dir);
    FILE *f = fopen(src, "w");
    assert_non_null(f);
    fputs(VAULT, f);
    fclose(f);
    char *j = tk_genesis_json("");
    char *p = strstr(j, "\"contracts\":[]");
    assert_non_null(p);
    strcpy(p, "\"contracts\":[{\"name\":\"vault\",\"path\":\"v.cas\"}]}\n");
    f = fopen(path, "w");
    fputs(j, f);
    fclose(f);
    free(j);
    cn_genesis g;
    if (!cn_genesis_load(&g, path, err, sizeof err))
        fail_msg("%s", err);
    assert_int_equal(g.n_contracts, 1);
    assert_int_equal(g.contracts[0].code_len, g_code_len);
    assert_memory_equal(g.contracts[0].code, g_code, g_code_len);
    cn_genesis_free(&g);
    f = fopen(src, "w");
    fputs(".func f 0 export\n    bogus r0\n.end\n", f);
    fclose(f);
    assert_false(cn_genesis_load(&g, path, err, sizeof err));
    assert_non_null(strstr(err, "contracts[0].path: v.cas: assembler: "));
    cn_genesis_free(&g);
    tk_rmtree(dir);
}

static void test_transfers_authority(void **state) {
    (void)state;
    tk_chain c;
    open_with_vault(&c);
    rcpt r;
    size_t len;
    uint8_t *tx;
    assert_true(cn_tx_register_client(&K0, TK_CHAIN, 2, CL.pub, "c", &tx, &len));
    run1(&c, tx, len, &r);
    assert_int_equal(r.code, CN_TX_OK);
    assert_true(cn_tx_deposit(&K0, TK_CHAIN, 3, CL.pub, "USD", 1000, (const uint8_t *)"d1", 2,
                              &tx, &len));
    run1(&c, tx, len, &r);
    assert_int_equal(r.code, CN_TX_OK);
    uint8_t vid[32];
    cn_contract_id("vault", vid);
    int64_t take300[2] = {0, 300}; /* asset 0 = USD (genesis order) */
    /* Without an allowance the contract may not take the caller's funds. */
    RUN(&r, call_tx(&CL, 1, "vault", "take", take300, 2, 0, NULL, 0, &len));
    assert_int_equal(r.code, CN_TX_CONTRACT_ERROR);
    assert_non_null(strstr(r.message, "host_denied"));
    /* An allowance of another asset or a smaller amount is not enough either. */
    RUN(&r, call_tx(&CL, 2, "vault", "take", take300, 2, 0, "AAPL", 300, &len));
    assert_int_equal(r.code, CN_TX_CONTRACT_ERROR);
    RUN(&r, call_tx(&CL, 3, "vault", "take", take300, 2, 0, "USD", 299, &len));
    assert_int_equal(r.code, CN_TX_CONTRACT_ERROR);
    assert_int_equal(tk_balance(&c, CL.pub, "USD"), 1000);
    /* Authorized: moves. */
    RUN(&r, call_tx(&CL, 4, "vault", "take", take300, 2, 0, "USD", 300, &len));
    if (r.code != CN_TX_OK)
        fail_msg("take: %s", r.message);
    assert_int_equal(tk_balance(&c, CL.pub, "USD"), 700);
    assert_int_equal(tk_balance(&c, vid, "USD"), 300);
    /* An allowance larger than the balance: the contract sees -1 (short), nothing moves. */
    int64_t take5000[2] = {0, 5000};
    RUN(&r, call_tx(&CL, 5, "vault", "take", take5000, 2, 0, "USD", 5000, &len));
    assert_string_equal(r.message, "ok: returned -1");
    /* The contract pays out of its own funds; not more than it holds. */
    int64_t give100[2] = {0, 100}, give301[2] = {0, 301};
    RUN(&r, call_tx(&CL, 6, "vault", "give", give100, 2, 0, NULL, 0, &len));
    assert_string_equal(r.message, "ok: returned 0");
    RUN(&r, call_tx(&CL, 7, "vault", "give", give301, 2, 0, NULL, 0, &len));
    assert_string_equal(r.message, "ok: returned -1");
    assert_int_equal(tk_balance(&c, CL.pub, "USD"), 800);
    assert_int_equal(tk_balance(&c, vid, "USD"), 200);
    /* Unknown asset index: denied. */
    int64_t bad[2] = {9, 1};
    RUN(&r, call_tx(&CL, 8, "vault", "give", bad, 2, 0, NULL, 0, &len));
    assert_int_equal(r.code, CN_TX_CONTRACT_ERROR);
    /* Allowance for an asset not in genesis. */
    RUN(&r, call_tx(&CL, 9, "vault", "take", take300, 2, 0, "EUR", 1, &len));
    assert_int_equal(r.code, CN_TX_UNKNOWN_ASSET);
    tk_close(&c);
}

static void test_determinism(void **state) {
    (void)state;
    tk_chain a, b;
    open_with_vault(&a);
    open_with_vault(&b);
    assert_memory_equal(cn_app_tip(a.app)->app_hash, cn_app_tip(b.app)->app_hash, 32);
    uint8_t ha[32], hb[32];
    rcpt ra[3], rb[3];
    for (int round = 0; round < 2; round++) {
        uint8_t *ta[3], *tb[3];
        size_t la[3], lb[3];
        int64_t v[1] = {100 + round};
        uint64_t n0 = 2 + (uint64_t)round * 3;
        ta[0] = call_tx(&K0, n0, "vault", "put", v, 1, 0, NULL, 0, &la[0]);
        ta[1] = call_tx(&K0, n0 + 1, "vault", "trap", v, 1, 0, NULL, 0, &la[1]);
        ta[2] = call_tx(&K0, n0 + 2, "vault", "get", NULL, 0, 0, NULL, 0, &la[2]);
        for (int i = 0; i < 3; i++) {
            tb[i] = malloc(la[i]);
            memcpy(tb[i], ta[i], la[i]);
            lb[i] = la[i];
        }
        run_block(&a, ta, la, 3, ra, ha);
        run_block(&b, tb, lb, 3, rb, hb);
        assert_memory_equal(ha, hb, 32);
        assert_int_equal(ra[0].code, CN_TX_OK);
        assert_int_equal(ra[1].code, CN_TX_CONTRACT_ERROR);
        assert_int_equal(ra[2].code, CN_TX_OK);
        assert_int_equal(ra[1].gas, rb[1].gas);
    }
    tk_close(&a);
    tk_close(&b);
}

static void test_genesis_verifies(void **state) {
    (void)state;
    char hex[1600], extra[1700], err[512];
    assert_true(g_code_len * 2 < sizeof hex);
    cn_hex_encode(hex, g_code, g_code_len);
    /* Valid bytecode: deployed at genesis and callable. */
    snprintf(extra, sizeof extra, "\"contracts\":[{\"name\":\"vault\",\"bytecode_hex\":\"%s\"}],",
             hex);
    char *j = tk_genesis_json(extra);
    char *dup = strstr(j, "\"contracts\":[]");
    assert_non_null(dup);
    memmove(dup - 1, dup + 14, strlen(dup + 14) + 1);
    tk_chain c;
    assert_true(tk_open(&c, j));
    free(j);
    rcpt r;
    size_t len;
    int64_t a5[1] = {5};
    RUN(&r, call_tx(&K0, 1, "vault", "put", a5, 1, 0, NULL, 0, &len));
    assert_int_equal(r.code, CN_TX_OK);
    tk_close(&c);
    /* Corrupted bytecode: a genesis error naming the field. */
    hex[8] = 'f'; /* version */
    snprintf(extra, sizeof extra, "\"contracts\":[{\"name\":\"vault\",\"bytecode_hex\":\"%s\"}],",
             hex);
    j = tk_genesis_json(extra);
    dup = strstr(j, "\"contracts\":[]");
    memmove(dup - 1, dup + 14, strlen(dup + 14) + 1);
    cn_genesis g;
    assert_false(cn_genesis_parse(&g, (const uint8_t *)j, strlen(j), NULL, err, sizeof err));
    assert_non_null(strstr(err, "contracts[0].bytecode: verifier: version"));
    cn_genesis_free(&g);
    free(j);
}

/* storage_next over the block overlay merges committed keys (minus this block's deletes)
 * with this block's puts, in key order, within the contract's namespace only. */
static void test_host_range_scan(void **state) {
    (void)state;
    tk_chain c;
    assert_true(tk_open(&c, NULL));
    uint8_t id[32], other[32], k[CN_CSTORE_PREFIX_LEN + CN_VM_MAX_KEY];
    cn_contract_id("scan", id);
    cn_contract_id("zzz", other);
    cn_store_wtxn *w;
    assert_int_equal(cn_store_begin(c.store, &w), CN_STORE_OK);
    const char *committed[] = {"a", "c", "e", "g"};
    for (size_t i = 0; i < 4; i++) {
        size_t kl = cn_cstore_key(k, id, (const uint8_t *)committed[i], 1);
        assert_int_equal(cn_store_put(w, CN_DB_STATE, k, kl, "v", 1), CN_STORE_OK);
    }
    size_t kl = cn_cstore_key(k, other, (const uint8_t *)"b", 1);
    assert_int_equal(cn_store_put(w, CN_DB_STATE, k, kl, "v", 1), CN_STORE_OK);
    assert_int_equal(cn_store_commit(w), CN_STORE_OK);
    cn_store_rtxn *r;
    assert_int_equal(cn_store_read_begin(c.store, &r), CN_STORE_OK);
    cn_overlay ov;
    cn_overlay_init(&ov, r);
    kl = cn_cstore_key(k, id, (const uint8_t *)"c", 1);
    assert_true(cn_overlay_del(&ov, k, kl)); /* deleted in this block */
    kl = cn_cstore_key(k, id, (const uint8_t *)"d", 1);
    assert_true(cn_overlay_put(&ov, k, kl, "v", 1)); /* written in this block */
    kl = cn_cstore_key(k, other, (const uint8_t *)"b0", 2);
    assert_true(cn_overlay_put(&ov, k, kl, "v", 1)); /* another contract's */
    cn_chost hc;
    memset(&hc, 0, sizeof hc);
    hc.ov = &ov;
    hc.g = &c.g;
    cn_vm_host h;
    cn_chost_table(&hc, &h);
    const char *want[] = {"a", "d", "e", "g"};
    uint8_t from[CN_VM_MAX_KEY], key[CN_VM_MAX_KEY];
    size_t flen = 0, klen;
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(h.next(h.ctx, id, from, flen, NULL, 0, key, &klen), 1);
        assert_int_equal(klen, 1);
        assert_int_equal(key[0], want[i][0]);
        memcpy(from, key, klen);
        from[klen] = 0; /* the next key after k: k || 0x00 */
        flen = klen + 1;
    }
    assert_int_equal(h.next(h.ctx, id, from, flen, NULL, 0, key, &klen), 0);
    /* An upper bound: [b, e) holds only d. */
    assert_int_equal(h.next(h.ctx, id, (const uint8_t *)"b", 1, (const uint8_t *)"e", 1, key,
                            &klen), 1);
    assert_int_equal(key[0], 'd');
    assert_int_equal(h.next(h.ctx, id, (const uint8_t *)"e", 1, (const uint8_t *)"e", 1, key,
                            &klen), 0);
    /* get sees the overlay over the snapshot. */
    size_t vl;
    assert_int_equal(h.get(h.ctx, id, (const uint8_t *)"c", 1, NULL, 0, &vl), 0);
    assert_int_equal(h.get(h.ctx, id, (const uint8_t *)"d", 1, NULL, 0, &vl), 1);
    assert_int_equal(h.get(h.ctx, other, (const uint8_t *)"a", 1, NULL, 0, &vl), 0);
    cn_chost_free(&hc);
    cn_overlay_free(&ov);
    cn_store_read_end(r);
    tk_close(&c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deploy_rules),
        cmocka_unit_test(test_call_storage_events),
        cmocka_unit_test(test_trap_and_out_of_gas_revert),
        cmocka_unit_test(test_transfers_authority),
        cmocka_unit_test(test_event_budget),
        cmocka_unit_test(test_genesis_cas_path),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_genesis_verifies),
        cmocka_unit_test(test_host_range_scan),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
