/*
 * cli.c - what every remowt command shares: messages and --json
 * results, option parsing, HOST:PATH operands, reaching the agent, and
 * running many calls at once.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"

const char *progname = "remowt";

/* Messages. */

void warnx_(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const char *type_name(uint8_t t)
{
	static const char *names[] = { "unknown", "file", "dir", "symlink",
	    "char", "block", "fifo", "socket" };

	return t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

const char *rpc_strerror(uint32_t code, const char *msg)
{
	if (code == RPC_EOTHER)
		return msg;
	return strerror(rpc_err_to_errno(code));
}

/*
 * A failed call: "remowt: CMD: PATH: error", with the agent's detail
 * when it names another path (a file deep inside rm -r, say).
 */
void report_call(const struct cli *cli, const char *path,
    const struct rpc_call *call)
{
	const char *detail = strchr(call->errmsg, ' ');
	const char *err = rpc_strerror(call->err, call->errmsg);

	if (detail != NULL)
		detail++;
	if (detail != NULL && strcmp(detail, path) == 0)
		detail = NULL;
	if (detail != NULL && *detail != '\0')
		warnx_("%s: %s: %s (%s)", cli->cmd, path, err, detail);
	else
		warnx_("%s: %s: %s", cli->cmd, path, err);
	if (!cli->json)
		return;
	printf("{\"command\":");
	json_str(stdout, cli->cmd);
	printf(",\"path\":");
	json_str(stdout, path);
	printf(",\"ok\":false,\"error\":\"%s\",\"message\":",
	    rpc_err_name(call->err));
	json_str(stdout, err);
	if (detail != NULL && *detail != '\0') {
		printf(",\"detail\":");
		json_str(stdout, detail);
	}
	printf("}\n");
}

void report_local(const struct cli *cli, const char *path, int err)
{
	warnx_("%s: %s: %s", cli->cmd, path, strerror(err));
	if (!cli->json)
		return;
	printf("{\"command\":");
	json_str(stdout, cli->cmd);
	printf(",\"path\":");
	json_str(stdout, path);
	printf(",\"ok\":false,\"error\":\"%s\",\"message\":",
	    rpc_err_name(rpc_err_from_errno(err)));
	json_str(stdout, strerror(err));
	printf(",\"local\":true}\n");
}

void json_ok(const struct cli *cli, const char *path)
{
	if (!cli->json)
		return;
	printf("{\"command\":");
	json_str(stdout, cli->cmd);
	printf(",\"path\":");
	json_str(stdout, path);
	printf(",\"ok\":true}\n");
}

int session_lost(const struct cli *cli)
{
	const char *e = cli->rpc ? rpc_client_error(cli->rpc) : NULL;

	warnx_("%s", e != NULL ? e : "session failed");
	if (cli->json) {
		printf("{\"command\":");
		json_str(stdout, cli->cmd);
		printf(",\"ok\":false,\"error\":\"session\",\"message\":");
		json_str(stdout, e != NULL ? e : "session failed");
		printf("}\n");
	}
	return EXIT_CONN;
}

/* Options. */

static const struct optdef *find_short(const struct optdef *defs, int ch)
{
	for (; defs != NULL && defs->ch != 0; defs++)
		if (defs->ch == ch)
			return defs;
	return NULL;
}

static const struct optdef *find_long(const struct optdef *defs,
    const char *name, size_t n)
{
	for (; defs != NULL && defs->ch != 0; defs++)
		if (defs->lname != NULL && strlen(defs->lname) == n &&
		    strncmp(defs->lname, name, n) == 0)
			return defs;
	return NULL;
}

/* Options common to every command; -1 on error, 1 if not one of them. */
static int common_long(struct cli *cli, const char *name)
{
	if (strcmp(name, "json") == 0)
		cli->json = 1;
	else if (strcmp(name, "local") == 0)
		cli->local = 1;
	else
		return 1;
	return 0;
}

static int parse_long(struct cli *cli, int argc, char **argv, int *ip,
    const struct optdef *defs, opt_fn fn, void *arg)
{
	const char *name = argv[*ip] + 2, *eq = strchr(name, '=');
	size_t n = eq != NULL ? (size_t)(eq - name) : strlen(name);
	const struct optdef *d = find_long(defs, name, n);
	const char *val = eq != NULL ? eq + 1 : NULL;

	if (d == NULL && n == 5 && strncmp(name, "cache", 5) == 0) {
		if (val == NULL && *ip + 1 >= argc) {
			warnx_("option --cache needs a directory");
			return -1;
		}
		cli->cache = val != NULL ? val : argv[++*ip];
		return 0;
	}
	if (d == NULL) {
		if (eq == NULL && common_long(cli, name) == 0)
			return 0;
		if (eq == NULL && strcmp(name, "help") == 0)
			usage_help(cli);
		warnx_("unknown option --%.*s", (int)n, name);
		return -1;
	}
	if (d->has_arg && val == NULL) {
		if (*ip + 1 >= argc) {
			warnx_("option --%s needs a value", d->lname);
			return -1;
		}
		val = argv[++*ip];
	} else if (!d->has_arg && val != NULL) {
		warnx_("option --%s takes no value", d->lname);
		return -1;
	}
	return fn(cli, arg, d->ch, val);
}

static int parse_short(struct cli *cli, int argc, char **argv, int *ip,
    const struct optdef *defs, opt_fn fn, void *arg)
{
	const char *s = argv[*ip] + 1, *val, *ssh;
	const struct optdef *d;
	int ch;

	for (; *s != '\0'; s++) {
		ch = (unsigned char)*s;
		d = find_short(defs, ch);
		ssh = strchr(SSH_OPTS_GETOPT, ch);
		if (ch == 'h' && d == NULL)
			usage_help(cli);
		if (d == NULL && (ssh == NULL || ch == ':')) {
			warnx_("unknown option -%c", ch);
			return -1;
		}
		val = NULL;
		if (d != NULL ? d->has_arg : ssh[1] == ':') {
			if (s[1] != '\0')
				val = s + 1;
			else if (*ip + 1 < argc)
				val = argv[++*ip];
			else {
				warnx_("option -%c needs a value", ch);
				return -1;
			}
		}
		if (d != NULL) {
			if (fn(cli, arg, ch, val) != 0)
				return -1;
		} else if (ssh_opts_option(&cli->ssh, ch, val) != 0) {
			return -1;
		}
		if (val != NULL)
			break;
	}
	return 0;
}

int parse_opts(struct cli *cli, int argc, char **argv, int *ip,
    const struct optdef *defs, opt_fn fn, void *arg)
{
	const char *a;
	int rc;

	while (*ip < argc) {
		a = argv[*ip];
		if (strcmp(a, "--") == 0) {
			cli->dashdash = 1;
			++*ip;
			return 0;
		}
		if (a[0] != '-' || a[1] == '\0')
			return 0;
		if (a[1] == '-')
			rc = parse_long(cli, argc, argv, ip, defs, fn, arg);
		else
			rc = parse_short(cli, argc, argv, ip, defs, fn, arg);
		if (rc != 0)
			return -1;
		++*ip;
	}
	return 0;
}

int no_opt(struct cli *cli, void *arg, int ch, const char *val)
{
	(void)cli;
	(void)arg;
	(void)ch;
	(void)val;
	return 0;
}

int parse_mode(const char *s, uint32_t *mode)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 8);
	if (errno != 0 || *s == '\0' || *end != '\0' || v > 07777) {
		warnx_("bad mode '%s' (octal, e.g. 0644)", s);
		return -1;
	}
	*mode = (uint32_t)v;
	return 0;
}

int parse_u32(const char *s, uint32_t *v, const char *what)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || n > UINT32_MAX) {
		warnx_("bad %s '%s'", what, s);
		return -1;
	}
	*v = (uint32_t)n;
	return 0;
}

/* Hosts and paths. */

int connect_agent(struct cli *cli, const char *host)
{
	struct rpc_link link;
	const char *path = getenv("REMOWT_AGENT");

	if (!cli->local) {
		if (ssh_opts_destination(&cli->ssh, host) != 0)
			return EXIT_CONN;
		if (deploy_connect(&cli->ssh, cli->cache ? cli->cache : "",
		    &link, &cli->deploy) != 0)
			return EXIT_CONN;
	} else {
		if (path != NULL && *path == '\0')
			path = NULL;
		if (rpc_link_spawn(&link, path, remowt_agent_start,
		    (size_t)(remowt_agent_end - remowt_agent_start)) != 0) {
			warnx_("cannot start the agent: %s", strerror(errno));
			return EXIT_CONN;
		}
	}
	return agent_session(cli, &link, host);
}

int agent_session(struct cli *cli, const struct rpc_link *link,
    const char *host)
{
	if ((cli->rpc = rpc_client_new(link)) == NULL) {
		link->close(link->ctx);
		warnx_("out of memory");
		return EXIT_CONN;
	}
	if (rpc_client_hello(cli->rpc, &cli->agent) != 0)
		return session_lost(cli);
	/* Belt and braces: the stager checked the file before running it;
	 * the agent's own view of its executable must agree. */
	if (!cli->local && strcmp(cli->agent.exe_sha256, cli->deploy.hash)) {
		warnx_("%s: the agent running there (sha256 %s) is not the one "
		    "remowt sent (%s); refusing to use it", host,
		    cli->agent.exe_sha256, cli->deploy.hash);
		disconnect(cli);
		return EXIT_CONN;
	}
	return 0;
}

void disconnect(struct cli *cli)
{
	rpc_client_free(cli->rpc);
	cli->rpc = NULL;
}

int split_remote(struct cli *cli, struct target *t, char *arg,
    char **path)
{
	char *colon;
	size_t n;

	if (cli->local) {
		*path = arg;
		return 0;
	}
	if ((colon = strchr(arg, ':')) == NULL || colon == arg) {
		warnx_("%s: '%s': expected HOST:PATH", cli->cmd, arg);
		return -1;
	}
	n = (size_t)(colon - arg);
	if (n >= sizeof t->host) {
		warnx_("%s: host name too long", cli->cmd);
		return -1;
	}
	if (t->have_host && (strlen(t->host) != n ||
	    strncmp(t->host, arg, n) != 0)) {
		warnx_("%s: all remote paths must be on one host", cli->cmd);
		return -1;
	}
	memcpy(t->host, arg, n);
	t->host[n] = '\0';
	t->have_host = 1;
	*path = colon + 1;
	return 0;
}

/* Connect for commands whose operands are all remote paths. */
int connect_paths(struct cli *cli, int argc, char **argv,
    char **paths)
{
	struct target t;
	int i;

	memset(&t, 0, sizeof t);
	for (i = 0; i < argc; i++)
		if (split_remote(cli, &t, argv[i], &paths[i]) != 0)
			return 2;
	return connect_agent(cli, t.host);
}

/* Running many calls of one kind at once, results in order. */

/*
 * Issue one call per path, up to MAX_INFLIGHT in flight; print each
 * result, in the order of the paths, once it and those before it are
 * in.  Returns the exit code.
 */
int run_many(struct cli *cli, int n, char **paths, start_fn start,
    done_fn done)
{
	struct rpc_call *calls;
	int next = 0, first = 0, rc = 0;

	if ((calls = calloc((size_t)n, sizeof *calls)) == NULL) {
		warnx_("out of memory");
		return EXIT_FAIL;
	}
	while (first < n) {
		while (next < n && next - first < MAX_INFLIGHT) {
			rpc_call_init(&calls[next], NULL, NULL);
			if (start(cli, &calls[next], paths[next]) != 0) {
				free(calls);
				return session_lost(cli);
			}
			next++;
		}
		if (rpc_wait(cli->rpc, &calls[first]) != 0) {
			free(calls);
			return session_lost(cli);
		}
		if (done(cli, &calls[first], paths[first]) != 0)
			rc = EXIT_FAIL;
		rpc_call_release(&calls[first]);
		first++;
	}
	free(calls);
	return rc;
}

void json_stat_fields(const struct rpc_stat *st)
{
	printf(",\"type\":\"%s\",\"mode\":%u,\"mode_octal\":\"%04o\","
	    "\"nlink\":%u,\"uid\":%u,\"gid\":%u,\"size\":%llu,\"blocks\":%llu,"
	    "\"ino\":%llu,\"dev\":%llu,\"rdev\":%llu,"
	    "\"atime\":%lld,\"atime_ns\":%u,\"mtime\":%lld,\"mtime_ns\":%u,"
	    "\"ctime\":%lld,\"ctime_ns\":%u",
	    type_name(st->type), st->mode, st->mode, st->nlink, st->uid,
	    st->gid, (unsigned long long)st->size,
	    (unsigned long long)st->blocks, (unsigned long long)st->ino,
	    (unsigned long long)st->dev, (unsigned long long)st->rdev,
	    (long long)st->atime, st->atime_ns, (long long)st->mtime,
	    st->mtime_ns, (long long)st->ctime, st->ctime_ns);
}

