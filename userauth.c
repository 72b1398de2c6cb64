/*
 * userauth.c - SSH user authentication (RFC 4252, 4256): public keys
 * from files, keyboard-interactive and passwords.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "askpass.h"
#include "buf.h"
#include "ssh_conn.h"
#include "sshkey.h"

#define SSH_MSG_SERVICE_REQUEST 5
#define SSH_MSG_USERAUTH_REQUEST 50
#define SSH_MSG_USERAUTH_FAILURE 51
#define SSH_MSG_USERAUTH_SUCCESS 52
#define SSH_MSG_USERAUTH_BANNER 53
#define SSH_MSG_USERAUTH_PK_OK 60          /* publickey */
#define SSH_MSG_USERAUTH_PASSWD_CHANGEREQ 60   /* password */
#define SSH_MSG_USERAUTH_INFO_REQUEST 60   /* keyboard-interactive */
#define SSH_MSG_USERAUTH_INFO_RESPONSE 61

#define SECRET_MAX 1024
#define KBDINT_MAX_PROMPTS 16
#define DEFAULT_PASSWORD_PROMPTS 3

/* Default identities, in the order ssh tries them. */
static const char *const default_identities[] = {
	"~/.ssh/id_ed25519",
};

enum auth_reply { AUTH_WAITING, AUTH_OK, AUTH_REFUSED };
enum auth_method { M_NONE, M_PUBKEY, M_PASSWORD, M_KBDINT };

static int setting(int v, int dflt)
{
	return v < 0 ? dflt : v;
}

static int send_service_request(struct ssh_conn *c)
{
	struct buf b;

	if (ssh_pkt_begin(c, &b, SSH_MSG_SERVICE_REQUEST) != 0)
		return -1;
	buf_put_cstring(&b, "ssh-userauth");
	return ssh_pkt_send(c, &b);
}

static void put_request_head(struct ssh_conn *c, struct buf *b,
    const char *method)
{
	buf_put_cstring(b, c->user);
	buf_put_cstring(b, "ssh-connection");
	buf_put_cstring(b, method);
}

/* Send what the caller built and wait for the verdict: 1 accepted,
 * 0 refused, -1 fatal. */
static int await_verdict(struct ssh_conn *c, enum auth_method m)
{
	c->auth_method = m;
	c->auth_state = AUTH_WAITING;
	c->auth_replied = 0;
	while (c->auth_state == AUTH_WAITING) {
		c->auth_replied = 0;
		if (ssh_wait(c, &c->auth_replied) != 0)
			return -1;
	}
	return c->auth_state == AUTH_OK ? 1 : 0;
}

/* The fields shared by the signed data and the request itself. */
static int put_pubkey_request(struct ssh_conn *c, struct buf *b,
    const struct sshkey *k, const char *alg)
{
	buf_put_u8(b, SSH_MSG_USERAUTH_REQUEST);
	put_request_head(c, b, "publickey");
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
	if (send_pubkey_auth(c, k, sshkey_type_name(k)) != 0)
		return -1;
	c->tried_pubkey = 1;
	return await_verdict(c, M_PUBKEY);
}

/* 1 authenticated, 0 refused or unusable, -1 fatal. */
static int try_identity_file(struct ssh_conn *c, const char *name,
    int explicit)
{
	char path[SSH_PATH_MAX], err[256];
	struct sshkey key;
	struct stat st;
	int r;

	ssh_expand_tokens(c->opts, name, path, sizeof path);
	if (stat(path, &st) != 0) {
		if (explicit)
			fprintf(stderr, "remowt: identity file %s: %s\n", path,
			    strerror(errno));
		return 0;
	}
	if (sshkey_load_private(&key, path, err, sizeof err) != 0) {
		fprintf(stderr, "remowt: identity file %s: %s\n", path, err);
		sshkey_wipe(&key);
		return 0;
	}
	r = try_key(c, &key);
	sshkey_wipe(&key);
	return r;
}

static int try_identities(struct ssh_conn *c)
{
	int i, n, r = 0;

	if (c->opts->n_identity > 0) {
		for (i = 0; r == 0 && i < c->opts->n_identity; i++)
			r = try_identity_file(c, c->opts->identity[i], 1);
		return r;
	}
	n = (int)(sizeof default_identities / sizeof default_identities[0]);
	for (i = 0; r == 0 && i < n; i++)
		r = try_identity_file(c, default_identities[i], 0);
	return r;
}

/* "none" tells which methods the server takes (and rarely succeeds). */
static int try_none(struct ssh_conn *c)
{
	struct buf b;

	if (ssh_pkt_begin(c, &b, SSH_MSG_USERAUTH_REQUEST) != 0)
		return -1;
	put_request_head(c, &b, "none");
	if (ssh_pkt_send(c, &b) != 0)
		return -1;
	return await_verdict(c, M_NONE);
}

static int try_password(struct ssh_conn *c)
{
	char prompt[512], pw[SECRET_MAX];
	struct buf b;
	int r;

	snprintf(prompt, sizeof prompt, "%s@%s's password: ", c->user,
	    c->opts->hostname);
	if (askpass(prompt, pw, sizeof pw, 0) != 0) {
		wipe(pw, sizeof pw);
		c->no_prompt = 1;
		return 0;
	}
	r = ssh_pkt_begin(c, &b, SSH_MSG_USERAUTH_REQUEST);
	if (r == 0) {
		put_request_head(c, &b, "password");
		buf_put_bool(&b, 0);
		if (buf_put_cstring(&b, pw) != 0)
			r = ssh_fail(c, "password too long");
		else
			r = ssh_pkt_send(c, &b);   /* encrypts in place */
	}
	wipe(pw, sizeof pw);
	if (r != 0)
		return -1;
	c->tried_password = 1;
	r = await_verdict(c, M_PASSWORD);
	if (r == 0 && !c->opts->quiet)
		fprintf(stderr, "Permission denied, please try again.\n");
	return r;
}

static int try_kbdint(struct ssh_conn *c)
{
	struct buf b;

	if (ssh_pkt_begin(c, &b, SSH_MSG_USERAUTH_REQUEST) != 0)
		return -1;
	put_request_head(c, &b, "keyboard-interactive");
	buf_put_cstring(&b, "");       /* language */
	buf_put_cstring(&b, "");       /* submethods */
	if (ssh_pkt_send(c, &b) != 0)
		return -1;
	c->tried_kbdint = 1;
	c->kbdint_asked = 0;
	return await_verdict(c, M_KBDINT);
}

static int allowed(struct ssh_conn *c, const char *method)
{
	return namelist_has(c->auth_methods, method);
}

int ssh_userauth(struct ssh_conn *c)
{
	struct ssh_opts *o = c->opts;
	int r = 0, tries, batch = setting(o->batch_mode, 0);
	int prompts = o->password_prompts ? o->password_prompts :
	    DEFAULT_PASSWORD_PROMPTS;

	/* The service request is pipelined with the first attempt. */
	if (send_service_request(c) != 0)
		return -1;
	if (setting(o->pubkey_auth, 1))
		r = try_identities(c);
	if (r == 0 && !c->tried_pubkey)
		r = try_none(c);
	/* A server that fails keyboard-interactive without asking anything
	 * (sshd without PAM) is not asked again. */
	for (tries = 0; r == 0 && !batch && !c->no_prompt &&
	    setting(o->kbdint_auth, 1) && allowed(c, "keyboard-interactive") &&
	    tries < prompts && (tries == 0 || c->kbdint_asked); tries++)
		r = try_kbdint(c);
	for (tries = 0; r == 0 && !batch && !c->no_prompt &&
	    setting(o->password_auth, 1) && allowed(c, "password") &&
	    tries < prompts; tries++)
		r = try_password(c);
	if (r < 0)
		return -1;
	if (r == 0)
		return ssh_fail(c, "permission denied for user %s (the server "
		    "accepts: %s)%s", c->user, c->auth_methods[0] ?
		    c->auth_methods : "nothing remowt offers",
		    c->no_prompt ? "; no terminal to ask for a password, "
		    "see SSH_ASKPASS in remowt(1)" : c->tried_password ?
		    "; check the password" : c->tried_pubkey ?
		    "; check the key given with -i and the server's "
		    "authorized_keys" : "");
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

static int send_info_response(struct ssh_conn *c, char answers[][SECRET_MAX],
    uint32_t n)
{
	struct buf b;
	uint32_t i;
	int rc = 0;

	if (ssh_pkt_begin(c, &b, SSH_MSG_USERAUTH_INFO_RESPONSE) != 0)
		return -1;
	buf_put_u32(&b, n);
	for (i = 0; i < n && rc == 0; i++)
		if (buf_put_cstring(&b, answers[i]) != 0)
			rc = ssh_fail(c, "answer too long");
	return rc == 0 ? ssh_pkt_send(c, &b) : -1;
}

/* RFC 4256 3.2: name, instruction, lang, then (prompt, echo) pairs. */
static int recv_info_request(struct ssh_conn *c, struct buf *msg)
{
	static char answers[KBDINT_MAX_PROMPTS][SECRET_MAX];
	const uint8_t *name, *instr, *lang, *prompt;
	size_t name_n, instr_n, lang_n, prompt_n;
	uint32_t n, i;
	char shown[1024];
	int echo, rc = 0;

	if (buf_skip(msg, 1) || buf_get_string(msg, &name, &name_n) ||
	    buf_get_string(msg, &instr, &instr_n) ||
	    buf_get_string(msg, &lang, &lang_n) || buf_get_u32(msg, &n))
		return ssh_fail(c, "protocol error: malformed INFO_REQUEST");
	if (n > KBDINT_MAX_PROMPTS)
		return ssh_fail(c, "the server asked %lu questions at once",
		    (unsigned long)n);
	c->kbdint_asked = 1;
	if (!c->opts->quiet && (name_n > 0 || instr_n > 0)) {
		ssh_sanitize(shown, sizeof shown, name, name_n);
		if (shown[0] != '\0')
			fprintf(stderr, "%s\n", shown);
		ssh_sanitize(shown, sizeof shown, instr, instr_n);
		if (shown[0] != '\0')
			fprintf(stderr, "%s\n", shown);
	}
	for (i = 0; i < n && rc == 0; i++) {
		if (buf_get_string(msg, &prompt, &prompt_n) ||
		    buf_get_bool(msg, &echo)) {
			rc = ssh_fail(c, "protocol error: malformed "
			    "INFO_REQUEST");
			break;
		}
		ssh_sanitize(shown, sizeof shown, prompt, prompt_n);
		if (askpass(shown, answers[i], SECRET_MAX, echo) != 0) {
			c->no_prompt = 1;
			answers[i][0] = '\0';
		}
	}
	if (rc == 0)
		rc = send_info_response(c, answers, n);
	wipe(answers, sizeof answers);
	return rc;
}

int ssh_auth_dispatch(struct ssh_conn *c, struct buf *msg)
{
	int partial;

	if (c->authenticated)
		return ssh_fail(c, "protocol error: authentication message "
		    "%u after success", msg->data[0]);
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
	case SSH_MSG_USERAUTH_INFO_REQUEST:
		if (c->auth_method == M_KBDINT)
			return recv_info_request(c, msg);
		if (c->auth_method == M_PASSWORD) {
			/* A password change request: we cannot help. */
			c->auth_state = AUTH_REFUSED;
			c->auth_replied = 1;
			return 0;
		}
		return 0;             /* PK_OK: we always sign anyway */
	}
	return ssh_fail(c, "protocol error: unexpected message %u",
	    msg->data[0]);
}
