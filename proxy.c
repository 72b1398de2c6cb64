/*
 * proxy.c - reach a host through jump hosts (ProxyJump, -J) or a
 * ProxyCommand.
 *
 * Either way the connection gets one end of a socketpair and a child
 * process holds the other.  For ProxyJump the child is remowt itself: it
 * connects to the last jump host (through the earlier ones, the same
 * way), with host key checks at that hop, and pumps bytes between the
 * socketpair and a direct-tcpip channel to the target.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "proxy.h"
#include "ssh_min.h"

/* The settings a hop inherits: where keys and known hosts are. */
static void hop_options(const struct ssh_opts *o, struct ssh_opts *hop)
{
	int i;

	ssh_opts_init(hop);
	for (i = 0; i < o->n_identity; i++)
		memcpy(hop->identity[i], o->identity[i], SSH_PATH_MAX);
	hop->n_identity = o->n_identity;
	for (i = 0; i < o->n_known_hosts; i++)
		memcpy(hop->known_hosts[i], o->known_hosts[i], SSH_PATH_MAX);
	hop->n_known_hosts = o->n_known_hosts;
	hop->strict = o->strict;
	hop->connect_timeout = o->connect_timeout;
	hop->batch_mode = o->batch_mode;
	memcpy(hop->config_file, o->config_file, sizeof hop->config_file);
	hop->verbose = o->verbose;
	hop->quiet = o->quiet;
}

/* In the child: connect to the last hop and relay fd to host:port. */
static int relay_through(const struct ssh_opts *o, const char *jumps,
    int fd)
{
	struct ssh_opts hop;
	struct ssh_conn *c;
	const char *last = strrchr(jumps, ',');
	int ch, rc = 0;

	hop_options(o, &hop);
	if (ssh_opts_destination(&hop, last ? last + 1 : jumps) != 0)
		return 255;
	if (last != NULL) {
		size_t n = (size_t)(last - jumps);

		if (n >= sizeof hop.proxy_jump)
			return 255;
		memcpy(hop.proxy_jump, jumps, n);
		hop.proxy_jump[n] = '\0';
	} else {
		/* Never loop back into this host's own ProxyJump. */
		snprintf(hop.proxy_jump, sizeof hop.proxy_jump, "none");
	}
	c = ssh_connect(&hop);
	if (c == NULL)
		return 255;
	if (ssh_failed(c) || (ch = ssh_chan_direct_tcpip(c,
	    o->hostname[0] ? o->hostname : o->host, o->port ? o->port : 22)) < 0 ||
	    ssh_chan_pump(c, ch, fd, fd, -1) != 0)
		rc = ssh_report(c);
	ssh_close(c);
	return rc;
}

static void run_command(const struct ssh_opts *o, int fd)
{
	char cmd[2048], line[2100];

	ssh_expand_tokens(o, o->proxy_command, cmd, sizeof cmd);
	/* ProxyCommand is a shell command line by definition; the tokens
	 * put into it are validated host names and numbers. */
	snprintf(line, sizeof line, "exec %s", cmd);
	if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0)
		_exit(255);
	if (fd > 1)
		close(fd);
	execl("/bin/sh", "sh", "-c", line, (char *)NULL);
	fprintf(stderr, "remowt: cannot run ProxyCommand: %s\n",
	    strerror(errno));
	_exit(255);
}

int proxy_needed(const struct ssh_opts *o)
{
	return (o->proxy_jump[0] != '\0' && strcmp(o->proxy_jump, "none")) ||
	    (o->proxy_command[0] != '\0' && strcmp(o->proxy_command, "none"));
}

int proxy_open(const struct ssh_opts *o, int *fd, pid_t *pid)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return -1;
	*pid = fork();
	if (*pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (*pid == 0) {
		close(sv[0]);
		signal(SIGPIPE, SIG_IGN);
		if (o->proxy_jump[0] != '\0' && strcmp(o->proxy_jump, "none"))
			_exit(relay_through(o, o->proxy_jump, sv[1]));
		run_command(o, sv[1]);
	}
	close(sv[1]);
	*fd = sv[0];
	return 0;
}

void proxy_close(pid_t pid)
{
	int status;

	if (pid <= 0)
		return;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}
