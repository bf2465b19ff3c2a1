/* What both interpreters do before and after running: machine allocation, checking a call
 * description, setting up the entry frame, and turning the final state into a result
 * (reverting the overlay on failure). Kept in one place so the two interpreters cannot differ
 * in anything but the instruction loop.
 */
#include <stdlib.h>
#include <string.h>

#include "contracts/vm/internal.h"

cn_vm_machine *cn_vm_machine_new(void) { return calloc(1, sizeof(cn_vm_machine)); }

void cn_vm_machine_free(cn_vm_machine *m) { free(m); }

/* Is `func` one of the program's exports? Only exports may be called from outside. */
static int is_export(const cn_vm_program *p, uint32_t func) {
    for (uint32_t i = 0; i < p->nexports; i++)
        if (p->exports[i].func == func)
            return 1;
    return 0;
}

cn_vm_err cn_vm_exec_begin(cn_vm_machine *m, const cn_vm_call *call) {
    if (!m || !call || !call->prog || !call->host || !call->overlay)
        return CN_VM_E_INVALID;
    const cn_vm_host *h = call->host;
    if (!h->get || !h->next || !h->price || !h->halted || !h->transfer)
        return CN_VM_E_INVALID;
    if (call->input_len > CN_VM_MAX_INPUT || (call->input_len && !call->input))
        return CN_VM_E_INVALID;
    if (call->overlay->nwrites || call->overlay->ntransfers || call->overlay->nevents)
        return CN_VM_E_INVALID;
    const cn_vm_program *p = call->prog;
    if (call->entry >= p->nfuncs || !is_export(p, call->entry))
        return CN_VM_E_NO_ENTRY;
    const cn_vm_func *f = &p->funcs[call->entry];
    if (call->nargs != f->nparams)
        return CN_VM_E_ARGS;
    if (call->nargs && !call->args)
        return CN_VM_E_INVALID;
    memset(m->mem, 0, p->mem_size);
    if (p->ndata)
        memcpy(m->mem, p->data, p->ndata);
    memset(m->regs, 0, f->nregs * sizeof m->regs[0]);
    if (call->nargs)
        memcpy(m->regs, call->args, call->nargs * sizeof m->regs[0]);
    return CN_VM_OK;
}

/* Function containing instruction pc (binary search over the ordered functions). */
static uint32_t func_of(const cn_vm_program *p, uint32_t pc) {
    uint32_t lo = 0, hi = p->nfuncs;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (p->funcs[mid].start <= pc)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

cn_vm_err cn_vm_exec_end(const cn_vm_call *call, cn_vm_result *res, cn_vm_err status,
                         int64_t value, uint64_t gas_left, uint32_t pc) {
    res->status = status;
    res->value = (status == CN_VM_OK || status == CN_VM_E_REVERT) ? value : 0;
    res->gas_used = status == CN_VM_E_OUT_OF_GAS ? call->gas_limit : call->gas_limit - gas_left;
    res->pc = status == CN_VM_OK ? 0 : pc;
    res->func = status == CN_VM_OK ? 0 : func_of(call->prog, pc);
    if (status != CN_VM_OK)
        cn_vm_overlay_clear(call->overlay);
    return status;
}
