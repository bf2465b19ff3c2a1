/* clearload commands (main.c dispatches; each returns the exit status). */
#ifndef CLEARNODE_NODE_CMD_CLEARLOAD_CLEARLOAD_H
#define CLEARNODE_NODE_CMD_CLEARLOAD_CLEARLOAD_H

#include "crypto/schnorr.h"

int cl_load_key(const char *path, cn_keypair *kp);
int cl_run(int argc, char **argv);
int cl_soak_cmd(int argc, char **argv);
int cl_acked_cmd(int argc, char **argv);

#endif
