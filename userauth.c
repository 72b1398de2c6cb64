/*
 * userauth.c - SSH user authentication (RFC 4252, 4256): public keys
 * from files, keyboard-interactive and passwords.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include "askpass.h"
#include "buf.h"
#include "ssh_conn.h"
#include "sshagent.h"
#include "sshkey.h"

#define SECRET_MAX 1024
#define KBDINT_MAX_PROMPTS 16
#define DEFAULT_PASSWORD_PROMPTS 3

/* Default identities, in the order ssh tries them. */
static const char *const default_identities[] = {
	"~/.ssh/id_ed25519",
	"~/.ssh/id_ecdsa",
	"~/.ssh/id_rsa",
};

enum auth_reply { AUTH_WAITING, AUTH_OK, AUTH_REFUSED, AUTH_PKOK };
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

/*
 * RSA signs with the best hash both sides allow.  A server that sends
 * no server-sig-algs (dropbear before 2020) may take only ssh-rsa
 * (SHA-1), which is used then only if PubkeyAcceptedAlgorithms allows.
 */
static const char *rsa_alg(struct ssh_conn *c)
{
	static const char *const prefs[] = {
		"rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"
	};
	const char *theirs = c->server_sig_algs;
	size_t i;

	if (theirs[0] == '\0') {
		c->rsa_guessed = 1;
		return namelist_has(c->algs_pubkey, "ssh-rsa") ? "ssh-rsa" :
		    "rsa-sha2-512";
	}
	for (i = 0; i < sizeof prefs / sizeof prefs[0]; i++)
		if (namelist_has(c->algs_pubkey, prefs[i]) &&
		    namelist_has(theirs, prefs[i]))
			return prefs[i];
	return NULL;
}

/* The signature algorithm for a key: RSA follows server-sig-algs. */
static const char *pubkey_alg(struct ssh_conn *c, enum sshkey_type t)
{
	switch (t) {
	case KEY_ED25519:
		return "ssh-ed25519";
	case KEY_ECDSA_P256:
		return "ecdsa-sha2-nistp256";
	case KEY_RSA:
		return rsa_alg(c);
	default:
		return NULL;
	}
}

/* The fields shared by the signed data and the request itself. */
static int put_pubkey_request(struct ssh_conn *c, struct buf *b,
    const uint8_t *blob, size_t blob_len, const char *alg, int has_sig)
{
	buf_put_u8(b, SSH_MSG_USERAUTH_REQUEST);
	put_request_head(c, b, "publickey");
	buf_put_bool(b, has_sig);
	buf_put_cstring(b, alg);
	return buf_put_string(b, blob, blob_len);
}

/* Where a signature comes from: a key in memory, or the agent. */
struct signer {
	const char *cert_alg;          /* offering a certificate */
	const struct sshkey *key;
	struct sshagent *agent;
	const struct sshagent_key *agent_key;
	const uint8_t *blob;
	size_t blob_len;
};

static int signer_sign(const struct signer *s, const char *alg,
    const uint8_t *data, size_t len, struct buf *out)
{
	if (s->agent != NULL)
		return sshagent_sign(s->agent, s->agent_key, alg, data, len,
		    out);
	return sshkey_sign(s->key, alg, data, len, out);
}

/* A query without signature: 1 if the server would take the key. */
static int send_pubkey_query(struct ssh_conn *c, const struct signer *s,
    const char *alg)
{
	struct buf b;

	if (ssh_pkt_begin(c, &b, SSH_MSG_USERAUTH_REQUEST) != 0)
		return -1;
	b.len = 0;
	if (put_pubkey_request(c, &b, s->blob, s->blob_len,
	    s->cert_alg ? s->cert_alg : alg, 0) != 0)
		return ssh_fail(c, "user name too long");
	return ssh_pkt_send(c, &b);
}

/* 0 sent, 1 the signer refused (try the next key), -1 fatal. */
static int send_pubkey_auth(struct ssh_conn *c, const struct signer *s,
    const char *alg)
{
	uint8_t tbs[KEX_MAX_HASH + 4 + 1024 + SSHAGENT_MAX_BLOB];
	uint8_t sigmem[SSHKEY_MAX_SIG + 64];
	const char *req_alg = s->cert_alg ? s->cert_alg : alg;
	struct buf signed_data, sig, b;
	int rc = -1;

	buf_init(&signed_data, tbs, sizeof tbs);
	buf_put_string(&signed_data, c->session_id, c->session_id_len);

	if (put_pubkey_request(c, &signed_data, s->blob, s->blob_len, req_alg,
	    1) != 0)
		return ssh_fail(c, "user name too long");
	buf_init(&sig, sigmem, sizeof sigmem);
	if (signer_sign(s, alg, tbs, signed_data.len, &sig) != 0) {
		rc = 1;
		goto out;
	}
	/* The request is the signed data minus the session id, plus sig. */
	if (ssh_pkt_begin(c, &b, SSH_MSG_USERAUTH_REQUEST) != 0)
		goto out;
	b.len = 0;
	put_pubkey_request(c, &b, s->blob, s->blob_len, req_alg, 1);
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

/* Offer a key: agent keys are asked about first, so an agent that
 * confirms each use only bothers its owner for keys the server takes. */
static int try_signer(struct ssh_conn *c, const struct signer *s,
    enum sshkey_type type, const char *label)
{
	const char *alg = pubkey_alg(c, type);
	char note[400];
	int r;

	if (alg == NULL)
		return 0;
	snprintf(note, sizeof note, "offering %s %s %s",
	    s->cert_alg ? s->cert_alg : alg, s->cert_alg ? "certificate" :
	    "key", label);
	ssh_debug(c, note);
	c->tried_pubkey = 1;
	if (s->agent != NULL) {
		if (send_pubkey_query(c, s, alg) != 0)
			return -1;
		r = await_verdict(c, M_PUBKEY);
		if (r != 0 || c->auth_state != AUTH_PKOK)
			return r;
	}
	r = send_pubkey_auth(c, s, alg);
	if (r == 1) {
		fprintf(stderr, "remowt: %s to sign with %s\n", s->agent ?
		    "the agent refused" : "cannot use the key", label);
		return 0;
	}
	if (r != 0)
		return -1;
	return await_verdict(c, M_PUBKEY);
}

/* The public half of an identity file: from FILE.pub, else from the
 * unencrypted private key.  0, or -1 if neither can be read. */
static int identity_public(const char *path, struct sshkey *k)
{
	char pubpath[SSH_PATH_MAX + 8], line[8192], err[256];
	FILE *f;
	int rc = -1;

	snprintf(pubpath, sizeof pubpath, "%s.pub", path);
	if ((f = fopen(pubpath, "r")) != NULL) {
		if (fgets(line, sizeof line, f) != NULL) {
			line[strcspn(line, "\r\n")] = '\0';
			rc = sshkey_parse_public(k, line);
		}
		fclose(f);
		if (rc == 0)
			return 0;
	}
	/* An encrypted key still shows its public half. */
	rc = sshkey_load_private_pp(k, path, NULL, err, sizeof err);
	sshkey_wipe(k);
	return rc == 0 || rc == SSHKEY_NEED_PASSPHRASE ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* OpenSSH user certificates (PROTOCOL.certkeys)                       */

#define CERT_MAX_BLOB 16384
#define SSH_CERT_TYPE_USER 1

struct cert {
	char alg[64];                  /* e.g. ssh-ed25519-cert-v01@... */
	uint8_t blob[CERT_MAX_BLOB];
	size_t blob_len;
	char path[SSH_PATH_MAX];
};

/* Read "type base64 [comment]" from a -cert.pub file. */
static int cert_read(const char *path, struct cert *ct)
{
	char line[CERT_MAX_BLOB * 2], *sp, *b64;
	long n;
	FILE *f;
	int ok;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	ok = fgets(line, sizeof line, f) != NULL;
	fclose(f);
	if (!ok)
		return -1;
	line[strcspn(line, "\r\n")] = '\0';
	if ((sp = strchr(line, ' ')) == NULL || (size_t)(sp - line) >=
	    sizeof ct->alg)
		return -1;
	*sp = '\0';
	b64 = sp + 1;
	b64[strcspn(b64, " ")] = '\0';
	n = base64_decode(ct->blob, sizeof ct->blob, b64, strlen(b64));
	if (n <= 0)
		return -1;
	ct->blob_len = (size_t)n;
	memcpy(ct->alg, line, (size_t)(sp - line) + 1);   /* checked above */
	snprintf(ct->path, sizeof ct->path, "%s", path);
	return 0;
}

/* Skip the key-specific public fields; 0 if they are k's. */
static int cert_key_matches(struct buf *b, const struct sshkey *k)
{
	const uint8_t *p, *q;
	size_t n, m;

	switch (k->type) {
	case KEY_ED25519:
		return buf_get_string(b, &p, &n) || n != 32 ||
		    memcmp(p, k->ed25519_pk, 32) != 0 ? -1 : 0;
	case KEY_ECDSA_P256:
		return buf_get_string(b, &p, &n) || buf_get_string(b, &q, &m) ||
		    m != sizeof k->ec_q || memcmp(q, k->ec_q, m) != 0 ? -1 : 0;
	case KEY_RSA:
		return buf_get_mpint(b, &p, &n) || buf_get_mpint(b, &q, &m) ||
		    m != k->rsa_n_len || memcmp(q, k->rsa_n, m) != 0 ? -1 : 0;
	default:
		return -1;
	}
}

static int principals_include(struct buf *list, const char *user)
{
	char name[256];

	while (buf_avail(list) > 0)
		if (buf_get_cstring(list, name, sizeof name) == 0 &&
		    strcmp(name, user) == 0)
			return 1;
	return 0;
}

/*
 * Is the certificate for key k, and usable by user now?  -1 if it does
 * not belong to k; 1 with a reason in problem if it cannot work; 0 if
 * it may.
 */
static int cert_check(const struct cert *ct, const struct sshkey *k,
    const char *user, char *problem, size_t plen)
{
	struct buf b, principals;
	const uint8_t *p;
	size_t n;
	uint64_t serial, after, before, now = (uint64_t)time(NULL);
	uint32_t type;
	char alg[64];

	buf_view(&b, ct->blob, ct->blob_len);
	if (buf_get_cstring(&b, alg, sizeof alg) || strcmp(alg, ct->alg) ||
	    buf_get_string(&b, &p, &n) || cert_key_matches(&b, k) != 0 ||
	    buf_get_u64(&b, &serial) || buf_get_u32(&b, &type) ||
	    buf_get_string(&b, &p, &n) || buf_get_sub(&b, &principals) ||
	    buf_get_u64(&b, &after) || buf_get_u64(&b, &before))
		return -1;
	if (type != SSH_CERT_TYPE_USER)
		snprintf(problem, plen, "%s is a host certificate", ct->path);
	else if (now < after)
		snprintf(problem, plen, "certificate %s is not valid yet "
		    "(from %llu, now %llu, seconds since 1970)", ct->path,
		    (unsigned long long)after, (unsigned long long)now);
	else if (now >= before)
		snprintf(problem, plen, "certificate %s expired %llu seconds "
		    "ago; have it renewed (ssh-keygen -s CA ...)", ct->path,
		    (unsigned long long)(now - before));
	else if (buf_avail(&principals) > 0 &&
	    !principals_include(&principals, user))
		snprintf(problem, plen, "certificate %s does not name %s as a "
		    "principal", ct->path, user);
	else
		return 0;
	return 1;
}

/* The request algorithm for a certificate: RSA names the hash. */
static void cert_request_alg(const struct cert *ct, const char *plain,
    char *out, size_t outsz)
{
	if (strcmp(ct->alg, "ssh-rsa-cert-v01@openssh.com") == 0)
		snprintf(out, outsz, "%s-cert-v01@openssh.com", plain);
	else
		snprintf(out, outsz, "%s", ct->alg);
}

/* Offer the certificate at path for key: 1 accepted, 0 not, -1 fatal. */
static int try_cert(struct ssh_conn *c, const struct sshkey *key,
    const char *path)
{
	static struct cert ct;
	char alg[80], problem[sizeof c->cert_problem];
	const char *plain = pubkey_alg(c, key->type);
	struct signer s;
	int r;

	if (plain == NULL || cert_read(path, &ct) != 0)
		return 0;
	r = cert_check(&ct, key, c->user, problem, sizeof problem);
	if (r < 0)
		return 0;
	if (r > 0) {
		/* Reported once, in the final error, if nothing else works. */
		memcpy(c->cert_problem, problem, sizeof problem);
		return 0;
	}
	cert_request_alg(&ct, plain, alg, sizeof alg);
	memset(&s, 0, sizeof s);
	s.cert_alg = alg;
	s.key = key;
	s.blob = ct.blob;
	s.blob_len = ct.blob_len;
	r = try_signer(c, &s, key->type, path);
	if (r == 0 && c->cert_problem[0] == '\0')
		snprintf(c->cert_problem, sizeof c->cert_problem, "the server "
		    "refused certificate %s (check its principals and the "
		    "server's TrustedUserCAKeys)", path);
	return r;
}

/* Certificates for a key: PATH-cert.pub, then every CertificateFile. */
static int try_certs(struct ssh_conn *c, const struct sshkey *key,
    const char *keypath)
{
	char path[SSH_PATH_MAX + 16];
	int i, r;

	snprintf(path, sizeof path, "%s-cert.pub", keypath);
	if ((r = try_cert(c, key, path)) != 0)
		return r;
	for (i = 0; i < c->opts->n_certificate; i++) {
		ssh_expand_tokens(c->opts, c->opts->certificate[i], path,
		    sizeof path);
		if ((r = try_cert(c, key, path)) != 0)
			return r;
	}
	return 0;
}

/*
 * Ask the person at the terminal.  The handshake deadline is there for
 * the network, so the time they take to answer does not count.
 */
static int ask_person(struct ssh_conn *c, const char *prompt, char *out,
    size_t outsz, int echo)
{
	struct timespec t0, t1;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = askpass(prompt, out, outsz, echo);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (c->deadline != 0)
		c->deadline += (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000);
	return rc;
}

/*
 * Load an identity, asking for its passphrase as ssh does: up to three
 * times, an empty answer skipping the key.  0 loaded, -1 not usable.
 */
static int load_key(struct ssh_conn *c, const char *path, struct sshkey *k)
{
	char err[256], prompt[SSH_PATH_MAX + 64], pass[SECRET_MAX];
	int r, tries;

	r = sshkey_load_private_pp(k, path, NULL, err, sizeof err);
	for (tries = 0; r == SSHKEY_NEED_PASSPHRASE ||
	    (r == SSHKEY_BAD_PASSPHRASE && tries < 3); tries++) {
		if (r == SSHKEY_BAD_PASSPHRASE)
			fprintf(stderr, "remowt: %s: incorrect passphrase\n",
			    path);
		if (setting(c->opts->batch_mode, 0))
			break;
		snprintf(prompt, sizeof prompt,
		    "Enter passphrase for key '%s': ", path);
		if (ask_person(c, prompt, pass, sizeof pass, 0) != 0 ||
		    pass[0] == '\0') {
			wipe(pass, sizeof pass);
			return -1;
		}
		sshkey_wipe(k);
		r = sshkey_load_private_pp(k, path, pass, err, sizeof err);
		wipe(pass, sizeof pass);
	}
	if (r == 0)
		return 0;
	if (r == SSHKEY_ERR)
		fprintf(stderr, "remowt: identity file %s: %s\n", path, err);
	else if (r == SSHKEY_BAD_PASSPHRASE)
		snprintf(c->key_problem, sizeof c->key_problem, "wrong "
		    "passphrase for %s", path);
	return -1;
}

/* 1 authenticated, 0 refused or unusable, -1 fatal. */
static int try_identity_file(struct ssh_conn *c, const char *path,
    int explicit)
{
	struct sshkey key;
	struct signer s;
	struct stat st;
	int r;

	if (stat(path, &st) != 0) {
		if (explicit)
			fprintf(stderr, "remowt: identity file %s: %s\n", path,
			    strerror(errno));
		return 0;
	}
	if (load_key(c, path, &key) != 0) {
		sshkey_wipe(&key);
		return 0;
	}
	r = try_certs(c, &key, path);
	if (r == 0) {
		memset(&s, 0, sizeof s);
		s.key = &key;
		s.blob = key.blob;
		s.blob_len = key.blob_len;
		r = try_signer(c, &s, key.type, path);
	}
	sshkey_wipe(&key);
	return r;
}

struct identity_list {
	char path[SSH_MAX_IDENTITIES][SSH_PATH_MAX];
	int explicit;
	int n;
	int via_agent[SSH_MAX_IDENTITIES];
	struct sshkey pub;             /* scratch */
};

static void list_identities(struct ssh_conn *c, struct identity_list *l)
{
	int i;

	l->explicit = c->opts->n_identity > 0;
	if (l->explicit) {
		for (i = 0; i < c->opts->n_identity; i++)
			ssh_expand_tokens(c->opts, c->opts->identity[i],
			    l->path[i], SSH_PATH_MAX);
		l->n = c->opts->n_identity;
	} else {
		l->n = (int)(sizeof default_identities /
		    sizeof default_identities[0]);
		for (i = 0; i < l->n; i++)
			ssh_expand_tokens(c->opts, default_identities[i],
			    l->path[i], SSH_PATH_MAX);
	}
	memset(l->via_agent, 0, sizeof l->via_agent);
}

/* Which identity file holds this agent key, or -1. */
static int identity_of(struct identity_list *l, const struct sshagent_key *k)
{
	int i;

	for (i = 0; i < l->n; i++)
		if (identity_public(l->path[i], &l->pub) == 0 &&
		    l->pub.blob_len == k->blob_len &&
		    memcmp(l->pub.blob, k->blob, k->blob_len) == 0)
			return i;
	return -1;
}

static int try_agent(struct ssh_conn *c, struct identity_list *l)
{
	const char *path = c->opts->identity_agent;
	struct sshagent *agent = &c->agent;
	struct sshkey key;
	struct signer s;
	int i, which, r = 0;
	int only = c->opts->identities_only == 1;

	if (strcmp(path, "none") == 0)
		return 0;
	if (sshagent_open(agent, path[0] && strcmp(path, "SSH_AUTH_SOCK") ?
	    path : NULL) != 0)
		return 0;
	c->agent_opened = 1;
	c->agent_keys = agent->nkeys;
	for (i = 0; r == 0 && i < agent->nkeys; i++) {
		which = identity_of(l, &agent->keys[i]);
		if (only && which < 0)
			continue;
		if (sshkey_from_blob(&key, agent->keys[i].blob,
		    agent->keys[i].blob_len) != 0)
			continue;
		if (which >= 0)
			l->via_agent[which] = 1;
		memset(&s, 0, sizeof s);
		s.agent = agent;
		s.agent_key = &agent->keys[i];
		s.blob = agent->keys[i].blob;
		s.blob_len = agent->keys[i].blob_len;
		r = try_signer(c, &s, key.type, agent->keys[i].comment);
	}
	sshagent_close(agent);
	return r;
}

static int try_identities(struct ssh_conn *c)
{
	static struct identity_list l;
	int i, r;

	list_identities(c, &l);
	r = try_agent(c, &l);
	for (i = 0; r == 0 && i < l.n; i++)
		if (!l.via_agent[i])
			r = try_identity_file(c, l.path[i], l.explicit);
	sshkey_wipe(&l.pub);
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
	if (ask_person(c, prompt, pw, sizeof pw, 0) != 0) {
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

/* What to do next after every method failed. */
static const char *denied_hint(struct ssh_conn *c)
{
	if (c->no_prompt)
		return "no terminal to ask for a password: see SSH_ASKPASS "
		    "in remowt(1)";
	if (c->cert_problem[0] != '\0')
		return c->cert_problem;
	if (c->key_problem[0] != '\0')
		return c->key_problem;
	if (c->agent_opened && c->agent_keys == 0 && !c->tried_pubkey)
		return "the ssh-agent holds no keys (add one with ssh-add)";
	if (c->tried_password)
		return "check the password";
	if (c->rsa_guessed && !namelist_has(c->algs_pubkey, "ssh-rsa"))
		return "the server announces no signature algorithms, so it "
		    "may take RSA keys only as ssh-rsa (SHA-1); if you trust "
		    "it, add -o PubkeyAcceptedAlgorithms=+ssh-rsa";
	if (c->tried_pubkey)
		return "check the key given with -i and the server's "
		    "authorized_keys";
	return "give a key with -i or allow password authentication";
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
	/* Passphrases, passwords and keys went through the frames below:
	 * copies the code above does not know of (registers the dynamic
	 * linker saved there, say) go with them. */
	wipe_stack();
	if (r < 0)
		return -1;
	if (r == 0)
		return ssh_fail(c, "permission denied for user %s (the server "
		    "accepts: %s); %s", c->user, c->auth_methods[0] ?
		    c->auth_methods : "nothing remowt offers", denied_hint(c));
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
		if (ask_person(c, shown, answers[i], SECRET_MAX, echo) != 0) {
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
		if (c->auth_method == M_PUBKEY) {
			c->auth_state = AUTH_PKOK;
			c->auth_replied = 1;
		}
		return 0;
	}
	return ssh_fail(c, "protocol error: unexpected message %u",
	    msg->data[0]);
}
