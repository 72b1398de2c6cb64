/*
 * shell.h - interactive sessions on a terminal of the host's: `remowt
 * shell` and `remowt exec -t`.
 */
#ifndef REMOWT_SHELL_H
#define REMOWT_SHELL_H

#include "cli.h"
#include "rpcclient.h"

/* remowt shell [-e CHAR|none] [--no-agent] HOST [-- PROG ARGS...] */
int cmd_shell(struct cli *cli, int argc, char **argv);

/* remowt exec -t: x on a terminal through the agent cli is connected
 * to, with escapes as in shell; the exit code. */
int exec_on_terminal(struct cli *cli, const struct rpc_exec_req *x);

#endif
