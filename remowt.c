/*
 * remowt.c - the command line: remowt [options] COMMAND HOST ...
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "buf.h"
#include "cli.h"
#include "json.h"
#include "shell.h"
#include "tree.h"

#define REMOWT_VERSION	"0.1"

#define READ_WINDOW	(1024u * 1024)
#define EXEC_WINDOW	(256u * 1024)
#define CAPTURE_LIMIT	(64u * 1024 * 1024)
#define MAX_ENV_OPS	1024

/* Usage. */

struct command {
	const char *name;
	int (*run)(struct cli *, int, char **);
	const char *synopsis;
	const char *help;
};

static const struct command *find_command(const char *name);
static void usage_all(FILE *f);

static void usage_cmd(FILE *f, const struct command *c)
{
	fprintf(f, "usage: %s [options] %s %s\n%s", progname, c->name,
	    c->synopsis, c->help);
}

void usage_help(const struct cli *cli)
{
	const struct command *c = cli->cmd ? find_command(cli->cmd) : NULL;

	if (c != NULL)
		usage_cmd(stdout, c);
	else
		usage_all(stdout);
	exit(0);
}

int usage_error(const struct cli *cli)
{
	const struct command *c = cli->cmd ? find_command(cli->cmd) : NULL;

	if (c != NULL)
		usage_cmd(stderr, c);
	else
		usage_all(stderr);
	return 2;
}

/* Simple file operations. */

static int finish_simple(struct cli *cli, struct rpc_call *call,
    const char *path)
{
	if (call->final == RPC_R_ERROR) {
		report_call(cli, path, call);
		return -1;
	}
	json_ok(cli, path);
	return 0;
}

static void print_time(FILE *f, int64_t sec, uint32_t ns)
{
	struct tm tm;
	time_t t = (time_t)sec;
	char s[64];

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(s, sizeof s, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(s, sizeof s, "@%lld", (long long)sec);
	fprintf(f, "%s.%09u", s, ns);
	if (strftime(s, sizeof s, " %z", &tm) > 0)
		fputs(s, f);
	fputc('\n', f);
}

static void mode_string(const struct rpc_stat *st, char out[11])
{
	static const char types[] = "?-dlcbps";
	uint32_t m = st->mode;

	out[0] = st->type < 8 ? types[st->type] : '?';
	out[1] = (m & 0400) ? 'r' : '-';
	out[2] = (m & 0200) ? 'w' : '-';
	out[3] = (m & 04000) ? ((m & 0100) ? 's' : 'S') : ((m & 0100) ? 'x' : '-');
	out[4] = (m & 040) ? 'r' : '-';
	out[5] = (m & 020) ? 'w' : '-';
	out[6] = (m & 02000) ? ((m & 010) ? 's' : 'S') : ((m & 010) ? 'x' : '-');
	out[7] = (m & 04) ? 'r' : '-';
	out[8] = (m & 02) ? 'w' : '-';
	out[9] = (m & 01000) ? ((m & 01) ? 't' : 'T') : ((m & 01) ? 'x' : '-');
	out[10] = '\0';
}

struct stat_opts {
	int follow;
};

static int stat_opt(struct cli *cli, void *arg, int ch, const char *val)
{
	(void)cli;
	(void)val;
	if (ch == 'L')
		((struct stat_opts *)arg)->follow = 1;
	return 0;
}

static int stat_follow;

static int start_stat(struct cli *cli, struct rpc_call *call,
    const char *path)
{
	return rpc_stat(cli->rpc, call, path, strlen(path), !stat_follow);
}

static int done_stat(struct cli *cli, struct rpc_call *call,
    const char *path)
{
	const struct rpc_stat *st = &call->st;
	char ms[11];

	if (call->final != RPC_R_STAT) {
		report_call(cli, path, call);
		return -1;
	}
	if (cli->json) {
		printf("{\"command\":\"stat\",\"path\":");
		json_str(stdout, path);
		printf(",\"ok\":true");
		json_stat_fields(st);
		printf("}\n");
		return 0;
	}
	mode_string(st, ms);
	printf("  File: %s\n  Type: %s\n  Size: %llu\tBlocks: %llu\n"
	    "  Mode: %04o (%s)\tUid: %u\tGid: %u\tLinks: %u\n"
	    " Inode: %llu\tDevice: %llu\n",
	    path, type_name(st->type), (unsigned long long)st->size,
	    (unsigned long long)st->blocks, st->mode, ms, st->uid, st->gid,
	    st->nlink, (unsigned long long)st->ino,
	    (unsigned long long)st->dev);
	printf("Access: ");
	print_time(stdout, st->atime, st->atime_ns);
	printf("Modify: ");
	print_time(stdout, st->mtime, st->mtime_ns);
	printf("Change: ");
	print_time(stdout, st->ctime, st->ctime_ns);
	return 0;
}

static int cmd_stat(struct cli *cli, int argc, char **argv)
{
	static const struct optdef defs[] = { { 'L', "follow", 0 }, { 0, 0, 0 } };
	struct stat_opts o = { 0 };
	char **paths;
	int i = 0, rc;

	if (parse_opts(cli, argc, argv, &i, defs, stat_opt, &o) != 0)
		return usage_error(cli);
	if (i >= argc)
		return usage_error(cli);
	stat_follow = o.follow;
	if ((paths = calloc((size_t)(argc - i), sizeof *paths)) == NULL)
		return EXIT_FAIL;
	if ((rc = connect_paths(cli, argc - i, argv + i, paths)) == 0)
		rc = run_many(cli, argc - i, paths, start_stat, done_stat);
	free(paths);
	return rc;
}

/* sum: SHA-256, printed as sha256sum prints it. */

static int start_sum(struct cli *cli, struct rpc_call *call, const char *path)
{
	return rpc_sum(cli->rpc, call, path, strlen(path));
}

static int done_sum(struct cli *cli, struct rpc_call *call, const char *path)
{
	const char *p;
	int i, escape;

	if (call->final != RPC_R_SUM) {
		report_call(cli, path, call);
		return -1;
	}
	if (cli->json) {
		printf("{\"command\":\"sum\",\"path\":");
		json_str(stdout, path);
		printf(",\"ok\":true,\"size\":%llu,\"sha256\":\"",
		    (unsigned long long)call->size);
		for (i = 0; i < 32; i++)
			printf("%02x", call->digest[i]);
		printf("\"}\n");
		return 0;
	}
	/* Like sha256sum: a name with \ or newline is escaped, line marked. */
	escape = strpbrk(path, "\\\n") != NULL;
	if (escape)
		putchar('\\');
	for (i = 0; i < 32; i++)
		printf("%02x", call->digest[i]);
	printf("  ");
	for (p = path; *p != '\0'; p++) {
		if (escape && *p == '\\')
			fputs("\\\\", stdout);
		else if (escape && *p == '\n')
			fputs("\\n", stdout);
		else
			putchar(*p);
	}
	putchar('\n');
	return 0;
}

static int cmd_sum(struct cli *cli, int argc, char **argv)
{
	char **paths;
	int i = 0, rc;

	if (parse_opts(cli, argc, argv, &i, NULL, no_opt, NULL) != 0 ||
	    i >= argc)
		return usage_error(cli);
	if ((paths = calloc((size_t)(argc - i), sizeof *paths)) == NULL)
		return EXIT_FAIL;
	if ((rc = connect_paths(cli, argc - i, argv + i, paths)) == 0)
		rc = run_many(cli, argc - i, paths, start_sum, done_sum);
	free(paths);
	return rc;
}

/* df */

static int start_df(struct cli *cli, struct rpc_call *call, const char *path)
{
	return rpc_statvfs(cli->rpc, call, path, strlen(path));
}

static int done_df(struct cli *cli, struct rpc_call *call, const char *path)
{
	const struct rpc_statvfs *v = &call->vfs;
	uint64_t unit = v->frsize ? v->frsize : v->bsize;
	uint64_t size = v->blocks * unit, avail = v->bavail * unit;
	uint64_t used = (v->blocks - v->bfree) * unit;
	uint64_t pct = used + avail ? (used * 100 + used + avail - 1) /
	    (used + avail) : 0;

	if (call->final != RPC_R_STATVFS) {
		report_call(cli, path, call);
		return -1;
	}
	if (cli->json) {
		printf("{\"command\":\"df\",\"path\":");
		json_str(stdout, path);
		printf(",\"ok\":true,\"bsize\":%llu,\"frsize\":%llu,"
		    "\"blocks\":%llu,\"bfree\":%llu,\"bavail\":%llu,"
		    "\"files\":%llu,\"ffree\":%llu,\"favail\":%llu,"
		    "\"namemax\":%llu,\"readonly\":%s,\"size_bytes\":%llu,"
		    "\"used_bytes\":%llu,\"avail_bytes\":%llu}\n",
		    (unsigned long long)v->bsize, (unsigned long long)v->frsize,
		    (unsigned long long)v->blocks, (unsigned long long)v->bfree,
		    (unsigned long long)v->bavail, (unsigned long long)v->files,
		    (unsigned long long)v->ffree, (unsigned long long)v->favail,
		    (unsigned long long)v->namemax,
		    (v->flags & 1) ? "true" : "false",
		    (unsigned long long)size, (unsigned long long)used,
		    (unsigned long long)avail);
		return 0;
	}
	printf("%12llu %12llu %12llu %3llu%% %10llu %10llu %s\n",
	    (unsigned long long)(size / 1024), (unsigned long long)(used / 1024),
	    (unsigned long long)(avail / 1024), (unsigned long long)pct,
	    (unsigned long long)v->files, (unsigned long long)v->ffree, path);
	return 0;
}

static int cmd_df(struct cli *cli, int argc, char **argv)
{
	char **paths;
	int i = 0, rc;

	if (parse_opts(cli, argc, argv, &i, NULL, no_opt, NULL) != 0 ||
	    i >= argc)
		return usage_error(cli);
	if ((paths = calloc((size_t)(argc - i), sizeof *paths)) == NULL)
		return EXIT_FAIL;
	if ((rc = connect_paths(cli, argc - i, argv + i, paths)) == 0) {
		if (!cli->json)
			printf("   1K-blocks         Used    Available Use%%"
			    "     Inodes      IFree Path\n");
		rc = run_many(cli, argc - i, paths, start_df, done_df);
	}
	free(paths);
	return rc;
}

/* mkdir, rm, chmod, readlink: one call per path. */

struct simple_opts {
	int parents, recursive, force, nofollow, mode_given;
	uint32_t mode;
};

static struct simple_opts sopts;

static int simple_opt(struct cli *cli, void *arg, int ch, const char *val)
{
	struct simple_opts *o = arg;

	(void)cli;
	switch (ch) {
	case 'p':
		o->parents = 1;
		break;
	case 'r':
	case 'R':
		o->recursive = 1;
		break;
	case 'f':
		o->force = 1;
		break;
	case 'h':
		o->nofollow = 1;
		break;
	case 'm':
		o->mode_given = 1;
		return parse_mode(val, &o->mode);
	}
	return 0;
}

static int start_mkdir(struct cli *cli, struct rpc_call *call,
    const char *path)
{
	uint32_t flags = (sopts.parents ? RPC_MKDIR_PARENTS : 0) |
	    (sopts.mode_given ? RPC_MKDIR_EXACT : 0);

	return rpc_mkdir(cli->rpc, call, path, strlen(path), flags,
	    sopts.mode_given ? sopts.mode : 0777);
}

static int start_rm(struct cli *cli, struct rpc_call *call, const char *path)
{
	return rpc_remove(cli->rpc, call, path, strlen(path),
	    sopts.recursive ? RPC_REMOVE_RECURSIVE : 0);
}

static int done_rm(struct cli *cli, struct rpc_call *call, const char *path)
{
	if (call->final == RPC_R_ERROR && sopts.force &&
	    rpc_err_to_errno(call->err) == ENOENT) {
		json_ok(cli, path);
		return 0;
	}
	return finish_simple(cli, call, path);
}

static int start_chmod(struct cli *cli, struct rpc_call *call,
    const char *path)
{
	return rpc_chmod(cli->rpc, call, path, strlen(path), sopts.mode);
}

static int start_readlink(struct cli *cli, struct rpc_call *call,
    const char *path)
{
	return rpc_readlink(cli->rpc, call, path, strlen(path));
}

static int done_readlink(struct cli *cli, struct rpc_call *call,
    const char *path)
{
	if (call->final != RPC_R_LINK || call->link == NULL) {
		report_call(cli, path, call);
		return -1;
	}
	if (cli->json) {
		printf("{\"command\":\"readlink\",\"path\":");
		json_str(stdout, path);
		printf(",\"ok\":true,\"target\":");
		json_bytes(stdout, call->link, call->link_len);
		printf("}\n");
	} else {
		fwrite(call->link, 1, call->link_len, stdout);
		putchar('\n');
	}
	return 0;
}

static int run_paths(struct cli *cli, int argc, char **argv, start_fn start,
    done_fn done)
{
	char **paths;
	int rc;

	if (argc <= 0)
		return usage_error(cli);
	if ((paths = calloc((size_t)argc, sizeof *paths)) == NULL)
		return EXIT_FAIL;
	if ((rc = connect_paths(cli, argc, argv, paths)) == 0)
		rc = run_many(cli, argc, paths, start, done);
	free(paths);
	return rc;
}

static int cmd_mkdir(struct cli *cli, int argc, char **argv)
{
	static const struct optdef defs[] = { { 'p', "parents", 0 },
	    { 'm', "mode", 1 }, { 0, 0, 0 } };
	int i = 0;

	if (parse_opts(cli, argc, argv, &i, defs, simple_opt, &sopts) != 0)
		return usage_error(cli);
	return run_paths(cli, argc - i, argv + i, start_mkdir, finish_simple);
}

static int cmd_rm(struct cli *cli, int argc, char **argv)
{
	static const struct optdef defs[] = { { 'r', "recursive", 0 },
	    { 'R', NULL, 0 }, { 'f', "force", 0 }, { 0, 0, 0 } };
	int i = 0;

	if (parse_opts(cli, argc, argv, &i, defs, simple_opt, &sopts) != 0)
		return usage_error(cli);
	return run_paths(cli, argc - i, argv + i, start_rm, done_rm);
}

static int cmd_chmod(struct cli *cli, int argc, char **argv)
{
	int i = 0;

	if (parse_opts(cli, argc, argv, &i, NULL, no_opt, NULL) != 0 ||
	    argc - i < 2 || parse_mode(argv[i], &sopts.mode) != 0)
		return usage_error(cli);
	return run_paths(cli, argc - i - 1, argv + i + 1, start_chmod,
	    finish_simple);
}

static int cmd_readlink(struct cli *cli, int argc, char **argv)
{
	int i = 0;

	if (parse_opts(cli, argc, argv, &i, NULL, no_opt, NULL) != 0)
		return usage_error(cli);
	return run_paths(cli, argc - i, argv + i, start_readlink,
	    done_readlink);
}

/* chown UID[:GID] (numeric: names mean nothing across machines). */

static uint32_t chown_uid, chown_gid;

static int start_chown(struct cli *cli, struct rpc_call *call,
    const char *path)
{
	return rpc_chown(cli->rpc, call, path, strlen(path), chown_uid,
	    chown_gid, sopts.nofollow ? RPC_CHOWN_NOFOLLOW : 0);
}

static int cmd_chown(struct cli *cli, int argc, char **argv)
{
	static const struct optdef defs[] = { { 'h', "no-dereference", 0 },
	    { 0, 0, 0 } };
	char owner[64], *colon;
	int i = 0;

	if (parse_opts(cli, argc, argv, &i, defs, simple_opt, &sopts) != 0 ||
	    argc - i < 2)
		return usage_error(cli);
	snprintf(owner, sizeof owner, "%s", argv[i]);
	chown_uid = chown_gid = RPC_ID_NONE;
	if ((colon = strchr(owner, ':')) != NULL) {
		*colon = '\0';
		if (colon[1] != '\0' && parse_u32(colon + 1, &chown_gid,
		    "group id") != 0)
			return 2;
	}
	if (owner[0] != '\0' && parse_u32(owner, &chown_uid, "user id") != 0)
		return 2;
	return run_paths(cli, argc - i - 1, argv + i + 1, start_chown,
	    finish_simple);
}

/* touch: set times, creating an empty file if there is none. */

static int64_t touch_time;
static int touch_given;

static int touch_opt(struct cli *cli, void *arg, int ch, const char *val)
{
	char *end;

	(void)cli;
	(void)arg;
	(void)ch;
	errno = 0;
	touch_time = strtoll(val, &end, 10);
	if (errno != 0 || *val == '\0' || *end != '\0') {
		warnx_("bad time '%s' (seconds since the epoch)", val);
		return -1;
	}
	touch_given = 1;
	return 0;
}

static int start_touch(struct cli *cli, struct rpc_call *call,
    const char *path)
{
	uint32_t ns = touch_given ? 0 : RPC_UTIME_NOW;

	return rpc_utime(cli->rpc, call, path, strlen(path), 0, touch_time,
	    ns, touch_time, ns);
}

static int done_touch(struct cli *cli, struct rpc_call *call,
    const char *path)
{
	struct rpc_call w;
	int fd, rc;

	if (call->final == RPC_R_ERROR &&
	    rpc_err_to_errno(call->err) == ENOENT) {
		/* An append of nothing: the stream ends at once. */
		if ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
			return -1;
		rpc_call_init(&w, NULL, NULL);
		rc = rpc_source_fd(&w, fd);
		if (rc == 0 && (rpc_write(cli->rpc, &w, path, strlen(path),
		    RPC_WRITE_APPEND, 0) != 0 || rpc_wait(cli->rpc, &w) != 0))
			rc = -1;
		close(fd);
		if (rc == 0 && w.final == RPC_R_ERROR) {
			report_call(cli, path, &w);
			rc = -1;
		}
		rpc_call_release(&w);
		if (rc != 0)
			return -1;
		rpc_call_init(call, NULL, NULL);
		if (start_touch(cli, call, path) != 0 ||
		    rpc_wait(cli->rpc, call) != 0)
			return -1;
	}
	return finish_simple(cli, call, path);
}

static int cmd_touch(struct cli *cli, int argc, char **argv)
{
	static const struct optdef defs[] = { { 't', "time", 1 }, { 0, 0, 0 } };
	int i = 0;

	if (parse_opts(cli, argc, argv, &i, defs, touch_opt, NULL) != 0)
		return usage_error(cli);
	return run_paths(cli, argc - i, argv + i, start_touch, done_touch);
}

/* mv and ln: two paths on one host. */

static int two_paths(struct cli *cli, int argc, char **argv, char **a,
    char **b)
{
	struct target t;

	if (argc != 2)
		return usage_error(cli);
	memset(&t, 0, sizeof t);
	if (split_remote(cli, &t, argv[0], a) != 0)
		return 2;
	/* The second may omit the host: it is the same machine. */
	if (!cli->local && strchr(argv[1], ':') == NULL)
		*b = argv[1];
	else if (split_remote(cli, &t, argv[1], b) != 0)
		return 2;
	return connect_agent(cli, t.host);
}

static int cmd_mv(struct cli *cli, int argc, char **argv)
{
	struct rpc_call call;
	char *from, *to;
	int i = 0, rc;

	if (parse_opts(cli, argc, argv, &i, NULL, no_opt, NULL) != 0)
		return usage_error(cli);
	if ((rc = two_paths(cli, argc - i, argv + i, &from, &to)) != 0)
		return rc;
	rpc_call_init(&call, NULL, NULL);
	if (rpc_rename(cli->rpc, &call, from, strlen(from), to, strlen(to)) ||
	    rpc_wait(cli->rpc, &call) != 0)
		return session_lost(cli);
	return finish_simple(cli, &call, from) ? EXIT_FAIL : 0;
}

struct ln_opts {
	int symbolic;
};

static int ln_opt(struct cli *cli, void *arg, int ch, const char *val)
{
	(void)cli;
	(void)val;
	if (ch == 's')
		((struct ln_opts *)arg)->symbolic = 1;
	return 0;
}

static int cmd_ln(struct cli *cli, int argc, char **argv)
{
	static const struct optdef defs[] = { { 's', "symbolic", 0 },
	    { 0, 0, 0 } };
	struct ln_opts o = { 0 };
	struct rpc_call call;
	struct target t;
	char *link;
	int i = 0, rc;

	if (parse_opts(cli, argc, argv, &i, defs, ln_opt, &o) != 0 ||
	    argc - i != 2)
		return usage_error(cli);
	if (!o.symbolic) {
		warnx_("ln: only symbolic links (-s) are supported");
		return 2;
	}
	memset(&t, 0, sizeof t);
	if (split_remote(cli, &t, argv[i + 1], &link) != 0)
		return 2;
	if ((rc = connect_agent(cli, t.host)) != 0)
		return rc;
	rpc_call_init(&call, NULL, NULL);
	if (rpc_symlink(cli->rpc, &call, argv[i], strlen(argv[i]), link,
	    strlen(link)) != 0 || rpc_wait(cli->rpc, &call) != 0)
		return session_lost(cli);
	return finish_simple(cli, &call, link) ? EXIT_FAIL : 0;
}

/* ls */

struct entry {
	char *name;
	size_t nlen;
	char *link;
	size_t llen;
	uint32_t err;
	struct rpc_stat st;
};

struct listing {
	struct entry *e;
	size_t n, cap;
	int failed;
};

static char *dup_bytes(const struct rpc_bytes *b)
{
	char *p = malloc(b->n + 1);

	if (p != NULL) {
		memcpy(p, b->p, b->n);
		p[b->n] = '\0';
	}
	return p;
}

static void on_dirents(struct rpc_call *call, const struct rpc_reply *r)
{
	struct listing *l = call->arg;
	struct rpc_dirent d;
	struct buf b;
	struct entry *e;
	int rc;

	if (r->type != RPC_R_DIRENTS)
		return;
	b = r->dirents;
	while ((rc = rpc_dirent_next(&b, &d)) == 1) {
		if (l->n == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 256;
			e = realloc(l->e, l->cap * sizeof *e);
			if (e == NULL) {
				l->failed = 1;
				return;
			}
			l->e = e;
		}
		e = &l->e[l->n];
		e->name = dup_bytes(&d.name);
		e->nlen = d.name.n;
		e->link = dup_bytes(&d.link);
		e->llen = d.link.n;
		e->err = d.err;
		e->st = d.st;
		if (e->name == NULL || e->link == NULL) {
			l->failed = 1;
			return;
		}
		l->n++;
	}
	if (rc < 0)
		l->failed = 1;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	size_t n = x->nlen < y->nlen ? x->nlen : y->nlen;
	int c = memcmp(x->name, y->name, n);

	if (c != 0)
		return c;
	return x->nlen < y->nlen ? -1 : x->nlen > y->nlen;
}

struct ls_opts {
	int lng, all;
};

static int ls_opt(struct cli *cli, void *arg, int ch, const char *val)
{
	struct ls_opts *o = arg;

	(void)cli;
	(void)val;
	if (ch == 'l')
		o->lng = 1;
	else if (ch == 'a')
		o->all = 1;
	return 0;
}

static void ls_time(int64_t sec)
{
	time_t t = (time_t)sec, now = time(NULL);
	struct tm tm;
	char s[32];
	const char *fmt = (t > now - 182 * 86400 && t <= now + 3600) ?
	    "%b %e %H:%M" : "%b %e  %Y";

	if (localtime_r(&t, &tm) == NULL || strftime(s, sizeof s, fmt, &tm) == 0)
		snprintf(s, sizeof s, "%lld", (long long)sec);
	fputs(s, stdout);
}

static void ls_print(const struct cli *cli, const struct ls_opts *o,
    const struct entry *e, const char *dir)
{
	char ms[11];

	if (cli->json) {
		printf("{\"command\":\"ls\",\"dir\":");
		json_str(stdout, dir);
		printf(",\"name\":");
		json_bytes(stdout, e->name, e->nlen);
		if (e->err != 0) {
			printf(",\"error\":\"%s\"}\n", rpc_err_name(e->err));
			return;
		}
		json_stat_fields(&e->st);
		if (e->st.type == RPC_T_LNK) {
			printf(",\"target\":");
			json_bytes(stdout, e->link, e->llen);
		}
		printf("}\n");
		return;
	}
	if (o->lng) {
		mode_string(&e->st, ms);
		printf("%s %3u %5u %5u %10llu ", ms, e->st.nlink, e->st.uid,
		    e->st.gid, (unsigned long long)e->st.size);
		ls_time(e->st.mtime);
		putchar(' ');
	}
	fwrite(e->name, 1, e->nlen, stdout);
	if (o->lng && e->st.type == RPC_T_LNK) {
		fputs(" -> ", stdout);
		fwrite(e->link, 1, e->llen, stdout);
	}
	putchar('\n');
}

static void listing_free(struct listing *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->e[i].name);
		free(l->e[i].link);
	}
	free(l->e);
}

/* A path that is not a directory is listed as itself. */
static int ls_single(struct cli *cli, const struct ls_opts *o,
    const char *path)
{
	struct rpc_call call;
	struct entry e;
	int rc = 0;

	rpc_call_init(&call, NULL, NULL);
	if (rpc_stat(cli->rpc, &call, path, strlen(path), 1) != 0 ||
	    rpc_wait(cli->rpc, &call) != 0)
		return session_lost(cli);
	if (call.final != RPC_R_STAT) {
		report_call(cli, path, &call);
		return EXIT_FAIL;
	}
	memset(&e, 0, sizeof e);
	e.name = (char *)path;
	e.nlen = strlen(path);
	e.st = call.st;
	e.link = "";
	if (call.st.type == RPC_T_LNK && o->lng) {
		rpc_call_init(&call, NULL, NULL);
		if (rpc_readlink(cli->rpc, &call, path, strlen(path)) != 0 ||
		    rpc_wait(cli->rpc, &call) != 0)
			return session_lost(cli);
		if (call.link != NULL) {
			e.link = call.link;
			e.llen = call.link_len;
		}
	}
	ls_print(cli, o, &e, path);
	rpc_call_release(&call);
	return rc;
}

static int ls_one(struct cli *cli, const struct ls_opts *o, const char *path)
{
	struct listing l;
	struct rpc_call call;
	size_t i;
	int rc = 0;

	memset(&l, 0, sizeof l);
	rpc_call_init(&call, on_dirents, &l);
	if (rpc_list(cli->rpc, &call, path, strlen(path)) != 0 ||
	    rpc_wait(cli->rpc, &call) != 0)
		return session_lost(cli);
	if (call.final == RPC_R_ERROR &&
	    rpc_err_to_errno(call.err) == ENOTDIR) {
		listing_free(&l);
		return ls_single(cli, o, path);
	}
	if (call.final == RPC_R_ERROR) {
		report_call(cli, path, &call);
		rc = EXIT_FAIL;
	} else if (l.failed) {
		warnx_("ls: %s: listing could not be read", path);
		rc = EXIT_FAIL;
	} else {
		qsort(l.e, l.n, sizeof *l.e, entry_cmp);
		for (i = 0; i < l.n; i++)
			if (o->all || l.e[i].name[0] != '.')
				ls_print(cli, o, &l.e[i], path);
	}
	listing_free(&l);
	return rc;
}

static int cmd_ls(struct cli *cli, int argc, char **argv)
{
	static const struct optdef defs[] = { { 'l', NULL, 0 },
	    { 'a', "all", 0 }, { 0, 0, 0 } };
	struct ls_opts o = { 0, 0 };
	char **paths, *dot = ".";
	int i = 0, n, k, rc;

	if (parse_opts(cli, argc, argv, &i, defs, ls_opt, &o) != 0)
		return usage_error(cli);
	n = argc - i;
	if (n == 0 && !cli->local)
		return usage_error(cli);
	if ((paths = calloc((size_t)(n ? n : 1), sizeof *paths)) == NULL)
		return EXIT_FAIL;
	if (n == 0)
		rc = connect_paths(cli, 1, &dot, paths), n = 1;
	else
		rc = connect_paths(cli, n, argv + i, paths);
	for (k = 0; rc != EXIT_CONN && rc != 2 && k < n; k++) {
		if (n > 1 && !cli->json)
			printf("%s%s:\n", k ? "\n" : "", paths[k]);
		if ((i = ls_one(cli, &o, paths[k])) != 0)
			rc = i;
	}
	free(paths);
	return rc;
}

/* cat and get: a file streamed out of the agent. */

static int read_to_fd(struct cli *cli, const char *path, int fd,
    uint64_t *size)
{
	struct rpc_call call;
	int rc = 0;

	rpc_call_init(&call, NULL, NULL);
	if (rpc_sink_fd(&call, RPC_CHAN_OUT, fd, READ_WINDOW) != 0) {
		warnx_("out of memory");
		return EXIT_FAIL;
	}
	if (rpc_read(cli->rpc, &call, path, strlen(path), 0,
	    RPC_LENGTH_ALL) != 0 || rpc_wait(cli->rpc, &call) != 0) {
		rpc_call_release(&call);
		return session_lost(cli);
	}
	if (call.final != RPC_R_DONE) {
		report_call(cli, path, &call);
		rc = EXIT_FAIL;
	} else if (call.sink[RPC_CHAN_OUT]->error != 0) {
		if (call.sink[RPC_CHAN_OUT]->error != EPIPE)
			report_local(cli, "(output)",
			    call.sink[RPC_CHAN_OUT]->error);
		rc = EXIT_FAIL;
	}
	*size = call.size;
	rpc_call_release(&call);
	return rc;
}

static int cmd_cat(struct cli *cli, int argc, char **argv)
{
	char **paths;
	uint64_t size;
	int i = 0, k, rc, r;

	if (parse_opts(cli, argc, argv, &i, NULL, no_opt, NULL) != 0 ||
	    i >= argc)
		return usage_error(cli);
	/* --json makes no sense for raw bytes: cat ignores it. */
	cli->json = 0;
	if ((paths = calloc((size_t)(argc - i), sizeof *paths)) == NULL)
		return EXIT_FAIL;
	rc = connect_paths(cli, argc - i, argv + i, paths);
	for (k = 0; rc != EXIT_CONN && rc != 2 && k < argc - i; k++)
		if ((r = read_to_fd(cli, paths[k], STDOUT_FILENO, &size)) != 0)
			rc = r;
	free(paths);
	return rc;
}

static mode_t current_umask(void)
{
	mode_t m = umask(0);

	umask(m);
	return m;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s != NULL && s[1] != '\0' ? s + 1 : path;
}

/*
 * Where get writes: like the agent, a temporary beside the target that
 * is renamed over it at the end (tmp set), keeping an existing file's
 * mode; but a device or fifo, /dev/null say, is written in place (tmp
 * empty) and a symlink is followed, never replaced.
 */
static int open_local_target(char *local, char *tmp, size_t tmpsz)
{
	char real[PATH_MAX];
	struct stat st;
	mode_t mode = 0666;
	int fd, exists;

	tmp[0] = '\0';
	if (lstat(local, &st) == 0 && S_ISLNK(st.st_mode) &&
	    realpath(local, real) != NULL)
		snprintf(local, PATH_MAX, "%s", real);
	exists = stat(local, &st) == 0;
	if (exists && !S_ISREG(st.st_mode))
		return open(local, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (exists)
		mode = st.st_mode & 07777;
	snprintf(tmp, tmpsz, "%s.remowt-%ld", local, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		tmp[0] = '\0';
		return -1;
	}
	if (fchmod(fd, exists ? mode : mode & ~current_umask()) != 0) {
		close(fd);
		unlink(tmp);
		tmp[0] = '\0';
		return -1;
	}
	return fd;
}

static int cmd_get(struct cli *cli, int argc, char **argv)
{
	struct target t;
	struct stat st;
	char *path, local[PATH_MAX], tmp[PATH_MAX + 32];
	uint64_t size = 0;
	int i = 0, fd, rc;

	if (parse_opts(cli, argc, argv, &i, NULL, no_opt, NULL) != 0 ||
	    argc - i != 2)
		return usage_error(cli);
	memset(&t, 0, sizeof t);
	if (split_remote(cli, &t, argv[i], &path) != 0)
		return 2;
	if (strcmp(argv[i + 1], "-") != 0) {
		if (stat(argv[i + 1], &st) == 0 && S_ISDIR(st.st_mode))
			snprintf(local, sizeof local, "%s/%s", argv[i + 1],
			    base_name(path));
		else
			snprintf(local, sizeof local, "%s", argv[i + 1]);
	}
	if ((rc = connect_agent(cli, t.host)) != 0)
		return rc;
	if (strcmp(argv[i + 1], "-") == 0) {
		rc = read_to_fd(cli, path, STDOUT_FILENO, &size);
		if (rc == 0)
			json_ok(cli, path);
		return rc;
	}
	if ((fd = open_local_target(local, tmp, sizeof tmp)) < 0) {
		report_local(cli, local, errno);
		return EXIT_FAIL;
	}
	rc = read_to_fd(cli, path, fd, &size);
	if (close(fd) != 0 && rc == 0) {
		report_local(cli, local, errno);
		rc = EXIT_FAIL;
	}
	if (rc == 0 && tmp[0] != '\0' && rename(tmp, local) != 0) {
		report_local(cli, local, errno);
		rc = EXIT_FAIL;
	}
	if (rc != 0 && tmp[0] != '\0')
		unlink(tmp);
	else if (cli->json) {
		printf("{\"command\":\"get\",\"path\":");
		json_str(stdout, path);
		printf(",\"local\":");
		json_str(stdout, local);
		printf(",\"ok\":true,\"size\":%llu}\n",
		    (unsigned long long)size);
	}
	return rc;
}

/* put: a local file or stdin streamed into the agent. */

struct put_opts {
	int fsync, append, mode_given;
	uint32_t mode;
};

static int put_opt(struct cli *cli, void *arg, int ch, const char *val)
{
	struct put_opts *o = arg;

	(void)cli;
	switch (ch) {
	case 'a':
		o->append = 1;
		break;
	case 's':
		o->fsync = 1;
		break;
	case 'm':
		o->mode_given = 1;
		return parse_mode(val, &o->mode);
	}
	return 0;
}

/* A remote path naming a directory receives the file under its name. */
static char *put_target(struct cli *cli, const char *path, const char *src,
    char *out, size_t size)
{
	struct rpc_call call;

	rpc_call_init(&call, NULL, NULL);
	if (rpc_stat(cli->rpc, &call, path, strlen(path), 0) != 0 ||
	    rpc_wait(cli->rpc, &call) != 0)
		return NULL;
	if (call.final == RPC_R_STAT && call.st.type == RPC_T_DIR &&
	    strcmp(src, "-") != 0)
		snprintf(out, size, "%s%s%s", path,
		    path[strlen(path) - 1] == '/' ? "" : "/", base_name(src));
	else
		snprintf(out, size, "%s", path);
	return out;
}

static int cmd_put(struct cli *cli, int argc, char **argv)
{
	static const struct optdef defs[] = { { 'a', "append", 0 },
	    { 's', "fsync", 0 }, { 'm', "mode", 1 }, { 0, 0, 0 } };
	struct put_opts o;
	struct rpc_call call;
	struct target t;
	char *path, dest[RPC_MAX_PATH + 256];
	uint32_t flags;
	int i = 0, fd, rc;

	memset(&o, 0, sizeof o);
	if (parse_opts(cli, argc, argv, &i, defs, put_opt, &o) != 0 ||
	    argc - i != 2)
		return usage_error(cli);
	memset(&t, 0, sizeof t);
	if (split_remote(cli, &t, argv[i + 1], &path) != 0)
		return 2;
	if (strcmp(argv[i], "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(argv[i], O_RDONLY | O_CLOEXEC)) < 0) {
		report_local(cli, argv[i], errno);
		return EXIT_FAIL;
	}
	if ((rc = connect_agent(cli, t.host)) != 0)
		return rc;
	if (put_target(cli, path, argv[i], dest, sizeof dest) == NULL)
		return session_lost(cli);
	flags = (o.fsync ? RPC_WRITE_FSYNC : 0) |
	    (o.append ? RPC_WRITE_APPEND : 0) |
	    (o.mode_given ? RPC_WRITE_MODE : 0);
	rpc_call_init(&call, NULL, NULL);
	if (rpc_source_fd(&call, fd) != 0)
		return EXIT_FAIL;
	if (rpc_write(cli->rpc, &call, dest, strlen(dest), flags, o.mode) != 0 ||
	    rpc_wait(cli->rpc, &call) != 0) {
		rpc_call_release(&call);
		return session_lost(cli);
	}
	rc = 0;
	if (call.source->error != 0) {
		report_local(cli, argv[i], call.source->error);
		rc = EXIT_FAIL;
	} else if (call.final != RPC_R_DONE) {
		report_call(cli, dest, &call);
		rc = EXIT_FAIL;
	} else if (cli->json) {
		printf("{\"command\":\"put\",\"path\":");
		json_str(stdout, dest);
		printf(",\"ok\":true,\"size\":%llu}\n",
		    (unsigned long long)call.size);
	}
	rpc_call_release(&call);
	if (fd != STDIN_FILENO)
		close(fd);
	return rc;
}

/* exec */

struct exec_opts {
	struct rpc_exec_req req;
	uint8_t ops[MAX_ENV_OPS];
	char *strs[MAX_ENV_OPS];
	int no_stdin;
	int tty;		/* -t: on a terminal of the host's */
};

enum { OPT_CWD = 256, OPT_ENV, OPT_UNSET, OPT_CLEAR_ENV, OPT_TIMEOUT,
    OPT_MERGE };

static int exec_opt(struct cli *cli, void *arg, int ch, const char *val)
{
	struct exec_opts *o = arg;
	struct rpc_exec_req *x = &o->req;
	uint32_t secs;

	(void)cli;
	switch (ch) {
	case 'n':
		o->no_stdin = 1;
		break;
	case 't':
		o->tty = 1;
		break;
	case OPT_CWD:
		x->cwd = val;
		break;
	case OPT_ENV:
	case OPT_UNSET:
		if (x->nenv >= MAX_ENV_OPS) {
			warnx_("too many environment changes");
			return -1;
		}
		if ((ch == OPT_ENV) != (strchr(val, '=') != NULL) ||
		    val[0] == '=' || val[0] == '\0') {
			warnx_("bad %s '%s'", ch == OPT_ENV ? "--env NAME=VALUE" :
			    "--unset NAME", val);
			return -1;
		}
		o->ops[x->nenv] = ch == OPT_ENV ? RPC_ENV_SET : RPC_ENV_UNSET;
		o->strs[x->nenv++] = (char *)val;
		break;
	case OPT_CLEAR_ENV:
		x->flags |= RPC_EXEC_CLEAR_ENV;
		break;
	case OPT_MERGE:
		x->flags |= RPC_EXEC_MERGE_ERR;
		break;
	case OPT_TIMEOUT:
		if (parse_u32(val, &secs, "timeout") != 0 || secs > 4000000)
			return -1;
		x->timeout_ms = secs * 1000;
		break;
	}
	return 0;
}

/* Signals to remowt are passed on to the remote process group. */
static int sig_pipe[2] = { -1, -1 };

static void on_forward_signal(int sig)
{
	unsigned char c = (unsigned char)sig;
	int e = errno;

	if (write(sig_pipe[1], &c, 1) < 0)
		(void)0;
	errno = e;
}

struct exec_watch {
	struct cli *cli;
	struct rpc_call *call;
};

static int exec_pollfds(void *arg, struct pollfd *pfd, int max)
{
	(void)arg;
	if (max < 1)
		return 0;
	pfd[0].fd = sig_pipe[0];
	pfd[0].events = POLLIN;
	return 1;
}

static void exec_process(void *arg, const struct pollfd *pfd, int n)
{
	struct exec_watch *w = arg;
	unsigned char sigs[16];
	ssize_t k, i;

	(void)pfd;
	(void)n;
	while ((k = read(sig_pipe[0], sigs, sizeof sigs)) > 0)
		for (i = 0; i < k; i++)
			if (!w->call->done)
				rpc_signal_detached(w->cli->rpc, w->call->id,
				    rpc_sig_from_native(sigs[i]),
				    RPC_SIGNAL_GROUP);
}

static void forward_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction sa;
	size_t i;

	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		return;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_forward_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &sa, NULL);
}

static void json_capture(const char *key, const struct rpc_sink *s)
{
	printf(",\"%s\":", key);
	json_bytes(stdout, s->mem != NULL ? s->mem : (const uint8_t *)"",
	    s->mem_len);
	printf(",\"%s_truncated\":%s", key, s->truncated ? "true" : "false");
}

static int exec_status(struct cli *cli, const struct rpc_call *call,
    const char *prog)
{
	uint32_t v = call->exit_value;
	const char *name = NULL;
	int code;

	if (call->exit_kind == RPC_EXIT_CODE) {
		code = (int)(v & 0xff);
	} else {
		name = rpc_sig_name(v);
		code = 128 + (int)(v >= RPC_SIG_RAW ? v - RPC_SIG_RAW : v);
		if (call->exit_kind == RPC_EXIT_TIMEOUT)
			warnx_("exec: %s: timed out, process group killed",
			    prog);
		else if (!cli->json)
			warnx_("exec: %s: killed by signal %s%s", prog,
			    name ? name : "?",
			    (call->exit_flags & RPC_EXIT_CORE) ?
			    " (core dumped)" : "");
	}
	if (cli->json) {
		printf("{\"command\":\"exec\",\"program\":");
		json_str(stdout, prog);
		printf(",\"ok\":true,\"pid\":%u,\"exit_code\":%d,\"status\":%d,",
		    call->pid, call->exit_kind == RPC_EXIT_CODE ? code : -1,
		    code);
		if (name != NULL)
			printf("\"signal\":\"%s\",", name);
		else if (call->exit_kind != RPC_EXIT_CODE)
			printf("\"signal\":%d,", code - 128);
		else
			printf("\"signal\":null,");
		printf("\"timed_out\":%s,\"core_dumped\":%s",
		    call->exit_kind == RPC_EXIT_TIMEOUT ? "true" : "false",
		    (call->exit_flags & RPC_EXIT_CORE) ? "true" : "false");
		if (call->sink[RPC_CHAN_OUT] != NULL)
			json_capture("stdout", call->sink[RPC_CHAN_OUT]);
		if (call->sink[RPC_CHAN_ERR] != NULL)
			json_capture("stderr", call->sink[RPC_CHAN_ERR]);
		printf("}\n");
	}
	return code;
}

static int exec_run(struct cli *cli, struct exec_opts *o, char **argv)
{
	struct rpc_call call;
	struct exec_watch w;
	int rc, err, c;

	o->req.argv = argv;
	o->req.env_ops = o->ops;
	o->req.env_strs = o->strs;
	if (o->no_stdin)
		o->req.flags |= RPC_EXEC_NO_STDIN;
	if (o->tty)
		return exec_on_terminal(cli, &o->req);
	rpc_call_init(&call, NULL, NULL);
	for (c = RPC_CHAN_OUT; c <= RPC_CHAN_ERR; c++) {
		if (c == RPC_CHAN_ERR && (o->req.flags & RPC_EXEC_MERGE_ERR))
			break;
		rc = cli->json ? rpc_sink_mem(&call, c, EXEC_WINDOW,
		    CAPTURE_LIMIT) : rpc_sink_fd(&call, c, c, EXEC_WINDOW);
		if (rc != 0)
			return EXIT_FAIL;
	}
	if (!o->no_stdin && rpc_source_fd(&call, STDIN_FILENO) != 0)
		return EXIT_FAIL;
	forward_signals();
	w.cli = cli;
	w.call = &call;
	rpc_client_watch(cli->rpc, exec_pollfds, exec_process, &w);
	if (rpc_exec(cli->rpc, &call, &o->req) != 0 ||
	    rpc_wait(cli->rpc, &call) != 0) {
		rpc_call_release(&call);
		return session_lost(cli);
	}
	if (call.final == RPC_R_EXIT) {
		rc = exec_status(cli, &call, argv[0]);
	} else {
		report_call(cli, argv[0], &call);
		err = rpc_err_to_errno(call.err);
		/* As env(1) does: not found 127, found but not runnable 126. */
		rc = err == ENOENT ? 127 : err == EACCES || err == ENOEXEC ?
		    126 : EXIT_FAIL;
	}
	rpc_call_release(&call);
	return rc;
}

static int cmd_exec(struct cli *cli, int argc, char **argv)
{
	static const struct optdef defs[] = { { 'n', NULL, 0 },
	    { 't', NULL, 0 }, { OPT_CWD, "cwd", 1 }, { OPT_ENV, "env", 1 },
	    { OPT_UNSET, "unset", 1 }, { OPT_CLEAR_ENV, "clear-env", 0 },
	    { OPT_TIMEOUT, "timeout", 1 }, { OPT_MERGE, "merge-stderr", 0 },
	    { 0, 0, 0 } };
	static struct exec_opts o;
	const char *host = NULL;
	int i = 0, rc;

	if (parse_opts(cli, argc, argv, &i, defs, exec_opt, &o) != 0)
		return usage_error(cli);
	if (!cli->local && !cli->dashdash) {
		if (i >= argc)
			return usage_error(cli);
		host = argv[i++];
		if (parse_opts(cli, argc, argv, &i, defs, exec_opt, &o) != 0)
			return usage_error(cli);
	}
	if (i >= argc)
		return usage_error(cli);
	if (o.tty && cli->json) {
		warnx_("exec: -t and --json do not go together");
		return usage_error(cli);
	}
	if ((rc = connect_agent(cli, host)) != 0)
		return rc;
	return exec_run(cli, &o, argv + i);
}

/* sh: a command line through a shell. */

static int cmd_sh(struct cli *cli, int argc, char **argv)
{
	static struct exec_opts o;
	char *shargv[4] = { "/bin/sh", "-c", NULL, NULL };
	int i = 0, rc;

	if (parse_opts(cli, argc, argv, &i, NULL, no_opt, NULL) != 0)
		return usage_error(cli);
	if (cli->local) {
		if (argc - i != 1)
			return usage_error(cli);
		if ((rc = connect_agent(cli, NULL)) != 0)
			return rc;
		shargv[2] = argv[i];
		return exec_run(cli, &o, shargv);
	}
	if (argc - i < 1)
		return usage_error(cli);
	if (ssh_opts_destination(&cli->ssh, argv[i]) != 0)
		return EXIT_CONN;
	i++;
	if (parse_opts(cli, argc, argv, &i, NULL, no_opt, NULL) != 0 ||
	    argc - i != 1)
		return usage_error(cli);
	return ssh_cmd_sh(&cli->ssh, argv[i]);
}

/* version */

/* info HOST: what runs there and where it came from. */
static int cmd_info(struct cli *cli, int argc, char **argv)
{
	int i = 0, rc;

	if (parse_opts(cli, argc, argv, &i, NULL, no_opt, NULL) != 0 ||
	    argc - i != (cli->local ? 0 : 1))
		return usage_error(cli);
	if ((rc = connect_agent(cli, cli->local ? NULL : argv[i])) != 0)
		return rc;
	if (cli->local) {
		snprintf(cli->deploy.arch, sizeof cli->deploy.arch, "%s",
		    cli->agent.machine);
		snprintf(cli->deploy.hash, sizeof cli->deploy.hash, "%s",
		    cli->agent.exe_sha256);
	}
	if (cli->json) {
		printf("{\"command\":\"info\",\"ok\":true,\"arch\":");
		json_str(stdout, cli->deploy.arch);
		printf(",\"endian\":");
		json_str(stdout, cli->deploy.endian);
		printf(",\"system\":");
		json_str(stdout, cli->agent.sysname);
		printf(",\"kernel\":");
		json_str(stdout, cli->agent.release);
		printf(",\"machine\":");
		json_str(stdout, cli->agent.machine);
		printf(",\"agent_sha256\":");
		json_str(stdout, cli->deploy.hash);
		printf(",\"cache\":");
		json_str(stdout, cli->deploy.cache);
		printf(",\"uploaded\":%s,\"upload_bytes\":%zu,"
		    "\"protocol\":%u}\n", cli->deploy.uploaded ? "true" :
		    "false", cli->deploy.upload_bytes, cli->agent.version);
	} else {
		printf("arch:      %s\nendian:    %s\nkernel:    %s %s (%s)\n"
		    "agent:     %s\ncache:     %s\n",
		    cli->deploy.arch, cli->deploy.endian, cli->agent.sysname,
		    cli->agent.release, cli->agent.machine, cli->deploy.hash,
		    cli->deploy.cache);
		if (cli->deploy.uploaded)
			printf("uploaded:  yes, now (%zu bytes%s)\n",
			    cli->deploy.upload_bytes, cli->deploy.gzipped ?
			    ", gzipped" : "");
		else
			printf("uploaded:  no, it was cached\n");
	}
	disconnect(cli);
	return 0;
}

static int set_flag(struct cli *cli, void *arg, int ch, const char *val)
{
	(void)cli;
	(void)ch;
	(void)val;
	*(int *)arg = 1;
	return 0;
}

/* agent clean HOST: remove cached agents this remowt does not carry. */

static int is_agent_name(const char *name, size_t len)
{
	size_t k;

	if (len == 64) {
		for (k = 0; k < 64; k++)
			if (!strchr("0123456789abcdef", name[k]))
				return 0;
		return 1;
	}
	/* An upload that was cut off. */
	return len > 8 && strncmp(name, ".upload.", 8) == 0;
}

static int carried(const char *name)
{
	const struct agent_image *imgs;
	size_t n, k;

	imgs = agent_images(&n);
	for (k = 0; k < n; k++)
		if (strcmp(imgs[k].sha256, name) == 0)
			return 1;
	return 0;
}

static int remove_one(struct cli *cli, const char *path)
{
	struct rpc_call call;
	int rc = 0;

	rpc_call_init(&call, NULL, NULL);
	if (rpc_remove(cli->rpc, &call, path, strlen(path), 0) != 0 ||
	    rpc_wait(cli->rpc, &call) != 0)
		return session_lost(cli);
	if (call.final == RPC_R_ERROR) {
		report_call(cli, path, &call);
		rc = EXIT_FAIL;
	} else if (cli->json) {
		printf("{\"command\":\"agent clean\",\"ok\":true,"
		    "\"removed\":");
		json_str(stdout, path);
		printf("}\n");
	} else {
		printf("removed %s\n", path);
	}
	rpc_call_release(&call);
	return rc;
}

static int cmd_agent(struct cli *cli, int argc, char **argv)
{
	char path[2048];
	struct listing l;
	struct rpc_call call;
	size_t k;
	int i = 0, rc = 0, r;

	if (parse_opts(cli, argc, argv, &i, NULL, no_opt, NULL) != 0 ||
	    cli->local || argc - i != 2 || strcmp(argv[i], "clean") != 0)
		return usage_error(cli);
	if ((rc = connect_agent(cli, argv[i + 1])) != 0)
		return rc;
	memset(&l, 0, sizeof l);
	rpc_call_init(&call, on_dirents, &l);
	if (rpc_list(cli->rpc, &call, cli->deploy.cache,
	    strlen(cli->deploy.cache)) != 0 || rpc_wait(cli->rpc, &call) != 0)
		return session_lost(cli);
	if (call.final == RPC_R_ERROR || l.failed) {
		report_call(cli, cli->deploy.cache, &call);
		listing_free(&l);
		return EXIT_FAIL;
	}
	for (k = 0; k < l.n && rc != EXIT_CONN; k++) {
		/* The agent answering us is the one to keep, come what may. */
		if (!is_agent_name(l.e[k].name, l.e[k].nlen) ||
		    carried(l.e[k].name) ||
		    strcmp(l.e[k].name, cli->deploy.hash) == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", cli->deploy.cache,
		    l.e[k].name);
		if ((r = remove_one(cli, path)) != 0)
			rc = r;
	}
	listing_free(&l);
	disconnect(cli);
	return rc;
}

/* version --agents: the agents built into this remowt. */
static int print_agents(struct cli *cli)
{
	const struct agent_image *imgs;
	size_t n, k;

	imgs = agent_images(&n);
	for (k = 0; k < n; k++) {
		if (cli->json)
			printf("{\"command\":\"version\",\"ok\":true,"
			    "\"arch\":\"%s\",\"size\":%zu,\"sha256\":\"%s\"}\n",
			    imgs[k].arch, imgs[k].len,
			    imgs[k].sha256);
		else
			printf("%-8s %7zu bytes  sha256 %s\n", imgs[k].arch,
			    imgs[k].len, imgs[k].sha256);
	}
	return 0;
}

static int cmd_version(struct cli *cli, int argc, char **argv)
{
	static const struct optdef defs[] = { { 'A', "agents", 0 },
	    { 0, 0, 0 } };
	int i = 0, rc, agents = 0;

	if (parse_opts(cli, argc, argv, &i, defs, set_flag, &agents) != 0 ||
	    i != argc)
		return usage_error(cli);
	if (agents)
		return print_agents(cli);
	if (cli->local && (rc = connect_agent(cli, NULL)) != 0)
		return rc;
	if (cli->json) {
		printf("{\"command\":\"version\",\"ok\":true,\"version\":\"%s\","
		    "\"protocol\":%d,\"agent_sha256\":\"%s\"", REMOWT_VERSION,
		    RPC_VERSION, remowt_agent_sha256);
		if (cli->local) {
			printf(",\"agent\":{\"protocol\":%u,\"build\":",
			    cli->agent.version);
			json_str(stdout, cli->agent.build);
			printf(",\"sha256\":");
			json_str(stdout, cli->agent.exe_sha256);
			printf(",\"system\":");
			json_str(stdout, cli->agent.sysname);
			printf(",\"release\":");
			json_str(stdout, cli->agent.release);
			printf(",\"machine\":");
			json_str(stdout, cli->agent.machine);
			printf("}");
		}
		printf("}\n");
		return 0;
	}
	printf("remowt %s (protocol %d)\nembedded agent: sha256 %s\n",
	    REMOWT_VERSION, RPC_VERSION, remowt_agent_sha256);
	if (cli->local)
		printf("agent: protocol %u, build %s, sha256 %s, on %s %s %s\n",
		    cli->agent.version, cli->agent.build, cli->agent.exe_sha256,
		    cli->agent.sysname, cli->agent.release, cli->agent.machine);
	return 0;
}

static int cmd_help(struct cli *cli, int argc, char **argv)
{
	const struct command *c;

	(void)cli;
	if (argc > 0 && (c = find_command(argv[0])) != NULL) {
		usage_cmd(stdout, c);
		return 0;
	}
	usage_all(stdout);
	return 0;
}

static const struct command commands[] = {
	{ "exec", cmd_exec,
	  "HOST [-n] [-t] [--cwd DIR] [--env K=V]... [--unset K]\n"
	  "    [--clear-env] [--timeout SECONDS] [--merge-stderr] -- PROG [ARGS...]",
	  "Run PROG (searched in PATH, no shell) with stdio passed through.\n"
	  "Exit code: the program's; 128+N after death by signal N (also\n"
	  "after --timeout, which kills the process group); 127 if PROG is\n"
	  "not found, 126 if it cannot be run.  -n: stdin is /dev/null.\n"
	  "-t: on a terminal of the host's (output and errors together), as\n"
	  "shell runs it, escapes included.\n"
	  "With --json, output is captured into the result object.\n" },
	{ "sh", cmd_sh, "HOST 'COMMAND LINE'",
	  "Run a command line through the remote shell.\n" },
	{ "shell", cmd_shell,
	  "[-t] [-e CHAR|none] [--no-agent] HOST [-- PROG [ARGS...]]",
	  "The login shell on HOST (or PROG, run as exec runs it) on a terminal\n"
	  "of its own there, through the agent: a rescue shell that needs no\n"
	  "terminal from the SSH server.  Where the agent cannot run (no agent\n"
	  "for that CPU, the stager failed), a line on stderr says so and the\n"
	  "server's own terminal session is used instead; --no-agent uses it.\n"
	  "The local terminal is in raw mode meanwhile and its size is\n"
	  "followed.  After a newline, ~. disconnects (exit 255), ~? lists the\n"
	  "escapes, ~~ sends one ~; -e sets another escape character (^X for\n"
	  "a control character) or none.  When stdin is not a terminal, as\n"
	  "with ssh: no terminal there, no raw mode, no escapes, and the shell\n"
	  "reads stdin to its end; -t asks for the terminal all the same (the\n"
	  "input should then end with exit: a terminal has no end of file).\n"
	  "Exit code: the shell's; 128+N after death by signal N.\n" },
	{ "ls", cmd_ls, "[-l] [-a] HOST:PATH...",
	  "List directories, sorted by name; uid and gid are numeric.\n" },
	{ "stat", cmd_stat, "[-L] HOST:PATH...",
	  "Show file status (of a symlink itself unless -L).\n" },
	{ "cat", cmd_cat, "HOST:PATH...", "Write files to stdout.\n" },
	{ "sum", cmd_sum, "HOST:PATH...",
	  "SHA-256 computed on the target, printed as sha256sum does.\n" },
	{ "df", cmd_df, "HOST:PATH...",
	  "Space and inodes of the file systems holding PATHs.\n" },
	{ "put", cmd_put, "[-a] [-s] [-m MODE] LOCAL|- HOST:PATH",
	  "Copy a local file (- for stdin) to the target: written beside\n"
	  "it and renamed, never partial.  -a appends instead, -s syncs to\n"
	  "disk, -m sets the mode (else kept, or 0666 less umask).\n" },
	{ "get", cmd_get, "HOST:PATH LOCAL|-",
	  "Copy a file from the target (- for stdout).\n" },
	{ "push", cmd_push, "[-L] [-n] [-s] [--sync] [-c] [--delete] LOCAL...|- "
	  "HOST:DIR",
	  "Copy files, directories and symlinks into DIR on the host (made if\n"
	  "missing): LOCAL goes to DIR/NAME, but LOCAL/ (trailing slash) or .\n"
	  "fills DIR itself.  Modes and mtimes are kept, symlinks copied as\n"
	  "symlinks; each file is written beside its target and renamed.  -\n"
	  "reads a tar archive from stdin into DIR.\n"
	  "  -L              follow symlinks: copy what they point to\n"
	  "  --sync          skip files whose size and mtime match\n"
	  "  -c, --checksum  compare SHA-256 instead (implies --sync)\n"
	  "  --delete        remove what DIR has and the source lacks\n"
	  "  -n, --dry-run   print what would change, change nothing\n"
	  "  -s, --fsync     sync each file to disk\n"
	  "A file of 1 MiB or more goes through .NAME.rwpart, which a lost\n"
	  "connection leaves behind: run the same command again and it\n"
	  "continues after the bytes already there if their SHA-256 matches.\n"
	  "A progress line shows on a terminal unless -q.  --json: one object\n"
	  "per entry (\"action\": copied, updated, skipped, deleted) and a\n"
	  "summary.  Exit 1 if any entry failed, 255 if the connection did.\n" },
	{ "pull", cmd_pull, "[-L] [-n] [-s] [--sync] [-c] [--delete] "
	  "HOST:PATH... LOCALDIR|-",
	  "Copy trees from the host into LOCALDIR, as push does the other way\n"
	  "(same options); - writes a tar archive to stdout instead.\n" },
	{ "mkdir", cmd_mkdir, "[-p] [-m MODE] HOST:PATH...",
	  "Make directories (-p: with parents, no error if present).\n" },
	{ "rm", cmd_rm, "[-r] [-f] HOST:PATH...",
	  "Remove files; -r whole trees (symlinks are never followed),\n"
	  "-f: no error for what does not exist.\n" },
	{ "mv", cmd_mv, "HOST:OLD NEW", "Rename within one host.\n" },
	{ "chmod", cmd_chmod, "MODE HOST:PATH...",
	  "Change permission bits (octal MODE).\n" },
	{ "chown", cmd_chown, "[-h] UID[:GID] HOST:PATH...",
	  "Change numeric owner and group (-h: of a symlink itself).\n" },
	{ "ln", cmd_ln, "-s TARGET HOST:PATH", "Make a symbolic link.\n" },
	{ "readlink", cmd_readlink, "HOST:PATH...",
	  "Print symbolic link targets.\n" },
	{ "touch", cmd_touch, "[-t EPOCH_SECONDS] HOST:PATH...",
	  "Set access and modification times, creating empty files.\n" },
	{ "batch", cmd_batch, "HOST [--inflight N] < REQUESTS",
	  "Run requests, one JSON object per line on stdin, over one\n"
	  "connection with up to N (64) in flight; write one JSON answer line\n"
	  "per request on stdout as each completes, in any order (requests\n"
	  "in flight run side by side: send one that needs another's result\n"
	  "after its answer):\n"
	  "  {\"id\":1,\"op\":\"stat\",\"path\":\"/etc/hostname\"}\n"
	  "  {\"id\":1,\"line\":1,\"op\":\"stat\",\"ok\":true,\"type\":\"file\",...}\n"
	  "  {\"id\":\"x\",\"op\":\"exec\",\"argv\":[\"uname\",\"-m\"]}\n"
	  "  {\"id\":\"x\",\"line\":2,\"op\":\"exec\",\"ok\":true,\"exit_code\":0,\n"
	  "   \"stdout\":\"mips\\n\",\"stderr\":\"\",...}\n"
	  "Ops and their fields ([optional]):\n"
	  "  stat path [follow]     ls path        readlink path\n"
	  "  read path [offset length encoding]   sum path       df path\n"
	  "  put path data|data_b64|file [mode append fsync excl]\n"
	  "  mkdir path [parents mode]            rm path [recursive force dir]\n"
	  "  mv from to             chmod path mode    touch path [time]\n"
	  "  chown path uid|gid [nofollow]        symlink target path\n"
	  "  exec argv [cwd env clear_env timeout stdin|stdin_b64|stdin_file\n"
	  "       merge_stderr max_output encoding]\n"
	  "  signal request signal [group]        cancel request     info\n"
	  "\"id\" (any scalar) is echoed as written; \"line\" is the request's\n"
	  "line number.  A failure has \"ok\":false, \"error\" (an errno name)\n"
	  "and \"message\".  Byte strings (paths, argv, data) that are not UTF-8\n"
	  "use \\udcXX for byte XX; any such field F may be given as F_b64\n"
	  "(base64) instead.  \"encoding\":\"base64\" answers data_b64,\n"
	  "stdout_b64, stderr_b64.  Output kept: 4 MiB per stream unless\n"
	  "max_output or length says otherwise (at most 64 MiB).  Exit code:\n"
	  "0 if every request succeeded, 1 if one failed or a line was not a\n"
	  "request, 255 if the connection failed (every request in flight is\n"
	  "answered with ECONNRESET).  README and remowt(1) have the details.\n" },
	{ "agent", cmd_agent, "clean HOST", "Remove the agents cached on HOST "
	  "that this remowt does not carry,\nand uploads that were cut "
	  "off.\n" },
	{ "info", cmd_info, "HOST", "Show the host's CPU, byte order, kernel, "
	  "and the agent: its hash, its cache\ndirectory, and whether this "
	  "contact uploaded it (and how many bytes, gzipped\nwhere the host "
	  "has gunzip).\n" },
	{ "version", cmd_version, "[--agents]", "Print versions (with --local, "
	  "the agent's too); --agents lists the\nembedded agents with their "
	  "CPU, size and SHA-256.\n" },
	{ "help", cmd_help, "[COMMAND]", "Show help.\n" },
	{ NULL, NULL, NULL, NULL },
};

static const struct command *find_command(const char *name)
{
	const struct command *c;

	for (c = commands; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static void usage_all(FILE *f)
{
	const struct command *c;

	fprintf(f, "usage: %s [options] COMMAND [HOST] ...\n\n"
	    "Options, before the command or after it (before HOST):\n"
	    "  --local      run the built-in agent on this machine, no SSH;\n"
	    "               commands then take plain paths and no HOST\n"
	    "  --json       one JSON object per result on stdout; bytes\n"
	    "               that are not UTF-8 appear as \\udcXX\n"
	    "  -p PORT -l USER -i KEY -F CONFIG -o OPTION -v -q  as in ssh\n"
	    "               (ls -l and mkdir -p keep their own meaning)\n"
	    "  --help       this text; COMMAND --help for one command\n\n"
	    "Commands:\n", progname);
	for (c = commands; c->name != NULL; c++)
		fprintf(f, "  %-9s %s\n", c->name, c->synopsis);
	fprintf(f, "\nExit codes: a program's own; 128+N after signal N; 1 when an\n"
	    "operation failed; 2 for usage errors; 255 when the connection\n"
	    "or the protocol failed.\n");
}

static int global_opt(struct cli *cli, void *arg, int ch, const char *val)
{
	(void)cli;
	(void)arg;
	(void)val;
	if (ch == 'V') {
		printf("remowt %s (protocol %d)\n", REMOWT_VERSION,
		    RPC_VERSION);
		exit(0);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct optdef defs[] = { { 'V', "version", 0 },
	    { 0, 0, 0 } };
	const struct command *c;
	struct cli cli;
	int i = 1, rc;

	signal(SIGPIPE, SIG_IGN);
	memset(&cli, 0, sizeof cli);
	ssh_opts_init(&cli.ssh);
	if (parse_opts(&cli, argc, argv, &i, defs, global_opt, NULL) != 0)
		return usage_error(&cli);
	if (i >= argc) {
		usage_all(stderr);
		return 2;
	}
	if ((c = find_command(argv[i])) == NULL) {
		warnx_("unknown command '%s'", argv[i]);
		usage_all(stderr);
		return 2;
	}
	cli.cmd = c->name;
	cli.dashdash = 0;
	rc = c->run(&cli, argc - i - 1, argv + i + 1);
	if (fflush(stdout) != 0 && rc == 0)
		rc = EXIT_FAIL;
	disconnect(&cli);
	return rc;
}
