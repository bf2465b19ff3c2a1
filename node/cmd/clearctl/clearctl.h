/* clearctl: the command-line tool for clients and operators (keys, transactions, queries).
 * Each command group lives in its own file and is dispatched from main.c. */
#ifndef CLEARNODE_CLEARCTL_H
#define CLEARNODE_CLEARCTL_H

/* `clearctl keys ...`: returns the process exit code. */
int clearctl_keys(int argc, char **argv);

#endif
