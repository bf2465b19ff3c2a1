/* Test kit for the custody and governance tests: a genesis with three approvers/governors
 * (keys 0..2, key 3 is a member without roles that matter), a client (key 100) and a second
 * client (key 101), written into an overlay with no base; transactions built as Tx structs
 * and executed directly, end-of-block run explicitly at a chosen block time.
 * Header-only (static inline), compiled only into the tests that include it. */
#ifndef CLEARNODE_TESTS_UNIT_CUSKIT_H
#define CLEARNODE_TESTS_UNIT_CUSKIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chainkit.h"
#include "node/app/custody.h"
#include "node/app/gov.h"

#define CK_T0 UINT64_C(1700000000000)

typedef struct {
    cn_genesis g;
    cn_overlay ov;
    cn_keypair k[4], cl, cl2;
    uint64_t now, height;
} ck_world;

/* tiers: 2 approvals + 1 s cooldown below 1,000 USD; 3 approvals + 5 s at or above.
 * governance threshold 2 of 3. */
static inline int ck_open(ck_world *w) {
    memset(w, 0, sizeof *w);
    for (unsigned i = 0; i < 4; i++)
        tk_key(&w->k[i], i);
    tk_key(&w->cl, 100);
    tk_key(&w->cl2, 101);
    char h[4][65];
    for (unsigned i = 0; i < 4; i++)
        tk_hex(h[i], w->k[i].pub);
    char *js = malloc(8192);
    snprintf(js, 8192,
             "{\"chain_id\":\"" TK_CHAIN "\",\"genesis_time\":1700000000000,\n"
             "\"members\":[\n"
             " {\"name\":\"a0\",\"pubkey\":\"%s\",\"roles\":[\"validator\",\"custodian\","
             "\"governor\",\"approver\",\"oracle\"],\"power\":10},\n"
             " {\"name\":\"a1\",\"pubkey\":\"%s\",\"roles\":[\"governor\",\"approver\"]},\n"
             " {\"name\":\"a2\",\"pubkey\":\"%s\",\"roles\":[\"governor\",\"approver\"]},\n"
             " {\"name\":\"m3\",\"pubkey\":\"%s\",\"roles\":[\"auditor\"]}],\n"
             "\"assets\":[\n"
             " {\"symbol\":\"USD\",\"decimals\":6,\"risk_tier\":1,\"initial_margin_bps\":10000,"
             "\"maintenance_margin_bps\":10000,\"reference_price\":1000000}],\n"
             "\"params\":{\"custody\":{\"tiers\":[{\"min_amount_usd\":0,\"approvals\":2,"
             "\"cooldown_ms\":1000},{\"min_amount_usd\":1000000000,\"approvals\":3,"
             "\"cooldown_ms\":5000}]},\"governance\":{\"threshold\":2}},\n"
             "\"contracts\":[]}\n",
             h[0], h[1], h[2], h[3]);
    char err[256];
    int ok = cn_genesis_parse(&w->g, (const uint8_t *)js, strlen(js), NULL, err, sizeof err);
    free(js);
    if (!ok) {
        fprintf(stderr, "genesis: %s\n", err);
        return 0;
    }
    cn_overlay_init(&w->ov, NULL);
    if (!cn_state_write_genesis(&w->ov, &w->g))
        return 0;
    const cn_keypair *clients[2] = {&w->cl, &w->cl2};
    for (int i = 0; i < 2; i++) {
        cn_account a;
        memset(&a, 0, sizeof a);
        a.kind = CN_ACCT_CLIENT;
        memcpy(a.registrar, w->k[0].pub, 32);
        if (!cn_state_put_account(&w->ov, clients[i]->pub, &a))
            return 0;
    }
    w->now = CK_T0 + 1000;
    w->height = 1;
    return 1;
}

static inline void ck_close(ck_world *w) {
    cn_overlay_free(&w->ov);
    cn_genesis_free(&w->g);
}

/* Mints `amount` USD to the client (balance and supply). */
static inline void ck_mint(ck_world *w, const uint8_t who[32], int64_t amount) {
    int64_t b, s;
    cn_key k;
    cn_sk_supply(&k, "USD");
    cn_state_get_balance(&w->ov, who, "USD", &b);
    cn_state_get_i64(&w->ov, &k, &s);
    cn_state_set_balance(&w->ov, who, "USD", b + amount);
    cn_state_put_i64(&w->ov, &k, s + amount);
}

/* Runs one custody/governance tx body like the block does: mark, exec, rollback on failure. */
static inline cn_txerr ck_run(ck_world *w, const uint8_t signer[32], Clearnode__V1__Tx *tx,
                              cn_exec_result *out) {
    cn_exec_result r;
    memset(&r, 0, sizeof r);
    cn_overlay_release(&w->ov);
    size_t mark = cn_overlay_mark(&w->ov);
    char msg[200];
    cn_txerr e = cn_ledger_validate(tx, signer, msg, sizeof msg);
    if (e) {
        if (out)
            snprintf(out->message, sizeof out->message, "%s", msg);
        return e;
    }
    if (cn_custody_kind((int)tx->kind_case))
        cn_custody_exec(&w->ov, &w->g, w->height, w->now, signer, tx, &r);
    else
        cn_gov_exec(&w->ov, &w->g, w->height, w->now, signer, tx, &r);
    if (r.code != CN_TX_OK)
        cn_overlay_rollback(&w->ov, mark);
    cn_overlay_release(&w->ov);
    if (out)
        *out = r;
    return r.code;
}

/* Ends the block at the current time, then advances height and time by dt ms. */
static inline int ck_end(ck_world *w, uint64_t dt) {
    int ok = cn_gov_end_block(&w->ov, w->height, w->now, NULL) &&
             cn_custody_end_block(&w->ov, w->height, w->now, NULL);
    cn_overlay_release(&w->ov);
    w->height++;
    w->now += dt;
    return ok;
}

static inline cn_txerr ck_allow(ck_world *w, const cn_keypair *c, const char *dest, int remove) {
    Clearnode__V1__Tx tx;
    Clearnode__V1__AllowlistChange a;
    clearnode__v1__tx__init(&tx);
    clearnode__v1__allowlist_change__init(&a);
    a.destination = (char *)(uintptr_t)dest;
    a.remove = remove;
    tx.kind_case = CLEARNODE__V1__TX__KIND_ALLOWLIST_CHANGE;
    tx.allowlist_change = &a;
    return ck_run(w, c->pub, &tx, NULL);
}

static inline cn_txerr ck_request(ck_world *w, const cn_keypair *c, uint64_t amount,
                                  const char *dest, uint64_t expiry) {
    Clearnode__V1__Tx tx;
    Clearnode__V1__WithdrawRequest q;
    clearnode__v1__tx__init(&tx);
    clearnode__v1__withdraw_request__init(&q);
    q.asset = (char *)(uintptr_t)"USD";
    q.amount = amount;
    q.destination = (char *)(uintptr_t)dest;
    q.expiry = expiry;
    tx.kind_case = CLEARNODE__V1__TX__KIND_WITHDRAW_REQUEST;
    tx.withdraw_request = &q;
    return ck_run(w, c->pub, &tx, NULL);
}

/* Approval by key `by`, signing the digest of (chain, req_sig, pv_sig, ...) of request `id`'s
 * actual fields unless `chain` overrides the chain id (replay tests). */
static inline cn_txerr ck_approve_x(ck_world *w, const cn_keypair *by, uint64_t id,
                                    uint64_t sig_id, uint64_t pv, const char *chain) {
    cn_withdrawal wd;
    memset(&wd, 0, sizeof wd);
    if (cn_custody_get(&w->ov, sig_id, &wd) != 1)
        snprintf(wd.asset, sizeof wd.asset, "USD");
    uint8_t d[32], sig[64];
    cn_withdraw_digest(d, chain, sig_id, pv, wd.asset, (uint64_t)wd.amount, wd.dest, wd.expiry);
    if (!cn_sign32(by, sig, d, NULL))
        return CN_TX_INTERNAL;
    Clearnode__V1__Tx tx;
    Clearnode__V1__WithdrawApprove a;
    clearnode__v1__tx__init(&tx);
    clearnode__v1__withdraw_approve__init(&a);
    a.request_id = id;
    a.policy_version = pv;
    a.approval_sig.data = sig;
    a.approval_sig.len = 64;
    tx.kind_case = CLEARNODE__V1__TX__KIND_WITHDRAW_APPROVE;
    tx.withdraw_approve = &a;
    return ck_run(w, by->pub, &tx, NULL);
}

static inline uint64_t ck_pv(ck_world *w) {
    uint64_t v = 0;
    cn_custody_policy_version(&w->ov, &v);
    return v;
}

static inline cn_txerr ck_approve(ck_world *w, const cn_keypair *by, uint64_t id) {
    return ck_approve_x(w, by, id, id, ck_pv(w), TK_CHAIN);
}

static inline cn_txerr ck_cancel(ck_world *w, const cn_keypair *c, uint64_t id) {
    Clearnode__V1__Tx tx;
    Clearnode__V1__WithdrawCancel q;
    clearnode__v1__tx__init(&tx);
    clearnode__v1__withdraw_cancel__init(&q);
    q.request_id = id;
    tx.kind_case = CLEARNODE__V1__TX__KIND_WITHDRAW_CANCEL;
    tx.withdraw_cancel = &q;
    return ck_run(w, c->pub, &tx, NULL);
}

static inline int ck_status_ov(cn_overlay *ov, uint64_t id) {
    cn_withdrawal wd;
    return cn_custody_get(ov, id, &wd) == 1 ? wd.status : -1;
}

static inline int ck_status(ck_world *w, uint64_t id) {
    cn_withdrawal wd;
    return cn_custody_get(&w->ov, id, &wd) == 1 ? wd.status : -1;
}

static inline int64_t ck_bal(ck_world *w, const uint8_t who[32]) {
    int64_t b = -1;
    cn_state_get_balance(&w->ov, who, "USD", &b);
    return b;
}

static inline int64_t ck_locked(ck_world *w, const uint8_t who[32]) {
    int64_t b = -1;
    cn_custody_get_locked(&w->ov, who, "USD", &b);
    return b;
}

static inline int64_t ck_supply(ck_world *w) {
    int64_t s = -1;
    cn_key k;
    cn_sk_supply(&k, "USD");
    cn_state_get_i64(&w->ov, &k, &s);
    return s;
}

/* supply = sum of balances + locked over the two clients (the only holders in these tests). */
static inline int ck_supply_ok(ck_world *w) {
    return ck_supply(w) == ck_bal(w, w->cl.pub) + ck_locked(w, w->cl.pub) +
                               ck_bal(w, w->cl2.pub) + ck_locked(w, w->cl2.pub);
}

/* Governance proposal with a prepared action (the caller sets the oneof). */
static inline cn_txerr ck_propose(ck_world *w, const cn_keypair *by,
                                  Clearnode__V1__GovernancePropose *p, uint64_t expiry,
                                  cn_exec_result *out) {
    Clearnode__V1__Tx tx;
    clearnode__v1__tx__init(&tx);
    p->expiry = expiry;
    tx.kind_case = CLEARNODE__V1__TX__KIND_GOVERNANCE_PROPOSE;
    tx.governance_propose = p;
    return ck_run(w, by->pub, &tx, out);
}

static inline cn_txerr ck_gov_approve(ck_world *w, const cn_keypair *by, uint64_t id) {
    Clearnode__V1__Tx tx;
    Clearnode__V1__GovernanceApprove a;
    clearnode__v1__tx__init(&tx);
    clearnode__v1__governance_approve__init(&a);
    a.proposal_id = id;
    tx.kind_case = CLEARNODE__V1__TX__KIND_GOVERNANCE_APPROVE;
    tx.governance_approve = &a;
    return ck_run(w, by->pub, &tx, NULL);
}

static inline int ck_gov_status(ck_world *w, uint64_t id) {
    cn_proposal p;
    int r = cn_gov_get(&w->ov, id, &p);
    free(p.action);
    return r == 1 ? p.status : -1;
}

/* Freeze (1) or unfreeze (0) proposal. */
static inline cn_txerr ck_freeze(ck_world *w, const cn_keypair *by, int on) {
    Clearnode__V1__GovernancePropose p;
    clearnode__v1__governance_propose__init(&p);
    p.action_case = CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_FREEZE_WITHDRAWALS;
    p.freeze_withdrawals = on;
    return ck_propose(w, by, &p, w->now + 3600000, NULL);
}

#endif
