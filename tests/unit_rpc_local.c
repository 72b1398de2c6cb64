/*
 * unit_rpc_local.c - the RPC client against a real agent (build/agent or
 * $REMOWT_AGENT): requests answered out of order, many processes at
 * once, full request and process pools, and, with -b [N], timings of
 * exec and listing against plain C.
 */
#include <sys/stat.h>
#include <sys/wait.h>

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
	if (argc > 1 && strcmp(argv[1], "-b") == 0)
		bench(c, argc > 2 ? atoi(argv[2]) : 10000);
	rpc_client_free(c);
	return failures != 0;
}
