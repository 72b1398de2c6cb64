/*
 * unit_rpc_local.c - the RPC client against a real agent (build/agent or
 * $REMOWT_AGENT): requests answered out of order, many processes at
 * once, and, with -b [N], timings of exec and listing against plain C.
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
	if (argc > 1 && strcmp(argv[1], "-b") == 0)
		bench(c, argc > 2 ? atoi(argv[2]) : 10000);
	rpc_client_free(c);
	return failures != 0;
}
