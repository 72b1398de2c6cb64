/*
 * tar.h - a streaming tar reader and writer with fixed memory.
 *
 * The reader takes ustar, GNU (long names 'L'/'K', base-256 numbers) and
 * pax ('x' per file, 'g' global: path, linkpath, size, mtime with its
 * fraction, uid, gid; other keywords are skipped).  It is strict: the
 * header checksum, every numeric field and every pax record are checked,
 * and anything wrong is an error with a one-line message that names the
 * byte offset.  An archive ends cleanly with two zero blocks, or one
 * zero block followed by end of input; end of input anywhere else, even
 * at a block boundary, is an error, so a cut stream is never taken for
 * a complete one.  Sparse and multi-volume entries are refused.
 *
 * The reader does not judge paths: "..", absolute paths and the like
 * are passed on as stored, and rejecting them is the caller's job.
 *
 * The writer writes ustar, and a pax 'x' header before an entry whose
 * path or link does not fit ustar's fields (name, name+prefix) or whose
 * size, mtime, uid or gid does not fit its octal field; such a number
 * also goes into the ustar field in GNU base-256, for readers without
 * pax.  A negative or fractional mtime always takes a pax record.
 *
 * Neither side allocates: all state lives in the structs below (a
 * reader is about 9 KiB, an entry 8 KiB; the writer takes 4 KiB of
 * stack in tar_write_header).
 */
#ifndef REMOWT_TAR_H
#define REMOWT_TAR_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "rpc.h"

#define TAR_BLOCK	512
#define TAR_MAX_PATH	RPC_MAX_PATH	/* longer is an error, never cut */

/* tar_entry.type */
#define TAR_FILE	0
#define TAR_DIR		1
#define TAR_SYMLINK	2
#define TAR_HARDLINK	3
#define TAR_OTHER	4	/* device or fifo: tflag says which; no data */

struct tar_entry {
	/* As stored, NUL-terminated for convenience (path_len counts the
	 * bytes, which may be anything but NUL and need not be UTF-8).  A
	 * directory's path usually ends in '/'. */
	char path[TAR_MAX_PATH + 1];
	size_t path_len;
	/* Symlink target or hard link's earlier path; empty otherwise. */
	char link[TAR_MAX_PATH + 1];
	size_t link_len;
	uint8_t type;		/* TAR_FILE ... TAR_OTHER */
	uint8_t tflag;		/* ustar typeflag: '3' char, '4' block, '6' fifo */
	uint32_t mode;		/* permission bits only, & 07777 */
	uint32_t uid, gid;
	uint32_t devmajor, devminor;	/* '3' and '4' only */
	/* Data bytes that follow: 0 for directories and TAR_OTHER; a hard
	 * link may carry some, which the caller may ignore. */
	uint64_t size;
	int64_t mtime;		/* seconds since the epoch, may be negative */
	uint32_t mtime_ns;	/* 0 .. 999999999, from pax only */
};

typedef ssize_t (*tar_readfn)(void *ctx, void *buf, size_t n);
typedef ssize_t (*tar_writefn)(void *ctx, const void *buf, size_t n);

/* Values of pax records that override an entry's header fields. */
struct tar_pax {
	unsigned have;		/* keys set here */
	unsigned del;		/* keys an empty 'x' value reverted to the
				 * header, global ones ignored */
	uint64_t size;
	int64_t mtime;
	uint32_t mtime_ns;
	uint32_t uid, gid;
	size_t path_len, link_len;	/* global header only */
};

struct tar_reader {
	tar_readfn readfn;
	void *ctx;
	int state;
	uint64_t offset;	/* bytes consumed from the stream */
	uint64_t hdr_offset;	/* where the current header block began */
	uint64_t remain;	/* data of the current entry still unread */
	uint32_t pad;		/* zero bytes after it */
	uint8_t block[TAR_BLOCK];
	struct tar_pax global;	/* from 'g' headers, until overridden */
	char gpath[TAR_MAX_PATH + 1];
	char glink[TAR_MAX_PATH + 1];
	char err[160];
};

/*
 * readfn returns bytes read (1..n), 0 at end of input, -1 on error; the
 * reader loops over short reads.
 */
void tar_reader_init(struct tar_reader *r, tar_readfn readfn, void *ctx);
/*
 * The next entry: 1 and *e filled, 0 at the clean end of the archive,
 * -1 on error (and on every call after one).  Unread data of the entry
 * before is skipped.  Nothing is read past the end-of-archive blocks.
 */
int tar_next(struct tar_reader *r, struct tar_entry *e);
/* Data of the current entry: min(n, bytes left) bytes, 0 when none are
 * left, -1 on error (a stream cut short). */
ssize_t tar_read(struct tar_reader *r, void *buf, size_t n);
/* The last error as one line, "tar: ... at offset N". */
const char *tar_error(const struct tar_reader *r);

struct tar_writer {
	tar_writefn writefn;
	void *ctx;
	int state;
	uint64_t offset;	/* bytes written to the stream */
	uint64_t remain;	/* data the current entry still owes */
	size_t fill;		/* bytes in block not yet written */
	uint8_t block[TAR_BLOCK];
	char err[160];
};

/*
 * writefn returns bytes written (1..n) or -1 on error; the writer loops
 * over short writes.  Every call below returns 0 or -1; after an error
 * every call fails again, and tar_writer_error() says why.
 */
void tar_writer_init(struct tar_writer *w, tar_writefn writefn, void *ctx);
/*
 * Start an entry.  path must be 1..TAR_MAX_PATH bytes without NUL, link
 * too for links; mode is masked to 07777; only TAR_FILE may have a
 * size; TAR_OTHER needs tflag '3', '4' or '6'.  A directory's path gets
 * a '/' appended if it has none and there is room.
 */
int tar_write_header(struct tar_writer *w, const struct tar_entry *e);
/* Data of the current entry: more than its size in all is an error. */
int tar_write_data(struct tar_writer *w, const void *buf, size_t n);
/* End the entry (pad its data); fewer bytes than its size is an error. */
int tar_end_entry(struct tar_writer *w);
/* End the archive: two zero blocks.  No entry may be open. */
int tar_finish(struct tar_writer *w);
const char *tar_writer_error(const struct tar_writer *w);

#endif
