/*
 * ssh_min.h - remowt's SSH client: options, transport, authentication
 * and session channels.
 */
#ifndef REMOWT_SSH_MIN_H
#define REMOWT_SSH_MIN_H

#include <stddef.h>
#include <stdint.h>

#include "sshconfig.h"

struct ssh_conn;

/*
 * Connect, exchange keys, verify the host key and authenticate.  Returns
 * NULL only when out of memory; otherwise check ssh_failed() and, on
 * failure, ssh_report() prints the one-line reason and returns 255.
 */
struct ssh_conn *ssh_connect(struct ssh_opts *o);
int ssh_failed(const struct ssh_conn *c);
int ssh_report(struct ssh_conn *c);
void ssh_close(struct ssh_conn *c);

/* Driving a connection from a poll(2) loop. */
int ssh_fd(const struct ssh_conn *c);
short ssh_poll_events(struct ssh_conn *c);
/* Milliseconds until the connection needs attention, -1 for never. */
int ssh_poll_timeout(struct ssh_conn *c);
/* Handle revents of ssh_fd(); -1 once the connection has failed. */
int ssh_process(struct ssh_conn *c, short revents);

/*
 * Session channels.  ssh_chan_exec() opens a session, runs command and
 * waits until the server accepted it: the channel number, or -1.
 * ext selects the stderr stream.
 */
int ssh_chan_exec(struct ssh_conn *c, const char *command);
/* A terminal for a session: its type and size in characters. */
struct ssh_pty {
	const char *term;
	uint32_t rows, cols;
};
/* A session on a terminal (pty NULL: none) running the login shell
 * (command NULL) or command: the channel, or -1.  A server that refuses
 * the terminal (*pty_refused set) runs the session without one. */
int ssh_chan_session(struct ssh_conn *c, const struct ssh_pty *pty,
    const char *command, int *pty_refused);
/* The terminal's new size: 0 sent, 1 not now (a key exchange is on:
 * try again later), -1 if the connection failed. */
int ssh_chan_window_change(struct ssh_conn *c, int ch, uint32_t rows,
    uint32_t cols);
/* A direct-tcpip channel to host:port as seen from the server. */
int ssh_chan_direct_tcpip(struct ssh_conn *c, const char *host, int port);
/* Until the channel closes: in_fd to it, its data to out_fd and its
 * stderr to err_fd (-1: dropped).  -1 if the connection failed. */
int ssh_chan_pump(struct ssh_conn *c, int ch, int in_fd, int out_fd,
    int err_fd);
size_t ssh_chan_peek(struct ssh_conn *c, int ch, int ext, const uint8_t **p);
void ssh_chan_consume(struct ssh_conn *c, int ch, int ext, size_t n);
/* How many bytes ssh_chan_write() will take now. */
size_t ssh_chan_writable(struct ssh_conn *c, int ch);
size_t ssh_chan_write(struct ssh_conn *c, int ch, const uint8_t *p, size_t n);
void ssh_chan_send_eof(struct ssh_conn *c, int ch);
/* Text from the host, for the terminal: control bytes become \xNN
 * (newlines and tabs are kept); out is always NUL-terminated. */
void ssh_sanitize(char *out, size_t outsz, const uint8_t *in, size_t n);
/* 1 once the server sent EOF or closed the channel. */
int ssh_chan_eof_received(struct ssh_conn *c, int ch);
/* 1 once the server closed the channel and all its data was read. */
int ssh_chan_finished(struct ssh_conn *c, int ch);
/* The exit code for remowt: status, 128+N for signal N (*signame set),
 * or -1 if the server reported neither. */
int ssh_chan_exit_code(struct ssh_conn *c, int ch, const char **signame);

/*
 * `remowt sh HOST 'COMMAND LINE'`: connect, run the line through the
 * remote login shell with stdio passed through, and return the exit
 * code to exit with: the remote status, 128+N after death by signal N
 * (with a message), or 255 after a connection or protocol failure.
 */
int ssh_cmd_sh(struct ssh_opts *o, const char *cmdline);

#endif
