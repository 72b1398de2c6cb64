/*
 * unit_bcrypt_pbkdf.c - bcrypt_pbkdf against published vectors (those of
 * the pyca/bcrypt test suite), argument checks and its speed.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bcrypt_pbkdf.h"

static int failures;

static void report(int, const char *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void report(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		printf("ok - %s\n", name);
		return;
	}
	failures++;
	printf("not ok - %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

struct vector {
	const char *name;
	unsigned rounds;
	const char *pass;
	size_t passlen;
	const char *salt;
	size_t saltlen;
	const char *key;
	size_t keylen;
};

#define S(s) s, sizeof(s) - 1

static const struct vector vectors[] = {
	{ "password/salt, 4 rounds, 32 bytes", 4,
	    S("password"),
	    S("salt"),
	    S("\x5b\xbf\x0c\xc2\x93\x58\x7f\x1c\x36\x35\x55\x5c\x27\x79"
	    "\x65\x98\xd4\x7e\x57\x90\x71\xbf\x42\x7e\x9d\x8f\xbe\x84"
	    "\x2a\xba\x34\xd9") },
	{ "one-byte NUL salt", 4,
	    S("password"),
	    S("\x00"),
	    S("\xc1\x2b\x56\x62\x35\xee\xe0\x4c\x21\x25\x98\x97\x0a\x57"
	    "\x9a\x67") },
	{ "one-byte NUL passphrase", 4,
	    S("\x00"),
	    S("salt"),
	    S("\x60\x51\xbe\x18\xc2\xf4\xf8\x2c\xbf\x0e\xfe\xe5\x47\x1b"
	    "\x4b\xb9") },
	{ "trailing NULs", 4,
	    S("password\0"),
	    S("salt\0"),
	    S("\x74\x10\xe4\x4c\xf4\xfa\x07\xbf\xaa\xc8\xa9\x28\xb1\x72"
	    "\x7f\xac\x00\x13\x75\xe7\xbf\x73\x84\x37\x0f\x48\xef\xd1"
	    "\x21\x74\x30\x50") },
	{ "embedded NULs (short)", 4,
	    S("pass\0wor"),
	    S("sa\0l"),
	    S("\xc2\xbf\xfd\x9d\xb3\x8f\x65\x69\xef\xef\x43\x72\xf4\xde"
	    "\x83\xc0") },
	{ "embedded NULs", 4,
	    S("pass\0word"),
	    S("sa\0lt"),
	    S("\x4b\xa4\xac\x39\x25\xc0\xe8\xd7\xf0\xcd\xb6\xbb\x16\x84"
	    "\xa5\x6f") },
	{ "64-byte key", 8,
	    S("password"),
	    S("salt"),
	    S("\xe1\x36\x7e\xc5\x15\x1a\x33\xfa\xac\x4c\xc1\xc1\x44\xcd"
	    "\x23\xfa\x15\xd5\x54\x84\x93\xec\xc9\x9b\x9b\x5d\x9c\x0d"
	    "\x3b\x27\xbe\xc7\x62\x27\xea\x66\x08\x8b\x84\x9b\x20\xab"
	    "\x7a\xa4\x78\x01\x02\x46\xe7\x4b\xba\x51\x72\x3f\xef\xa9"
	    "\xf9\x47\x4d\x65\x08\x84\x5e\x8d") },
	{ "42 rounds", 42,
	    S("password"),
	    S("salt"),
	    S("\x83\x3c\xf0\xdc\xf5\x6d\xb6\x56\x08\xe8\xf0\xdc\x0c\xe8"
	    "\x82\xbd") },
	{ "long passphrase", 8,
	    S("Lorem ipsum dolor sit amet, consectetur adipisicing elit, "
	    "sed do eiusmod tempor incididunt ut labore et dolore magna "
	    "aliqua. Ut enim ad minim veniam, quis nostrud exercitation "
	    "ullamco laboris nisi ut aliquip ex ea commodo consequat. "
	    "Duis aute irure dolor in reprehenderit in voluptate velit "
	    "esse cillum dolore eu fugiat nulla pariatur. Excepteur sint "
	    "occaecat cupidatat non proident, sunt in culpa qui officia "
	    "deserunt mollit anim id est laborum."),
	    S("salis\0"),
	    S("\x10\x97\x8b\x07\x25\x3d\xf5\x7f\x71\xa1\x62\xeb\x0e\x8a"
	    "\xd3\x0a") },
	{ "binary passphrase and salt", 8,
	    S("\x0d\xb3\xac\x94\xb3\xee\x53\x28\x4f\x4a\x22\x89\x3b\x3c"
	    "\x24\xae"),
	    S("\x3a\x62\xf0\xf0\xdb\xce\xf8\x23\xcf\xcc\x85\x48\x56\xea"
	    "\x10\x28"),
	    S("\x20\x44\x38\x17\x5e\xee\x7c\xe1\x36\xc9\x1b\x49\xa6\x79"
	    "\x23\xff") },
	{ "256-byte key", 8,
	    S("\x0d\xb3\xac\x94\xb3\xee\x53\x28\x4f\x4a\x22\x89\x3b\x3c"
	    "\x24\xae"),
	    S("\x3a\x62\xf0\xf0\xdb\xce\xf8\x23\xcf\xcc\x85\x48\x56\xea"
	    "\x10\x28"),
	    S("\x20\x54\xb9\xff\xf3\x4e\x37\x21\x44\x03\x34\x74\x68\x28"
	    "\xe9\xed\x38\xde\x4b\x72\xe0\xa6\x9a\xdc\x17\x0a\x13\xb5"
	    "\xe8\xd6\x46\x38\x5e\xa4\x03\x4a\xe6\xd2\x66\x00\xee\x23"
	    "\x32\xc5\xed\x40\xad\x55\x7c\x86\xe3\x40\x3f\xbb\x30\xe4"
	    "\xe1\xdc\x1a\xe0\x6b\x99\xa0\x71\x36\x8f\x51\x8d\x2c\x42"
	    "\x66\x51\xc9\xe7\xe4\x37\xfd\x6c\x91\x5b\x1b\xbf\xc3\xa4"
	    "\xce\xa7\x14\x91\x49\x0e\xa7\xaf\xb7\xdd\x02\x90\xa6\x78"
	    "\xa4\xf4\x41\x12\x8d\xb1\x79\x2e\xab\x27\x76\xb2\x1e\xb4"
	    "\x23\x8e\x07\x15\xad\xd4\x12\x7d\xff\x44\xe4\xb3\xe4\xcc"
	    "\x4c\x4f\x99\x70\x08\x3f\x3f\x74\xbd\x69\x88\x73\xfd\xf6"
	    "\x48\x84\x4f\x75\xc9\xbf\x7f\x9e\x0c\x4d\x9e\x5d\x89\xa7"
	    "\x78\x39\x97\x49\x29\x66\x61\x67\x07\x61\x1c\xb9\x01\xde"
	    "\x31\xa1\x97\x26\xb6\xe0\x8c\x3a\x80\x01\x66\x1f\x2d\x5c"
	    "\x9d\xcc\x33\xb4\xaa\x07\x2f\x90\xdd\x0b\x3f\x54\x8d\x5e"
	    "\xeb\xa4\x21\x13\x97\xe2\xfb\x06\x2e\x52\x6e\x1d\x68\xf4"
	    "\x6a\x4c\xe2\x56\x18\x5b\x4b\xad\xc2\x68\x5f\xbe\x78\xe1"
	    "\xc7\x65\x7b\x59\xf8\x3a\xb9\xab\x80\xcf\x93\x18\xd6\xad"
	    "\xd1\xf5\x93\x3f\x12\xd6\xf3\x61\x82\xc8\xe8\x11\x5f\x68"
	    "\x03\x0a\x12\x44") },
	{ "UTF-8 passphrase and salt", 8,
	    S("\xe1\xbd\x88\xce\xb4\xcf\x85\xcf\x83\xcf\x83\xce\xb5\xcf"
	    "\x8d\xcf\x82"),
	    S("\xce\xa4\xce\xb7\xce\xbb\xce\xad\xce\xbc\xce\xb1\xcf\x87"
	    "\xce\xbf\xcf\x82"),
	    S("\x43\x66\x6c\x9b\x09\xef\x33\xed\x8c\x27\xe8\xe8\xf3\xe2"
	    "\xd8\xe6") },
};

static void test_vectors(void)
{
	uint8_t key[256];
	char tname[128];
	size_t i;
	int r;

	for (i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
		const struct vector *v = &vectors[i];

		memset(key, 0xa5, sizeof key);
		r = bcrypt_pbkdf(v->pass, v->passlen, v->salt, v->saltlen, key,
		    v->keylen, v->rounds);
		snprintf(tname, sizeof tname, "bcrypt_pbkdf vector: %s",
		    v->name);
		report(r == 0 && memcmp(key, v->key, v->keylen) == 0 &&
		    (v->keylen == sizeof key || key[v->keylen] == 0xa5),
		    tname, r == 0 ? "wrong key" : "returned %d", r);
	}
}

/* A shorter key is not a prefix of a longer one: bytes are interleaved. */
static void test_interleave(void)
{
	uint8_t k48[48], k32[32];

	bcrypt_pbkdf("password", 8, "salt", 4, k48, sizeof k48, 4);
	bcrypt_pbkdf("password", 8, "salt", 4, k32, sizeof k32, 4);
	report(memcmp(k32, vectors[0].key, 32) == 0 &&
	    memcmp(k48, k32, 16) != 0, "key length changes every byte",
	    "prefix");
}

static void test_arguments(void)
{
	static uint8_t salt[(1u << 20) + 1];
	uint8_t key[1025];
	int ok;

	ok = bcrypt_pbkdf("p", 1, "s", 1, key, 16, 0) == -1;
	ok &= bcrypt_pbkdf("", 0, "s", 1, key, 16, 1) == -1;
	ok &= bcrypt_pbkdf("p", 1, "", 0, key, 16, 1) == -1;
	ok &= bcrypt_pbkdf("p", 1, "s", 1, key, 0, 1) == -1;
	ok &= bcrypt_pbkdf("p", 1, "s", 1, key, 1025, 1) == -1;
	ok &= bcrypt_pbkdf("p", 1, salt, sizeof salt, key, 16, 1) == -1;
	report(ok, "bcrypt_pbkdf rejects bad arguments", "accepted");

	ok = bcrypt_pbkdf("p", 1, salt, sizeof salt - 1, key, 1, 1) == 0;
	ok &= bcrypt_pbkdf("p", 1, "s", 1, key, 1024, 1) == 0;
	report(ok, "bcrypt_pbkdf limits: 1 MiB salt, 1024-byte key",
	    "refused");
}

static double elapsed(clockid_t clock, const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(clock, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/*
 * What ssh-keygen's default costs: 16 rounds, AES-256 key and IV.  CPU
 * time is what is checked; wall time depends on the machine's load.
 */
static void test_speed(void)
{
	struct timespec w0, c0;
	uint8_t key[48];
	double wall, cpu;

	clock_gettime(CLOCK_MONOTONIC, &w0);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	bcrypt_pbkdf("correct horse", 13, "0123456789abcdef", 16, key,
	    sizeof key, 16);
	cpu = elapsed(CLOCK_PROCESS_CPUTIME_ID, &c0);
	wall = elapsed(CLOCK_MONOTONIC, &w0);
	printf("# bcrypt_pbkdf 16 rounds, 48 bytes: %.3f s CPU, %.3f s wall\n",
	    cpu, wall);
	report(cpu < 1.0, "bcrypt_pbkdf 16 rounds in under a second",
	    "%.3f s CPU", cpu);
}

int main(void)
{
	test_vectors();
	test_interleave();
	test_arguments();
	test_speed();
	return failures == 0 ? 0 : 1;
}
