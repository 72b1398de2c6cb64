/*
 * sshkey.c - SSH public key blobs, signatures, fingerprints and private
 * key files (openssh-key-v1, clear or encrypted, and PEM).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bearssl.h>
#include <mbedtls/bignum.h>
#include <mbedtls/md.h>
#include <mbedtls/rsa.h>

#include "bcrypt_pbkdf.h"
#include "ed25519.h"
#include "sshkey.h"

#define RSA_MIN_BITS 1024
#define RSA_MAX_BITS 8192
/* BearSSL's RSA code stops at 4096 bits and 2080-bit factors; larger
 * keys go to mbedtls. */
#define BEARSSL_RSA_MAX_BYTES 512
#define BEARSSL_RSA_MAX_FACTOR 260

#define PRIVKEY_MAX_FILE (64 * 1024)
#define PRIVKEY_MAGIC "openssh-key-v1"
#define PRIVKEY_MAGIC_LEN 15    /* including the NUL */
#define BCRYPT_MAX_ROUNDS 65536 /* ~10 minutes; ssh-keygen's default is 16 */
#define ARMOR_LABEL_MAX 64

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

/* Check sig, of the modulus' length, over hash h. */
static int rsa_verify_hash(const struct sshkey *k,
    const struct rsa_sig_alg *a, const uint8_t *sig, const uint8_t *h)
{
	if (k->rsa_n_len <= BEARSSL_RSA_MAX_BYTES)
		return rsa_verify_bearssl(k, a, sig, h);
	return rsa_verify_mbedtls(k, a, sig, h);
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
	return rsa_verify_hash(k, a, padded, h);
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

/* RFC 5656 3.1.2, with RFC 6979 nonces: no randomness needed. */
static int sign_ecdsa(const struct sshkey *k, const uint8_t *data,
    size_t dlen, struct buf *out)
{
	br_ec_private_key sk;
	struct buf b;
	uint8_t h[br_sha256_SIZE], raw[64], inner[2 * (4 + 33)];

	hash_data(&br_sha256_vtable, data, dlen, h);
	sk.curve = BR_EC_secp256r1;
	sk.x = (unsigned char *)(uintptr_t)k->ec_d;
	sk.xlen = sizeof k->ec_d;
	if (br_ecdsa_i31_sign_raw(br_ec_get_default(), &br_sha256_vtable, h,
	    &sk, raw) != sizeof raw)
		return -1;
	buf_init(&b, inner, sizeof inner);
	if (buf_put_mpint(&b, raw, 32) != 0 ||
	    buf_put_mpint(&b, raw + 32, 32) != 0)
		return -1;
	return put_signature(out, "ecdsa-sha2-nistp256", inner, b.len);
}

static int rsa_sign_bearssl(const struct sshkey *k,
    const struct rsa_sig_alg *a, const uint8_t *h, uint8_t *sig)
{
	br_rsa_pkcs1_sign sign = br_rsa_pkcs1_sign_get_default();
	br_rsa_private_key sk;

	sk.n_bitlen = (uint32_t)bit_length(k->rsa_n, k->rsa_n_len);
	sk.p = (unsigned char *)(uintptr_t)k->rsa_p;
	sk.plen = k->rsa_p_len;
	sk.q = (unsigned char *)(uintptr_t)k->rsa_q;
	sk.qlen = k->rsa_q_len;
	sk.dp = (unsigned char *)(uintptr_t)k->rsa_dp;
	sk.dplen = k->rsa_dp_len;
	sk.dq = (unsigned char *)(uintptr_t)k->rsa_dq;
	sk.dqlen = k->rsa_dq_len;
	sk.iq = (unsigned char *)(uintptr_t)k->rsa_iq;
	sk.iqlen = k->rsa_iq_len;
	return sign(a->oid, h, a->hash_len, &sk, sig) == 1 ? 0 : -1;
}

/* Blinding values for mbedtls' RSA. */
static int rsa_rng(void *ctx, unsigned char *p, size_t n)
{
	ssize_t r;

	(void)ctx;
	while (n > 0) {
		r = getrandom(p, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* mbedtls derives d and the CRT values again from p, q and e. */
static int rsa_sign_mbedtls(const struct sshkey *k,
    const struct rsa_sig_alg *a, const uint8_t *h, uint8_t *sig)
{
	mbedtls_rsa_context rsa;
	int r = -1;

	mbedtls_rsa_init(&rsa, MBEDTLS_RSA_PKCS_V15, 0);
	if (mbedtls_rsa_import_raw(&rsa, k->rsa_n, k->rsa_n_len, k->rsa_p,
	    k->rsa_p_len, k->rsa_q, k->rsa_q_len, NULL, 0, k->rsa_e,
	    k->rsa_e_len) == 0 && mbedtls_rsa_complete(&rsa) == 0 &&
	    mbedtls_rsa_pkcs1_sign(&rsa, rsa_rng, NULL, MBEDTLS_RSA_PRIVATE,
	    a->md, (unsigned int)a->hash_len, h, sig) == 0)
		r = 0;
	mbedtls_rsa_free(&rsa);
	return r;
}

/* RFC 8332 (rsa-sha2-256, rsa-sha2-512) and RFC 4253 (ssh-rsa). */
static int sign_rsa(const struct sshkey *k, const char *alg,
    const uint8_t *data, size_t dlen, struct buf *out)
{
	const struct rsa_sig_alg *a = rsa_sig_alg_by_name(alg);
	uint8_t h[64], sig[RSA_MAX_BITS / 8];
	size_t nlen = k->rsa_n_len;
	int r;

	if (a == NULL || nlen > sizeof sig)
		return -1;
	hash_data(a->hash, data, dlen, h);
	if (nlen <= BEARSSL_RSA_MAX_BYTES &&
	    k->rsa_p_len <= BEARSSL_RSA_MAX_FACTOR &&
	    k->rsa_q_len <= BEARSSL_RSA_MAX_FACTOR)
		r = rsa_sign_bearssl(k, a, h, sig);
	else
		r = rsa_sign_mbedtls(k, a, h, sig);
	/* A CRT result hit by a fault would give a factor of n away. */
	if (r != 0 || rsa_verify_hash(k, a, sig, h) != 0) {
		wipe(sig, sizeof sig);
		return -1;
	}
	return put_signature(out, a->name, sig, nlen);
}

int sshkey_sign(const struct sshkey *k, const char *alg,
    const uint8_t *data, size_t dlen, struct buf *out)
{
	int r;

	if (!k->has_private || !sshkey_alg_matches(alg, k->type))
		return -1;
	switch (k->type) {
	case KEY_ED25519:
		r = sign_ed25519(k, data, dlen, out);
		break;
	case KEY_ECDSA_P256:
		r = sign_ecdsa(k, data, dlen, out);
		break;
	case KEY_RSA:
		r = sign_rsa(k, alg, data, dlen, out);
		break;
	default:
		r = -1;
		break;
	}
	/* BearSSL's signers leave key-derived values in their locals: the
	 * ECDSA nonce generator's state, RSA CRT intermediates. */
	wipe_stack();
	return r;
}

/* Types whose private half sshkey_sign() can use. */
static int sshkey_type_can_sign(enum sshkey_type t)
{
	return t == KEY_ED25519 || t == KEY_ECDSA_P256 || t == KEY_RSA;
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
 * Private key files: openssh-key-v1 (OpenSSH PROTOCOL.key), clear or
 * encrypted under a bcrypt_pbkdf-derived key, and unencrypted PEM.
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

/* The same without trailing blanks. */
static size_t trimmed_length(const uint8_t *p, size_t len)
{
	size_t n = line_length(p, len);

	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
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

/* Move past the next "-----BEGIN label-----" line, taking its label. */
static int find_begin(const uint8_t **p, size_t *len, char *label,
    size_t labelsz)
{
	static const char begin[] = "-----BEGIN ", dashes[] = "-----";
	const size_t blen = sizeof begin - 1, dlen = sizeof dashes - 1;
	const uint8_t *line;
	size_t n;

	while (*len > 0) {
		line = *p;
		n = trimmed_length(line, *len);
		skip_line(p, len);
		if (n < blen + dlen || memcmp(line, begin, blen) != 0 ||
		    memcmp(line + n - dlen, dashes, dlen) != 0 ||
		    n - blen - dlen >= labelsz)
			continue;
		memcpy(label, line + blen, n - blen - dlen);
		label[n - blen - dlen] = '\0';
		return 0;
	}
	return -1;
}

#define UNARMOR_ENCRYPTED (-2)

/*
 * The file's first armored block, past any EC PARAMETERS block OpenSSL
 * writes before a SEC1 key: its label, and its base64 body without line
 * breaks in b64 (sized at least len).  UNARMOR_ENCRYPTED for a PEM block
 * with RFC 1421 encryption headers.
 */
static int unarmor(const uint8_t *p, size_t len, char *label,
    size_t labelsz, char *b64, size_t *b64len, char *err, size_t errlen)
{
	char end[ARMOR_LABEL_MAX + 16];
	size_t n, out = 0;

	do {
		if (find_begin(&p, &len, label, labelsz) != 0) {
			set_error(err, errlen, "not an OpenSSH or PEM private "
			    "key");
			return -1;
		}
	} while (strcmp(label, "EC PARAMETERS") == 0);
	snprintf(end, sizeof end, "-----END %s-----", label);
	for (;;) {
		if (len == 0) {
			set_error(err, errlen, "truncated key file "
			    "(no END line)");
			return -1;
		}
		n = trimmed_length(p, len);
		if (starts_with(p, len, "-----END "))
			break;
		if (memchr(p, ':', n) != NULL) {
			if (starts_with(p, n, "Proc-Type:"))
				return UNARMOR_ENCRYPTED;
			set_error(err, errlen, "unexpected header in %s block",
			    label);
			return -1;
		}
		memcpy(b64 + out, p, n);
		out += n;
		skip_line(&p, &len);
	}
	if (trimmed_length(p, len) != strlen(end) ||
	    !starts_with(p, len, end)) {
		set_error(err, errlen, "END line does not match %s", label);
		return -1;
	}
	*b64len = out;
	return 0;
}

/* The decoded armored block in *out (to be wiped and freed). */
static int decode_key_file(const uint8_t *file, size_t flen, char *label,
    size_t labelsz, uint8_t **out, size_t *outlen, size_t *outcap,
    char *err, size_t errlen)
{
	char *b64;
	uint8_t *raw = NULL;
	size_t b64len = 0, rawcap;
	long n;
	int r;

	if ((b64 = malloc(flen + 1)) == NULL) {
		set_error(err, errlen, "out of memory");
		return -1;
	}
	r = unarmor(file, flen, label, labelsz, b64, &b64len, err, errlen);
	if (r != 0)
		goto out;
	r = -1;
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

/*
 * Private halves, checked against the public half already in k.
 */

struct bytes {
	const uint8_t *p;
	size_t len;
};

/* The order of the P-256 base point, minus one, big-endian. */
static const uint8_t p256_order_m1[32] = {
	0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
	0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x50,
};

/*
 * 1 when 2^128 <= x < order - 1, in time independent of x: the range
 * OpenSSH accepts (sshkey_ec_validate_private), which no sound key
 * generator leaves.
 */
static uint32_t p256_scalar_ok(const uint8_t x[32])
{
	uint32_t borrow = 0, high = 0;
	int i;

	for (i = 31; i >= 0; i--) {
		borrow = (((uint32_t)x[i] - p256_order_m1[i] - borrow) >> 8) &
		    1;
		if (i < 16)
			high |= x[i];
	}
	return borrow & ((high + 0xff) >> 8);
}

/* Keep scalar d if it is in range and gives the public point in k. */
static int ec_set_private(struct sshkey *k, const uint8_t *d, size_t dlen)
{
	br_ec_private_key sk;
	br_ec_public_key pk;
	uint8_t x[32], q[BR_EC_KBUF_PUB_MAX_SIZE];
	int r = -1;

	if (dlen > sizeof x)
		return -1;
	memset(x, 0, sizeof x);
	memcpy(x + sizeof x - dlen, d, dlen);
	sk.curve = BR_EC_secp256r1;
	sk.x = x;
	sk.xlen = sizeof x;
	if (p256_scalar_ok(x) &&
	    br_ec_compute_pub(br_ec_get_default(), &pk, q, &sk) ==
	    sizeof k->ec_q && ct_memcmp(q, k->ec_q, sizeof k->ec_q) == 0) {
		memcpy(k->ec_d, x, sizeof x);
		r = 0;
	}
	wipe(x, sizeof x);
	return r;
}

/* x = a * b mod m; is it one? */
static int mod_product_is_one(mbedtls_mpi *x, const mbedtls_mpi *a,
    const mbedtls_mpi *b, const mbedtls_mpi *m)
{
	return mbedtls_mpi_mul_mpi(x, a, b) == 0 &&
	    mbedtls_mpi_mod_mpi(x, x, m) == 0 && mbedtls_mpi_cmp_int(x, 1) == 0;
}

static int mpi_store(const mbedtls_mpi *x, uint8_t *out, size_t *outlen)
{
	size_t n = mbedtls_mpi_size(x);

	if (n > SSHKEY_RSA_PART_MAX || mbedtls_mpi_write_binary(x, out, n) != 0)
		return -1;
	*outlen = n;
	return 0;
}

enum { RSA_N, RSA_E, RSA_D, RSA_P, RSA_Q, RSA_IQ, RSA_P1, RSA_Q1, RSA_DP,
    RSA_DQ, RSA_T, RSA_NUM };

/*
 * From d, iqmp, p and q, as key files hold them, to BearSSL's CRT form
 * (p, q, d mod p-1, d mod q-1, q^-1 mod p), checking that they belong to
 * the public key in k: n = pq, e dp = 1 mod p-1, e dq = 1 mod q-1 and
 * q iq = 1 mod p.  mbedtls' arithmetic is not constant-time; it runs
 * once per key load.
 */
static int rsa_set_private(struct sshkey *k, const struct bytes *d,
    const struct bytes *iqmp, const struct bytes *p, const struct bytes *q)
{
	mbedtls_mpi v[RSA_NUM];
	int i, ok;

	for (i = 0; i < RSA_NUM; i++)
		mbedtls_mpi_init(&v[i]);
	ok = mbedtls_mpi_read_binary(&v[RSA_N], k->rsa_n, k->rsa_n_len) == 0 &&
	    mbedtls_mpi_read_binary(&v[RSA_E], k->rsa_e, k->rsa_e_len) == 0 &&
	    mbedtls_mpi_read_binary(&v[RSA_D], d->p, d->len) == 0 &&
	    mbedtls_mpi_read_binary(&v[RSA_P], p->p, p->len) == 0 &&
	    mbedtls_mpi_read_binary(&v[RSA_Q], q->p, q->len) == 0 &&
	    mbedtls_mpi_read_binary(&v[RSA_IQ], iqmp->p, iqmp->len) == 0;
	ok = ok && mbedtls_mpi_cmp_int(&v[RSA_P], 1) > 0 &&
	    mbedtls_mpi_cmp_int(&v[RSA_Q], 1) > 0 &&
	    mbedtls_mpi_mul_mpi(&v[RSA_T], &v[RSA_P], &v[RSA_Q]) == 0 &&
	    mbedtls_mpi_cmp_mpi(&v[RSA_T], &v[RSA_N]) == 0;
	ok = ok && mbedtls_mpi_sub_int(&v[RSA_P1], &v[RSA_P], 1) == 0 &&
	    mbedtls_mpi_sub_int(&v[RSA_Q1], &v[RSA_Q], 1) == 0 &&
	    mbedtls_mpi_mod_mpi(&v[RSA_DP], &v[RSA_D], &v[RSA_P1]) == 0 &&
	    mbedtls_mpi_mod_mpi(&v[RSA_DQ], &v[RSA_D], &v[RSA_Q1]) == 0 &&
	    mod_product_is_one(&v[RSA_T], &v[RSA_E], &v[RSA_DP], &v[RSA_P1]) &&
	    mod_product_is_one(&v[RSA_T], &v[RSA_E], &v[RSA_DQ], &v[RSA_Q1]) &&
	    mbedtls_mpi_cmp_mpi(&v[RSA_IQ], &v[RSA_P]) < 0 &&
	    mod_product_is_one(&v[RSA_T], &v[RSA_Q], &v[RSA_IQ], &v[RSA_P]);
	ok = ok && mpi_store(&v[RSA_P], k->rsa_p, &k->rsa_p_len) == 0 &&
	    mpi_store(&v[RSA_Q], k->rsa_q, &k->rsa_q_len) == 0 &&
	    mpi_store(&v[RSA_DP], k->rsa_dp, &k->rsa_dp_len) == 0 &&
	    mpi_store(&v[RSA_DQ], k->rsa_dq, &k->rsa_dq_len) == 0 &&
	    mpi_store(&v[RSA_IQ], k->rsa_iq, &k->rsa_iq_len) == 0;
	/* mbedtls_mpi_free() zeroes the limbs. */
	for (i = 0; i < RSA_NUM; i++)
		mbedtls_mpi_free(&v[i]);
	return ok ? 0 : -1;
}

/*
 * openssh-key-v1 private sections.
 */

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

static int parse_ecdsa_private(struct sshkey *k, struct buf *b)
{
	char curve[16];
	const uint8_t *q, *d;
	size_t qlen, dlen;

	if (buf_get_cstring(b, curve, sizeof curve) != 0 ||
	    strcmp(curve, "nistp256") != 0 ||
	    buf_get_string(b, &q, &qlen) != 0 || qlen != sizeof k->ec_q ||
	    memcmp(q, k->ec_q, qlen) != 0 ||
	    buf_get_mpint(b, &d, &dlen) != 0)
		return -1;
	return ec_set_private(k, d, dlen);
}

static int get_mpint(struct buf *b, struct bytes *x)
{
	return buf_get_mpint(b, &x->p, &x->len);
}

/* n, e, d, iqmp, p, q */
static int parse_rsa_private(struct sshkey *k, struct buf *b)
{
	struct bytes n, e, d, iqmp, p, q;

	if (get_mpint(b, &n) != 0 || n.len != k->rsa_n_len ||
	    memcmp(n.p, k->rsa_n, n.len) != 0 ||
	    get_mpint(b, &e) != 0 || e.len != k->rsa_e_len ||
	    memcmp(e.p, k->rsa_e, e.len) != 0 ||
	    get_mpint(b, &d) != 0 || get_mpint(b, &iqmp) != 0 ||
	    get_mpint(b, &p) != 0 || get_mpint(b, &q) != 0)
		return -1;
	return rsa_set_private(k, &d, &iqmp, &p, &q);
}

/* Padding is 1, 2, 3, ... up to the cipher block size. */
static int check_padding(const struct buf *b, size_t blocklen)
{
	size_t i, n = buf_avail(b);
	const uint8_t *p = buf_ptr(b);

	if (n >= blocklen)
		return -1;
	for (i = 0; i < n; i++)
		if (p[i] != (uint8_t)(i + 1))
			return -1;
	return 0;
}

/*
 * The (decrypted) private section.  With a passphrase, differing check
 * values are what a wrong passphrase gives.
 */
static int parse_private_section(struct sshkey *k, const uint8_t *p,
    size_t len, size_t blocklen, int encrypted, char *err, size_t errlen)
{
	struct buf b;
	uint32_t check1, check2;
	char type[32];
	const uint8_t *comment;
	size_t clen;
	int r;

	buf_view(&b, p, len);
	if (len % blocklen != 0 || buf_get_u32(&b, &check1) != 0 ||
	    buf_get_u32(&b, &check2) != 0) {
		set_error(err, errlen, "malformed private key section");
		return SSHKEY_ERR;
	}
	if (check1 != check2) {
		if (encrypted) {
			set_error(err, errlen, "incorrect passphrase");
			return SSHKEY_BAD_PASSPHRASE;
		}
		set_error(err, errlen, "corrupt private key (check "
		    "values differ)");
		return SSHKEY_ERR;
	}
	if (buf_get_cstring(&b, type, sizeof type) != 0 ||
	    strcmp(type, sshkey_type_name(k)) != 0) {
		set_error(err, errlen, "private key type does not match "
		    "the public key");
		return SSHKEY_ERR;
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
	    memchr(comment, 0, clen) != NULL ||
	    check_padding(&b, blocklen) != 0) {
		set_error(err, errlen, "malformed %s private key",
		    sshkey_type_name(k));
		return SSHKEY_ERR;
	}
	copy_comment(k->comment, sizeof k->comment, (const char *)comment,
	    clen);
	return 0;
}

/*
 * Ciphers of encrypted openssh-key-v1 files.  ssh-keygen's default is
 * aes256-ctr (aes256-cbc before OpenSSH 7.6).  GCM's tag follows the
 * encrypted section, outside its length.
 */

enum key_cipher_mode { KC_NONE, KC_CTR, KC_CBC, KC_GCM };

struct key_cipher {
	const char *name;
	enum key_cipher_mode mode;
	size_t keylen, ivlen, blocklen, taglen;
};

#define KEY_CIPHER_MAX_KEYIV (32 + 16)
#define KEY_CIPHER_MAX_TAG 16

static const struct key_cipher key_ciphers[] = {
	{ "none", KC_NONE, 0, 0, 8, 0 },
	{ "aes128-ctr", KC_CTR, 16, 16, 16, 0 },
	{ "aes192-ctr", KC_CTR, 24, 16, 16, 0 },
	{ "aes256-ctr", KC_CTR, 32, 16, 16, 0 },
	{ "aes128-cbc", KC_CBC, 16, 16, 16, 0 },
	{ "aes192-cbc", KC_CBC, 24, 16, 16, 0 },
	{ "aes256-cbc", KC_CBC, 32, 16, 16, 0 },
	{ "aes128-gcm@openssh.com", KC_GCM, 16, 12, 16, 16 },
	{ "aes256-gcm@openssh.com", KC_GCM, 32, 12, 16, 16 },
};

static const struct key_cipher *key_cipher_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < NELEM(key_ciphers); i++)
		if (strcmp(key_ciphers[i].name, name) == 0)
			return &key_ciphers[i];
	return NULL;
}

/*
 * Decrypt data in place with keyiv = key || IV; -1 if a GCM tag does not
 * match.  CTR counts over the whole 128-bit block, as OpenSSH does.
 */
static int key_decrypt(const struct key_cipher *c, const uint8_t *keyiv,
    uint8_t *data, size_t len, const uint8_t *tag)
{
	union {
		br_aes_ct64_ctrcbc_keys ctr;
		br_aes_ct64_cbcdec_keys cbc;
		struct {
			br_aes_ct64_ctr_keys aes;
			br_gcm_context gcm;
		} gcm;
	} u;
	uint8_t iv[16];
	int r = 0;

	memcpy(iv, keyiv + c->keylen, c->ivlen);
	switch (c->mode) {
	case KC_CTR:
		br_aes_ct64_ctrcbc_init(&u.ctr, keyiv, c->keylen);
		br_aes_ct64_ctrcbc_ctr(&u.ctr, iv, data, len);
		break;
	case KC_CBC:
		br_aes_ct64_cbcdec_init(&u.cbc, keyiv, c->keylen);
		br_aes_ct64_cbcdec_run(&u.cbc, iv, data, len);
		break;
	case KC_GCM:
		br_aes_ct64_ctr_init(&u.gcm.aes, keyiv, c->keylen);
		br_gcm_init(&u.gcm.gcm, &u.gcm.aes.vtable, br_ghash_ctmul64);
		br_gcm_reset(&u.gcm.gcm, iv, c->ivlen);
		br_gcm_flip(&u.gcm.gcm);
		br_gcm_run(&u.gcm.gcm, 0, data, len);
		r = br_gcm_check_tag(&u.gcm.gcm, tag) == 1 ? 0 : -1;
		break;
	default:
		r = -1;
		break;
	}
	wipe(&u, sizeof u);
	wipe(iv, sizeof iv);
	return r;
}

/* kdfoptions of "bcrypt": string salt, uint32 rounds. */
static int decrypt_private_section(struct sshkey *k,
    const struct key_cipher *c, const uint8_t *kdfopts, size_t kdfoptslen,
    uint8_t *priv, size_t privlen, const uint8_t *tag,
    const char *passphrase, char *err, size_t errlen)
{
	struct buf b;
	const uint8_t *salt;
	size_t saltlen;
	uint32_t rounds;
	uint8_t keyiv[KEY_CIPHER_MAX_KEYIV];
	int r;

	buf_view(&b, kdfopts, kdfoptslen);
	if (buf_get_string(&b, &salt, &saltlen) != 0 ||
	    buf_get_u32(&b, &rounds) != 0 || buf_avail(&b) != 0 ||
	    saltlen == 0) {
		set_error(err, errlen, "malformed bcrypt KDF options");
		return SSHKEY_ERR;
	}
	if (rounds == 0 || rounds > BCRYPT_MAX_ROUNDS) {
		set_error(err, errlen, "bcrypt KDF rounds %lu out of range",
		    (unsigned long)rounds);
		return SSHKEY_ERR;
	}
	/* An empty passphrase is refused here, and never encrypts a key. */
	r = bcrypt_pbkdf(passphrase, strlen(passphrase), salt, saltlen, keyiv,
	    c->keylen + c->ivlen, rounds);
	if (r == 0)
		r = key_decrypt(c, keyiv, priv, privlen, tag);
	wipe(keyiv, sizeof keyiv);
	if (r != 0) {
		set_error(err, errlen, "incorrect passphrase");
		return SSHKEY_BAD_PASSPHRASE;
	}
	return parse_private_section(k, priv, privlen, c->blocklen, 1, err,
	    errlen);
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

/* Is the (cipher, kdf, kdfoptions) triple one this code knows? */
static int check_kdf(const struct key_cipher *c, const char *kdf,
    size_t kdfoptslen, char *err, size_t errlen)
{
	if (strcmp(kdf, "none") == 0 && c->mode == KC_NONE &&
	    kdfoptslen == 0)
		return 0;
	if (strcmp(kdf, "bcrypt") == 0 && c->mode != KC_NONE)
		return 0;
	if (strcmp(kdf, "none") != 0 && strcmp(kdf, "bcrypt") != 0)
		set_error(err, errlen, "unsupported key derivation %s", kdf);
	else
		set_error(err, errlen, "malformed key file header");
	return -1;
}

/* raw is writable: an encrypted section is decrypted in place. */
static int parse_openssh_key(struct sshkey *k, uint8_t *raw, size_t len,
    const char *passphrase, char *err, size_t errlen)
{
	const struct key_cipher *c;
	struct buf b;
	char cipher[64], kdf[64];
	const uint8_t *kdfopts, *pub, *priv;
	size_t kdfoptslen, publen, privlen;
	uint32_t nkeys;

	buf_view(&b, raw, len);
	if (len < PRIVKEY_MAGIC_LEN ||
	    memcmp(raw, PRIVKEY_MAGIC, PRIVKEY_MAGIC_LEN) != 0) {
		set_error(err, errlen, "not an openssh-key-v1 key");
		return SSHKEY_ERR;
	}
	buf_skip(&b, PRIVKEY_MAGIC_LEN);
	if (buf_get_cstring(&b, cipher, sizeof cipher) != 0 ||
	    buf_get_cstring(&b, kdf, sizeof kdf) != 0 ||
	    buf_get_string(&b, &kdfopts, &kdfoptslen) != 0 ||
	    buf_get_u32(&b, &nkeys) != 0) {
		set_error(err, errlen, "malformed key file header");
		return SSHKEY_ERR;
	}
	if ((c = key_cipher_by_name(cipher)) == NULL) {
		set_error(err, errlen, "unsupported key file cipher %s",
		    cipher);
		return SSHKEY_ERR;
	}
	if (check_kdf(c, kdf, kdfoptslen, err, errlen) != 0)
		return SSHKEY_ERR;
	if (nkeys != 1) {
		set_error(err, errlen, "key files holding %lu keys are not "
		    "supported", (unsigned long)nkeys);
		return SSHKEY_ERR;
	}
	if (buf_get_string(&b, &pub, &publen) != 0 ||
	    buf_get_string(&b, &priv, &privlen) != 0 ||
	    buf_avail(&b) != c->taglen || privlen % c->blocklen != 0) {
		set_error(err, errlen, "malformed key file");
		return SSHKEY_ERR;
	}
	if (sshkey_from_blob(k, pub, publen) != 0) {
		report_unsupported_type(pub, publen, err, errlen);
		return SSHKEY_ERR;
	}
	if (c->mode == KC_NONE)
		return parse_private_section(k, priv, privlen, c->blocklen, 0,
		    err, errlen);
	if (passphrase == NULL) {
		set_error(err, errlen, "passphrase-protected key "
		    "(no passphrase given)");
		return SSHKEY_NEED_PASSPHRASE;
	}
	return decrypt_private_section(k, c, kdfopts, kdfoptslen,
	    raw + (priv - raw), privlen, priv + privlen, passphrase, err,
	    errlen);
}

/*
 * PEM keys: DER of PKCS#1 RSAPrivateKey (RFC 8017 A.1.2), SEC1
 * ECPrivateKey (RFC 5915) and PKCS#8 PrivateKeyInfo (RFC 5208, 5958).
 */

#define DER_INTEGER 0x02
#define DER_OCTET_STRING 0x04
#define DER_OID 0x06
#define DER_SEQUENCE 0x30
#define DER_CONTEXT_0 0xa0

static const uint8_t oid_rsa[] = {
	0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01
};
static const uint8_t oid_ec[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01 };
static const uint8_t oid_p256[] = {
	0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07
};
static const uint8_t oid_ed25519[] = { 0x2b, 0x65, 0x70 };

#define OID_IS(b, oid) ((b).len == sizeof(oid) && \
	memcmp((b).p, (oid), sizeof(oid)) == 0)

/* The contents of the next element of d, which must have this tag. */
static int der_get(struct bytes *d, uint8_t tag, struct bytes *out)
{
	size_t len, hdr = 2, i, nbytes;

	if (d->len < 2 || d->p[0] != tag)
		return -1;
	len = d->p[1];
	if (len & 0x80) {
		nbytes = len & 0x7f;
		if (nbytes == 0 || nbytes > 3 || d->len < 2 + nbytes)
			return -1;
		for (len = 0, i = 0; i < nbytes; i++)
			len = len << 8 | d->p[2 + i];
		hdr += nbytes;
	}
	if (len > d->len - hdr)
		return -1;
	out->p = d->p + hdr;
	out->len = len;
	d->p += hdr + len;
	d->len -= hdr + len;
	return 0;
}

/* A non-negative INTEGER's magnitude, without leading zeros. */
static int der_get_uint(struct bytes *d, struct bytes *out)
{
	if (der_get(d, DER_INTEGER, out) != 0 || out->len == 0 ||
	    (out->p[0] & 0x80) != 0)
		return -1;
	while (out->len > 0 && out->p[0] == 0) {
		out->p++;
		out->len--;
	}
	return 0;
}

/* A version INTEGER no larger than max. */
static int der_get_version(struct bytes *d, unsigned max, unsigned *v)
{
	struct bytes x;

	if (der_get_uint(d, &x) != 0 || x.len > 1 ||
	    (x.len == 1 && x.p[0] > max))
		return -1;
	*v = x.len == 0 ? 0 : x.p[0];
	return 0;
}

static int set_public_rsa(struct sshkey *k, const struct bytes *n,
    const struct bytes *e)
{
	uint8_t blob[SSHKEY_MAX_BLOB];
	struct buf b;

	buf_init(&b, blob, sizeof blob);
	if (buf_put_cstring(&b, "ssh-rsa") != 0 ||
	    buf_put_mpint(&b, e->p, e->len) != 0 ||
	    buf_put_mpint(&b, n->p, n->len) != 0)
		return -1;
	return sshkey_from_blob(k, blob, b.len);
}

static int parse_pkcs1(struct sshkey *k, const struct bytes *der,
    char *err, size_t errlen)
{
	struct bytes d = *der, seq, n, e, priv, p, q, dp, dq, iqmp;
	unsigned version;

	if (der_get(&d, DER_SEQUENCE, &seq) != 0 ||
	    der_get_version(&seq, 1, &version) != 0) {
		set_error(err, errlen, "malformed PKCS#1 RSA key");
		return -1;
	}
	if (version != 0) {
		set_error(err, errlen, "multi-prime RSA keys are not "
		    "supported");
		return -1;
	}
	if (der_get_uint(&seq, &n) != 0 || der_get_uint(&seq, &e) != 0 ||
	    der_get_uint(&seq, &priv) != 0 || der_get_uint(&seq, &p) != 0 ||
	    der_get_uint(&seq, &q) != 0 || der_get_uint(&seq, &dp) != 0 ||
	    der_get_uint(&seq, &dq) != 0 || der_get_uint(&seq, &iqmp) != 0 ||
	    seq.len != 0) {
		set_error(err, errlen, "malformed PKCS#1 RSA key");
		return -1;
	}
	if (set_public_rsa(k, &n, &e) != 0) {
		set_error(err, errlen, "unsupported RSA key (%zu-bit "
		    "modulus; 1024 to 8192 bits are)", bit_length(n.p, n.len));
		return -1;
	}
	/* dp and dq are derived again from d, and so checked. */
	if (rsa_set_private(k, &priv, &iqmp, &p, &q) != 0) {
		set_error(err, errlen, "malformed ssh-rsa private key");
		return -1;
	}
	return 0;
}

/* Q = d G, as the public key for d. */
static int set_public_ecdsa(struct sshkey *k, const struct bytes *d)
{
	br_ec_private_key sk;
	br_ec_public_key pk;
	uint8_t x[32], q[BR_EC_KBUF_PUB_MAX_SIZE], blob[128];
	struct buf b;
	size_t qlen = 0;

	if (d->len > sizeof x)
		return -1;
	memset(x, 0, sizeof x);
	memcpy(x + sizeof x - d->len, d->p, d->len);
	sk.curve = BR_EC_secp256r1;
	sk.x = x;
	sk.xlen = sizeof x;
	if (p256_scalar_ok(x))
		qlen = br_ec_compute_pub(br_ec_get_default(), &pk, q, &sk);
	wipe(x, sizeof x);
	buf_init(&b, blob, sizeof blob);
	if (qlen != 65 || buf_put_cstring(&b, "ecdsa-sha2-nistp256") != 0 ||
	    buf_put_cstring(&b, "nistp256") != 0 ||
	    buf_put_string(&b, q, qlen) != 0)
		return -1;
	return sshkey_from_blob(k, blob, b.len);
}

/*
 * ECPrivateKey.  The curve is in its optional parameters, or for
 * PKCS#8, already checked in the algorithm identifier (curve_known).
 */
static int parse_sec1(struct sshkey *k, const struct bytes *der,
    int curve_known, char *err, size_t errlen)
{
	struct bytes d = *der, seq, priv, params, oid;
	unsigned version;

	if (der_get(&d, DER_SEQUENCE, &seq) != 0 ||
	    der_get_version(&seq, 1, &version) != 0 || version != 1 ||
	    der_get(&seq, DER_OCTET_STRING, &priv) != 0) {
		set_error(err, errlen, "malformed EC private key");
		return -1;
	}
	if (seq.len > 0 && seq.p[0] == DER_CONTEXT_0) {
		if (der_get(&seq, DER_CONTEXT_0, &params) != 0 ||
		    der_get(&params, DER_OID, &oid) != 0) {
			set_error(err, errlen, "malformed EC private key");
			return -1;
		}
		if (!OID_IS(oid, oid_p256)) {
			set_error(err, errlen, "unsupported EC curve (only "
			    "NIST P-256 is)");
			return -1;
		}
		curve_known = 1;
	}
	if (!curve_known) {
		set_error(err, errlen, "EC private key names no curve");
		return -1;
	}
	while (priv.len > 0 && priv.p[0] == 0) {
		priv.p++;
		priv.len--;
	}
	if (set_public_ecdsa(k, &priv) != 0 ||
	    ec_set_private(k, priv.p, priv.len) != 0) {
		set_error(err, errlen, "malformed ecdsa-sha2-nistp256 "
		    "private key");
		return -1;
	}
	return 0;
}

/* RFC 8410: the key is an OCTET STRING holding the 32-byte seed. */
static int parse_ed25519_pkcs8(struct sshkey *k, const struct bytes *der,
    char *err, size_t errlen)
{
	struct bytes d = *der, seed;
	uint8_t pk[32], blob[64];
	struct buf b;

	if (der_get(&d, DER_OCTET_STRING, &seed) != 0 || seed.len != 32 ||
	    d.len != 0) {
		set_error(err, errlen, "malformed Ed25519 private key");
		return -1;
	}
	ed25519_public_key(pk, seed.p);
	buf_init(&b, blob, sizeof blob);
	if (buf_put_cstring(&b, "ssh-ed25519") != 0 ||
	    buf_put_string(&b, pk, sizeof pk) != 0 ||
	    sshkey_from_blob(k, blob, b.len) != 0) {
		set_error(err, errlen, "malformed Ed25519 private key");
		return -1;
	}
	memcpy(k->ed25519_seed, seed.p, 32);
	return 0;
}

static int parse_pkcs8(struct sshkey *k, const struct bytes *der,
    char *err, size_t errlen)
{
	struct bytes d = *der, seq, alg, oid, params, key;
	unsigned version;

	if (der_get(&d, DER_SEQUENCE, &seq) != 0 ||
	    der_get_version(&seq, 1, &version) != 0 ||
	    der_get(&seq, DER_SEQUENCE, &alg) != 0 ||
	    der_get(&alg, DER_OID, &oid) != 0 ||
	    der_get(&seq, DER_OCTET_STRING, &key) != 0) {
		set_error(err, errlen, "malformed PKCS#8 private key");
		return -1;
	}
	if (OID_IS(oid, oid_rsa))
		return parse_pkcs1(k, &key, err, errlen);
	if (OID_IS(oid, oid_ed25519))
		return parse_ed25519_pkcs8(k, &key, err, errlen);
	if (!OID_IS(oid, oid_ec)) {
		set_error(err, errlen, "unsupported PKCS#8 key algorithm");
		return -1;
	}
	if (der_get(&alg, DER_OID, &params) != 0 ||
	    !OID_IS(params, oid_p256)) {
		set_error(err, errlen, "unsupported EC curve (only NIST "
		    "P-256 is)");
		return -1;
	}
	return parse_sec1(k, &key, 1, err, errlen);
}

static void set_encrypted_pem_error(const char *path, char *err,
    size_t errlen)
{
	set_error(err, errlen, "encrypted PEM keys are not supported; "
	    "convert it with ssh-keygen -p -f %s", path);
}

static int parse_key(struct sshkey *k, const char *label, uint8_t *raw,
    size_t len, const char *passphrase, const char *path, char *err,
    size_t errlen)
{
	struct bytes der = { raw, len };
	size_t n = strlen(label);
	int r;

	if (strcmp(label, "OPENSSH PRIVATE KEY") == 0)
		r = parse_openssh_key(k, raw, len, passphrase, err, errlen);
	else if (strcmp(label, "RSA PRIVATE KEY") == 0)
		r = parse_pkcs1(k, &der, err, errlen);
	else if (strcmp(label, "EC PRIVATE KEY") == 0)
		r = parse_sec1(k, &der, 0, err, errlen);
	else if (strcmp(label, "PRIVATE KEY") == 0)
		r = parse_pkcs8(k, &der, err, errlen);
	else if (strcmp(label, "ENCRYPTED PRIVATE KEY") == 0) {
		set_encrypted_pem_error(path, err, errlen);
		r = SSHKEY_ERR;
	} else if (n > 12 && strcmp(label + n - 12, " PRIVATE KEY") == 0) {
		set_error(err, errlen, "unsupported key type (%s)", label);
		r = SSHKEY_ERR;
	} else {
		set_error(err, errlen, "not a private key (%s)", label);
		r = SSHKEY_ERR;
	}
	if (r == 0 && !sshkey_type_can_sign(k->type)) {
		set_error(err, errlen, "key type %s cannot sign",
		    sshkey_type_name(k));
		r = SSHKEY_ERR;
	}
	return r;
}

int sshkey_load_private_pp(struct sshkey *k, const char *path,
    const char *passphrase, char *err, size_t errlen)
{
	uint8_t *file, *raw;
	size_t flen, rawlen, rawcap;
	char label[ARMOR_LABEL_MAX];
	int r;

	memset(k, 0, sizeof *k);
	if (read_key_file(path, &file, &flen, err, errlen) != 0)
		return SSHKEY_ERR;
	r = decode_key_file(file, flen, label, sizeof label, &raw, &rawlen,
	    &rawcap, err, errlen);
	if (r == 0) {
		r = parse_key(k, label, raw, rawlen, passphrase, path, err,
		    errlen);
		wipe(raw, rawcap);
		free(raw);
	} else if (r == UNARMOR_ENCRYPTED) {
		set_encrypted_pem_error(path, err, errlen);
		r = SSHKEY_ERR;
	} else {
		r = SSHKEY_ERR;
	}
	wipe(file, flen);
	free(file);
	if (r == 0)
		k->has_private = 1;
	else if (r == SSHKEY_NEED_PASSPHRASE || r == SSHKEY_BAD_PASSPHRASE)
		sshkey_wipe(k);
	else
		wipe(k, sizeof *k);
	/* SHA-512 of the passphrase and of the seed, and BearSSL's EC code,
	 * leave copies in their locals. */
	wipe_stack();
	return r;
}

int sshkey_load_private(struct sshkey *k, const char *path, char *err,
    size_t errlen)
{
	if (sshkey_load_private_pp(k, path, NULL, err, errlen) == 0)
		return 0;
	wipe(k, sizeof *k);
	return -1;
}

void sshkey_wipe(struct sshkey *k)
{
	wipe(k->ed25519_seed, sizeof k->ed25519_seed);
	wipe(k->ec_d, sizeof k->ec_d);
	wipe(k->rsa_p, sizeof k->rsa_p);
	wipe(k->rsa_q, sizeof k->rsa_q);
	wipe(k->rsa_dp, sizeof k->rsa_dp);
	wipe(k->rsa_dq, sizeof k->rsa_dq);
	wipe(k->rsa_iq, sizeof k->rsa_iq);
	k->rsa_p_len = k->rsa_q_len = 0;
	k->rsa_dp_len = k->rsa_dq_len = k->rsa_iq_len = 0;
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
