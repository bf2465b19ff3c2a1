/* clearasm: the contract author's tool.
 *
 *   clearasm build X.cas -o X.bin          assemble and verify
 *   clearasm dis X.bin                     disassemble (to re-assemblable source)
 *   clearasm run X.cas|X.bin --entry NAME [--args A,B,..] [--storage FILE] [--gas N]
 *                [--input HEX] [--caller ID] [--height N] [--time MS] [--ref]
 *                                          run one call against an in-memory host and print
 *                                          the result, gas used, writes and events
 *
 * Exit status: 0 success, 1 the call failed (trap or revert), 2 bad usage or input.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contracts/asm/asm.h"
#include "contracts/asm/lexer.h"
#include "contracts/asm/memhost.h"
#include "contracts/vm/overlay.h"
#include "contracts/vm/vm.h"
#include "crypto/encoding.h"
#include "crypto/schnorr.h"

static void usage(void) {
    fprintf(stderr,
            "usage: clearasm build X.cas -o X.bin\n"
            "       clearasm dis X.bin\n"
            "       clearasm run X.cas|X.bin --entry NAME [--args A,B,...] [--storage FILE]\n"
            "                [--gas N] [--input HEX] [--caller ID] [--height N] [--time MS]"
            " [--ref]\n");
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Loads a program from source (.cas) or a container; returns container bytes. */
static int load_bytes(const char *path, uint8_t **bin, size_t *len) {
    cn_asm_diag d;
    if (ends_with(path, ".cas")) {
        if (!cn_asm_build_file(path, bin, len, &d)) {
            fprintf(stderr, "%s\n", d.msg);
            return 0;
        }
        return 1;
    }
    char *text;
    if (!cn_asm_read_file(path, CN_VM_MAX_CONTAINER, &text, len, &d)) {
        fprintf(stderr, "%s\n", d.msg);
        return 0;
    }
    *bin = (uint8_t *)text;
    return 1;
}

static int parse_i64(const char *s, int64_t *v) {
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 0);
    if (errno || end == s || *end)
        return 0;
    *v = x;
    return 1;
}

static int cmd_build(int argc, char **argv) {
    if (argc != 4 || strcmp(argv[2], "-o") != 0) {
        usage();
        return 2;
    }
    uint8_t *bin;
    size_t len;
    cn_asm_diag d;
    if (!cn_asm_build_file(argv[1], &bin, &len, &d)) {
        fprintf(stderr, "%s\n", d.msg);
        return 2;
    }
    FILE *f = fopen(argv[3], "wb");
    int ok = f && fwrite(bin, 1, len, f) == len;
    if (f && fclose(f) != 0)
        ok = 0;
    free(bin);
    if (!ok) {
        fprintf(stderr, "%s: cannot write\n", argv[3]);
        return 2;
    }
    printf("%s: %zu bytes\n", argv[3], len);
    return 0;
}

static int cmd_dis(int argc, char **argv) {
    if (argc != 2) {
        usage();
        return 2;
    }
    uint8_t *bin;
    size_t len;
    if (!load_bytes(argv[1], &bin, &len))
        return 2;
    cn_asm_diag d;
    int ok = cn_asm_disasm(bin, len, stdout, &d);
    free(bin);
    if (!ok) {
        fprintf(stderr, "%s: %s\n", argv[1], d.msg);
        return 2;
    }
    return 0;
}

/* Prints bytes as hex, and as a quoted string too when they are all printable. */
static void print_bytes(const uint8_t *p, uint32_t n) {
    int printable = n > 0;
    for (uint32_t i = 0; i < n; i++)
        if (p[i] < 32 || p[i] > 126 || p[i] == '"' || p[i] == '\\')
            printable = 0;
    if (printable) {
        printf("\"%.*s\"", (int)n, (const char *)p);
        return;
    }
    printf("0x");
    for (uint32_t i = 0; i < n; i++)
        printf("%02x", p[i]);
}

static void print_effects(const cn_vm_overlay *ov) {
    printf("writes: %u\n", ov->nwrites);
    for (uint32_t i = 0; i < ov->nwrites; i++) {
        const cn_vm_write *w = &ov->writes[i];
        printf("  %s ", w->deleted ? "delete" : "put");
        print_bytes(w->key, w->klen);
        if (!w->deleted) {
            printf(" = ");
            print_bytes(w->val, w->vlen);
        }
        printf("\n");
    }
    printf("transfers: %u\n", ov->ntransfers);
    for (uint32_t i = 0; i < ov->ntransfers; i++) {
        const cn_vm_transfer *t = &ov->transfers[i];
        printf("  ");
        print_bytes(t->from, CN_VM_ID_LEN);
        printf(" -> ");
        print_bytes(t->to, CN_VM_ID_LEN);
        printf(" asset %lld amount %lld\n", (long long)t->asset, (long long)t->amount);
    }
    printf("events: %u\n", ov->nevents);
    for (uint32_t i = 0; i < ov->nevents; i++) {
        printf("  ");
        print_bytes(ov->events[i].topic, ov->events[i].tlen);
        printf(" ");
        print_bytes(ov->events[i].data, ov->events[i].dlen);
        printf("\n");
    }
}

/* Applies a state file (memhost.h syntax) to the host. */
static int load_state(cn_asm_memhost *h, const uint8_t contract[CN_VM_ID_LEN], const char *path) {
    char *text;
    size_t len;
    cn_asm_diag d;
    if (!cn_asm_read_file(path, CN_ASM_MAX_FILE, &text, &len, &d)) {
        fprintf(stderr, "%s\n", d.msg);
        return 0;
    }
    cn_asm_line *ln = malloc(sizeof *ln);
    int ok = ln != NULL;
    unsigned line = 0;
    for (size_t i = 0; ok && i < len;) {
        size_t j = i;
        while (j < len && text[j] != '\n')
            j++;
        line++;
        char err[200];
        int r = cn_asm_lex(text + i, j - i, ln, err, sizeof err) ? 1 : -1;
        if (r == 1 && ln->n) {
            r = cn_asm_memhost_directive(h, contract, ln, err, sizeof err);
            if (r == 0)
                snprintf(err, sizeof err, "not a state line (storage, price, halted, balance, deny)");
        }
        if (r != 1) {
            fprintf(stderr, "%s:%u: %s\n", path, line, err);
            ok = 0;
        }
        i = j + 1;
    }
    free(ln);
    free(text);
    return ok;
}

static int cmd_run(int argc, char **argv) {
    const char *entry = NULL, *args = NULL, *storage = NULL, *input = NULL, *caller = NULL;
    int64_t gas = 10000000, height = 1, now = 1700000000000;
    int use_ref = 0;
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int ok = 1;
        if (strcmp(o, "--ref") == 0) {
            use_ref = 1;
            continue;
        }
        if (!v)
            ok = 0;
        else if (strcmp(o, "--entry") == 0)
            entry = v;
        else if (strcmp(o, "--args") == 0)
            args = v;
        else if (strcmp(o, "--storage") == 0)
            storage = v;
        else if (strcmp(o, "--input") == 0)
            input = v;
        else if (strcmp(o, "--caller") == 0)
            caller = v;
        else if (strcmp(o, "--gas") == 0)
            ok = parse_i64(v, &gas) && gas >= 0;
        else if (strcmp(o, "--height") == 0)
            ok = parse_i64(v, &height);
        else if (strcmp(o, "--time") == 0)
            ok = parse_i64(v, &now);
        else
            ok = 0;
        if (!ok) {
            fprintf(stderr, "bad option %s\n", o);
            usage();
            return 2;
        }
        i++;
    }
    if (!entry) {
        usage();
        return 2;
    }
    int64_t argv64[CN_VM_MAX_ARGS];
    uint32_t nargs = 0;
    if (args && *args) {
        char *copy = strdup(args);
        for (char *tok = copy ? strtok(copy, ",") : NULL; tok; tok = strtok(NULL, ",")) {
            if (nargs >= CN_VM_MAX_ARGS || !parse_i64(tok, &argv64[nargs])) {
                fprintf(stderr, "bad --args: '%s'\n", tok);
                free(copy);
                return 2;
            }
            nargs++;
        }
        free(copy);
    }
    uint8_t *bin;
    size_t len;
    if (!load_bytes(argv[1], &bin, &len))
        return 2;
    cn_vm_program *prog = NULL;
    cn_vm_where where;
    cn_vm_err err = cn_vm_load(bin, len, CN_VM_HOST_ALLOW_ALL, &prog, &where);
    free(bin);
    if (err) {
        fprintf(stderr, "%s: rejected: %s (%s)\n", argv[1], cn_vm_strerror(err),
                cn_vm_errname(err));
        return 2;
    }
    int32_t fn = cn_vm_program_export(prog, entry);
    if (fn < 0) {
        fprintf(stderr, "%s: no exported function '%s'\n", argv[1], entry);
        cn_vm_program_free(prog);
        return 2;
    }
    cn_vm_call call;
    memset(&call, 0, sizeof call);
    memcpy(call.contract, "contract", 8);
    memcpy(call.caller, "caller", 6);
    uint8_t inbuf[4096];
    size_t inlen = 0;
    int rc = 2;
    cn_asm_memhost *mh = cn_asm_memhost_new();
    cn_vm_machine *m = cn_vm_machine_new();
    cn_vm_overlay ov;
    cn_vm_overlay_init(&ov);
    if (!mh || !m)
        goto out;
    if (input && !cn_hex_decode(inbuf, sizeof inbuf, &inlen, input, strlen(input))) {
        fprintf(stderr, "bad --input (hex, at most %zu bytes)\n", sizeof inbuf);
        goto out;
    }
    if (caller) {
        cn_asm_line ln;
        char e[200];
        if (!cn_asm_lex(caller, strlen(caller), &ln, e, sizeof e) || ln.n != 1 ||
            !cn_asm_parse_id(&ln.tok[0], call.caller, e, sizeof e)) {
            fprintf(stderr, "bad --caller: give \"name\" or 0x and 64 hex digits\n");
            goto out;
        }
    }
    if (storage && !load_state(mh, call.contract, storage))
        goto out;
    cn_vm_host host;
    cn_asm_memhost_table(mh, &host);
    call.prog = prog;
    call.host = &host;
    call.overlay = &ov;
    call.entry = (uint32_t)fn;
    call.args = argv64;
    call.nargs = nargs;
    call.gas_limit = (uint64_t)gas;
    call.height = height;
    call.time = now;
    call.input = inbuf;
    call.input_len = (uint32_t)inlen;
    cn_vm_result res;
    err = use_ref ? cn_vm_exec_ref(m, &call, &res) : cn_vm_exec_fast(m, &call, &res);
    if (err == CN_VM_E_ARGS || err == CN_VM_E_NO_ENTRY || err == CN_VM_E_INVALID) {
        fprintf(stderr, "%s: %s (entry '%s' takes %u arguments)\n", argv[1], cn_vm_strerror(err),
                entry, cn_vm_program_params(prog, (uint32_t)fn));
        goto out;
    }
    printf("status: %s\n", cn_vm_errname(res.status));
    if (res.status == CN_VM_OK || res.status == CN_VM_E_REVERT)
        printf("%s: %lld\n", res.status == CN_VM_OK ? "result" : "revert code",
               (long long)res.value);
    else
        printf("trap: %s at function %u, instruction %u\n", cn_vm_strerror(res.status), res.func,
               res.pc);
    printf("gas used: %llu of %llu\n", (unsigned long long)res.gas_used,
           (unsigned long long)call.gas_limit);
    print_effects(&ov);
    uint8_t dg[32];
    char hex[65];
    cn_asm_writes_digest(&ov, dg);
    cn_hex_encode(hex, dg, 32);
    printf("writes digest: %s\n", hex);
    rc = res.status == CN_VM_OK ? 0 : 1;
out:
    cn_vm_overlay_free(&ov);
    cn_vm_machine_free(m);
    cn_asm_memhost_free(mh);
    cn_vm_program_free(prog);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage();
        return 2;
    }
    if (!cn_crypto_init()) {
        fprintf(stderr, "clearasm: crypto initialization failed\n");
        return 2;
    }
    if (strcmp(argv[1], "build") == 0)
        return cmd_build(argc - 1, argv + 1);
    if (strcmp(argv[1], "dis") == 0)
        return cmd_dis(argc - 1, argv + 1);
    if (strcmp(argv[1], "run") == 0)
        return cmd_run(argc - 1, argv + 1);
    usage();
    return 2;
}
