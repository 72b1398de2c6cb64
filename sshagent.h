/*
 * sshagent.h - the client side of the ssh-agent protocol
 * (draft-miller-ssh-agent): list keys and ask for signatures.
 */
#ifndef REMOWT_SSHAGENT_H
#define REMOWT_SSHAGENT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define SSHAGENT_MAX_KEYS 32
#define SSHAGENT_MAX_BLOB 2048

struct sshagent_key {
	uint8_t blob[SSHAGENT_MAX_BLOB];
	size_t blob_len;
	char comment[256];
};

struct sshagent {
	int fd;
	struct sshagent_key keys[SSHAGENT_MAX_KEYS];
	int nkeys;
};

/* Connect to the agent at path (NULL: $SSH_AUTH_SOCK) and list its
 * keys: 0, or -1 if there is no agent or it does not answer (errno set,
 * nothing printed). */
int sshagent_open(struct sshagent *a, const char *path);
/* Ask the agent to sign data with the key as algorithm alg (for RSA
 * keys: rsa-sha2-256 or rsa-sha2-512); appends the signature blob to
 * out.  -1 if the agent refuses or fails. */
int sshagent_sign(struct sshagent *a, const struct sshagent_key *k,
    const char *alg, const uint8_t *data, size_t len, struct buf *out);
void sshagent_close(struct sshagent *a);

#endif
