/*
 * askpass.c - read a passphrase or password from the terminal, never
 * echoed, or from the SSH_ASKPASS program under OpenSSH's rules.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/wait.h>

#include "askpass.h"
#include "buf.h"

/*
 * SSH_ASKPASS_REQUIRE=never: the terminal only; =prefer: the program
 * when SSH_ASKPASS is set; =force: the program even if it means failing.
 * Unset: the program only without a terminal and with a display, as ssh.
 */
static int use_program(int have_tty)
{
	const char *prog = getenv("SSH_ASKPASS");
	const char *req = getenv("SSH_ASKPASS_REQUIRE");

	if (req != NULL && strcmp(req, "never") == 0)
		return 0;
	if (req != NULL && strcmp(req, "force") == 0)
		return 1;
	if (prog == NULL || prog[0] == '\0')
		return 0;
	if (req != NULL && strcmp(req, "prefer") == 0)
		return 1;
	return !have_tty && (getenv("DISPLAY") != NULL ||
	    getenv("WAYLAND_DISPLAY") != NULL);
}

/* Read one line from fd into out, without the newline; -1 on error or
 * if it does not fit. */
static int read_line(int fd, char *out, size_t outsz)
{
	size_t n = 0;
	ssize_t r;
	char ch = '\0';
	int rc = 0;

	for (;;) {
		r = read(fd, &ch, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = n > 0 ? 0 : -1;
			break;
		}
		if (ch == '\n' || ch == '\r')
			break;
		if (n + 1 >= outsz) {
			wipe(out, outsz);
			rc = -1;
			break;
		}
		out[n++] = ch;
		out[n] = '\0';
	}
	out[n] = '\0';
	/* Without a newline, ch is the secret's last byte. */
	wipe(&ch, sizeof ch);
	return rc;
}

static int from_program(const char *prompt, char *out, size_t outsz)
{
	const char *prog = getenv("SSH_ASKPASS");
	int p[2], status, rc;
	pid_t pid;

	if (prog == NULL || prog[0] == '\0') {
		fprintf(stderr, "remowt: SSH_ASKPASS_REQUIRE=force but "
		    "SSH_ASKPASS is not set\n");
		return -1;
	}
	if (pipe(p) != 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		if (dup2(p[1], 1) < 0)
			_exit(127);
		execlp(prog, prog, prompt, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	out[0] = '\0';
	rc = read_line(p[0], out, outsz);
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (rc != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		wipe(out, outsz);
		return -1;
	}
	return 0;
}

static int from_tty(int fd, const char *prompt, char *out, size_t outsz,
    int echo)
{
	struct termios saved, quiet;
	int restore = 0, rc;
	ssize_t w;

	w = write(fd, prompt, strlen(prompt));
	(void)w;
	if (!echo && tcgetattr(fd, &saved) == 0) {
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		if (tcsetattr(fd, TCSAFLUSH, &quiet) == 0)
			restore = 1;
	}
	rc = read_line(fd, out, outsz);
	if (restore) {
		tcsetattr(fd, TCSAFLUSH, &saved);
		w = write(fd, "\n", 1);
		(void)w;
	}
	wipe(&quiet, sizeof quiet);
	return rc;
}

int askpass(const char *prompt, char *out, size_t outsz, int echo)
{
	int fd, rc;

	if (outsz == 0)
		return -1;
	out[0] = '\0';
	fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (use_program(fd >= 0)) {
		if (fd >= 0)
			close(fd);
		return from_program(prompt, out, outsz);
	}
	if (fd < 0)
		return -1;
	rc = from_tty(fd, prompt, out, outsz, echo);
	close(fd);
	return rc;
}
