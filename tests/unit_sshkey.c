/*
 * unit_sshkey.c - key blobs, signatures and key files against ssh-keygen.
 *
 * Usage: unit_sshkey DIR, DIR prepared by t_keys.sh: keys made by
 * ssh-keygen, their fingerprints (NAME.fp) and SSHSIG signatures of
 * DIR/msg (NAME.sshsig).  Our own signatures are checked back with
 * `ssh-keygen -Y verify`.
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
#include <unistd.h>

#include <bearssl.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>

#include "buf.h"
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
	/* ciphername, kdfname, kdfoptions */
	if (buf_get_string(&b, &p, &n) != 0 ||
	    buf_get_string(&b, &p, &n) != 0 ||
	    buf_get_string(&b, &p, &n) != 0)
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

	expect_load_error("passphrase-protected key refused",
	    path("ed25519_enc"), "passphrase-protected keys are not "
	    "supported yet");
	expect_load_error("cryptography ed25519-psw.key refused",
	    path("vec-ed25519-psw"), "passphrase-protected");
	expect_load_error("ecdsa key: cannot sign yet", path("ecdsa"),
	    "key type ecdsa-sha2-nistp256 cannot sign yet");
	expect_load_error("rsa key: cannot sign yet", path("rsa"),
	    "key type ssh-rsa cannot sign yet");
	expect_load_error("cryptography ecdsa-nopsw.key: cannot sign yet",
	    path("vec-ecdsa-nopsw"), "cannot sign yet");
	expect_load_error("cryptography rsa-nopsw.key: cannot sign yet",
	    path("vec-rsa-nopsw"), "cannot sign yet");
	expect_load_error("PEM key refused", path("rsa1024.pem"), "PEM");
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
	    "not an OpenSSH private key");
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
	return failures == 0 ? 0 : 1;
}
