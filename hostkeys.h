/*
 * hostkeys.h - known_hosts: look up, verify and record server host keys.
 */
#ifndef REMOWT_HOSTKEYS_H
#define REMOWT_HOSTKEYS_H

#include "sshkey.h"

enum hk_status {
	HK_MATCH = 0,    /* a line for this host has this key */
	HK_UNKNOWN,      /* no line for this host */
	HK_CHANGED,      /* lines for this host, none with this key type+key */
	HK_REVOKED,      /* the key is marked @revoked */
	HK_ERROR,        /* a file could not be read */
};

struct hk_result {
	enum hk_status status;
	/* For HK_CHANGED and HK_REVOKED: where the conflicting line is and
	 * the fingerprint of its key.  For HK_MATCH: where the key was
	 * found.  For HK_ERROR: the file that could not be read. */
	char file[512];
	unsigned long line;
	char old_fingerprint[SSHKEY_FP_LEN];
	/* Key types known for this host, comma-separated, in the order the
	 * files list them.  Lets the client prefer a host key algorithm it
	 * can verify. */
	char known_types[128];
};

/*
 * Check key for host (and port: lines are "[host]:port" unless port 22)
 * against every file in files[0..nfiles).  Missing files count as empty.
 * Plain, wildcard (*, ?, !negation) and hashed (|1|salt|hash) host
 * fields, @revoked lines, and several keys per host are handled;
 * @cert-authority lines are skipped.  A key of another type than the
 * offered one does not make the host "changed" by itself: OpenSSH
 * treats that as unknown for that type; so does this function.
 */
void hostkeys_check(const char *const *files, int nfiles, const char *host,
    int port, const struct sshkey *key, struct hk_result *res);

/* Append "host key" (hashed when hash is set) to file, creating it and
 * its directory (0700) if needed.  0 on success, -1 with errno. */
int hostkeys_add(const char *file, const char *host, int port,
    const struct sshkey *key, int hash);

#endif
