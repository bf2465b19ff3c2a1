/* Differential fuzzing of the two interpreters.
 *
 * The input is turned into a program the verifier almost always accepts: opcodes are picked
 * from the table, every operand is bent into range by its kind (registers, constants, jump
 * targets inside the function, calls only to later functions so the call graph is acyclic,
 * host ids with their arities), and every function ends in ret, revert or a jump. If the
 * verifier accepts it, the program runs on both interpreters against the same in-memory host,
 * and they must agree on status, value, gas, trap location and every effect; gas used may
 * never exceed the limit. A program that does not terminate within its gas would show up as
 * a libFuzzer timeout.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "contracts/asm/memhost.h"
#include "contracts/vm/container.h"
#include "contracts/vm/host.h"
#include "contracts/vm/opcodes.h"
#include "contracts/vm/overlay.h"
#include "contracts/vm/vm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    const uint8_t *p;
    size_t n;
} src;

static uint8_t byte(src *s) {
    if (!s->n)
        return 0;
    s->n--;
    return *s->p++;
}

static uint32_t u32(src *s) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v = v << 8 | byte(s);
    return v;
}

static uint64_t u64(src *s) { return (uint64_t)u32(s) << 32 | u32(s); }

/* Interesting integers: small, boundaries, or anything. */
static int64_t value(src *s) {
    static const int64_t special[] = {0, 1, -1, 2, 8, 63, 64, INT64_MAX, INT64_MIN,
                                      INT64_MAX - 1, INT64_MIN + 1, 1000000};
    uint8_t k = byte(s);
    if (k < 128)
        return (int64_t)(k % 32) - 8;
    if (k < 192)
        return special[k % (sizeof special / sizeof special[0])];
    uint64_t u = u64(s);
    return u <= (uint64_t)INT64_MAX ? (int64_t)u : -(int64_t)(~u) - 1;
}

static uint8_t ops[CN_VM_OP_SPACE];
static unsigned nops;

#define MAX_FUNCS 5
#define MAX_LEN 24

/* Builds one instruction at global index pc of function fi, repaired into range. */
static uint64_t make_insn(src *s, const cn_vm_container *c, uint32_t fi, uint32_t pc) {
    const cn_vm_cfunc *f = &c->funcs[fi];
    uint8_t op = ops[byte(s) % nops];
    const cn_vm_opinfo *oi = &cn_vm_ops[op];
    uint8_t a = 0, b = 0, cc = 0;
    uint32_t imm = 0;
    for (unsigned k = 0; k < oi->nslots; k++) {
        unsigned field = CN_VM_SLOT_FIELD(oi->slots[k]);
        uint32_t v = 0;
        switch (CN_VM_SLOT_KIND(oi->slots[k])) {
        case CN_VM_K_REGW:
        case CN_VM_K_REG: v = byte(s) % f->nregs; break;
        case CN_VM_K_INT: {
            /* memory offsets near the memory, other immediates anything */
            int32_t x = op >= CN_VM_OP_LD8 && op <= CN_VM_OP_ST64 ? (int32_t)(byte(s) % 80) - 8
                                                                 : (int32_t)value(s);
            v = (uint32_t)x;
            break;
        }
        case CN_VM_K_CONST:
            if (c->nconsts == 0)
                return cn_vm_ins_make(CN_VM_OP_LDI, byte(s) % f->nregs, 0, 0, 7);
            v = byte(s) % c->nconsts;
            break;
        case CN_VM_K_JUMP: {
            if (f->len < 2)
                return cn_vm_ins_make(CN_VM_OP_RET, 0, 0, 0, 0);
            uint32_t t = f->start + byte(s) % f->len;
            if (t == pc)
                t = pc == f->start ? pc + 1 : f->start;
            v = (uint32_t)((int64_t)t - (int64_t)pc - 1);
            break;
        }
        case CN_VM_K_FUNC:
            if (fi + 1 >= c->nfuncs)
                return cn_vm_ins_make(CN_VM_OP_MOV, byte(s) % f->nregs, 0, 0, 0);
            v = fi + 1 + byte(s) % (c->nfuncs - fi - 1);
            break;
        case CN_VM_K_HOST: v = byte(s) % CN_VM_HOST_COUNT; break;
        case CN_VM_K_COUNT: {
            uint32_t n = (oi->flags & CN_VM_FL_CALL) ? c->funcs[imm].nparams
                                                     : cn_vm_host_calls[imm].arity;
            if (n > f->nregs)
                return cn_vm_ins_make(CN_VM_OP_RET, 0, 0, 0, 0);
            b = n ? (uint8_t)(byte(s) % (f->nregs - n + 1)) : 0;
            v = n;
            break;
        }
        case CN_VM_K_SHIFT: v = byte(s) % 64; break;
        case CN_VM_K_ROUND: v = byte(s) % CN_VM_ROUND_COUNT; break;
        default: break;
        }
        switch (field) {
        case CN_VM_F_A: a = (uint8_t)v; break;
        case CN_VM_F_B: if (CN_VM_SLOT_KIND(oi->slots[k]) != CN_VM_K_COUNT) b = (uint8_t)v; break;
        case CN_VM_F_C: cc = (uint8_t)v; break;
        case CN_VM_F_IMM: imm = v; break;
        case CN_VM_F_IMM_LO: imm |= v & 0xffu; break;
        case CN_VM_F_IMM_HI: imm |= (v & 0xffu) << 8; break;
        default: break;
        }
    }
    return cn_vm_ins_make(op, a, b, cc, (int32_t)imm);
}

/* The last instruction of a function: ret, revert, or a jump back. */
static uint64_t make_end(src *s, const cn_vm_cfunc *f, uint32_t pc) {
    uint8_t k = byte(s), r = (uint8_t)(byte(s) % f->nregs);
    if (k % 8 == 0)
        return cn_vm_ins_make(CN_VM_OP_REVERT, r, 0, 0, 0);
    if (k % 8 == 1 && f->len > 1)
        return cn_vm_ins_make(CN_VM_OP_JMP, 0, 0, 0,
                              (int32_t)(f->start + byte(s) % (f->len - 1)) - (int32_t)pc - 1);
    return cn_vm_ins_make(CN_VM_OP_RET, r, 0, 0, 0);
}

static int same_effects(const cn_vm_overlay *x, const cn_vm_overlay *y) {
    if (x->nwrites != y->nwrites || x->ntransfers != y->ntransfers || x->nevents != y->nevents)
        return 0;
    for (uint32_t i = 0; i < x->nwrites; i++) {
        const cn_vm_write *a = &x->writes[i], *b = &y->writes[i];
        if (a->deleted != b->deleted || cn_vm_key_cmp(a->key, a->klen, b->key, b->klen) ||
            a->vlen != b->vlen || (a->vlen && memcmp(a->val, b->val, a->vlen)))
            return 0;
    }
    if (x->ntransfers && memcmp(x->transfers, y->transfers, x->ntransfers * sizeof *x->transfers))
        return 0;
    for (uint32_t i = 0; i < x->nevents; i++) {
        const cn_vm_event *a = &x->events[i], *b = &y->events[i];
        if (a->tlen != b->tlen || a->dlen != b->dlen || memcmp(a->topic, b->topic, a->tlen) ||
            (a->dlen && memcmp(a->data, b->data, a->dlen)))
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static cn_vm_machine *m;
    static cn_asm_memhost *mh;
    static const uint8_t contract[CN_VM_ID_LEN] = "contract";
    if (!m) {
        for (unsigned i = 0; i < CN_VM_OP_SPACE; i++)
            if (cn_vm_ops[i].name)
                ops[nops++] = (uint8_t)i;
        m = cn_vm_machine_new();
        mh = cn_asm_memhost_new();
        if (!m || !mh)
            abort();
        static const uint8_t k1[] = {0, 0, 0, 0, 0, 0, 0, 0}, k2[] = {1}, v[] = {9, 9};
        uint8_t acct[CN_VM_ID_LEN] = {0};
        (void)cn_asm_memhost_put(mh, contract, k1, sizeof k1, v, sizeof v);
        (void)cn_asm_memhost_put(mh, contract, k2, sizeof k2, v, 1);
        (void)cn_asm_memhost_set_price(mh, 0, 150000000);
        (void)cn_asm_memhost_set_halted(mh, 1);
        (void)cn_asm_memhost_set_balance(mh, acct, 0, 1000);
    }
    src s = {data, size};
    uint64_t code[MAX_FUNCS * MAX_LEN];
    cn_vm_cfunc funcs[MAX_FUNCS];
    int64_t consts[4];
    uint8_t init[64];
    cn_vm_cexport ex = {0, 4, "main"};
    cn_vm_container c = {CN_VM_VERSION, 0, 0, code, 0, funcs, 0, consts, 0, init, 0, &ex, 1};
    c.nfuncs = 1 + byte(&s) % MAX_FUNCS;
    c.mem_size = (uint32_t)(byte(&s) % 5) * 16;
    c.nconsts = byte(&s) % 5;
    for (uint32_t i = 0; i < c.nconsts; i++)
        consts[i] = value(&s);
    c.ndata = c.mem_size ? byte(&s) % (c.mem_size + 1) : 0;
    for (uint32_t i = 0; i < c.ndata; i++)
        init[i] = byte(&s);
    for (uint32_t i = 0; i < c.nfuncs; i++) {
        uint8_t nregs = (uint8_t)(1 + byte(&s) % 12);
        funcs[i] = (cn_vm_cfunc){c.ncode, 1u + byte(&s) % MAX_LEN, nregs,
                                 (uint8_t)(byte(&s) % (nregs < 5 ? nregs + 1 : 5)), 0};
        c.ncode += funcs[i].len;
    }
    for (uint32_t i = 0; i < c.nfuncs; i++) {
        const cn_vm_cfunc *f = &funcs[i];
        for (uint32_t pc = f->start; pc + 1 < f->start + f->len; pc++)
            code[pc] = make_insn(&s, &c, i, pc);
        code[f->start + f->len - 1] = make_end(&s, f, f->start + f->len - 1);
    }
    int64_t args[CN_VM_MAX_ARGS];
    for (uint32_t i = 0; i < funcs[0].nparams; i++)
        args[i] = value(&s);
    uint64_t gas = 1000 + (uint64_t)byte(&s) * 200;
    uint8_t input[8];
    uint32_t input_len = byte(&s) % 9;
    for (uint32_t i = 0; i < input_len; i++)
        input[i] = byte(&s);

    uint8_t *bin;
    size_t len;
    if (cn_vm_container_encode(&c, &bin, &len) != CN_VM_OK)
        abort();
    cn_vm_program *prog = NULL;
    cn_vm_err err = cn_vm_load(bin, len, CN_VM_HOST_ALLOW_ALL, &prog, NULL);
    free(bin);
    if (err)
        return 0; /* rare: e.g. a jump repaired onto itself in a 2-instruction function */

    cn_vm_host host;
    cn_asm_memhost_table(mh, &host);
    cn_vm_overlay ov[2];
    cn_vm_result res[2];
    for (int k = 0; k < 2; k++) {
        cn_vm_overlay_init(&ov[k]);
        cn_vm_call call;
        memset(&call, 0, sizeof call);
        call.prog = prog;
        call.host = &host;
        call.overlay = &ov[k];
        call.entry = 0;
        call.args = args;
        call.nargs = funcs[0].nparams;
        call.gas_limit = gas;
        memcpy(call.contract, contract, CN_VM_ID_LEN);
        call.height = 7;
        call.time = 1700000000000;
        call.input = input;
        call.input_len = input_len;
        (void)(k ? cn_vm_exec_fast(m, &call, &res[k]) : cn_vm_exec_ref(m, &call, &res[k]));
        if (res[k].gas_used > gas)
            abort();
        if (res[k].status != CN_VM_OK && (ov[k].nwrites || ov[k].ntransfers || ov[k].nevents))
            abort(); /* a failed call must leave no effects */
    }
    if (res[0].status != res[1].status || res[0].value != res[1].value ||
        res[0].gas_used != res[1].gas_used || res[0].pc != res[1].pc ||
        res[0].func != res[1].func || !same_effects(&ov[0], &ov[1]))
        abort();
    cn_vm_overlay_free(&ov[0]);
    cn_vm_overlay_free(&ov[1]);
    cn_vm_program_free(prog);
    return 0;
}
