/* Contract bytecode for genesis: read from a file (a .cas source is assembled with the
 * built-in assembler, anything else is taken as container bytes) and verified by the VM. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contracts/asm/asm.h"
#include "node/contract/contract.h"
#include "node/genesis/genesis_code.h"
#include "node/genesis/genesis_io.h"

int cn_genesis_code_load(const char *path, size_t max, uint8_t **code, size_t *len, char *why,
                         size_t cap) {
    size_t n = strlen(path);
    if (n > 4 && strcmp(path + n - 4, ".cas") == 0) {
        cn_asm_diag d;
        memset(&d, 0, sizeof d);
        if (!cn_asm_build_file(path, code, len, &d)) {
            snprintf(why, cap, "assembler: %s", d.msg);
            return 0;
        }
        if (*len > max) {
            free(*code);
            *code = NULL;
            snprintf(why, cap, "assembled bytecode is over %zu bytes", max);
            return 0;
        }
        return 1;
    }
    return cn_read_file_capped(path, max, code, len, why, cap);
}

int cn_genesis_code_verify(const uint8_t *code, size_t len, char *why, size_t cap) {
    return cn_contract_verify(code, len, why, cap);
}
