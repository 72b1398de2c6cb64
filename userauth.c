/*
 * userauth.c - SSH user authentication (RFC 4252): public keys from
 * files.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "ssh_conn.h"
#include "sshkey.h"

#define SSH_MSG_SERVICE_REQUEST 5
#define SSH_MSG_USERAUTH_REQUEST 50
#define SSH_MSG_USERAUTH_FAILURE 51
#define SSH_MSG_USERAUTH_SUCCESS 52
#define SSH_MSG_USERAUTH_BANNER 53
#define SSH_MSG_USERAUTH_PK_OK 60

/* Default identities, in the order ssh tries them. */
static const char *const default_identities[] = {
	"~/.ssh/id_ed25519",
};

enum auth_reply { AUTH_WAITING, AUTH_OK, AUTH_REFUSED };

static int send_service_request(struct ssh_conn *c)
{
	struct buf b;

	if (ssh_pkt_begin(c, &b, SSH_MSG_SERVICE_REQUEST) != 0)
		return -1;
	buf_put_cstring(&b, "ssh-userauth");
	return ssh_pkt_send(c, &b);
}

/* The fields shared by the signed data and the request itself. */
static int put_pubkey_request(struct ssh_conn *c, struct buf *b,
    const struct sshkey *k, const char *alg)
{
	buf_put_u8(b, SSH_MSG_USERAUTH_REQUEST);
	buf_put_cstring(b, c->user);
	buf_put_cstring(b, "ssh-connection");
	buf_put_cstring(b, "publickey");
	buf_put_bool(b, 1);
	buf_put_cstring(b, alg);
	return buf_put_string(b, k->blob, k->blob_len);
}

static int send_pubkey_auth(struct ssh_conn *c, const struct sshkey *k,
    const char *alg)
{
	uint8_t tbs[KEX_MAX_HASH + 4 + 1024 + SSHKEY_MAX_BLOB];
	uint8_t sigmem[SSHKEY_MAX_SIG + 64];
	struct buf signed_data, sig, b;
	int rc = -1;

	buf_init(&signed_data, tbs, sizeof tbs);
	buf_put_string(&signed_data, c->session_id, c->session_id_len);
	if (put_pubkey_request(c, &signed_data, k, alg) != 0)
		return ssh_fail(c, "user name too long");
	buf_init(&sig, sigmem, sizeof sigmem);
	if (sshkey_sign(k, alg, tbs, signed_data.len, &sig) != 0) {
		ssh_fail(c, "signing with the %s key failed", alg);
		goto out;
	}
	/* The request is the signed data minus the session id, plus sig. */
	if (ssh_pkt_begin(c, &b, SSH_MSG_USERAUTH_REQUEST) != 0)
		goto out;
	b.len = 0;
	put_pubkey_request(c, &b, k, alg);
	if (buf_put_string(&b, sig.data, sig.len) != 0) {
		ssh_fail(c, "signature too large");
		goto out;
	}
	rc = ssh_pkt_send(c, &b);
out:
	wipe(tbs, sizeof tbs);
	wipe(sigmem, sizeof sigmem);
	return rc;
}

static int try_key(struct ssh_conn *c, const struct sshkey *k)
{
	char note[320];

	snprintf(note, sizeof note, "offering %s key %s",
	    sshkey_type_name(k), k->comment);
	ssh_debug(c, note);
	c->auth_state = AUTH_WAITING;
	if (send_pubkey_auth(c, k, sshkey_type_name(k)) != 0)
		return -1;
	c->auth_replied = 0;
	while (c->auth_state == AUTH_WAITING)
		if (ssh_wait(c, &c->auth_replied) != 0)
			return -1;
	return c->auth_state == AUTH_OK ? 1 : 0;
}

/* 1 authenticated, 0 refused or unusable, -1 fatal. */
static int try_identity_file(struct ssh_conn *c, const char *name,
    int explicit)
{
	char path[SSH_PATH_MAX], err[256];
	struct sshkey key, *k = &key;
	struct stat st;
	int r;

	ssh_expand_tokens(c->opts, name, path, sizeof path);
	if (stat(path, &st) != 0) {
		if (explicit)
			fprintf(stderr, "remowt: identity file %s: %s\n", path,
			    strerror(errno));
		return 0;
	}
	if (sshkey_load_private(k, path, err, sizeof err) != 0) {
		fprintf(stderr, "remowt: identity file %s: %s\n", path, err);
		sshkey_wipe(k);
		return 0;
	}
	r = try_key(c, k);
	sshkey_wipe(k);
	return r;
}

int ssh_userauth(struct ssh_conn *c)
{
	size_t i;
	int r = 0;

	/* The service request is pipelined with the first attempt. */
	if (send_service_request(c) != 0)
		return -1;
	if (c->opts->n_identity > 0) {
		for (i = 0; r == 0 && i < (size_t)c->opts->n_identity; i++)
			r = try_identity_file(c, c->opts->identity[i], 1);
	} else {
		for (i = 0; r == 0 && i < sizeof default_identities /
		    sizeof default_identities[0]; i++)
			r = try_identity_file(c, default_identities[i], 0);
	}
	if (r < 0)
		return -1;
	if (r == 0)
		return ssh_fail(c, "permission denied for user %s (the server "
		    "allows: %s); check the key given with -i and the "
		    "server's authorized_keys", c->user,
		    c->auth_methods[0] ? c->auth_methods : "publickey");
	c->authenticated = 1;
	ssh_debug(c, "authenticated");
	return 0;
}

static int recv_banner(struct ssh_conn *c, struct buf *msg)
{
	const uint8_t *text;
	size_t n;
	char shown[4096];

	if (buf_skip(msg, 1) || buf_get_string(msg, &text, &n))
		return ssh_fail(c, "protocol error: malformed banner");
	if (!c->opts->quiet) {
		ssh_sanitize(shown, sizeof shown, text, n);
		fputs(shown, stderr);
	}
	return 0;
}

int ssh_auth_dispatch(struct ssh_conn *c, struct buf *msg)
{
	int partial;

	switch (msg->data[0]) {
	case SSH_MSG_USERAUTH_BANNER:
		return recv_banner(c, msg);
	case SSH_MSG_USERAUTH_SUCCESS:
		c->auth_state = AUTH_OK;
		c->auth_replied = 1;
		return 0;
	case SSH_MSG_USERAUTH_FAILURE:
		if (buf_skip(msg, 1) || buf_get_cstring(msg, c->auth_methods,
		    sizeof c->auth_methods) || buf_get_bool(msg, &partial))
			return ssh_fail(c, "protocol error: malformed "
			    "USERAUTH_FAILURE");
		c->auth_state = AUTH_REFUSED;
		c->auth_replied = 1;
		return 0;
	case SSH_MSG_USERAUTH_PK_OK:
		return 0;
	}
	return ssh_fail(c, "protocol error: unexpected message %u",
	    msg->data[0]);
}
