/* Contract bytecode at genesis: loading (.cas sources are assembled) and VM verification. */
#ifndef CLEARNODE_NODE_GENESIS_GENESIS_CODE_H
#define CLEARNODE_NODE_GENESIS_GENESIS_CODE_H

#include <stddef.h>
#include <stdint.h>

/* Reads the contract file at path: a name ending in ".cas" is assembled (includes relative
 * to it), any other file is the container bytes. At most `max` bytes of bytecode.
 * Returns 1 with *code malloc'd, or 0 with a reason in why. */
int cn_genesis_code_load(const char *path, size_t max, uint8_t **code, size_t *len, char *why,
                         size_t cap);

/* Runs the bytecode through the VM verifier. Returns 1, or 0 with "verifier: <reason>". */
int cn_genesis_code_verify(const uint8_t *code, size_t len, char *why, size_t cap);

#endif
