/*
 * rpcclient.c - the client side of the agent RPC, over any byte link.
 */
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "rpc.h"
#include "rpcclient.h"

#define FRAME_SPACE	(RPC_MAX_FRAME + 4)
#define RBUF_SIZE	(2 * FRAME_SPACE)
/* Sources stop reading while this much waits to be sent. */
#define SQ_HIGH		(4 * FRAME_SPACE)
#define MAX_POLL	256
#define DISCARD_WINDOW	(1024u * 1024)

#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC	0x0001u
#endif

struct rpc_client {
	struct rpc_link link;
	uint8_t *rbuf;
	size_t rlen;
	struct buf sq;
	uint32_t next_id;
	struct rpc_call *calls;
	int failed;
	char error[256];
	int (*w_pollfds)(void *, struct pollfd *, int);
	void (*w_process)(void *, const struct pollfd *, int);
	void *w_arg;
};

/* Decoding frames from the agent. */

static int get_rbytes(struct buf *b, struct rpc_bytes *s)
{
	return buf_get_string(b, &s->p, &s->n);
}

static int decode_hello(struct buf *b, struct rpc_hello *h)
{
	return buf_get_u32(b, &h->version) | buf_get_u32(b, &h->max_frame) |
	    get_rbytes(b, &h->build) | get_rbytes(b, &h->exe_sha256) |
	    get_rbytes(b, &h->sysname) | get_rbytes(b, &h->release) |
	    get_rbytes(b, &h->machine) | buf_get_u32(b, &h->pid);
}

static int decode_statvfs(struct buf *b, struct rpc_statvfs *v)
{
	return buf_get_u64(b, &v->bsize) | buf_get_u64(b, &v->frsize) |
	    buf_get_u64(b, &v->blocks) | buf_get_u64(b, &v->bfree) |
	    buf_get_u64(b, &v->bavail) | buf_get_u64(b, &v->files) |
	    buf_get_u64(b, &v->ffree) | buf_get_u64(b, &v->favail) |
	    buf_get_u64(b, &v->namemax) | buf_get_u32(b, &v->flags);
}

int rpc_decode_reply(const struct rpc_frame *f, struct rpc_reply *r)
{
	struct buf b;
	int rc = 0;

	memset(r, 0, sizeof *r);
	r->type = f->type;
	r->id = f->id;
	buf_view(&b, f->payload, f->len);
	switch (f->type) {
	case RPC_R_OK:
		break;
	case RPC_R_ERROR:
		rc = buf_get_u32(&b, &r->err) | get_rbytes(&b, &r->msg);
		break;
	case RPC_R_HELLO:
		rc = decode_hello(&b, &r->hello);
		break;
	case RPC_R_STAT:
		rc = rpc_get_stat(&b, &r->st);
		break;
	case RPC_R_DIRENTS:
		rc = buf_get_u32(&b, &r->dirents_flags) |
		    buf_get_u32(&b, &r->dirents_count);
		buf_view(&r->dirents, buf_ptr(&b), buf_avail(&b));
		break;
	case RPC_R_OPENED:
		rc = buf_get_u64(&b, &r->size) | buf_get_u32(&b, &r->window);
		break;
	case RPC_R_LINK:
		rc = get_rbytes(&b, &r->msg);
		break;
	case RPC_R_SUM:
		rc = buf_get_u64(&b, &r->size) |
		    buf_get_bytes(&b, r->digest, sizeof r->digest);
		break;
	case RPC_R_STATVFS:
		rc = decode_statvfs(&b, &r->vfs);
		break;
	case RPC_R_STARTED:
		rc = buf_get_u32(&b, &r->pid) | buf_get_u32(&b, &r->window);
		break;
	case RPC_R_EXIT:
		rc = buf_get_u32(&b, &r->exit_kind) |
		    buf_get_u32(&b, &r->exit_value) |
		    buf_get_u32(&b, &r->exit_flags);
		break;
	case RPC_R_DONE:
		rc = buf_get_u64(&b, &r->size);
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
		return -1;
	}
	if (rc == 0 && (f->type == RPC_S_DATA || f->type == RPC_S_EOF ||
	    f->type == RPC_S_WINDOW) && r->chan >= RPC_NCHAN)
		rc = -1;
	return rc != 0 ? -1 : 0;
}

int rpc_dirent_next(struct buf *b, struct rpc_dirent *d)
{
	if (buf_avail(b) == 0)
		return 0;
	if (get_rbytes(b, &d->name) != 0 || buf_get_u32(b, &d->err) != 0 ||
	    rpc_get_stat(b, &d->st) != 0 || get_rbytes(b, &d->link) != 0)
		return -1;
	return 1;
}

int rpc_reply_is_final(const struct rpc_reply *r)
{
	switch (r->type) {
	case RPC_R_OK:
	case RPC_R_ERROR:
	case RPC_R_HELLO:
	case RPC_R_STAT:
	case RPC_R_LINK:
	case RPC_R_SUM:
	case RPC_R_STATVFS:
	case RPC_R_EXIT:
	case RPC_R_DONE:
		return 1;
	case RPC_R_DIRENTS:
		return (r->dirents_flags & RPC_DIRENTS_LAST) != 0;
	default:
		return 0;
	}
}

/* The session. */

static void client_fail(struct rpc_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void client_fail(struct rpc_client *c, const char *fmt, ...)
{
	va_list ap;

	if (c->failed)
		return;
	c->failed = 1;
	va_start(ap, fmt);
	vsnprintf(c->error, sizeof c->error, fmt, ap);
	va_end(ap);
}

struct rpc_client *rpc_client_new(const struct rpc_link *link)
{
	struct rpc_client *c;
	void *sq;

	if ((c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	if ((c->rbuf = malloc(RBUF_SIZE)) == NULL ||
	    (sq = malloc(2 * FRAME_SPACE)) == NULL) {
		free(c->rbuf);
		free(c);
		return NULL;
	}
	buf_init(&c->sq, sq, 2 * FRAME_SPACE);
	c->link = *link;
	c->next_id = 1;
	return c;
}

void rpc_client_free(struct rpc_client *c)
{
	if (c == NULL)
		return;
	if (c->link.close != NULL)
		c->link.close(c->link.ctx);
	free(c->rbuf);
	free(c->sq.data);
	free(c);
}

const char *rpc_client_error(const struct rpc_client *c)
{
	return c->failed ? c->error : NULL;
}

void rpc_client_watch(struct rpc_client *c,
    int (*pollfds)(void *, struct pollfd *, int),
    void (*process)(void *, const struct pollfd *, int), void *arg)
{
	c->w_pollfds = pollfds;
	c->w_process = process;
	c->w_arg = arg;
}

/* Room for n more bytes in the send queue, growing it if need be. */
static int sq_ensure(struct rpc_client *c, size_t n)
{
	uint8_t *p;
	size_t cap;

	if (buf_room(&c->sq) >= n)
		return 0;
	buf_compact(&c->sq);
	if (buf_room(&c->sq) >= n)
		return 0;
	cap = c->sq.cap * 2;
	while (cap - c->sq.len < n)
		cap *= 2;
	if ((p = realloc(c->sq.data, cap)) == NULL)
		return -1;
	c->sq.data = p;
	c->sq.cap = cap;
	return 0;
}

static void call_link(struct rpc_client *c, struct rpc_call *call)
{
	call->next = c->calls;
	c->calls = call;
}

static void call_unlink(struct rpc_client *c, struct rpc_call *call)
{
	struct rpc_call **pp;

	for (pp = &c->calls; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == call) {
			*pp = call->next;
			call->next = NULL;
			return;
		}
	}
}

static struct rpc_call *call_find(struct rpc_client *c, uint32_t id)
{
	struct rpc_call *call;

	for (call = c->calls; call != NULL; call = call->next)
		if (call->id == id)
			return call;
	return NULL;
}

/* A frame of ours in the send queue: begin, putters, end. */
static int frame_begin(struct rpc_client *c, uint8_t type, uint32_t id,
    size_t *start)
{
	if (c->failed) {
		errno = EPIPE;
		return -1;
	}
	if (sq_ensure(c, FRAME_SPACE) != 0) {
		errno = ENOMEM;
		return -1;
	}
	return rpc_frame_begin(&c->sq, type, id, start);
}

/* rc carries the putters' results: any failure drops the frame. */
static int frame_end(struct rpc_client *c, size_t start, int rc)
{
	if (rc != 0 || rpc_frame_end(&c->sq, start) != 0) {
		c->sq.len = start;
		errno = E2BIG;
		return -1;
	}
	return 0;
}

static struct buf *req_begin(struct rpc_client *c, struct rpc_call *call,
    uint8_t type, size_t *start)
{
	uint32_t id = c->next_id++;

	if (c->next_id == RPC_SESSION_ID)
		c->next_id = 1;
	if (frame_begin(c, type, id, start) != 0)
		return NULL;
	call->client = c;
	call->id = id;
	call->type = type;
	call->done = 0;
	return &c->sq;
}

static int req_end(struct rpc_client *c, struct rpc_call *call, size_t start,
    int rc)
{
	if (frame_end(c, start, rc) != 0)
		return -1;
	call_link(c, call);
	return 0;
}

static int send_window(struct rpc_client *c, uint32_t id, uint8_t chan,
    uint32_t n)
{
	size_t st;

	if (frame_begin(c, RPC_S_WINDOW, id, &st) != 0)
		return -1;
	return frame_end(c, st, buf_put_u8(&c->sq, chan) |
	    buf_put_u32(&c->sq, n));
}

static int send_eof(struct rpc_client *c, uint32_t id, uint8_t chan)
{
	size_t st;

	if (frame_begin(c, RPC_S_EOF, id, &st) != 0)
		return -1;
	return frame_end(c, st, buf_put_u8(&c->sq, chan));
}

static void flush_send(struct rpc_client *c)
{
	long n;

	while (!c->failed && buf_avail(&c->sq) > 0) {
		n = c->link.send(c->link.ctx, buf_ptr(&c->sq),
		    buf_avail(&c->sq));
		if (n < 0) {
			client_fail(c, "connection to the agent lost");
			return;
		}
		if (n == 0)
			return;
		c->sq.pos += (size_t)n;
	}
	buf_reset(&c->sq);
}

/* Calls and their streams. */

void rpc_call_init(struct rpc_call *call, rpc_reply_fn fn, void *arg)
{
	memset(call, 0, sizeof *call);
	call->on_reply = fn;
	call->arg = arg;
}

static void sink_restore(struct rpc_sink *s)
{
	int fl;

	if (s->nonblock_set && (fl = fcntl(s->fd, F_GETFL)) >= 0)
		fcntl(s->fd, F_SETFL, fl & ~O_NONBLOCK);
	s->nonblock_set = 0;
}

void rpc_call_release(struct rpc_call *call)
{
	int i;

	if (call->client != NULL)
		call_unlink(call->client, call);
	for (i = 0; i < RPC_NCHAN; i++) {
		if (call->sink[i] == NULL)
			continue;
		sink_restore(call->sink[i]);
		free(call->sink[i]->buf);
		free(call->sink[i]->mem);
		free(call->sink[i]);
		call->sink[i] = NULL;
	}
	free(call->source);
	call->source = NULL;
	free(call->link);
	call->link = NULL;
}

static struct rpc_sink *sink_new(size_t window)
{
	struct rpc_sink *s;

	if ((s = calloc(1, sizeof *s)) == NULL)
		return NULL;
	s->fd = -1;
	s->cap = window;
	return s;
}

int rpc_sink_fd(struct rpc_call *call, int chan, int fd, size_t window)
{
	struct rpc_sink *s;
	struct stat st;
	int fl;

	if (chan <= RPC_CHAN_IN || chan >= RPC_NCHAN ||
	    (s = sink_new(window)) == NULL)
		return -1;
	if ((s->buf = malloc(window)) == NULL) {
		free(s);
		return -1;
	}
	s->fd = fd;
	/*
	 * Pipes and sockets are made non-blocking (and put back as they
	 * were at the end); a terminal is shared with the shell, so it is
	 * written a little at a time instead, when poll says it may be.
	 */
	if (fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) ||
	    S_ISSOCK(st.st_mode)) && (fl = fcntl(fd, F_GETFL)) >= 0 &&
	    !(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0)
		s->nonblock_set = 1;
	else if (isatty(fd))
		s->small_writes = 1;
	call->sink[chan] = s;
	return 0;
}

int rpc_sink_mem(struct rpc_call *call, int chan, size_t window,
    size_t limit)
{
	struct rpc_sink *s;

	if (chan <= RPC_CHAN_IN || chan >= RPC_NCHAN ||
	    (s = sink_new(window)) == NULL)
		return -1;
	s->mem_limit = limit;
	call->sink[chan] = s;
	return 0;
}

/* A new stdin source for call, reading fd (-1: memory or a function). */
static struct rpc_source *source_attach(struct rpc_call *call, int fd)
{
	struct rpc_source *s;
	struct stat st;

	if ((s = calloc(1, sizeof *s)) == NULL)
		return NULL;
	s->fd = fd;
	s->regular = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	call->source = s;
	return s;
}

int rpc_source_fd(struct rpc_call *call, int fd)
{
	return source_attach(call, fd) != NULL ? 0 : -1;
}

int rpc_source_mem(struct rpc_call *call, const void *data, size_t len)
{
	struct rpc_source *s;

	if ((s = source_attach(call, -1)) == NULL)
		return -1;
	s->mem = data;
	s->mem_len = len;
	return 0;
}

int rpc_source_fn(struct rpc_call *call,
    ssize_t (*fn)(void *, void *, size_t), void *arg)
{
	struct rpc_source *s;

	if ((s = source_attach(call, -1)) == NULL)
		return -1;
	s->fn = fn;
	s->fn_arg = arg;
	return 0;
}

static void sink_flush(struct rpc_call *call, struct rpc_sink *s, int polled)
{
	size_t n, off = 0;
	ssize_t w;

	while (off < s->len && s->error == 0) {
		n = s->len - off;
		if (s->small_writes) {
			if (!polled)
				break;
			if (n > PIPE_BUF)
				n = PIPE_BUF;
			polled = 0;
		}
		w = write(s->fd, s->buf + off, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			break;
		if (w <= 0) {
			s->error = w < 0 ? errno : EIO;
			off = s->len;	/* what cannot be written is dropped */
			break;
		}
		off += (size_t)w;
	}
	if (off > 0) {
		memmove(s->buf, s->buf + off, s->len - off);
		s->len -= off;
		s->owed += (uint32_t)off;
	}
	if (s->owed > 0 && !s->eof && (s->len == 0 || s->owed >= s->cap / 4)) {
		send_window(call->client, call->id,
		    (uint8_t)(s == call->sink[RPC_CHAN_OUT] ? RPC_CHAN_OUT :
		    RPC_CHAN_ERR), s->owed);
		s->owed = 0;
	}
}

static void mem_keep(struct rpc_sink *s, const uint8_t *p, size_t n)
{
	size_t cap;
	uint8_t *m;

	if (s->mem_len + n > s->mem_limit) {
		n = s->mem_limit - s->mem_len;
		s->truncated = 1;
	}
	if (s->mem_len + n > s->mem_cap) {
		cap = s->mem_cap ? s->mem_cap : 65536;
		while (cap < s->mem_len + n)
			cap *= 2;
		if ((m = realloc(s->mem, cap)) == NULL) {
			s->truncated = 1;
			return;
		}
		s->mem = m;
		s->mem_cap = cap;
	}
	memcpy(s->mem + s->mem_len, p, n);
	s->mem_len += n;
}

static void on_data(struct rpc_client *c, struct rpc_call *call,
    const struct rpc_reply *r)
{
	struct rpc_sink *s = call->sink[r->chan];

	if (r->chan == RPC_CHAN_IN)
		return;
	if (s == NULL || s->error != 0) {
		/* Nobody wants it: hand the credit straight back. */
		if (r->data.n > 0)
			send_window(c, call->id, r->chan, (uint32_t)r->data.n);
		return;
	}
	if (s->len + r->data.n > s->cap) {
		client_fail(c, "agent sent beyond the stream window");
		return;
	}
	if (s->fd < 0) {
		mem_keep(s, r->data.p, r->data.n);
		s->owed += (uint32_t)r->data.n;
		if (s->owed >= s->cap / 4) {
			send_window(c, call->id, r->chan, s->owed);
			s->owed = 0;
		}
		return;
	}
	memcpy(s->buf + s->len, r->data.p, r->data.n);
	s->len += r->data.n;
	sink_flush(call, s, 0);
}

static void keep_final(struct rpc_call *call, const struct rpc_reply *r)
{
	size_t n;

	call->final = r->type;
	call->done = 1;
	switch (r->type) {
	case RPC_R_ERROR:
		call->err = r->err;
		n = r->msg.n < sizeof call->errmsg - 1 ? r->msg.n :
		    sizeof call->errmsg - 1;
		memcpy(call->errmsg, r->msg.p, n);
		call->errmsg[n] = '\0';
		break;
	case RPC_R_STAT:
		call->st = r->st;
		break;
	case RPC_R_STATVFS:
		call->vfs = r->vfs;
		break;
	case RPC_R_SUM:
		memcpy(call->digest, r->digest, sizeof call->digest);
		call->size = r->size;
		break;
	case RPC_R_DONE:
		call->size = r->size;
		break;
	case RPC_R_EXIT:
		call->exit_kind = r->exit_kind;
		call->exit_value = r->exit_value;
		call->exit_flags = r->exit_flags;
		break;
	case RPC_R_LINK:
		if ((call->link = malloc(r->msg.n + 1)) != NULL) {
			memcpy(call->link, r->msg.p, r->msg.n);
			call->link[r->msg.n] = '\0';
			call->link_len = r->msg.n;
		}
		break;
	default:
		break;
	}
}

static void on_frame(struct rpc_client *c, const struct rpc_frame *f)
{
	struct rpc_reply r;
	struct rpc_call *call;

	if (rpc_decode_reply(f, &r) != 0) {
		client_fail(c, "malformed frame from the agent (type 0x%02x)",
		    f->type);
		return;
	}
	if (r.id == RPC_SESSION_ID && r.type == RPC_R_ERROR) {
		client_fail(c, "agent: %.*s", (int)(r.msg.n > 200 ? 200 :
		    r.msg.n), (const char *)r.msg.p);
		return;
	}
	/* Late frames of a call already over are normal. */
	if ((call = call_find(c, r.id)) == NULL || call->done)
		return;
	switch (r.type) {
	case RPC_S_DATA:
		on_data(c, call, &r);
		break;
	case RPC_S_EOF:
		if (r.chan == RPC_CHAN_IN && call->source != NULL)
			call->source->stopped = 1;
		else if (r.chan != RPC_CHAN_IN && call->sink[r.chan] != NULL)
			call->sink[r.chan]->eof = 1;
		break;
	case RPC_S_WINDOW:
		if (r.chan == RPC_CHAN_IN && call->source != NULL)
			call->source->credit += r.increment;
		break;
	case RPC_R_OPENED:
		call->size = r.size;
		if (call->type != RPC_WRITE)
			break;
		/* The window counts the early data, sent unasked. */
		if (r.window < RPC_WRITE_EARLY) {
			client_fail(c, "the agent gave a write window of %lu "
			    "bytes, less than %u", (unsigned long)r.window,
			    RPC_WRITE_EARLY);
			return;
		}
		if (call->source != NULL)
			call->source->credit += r.window - RPC_WRITE_EARLY;
		break;
	case RPC_R_STARTED:
		call->size = r.size;
		call->pid = r.pid;
		if (call->source != NULL) {
			call->source->credit = r.window;
			call->source->started = 1;
			if (r.window == 0)
				call->source->stopped = 1;
		}
		break;
	default:
		if (rpc_reply_is_final(&r))
			keep_final(call, &r);
		break;
	}
	if (call->on_reply != NULL)
		call->on_reply(call, &r);
	if (call->detached && call->done) {
		call_unlink(c, call);
		free(call);
	}
}

static void receive(struct rpc_client *c)
{
	struct rpc_frame f;
	size_t off;
	long n;

	while (!c->failed) {
		n = c->link.recv(c->link.ctx, c->rbuf + c->rlen,
		    RBUF_SIZE - c->rlen);
		if (n < 0) {
			client_fail(c, "connection to the agent closed");
			return;
		}
		if (n == 0)
			return;
		c->rlen += (size_t)n;
		off = 0;
		while (!c->failed) {
			n = rpc_frame_parse(c->rbuf + off, c->rlen - off, &f);
			if (n < 0) {
				client_fail(c, "malformed frame from the agent");
				return;
			}
			if (n == 0)
				break;
			on_frame(c, &f);
			off += (size_t)n;
		}
		memmove(c->rbuf, c->rbuf + off, c->rlen - off);
		c->rlen -= off;
	}
}

static int source_wants(const struct rpc_client *c, const struct rpc_call *call)
{
	const struct rpc_source *s = call->source;

	return s != NULL && s->started && !s->eof && !s->stopped &&
	    s->error == 0 && s->credit > 0 && !call->done &&
	    buf_avail(&c->sq) < SQ_HIGH;
}

static ssize_t source_fill(struct rpc_source *s, uint8_t *p, size_t max)
{
	ssize_t n;

	if (s->fn != NULL)
		return s->fn(s->fn_arg, p, max);
	if (s->fd < 0) {
		if (max > s->mem_len - s->mem_off)
			max = s->mem_len - s->mem_off;
		memcpy(p, s->mem + s->mem_off, max);
		s->mem_off += max;
		return (ssize_t)max;
	}
	do
		n = read(s->fd, p, max);
	while (n < 0 && errno == EINTR);
	return n;
}

/* One frame of data, or the end; -1 if nothing could be queued, 1 if a
 * regular file gave less than asked (it is at its end, most likely). */
static int source_read(struct rpc_client *c, struct rpc_call *call)
{
	struct rpc_source *s = call->source;
	size_t max = RPC_MAX_DATA, st;
	ssize_t n;

	if (max > s->credit)
		max = (size_t)s->credit;
	if (frame_begin(c, RPC_S_DATA, call->id, &st) != 0)
		return -1;
	buf_put_u8(&c->sq, RPC_CHAN_IN);
	n = source_fill(s, c->sq.data + c->sq.len, max);
	if (n > 0) {
		c->sq.len += (size_t)n;
		frame_end(c, st, 0);
		s->credit -= (uint64_t)n;
		return s->regular && (size_t)n < max;
	}
	c->sq.len = st;
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n < 0) {
		/* Never let a failed read look like a complete file. */
		s->error = errno;
		if (call->type == RPC_WRITE) {
			rpc_cancel_detached(c, call->id);
			return 0;
		}
	}
	s->eof = 1;
	return send_eof(c, call->id, RPC_CHAN_IN);
}

/* Sources in memory or a function need no poll: they send while they
 * have credit.  Returns how many frames were queued. */
static int pump_mem_sources(struct rpc_client *c)
{
	struct rpc_call *call;
	int n = 0;

	for (call = c->calls; call != NULL; call = call->next)
		while (!c->failed && call->source != NULL &&
		    call->source->fd < 0 && source_wants(c, call) &&
		    source_read(c, call) >= 0)
			n++;
	return n;
}

/* Send what is queued, refilling from memory sources while the link
 * takes everything; what it does not take waits for poll. */
static void send_queued(struct rpc_client *c)
{
	int queued;

	do {
		queued = pump_mem_sources(c);
		flush_send(c);
	} while (!c->failed && queued > 0 && buf_avail(&c->sq) == 0);
}

static int sink_done(const struct rpc_sink *s)
{
	return s == NULL || s->fd < 0 || s->len == 0 || s->error != 0;
}

int rpc_call_finished(const struct rpc_call *call)
{
	int i;

	if (!call->done)
		return 0;
	for (i = RPC_CHAN_OUT; i < RPC_NCHAN; i++)
		if (!sink_done(call->sink[i]))
			return 0;
	return 1;
}

int rpc_client_pending(const struct rpc_client *c)
{
	const struct rpc_call *call;
	int n = 0;

	for (call = c->calls; call != NULL; call = call->next)
		if (!rpc_call_finished(call))
			n++;
	return n;
}

/* Which call and stream a local pollfd belongs to. */
struct fdmap {
	struct rpc_call *call;
	int chan;
};

static int add_local_fds(struct rpc_client *c, struct pollfd *pfd,
    struct fdmap *map, int n)
{
	struct rpc_call *call;
	struct rpc_sink *s;
	int i;

	for (call = c->calls; call != NULL && n < MAX_POLL - 16;
	    call = call->next) {
		if (source_wants(c, call) && call->source->fd >= 0) {
			pfd[n].fd = call->source->fd;
			pfd[n].events = POLLIN;
			map[n].call = call;
			map[n++].chan = RPC_CHAN_IN;
		}
		for (i = RPC_CHAN_OUT; i < RPC_NCHAN; i++) {
			s = call->sink[i];
			if (s == NULL || s->fd < 0 || s->len == 0 ||
			    s->error != 0)
				continue;
			pfd[n].fd = s->fd;
			pfd[n].events = POLLOUT;
			map[n].call = call;
			map[n++].chan = i;
		}
	}
	return n;
}

static void handle_local_fds(struct rpc_client *c, const struct pollfd *pfd,
    const struct fdmap *map, int from, int to)
{
	int i;

	for (i = from; i < to && !c->failed; i++) {
		if (pfd[i].revents == 0)
			continue;
		if (map[i].chan == RPC_CHAN_IN) {
			/* A file read short is read again at once, so that its
			 * end goes out with its data, not a poll round later
			 * (after every other file's data). */
			if (source_wants(c, map[i].call) &&
			    source_read(c, map[i].call) == 1 &&
			    source_wants(c, map[i].call))
				(void)source_read(c, map[i].call);
		} else {
			sink_flush(map[i].call, map[i].call->sink[map[i].chan],
			    1);
		}
	}
}

int rpc_run(struct rpc_client *c, int (*done)(void *), void *arg)
{
	struct pollfd pfd[MAX_POLL];
	struct fdmap map[MAX_POLL];
	int nl, nloc, n, rc;

	for (;;) {
		send_queued(c);
		if (c->failed)
			return -1;
		if (done != NULL ? done(arg) : rpc_client_pending(c) == 0)
			return 0;
		nl = c->link.pollfds(c->link.ctx, pfd, 8);
		nloc = add_local_fds(c, pfd, map, nl);
		n = nloc;
		if (c->w_pollfds != NULL)
			n += c->w_pollfds(c->w_arg, pfd + nloc, MAX_POLL - nloc);
		rc = poll(pfd, (nfds_t)n, c->link.timeout != NULL ?
		    c->link.timeout(c->link.ctx) : -1);
		if (rc < 0 && errno == EINTR) {
			if (c->w_process != NULL)
				c->w_process(c->w_arg, pfd + nloc, 0);
			continue;
		}
		if (rc < 0) {
			client_fail(c, "poll: %s", strerror(errno));
			return -1;
		}
		if (c->link.process(c->link.ctx, pfd, nl) < 0) {
			client_fail(c, "connection to the agent lost");
			return -1;
		}
		receive(c);
		handle_local_fds(c, pfd, map, nl, nloc);
		if (c->w_process != NULL)
			c->w_process(c->w_arg, pfd + nloc, n - nloc);
	}
}

static int call_is_finished(void *arg)
{
	return rpc_call_finished(arg);
}

int rpc_wait(struct rpc_client *c, struct rpc_call *call)
{
	int rc = rpc_run(c, call_is_finished, call);

	call_unlink(c, call);
	return rc;
}

/* Hello. */

static void copy_str(char *dst, size_t size, const struct rpc_bytes *s)
{
	size_t n = s->n < size - 1 ? s->n : size - 1;

	memcpy(dst, s->p, n);
	dst[n] = '\0';
}

static void on_hello(struct rpc_call *call, const struct rpc_reply *r)
{
	struct rpc_agent_info *info = call->arg;

	if (r->type != RPC_R_HELLO)
		return;
	info->version = r->hello.version;
	info->pid = r->hello.pid;
	copy_str(info->build, sizeof info->build, &r->hello.build);
	copy_str(info->exe_sha256, sizeof info->exe_sha256,
	    &r->hello.exe_sha256);
	copy_str(info->sysname, sizeof info->sysname, &r->hello.sysname);
	copy_str(info->release, sizeof info->release, &r->hello.release);
	copy_str(info->machine, sizeof info->machine, &r->hello.machine);
}

int rpc_client_hello(struct rpc_client *c, struct rpc_agent_info *info)
{
	struct rpc_call call;
	struct buf *b;
	size_t st;
	int rc;

	rpc_call_init(&call, on_hello, info);
	if ((b = req_begin(c, &call, RPC_HELLO, &st)) == NULL)
		return -1;
	rc = buf_put_u32(b, RPC_VERSION) | buf_put_u32(b, RPC_VERSION) |
	    buf_put_u32(b, RPC_MAX_FRAME) | buf_put_cstring(b, "remowt");
	if (req_end(c, &call, st, rc) != 0)
		return -1;
	if (rpc_wait(c, &call) != 0)
		return -1;
	if (call.final == RPC_R_ERROR) {
		client_fail(c, "agent refused the session: %s", call.errmsg);
		return -1;
	}
	if (call.final != RPC_R_HELLO) {
		client_fail(c, "agent answered hello with type 0x%02x",
		    call.final);
		return -1;
	}
	return 0;
}

/* Request encoders. */

static uint32_t sink_window(const struct rpc_call *call, int chan)
{
	return call->sink[chan] != NULL ? (uint32_t)call->sink[chan]->cap :
	    DISCARD_WINDOW;
}

/* Requests of the form: uint32 flags, string path. */
static int req_flags_path(struct rpc_client *c, struct rpc_call *call,
    uint8_t type, uint32_t flags, const void *path, size_t len)
{
	struct buf *b;
	size_t st;

	if ((b = req_begin(c, call, type, &st)) == NULL)
		return -1;
	return req_end(c, call, st, buf_put_u32(b, flags) |
	    buf_put_string(b, path, len));
}

/* Requests of the form: string path, uint32 flags, uint32 mode. */
static int req_path_flags_mode(struct rpc_client *c, struct rpc_call *call,
    uint8_t type, const void *path, size_t len, uint32_t flags,
    uint32_t mode)
{
	struct buf *b;
	size_t st;

	if ((b = req_begin(c, call, type, &st)) == NULL)
		return -1;
	return req_end(c, call, st, buf_put_string(b, path, len) |
	    buf_put_u32(b, flags) | buf_put_u32(b, mode));
}

static int req_two_paths(struct rpc_client *c, struct rpc_call *call,
    uint8_t type, const void *p1, size_t l1, const void *p2, size_t l2)
{
	struct buf *b;
	size_t st;

	if ((b = req_begin(c, call, type, &st)) == NULL)
		return -1;
	return req_end(c, call, st, buf_put_string(b, p1, l1) |
	    buf_put_string(b, p2, l2) | buf_put_u32(b, 0));
}

int rpc_stat(struct rpc_client *c, struct rpc_call *call, const void *path,
    size_t len, int nofollow)
{
	return req_flags_path(c, call, RPC_STAT,
	    nofollow ? RPC_STAT_NOFOLLOW : 0, path, len);
}

int rpc_list(struct rpc_client *c, struct rpc_call *call, const void *path,
    size_t len)
{
	return req_flags_path(c, call, RPC_LIST, 0, path, len);
}

int rpc_remove(struct rpc_client *c, struct rpc_call *call, const void *path,
    size_t len, uint32_t flags)
{
	return req_flags_path(c, call, RPC_REMOVE, flags, path, len);
}

int rpc_readlink(struct rpc_client *c, struct rpc_call *call,
    const void *path, size_t len)
{
	return req_flags_path(c, call, RPC_READLINK, 0, path, len);
}

int rpc_sum(struct rpc_client *c, struct rpc_call *call, const void *path,
    size_t len)
{
	return req_flags_path(c, call, RPC_SUM, 0, path, len);
}

int rpc_sum_prefix(struct rpc_client *c, struct rpc_call *call,
    const void *path, size_t len, uint32_t flags, uint64_t length)
{
	struct buf *b;
	size_t st;

	if ((b = req_begin(c, call, RPC_SUM, &st)) == NULL)
		return -1;
	return req_end(c, call, st, buf_put_u32(b, flags | RPC_SUM_PREFIX) |
	    buf_put_string(b, path, len) | buf_put_u64(b, length));
}

int rpc_statvfs(struct rpc_client *c, struct rpc_call *call,
    const void *path, size_t len)
{
	return req_flags_path(c, call, RPC_STATVFS, 0, path, len);
}

int rpc_read(struct rpc_client *c, struct rpc_call *call, const void *path,
    size_t len, uint64_t offset, uint64_t length)
{
	struct buf *b;
	size_t st;

	if ((b = req_begin(c, call, RPC_READ, &st)) == NULL)
		return -1;
	return req_end(c, call, st, buf_put_string(b, path, len) |
	    buf_put_u64(b, offset) | buf_put_u64(b, length) |
	    buf_put_u32(b, sink_window(call, RPC_CHAN_OUT)));
}

int rpc_write(struct rpc_client *c, struct rpc_call *call, const void *path,
    size_t len, uint32_t flags, uint32_t mode)
{
	return rpc_write_ex(c, call, path, len, flags, mode, NULL);
}

int rpc_write_ex(struct rpc_client *c, struct rpc_call *call,
    const void *path, size_t len, uint32_t flags, uint32_t mode,
    const struct rpc_write_extra *x)
{
	static const struct rpc_write_extra none;
	struct buf *b;
	size_t st;
	int rc;

	if (x == NULL)
		x = &none;
	if ((b = req_begin(c, call, RPC_WRITE, &st)) == NULL)
		return -1;
	rc = buf_put_string(b, path, len) | buf_put_u32(b, flags) |
	    buf_put_u32(b, mode);
	if (flags & RPC_WRITE_RESUME)
		rc |= buf_put_u64(b, x->offset);
	if (flags & RPC_WRITE_MTIME)
		rc |= buf_put_u64(b, (uint64_t)x->mtime) |
		    buf_put_u32(b, x->mtime_ns);
	if (req_end(c, call, st, rc) != 0)
		return -1;
	if (call->source != NULL) {
		call->source->credit = RPC_WRITE_EARLY;
		call->source->started = 1;
	}
	return 0;
}

int rpc_mkdir(struct rpc_client *c, struct rpc_call *call, const void *path,
    size_t len, uint32_t flags, uint32_t mode)
{
	return req_path_flags_mode(c, call, RPC_MKDIR, path, len, flags,
	    mode);
}

int rpc_chmod(struct rpc_client *c, struct rpc_call *call, const void *path,
    size_t len, uint32_t mode)
{
	return req_path_flags_mode(c, call, RPC_CHMOD, path, len, 0, mode);
}

int rpc_rename(struct rpc_client *c, struct rpc_call *call, const void *from,
    size_t flen, const void *to, size_t tlen)
{
	return req_two_paths(c, call, RPC_RENAME, from, flen, to, tlen);
}

int rpc_symlink(struct rpc_client *c, struct rpc_call *call,
    const void *target, size_t tlen, const void *path, size_t len)
{
	return req_two_paths(c, call, RPC_SYMLINK, target, tlen, path, len);
}

int rpc_chown(struct rpc_client *c, struct rpc_call *call, const void *path,
    size_t len, uint32_t uid, uint32_t gid, uint32_t flags)
{
	struct buf *b;
	size_t st;

	if ((b = req_begin(c, call, RPC_CHOWN, &st)) == NULL)
		return -1;
	return req_end(c, call, st, buf_put_string(b, path, len) |
	    buf_put_u32(b, flags) | buf_put_u32(b, uid) | buf_put_u32(b, gid));
}

int rpc_utime(struct rpc_client *c, struct rpc_call *call, const void *path,
    size_t len, uint32_t flags, int64_t atime, uint32_t atime_ns,
    int64_t mtime, uint32_t mtime_ns)
{
	struct buf *b;
	size_t st;

	if ((b = req_begin(c, call, RPC_UTIME, &st)) == NULL)
		return -1;
	return req_end(c, call, st, buf_put_string(b, path, len) |
	    buf_put_u32(b, flags) | buf_put_u64(b, (uint64_t)atime) |
	    buf_put_u32(b, atime_ns) | buf_put_u64(b, (uint64_t)mtime) |
	    buf_put_u32(b, mtime_ns));
}

/* EXEC; with pty, on a terminal (RPC_EXEC_PTY and its fields). */
static int exec_request(struct rpc_client *c, struct rpc_call *call,
    const struct rpc_exec_req *x, const struct rpc_pty *pty)
{
	struct buf *b;
	size_t st, i, argc;
	int rc;

	for (argc = 0; x->argv[argc] != NULL; argc++)
		;
	if ((b = req_begin(c, call, RPC_EXEC, &st)) == NULL)
		return -1;
	rc = buf_put_u32(b, x->flags | (pty != NULL ? RPC_EXEC_PTY : 0)) |
	    buf_put_u32(b, x->timeout_ms) |
	    buf_put_u32(b, sink_window(call, RPC_CHAN_OUT)) |
	    buf_put_cstring(b, x->cwd != NULL ? x->cwd : "") |
	    buf_put_u32(b, (uint32_t)argc);
	for (i = 0; i < argc; i++)
		rc |= buf_put_cstring(b, x->argv[i]);
	rc |= buf_put_u32(b, (uint32_t)x->nenv);
	for (i = 0; i < x->nenv; i++)
		rc |= buf_put_u8(b, x->env_ops[i]) |
		    buf_put_cstring(b, x->env_strs[i]);
	if (pty != NULL)
		rc |= buf_put_u32(b, pty->rows) | buf_put_u32(b, pty->cols) |
		    buf_put_cstring(b, pty->term != NULL ? pty->term : "");
	return req_end(c, call, st, rc);
}

int rpc_exec(struct rpc_client *c, struct rpc_call *call,
    const struct rpc_exec_req *x)
{
	return exec_request(c, call, x, NULL);
}

int rpc_signal(struct rpc_client *c, struct rpc_call *call, uint32_t target,
    uint32_t sig, uint32_t flags)
{
	struct buf *b;
	size_t st;

	if ((b = req_begin(c, call, RPC_SIGNAL, &st)) == NULL)
		return -1;
	return req_end(c, call, st, buf_put_u32(b, target) |
	    buf_put_u32(b, sig) | buf_put_u32(b, flags));
}

int rpc_cancel(struct rpc_client *c, struct rpc_call *call, uint32_t target)
{
	struct buf *b;
	size_t st;

	if ((b = req_begin(c, call, RPC_CANCEL, &st)) == NULL)
		return -1;
	return req_end(c, call, st, buf_put_u32(b, target));
}

/* Calls nobody waits for: they free themselves when answered. */
static struct rpc_call *detached_call(void)
{
	struct rpc_call *call;

	if ((call = malloc(sizeof *call)) == NULL)
		return NULL;
	rpc_call_init(call, NULL, NULL);
	call->detached = 1;
	return call;
}

int rpc_signal_detached(struct rpc_client *c, uint32_t target, uint32_t sig,
    uint32_t flags)
{
	struct rpc_call *call = detached_call();

	if (call == NULL)
		return -1;
	if (rpc_signal(c, call, target, sig, flags) != 0) {
		free(call);
		return -1;
	}
	return 0;
}

int rpc_cancel_detached(struct rpc_client *c, uint32_t target)
{
	struct rpc_call *call = detached_call();

	if (call == NULL)
		return -1;
	if (rpc_cancel(c, call, target) != 0) {
		free(call);
		return -1;
	}
	return 0;
}

/* The local link: pipes to a child agent. */

struct pipe_link {
	int rfd, wfd;
	pid_t pid;
	int want_write;
};

static int pipe_pollfds(void *ctx, struct pollfd *pfd, int max)
{
	struct pipe_link *pl = ctx;
	int n = 0;

	if (max < 2)
		return 0;
	pfd[n].fd = pl->rfd;
	pfd[n++].events = POLLIN;
	if (pl->want_write) {
		pfd[n].fd = pl->wfd;
		pfd[n++].events = POLLOUT;
	}
	return n;
}

static int pipe_process(void *ctx, const struct pollfd *pfd, int n)
{
	struct pipe_link *pl = ctx;
	int i;

	for (i = 0; i < n; i++)
		if (pfd[i].fd == pl->wfd && pfd[i].revents != 0)
			pl->want_write = 0;
	return 0;
}

static long pipe_recv(void *ctx, uint8_t *buf, size_t n)
{
	struct pipe_link *pl = ctx;
	ssize_t r;

	do
		r = read(pl->rfd, buf, n);
	while (r < 0 && errno == EINTR);
	if (r < 0 && errno == EAGAIN)
		return 0;
	return r > 0 ? (long)r : -1;
}

static long pipe_send(void *ctx, const uint8_t *buf, size_t n)
{
	struct pipe_link *pl = ctx;
	ssize_t w;

	do
		w = write(pl->wfd, buf, n);
	while (w < 0 && errno == EINTR);
	if (w < 0 && errno == EAGAIN) {
		pl->want_write = 1;
		return 0;
	}
	return w < 0 ? -1 : (long)w;
}

static void pipe_close(void *ctx)
{
	struct pipe_link *pl = ctx;

	close(pl->wfd);
	close(pl->rfd);
	while (waitpid(pl->pid, NULL, 0) < 0 && errno == EINTR)
		;
	free(pl);
}

/* The agent image in a memfd, or -1 if this kernel has none. */
static int image_memfd(const uint8_t *img, size_t len)
{
#ifdef SYS_memfd_create
	int fd = (int)syscall(SYS_memfd_create, "remowt-agent", MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (write(fd, img, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	return fd;
#else
	(void)img;
	(void)len;
	return -1;
#endif
}

/* The agent image in a private temporary file, which the caller unlinks. */
static int image_tmpfile(const uint8_t *img, size_t len, char *path,
    size_t size)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	snprintf(path, size, "%s/remowt-agent.XXXXXX", dir);
	if ((fd = mkstemp(path)) < 0)
		return -1;
	if (write(fd, img, len) != (ssize_t)len || fchmod(fd, 0700) != 0) {
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * Fork the agent with its stdin and stdout on our pipes.  It gets a
 * session of its own so that a ^C meant for a remote program reaches
 * remowt only.  Returns the pid, or -1 (errno) if it could not start.
 */
static pid_t start_agent(int exe_fd, const char *path, int to[2],
    int from[2])
{
	char *argv[] = { "remowt-agent", NULL };
	int ep[2], err;
	ssize_t n;
	pid_t pid;

	if (pipe2(ep, O_CLOEXEC) != 0)
		return -1;
	if ((pid = fork()) < 0) {
		err = errno;
		close(ep[0]);
		close(ep[1]);
		errno = err;
		return -1;
	}
	if (pid == 0) {
		setsid();
		if (dup2(to[0], 0) >= 0 && dup2(from[1], 1) >= 0) {
			signal(SIGPIPE, SIG_DFL);
			if (exe_fd >= 0)
				fexecve(exe_fd, argv, environ);
			else
				execv(path, argv);
		}
		err = errno;
		if (write(ep[1], &err, sizeof err) < 0)
			(void)0;
		_exit(127);
	}
	close(ep[1]);
	do
		n = read(ep[0], &err, sizeof err);
	while (n < 0 && errno == EINTR);
	close(ep[0]);
	if (n == (ssize_t)sizeof err) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		errno = err;
		return -1;
	}
	return pid;
}

int rpc_link_spawn(struct rpc_link *link, const char *path,
    const uint8_t *img, size_t len)
{
	struct pipe_link *pl;
	char tmp[PATH_MAX];
	int to[2], from[2], fd = -1, err;
	pid_t pid = -1;

	if (pipe2(to, O_CLOEXEC) != 0)
		return -1;
	if (pipe2(from, O_CLOEXEC) != 0) {
		err = errno;
		close(to[0]);
		close(to[1]);
		errno = err;
		return -1;
	}
	if (path != NULL) {
		pid = start_agent(-1, path, to, from);
	} else {
		if ((fd = image_memfd(img, len)) >= 0) {
			pid = start_agent(fd, NULL, to, from);
			close(fd);
		}
		if (pid < 0 && image_tmpfile(img, len, tmp, sizeof tmp) == 0) {
			pid = start_agent(-1, tmp, to, from);
			err = errno;
			unlink(tmp);
			errno = err;
		}
	}
	err = errno;
	close(to[0]);
	close(from[1]);
	if (pid < 0 || (pl = calloc(1, sizeof *pl)) == NULL) {
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		close(to[1]);
		close(from[0]);
		errno = pid < 0 ? err : ENOMEM;
		return -1;
	}
	pl->rfd = from[0];
	pl->wfd = to[1];
	pl->pid = pid;
	fcntl(pl->rfd, F_SETFL, O_NONBLOCK);
	fcntl(pl->wfd, F_SETFL, O_NONBLOCK);
	link->ctx = pl;
	link->pollfds = pipe_pollfds;
	link->process = pipe_process;
	link->recv = pipe_recv;
	link->send = pipe_send;
	link->close = pipe_close;
	link->timeout = NULL;
	return 0;
}

/* Terminals (RPC_EXEC_PTY). */

int rpc_exec_pty(struct rpc_client *c, struct rpc_call *call,
    const struct rpc_exec_req *x, const struct rpc_pty *pty)
{
	if (pty->rows > RPC_WINSIZE_MAX || pty->cols > RPC_WINSIZE_MAX) {
		errno = EINVAL;
		return -1;
	}
	return exec_request(c, call, x, pty);
}

int rpc_winsize(struct rpc_client *c, struct rpc_call *call, uint32_t target,
    uint32_t rows, uint32_t cols)
{
	struct buf *b;
	size_t st;

	if (rows > RPC_WINSIZE_MAX || cols > RPC_WINSIZE_MAX) {
		errno = EINVAL;
		return -1;
	}
	if ((b = req_begin(c, call, RPC_WINSIZE, &st)) == NULL)
		return -1;
	return req_end(c, call, st, buf_put_u32(b, target) |
	    buf_put_u32(b, rows) | buf_put_u32(b, cols));
}

int rpc_winsize_detached(struct rpc_client *c, uint32_t target,
    uint32_t rows, uint32_t cols)
{
	struct rpc_call *call = detached_call();

	if (call == NULL)
		return -1;
	if (rpc_winsize(c, call, target, rows, cols) != 0) {
		free(call);
		return -1;
	}
	return 0;
}
