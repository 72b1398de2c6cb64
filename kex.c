/*
 * kex.c - SSH key exchange: ephemeral Diffie-Hellman and key derivation.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>

#include <mbedtls/bignum.h>

#include "buf.h"
#include "kex.h"

static const struct kex_alg kex_table[] = {
	{ "curve25519-sha256", KEX_CURVE25519, &br_sha256_vtable, 0 },
	{ "curve25519-sha256@libssh.org", KEX_CURVE25519, &br_sha256_vtable, 0 },
	{ "ecdh-sha2-nistp256", KEX_NISTP256, &br_sha256_vtable, 0 },
	{ "diffie-hellman-group14-sha256", KEX_DH_GROUP14, &br_sha256_vtable, 0 },
	{ "diffie-hellman-group14-sha1", KEX_DH_GROUP14, &br_sha1_vtable, 1 },
};

const char kex_default_list[] =
    "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,"
    "diffie-hellman-group14-sha256";
const char kex_all_list[] =
    "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,"
    "diffie-hellman-group14-sha256,diffie-hellman-group14-sha1";

/* RFC 3526 group 14: the 2048-bit MODP prime; the generator is 2. */
static const char group14_p_hex[] =
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1"
    "29024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245"
    "E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3D"
    "C2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D"
    "670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9"
    "DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
    "15728E5A8AACAA68FFFFFFFFFFFFFFFF";

#define DH_PRIV_BYTES 64      /* 512-bit exponent: > 2x the group's strength */

const struct kex_alg *kex_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof kex_table / sizeof kex_table[0]; i++)
		if (strcmp(kex_table[i].name, name) == 0)
			return &kex_table[i];
	return NULL;
}

int random_bytes(void *p, size_t n)
{
	uint8_t *q = p;
	ssize_t r;
	int fd;

	while (n > 0) {
		r = getrandom(q, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		q += r;
		n -= (size_t)r;
	}
	if (n == 0)
		return 0;
	/* Kernels before 3.17 have no getrandom(). */
	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (n > 0) {
		r = read(fd, q, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			close(fd);
			return -1;
		}
		q += r;
		n -= (size_t)r;
	}
	close(fd);
	return 0;
}

static int curve25519_start(struct kex_state *k)
{
	const br_ec_impl *ec = br_ec_get_default();

	k->priv_len = 32;
	if (random_bytes(k->priv, k->priv_len) != 0)
		return -1;
	k->pub_len = ec->mulgen(k->pub, k->priv, k->priv_len, BR_EC_curve25519);
	return k->pub_len == 32 ? 0 : -1;
}

static int curve25519_finish(struct kex_state *k, const uint8_t *peer,
    size_t peer_len, uint8_t *secret, size_t *secret_len)
{
	const br_ec_impl *ec = br_ec_get_default();
	uint8_t zero = 0;
	size_t i;

	if (peer_len != 32)
		return -1;
	memcpy(secret, peer, 32);
	if (ec->mul(secret, 32, k->priv, k->priv_len, BR_EC_curve25519) != 1) {
		wipe(secret, 32);
		return -1;
	}
	/* A low-order peer point gives an all-zero secret (RFC 7748 6.1). */
	for (i = 0; i < 32; i++)
		zero |= secret[i];
	if (zero == 0)
		return -1;
	*secret_len = 32;
	return 0;
}

/* A scalar uniformly in [1, n-1] by rejection sampling. */
static int p256_random_scalar(uint8_t x[32])
{
	const br_ec_impl *ec = br_ec_get_default();
	const uint8_t *order;
	size_t olen, i;
	int tries;

	order = ec->order(BR_EC_secp256r1, &olen);
	for (tries = 0; tries < 64; tries++) {
		uint8_t nz = 0;
		int lt = 0, decided = 0;

		if (random_bytes(x, 32) != 0)
			return -1;
		for (i = 0; i < 32; i++) {
			nz |= x[i];
			if (!decided && x[i] != order[i]) {
				lt = x[i] < order[i];
				decided = 1;
			}
		}
		if (nz != 0 && lt)
			return 0;
	}
	return -1;
}

static int nistp256_start(struct kex_state *k)
{
	const br_ec_impl *ec = br_ec_get_default();

	k->priv_len = 32;
	if (p256_random_scalar(k->priv) != 0)
		return -1;
	k->pub_len = ec->mulgen(k->pub, k->priv, k->priv_len, BR_EC_secp256r1);
	return k->pub_len == 65 ? 0 : -1;
}

static int nistp256_finish(struct kex_state *k, const uint8_t *peer,
    size_t peer_len, uint8_t *secret, size_t *secret_len)
{
	const br_ec_impl *ec = br_ec_get_default();
	uint8_t point[65];
	int ok;

	if (peer_len != 65 || peer[0] != 0x04)
		return -1;
	memcpy(point, peer, 65);
	/* mul() decodes the point and fails if it is not on the curve. */
	ok = ec->mul(point, 65, k->priv, k->priv_len, BR_EC_secp256r1) == 1;
	if (ok) {
		memcpy(secret, point + 1, 32);
		*secret_len = 32;
	}
	wipe(point, sizeof point);
	return ok ? 0 : -1;
}

static int dh_load_prime(mbedtls_mpi *p)
{
	return mbedtls_mpi_read_string(p, 16, group14_p_hex);
}

static int dh_start(struct kex_state *k)
{
	mbedtls_mpi p, g, x, e;
	int rc = -1;

	mbedtls_mpi_init(&p);
	mbedtls_mpi_init(&g);
	mbedtls_mpi_init(&x);
	mbedtls_mpi_init(&e);
	k->priv_len = DH_PRIV_BYTES;
	if (random_bytes(k->priv, k->priv_len) != 0)
		goto out;
	k->priv[0] |= 0x80;       /* a full-size exponent, never 0 or 1 */
	if (dh_load_prime(&p) != 0 || mbedtls_mpi_lset(&g, 2) != 0 ||
	    mbedtls_mpi_read_binary(&x, k->priv, k->priv_len) != 0 ||
	    mbedtls_mpi_exp_mod(&e, &g, &x, &p, NULL) != 0)
		goto out;
	k->pub_len = mbedtls_mpi_size(&e);
	if (k->pub_len > sizeof k->pub ||
	    mbedtls_mpi_write_binary(&e, k->pub, k->pub_len) != 0)
		goto out;
	rc = 0;
out:
	mbedtls_mpi_free(&p);
	mbedtls_mpi_free(&g);
	mbedtls_mpi_free(&x);
	mbedtls_mpi_free(&e);
	return rc;
}

static int dh_finish(struct kex_state *k, const uint8_t *peer, size_t peer_len,
    uint8_t *secret, size_t *secret_len)
{
	mbedtls_mpi p, f, x, kk, pm1;
	int rc = -1;

	mbedtls_mpi_init(&p);
	mbedtls_mpi_init(&f);
	mbedtls_mpi_init(&x);
	mbedtls_mpi_init(&kk);
	mbedtls_mpi_init(&pm1);
	if (dh_load_prime(&p) != 0 ||
	    mbedtls_mpi_read_binary(&f, peer, peer_len) != 0 ||
	    mbedtls_mpi_sub_int(&pm1, &p, 1) != 0)
		goto out;
	/* RFC 4253 8: f must lie in [2, p-2]; 1 and p-1 leak the secret. */
	if (mbedtls_mpi_cmp_int(&f, 1) <= 0 || mbedtls_mpi_cmp_mpi(&f, &pm1) >= 0)
		goto out;
	if (mbedtls_mpi_read_binary(&x, k->priv, k->priv_len) != 0 ||
	    mbedtls_mpi_exp_mod(&kk, &f, &x, &p, NULL) != 0)
		goto out;
	*secret_len = mbedtls_mpi_size(&kk);
	if (*secret_len > KEX_MAX_SECRET ||
	    mbedtls_mpi_write_binary(&kk, secret, *secret_len) != 0)
		goto out;
	rc = 0;
out:
	mbedtls_mpi_free(&p);
	mbedtls_mpi_free(&f);
	mbedtls_mpi_free(&x);
	mbedtls_mpi_free(&kk);
	mbedtls_mpi_free(&pm1);
	return rc;
}

int kex_start(struct kex_state *k, const struct kex_alg *alg)
{
	int r = -1;

	memset(k, 0, sizeof *k);
	k->alg = alg;
	switch (alg->method) {
	case KEX_CURVE25519:
		r = curve25519_start(k);
		break;
	case KEX_NISTP256:
		r = nistp256_start(k);
		break;
	case KEX_DH_GROUP14:
		r = dh_start(k);
		break;
	}
	if (r != 0)
		kex_wipe(k);
	wipe_stack();
	return r;
}

int kex_finish(struct kex_state *k, const uint8_t *peer, size_t peer_len,
    uint8_t *secret, size_t *secret_len)
{
	int r = -1;

	switch (k->alg->method) {
	case KEX_CURVE25519:
		r = curve25519_finish(k, peer, peer_len, secret, secret_len);
		break;
	case KEX_NISTP256:
		r = nistp256_finish(k, peer, peer_len, secret, secret_len);
		break;
	case KEX_DH_GROUP14:
		r = dh_finish(k, peer, peer_len, secret, secret_len);
		break;
	}
	wipe_stack();
	return r;
}

void kex_wipe(struct kex_state *k)
{
	wipe(k->priv, sizeof k->priv);
	k->priv_len = 0;
}

void kex_derive(const br_hash_class *hash, const uint8_t *kmp, size_t kmp_len,
    const uint8_t *h, size_t h_len, char letter, const uint8_t *session_id,
    size_t sid_len, uint8_t *out, size_t need)
{
	br_hash_compat_context ctx;
	uint8_t block[KEX_MAX_HASH];
	size_t hlen = (hash->desc >> BR_HASHDESC_OUT_OFF) & BR_HASHDESC_OUT_MASK;
	size_t have = 0, take;
	uint8_t c = (uint8_t)letter;

	while (have < need) {
		hash->init(&ctx.vtable);
		hash->update(&ctx.vtable, kmp, kmp_len);
		hash->update(&ctx.vtable, h, h_len);
		if (have == 0) {
			hash->update(&ctx.vtable, &c, 1);
			hash->update(&ctx.vtable, session_id, sid_len);
		} else {
			hash->update(&ctx.vtable, out, have);
		}
		hash->out(&ctx.vtable, block);
		take = need - have < hlen ? need - have : hlen;
		memcpy(out + have, block, take);
		have += take;
	}
	wipe(block, sizeof block);
	wipe(&ctx, sizeof ctx);
	wipe_stack();
}
