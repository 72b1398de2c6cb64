/*
 * unit_sshkey.c - key blobs, signatures and key files against ssh-keygen.
 *
 * Usage: unit_sshkey DIR, DIR prepared by t_keys.sh: keys made by
 * ssh-keygen and openssl (openssh-key-v1, clear and encrypted, and PEM),
 * their public halves as ssh-keygen -y sees them (NAME.pub), their
 * fingerprints (NAME.fp) and SSHSIG signatures of DIR/msg (NAME.sshsig).
 * Our own signatures are checked back with `ssh-keygen -Y verify`, and
 * ssh-rsa ones with `openssl dgst`.  Loads and signatures must leave no
 * copy of a private key or a passphrase on the stack or the heap.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bearssl.h>
#include <mbedtls/bignum.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>

#include "buf.h"
#include "residue.h"
#include "sshkey.h"

#define SIG_ARMOR_BEGIN "-----BEGIN SSH SIGNATURE-----"
#define SIG_ARMOR_END "-----END SSH SIGNATURE-----"
#define KEY_ARMOR_BEGIN "-----BEGIN OPENSSH PRIVATE KEY-----"
#define KEY_ARMOR_END "-----END OPENSSH PRIVATE KEY-----"

static const char *dir;
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

/* DIR/name, in one of a few rotating buffers. */
static const char *path(const char *name)
{
	static char bufs[8][1024];
	static int next;
	char *p = bufs[next++ % 8];

	snprintf(p, sizeof bufs[0], "%s/%s", dir, name);
	return p;
}

/* The whole file, NUL-terminated, or NULL. */
static char *read_file(const char *file, size_t *len)
{
	FILE *f;
	char *data;
	size_t cap = 1 << 20;

	if ((f = fopen(file, "rb")) == NULL)
		return NULL;
	if ((data = malloc(cap + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	*len = fread(data, 1, cap, f);
	fclose(f);
	data[*len] = '\0';
	return data;
}

static int write_file(const char *file, const void *data, size_t len,
    mode_t mode)
{
	int fd, r = 0;

	unlink(file);
	if ((fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, mode)) < 0)
		return -1;
	if (write(fd, data, len) != (ssize_t)len)
		r = -1;
	if (fchmod(fd, mode) != 0)
		r = -1;
	close(fd);
	return r;
}

/* First line of a file, without the newline. */
static int read_line_of(const char *file, char *out, size_t outsz)
{
	size_t len;
	char *data = read_file(file, &len);

	if (data == NULL)
		return -1;
	data[strcspn(data, "\r\n")] = '\0';
	snprintf(out, outsz, "%s", data);
	free(data);
	return 0;
}

static int load_pub(const char *name, struct sshkey *k)
{
	char line[4096];

	if (read_line_of(path(name), line, sizeof line) != 0)
		return -1;
	return sshkey_parse_public(k, line);
}

/* Exit status of a shell command, -1 if it did not exit. */
static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int run(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/*
 * Armor: base64 between BEGIN and END lines, 70 columns.
 */

static long unarmor(const char *text, const char *begin, const char *end,
    uint8_t *out, size_t outsz)
{
	const char *p, *q;
	char *b64;
	size_t n = 0;
	long r;

	if ((p = strstr(text, begin)) == NULL ||
	    (q = strstr(p, end)) == NULL)
		return -1;
	p += strlen(begin);
	if ((b64 = malloc((size_t)(q - p) + 1)) == NULL)
		return -1;
	for (; p < q; p++)
		if (*p != '\n' && *p != '\r')
			b64[n++] = *p;
	r = base64_decode(out, outsz, b64, n);
	free(b64);
	return r;
}

static int write_armored(const char *file, const char *begin,
    const char *end, const uint8_t *data, size_t len)
{
	size_t b64cap = len / 3 * 4 + 8, b64len, i, o = 0;
	char *b64 = malloc(b64cap), *text = malloc(b64cap * 2 + 256);
	int r = -1;

	if (b64 == NULL || text == NULL)
		goto out;
	b64len = base64_encode(b64, b64cap, data, len, 1);
	o += (size_t)sprintf(text + o, "%s\n", begin);
	for (i = 0; i < b64len; i += 70)
		o += (size_t)sprintf(text + o, "%.*s\n",
		    (int)(b64len - i < 70 ? b64len - i : 70), b64 + i);
	o += (size_t)sprintf(text + o, "%s\n", end);
	r = write_file(file, text, o, 0600);
out:
	free(b64);
	free(text);
	return r;
}

/*
 * SSHSIG (OpenSSH PROTOCOL.sshsig).
 */

struct sshsig {
	uint8_t raw[4096];
	const uint8_t *pub, *sig;
	size_t publen, siglen;
	char ns[64];
	char hash_alg[16];
	char sig_alg[32];
};

static int sshsig_load(const char *file, struct sshsig *s)
{
	struct buf b, sb;
	const uint8_t *reserved;
	size_t rlen, len;
	uint32_t version;
	long n;
	char *text = read_file(file, &len);

	if (text == NULL)
		return -1;
	n = unarmor(text, SIG_ARMOR_BEGIN, SIG_ARMOR_END, s->raw,
	    sizeof s->raw);
	free(text);
	if (n < 6 || memcmp(s->raw, "SSHSIG", 6) != 0)
		return -1;
	buf_view(&b, s->raw + 6, (size_t)n - 6);
	if (buf_get_u32(&b, &version) != 0 || version != 1 ||
	    buf_get_string(&b, &s->pub, &s->publen) != 0 ||
	    buf_get_cstring(&b, s->ns, sizeof s->ns) != 0 ||
	    buf_get_string(&b, &reserved, &rlen) != 0 ||
	    buf_get_cstring(&b, s->hash_alg, sizeof s->hash_alg) != 0 ||
	    buf_get_string(&b, &s->sig, &s->siglen) != 0 ||
	    buf_avail(&b) != 0)
		return -1;
	buf_view(&sb, s->sig, s->siglen);
	return buf_get_cstring(&sb, s->sig_alg, sizeof s->sig_alg);
}

static void digest(const br_hash_class *h, const void *data, size_t len,
    uint8_t *out)
{
	br_hash_compat_context hc;

	h->init(&hc.vtable);
	h->update(&hc.vtable, data, len);
	h->out(&hc.vtable, out);
}

/* What an SSHSIG signature covers. */
static size_t sshsig_signed_data(uint8_t *out, size_t outsz, const char *ns,
    const char *hash_alg, const uint8_t *msg, size_t mlen)
{
	const br_hash_class *h;
	uint8_t hash[64];
	struct buf b;

	h = strcmp(hash_alg, "sha256") == 0 ? &br_sha256_vtable :
	    &br_sha512_vtable;
	digest(h, msg, mlen, hash);
	buf_init(&b, out, outsz);
	if (buf_put_bytes(&b, "SSHSIG", 6) != 0 ||
	    buf_put_cstring(&b, ns) != 0 || buf_put_string(&b, "", 0) != 0 ||
	    buf_put_cstring(&b, hash_alg) != 0 ||
	    buf_put_string(&b, hash, h == &br_sha256_vtable ? 32 : 64) != 0)
		return 0;
	return b.len;
}

static int sshsig_write(const char *file, const struct sshkey *k,
    const uint8_t *sigblob, size_t siglen)
{
	uint8_t raw[4096];
	struct buf b;

	buf_init(&b, raw, sizeof raw);
	if (buf_put_bytes(&b, "SSHSIG", 6) != 0 || buf_put_u32(&b, 1) != 0 ||
	    buf_put_string(&b, k->blob, k->blob_len) != 0 ||
	    buf_put_cstring(&b, "file") != 0 ||
	    buf_put_string(&b, "", 0) != 0 ||
	    buf_put_cstring(&b, "sha512") != 0 ||
	    buf_put_string(&b, sigblob, siglen) != 0)
		return -1;
	return write_armored(file, SIG_ARMOR_BEGIN, SIG_ARMOR_END, raw, b.len);
}

/*
 * Cases.
 */

static void test_base64(void)
{
	static const char *const plain[] = {
		"", "f", "fo", "foo", "foob", "fooba", "foobar"
	};
	static const char *const padded[] = {
		"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"
	};
	static const char *const bad[] = {
		"Zg=", "Z", "Zh==", "Zm9v\n", "Zm=9", "Zg===", "Zm9v YmFy",
		"Zm9-", "Zg==Zg==", "=",
	};
	char enc[16];
	uint8_t dec[16];
	size_t i, n;
	long r;
	int ok = 1;

	for (i = 0; i < 7; i++) {
		n = strlen(plain[i]);
		base64_encode(enc, sizeof enc, (const uint8_t *)plain[i], n, 1);
		ok &= strcmp(enc, padded[i]) == 0;
		r = base64_decode(dec, sizeof dec, padded[i],
		    strlen(padded[i]));
		ok &= r == (long)n && memcmp(dec, plain[i], n) == 0;
		/* Unpadded forms decode too. */
		r = base64_decode(dec, sizeof dec, padded[i],
		    strcspn(padded[i], "="));
		ok &= r == (long)n && memcmp(dec, plain[i], n) == 0;
		base64_encode(enc, sizeof enc, (const uint8_t *)plain[i], n, 0);
		ok &= strlen(enc) == strcspn(padded[i], "=");
	}
	report(ok, "base64 RFC 4648 vectors", "mismatch");

	ok = 1;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ok &= base64_decode(dec, sizeof dec, bad[i],
		    strlen(bad[i])) < 0;
	report(ok, "base64 rejects malformed input", "accepted bad input");

	ok = base64_decode(dec, 5, "Zm9vYmFy", 8) < 0 &&
	    base64_encode(enc, 8, (const uint8_t *)"foobar", 6, 1) == 0 &&
	    enc[0] == '\0' &&
	    base64_encode(enc, 9, (const uint8_t *)"foobar", 6, 1) == 8;
	report(ok, "base64 output bounds", "overflow not caught");
}

static void test_public(const char *name, enum sshkey_type type)
{
	struct sshkey k;
	char file[64], line[4096], fp[SSHKEY_FP_LEN], want[128], tname[128];
	char b64[2048];

	snprintf(file, sizeof file, "%s.pub", name);
	snprintf(tname, sizeof tname, "parse %s", file);
	if (read_line_of(path(file), line, sizeof line) != 0 ||
	    sshkey_parse_public(&k, line) != 0 || k.type != type) {
		report(0, tname, "parse failed");
		return;
	}
	snprintf(want, sizeof want, "%s@remowt.test", name);
	report(strcmp(k.comment, want) == 0, tname, "comment '%s'", k.comment);

	snprintf(tname, sizeof tname, "%s blob re-encodes to the file's text",
	    name);
	base64_encode(b64, sizeof b64, k.blob, k.blob_len, 1);
	report(strstr(line, b64) != NULL, tname, "differs");

	snprintf(file, sizeof file, "%s.fp", name);
	snprintf(tname, sizeof tname, "%s fingerprint matches ssh-keygen -lf",
	    name);
	if (read_line_of(path(file), line, sizeof line) != 0) {
		report(0, tname, "no %s", file);
		return;
	}
	sshkey_fingerprint(&k, fp);
	report(strcmp(fp, line) == 0, tname, "%s != %s", fp, line);
}

static int load_pub_of(const char *name, struct sshkey *k)
{
	char file[256];

	snprintf(file, sizeof file, "%s.pub", name);
	return load_pub(file, k);
}

/* Re-encode blob b (with a tweak) as a public key line and parse it. */
static int parse_blob_line(const char *type, const uint8_t *blob, size_t len)
{
	struct sshkey k;
	char line[4096];
	size_t o;

	o = (size_t)snprintf(line, sizeof line, "%s ", type);
	base64_encode(line + o, sizeof line - o, blob, len, 1);
	return sshkey_parse_public(&k, line);
}

/* A synthetic RSA blob with an nbits-bit odd modulus. */
static size_t rsa_blob(uint8_t *out, size_t outsz, size_t nbits,
    const uint8_t *e, size_t elen)
{
	uint8_t n[1100];
	size_t nlen = (nbits + 7) / 8;
	struct buf b;

	memset(n, 0x5a, nlen);
	n[0] = (uint8_t)(1u << ((nbits - 1) % 8));
	n[nlen - 1] |= 1;
	buf_init(&b, out, outsz);
	if (buf_put_cstring(&b, "ssh-rsa") != 0 ||
	    buf_put_mpint(&b, e, elen) != 0 ||
	    buf_put_mpint(&b, n, nlen) != 0)
		return 0;
	return b.len;
}

static void test_public_rejects(void)
{
	static const uint8_t e65537[] = { 1, 0, 1 }, e1[] = { 1 },
	    eeven[] = { 1, 0, 0 };
	struct sshkey ed, ec, k;
	uint8_t blob[SSHKEY_MAX_BLOB + 16];
	size_t len;
	char line[4096];

	if (load_pub_of("ed25519", &ed) != 0 ||
	    load_pub_of("ecdsa", &ec) != 0) {
		report(0, "public key rejects", "cannot load keys");
		return;
	}
	report(parse_blob_line("ssh-rsa", ed.blob, ed.blob_len) != 0,
	    "type field must match the blob", "accepted");
	memcpy(blob, ed.blob, ed.blob_len);
	blob[ed.blob_len] = 0;
	report(parse_blob_line("ssh-ed25519", blob, ed.blob_len + 1) != 0,
	    "trailing byte in blob rejected", "accepted");
	report(parse_blob_line("ssh-ed25519", ed.blob, ed.blob_len - 1) != 0,
	    "truncated blob rejected", "accepted");
	report(sshkey_parse_public(&k, "ssh-ed25519 AAAA!!!") != 0 &&
	    sshkey_parse_public(&k, "ssh-ed25519") != 0 &&
	    sshkey_parse_public(&k, "") != 0, "garbage lines rejected",
	    "accepted");

	memcpy(blob, ec.blob, ec.blob_len);
	blob[ec.blob_len - 1] ^= 1;
	report(sshkey_from_blob(&k, blob, ec.blob_len) != 0,
	    "ECDSA point off the curve rejected", "accepted");
	memcpy(blob, ec.blob, ec.blob_len);
	memcpy(blob + 4 + 19 + 4, "nistp384", 8);
	report(sshkey_from_blob(&k, blob, ec.blob_len) != 0,
	    "ECDSA curve name checked", "accepted");

	len = rsa_blob(blob, sizeof blob, 1024, e65537, 3);
	report(len > 0 && sshkey_from_blob(&k, blob, len) == 0 &&
	    k.rsa_n_len == 128, "RSA 1024-bit modulus accepted", "rejected");
	len = rsa_blob(blob, sizeof blob, 1023, e65537, 3);
	report(len > 0 && sshkey_from_blob(&k, blob, len) != 0,
	    "RSA 1023-bit modulus rejected", "accepted");
	len = rsa_blob(blob, sizeof blob, 8192, e65537, 3);
	report(len > 0 && sshkey_from_blob(&k, blob, len) == 0,
	    "RSA 8192-bit modulus accepted", "rejected");
	len = rsa_blob(blob, sizeof blob, 8193, e65537, 3);
	report(len > 0 && sshkey_from_blob(&k, blob, len) != 0,
	    "RSA 8193-bit modulus rejected", "accepted");
	len = rsa_blob(blob, sizeof blob, 2048, e1, 1);
	report(len > 0 && sshkey_from_blob(&k, blob, len) != 0,
	    "RSA e = 1 rejected", "accepted");
	len = rsa_blob(blob, sizeof blob, 2048, eeven, 3);
	report(len > 0 && sshkey_from_blob(&k, blob, len) != 0,
	    "RSA even e rejected", "accepted");

	snprintf(line, sizeof line, "  ssh-ed25519 ");
	base64_encode(line + strlen(line), 200, ed.blob, ed.blob_len, 1);
	strcat(line, "   a comment  with spaces \r\n");
	report(sshkey_parse_public(&k, line) == 0 &&
	    strcmp(k.comment, "a comment  with spaces") == 0,
	    "public line with blanks and CRLF", "comment '%s'", k.comment);
}

/* Verify an ssh-keygen SSHSIG, then tampered variants of it. */
static void test_sshsig(const char *name, const char *want_alg)
{
	struct sshkey k, other;
	struct sshsig s;
	uint8_t data[256], sig[2048];
	char tname[128], file[128];
	size_t dlen, mlen;
	char *msg = read_file(path("msg"), &mlen);

	snprintf(file, sizeof file, "%s.sshsig", name);
	snprintf(tname, sizeof tname, "%s SSHSIG from ssh-keygen verifies",
	    name);
	if (msg == NULL || load_pub_of(name, &k) != 0 ||
	    sshsig_load(path(file), &s) != 0) {
		report(0, tname, "cannot load inputs");
		free(msg);
		return;
	}
	dlen = sshsig_signed_data(data, sizeof data, s.ns, s.hash_alg,
	    (uint8_t *)msg, mlen);
	report(strcmp(s.sig_alg, want_alg) == 0 && s.publen == k.blob_len &&
	    memcmp(s.pub, k.blob, k.blob_len) == 0 &&
	    sshkey_verify(&k, s.sig_alg, s.sig, s.siglen, data, dlen) == 0,
	    tname, "alg %s", s.sig_alg);

	snprintf(tname, sizeof tname, "%s modified message fails", name);
	msg[0] ^= 1;
	dlen = sshsig_signed_data(data, sizeof data, s.ns, s.hash_alg,
	    (uint8_t *)msg, mlen);
	msg[0] ^= 1;
	report(sshkey_verify(&k, s.sig_alg, s.sig, s.siglen, data, dlen) != 0,
	    tname, "verified");

	dlen = sshsig_signed_data(data, sizeof data, s.ns, s.hash_alg,
	    (uint8_t *)msg, mlen);
	snprintf(tname, sizeof tname, "%s modified signature fails", name);
	memcpy(sig, s.sig, s.siglen);
	sig[s.siglen - 10] ^= 0x40;
	report(sshkey_verify(&k, s.sig_alg, sig, s.siglen, data, dlen) != 0,
	    tname, "verified");

	snprintf(tname, sizeof tname, "%s trailing byte in signature fails",
	    name);
	memcpy(sig, s.sig, s.siglen);
	sig[s.siglen] = 0;
	report(sshkey_verify(&k, s.sig_alg, sig, s.siglen + 1, data,
	    dlen) != 0, tname, "verified");

	snprintf(tname, sizeof tname, "%s truncated signature fails", name);
	report(sshkey_verify(&k, s.sig_alg, s.sig, s.siglen - 1, data,
	    dlen) != 0, tname, "verified");

	snprintf(tname, sizeof tname, "%s other algorithm name fails", name);
	report(sshkey_verify(&k, k.type == KEY_RSA ? "rsa-sha2-256" :
	    "ssh-rsa", s.sig, s.siglen, data, dlen) != 0, tname, "verified");

	snprintf(tname, sizeof tname, "%s signature under another key fails",
	    name);
	if (load_pub_of(k.type == KEY_ED25519 ? "ed25519b" :
	    k.type == KEY_RSA ? "rsa1024" : "ed25519", &other) == 0)
		report(sshkey_verify(&other, s.sig_alg, s.sig, s.siglen, data,
		    dlen) != 0, tname, "verified");
	else
		report(0, tname, "cannot load other key");
	free(msg);
}

/* ECDSA signatures with (r, s) out of shape. */
static void test_ecdsa_shapes(void)
{
	struct sshkey k;
	struct sshsig s;
	struct buf b, in;
	uint8_t data[256], sig[512], big[33];
	const uint8_t *inner, *r, *sv;
	size_t dlen, ilen, rlen, slen, mlen;
	char *msg = read_file(path("msg"), &mlen);
	int ok;

	if (msg == NULL || load_pub_of("ecdsa", &k) != 0 ||
	    sshsig_load(path("ecdsa.sshsig"), &s) != 0) {
		report(0, "ECDSA signature shapes", "cannot load inputs");
		free(msg);
		return;
	}
	dlen = sshsig_signed_data(data, sizeof data, s.ns, s.hash_alg,
	    (uint8_t *)msg, mlen);
	free(msg);
	buf_view(&in, s.sig, s.siglen);
	buf_skip(&in, 4 + 19);
	buf_get_string(&in, &inner, &ilen);
	buf_view(&in, inner, ilen);
	if (buf_get_mpint(&in, &r, &rlen) != 0 ||
	    buf_get_mpint(&in, &sv, &slen) != 0) {
		report(0, "ECDSA signature shapes", "bad ssh-keygen signature");
		return;
	}

	/* r = 0 */
	buf_init(&b, sig, sizeof sig);
	buf_put_cstring(&b, "ecdsa-sha2-nistp256");
	buf_put_u32(&b, 4 + 0 + 4 + (uint32_t)(slen + (sv[0] >> 7)));
	buf_put_mpint(&b, NULL, 0);
	buf_put_mpint(&b, sv, slen);
	ok = sshkey_verify(&k, "ecdsa-sha2-nistp256", sig, b.len, data,
	    dlen) != 0;

	/* r with 33 significant bytes */
	memset(big, 0x11, sizeof big);
	memcpy(big + 1, r, rlen);
	buf_init(&b, sig, sizeof sig);
	buf_put_cstring(&b, "ecdsa-sha2-nistp256");
	buf_put_u32(&b, 4 + 33 + 4 + (uint32_t)(slen + (sv[0] >> 7)));
	buf_put_mpint(&b, big, 33);
	buf_put_mpint(&b, sv, slen);
	ok &= sshkey_verify(&k, "ecdsa-sha2-nistp256", sig, b.len, data,
	    dlen) != 0;

	/* trailing byte inside the inner blob */
	buf_init(&b, sig, sizeof sig);
	buf_put_cstring(&b, "ecdsa-sha2-nistp256");
	buf_put_u32(&b, (uint32_t)ilen + 1);
	buf_put_bytes(&b, inner, ilen);
	buf_put_u8(&b, 0);
	ok &= sshkey_verify(&k, "ecdsa-sha2-nistp256", sig, b.len, data,
	    dlen) != 0;
	/* and the same, well formed, still verifies */
	buf_init(&b, sig, sizeof sig);
	buf_put_cstring(&b, "ecdsa-sha2-nistp256");
	buf_put_string(&b, inner, ilen);
	ok &= sshkey_verify(&k, "ecdsa-sha2-nistp256", sig, b.len, data,
	    dlen) == 0;
	report(ok, "ECDSA malformed (r, s) rejected", "accepted");
}

static int rng(void *ctx, unsigned char *p, size_t n)
{
	(void)ctx;
	return getrandom(p, n, 0) == (ssize_t)n ? 0 : -1;
}

static int put_rsa_sig(uint8_t *out, size_t outsz, size_t *len,
    const char *alg, const uint8_t *s, size_t slen)
{
	struct buf b;

	buf_init(&b, out, outsz);
	if (buf_put_cstring(&b, alg) != 0 || buf_put_string(&b, s, slen) != 0)
		return -1;
	*len = b.len;
	return 0;
}

/*
 * rsa-sha2-256 and ssh-rsa signatures made by mbedtls, and one whose
 * first byte is zero, sent with and without it.
 */
static void test_rsa_other_hashes(void)
{
	mbedtls_pk_context pk;
	mbedtls_rsa_context *rsa;
	struct sshkey k;
	uint8_t h[64], s[512], blob[600], msg[64];
	size_t blen, nlen, mlen;
	int i, ok;

	mbedtls_pk_init(&pk);
	if (load_pub_of("rsa1024", &k) != 0 ||
	    mbedtls_pk_parse_keyfile(&pk, path("rsa1024.pem"), NULL) != 0 ||
	    mbedtls_pk_get_type(&pk) != MBEDTLS_PK_RSA) {
		report(0, "RSA signatures made by mbedtls", "cannot load key");
		mbedtls_pk_free(&pk);
		return;
	}
	rsa = mbedtls_pk_rsa(pk);
	nlen = mbedtls_rsa_get_len(rsa);
	mlen = (size_t)snprintf((char *)msg, sizeof msg, "hello");

	digest(&br_sha256_vtable, msg, mlen, h);
	ok = mbedtls_rsa_pkcs1_sign(rsa, rng, NULL, MBEDTLS_RSA_PRIVATE,
	    MBEDTLS_MD_SHA256, 32, h, s) == 0 &&
	    put_rsa_sig(blob, sizeof blob, &blen, "rsa-sha2-256", s, nlen) == 0;
	report(ok && sshkey_verify(&k, "rsa-sha2-256", blob, blen, msg,
	    mlen) == 0 && sshkey_verify(&k, "rsa-sha2-512", blob, blen, msg,
	    mlen) != 0, "rsa-sha2-256 signature verifies", "failed");
	put_rsa_sig(blob, sizeof blob, &blen, "rsa-sha2-512", s, nlen);
	report(sshkey_verify(&k, "rsa-sha2-512", blob, blen, msg, mlen) != 0,
	    "rsa-sha2-256 signature labelled rsa-sha2-512 fails", "verified");
	report(sshkey_verify(&k, "rsa-sha2-256", blob, blen, msg, mlen) != 0,
	    "signature name must equal the algorithm asked for", "verified");

	digest(&br_sha1_vtable, msg, mlen, h);
	ok = mbedtls_rsa_pkcs1_sign(rsa, rng, NULL, MBEDTLS_RSA_PRIVATE,
	    MBEDTLS_MD_SHA1, 20, h, s) == 0 &&
	    put_rsa_sig(blob, sizeof blob, &blen, "ssh-rsa", s, nlen) == 0;
	report(ok && sshkey_verify(&k, "ssh-rsa", blob, blen, msg, mlen) == 0,
	    "ssh-rsa (SHA-1) signature verifies", "failed");

	/* About one signature in 256 starts with a zero byte. */
	for (i = 0, ok = 0; i < 20000 && !ok; i++) {
		mlen = (size_t)snprintf((char *)msg, sizeof msg, "zero %d", i);
		digest(&br_sha256_vtable, msg, mlen, h);
		if (mbedtls_rsa_pkcs1_sign(rsa, rng, NULL, MBEDTLS_RSA_PRIVATE,
		    MBEDTLS_MD_SHA256, 32, h, s + 1) != 0)
			break;
		ok = s[1] == 0;
	}
	if (!ok) {
		report(0, "RSA short signature", "no signature found");
		mbedtls_pk_free(&pk);
		return;
	}
	put_rsa_sig(blob, sizeof blob, &blen, "rsa-sha2-256", s + 1, nlen);
	ok = sshkey_verify(&k, "rsa-sha2-256", blob, blen, msg, mlen) == 0;
	put_rsa_sig(blob, sizeof blob, &blen, "rsa-sha2-256", s + 2, nlen - 1);
	report(ok && sshkey_verify(&k, "rsa-sha2-256", blob, blen, msg,
	    mlen) == 0, "RSA signature without its leading zero verifies",
	    "failed");
	s[0] = 0;
	put_rsa_sig(blob, sizeof blob, &blen, "rsa-sha2-256", s, nlen + 1);
	report(sshkey_verify(&k, "rsa-sha2-256", blob, blen, msg, mlen) != 0,
	    "RSA signature longer than the modulus fails", "verified");
	mbedtls_pk_free(&pk);
}

/*
 * Private keys.
 */

static int load_error(const char *file, const char *want, char *err,
    size_t errlen)
{
	struct sshkey k;

	if (sshkey_load_private(&k, file, err, errlen) == 0) {
		snprintf(err, errlen, "loaded");
		return 0;
	}
	return strstr(err, want) != NULL && !k.has_private;
}

static void expect_load_error(const char *tname, const char *file,
    const char *want)
{
	char err[256];

	report(load_error(file, want, err, sizeof err), tname, "'%s'", err);
}

/* Sign data, check it with the public key, and return the blob. */
static int sign_and_verify(const struct sshkey *priv,
    const struct sshkey *pub, const uint8_t *data, size_t dlen,
    uint8_t *sig, size_t sigsz, size_t *siglen)
{
	struct buf b;

	buf_init(&b, sig, sigsz);
	if (sshkey_sign(priv, "ssh-ed25519", data, dlen, &b) != 0)
		return -1;
	*siglen = b.len;
	return sshkey_verify(pub, "ssh-ed25519", sig, b.len, data, dlen);
}

static void test_load_ed25519(void)
{
	struct sshkey priv, pub;
	struct sshsig theirs;
	struct buf b;
	char err[256], allowed[2048], b64[256];
	uint8_t data[256], sig[256], small[40];
	size_t dlen, siglen, mlen;
	char *msg;

	if (sshkey_load_private(&priv, path("ed25519"), err, sizeof err) != 0 ||
	    load_pub_of("ed25519", &pub) != 0) {
		report(0, "load ssh-keygen ed25519 key", "%s", err);
		return;
	}
	report(priv.has_private && priv.type == KEY_ED25519 &&
	    priv.blob_len == pub.blob_len &&
	    memcmp(priv.blob, pub.blob, pub.blob_len) == 0 &&
	    strcmp(priv.comment, "ed25519@remowt.test") == 0,
	    "load ssh-keygen ed25519 key", "public half or comment differs");

	report(sign_and_verify(&priv, &pub, (const uint8_t *)"abc", 3, sig,
	    sizeof sig, &siglen) == 0 && siglen == 4 + 11 + 4 + 64,
	    "ed25519 sign then verify", "failed");

	/* Ed25519 is deterministic: our SSHSIG must be ssh-keygen's. */
	msg = read_file(path("msg"), &mlen);
	if (msg == NULL || sshsig_load(path("ed25519.sshsig"), &theirs) != 0) {
		report(0, "ed25519 signature equals ssh-keygen's", "no inputs");
		free(msg);
		return;
	}
	dlen = sshsig_signed_data(data, sizeof data, "file", "sha512",
	    (uint8_t *)msg, mlen);
	free(msg);
	buf_init(&b, sig, sizeof sig);
	report(sshkey_sign(&priv, "ssh-ed25519", data, dlen, &b) == 0 &&
	    b.len == theirs.siglen && memcmp(sig, theirs.sig, b.len) == 0,
	    "ed25519 signature equals ssh-keygen's", "differs");

	/* And ssh-keygen accepts it in an SSHSIG file of our own. */
	base64_encode(b64, sizeof b64, pub.blob, pub.blob_len, 1);
	snprintf(allowed, sizeof allowed, "test@remowt ssh-ed25519 %s\n", b64);
	if (write_file(path("allowed_signers"), allowed, strlen(allowed),
	    0600) != 0 || sshsig_write(path("ours.sshsig"), &pub, sig,
	    b.len) != 0) {
		report(0, "ssh-keygen -Y verify accepts our signature",
		    "cannot write files");
	} else {
		report(run("ssh-keygen -Y verify -f '%s' -I test@remowt "
		    "-n file -s '%s' < '%s' >/dev/null 2>&1",
		    path("allowed_signers"), path("ours.sshsig"),
		    path("msg")) == 0,
		    "ssh-keygen -Y verify accepts our signature", "refused");
	}

	buf_init(&b, small, sizeof small);
	report(sshkey_sign(&priv, "ssh-ed25519", data, dlen, &b) != 0 &&
	    b.len == 0, "sign into a short buffer fails cleanly",
	    "wrote %zu bytes", b.len);
	buf_init(&b, sig, sizeof sig);
	report(sshkey_sign(&priv, "rsa-sha2-256", data, dlen, &b) != 0 &&
	    sshkey_sign(&pub, "ssh-ed25519", data, dlen, &b) != 0,
	    "sign refuses wrong algorithm and public-only key", "signed");

	sshkey_wipe(&priv);
	report(!priv.has_private && memcmp(priv.ed25519_seed,
	    (uint8_t[32]){ 0 }, 32) == 0, "sshkey_wipe clears the seed",
	    "seed left");
}

static void test_load_vector(void)
{
	struct sshkey priv, pub;
	char err[256];
	uint8_t sig[256];
	size_t siglen;

	if (sshkey_load_private(&priv, path("vec-ed25519-nopsw"), err,
	    sizeof err) != 0 || load_pub("vec-ed25519-nopsw.pub", &pub) != 0) {
		report(0, "load cryptography ed25519-nopsw.key", "%s", err);
		return;
	}
	report(priv.blob_len == pub.blob_len &&
	    memcmp(priv.blob, pub.blob, pub.blob_len) == 0 &&
	    strcmp(priv.comment, pub.comment) == 0,
	    "load cryptography ed25519-nopsw.key", "differs from .pub");
	report(sign_and_verify(&priv, &pub, (const uint8_t *)"vector", 6, sig,
	    sizeof sig, &siglen) == 0,
	    "cryptography ed25519 key sign then verify", "failed");
	sshkey_wipe(&priv);
}

/* The decoded openssh-key-v1 blob of a key file, and where its parts are. */
struct keyfile {
	uint8_t raw[8192];
	size_t len;
	size_t cipher_off;    /* offset of the cipher name */
	size_t kdf_off;       /* offset of the KDF name */
	size_t kdfopts_off;   /* offset of the KDF options */
	size_t nkeys_off;     /* offset of uint32 nkeys */
	size_t priv_off;      /* offset of the private section's contents */
	size_t priv_len;
};

static int keyfile_load(const char *file, struct keyfile *kf)
{
	struct buf b;
	const uint8_t *p;
	size_t n, len;
	uint32_t nkeys;
	long r;
	char *text = read_file(file, &len);

	if (text == NULL)
		return -1;
	r = unarmor(text, KEY_ARMOR_BEGIN, KEY_ARMOR_END, kf->raw,
	    sizeof kf->raw);
	free(text);
	if (r < 15)
		return -1;
	kf->len = (size_t)r;
	buf_view(&b, kf->raw, kf->len);
	buf_skip(&b, 15);
	kf->cipher_off = b.pos + 4;
	if (buf_get_string(&b, &p, &n) != 0)
		return -1;
	kf->kdf_off = b.pos + 4;
	if (buf_get_string(&b, &p, &n) != 0)
		return -1;
	kf->kdfopts_off = b.pos + 4;
	if (buf_get_string(&b, &p, &n) != 0)
		return -1;
	kf->nkeys_off = b.pos;
	if (buf_get_u32(&b, &nkeys) != 0 || buf_get_string(&b, &p, &n) != 0 ||
	    buf_get_string(&b, &p, &n) != 0)
		return -1;
	kf->priv_off = (size_t)(p - kf->raw);
	kf->priv_len = n;
	return 0;
}

/* Write kf with one byte XORed, then expect the load to fail with want. */
static void expect_tamper_error(const char *tname, const struct keyfile *kf,
    size_t off, uint8_t x, size_t cut, const char *want)
{
	struct keyfile t = *kf;

	t.raw[off] ^= x;
	if (write_armored(path("tampered"), KEY_ARMOR_BEGIN, KEY_ARMOR_END,
	    t.raw, t.len - cut) != 0) {
		report(0, tname, "cannot write");
		return;
	}
	expect_load_error(tname, path("tampered"), want);
}

static void test_load_errors(void)
{
	struct keyfile kf;
	struct stat st;
	size_t len, comment_end, pad;
	char *big, *text;

	expect_load_error("passphrase-protected key needs a passphrase",
	    path("ed25519_enc"), "passphrase-protected key");
	expect_load_error("cryptography ed25519-psw.key needs a passphrase",
	    path("vec-ed25519-psw"), "passphrase-protected");
	expect_load_error("missing key file", path("no-such-key"),
	    "cannot open");
	expect_load_error("directory as key file", dir, "not a regular file");

	text = read_file(path("ed25519"), &len);
	if (text == NULL) {
		report(0, "key file variants", "cannot read ed25519");
		return;
	}
	write_file(path("open644"), text, len, 0644);
	expect_load_error("0644 key file refused", path("open644"),
	    "UNPROTECTED PRIVATE KEY FILE: permissions 0644 are too open");
	write_file(path("open640"), text, len, 0640);
	expect_load_error("0640 key file refused", path("open640"),
	    "UNPROTECTED PRIVATE KEY FILE: permissions 0640");
	if (stat(path("ed25519"), &st) != 0)
		st.st_mode = 0;
	report((st.st_mode & 0777) == 0600, "ssh-keygen key is 0600",
	    "mode %o", (unsigned)st.st_mode & 0777);

	write_file(path("half"), text, len / 2, 0600);
	expect_load_error("truncated key file", path("half"), "truncated");
	write_file(path("empty"), "", 0, 0600);
	expect_load_error("empty key file", path("empty"), "empty");
	write_file(path("garbage"), "hello\x01\xff world\n", 14, 0600);
	expect_load_error("garbage key file", path("garbage"),
	    "not an OpenSSH or PEM private key");
	free(text);

	if ((big = malloc(70 * 1024)) != NULL) {
		memset(big, 'A', 70 * 1024);
		write_file(path("big"), big, 70 * 1024, 0600);
		free(big);
	}
	expect_load_error("oversized key file", path("big"), "too large");
	write_armored(path("notb64"), KEY_ARMOR_BEGIN, KEY_ARMOR_END,
	    (const uint8_t *)"openssh-key-v2", 15);
	expect_load_error("wrong magic", path("notb64"),
	    "not an openssh-key-v1 key");

	if (keyfile_load(path("ed25519"), &kf) != 0) {
		report(0, "tampered key files", "cannot decode ed25519");
		return;
	}
	expect_tamper_error("two keys refused", &kf, kf.nkeys_off + 3, 3, 0,
	    "keys are not supported");
	expect_tamper_error("checkint mismatch", &kf, kf.priv_off, 1, 0,
	    "check values differ");
	/* checkints, "ssh-ed25519", pk, sk = seed || pk */
	expect_tamper_error("private pk differs from public", &kf,
	    kf.priv_off + 8 + 15 + 4, 1, 0, "malformed ssh-ed25519");
	expect_tamper_error("seed does not give the public key", &kf,
	    kf.priv_off + 8 + 15 + 36 + 4, 1, 0, "malformed ssh-ed25519");
	expect_tamper_error("pk copy in sk differs", &kf,
	    kf.priv_off + 8 + 15 + 36 + 4 + 32, 1, 0, "malformed ssh-ed25519");
	comment_end = 8 + 15 + 36 + 68 + 4 + strlen("ed25519@remowt.test");
	pad = kf.priv_len - comment_end;
	if (pad == 0 || pad >= 8)
		report(0, "bad padding", "test key has %zu padding bytes", pad);
	else
		expect_tamper_error("bad padding", &kf,
		    kf.priv_off + kf.priv_len - 1, 0x80, 0, "malformed");
	expect_tamper_error("truncated blob", &kf, 0, 0, 9, "malformed");
	expect_tamper_error("type name mismatch", &kf,
	    kf.priv_off + 8 + 4, 0x20, 0, "does not match");
}

/*
 * Private keys of every type and format, signatures checked by a peer.
 */

#define PASS "pass phrase"
#define PEM_LABEL_BEGIN(l) "-----BEGIN " l "-----"
#define PEM_LABEL_END(l) "-----END " l "-----"

static const char *const ed25519_algs[] = { "ssh-ed25519", NULL };
static const char *const ecdsa_algs[] = { "ecdsa-sha2-nistp256", NULL };
static const char *const rsa_algs[] = {
	"rsa-sha2-512", "rsa-sha2-256", NULL
};

static const char *const *algs_of(enum sshkey_type type)
{
	switch (type) {
	case KEY_ED25519:
		return ed25519_algs;
	case KEY_ECDSA_P256:
		return ecdsa_algs;
	default:
		return rsa_algs;
	}
}

static int all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t acc = 0;

	while (n-- > 0)
		acc |= *b++;
	return acc == 0;
}

/* No secret left in k. */
static int private_zero(const struct sshkey *k)
{
	return !k->has_private &&
	    all_zero(k->ed25519_seed, sizeof k->ed25519_seed) &&
	    all_zero(k->ec_d, sizeof k->ec_d) &&
	    all_zero(k->rsa_p, sizeof k->rsa_p) &&
	    all_zero(k->rsa_q, sizeof k->rsa_q) &&
	    all_zero(k->rsa_dp, sizeof k->rsa_dp) &&
	    all_zero(k->rsa_dq, sizeof k->rsa_dq) &&
	    all_zero(k->rsa_iq, sizeof k->rsa_iq) &&
	    k->rsa_p_len == 0 && k->rsa_q_len == 0 && k->rsa_dp_len == 0 &&
	    k->rsa_dq_len == 0 && k->rsa_iq_len == 0;
}

/* The secret of k's type is there. */
static int private_set(const struct sshkey *k)
{
	switch (k->type) {
	case KEY_ED25519:
		return !all_zero(k->ed25519_seed, sizeof k->ed25519_seed);
	case KEY_ECDSA_P256:
		return !all_zero(k->ec_d, sizeof k->ec_d);
	case KEY_RSA:
		return k->rsa_p_len > 0 && k->rsa_q_len > 0 &&
		    k->rsa_dp_len > 0 && k->rsa_dq_len > 0 &&
		    k->rsa_iq_len > 0;
	default:
		return 0;
	}
}

static int same_public(const struct sshkey *a, const struct sshkey *b)
{
	return a->type == b->type && a->blob_len == b->blob_len &&
	    memcmp(a->blob, b->blob, a->blob_len) == 0;
}

/* SSHSIG signed data over DIR/msg, as ssh-keygen -Y verify rebuilds it. */
static size_t msg_signed_data(uint8_t *out, size_t outsz)
{
	size_t mlen, n;
	char *msg = read_file(path("msg"), &mlen);

	if (msg == NULL)
		return 0;
	n = sshsig_signed_data(out, outsz, "file", "sha512", (uint8_t *)msg,
	    mlen);
	free(msg);
	return n;
}

/* Does `ssh-keygen -Y verify` accept sig over DIR/msg, signed by pub? */
static int peer_verify(const struct sshkey *pub, const uint8_t *sig,
    size_t siglen)
{
	char allowed[4096], b64[2048];

	base64_encode(b64, sizeof b64, pub->blob, pub->blob_len, 1);
	snprintf(allowed, sizeof allowed, "test@remowt %s %s\n",
	    sshkey_type_name(pub), b64);
	if (write_file(path("peer_signers"), allowed, strlen(allowed),
	    0600) != 0 || sshsig_write(path("peer.sshsig"), pub, sig,
	    siglen) != 0)
		return -1;
	return run("ssh-keygen -Y verify -f '%s' -I test@remowt -n file "
	    "-s '%s' < '%s' >/dev/null 2>&1", path("peer_signers"),
	    path("peer.sshsig"), path("msg")) == 0 ? 0 : -1;
}

/*
 * Load file (with pass), compare its public half with file.pub as
 * ssh-keygen or openssl derived it, sign with every algorithm of its
 * type, have ssh-keygen verify, and wipe.
 */
static void check_private(const char *file, const char *pass,
    enum sshkey_type type)
{
	struct sshkey k, pub;
	struct buf b;
	char err[256], tname[160], pubfile[128];
	const char *const *alg;
	uint8_t data[256], sig[1200];
	size_t dlen;
	int r;

	snprintf(tname, sizeof tname, "%s: load", file);
	snprintf(pubfile, sizeof pubfile, "%s.pub", file);
	err[0] = '\0';
	r = sshkey_load_private_pp(&k, path(file), pass, err, sizeof err);
	if (r != 0 || load_pub(pubfile, &pub) != 0) {
		report(0, tname, "returned %d: %s", r, err);
		return;
	}
	report(k.has_private && k.type == type && private_set(&k) &&
	    same_public(&k, &pub), tname, "type %d or public half differs "
	    "from %s", (int)k.type, pubfile);

	dlen = msg_signed_data(data, sizeof data);
	for (alg = algs_of(type); *alg != NULL; alg++) {
		snprintf(tname, sizeof tname, "%s: %s signature accepted by "
		    "ssh-keygen -Y verify", file, *alg);
		buf_init(&b, sig, sizeof sig);
		if (dlen == 0 || sshkey_sign(&k, *alg, data, dlen, &b) != 0) {
			report(0, tname, "sign failed");
			continue;
		}
		if (sshkey_verify(&pub, *alg, sig, b.len, data, dlen) != 0) {
			report(0, tname, "sshkey_verify refused it");
			continue;
		}
		report(peer_verify(&pub, sig, b.len) == 0, tname, "refused");
	}

	sshkey_wipe(&k);
	snprintf(tname, sizeof tname, "%s: sshkey_wipe leaves no secret",
	    file);
	buf_init(&b, sig, sizeof sig);
	report(private_zero(&k) && same_public(&k, &pub) &&
	    sshkey_sign(&k, algs_of(type)[0], data, dlen, &b) != 0, tname,
	    "secret left or still signs");
}

static void test_private_keys(void)
{
	static const struct {
		const char *file;
		const char *pass;
		enum sshkey_type type;
	} cases[] = {
		/* openssh-key-v1, clear */
		{ "ed25519", NULL, KEY_ED25519 },
		{ "ecdsa", NULL, KEY_ECDSA_P256 },
		{ "rsa", NULL, KEY_RSA },
		{ "rsa1024", NULL, KEY_RSA },
		{ "rsabig", NULL, KEY_RSA },            /* mbedtls */
		{ "vec-ecdsa-nopsw", NULL, KEY_ECDSA_P256 },
		{ "vec-rsa-nopsw", NULL, KEY_RSA },
		/* openssh-key-v1, bcrypt KDF */
		{ "enc-ed25519", PASS, KEY_ED25519 },   /* aes256-ctr */
		{ "enc-ecdsa", PASS, KEY_ECDSA_P256 },
		{ "enc-rsa", PASS, KEY_RSA },
		{ "ed25519_enc", "correct horse", KEY_ED25519 },
		{ "vec-ed25519-psw", "password", KEY_ED25519 },
		{ "vec-rsa-psw", "password", KEY_RSA },
		{ "z-aes128-ctr", PASS, KEY_ED25519 },
		{ "z-aes192-ctr", PASS, KEY_ED25519 },
		{ "z-aes128-cbc", PASS, KEY_ED25519 },
		{ "z-aes192-cbc", PASS, KEY_ED25519 },
		{ "z-aes256-cbc", PASS, KEY_RSA },
		{ "z-aes128-gcm", PASS, KEY_ECDSA_P256 },
		{ "z-aes256-gcm", PASS, KEY_ECDSA_P256 },
		/* PEM from ssh-keygen -m PEM and -m PKCS8 */
		{ "pem-rsa", NULL, KEY_RSA },           /* PKCS#1 */
		{ "pem-rsabig", NULL, KEY_RSA },
		{ "pem-ecdsa", NULL, KEY_ECDSA_P256 },  /* SEC1 */
		{ "p8-rsa", NULL, KEY_RSA },
		{ "p8-ecdsa", NULL, KEY_ECDSA_P256 },
		/* PEM from openssl */
		{ "ossl-rsa", NULL, KEY_RSA },          /* PKCS#8 */
		{ "ossl-rsa1", NULL, KEY_RSA },         /* PKCS#1 */
		{ "ossl-ec", NULL, KEY_ECDSA_P256 },    /* PKCS#8 */
		{ "ossl-ecparam", NULL, KEY_ECDSA_P256 }, /* SEC1 + params */
		{ "ossl-ed25519", NULL, KEY_ED25519 },  /* PKCS#8, RFC 8410 */
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_private(cases[i].file, cases[i].pass, cases[i].type);
}

/* Load file with pass; want return value rc and an error holding msg
 * (and no secret in k unless rc is 0). */
static void expect_pp(const char *tname, const char *file, const char *pass,
    int rc, const char *msg)
{
	struct sshkey k;
	char err[256];
	int r;

	err[0] = '\0';
	r = sshkey_load_private_pp(&k, file, pass, err, sizeof err);
	report(r == rc && strstr(err, msg) != NULL &&
	    (rc == 0 ? k.has_private : private_zero(&k)), tname,
	    "returned %d: '%s'", r, err);
	sshkey_wipe(&k);
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void test_passphrases(void)
{
	static const struct {
		const char *file;
		const char *pass;
	} cases[] = {
		{ "enc-ed25519", PASS },
		{ "enc-ecdsa", PASS },
		{ "enc-rsa", PASS },
		{ "z-aes256-gcm", PASS },
		{ "vec-rsa-psw", "password" },
	};
	struct sshkey k, pub;
	struct timespec t0;
	char err[256], tname[160], pubfile[128];
	size_t i;
	int r;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *f = cases[i].file;

		snprintf(pubfile, sizeof pubfile, "%s.pub", f);
		snprintf(tname, sizeof tname, "%s: no passphrase gives "
		    "SSHKEY_NEED_PASSPHRASE and the public key", f);
		err[0] = '\0';
		r = sshkey_load_private_pp(&k, path(f), NULL, err, sizeof err);
		report(r == SSHKEY_NEED_PASSPHRASE && load_pub(pubfile,
		    &pub) == 0 && same_public(&k, &pub) && private_zero(&k) &&
		    strstr(err, "passphrase-protected") != NULL, tname,
		    "returned %d: '%s'", r, err);

		snprintf(tname, sizeof tname, "%s: wrong passphrase gives "
		    "SSHKEY_BAD_PASSPHRASE", f);
		err[0] = '\0';
		r = sshkey_load_private_pp(&k, path(f), "pass phrasE", err,
		    sizeof err);
		report(r == SSHKEY_BAD_PASSPHRASE &&
		    strcmp(err, "incorrect passphrase") == 0 &&
		    same_public(&k, &pub) && private_zero(&k), tname,
		    "returned %d: '%s'", r, err);

		snprintf(tname, sizeof tname, "%s: empty passphrase is "
		    "incorrect", f);
		expect_pp(tname, path(f), "", SSHKEY_BAD_PASSPHRASE,
		    "incorrect passphrase");

		snprintf(tname, sizeof tname, "%s: sshkey_load_private "
		    "says passphrase-protected", f);
		r = sshkey_load_private(&k, path(f), err, sizeof err);
		report(r == -1 && strstr(err, "passphrase-protected") != NULL &&
		    k.blob_len == 0 && private_zero(&k), tname,
		    "returned %d: '%s'", r, err);
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = sshkey_load_private_pp(&k, path("enc-ed25519"), PASS, err,
	    sizeof err);
	printf("# loading a key of ssh-keygen -a 16: %.3f s\n",
	    seconds_since(&t0));
	sshkey_wipe(&k);
	report(r == 0, "load with a 16-round bcrypt KDF", "%s", err);

	r = sshkey_load_private_pp(&k, path("ecdsa"), PASS, err, sizeof err);
	report(r == 0 && k.has_private, "a passphrase for a clear key is "
	    "ignored", "returned %d: '%s'", r, err);
	sshkey_wipe(&k);
	expect_pp("cryptography ecdsa-psw.key (P-384) unsupported",
	    path("vec-ecdsa-psw"), "password", SSHKEY_ERR,
	    "unsupported key type ecdsa-sha2-nistp384");
	expect_pp("chacha20-poly1305 key file cipher unsupported",
	    path("z-chacha"), PASS, SSHKEY_ERR,
	    "unsupported key file cipher chacha20-poly1305@openssh.com");
}

/* Write kf with one byte XORed and cut short, then load it with PASS. */
static void expect_pp_tamper(const char *tname, const struct keyfile *kf,
    size_t off, uint8_t x, size_t cut, int rc, const char *msg)
{
	static struct keyfile t;

	t = *kf;
	t.raw[off] ^= x;
	if (write_armored(path("tampered"), KEY_ARMOR_BEGIN, KEY_ARMOR_END,
	    t.raw, t.len - cut) != 0) {
		report(0, tname, "cannot write");
		return;
	}
	expect_pp(tname, path("tampered"), PASS, rc, msg);
}

static void test_encrypted_tamper(void)
{
	static struct keyfile kf;
	size_t rounds_off;

	if (keyfile_load(path("enc-ed25519"), &kf) != 0) {
		report(0, "tampered encrypted key files", "cannot decode");
		return;
	}
	expect_pp_tamper("unknown key file cipher", &kf, kf.cipher_off + 1,
	    1, 0, SSHKEY_ERR, "unsupported key file cipher");
	expect_pp_tamper("unknown KDF", &kf, kf.kdf_off + 5, 1, 0,
	    SSHKEY_ERR, "unsupported key derivation");
	/* kdfoptions: string salt, uint32 rounds */
	rounds_off = kf.kdfopts_off + 4 + load_be32(kf.raw + kf.kdfopts_off);
	expect_pp_tamper("zero bcrypt rounds", &kf, rounds_off + 3, 16, 0,
	    SSHKEY_ERR, "rounds 0 out of range");
	expect_pp_tamper("2^31 bcrypt rounds", &kf, rounds_off, 0x80, 0,
	    SSHKEY_ERR, "out of range");
	expect_pp_tamper("other salt: incorrect passphrase", &kf,
	    kf.kdfopts_off + 8, 1, 0, SSHKEY_BAD_PASSPHRASE,
	    "incorrect passphrase");
	expect_pp_tamper("aes256-ctr checkint flipped", &kf, kf.priv_off, 1,
	    0, SSHKEY_BAD_PASSPHRASE, "incorrect passphrase");
	expect_pp_tamper("aes256-ctr padding flipped", &kf,
	    kf.priv_off + kf.priv_len - 1, 0x80, 0, SSHKEY_ERR, "malformed");
	expect_pp_tamper("encrypted section short of a block", &kf, 0, 0, 16,
	    SSHKEY_ERR, "malformed key file");

	if (keyfile_load(path("z-aes256-gcm"), &kf) != 0) {
		report(0, "tampered GCM key files", "cannot decode");
		return;
	}
	expect_pp_tamper("GCM tag flipped", &kf, kf.len - 1, 1, 0,
	    SSHKEY_BAD_PASSPHRASE, "incorrect passphrase");
	expect_pp_tamper("GCM ciphertext flipped", &kf,
	    kf.priv_off + kf.priv_len / 2, 4, 0, SSHKEY_BAD_PASSPHRASE,
	    "incorrect passphrase");
	expect_pp_tamper("GCM tag missing", &kf, 0, 0, 16, SSHKEY_ERR,
	    "malformed key file");
}

/*
 * Residue: right after sshkey_load_private_pp() or sshkey_sign(), neither
 * the stack below the caller nor the heap may hold 16 bytes of a private
 * part of k, or the passphrase, whether the call worked or failed.
 * Inlined, so that no frame of its own lies over what it looks at.
 */
static inline __attribute__((always_inline)) const char *
key_left(const struct sshkey *k, const char *pass)
{
	const uint8_t *part[5];
	size_t len[5], n = 0, i;

	switch (k->type) {
	case KEY_ED25519:
		part[n] = k->ed25519_seed;
		len[n++] = sizeof k->ed25519_seed;
		break;
	case KEY_ECDSA_P256:
		part[n] = k->ec_d;
		len[n++] = sizeof k->ec_d;
		break;
	case KEY_RSA:
		part[n] = k->rsa_p;
		len[n++] = k->rsa_p_len;
		part[n] = k->rsa_q;
		len[n++] = k->rsa_q_len;
		part[n] = k->rsa_dp;
		len[n++] = k->rsa_dp_len;
		part[n] = k->rsa_dq;
		len[n++] = k->rsa_dq_len;
		part[n] = k->rsa_iq;
		len[n++] = k->rsa_iq_len;
		break;
	default:
		return "no private key to look for";
	}
	for (i = 0; i < n; i++) {
		if (len[i] == 0)
			return "an empty private part";
		if (residue_stack(part[i], len[i]))
			return "the private key on the stack";
		if (residue_heap(part[i], len[i]) == 1)
			return "the private key on the heap";
	}
	if (pass != NULL && residue_stack(pass, strlen(pass)))
		return "the passphrase on the stack";
	if (pass != NULL && residue_heap(pass, strlen(pass)) == 1)
		return "the passphrase on the heap";
	return NULL;
}

/* Load file, sign with every algorithm of its type, and look each time. */
static void residue_of(const char *file, const char *pass)
{
	struct sshkey k;
	struct buf b;
	uint8_t data[64], sig[1200];
	char err[256], tname[160];
	const char *const *alg;
	const char *where;
	int r;

	memset(data, 0x3c, sizeof data);
	err[0] = '\0';
	r = sshkey_load_private_pp(&k, path(file), pass, err, sizeof err);
	where = r == 0 ? key_left(&k, pass) : err;
	snprintf(tname, sizeof tname, "%s: a load leaves no copy of the key "
	    "or the passphrase", file);
	report(r == 0 && where == NULL, tname, "%s", where);
	if (r != 0)
		return;
	for (alg = algs_of(k.type); *alg != NULL; alg++) {
		buf_init(&b, sig, sizeof sig);
		r = sshkey_sign(&k, *alg, data, sizeof data, &b);
		where = r == 0 ? key_left(&k, NULL) : "signing failed";
		snprintf(tname, sizeof tname, "%s: a %s signature leaves no "
		    "copy of the key", file, *alg);
		report(where == NULL, tname, "%s", where);
	}
	sshkey_wipe(&k);
}

/* The key of enc-ed25519, learnt from a good load, for the failed ones. */
static struct sshkey known;

/* A load of an altered enc-ed25519 that fails after decrypting. */
static void residue_of_failure(const char *tname, const struct keyfile *kf,
    size_t off, uint8_t x, const char *pass, int rc)
{
	static struct keyfile t;
	struct sshkey k;
	char err[256];
	const char *where;
	int r;

	t = *kf;
	t.raw[off] ^= x;
	if (write_armored(path("tampered"), KEY_ARMOR_BEGIN, KEY_ARMOR_END,
	    t.raw, t.len) != 0) {
		report(0, tname, "cannot write");
		return;
	}
	r = sshkey_load_private_pp(&k, path("tampered"), pass, err,
	    sizeof err);
	where = key_left(&known, pass);
	report(r == rc && where == NULL && private_zero(&k), tname,
	    "returned %d (%s), %s", r, err, where ? where : "k not wiped");
}

static void test_residue(void)
{
	static const struct {
		const char *file;
		const char *pass;
	} cases[] = {
		{ "ed25519", NULL }, { "ecdsa", NULL }, { "rsa", NULL },
		{ "rsabig", NULL },
		{ "enc-ed25519", PASS }, { "enc-ecdsa", PASS },
		{ "enc-rsa", PASS }, { "z-aes256-cbc", PASS },
		{ "z-aes128-gcm", PASS },
		{ "pem-rsa", NULL }, { "pem-ecdsa", NULL }, { "p8-rsa", NULL },
		{ "p8-ecdsa", NULL }, { "ossl-ed25519", NULL },
	};
	static struct keyfile kf;
	char err[256];
	size_t i;
	int r;

	r = residue_selftest();
	report(r == 0, "residue search sees what is left behind (control)",
	    "a planted secret was not found");
	if (RESIDUE_ASAN)
		printf("# ASan: the heap is not searched\n");
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		residue_of(cases[i].file, cases[i].pass);

	r = sshkey_load_private_pp(&known, path("enc-ed25519"), PASS, err,
	    sizeof err);
	if (r != 0 || keyfile_load(path("enc-ed25519"), &kf) != 0) {
		report(0, "residue of failed loads", "cannot load enc-ed25519");
		return;
	}
	residue_of_failure("a wrong passphrase leaves no copy of it", &kf,
	    0, 0, "pass phrasE", SSHKEY_BAD_PASSPHRASE);
	residue_of_failure("decrypted, then refused (bad padding): no copy "
	    "of the key or the passphrase", &kf,
	    kf.priv_off + kf.priv_len - 1, 0x80, PASS, SSHKEY_ERR);
	residue_of_failure("decrypted, then refused (seed does not give the "
	    "public key): no copy left", &kf, kf.priv_off + kf.priv_len / 2,
	    0x01, PASS, SSHKEY_ERR);
	sshkey_wipe(&known);
}

/* The DER inside PEM file name, whose block has this label. */
static long pem_der(const char *name, const char *label, uint8_t *out,
    size_t outsz)
{
	char begin[96], end[96];
	size_t len;
	long n;
	char *text = read_file(path(name), &len);

	if (text == NULL)
		return -1;
	snprintf(begin, sizeof begin, "-----BEGIN %s-----", label);
	snprintf(end, sizeof end, "-----END %s-----", label);
	n = unarmor(text, begin, end, out, outsz);
	free(text);
	return n;
}

static int write_pem(const char *name, const char *label,
    const uint8_t *der, size_t len)
{
	char begin[96], end[96];

	snprintf(begin, sizeof begin, "-----BEGIN %s-----", label);
	snprintf(end, sizeof end, "-----END %s-----", label);
	return write_armored(path(name), begin, end, der, len);
}

static void expect_pem_error(const char *tname, const char *label,
    const uint8_t *der, size_t len, const char *msg)
{
	if (write_pem("bad.pem", label, der, len) != 0) {
		report(0, tname, "cannot write");
		return;
	}
	expect_pp(tname, path("bad.pem"), NULL, SSHKEY_ERR, msg);
}

static void test_pem_errors(void)
{
	static const char *const encrypted[] = {
		"pem-enc-rsa", "p8-enc-ecdsa", "ossl-enc"
	};
	static const uint8_t sec1_no_curve[] = {
		0x30, 0x25, 0x02, 0x01, 0x01, 0x04, 0x20,
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
		17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
	};
	uint8_t der[4096], tmp[4096];
	char tname[160], want[1200], text[256];
	size_t i, len;
	long n;

	for (i = 0; i < sizeof encrypted / sizeof encrypted[0]; i++) {
		snprintf(want, sizeof want, "convert it with ssh-keygen -p "
		    "-f %s", path(encrypted[i]));
		snprintf(tname, sizeof tname, "%s: encrypted PEM refused, "
		    "with advice", encrypted[i]);
		expect_pp(tname, path(encrypted[i]), NULL, SSHKEY_ERR, want);
		snprintf(tname, sizeof tname, "%s: refused with a "
		    "passphrase too", encrypted[i]);
		expect_pp(tname, path(encrypted[i]), PASS, SSHKEY_ERR,
		    "encrypted PEM keys are not supported");
	}
	expect_pp("P-384 PEM key refused", path("ossl-p384"), NULL,
	    SSHKEY_ERR, "unsupported EC curve");

	expect_pem_error("DSA PEM key refused", "DSA PRIVATE KEY",
	    (const uint8_t *)"\x30\x03\x02\x01\x00", 5,
	    "unsupported key type (DSA PRIVATE KEY)");
	expect_pem_error("certificate refused", "CERTIFICATE",
	    (const uint8_t *)"\x30\x00", 2, "not a private key (CERTIFICATE)");
	expect_pem_error("SEC1 key without a curve", "EC PRIVATE KEY",
	    sec1_no_curve, sizeof sec1_no_curve, "names no curve");
	expect_pem_error("empty PKCS#1 key", "RSA PRIVATE KEY",
	    (const uint8_t *)"", 0, "malformed PKCS#1");

	if ((n = pem_der("pem-rsa", "RSA PRIVATE KEY", der, sizeof der)) < 8 ||
	    der[4] != 0x02 || der[5] != 0x01) {
		report(0, "PKCS#1 tampering", "cannot decode pem-rsa");
		return;
	}
	len = (size_t)n;
	expect_pem_error("PKCS#1 key cut short", "RSA PRIVATE KEY", der,
	    len - 7, "malformed PKCS#1");
	memcpy(tmp, der, len);
	tmp[6] = 1;
	expect_pem_error("multi-prime PKCS#1 key refused", "RSA PRIVATE KEY",
	    tmp, len, "multi-prime");
	memcpy(tmp, der, len);
	tmp[len / 2] ^= 0x10;
	expect_pem_error("PKCS#1 key with a flipped bit", "RSA PRIVATE KEY",
	    tmp, len, "malformed");

	/* SEQUENCE, INTEGER 0, SEQUENCE { OID rsaEncryption ... } */
	if ((n = pem_der("p8-rsa", "PRIVATE KEY", der, sizeof der)) < 20 ||
	    der[9] != 0x06 || der[10] != 9) {
		report(0, "PKCS#8 tampering", "cannot decode p8-rsa");
		return;
	}
	der[19] ^= 0x40;
	expect_pem_error("unknown PKCS#8 algorithm", "PRIVATE KEY", der,
	    (size_t)n, "unsupported PKCS#8 key algorithm");

	snprintf(text, sizeof text, "-----BEGIN RSA PRIVATE KEY-----\n"
	    "MAMCAQA=\n-----END EC PRIVATE KEY-----\n");
	write_file(path("bad.pem"), text, strlen(text), 0600);
	expect_pp("mismatched PEM END line", path("bad.pem"), NULL,
	    SSHKEY_ERR, "END line does not match");
	snprintf(text, sizeof text, "-----BEGIN RSA PRIVATE KEY-----\n"
	    "MAMC!QA=\n-----END RSA PRIVATE KEY-----\n");
	write_file(path("bad.pem"), text, strlen(text), 0600);
	expect_pp("bad base64 in PEM", path("bad.pem"), NULL, SSHKEY_ERR,
	    "bad base64");
	snprintf(text, sizeof text, "-----BEGIN RSA PRIVATE KEY-----\n"
	    "Comment: hello\n\nMAMCAQA=\n-----END RSA PRIVATE KEY-----\n");
	write_file(path("bad.pem"), text, strlen(text), 0600);
	expect_pp("unknown PEM header", path("bad.pem"), NULL, SSHKEY_ERR,
	    "unexpected header");
}

/*
 * PKCS#1 keys whose parts do not belong together, written by mbedtls
 * from a good key with one part changed.
 */
static void test_rsa_inconsistent(void)
{
	static const char *const names[] = {
		"unchanged", "d + 2", "qinv + 1", "p + 2", "p and q swapped",
	};
	mbedtls_pk_context pk;
	mbedtls_rsa_context *rsa;
	mbedtls_mpi saved;
	unsigned char pem[8192];
	char tname[128];
	size_t i;
	int r;

	mbedtls_pk_init(&pk);
	mbedtls_mpi_init(&saved);
	if (mbedtls_pk_parse_keyfile(&pk, path("pem-rsa"), NULL) != 0 ||
	    mbedtls_pk_get_type(&pk) != MBEDTLS_PK_RSA) {
		report(0, "inconsistent RSA keys", "mbedtls cannot read "
		    "pem-rsa");
		goto out;
	}
	rsa = mbedtls_pk_rsa(pk);
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(tname, sizeof tname, "PKCS#1 key with %s %s", names[i],
		    i == 0 ? "loads" : "refused");
		switch (i) {
		case 1:
			mbedtls_mpi_copy(&saved, &rsa->D);
			mbedtls_mpi_add_int(&rsa->D, &rsa->D, 2);
			break;
		case 2:
			mbedtls_mpi_copy(&saved, &rsa->QP);
			mbedtls_mpi_add_int(&rsa->QP, &rsa->QP, 1);
			break;
		case 3:
			mbedtls_mpi_copy(&saved, &rsa->P);
			mbedtls_mpi_add_int(&rsa->P, &rsa->P, 2);
			break;
		case 4:
			mbedtls_mpi_swap(&rsa->P, &rsa->Q);
			break;
		}
		r = mbedtls_pk_write_key_pem(&pk, pem, sizeof pem);
		switch (i) {
		case 1:
			mbedtls_mpi_copy(&rsa->D, &saved);
			break;
		case 2:
			mbedtls_mpi_copy(&rsa->QP, &saved);
			break;
		case 3:
			mbedtls_mpi_copy(&rsa->P, &saved);
			break;
		case 4:
			mbedtls_mpi_swap(&rsa->P, &rsa->Q);
			break;
		}
		if (r != 0 || write_file(path("bad-rsa.pem"), pem,
		    strlen((char *)pem), 0600) != 0) {
			report(0, tname, "cannot write");
			continue;
		}
		if (i == 0)
			expect_pp(tname, path("bad-rsa.pem"), NULL, 0, "");
		else
			expect_pp(tname, path("bad-rsa.pem"), NULL, SSHKEY_ERR,
			    "malformed ssh-rsa private key");
	}
out:
	mbedtls_mpi_free(&saved);
	mbedtls_pk_free(&pk);
}

/* A SEC1 P-256 key with scalar d, as PEM in DIR/name. */
static int write_sec1(const char *name, const uint8_t d[32])
{
	static const uint8_t head[] = {
		0x30, 0x31, 0x02, 0x01, 0x01, 0x04, 0x20
	};
	static const uint8_t tail[] = {
		0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03,
		0x01, 0x07
	};
	uint8_t der[sizeof head + 32 + sizeof tail];

	memcpy(der, head, sizeof head);
	memcpy(der + sizeof head, d, 32);
	memcpy(der + sizeof head + 32, tail, sizeof tail);
	return write_pem(name, "EC PRIVATE KEY", der, sizeof der);
}

/* Scalar number i of test_ec_scalar_range(). */
static void edge_scalar(size_t i, uint8_t d[32])
{
	static const uint8_t order[32] = {
		0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
		0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
	};

	memset(d, 0, 32);
	switch (i) {
	case 0:                         /* 0 */
		break;
	case 1:                         /* 1 */
		d[31] = 1;
		break;
	case 2:                         /* 2^128 - 1 */
		memset(d + 16, 0xff, 16);
		break;
	case 3:                         /* 2^128 */
		d[15] = 1;
		break;
	case 4:                         /* n - 2 */
		memcpy(d, order, 32);
		d[31] -= 2;
		break;
	case 5:                         /* n - 1 */
		memcpy(d, order, 32);
		d[31]--;
		break;
	case 6:                         /* n */
		memcpy(d, order, 32);
		break;
	case 7:                         /* n + 1 */
		memcpy(d, order, 32);
		d[31]++;
		break;
	default:                        /* 2^256 - 1 */
		memset(d, 0xff, 32);
		break;
	}
}

/*
 * Scalars at the edges of what OpenSSH accepts: 2^128 <= d < n - 1.
 * Accepted ones must give the public key ssh-keygen -y sees.
 */
static void test_ec_scalar_range(void)
{
	static const struct {
		const char *name;
		int ok;
	} cases[] = {
		{ "0", 0 }, { "1", 0 }, { "2^128 - 1", 0 }, { "2^128", 1 },
		{ "n - 2", 1 }, { "n - 1", 0 }, { "n", 0 }, { "n + 1", 0 },
		{ "2^256 - 1", 0 },
	};
	uint8_t d[32];
	struct sshkey k, pub;
	char tname[128], err[256];
	size_t i;
	int r;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		edge_scalar(i, d);
		snprintf(tname, sizeof tname, "EC scalar %s %s",
		    cases[i].name, cases[i].ok ? "accepted" : "refused");
		if (write_sec1("ec-edge", d) != 0) {
			report(0, tname, "cannot write");
			continue;
		}
		if (!cases[i].ok) {
			expect_pp(tname, path("ec-edge"), NULL, SSHKEY_ERR,
			    "malformed ecdsa-sha2-nistp256");
			continue;
		}
		err[0] = '\0';
		r = sshkey_load_private_pp(&k, path("ec-edge"), NULL, err,
		    sizeof err);
		report(r == 0 && run("ssh-keygen -y -f '%s' > '%s' 2>/dev/null",
		    path("ec-edge"), path("ec-edge.pub")) == 0 &&
		    load_pub("ec-edge.pub", &pub) == 0 &&
		    same_public(&k, &pub), tname, "returned %d (%s), or public "
		    "key differs from ssh-keygen -y", r, err);
		sshkey_wipe(&k);
	}
}

/*
 * A signature made with a damaged CRT part must never leave sshkey_sign
 * (it would give away a factor); ECDSA is deterministic (RFC 6979).
 */
static void test_sign_faults(void)
{
	struct sshkey k, bad;
	struct buf b, b2;
	char err[256];
	uint8_t data[256], sig[1200], sig2[1200], small[64];
	size_t dlen = msg_signed_data(data, sizeof data);

	if (sshkey_load_private(&k, path("rsa"), err, sizeof err) != 0) {
		report(0, "RSA fault checks", "%s", err);
		return;
	}
	bad = k;
	bad.rsa_dp[10] ^= 1;
	buf_init(&b, sig, sizeof sig);
	report(sshkey_sign(&bad, "rsa-sha2-512", data, dlen, &b) != 0 &&
	    b.len == 0, "RSA signature from a damaged dp withheld",
	    "signed");
	bad = k;
	bad.rsa_iq[5] ^= 0x20;
	buf_init(&b, sig, sizeof sig);
	report(sshkey_sign(&bad, "rsa-sha2-256", data, dlen, &b) != 0 &&
	    b.len == 0, "RSA signature from a damaged iq withheld",
	    "signed");
	buf_init(&b, small, sizeof small);
	report(sshkey_sign(&k, "rsa-sha2-512", data, dlen, &b) != 0 &&
	    b.len == 0, "RSA sign into a short buffer fails cleanly",
	    "wrote %zu bytes", b.len);
	sshkey_wipe(&k);
	sshkey_wipe(&bad);

	if (sshkey_load_private(&k, path("rsabig"), err, sizeof err) != 0) {
		report(0, "RSA fault checks (mbedtls)", "%s", err);
		return;
	}
	bad = k;
	bad.rsa_p[bad.rsa_p_len - 1] ^= 2;
	buf_init(&b, sig, sizeof sig);
	report(sshkey_sign(&bad, "rsa-sha2-512", data, dlen, &b) != 0 &&
	    b.len == 0, "RSA over 4096 bits: damaged p withheld", "signed");
	sshkey_wipe(&k);
	sshkey_wipe(&bad);

	if (sshkey_load_private(&k, path("ecdsa"), err, sizeof err) != 0) {
		report(0, "ECDSA determinism", "%s", err);
		return;
	}
	buf_init(&b, sig, sizeof sig);
	buf_init(&b2, sig2, sizeof sig2);
	report(sshkey_sign(&k, "ecdsa-sha2-nistp256", data, dlen, &b) == 0 &&
	    sshkey_sign(&k, "ecdsa-sha2-nistp256", data, dlen, &b2) == 0 &&
	    b.len == b2.len && memcmp(sig, sig2, b.len) == 0,
	    "ECDSA signatures are deterministic", "differ");
	buf_init(&b2, sig2, sizeof sig2);
	data[dlen - 1] ^= 1;
	report(sshkey_sign(&k, "ecdsa-sha2-nistp256", data, dlen, &b2) == 0 &&
	    (b.len != b2.len || memcmp(sig, sig2, b.len) != 0),
	    "ECDSA nonce depends on the message", "same signature");
	buf_init(&b, small, 40);
	report(sshkey_sign(&k, "ecdsa-sha2-nistp256", data, dlen, &b) != 0 &&
	    b.len == 0, "ECDSA sign into a short buffer fails cleanly",
	    "wrote %zu bytes", b.len);
	buf_init(&b, sig, sizeof sig);
	report(sshkey_sign(&k, "ssh-ed25519", data, dlen, &b) != 0 &&
	    sshkey_sign(&k, "rsa-sha2-256", data, dlen, &b) != 0,
	    "ECDSA key refuses other algorithms", "signed");
	sshkey_wipe(&k);
}

/* ssh-rsa (SHA-1) and rsa-sha2-256 signatures checked by openssl dgst. */
static void test_ssh_rsa_openssl(void)
{
	static const struct {
		const char *alg;
		const char *dgst;
	} algs[] = {
		{ "ssh-rsa", "sha1" },
		{ "rsa-sha2-256", "sha256" },
	};
	static const char *const keys[] = { "rsa", "rsabig" };
	struct sshkey k;
	struct buf b, sb;
	char err[256], tname[128], pem[128];
	uint8_t sig[1200];
	const uint8_t *s;
	size_t i, j, mlen, slen;
	char *msg = read_file(path("msg"), &mlen);

	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		if (msg == NULL || sshkey_load_private(&k, path(keys[i]), err,
		    sizeof err) != 0) {
			report(0, "ssh-rsa signatures", "cannot load %s",
			    keys[i]);
			continue;
		}
		snprintf(pem, sizeof pem, "%s.pub.pem", keys[i]);
		for (j = 0; j < sizeof algs / sizeof algs[0]; j++) {
			snprintf(tname, sizeof tname, "%s: %s signature "
			    "accepted by openssl dgst", keys[i], algs[j].alg);
			buf_init(&b, sig, sizeof sig);
			if (sshkey_sign(&k, algs[j].alg, (uint8_t *)msg, mlen,
			    &b) != 0) {
				report(0, tname, "sign failed");
				continue;
			}
			buf_view(&sb, sig, b.len);
			if (buf_skip(&sb, 4 + strlen(algs[j].alg)) != 0 ||
			    buf_get_string(&sb, &s, &slen) != 0 ||
			    slen != k.rsa_n_len ||
			    write_file(path("raw.sig"), s, slen, 0600) != 0) {
				report(0, tname, "bad blob");
				continue;
			}
			report(run("openssl dgst -%s -verify '%s' -signature "
			    "'%s' '%s' >/dev/null 2>&1", algs[j].dgst,
			    path(pem), path("raw.sig"), path("msg")) == 0,
			    tname, "refused");
		}
		sshkey_wipe(&k);
	}
	free(msg);
}

static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/*
 * Random damage to the decoded contents of clear key files: every load
 * must fail cleanly or give a key whose signatures verify.
 */
static void test_mutations(void)
{
	static const struct {
		const char *file;
		const char *label;
	} files[] = {
		{ "ed25519", "OPENSSH PRIVATE KEY" },
		{ "ecdsa", "OPENSSH PRIVATE KEY" },
		{ "rsa1024", "OPENSSH PRIVATE KEY" },
		{ "rsa1024.pem", "RSA PRIVATE KEY" },
		{ "pem-ecdsa", "EC PRIVATE KEY" },
		{ "p8-ecdsa", "PRIVATE KEY" },
		{ "ossl-rsa", "PRIVATE KEY" },
		{ "ossl-ed25519", "PRIVATE KEY" },
	};
	static uint8_t der[8192], mut[8192];
	struct sshkey k;
	struct buf b;
	uint32_t seed = 0x2545f491;
	uint8_t data[64], sig[1200];
	char err[256];
	size_t i, j, len, cut;
	int it, r, bad = 0, accepted = 0, refused = 0;
	long n;

	memset(data, 0x5a, sizeof data);
	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		if ((n = pem_der(files[i].file, files[i].label, der,
		    sizeof der)) <= 0) {
			report(0, "mutated key files", "cannot decode %s",
			    files[i].file);
			return;
		}
		len = (size_t)n;
		for (it = 0; it < 300; it++) {
			memcpy(mut, der, len);
			for (j = 1 + xorshift(&seed) % 3; j > 0; j--)
				mut[xorshift(&seed) % len] ^=
				    (uint8_t)(1 + xorshift(&seed) % 255);
			cut = xorshift(&seed) % 8 == 0 ?
			    xorshift(&seed) % len : 0;
			if (write_pem("mutated", files[i].label, mut,
			    len - cut) != 0) {
				report(0, "mutated key files", "cannot write");
				return;
			}
			r = sshkey_load_private_pp(&k, path("mutated"), NULL,
			    err, sizeof err);
			if (r != 0) {
				refused++;
				bad |= !private_zero(&k);
				continue;
			}
			accepted++;
			buf_init(&b, sig, sizeof sig);
			if (sshkey_sign(&k, algs_of(k.type)[0], data,
			    sizeof data, &b) != 0 || sshkey_verify(&k,
			    algs_of(k.type)[0], sig, b.len, data,
			    sizeof data) != 0) {
				printf("# %s: a mutation loaded but does not "
				    "sign\n", files[i].file);
				bad = 1;
			}
			sshkey_wipe(&k);
		}
	}
	printf("# mutated key files: %d loaded, %d refused\n", accepted,
	    refused);
	report(!bad, "mutated key files load cleanly or sign correctly",
	    "see above");
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: unit_sshkey DIR (see t_keys.sh)\n");
		return 2;
	}
	dir = argv[1];
	if (strchr(dir, '\'') != NULL) {
		fprintf(stderr, "unit_sshkey: DIR must not contain quotes\n");
		return 2;
	}

	/* First: what the other cases leave on the heap is theirs. */
	residue_init();
	test_residue();

	test_base64();
	test_public("ed25519", KEY_ED25519);
	test_public("ecdsa", KEY_ECDSA_P256);
	test_public("rsa", KEY_RSA);
	test_public("rsabig", KEY_RSA);
	test_public_rejects();
	test_sshsig("ed25519", "ssh-ed25519");
	test_sshsig("ecdsa", "ecdsa-sha2-nistp256");
	test_sshsig("rsa", "rsa-sha2-512");
	test_sshsig("rsabig", "rsa-sha2-512");
	test_ecdsa_shapes();
	test_rsa_other_hashes();
	test_load_ed25519();
	test_load_vector();
	test_load_errors();
	test_private_keys();
	test_passphrases();
	test_encrypted_tamper();
	test_pem_errors();
	test_rsa_inconsistent();
	test_ec_scalar_range();
	test_sign_faults();
	test_ssh_rsa_openssl();
	test_mutations();
	return failures == 0 ? 0 : 1;
}
