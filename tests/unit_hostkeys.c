/*
 * unit_hostkeys.c - known_hosts lookups and additions, checked against
 * files hashed and searched by ssh-keygen.
 *
 * Usage: unit_hostkeys DIR, DIR prepared by t_keys.sh (ed25519,
 * ed25519b, ed25519c, ecdsa and rsa public keys).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hostkeys.h"
#include "sshkey.h"

static const char *dir;
static int failures;

/* Keys: A, B and C are ed25519; C is the revoked one. */
static struct sshkey key_a, key_b, key_c, key_ec, key_rsa;

static void report(int, const char *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void report(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		printf("ok - %s\n", name);
		return;
	}
	failures++;
	printf("not ok - %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static const char *path(const char *name)
{
	static char bufs[8][1024];
	static int next;
	char *p = bufs[next++ % 8];

	snprintf(p, sizeof bufs[0], "%s/%s", dir, name);
	return p;
}

static char *read_file(const char *file, size_t *len)
{
	FILE *f;
	char *data;
	size_t cap = 1 << 20;

	if ((f = fopen(file, "rb")) == NULL)
		return NULL;
	if ((data = malloc(cap + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	*len = fread(data, 1, cap, f);
	fclose(f);
	data[*len] = '\0';
	return data;
}

static int write_file(const char *file, const void *data, size_t len)
{
	FILE *f;
	int r = 0;

	if ((f = fopen(file, "wb")) == NULL)
		return -1;
	if (fwrite(data, 1, len, f) != len)
		r = -1;
	if (fclose(f) != 0)
		r = -1;
	return r;
}

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int run(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static int load_pub(const char *name, struct sshkey *k)
{
	char file[256];
	size_t len;
	char *text;
	int r;

	snprintf(file, sizeof file, "%s.pub", name);
	if ((text = read_file(path(file), &len)) == NULL)
		return -1;
	r = sshkey_parse_public(k, text);
	free(text);
	return r;
}

/* "type base64" of a key, as on a known_hosts line. */
static const char *kt(const struct sshkey *k)
{
	static char bufs[4][2048];
	static int next;
	char *p = bufs[next++ % 4];
	size_t n;

	n = (size_t)snprintf(p, sizeof bufs[0], "%s ", sshkey_type_name(k));
	base64_encode(p + n, sizeof bufs[0] - n, k->blob, k->blob_len, 1);
	return p;
}

/*
 * A known_hosts file built line by line, remembering line numbers.
 */
struct khfile {
	char *text;
	size_t len, cap;
	unsigned long lines;
};

static unsigned long kh_line(struct khfile *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static unsigned long kh_line(struct khfile *f, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(f->text + f->len, f->cap - f->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n + 2 >= f->cap - f->len) {
		fprintf(stderr, "unit_hostkeys: test file too large\n");
		exit(2);
	}
	f->len += (size_t)n;
	f->text[f->len++] = '\n';
	return ++f->lines;
}

/* One lookup in the given files. */
static struct hk_result check_in(const char *const *files, int nfiles,
    const char *host, int port, const struct sshkey *k)
{
	struct hk_result res;

	hostkeys_check(files, nfiles, host, port, k, &res);
	return res;
}

static struct hk_result check(const char *file, const char *host, int port,
    const struct sshkey *k)
{
	return check_in(&file, 1, host, port, k);
}

static const char *status_name(enum hk_status s)
{
	static const char *const names[] = {
		"MATCH", "UNKNOWN", "CHANGED", "REVOKED", "ERROR"
	};

	return (unsigned)s < 5 ? names[s] : "?";
}

static void expect(const char *tname, const char *file, const char *host,
    int port, const struct sshkey *k, enum hk_status want)
{
	struct hk_result res = check(file, host, port, k);

	report(res.status == want, tname, "%s %d: %s, want %s", host, port,
	    status_name(res.status), status_name(want));
}

static void test_lookups(void)
{
	struct khfile f;
	struct hk_result res;
	const char *kh = path("known_hosts");
	unsigned long l_host1, l_changed, l_revoked, l_crlf;
	char fp_a[SSHKEY_FP_LEN], fp_c[SSHKEY_FP_LEN];
	char *longline;

	f.cap = 1 << 16;
	f.text = malloc(f.cap);
	f.len = 0;
	f.lines = 0;
	longline = malloc(20 * 1024 + 1);
	if (f.text == NULL || longline == NULL)
		exit(2);
	memset(longline, 'x', 20 * 1024);
	longline[20 * 1024] = '\0';

	kh_line(&f, "# a comment %s", "with words");
	kh_line(&f, "%s", "");
	kh_line(&f, "   ");
	l_host1 = kh_line(&f, "host1.example.com,10.0.0.1 %s", kt(&key_a));
	kh_line(&f, "*.wild.example %s", kt(&key_a));
	kh_line(&f, "node?.q.example %s", kt(&key_a));
	kh_line(&f, "*.neg.example,!bad.neg.example %s", kt(&key_a));
	kh_line(&f, "[port.example]:2222 %s", kt(&key_a));
	kh_line(&f, "multi.example %s", kt(&key_a));
	kh_line(&f, "multi.example %s", kt(&key_ec));
	kh_line(&f, "multi.example %s comment here", kt(&key_rsa));
	l_changed = kh_line(&f, "changed.example %s", kt(&key_a));
	kh_line(&f, "changed.example %s", kt(&key_c));
	kh_line(&f, "both.example %s", kt(&key_b));
	kh_line(&f, "both.example %s", kt(&key_a));
	kh_line(&f, "dup.example %s", kt(&key_a));
	kh_line(&f, "dup.example %s", kt(&key_ec));
	kh_line(&f, "dup.example %s", kt(&key_b));
	kh_line(&f, "rsaonly.example %s", kt(&key_rsa));
	kh_line(&f, "@cert-authority *.ca.example %s", kt(&key_a));
	kh_line(&f, "revoked.example %s", kt(&key_c));
	l_revoked = kh_line(&f, "@revoked * %s", kt(&key_c));
	/* Malformed lines, all to be ignored. */
	kh_line(&f, "garbage");
	kh_line(&f, "bad1.example ssh-ed25519");
	kh_line(&f, "bad2.example ssh-ed25519 !!!notbase64");
	kh_line(&f, "bad3.example ssh-rsa %s", kt(&key_a) + 12);
	kh_line(&f, "bad4.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA");
	kh_line(&f, "@unknown-marker bad5.example %s", kt(&key_a));
	kh_line(&f, "@revoked");
	kh_line(&f, "|1|bad|bad %s", kt(&key_a));
	kh_line(&f, "|1| %s", kt(&key_a));
	kh_line(&f, "|1|%s", "");
	kh_line(&f, ",,, %s", kt(&key_a));
	kh_line(&f, "! %s", kt(&key_a));
	kh_line(&f, "long.example %s %s", kt(&key_a), longline);
	kh_line(&f, "afterlong.example %s", kt(&key_a));
	kh_line(&f, "nul.example %s X", kt(&key_a));
	f.text[f.len - 2] = '\0';   /* a NUL in place of the comment */
	l_crlf = kh_line(&f, "crlf.example %s\r", kt(&key_a));
	kh_line(&f, "   \tws.example\t%s", kt(&key_a));
	kh_line(&f, "tab.example\tssh-ed25519\t%s", kt(&key_a) + 12);
	/* The last line has no newline. */
	kh_line(&f, "last.example %s", kt(&key_a));
	f.len--;
	if (write_file(kh, f.text, f.len) != 0) {
		report(0, "known_hosts lookups", "cannot write %s", kh);
		exit(2);
	}

	res = check(kh, "host1.example.com", 22, &key_a);
	report(res.status == HK_MATCH && res.line == l_host1 &&
	    strcmp(res.file, kh) == 0 &&
	    strcmp(res.known_types, "ssh-ed25519") == 0, "plain host matches",
	    "%s line %lu types '%s'", status_name(res.status), res.line,
	    res.known_types);
	expect("host name is case-insensitive", kh, "HOST1.Example.COM", 22,
	    &key_a, HK_MATCH);
	expect("second name in a list", kh, "10.0.0.1", 22, &key_a, HK_MATCH);
	expect("port 0 means 22", kh, "10.0.0.1", 0, &key_a, HK_MATCH);
	res = check(kh, "nothere.example", 22, &key_a);
	report(res.status == HK_UNKNOWN && res.known_types[0] == '\0',
	    "unknown host", "%s types '%s'", status_name(res.status),
	    res.known_types);
	expect("prefix of a name does not match", kh, "host1.example", 22,
	    &key_a, HK_UNKNOWN);

	expect("* wildcard", kh, "a.wild.example", 22, &key_a, HK_MATCH);
	expect("* spans dots", kh, "x.y.wild.example", 22, &key_a, HK_MATCH);
	expect("* needs its dot", kh, "wild.example", 22, &key_a, HK_UNKNOWN);
	expect("? wildcard", kh, "node1.q.example", 22, &key_a, HK_MATCH);
	expect("? is one character", kh, "node12.q.example", 22, &key_a,
	    HK_UNKNOWN);
	expect("negation leaves others", kh, "good.neg.example", 22, &key_a,
	    HK_MATCH);
	expect("negation excludes", kh, "bad.neg.example", 22, &key_a,
	    HK_UNKNOWN);

	expect("[host]:port", kh, "port.example", 2222, &key_a, HK_MATCH);
	expect("[host]:port not for port 22", kh, "port.example", 22, &key_a,
	    HK_UNKNOWN);
	expect("[host]:port not for another port", kh, "port.example", 2200,
	    &key_a, HK_UNKNOWN);
	expect("plain line not for another port", kh, "host1.example.com",
	    2222, &key_a, HK_UNKNOWN);

	expect("several keys: ed25519", kh, "multi.example", 22, &key_a,
	    HK_MATCH);
	expect("several keys: ecdsa", kh, "multi.example", 22, &key_ec,
	    HK_MATCH);
	res = check(kh, "multi.example", 22, &key_rsa);
	report(res.status == HK_MATCH && strcmp(res.known_types,
	    "ssh-ed25519,ecdsa-sha2-nistp256,ssh-rsa") == 0,
	    "several keys: rsa, known types in file order", "%s '%s'",
	    status_name(res.status), res.known_types);
	{
		struct sshkey none;

		/* How the client asks which key types a host has. */
		memset(&none, 0, sizeof none);
		res = check(kh, "multi.example", 22, &none);
		report(res.status == HK_UNKNOWN && strcmp(res.known_types,
		    "ssh-ed25519,ecdsa-sha2-nistp256,ssh-rsa") == 0,
		    "known types asked with an empty key", "%s '%s'",
		    status_name(res.status), res.known_types);
	}
	res = check(kh, "dup.example", 22, &key_rsa);
	report(res.status == HK_UNKNOWN && strcmp(res.known_types,
	    "ssh-ed25519,ecdsa-sha2-nistp256") == 0,
	    "known types without duplicates", "%s '%s'",
	    status_name(res.status), res.known_types);

	sshkey_fingerprint(&key_a, fp_a);
	res = check(kh, "changed.example", 22, &key_b);
	report(res.status == HK_CHANGED && res.line == l_changed &&
	    strcmp(res.file, kh) == 0 &&
	    strcmp(res.old_fingerprint, fp_a) == 0,
	    "changed key: first old line and fingerprint",
	    "%s %s:%lu %s", status_name(res.status), res.file, res.line,
	    res.old_fingerprint);
	expect("old key still matches", kh, "changed.example", 22, &key_a,
	    HK_MATCH);
	expect("a matching line wins over a changed one", kh, "both.example",
	    22, &key_a, HK_MATCH);
	res = check(kh, "rsaonly.example", 22, &key_a);
	report(res.status == HK_UNKNOWN && strcmp(res.known_types,
	    "ssh-rsa") == 0, "key of another type only: unknown",
	    "%s '%s'", status_name(res.status), res.known_types);
	expect("@cert-authority lines skipped", kh, "host.ca.example", 22,
	    &key_a, HK_UNKNOWN);

	sshkey_fingerprint(&key_c, fp_c);
	res = check(kh, "revoked.example", 22, &key_c);
	report(res.status == HK_REVOKED && res.line == l_revoked &&
	    strcmp(res.old_fingerprint, fp_c) == 0,
	    "@revoked beats a matching line", "%s line %lu",
	    status_name(res.status), res.line);
	expect("@revoked whatever the host", kh, "elsewhere.example", 2222,
	    &key_c, HK_REVOKED);
	expect("@revoked beats changed", kh, "changed.example", 22, &key_c,
	    HK_REVOKED);

	expect("garbage lines ignored", kh, "bad1.example", 22, &key_a,
	    HK_UNKNOWN);
	expect("bad base64 ignored", kh, "bad2.example", 22, &key_a,
	    HK_UNKNOWN);
	expect("type field mismatch ignored", kh, "bad3.example", 22, &key_a,
	    HK_UNKNOWN);
	expect("truncated key ignored", kh, "bad4.example", 22, &key_a,
	    HK_UNKNOWN);
	expect("unknown marker ignored", kh, "bad5.example", 22, &key_a,
	    HK_UNKNOWN);
	expect("overlong line skipped", kh, "long.example", 22, &key_a,
	    HK_UNKNOWN);
	expect("line after an overlong one read", kh, "afterlong.example", 22,
	    &key_a, HK_MATCH);
	expect("line holding a NUL skipped", kh, "nul.example", 22, &key_a,
	    HK_UNKNOWN);
	res = check(kh, "crlf.example", 22, &key_a);
	report(res.status == HK_MATCH && res.line == l_crlf,
	    "CRLF line and line numbers after a long line", "%s line %lu",
	    status_name(res.status), res.line);
	expect("leading blanks and tabs", kh, "ws.example", 22, &key_a,
	    HK_MATCH);
	expect("tab separators", kh, "tab.example", 22, &key_a, HK_MATCH);
	expect("last line without newline", kh, "last.example", 22, &key_a,
	    HK_MATCH);
	free(f.text);
	free(longline);
}

static void test_files(void)
{
	const char *files[3];
	struct hk_result res;
	char text[2048];

	snprintf(text, sizeof text, "# second file\nf2.example %s\n",
	    kt(&key_a));
	write_file(path("kh2"), text, strlen(text));
	files[0] = path("no-such-file");
	files[1] = path("kh2");
	res = check_in(files, 2, "f2.example", 22, &key_a);
	report(res.status == HK_MATCH && res.line == 2 &&
	    strcmp(res.file, files[1]) == 0, "missing file counts as empty",
	    "%s %s:%lu", status_name(res.status), res.file, res.line);

	files[0] = dir;     /* a directory: unreadable as a file */
	res = check_in(files, 2, "f2.example", 22, &key_a);
	report(res.status == HK_MATCH, "unreadable file, key found elsewhere",
	    "%s", status_name(res.status));
	res = check_in(files, 2, "nowhere.example", 22, &key_a);
	report(res.status == HK_ERROR && strcmp(res.file, dir) == 0,
	    "unreadable file, host unknown: error", "%s '%s'",
	    status_name(res.status), res.file);
	res = check_in(files, 0, "f2.example", 22, &key_a);
	report(res.status == HK_UNKNOWN, "no files: unknown", "%s",
	    status_name(res.status));
}

static void test_hashed(void)
{
	const char *kh = path("kh_hashed");
	struct hk_result res;
	char text[8192];
	size_t len;
	char *data;

	snprintf(text, sizeof text, "hashed.example %s\n"
	    "[hport.example]:2022 %s\nh1.example,h2.example %s\n",
	    kt(&key_a), kt(&key_a), kt(&key_ec));
	if (write_file(kh, text, strlen(text)) != 0 ||
	    run("ssh-keygen -q -H -f '%s' >/dev/null 2>&1", kh) != 0 ||
	    (data = read_file(kh, &len)) == NULL) {
		report(0, "ssh-keygen -H", "failed");
		return;
	}
	report(strstr(data, "|1|") != NULL && strstr(data, "example") == NULL,
	    "ssh-keygen -H hashed the names", "not hashed");
	free(data);

	expect("hashed host", kh, "hashed.example", 22, &key_a, HK_MATCH);
	expect("hashed host, upper case asked", kh, "HASHED.example", 22,
	    &key_a, HK_MATCH);
	expect("hashed [host]:port", kh, "hport.example", 2022, &key_a,
	    HK_MATCH);
	expect("hashed [host]:port, port 22 asked", kh, "hport.example", 22,
	    &key_a, HK_UNKNOWN);
	expect("hashed name list split by ssh-keygen", kh, "h2.example", 22,
	    &key_ec, HK_MATCH);
	res = check(kh, "hashed.example", 22, &key_b);
	report(res.status == HK_CHANGED && res.line == 1,
	    "hashed host with changed key", "%s line %lu",
	    status_name(res.status), res.line);
	expect("hashed: other host unknown", kh, "other.example", 22, &key_a,
	    HK_UNKNOWN);
}

/* Does ssh-keygen -F find name in file? */
static int keygen_finds(const char *file, const char *name)
{
	return run("ssh-keygen -F '%s' -f '%s' | grep -q '^# Host .* found'",
	    name, file) == 0;
}

static void test_add(void)
{
	const char *sub = path("newdir");
	const char *kh = path("newdir/known_hosts");
	struct stat st;
	char want[2048];
	size_t len;
	char *data;
	int ok;

	ok = hostkeys_add(kh, "Add.Example", 22, &key_a, 0) == 0;
	if (!ok || stat(sub, &st) != 0)
		st.st_mode = 0;
	report((st.st_mode & 0777) == 0700, "add creates the directory 0700",
	    "mode %o", (unsigned)st.st_mode & 0777);
	if (!ok || stat(kh, &st) != 0)
		st.st_mode = 0;
	report((st.st_mode & 0777) == 0600, "add creates the file 0600",
	    "mode %o", (unsigned)st.st_mode & 0777);
	snprintf(want, sizeof want, "add.example %s\n", kt(&key_a));
	data = read_file(kh, &len);
	report(data != NULL && strcmp(data, want) == 0,
	    "added plain line text", "'%s'", data != NULL ? data : "");
	free(data);
	expect("added plain line found", kh, "add.example", 22, &key_a,
	    HK_MATCH);

	ok = hostkeys_add(kh, "add.example", 2222, &key_ec, 1) == 0 &&
	    hostkeys_add(kh, "hashadd.example", 22, &key_rsa, 1) == 0;
	report(ok, "add hashed lines", "%s", strerror(errno));
	expect("added hashed [host]:port found", kh, "add.example", 2222,
	    &key_ec, HK_MATCH);
	expect("added hashed host found", kh, "hashadd.example", 22, &key_rsa,
	    HK_MATCH);
	expect("plain line still found", kh, "add.example", 22, &key_a,
	    HK_MATCH);
	data = read_file(kh, &len);
	report(data != NULL && strstr(data, "hashadd") == NULL &&
	    strstr(data, "2222") == NULL, "hashed lines hide the name",
	    "name in clear");
	free(data);
	report(keygen_finds(kh, "hashadd.example"),
	    "ssh-keygen -F finds our hashed host", "not found");
	report(keygen_finds(kh, "[add.example]:2222"),
	    "ssh-keygen -F finds our hashed [host]:port", "not found");
	report(keygen_finds(kh, "add.example"),
	    "ssh-keygen -F finds our plain host", "not found");

	/* A file whose last line has no newline gets one first. */
	snprintf(want, sizeof want, "nonl.example %s", kt(&key_a));
	write_file(path("kh_nonl"), want, strlen(want));
	ok = hostkeys_add(path("kh_nonl"), "next.example", 22, &key_b, 0) == 0;
	report(ok && check(path("kh_nonl"), "nonl.example", 22,
	    &key_a).status == HK_MATCH && check(path("kh_nonl"),
	    "next.example", 22, &key_b).status == HK_MATCH,
	    "add after a line without newline", "lines merged");

	errno = 0;
	ok = hostkeys_add(kh, "bad host", 22, &key_a, 0) != 0 &&
	    errno == EINVAL;
	ok &= hostkeys_add(kh, "a,b", 22, &key_a, 0) != 0;
	ok &= hostkeys_add(kh, "", 22, &key_a, 0) != 0;
	ok &= hostkeys_add(kh, "*.example", 22, &key_a, 0) != 0;
	ok &= hostkeys_add(kh, "x\n@revoked", 22, &key_a, 0) != 0;
	ok &= hostkeys_add(kh, "ok.example", 70000, &key_a, 0) != 0;
	report(ok, "add refuses bad host names and ports", "accepted");
	ok = hostkeys_add(path("no/such/dir/kh"), "x.example", 22, &key_a,
	    0) != 0;
	report(ok && errno == ENOENT, "add creates one directory level only",
	    "errno %d", errno);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: unit_hostkeys DIR (see t_keys.sh)\n");
		return 2;
	}
	dir = argv[1];
	if (strchr(dir, '\'') != NULL) {
		fprintf(stderr, "unit_hostkeys: DIR must not contain quotes\n");
		return 2;
	}
	if (load_pub("ed25519", &key_a) != 0 ||
	    load_pub("ed25519b", &key_b) != 0 ||
	    load_pub("ed25519c", &key_c) != 0 ||
	    load_pub("ecdsa", &key_ec) != 0 || load_pub("rsa", &key_rsa) != 0) {
		report(0, "load public keys", "missing in %s", dir);
		return 1;
	}

	test_lookups();
	test_files();
	test_hashed();
	test_add();
	return failures == 0 ? 0 : 1;
}
