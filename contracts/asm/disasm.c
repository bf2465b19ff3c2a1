/* The disassembler (asm.h): container bytes back to source that reassembles to the same
 * container (for containers the assembler produced: constants in first-use order).
 *
 * Functions are named by their export, or f.<index> (which no export can be); jump targets get labels L<pc>; data is
 * printed as one hex item. Operands are printed by the opcode table's slots, exactly as the
 * assembler parses them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contracts/asm/asm.h"
#include "contracts/vm/container.h"
#include "contracts/vm/host.h"
#include "contracts/vm/opcodes.h"

/* Name of function i: its first export, else f.<i>. */
static void func_name(const cn_vm_container *c, uint32_t i, char *buf, size_t cap) {
    for (uint32_t e = 0; e < c->nexports; e++)
        if (c->exports[e].func == i) {
            snprintf(buf, cap, "%s", c->exports[e].name);
            return;
        }
    snprintf(buf, cap, "f.%u", i);
}

static int is_exported(const cn_vm_container *c, uint32_t i) {
    for (uint32_t e = 0; e < c->nexports; e++)
        if (c->exports[e].func == i)
            return 1;
    return 0;
}

/* Prints one operand of instruction `w` at global index pc. */
static void print_operand(FILE *out, const cn_vm_container *c, uint64_t w, uint32_t pc,
                          uint8_t slot) {
    uint32_t imm = cn_vm_ins_uimm(w);
    char name[48];
    switch (CN_VM_SLOT_KIND(slot)) {
    case CN_VM_K_REGW:
    case CN_VM_K_REG: {
        unsigned f = CN_VM_SLOT_FIELD(slot);
        unsigned r = f == CN_VM_F_A ? cn_vm_ins_a(w) : f == CN_VM_F_B ? cn_vm_ins_b(w)
                   : f == CN_VM_F_C ? cn_vm_ins_c(w) : (imm & 0xffu);
        fprintf(out, "r%u", r);
        break;
    }
    case CN_VM_K_INT:
    case CN_VM_K_SHIFT:
        fprintf(out, "%d", cn_vm_ins_imm(w));
        break;
    case CN_VM_K_CONST:
        if (imm < c->nconsts)
            fprintf(out, "%lld", (long long)c->consts[imm]);
        else
            fprintf(out, "?const%u", imm);
        break;
    case CN_VM_K_JUMP:
        fprintf(out, "L%lld", (long long)pc + 1 + cn_vm_ins_imm(w));
        break;
    case CN_VM_K_FUNC:
        if (imm < c->nfuncs) {
            func_name(c, imm, name, sizeof name);
            fprintf(out, "%s", name);
        } else {
            fprintf(out, "?func%u", imm);
        }
        break;
    case CN_VM_K_HOST:
        if (imm < CN_VM_HOST_COUNT)
            fprintf(out, "%s", cn_vm_host_calls[imm].name);
        else
            fprintf(out, "?host%u", imm);
        break;
    case CN_VM_K_COUNT:
        fprintf(out, "%u", cn_vm_ins_c(w));
        break;
    case CN_VM_K_ROUND: {
        const char *m = cn_vm_round_name(imm >> 8 & 0xffu);
        fprintf(out, "%s", m ? m : "?round");
        break;
    }
    default:
        fprintf(out, "?");
        break;
    }
}

/* Marks every in-range jump target of function f. */
static void mark_labels(const cn_vm_container *c, const cn_vm_cfunc *f, uint8_t *is_label) {
    for (uint32_t pc = f->start; pc < f->start + f->len && pc < c->ncode; pc++) {
        const cn_vm_opinfo *oi = &cn_vm_ops[cn_vm_ins_op(c->code[pc])];
        for (unsigned s = 0; oi->name && s < oi->nslots; s++)
            if (CN_VM_SLOT_KIND(oi->slots[s]) == CN_VM_K_JUMP) {
                int64_t t = (int64_t)pc + 1 + cn_vm_ins_imm(c->code[pc]);
                if (t >= 0 && t < (int64_t)c->ncode)
                    is_label[t] = 1;
            }
    }
}

int cn_asm_disasm(const uint8_t *bin, size_t len, FILE *out, cn_asm_diag *d) {
    cn_vm_container c;
    cn_vm_err err = cn_vm_container_decode(bin, len, &c);
    if (err) {
        snprintf(d->msg, sizeof d->msg, "container does not decode: %s (%s)",
                 cn_vm_strerror(err), cn_vm_errname(err));
        cn_vm_container_free(&c);
        return 0;
    }
    cn_vm_program *p = NULL;
    cn_vm_where w;
    err = cn_vm_load(bin, len, CN_VM_HOST_ALLOW_ALL, &p, &w);
    cn_vm_program_free(p);
    fprintf(out, "; clearnode VM container version %u: %u instructions, %u functions, "
                 "%u constants, %u data bytes\n",
            c.version, c.ncode, c.nfuncs, c.nconsts, c.ndata);
    if (err)
        fprintf(out, "; REJECTED by the verifier: %s (%s), function %d, instruction %d\n",
                cn_vm_strerror(err), cn_vm_errname(err), (int)w.func, (int)w.pc);
    fprintf(out, ".mem %u\n", c.mem_size);
    if (c.ndata) {
        fprintf(out, ".data data hex \"");
        for (uint32_t i = 0; i < c.ndata; i++)
            fprintf(out, "%02x", c.data[i]);
        fprintf(out, "\"\n");
    }
    uint8_t *is_label = calloc(c.ncode, 1);
    if (!is_label) {
        snprintf(d->msg, sizeof d->msg, "out of memory");
        cn_vm_container_free(&c);
        return 0;
    }
    for (uint32_t i = 0; i < c.nfuncs; i++) {
        const cn_vm_cfunc *f = &c.funcs[i];
        char name[48];
        func_name(&c, i, name, sizeof name);
        mark_labels(&c, f, is_label);
        fprintf(out, "\n.func %s %u%s\n.regs %u\n", name, f->nparams,
                is_exported(&c, i) ? " export" : "", f->nregs);
        for (uint32_t pc = f->start; pc < f->start + f->len && pc < c.ncode; pc++) {
            uint64_t ins = c.code[pc];
            const cn_vm_opinfo *oi = &cn_vm_ops[cn_vm_ins_op(ins)];
            if (is_label[pc])
                fprintf(out, "L%u:\n", pc);
            if (!oi->name) {
                fprintf(out, "    ; %016llx  unknown opcode\n", (unsigned long long)ins);
                continue;
            }
            fprintf(out, "    ");
            for (const char *ch = oi->name; *ch; ch++)
                fputc(*ch >= 'A' && *ch <= 'Z' ? *ch - 'A' + 'a' : *ch, out);
            for (unsigned s = 0; s < oi->nslots; s++) {
                fprintf(out, s ? ", " : " ");
                print_operand(out, &c, ins, pc, oi->slots[s]);
            }
            fprintf(out, "\n");
        }
        fprintf(out, ".end\n");
    }
    free(is_label);
    cn_vm_container_free(&c);
    return 1;
}
