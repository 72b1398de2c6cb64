/*
 * fuzz_tar.c - libFuzzer harness for the tar reader and writer.
 *
 * The input is an archive, fed to the reader in reads of changing size;
 * every entry's data is read.  Every entry the writer accepts is written
 * again, and when the input reads to a clean end, the archive written
 * must read back entry for entry: the same fields, the same data.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct src {
	const uint8_t *p;
	size_t len, pos;
	unsigned calls;
};

static ssize_t src_read(void *ctx, void *buf, size_t n)
{
	struct src *s = ctx;
	size_t k = 1 + (s->calls++ * 37) % 700;	/* short reads too */

	if (k > n)
		k = n;
	if (k > s->len - s->pos)
		k = s->len - s->pos;
	memcpy(buf, s->p + s->pos, k);
	s->pos += k;
	return (ssize_t)k;
}

static uint8_t out[4 << 20];
static size_t out_len;

static ssize_t out_write(void *ctx, const void *buf, size_t n)
{
	(void)ctx;
	if (n > sizeof out - out_len)
		return -1;
	memcpy(out + out_len, buf, n);
	out_len += n;
	return (ssize_t)n;
}

/* The copy outgrew out[]: that ends it; any other writer error is a bug. */
static int out_full(const struct tar_writer *w)
{
	if (strcmp(tar_writer_error(w), "tar: write error") != 0)
		abort();
	return 1;
}

#define MAX_ENTRIES	8192
static uint8_t accepted[MAX_ENTRIES];
static struct tar_entry ea, eb;

/*
 * The first pass: read everything; write every entry the writer must
 * take (any but a link with data).  1 if the input ended cleanly and
 * the copy is complete.
 */
static int copy_archive(const uint8_t *data, size_t size)
{
	struct src s = { data, size, 0, 0 };
	struct tar_reader r;
	struct tar_writer w;
	uint8_t buf[1000];
	ssize_t k;
	int n = 0, rc, full = 0, take;

	out_len = 0;
	tar_reader_init(&r, src_read, &s);
	tar_writer_init(&w, out_write, NULL);
	while ((rc = tar_next(&r, &ea)) == 1) {
		if (ea.path_len == 0 || ea.path_len > TAR_MAX_PATH ||
		    ea.link_len > TAR_MAX_PATH ||
		    ea.path[ea.path_len] != '\0' ||
		    ea.link[ea.link_len] != '\0' ||
		    memchr(ea.path, '\0', ea.path_len) != NULL ||
		    memchr(ea.link, '\0', ea.link_len) != NULL ||
		    ea.type > TAR_OTHER || ea.mode > 07777 ||
		    ea.mtime_ns >= 1000000000u ||
		    ((ea.type == TAR_DIR || ea.type == TAR_OTHER) &&
		    ea.size != 0))
			abort();
		take = !full && n < MAX_ENTRIES &&
		    (ea.type == TAR_FILE || ea.size == 0);
		if (take && tar_write_header(&w, &ea) < 0)
			full = out_full(&w);
		take = take && !full;
		if (n < MAX_ENTRIES)
			accepted[n] = (uint8_t)take;
		n++;
		while ((k = tar_read(&r, buf, sizeof buf)) > 0)
			if (take && !full &&
			    tar_write_data(&w, buf, (size_t)k) < 0)
				full = out_full(&w);
		if (k < 0)
			break;
		if (take && !full && tar_end_entry(&w) < 0)
			full = out_full(&w);
	}
	if (strncmp(tar_error(&r), "tar: ", 5) != 0)
		abort();
	if (rc != 0 || full || n > MAX_ENTRIES)
		return 0;
	if (tar_next(&r, &ea) != 0 || tar_read(&r, buf, 1) != 0)
		abort();	/* the end stays the end */
	return tar_finish(&w) == 0;
}

static int same_entry(const struct tar_entry *a, const struct tar_entry *b)
{
	size_t plen = a->path_len;

	if (a->type == TAR_DIR && a->path[plen - 1] != '/' &&
	    plen < TAR_MAX_PATH) {
		if (b->path_len != plen + 1 || b->path[plen] != '/')
			return 0;
	} else if (b->path_len != plen) {
		return 0;
	}
	if (memcmp(a->path, b->path, plen) != 0 || a->type != b->type ||
	    a->mode != b->mode || a->uid != b->uid || a->gid != b->gid ||
	    a->size != b->size || a->mtime != b->mtime ||
	    a->mtime_ns != b->mtime_ns || a->link_len != b->link_len ||
	    memcmp(a->link, b->link, a->link_len) != 0)
		return 0;
	if (a->type == TAR_OTHER && (a->tflag != b->tflag ||
	    a->devmajor != b->devmajor || a->devminor != b->devminor))
		return 0;
	return 1;
}

/* The second pass: the input and the copy side by side. */
static void compare_copy(const uint8_t *data, size_t size)
{
	struct src sa = { data, size, 0, 0 }, sb = { out, out_len, 0, 5 };
	struct tar_reader ra, rb;
	uint8_t ba[777], bb[777];
	ssize_t ka, kb;
	int n = 0;

	tar_reader_init(&ra, src_read, &sa);
	tar_reader_init(&rb, src_read, &sb);
	while (tar_next(&ra, &ea) == 1) {
		if (!accepted[n++])
			continue;
		if (tar_next(&rb, &eb) != 1 || !same_entry(&ea, &eb))
			abort();
		do {
			ka = tar_read(&ra, ba, sizeof ba);
			kb = tar_read(&rb, bb, sizeof bb);
			if (ka != kb || ka < 0 ||
			    memcmp(ba, bb, (size_t)ka) != 0)
				abort();
		} while (ka > 0);
	}
	if (tar_next(&rb, &eb) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (copy_archive(data, size))
		compare_copy(data, size);
	return 0;
}
