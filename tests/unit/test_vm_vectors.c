/* Golden vectors: every .vmt file in tests/vm (format in docs/vm.md §11) is assembled, and each
 * of its cases is run on both interpreters, which must agree with each other and with the
 * expected status, value, gas and writes digest.
 *
 *   test_vm_vectors            cmocka test, one test per file (run from the repository root)
 *   test_vm_vectors --digest   prints "file/case digest" per case and "all digest", exits 0 only if
 *                              every case passes; `make determinism` compares this output
 *                              across compilers and optimisation levels.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "contracts/asm/asm.h"
#include "contracts/asm/lexer.h"
#include "contracts/asm/memhost.h"
#include "contracts/vm/overlay.h"
#include "contracts/vm/vm.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "crypto/schnorr.h"

#define VEC_DIR "tests/vm"
#define MAX_FILES 256
#define MAX_SRC (1u << 20)

typedef struct {
    FILE *digest_out;  /* --digest: where case lines go (else NULL) */
    cn_hasher all;     /* over every case line */
    unsigned cases, failures;
} run_ctx;

typedef struct {
    cn_vm_program *prog;
    cn_vm_machine *m;
    cn_asm_memhost *mh;
    uint8_t caller[CN_VM_ID_LEN], contract[CN_VM_ID_LEN];
    int64_t height, time;
} file_state;

static void report(const char *path, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void report(const char *path, unsigned line, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "%s:%u: ", path, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
}

/* One int64 argument or expected value: an integer or INT64_MIN / INT64_MAX. */
static int tok_i64(const cn_asm_tok *t, int64_t *v) {
    if (t->kind == CN_ASM_TOK_INT && !t->big) {
        *v = t->ival;
        return 1;
    }
    if (cn_asm_tok_is(t, "INT64_MIN")) {
        *v = INT64_MIN;
        return 1;
    }
    if (cn_asm_tok_is(t, "INT64_MAX")) {
        *v = INT64_MAX;
        return 1;
    }
    return 0;
}

typedef struct {
    char name[96];
    char entry[CN_VM_MAX_NAME + 1];
    int64_t args[CN_VM_MAX_ARGS];
    uint32_t nargs;
    uint64_t gas;
    uint8_t input[1024];
    size_t input_len;
    cn_vm_err expect;
    int has_result, has_used, has_writes, commit;
    int64_t result;
    uint64_t used;
    uint8_t writes[32];
} vcase;

/* Parses `case NAME key=value ...`. Returns 1, or 0 with a reason. */
static int parse_case(const cn_asm_line *ln, vcase *c, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    c->gas = 1000000;
    int have_expect = 0;
    if (ln->n < 2 || ln->tok[1].kind != CN_ASM_TOK_WORD) {
        snprintf(err, errlen, "expected case NAME key=value...");
        return 0;
    }
    cn_asm_tok_text(&ln->tok[1], c->name, sizeof c->name);
    int i = 2;
    while (i < ln->n) {
        char key[32];
        if (ln->tok[i].kind != CN_ASM_TOK_WORD || i + 2 > ln->n ||
            !cn_asm_tok_is(&ln->tok[i + 1], "=")) {
            snprintf(err, errlen, "expected key=value at '%.*s'", (int)ln->tok[i].len,
                     ln->tok[i].text);
            return 0;
        }
        cn_asm_tok_text(&ln->tok[i], key, sizeof key);
        i += 2;
        if (i >= ln->n) {
            snprintf(err, errlen, "%s needs a value", key);
            return 0;
        }
        const cn_asm_tok *v = &ln->tok[i];
        int64_t x;
        if (strcmp(key, "entry") == 0 && v->kind == CN_ASM_TOK_WORD) {
            cn_asm_tok_text(v, c->entry, sizeof c->entry);
            i++;
        } else if (strcmp(key, "args") == 0) {
            for (;;) {
                if (c->nargs >= CN_VM_MAX_ARGS || !tok_i64(&ln->tok[i], &c->args[c->nargs])) {
                    snprintf(err, errlen, "bad args");
                    return 0;
                }
                c->nargs++;
                i++;
                if (i < ln->n && cn_asm_tok_is(&ln->tok[i], ",") && i + 1 < ln->n)
                    i++;
                else
                    break;
            }
        } else if (strcmp(key, "gas") == 0 && tok_i64(v, &x) && x >= 0) {
            c->gas = (uint64_t)x;
            i++;
        } else if (strcmp(key, "used") == 0 && tok_i64(v, &x) && x >= 0) {
            c->used = (uint64_t)x;
            c->has_used = 1;
            i++;
        } else if (strcmp(key, "result") == 0 && tok_i64(v, &c->result)) {
            c->has_result = 1;
            i++;
        } else if (strcmp(key, "commit") == 0 && tok_i64(v, &x)) {
            c->commit = x != 0;
            i++;
        } else if (strcmp(key, "expect") == 0 && v->kind == CN_ASM_TOK_WORD) {
            char name[32];
            cn_asm_tok_text(v, name, sizeof name);
            if (!cn_vm_errname_parse(name, &c->expect)) {
                snprintf(err, errlen, "unknown status '%s'", name);
                return 0;
            }
            have_expect = 1;
            i++;
        } else if (strcmp(key, "input") == 0) {
            if (!cn_asm_parse_bytes(ln, &i, c->input, sizeof c->input, &c->input_len, err,
                                    errlen))
                return 0;
        } else if (strcmp(key, "writes") == 0) {
            if (!cn_asm_parse_id(v, c->writes, err, errlen))
                return 0;
            c->has_writes = 1;
            i++;
        } else {
            snprintf(err, errlen, "bad or unknown key '%s'", key);
            return 0;
        }
    }
    if (!c->entry[0] || !have_expect || !c->has_used) {
        snprintf(err, errlen, "a case needs entry=, expect= and used=");
        return 0;
    }
    return 1;
}

typedef struct {
    cn_vm_result res;
    uint8_t writes[32];
} outcome;

/* Runs one call on one interpreter with a fresh overlay. */
static cn_vm_err run_one(file_state *fs, const vcase *c, int fast, outcome *o,
                         cn_vm_overlay *ov) {
    cn_vm_machine *m = fs->m;
    cn_vm_host host;
    cn_asm_memhost_table(fs->mh, &host);
    int32_t fn = cn_vm_program_export(fs->prog, c->entry);
    cn_vm_call call;
    memset(&call, 0, sizeof call);
    call.prog = fs->prog;
    call.host = &host;
    call.overlay = ov;
    call.entry = fn < 0 ? UINT32_MAX : (uint32_t)fn;
    call.args = c->args;
    call.nargs = c->nargs;
    call.gas_limit = c->gas;
    memcpy(call.caller, fs->caller, CN_VM_ID_LEN);
    memcpy(call.contract, fs->contract, CN_VM_ID_LEN);
    call.height = fs->height;
    call.time = fs->time;
    call.input = c->input;
    call.input_len = (uint32_t)c->input_len;
    cn_vm_err err = fast ? cn_vm_exec_fast(m, &call, &o->res) : cn_vm_exec_ref(m, &call, &o->res);
    cn_asm_writes_digest(ov, o->writes);
    return err;
}

/* Runs a case on both interpreters and checks everything. Returns 1 if it passes. */
static int run_case(run_ctx *rc, file_state *fs, const vcase *c, const char *path,
                    unsigned line) {
    outcome o[2];
    cn_vm_overlay ov[2];
    int ok = 1;
    for (int k = 0; k < 2; k++) {
        cn_vm_overlay_init(&ov[k]);
        (void)run_one(fs, c, k, &o[k], &ov[k]);
    }
    if (o[0].res.status != o[1].res.status || o[0].res.value != o[1].res.value ||
        o[0].res.gas_used != o[1].res.gas_used || o[0].res.pc != o[1].res.pc ||
        memcmp(o[0].writes, o[1].writes, 32) != 0) {
        report(path, line, "%s: interpreters disagree: ref %s %lld gas %llu, fast %s %lld gas %llu",
               c->name, cn_vm_errname(o[0].res.status), (long long)o[0].res.value,
               (unsigned long long)o[0].res.gas_used, cn_vm_errname(o[1].res.status),
               (long long)o[1].res.value, (unsigned long long)o[1].res.gas_used);
        ok = 0;
    }
    const cn_vm_result *r = &o[1].res;
    char hex[65];
    cn_hex_encode(hex, o[1].writes, 32);
    if (r->status != c->expect) {
        report(path, line, "%s: status %s, expected %s", c->name, cn_vm_errname(r->status),
               cn_vm_errname(c->expect));
        ok = 0;
    }
    if (c->has_result && r->value != c->result) {
        report(path, line, "%s: result %lld, expected %lld", c->name, (long long)r->value,
               (long long)c->result);
        ok = 0;
    }
    if (r->gas_used != c->used) {
        report(path, line, "%s: used %llu gas, expected %llu", c->name,
               (unsigned long long)r->gas_used, (unsigned long long)c->used);
        ok = 0;
    }
    if (c->has_writes && memcmp(o[1].writes, c->writes, 32) != 0) {
        report(path, line, "%s: writes digest 0x%s differs", c->name, hex);
        ok = 0;
    }
    if (ok && c->commit && r->status == CN_VM_OK &&
        cn_asm_memhost_commit(fs->mh, fs->contract, &ov[1]) != CN_VM_OK) {
        report(path, line, "%s: commit failed", c->name);
        ok = 0;
    }
    /* The case's digest: name, status, value, gas, writes. */
    cn_hasher h;
    uint8_t d[32];
    char dhex[65];
    /* "file/case": unique across files, so `make determinism` can count distinct lines */
    char full[160];
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(full, sizeof full, "%.*s/%s", (int)(strcspn(base, ".")), base, c->name);
    cn_hasher_start_named(&h, "clearnode/test/vm-vector");
    cn_hasher_bytes(&h, full, strlen(full));
    cn_hasher_u32(&h, (uint32_t)r->status);
    cn_hasher_u64(&h, (uint64_t)r->value);
    cn_hasher_u64(&h, r->gas_used);
    cn_hasher_update(&h, o[1].writes, 32);
    cn_hasher_finish(&h, d);
    cn_hex_encode(dhex, d, 32);
    cn_hasher_update(&rc->all, d, 32);
    if (rc->digest_out)
        fprintf(rc->digest_out, "%s %s\n", full, dhex);
    rc->cases++;
    if (!ok)
        rc->failures++;
    for (int k = 0; k < 2; k++)
        cn_vm_overlay_free(&ov[k]);
    return ok;
}

/* Assembles source and loads it as the file's current program. */
static int set_program(file_state *fs, const char *name, const char *src, size_t len, int file,
                       const char *path, unsigned line) {
    uint8_t *bin;
    size_t blen;
    cn_asm_diag d;
    int ok = file ? cn_asm_build_file(name, &bin, &blen, &d)
                  : cn_asm_build_source(name, src, len, 1, &bin, &blen, &d);
    if (!ok) {
        report(path, line, "program does not assemble: %s", d.msg);
        return 0;
    }
    cn_vm_program_free(fs->prog);
    fs->prog = NULL;
    cn_vm_err err = cn_vm_load(bin, blen, CN_VM_HOST_ALLOW_ALL, &fs->prog, NULL);
    free(bin);
    if (err) {
        report(path, line, "program rejected: %s", cn_vm_strerror(err));
        return 0;
    }
    return 1;
}

/* Runs every case of one vector file. Returns the number of problems. */
static unsigned run_file(run_ctx *rc, const char *path) {
    cn_asm_diag d;
    char *text;
    size_t len;
    if (!cn_asm_read_file(path, MAX_SRC, &text, &len, &d)) {
        fprintf(stderr, "%s\n", d.msg);
        return 1;
    }
    file_state fs;
    memset(&fs, 0, sizeof fs);
    fs.mh = cn_asm_memhost_new();
    fs.m = cn_vm_machine_new();
    memcpy(fs.caller, "caller", 6);
    memcpy(fs.contract, "contract", 8);
    fs.height = 100;
    fs.time = 1700000000000;
    cn_asm_line *ln = malloc(sizeof *ln);
    char *src = malloc(2 * len + 2); /* program text plus the blank lines that keep numbering */
    unsigned problems = 0, line = 0, prog_line = 0;
    size_t srclen = 0;
    int in_prog = 0;
    int alloc_ok = ln && src && fs.mh && fs.m;
    if (!alloc_ok)
        problems++;
    for (size_t i = 0; alloc_ok && i < len;) {
        size_t j = i;
        while (j < len && text[j] != '\n')
            j++;
        line++;
        char err[256];
        if (!cn_asm_lex(text + i, j - i, ln, err, sizeof err) && !in_prog) {
            report(path, line, "%s", err);
            problems++;
        } else if (in_prog) {
            if (cn_asm_lex(text + i, j - i, ln, err, sizeof err) && ln->n == 1 &&
                cn_asm_tok_is(&ln->tok[0], "end")) {
                in_prog = 0;
                if (!set_program(&fs, path, src, srclen, 0, path, prog_line))
                    problems++;
            } else {
                /* Keep line numbers: blank lines stand in for the vector's own lines. */
                memcpy(src + srclen, text + i, j - i);
                srclen += j - i;
                src[srclen++] = '\n';
            }
        } else if (ln->n == 0) {
            /* blank */
        } else if (cn_asm_tok_is(&ln->tok[0], "program") && ln->n == 1) {
            in_prog = 1;
            prog_line = line;
            srclen = 0;
            for (unsigned k = 0; k < line; k++)
                src[srclen++] = '\n';
        } else if (cn_asm_tok_is(&ln->tok[0], "program") && ln->n == 3 &&
                   cn_asm_tok_is(&ln->tok[1], "file") && ln->tok[2].kind == CN_ASM_TOK_STR) {
            char name[512];
            snprintf(name, sizeof name, "%.*s", (int)ln->tok[2].slen, (const char *)ln->tok[2].str);
            if (!set_program(&fs, name, NULL, 0, 1, path, line))
                problems++;
        } else if (cn_asm_tok_is(&ln->tok[0], "case")) {
            vcase c;
            if (!parse_case(ln, &c, err, sizeof err)) {
                report(path, line, "%s", err);
                problems++;
            } else if (!fs.prog) {
                report(path, line, "case before any program");
                problems++;
            } else if (!run_case(rc, &fs, &c, path, line)) {
                problems++;
            }
        } else if ((cn_asm_tok_is(&ln->tok[0], "height") || cn_asm_tok_is(&ln->tok[0], "time")) &&
                   ln->n == 2 && ln->tok[1].kind == CN_ASM_TOK_INT) {
            *(ln->tok[0].len == 6 ? &fs.height : &fs.time) = ln->tok[1].ival;
        } else if (cn_asm_tok_is(&ln->tok[0], "caller") && ln->n == 2) {
            if (!cn_asm_parse_id(&ln->tok[1], fs.caller, err, sizeof err)) {
                report(path, line, "%s", err);
                problems++;
            }
        } else {
            int r = cn_asm_memhost_directive(fs.mh, fs.contract, ln, err, sizeof err);
            if (r != 1) {
                report(path, line, "%s", r == 0 ? "unknown line" : err);
                problems++;
            }
        }
        i = j + 1;
    }
    if (in_prog) {
        report(path, prog_line, "program without end");
        problems++;
    }
    free(ln);
    free(src);
    free(text);
    cn_vm_program_free(fs.prog);
    cn_vm_machine_free(fs.m);
    cn_asm_memhost_free(fs.mh);
    return problems;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted list of the .vmt files in tests/vm, so the digest order is fixed. */
static size_t list_vectors(char **files) {
    DIR *dir = opendir(VEC_DIR);
    size_t n = 0;
    if (!dir)
        return 0;
    struct dirent *e;
    while ((e = readdir(dir)) && n < MAX_FILES) {
        size_t l = strlen(e->d_name);
        if (l > 4 && strcmp(e->d_name + l - 4, ".vmt") == 0) {
            files[n] = malloc(sizeof VEC_DIR + l + 1);
            if (!files[n])
                break;
            snprintf(files[n], sizeof VEC_DIR + l + 1, "%s/%s", VEC_DIR, e->d_name);
            n++;
        }
    }
    closedir(dir);
    qsort(files, n, sizeof *files, cmp_str);
    return n;
}

static void test_vector_file(void **state) {
    run_ctx rc;
    memset(&rc, 0, sizeof rc);
    cn_hasher_start_named(&rc.all, "clearnode/test/vm-vectors");
    unsigned problems = run_file(&rc, (const char *)*state);
    assert_true(rc.cases > 0);
    assert_int_equal(problems, 0);
}

int main(int argc, char **argv) {
    static char *files[MAX_FILES];
    if (!cn_crypto_init())
        return 1;
    size_t n = list_vectors(files);
    if (n == 0) {
        fprintf(stderr, "no vectors in %s (run from the repository root)\n", VEC_DIR);
        return 1;
    }
    if (argc > 1 && strcmp(argv[1], "--digest") == 0) {
        run_ctx rc;
        memset(&rc, 0, sizeof rc);
        rc.digest_out = stdout;
        cn_hasher_start_named(&rc.all, "clearnode/test/vm-vectors");
        unsigned problems = 0;
        for (size_t i = 0; i < n; i++)
            problems += run_file(&rc, files[i]);
        uint8_t d[32];
        char hex[65];
        cn_hasher_finish(&rc.all, d);
        cn_hex_encode(hex, d, 32);
        printf("all %s\n", hex);
        fprintf(stderr, "%u cases in %zu files, %u problems\n", rc.cases, n, problems);
        return problems ? 1 : 0;
    }
    struct CMUnitTest *tests = calloc(n, sizeof *tests);
    if (!tests)
        return 1;
    for (size_t i = 0; i < n; i++) {
        tests[i].name = files[i];
        tests[i].test_func = test_vector_file;
        tests[i].initial_state = files[i];
    }
    int r = _cmocka_run_group_tests("vm_vectors", tests, n, NULL, NULL);
    free(tests);
    for (size_t i = 0; i < n; i++)
        free(files[i]);
    return r;
}
