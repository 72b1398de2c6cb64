/*
 * fuzz_config.c - libFuzzer harness for the ssh_config reader and the
 * -o and destination parsers.
 *
 * The input is a config file, read through -F from a memfd so nothing
 * touches the disk.  Its first line, if it starts with "-o", is also
 * given as a -o option, and the host name comes from the second byte so
 * that Host and Match blocks take different paths.
 *
 * Include meets a small tree of its own: HOME is a fixture directory
 * whose .ssh holds a few config files, a FIFO and a subdirectory, and
 * inputs whose Include names anything outside it (an absolute path, ~,
 * a token, "..") are passed over.  A glob over the whole machine costs
 * milliseconds, reads whatever files happen to be there and makes runs
 * differ from one machine to the next.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "sshconfig.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const hosts[] = {
	"router", "host.example", "10.0.0.1", "[::1]:22", "user@box:2222",
	"ssh://admin@edge:22", "x", "-bad",
};

static char home[64];

static const struct {
	const char *name;
	const char *text;	/* NULL: a FIFO */
} fixtures[] = {
	{ ".ssh/config", "Host router\n\tHostName 10.0.0.1\n\tPort 2200\n" },
	{ ".ssh/config.d/a.conf", "Host *\n\tUser a\n\tInclude b.conf\n" },
	{ ".ssh/config.d/b.conf", "Match host x exec true\n\tPort 7\n" },
	{ ".ssh/b.conf", "Host *.example\n\tIdentityFile ~/.ssh/id_%r\n" },
	{ ".ssh/self.conf", "Include self.conf\n" },
	{ ".ssh/fifo", NULL },
};

static void remove_fixtures(void)
{
	char path[128];
	size_t i;

	for (i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", home, fixtures[i].name);
		unlink(path);
	}
	snprintf(path, sizeof path, "%s/.ssh/config.d", home);
	rmdir(path);
	snprintf(path, sizeof path, "%s/.ssh", home);
	rmdir(path);
	rmdir(home);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[128];
	size_t i;
	FILE *f;

	(void)argc;
	(void)argv;
	snprintf(home, sizeof home, "/tmp/fuzz-config.XXXXXX");
	if (mkdtemp(home) == NULL) {
		perror("fuzz_config: fixture directory");
		abort();
	}
	snprintf(path, sizeof path, "%s/.ssh", home);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/.ssh/config.d", home);
	mkdir(path, 0700);
	for (i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", home, fixtures[i].name);
		if (fixtures[i].text == NULL) {
			mkfifo(path, 0600);
		} else if ((f = fopen(path, "w")) != NULL) {
			fputs(fixtures[i].text, f);
			fclose(f);
		}
	}
	atexit(remove_fixtures);
	setenv("HOME", home, 1);
	return 0;
}

/* An Include argument that stays inside ~/.ssh. */
static int arg_confined(const char *a, size_t n)
{
	while (n > 0 && (*a == '"' || *a == '\''))
		a++, n--;
	if (n == 0)
		return 1;
	if (*a == '/' || *a == '~')
		return 0;
	for (; n > 0; a++, n--)
		if (*a == '%' || *a == '$' || (n > 1 && a[0] == '.' &&
		    a[1] == '.'))
			return 0;
	return 1;
}

/* Every Include line's arguments stay inside ~/.ssh. */
static int includes_confined(const uint8_t *data, size_t len)
{
	const char *p = (const char *)data, *end = p + len, *eol, *a, *next;

	for (; p < end; p = next) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		next = eol < end ? eol + 1 : end;
		while (p < eol && isspace((unsigned char)*p))
			p++;
		if (eol - p > 1 && p[0] == '-' && p[1] == 'o')
			p += 2;
		if (eol - p < 7 || strncasecmp(p, "include", 7) != 0)
			continue;
		for (p += 7; p < eol; p = a) {
			while (p < eol && (isspace((unsigned char)*p) ||
			    *p == '='))
				p++;
			for (a = p; a < eol && !isspace((unsigned char)*a); a++)
				;
			if (!arg_confined(p, (size_t)(a - p)))
				return 0;
		}
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct ssh_opts o;
	char path[64], opt[256], out[1024];
	const uint8_t *nl;
	int fd;

	if (!includes_confined(data, len))
		return -1;
	fd = memfd_create("fuzz-config", 0);
	if (fd < 0)
		return 0;
	if (len > 0 && write(fd, data, len) != (ssize_t)len) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	ssh_opts_init(&o);
	if (len > 2 && data[0] == '-' && data[1] == 'o') {
		nl = memchr(data, '\n', len);
		size_t n = (size_t)((nl ? nl : data + len) - data) - 2;
		if (n < sizeof opt) {
			memcpy(opt, data + 2, n);
			opt[n] = '\0';
			ssh_opts_option(&o, 'o', opt);
		}
	}
	ssh_opts_option(&o, 'F', path);
	ssh_opts_destination(&o, hosts[len > 1 ? data[1] % 8 : 0]);
	if (ssh_opts_load_config(&o) == 0 && o.identity[0][0] != '\0')
		ssh_expand_tokens(&o, o.identity[0], out, sizeof out);
	close(fd);
	return 0;
}
