/*
 * fuzz_keys.c - libFuzzer harness for what the client reads about keys:
 * public key blobs and lines, private key files, signatures, base64 and
 * known_hosts files.
 *
 * Byte 0 picks the parser (enum target), byte 1 a variant for some of
 * them; the rest is the parser's input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "hostkeys.h"
#include "sshkey.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

enum target {
	T_BLOB,			/* sshkey_from_blob() */
	T_PUBLIC,		/* sshkey_parse_public() */
	T_PRIVATE,		/* sshkey_load_private() */
	T_VERIFY,		/* sshkey_verify() with the keys below */
	T_BASE64,		/* base64_decode() */
	T_KNOWN_HOSTS,		/* hostkeys_check() */
	T_COUNT
};

/* Keys to verify signatures with and to look up in known_hosts. */
static const char *const public_keys[] = {
	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDdTtFvnhfD8mnKatCkDcUSPjK39Fm3p"
	"OmodMnPxHCgF",
	"ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYA"
	"AABBBF164JvOxryzZihP0f0WcTs+MoUIdMPQm/Cm+5rFs1EiRzVoTv2qqj90Jjn31Gew"
	"5TNkRkjf5l8Lu90w439ANTM=",
	"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDecEVFKWR7aR6DCISt1OagcQszmkK9"
	"qQNEgfGZxv9CnjO10vM/FFHmleZyXGA6mV3GMVMJfFJ/M8Ah6/F7gPD7ea/Kpn6+tGm8"
	"E1hBqy4q2DEOCSzA0Lr4YOzVoNVTflBFLMuypLq0ji5NjWweOce2uLAeml7JwTBJNtLp"
	"YExkaw==",
};
#define NKEYS (sizeof public_keys / sizeof public_keys[0])

static const char *const sig_algs[] = {
	"ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-256", "rsa-sha2-512",
	"ssh-rsa",
};

static const char *const hosts[] = {
	"fuzz.example", "FUZZ.example", "10.0.0.1", "::1", "a",
};

static struct sshkey keys[NKEYS];
static char key_path[64], known_hosts_path[64];
static int key_fd = -1, known_hosts_fd = -1;

static int
memfile(const char *name, char *path, size_t pathsz)
{
	int fd;

	/* Anonymous files: nothing is left behind after a crash. */
	if ((fd = memfd_create(name, 0)) < 0 || fchmod(fd, 0600) != 0) {
		perror("fuzz_keys: memfd");
		abort();
	}
	snprintf(path, pathsz, "/proc/self/fd/%d", fd);
	return fd;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t i;

	(void)argc;
	(void)argv;
	for (i = 0; i < NKEYS; i++)
		if (sshkey_parse_public(&keys[i], public_keys[i]) != 0) {
			fprintf(stderr, "fuzz_keys: bad built-in key %zu\n", i);
			abort();
		}
	key_fd = memfile("key", key_path, sizeof key_path);
	known_hosts_fd = memfile("known_hosts", known_hosts_path,
	    sizeof known_hosts_path);
	return 0;
}

/* Make the file hold exactly data[0..len). */
static void
set_file(int fd, const uint8_t *data, size_t len)
{
	if (ftruncate(fd, 0) != 0 ||
	    (len > 0 && pwrite(fd, data, len, 0) != (ssize_t)len)) {
		perror("fuzz_keys: memfd");
		abort();
	}
}

static void
check_key(const struct sshkey *k)
{
	char fp[SSHKEY_FP_LEN];

	sshkey_fingerprint(k, fp);
	if (strncmp(fp, "SHA256:", 7) != 0)
		abort();
	(void)sshkey_type_name(k);
}

static void
fuzz_blob(const uint8_t *data, size_t len)
{
	struct sshkey k;

	if (sshkey_from_blob(&k, data, len) == 0) {
		if (k.blob_len != len || memcmp(k.blob, data, len) != 0)
			abort();
		check_key(&k);
	}
}

static void
fuzz_public(const uint8_t *data, size_t len)
{
	struct sshkey k;
	char *line;

	if ((line = malloc(len + 1)) == NULL)
		return;
	memcpy(line, data, len);
	line[len] = '\0';
	if (sshkey_parse_public(&k, line) == 0)
		check_key(&k);
	free(line);
}

static void
fuzz_private(const uint8_t *data, size_t len)
{
	struct sshkey k;
	char err[256];

	set_file(key_fd, data, len);
	if (sshkey_load_private(&k, key_path, err, sizeof err) == 0) {
		check_key(&k);
		sshkey_wipe(&k);
	}
}

static void
fuzz_verify(uint8_t variant, const uint8_t *data, size_t len)
{
	static const char msg[] = "the exchange hash";
	const struct sshkey *k = &keys[variant % NKEYS];
	const char *alg = sig_algs[(variant / NKEYS) %
	    (sizeof sig_algs / sizeof sig_algs[0])];

	(void)sshkey_verify(k, alg, data, len, (const uint8_t *)msg,
	    sizeof msg - 1);
}

static void
fuzz_base64(uint8_t variant, const uint8_t *data, size_t len)
{
	uint8_t *out;
	size_t outsz = len * 3 / 4 + (variant & 7);
	long n;

	if ((out = malloc(outsz + 1)) == NULL)
		return;
	n = base64_decode(out, outsz, (const char *)data, len);
	if (n > (long)outsz)
		abort();
	free(out);
}

static void
fuzz_known_hosts(uint8_t variant, const uint8_t *data, size_t len)
{
	static const int ports[] = { 22, 0, 2222, 65535 };
	const char *files[2];
	struct hk_result res;
	struct sshkey none;
	const struct sshkey *k;

	set_file(known_hosts_fd, data, len);
	files[0] = known_hosts_path;
	files[1] = "/nonexistent/known_hosts";
	memset(&none, 0, sizeof none);
	/* The client also asks with no key, for the known key types. */
	k = (variant & 3) == 3 ? &none : &keys[variant & 3];
	hostkeys_check(files, 1 + ((variant >> 2) & 1),
	    hosts[(variant >> 3) % (sizeof hosts / sizeof hosts[0])],
	    ports[(variant >> 6) & 3], k, &res);
	if (memchr(res.known_types, '\0', sizeof res.known_types) == NULL ||
	    memchr(res.file, '\0', sizeof res.file) == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	uint8_t target, variant;

	if (len < 2)
		return 0;
	target = data[0] % T_COUNT;
	variant = data[1];
	data += 2;
	len -= 2;
	switch (target) {
	case T_BLOB:
		fuzz_blob(data, len);
		break;
	case T_PUBLIC:
		fuzz_public(data, len);
		break;
	case T_PRIVATE:
		fuzz_private(data, len);
		break;
	case T_VERIFY:
		fuzz_verify(variant, data, len);
		break;
	case T_BASE64:
		fuzz_base64(variant, data, len);
		break;
	case T_KNOWN_HOSTS:
		fuzz_known_hosts(variant, data, len);
		break;
	}
	return 0;
}
