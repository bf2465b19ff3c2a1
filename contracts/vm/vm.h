/* clearnode contract VM: public interface.
 *
 * A contract is a bytecode container (docs/vm.md §7). It is decoded and verified once, at
 * deploy, by cn_vm_load(), which either rejects it with one specific error or returns a
 * prepared program that can then be run any number of times. Nothing runs unverified.
 *
 * A call runs one exported function of a prepared program on a machine (register stack and
 * memory, reusable between calls) with a gas limit, against a host (host.h) and a fresh
 * per-call overlay (overlay.h). Two interpreters exist, a plain reference one and a fast one;
 * they give the same status, result, gas and writes for every program and input.
 *
 * Caveats:
 *  - A cn_vm_program is immutable after cn_vm_load and may be shared by threads; a
 *    cn_vm_machine and a cn_vm_overlay belong to one call at a time.
 *  - On any failure status the overlay is cleared: a failed call leaves no writes, transfers
 *    or events. On success the caller commits the overlay into its own store.
 *  - Gas used on OUT_OF_GAS is the whole limit; on any other status it is the gas charged up
 *    to and including the failing block or host call.
 */
#ifndef CLEARNODE_CONTRACTS_VM_VM_H
#define CLEARNODE_CONTRACTS_VM_VM_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define CN_VM_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define CN_VM_WARN_UNUSED
#endif

/* ---- limits (docs/vm.md §6) ----------------------------------------------------------- */
#define CN_VM_VERSION 1u
#define CN_VM_MAX_CONTAINER (1u << 20) /* bytes of a container */
#define CN_VM_MAX_CODE 65536u          /* instructions */
#define CN_VM_MAX_FUNCS 1024u
#define CN_VM_MAX_CONSTS 4096u
#define CN_VM_MAX_REGS 256u            /* registers per frame */
#define CN_VM_MAX_DEPTH 64u            /* frames, the entry frame included */
#define CN_VM_MAX_MEM 65536u           /* bytes of memory per call */
#define CN_VM_MAX_EXPORTS 64u
#define CN_VM_MAX_NAME 32u             /* bytes of an export name */
#define CN_VM_MAX_ARGS 16u             /* parameters of an exported function */
#define CN_VM_MAX_INPUT 65536u         /* bytes of call input */
#define CN_VM_ID_LEN 32u               /* account, caller and contract ids */

/* ---- error codes ------------------------------------------------------------------------ */
/* Every failure has its own code. 1..63: the container or verifier rejected the bytecode at
 * deploy; 64..127: a trap while running (the call reverts); 128..: misuse of this API. */
typedef enum {
    CN_VM_OK = 0,
    /* container */
    CN_VM_E_TRUNCATED = 1,    /* container shorter than its header or sections say */
    CN_VM_E_MAGIC = 2,        /* does not start with "CNVM" */
    CN_VM_E_VERSION = 3,      /* unsupported container version */
    CN_VM_E_FLAGS = 4,        /* reserved header flags not zero */
    CN_VM_E_TOO_BIG = 5,      /* container over CN_VM_MAX_CONTAINER bytes */
    CN_VM_E_TRAILING = 6,     /* bytes after the last section */
    CN_VM_E_LIMIT_CODE = 7,   /* no code, or more than CN_VM_MAX_CODE instructions */
    CN_VM_E_LIMIT_FUNCS = 8,  /* no function, or more than CN_VM_MAX_FUNCS */
    CN_VM_E_LIMIT_CONSTS = 9, /* more than CN_VM_MAX_CONSTS constants */
    CN_VM_E_LIMIT_MEM = 10,   /* memory size over CN_VM_MAX_MEM */
    CN_VM_E_LIMIT_DATA = 11,  /* initial data larger than memory */
    CN_VM_E_LIMIT_EXPORTS = 12, /* no export, or more than CN_VM_MAX_EXPORTS */
    CN_VM_E_EXPORT_NAME = 13, /* export name empty, too long or not [A-Za-z0-9_] */
    CN_VM_E_EXPORT_DUP = 14,  /* two exports with one name */
    CN_VM_E_EXPORT_FUNC = 15, /* export names no function */
    CN_VM_E_EXPORT_ARITY = 16, /* exported function takes over CN_VM_MAX_ARGS parameters */
    CN_VM_E_FUNC_LAYOUT = 17, /* functions do not tile the code in order, or one is empty */
    CN_VM_E_FUNC_REGS = 18,   /* register count 0, over CN_VM_MAX_REGS or below params */
    CN_VM_E_FUNC_RESERVED = 19, /* reserved byte of a function record not zero */
    /* verifier, per instruction */
    CN_VM_E_OPCODE = 20,      /* unknown opcode */
    CN_VM_E_RESERVED = 21,    /* a field the opcode does not use is not zero */
    CN_VM_E_REGISTER = 22,    /* register index not below the function's register count */
    CN_VM_E_CONST = 23,       /* constant index out of the pool */
    CN_VM_E_JUMP_RANGE = 24,  /* jump target outside the function */
    CN_VM_E_JUMP_SELF = 25,   /* jump to itself */
    CN_VM_E_TERMINATOR = 26,  /* function does not end in jmp, ret or revert */
    CN_VM_E_CALL_TARGET = 27, /* call of a function index that does not exist */
    CN_VM_E_CALL_ARITY = 28,  /* call passes a count other than the callee's parameters */
    CN_VM_E_RECURSION = 29,   /* the call graph has a cycle */
    CN_VM_E_HOST_ID = 30,     /* unknown host-call id */
    CN_VM_E_HOST_FORBIDDEN = 31, /* host call not in the deploy allow-list */
    CN_VM_E_HOST_ARITY = 32,  /* host call with the wrong argument count */
    CN_VM_E_SHIFT_IMM = 33,   /* immediate shift amount outside 0..63 */
    CN_VM_E_ROUND_MODE = 34,  /* unknown MULDIV rounding mode */
    /* traps */
    CN_VM_E_OVERFLOW = 64,    /* arithmetic result outside int64 */
    CN_VM_E_DIV_ZERO = 65,    /* division or MULDIV by zero */
    CN_VM_E_DIV_OVERFLOW = 66, /* INT64_MIN / -1 or INT64_MIN rem -1 */
    CN_VM_E_SHIFT = 67,       /* register shift amount outside 0..63 */
    CN_VM_E_MEM_BOUNDS = 68,  /* memory access outside the call's memory */
    CN_VM_E_OUT_OF_GAS = 69,  /* the next block or host effect costs more than is left */
    CN_VM_E_CALL_DEPTH = 70,  /* more than CN_VM_MAX_DEPTH frames */
    CN_VM_E_REVERT = 71,      /* the contract executed REVERT; result holds its code */
    CN_VM_E_HOST_ARG = 72,    /* bad argument to a host call (length, amount, asset) */
    CN_VM_E_HOST_DENIED = 73, /* the host refused the effect (e.g. transfer not permitted) */
    CN_VM_E_HOST_FAULT = 74,  /* the host failed (I/O); not the contract's fault */
    CN_VM_E_LIMIT_EFFECTS = 75, /* too many writes, events or transfers in one call */
    /* API misuse */
    CN_VM_E_NO_ENTRY = 128,   /* no export of that name or index */
    CN_VM_E_ARGS = 129,       /* argument count differs from the entry's parameters */
    CN_VM_E_NOMEM = 130,      /* allocation failed */
    CN_VM_E_INVALID = 131     /* null pointer or inconsistent call description */
} cn_vm_err;

/* Returns a one-line description of `err` (never NULL). */
const char *cn_vm_strerror(cn_vm_err err);
/* Returns the short lowercase name of `err` used in test vectors ("overflow"), never NULL. */
const char *cn_vm_errname(cn_vm_err err);
/* Parses a short name back; returns 1 and sets *err, or 0 if unknown. */
int cn_vm_errname_parse(const char *name, cn_vm_err *err);

/* ---- prepared programs ------------------------------------------------------------------ */
typedef struct cn_vm_program cn_vm_program;

/* Where the verifier stopped: function and instruction index (UINT32_MAX if not applicable). */
typedef struct {
    uint32_t func;
    uint32_t pc;
} cn_vm_where;

/* Decodes and verifies a container and prepares it for execution.
 * host_allow: bit i set permits host call i (CN_VM_HOST_ALLOW_ALL permits every call).
 * Returns CN_VM_OK and sets *out (free with cn_vm_program_free), or the first rule broken,
 * with *where (may be NULL) saying where. Never reads past data[len). */
cn_vm_err cn_vm_load(const uint8_t *data, size_t len, uint32_t host_allow, cn_vm_program **out,
                     cn_vm_where *where) CN_VM_WARN_UNUSED;
void cn_vm_program_free(cn_vm_program *p);

/* Returns the function index of export `name`, or -1. */
int32_t cn_vm_program_export(const cn_vm_program *p, const char *name);
/* Number of parameters of function `func` (which must exist). */
uint32_t cn_vm_program_params(const cn_vm_program *p, uint32_t func);
uint32_t cn_vm_program_funcs(const cn_vm_program *p);

/* ---- execution ---------------------------------------------------------------------------- */
typedef struct cn_vm_machine cn_vm_machine;
struct cn_vm_host;
struct cn_vm_overlay;

/* Allocates a machine (register stack and memory at their maximum sizes). NULL if out of
 * memory. A machine is reused across calls; each call starts from zeroed state. */
cn_vm_machine *cn_vm_machine_new(void);
void cn_vm_machine_free(cn_vm_machine *m);

/* One call. Everything a contract can observe is here, so equal calls give equal results. */
typedef struct {
    const cn_vm_program *prog;
    const struct cn_vm_host *host;    /* storage, oracle, ledger (host.h) */
    struct cn_vm_overlay *overlay;    /* empty; receives the call's effects */
    uint32_t entry;                   /* exported function index (cn_vm_program_export) */
    const int64_t *args;
    uint32_t nargs;
    uint64_t gas_limit;
    uint8_t caller[CN_VM_ID_LEN];
    uint8_t contract[CN_VM_ID_LEN];
    int64_t height;
    int64_t time;                     /* block time, unix milliseconds */
    const uint8_t *input;             /* bytes returned by host call `input` */
    uint32_t input_len;
} cn_vm_call;

typedef struct {
    cn_vm_err status;   /* CN_VM_OK or the trap */
    int64_t value;      /* returned value; REVERT's code on CN_VM_E_REVERT; else 0 */
    uint64_t gas_used;
    uint32_t func;      /* where a trap happened (else 0) */
    uint32_t pc;        /* instruction index in the code (else 0) */
} cn_vm_result;

/* Runs the call with the reference interpreter (a plain switch, written for clarity).
 * Returns the call's status, also in res->status: CN_VM_OK, a trap (64..127), or, with
 * nothing run and gas_used 0, CN_VM_E_NO_ENTRY, CN_VM_E_ARGS or CN_VM_E_INVALID (a null
 * pointer, a host with a null callback, a non-empty overlay, input over CN_VM_MAX_INPUT). */
cn_vm_err cn_vm_exec_ref(cn_vm_machine *m, const cn_vm_call *call, cn_vm_result *res);
/* Runs the call with the fast interpreter (computed goto). Same results as cn_vm_exec_ref. */
cn_vm_err cn_vm_exec_fast(cn_vm_machine *m, const cn_vm_call *call, cn_vm_result *res);

#endif
