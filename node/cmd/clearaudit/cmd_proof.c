/* clearaudit verify-proof: one client's inclusion proof against a header certified by the
 * genesis validators.
 *
 * Order of checks: the commit certifies the header (> 2/3 of the power, distinct validators,
 * valid signatures, right height/round/block id); the proof file decodes with every size
 * right; the proof verifies on its own (leaf rebuilt, bounds, padding, sums, root, totals);
 * its chain is the header's; its root is the header's reserves_root. Optionally the account
 * is the auditor's client (--account) and the salt derives from the client's secret (--secret).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "crypto/sumtree_pb.h"
#include "node/cmd/clearaudit/clearaudit.h"

#define PROOF_JSON_MAX ((size_t)1 << 20)

/* ---- proof files ------------------------------------------------------------------------- */

static cn_por_err json_sums(json_t *arr, cn_u128 *out, uint32_t k) {
    if (!json_is_array(arr) || json_array_size(arr) != k)
        return CN_POR_E_SUM_COUNT;
    for (uint32_t a = 0; a < k; a++) {
        int neg;
        if (!ca_json_u128(json_array_get(arr, a), &out[a], &neg))
            return neg ? CN_POR_E_SIBLING_BOUND : CN_POR_E_FIELD_LENGTH;
    }
    return CN_POR_OK;
}

/* The JSON form of a ReservesProof: same field names, hashes and keys in hex, sums as decimal
 * strings, balances as integers or decimal strings. */
static cn_por_err proof_from_json(cn_por_proof *p, json_t *o, char *msg, size_t cap) {
    memset(p, 0, sizeof *p);
    json_t *cid = json_object_get(o, "chain_id");
    if (!json_is_string(cid) || json_string_length(cid) == 0 ||
        json_string_length(cid) > CN_POR_CHAIN_ID_MAX)
        return CN_POR_E_CHAIN_ID;
    memcpy(p->chain_id, json_string_value(cid), json_string_length(cid) + 1);
    uint64_t depth = 0;
    struct {
        const char *key;
        uint64_t *dst;
    } ints[] = {{"epoch", &p->epoch}, {"height", &p->height}, {"depth", &depth},
                {"leaf_count", &p->leaf_count}, {"leaf_index", &p->leaf_index}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        if (!ca_json_u64(json_object_get(o, ints[i].key), ints[i].dst, NULL)) {
            snprintf(msg, cap, "proof: \"%s\" missing or not a non-negative integer", ints[i].key);
            return CN_POR_E_FIELD_LENGTH;
        }
    if (depth > CN_POR_MAX_DEPTH)
        return CN_POR_E_DEPTH_RANGE;
    p->depth = (uint32_t)depth;
    if (!ca_json_hex32(json_object_get(o, "account"), p->account) ||
        !ca_json_hex32(json_object_get(o, "salt"), p->salt) ||
        !ca_json_hex32(json_object_get(o, "root"), p->root)) {
        snprintf(msg, cap, "proof: account, salt and root must be 64 hex digits");
        return CN_POR_E_FIELD_LENGTH;
    }
    json_t *assets = json_object_get(o, "assets"), *bal = json_object_get(o, "balances");
    if (!json_is_array(assets) || json_array_size(assets) == 0 ||
        json_array_size(assets) > CN_POR_MAX_ASSETS)
        return CN_POR_E_ASSET_COUNT;
    p->n_assets = (uint32_t)json_array_size(assets);
    for (uint32_t a = 0; a < p->n_assets; a++) {
        json_t *s = json_array_get(assets, a);
        if (!json_is_string(s) || json_string_length(s) == 0 ||
            json_string_length(s) > CN_POR_SYMBOL_MAX)
            return CN_POR_E_ASSET_NAME;
        memcpy(p->assets[a], json_string_value(s), json_string_length(s) + 1);
    }
    if (!json_is_array(bal) || json_array_size(bal) != p->n_assets)
        return CN_POR_E_BALANCE_COUNT;
    for (uint32_t a = 0; a < p->n_assets; a++) {
        int neg;
        if (!ca_json_u64(json_array_get(bal, a), &p->balances[a], &neg))
            return neg ? CN_POR_E_BALANCE_NEGATIVE : CN_POR_E_BALANCE_BOUND;
    }
    json_t *path = json_object_get(o, "path");
    if (!json_is_array(path) || json_array_size(path) > CN_POR_MAX_DEPTH)
        return CN_POR_E_PATH_LENGTH;
    p->n_path = (uint32_t)json_array_size(path);
    cn_por_err e;
    for (uint32_t l = 0; l < p->n_path; l++) {
        json_t *st = json_array_get(path, l);
        if (!ca_json_hex32(json_object_get(st, "hash"), p->path[l].hash)) {
            snprintf(msg, cap, "proof: path[%u].hash is not 64 hex digits", l);
            return CN_POR_E_FIELD_LENGTH;
        }
        if ((e = json_sums(json_object_get(st, "sums"), p->path[l].sums, p->n_assets)) !=
            CN_POR_OK) {
            snprintf(msg, cap, "proof: path[%u].sums: %s", l, cn_por_strerror(e));
            return e;
        }
    }
    return json_sums(json_object_get(o, "totals"), p->totals, p->n_assets);
}

cn_por_err ca_proof_load(const char *path, cn_por_proof *p, int *input_error, char *msg,
                         size_t cap) {
    *input_error = 0;
    msg[0] = 0;
    uint8_t *buf;
    size_t len;
    if (!ca_read_file(path, PROOF_JSON_MAX, &buf, &len, msg, cap)) {
        *input_error = 1;
        return CN_POR_E_ARG;
    }
    cn_por_err e;
    if (ca_is_json(buf, len)) {
        json_error_t je;
        json_t *o = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &je);
        if (!o) {
            snprintf(msg, cap, "%s: line %d: %s", path, je.line, je.text);
            *input_error = 1;
            e = CN_POR_E_ARG;
        } else {
            e = proof_from_json(p, o, msg, cap);
            json_decref(o);
        }
    } else {
        cn_pb pb;
        cn_decode_err de = cn_decode(CN_MSG_RESERVES_PROOF, buf, len, &pb);
        if (de != CN_DECODE_OK) {
            snprintf(msg, cap, "%s: not a ReservesProof: %s", path, cn_decode_strerror(de));
            *input_error = 1;
            e = CN_POR_E_ARG;
        } else {
            e = cn_por_proof_from_pb(p, (const Clearnode__V1__ReservesProof *)pb.msg, NULL);
            cn_pb_free(&pb);
        }
    }
    free(buf);
    return e;
}

/* ---- the command ------------------------------------------------------------------------- */

static int proof_usage(void) {
    fputs("usage: clearaudit verify-proof PROOF --header HEADER --validators GENESIS\n"
          "                               [--next-block BLOCK] [--account HEX] [--secret HEX]\n"
          "                               [--json]\n"
          "  PROOF      encoded ReservesProof, or its JSON form\n"
          "  HEADER     JSON {\"header\": b64, \"commit\": b64} or {\"block\": b64,\n"
          "             \"next_block\": b64}, or an encoded Block (then --next-block gives the\n"
          "             encoded Block of the next height, whose last_commit certifies it)\n"
          "  GENESIS    the chain's genesis JSON (chain id and validators with power)\n"
          "  --account  require the proof to be for this x-only key (64 hex)\n"
          "  --secret   the client's 32-byte reserves secret (64 hex): check the salt\n"
          "exit: 0 verified, 1 a check failed, 2 usage, 3 unreadable input\n",
          stderr);
    return CA_EXIT_USAGE;
}

static json_t *u128_array(const cn_u128 *v, uint32_t k) {
    json_t *a = json_array();
    for (uint32_t i = 0; i < k; i++) {
        char d[CN_POR_DEC_MAX + 1];
        cn_por_u128_to_dec(d, v[i]);
        json_array_append_new(a, json_string(d));
    }
    return a;
}

static int por_fail(ca_report *r, cn_por_err e, const cn_por_where *w, const char *extra) {
    char where[128] = "";
    if (w && w->level != UINT32_MAX && w->asset != UINT32_MAX)
        snprintf(where, sizeof where, " (level %u, asset #%u)", w->level, w->asset);
    else if (w && w->level != UINT32_MAX)
        snprintf(where, sizeof where, " (level %u)", w->level);
    else if (w && w->asset != UINT32_MAX)
        snprintf(where, sizeof where, " (asset #%u)", w->asset);
    return ca_fail(r, CA_EXIT_FAILED, cn_por_code(e), "proof: %s%s%s%s", cn_por_strerror(e),
                   where, extra && *extra ? ": " : "", extra ? extra : "");
}

int ca_cmd_verify_proof(int argc, char **argv) {
    const char *proof_path = NULL, *header = NULL, *next = NULL, *genesis = NULL;
    const char *account = NULL, *secret = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (strcmp(a, "--json") == 0)
            json = 1;
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return proof_usage(), CA_EXIT_OK;
        else if (strcmp(a, "--header") == 0 && more)
            header = argv[++i];
        else if (strcmp(a, "--next-block") == 0 && more)
            next = argv[++i];
        else if (strcmp(a, "--validators") == 0 && more)
            genesis = argv[++i];
        else if (strcmp(a, "--account") == 0 && more)
            account = argv[++i];
        else if (strcmp(a, "--secret") == 0 && more)
            secret = argv[++i];
        else if (a[0] != '-' && !proof_path)
            proof_path = a;
        else
            return proof_usage();
    }
    if (!proof_path || !header || !genesis)
        return proof_usage();
    uint8_t want_account[32], want_secret[32];
    if ((account && !cn_hex_decode_exact(want_account, 32, account)) ||
        (secret && !cn_hex_decode_exact(want_secret, 32, secret)))
        return proof_usage();

    ca_report r;
    ca_report_init(&r, "verify-proof", json);
    char msg[1024];
    ca_valset *vs = malloc(sizeof *vs);
    cn_por_proof *p = malloc(sizeof *p);
    ca_header_file hf;
    memset(&hf, 0, sizeof hf);
    int rc;
    if (!vs || !p) {
        rc = ca_fail(&r, CA_EXIT_INPUT, "no_memory", "out of memory");
        goto out;
    }
    if (!ca_valset_load(vs, genesis, msg, sizeof msg)) {
        rc = ca_fail(&r, CA_EXIT_INPUT, "genesis", "%s: %s", genesis, msg);
        goto out;
    }
    ca_note(&r, "chain_id", json_string(vs->chain_id), "genesis: chain %s, %zu validators, "
            "total power %llu", vs->chain_id, vs->n, (unsigned long long)vs->total);
    const char *code = ca_header_file_load(&hf, header, next, msg, sizeof msg);
    if (code) {
        rc = ca_fail(&r, strcmp(code, "header_file") == 0 ? CA_EXIT_INPUT : CA_EXIT_FAILED, code,
                     "%s", msg);
        goto out;
    }
    ca_header_info info;
    if ((code = ca_verify_commit(vs, hf.hdr, hf.hdr_len, hf.commit, &info, msg, sizeof msg))) {
        rc = ca_fail(&r, CA_EXIT_FAILED, code, "%s", msg);
        goto out;
    }
    char hex[65];
    ca_note(&r, "height", json_integer((json_int_t)info.height),
            "header %llu (block id %s) certified by %zu validators with power %llu of %llu",
            (unsigned long long)info.height, ca_hex32(hex, info.block_id), info.signers,
            (unsigned long long)info.signed_power, (unsigned long long)vs->total);
    json_object_set_new(r.obj, "block_id", json_string(hex));
    json_object_set_new(r.obj, "signed_power", json_integer((json_int_t)info.signed_power));
    json_object_set_new(r.obj, "total_power", json_integer((json_int_t)vs->total));

    int input_error;
    cn_por_err e = ca_proof_load(proof_path, p, &input_error, msg, sizeof msg);
    if (input_error) {
        rc = ca_fail(&r, CA_EXIT_INPUT, "proof_file", "%s", msg);
        goto out;
    }
    if (e != CN_POR_OK) {
        rc = por_fail(&r, e, NULL, msg);
        goto out;
    }
    if (strcmp(p->chain_id, vs->chain_id) != 0) {
        rc = ca_fail(&r, CA_EXIT_FAILED, "chain_mismatch", "proof is for chain '%s', not '%s'",
                     p->chain_id, vs->chain_id);
        goto out;
    }
    if (!info.has_reserves_root) {
        rc = ca_fail(&r, CA_EXIT_FAILED, "no_reserves_root",
                     "header %llu carries no reserves_root", (unsigned long long)info.height);
        goto out;
    }
    cn_por_where w;
    if ((e = cn_por_verify(p, info.reserves_root, &w)) != CN_POR_OK) {
        rc = por_fail(&r, e, &w, NULL);
        goto out;
    }
    if (account && memcmp(want_account, p->account, 32) != 0) {
        rc = ca_fail(&r, CA_EXIT_FAILED, cn_por_code(CN_POR_E_ACCOUNT_MISMATCH),
                     "the proof is for account %s, not the one given", ca_hex32(hex, p->account));
        goto out;
    }
    if (secret) {
        uint8_t salt[32];
        cn_por_salt(salt, want_secret, p->epoch, p->account);
        if (memcmp(salt, p->salt, 32) != 0) {
            rc = ca_fail(&r, CA_EXIT_FAILED, cn_por_code(CN_POR_E_SALT_MISMATCH), "%s",
                         cn_por_strerror(CN_POR_E_SALT_MISMATCH));
            goto out;
        }
        ca_note(&r, NULL, NULL, "salt derives from the given secret");
    }
    ca_note(&r, "epoch", json_integer((json_int_t)p->epoch),
            "proof for account %s, epoch %llu, leaf %llu of %llu, depth %u",
            ca_hex32(hex, p->account), (unsigned long long)p->epoch,
            (unsigned long long)p->leaf_index, (unsigned long long)p->leaf_count, p->depth);
    json_object_set_new(r.obj, "account", json_string(hex));
    json_object_set_new(r.obj, "root", json_string(ca_hex32(hex, p->root)));
    ca_note(&r, NULL, NULL, "root %s equals the header's reserves_root", hex);
    json_t *assets = json_array(), *bal = json_array();
    for (uint32_t a = 0; a < p->n_assets; a++) {
        char t[CN_POR_DEC_MAX + 1];
        cn_por_u128_to_dec(t, p->totals[a]);
        json_array_append_new(assets, json_string(p->assets[a]));
        json_array_append_new(bal, json_integer((json_int_t)p->balances[a]));
        ca_note(&r, NULL, NULL, "%-8s balance %llu, total liabilities %s", p->assets[a],
                (unsigned long long)p->balances[a], t);
    }
    json_object_set_new(r.obj, "assets", assets);
    json_object_set_new(r.obj, "balances", bal);
    json_object_set_new(r.obj, "totals", u128_array(p->totals, p->n_assets));
    char summary[256];
    snprintf(summary, sizeof summary,
             "account included in epoch %llu reserves, root certified at height %llu",
             (unsigned long long)p->epoch, (unsigned long long)info.height);
    rc = ca_ok(&r, summary);
out:
    if (r.obj)
        json_decref(r.obj);
    ca_header_file_free(&hf);
    free(vs);
    free(p);
    return rc;
}
