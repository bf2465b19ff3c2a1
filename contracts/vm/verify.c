/* The verifier: every rule a program must satisfy before it may run (docs/vm.md §4).
 *
 * cn_vm_load runs once at deploy. It decodes the container (container.c checks the byte
 * layout and limits), then checks, each in exactly one place and in this order:
 *   1. function records: tiling of the code, register and parameter counts, reserved byte;
 *   2. exports: target function, parameter count, unique names;
 *   3. every instruction: known opcode, reserved fields zero, and each operand slot by kind
 *      (register < nregs, constant in pool, jump inside the function and not to itself,
 *      call target and arity, host id, allow-list and arity, shift 0..63, rounding mode);
 *   4. the last instruction of every function cannot fall through;
 *   5. the call graph has no cycle (so call depth is bounded and recursion impossible).
 * It then prepares the program: jump targets made absolute and the gas of every basic block
 * recorded at the block's first instruction. The interpreters trust all of the above and
 * check at run time only what depends on values.
 */
#include <stdlib.h>
#include <string.h>

#include "contracts/vm/container.h"
#include "contracts/vm/internal.h"
#include "contracts/vm/opcodes.h"

#define NO_WHERE UINT32_MAX

/* Checks the function records (rule 1). */
static cn_vm_err check_funcs(const cn_vm_container *c, cn_vm_where *w) {
    uint32_t next = 0;
    for (uint32_t i = 0; i < c->nfuncs; i++) {
        const cn_vm_cfunc *f = &c->funcs[i];
        w->func = i;
        if (f->start != next || f->len == 0 || f->len > c->ncode - next)
            return CN_VM_E_FUNC_LAYOUT;
        next += f->len;
        if (f->nregs == 0 || f->nregs > CN_VM_MAX_REGS || f->nparams > f->nregs)
            return CN_VM_E_FUNC_REGS;
        if (f->reserved != 0)
            return CN_VM_E_FUNC_RESERVED;
    }
    if (next != c->ncode)
        return CN_VM_E_FUNC_LAYOUT;
    w->func = NO_WHERE;
    return CN_VM_OK;
}

/* Checks the export table (rule 2). Names were checked for their characters by the decoder. */
static cn_vm_err check_exports(const cn_vm_container *c) {
    for (uint32_t i = 0; i < c->nexports; i++) {
        const cn_vm_cexport *e = &c->exports[i];
        if (e->func >= c->nfuncs)
            return CN_VM_E_EXPORT_FUNC;
        if (c->funcs[e->func].nparams > CN_VM_MAX_ARGS)
            return CN_VM_E_EXPORT_ARITY;
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(c->exports[j].name, e->name) == 0)
                return CN_VM_E_EXPORT_DUP;
    }
    return CN_VM_OK;
}

/* Value of an operand field of instruction word `w`. */
static uint32_t field_value(uint64_t w, unsigned field) {
    switch (field) {
    case CN_VM_F_A: return cn_vm_ins_a(w);
    case CN_VM_F_B: return cn_vm_ins_b(w);
    case CN_VM_F_C: return cn_vm_ins_c(w);
    case CN_VM_F_IMM: return cn_vm_ins_uimm(w);
    case CN_VM_F_IMM_LO: return cn_vm_ins_uimm(w) & 0xffu;
    case CN_VM_F_IMM_HI: return cn_vm_ins_uimm(w) >> 8 & 0xffu;
    default: return 0;
    }
}

/* Checks that every field no operand slot names is zero. */
static cn_vm_err check_reserved(uint64_t w, const cn_vm_opinfo *oi) {
    unsigned used = 0;
    for (unsigned s = 0; s < oi->nslots; s++)
        used |= 1u << CN_VM_SLOT_FIELD(oi->slots[s]);
    if ((!(used & 1u << CN_VM_F_A) && cn_vm_ins_a(w)) ||
        (!(used & 1u << CN_VM_F_B) && cn_vm_ins_b(w)) ||
        (!(used & 1u << CN_VM_F_C) && cn_vm_ins_c(w)))
        return CN_VM_E_RESERVED;
    if (!(used & 1u << CN_VM_F_IMM)) {
        uint32_t mask = 0;
        if (used & 1u << CN_VM_F_IMM_LO)
            mask |= 0xffu;
        if (used & 1u << CN_VM_F_IMM_HI)
            mask |= 0xff00u;
        if (cn_vm_ins_uimm(w) & ~mask)
            return CN_VM_E_RESERVED;
    }
    return CN_VM_OK;
}

/* Checks one instruction at global index pc of function fi (rule 3). */
static cn_vm_err check_insn(const cn_vm_container *c, uint32_t fi, uint32_t pc,
                            uint32_t host_allow) {
    uint64_t w = c->code[pc];
    const cn_vm_cfunc *f = &c->funcs[fi];
    const cn_vm_opinfo *oi = &cn_vm_ops[cn_vm_ins_op(w)];
    if (!oi->name)
        return CN_VM_E_OPCODE;
    cn_vm_err err = check_reserved(w, oi);
    if (err)
        return err;
    for (unsigned s = 0; s < oi->nslots; s++) {
        uint32_t v = field_value(w, CN_VM_SLOT_FIELD(oi->slots[s]));
        switch (CN_VM_SLOT_KIND(oi->slots[s])) {
        case CN_VM_K_REGW:
        case CN_VM_K_REG:
            if (v >= f->nregs)
                return CN_VM_E_REGISTER;
            break;
        case CN_VM_K_INT:
            break;
        case CN_VM_K_CONST:
            if (v >= c->nconsts)
                return CN_VM_E_CONST;
            break;
        case CN_VM_K_JUMP: {
            int64_t target = (int64_t)pc + 1 + cn_vm_ins_imm(w);
            if (target == (int64_t)pc)
                return CN_VM_E_JUMP_SELF;
            if (target < (int64_t)f->start || target >= (int64_t)f->start + f->len)
                return CN_VM_E_JUMP_RANGE;
            break;
        }
        case CN_VM_K_FUNC:
            if (v >= c->nfuncs)
                return CN_VM_E_CALL_TARGET;
            break;
        case CN_VM_K_HOST:
            if (v >= CN_VM_HOST_COUNT)
                return CN_VM_E_HOST_ID;
            if (!(host_allow & 1u << v))
                return CN_VM_E_HOST_FORBIDDEN;
            break;
        case CN_VM_K_COUNT: {
            /* The FUNC or HOST slot before this one has already been checked. */
            uint32_t id = cn_vm_ins_uimm(w), base = cn_vm_ins_b(w);
            if (oi->flags & CN_VM_FL_CALL) {
                if (v != c->funcs[id].nparams)
                    return CN_VM_E_CALL_ARITY;
            } else if (v != cn_vm_host_calls[id].arity) {
                return CN_VM_E_HOST_ARITY;
            }
            if (v == 0 && base != 0)
                return CN_VM_E_RESERVED;
            if (base + v > f->nregs)
                return CN_VM_E_REGISTER;
            break;
        }
        case CN_VM_K_SHIFT:
            if (v > 63)
                return CN_VM_E_SHIFT_IMM;
            break;
        case CN_VM_K_ROUND:
            if (v >= CN_VM_ROUND_COUNT)
                return CN_VM_E_ROUND_MODE;
            break;
        default:
            return CN_VM_E_OPCODE; /* a table entry with an unknown kind: cannot happen */
        }
    }
    return CN_VM_OK;
}

/* Checks that the call graph is acyclic (rule 5) by Kahn's algorithm: repeatedly remove
 * functions nobody left calls; if some remain, they sit on or behind a cycle. */
static cn_vm_err check_acyclic(const cn_vm_container *c, cn_vm_where *w) {
    uint32_t *indeg = calloc(c->nfuncs, sizeof *indeg);
    uint32_t *queue = calloc(c->nfuncs, sizeof *queue);
    cn_vm_err err = CN_VM_OK;
    if (!indeg || !queue) {
        err = CN_VM_E_NOMEM;
        goto out;
    }
    for (uint32_t pc = 0; pc < c->ncode; pc++)
        if (cn_vm_ins_op(c->code[pc]) == CN_VM_OP_CALL)
            indeg[cn_vm_ins_uimm(c->code[pc])]++;
    uint32_t head = 0, tail = 0;
    for (uint32_t i = 0; i < c->nfuncs; i++)
        if (indeg[i] == 0)
            queue[tail++] = i;
    while (head < tail) {
        const cn_vm_cfunc *f = &c->funcs[queue[head++]];
        for (uint32_t pc = f->start; pc < f->start + f->len; pc++)
            if (cn_vm_ins_op(c->code[pc]) == CN_VM_OP_CALL &&
                --indeg[cn_vm_ins_uimm(c->code[pc])] == 0)
                queue[tail++] = cn_vm_ins_uimm(c->code[pc]);
    }
    if (tail < c->nfuncs) {
        for (uint32_t i = 0; i < c->nfuncs; i++)
            if (indeg[i]) {
                w->func = i;
                break;
            }
        err = CN_VM_E_RECURSION;
    }
out:
    free(indeg);
    free(queue);
    return err;
}

/* Builds the prepared program from a verified container: decoded instructions, absolute
 * jump targets, and the gas of each basic block at its leader. */
static cn_vm_err prepare(const cn_vm_container *c, cn_vm_program *p) {
    p->ncode = c->ncode;
    p->nfuncs = c->nfuncs;
    p->nconsts = c->nconsts;
    p->ndata = c->ndata;
    p->mem_size = c->mem_size;
    p->nexports = c->nexports;
    p->code = calloc(c->ncode, sizeof *p->code);
    p->funcs = calloc(c->nfuncs, sizeof *p->funcs);
    p->consts = calloc(c->nconsts ? c->nconsts : 1, sizeof *p->consts);
    p->data = calloc(c->ndata ? c->ndata : 1, 1);
    p->exports = calloc(c->nexports, sizeof *p->exports);
    uint8_t *leader = calloc(c->ncode, 1);
    if (!p->code || !p->funcs || !p->consts || !p->data || !p->exports || !leader) {
        free(leader);
        return CN_VM_E_NOMEM;
    }
    if (c->nconsts)
        memcpy(p->consts, c->consts, c->nconsts * sizeof *p->consts);
    if (c->ndata)
        memcpy(p->data, c->data, c->ndata);
    for (uint32_t i = 0; i < c->nexports; i++) {
        memcpy(p->exports[i].name, c->exports[i].name, sizeof p->exports[i].name);
        p->exports[i].func = c->exports[i].func;
    }
    for (uint32_t i = 0; i < c->nfuncs; i++) {
        const cn_vm_cfunc *f = &c->funcs[i];
        p->funcs[i] = (cn_vm_func){f->start, f->len, f->nregs, f->nparams};
        leader[f->start] = 1;
        for (uint32_t pc = f->start; pc < f->start + f->len; pc++) {
            uint64_t w = c->code[pc];
            cn_vm_insn *in = &p->code[pc];
            uint8_t fl = cn_vm_ops[cn_vm_ins_op(w)].flags;
            in->op = cn_vm_ins_op(w);
            in->a = cn_vm_ins_a(w);
            in->b = cn_vm_ins_b(w);
            in->c = cn_vm_ins_c(w);
            in->imm = cn_vm_ins_imm(w);
            if (fl & (CN_VM_FL_BRANCH | CN_VM_FL_JUMP)) {
                in->target = (uint32_t)((int64_t)pc + 1 + in->imm);
                leader[in->target] = 1;
            }
            if ((fl & (CN_VM_FL_BRANCH | CN_VM_FL_JUMP | CN_VM_FL_STOP | CN_VM_FL_CALL)) &&
                pc + 1 < f->start + f->len)
                leader[pc + 1] = 1;
        }
    }
    uint32_t block = 0;
    for (uint32_t pc = 0; pc < c->ncode; pc++) {
        if (leader[pc])
            block = pc;
        p->code[block].gas += cn_vm_ops[p->code[pc].op].gas;
    }
    free(leader);
    return CN_VM_OK;
}

cn_vm_err cn_vm_load(const uint8_t *data, size_t len, uint32_t host_allow, cn_vm_program **out,
                     cn_vm_where *where) {
    cn_vm_where w = {NO_WHERE, NO_WHERE};
    cn_vm_container c;
    cn_vm_program *p = NULL;
    cn_vm_err err;
    if (!out)
        return CN_VM_E_INVALID;
    *out = NULL;
    err = cn_vm_container_decode(data, len, &c);
    if (!err)
        err = check_funcs(&c, &w);
    if (!err)
        err = check_exports(&c);
    for (uint32_t fi = 0; !err && fi < c.nfuncs; fi++) {
        const cn_vm_cfunc *f = &c.funcs[fi];
        w.func = fi;
        for (uint32_t pc = f->start; !err && pc < f->start + f->len; pc++) {
            w.pc = pc;
            err = check_insn(&c, fi, pc, host_allow);
        }
        if (!err) {
            w.pc = f->start + f->len - 1;
            if (!(cn_vm_ops[cn_vm_ins_op(c.code[w.pc])].flags & (CN_VM_FL_JUMP | CN_VM_FL_STOP)))
                err = CN_VM_E_TERMINATOR;
        }
    }
    if (!err) {
        w = (cn_vm_where){NO_WHERE, NO_WHERE};
        err = check_acyclic(&c, &w);
    }
    if (!err) {
        p = calloc(1, sizeof *p);
        err = p ? prepare(&c, p) : CN_VM_E_NOMEM;
    }
    cn_vm_container_free(&c);
    if (where)
        *where = err ? w : (cn_vm_where){NO_WHERE, NO_WHERE};
    if (err) {
        cn_vm_program_free(p);
        return err;
    }
    *out = p;
    return CN_VM_OK;
}

void cn_vm_program_free(cn_vm_program *p) {
    if (!p)
        return;
    free(p->code);
    free(p->funcs);
    free(p->consts);
    free(p->data);
    free(p->exports);
    free(p);
}

int32_t cn_vm_program_export(const cn_vm_program *p, const char *name) {
    for (uint32_t i = 0; i < p->nexports; i++)
        if (strcmp(p->exports[i].name, name) == 0)
            return (int32_t)p->exports[i].func;
    return -1;
}

uint32_t cn_vm_program_params(const cn_vm_program *p, uint32_t func) {
    return func < p->nfuncs ? p->funcs[func].nparams : 0;
}

uint32_t cn_vm_program_funcs(const cn_vm_program *p) { return p->nfuncs; }
