/* clearctl commands for withdrawals and governance (docs/custody.md, docs/governance.md):
 *
 *   tx withdraw --asset SYM --amount N --destination D --expiry MS|+SECONDS
 *   tx approve --request ID          fetches the request, computes the approval digest, signs
 *   tx cancel --request ID
 *   tx allowlist --destination D [--remove]
 *   tx propose --expiry MS|+SECONDS  (--param NAME --value V | --freeze | --unfreeze |
 *               --add-member HEX --roles r1,r2 --name NAME | --remove-member HEX |
 *               --validator-power HEX --power N | --resume-market SYM|all |
 *               --cancel-proposal ID)
 *   tx gov-approve --proposal ID
 *   query withdrawal ID | query withdrawals PUBKEY | query proposal ID
 * COMMON for tx: --key FILE [--node URL] [--wait] [--json]. The chain id and nonce come from
 * the node (GET /v1/status, GET /v1/accounts/{signer}).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "node/app/custody.h"
#include "node/app/txbuild.h"
#include "node/cmd/clearctl/clearctl.h"
#include "node/genesis/genesis.h"
#include "proto/codec.h"

typedef struct {
    const char *key, *node, *asset, *amount, *dest, *expiry, *request, *proposal;
    const char *param, *value, *add_member, *roles, *name, *remove_member, *vpower, *power;
    const char *resume, *cancel_prop;
    int remove, freeze, unfreeze, wait, json;
} cu_opts;

static const char *const KINDS[] = {"withdraw", "approve", "cancel", "allowlist", "propose",
                                    "gov-approve"};

int clearctl_custody_kind(const char *k) {
    for (size_t i = 0; i < sizeof KINDS / sizeof KINDS[0]; i++)
        if (strcmp(k, KINDS[i]) == 0)
            return 1;
    return 0;
}

static int parse(int argc, char **argv, cu_opts *o) {
    struct {
        const char *flag;
        const char **dst;
    } vals[] = {{"--key", &o->key},
                {"--node", &o->node},
                {"--asset", &o->asset},
                {"--amount", &o->amount},
                {"--destination", &o->dest},
                {"--expiry", &o->expiry},
                {"--request", &o->request},
                {"--proposal", &o->proposal},
                {"--param", &o->param},
                {"--value", &o->value},
                {"--add-member", &o->add_member},
                {"--roles", &o->roles},
                {"--name", &o->name},
                {"--remove-member", &o->remove_member},
                {"--validator-power", &o->vpower},
                {"--power", &o->power},
                {"--resume-market", &o->resume},
                {"--cancel-proposal", &o->cancel_prop}};
    struct {
        const char *flag;
        int *dst;
    } bools[] = {{"--remove", &o->remove}, {"--freeze", &o->freeze},
                 {"--unfreeze", &o->unfreeze}, {"--wait", &o->wait}, {"--json", &o->json}};
    for (int i = 0; i < argc; i++) {
        int done = 0;
        for (size_t j = 0; !done && j < sizeof bools / sizeof bools[0]; j++)
            if (strcmp(argv[i], bools[j].flag) == 0) {
                *bools[j].dst = 1;
                done = 1;
            }
        for (size_t j = 0; !done && j < sizeof vals / sizeof vals[0]; j++)
            if (strcmp(argv[i], vals[j].flag) == 0) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "error: %s needs a value\n", argv[i]);
                    return 0;
                }
                *vals[j].dst = argv[++i];
                done = 1;
            }
        if (!done) {
            fprintf(stderr, "error: unknown flag '%s'\n", argv[i]);
            return 0;
        }
    }
    if (o->key == NULL) {
        fprintf(stderr, "error: --key is required\n");
        return 0;
    }
    return 1;
}

/* GET path -> JSON object, or NULL after printing why (*rc set). */
static json_t *get_json(const char *node, const char *path, int *rc) {
    clearctl_http_resp r;
    *rc = clearctl_call(node, "GET", path, NULL, NULL, 0, &r);
    if (*rc != CLEARCTL_OK)
        return NULL;
    if (r.status != 200) {
        *rc = clearctl_node_error(&r, 0);
        clearctl_http_free(&r);
        return NULL;
    }
    json_t *v = clearctl_json_body(&r);
    clearctl_http_free(&r);
    *rc = v ? CLEARCTL_OK : CLEARCTL_UNREACHABLE;
    return v;
}

/* MS (absolute) or +SECONDS (from now). */
static int parse_expiry(const char *s, uint64_t *out) {
    if (s == NULL) {
        fprintf(stderr, "error: --expiry is required\n");
        return 0;
    }
    if (s[0] == '+') {
        uint64_t sec;
        if (!clearctl_parse_u64("--expiry", s + 1, 1, 365u * 86400u, &sec))
            return 0;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        *out = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u + sec * 1000u;
        return 1;
    }
    return clearctl_parse_u64("--expiry", s, 1, INT64_MAX, out);
}

static int parse_roles(const char *s, uint32_t *roles) {
    *roles = 0;
    char buf[256];
    if (s == NULL || strlen(s) >= sizeof buf) {
        fprintf(stderr, "error: --roles is required (e.g. approver,governor)\n");
        return 0;
    }
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        uint32_t bit = 0;
        for (uint32_t b = 1; b <= CN_ROLE_AUDITOR; b <<= 1)
            if (cn_role_name(b) && strcmp(cn_role_name(b), t) == 0)
                bit = b;
        if (!bit) {
            fprintf(stderr, "error: --roles: unknown role '%s'\n", t);
            return 0;
        }
        *roles |= bit;
    }
    return *roles != 0;
}

/* Submits tx (chain id and nonce filled from the node), prints the id or the receipt. */
static int sign_submit(const cu_opts *o, const cn_keypair *kp, const char *chain,
                       Clearnode__V1__Tx *tx) {
    const char *node = clearctl_node_url(o->node);
    char hex[65], path[96];
    cn_hex_encode(hex, kp->pub, 32);
    snprintf(path, sizeof path, "/v1/accounts/%s", hex);
    int rc;
    json_t *acct = get_json(node, path, &rc);
    if (!acct)
        return rc;
    json_t *n = json_object_get(acct, "nonce");
    uint64_t nonce = json_is_integer(n) ? (uint64_t)json_integer_value(n) + 1 : 0;
    json_decref(acct);
    if (nonce == 0) {
        fprintf(stderr, "error: the node's account answer has no usable nonce\n");
        return CLEARCTL_FAILED;
    }
    tx->nonce = nonce;
    uint8_t *b;
    size_t len;
    if (!cn_tx_sign(kp, chain, tx, &b, &len)) {
        fprintf(stderr, "error: cannot encode the transaction\n");
        return CLEARCTL_FAILED;
    }
    uint8_t id[32];
    cn_hash_tagged(id, CN_TAG_TX, b, len);
    cn_hex_encode(hex, id, 32);
    clearctl_http_resp r;
    rc = clearctl_call(node, "POST", "/v1/tx", "application/x-protobuf", b, len, &r);
    free(b);
    if (rc != CLEARCTL_OK)
        return rc;
    if (r.status != 200 && r.status != 202) {
        rc = clearctl_node_error(&r, o->json);
        clearctl_http_free(&r);
        return rc;
    }
    clearctl_http_free(&r);
    if (!o->wait) {
        printf(o->json ? "{\"hash\":\"%s\"}\n" : "accepted %s\n", hex);
        return CLEARCTL_OK;
    }
    snprintf(path, sizeof path, "/v1/tx/%s", hex);
    for (int i = 0; i < 120; i++) { /* 30 s */
        clearctl_http_resp q;
        rc = clearctl_call(node, "GET", path, NULL, NULL, 0, &q);
        if (rc != CLEARCTL_OK)
            return rc;
        if (q.status == 200) {
            json_t *v = clearctl_json_body(&q);
            clearctl_http_free(&q);
            json_t *code = json_object_get(v, "code");
            int ok = json_is_integer(code) && json_integer_value(code) == 0;
            if (!o->json)
                printf("%s %s\n", ok ? "committed" : "FAILED", hex);
            clearctl_print(v, o->json);
            json_decref(v);
            return ok ? CLEARCTL_OK : CLEARCTL_FAILED;
        }
        clearctl_http_free(&q);
        struct timespec ts = {0, 250000000L};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "error: %s not committed within 30 s\n", hex);
    return CLEARCTL_FAILED;
}

/* Fills the approve body from GET /v1/withdrawals/{id}. */
static int build_approve(const cu_opts *o, const cn_keypair *kp, const char *chain,
                         uint64_t id, Clearnode__V1__WithdrawApprove *a, uint8_t sig[64]) {
    char path[64];
    snprintf(path, sizeof path, "/v1/withdrawals/%llu", (unsigned long long)id);
    int rc;
    json_t *w = get_json(clearctl_node_url(o->node), path, &rc);
    if (!w)
        return rc;
    const char *asset = json_string_value(json_object_get(w, "asset"));
    const char *amount = json_string_value(json_object_get(w, "amount"));
    const char *dest = json_string_value(json_object_get(w, "destination"));
    json_t *exp = json_object_get(w, "expiry"), *pv = json_object_get(w, "policy_version");
    uint64_t am;
    rc = CLEARCTL_FAILED;
    if (!asset || !amount || !dest || !json_is_integer(exp) || !json_is_integer(pv) ||
        !clearctl_parse_u64("amount", amount, 1, INT64_MAX, &am)) {
        fprintf(stderr, "error: the node's withdrawal answer is incomplete\n");
    } else {
        uint8_t d[32];
        a->request_id = id;
        a->policy_version = (uint64_t)json_integer_value(pv);
        cn_withdraw_digest(d, chain, id, a->policy_version, asset, am, dest,
                           (uint64_t)json_integer_value(exp));
        if (cn_sign32(kp, sig, d, NULL)) {
            a->approval_sig.data = sig;
            a->approval_sig.len = 64;
            rc = CLEARCTL_OK;
        }
    }
    json_decref(w);
    return rc;
}

/* Fills the proposal's action from the flags. */
static int build_propose(const cu_opts *o, Clearnode__V1__GovernancePropose *p,
                         Clearnode__V1__ParamChange *pc, Clearnode__V1__MemberChange *mc,
                         Clearnode__V1__ValidatorPower *vp, uint8_t key[32]) {
    if (!parse_expiry(o->expiry, &p->expiry))
        return 0;
    int n = !!o->param + o->freeze + o->unfreeze + !!o->add_member + !!o->remove_member +
            !!o->vpower + !!o->resume + !!o->cancel_prop;
    if (n != 1) {
        fprintf(stderr, "error: tx propose needs exactly one action flag\n");
        return 0;
    }
    if (o->param) {
        uint64_t v;
        if (!o->value || !clearctl_parse_u64("--value", o->value, 0, INT64_MAX, &v))
            return 0;
        pc->key = (char *)(uintptr_t)o->param;
        pc->value = (int64_t)v;
        p->action_case = CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_PARAM_CHANGE;
        p->param_change = pc;
    } else if (o->freeze || o->unfreeze) {
        p->action_case = CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_FREEZE_WITHDRAWALS;
        p->freeze_withdrawals = o->freeze;
    } else if (o->add_member) {
        if (!clearctl_parse_hex32("--add-member", o->add_member, key) ||
            !parse_roles(o->roles, &mc->roles))
            return 0;
        mc->pubkey.data = key;
        mc->pubkey.len = 32;
        mc->name = (char *)(uintptr_t)(o->name ? o->name : "member");
        p->action_case = CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_ADD_MEMBER;
        p->add_member = mc;
    } else if (o->remove_member) {
        if (!clearctl_parse_hex32("--remove-member", o->remove_member, key))
            return 0;
        p->remove_member.data = key;
        p->remove_member.len = 32;
        p->action_case = CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_REMOVE_MEMBER;
    } else if (o->vpower) {
        if (!clearctl_parse_hex32("--validator-power", o->vpower, key) || !o->power ||
            !clearctl_parse_u64("--power", o->power, 0, (uint64_t)CN_MAX_POWER, &vp->power))
            return 0;
        vp->pubkey.data = key;
        vp->pubkey.len = 32;
        p->action_case = CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_VALIDATOR_POWER;
        p->validator_power = vp;
    } else if (o->resume) {
        p->resume_market = (char *)(uintptr_t)(strcmp(o->resume, "all") == 0 ? "" : o->resume);
        p->action_case = CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_RESUME_MARKET;
    } else {
        if (!clearctl_parse_u64("--cancel-proposal", o->cancel_prop, 1, INT64_MAX,
                                &p->cancel_proposal))
            return 0;
        p->action_case = CLEARNODE__V1__GOVERNANCE_PROPOSE__ACTION_CANCEL_PROPOSAL;
    }
    return 1;
}

int clearctl_custody_tx(int argc, char **argv) {
    const char *kind = argv[0];
    cu_opts o;
    memset(&o, 0, sizeof o);
    if (!parse(argc - 1, argv + 1, &o))
        return CLEARCTL_USAGE;
    Clearnode__V1__Tx tx;
    clearnode__v1__tx__init(&tx);
    Clearnode__V1__WithdrawRequest wr;
    Clearnode__V1__WithdrawApprove wa;
    Clearnode__V1__WithdrawCancel wc;
    Clearnode__V1__AllowlistChange al;
    Clearnode__V1__GovernancePropose gp;
    Clearnode__V1__GovernanceApprove ga;
    Clearnode__V1__ParamChange pc;
    Clearnode__V1__MemberChange mc;
    Clearnode__V1__ValidatorPower vp;
    clearnode__v1__withdraw_request__init(&wr);
    clearnode__v1__withdraw_approve__init(&wa);
    clearnode__v1__withdraw_cancel__init(&wc);
    clearnode__v1__allowlist_change__init(&al);
    clearnode__v1__governance_propose__init(&gp);
    clearnode__v1__governance_approve__init(&ga);
    clearnode__v1__param_change__init(&pc);
    clearnode__v1__member_change__init(&mc);
    clearnode__v1__validator_power__init(&vp);
    uint8_t key[32], sig[64];
    uint64_t id = 0;
    int ok = 1;
    if (strcmp(kind, "withdraw") == 0) {
        ok = o.asset && o.dest && o.amount && clearctl_parse_asset("--asset", o.asset) &&
             clearctl_parse_u64("--amount", o.amount, 1, INT64_MAX, &wr.amount) &&
             parse_expiry(o.expiry, &wr.expiry);
        wr.asset = (char *)(uintptr_t)o.asset;
        wr.destination = (char *)(uintptr_t)o.dest;
        tx.kind_case = CLEARNODE__V1__TX__KIND_WITHDRAW_REQUEST;
        tx.withdraw_request = &wr;
    } else if (strcmp(kind, "approve") == 0 || strcmp(kind, "cancel") == 0) {
        ok = o.request && clearctl_parse_u64("--request", o.request, 1, INT64_MAX, &id);
        wc.request_id = id;
        tx.kind_case = kind[1] == 'p' ? CLEARNODE__V1__TX__KIND_WITHDRAW_APPROVE
                                      : CLEARNODE__V1__TX__KIND_WITHDRAW_CANCEL;
        tx.withdraw_approve = &wa;
        if (kind[1] != 'p')
            tx.withdraw_cancel = &wc;
    } else if (strcmp(kind, "allowlist") == 0) {
        ok = o.dest != NULL;
        al.destination = (char *)(uintptr_t)o.dest;
        al.remove = o.remove;
        tx.kind_case = CLEARNODE__V1__TX__KIND_ALLOWLIST_CHANGE;
        tx.allowlist_change = &al;
    } else if (strcmp(kind, "propose") == 0) {
        ok = build_propose(&o, &gp, &pc, &mc, &vp, key);
        tx.kind_case = CLEARNODE__V1__TX__KIND_GOVERNANCE_PROPOSE;
        tx.governance_propose = &gp;
    } else {
        ok = o.proposal && clearctl_parse_u64("--proposal", o.proposal, 1, INT64_MAX,
                                              &ga.proposal_id);
        tx.kind_case = CLEARNODE__V1__TX__KIND_GOVERNANCE_APPROVE;
        tx.governance_approve = &ga;
    }
    if (!ok) {
        fprintf(stderr, "error: missing or invalid flags for tx %s (docs/custody.md)\n", kind);
        return CLEARCTL_USAGE;
    }
    int rc;
    json_t *st = get_json(clearctl_node_url(o.node), "/v1/status", &rc);
    const char *cid = st ? json_string_value(json_object_get(st, "chain_id")) : NULL;
    char chain[CN_CHAIN_ID_MAX + 1];
    if (!cid || strlen(cid) > CN_CHAIN_ID_MAX) {
        json_decref(st);
        if (st)
            fprintf(stderr, "error: the node's status has no usable chain_id\n");
        return st ? CLEARCTL_FAILED : rc;
    }
    snprintf(chain, sizeof chain, "%s", cid);
    json_decref(st);
    cn_keypair kp;
    if (!clearctl_load_key(o.key, &kp))
        return CLEARCTL_FAILED;
    rc = CLEARCTL_OK;
    if (tx.kind_case == CLEARNODE__V1__TX__KIND_WITHDRAW_APPROVE)
        rc = build_approve(&o, &kp, chain, id, &wa, sig);
    if (rc == CLEARCTL_OK)
        rc = sign_submit(&o, &kp, chain, &tx);
    cn_keypair_wipe(&kp);
    return rc;
}

int clearctl_custody_query(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "error: query %s needs an argument\n", argv[0]);
        return CLEARCTL_USAGE;
    }
    const char *node = NULL;
    int json = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--node") == 0 && i + 1 < argc)
            node = argv[++i];
        else {
            fprintf(stderr, "error: unknown flag '%s'\n", argv[i]);
            return CLEARCTL_USAGE;
        }
    }
    char path[160];
    uint64_t id;
    uint8_t pub[32];
    if (strcmp(argv[0], "withdrawals") == 0) {
        if (!clearctl_parse_hex32("PUBKEY", argv[1], pub))
            return CLEARCTL_USAGE;
        snprintf(path, sizeof path, "/v1/accounts/%s/withdrawals", argv[1]);
    } else {
        if (!clearctl_parse_u64("ID", argv[1], 1, INT64_MAX, &id))
            return CLEARCTL_USAGE;
        snprintf(path, sizeof path,
                 strcmp(argv[0], "withdrawal") == 0 ? "/v1/withdrawals/%llu"
                                                    : "/v1/governance/proposals/%llu",
                 (unsigned long long)id);
    }
    int rc;
    json_t *v = get_json(clearctl_node_url(node), path, &rc);
    if (!v)
        return rc;
    clearctl_print(v, json);
    json_decref(v);
    return CLEARCTL_OK;
}
