/*
 * fuzz_config.c - libFuzzer harness for the ssh_config reader and the
 * -o and destination parsers.
 *
 * The input is a config file, read through -F from a memfd so nothing
 * touches the disk.  Its first line, if it starts with "-o", is also
 * given as a -o option, and the host name comes from the second byte so
 * that Host and Match blocks take different paths.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "sshconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const hosts[] = {
	"router", "host.example", "10.0.0.1", "[::1]:22", "user@box:2222",
	"ssh://admin@edge:22", "x", "-bad",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct ssh_opts o;
	char path[64], opt[256], out[1024];
	const uint8_t *nl;
	int fd;

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
