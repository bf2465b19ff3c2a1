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

static int chain_usage(void) {
    fputs("usage: clearaudit verify-chain --node URL --validators GENESIS\n"
          "                               [--from H] [--to H] [--timeout MS] [--json]\n"
          "  URL        the node's HTTP API, http://host:port\n"
          "  GENESIS    the chain's genesis JSON (the validator set the auditor trusts)\n"
          "  --from     first height to check (default 1)\n"
          "  --to       last height (default: the node's height - 1, the newest with a commit)\n"
          "  --timeout  per request, in milliseconds (default 10000)\n"
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

/* Checks block h (`cur`) with the next block's commit and links. */
static int check_pair(ca_report *r, const ca_valset *vs, uint64_t h, const fetched *cur,
                      const fetched *nxt, uint64_t *prev_time, uint64_t *signed_min) {
    char msg[1024];
    ca_header_info info, ninfo;
    const Clearnode__V1__Commit *commit = nxt->blk->last_commit;
    const char *code = ca_verify_commit(vs, cur->blk->header.data, cur->blk->header.len, commit,
                                        &info, msg, sizeof msg);
    if (code)
        return ca_fail(r, CA_EXIT_FAILED, code, "block %llu: %s", (unsigned long long)h, msg);
    if (info.height != h)
        return ca_fail(r, CA_EXIT_FAILED, "height_mismatch", "asked for block %llu, got %llu",
                       (unsigned long long)h, (unsigned long long)info.height);
    if (h == 1 && info.has_last_block_id)
        return ca_fail(r, CA_EXIT_FAILED, "chain_broken", "block 1 has a last_block_id");
    if (*prev_time && info.time <= *prev_time)
        return ca_fail(r, CA_EXIT_FAILED, "time_not_increasing",
                       "block %llu time %llu is not after %llu", (unsigned long long)h,
                       (unsigned long long)info.time, (unsigned long long)*prev_time);
    *prev_time = info.time;
    /* The next header must link back to this one. Its own commit is checked next round. */
    code = ca_verify_commit(vs, nxt->blk->header.data, nxt->blk->header.len, NULL, &ninfo, msg,
                            sizeof msg);
    if (code && strcmp(code, "commit_missing") != 0)
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
    if (*signed_min == 0 || info.signed_power < *signed_min)
        *signed_min = info.signed_power;
    if (!r->json)
        printf("  ok  block %llu certified (power %llu of %llu), linked to %llu\n",
               (unsigned long long)h, (unsigned long long)info.signed_power,
               (unsigned long long)vs->total, (unsigned long long)h + 1);
    return 0;
}

int ca_cmd_verify_chain(int argc, char **argv) {
    const char *url = NULL, *genesis = NULL;
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
    ca_valset *vs = malloc(sizeof *vs);
    fetched cur, nxt;
    memset(&cur, 0, sizeof cur);
    memset(&nxt, 0, sizeof nxt);
    int rc;
    uint64_t tip = 0;
    if (!vs) {
        rc = ca_fail(&r, CA_EXIT_INPUT, "no_memory", "out of memory");
        goto out;
    }
    if (!ca_valset_load(vs, genesis, msg, sizeof msg)) {
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
    uint64_t prev_time = 0, signed_min = 0;
    for (uint64_t h = from; h <= to; h++) {
        if ((rc = fetch_block(&r, url, h + 1, (unsigned)timeout, &nxt)) != 0)
            goto out;
        if ((rc = check_pair(&r, vs, h, &cur, &nxt, &prev_time, &signed_min)) != 0)
            goto out;
        cn_pb_free(&cur.pb);
        cur = nxt;
        memset(&nxt, 0, sizeof nxt);
    }
    json_object_set_new(r.obj, "from", json_integer((json_int_t)from));
    json_object_set_new(r.obj, "to", json_integer((json_int_t)to));
    json_object_set_new(r.obj, "min_signed_power", json_integer((json_int_t)signed_min));
    json_object_set_new(r.obj, "total_power", json_integer((json_int_t)vs->total));
    snprintf(msg, sizeof msg, "blocks %llu..%llu certified by > 2/3 of the genesis validators "
             "and linked", (unsigned long long)from, (unsigned long long)to);
    rc = ca_ok(&r, msg);
out:
    if (r.obj)
        json_decref(r.obj);
    cn_pb_free(&cur.pb);
    cn_pb_free(&nxt.pb);
    free(vs);
    return rc;
}
