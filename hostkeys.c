/*
 * hostkeys.c - known_hosts files: look up, verify and record host keys.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bearssl.h>

#include "hostkeys.h"

#define HK_MAX_LINE (16 * 1024)   /* longer lines are skipped */
#define HK_MAX_NAME 300           /* "[" host "]:" port */
#define HK_HASH_MAGIC "|1|"
#define HK_SALT_LEN br_sha1_SIZE
#define HK_B64_20 29              /* base64 of 20 bytes, padded, + NUL */

/* A known_hosts line position. */
struct hk_where {
	char file[sizeof ((struct hk_result *)0)->file];
	unsigned long line;
	char fingerprint[SSHKEY_FP_LEN];
};

struct hk_scan {
	char name[HK_MAX_NAME];          /* host or [host]:port, lower case */
	const struct sshkey *key;
	char known_types[sizeof ((struct hk_result *)0)->known_types];
	int revoked, matched, changed, error;
	struct hk_where revoked_at, matched_at, changed_at, error_at;
};

/*
 * Build the name a host is recorded under: lower case, and in the
 * "[host]:port" form for ports other than 22.
 */
static int lookup_name(char *out, size_t outsz, const char *host, int port)
{
	char lower[HK_MAX_NAME];
	size_t i, len = strlen(host);
	int n;

	if (len == 0 || len >= sizeof lower || port < 0 || port > 65535)
		return -1;
	for (i = 0; i <= len; i++)
		lower[i] = (char)tolower((unsigned char)host[i]);
	if (port == 0 || port == 22)
		n = snprintf(out, outsz, "%s", lower);
	else
		n = snprintf(out, outsz, "[%s]:%d", lower, port);
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

static void record(struct hk_where *w, const char *file, unsigned long line,
    const struct sshkey *k)
{
	snprintf(w->file, sizeof w->file, "%s", file);
	w->line = line;
	if (k != NULL)
		sshkey_fingerprint(k, w->fingerprint);
}

/*
 * Host patterns.
 */

/* Glob match of pattern pat[0..plen) against s, case-insensitively. */
static int wildcard_match(const char *pat, size_t plen, const char *s)
{
	size_t p = 0, star = 0;
	const char *resume = NULL;

	while (*s != '\0') {
		if (p < plen && pat[p] == '*') {
			star = ++p;
			resume = s;
		} else if (p < plen && (pat[p] == '?' ||
		    tolower((unsigned char)pat[p]) ==
		    tolower((unsigned char)*s))) {
			p++;
			s++;
		} else if (resume != NULL) {
			/* Let the last star swallow one more character. */
			p = star;
			s = ++resume;
		} else
			return 0;
	}
	while (p < plen && pat[p] == '*')
		p++;
	return p == plen;
}

/* A comma-separated pattern list: a negated match vetoes the line. */
static int pattern_list_matches(const char *list, const char *name)
{
	const char *pat = list;
	size_t len;
	int negate, found = 0;

	for (;;) {
		len = strcspn(pat, ",");
		negate = len > 0 && pat[0] == '!';
		if (wildcard_match(pat + negate, len - (size_t)negate, name)) {
			if (negate)
				return 0;
			found = 1;
		}
		if (pat[len] == '\0')
			break;
		pat += len + 1;
	}
	return found;
}

static int decode_20(uint8_t out[20], const char *b64, size_t len)
{
	return base64_decode(out, 20, b64, len) == 20 ? 0 : -1;
}

/* "|1|base64(salt)|base64(HMAC-SHA1(salt, name))" */
static int hashed_matches(const char *field, const char *name)
{
	br_hmac_key_context kc;
	br_hmac_context hc;
	uint8_t salt[HK_SALT_LEN], want[br_sha1_SIZE], got[br_sha1_SIZE];
	const char *salt64 = field + strlen(HK_HASH_MAGIC), *hash64;

	if ((hash64 = strchr(salt64, '|')) == NULL)
		return 0;
	if (decode_20(salt, salt64, (size_t)(hash64 - salt64)) != 0 ||
	    decode_20(want, hash64 + 1, strlen(hash64 + 1)) != 0)
		return 0;
	br_hmac_key_init(&kc, &br_sha1_vtable, salt, sizeof salt);
	br_hmac_init(&hc, &kc, 0);
	br_hmac_update(&hc, name, strlen(name));
	br_hmac_out(&hc, got);
	return ct_memcmp(got, want, sizeof got) == 0;
}

static int hosts_field_matches(const char *field, const char *name)
{
	if (strncmp(field, HK_HASH_MAGIC, strlen(HK_HASH_MAGIC)) == 0)
		return hashed_matches(field, name);
	return pattern_list_matches(field, name);
}

/*
 * Lines.
 */

/* Cut the next blank-separated field off *cp. */
static char *next_field(char **cp)
{
	char *s = *cp, *e;

	s += strspn(s, " \t");
	if (*s == '\0')
		return NULL;
	e = s + strcspn(s, " \t");
	if (*e != '\0')
		*e++ = '\0';
	*cp = e;
	return s;
}

/* The key written as "type base64"; -1 if malformed or unsupported. */
static int decode_line_key(struct sshkey *k, const char *type,
    const char *b64)
{
	uint8_t blob[SSHKEY_MAX_BLOB];
	long n;

	if ((n = base64_decode(blob, sizeof blob, b64, strlen(b64))) < 0 ||
	    sshkey_from_blob(k, blob, (size_t)n) != 0)
		return -1;
	return strcmp(type, sshkey_type_name(k)) == 0 ? 0 : -1;
}

static int same_key(const struct sshkey *a, const struct sshkey *b)
{
	return a->blob_len == b->blob_len &&
	    memcmp(a->blob, b->blob, a->blob_len) == 0;
}

static int list_contains(const char *list, const char *item)
{
	size_t len, n = strlen(item);

	while (*list != '\0') {
		len = strcspn(list, ",");
		if (len == n && strncmp(list, item, n) == 0)
			return 1;
		list += len;
		if (*list == ',')
			list++;
	}
	return 0;
}

static void add_known_type(struct hk_scan *sc, const char *type)
{
	char *list = sc->known_types;
	size_t used = strlen(list), tlen = strlen(type);

	if (list_contains(list, type) ||
	    used + 1 + tlen >= sizeof sc->known_types)
		return;
	if (used > 0)
		list[used++] = ',';
	memcpy(list + used, type, tlen + 1);
}

static void scan_line(struct hk_scan *sc, char *line, const char *file,
    unsigned long lineno)
{
	struct sshkey k;
	char *cp = line, *marker = NULL, *hosts, *type, *b64;
	size_t len;

	len = strlen(line);
	if (len > 0 && line[len - 1] == '\r')
		line[len - 1] = '\0';
	cp += strspn(cp, " \t");
	if (*cp == '\0' || *cp == '#')
		return;
	if (*cp == '@') {
		marker = next_field(&cp);
		/* @cert-authority lines and unknown markers are skipped. */
		if (strcmp(marker, "@revoked") != 0)
			return;
	}
	if ((hosts = next_field(&cp)) == NULL ||
	    (type = next_field(&cp)) == NULL ||
	    (b64 = next_field(&cp)) == NULL)
		return;
	if (marker != NULL) {
		if (!sc->revoked && decode_line_key(&k, type, b64) == 0 &&
		    same_key(&k, sc->key)) {
			sc->revoked = 1;
			record(&sc->revoked_at, file, lineno, &k);
		}
		return;
	}
	if (!hosts_field_matches(hosts, sc->name) ||
	    decode_line_key(&k, type, b64) != 0)
		return;
	add_known_type(sc, type);
	if (same_key(&k, sc->key)) {
		if (!sc->matched)
			record(&sc->matched_at, file, lineno, NULL);
		sc->matched = 1;
	} else if (k.type == sc->key->type && !sc->changed) {
		sc->changed = 1;
		record(&sc->changed_at, file, lineno, &k);
	}
}

/*
 * One line into line[0..cap), without its newline: 1 for a line, 0 at
 * end of file, -1 on a read error.  *skip is set for lines too long or
 * holding a NUL; they are consumed whole.
 */
static int read_line(FILE *f, char *line, size_t cap, int *skip)
{
	size_t n = 0;
	int c, any = 0;

	*skip = 0;
	while ((c = getc(f)) != EOF) {
		any = 1;
		if (c == '\n')
			break;
		if (c == '\0' || n + 1 >= cap)
			*skip = 1;
		else
			line[n++] = (char)c;
	}
	line[n] = '\0';
	if (ferror(f))
		return -1;
	return any;
}

static void scan_file(struct hk_scan *sc, const char *path, char *line)
{
	FILE *f;
	unsigned long lineno = 0;
	int r = 0, skip;

	if ((f = fopen(path, "re")) == NULL) {
		if (errno != ENOENT && errno != ENOTDIR && !sc->error) {
			sc->error = 1;
			record(&sc->error_at, path, 0, NULL);
		}
		return;
	}
	while (!sc->revoked && (r = read_line(f, line, HK_MAX_LINE + 1,
	    &skip)) > 0) {
		lineno++;
		if (!skip)
			scan_line(sc, line, path, lineno);
	}
	if (!sc->revoked && r < 0 && !sc->error) {
		sc->error = 1;
		record(&sc->error_at, path, lineno + 1, NULL);
	}
	fclose(f);
}

static void set_result(struct hk_result *res, enum hk_status status,
    const struct hk_where *w)
{
	res->status = status;
	if (w == NULL)
		return;
	snprintf(res->file, sizeof res->file, "%s", w->file);
	res->line = w->line;
	snprintf(res->old_fingerprint, sizeof res->old_fingerprint, "%s",
	    w->fingerprint);
}

/*
 * A revoked key is refused wherever it is listed; a matching line wins
 * over lines with another key of the same type; an unreadable file
 * leaves the answer open, which only matters when nothing was found.
 */
void hostkeys_check(const char *const *files, int nfiles, const char *host,
    int port, const struct sshkey *key, struct hk_result *res)
{
	struct hk_scan *sc;
	char *line;
	int i;

	memset(res, 0, sizeof *res);
	res->status = HK_ERROR;
	sc = calloc(1, sizeof *sc);
	line = malloc(HK_MAX_LINE + 1);
	if (sc == NULL || line == NULL ||
	    lookup_name(sc->name, sizeof sc->name, host, port) != 0)
		goto out;
	sc->key = key;
	for (i = 0; i < nfiles && !sc->revoked; i++)
		scan_file(sc, files[i], line);
	if (sc->revoked)
		set_result(res, HK_REVOKED, &sc->revoked_at);
	else if (sc->matched)
		set_result(res, HK_MATCH, &sc->matched_at);
	else if (sc->changed)
		set_result(res, HK_CHANGED, &sc->changed_at);
	else if (sc->error)
		set_result(res, HK_ERROR, &sc->error_at);
	else
		set_result(res, HK_UNKNOWN, NULL);
	memcpy(res->known_types, sc->known_types, sizeof res->known_types);
out:
	free(line);
	free(sc);
}

/*
 * Recording.
 */

/* Characters that cannot appear in a host name we record. */
static int host_is_recordable(const char *host)
{
	const unsigned char *p;

	for (p = (const unsigned char *)host; *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr(",*?!|[]#@\\", *p))
			return 0;
	return 1;
}

static int fill_random(uint8_t *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		r = getrandom(p, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int hash_name(char *out, size_t outsz, const char *name)
{
	br_hmac_key_context kc;
	br_hmac_context hc;
	uint8_t salt[HK_SALT_LEN], mac[br_sha1_SIZE];
	char salt64[HK_B64_20], mac64[HK_B64_20];
	int n;

	if (fill_random(salt, sizeof salt) != 0)
		return -1;
	br_hmac_key_init(&kc, &br_sha1_vtable, salt, sizeof salt);
	br_hmac_init(&hc, &kc, 0);
	br_hmac_update(&hc, name, strlen(name));
	br_hmac_out(&hc, mac);
	base64_encode(salt64, sizeof salt64, salt, sizeof salt, 1);
	base64_encode(mac64, sizeof mac64, mac, sizeof mac, 1);
	n = snprintf(out, outsz, "%s%s|%s", HK_HASH_MAGIC, salt64, mac64);
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

/* "hosts type base64\n" into out, its length in *len. */
static int build_line(char *out, size_t outsz, size_t *len,
    const char *name, const struct sshkey *key, int hash)
{
	char hosts[HK_MAX_NAME];
	char b64[SSHKEY_MAX_BLOB / 3 * 4 + 8];
	int n;

	if (hash) {
		if (hash_name(hosts, sizeof hosts, name) != 0)
			return -1;
	} else
		snprintf(hosts, sizeof hosts, "%s", name);
	if (base64_encode(b64, sizeof b64, key->blob, key->blob_len, 1) == 0)
		return -1;
	n = snprintf(out, outsz, "%s %s %s\n", hosts, sshkey_type_name(key),
	    b64);
	if (n < 0 || (size_t)n >= outsz)
		return -1;
	*len = (size_t)n;
	return 0;
}

/* Create the directory holding path, one level, mode 0700. */
static int make_parent_dir(const char *path)
{
	char dir[4096];
	char *slash;
	size_t len = strlen(path);

	if (len >= sizeof dir) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dir, path, len + 1);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* Does the file end without a newline, so that ours must come first? */
static int needs_newline(int fd)
{
	struct stat st;
	char last;

	if (fstat(fd, &st) != 0 || st.st_size == 0)
		return 0;
	if (pread(fd, &last, 1, st.st_size - 1) != 1)
		return 0;
	return last != '\n';
}

/* line[0] is a spare byte for a separating newline. */
static int append_line(const char *path, char *line, size_t len)
{
	const char *p = line + 1;
	ssize_t n;
	int fd, saved;

	fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
	    0600);
	if (fd < 0)
		return -1;
	if (needs_newline(fd)) {
		line[0] = '\n';
		p = line;
		len++;
	}
	/* One write, so that concurrent appenders do not interleave. */
	do
		n = write(fd, p, len);
	while (n < 0 && errno == EINTR);
	if (n >= 0 && (size_t)n != len)
		errno = ENOSPC;
	if (n < 0 || (size_t)n != len || fsync(fd) != 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return close(fd);
}

int hostkeys_add(const char *file, const char *host, int port,
    const struct sshkey *key, int hash)
{
	char name[HK_MAX_NAME];
	char line[1 + HK_MAX_NAME + 32 + SSHKEY_MAX_BLOB / 3 * 4 + 16];
	size_t len;

	if (key->type == KEY_UNKNOWN || key->blob_len == 0 ||
	    !host_is_recordable(host) ||
	    lookup_name(name, sizeof name, host, port) != 0) {
		errno = EINVAL;
		return -1;
	}
	if (build_line(line + 1, sizeof line - 1, &len, name, key, hash) != 0) {
		errno = EINVAL;
		return -1;
	}
	if (make_parent_dir(file) != 0)
		return -1;
	return append_line(file, line, len);
}
