/* The bytecode container: the bytes a contract is deployed as (docs/vm.md §7).
 *
 * All integers are big-endian. Layout, version 1:
 *
 *   offset  size  field
 *        0     4  magic "CNVM"
 *        4     2  version (1)
 *        6     2  flags (reserved, 0)
 *        8     4  mem_size      bytes of memory per call
 *       12     4  ncode         instructions
 *       16     4  nfuncs
 *       20     4  nconsts
 *       24     4  ndata         bytes of initial memory
 *       28     4  nexports
 *       32        funcs[nfuncs]      start u32, len u32, nregs u16, nparams u8, reserved u8
 *                 exports[nexports]  func u32, name_len u8, name[name_len]
 *                 consts[nconsts]    i64
 *                 data[ndata]
 *                 code[ncode]        u64 instructions (opcodes.h)
 *
 * The decoder checks sizes and counts before it allocates anything and the exact length at
 * the end; the meaning of what it decoded is the verifier's job (verify.c). The encoder is
 * used by the assembler.
 */
#ifndef CLEARNODE_CONTRACTS_VM_CONTAINER_H
#define CLEARNODE_CONTRACTS_VM_CONTAINER_H

#include <stddef.h>
#include <stdint.h>

#include "contracts/vm/vm.h"

#define CN_VM_MAGIC "CNVM"
#define CN_VM_HEADER_LEN 32u
#define CN_VM_FUNC_LEN 12u

typedef struct {
    uint32_t start;
    uint32_t len;
    uint16_t nregs;
    uint8_t nparams;
    uint8_t reserved;
} cn_vm_cfunc;

typedef struct {
    uint32_t func;
    uint8_t name_len;
    char name[CN_VM_MAX_NAME + 1]; /* NUL-terminated copy */
} cn_vm_cexport;

typedef struct {
    uint16_t version;
    uint16_t flags;
    uint32_t mem_size;
    uint64_t *code;
    uint32_t ncode;
    cn_vm_cfunc *funcs;
    uint32_t nfuncs;
    int64_t *consts;
    uint32_t nconsts;
    uint8_t *data;
    uint32_t ndata;
    cn_vm_cexport *exports;
    uint32_t nexports;
} cn_vm_container;

/* Decodes `buf` into *c (which owns its arrays afterwards; free with cn_vm_container_free,
 * also after a failure). Returns CN_VM_OK or one of CN_VM_E_TOO_BIG, _TRUNCATED, _MAGIC,
 * _VERSION, _FLAGS, _LIMIT_*, _EXPORT_NAME, _TRAILING, _NOMEM. */
cn_vm_err cn_vm_container_decode(const uint8_t *buf, size_t len, cn_vm_container *c);

/* Encodes *c (version and flags taken from it) into a malloc'd buffer.
 * Returns CN_VM_OK, CN_VM_E_TOO_BIG, CN_VM_E_EXPORT_NAME or CN_VM_E_NOMEM. */
cn_vm_err cn_vm_container_encode(const cn_vm_container *c, uint8_t **out, size_t *len);

void cn_vm_container_free(cn_vm_container *c);

/* Instruction fields. */
static inline uint8_t cn_vm_ins_op(uint64_t w) { return (uint8_t)(w >> 56); }
static inline uint8_t cn_vm_ins_a(uint64_t w) { return (uint8_t)(w >> 48); }
static inline uint8_t cn_vm_ins_b(uint64_t w) { return (uint8_t)(w >> 40); }
static inline uint8_t cn_vm_ins_c(uint64_t w) { return (uint8_t)(w >> 32); }
static inline uint32_t cn_vm_ins_uimm(uint64_t w) { return (uint32_t)w; }
static inline int32_t cn_vm_ins_imm(uint64_t w) {
    uint32_t u = (uint32_t)w;
    return u <= (uint32_t)INT32_MAX ? (int32_t)u : -(int32_t)(~u) - 1;
}
static inline uint64_t cn_vm_ins_make(uint8_t op, uint8_t a, uint8_t b, uint8_t c, int32_t imm) {
    return (uint64_t)op << 56 | (uint64_t)a << 48 | (uint64_t)b << 40 | (uint64_t)c << 32 |
           (uint64_t)(uint32_t)imm;
}

#endif
