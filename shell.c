/*
 * shell.c - interactive sessions on a terminal of the host's: `remowt
 * shell` runs the user's login shell (or a program) there through the
 * agent, or through the SSH server's own terminal session where the
 * agent cannot run; `remowt exec -t` runs a program the same way.
 *
 * While the session runs, the local terminal is in raw mode, its size
 * follows SIGWINCH, and typed bytes pass through ssh's escapes: after
 * a newline, ~. disconnects, ~? lists the escapes and ~~ sends one ~.
 * Without a local terminal none of that applies: bytes pass as they
 * are, and shell (as ssh) asks for a terminal there only with -t.
 */
#include <sys/ioctl.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "deploy.h"
#include "shell.h"
#include "ssh_min.h"

#define KEY_CHUNK	4096		/* typed bytes read at a time */
#define OUT_CHUNK	4096		/* bytes written to a terminal at once */
#define SHELL_WINDOW	(256u * 1024)	/* output credit granted the agent */
#define CMDLINE_MAX	65536		/* PROG ARGS quoted for the server */
#define ESC_DEFAULT	'~'
#define ESC_NONE	(-1)

enum { OPT_NO_AGENT = 256 };

/* ------------------------------------------------------------------ */
/* The local terminal                                                  */

static struct {
	int fd;			/* standard input if a terminal, else -1 */
	int raw;		/* saved holds the mode to put back */
	struct termios saved;
} term = { -1, 0, { 0 } };

static void term_restore(void)
{
	if (!term.raw)
		return;
	term.raw = 0;
	(void)tcsetattr(term.fd, TCSADRAIN, &term.saved);
}

static void term_open(void)
{
	static int registered;

	term.fd = isatty(STDIN_FILENO) ? STDIN_FILENO : -1;
	/* The last resort: whatever ends remowt leaves the terminal sane. */
	if (!registered && atexit(term_restore) == 0)
		registered = 1;
}

/* Raw mode as ssh sets it: bytes pass one by one, nothing is echoed or
 * interpreted here, output is not post-processed. */
static void term_raw(void)
{
	struct termios t;

	if (term.fd < 0 || term.raw || tcgetattr(term.fd, &term.saved) != 0)
		return;
	t = term.saved;
	t.c_iflag |= IGNPAR;
	t.c_iflag &= ~(tcflag_t)(ISTRIP | INLCR | IGNCR | ICRNL | IXON |
	    IXANY | IXOFF);
	t.c_lflag &= ~(tcflag_t)(ISIG | ICANON | ECHO | ECHOE | ECHOK |
	    ECHONL | IEXTEN);
	t.c_oflag &= ~(tcflag_t)OPOST;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(term.fd, TCSADRAIN, &t) == 0)
		term.raw = 1;
}

/* The terminal's size in characters; 0 x 0 without a terminal. */
static void term_size(uint32_t *rows, uint32_t *cols)
{
	struct winsize ws;

	*rows = *cols = 0;
	if (term.fd >= 0 && ioctl(term.fd, TIOCGWINSZ, &ws) == 0) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
	}
}

/* After ~.: the cursor may be anywhere on the line. */
static void say_disconnected(const char *who)
{
	if (term.fd >= 0)
		fputc('\n', stderr);
	warnx_("%s: disconnected", who);
}

static const char *term_type(void)
{
	const char *t = getenv("TERM");

	return t != NULL && *t != '\0' ? t : "dumb";
}

static void write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* ------------------------------------------------------------------ */
/* Signals: ended sessions and window size changes, through a pipe     */

static int sig_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
	unsigned char c = (unsigned char)sig;
	int e = errno;

	if (write(sig_pipe[1], &c, 1) < 0)
		(void)0;
	errno = e;
}

static int catch_signals(void)
{
	static const int ends[] = { SIGTERM, SIGHUP, SIGINT, SIGQUIT };
	struct sigaction sa;
	size_t i;

	if (sig_pipe[0] < 0 && pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	for (i = 0; i < sizeof ends / sizeof ends[0]; i++)
		sigaction(ends[i], &sa, NULL);
	if (term.fd >= 0)
		sigaction(SIGWINCH, &sa, NULL);
	return 0;
}

/* Signals since the last call: *winch set on SIGWINCH; the signal that
 * ends the session, or 0. */
static int take_signals(int *winch)
{
	unsigned char sigs[16];
	ssize_t n, i;
	int end = 0;

	*winch = 0;
	while ((n = read(sig_pipe[0], sigs, sizeof sigs)) > 0)
		for (i = 0; i < n; i++) {
			if (sigs[i] == SIGWINCH)
				*winch = 1;
			else
				end = sigs[i];
		}
	return end;
}

/* ------------------------------------------------------------------ */
/* Typed bytes and escapes                                             */

struct keys {
	int fd;			/* standard input */
	int open;		/* not at its end yet */
	int esc;		/* the escape character, or ESC_NONE */
	int at_bol;		/* the last byte passed ended a line */
	int esc_seen;		/* and the escape character followed it */
	uint8_t out[KEY_CHUNK + 1];	/* passed, not yet sent */
	size_t off, len;
};

enum { KEYS_MORE, KEYS_EOF, KEYS_QUIT };

static void keys_init(struct keys *k, int esc)
{
	memset(k, 0, sizeof *k);
	k->fd = STDIN_FILENO;
	k->open = 1;
	k->esc = term.fd >= 0 ? esc : ESC_NONE;
	k->at_bol = 1;
}

static int keys_pending(const struct keys *k)
{
	return k->off < k->len;
}

static void escape_help(int esc)
{
	char text[400];
	int n;

	n = snprintf(text, sizeof text, "Supported escape sequences:\r\n"
	    " %c.   - disconnect\r\n"
	    " %c?   - this message\r\n"
	    " %c%c   - send the escape character by typing it twice\r\n"
	    "(Note that escapes are only recognized immediately after "
	    "newline.)\r\n", esc, esc, esc, esc);
	if (n > 0)
		write_all(STDERR_FILENO, text, (size_t)n < sizeof text ?
		    (size_t)n : sizeof text - 1);
}

/*
 * in[0..n) into k->out with escapes acted on, as ssh does: one is seen
 * only right after a newline; an escape character followed by a byte
 * that is not a command passes on with that byte.
 */
static int keys_filter(struct keys *k, const uint8_t *in, size_t n)
{
	size_t i;
	uint8_t ch;

	for (i = 0; i < n; i++) {
		ch = in[i];
		if (k->esc_seen) {
			k->esc_seen = 0;
			if (ch == '.')
				return KEYS_QUIT;
			if (ch == '?') {
				escape_help(k->esc);
				continue;
			}
			if (ch != k->esc)
				k->out[k->len++] = (uint8_t)k->esc;
		} else if (k->at_bol && ch == k->esc) {
			k->esc_seen = 1;
			continue;
		}
		k->at_bol = ch == '\r' || ch == '\n';
		k->out[k->len++] = ch;
	}
	return KEYS_MORE;
}

/* Read what was typed; only when what was read before has been sent. */
static int keys_read(struct keys *k)
{
	uint8_t in[KEY_CHUNK];
	ssize_t n;

	k->off = k->len = 0;
	do
		n = read(k->fd, in, sizeof in);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return KEYS_MORE;
	if (n <= 0) {
		k->open = 0;
		return KEYS_EOF;
	}
	return keys_filter(k, in, (size_t)n);
}

/* ------------------------------------------------------------------ */
/* Sessions through the agent                                          */

struct agent_session {
	struct cli *cli;
	int pty;		/* on a terminal of the host's */
	struct rpc_call call;
	struct keys keys;
	int to_agent[2];	/* typed bytes; the call's stdin reads [0] */
	int quit;		/* ~. was typed */
	int ended_by;		/* a signal ended the session */
	uint32_t rows, cols;	/* the size the host's terminal has */
};

/* Raw mode once the program runs, and only if it is typed to. */
static void on_agent_reply(struct rpc_call *call, const struct rpc_reply *r)
{
	const struct agent_session *s = call->arg;

	if (r->type == RPC_R_STARTED && s->pty && s->keys.open)
		term_raw();
}

static void agent_resize(struct agent_session *s)
{
	uint32_t rows, cols;

	term_size(&rows, &cols);
	if (rows == s->rows && cols == s->cols)
		return;
	s->rows = rows;
	s->cols = cols;
	/* An answer would only tell that the program has ended already. */
	rpc_winsize_detached(s->cli->rpc, s->call.id, rows, cols);
}

static void agent_send_typed(struct agent_session *s)
{
	struct keys *k = &s->keys;
	ssize_t w;

	while (keys_pending(k)) {
		w = write(s->to_agent[1], k->out + k->off, k->len - k->off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return;
		if (w <= 0) {
			k->off = k->len;	/* nobody takes it any more */
			return;
		}
		k->off += (size_t)w;
	}
}

static void agent_typed(struct agent_session *s)
{
	int r = keys_read(&s->keys);

	if (r == KEYS_QUIT) {
		s->quit = 1;
	} else if (r == KEYS_EOF) {
		/* The RPC client reads the end and sends S_EOF. */
		close(s->to_agent[1]);
		s->to_agent[1] = -1;
	} else {
		agent_send_typed(s);
	}
}

static int agent_pollfds(void *arg, struct pollfd *pfd, int max)
{
	struct agent_session *s = arg;
	int n = 0;

	if (max < 2)
		return 0;
	pfd[n].fd = sig_pipe[0];
	pfd[n++].events = POLLIN;
	if (keys_pending(&s->keys) && s->to_agent[1] >= 0) {
		pfd[n].fd = s->to_agent[1];
		pfd[n++].events = POLLOUT;
	} else if (s->keys.open && s->to_agent[1] >= 0) {
		pfd[n].fd = s->keys.fd;
		pfd[n++].events = POLLIN;
	}
	return n;
}

/* pfd as agent_pollfds() left it; n is 0 after a signal interrupted
 * poll: only the signals are new then. */
static void agent_process(void *arg, const struct pollfd *pfd, int n)
{
	struct agent_session *s = arg;
	int winch, end;

	if ((end = take_signals(&winch)) != 0)
		s->ended_by = end;
	if (winch)
		agent_resize(s);
	if (n < 2 || pfd[1].revents == 0)
		return;
	if (pfd[1].events & POLLOUT)
		agent_send_typed(s);
	else
		agent_typed(s);
}

static int agent_session_over(void *arg)
{
	struct agent_session *s = arg;

	return s->quit || s->ended_by != 0 || rpc_call_finished(&s->call);
}

/* The exit code a finished call stands for, as exec gives it. */
static int agent_exit_code(struct cli *cli, const struct rpc_call *call,
    const char *what)
{
	uint32_t v = call->exit_value;
	const char *name;
	int err;

	if (call->final == RPC_R_ERROR) {
		report_call(cli, what, call);
		err = rpc_err_to_errno(call->err);
		return err == ENOENT ? 127 : err == EACCES || err == ENOEXEC ?
		    126 : EXIT_FAIL;
	}
	if (call->exit_kind == RPC_EXIT_CODE)
		return (int)(v & 0xff);
	name = rpc_sig_name(v);
	if (call->exit_kind == RPC_EXIT_TIMEOUT)
		warnx_("%s: %s: timed out, process group killed", cli->cmd,
		    what);
	else
		warnx_("%s: %s: killed by signal %s%s", cli->cmd, what,
		    name != NULL ? name : "?",
		    (call->exit_flags & RPC_EXIT_CORE) ? " (core dumped)" : "");
	return 128 + (int)(v >= RPC_SIG_RAW ? v - RPC_SIG_RAW : v);
}

static int agent_session_start(struct agent_session *s,
    const struct rpc_exec_req *x)
{
	struct rpc_pty pty;
	int fl;

	if (pipe2(s->to_agent, O_CLOEXEC) != 0 ||
	    (fl = fcntl(s->to_agent[1], F_GETFL)) < 0 ||
	    fcntl(s->to_agent[1], F_SETFL, fl | O_NONBLOCK) != 0)
		return -1;
	term_size(&s->rows, &s->cols);
	pty.rows = s->rows;
	pty.cols = s->cols;
	pty.term = term_type();
	rpc_call_init(&s->call, on_agent_reply, s);
	if (rpc_sink_fd(&s->call, RPC_CHAN_OUT, STDOUT_FILENO,
	    SHELL_WINDOW) != 0 || (!s->pty && rpc_sink_fd(&s->call,
	    RPC_CHAN_ERR, STDERR_FILENO, SHELL_WINDOW) != 0))
		return -1;
	if (x->flags & RPC_EXEC_NO_STDIN)
		s->keys.open = 0;
	else if (rpc_source_fd(&s->call, s->to_agent[0]) != 0)
		return -1;
	rpc_client_watch(s->cli->rpc, agent_pollfds, agent_process, s);
	if (!s->pty)
		return rpc_exec(s->cli->rpc, &s->call, x);
	return rpc_exec_pty(s->cli->rpc, &s->call, x, &pty);
}

static void close_pipe(int p[2])
{
	int i;

	for (i = 0; i < 2; i++)
		if (p[i] >= 0) {
			close(p[i]);
			p[i] = -1;
		}
}

/* x through the agent cli is connected to, on a terminal if pty. */
static int run_on_agent(struct cli *cli, const struct rpc_exec_req *x,
    int pty, int esc, const char *what)
{
	static struct agent_session s;
	int rc, err = 0;

	memset(&s, 0, sizeof s);
	s.cli = cli;
	s.pty = pty;
	s.to_agent[0] = s.to_agent[1] = -1;
	keys_init(&s.keys, esc);
	if (catch_signals() != 0 || agent_session_start(&s, x) != 0) {
		err = errno;
		rc = -1;
	} else {
		rc = rpc_run(cli->rpc, agent_session_over, &s);
	}
	term_restore();
	if (rc != 0 && rpc_client_error(cli->rpc) == NULL) {
		warnx_("%s: cannot start: %s", cli->cmd, strerror(err));
		rc = EXIT_FAIL;
	} else if (rc != 0) {
		rc = session_lost(cli);
	} else if (s.quit) {
		say_disconnected(cli->local ? "the local agent" :
		    cli->ssh.host);
		rc = EXIT_CONN;
	} else if (s.ended_by != 0) {
		rc = 128 + s.ended_by;
	} else {
		rc = agent_exit_code(cli, &s.call, what);
	}
	rpc_client_watch(cli->rpc, NULL, NULL, NULL);
	rpc_call_release(&s.call);
	close_pipe(s.to_agent);
	return rc;
}

int exec_on_terminal(struct cli *cli, const struct rpc_exec_req *x)
{
	term_open();
	return run_on_agent(cli, x, 1, ESC_DEFAULT, x->argv[0]);
}

struct shell_opts {
	int esc;
	int pty;		/* -t, or standard input is a terminal */
	int no_agent;
};

/* The login shell, or prog with its arguments. */
static int shell_on_agent(struct cli *cli, char **prog,
    const struct shell_opts *o)
{
	static char *login[] = { "", NULL };
	struct rpc_exec_req x;

	memset(&x, 0, sizeof x);
	x.argv = prog != NULL ? prog : login;
	x.flags = prog != NULL ? 0 : RPC_EXEC_LOGIN;
	return run_on_agent(cli, &x, o->pty, o->esc, prog != NULL ? prog[0] :
	    "login shell");
}

/* ------------------------------------------------------------------ */
/* Sessions through the server's own terminal, without the agent       */

struct server_session {
	struct ssh_conn *c;
	int ch;
	int pty;		/* the server granted a terminal */
	struct keys keys;
	int eof_sent;
	int quit;
	int ended_by;
	int resize_due;		/* the new size waits for a key exchange */
	uint32_t rows, cols;
	int out_broken[2];	/* stdout, stderr: nobody reads them */
};

/* Typed bytes go as the channel window allows, then the channel EOF. */
static void server_send_typed(struct server_session *s)
{
	struct keys *k = &s->keys;

	k->off += ssh_chan_write(s->c, s->ch, k->out + k->off,
	    k->len - k->off);
	if (!keys_pending(k) && !k->open && !s->eof_sent) {
		ssh_chan_send_eof(s->c, s->ch);
		s->eof_sent = 1;
	}
}

static void server_typed(struct server_session *s)
{
	int r = keys_read(&s->keys);

	if (r == KEYS_QUIT)
		s->quit = 1;
	else
		server_send_typed(s);
}

static void server_resize(struct server_session *s)
{
	uint32_t rows, cols;
	int r;

	term_size(&rows, &cols);
	if (!s->resize_due && rows == s->rows && cols == s->cols)
		return;
	s->rows = rows;
	s->cols = cols;
	r = ssh_chan_window_change(s->c, s->ch, rows, cols);
	s->resize_due = r == 1;
}

/* What the server sent on stdout (ext 0) or stderr (ext 1), to fd. */
static void server_output(struct server_session *s, int ext, int fd)
{
	const uint8_t *p;
	size_t n = ssh_chan_peek(s->c, s->ch, ext, &p);
	ssize_t w;

	if (n == 0)
		return;
	if (s->out_broken[ext]) {
		ssh_chan_consume(s->c, s->ch, ext, n);
		return;
	}
	w = write(fd, p, n < OUT_CHUNK ? n : OUT_CHUNK);
	if (w < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (w < 0) {
		s->out_broken[ext] = 1;
		w = (ssize_t)n;
	}
	ssh_chan_consume(s->c, s->ch, ext, (size_t)w);
}

enum { P_SSH, P_SIG, P_KEYS, P_OUT, P_ERR, P_N };

static void server_pollfds(struct server_session *s, struct pollfd *pfd)
{
	const uint8_t *p;
	int i;

	pfd[P_SSH].fd = ssh_fd(s->c);
	pfd[P_SSH].events = ssh_poll_events(s->c);
	pfd[P_SIG].fd = sig_pipe[0];
	pfd[P_SIG].events = POLLIN;
	pfd[P_KEYS].fd = s->keys.open && !keys_pending(&s->keys) &&
	    ssh_chan_writable(s->c, s->ch) > 0 ? s->keys.fd : -1;
	pfd[P_KEYS].events = POLLIN;
	pfd[P_OUT].fd = ssh_chan_peek(s->c, s->ch, 0, &p) > 0 ?
	    STDOUT_FILENO : -1;
	pfd[P_OUT].events = POLLOUT;
	pfd[P_ERR].fd = ssh_chan_peek(s->c, s->ch, 1, &p) > 0 ?
	    STDERR_FILENO : -1;
	pfd[P_ERR].events = POLLOUT;
	for (i = 0; i < P_N; i++)
		pfd[i].revents = 0;
}

/* Until the channel closes, ~. is typed or a signal ends it: 0, or -1
 * if the connection failed. */
static int server_loop(struct server_session *s)
{
	struct pollfd pfd[P_N];
	int r, winch, end;

	while (!s->quit && s->ended_by == 0 &&
	    !ssh_chan_finished(s->c, s->ch)) {
		if (keys_pending(&s->keys) || (!s->keys.open && !s->eof_sent))
			server_send_typed(s);
		if (s->resize_due)
			server_resize(s);
		server_pollfds(s, pfd);
		r = poll(pfd, P_N, ssh_poll_timeout(s->c));
		if (r < 0 && errno != EINTR) {
			warnx_("poll: %s", strerror(errno));
			return -1;
		}
		if (ssh_process(s->c, r > 0 ? pfd[P_SSH].revents : 0) != 0)
			return -1;
		if ((end = take_signals(&winch)) != 0)
			s->ended_by = end;
		if (winch)
			server_resize(s);
		if (pfd[P_KEYS].revents)
			server_typed(s);
		if (pfd[P_OUT].revents)
			server_output(s, 0, STDOUT_FILENO);
		if (pfd[P_ERR].revents)
			server_output(s, 1, STDERR_FILENO);
	}
	return 0;
}

/* argv as one command line for the server's shell, each word quoted. */
static int join_quoted(char *const *argv, char *out, size_t size)
{
	size_t n = 0;
	const char *a;

	for (; *argv != NULL; argv++) {
		/* Room for a space, both quotes and the NUL. */
		if (n + 4 > size)
			return -1;
		if (n > 0)
			out[n++] = ' ';
		out[n++] = '\'';
		for (a = *argv; *a != '\0'; a++) {
			/* An escaped quote, the closing one, the NUL. */
			if (n + 6 > size)
				return -1;
			if (*a == '\'') {
				memcpy(out + n, "'\\''", 4);
				n += 4;
			} else {
				out[n++] = *a;
			}
		}
		out[n++] = '\'';
	}
	out[n] = '\0';
	return 0;
}

static int server_exit_code(struct server_session *s, const char *host)
{
	const char *sig;
	int code = ssh_chan_exit_code(s->c, s->ch, &sig);

	if (sig != NULL)
		warnx_("%s: remote shell killed by signal %s", host, sig);
	else if (code < 0)
		warnx_("%s: the server reported no exit status", host);
	return code < 0 ? EXIT_CONN : code;
}

static int shell_on_server(struct ssh_conn *c, const char *host,
    char **prog, const struct shell_opts *o)
{
	static char cmdline[CMDLINE_MAX];
	static struct server_session s;
	struct ssh_pty pty;
	int refused, rc;

	if (prog != NULL && join_quoted(prog, cmdline, sizeof cmdline) != 0) {
		warnx_("shell: the command line is too long");
		return EXIT_USAGE;
	}
	memset(&s, 0, sizeof s);
	s.c = c;
	keys_init(&s.keys, o->esc);
	term_size(&s.rows, &s.cols);
	pty.term = term_type();
	pty.rows = s.rows;
	pty.cols = s.cols;
	if (catch_signals() != 0) {
		warnx_("shell: cannot start: %s", strerror(errno));
		return EXIT_FAIL;
	}
	s.ch = ssh_chan_session(c, o->pty ? &pty : NULL, prog != NULL ?
	    cmdline : NULL, &refused);
	if (s.ch < 0)
		return ssh_report(c);
	s.pty = o->pty && !refused;
	if (refused)
		warnx_("%s: the server refused a terminal; going on without "
		    "one", host);
	else if (s.pty)
		term_raw();
	rc = server_loop(&s);
	term_restore();
	if (rc != 0)
		return ssh_failed(c) ? ssh_report(c) : EXIT_CONN;
	if (s.quit) {
		say_disconnected(host);
		return EXIT_CONN;
	}
	if (s.ended_by != 0)
		return 128 + s.ended_by;
	return server_exit_code(&s, host);
}

/* ------------------------------------------------------------------ */
/* The command                                                         */

/* -e as ssh takes it: one character, ^X for a control character, or
 * "none". */
static int parse_escape(const char *s, int *esc)
{
	if (strcmp(s, "none") == 0)
		*esc = ESC_NONE;
	else if (s[0] == '^' && s[1] != '\0' && s[2] == '\0')
		*esc = (unsigned char)s[1] & 0x1f;
	else if (s[0] != '\0' && s[1] == '\0')
		*esc = (unsigned char)s[0];
	else {
		warnx_("bad escape character '%s' (one character, ^X or "
		    "none)", s);
		return -1;
	}
	return 0;
}

static int shell_opt(struct cli *cli, void *arg, int ch, const char *val)
{
	struct shell_opts *o = arg;

	(void)cli;
	if (ch == 'e')
		return parse_escape(val, &o->esc);
	if (ch == 't')
		o->pty = 1;
	if (ch == OPT_NO_AGENT)
		o->no_agent = 1;
	return 0;
}

/*
 * Through the agent if it runs on the host; else, on the same
 * connection, through the server's own terminal session.
 */
static int shell_remote(struct cli *cli, char **prog,
    const struct shell_opts *o)
{
	const char *host = cli->ssh.host;
	struct rpc_link link;
	struct ssh_conn *c;
	int rc;

	if ((c = ssh_connect(&cli->ssh)) == NULL) {
		warnx_("out of memory");
		return EXIT_CONN;
	}
	if (ssh_failed(c)) {
		rc = ssh_report(c);
		ssh_close(c);
		return rc;
	}
	if (!o->no_agent) {
		if (deploy_start(c, host, cli->cache ? cli->cache : "", &link,
		    &cli->deploy) == 0 &&
		    agent_session(cli, &link, host) == 0) {
			rc = shell_on_agent(cli, prog, o);
			disconnect(cli);
			ssh_close(c);
			return rc;
		}
		disconnect(cli);
		if (ssh_failed(c)) {
			ssh_close(c);
			return EXIT_CONN;
		}
		warnx_("%s: the agent cannot run there; using the server's "
		    "own terminal session instead", host);
	}
	rc = shell_on_server(c, host, prog, o);
	ssh_close(c);
	return rc;
}

int cmd_shell(struct cli *cli, int argc, char **argv)
{
	static const struct optdef defs[] = { { 'e', NULL, 1 },
	    { 't', NULL, 0 }, { OPT_NO_AGENT, "no-agent", 0 }, { 0, 0, 0 } };
	struct shell_opts o = { ESC_DEFAULT, 0, 0 };
	char **prog;
	int i = 0, rc;

	if (parse_opts(cli, argc, argv, &i, defs, shell_opt, &o) != 0)
		return usage_error(cli);
	if (!cli->local) {
		if (i >= argc || cli->dashdash)
			return usage_error(cli);
		if (ssh_opts_destination(&cli->ssh, argv[i++]) != 0)
			return EXIT_CONN;
		if (parse_opts(cli, argc, argv, &i, defs, shell_opt, &o) != 0)
			return usage_error(cli);
	}
	if (cli->json || (cli->local && o.no_agent)) {
		warnx_("shell: %s does not apply here", cli->json ? "--json" :
		    "--no-agent");
		return usage_error(cli);
	}
	prog = i < argc ? argv + i : NULL;
	term_open();
	if (term.fd >= 0)
		o.pty = 1;
	if (!cli->local)
		return shell_remote(cli, prog, &o);
	if ((rc = connect_agent(cli, NULL)) != 0)
		return rc;
	return shell_on_agent(cli, prog, &o);
}
