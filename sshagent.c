/*
 * sshagent.c - the client side of the ssh-agent protocol
 * (draft-miller-ssh-agent): list keys and ask for signatures.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "sshagent.h"

#define SSH_AGENT_FAILURE 5
#define SSH_AGENTC_REQUEST_IDENTITIES 11
#define SSH_AGENT_IDENTITIES_ANSWER 12
#define SSH_AGENTC_SIGN_REQUEST 13
#define SSH_AGENT_SIGN_RESPONSE 14
#define SSH_AGENT_RSA_SHA2_256 0x02
#define SSH_AGENT_RSA_SHA2_512 0x04

#define AGENT_MAX_MSG (256 * 1024)
#define AGENT_TIMEOUT_MS 30000    /* a confirming agent waits for a human */

static int write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, uint8_t *p, size_t n)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	ssize_t r;

	while (n > 0) {
		if (poll(&pfd, 1, AGENT_TIMEOUT_MS) <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Send req (without length) and read the answer into *reply (malloc'd). */
static int transact(struct sshagent *a, const struct buf *req,
    uint8_t **reply, size_t *reply_len)
{
	uint8_t len[4];
	uint32_t n;

	store_be32(len, (uint32_t)req->len);
	if (write_all(a->fd, len, 4) != 0 ||
	    write_all(a->fd, req->data, req->len) != 0 ||
	    read_all(a->fd, len, 4) != 0)
		return -1;
	n = load_be32(len);
	if (n == 0 || n > AGENT_MAX_MSG) {
		errno = EPROTO;
		return -1;
	}
	*reply = malloc(n);
	if (*reply == NULL)
		return -1;
	if (read_all(a->fd, *reply, n) != 0) {
		free(*reply);
		return -1;
	}
	*reply_len = n;
	return 0;
}

static int list_keys(struct sshagent *a)
{
	uint8_t reqmem[1], *reply;
	struct buf req, r;
	struct sshagent_key *k;
	const uint8_t *blob;
	size_t reply_len, blob_len;
	uint32_t count, i;
	uint8_t type;
	int rc = -1;

	buf_init(&req, reqmem, sizeof reqmem);
	buf_put_u8(&req, SSH_AGENTC_REQUEST_IDENTITIES);
	if (transact(a, &req, &reply, &reply_len) != 0)
		return -1;
	buf_view(&r, reply, reply_len);
	if (buf_get_u8(&r, &type) || type != SSH_AGENT_IDENTITIES_ANSWER ||
	    buf_get_u32(&r, &count))
		goto out;
	for (i = 0; i < count; i++) {
		k = &a->keys[a->nkeys];
		if (buf_get_string(&r, &blob, &blob_len) ||
		    buf_get_cstring(&r, k->comment, sizeof k->comment))
			goto out;
		/* Keys too large for us are skipped, not fatal. */
		if (blob_len > sizeof k->blob || a->nkeys == SSHAGENT_MAX_KEYS)
			continue;
		memcpy(k->blob, blob, blob_len);
		k->blob_len = blob_len;
		a->nkeys++;
	}
	rc = 0;
out:
	free(reply);
	if (rc != 0)
		errno = EPROTO;
	return rc;
}

int sshagent_open(struct sshagent *a, const char *path)
{
	struct sockaddr_un sun;

	memset(a, 0, sizeof *a);
	a->fd = -1;
	if (path == NULL)
		path = getenv("SSH_AUTH_SOCK");
	if (path == NULL || path[0] == '\0') {
		errno = ENOENT;
		return -1;
	}
	if (strlen(path) >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	a->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (a->fd < 0)
		return -1;
	if (connect(a->fd, (struct sockaddr *)&sun, sizeof sun) != 0 ||
	    list_keys(a) != 0) {
		sshagent_close(a);
		return -1;
	}
	return 0;
}

int sshagent_sign(struct sshagent *a, const struct sshagent_key *k,
    const char *alg, const uint8_t *data, size_t len, struct buf *out)
{
	uint8_t *reqmem, *reply;
	struct buf req, r;
	const uint8_t *sig;
	size_t reply_len, sig_len, cap = 64 + k->blob_len + len;
	uint32_t flags = 0;
	uint8_t type;
	int rc = -1;

	if (strcmp(alg, "rsa-sha2-256") == 0)
		flags = SSH_AGENT_RSA_SHA2_256;
	else if (strcmp(alg, "rsa-sha2-512") == 0)
		flags = SSH_AGENT_RSA_SHA2_512;
	reqmem = malloc(cap);
	if (reqmem == NULL)
		return -1;
	buf_init(&req, reqmem, cap);
	buf_put_u8(&req, SSH_AGENTC_SIGN_REQUEST);
	buf_put_string(&req, k->blob, k->blob_len);
	buf_put_string(&req, data, len);
	buf_put_u32(&req, flags);
	if (transact(a, &req, &reply, &reply_len) == 0) {
		buf_view(&r, reply, reply_len);
		if (buf_get_u8(&r, &type) == 0 &&
		    type == SSH_AGENT_SIGN_RESPONSE &&
		    buf_get_string(&r, &sig, &sig_len) == 0 &&
		    buf_put_bytes(out, sig, sig_len) == 0)
			rc = 0;
		free(reply);
	}
	wipe(reqmem, cap);
	free(reqmem);
	return rc;
}

void sshagent_close(struct sshagent *a)
{
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
}
