/* Fuzzing the container decoder and verifier with raw bytes.
 *
 * Any input must be either rejected with an error code or accepted; accepted programs are run
 * on both interpreters (every export with zero arguments, small gas) and must agree, and the
 * disassembler must handle anything that decodes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contracts/asm/asm.h"
#include "contracts/asm/memhost.h"
#include "contracts/vm/overlay.h"
#include "contracts/vm/vm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static cn_vm_machine *m;
    static cn_asm_memhost *mh;
    static FILE *devnull;
    if (!m) {
        m = cn_vm_machine_new();
        mh = cn_asm_memhost_new();
        devnull = fopen("/dev/null", "w");
        if (!m || !mh || !devnull)
            abort();
    }
    cn_vm_program *prog = NULL;
    cn_vm_where where;
    cn_vm_err err = cn_vm_load(data, size, CN_VM_HOST_ALLOW_ALL, &prog, &where);
    cn_asm_diag d;
    (void)cn_asm_disasm(data, size, devnull, &d);
    if (err) {
        if (prog)
            abort();
        return 0;
    }
    cn_vm_host host;
    cn_asm_memhost_table(mh, &host);
    int64_t args[CN_VM_MAX_ARGS] = {0};
    for (uint32_t f = 0; f < cn_vm_program_funcs(prog); f++) {
        cn_vm_result res[2];
        cn_vm_overlay ov[2];
        for (int k = 0; k < 2; k++) {
            cn_vm_overlay_init(&ov[k]);
            cn_vm_call call;
            memset(&call, 0, sizeof call);
            call.prog = prog;
            call.host = &host;
            call.overlay = &ov[k];
            call.entry = f;
            call.args = args;
            call.nargs = cn_vm_program_params(prog, f);
            call.gas_limit = 20000;
            (void)(k ? cn_vm_exec_fast(m, &call, &res[k]) : cn_vm_exec_ref(m, &call, &res[k]));
            if (res[k].gas_used > call.gas_limit)
                abort();
        }
        if (res[0].status != res[1].status || res[0].value != res[1].value ||
            res[0].gas_used != res[1].gas_used || res[0].pc != res[1].pc ||
            ov[0].nwrites != ov[1].nwrites || ov[0].nevents != ov[1].nevents ||
            ov[0].ntransfers != ov[1].ntransfers)
            abort();
        cn_vm_overlay_free(&ov[0]);
        cn_vm_overlay_free(&ov[1]);
    }
    cn_vm_program_free(prog);
    return 0;
}
