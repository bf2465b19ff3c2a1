/* Reading whole small files with a size cap, for genesis, config and contract bytecode. */
#ifndef CLEARNODE_NODE_GENESIS_GENESIS_IO_H
#define CLEARNODE_NODE_GENESIS_GENESIS_IO_H

#include <stddef.h>
#include <stdint.h>

/* Reads `path` into a malloc'd buffer (NUL-terminated one past *len). Fails without reading
 * further when the file exceeds `cap` bytes. Returns 1, or 0 with a reason in why. */
int cn_read_file_capped(const char *path, size_t cap, uint8_t **out, size_t *len, char *why,
                        size_t why_cap);

#endif
