/*
 * unit_cipher.c - known answers, round trips and forgeries for SSH
 * packet protection; with --speed, a throughput report instead.
 */

/*
 * The file under test is compiled in, so that its internal helpers (the
 * implementation choices, the GCM and CTR steps) are reachable without
 * exporting test-only symbols from the client.
 */
#include "../cipher.c"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "residue.h"

#define PAYLOAD_MAX	32768
#define PKT_MAX		(4 + 1 + PAYLOAD_MAX + 255)

static int failures;

static void report(const char *why, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* One result line; why is NULL when the case passed. */
static void
report(const char *why, const char *fmt, ...)
{
	va_list ap;

	printf(why == NULL ? "ok - " : "not ok - ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (why != NULL) {
		printf(": %s", why);
		failures++;
	}
	printf("\n");
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Decode a vector written in this file; a malformed one is a bug here. */
static size_t
unhex(uint8_t *out, size_t cap, const char *hex)
{
	size_t n;
	int hi, lo;

	for (n = 0; hex[2 * n] != '\0'; n++) {
		hi = hexval(hex[2 * n]);
		lo = hexval(hex[2 * n + 1]);
		if (hi < 0 || lo < 0 || n >= cap) {
			fprintf(stderr, "unit_cipher: bad vector %.16s\n", hex);
			exit(2);
		}
		out[n] = (uint8_t)(hi << 4 | lo);
	}
	return n;
}

static int
all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	while (n-- > 0)
		acc |= *p++;
	return acc == 0;
}

/* Deterministic, so that a failure can be replayed. */
static uint64_t rng_state = 0x243f6a8885a308d3u;

static uint8_t
rnd8(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint8_t)(rng_state >> 32);
}

static void
rnd_fill(uint8_t *p, size_t n)
{
	while (n-- > 0)
		*p++ = rnd8();
}

/*
 * Implementations.  "selected" is what pktc_init() picks on this CPU;
 * the others force the portable code a CPU without AES-NI, PCLMUL or
 * SSE2 runs, so that it is checked here too.
 */
struct variant {
	const char *name;
	const br_block_ctr_class *ctr;	/* NULL: keep the selection */
	const br_block_ctrcbc_class *ctrcbc;
	br_ghash ghash;
	br_chacha20_run chacha;
};

static const struct variant variants[] = {
	{ "selected", NULL, NULL, 0, 0 },
	{ "ct64", &br_aes_ct64_ctr_vtable, &br_aes_ct64_ctrcbc_vtable,
	    &br_ghash_ctmul64, &br_chacha20_ct_run },
	{ "ct", &br_aes_ct_ctr_vtable, &br_aes_ct_ctrcbc_vtable,
	    &br_ghash_ctmul, &br_chacha20_ct_run },
};
#define NVARIANTS	(sizeof variants / sizeof variants[0])

/* Replace what pktc_init() selected; key is the one it was given. */
static void
force_variant(struct pktc *c, const struct variant *v, const uint8_t *key)
{
	if (v->ctr == NULL)
		return;
	switch (c->cipher->id) {
	case CIPHER_CHACHA_POLY:
		c->u.chacha.run = v->chacha;
		break;
	case CIPHER_AES_GCM:
		v->ctr->init(&c->u.gcm.aes.vtable, key, c->cipher->key_len);
		br_gcm_init(&c->u.gcm.gcm, &c->u.gcm.aes.vtable, v->ghash);
		c->u.gcm.bound = c;
		break;
	case CIPHER_AES_CTR:
		v->ctrcbc->init(&c->u.ctr.aes.vtable, key,
		    c->cipher->key_len);
		break;
	}
}

static int
pair_init(struct pktc *tx, struct pktc *rx, const struct cipher_alg *ca,
    const struct mac_alg *ma, const struct variant *v, const uint8_t *key,
    const uint8_t *iv, const uint8_t *mac_key)
{
	if (pktc_init(tx, ca, ma, key, iv, mac_key, 1) != 0 ||
	    pktc_init(rx, ca, ma, key, iv, mac_key, 0) != 0)
		return -1;
	force_variant(tx, v, key);
	force_variant(rx, v, key);
	return 0;
}

static int
list_has(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list, *comma;

	for (;;) {
		comma = strchr(p, ',');
		if ((comma == NULL ? strlen(p) : (size_t)(comma - p)) == n &&
		    strncmp(p, name, n) == 0)
			return 1;
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

/* Every name listed resolves, and every table entry is listed. */
static const char *
check_list(const char *list, int is_cipher)
{
	char name[64];
	const char *p = list;
	size_t n;

	while (*p != '\0') {
		n = strcspn(p, ",");
		if (n == 0 || n >= sizeof name)
			return "empty or overlong name";
		memcpy(name, p, n);
		name[n] = '\0';
		if (is_cipher ? cipher_by_name(name) == NULL :
		    mac_by_name(name) == NULL)
			return "a listed name does not resolve";
		p += n;
		if (*p == ',')
			p++;
	}
	return NULL;
}

static void
test_tables(void)
{
	const char *why;
	size_t i;

	why = check_list(cipher_all_list, 1);
	for (i = 0; why == NULL && i < sizeof ciphers / sizeof ciphers[0]; i++)
		if (!list_has(cipher_all_list, ciphers[i].name))
			why = "a cipher is missing from cipher_all_list";
	report(why, "cipher_all_list matches the table");

	why = check_list(mac_all_list, 0);
	for (i = 0; why == NULL && i < sizeof macs / sizeof macs[0]; i++)
		if (!list_has(mac_all_list, macs[i].name))
			why = "a MAC is missing from mac_all_list";
	report(why, "mac_all_list matches the table");

	why = check_list(cipher_default_list, 1);
	if (why == NULL && strcmp(cipher_default_list,
	    "chacha20-poly1305@openssh.com,aes128-ctr,aes256-ctr,"
	    "aes128-gcm@openssh.com,aes256-gcm@openssh.com") != 0)
		why = "not OpenSSH's order";
	report(why, "cipher_default_list");

	why = check_list(mac_default_list, 0);
	if (why == NULL && (list_has(mac_default_list, "hmac-sha1") ||
	    list_has(mac_default_list, "hmac-sha1-etm@openssh.com")))
		why = "SHA-1 offered by default";
	report(why, "mac_default_list");

	why = NULL;
	if (cipher_by_name("aes192-ctr") != NULL ||
	    cipher_by_name("aes128-ctr,") != NULL ||
	    cipher_by_name("") != NULL || mac_by_name("hmac-md5") != NULL ||
	    mac_by_name("hmac-sha2-256-etm") != NULL)
		why = "an unsupported name resolved";
	report(why, "unsupported names are refused");
}

static void
test_init_rules(void)
{
	static const uint8_t key[PKTC_MAX_KEY], iv[PKTC_MAX_IV];
	struct pktc c;
	const char *why = NULL;

	if (pktc_init(&c, cipher_by_name("aes128-ctr"), NULL, key, iv, NULL,
	    1) == 0)
		why = "CTR accepted without a MAC";
	else if (pktc_init(&c, NULL, NULL, key, iv, NULL, 1) == 0)
		why = "no cipher accepted";
	else if (pktc_init(&c, cipher_by_name("aes128-gcm@openssh.com"),
	    mac_by_name("hmac-sha2-256"), key, iv, key, 1) != 0 ||
	    c.mac != NULL)
		why = "AEAD cipher kept a MAC";
	report(why, "pktc_init argument rules");

	pktc_wipe(&c);
	report(all_zero((const uint8_t *)&c, sizeof c) ? NULL :
	    "state not zeroed", "pktc_wipe zeroes the state");
}

/* RFC 8439 2.3.2 and 2.4.2, on every ChaCha20 implementation. */
static void
test_chacha20(void)
{
	static const char *sunscreen = "Ladies and Gentlemen of the class "
	    "of '99: If I could offer you only one tip for the future, "
	    "sunscreen would be it.";
	struct {
		const char *name;
		br_chacha20_run run;
	} impls[3];
	uint8_t key[32], nonce[12], buf[128], want[128];
	size_t i, n, nimpl = 0;

	impls[nimpl].name = "selected";
	impls[nimpl++].run = chacha20_impl();
	impls[nimpl].name = "ct";
	impls[nimpl++].run = &br_chacha20_ct_run;
	if (br_chacha20_sse2_get() != 0) {
		impls[nimpl].name = "sse2";
		impls[nimpl++].run = br_chacha20_sse2_get();
	}
	for (i = 0; i < sizeof key; i++)
		key[i] = (uint8_t)i;
	for (i = 0; i < nimpl; i++) {
		unhex(nonce, sizeof nonce, "000000090000004a00000000");
		memset(buf, 0, 64);
		impls[i].run(key, nonce, 1, buf, 64);
		unhex(want, sizeof want,
		    "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9a"
		    "c3d46c4ed2826446079faa0914c2d705d98b02a2b5129cd1de164eb9"
		    "cbd083e8a2503c4e");
		report(memcmp(buf, want, 64) == 0 ? NULL : "keystream differs",
		    "rfc8439 2.3.2 chacha20 block (%s)", impls[i].name);

		unhex(nonce, sizeof nonce, "000000000000004a00000000");
		n = strlen(sunscreen);
		memcpy(buf, sunscreen, n);
		impls[i].run(key, nonce, 1, buf, n);
		unhex(want, sizeof want,
		    "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afcc"
		    "fd9fae0bf91b65c5524733ab8f593dabcd62b3571639d624e65152ab"
		    "8f530c359f0861d807ca0dbf500d6a6156a38e088a22b65e52bc514d"
		    "16ccf806818ce91ab77937365af90bbf74a35be6b40b8eedf2785e42"
		    "874d");
		report(memcmp(buf, want, n) == 0 ? NULL : "ciphertext differs",
		    "rfc8439 2.4.2 chacha20 encryption (%s)", impls[i].name);
	}
}

/* RFC 8439 2.5.2, through the same call chacha_tag() makes. */
static void
test_poly1305(void)
{
	static const char *msg = "Cryptographic Forum Research Group";
	uint8_t key[32], tag[16], want[16];

	unhex(key, sizeof key,
	    "85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b");
	unhex(want, sizeof want, "a8061dc1305136c6c22b8baf0c0127a9");
	(void)mbedtls_poly1305_mac(key, (const uint8_t *)msg, strlen(msg),
	    tag);
	report(memcmp(tag, want, sizeof tag) == 0 ? NULL : "tag differs",
	    "rfc8439 2.5.2 poly1305");
}

/*
 * McGrew and Viega, "The Galois/Counter Mode of Operation", test cases 4
 * (AES-128) and 16 (AES-256): 20 bytes of AAD, 60 of plaintext.
 */
static void
test_gcm(void)
{
	static const struct {
		int tcase;
		const char *cipher, *key, *ct, *tag;
	} tv[] = {
		{ 4, "aes128-gcm@openssh.com",
		    "feffe9928665731c6d6a8f9467308308",
		    "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e23"
		    "29aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac97"
		    "3d58e091",
		    "5bc94fbc3221a5db94fae95ae7121a47" },
		{ 16, "aes256-gcm@openssh.com",
		    "feffe9928665731c6d6a8f9467308308"
		    "feffe9928665731c6d6a8f9467308308",
		    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd"
		    "2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0a"
		    "bcc9f662",
		    "76fc6ece0f4e1768cddf8853bb2d551b" },
	};
	static const char *pt_hex =
	    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d"
	    "8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657"
	    "ba637b39";
	uint8_t key[32], iv[12], aad[20], pt[64], ct[64], buf[64], tag[16];
	uint8_t want_tag[16];
	struct pktc c;
	const char *why;
	size_t i, v, n;

	unhex(iv, sizeof iv, "cafebabefacedbaddecaf888");
	unhex(aad, sizeof aad, "feedfacedeadbeeffeedfacedeadbeefabaddad2");
	n = unhex(pt, sizeof pt, pt_hex);
	for (i = 0; i < sizeof tv / sizeof tv[0]; i++) {
		unhex(key, sizeof key, tv[i].key);
		unhex(ct, sizeof ct, tv[i].ct);
		unhex(want_tag, sizeof want_tag, tv[i].tag);
		for (v = 0; v < NVARIANTS; v++) {
			why = NULL;
			pktc_init(&c, cipher_by_name(tv[i].cipher), NULL, key,
			    iv, NULL, 1);
			force_variant(&c, &variants[v], key);
			memcpy(buf, pt, n);
			gcm_start(&c, aad, sizeof aad);
			br_gcm_run(&c.u.gcm.gcm, 1, buf, n);
			br_gcm_get_tag(&c.u.gcm.gcm, tag);
			if (memcmp(buf, ct, n) != 0)
				why = "ciphertext differs";
			else if (memcmp(tag, want_tag, sizeof tag) != 0)
				why = "tag differs";
			gcm_start(&c, aad, sizeof aad);
			br_gcm_run(&c.u.gcm.gcm, 0, buf, n);
			if (why == NULL &&
			    (!br_gcm_check_tag(&c.u.gcm.gcm, tag) ||
			    memcmp(buf, pt, n) != 0))
				why = "decryption differs";
			report(why, "gcm test case %d %s (%s)", tv[i].tcase,
			    tv[i].cipher, variants[v].name);
			pktc_wipe(&c);
		}
	}
}

/*
 * RFC 4231 cases 1 and 2, RFC 2202 case 2.  Plain (non-EtM) CTR+HMAC
 * MACs uint32 seq || plaintext packet, so the first four bytes of the
 * RFC message serve as the sequence number and the rest as the packet:
 * the tag pktc_seal() writes must be the RFC's HMAC.  The keys are
 * shorter than the hash block; zero-padding them to the MAC's key
 * length leaves HMAC unchanged.
 */
static void
test_hmac(void)
{
	static const struct {
		const char *rfc, *mac, *key, *msg, *tag;
	} tv[] = {
		{ "rfc4231 case 1", "hmac-sha2-256",
		    "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There",
		    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c"
		    "2e32cff7" },
		{ "rfc4231 case 2", "hmac-sha2-256", "4a656665",
		    "what do ya want for nothing?",
		    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b9"
		    "64ec3843" },
		{ "rfc4231 case 1", "hmac-sha2-512",
		    "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There",
		    "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b305"
		    "45e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f170"
		    "2e696c203a126854" },
		{ "rfc4231 case 2", "hmac-sha2-512", "4a656665",
		    "what do ya want for nothing?",
		    "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7"
		    "ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b"
		    "636e070a38bce737" },
		{ "rfc2202 case 2", "hmac-sha1", "4a656665",
		    "what do ya want for nothing?",
		    "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
	};
	static const uint8_t key[16], iv[16];
	uint8_t mac_key[PKTC_MAX_KEY], msg[64], tag[PKTC_MAX_TAG];
	uint8_t want[PKTC_MAX_TAG];
	struct pktc c;
	const char *why;
	size_t i, n, tlen;

	for (i = 0; i < sizeof tv / sizeof tv[0]; i++) {
		memset(mac_key, 0, sizeof mac_key);
		unhex(mac_key, sizeof mac_key, tv[i].key);
		tlen = unhex(want, sizeof want, tv[i].tag);
		n = strlen(tv[i].msg);
		memcpy(msg, tv[i].msg, n);
		pktc_init(&c, cipher_by_name("aes128-ctr"),
		    mac_by_name(tv[i].mac), key, iv, mac_key, 1);
		pktc_seal(&c, load_be32(msg), msg + 4, n - 4, tag);
		why = NULL;
		if (pktc_tag_len(&c) != tlen || memcmp(tag, want, tlen) != 0)
			why = "tag differs";
		report(why, "%s %s", tv[i].rfc, tv[i].mac);
		pktc_wipe(&c);
	}
}

/* NIST SP 800-38A F.5.1 and F.5.5, through pktc_seal() and back. */
static void
test_ctr_sp800_38a(void)
{
	static const struct {
		const char *name, *cipher, *key, *ct;
	} tv[] = {
		{ "F.5.1", "aes128-ctr", "2b7e151628aed2a6abf7158809cf4f3c",
		    "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187b"
		    "b9fffdff5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1"
		    "792170a0f3009cee" },
		{ "F.5.5", "aes256-ctr",
		    "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a3"
		    "0914dff4",
		    "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990"
		    "cacaf5c52b0930daa23de94ce87017ba2d84988ddfc9c58db67aada6"
		    "13c2dd08457941a6" },
	};
	static const char *pt_hex =
	    "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac"
	    "45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17"
	    "ad2b417be66c3710";
	static const uint8_t mac_key[PKTC_MAX_KEY];
	uint8_t key[32], iv[16], pt[64], ct[64], buf[64], tag[PKTC_MAX_TAG];
	struct pktc tx, rx;
	const char *why;
	size_t i, v, n;

	unhex(iv, sizeof iv, "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
	n = unhex(pt, sizeof pt, pt_hex);
	for (i = 0; i < sizeof tv / sizeof tv[0]; i++) {
		unhex(key, sizeof key, tv[i].key);
		unhex(ct, sizeof ct, tv[i].ct);
		for (v = 0; v < NVARIANTS; v++) {
			why = NULL;
			pair_init(&tx, &rx, cipher_by_name(tv[i].cipher),
			    mac_by_name("hmac-sha2-256"), &variants[v], key,
			    iv, mac_key);
			memcpy(buf, pt, n);
			pktc_seal(&tx, 0, buf, n, tag);
			if (memcmp(buf, ct, n) != 0)
				why = "ciphertext differs";
			pktc_get_length(&rx, 0, buf);
			if (why == NULL &&
			    (pktc_open(&rx, 0, buf, n, tag) != 0 ||
			    memcmp(buf, pt, n) != 0))
				why = "does not open";
			report(why, "sp800-38a %s %s (%s)", tv[i].name,
			    tv[i].cipher, variants[v].name);
			pktc_wipe(&tx);
			pktc_wipe(&rx);
		}
	}
}

static void
increment_be128(uint8_t ctr[16])
{
	int i;

	for (i = 15; i >= 0; i--)
		if (++ctr[i] != 0)
			break;
}

/*
 * The CTR counter is 128 bits wide: it must carry out of the low 64 bits
 * (and wrap at 2^128), within a packet and from one packet to the next.
 * The reference encrypts each counter block with the AES block function.
 */
static void
test_ctr_carry(void)
{
	static const char *ivs[] = {
		"0001020304050607fffffffffffffffe",
		"fffffffffffffffffffffffffffffffe",
	};
	static const uint8_t mac_key[PKTC_MAX_KEY];
	br_aes_ct_cbcenc_keys ecb;
	uint8_t key[16], iv[16], ctr[16], zero[16], block[16];
	uint8_t pt[96], want[96], buf[96], tag[PKTC_MAX_TAG];
	struct pktc tx, rx;
	const char *why;
	size_t i, j, k, v;

	rnd_fill(key, sizeof key);
	rnd_fill(pt, sizeof pt);
	br_aes_ct_cbcenc_init(&ecb, key, sizeof key);
	for (i = 0; i < sizeof ivs / sizeof ivs[0]; i++) {
		unhex(iv, sizeof iv, ivs[i]);
		memcpy(ctr, iv, sizeof ctr);
		for (j = 0; j < sizeof pt; j += 16) {
			memcpy(block, ctr, sizeof block);
			memset(zero, 0, sizeof zero);
			br_aes_ct_cbcenc_run(&ecb, zero, block, sizeof block);
			for (k = 0; k < 16; k++)
				want[j + k] = pt[j + k] ^ block[k];
			increment_be128(ctr);
		}
		for (v = 0; v < NVARIANTS; v++) {
			why = NULL;
			pair_init(&tx, &rx, cipher_by_name("aes128-ctr"),
			    mac_by_name("hmac-sha2-256"), &variants[v], key,
			    iv, mac_key);
			memcpy(buf, pt, sizeof buf);
			/* 64 bytes, then 32 more in a second packet. */
			pktc_seal(&tx, 0, buf, 64, tag);
			pktc_seal(&tx, 1, buf + 64, 32, tag);
			if (memcmp(buf, want, sizeof want) != 0)
				why = "keystream differs from AES(counter)";
			else if (memcmp(tx.u.ctr.ctr, ctr, sizeof ctr) != 0)
				why = "final counter differs";
			report(why, "aes-ctr counter carry from %s (%s)",
			    ivs[i], variants[v].name);
			pktc_wipe(&tx);
			pktc_wipe(&rx);
		}
	}
}

/*
 * Known-answer SSH packets.  Computed independently with Python's
 * cryptography package (48.0) from the primitives, following OpenSSH:
 * chacha20 with a 64-bit little-endian block counter and the sequence
 * number as 64-bit big-endian nonce; AESGCM with the length as AAD and
 * the invocation counter crossing 2^32 between the two packets; AES-CTR
 * with one counter over both packets and HMAC over seq || plaintext, or
 * over seq || length || ciphertext for EtM.  Keys are byte patterns.
 */
struct kat_packet {
	uint32_t seq;
	const char *plain, *wire, *tag;
};

struct kat {
	const char *cipher, *mac;
	const char *key, *iv, *mac_key;
	size_t npkt;
	struct kat_packet pkt[2];
};

static const struct kat kats[] = {
	{ "chacha20-poly1305@openssh.com", NULL,
	    "01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7be"
	    "c5ccd3dae1e8eff6fd040b121920272e353c434a51585f666d747b82"
	    "8990979ea5acb3ba",
	    "",
	    "",
	    2, {
		{ 0x00000003,
		    "00000020075e000000000000000f757074696d653a20332064617973"
		    "0a03203d5a7794b1",
		    "da994a2c8ea6a145742c0b970c0d979a95588b9a2639f482ba9e3ad9"
		    "d479992bf4b19533",
		    "36f70db73a7515ede0f6ba6aadc29a08" },
		{ 0xffffffff,
		    "000000200662000000000000000b657869742d737461747573000000"
		    "000003203d5a7794",
		    "5d99df32079ea7b95c9086bcf9585bac015f27ca8a5a2f36b6ffed37"
		    "1cfbdf8f88c2a845",
		    "703b75bdb2ad32c8e45a0dae475a5930" },
	} },
	{ "aes128-gcm@openssh.com", NULL,
	    "05121f2c394653606d7a8794a1aebbc8",
	    "a1b2c3d400000000ffffffff",
	    "",
	    2, {
		{ 0x00000000,
		    "00000020075e000000000000000f757074696d653a20332064617973"
		    "0a03203d5a7794b1",
		    "0000002089314f990f5cf28a03e64ebb6b507b75b825f3c60b7e87bb"
		    "47f5af6fdb3bed9e",
		    "55cd0f0f7e778a33c6ce1050e81632ae" },
		{ 0x00000001,
		    "000000200662000000000000000b657869742d737461747573000000"
		    "000003203d5a7794",
		    "000000202627e0cf02c45dfeceb2bf6c7ea2856d9d8f41e73a0e5282"
		    "f27fe1f535dbc37b",
		    "7f32ef242661066ee5b1c827cebf059b" },
	} },
	{ "aes256-gcm@openssh.com", NULL,
	    "05121f2c394653606d7a8794a1aebbc8d5e2effc091623303d4a5764"
	    "717e8b98",
	    "a1b2c3d400000000ffffffff",
	    "",
	    2, {
		{ 0x00000000,
		    "00000020075e000000000000000f757074696d653a20332064617973"
		    "0a03203d5a7794b1",
		    "00000020550b76ee95ce29114eae2be23b1f74767f886a13d6ef193b"
		    "950921d5691470db",
		    "816a4ccbed7b2077ed21550cf38f4da5" },
		{ 0x00000001,
		    "000000200662000000000000000b657869742d737461747573000000"
		    "000003203d5a7794",
		    "00000020d320e38b81a8f475559338a6f538e04c435b2e2ea5893df2"
		    "84eecd9f23ccfcaa",
		    "9388707516f047c3c79c6cbad2ca1105" },
	} },
	{ "aes128-ctr", "hmac-sha2-256",
	    "09141f2a35404b56616c77828d98a3ae",
	    "00112233445566778899aabbccddeeff",
	    "4d52575c61666b70757a7f84898e93989da2a7acb1b6bbc0c5cacfd4"
	    "d9dee3e8",
	    2, {
		{ 0x00000000,
		    "0000002c135e000000000000000f757074696d653a20332064617973"
		    "0a03203d5a7794b1ceeb0825425f7c99b6d3f00d",
		    "a515156c6e2e3e027cb8abc6ca8cc8ed2969cb3a3ca7b2891a75bb1e"
		    "3c2718a9b51f20a84567f3777da075389a3c5638",
		    "25cc855ff5cd92569b9d8a790fd5ed4ae7b5d8d9d35fc7e977ba754b"
		    "f16b0882" },
		{ 0x00000001,
		    "0000002c1262000000000000000b657869742d737461747573000000"
		    "000003203d5a7794b1ceeb0825425f7c99b6d3f0",
		    "87a0294bfac4e5c783b2599eddbd0e1390f13678812972e7b0f7802c"
		    "e20ef515d973d3183fdafa917004d5d26b1f0f91",
		    "1f748c3ae719248a7e3b6a55b56a72edfa889f760b08e688da0e4d7e"
		    "5dfa338e" },
	} },
	{ "aes256-ctr", "hmac-sha2-512-etm@openssh.com",
	    "09141f2a35404b56616c77828d98a3aeb9c4cfdae5f0fb06111c2732"
	    "3d48535e",
	    "00112233445566778899aabbccddeeff",
	    "4d52575c61666b70757a7f84898e93989da2a7acb1b6bbc0c5cacfd4"
	    "d9dee3e8edf2f7fc01060b10151a1f24292e33383d42474c51565b60"
	    "656a6f74797e8388",
	    2, {
		{ 0xfffffffe,
		    "00000020075e000000000000000f757074696d653a20332064617973"
		    "0a03203d5a7794b1",
		    "000000200981050bb5c0e965451708946c6294ae82d0f953d67810d0"
		    "25bd24278329abf4",
		    "c6695492ea117cc47b8774475ba7377cc8470cd43f4f6fbb63350143"
		    "ac48ff925a8588dd6708148429291268442fa0fcfb66d24fe28394fb"
		    "6e49c643d23a8d97" },
		{ 0xffffffff,
		    "000000200662000000000000000b657869742d737461747573000000"
		    "000003203d5a7794",
		    "0000002012da1a6d62cacff141d4af2ed968be38a982031a480e4e30"
		    "c9c3866ff430d04f",
		    "a8472bdd3eb615af4fd59fea2c344f956767dbe34187e54ebc49cc47"
		    "bf4764afebad37ea207035514b6ada5e0f109155e6e32b910d2acb0f"
		    "ea41d0e06b0af25b" },
	} },
	{ "aes128-ctr", "hmac-sha1",
	    "09141f2a35404b56616c77828d98a3ae",
	    "00112233445566778899aabbccddeeff",
	    "4d52575c61666b70757a7f84898e93989da2a7ac",
	    2, {
		{ 0x00000029,
		    "0000002c135e000000000000000f757074696d653a20332064617973"
		    "0a03203d5a7794b1ceeb0825425f7c99b6d3f00d",
		    "a515156c6e2e3e027cb8abc6ca8cc8ed2969cb3a3ca7b2891a75bb1e"
		    "3c2718a9b51f20a84567f3777da075389a3c5638",
		    "b573713788834a4500cd732437b1686798ae08d6" },
		{ 0x0000002a,
		    "0000002c1262000000000000000b657869742d737461747573000000"
		    "000003203d5a7794b1ceeb0825425f7c99b6d3f0",
		    "87a0294bfac4e5c783b2599eddbd0e1390f13678812972e7b0f7802c"
		    "e20ef515d973d3183fdafa917004d5d26b1f0f91",
		    "7e5092413189e6587d31b0e1073451182fe31d2a" },
	} },
	{ "aes256-ctr", "hmac-sha1-etm@openssh.com",
	    "09141f2a35404b56616c77828d98a3aeb9c4cfdae5f0fb06111c2732"
	    "3d48535e",
	    "00112233445566778899aabbccddeeff",
	    "4d52575c61666b70757a7f84898e93989da2a7ac",
	    2, {
		{ 0x00000007,
		    "00000020075e000000000000000f757074696d653a20332064617973"
		    "0a03203d5a7794b1",
		    "000000200981050bb5c0e965451708946c6294ae82d0f953d67810d0"
		    "25bd24278329abf4",
		    "3087c96ebcd76bff6af656fcbf496d8e87175cdb" },
		{ 0x00000008,
		    "000000200662000000000000000b657869742d737461747573000000"
		    "000003203d5a7794",
		    "0000002012da1a6d62cacff141d4af2ed968be38a982031a480e4e30"
		    "c9c3866ff430d04f",
		    "a8d05de5ef0829273183db931d717193d3feba43" },
	} },
};

static const char *
run_kat(const struct kat *k, const struct variant *v)
{
	uint8_t key[PKTC_MAX_KEY], iv[PKTC_MAX_IV], mac_key[PKTC_MAX_KEY];
	uint8_t plain[128], wire[128], buf[128];
	uint8_t tag[PKTC_MAX_TAG], want_tag[PKTC_MAX_TAG];
	struct pktc tx, rx;
	const char *why = NULL;
	size_t i, n, tlen;

	unhex(key, sizeof key, k->key);
	unhex(iv, sizeof iv, k->iv);
	unhex(mac_key, sizeof mac_key, k->mac_key);
	if (pair_init(&tx, &rx, cipher_by_name(k->cipher),
	    k->mac == NULL ? NULL : mac_by_name(k->mac), v, key, iv,
	    mac_key) != 0)
		return "pktc_init failed";
	for (i = 0; why == NULL && i < k->npkt; i++) {
		n = unhex(plain, sizeof plain, k->pkt[i].plain);
		unhex(wire, sizeof wire, k->pkt[i].wire);
		tlen = unhex(want_tag, sizeof want_tag, k->pkt[i].tag);
		memcpy(buf, plain, n);
		pktc_seal(&tx, k->pkt[i].seq, buf, n, tag);
		if (memcmp(buf, wire, n) != 0)
			why = "sealed packet differs";
		else if (pktc_tag_len(&tx) != tlen ||
		    memcmp(tag, want_tag, tlen) != 0)
			why = "tag differs";
		else if (pktc_get_length(&rx, k->pkt[i].seq, buf) != n - 4)
			why = "wrong length read";
		else if (pktc_open(&rx, k->pkt[i].seq, buf, n, tag) != 0)
			why = "does not open";
		else if (memcmp(buf, plain, n) != 0)
			why = "opened packet differs";
	}
	pktc_wipe(&tx);
	pktc_wipe(&rx);
	return why;
}

static void
test_kats(void)
{
	const char *mac;
	size_t i, v;

	for (i = 0; i < sizeof kats / sizeof kats[0]; i++) {
		mac = kats[i].mac == NULL ? "" : kats[i].mac;
		for (v = 0; v < NVARIANTS; v++)
			report(run_kat(&kats[i], &variants[v]),
			    "known packets %s%s%s (%s)", kats[i].cipher,
			    *mac == '\0' ? "" : " ", mac, variants[v].name);
	}
}

/*
 * The packet layer's padding rule: with AEAD and EtM the length field is
 * left out of the alignment, otherwise the whole packet is aligned; at
 * least 4 bytes of padding.  Returns the packet length.
 */
static size_t
build_packet(const struct pktc *c, uint8_t *pkt, size_t payload_len)
{
	size_t bs = pktc_block_len(c);
	size_t skip = pktc_length_excluded(c) ? 4 : 0;
	size_t n = 4 + 1 + payload_len, pad;

	pad = bs - (n - skip) % bs;
	if (pad < 4)
		pad += bs;
	store_be32(pkt, (uint32_t)(n + pad - 4));
	pkt[4] = (uint8_t)pad;
	rnd_fill(pkt + 5, payload_len + pad);
	return n + pad;
}

/* A combination: an AEAD cipher alone, or a CTR cipher with a MAC. */
struct combo {
	const struct cipher_alg *cipher;
	const struct mac_alg *mac;
	char name[80];
};

static size_t
all_combos(struct combo *out, size_t cap)
{
	size_t i, j, n = 0;

	for (i = 0; i < sizeof ciphers / sizeof ciphers[0]; i++) {
		for (j = 0; j < sizeof macs / sizeof macs[0]; j++) {
			if (n == cap)
				return n;
			out[n].cipher = &ciphers[i];
			out[n].mac = ciphers[i].aead ? NULL : &macs[j];
			snprintf(out[n].name, sizeof out[n].name, "%s%s%s",
			    ciphers[i].name, ciphers[i].aead ? "" : " ",
			    ciphers[i].aead ? "" : macs[j].name);
			n++;
			if (ciphers[i].aead)
				break;
		}
	}
	return n;
}

static int
combo_pair(struct pktc *tx, struct pktc *rx, const struct combo *cb,
    const struct variant *v)
{
	uint8_t key[PKTC_MAX_KEY], iv[PKTC_MAX_IV], mac_key[PKTC_MAX_KEY];
	int r;

	rnd_fill(key, sizeof key);
	rnd_fill(iv, sizeof iv);
	rnd_fill(mac_key, sizeof mac_key);
	r = pair_init(tx, rx, cb->cipher, cb->mac, v, key, iv, mac_key);
	wipe(key, sizeof key);
	wipe(mac_key, sizeof mac_key);
	return r;
}

static uint8_t wire_buf[PKT_MAX], plain_buf[PKT_MAX], work_buf[PKT_MAX];

/* Seal and open packets of many sizes, starting at several seqs. */
static const char *
roundtrip(const struct combo *cb, const struct variant *v)
{
	static const size_t sizes[] = {
		0, 1, 11, 15, 16, 17, 31, 63, 64, 65, 255, 1000, 4096,
		PAYLOAD_MAX - 1, PAYLOAD_MAX,
	};
	static const uint32_t bases[] = { 0, 0x7ffffffe, 0xfffffff9 };
	uint8_t tag[PKTC_MAX_TAG];
	struct pktc tx, rx;
	const char *why = NULL;
	size_t b, i, len;
	uint32_t seq;

	for (b = 0; why == NULL && b < sizeof bases / sizeof bases[0]; b++) {
		if (combo_pair(&tx, &rx, cb, v) != 0)
			return "pktc_init failed";
		seq = bases[b];
		for (i = 0; why == NULL && i < sizeof sizes / sizeof sizes[0];
		    i++, seq++) {
			len = build_packet(&tx, wire_buf, sizes[i]);
			memcpy(plain_buf, wire_buf, len);
			pktc_seal(&tx, seq, wire_buf, len, tag);
			if (memcmp(wire_buf + 5, plain_buf + 5, len - 5) == 0)
				why = "packet not encrypted";
			else if (pktc_get_length(&rx, seq, wire_buf) != len - 4)
				why = "wrong length read";
			else if (pktc_open(&rx, seq, wire_buf, len, tag) != 0)
				why = "authentic packet refused";
			else if (memcmp(wire_buf, plain_buf, len) != 0)
				why = "opened packet differs";
		}
		pktc_wipe(&tx);
		pktc_wipe(&rx);
	}
	return why;
}

/* Receive a copy of wire_buf/tag with rx restored to saved; 0 if accepted. */
static int
try_open(struct pktc *rx, const struct pktc *saved, uint32_t seq,
    size_t len, const uint8_t *tag, size_t flip)
{
	uint8_t t[PKTC_MAX_TAG];
	size_t tlen = pktc_tag_len(saved);
	int r;

	*rx = *saved;
	memcpy(work_buf, wire_buf, len);
	memcpy(t, tag, tlen);
	if (flip < len)
		work_buf[flip] ^= (uint8_t)(1u << (flip % 8));
	else if (flip < len + tlen)
		t[flip - len] ^= (uint8_t)(0x80u >> (flip % 8));
	pktc_get_length(rx, seq, work_buf);
	r = pktc_open(rx, seq, work_buf, len, t);
	if (r != 0)
		return all_zero(work_buf, len) ? -1 : -2;
	return 0;
}

/* Why a try_open() result is not the clean refusal expected. */
static const char *
refusal(int r, const char *accepted)
{
	if (r == 0)
		return accepted;
	if (r != -1)
		return "a refused packet was not wiped";
	return NULL;
}

/*
 * After a few packets, flip one bit of each byte of a packet and of its
 * tag in turn: every one must be refused, and the untouched packet must
 * still open from the same state.
 */
static const char *
tamper(const struct combo *cb, const struct variant *v)
{
	uint8_t tag[PKTC_MAX_TAG];
	struct pktc tx, rx, saved;
	const char *why = NULL;
	size_t i, len;
	uint32_t seq;

	if (combo_pair(&tx, &rx, cb, v) != 0)
		return "pktc_init failed";
	for (seq = 100; seq < 103; seq++) {
		len = build_packet(&tx, wire_buf, 20 + seq);
		pktc_seal(&tx, seq, wire_buf, len, tag);
		pktc_get_length(&rx, seq, wire_buf);
		if (pktc_open(&rx, seq, wire_buf, len, tag) != 0)
			why = "authentic packet refused";
	}
	len = build_packet(&tx, wire_buf, 37);
	memcpy(plain_buf, wire_buf, len);
	pktc_seal(&tx, seq, wire_buf, len, tag);
	saved = rx;
	for (i = 0; why == NULL && i < len + pktc_tag_len(&tx); i++)
		why = refusal(try_open(&rx, &saved, seq, len, tag, i),
		    "a tampered packet was accepted");
	if (why == NULL && (try_open(&rx, &saved, seq, len, tag, SIZE_MAX) != 0
	    || memcmp(work_buf, plain_buf, len) != 0))
		why = "the untouched packet no longer opens";
	pktc_wipe(&tx);
	pktc_wipe(&rx);
	pktc_wipe(&saved);
	return why;
}

/*
 * A receiver at the wrong sequence number must refuse the packet.  GCM
 * does not take seq: its nonce is the invocation counter, so there the
 * receiver's counter is put one packet ahead instead.
 */
static const char *
wrong_seq(const struct combo *cb, const struct variant *v)
{
	uint8_t tag[PKTC_MAX_TAG];
	struct pktc tx, rx, saved;
	const char *why = NULL;
	size_t len;
	uint32_t seq = 5;

	if (combo_pair(&tx, &rx, cb, v) != 0)
		return "pktc_init failed";
	len = build_packet(&tx, wire_buf, 50);
	pktc_seal(&tx, seq, wire_buf, len, tag);
	saved = rx;
	if (cb->cipher->id == CIPHER_AES_GCM) {
		gcm_next_iv(&saved);
		why = refusal(try_open(&rx, &saved, seq, len, tag, SIZE_MAX),
		    "accepted with the invocation counter ahead");
	} else {
		why = refusal(try_open(&rx, &saved, seq + 1, len, tag,
		    SIZE_MAX), "accepted at seq + 1");
		if (why == NULL)
			why = refusal(try_open(&rx, &saved, seq - 1, len, tag,
			    SIZE_MAX), "accepted at seq - 1");
	}
	pktc_wipe(&tx);
	pktc_wipe(&rx);
	pktc_wipe(&saved);
	return why;
}

/* Two packets delivered in the wrong order must be refused. */
static const char *
reorder(const struct combo *cb, const struct variant *v)
{
	uint8_t tag1[PKTC_MAX_TAG], tag2[PKTC_MAX_TAG], first[256];
	struct pktc tx, rx, saved;
	const char *why = NULL;
	size_t len1, len2;

	if (combo_pair(&tx, &rx, cb, v) != 0)
		return "pktc_init failed";
	len1 = build_packet(&tx, first, 60);
	pktc_seal(&tx, 9, first, len1, tag1);
	len2 = build_packet(&tx, wire_buf, 60);
	pktc_seal(&tx, 10, wire_buf, len2, tag2);
	saved = rx;
	why = refusal(try_open(&rx, &saved, 9, len2, tag2, SIZE_MAX),
	    "second packet accepted first");
	rx = saved;
	pktc_get_length(&rx, 9, first);
	if (why == NULL && pktc_open(&rx, 9, first, len1, tag1) != 0)
		why = "first packet refused";
	pktc_get_length(&rx, 10, wire_buf);
	if (why == NULL && pktc_open(&rx, 10, wire_buf, len2, tag2) != 0)
		why = "second packet refused in order";
	pktc_wipe(&tx);
	pktc_wipe(&rx);
	pktc_wipe(&saved);
	return why;
}

/*
 * The packet layer stages keys in one struct pktc and activates them by
 * assignment, wiping the staged copy: the active copy must not depend
 * on the old one (GCM's context points into its own structure).
 */
static const char *
moved(const struct combo *cb, const struct variant *v)
{
	uint8_t tag[PKTC_MAX_TAG];
	struct pktc next_tx, next_rx, tx, rx;
	const char *why = NULL;
	size_t len;
	uint32_t seq;

	if (combo_pair(&next_tx, &next_rx, cb, v) != 0)
		return "pktc_init failed";
	tx = next_tx;
	rx = next_rx;
	pktc_wipe(&next_tx);
	pktc_wipe(&next_rx);
	for (seq = 0; why == NULL && seq < 3; seq++) {
		len = build_packet(&tx, wire_buf, 100);
		memcpy(plain_buf, wire_buf, len);
		pktc_seal(&tx, seq, wire_buf, len, tag);
		if (pktc_get_length(&rx, seq, wire_buf) != len - 4 ||
		    pktc_open(&rx, seq, wire_buf, len, tag) != 0 ||
		    memcmp(wire_buf, plain_buf, len) != 0)
			why = "copied state does not work";
	}
	pktc_wipe(&tx);
	pktc_wipe(&rx);
	return why;
}

/*
 * Keys installed, a few packets each way, then pktc_wipe(): both states
 * are all zero, and no 16 bytes of the key, the IV or the MAC key are
 * left on the stack below (key schedules are computed in locals).
 */
static const char *
teardown(const struct combo *cb, const struct variant *v)
{
	static uint8_t key[PKTC_MAX_KEY], iv[PKTC_MAX_IV], mac_key[PKTC_MAX_KEY];
	uint8_t tag[PKTC_MAX_TAG];
	struct pktc tx, rx;
	const char *why = NULL;
	size_t len;
	uint32_t seq;
	int left;

	rnd_fill(key, sizeof key);
	rnd_fill(iv, sizeof iv);
	rnd_fill(mac_key, sizeof mac_key);
	if (pair_init(&tx, &rx, cb->cipher, cb->mac, v, key, iv, mac_key) != 0)
		return "pktc_init failed";
	for (seq = 0; why == NULL && seq < 3; seq++) {
		len = build_packet(&tx, wire_buf, 100 + seq);
		pktc_seal(&tx, seq, wire_buf, len, tag);
		if (pktc_get_length(&rx, seq, wire_buf) != len - 4 ||
		    pktc_open(&rx, seq, wire_buf, len, tag) != 0)
			why = "authentic packet refused";
	}
	pktc_wipe(&tx);
	pktc_wipe(&rx);
	left = residue_stack(key, cb->cipher->key_len) ||
	    (cb->cipher->iv_len > 0 && residue_stack(iv, cb->cipher->iv_len)) ||
	    (cb->mac != NULL && residue_stack(mac_key, cb->mac->key_len));
	if (why == NULL && (!all_zero((const uint8_t *)&tx, sizeof tx) ||
	    !all_zero((const uint8_t *)&rx, sizeof rx)))
		why = "pktc_wipe left state";
	if (why == NULL && left)
		why = "key material left on the stack";
	return why;
}

static void
test_teardown(void)
{
	struct combo cb[32];
	size_t i, n, v;

	report(residue_selftest() == 0 ? NULL : "a planted secret was not "
	    "found", "residue search sees what is left behind (control)");
	n = all_combos(cb, sizeof cb / sizeof cb[0]);
	for (v = 0; v < NVARIANTS; v++)
		for (i = 0; i < n; i++)
			report(teardown(&cb[i], &variants[v]),
			    "teardown leaves no key material %s (%s)",
			    cb[i].name, variants[v].name);
}

static void
test_combos(void)
{
	struct combo cb[32];
	size_t i, n, v;

	n = all_combos(cb, sizeof cb / sizeof cb[0]);
	report(n == 15 ? NULL : "expected 3 AEAD + 2 x 6 CTR combinations",
	    "every cipher and MAC combination is covered");
	for (v = 0; v < NVARIANTS; v++) {
		for (i = 0; i < n; i++) {
			report(roundtrip(&cb[i], &variants[v]),
			    "round trip %s (%s)", cb[i].name, variants[v].name);
			report(tamper(&cb[i], &variants[v]),
			    "tampering refused %s (%s)", cb[i].name,
			    variants[v].name);
			report(wrong_seq(&cb[i], &variants[v]),
			    "wrong seq refused %s (%s)", cb[i].name,
			    variants[v].name);
			report(reorder(&cb[i], &variants[v]),
			    "reordering refused %s (%s)", cb[i].name,
			    variants[v].name);
			report(moved(&cb[i], &variants[v]),
			    "state moved by assignment %s (%s)", cb[i].name,
			    variants[v].name);
		}
	}
}

/*
 * --speed: seal and open 32 KiB packets for about a quarter of a second
 * per combination.  A measurement, not a test.
 */
static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static unsigned long long
mb_per_s(uint64_t bytes, uint64_t ns)
{
	return ns == 0 ? 0 : (unsigned long long)(bytes * 1000 / ns);
}

static void
speed_one(const struct combo *cb, const struct variant *v)
{
	uint8_t tag[PKTC_MAX_TAG];
	struct pktc tx, rx;
	uint64_t t0, t1, t2, seal_ns = 0, open_ns = 0, bytes = 0;
	uint32_t seq = 0;
	size_t len;

	if (combo_pair(&tx, &rx, cb, v) != 0)
		return;
	len = build_packet(&tx, wire_buf, PAYLOAD_MAX);
	while (seal_ns + open_ns < 250000000u) {
		t0 = now_ns();
		pktc_seal(&tx, seq, wire_buf, len, tag);
		t1 = now_ns();
		pktc_get_length(&rx, seq, wire_buf);
		if (pktc_open(&rx, seq, wire_buf, len, tag) != 0) {
			printf("%s: refused its own packet\n", cb->name);
			failures++;
			break;
		}
		t2 = now_ns();
		seal_ns += t1 - t0;
		open_ns += t2 - t1;
		bytes += len;
		seq++;
	}
	printf("%-44s %-8s seal %5llu  open %5llu  seal+open %5llu MB/s\n",
	    cb->name, v->name, mb_per_s(bytes, seal_ns),
	    mb_per_s(bytes, open_ns), mb_per_s(bytes, seal_ns + open_ns));
	pktc_wipe(&tx);
	pktc_wipe(&rx);
}

static int
speed(void)
{
	struct combo cb[32];
	size_t i, n, v;

	printf("selected: aes %s, ghash %s, chacha20 %s\n",
	    br_aes_x86ni_ctr_get_vtable() != NULL ? "x86ni" : "portable",
	    br_ghash_pclmul_get() != 0 ? "pclmul" : "portable",
	    "mbedtls");
	n = all_combos(cb, sizeof cb / sizeof cb[0]);
	for (v = 0; v < NVARIANTS; v++)
		for (i = 0; i < n; i++)
			speed_one(&cb[i], &variants[v]);
	return failures != 0;
}

int
main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--speed") == 0)
		return speed();
	if (argc != 1) {
		fprintf(stderr, "usage: unit_cipher [--speed]\n");
		return 2;
	}
	test_tables();
	test_init_rules();
	test_chacha20();
	test_poly1305();
	test_gcm();
	test_hmac();
	test_ctr_sp800_38a();
	test_ctr_carry();
	test_kats();
	test_combos();
	test_teardown();
	return failures != 0;
}
