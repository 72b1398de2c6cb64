/*
 * sshconfig.h - connection options: ssh-style command line options,
 * -o Key=Value, and the algorithm list syntax (+, -, ^).
 */
#ifndef REMOWT_SSHCONFIG_H
#define REMOWT_SSHCONFIG_H

#include <stddef.h>

#define SSH_MAX_IDENTITIES 16
#define SSH_MAX_KNOWN_HOSTS 4
#define SSH_PATH_MAX 1024

enum shkc {
	SHKC_UNSET = 0,
	SHKC_YES,           /* unknown hosts refused */
	SHKC_ASK,           /* a person at a terminal may accept */
	SHKC_ACCEPT_NEW,    /* unknown hosts recorded, changed refused */
	SHKC_NO,            /* unknown recorded, changed still refused */
};

/* Connection options, from the command line and then ssh_config: the
 * first value obtained for a setting wins, as in ssh. */
struct ssh_opts {
	char host[256];            /* as given by the user */
	char hostname[256];        /* what to connect to (HostName) */
	char user[128];
	int port;                  /* 0: unset */
	char identity[SSH_MAX_IDENTITIES][SSH_PATH_MAX];
	int n_identity;
	char certificate[SSH_MAX_IDENTITIES][SSH_PATH_MAX];
	int n_certificate;
	char known_hosts[SSH_MAX_KNOWN_HOSTS][SSH_PATH_MAX];
	int n_known_hosts;
	enum shkc strict;
	int connect_timeout;       /* seconds, 0: unset */
	int alive_interval;        /* seconds, -1: unset */
	int alive_count_max;       /* -1: unset */
	char ciphers[512];         /* as given, may start with + - ^ */
	char kex[512];
	char hostkey_algs[512];
	char macs[512];
	char pubkey_algs[512];     /* PubkeyAcceptedAlgorithms */
	int hash_known_hosts;      /* -1: unset */
	unsigned long long rekey_limit;   /* bytes, 0: unset (1 GiB) */
	int pubkey_auth;           /* -1: unset (yes) */
	int password_auth;         /* -1: unset (yes) */
	int kbdint_auth;           /* -1: unset (yes) */
	int batch_mode;            /* -1: unset (no) */
	int identities_only;       /* -1: unset (no) */
	char identity_agent[SSH_PATH_MAX];   /* "" default, "none" */
	int password_prompts;      /* 0: unset (3) */
	char proxy_jump[512];
	char proxy_command[1024];
	char config_file[SSH_PATH_MAX];
	int config_loaded;
	int verbose;               /* -v count */
	int quiet;
};

void ssh_opts_init(struct ssh_opts *o);
/*
 * One ssh-style option: ch is the option letter ('p', 'l', 'i', 'F',
 * 'o', 'J', 'v', 'q') and arg its argument (NULL for v and q).  Returns 0, or
 * -1 after printing a message naming the bad option.
 */
int ssh_opts_option(struct ssh_opts *o, int ch, const char *arg);
/* The option letters ssh_opts_option() takes, in getopt syntax. */
#define SSH_OPTS_GETOPT "p:l:i:F:o:J:vq"
/* [user@]host[:port] or ssh://[user@]host[:port]; -1 with a message if
 * malformed. */
int ssh_opts_destination(struct ssh_opts *o, const char *dest);

/*
 * Read ssh_config: the -F file alone if one was given, else
 * ~/.ssh/config and then /etc/ssh/ssh_config.  Host and Match blocks
 * select lines by the host name given; the first value obtained for a
 * setting wins, and keywords remowt does not use are ignored.  Returns 0,
 * or -1 after printing a message that names the file and line.
 */
int ssh_opts_load_config(struct ssh_opts *o);
/*
 * Expand a leading ~ and the tokens %% %d (home) %u (local user)
 * %h (remote host) %n (host as given) %r (remote user) %p (port).
 */
void ssh_expand_tokens(const struct ssh_opts *o, const char *in, char *out,
    size_t outsz);
/* The local user's name and home directory. */
const char *ssh_local_user(void);
const char *ssh_home_dir(void);

/*
 * Resolve an algorithm list setting against the defaults: a plain list
 * replaces them, "+list" appends, "-list" removes (wildcards allowed),
 * "^list" puts first.  Every name must be one of all (a comma-separated
 * list).  Writes a comma-separated list to out; -1 with a message in err
 * if a name is unknown or out is too small.
 */
int algs_resolve(const char *spec, const char *defaults, const char *all,
    char *out, size_t outsz, char *err, size_t errlen);
/* Does the comma-separated list contain name exactly? */
int namelist_has(const char *list, const char *name);
/* Shell-style wildcard match of * and ? (case-sensitive). */
int wildmatch(const char *pattern, const char *s);

#endif
