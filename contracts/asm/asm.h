/* clearasm: assembler and disassembler for the clearnode contract VM.
 *
 * Source format (docs/contracts.md has the full description and examples):
 *
 *     ; comment
 *     .include "lib.cas"          ; path relative to the including file
 *     .mem 4096                   ; bytes of memory per call (default: the data size)
 *     .const SCALE 1000000        ; named integer
 *     .data KEY "acct/"           ; initial memory; KEY = offset, KEY.len = length
 *     .func name 3 export         ; function with 3 parameters (r0..r2), callable from outside
 *     .reg qty r0                 ; register alias, local to the function
 *     .regs 8                     ; at least 8 registers (default: highest used + 1)
 *     loop:                       ; label, local to the function
 *         muldiv r3, qty, r1, r2, ceil
 *         jlt r3, r4, loop
 *         ret r3
 *     .end
 *
 * Mnemonics and operand order come from the opcode table (contracts/vm/opcodes.h). The output
 * is verified with cn_vm_load before it is returned, so anything that assembles also deploys.
 * Errors name the file and line and say why.
 */
#ifndef CLEARNODE_CONTRACTS_ASM_ASM_H
#define CLEARNODE_CONTRACTS_ASM_ASM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CN_ASM_MAX_FILE (1u << 20) /* bytes of one source file */
#define CN_ASM_MAX_INCLUDE_DEPTH 8

typedef struct {
    char msg[512]; /* "file:line: reason" */
} cn_asm_diag;

/* Assembles the source file at `path` into a verified container (malloc'd *out, *len).
 * Returns 1 on success, 0 with d->msg set. */
int cn_asm_build_file(const char *path, uint8_t **out, size_t *len, cn_asm_diag *d);

/* Assembles source text; `name` is used in messages and as the base for includes (its
 * directory), and includes are refused unless allow_include is set. */
int cn_asm_build_source(const char *name, const char *src, size_t srclen, int allow_include,
                        uint8_t **out, size_t *len, cn_asm_diag *d);

/* Writes re-assemblable source for a container to `out`. The container is decoded but not
 * required to verify (the disassembler is for inspecting rejected bytecode too); verifier
 * findings are printed as a comment. Returns 1, or 0 with d->msg set if it does not decode. */
int cn_asm_disasm(const uint8_t *bin, size_t len, FILE *out, cn_asm_diag *d);

/* Reads a whole regular file of at most `max` bytes (NUL-terminated, malloc'd).
 * Returns 1, or 0 with d->msg set. */
int cn_asm_read_file(const char *path, size_t max, char **out, size_t *len, cn_asm_diag *d);

#endif
