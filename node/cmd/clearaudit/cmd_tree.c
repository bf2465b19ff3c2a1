/* clearaudit verify-tree: rebuild an epoch's whole Merkle sum tree from the exported leaf set.
 *
 * The leaf export is a line-oriented text file (docs/reserves.md, "Leaf export"), read in one
 * streaming pass so a million accounts need only the arrays the tree needs. Checks: every
 * balance is a non-negative integer within the leaf bound, leaves are in strictly increasing
 * account-hash order with no account hash repeated, the stated leaf count and depth are the
 * ones the rule gives, the rebuilt root (padding derived by the rule) and totals equal the
 * stated ones, the root equals the on-chain one when given, and, with attestations, the
 * custodians' reserves cover the liabilities of EACH asset separately.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "node/cmd/clearaudit/clearaudit.h"

#define LINE_MAX_LEN (64 + 1 + 64 + 1 + CN_POR_MAX_ASSETS * 21 + 64)

typedef struct {
    char chain_id[CN_POR_CHAIN_ID_MAX + 1];
    uint64_t epoch, leaf_count;
    uint32_t depth, k;
    char assets[CN_POR_MAX_ASSETS][CN_POR_SYMBOL_MAX + 1];
    uint8_t root[32];
    cn_u128 totals[CN_POR_MAX_ASSETS];
    uint64_t n, cap;
    uint8_t *ahash, *salt;
    uint64_t *bal;
    int have; /* bit set of header lines seen */
} leafset;

static void leafset_free(leafset *s) {
    free(s->ahash);
    free(s->salt);
    free(s->bal);
}

/* Parses "v,v,...": exactly k values. Returns CN_POR_OK or the error. */
static cn_por_err parse_values(char *list, uint32_t k, uint64_t *u64s, cn_u128 *u128s) {
    uint32_t i = 0;
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save), i++) {
        if (i == k)
            return u64s ? CN_POR_E_BALANCE_COUNT : CN_POR_E_SUM_COUNT;
        if (tok[0] == '-')
            return u64s ? CN_POR_E_BALANCE_NEGATIVE : CN_POR_E_FIELD_LENGTH;
        cn_u128 v;
        if (!cn_por_u128_from_dec(&v, tok))
            return u64s ? CN_POR_E_BALANCE_BOUND : CN_POR_E_FIELD_LENGTH;
        if (u64s) {
            if (v > CN_POR_LEAF_MAX)
                return CN_POR_E_BALANCE_BOUND;
            u64s[i] = (uint64_t)v;
        } else {
            u128s[i] = v;
        }
    }
    if (i != k)
        return u64s ? CN_POR_E_BALANCE_COUNT : CN_POR_E_SUM_COUNT;
    return CN_POR_OK;
}

static int grow(leafset *s) {
    uint64_t nc = s->cap ? s->cap * 2 : 1024;
    if (nc > s->leaf_count && s->leaf_count >= s->n + 1)
        nc = s->leaf_count;
    uint8_t *a = realloc(s->ahash, nc * 32);
    if (a)
        s->ahash = a;
    uint8_t *b = realloc(s->salt, nc * 32);
    if (b)
        s->salt = b;
    uint64_t *c = realloc(s->bal, nc * s->k * sizeof(uint64_t));
    if (c)
        s->bal = c;
    if (!a || !b || !c)
        return 0;
    s->cap = nc;
    return 1;
}

enum { H_CHAIN = 1, H_EPOCH = 2, H_ASSETS = 4, H_COUNT = 8, H_DEPTH = 16, H_ROOT = 32,
       H_TOTALS = 64, H_ALL = 127 };

/* Reads the export. Returns CN_POR_OK; or a por error with *line_no; or CN_POR_E_ARG with
 * *format set for a malformed file (message in msg). */
static cn_por_err read_leaves(leafset *s, const char *path, uint64_t *line_no, int *format,
                              char *msg, size_t cap) {
    *format = 0;
    *line_no = 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(msg, cap, "%s: cannot open", path);
        *format = 1;
        return CN_POR_E_ARG;
    }
    static char line[LINE_MAX_LEN + 2];
    cn_por_err e = CN_POR_OK;
    int ended = 0;
#define BAD(...)                                                                                   \
    do {                                                                                           \
        snprintf(msg, cap, __VA_ARGS__);                                                           \
        *format = 1;                                                                               \
        e = CN_POR_E_ARG;                                                                          \
        goto out;                                                                                  \
    } while (0)
    while (fgets(line, sizeof line, f)) {
        (*line_no)++;
        size_t len = strlen(line);
        if (len && line[len - 1] == '\n')
            line[--len] = 0;
        else if (!feof(f))
            BAD("%s:%llu: line too long", path, (unsigned long long)*line_no);
        if (ended)
            BAD("%s:%llu: text after \"end\"", path, (unsigned long long)*line_no);
        if (*line_no == 1) {
            if (strcmp(line, "clearnode-reserves-leaves 1") != 0)
                BAD("%s: first line must be \"clearnode-reserves-leaves 1\"", path);
            continue;
        }
        char *sp = strchr(line, ' ');
        char *val = sp ? sp + 1 : line + len;
        if (sp)
            *sp = 0;
        if (strcmp(line, "leaf") == 0) {
            if ((s->have & H_ALL) != H_ALL)
                BAD("%s:%llu: leaf before the header lines", path, (unsigned long long)*line_no);
            if (s->k == 0) {
                e = CN_POR_E_ASSET_COUNT;
                goto out;
            }
            if (s->n == CN_POR_MAX_LEAVES)
                BAD("%s: too many leaves", path);
            if (s->n == s->cap && !grow(s))
                BAD("out of memory");
            char ah[65], sa[65];
            if (strlen(val) < 130 || val[64] != ' ' || val[129] != ' ')
                BAD("%s:%llu: expected \"leaf <account_hash> <salt> <balances>\"", path,
                    (unsigned long long)*line_no);
            memcpy(ah, val, 64);
            ah[64] = 0;
            memcpy(sa, val + 65, 64);
            sa[64] = 0;
            if (!cn_hex_decode_exact(s->ahash + s->n * 32, 32, ah) ||
                !cn_hex_decode_exact(s->salt + s->n * 32, 32, sa))
                BAD("%s:%llu: account hash and salt must be 64 hex digits", path,
                    (unsigned long long)*line_no);
            if ((e = parse_values(val + 130, s->k, s->bal + s->n * s->k, NULL)) != CN_POR_OK)
                goto out;
            s->n++;
        } else if (strcmp(line, "chain_id") == 0) {
            if (strlen(val) == 0 || strlen(val) > CN_POR_CHAIN_ID_MAX)
                BAD("%s:%llu: bad chain_id", path, (unsigned long long)*line_no);
            strcpy(s->chain_id, val);
            s->have |= H_CHAIN;
        } else if (strcmp(line, "epoch") == 0 || strcmp(line, "leaf_count") == 0 ||
                   strcmp(line, "depth") == 0) {
            cn_u128 v;
            if (!cn_por_u128_from_dec(&v, val) || v > UINT64_MAX)
                BAD("%s:%llu: %.16s must be a non-negative integer", path,
                    (unsigned long long)*line_no, line);
            if (line[0] == 'e') {
                s->epoch = (uint64_t)v;
                s->have |= H_EPOCH;
            } else if (line[0] == 'l') {
                s->leaf_count = (uint64_t)v;
                s->have |= H_COUNT;
            } else {
                s->depth = v > 64 ? 64 : (uint32_t)v;
                s->have |= H_DEPTH;
            }
        } else if (strcmp(line, "assets") == 0) {
            s->k = 0;
            for (char *save = NULL, *t = strtok_r(val, ",", &save); t;
                 t = strtok_r(NULL, ",", &save)) {
                if (s->k == CN_POR_MAX_ASSETS || strlen(t) > CN_POR_SYMBOL_MAX) {
                    e = s->k == CN_POR_MAX_ASSETS ? CN_POR_E_ASSET_COUNT : CN_POR_E_ASSET_NAME;
                    goto out;
                }
                strcpy(s->assets[s->k++], t);
            }
            s->have |= H_ASSETS;
        } else if (strcmp(line, "root") == 0) {
            if (!cn_hex_decode_exact(s->root, 32, val))
                BAD("%s:%llu: root must be 64 hex digits", path, (unsigned long long)*line_no);
            s->have |= H_ROOT;
        } else if (strcmp(line, "totals") == 0) {
            if (!(s->have & H_ASSETS))
                BAD("%s:%llu: totals before assets", path, (unsigned long long)*line_no);
            if ((e = parse_values(val, s->k, NULL, s->totals)) != CN_POR_OK)
                goto out;
            s->have |= H_TOTALS;
        } else if (strcmp(line, "end") == 0 && !sp) {
            ended = 1;
        } else {
            BAD("%s:%llu: unknown line \"%.40s\"", path, (unsigned long long)*line_no, line);
        }
    }
    if (!ended)
        BAD("%s: truncated (no \"end\" line)", path);
    *line_no = 0;
out:
#undef BAD
    fclose(f);
    return e;
}

/* ---- attestations ------------------------------------------------------------------------ */

/* Sums the custodians' holdings per tree asset. Returns NULL or a failure code. */
static const char *read_attestations(const char *path, const leafset *s, cn_u128 *reserves,
                                     size_t *n_att, int *input, char *msg, size_t cap) {
    *input = 1;
    uint8_t *buf;
    size_t len;
    if (!ca_read_file(path, CA_GENESIS_MAX, &buf, &len, msg, cap))
        return "attestations_file";
    json_error_t je;
    json_t *root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &je);
    free(buf);
    if (!root) {
        snprintf(msg, cap, "%s: line %d: %s", path, je.line, je.text);
        return "attestations_file";
    }
    const char *code = NULL;
    uint64_t epoch;
    json_t *list = json_object_get(root, "attestations"), *cid = json_object_get(root, "chain_id");
    memset(reserves, 0, s->k * sizeof(cn_u128));
    if (!ca_json_u64(json_object_get(root, "epoch"), &epoch, NULL) || !json_is_array(list) ||
        !json_is_string(cid)) {
        snprintf(msg, cap, "%s: needs \"chain_id\", \"epoch\" and an \"attestations\" array", path);
        code = "attestations_file";
        goto out;
    }
    *input = 0;
    if (strcmp(json_string_value(cid), s->chain_id) != 0) {
        snprintf(msg, cap, "attestations are for chain '%s', leaves for '%s'",
                 json_string_value(cid), s->chain_id);
        code = "chain_mismatch";
        goto out;
    }
    if (epoch != s->epoch) {
        snprintf(msg, cap, "attestations are for epoch %llu, leaves for epoch %llu",
                 (unsigned long long)epoch, (unsigned long long)s->epoch);
        code = cn_por_code(CN_POR_E_EPOCH);
        goto out;
    }
    size_t i;
    json_t *att;
    json_array_foreach(list, i, att) {
        json_t *hold = json_object_get(att, "holdings");
        const char *sym;
        json_t *amt;
        if (!json_is_object(hold)) {
            snprintf(msg, cap, "attestations[%zu].holdings: not an object", i);
            code = "attestations_file";
            *input = 1;
            goto out;
        }
        json_object_foreach(hold, sym, amt) {
            cn_u128 v;
            int neg;
            if (!ca_json_u128(amt, &v, &neg)) {
                snprintf(msg, cap, "attestations[%zu].holdings.%s: %s", i, sym,
                         neg ? "negative" : "not a non-negative integer");
                code = neg ? "attestation_negative" : "attestations_file";
                *input = !neg;
                goto out;
            }
            for (uint32_t a = 0; a < s->k; a++)
                if (strcmp(sym, s->assets[a]) == 0) {
                    if (reserves[a] + v < reserves[a]) {
                        snprintf(msg, cap, "reserves of %s overflow", sym);
                        code = cn_por_code(CN_POR_E_RESERVES_OVERFLOW);
                        goto out;
                    }
                    reserves[a] += v;
                }
        }
    }
    *n_att = json_array_size(list);
out:
    json_decref(root);
    return code;
}

/* ---- the command ------------------------------------------------------------------------- */

static int tree_usage(void) {
    fputs("usage: clearaudit verify-tree LEAVES [--attestations FILE] [--root HEX]\n"
          "                              [--header HEADER --validators GENESIS\n"
          "                               [--next-block BLOCK]] [--json]\n"
          "  LEAVES          the epoch's leaf export (docs/reserves.md, \"Leaf export\")\n"
          "  --attestations  custodians' holdings per asset: checks reserves >= liabilities\n"
          "                  for every asset separately (never netted across assets)\n"
          "  --root          the reserves root committed on chain (64 hex), or\n"
          "  --header        a header certified by GENESIS whose reserves_root must match\n"
          "exit: 0 verified, 1 a check failed, 2 usage, 3 unreadable input\n",
          stderr);
    return CA_EXIT_USAGE;
}

static int tree_fail(ca_report *r, cn_por_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int tree_fail(ca_report *r, cn_por_err e, const char *fmt, ...) {
    char m[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    return ca_fail(r, CA_EXIT_FAILED, cn_por_code(e), "%s%s%s", cn_por_strerror(e), *m ? ": " : "",
                   m);
}

/* Resolves the on-chain root from --root or a certified header. Returns -1 if none given,
 * an exit status on failure, or 0 with root filled. */
static int onchain_root(ca_report *r, const char *root_hex, const char *header, const char *next,
                        const char *genesis, uint8_t root[32]) {
    if (root_hex)
        return cn_hex_decode_exact(root, 32, root_hex) ? 0 : tree_usage();
    if (!header)
        return -1;
    char msg[1024];
    ca_valset *vs = malloc(sizeof *vs);
    ca_header_file hf;
    memset(&hf, 0, sizeof hf);
    ca_header_info info;
    int rc = 0;
    const char *code;
    if (!vs)
        rc = ca_fail(r, CA_EXIT_INPUT, "no_memory", "out of memory");
    else if (!ca_valset_load(vs, genesis, msg, sizeof msg))
        rc = ca_fail(r, CA_EXIT_INPUT, "genesis", "%s: %s", genesis, msg);
    else if ((code = ca_header_file_load(&hf, header, next, msg, sizeof msg)))
        rc = ca_fail(r, strcmp(code, "header_file") == 0 ? CA_EXIT_INPUT : CA_EXIT_FAILED, code,
                     "%s", msg);
    else if ((code = ca_verify_commit(vs, hf.hdr, hf.hdr_len, hf.commit, &info, msg, sizeof msg)))
        rc = ca_fail(r, CA_EXIT_FAILED, code, "%s", msg);
    else if (!info.has_reserves_root)
        rc = ca_fail(r, CA_EXIT_FAILED, "no_reserves_root", "header %llu carries no reserves_root",
                     (unsigned long long)info.height);
    else {
        memcpy(root, info.reserves_root, 32);
        ca_note(r, "height", json_integer((json_int_t)info.height),
                "header %llu certified by power %llu of %llu", (unsigned long long)info.height,
                (unsigned long long)info.signed_power, (unsigned long long)vs->total);
    }
    ca_header_file_free(&hf);
    free(vs);
    return rc;
}

int ca_cmd_verify_tree(int argc, char **argv) {
    const char *leaves = NULL, *att = NULL, *root_hex = NULL, *header = NULL, *next = NULL,
               *genesis = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (strcmp(a, "--json") == 0)
            json = 1;
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return tree_usage(), CA_EXIT_OK;
        else if (strcmp(a, "--attestations") == 0 && more)
            att = argv[++i];
        else if (strcmp(a, "--root") == 0 && more)
            root_hex = argv[++i];
        else if (strcmp(a, "--header") == 0 && more)
            header = argv[++i];
        else if (strcmp(a, "--next-block") == 0 && more)
            next = argv[++i];
        else if (strcmp(a, "--validators") == 0 && more)
            genesis = argv[++i];
        else if (a[0] != '-' && !leaves)
            leaves = a;
        else
            return tree_usage();
    }
    if (!leaves || (header && !genesis) || (header && root_hex))
        return tree_usage();

    ca_report r;
    ca_report_init(&r, "verify-tree", json);
    leafset *s = calloc(1, sizeof *s);
    cn_sumtree *t = NULL;
    int rc;
    char msg[1024];
    uint8_t chain_root[32];
    if (!s) {
        rc = ca_fail(&r, CA_EXIT_INPUT, "no_memory", "out of memory");
        goto out;
    }
    int have_chain_root = onchain_root(&r, root_hex, header, next, genesis, chain_root);
    if (have_chain_root > 0) {
        rc = have_chain_root;
        goto out;
    }
    uint64_t line;
    int format;
    cn_por_err e = read_leaves(s, leaves, &line, &format, msg, sizeof msg);
    if (format) {
        rc = ca_fail(&r, CA_EXIT_INPUT, "leaves_file", "%s", msg);
        goto out;
    }
    if (e != CN_POR_OK) {
        rc = tree_fail(&r, e, "%s line %llu", leaves, (unsigned long long)line);
        goto out;
    }
    if (s->n != s->leaf_count) {
        rc = tree_fail(&r, CN_POR_E_LEAF_COUNT, "the file states %llu leaves but lists %llu",
                       (unsigned long long)s->leaf_count, (unsigned long long)s->n);
        goto out;
    }
    const char *names[CN_POR_MAX_ASSETS];
    for (uint32_t a = 0; a < s->k; a++)
        names[a] = s->assets[a];
    cn_por_params p = {s->chain_id, s->epoch, s->k, names};
    cn_sumtree_input in = {s->n, s->ahash, s->salt, s->bal};
    cn_por_where w;
    if ((e = cn_sumtree_build(&t, &p, &in, CN_SUMTREE_PRESORTED, &w)) != CN_POR_OK) {
        if (w.leaf != UINT64_MAX)
            rc = tree_fail(&r, e, "leaf #%llu (0-based)", (unsigned long long)w.leaf);
        else
            rc = tree_fail(&r, e, "%s", "");
        goto out;
    }
    ca_note(&r, "leaf_count", json_integer((json_int_t)s->n),
            "%llu leaves in strictly increasing account-hash order, no account repeated, "
            "every balance in 0..2^63-1",
            (unsigned long long)s->n);
    if (cn_sumtree_depth(t) != s->depth) {
        rc = tree_fail(&r, CN_POR_E_DEPTH_RULE, "stated depth %u, the rule gives %u", s->depth,
                       cn_sumtree_depth(t));
        goto out;
    }
    uint8_t root[32];
    char hex[65];
    cn_sumtree_root(t, root);
    if (memcmp(root, s->root, 32) != 0) {
        rc = tree_fail(&r, CN_POR_E_ROOT_MISMATCH, "rebuilt root %s", ca_hex32(hex, root));
        goto out;
    }
    cn_u128 totals[CN_POR_MAX_ASSETS];
    cn_sumtree_totals(t, totals);
    for (uint32_t a = 0; a < s->k; a++)
        if (totals[a] != s->totals[a]) {
            rc = tree_fail(&r, CN_POR_E_TOTALS_MISMATCH, "asset %s", s->assets[a]);
            goto out;
        }
    ca_note(&r, "root", json_string(ca_hex32(hex, root)),
            "rebuilt root %s (depth %u, padding by the rule) and totals match", hex, s->depth);
    json_object_set_new(r.obj, "epoch", json_integer((json_int_t)s->epoch));
    if (have_chain_root == 0) {
        if (memcmp(chain_root, root, 32) != 0) {
            rc = tree_fail(&r, CN_POR_E_ROOT_NOT_COMMITTED, "on-chain root %s",
                           ca_hex32(hex, chain_root));
            goto out;
        }
        ca_note(&r, NULL, NULL, "root equals the on-chain reserves root");
    }
    json_t *per = json_object();
    json_object_set_new(r.obj, "assets", per);
    cn_u128 reserves[CN_POR_MAX_ASSETS];
    if (att) {
        size_t n_att = 0;
        int input;
        const char *code = read_attestations(att, s, reserves, &n_att, &input, msg, sizeof msg);
        if (code) {
            rc = ca_fail(&r, input ? CA_EXIT_INPUT : CA_EXIT_FAILED, code, "%s", msg);
            goto out;
        }
        ca_note(&r, "attestations", json_integer((json_int_t)n_att),
                "%zu custodian attestations read", n_att);
    }
    uint32_t bad = UINT32_MAX;
    for (uint32_t a = 0; a < s->k; a++) {
        char l[CN_POR_DEC_MAX + 1], rs[CN_POR_DEC_MAX + 1];
        cn_por_u128_to_dec(l, totals[a]);
        json_t *o = json_pack("{s:s}", "liabilities", l);
        if (att) {
            cn_por_u128_to_dec(rs, reserves[a]);
            json_object_set_new(o, "reserves", json_string(rs));
            json_object_set_new(o, "solvent", json_boolean(reserves[a] >= totals[a]));
            ca_note(&r, NULL, NULL, "%-8s liabilities %s, reserves %s%s", s->assets[a], l, rs,
                    reserves[a] >= totals[a] ? "" : "  << SHORT");
        } else {
            ca_note(&r, NULL, NULL, "%-8s liabilities %s", s->assets[a], l);
        }
        json_object_set_new(per, s->assets[a], o);
    }
    if (att && cn_por_check_solvency(s->k, totals, reserves, &bad) != CN_POR_OK) {
        char l[CN_POR_DEC_MAX + 1], rs[CN_POR_DEC_MAX + 1];
        cn_por_u128_to_dec(l, totals[bad]);
        cn_por_u128_to_dec(rs, reserves[bad]);
        rc = tree_fail(&r, CN_POR_E_INSOLVENT,
                       "%s: reserves %s < liabilities %s (assets are never netted against "
                       "each other)",
                       s->assets[bad], rs, l);
        goto out;
    }
    snprintf(msg, sizeof msg, "epoch %llu tree of %llu accounts rebuilt%s%s",
             (unsigned long long)s->epoch, (unsigned long long)s->n,
             have_chain_root == 0 ? ", root on chain" : "",
             att ? ", every asset covered by reserves" : "");
    rc = ca_ok(&r, msg);
out:
    if (r.obj)
        json_decref(r.obj);
    cn_sumtree_free(t);
    if (s)
        leafset_free(s);
    free(s);
    return rc;
}
