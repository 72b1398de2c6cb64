/*
 * unit_kex.c - key exchange primitives against published vectors: NIST
 * CAVS ECC CDH validity tests for P-256, RFC 7748 for X25519, and the
 * group14 range checks; and that no private value, shared secret or
 * derived key outlives its use.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "kex.h"
#include "residue.h"

#define VECTORS "/usr/lib/python3/dist-packages/cryptography_vectors/" \
	"asymmetric/"

static int failures;

static void result(int ok, const char *name, const char *why)
{
	if (ok) {
		printf("ok - %s\n", name);
	} else {
		printf("not ok - %s: %s\n", name, why);
		failures++;
	}
}

static int unhex(uint8_t *out, size_t n, const char *hex)
{
	size_t i;
	unsigned v;

	if (strlen(hex) != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

/* "KEY = VALUE" lines: the value of key, or NULL. */
static const char *field(const char *line, const char *key)
{
	size_t n = strlen(key);

	if (strncmp(line, key, n) != 0 || strncmp(line + n, " = ", 3) != 0)
		return NULL;
	return line + n + 3;
}

struct cdh {
	char ds[80], qx[80], qy[80], z[80], res[200];
};

/* One CAVS case: the verdict must match, and so must Z when valid. */
static int cdh_case(const struct cdh *t, int *checked)
{
	const struct kex_alg *alg = kex_by_name("ecdh-sha2-nistp256");
	struct kex_state k;
	uint8_t peer[65], z[32], secret[KEX_MAX_SECRET];
	size_t slen;
	int valid = t->res[0] == 'P';
	int peer_bad = strstr(t->res, "CAVS's Static public key") != NULL;
	int r, same;

	memset(&k, 0, sizeof k);
	k.alg = alg;
	k.priv_len = 32;
	peer[0] = 0x04;
	if (unhex(k.priv, 32, t->ds) || unhex(peer + 1, 32, t->qx) ||
	    unhex(peer + 33, 32, t->qy) || unhex(z, 32, t->z))
		return -1;
	r = kex_finish(&k, peer, sizeof peer, secret, &slen);
	same = r == 0 && slen == 32 && memcmp(secret, z, 32) == 0;
	(*checked)++;
	if (valid)
		return same ? 0 : -1;
	/* An invalid peer key must be refused; other invalid cases carry
	 * a Z that our computation must not reproduce. */
	if (peer_bad)
		return r != 0 ? 0 : -1;
	return !same ? 0 : -1;
}

static void nist_p256(void)
{
	FILE *f = fopen(VECTORS "ECDH/KASValidityTest_ECCStaticUnified_"
	    "NOKC_ZZOnly_init.fax", "r");
	char line[512];
	const char *v;
	struct cdh t;
	int in = 0, checked = 0, bad = 0, have = 0;

	if (f == NULL) {
		result(0, "nist p-256 cdh", "vector file missing (install "
		    "python3-cryptography-vectors)");
		return;
	}
	memset(&t, 0, sizeof t);
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '[') {
			in = strcmp(line, "[EC - SHA256]") == 0;
			continue;
		}
		if (!in)
			continue;
		if ((v = field(line, "dsIUT")) != NULL)
			snprintf(t.ds, sizeof t.ds, "%s", v);
		else if ((v = field(line, "QsCAVSx")) != NULL)
			snprintf(t.qx, sizeof t.qx, "%s", v);
		else if ((v = field(line, "QsCAVSy")) != NULL)
			snprintf(t.qy, sizeof t.qy, "%s", v);
		else if ((v = field(line, "Z")) != NULL)
			snprintf(t.z, sizeof t.z, "%s", v);
		else if ((v = field(line, "Result")) != NULL) {
			snprintf(t.res, sizeof t.res, "%s", v);
			have++;
			if (cdh_case(&t, &checked) != 0)
				bad++;
			memset(&t, 0, sizeof t);
		}
	}
	fclose(f);
	if (have < 10)
		result(0, "nist p-256 cdh", "too few vectors found");
	else if (bad != 0)
		result(0, "nist p-256 cdh", "verdict or Z differs");
	else
		printf("ok - nist p-256 cdh validity (%d vectors)\n", checked);
}

static void rfc7748(void)
{
	const struct kex_alg *alg = kex_by_name("curve25519-sha256");
	FILE *f = fopen(VECTORS "X25519/rfc7748.txt", "r");
	char line[512], sc[80] = "", u[80] = "";
	const char *v;
	uint8_t peer[32], want[32], secret[KEX_MAX_SECRET];
	struct kex_state k;
	size_t slen;
	int n = 0, bad = 0;

	if (f == NULL) {
		result(0, "rfc7748 x25519", "vector file missing");
		return;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if ((v = field(line, "INPUT_SCALAR")) != NULL)
			snprintf(sc, sizeof sc, "%s", v);
		else if ((v = field(line, "INPUT_U")) != NULL)
			snprintf(u, sizeof u, "%s", v);
		else if ((v = field(line, "OUTPUT_U")) != NULL) {
			memset(&k, 0, sizeof k);
			k.alg = alg;
			k.priv_len = 32;
			if (unhex(k.priv, 32, sc) || unhex(peer, 32, u) ||
			    unhex(want, 32, v) ||
			    kex_finish(&k, peer, 32, secret, &slen) != 0 ||
			    slen != 32 || memcmp(secret, want, 32) != 0)
				bad++;
			n++;
		}
	}
	fclose(f);
	result(n >= 2 && bad == 0, "rfc7748 x25519", "output differs");
}

static void x25519_low_order(void)
{
	struct kex_state k;
	uint8_t zero[32] = { 0 }, secret[KEX_MAX_SECRET];
	size_t slen;

	kex_start(&k, kex_by_name("curve25519-sha256"));
	result(kex_finish(&k, zero, 32, secret, &slen) != 0,
	    "x25519 refuses a low-order peer (all-zero secret)",
	    "accepted");
}

static void p256_off_curve(void)
{
	struct kex_state k;
	uint8_t peer[65], secret[KEX_MAX_SECRET];
	size_t slen;

	kex_start(&k, kex_by_name("ecdh-sha2-nistp256"));
	memcpy(peer, k.pub, 65);
	peer[64] ^= 1;
	result(kex_finish(&k, peer, 65, secret, &slen) != 0,
	    "p-256 refuses a point off the curve", "accepted");
}

/* Two parties agree; f = 1 and f = p - 1 are refused. */
static void group14(void)
{
	const struct kex_alg *alg = kex_by_name("diffie-hellman-group14-sha256");
	struct kex_state a, b;
	uint8_t sa[KEX_MAX_SECRET], sb[KEX_MAX_SECRET], one = 1;
	uint8_t big[256];
	size_t la, lb;

	kex_start(&a, alg);
	kex_start(&b, alg);
	result(kex_finish(&a, b.pub, b.pub_len, sa, &la) == 0 &&
	    kex_finish(&b, a.pub, a.pub_len, sb, &lb) == 0 && la == lb &&
	    memcmp(sa, sb, la) == 0, "group14 parties agree", "differ");
	result(kex_finish(&a, &one, 1, sa, &la) != 0,
	    "group14 refuses f = 1", "accepted");
	/* 2^2048 - 1 lies above p. */
	memset(big, 0xff, sizeof big);
	result(kex_finish(&a, big, sizeof big, sa, &la) != 0,
	    "group14 refuses f above p - 2", "accepted");
}

static int all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	while (n-- > 0)
		acc |= *p++;
	return acc == 0;
}

/*
 * One exchange between two parties of method name, then the keys of a
 * direction derived from it, as the transport does.  Right after each
 * step the stack below must hold nothing of our private value, of K or
 * of the derived keys; kex_wipe() must zero the private value and keep
 * the public one for the exchange hash.
 */
static void exchange_leaves_nothing(const char *name)
{
	const struct kex_alg *alg = kex_by_name(name);
	struct kex_state a, b;
	uint8_t ka[KEX_MAX_SECRET], kb[KEX_MAX_SECRET];
	uint8_t kmp[4 + 1 + KEX_MAX_SECRET], h[KEX_MAX_HASH], keys[64];
	struct buf m;
	size_t la, lb;
	int start_left, finish_left, derive_left, agree;
	char tname[160];

	memset(h, 0x5a, sizeof h);
	if (alg == NULL || kex_start(&a, alg) != 0) {
		result(0, name, "kex_start failed");
		return;
	}
	start_left = residue_stack(a.priv, a.priv_len);
	if (kex_start(&b, alg) != 0) {
		result(0, name, "kex_start failed");
		return;
	}
	agree = kex_finish(&a, b.pub, b.pub_len, ka, &la) == 0;
	finish_left = residue_stack(a.priv, a.priv_len) ||
	    (agree && residue_stack(ka, la));
	agree = agree && kex_finish(&b, a.pub, a.pub_len, kb, &lb) == 0 &&
	    la == lb && memcmp(ka, kb, la) == 0;
	buf_init(&m, kmp, sizeof kmp);
	buf_put_mpint(&m, ka, la);
	kex_derive(alg->hash, kmp, m.len, h, 32, 'C', h, 32, keys,
	    sizeof keys);
	derive_left = residue_stack(keys, sizeof keys) ||
	    residue_stack(ka, la);

	snprintf(tname, sizeof tname, "%s: the parties agree", name);
	result(agree, tname, "different secrets");
	snprintf(tname, sizeof tname, "%s: kex_start leaves no copy of the "
	    "private value on the stack", name);
	result(!start_left, tname, "found below the caller");
	snprintf(tname, sizeof tname, "%s: kex_finish leaves no copy of the "
	    "private value or of K on the stack", name);
	result(!finish_left, tname, "found below the caller");
	snprintf(tname, sizeof tname, "%s: kex_derive leaves no copy of K or "
	    "of the keys on the stack", name);
	result(!derive_left, tname, "found below the caller");

	kex_wipe(&a);
	kex_wipe(&b);
	snprintf(tname, sizeof tname, "%s: kex_wipe zeroes the private value "
	    "and keeps the public one", name);
	result(a.priv_len == 0 && all_zero(a.priv, sizeof a.priv) &&
	    b.priv_len == 0 && all_zero(b.priv, sizeof b.priv) &&
	    a.pub_len > 0 && !all_zero(a.pub, a.pub_len), tname,
	    "state left");
	wipe(ka, sizeof ka);
	wipe(kb, sizeof kb);
	wipe(kmp, sizeof kmp);
	wipe(keys, sizeof keys);
}

/* A low-order peer: K is refused and not left in the output. */
static void x25519_refusal_leaves_nothing(void)
{
	struct kex_state k;
	uint8_t zero[32] = { 0 }, secret[KEX_MAX_SECRET];
	size_t slen;

	memset(secret, 0xa5, sizeof secret);
	kex_start(&k, kex_by_name("curve25519-sha256"));
	result(kex_finish(&k, zero, 32, secret, &slen) != 0 &&
	    all_zero(secret, 32) && !residue_stack(k.priv, k.priv_len),
	    "x25519: a refused exchange leaves nothing of the secret",
	    "secret written or private value on the stack");
	kex_wipe(&k);
}

int main(void)
{
	residue_init();
	result(residue_selftest() == 0, "residue search sees what is left "
	    "behind (control)", "a planted secret was not found");
	nist_p256();
	rfc7748();
	x25519_low_order();
	p256_off_curve();
	group14();
	exchange_leaves_nothing("curve25519-sha256");
	exchange_leaves_nothing("ecdh-sha2-nistp256");
	exchange_leaves_nothing("diffie-hellman-group14-sha256");
	x25519_refusal_leaves_nothing();
	return failures != 0;
}
