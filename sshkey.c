/*
 * sshkey.c - SSH public key blobs, signatures, fingerprints and
 * openssh-key-v1 private key files.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bearssl.h>
#include <mbedtls/md.h>
#include <mbedtls/rsa.h>

#include "ed25519.h"
#include "sshkey.h"

#define RSA_MIN_BITS 1024
#define RSA_MAX_BITS 8192
/* BearSSL's RSA code stops at 4096 bits; larger moduli go to mbedtls. */
#define BEARSSL_RSA_MAX_BYTES 512

#define PRIVKEY_MAX_FILE (64 * 1024)
#define PRIVKEY_BLOCK 8         /* padding unit of cipher "none" */
#define PRIVKEY_MAGIC "openssh-key-v1"
#define PRIVKEY_MAGIC_LEN 15    /* including the NUL */
#define ARMOR_BEGIN "-----BEGIN OPENSSH PRIVATE KEY-----"
#define ARMOR_END "-----END OPENSSH PRIVATE KEY-----"

static const struct {
	enum sshkey_type type;
	const char *name;
} key_types[] = {
	{ KEY_ED25519, "ssh-ed25519" },
	{ KEY_ECDSA_P256, "ecdsa-sha2-nistp256" },
	{ KEY_RSA, "ssh-rsa" },
};

/* Signature algorithms over RSA keys, RFC 8332 and RFC 4253. */
struct rsa_sig_alg {
	const char *name;
	const br_hash_class *hash;
	size_t hash_len;
	const unsigned char *oid;
	mbedtls_md_type_t md;
};

static const struct rsa_sig_alg rsa_sig_algs[] = {
	{ "rsa-sha2-256", &br_sha256_vtable, br_sha256_SIZE,
	    BR_HASH_OID_SHA256, MBEDTLS_MD_SHA256 },
	{ "rsa-sha2-512", &br_sha512_vtable, br_sha512_SIZE,
	    BR_HASH_OID_SHA512, MBEDTLS_MD_SHA512 },
	{ "ssh-rsa", &br_sha1_vtable, br_sha1_SIZE,
	    BR_HASH_OID_SHA1, MBEDTLS_MD_SHA1 },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

const char *sshkey_type_name(const struct sshkey *k)
{
	size_t i;

	for (i = 0; i < NELEM(key_types); i++)
		if (key_types[i].type == k->type)
			return key_types[i].name;
	return "unknown";
}

enum sshkey_type sshkey_type_from_name(const char *name)
{
	size_t i;

	for (i = 0; i < NELEM(key_types); i++)
		if (strcmp(key_types[i].name, name) == 0)
			return key_types[i].type;
	return KEY_UNKNOWN;
}

static const struct rsa_sig_alg *rsa_sig_alg_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < NELEM(rsa_sig_algs); i++)
		if (strcmp(rsa_sig_algs[i].name, name) == 0)
			return &rsa_sig_algs[i];
	return NULL;
}

int sshkey_alg_matches(const char *alg, enum sshkey_type t)
{
	switch (t) {
	case KEY_ED25519:
		return strcmp(alg, "ssh-ed25519") == 0;
	case KEY_ECDSA_P256:
		return strcmp(alg, "ecdsa-sha2-nistp256") == 0;
	case KEY_RSA:
		return rsa_sig_alg_by_name(alg) != NULL;
	default:
		return 0;
	}
}

static void hash_data(const br_hash_class *hc, const void *data, size_t len,
    uint8_t *out)
{
	br_hash_compat_context ctx;

	hc->init(&ctx.vtable);
	hc->update(&ctx.vtable, data, len);
	hc->out(&ctx.vtable, out);
}

/*
 * Public key blobs.
 */

static int parse_ed25519_public(struct sshkey *k, struct buf *b)
{
	const uint8_t *pk;
	size_t len;

	if (buf_get_string(b, &pk, &len) != 0 || len != sizeof k->ed25519_pk)
		return -1;
	memcpy(k->ed25519_pk, pk, len);
	return 0;
}

/* Is q an uncompressed point on P-256?  Multiplying by one makes BearSSL
 * decode it, which checks the curve equation. */
static int p256_point_is_valid(const uint8_t q[65])
{
	static const uint8_t one[1] = { 1 };
	uint8_t tmp[65];

	if (q[0] != 0x04)
		return 0;
	memcpy(tmp, q, sizeof tmp);
	if (br_ec_p256_m31.mul(tmp, sizeof tmp, one, sizeof one,
	    BR_EC_secp256r1) != 1)
		return 0;
	return memcmp(tmp, q, sizeof tmp) == 0;
}

static int parse_ecdsa_public(struct sshkey *k, struct buf *b)
{
	char curve[16];
	const uint8_t *q;
	size_t len;

	if (buf_get_cstring(b, curve, sizeof curve) != 0 ||
	    strcmp(curve, "nistp256") != 0)
		return -1;
	if (buf_get_string(b, &q, &len) != 0 || len != sizeof k->ec_q)
		return -1;
	if (!p256_point_is_valid(q))
		return -1;
	memcpy(k->ec_q, q, len);
	return 0;
}

static size_t bit_length(const uint8_t *p, size_t n)
{
	unsigned top;
	size_t bits;

	if (n == 0)
		return 0;
	bits = (n - 1) * 8;
	for (top = p[0]; top != 0; top >>= 1)
		bits++;
	return bits;
}

static int parse_rsa_public(struct sshkey *k, struct buf *b)
{
	const uint8_t *e, *n;
	size_t elen, nlen, nbits;

	if (buf_get_mpint(b, &e, &elen) != 0 ||
	    buf_get_mpint(b, &n, &nlen) != 0)
		return -1;
	/* e: odd, at least 3, at most 128 bits. */
	if (elen == 0 || elen > sizeof k->rsa_e || (e[elen - 1] & 1) == 0 ||
	    (elen == 1 && e[0] < 3))
		return -1;
	nbits = bit_length(n, nlen);
	if (nbits < RSA_MIN_BITS || nbits > RSA_MAX_BITS ||
	    (n[nlen - 1] & 1) == 0)
		return -1;
	memcpy(k->rsa_e, e, elen);
	k->rsa_e_len = elen;
	memcpy(k->rsa_n, n, nlen);
	k->rsa_n_len = nlen;
	return 0;
}

int sshkey_from_blob(struct sshkey *k, const uint8_t *blob, size_t len)
{
	struct sshkey tmp;
	struct buf b;
	char name[32];
	int r;

	/* Parsed aside so that k is untouched on error and blob may be
	 * k->blob itself. */
	memset(&tmp, 0, sizeof tmp);
	if (len > sizeof tmp.blob)
		return -1;
	buf_view(&b, blob, len);
	if (buf_get_cstring(&b, name, sizeof name) != 0)
		return -1;
	tmp.type = sshkey_type_from_name(name);
	switch (tmp.type) {
	case KEY_ED25519:
		r = parse_ed25519_public(&tmp, &b);
		break;
	case KEY_ECDSA_P256:
		r = parse_ecdsa_public(&tmp, &b);
		break;
	case KEY_RSA:
		r = parse_rsa_public(&tmp, &b);
		break;
	default:
		r = -1;
		break;
	}
	if (r != 0 || buf_avail(&b) != 0)
		return -1;
	memcpy(tmp.blob, blob, len);
	tmp.blob_len = len;
	*k = tmp;
	return 0;
}

/*
 * Signatures.
 */

static int verify_ed25519(const struct sshkey *k, const uint8_t *sig,
    size_t siglen, const uint8_t *data, size_t dlen)
{
	if (siglen != 64)
		return -1;
	return ed25519_verify(sig, data, dlen, k->ed25519_pk) == 0 ? 0 : -1;
}

/* RFC 5656 3.1.2: the signature is (mpint r, mpint s). */
static int verify_ecdsa(const struct sshkey *k, const uint8_t *sig,
    size_t siglen, const uint8_t *data, size_t dlen)
{
	br_ec_public_key pub;
	struct buf b;
	const uint8_t *r, *s;
	size_t rlen, slen;
	uint8_t raw[64], h[br_sha256_SIZE];

	buf_view(&b, sig, siglen);
	if (buf_get_mpint(&b, &r, &rlen) != 0 ||
	    buf_get_mpint(&b, &s, &slen) != 0 || buf_avail(&b) != 0)
		return -1;
	if (rlen == 0 || rlen > 32 || slen == 0 || slen > 32)
		return -1;
	memset(raw, 0, sizeof raw);
	memcpy(raw + 32 - rlen, r, rlen);
	memcpy(raw + 64 - slen, s, slen);
	hash_data(&br_sha256_vtable, data, dlen, h);
	pub.curve = BR_EC_secp256r1;
	pub.q = (unsigned char *)(uintptr_t)k->ec_q;
	pub.qlen = sizeof k->ec_q;
	if (br_ecdsa_i31_vrfy_raw(&br_ec_p256_m31, h, sizeof h, &pub, raw,
	    sizeof raw) != 1)
		return -1;
	return 0;
}

static int rsa_verify_bearssl(const struct sshkey *k,
    const struct rsa_sig_alg *a, const uint8_t *sig, const uint8_t *h)
{
	br_rsa_pkcs1_vrfy vrfy = br_rsa_pkcs1_vrfy_get_default();
	br_rsa_public_key pub;
	uint8_t recovered[64];

	pub.n = (unsigned char *)(uintptr_t)k->rsa_n;
	pub.nlen = k->rsa_n_len;
	pub.e = (unsigned char *)(uintptr_t)k->rsa_e;
	pub.elen = k->rsa_e_len;
	if (vrfy(sig, k->rsa_n_len, a->oid, a->hash_len, &pub,
	    recovered) != 1)
		return -1;
	return ct_memcmp(recovered, h, a->hash_len) == 0 ? 0 : -1;
}

static int rsa_verify_mbedtls(const struct sshkey *k,
    const struct rsa_sig_alg *a, const uint8_t *sig, const uint8_t *h)
{
	mbedtls_rsa_context rsa;
	int r = -1;

	mbedtls_rsa_init(&rsa, MBEDTLS_RSA_PKCS_V15, 0);
	if (mbedtls_rsa_import_raw(&rsa, k->rsa_n, k->rsa_n_len, NULL, 0,
	    NULL, 0, NULL, 0, k->rsa_e, k->rsa_e_len) == 0 &&
	    mbedtls_rsa_complete(&rsa) == 0 &&
	    mbedtls_rsa_pkcs1_verify(&rsa, NULL, NULL, MBEDTLS_RSA_PUBLIC,
	    a->md, (unsigned int)a->hash_len, h, sig) == 0)
		r = 0;
	mbedtls_rsa_free(&rsa);
	return r;
}

static int verify_rsa(const struct sshkey *k, const char *alg,
    const uint8_t *sig, size_t siglen, const uint8_t *data, size_t dlen)
{
	const struct rsa_sig_alg *a = rsa_sig_alg_by_name(alg);
	uint8_t padded[RSA_MAX_BITS / 8];
	uint8_t h[64];
	size_t nlen = k->rsa_n_len;

	if (a == NULL || siglen == 0 || siglen > nlen || nlen > sizeof padded)
		return -1;
	/* Some signers drop leading zero bytes; OpenSSH restores them. */
	memset(padded, 0, nlen - siglen);
	memcpy(padded + nlen - siglen, sig, siglen);
	hash_data(a->hash, data, dlen, h);
	if (nlen <= BEARSSL_RSA_MAX_BYTES)
		return rsa_verify_bearssl(k, a, padded, h);
	return rsa_verify_mbedtls(k, a, padded, h);
}

int sshkey_verify(const struct sshkey *k, const char *alg,
    const uint8_t *sig, size_t siglen, const uint8_t *data, size_t dlen)
{
	struct buf b;
	char name[32];
	const uint8_t *s;
	size_t slen;

	if (!sshkey_alg_matches(alg, k->type))
		return -1;
	buf_view(&b, sig, siglen);
	if (buf_get_cstring(&b, name, sizeof name) != 0 ||
	    strcmp(name, alg) != 0)
		return -1;
	if (buf_get_string(&b, &s, &slen) != 0 || buf_avail(&b) != 0)
		return -1;
	switch (k->type) {
	case KEY_ED25519:
		return verify_ed25519(k, s, slen, data, dlen);
	case KEY_ECDSA_P256:
		return verify_ecdsa(k, s, slen, data, dlen);
	case KEY_RSA:
		return verify_rsa(k, alg, s, slen, data, dlen);
	default:
		return -1;
	}
}

/* Append (string alg, string sig) to out, all or nothing. */
static int put_signature(struct buf *out, const char *alg,
    const uint8_t *sig, size_t siglen)
{
	size_t alen = strlen(alg);

	if (buf_room(out) < 4 + alen + 4 + siglen)
		return -1;
	if (buf_put_string(out, alg, alen) != 0 ||
	    buf_put_string(out, sig, siglen) != 0)
		return -1;
	return 0;
}

static int sign_ed25519(const struct sshkey *k, const uint8_t *data,
    size_t dlen, struct buf *out)
{
	uint8_t sig[64];

	ed25519_sign(sig, data, dlen, k->ed25519_seed, k->ed25519_pk);
	return put_signature(out, "ssh-ed25519", sig, sizeof sig);
}

int sshkey_sign(const struct sshkey *k, const char *alg,
    const uint8_t *data, size_t dlen, struct buf *out)
{
	if (!k->has_private || !sshkey_alg_matches(alg, k->type))
		return -1;
	switch (k->type) {
	case KEY_ED25519:
		return sign_ed25519(k, data, dlen, out);
	default:
		return -1;
	}
}

/* Types whose private half sshkey_sign() can use. */
static int sshkey_type_can_sign(enum sshkey_type t)
{
	return t == KEY_ED25519;
}

/*
 * Fingerprints and public key lines.
 */

void sshkey_fingerprint(const struct sshkey *k, char out[SSHKEY_FP_LEN])
{
	static const char prefix[] = "SHA256:";
	const size_t plen = sizeof prefix - 1;
	uint8_t h[br_sha256_SIZE];

	hash_data(&br_sha256_vtable, k->blob, k->blob_len, h);
	memcpy(out, prefix, plen);
	base64_encode(out + plen, SSHKEY_FP_LEN - plen, h, sizeof h, 0);
}

static int is_blank(int c)
{
	return c == ' ' || c == '\t';
}

static void copy_comment(char *dst, size_t dstsz, const char *src,
    size_t len)
{
	if (len >= dstsz)
		len = dstsz - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

int sshkey_parse_public(struct sshkey *k, const char *line)
{
	uint8_t blob[SSHKEY_MAX_BLOB];
	const char *type, *b64, *comment, *end;
	size_t typelen, b64len;
	long n;

	for (type = line; is_blank(*type); type++)
		;
	typelen = strcspn(type, " \t\r\n");
	for (b64 = type + typelen; is_blank(*b64); b64++)
		;
	b64len = strcspn(b64, " \t\r\n");
	if (typelen == 0 || b64len == 0)
		return -1;
	for (comment = b64 + b64len; is_blank(*comment); comment++)
		;
	end = comment + strcspn(comment, "\r\n");
	while (end > comment && is_blank(end[-1]))
		end--;
	if ((n = base64_decode(blob, sizeof blob, b64, b64len)) < 0 ||
	    sshkey_from_blob(k, blob, (size_t)n) != 0)
		return -1;
	if (strlen(sshkey_type_name(k)) != typelen ||
	    memcmp(sshkey_type_name(k), type, typelen) != 0) {
		memset(k, 0, sizeof *k);
		return -1;
	}
	copy_comment(k->comment, sizeof k->comment, comment,
	    (size_t)(end - comment));
	return 0;
}

/*
 * Private key files (OpenSSH PROTOCOL.key).
 */

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 3, 4)))
#endif
static void set_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* The whole file, NUL-terminated, in *out (to be wiped and freed). */
static int read_key_file(const char *path, uint8_t **out, size_t *outlen,
    char *err, size_t errlen)
{
	struct stat st;
	uint8_t *data = NULL;
	size_t cap, len = 0;
	ssize_t n;
	int fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		set_error(err, errlen, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		set_error(err, errlen, "cannot stat: %s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		set_error(err, errlen, "not a regular file");
		goto fail;
	}
	if ((st.st_mode & 077) != 0) {
		set_error(err, errlen, "UNPROTECTED PRIVATE KEY FILE: "
		    "permissions %04o are too open (chmod 600 it)",
		    (unsigned)(st.st_mode & 07777));
		goto fail;
	}
	if (st.st_size <= 0 || st.st_size > PRIVKEY_MAX_FILE) {
		set_error(err, errlen, st.st_size <= 0 ? "empty key file" :
		    "key file too large");
		goto fail;
	}
	/* One spare byte to notice growth, one for the terminator. */
	cap = (size_t)st.st_size + 2;
	if ((data = malloc(cap)) == NULL) {
		set_error(err, errlen, "out of memory");
		goto fail;
	}
	while (len < cap - 1) {
		n = read(fd, data + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			set_error(err, errlen, "read error: %s",
			    strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len != (size_t)st.st_size) {
		set_error(err, errlen, "key file changed while being read");
		goto fail;
	}
	data[len] = '\0';
	close(fd);
	*out = data;
	*outlen = len;
	return 0;
fail:
	saved = errno;
	if (data != NULL) {
		wipe(data, cap);
		free(data);
	}
	close(fd);
	errno = saved;
	return -1;
}

static int starts_with(const uint8_t *p, size_t len, const char *s)
{
	size_t n = strlen(s);

	return len >= n && memcmp(p, s, n) == 0;
}

/* Length of the line at p, without its line break. */
static size_t line_length(const uint8_t *p, size_t len)
{
	size_t n = 0;

	while (n < len && p[n] != '\n' && p[n] != '\r')
		n++;
	return n;
}

/* Skip the line at *p, including its line break. */
static void skip_line(const uint8_t **p, size_t *len)
{
	size_t n = line_length(*p, *len);

	if (n < *len && (*p)[n] == '\r')
		n++;
	if (n < *len && (*p)[n] == '\n')
		n++;
	*p += n;
	*len -= n;
}

/*
 * Take the base64 body between the armor lines into b64 (sized at least
 * len), line breaks removed.
 */
static int unarmor(const uint8_t *p, size_t len, char *b64, size_t *b64len,
    char *err, size_t errlen)
{
	size_t n, out = 0;

	while (len > 0 && (*p == ' ' || *p == '\t' || *p == '\r' ||
	    *p == '\n')) {
		p++;
		len--;
	}
	if (!starts_with(p, len, ARMOR_BEGIN) ||
	    line_length(p, len) != strlen(ARMOR_BEGIN)) {
		if (starts_with(p, len, "-----BEGIN "))
			set_error(err, errlen, "unsupported private key "
			    "format (PEM); convert it with ssh-keygen -p");
		else
			set_error(err, errlen, "not an OpenSSH private key");
		return -1;
	}
	skip_line(&p, &len);
	for (;;) {
		if (len == 0) {
			set_error(err, errlen, "truncated key file "
			    "(no END line)");
			return -1;
		}
		if (starts_with(p, len, ARMOR_END))
			break;
		n = line_length(p, len);
		memcpy(b64 + out, p, n);
		out += n;
		skip_line(&p, &len);
	}
	*b64len = out;
	return 0;
}

/* Decoded key file contents in *out (to be wiped and freed). */
static int decode_key_file(const uint8_t *file, size_t flen, uint8_t **out,
    size_t *outlen, size_t *outcap, char *err, size_t errlen)
{
	char *b64;
	uint8_t *raw = NULL;
	size_t b64len = 0, rawcap;
	long n;
	int r = -1;

	if ((b64 = malloc(flen + 1)) == NULL) {
		set_error(err, errlen, "out of memory");
		return -1;
	}
	if (unarmor(file, flen, b64, &b64len, err, errlen) != 0)
		goto out;
	rawcap = b64len / 4 * 3 + 3;
	if ((raw = malloc(rawcap)) == NULL) {
		set_error(err, errlen, "out of memory");
		goto out;
	}
	if ((n = base64_decode(raw, rawcap, b64, b64len)) < 0) {
		set_error(err, errlen, "bad base64 in key file");
		wipe(raw, rawcap);
		free(raw);
		goto out;
	}
	*out = raw;
	*outlen = (size_t)n;
	*outcap = rawcap;
	r = 0;
out:
	wipe(b64, flen + 1);
	free(b64);
	return r;
}

static int parse_ed25519_private(struct sshkey *k, struct buf *b)
{
	const uint8_t *pk, *sk;
	size_t pklen, sklen;
	uint8_t derived[32];
	int bad;

	if (buf_get_string(b, &pk, &pklen) != 0 || pklen != 32 ||
	    buf_get_string(b, &sk, &sklen) != 0 || sklen != 64)
		return -1;
	/* sk is seed || pk; all three copies of pk must agree. */
	ed25519_public_key(derived, sk);
	bad = memcmp(pk, k->ed25519_pk, 32) != 0;
	bad |= memcmp(sk + 32, k->ed25519_pk, 32) != 0;
	bad |= ct_memcmp(derived, k->ed25519_pk, 32) != 0;
	wipe(derived, sizeof derived);
	if (bad)
		return -1;
	memcpy(k->ed25519_seed, sk, 32);
	return 0;
}

/* Only checked for shape until ECDSA signing exists. */
static int parse_ecdsa_private(struct sshkey *k, struct buf *b)
{
	char curve[16];
	const uint8_t *q, *d;
	size_t qlen, dlen;

	if (buf_get_cstring(b, curve, sizeof curve) != 0 ||
	    strcmp(curve, "nistp256") != 0 ||
	    buf_get_string(b, &q, &qlen) != 0 || qlen != sizeof k->ec_q ||
	    memcmp(q, k->ec_q, qlen) != 0 ||
	    buf_get_mpint(b, &d, &dlen) != 0 || dlen == 0 || dlen > 32)
		return -1;
	return 0;
}

/* Only checked for shape until RSA signing exists. */
static int parse_rsa_private(struct sshkey *k, struct buf *b)
{
	const uint8_t *n, *e, *part;
	size_t nlen, elen, partlen;
	int i;

	if (buf_get_mpint(b, &n, &nlen) != 0 || nlen != k->rsa_n_len ||
	    memcmp(n, k->rsa_n, nlen) != 0 ||
	    buf_get_mpint(b, &e, &elen) != 0 || elen != k->rsa_e_len ||
	    memcmp(e, k->rsa_e, elen) != 0)
		return -1;
	/* d, iqmp, p, q */
	for (i = 0; i < 4; i++)
		if (buf_get_mpint(b, &part, &partlen) != 0 || partlen == 0)
			return -1;
	return 0;
}

/* Padding is 1, 2, 3, ... up to the cipher block size. */
static int check_padding(const struct buf *b)
{
	size_t i, n = buf_avail(b);
	const uint8_t *p = buf_ptr(b);

	if (n >= PRIVKEY_BLOCK)
		return -1;
	for (i = 0; i < n; i++)
		if (p[i] != (uint8_t)(i + 1))
			return -1;
	return 0;
}

static int parse_private_section(struct sshkey *k, const uint8_t *p,
    size_t len, char *err, size_t errlen)
{
	struct buf b;
	uint32_t check1, check2;
	char type[32];
	const uint8_t *comment;
	size_t clen;
	int r;

	buf_view(&b, p, len);
	if (len % PRIVKEY_BLOCK != 0 || buf_get_u32(&b, &check1) != 0 ||
	    buf_get_u32(&b, &check2) != 0) {
		set_error(err, errlen, "malformed private key section");
		return -1;
	}
	if (check1 != check2) {
		set_error(err, errlen, "corrupt private key (check "
		    "values differ)");
		return -1;
	}
	if (buf_get_cstring(&b, type, sizeof type) != 0 ||
	    strcmp(type, sshkey_type_name(k)) != 0) {
		set_error(err, errlen, "private key type does not match "
		    "the public key");
		return -1;
	}
	switch (k->type) {
	case KEY_ED25519:
		r = parse_ed25519_private(k, &b);
		break;
	case KEY_ECDSA_P256:
		r = parse_ecdsa_private(k, &b);
		break;
	case KEY_RSA:
		r = parse_rsa_private(k, &b);
		break;
	default:
		r = -1;
		break;
	}
	if (r != 0 || buf_get_string(&b, &comment, &clen) != 0 ||
	    memchr(comment, 0, clen) != NULL || check_padding(&b) != 0) {
		set_error(err, errlen, "malformed %s private key",
		    sshkey_type_name(k));
		return -1;
	}
	copy_comment(k->comment, sizeof k->comment, (const char *)comment,
	    clen);
	return 0;
}

static void report_unsupported_type(const uint8_t *pub, size_t len,
    char *err, size_t errlen)
{
	struct buf b;
	char type[64];

	buf_view(&b, pub, len);
	if (buf_get_cstring(&b, type, sizeof type) == 0 &&
	    sshkey_type_from_name(type) == KEY_UNKNOWN)
		set_error(err, errlen, "unsupported key type %s", type);
	else
		set_error(err, errlen, "malformed public key in key file");
}

static int parse_openssh_key(struct sshkey *k, const uint8_t *raw,
    size_t len, char *err, size_t errlen)
{
	struct buf b;
	char cipher[64], kdf[64];
	const uint8_t *kdfopts, *pub, *priv;
	size_t kdfoptslen, publen, privlen;
	uint32_t nkeys;

	buf_view(&b, raw, len);
	if (len < PRIVKEY_MAGIC_LEN ||
	    memcmp(raw, PRIVKEY_MAGIC, PRIVKEY_MAGIC_LEN) != 0) {
		set_error(err, errlen, "not an openssh-key-v1 key");
		return -1;
	}
	buf_skip(&b, PRIVKEY_MAGIC_LEN);
	if (buf_get_cstring(&b, cipher, sizeof cipher) != 0 ||
	    buf_get_cstring(&b, kdf, sizeof kdf) != 0 ||
	    buf_get_string(&b, &kdfopts, &kdfoptslen) != 0 ||
	    buf_get_u32(&b, &nkeys) != 0) {
		set_error(err, errlen, "malformed key file header");
		return -1;
	}
	if (strcmp(cipher, "none") != 0 || strcmp(kdf, "none") != 0) {
		set_error(err, errlen, "passphrase-protected keys are not "
		    "supported yet");
		return -1;
	}
	if (kdfoptslen != 0) {
		set_error(err, errlen, "malformed key file header");
		return -1;
	}
	if (nkeys != 1) {
		set_error(err, errlen, "key files holding %lu keys are not "
		    "supported", (unsigned long)nkeys);
		return -1;
	}
	if (buf_get_string(&b, &pub, &publen) != 0 ||
	    buf_get_string(&b, &priv, &privlen) != 0 || buf_avail(&b) != 0) {
		set_error(err, errlen, "malformed key file");
		return -1;
	}
	if (sshkey_from_blob(k, pub, publen) != 0) {
		report_unsupported_type(pub, publen, err, errlen);
		return -1;
	}
	if (parse_private_section(k, priv, privlen, err, errlen) != 0)
		return -1;
	if (!sshkey_type_can_sign(k->type)) {
		set_error(err, errlen, "key type %s cannot sign yet",
		    sshkey_type_name(k));
		return -1;
	}
	k->has_private = 1;
	return 0;
}

int sshkey_load_private(struct sshkey *k, const char *path, char *err,
    size_t errlen)
{
	uint8_t *file, *raw;
	size_t flen, rawlen, rawcap;
	int r = -1;

	memset(k, 0, sizeof *k);
	if (read_key_file(path, &file, &flen, err, errlen) != 0)
		return -1;
	if (decode_key_file(file, flen, &raw, &rawlen, &rawcap, err,
	    errlen) == 0) {
		r = parse_openssh_key(k, raw, rawlen, err, errlen);
		wipe(raw, rawcap);
		free(raw);
	}
	wipe(file, flen);
	free(file);
	if (r != 0)
		wipe(k, sizeof *k);
	return r;
}

void sshkey_wipe(struct sshkey *k)
{
	wipe(k->ed25519_seed, sizeof k->ed25519_seed);
	k->has_private = 0;
}

/*
 * Base64.
 */

size_t base64_encode(char *out, size_t outsz, const uint8_t *in, size_t len,
    int pad)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t need, i, o = 0;
	uint32_t v;

	need = pad ? (len + 2) / 3 * 4 : (len * 4 + 2) / 3;
	if (len > (SIZE_MAX - 3) / 4 || need >= outsz) {
		if (outsz > 0)
			out[0] = '\0';
		return 0;
	}
	for (i = 0; i + 3 <= len; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		out[o++] = alphabet[v & 63];
	}
	if (len - i > 0) {
		v = (uint32_t)in[i] << 16;
		if (len - i == 2)
			v |= (uint32_t)in[i + 1] << 8;
		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		if (len - i == 2)
			out[o++] = alphabet[(v >> 6) & 63];
		else if (pad)
			out[o++] = '=';
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

/* All ones when lo <= c <= hi, else zero; for c, lo, hi below 2^31. */
static uint32_t in_range(uint32_t c, uint32_t lo, uint32_t hi)
{
	return -(((lo - 1 - c) & (c - hi - 1)) >> 31);
}

#define BASE64_INVALID 0x100

/*
 * The value of base64 digit ch, or BASE64_INVALID.  Written without
 * branches or tables since private keys go through here.
 */
static uint32_t base64_value(uint8_t ch)
{
	uint32_t c = ch, upper, lower, digit, plus, slash;

	upper = in_range(c, 'A', 'Z');
	lower = in_range(c, 'a', 'z');
	digit = in_range(c, '0', '9');
	plus = in_range(c, '+', '+');
	slash = in_range(c, '/', '/');
	return (upper & (c - 'A')) | (lower & (c - 'a' + 26)) |
	    (digit & (c - '0' + 52)) | (plus & 62) | (slash & 63) |
	    (~(upper | lower | digit | plus | slash) & BASE64_INVALID);
}

long base64_decode(uint8_t *out, size_t outsz, const char *in, size_t len)
{
	size_t i, o = 0, npad = 0;
	uint32_t acc = 0, bad = 0, v;
	unsigned bits = 0;

	while (npad < 2 && len > 0 && in[len - 1] == '=') {
		len--;
		npad++;
	}
	/* Padding is optional but, when present, completes the quantum. */
	if ((npad > 0 && (len + npad) % 4 != 0) || len % 4 == 1 ||
	    len > LONG_MAX || len / 4 * 3 + (len % 4) * 3 / 4 > outsz)
		return -1;
	for (i = 0; i < len; i++) {
		v = base64_value((uint8_t)in[i]);
		bad |= v;
		acc = (acc << 6) | (v & 63);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* Leftover bits must be zero: one encoding per byte string. */
	if ((bad & BASE64_INVALID) != 0 || acc != 0)
		return -1;
	return (long)o;
}
