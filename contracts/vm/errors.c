/* Error names and messages: one table, so every code has both and they cannot drift. */
#include <string.h>

#include "contracts/vm/vm.h"

typedef struct {
    cn_vm_err err;
    const char *name;
    const char *msg;
} err_info;

static const err_info errors[] = {
    {CN_VM_OK, "ok", "success"},
    {CN_VM_E_TRUNCATED, "truncated", "container shorter than its header or sections say"},
    {CN_VM_E_MAGIC, "magic", "container does not start with CNVM"},
    {CN_VM_E_VERSION, "version", "unsupported container version"},
    {CN_VM_E_FLAGS, "flags", "reserved container flags are not zero"},
    {CN_VM_E_TOO_BIG, "too_big", "container larger than the limit"},
    {CN_VM_E_TRAILING, "trailing", "bytes after the last container section"},
    {CN_VM_E_LIMIT_CODE, "limit_code", "no code or too many instructions"},
    {CN_VM_E_LIMIT_FUNCS, "limit_funcs", "no function or too many functions"},
    {CN_VM_E_LIMIT_CONSTS, "limit_consts", "too many constants"},
    {CN_VM_E_LIMIT_MEM, "limit_mem", "memory size over the limit"},
    {CN_VM_E_LIMIT_DATA, "limit_data", "initial data larger than memory"},
    {CN_VM_E_LIMIT_EXPORTS, "limit_exports", "no export or too many exports"},
    {CN_VM_E_EXPORT_NAME, "export_name", "export name empty, too long or not [A-Za-z0-9_]"},
    {CN_VM_E_EXPORT_DUP, "export_dup", "two exports share a name"},
    {CN_VM_E_EXPORT_FUNC, "export_func", "export names no function"},
    {CN_VM_E_EXPORT_ARITY, "export_arity", "exported function has too many parameters"},
    {CN_VM_E_FUNC_LAYOUT, "func_layout", "functions do not tile the code in order"},
    {CN_VM_E_FUNC_REGS, "func_regs", "bad register or parameter count of a function"},
    {CN_VM_E_FUNC_RESERVED, "func_reserved", "reserved byte of a function record not zero"},
    {CN_VM_E_OPCODE, "opcode", "unknown opcode"},
    {CN_VM_E_RESERVED, "reserved", "unused instruction field not zero"},
    {CN_VM_E_REGISTER, "register", "register index out of the function's registers"},
    {CN_VM_E_CONST, "const", "constant index out of the pool"},
    {CN_VM_E_JUMP_RANGE, "jump_range", "jump target outside the function"},
    {CN_VM_E_JUMP_SELF, "jump_self", "jump to itself"},
    {CN_VM_E_TERMINATOR, "terminator", "function does not end in jmp, ret or revert"},
    {CN_VM_E_CALL_TARGET, "call_target", "call of a function that does not exist"},
    {CN_VM_E_CALL_ARITY, "call_arity", "call argument count differs from the callee's"},
    {CN_VM_E_RECURSION, "recursion", "call graph has a cycle"},
    {CN_VM_E_HOST_ID, "host_id", "unknown host call"},
    {CN_VM_E_HOST_FORBIDDEN, "host_forbidden", "host call not allowed for this contract"},
    {CN_VM_E_HOST_ARITY, "host_arity", "host call with the wrong argument count"},
    {CN_VM_E_SHIFT_IMM, "shift_imm", "immediate shift amount outside 0..63"},
    {CN_VM_E_ROUND_MODE, "round_mode", "unknown rounding mode"},
    {CN_VM_E_OVERFLOW, "overflow", "arithmetic overflow"},
    {CN_VM_E_DIV_ZERO, "div_zero", "division by zero"},
    {CN_VM_E_DIV_OVERFLOW, "div_overflow", "INT64_MIN divided by -1"},
    {CN_VM_E_SHIFT, "shift", "shift amount outside 0..63"},
    {CN_VM_E_MEM_BOUNDS, "mem_bounds", "memory access out of bounds"},
    {CN_VM_E_OUT_OF_GAS, "out_of_gas", "out of gas"},
    {CN_VM_E_CALL_DEPTH, "call_depth", "call depth limit exceeded"},
    {CN_VM_E_REVERT, "revert", "contract reverted"},
    {CN_VM_E_HOST_ARG, "host_arg", "bad host call argument"},
    {CN_VM_E_HOST_DENIED, "host_denied", "host refused the effect"},
    {CN_VM_E_HOST_FAULT, "host_fault", "host failure"},
    {CN_VM_E_LIMIT_EFFECTS, "limit_effects", "too many writes, transfers or events"},
    {CN_VM_E_NO_ENTRY, "no_entry", "no such entry point"},
    {CN_VM_E_ARGS, "args", "wrong number of arguments"},
    {CN_VM_E_NOMEM, "nomem", "out of memory"},
    {CN_VM_E_INVALID, "invalid", "invalid call description"},
};

static const err_info *find(cn_vm_err err) {
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
        if (errors[i].err == err)
            return &errors[i];
    return NULL;
}

const char *cn_vm_strerror(cn_vm_err err) {
    const err_info *e = find(err);
    return e ? e->msg : "unknown error";
}

const char *cn_vm_errname(cn_vm_err err) {
    const err_info *e = find(err);
    return e ? e->name : "unknown";
}

int cn_vm_errname_parse(const char *name, cn_vm_err *err) {
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
        if (strcmp(errors[i].name, name) == 0) {
            *err = errors[i].err;
            return 1;
        }
    return 0;
}
