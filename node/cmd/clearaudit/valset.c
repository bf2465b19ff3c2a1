/* clearaudit: validator sets. The set the auditor trusts comes from the genesis file (or a
 * genesis-format file written by `verify-chain --write-validators`); later sets are read from a
 * node's GET /v1/validators/{height} and trusted only after verify-chain has checked them
 * against the set before (cmd_chain.c). Either way the hash is recomputed here, in key order,
 * exactly as Header.validators_hash: H_tag("clearnode/validators", pubkey || u64 power, ...).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "node/cmd/clearaudit/clearaudit.h"

#define POWER_MAX 1000000000 /* a validator's power, as genesis allows it */

static int cmp_key(const void *a, const void *b) { return memcmp(a, b, 32); }

static int member_is_validator(json_t *roles) {
    size_t i;
    json_t *r;
    if (json_is_integer(roles)) /* a Role bit set, as in MemberChange.roles */
        return (json_integer_value(roles) & 1) != 0;
    json_array_foreach(roles, i, r) {
        if (json_is_string(r) && strcmp(json_string_value(r), "validator") == 0)
            return 1;
    }
    return 0;
}

/* Adds the entries of `list` ({"pubkey","power"}; with need_role, only those whose "roles"
 * name the validator role) to vs, then computes total and hash. Returns 1, or 0 with a reason
 * naming `what`[index]. */
static int add_members(ca_valset *vs, json_t *list, const char *what, int need_role, char *err,
                       size_t err_cap) {
    if (!json_is_array(list)) {
        snprintf(err, err_cap, "%s: missing or not an array", what);
        return 0;
    }
    size_t i;
    json_t *m;
    json_array_foreach(list, i, m) {
        json_t *pk = json_object_get(m, "pubkey"), *roles = json_object_get(m, "roles");
        json_t *power = json_object_get(m, "power");
        if (!json_is_object(m)) {
            snprintf(err, err_cap, "%s[%zu]: not an object", what, i);
            return 0;
        }
        if (need_role && (!roles || !member_is_validator(roles)))
            continue;
        if (vs->n == CA_MAX_VALIDATORS) {
            snprintf(err, err_cap, "%s: more than %d validators", what, CA_MAX_VALIDATORS);
            return 0;
        }
        if (!json_is_string(pk) || !cn_hex_decode_exact(vs->pub[vs->n], 32, json_string_value(pk))) {
            snprintf(err, err_cap, "%s[%zu].pubkey: not 64 hex digits", what, i);
            return 0;
        }
        if (!json_is_integer(power) || json_integer_value(power) <= 0 ||
            json_integer_value(power) > POWER_MAX) {
            snprintf(err, err_cap, "%s[%zu].power: a validator needs power 1..%d", what, i,
                     POWER_MAX);
            return 0;
        }
        vs->power[vs->n] = (uint64_t)json_integer_value(power);
        for (size_t j = 0; j < vs->n; j++)
            if (memcmp(vs->pub[j], vs->pub[vs->n], 32) == 0) {
                snprintf(err, err_cap, "%s[%zu].pubkey: validator listed twice", what, i);
                return 0;
            }
        vs->total += vs->power[vs->n];
        vs->n++;
    }
    if (vs->n == 0) {
        snprintf(err, err_cap, "%s: no validator", what);
        return 0;
    }
    struct {
        uint8_t pub[32];
        uint64_t power;
    } sorted[CA_MAX_VALIDATORS];
    for (size_t j = 0; j < vs->n; j++) {
        memcpy(sorted[j].pub, vs->pub[j], 32);
        sorted[j].power = vs->power[j];
    }
    qsort(sorted, vs->n, sizeof sorted[0], cmp_key);
    cn_hasher h;
    cn_hasher_start(&h, CN_TAG_VALIDATORS);
    for (size_t j = 0; j < vs->n; j++) {
        cn_hasher_update(&h, sorted[j].pub, 32);
        cn_hasher_u64(&h, sorted[j].power);
    }
    cn_hasher_finish(&h, vs->hash);
    return 1;
}

int ca_valset_load(ca_valset *vs, const char *path, char *err, size_t err_cap) {
    memset(vs, 0, sizeof *vs);
    uint8_t *buf;
    size_t len;
    if (!ca_read_file(path, CA_GENESIS_MAX, &buf, &len, err, err_cap))
        return 0;
    json_error_t je;
    json_t *root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &je);
    free(buf);
    if (!root) {
        snprintf(err, err_cap, "%s: line %d: %s", path, je.line, je.text);
        return 0;
    }
    int ok = 0;
    json_t *cid = json_object_get(root, "chain_id");
    if (!json_is_string(cid) || json_string_length(cid) == 0 || json_string_length(cid) > 64)
        snprintf(err, err_cap, "chain_id: missing or not a string of 1..64 bytes");
    else {
        memcpy(vs->chain_id, json_string_value(cid), json_string_length(cid) + 1);
        ok = add_members(vs, json_object_get(root, "members"), "members", 1, err, err_cap);
    }
    json_decref(root);
    return ok;
}

int ca_valset_from_node(ca_valset *vs, const char *chain_id, json_t *answer, char *err,
                        size_t err_cap) {
    memset(vs, 0, sizeof *vs);
    snprintf(vs->chain_id, sizeof vs->chain_id, "%s", chain_id);
    return add_members(vs, json_object_get(answer, "validators"), "validators", 0, err, err_cap);
}

int ca_valset_write(const ca_valset *vs, const char *path, char *err, size_t err_cap) {
    json_t *members = json_array();
    for (size_t i = 0; i < vs->n; i++) {
        char hex[65];
        json_array_append_new(members,
                              json_pack("{s:s, s:[s], s:I}", "pubkey", ca_hex32(hex, vs->pub[i]),
                                        "roles", "validator", "power", (json_int_t)vs->power[i]));
    }
    json_t *root = json_pack("{s:s, s:o}", "chain_id", vs->chain_id, "members", members);
    int ok = root && json_dump_file(root, path, JSON_INDENT(2)) == 0;
    if (!ok)
        snprintf(err, err_cap, "%s: cannot write", path);
    json_decref(root);
    return ok;
}
