/*
 * sshconfig.c - connection options: ssh-style command line options,
 * -o Key=Value, and the algorithm list syntax (+, -, ^).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sshconfig.h"

void ssh_opts_init(struct ssh_opts *o)
{
	memset(o, 0, sizeof *o);
	o->alive_interval = -1;
	o->alive_count_max = -1;
}

static int opt_error(const char *what, const char *arg)
{
	fprintf(stderr, "remowt: %s: '%s'\n", what, arg);
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

/*
 * One "Key Value" setting, as from -o or a config file.  The first value
 * obtained for a key wins.
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
		return set_first_str(o->ciphers, sizeof o->ciphers, v,
		    "bad Ciphers");
	if (strcasecmp(key, "KexAlgorithms") == 0)
		return set_first_str(o->kex, sizeof o->kex, v,
		    "bad KexAlgorithms");
	if (strcasecmp(key, "HostKeyAlgorithms") == 0)
		return set_first_str(o->hostkey_algs, sizeof o->hostkey_algs,
		    v, "bad HostKeyAlgorithms");
	if (strcasecmp(key, "MACs") == 0)
		return set_first_str(o->macs, sizeof o->macs, v, "bad MACs");
	fprintf(stderr, "remowt: unsupported option '%s' (see remowt --help)\n",
	    key);
	return -1;
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
	return set_keyword(o, key, p);
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
