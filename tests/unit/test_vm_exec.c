/* VM execution API: call checks, failures clearing the overlay, host faults, effect limits,
 * the overlay itself, and both interpreters' arithmetic against an __int128 oracle on random
 * operands (the seed is printed; set CN_TEST_SEED to replay). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "contracts/asm/asm.h"
#include "contracts/asm/memhost.h"
#include "contracts/vm/host.h"
#include "contracts/vm/opcodes.h"
#include "contracts/vm/overlay.h"
#include "contracts/vm/vm.h"

static cn_vm_program *assemble(const char *src) {
    uint8_t *bin;
    size_t len;
    cn_asm_diag d;
    if (!cn_asm_build_source("t.cas", src, strlen(src), 0, &bin, &len, &d)) {
        fprintf(stderr, "%s\n", d.msg);
        fail();
    }
    cn_vm_program *p = NULL;
    assert_int_equal(cn_vm_load(bin, len, CN_VM_HOST_ALLOW_ALL, &p, NULL), CN_VM_OK);
    free(bin);
    return p;
}

typedef struct {
    cn_vm_machine *m;
    cn_asm_memhost *mh;
    cn_vm_host host;
    cn_vm_overlay ov;
    cn_vm_call call;
} rig;

static void rig_init(rig *r, const cn_vm_program *p, const char *entry) {
    memset(r, 0, sizeof *r);
    r->m = cn_vm_machine_new();
    r->mh = cn_asm_memhost_new();
    assert_non_null(r->m);
    assert_non_null(r->mh);
    cn_asm_memhost_table(r->mh, &r->host);
    cn_vm_overlay_init(&r->ov);
    r->call.prog = p;
    r->call.host = &r->host;
    r->call.overlay = &r->ov;
    int32_t fn = cn_vm_program_export(p, entry);
    assert_true(fn >= 0);
    r->call.entry = (uint32_t)fn;
    r->call.gas_limit = 1000000;
}

static void rig_free(rig *r) {
    cn_vm_overlay_free(&r->ov);
    cn_asm_memhost_free(r->mh);
    cn_vm_machine_free(r->m);
}

/* Runs on both interpreters; they must agree; returns the fast one's result. */
static cn_vm_result run_both(rig *r) {
    cn_vm_result a, b;
    cn_vm_overlay_clear(&r->ov);
    (void)cn_vm_exec_ref(r->m, &r->call, &a);
    uint32_t nw = r->ov.nwrites;
    cn_vm_overlay_clear(&r->ov);
    (void)cn_vm_exec_fast(r->m, &r->call, &b);
    assert_int_equal(a.status, b.status);
    assert_true(a.value == b.value);
    assert_true(a.gas_used == b.gas_used);
    assert_int_equal(a.pc, b.pc);
    assert_int_equal(nw, r->ov.nwrites);
    return b;
}

static void test_call_checks(void **state) {
    (void)state;
    cn_vm_program *p = assemble(".mem 8\n.func main 1 export\n    ret r0\n.end\n"
                                ".func inner 0\n    ret r0\n.end\n");
    rig r;
    rig_init(&r, p, "main");
    int64_t arg = 5;
    r.call.args = &arg;
    r.call.nargs = 1;
    cn_vm_result res = run_both(&r);
    assert_int_equal(res.status, CN_VM_OK);
    assert_int_equal(res.value, 5);

    r.call.nargs = 0;
    assert_int_equal(cn_vm_exec_fast(r.m, &r.call, &res), CN_VM_E_ARGS);
    r.call.nargs = 1;
    r.call.entry = 1; /* exists, not exported */
    assert_int_equal(cn_vm_exec_fast(r.m, &r.call, &res), CN_VM_E_NO_ENTRY);
    r.call.entry = 0;
    r.call.input_len = CN_VM_MAX_INPUT + 1;
    r.call.input = (const uint8_t *)"x";
    assert_int_equal(cn_vm_exec_ref(r.m, &r.call, &res), CN_VM_E_INVALID);
    r.call.input_len = 0;
    r.call.host = NULL;
    assert_int_equal(cn_vm_exec_fast(r.m, &r.call, &res), CN_VM_E_INVALID);
    assert_int_equal(res.status, CN_VM_E_INVALID);
    r.call.host = &r.host;
    /* a non-empty overlay is refused (its effects would be lost on failure) */
    assert_int_equal(cn_vm_overlay_put(&r.ov, (const uint8_t *)"k", 1, NULL, 0, 0), CN_VM_OK);
    assert_int_equal(cn_vm_exec_ref(r.m, &r.call, &res), CN_VM_E_INVALID);
    assert_int_equal(r.ov.nwrites, 1);
    assert_int_equal(cn_vm_load(NULL, 0, 0, NULL, NULL), CN_VM_E_INVALID);
    rig_free(&r);
    cn_vm_program_free(p);
}

static const char *writer_src =
    ".mem 16\n"
    ".func main 2 export        ; writes r0 distinct 8-byte keys, then adds r1 + INT64_MAX\n"
    "    mov r9, r1\n"
    "    mov r5, r0\n"
    "    ldi r6, 0\n"
    "    ldi r0, 0\n"
    "    ldi r1, 8\n"
    "    ldi r2, 8\n"
    "    ldi r3, 8\n"
    "loop:\n"
    "    jge r6, r5, done\n"
    "    st64 r6, r0, 0\n"
    "    host r4, storage_put, r0, 4\n"
    "    addi r6, r6, 1\n"
    "    jmp loop\n"
    "done:\n"
    "    ldk r7, 9223372036854775807\n"
    "    add r7, r7, r9\n"
    "    ret r6\n"
    ".end\n";

/* Effects are kept on success, dropped on any failure, and limited per call. */
static void test_effects_and_limits(void **state) {
    (void)state;
    cn_vm_program *p = assemble(writer_src);
    rig r;
    rig_init(&r, p, "main");
    int64_t args[2] = {3, 0};
    r.call.args = args;
    r.call.nargs = 2;
    cn_vm_result res = run_both(&r);
    assert_int_equal(res.status, CN_VM_OK);
    assert_int_equal(r.ov.nwrites, 3);
    /* sorted by key: be64(0) < be64(1) < be64(2) */
    for (uint32_t i = 0; i < 3; i++)
        assert_int_equal(r.ov.writes[i].key[7], i);

    args[1] = 1; /* the final add overflows: the three writes must go */
    res = run_both(&r);
    assert_int_equal(res.status, CN_VM_E_OVERFLOW);
    assert_int_equal(r.ov.nwrites, 0);

    args[1] = 0;
    args[0] = CN_VM_MAX_WRITES;
    res = run_both(&r);
    assert_int_equal(res.status, CN_VM_OK);
    assert_int_equal(r.ov.nwrites, CN_VM_MAX_WRITES);
    args[0] = CN_VM_MAX_WRITES + 1;
    res = run_both(&r);
    assert_int_equal(res.status, CN_VM_E_LIMIT_EFFECTS);
    assert_int_equal(r.ov.nwrites, 0);

    /* out of gas in the middle also drops everything */
    args[0] = 10;
    r.call.gas_limit = 1000;
    res = run_both(&r);
    assert_int_equal(res.status, CN_VM_E_OUT_OF_GAS);
    assert_true(res.gas_used == 1000);
    assert_int_equal(r.ov.nwrites, 0);
    rig_free(&r);
    cn_vm_program_free(p);
}

static int fault_get(void *ctx, const uint8_t c[CN_VM_ID_LEN], const uint8_t *k, size_t kl,
                     uint8_t *v, size_t cap, size_t *len) {
    (void)ctx, (void)c, (void)k, (void)kl, (void)v, (void)cap, (void)len;
    return -1;
}

static int fault_price(void *ctx, int64_t asset, int64_t *price) {
    (void)ctx, (void)asset, (void)price;
    return -5;
}

/* A failing host stops the call with host_fault and no effects. */
static void test_host_fault(void **state) {
    (void)state;
    cn_vm_program *p = assemble(".mem 16\n"
                                ".func get 0 export\n"
                                "    ldi r1, 1\n    ldi r2, 8\n    ldi r3, 8\n"
                                "    host r0, storage_put, r0, 4\n"
                                "    host r0, storage_get, r0, 4\n    ret r0\n.end\n"
                                ".func price 0 export\n"
                                "    host r0, price, r0, 1\n    ret r0\n.end\n");
    rig r;
    rig_init(&r, p, "get");
    cn_vm_result res = run_both(&r);
    assert_int_equal(res.status, CN_VM_OK); /* reads its own write: no host read */
    assert_int_equal(res.value, 8);
    r.host.get = fault_get;
    r.host.price = fault_price;
    /* now the call writes one key and reads another, which comes from the failing host */
    cn_vm_program_free(p);
    p = assemble(".mem 16\n.func get 0 export\n    .regs 6\n"
                 "    ldi r1, 1\n    ldi r2, 8\n    ldi r3, 8\n"
                 "    host r0, storage_put, r2, 4\n"
                 "    host r0, storage_get, r0, 4\n    ret r0\n.end\n"
                 ".func price 0 export\n    host r0, price, r0, 1\n    ret r0\n.end\n");
    r.call.prog = p;
    res = run_both(&r);
    assert_int_equal(res.status, CN_VM_E_HOST_FAULT);
    assert_int_equal(r.ov.nwrites, 0);
    r.call.entry = (uint32_t)cn_vm_program_export(p, "price");
    res = run_both(&r);
    assert_int_equal(res.status, CN_VM_E_HOST_FAULT);
    rig_free(&r);
    cn_vm_program_free(p);
}

static void test_overlay(void **state) {
    (void)state;
    cn_vm_overlay ov;
    cn_vm_overlay_init(&ov);
    const char *keys[] = {"b", "a", "ab", "", "b"};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(cn_vm_overlay_put(&ov, (const uint8_t *)keys[i],
                                           (uint32_t)strlen(keys[i]), (const uint8_t *)"v",
                                           (uint32_t)i % 2, i == 4),
                         CN_VM_OK);
    assert_int_equal(ov.nwrites, 4); /* "b" replaced by its delete */
    assert_int_equal(ov.writes[0].klen, 0);
    assert_memory_equal(ov.writes[1].key, "a", 1);
    assert_memory_equal(ov.writes[2].key, "ab", 2);
    assert_true(ov.writes[3].deleted);
    assert_null(ov.writes[3].val);
    assert_true(cn_vm_key_cmp((const uint8_t *)"a", 1, (const uint8_t *)"ab", 2) < 0);
    assert_true(cn_vm_key_cmp((const uint8_t *)"b", 1, (const uint8_t *)"ab", 2) > 0);

    cn_vm_transfer t;
    memset(&t, 0, sizeof t);
    t.from[0] = 1;
    t.asset = 7;
    t.amount = INT64_MAX;
    assert_int_equal(cn_vm_overlay_transfer(&ov, &t), CN_VM_OK);
    int64_t pending;
    assert_int_equal(cn_vm_overlay_pending(&ov, t.from, 7, &pending), CN_VM_OK);
    assert_true(pending == -INT64_MAX);
    assert_int_equal(cn_vm_overlay_pending(&ov, t.to, 7, &pending), CN_VM_OK);
    assert_true(pending == INT64_MAX);
    assert_int_equal(cn_vm_overlay_pending(&ov, t.from, 8, &pending), CN_VM_OK);
    assert_true(pending == 0);
    assert_int_equal(cn_vm_overlay_transfer(&ov, &t), CN_VM_OK);
    assert_int_equal(cn_vm_overlay_pending(&ov, t.from, 7, &pending), CN_VM_E_OVERFLOW);
    cn_vm_overlay_clear(&ov);
    assert_int_equal(ov.nwrites + ov.ntransfers + ov.nevents, 0);
    cn_vm_overlay_free(&ov);
}

/* ---- random arithmetic against __int128 ---------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Operands biased toward the edges, where the bugs live. */
static int64_t operand(void) {
    static const int64_t edge[] = {0, 1, -1, 2, -2, INT64_MAX, INT64_MIN, INT64_MAX - 1,
                                   INT64_MIN + 1, 3037000499, 3037000500, 4294967296,
                                   -4294967296, 10000, 1000000};
    uint64_t k = rnd() % 4;
    if (k == 0)
        return edge[rnd() % (sizeof edge / sizeof edge[0])];
    if (k == 1)
        return (int64_t)(rnd() % 2001) - 1000;
    uint64_t u = rnd() >> (rnd() % 64);
    return (rnd() & 1) ? (int64_t)(u >> 1) : -(int64_t)(u >> 1);
}

/* The oracle: exact quotient rounded by comparing the remainder with the divisor. */
static cn_vm_err oracle_muldiv(int64_t a, int64_t b, int64_t d, unsigned mode, int64_t *out) {
    if (d == 0)
        return CN_VM_E_DIV_ZERO;
    __int128 p = (__int128)a * b, q = p / d, r = p % d;
    int exact_negative = (p < 0) != (d < 0);
    __int128 twice = 2 * (r < 0 ? -r : r), dm = d < 0 ? -(__int128)d : d;
    if (r != 0) {
        if (mode == 1 && exact_negative)
            q -= 1;
        else if (mode == 2 && !exact_negative)
            q += 1;
        else if (mode == 3 && (twice > dm || (twice == dm && (q % 2 != 0))))
            q += exact_negative ? -1 : 1;
    }
    if (q > INT64_MAX || q < INT64_MIN)
        return CN_VM_E_OVERFLOW;
    *out = (int64_t)q;
    return CN_VM_OK;
}

static void test_random_arithmetic(void **state) {
    (void)state;
    const char *seed_env = getenv("CN_TEST_SEED");
    uint64_t seed = seed_env ? strtoull(seed_env, NULL, 0) : (uint64_t)time(NULL);
    printf("test_random_arithmetic: CN_TEST_SEED=%llu\n", (unsigned long long)seed);
    rng_state = seed | 1;
    cn_vm_program *p = assemble(
        ".func md0 3 export\n    muldiv r0, r0, r1, r2, trunc\n    ret r0\n.end\n"
        ".func md1 3 export\n    muldiv r0, r0, r1, r2, floor\n    ret r0\n.end\n"
        ".func md2 3 export\n    muldiv r0, r0, r1, r2, ceil\n    ret r0\n.end\n"
        ".func md3 3 export\n    muldiv r0, r0, r1, r2, half_even\n    ret r0\n.end\n"
        ".func add 3 export\n    add r0, r0, r1\n    ret r0\n.end\n"
        ".func sub 3 export\n    sub r0, r0, r1\n    ret r0\n.end\n"
        ".func mul 3 export\n    mul r0, r0, r1\n    ret r0\n.end\n"
        ".func div 3 export\n    div r0, r0, r1\n    ret r0\n.end\n"
        ".func mod 3 export\n    mod r0, r0, r1\n    ret r0\n.end\n");
    rig r;
    rig_init(&r, p, "md0");
    const char *names[] = {"md0", "md1", "md2", "md3", "add", "sub", "mul", "div", "mod"};
    uint32_t fn[9];
    for (int i = 0; i < 9; i++)
        fn[i] = (uint32_t)cn_vm_program_export(p, names[i]);
    int64_t args[3];
    r.call.args = args;
    r.call.nargs = 3;
    for (int iter = 0; iter < 30000; iter++) {
        int op = (int)(rnd() % 9);
        args[0] = operand();
        args[1] = operand();
        args[2] = operand();
        r.call.entry = fn[op];
        cn_vm_result res = run_both(&r);
        int64_t want = 0;
        cn_vm_err werr = CN_VM_OK;
        int64_t a = args[0], b = args[1];
        switch (op) {
        case 4: werr = __builtin_add_overflow(a, b, &want) ? CN_VM_E_OVERFLOW : CN_VM_OK; break;
        case 5: werr = __builtin_sub_overflow(a, b, &want) ? CN_VM_E_OVERFLOW : CN_VM_OK; break;
        case 6: werr = __builtin_mul_overflow(a, b, &want) ? CN_VM_E_OVERFLOW : CN_VM_OK; break;
        case 7:
        case 8:
            if (b == 0)
                werr = CN_VM_E_DIV_ZERO;
            else if (a == INT64_MIN && b == -1)
                werr = CN_VM_E_DIV_OVERFLOW;
            else
                want = op == 7 ? a / b : a % b;
            break;
        default: werr = oracle_muldiv(a, b, args[2], (unsigned)op, &want); break;
        }
        if (res.status != werr || (werr == CN_VM_OK && res.value != want)) {
            fprintf(stderr, "%s(%lld, %lld, %lld): VM %s %lld, oracle %s %lld\n", names[op],
                    (long long)a, (long long)b, (long long)args[2], cn_vm_errname(res.status),
                    (long long)res.value, cn_vm_errname(werr), (long long)want);
            fail();
        }
    }
    rig_free(&r);
    cn_vm_program_free(p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_call_checks),
        cmocka_unit_test(test_effects_and_limits),
        cmocka_unit_test(test_host_fault),
        cmocka_unit_test(test_overlay),
        cmocka_unit_test(test_random_arithmetic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
