/*
 * kex.h - SSH key exchange: ephemeral Diffie-Hellman and key derivation.
 *
 *   curve25519-sha256, curve25519-sha256@libssh.org   RFC 8731
 *   ecdh-sha2-nistp256                                RFC 5656
 *   diffie-hellman-group14-sha256                     RFC 8268
 *   diffie-hellman-group14-sha1                       RFC 4253 (old routers)
 */
#ifndef REMOWT_KEX_H
#define REMOWT_KEX_H

#include <stddef.h>
#include <stdint.h>

#include <bearssl.h>

#define KEX_MAX_PUB 260       /* a group14 e as a 2048-bit magnitude */
#define KEX_MAX_SECRET 260
#define KEX_MAX_HASH 64

enum kex_method {
	KEX_CURVE25519,
	KEX_NISTP256,
	KEX_DH_GROUP14,
};

struct kex_alg {
	const char *name;
	enum kex_method method;
	const br_hash_class *hash;
	int legacy;                /* SHA-1: off unless asked for */
};

const struct kex_alg *kex_by_name(const char *name);
extern const char kex_default_list[];
extern const char kex_all_list[];

struct kex_state {
	const struct kex_alg *alg;
	uint8_t priv[KEX_MAX_SECRET];
	size_t priv_len;
	/* Our public value: a string (ECDH) or an mpint magnitude (DH). */
	uint8_t pub[KEX_MAX_PUB];
	size_t pub_len;
};

/* Make an ephemeral key pair for alg; on failure no private value is
 * left in k. */
int kex_start(struct kex_state *k, const struct kex_alg *alg);
/*
 * Combine with the server's public value.  The shared secret K is
 * returned as a big-endian magnitude for mpint encoding.  -1 if the
 * peer's value is invalid (off the curve, out of range, or an all-zero
 * X25519 result); secret then holds nothing of K.  The private value
 * stays in k until kex_wipe().
 */
int kex_finish(struct kex_state *k, const uint8_t *peer, size_t peer_len,
    uint8_t *secret, size_t *secret_len);
/* Zero the private value; the public one stays for the exchange hash. */
void kex_wipe(struct kex_state *k);

/*
 * RFC 4253 7.2: out[0..need) = HASH(K || H || letter || session_id),
 * extended with HASH(K || H || out-so-far).  kmp is K already encoded as
 * an mpint (with its length prefix).  Nothing of K or out is left
 * behind but out itself.
 */
void kex_derive(const br_hash_class *hash, const uint8_t *kmp, size_t kmp_len,
    const uint8_t *h, size_t h_len, char letter, const uint8_t *session_id,
    size_t sid_len, uint8_t *out, size_t need);

/* Cryptographically strong random bytes: 0, or -1 if none can be had. */
int random_bytes(void *p, size_t n);

#endif
