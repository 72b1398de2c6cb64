/*
 * sshconfig.c - connection options: ssh-style command line options,
 * -o Key=Value, and the algorithm list syntax (+, -, ^).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "cipher.h"
#include "kex.h"
#include "sshconfig.h"
#include "sshkey.h"

void ssh_opts_init(struct ssh_opts *o)
{
	memset(o, 0, sizeof *o);
	o->alive_interval = -1;
	o->alive_count_max = -1;
	o->hash_known_hosts = -1;
	o->pubkey_auth = -1;
	o->password_auth = -1;
	o->kbdint_auth = -1;
	o->batch_mode = -1;
	o->identities_only = -1;
}

/* "FILE line N: " while a config file is read, so errors say where. */
static char where[SSH_PATH_MAX + 32];

static int opt_error(const char *what, const char *arg)
{
	fprintf(stderr, "remowt: %s%s: '%s'\n", where, what, arg);
	return -1;
}

static int parse_int(const char *s, long lo, long hi, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

static int copy_str(char *dst, size_t dstsz, const char *src)
{
	size_t n = strlen(src);

	if (n >= dstsz)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

static int add_identity(struct ssh_opts *o, const char *path)
{
	if (o->n_identity >= SSH_MAX_IDENTITIES)
		return opt_error("too many identity files", path);
	if (copy_str(o->identity[o->n_identity], SSH_PATH_MAX, path) != 0)
		return opt_error("identity file path too long", path);
	o->n_identity++;
	return 0;
}

static int add_certificate(struct ssh_opts *o, const char *path)
{
	if (o->n_certificate >= SSH_MAX_IDENTITIES)
		return opt_error("too many certificate files", path);
	if (copy_str(o->certificate[o->n_certificate], SSH_PATH_MAX, path))
		return opt_error("certificate file path too long", path);
	o->n_certificate++;
	return 0;
}

/* UserKnownHostsFile takes several space-separated files. */
static int set_known_hosts(struct ssh_opts *o, const char *list)
{
	char tmp[SSH_MAX_KNOWN_HOSTS * SSH_PATH_MAX];
	char *save = NULL, *tok;

	if (o->n_known_hosts > 0)
		return 0;
	if (copy_str(tmp, sizeof tmp, list) != 0)
		return opt_error("UserKnownHostsFile too long", list);
	for (tok = strtok_r(tmp, " \t", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t", &save)) {
		if (o->n_known_hosts >= SSH_MAX_KNOWN_HOSTS)
			return opt_error("too many known_hosts files", list);
		if (copy_str(o->known_hosts[o->n_known_hosts], SSH_PATH_MAX,
		    tok) != 0)
			return opt_error("known_hosts path too long", tok);
		o->n_known_hosts++;
	}
	return 0;
}

static int set_strict(struct ssh_opts *o, const char *v)
{
	enum shkc s;

	if (strcasecmp(v, "yes") == 0)
		s = SHKC_YES;
	else if (strcasecmp(v, "ask") == 0)
		s = SHKC_ASK;
	else if (strcasecmp(v, "accept-new") == 0)
		s = SHKC_ACCEPT_NEW;
	else if (strcasecmp(v, "no") == 0 || strcasecmp(v, "off") == 0)
		s = SHKC_NO;
	else
		return opt_error("StrictHostKeyChecking must be yes, ask, "
		    "accept-new or no", v);
	if (o->strict == SHKC_UNSET)
		o->strict = s;
	return 0;
}

static int set_first_int(int *field, int unset, const char *v, long lo,
    long hi, const char *what)
{
	int n;

	if (parse_int(v, lo, hi, &n) != 0)
		return opt_error(what, v);
	if (*field == unset)
		*field = n;
	return 0;
}

static int set_first_str(char *field, size_t size, const char *v,
    const char *what)
{
	if (field[0] != '\0')
		return 0;
	if (copy_str(field, size, v) != 0)
		return opt_error(what, v);
	return 0;
}

/* An algorithm list, checked now so that a bad name is reported with
 * the file and line it came from. */
static int set_algs(char *field, size_t size, const char *v,
    const char *defaults, const char *all)
{
	char out[1024], err[768];

	if (field[0] != '\0')
		return 0;
	if (algs_resolve(v, defaults, all, out, sizeof out, err,
	    sizeof err) != 0) {
		fprintf(stderr, "remowt: %s%s\n", where, err);
		return -1;
	}
	return set_first_str(field, size, v, "algorithm list too long");
}

static int set_yesno(int *field, const char *v, const char *what)
{
	int b;

	if (strcasecmp(v, "yes") == 0)
		b = 1;
	else if (strcasecmp(v, "no") == 0)
		b = 0;
	else
		return opt_error(what, v);
	if (*field == -1)
		*field = b;
	return 0;
}

/* RekeyLimit SIZE[K|M|G] [TIME]: the size part; "default" keeps 1 GiB. */
static int set_rekey_limit(struct ssh_opts *o, const char *v)
{
	unsigned long long n;
	char *end;

	if (o->rekey_limit != 0 || strncmp(v, "default", 7) == 0)
		return 0;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno != 0 || end == v)
		return opt_error("bad RekeyLimit", v);
	switch (*end) {
	case 'K': case 'k': n <<= 10; end++; break;
	case 'M': case 'm': n <<= 20; end++; break;
	case 'G': case 'g': n <<= 30; end++; break;
	}
	if ((*end != '\0' && *end != ' ') || n < 16 || n > (1ULL << 40))
		return opt_error("bad RekeyLimit (16 bytes to 1T)", v);
	o->rekey_limit = n;
	return 0;
}

/*
 * One "Key Value" setting, as from -o or a config file.  The first value
 * obtained for a key wins.  0 when set, -1 after a message about a bad
 * value, 1 for a keyword remowt does not know.
 */
static int set_keyword(struct ssh_opts *o, const char *key, const char *v)
{
	if (strcasecmp(key, "Port") == 0)
		return set_first_int(&o->port, 0, v, 1, 65535, "bad port");
	if (strcasecmp(key, "User") == 0)
		return set_first_str(o->user, sizeof o->user, v, "bad user");
	if (strcasecmp(key, "HostName") == 0)
		return set_first_str(o->hostname, sizeof o->hostname, v,
		    "bad HostName");
	if (strcasecmp(key, "IdentityFile") == 0)
		return add_identity(o, v);
	if (strcasecmp(key, "CertificateFile") == 0)
		return add_certificate(o, v);
	if (strcasecmp(key, "UserKnownHostsFile") == 0)
		return set_known_hosts(o, v);
	if (strcasecmp(key, "StrictHostKeyChecking") == 0)
		return set_strict(o, v);
	if (strcasecmp(key, "ConnectTimeout") == 0)
		return set_first_int(&o->connect_timeout, 0, v, 1, 86400,
		    "bad ConnectTimeout");
	if (strcasecmp(key, "ServerAliveInterval") == 0)
		return set_first_int(&o->alive_interval, -1, v, 0, 86400,
		    "bad ServerAliveInterval");
	if (strcasecmp(key, "ServerAliveCountMax") == 0)
		return set_first_int(&o->alive_count_max, -1, v, 0, 1000,
		    "bad ServerAliveCountMax");
	if (strcasecmp(key, "Ciphers") == 0)
		return set_algs(o->ciphers, sizeof o->ciphers, v,
		    cipher_default_list, cipher_all_list);
	if (strcasecmp(key, "KexAlgorithms") == 0)
		return set_algs(o->kex, sizeof o->kex, v, kex_default_list,
		    kex_all_list);
	if (strcasecmp(key, "HostKeyAlgorithms") == 0)
		return set_algs(o->hostkey_algs, sizeof o->hostkey_algs, v,
		    SSHKEY_DEFAULT_ALGS, SSHKEY_ALL_ALGS);
	if (strcasecmp(key, "MACs") == 0)
		return set_algs(o->macs, sizeof o->macs, v, mac_default_list,
		    mac_all_list);
	if (strcasecmp(key, "PubkeyAcceptedAlgorithms") == 0 ||
	    strcasecmp(key, "PubkeyAcceptedKeyTypes") == 0)
		return set_algs(o->pubkey_algs, sizeof o->pubkey_algs, v,
		    SSHKEY_DEFAULT_ALGS, SSHKEY_ALL_ALGS);
	if (strcasecmp(key, "RekeyLimit") == 0)
		return set_rekey_limit(o, v);
	if (strcasecmp(key, "HashKnownHosts") == 0)
		return set_yesno(&o->hash_known_hosts, v, "bad HashKnownHosts");
	if (strcasecmp(key, "PubkeyAuthentication") == 0)
		return set_yesno(&o->pubkey_auth, v,
		    "bad PubkeyAuthentication");
	if (strcasecmp(key, "PasswordAuthentication") == 0)
		return set_yesno(&o->password_auth, v,
		    "bad PasswordAuthentication");
	if (strcasecmp(key, "KbdInteractiveAuthentication") == 0 ||
	    strcasecmp(key, "ChallengeResponseAuthentication") == 0)
		return set_yesno(&o->kbdint_auth, v,
		    "bad KbdInteractiveAuthentication");
	if (strcasecmp(key, "IdentitiesOnly") == 0)
		return set_yesno(&o->identities_only, v, "bad IdentitiesOnly");
	if (strcasecmp(key, "IdentityAgent") == 0)
		return set_first_str(o->identity_agent,
		    sizeof o->identity_agent, v, "bad IdentityAgent");
	if (strcasecmp(key, "BatchMode") == 0)
		return set_yesno(&o->batch_mode, v, "bad BatchMode");
	if (strcasecmp(key, "NumberOfPasswordPrompts") == 0)
		return set_first_int(&o->password_prompts, 0, v, 1, 100,
		    "bad NumberOfPasswordPrompts");
	if (strcasecmp(key, "ProxyJump") == 0)
		return set_first_str(o->proxy_jump, sizeof o->proxy_jump, v,
		    "bad ProxyJump");
	if (strcasecmp(key, "ProxyCommand") == 0)
		return set_first_str(o->proxy_command,
		    sizeof o->proxy_command, v, "bad ProxyCommand");
	return 1;
}

/* -o accepts "Key=Value", "Key Value" and "Key = Value". */
static int set_dash_o(struct ssh_opts *o, const char *arg)
{
	char key[64];
	const char *p = arg, *kend;
	size_t klen;

	while (*p == ' ' || *p == '\t')
		p++;
	kend = p;
	while (*kend != '\0' && *kend != '=' && *kend != ' ' && *kend != '\t')
		kend++;
	klen = (size_t)(kend - p);
	if (klen == 0 || klen >= sizeof key)
		return opt_error("bad -o option", arg);
	memcpy(key, p, klen);
	key[klen] = '\0';
	p = kend;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '=')
		p++;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return opt_error("-o option has no value", arg);
	switch (set_keyword(o, key, p)) {
	case 0:
		return 0;
	case 1:
		fprintf(stderr, "remowt: unsupported option -o %s (see remowt "
		    "--help for the options remowt knows)\n", key);
	}
	return -1;
}

int ssh_opts_option(struct ssh_opts *o, int ch, const char *arg)
{
	switch (ch) {
	case 'p':
		if (parse_int(arg, 1, 65535, &o->port) != 0)
			return opt_error("bad port", arg);
		return 0;
	case 'l':
		if (copy_str(o->user, sizeof o->user, arg) != 0)
			return opt_error("user name too long", arg);
		return 0;
	case 'i':
		return add_identity(o, arg);
	case 'F':
		if (copy_str(o->config_file, sizeof o->config_file, arg) != 0)
			return opt_error("config file path too long", arg);
		return 0;
	case 'o':
		return set_dash_o(o, arg);
	case 'J':
		if (copy_str(o->proxy_jump, sizeof o->proxy_jump, arg) != 0)
			return opt_error("-J list too long", arg);
		return 0;
	case 'v':
		o->verbose++;
		return 0;
	case 'q':
		o->quiet = 1;
		return 0;
	}
	fprintf(stderr, "remowt: unknown option -%c\n", ch);
	return -1;
}

static int valid_hostname(const char *h)
{
	const unsigned char *p;

	if (*h == '\0' || *h == '-')
		return 0;
	for (p = (const unsigned char *)h; *p != '\0'; p++)
		if (!isalnum(*p) && strchr(".-_:%", *p) == NULL)
			return 0;
	return 1;
}

int ssh_opts_destination(struct ssh_opts *o, const char *dest)
{
	char tmp[512];
	char *host, *at, *port = NULL, *end;
	int uri = 0;

	if (strncmp(dest, "ssh://", 6) == 0) {
		dest += 6;
		uri = 1;
	}
	if (copy_str(tmp, sizeof tmp, dest) != 0)
		return opt_error("destination too long", dest);
	if (uri && (end = strchr(tmp, '/')) != NULL) {
		if (end[1] != '\0')
			return opt_error("ssh:// destination takes no path",
			    dest);
		*end = '\0';
	}
	host = tmp;
	if ((at = strrchr(tmp, '@')) != NULL) {
		*at = '\0';
		if (tmp[0] == '\0' || copy_str(o->user, sizeof o->user, tmp))
			return opt_error("bad user in destination", dest);
		host = at + 1;
	}
	if (host[0] == '[') {
		/* [v6-address] or [host]:port */
		if ((end = strchr(host, ']')) == NULL)
			return opt_error("unbalanced [ in destination", dest);
		*end = '\0';
		host++;
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			return opt_error("bad destination", dest);
	} else if ((end = strchr(host, ':')) != NULL &&
	    strchr(end + 1, ':') == NULL) {
		*end = '\0';
		port = end + 1;
	}
	if (port != NULL && parse_int(port, 1, 65535, &o->port) != 0)
		return opt_error("bad port in destination", dest);
	if (!valid_hostname(host))
		return opt_error("bad host name", host);
	copy_str(o->host, sizeof o->host, host);
	return 0;
}

int wildmatch(const char *pat, const char *s)
{
	const char *star = NULL, *resume = NULL;

	while (*s != '\0') {
		if (*pat == '*') {
			star = pat++;
			resume = s;
		} else if (*pat == '?' || *pat == *s) {
			pat++;
			s++;
		} else if (star != NULL) {
			pat = star + 1;
			s = ++resume;
		} else {
			return 0;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

/* Iterate over a comma-separated list: copies the next name into name. */
static const char *next_name(const char *p, char *name, size_t namesz)
{
	size_t n = 0;

	if (p == NULL || *p == '\0')
		return NULL;
	while (*p != '\0' && *p != ',') {
		if (n + 1 < namesz)
			name[n++] = *p;
		p++;
	}
	name[n] = '\0';
	return *p == ',' ? p + 1 : p;
}

int namelist_has(const char *list, const char *name)
{
	char item[128];
	const char *p = list;

	while ((p = next_name(p, item, sizeof item)) != NULL)
		if (strcmp(item, name) == 0)
			return 1;
	return 0;
}

static int list_append(char *out, size_t outsz, const char *name)
{
	size_t len = strlen(out), n = strlen(name);

	if (namelist_has(out, name))
		return 0;
	if (len + n + 2 > outsz)
		return -1;
	if (len > 0)
		out[len++] = ',';
	memcpy(out + len, name, n + 1);
	return 0;
}

/* Does any pattern in the list match name? */
static int patterns_match(const char *patterns, const char *name)
{
	char pat[128];
	const char *p = patterns;

	while ((p = next_name(p, pat, sizeof pat)) != NULL)
		if (wildmatch(pat, name))
			return 1;
	return 0;
}

/* Append every name of `all` matched by the patterns, in `all` order. */
static int append_matching(char *out, size_t outsz, const char *patterns,
    const char *all, char *err, size_t errlen)
{
	char pat[128], name[128];
	const char *p = patterns, *q;
	int found;

	while ((p = next_name(p, pat, sizeof pat)) != NULL) {
		found = 0;
		for (q = all; (q = next_name(q, name, sizeof name)) != NULL;) {
			if (!wildmatch(pat, name))
				continue;
			found = 1;
			if (list_append(out, outsz, name) != 0) {
				snprintf(err, errlen, "algorithm list too long");
				return -1;
			}
		}
		if (!found) {
			snprintf(err, errlen, "unsupported algorithm '%s' "
			    "(supported: %s)", pat, all);
			return -1;
		}
	}
	return 0;
}

static int append_unless(char *out, size_t outsz, const char *src,
    const char *drop)
{
	char name[128];
	const char *q = src;

	while ((q = next_name(q, name, sizeof name)) != NULL)
		if ((drop == NULL || !patterns_match(drop, name)) &&
		    list_append(out, outsz, name) != 0)
			return -1;
	return 0;
}

int algs_resolve(const char *spec, const char *defaults, const char *all,
    char *out, size_t outsz, char *err, size_t errlen)
{
	char extra[512];

	if (outsz == 0)
		return -1;
	out[0] = '\0';
	if (spec == NULL || spec[0] == '\0')
		return copy_str(out, outsz, defaults);
	switch (spec[0]) {
	case '+':
		if (append_unless(out, outsz, defaults, NULL) != 0)
			break;
		return append_matching(out, outsz, spec + 1, all, err, errlen);
	case '-':
		if (append_unless(out, outsz, defaults, spec + 1) != 0)
			break;
		return 0;
	case '^':
		extra[0] = '\0';
		if (append_matching(extra, sizeof extra, spec + 1, all, err,
		    errlen) != 0)
			return -1;
		if (copy_str(out, outsz, extra) != 0 ||
		    append_unless(out, outsz, defaults, NULL) != 0)
			break;
		return 0;
	default:
		return append_matching(out, outsz, spec, all, err, errlen);
	}
	snprintf(err, errlen, "algorithm list too long");
	return -1;
}

/* ------------------------------------------------------------------ */
/* ssh_config files                                                    */

#define CONFIG_MAX_LINE 4096
#define CONFIG_MAX_ARGS 64
#define CONFIG_MAX_DEPTH 8

struct config_ctx {
	struct ssh_opts *o;
	const char *file;
	unsigned long line;
	int user_file;          /* relative Include paths start at ~/.ssh */
	int depth;
};

static int config_read(struct ssh_opts *o, const char *path, int user_file,
    int depth);

const char *ssh_home_dir(void)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (h != NULL && h[0] != '\0')
		return h;
	pw = getpwuid(getuid());
	return pw != NULL ? pw->pw_dir : "/";
}

const char *ssh_local_user(void)
{
	struct passwd *pw = getpwuid(getuid());
	const char *u;

	if (pw != NULL)
		return pw->pw_name;
	u = getenv("USER");
	return u != NULL ? u : "unknown";
}

void ssh_expand_tokens(const struct ssh_opts *o, const char *in, char *out,
    size_t outsz)
{
	size_t n = 0;
	char num[16];
	const char *add;

	if (outsz == 0)
		return;
	if (in[0] == '~' && (in[1] == '/' || in[1] == '\0')) {
		n = (size_t)snprintf(out, outsz, "%s", ssh_home_dir());
		in++;
	}
	for (; *in != '\0' && n + 1 < outsz; in++) {
		if (*in != '%' || in[1] == '\0') {
			out[n++] = *in;
			continue;
		}
		in++;
		switch (*in) {
		case 'd': add = ssh_home_dir(); break;
		case 'u': add = ssh_local_user(); break;
		case 'h': add = o->hostname[0] ? o->hostname : o->host; break;
		case 'n': add = o->host; break;
		case 'r': add = o->user[0] ? o->user : ssh_local_user(); break;
		case 'p':
			snprintf(num, sizeof num, "%d", o->port ? o->port : 22);
			add = num;
			break;
		case '%': add = "%"; break;
		default:
			/* Unknown tokens stay as written. */
			out[n++] = '%';
			if (n + 1 < outsz)
				out[n++] = *in;
			continue;
		}
		while (*add != '\0' && n + 1 < outsz)
			out[n++] = *add++;
	}
	out[n] = '\0';
}

static int config_error(struct config_ctx *x, const char *what)
{
	fprintf(stderr, "remowt: %s line %lu: %s\n", x->file, x->line, what);
	return -1;
}

/* Split a line into words: whitespace-separated, "quoted" allowed, and
 * "Keyword=value" splits at the first '='.  -1 on an unbalanced quote. */
static int split_words(char *line, char **argv, int max, int *argc)
{
	char *p = line, *w;
	int n = 0;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || (n == 1 && *p == '=' &&
		    argv[0] + strlen(argv[0]) + 1 <= p))
			p++;
		if (*p == '\0' || *p == '#')
			break;
		if (n == max)
			return -1;
		if (*p == '"') {
			w = ++p;
			while (*p != '\0' && *p != '"')
				p++;
			if (*p != '"')
				return -1;
		} else {
			w = p;
			while (*p != '\0' && *p != ' ' && *p != '\t' &&
			    (n > 0 || *p != '='))
				p++;
		}
		argv[n++] = w;
		if (*p != '\0')
			*p++ = '\0';
	}
	*argc = n;
	return 0;
}

/* A comma-separated pattern list: 1 if some positive pattern matches and
 * no negated one does. */
static int pattern_list_match(const char *list, const char *name)
{
	char pat[256], lname[256];
	const char *p = list;
	size_t i;
	int hit = 0;

	for (i = 0; name[i] != '\0' && i + 1 < sizeof lname; i++)
		lname[i] = (char)tolower((unsigned char)name[i]);
	lname[i] = '\0';
	while ((p = next_name(p, pat, sizeof pat)) != NULL) {
		int neg = pat[0] == '!';
		char *q;

		for (q = pat; *q != '\0'; q++)
			*q = (char)tolower((unsigned char)*q);
		if (wildmatch(pat + neg, lname)) {
			if (neg)
				return 0;
			hit = 1;
		}
	}
	return hit;
}

/* "Host a b !c": the patterns are words, each possibly negated. */
static int host_line_matches(struct config_ctx *x, char **argv, int argc)
{
	int i, hit = 0;

	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '!') {
			if (pattern_list_match(argv[i] + 1, x->o->host))
				return 0;
		} else if (pattern_list_match(argv[i], x->o->host)) {
			hit = 1;
		}
	}
	return hit;
}

/* Match all | [!]host|originalhost|user|localuser PATTERNS ...; -1 on an
 * unsupported criterion. */
static int match_line_matches(struct config_ctx *x, char **argv, int argc)
{
	struct ssh_opts *o = x->o;
	int i, result = 1, neg, hit;
	const char *crit, *subject;

	if (argc == 2 && strcasecmp(argv[1], "all") == 0)
		return 1;
	for (i = 1; i < argc; i += 2) {
		crit = argv[i];
		neg = crit[0] == '!';
		crit += neg;
		if (i + 1 >= argc)
			return config_error(x, "Match criterion without "
			    "patterns");
		if (strcasecmp(crit, "host") == 0)
			subject = o->hostname[0] ? o->hostname : o->host;
		else if (strcasecmp(crit, "originalhost") == 0)
			subject = o->host;
		else if (strcasecmp(crit, "user") == 0)
			subject = o->user[0] ? o->user : ssh_local_user();
		else if (strcasecmp(crit, "localuser") == 0)
			subject = ssh_local_user();
		else
			return config_error(x, "unsupported Match criterion "
			    "(remowt knows all, host, originalhost, user, "
			    "localuser)");
		hit = pattern_list_match(argv[i + 1], subject);
		if (hit == neg)
			result = 0;
	}
	return result;
}

static int config_include(struct config_ctx *x, char **argv, int argc)
{
	char pattern[2 * SSH_PATH_MAX + 16], expanded[SSH_PATH_MAX];
	glob_t g;
	size_t j;
	int i, r;

	if (x->depth >= CONFIG_MAX_DEPTH)
		return config_error(x, "Include nested too deeply");
	for (i = 1; i < argc; i++) {
		ssh_expand_tokens(x->o, argv[i], expanded, sizeof expanded);
		if (expanded[0] == '/')
			snprintf(pattern, sizeof pattern, "%s", expanded);
		else if (x->user_file)
			snprintf(pattern, sizeof pattern, "%s/.ssh/%s",
			    ssh_home_dir(), expanded);
		else
			snprintf(pattern, sizeof pattern, "/etc/ssh/%s",
			    expanded);
		r = glob(pattern, 0, NULL, &g);
		if (r == GLOB_NOMATCH)
			continue;
		if (r != 0)
			return config_error(x, "cannot expand Include");
		for (j = 0; j < g.gl_pathc; j++) {
			if (config_read(x->o, g.gl_pathv[j], x->user_file,
			    x->depth + 1) != 0) {
				globfree(&g);
				return -1;
			}
		}
		globfree(&g);
	}
	return 0;
}

static int config_line(struct config_ctx *x, char *line, int *active)
{
	char *argv[CONFIG_MAX_ARGS], value[CONFIG_MAX_LINE];
	int argc, i, r;
	size_t n = 0;

	if (split_words(line, argv, CONFIG_MAX_ARGS, &argc) != 0)
		return config_error(x, "unbalanced quotes or too many words");
	if (argc == 0)
		return 0;
	if (strcasecmp(argv[0], "Host") == 0) {
		if (argc < 2)
			return config_error(x, "Host needs a pattern");
		*active = host_line_matches(x, argv, argc);
		return 0;
	}
	if (strcasecmp(argv[0], "Match") == 0) {
		if (argc < 2)
			return config_error(x, "Match needs a criterion");
		r = match_line_matches(x, argv, argc);
		if (r < 0)
			return -1;
		*active = r;
		return 0;
	}
	if (!*active)
		return 0;
	if (strcasecmp(argv[0], "Include") == 0)
		return config_include(x, argv, argc);
	if (argc < 2)
		return config_error(x, "keyword without a value");
	/* Multi-word values (ProxyCommand) are joined back with spaces. */
	value[0] = '\0';
	for (i = 1; i < argc; i++)
		n += (size_t)snprintf(value + n, n < sizeof value ?
		    sizeof value - n : 0, "%s%s", i > 1 ? " " : "", argv[i]);
	if (n >= sizeof value)
		return config_error(x, "value too long");
	snprintf(where, sizeof where, "%s line %lu: ", x->file, x->line);
	r = set_keyword(x->o, argv[0], value);
	where[0] = '\0';
	return r < 0 ? -1 : 0;
}

/*
 * Opens a configuration file for reading.  Only regular files are read,
 * and /dev/null, which users pass as -F to read nothing: an Include glob
 * that matches a FIFO, a terminal or /dev/zero must not block or spin.
 * The open itself must not block either, hence O_NONBLOCK until fstat.
 * Sets *not_regular when the file was refused for its type.
 */
static FILE *config_open(const char *path, int *not_regular)
{
	struct stat st;
	FILE *f;
	int fd;

	*not_regular = 0;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0)
		goto fail;
	if (!S_ISREG(st.st_mode) && !(S_ISCHR(st.st_mode) &&
	    st.st_rdev == makedev(1, 3))) {
		*not_regular = 1;
		goto fail;
	}
	if (fcntl(fd, F_SETFL, 0) != 0 || (f = fdopen(fd, "r")) == NULL)
		goto fail;
	return f;
fail:
	{
		int saved = errno;
		close(fd);
		errno = saved;
	}
	return NULL;
}

static int config_read(struct ssh_opts *o, const char *path, int user_file,
    int depth)
{
	struct config_ctx x = { o, path, 0, user_file, depth };
	char line[CONFIG_MAX_LINE];
	int active = 1, rc = 0, not_regular;
	size_t len;
	FILE *f;

	f = config_open(path, &not_regular);
	if (f == NULL) {
		if (errno == ENOENT && depth == 0 && o->config_file[0] == '\0')
			return 0;
		if (errno == ENOENT && depth > 0)
			return 0;
		if (not_regular)
			fprintf(stderr, "remowt: cannot read %s: not a regular "
			    "file\n", path);
		else
			fprintf(stderr, "remowt: cannot read %s: %s\n", path,
			    strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof line, f) != NULL) {
		x.line++;
		len = strlen(line);
		if (len == sizeof line - 1 && line[len - 1] != '\n') {
			rc = config_error(&x, "line too long");
			break;
		}
		line[strcspn(line, "\r\n")] = '\0';
		rc = config_line(&x, line, &active);
	}
	fclose(f);
	return rc;
}

int ssh_opts_load_config(struct ssh_opts *o)
{
	char user[SSH_PATH_MAX];

	if (o->config_loaded)
		return 0;
	o->config_loaded = 1;
	/* As in ssh: -F none reads no configuration file at all. */
	if (strcmp(o->config_file, "none") == 0)
		return 0;
	if (o->config_file[0] != '\0') {
		ssh_expand_tokens(o, o->config_file, user, sizeof user);
		return config_read(o, user, 1, 0);
	}
	snprintf(user, sizeof user, "%s/.ssh/config", ssh_home_dir());
	if (config_read(o, user, 1, 0) != 0)
		return -1;
	return config_read(o, "/etc/ssh/ssh_config", 0, 0);
}
