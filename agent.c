/*
 * agent.c - the remowt agent: serves the RPC of rpc.h on stdin/stdout.
 */
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>		/* rename() only: no stdio stream, no printf */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "rpc.h"

#ifndef AGENT_BUILD
#define AGENT_BUILD "dev"
#endif

#define FRAME_SPACE	(RPC_MAX_FRAME + 4)
#define IBUF_SIZE	(2 * FRAME_SPACE)
#define OBUF_SIZE	(3 * FRAME_SPACE)
/* Output room needed before a request is taken: one full frame. */
#define OUT_RESERVE	(FRAME_SPACE + 512)
/*
 * Fixed pools: the agent never allocates.  MAX_TASKS requests with state
 * (each with room for a getdents buffer, a hash or a path: about 4 KiB)
 * and MAX_PROCS processes (each with its STDIN_WINDOW buffer).  A request
 * that finds its pool empty gets EAGAIN, as PROTOCOL.md says.
 */
#define MAX_TASKS	64
#define MAX_PROCS	32
#define MAX_ARGS	4096
#define MAX_DEPTH	256
#define STDIN_WINDOW	16384u
#define WRITE_WINDOW	(256u * 1024)
_Static_assert(WRITE_WINDOW >= RPC_WRITE_EARLY, "a WRITE's early data fits");
#define SCRATCH_SIZE	(RPC_MAX_FRAME + 64)
#define DIRENT_MAX	(4 + 255 + 4 + RPC_STAT_LEN + 4 + RPC_MAX_PATH)
#define DEFAULT_PATH	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

extern char **environ;

/* SHA-256 (FIPS 180-4), small rather than fast. */

struct sha256 {
	uint32_t h[8];
	uint64_t len;
	uint8_t blk[64];
	size_t n;
};

static const uint32_t sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR32(x, n)	(((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(uint32_t h[8], const uint8_t *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, hh, t1, t2;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = load_be32(p + 4 * i);
	for (; i < 64; i++) {
		t1 = ROR32(w[i - 2], 17) ^ ROR32(w[i - 2], 19) ^ (w[i - 2] >> 10);
		t2 = ROR32(w[i - 15], 7) ^ ROR32(w[i - 15], 18) ^ (w[i - 15] >> 3);
		w[i] = t1 + w[i - 7] + t2 + w[i - 16];
	}
	a = h[0], b = h[1], c = h[2], d = h[3];
	e = h[4], f = h[5], g = h[6], hh = h[7];
	for (i = 0; i < 64; i++) {
		t1 = hh + (ROR32(e, 6) ^ ROR32(e, 11) ^ ROR32(e, 25)) +
		    ((e & f) ^ (~e & g)) + sha256_k[i] + w[i];
		t2 = (ROR32(a, 2) ^ ROR32(a, 13) ^ ROR32(a, 22)) +
		    ((a & b) ^ (a & c) ^ (b & c));
		hh = g, g = f, f = e, e = d + t1;
		d = c, c = b, b = a, a = t1 + t2;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d;
	h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
}

static void sha256_init(struct sha256 *c)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	memcpy(c->h, iv, sizeof iv);
	c->len = 0;
	c->n = 0;
}

static void sha256_update(struct sha256 *c, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t k;

	c->len += len;
	if (c->n > 0) {
		k = 64 - c->n < len ? 64 - c->n : len;
		memcpy(c->blk + c->n, p, k);
		c->n += k;
		p += k;
		len -= k;
		if (c->n < 64)
			return;
		sha256_block(c->h, c->blk);
		c->n = 0;
	}
	for (; len >= 64; p += 64, len -= 64)
		sha256_block(c->h, p);
	memcpy(c->blk, p, len);
	c->n = len;
}

static void sha256_final(struct sha256 *c, uint8_t out[32])
{
	uint64_t bits = c->len << 3;
	int i;

	c->blk[c->n++] = 0x80;
	if (c->n > 56) {
		memset(c->blk + c->n, 0, 64 - c->n);
		sha256_block(c->h, c->blk);
		c->n = 0;
	}
	memset(c->blk + c->n, 0, 56 - c->n);
	store_be64(c->blk + 56, bits);
	sha256_block(c->h, c->blk);
	for (i = 0; i < 8; i++)
		store_be32(out + 4 * i, c->h[i]);
}

/* Decoded requests.  Byte strings point into the frame. */

struct bytes {
	const uint8_t *p;
	size_t n;
};

struct req {
	uint8_t type;
	uint32_t id;
	struct bytes path, path2;
	uint32_t flags, mode, uid, gid, window, target, sig;
	uint32_t vmin, vmax, timeout_ms;
	uint64_t offset, length;
	int64_t atime, mtime;
	uint32_t atime_ns, mtime_ns;
	uint32_t argc, nenv;
	struct buf args;	/* EXEC: argv strings, then the env ops */
	uint32_t rows, cols;	/* EXEC with PTY, WINSIZE */
	struct bytes term;	/* EXEC with PTY */
	uint8_t chan;		/* stream frames */
	struct bytes data;
	uint32_t increment;
};

static int get_bytes(struct buf *b, struct bytes *s)
{
	return buf_get_string(b, &s->p, &s->n);
}

static int decode_winsize(struct buf *b, struct req *r)
{
	if (buf_get_u32(b, &r->rows) != 0 || buf_get_u32(b, &r->cols) != 0)
		return -1;
	return r->rows > RPC_WINSIZE_MAX || r->cols > RPC_WINSIZE_MAX ? -1 : 0;
}

static int decode_exec(struct buf *b, struct req *r)
{
	struct bytes s;
	uint32_t i;
	uint8_t op;

	if (buf_get_u32(b, &r->flags) != 0 ||
	    buf_get_u32(b, &r->timeout_ms) != 0 ||
	    buf_get_u32(b, &r->window) != 0 ||
	    get_bytes(b, &r->path) != 0 ||
	    buf_get_u32(b, &r->argc) != 0)
		return -1;
	if (r->argc == 0 || r->argc > MAX_ARGS)
		return -1;
	buf_view(&r->args, buf_ptr(b), buf_avail(b));
	for (i = 0; i < r->argc; i++)
		if (get_bytes(b, &s) != 0 || memchr(s.p, 0, s.n) != NULL)
			return -1;
	if (buf_get_u32(b, &r->nenv) != 0 || r->nenv > MAX_ARGS)
		return -1;
	for (i = 0; i < r->nenv; i++) {
		if (buf_get_u8(b, &op) != 0 || get_bytes(b, &s) != 0 ||
		    memchr(s.p, 0, s.n) != NULL || s.n == 0)
			return -1;
		if (op == RPC_ENV_SET && memchr(s.p, '=', s.n) == NULL)
			return -1;
		if (op == RPC_ENV_UNSET && memchr(s.p, '=', s.n) != NULL)
			return -1;
		if (op != RPC_ENV_SET && op != RPC_ENV_UNSET)
			return -1;
	}
	if (!(r->flags & RPC_EXEC_PTY))
		return 0;
	if (decode_winsize(b, r) != 0 || get_bytes(b, &r->term) != 0)
		return -1;
	return memchr(r->term.p, 0, r->term.n) != NULL ? -1 : 0;
}

/*
 * Decode one frame from the client.  Returns 0, or -1 if the payload
 * does not match its type (the request then gets an EPROTO reply).
 * Trailing bytes are ignored so that later versions may append fields.
 */
static int decode_request(const struct rpc_frame *f, struct req *r)
{
	struct buf b;
	int rc = 0;

	memset(r, 0, sizeof *r);
	r->type = f->type;
	r->id = f->id;
	buf_view(&b, f->payload, f->len);
	switch (f->type) {
	case RPC_HELLO:
		rc = buf_get_u32(&b, &r->vmin) | buf_get_u32(&b, &r->vmax) |
		    buf_get_u32(&b, &r->window) | get_bytes(&b, &r->path);
		break;
	case RPC_STAT:
	case RPC_LIST:
	case RPC_REMOVE:
	case RPC_READLINK:
	case RPC_SUM:
	case RPC_STATVFS:
		rc = buf_get_u32(&b, &r->flags) | get_bytes(&b, &r->path);
		r->length = UINT64_MAX;
		if (rc == 0 && f->type == RPC_SUM &&
		    (r->flags & RPC_SUM_PREFIX))
			rc = buf_get_u64(&b, &r->length);
		break;
	case RPC_READ:
		rc = get_bytes(&b, &r->path) | buf_get_u64(&b, &r->offset) |
		    buf_get_u64(&b, &r->length) | buf_get_u32(&b, &r->window);
		break;
	case RPC_WRITE:
	case RPC_MKDIR:
	case RPC_CHMOD:
		rc = get_bytes(&b, &r->path) | buf_get_u32(&b, &r->flags) |
		    buf_get_u32(&b, &r->mode);
		if (rc == 0 && f->type == RPC_WRITE &&
		    (r->flags & RPC_WRITE_RESUME))
			rc = buf_get_u64(&b, &r->offset);
		if (rc == 0 && f->type == RPC_WRITE &&
		    (r->flags & RPC_WRITE_MTIME))
			rc = buf_get_u64(&b, (uint64_t *)&r->mtime) |
			    buf_get_u32(&b, &r->mtime_ns);
		break;
	case RPC_RENAME:
	case RPC_SYMLINK:
		rc = get_bytes(&b, &r->path) | get_bytes(&b, &r->path2) |
		    buf_get_u32(&b, &r->flags);
		break;
	case RPC_CHOWN:
		rc = get_bytes(&b, &r->path) | buf_get_u32(&b, &r->flags) |
		    buf_get_u32(&b, &r->uid) | buf_get_u32(&b, &r->gid);
		break;
	case RPC_UTIME:
		rc = get_bytes(&b, &r->path) | buf_get_u32(&b, &r->flags) |
		    buf_get_u64(&b, (uint64_t *)&r->atime) |
		    buf_get_u32(&b, &r->atime_ns) |
		    buf_get_u64(&b, (uint64_t *)&r->mtime) |
		    buf_get_u32(&b, &r->mtime_ns);
		break;
	case RPC_EXEC:
		rc = decode_exec(&b, r);
		break;
	case RPC_SIGNAL:
		rc = buf_get_u32(&b, &r->target) | buf_get_u32(&b, &r->sig) |
		    buf_get_u32(&b, &r->flags);
		break;
	case RPC_CANCEL:
		rc = buf_get_u32(&b, &r->target);
		break;
	case RPC_WINSIZE:
		rc = buf_get_u32(&b, &r->target) | decode_winsize(&b, r);
		break;
	case RPC_S_DATA:
		rc = buf_get_u8(&b, &r->chan);
		r->data.p = buf_ptr(&b);
		r->data.n = buf_avail(&b);
		break;
	case RPC_S_EOF:
		rc = buf_get_u8(&b, &r->chan);
		break;
	case RPC_S_WINDOW:
		rc = buf_get_u8(&b, &r->chan) | buf_get_u32(&b, &r->increment);
		break;
	default:
		break;
	}
	return rc != 0 ? -1 : 0;
}

/* Tasks: requests that outlive one step of the loop. */

enum task_kind { T_FREE, T_READ, T_WRITE, T_LIST, T_SUM, T_EXEC };

struct dirrd {
	size_t pos, len;
	uint8_t buf[4096];
};

struct proc {
	int used;			/* taken by an EXEC task */
	pid_t pid;
	int in_fd;
	int out_fd[RPC_NCHAN];		/* [RPC_CHAN_OUT], [RPC_CHAN_ERR] */
	int tty_fd;			/* PTY: the master, for WINSIZE */
	uint32_t credit[RPC_NCHAN];
	size_t in_len;
	uint32_t in_owed;		/* stdin credit not yet returned */
	int in_eof;
	int reaped;
	int status;
	int timed_out;
	int64_t deadline;		/* monotonic ms, 0: none */
	/* Last, so that proc_new() need not clear it. */
	uint8_t in_buf[STDIN_WINDOW];	/* stdin bytes the pipe did not take */
};

struct task {
	enum task_kind kind;
	uint32_t id;
	int fd;
	uint32_t flags;
	uint64_t credit;		/* READ: bytes the client will take */
	uint64_t left;			/* READ: bytes still wanted */
	uint64_t done;			/* bytes moved so far */
	uint32_t owed;			/* WRITE: credit not yet returned */
	unsigned tmp_serial;		/* WRITE: temporary number, 0: none,
					 * TMP_PART: the part file */
	int64_t mtime;			/* WRITE with MTIME */
	uint32_t mtime_ns;
	struct proc *proc;		/* EXEC */
	/* Last, so that task_new() need not clear it: each kind sets it up. */
	union {
		struct sha256 sha;		/* SUM */
		struct dirrd dir;		/* LIST */
		char path[RPC_MAX_PATH + 1];	/* WRITE: the final name */
	} u;
};

static struct task tasks[MAX_TASKS];
static struct proc procs[MAX_PROCS];
static struct buf ob;
static uint8_t obuf_mem[OBUF_SIZE];
static uint8_t ibuf_mem[IBUF_SIZE];
static size_t ibuf_len;
static uint8_t scratch[SCRATCH_SIZE];
static char *xptr[2 * MAX_ARGS + 8];
static char pathbuf[RPC_MAX_PATH + 1], pathbuf2[RPC_MAX_PATH + 1];
static char linkbuf[RPC_MAX_PATH + 1];
static char tmpbuf[RPC_MAX_PATH + 1];
static int hello_done;
static int sig_pipe[2] = { -1, -1 };
static volatile sig_atomic_t stop_signal;
static sigset_t orig_mask;
static mode_t orig_umask;

static void fatal(const char *msg) __attribute__((noreturn));
static void cleanup(void);

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		if (w == 0) {
			errno = ENOSPC;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Text without stdio, which would bring in printf and, through it,
 * floating point.  Every helper is told the size of what it fills.
 */

/* Append s[0..n) to out[0..*len) if it fits with a NUL after it. */
static int str_append(char *out, size_t size, size_t *len, const char *s,
    size_t n)
{
	if (n >= size - *len)
		return -1;
	memcpy(out + *len, s, n);
	*len += n;
	out[*len] = '\0';
	return 0;
}

/* v in base 10 or 16, NUL-terminated: its length, 0 if out is short. */
static size_t fmt_u32(char *out, size_t size, uint32_t v, uint32_t base)
{
	static const char digits[] = "0123456789abcdef";
	char rev[10];			/* 4294967295 */
	size_t n = 0, i;

	do {
		rev[n++] = digits[v % base];
		v /= base;
	} while (v > 0);
	if (n >= size)
		return 0;
	for (i = 0; i < n; i++)
		out[i] = rev[n - 1 - i];
	out[n] = '\0';
	return n;
}

/* n bytes as 2n lowercase hex digits and a NUL: out holds 2n + 1. */
static void fmt_hex_bytes(char *out, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

/* The NULL-ended parts and a newline in one write(2), cut to fit. */
static void write_line(int fd, const char *const *parts)
{
	char line[256];
	size_t len = 0, n, room;

	for (; *parts != NULL; parts++) {
		n = strlen(*parts);
		room = sizeof line - 1 - len;
		memcpy(line + len, *parts, n < room ? n : room);
		len += n < room ? n : room;
	}
	line[len++] = '\n';
	(void)write_all(fd, (const uint8_t *)line, len);
}

/* Output: everything goes through ob, flushed to stdout by the loop. */

static size_t out_room(void)
{
	if (ob.pos > 0 && buf_room(&ob) < OUT_RESERVE)
		buf_compact(&ob);
	return buf_room(&ob);
}

static void flush_out(void)
{
	ssize_t n;

	while (buf_avail(&ob) > 0) {
		n = write(STDOUT_FILENO, buf_ptr(&ob), buf_avail(&ob));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0)
			fatal("stdout closed");
		ob.pos += (size_t)n;
	}
	buf_reset(&ob);
}

static void emit_begin(uint8_t type, uint32_t id, size_t *start)
{
	/* The loop keeps OUT_RESERVE free before any request is handled. */
	if (rpc_frame_begin(&ob, type, id, start) != 0)
		fatal("output buffer overrun");
}

static void emit_end(size_t start)
{
	if (rpc_frame_end(&ob, start) != 0)
		fatal("frame too large");
}

static void reply_empty(uint8_t type, uint32_t id)
{
	size_t st;

	emit_begin(type, id, &st);
	emit_end(st);
}

static void reply_ok(uint32_t id)
{
	reply_empty(RPC_R_OK, id);
}

static void reply_u64(uint8_t type, uint32_t id, uint64_t v)
{
	size_t st;

	emit_begin(type, id, &st);
	buf_put_u64(&ob, v);
	emit_end(st);
}

/* An error reply: the portable code and "what path" as the message. */
static void reply_err(uint32_t id, int err, const char *what, const char *path)
{
	size_t st, n = strlen(what), m = path != NULL ? strlen(path) : 0;
	uint8_t *p;

	emit_begin(RPC_R_ERROR, id, &st);
	buf_put_u32(&ob, rpc_err_from_errno(err));
	if (m > RPC_MAX_PATH)
		m = RPC_MAX_PATH;
	buf_put_u32(&ob, (uint32_t)(n + (m > 0 ? 1 + m : 0)));
	buf_reserve(&ob, n + (m > 0 ? 1 + m : 0), &p);
	memcpy(p, what, n);
	if (m > 0) {
		p[n] = ' ';
		memcpy(p + n + 1, path, m);
	}
	emit_end(st);
}

static void emit_window(uint32_t id, uint8_t chan, uint32_t n)
{
	size_t st;

	emit_begin(RPC_S_WINDOW, id, &st);
	buf_put_u8(&ob, chan);
	buf_put_u32(&ob, n);
	emit_end(st);
}

static void emit_eof(uint32_t id, uint8_t chan)
{
	size_t st;

	emit_begin(RPC_S_EOF, id, &st);
	buf_put_u8(&ob, chan);
	emit_end(st);
}

/*
 * Read up to max bytes from fd straight into a DATA frame.  Returns what
 * read(2) returned; on 0 or -1 no frame is left behind.
 */
static ssize_t emit_data_from(int fd, uint32_t id, uint8_t chan, size_t max)
{
	size_t st;
	ssize_t n;

	if (max > RPC_MAX_DATA)
		max = RPC_MAX_DATA;
	emit_begin(RPC_S_DATA, id, &st);
	buf_put_u8(&ob, chan);
	do
		n = read(fd, ob.data + ob.len, max);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		ob.len = st;
		return n;
	}
	ob.len += (size_t)n;
	emit_end(st);
	return n;
}

static void fatal(const char *msg)
{
	size_t st;

	/* A last word to the client, if there is room for it. */
	if (buf_room(&ob) >= 64 + strlen(msg) &&
	    rpc_frame_begin(&ob, RPC_R_ERROR, RPC_SESSION_ID, &st) == 0) {
		buf_put_u32(&ob, rpc_err_from_errno(EPROTO));
		buf_put_cstring(&ob, msg);
		rpc_frame_end(&ob, st);
		if (write(STDOUT_FILENO, buf_ptr(&ob), buf_avail(&ob)) < 0)
			(void)0;
	}
	write_line(STDERR_FILENO, (const char *const[]){ "remowt-agent: ",
	    msg, NULL });
	/* Most often the session is gone (stdout closed): its children and
	 * temporary files must not outlive it. */
	cleanup();
	_exit(2);
}

/* Paths arrive as byte strings; the kernel wants them NUL-terminated. */
static int path_arg(const struct bytes *s, char *out)
{
	if (s->n == 0)
		return ENOENT;
	if (s->n > RPC_MAX_PATH)
		return ENAMETOOLONG;
	if (memchr(s->p, 0, s->n) != NULL)
		return EINVAL;
	memcpy(out, s->p, s->n);
	out[s->n] = '\0';
	return 0;
}

static struct task *task_find(uint32_t id)
{
	int i;

	for (i = 0; i < MAX_TASKS; i++)
		if (tasks[i].kind != T_FREE && tasks[i].id == id)
			return &tasks[i];
	return NULL;
}

static struct task *task_new(enum task_kind kind, uint32_t id)
{
	struct task *t;
	int i;

	for (i = 0; i < MAX_TASKS; i++) {
		t = &tasks[i];
		if (t->kind == T_FREE) {
			memset(t, 0, offsetof(struct task, u));
			t->kind = kind;
			t->id = id;
			t->fd = -1;
			return t;
		}
	}
	return NULL;
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static struct proc *proc_new(void)
{
	struct proc *p;
	int i, c;

	for (i = 0; i < MAX_PROCS; i++) {
		p = &procs[i];
		if (!p->used) {
			memset(p, 0, offsetof(struct proc, in_buf));
			p->used = 1;
			p->in_fd = -1;
			p->tty_fd = -1;
			for (c = 0; c < RPC_NCHAN; c++)
				p->out_fd[c] = -1;
			return p;
		}
	}
	return NULL;
}

static void proc_free(struct proc *p)
{
	int i;

	close_fd(&p->in_fd);
	for (i = 0; i < RPC_NCHAN; i++)
		close_fd(&p->out_fd[i]);
	close_fd(&p->tty_fd);
	p->used = 0;
}

/* The serial number of a WRITE's temporary that is its part file. */
#define TMP_PART	UINT_MAX

/* Set while the session ends: part files are kept for a later WRITE. */
static int leaving;

/*
 * A WRITE's temporary, ".BASE.rwPID-N" beside the target, or with
 * RESUME its part file ".BASE.rwpart" (BASE cut to 200 bytes, short
 * enough for NAME_MAX).  Only its number is kept: the name is made
 * again from the target whenever it is needed.
 */
static int make_tmp_name(const char *path, unsigned serial, char *out,
    size_t size)
{
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash != NULL ? (size_t)(slash - path + 1) : 0;
	size_t blen = strlen(path + dirlen), len = 0;
	char pid[12], num[12];
	int rc;

	if (blen > 200)
		blen = 200;
	rc = str_append(out, size, &len, path, dirlen) |
	    str_append(out, size, &len, ".", 1) |
	    str_append(out, size, &len, path + dirlen, blen);
	if (serial == TMP_PART)
		rc |= str_append(out, size, &len, ".rwpart", 7);
	else
		rc |= str_append(out, size, &len, ".rw", 3) |
		    str_append(out, size, &len, pid,
		    fmt_u32(pid, sizeof pid, (uint32_t)getpid(), 16)) |
		    str_append(out, size, &len, "-", 1) |
		    str_append(out, size, &len, num,
		    fmt_u32(num, sizeof num, serial, 10));
	if (rc != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* The task's temporary in tmpbuf, or NULL if the name does not fit. */
static const char *tmp_name_of(const struct task *t)
{
	if (make_tmp_name(t->u.path, t->tmp_serial, tmpbuf,
	    sizeof tmpbuf) != 0)
		return NULL;
	return tmpbuf;
}

/* Follow symbolic links so that writing one replaces its target. */
static int resolve_links(char *path, size_t size)
{
	char *slash;
	ssize_t n;
	size_t dl;
	int hops;

	for (hops = 0; hops < 40; hops++) {
		n = readlink(path, linkbuf, RPC_MAX_PATH);
		if (n < 0)
			return errno == EINVAL || errno == ENOENT ? 0 : -1;
		linkbuf[n] = '\0';
		slash = strrchr(path, '/');
		if (linkbuf[0] == '/' || slash == NULL) {
			dl = 0;
		} else {
			dl = (size_t)(slash - path) + 1;
		}
		if (dl + (size_t)n >= size) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memmove(path + dl, linkbuf, (size_t)n + 1);
	}
	errno = ELOOP;
	return -1;
}

static void task_free(struct task *t)
{
	const char *tmp;

	close_fd(&t->fd);
	if (t->tmp_serial != 0 && !(t->tmp_serial == TMP_PART && leaving) &&
	    (tmp = tmp_name_of(t)) != NULL)
		unlink(tmp);
	if (t->proc != NULL)
		proc_free(t->proc);
	memset(t, 0, offsetof(struct task, u));
	t->kind = T_FREE;
	t->fd = -1;
}

static void task_fail(struct task *t, int err, const char *what,
    const char *path)
{
	reply_err(t->id, err, what, path);
	task_free(t);
}

/* Stat records. */

static void stat_to_rpc(const struct stat *s, struct rpc_stat *r)
{
	r->type = rpc_type_of(s->st_mode);
	r->mode = s->st_mode & 07777;
	r->nlink = (uint32_t)s->st_nlink;
	r->uid = s->st_uid;
	r->gid = s->st_gid;
	r->size = (uint64_t)s->st_size;
	r->blocks = (uint64_t)s->st_blocks;
	r->ino = (uint64_t)s->st_ino;
	r->dev = (uint64_t)s->st_dev;
	r->rdev = (uint64_t)s->st_rdev;
	r->atime = s->st_atim.tv_sec;
	r->atime_ns = (uint32_t)s->st_atim.tv_nsec;
	r->mtime = s->st_mtim.tv_sec;
	r->mtime_ns = (uint32_t)s->st_mtim.tv_nsec;
	r->ctime = s->st_ctim.tv_sec;
	r->ctime_ns = (uint32_t)s->st_ctim.tv_nsec;
}

/* Simple requests, answered at once. */

static void do_hello(const struct req *r)
{
	struct utsname u;
	struct sha256 c;
	uint8_t md[32];
	char hex[65];
	ssize_t n;
	size_t st;
	int fd;

	if (r->vmin > RPC_VERSION || r->vmax < RPC_VERSION) {
		reply_err(r->id, EPROTO, "protocol version 1 only", NULL);
		return;
	}
	hex[0] = '\0';
	fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		sha256_init(&c);
		while ((n = read(fd, scratch, sizeof scratch)) > 0)
			sha256_update(&c, scratch, (size_t)n);
		close(fd);
		if (n == 0) {
			sha256_final(&c, md);
			fmt_hex_bytes(hex, md, sizeof md);
		}
	}
	if (uname(&u) != 0)
		memset(&u, 0, sizeof u);
	emit_begin(RPC_R_HELLO, r->id, &st);
	buf_put_u32(&ob, RPC_VERSION);
	buf_put_u32(&ob, RPC_MAX_FRAME);
	buf_put_cstring(&ob, AGENT_BUILD);
	buf_put_cstring(&ob, hex);
	buf_put_cstring(&ob, u.sysname);
	buf_put_cstring(&ob, u.release);
	buf_put_cstring(&ob, u.machine);
	buf_put_u32(&ob, (uint32_t)getpid());
	emit_end(st);
	hello_done = 1;
}

static void do_stat(const struct req *r)
{
	struct rpc_stat rs;
	struct stat s;
	size_t st;
	int rc;

	if (r->flags & RPC_STAT_NOFOLLOW)
		rc = lstat(pathbuf, &s);
	else
		rc = stat(pathbuf, &s);
	if (rc != 0) {
		reply_err(r->id, errno, "stat", NULL);
		return;
	}
	stat_to_rpc(&s, &rs);
	emit_begin(RPC_R_STAT, r->id, &st);
	rpc_put_stat(&ob, &rs);
	emit_end(st);
}

static void do_statvfs(const struct req *r)
{
	struct statvfs v;
	size_t st;

	if (statvfs(pathbuf, &v) != 0) {
		reply_err(r->id, errno, "statvfs", NULL);
		return;
	}
	emit_begin(RPC_R_STATVFS, r->id, &st);
	buf_put_u64(&ob, v.f_bsize);
	buf_put_u64(&ob, v.f_frsize);
	buf_put_u64(&ob, v.f_blocks);
	buf_put_u64(&ob, v.f_bfree);
	buf_put_u64(&ob, v.f_bavail);
	buf_put_u64(&ob, v.f_files);
	buf_put_u64(&ob, v.f_ffree);
	buf_put_u64(&ob, v.f_favail);
	buf_put_u64(&ob, v.f_namemax);
	buf_put_u32(&ob, ((v.f_flag & ST_RDONLY) ? 1 : 0) |
	    ((v.f_flag & ST_NOSUID) ? 2 : 0));
	emit_end(st);
}

static void do_readlink(const struct req *r)
{
	ssize_t n;
	size_t st;

	n = readlink(pathbuf, linkbuf, RPC_MAX_PATH);
	if (n < 0) {
		reply_err(r->id, errno, "readlink", NULL);
		return;
	}
	emit_begin(RPC_R_LINK, r->id, &st);
	buf_put_string(&ob, linkbuf, (size_t)n);
	emit_end(st);
}

static int is_dir(const char *path)
{
	struct stat s;

	return stat(path, &s) == 0 && S_ISDIR(s.st_mode);
}

/* Make a directory that may exist already, as mkdir -p does. */
static int mkdir_existing_ok(const char *path, mode_t mode, int last)
{
	if (mkdir(path, mode) == 0)
		return 0;
	if (errno != EEXIST)
		return -1;
	if (is_dir(path))
		return 0;
	/* Something else is in the way: a parent cannot be a file. */
	errno = last ? EEXIST : ENOTDIR;
	return -1;
}

/* mkdir -p: every missing parent, then the directory itself. */
static int mkdir_parents(char *path, mode_t mode)
{
	char *p;
	int rc;

	for (p = path + 1; *p != '\0'; p++) {
		if (*p != '/' || p[-1] == '/')
			continue;
		*p = '\0';
		rc = mkdir_existing_ok(path, 0777, 0);
		*p = '/';
		if (rc != 0)
			return -1;
	}
	return mkdir_existing_ok(path, mode, 1);
}

static void do_mkdir(const struct req *r)
{
	mode_t mode = r->mode & 07777;
	int rc;

	if (r->flags & RPC_MKDIR_PARENTS)
		rc = mkdir_parents(pathbuf, mode);
	else
		rc = mkdir(pathbuf, mode);
	if (rc == 0 && (r->flags & RPC_MKDIR_EXACT))
		rc = chmod(pathbuf, mode);
	if (rc != 0)
		reply_err(r->id, errno, "mkdir", NULL);
	else
		reply_ok(r->id);
}

/*
 * Recursive removal that never follows a symbolic link: directories are
 * opened with O_NOFOLLOW relative to their parent.  Each level holds
 * only a descriptor; after removing a subdirectory the scan restarts,
 * so one shared getdents buffer serves every level.
 */
static char rm_path[RPC_MAX_PATH + 1];
static uint8_t rm_dents[4096];

struct dent64 {
	uint64_t ino;
	int64_t off;
	uint16_t reclen;
	uint8_t type;
	char name[];
};

static long getdents_fd(int fd, void *buf, size_t n)
{
	return syscall(SYS_getdents64, fd, buf, n);
}

static int is_dot(const char *name)
{
	return name[0] == '.' &&
	    (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

static int rm_at(int dfd, const char *name, int depth);

static int rm_push(const char *name, size_t *save)
{
	size_t len = strlen(rm_path), n = strlen(name);

	*save = len;
	if (len + 1 + n > RPC_MAX_PATH) {
		errno = ENAMETOOLONG;
		return -1;
	}
	rm_path[len] = '/';
	memcpy(rm_path + len + 1, name, n + 1);
	return 0;
}

static int rm_contents(int fd, int depth)
{
	char sub[256];
	struct dent64 *d;
	struct stat s;
	long n = 0, i;
	int found, isdir, e;
	size_t save, len;

	for (;;) {
		if (lseek(fd, 0, SEEK_SET) < 0)
			return -1;
		found = 0;
		while (!found && (n = getdents_fd(fd, rm_dents,
		    sizeof rm_dents)) > 0) {
			for (i = 0; i < n && !found; i += d->reclen) {
				d = (struct dent64 *)(void *)(rm_dents + i);
				if (is_dot(d->name))
					continue;
				isdir = d->type == DT_DIR;
				if (d->type == DT_UNKNOWN) {
					if (fstatat(fd, d->name, &s,
					    AT_SYMLINK_NOFOLLOW) != 0)
						return -1;
					isdir = S_ISDIR(s.st_mode);
				}
				if (isdir) {
					len = strlen(d->name);
					if (len >= sizeof sub) {
						errno = ENAMETOOLONG;
						return -1;
					}
					memcpy(sub, d->name, len + 1);
					found = 1;
				} else if (unlinkat(fd, d->name, 0) != 0) {
					e = errno;
					rm_push(d->name, &save);
					errno = e;
					return -1;
				}
			}
		}
		if (!found)
			return n < 0 ? -1 : 0;
		if (rm_at(fd, sub, depth + 1) != 0)
			return -1;
	}
}

static int rm_at(int dfd, const char *name, int depth)
{
	struct stat s;
	size_t save;
	int fd, rc, e;

	if (rm_push(name, &save) != 0)
		return -1;
	if (fstatat(dfd, name, &s, AT_SYMLINK_NOFOLLOW) != 0)
		return -1;
	if (!S_ISDIR(s.st_mode)) {
		if (unlinkat(dfd, name, 0) != 0)
			return -1;
		rm_path[save] = '\0';
		return 0;
	}
	if (depth >= MAX_DEPTH) {
		errno = ELOOP;
		return -1;
	}
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = rm_contents(fd, depth);
	e = errno;
	close(fd);
	if (rc != 0) {
		errno = e;
		return -1;
	}
	if (unlinkat(dfd, name, AT_REMOVEDIR) != 0)
		return -1;
	rm_path[save] = '\0';
	return 0;
}

static void do_remove(const struct req *r)
{
	struct stat s;
	int rc;

	if (lstat(pathbuf, &s) != 0) {
		reply_err(r->id, errno, "remove", NULL);
		return;
	}
	if (!S_ISDIR(s.st_mode)) {
		rc = unlink(pathbuf);
	} else if (r->flags & RPC_REMOVE_RECURSIVE) {
		rm_path[0] = '\0';
		if (rm_at(AT_FDCWD, pathbuf, 0) != 0) {
			/* rm_path starts with the "/" rm_push() put there. */
			reply_err(r->id, errno, "remove",
			    strlen(rm_path) > 1 + strlen(pathbuf) ?
			    rm_path + 1 : NULL);
			return;
		}
		rc = 0;
	} else if (r->flags & RPC_REMOVE_DIR) {
		rc = rmdir(pathbuf);
	} else {
		rc = -1;
		errno = EISDIR;
	}
	if (rc != 0)
		reply_err(r->id, errno, "remove", NULL);
	else
		reply_ok(r->id);
}

static void do_rename(const struct req *r)
{
	if (rename(pathbuf, pathbuf2) != 0)
		reply_err(r->id, errno, "rename", NULL);
	else
		reply_ok(r->id);
}

static void do_symlink(const struct req *r)
{
	/* path is the link's target, path2 the link to create. */
	if (symlink(pathbuf, pathbuf2) != 0)
		reply_err(r->id, errno, "symlink", NULL);
	else
		reply_ok(r->id);
}

static void do_chmod(const struct req *r)
{
	if (chmod(pathbuf, r->mode & 07777) != 0)
		reply_err(r->id, errno, "chmod", NULL);
	else
		reply_ok(r->id);
}

static void do_chown(const struct req *r)
{
	uid_t uid = r->uid == RPC_ID_NONE ? (uid_t)-1 : (uid_t)r->uid;
	gid_t gid = r->gid == RPC_ID_NONE ? (gid_t)-1 : (gid_t)r->gid;
	int rc;

	if (r->flags & RPC_CHOWN_NOFOLLOW)
		rc = lchown(pathbuf, uid, gid);
	else
		rc = chown(pathbuf, uid, gid);
	if (rc != 0)
		reply_err(r->id, errno, "chown", NULL);
	else
		reply_ok(r->id);
}

static void rpc_to_timespec(int64_t sec, uint32_t ns, struct timespec *ts)
{
	ts->tv_sec = (time_t)sec;
	if (ns == RPC_UTIME_NOW)
		ts->tv_nsec = UTIME_NOW;
	else if (ns == RPC_UTIME_OMIT)
		ts->tv_nsec = UTIME_OMIT;
	else
		ts->tv_nsec = ns < 1000000000u ? (long)ns : 0;
}

static void do_utime(const struct req *r)
{
	struct timespec ts[2];

	rpc_to_timespec(r->atime, r->atime_ns, &ts[0]);
	rpc_to_timespec(r->mtime, r->mtime_ns, &ts[1]);
	if (utimensat(AT_FDCWD, pathbuf, ts,
	    (r->flags & RPC_UTIME_NOFOLLOW) ? AT_SYMLINK_NOFOLLOW : 0) != 0)
		reply_err(r->id, errno, "utime", NULL);
	else
		reply_ok(r->id);
}

/* Streams out of files: READ, and SUM which streams into a hash. */

static void start_read(const struct req *r)
{
	struct task *t;
	struct stat s;
	size_t st;

	if ((t = task_new(T_READ, r->id)) == NULL) {
		reply_err(r->id, EAGAIN, "too many requests", NULL);
		return;
	}
	t->fd = open(pathbuf, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0 || fstat(t->fd, &s) != 0) {
		task_fail(t, errno, "open", NULL);
		return;
	}
	if (S_ISDIR(s.st_mode)) {
		task_fail(t, EISDIR, "read", NULL);
		return;
	}
	if (r->offset > 0 && lseek(t->fd, (off_t)r->offset, SEEK_SET) < 0) {
		task_fail(t, errno, "seek", NULL);
		return;
	}
	t->credit = r->window;
	t->left = r->length;
	emit_begin(RPC_R_OPENED, r->id, &st);
	buf_put_u64(&ob, (uint64_t)s.st_size);
	buf_put_u32(&ob, 0);
	emit_end(st);
	if (t->left == 0) {
		reply_u64(RPC_R_DONE, t->id, 0);
		task_free(t);
	}
}

static void step_read(struct task *t)
{
	size_t max = RPC_MAX_DATA;
	ssize_t n;

	if (max > t->credit)
		max = (size_t)t->credit;
	if (max > t->left)
		max = (size_t)t->left;
	n = emit_data_from(t->fd, t->id, RPC_CHAN_OUT, max);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n < 0) {
		task_fail(t, errno, "read", NULL);
		return;
	}
	t->credit -= (uint64_t)n;
	t->left -= (uint64_t)n;
	t->done += (uint64_t)n;
	if (n == 0 || t->left == 0) {
		reply_u64(RPC_R_DONE, t->id, t->done);
		task_free(t);
	}
}

static void start_sum(const struct req *r)
{
	struct task *t;
	struct stat s;

	if ((t = task_new(T_SUM, r->id)) == NULL) {
		reply_err(r->id, EAGAIN, "too many requests", NULL);
		return;
	}
	if (r->flags & ~RPC_SUM_KNOWN) {
		task_fail(t, EINVAL, "sum: unknown flags", NULL);
		return;
	}
	/* The part file of WRITE's target: named as WRITE names it. */
	if (r->flags & RPC_SUM_PART) {
		if (resolve_links(pathbuf, sizeof pathbuf) != 0 ||
		    make_tmp_name(pathbuf, TMP_PART, tmpbuf,
		    sizeof tmpbuf) != 0) {
			task_fail(t, errno, "open", NULL);
			return;
		}
		/* tmpbuf and pathbuf have the same size. */
		memcpy(pathbuf, tmpbuf, strlen(tmpbuf) + 1);
	}
	t->left = r->length;
	t->fd = open(pathbuf, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC |
	    ((r->flags & RPC_SUM_PART) ? O_NOFOLLOW : 0));
	if (t->fd < 0 || fstat(t->fd, &s) != 0) {
		task_fail(t, errno, "open", NULL);
		return;
	}
	if (S_ISDIR(s.st_mode)) {
		task_fail(t, EISDIR, "read", NULL);
		return;
	}
	sha256_init(&t->u.sha);
}

static void step_sum(struct task *t)
{
	uint8_t md[32];
	ssize_t n;
	size_t st;

	n = 0;
	if (t->left > 0)
		n = read(t->fd, scratch, t->left < sizeof scratch ?
		    (size_t)t->left : sizeof scratch);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		task_fail(t, errno, "read", NULL);
		return;
	}
	if (n > 0) {
		sha256_update(&t->u.sha, scratch, (size_t)n);
		t->done += (uint64_t)n;
		t->left -= (uint64_t)n;
		return;
	}
	sha256_final(&t->u.sha, md);
	emit_begin(RPC_R_SUM, t->id, &st);
	buf_put_u64(&ob, t->done);
	buf_put_bytes(&ob, md, sizeof md);
	emit_end(st);
	task_free(t);
}

/* Directory listings, in batches of entries that fill a frame. */

static void start_list(const struct req *r)
{
	struct task *t;

	if ((t = task_new(T_LIST, r->id)) == NULL) {
		reply_err(r->id, EAGAIN, "too many requests", NULL);
		return;
	}
	t->fd = open(pathbuf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->fd < 0) {
		task_fail(t, errno, "opendir", NULL);
		return;
	}
	t->u.dir.pos = t->u.dir.len = 0;
}

/* The next entry of a directory, or NULL at its end or on error. */
static struct dent64 *dir_next(struct task *t, int *err)
{
	struct dirrd *d = &t->u.dir;
	struct dent64 *e;
	long n;

	*err = 0;
	if (d->pos >= d->len) {
		n = getdents_fd(t->fd, d->buf, sizeof d->buf);
		if (n <= 0) {
			*err = n < 0 ? errno : 0;
			return NULL;
		}
		d->len = (size_t)n;
		d->pos = 0;
	}
	e = (struct dent64 *)(void *)(d->buf + d->pos);
	d->pos += e->reclen;
	return e;
}

static void put_dirent(int dfd, const struct dent64 *e)
{
	struct rpc_stat rs;
	struct stat s;
	ssize_t n = 0;

	buf_put_cstring(&ob, e->name);
	memset(&rs, 0, sizeof rs);
	if (fstatat(dfd, e->name, &s, AT_SYMLINK_NOFOLLOW) == 0) {
		buf_put_u32(&ob, 0);
		stat_to_rpc(&s, &rs);
		if (S_ISLNK(s.st_mode)) {
			n = readlinkat(dfd, e->name, linkbuf, RPC_MAX_PATH);
			if (n < 0)
				n = 0;
		}
	} else {
		buf_put_u32(&ob, rpc_err_from_errno(errno));
	}
	rpc_put_stat(&ob, &rs);
	buf_put_string(&ob, linkbuf, (size_t)n);
}

static void step_list(struct task *t)
{
	struct dent64 *e;
	size_t st, count_at;
	uint32_t count = 0;
	int err = 0, last = 0;

	emit_begin(RPC_R_DIRENTS, t->id, &st);
	buf_put_u32(&ob, 0);
	count_at = ob.len;
	buf_put_u32(&ob, 0);
	while (ob.len - st + DIRENT_MAX <= FRAME_SPACE) {
		if ((e = dir_next(t, &err)) == NULL) {
			last = 1;
			break;
		}
		put_dirent(t->fd, e);
		count++;
	}
	if (last && err != 0) {
		ob.len = st;
		task_fail(t, err, "readdir", NULL);
		return;
	}
	store_be32(ob.data + count_at - 4, last ? RPC_DIRENTS_LAST : 0);
	store_be32(ob.data + count_at, count);
	emit_end(st);
	if (last)
		task_free(t);
}

/* Writing files: a temporary beside the target, renamed at the end. */

/* Numbers for temporaries, never 0: that means "none". */
static unsigned next_tmp_serial(void)
{
	static unsigned counter;

	if (++counter == 0 || counter == TMP_PART)
		counter = 1;
	return counter;
}

/*
 * A part file to write from offset on: made afresh for offset 0, else
 * one of ours that holds at least offset bytes (ESTALE if it does not),
 * cut to offset.  Never through a symbolic link.  Another WRITE writing
 * it (a second client sending the same file) holds its lock: EBUSY.
 */
static int open_part(const char *path, uint64_t offset)
{
	struct stat s;
	int fd;

	fd = open(path, O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC |
	    (offset == 0 ? O_CREAT : 0), 0600);
	if (fd < 0)
		return errno == ENOENT && offset > 0 ? (errno = ESTALE, -1) : -1;
	if (fstat(fd, &s) != 0)
		goto fail;
	if (!S_ISREG(s.st_mode) || s.st_uid != geteuid()) {
		errno = EEXIST;
		goto fail;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK)
			errno = EBUSY;
		goto fail;
	}
	if (offset > (uint64_t)s.st_size) {
		errno = ESTALE;
		goto fail;
	}
	if (ftruncate(fd, (off_t)offset) != 0 ||
	    lseek(fd, (off_t)offset, SEEK_SET) < 0)
		goto fail;
	return fd;
fail:
	close_fd(&fd);
	return -1;
}

static int open_write_target(struct task *t, const struct req *r)
{
	struct stat s;
	mode_t mode;
	unsigned serial;
	int exists;

	if ((r->flags & RPC_WRITE_APPEND) && (r->flags & RPC_WRITE_RESUME)) {
		errno = EINVAL;
		return -1;
	}
	if (r->flags & RPC_WRITE_APPEND) {
		mode = (r->flags & RPC_WRITE_MODE) ? r->mode & 07777 : 0666;
		t->fd = open(pathbuf, O_WRONLY | O_APPEND | O_CREAT |
		    O_NOCTTY | O_CLOEXEC, mode);
		return t->fd < 0 ? -1 : 0;
	}
	if (resolve_links(pathbuf, sizeof pathbuf) != 0)
		return -1;
	exists = stat(pathbuf, &s) == 0;
	if (exists && (r->flags & RPC_WRITE_EXCL)) {
		errno = EEXIST;
		return -1;
	}
	if (exists && S_ISDIR(s.st_mode)) {
		errno = EISDIR;
		return -1;
	}
	if (exists && !S_ISREG(s.st_mode) && r->offset > 0) {
		errno = ESPIPE;
		return -1;
	}
	if (exists && !S_ISREG(s.st_mode)) {
		/* A device or fifo is written in place. */
		t->fd = open(pathbuf, O_WRONLY | O_NOCTTY | O_CLOEXEC);
		return t->fd < 0 ? -1 : 0;
	}
	if (r->flags & RPC_WRITE_MODE)
		mode = r->mode & 07777;
	else if (exists)
		mode = s.st_mode & 07777;
	else
		mode = 0666 & ~orig_umask;
	/* pathbuf and u.path have the same size. */
	memcpy(t->u.path, pathbuf, strlen(pathbuf) + 1);
	serial = (r->flags & RPC_WRITE_RESUME) ? TMP_PART : next_tmp_serial();
	if (make_tmp_name(t->u.path, serial, tmpbuf, sizeof tmpbuf) != 0)
		return -1;
	if (serial == TMP_PART) {
		t->fd = open_part(tmpbuf, r->offset);
		/* Taken by another writer: from 0, a temporary does as well. */
		if (t->fd < 0 && errno == EBUSY && r->offset == 0) {
			serial = next_tmp_serial();
			if (make_tmp_name(t->u.path, serial, tmpbuf,
			    sizeof tmpbuf) != 0)
				return -1;
		}
	}
	if (serial != TMP_PART)
		t->fd = open(tmpbuf, O_WRONLY | O_CREAT | O_EXCL | O_NOCTTY |
		    O_CLOEXEC, 0600);
	if (t->fd < 0)
		return -1;
	t->tmp_serial = serial;
	if (exists && geteuid() == 0)
		(void)fchown(t->fd, s.st_uid, s.st_gid);
	return fchmod(t->fd, mode);
}

static void start_write(const struct req *r)
{
	struct task *t;
	size_t st;

	if ((t = task_new(T_WRITE, r->id)) == NULL) {
		reply_err(r->id, EAGAIN, "too many requests", NULL);
		return;
	}
	t->flags = r->flags;
	if (r->flags & ~RPC_WRITE_KNOWN) {
		task_fail(t, EINVAL, "write: unknown flags", NULL);
		return;
	}
	if ((r->flags & RPC_WRITE_MTIME) && r->mtime_ns >= 1000000000u) {
		task_fail(t, EINVAL, "write: mtime", NULL);
		return;
	}
	t->mtime = r->mtime;
	t->mtime_ns = r->mtime_ns;
	if (open_write_target(t, r) != 0) {
		task_fail(t, errno, "open", NULL);
		return;
	}
	emit_begin(RPC_R_OPENED, r->id, &st);
	buf_put_u64(&ob, r->offset);
	buf_put_u32(&ob, WRITE_WINDOW);
	emit_end(st);
}

static void write_data(struct task *t, const struct bytes *d)
{
	if (write_all(t->fd, d->p, d->n) != 0) {
		task_fail(t, errno, "write", NULL);
		return;
	}
	t->done += d->n;
	t->owed += (uint32_t)d->n;
	if (t->owed >= WRITE_WINDOW / 4) {
		emit_window(t->id, RPC_CHAN_IN, t->owed);
		t->owed = 0;
	}
}

static void fsync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	int fd;

	if (slash == NULL)
		fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	else if (slash == path)
		fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	else {
		/* path fits in RPC_MAX_PATH + 1 bytes, so its parent does. */
		memcpy(linkbuf, path, (size_t)(slash - path));
		linkbuf[slash - path] = '\0';
		fd = open(linkbuf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/* The new file's mtime, set last so that no write moves it again. */
static int set_mtime(int fd, int64_t sec, uint32_t nsec)
{
	struct timespec ts[2];

	ts[0].tv_sec = 0;
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_sec = (time_t)sec;
	ts[1].tv_nsec = (long)nsec;
	return futimens(fd, ts);
}

static void finish_write(struct task *t)
{
	const char *tmp;
	int fd = t->fd;

	t->fd = -1;
	if ((t->flags & RPC_WRITE_MTIME) && t->tmp_serial != 0 &&
	    set_mtime(fd, t->mtime, t->mtime_ns) != 0) {
		close(fd);
		task_fail(t, errno, "utime", NULL);
		return;
	}
	if ((t->flags & RPC_WRITE_FSYNC) && fsync(fd) != 0) {
		close(fd);
		task_fail(t, errno, "fsync", NULL);
		return;
	}
	if (close(fd) != 0) {
		task_fail(t, errno, "close", NULL);
		return;
	}
	if (t->tmp_serial != 0) {
		if ((tmp = tmp_name_of(t)) == NULL ||
		    rename(tmp, t->u.path) != 0) {
			task_fail(t, errno, "rename", NULL);
			return;
		}
		t->tmp_serial = 0;
		if (t->flags & RPC_WRITE_FSYNC)
			fsync_parent(t->u.path);
	}
	reply_u64(RPC_R_DONE, t->id, t->done);
	task_free(t);
}

/* Processes. */

/*
 * Terminal requests go straight to the kernel: on 32-bit CPUs musl's
 * ioctl() carries a time64 conversion table (1.3 KiB) none of them needs.
 */
static int tty_ioctl(int fd, unsigned long req, void *arg)
{
	return (int)syscall(SYS_ioctl, fd, req, arg);
}

struct spawn {
	const char *prog;	/* what to run: argv[0] unless LOGIN */
	char **argv;
	char **envp;
	const char *path_var;	/* the PATH the search uses */
	const char *cwd;	/* NULL: the agent's */
	int tty;		/* fd[0] is a terminal's slave, for 0, 1, 2 */
	int fd[3];		/* become the child's 0, 1, 2 */
	int err_fd;		/* errno goes here if exec fails */
};

/* A session of its own whose controlling terminal is the slave. */
static int child_take_tty(int slave)
{
	if (setsid() < 0)
		return -1;
	return tty_ioctl(slave, TIOCSCTTY, NULL);
}

/* Runs in the vfork child: async-signal-safe calls only. */
static void child_exec(const struct spawn *sp) __attribute__((noreturn));
static void child_exec(const struct spawn *sp)
{
	char file[RPC_MAX_PATH + 1];
	const char *p, *end, *prog = sp->prog;
	size_t dl, pl = strlen(prog);
	int i, err = ENOENT, saw_eacces = 0;

	if (!sp->tty)
		setpgid(0, 0);
	else if (child_take_tty(sp->fd[0]) != 0)
		goto fail;
	for (i = 0; i < 3; i++)
		if (dup2(sp->fd[sp->tty ? 0 : i], i) < 0)
			goto fail;
	for (i = 1; i < NSIG; i++)
		signal(i, SIG_DFL);
	sigprocmask(SIG_SETMASK, &orig_mask, NULL);
	if (sp->cwd != NULL && chdir(sp->cwd) != 0)
		goto fail;
	if (strchr(prog, '/') != NULL) {
		execve(prog, sp->argv, sp->envp);
		goto fail;
	}
	for (p = sp->path_var; ; p = end + 1) {
		end = strchr(p, ':');
		if (end == NULL)
			end = p + strlen(p);
		dl = (size_t)(end - p);
		if (dl + 1 + pl < sizeof file) {
			/* An empty element means the current directory. */
			memcpy(file, p, dl);
			if (dl == 0)
				file[dl++] = '.';
			file[dl] = '/';
			memcpy(file + dl + 1, prog, pl + 1);
			execve(file, sp->argv, sp->envp);
			if (errno == EACCES)
				saw_eacces = 1;
			else if (errno != ENOENT && errno != ENOTDIR)
				err = errno;
		}
		if (*end == '\0')
			break;
	}
	errno = saw_eacces ? EACCES : err;
fail:
	err = errno;
	if (write(sp->err_fd, &err, sizeof err) < 0)
		(void)0;
	_exit(127);
}

static pid_t __attribute__((noinline)) spawn_child(const struct spawn *sp)
{
	pid_t pid = vfork();

	if (pid == 0)
		child_exec(sp);
	return pid;
}

/* prefix and a byte string into the scratch area, as one C string. */
static char *scratch_str(const char *prefix, const struct bytes *s,
    size_t *used)
{
	size_t pl = strlen(prefix);
	char *p;

	if (*used + pl + s->n + 1 > sizeof scratch)
		return NULL;
	p = (char *)scratch + *used;
	memcpy(p, prefix, pl);
	memcpy(p + pl, s->p, s->n);
	p[pl + s->n] = '\0';
	*used += pl + s->n + 1;
	return p;
}

static size_t env_drop(char **env, size_t n, const char *name, size_t nl)
{
	size_t i, j;

	for (i = j = 0; i < n; i++)
		if (strncmp(env[i], name, nl) != 0 || env[i][nl] != '=')
			env[j++] = env[i];
	return j;
}

/* "NAME=VALUE" into env[0..*n), in place of any NAME. */
static int env_set(char **env, size_t *n, char *str)
{
	*n = env_drop(env, *n, str, (size_t)(strchr(str, '=') - str));
	if (*n >= MAX_ARGS)
		return E2BIG;
	env[(*n)++] = str;
	return 0;
}

/* The value of "NAME=" in env[0..n), or NULL. */
static const char *env_get(char **env, size_t n, const char *name_eq)
{
	size_t i, nl = strlen(name_eq);

	for (i = 0; i < n; i++)
		if (strncmp(env[i], name_eq, nl) == 0)
			return env[i] + nl;
	return NULL;
}

/* LOGIN: run argv[0], or the user's shell if it is empty, as a login
 * shell: its argv[0] is "-" and the program's last path component. */
static int login_argv0(struct spawn *sp, char **envp, size_t n,
    size_t *used)
{
	const char *base;
	struct bytes s;

	if (*sp->prog == '\0') {
		sp->prog = env_get(envp, n, "SHELL=");
		if (sp->prog == NULL || *sp->prog == '\0')
			sp->prog = "/bin/sh";
	}
	base = strrchr(sp->prog, '/');
	s.p = (const uint8_t *)(base != NULL ? base + 1 : sp->prog);
	s.n = strlen((const char *)s.p);
	if ((sp->argv[0] = scratch_str("-", &s, used)) == NULL)
		return E2BIG;
	return 0;
}

/* argv and envp into xptr, strings into scratch. */
static int build_exec(const struct req *r, struct spawn *sp)
{
	struct buf b = r->args;
	struct bytes s;
	size_t used = 0, n, i;
	char **argv = xptr, **envp, *str;
	uint32_t nenv;
	uint8_t op;

	for (i = 0; i < r->argc; i++) {
		get_bytes(&b, &s);
		if ((argv[i] = scratch_str("", &s, &used)) == NULL)
			return E2BIG;
	}
	argv[i] = NULL;
	envp = argv + i + 1;
	n = 0;
	if (!(r->flags & RPC_EXEC_CLEAR_ENV))
		for (; environ[n] != NULL && n < MAX_ARGS; n++)
			envp[n] = environ[n];
	if (r->term.n > 0 && ((str = scratch_str("TERM=", &r->term,
	    &used)) == NULL || env_set(envp, &n, str) != 0))
		return E2BIG;
	buf_get_u32(&b, &nenv);
	for (i = 0; i < r->nenv; i++) {
		buf_get_u8(&b, &op);
		get_bytes(&b, &s);
		if ((str = scratch_str("", &s, &used)) == NULL)
			return E2BIG;
		if (op == RPC_ENV_UNSET)
			n = env_drop(envp, n, str, strlen(str));
		else if (env_set(envp, &n, str) != 0)
			return E2BIG;
	}
	envp[n] = NULL;
	sp->prog = argv[0];
	sp->argv = argv;
	sp->envp = envp;
	if ((r->flags & RPC_EXEC_LOGIN) &&
	    login_argv0(sp, envp, n, &used) != 0)
		return E2BIG;
	sp->path_var = env_get(envp, n, "PATH=");
	if (sp->path_var == NULL)
		sp->path_var = DEFAULT_PATH;
	sp->cwd = NULL;
	if (r->path.n > 0) {
		if (path_arg(&r->path, pathbuf) != 0)
			return EINVAL;
		sp->cwd = pathbuf;
	}
	return 0;
}

/* Pipes for the child: [0] is the child's end, [1] ours. */
static int make_pipes(const struct req *r, int cfd[3], int pfd[3])
{
	int p[2], i;

	for (i = 0; i < 3; i++)
		cfd[i] = pfd[i] = -1;
	if (r->flags & RPC_EXEC_NO_STDIN) {
		if ((cfd[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
			return -1;
	} else {
		if (pipe2(p, O_CLOEXEC) != 0)
			return -1;
		cfd[0] = p[0];
		pfd[0] = p[1];
	}
	for (i = 1; i < 3; i++) {
		if (i == 2 && (r->flags & RPC_EXEC_MERGE_ERR)) {
			if ((cfd[2] = fcntl(cfd[1], F_DUPFD_CLOEXEC, 3)) < 0)
				return -1;
			break;
		}
		if (pipe2(p, O_CLOEXEC) != 0)
			return -1;
		cfd[i] = p[1];
		pfd[i] = p[0];
	}
	for (i = 0; i < 3; i++)
		if (pfd[i] >= 0 && set_nonblock(pfd[i]) != 0)
			return -1;
	return 0;
}

/*
 * A pseudo-terminal: the master (non-blocking) and its slave, opened by
 * number rather than with ptsname(), which would bring in printf.
 */
static int open_pty(int *master, int *slave)
{
	char name[32] = "/dev/pts/";
	int unlock = 0, e;
	unsigned num;

	*slave = -1;
	*master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_NONBLOCK |
	    O_CLOEXEC);
	if (*master < 0)
		return -1;
	if (tty_ioctl(*master, TIOCSPTLCK, &unlock) == 0 &&
	    tty_ioctl(*master, TIOCGPTN, &num) == 0 &&
	    fmt_u32(name + 9, sizeof name - 9, num, 10) > 0 &&
	    (*slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) >= 0)
		return 0;
	e = errno;
	close_fd(master);
	errno = e;
	return -1;
}

static int set_winsize(int fd, uint32_t rows, uint32_t cols)
{
	struct winsize ws;

	memset(&ws, 0, sizeof ws);
	ws.ws_row = (unsigned short)rows;
	ws.ws_col = (unsigned short)cols;
	return tty_ioctl(fd, TIOCSWINSZ, &ws);
}

/*
 * A terminal for the child: the slave becomes its 0, 1 and 2; the
 * master stays in *tty, with copies of it for stdin and the output.
 */
static int make_pty(const struct req *r, int cfd[3], int pfd[3], int *tty)
{
	int i;

	for (i = 0; i < 3; i++)
		cfd[i] = pfd[i] = -1;
	if (open_pty(tty, &cfd[0]) != 0 ||
	    set_winsize(*tty, r->rows, r->cols) != 0 ||
	    (pfd[1] = fcntl(*tty, F_DUPFD_CLOEXEC, 3)) < 0)
		return -1;
	if (!(r->flags & RPC_EXEC_NO_STDIN) &&
	    (pfd[0] = fcntl(*tty, F_DUPFD_CLOEXEC, 3)) < 0)
		return -1;
	return 0;
}

static void close3(int fd[3])
{
	int i;

	for (i = 0; i < 3; i++)
		close_fd(&fd[i]);
}

static int run_child(struct spawn *sp, pid_t *pidp)
{
	sigset_t all;
	int ep[2], err = 0;
	pid_t pid;
	ssize_t n;

	if (pipe2(ep, O_CLOEXEC) != 0)
		return errno;
	sp->err_fd = ep[1];
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	pid = spawn_child(sp);
	err = errno;
	sigprocmask(SIG_SETMASK, &orig_mask, NULL);
	close(ep[1]);
	if (pid < 0) {
		close(ep[0]);
		return err;
	}
	/* A terminal's child makes its own session, and so its group.
	 * Where vfork() is only a fork() (qemu-user), a group made here
	 * first would make its setsid() fail. */
	if (!sp->tty)
		setpgid(pid, pid);
	do
		n = read(ep[0], &err, sizeof err);
	while (n < 0 && errno == EINTR);
	close(ep[0]);
	if (n == (ssize_t)sizeof err) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return err;
	}
	*pidp = pid;
	return 0;
}

static void start_exec(const struct req *r)
{
	struct spawn sp;
	struct task *t;
	struct proc *p;
	int cfd[3], pfd[3], err, pty = (r->flags & RPC_EXEC_PTY) != 0;
	pid_t pid = -1;
	size_t st;

	if (r->flags & ~(uint32_t)RPC_EXEC_KNOWN) {
		reply_err(r->id, EOPNOTSUPP, "exec option", NULL);
		return;
	}
	if ((p = proc_new()) == NULL ||
	    (t = task_new(T_EXEC, r->id)) == NULL) {
		if (p != NULL)
			proc_free(p);
		reply_err(r->id, EAGAIN, "too many processes", NULL);
		return;
	}
	t->proc = p;
	if ((err = build_exec(r, &sp)) != 0) {
		task_fail(t, err, "exec", NULL);
		return;
	}
	if ((pty ? make_pty(r, cfd, pfd, &p->tty_fd) :
	    make_pipes(r, cfd, pfd)) != 0) {
		err = errno;
		close3(cfd);
		close3(pfd);
		task_fail(t, err, pty ? "pty" : "pipe", NULL);
		return;
	}
	sp.tty = pty;
	memcpy(sp.fd, cfd, sizeof sp.fd);
	err = run_child(&sp, &pid);
	close3(cfd);
	if (err != 0) {
		close3(pfd);
		task_fail(t, err, "exec", sp.prog);
		return;
	}
	p->pid = pid;
	p->in_fd = pfd[0];
	p->out_fd[RPC_CHAN_OUT] = pfd[1];
	p->out_fd[RPC_CHAN_ERR] = pfd[2];
	p->credit[RPC_CHAN_OUT] = p->credit[RPC_CHAN_ERR] = r->window;
	if (r->timeout_ms > 0)
		p->deadline = now_ms() + r->timeout_ms;
	emit_begin(RPC_R_STARTED, r->id, &st);
	buf_put_u32(&ob, (uint32_t)pid);
	buf_put_u32(&ob, p->in_fd >= 0 ? STDIN_WINDOW : 0);
	emit_end(st);
}

/* Move buffered stdin into the pipe; return credit as it drains. */
static void proc_feed(struct task *t, const uint8_t *data, size_t n)
{
	struct proc *p = t->proc;
	ssize_t w;

	if (p->in_fd < 0)
		return;
	if (p->in_len + n > STDIN_WINDOW)
		fatal("stdin data beyond the window");
	if (n > 0)
		memcpy(p->in_buf + p->in_len, data, n);
	p->in_len += n;
	while (p->in_len > 0) {
		w = write(p->in_fd, p->in_buf, p->in_len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			break;
		if (w <= 0) {
			/* The child closed its stdin: tell the client to stop. */
			close_fd(&p->in_fd);
			p->in_len = 0;
			emit_eof(t->id, RPC_CHAN_IN);
			return;
		}
		memmove(p->in_buf, p->in_buf + w, p->in_len - (size_t)w);
		p->in_len -= (size_t)w;
		p->in_owed += (uint32_t)w;
	}
	if (p->in_owed > 0 && (p->in_len == 0 || p->in_owed >= 4096)) {
		emit_window(t->id, RPC_CHAN_IN, p->in_owed);
		p->in_owed = 0;
	}
	if (p->in_len == 0 && p->in_eof)
		close_fd(&p->in_fd);
}

static void exit_report(struct task *t)
{
	struct proc *p = t->proc;
	uint32_t kind, val, flags = 0;
	size_t st;

	if (WIFSIGNALED(p->status)) {
		kind = p->timed_out ? RPC_EXIT_TIMEOUT : RPC_EXIT_SIGNAL;
		val = rpc_sig_from_native(WTERMSIG(p->status));
		if (WCOREDUMP(p->status))
			flags |= RPC_EXIT_CORE;
	} else {
		kind = RPC_EXIT_CODE;
		val = (uint32_t)WEXITSTATUS(p->status);
	}
	emit_begin(RPC_R_EXIT, t->id, &st);
	buf_put_u32(&ob, kind);
	buf_put_u32(&ob, val);
	buf_put_u32(&ob, flags);
	emit_end(st);
	task_free(t);
}

/* A process is over once reaped and both outputs have reached EOF. */
static void proc_check_done(struct task *t)
{
	struct proc *p = t->proc;

	if (p->reaped && p->out_fd[RPC_CHAN_OUT] < 0 &&
	    p->out_fd[RPC_CHAN_ERR] < 0 && out_room() >= OUT_RESERVE)
		exit_report(t);
}

static void step_output(struct task *t, uint8_t chan)
{
	struct proc *p = t->proc;
	ssize_t n;

	n = emit_data_from(p->out_fd[chan], t->id, chan, p->credit[chan]);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		close_fd(&p->out_fd[chan]);
		emit_eof(t->id, chan);
		proc_check_done(t);
		return;
	}
	p->credit[chan] -= (uint32_t)n;
}

static void reap_children(void)
{
	struct task *t;
	pid_t pid;
	int status, i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < MAX_TASKS; i++) {
			t = &tasks[i];
			if (t->kind == T_EXEC && t->proc->pid == pid &&
			    !t->proc->reaped) {
				t->proc->reaped = 1;
				t->proc->status = status;
				break;
			}
		}
	}
}

static void kill_group(struct proc *p, int sig)
{
	if (p->pid > 0 && !p->reaped)
		kill(-p->pid, sig);
}

static void do_signal(const struct req *r)
{
	struct task *t = task_find(r->target);
	int sig = rpc_sig_to_native(r->sig);
	pid_t pid;

	if (t == NULL || t->kind != T_EXEC || t->proc->reaped) {
		reply_err(r->id, ESRCH, "signal", NULL);
		return;
	}
	if (sig == 0) {
		reply_err(r->id, EINVAL, "signal", NULL);
		return;
	}
	pid = (r->flags & RPC_SIGNAL_GROUP) ? -t->proc->pid : t->proc->pid;
	if (kill(pid, sig) != 0)
		reply_err(r->id, errno, "kill", NULL);
	else
		reply_ok(r->id);
}

static void do_winsize(const struct req *r)
{
	struct task *t = task_find(r->target);

	if (t == NULL || t->kind != T_EXEC)
		reply_err(r->id, ESRCH, "winsize", NULL);
	else if (t->proc->tty_fd < 0)
		reply_err(r->id, ENOTTY, "winsize", NULL);
	else if (set_winsize(t->proc->tty_fd, r->rows, r->cols) != 0)
		reply_err(r->id, errno, "winsize", NULL);
	else
		reply_ok(r->id);
}

static void do_cancel(const struct req *r)
{
	struct task *t = task_find(r->target);

	if (t == NULL) {
		reply_err(r->id, ESRCH, "cancel", NULL);
		return;
	}
	if (t->kind == T_EXEC)
		kill_group(t->proc, SIGKILL);
	else
		task_fail(t, ECANCELED, "cancelled", NULL);
	reply_ok(r->id);
}

/* Stream frames from the client. */

static void on_stream(const struct req *r)
{
	struct task *t = task_find(r->id);

	/* Late frames for a finished request are expected: ignore them. */
	if (t == NULL)
		return;
	if (r->type == RPC_S_WINDOW) {
		if (t->kind == T_READ)
			t->credit += r->increment;
		else if (t->kind == T_EXEC && r->chan != RPC_CHAN_IN &&
		    r->chan < RPC_NCHAN &&
		    t->proc->credit[r->chan] + (uint64_t)r->increment <=
		    UINT32_MAX)
			t->proc->credit[r->chan] += r->increment;
		return;
	}
	if (r->chan != RPC_CHAN_IN)
		return;
	if (t->kind == T_WRITE) {
		if (r->type == RPC_S_DATA)
			write_data(t, &r->data);
		else
			finish_write(t);
	} else if (t->kind == T_EXEC) {
		if (r->type == RPC_S_DATA) {
			proc_feed(t, r->data.p, r->data.n);
		} else {
			t->proc->in_eof = 1;
			if (t->proc->in_len == 0)
				close_fd(&t->proc->in_fd);
		}
	}
}

/* One frame from the client. */
static void dispatch(const struct rpc_frame *f)
{
	struct req r;
	int err;

	if (decode_request(f, &r) != 0) {
		if (f->type < RPC_S_DATA)
			reply_err(f->id, EPROTO, "malformed request", NULL);
		return;
	}
	if (f->type >= RPC_S_DATA && f->type <= RPC_S_WINDOW) {
		on_stream(&r);
		return;
	}
	if (f->type == RPC_HELLO) {
		do_hello(&r);
		return;
	}
	if (!hello_done) {
		reply_err(r.id, EPROTO, "hello first", NULL);
		return;
	}
	if (f->type < RPC_STAT || f->type > RPC_WINSIZE) {
		reply_err(r.id, ENOSYS, "unknown request type", NULL);
		return;
	}
	if (task_find(r.id) != NULL) {
		reply_err(r.id, EBUSY, "request id in use", NULL);
		return;
	}
	switch (f->type) {
	case RPC_EXEC:
	case RPC_SIGNAL:
	case RPC_CANCEL:
	case RPC_WINSIZE:
		break;
	default:
		if ((err = path_arg(&r.path, pathbuf)) != 0) {
			reply_err(r.id, err, "path", NULL);
			return;
		}
	}
	if ((f->type == RPC_RENAME || f->type == RPC_SYMLINK) &&
	    (err = path_arg(&r.path2, pathbuf2)) != 0) {
		reply_err(r.id, err, "path", NULL);
		return;
	}
	switch (f->type) {
	case RPC_STAT:		do_stat(&r);		break;
	case RPC_LIST:		start_list(&r);		break;
	case RPC_READ:		start_read(&r);		break;
	case RPC_WRITE:		start_write(&r);	break;
	case RPC_MKDIR:		do_mkdir(&r);		break;
	case RPC_RENAME:	do_rename(&r);		break;
	case RPC_REMOVE:	do_remove(&r);		break;
	case RPC_CHMOD:		do_chmod(&r);		break;
	case RPC_CHOWN:		do_chown(&r);		break;
	case RPC_SYMLINK:	do_symlink(&r);		break;
	case RPC_READLINK:	do_readlink(&r);	break;
	case RPC_UTIME:		do_utime(&r);		break;
	case RPC_SUM:		start_sum(&r);		break;
	case RPC_STATVFS:	do_statvfs(&r);		break;
	case RPC_EXEC:		start_exec(&r);		break;
	case RPC_SIGNAL:	do_signal(&r);		break;
	case RPC_CANCEL:	do_cancel(&r);		break;
	case RPC_WINSIZE:	do_winsize(&r);		break;
	default:
		reply_err(r.id, ENOSYS, "unknown request type", NULL);
		break;
	}
}

/*
 * Take the complete frames in ibuf while there is room for their
 * replies.  Returns -1 if the stream is malformed.
 */
static int take_frames(void)
{
	struct rpc_frame f;
	size_t off = 0;
	long n;

	while (out_room() >= OUT_RESERVE) {
		n = rpc_frame_parse(ibuf_mem + off, ibuf_len - off, &f);
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		dispatch(&f);
		off += (size_t)n;
	}
	if (off > 0) {
		memmove(ibuf_mem, ibuf_mem + off, ibuf_len - off);
		ibuf_len -= off;
	}
	return 0;
}

/* Leaving: no child and no temporary file outlives the session. */
static void cleanup(void)
{
	int i;

	leaving = 1;
	for (i = 0; i < MAX_TASKS; i++) {
		if (tasks[i].kind == T_EXEC) {
			kill_group(tasks[i].proc, SIGKILL);
			if (!tasks[i].proc->reaped)
				while (waitpid(tasks[i].proc->pid, NULL, 0) < 0 &&
				    errno == EINTR)
					;
		}
		if (tasks[i].kind != T_FREE)
			task_free(&tasks[i]);
	}
}

static void on_signal(int sig)
{
	int e = errno;

	if (sig != SIGCHLD)
		stop_signal = sig;
	if (write(sig_pipe[1], "", 1) < 0)
		(void)0;
	errno = e;
}

static void setup_signals(void)
{
	struct sigaction sa;

	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		fatal("pipe");
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigprocmask(SIG_SETMASK, NULL, &orig_mask);
}

/* Whether a task can make progress without waiting on a descriptor. */
static int task_busy(const struct task *t)
{
	return (t->kind == T_SUM || t->kind == T_LIST) &&
	    out_room() >= OUT_RESERVE;
}

/* The poll set: 0 stdin, 1 stdout, 2 signals, then per-task fds. */
struct pollmap {
	struct task *task;
	int what;		/* chan, or -1 for the task's own fd */
};

#define NPOLL	(3 + MAX_TASKS * 3)

static int build_poll(struct pollfd *pfd, struct pollmap *map,
    int64_t *timeout)
{
	int i, n = 3, c, room = out_room() >= OUT_RESERVE;
	int64_t now = 0;
	struct task *t;
	struct proc *p;

	pfd[0].fd = ibuf_len < IBUF_SIZE && room ? STDIN_FILENO : -1;
	pfd[0].events = POLLIN;
	pfd[1].fd = buf_avail(&ob) > 0 ? STDOUT_FILENO : -1;
	pfd[1].events = POLLOUT;
	pfd[2].fd = sig_pipe[0];
	pfd[2].events = POLLIN;
	*timeout = -1;
	for (i = 0; i < MAX_TASKS; i++) {
		t = &tasks[i];
		if (task_busy(t))
			*timeout = 0;
		if (t->kind == T_READ && t->credit > 0 && room) {
			pfd[n].fd = t->fd;
			pfd[n].events = POLLIN;
			map[n].task = t;
			map[n++].what = -1;
		}
		if (t->kind != T_EXEC)
			continue;
		p = t->proc;
		for (c = RPC_CHAN_OUT; c <= RPC_CHAN_ERR; c++) {
			if (p->out_fd[c] < 0 || p->credit[c] == 0 || !room)
				continue;
			pfd[n].fd = p->out_fd[c];
			pfd[n].events = POLLIN;
			map[n].task = t;
			map[n++].what = c;
		}
		if (p->in_fd >= 0 && p->in_len > 0) {
			pfd[n].fd = p->in_fd;
			pfd[n].events = POLLOUT;
			map[n].task = t;
			map[n++].what = RPC_CHAN_IN;
		}
		if (p->reaped && p->out_fd[RPC_CHAN_OUT] < 0 &&
		    p->out_fd[RPC_CHAN_ERR] < 0 && room)
			*timeout = 0;
		if (p->deadline > 0 && !p->reaped) {
			if (now == 0)
				now = now_ms();
			if (p->deadline <= now)
				*timeout = 0;
			else if (*timeout < 0 || p->deadline - now < *timeout)
				*timeout = p->deadline - now;
		}
	}
	return n;
}

static void check_deadlines(void)
{
	int64_t now = now_ms();
	struct proc *p;
	int i;

	for (i = 0; i < MAX_TASKS; i++) {
		if (tasks[i].kind != T_EXEC)
			continue;
		p = tasks[i].proc;
		if (p->deadline > 0 && !p->reaped && p->deadline <= now) {
			kill_group(p, SIGKILL);
			p->timed_out = 1;
			p->deadline = 0;
		}
	}
}

static void run_busy_tasks(void)
{
	struct task *t;
	int i;

	for (i = 0; i < MAX_TASKS; i++) {
		t = &tasks[i];
		if (out_room() < OUT_RESERVE)
			return;
		if (t->kind == T_SUM)
			step_sum(t);
		else if (t->kind == T_LIST)
			step_list(t);
		else if (t->kind == T_EXEC)
			proc_check_done(t);
	}
}

static void handle_polled(struct pollfd *pfd, struct pollmap *map, int n)
{
	struct task *t;
	int i;

	for (i = 3; i < n; i++) {
		if (pfd[i].revents == 0)
			continue;
		t = map[i].task;
		/* An earlier step may have ended this task. */
		if (t->kind == T_FREE || out_room() < OUT_RESERVE)
			continue;
		if (map[i].what < 0 && t->kind == T_READ)
			step_read(t);
		else if (t->kind == T_EXEC && map[i].what == RPC_CHAN_IN)
			proc_feed(t, NULL, 0);
		else if (t->kind == T_EXEC && t->proc->out_fd[map[i].what] ==
		    pfd[i].fd)
			step_output(t, (uint8_t)map[i].what);
	}
}

static int read_input(void)
{
	ssize_t n;

	n = read(STDIN_FILENO, ibuf_mem + ibuf_len, IBUF_SIZE - ibuf_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return -1;
	ibuf_len += (size_t)n;
	return 0;
}

static void agent_loop(void)
{
	static struct pollfd pfd[NPOLL];
	static struct pollmap map[NPOLL];
	int64_t timeout;
	char drain[64];
	int n;

	for (;;) {
		if (take_frames() != 0)
			fatal("malformed frame from the client");
		flush_out();
		n = build_poll(pfd, map, &timeout);
		if (poll(pfd, (nfds_t)n, (int)timeout) < 0) {
			if (errno == EINTR)
				continue;
			fatal("poll failed");
		}
		if (pfd[2].revents & POLLIN) {
			while (read(sig_pipe[0], drain, sizeof drain) > 0)
				;
			if (stop_signal != 0)
				return;
			reap_children();
		}
		check_deadlines();
		if (pfd[1].revents & (POLLOUT | POLLERR | POLLHUP))
			flush_out();
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR) &&
		    read_input() != 0)
			return;
		handle_polled(pfd, map, n);
		run_busy_tasks();
	}
}

/* Keep 0, 1 and 2 taken, so that no pipe of ours lands on them. */
static void reserve_std_fds(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
}

#ifndef AGENT_NO_MAIN
static void print_version(void)
{
	char version[12];

	fmt_u32(version, sizeof version, RPC_VERSION, 10);
	write_line(STDOUT_FILENO, (const char *const[]){
	    "remowt-agent protocol ", version, " build ", AGENT_BUILD, NULL });
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		print_version();
		return 0;
	}
	if (argc > 1) {
		write_line(STDERR_FILENO, (const char *const[]){
		    "usage: remowt-agent (speaks RPC on stdio)", NULL });
		return 2;
	}
	reserve_std_fds();
	orig_umask = umask(0);
	umask(orig_umask);
	buf_init(&ob, obuf_mem, sizeof obuf_mem);
	setup_signals();
	if (set_nonblock(STDIN_FILENO) != 0 ||
	    set_nonblock(STDOUT_FILENO) != 0)
		fatal("cannot make stdio non-blocking");
	agent_loop();
	cleanup();
	flush_out();
	return 0;
}
#endif
