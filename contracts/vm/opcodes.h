/* The opcode table: the one description of every instruction.
 *
 * Every instruction is 64 bits: op (8) | a (8) | b (8) | c (8) | imm (32, signed), stored
 * big-endian in the container (docs/vm.md §2):
 *
 *     63      56 55      48 47      40 39      32 31                              0
 *    +----------+----------+----------+----------+---------------------------------+
 *    |    op    |    a     |    b     |    c     |              imm                |
 *    +----------+----------+----------+----------+---------------------------------+
 *
 * CN_VM_OPS lists each opcode once with its number, base gas, control-flow flags and operand
 * slots. The slots say, in source order, which field holds each operand and what kind it is;
 * the assembler parses by them, the disassembler prints by them, the verifier checks by them,
 * and any field no slot names is reserved and must be zero. The enum, the property table
 * (opcodes.c) and the fast interpreter's dispatch table are all generated from this list, so an
 * opcode cannot be added to one and forgotten in another.
 *
 * Semantics below: R[x] is a register of the current frame, K[x] a pool constant, M the call's
 * memory, pc the index of the instruction. All arithmetic is on int64 and traps rather than
 * wraps.
 */
#ifndef CLEARNODE_CONTRACTS_VM_OPCODES_H
#define CLEARNODE_CONTRACTS_VM_OPCODES_H

#include <stdint.h>

/* Operand fields. */
#define CN_VM_F_A 1u      /* bits 55..48 */
#define CN_VM_F_B 2u      /* bits 47..40 */
#define CN_VM_F_C 3u      /* bits 39..32 */
#define CN_VM_F_IMM 4u    /* bits 31..0, signed */
#define CN_VM_F_IMM_LO 5u /* imm bits 7..0 (MULDIV divisor register) */
#define CN_VM_F_IMM_HI 6u /* imm bits 15..8 (MULDIV rounding mode) */

/* Operand kinds. */
#define CN_VM_K_REGW 1u  /* register written */
#define CN_VM_K_REG 2u   /* register read */
#define CN_VM_K_INT 3u   /* signed 32-bit immediate */
#define CN_VM_K_CONST 4u /* constant-pool index */
#define CN_VM_K_JUMP 5u  /* relative jump: target = pc + 1 + imm, same function */
#define CN_VM_K_FUNC 6u  /* function index */
#define CN_VM_K_HOST 7u  /* host-call id */
#define CN_VM_K_COUNT 8u /* argument count (registers b .. b+c-1) */
#define CN_VM_K_SHIFT 9u /* shift amount 0..63 */
#define CN_VM_K_ROUND 10u /* rounding mode 0..3 */

#define CN_VM_SLOT(field, kind) ((uint8_t)((field) << 4 | (kind)))
#define CN_VM_SLOT_FIELD(s) ((unsigned)(s) >> 4)
#define CN_VM_SLOT_KIND(s) ((unsigned)(s) & 15u)

#define CN_VM_S_AW CN_VM_SLOT(CN_VM_F_A, CN_VM_K_REGW)
#define CN_VM_S_AR CN_VM_SLOT(CN_VM_F_A, CN_VM_K_REG)
#define CN_VM_S_BR CN_VM_SLOT(CN_VM_F_B, CN_VM_K_REG)
#define CN_VM_S_CR CN_VM_SLOT(CN_VM_F_C, CN_VM_K_REG)
#define CN_VM_S_CN CN_VM_SLOT(CN_VM_F_C, CN_VM_K_COUNT)
#define CN_VM_S_II CN_VM_SLOT(CN_VM_F_IMM, CN_VM_K_INT)
#define CN_VM_S_IK CN_VM_SLOT(CN_VM_F_IMM, CN_VM_K_CONST)
#define CN_VM_S_IJ CN_VM_SLOT(CN_VM_F_IMM, CN_VM_K_JUMP)
#define CN_VM_S_IF CN_VM_SLOT(CN_VM_F_IMM, CN_VM_K_FUNC)
#define CN_VM_S_IH CN_VM_SLOT(CN_VM_F_IMM, CN_VM_K_HOST)
#define CN_VM_S_IS CN_VM_SLOT(CN_VM_F_IMM, CN_VM_K_SHIFT)
#define CN_VM_S_LR CN_VM_SLOT(CN_VM_F_IMM_LO, CN_VM_K_REG)
#define CN_VM_S_HM CN_VM_SLOT(CN_VM_F_IMM_HI, CN_VM_K_ROUND)

/* Control-flow flags. */
#define CN_VM_FL_BRANCH 1u /* conditional jump: ends a block, may fall through */
#define CN_VM_FL_JUMP 2u   /* unconditional jump: ends a block, never falls through */
#define CN_VM_FL_STOP 4u   /* return or revert: ends a block, never falls through */
#define CN_VM_FL_CALL 8u   /* call: ends a block, execution resumes after it */
#define CN_VM_FL_HOST 16u  /* host call: charges dynamic gas before its effect */

/* X(NAME, code, base gas, flags, slots...)  — the whole instruction set. */
#define CN_VM_OPS(X)                                                                                 \
    /* moves and constants */                                                                        \
    X(MOV, 0x01, 1, 0, CN_VM_S_AW, CN_VM_S_BR) /* R[a] := R[b] */                                    \
    X(LDI, 0x02, 1, 0, CN_VM_S_AW, CN_VM_S_II) /* R[a] := imm (sign-extended) */                     \
    X(LDK, 0x03, 1, 0, CN_VM_S_AW, CN_VM_S_IK) /* R[a] := K[imm] */                                  \
    /* trapping arithmetic */                                                                        \
    X(ADD, 0x10, 1, 0, CN_VM_S_AW, CN_VM_S_BR, CN_VM_S_CR) /* R[a] := R[b] + R[c]; trap OVERFLOW */  \
    X(SUB, 0x11, 1, 0, CN_VM_S_AW, CN_VM_S_BR, CN_VM_S_CR) /* R[a] := R[b] - R[c]; trap OVERFLOW */  \
    X(MUL, 0x12, 2, 0, CN_VM_S_AW, CN_VM_S_BR, CN_VM_S_CR) /* R[a] := R[b] * R[c]; trap OVERFLOW */  \
    X(DIV, 0x13, 4, 0, CN_VM_S_AW, CN_VM_S_BR, CN_VM_S_CR) /* R[a] := R[b] / R[c] toward 0 */        \
    X(MOD, 0x14, 4, 0, CN_VM_S_AW, CN_VM_S_BR, CN_VM_S_CR) /* R[a] := R[b] rem R[c], sign of R[b] */ \
    X(ADDI, 0x15, 1, 0, CN_VM_S_AW, CN_VM_S_BR, CN_VM_S_II) /* R[a] := R[b] + imm; trap OVERFLOW */  \
    X(NEG, 0x16, 1, 0, CN_VM_S_AW, CN_VM_S_BR) /* R[a] := -R[b]; trap OVERFLOW */                    \
    X(ABS, 0x17, 1, 0, CN_VM_S_AW, CN_VM_S_BR) /* R[a] := |R[b]|; trap OVERFLOW */                   \
    X(MIN, 0x18, 1, 0, CN_VM_S_AW, CN_VM_S_BR, CN_VM_S_CR) /* R[a] := min(R[b], R[c]) */             \
    X(MAX, 0x19, 1, 0, CN_VM_S_AW, CN_VM_S_BR, CN_VM_S_CR) /* R[a] := max(R[b], R[c]) */             \
    X(MULDIV, 0x1a, 8, 0, CN_VM_S_AW, CN_VM_S_BR, CN_VM_S_CR, CN_VM_S_LR, CN_VM_S_HM)                \
    /* R[a] := round(R[b] * R[c] / R[imm.lo], imm.hi) exact through 128 bits */                      \
    /* bitwise and shifts */                                                                         \
    X(AND, 0x20, 1, 0, CN_VM_S_AW, CN_VM_S_BR, CN_VM_S_CR) /* R[a] := R[b] & R[c] */                 \
    X(OR, 0x21, 1, 0, CN_VM_S_AW, CN_VM_S_BR, CN_VM_S_CR) /* R[a] := R[b] | R[c] */                  \
    X(XOR, 0x22, 1, 0, CN_VM_S_AW, CN_VM_S_BR, CN_VM_S_CR) /* R[a] := R[b] ^ R[c] */                 \
    X(NOT, 0x23, 1, 0, CN_VM_S_AW, CN_VM_S_BR) /* R[a] := ~R[b] */                                   \
    X(SHL, 0x24, 1, 0, CN_VM_S_AW, CN_VM_S_BR, CN_VM_S_CR) /* R[a] := R[b] << R[c]; trap SHIFT */    \
    X(SHR, 0x25, 1, 0, CN_VM_S_AW, CN_VM_S_BR, CN_VM_S_CR) /* logical >>; trap SHIFT */              \
    X(SAR, 0x26, 1, 0, CN_VM_S_AW, CN_VM_S_BR, CN_VM_S_CR) /* arithmetic >>; trap SHIFT */           \
    X(SHLI, 0x27, 1, 0, CN_VM_S_AW, CN_VM_S_BR, CN_VM_S_IS) /* R[a] := R[b] << imm (0..63) */        \
    X(SHRI, 0x28, 1, 0, CN_VM_S_AW, CN_VM_S_BR, CN_VM_S_IS) /* logical >> imm */                     \
    X(SARI, 0x29, 1, 0, CN_VM_S_AW, CN_VM_S_BR, CN_VM_S_IS) /* arithmetic >> imm */                  \
    /* comparisons: R[a] := 1 if true else 0 */                                                      \
    X(EQ, 0x30, 1, 0, CN_VM_S_AW, CN_VM_S_BR, CN_VM_S_CR) /* R[b] == R[c] */                         \
    X(NE, 0x31, 1, 0, CN_VM_S_AW, CN_VM_S_BR, CN_VM_S_CR) /* R[b] != R[c] */                         \
    X(LT, 0x32, 1, 0, CN_VM_S_AW, CN_VM_S_BR, CN_VM_S_CR) /* R[b] < R[c] */                          \
    X(LE, 0x33, 1, 0, CN_VM_S_AW, CN_VM_S_BR, CN_VM_S_CR) /* R[b] <= R[c] */                         \
    X(GT, 0x34, 1, 0, CN_VM_S_AW, CN_VM_S_BR, CN_VM_S_CR) /* R[b] > R[c] */                          \
    X(GE, 0x35, 1, 0, CN_VM_S_AW, CN_VM_S_BR, CN_VM_S_CR) /* R[b] >= R[c] */                         \
    /* control flow */                                                                               \
    X(JMP, 0x40, 1, CN_VM_FL_JUMP, CN_VM_S_IJ) /* pc := pc + 1 + imm */                              \
    X(JZ, 0x41, 1, CN_VM_FL_BRANCH, CN_VM_S_AR, CN_VM_S_IJ) /* if R[a] == 0 jump */                  \
    X(JNZ, 0x42, 1, CN_VM_FL_BRANCH, CN_VM_S_AR, CN_VM_S_IJ) /* if R[a] != 0 jump */                 \
    X(JEQ, 0x43, 1, CN_VM_FL_BRANCH, CN_VM_S_AR, CN_VM_S_BR, CN_VM_S_IJ) /* if R[a] == R[b] jump */  \
    X(JNE, 0x44, 1, CN_VM_FL_BRANCH, CN_VM_S_AR, CN_VM_S_BR, CN_VM_S_IJ) /* if R[a] != R[b] jump */  \
    X(JLT, 0x45, 1, CN_VM_FL_BRANCH, CN_VM_S_AR, CN_VM_S_BR, CN_VM_S_IJ) /* if R[a] < R[b] jump */   \
    X(JLE, 0x46, 1, CN_VM_FL_BRANCH, CN_VM_S_AR, CN_VM_S_BR, CN_VM_S_IJ) /* if R[a] <= R[b] jump */  \
    X(JGT, 0x47, 1, CN_VM_FL_BRANCH, CN_VM_S_AR, CN_VM_S_BR, CN_VM_S_IJ) /* if R[a] > R[b] jump */   \
    X(JGE, 0x48, 1, CN_VM_FL_BRANCH, CN_VM_S_AR, CN_VM_S_BR, CN_VM_S_IJ) /* if R[a] >= R[b] jump */  \
    X(CALL, 0x49, 10, CN_VM_FL_CALL, CN_VM_S_AW, CN_VM_S_IF, CN_VM_S_BR, CN_VM_S_CN)                 \
    /* R[a] := F[imm](R[b] .. R[b+c-1]); trap CALL_DEPTH */                                          \
    X(RET, 0x4a, 2, CN_VM_FL_STOP, CN_VM_S_AR) /* return R[a] */                                     \
    X(REVERT, 0x4b, 1, CN_VM_FL_STOP, CN_VM_S_AR) /* fail the call with code R[a] */                 \
    /* memory (big-endian, bounds-checked; address = R[b] + imm) */                                  \
    X(LD8, 0x50, 2, 0, CN_VM_S_AW, CN_VM_S_BR, CN_VM_S_II) /* R[a] := M[addr] zero-extended */       \
    X(LD16, 0x51, 2, 0, CN_VM_S_AW, CN_VM_S_BR, CN_VM_S_II) /* R[a] := M[addr..+2] zero-extended */  \
    X(LD32, 0x52, 2, 0, CN_VM_S_AW, CN_VM_S_BR, CN_VM_S_II) /* R[a] := M[addr..+4] zero-extended */  \
    X(LD64, 0x53, 2, 0, CN_VM_S_AW, CN_VM_S_BR, CN_VM_S_II) /* R[a] := M[addr..+8] */                \
    X(ST8, 0x54, 2, 0, CN_VM_S_AR, CN_VM_S_BR, CN_VM_S_II) /* M[addr] := low 8 bits of R[a] */       \
    X(ST16, 0x55, 2, 0, CN_VM_S_AR, CN_VM_S_BR, CN_VM_S_II) /* M[addr..+2] := low 16 bits of R[a] */ \
    X(ST32, 0x56, 2, 0, CN_VM_S_AR, CN_VM_S_BR, CN_VM_S_II) /* M[addr..+4] := low 32 bits of R[a] */ \
    X(ST64, 0x57, 2, 0, CN_VM_S_AR, CN_VM_S_BR, CN_VM_S_II) /* M[addr..+8] := R[a] */                \
    /* host */                                                                                       \
    X(HOST, 0x60, 5, CN_VM_FL_HOST, CN_VM_S_AW, CN_VM_S_IH, CN_VM_S_BR, CN_VM_S_CN)                  \
    /* R[a] := host[imm](R[b] .. R[b+c-1]) */

typedef enum {
#define CN_VM_X_ENUM(name, code, gas, flags, ...) CN_VM_OP_##name = code,
    CN_VM_OPS(CN_VM_X_ENUM)
#undef CN_VM_X_ENUM
} cn_vm_opcode;

#define CN_VM_OP_SPACE 256u /* opcode byte values; unlisted ones are rejected */
#define CN_VM_MAX_SLOTS 5u

/* Rounding modes of MULDIV (imm bits 15..8). */
typedef enum {
    CN_VM_ROUND_TRUNC = 0,    /* toward zero */
    CN_VM_ROUND_FLOOR = 1,    /* toward minus infinity */
    CN_VM_ROUND_CEIL = 2,     /* toward plus infinity */
    CN_VM_ROUND_HALF_EVEN = 3 /* to nearest, ties to even */
} cn_vm_round;
#define CN_VM_ROUND_COUNT 4u

/* Properties of one opcode. `name` is NULL for byte values that are not opcodes. */
typedef struct {
    const char *name;                 /* mnemonic, uppercase; source accepts any case */
    uint8_t gas;                      /* base gas, >= 1 */
    uint8_t flags;                    /* CN_VM_FL_* */
    uint8_t nslots;                   /* operands in source order */
    uint8_t slots[CN_VM_MAX_SLOTS];   /* CN_VM_SLOT(field, kind) */
} cn_vm_opinfo;

/* The table, indexed by opcode byte (256 entries). */
extern const cn_vm_opinfo cn_vm_ops[CN_VM_OP_SPACE];

/* Returns the opcode byte for a mnemonic (any case), or -1. */
int cn_vm_op_lookup(const char *name, uint32_t len);

/* Returns the name of a rounding mode, or NULL. */
const char *cn_vm_round_name(unsigned mode);

#endif
