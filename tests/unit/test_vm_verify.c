/* Verifier and container decoder: one malformed program per rule, each rejected with its own
 * error (docs/vm.md §8), plus limits on both sides and where the verifier reports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "contracts/vm/container.h"
#include "contracts/vm/host.h"
#include "contracts/vm/opcodes.h"
#include "contracts/vm/vm.h"

#define I(op, a, b, c, imm) cn_vm_ins_make(CN_VM_OP_##op, a, b, c, imm)

/* A small valid program to mutate: main(r0) { r1 = r0 + r0; return r1 } and a helper
 * f1(r0) { return r0 }. */
typedef struct {
    uint64_t code[16];
    cn_vm_cfunc funcs[4];
    cn_vm_cexport exports[4];
    int64_t consts[2];
    uint8_t data[4];
    cn_vm_container c;
} prog;

static void base(prog *p) {
    memset(p, 0, sizeof *p);
    p->code[0] = I(ADD, 1, 0, 0, 0);
    p->code[1] = I(RET, 1, 0, 0, 0);
    p->code[2] = I(RET, 0, 0, 0, 0);
    p->funcs[0] = (cn_vm_cfunc){0, 2, 2, 1, 0};
    p->funcs[1] = (cn_vm_cfunc){2, 1, 1, 1, 0};
    p->exports[0].func = 0;
    p->exports[0].name_len = 4;
    memcpy(p->exports[0].name, "main", 5);
    p->consts[0] = 42;
    p->c = (cn_vm_container){CN_VM_VERSION, 0, 16, p->code, 3, p->funcs, 2, p->consts, 1,
                             p->data, 0, p->exports, 1};
}

/* Encodes and loads; returns the verifier's answer. */
static cn_vm_err load_with(prog *p, uint32_t allow, cn_vm_where *w) {
    uint8_t *bin;
    size_t len;
    cn_vm_err err = cn_vm_container_encode(&p->c, &bin, &len);
    assert_int_equal(err, CN_VM_OK);
    cn_vm_program *out = NULL;
    err = cn_vm_load(bin, len, allow, &out, w);
    if (err)
        assert_null(out);
    else
        assert_non_null(out);
    cn_vm_program_free(out);
    free(bin);
    return err;
}

static cn_vm_err load(prog *p) { return load_with(p, CN_VM_HOST_ALLOW_ALL, NULL); }

/* Encodes the base program, lets `edit` change the bytes, and loads them. */
static cn_vm_err load_bytes(uint8_t *bin, size_t len) {
    cn_vm_program *out = NULL;
    cn_vm_err err = cn_vm_load(bin, len, CN_VM_HOST_ALLOW_ALL, &out, NULL);
    cn_vm_program_free(out);
    return err;
}

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void test_base_is_valid(void **state) {
    (void)state;
    prog p;
    base(&p);
    assert_int_equal(load(&p), CN_VM_OK);
}

/* ---- container rules ---------------------------------------------------------------- */

static void test_container(void **state) {
    (void)state;
    prog p;
    base(&p);
    uint8_t *bin;
    size_t len;
    assert_int_equal(cn_vm_container_encode(&p.c, &bin, &len), CN_VM_OK);
    uint8_t *buf = calloc(1, CN_VM_MAX_CONTAINER + 1);
    assert_non_null(buf);
    memcpy(buf, bin, len);

    assert_int_equal(load_bytes(buf, CN_VM_MAX_CONTAINER + 1), CN_VM_E_TOO_BIG);
    assert_int_equal(load_bytes(buf, 31), CN_VM_E_TRUNCATED);
    assert_int_equal(load_bytes(NULL, 0), CN_VM_E_TRUNCATED);
    for (size_t cut = 32; cut < len; cut++)
        assert_int_equal(load_bytes(buf, cut), CN_VM_E_TRUNCATED);
    assert_int_equal(load_bytes(buf, len + 1), CN_VM_E_TRAILING);
    assert_int_equal(load_bytes(buf, len), CN_VM_OK);

    buf[0] = 'X';
    assert_int_equal(load_bytes(buf, len), CN_VM_E_MAGIC);
    buf[0] = 'C';
    buf[5] = 2;
    assert_int_equal(load_bytes(buf, len), CN_VM_E_VERSION);
    buf[5] = 1;
    buf[7] = 1;
    assert_int_equal(load_bytes(buf, len), CN_VM_E_FLAGS);
    buf[7] = 0;
    assert_int_equal(load_bytes(buf, len), CN_VM_OK);
    free(buf);
    free(bin);
}

/* Each count at its limit passes the count check (and fails later for lack of bytes), and
 * one over fails with its own error. */
static void test_count_limits(void **state) {
    (void)state;
    prog p;
    base(&p);
    uint8_t *bin;
    size_t len;
    assert_int_equal(cn_vm_container_encode(&p.c, &bin, &len), CN_VM_OK);
    struct {
        size_t off;
        uint32_t ok, bad;
        cn_vm_err err;
    } cases[] = {
        {12, CN_VM_MAX_CODE, CN_VM_MAX_CODE + 1, CN_VM_E_LIMIT_CODE},
        {12, 1, 0, CN_VM_E_LIMIT_CODE},
        {16, CN_VM_MAX_FUNCS, CN_VM_MAX_FUNCS + 1, CN_VM_E_LIMIT_FUNCS},
        {16, 1, 0, CN_VM_E_LIMIT_FUNCS},
        {20, CN_VM_MAX_CONSTS, CN_VM_MAX_CONSTS + 1, CN_VM_E_LIMIT_CONSTS},
        {8, CN_VM_MAX_MEM, CN_VM_MAX_MEM + 1, CN_VM_E_LIMIT_MEM},
        {28, CN_VM_MAX_EXPORTS, CN_VM_MAX_EXPORTS + 1, CN_VM_E_LIMIT_EXPORTS},
        {28, 1, 0, CN_VM_E_LIMIT_EXPORTS},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t *b = malloc(len);
        assert_non_null(b);
        memcpy(b, bin, len);
        put32(b + cases[i].off, cases[i].bad);
        assert_int_equal(load_bytes(b, len), cases[i].err);
        put32(b + cases[i].off, cases[i].ok);
        cn_vm_err e = load_bytes(b, len);
        assert_true(e != cases[i].err);
        free(b);
    }
    /* data larger than memory: ndata = mem_size + 1 */
    p.c.mem_size = 3;
    p.c.ndata = 4;
    assert_int_equal(load(&p), CN_VM_E_LIMIT_DATA);
    p.c.mem_size = 4;
    assert_int_equal(load(&p), CN_VM_OK);
    free(bin);
}

static void test_exports(void **state) {
    (void)state;
    prog p;
    base(&p);
    p.exports[0].name_len = 0;
    uint8_t *bin;
    size_t len;
    /* The encoder refuses bad names, so patch the bytes: name length 0, then a bad char. */
    base(&p);
    assert_int_equal(cn_vm_container_encode(&p.c, &bin, &len), CN_VM_OK);
    size_t name_off = CN_VM_HEADER_LEN + 2 * CN_VM_FUNC_LEN + 4; /* name_len byte */
    bin[name_off] = 0;
    assert_int_equal(load_bytes(bin, len), CN_VM_E_EXPORT_NAME);
    bin[name_off] = 4;
    bin[name_off + 1] = '-';
    assert_int_equal(load_bytes(bin, len), CN_VM_E_EXPORT_NAME);
    bin[name_off + 1] = 'm';
    bin[name_off] = CN_VM_MAX_NAME + 1;
    assert_int_equal(load_bytes(bin, len), CN_VM_E_EXPORT_NAME);
    free(bin);

    base(&p);
    p.exports[1] = p.exports[0];
    p.c.nexports = 2;
    assert_int_equal(load(&p), CN_VM_E_EXPORT_DUP);
    p.exports[1].name[0] = 'n';
    p.exports[1].func = 1;
    assert_int_equal(load(&p), CN_VM_OK);
    p.exports[1].func = 2;
    assert_int_equal(load(&p), CN_VM_E_EXPORT_FUNC);

    base(&p);
    p.funcs[0].nregs = 17;
    p.funcs[0].nparams = 17;
    assert_int_equal(load(&p), CN_VM_E_EXPORT_ARITY);
    p.funcs[0].nparams = 16;
    assert_int_equal(load(&p), CN_VM_OK);
}

static void test_functions(void **state) {
    (void)state;
    prog p;
    base(&p);
    p.funcs[0].start = 1;
    assert_int_equal(load(&p), CN_VM_E_FUNC_LAYOUT);
    base(&p);
    p.funcs[1].start = 3; /* gap */
    assert_int_equal(load(&p), CN_VM_E_FUNC_LAYOUT);
    base(&p);
    p.funcs[1].len = 0; /* empty, and the code is not covered */
    assert_int_equal(load(&p), CN_VM_E_FUNC_LAYOUT);
    base(&p);
    p.funcs[1].len = 2; /* past the end */
    assert_int_equal(load(&p), CN_VM_E_FUNC_LAYOUT);
    base(&p);
    p.funcs[0].nregs = 0;
    assert_int_equal(load(&p), CN_VM_E_FUNC_REGS);
    p.funcs[0].nregs = CN_VM_MAX_REGS + 1;
    assert_int_equal(load(&p), CN_VM_E_FUNC_REGS);
    p.funcs[0].nregs = CN_VM_MAX_REGS;
    assert_int_equal(load(&p), CN_VM_OK);
    base(&p);
    p.funcs[1].nparams = 2; /* more parameters than registers */
    assert_int_equal(load(&p), CN_VM_E_FUNC_REGS);
    base(&p);
    p.funcs[1].reserved = 1;
    assert_int_equal(load(&p), CN_VM_E_FUNC_RESERVED);
}

/* Replaces instruction 0 of the base program and loads. */
static cn_vm_err with_insn(uint64_t ins) {
    prog p;
    base(&p);
    p.code[0] = ins;
    return load(&p);
}

static void test_opcode_and_reserved(void **state) {
    (void)state;
    assert_int_equal(with_insn(cn_vm_ins_make(0x00, 0, 0, 0, 0)), CN_VM_E_OPCODE);
    assert_int_equal(with_insn(cn_vm_ins_make(0xff, 1, 0, 0, 0)), CN_VM_E_OPCODE);
    assert_int_equal(with_insn(cn_vm_ins_make(0x1b, 1, 0, 0, 0)), CN_VM_E_OPCODE);
    /* every unlisted opcode byte is rejected, every listed one is not rejected as unknown */
    for (unsigned op = 0; op < 256; op++) {
        cn_vm_err e = with_insn(cn_vm_ins_make((uint8_t)op, 0, 0, 0, 0));
        if (cn_vm_ops[op].name)
            assert_true(e != CN_VM_E_OPCODE);
        else
            assert_int_equal(e, CN_VM_E_OPCODE);
    }
    assert_int_equal(with_insn(I(MOV, 1, 0, 1, 0)), CN_VM_E_RESERVED);  /* c unused */
    assert_int_equal(with_insn(I(MOV, 1, 0, 0, 1)), CN_VM_E_RESERVED);  /* imm unused */
    assert_int_equal(with_insn(I(LDI, 1, 1, 0, 5)), CN_VM_E_RESERVED);  /* b unused */
    assert_int_equal(with_insn(I(ADD, 1, 0, 0, -1)), CN_VM_E_RESERVED); /* imm unused */
    assert_int_equal(with_insn(I(MULDIV, 1, 0, 0, 0x10000)), CN_VM_E_RESERVED);
    assert_int_equal(with_insn(I(MULDIV, 1, 0, 0, 0x0301)), CN_VM_OK);
    assert_int_equal(with_insn(I(HOST, 1, 1, 0, CN_VM_HOST_HEIGHT)), CN_VM_E_RESERVED);
    assert_int_equal(with_insn(I(HOST, 1, 0, 0, CN_VM_HOST_HEIGHT)), CN_VM_OK);
}

static void test_operands(void **state) {
    (void)state;
    assert_int_equal(with_insn(I(ADD, 2, 0, 0, 0)), CN_VM_E_REGISTER);
    assert_int_equal(with_insn(I(ADD, 1, 2, 0, 0)), CN_VM_E_REGISTER);
    assert_int_equal(with_insn(I(ADD, 1, 0, 2, 0)), CN_VM_E_REGISTER);
    assert_int_equal(with_insn(I(MULDIV, 1, 0, 0, 0x0002)), CN_VM_E_REGISTER); /* divisor */
    assert_int_equal(with_insn(I(LDK, 1, 0, 0, 0)), CN_VM_OK);
    assert_int_equal(with_insn(I(LDK, 1, 0, 0, 1)), CN_VM_E_CONST);
    assert_int_equal(with_insn(I(LDK, 1, 0, 0, -1)), CN_VM_E_CONST);
    assert_int_equal(with_insn(I(JMP, 0, 0, 0, 0)), CN_VM_OK); /* to pc 1 */
    assert_int_equal(with_insn(I(JMP, 0, 0, 0, -1)), CN_VM_E_JUMP_SELF);
    assert_int_equal(with_insn(I(JZ, 0, 0, 0, -1)), CN_VM_E_JUMP_SELF);
    assert_int_equal(with_insn(I(JMP, 0, 0, 0, -2)), CN_VM_E_JUMP_RANGE);
    assert_int_equal(with_insn(I(JMP, 0, 0, 0, 1)), CN_VM_E_JUMP_RANGE); /* into f1 */
    assert_int_equal(with_insn(I(JLT, 0, 1, 0, INT32_MAX)), CN_VM_E_JUMP_RANGE);
    assert_int_equal(with_insn(I(JGE, 0, 1, 0, INT32_MIN)), CN_VM_E_JUMP_RANGE);
    assert_int_equal(with_insn(I(SHLI, 1, 0, 0, 63)), CN_VM_OK);
    assert_int_equal(with_insn(I(SHLI, 1, 0, 0, 64)), CN_VM_E_SHIFT_IMM);
    assert_int_equal(with_insn(I(SARI, 1, 0, 0, -1)), CN_VM_E_SHIFT_IMM);
    assert_int_equal(with_insn(I(MULDIV, 1, 0, 0, 0x0400)), CN_VM_E_ROUND_MODE);
}

static void test_calls_and_hosts(void **state) {
    (void)state;
    assert_int_equal(with_insn(I(CALL, 1, 0, 1, 1)), CN_VM_OK);
    assert_int_equal(with_insn(I(CALL, 1, 0, 1, 2)), CN_VM_E_CALL_TARGET);
    assert_int_equal(with_insn(I(CALL, 1, 0, 0, 1)), CN_VM_E_CALL_ARITY);
    assert_int_equal(with_insn(I(CALL, 1, 0, 2, 1)), CN_VM_E_CALL_ARITY);
    assert_int_equal(with_insn(I(CALL, 1, 2, 1, 1)), CN_VM_E_REGISTER); /* arg base */
    assert_int_equal(with_insn(I(CALL, 1, 0, 1, 0)), CN_VM_E_RECURSION); /* main calls main */
    assert_int_equal(with_insn(I(HOST, 1, 0, 1, CN_VM_HOST_PRICE)), CN_VM_OK);
    assert_int_equal(with_insn(I(HOST, 1, 0, 1, CN_VM_HOST_COUNT)), CN_VM_E_HOST_ID);
    assert_int_equal(with_insn(I(HOST, 1, 0, 2, CN_VM_HOST_PRICE)), CN_VM_E_HOST_ARITY);
    assert_int_equal(with_insn(I(HOST, 1, 0, 4, CN_VM_HOST_STORAGE_PUT)), CN_VM_E_REGISTER);

    prog p;
    base(&p);
    p.code[0] = I(HOST, 1, 0, 1, CN_VM_HOST_PRICE);
    uint32_t no_price = CN_VM_HOST_ALLOW_ALL & ~(1u << CN_VM_HOST_PRICE);
    assert_int_equal(load_with(&p, no_price, NULL), CN_VM_E_HOST_FORBIDDEN);
    assert_int_equal(load_with(&p, 1u << CN_VM_HOST_PRICE, NULL), CN_VM_OK);

    /* mutual recursion: main -> f1 -> main */
    base(&p);
    p.code[0] = I(CALL, 1, 0, 1, 1);
    p.code[2] = I(CALL, 0, 0, 1, 0);
    p.code[3] = I(RET, 0, 0, 0, 0);
    p.funcs[1].len = 2;
    p.c.ncode = 4;
    cn_vm_where w;
    assert_int_equal(load_with(&p, CN_VM_HOST_ALLOW_ALL, &w), CN_VM_E_RECURSION);
}

static void test_terminator(void **state) {
    (void)state;
    prog p;
    base(&p);
    p.code[1] = I(ADD, 1, 0, 0, 0);
    cn_vm_where w;
    assert_int_equal(load_with(&p, CN_VM_HOST_ALLOW_ALL, &w), CN_VM_E_TERMINATOR);
    assert_int_equal(w.func, 0);
    assert_int_equal(w.pc, 1);
    p.code[1] = I(REVERT, 1, 0, 0, 0);
    assert_int_equal(load(&p), CN_VM_OK);
    p.code[1] = I(JMP, 0, 0, 0, -2);
    assert_int_equal(load(&p), CN_VM_OK);
    p.code[1] = I(JNZ, 0, 0, 0, -2); /* a conditional branch may fall through: not an end */
    assert_int_equal(load(&p), CN_VM_E_TERMINATOR);
}

/* The error carries where it was found. */
static void test_where(void **state) {
    (void)state;
    prog p;
    base(&p);
    p.code[2] = I(ADD, 5, 0, 0, 0);
    cn_vm_where w;
    assert_int_equal(load_with(&p, CN_VM_HOST_ALLOW_ALL, &w), CN_VM_E_REGISTER);
    assert_int_equal(w.func, 1);
    assert_int_equal(w.pc, 2);
}

/* Every error code has a distinct name and a message, and names parse back. */
static void test_error_names(void **state) {
    (void)state;
    for (int e = 0; e < 200; e++) {
        const char *n = cn_vm_errname((cn_vm_err)e);
        assert_non_null(cn_vm_strerror((cn_vm_err)e));
        if (strcmp(n, "unknown") == 0)
            continue;
        cn_vm_err back;
        assert_true(cn_vm_errname_parse(n, &back));
        assert_int_equal(back, e);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base_is_valid),
        cmocka_unit_test(test_container),
        cmocka_unit_test(test_count_limits),
        cmocka_unit_test(test_exports),
        cmocka_unit_test(test_functions),
        cmocka_unit_test(test_opcode_and_reserved),
        cmocka_unit_test(test_operands),
        cmocka_unit_test(test_calls_and_hosts),
        cmocka_unit_test(test_terminator),
        cmocka_unit_test(test_where),
        cmocka_unit_test(test_error_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
