/*
 * unit_rpc.c - the RPC frame codec: client encoders against the agent's
 * decoder, agent replies against the client's decoder, malformed input
 * on both sides, the error and signal maps, and the agent's SHA-256.
 */
#define AGENT_NO_MAIN
#include "../agent.c"

#include <stdio.h>

#include "rpcclient.h"

static int failures;

/* The agent's loop is not run here; keep the compiler content. */
static void (*const unused_fns[])(void) = { reserve_std_fds, agent_loop,
    setup_signals, cleanup };

static void check(int cond, const char *name, const char *why)
{
	if (cond) {
		printf("ok - %s\n", name);
	} else {
		printf("not ok - %s: %s\n", name, why);
		failures++;
	}
}

/* A link made of two memory queues; an always-writable pipe keeps
 * poll(2) from sleeping. */
struct memlink {
	uint8_t sent[1 << 20];
	size_t sent_len;
	uint8_t feed[1 << 20];
	size_t feed_len, feed_pos;
	int wake[2];
};

static struct memlink ml;

static int ml_pollfds(void *ctx, struct pollfd *pfd, int max)
{
	(void)ctx;
	(void)max;
	pfd[0].fd = ml.wake[1];
	pfd[0].events = POLLOUT;
	return 1;
}

static int ml_process(void *ctx, const struct pollfd *pfd, int n)
{
	(void)ctx;
	(void)pfd;
	(void)n;
	return 0;
}

static long ml_recv(void *ctx, uint8_t *b, size_t n)
{
	size_t k = ml.feed_len - ml.feed_pos;

	(void)ctx;
	if (k > n)
		k = n;
	memcpy(b, ml.feed + ml.feed_pos, k);
	ml.feed_pos += k;
	return (long)k;
}

static long ml_send(void *ctx, const uint8_t *b, size_t n)
{
	(void)ctx;
	if (n > sizeof ml.sent - ml.sent_len)
		n = sizeof ml.sent - ml.sent_len;
	memcpy(ml.sent + ml.sent_len, b, n);
	ml.sent_len += n;
	return (long)n;
}

static void ml_close(void *ctx)
{
	(void)ctx;
}

static struct rpc_client *new_client(void)
{
	struct rpc_link l = { NULL, ml_pollfds, ml_process, ml_recv, ml_send,
	    ml_close, NULL };

	memset(ml.sent, 0, sizeof ml.sent);
	ml.sent_len = ml.feed_len = ml.feed_pos = 0;
	return rpc_client_new(&l);
}

static int sent_something(void *arg)
{
	(void)arg;
	return ml.sent_len > 0;
}

/* Take the one frame the client sent and decode it as the agent does. */
static int take_request(struct rpc_client *c, struct req *r)
{
	struct rpc_frame f;

	ml.sent_len = 0;
	if (rpc_run(c, sent_something, NULL) != 0)
		return -1;
	if (rpc_frame_parse(ml.sent, ml.sent_len, &f) != (long)ml.sent_len)
		return -1;
	return decode_request(&f, r);
}

static int bytes_eq(const struct bytes *b, const char *s)
{
	return b->n == strlen(s) && memcmp(b->p, s, b->n) == 0;
}

/* EXEC with a terminal and WINSIZE, encoded by the client and decoded
 * by the agent. */
static void test_terminal_requests(struct rpc_client *c,
    struct rpc_exec_req *x)
{
	struct rpc_pty pty = { 30, 100, "xterm-256color" };
	struct rpc_call call;
	struct req r;
	struct buf b;
	struct bytes s;
	uint32_t i;
	uint8_t op;

	rpc_call_init(&call, NULL, NULL);
	x->flags = RPC_EXEC_LOGIN;
	rpc_exec_pty(c, &call, x, &pty);
	check(take_request(c, &r) == 0 && r.type == RPC_EXEC &&
	    r.flags == (RPC_EXEC_LOGIN | RPC_EXEC_PTY) && r.argc == 3 &&
	    r.nenv == 2 && r.rows == 30 && r.cols == 100 &&
	    bytes_eq(&r.term, "xterm-256color"),
	    "exec with a terminal round trip", "fields differ");
	/* The terminal's fields come after the environment's. */
	b = r.args;
	for (i = 0; i < r.argc; i++)
		get_bytes(&b, &s);
	buf_get_u32(&b, &i);
	buf_get_u8(&b, &op);
	get_bytes(&b, &s);
	check(buf_get_u8(&b, &op) == 0 && op == RPC_ENV_UNSET &&
	    get_bytes(&b, &s) == 0 && bytes_eq(&s, "GONE") &&
	    buf_avail(&b) == 4 + 4 + 4 + 14, "terminal fields follow env",
	    "misplaced");
	rpc_call_release(&call);

	rpc_call_init(&call, NULL, NULL);
	pty.term = NULL;
	pty.rows = pty.cols = 0;
	rpc_exec_pty(c, &call, x, &pty);
	check(take_request(c, &r) == 0 && r.rows == 0 && r.cols == 0 &&
	    r.term.n == 0, "exec with a terminal of unknown size and type",
	    "fields differ");
	rpc_call_release(&call);

	rpc_call_init(&call, NULL, NULL);
	pty.rows = RPC_WINSIZE_MAX + 1;
	errno = 0;
	check(rpc_exec_pty(c, &call, x, &pty) != 0 && errno == EINVAL,
	    "a terminal of 65536 rows is refused by the client", "sent");
	rpc_call_release(&call);

	rpc_call_init(&call, NULL, NULL);
	rpc_winsize(c, &call, 77, 24, RPC_WINSIZE_MAX);
	check(take_request(c, &r) == 0 && r.type == RPC_WINSIZE &&
	    r.target == 77 && r.rows == 24 && r.cols == RPC_WINSIZE_MAX,
	    "winsize request round trip", "fields differ");
	rpc_call_release(&call);
	rpc_call_init(&call, NULL, NULL);
	errno = 0;
	check(rpc_winsize(c, &call, 77, 24, RPC_WINSIZE_MAX + 1) != 0 &&
	    errno == EINVAL, "winsize beyond 65535 refused by the client",
	    "sent");
	rpc_call_release(&call);
}

static void test_requests(void)
{
	struct rpc_client *c = new_client();
	struct rpc_call call;
	struct req r;
	char *argv[] = { "prog", "a b", "", NULL };
	char *envs[] = { "K=V", "GONE" };
	uint8_t ops[] = { RPC_ENV_SET, RPC_ENV_UNSET };
	struct rpc_exec_req x = { RPC_EXEC_MERGE_ERR, 1500, "/tmp", argv, ops,
	    envs, 2 };
	struct buf b;
	struct bytes s;
	uint8_t op;

	rpc_call_init(&call, NULL, NULL);
	rpc_stat(c, &call, "/a\nb", 4, 1);
	check(take_request(c, &r) == 0 && r.type == RPC_STAT &&
	    bytes_eq(&r.path, "/a\nb") && r.flags == RPC_STAT_NOFOLLOW &&
	    r.id == call.id, "stat request round trip", "fields differ");
	rpc_call_release(&call);

	rpc_call_init(&call, NULL, NULL);
	rpc_sink_mem(&call, RPC_CHAN_OUT, 12345, 100);
	rpc_read(c, &call, "f", 1, 7, 99);
	check(take_request(c, &r) == 0 && r.type == RPC_READ &&
	    r.offset == 7 && r.length == 99 && r.window == 12345,
	    "read request round trip", "fields differ");
	rpc_call_release(&call);

	rpc_call_init(&call, NULL, NULL);
	rpc_write(c, &call, "w", 1, RPC_WRITE_FSYNC | RPC_WRITE_MODE, 0640);
	check(take_request(c, &r) == 0 && r.type == RPC_WRITE &&
	    r.flags == (RPC_WRITE_FSYNC | RPC_WRITE_MODE) && r.mode == 0640,
	    "write request round trip", "fields differ");
	rpc_call_release(&call);

	rpc_call_init(&call, NULL, NULL);
	rpc_rename(c, &call, "old", 3, "new", 3);
	check(take_request(c, &r) == 0 && r.type == RPC_RENAME &&
	    bytes_eq(&r.path, "old") && bytes_eq(&r.path2, "new"),
	    "rename request round trip", "fields differ");
	rpc_call_release(&call);

	rpc_call_init(&call, NULL, NULL);
	rpc_utime(c, &call, "u", 1, RPC_UTIME_NOFOLLOW, -5, 6, 7,
	    RPC_UTIME_NOW);
	check(take_request(c, &r) == 0 && r.type == RPC_UTIME &&
	    r.atime == -5 && r.atime_ns == 6 && r.mtime == 7 &&
	    r.mtime_ns == RPC_UTIME_NOW && r.flags == RPC_UTIME_NOFOLLOW,
	    "utime request round trip", "fields differ");
	rpc_call_release(&call);

	rpc_call_init(&call, NULL, NULL);
	rpc_chown(c, &call, "o", 1, 12, RPC_ID_NONE, RPC_CHOWN_NOFOLLOW);
	check(take_request(c, &r) == 0 && r.type == RPC_CHOWN &&
	    r.uid == 12 && r.gid == RPC_ID_NONE, "chown request round trip",
	    "fields differ");
	rpc_call_release(&call);

	rpc_call_init(&call, NULL, NULL);
	rpc_exec(c, &call, &x);
	check(take_request(c, &r) == 0 && r.type == RPC_EXEC &&
	    r.flags == RPC_EXEC_MERGE_ERR && r.timeout_ms == 1500 &&
	    bytes_eq(&r.path, "/tmp") && r.argc == 3 && r.nenv == 2,
	    "exec request round trip", "fields differ");
	b = r.args;
	get_bytes(&b, &s);
	check(bytes_eq(&s, "prog") && get_bytes(&b, &s) == 0 &&
	    bytes_eq(&s, "a b") && get_bytes(&b, &s) == 0 && s.n == 0 &&
	    buf_get_u32(&b, &r.nenv) == 0 && buf_get_u8(&b, &op) == 0 &&
	    op == RPC_ENV_SET && get_bytes(&b, &s) == 0 &&
	    bytes_eq(&s, "K=V"), "exec argv and env encoding", "differ");
	rpc_call_release(&call);

	rpc_call_init(&call, NULL, NULL);
	rpc_signal(c, &call, 77, 15, RPC_SIGNAL_GROUP);
	check(take_request(c, &r) == 0 && r.type == RPC_SIGNAL &&
	    r.target == 77 && r.sig == 15 && r.flags == RPC_SIGNAL_GROUP,
	    "signal request round trip", "fields differ");
	rpc_call_release(&call);
	test_terminal_requests(c, &x);
	rpc_client_free(c);
}

/* Replies built by the agent's own code, decoded by the client. */
static void feed_ob(void)
{
	memcpy(ml.feed + ml.feed_len, buf_ptr(&ob), buf_avail(&ob));
	ml.feed_len += buf_avail(&ob);
	buf_reset(&ob);
}

static int call_done(void *arg)
{
	return ((struct rpc_call *)arg)->done;
}

static void test_replies(void)
{
	struct rpc_client *c = new_client();
	struct rpc_call call;
	struct req r;

	buf_init(&ob, obuf_mem, sizeof obuf_mem);

	rpc_call_init(&call, NULL, NULL);
	rpc_stat(c, &call, "/", 1, 0);
	memset(&r, 0, sizeof r);
	r.id = call.id;
	snprintf(pathbuf, sizeof pathbuf, "/");
	do_stat(&r);
	feed_ob();
	check(rpc_run(c, call_done, &call) == 0 && call.final == RPC_R_STAT &&
	    call.st.type == RPC_T_DIR, "stat reply round trip", "differs");
	rpc_call_release(&call);

	rpc_call_init(&call, NULL, NULL);
	rpc_stat(c, &call, "/", 1, 0);
	reply_err(call.id, ENOTEMPTY, "remove", "/x/y");
	feed_ob();
	check(rpc_run(c, call_done, &call) == 0 &&
	    call.final == RPC_R_ERROR &&
	    rpc_err_to_errno(call.err) == ENOTEMPTY &&
	    strcmp(call.errmsg, "remove /x/y") == 0, "error reply round trip",
	    "differs");
	rpc_call_release(&call);

	rpc_call_init(&call, NULL, NULL);
	rpc_read(c, &call, "f", 1, 0, 10);
	rpc_sink_mem(&call, RPC_CHAN_OUT, 100, 100);
	emit_begin(RPC_S_DATA, call.id, &(size_t){ 0 });
	ob.len = 0;
	{
		size_t st;

		emit_begin(RPC_S_DATA, call.id, &st);
		buf_put_u8(&ob, RPC_CHAN_OUT);
		buf_put_bytes(&ob, "hello", 5);
		emit_end(st);
	}
	reply_u64(RPC_R_DONE, call.id, 5);
	feed_ob();
	check(rpc_run(c, call_done, &call) == 0 && call.final == RPC_R_DONE &&
	    call.sink[RPC_CHAN_OUT]->mem_len == 5 &&
	    memcmp(call.sink[RPC_CHAN_OUT]->mem, "hello", 5) == 0,
	    "stream data round trip", "differs");
	rpc_call_release(&call);

	/* The agent sends more than the window the client granted. */
	rpc_call_init(&call, NULL, NULL);
	rpc_sink_mem(&call, RPC_CHAN_OUT, 4, 100);
	rpc_read(c, &call, "f", 1, 0, 10);
	{
		size_t st;

		emit_begin(RPC_S_DATA, call.id, &st);
		buf_put_u8(&ob, RPC_CHAN_OUT);
		buf_put_bytes(&ob, "hello", 5);
		emit_end(st);
	}
	feed_ob();
	check(rpc_run(c, call_done, &call) != 0 &&
	    strstr(rpc_client_error(c), "window") != NULL,
	    "data beyond the window ends the session", "not detected");
	rpc_call_release(&call);
	rpc_client_free(c);

	/* A frame whose length is out of range. */
	c = new_client();
	rpc_call_init(&call, NULL, NULL);
	rpc_stat(c, &call, "/", 1, 0);
	store_be32(ml.feed, RPC_MAX_FRAME + 1);
	ml.feed_len = 16;
	check(rpc_run(c, call_done, &call) != 0 &&
	    strstr(rpc_client_error(c), "malformed") != NULL,
	    "oversized frame from the agent ends the session", "accepted");
	rpc_call_release(&call);
	rpc_client_free(c);

	/* A reply whose payload is short. */
	c = new_client();
	rpc_call_init(&call, NULL, NULL);
	rpc_stat(c, &call, "/", 1, 0);
	{
		size_t st;

		emit_begin(RPC_R_STAT, call.id, &st);
		buf_put_u32(&ob, 1);
		emit_end(st);
	}
	feed_ob();
	check(rpc_run(c, call_done, &call) != 0, "truncated reply ends the "
	    "session", "accepted");
	rpc_call_release(&call);
	rpc_client_free(c);
}

/* What the client sent for one request: its data bytes, and its end. */
struct sent_stream {
	int request;
	size_t data;
	int eof;
};

static void scan_sent(uint32_t id, struct sent_stream *ss)
{
	struct rpc_frame f;
	size_t off = 0;
	long n;

	memset(ss, 0, sizeof *ss);
	while ((n = rpc_frame_parse(ml.sent + off, ml.sent_len - off,
	    &f)) > 0) {
		off += (size_t)n;
		if (f.id != id)
			continue;
		if (f.type == RPC_WRITE)
			ss->request = 1;
		else if (f.type == RPC_S_DATA && f.len > 0 &&
		    f.payload[0] == RPC_CHAN_IN)
			ss->data += f.len - 1;
		else if (f.type == RPC_S_EOF)
			ss->eof = 1;
	}
}

/* Stops rpc_run after a few turns of its loop: nothing more will come. */
static int turns_left;

static int few_turns(void *arg)
{
	(void)arg;
	return turns_left-- <= 0;
}

static void run_turns(struct rpc_client *c, int n)
{
	turns_left = n;
	(void)rpc_run(c, few_turns, NULL);
}

static void put_opened(uint32_t id, uint32_t window)
{
	size_t st;

	emit_begin(RPC_R_OPENED, id, &st);
	buf_put_u64(&ob, 0);
	buf_put_u32(&ob, window);
	emit_end(st);
	feed_ob();
}

/* Whether each of the two ids' S_EOF came right after its S_DATA. */
static int eof_follows_data(uint32_t a, uint32_t b)
{
	struct rpc_frame f;
	size_t off = 0;
	long n;
	uint32_t after_data = 0;
	int seen = 0, have = 0;

	while ((n = rpc_frame_parse(ml.sent + off, ml.sent_len - off,
	    &f)) > 0) {
		off += (size_t)n;
		if (f.type == RPC_S_EOF && (f.id == a || f.id == b)) {
			if (!have || after_data != f.id)
				return 0;
			seen++;
		}
		have = f.type == RPC_S_DATA;
		after_data = f.id;
	}
	return seen == 2;
}

/* Two files read from their descriptors: each one's end goes out right
 * after its data, not after the other's data (a round trip later at
 * the far end, where the answer waits for the end). */
static void test_file_end_with_data(void)
{
	static uint8_t data[3000];
	struct rpc_client *c = new_client();
	struct rpc_call call[2];
	FILE *f[2];
	int i;

	for (i = 0; i < 2; i++) {
		f[i] = tmpfile();
		if (f[i] == NULL || fwrite(data, 1, sizeof data, f[i]) !=
		    sizeof data || fflush(f[i]) != 0 ||
		    lseek(fileno(f[i]), 0, SEEK_SET) != 0) {
			check(0, "file end with its data", "no temporary file");
			return;
		}
		rpc_call_init(&call[i], NULL, NULL);
		rpc_source_fd(&call[i], fileno(f[i]));
		rpc_write(c, &call[i], "f", 1, 0, 0);
	}
	run_turns(c, 20);
	check(eof_follows_data(call[0].id, call[1].id),
	    "a file's end goes out right after its data",
	    "after other frames");
	for (i = 0; i < 2; i++) {
		rpc_call_release(&call[i]);
		fclose(f[i]);
	}
	rpc_client_free(c);
}

/* A WRITE's first RPC_WRITE_EARLY bytes go out with it, unasked: a small
 * file is one round trip.  R_OPENED's window counts them. */
static void test_early_write(void)
{
	static uint8_t data[100000];
	struct rpc_client *c = new_client();
	struct rpc_call call;
	struct sent_stream ss;

	buf_init(&ob, obuf_mem, sizeof obuf_mem);
	rpc_call_init(&call, NULL, NULL);
	rpc_source_mem(&call, data, 3000);
	rpc_write(c, &call, "f", 1, 0, 0);
	run_turns(c, 20);
	scan_sent(call.id, &ss);
	check(ss.request && ss.data == 3000 && ss.eof,
	    "a small file's data and end go out before R_OPENED",
	    ss.eof ? "data differ" : "it waited");
	rpc_call_release(&call);
	rpc_client_free(c);

	c = new_client();
	rpc_call_init(&call, NULL, NULL);
	rpc_source_mem(&call, data, sizeof data);
	rpc_write(c, &call, "f", 1, 0, 0);
	run_turns(c, 20);
	scan_sent(call.id, &ss);
	check(ss.data == RPC_WRITE_EARLY && !ss.eof,
	    "no more than the early credit goes out before R_OPENED",
	    "sent another amount");
	put_opened(call.id, RPC_WRITE_EARLY + 10000);
	run_turns(c, 20);
	scan_sent(call.id, &ss);
	check(ss.data == RPC_WRITE_EARLY + 10000 && !ss.eof,
	    "R_OPENED's window counts the early data", "sent another amount");
	rpc_call_release(&call);
	rpc_client_free(c);

	c = new_client();
	rpc_call_init(&call, NULL, NULL);
	rpc_source_mem(&call, data, 10);
	rpc_write(c, &call, "f", 1, 0, 0);
	put_opened(call.id, RPC_WRITE_EARLY - 1);
	run_turns(c, 20);
	check(rpc_client_error(c) != NULL &&
	    strstr(rpc_client_error(c), "write window") != NULL,
	    "a write window below the early credit ends the session",
	    "accepted");
	rpc_call_release(&call);
	rpc_client_free(c);
}

static void test_frames(void)
{
	uint8_t b[32];
	struct rpc_frame f;

	memset(b, 0, sizeof b);
	store_be32(b, 5);
	b[4] = RPC_HELLO;
	store_be32(b + 5, 42);
	check(rpc_frame_parse(b, 9, &f) == 9 && f.type == RPC_HELLO &&
	    f.id == 42 && f.len == 0, "minimal frame", "not parsed");
	check(rpc_frame_parse(b, 8, &f) == 0, "incomplete frame waits",
	    "not 0");
	check(rpc_frame_parse(b, 3, &f) == 0, "incomplete length waits",
	    "not 0");
	store_be32(b, 4);
	check(rpc_frame_parse(b, 32, &f) == -1, "length below header",
	    "accepted");
	store_be32(b, 0);
	check(rpc_frame_parse(b, 32, &f) == -1, "zero length", "accepted");
	store_be32(b, RPC_MAX_FRAME + 1);
	check(rpc_frame_parse(b, 32, &f) == -1, "length above maximum",
	    "accepted");
	store_be32(b, RPC_MAX_FRAME);
	check(rpc_frame_parse(b, 32, &f) == 0, "maximum length is legal",
	    "refused");
	store_be32(b, 0xffffffffu);
	check(rpc_frame_parse(b, 32, &f) == -1, "huge length", "accepted");
}

/* Every request type cut short at every length is refused; with all
 * its fields present (zero-length strings) it decodes. */
static void test_truncated_requests(void)
{
	static const struct {
		uint8_t type;
		size_t min;
	} t[] = {
		{ RPC_HELLO, 16 }, { RPC_STAT, 8 }, { RPC_READ, 24 },
		{ RPC_WRITE, 12 }, { RPC_RENAME, 12 }, { RPC_CHOWN, 16 },
		{ RPC_UTIME, 32 }, { RPC_SIGNAL, 12 }, { RPC_CANCEL, 4 },
		{ RPC_WINSIZE, 12 },
		{ RPC_S_DATA, 1 }, { RPC_S_EOF, 1 }, { RPC_S_WINDOW, 5 },
	};
	uint8_t p[256];
	struct rpc_frame f;
	struct req r;
	size_t i, n;
	int bad = 0;

	memset(p, 0, sizeof p);
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		f.type = t[i].type;
		f.id = 1;
		f.payload = p;
		for (n = 0; n < t[i].min; n++) {
			f.len = n;
			if (decode_request(&f, &r) == 0)
				bad++;
		}
		f.len = t[i].min;
		if (decode_request(&f, &r) != 0)
			bad++;
	}
	check(bad == 0, "requests cut short are refused, whole ones taken",
	    "some wrong");

	/* EXEC: argc 0, a NUL in an argument, an unknown env op. */
	memset(p, 0, sizeof p);
	f.type = RPC_EXEC;
	f.payload = p;
	f.len = 4 + 4 + 4 + 4 + 4 + 4;
	check(decode_request(&f, &r) != 0, "exec with no argv is refused",
	    "accepted");
	store_be32(p + 16, 1);
	store_be32(p + 20, 1);
	p[24] = 0;
	f.len = 4 + 4 + 4 + 4 + 4 + 4 + 1 + 4;
	check(decode_request(&f, &r) != 0, "exec argument with NUL refused",
	    "accepted");
	p[24] = 'x';
	store_be32(p + 25, 1);
	p[29] = 9;
	store_be32(p + 30, 1);
	p[34] = 'A';
	f.len = 35;
	check(decode_request(&f, &r) != 0, "unknown env op refused",
	    "accepted");
	p[29] = RPC_ENV_SET;
	check(decode_request(&f, &r) != 0, "env set without '=' refused",
	    "accepted");
	p[29] = RPC_ENV_UNSET;
	check(decode_request(&f, &r) == 0 && r.argc == 1 && r.nenv == 1,
	    "well-formed exec accepted", "refused");

	/* PTY: rows, cols and term must follow; rows within 16 bits, no
	 * NUL in term. */
	store_be32(p, RPC_EXEC_PTY);
	check(decode_request(&f, &r) != 0, "exec PTY without its fields "
	    "refused", "accepted");
	f.len = 35 + 4 + 4 + 4;
	check(decode_request(&f, &r) == 0 && r.rows == 0 && r.term.n == 0,
	    "exec PTY with its fields accepted", "refused");
	for (n = 35; n < f.len; n++) {
		f.len = n;
		if (decode_request(&f, &r) == 0)
			bad++;
		f.len = 35 + 4 + 4 + 4;
	}
	check(bad == 0, "exec PTY with its fields cut short refused",
	    "accepted");
	store_be32(p + 35, RPC_WINSIZE_MAX + 1);
	check(decode_request(&f, &r) != 0, "exec PTY of 65536 rows refused",
	    "accepted");
	store_be32(p + 35, 24);
	store_be32(p + 39, 80);
	store_be32(p + 43, 2);
	p[47] = 'v';
	p[48] = 0;
	f.len = 49;
	check(decode_request(&f, &r) != 0, "exec PTY term with NUL refused",
	    "accepted");
	p[48] = 't';
	check(decode_request(&f, &r) == 0 && r.rows == 24 && r.cols == 80 &&
	    bytes_eq(&r.term, "vt"), "exec PTY fields decoded", "differ");
	store_be32(p, 0);
	f.len = 35;

	store_be32(p + 16, MAX_ARGS + 1);
	check(decode_request(&f, &r) != 0, "argc beyond the limit refused",
	    "accepted");
}

/* What the agent answers, with no file system involved. */
static void test_dispatch(void)
{
	uint8_t fr[64];
	struct rpc_frame f;
	struct rpc_reply rep;
	long n;

	buf_init(&ob, obuf_mem, sizeof obuf_mem);
	hello_done = 0;
	f.type = RPC_STAT;
	f.id = 9;
	f.payload = fr;
	f.len = 0;
	dispatch(&f);
	n = rpc_frame_parse(buf_ptr(&ob), buf_avail(&ob), &f);
	check(n > 0 && rpc_decode_reply(&f, &rep) == 0 &&
	    rep.type == RPC_R_ERROR && rep.err == 71 && rep.id == 9,
	    "a request before hello gets EPROTO", "other reply");
	buf_reset(&ob);
	hello_done = 1;
	f.type = 0x3f;
	f.id = 10;
	f.payload = fr;
	f.len = 0;
	dispatch(&f);
	n = rpc_frame_parse(buf_ptr(&ob), buf_avail(&ob), &f);
	check(n > 0 && rpc_decode_reply(&f, &rep) == 0 &&
	    rep.type == RPC_R_ERROR && rpc_err_to_errno(rep.err) == ENOSYS &&
	    rep.id == 10, "unknown request type gets ENOSYS", "other reply");
	buf_reset(&ob);
	f.type = RPC_STAT;
	f.id = 11;
	f.payload = fr;
	f.len = 3;
	dispatch(&f);
	n = rpc_frame_parse(buf_ptr(&ob), buf_avail(&ob), &f);
	check(n > 0 && rpc_decode_reply(&f, &rep) == 0 &&
	    rep.type == RPC_R_ERROR && rep.err == 71,
	    "malformed payload gets EPROTO", "other reply");
	buf_reset(&ob);
	memset(fr, 0, sizeof fr);
	f.type = RPC_STAT;
	f.id = 12;
	f.payload = fr;
	f.len = 8;
	store_be32(fr + 4, 0);
	dispatch(&f);
	n = rpc_frame_parse(buf_ptr(&ob), buf_avail(&ob), &f);
	check(n > 0 && rpc_decode_reply(&f, &rep) == 0 &&
	    rep.type == RPC_R_ERROR && rpc_err_to_errno(rep.err) == ENOENT,
	    "empty path gets ENOENT", "other reply");
	buf_reset(&ob);
	store_be32(fr + 4, 3);
	memcpy(fr + 8, "a\0b", 3);
	f.type = RPC_STAT;
	f.id = 13;
	f.payload = fr;
	f.len = 11;
	dispatch(&f);
	n = rpc_frame_parse(buf_ptr(&ob), buf_avail(&ob), &f);
	check(n > 0 && rpc_decode_reply(&f, &rep) == 0 &&
	    rep.type == RPC_R_ERROR && rpc_err_to_errno(rep.err) == EINVAL,
	    "path with NUL gets EINVAL", "other reply");
	buf_reset(&ob);
	memset(fr, 0, sizeof fr);
	store_be32(fr, 4242);
	f.type = RPC_WINSIZE;
	f.id = 14;
	f.payload = fr;
	f.len = 12;
	dispatch(&f);
	n = rpc_frame_parse(buf_ptr(&ob), buf_avail(&ob), &f);
	check(n > 0 && rpc_decode_reply(&f, &rep) == 0 &&
	    rep.type == RPC_R_ERROR && rpc_err_to_errno(rep.err) == ESRCH &&
	    rep.id == 14, "winsize for no such exec gets ESRCH",
	    "other reply");
	buf_reset(&ob);
}

static void test_maps(void)
{
	static const int errs[] = { EPERM, ENOENT, EACCES, EEXIST, ENOTDIR,
	    EISDIR, EINVAL, ENOSPC, ENOTEMPTY, ELOOP, ENAMETOOLONG, EROFS,
	    EXDEV, ETXTBSY, EDQUOT, ECANCELED, EPROTO };
	static const int sigs[] = { SIGHUP, SIGINT, SIGKILL, SIGUSR1, SIGSEGV,
	    SIGUSR2, SIGPIPE, SIGTERM, SIGCHLD, SIGSTOP, SIGWINCH, SIGSYS };
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof errs / sizeof errs[0]; i++)
		if (rpc_err_to_errno(rpc_err_from_errno(errs[i])) != errs[i])
			bad++;
	check(bad == 0, "errno map round trip", "some differ");
	check(rpc_err_from_errno(ENOENT) == 2 && rpc_err_from_errno(EACCES) ==
	    13 && rpc_err_from_errno(ENOTEMPTY) == 39 &&
	    rpc_err_from_errno(ENOSPC) == 28, "errno wire numbers are fixed",
	    "differ");
	check(rpc_err_from_errno(EHWPOISON) == RPC_EOTHER &&
	    rpc_err_to_errno(12345) == EIO, "unknown errors map to EOTHER/EIO",
	    "differ");
	bad = 0;
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		if (rpc_sig_to_native(rpc_sig_from_native(sigs[i])) != sigs[i])
			bad++;
	check(bad == 0 && rpc_sig_from_native(SIGTERM) == 15 &&
	    rpc_sig_from_native(SIGUSR1) == 10 &&
	    rpc_sig_to_native(RPC_SIG_RAW + SIGRTMIN) == SIGRTMIN,
	    "signal map round trip", "differs");
	check(rpc_sig_parse("TERM") == 15 && rpc_sig_parse("SIGKILL") == 9 &&
	    rpc_sig_parse("1") == 1 && rpc_sig_parse("NOPE") == 0 &&
	    strcmp(rpc_sig_name(15), "TERM") == 0, "signal names", "differ");
}

static int sha_is(const void *data, size_t n, const char *hex)
{
	struct sha256 c;
	uint8_t md[32];
	char out[65];
	int i;

	sha256_init(&c);
	sha256_update(&c, data, n);
	sha256_final(&c, md);
	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return strcmp(out, hex) == 0;
}

static void test_sha256(void)
{
	static uint8_t mil[1000000];
	struct sha256 c1, c2;
	uint8_t a[32], b[32];
	size_t i, k;

	check(sha_is("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a"
	    "9cb410ff61f20015ad"), "SHA-256 FIPS 180 \"abc\"", "differs");
	check(sha_is("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934c"
	    "a495991b7852b855"), "SHA-256 empty message", "differs");
	check(sha_is("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	    56, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db"
	    "06c1"), "SHA-256 FIPS 180 two blocks", "differs");
	memset(mil, 'a', sizeof mil);
	check(sha_is(mil, sizeof mil, "cdc76e5c9914fb9281a1c7e284d73e67f1809a4"
	    "8a497200e046d39ccc7112cd0"), "SHA-256 FIPS 180 a million 'a'",
	    "differs");
	for (i = 0; i < sizeof mil; i++)
		mil[i] = (uint8_t)(i * 7 + (i >> 9));
	sha256_init(&c1);
	sha256_update(&c1, mil, sizeof mil);
	sha256_final(&c1, a);
	sha256_init(&c2);
	for (i = 0, k = 1; i < sizeof mil; i += k, k = k * 3 % 1000 + 1)
		sha256_update(&c2, mil + i, k < sizeof mil - i ? k :
		    sizeof mil - i);
	sha256_final(&c2, b);
	check(memcmp(a, b, 32) == 0, "SHA-256 in uneven pieces", "differs");
}

int main(void)
{
	(void)unused_fns;
	if (pipe(ml.wake) != 0)
		return 1;
	test_frames();
	test_truncated_requests();
	test_dispatch();
	test_requests();
	test_replies();
	test_early_write();
	test_file_end_with_data();
	test_maps();
	test_sha256();
	return failures != 0;
}
