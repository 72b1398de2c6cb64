/*
 * sshkey.h - SSH public key blobs, signatures, fingerprints and private
 * key files.
 */
#ifndef REMOWT_SSHKEY_H
#define REMOWT_SSHKEY_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define SSHKEY_MAX_BLOB 1100   /* RSA up to 8192 bits */
#define SSHKEY_MAX_SIG 1100
#define SSHKEY_FP_LEN 64       /* "SHA256:" + 43 base64 chars + NUL */
#define SSHKEY_RSA_PART_MAX 512 /* p, q and CRT parts of 8192-bit keys */

/* Results of sshkey_load_private_pp(), besides 0. */
#define SSHKEY_ERR (-1)
#define SSHKEY_NEED_PASSPHRASE (-2)
#define SSHKEY_BAD_PASSPHRASE (-3)

/* Signature algorithms for host keys and user keys: the default set,
 * and everything remowt can verify or sign with. */
#define SSHKEY_DEFAULT_ALGS \
	"ssh-ed25519,ecdsa-sha2-nistp256,rsa-sha2-512,rsa-sha2-256"
#define SSHKEY_ALL_ALGS SSHKEY_DEFAULT_ALGS ",ssh-rsa"

enum sshkey_type {
	KEY_UNKNOWN = 0,
	KEY_ED25519,
	KEY_ECDSA_P256,
	KEY_RSA,
};

struct sshkey {
	enum sshkey_type type;
	uint8_t blob[SSHKEY_MAX_BLOB];   /* public key in wire format */
	size_t blob_len;
	/* Public parts, decoded. */
	uint8_t ed25519_pk[32];
	uint8_t ec_q[65];                /* uncompressed point 04|X|Y */
	uint8_t rsa_n[1025];
	size_t rsa_n_len;
	uint8_t rsa_e[16];
	size_t rsa_e_len;
	/* Private parts, only when has_private is set. */
	int has_private;
	uint8_t ed25519_seed[32];
	uint8_t ec_d[32];                /* P-256 scalar, big-endian */
	/* RSA in CRT form, big-endian without leading zeros. */
	uint8_t rsa_p[SSHKEY_RSA_PART_MAX];
	size_t rsa_p_len;
	uint8_t rsa_q[SSHKEY_RSA_PART_MAX];
	size_t rsa_q_len;
	uint8_t rsa_dp[SSHKEY_RSA_PART_MAX];    /* d mod (p - 1) */
	size_t rsa_dp_len;
	uint8_t rsa_dq[SSHKEY_RSA_PART_MAX];    /* d mod (q - 1) */
	size_t rsa_dq_len;
	uint8_t rsa_iq[SSHKEY_RSA_PART_MAX];    /* q^-1 mod p */
	size_t rsa_iq_len;
	char comment[256];
};

/* Parse a public key blob (string keytype, ...); -1 if malformed or of
 * an unsupported type. */
int sshkey_from_blob(struct sshkey *k, const uint8_t *blob, size_t len);
/* "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa". */
const char *sshkey_type_name(const struct sshkey *k);
/* The key's type from its blob type name, KEY_UNKNOWN if unsupported. */
enum sshkey_type sshkey_type_from_name(const char *name);
/* Does host key algorithm alg (ssh-ed25519, ecdsa-sha2-nistp256,
 * rsa-sha2-256, rsa-sha2-512, ssh-rsa) use keys of type t? */
int sshkey_alg_matches(const char *alg, enum sshkey_type t);

/* Verify an SSH signature blob (string sigalg, string sig) over data.
 * alg is the algorithm that was negotiated or requested: the blob's
 * sigalg must equal it.  0 if valid, -1 otherwise. */
int sshkey_verify(const struct sshkey *k, const char *alg,
    const uint8_t *sig, size_t siglen, const uint8_t *data, size_t dlen);
/* Sign data with a private key as algorithm alg, appending the SSH
 * signature blob (string sigalg, string sig) to out.  ECDSA nonces are
 * derived as in RFC 6979; RSA signatures are checked before use.  0 on
 * success, -1 on error (out unchanged). */
int sshkey_sign(const struct sshkey *k, const char *alg,
    const uint8_t *data, size_t dlen, struct buf *out);

/* "SHA256:<unpadded base64>" */
void sshkey_fingerprint(const struct sshkey *k, char out[SSHKEY_FP_LEN]);
/* Parse "type base64 [comment]" (an authorized_keys/.pub line). */
int sshkey_parse_public(struct sshkey *k, const char *line);

/*
 * Load a private key file: openssh-key-v1, clear or protected by a
 * passphrase (bcrypt KDF; aes128/192/256-ctr, -cbc, aes128/256-gcm),
 * or unencrypted PEM: PKCS#1 RSA, SEC1 EC P-256, PKCS#8 RSA, EC P-256
 * or Ed25519.  The file must not be readable by group or others.
 * passphrase may be NULL.  Returns 0, or with a one-line reason in err:
 *   SSHKEY_NEED_PASSPHRASE  the key is encrypted and passphrase is NULL;
 *   SSHKEY_BAD_PASSPHRASE   the passphrase does not decrypt it
 *                           ("incorrect passphrase");
 *   SSHKEY_ERR              anything else, encrypted PEM included.
 * On the two passphrase results k holds the public key, which such
 * files keep in the clear (no comment, has_private 0); on SSHKEY_ERR k
 * is zeroed.
 */
int sshkey_load_private_pp(struct sshkey *k, const char *path,
    const char *passphrase, char *err, size_t errlen);
/* sshkey_load_private_pp() without a passphrase, any failure being -1
 * and k zeroed ("passphrase-protected key ..." for an encrypted one). */
int sshkey_load_private(struct sshkey *k, const char *path, char *err,
    size_t errlen);
/* Zero every secret held in k. */
void sshkey_wipe(struct sshkey *k);

/* Base64 (RFC 4648, standard alphabet).  encode: returns the output
 * length (NUL written), pad selects '=' padding; 0 and an empty string
 * if out is too small.  decode: returns the decoded length or -1 on bad
 * input or if out is too small; padding is optional, whitespace is not
 * accepted. */
size_t base64_encode(char *out, size_t outsz, const uint8_t *in, size_t len,
    int pad);
long base64_decode(uint8_t *out, size_t outsz, const char *in, size_t len);

#endif
