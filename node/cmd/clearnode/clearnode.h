/* clearnode subcommands. Each returns the process exit code: 0 ok, 1 failure, 2 usage. */
#ifndef CLEARNODE_NODE_CMD_CLEARNODE_CLEARNODE_H
#define CLEARNODE_NODE_CMD_CLEARNODE_CLEARNODE_H

#include "crypto/schnorr.h"

int clearnode_init(int argc, char **argv);
int clearnode_start(int argc, char **argv);
int clearnode_keys(int argc, char **argv);
int clearnode_verify(int argc, char **argv);

/* Loads <home>/validator.key (asking for the passphrase if it is encrypted). */
int clearnode_load_key(const char *home, cn_keypair *kp);

#endif
