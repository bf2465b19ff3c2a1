/* Container decoding and encoding (format in container.h and docs/vm.md §7).
 *
 * Decoding is a bounded reader over the input: every read checks the remaining length, every
 * count is checked against its limit before anything is allocated, and the input must end
 * exactly after the code section.
 */
#include "contracts/vm/container.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    const uint8_t *p;
    size_t left;
} reader;

static int rd_bytes(reader *r, void *out, size_t n) {
    if (r->left < n)
        return 0;
    if (n)
        memcpy(out, r->p, n);
    r->p += n;
    r->left -= n;
    return 1;
}

static int rd_u8(reader *r, uint8_t *v) { return rd_bytes(r, v, 1); }

static int rd_u16(reader *r, uint16_t *v) {
    uint8_t b[2];
    if (!rd_bytes(r, b, 2))
        return 0;
    *v = (uint16_t)((unsigned)b[0] << 8 | b[1]);
    return 1;
}

static int rd_u32(reader *r, uint32_t *v) {
    uint8_t b[4];
    if (!rd_bytes(r, b, 4))
        return 0;
    *v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    return 1;
}

static int rd_u64(reader *r, uint64_t *v) {
    uint32_t hi, lo;
    if (!rd_u32(r, &hi) || !rd_u32(r, &lo))
        return 0;
    *v = (uint64_t)hi << 32 | lo;
    return 1;
}

/* Export names are 1..CN_VM_MAX_NAME characters of [A-Za-z0-9_]. */
static int name_ok(const char *s, size_t n) {
    if (n == 0 || n > CN_VM_MAX_NAME)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_'))
            return 0;
    }
    return 1;
}

/* calloc that treats a zero count as a valid empty array. */
static void *alloc_array(size_t n, size_t size) {
    return calloc(n ? n : 1, size);
}

void cn_vm_container_free(cn_vm_container *c) {
    if (!c)
        return;
    free(c->code);
    free(c->funcs);
    free(c->consts);
    free(c->data);
    free(c->exports);
    memset(c, 0, sizeof *c);
}

/* Reads and checks the fixed header, then the sections in order. */
cn_vm_err cn_vm_container_decode(const uint8_t *buf, size_t len, cn_vm_container *c) {
    memset(c, 0, sizeof *c);
    if (len > CN_VM_MAX_CONTAINER)
        return CN_VM_E_TOO_BIG;
    if (!buf || len < CN_VM_HEADER_LEN)
        return CN_VM_E_TRUNCATED;
    if (memcmp(buf, CN_VM_MAGIC, 4) != 0)
        return CN_VM_E_MAGIC;
    reader r = {buf + 4, len - 4};
    (void)rd_u16(&r, &c->version);
    (void)rd_u16(&r, &c->flags);
    (void)rd_u32(&r, &c->mem_size);
    (void)rd_u32(&r, &c->ncode);
    (void)rd_u32(&r, &c->nfuncs);
    (void)rd_u32(&r, &c->nconsts);
    (void)rd_u32(&r, &c->ndata);
    (void)rd_u32(&r, &c->nexports);
    if (c->version != CN_VM_VERSION)
        return CN_VM_E_VERSION;
    if (c->flags != 0)
        return CN_VM_E_FLAGS;
    if (c->ncode == 0 || c->ncode > CN_VM_MAX_CODE)
        return CN_VM_E_LIMIT_CODE;
    if (c->nfuncs == 0 || c->nfuncs > CN_VM_MAX_FUNCS)
        return CN_VM_E_LIMIT_FUNCS;
    if (c->nconsts > CN_VM_MAX_CONSTS)
        return CN_VM_E_LIMIT_CONSTS;
    if (c->mem_size > CN_VM_MAX_MEM)
        return CN_VM_E_LIMIT_MEM;
    if (c->ndata > c->mem_size)
        return CN_VM_E_LIMIT_DATA;
    if (c->nexports == 0 || c->nexports > CN_VM_MAX_EXPORTS)
        return CN_VM_E_LIMIT_EXPORTS;

    /* All counts are bounded, so these products cannot overflow. */
    c->funcs = alloc_array(c->nfuncs, sizeof *c->funcs);
    c->exports = alloc_array(c->nexports, sizeof *c->exports);
    c->consts = alloc_array(c->nconsts, sizeof *c->consts);
    c->data = alloc_array(c->ndata, 1);
    c->code = alloc_array(c->ncode, sizeof *c->code);
    if (!c->funcs || !c->exports || !c->consts || !c->data || !c->code)
        return CN_VM_E_NOMEM;

    for (uint32_t i = 0; i < c->nfuncs; i++) {
        cn_vm_cfunc *f = &c->funcs[i];
        if (!rd_u32(&r, &f->start) || !rd_u32(&r, &f->len) || !rd_u16(&r, &f->nregs) ||
            !rd_u8(&r, &f->nparams) || !rd_u8(&r, &f->reserved))
            return CN_VM_E_TRUNCATED;
    }
    for (uint32_t i = 0; i < c->nexports; i++) {
        cn_vm_cexport *e = &c->exports[i];
        if (!rd_u32(&r, &e->func) || !rd_u8(&r, &e->name_len))
            return CN_VM_E_TRUNCATED;
        if (e->name_len == 0 || e->name_len > CN_VM_MAX_NAME)
            return CN_VM_E_EXPORT_NAME;
        if (!rd_bytes(&r, e->name, e->name_len))
            return CN_VM_E_TRUNCATED;
        e->name[e->name_len] = '\0';
        if (!name_ok(e->name, e->name_len))
            return CN_VM_E_EXPORT_NAME;
    }
    for (uint32_t i = 0; i < c->nconsts; i++) {
        uint64_t u;
        if (!rd_u64(&r, &u))
            return CN_VM_E_TRUNCATED;
        c->consts[i] = u <= (uint64_t)INT64_MAX ? (int64_t)u : -(int64_t)(~u) - 1;
    }
    if (!rd_bytes(&r, c->data, c->ndata))
        return CN_VM_E_TRUNCATED;
    for (uint32_t i = 0; i < c->ncode; i++)
        if (!rd_u64(&r, &c->code[i]))
            return CN_VM_E_TRUNCATED;
    if (r.left != 0)
        return CN_VM_E_TRAILING;
    return CN_VM_OK;
}

/* ---- encoding ------------------------------------------------------------------------------ */

typedef struct {
    uint8_t *p;
    size_t n;
} writer;

static void wr_bytes(writer *w, const void *src, size_t n) {
    if (n)
        memcpy(w->p + w->n, src, n);
    w->n += n;
}

static void wr_u8(writer *w, uint8_t v) { wr_bytes(w, &v, 1); }

static void wr_u16(writer *w, uint16_t v) {
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    wr_bytes(w, b, 2);
}

static void wr_u32(writer *w, uint32_t v) {
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    wr_bytes(w, b, 4);
}

static void wr_u64(writer *w, uint64_t v) {
    wr_u32(w, (uint32_t)(v >> 32));
    wr_u32(w, (uint32_t)v);
}

/* Computes the exact size first (bounded by the limits), then writes the sections. */
cn_vm_err cn_vm_container_encode(const cn_vm_container *c, uint8_t **out, size_t *len) {
    *out = NULL;
    *len = 0;
    if (c->ncode > CN_VM_MAX_CODE || c->nfuncs > CN_VM_MAX_FUNCS ||
        c->nconsts > CN_VM_MAX_CONSTS || c->ndata > CN_VM_MAX_MEM ||
        c->nexports > CN_VM_MAX_EXPORTS)
        return CN_VM_E_TOO_BIG;
    size_t size = CN_VM_HEADER_LEN + (size_t)c->nfuncs * CN_VM_FUNC_LEN +
                  (size_t)c->nconsts * 8 + c->ndata + (size_t)c->ncode * 8;
    for (uint32_t i = 0; i < c->nexports; i++) {
        if (!name_ok(c->exports[i].name, c->exports[i].name_len))
            return CN_VM_E_EXPORT_NAME;
        size += 5u + c->exports[i].name_len;
    }
    if (size > CN_VM_MAX_CONTAINER)
        return CN_VM_E_TOO_BIG;
    writer w = {malloc(size), 0};
    if (!w.p)
        return CN_VM_E_NOMEM;
    wr_bytes(&w, CN_VM_MAGIC, 4);
    wr_u16(&w, c->version);
    wr_u16(&w, c->flags);
    wr_u32(&w, c->mem_size);
    wr_u32(&w, c->ncode);
    wr_u32(&w, c->nfuncs);
    wr_u32(&w, c->nconsts);
    wr_u32(&w, c->ndata);
    wr_u32(&w, c->nexports);
    for (uint32_t i = 0; i < c->nfuncs; i++) {
        wr_u32(&w, c->funcs[i].start);
        wr_u32(&w, c->funcs[i].len);
        wr_u16(&w, c->funcs[i].nregs);
        wr_u8(&w, c->funcs[i].nparams);
        wr_u8(&w, c->funcs[i].reserved);
    }
    for (uint32_t i = 0; i < c->nexports; i++) {
        wr_u32(&w, c->exports[i].func);
        wr_u8(&w, c->exports[i].name_len);
        wr_bytes(&w, c->exports[i].name, c->exports[i].name_len);
    }
    for (uint32_t i = 0; i < c->nconsts; i++)
        wr_u64(&w, (uint64_t)c->consts[i]);
    wr_bytes(&w, c->data, c->ndata);
    for (uint32_t i = 0; i < c->ncode; i++)
        wr_u64(&w, c->code[i]);
    *out = w.p;
    *len = w.n;
    return CN_VM_OK;
}
