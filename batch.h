/*
 * batch.h - remowt batch HOST: JSON-lines requests over one agent
 * session, many in flight.
 */
#ifndef REMOWT_BATCH_H
#define REMOWT_BATCH_H

#include "cli.h"

int cmd_batch(struct cli *cli, int argc, char **argv);

#endif
