/* clearasm: the lexer, the source format, error messages naming file:line and the reason,
 * includes, and disassembly that reassembles to the same bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "contracts/asm/asm.h"
#include "contracts/asm/lexer.h"
#include "contracts/vm/container.h"
#include "contracts/vm/opcodes.h"
#include "contracts/vm/vm.h"

/* Assembles src; returns 1 on success (and frees the output), else 0 with the message. */
static int build(const char *src, cn_asm_diag *d) {
    uint8_t *bin;
    size_t len;
    int ok = cn_asm_build_source("t.cas", src, strlen(src), 0, &bin, &len, d);
    free(bin);
    return ok;
}

/* Expects src to fail with a message containing `want`. */
static void expect_error(const char *src, const char *want) {
    cn_asm_diag d;
    assert_false(build(src, &d));
    if (!strstr(d.msg, want)) {
        fprintf(stderr, "message '%s' lacks '%s'\n", d.msg, want);
        fail();
    }
}

static void test_lexer(void **state) {
    (void)state;
    cn_asm_line ln;
    char err[128];
    const char *s = "  add r1, -9223372036854775808, 0x10 \"a\\x41\\n\" ; comment";
    assert_true(cn_asm_lex(s, strlen(s), &ln, err, sizeof err));
    assert_int_equal(ln.n, 7);
    assert_true(cn_asm_tok_is(&ln.tok[0], "add"));
    assert_int_equal(ln.tok[3].kind, CN_ASM_TOK_INT);
    assert_true(ln.tok[3].ival == INT64_MIN);
    assert_int_equal(ln.tok[5].ival, 16);
    assert_int_equal(ln.tok[6].kind, CN_ASM_TOK_STR);
    assert_int_equal(ln.tok[6].slen, 3);
    assert_memory_equal(ln.tok[6].str, "aA\n", 3);
    const char *big = "0x00112233445566778899aabbccddeeff";
    assert_true(cn_asm_lex(big, strlen(big), &ln, err, sizeof err));
    assert_true(ln.tok[0].big);
    const char *bad[] = {"9223372036854775808", "-9223372036854775809", "\"open", "12ab", "@",
                         "\"\\q\""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(cn_asm_lex(bad[i], strlen(bad[i]), &ln, err, sizeof err));
}

static void test_program_shape(void **state) {
    (void)state;
    const char *src = ".mem 32\n"
                      ".const BIG 5000000000\n"
                      ".data KEY \"abc\"\n"
                      ".func helper 1\n"
                      "    .regs 6\n"
                      "    ret r0\n"
                      ".end\n"
                      ".func main 2 export\n"
                      "    .reg x r0\n"
                      "    ldk r9, BIG\n"
                      "    ldk r8, BIG\n"
                      "    ldk r7, -1\n"
                      "    ldi r6, KEY.len\n"
                      "    call r5, helper, x, 1\n"
                      "    ret r5\n"
                      ".end\n";
    uint8_t *bin;
    size_t len;
    cn_asm_diag d;
    assert_true(cn_asm_build_source("t.cas", src, strlen(src), 0, &bin, &len, &d));
    cn_vm_container c;
    assert_int_equal(cn_vm_container_decode(bin, len, &c), CN_VM_OK);
    assert_int_equal(c.mem_size, 32);
    assert_int_equal(c.ndata, 3);
    assert_int_equal(c.nfuncs, 2);
    assert_int_equal(c.funcs[0].nregs, 6);   /* .regs */
    assert_int_equal(c.funcs[1].nregs, 10);  /* highest register used + 1 */
    assert_int_equal(c.funcs[1].nparams, 2);
    assert_int_equal(c.nconsts, 2);          /* BIG interned once, then -1 */
    assert_true(c.consts[0] == 5000000000);
    assert_int_equal(c.nexports, 1);
    assert_string_equal(c.exports[0].name, "main");
    assert_int_equal(cn_vm_ins_imm(c.code[4]), 3); /* KEY.len */
    cn_vm_container_free(&c);
    free(bin);
}

static void test_errors_name_the_line(void **state) {
    (void)state;
    expect_error(".func main 0 export\n    frob r0\n.end\n", "t.cas:2: unknown instruction 'frob'");
    expect_error(".func main 0 export\n    ret r256\n.end\n", "t.cas:2: expected a register");
    expect_error(".func main 0 export\n    ret q1\n.end\n", "t.cas:2: expected a register");
    expect_error(".func main 0 export\n    add r0, r0\n.end\n", "t.cas:2: 'add' takes 3 operands");
    expect_error(".func main 0 export\n    jmp nowhere\n.end\n", "t.cas:2: unknown label 'nowhere'");
    expect_error(".func main 0 export\nx:\nx:\n    ret r0\n.end\n", "t.cas:3: label 'x' defined twice");
    expect_error(".func main 0 export\n    ret r0\n", "no .end");
    expect_error(".func main 0 export\n    ldi r0, 2147483648\n.end\n", "t.cas:2: immediate");
    expect_error(".func main 0 export\n    shli r0, r0, 64\n.end\n", "t.cas:2: shift amount 64");
    expect_error(".func main 0 export\n    muldiv r0, r0, r0, r0, up\n.end\n",
                 "t.cas:2: unknown rounding mode 'up'");
    expect_error(".func main 0 export\n    host r0, teleport, r0, 0\n.end\n",
                 "t.cas:2: unknown host call 'teleport'");
    expect_error("    ret r0\n", "t.cas:1: instruction outside a function");
    expect_error(".func main 0 export\n    call r0, ghost, r0, 0\n    ret r0\n.end\n",
                 "t.cas:2: unknown function 'ghost'");
    expect_error(".func main 0 export\n    ldi r0, NOPE\n.end\n", "t.cas:2: unknown symbol 'NOPE'");
    expect_error(".func main 0\n    ret r0\n.end\n", "no function is exported");
    expect_error(".func a.b 0 export\n    ret r0\n.end\n", "may not contain '.'");
    expect_error(".include \"x.cas\"\n", "t.cas:1: includes are not allowed here");
    expect_error(".mem 70000\n", "t.cas:1: memory size 70000");
    expect_error(".mem 2\n.data D \"abc\"\n.func m 0 export\n    ret r0\n.end\n",
                 ".mem 2 is smaller than the 3 data bytes");
    expect_error(".func main 0 export\n.end\n", "t.cas:2: function 'main' is empty");
    expect_error(".func main 0 export\n    ldi r0, \"s\n.end\n", "t.cas:2: column 13: unterminated");
}

/* What only the verifier knows is still reported at the right line. */
static void test_verifier_errors_map_to_lines(void **state) {
    (void)state;
    expect_error(".func f 2\n    ret r0\n.end\n"
                 ".func main 0 export\n    call r0, f, r0, 1\n    ret r0\n.end\n",
                 "t.cas:5: rejected by the verifier: call argument count differs");
    expect_error(".func main 0 export\n    add r0, r0, r0\n.end\n",
                 "t.cas:2: rejected by the verifier: function does not end in jmp, ret or revert");
    expect_error(".func main 0 export\n    call r0, main, r0, 0\n    ret r0\n.end\n",
                 "t.cas:1: rejected by the verifier: call graph has a cycle");
    expect_error(".func main 0 export\n    host r0, price, r0, 2\n    ret r0\n.end\n",
                 "t.cas:2: rejected by the verifier: host call with the wrong argument count");
    expect_error(".func main 0 export\nself:\n    jmp self\n.end\n",
                 "t.cas:3: rejected by the verifier: jump to itself");
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_includes(void **state) {
    (void)state;
    char dir[] = "/tmp/cn-asm-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char main_path[64], lib_path[64], loop_path[64], bad_path[64];
    snprintf(main_path, sizeof main_path, "%s/main.cas", dir);
    snprintf(lib_path, sizeof lib_path, "%s/lib.cas", dir);
    snprintf(loop_path, sizeof loop_path, "%s/loop.cas", dir);
    snprintf(bad_path, sizeof bad_path, "%s/bad.cas", dir);
    write_file(lib_path, ".const TEN 10\n.func ten 0\n    ldi r0, TEN\n    ret r0\n.end\n");
    write_file(main_path, ".include \"lib.cas\"\n.func main 0 export\n"
                          "    call r0, ten, r0, 0\n    ret r0\n.end\n");
    write_file(loop_path, ".include \"loop.cas\"\n");
    write_file(bad_path, ".include \"lib.cas\"\n.func main 0 export\n    retx r0\n.end\n");
    uint8_t *bin;
    size_t len;
    cn_asm_diag d;
    assert_true(cn_asm_build_file(main_path, &bin, &len, &d));
    free(bin);
    assert_false(cn_asm_build_file(loop_path, &bin, &len, &d));
    assert_non_null(strstr(d.msg, "nested deeper than"));
    assert_false(cn_asm_build_file(bad_path, &bin, &len, &d));
    assert_non_null(strstr(d.msg, "bad.cas:3: unknown instruction"));
    /* an error inside the included file names that file */
    write_file(lib_path, ".func ten 0\n    ldi r0, 99999999999\n    ret r0\n.end\n");
    assert_false(cn_asm_build_file(main_path, &bin, &len, &d));
    assert_non_null(strstr(d.msg, "lib.cas:2: immediate"));
    assert_false(cn_asm_build_file("/nonexistent/x.cas", &bin, &len, &d));
    remove(main_path);
    remove(lib_path);
    remove(loop_path);
    remove(bad_path);
    rmdir(dir);
}

/* Every opcode in one program; disassembling and reassembling gives the same bytes. */
static void test_disasm_round_trip(void **state) {
    (void)state;
    const char *src =
        ".mem 64\n.data D \"xyz\"\n"
        ".func g 2\n    add r2, r0, r1\n    ret r2\n.end\n"
        ".func main 3 export\n"
        "top:\n    mov r3, r0\n    ldi r4, -5\n    ldk r5, 123456789012\n"
        "    add r3, r3, r4\n    sub r3, r3, r4\n    mul r3, r3, r4\n    div r3, r3, r4\n"
        "    mod r3, r3, r4\n    addi r3, r3, -7\n    neg r3, r3\n    abs r3, r3\n"
        "    min r3, r3, r4\n    max r3, r3, r4\n    muldiv r3, r3, r4, r5, half_even\n"
        "    and r3, r3, r4\n    or r3, r3, r4\n    xor r3, r3, r4\n    not r3, r3\n"
        "    shl r3, r3, r4\n    shr r3, r3, r4\n    sar r3, r3, r4\n    shli r3, r3, 1\n"
        "    shri r3, r3, 2\n    sari r3, r3, 63\n    eq r3, r3, r4\n    ne r3, r3, r4\n"
        "    lt r3, r3, r4\n    le r3, r3, r4\n    gt r3, r3, r4\n    ge r3, r3, r4\n"
        "    jz r3, top\n    jnz r3, mid\n    jeq r3, r4, top\n    jne r3, r4, mid\n    jmp mid\n"
        "mid:\n    jlt r3, r4, top\n    jle r3, r4, mid2\n    jgt r3, r4, top\n"
        "mid2:\n    jge r3, r4, top\n    call r6, g, r3, 2\n    ld8 r7, r0, 1\n"
        "    ld16 r7, r0, 2\n    ld32 r7, r0, 3\n    ld64 r7, r0, 4\n    st8 r7, r0, 5\n"
        "    st16 r7, r0, 6\n    st32 r7, r0, 7\n    st64 r7, r0, 8\n"
        "    host r8, storage_next, r0, 6\n    host r8, time, r0, 0\n    revert r8\n.end\n";
    uint8_t *bin, *bin2;
    size_t len, len2;
    cn_asm_diag d;
    assert_true(cn_asm_build_source("t.cas", src, strlen(src), 0, &bin, &len, &d));
    /* every opcode of the table appears */
    cn_vm_container c;
    assert_int_equal(cn_vm_container_decode(bin, len, &c), CN_VM_OK);
    uint8_t seen[CN_VM_OP_SPACE] = {0};
    for (uint32_t i = 0; i < c.ncode; i++)
        seen[cn_vm_ins_op(c.code[i])] = 1;
    for (unsigned op = 0; op < CN_VM_OP_SPACE; op++)
        if (cn_vm_ops[op].name && !seen[op]) {
            fprintf(stderr, "opcode %s missing from the round-trip program\n", cn_vm_ops[op].name);
            fail();
        }
    cn_vm_container_free(&c);
    char *text = NULL;
    size_t tlen = 0;
    FILE *f = open_memstream(&text, &tlen);
    assert_non_null(f);
    assert_true(cn_asm_disasm(bin, len, f, &d));
    fclose(f);
    if (!cn_asm_build_source("dis.cas", text, tlen, 0, &bin2, &len2, &d)) {
        fprintf(stderr, "%s\n%s\n", d.msg, text);
        fail();
    }
    assert_int_equal(len, len2);
    assert_memory_equal(bin, bin2, len);
    free(text);
    free(bin);
    free(bin2);
    /* garbage does not decode */
    uint8_t junk[8] = {1, 2, 3};
    f = fopen("/dev/null", "w");
    assert_false(cn_asm_disasm(junk, sizeof junk, f, &d));
    fclose(f);
}

/* Every ```cas block of docs/contracts.md assembles (run from the repository root). */
static void test_doc_examples(void **state) {
    (void)state;
    char *doc;
    size_t len;
    cn_asm_diag d;
    assert_true(cn_asm_read_file("docs/contracts.md", 1u << 20, &doc, &len, &d));
    int blocks = 0;
    for (char *p = strstr(doc, "```cas\n"); p; p = strstr(p, "```cas\n")) {
        p += 7;
        char *end = strstr(p, "```");
        assert_non_null(end);
        uint8_t *bin;
        size_t blen;
        if (!cn_asm_build_source("docs/contracts.md", p, (size_t)(end - p), 0, &bin, &blen, &d)) {
            fprintf(stderr, "example %d: %s\n", blocks + 1, d.msg);
            fail();
        }
        free(bin);
        blocks++;
        p = end + 3;
    }
    assert_true(blocks >= 1);
    free(doc);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doc_examples),
        cmocka_unit_test(test_lexer),
        cmocka_unit_test(test_program_shape),
        cmocka_unit_test(test_errors_name_the_line),
        cmocka_unit_test(test_verifier_errors_map_to_lines),
        cmocka_unit_test(test_includes),
        cmocka_unit_test(test_disasm_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
