/* clearload internals: key loading and the load run. */
#ifndef CLEARNODE_NODE_CMD_CLEARLOAD_CLEARLOAD_H
#define CLEARNODE_NODE_CMD_CLEARLOAD_CLEARLOAD_H

#include "crypto/schnorr.h"

int cl_load_key(const char *path, cn_keypair *kp);
int cl_run(int argc, char **argv);

#endif
