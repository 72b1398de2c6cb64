/*
 * tree.h - push and pull: whole trees between this machine and a host.
 */
#ifndef REMOWT_TREE_H
#define REMOWT_TREE_H

#include "cli.h"

int cmd_push(struct cli *cli, int argc, char **argv);
int cmd_pull(struct cli *cli, int argc, char **argv);

#endif
