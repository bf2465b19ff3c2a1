/* The opcode property table, generated from the one list in opcodes.h.
 *
 * Byte values that are not opcodes keep a NULL name, which is how the verifier, assembler and
 * disassembler recognise them.
 */
#include "contracts/vm/opcodes.h"

#include <string.h>

#define CN_VM_X_NSLOTS(...) ((uint8_t)(sizeof((const uint8_t[]){__VA_ARGS__})))
#define CN_VM_X_INFO(name, code, gas, flags, ...)                                               \
    [code] = {#name, gas, flags, CN_VM_X_NSLOTS(__VA_ARGS__), {__VA_ARGS__}},

/* Mnemonics are the lowercase names; the table stores the enum spelling and lookup lowers. */
const cn_vm_opinfo cn_vm_ops[CN_VM_OP_SPACE] = {CN_VM_OPS(CN_VM_X_INFO)};

/* Compares a mnemonic in source (any case) with a table name (uppercase). */
static int name_eq(const char *table, const char *s, uint32_t len) {
    if (strlen(table) != len)
        return 0;
    for (uint32_t i = 0; i < len; i++) {
        char ch = s[i];
        if (ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        if (ch != table[i])
            return 0;
    }
    return 1;
}

/* Linear search: the assembler calls this once per line, and 256 entries is nothing. */
int cn_vm_op_lookup(const char *name, uint32_t len) {
    for (unsigned i = 0; i < CN_VM_OP_SPACE; i++)
        if (cn_vm_ops[i].name && name_eq(cn_vm_ops[i].name, name, len))
            return (int)i;
    return -1;
}

const char *cn_vm_round_name(unsigned mode) {
    static const char *const names[CN_VM_ROUND_COUNT] = {"trunc", "floor", "ceil", "half_even"};
    return mode < CN_VM_ROUND_COUNT ? names[mode] : NULL;
}
