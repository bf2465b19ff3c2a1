/* Internals shared by the verifier, the two interpreters and the host-call layer.
 *
 * The prepared program keeps each instruction decoded into a 16-byte record with the gas of
 * the basic block it starts (0 if it starts none) and, for jumps, the absolute target. Both
 * interpreters run this one form, so they differ only in dispatch and in how they compute
 * arithmetic (the reference one uses slow portable code, the fast one compiler builtins).
 * Not part of the public interface.
 */
#ifndef CLEARNODE_CONTRACTS_VM_INTERNAL_H
#define CLEARNODE_CONTRACTS_VM_INTERNAL_H

#include <stdint.h>

#include "contracts/vm/host.h"
#include "contracts/vm/overlay.h"
#include "contracts/vm/vm.h"

#if defined(__GNUC__)
#define CN_VM_LIKELY(x) __builtin_expect(!!(x), 1)
#define CN_VM_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define CN_VM_LIKELY(x) (x)
#define CN_VM_UNLIKELY(x) (x)
#endif

/* One prepared instruction. */
typedef struct {
    uint8_t op, a, b, c;
    int32_t imm;
    uint32_t gas;    /* gas of the basic block starting here; 0 inside a block */
    uint32_t target; /* jumps: absolute index of the target instruction */
} cn_vm_insn;

typedef struct {
    uint32_t start;  /* first instruction */
    uint32_t len;    /* instructions */
    uint16_t nregs;  /* 1..CN_VM_MAX_REGS */
    uint8_t nparams; /* <= nregs */
} cn_vm_func;

typedef struct {
    char name[CN_VM_MAX_NAME + 1];
    uint32_t func;
} cn_vm_export;

struct cn_vm_program {
    cn_vm_insn *code;
    uint32_t ncode;
    cn_vm_func *funcs;
    uint32_t nfuncs;
    int64_t *consts;
    uint32_t nconsts;
    uint8_t *data;
    uint32_t ndata;
    uint32_t mem_size;
    cn_vm_export *exports;
    uint32_t nexports;
};

/* A suspended caller. */
typedef struct {
    const cn_vm_insn *ret; /* instruction to resume at */
    int64_t *regs;         /* caller's registers */
    uint32_t func;         /* caller's function */
    uint8_t dst;           /* caller register receiving the result */
} cn_vm_frame;

struct cn_vm_machine {
    int64_t regs[CN_VM_MAX_DEPTH * CN_VM_MAX_REGS];
    uint8_t mem[CN_VM_MAX_MEM];
    cn_vm_frame frames[CN_VM_MAX_DEPTH];
};

/* What a host call needs to see of the running call. */
typedef struct {
    const cn_vm_call *call;
    uint8_t *mem;
    uint32_t mem_size;
    uint64_t gas_left;
} cn_vm_hostenv;

/* Runs host call `id` (verified: known, allowed, right arity) with its arguments; charges its
 * dynamic gas from env->gas_left before any effect. On CN_VM_OK, *ret is the result. */
cn_vm_err cn_vm_host_dispatch(cn_vm_hostenv *env, uint32_t id, const int64_t *args, int64_t *ret);

/* Checks the call description and sets up the entry frame: memory zeroed then loaded with the
 * data section, entry registers zeroed then loaded with the arguments. */
cn_vm_err cn_vm_exec_begin(cn_vm_machine *m, const cn_vm_call *call);
/* Fills *res from the final status, clears the overlay on failure, returns the status. */
cn_vm_err cn_vm_exec_end(const cn_vm_call *call, cn_vm_result *res, cn_vm_err status,
                         int64_t value, uint64_t gas_left, uint32_t pc);

/* Two's-complement conversion without implementation-defined behaviour. */
static inline int64_t cn_vm_s64(uint64_t u) {
    return u <= (uint64_t)INT64_MAX ? (int64_t)u : -(int64_t)(~u) - 1;
}

/* Effective address of an access of `width` bytes at base + off, or -1 if any byte of it
 * falls outside [0, size). Computed mod 2^64, which is exact for in-range results. */
static inline int64_t cn_vm_addr(int64_t base, int32_t off, uint32_t width, uint32_t size) {
    uint64_t ea = (uint64_t)base + (uint64_t)(int64_t)off;
    if (size < width || ea > (uint64_t)(size - width))
        return -1;
    return (int64_t)ea;
}

static inline uint64_t cn_vm_load_be(const uint8_t *p, uint32_t width) {
    uint64_t v = 0;
    for (uint32_t i = 0; i < width; i++)
        v = v << 8 | p[i];
    return v;
}

static inline void cn_vm_store_be(uint8_t *p, uint32_t width, uint64_t v) {
    for (uint32_t i = width; i-- > 0;) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

#endif
