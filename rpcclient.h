/*
 * rpcclient.h - the client side of the agent RPC, over any byte link.
 *
 * A session runs on a struct rpc_link, so that the same code drives a
 * local child agent (pipes) and, later, an agent behind an SSH channel.
 * Everything is poll-driven and non-blocking: many calls may be in
 * flight, each with its own id, and their stream data moves between the
 * link and local descriptors under per-stream credit.
 */
#ifndef REMOWT_RPCCLIENT_H
#define REMOWT_RPCCLIENT_H

#include <sys/types.h>

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "rpc.h"

/* A byte pipe to the agent, driven by poll(2). */
struct rpc_link {
	void *ctx;
	/* Add the fds to poll and their events; return how many were added. */
	int (*pollfds)(void *ctx, struct pollfd *pfd, int max);
	/* After poll: handle revents of the fds it added; -1 on fatal error. */
	int (*process)(void *ctx, const struct pollfd *pfd, int n);
	/* Non-blocking: bytes read (>0), 0 if none now, -1 on EOF/error. */
	long (*recv)(void *ctx, uint8_t *buf, size_t n);
	/* Non-blocking: bytes accepted (>=0, 0 if none now), -1 on error. */
	long (*send)(void *ctx, const uint8_t *buf, size_t n);
	void (*close)(void *ctx);
	/* Optional: ms until process() must run even with nothing to read
	 * (an SSH keepalive is due), -1 for none. */
	int (*timeout)(void *ctx);
};

/*
 * The local link: an agent started as a child process, talking over two
 * pipes.  The agent is the executable at path if path is not NULL, else
 * the image img[0..len) run from a memfd (or, failing that, from a
 * private temporary file).  Returns 0, or -1 with errno set.
 */
int rpc_link_spawn(struct rpc_link *link, const char *path,
    const uint8_t *img, size_t len);

/* One decoded frame from the agent; byte strings point into it. */
struct rpc_bytes {
	const uint8_t *p;
	size_t n;
};

struct rpc_hello {
	uint32_t version;
	uint32_t max_frame;
	struct rpc_bytes build, exe_sha256, sysname, release, machine;
	uint32_t pid;
};

struct rpc_reply {
	uint8_t type;
	uint32_t id;
	uint32_t err;			/* R_ERROR */
	struct rpc_bytes msg;		/* R_ERROR; R_LINK: the target */
	struct rpc_stat st;		/* R_STAT */
	struct rpc_statvfs vfs;		/* R_STATVFS */
	struct rpc_hello hello;		/* R_HELLO */
	uint64_t size;			/* R_OPENED, R_SUM, R_DONE */
	uint32_t window;		/* R_OPENED, R_STARTED */
	uint32_t pid;			/* R_STARTED */
	uint32_t exit_kind, exit_value, exit_flags;	/* R_EXIT */
	uint8_t digest[32];		/* R_SUM */
	uint32_t dirents_flags, dirents_count;
	struct buf dirents;		/* R_DIRENTS: the entries */
	uint8_t chan;			/* stream frames */
	struct rpc_bytes data;		/* S_DATA */
	uint32_t increment;		/* S_WINDOW */
};

struct rpc_dirent {
	struct rpc_bytes name;
	uint32_t err;			/* lstat failed: only the name is known */
	struct rpc_stat st;
	struct rpc_bytes link;
};

/* Decode a frame from the agent: 0, or -1 if its payload is malformed. */
int rpc_decode_reply(const struct rpc_frame *f, struct rpc_reply *r);
/* The next entry of an R_DIRENTS batch: 1, 0 at the end, -1 malformed. */
int rpc_dirent_next(struct buf *b, struct rpc_dirent *d);
/* Whether a reply ends its request. */
int rpc_reply_is_final(const struct rpc_reply *r);

struct rpc_client;
struct rpc_call;

/* Called for every frame of a call, stream frames included. */
typedef void (*rpc_reply_fn)(struct rpc_call *, const struct rpc_reply *);

/* Stream data from the agent into a local fd, or into memory. */
struct rpc_sink {
	int fd;			/* -1: keep the data in mem */
	int nonblock_set;	/* we set O_NONBLOCK and must undo it */
	int small_writes;	/* a terminal: write PIPE_BUF at a time */
	uint8_t *buf;
	size_t len, cap;	/* cap is the credit we grant */
	uint32_t owed;		/* credit not yet returned */
	int eof;
	int error;		/* errno of a failed local write */
	uint8_t *mem;		/* fd == -1: everything received */
	size_t mem_len, mem_cap, mem_limit;
	int truncated;
};

/* Stream data from a local fd, memory or a function, to the agent's
 * stdin or file. */
struct rpc_source {
	int fd;			/* -1: send mem[0..mem_len), or what fn gives */
	const uint8_t *mem;
	size_t mem_len, mem_off;
	ssize_t (*fn)(void *, void *, size_t);
	void *fn_arg;
	int eof;		/* read hit EOF: S_EOF sent */
	int stopped;		/* the agent wants no more */
	int error;		/* errno of a failed local read */
	uint64_t credit;
	int started;		/* the agent granted a window */
	int regular;		/* fd is a regular file: reads never wait */
};

struct rpc_call {
	struct rpc_client *client;
	uint32_t id;
	uint8_t type;
	int done;		/* the final reply came */
	int detached;		/* freed by the client once answered */
	rpc_reply_fn on_reply;
	void *arg;
	struct rpc_sink *sink[RPC_NCHAN];
	struct rpc_source *source;
	/* The final reply, kept. */
	uint8_t final;
	uint32_t err;
	char errmsg[RPC_MAX_PATH + 64];
	struct rpc_stat st;
	struct rpc_statvfs vfs;
	uint8_t digest[32];
	uint64_t size;
	uint32_t pid;
	uint32_t exit_kind, exit_value, exit_flags;
	char *link;		/* R_LINK, malloc'd, NUL-terminated */
	size_t link_len;
	struct rpc_call *next;
};

/* The agent's hello, kept as C strings. */
struct rpc_agent_info {
	uint32_t version;
	uint32_t pid;
	char build[128];
	char exe_sha256[65];
	char sysname[65], release[65], machine[65];
};

struct rpc_client *rpc_client_new(const struct rpc_link *link);
/* Closes the link and frees the client; calls stay the caller's. */
void rpc_client_free(struct rpc_client *c);
/* Exchange hellos; -1 with rpc_client_error() set on failure. */
int rpc_client_hello(struct rpc_client *c, struct rpc_agent_info *info);
/* Why the session failed, or NULL while it is healthy. */
const char *rpc_client_error(const struct rpc_client *c);

/*
 * Extra local descriptors for the caller's own events (signals, say):
 * pollfds adds them, process handles their revents.
 */
void rpc_client_watch(struct rpc_client *c,
    int (*pollfds)(void *, struct pollfd *, int),
    void (*process)(void *, const struct pollfd *, int), void *arg);

/*
 * Run the loop until done(arg) is true (0), or the session fails (-1).
 * done may be NULL: run until every call has finished.
 */
int rpc_run(struct rpc_client *c, int (*done)(void *), void *arg);
/* Run until the call and its streams are finished. */
int rpc_wait(struct rpc_client *c, struct rpc_call *call);
/* The call is done and what its sinks hold has been written out. */
int rpc_call_finished(const struct rpc_call *call);
/* Calls not yet finished. */
int rpc_client_pending(const struct rpc_client *c);

/* Prepare a call; attach sinks and a source before starting it. */
void rpc_call_init(struct rpc_call *call, rpc_reply_fn fn, void *arg);
void rpc_call_release(struct rpc_call *call);
int rpc_sink_fd(struct rpc_call *call, int chan, int fd, size_t window);
int rpc_sink_mem(struct rpc_call *call, int chan, size_t window,
    size_t limit);
int rpc_source_fd(struct rpc_call *call, int fd);
/* The same from memory, sent as credit allows; data[0..len) must stay
 * until the call is finished. */
int rpc_source_mem(struct rpc_call *call, const void *data, size_t len);
/* The same from fn(arg, buf, n), called as credit allows: it returns
 * 1..n bytes, 0 at the end, or -1 with errno set; it may block, but
 * must not answer EAGAIN. */
int rpc_source_fn(struct rpc_call *call,
    ssize_t (*fn)(void *, void *, size_t), void *arg);

/* Requests.  Paths are byte strings.  Return 0 or -1 (E2BIG, ENOMEM). */
int rpc_stat(struct rpc_client *, struct rpc_call *, const void *path,
    size_t len, int nofollow);
int rpc_list(struct rpc_client *, struct rpc_call *, const void *path,
    size_t len);
int rpc_read(struct rpc_client *, struct rpc_call *, const void *path,
    size_t len, uint64_t offset, uint64_t length);
int rpc_write(struct rpc_client *, struct rpc_call *, const void *path,
    size_t len, uint32_t flags, uint32_t mode);
int rpc_mkdir(struct rpc_client *, struct rpc_call *, const void *path,
    size_t len, uint32_t flags, uint32_t mode);
int rpc_rename(struct rpc_client *, struct rpc_call *, const void *from,
    size_t flen, const void *to, size_t tlen);
int rpc_remove(struct rpc_client *, struct rpc_call *, const void *path,
    size_t len, uint32_t flags);
int rpc_chmod(struct rpc_client *, struct rpc_call *, const void *path,
    size_t len, uint32_t mode);
int rpc_chown(struct rpc_client *, struct rpc_call *, const void *path,
    size_t len, uint32_t uid, uint32_t gid, uint32_t flags);
int rpc_symlink(struct rpc_client *, struct rpc_call *, const void *target,
    size_t tlen, const void *path, size_t len);
int rpc_readlink(struct rpc_client *, struct rpc_call *, const void *path,
    size_t len);
int rpc_utime(struct rpc_client *, struct rpc_call *, const void *path,
    size_t len, uint32_t flags, int64_t atime, uint32_t atime_ns,
    int64_t mtime, uint32_t mtime_ns);
int rpc_sum(struct rpc_client *, struct rpc_call *, const void *path,
    size_t len);
/* The SHA-256 of at most length bytes of path, or with RPC_SUM_PART of
 * its part file (RPC_SUM_PREFIX is added to flags). */
int rpc_sum_prefix(struct rpc_client *, struct rpc_call *, const void *path,
    size_t len, uint32_t flags, uint64_t length);
/* WRITE's optional fields, sent as flags say: offset with
 * RPC_WRITE_RESUME, mtime with RPC_WRITE_MTIME (x NULL: zeros). */
struct rpc_write_extra {
	uint64_t offset;
	int64_t mtime;
	uint32_t mtime_ns;
};
int rpc_write_ex(struct rpc_client *, struct rpc_call *, const void *path,
    size_t len, uint32_t flags, uint32_t mode,
    const struct rpc_write_extra *x);
int rpc_statvfs(struct rpc_client *, struct rpc_call *, const void *path,
    size_t len);

struct rpc_exec_req {
	uint32_t flags;			/* RPC_EXEC_* */
	uint32_t timeout_ms;		/* 0: none */
	const char *cwd;		/* NULL: the agent's */
	char *const *argv;		/* argv[0] is searched in PATH */
	const uint8_t *env_ops;		/* RPC_ENV_SET/UNSET per env_strs */
	char *const *env_strs;
	size_t nenv;
};

int rpc_exec(struct rpc_client *, struct rpc_call *,
    const struct rpc_exec_req *);
/* Signal a running exec call; RPC signal number. */
int rpc_signal(struct rpc_client *, struct rpc_call *, uint32_t target,
    uint32_t sig, uint32_t flags);
int rpc_cancel(struct rpc_client *, struct rpc_call *, uint32_t target);
/* The same, answered to nobody. */
int rpc_signal_detached(struct rpc_client *, uint32_t target, uint32_t sig,
    uint32_t flags);
int rpc_cancel_detached(struct rpc_client *, uint32_t target);

/* A terminal for an exec call: its size in characters and its type. */
struct rpc_pty {
	uint32_t rows, cols;		/* 0: unknown; at most 65535 */
	const char *term;		/* TERM; NULL or "": left as it is */
};

/* EXEC on a terminal: x's flags and RPC_EXEC_PTY, with pty's fields.
 * Output and echo come on RPC_CHAN_OUT only. */
int rpc_exec_pty(struct rpc_client *, struct rpc_call *,
    const struct rpc_exec_req *x, const struct rpc_pty *pty);
/* Resize the terminal of the exec call target. */
int rpc_winsize(struct rpc_client *, struct rpc_call *, uint32_t target,
    uint32_t rows, uint32_t cols);
int rpc_winsize_detached(struct rpc_client *, uint32_t target,
    uint32_t rows, uint32_t cols);

#endif
