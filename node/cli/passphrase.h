/* Passphrases for key files, shared by clearnode and clearctl.
 *
 * Scripts set CLEARNODE_PASSPHRASE; people are asked on the terminal with echo off. The
 * passphrase is never taken from a command-line flag, where `ps` and shell history would
 * show it.
 */
#ifndef CLEARNODE_NODE_CLI_PASSPHRASE_H
#define CLEARNODE_NODE_CLI_PASSPHRASE_H

#include <stddef.h>

#define CN_PASSPHRASE_MAX 1024
#define CN_PASSPHRASE_ENV "CLEARNODE_PASSPHRASE"

/* Gets a passphrase into buf (NUL-terminated): from CLEARNODE_PASSPHRASE if set, otherwise
 * from /dev/tty with `prompt`; with `confirm` the terminal user types it twice.
 * Returns the length, or -1 with a message on stderr (no terminal, mismatch, empty, too
 * long). The caller wipes buf with sodium_memzero. */
long cn_passphrase_get(char *buf, size_t cap, const char *prompt, int confirm);

#endif
