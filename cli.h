/*
 * cli.h - what every remowt command shares: the command-line state,
 * messages and --json results, option parsing, HOST:PATH operands,
 * reaching the agent, and running many calls at once.
 */
#ifndef REMOWT_CLI_H
#define REMOWT_CLI_H

#include <stdint.h>

#include "deploy.h"
#include "rpc.h"
#include "rpcclient.h"
#include "ssh_min.h"

#define EXIT_FAIL	1	/* an operation failed */
#define EXIT_USAGE	2
#define EXIT_CONN	255	/* the connection or the protocol failed */
#define MAX_INFLIGHT	64	/* calls one command keeps in flight */

struct cli {
	int local;
	int json;
	int dashdash;		/* "--" ended the options */
	const char *cmd;
	struct ssh_opts ssh;
	struct rpc_client *rpc;
	struct rpc_agent_info agent;
	const char *cache;	/* --cache DIR: where the host keeps agents */
	struct deploy_info deploy;
};

extern const char *progname;

/* Messages: "remowt: ..." on stderr, and with --json a result object. */
void warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void report_call(const struct cli *cli, const char *path,
    const struct rpc_call *call);
void report_local(const struct cli *cli, const char *path, int err);
void json_ok(const struct cli *cli, const char *path);
void json_stat_fields(const struct rpc_stat *st);
int session_lost(const struct cli *cli);		/* EXIT_CONN */
const char *type_name(uint8_t t);
const char *rpc_strerror(uint32_t code, const char *msg);

/* Usage, in remowt.c: the command's own or the general one. */
void usage_help(const struct cli *cli) __attribute__((noreturn));
int usage_error(const struct cli *cli);			/* EXIT_USAGE */

/* Options: a command's own (defs, ended by ch 0), then ssh's, then
 * --json, --local, --cache and --help. */
struct optdef {
	int ch;			/* short letter, or an id > 255 */
	const char *lname;	/* long name without "--", or NULL */
	int has_arg;
};
typedef int (*opt_fn)(struct cli *, void *, int ch, const char *arg);

int parse_opts(struct cli *cli, int argc, char **argv, int *ip,
    const struct optdef *defs, opt_fn fn, void *arg);
int no_opt(struct cli *cli, void *arg, int ch, const char *val);
int parse_mode(const char *s, uint32_t *mode);
int parse_u32(const char *s, uint32_t *v, const char *what);

/*
 * The host and the path of "HOST:PATH" operands; with --local there is
 * no host and the operand is the path, colons and all.  All remote
 * operands of one command must name the same host.
 */
struct target {
	char host[256];
	int have_host;
};

int split_remote(struct cli *cli, struct target *t, char *arg, char **path);

/* The agent for HOST (or the local one), hello done; 0 or an exit code. */
int connect_agent(struct cli *cli, const char *host);
/* The same over a link already made (to HOST): hello, and the check
 * that the agent there is the one sent. */
int agent_session(struct cli *cli, const struct rpc_link *link,
    const char *host);
int connect_paths(struct cli *cli, int argc, char **argv, char **paths);
void disconnect(struct cli *cli);

/* One call per path, MAX_INFLIGHT at a time, results in order. */
typedef int (*start_fn)(struct cli *, struct rpc_call *, const char *);
typedef int (*done_fn)(struct cli *, struct rpc_call *, const char *);

int run_many(struct cli *cli, int n, char **paths, start_fn start,
    done_fn done);

#endif
