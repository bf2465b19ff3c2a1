/* Fuzzing the assembler with arbitrary source text (includes disabled).
 *
 * The assembler must either report an error (with a message) or produce a container that the
 * verifier accepts; and disassembling that container and assembling the result must give the
 * same bytes back.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contracts/asm/asm.h"
#include "contracts/vm/host.h"
#include "contracts/vm/vm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *bin = NULL, *bin2 = NULL;
    size_t len = 0, len2 = 0;
    cn_asm_diag d;
    if (size > 65536)
        return 0;
    if (!cn_asm_build_source("fuzz.cas", (const char *)data, size, 0, &bin, &len, &d)) {
        if (bin || d.msg[0] == '\0')
            abort();
        return 0;
    }
    cn_vm_program *prog = NULL;
    if (cn_vm_load(bin, len, CN_VM_HOST_ALLOW_ALL, &prog, NULL) != CN_VM_OK)
        abort();
    cn_vm_program_free(prog);
    char *text = NULL;
    size_t tlen = 0;
    FILE *f = open_memstream(&text, &tlen);
    if (!f)
        abort();
    if (!cn_asm_disasm(bin, len, f, &d))
        abort();
    fclose(f);
    if (!cn_asm_build_source("dis.cas", text, tlen, 0, &bin2, &len2, &d)) {
        fprintf(stderr, "disassembly does not reassemble: %s\n%s\n", d.msg, text);
        abort();
    }
    if (len != len2 || memcmp(bin, bin2, len) != 0) {
        fprintf(stderr, "round trip differs\n%s\n", text);
        abort();
    }
    free(text);
    free(bin);
    free(bin2);
    return 0;
}
