/*
 * proxy.h - reach a host through jump hosts (ProxyJump, -J) or a
 * ProxyCommand.
 */
#ifndef REMOWT_PROXY_H
#define REMOWT_PROXY_H

#include <sys/types.h>

#include "sshconfig.h"

/* Does o ask for a jump host or a proxy command? */
int proxy_needed(const struct ssh_opts *o);
/* Start the child that carries the connection; *fd is our end of it.
 * 0, or -1 with errno set. */
int proxy_open(const struct ssh_opts *o, int *fd, pid_t *pid);
/* Reap the child once our end is closed. */
void proxy_close(pid_t pid);

#endif
