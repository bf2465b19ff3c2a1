/* The assembler (asm.h): source text to a verified container.
 *
 * Pass 1 reads lines (following includes) and records functions, labels, symbols, data and
 * one pending instruction per line, resolving everything that must already be defined:
 * registers, aliases, integers, constants, host calls, counts and rounding modes. Pass 2
 * resolves what may be defined later (labels and function names), builds the container and
 * runs the verifier on it, mapping any rejection back to the source line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "contracts/asm/asm.h"
#include "contracts/asm/lexer.h"
#include "contracts/vm/container.h"
#include "contracts/vm/host.h"
#include "contracts/vm/opcodes.h"

#define NAME_MAX_LEN 63

typedef struct {
    char name[NAME_MAX_LEN + 1];
    int64_t value;
} sym;

typedef struct {
    char name[NAME_MAX_LEN + 1];
    uint32_t value; /* label: instruction index in the function; alias: register */
} local;

typedef struct {
    char name[CN_VM_MAX_NAME + 1];
    uint32_t nparams, min_regs, maxreg_plus1;
    int exported;
    uint32_t first, count; /* pending instructions */
    local *labels;
    uint32_t nlabels;
    local *aliases;
    uint32_t naliases;
    uint32_t file, line;
} func;

typedef struct {
    uint8_t op, a, b, c;
    uint32_t imm;
    uint32_t func, file, line;
    char ref[NAME_MAX_LEN + 1]; /* label or function name resolved in pass 2 */
} pend;

typedef struct {
    cn_asm_diag *d;
    int allow_include;
    char **files;
    uint32_t nfiles;
    sym *syms;
    uint32_t nsyms;
    func *funcs;
    uint32_t nfuncs;
    int in_func;
    pend *code;
    uint32_t ncode;
    int64_t *consts;
    uint32_t nconsts;
    uint8_t *data;
    uint32_t ndata;
    int64_t mem; /* -1 until .mem */
    uint32_t cur_file, cur_line;
} asm_state;

/* Records an error at the current line; always returns 0 so callers can `return fail(...)`. */
static int fail(asm_state *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(asm_state *s, const char *fmt, ...) {
    char reason[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    snprintf(s->d->msg, sizeof s->d->msg, "%s:%u: %s",
             s->cur_file < s->nfiles ? s->files[s->cur_file] : "?", s->cur_line, reason);
    return 0;
}

/* Grows a dynamic array to hold n+1 elements (capacity doubles at powers of two). */
static int reserve(void **arr, uint32_t n, size_t size) {
    if (n & (n - 1) || (n && n < 8))
        return 1; /* capacity is the next power of two >= 8: room already */
    uint32_t cap = n ? n * 2 : 8;
    void *p = realloc(*arr, (size_t)cap * size);
    if (!p)
        return 0;
    *arr = p;
    return 1;
}

static int tok_name(asm_state *s, const cn_asm_tok *t, char *buf) {
    if (t->kind != CN_ASM_TOK_WORD)
        return fail(s, "expected a name, found '%.*s'", (int)t->len, t->text);
    if (t->len > NAME_MAX_LEN)
        return fail(s, "name '%.*s' longer than %d characters", (int)t->len, t->text,
                    NAME_MAX_LEN);
    cn_asm_tok_text(t, buf, NAME_MAX_LEN + 1);
    return 1;
}

static const sym *find_sym(const asm_state *s, const char *name) {
    for (uint32_t i = 0; i < s->nsyms; i++)
        if (strcmp(s->syms[i].name, name) == 0)
            return &s->syms[i];
    return NULL;
}

static int add_sym(asm_state *s, const char *name, int64_t v) {
    if (find_sym(s, name))
        return fail(s, "symbol '%s' defined twice", name);
    if (!reserve((void **)&s->syms, s->nsyms, sizeof *s->syms))
        return fail(s, "out of memory");
    sym *y = &s->syms[s->nsyms++];
    snprintf(y->name, sizeof y->name, "%s", name);
    y->value = v;
    return 1;
}

/* An integer operand: a literal or a .const / .data symbol. */
static int tok_int(asm_state *s, const cn_asm_tok *t, int64_t *v) {
    if (t->kind == CN_ASM_TOK_INT) {
        if (t->big)
            return fail(s, "integer '%.*s' outside int64", (int)t->len, t->text);
        *v = t->ival;
        return 1;
    }
    char name[NAME_MAX_LEN + 1];
    if (t->kind != CN_ASM_TOK_WORD || t->len > NAME_MAX_LEN)
        return fail(s, "expected an integer, found '%.*s'", (int)t->len, t->text);
    cn_asm_tok_text(t, name, sizeof name);
    const sym *y = find_sym(s, name);
    if (!y)
        return fail(s, "unknown symbol '%s'", name);
    *v = y->value;
    return 1;
}

static int tok_range(asm_state *s, const cn_asm_tok *t, int64_t lo, int64_t hi, int64_t *v,
                     const char *what) {
    if (!tok_int(s, t, v))
        return 0;
    if (*v < lo || *v > hi)
        return fail(s, "%s %lld outside %lld..%lld", what, (long long)*v, (long long)lo,
                    (long long)hi);
    return 1;
}

/* A register: rN (0..255) or an alias of the current function. */
static int tok_reg(asm_state *s, const cn_asm_tok *t, uint8_t *r) {
    func *f = &s->funcs[s->nfuncs - 1];
    char name[NAME_MAX_LEN + 1];
    if (t->kind == CN_ASM_TOK_WORD && t->len <= NAME_MAX_LEN) {
        cn_asm_tok_text(t, name, sizeof name);
        for (uint32_t i = 0; i < f->naliases; i++)
            if (strcmp(f->aliases[i].name, name) == 0) {
                *r = (uint8_t)f->aliases[i].value;
                goto found;
            }
        if (name[0] == 'r' && name[1] >= '0' && name[1] <= '9' && t->len <= 4) {
            unsigned v = 0;
            for (uint32_t i = 1; i < t->len; i++) {
                if (name[i] < '0' || name[i] > '9')
                    goto bad;
                v = v * 10 + (unsigned)(name[i] - '0');
            }
            if (v > 255 || (name[1] == '0' && t->len > 2))
                goto bad;
            *r = (uint8_t)v;
            goto found;
        }
    }
bad:
    return fail(s, "expected a register r0..r255 or alias, found '%.*s'", (int)t->len, t->text);
found:
    if (*r + 1u > f->maxreg_plus1)
        f->maxreg_plus1 = *r + 1u;
    return 1;
}

/* Index of v in the constant pool, added on first use. */
static int intern_const(asm_state *s, int64_t v, uint32_t *idx) {
    for (uint32_t i = 0; i < s->nconsts; i++)
        if (s->consts[i] == v) {
            *idx = i;
            return 1;
        }
    if (s->nconsts >= CN_VM_MAX_CONSTS)
        return fail(s, "more than %u constants", CN_VM_MAX_CONSTS);
    if (!reserve((void **)&s->consts, s->nconsts, sizeof *s->consts))
        return fail(s, "out of memory");
    s->consts[s->nconsts] = v;
    *idx = s->nconsts++;
    return 1;
}

/* Sets one instruction field from an operand slot. */
static void set_field(pend *p, unsigned field, uint32_t v) {
    switch (field) {
    case CN_VM_F_A: p->a = (uint8_t)v; break;
    case CN_VM_F_B: p->b = (uint8_t)v; break;
    case CN_VM_F_C: p->c = (uint8_t)v; break;
    case CN_VM_F_IMM: p->imm = v; break;
    case CN_VM_F_IMM_LO: p->imm = (p->imm & ~0xffu) | (v & 0xffu); break;
    case CN_VM_F_IMM_HI: p->imm = (p->imm & ~0xff00u) | (v & 0xffu) << 8; break;
    default: break;
    }
}

/* Parses one instruction line: mnemonic, then operands separated by commas, as the opcode
 * table's slots say. */
static int parse_insn(asm_state *s, const cn_asm_line *ln) {
    const cn_asm_tok *t = ln->tok;
    int op = cn_vm_op_lookup(t[0].text, t[0].len);
    if (op < 0)
        return fail(s, "unknown instruction '%.*s'", (int)t[0].len, t[0].text);
    if (!s->in_func)
        return fail(s, "instruction outside a function");
    const cn_vm_opinfo *oi = &cn_vm_ops[op];
    int want = oi->nslots ? 2 * oi->nslots : 1;
    if (ln->n != want)
        goto arity;
    for (int i = 2; i < ln->n; i += 2)
        if (!cn_asm_tok_is(&t[i], ","))
            goto arity;
    if (s->ncode >= CN_VM_MAX_CODE)
        return fail(s, "more than %u instructions", CN_VM_MAX_CODE);
    if (!reserve((void **)&s->code, s->ncode, sizeof *s->code))
        return fail(s, "out of memory");
    pend *p = &s->code[s->ncode];
    memset(p, 0, sizeof *p);
    p->op = (uint8_t)op;
    p->func = s->nfuncs - 1;
    p->file = s->cur_file;
    p->line = s->cur_line;
    for (unsigned k = 0; k < oi->nslots; k++) {
        const cn_asm_tok *o = &t[1 + 2 * k];
        unsigned field = CN_VM_SLOT_FIELD(oi->slots[k]);
        int64_t v = 0;
        uint8_t r;
        uint32_t idx = 0;
        switch (CN_VM_SLOT_KIND(oi->slots[k])) {
        case CN_VM_K_REGW:
        case CN_VM_K_REG:
            if (!tok_reg(s, o, &r))
                return 0;
            v = r;
            break;
        case CN_VM_K_INT:
            if (!tok_range(s, o, INT32_MIN, INT32_MAX, &v, "immediate"))
                return 0;
            break;
        case CN_VM_K_CONST:
            if (!tok_int(s, o, &v) || !intern_const(s, v, &idx))
                return 0;
            v = idx;
            break;
        case CN_VM_K_JUMP:
        case CN_VM_K_FUNC:
            if (!tok_name(s, o, p->ref))
                return 0;
            break;
        case CN_VM_K_HOST: {
            int id = o->kind == CN_ASM_TOK_WORD ? cn_vm_host_lookup(o->text, o->len) : -1;
            if (id < 0)
                return fail(s, "unknown host call '%.*s'", (int)o->len, o->text);
            v = id;
            break;
        }
        case CN_VM_K_COUNT:
            if (!tok_range(s, o, 0, 255, &v, "argument count"))
                return 0;
            break;
        case CN_VM_K_SHIFT:
            if (!tok_range(s, o, 0, 63, &v, "shift amount"))
                return 0;
            break;
        case CN_VM_K_ROUND: {
            unsigned m = 0;
            while (m < CN_VM_ROUND_COUNT && !cn_asm_tok_is(o, cn_vm_round_name(m)))
                m++;
            if (m == CN_VM_ROUND_COUNT)
                return fail(s, "unknown rounding mode '%.*s' (trunc, floor, ceil, half_even)",
                            (int)o->len, o->text);
            v = m;
            break;
        }
        default:
            return fail(s, "internal: unknown operand kind");
        }
        set_field(p, field, (uint32_t)v);
    }
    s->ncode++;
    s->funcs[s->nfuncs - 1].count++;
    return 1;
arity:
    return fail(s, "'%.*s' takes %u operand%s", (int)t[0].len, t[0].text, oi->nslots,
                oi->nslots == 1 ? "" : "s");
}

static int add_data(asm_state *s, const uint8_t *bytes, uint32_t n) {
    if ((uint64_t)s->ndata + n > CN_VM_MAX_MEM)
        return fail(s, "data larger than %u bytes", CN_VM_MAX_MEM);
    uint8_t *p = realloc(s->data, (size_t)s->ndata + n + 1);
    if (!p)
        return fail(s, "out of memory");
    s->data = p;
    if (bytes)
        memcpy(p + s->ndata, bytes, n);
    else
        memset(p + s->ndata, 0, n);
    s->ndata += n;
    return 1;
}

/* .data NAME "text" | hex "00ff" | zero N | i64 N */
static int parse_data(asm_state *s, const cn_asm_line *ln) {
    const cn_asm_tok *t = ln->tok;
    char name[NAME_MAX_LEN + 1], lenname[NAME_MAX_LEN + 8];
    if (ln->n < 3 || !tok_name(s, &t[1], name))
        return ln->n < 3 ? fail(s, ".data needs a name and a value") : 0;
    if (strlen(name) + 4 > NAME_MAX_LEN)
        return fail(s, "data name '%s' too long", name);
    uint32_t off = s->ndata;
    if (ln->n == 3 && t[2].kind == CN_ASM_TOK_STR) {
        if (!add_data(s, t[2].str, t[2].slen))
            return 0;
    } else if (ln->n == 4 && cn_asm_tok_is(&t[2], "hex") && t[3].kind == CN_ASM_TOK_STR) {
        uint8_t buf[CN_ASM_MAX_STR / 2];
        if (t[3].slen % 2)
            return fail(s, "odd number of hex digits");
        for (uint32_t i = 0; i < t[3].slen; i += 2) {
            char hx[3] = {(char)t[3].str[i], (char)t[3].str[i + 1], 0};
            char *end;
            buf[i / 2] = (uint8_t)strtoul(hx, &end, 16);
            if (*end || hx[0] == '-' || hx[0] == '+' || hx[0] == ' ')
                return fail(s, "bad hex digits '%s'", hx);
        }
        if (!add_data(s, buf, t[3].slen / 2))
            return 0;
    } else if (ln->n == 4 && cn_asm_tok_is(&t[2], "zero")) {
        int64_t n;
        if (!tok_range(s, &t[3], 0, CN_VM_MAX_MEM, &n, "size") || !add_data(s, NULL, (uint32_t)n))
            return 0;
    } else if (ln->n == 4 && cn_asm_tok_is(&t[2], "i64")) {
        int64_t v;
        uint8_t b[8];
        if (!tok_int(s, &t[3], &v))
            return 0;
        for (int i = 0; i < 8; i++)
            b[i] = (uint8_t)((uint64_t)v >> (56 - 8 * i));
        if (!add_data(s, b, 8))
            return 0;
    } else {
        return fail(s, ".data value must be \"text\", hex \"..\", zero N or i64 N");
    }
    snprintf(lenname, sizeof lenname, "%s.len", name);
    return add_sym(s, name, off) && add_sym(s, lenname, s->ndata - off);
}

/* .func NAME NPARAMS [export] */
static int parse_func(asm_state *s, const cn_asm_line *ln) {
    const cn_asm_tok *t = ln->tok;
    char name[NAME_MAX_LEN + 1];
    int64_t np;
    if (s->in_func)
        return fail(s, ".func inside function '%s' (missing .end)", s->funcs[s->nfuncs - 1].name);
    if (ln->n < 3 || ln->n > 4 || (ln->n == 4 && !cn_asm_tok_is(&t[3], "export")))
        return fail(s, "expected .func NAME NPARAMS [export]");
    if (!tok_name(s, &t[1], name) || !tok_range(s, &t[2], 0, 255, &np, "parameter count"))
        return 0;
    if (strlen(name) > CN_VM_MAX_NAME)
        return fail(s, "function name '%s' longer than %u characters", name, CN_VM_MAX_NAME);
    /* '.' keeps internal names (the disassembler's f.N) apart from exports, which are
     * [A-Za-z0-9_] only. */
    for (const char *c = name; *c && ln->n == 4; c++)
        if (*c == '.')
            return fail(s, "exported name '%s' may not contain '.'", name);
    for (uint32_t i = 0; i < s->nfuncs; i++)
        if (strcmp(s->funcs[i].name, name) == 0)
            return fail(s, "function '%s' defined twice", name);
    if (s->nfuncs >= CN_VM_MAX_FUNCS)
        return fail(s, "more than %u functions", CN_VM_MAX_FUNCS);
    if (!reserve((void **)&s->funcs, s->nfuncs, sizeof *s->funcs))
        return fail(s, "out of memory");
    func *f = &s->funcs[s->nfuncs++];
    memset(f, 0, sizeof *f);
    memcpy(f->name, name, strlen(name) + 1); /* length checked above */
    f->nparams = (uint32_t)np;
    f->exported = ln->n == 4;
    f->first = s->ncode;
    f->file = s->cur_file;
    f->line = s->cur_line;
    s->in_func = 1;
    return 1;
}

/* Adds a label or alias to a function's list, refusing duplicates. */
static int add_local(asm_state *s, local **arr, uint32_t *n, const char *name, uint32_t v,
                     const char *what) {
    for (uint32_t i = 0; i < *n; i++)
        if (strcmp((*arr)[i].name, name) == 0)
            return fail(s, "%s '%s' defined twice", what, name);
    if (!reserve((void **)arr, *n, sizeof **arr))
        return fail(s, "out of memory");
    snprintf((*arr)[*n].name, sizeof(*arr)[*n].name, "%s", name);
    (*arr)[*n].value = v;
    (*n)++;
    return 1;
}

static int assemble_text(asm_state *s, uint32_t file, const char *src, size_t len, int depth);

/* .include "path": relative to the directory of the including file. */
static int parse_include(asm_state *s, const cn_asm_line *ln, int depth) {
    if (ln->n != 2 || ln->tok[1].kind != CN_ASM_TOK_STR)
        return fail(s, "expected .include \"path\"");
    if (!s->allow_include)
        return fail(s, "includes are not allowed here");
    if (depth >= CN_ASM_MAX_INCLUDE_DEPTH)
        return fail(s, "includes nested deeper than %d", CN_ASM_MAX_INCLUDE_DEPTH);
    const char *base = s->files[s->cur_file];
    const char *slash = strrchr(base, '/');
    size_t dirlen = slash ? (size_t)(slash - base) + 1 : 0;
    const cn_asm_tok *t = &ln->tok[1];
    if (memchr(t->str, 0, t->slen))
        return fail(s, "include path contains NUL");
    char *path = malloc(dirlen + t->slen + 1);
    if (!path)
        return fail(s, "out of memory");
    if (t->slen && t->str[0] == '/')
        dirlen = 0;
    memcpy(path, base, dirlen);
    memcpy(path + dirlen, t->str, t->slen);
    path[dirlen + t->slen] = '\0';
    if (!reserve((void **)&s->files, s->nfiles, sizeof *s->files)) {
        free(path);
        return fail(s, "out of memory");
    }
    s->files[s->nfiles] = path;
    uint32_t idx = s->nfiles++;
    char *text;
    size_t tlen;
    cn_asm_diag rd;
    if (!cn_asm_read_file(path, CN_ASM_MAX_FILE, &text, &tlen, &rd))
        return fail(s, "%s", rd.msg);
    uint32_t saved_file = s->cur_file, saved_line = s->cur_line;
    int ok = assemble_text(s, idx, text, tlen, depth + 1);
    free(text);
    if (ok) {
        s->cur_file = saved_file;
        s->cur_line = saved_line;
    }
    return ok;
}

/* Handles one lexed line. */
static int assemble_line(asm_state *s, const cn_asm_line *ln, int depth) {
    const cn_asm_tok *t = ln->tok;
    char name[NAME_MAX_LEN + 1];
    int64_t v;
    if (ln->n == 0)
        return 1;
    /* label: */
    if (ln->n >= 2 && t[0].kind == CN_ASM_TOK_WORD && cn_asm_tok_is(&t[1], ":")) {
        if (ln->n != 2)
            return fail(s, "a label stands on its own line");
        if (!s->in_func)
            return fail(s, "label outside a function");
        func *f = &s->funcs[s->nfuncs - 1];
        return tok_name(s, &t[0], name) &&
               add_local(s, &f->labels, &f->nlabels, name, f->count, "label");
    }
    if (t[0].kind != CN_ASM_TOK_WORD)
        return fail(s, "expected an instruction or directive, found '%.*s'", (int)t[0].len,
                    t[0].text);
    if (t[0].text[0] != '.')
        return parse_insn(s, ln);
    if (cn_asm_tok_is(&t[0], ".include"))
        return parse_include(s, ln, depth);
    if (cn_asm_tok_is(&t[0], ".func"))
        return parse_func(s, ln);
    if (cn_asm_tok_is(&t[0], ".data"))
        return parse_data(s, ln);
    if (cn_asm_tok_is(&t[0], ".end")) {
        if (ln->n != 1 || !s->in_func)
            return fail(s, ln->n != 1 ? ".end takes nothing" : ".end outside a function");
        if (s->funcs[s->nfuncs - 1].count == 0)
            return fail(s, "function '%s' is empty", s->funcs[s->nfuncs - 1].name);
        s->in_func = 0;
        return 1;
    }
    if (cn_asm_tok_is(&t[0], ".const")) {
        if (ln->n != 3)
            return fail(s, "expected .const NAME VALUE");
        return tok_name(s, &t[1], name) && tok_int(s, &t[2], &v) && add_sym(s, name, v);
    }
    if (cn_asm_tok_is(&t[0], ".mem")) {
        if (ln->n != 2)
            return fail(s, "expected .mem BYTES");
        if (s->mem >= 0)
            return fail(s, ".mem given twice");
        return tok_range(s, &t[1], 0, CN_VM_MAX_MEM, &s->mem, "memory size");
    }
    if (cn_asm_tok_is(&t[0], ".reg") || cn_asm_tok_is(&t[0], ".regs")) {
        if (!s->in_func)
            return fail(s, "%.*s outside a function", (int)t[0].len, t[0].text);
        func *f = &s->funcs[s->nfuncs - 1];
        if (t[0].len == 5) { /* .regs */
            if (ln->n != 2 || !tok_range(s, &t[1], 1, CN_VM_MAX_REGS, &v, "register count"))
                return ln->n != 2 ? fail(s, "expected .regs N") : 0;
            f->min_regs = (uint32_t)v;
            return 1;
        }
        uint8_t r;
        if (ln->n != 3)
            return fail(s, "expected .reg ALIAS rN");
        if (!tok_name(s, &t[1], name) || !tok_reg(s, &t[2], &r))
            return 0;
        return add_local(s, &f->aliases, &f->naliases, name, r, "alias");
    }
    return fail(s, "unknown directive '%.*s'", (int)t[0].len, t[0].text);
}

static int assemble_text(asm_state *s, uint32_t file, const char *src, size_t len, int depth) {
    cn_asm_line *ln = malloc(sizeof *ln);
    if (!ln)
        return fail(s, "out of memory");
    s->cur_file = file;
    s->cur_line = 0;
    size_t i = 0;
    int ok = 1;
    while (ok && i < len) {
        size_t j = i;
        while (j < len && src[j] != '\n')
            j++;
        s->cur_line++;
        char err[200];
        if (!cn_asm_lex(src + i, j - i, ln, err, sizeof err))
            ok = fail(s, "%s", err);
        else
            ok = assemble_line(s, ln, depth);
        i = j + 1;
    }
    free(ln);
    if (ok && depth == 0 && s->in_func)
        return fail(s, "function '%s' has no .end", s->funcs[s->nfuncs - 1].name);
    return ok;
}

/* Pass 2: labels and function names, then the container, then the verifier. */
static int resolve(asm_state *s, cn_vm_container *c) {
    c->version = CN_VM_VERSION;
    if (s->nfuncs == 0)
        return fail(s, "no functions");
    c->mem_size = s->mem >= 0 ? (uint32_t)s->mem : s->ndata;
    if (c->mem_size < s->ndata)
        return fail(s, ".mem %u is smaller than the %u data bytes", c->mem_size, s->ndata);
    c->ncode = s->ncode;
    c->nfuncs = s->nfuncs;
    c->code = calloc(s->ncode ? s->ncode : 1, sizeof *c->code);
    c->funcs = calloc(s->nfuncs, sizeof *c->funcs);
    c->exports = calloc(s->nfuncs, sizeof *c->exports);
    if (!c->code || !c->funcs || !c->exports)
        return fail(s, "out of memory");
    for (uint32_t i = 0; i < s->nfuncs; i++) {
        const func *f = &s->funcs[i];
        uint32_t regs = f->maxreg_plus1;
        if (regs < f->nparams)
            regs = f->nparams;
        if (regs < f->min_regs)
            regs = f->min_regs;
        if (regs == 0)
            regs = 1;
        s->cur_file = f->file;
        s->cur_line = f->line;
        if (regs > CN_VM_MAX_REGS)
            return fail(s, "function '%s' needs more than %u registers", f->name,
                        CN_VM_MAX_REGS);
        c->funcs[i] = (cn_vm_cfunc){f->first, f->count, (uint16_t)regs, (uint8_t)f->nparams, 0};
        if (f->exported) {
            cn_vm_cexport *e = &c->exports[c->nexports++];
            e->func = i;
            e->name_len = (uint8_t)strlen(f->name);
            memcpy(e->name, f->name, e->name_len + 1u);
        }
    }
    if (c->nexports == 0)
        return fail(s, "no function is exported (.func NAME N export)");
    for (uint32_t pc = 0; pc < s->ncode; pc++) {
        pend *p = &s->code[pc];
        const func *f = &s->funcs[p->func];
        s->cur_file = p->file;
        s->cur_line = p->line;
        const cn_vm_opinfo *oi = &cn_vm_ops[p->op];
        for (unsigned k = 0; k < oi->nslots; k++) {
            unsigned kind = CN_VM_SLOT_KIND(oi->slots[k]);
            if (kind == CN_VM_K_JUMP) {
                uint32_t l = 0;
                while (l < f->nlabels && strcmp(f->labels[l].name, p->ref) != 0)
                    l++;
                if (l == f->nlabels)
                    return fail(s, "unknown label '%s' in function '%s'", p->ref, f->name);
                if (f->labels[l].value >= f->count)
                    return fail(s, "label '%s' is at the end of function '%s'", p->ref,
                                f->name);
                int64_t rel = (int64_t)(f->first + f->labels[l].value) - ((int64_t)pc + 1);
                p->imm = (uint32_t)(int32_t)rel;
            } else if (kind == CN_VM_K_FUNC) {
                uint32_t g = 0;
                while (g < s->nfuncs && strcmp(s->funcs[g].name, p->ref) != 0)
                    g++;
                if (g == s->nfuncs)
                    return fail(s, "unknown function '%s'", p->ref);
                p->imm = g;
            }
        }
        c->code[pc] = cn_vm_ins_make(p->op, p->a, p->b, p->c, (int32_t)p->imm);
    }
    c->consts = s->consts;
    c->nconsts = s->nconsts;
    c->data = s->data;
    c->ndata = s->ndata;
    return 1;
}

/* Runs the verifier on the encoded container and maps a rejection to its source line. */
static int verify(asm_state *s, const uint8_t *bin, size_t len) {
    cn_vm_program *p = NULL;
    cn_vm_where w;
    cn_vm_err err = cn_vm_load(bin, len, CN_VM_HOST_ALLOW_ALL, &p, &w);
    cn_vm_program_free(p);
    if (!err)
        return 1;
    if (w.pc < s->ncode) {
        s->cur_file = s->code[w.pc].file;
        s->cur_line = s->code[w.pc].line;
    } else if (w.func < s->nfuncs) {
        s->cur_file = s->funcs[w.func].file;
        s->cur_line = s->funcs[w.func].line;
    }
    return fail(s, "rejected by the verifier: %s (%s)", cn_vm_strerror(err), cn_vm_errname(err));
}

static void state_free(asm_state *s) {
    for (uint32_t i = 0; i < s->nfiles; i++)
        free(s->files[i]);
    for (uint32_t i = 0; i < s->nfuncs; i++) {
        free(s->funcs[i].labels);
        free(s->funcs[i].aliases);
    }
    free(s->files);
    free(s->funcs);
    free(s->syms);
    free(s->code);
    free(s->consts);
    free(s->data);
}

int cn_asm_build_source(const char *name, const char *src, size_t srclen, int allow_include,
                        uint8_t **out, size_t *len, cn_asm_diag *d) {
    asm_state s;
    memset(&s, 0, sizeof s);
    s.d = d;
    s.allow_include = allow_include;
    s.mem = -1;
    d->msg[0] = '\0';
    *out = NULL;
    *len = 0;
    s.files = malloc(8 * sizeof *s.files);
    char *fname = s.files ? strdup(name) : NULL;
    if (!fname) {
        snprintf(d->msg, sizeof d->msg, "%s: out of memory", name);
        state_free(&s);
        return 0;
    }
    s.files[s.nfiles++] = fname;
    cn_vm_container c;
    memset(&c, 0, sizeof c);
    int ok = assemble_text(&s, 0, src, srclen, 0) && resolve(&s, &c);
    if (ok) {
        cn_vm_err err = cn_vm_container_encode(&c, out, len);
        if (err)
            ok = fail(&s, "cannot encode: %s", cn_vm_strerror(err));
    }
    if (ok && !verify(&s, *out, *len)) {
        free(*out);
        *out = NULL;
        *len = 0;
        ok = 0;
    }
    /* consts and data were lent to the container: the state frees them. */
    c.consts = NULL;
    c.data = NULL;
    cn_vm_container_free(&c);
    state_free(&s);
    return ok;
}

int cn_asm_read_file(const char *path, size_t max, char **out, size_t *len, cn_asm_diag *d) {
    struct stat st;
    *out = NULL;
    *len = 0;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(d->msg, sizeof d->msg, "%s: cannot read (not a regular file)", path);
        return 0;
    }
    if ((uint64_t)st.st_size > max) {
        snprintf(d->msg, sizeof d->msg, "%s: larger than %zu bytes", path, max);
        return 0;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(d->msg, sizeof d->msg, "%s: cannot open", path);
        return 0;
    }
    char *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    int bad = !buf || ferror(f) || n > max;
    fclose(f);
    if (bad) {
        free(buf);
        snprintf(d->msg, sizeof d->msg, "%s: read failed or file too large", path);
        return 0;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 1;
}

int cn_asm_build_file(const char *path, uint8_t **out, size_t *len, cn_asm_diag *d) {
    char *text;
    size_t tlen;
    *out = NULL;
    *len = 0;
    if (!cn_asm_read_file(path, CN_ASM_MAX_FILE, &text, &tlen, d))
        return 0;
    int ok = cn_asm_build_source(path, text, tlen, 1, out, len, d);
    free(text);
    return ok;
}
