/*
 * channel.c - SSH session channels (RFC 4254): open, exec or a shell on
 * a terminal, flow-controlled data both ways, EOF, close and exit
 * status; and `remowt sh`, which passes stdio through one such channel.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "ssh_conn.h"
#include "ssh_min.h"

#define SSH_EXTENDED_DATA_STDERR 1

#define CHAN_WINDOW (4U * 1024 * 1024)
#define CHAN_MAXPKT (128U * 1024)
#define CHAN_SEND_CHUNK (256U * 1024)

static struct ssh_chan *chan_get(struct ssh_conn *c, uint32_t id)
{
	if (id >= SSH_MAX_CHANNELS || !c->chans[id].in_use)
		return NULL;
	return &c->chans[id];
}

static int send_chan_msg(struct ssh_conn *c, struct ssh_chan *ch,
    uint8_t type)
{
	struct buf b;

	if (ssh_pkt_begin(c, &b, type) != 0)
		return -1;
	buf_put_u32(&b, ch->remote_id);
	return ssh_pkt_send(c, &b);
}

/* Re-grant window for what was read, once it is worth a packet. */
static int chan_adjust_window(struct ssh_conn *c, struct ssh_chan *ch)
{
	struct buf b;

	if (ch->consumed < CHAN_WINDOW / 4 || ch->close_in || ssh_in_kex(c))
		return 0;
	if (ssh_pkt_begin(c, &b, SSH_MSG_CHANNEL_WINDOW_ADJUST) != 0)
		return -1;
	buf_put_u32(&b, ch->remote_id);
	buf_put_u32(&b, ch->consumed);
	ch->local_window += ch->consumed;
	ch->consumed = 0;
	return ssh_pkt_send(c, &b);
}

static int chan_send_pending_eof(struct ssh_conn *c, struct ssh_chan *ch)
{
	if (!ch->want_eof || ch->eof_out || ch->close_out || ssh_in_kex(c) ||
	    !ch->open)
		return 0;
	ch->eof_out = 1;
	return send_chan_msg(c, ch, SSH_MSG_CHANNEL_EOF);
}

void ssh_chan_resume(struct ssh_conn *c)
{
	int i;

	for (i = 0; i < SSH_MAX_CHANNELS; i++) {
		if (!c->chans[i].in_use)
			continue;
		chan_adjust_window(c, &c->chans[i]);
		chan_send_pending_eof(c, &c->chans[i]);
	}
}

static int chan_alloc(struct ssh_conn *c)
{
	struct ssh_chan *ch;
	uint8_t *d, *e;
	int i;

	for (i = 0; i < SSH_MAX_CHANNELS; i++)
		if (!c->chans[i].in_use)
			break;
	if (i == SSH_MAX_CHANNELS)
		return ssh_fail(c, "too many channels");
	d = malloc(CHAN_WINDOW);
	e = malloc(CHAN_WINDOW);
	if (d == NULL || e == NULL) {
		free(d);
		free(e);
		return ssh_fail(c, "out of memory");
	}
	ch = &c->chans[i];
	memset(ch, 0, sizeof *ch);
	ch->in_use = 1;
	ch->local_window = CHAN_WINDOW;
	buf_init(&ch->data, d, CHAN_WINDOW);
	buf_init(&ch->ext, e, CHAN_WINDOW);
	return i;
}

void ssh_chan_free_all(struct ssh_conn *c)
{
	int i;

	for (i = 0; i < SSH_MAX_CHANNELS; i++) {
		if (!c->chans[i].in_use)
			continue;
		free(c->chans[i].data.data);
		free(c->chans[i].ext.data);
		c->chans[i].in_use = 0;
	}
}

/* ------------------------------------------------------------------ */
/* Incoming channel messages                                           */

static int recv_open_confirmation(struct ssh_conn *c, struct ssh_chan *ch,
    struct buf *msg)
{
	if (ch->open || ch->failed)
		return ssh_fail(c, "protocol error: channel confirmed twice");
	if (buf_get_u32(msg, &ch->remote_id) ||
	    buf_get_u32(msg, &ch->remote_window) ||
	    buf_get_u32(msg, &ch->remote_maxpkt))
		return ssh_fail(c, "protocol error: malformed channel "
		    "confirmation");
	if (ch->remote_maxpkt == 0)
		return ssh_fail(c, "protocol error: zero channel packet size");
	ch->open = 1;
	ch->open_answered = 1;
	return 0;
}

static int recv_open_failure(struct ssh_conn *c, struct ssh_chan *ch,
    struct buf *msg)
{
	uint32_t reason;
	const uint8_t *text;
	size_t n;

	if (ch->open || ch->failed)
		return ssh_fail(c, "protocol error: open failure for a channel "
		    "already answered");
	if (buf_get_u32(msg, &reason) || buf_get_string(msg, &text, &n))
		return ssh_fail(c, "protocol error: malformed open failure");
	ssh_sanitize(ch->open_error, sizeof ch->open_error, text, n);
	ch->failed = 1;
	ch->open_answered = 1;
	return 0;
}

static int recv_data(struct ssh_conn *c, struct ssh_chan *ch,
    struct buf *msg, int extended)
{
	uint32_t type = 0;
	const uint8_t *p;
	size_t n;
	struct buf *dst;

	if ((extended && buf_get_u32(msg, &type)) ||
	    buf_get_string(msg, &p, &n))
		return ssh_fail(c, "protocol error: malformed channel data");
	if (ch->eof_in)
		return ssh_fail(c, "protocol error: channel data after EOF");
	if (n > ch->local_window)
		return ssh_fail(c, "protocol error: the server sent more "
		    "than the channel window allows");
	ch->local_window -= (uint32_t)n;
	if (extended && type != SSH_EXTENDED_DATA_STDERR) {
		ch->consumed += (uint32_t)n;   /* unknown streams: dropped */
		return chan_adjust_window(c, ch);
	}
	dst = extended ? &ch->ext : &ch->data;
	if (buf_room(dst) < n)
		buf_compact(dst);
	/* The window bounds what is buffered, so this cannot fail. */
	return buf_put_bytes(dst, p, n) == 0 ? 0 :
	    ssh_fail(c, "channel buffer overflow");
}

static int recv_window_adjust(struct ssh_conn *c, struct ssh_chan *ch,
    struct buf *msg)
{
	uint32_t add;

	if (buf_get_u32(msg, &add))
		return ssh_fail(c, "protocol error: malformed window adjust");
	/* RFC 4254 5.2: the window never exceeds 2^32 - 1. */
	if (add > UINT32_MAX - ch->remote_window)
		return ssh_fail(c, "protocol error: a window adjust of %lu "
		    "overflows the channel window of %lu",
		    (unsigned long)add, (unsigned long)ch->remote_window);
	ch->remote_window += add;
	return 0;
}

static int recv_close(struct ssh_conn *c, struct ssh_chan *ch)
{
	ch->close_in = 1;
	ch->request_answered = 1;   /* no reply can follow a close */
	if (ch->close_out)
		return 0;
	ch->close_out = 1;
	return send_chan_msg(c, ch, SSH_MSG_CHANNEL_CLOSE);
}

static int recv_exit_signal(struct ssh_conn *c, struct ssh_chan *ch,
    struct buf *msg)
{
	const uint8_t *name;
	size_t n;

	if (buf_get_string(msg, &name, &n) || n == 0)
		return ssh_fail(c, "protocol error: malformed exit-signal");
	ssh_sanitize(ch->exit_signal, sizeof ch->exit_signal, name, n);
	ch->have_exit = 1;
	return 0;
}

static int recv_chan_request(struct ssh_conn *c, struct ssh_chan *ch,
    struct buf *msg)
{
	char type[64];
	int want_reply;
	uint32_t status;

	if (buf_get_cstring(msg, type, sizeof type) ||
	    buf_get_bool(msg, &want_reply))
		return ssh_fail(c, "protocol error: malformed channel request");
	if (strcmp(type, "exit-status") == 0) {
		if (buf_get_u32(msg, &status))
			return ssh_fail(c, "protocol error: malformed "
			    "exit-status");
		ch->exit_status = (int)(status & 0xff);
		ch->have_exit = 1;
	} else if (strcmp(type, "exit-signal") == 0) {
		if (recv_exit_signal(c, ch, msg) != 0)
			return -1;
	}
	if (!want_reply || ch->close_out)
		return 0;
	return send_chan_msg(c, ch, SSH_MSG_CHANNEL_FAILURE);
}

int ssh_chan_dispatch(struct ssh_conn *c, struct buf *msg)
{
	uint8_t t = msg->data[0];
	uint32_t id;
	struct ssh_chan *ch;

	if (!c->authenticated)
		return ssh_fail(c, "protocol error: channel message before "
		    "authentication");
	if (t == SSH_MSG_CHANNEL_OPEN)
		return ssh_fail(c, "the server tried to open a channel, "
		    "which remowt never allows");
	if (buf_skip(msg, 1) || buf_get_u32(msg, &id))
		return ssh_fail(c, "protocol error: malformed channel message");
	if ((ch = chan_get(c, id)) == NULL)
		return ssh_fail(c, "protocol error: message %u for unknown "
		    "channel %lu", t, (unsigned long)id);
	if (t != SSH_MSG_CHANNEL_OPEN_CONFIRMATION &&
	    t != SSH_MSG_CHANNEL_OPEN_FAILURE && !ch->open)
		return ssh_fail(c, "protocol error: message %u for channel "
		    "%lu before it was opened", t, (unsigned long)id);
	if (ch->close_in)
		return ssh_fail(c, "protocol error: message %u after channel "
		    "close", t);
	switch (t) {
	case SSH_MSG_CHANNEL_OPEN_CONFIRMATION:
		return recv_open_confirmation(c, ch, msg);
	case SSH_MSG_CHANNEL_OPEN_FAILURE:
		return recv_open_failure(c, ch, msg);
	case SSH_MSG_CHANNEL_WINDOW_ADJUST:
		return recv_window_adjust(c, ch, msg);
	case SSH_MSG_CHANNEL_DATA:
		return recv_data(c, ch, msg, 0);
	case SSH_MSG_CHANNEL_EXTENDED_DATA:
		return recv_data(c, ch, msg, 1);
	case SSH_MSG_CHANNEL_EOF:
		ch->eof_in = 1;
		return 0;
	case SSH_MSG_CHANNEL_CLOSE:
		return recv_close(c, ch);
	case SSH_MSG_CHANNEL_REQUEST:
		return recv_chan_request(c, ch, msg);
	case SSH_MSG_CHANNEL_SUCCESS:
	case SSH_MSG_CHANNEL_FAILURE:
		if (ch->request_pending == 0)
			return ssh_fail(c, "protocol error: unsolicited "
			    "channel reply");
		ch->request_pending--;
		ch->request_answered = 1;
		if (t == SSH_MSG_CHANNEL_FAILURE)
			ch->failed = 1;
		return 0;
	}
	return ssh_fail(c, "protocol error: unexpected message %u", t);
}

/* ------------------------------------------------------------------ */
/* The caller's side                                                   */

/* Open a channel of type with extra fields already in b's tail. */
static int chan_open(struct ssh_conn *c, const char *type,
    const uint8_t *extra, size_t extra_len)
{
	struct ssh_chan *ch;
	struct buf b;
	int id;

	if ((id = chan_alloc(c)) < 0)
		return -1;
	ch = &c->chans[id];
	if (ssh_pkt_begin(c, &b, SSH_MSG_CHANNEL_OPEN) != 0)
		return -1;
	buf_put_cstring(&b, type);
	buf_put_u32(&b, (uint32_t)id);
	buf_put_u32(&b, CHAN_WINDOW);
	buf_put_u32(&b, CHAN_MAXPKT);
	if (buf_put_bytes(&b, extra, extra_len) != 0 || ssh_pkt_send(c, &b))
		return -1;
	if (ssh_wait(c, &ch->open_answered) != 0)
		return -1;
	if (ch->failed)
		return ssh_fail(c, "the server refused a %s channel: %s", type,
		    ch->open_error);
	return id;
}

/* A channel request with want_reply set, its type-specific fields to
 * follow in b. */
static int chan_request_begin(struct ssh_conn *c, struct ssh_chan *ch,
    struct buf *b, const char *type)
{
	if (ssh_pkt_begin(c, b, SSH_MSG_CHANNEL_REQUEST) != 0)
		return -1;
	buf_put_u32(b, ch->remote_id);
	buf_put_cstring(b, type);
	return buf_put_bool(b, 1);
}

/* Send it and wait for the answer: 0 granted, 1 refused, -1 failed. */
static int chan_request_wait(struct ssh_conn *c, struct ssh_chan *ch,
    struct buf *b, const char *what)
{
	ch->request_pending++;
	ch->failed = 0;
	if (ssh_pkt_send(c, b) != 0)
		return -1;
	ch->request_answered = 0;
	if (ssh_wait(c, &ch->request_answered) != 0)
		return -1;
	if (ch->close_in && ch->request_pending > 0)
		return ssh_fail(c, "the server closed the channel instead of "
		    "%s", what);
	return ch->failed ? 1 : 0;
}

/* exec (command) or shell (NULL) on an open session. */
static int chan_start(struct ssh_conn *c, struct ssh_chan *ch,
    const char *command)
{
	const char *what = command != NULL ? "running the command" :
	    "starting a shell";
	struct buf b;
	int r;

	if (chan_request_begin(c, ch, &b, command != NULL ? "exec" :
	    "shell") != 0)
		return -1;
	if (command != NULL && buf_put_cstring(&b, command) != 0)
		return ssh_fail(c, "command line too long");
	if ((r = chan_request_wait(c, ch, &b, what)) != 0)
		return r < 0 ? -1 : ssh_fail(c, "the server refused %s",
		    command != NULL ? "to run the command" :
		    "to start a shell");
	c->deadline = 0;          /* set up: from here on, keepalives rule */
	return 0;
}

/* RFC 4254 6.2, with no terminal modes: the server's defaults. */
static int chan_pty_req(struct ssh_conn *c, struct ssh_chan *ch,
    const struct ssh_pty *pty)
{
	static const uint8_t no_modes[1] = { 0 };	/* TTY_OP_END */
	struct buf b;

	if (chan_request_begin(c, ch, &b, "pty-req") != 0 ||
	    buf_put_cstring(&b, pty->term) != 0 ||
	    buf_put_u32(&b, pty->cols) != 0 ||
	    buf_put_u32(&b, pty->rows) != 0 ||
	    buf_put_u32(&b, 0) != 0 || buf_put_u32(&b, 0) != 0 ||
	    buf_put_string(&b, no_modes, sizeof no_modes) != 0)
		return ssh_fail(c, "terminal type too long");
	return chan_request_wait(c, ch, &b, "allocating a terminal");
}

int ssh_chan_exec(struct ssh_conn *c, const char *command)
{
	int id;

	if ((id = chan_open(c, "session", NULL, 0)) < 0)
		return -1;
	return chan_start(c, &c->chans[id], command) != 0 ? -1 : id;
}

int ssh_chan_session(struct ssh_conn *c, const struct ssh_pty *pty,
    const char *command, int *pty_refused)
{
	int id, r;

	*pty_refused = 0;
	if ((id = chan_open(c, "session", NULL, 0)) < 0)
		return -1;
	if (pty != NULL) {
		if ((r = chan_pty_req(c, &c->chans[id], pty)) < 0)
			return -1;
		*pty_refused = r;
	}
	return chan_start(c, &c->chans[id], command) != 0 ? -1 : id;
}

int ssh_chan_window_change(struct ssh_conn *c, int id, uint32_t rows,
    uint32_t cols)
{
	struct ssh_chan *ch = &c->chans[id];
	struct buf b;

	if (!ch->open || ch->close_in || ch->close_out)
		return 0;
	if (!ssh_can_send(c))
		return c->dead ? -1 : 1;
	if (ssh_pkt_begin(c, &b, SSH_MSG_CHANNEL_REQUEST) != 0)
		return -1;
	buf_put_u32(&b, ch->remote_id);
	buf_put_cstring(&b, "window-change");
	buf_put_bool(&b, 0);
	buf_put_u32(&b, cols);
	buf_put_u32(&b, rows);
	buf_put_u32(&b, 0);
	buf_put_u32(&b, 0);
	return ssh_pkt_send(c, &b);
}

int ssh_chan_direct_tcpip(struct ssh_conn *c, const char *host, int port)
{
	uint8_t mem[600];
	struct buf b;
	int id;

	buf_init(&b, mem, sizeof mem);
	if (buf_put_cstring(&b, host) != 0)
		return ssh_fail(c, "host name too long");
	buf_put_u32(&b, (uint32_t)port);
	buf_put_cstring(&b, "127.0.0.1");     /* originator, for logs */
	buf_put_u32(&b, 0);
	if ((id = chan_open(c, "direct-tcpip", b.data, b.len)) < 0)
		return -1;
	c->deadline = 0;
	return id;
}

size_t ssh_chan_peek(struct ssh_conn *c, int id, int ext, const uint8_t **p)
{
	struct ssh_chan *ch = &c->chans[id];
	struct buf *b = ext ? &ch->ext : &ch->data;

	*p = buf_ptr(b);
	return buf_avail(b);
}

void ssh_chan_consume(struct ssh_conn *c, int id, int ext, size_t n)
{
	struct ssh_chan *ch = &c->chans[id];
	struct buf *b = ext ? &ch->ext : &ch->data;

	buf_skip(b, n);
	if (buf_avail(b) == 0)
		buf_reset(b);
	ch->consumed += (uint32_t)n;
	chan_adjust_window(c, ch);
}

size_t ssh_chan_writable(struct ssh_conn *c, int id)
{
	struct ssh_chan *ch = &c->chans[id];

	if (!ch->open || ch->want_eof || ch->close_in || !ssh_can_send(c))
		return 0;
	return ch->remote_window < CHAN_SEND_CHUNK ? ch->remote_window :
	    CHAN_SEND_CHUNK;
}

size_t ssh_chan_write(struct ssh_conn *c, int id, const uint8_t *p, size_t n)
{
	struct ssh_chan *ch = &c->chans[id];
	size_t room = ssh_chan_writable(c, id), sent = 0, k;
	struct buf b;

	if (n > room)
		n = room;
	/* A packet may start a rekey, after which only KEX may be sent. */
	while (sent < n && !ssh_in_kex(c)) {
		k = n - sent;
		if (k > ch->remote_maxpkt)
			k = ch->remote_maxpkt;
		if (k > SSH_MAX_PAYLOAD - 16)
			k = SSH_MAX_PAYLOAD - 16;
		if (ssh_pkt_begin(c, &b, SSH_MSG_CHANNEL_DATA) != 0)
			break;
		buf_put_u32(&b, ch->remote_id);
		if (buf_put_string(&b, p + sent, k) != 0 ||
		    ssh_pkt_send(c, &b) != 0)
			break;
		sent += k;
		ch->remote_window -= (uint32_t)k;
	}
	return sent;
}

void ssh_chan_send_eof(struct ssh_conn *c, int id)
{
	c->chans[id].want_eof = 1;
	chan_send_pending_eof(c, &c->chans[id]);
}

int ssh_chan_eof_received(struct ssh_conn *c, int id)
{
	return c->chans[id].eof_in || c->chans[id].close_in;
}

int ssh_chan_finished(struct ssh_conn *c, int id)
{
	struct ssh_chan *ch = &c->chans[id];

	return ch->close_in && buf_avail(&ch->data) == 0 &&
	    buf_avail(&ch->ext) == 0;
}

struct signame {
	const char *name;
	int number;
};

/* Signal names on the wire (RFC 4254 6.10) and their usual numbers. */
static const struct signame signals[] = {
	{ "HUP", 1 }, { "INT", 2 }, { "QUIT", 3 }, { "ILL", 4 },
	{ "TRAP", 5 }, { "ABRT", 6 }, { "BUS", 7 }, { "FPE", 8 },
	{ "KILL", 9 }, { "USR1", 10 }, { "SEGV", 11 }, { "USR2", 12 },
	{ "PIPE", 13 }, { "ALRM", 14 }, { "TERM", 15 },
};

int ssh_chan_exit_code(struct ssh_conn *c, int id, const char **signame)
{
	struct ssh_chan *ch = &c->chans[id];
	size_t i;

	*signame = NULL;
	if (!ch->have_exit)
		return -1;
	if (ch->exit_signal[0] == '\0')
		return ch->exit_status;
	*signame = ch->exit_signal;
	for (i = 0; i < sizeof signals / sizeof signals[0]; i++)
		if (strcmp(signals[i].name, ch->exit_signal) == 0)
			return 128 + signals[i].number;
	return 255;
}

/* ------------------------------------------------------------------ */
/* Moving bytes between local descriptors and a channel                */

struct fd_pump {
	int in_fd, out_fd, err_fd;     /* err_fd -1: stderr data dropped */
	uint8_t pend[CHAN_SEND_CHUNK];
	size_t pend_off, pend_len;
	int saved_fl[3];
	int in_open;
	int out_broken, err_broken;
};

static void pump_nonblock(struct fd_pump *s)
{
	int fds[3] = { s->in_fd, s->out_fd, s->err_fd };
	int i, fl;

	for (i = 0; i < 3; i++) {
		s->saved_fl[i] = -1;
		/* A shared terminal keeps its mode; pipes need not block. */
		if (fds[i] < 0 || isatty(fds[i]) ||
		    (fl = fcntl(fds[i], F_GETFL)) < 0 || (fl & O_NONBLOCK))
			continue;
		if (fcntl(fds[i], F_SETFL, fl | O_NONBLOCK) == 0)
			s->saved_fl[i] = fl;
	}
}

static void pump_restore(struct fd_pump *s)
{
	int fds[3] = { s->in_fd, s->out_fd, s->err_fd };
	int i;

	for (i = 0; i < 3; i++)
		if (s->saved_fl[i] >= 0)
			fcntl(fds[i], F_SETFL, s->saved_fl[i]);
}

/* Read from in_fd only what the channel takes now; what a rekey leaves
 * unsent waits in s->pend for the next turn. */
static void pump_in(struct ssh_conn *c, int ch, struct fd_pump *s)
{
	size_t room = ssh_chan_writable(c, ch);
	ssize_t n;

	if (s->pend_len == 0 && room > 0 && s->in_open) {
		n = read(s->in_fd, s->pend, room < sizeof s->pend ? room :
		    sizeof s->pend);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return;
		if (n <= 0) {
			s->in_open = 0;
			ssh_chan_send_eof(c, ch);
			return;
		}
		s->pend_off = 0;
		s->pend_len = (size_t)n;
	}
	n = (ssize_t)ssh_chan_write(c, ch, s->pend + s->pend_off,
	    s->pend_len);
	s->pend_off += (size_t)n;
	s->pend_len -= (size_t)n;
}

static void pump_out(struct ssh_conn *c, int ch, int ext, int fd,
    int *broken)
{
	const uint8_t *p;
	size_t n = ssh_chan_peek(c, ch, ext, &p);
	ssize_t w;

	if (n == 0)
		return;
	if (*broken || fd < 0) {
		ssh_chan_consume(c, ch, ext, n);
		return;
	}
	w = write(fd, p, n);
	if (w < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (w < 0) {
		/* Nobody reads any more: drain quietly, as a pipe would. */
		*broken = 1;
		w = (ssize_t)n;
	}
	ssh_chan_consume(c, ch, ext, (size_t)w);
}

/* Until the channel closes: in_fd to the channel, its data to out_fd
 * and its stderr to err_fd.  -1 if the connection failed. */
int ssh_chan_pump(struct ssh_conn *c, int ch, int in_fd, int out_fd,
    int err_fd)
{
	static struct fd_pump s;
	struct pollfd pfd[4];
	const uint8_t *p;
	int r;

	memset(&s, 0, sizeof s);
	s.in_fd = in_fd;
	s.out_fd = out_fd;
	s.err_fd = err_fd;
	s.in_open = in_fd >= 0;
	pump_nonblock(&s);
	while (!c->dead && !ssh_chan_finished(c, ch)) {
		pfd[0].fd = c->fd;
		pfd[0].events = ssh_poll_events(c);
		if (s.pend_len > 0 && ssh_chan_writable(c, ch))
			pump_in(c, ch, &s);
		pfd[1].fd = s.in_open && s.pend_len == 0 &&
		    ssh_chan_writable(c, ch) ? in_fd : -1;
		pfd[1].events = POLLIN;
		pfd[2].fd = ssh_chan_peek(c, ch, 0, &p) ? out_fd : -1;
		pfd[2].events = POLLOUT;
		pfd[3].fd = ssh_chan_peek(c, ch, 1, &p) ? err_fd : -1;
		pfd[3].events = POLLOUT;
		pfd[0].revents = pfd[1].revents = 0;
		pfd[2].revents = pfd[3].revents = 0;
		/* Stderr bytes with nowhere to go are dropped at once. */
		if (err_fd < 0)
			pump_out(c, ch, 1, -1, &s.err_broken);
		r = poll(pfd, 4, ssh_poll_timeout(c));
		if (r < 0 && errno != EINTR) {
			ssh_fail(c, "poll: %s", strerror(errno));
			break;
		}
		if (ssh_process(c, r > 0 ? pfd[0].revents : 0) != 0)
			break;
		if (pfd[1].revents)
			pump_in(c, ch, &s);
		if (pfd[2].revents)
			pump_out(c, ch, 0, out_fd, &s.out_broken);
		if (pfd[3].revents)
			pump_out(c, ch, 1, err_fd, &s.err_broken);
		ssh_flush(c);
	}
	pump_restore(&s);
	return c->dead ? -1 : 0;
}

int ssh_cmd_sh(struct ssh_opts *o, const char *cmdline)
{
	struct ssh_conn *c;
	const char *sig;
	int ch, code;

	signal(SIGPIPE, SIG_IGN);
	c = ssh_connect(o);
	if (c == NULL) {
		fprintf(stderr, "remowt: out of memory\n");
		return 255;
	}
	if (ssh_failed(c) || (ch = ssh_chan_exec(c, cmdline)) < 0 ||
	    ssh_chan_pump(c, ch, 0, 1, 2) != 0) {
		code = ssh_report(c);
		ssh_close(c);
		return code;
	}
	code = ssh_chan_exit_code(c, ch, &sig);
	if (sig != NULL)
		fprintf(stderr, "remowt: %s: remote command killed by signal "
		    "%s\n", c->host_label, sig);
	else if (code < 0 && !o->quiet)
		fprintf(stderr, "remowt: %s: the server reported no exit "
		    "status\n", c->host_label);
	ssh_close(c);
	return code < 0 ? 255 : code;
}
