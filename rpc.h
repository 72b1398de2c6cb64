/*
 * rpc.h - the remowt agent wire protocol, shared by client and agent.
 *
 * PROTOCOL.md is the specification; this header is its C rendering.
 * Every frame is
 *
 *   uint32 length    bytes that follow, RPC_HDR_LEN - 4 .. RPC_MAX_FRAME
 *   byte   type      RPC_* request, RPC_R_* reply or RPC_S_* stream frame
 *   uint32 id        request id, chosen by the client
 *   byte[] payload   length - 5 bytes
 *
 * All integers are big-endian; a "string" is a uint32 length and bytes.
 */
#ifndef REMOWT_RPC_H
#define REMOWT_RPC_H

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"

#define RPC_VERSION		1
#define RPC_HDR_LEN		9
#define RPC_MAX_FRAME		65536u	/* largest value of the length field */
#define RPC_MAX_PAYLOAD		(RPC_MAX_FRAME - 5)
#define RPC_MAX_DATA		(RPC_MAX_PAYLOAD - 1)	/* after the channel */
#define RPC_MAX_PATH		4096
#define RPC_SESSION_ID		0xffffffffu	/* errors about the session */

/* Requests, client to agent. */
#define RPC_HELLO		0x01
#define RPC_STAT		0x02
#define RPC_LIST		0x03
#define RPC_READ		0x04
#define RPC_WRITE		0x05
#define RPC_MKDIR		0x06
#define RPC_RENAME		0x07
#define RPC_REMOVE		0x08
#define RPC_CHMOD		0x09
#define RPC_CHOWN		0x0a
#define RPC_SYMLINK		0x0b
#define RPC_READLINK		0x0c
#define RPC_UTIME		0x0d
#define RPC_SUM			0x0e
#define RPC_STATVFS		0x0f
#define RPC_EXEC		0x10
#define RPC_SIGNAL		0x11
#define RPC_CANCEL		0x12
#define RPC_WINSIZE		0x13

/* Replies, agent to client.  Those marked final end their request. */
#define RPC_R_OK		0x40	/* final */
#define RPC_R_ERROR		0x41	/* final */
#define RPC_R_HELLO		0x42	/* final */
#define RPC_R_STAT		0x43	/* final */
#define RPC_R_DIRENTS		0x44	/* final when RPC_DIRENTS_LAST */
#define RPC_R_OPENED		0x45
#define RPC_R_LINK		0x46	/* final */
#define RPC_R_SUM		0x47	/* final */
#define RPC_R_STATVFS		0x48	/* final */
#define RPC_R_STARTED		0x49
#define RPC_R_EXIT		0x4a	/* final */
#define RPC_R_DONE		0x4b	/* final */

/* Stream frames, both directions: payload starts with a channel byte. */
#define RPC_S_DATA		0x80
#define RPC_S_EOF		0x81
#define RPC_S_WINDOW		0x82

#define RPC_CHAN_IN		0	/* client to agent: file data, stdin */
#define RPC_CHAN_OUT		1	/* agent to client: file data, stdout */
#define RPC_CHAN_ERR		2	/* agent to client: stderr */
#define RPC_NCHAN		3

/* Flags of the requests. */
#define RPC_STAT_NOFOLLOW	0x01
#define RPC_WRITE_FSYNC		0x01
#define RPC_WRITE_APPEND	0x02
#define RPC_WRITE_MODE		0x04	/* the mode field is meant */
#define RPC_WRITE_EXCL		0x08
#define RPC_WRITE_RESUME	0x10	/* the part file; u64 offset follows */
#define RPC_WRITE_MTIME		0x20	/* i64 mtime, u32 nsec follow */
#define RPC_WRITE_KNOWN		0x3f
/* Data the client may send after WRITE without waiting for R_OPENED,
 * whose window is never smaller: a small file takes one round trip. */
#define RPC_WRITE_EARLY		65536u
#define RPC_SUM_PREFIX		0x01	/* u64 length follows the path */
#define RPC_SUM_PART		0x02	/* of the path's part file */
#define RPC_SUM_KNOWN		0x03
#define RPC_MKDIR_PARENTS	0x01
#define RPC_MKDIR_EXACT		0x02	/* mode not masked by umask */
#define RPC_REMOVE_RECURSIVE	0x01
#define RPC_REMOVE_DIR		0x02	/* an empty directory may go */
#define RPC_CHOWN_NOFOLLOW	0x01
#define RPC_UTIME_NOFOLLOW	0x01
#define RPC_UTIME_NOW		0xfffffffeu	/* as a nanoseconds field */
#define RPC_UTIME_OMIT		0xffffffffu
#define RPC_EXEC_MERGE_ERR	0x01	/* stderr into the stdout channel */
#define RPC_EXEC_NO_STDIN	0x02	/* stdin is /dev/null */
#define RPC_EXEC_CLEAR_ENV	0x04
#define RPC_EXEC_PTY		0x08	/* a terminal; its fields follow env */
#define RPC_EXEC_LOGIN		0x10	/* argv[0] "-NAME"; "" is $SHELL */
#define RPC_EXEC_KNOWN		0x1f
#define RPC_WINSIZE_MAX		0xffff	/* rows and columns */
#define RPC_ENV_SET		1	/* "NAME=VALUE" */
#define RPC_ENV_UNSET		2	/* "NAME" */
#define RPC_SIGNAL_GROUP	0x01	/* the whole process group */
#define RPC_DIRENTS_LAST	0x01
#define RPC_EXIT_CODE		0
#define RPC_EXIT_SIGNAL		1
#define RPC_EXIT_TIMEOUT	2	/* killed by the agent: timeout */
#define RPC_EXIT_CORE		0x01	/* flags: a core was dumped */
#define RPC_ID_NONE		0xffffffffu	/* uid/gid left unchanged */
#define RPC_LENGTH_ALL		UINT64_MAX

/* File types in a stat record. */
#define RPC_T_UNKNOWN		0
#define RPC_T_REG		1
#define RPC_T_DIR		2
#define RPC_T_LNK		3
#define RPC_T_CHR		4
#define RPC_T_BLK		5
#define RPC_T_FIFO		6
#define RPC_T_SOCK		7

/* The record type of a local st_mode. */
static inline uint8_t rpc_type_of(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG:	return RPC_T_REG;
	case S_IFDIR:	return RPC_T_DIR;
	case S_IFLNK:	return RPC_T_LNK;
	case S_IFCHR:	return RPC_T_CHR;
	case S_IFBLK:	return RPC_T_BLK;
	case S_IFIFO:	return RPC_T_FIFO;
	case S_IFSOCK:	return RPC_T_SOCK;
	default:	return RPC_T_UNKNOWN;
	}
}

/* The stat record as carried: 93 bytes on the wire. */
#define RPC_STAT_LEN		93
struct rpc_stat {
	uint8_t type;
	uint32_t mode;		/* permission bits, 07777 */
	uint32_t nlink;
	uint32_t uid;
	uint32_t gid;
	uint64_t size;
	uint64_t blocks;	/* 512-byte units */
	uint64_t ino;
	uint64_t dev;
	uint64_t rdev;
	int64_t atime, mtime, ctime;
	uint32_t atime_ns, mtime_ns, ctime_ns;
};

struct rpc_statvfs {
	uint64_t bsize, frsize, blocks, bfree, bavail;
	uint64_t files, ffree, favail, namemax;
	uint32_t flags;		/* 1: read-only, 2: nosuid */
};

/*
 * Portable error codes: the agent maps errno to these, the client maps
 * them back.  The numbers follow the generic Linux ones but are fixed by
 * this protocol, whatever the target's own errno values are.
 */
#define RPC_ERRNO_LIST(X) \
	X(EPERM, 1) X(ENOENT, 2) X(ESRCH, 3) X(EINTR, 4) X(EIO, 5) \
	X(ENXIO, 6) X(E2BIG, 7) X(ENOEXEC, 8) X(EBADF, 9) X(ECHILD, 10) \
	X(EAGAIN, 11) X(ENOMEM, 12) X(EACCES, 13) X(EFAULT, 14) \
	X(EBUSY, 16) X(EEXIST, 17) X(EXDEV, 18) X(ENODEV, 19) \
	X(ENOTDIR, 20) X(EISDIR, 21) X(EINVAL, 22) X(ENFILE, 23) \
	X(EMFILE, 24) X(ENOTTY, 25) X(ETXTBSY, 26) X(EFBIG, 27) \
	X(ENOSPC, 28) X(ESPIPE, 29) X(EROFS, 30) X(EMLINK, 31) \
	X(EPIPE, 32) X(ERANGE, 34) X(EDEADLK, 35) X(ENAMETOOLONG, 36) \
	X(ENOSYS, 38) X(ENOTEMPTY, 39) X(ELOOP, 40) X(EPROTO, 71) \
	X(EOVERFLOW, 75) X(EILSEQ, 84) X(EOPNOTSUPP, 95) \
	X(ETIMEDOUT, 110) X(ESTALE, 116) X(EDQUOT, 122) X(ECANCELED, 125)
#define RPC_EOTHER		255	/* no portable equivalent */

static inline uint32_t rpc_err_from_errno(int e)
{
	switch (e) {
#define RPC_ERR_CASE(name, num) case name: return num;
	RPC_ERRNO_LIST(RPC_ERR_CASE)
#undef RPC_ERR_CASE
	case 0:
		return 0;
	default:
		return RPC_EOTHER;
	}
}

static inline int rpc_err_to_errno(uint32_t code)
{
	switch (code) {
#define RPC_ERR_CASE(name, num) case num: return name;
	RPC_ERRNO_LIST(RPC_ERR_CASE)
#undef RPC_ERR_CASE
	case 0:
		return 0;
	default:
		return EIO;
	}
}

/* "ENOENT" for RPC ENOENT; "EOTHER" for what is not in the list. */
static inline const char *rpc_err_name(uint32_t code)
{
	switch (code) {
#define RPC_ERR_CASE(name, num) case num: return #name;
	RPC_ERRNO_LIST(RPC_ERR_CASE)
#undef RPC_ERR_CASE
	default:
		return "EOTHER";
	}
}

/*
 * Portable signal numbers: the classic Linux numbering (MIPS and others
 * differ).  A signal outside the list travels as RPC_SIG_RAW + number.
 */
#define RPC_SIGNAL_LIST(X) \
	X(SIGHUP, 1) X(SIGINT, 2) X(SIGQUIT, 3) X(SIGILL, 4) X(SIGTRAP, 5) \
	X(SIGABRT, 6) X(SIGBUS, 7) X(SIGFPE, 8) X(SIGKILL, 9) \
	X(SIGUSR1, 10) X(SIGSEGV, 11) X(SIGUSR2, 12) X(SIGPIPE, 13) \
	X(SIGALRM, 14) X(SIGTERM, 15) X(SIGCHLD, 17) X(SIGCONT, 18) \
	X(SIGSTOP, 19) X(SIGTSTP, 20) X(SIGTTIN, 21) X(SIGTTOU, 22) \
	X(SIGURG, 23) X(SIGXCPU, 24) X(SIGXFSZ, 25) X(SIGVTALRM, 26) \
	X(SIGPROF, 27) X(SIGWINCH, 28) X(SIGIO, 29) X(SIGSYS, 31)
#define RPC_SIG_RAW		0x100

static inline uint32_t rpc_sig_from_native(int sig)
{
	switch (sig) {
#define RPC_SIG_CASE(name, num) case name: return num;
	RPC_SIGNAL_LIST(RPC_SIG_CASE)
#undef RPC_SIG_CASE
	default:
		return RPC_SIG_RAW + (uint32_t)(sig & 0xff);
	}
}

/* The native number, or 0 if this system has no such signal. */
static inline int rpc_sig_to_native(uint32_t sig)
{
	switch (sig) {
#define RPC_SIG_CASE(name, num) case num: return name;
	RPC_SIGNAL_LIST(RPC_SIG_CASE)
#undef RPC_SIG_CASE
	default:
		if (sig > RPC_SIG_RAW && sig < RPC_SIG_RAW + 0x100)
			return (int)(sig - RPC_SIG_RAW);
		return 0;
	}
}

/* "TERM" for RPC SIGTERM, NULL if not in the list. */
static inline const char *rpc_sig_name(uint32_t sig)
{
	switch (sig) {
#define RPC_SIG_CASE(name, num) case num: return &#name[3];
	RPC_SIGNAL_LIST(RPC_SIG_CASE)
#undef RPC_SIG_CASE
	default:
		return NULL;
	}
}

/* "TERM", "SIGTERM" or "15" to an RPC signal number, 0 if unknown. */
static inline uint32_t rpc_sig_parse(const char *s)
{
	uint32_t n = 0;

	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	if (*s >= '0' && *s <= '9') {
		while (*s >= '0' && *s <= '9' && n < 1000)
			n = n * 10 + (uint32_t)(*s++ - '0');
		return *s == '\0' && n > 0 && n < 65 ? n : 0;
	}
#define RPC_SIG_CASE(name, num) if (strcmp(s, &#name[3]) == 0) return num;
	RPC_SIGNAL_LIST(RPC_SIG_CASE)
#undef RPC_SIG_CASE
	return 0;
}

/*
 * A frame as found in a byte stream.  rpc_frame_parse() returns the bytes
 * the frame takes, 0 if more bytes are needed, or -1 if the stream is
 * malformed (length out of range): the session cannot continue.
 */
struct rpc_frame {
	uint8_t type;
	uint32_t id;
	const uint8_t *payload;
	size_t len;
};

static inline long rpc_frame_parse(const uint8_t *p, size_t n,
    struct rpc_frame *f)
{
	uint32_t len;

	if (n < 4)
		return 0;
	len = load_be32(p);
	if (len < RPC_HDR_LEN - 4 || len > RPC_MAX_FRAME)
		return -1;
	if (n - 4 < len)
		return 0;
	f->type = p[4];
	f->id = load_be32(p + 5);
	f->payload = p + RPC_HDR_LEN;
	f->len = len - (RPC_HDR_LEN - 4);
	return (long)len + 4;
}

/*
 * Building a frame in a buffer: rpc_frame_begin() reserves the header
 * and returns its offset; rpc_frame_end() fills in the length.  Both
 * fail (-1) when the buffer has no room; the frame is then dropped.
 */
static inline int rpc_frame_begin(struct buf *b, uint8_t type, uint32_t id,
    size_t *start)
{
	uint8_t *h;

	*start = b->len;
	if (buf_reserve(b, RPC_HDR_LEN, &h) != 0)
		return -1;
	h[4] = type;
	store_be32(h + 5, id);
	return 0;
}

static inline int rpc_frame_end(struct buf *b, size_t start)
{
	size_t len = b->len - start - 4;

	if (len > RPC_MAX_FRAME) {
		b->len = start;
		return -1;
	}
	store_be32(b->data + start, (uint32_t)len);
	return 0;
}

static inline int rpc_put_stat(struct buf *b, const struct rpc_stat *st)
{
	uint8_t *p;

	if (buf_reserve(b, RPC_STAT_LEN, &p) != 0)
		return -1;
	p[0] = st->type;
	store_be32(p + 1, st->mode);
	store_be32(p + 5, st->nlink);
	store_be32(p + 9, st->uid);
	store_be32(p + 13, st->gid);
	store_be64(p + 17, st->size);
	store_be64(p + 25, st->blocks);
	store_be64(p + 33, st->ino);
	store_be64(p + 41, st->dev);
	store_be64(p + 49, st->rdev);
	store_be64(p + 57, (uint64_t)st->atime);
	store_be32(p + 65, st->atime_ns);
	store_be64(p + 69, (uint64_t)st->mtime);
	store_be32(p + 77, st->mtime_ns);
	store_be64(p + 81, (uint64_t)st->ctime);
	store_be32(p + 89, st->ctime_ns);
	return 0;
}

static inline int rpc_get_stat(struct buf *b, struct rpc_stat *st)
{
	const uint8_t *p;

	if (buf_avail(b) < RPC_STAT_LEN)
		return -1;
	p = buf_ptr(b);
	st->type = p[0];
	st->mode = load_be32(p + 1);
	st->nlink = load_be32(p + 5);
	st->uid = load_be32(p + 9);
	st->gid = load_be32(p + 13);
	st->size = load_be64(p + 17);
	st->blocks = load_be64(p + 25);
	st->ino = load_be64(p + 33);
	st->dev = load_be64(p + 41);
	st->rdev = load_be64(p + 49);
	st->atime = (int64_t)load_be64(p + 57);
	st->atime_ns = load_be32(p + 65);
	st->mtime = (int64_t)load_be64(p + 69);
	st->mtime_ns = load_be32(p + 77);
	st->ctime = (int64_t)load_be64(p + 81);
	st->ctime_ns = load_be32(p + 89);
	return buf_skip(b, RPC_STAT_LEN);
}

#endif
