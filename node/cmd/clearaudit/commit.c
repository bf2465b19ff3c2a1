/* clearaudit: commit certificates and header files.
 *
 * A header is trusted only through its commit: precommits (signed Vote bodies, checked as the
 * exact bytes received) for the header's block id H_tag("clearnode/block", header bytes) from
 * distinct validators holding more than 2/3 of the voting power. The validator set is one the
 * auditor trusts (valset.c); the header's validators_hash must match it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "crypto/schnorr.h"
#include "node/cmd/clearaudit/clearaudit.h"

/* ---- commits ----------------------------------------------------------------------------- */

static const char *failf(char *msg, size_t cap, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static const char *failf(char *msg, size_t cap, const char *code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, cap, fmt, ap);
    va_end(ap);
    return code;
}

static int find_validator(const ca_valset *vs, const uint8_t *pub) {
    for (size_t i = 0; i < vs->n; i++)
        if (memcmp(vs->pub[i], pub, 32) == 0)
            return (int)i;
    return -1;
}

/* Checks one precommit; returns NULL or a failure code. */
static const char *check_vote(const ca_valset *vs, const Clearnode__V1__Signed *s,
                              const ca_header_info *info, size_t idx, int *who, char *msg,
                              size_t cap) {
    if (s->signer.len != 32 || s->sig.len != 64)
        return failf(msg, cap, "commit_malformed_vote",
                     "precommit %zu: signer or signature has the wrong length", idx);
    *who = find_validator(vs, s->signer.data);
    if (*who < 0)
        return failf(msg, cap, "commit_unknown_signer",
                     "precommit %zu: signer is not a validator of the genesis set", idx);
    if (!cn_verify_body(s->sig.data, s->signer.data, CN_TAG_SIG_VOTE, vs->chain_id, s->body.data,
                        s->body.len))
        return failf(msg, cap, "commit_bad_signature",
                     "precommit %zu: signature does not verify", idx);
    cn_pb vpb;
    if (cn_decode(CN_MSG_VOTE, s->body.data, s->body.len, &vpb) != CN_DECODE_OK)
        return failf(msg, cap, "commit_malformed_vote", "precommit %zu: body is not a Vote", idx);
    const Clearnode__V1__Vote *v = (const Clearnode__V1__Vote *)vpb.msg;
    const char *why = NULL;
    if (v->type != CLEARNODE__V1__VOTE_TYPE__VOTE_PRECOMMIT)
        why = "not a precommit";
    else if (v->height != info->height)
        why = "for another height";
    else if (v->round != info->round)
        why = "for another round";
    else if (v->block_id.len != 32 || memcmp(v->block_id.data, info->block_id, 32) != 0)
        why = "for another block id (or nil)";
    else if (v->validator.len != 32 || memcmp(v->validator.data, s->signer.data, 32) != 0)
        why = "vote.validator differs from the signer";
    cn_pb_free(&vpb);
    if (why)
        return failf(msg, cap, "commit_vote_mismatch", "precommit %zu: %s", idx, why);
    return NULL;
}

const char *ca_verify_commit(const ca_valset *vs, const uint8_t *hdr, size_t hdr_len,
                             const Clearnode__V1__Commit *commit, ca_header_info *info,
                             char *msg, size_t cap) {
    memset(info, 0, sizeof *info);
    cn_pb hpb;
    cn_decode_err de = cn_decode(CN_MSG_HEADER, hdr, hdr_len, &hpb);
    if (de != CN_DECODE_OK)
        return failf(msg, cap, "header_malformed", "header: %s", cn_decode_strerror(de));
    const Clearnode__V1__Header *h = (const Clearnode__V1__Header *)hpb.msg;
    const char *code = NULL;
    info->height = h->height;
    info->time = h->time;
    cn_hash_tagged(info->block_id, CN_TAG_BLOCK, hdr, hdr_len);
    if (h->last_block_id.len == 32) {
        memcpy(info->last_block_id, h->last_block_id.data, 32);
        info->has_last_block_id = 1;
    }
    if (h->reserves_root.len == 32) {
        memcpy(info->reserves_root, h->reserves_root.data, 32);
        info->has_reserves_root = 1;
    }
    if (h->validators_hash.len == 32) {
        memcpy(info->validators_hash, h->validators_hash.data, 32);
        info->has_validators_hash = 1;
    }
    if (strcmp(h->chain_id ? h->chain_id : "", vs->chain_id) != 0)
        code = failf(msg, cap, "chain_mismatch", "header chain id '%s' is not the genesis's '%s'",
                     h->chain_id ? h->chain_id : "", vs->chain_id);
    else if (h->validators_hash.len != 32 || memcmp(h->validators_hash.data, vs->hash, 32) != 0)
        code = failf(msg, cap, "validator_set_mismatch",
                     "header %llu: validators_hash is not the hash of the genesis validator set "
                     "(the set changed, or the genesis is not this chain's)",
                     (unsigned long long)h->height);
    cn_pb_free(&hpb);
    if (code)
        return code;
    if (!commit)
        return failf(msg, cap, "commit_missing", "no commit for header %llu",
                     (unsigned long long)info->height);
    info->round = commit->round;
    if (commit->height != info->height)
        return failf(msg, cap, "commit_wrong_block", "commit is for height %llu, header is %llu",
                     (unsigned long long)commit->height, (unsigned long long)info->height);
    if (commit->block_id.len != 32 || memcmp(commit->block_id.data, info->block_id, 32) != 0)
        return failf(msg, cap, "commit_wrong_block",
                     "commit's block id is not the id of this header");
    uint8_t seen[CA_MAX_VALIDATORS] = {0};
    for (size_t i = 0; i < commit->n_precommits; i++) {
        int who = -1;
        if ((code = check_vote(vs, commit->precommits[i], info, i, &who, msg, cap)) != NULL)
            return code;
        if (seen[who])
            return failf(msg, cap, "commit_duplicate_signer",
                         "precommit %zu: validator already counted", i);
        seen[who] = 1;
        info->signed_power += vs->power[who];
        info->signers++;
    }
    /* More than 2/3: 3 * signed > 2 * total (powers <= 1e9 each, at most 256: no overflow). */
    if (3 * info->signed_power <= 2 * vs->total)
        return failf(msg, cap, "commit_insufficient_power",
                     "precommits carry power %llu of %llu, not more than 2/3",
                     (unsigned long long)info->signed_power, (unsigned long long)vs->total);
    return NULL;
}

/* ---- header files ------------------------------------------------------------------------ */

static int b64_field(json_t *root, const char *key, uint8_t **out, size_t *len, size_t cap) {
    json_t *v = json_object_get(root, key);
    if (!json_is_string(v))
        return 0;
    size_t n = json_string_length(v);
    *out = malloc(n / 4 * 3 + 3);
    if (!*out)
        return 0;
    if (!cn_b64_decode(*out, cap, len, json_string_value(v), n)) {
        free(*out);
        *out = NULL;
        return 0;
    }
    return 1;
}

static const char *header_of_block(ca_header_file *hf, const uint8_t *b, size_t n, char *msg,
                                   size_t cap) {
    cn_decode_err de = cn_decode(CN_MSG_BLOCK, b, n, &hf->block);
    if (de != CN_DECODE_OK)
        return failf(msg, cap, "header_file", "block: %s", cn_decode_strerror(de));
    const Clearnode__V1__Block *blk = (const Clearnode__V1__Block *)hf->block.msg;
    hf->hdr = malloc(blk->header.len + 1);
    if (!hf->hdr)
        return failf(msg, cap, "header_file", "out of memory");
    memcpy(hf->hdr, blk->header.data, blk->header.len);
    hf->hdr_len = blk->header.len;
    return NULL;
}

static const char *commit_of_next(ca_header_file *hf, const uint8_t *b, size_t n, char *msg,
                                  size_t cap) {
    cn_decode_err de = cn_decode(CN_MSG_BLOCK, b, n, &hf->next);
    if (de != CN_DECODE_OK)
        return failf(msg, cap, "header_file", "next block: %s", cn_decode_strerror(de));
    const Clearnode__V1__Block *nb = (const Clearnode__V1__Block *)hf->next.msg;
    if (!nb->last_commit)
        return failf(msg, cap, "commit_missing", "the next block carries no last_commit");
    hf->commit = nb->last_commit;
    return NULL;
}

const char *ca_header_file_load(ca_header_file *hf, const char *path,
                                const char *next_block_path, char *msg, size_t cap) {
    memset(hf, 0, sizeof *hf);
    size_t len;
    char err[512];
    if (!ca_read_file(path, CN_CAP_BLOCK * 2 + 4096, &hf->file, &len, err, sizeof err))
        return failf(msg, cap, "header_file", "%s", err);
    if (!ca_is_json(hf->file, len)) {
        const char *code = header_of_block(hf, hf->file, len, msg, cap);
        if (code)
            return code;
        if (!next_block_path)
            return failf(msg, cap, "commit_missing",
                         "%s is an encoded Block: pass the next block with --next-block", path);
        size_t nlen;
        if (!ca_read_file(next_block_path, CN_CAP_BLOCK, &hf->next_file, &nlen, err, sizeof err))
            return failf(msg, cap, "header_file", "%s", err);
        return commit_of_next(hf, hf->next_file, nlen, msg, cap);
    }
    json_error_t je;
    json_t *root = json_loadb((const char *)hf->file, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return failf(msg, cap, "header_file", "%s: line %d: %s", path, je.line, je.text);
    const char *code = NULL;
    uint8_t *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0;
    if (json_object_get(root, "header")) {
        if (!b64_field(root, "header", &hf->hdr, &hf->hdr_len, CN_CAP_HEADER))
            code = failf(msg, cap, "header_file", "header: not base64 of at most %zu bytes",
                         CN_CAP_HEADER);
        else if (!json_object_get(root, "commit"))
            code = failf(msg, cap, "commit_missing", "%s has no \"commit\"", path);
        else if (!b64_field(root, "commit", &a, &alen, CN_CAP_COMMIT))
            code = failf(msg, cap, "header_file", "commit: not base64 of at most %zu bytes",
                         CN_CAP_COMMIT);
        else {
            cn_decode_err de = cn_decode(CN_MSG_COMMIT, a, alen, &hf->commit_pb);
            if (de != CN_DECODE_OK)
                code = failf(msg, cap, "header_file", "commit: %s", cn_decode_strerror(de));
            else
                hf->commit = (const Clearnode__V1__Commit *)hf->commit_pb.msg;
        }
    } else if (json_object_get(root, "block")) {
        if (!b64_field(root, "block", &a, &alen, CN_CAP_BLOCK))
            code = failf(msg, cap, "header_file", "block: not base64 of at most %zu bytes",
                         CN_CAP_BLOCK);
        else if (!(code = header_of_block(hf, a, alen, msg, cap))) {
            if (!json_object_get(root, "next_block"))
                code = failf(msg, cap, "commit_missing", "%s has no \"next_block\"", path);
            else if (!b64_field(root, "next_block", &b, &blen, CN_CAP_BLOCK))
                code = failf(msg, cap, "header_file", "next_block: not base64 of at most %zu bytes",
                             CN_CAP_BLOCK);
            else
                code = commit_of_next(hf, b, blen, msg, cap);
        }
    } else {
        code = failf(msg, cap, "header_file",
                     "%s: expected {\"header\",\"commit\"} or {\"block\",\"next_block\"}", path);
    }
    json_decref(root);
    free(a);
    free(b);
    return code;
}

void ca_header_file_free(ca_header_file *hf) {
    free(hf->file);
    free(hf->next_file);
    free(hf->hdr);
    cn_pb_free(&hf->block);
    cn_pb_free(&hf->next);
    cn_pb_free(&hf->commit_pb);
    memset(hf, 0, sizeof *hf);
}
