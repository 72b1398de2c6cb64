/*
 * tree.c - push and pull: whole trees between this machine and a host.
 *
 *	push	a local tree, or a tar archive on stdin  ->  the host
 *	pull	a tree on the host  ->  a local directory, or a tar
 *		archive on stdout
 *
 * One engine serves every pairing.  A walker goes over the source depth
 * first and turns what it meets into events: an item (a file or a
 * symlink), entering or leaving a directory, and for --delete a name the
 * destination has and the source lacks.  Each event becomes an operation
 * in one of TREE_SLOTS slots: a short chain of requests (look at the
 * target, write it, set its times) that the destination's code drives,
 * every slot's chain at once over the one agent connection.  The walker
 * runs ahead while a slot is free and less than TREE_BYTES of file data
 * is in flight.
 *
 * Memory is fixed whatever the tree: the agent's listing of a directory
 * waits in an unlinked temporary file (the spool) rather than in memory,
 * the walk keeps one level per directory depth, and the slots are
 * allocated once.
 *
 * A directory whose mode would not let it be filled (one meant to be
 * read-only, say) is made 0700 while it is filled; every directory gets
 * its mode and mtime once all under it is done: its node counts what is
 * still pending there.  Files
 * are written to a temporary beside the target and renamed over it: the
 * agent's WRITE does that on the host, and pull does the same here.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bearssl.h>

#include "buf.h"
#include "cli.h"
#include "json.h"
#include "progress.h"
#include "rpc.h"
#include "rpcclient.h"
#include "tar.h"
#include "tree.h"

/* The agent keeps 64 requests with state; the walker may add one. */
#define TREE_SLOTS	48
#define TREE_BYTES	(16u << 20)	/* file data in flight, past one file */
#define MEMBER_BUF	(256u << 10)	/* tar: a member this small waits in
					 * memory, a larger one streams */
#define MAX_DEPTH	256
#define MAX_NODES	(MAX_DEPTH + TREE_SLOTS + 2)
#define SPOOL_BUF	(64u << 10)
#define IO_BUF		(64u << 10)
#define PATH_BUF	(RPC_MAX_PATH + 1)
#define TMP_BASE_MAX	200		/* of a name, in its temporary's name */
#define RESUME_MIN	(1u << 20)	/* a file this large goes through a
					 * part file a lost connection leaves
					 * for the next run to continue */

enum side { SIDE_LOCAL, SIDE_REMOTE, SIDE_TAR };

enum event { EV_ITEM = 1, EV_ENTER, EV_LEAVE, EV_DELETE, EV_DELCHECK };

enum action { A_NONE = -1, A_COPIED, A_UPDATED, A_SKIPPED, A_DELETED };

/* Where an operation's chain is: the request it waits for. */
enum step { S_START, S_LOOK, S_SUM, S_CLEAR, S_WRITE, S_READ, S_MODE,
    S_TIME, S_READLINK, S_SYMLINK, S_MKDIR, S_OPEN, S_REMOVE, S_WAIT,
    S_PART };

struct tree_opts {
	int follow;		/* -L */
	int sync;		/* --sync, or --checksum */
	int checksum;
	int del;		/* --delete */
	int dry_run;
	int fsync;
};

/* What the source says of an entry. */
struct item {
	uint8_t type;		/* RPC_T_REG, RPC_T_DIR or RPC_T_LNK */
	uint32_t mode;
	uint32_t uid, gid;
	uint64_t size;
	int64_t mtime;
	uint32_t mtime_ns;
	uint64_t dev, ino;	/* directories, for -L's loop check */
	size_t link_len;	/* a symlink's target is the op's link */
	int implicit;		/* tar: a directory only its members name */
	int contents;		/* a root copied onto the destination itself */
};

/* A destination directory while anything under it is pending. */
struct dirnode {
	struct dirnode *parent;
	struct op *closer;	/* set once the walk has left it */
	unsigned pending;	/* the walk inside, operations, subdirectories */
	int fresh;		/* made by this run: nothing inside to look at */
	int failed;		/* not made: skip what would go inside */
	int ahead;		/* entered before its MKDIR was answered */
	int touched;		/* entries made or removed: its mtime moved */
	int opened;		/* made writable for the copy */
	int have_attrs;		/* mode and mtime are the source's */
	int contents;
	uint32_t mode, old_mode;
	uint32_t made_mode;	/* what this run made it with */
	int64_t mtime, old_mtime;
	uint32_t mtime_ns;
	uint64_t dev, ino;
	struct dirnode *next_free;
};

struct tree;

struct op {
	int used;
	int ev;			/* EV_* */
	enum step state;
	int in_call;		/* waiting for call to finish */
	int linked;		/* call needs rpc_call_release() */
	int kick;		/* advance without a reply */
	struct rpc_call call;
	struct dirnode *dir;	/* the directory it works in */
	struct dirnode *node;	/* EV_ENTER, EV_LEAVE: the directory itself */
	struct item it;
	int exists;		/* the destination has something there: */
	struct rpc_stat have;	/* this */
	int retried;
	int need_mode, need_time;
	enum action action;
	int fd;			/* push: the source; pull: the temporary */
	int werr;		/* pull: errno of a local write */
	volatile sig_atomic_t tmp_live;	/* tmp names a file of ours */
	int part;		/* a part file: tmp (pull), the agent's (push) */
	int part_checked;	/* push: the agent's part file looked at */
	uint64_t offset;	/* where the copy resumes */
	uint64_t budget;	/* its share of TREE_BYTES */
	uint64_t moved;		/* data bytes counted for progress */
	uint8_t sha[32];	/* --checksum: this side's */
	int stream;		/* tar in: the data comes straight from stdin */
	int writing;		/* ... and the WRITE that takes it is sent */
	int read_started;	/* tar out: the READ is sent */
	size_t buf_len;		/* tar: data waiting in buf */
	uint64_t seq;		/* tar out: place in the archive */
	int header_done, direct, no_entry, read_failed;
	size_t src_len, dst_len;
	/* A new op clears everything above. */
	char src[PATH_BUF], dst[PATH_BUF], link[PATH_BUF], tmp[PATH_BUF];
	struct tree *t;
	uint8_t *buf;		/* tar: MEMBER_BUF bytes of its own */
};

/* A directory the walk is in. */
struct level {
	struct dirnode *node;
	size_t src_len, dst_len;
	/* push: the source directory; pull: the destination, read for
	 * --delete before the source's listing. */
	DIR *dp;
	/* The agent's listing in the spool: of the source for pull; of the
	 * destination for push --delete (scan), read before the source. */
	uint64_t start, pos, end;
	int scan;
};

/* Listings from the agent, in an unlinked file: stacked per level. */
struct spool {
	int fd;
	uint64_t end;		/* bytes in use */
	uint8_t *w;		/* records not yet written out */
	size_t wlen;
	uint8_t *r;		/* a window read back */
	uint64_t roff;
	size_t rlen;
	int err;
};

/* One record: this header, then the name and the link target. */
#define REC_HEAD	61

struct rec {
	size_t size;		/* bytes it takes in the spool */
	const char *name, *link;
	size_t name_len;
	uint32_t err;
	struct item it;
};

struct tree {
	struct cli *cli;
	struct rpc_client *rpc;
	struct tree_opts o;
	int from, to;		/* SIDE_* */
	char **roots;
	int nroots, next_root;
	/* The walk. */
	struct level lv[MAX_DEPTH];
	int depth;
	char src[PATH_BUF], dst[PATH_BUF];
	size_t src_len, dst_len;
	size_t base_len;	/* of the destination directory in dst */
	size_t rel_off;		/* tar in: where member paths start in dst */
	int walk_done;
	struct op *entering;	/* a directory being made ready... */
	struct dirnode *entered;	/* ...and ready to go into */
	struct op *stream;	/* tar in: a member being read from stdin */
	struct rpc_call wcall;	/* the walker's own requests */
	struct rpc_call *waiting;
	/* Directories and operations. */
	struct dirnode top;	/* the destination directory */
	struct dirnode nodes[MAX_NODES];
	struct dirnode *free_nodes;
	struct op *ops;
	int nused;
	uint64_t inflight;
	struct spool spool;
	/* tar */
	struct tar_reader *tr;
	struct tar_writer *tw;
	struct tar_entry *te;
	int te_have, tar_eof, root_done;
	char tpath[PATH_BUF];
	size_t tlen;
	uint64_t seq_next, seq_head;
	uint8_t *members;
	int io_err;		/* errno of stdin or stdout */
	/* The outcome. */
	int fatal, lost;
	uint64_t n_copied, n_updated, n_skipped, n_deleted, n_failed;
	struct progress prog;
	uint8_t iobuf[IO_BUF];
};

static void op_end(struct tree *t, struct op *op);
static void op_finish(struct tree *t, struct op *op, enum action a);

/* Paths. */

/* Append "/name" (no slash after a slash or to nothing); -1 if it would
 * pass RPC_MAX_PATH. */
static int path_join(char *buf, size_t *len, const char *name, size_t n)
{
	size_t l = *len;
	int slash = l > 0 && buf[l - 1] != '/';

	if (l + (size_t)slash + n > RPC_MAX_PATH) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (slash)
		buf[l++] = '/';
	memcpy(buf + l, name, n);
	l += n;
	buf[l] = '\0';
	*len = l;
	return 0;
}

static int is_dot(const char *s, size_t n)
{
	return (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.');
}

/* A root's length without trailing slashes ("/" stays). */
static size_t root_len(const char *p)
{
	size_t n = strlen(p);

	while (n > 1 && p[n - 1] == '/')
		n--;
	return n;
}

/* The last component of p[0..n). */
static const char *last_name(const char *p, size_t n, size_t *len)
{
	const char *s = memrchr(p, '/', n);

	s = s != NULL ? s + 1 : p;
	*len = (size_t)(p + n - s);
	return s;
}

/* "DIR/" "." ".." "/": a source whose contents go into the destination
 * itself, as rsync takes a trailing slash. */
static int is_contents(const char *p)
{
	size_t n = strlen(p), bl;
	const char *b;

	if (n > 0 && p[n - 1] == '/')
		return 1;
	b = last_name(p, n, &bl);
	return is_dot(b, bl);
}

/*
 * A temporary beside path, ".NAME.rwPID-N", or its part file
 * ".NAME.rwpart": as the agent names its own.
 */
static int temp_name(const char *path, size_t len, int part, char *out)
{
	static unsigned serial;
	size_t bl;
	const char *b = last_name(path, len, &bl);
	int n;

	if (bl > TMP_BASE_MAX)
		bl = TMP_BASE_MAX;
	if (part)
		n = snprintf(out, PATH_BUF, "%.*s.%.*s.rwpart",
		    (int)(b - path), path, (int)bl, b);
	else
		n = snprintf(out, PATH_BUF, "%.*s.%.*s.rw%ld-%u",
		    (int)(b - path), path, (int)bl, b, (long)getpid(),
		    ++serial);
	if (n < 0 || n >= PATH_BUF) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static void item_of_stat(struct item *it, const struct stat *st)
{
	it->type = rpc_type_of(st->st_mode);
	it->mode = st->st_mode & 07777;
	it->uid = st->st_uid;
	it->gid = st->st_gid;
	it->size = (uint64_t)st->st_size;
	it->mtime = st->st_mtim.tv_sec;
	it->mtime_ns = (uint32_t)st->st_mtim.tv_nsec;
	it->dev = st->st_dev;
	it->ino = st->st_ino;
}

static void item_of_rpc(struct item *it, const struct rpc_stat *st)
{
	it->type = st->type;
	it->mode = st->mode & 07777;
	it->uid = st->uid;
	it->gid = st->gid;
	it->size = st->size;
	it->mtime = st->mtime;
	it->mtime_ns = st->mtime_ns;
	it->dev = st->dev;
	it->ino = st->ino;
}

static void have_of_stat(struct rpc_stat *h, const struct stat *st)
{
	memset(h, 0, sizeof *h);
	h->type = rpc_type_of(st->st_mode);
	h->mode = st->st_mode & 07777;
	h->size = (uint64_t)st->st_size;
	h->mtime = st->st_mtim.tv_sec;
	h->mtime_ns = (uint32_t)st->st_mtim.tv_nsec;
}

/* Messages and results. */

static void fail_errno(struct tree *t, const char *path, int err,
    const char *why)
{
	progress_clear(&t->prog);
	t->n_failed++;
	if (why != NULL)
		warnx_("%s: %s: %s (%s)", t->cli->cmd, path, strerror(err), why);
	else
		warnx_("%s: %s: %s", t->cli->cmd, path, strerror(err));
	if (!t->cli->json)
		return;
	printf("{\"command\":\"%s\",\"path\":", t->cli->cmd);
	json_str(stdout, path);
	printf(",\"ok\":false,\"error\":\"%s\",\"message\":",
	    rpc_err_name(rpc_err_from_errno(err)));
	json_str(stdout, strerror(err));
	if (why != NULL) {
		printf(",\"detail\":");
		json_str(stdout, why);
	}
	printf("}\n");
}

static void fail_local(struct tree *t, const char *path, int err)
{
	progress_clear(&t->prog);
	t->n_failed++;
	report_local(t->cli, path, err);
}

static void fail_call(struct tree *t, const char *path,
    const struct rpc_call *call)
{
	progress_clear(&t->prog);
	t->n_failed++;
	report_call(t->cli, path, call);
}

/* A fifo, device or socket: not copied, and said so. */
static void skip_special(struct tree *t, uint8_t type)
{
	progress_clear(&t->prog);
	warnx_("%s: %s: skipped: a %s, not a file, directory or symlink",
	    t->cli->cmd, t->src, type_name(type));
	t->n_skipped++;
	if (!t->cli->json)
		return;
	printf("{\"command\":\"%s\",\"path\":", t->cli->cmd);
	json_bytes(stdout, t->dst, t->dst_len);
	printf(",\"type\":\"%s\",\"action\":\"skipped\",\"reason\":"
	    "\"special\",\"ok\":true}\n", type_name(type));
}

static void report(struct tree *t, const struct op *op, enum action a)
{
	static const char *const json_word[] = { "copied", "updated",
	    "skipped", "deleted" };
	static const char *const text_word[] = { "copy", "update", NULL,
	    "delete" };

	switch (a) {
	case A_COPIED:	t->n_copied++;	break;
	case A_UPDATED:	t->n_updated++;	break;
	case A_SKIPPED:	t->n_skipped++;	break;
	case A_DELETED:	t->n_deleted++;	break;
	default:	return;
	}
	if (t->cli->json) {
		printf("{\"command\":\"%s\",\"path\":", t->cli->cmd);
		json_bytes(stdout, op->dst, op->dst_len);
		printf(",\"type\":\"%s\",\"action\":\"%s\"",
		    type_name(op->it.type), json_word[a]);
		if (op->it.type == RPC_T_REG && a != A_DELETED)
			printf(",\"size\":%llu",
			    (unsigned long long)op->it.size);
		if (op->offset > 0 && a == A_COPIED)
			printf(",\"resumed_at\":%llu",
			    (unsigned long long)op->offset);
		if (op->it.type == RPC_T_LNK && a != A_DELETED) {
			printf(",\"target\":");
			json_bytes(stdout, op->link, op->it.link_len);
		}
		printf("%s,\"ok\":true}\n", t->o.dry_run ?
		    ",\"dry_run\":true" : "");
	} else if (t->o.dry_run && text_word[a] != NULL) {
		progress_clear(&t->prog);
		printf("%s ", text_word[a]);
		fwrite(op->dst, 1, op->dst_len, stdout);
		printf("%s\n", op->it.type == RPC_T_DIR ? "/" : "");
	}
}

static void summary(struct tree *t, int rc)
{
	if (!t->cli->json)
		return;
	printf("{\"command\":\"%s\",\"summary\":true,\"ok\":%s,"
	    "\"copied\":%llu,\"updated\":%llu,\"skipped\":%llu,"
	    "\"deleted\":%llu,\"failed\":%llu,\"bytes\":%llu%s}\n",
	    t->cli->cmd, rc == 0 ? "true" : "false",
	    (unsigned long long)t->n_copied, (unsigned long long)t->n_updated,
	    (unsigned long long)t->n_skipped, (unsigned long long)t->n_deleted,
	    (unsigned long long)t->n_failed, (unsigned long long)t->prog.bytes,
	    t->o.dry_run ? ",\"dry_run\":true" : "");
}

/* Local files. */

static int write_full(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	ssize_t k;

	while (n > 0) {
		k = write(fd, b, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		b += k;
		n -= (size_t)k;
	}
	return 0;
}

/* SHA-256 of path's first max bytes (all of it for UINT64_MAX). */
static int sha256_file(struct tree *t, const char *path, int follow,
    uint64_t max, uint8_t out[32])
{
	br_sha256_context c;
	ssize_t n;
	int fd, e;

	fd = open(path, O_RDONLY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
	if (fd < 0)
		return -1;
	br_sha256_init(&c);
	while (max > 0 && (n = read(fd, t->iobuf, max < sizeof t->iobuf ?
	    (size_t)max : sizeof t->iobuf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		br_sha256_update(&c, t->iobuf, (size_t)n);
		max -= (uint64_t)n;
	}
	close(fd);
	br_sha256_out(&c, out);
	return 0;
}

static char rm_failed_at[PATH_BUF];
static int rm_errno;

static int rm_one(const char *p, const struct stat *st, int flag,
    struct FTW *f)
{
	(void)st;
	(void)f;
	if (flag == FTW_DNR || flag == FTW_NS ||
	    (flag == FTW_DP ? rmdir(p) : unlink(p)) != 0) {
		rm_errno = errno;
		snprintf(rm_failed_at, sizeof rm_failed_at, "%s", p);
		return -1;
	}
	return 0;
}

/* rm -r that never follows a symlink; -1 with rm_errno, rm_failed_at. */
static int rm_tree(const char *path)
{
	struct stat st;

	snprintf(rm_failed_at, sizeof rm_failed_at, "%s", path);
	rm_errno = 0;
	if (lstat(path, &st) != 0 || (!S_ISDIR(st.st_mode) &&
	    unlink(path) != 0)) {
		rm_errno = errno;
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return 0;
	if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0)
		return 0;
	if (rm_errno == 0)
		rm_errno = errno;
	return -1;
}

static void fail_rm(struct tree *t, const char *path)
{
	fail_errno(t, path, rm_errno, strcmp(rm_failed_at, path) != 0 ?
	    rm_failed_at : NULL);
}

static int mkdir_parents(const char *path)
{
	char p[PATH_BUF];
	size_t i, n = strlen(path);

	if (n >= sizeof p) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(p, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0777) != 0 && errno != EEXIST)
			return -1;
		p[i] = path[i];
	}
	return 0;
}

/* The spool. */

static int spool_flush(struct spool *s)
{
	size_t off = 0;
	ssize_t k;

	while (off < s->wlen) {
		k = pwrite(s->fd, s->w + off, s->wlen - off,
		    (off_t)(s->end + off));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			s->err = k < 0 ? errno : EIO;
			return -1;
		}
		off += (size_t)k;
	}
	s->end += s->wlen;
	s->wlen = 0;
	s->rlen = 0;
	return 0;
}

static void spool_add(struct spool *s, const struct rpc_dirent *d)
{
	size_t n = REC_HEAD + d->name.n + d->link.n;
	uint8_t *p;

	if (s->err != 0)
		return;
	if (n > SPOOL_BUF) {
		s->err = ENAMETOOLONG;
		return;
	}
	if (s->wlen + n > SPOOL_BUF && spool_flush(s) != 0)
		return;
	p = s->w + s->wlen;
	store_be32(p, (uint32_t)d->name.n);
	store_be32(p + 4, (uint32_t)d->link.n);
	store_be32(p + 8, d->err);
	p[12] = d->st.type;
	store_be32(p + 13, d->st.mode);
	store_be32(p + 17, d->st.uid);
	store_be32(p + 21, d->st.gid);
	store_be64(p + 25, d->st.size);
	store_be64(p + 33, (uint64_t)d->st.mtime);
	store_be32(p + 41, d->st.mtime_ns);
	store_be64(p + 45, d->st.dev);
	store_be64(p + 53, d->st.ino);
	memcpy(p + REC_HEAD, d->name.p, d->name.n);
	memcpy(p + REC_HEAD + d->name.n, d->link.p, d->link.n);
	s->wlen += n;
}

/* Bytes [off, off + n) in the read window. */
static const uint8_t *spool_at(struct spool *s, uint64_t off, size_t n)
{
	ssize_t k;

	if (off >= s->roff && off + n <= s->roff + s->rlen)
		return s->r + (off - s->roff);
	do
		k = pread(s->fd, s->r, SPOOL_BUF, (off_t)off);
	while (k < 0 && errno == EINTR);
	if (k < 0 || (size_t)k < n) {
		s->err = k < 0 ? errno : EIO;
		return NULL;
	}
	s->roff = off;
	s->rlen = (size_t)k;
	return s->r;
}

static int spool_get(struct spool *s, uint64_t off, struct rec *r)
{
	const uint8_t *p;
	size_t nl, ll;

	if ((p = spool_at(s, off, REC_HEAD)) == NULL)
		return -1;
	nl = load_be32(p);
	ll = load_be32(p + 4);
	r->size = REC_HEAD + nl + ll;
	if ((p = spool_at(s, off, r->size)) == NULL)
		return -1;
	memset(&r->it, 0, sizeof r->it);
	r->err = load_be32(p + 8);
	r->it.type = p[12];
	r->it.mode = load_be32(p + 13) & 07777;
	r->it.uid = load_be32(p + 17);
	r->it.gid = load_be32(p + 21);
	r->it.size = load_be64(p + 25);
	r->it.mtime = (int64_t)load_be64(p + 33);
	r->it.mtime_ns = load_be32(p + 41);
	r->it.dev = load_be64(p + 45);
	r->it.ino = load_be64(p + 53);
	r->it.link_len = ll;
	r->name = (const char *)p + REC_HEAD;
	r->name_len = nl;
	r->link = r->name + nl;
	return 0;
}

static void on_list(struct rpc_call *call, const struct rpc_reply *r)
{
	struct tree *t = call->arg;
	struct rpc_dirent d;
	struct buf b;
	int rc;

	if (r->type != RPC_R_DIRENTS)
		return;
	b = r->dirents;
	while ((rc = rpc_dirent_next(&b, &d)) == 1)
		if (!is_dot((const char *)d.name.p, d.name.n))
			spool_add(&t->spool, &d);
	if (rc < 0 && t->spool.err == 0)
		t->spool.err = EPROTO;
}

/* Directory nodes. */

static struct dirnode *node_new(struct tree *t, struct dirnode *parent,
    const struct item *it)
{
	struct dirnode *n = t->free_nodes;

	t->free_nodes = n->next_free;
	memset(n, 0, sizeof *n);
	n->parent = parent;
	n->pending = 1;
	n->mode = it->mode;
	n->mtime = it->mtime;
	n->mtime_ns = it->mtime_ns;
	n->have_attrs = !it->implicit;
	n->contents = it->contents;
	n->dev = it->dev;
	n->ino = it->ino;
	parent->pending++;
	return n;
}

static void node_release(struct dirnode *n)
{
	if (--n->pending == 0 && n->closer != NULL)
		n->closer->kick = 1;
}

/* The parent directory an op changes when it makes or removes. */
static struct dirnode *op_parent(const struct op *op)
{
	return op->ev == EV_ENTER ? op->node->parent : op->dir;
}

/* Operations. */

static struct op *op_take(struct tree *t)
{
	struct op *op;
	int i;

	for (i = 0; i < TREE_SLOTS; i++) {
		op = &t->ops[i];
		if (op->used)
			continue;
		memset(op, 0, offsetof(struct op, src));
		op->used = 1;
		op->fd = -1;
		op->action = A_NONE;
		t->nused++;
		return op;
	}
	return NULL;
}

static void op_end(struct tree *t, struct op *op)
{
	struct dirnode *dir = op->dir;

	if (op->linked)
		rpc_call_release(&op->call);
	op->linked = op->in_call = 0;
	if (op->fd >= 0)
		close(op->fd);
	op->fd = -1;
	if (op->tmp_live) {
		unlink(op->tmp);
		op->tmp_live = 0;
	}
	if (t->stream == op)
		t->stream = NULL;
	t->inflight -= op->budget;
	/* What a skipped or failed file did not move leaves the total. */
	if (op->moved < op->budget)
		t->prog.total_bytes -= op->budget - op->moved;
	if (op->ev == EV_ITEM)
		t->prog.files++;
	op->used = 0;
	t->nused--;
	if (dir != NULL)
		node_release(dir);
}

/* A directory is done: free its node, tell its parent. */
static void node_done(struct tree *t, struct op *op)
{
	struct dirnode *n = op->node, *parent = n->parent;

	n->next_free = t->free_nodes;
	t->free_nodes = n;
	op->node = NULL;
	op_end(t, op);
	node_release(parent);
}

static void op_finish(struct tree *t, struct op *op, enum action a)
{
	report(t, op, a);
	if (op->ev == EV_LEAVE)
		node_done(t, op);
	else
		op_end(t, op);
}

/* A fresh call for the op's next request. */
static struct rpc_call *op_call(struct op *op, enum step state,
    rpc_reply_fn fn)
{
	if (op->linked)
		rpc_call_release(&op->call);
	rpc_call_init(&op->call, fn, op);
	op->linked = 1;
	op->in_call = 1;
	op->state = state;
	return &op->call;
}

/* After queueing a request: rc from the rpc_*() that queued it. */
static void op_sent(struct tree *t, struct op *op, int rc)
{
	if (rc == 0)
		return;
	op->in_call = 0;
	if (rpc_client_error(t->rpc) != NULL) {
		t->lost = 1;
		return;
	}
	fail_errno(t, op->dst, errno, NULL);
	op_finish(t, op, A_NONE);
}

static int op_ready(const struct op *op)
{
	return op->used && (op->kick ||
	    (op->in_call && rpc_call_finished(&op->call)));
}

/* The destination's side: begin an op, and go on when it is ready. */
static void r_begin(struct tree *t, struct op *op);
static void r_advance(struct tree *t, struct op *op);
static void l_begin(struct tree *t, struct op *op);
static void l_advance(struct tree *t, struct op *op);
static void x_begin(struct tree *t, struct op *op);
static void x_advance(struct tree *t, struct op *op);
static void tar_pump(struct tree *t);

static void op_begin(struct tree *t, struct op *op)
{
	if (t->to == SIDE_REMOTE)
		r_begin(t, op);
	else if (t->to == SIDE_LOCAL)
		l_begin(t, op);
	else
		x_begin(t, op);
}

static void op_advance(struct tree *t, struct op *op)
{
	if (t->to == SIDE_REMOTE)
		r_advance(t, op);
	else if (t->to == SIDE_LOCAL)
		l_advance(t, op);
	else
		x_advance(t, op);
}

static void advance_all(struct tree *t)
{
	struct op *op;
	int i, again;

	do {
		again = 0;
		for (i = 0; i < TREE_SLOTS && !t->fatal && !t->lost; i++) {
			op = &t->ops[i];
			if (!op_ready(op))
				continue;
			op->kick = 0;
			op->in_call = 0;
			op_advance(t, op);
			/* A chain that asked for nothing more lets its call go. */
			if (op->used && op->linked && !op->in_call) {
				rpc_call_release(&op->call);
				op->linked = 0;
			}
			again = 1;
		}
		if (t->to == SIDE_TAR)
			tar_pump(t);
	} while (again && !t->fatal && !t->lost);
}

/* The walker may take another entry. */
static int stream_busy(struct tree *t)
{
	const struct op *op = t->stream;
	const struct rpc_source *s;

	if (op == NULL)
		return 0;
	if (!op->writing)
		return 1;
	s = op->call.source;
	if (op->in_call && op->state == S_WRITE && s != NULL && !s->eof &&
	    !s->stopped && s->error == 0 && !op->call.done)
		return 1;
	t->stream = NULL;
	return 0;
}

static int walk_may_go(struct tree *t)
{
	return !t->walk_done && t->entering == NULL && t->entered == NULL &&
	    t->nused < TREE_SLOTS && t->inflight < TREE_BYTES &&
	    !stream_busy(t);
}

static int attention(void *arg)
{
	struct tree *t = arg;
	int i;

	if (t->fatal || t->lost)
		return 1;
	if (t->waiting != NULL ? rpc_call_finished(t->waiting) :
	    t->entered != NULL || walk_may_go(t))
		return 1;
	for (i = 0; i < TREE_SLOTS; i++)
		if (op_ready(&t->ops[i]))
			return 1;
	return 0;
}

/* Run the slots until call, one of the walker's own, is answered. */
static int tree_wait_for(struct tree *t, struct rpc_call *call, int rc)
{
	if (rc != 0) {
		if (rpc_client_error(t->rpc) != NULL) {
			t->lost = 1;
		} else {
			fail_errno(t, t->src, errno, NULL);
			t->fatal = 1;
		}
		return -1;
	}
	t->waiting = call;
	for (;;) {
		advance_all(t);
		if (t->fatal || t->lost || rpc_call_finished(call))
			break;
		if (rpc_run(t->rpc, attention, t) != 0)
			t->lost = 1;
	}
	t->waiting = NULL;
	return t->fatal || t->lost ? -1 : 0;
}

static int tree_wait(struct tree *t, int rc)
{
	return tree_wait_for(t, &t->wcall, rc);
}

static struct rpc_call *wcall(struct tree *t, rpc_reply_fn fn)
{
	rpc_call_release(&t->wcall);
	rpc_call_init(&t->wcall, fn, t);
	return &t->wcall;
}

/* ---- push: the agent's side --------------------------------------- */

static void r_create(struct tree *t, struct op *op);
static void enter_done(struct tree *t, struct op *op);

static void r_look(struct tree *t, struct op *op, int follow)
{
	op_call(op, S_LOOK, NULL);
	op_sent(t, op, rpc_stat(t->rpc, &op->call, op->dst, op->dst_len,
	    !follow));
}

/* What the look found: 1 something (in op->have), 0 nothing, -1 an
 * error, reported. */
static int r_looked(struct tree *t, struct op *op)
{
	op->exists = 0;
	if (op->call.final == RPC_R_STAT) {
		op->exists = 1;
		op->have = op->call.st;
		return 1;
	}
	if (op->call.final == RPC_R_ERROR &&
	    rpc_err_to_errno(op->call.err) == ENOENT)
		return 0;
	fail_call(t, op->dst, &op->call);
	return -1;
}

/* Something of another kind is in the way: remove it first. */
static void r_clear(struct tree *t, struct op *op)
{
	int dir = op->have.type == RPC_T_DIR;

	if (dir && !t->o.del) {
		fail_errno(t, op->dst, EISDIR, "--delete would replace it");
		op_finish(t, op, A_NONE);
		return;
	}
	if (t->o.dry_run) {
		op->exists = 0;
		r_create(t, op);
		return;
	}
	op_parent(op)->touched = 1;
	op_call(op, S_CLEAR, NULL);
	op_sent(t, op, rpc_remove(t->rpc, &op->call, op->dst, op->dst_len,
	    dir ? RPC_REMOVE_RECURSIVE : 0));
}

static void r_settime(struct tree *t, struct op *op)
{
	int follow = op->ev == EV_LEAVE && op->node->contents;

	op_call(op, S_TIME, NULL);
	op_sent(t, op, rpc_utime(t->rpc, &op->call, op->dst, op->dst_len,
	    follow ? 0 : RPC_UTIME_NOFOLLOW, 0, RPC_UTIME_OMIT, op->it.mtime,
	    op->it.mtime_ns));
}

static void r_chmod(struct tree *t, struct op *op)
{
	op_call(op, S_MODE, NULL);
	op_sent(t, op, rpc_chmod(t->rpc, &op->call, op->dst, op->dst_len,
	    op->it.mode));
}

/* The contents are the same: only mode and mtime may need setting. */
static void r_same(struct tree *t, struct op *op)
{
	op->need_mode = op->it.type == RPC_T_REG &&
	    op->have.mode != op->it.mode;
	op->need_time = op->have.mtime != op->it.mtime;
	if (!op->need_mode && !op->need_time) {
		op_finish(t, op, A_SKIPPED);
		return;
	}
	op->action = A_UPDATED;
	if (t->o.dry_run)
		op_finish(t, op, op->action);
	else if (op->need_mode)
		r_chmod(t, op);
	else
		r_settime(t, op);
}

static void on_write(struct rpc_call *call, const struct rpc_reply *r)
{
	struct op *op = call->arg;

	if (r->type == RPC_S_WINDOW && r->chan == RPC_CHAN_IN) {
		op->moved += r->increment;
		op->t->prog.bytes += r->increment;
	}
}

static ssize_t tar_feed(void *arg, void *buf, size_t n)
{
	struct tree *t = arg;
	ssize_t k = tar_read(t->tr, buf, n);

	if (k < 0)
		errno = EIO;
	return k;
}

/* Where the data of a push comes from. */
static int r_source(struct tree *t, struct op *op)
{
	struct stat st;
	int rc;

	if (t->from == SIDE_TAR)
		rc = op->stream ? rpc_source_fn(&op->call, tar_feed, t) :
		    rpc_source_mem(&op->call, op->buf, op->buf_len);
	else {
		op->fd = open(op->src, O_RDONLY | O_CLOEXEC | O_NONBLOCK |
		    (t->o.follow ? 0 : O_NOFOLLOW));
		if (op->fd < 0 || fstat(op->fd, &st) != 0) {
			fail_local(t, op->src, errno);
			return -1;
		}
		if (!S_ISREG(st.st_mode)) {
			fail_errno(t, op->src, EINVAL,
			    "no longer a regular file");
			return -1;
		}
		rc = rpc_source_fd(&op->call, op->fd);
	}
	if (rc != 0)
		fail_local(t, op->src, ENOMEM);
	return rc;
}

/* A large local file goes through the agent's part file. */
static int r_resumable(const struct tree *t, const struct op *op)
{
	return t->from == SIDE_LOCAL && op->it.size >= RESUME_MIN;
}

/* What a lost connection left of it: the agent hashes as much of its
 * part file as the file may hold. */
static void r_part(struct tree *t, struct op *op)
{
	op->part_checked = 1;
	op_call(op, S_PART, NULL);
	op_sent(t, op, rpc_sum_prefix(t->rpc, &op->call, op->dst, op->dst_len,
	    RPC_SUM_PART, op->it.size));
}

/* The part file's bytes are the source's first ones: resume after them. */
static void r_part_checked(struct tree *t, struct op *op)
{
	const struct rpc_call *c = &op->call;

	op->offset = 0;
	if (c->final == RPC_R_SUM && c->size > 0 && c->size <= op->it.size &&
	    sha256_file(t, op->src, t->o.follow, c->size, op->sha) == 0 &&
	    memcmp(c->digest, op->sha, sizeof op->sha) == 0)
		op->offset = c->size;
}

/* The file with its mode and mtime in one request: no UTIME after. */
static void r_write(struct tree *t, struct op *op)
{
	uint32_t flags = RPC_WRITE_MODE | RPC_WRITE_MTIME |
	    (t->o.fsync ? RPC_WRITE_FSYNC : 0);
	struct rpc_write_extra x;
	int resume = r_resumable(t, op);

	if (t->o.dry_run) {
		op_finish(t, op, A_COPIED);
		return;
	}
	if (resume && !op->part_checked) {
		r_part(t, op);
		return;
	}
	op_call(op, S_WRITE, on_write);
	op->writing = 1;
	if (r_source(t, op) != 0) {
		op_finish(t, op, A_NONE);
		return;
	}
	if (op->offset > 0 && lseek(op->fd, (off_t)op->offset, SEEK_SET) < 0) {
		fail_local(t, op->src, errno);
		op_finish(t, op, A_NONE);
		return;
	}
	op->dir->touched = 1;
	x.offset = op->offset;
	x.mtime = op->it.mtime;
	x.mtime_ns = op->it.mtime_ns < 1000000000u ? op->it.mtime_ns : 0;
	op_sent(t, op, rpc_write_ex(t->rpc, &op->call, op->dst, op->dst_len,
	    flags | (resume ? RPC_WRITE_RESUME : 0), op->it.mode, &x));
}

static int call_failed(const struct op *op, int err)
{
	return op->call.final == RPC_R_ERROR &&
	    rpc_err_to_errno(op->call.err) == err;
}

static void r_written(struct tree *t, struct op *op)
{
	const struct rpc_source *s = op->call.source;

	if (s != NULL && s->error != 0) {
		/* A cut archive is reported once, by the walker. */
		if (t->from == SIDE_TAR)
			t->n_failed++;
		else
			fail_local(t, op->src, s->error);
	} else if (call_failed(op, EBUSY) && op->offset > 0 && !op->retried) {
		/* Another writer has the part file: start over, into a
		 * temporary of the agent's own. */
		op->retried = 1;
		op->offset = 0;
		if (op->fd >= 0)
			close(op->fd);
		op->fd = -1;
		r_write(t, op);
		return;
	} else if (op->call.final != RPC_R_DONE) {
		fail_call(t, op->dst, &op->call);
	} else {
		if (op->call.size > op->moved)
			t->prog.bytes += op->call.size - op->moved;
		op_finish(t, op, A_COPIED);
		return;
	}
	op_finish(t, op, A_NONE);
}

static void r_symlink(struct tree *t, struct op *op)
{
	if (t->o.dry_run) {
		op_finish(t, op, A_COPIED);
		return;
	}
	op->dir->touched = 1;
	op->action = A_COPIED;
	op_call(op, S_SYMLINK, NULL);
	op_sent(t, op, rpc_symlink(t->rpc, &op->call, op->link,
	    op->it.link_len, op->dst, op->dst_len));
}

static void r_mkdir(struct tree *t, struct op *op)
{
	struct dirnode *n = op->node;

	if (t->o.dry_run) {
		n->fresh = 1;
		enter_done(t, op);
		return;
	}
	/* Its own mode where that lets it be filled (no chmod when it is
	 * done), else 0700 till then. */
	if (op->it.implicit)
		n->made_mode = 0777;
	else if ((op->it.mode & 0700) == 0700)
		n->made_mode = op->it.mode & 07777;
	else
		n->made_mode = 0700;
	n->parent->touched = 1;
	op_call(op, S_MKDIR, NULL);
	op_sent(t, op, rpc_mkdir(t->rpc, &op->call, op->dst, op->dst_len,
	    op->it.implicit ? 0 : RPC_MKDIR_EXACT, n->made_mode));
}

static void r_create(struct tree *t, struct op *op)
{
	if (op->ev == EV_ENTER)
		r_mkdir(t, op);
	else if (op->it.type == RPC_T_LNK)
		r_symlink(t, op);
	else
		r_write(t, op);
}

static void r_sum(struct tree *t, struct op *op)
{
	if (sha256_file(t, op->src, t->o.follow, UINT64_MAX, op->sha) != 0) {
		fail_local(t, op->src, errno);
		op_finish(t, op, A_NONE);
		return;
	}
	op_call(op, S_SUM, NULL);
	op_sent(t, op, rpc_sum(t->rpc, &op->call, op->dst, op->dst_len));
}

static void r_readlink(struct tree *t, struct op *op)
{
	op_call(op, S_READLINK, NULL);
	op_sent(t, op, rpc_readlink(t->rpc, &op->call, op->dst,
	    op->dst_len));
}

/* A file or symlink, knowing what is at its place. */
static void r_decide(struct tree *t, struct op *op)
{
	const struct rpc_stat *h = &op->have;

	if (!op->exists)
		r_create(t, op);
	else if (h->type != op->it.type)
		r_clear(t, op);
	else if (op->it.type == RPC_T_LNK && t->o.sync)
		r_readlink(t, op);
	else if (op->it.type == RPC_T_LNK)
		r_clear(t, op);		/* a symlink is never replaced */
	else if (!t->o.sync || h->size != op->it.size)
		r_create(t, op);
	else if (t->o.checksum)
		r_sum(t, op);
	else if (h->mtime != op->it.mtime)
		r_create(t, op);
	else
		r_same(t, op);
}

static void enter_done(struct tree *t, struct op *op)
{
	t->entering = NULL;
	t->entered = op->node;
	op_end(t, op);
}

/*
 * A new directory inside one this run made is entered as soon as its
 * MKDIR is sent: the agent carries out requests in order, so what goes
 * inside finds it made, and the walk does not wait a round trip per
 * directory.  Not for --delete (whose listing of it depends on the
 * answer), nor for an archive (which may name a directory twice).
 */
static void r_enter_ahead(struct tree *t, struct op *op)
{
	struct dirnode *n = op->node;

	if (t->from != SIDE_LOCAL || t->o.del || t->o.dry_run ||
	    !op->used || !op->in_call)
		return;
	n->fresh = 1;
	n->ahead = 1;
	n->pending++;		/* till the answer */
	t->entering = NULL;
	t->entered = n;
}

/* The answer to a MKDIR whose directory was entered ahead of it; after
 * EEXIST, to the look at what is there (a directory will do). */
static void r_ahead_answered(struct tree *t, struct op *op)
{
	struct dirnode *n = op->node;
	const struct rpc_call *c = &op->call;
	int ok = c->final == RPC_R_OK;

	if (op->state == S_MKDIR && call_failed(op, EEXIST)) {
		r_look(t, op, 0);
		return;
	}
	if (op->state == S_LOOK)
		ok = c->final == RPC_R_STAT && c->st.type == RPC_T_DIR;
	/* Said once, for the first directory that failed: something not
	 * a directory in the way, or the error itself. */
	if (!ok && !n->parent->failed && c->final == RPC_R_STAT)
		fail_errno(t, op->dst, EEXIST, NULL);
	else if (!ok && !n->parent->failed)
		fail_call(t, op->dst, c);
	n->failed = !ok;
	n->ahead = 0;
	op_end(t, op);
	node_release(n);
}

static void r_enter(struct tree *t, struct op *op)
{
	struct dirnode *n = op->node;

	if (op->it.contents && t->top.fresh) {
		n->fresh = 1;
		enter_done(t, op);
	} else if (op->it.contents) {
		r_look(t, op, 1);
	} else if (n->parent->fresh) {
		r_mkdir(t, op);
		r_enter_ahead(t, op);
	} else {
		r_look(t, op, 0);
	}
}

static void r_enter_looked(struct tree *t, struct op *op)
{
	struct dirnode *n = op->node;

	if (!op->exists) {
		r_mkdir(t, op);
		return;
	}
	if (op->have.type != RPC_T_DIR) {
		r_clear(t, op);
		return;
	}
	n->old_mode = op->have.mode;
	n->old_mtime = op->have.mtime;
	if ((n->old_mode & 0700) == 0700 || t->o.dry_run) {
		enter_done(t, op);
		return;
	}
	n->opened = 1;
	op_call(op, S_OPEN, NULL);
	op_sent(t, op, rpc_chmod(t->rpc, &op->call, op->dst, op->dst_len,
	    n->old_mode | 0700));
}

/* What a directory needs once all inside is done: op->it gets the mode
 * and mtime to set, need_* say which. */
static void dir_needs(struct op *op)
{
	struct dirnode *n = op->node;

	op->it.type = RPC_T_DIR;
	op->it.mode = n->have_attrs ? n->mode : n->old_mode;
	op->it.mtime = n->mtime;
	op->it.mtime_ns = n->mtime_ns;
	op->action = A_SKIPPED;
	if (n->fresh)
		op->action = A_COPIED;
	else if (n->have_attrs && (n->old_mode != n->mode ||
	    n->old_mtime != n->mtime))
		op->action = A_UPDATED;
	if (n->fresh)
		op->need_mode = n->have_attrs && n->mode != n->made_mode;
	else
		op->need_mode = n->opened || (n->have_attrs &&
		    n->old_mode != n->mode);
	op->need_time = n->have_attrs && (n->fresh || n->touched ||
	    n->old_mtime != n->mtime);
}

static void r_close(struct tree *t, struct op *op)
{
	if (op->node->failed) {
		node_done(t, op);
		return;
	}
	dir_needs(op);
	if (t->o.dry_run || (!op->need_mode && !op->need_time))
		op_finish(t, op, op->action);
	else if (op->need_mode)
		r_chmod(t, op);
	else
		r_settime(t, op);
}

static void r_delete(struct tree *t, struct op *op)
{
	if (t->o.dry_run) {
		op_finish(t, op, A_DELETED);
		return;
	}
	op->dir->touched = 1;
	op_call(op, S_REMOVE, NULL);
	op_sent(t, op, rpc_remove(t->rpc, &op->call, op->dst, op->dst_len,
	    RPC_REMOVE_RECURSIVE));
}

static void r_begin(struct tree *t, struct op *op)
{
	if (op->ev == EV_ENTER)
		r_enter(t, op);
	else if (op->ev == EV_DELETE)
		r_delete(t, op);
	else if (op->dir->fresh)
		r_decide(t, op);
	else
		r_look(t, op, 0);
}

static void r_advance(struct tree *t, struct op *op)
{
	struct rpc_call *c = &op->call;

	if (op->ev == EV_ENTER && op->node->ahead) {
		r_ahead_answered(t, op);
		return;
	}
	/* Its directory, entered ahead, could not be made: that was said
	 * once, for the directory. */
	if (op->ev == EV_ITEM && op->dir->failed) {
		op_finish(t, op, A_NONE);
		return;
	}
	switch (op->state) {
	case S_START:
		r_close(t, op);
		return;
	case S_LOOK:
		if (r_looked(t, op) < 0) {
			if (op->ev != EV_ENTER) {
				op_finish(t, op, A_NONE);
				return;
			}
			op->node->failed = 1;
			enter_done(t, op);
		} else if (op->ev == EV_ENTER) {
			r_enter_looked(t, op);
		} else {
			r_decide(t, op);
		}
		return;
	case S_SUM:
		if (c->final != RPC_R_SUM) {
			fail_call(t, op->dst, c);
			op_finish(t, op, A_NONE);
		} else if (c->size == op->it.size &&
		    memcmp(c->digest, op->sha, sizeof op->sha) == 0) {
			r_same(t, op);
		} else {
			r_create(t, op);
		}
		return;
	case S_READLINK:
		if (c->final == RPC_R_LINK && c->link != NULL &&
		    c->link_len == op->it.link_len &&
		    memcmp(c->link, op->link, c->link_len) == 0)
			r_same(t, op);
		else
			r_clear(t, op);
		return;
	case S_CLEAR:
		if (c->final != RPC_R_OK)
			break;
		op->exists = 0;
		r_create(t, op);
		return;
	case S_PART:
		r_part_checked(t, op);
		r_write(t, op);
		return;
	case S_WRITE:
		r_written(t, op);
		return;
	case S_SYMLINK:
		if (call_failed(op, EEXIST) && !op->retried) {
			/* The fresh directory was not empty after all. */
			op->retried = 1;
			r_look(t, op, 0);
			return;
		}
		if (c->final != RPC_R_OK)
			break;
		r_settime(t, op);
		return;
	case S_MKDIR:
		if (call_failed(op, EEXIST) && !op->retried) {
			op->retried = 1;
			r_look(t, op, 0);
			return;
		}
		if (c->final != RPC_R_OK) {
			fail_call(t, op->dst, c);
			op->node->failed = 1;
		} else {
			op->node->fresh = 1;
		}
		enter_done(t, op);
		return;
	case S_OPEN:
		if (c->final != RPC_R_OK) {
			fail_call(t, op->dst, c);
			op->node->failed = 1;
		}
		enter_done(t, op);
		return;
	case S_MODE:
		if (c->final != RPC_R_OK)
			break;
		if (op->need_time)
			r_settime(t, op);
		else
			op_finish(t, op, op->action);
		return;
	case S_TIME:
		if (c->final != RPC_R_OK)
			break;
		op_finish(t, op, op->action);
		return;
	case S_REMOVE:
		if (c->final != RPC_R_OK)
			break;
		op_finish(t, op, A_DELETED);
		return;
	default:
		break;
	}
	fail_call(t, op->dst, c);
	op_finish(t, op, A_NONE);
}

/* ---- pull: this machine's side ------------------------------------ */

/* lstat (or stat) of op->dst into op->have; 0, or -1 reported. */
static int l_look(struct tree *t, struct op *op, int follow)
{
	struct stat st;

	op->exists = 0;
	if ((follow ? stat(op->dst, &st) : lstat(op->dst, &st)) == 0) {
		op->exists = 1;
		have_of_stat(&op->have, &st);
		return 0;
	}
	if (errno == ENOENT)
		return 0;
	fail_local(t, op->dst, errno);
	return -1;
}

/* A directory in the way of a file or symlink; 0 once it is gone. */
static int l_clear_dir(struct tree *t, struct op *op)
{
	if (!t->o.del) {
		fail_errno(t, op->dst, EISDIR, "--delete would replace it");
		return -1;
	}
	if (t->o.dry_run)
		return 0;
	op->dir->touched = 1;
	if (rm_tree(op->dst) != 0) {
		fail_rm(t, op->dst);
		return -1;
	}
	return 0;
}

static int set_times(const char *path, const struct item *it, int follow)
{
	struct timespec ts[2];

	ts[0].tv_sec = 0;
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_sec = (time_t)it->mtime;
	ts[1].tv_nsec = it->mtime_ns < 1000000000u ? (long)it->mtime_ns : 0;
	return utimensat(AT_FDCWD, path, ts, follow ? 0 :
	    AT_SYMLINK_NOFOLLOW);
}

static void l_same(struct tree *t, struct op *op)
{
	int need_mode = op->it.type == RPC_T_REG &&
	    op->have.mode != op->it.mode;
	int need_time = op->have.mtime != op->it.mtime;

	if (!need_mode && !need_time) {
		op_finish(t, op, A_SKIPPED);
		return;
	}
	if (!t->o.dry_run && ((need_mode && chmod(op->dst, op->it.mode) != 0) ||
	    (need_time && set_times(op->dst, &op->it, 0) != 0))) {
		fail_local(t, op->dst, errno);
		op_finish(t, op, A_NONE);
		return;
	}
	op_finish(t, op, A_UPDATED);
}

static void l_symlink(struct tree *t, struct op *op)
{
	if (t->o.dry_run) {
		op_finish(t, op, A_COPIED);
		return;
	}
	op->dir->touched = 1;
	if (temp_name(op->dst, op->dst_len, 0, op->tmp) != 0 ||
	    symlink(op->link, op->tmp) != 0) {
		fail_local(t, op->dst, errno);
		op_finish(t, op, A_NONE);
		return;
	}
	op->tmp_live = 1;
	if (set_times(op->tmp, &op->it, 0) != 0 ||
	    rename(op->tmp, op->dst) != 0) {
		fail_local(t, op->dst, errno);
		op_finish(t, op, A_NONE);
		return;
	}
	op->tmp_live = 0;
	op_finish(t, op, A_COPIED);
}

static void on_read_local(struct rpc_call *call, const struct rpc_reply *r)
{
	struct op *op = call->arg;

	if (r->type != RPC_S_DATA || r->chan != RPC_CHAN_OUT ||
	    op->werr != 0)
		return;
	if (write_full(op->fd, r->data.p, r->data.n) != 0) {
		op->werr = errno;
		rpc_cancel_detached(op->t->rpc, call->id);
		return;
	}
	op->moved += r->data.n;
	op->t->prog.bytes += r->data.n;
}

/* Read the source from op->offset on into the temporary. */
static void l_read(struct tree *t, struct op *op)
{
	if (op->part && (ftruncate(op->fd, (off_t)op->offset) != 0 ||
	    lseek(op->fd, (off_t)op->offset, SEEK_SET) < 0)) {
		fail_local(t, op->tmp, errno);
		op_finish(t, op, A_NONE);
		return;
	}
	op_call(op, S_READ, on_read_local);
	op_sent(t, op, rpc_read(t->rpc, &op->call, op->src, op->src_len,
	    op->offset, RPC_LENGTH_ALL));
}

/* The whole file into a temporary of this run's own. */
static void l_temp(struct tree *t, struct op *op)
{
	if (temp_name(op->dst, op->dst_len, 0, op->tmp) != 0 ||
	    (op->fd = open(op->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) < 0) {
		fail_local(t, op->dst, errno);
		op_finish(t, op, A_NONE);
		return;
	}
	op->tmp_live = 1;
	op->offset = 0;
	l_read(t, op);
}

/*
 * A large file goes to its part file, ".NAME.rwpart", which a lost
 * connection leaves behind.  What it holds is kept if the source's first
 * as many bytes hash the same: the agent is asked for that hash.
 */
static void l_part(struct tree *t, struct op *op)
{
	struct stat st;

	if (temp_name(op->dst, op->dst_len, 1, op->tmp) != 0 ||
	    (op->fd = open(op->tmp, O_RDWR | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) < 0 || fstat(op->fd, &st) != 0) {
		fail_local(t, op->dst, errno);
		op_finish(t, op, A_NONE);
		return;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
		fail_errno(t, op->tmp, EEXIST, "not a part file of ours");
		op_finish(t, op, A_NONE);
		return;
	}
	/* Another pull is writing it: a temporary of our own instead. */
	if (flock(op->fd, LOCK_EX | LOCK_NB) != 0) {
		close(op->fd);
		op->fd = -1;
		l_temp(t, op);
		return;
	}
	op->tmp_live = op->part = 1;
	op->offset = (uint64_t)st.st_size < op->it.size ?
	    (uint64_t)st.st_size : op->it.size;
	if (op->offset == 0) {
		l_read(t, op);
		return;
	}
	if (sha256_file(t, op->tmp, 0, op->offset, op->sha) != 0) {
		fail_local(t, op->tmp, errno);
		op_finish(t, op, A_NONE);
		return;
	}
	op_call(op, S_PART, NULL);
	op_sent(t, op, rpc_sum_prefix(t->rpc, &op->call, op->src, op->src_len,
	    0, op->offset));
}

static void l_fetch(struct tree *t, struct op *op)
{
	if (t->o.dry_run) {
		op_finish(t, op, A_COPIED);
		return;
	}
	op->dir->touched = 1;
	if (op->it.size >= RESUME_MIN)
		l_part(t, op);
	else
		l_temp(t, op);
}

/* The temporary is complete: mode, times, then its real name. */
static void l_install(struct tree *t, struct op *op)
{
	struct timespec ts[2];
	int fd = op->fd;

	ts[0].tv_sec = 0;
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_sec = (time_t)op->it.mtime;
	ts[1].tv_nsec = (long)op->it.mtime_ns;
	op->fd = -1;
	if (fchmod(fd, op->it.mode) != 0 || futimens(fd, ts) != 0 ||
	    (t->o.fsync && fsync(fd) != 0)) {
		fail_local(t, op->dst, errno);
		close(fd);
		op_finish(t, op, A_NONE);
		return;
	}
	if (close(fd) != 0 || rename(op->tmp, op->dst) != 0) {
		fail_local(t, op->dst, errno);
		op_finish(t, op, A_NONE);
		return;
	}
	op->tmp_live = 0;
	op_finish(t, op, A_COPIED);
}

static void l_sum(struct tree *t, struct op *op)
{
	if (sha256_file(t, op->dst, 0, UINT64_MAX, op->sha) != 0) {
		fail_local(t, op->dst, errno);
		op_finish(t, op, A_NONE);
		return;
	}
	op_call(op, S_SUM, NULL);
	op_sent(t, op, rpc_sum(t->rpc, &op->call, op->src, op->src_len));
}

static int same_link(const struct op *op)
{
	char target[PATH_BUF];
	ssize_t n = readlink(op->dst, target, sizeof target);

	return n >= 0 && (size_t)n == op->it.link_len &&
	    memcmp(target, op->link, op->it.link_len) == 0;
}

static void l_decide(struct tree *t, struct op *op)
{
	const struct rpc_stat *h = &op->have;

	if (op->exists && h->type == RPC_T_DIR && l_clear_dir(t, op) != 0) {
		op_finish(t, op, A_NONE);
		return;
	}
	if (op->exists && h->type == RPC_T_DIR)
		op->exists = 0;
	if (op->it.type == RPC_T_LNK) {
		if (op->exists && h->type == RPC_T_LNK && t->o.sync &&
		    same_link(op))
			l_same(t, op);
		else
			l_symlink(t, op);
	} else if (!op->exists || h->type != RPC_T_REG || !t->o.sync ||
	    h->size != op->it.size) {
		l_fetch(t, op);
	} else if (t->o.checksum) {
		l_sum(t, op);
	} else if (h->mtime != op->it.mtime) {
		l_fetch(t, op);
	} else {
		l_same(t, op);
	}
}

static void l_enter(struct tree *t, struct op *op)
{
	struct dirnode *n = op->node;

	if (op->it.contents && t->top.fresh) {
		n->fresh = 1;
		enter_done(t, op);
		return;
	}
	if (n->parent->fresh)
		op->exists = 0;
	else if (l_look(t, op, op->it.contents) != 0) {
		n->failed = 1;
		enter_done(t, op);
		return;
	}
	if (op->exists && op->have.type == RPC_T_DIR) {
		n->old_mode = op->have.mode;
		n->old_mtime = op->have.mtime;
		if ((n->old_mode & 0700) != 0700 && !t->o.dry_run) {
			n->opened = 1;
			if (chmod(op->dst, n->old_mode | 0700) != 0) {
				fail_local(t, op->dst, errno);
				n->failed = 1;
			}
		}
		enter_done(t, op);
		return;
	}
	if (!t->o.dry_run) {
		n->parent->touched = 1;
		if ((op->exists && unlink(op->dst) != 0) ||
		    mkdir(op->dst, 0700) != 0) {
			fail_local(t, op->dst, errno);
			n->failed = 1;
			enter_done(t, op);
			return;
		}
	}
	n->fresh = 1;
	enter_done(t, op);
}

static void l_close(struct tree *t, struct op *op)
{
	int follow = op->node->contents;

	if (op->node->failed) {
		node_done(t, op);
		return;
	}
	dir_needs(op);
	if (!t->o.dry_run && ((op->need_mode && chmod(op->dst,
	    op->it.mode) != 0) || (op->need_time &&
	    set_times(op->dst, &op->it, follow) != 0))) {
		fail_local(t, op->dst, errno);
		node_done(t, op);
		return;
	}
	op_finish(t, op, op->action);
}

static void l_begin(struct tree *t, struct op *op)
{
	switch (op->ev) {
	case EV_ENTER:
		l_enter(t, op);
		break;
	case EV_DELCHECK:
		op_call(op, S_LOOK, NULL);
		op_sent(t, op, rpc_stat(t->rpc, &op->call, op->src,
		    op->src_len, 1));
		break;
	default:
		if (!op->dir->fresh && l_look(t, op, 0) != 0)
			op_finish(t, op, A_NONE);
		else
			l_decide(t, op);
		break;
	}
}

/* --delete: the source has no such name; remove ours. */
static void l_checked(struct tree *t, struct op *op)
{
	struct rpc_call *c = &op->call;

	if (c->final == RPC_R_STAT) {
		op_finish(t, op, A_NONE);
		return;
	}
	if (!call_failed(op, ENOENT)) {
		fail_call(t, op->src, c);
		op_finish(t, op, A_NONE);
		return;
	}
	if (!t->o.dry_run) {
		op->dir->touched = 1;
		if (rm_tree(op->dst) != 0) {
			fail_rm(t, op->dst);
			op_finish(t, op, A_NONE);
			return;
		}
	}
	op_finish(t, op, A_DELETED);
}

static void l_advance(struct tree *t, struct op *op)
{
	struct rpc_call *c = &op->call;

	switch (op->state) {
	case S_START:
		l_close(t, op);
		break;
	case S_LOOK:
		l_checked(t, op);
		break;
	case S_SUM:
		if (c->final != RPC_R_SUM) {
			fail_call(t, op->src, c);
			op_finish(t, op, A_NONE);
		} else if (c->size == op->it.size &&
		    memcmp(c->digest, op->sha, sizeof op->sha) == 0) {
			l_same(t, op);
		} else {
			l_fetch(t, op);
		}
		break;
	case S_PART:
		if (c->final != RPC_R_SUM || c->size != op->offset ||
		    memcmp(c->digest, op->sha, sizeof op->sha) != 0)
			op->offset = 0;
		l_read(t, op);
		break;
	case S_READ:
		if (op->werr != 0) {
			fail_local(t, op->dst, op->werr);
			op_finish(t, op, A_NONE);
		} else if (c->final != RPC_R_DONE) {
			fail_call(t, op->src, c);
			op_finish(t, op, A_NONE);
		} else {
			l_install(t, op);
		}
		break;
	default:
		op_finish(t, op, A_NONE);
		break;
	}
}

/* ---- pull to a tar archive on stdout ------------------------------ */

static int tar_out_failed(struct tree *t)
{
	if (!t->fatal) {
		t->fatal = 1;
		if (t->io_err != 0)
			fail_local(t, "-", t->io_err);
		else
			fail_errno(t, "-", EIO, tar_writer_error(t->tw));
	}
	return -1;
}

static void on_read_tar(struct rpc_call *call, const struct rpc_reply *r)
{
	struct op *op = call->arg;
	struct tree *t = op->t;
	size_t n = r->data.n;

	if (r->type != RPC_S_DATA || r->chan != RPC_CHAN_OUT || t->fatal)
		return;
	/* READ asked for it.size bytes: more would be the agent's bug. */
	if (n > op->it.size - op->moved)
		n = (size_t)(op->it.size - op->moved);
	if (op->direct) {
		if (tar_write_data(t->tw, r->data.p, n) != 0) {
			tar_out_failed(t);
			return;
		}
	} else {
		memcpy(op->buf + op->buf_len, r->data.p, n);
		op->buf_len += n;
	}
	op->moved += n;
	t->prog.bytes += n;
}

static void x_read(struct tree *t, struct op *op)
{
	op->read_started = 1;
	op_call(op, S_READ, on_read_tar);
	op_sent(t, op, rpc_read(t->rpc, &op->call, op->src, op->src_len, 0,
	    op->it.size));
}

static void x_begin(struct tree *t, struct op *op)
{
	op->state = S_WAIT;
	op->seq = t->seq_next++;
	if (op->ev == EV_ENTER) {
		/* The archive needs nothing made: go in at once. */
		op->no_entry = op->it.contents;
		t->entering = NULL;
		t->entered = op->node;
		op->node = NULL;
	} else if (op->it.type == RPC_T_REG && op->it.size > 0 &&
	    op->it.size <= MEMBER_BUF) {
		x_read(t, op);
	}
}

static void x_advance(struct tree *t, struct op *op)
{
	if (op->ev == EV_LEAVE) {
		node_done(t, op);
		return;
	}
	if (op->call.final != RPC_R_DONE) {
		fail_call(t, op->src, &op->call);
		op->read_failed = 1;
		if (!op->header_done)
			op->no_entry = 1;
	}
	op->state = S_WAIT;
}

static int x_header(struct tree *t, struct op *op)
{
	struct tar_entry *e = t->te;

	memset(e, 0, sizeof *e);
	memcpy(e->path, op->dst, op->dst_len + 1);
	e->path_len = op->dst_len;
	e->type = op->it.type == RPC_T_DIR ? TAR_DIR :
	    op->it.type == RPC_T_LNK ? TAR_SYMLINK : TAR_FILE;
	if (e->type == TAR_SYMLINK) {
		memcpy(e->link, op->link, op->it.link_len);
		e->link_len = op->it.link_len;
	}
	e->mode = op->it.mode;
	e->uid = op->it.uid;
	e->gid = op->it.gid;
	e->size = e->type == TAR_FILE ? op->it.size : 0;
	e->mtime = op->it.mtime;
	e->mtime_ns = op->it.mtime_ns < 1000000000u ? op->it.mtime_ns : 0;
	if (tar_write_header(t->tw, e) != 0 ||
	    tar_write_data(t->tw, op->buf, op->buf_len) != 0)
		return tar_out_failed(t);
	op->header_done = 1;
	op->direct = 1;
	return 0;
}

/* A file that shrank while it was read is padded to its header's size. */
static int x_end_entry(struct tree *t, struct op *op)
{
	uint64_t left = op->it.type == RPC_T_REG ? op->it.size - op->moved : 0;
	size_t n;

	if (left > 0 && !op->read_failed)
		fail_errno(t, op->src, EIO, "shrank while read; "
		    "padded with zeros in the archive");
	if (left > 0)
		memset(t->iobuf, 0, sizeof t->iobuf);
	for (; left > 0; left -= n) {
		n = left < sizeof t->iobuf ? (size_t)left : sizeof t->iobuf;
		if (tar_write_data(t->tw, t->iobuf, n) != 0)
			return tar_out_failed(t);
	}
	if (tar_end_entry(t->tw) != 0)
		return tar_out_failed(t);
	return 0;
}

static struct op *tar_head(struct tree *t)
{
	int i;

	for (i = 0; i < TREE_SLOTS; i++)
		if (t->ops[i].used && t->ops[i].ev != EV_LEAVE &&
		    t->ops[i].state != S_START && t->ops[i].seq == t->seq_head)
			return &t->ops[i];
	return NULL;
}

/*
 * Write out what the archive's order allows.  The head member's data
 * goes straight to the archive (what came before it waited in its
 * buffer); a large one is read only now that it is the head.
 */
static void tar_pump(struct tree *t)
{
	struct op *op;

	while (!t->fatal && (op = tar_head(t)) != NULL) {
		if (!op->header_done && !op->no_entry && x_header(t, op) != 0)
			return;
		if (op->header_done && op->it.type == RPC_T_REG &&
		    op->it.size > 0 && !op->read_started)
			x_read(t, op);
		if (op->in_call)
			return;
		if (op->header_done && x_end_entry(t, op) != 0)
			return;
		t->seq_head++;
		op_finish(t, op, op->no_entry ? A_NONE : A_COPIED);
	}
}

/* ---- the walk ----------------------------------------------------- */

static struct dirnode *walk_top(struct tree *t)
{
	return t->depth > 0 ? t->lv[t->depth - 1].node : &t->top;
}

/* Back to the paths of the directory the walk is in. */
static void walk_restore(struct tree *t)
{
	if (t->depth > 0) {
		t->src_len = t->lv[t->depth - 1].src_len;
		t->dst_len = t->lv[t->depth - 1].dst_len;
	} else {
		t->src_len = 0;
		t->dst_len = t->base_len;
	}
	t->src[t->src_len] = '\0';
	t->dst[t->dst_len] = '\0';
}

static int walk_join(struct tree *t, const char *name, size_t n)
{
	if (path_join(t->src, &t->src_len, name, n) != 0 ||
	    path_join(t->dst, &t->dst_len, name, n) != 0) {
		walk_restore(t);
		fail_errno(t, t->src, ENAMETOOLONG, NULL);
		return -1;
	}
	return 0;
}

static void op_paths(const struct tree *t, struct op *op)
{
	memcpy(op->src, t->src, t->src_len + 1);
	memcpy(op->dst, t->dst, t->dst_len + 1);
	op->src_len = t->src_len;
	op->dst_len = t->dst_len;
}

static int emit_item(struct tree *t, struct op *op)
{
	op->ev = EV_ITEM;
	op_paths(t, op);
	walk_restore(t);
	return 1;
}

/* -L: a directory met again on the way down would never end. */
static int walk_loops(const struct tree *t, const struct item *it)
{
	int i;

	for (i = 0; i < t->depth; i++)
		if (t->lv[i].node->dev == it->dev &&
		    t->lv[i].node->ino == it->ino)
			return 1;
	return 0;
}

/* op->it (and op->link) describe the entry at the walk's paths: 1 with
 * the event, or 0 if it is not copied. */
static int walk_entry(struct tree *t, struct op *op)
{
	switch (op->it.type) {
	case RPC_T_REG:
	case RPC_T_LNK:
		return emit_item(t, op);
	case RPC_T_DIR:
		if (t->depth + 1 >= MAX_DEPTH || (t->o.follow &&
		    walk_loops(t, &op->it))) {
			fail_errno(t, t->src, ELOOP, t->depth + 1 >= MAX_DEPTH ?
			    "too deep" : "a directory loop through symlinks");
			break;
		}
		op->ev = EV_ENTER;
		op_paths(t, op);
		return 1;
	default:
		skip_special(t, op->it.type);
		break;
	}
	walk_restore(t);
	return 0;
}

static int walk_leave(struct tree *t, struct op *op)
{
	struct level *lv = &t->lv[--t->depth];

	if (lv->dp != NULL)
		closedir(lv->dp);
	lv->dp = NULL;
	t->spool.end = lv->start;
	t->spool.rlen = 0;
	op->ev = EV_LEAVE;
	op->node = lv->node;
	op->it.type = RPC_T_DIR;
	op_paths(t, op);
	walk_restore(t);
	return 1;
}

/* Set the walk at a root: src is it, dst the destination directory or
 * the root's name in it.  Returns whether its contents are meant. */
static int walk_root(struct tree *t, const char *path)
{
	size_t n = root_len(path), bl;
	const char *b;
	int contents = is_contents(path);

	walk_restore(t);
	if (n > RPC_MAX_PATH) {
		fail_errno(t, path, ENAMETOOLONG, NULL);
		return -1;
	}
	memcpy(t->src, path, n);
	t->src[n] = '\0';
	t->src_len = n;
	if (contents)
		return 1;
	b = last_name(t->src, n, &bl);
	if (path_join(t->dst, &t->dst_len, b, bl) != 0) {
		fail_errno(t, path, ENAMETOOLONG, NULL);
		walk_restore(t);
		return -1;
	}
	return 0;
}

/* The agent's listing of path into the spool, as the level's. */
static int list_into_spool(struct tree *t, struct level *lv, const char *path,
    size_t len)
{
	struct rpc_call *c = wcall(t, on_list);

	lv->start = lv->pos = lv->end = t->spool.end;
	if (tree_wait(t, rpc_list(t->rpc, c, path, len)) != 0)
		return -1;
	if (spool_flush(&t->spool) != 0 || t->spool.err != 0) {
		fail_errno(t, path, t->spool.err, "the listing could not be "
		    "kept in a temporary file");
		t->fatal = 1;
		return -1;
	}
	if (c->final == RPC_R_ERROR) {
		fail_call(t, path, c);
		t->spool.end = lv->start;
		return 1;
	}
	lv->end = t->spool.end;
	return 0;
}

/* push: local files. */

static int local_entry(struct tree *t, struct op *op, const struct stat *st)
{
	ssize_t n;

	item_of_stat(&op->it, st);
	if (S_ISLNK(st->st_mode)) {
		n = readlink(t->src, op->link, sizeof op->link - 1);
		if (n < 0) {
			fail_local(t, t->src, errno);
			walk_restore(t);
			return 0;
		}
		op->link[n] = '\0';
		op->it.link_len = (size_t)n;
	}
	return walk_entry(t, op);
}

static int local_root(struct tree *t, struct op *op, const char *path)
{
	struct stat st;
	int contents = walk_root(t, path);

	if (contents < 0)
		return 0;
	if ((contents || t->o.follow ? stat(t->src, &st) :
	    lstat(t->src, &st)) != 0) {
		fail_local(t, path, errno);
		walk_restore(t);
		return 0;
	}
	if (contents && !S_ISDIR(st.st_mode)) {
		fail_errno(t, path, ENOTDIR, NULL);
		walk_restore(t);
		return 0;
	}
	op->it.contents = contents;
	return local_entry(t, op, &st);
}

/* push --delete: an entry of the destination the source lacks. */
static int scan_remote_dest(struct tree *t, struct op *op, struct level *lv)
{
	struct stat st;
	struct rec r;

	if (lv->pos >= lv->end) {
		lv->scan = 0;
		t->spool.end = lv->start;
		lv->end = lv->pos = lv->start;
		return 0;
	}
	if (spool_get(&t->spool, lv->pos, &r) != 0) {
		fail_errno(t, t->dst, t->spool.err, "reading back the listing");
		t->fatal = 1;
		return -1;
	}
	lv->pos += r.size;
	if (walk_join(t, r.name, r.name_len) != 0)
		return 0;
	if (lstat(t->src, &st) == 0) {
		walk_restore(t);
		return 0;
	}
	if (errno != ENOENT) {
		fail_local(t, t->src, errno);
		walk_restore(t);
		return 0;
	}
	op->ev = EV_DELETE;
	op->it.type = r.it.type;
	op_paths(t, op);
	walk_restore(t);
	return 1;
}

static int local_next(struct tree *t, struct op *op)
{
	struct level *lv;
	struct dirent *de;
	struct stat st;
	int r;

	for (;;) {
		if (t->depth == 0) {
			if (t->next_root == t->nroots)
				return 0;
			if (local_root(t, op, t->roots[t->next_root++]) == 1)
				return 1;
			continue;
		}
		lv = &t->lv[t->depth - 1];
		if (lv->scan) {
			if ((r = scan_remote_dest(t, op, lv)) != 0)
				return r;
			continue;
		}
		if (lv->dp != NULL && lv->node->failed) {
			/* Entered ahead, and then not made. */
			closedir(lv->dp);
			lv->dp = NULL;
		}
		if (lv->dp == NULL)
			return walk_leave(t, op);
		errno = 0;
		if ((de = readdir(lv->dp)) == NULL) {
			if (errno != 0)
				fail_local(t, t->src, errno);
			closedir(lv->dp);
			lv->dp = NULL;
			continue;
		}
		if (is_dot(de->d_name, strlen(de->d_name)) ||
		    walk_join(t, de->d_name, strlen(de->d_name)) != 0)
			continue;
		errno = 0;
		if (fstatat(dirfd(lv->dp), de->d_name, &st,
		    t->o.follow ? 0 : AT_SYMLINK_NOFOLLOW) != 0) {
			fail_local(t, t->src, errno);
			walk_restore(t);
			continue;
		}
		if (local_entry(t, op, &st) == 1)
			return 1;
	}
}

static void local_open(struct tree *t, struct level *lv)
{
	int fd, flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;

	/* A root named with a slash may be a symlink; below, -L decides. */
	if (!t->o.follow && t->depth > 1)
		flags |= O_NOFOLLOW;
	if (t->o.del && !lv->node->fresh &&
	    list_into_spool(t, lv, t->dst, t->dst_len) == 0)
		lv->scan = 1;
	if (t->fatal || t->lost)
		return;
	if ((fd = open(t->src, flags)) < 0 ||
	    (lv->dp = fdopendir(fd)) == NULL) {
		fail_local(t, t->src, errno);
		if (fd >= 0)
			close(fd);
	}
}

/* pull: the agent's files. */

/* The walker's STAT, or READLINK, of t->src; 0, or 1 reported. */
static int remote_stat(struct tree *t, struct op *op, int follow)
{
	struct rpc_call *c = wcall(t, NULL);

	if (tree_wait(t, rpc_stat(t->rpc, c, t->src, t->src_len,
	    !follow)) != 0)
		return -1;
	if (c->final != RPC_R_STAT) {
		fail_call(t, t->src, c);
		return 1;
	}
	item_of_rpc(&op->it, &c->st);
	return 0;
}

static int remote_readlink(struct tree *t, struct op *op)
{
	struct rpc_call *c = wcall(t, NULL);

	if (tree_wait(t, rpc_readlink(t->rpc, c, t->src, t->src_len)) != 0)
		return -1;
	if (c->final != RPC_R_LINK || c->link == NULL) {
		fail_call(t, t->src, c);
		return 1;
	}
	memcpy(op->link, c->link, c->link_len + 1);
	op->it.link_len = c->link_len;
	return 0;
}

static int remote_root(struct tree *t, struct op *op, const char *path)
{
	int contents = walk_root(t, path), r;

	if (contents < 0)
		return 0;
	r = remote_stat(t, op, contents || t->o.follow);
	if (r == 0 && op->it.type == RPC_T_LNK)
		r = remote_readlink(t, op);
	if (r < 0)
		return -1;
	if (r == 0 && contents && op->it.type != RPC_T_DIR) {
		fail_errno(t, path, ENOTDIR, NULL);
		r = 1;
	}
	if (r != 0) {
		walk_restore(t);
		return 0;
	}
	op->it.contents = contents;
	return walk_entry(t, op);
}

/* pull --delete: a name here to check against the source. */
static int scan_local_dest(struct tree *t, struct op *op, struct level *lv)
{
	struct dirent *de;

	errno = 0;
	if ((de = readdir(lv->dp)) == NULL) {
		if (errno != 0)
			fail_local(t, t->dst, errno);
		closedir(lv->dp);
		lv->dp = NULL;
		return 0;
	}
	if (is_dot(de->d_name, strlen(de->d_name)) ||
	    walk_join(t, de->d_name, strlen(de->d_name)) != 0)
		return 0;
	op->ev = EV_DELCHECK;
	op->it.type = de->d_type == DT_DIR ? RPC_T_DIR : de->d_type == DT_LNK ?
	    RPC_T_LNK : RPC_T_REG;
	op_paths(t, op);
	walk_restore(t);
	return 1;
}

static int remote_next(struct tree *t, struct op *op)
{
	struct level *lv;
	struct rec r;
	int k;

	for (;;) {
		if (t->depth == 0) {
			if (t->next_root == t->nroots)
				return 0;
			if ((k = remote_root(t, op,
			    t->roots[t->next_root++])) != 0)
				return k;
			continue;
		}
		lv = &t->lv[t->depth - 1];
		if (lv->dp != NULL) {
			if (scan_local_dest(t, op, lv) == 1)
				return 1;
			continue;
		}
		if (lv->pos >= lv->end)
			return walk_leave(t, op);
		if (spool_get(&t->spool, lv->pos, &r) != 0) {
			fail_errno(t, t->src, t->spool.err,
			    "reading back the listing");
			t->fatal = 1;
			return -1;
		}
		lv->pos += r.size;
		if (walk_join(t, r.name, r.name_len) != 0)
			continue;
		if (r.err != 0) {
			fail_errno(t, t->src, rpc_err_to_errno(r.err), NULL);
			walk_restore(t);
			continue;
		}
		if (r.it.link_len > RPC_MAX_PATH) {
			fail_errno(t, t->src, ENAMETOOLONG, "link target");
			walk_restore(t);
			continue;
		}
		op->it = r.it;
		memcpy(op->link, r.link, r.it.link_len);
		op->link[r.it.link_len] = '\0';
		if (op->it.type == RPC_T_LNK && t->o.follow &&
		    (k = remote_stat(t, op, 1)) != 0) {
			if (k < 0)
				return -1;
			walk_restore(t);
			continue;
		}
		if (walk_entry(t, op) == 1)
			return 1;
	}
}

static void remote_open(struct tree *t, struct level *lv)
{
	if (list_into_spool(t, lv, t->src, t->src_len) < 0 ||
	    t->to != SIDE_LOCAL || !t->o.del || lv->node->fresh)
		return;
	if ((lv->dp = opendir(t->dst)) == NULL)
		fail_local(t, t->dst, errno);
}

/* push -: a tar archive on stdin. */

static ssize_t stdin_read(void *ctx, void *buf, size_t n)
{
	struct tree *t = ctx;
	struct pollfd p = { STDIN_FILENO, POLLIN, 0 };
	ssize_t k;

	for (;;) {
		k = read(STDIN_FILENO, buf, n);
		if (k >= 0)
			return k;
		if (errno == EAGAIN)
			poll(&p, 1, -1);
		else if (errno != EINTR)
			break;
	}
	t->io_err = errno;
	return -1;
}

static ssize_t stdout_write(void *ctx, const void *buf, size_t n)
{
	struct tree *t = ctx;
	struct pollfd p = { STDOUT_FILENO, POLLOUT, 0 };
	ssize_t k;

	for (;;) {
		k = write(STDOUT_FILENO, buf, n);
		if (k >= 0)
			return k;
		if (errno == EAGAIN)
			poll(&p, 1, -1);
		else if (errno != EINTR)
			break;
	}
	t->io_err = errno;
	return -1;
}

/* A member's path made relative and plain: no leading "/", no "." or
 * empty components; -1 if a ".." would climb out. */
static int tar_clean(const char *in, size_t n, char *out, size_t *len)
{
	size_t i = 0, j, o = 0;

	while (i < n) {
		for (j = i; j < n && in[j] != '/'; j++)
			;
		if (j - i == 2 && in[i] == '.' && in[i + 1] == '.')
			return -1;
		if (j > i && !(j - i == 1 && in[i] == '.')) {
			if (o > 0)
				out[o++] = '/';
			memcpy(out + o, in + i, j - i);
			o += j - i;
		}
		i = j + 1;
	}
	out[o] = '\0';
	*len = o;
	return 0;
}

/* The archive cannot be read on: the run ends. */
static int tar_broken(struct tree *t)
{
	progress_clear(&t->prog);
	t->n_failed++;
	if (t->io_err != 0)
		warnx_("%s: -: %s", t->cli->cmd, strerror(t->io_err));
	else
		warnx_("%s: -: %s", t->cli->cmd, tar_error(t->tr));
	t->fatal = 1;
	return -1;
}

/* The next member, its path cleaned into tpath: 1, 0 at the end, -1. */
static int tar_fetch(struct tree *t)
{
	int r;

	for (;;) {
		if ((r = tar_next(t->tr, t->te)) < 0)
			return tar_broken(t);
		if (r == 0) {
			t->tar_eof = 1;
			return 0;
		}
		if (tar_clean(t->te->path, t->te->path_len, t->tpath,
		    &t->tlen) == 0)
			break;
		fail_errno(t, t->te->path, EPERM, "a member path with \"..\"");
	}
	t->te_have = 1;
	return 1;
}

static void item_of_member(struct item *it, const struct tar_entry *e)
{
	memset(it, 0, sizeof *it);
	it->mode = e->mode;
	it->uid = e->uid;
	it->gid = e->gid;
	it->mtime = e->mtime;
	it->mtime_ns = e->mtime_ns;
}

/* Read a small member's data into the op's buffer. */
static int member_data(struct tree *t, struct op *op)
{
	ssize_t k;

	op->buf_len = 0;
	while (op->buf_len < op->it.size) {
		k = tar_read(t->tr, op->buf + op->buf_len,
		    (size_t)op->it.size - op->buf_len);
		if (k <= 0)
			return tar_broken(t);
		op->buf_len += (size_t)k;
	}
	return 0;
}

/* The member itself, its name joined on. */
static int tar_member(struct tree *t, struct op *op)
{
	const struct tar_entry *e = t->te;

	t->te_have = 0;
	item_of_member(&op->it, e);
	switch (e->type) {
	case TAR_DIR:
		op->it.type = RPC_T_DIR;
		break;
	case TAR_SYMLINK:
		op->it.type = RPC_T_LNK;
		memcpy(op->link, e->link, e->link_len + 1);
		op->it.link_len = e->link_len;
		break;
	case TAR_FILE:
		op->it.type = RPC_T_REG;
		op->it.size = e->size;
		op->stream = e->size > MEMBER_BUF;
		if (!op->stream && member_data(t, op) != 0)
			return -1;
		break;
	case TAR_HARDLINK:
		fail_errno(t, t->dst, EOPNOTSUPP, "a hard link; make the "
		    "archive with tar --hard-dereference");
		walk_restore(t);
		return 0;
	default:
		op->it.type = e->tflag == '6' ? RPC_T_FIFO : e->tflag == '4' ?
		    RPC_T_BLK : RPC_T_CHR;
		break;
	}
	return walk_entry(t, op);
}

static int tar_walk_next(struct tree *t, struct op *op)
{
	struct level *lv;
	const char *rel;
	size_t rlen, start, end;
	int k;

	if (t->depth == 0) {
		if (t->root_done)
			return 0;
		t->root_done = 1;
		walk_restore(t);
		op->it.type = RPC_T_DIR;
		op->it.implicit = op->it.contents = 1;
		return walk_entry(t, op);
	}
	for (;;) {
		if (!t->te_have && !t->tar_eof && tar_fetch(t) < 0)
			return -1;
		if (t->tar_eof)
			return walk_leave(t, op);
		lv = &t->lv[t->depth - 1];
		rel = t->dst + t->rel_off;
		rlen = t->depth > 1 ? t->dst_len - t->rel_off : 0;
		/* A directory's own member may come after its contents. */
		if (t->te->type == TAR_DIR && t->tlen == rlen &&
		    memcmp(t->tpath, rel, rlen) == 0) {
			item_of_member(&op->it, t->te);
			lv->node->mode = op->it.mode;
			lv->node->mtime = op->it.mtime;
			lv->node->mtime_ns = op->it.mtime_ns;
			lv->node->have_attrs = 1;
			t->te_have = 0;
			continue;
		}
		if (t->depth > 1 && !(t->tlen > rlen && t->tpath[rlen] == '/' &&
		    memcmp(t->tpath, rel, rlen) == 0))
			return walk_leave(t, op);
		if (lv->node->failed || t->tlen == 0) {
			if (t->tlen == 0)
				fail_errno(t, "-", EINVAL, "a member with no name");
			t->te_have = 0;
			continue;
		}
		start = rlen > 0 ? rlen + 1 : 0;
		for (end = start; end < t->tlen && t->tpath[end] != '/'; end++)
			;
		if (walk_join(t, t->tpath + start, end - start) != 0) {
			t->te_have = 0;
			continue;
		}
		if (end < t->tlen) {
			/* A parent the archive has not named (yet). */
			memset(&op->it, 0, sizeof op->it);
			op->it.type = RPC_T_DIR;
			op->it.implicit = 1;
			if (walk_entry(t, op) == 1)
				return 1;
			t->te_have = 0;
			continue;
		}
		if ((k = tar_member(t, op)) != 0)
			return k;
	}
}

/* The walk, whatever the source. */

static int walk_next(struct tree *t, struct op *op)
{
	if (t->from == SIDE_LOCAL)
		return local_next(t, op);
	if (t->from == SIDE_REMOTE)
		return remote_next(t, op);
	return tar_walk_next(t, op);
}

static void walk_descend(struct tree *t, struct dirnode *n)
{
	struct level *lv = &t->lv[t->depth++];

	memset(lv, 0, sizeof *lv);
	lv->node = n;
	lv->src_len = t->src_len;
	lv->dst_len = t->dst_len;
	lv->start = lv->pos = lv->end = t->spool.end;
	if (n->failed)
		return;
	if (t->from == SIDE_LOCAL)
		local_open(t, lv);
	else if (t->from == SIDE_REMOTE)
		remote_open(t, lv);
}

/* ---- the engine --------------------------------------------------- */

static void start_event(struct tree *t, struct op *op)
{
	struct dirnode *cur = walk_top(t);

	switch (op->ev) {
	case EV_ENTER:
		op->node = node_new(t, cur, &op->it);
		t->entering = op;
		break;
	case EV_LEAVE:
		op->node->closer = op;
		node_release(op->node);
		return;
	default:
		op->dir = cur;
		cur->pending++;
		if (op->ev == EV_ITEM && op->it.type == RPC_T_REG) {
			op->budget = op->it.size;
			t->inflight += op->budget;
			t->prog.total_bytes += op->it.size;
		}
		if (op->ev == EV_ITEM)
			t->prog.total_files++;
		if (op->stream)
			t->stream = op;
		break;
	}
	op_begin(t, op);
}

static void tree_loop(struct tree *t)
{
	struct dirnode *n;
	struct op *op;
	int r;

	for (;;) {
		advance_all(t);
		if (t->fatal || t->lost)
			return;
		if (t->entered != NULL) {
			n = t->entered;
			t->entered = NULL;
			walk_descend(t, n);
			continue;
		}
		if (walk_may_go(t)) {
			op = op_take(t);
			r = walk_next(t, op);
			if (r <= 0) {
				op->used = 0;
				t->nused--;
				if (r < 0)
					return;
				t->walk_done = 1;
				t->prog.total_known = 1;
				continue;
			}
			start_event(t, op);
			continue;
		}
		if (t->walk_done && t->nused == 0)
			return;
		if (rpc_run(t->rpc, attention, t) != 0)
			t->lost = 1;
	}
}

/* What the look at the destination found, and what its MKDIR did (none
 * in a dry run). */
static int top_found(struct tree *t, const char *dir,
    const struct rpc_call *c, const struct rpc_call *mk)
{
	if (c->final == RPC_R_STAT && c->st.type == RPC_T_DIR)
		return 0;
	if (c->final == RPC_R_STAT) {
		fail_errno(t, dir, ENOTDIR, NULL);
		return -1;
	}
	if (rpc_err_to_errno(c->err) != ENOENT) {
		fail_call(t, dir, c);
		return -1;
	}
	if (mk != NULL && mk->final != RPC_R_OK) {
		fail_call(t, dir, mk);
		return -1;
	}
	t->top.fresh = 1;
	return 0;
}

/* The destination directory, made if need be.  The look and the MKDIR
 * of what is missing (nothing, where all is there) go out together, so
 * that a push to a new place waits one round trip here, not two. */
static int prepare_remote_top(struct tree *t, const char *dir)
{
	struct rpc_call *c = wcall(t, NULL), mk;
	int rc, made = !t->o.dry_run;

	rpc_call_init(&mk, NULL, NULL);
	rc = rpc_stat(t->rpc, c, dir, strlen(dir), 0);
	if (rc == 0 && made)
		rc = rpc_mkdir(t->rpc, &mk, dir, strlen(dir),
		    RPC_MKDIR_PARENTS, 0777);
	if (tree_wait(t, rc) == 0 && (!made || tree_wait_for(t, &mk, 0) == 0))
		rc = top_found(t, dir, c, made ? &mk : NULL);
	else
		rc = -1;
	rpc_call_release(&mk);
	return rc;
}

static int prepare_local_top(struct tree *t, const char *dir)
{
	struct stat st;

	if (stat(dir, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		fail_errno(t, dir, ENOTDIR, NULL);
		return -1;
	}
	if (errno != ENOENT) {
		fail_local(t, dir, errno);
		return -1;
	}
	t->top.fresh = 1;
	if (!t->o.dry_run && mkdir_parents(dir) != 0) {
		fail_local(t, dir, errno);
		return -1;
	}
	return 0;
}

/* pull: our temporaries go with us, whatever ends the run. */
static struct tree *volatile live_tree;

static void on_signal(int sig)
{
	struct tree *t = live_tree;
	int i;

	if (t != NULL)
		for (i = 0; i < TREE_SLOTS; i++)
			if (t->ops[i].used && t->ops[i].tmp_live)
				unlink(t->ops[i].tmp);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void guard_temporaries(struct tree *t, int on)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	size_t i;

	live_tree = on ? t : NULL;
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		signal(sigs[i], on ? on_signal : SIG_DFL);
}

static int progress_pollfds(void *arg, struct pollfd *pfd, int max)
{
	struct tree *t = arg;

	if (t->prog.fd < 0 || max < 1)
		return 0;
	pfd[0].fd = t->prog.fd;
	pfd[0].events = POLLIN;
	return 1;
}

static void progress_process(void *arg, const struct pollfd *pfd, int n)
{
	struct tree *t = arg;

	if (n > 0 && pfd[0].revents != 0)
		progress_tick(&t->prog);
}

static void tree_free(struct tree *t)
{
	int i;

	for (i = 0; t->ops != NULL && i < TREE_SLOTS; i++) {
		if (!t->ops[i].used)
			continue;
		if (t->ops[i].linked)
			rpc_call_release(&t->ops[i].call);
		if (t->ops[i].fd >= 0)
			close(t->ops[i].fd);
		/* A lost connection leaves part files for the next run. */
		if (t->ops[i].tmp_live && !(t->ops[i].part && t->lost))
			unlink(t->ops[i].tmp);
	}
	for (i = 0; i < t->depth; i++)
		if (t->lv[i].dp != NULL)
			closedir(t->lv[i].dp);
	rpc_call_release(&t->wcall);
	if (t->spool.fd >= 0)
		close(t->spool.fd);
	free(t->spool.w);
	free(t->spool.r);
	free(t->ops);
	free(t->members);
	free(t->tr);
	free(t->tw);
	free(t->te);
	free(t);
}

/* An unlinked file in $TMPDIR (or /tmp) and its buffers. */
static int spool_open(struct spool *s)
{
	const char *dir = getenv("TMPDIR");
	char path[PATH_BUF];

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	if ((s->w = malloc(SPOOL_BUF)) == NULL ||
	    (s->r = malloc(SPOOL_BUF)) == NULL)
		return -1;
	s->fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
	if (s->fd >= 0)
		return 0;
	/* A file system without O_TMPFILE. */
	if (snprintf(path, sizeof path, "%s/remowt-spool.XXXXXX", dir) >=
	    (int)sizeof path || (s->fd = mkostemp(path, O_CLOEXEC)) < 0)
		return -1;
	unlink(path);
	return 0;
}

static int tar_open(struct tree *t)
{
	t->members = malloc((size_t)TREE_SLOTS * MEMBER_BUF);
	t->te = malloc(sizeof *t->te);
	if (t->from == SIDE_TAR && (t->tr = malloc(sizeof *t->tr)) != NULL)
		tar_reader_init(t->tr, stdin_read, t);
	if (t->to == SIDE_TAR && (t->tw = malloc(sizeof *t->tw)) != NULL)
		tar_writer_init(t->tw, stdout_write, t);
	return t->members != NULL && t->te != NULL &&
	    (t->tr != NULL || t->tw != NULL) ? 0 : -1;
}

static struct tree *tree_new(struct cli *cli, const struct tree_opts *o,
    int from, int to)
{
	struct tree *t = calloc(1, sizeof *t);
	int i;

	if (t == NULL)
		return NULL;
	t->cli = cli;
	t->rpc = cli->rpc;
	t->o = *o;
	t->from = from;
	t->to = to;
	t->spool.fd = -1;
	rpc_call_init(&t->wcall, NULL, NULL);
	if ((t->ops = calloc(TREE_SLOTS, sizeof *t->ops)) == NULL ||
	    ((from == SIDE_REMOTE || (o->del && from == SIDE_LOCAL)) &&
	    spool_open(&t->spool) != 0) ||
	    ((from == SIDE_TAR || to == SIDE_TAR) && tar_open(t) != 0)) {
		i = errno;
		tree_free(t);
		errno = i;
		return NULL;
	}
	for (i = 0; i < TREE_SLOTS; i++) {
		t->ops[i].t = t;
		t->ops[i].fd = -1;
		if (t->members != NULL)
			t->ops[i].buf = t->members + (size_t)i * MEMBER_BUF;
	}
	for (i = 0; i < MAX_NODES; i++) {
		t->nodes[i].next_free = t->free_nodes;
		t->free_nodes = &t->nodes[i];
	}
	t->top.pending = 1;
	return t;
}

/* Set dst to the destination directory, the base of every path. */
static int tree_base(struct tree *t, const char *dir)
{
	size_t n = root_len(dir);

	if (n > RPC_MAX_PATH) {
		fail_errno(t, dir, ENAMETOOLONG, NULL);
		return -1;
	}
	memcpy(t->dst, dir, n);
	t->dst[n] = '\0';
	t->dst_len = t->base_len = n;
	t->rel_off = n > 0 && t->dst[n - 1] != '/' ? n + 1 : n;
	return 0;
}

static int tree_run(struct cli *cli, const struct tree_opts *o, int from,
    int to, char **roots, int nroots, const char *dir)
{
	struct tree *t = tree_new(cli, o, from, to);
	int rc;

	if (t == NULL) {
		warnx_("%s: no memory, or no temporary file in $TMPDIR or "
		    "/tmp: %s", cli->cmd, strerror(errno));
		return EXIT_FAIL;
	}
	t->roots = roots;
	t->nroots = nroots;
	progress_start(&t->prog, !cli->ssh.quiet && !o->dry_run);
	rpc_client_watch(t->rpc, progress_pollfds, progress_process, t);
	if (to == SIDE_LOCAL)
		guard_temporaries(t, 1);
	if (tree_base(t, dir) == 0 &&
	    (to == SIDE_TAR || (to == SIDE_REMOTE ?
	    prepare_remote_top(t, dir) : prepare_local_top(t, dir)) == 0))
		tree_loop(t);
	else if (!t->lost)
		t->fatal = 1;
	if (to == SIDE_TAR && !t->fatal && !t->lost &&
	    tar_finish(t->tw) != 0)
		tar_out_failed(t);
	progress_stop(&t->prog);
	rpc_client_watch(t->rpc, NULL, NULL, NULL);
	if (t->lost)
		rc = session_lost(cli);
	else
		rc = t->fatal || t->n_failed > 0 ? EXIT_FAIL : 0;
	summary(t, rc);
	tree_free(t);
	if (to == SIDE_LOCAL)
		guard_temporaries(NULL, 0);
	return rc;
}

/* ---- the commands ------------------------------------------------- */

enum { OPT_SYNC = 300, OPT_DELETE };

static const struct optdef tree_defs[] = {
	{ 'L', "dereference", 0 }, { OPT_SYNC, "sync", 0 },
	{ 'c', "checksum", 0 }, { OPT_DELETE, "delete", 0 },
	{ 'n', "dry-run", 0 }, { 's', "fsync", 0 }, { 0, NULL, 0 }
};

static int tree_opt(struct cli *cli, void *arg, int ch, const char *val)
{
	struct tree_opts *o = arg;

	(void)cli;
	(void)val;
	switch (ch) {
	case 'L':
		o->follow = 1;
		break;
	case OPT_SYNC:
		o->sync = 1;
		break;
	case 'c':
		o->sync = o->checksum = 1;
		break;
	case OPT_DELETE:
		o->del = 1;
		break;
	case 'n':
		o->dry_run = 1;
		break;
	case 's':
		o->fsync = 1;
		break;
	}
	return 0;
}

/* --delete beside a root whose contents fill the destination: each
 * would delete what the others bring. */
static int delete_clash(const struct tree_opts *o, char **roots, int n)
{
	int i;

	if (!o->del || n < 2)
		return 0;
	for (i = 0; i < n; i++)
		if (is_contents(roots[i])) {
			warnx_("--delete with several sources, one of them "
			    "copied into the destination itself (%s), would "
			    "delete what the others bring", roots[i]);
			return 1;
		}
	return 0;
}

int cmd_push(struct cli *cli, int argc, char **argv)
{
	struct tree_opts o;
	struct target tg;
	char *dir;
	int i = 0, k, n, from, rc;

	memset(&o, 0, sizeof o);
	if (parse_opts(cli, argc, argv, &i, tree_defs, tree_opt, &o) != 0 ||
	    (n = argc - i - 1) < 1)
		return usage_error(cli);
	memset(&tg, 0, sizeof tg);
	if (split_remote(cli, &tg, argv[argc - 1], &dir) != 0)
		return EXIT_USAGE;
	from = strcmp(argv[i], "-") == 0 ? SIDE_TAR : SIDE_LOCAL;
	for (k = i; k < argc - 1; k++)
		if (argv[k][0] == '\0' || (strcmp(argv[k], "-") == 0 &&
		    n > 1)) {
			warnx_("push: '-' (a tar archive on stdin) must be "
			    "the only source, and no source may be empty");
			return EXIT_USAGE;
		}
	if (*dir == '\0') {
		warnx_("push: the destination directory is empty");
		return EXIT_USAGE;
	}
	if (from == SIDE_TAR && (o.del || o.checksum)) {
		warnx_("push: --delete and --checksum need a source tree, "
		    "not an archive");
		return EXIT_USAGE;
	}
	if (delete_clash(&o, argv + i, n))
		return EXIT_USAGE;
	if ((rc = connect_agent(cli, tg.host)) != 0)
		return rc;
	return tree_run(cli, &o, from, SIDE_REMOTE, argv + i, n, dir);
}

int cmd_pull(struct cli *cli, int argc, char **argv)
{
	struct tree_opts o;
	struct target tg;
	char **paths, *local;
	int i = 0, k, n, to, rc;

	memset(&o, 0, sizeof o);
	if (parse_opts(cli, argc, argv, &i, tree_defs, tree_opt, &o) != 0 ||
	    (n = argc - i - 1) < 1)
		return usage_error(cli);
	local = argv[argc - 1];
	to = strcmp(local, "-") == 0 ? SIDE_TAR : SIDE_LOCAL;
	if (to == SIDE_TAR && (o.sync || o.del || o.dry_run || cli->json)) {
		warnx_("pull: an archive on stdout takes none of --sync, "
		    "--checksum, --delete, --dry-run, --json");
		return EXIT_USAGE;
	}
	if (to == SIDE_TAR && isatty(STDOUT_FILENO)) {
		warnx_("pull: not writing an archive to a terminal");
		return EXIT_USAGE;
	}
	if (*local == '\0') {
		warnx_("pull: the destination directory is empty");
		return EXIT_USAGE;
	}
	if ((paths = calloc((size_t)n, sizeof *paths)) == NULL) {
		warnx_("pull: out of memory");
		return EXIT_FAIL;
	}
	memset(&tg, 0, sizeof tg);
	for (k = 0; k < n; k++)
		if (split_remote(cli, &tg, argv[i + k], &paths[k]) != 0 ||
		    *paths[k] == '\0') {
			free(paths);
			return EXIT_USAGE;
		}
	rc = delete_clash(&o, paths, n) ? EXIT_USAGE :
	    connect_agent(cli, tg.host);
	if (rc == 0)
		rc = tree_run(cli, &o, SIDE_REMOTE, to, paths, n,
		    to == SIDE_TAR ? "" : local);
	free(paths);
	return rc;
}
