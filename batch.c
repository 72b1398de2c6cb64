/*
 * batch.c - remowt batch HOST: requests as JSON lines on stdin, answers
 * as JSON lines on stdout, all over one agent session.  README (Batch)
 * describes the format.
 *
 * One loop.  rpc_run() polls the link and, through a watch, stdin; it
 * returns whenever a call has its final reply, or a whole line waits
 * and a slot is free.  A line is parsed, checked against the fields of
 * its op and issued at once, so up to max requests are in flight; the
 * answer is written when the final reply comes, in whatever order the
 * replies come.  An exec beyond the agent's process limit keeps its
 * line in its slot and is issued when a process ends.  Stdin is read
 * only when no whole line waits, so a producer that runs ahead is held
 * back by the pipe.
 *
 * Memory is fixed at start (the line, its tokens, the decoded strings,
 * the slots) except what a request brings: data sent from memory, a
 * listing, captured output, each bounded by the line length or by a
 * cap the request may set.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "buf.h"
#include "cli.h"
#include "json.h"

#define BATCH_MAX_LINE		(4u << 20)	/* bytes of one request */
#define BATCH_MAX_TOKENS	16384		/* JSON values in one request */
#define BATCH_MAX_ID		1024		/* bytes of an id as written */
#define BATCH_MAX_PROCS		32		/* processes the agent runs */
#define BATCH_MAX_ARGV		4096
#define BATCH_MAX_ENV		1024
#define BATCH_MAX_TIMEOUT	4000000		/* seconds */
#define BATCH_CAPTURE		(4u << 20)	/* output kept, by default */
#define BATCH_CAPTURE_MAX	(64u << 20)	/* ... at most */
#define BATCH_WINDOW		(256u * 1024)	/* credit per output stream */
#define BATCH_KEEP		(64u * 1024)	/* slot memory kept for reuse */
#define SCRATCH_SIZE		(BATCH_MAX_LINE + 1)

/* Request fields.  Those marked bytes may be given as NAME_b64. */
enum field {
	F_ID, F_OP, F_PATH, F_FROM, F_TO, F_TARGET, F_FOLLOW, F_NOFOLLOW,
	F_OFFSET, F_LENGTH, F_ENCODING, F_DATA, F_FILE, F_MODE, F_APPEND,
	F_FSYNC, F_EXCL, F_PARENTS, F_RECURSIVE, F_FORCE, F_DIR, F_UID,
	F_GID, F_TIME, F_ARGV, F_CWD, F_ENV, F_CLEAR_ENV, F_TIMEOUT,
	F_STDIN, F_STDIN_FILE, F_MERGE_STDERR, F_MAX_OUTPUT, F_REQUEST,
	F_SIGNAL, F_GROUP, NFIELDS
};

#define B(f)	((uint64_t)1 << (f))

static const struct {
	const char *name;
	int bytes;
} fields[NFIELDS] = {
	[F_ID] = { "id", 0 },		[F_OP] = { "op", 0 },
	[F_PATH] = { "path", 1 },	[F_FROM] = { "from", 1 },
	[F_TO] = { "to", 1 },		[F_TARGET] = { "target", 1 },
	[F_FOLLOW] = { "follow", 0 },	[F_NOFOLLOW] = { "nofollow", 0 },
	[F_OFFSET] = { "offset", 0 },	[F_LENGTH] = { "length", 0 },
	[F_ENCODING] = { "encoding", 0 }, [F_DATA] = { "data", 1 },
	[F_FILE] = { "file", 1 },	[F_MODE] = { "mode", 0 },
	[F_APPEND] = { "append", 0 },	[F_FSYNC] = { "fsync", 0 },
	[F_EXCL] = { "excl", 0 },	[F_PARENTS] = { "parents", 0 },
	[F_RECURSIVE] = { "recursive", 0 }, [F_FORCE] = { "force", 0 },
	[F_DIR] = { "dir", 0 },		[F_UID] = { "uid", 0 },
	[F_GID] = { "gid", 0 },		[F_TIME] = { "time", 0 },
	[F_ARGV] = { "argv", 1 },	[F_CWD] = { "cwd", 1 },
	[F_ENV] = { "env", 1 },		[F_CLEAR_ENV] = { "clear_env", 0 },
	[F_TIMEOUT] = { "timeout", 0 },	[F_STDIN] = { "stdin", 1 },
	[F_STDIN_FILE] = { "stdin_file", 1 },
	[F_MERGE_STDERR] = { "merge_stderr", 0 },
	[F_MAX_OUTPUT] = { "max_output", 0 },
	[F_REQUEST] = { "request", 0 },	[F_SIGNAL] = { "signal", 0 },
	[F_GROUP] = { "group", 0 },
};

/* Who an answer is for. */
struct head {
	unsigned long line;
	const char *id;		/* as written in the request, or NULL */
	size_t idlen;
	const char *op;		/* NULL until the op is known */
};

struct batch;

/* Memory a request brings, kept in its slot for the next one. */
struct mem {
	uint8_t *p;
	size_t len, cap;
};

/* One request read and not yet answered. */
struct slot {
	struct batch *b;
	const struct op *op;	/* NULL: free */
	struct head h;
	char id[BATCH_MAX_ID];
	struct rpc_call call;
	int queued;		/* an exec waiting for a process slot */
	int fd;			/* a local file being sent, or -1 */
	int b64;		/* captured data as base64 */
	int force;		/* rm: what is missing is no error */
	int stage;		/* touch: 0 times, 1 create, 2 times again */
	int64_t time;		/* touch */
	int time_given;
	uint64_t offset, size;	/* read: where from; the file's size */
	struct mem data;	/* sent from memory; a listing; touch's path */
	struct mem line;	/* queued: the request as written */
	int oom;		/* the listing did not fit */
};

/* Requests on stdin: buf[start..len) is unread. */
struct input {
	int fd;
	char *buf;		/* SCRATCH_SIZE bytes */
	size_t start, len;
	size_t scan;		/* buf[start..scan) holds no newline */
	size_t line_len;	/* have_line: the line at buf[start] */
	int have_line;
	int eof;
	int skipping;		/* the rest of a line too long */
	unsigned long lineno;	/* lines taken so far */
};

struct batch {
	struct cli *cli;
	struct slot *slots;
	int max;		/* slots */
	int busy, procs;	/* taken slots; running execs */
	int failed;		/* an answer said ok:false */
	int ready;		/* a call got its final reply */
	int lost;		/* the session failed */
	struct input in;
	struct json_doc doc;
	struct json_tok *tok;
	uint8_t *scratch;	/* decoded strings of the line at hand */
	size_t scratch_len;
	char *argv[BATCH_MAX_ARGV + 1];
	char *env[BATCH_MAX_ENV];
	uint8_t envop[BATCH_MAX_ENV];
};

/* A request being read. */
struct req {
	struct head h;
	const struct json_doc *d;
	uint32_t f[NFIELDS];	/* the value of each field given, else 0 */
	uint64_t b64;		/* fields given as NAME_b64 */
};

enum op_kind {
	OP_STAT, OP_LS, OP_READ, OP_SUM, OP_DF, OP_PUT, OP_MKDIR, OP_RM,
	OP_MV, OP_CHMOD, OP_CHOWN, OP_SYMLINK, OP_READLINK, OP_TOUCH,
	OP_EXEC, OP_SIGNAL, OP_CANCEL, OP_INFO
};

/*
 * start issues the request (0) or answers it at once (-1: an error, or
 * an op with nothing to wait for); answer writes a success, from its
 * head on, or returns an RPC error code and writes nothing.
 */
struct op {
	const char *name, *alias;
	enum op_kind kind;
	uint64_t fields, required;
	uint8_t reply;		/* the final reply of success */
	int (*start)(struct batch *, struct slot *, struct req *);
	uint32_t (*answer)(struct slot *);
};

#define RPC(b)	((b)->cli->rpc)

/* Answers. */

static void answer_head(const struct head *h, int ok)
{
	fputc('{', stdout);
	if (h->id != NULL) {
		fputs("\"id\":", stdout);
		fwrite(h->id, 1, h->idlen, stdout);
		fputc(',', stdout);
	}
	printf("\"line\":%lu,", h->line);
	if (h->op != NULL)
		printf("\"op\":\"%s\",", h->op);
	printf("\"ok\":%s", ok ? "true" : "false");
}

static void answer_error(struct batch *b, const struct head *h,
    const char *name, const char *msg, const char *detail, int local)
{
	answer_head(h, 0);
	printf(",\"error\":\"%s\",\"message\":", name);
	json_str(stdout, msg);
	if (detail != NULL && *detail != '\0') {
		fputs(",\"detail\":", stdout);
		json_str(stdout, detail);
	}
	if (local)
		fputs(",\"local\":true", stdout);
	fputs("}\n", stdout);
	b->failed = 1;
}

/* A request that cannot be carried out as written. */
static int req_bad(struct batch *b, const struct head *h, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

static int req_bad(struct batch *b, const struct head *h, const char *fmt,
    ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	answer_error(b, h, "EINVAL", msg, NULL, 0);
	return -1;
}

/* A failure on this side: a local file, memory. */
static int local_error(struct batch *b, const struct head *h, int err,
    const char *path)
{
	answer_error(b, h, rpc_err_name(rpc_err_from_errno(err)),
	    strerror(err), path, 1);
	return -1;
}

static void answer_lost(struct batch *b, const struct head *h)
{
	const char *why = rpc_client_error(RPC(b));

	answer_error(b, h, "ECONNRESET", why != NULL ? why :
	    "connection to the agent lost", NULL, 0);
}

/* Slots. */

static void slot_reply(struct rpc_call *call, const struct rpc_reply *r);

/* A slot for the request; an exec over the process limit is queued. */
static struct slot *slot_take(struct batch *b, const struct head *h,
    const struct op *op)
{
	struct slot *s;
	int k;

	for (k = 0; k < b->max && b->slots[k].op != NULL; k++)
		;
	if (k == b->max)
		return NULL;
	s = &b->slots[k];
	s->op = op;
	s->h = *h;
	if (h->id != NULL) {
		memcpy(s->id, h->id, h->idlen);
		s->h.id = s->id;
	}
	rpc_call_init(&s->call, slot_reply, s);
	s->fd = -1;
	s->b64 = s->force = s->stage = s->time_given = s->oom = 0;
	s->time = 0;
	s->offset = s->size = 0;
	s->data.len = s->line.len = 0;
	s->queued = op->kind == OP_EXEC && b->procs >= BATCH_MAX_PROCS;
	if (op->kind == OP_EXEC && !s->queued)
		b->procs++;
	b->busy++;
	return s;
}

static void mem_trim(struct mem *m)
{
	if (m->cap > BATCH_KEEP) {
		free(m->p);
		m->p = NULL;
		m->cap = 0;
	}
	m->len = 0;
}

static void slot_put(struct batch *b, struct slot *s)
{
	rpc_call_release(&s->call);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	mem_trim(&s->data);
	mem_trim(&s->line);
	if (s->op->kind == OP_EXEC && !s->queued)
		b->procs--;
	s->queued = 0;
	b->busy--;
	s->op = NULL;
}

static int mem_reserve(struct mem *m, size_t n)
{
	uint8_t *p;

	if (n <= m->cap)
		return 0;
	if ((p = realloc(m->p, n)) == NULL)
		return -1;
	m->p = p;
	m->cap = n;
	return 0;
}

static int mem_append(struct mem *m, const void *p, size_t n)
{
	size_t cap = m->cap ? m->cap : 4096;

	if (n > SIZE_MAX / 2 - m->len)
		return -1;
	while (cap - m->len < n)
		cap *= 2;
	if (mem_reserve(m, cap) != 0)
		return -1;
	memcpy(m->p + m->len, p, n);
	m->len += n;
	return 0;
}

/* Every frame of a slot's call. */
static void slot_reply(struct rpc_call *call, const struct rpc_reply *r)
{
	struct slot *s = call->arg;

	if (r->type == RPC_R_OPENED)
		s->size = r->size;
	else if (r->type == RPC_R_DIRENTS && !s->oom &&
	    mem_append(&s->data, buf_ptr(&r->dirents),
	    buf_avail(&r->dirents)) != 0)
		s->oom = 1;
	if (call->done)
		s->b->ready = 1;
}

/* After a request function: 0 if the call is in flight, else -1 and
 * the request has been answered. */
static int issued(struct batch *b, struct slot *s, int rc)
{
	int err = errno;

	if (rc == 0)
		return 0;
	if (rpc_client_error(RPC(b)) != NULL) {
		b->lost = 1;
		answer_lost(b, &s->h);
	} else if (err == E2BIG) {
		answer_error(b, &s->h, "E2BIG", "request too large for one "
		    "protocol frame", NULL, 1);
	} else {
		local_error(b, &s->h, err, NULL);
	}
	return -1;
}

/* Fields. */

static int field_find(const char *name, size_t n, int *b64)
{
	size_t fl;
	int f;

	for (f = 0; f < NFIELDS; f++) {
		fl = strlen(fields[f].name);
		if (n == fl && memcmp(name, fields[f].name, n) == 0) {
			*b64 = 0;
			return f;
		}
		if (fields[f].bytes && n == fl + 4 &&
		    memcmp(name, fields[f].name, fl) == 0 &&
		    memcmp(name + fl, "_b64", 4) == 0) {
			*b64 = 1;
			return f;
		}
	}
	return -1;
}

static const char *fname(const struct req *q, int f, char *buf, size_t n)
{
	snprintf(buf, n, "%s%s", fields[f].name,
	    (q->b64 & B(f)) ? "_b64" : "");
	return buf;
}

/* Each member of the request: a field of its op, given once. */
static int req_fields(struct batch *b, struct req *q, const struct op *op)
{
	const struct json_doc *d = q->d;
	uint64_t allowed = op->fields | B(F_ID) | B(F_OP);
	uint32_t k, m;
	char name[48], nb[48];
	size_t n;
	int f, b64 = 0;

	for (k = json_first(d, 0), m = 0; m < d->tok[0].size; m++) {
		if (json_get_string(d, k, name, sizeof name - 1, &n) != 0)
			n = sizeof name - 1;
		name[n] = '\0';
		f = memchr(name, '\0', n) != NULL ? -1 :
		    field_find(name, n, &b64);
		if (f < 0 || !(allowed & B(f)))
			return req_bad(b, &q->h, "unknown field \"%s\" for op "
			    "%s", name, op->name);
		if (q->f[f] != 0)
			return req_bad(b, &q->h, "field \"%s\" given twice",
			    fields[f].name);
		q->f[f] = k + 1;
		if (b64)
			q->b64 |= B(f);
		k = json_next(d, k + 1);
	}
	for (f = 0; f < NFIELDS; f++)
		if ((op->required & B(f)) && q->f[f] == 0)
			return req_bad(b, &q->h, "missing field \"%s\"",
			    fname(q, f, nb, sizeof nb));
	return 0;
}

/* String v of field f decoded (from base64 for NAME_b64) into the
 * scratch area and NUL-terminated there. */
static int decode_bytes(struct batch *b, struct req *q, int f, uint32_t v,
    uint8_t **p, size_t *n)
{
	uint8_t *dst = b->scratch + b->scratch_len;
	size_t room = SCRATCH_SIZE - b->scratch_len;
	char nb[48];
	int rc;

	if (json_type(q->d, v) != JSON_STRING)
		return req_bad(b, &q->h, "field \"%s\": expected a string",
		    fname(q, f, nb, sizeof nb));
	if (room < 1)
		return req_bad(b, &q->h, "request too large");
	if (q->b64 & B(f))
		rc = json_get_b64(q->d, v, dst, room - 1, n);
	else
		rc = json_get_string(q->d, v, dst, room - 1, n);
	if (rc != 0)
		return req_bad(b, &q->h, "field \"%s\": %s",
		    fname(q, f, nb, sizeof nb), (q->b64 & B(f)) ?
		    "not base64" : "too long");
	dst[*n] = '\0';
	*p = dst;
	b->scratch_len += *n + 1;
	return 0;
}

/* Field f as bytes; *p is NULL when the field is absent. */
static int f_bytes(struct batch *b, struct req *q, int f, uint8_t **p,
    size_t *n)
{
	*p = NULL;
	*n = 0;
	if (q->f[f] == 0)
		return 0;
	return decode_bytes(b, q, f, q->f[f], p, n);
}

/* Bytes of v that must not hold NUL: an argument, a local path. */
static int decode_cstr(struct batch *b, struct req *q, int f, uint32_t v,
    char **s)
{
	uint8_t *p;
	size_t n;
	char nb[48];

	if (decode_bytes(b, q, f, v, &p, &n) != 0)
		return -1;
	if (memchr(p, '\0', n) != NULL)
		return req_bad(b, &q->h, "field \"%s\": holds a NUL byte",
		    fname(q, f, nb, sizeof nb));
	*s = (char *)p;
	return 0;
}

static int f_cstr(struct batch *b, struct req *q, int f, char **s)
{
	*s = NULL;
	if (q->f[f] == 0)
		return 0;
	return decode_cstr(b, q, f, q->f[f], s);
}

/* Absent is false. */
static int f_bool(struct batch *b, struct req *q, int f, int *v)
{
	*v = 0;
	if (q->f[f] == 0 || json_get_bool(q->d, q->f[f], v) == 0)
		return 0;
	return req_bad(b, &q->h, "field \"%s\": expected true or false",
	    fields[f].name);
}

/* Absent leaves *v as it is. */
static int f_int(struct batch *b, struct req *q, int f, int64_t lo,
    int64_t hi, int64_t *v)
{
	int64_t x;

	if (q->f[f] == 0)
		return 0;
	if (json_get_int(q->d, q->f[f], &x) != 0 || x < lo || x > hi)
		return req_bad(b, &q->h, "field \"%s\": expected an integer "
		    "from %lld to %lld", fields[f].name, (long long)lo,
		    (long long)hi);
	*v = x;
	return 0;
}

/* A mode: an octal string ("0644") or a plain integer up to 07777. */
static int f_mode(struct batch *b, struct req *q, uint32_t *mode,
    int *given)
{
	uint32_t v = q->f[F_MODE];
	int64_t i;
	char s[8], *end;
	size_t n;
	unsigned long m;

	*given = v != 0;
	if (v == 0)
		return 0;
	if (json_get_int(q->d, v, &i) == 0 && i >= 0 && i <= 07777) {
		*mode = (uint32_t)i;
		return 0;
	}
	if (json_get_string(q->d, v, s, sizeof s - 1, &n) != 0)
		n = 0;
	s[n] = '\0';
	if (n > 0 && strspn(s, "01234567") == n) {
		m = strtoul(s, &end, 8);
		if (*end == '\0' && m <= 07777) {
			*mode = (uint32_t)m;
			return 0;
		}
	}
	return req_bad(b, &q->h, "field \"mode\": expected an octal string "
	    "such as \"0644\", or an integer up to 4095");
}

static int f_encoding(struct batch *b, struct req *q, int *b64)
{
	uint32_t v = q->f[F_ENCODING];

	*b64 = 0;
	if (v == 0 || json_string_is(q->d, v, "text"))
		return 0;
	if (json_string_is(q->d, v, "base64")) {
		*b64 = 1;
		return 0;
	}
	return req_bad(b, &q->h, "field \"encoding\": expected \"text\" or "
	    "\"base64\"");
}

/*
 * What a request sends: inline (field fdata, kept in the slot) or a
 * local file (ffile), attached to the call as its source.  *given is 0
 * when there is neither.
 */
static int f_source(struct batch *b, struct req *q, struct slot *s,
    int fdata, int ffile, int *given)
{
	uint32_t v = q->f[fdata];
	char *path, nb[48];
	int rc;

	*given = v != 0 || q->f[ffile] != 0;
	if (v != 0 && q->f[ffile] != 0)
		return req_bad(b, &q->h, "give \"%s\" or \"%s\", not both",
		    fields[fdata].name, fields[ffile].name);
	if (v != 0) {
		if (json_type(q->d, v) != JSON_STRING)
			return req_bad(b, &q->h, "field \"%s\": expected a "
			    "string", fname(q, fdata, nb, sizeof nb));
		if (mem_reserve(&s->data, q->d->tok[v].len + 1) != 0)
			return local_error(b, &s->h, ENOMEM, NULL);
		if (q->b64 & B(fdata))
			rc = json_get_b64(q->d, v, s->data.p, s->data.cap,
			    &s->data.len);
		else
			rc = json_get_string(q->d, v, s->data.p, s->data.cap,
			    &s->data.len);
		if (rc != 0)
			return req_bad(b, &q->h, "field \"%s\": not base64",
			    fname(q, fdata, nb, sizeof nb));
		if (rpc_source_mem(&s->call, s->data.p, s->data.len) != 0)
			return local_error(b, &s->h, ENOMEM, NULL);
		return 0;
	}
	if (q->f[ffile] == 0)
		return 0;
	if (f_cstr(b, q, ffile, &path) != 0)
		return -1;
	if ((s->fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC)) < 0)
		return local_error(b, &s->h, errno, path);
	if (rpc_source_fd(&s->call, s->fd) != 0)
		return local_error(b, &s->h, ENOMEM, NULL);
	return 0;
}

/* Requests. */

static int start_stat(struct batch *b, struct slot *s, struct req *q)
{
	uint8_t *p;
	size_t n;
	int follow;

	if (f_bytes(b, q, F_PATH, &p, &n) != 0 ||
	    f_bool(b, q, F_FOLLOW, &follow) != 0)
		return -1;
	return issued(b, s, rpc_stat(RPC(b), &s->call, p, n, !follow));
}

static int start_ls(struct batch *b, struct slot *s, struct req *q)
{
	uint8_t *p;
	size_t n;

	if (f_bytes(b, q, F_PATH, &p, &n) != 0)
		return -1;
	return issued(b, s, rpc_list(RPC(b), &s->call, p, n));
}

static int start_read(struct batch *b, struct slot *s, struct req *q)
{
	int64_t off = 0, len = BATCH_CAPTURE;
	uint8_t *p;
	size_t n;

	if (f_bytes(b, q, F_PATH, &p, &n) != 0 ||
	    f_int(b, q, F_OFFSET, 0, INT64_MAX, &off) != 0 ||
	    f_int(b, q, F_LENGTH, 0, BATCH_CAPTURE_MAX, &len) != 0 ||
	    f_encoding(b, q, &s->b64) != 0)
		return -1;
	if (rpc_sink_mem(&s->call, RPC_CHAN_OUT, BATCH_WINDOW,
	    (size_t)len) != 0)
		return local_error(b, &s->h, ENOMEM, NULL);
	s->offset = (uint64_t)off;
	return issued(b, s, rpc_read(RPC(b), &s->call, p, n, (uint64_t)off,
	    (uint64_t)len));
}

static int start_sum(struct batch *b, struct slot *s, struct req *q)
{
	uint8_t *p;
	size_t n;

	if (f_bytes(b, q, F_PATH, &p, &n) != 0)
		return -1;
	return issued(b, s, rpc_sum(RPC(b), &s->call, p, n));
}

static int start_df(struct batch *b, struct slot *s, struct req *q)
{
	uint8_t *p;
	size_t n;

	if (f_bytes(b, q, F_PATH, &p, &n) != 0)
		return -1;
	return issued(b, s, rpc_statvfs(RPC(b), &s->call, p, n));
}

static int start_put(struct batch *b, struct slot *s, struct req *q)
{
	uint32_t mode = 0, flags;
	int given, append, fsync, excl, src;
	uint8_t *p;
	size_t n;

	if (f_bytes(b, q, F_PATH, &p, &n) != 0 ||
	    f_mode(b, q, &mode, &given) != 0 ||
	    f_bool(b, q, F_APPEND, &append) != 0 ||
	    f_bool(b, q, F_FSYNC, &fsync) != 0 ||
	    f_bool(b, q, F_EXCL, &excl) != 0)
		return -1;
	if (q->f[F_DATA] == 0 && q->f[F_FILE] == 0)
		return req_bad(b, &q->h, "missing field \"data\", "
		    "\"data_b64\" or \"file\"");
	if (f_source(b, q, s, F_DATA, F_FILE, &src) != 0)
		return -1;
	flags = (given ? RPC_WRITE_MODE : 0) |
	    (append ? RPC_WRITE_APPEND : 0) | (fsync ? RPC_WRITE_FSYNC : 0) |
	    (excl ? RPC_WRITE_EXCL : 0);
	return issued(b, s, rpc_write(RPC(b), &s->call, p, n, flags, mode));
}

static int start_mkdir(struct batch *b, struct slot *s, struct req *q)
{
	uint32_t mode = 0777;
	int given, parents;
	uint8_t *p;
	size_t n;

	if (f_bytes(b, q, F_PATH, &p, &n) != 0 ||
	    f_mode(b, q, &mode, &given) != 0 ||
	    f_bool(b, q, F_PARENTS, &parents) != 0)
		return -1;
	return issued(b, s, rpc_mkdir(RPC(b), &s->call, p, n,
	    (parents ? RPC_MKDIR_PARENTS : 0) | (given ? RPC_MKDIR_EXACT : 0),
	    mode));
}

static int start_rm(struct batch *b, struct slot *s, struct req *q)
{
	int recursive, dir;
	uint8_t *p;
	size_t n;

	if (f_bytes(b, q, F_PATH, &p, &n) != 0 ||
	    f_bool(b, q, F_RECURSIVE, &recursive) != 0 ||
	    f_bool(b, q, F_DIR, &dir) != 0 ||
	    f_bool(b, q, F_FORCE, &s->force) != 0)
		return -1;
	return issued(b, s, rpc_remove(RPC(b), &s->call, p, n,
	    (recursive ? RPC_REMOVE_RECURSIVE : 0) |
	    (dir ? RPC_REMOVE_DIR : 0)));
}

static int start_mv(struct batch *b, struct slot *s, struct req *q)
{
	uint8_t *from, *to;
	size_t fn, tn;

	if (f_bytes(b, q, F_FROM, &from, &fn) != 0 ||
	    f_bytes(b, q, F_TO, &to, &tn) != 0)
		return -1;
	return issued(b, s, rpc_rename(RPC(b), &s->call, from, fn, to, tn));
}

static int start_chmod(struct batch *b, struct slot *s, struct req *q)
{
	uint32_t mode = 0;
	int given;
	uint8_t *p;
	size_t n;

	if (f_bytes(b, q, F_PATH, &p, &n) != 0 ||
	    f_mode(b, q, &mode, &given) != 0)
		return -1;
	return issued(b, s, rpc_chmod(RPC(b), &s->call, p, n, mode));
}

static int start_chown(struct batch *b, struct slot *s, struct req *q)
{
	int64_t uid = RPC_ID_NONE, gid = RPC_ID_NONE;
	int nofollow;
	uint8_t *p;
	size_t n;

	if (f_bytes(b, q, F_PATH, &p, &n) != 0 ||
	    f_int(b, q, F_UID, 0, RPC_ID_NONE - 1, &uid) != 0 ||
	    f_int(b, q, F_GID, 0, RPC_ID_NONE - 1, &gid) != 0 ||
	    f_bool(b, q, F_NOFOLLOW, &nofollow) != 0)
		return -1;
	if (q->f[F_UID] == 0 && q->f[F_GID] == 0)
		return req_bad(b, &q->h, "missing field \"uid\" or \"gid\"");
	return issued(b, s, rpc_chown(RPC(b), &s->call, p, n, (uint32_t)uid,
	    (uint32_t)gid, nofollow ? RPC_CHOWN_NOFOLLOW : 0));
}

static int start_symlink(struct batch *b, struct slot *s, struct req *q)
{
	uint8_t *target, *p;
	size_t tn, n;

	if (f_bytes(b, q, F_TARGET, &target, &tn) != 0 ||
	    f_bytes(b, q, F_PATH, &p, &n) != 0)
		return -1;
	return issued(b, s, rpc_symlink(RPC(b), &s->call, target, tn, p, n));
}

static int start_readlink(struct batch *b, struct slot *s, struct req *q)
{
	uint8_t *p;
	size_t n;

	if (f_bytes(b, q, F_PATH, &p, &n) != 0)
		return -1;
	return issued(b, s, rpc_readlink(RPC(b), &s->call, p, n));
}

static int touch_times(struct batch *b, struct slot *s)
{
	uint32_t ns = s->time_given ? 0 : RPC_UTIME_NOW;

	return rpc_utime(RPC(b), &s->call, s->data.p, s->data.len, 0, s->time,
	    ns, s->time, ns);
}

/* touch: the times; a missing file is then made and the times set. */
static int start_touch(struct batch *b, struct slot *s, struct req *q)
{
	uint8_t *p;
	size_t n;

	if (f_bytes(b, q, F_PATH, &p, &n) != 0 ||
	    f_int(b, q, F_TIME, INT64_MIN, INT64_MAX, &s->time) != 0)
		return -1;
	s->time_given = q->f[F_TIME] != 0;
	if (mem_append(&s->data, p, n) != 0)
		return local_error(b, &s->h, ENOMEM, NULL);
	return issued(b, s, touch_times(b, s));
}

/* 1 if a touch went on to its next step (or was answered doing so). */
static int touch_next(struct batch *b, struct slot *s)
{
	struct rpc_call *c = &s->call;
	int rc;

	if (s->stage == 0 && c->final == RPC_R_ERROR &&
	    rpc_err_to_errno(c->err) == ENOENT) {
		rpc_call_release(c);
		rpc_call_init(c, slot_reply, s);
		rc = rpc_source_mem(c, "", 0);
		if (rc == 0)
			rc = rpc_write(RPC(b), c, s->data.p, s->data.len,
			    RPC_WRITE_APPEND, 0);
	} else if (s->stage == 1 && c->final == RPC_R_DONE) {
		rpc_call_release(c);
		rpc_call_init(c, slot_reply, s);
		rc = touch_times(b, s);
	} else {
		return 0;
	}
	s->stage++;
	if (issued(b, s, rc) != 0)
		slot_put(b, s);
	return 1;
}

static int f_argv(struct batch *b, struct req *q)
{
	const struct json_doc *d = q->d;
	uint32_t v = q->f[F_ARGV], e, k, n;
	char nb[48];

	if (json_type(d, v) != JSON_ARRAY || (n = d->tok[v].size) == 0 ||
	    n > BATCH_MAX_ARGV)
		return req_bad(b, &q->h, "field \"%s\": expected an array of "
		    "1 to %d strings", fname(q, F_ARGV, nb, sizeof nb),
		    BATCH_MAX_ARGV);
	for (k = 0, e = json_first(d, v); k < n; k++, e = json_next(d, e))
		if (decode_cstr(b, q, F_ARGV, e, &b->argv[k]) != 0)
			return -1;
	b->argv[n] = NULL;
	return 0;
}

/* env: {"NAME": "VALUE" to set, or null to unset}, in order. */
static int f_env(struct batch *b, struct req *q, size_t *nenv)
{
	const struct json_doc *d = q->d;
	uint32_t v = q->f[F_ENV], k, m, n;
	char *name, *val, nb[48];

	*nenv = 0;
	if (v == 0)
		return 0;
	fname(q, F_ENV, nb, sizeof nb);
	if (json_type(d, v) != JSON_OBJECT || (n = d->tok[v].size) >
	    BATCH_MAX_ENV)
		return req_bad(b, &q->h, "field \"%s\": expected an object of "
		    "at most %d members", nb, BATCH_MAX_ENV);
	for (m = 0, k = json_first(d, v); m < n; m++) {
		if (decode_cstr(b, q, F_ENV, k, &name) != 0)
			return -1;
		if (*name == '\0' || strchr(name, '=') != NULL)
			return req_bad(b, &q->h, "field \"%s\": bad name", nb);
		b->env[m] = name;
		b->envop[m] = RPC_ENV_UNSET;
		if (json_type(d, k + 1) != JSON_NULL) {
			/* NAME's NUL becomes '=': VALUE is decoded after it. */
			if (decode_cstr(b, q, F_ENV, k + 1, &val) != 0)
				return -1;
			val[-1] = '=';
			b->envop[m] = RPC_ENV_SET;
		}
		k = json_next(d, k + 1);
	}
	*nenv = n;
	return 0;
}

static int start_exec(struct batch *b, struct slot *s, struct req *q)
{
	struct rpc_exec_req x;
	int64_t tmo = 0, cap = BATCH_CAPTURE;
	int clear, merge, src;
	char *cwd;

	memset(&x, 0, sizeof x);
	if (f_argv(b, q) != 0 || f_env(b, q, &x.nenv) != 0 ||
	    f_cstr(b, q, F_CWD, &cwd) != 0 ||
	    f_bool(b, q, F_CLEAR_ENV, &clear) != 0 ||
	    f_bool(b, q, F_MERGE_STDERR, &merge) != 0 ||
	    f_int(b, q, F_TIMEOUT, 0, BATCH_MAX_TIMEOUT, &tmo) != 0 ||
	    f_int(b, q, F_MAX_OUTPUT, 0, BATCH_CAPTURE_MAX, &cap) != 0 ||
	    f_encoding(b, q, &s->b64) != 0 ||
	    f_source(b, q, s, F_STDIN, F_STDIN_FILE, &src) != 0)
		return -1;
	x.flags = (clear ? RPC_EXEC_CLEAR_ENV : 0) |
	    (merge ? RPC_EXEC_MERGE_ERR : 0) | (src ? 0 : RPC_EXEC_NO_STDIN);
	x.timeout_ms = (uint32_t)tmo * 1000;
	x.cwd = cwd;
	x.argv = b->argv;
	x.env_ops = b->envop;
	x.env_strs = b->env;
	if (rpc_sink_mem(&s->call, RPC_CHAN_OUT, BATCH_WINDOW,
	    (size_t)cap) != 0 || (!merge && rpc_sink_mem(&s->call,
	    RPC_CHAN_ERR, BATCH_WINDOW, (size_t)cap) != 0))
		return local_error(b, &s->h, ENOMEM, NULL);
	return issued(b, s, rpc_exec(RPC(b), &s->call, &x));
}

/* The oldest request in flight whose id is written as field f's value. */
static struct slot *find_request(struct batch *b, struct req *q,
    const struct slot *self)
{
	const struct json_tok *t = &q->d->tok[q->f[F_REQUEST]];
	const char *id = q->d->text + t->pos;
	size_t len = t->len;
	struct slot *s, *best = NULL;
	int k;

	if (t->type == JSON_STRING) {
		id--;
		len += 2;
	}
	for (k = 0; k < b->max; k++) {
		s = &b->slots[k];
		if (s->op == NULL || s == self || s->h.id == NULL ||
		    s->h.idlen != len || memcmp(s->h.id, id, len) != 0 ||
		    s->call.done)
			continue;
		if (best == NULL || s->h.line < best->h.line)
			best = s;
	}
	return best;
}

static int target_of(struct batch *b, struct req *q, struct slot *s,
    struct slot **t)
{
	int type = json_type(q->d, q->f[F_REQUEST]);

	if (type == JSON_ARRAY || type == JSON_OBJECT)
		return req_bad(b, &q->h, "field \"request\": expected the id "
		    "of a request");
	if ((*t = find_request(b, q, s)) == NULL) {
		answer_error(b, &s->h, "ESRCH", "no request with that id in "
		    "flight", NULL, 0);
		return -1;
	}
	return 0;
}

static int start_signal(struct batch *b, struct slot *s, struct req *q)
{
	uint32_t v = q->f[F_SIGNAL], sig = 0;
	struct slot *t;
	int64_t n;
	char name[16];
	size_t len;
	int group;

	if (json_get_int(q->d, v, &n) == 0 && n > 0 && n < 65)
		sig = (uint32_t)n;
	else if (json_get_string(q->d, v, name, sizeof name - 1, &len) == 0) {
		name[len] = '\0';
		if (memchr(name, '\0', len) == NULL)
			sig = rpc_sig_parse(name);
	}
	if (sig == 0)
		return req_bad(b, &q->h, "field \"signal\": expected a name "
		    "such as \"TERM\" or a number from 1 to 64");
	if (f_bool(b, q, F_GROUP, &group) != 0 ||
	    target_of(b, q, s, &t) != 0)
		return -1;
	if (t->queued) {
		answer_error(b, &s->h, "ESRCH", "that request has not started "
		    "yet", NULL, 0);
		return -1;
	}
	return issued(b, s, rpc_signal(RPC(b), &s->call, t->call.id, sig,
	    group ? RPC_SIGNAL_GROUP : 0));
}

/* A queued exec is ended here; anything else by the agent. */
static int start_cancel(struct batch *b, struct slot *s, struct req *q)
{
	struct slot *t;

	if (target_of(b, q, s, &t) != 0)
		return -1;
	if (!t->queued)
		return issued(b, s, rpc_cancel(RPC(b), &s->call, t->call.id));
	answer_error(b, &t->h, "ECANCELED", strerror(ECANCELED), NULL, 0);
	slot_put(b, t);
	answer_head(&s->h, 1);
	fputs("}\n", stdout);
	return -1;
}

/* info: what the hello and the deployment said; nothing to send. */
static int start_info(struct batch *b, struct slot *s, struct req *q)
{
	const struct cli *cli = b->cli;

	(void)q;
	answer_head(&s->h, 1);
	fputs(",\"system\":", stdout);
	json_str(stdout, cli->agent.sysname);
	fputs(",\"kernel\":", stdout);
	json_str(stdout, cli->agent.release);
	fputs(",\"machine\":", stdout);
	json_str(stdout, cli->agent.machine);
	fputs(",\"agent_sha256\":", stdout);
	json_str(stdout, cli->agent.exe_sha256);
	printf(",\"agent_pid\":%u,\"protocol\":%u", cli->agent.pid,
	    cli->agent.version);
	if (!cli->local) {
		fputs(",\"arch\":", stdout);
		json_str(stdout, cli->deploy.arch);
		fputs(",\"endian\":", stdout);
		json_str(stdout, cli->deploy.endian);
		fputs(",\"cache\":", stdout);
		json_str(stdout, cli->deploy.cache);
		printf(",\"uploaded\":%s,\"upload_bytes\":%zu",
		    cli->deploy.uploaded ? "true" : "false",
		    cli->deploy.upload_bytes);
	}
	fputs("}\n", stdout);
	return -1;
}

/* Successes. */

static uint32_t answer_none(struct slot *s)
{
	answer_head(&s->h, 1);
	return 0;
}

static uint32_t answer_stat(struct slot *s)
{
	answer_head(&s->h, 1);
	json_stat_fields(&s->call.st);
	return 0;
}

/* Captured bytes as "KEY":"text" or "KEY_b64":"base64". */
static void answer_data(const char *key, const struct rpc_sink *k, int b64)
{
	const uint8_t *p = k->mem != NULL ? k->mem : (const uint8_t *)"";

	printf(",\"%s%s\":", key, b64 ? "_b64" : "");
	if (b64)
		json_b64(stdout, p, k->mem_len);
	else
		json_bytes(stdout, p, k->mem_len);
}

static uint32_t answer_read(struct slot *s)
{
	const struct rpc_sink *k = s->call.sink[RPC_CHAN_OUT];
	int more = s->offset < s->size && s->size - s->offset > k->mem_len;

	if (k->truncated)
		return rpc_err_from_errno(ENOMEM);
	answer_head(&s->h, 1);
	printf(",\"size\":%llu,\"offset\":%llu,\"length\":%zu,"
	    "\"truncated\":%s", (unsigned long long)s->size,
	    (unsigned long long)s->offset, k->mem_len, more ? "true" :
	    "false");
	answer_data("data", k, s->b64);
	return 0;
}

static uint32_t answer_sum(struct slot *s)
{
	int i;

	answer_head(&s->h, 1);
	printf(",\"size\":%llu,\"sha256\":\"",
	    (unsigned long long)s->call.size);
	for (i = 0; i < 32; i++)
		printf("%02x", s->call.digest[i]);
	fputc('"', stdout);
	return 0;
}

static uint32_t answer_df(struct slot *s)
{
	const struct rpc_statvfs *v = &s->call.vfs;
	uint64_t unit = v->frsize ? v->frsize : v->bsize;

	answer_head(&s->h, 1);
	printf(",\"bsize\":%llu,\"frsize\":%llu,\"blocks\":%llu,"
	    "\"bfree\":%llu,\"bavail\":%llu,\"files\":%llu,\"ffree\":%llu,"
	    "\"favail\":%llu,\"namemax\":%llu,\"readonly\":%s,"
	    "\"size_bytes\":%llu,\"used_bytes\":%llu,\"avail_bytes\":%llu",
	    (unsigned long long)v->bsize, (unsigned long long)v->frsize,
	    (unsigned long long)v->blocks, (unsigned long long)v->bfree,
	    (unsigned long long)v->bavail, (unsigned long long)v->files,
	    (unsigned long long)v->ffree, (unsigned long long)v->favail,
	    (unsigned long long)v->namemax, (v->flags & 1) ? "true" : "false",
	    (unsigned long long)(v->blocks * unit),
	    (unsigned long long)((v->blocks - v->bfree) * unit),
	    (unsigned long long)(v->bavail * unit));
	return 0;
}

static uint32_t answer_put(struct slot *s)
{
	answer_head(&s->h, 1);
	printf(",\"size\":%llu", (unsigned long long)s->call.size);
	return 0;
}

static uint32_t answer_readlink(struct slot *s)
{
	if (s->call.link == NULL)
		return rpc_err_from_errno(ENOMEM);
	answer_head(&s->h, 1);
	fputs(",\"target\":", stdout);
	json_bytes(stdout, s->call.link, s->call.link_len);
	return 0;
}

static int dirent_cmp(const void *a, const void *b)
{
	const struct rpc_dirent *x = a, *y = b;
	size_t n = x->name.n < y->name.n ? x->name.n : y->name.n;
	int c = memcmp(x->name.p, y->name.p, n);

	if (c != 0)
		return c;
	return x->name.n < y->name.n ? -1 : x->name.n > y->name.n;
}

static int is_dot(const struct rpc_bytes *n)
{
	return (n->n == 1 && n->p[0] == '.') ||
	    (n->n == 2 && n->p[0] == '.' && n->p[1] == '.');
}

static void ls_entry(const struct rpc_dirent *e)
{
	fputs("{\"name\":", stdout);
	json_bytes(stdout, e->name.p, e->name.n);
	if (e->err != 0) {
		printf(",\"error\":\"%s\"}", rpc_err_name(e->err));
		return;
	}
	json_stat_fields(&e->st);
	if (e->st.type == RPC_T_LNK) {
		fputs(",\"target\":", stdout);
		json_bytes(stdout, e->link.p, e->link.n);
	}
	fputc('}', stdout);
}

/* The listing kept in the slot, sorted by name, without . and .. */
static uint32_t answer_ls(struct slot *s)
{
	struct rpc_dirent d, *e;
	struct buf bb;
	size_t n = 0, k, shown = 0;
	int rc;

	if (s->oom)
		return rpc_err_from_errno(ENOMEM);
	buf_view(&bb, s->data.p, s->data.len);
	while ((rc = rpc_dirent_next(&bb, &d)) == 1)
		n++;
	if (rc < 0)
		return rpc_err_from_errno(EPROTO);
	if ((e = calloc(n ? n : 1, sizeof *e)) == NULL)
		return rpc_err_from_errno(ENOMEM);
	buf_view(&bb, s->data.p, s->data.len);
	for (k = 0; k < n; k++)
		rpc_dirent_next(&bb, &e[k]);
	qsort(e, n, sizeof *e, dirent_cmp);
	answer_head(&s->h, 1);
	fputs(",\"entries\":[", stdout);
	for (k = 0; k < n; k++) {
		if (is_dot(&e[k].name))
			continue;
		if (shown++ > 0)
			fputc(',', stdout);
		ls_entry(&e[k]);
	}
	fputc(']', stdout);
	free(e);
	return 0;
}

static uint32_t answer_exec(struct slot *s)
{
	const struct rpc_call *c = &s->call;
	const char *sig = rpc_sig_name(c->exit_value);
	uint32_t num = c->exit_value >= RPC_SIG_RAW ?
	    c->exit_value - RPC_SIG_RAW : c->exit_value;

	answer_head(&s->h, 1);
	printf(",\"pid\":%u", c->pid);
	if (c->exit_kind == RPC_EXIT_CODE)
		printf(",\"exit_code\":%u,\"status\":%u,\"signal\":null",
		    c->exit_value & 0xff, c->exit_value & 0xff);
	else if (sig != NULL)
		printf(",\"exit_code\":null,\"status\":%u,\"signal\":\"%s\"",
		    128 + num, sig);
	else
		printf(",\"exit_code\":null,\"status\":%u,\"signal\":%u",
		    128 + num, num);
	printf(",\"timed_out\":%s,\"core_dumped\":%s",
	    c->exit_kind == RPC_EXIT_TIMEOUT ? "true" : "false",
	    (c->exit_flags & RPC_EXIT_CORE) ? "true" : "false");
	answer_data("stdout", c->sink[RPC_CHAN_OUT], s->b64);
	printf(",\"stdout_truncated\":%s",
	    c->sink[RPC_CHAN_OUT]->truncated ? "true" : "false");
	if (c->sink[RPC_CHAN_ERR] != NULL) {
		answer_data("stderr", c->sink[RPC_CHAN_ERR], s->b64);
		printf(",\"stderr_truncated\":%s",
		    c->sink[RPC_CHAN_ERR]->truncated ? "true" : "false");
	}
	if (c->source != NULL && c->source->error != 0)
		printf(",\"stdin_error\":\"%s\"",
		    rpc_err_name(rpc_err_from_errno(c->source->error)));
	return 0;
}

#define PATHS	(B(F_PATH))
#define IO	(B(F_ENCODING))

static const struct op ops[] = {
	{ "stat", NULL, OP_STAT, PATHS | B(F_FOLLOW), PATHS, RPC_R_STAT,
	  start_stat, answer_stat },
	{ "ls", "list", OP_LS, PATHS, PATHS, RPC_R_DIRENTS, start_ls,
	  answer_ls },
	{ "read", "cat", OP_READ, PATHS | B(F_OFFSET) | B(F_LENGTH) | IO,
	  PATHS, RPC_R_DONE, start_read, answer_read },
	{ "sum", NULL, OP_SUM, PATHS, PATHS, RPC_R_SUM, start_sum,
	  answer_sum },
	{ "df", "statvfs", OP_DF, PATHS, PATHS, RPC_R_STATVFS, start_df,
	  answer_df },
	{ "put", "write", OP_PUT, PATHS | B(F_DATA) | B(F_FILE) | B(F_MODE) |
	  B(F_APPEND) | B(F_FSYNC) | B(F_EXCL), PATHS, RPC_R_DONE, start_put,
	  answer_put },
	{ "mkdir", NULL, OP_MKDIR, PATHS | B(F_PARENTS) | B(F_MODE), PATHS,
	  RPC_R_OK, start_mkdir, answer_none },
	{ "rm", "remove", OP_RM, PATHS | B(F_RECURSIVE) | B(F_FORCE) |
	  B(F_DIR), PATHS, RPC_R_OK, start_rm, answer_none },
	{ "mv", "rename", OP_MV, B(F_FROM) | B(F_TO), B(F_FROM) | B(F_TO),
	  RPC_R_OK, start_mv, answer_none },
	{ "chmod", NULL, OP_CHMOD, PATHS | B(F_MODE), PATHS | B(F_MODE),
	  RPC_R_OK, start_chmod, answer_none },
	{ "chown", NULL, OP_CHOWN, PATHS | B(F_UID) | B(F_GID) |
	  B(F_NOFOLLOW), PATHS, RPC_R_OK, start_chown, answer_none },
	{ "symlink", "ln", OP_SYMLINK, PATHS | B(F_TARGET),
	  PATHS | B(F_TARGET), RPC_R_OK, start_symlink, answer_none },
	{ "readlink", NULL, OP_READLINK, PATHS, PATHS, RPC_R_LINK,
	  start_readlink, answer_readlink },
	{ "touch", "utime", OP_TOUCH, PATHS | B(F_TIME), PATHS, RPC_R_OK,
	  start_touch, answer_none },
	{ "exec", NULL, OP_EXEC, B(F_ARGV) | B(F_CWD) | B(F_ENV) |
	  B(F_CLEAR_ENV) | B(F_TIMEOUT) | B(F_STDIN) | B(F_STDIN_FILE) |
	  B(F_MERGE_STDERR) | B(F_MAX_OUTPUT) | IO, B(F_ARGV), RPC_R_EXIT,
	  start_exec, answer_exec },
	{ "signal", NULL, OP_SIGNAL, B(F_REQUEST) | B(F_SIGNAL) | B(F_GROUP),
	  B(F_REQUEST) | B(F_SIGNAL), RPC_R_OK, start_signal, answer_none },
	{ "cancel", NULL, OP_CANCEL, B(F_REQUEST), B(F_REQUEST), RPC_R_OK,
	  start_cancel, answer_none },
	{ "info", NULL, OP_INFO, 0, 0, 0, start_info, answer_none },
};

/* The agent's message is "operation [path]": the path, when it names
 * another than the request's (deep inside rm -r, say). */
static const char *detail_of(const char *msg)
{
	const char *sp = strchr(msg, ' ');

	return sp != NULL ? sp + 1 : NULL;
}

/* A call is over: its answer, or its next step. */
static void finish_slot(struct batch *b, struct slot *s)
{
	const struct rpc_call *c = &s->call;
	uint32_t err;

	if (s->op->kind == OP_TOUCH && touch_next(b, s))
		return;
	if (s->op->kind == OP_PUT && c->source != NULL &&
	    c->source->error != 0) {
		local_error(b, &s->h, c->source->error, NULL);
		slot_put(b, s);
		return;
	}
	if (c->final == RPC_R_ERROR && s->force &&
	    rpc_err_to_errno(c->err) == ENOENT)
		err = answer_none(s);
	else if (c->final == RPC_R_ERROR)
		err = c->err != 0 ? c->err : rpc_err_from_errno(EIO);
	else if (c->final != s->op->reply)
		err = rpc_err_from_errno(EPROTO);
	else
		err = s->op->answer(s);
	if (err == 0)
		fputs("}\n", stdout);
	else if (c->final == RPC_R_ERROR)
		answer_error(b, &s->h, rpc_err_name(err),
		    rpc_strerror(err, c->errmsg), detail_of(c->errmsg), 0);
	else
		answer_error(b, &s->h, rpc_err_name(err),
		    strerror(rpc_err_to_errno(err)), NULL, 1);
	slot_put(b, s);
}

/* Lines. */

static const struct op *req_op(struct batch *b, struct req *q)
{
	uint32_t v = json_member(q->d, 0, "op");
	char name[32];
	size_t k, n;

	if (v == 0) {
		req_bad(b, &q->h, "missing field \"op\"");
		return NULL;
	}
	for (k = 0; k < sizeof ops / sizeof ops[0]; k++)
		if (json_string_is(q->d, v, ops[k].name) ||
		    (ops[k].alias != NULL &&
		    json_string_is(q->d, v, ops[k].alias))) {
			q->h.op = ops[k].name;
			return &ops[k];
		}
	if (json_get_string(q->d, v, name, sizeof name - 1, &n) != 0)
		n = 0;
	name[n] = '\0';
	req_bad(b, &q->h, "unknown op \"%s\"", name);
	return NULL;
}

/* The id, echoed as written: any scalar. */
static int req_id(struct batch *b, struct req *q)
{
	uint32_t v = json_member(q->d, 0, "id");
	const struct json_tok *t;
	int type = json_type(q->d, v);
	size_t pos, len;

	if (v == 0)
		return 0;
	if (type == JSON_ARRAY || type == JSON_OBJECT)
		return req_bad(b, &q->h, "field \"id\": expected a string, "
		    "number, boolean or null");
	t = &q->d->tok[v];
	pos = t->pos - (type == JSON_STRING);
	len = t->len + (type == JSON_STRING ? 2 : 0);
	if (len > BATCH_MAX_ID)
		return req_bad(b, &q->h, "field \"id\": longer than %d bytes",
		    BATCH_MAX_ID);
	q->h.id = q->d->text + pos;
	q->h.idlen = len;
	return 0;
}

static int blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

/* Issue the request q of slot s, or answer it. */
static void start_slot(struct batch *b, struct slot *s, struct req *q)
{
	q->h = s->h;
	b->scratch_len = 0;
	if (s->op->start(b, s, q) != 0)
		slot_put(b, s);
}

static void handle_line(struct batch *b, const char *line, size_t len,
    unsigned long lineno)
{
	const struct op *op;
	struct slot *s;
	struct req q;

	memset(&q, 0, sizeof q);
	q.h.line = lineno;
	q.d = &b->doc;
	if (blank(line, len))
		return;
	if (json_parse(&b->doc, line, len, b->tok, BATCH_MAX_TOKENS) != 0) {
		req_bad(b, &q.h, "invalid JSON at line %lu, column %zu: %s",
		    lineno, b->doc.err_pos + 1, b->doc.err);
		return;
	}
	if (json_type(&b->doc, 0) != JSON_OBJECT) {
		req_bad(b, &q.h, "a request is a JSON object");
		return;
	}
	if (req_id(b, &q) != 0 || (op = req_op(b, &q)) == NULL ||
	    req_fields(b, &q, op) != 0)
		return;
	if (b->lost) {
		answer_lost(b, &q.h);
		return;
	}
	if ((s = slot_take(b, &q.h, op)) == NULL) {
		local_error(b, &q.h, EAGAIN, NULL);	/* not reached */
		return;
	}
	if (!s->queued)
		start_slot(b, s, &q);
	else if (mem_append(&s->line, line, len) != 0) {
		local_error(b, &s->h, ENOMEM, NULL);
		slot_put(b, s);
	}
}

/* Queued execs start, oldest first, as processes end: their lines are
 * parsed again (they were checked when read). */
static void start_queued(struct batch *b)
{
	struct slot *s, *first;
	struct req q;
	int k;

	while (b->procs < BATCH_MAX_PROCS) {
		first = NULL;
		for (k = 0; k < b->max; k++) {
			s = &b->slots[k];
			if (s->op != NULL && s->queued && (first == NULL ||
			    s->h.line < first->h.line))
				first = s;
		}
		if (first == NULL)
			return;
		first->queued = 0;
		b->procs++;
		memset(&q, 0, sizeof q);
		q.h = first->h;
		q.d = &b->doc;
		if (json_parse(&b->doc, (const char *)first->line.p,
		    first->line.len, b->tok, BATCH_MAX_TOKENS) != 0) {
			req_bad(b, &q.h, "request lost");	/* not reached */
			slot_put(b, first);
		} else if (req_fields(b, &q, first->op) != 0) {
			slot_put(b, first);
		} else {
			start_slot(b, first, &q);
		}
	}
}

static void in_too_long(struct batch *b, unsigned long lineno)
{
	struct head h = { lineno, NULL, 0, NULL };
	char msg[80];

	snprintf(msg, sizeof msg, "line %lu is longer than %u bytes", lineno,
	    BATCH_MAX_LINE);
	answer_error(b, &h, "E2BIG", msg, NULL, 0);
}

/* Find the next whole line (the last one may lack its newline); a line
 * too long is answered and skipped. */
static void in_scan(struct batch *b)
{
	struct input *in = &b->in;
	char *nl;

	while (!in->have_line) {
		nl = memchr(in->buf + in->scan, '\n', in->len - in->scan);
		if (nl != NULL && in->skipping) {
			in->start = in->scan = (size_t)(nl - in->buf) + 1;
			in->skipping = 0;
			continue;
		}
		if (nl != NULL) {
			in->line_len = (size_t)(nl - in->buf) - in->start;
			in->have_line = 1;
			return;
		}
		in->scan = in->len;
		if (in->skipping) {
			in->start = in->len;
			return;
		}
		if (in->len - in->start > BATCH_MAX_LINE) {
			in_too_long(b, ++in->lineno);
			in->skipping = 1;
			continue;
		}
		if (in->eof && in->len > in->start) {
			in->line_len = in->len - in->start;
			in->have_line = 1;
		}
		return;
	}
}

static void in_take(struct input *in)
{
	in->start += in->line_len;
	if (in->start < in->len)
		in->start++;	/* the newline */
	in->scan = in->start;
	in->have_line = 0;
	in->lineno++;
}

static void in_read(struct batch *b)
{
	struct input *in = &b->in;
	ssize_t n;

	if (in->start > 0) {
		memmove(in->buf, in->buf + in->start, in->len - in->start);
		in->len -= in->start;
		in->scan -= in->start;
		in->start = 0;
	}
	if (in->len == SCRATCH_SIZE)
		return;		/* in_scan has taken or dropped a line */
	n = read(in->fd, in->buf + in->len, SCRATCH_SIZE - in->len);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n < 0) {
		warnx_("batch: reading requests: %s", strerror(errno));
		b->failed = 1;
	}
	if (n <= 0)
		in->eof = 1;
	else
		in->len += (size_t)n;
	in_scan(b);
}

/* Take lines while there is room for them. */
static void batch_feed(struct batch *b)
{
	struct input *in = &b->in;

	in_scan(b);
	while (in->have_line && b->busy < b->max) {
		if (ferror(stdout)) {
			/* Nobody reads the answers: stop taking requests. */
			in->eof = 1;
			in->have_line = 0;
			in->start = in->len;
			b->failed = 1;
			return;
		}
		handle_line(b, in->buf + in->start, in->line_len,
		    in->lineno + 1);
		in_take(in);
		in_scan(b);
	}
}

static void batch_collect(struct batch *b)
{
	int k;

	b->ready = 0;
	for (k = 0; k < b->max; k++)
		if (b->slots[k].op != NULL && !b->slots[k].queued &&
		    rpc_call_finished(&b->slots[k].call))
			finish_slot(b, &b->slots[k]);
	start_queued(b);
}

static int batch_over(const struct batch *b)
{
	return b->in.eof && !b->in.have_line && b->busy == 0;
}

/* For rpc_run: whether the loop above has something to do. */
static int batch_ready(void *arg)
{
	struct batch *b = arg;

	return b->ready || batch_over(b) || (b->in.have_line &&
	    b->busy < b->max);
}

/* The watch: stdin while no line waits; answers go out before poll. */
static int batch_pollfds(void *arg, struct pollfd *pfd, int max)
{
	struct batch *b = arg;

	fflush(stdout);
	if (max < 1 || b->in.eof || b->in.have_line)
		return 0;
	pfd[0].fd = b->in.fd;
	pfd[0].events = POLLIN;
	return 1;
}

static void batch_process(void *arg, const struct pollfd *pfd, int n)
{
	if (n >= 1 && pfd[0].revents != 0)
		in_read(arg);
}

/* The session is gone: every request read and not answered fails. */
static int batch_lost(struct batch *b)
{
	const char *why = rpc_client_error(RPC(b));
	int k;

	b->lost = 1;
	warnx_("batch: %s", why != NULL ? why : "session failed");
	for (k = 0; k < b->max; k++)
		if (b->slots[k].op != NULL) {
			answer_lost(b, &b->slots[k].h);
			slot_put(b, &b->slots[k]);
		}
	fflush(stdout);
	return EXIT_CONN;
}

static int batch_run(struct batch *b)
{
	rpc_client_watch(RPC(b), batch_pollfds, batch_process, b);
	for (;;) {
		batch_collect(b);
		batch_feed(b);
		if (b->lost || rpc_client_error(RPC(b)) != NULL)
			return batch_lost(b);
		if (batch_over(b))
			break;
		if (rpc_run(RPC(b), batch_ready, b) != 0)
			return batch_lost(b);
	}
	rpc_client_watch(RPC(b), NULL, NULL, NULL);
	if (fflush(stdout) != 0 || ferror(stdout))
		b->failed = 1;
	return b->failed ? EXIT_FAIL : 0;
}

static void batch_free(struct batch *b)
{
	int k;

	if (b == NULL)
		return;
	for (k = 0; b->slots != NULL && k < b->max; k++) {
		if (b->slots[k].op != NULL)
			slot_put(b, &b->slots[k]);
		free(b->slots[k].data.p);
		free(b->slots[k].line.p);
	}
	free(b->slots);
	free(b->in.buf);
	free(b->tok);
	free(b->scratch);
	free(b);
}

static struct batch *batch_new(struct cli *cli, int max)
{
	struct batch *b;
	int k;

	if ((b = calloc(1, sizeof *b)) == NULL)
		return NULL;
	b->cli = cli;
	b->max = max;
	b->in.fd = STDIN_FILENO;
	b->slots = calloc((size_t)max, sizeof *b->slots);
	b->in.buf = malloc(SCRATCH_SIZE);
	b->tok = calloc(BATCH_MAX_TOKENS, sizeof *b->tok);
	b->scratch = malloc(SCRATCH_SIZE);
	if (b->slots == NULL || b->in.buf == NULL || b->tok == NULL ||
	    b->scratch == NULL) {
		batch_free(b);
		return NULL;
	}
	for (k = 0; k < max; k++) {
		b->slots[k].b = b;
		b->slots[k].fd = -1;
	}
	return b;
}

enum { OPT_INFLIGHT = 256 };

static int batch_opt(struct cli *cli, void *arg, int ch, const char *val)
{
	uint32_t *n = arg;

	(void)cli;
	if (ch != OPT_INFLIGHT)
		return 0;
	if (parse_u32(val, n, "--inflight") != 0)
		return -1;
	if (*n < 1 || *n > MAX_INFLIGHT) {
		warnx_("--inflight: 1 to %d", MAX_INFLIGHT);
		return -1;
	}
	return 0;
}

int cmd_batch(struct cli *cli, int argc, char **argv)
{
	static const struct optdef defs[] = { { OPT_INFLIGHT, "inflight", 1 },
	    { 0, 0, 0 } };
	const char *host = NULL;
	uint32_t n = MAX_INFLIGHT;
	struct batch *b;
	int i = 0, rc;

	if (parse_opts(cli, argc, argv, &i, defs, batch_opt, &n) != 0)
		return usage_error(cli);
	if (!cli->local) {
		if (i >= argc)
			return usage_error(cli);
		host = argv[i++];
		if (parse_opts(cli, argc, argv, &i, defs, batch_opt, &n) != 0)
			return usage_error(cli);
	}
	if (i != argc)
		return usage_error(cli);
	if ((b = batch_new(cli, (int)n)) == NULL) {
		warnx_("out of memory");
		return EXIT_FAIL;
	}
	if ((rc = connect_agent(cli, host)) == 0)
		rc = batch_run(b);
	batch_free(b);
	return rc;
}
