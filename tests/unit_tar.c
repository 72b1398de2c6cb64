/*
 * unit_tar.c - the tar reader and writer against GNU tar and busybox tar.
 *
 *  - archives that GNU tar (ustar, gnu, pax) and busybox tar make of a
 *    tree with long names and links, awkward names, empty files, a
 *    hard link, a fifo and fractional mtimes: every field as lstat(2)
 *    says, every byte of data as the file holds;
 *  - archives that tar.c writes, extracted by both: contents, modes,
 *    owners, mtimes and links as written; an 8 GiB size listed right;
 *  - hand-made archives, valid and broken: each break one clear error.
 *
 * Needs GNU tar; busybox cases are skipped without busybox.  Ownership
 * is checked only as root.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tar.h"

static int failures;
static char top[256];		/* the test's temporary directory */
static int have_busybox;
static int is_root;

static void check(int cond, const char *name, const char *why)
{
	if (cond) {
		printf("ok - %s\n", name);
	} else {
		printf("not ok - %s: %s\n", name, why);
		failures++;
	}
	fflush(stdout);
}

static void skip(const char *name, const char *why)
{
	printf("ok - %s # SKIP %s\n", name, why);
	fflush(stdout);
}

/* A printf into a static buffer, for "why" strings. */
static const char *fmt(const char *f, ...)
{
	static char buf[8][512];
	static int i;
	va_list ap;

	i = (i + 1) % 8;
	va_start(ap, f);
	vsnprintf(buf[i], sizeof buf[i], f, ap);
	va_end(ap);
	return buf[i];
}

/* Printable form of a path with odd bytes, for messages. */
static const char *shown(const char *p, size_t n)
{
	static char buf[4][160];
	static int k;
	size_t i, o = 0;

	k = (k + 1) % 4;
	for (i = 0; i < n && o + 5 < sizeof buf[k]; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 0x20 && c < 0x7f)
			buf[k][o++] = (char)c;
		else
			o += (size_t)snprintf(buf[k] + o, 5, "\\x%02x", c);
	}
	if (i < n)
		memcpy(buf[k] + o, "...", 4);
	else
		buf[k][o] = '\0';
	return buf[k];
}

/* ---- processes and files --------------------------------------------- */

/* argv through execvp; stdout to out_path when not NULL.  The exit
 * status, or -1. */
static int run(char *const argv[], const char *out_path)
{
	pid_t pid;
	int st, fd;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (out_path != NULL) {
			fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
			if (fd < 0 || dup2(fd, 1) < 0)
				_exit(126);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int remove_tree(const char *dir)
{
	char *argv[] = { "rm", "-rf", (char *)dir, NULL };

	return run(argv, NULL);
}

static ssize_t fd_read(void *ctx, void *buf, size_t n)
{
	ssize_t k;

	do
		k = read(*(int *)ctx, buf, n);
	while (k < 0 && errno == EINTR);
	return k;
}

static ssize_t fd_write(void *ctx, const void *buf, size_t n)
{
	ssize_t k;

	do
		k = write(*(int *)ctx, buf, n);
	while (k < 0 && errno == EINTR);
	return k;
}

/* Input from memory, at most chunk bytes a call; fails at fail_at. */
struct memsrc {
	const uint8_t *p;
	size_t len, pos, chunk, fail_at;
};

static ssize_t mem_read(void *ctx, void *buf, size_t n)
{
	struct memsrc *m = ctx;

	if (m->pos >= m->fail_at)
		return -1;
	if (n > m->len - m->pos)
		n = m->len - m->pos;
	if (n > m->chunk)
		n = m->chunk;
	memcpy(buf, m->p + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

/* Output to memory; at most chunk bytes a call; fails past cap. */
struct memsink {
	uint8_t *p;
	size_t len, cap, chunk;
};

static ssize_t mem_write(void *ctx, const void *buf, size_t n)
{
	struct memsink *m = ctx;

	if (m->len == m->cap)
		return -1;
	if (n > m->cap - m->len)
		n = m->cap - m->len;
	if (n > m->chunk)
		n = m->chunk;
	memcpy(m->p + m->len, buf, n);
	m->len += n;
	return (ssize_t)n;
}

/* The byte at offset i of the test data with this seed. */
static uint8_t pattern(unsigned seed, uint64_t i)
{
	return (uint8_t)((i * 131 + seed * 7 + (i >> 9)) & 0xff);
}

static int make_file(const char *path, size_t size, unsigned seed,
    mode_t mode)
{
	uint8_t buf[4096];
	size_t i, k, off = 0;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return -1;
	while (off < size) {
		k = size - off < sizeof buf ? size - off : sizeof buf;
		for (i = 0; i < k; i++)
			buf[i] = pattern(seed, off + i);
		if (write(fd, buf, k) != (ssize_t)k) {
			close(fd);
			return -1;
		}
		off += k;
	}
	if (fchmod(fd, mode) < 0) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static int set_mtime(const char *path, int64_t sec, long nsec)
{
	struct timespec ts[2];

	ts[0].tv_sec = ts[1].tv_sec = (time_t)sec;
	ts[0].tv_nsec = ts[1].tv_nsec = nsec;
	return utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW);
}

/* Compare n bytes of fd with what the reader gives; NULL when equal. */
static const char *compare_data(struct tar_reader *r, int fd, uint64_t size)
{
	uint8_t a[333], b[333];
	uint64_t off = 0;
	ssize_t k;

	for (;;) {
		k = tar_read(r, a, sizeof a);
		if (k < 0)
			return tar_error(r);
		if (k == 0)
			break;
		if (read(fd, b, (size_t)k) != k)
			return "file shorter than the entry";
		if (memcmp(a, b, (size_t)k) != 0)
			return fmt("data differs near byte %llu",
			    (unsigned long long)off);
		off += (uint64_t)k;
	}
	if (off != size)
		return fmt("read %llu bytes of %llu", (unsigned long long)off,
		    (unsigned long long)size);
	if (read(fd, b, 1) != 0)
		return "file longer than the entry";
	return NULL;
}

/* ---- the source tree -------------------------------------------------- */

#define TREE_LONG	0x01	/* paths over 255 bytes, links over 100 */
#define TREE_NEGTIME	0x02	/* an mtime before 1970 */
#define TREE_BIGID	0x04	/* a uid and gid over 07777777 (root only) */

#define MAX_NAMES	40

/* Every entry the tree has, relative to its root. */
static char tree_names[MAX_NAMES][TAR_MAX_PATH + 1];
static int tree_seen[MAX_NAMES];
static int tree_count;

static void fill(char *p, int c, size_t n)
{
	memset(p, c, n);
	p[n] = '\0';
}

static const char *add_name(const char *name)
{
	snprintf(tree_names[tree_count], sizeof tree_names[0], "%s", name);
	return tree_names[tree_count++];
}

/* a/b into out[0..size), cut short if it does not fit. */
static char *join(char *out, size_t size, const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);

	if (na + 1 + nb >= size)
		nb = na + 1 >= size ? 0 : size - na - 2;
	if (na >= size)
		na = size - 1;
	memcpy(out, a, na);
	if (na + 1 < size) {
		out[na++] = '/';
		memcpy(out + na, b, nb);
		na += nb;
	}
	out[na] = '\0';
	return out;
}

/* dir/name as a path, in one of two static buffers. */
static const char *at(const char *dir, const char *name)
{
	static char buf[2][TAR_MAX_PATH + 300];
	static int i;

	i ^= 1;
	return join(buf[i], sizeof buf[i], dir, name);
}

/*
 * The tree: files (one of 1000 bytes, one empty, names with a space, a
 * newline, invalid UTF-8), a directory, a path of 181 bytes (ustar's
 * prefix), a hard link, a symlink and a fifo; with TREE_LONG also paths
 * of 321 and 2500 bytes and a 300-byte link target.  Every entry gets
 * its own mtime with a fraction.
 */
static int build_tree(const char *dir, unsigned what)
{
	char a[128], b[128], c[300], long1[400], deep[TAR_MAX_PATH];
	size_t i, n;
	int rc = 0;

	tree_count = 0;
	if (mkdir(dir, 0755) < 0)
		return -1;
	rc |= make_file(at(dir, add_name("file")), 1000, 1, 0640);
	rc |= make_file(at(dir, add_name("empty")), 0, 2, 0600);
	rc |= mkdir(at(dir, add_name("dir")), 0750);
	rc |= make_file(at(dir, add_name("dir/inner")), 5000, 3, 0644);
	rc |= make_file(at(dir, add_name("with space")), 10, 4, 0644);
	rc |= make_file(at(dir, add_name("new\nline")), 11, 5, 0644);
	rc |= make_file(at(dir, add_name("bad\xff\xfe utf8")), 12, 6, 0644);
	rc |= link(at(dir, "file"), at(dir, add_name("hard")));
	rc |= symlink("file", at(dir, add_name("symlink")));
	rc |= mkfifo(at(dir, add_name("fifo")), 0644);
	fill(a, 'a', 90);
	fill(b, 'b', 90);
	rc |= mkdir(at(dir, add_name(a)), 0755);
	join(long1, sizeof long1, a, b);
	rc |= make_file(at(dir, add_name(long1)), 700, 7, 0644);
	if (what & TREE_LONG) {
		fill(c, 'c', 200);
		rc |= mkdir(at(dir, add_name(c)), 0755);
		fill(b, 'd', 120);
		join(long1, sizeof long1, c, b);
		rc |= make_file(at(dir, add_name(long1)), 513, 8, 0644);
		/* ten levels of 249 bytes, then a file: 2500 bytes */
		n = 0;
		for (i = 0; i < 10; i++) {
			if (i > 0)
				deep[n++] = '/';
			memset(deep + n, 'e' + (int)i, 249);
			n += 249;
			deep[n] = '\0';
			rc |= mkdir(at(dir, add_name(deep)), 0755);
		}
		memcpy(deep + n, "/f", 3);
		rc |= make_file(at(dir, add_name(deep)), 1, 9, 0644);
		fill(c, 'x', 299);
		rc |= symlink(c, at(dir, add_name("longlink")));
	}
	if (what & TREE_NEGTIME)
		rc |= make_file(at(dir, add_name("old")), 3, 10, 0644);
	if ((what & TREE_BIGID) && is_root) {
		rc |= make_file(at(dir, add_name("bigid")), 4, 11, 0644);
		rc |= chown(at(dir, "bigid"), 3000000, 3000001);
	}
	if (rc != 0)
		return -1;
	/* mtimes last: making entries changes their directories' */
	for (i = 0; i < (size_t)tree_count; i++) {
		int64_t sec = 1600000000 + (int64_t)i * 1000;

		if (strcmp(tree_names[i], "old") == 0)
			sec = -1000000;
		if (set_mtime(at(dir, tree_names[i]), sec,
		    (long)(123456789 + i)) < 0)
			return -1;
	}
	return set_mtime(dir, 1500000000, 5);
}

static int find_name(const char *p, size_t n)
{
	int i;

	for (i = 0; i < tree_count; i++)
		if (strlen(tree_names[i]) == n &&
		    memcmp(tree_names[i], p, n) == 0)
			return i;
	return -1;
}

/* One entry against lstat(2) of dir/rel; NULL when it matches. */
static const char *compare_entry(struct tar_reader *r, const char *dir,
    const struct tar_entry *e, const char *rel, int with_ns)
{
	struct stat st, lt;
	char link[TAR_MAX_PATH + 1];
	const char *why;
	ssize_t n;
	int fd;

	if (lstat(at(dir, rel), &st) < 0)
		return "lstat failed";
	if ((e->mode & 07777) != (st.st_mode & 07777))
		return fmt("mode %o, not %o", e->mode, st.st_mode & 07777);
	if (e->uid != st.st_uid || e->gid != st.st_gid)
		return fmt("owner %u:%u, not %u:%u", e->uid, e->gid,
		    (unsigned)st.st_uid, (unsigned)st.st_gid);
	if (e->type != TAR_HARDLINK &&
	    (e->mtime != st.st_mtim.tv_sec ||
	    e->mtime_ns != (with_ns ? st.st_mtim.tv_nsec : 0)))
		return fmt("mtime %lld.%09u, not %lld.%09ld",
		    (long long)e->mtime, e->mtime_ns,
		    (long long)st.st_mtim.tv_sec,
		    with_ns ? st.st_mtim.tv_nsec : 0L);
	switch (e->type) {
	case TAR_FILE:
		if (!S_ISREG(st.st_mode))
			return "a file in the archive, not on disk";
		if (e->size != (uint64_t)st.st_size)
			return fmt("size %llu, not %lld",
			    (unsigned long long)e->size, (long long)st.st_size);
		fd = open(at(dir, rel), O_RDONLY);
		if (fd < 0)
			return "cannot open the source";
		why = compare_data(r, fd, e->size);
		close(fd);
		return why;
	case TAR_DIR:
		return S_ISDIR(st.st_mode) ? NULL : "not a directory on disk";
	case TAR_SYMLINK:
		if (!S_ISLNK(st.st_mode))
			return "not a symlink on disk";
		n = readlink(at(dir, rel), link, sizeof link);
		if (n < 0 || (size_t)n != e->link_len ||
		    memcmp(link, e->link, (size_t)n) != 0)
			return fmt("link %s, not %s",
			    shown(e->link, e->link_len),
			    shown(link, n < 0 ? 0 : (size_t)n));
		return NULL;
	case TAR_HARDLINK:
		if (e->link_len > 2 && memcmp(e->link, "./", 2) == 0)
			why = at(dir, e->link + 2);
		else
			why = at(dir, e->link);
		if (lstat(why, &lt) < 0 || lt.st_ino != st.st_ino)
			return fmt("hard link to %s, not the same inode",
			    shown(e->link, e->link_len));
		return NULL;
	case TAR_OTHER:
		if (e->tflag != '6' || !S_ISFIFO(st.st_mode))
			return fmt("type '%c', fifo on disk: %d", e->tflag,
			    S_ISFIFO(st.st_mode));
		return e->size == 0 ? NULL : "a fifo with a size";
	}
	return "unknown type";
}

/*
 * Read the archive at path and compare every entry with the tree at dir
 * (entries are "./NAME", directories with a '/').  NULL when every entry
 * matches and every name of the tree was seen.
 */
static const char *compare_archive(const char *path, const char *dir,
    int with_ns, int *entries)
{
	static struct tar_entry e;
	struct tar_reader r;
	const char *why = NULL, *rel;
	size_t n;
	int fd, rc, i;

	memset(tree_seen, 0, sizeof tree_seen);
	*entries = 0;
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return "cannot open the archive";
	tar_reader_init(&r, fd_read, &fd);
	while (why == NULL && (rc = tar_next(&r, &e)) == 1) {
		(*entries)++;
		if (e.path[e.path_len] != '\0' || strlen(e.path) != e.path_len) {
			why = "path not NUL-terminated at path_len";
			break;
		}
		if (e.path_len < 2 || memcmp(e.path, "./", 2) != 0) {
			why = fmt("entry %s outside ./",
			    shown(e.path, e.path_len));
			break;
		}
		rel = e.path + 2;
		n = e.path_len - 2;
		if (e.type == TAR_DIR) {
			if (e.path[e.path_len - 1] != '/') {
				why = "directory without its '/'";
				break;
			}
			if (n > 0)
				n--;
		}
		if (n == 0) {		/* "./" itself */
			if (e.type != TAR_DIR)
				why = "./ is not a directory";
			continue;
		}
		i = find_name(rel, n);
		if (i < 0) {
			why = fmt("unexpected entry %s", shown(rel, n));
			break;
		}
		tree_seen[i]++;
		why = compare_entry(&r, dir, &e, tree_names[i], with_ns);
		if (why != NULL)
			why = fmt("%s: %s", shown(rel, n), why);
	}
	if (why == NULL && rc != 0)
		why = tar_error(&r);
	close(fd);
	for (i = 0; why == NULL && i < tree_count; i++)
		if (tree_seen[i] != 1)
			why = fmt("%s seen %d times",
			    shown(tree_names[i], strlen(tree_names[i])),
			    tree_seen[i]);
	return why;
}

static void test_made_by(const char *tool, char *const argv[],
    const char *tar_path, const char *src, int with_ns)
{
	const char *why;
	int entries = 0, rc;

	rc = run(argv, NULL);
	if (rc != 0) {
		check(0, fmt("%s makes an archive", tool),
		    fmt("exit status %d", rc));
		return;
	}
	why = compare_archive(tar_path, src, with_ns, &entries);
	check(why == NULL, fmt("%s archive: %d entries match lstat and the "
	    "files", tool, entries), why);
}

static void test_foreign_archives(void)
{
	static const char *const formats[] = { "ustar", "gnu", "pax" };
	char src[300], arc[300], opt[64];
	size_t i;

	for (i = 0; i < 3; i++) {
		unsigned what = i == 0 ? 0 :
		    TREE_LONG | TREE_NEGTIME | TREE_BIGID;

		snprintf(src, sizeof src, "%s/src-%s", top, formats[i]);
		snprintf(arc, sizeof arc, "%s/%s.tar", top, formats[i]);
		snprintf(opt, sizeof opt, "--format=%s", formats[i]);
		if (build_tree(src, what) < 0) {
			check(0, fmt("source tree for %s", formats[i]),
			    strerror(errno));
			continue;
		}
		{
			char *argv[] = { "tar", opt, "-cf", arc, "-C", src, ".",
			    NULL };

			test_made_by(fmt("GNU tar %s", opt), argv, arc, src,
			    i == 2);
		}
	}

	/* busybox writes GNU long names; a negative mtime it stores as 0 */
	snprintf(src, sizeof src, "%s/src-busybox", top);
	snprintf(arc, sizeof arc, "%s/busybox.tar", top);
	if (!have_busybox) {
		skip("busybox tar archive", "no busybox");
		return;
	}
	if (build_tree(src, TREE_LONG | TREE_BIGID) < 0) {
		check(0, "source tree for busybox", strerror(errno));
		return;
	}
	{
		char *argv[] = { "busybox", "tar", "-cf", arc, "-C", src, ".",
		    NULL };

		test_made_by("busybox tar", argv, arc, src, 0);
	}
}

/* ---- archives written here, extracted by GNU tar and busybox ---------- */

#define MAX_WENTS	20

static struct tar_entry wents[MAX_WENTS];
static unsigned wseed[MAX_WENTS];
static int nwents;

static struct tar_entry *went(const char *path, uint8_t type, uint32_t mode,
    uint64_t size, int64_t mtime, uint32_t ns)
{
	struct tar_entry *e = &wents[nwents];

	memset(e, 0, sizeof *e);
	e->path_len = strlen(path);
	memcpy(e->path, path, e->path_len + 1);
	e->type = type;
	e->mode = mode;
	e->size = size;
	e->mtime = mtime;
	e->mtime_ns = ns;
	e->uid = is_root ? 1234 : (uint32_t)getuid();
	e->gid = is_root ? 5678 : (uint32_t)getgid();
	wseed[nwents] = (unsigned)nwents + 20;
	nwents++;
	return e;
}

static void set_link(struct tar_entry *e, const char *link)
{
	e->link_len = strlen(link);
	memcpy(e->link, link, e->link_len + 1);
}

/* The entries: everything the writer has to get right. */
static void writer_entries(void)
{
	char a[260], b[260], p[TAR_MAX_PATH];
	struct tar_entry *e;

	nwents = 0;
	went("w", TAR_DIR, 0750, 0, 1400000000, 0);
	went("w/file", TAR_FILE, 0640, 1048576 + 123, 1500000000, 500000000);
	went("w/empty", TAR_FILE, 0600, 0, 1000000000, 0);
	went("w/block", TAR_FILE, 0644, 512, 1000000001, 1);
	went("w/odd", TAR_FILE, 0755, 513, 1000000002, 999999999);
	went("w/sp ace\nnl\xff", TAR_FILE, 0644, 20, 1000000003, 0);
	went("w/neg", TAR_FILE, 0644, 30, -1000000, 250000000);
	e = went("w/bigid", TAR_FILE, 0644, 40, 1000000004, 0);
	if (is_root) {
		e->uid = 3000000;
		e->gid = 4000000;
	}
	/* 180 bytes: ustar's prefix holds it, no pax header */
	fill(a, 'p', 88);
	snprintf(p, sizeof p, "w/%s", a);
	went(p, TAR_DIR, 0755, 0, 1000000005, 0);
	fill(b, 'q', 89);
	snprintf(p, sizeof p, "w/%s/%s", a, b);
	went(p, TAR_FILE, 0644, 50, 1000000006, 0);
	/* 350 bytes: a pax path */
	fill(a, 'r', 200);
	snprintf(p, sizeof p, "w/%s", a);
	went(p, TAR_DIR, 0700, 0, 1000000007, 0);
	fill(b, 's', 147);
	snprintf(p, sizeof p, "w/%s/%s", a, b);
	went(p, TAR_FILE, 0644, 60, 1000000008, 0);
	fill(a, 't', 150);
	snprintf(p, sizeof p, "%s/target", a);
	e = went("w/longlink", TAR_SYMLINK, 0777, 0, 1000000009, 0);
	set_link(e, p);
	e = went("w/symlink", TAR_SYMLINK, 0777, 0, 1000000010, 0);
	set_link(e, "file");
	e = went("w/hard", TAR_HARDLINK, 0640, 0, 1500000000, 500000000);
	set_link(e, "w/file");
	went("w/fifo", TAR_OTHER, 0640, 0, 1000000011, 0)->tflag = '6';
}

static int write_entry_data(struct tar_writer *w, const struct tar_entry *e,
    unsigned seed)
{
	uint8_t buf[7001];	/* odd, so writes straddle blocks */
	uint64_t off = 0;
	size_t i, k;

	while (off < e->size) {
		k = e->size - off < sizeof buf ? (size_t)(e->size - off) :
		    sizeof buf;
		for (i = 0; i < k; i++)
			buf[i] = pattern(seed, off + i);
		if (tar_write_data(w, buf, k) < 0)
			return -1;
		off += k;
	}
	return 0;
}

static const char *write_archive(const char *path)
{
	struct tar_writer w;
	int fd, i, rc = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return strerror(errno);
	tar_writer_init(&w, fd_write, &fd);
	for (i = 0; i < nwents && rc == 0; i++)
		rc = tar_write_header(&w, &wents[i]) < 0 ||
		    write_entry_data(&w, &wents[i], wseed[i]) < 0 ||
		    tar_end_entry(&w) < 0;
	if (rc == 0)
		rc = tar_finish(&w);
	close(fd);
	return rc == 0 ? NULL : tar_writer_error(&w);
}

static const char *compare_file(const char *path, const struct tar_entry *e,
    unsigned seed)
{
	uint8_t buf[4096];
	uint64_t off = 0;
	ssize_t k, i = 0;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return "cannot open";
	while ((k = read(fd, buf, sizeof buf)) > 0) {
		for (i = 0; i < k; i++)
			if (buf[i] != pattern(seed, off + (uint64_t)i))
				break;
		if (i < k)
			break;
		off += (uint64_t)k;
	}
	close(fd);
	if (k != 0)
		return fmt("differs at byte %llu",
		    (unsigned long long)(off + (uint64_t)i));
	if (off != e->size)
		return fmt("%llu bytes, not %llu", (unsigned long long)off,
		    (unsigned long long)e->size);
	return NULL;
}

#define X_NS		0x01	/* mtimes to the nanosecond */
#define X_DIR_MTIME	0x02	/* directories' mtimes too */

/* An extracted entry against what was written; NULL when it matches. */
static const char *compare_extracted(const char *dir, int i, int how)
{
	const struct tar_entry *e = &wents[i];
	struct stat st, lt;
	char link[TAR_MAX_PATH + 1];
	const char *p = at(dir, e->path);
	ssize_t n;

	if (lstat(p, &st) < 0)
		return "missing";
	switch (e->type) {
	case TAR_FILE:
		if (!S_ISREG(st.st_mode))
			return "not a file";
		break;
	case TAR_DIR:
		if (!S_ISDIR(st.st_mode))
			return "not a directory";
		break;
	case TAR_SYMLINK:
		n = readlink(p, link, sizeof link);
		if (!S_ISLNK(st.st_mode) || n < 0 || (size_t)n != e->link_len ||
		    memcmp(link, e->link, (size_t)n) != 0)
			return "not the symlink written";
		return NULL;	/* its mode and mtime are not restored */
	case TAR_HARDLINK:
		if (lstat(at(dir, e->link), &lt) < 0 || lt.st_ino != st.st_ino)
			return "not a hard link to its target";
		return NULL;
	case TAR_OTHER:
		if (!S_ISFIFO(st.st_mode))
			return "not a fifo";
		break;
	}
	if ((st.st_mode & 07777) != e->mode)
		return fmt("mode %o, not %o", st.st_mode & 07777, e->mode);
	if (is_root && (st.st_uid != e->uid || st.st_gid != e->gid))
		return fmt("owner %u:%u, not %u:%u", (unsigned)st.st_uid,
		    (unsigned)st.st_gid, e->uid, e->gid);
	if (e->type == TAR_DIR && !(how & X_DIR_MTIME))
		;
	else if (st.st_mtim.tv_sec != e->mtime ||
	    ((how & X_NS) && st.st_mtim.tv_nsec != (long)e->mtime_ns))
		return fmt("mtime %lld.%09ld, not %lld.%09u",
		    (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
		    (long long)e->mtime, e->mtime_ns);
	if (e->type == TAR_FILE)
		return compare_file(p, e, wseed[i]);
	return NULL;
}

static void test_extract_by(const char *tool, char *const argv[],
    const char *out, int how)
{
	const char *why = NULL;
	int i, rc;

	if (mkdir(out, 0755) < 0) {
		check(0, fmt("%s extracts", tool), strerror(errno));
		return;
	}
	rc = run(argv, NULL);
	if (rc != 0)
		why = fmt("exit status %d", rc);
	for (i = 0; why == NULL && i < nwents; i++) {
		why = compare_extracted(out, i, how);
		if (why != NULL)
			why = fmt("%s: %s",
			    shown(wents[i].path, wents[i].path_len), why);
	}
	check(why == NULL, fmt("%s extracts the %d entries tar.c wrote: "
	    "data, modes, %smtimes%s, links", tool, nwents,
	    is_root ? "owners, " : "", (how & X_NS) ? " with ns" : ""),
	    why);
}

/* Our own reader on our own archive: every field as written. */
static const char *reread_archive(const char *path)
{
	static struct tar_entry e;
	struct tar_reader r;
	const struct tar_entry *w;
	const char *why = NULL;
	size_t plen;
	int fd, i = 0, rc, dir_slash;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return "cannot open";
	tar_reader_init(&r, fd_read, &fd);
	while (why == NULL && (rc = tar_next(&r, &e)) == 1) {
		if (i >= nwents) {
			why = "more entries than written";
			break;
		}
		w = &wents[i];
		dir_slash = w->type == TAR_DIR;
		plen = w->path_len + (size_t)dir_slash;
		if (e.path_len != plen || memcmp(e.path, w->path,
		    w->path_len) != 0 || (dir_slash && e.path[plen - 1] != '/'))
			why = fmt("path %s", shown(e.path, e.path_len));
		else if (e.type != w->type || e.mode != w->mode ||
		    e.uid != w->uid || e.gid != w->gid || e.size != w->size ||
		    e.mtime != w->mtime || e.mtime_ns != w->mtime_ns ||
		    e.link_len != w->link_len ||
		    memcmp(e.link, w->link, e.link_len) != 0 ||
		    (e.type == TAR_OTHER && e.tflag != w->tflag))
			why = fmt("%s: fields differ",
			    shown(w->path, w->path_len));
		else if (e.type == TAR_FILE && i % 2 == 0) {
			/* every other file read; the rest skipped */
			uint8_t buf[1000];
			uint64_t off = 0;
			ssize_t k, j;

			while (why == NULL &&
			    (k = tar_read(&r, buf, sizeof buf)) > 0) {
				for (j = 0; j < k; j++)
					if (buf[j] != pattern(wseed[i],
					    off + (uint64_t)j))
						why = "data differs";
				off += (uint64_t)k;
			}
			if (why == NULL && off != w->size)
				why = "data short";
		}
		i++;
	}
	if (why == NULL && rc != 0)
		why = tar_error(&r);
	if (why == NULL && i != nwents)
		why = fmt("%d entries, not %d", i, nwents);
	close(fd);
	return why;
}

static void test_written_archives(void)
{
	char arc[300], out[300];
	const char *why;

	writer_entries();
	snprintf(arc, sizeof arc, "%s/written.tar", top);
	why = write_archive(arc);
	check(why == NULL, fmt("tar.c writes %d entries", nwents), why);
	if (why != NULL)
		return;
	why = reread_archive(arc);
	check(why == NULL, "tar.c reads back every field it wrote", why);

	snprintf(out, sizeof out, "%s/x-gnu", top);
	{
		char *argv[] = { "tar", "--warning=no-timestamp", "-xf", arc,
		    "-C", out, NULL };

		test_extract_by("GNU tar", argv, out, X_NS | X_DIR_MTIME);
	}
	{
		char *argv[] = { "tar", "--warning=no-timestamp", "-df", arc,
		    "-C", out, NULL };

		check(run(argv, NULL) == 0, "GNU tar --compare finds no "
		    "difference from the extracted tree", "tar -d failed");
	}
	snprintf(out, sizeof out, "%s/x-busybox", top);
	if (!have_busybox) {
		skip("busybox tar extracts what tar.c wrote", "no busybox");
		return;
	}
	{
		char *argv[] = { "busybox", "tar", "-xf", arc, "-C", out,
		    NULL };

		/* busybox takes pax path and linkpath, but only the
		 * header's whole-second mtime, and leaves a directory's
		 * mtime to the files made in it */
		test_extract_by("busybox tar", argv, out, 0);
	}
}

/*
 * A file of 8 GiB + 1 byte needs pax (and base-256 in the header): the
 * header is written, the data left as a hole, and GNU tar and busybox
 * list the size.
 */
static void test_huge_size(void)
{
	static struct tar_entry e, r_e;
	const uint64_t size = (UINT64_C(8) << 30) + 1;
	struct tar_writer w;
	struct tar_reader r;
	char arc[300], lst[300], line[512];
	uint8_t zeros[1024];
	off_t end;
	FILE *f;
	int fd, rc, found;

	snprintf(arc, sizeof arc, "%s/huge.tar", top);
	snprintf(lst, sizeof lst, "%s/huge.lst", top);
	memset(&e, 0, sizeof e);
	memcpy(e.path, "huge", 5);
	e.path_len = 4;
	e.type = TAR_FILE;
	e.mode = 0644;
	e.size = size;
	e.mtime = 1700000000;
	fd = open(arc, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		check(0, "8 GiB entry", strerror(errno));
		return;
	}
	tar_writer_init(&w, fd_write, &fd);
	rc = tar_write_header(&w, &e);
	end = lseek(fd, 0, SEEK_CUR);
	/* the data as a hole, then the end-of-archive blocks */
	end += (off_t)((size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK);
	memset(zeros, 0, sizeof zeros);
	if (rc < 0 || pwrite(fd, zeros, sizeof zeros, end) != sizeof zeros) {
		close(fd);
		check(0, "8 GiB entry", rc < 0 ? tar_writer_error(&w) :
		    strerror(errno));
		return;
	}
	lseek(fd, 0, SEEK_SET);
	tar_reader_init(&r, fd_read, &fd);
	rc = tar_next(&r, &r_e);
	check(rc == 1 && r_e.size == size, "tar.c reads back a size of "
	    "8 GiB + 1 (pax size record)", rc == 1 ? "wrong size" :
	    tar_error(&r));
	close(fd);

	{
		char *argv[] = { "tar", "-tvf", arc, NULL };

		rc = run(argv, lst);
	}
	found = 0;
	f = fopen(lst, "r");
	while (f != NULL && fgets(line, sizeof line, f) != NULL)
		if (strstr(line, " 8589934593 ") != NULL &&
		    strstr(line, "huge") != NULL)
			found = 1;
	if (f != NULL)
		fclose(f);
	check(rc == 0 && found, "GNU tar lists the 8 GiB + 1 size tar.c "
	    "wrote", fmt("exit %d, size %sfound", rc, found ? "" : "not "));
	if (!have_busybox) {
		skip("busybox lists the 8 GiB + 1 size", "no busybox");
		return;
	}
	{
		char *argv[] = { "busybox", "tar", "-tvf", arc, NULL };

		rc = run(argv, lst);
	}
	found = 0;
	f = fopen(lst, "r");
	while (f != NULL && fgets(line, sizeof line, f) != NULL)
		if (strstr(line, " 8589934593 ") != NULL)
			found = 1;
	if (f != NULL)
		fclose(f);
	check(rc == 0 && found, "busybox tar lists the 8 GiB + 1 size "
	    "(base-256 in the header)", fmt("exit %d, size %sfound", rc,
	    found ? "" : "not "));
	unlink(arc);
}

/* ---- hand-made archives ----------------------------------------------- */

static uint8_t arcbuf[64 * 1024];
static size_t arclen;

static void octal(uint8_t *f, size_t n, uint64_t v)
{
	char tmp[32];

	snprintf(tmp, sizeof tmp, "%0*llo", (int)(n - 1), (unsigned long long)v);
	memcpy(f, tmp, n - 1);
	f[n - 1] = '\0';
}

static void fix_sum(uint8_t *h)
{
	unsigned sum = 0;
	size_t i;

	memset(h + 148, ' ', 8);
	for (i = 0; i < TAR_BLOCK; i++)
		sum += h[i];
	octal(h + 148, 7, sum);
}

/* A ustar header at the end of arcbuf; returns it for changes (which
 * need fix_sum). */
static uint8_t *add_header(const char *name, char type, uint64_t size)
{
	uint8_t *h = arcbuf + arclen;

	memset(h, 0, TAR_BLOCK);
	memcpy(h, name, strlen(name) < 100 ? strlen(name) : 100);
	octal(h + 100, 8, 0644);
	octal(h + 108, 8, 1000);
	octal(h + 116, 8, 1001);
	octal(h + 124, 12, size);
	octal(h + 136, 12, 1234567890);
	h[156] = (uint8_t)type;
	memcpy(h + 257, "ustar\0" "00", 8);
	fix_sum(h);
	arclen += TAR_BLOCK;
	return h;
}

/* n bytes of data, padded to a block. */
static void add_data(const void *p, size_t n)
{
	memcpy(arcbuf + arclen, p, n);
	arclen += n;
	while (arclen % TAR_BLOCK != 0)
		arcbuf[arclen++] = 0;
}

static void add_entry(const char *name, char type, const void *data,
    size_t n)
{
	add_header(name, type, n);
	add_data(data, n);
}

static void add_end(void)
{
	memset(arcbuf + arclen, 0, 2 * TAR_BLOCK);
	arclen += 2 * TAR_BLOCK;
}

/* A pax header of the records given, then an entry. */
static void add_pax(char type, const char *records, size_t n)
{
	add_entry("pax", type, records, n);
}

/*
 * Read arcbuf[0..arclen) to its end (every entry's data read): the
 * number of entries, or -1 with the message in err.  chunk bounds each
 * read call.
 */
static struct tar_entry got[8];
static int read_all(size_t chunk, char *err, size_t errsz)
{
	static struct tar_entry e;
	struct memsrc m = { arcbuf, arclen, 0, chunk, SIZE_MAX };
	struct tar_reader r;
	uint8_t buf[100];
	int n = 0, rc;
	ssize_t k;

	tar_reader_init(&r, mem_read, &m);
	while ((rc = tar_next(&r, &e)) == 1) {
		if (n < 8)
			got[n] = e;
		n++;
		while ((k = tar_read(&r, buf, sizeof buf)) > 0)
			;
		if (k < 0)
			break;
	}
	snprintf(err, errsz, "%s", tar_error(&r));
	if (rc == 0 && tar_next(&r, &e) != 0)
		return -2;	/* the end must stay the end */
	if (rc != 0 && tar_next(&r, &e) != -1)
		return -2;	/* and an error an error */
	return rc == 0 ? n : -1;
}

/* The archive in arcbuf must fail with a message containing want, read
 * whole or a byte at a time. */
static void expect_error(const char *name, const char *want)
{
	char err[200], err1[200];
	int n, n1;

	n = read_all(SIZE_MAX, err, sizeof err);
	n1 = read_all(1, err1, sizeof err1);
	if (n == -2 || n1 == -2)
		check(0, name, "error not sticky");
	else if (n != -1 || n1 != -1)
		check(0, name, fmt("read as valid (%d entries)", n));
	else
		check(strstr(err, want) != NULL && strcmp(err, err1) == 0 &&
		    strncmp(err, "tar: ", 5) == 0 && strchr(err, '\n') == NULL,
		    fmt("%s: \"%s\"", name, err),
		    fmt("wanted \"%s\" (byte at a time: \"%s\")", want, err1));
}

/* The archive in arcbuf must read as n entries; got[] holds them. */
static int expect_entries(const char *name, int want)
{
	char err[200];
	int n, n1;

	n1 = read_all(1, err, sizeof err);
	n = read_all(SIZE_MAX, err, sizeof err);
	check(n == want && n1 == want, name, n < 0 ? err :
	    fmt("%d entries, not %d", n, want));
	return n == want && n1 == want;
}

static void test_corrupt(void)
{
	static char big[6000];
	uint8_t *h;
	char rec[200];
	int n;

	/* a good archive first: the cases below break it */
	arclen = 0;
	add_entry("a", '0', "hello", 5);
	add_entry("b", '0', "world", 5);
	add_end();
	expect_entries("hand-made archive of two entries reads", 2);

	arcbuf[TAR_BLOCK * 2 + 1] ^= 1;	/* the second header's name */
	expect_error("bad checksum", "bad header checksum at offset 1024");
	arcbuf[TAR_BLOCK * 2 + 1] ^= 1;

	arclen = TAR_BLOCK * 2 + 300;
	expect_error("truncated header", "truncated header at offset 1024");

	arclen = TAR_BLOCK + 3;
	expect_error("truncated data", "truncated data at offset 515");

	arclen = TAR_BLOCK * 4;
	expect_error("end of input without end-of-archive blocks",
	    "archive ends without end-of-archive blocks at offset 2048");
	arclen = 0;
	expect_error("empty input", "archive ends without end-of-archive "
	    "blocks at offset 0");

	arclen = 0;
	add_entry("a", '0', "hello", 5);
	memset(arcbuf + arclen, 0, TAR_BLOCK);
	arclen += TAR_BLOCK;
	expect_entries("one zero block, then end of input: a clean end", 1);
	add_entry("c", '0', "x", 1);
	expect_error("a lone zero block before more entries",
	    "data after a zero block at offset 1536");

	arclen = 0;
	h = add_header("a", '0', 5);
	memcpy(h + 124, "0000000000x", 11);
	fix_sum(h);
	add_data("hello", 5);
	add_end();
	expect_error("bad octal in size", "bad size field at offset 0");
	memcpy(h + 124, "00000000009", 11);
	fix_sum(h);
	expect_error("non-octal digit in size", "bad size field at offset 0");
	memcpy(h + 124, "00000000005", 11);
	memcpy(h + 100, "064 4\0\0\0", 8);
	fix_sum(h);
	expect_error("garbage after the digits of mode",
	    "bad mode field at offset 0");
	memcpy(h + 100, "0000644\0", 8);
	memset(h + 136, 0, 12);
	fix_sum(h);
	expect_error("empty mtime field", "bad mtime field at offset 0");
	octal(h + 136, 12, 1234567890);
	memcpy(h + 124, "\x80\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
	    12);
	fix_sum(h);
	expect_error("base-256 size beyond 64 bits", "bad size field");
	memcpy(h + 108, "\x80\0\0\x01\0\0\0\0", 8);	/* uid 2^32 */
	octal(h + 124, 12, 5);
	fix_sum(h);
	expect_error("base-256 uid beyond 32 bits", "bad uid field");
	octal(h + 108, 8, 1000);
	memcpy(h + 257, "ustar\0" "01", 8);
	fix_sum(h);
	expect_error("unknown magic", "not a ustar header at offset 0");
	memcpy(h + 257, "ustar\0" "00", 8);
	h[156] = 'S';
	fix_sum(h);
	expect_error("GNU sparse entry", "sparse files are not supported");
	h[156] = 'M';
	fix_sum(h);
	expect_error("multi-volume entry", "unsupported entry type 'M'");
	h[156] = 0x01;
	fix_sum(h);
	expect_error("binary entry type", "unsupported entry type 0x01");

	/* pax records */
	arclen = 0;
	add_pax('x', "99999999999999999999999 path=x\n", 31);
	add_entry("a", '0', "", 0);
	add_end();
	expect_error("oversize pax record length", "bad pax record length "
	    "at offset 0");

	arclen = 0;
	add_pax('x', "300 path=abc\n", 13);
	add_entry("a", '0', "", 0);
	add_end();
	expect_error("pax record past the end of its header",
	    "pax record past the end of its header at offset 0");

	arclen = 0;
	add_pax('x', "11 path=abc\n", 12);	/* 12 bytes long */
	add_entry("a", '0', "", 0);
	add_end();
	expect_error("pax record length one short", "bad pax record length");
	arclen = 0;
	add_pax('x', "13 path=abc\n5 a=\n", 17);
	add_entry("a", '0', "", 0);
	add_end();
	expect_error("pax record length one long", "bad pax record length");
	arclen = 0;
	add_pax('x', " 12 path=abc\n", 13);
	add_entry("a", '0', "", 0);
	add_end();
	expect_error("pax record starting with a space",
	    "bad pax record length");
	arclen = 0;
	add_pax('x', "10 pathabc\n", 11);
	add_entry("a", '0', "", 0);
	add_end();
	expect_error("pax record without '='", "bad pax record length");
	arclen = 0;
	add_pax('x', "7 =abc\n", 7);
	add_entry("a", '0', "", 0);
	add_end();
	expect_error("pax record without a keyword",
	    "pax record without a keyword");

	arclen = 0;
	add_pax('x', "14 path=a\0bcd\n", 14);
	add_entry("a", '0', "", 0);
	add_end();
	expect_error("pax path with a NUL", "path contains a NUL byte");
	arclen = 0;
	add_pax('x', "17 linkpath=a\0bc\n", 17);
	add_entry("a", '2', "", 0);
	add_end();
	expect_error("pax linkpath with a NUL",
	    "link target contains a NUL byte");

	arclen = 0;
	memset(big, 'z', sizeof big);
	n = snprintf(rec, sizeof rec, "%d path=", 4097 + 11);
	memcpy(big, rec, (size_t)n);
	big[4097 + 10] = '\n';
	add_pax('x', big, 4097 + 11);
	add_entry("a", '0', "", 0);
	add_end();
	expect_error("pax path of 4097 bytes", "path longer than 4096 bytes");
	arclen = 0;
	memset(big, 'z', sizeof big);
	memcpy(big, "4107 path=", 10);
	big[4106] = '\n';
	add_pax('x', big, 4107);
	add_entry("a", '0', "", 0);
	add_end();
	if (expect_entries("pax path of 4096 bytes is read", 1))
		check(got[0].path_len == 4096 && got[0].path[4096] == '\0',
		    "a 4096-byte pax path is whole", "wrong length");

	arclen = 0;
	memset(big, 'y', 5000);
	big[5000] = '\0';
	add_entry("././@LongLink", 'L', big, 5001);
	add_entry("a", '0', "", 0);
	add_end();
	expect_error("GNU long name of 5000 bytes",
	    "path longer than 4096 bytes");
	arclen = 0;
	add_entry("././@LongLink", 'L', "ab\0cd\0", 6);
	add_entry("a", '0', "", 0);
	add_end();
	expect_error("GNU long name with a NUL", "path contains a NUL byte");
	arclen = 0;
	add_entry("././@LongLink", 'K', big, 4098);
	add_entry("a", '2', "", 0);
	add_end();
	expect_error("GNU long link of 4098 bytes",
	    "link target longer than 4096 bytes");

	arclen = 0;
	add_pax('x', "12 size=12a\n", 12);
	add_entry("a", '0', "", 0);
	add_end();
	expect_error("pax size not a number", "bad pax size record");
	arclen = 0;
	add_pax('x', "18 size=-12345678\n", 18);
	add_entry("a", '0', "", 0);
	add_end();
	expect_error("pax size negative", "bad pax size record");
	arclen = 0;
	add_pax('x', "28 size=9223372036854775808\n", 28);
	add_entry("a", '0', "", 0);
	add_end();
	expect_error("pax size past 2^63 - 1", "bad pax size record");
	arclen = 0;
	add_pax('x', "18 uid=4294967296\n", 18);
	add_entry("a", '0', "", 0);
	add_end();
	expect_error("pax uid past 32 bits", "bad pax uid record");
	arclen = 0;
	add_pax('x', "32 mtime=99999999999999999999.5\n", 32);
	add_entry("a", '0', "", 0);
	add_end();
	expect_error("pax mtime past 64 bits", "bad pax mtime record");
	arclen = 0;
	add_pax('x', "32 mtime=-9223372036854775808.5\n", 32);
	add_entry("a", '0', "", 0);
	add_end();
	expect_error("pax mtime below INT64_MIN", "bad pax mtime record");
	arclen = 0;
	add_pax('x', "14 mtime=1.5x\n", 14);
	add_entry("a", '0', "", 0);
	add_end();
	expect_error("pax mtime with junk", "bad pax mtime record");
	arclen = 0;
	add_pax('x', "22 GNU.sparse.major=1\n", 22);
	add_entry("a", '0', "", 0);
	add_end();
	expect_error("pax sparse file", "sparse files are not supported");

	arclen = 0;
	add_pax('x', "12 path=abc\n", 12);
	expect_error("end of input after a pax header",
	    "archive ends after an extension header");
	add_end();
	expect_error("zero block after a pax header",
	    "zero block after an extension header");
	arclen = 0;
	add_header("pax", 'x', 100);
	add_data("12 path=abc\n", 12);
	arclen -= 400;
	expect_error("pax header cut short", "truncated extension header");

	arclen = 0;
	add_entry("a", '0', "hello", 5);
	add_end();
	{
		char err[200];
		struct memsrc m = { arcbuf, arclen, 0, SIZE_MAX, 600 };
		struct tar_reader r;
		static struct tar_entry e;
		uint8_t buf[10];

		tar_reader_init(&r, mem_read, &m);
		n = tar_next(&r, &e);
		n = n == 1 ? (int)tar_read(&r, buf, sizeof buf) : -9;
		n = n == 5 ? tar_next(&r, &e) : -9;
		snprintf(err, sizeof err, "%s", tar_error(&r));
		check(n == -1 && strstr(err, "read error") != NULL,
		    fmt("a failing read callback: \"%s\"", err), err);
	}
}

/* Append "LEN KEY=VALUE\n" for kv[0..n) at out + at; the new length. */
static size_t pax_rec(char *out, size_t at, const char *kv, size_t n)
{
	size_t len = n + 3, d;

	for (d = 1; d < 20; d++) {
		char tmp[24];

		if ((size_t)snprintf(tmp, sizeof tmp, "%zu", n + 2 + d) == d) {
			len = n + 2 + d;
			break;
		}
	}
	at += (size_t)sprintf(out + at, "%zu ", len);
	memcpy(out + at, kv, n);
	out[at + n] = '\n';
	return at + n + 1;
}

static void test_extensions(void)
{
	static char longname[400];
	char rec[600];
	size_t n;

	/* GNU: 'L' and 'K', base-256 uid and negative mtime, a volume
	 * label, a dumpdir with a listing to skip */
	arclen = 0;
	add_entry("label", 'V', "", 0);
	memset(longname, 'n', 300);
	add_entry("././@LongLink", 'L', longname, 301);
	add_entry("././@LongLink", 'K', longname, 250);	/* no NUL */
	{
		uint8_t *h = add_header("short", '2', 0);

		memcpy(h + 257, "ustar  \0", 8);
		memcpy(h + 108, "\x80\0\0\0\0\x2d\xc6\xc0", 8);	/* 3000000 */
		memcpy(h + 136, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xf0\xbd"
		    "\xc0", 12);					/* -1000000 */
		fix_sum(h);
	}
	add_entry("dumpdir", 'D', "Nfoo\0Ybar\0\0", 11);
	add_end();
	if (expect_entries("GNU archive: label, long name and link, "
	    "base-256, dumpdir", 2)) {
		check(got[0].path_len == 300 && got[0].link_len == 250 &&
		    got[0].type == TAR_SYMLINK && got[0].uid == 3000000 &&
		    got[0].mtime == -1000000,
		    "GNU long name, long link, base-256 uid and mtime",
		    fmt("path %zu link %zu uid %u mtime %lld", got[0].path_len,
		    got[0].link_len, got[0].uid, (long long)got[0].mtime));
		check(got[1].type == TAR_DIR && got[1].size == 0,
		    "GNU dumpdir is a directory, its listing skipped",
		    "wrong type or size");
	}

	/* pax: global values under per-file ones, fractions, negative
	 * times, an empty value reverting, unknown keys skipped */
	arclen = 0;
	n = pax_rec(rec, 0, "mtime=100.25", 12);
	n = pax_rec(rec, n, "uid=4242", 8);
	n = pax_rec(rec, n, "comment=anything at all", 23);
	add_pax('g', rec, n);
	add_entry("one", '0', "1", 1);
	n = pax_rec(rec, 0, "mtime=-1.25", 11);
	n = pax_rec(rec, n, "gid=777", 7);
	n = pax_rec(rec, n, "SCHILY.xattr.user.x=\xff\0\n", 23);
	n = pax_rec(rec, n, "uid=", 4);
	add_pax('x', rec, n);
	add_entry("two", '0', "22", 2);
	add_entry("three", '0', "333", 3);
	n = pax_rec(rec, 0, "path=renamed", 12);
	n = pax_rec(rec, n, "size=0000000003", 15);
	add_pax('x', rec, n);
	add_entry("four", '0', "", 0);	/* the size comes from pax */
	add_data("444", 3);
	add_end();
	/* "four" has a header size of 0, then 3 bytes of data from pax */
	if (expect_entries("pax: global and per-file headers", 4)) {
		check(got[0].mtime == 100 && got[0].mtime_ns == 250000000 &&
		    got[0].uid == 4242 && got[0].gid == 1001,
		    "pax global mtime.25 and uid apply",
		    fmt("%lld.%u uid %u gid %u", (long long)got[0].mtime,
		    got[0].mtime_ns, got[0].uid, got[0].gid));
		check(got[1].mtime == -2 && got[1].mtime_ns == 750000000 &&
		    got[1].uid == 1000 && got[1].gid == 777,
		    "pax mtime=-1.25 is -2 s + 0.75 s; uid= reverts to the "
		    "header", fmt("%lld.%u uid %u gid %u",
		    (long long)got[1].mtime, got[1].mtime_ns, got[1].uid,
		    got[1].gid));
		check(got[2].mtime == 100 && got[2].uid == 4242 &&
		    got[2].gid == 1001, "pax per-file values end with their "
		    "entry, global ones stay", "wrong values");
		check(got[3].path_len == 7 &&
		    memcmp(got[3].path, "renamed", 7) == 0 &&
		    got[3].size == 3, "pax path and size override the header",
		    shown(got[3].path, got[3].path_len));
	}

	/* ustar prefix */
	arclen = 0;
	{
		uint8_t *h = add_header("name", '0', 0);

		memcpy(h + 345, "some/prefix", 11);
		fix_sum(h);
	}
	add_end();
	if (expect_entries("ustar prefix", 1))
		check(got[0].path_len == 16 &&
		    memcmp(got[0].path, "some/prefix/name", 16) == 0,
		    "ustar prefix and name are joined by '/'",
		    shown(got[0].path, got[0].path_len));

	/* devices, fifo: data-less whatever the size field says */
	arclen = 0;
	{
		uint8_t *h = add_header("dev", '3', 1000);

		octal(h + 329, 8, 4);
		octal(h + 337, 8, 64);
		fix_sum(h);
	}
	add_header("dir/", '5', 4096);
	add_end();
	if (expect_entries("device and directory with sizes, no data", 2))
		check(got[0].type == TAR_OTHER && got[0].tflag == '3' &&
		    got[0].devmajor == 4 && got[0].devminor == 64 &&
		    got[0].size == 0 && got[1].type == TAR_DIR &&
		    got[1].size == 0, "device numbers; no data for devices "
		    "and directories", "wrong fields");

	/* GNU tar's old signed checksum */
	arclen = 0;
	{
		uint8_t *h = add_header("\xe9t\xe9", '0', 0);
		int sum = 0, i;

		memset(h + 148, ' ', 8);
		for (i = 0; i < TAR_BLOCK; i++)
			sum += (int8_t)h[i];
		octal(h + 148, 7, (uint64_t)sum);
	}
	add_end();
	expect_entries("a checksum of signed bytes is taken", 1);
}

/* ---- the writer on its own -------------------------------------------- */

static void test_writer(void)
{
	static struct tar_entry e, r_e;
	static uint8_t out[64 * 1024];
	struct memsink m = { out, 0, sizeof out, 100 };
	struct tar_writer w;
	struct memsrc src;
	struct tar_reader r;
	int rc;

	memset(&e, 0, sizeof e);
	e.type = TAR_FILE;
	e.mode = 0100644;	/* type bits are dropped */

	/* a 180-byte path split over prefix and name: no pax header */
	memset(e.path, 'a', 90);
	e.path[90] = '/';
	memset(e.path + 91, 'b', 89);
	e.path_len = 180;
	tar_writer_init(&w, mem_write, &m);
	rc = tar_write_header(&w, &e);
	check(rc == 0 && m.len == TAR_BLOCK && out[156] == '0' &&
	    memcmp(out + 345, e.path, 90) == 0 && out[345 + 90] == '\0' &&
	    memcmp(out, e.path + 91, 89) == 0 &&
	    memcmp(out + 100, "0000644", 8) == 0,
	    "a 180-byte path goes into prefix and name, no pax header",
	    fmt("rc %d, %zu bytes", rc, m.len));

	/* same length without a '/' to split at: a pax header */
	memset(e.path, 'c', 180);
	m.len = 0;
	tar_writer_init(&w, mem_write, &m);
	rc = tar_write_header(&w, &e);
	check(rc == 0 && m.len == 3 * TAR_BLOCK && out[156] == 'x' &&
	    memcmp(out + TAR_BLOCK, "190 path=ccc", 12) == 0,
	    "a 180-byte name without a '/' takes a pax path record",
	    fmt("rc %d, %zu bytes", rc, m.len));

	/* pax record lengths around a digit boundary: 99, 100, 101 */
	{
		static const size_t vlens[] = { 101, 988, 989, 990, 991 };
		size_t i;
		char why[100] = "";

		for (i = 0; i < sizeof vlens / sizeof vlens[0]; i++) {
			memset(e.path, 'd', vlens[i]);
			e.path_len = vlens[i];
			m.len = 0;
			tar_writer_init(&w, mem_write, &m);
			if (tar_write_header(&w, &e) < 0 ||
			    tar_end_entry(&w) < 0 || tar_finish(&w) < 0) {
				snprintf(why, sizeof why, "%zu: %s", vlens[i],
				    tar_writer_error(&w));
				break;
			}
			src = (struct memsrc){ out, m.len, 0, SIZE_MAX,
			    SIZE_MAX };
			tar_reader_init(&r, mem_read, &src);
			if (tar_next(&r, &r_e) != 1 ||
			    r_e.path_len != vlens[i] ||
			    tar_next(&r, &r_e) != 0) {
				snprintf(why, sizeof why, "%zu: %s", vlens[i],
				    tar_error(&r));
				break;
			}
		}
		check(why[0] == '\0', "pax record lengths at the 3 to 4 digit "
		    "boundary read back", why);
	}

	/* numbers at the ends of their ranges: written, read back */
	{
		static const struct {
			int64_t mtime;
			uint32_t ns, uid;
			uint64_t size;
		} ext[] = {
			{ INT64_MIN, 0, 0, 0 },
			{ INT64_MIN + 1, 1, 0, 0 },
			{ INT64_MAX, 999999999, 0, 0 },
			{ -1, 999999999, 0, 0 },
			{ 0, 1, UINT32_MAX, 0 },
			{ 077777777777, 0, 07777777, 077777777777 },
			{ 1, 0, 010000000, (uint64_t)INT64_MAX },
		};
		char why[160] = "";
		size_t i;

		memcpy(e.path, "n", 2);
		e.path_len = 1;
		for (i = 0; i < sizeof ext / sizeof ext[0]; i++) {
			e.mtime = ext[i].mtime;
			e.mtime_ns = ext[i].ns;
			e.uid = e.gid = ext[i].uid;
			e.size = ext[i].size;
			m.len = 0;
			tar_writer_init(&w, mem_write, &m);
			if (tar_write_header(&w, &e) < 0) {
				snprintf(why, sizeof why, "%zu: %s", i,
				    tar_writer_error(&w));
				break;
			}
			src = (struct memsrc){ out, m.len, 0, SIZE_MAX,
			    SIZE_MAX };
			tar_reader_init(&r, mem_read, &src);
			if (tar_next(&r, &r_e) != 1) {
				snprintf(why, sizeof why, "%zu: %s", i,
				    tar_error(&r));
				break;
			}
			if (r_e.mtime != e.mtime || r_e.mtime_ns != e.mtime_ns ||
			    r_e.uid != e.uid || r_e.gid != e.gid ||
			    r_e.size != e.size) {
				snprintf(why, sizeof why, "%zu: read back "
				    "%lld.%09u uid %u size %llu", i,
				    (long long)r_e.mtime, r_e.mtime_ns, r_e.uid,
				    (unsigned long long)r_e.size);
				break;
			}
		}
		e.mtime = e.mtime_ns = e.uid = e.gid = 0;
		e.size = 0;
		check(why[0] == '\0', "mtimes from INT64_MIN to INT64_MAX, "
		    "uid 2^32 - 1, size 2^63 - 1: written and read back", why);
	}

	/* errors */
	e.path_len = 4097;
	memset(e.path, 'e', 4097);
	tar_writer_init(&w, mem_write, &m);
	rc = tar_write_header(&w, &e);
	check(rc < 0 && strcmp(tar_writer_error(&w),
	    "tar: path longer than 4096 bytes") == 0,
	    "writer: a path of 4097 bytes is refused", tar_writer_error(&w));
	check(tar_finish(&w) < 0, "writer: errors are sticky",
	    "finish after an error succeeded");
	e.path_len = 3;
	memcpy(e.path, "a\0b", 3);
	tar_writer_init(&w, mem_write, &m);
	rc = tar_write_header(&w, &e);
	check(rc < 0 && strstr(tar_writer_error(&w), "NUL") != NULL,
	    "writer: a path with a NUL is refused", tar_writer_error(&w));
	e.path_len = 0;
	tar_writer_init(&w, mem_write, &m);
	check(tar_write_header(&w, &e) < 0, "writer: an empty path is "
	    "refused", "accepted");

	memcpy(e.path, "d", 2);
	e.path_len = 1;
	e.type = TAR_DIR;
	e.size = 1;
	tar_writer_init(&w, mem_write, &m);
	check(tar_write_header(&w, &e) < 0 &&
	    strstr(tar_writer_error(&w), "not a file") != NULL,
	    "writer: a directory with a size is refused",
	    tar_writer_error(&w));
	e.type = TAR_SYMLINK;
	e.size = 0;
	e.link_len = 0;
	tar_writer_init(&w, mem_write, &m);
	check(tar_write_header(&w, &e) < 0, "writer: a symlink without a "
	    "target is refused", "accepted");
	e.type = TAR_OTHER;
	e.tflag = '0';
	tar_writer_init(&w, mem_write, &m);
	check(tar_write_header(&w, &e) < 0, "writer: TAR_OTHER needs a "
	    "device or fifo type", "accepted");

	e.type = TAR_FILE;
	e.size = 10;
	m.len = 0;
	tar_writer_init(&w, mem_write, &m);
	rc = tar_write_header(&w, &e) == 0 && tar_write_data(&w, "12345", 5)
	    == 0 && tar_end_entry(&w) < 0;
	check(rc && strcmp(tar_writer_error(&w),
	    "tar: entry ends 5 bytes short") == 0,
	    "writer: an entry ended short is an error", tar_writer_error(&w));
	tar_writer_init(&w, mem_write, &m);
	rc = tar_write_header(&w, &e) == 0 &&
	    tar_write_data(&w, "12345678901", 11) < 0;
	check(rc, "writer: more data than the size is an error",
	    tar_writer_error(&w));
	tar_writer_init(&w, mem_write, &m);
	rc = tar_write_header(&w, &e) == 0 && tar_write_header(&w, &e) < 0;
	check(rc, "writer: a header inside an open entry is an error",
	    tar_writer_error(&w));
	tar_writer_init(&w, mem_write, &m);
	rc = tar_write_header(&w, &e) == 0 && tar_finish(&w) < 0;
	check(rc, "writer: finishing inside an open entry is an error",
	    tar_writer_error(&w));
	m.len = 0;
	m.cap = 700;
	tar_writer_init(&w, mem_write, &m);
	rc = tar_write_header(&w, &e) == 0 &&
	    tar_write_data(&w, "1234567890", 10) == 0 &&
	    tar_end_entry(&w) < 0;
	check(rc && strcmp(tar_writer_error(&w), "tar: write error") == 0,
	    "writer: a failing write callback is an error",
	    tar_writer_error(&w));
}

int main(void)
{
	char *bb[] = { "busybox", "true", NULL };
	char *gnu[] = { "tar", "--version", NULL };
	const char *tmp = getenv("TMPDIR");

	is_root = geteuid() == 0;
	umask(022);
	snprintf(top, sizeof top, "%s/unit_tar.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(top) == NULL) {
		printf("not ok - mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	have_busybox = run(bb, NULL) == 0;

	test_corrupt();
	test_extensions();
	test_writer();
	if (run(gnu, "/dev/null") != 0) {
		check(0, "GNU tar", "not found");
	} else {
		test_foreign_archives();
		test_written_archives();
		test_huge_size();
	}
	remove_tree(top);
	return failures == 0 ? 0 : 1;
}
