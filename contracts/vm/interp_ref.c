/* The reference interpreter: one switch over the opcode, state in a struct, arithmetic from
 * arith_ref.c. It is written to be obviously right, not fast; the fast interpreter must agree
 * with it on status, value, gas and effects for every verified program.
 *
 * Gas: an instruction with a non-zero `gas` starts a basic block; that block's whole cost is
 * charged when it is entered, by a jump, a fall-through, a call or a return.
 */
#include <string.h>

#include "contracts/vm/arith_ref.h"
#include "contracts/vm/internal.h"
#include "contracts/vm/opcodes.h"

/* Interpreter state. */
typedef struct {
    cn_vm_machine *m;
    const cn_vm_program *p;
    cn_vm_hostenv env;  /* holds gas_left */
    int64_t *regs;      /* current frame */
    uint32_t func;      /* current function */
    uint32_t depth;     /* frames in use, the current one included */
    uint32_t pc;
} ref_state;

/* Shifts: logical and arithmetic right shift defined on the bit pattern. */
static int64_t shl(int64_t v, int64_t n) { return cn_vm_s64((uint64_t)v << n); }
static int64_t shr(int64_t v, int64_t n) { return cn_vm_s64((uint64_t)v >> n); }
static int64_t sar(int64_t v, int64_t n) {
    uint64_t u = (uint64_t)v;
    return cn_vm_s64(v < 0 ? ~(~u >> n) : u >> n);
}

static uint32_t mem_width(uint8_t op) {
    switch (op) {
    case CN_VM_OP_LD8: case CN_VM_OP_ST8: return 1;
    case CN_VM_OP_LD16: case CN_VM_OP_ST16: return 2;
    case CN_VM_OP_LD32: case CN_VM_OP_ST32: return 4;
    default: return 8;
    }
}

/* Executes one instruction. Returns CN_VM_OK to continue, a trap, or, for the final RET,
 * sets *done and *value. */
static cn_vm_err step(ref_state *s, const cn_vm_insn *in, int *done, int64_t *value) {
    int64_t *R = s->regs;
    int64_t b = R[in->b], c = R[in->c];
    uint32_t next = s->pc + 1;
    cn_vm_err err = CN_VM_OK;
    switch ((cn_vm_opcode)in->op) {
    case CN_VM_OP_MOV: R[in->a] = b; break;
    case CN_VM_OP_LDI: R[in->a] = in->imm; break;
    case CN_VM_OP_LDK: R[in->a] = s->p->consts[in->imm]; break;
    case CN_VM_OP_ADD: err = cn_vm_ref_add(b, c, &R[in->a]); break;
    case CN_VM_OP_SUB: err = cn_vm_ref_sub(b, c, &R[in->a]); break;
    case CN_VM_OP_MUL: err = cn_vm_ref_mul(b, c, &R[in->a]); break;
    case CN_VM_OP_DIV:
    case CN_VM_OP_MOD:
        if (c == 0)
            err = CN_VM_E_DIV_ZERO;
        else if (b == INT64_MIN && c == -1)
            err = CN_VM_E_DIV_OVERFLOW;
        else
            R[in->a] = in->op == CN_VM_OP_DIV ? b / c : b % c;
        break;
    case CN_VM_OP_ADDI: err = cn_vm_ref_add(b, in->imm, &R[in->a]); break;
    case CN_VM_OP_NEG: err = cn_vm_ref_sub(0, b, &R[in->a]); break;
    case CN_VM_OP_ABS:
        if (b < 0)
            err = cn_vm_ref_sub(0, b, &R[in->a]);
        else
            R[in->a] = b;
        break;
    case CN_VM_OP_MIN: R[in->a] = b < c ? b : c; break;
    case CN_VM_OP_MAX: R[in->a] = b > c ? b : c; break;
    case CN_VM_OP_MULDIV:
        err = cn_vm_ref_muldiv(b, c, R[(uint32_t)in->imm & 0xffu], (uint32_t)in->imm >> 8 & 0xffu,
                               &R[in->a]);
        break;
    case CN_VM_OP_AND: R[in->a] = cn_vm_s64((uint64_t)b & (uint64_t)c); break;
    case CN_VM_OP_OR: R[in->a] = cn_vm_s64((uint64_t)b | (uint64_t)c); break;
    case CN_VM_OP_XOR: R[in->a] = cn_vm_s64((uint64_t)b ^ (uint64_t)c); break;
    case CN_VM_OP_NOT: R[in->a] = cn_vm_s64(~(uint64_t)b); break;
    case CN_VM_OP_SHL:
    case CN_VM_OP_SHR:
    case CN_VM_OP_SAR:
        if (c < 0 || c > 63)
            err = CN_VM_E_SHIFT;
        else
            R[in->a] = in->op == CN_VM_OP_SHL   ? shl(b, c)
                       : in->op == CN_VM_OP_SHR ? shr(b, c)
                                                : sar(b, c);
        break;
    case CN_VM_OP_SHLI: R[in->a] = shl(b, in->imm); break;
    case CN_VM_OP_SHRI: R[in->a] = shr(b, in->imm); break;
    case CN_VM_OP_SARI: R[in->a] = sar(b, in->imm); break;
    case CN_VM_OP_EQ: R[in->a] = b == c; break;
    case CN_VM_OP_NE: R[in->a] = b != c; break;
    case CN_VM_OP_LT: R[in->a] = b < c; break;
    case CN_VM_OP_LE: R[in->a] = b <= c; break;
    case CN_VM_OP_GT: R[in->a] = b > c; break;
    case CN_VM_OP_GE: R[in->a] = b >= c; break;
    case CN_VM_OP_JMP: next = in->target; break;
    case CN_VM_OP_JZ: if (R[in->a] == 0) next = in->target; break;
    case CN_VM_OP_JNZ: if (R[in->a] != 0) next = in->target; break;
    case CN_VM_OP_JEQ: if (R[in->a] == b) next = in->target; break;
    case CN_VM_OP_JNE: if (R[in->a] != b) next = in->target; break;
    case CN_VM_OP_JLT: if (R[in->a] < b) next = in->target; break;
    case CN_VM_OP_JLE: if (R[in->a] <= b) next = in->target; break;
    case CN_VM_OP_JGT: if (R[in->a] > b) next = in->target; break;
    case CN_VM_OP_JGE: if (R[in->a] >= b) next = in->target; break;
    case CN_VM_OP_CALL: {
        if (s->depth >= CN_VM_MAX_DEPTH) {
            err = CN_VM_E_CALL_DEPTH;
            break;
        }
        const cn_vm_func *callee = &s->p->funcs[in->imm];
        int64_t *nregs = R + s->p->funcs[s->func].nregs;
        memset(nregs, 0, callee->nregs * sizeof *nregs);
        for (uint32_t i = 0; i < in->c; i++)
            nregs[i] = R[in->b + i];
        s->m->frames[s->depth - 1] = (cn_vm_frame){s->p->code + next, R, s->func, in->a};
        s->depth++;
        s->regs = nregs;
        s->func = (uint32_t)in->imm;
        next = callee->start;
        break;
    }
    case CN_VM_OP_RET: {
        int64_t v = R[in->a];
        if (s->depth == 1) {
            *done = 1;
            *value = v;
            break;
        }
        s->depth--;
        const cn_vm_frame *fr = &s->m->frames[s->depth - 1];
        s->regs = fr->regs;
        s->func = fr->func;
        s->regs[fr->dst] = v;
        next = (uint32_t)(fr->ret - s->p->code);
        break;
    }
    case CN_VM_OP_REVERT:
        *value = R[in->a];
        err = CN_VM_E_REVERT;
        break;
    case CN_VM_OP_LD8:
    case CN_VM_OP_LD16:
    case CN_VM_OP_LD32:
    case CN_VM_OP_LD64: {
        uint32_t w = mem_width(in->op);
        int64_t ea = cn_vm_addr(b, in->imm, w, s->p->mem_size);
        if (ea < 0)
            err = CN_VM_E_MEM_BOUNDS;
        else
            R[in->a] = cn_vm_s64(cn_vm_load_be(s->m->mem + ea, w));
        break;
    }
    case CN_VM_OP_ST8:
    case CN_VM_OP_ST16:
    case CN_VM_OP_ST32:
    case CN_VM_OP_ST64: {
        uint32_t w = mem_width(in->op);
        int64_t ea = cn_vm_addr(b, in->imm, w, s->p->mem_size);
        if (ea < 0)
            err = CN_VM_E_MEM_BOUNDS;
        else
            cn_vm_store_be(s->m->mem + ea, w, (uint64_t)R[in->a]);
        break;
    }
    case CN_VM_OP_HOST: {
        int64_t ret = 0;
        err = cn_vm_host_dispatch(&s->env, (uint32_t)in->imm, R + in->b, &ret);
        if (!err)
            R[in->a] = ret;
        break;
    }
    default:
        err = CN_VM_E_OPCODE; /* unreachable: the verifier admits only listed opcodes */
        break;
    }
    if (!err && !*done)
        s->pc = next;
    return err;
}

cn_vm_err cn_vm_exec_ref(cn_vm_machine *m, const cn_vm_call *call, cn_vm_result *res) {
    if (!res)
        return CN_VM_E_INVALID;
    cn_vm_err err = cn_vm_exec_begin(m, call);
    if (err) {
        memset(res, 0, sizeof *res);
        res->status = err;
        return err;
    }
    const cn_vm_program *p = call->prog;
    ref_state s = {m, p, {call, m->mem, p->mem_size, call->gas_limit}, m->regs, call->entry, 1,
                   p->funcs[call->entry].start};
    int done = 0;
    int64_t value = 0;
    while (!err && !done) {
        const cn_vm_insn *in = &p->code[s.pc];
        if (in->gas) {
            if (in->gas > s.env.gas_left) {
                err = CN_VM_E_OUT_OF_GAS;
                break;
            }
            s.env.gas_left -= in->gas;
        }
        err = step(&s, in, &done, &value);
    }
    return cn_vm_exec_end(call, res, err, value, s.env.gas_left, s.pc);
}
