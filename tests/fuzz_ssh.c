/*
 * fuzz_ssh.c - libFuzzer harness for the SSH client as seen from the
 * server: version exchange, binary packets, key exchange through NEWKEYS
 * and rekeying, and the transport, authentication and channel messages.
 *
 * Input:
 *   byte 0      mode and options, F_* below
 *   byte 1      how the stream is cut into reads, see chunker_init()
 *   bytes 2..   what the server sends
 *
 * Without F_ESTABLISHED the connection is where ssh_connect() has it
 * once TCP is up: our version line and KEXINIT are out and the server's
 * version is awaited.  With it, the transport is up and unencrypted;
 * with F_AUTH user authentication is under way, else it is done and a
 * session channel is open.  Between reads the harness does what
 * ssh_userauth(), ssh_chan_exec() and the stdio pump would.
 *
 * The client's random numbers are fixed, so its KEXINIT and ephemeral
 * keys are the same in every run.  tests/corpus/gen_fuzz_ssh.py plays
 * the server for those, signing with the host keys listed in
 * known_hosts below, so seeds get through the signature and host key
 * checks into the encrypted transport.
 */

/* The modules are compiled in to reach their static functions. */
#define getrandom fuzz_getrandom
#include "../kex.c"
#undef getrandom

#include "../ssh_min.c"

#include <stdint.h>
#include <sys/mman.h>

#include "askpass.h"

#define FUZZ_HOST "fuzz.example"
#define FUZZ_SERVER_VERSION "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10"
#define FUZZ_REMOTE_ID 0x1000

#define HOSTKEY_ED25519 "ssh-ed25519 " \
	"AAAAC3NzaC1lZDI1NTE5AAAAIDdTtFvnhfD8mnKatCkDcUSPjK39Fm3pOmodMnPxHCgF"
#define HOSTKEY_REVOKED "ssh-ed25519 " \
	"AAAAC3NzaC1lZDI1NTE5AAAAIEBT8Az4YZCAx43zZoIXFdYqLZn3PmG8066x0TNqmHGG"

/*
 * HOSTKEY_ED25519 matches, other Ed25519 keys have changed, the revoked
 * one is refused and keys of other types are unknown.  No ECDSA or RSA
 * lines: decoding them costs a point check or more in every run.
 */
static const char known_hosts_text[] =
    "# the server simulated by tests/corpus/gen_fuzz_ssh.py\n"
    FUZZ_HOST " " HOSTKEY_ED25519 "\n"
    "@revoked * " HOSTKEY_REVOKED "\n";

enum {
	F_ESTABLISHED = 0x01,	/* the transport is up */
	F_LEGACY = 0x02,	/* also allow the SHA-1 algorithms */
	F_VERBOSE = 0x04,	/* -v without -q: debug lines, banners */
	F_CHAN_PENDING = 0x08,	/* a second channel awaits confirmation */
	F_REQ_PENDING = 0x10,	/* the exec request awaits its reply */
	F_READ = 0x20,		/* take channel data as it arrives */
	F_WRITE = 0x40,		/* send channel data, EOF at the end */
	F_AUTH = 0x80,		/* authenticating with method F_METHOD() */
};
#define F_METHOD(f) (((f) >> 3) & 3)

/* The values of userauth.c's enum auth_reply that matter here. */
#define AUTH_STATE_WAITING 0
#define AUTH_STATE_OK 1

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int devnull = -1;
/* The run's first fatal error, for tests/unit_ssh_regress.c. */
static char fuzz_last_error[1024];
static char known_hosts_path[64];
static struct ssh_opts conn_opts;

/*
 * The transport and channel buffers, allocated once: getting and
 * poisoning megabytes in every run would make the fuzzer a hundred
 * times slower.  The client never looks at bytes it did not put there
 * in the same run.
 */
static uint8_t *rbuf_mem, *wbuf_mem;
static uint8_t *chan_mem[2][2];

/*
 * Stands in for getrandom(2) in kex.c: every request gets 1, 2, 3, ...
 * so that the output does not depend on the order of the calls.
 */
ssize_t
fuzz_getrandom(void *p, size_t n, unsigned int flags)
{
	uint8_t *q = p;
	size_t i;

	(void)flags;
	for (i = 0; i < n; i++)
		q[i] = (uint8_t)(i + 1);
	return (ssize_t)n;
}

/* The person at the terminal, who answers every question alike. */
int
askpass(const char *prompt, char *out, size_t outsz, int echo)
{
	int n;

	(void)prompt;
	n = snprintf(out, outsz, "%s", echo ? "fuzz" : "secret");
	return n >= 0 && (size_t)n < outsz ? 0 : -1;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t len = sizeof known_hosts_text - 1;
	int fd, i, ok;

	(void)argc;
	(void)argv;
	/* An anonymous file: nothing to clean up after a crash. */
	if ((fd = memfd_create("known_hosts", 0)) < 0 ||
	    write(fd, known_hosts_text, len) != (ssize_t)len) {
		perror("fuzz_ssh: known_hosts");
		abort();
	}
	snprintf(known_hosts_path, sizeof known_hosts_path,
	    "/proc/self/fd/%d", fd);
	/* Output goes nowhere, and never blocks. */
	if ((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
		perror("fuzz_ssh: /dev/null");
		abort();
	}
	ok = (rbuf_mem = malloc(RBUF_SIZE)) != NULL &&
	    (wbuf_mem = malloc(WBUF_SIZE)) != NULL;
	for (i = 0; i < 4; i++)
		ok = ok && (chan_mem[i / 2][i % 2] = malloc(CHAN_WINDOW)) != NULL;
	if (!ok) {
		perror("fuzz_ssh: buffers");
		abort();
	}
	return 0;
}

static int
fuzz_opts(uint8_t flags)
{
	char kh[sizeof known_hosts_path + 32];

	ssh_opts_init(&conn_opts);
	snprintf(kh, sizeof kh, "UserKnownHostsFile=%s", known_hosts_path);
	if (ssh_opts_destination(&conn_opts, "fuzz@" FUZZ_HOST) != 0 ||
	    ssh_opts_option(&conn_opts, 'o', kh) != 0 ||
	    ssh_opts_option(&conn_opts, 'o', "StrictHostKeyChecking=yes") != 0 ||
	    ssh_opts_option(&conn_opts, 'o', "RekeyLimit=8K") != 0 ||
	    ssh_opts_option(&conn_opts, (flags & F_VERBOSE) ? 'v' : 'q',
	    NULL) != 0)
		return -1;
	if ((flags & F_LEGACY) && (ssh_opts_option(&conn_opts, 'o',
	    "KexAlgorithms=+diffie-hellman-group14-sha1") != 0 ||
	    ssh_opts_option(&conn_opts, 'o', "HostKeyAlgorithms=+ssh-rsa") != 0 ||
	    ssh_opts_option(&conn_opts, 'o',
	    "MACs=+hmac-sha1,hmac-sha1-etm@openssh.com") != 0))
		return -1;
	return 0;
}

/* ssh_connect() up to the TCP connection, which is left out. */
static struct ssh_conn *
fuzz_conn_new(uint8_t flags)
{
	struct ssh_conn *c;

	if (fuzz_opts(flags) != 0)
		abort();
	if ((c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	c->fd = -1;
	c->opts = &conn_opts;
	c->rbuf = rbuf_mem;
	c->wbuf = wbuf_mem;
	snprintf(conn_opts.hostname, sizeof conn_opts.hostname, "%s", conn_opts.host);
	c->port = 22;
	snprintf(c->user, sizeof c->user, "%s", conn_opts.user);
	snprintf(c->host_label, sizeof c->host_label, "%s", conn_opts.hostname);
	/* No deadline: read_version() fails instead of polling. */
	c->deadline = 0;
	if (resolve_algorithms(c) != 0)
		abort();
	c->fd = devnull;
	c->last_rx = now_ms();
	return c;
}

/* As ssh_connect() starts: version line and KEXINIT in one write. */
static void
fuzz_handshake(struct ssh_conn *c)
{
	static const char line[] = CLIENT_VERSION "\r\n";

	memcpy(c->wbuf, line, sizeof line - 1);
	c->wlen = sizeof line - 1;
	if (send_kexinit(c) == 0)
		ssh_flush(c);
}

/* chan_alloc() and, if open, the server's confirmation. */
static void
fuzz_chan_setup(struct ssh_conn *c, int id, int open)
{
	struct ssh_chan *ch = &c->chans[id];

	memset(ch, 0, sizeof *ch);
	ch->in_use = 1;
	ch->local_window = CHAN_WINDOW;
	buf_init(&ch->data, chan_mem[id][0], CHAN_WINDOW);
	buf_init(&ch->ext, chan_mem[id][1], CHAN_WINDOW);
	if (open) {
		ch->open = 1;
		ch->remote_id = FUZZ_REMOTE_ID + (uint32_t)id;
		ch->remote_window = 2 * 1024 * 1024;
		ch->remote_maxpkt = 32 * 1024;
	}
}

/*
 * The state after the first key exchange, minus encryption; the values
 * the rekey seeds of gen_fuzz_ssh.py rely on are fixed.  Then either
 * an authentication attempt awaits its verdict, or ssh_chan_exec() has
 * its channel.
 */
static void
fuzz_establish(struct ssh_conn *c, uint8_t flags)
{
	struct ssh_chan *ch;
	size_t i;

	snprintf(c->server_version, sizeof c->server_version, "%s",
	    FUZZ_SERVER_VERSION);
	if (sshkey_parse_public(&c->hostkey, HOSTKEY_ED25519) != 0)
		abort();
	c->kex_alg = kex_by_name("curve25519-sha256");
	snprintf(c->hostkey_alg, sizeof c->hostkey_alg, "ssh-ed25519");
	for (i = 0; i < 32; i++)
		c->session_id[i] = (uint8_t)(0xa0 + i);
	c->session_id_len = 32;
	c->strict = 1;
	c->kex_done = 1;
	if (flags & F_AUTH) {
		c->auth_method = F_METHOD(flags);
		c->auth_state = AUTH_STATE_WAITING;
		return;
	}
	c->authenticated = 1;
	/* Some traffic since the last exchange: a rekey is nearer. */
	c->bytes_in = 7 * 1024;
	fuzz_chan_setup(c, 0, 1);
	ch = &c->chans[0];
	/* Data read but not yet granted again, or a window left unread
	 * and nearly full: both thresholds are within reach. */
	if (flags & F_READ) {
		ch->consumed = CHAN_WINDOW / 4 - 2048;
		ch->local_window = CHAN_WINDOW - ch->consumed;
	} else {
		ch->data.len = CHAN_WINDOW - 4096;
		ch->local_window = 4096;
	}
	if (flags & F_CHAN_PENDING)
		fuzz_chan_setup(c, 1, 0);
	if (flags & F_REQ_PENDING)
		ch->request_pending = 1;
}

enum exec_state { EXEC_UNSENT, EXEC_SENT, EXEC_DONE };

/* ssh_userauth() and ssh_chan_exec(), a step at a time. */
static void
fuzz_session(struct ssh_conn *c, enum exec_state *exec)
{
	struct ssh_chan *ch = &c->chans[0];

	if (!c->authenticated) {
		if (c->auth_state == AUTH_STATE_OK) {
			c->authenticated = 1;
			fuzz_chan_setup(c, 0, 0);
		} else if (c->auth_replied) {
			/* Refused: the next attempt, by the same method. */
			c->auth_state = AUTH_STATE_WAITING;
			c->auth_replied = 0;
		}
		return;
	}
	switch (*exec) {
	case EXEC_UNSENT:
		if (ch->failed)
			ssh_fail(c, "the server refused a session channel: "
			    "%s", ch->open_error);
		else if (ch->open) {
			ch->request_pending++;
			ch->request_answered = 0;
			*exec = EXEC_SENT;
		}
		break;
	case EXEC_SENT:
		if (ch->request_answered && ch->failed)
			ssh_fail(c, "the server refused to run the command");
		else if (ch->request_answered)
			*exec = EXEC_DONE;
		break;
	case EXEC_DONE:
		break;
	}
}

/* What the stdio pump of `remowt sh` does between reads. */
static void
fuzz_pump(struct ssh_conn *c, uint8_t flags)
{
	static const uint8_t stdin_data[1024];
	const uint8_t *p;
	size_t n;
	int i, ext;

	if (!c->authenticated)
		return;
	for (i = 0; (flags & F_READ) && i < SSH_MAX_CHANNELS; i++) {
		if (!c->chans[i].in_use)
			continue;
		for (ext = 0; ext < 2; ext++)
			if ((n = ssh_chan_peek(c, i, ext, &p)) > 0)
				ssh_chan_consume(c, i, ext, n);
	}
	if ((flags & F_WRITE) && c->chans[0].in_use &&
	    ssh_chan_writable(c, 0) > 0)
		ssh_chan_write(c, 0, stdin_data, sizeof stdin_data);
}

struct chunker {
	uint32_t state;
	size_t max;
};

/*
 * 0 hands the whole stream over in one read; otherwise reads are 1 to
 * 2^(b & 15) bytes long, their lengths drawn from a generator seeded
 * with b.
 */
static void
chunker_init(struct chunker *ck, uint8_t b)
{
	ck->state = 0x9e3779b9u ^ (((uint32_t)b << 8) | b);
	ck->max = b == 0 ? 0 : (size_t)1 << (b & 15);
}

static size_t
chunker_next(struct chunker *ck)
{
	uint32_t x = ck->state;

	if (ck->max == 0)
		return SIZE_MAX;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	ck->state = x;
	return 1 + x % ck->max;
}

/* Bytes arriving from the socket: sock_read() without the read(2). */
static size_t
fuzz_feed(struct ssh_conn *c, const uint8_t *p, size_t n)
{
	if (c->rpos == c->rlen) {
		c->rpos = 0;
		c->rlen = 0;
	} else if (c->rpos > 0 && RBUF_SIZE - c->rlen < MAX_PACKET) {
		memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
		c->rlen -= c->rpos;
		c->rpos = 0;
	}
	if (n > RBUF_SIZE - c->rlen)
		n = RBUF_SIZE - c->rlen;
	memcpy(c->rbuf + c->rlen, p, n);
	c->rlen += n;
	return n;
}

struct vscan {
	size_t pos, start;
	int lines;
};

/*
 * Would read_version() stop after the bytes read so far, with a version
 * line or with an error?  It is called only then: with no deadline it
 * would give up at once instead of waiting for more.
 */
static int
fuzz_version_ready(const struct ssh_conn *c, struct vscan *vs)
{
	for (; vs->pos < c->rlen; vs->pos++) {
		if (c->rbuf[vs->pos] != '\n')
			continue;
		if (vs->pos - vs->start >= 8 &&
		    memcmp(c->rbuf + vs->start, "SSH-", 4) == 0)
			return 1;
		if (++vs->lines > BANNER_MAX_LINES)
			return 1;
		vs->start = vs->pos + 1;
	}
	return c->rlen - vs->start > BANNER_MAX_LINE;
}

static void
fuzz_stream(struct ssh_conn *c, uint8_t flags, struct chunker *ck,
    const uint8_t *data, size_t len)
{
	struct vscan vs = { 0, 0, 0 };
	int have_version = (flags & F_ESTABLISHED) != 0;
	enum exec_state exec = EXEC_DONE;
	size_t off = 0, n;

	if (flags & F_AUTH)
		exec = EXEC_UNSENT;
	else if (flags & F_REQ_PENDING)
		exec = EXEC_SENT;
	while (!c->dead && off < len) {
		n = chunker_next(ck);
		n = fuzz_feed(c, data + off, n < len - off ? n : len - off);
		off += n;
		if (!have_version) {
			if (n > 0 && off < len && !fuzz_version_ready(c, &vs))
				continue;
			if (read_version(c) != 0)
				break;
			have_version = 1;
		} else if (n == 0) {
			break;
		}
		if (process_input(c) != 0)
			break;
		if (flags & F_ESTABLISHED) {
			fuzz_session(c, &exec);
			fuzz_pump(c, flags);
		}
		ssh_flush(c);
	}
	if ((flags & (F_ESTABLISHED | F_WRITE)) == (F_ESTABLISHED | F_WRITE) &&
	    !c->dead && c->chans[0].in_use) {
		ssh_chan_send_eof(c, 0);
		ssh_flush(c);
	}
}

/* What `remowt sh` asks at the end; the answers are not checked. */
static void
fuzz_finish(struct ssh_conn *c)
{
	const char *sig;
	int i;

	for (i = 0; i < SSH_MAX_CHANNELS; i++) {
		if (!c->chans[i].in_use)
			continue;
		(void)ssh_chan_finished(c, i);
		(void)ssh_chan_exit_code(c, i, &sig);
	}
	(void)ssh_poll_events(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct ssh_conn *c;
	struct chunker ck;
	uint8_t flags;

	if (len < 2)
		return 0;
	flags = data[0];
	chunker_init(&ck, data[1]);
	if ((c = fuzz_conn_new(flags)) == NULL)
		return 0;
	if (flags & F_ESTABLISHED)
		fuzz_establish(c, flags);
	else
		fuzz_handshake(c);
	fuzz_stream(c, flags, &ck, data + 2, len - 2);
	fuzz_finish(c);
	snprintf(fuzz_last_error, sizeof fuzz_last_error, "%s", c->err);
	/* What ssh_close() must not free or close. */
	c->fd = -1;
	c->rbuf = NULL;
	c->wbuf = NULL;
	memset(c->chans, 0, sizeof c->chans);
	ssh_close(c);
	return 0;
}
