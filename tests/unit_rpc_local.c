/*
 * unit_rpc_local.c - the RPC client against a real agent (build/agent or
 * $REMOWT_AGENT): requests answered out of order, many processes at
 * once, full request and process pools, programs on terminals, and,
 * with -b [N], timings of exec and listing against plain C.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rpcclient.h"

#define NSLEEP	20
/* The agent's pools: "Limits of this agent" in PROTOCOL.md. */
#define AGENT_MAX_TASKS	64
#define AGENT_MAX_PROCS	32

static int failures;

static void check(int cond, const char *name, const char *why)
{
	if (cond) {
		printf("ok - %s\n", name);
	} else {
		printf("not ok - %s: %s\n", name, why);
		failures++;
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int run_exec(struct rpc_client *c, char **argv, struct rpc_call *call)
{
	struct rpc_exec_req x;

	memset(&x, 0, sizeof x);
	x.flags = RPC_EXEC_NO_STDIN;
	x.argv = argv;
	rpc_call_init(call, NULL, NULL);
	return rpc_exec(c, call, &x);
}

static int none_done(void *arg)
{
	struct rpc_call *calls = arg;
	int i;

	for (i = 0; i < NSLEEP; i++)
		if (calls[i].done)
			return 1;
	return 0;
}

static void test_out_of_order(struct rpc_client *c)
{
	static struct rpc_call sleeps[NSLEEP];
	struct rpc_call st;
	char *argv[] = { "sleep", "2", NULL };
	double t0 = now(), t_stat;
	int i, ok = 1;

	for (i = 0; i < NSLEEP; i++)
		if (run_exec(c, argv, &sleeps[i]) != 0)
			ok = 0;
	rpc_call_init(&st, NULL, NULL);
	rpc_stat(c, &st, "/", 1, 0);
	if (rpc_wait(c, &st) != 0)
		ok = 0;
	t_stat = now() - t0;
	check(ok && st.final == RPC_R_STAT && !none_done(sleeps) &&
	    t_stat < 2, "a later stat is answered before earlier execs",
	    "it waited");
	if (rpc_run(c, NULL, NULL) != 0)
		ok = 0;
	for (i = 0; i < NSLEEP; i++) {
		if (sleeps[i].final != RPC_R_EXIT || sleeps[i].exit_value != 0)
			ok = 0;
		rpc_call_release(&sleeps[i]);
	}
	check(ok && now() - t0 < 12, "20 processes of 2 s run at once",
	    "too slow or failed");
	rpc_call_release(&st);
}

static void on_list(struct rpc_call *call, const struct rpc_reply *r)
{
	struct rpc_dirent d;
	struct buf b;

	if (r->type != RPC_R_DIRENTS)
		return;
	b = r->dirents;
	while (rpc_dirent_next(&b, &d) == 1)
		(*(int *)call->arg)++;
}

/* Calls whose input streams are held open by a pipe nobody writes to. */
struct held {
	struct rpc_call *calls;
	int n;
	int hold[2];
};

/* Every held call has had its stream opened, or has ended. */
static int held_opened(void *arg)
{
	const struct held *h = arg;
	int i;

	for (i = 0; i < h->n; i++)
		if (!h->calls[i].done && !h->calls[i].source->started)
			return 0;
	return 1;
}

static int held_none_done(const struct held *h)
{
	int i;

	for (i = 0; i < h->n; i++)
		if (h->calls[i].done)
			return 0;
	return 1;
}

/* Close the pipe: every held stream reaches EOF and its call ends. */
static int held_release(struct rpc_client *c, struct held *h)
{
	int rc;

	close(h->hold[1]);
	rc = rpc_run(c, NULL, NULL);
	close(h->hold[0]);
	return rc;
}

static void held_free(struct held *h)
{
	int i;

	for (i = 0; i < h->n; i++)
		rpc_call_release(&h->calls[i]);
}

/*
 * The request went out (sent is what its rpc_ function returned) and was
 * refused with err and a message.  The call is released.
 */
static int refused(struct rpc_client *c, struct rpc_call *call, int sent,
    int err)
{
	int ok = sent == 0 && rpc_wait(c, call) == 0 &&
	    call->final == RPC_R_ERROR && rpc_err_to_errno(call->err) == err &&
	    call->errmsg[0] != '\0';

	rpc_call_release(call);
	return ok;
}

static int list_count(struct rpc_client *c, const char *dir)
{
	struct rpc_call call;
	int count = 0;

	rpc_call_init(&call, on_list, &count);
	if (rpc_list(c, &call, dir, strlen(dir)) != 0 ||
	    rpc_wait(c, &call) != 0 || call.final != RPC_R_DIRENTS)
		count = -1;
	rpc_call_release(&call);
	return count;
}

static int exec_true(struct rpc_client *c)
{
	char *argv[] = { "true", NULL };
	struct rpc_call call;
	int ok;

	ok = run_exec(c, argv, &call) == 0 && rpc_wait(c, &call) == 0 &&
	    call.final == RPC_R_EXIT && call.exit_kind == RPC_EXIT_CODE &&
	    call.exit_value == 0;
	rpc_call_release(&call);
	return ok;
}

/*
 * As many writes as the agent has room for, each waiting for data that
 * does not come: one more request with state gets EAGAIN, requests
 * without state are still answered, and once the writes end the agent
 * takes new ones again.
 */
static void test_task_pool(struct rpc_client *c, const char *dir)
{
	static struct rpc_call w[AGENT_MAX_TASKS];
	struct held h = { w, AGENT_MAX_TASKS, { -1, -1 } };
	char path[256], *argv[] = { "true", NULL };
	struct rpc_call call;
	int i, fd = -1, ok = 1;

	if (pipe(h.hold) != 0) {
		check(0, "full request pool", strerror(errno));
		return;
	}
	for (i = 0; i < h.n; i++) {
		snprintf(path, sizeof path, "%s/w%02d", dir, i);
		rpc_call_init(&w[i], NULL, NULL);
		if (rpc_source_fd(&w[i], h.hold[0]) != 0 ||
		    rpc_write(c, &w[i], path, strlen(path), 0, 0) != 0)
			ok = 0;
	}
	ok = ok && rpc_run(c, held_opened, &h) == 0 && held_none_done(&h);
	check(ok, "64 writes in flight at once", "one failed or ended");

	/* Each of these would end by itself if the agent took it. */
	snprintf(path, sizeof path, "%s/extra", dir);
	rpc_call_init(&call, NULL, NULL);
	if ((fd = open("/dev/null", O_RDONLY)) < 0 ||
	    rpc_source_fd(&call, fd) != 0)
		ok = 0;
	ok &= refused(c, &call, rpc_write(c, &call, path, strlen(path), 0, 0),
	    EAGAIN);
	if (fd >= 0)
		close(fd);
	rpc_call_init(&call, NULL, NULL);
	ok &= refused(c, &call, rpc_read(c, &call, dir, strlen(dir), 0,
	    RPC_LENGTH_ALL), EAGAIN);
	rpc_call_init(&call, NULL, NULL);
	ok &= refused(c, &call, rpc_list(c, &call, dir, strlen(dir)), EAGAIN);
	rpc_call_init(&call, NULL, NULL);
	ok &= refused(c, &call, rpc_sum(c, &call, dir, strlen(dir)), EAGAIN);
	rpc_call_init(&call, NULL, NULL);
	ok &= refused(c, &call, run_exec(c, argv, &call), EAGAIN);
	check(ok && held_none_done(&h),
	    "one more write, read, list, sum or exec gets EAGAIN",
	    "other answer");

	rpc_call_init(&call, NULL, NULL);
	rpc_stat(c, &call, dir, strlen(dir), 0);
	check(rpc_wait(c, &call) == 0 && call.final == RPC_R_STAT,
	    "a full request pool still answers stat", "no stat");
	rpc_call_release(&call);

	ok = held_release(c, &h) == 0;
	for (i = 0; i < h.n; i++)
		if (w[i].final != RPC_R_DONE || w[i].size != 0)
			ok = 0;
	held_free(&h);
	check(ok, "the 64 writes end when their data does", "one failed");
	check(list_count(c, dir) == AGENT_MAX_TASKS + 2,
	    "a freed request pool takes requests again", "listing differs");
}

/*
 * As many processes as the agent runs at once, each waiting for stdin:
 * one more gets EAGAIN while other requests with state still work.
 */
static void test_proc_pool(struct rpc_client *c, const char *dir)
{
	static struct rpc_call x[AGENT_MAX_PROCS];
	struct held h = { x, AGENT_MAX_PROCS, { -1, -1 } };
	char *cat[] = { "cat", NULL }, *argv[] = { "true", NULL };
	struct rpc_exec_req req;
	struct rpc_call call;
	int i, ok = 1;

	if (pipe(h.hold) != 0) {
		check(0, "full process pool", strerror(errno));
		return;
	}
	memset(&req, 0, sizeof req);
	req.argv = cat;
	for (i = 0; i < h.n; i++) {
		rpc_call_init(&x[i], NULL, NULL);
		if (rpc_source_fd(&x[i], h.hold[0]) != 0 ||
		    rpc_exec(c, &x[i], &req) != 0)
			ok = 0;
	}
	ok = ok && rpc_run(c, held_opened, &h) == 0 && held_none_done(&h);
	check(ok, "32 processes at once", "one failed or ended");

	rpc_call_init(&call, NULL, NULL);
	ok = refused(c, &call, run_exec(c, argv, &call), EAGAIN);
	check(ok && held_none_done(&h), "one more process gets EAGAIN",
	    "other answer");
	check(list_count(c, dir) >= 2,
	    "a full process pool still lists a directory", "no listing");

	ok = held_release(c, &h) == 0;
	for (i = 0; i < h.n; i++)
		if (x[i].final != RPC_R_EXIT ||
		    x[i].exit_kind != RPC_EXIT_CODE || x[i].exit_value != 0)
			ok = 0;
	held_free(&h);
	check(ok, "the 32 processes end at the end of their stdin",
	    "one failed");
	check(exec_true(c), "a freed process pool runs a process again",
	    "it did not");
}

static void test_pools(struct rpc_client *c)
{
	char dir[] = "/tmp/remowt-pools.XXXXXX";
	struct rpc_call call;

	if (mkdtemp(dir) == NULL) {
		check(0, "pools", strerror(errno));
		return;
	}
	test_task_pool(c, dir);
	test_proc_pool(c, dir);
	rpc_call_init(&call, NULL, NULL);
	rpc_remove(c, &call, dir, strlen(dir), RPC_REMOVE_RECURSIVE);
	check(rpc_wait(c, &call) == 0 && call.final == RPC_R_OK,
	    "the agent still removes a tree afterwards", "it did not");
	rpc_call_release(&call);
}

/* Terminals (EXEC with PTY, WINSIZE, LOGIN). */

/* argv with its output kept; in_fd its stdin, or -1 for none. */
static int exec_kept(struct rpc_client *c, struct rpc_call *call,
    char **argv, uint32_t flags, const struct rpc_pty *pty, int in_fd,
    char **env)
{
	uint8_t ops[] = { RPC_ENV_SET, RPC_ENV_SET };
	struct rpc_exec_req x;

	memset(&x, 0, sizeof x);
	x.flags = flags | (in_fd < 0 ? RPC_EXEC_NO_STDIN : 0);
	x.argv = argv;
	x.env_ops = ops;
	x.env_strs = env;
	for (x.nenv = 0; env != NULL && env[x.nenv] != NULL; x.nenv++)
		if (env[x.nenv][strcspn(env[x.nenv], "=")] != '=')
			ops[x.nenv] = RPC_ENV_UNSET;
	rpc_call_init(call, NULL, NULL);
	if (rpc_sink_mem(call, RPC_CHAN_OUT, 65536, 65536) != 0 ||
	    rpc_sink_mem(call, RPC_CHAN_ERR, 65536, 65536) != 0 ||
	    (in_fd >= 0 && rpc_source_fd(call, in_fd) != 0))
		return -1;
	return pty != NULL ? rpc_exec_pty(c, call, &x, pty) :
	    rpc_exec(c, call, &x);
}

static int out_has(const struct rpc_call *call, const char *text)
{
	const struct rpc_sink *k = call->sink[RPC_CHAN_OUT];

	return k->mem != NULL &&
	    memmem(k->mem, k->mem_len, text, strlen(text)) != NULL;
}

static int exited_ok(const struct rpc_call *call)
{
	return call->final == RPC_R_EXIT && call->exit_kind == RPC_EXIT_CODE &&
	    call->exit_value == 0;
}

static void test_terminal(struct rpc_client *c)
{
	char *argv[] = { "sh", "-c", "tty; read -r _ _ _ _ g s _ </proc/$$/stat;"
	    " echo \"S=$s P=$$ G=$g\"; : </dev/tty && echo CTTY; stty size;"
	    " echo \"T=$TERM\"; echo err >&2", NULL };
	struct rpc_pty pty = { 30, 100, "vt100" };
	const struct rpc_sink *err;
	struct rpc_call call;
	char ids[64];
	int ok;

	ok = exec_kept(c, &call, argv, 0, &pty, -1, NULL) == 0 &&
	    rpc_wait(c, &call) == 0 && exited_ok(&call);
	snprintf(ids, sizeof ids, "S=%u P=%u G=%u", call.pid, call.pid,
	    call.pid);
	err = call.sink[RPC_CHAN_ERR];
	check(ok && out_has(&call, "/dev/pts/"), "exec on a terminal",
	    "no tty");
	check(ok && out_has(&call, ids) && out_has(&call, "CTTY\r\n"),
	    "the program leads a session whose terminal it is",
	    "not a session leader with a controlling terminal");
	check(ok && out_has(&call, "\r\n30 100\r\n") &&
	    out_has(&call, "T=vt100\r\n"), "the terminal's size and TERM",
	    "differ");
	check(ok && out_has(&call, "err\r\n") && err->mem_len == 0 &&
	    !err->eof, "errors come on the terminal; channel 2 stays silent",
	    "stderr apart");
	rpc_call_release(&call);
}

static void test_winsize(struct rpc_client *c)
{
	char *sh[] = { "sh", "-c", "read x; stty size", NULL };
	char *cat[] = { "cat", NULL };
	struct rpc_pty pty = { 24, 80, "" };
	struct rpc_call call, w;
	int in[2], ok;

	if (pipe(in) != 0)
		return;
	ok = exec_kept(c, &call, sh, 0, &pty, in[0], NULL) == 0;
	rpc_call_init(&w, NULL, NULL);
	ok = ok && rpc_winsize(c, &w, call.id, 12, 34) == 0 &&
	    rpc_wait(c, &w) == 0 && w.final == RPC_R_OK;
	ok = ok && write(in[1], "go\n", 3) == 3;
	close(in[1]);
	ok = ok && rpc_wait(c, &call) == 0 && exited_ok(&call);
	check(ok && out_has(&call, "\r\n12 34\r\n"),
	    "winsize resizes a running terminal", "size not followed");
	rpc_call_release(&call);
	close(in[0]);

	if (pipe(in) != 0)
		return;
	ok = exec_kept(c, &call, cat, 0, NULL, in[0], NULL) == 0;
	rpc_call_init(&w, NULL, NULL);
	ok = ok && rpc_winsize(c, &w, call.id, 12, 34) == 0 &&
	    rpc_wait(c, &w) == 0 && w.final == RPC_R_ERROR &&
	    rpc_err_to_errno(w.err) == ENOTTY;
	close(in[1]);
	ok = rpc_wait(c, &call) == 0 && ok;
	check(ok, "winsize without a terminal gets ENOTTY", "other answer");
	rpc_call_release(&call);
	close(in[0]);

	rpc_call_init(&w, NULL, NULL);
	check(rpc_winsize(c, &w, 999999, 12, 34) == 0 &&
	    rpc_wait(c, &w) == 0 && w.final == RPC_R_ERROR &&
	    rpc_err_to_errno(w.err) == ESRCH,
	    "winsize for no such exec gets ESRCH", "other answer");
}

/* A login shell reading "echo Z=$0" shows the name it was started as. */
static int login_name_is(struct rpc_client *c, char *prog, char **env,
    const char *want)
{
	char *argv[] = { prog, NULL };
	struct rpc_call call;
	int in[2], ok;

	if (pipe(in) != 0)
		return 0;
	ok = exec_kept(c, &call, argv, RPC_EXEC_LOGIN, NULL, in[0], env) == 0 &&
	    write(in[1], "echo \"Z=$0\"\n", 12) == 12;
	close(in[1]);
	ok = ok && rpc_wait(c, &call) == 0 && exited_ok(&call) &&
	    out_has(&call, want);
	rpc_call_release(&call);
	close(in[0]);
	return ok;
}

static void test_login(struct rpc_client *c)
{
	char *shell_sh[] = { "SHELL=/bin/sh", NULL };
	char *shell_dash[] = { "SHELL=/bin/dash", NULL };
	char *no_shell[] = { "SHELL", NULL };

	check(login_name_is(c, "sh", NULL, "Z=-sh\n") &&
	    login_name_is(c, "/bin/sh", NULL, "Z=-sh\n"),
	    "login: argv[0] is '-' and the program's name", "other name");
	check(login_name_is(c, "", shell_sh, "Z=-sh\n") &&
	    (access("/bin/dash", X_OK) != 0 ||
	    login_name_is(c, "", shell_dash, "Z=-dash\n")),
	    "login: an empty argv[0] runs $SHELL", "other program");
	check(login_name_is(c, "", no_shell, "Z=-sh\n"),
	    "login: without SHELL, /bin/sh", "other program");
}

/* Descriptors the process pid has open, or -1. */
static int count_fds(unsigned pid)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof path, "/proc/%u/fd", pid);
	if ((dir = opendir(path)) == NULL)
		return -1;
	while ((d = readdir(dir)) != NULL)
		n += d->d_name[0] != '.';
	closedir(dir);
	return n;
}

/* Failed starts and finished programs give their terminals back. */
static void test_terminal_failures(struct rpc_client *c, unsigned agent)
{
	char *missing[] = { "no-such-program-here", NULL };
	char *argv[] = { "true", NULL };
	struct rpc_pty pty = { 24, 80, "" };
	struct rpc_call call;
	int i, refused = 0, ok, before = count_fds(agent);

	for (i = 0; i < 50; i++) {
		if (exec_kept(c, &call, missing, 0, &pty, -1, NULL) == 0 &&
		    rpc_wait(c, &call) == 0 && call.final == RPC_R_ERROR &&
		    rpc_err_to_errno(call.err) == ENOENT)
			refused++;
		rpc_call_release(&call);
	}
	ok = exec_kept(c, &call, argv, 0, &pty, -1, NULL) == 0 &&
	    rpc_wait(c, &call) == 0 && exited_ok(&call);
	rpc_call_release(&call);
	check(refused == 50 && ok && count_fds(agent) == before,
	    "a missing program on a terminal: ENOENT, nothing leaks",
	    "failed or leaked");
}

/* ---- resuming a write: SUM PREFIX|PART and WRITE RESUME ---- */

#define RESUME_LEN	300000
#define RESUME_CUT	100000

static int put_file(const char *path, const uint8_t *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int ok = fd >= 0 && write(fd, p, n) == (ssize_t)n;

	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

/* SUM of path, or with flags of a prefix of it or of its part file:
 * the reply in call (R_SUM or R_ERROR); 0 if an answer came. */
static int sum_of(struct rpc_client *c, struct rpc_call *call,
    const char *path, uint32_t flags, uint64_t length)
{
	rpc_call_init(call, NULL, NULL);
	if ((flags != 0 ? rpc_sum_prefix(c, call, path, strlen(path), flags,
	    length) : rpc_sum(c, call, path, strlen(path))) != 0)
		return -1;
	return rpc_wait(c, call);
}

static int same_sum(const struct rpc_call *a, const struct rpc_call *b)
{
	return a->final == RPC_R_SUM && b->final == RPC_R_SUM &&
	    a->size == b->size && memcmp(a->digest, b->digest, 32) == 0;
}

/* WRITE RESUME of data[offset..] to path: the call, waited for. */
static int write_from(struct rpc_client *c, struct rpc_call *call,
    const char *path, uint32_t flags, const uint8_t *data, uint64_t offset)
{
	rpc_call_init(call, NULL, NULL);
	if (rpc_source_mem(call, data + offset, RESUME_LEN - offset) != 0 ||
	    rpc_write_ex(c, call, path, strlen(path), flags | RPC_WRITE_RESUME,
	    0600, &(struct rpc_write_extra){ .offset = offset,
	    .mtime = 1000000000 }) != 0)
		return -1;
	return rpc_wait(c, call);
}

/*
 * Two writers of one target: while one holds the part file, a second
 * from offset 0 goes through a temporary of its own, and one from an
 * offset gets EBUSY.  Each result is whole; the last rename wins.
 */
static void test_resume_busy(struct rpc_client *c, const char *dir,
    const uint8_t *data)
{
	struct rpc_call hw, a, b;
	struct held h = { &hw, 1, { -1, -1 } };
	char dst[64], part[64];
	struct stat st;
	int ok;

	snprintf(dst, sizeof dst, "%s/busy", dir);
	snprintf(part, sizeof part, "%s/.busy.rwpart", dir);
	rpc_call_init(&hw, NULL, NULL);
	ok = pipe(h.hold) == 0 && rpc_source_fd(&hw, h.hold[0]) == 0 &&
	    rpc_write_ex(c, &hw, dst, strlen(dst), RPC_WRITE_RESUME, 0600,
	    NULL) == 0 &&
	    rpc_run(c, held_opened, &h) == 0 && held_none_done(&h);
	check(ok, "resume: a writer holds the part file", "it ended");
	ok = write_from(c, &a, dst, 0, data, 0) == 0 &&
	    a.final == RPC_R_DONE && a.size == RESUME_LEN &&
	    stat(dst, &st) == 0 && st.st_size == RESUME_LEN &&
	    stat(part, &st) == 0 && st.st_size == 0;
	check(ok, "resume: a second writer from 0 writes a whole file past "
	    "the held part", a.errmsg);
	rpc_call_release(&a);
	ok = write_from(c, &a, dst, 0, data, 1) == 0 &&
	    a.final == RPC_R_ERROR && rpc_err_to_errno(a.err) == EBUSY;
	check(ok, "resume: a writer from an offset gets EBUSY while the part "
	    "is held", a.errmsg);
	rpc_call_release(&a);
	ok = held_release(c, &h) == 0 && hw.final == RPC_R_DONE &&
	    hw.size == 0 && sum_of(c, &b, dst, 0, 0) == 0 &&
	    b.final == RPC_R_SUM && b.size == 0 && stat(part, &st) != 0;
	check(ok, "resume: the held writer ends whole, and its part goes",
	    hw.errmsg);
	held_free(&h);
	unlink(dst);
}

static void test_resume(struct rpc_client *c)
{
	static uint8_t data[RESUME_LEN];
	char dir[] = "/tmp/unit-resume-XXXXXX";
	char src[64], pre[64], dst[64], part[64], link[64], mt[64];
	struct rpc_call a, b, x;
	struct stat st;
	size_t i;
	int ok;

	for (i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 7 + i / 251);
	if (mkdtemp(dir) == NULL) {
		check(0, "resume: a directory", strerror(errno));
		return;
	}
	snprintf(src, sizeof src, "%s/src", dir);
	snprintf(pre, sizeof pre, "%s/pre", dir);
	snprintf(dst, sizeof dst, "%s/dst", dir);
	snprintf(part, sizeof part, "%s/.dst.rwpart", dir);
	snprintf(link, sizeof link, "%s/.lnk.rwpart", dir);
	if (put_file(src, data, sizeof data) != 0 ||
	    put_file(pre, data, RESUME_CUT) != 0 ||
	    put_file(part, data, RESUME_CUT) != 0) {
		check(0, "resume: files", strerror(errno));
		return;
	}

	ok = sum_of(c, &a, src, RPC_SUM_PREFIX, RESUME_CUT) == 0 &&
	    sum_of(c, &b, pre, 0, 0) == 0 && same_sum(&a, &b);
	check(ok, "resume: SUM PREFIX hashes that many bytes",
	    "differs from the SUM of a file of those bytes");
	ok = sum_of(c, &a, pre, RPC_SUM_PREFIX, UINT64_MAX / 2) == 0 &&
	    same_sum(&a, &b);
	check(ok, "resume: SUM PREFIX past the end hashes the file",
	    "differs from the whole file's SUM");
	ok = sum_of(c, &a, dst, RPC_SUM_PART | RPC_SUM_PREFIX,
	    RESUME_LEN) == 0 && same_sum(&a, &b);
	check(ok, "resume: SUM PART hashes the target's part file",
	    "differs from the SUM of the part's bytes");
	ok = sum_of(c, &a, src, RPC_SUM_PART, 0) == 0 &&
	    a.final == RPC_R_ERROR && rpc_err_to_errno(a.err) == ENOENT;
	check(ok, "resume: SUM PART without a part file: ENOENT",
	    a.errmsg);
	ok = sum_of(c, &a, src, 0x100, 0) == 0 && a.final == RPC_R_ERROR &&
	    rpc_err_to_errno(a.err) == EINVAL;
	check(ok, "resume: SUM with an unknown flag: EINVAL", a.errmsg);

	ok = write_from(c, &a, dst, 0, data, RESUME_CUT + 1) == 0 &&
	    a.final == RPC_R_ERROR && rpc_err_to_errno(a.err) == ESTALE &&
	    stat(dst, &st) != 0 && stat(part, &st) == 0 &&
	    st.st_size == RESUME_CUT;
	check(ok, "resume: WRITE RESUME past the part's end: ESTALE, the part "
	    "as it was, no target", a.errmsg);
	rpc_call_release(&a);
	ok = put_file(part, data, RESUME_CUT) == 0 &&
	    write_from(c, &a, dst, 0, data, RESUME_CUT) == 0 &&
	    a.final == RPC_R_DONE && a.size == RESUME_LEN - RESUME_CUT &&
	    sum_of(c, &b, dst, 0, 0) == 0 && sum_of(c, &x, src, 0, 0) == 0 &&
	    same_sum(&x, &b) && stat(part, &st) != 0;
	check(ok, "resume: WRITE RESUME from the part's end completes the "
	    "file and removes the part", a.errmsg);
	rpc_call_release(&a);
	ok = write_from(c, &a, dst, RPC_WRITE_FSYNC, data, 0) == 0 &&
	    a.final == RPC_R_DONE && a.size == RESUME_LEN &&
	    sum_of(c, &b, dst, 0, 0) == 0 && sum_of(c, &x, src, 0, 0) == 0 &&
	    same_sum(&x, &b) && stat(part, &st) != 0;
	check(ok, "resume: WRITE RESUME from 0 writes the whole file", a.errmsg);
	rpc_call_release(&a);
	snprintf(dst, sizeof dst, "%s/lnk", dir);
	ok = symlink(pre, link) == 0 && write_from(c, &a, dst, 0, data, 0) == 0 &&
	    a.final == RPC_R_ERROR && lstat(link, &st) == 0 &&
	    S_ISLNK(st.st_mode) && sum_of(c, &b, pre, 0, 0) == 0 &&
	    b.size == RESUME_CUT;
	check(ok, "resume: a part file that is a symlink is not followed",
	    a.final == RPC_R_ERROR ? "symlink touched" : "write accepted");
	rpc_call_release(&a);
	snprintf(mt, sizeof mt, "%s/mt", dir);
	ok = write_from(c, &a, mt, RPC_WRITE_MTIME, data, 0) == 0 &&
	    a.final == RPC_R_DONE && stat(mt, &st) == 0 &&
	    st.st_mtime == 1000000000;
	check(ok, "WRITE MTIME: the new file has that mtime", a.errmsg);
	rpc_call_release(&a);
	unlink(mt);
	ok = write_from(c, &a, dst, RPC_WRITE_APPEND, data, 0) == 0 &&
	    a.final == RPC_R_ERROR && rpc_err_to_errno(a.err) == EINVAL;
	check(ok, "resume: APPEND with RESUME: EINVAL", a.errmsg);
	rpc_call_release(&a);
	ok = write_from(c, &a, dst, 0x100, data, 0) == 0 &&
	    a.final == RPC_R_ERROR && rpc_err_to_errno(a.err) == EINVAL;
	check(ok, "resume: WRITE with an unknown flag: EINVAL", a.errmsg);
	rpc_call_release(&a);
	test_resume_busy(c, dir, data);
	unlink(link);
	unlink(src);
	unlink(pre);
	snprintf(dst, sizeof dst, "%s/dst", dir);
	unlink(dst);
	rmdir(dir);
}

static double bench_rpc_exec(struct rpc_client *c, int n)
{
	char *argv[] = { "/bin/true", NULL };
	struct rpc_call call;
	double t0 = now();
	int i;

	for (i = 0; i < n; i++) {
		if (run_exec(c, argv, &call) != 0 || rpc_wait(c, &call) != 0 ||
		    call.final != RPC_R_EXIT)
			return -1;
		rpc_call_release(&call);
	}
	return now() - t0;
}

static double bench_fork_exec(int n)
{
	char *argv[] = { "/bin/true", NULL };
	extern char **environ;
	double t0 = now();
	pid_t pid;
	int i;

	for (i = 0; i < n; i++) {
		if ((pid = fork()) == 0) {
			execve(argv[0], argv, environ);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, NULL, 0) != pid)
			return -1;
	}
	return now() - t0;
}

static double bench_list(struct rpc_client *c, const char *dir, int n,
    int *count)
{
	struct rpc_call call;
	double t0 = now();
	int i;

	for (i = 0; i < n; i++) {
		*count = 0;
		rpc_call_init(&call, on_list, count);
		if (rpc_list(c, &call, dir, strlen(dir)) != 0 ||
		    rpc_wait(c, &call) != 0 || call.final != RPC_R_DIRENTS)
			return -1;
	}
	return (now() - t0) / n;
}

static void bench(struct rpc_client *c, int nexec)
{
	char dir[] = "/tmp/remowt-bench.XXXXXX", path[64];
	double a, b;
	int i, fd, count = 0;

	a = bench_rpc_exec(c, nexec);
	b = bench_fork_exec(nexec);
	printf("# exec /bin/true x%d through the RPC: %.2f s (%.0f/s); "
	    "fork+execve+waitpid: %.2f s (%.0f/s)\n", nexec, a, nexec / a,
	    b, nexec / b);
	if (mkdtemp(dir) == NULL)
		return;
	for (i = 0; i < 1000; i++) {
		snprintf(path, sizeof path, "%s/entry-%04d", dir, i);
		if ((fd = open(path, O_CREAT | O_WRONLY, 0644)) >= 0)
			close(fd);
	}
	a = bench_list(c, dir, 100, &count);
	printf("# LIST of %d entries (with lstat of each): %.2f ms\n", count,
	    a * 1000);
	snprintf(path, sizeof path, "rm -rf %s", dir);
	if (system(path) != 0)
		return;
}

int main(int argc, char **argv)
{
	const char *agent = getenv("REMOWT_AGENT");
	struct rpc_agent_info info;
	struct rpc_client *c;
	struct rpc_link link;

	if (agent == NULL)
		agent = "build/agent";
	if (rpc_link_spawn(&link, agent, NULL, 0) != 0) {
		printf("not ok - start %s: %s\n", agent, strerror(errno));
		return 1;
	}
	c = rpc_client_new(&link);
	check(c != NULL && rpc_client_hello(c, &info) == 0 &&
	    info.version == RPC_VERSION, "hello", c ? rpc_client_error(c) :
	    "no memory");
	if (failures)
		return 1;
	test_out_of_order(c);
	test_pools(c);
	test_terminal(c);
	test_winsize(c);
	test_login(c);
	test_terminal_failures(c, info.pid);
	test_resume(c);
	if (argc > 1 && strcmp(argv[1], "-b") == 0)
		bench(c, argc > 2 ? atoi(argv[2]) : 10000);
	rpc_client_free(c);
	return failures != 0;
}
