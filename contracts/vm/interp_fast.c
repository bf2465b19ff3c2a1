/* The fast interpreter: direct dispatch by computed goto over the prepared code, with the hot
 * state (instruction pointer, registers, gas, memory) in locals, and arithmetic through
 * compiler builtins and __int128.
 *
 * It must agree with interp_ref.c on everything observable; tests and the differential fuzzer
 * (tests/fuzz/fuzz_vm_diff.c) hold it to that. Every handler ends in NEXT() (fall through to
 * the next instruction), JUMP() (continue at another one) or TRAP(). DISPATCH charges the gas
 * of the block an instruction starts (0 inside a block) before running it.
 *
 * Computed goto (`&&label`, `goto *p`) is a GNU C extension that gcc and clang accept in C11
 * mode; the build has no -Wpedantic.
 */
#include <string.h>

#include "contracts/vm/internal.h"
#include "contracts/vm/opcodes.h"

#if !defined(__SIZEOF_INT128__)
#error "the fast interpreter needs __int128 (gcc or clang on a 64-bit target)"
#endif

/* Whether the exact quotient q (remainder r != 0, divisor magnitude dm, remainder
 * magnitude rm) moves one step away from zero under `mode`; neg is the sign of a*b/d. */
static inline int round_away(unsigned mode, int neg, uint64_t rm, uint64_t dm, int q_odd) {
    switch (mode) {
    case CN_VM_ROUND_FLOOR: return neg;
    case CN_VM_ROUND_CEIL: return !neg;
    case CN_VM_ROUND_HALF_EVEN: return rm > dm - rm || (rm == dm - rm && q_odd);
    default: return 0;
    }
}

/* round(a * b / d, mode) exactly. When the product fits in 64 bits (the common case) one
 * 64-bit division does; otherwise the 128-bit product is divided once and the remainder
 * recovered by multiplication. */
static inline cn_vm_err muldiv(int64_t a, int64_t b, int64_t d, unsigned mode, int64_t *out) {
    if (CN_VM_UNLIKELY(d == 0))
        return CN_VM_E_DIV_ZERO;
    int64_t p64;
    uint64_t dm = d < 0 ? 0u - (uint64_t)d : (uint64_t)d;
    if (CN_VM_LIKELY(!__builtin_mul_overflow(a, b, &p64) && !(p64 == INT64_MIN && d == -1))) {
        int64_t q = p64 / d, r = p64 % d;
        if (r != 0) {
            int neg = (p64 < 0) != (d < 0);
            uint64_t rm = r < 0 ? 0u - (uint64_t)r : (uint64_t)r;
            if (round_away(mode, neg, rm, dm, q % 2 != 0))
                q += neg ? -1 : 1; /* |q| < 2^63 - 1 here: no overflow */
        }
        *out = q;
        return CN_VM_OK;
    }
    __int128 p = (__int128)a * b; /* |p| <= 2^126: p / -1 cannot overflow */
    __int128 q = p / d, r = p - q * d;
    if (r != 0) {
        int neg = (p < 0) != (d < 0);
        uint64_t rm = (uint64_t)(r < 0 ? -r : r); /* |r| < |d| <= 2^63 */
        if (round_away(mode, neg, rm, dm, q % 2 != 0))
            q += neg ? -1 : 1;
    }
    if (q > INT64_MAX || q < INT64_MIN)
        return CN_VM_E_OVERFLOW;
    *out = (int64_t)q;
    return CN_VM_OK;
}

static inline uint64_t load64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline void store64(uint8_t *p, uint64_t v) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    memcpy(p, &v, 8);
}

cn_vm_err cn_vm_exec_fast(cn_vm_machine *m, const cn_vm_call *call, cn_vm_result *res) {
#define CN_VM_X_LABEL(name, code, gas, flags, ...) [code] = &&op_##name,
    /* cppcheck-suppress assignBoolToPointer ; it does not know label addresses (&&label) */
    static const void *const labels[CN_VM_OP_SPACE] = {CN_VM_OPS(CN_VM_X_LABEL)};
#undef CN_VM_X_LABEL
    if (!res)
        return CN_VM_E_INVALID;
    cn_vm_err err = cn_vm_exec_begin(m, call);
    if (err) {
        memset(res, 0, sizeof *res);
        res->status = err;
        return err;
    }
    const cn_vm_program *p = call->prog;
    const cn_vm_insn *const code = p->code;
    const cn_vm_func *const funcs = p->funcs;
    const int64_t *const K = p->consts;
    uint8_t *const mem = m->mem;
    const uint32_t mem_size = p->mem_size;
    cn_vm_frame *const frames = m->frames;
    cn_vm_hostenv env = {call, mem, mem_size, 0};

    uint64_t gas = call->gas_limit;
    uint32_t func = call->entry, depth = 1;
    int64_t *R = m->regs;
    const cn_vm_insn *ip = code + funcs[func].start;
    int64_t value = 0;

#define A (ip->a)
#define RA R[ip->a]
#define RB R[ip->b]
#define RC R[ip->c]
#define DISPATCH()                                                                            \
    do {                                                                                      \
        if (CN_VM_UNLIKELY(ip->gas > gas))                                                    \
            goto out_of_gas;                                                                  \
        gas -= ip->gas;                                                                       \
        goto *labels[ip->op];                                                                 \
    } while (0)
#define NEXT()                                                                                \
    do {                                                                                      \
        ip++;                                                                                 \
        DISPATCH();                                                                           \
    } while (0)
#define JUMP(t)                                                                               \
    do {                                                                                      \
        ip = code + (t);                                                                      \
        DISPATCH();                                                                           \
    } while (0)
#define TRAP(e)                                                                               \
    do {                                                                                      \
        err = (e);                                                                            \
        goto out;                                                                             \
    } while (0)
#define CHECKED(expr)                                                                         \
    do {                                                                                      \
        cn_vm_err e_ = (expr);                                                                \
        if (CN_VM_UNLIKELY(e_ != CN_VM_OK))                                                   \
            TRAP(e_);                                                                         \
        NEXT();                                                                               \
    } while (0)
#define BRANCH(cond)                                                                          \
    do {                                                                                      \
        if (cond)                                                                             \
            JUMP(ip->target);                                                                 \
        NEXT();                                                                               \
    } while (0)

    DISPATCH();

op_MOV: RA = RB; NEXT();
op_LDI: RA = ip->imm; NEXT();
op_LDK: RA = K[ip->imm]; NEXT();
op_ADD: if (CN_VM_UNLIKELY(__builtin_add_overflow(RB, RC, &RA))) TRAP(CN_VM_E_OVERFLOW); NEXT();
op_SUB: if (CN_VM_UNLIKELY(__builtin_sub_overflow(RB, RC, &RA))) TRAP(CN_VM_E_OVERFLOW); NEXT();
op_MUL: if (CN_VM_UNLIKELY(__builtin_mul_overflow(RB, RC, &RA))) TRAP(CN_VM_E_OVERFLOW); NEXT();
op_ADDI: {
    int64_t imm = ip->imm;
    if (CN_VM_UNLIKELY(__builtin_add_overflow(RB, imm, &RA)))
        TRAP(CN_VM_E_OVERFLOW);
    NEXT();
}
op_DIV:
op_MOD: {
    int64_t b = RB, c = RC;
    if (CN_VM_UNLIKELY(c == 0))
        TRAP(CN_VM_E_DIV_ZERO);
    if (CN_VM_UNLIKELY(c == -1 && b == INT64_MIN))
        TRAP(CN_VM_E_DIV_OVERFLOW);
    RA = ip->op == CN_VM_OP_DIV ? b / c : b % c;
    NEXT();
}
op_NEG:
    if (CN_VM_UNLIKELY(RB == INT64_MIN))
        TRAP(CN_VM_E_OVERFLOW);
    RA = -RB;
    NEXT();
op_ABS:
    if (CN_VM_UNLIKELY(RB == INT64_MIN))
        TRAP(CN_VM_E_OVERFLOW);
    RA = RB < 0 ? -RB : RB;
    NEXT();
op_MIN: { int64_t b = RB, c = RC; RA = b < c ? b : c; NEXT(); }
op_MAX: { int64_t b = RB, c = RC; RA = b > c ? b : c; NEXT(); }
op_MULDIV:
    CHECKED(muldiv(RB, RC, R[(uint32_t)ip->imm & 0xffu], (uint32_t)ip->imm >> 8 & 0xffu, &RA));
op_AND: RA = RB & RC; NEXT();
op_OR: RA = RB | RC; NEXT();
op_XOR: RA = RB ^ RC; NEXT();
op_NOT: RA = ~RB; NEXT();
op_SHL: {
    uint64_t n = (uint64_t)RC;
    if (CN_VM_UNLIKELY(n > 63))
        TRAP(CN_VM_E_SHIFT);
    RA = cn_vm_s64((uint64_t)RB << n);
    NEXT();
}
op_SHR: {
    uint64_t n = (uint64_t)RC;
    if (CN_VM_UNLIKELY(n > 63))
        TRAP(CN_VM_E_SHIFT);
    RA = cn_vm_s64((uint64_t)RB >> n);
    NEXT();
}
op_SAR: {
    uint64_t n = (uint64_t)RC;
    if (CN_VM_UNLIKELY(n > 63))
        TRAP(CN_VM_E_SHIFT);
    uint64_t u = (uint64_t)RB;
    RA = cn_vm_s64(RB < 0 ? ~(~u >> n) : u >> n);
    NEXT();
}
op_SHLI: RA = cn_vm_s64((uint64_t)RB << ip->imm); NEXT();
op_SHRI: RA = cn_vm_s64((uint64_t)RB >> ip->imm); NEXT();
op_SARI: {
    uint64_t u = (uint64_t)RB;
    RA = cn_vm_s64(RB < 0 ? ~(~u >> ip->imm) : u >> ip->imm);
    NEXT();
}
op_EQ: RA = RB == RC; NEXT();
op_NE: RA = RB != RC; NEXT();
op_LT: RA = RB < RC; NEXT();
op_LE: RA = RB <= RC; NEXT();
op_GT: RA = RB > RC; NEXT();
op_GE: RA = RB >= RC; NEXT();
op_JMP: JUMP(ip->target);
op_JZ: BRANCH(RA == 0);
op_JNZ: BRANCH(RA != 0);
op_JEQ: BRANCH(RA == RB);
op_JNE: BRANCH(RA != RB);
op_JLT: BRANCH(RA < RB);
op_JLE: BRANCH(RA <= RB);
op_JGT: BRANCH(RA > RB);
op_JGE: BRANCH(RA >= RB);
op_CALL: {
    if (CN_VM_UNLIKELY(depth >= CN_VM_MAX_DEPTH))
        TRAP(CN_VM_E_CALL_DEPTH);
    const cn_vm_func *callee = &funcs[ip->imm];
    int64_t *nr = R + funcs[func].nregs;
    memset(nr, 0, callee->nregs * sizeof *nr);
    memcpy(nr, R + ip->b, ip->c * sizeof *nr);
    frames[depth - 1] = (cn_vm_frame){ip + 1, R, func, A};
    depth++;
    R = nr;
    func = (uint32_t)ip->imm;
    JUMP(callee->start);
}
op_RET: {
    int64_t v = RA;
    if (depth == 1) {
        value = v;
        err = CN_VM_OK;
        goto out;
    }
    depth--;
    const cn_vm_frame *fr = &frames[depth - 1];
    R = fr->regs;
    func = fr->func;
    R[fr->dst] = v;
    ip = fr->ret;
    DISPATCH();
}
op_REVERT:
    value = RA;
    TRAP(CN_VM_E_REVERT);
op_LD8: {
    int64_t ea = cn_vm_addr(RB, ip->imm, 1, mem_size);
    if (CN_VM_UNLIKELY(ea < 0))
        TRAP(CN_VM_E_MEM_BOUNDS);
    RA = mem[ea];
    NEXT();
}
op_LD16: {
    int64_t ea = cn_vm_addr(RB, ip->imm, 2, mem_size);
    if (CN_VM_UNLIKELY(ea < 0))
        TRAP(CN_VM_E_MEM_BOUNDS);
    RA = (int64_t)mem[ea] << 8 | mem[ea + 1];
    NEXT();
}
op_LD32: {
    int64_t ea = cn_vm_addr(RB, ip->imm, 4, mem_size);
    if (CN_VM_UNLIKELY(ea < 0))
        TRAP(CN_VM_E_MEM_BOUNDS);
    RA = (int64_t)cn_vm_load_be(mem + ea, 4);
    NEXT();
}
op_LD64: {
    int64_t ea = cn_vm_addr(RB, ip->imm, 8, mem_size);
    if (CN_VM_UNLIKELY(ea < 0))
        TRAP(CN_VM_E_MEM_BOUNDS);
    RA = cn_vm_s64(load64(mem + ea));
    NEXT();
}
op_ST8: {
    int64_t ea = cn_vm_addr(RB, ip->imm, 1, mem_size);
    if (CN_VM_UNLIKELY(ea < 0))
        TRAP(CN_VM_E_MEM_BOUNDS);
    mem[ea] = (uint8_t)RA;
    NEXT();
}
op_ST16: {
    int64_t ea = cn_vm_addr(RB, ip->imm, 2, mem_size);
    if (CN_VM_UNLIKELY(ea < 0))
        TRAP(CN_VM_E_MEM_BOUNDS);
    cn_vm_store_be(mem + ea, 2, (uint64_t)RA);
    NEXT();
}
op_ST32: {
    int64_t ea = cn_vm_addr(RB, ip->imm, 4, mem_size);
    if (CN_VM_UNLIKELY(ea < 0))
        TRAP(CN_VM_E_MEM_BOUNDS);
    cn_vm_store_be(mem + ea, 4, (uint64_t)RA);
    NEXT();
}
op_ST64: {
    int64_t ea = cn_vm_addr(RB, ip->imm, 8, mem_size);
    if (CN_VM_UNLIKELY(ea < 0))
        TRAP(CN_VM_E_MEM_BOUNDS);
    store64(mem + ea, (uint64_t)RA);
    NEXT();
}
op_HOST: {
    int64_t ret = 0;
    env.gas_left = gas;
    err = cn_vm_host_dispatch(&env, (uint32_t)ip->imm, R + ip->b, &ret);
    gas = env.gas_left;
    if (CN_VM_UNLIKELY(err != CN_VM_OK))
        goto out;
    RA = ret;
    NEXT();
}

out_of_gas:
    err = CN_VM_E_OUT_OF_GAS;
out:
    return cn_vm_exec_end(call, res, err, value, gas, (uint32_t)(ip - code));
#undef A
#undef RA
#undef RB
#undef RC
#undef DISPATCH
#undef NEXT
#undef JUMP
#undef TRAP
#undef CHECKED
#undef BRANCH
}
