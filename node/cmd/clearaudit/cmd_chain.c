/* clearaudit verify-chain: fetch blocks from a node and check headers and commits one by one.
 *
 * For each height h in [from, to] it fetches the encoded Block of h+1 (GET /v1/blocks/{h}
 * ?format=proto, docs/api.md), whose last_commit certifies block h, and checks: the commit
 * (> 2/3 of the genesis validators' power, distinct signers, valid signatures, right height,
 * round and block id), the link header(h+1).last_block_id = id(h), header(h+1).last_commit_hash
 * = H_tag("clearnode/commit", encoded last_commit), heights consecutive, block time strictly
 * increasing, and block 1 has no last_block_id. The newest block has no commit yet, so `to`
 * defaults to the node's height - 1. Nothing the node says is trusted: every answer is
 * size-capped, decoded through cn_decode and verified.
 *
 * Validator-set changes (governance power changes) are followed as a light client does: when
 * header h names a set other than the trusted one, the node's set for h (GET /v1/validators/h)
 * must hash to the header's validators_hash, the commit must hold > 2/3 of that new set, and
 * its signers must hold > 1/3 of the power of the set trusted so far. With fewer than 1/3
 * of that set faulty, at least one honest validator of it vouched for the change. Blocks 1
 * and 2 are signed by the genesis set itself, which the file given must then be.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/hash.h"
#include "node/cmd/clearaudit/clearaudit.h"

typedef struct {
    cn_pb pb;
    const Clearnode__V1__Block *blk;
} fetched;

/* One walk over the chain: where to fetch, what is trusted, what was seen. */
typedef struct {
    ca_report *r;
    const char *url;
    unsigned timeout;
    ca_valset *vs, *next; /* the trusted set; room for a new one */
    json_t *changes;      /* the set changes followed, for the report */
    uint64_t prev_time, signed_min;
} walk;

#define VALIDATORS_ANSWER_MAX (64 * 1024)

static int chain_usage(void) {
    fputs("usage: clearaudit verify-chain --node URL --validators GENESIS\n"
          "                               [--from H] [--to H] [--timeout MS] [--json]\n"
          "                               [--write-validators FILE]\n"
          "  URL        the node's HTTP API, http://host:port\n"
          "  GENESIS    the chain's genesis JSON (the validator set the auditor trusts)\n"
          "  --from     first height to check (default 1)\n"
          "  --to       last height (default: the node's height - 1, the newest with a commit)\n"
          "  --timeout  per request, in milliseconds (default 10000)\n"
          "  --write-validators FILE  after success, write the set that signs the last\n"
          "             height checked (genesis format, for verify-proof --validators)\n"
          "exit: 0 verified, 1 a check failed, 2 usage, 3 unreadable input, 4 network\n",
          stderr);
    return CA_EXIT_USAGE;
}

static int parse_u64(const char *s, uint64_t *out) {
    cn_u128 v;
    if (!cn_por_u128_from_dec(&v, s) || v > UINT64_MAX)
        return 0;
    *out = (uint64_t)v;
    return 1;
}

/* Fetches and decodes block h. Returns 0 on success or an exit status (after reporting). */
static int fetch_block(ca_report *r, const char *url, uint64_t h, unsigned timeout,
                       fetched *out) {
    char path[64], err[512];
    snprintf(path, sizeof path, "/v1/blocks/%llu?format=proto", (unsigned long long)h);
    uint8_t *body;
    size_t len;
    int status;
    memset(out, 0, sizeof *out);
    if (!ca_http_get(url, path, CN_CAP_BLOCK, timeout, &body, &len, &status, err, sizeof err))
        return ca_fail(r, CA_EXIT_NETWORK, "network", "%s", err);
    if (status != 200) {
        free(body);
        return ca_fail(r, CA_EXIT_NETWORK, "node_error", "GET %s: HTTP %d", path, status);
    }
    cn_decode_err de = cn_decode(CN_MSG_BLOCK, body, len, &out->pb);
    free(body);
    if (de != CN_DECODE_OK)
        return ca_fail(r, CA_EXIT_FAILED, "block_malformed", "block %llu: %s",
                       (unsigned long long)h, cn_decode_strerror(de));
    out->blk = (const Clearnode__V1__Block *)out->pb.msg;
    return 0;
}

static int node_height(ca_report *r, const char *url, unsigned timeout, uint64_t *height) {
    uint8_t *body;
    size_t len;
    int status;
    char err[512];
    if (!ca_http_get(url, "/v1/status", 1 << 20, timeout, &body, &len, &status, err, sizeof err))
        return ca_fail(r, CA_EXIT_NETWORK, "network", "%s", err);
    json_t *st = status == 200 ? json_loadb((const char *)body, len, 0, NULL) : NULL;
    free(body);
    json_t *h = json_object_get(st, "height");
    int ok = h && ca_json_u64(h, height, NULL);
    json_decref(st);
    if (!ok)
        return ca_fail(r, CA_EXIT_NETWORK, "node_error",
                       "GET /v1/status: HTTP %d without a \"height\"", status);
    return 0;
}

/* Fetches the node's set for height h into w->next. Returns 0 or an exit status. */
static int fetch_set(walk *w, uint64_t h) {
    char path[64], err[512];
    snprintf(path, sizeof path, "/v1/validators/%llu", (unsigned long long)h);
    uint8_t *body;
    size_t len;
    int status;
    if (!ca_http_get(w->url, path, VALIDATORS_ANSWER_MAX, w->timeout, &body, &len, &status, err,
                     sizeof err))
        return ca_fail(w->r, CA_EXIT_NETWORK, "network", "%s", err);
    if (status != 200) {
        free(body);
        return ca_fail(w->r, CA_EXIT_NETWORK, "node_error",
                       "GET %s: HTTP %d (the set of block %llu differs from the trusted one)",
                       path, status, (unsigned long long)h);
    }
    json_t *ans = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, NULL);
    free(body);
    int ok = ans && ca_valset_from_node(w->next, w->vs->chain_id, ans, err, sizeof err);
    json_decref(ans);
    if (!ok)
        return ca_fail(w->r, CA_EXIT_FAILED, "validator_set_malformed", "GET %s: %s", path,
                       ans ? err : "not JSON");
    return 0;
}

/* Header h names a set other than the trusted one: the node's set for h must hash to it,
 * certify the block (the commit checks, filling *info), and be vouched for by > 1/3 of the
 * trusted set's power among the commit's signers. Then it becomes the trusted set. */
static int follow_set(walk *w, uint64_t h, const uint8_t want[32], const fetched *cur,
                      const Clearnode__V1__Commit *commit, ca_header_info *info) {
    int rc = fetch_set(w, h);
    if (rc)
        return rc;
    char hex[65], msg[1024];
    if (memcmp(w->next->hash, want, 32) != 0)
        return ca_fail(w->r, CA_EXIT_FAILED, "validator_set_mismatch",
                       "block %llu: the node's validator set hashes to %s, not to the header's "
                       "validators_hash", (unsigned long long)h, ca_hex32(hex, w->next->hash));
    const char *code = ca_verify_commit(w->next, cur->blk->header.data, cur->blk->header.len,
                                        commit, info, msg, sizeof msg);
    if (code)
        return ca_fail(w->r, CA_EXIT_FAILED, code, "block %llu (new validator set): %s",
                       (unsigned long long)h, msg);
    /* every precommit verified against the new set; distinct signers */
    uint64_t vouched = 0;
    for (size_t i = 0; commit && i < commit->n_precommits; i++)
        for (size_t j = 0; j < w->vs->n; j++)
            if (memcmp(w->vs->pub[j], commit->precommits[i]->signer.data, 32) == 0)
                vouched += w->vs->power[j];
    /* more than 1/3: 3 * vouched > total (powers <= 1e9, at most 256: no overflow) */
    if (3 * vouched <= w->vs->total)
        return ca_fail(w->r, CA_EXIT_FAILED, "validator_set_unverified",
                       "block %llu: the new validator set's commit is signed by power %llu of "
                       "the %llu of the set trusted before, not more than 1/3",
                       (unsigned long long)h, (unsigned long long)vouched,
                       (unsigned long long)w->vs->total);
    json_array_append_new(
        w->changes,
        json_pack("{s:I, s:s, s:I, s:I, s:I, s:I}", "height", (json_int_t)h, "hash",
                  ca_hex32(hex, w->next->hash), "validators", (json_int_t)w->next->n,
                  "total_power", (json_int_t)w->next->total, "vouched_power",
                  (json_int_t)vouched, "previous_total_power", (json_int_t)w->vs->total));
    if (!w->r->json)
        printf("  ok  validator set changed at block %llu: %zu validators, power %llu; "
               "vouched for by power %llu of %llu of the previous set\n",
               (unsigned long long)h, w->next->n, (unsigned long long)w->next->total,
               (unsigned long long)vouched, (unsigned long long)w->vs->total);
    ca_valset *t = w->vs;
    w->vs = w->next;
    w->next = t;
    return 0;
}

/* Checks block h (`cur`) with the next block's commit and links. */
static int check_pair(walk *w, uint64_t h, const fetched *cur, const fetched *nxt) {
    ca_report *r = w->r;
    char msg[1024];
    ca_header_info info, ninfo;
    const Clearnode__V1__Commit *commit = nxt->blk->last_commit;
    const char *code = ca_verify_commit(w->vs, cur->blk->header.data, cur->blk->header.len,
                                        commit, &info, msg, sizeof msg);
    /* heights 1 and 2 are always signed by the genesis set: a change takes effect two blocks
     * after the block that executes it, so there is no change to follow there */
    if (code && strcmp(code, "validator_set_mismatch") == 0 && h > 2 &&
        info.has_validators_hash) {
        uint8_t named[32];
        memcpy(named, info.validators_hash, 32);
        int rc = follow_set(w, h, named, cur, commit, &info);
        if (rc)
            return rc;
        code = NULL;
    }
    const ca_valset *vs = w->vs;
    if (code)
        return ca_fail(r, CA_EXIT_FAILED, code, "block %llu: %s", (unsigned long long)h, msg);
    if (info.height != h)
        return ca_fail(r, CA_EXIT_FAILED, "height_mismatch", "asked for block %llu, got %llu",
                       (unsigned long long)h, (unsigned long long)info.height);
    if (h == 1 && info.has_last_block_id)
        return ca_fail(r, CA_EXIT_FAILED, "chain_broken", "block 1 has a last_block_id");
    if (w->prev_time && info.time <= w->prev_time)
        return ca_fail(r, CA_EXIT_FAILED, "time_not_increasing",
                       "block %llu time %llu is not after %llu", (unsigned long long)h,
                       (unsigned long long)info.time, (unsigned long long)w->prev_time);
    w->prev_time = info.time;
    /* The next header must link back to this one. Its own commit, and its validator set when
     * that changes, are checked next round. */
    code = ca_verify_commit(vs, nxt->blk->header.data, nxt->blk->header.len, NULL, &ninfo, msg,
                            sizeof msg);
    if (code && strcmp(code, "commit_missing") != 0 && strcmp(code, "validator_set_mismatch") != 0)
        return ca_fail(r, CA_EXIT_FAILED, code, "block %llu: %s", (unsigned long long)h + 1, msg);
    if (ninfo.height != h + 1)
        return ca_fail(r, CA_EXIT_FAILED, "height_mismatch", "asked for block %llu, got %llu",
                       (unsigned long long)h + 1, (unsigned long long)ninfo.height);
    if (!ninfo.has_last_block_id || memcmp(ninfo.last_block_id, info.block_id, 32) != 0)
        return ca_fail(r, CA_EXIT_FAILED, "chain_broken",
                       "block %llu's last_block_id is not the id of block %llu",
                       (unsigned long long)h + 1, (unsigned long long)h);
    uint8_t *enc;
    size_t elen;
    if (!cn_encode(&commit->base, CN_CAP_COMMIT, &enc, &elen))
        return ca_fail(r, CA_EXIT_FAILED, "commit_malformed", "block %llu: commit too large",
                       (unsigned long long)h + 1);
    uint8_t ch[32];
    cn_hash_tagged(ch, CN_TAG_COMMIT, enc, elen);
    free(enc);
    cn_pb hpb;
    int linked = 0;
    if (cn_decode(CN_MSG_HEADER, nxt->blk->header.data, nxt->blk->header.len, &hpb) ==
        CN_DECODE_OK) {
        const Clearnode__V1__Header *nh = (const Clearnode__V1__Header *)hpb.msg;
        linked = nh->last_commit_hash.len == 32 && memcmp(nh->last_commit_hash.data, ch, 32) == 0;
    }
    cn_pb_free(&hpb);
    if (!linked)
        return ca_fail(r, CA_EXIT_FAILED, "last_commit_hash_mismatch",
                       "block %llu's last_commit_hash is not the hash of its last_commit",
                       (unsigned long long)h + 1);
    if (w->signed_min == 0 || info.signed_power < w->signed_min)
        w->signed_min = info.signed_power;
    if (!r->json)
        printf("  ok  block %llu certified (power %llu of %llu), linked to %llu\n",
               (unsigned long long)h, (unsigned long long)info.signed_power,
               (unsigned long long)vs->total, (unsigned long long)h + 1);
    return 0;
}

int ca_cmd_verify_chain(int argc, char **argv) {
    const char *url = NULL, *genesis = NULL, *write_to = NULL;
    uint64_t from = 1, to = 0, timeout = 10000;
    int json = 0, have_to = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (strcmp(a, "--json") == 0)
            json = 1;
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return chain_usage(), CA_EXIT_OK;
        else if (strcmp(a, "--node") == 0 && more)
            url = argv[++i];
        else if (strcmp(a, "--validators") == 0 && more)
            genesis = argv[++i];
        else if (strcmp(a, "--write-validators") == 0 && more)
            write_to = argv[++i];
        else if (strcmp(a, "--from") == 0 && more && parse_u64(argv[i + 1], &from))
            i++;
        else if (strcmp(a, "--to") == 0 && more && parse_u64(argv[i + 1], &to))
            i++, have_to = 1;
        else if (strcmp(a, "--timeout") == 0 && more && parse_u64(argv[i + 1], &timeout))
            i++;
        else
            return chain_usage();
    }
    if (!url || !genesis || from == 0 || timeout == 0 || timeout > 600000)
        return chain_usage();
    ca_report r;
    ca_report_init(&r, "verify-chain", json);
    char msg[1024];
    ca_valset *sets = malloc(2 * sizeof *sets);
    walk w = {&r, url, (unsigned)timeout, sets, sets ? sets + 1 : NULL, json_array(), 0, 0};
    fetched cur, nxt;
    memset(&cur, 0, sizeof cur);
    memset(&nxt, 0, sizeof nxt);
    int rc;
    uint64_t tip = 0;
    if (!sets || !w.changes) {
        rc = ca_fail(&r, CA_EXIT_INPUT, "no_memory", "out of memory");
        goto out;
    }
    if (!ca_valset_load(w.vs, genesis, msg, sizeof msg)) {
        rc = ca_fail(&r, CA_EXIT_INPUT, "genesis", "%s: %s", genesis, msg);
        goto out;
    }
    if ((rc = node_height(&r, url, (unsigned)timeout, &tip)) != 0)
        goto out;
    ca_note(&r, "node_height", json_integer((json_int_t)tip), "node at height %llu",
            (unsigned long long)tip);
    if (!have_to)
        to = tip ? tip - 1 : 0;
    if (to >= tip || from > to) {
        rc = ca_fail(&r, CA_EXIT_FAILED, "nothing_to_verify",
                     "heights %llu..%llu: the node is at %llu and block h needs block h+1's "
                     "commit", (unsigned long long)from, (unsigned long long)to,
                     (unsigned long long)tip);
        goto out;
    }
    if ((rc = fetch_block(&r, url, from, (unsigned)timeout, &cur)) != 0)
        goto out;
    for (uint64_t h = from; h <= to; h++) {
        if ((rc = fetch_block(&r, url, h + 1, (unsigned)timeout, &nxt)) != 0)
            goto out;
        if ((rc = check_pair(&w, h, &cur, &nxt)) != 0)
            goto out;
        cn_pb_free(&cur.pb);
        cur = nxt;
        memset(&nxt, 0, sizeof nxt);
    }
    if (write_to && !ca_valset_write(w.vs, write_to, msg, sizeof msg)) {
        rc = ca_fail(&r, CA_EXIT_INPUT, "write_validators", "%s", msg);
        goto out;
    }
    size_t changes = json_array_size(w.changes);
    json_object_set_new(r.obj, "from", json_integer((json_int_t)from));
    json_object_set_new(r.obj, "to", json_integer((json_int_t)to));
    json_object_set_new(r.obj, "min_signed_power", json_integer((json_int_t)w.signed_min));
    json_object_set_new(r.obj, "total_power", json_integer((json_int_t)w.vs->total));
    json_object_set_new(r.obj, "set_changes", json_incref(w.changes));
    if (changes == 0)
        snprintf(msg, sizeof msg, "blocks %llu..%llu certified by > 2/3 of the genesis "
                 "validators and linked", (unsigned long long)from, (unsigned long long)to);
    else
        snprintf(msg, sizeof msg, "blocks %llu..%llu certified by > 2/3 of their validator sets "
                 "and linked; %zu set change%s, each vouched for by > 1/3 of the set before",
                 (unsigned long long)from, (unsigned long long)to, changes,
                 changes == 1 ? "" : "s");
    rc = ca_ok(&r, msg);
out:
    if (r.obj)
        json_decref(r.obj);
    json_decref(w.changes);
    cn_pb_free(&cur.pb);
    cn_pb_free(&nxt.pb);
    free(sets);
    return rc;
}
