/*
 * cipher.c - SSH binary packet protection: cipher and MAC tables, sealing
 * and opening of packets.
 */
#include <stdint.h>
#include <string.h>

#include <bearssl.h>
#include <mbedtls/chacha20.h>
#include <mbedtls/poly1305.h>

#include "buf.h"
#include "cipher.h"

/*
 * A cipher's id names its construction; key_len tells AES-128 from
 * AES-256.  A MAC's id names its hash; etm tells the two forms apart.
 */
enum {
	CIPHER_CHACHA_POLY = 1,
	CIPHER_AES_GCM,
	CIPHER_AES_CTR,
};

enum {
	MAC_HMAC_SHA1 = 1,
	MAC_HMAC_SHA256,
	MAC_HMAC_SHA512,
};

#define LEN_FIELD	4	/* the uint32 packet_length */
#define AES_BLOCK	16
#define CHACHA_NONCE	12
#define POLY_KEY	32
#define POLY_TAG	16
#define GCM_IV		12

/* name, key_len, iv_len, block_len, tag_len, aead, length_encrypted, id */
static const struct cipher_alg ciphers[] = {
	{ "chacha20-poly1305@openssh.com", 64, 0, 8, 16, 1, 1,
	    CIPHER_CHACHA_POLY },
	{ "aes128-ctr", 16, 16, 16, 0, 0, 0, CIPHER_AES_CTR },
	{ "aes256-ctr", 32, 16, 16, 0, 0, 0, CIPHER_AES_CTR },
	{ "aes128-gcm@openssh.com", 16, 12, 16, 16, 1, 0, CIPHER_AES_GCM },
	{ "aes256-gcm@openssh.com", 32, 12, 16, 16, 1, 0, CIPHER_AES_GCM },
};

/* name, key_len, tag_len, etm, id */
static const struct mac_alg macs[] = {
	{ "hmac-sha2-256-etm@openssh.com", 32, 32, 1, MAC_HMAC_SHA256 },
	{ "hmac-sha2-512-etm@openssh.com", 64, 64, 1, MAC_HMAC_SHA512 },
	{ "hmac-sha1-etm@openssh.com", 20, 20, 1, MAC_HMAC_SHA1 },
	{ "hmac-sha2-256", 32, 32, 0, MAC_HMAC_SHA256 },
	{ "hmac-sha2-512", 64, 64, 0, MAC_HMAC_SHA512 },
	{ "hmac-sha1", 20, 20, 0, MAC_HMAC_SHA1 },
};

/*
 * The default order is OpenSSH's (chacha20-poly1305, the CTR modes, then
 * GCM), less aes192-ctr which is not supported.  It is static on
 * purpose: it does not depend on the CPU the client happens to run on.
 */
const char cipher_default_list[] =
    "chacha20-poly1305@openssh.com,"
    "aes128-ctr,aes256-ctr,"
    "aes128-gcm@openssh.com,aes256-gcm@openssh.com";
const char cipher_all_list[] =
    "chacha20-poly1305@openssh.com,"
    "aes128-ctr,aes256-ctr,"
    "aes128-gcm@openssh.com,aes256-gcm@openssh.com";

/* SHA-1 is supported for old servers but never offered by default. */
const char mac_default_list[] =
    "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,"
    "hmac-sha2-256,hmac-sha2-512";
const char mac_all_list[] =
    "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,"
    "hmac-sha1-etm@openssh.com,"
    "hmac-sha2-256,hmac-sha2-512,hmac-sha1";

const struct cipher_alg *
cipher_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof ciphers / sizeof ciphers[0]; i++)
		if (strcmp(ciphers[i].name, name) == 0)
			return &ciphers[i];
	return NULL;
}

const struct mac_alg *
mac_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof macs / sizeof macs[0]; i++)
		if (strcmp(macs[i].name, name) == 0)
			return &macs[i];
	return NULL;
}

/*
 * Implementations, chosen at run time.  Without AES-NI the bitsliced
 * constant-time code is used: ct64 where registers are 64 bits wide, ct
 * on the 32-bit CPUs of most routers, where ct64 would be slower.
 */
#if UINTPTR_MAX > 0xFFFFFFFFu
#define AES_CTR_PORTABLE	br_aes_ct64_ctr_vtable
#define AES_CTRCBC_PORTABLE	br_aes_ct64_ctrcbc_vtable
#define GHASH_PORTABLE		br_ghash_ctmul64
#else
#define AES_CTR_PORTABLE	br_aes_ct_ctr_vtable
#define AES_CTRCBC_PORTABLE	br_aes_ct_ctrcbc_vtable
#define GHASH_PORTABLE		br_ghash_ctmul
#endif

static const br_block_ctr_class *
aes_ctr_impl(void)
{
	const br_block_ctr_class *vt;

	vt = br_aes_x86ni_ctr_get_vtable();
	return vt != NULL ? vt : &AES_CTR_PORTABLE;
}

static const br_block_ctrcbc_class *
aes_ctrcbc_impl(void)
{
	const br_block_ctrcbc_class *vt;

	vt = br_aes_x86ni_ctrcbc_get_vtable();
	return vt != NULL ? vt : &AES_CTRCBC_PORTABLE;
}

static br_ghash
ghash_impl(void)
{
	br_ghash gh;

	gh = br_ghash_pclmul_get();
	return gh != 0 ? gh : &GHASH_PORTABLE;
}

/*
 * mbedtls's portable ChaCha20 runs about 1.4 times as fast here as
 * BearSSL's SSE2 code (Debian builds BearSSL with -Os); both are
 * constant time.  Same calling convention as br_chacha20_run.
 */
static uint32_t
chacha20_mbedtls(const void *key, const void *iv, uint32_t cc, void *data,
    size_t len)
{
	mbedtls_chacha20_crypt(key, iv, cc, len, data, data);
	return cc + (uint32_t)((len + 63) / 64);
}

static br_chacha20_run
chacha20_impl(void)
{
	return &chacha20_mbedtls;
}

static const br_hash_class *
mac_hash(const struct mac_alg *mac)
{
	switch (mac->id) {
	case MAC_HMAC_SHA1:
		return &br_sha1_vtable;
	case MAC_HMAC_SHA256:
		return &br_sha256_vtable;
	case MAC_HMAC_SHA512:
		return &br_sha512_vtable;
	}
	return NULL;
}

/*
 * chacha20-poly1305@openssh.com.  OpenSSH runs the original ChaCha20
 * with a 64-bit block counter and the 64-bit big-endian sequence number
 * as nonce.  A packet never reaches 2^32 blocks, so the high counter
 * word stays zero and the RFC 8439 layout (32-bit counter, 96-bit nonce)
 * gives the same stream with the nonce 0^32 || 0^32 || seq.
 */
static void
chacha_nonce(uint8_t nonce[CHACHA_NONCE], uint32_t seq)
{
	memset(nonce, 0, CHACHA_NONCE - 4);
	store_be32(nonce + CHACHA_NONCE - 4, seq);
}

/* Poly1305 over the whole packet as sent, keyed by block 0 of K_2. */
static void
chacha_tag(const struct pktc *c, const uint8_t *nonce, const uint8_t *pkt,
    size_t len, uint8_t tag[POLY_TAG])
{
	uint8_t pk[POLY_KEY];

	memset(pk, 0, sizeof pk);
	c->u.chacha.run(c->u.chacha.k_main, nonce, 0, pk, sizeof pk);
	(void)mbedtls_poly1305_mac(pk, pkt, len, tag);
	wipe(pk, sizeof pk);
}

/* Length with K_1 from block 0, the rest with K_2 from block 1. */
static void
chacha_xor(const struct pktc *c, const uint8_t *nonce, uint8_t *pkt,
    size_t len)
{
	c->u.chacha.run(c->u.chacha.k_len, nonce, 0, pkt, LEN_FIELD);
	c->u.chacha.run(c->u.chacha.k_main, nonce, 1, pkt + LEN_FIELD,
	    len - LEN_FIELD);
}

static void
chacha_seal(struct pktc *c, uint32_t seq, uint8_t *pkt, size_t len,
    uint8_t *tag)
{
	uint8_t nonce[CHACHA_NONCE];

	chacha_nonce(nonce, seq);
	chacha_xor(c, nonce, pkt, len);
	chacha_tag(c, nonce, pkt, len, tag);
}

/* The length is decrypted from a copy: the tag covers its ciphertext. */
static uint32_t
chacha_length(const struct pktc *c, uint32_t seq, const uint8_t *first)
{
	uint8_t nonce[CHACHA_NONCE], len[LEN_FIELD];

	chacha_nonce(nonce, seq);
	memcpy(len, first, sizeof len);
	c->u.chacha.run(c->u.chacha.k_len, nonce, 0, len, sizeof len);
	return load_be32(len);
}

static int
chacha_open(struct pktc *c, uint32_t seq, uint8_t *pkt, size_t len,
    const uint8_t *tag)
{
	uint8_t nonce[CHACHA_NONCE], want[POLY_TAG];

	chacha_nonce(nonce, seq);
	chacha_tag(c, nonce, pkt, len, want);
	if (ct_memcmp(want, tag, sizeof want) != 0)
		return -1;
	chacha_xor(c, nonce, pkt, len);
	return 0;
}

/*
 * AES-GCM as amended by OpenSSH: the length field is the AAD, the rest
 * is encrypted; the last 8 bytes of the IV count invocations.
 */
static void
gcm_bind(struct pktc *c)
{
	if (c->u.gcm.bound == c)
		return;
	br_gcm_init(&c->u.gcm.gcm, &c->u.gcm.aes.vtable, ghash_impl());
	c->u.gcm.bound = c;
}

static void
gcm_start(struct pktc *c, const uint8_t *aad, size_t aad_len)
{
	gcm_bind(c);
	br_gcm_reset(&c->u.gcm.gcm, c->u.gcm.iv, GCM_IV);
	br_gcm_aad_inject(&c->u.gcm.gcm, aad, aad_len);
	br_gcm_flip(&c->u.gcm.gcm);
}

static void
gcm_next_iv(struct pktc *c)
{
	uint8_t *counter = c->u.gcm.iv + 4;

	store_be64(counter, load_be64(counter) + 1);
}

static void
gcm_seal(struct pktc *c, uint8_t *pkt, size_t len, uint8_t *tag)
{
	gcm_start(c, pkt, LEN_FIELD);
	br_gcm_run(&c->u.gcm.gcm, 1, pkt + LEN_FIELD, len - LEN_FIELD);
	br_gcm_get_tag(&c->u.gcm.gcm, tag);
	gcm_next_iv(c);
}

static int
gcm_open(struct pktc *c, uint8_t *pkt, size_t len, const uint8_t *tag)
{
	uint32_t ok;

	gcm_start(c, pkt, LEN_FIELD);
	br_gcm_run(&c->u.gcm.gcm, 0, pkt + LEN_FIELD, len - LEN_FIELD);
	ok = br_gcm_check_tag(&c->u.gcm.gcm, tag);
	gcm_next_iv(c);
	return ok ? 0 : -1;
}

/*
 * AES-CTR (RFC 4344): one 128-bit big-endian counter runs across all the
 * packets of a direction.  SSH packets are whole blocks; a partial tail,
 * never produced by the packet layer, uses up a whole counter value.
 */
static void
ctr_xor(struct pktc *c, uint8_t *data, size_t len)
{
	const br_block_ctrcbc_class *const *vt = &c->u.ctr.aes.vtable;
	size_t whole = len & ~(size_t)(AES_BLOCK - 1);
	uint8_t block[AES_BLOCK];

	if (whole > 0)
		(*vt)->ctr(vt, c->u.ctr.ctr, data, whole);
	if (whole == len)
		return;
	memset(block, 0, sizeof block);
	memcpy(block, data + whole, len - whole);
	(*vt)->ctr(vt, c->u.ctr.ctr, block, sizeof block);
	memcpy(data + whole, block, len - whole);
	wipe(block, sizeof block);
}

/* HMAC over uint32 seq || pkt[0..len). */
static void
mac_compute(const struct pktc *c, uint32_t seq, const uint8_t *pkt,
    size_t len, uint8_t *out)
{
	br_hmac_context hc;
	uint8_t seqbuf[4];

	store_be32(seqbuf, seq);
	br_hmac_init(&hc, &c->mac_kc, 0);
	br_hmac_update(&hc, seqbuf, sizeof seqbuf);
	br_hmac_update(&hc, pkt, len);
	br_hmac_out(&hc, out);
	wipe(&hc, sizeof hc);
}

static int
mac_verify(const struct pktc *c, uint32_t seq, const uint8_t *pkt,
    size_t len, const uint8_t *tag)
{
	uint8_t want[PKTC_MAX_TAG];
	int bad;

	mac_compute(c, seq, pkt, len, want);
	bad = ct_memcmp(want, tag, c->mac->tag_len);
	wipe(want, sizeof want);
	return bad ? -1 : 0;
}

static void
ctr_seal(struct pktc *c, uint32_t seq, uint8_t *pkt, size_t len,
    uint8_t *tag)
{
	if (c->mac->etm) {
		ctr_xor(c, pkt + LEN_FIELD, len - LEN_FIELD);
		mac_compute(c, seq, pkt, len, tag);
	} else {
		mac_compute(c, seq, pkt, len, tag);
		ctr_xor(c, pkt, len);
	}
}

static uint32_t
ctr_length(struct pktc *c, uint8_t *first)
{
	if (!c->mac->etm)
		ctr_xor(c, first, AES_BLOCK);
	return load_be32(first);
}

static int
ctr_open(struct pktc *c, uint32_t seq, uint8_t *pkt, size_t len,
    const uint8_t *tag)
{
	if (c->mac->etm) {
		if (mac_verify(c, seq, pkt, len, tag) != 0)
			return -1;
		ctr_xor(c, pkt + LEN_FIELD, len - LEN_FIELD);
		return 0;
	}
	ctr_xor(c, pkt + AES_BLOCK, len - AES_BLOCK);
	return mac_verify(c, seq, pkt, len, tag);
}

int
pktc_init(struct pktc *c, const struct cipher_alg *cipher,
    const struct mac_alg *mac, const uint8_t *key, const uint8_t *iv,
    const uint8_t *mac_key, int encrypt)
{
	const br_block_ctr_class *ctr_vt;
	const br_block_ctrcbc_class *ctrcbc_vt;

	/* Keystream ciphers: the state is the same in both directions. */
	(void)encrypt;
	memset(c, 0, sizeof *c);
	if (cipher == NULL || (!cipher->aead && mac == NULL))
		return -1;
	if (!cipher->aead && mac_hash(mac) == NULL)
		return -1;
	c->cipher = cipher;
	switch (cipher->id) {
	case CIPHER_CHACHA_POLY:
		/* K_2 (payload) first, then K_1 (length). */
		memcpy(c->u.chacha.k_main, key, sizeof c->u.chacha.k_main);
		memcpy(c->u.chacha.k_len, key + sizeof c->u.chacha.k_main,
		    sizeof c->u.chacha.k_len);
		c->u.chacha.run = chacha20_impl();
		break;
	case CIPHER_AES_GCM:
		ctr_vt = aes_ctr_impl();
		ctr_vt->init(&c->u.gcm.aes.vtable, key, cipher->key_len);
		memcpy(c->u.gcm.iv, iv, GCM_IV);
		gcm_bind(c);
		break;
	case CIPHER_AES_CTR:
		ctrcbc_vt = aes_ctrcbc_impl();
		ctrcbc_vt->init(&c->u.ctr.aes.vtable, key, cipher->key_len);
		memcpy(c->u.ctr.ctr, iv, AES_BLOCK);
		break;
	default:
		c->cipher = NULL;
		return -1;
	}
	if (!cipher->aead) {
		c->mac = mac;
		br_hmac_key_init(&c->mac_kc, mac_hash(mac), mac_key,
		    mac->key_len);
	}
	/* The AES key schedule was computed in locals. */
	wipe_stack();
	return 0;
}

void
pktc_wipe(struct pktc *c)
{
	wipe(c, sizeof *c);
	/* BearSSL's AES code copies the round keys into locals, the first
	 * of which is the key itself. */
	wipe_stack();
}

size_t
pktc_block_len(const struct pktc *c)
{
	return c->cipher->block_len;
}

size_t
pktc_tag_len(const struct pktc *c)
{
	return c->cipher->aead ? c->cipher->tag_len : c->mac->tag_len;
}

int
pktc_length_excluded(const struct pktc *c)
{
	return c->cipher->aead || c->mac->etm;
}

size_t
pktc_first_len(const struct pktc *c)
{
	return pktc_length_excluded(c) ? LEN_FIELD : AES_BLOCK;
}

void
pktc_seal(struct pktc *c, uint32_t seq, uint8_t *pkt, size_t len,
    uint8_t *tag)
{
	switch (c->cipher->id) {
	case CIPHER_CHACHA_POLY:
		chacha_seal(c, seq, pkt, len, tag);
		break;
	case CIPHER_AES_GCM:
		gcm_seal(c, pkt, len, tag);
		break;
	case CIPHER_AES_CTR:
		ctr_seal(c, seq, pkt, len, tag);
		break;
	}
}

uint32_t
pktc_get_length(struct pktc *c, uint32_t seq, uint8_t *first)
{
	switch (c->cipher->id) {
	case CIPHER_CHACHA_POLY:
		return chacha_length(c, seq, first);
	case CIPHER_AES_CTR:
		return ctr_length(c, first);
	}
	return load_be32(first);
}

int
pktc_open(struct pktc *c, uint32_t seq, uint8_t *pkt, size_t len,
    const uint8_t *tag)
{
	int r;

	if (len < pktc_first_len(c)) {
		r = -1;
	} else {
		switch (c->cipher->id) {
		case CIPHER_CHACHA_POLY:
			r = chacha_open(c, seq, pkt, len, tag);
			break;
		case CIPHER_AES_GCM:
			r = gcm_open(c, pkt, len, tag);
			break;
		case CIPHER_AES_CTR:
			r = ctr_open(c, seq, pkt, len, tag);
			break;
		default:
			r = -1;
			break;
		}
	}
	/* GCM and plain CTR decrypt before the verdict is known. */
	if (r != 0)
		wipe(pkt, len);
	return r;
}
