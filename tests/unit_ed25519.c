/*
 * unit_ed25519.c - Ed25519 against the sign.input vectors and bad inputs.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef CT_CHECK
#include <valgrind/memcheck.h>
#endif

#include "ed25519.h"

#define DEFAULT_VECTORS \
	"/usr/lib/python3/dist-packages/cryptography_vectors/asymmetric/" \
	"Ed25519/sign.input"

struct vector {
	uint8_t seed[32];
	uint8_t pk[32];
	uint8_t sig[64];
	uint8_t *msg;
	size_t len;
};

static int failures;

static void report(int, const char *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
report(int ok, const char *name, const char *fmt, ...)
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

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode exactly n bytes from 2n hex digits. */
static int
unhex(uint8_t *out, size_t n, const char *s, size_t slen)
{
	size_t i;
	int hi, lo;

	if (slen != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		hi = hexval((unsigned char)s[2 * i]);
		lo = hexval((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/*
 * One line: seed||pk : pk : msg : sig||msg :   (all hex)
 */
static int
parse_line(struct vector *v, char *line)
{
	char *field[5], *p;
	size_t flen[4], i;
	uint8_t skpk[64];

	p = line;
	for (i = 0; i < 5; i++) {
		field[i] = p;
		if (i == 4)
			break;
		p = strchr(p, ':');
		if (p == NULL)
			return -1;
		flen[i] = (size_t)(p - field[i]);
		p++;
	}
	if (strspn(field[4], "\r\n") != strlen(field[4]))
		return -1;
	if (unhex(skpk, 64, field[0], flen[0]) != 0 ||
	    unhex(v->pk, 32, field[1], flen[1]) != 0 ||
	    memcmp(skpk + 32, v->pk, 32) != 0)
		return -1;
	memcpy(v->seed, skpk, 32);
	if (flen[2] % 2 != 0 || flen[3] != 128 + flen[2])
		return -1;
	v->len = flen[2] / 2;
	v->msg = malloc(v->len + 1);
	if (v->msg == NULL)
		return -1;
	if (unhex(v->msg, v->len, field[2], flen[2]) != 0 ||
	    unhex(v->sig, 64, field[3], 128) != 0 ||
	    strncmp(field[3] + 128, field[2], flen[2]) != 0) {
		free(v->msg);
		return -1;
	}
	return 0;
}

static int
load_vectors(const char *path, struct vector **out, size_t *count)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0, n = 0, lineno = 0;
	struct vector *v = NULL, *nv;

	f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "unit_ed25519: cannot open test vectors %s: "
		    "%s\n", path, strerror(errno));
		return -1;
	}
	while (getline(&line, &cap, f) != -1) {
		lineno++;
		if (line[0] == '\n' || line[0] == '\0')
			continue;
		nv = realloc(v, (n + 1) * sizeof(*v));
		if (nv == NULL)
			goto fail;
		v = nv;
		if (parse_line(&v[n], line) != 0) {
			fprintf(stderr, "unit_ed25519: %s:%zu: malformed "
			    "vector\n", path, lineno);
			goto fail;
		}
		n++;
	}
	if (ferror(f) || n == 0) {
		fprintf(stderr, "unit_ed25519: %s: %s\n", path,
		    ferror(f) ? "read error" : "no vectors");
		goto fail;
	}
	free(line);
	fclose(f);
	*out = v;
	*count = n;
	return 0;
fail:
	while (n > 0)
		free(v[--n].msg);
	free(v);
	free(line);
	fclose(f);
	return -1;
}

#ifndef CT_CHECK
/* L, little-endian. */
static const uint8_t order[32] = {
	0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
	0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10
};

static void
test_vectors(const struct vector *v, size_t n)
{
	uint8_t pk[32], sig[64];
	char name[64];
	size_t i;

	snprintf(name, sizeof(name), "rfc8032 vectors (%zu)", n);
	for (i = 0; i < n; i++) {
		ed25519_public_key(pk, v[i].seed);
		if (memcmp(pk, v[i].pk, 32) != 0) {
			report(0, name, "vector %zu: wrong public key", i);
			return;
		}
		ed25519_sign(sig, v[i].msg, v[i].len, v[i].seed, v[i].pk);
		if (memcmp(sig, v[i].sig, 64) != 0) {
			report(0, name, "vector %zu: wrong signature", i);
			return;
		}
		if (ed25519_verify(v[i].sig, v[i].msg, v[i].len,
		    v[i].pk) != 0) {
			report(0, name, "vector %zu: valid signature "
			    "rejected", i);
			return;
		}
	}
	report(1, name, NULL);
}

static void
test_sig_bitflips(const struct vector *v, size_t n)
{
	static const size_t pick[] = { 0, 1, 2, 3, 100, 1023 };
	uint8_t sig[64];
	size_t i, k, bit;

	for (k = 0; k < sizeof(pick) / sizeof(pick[0]); k++) {
		i = pick[k];
		if (i >= n)
			continue;
		for (bit = 0; bit < 512; bit++) {
			memcpy(sig, v[i].sig, 64);
			sig[bit / 8] ^= (uint8_t)(1 << (bit % 8));
			if (ed25519_verify(sig, v[i].msg, v[i].len,
			    v[i].pk) == 0) {
				report(0, "signature bit flips", "vector %zu "
				    "bit %zu accepted", i, bit);
				return;
			}
		}
	}
	report(1, "signature bit flips", NULL);
}

static void
test_msg_bitflips(const struct vector *v, size_t n)
{
	uint8_t *msg;
	size_t i, bit, tested = 0;

	for (i = 0; i < n && i < 64; i++) {
		if (v[i].len == 0)
			continue;
		msg = malloc(v[i].len);
		if (msg == NULL) {
			report(0, "message bit flips", "out of memory");
			return;
		}
		for (bit = 0; bit < 8 * v[i].len && bit < 64; bit++) {
			memcpy(msg, v[i].msg, v[i].len);
			msg[bit / 8] ^= (uint8_t)(1 << (bit % 8));
			if (ed25519_verify(v[i].sig, msg, v[i].len,
			    v[i].pk) == 0) {
				report(0, "message bit flips", "vector %zu "
				    "bit %zu accepted", i, bit);
				free(msg);
				return;
			}
			tested++;
		}
		/* A truncated message must fail too. */
		if (ed25519_verify(v[i].sig, v[i].msg, v[i].len - 1,
		    v[i].pk) == 0) {
			report(0, "message bit flips", "vector %zu "
			    "truncated message accepted", i);
			free(msg);
			return;
		}
		free(msg);
	}
	report(tested > 0, "message bit flips", "no message tested");
}

static void
test_wrong_key(const struct vector *v, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n && i < 64; i++) {
		if (ed25519_verify(v[i].sig, v[i].msg, v[i].len,
		    v[i + 1].pk) == 0) {
			report(0, "wrong public key", "vector %zu accepted",
			    i);
			return;
		}
	}
	report(1, "wrong public key", NULL);
}

/* S + L satisfies the group equation; only the S < L check stops it. */
static void
test_noncanonical_s(const struct vector *v, size_t n)
{
	uint8_t sig[64];
	unsigned sum;
	size_t i, j;

	for (i = 0; i < n && i < 64; i++) {
		memcpy(sig, v[i].sig, 64);
		sum = 0;
		for (j = 0; j < 32; j++) {
			sum += (unsigned)sig[32 + j] + order[j];
			sig[32 + j] = (uint8_t)sum;
			sum >>= 8;
		}
		if (sum != 0)
			continue;
		if (ed25519_verify(sig, v[i].msg, v[i].len, v[i].pk) == 0) {
			report(0, "non-canonical S (S + L)", "vector %zu "
			    "accepted", i);
			return;
		}
	}
	/* S = L itself, with an otherwise well-formed signature. */
	memcpy(sig, v[0].sig, 32);
	memcpy(sig + 32, order, 32);
	if (ed25519_verify(sig, v[0].msg, v[0].len, v[0].pk) == 0) {
		report(0, "non-canonical S (S + L)", "S = L accepted");
		return;
	}
	report(1, "non-canonical S (S + L)", NULL);
}

/* The encoding of y = p + k (k < 19), with the x sign bit. */
static void
noncanonical_y(uint8_t out[32], unsigned k, int sign)
{
	memset(out, 0xff, 32);
	out[0] = (uint8_t)(0xed + k);
	out[31] = (uint8_t)(0x7f | (sign << 7));
}

/*
 * The identity point (0, 1) as public key and R, with S = 0, is a valid
 * signature of anything under the cofactorless equation.  Written as
 * y = p + 1 it decodes to the same point under a lax decoder, so this
 * isolates the canonical encoding check.
 */
static void
test_noncanonical_points(const struct vector *v, size_t n)
{
	static const char *name = "non-canonical point encodings";
	uint8_t ident[32], pk[32], sig[64];
	unsigned k;
	int sign;

	(void)n;
	memset(ident, 0, 32);
	ident[0] = 1;

	memset(sig, 0, 64);
	memcpy(sig, ident, 32);
	if (ed25519_verify(sig, v[0].msg, v[0].len, ident) != 0) {
		report(0, name, "control: canonical identity rejected");
		return;
	}
	noncanonical_y(pk, 1, 0);
	if (ed25519_verify(sig, v[0].msg, v[0].len, pk) == 0) {
		report(0, name, "A with y = p + 1 accepted");
		return;
	}
	noncanonical_y(sig, 1, 0);
	if (ed25519_verify(sig, v[0].msg, v[0].len, ident) == 0) {
		report(0, name, "R with y = p + 1 accepted");
		return;
	}

	/* Every y in [p, 2^255), both signs, as A and as R. */
	for (k = 0; k < 19; k++) {
		for (sign = 0; sign < 2; sign++) {
			noncanonical_y(pk, k, sign);
			if (ed25519_verify(v[0].sig, v[0].msg, v[0].len,
			    pk) == 0) {
				report(0, name, "A with y = p + %u accepted",
				    k);
				return;
			}
			memcpy(sig, v[0].sig, 64);
			noncanonical_y(sig, k, sign);
			if (ed25519_verify(sig, v[0].msg, v[0].len,
			    v[0].pk) == 0) {
				report(0, name, "R with y = p + %u accepted",
				    k);
				return;
			}
		}
	}

	/* x = 0 with the sign bit set ("-0"). */
	memcpy(pk, ident, 32);
	pk[31] |= 0x80;
	memset(sig, 0, 64);
	memcpy(sig, ident, 32);
	if (ed25519_verify(sig, v[0].msg, v[0].len, pk) == 0) {
		report(0, name, "A = identity with x sign bit accepted");
		return;
	}
	report(1, name, NULL);
}

/* y = 2 has no x on the curve. */
static void
test_undecodable_points(const struct vector *v, size_t n)
{
	static const char *name = "undecodable points";
	uint8_t pt[32], sig[64];

	(void)n;
	memset(pt, 0, 32);
	pt[0] = 2;
	if (ed25519_verify(v[0].sig, v[0].msg, v[0].len, pt) == 0) {
		report(0, name, "A with y = 2 accepted");
		return;
	}
	memcpy(sig, v[0].sig, 64);
	memcpy(sig, pt, 32);
	if (ed25519_verify(sig, v[0].msg, v[0].len, v[0].pk) == 0) {
		report(0, name, "R with y = 2 accepted");
		return;
	}
	report(1, name, NULL);
}

static void
test_long_message(const struct vector *v, size_t n)
{
	static const char *name = "long message round trip";
	const size_t len = 1 << 20;
	uint8_t *msg, sig[64];
	size_t i;

	(void)n;
	msg = malloc(len);
	if (msg == NULL) {
		report(0, name, "out of memory");
		return;
	}
	for (i = 0; i < len; i++)
		msg[i] = (uint8_t)(i * 131 + 7);
	ed25519_sign(sig, msg, len, v[0].seed, v[0].pk);
	if (ed25519_verify(sig, msg, len, v[0].pk) != 0) {
		report(0, name, "own signature rejected");
	} else {
		msg[len - 1] ^= 1;
		report(ed25519_verify(sig, msg, len, v[0].pk) != 0, name,
		    "modified message accepted");
	}
	free(msg);
}

static void
run_suite(const struct vector *v, size_t n)
{
	test_vectors(v, n);
	test_sig_bitflips(v, n);
	test_msg_bitflips(v, n);
	test_wrong_key(v, n);
	test_noncanonical_s(v, n);
	test_noncanonical_points(v, n);
	test_undecodable_points(v, n);
	test_long_message(v, n);
}

#else /* CT_CHECK */

/*
 * Memcheck treats undefined bytes as tainted: any branch or address
 * computed from them is reported, and --error-exitcode turns that into
 * a failed run.
 */
static void
test_constant_time(const struct vector *v, size_t n)
{
	static const char *name = "constant time (valgrind)";
	uint8_t seed[32], pk[32], sig[64];
	size_t i;

	if (!RUNNING_ON_VALGRIND) {
		report(0, name, "CT_CHECK build not running under valgrind");
		return;
	}
	for (i = 0; i < n && i < 4; i++) {
		memcpy(seed, v[i].seed, 32);
		VALGRIND_MAKE_MEM_UNDEFINED(seed, sizeof(seed));
		ed25519_public_key(pk, seed);
		VALGRIND_MAKE_MEM_DEFINED(pk, sizeof(pk));
		ed25519_sign(sig, v[i].msg, v[i].len, seed, pk);
		VALGRIND_MAKE_MEM_DEFINED(sig, sizeof(sig));
		VALGRIND_MAKE_MEM_DEFINED(seed, sizeof(seed));
		if (memcmp(pk, v[i].pk, 32) != 0 ||
		    memcmp(sig, v[i].sig, 64) != 0) {
			report(0, name, "vector %zu: wrong output", i);
			return;
		}
	}
	report(VALGRIND_COUNT_ERRORS == 0, name,
	    "memcheck saw secret-dependent branches or indices");
}

/* The full suite adds nothing under memcheck but a minute of run time. */
static void
run_suite(const struct vector *v, size_t n)
{
	test_constant_time(v, n);
}
#endif /* CT_CHECK */

/*
 * Usage: unit_ed25519 [sign.input]
 * Built with -DCT_CHECK and run under valgrind --error-exitcode=1, it
 * checks instead that key derivation and signing never branch on or
 * index memory with the secret seed.
 */
int
main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : DEFAULT_VECTORS;
	struct vector *v;
	size_t n, i;

	if (load_vectors(path, &v, &n) != 0) {
		printf("not ok - rfc8032 vectors: cannot load %s\n", path);
		return 1;
	}
	run_suite(v, n);

	for (i = 0; i < n; i++)
		free(v[i].msg);
	free(v);
	return failures ? 1 : 0;
}
