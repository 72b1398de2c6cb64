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
 * signature blob (string sigalg, string sig) to out. */
int sshkey_sign(const struct sshkey *k, const char *alg,
    const uint8_t *data, size_t dlen, struct buf *out);

/* "SHA256:<unpadded base64>" */
void sshkey_fingerprint(const struct sshkey *k, char out[SSHKEY_FP_LEN]);
/* Parse "type base64 [comment]" (an authorized_keys/.pub line). */
int sshkey_parse_public(struct sshkey *k, const char *line);

/* Load an unencrypted openssh-key-v1 private key file.  On failure
 * returns -1 and writes a one-line reason to err. */
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
