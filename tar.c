/*
 * tar.c - a streaming tar reader and writer with fixed memory; see tar.h.
 *
 * References: POSIX.1-2017 pax "ustar Interchange Format" and "pax
 * Extended Header"; GNU tar's manual, "Basic Tar Format" (long names and
 * base-256 numbers).
 */
#include <sys/types.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tar.h"

/* The ustar header: offsets and sizes of its fields. */
#define H_NAME		0
#define H_NAME_LEN	100
#define H_MODE		100
#define H_UID		108
#define H_GID		116
#define H_SIZE		124
#define H_MTIME		136
#define H_CHKSUM	148
#define H_TYPE		156
#define H_LINK		157
#define H_LINK_LEN	100
#define H_MAGIC		257
#define H_VERSION	263
#define H_DEVMAJOR	329
#define H_DEVMINOR	337
#define H_PREFIX	345
#define H_PREFIX_LEN	155

#define OCTAL_MAX(n)	((UINT64_C(1) << (3 * ((n) - 1))) - 1)	/* field of n */

/* tar_pax.have */
#define PAX_SIZE	0x01
#define PAX_MTIME	0x02
#define PAX_UID		0x04
#define PAX_GID		0x08
#define PAX_PATH	0x10
#define PAX_LINK	0x20

/* Reader and writer states. */
#define ST_IDLE		0	/* between entries (reader: or inside one) */
#define ST_ENTRY	1	/* writer: an entry is open */
#define ST_END		2
#define ST_ERROR	3

/* Where an entry's path or link came from, weakest first. */
#define SRC_HEADER	0
#define SRC_GNU		1	/* 'L' or 'K' */
#define SRC_PAX		2	/* 'x' */

static const uint8_t zero_block[TAR_BLOCK];

/* ---- reader ------------------------------------------------------------ */

void tar_reader_init(struct tar_reader *r, tar_readfn readfn, void *ctx)
{
	memset(r, 0, sizeof *r);
	r->readfn = readfn;
	r->ctx = ctx;
	r->state = ST_IDLE;
}

const char *tar_error(const struct tar_reader *r)
{
	return r->err[0] != '\0' ? r->err : "tar: no error";
}

static int rfail(struct tar_reader *r, uint64_t off, const char *what)
{
	snprintf(r->err, sizeof r->err, "tar: %s at offset %llu", what,
	    (unsigned long long)off);
	r->state = ST_ERROR;
	return -1;
}

/* Up to n bytes, fewer only at end of input; -1 on a read error. */
static ssize_t read_full(struct tar_reader *r, void *buf, size_t n)
{
	uint8_t *p = buf;
	size_t got = 0;
	ssize_t k;

	while (got < n) {
		k = r->readfn(r->ctx, p + got, n - got);
		if (k == 0)
			break;
		if (k < 0 || (size_t)k > n - got)
			return rfail(r, r->offset, "read error");
		got += (size_t)k;
		r->offset += (uint64_t)k;
	}
	return (ssize_t)got;
}

/* One block: 1, or 0 at end of input before its first byte, or -1
 * (a read error, or input ending inside it: "truncated <what>" at off). */
static int read_block(struct tar_reader *r, const char *what, uint64_t off)
{
	char msg[64];
	ssize_t k;

	k = read_full(r, r->block, TAR_BLOCK);
	if (k < 0)
		return -1;
	if (k == 0)
		return 0;
	if (k < TAR_BLOCK) {
		snprintf(msg, sizeof msg, "truncated %s", what);
		return rfail(r, off, msg);
	}
	return 1;
}

/* Skip what is left of the current entry's data and its padding. */
static int skip_data(struct tar_reader *r)
{
	size_t n;
	ssize_t k;

	while (r->remain > 0 || r->pad > 0) {
		if (r->remain > 0)
			n = r->remain < TAR_BLOCK ? (size_t)r->remain : TAR_BLOCK;
		else
			n = r->pad;
		k = read_full(r, r->block, n);
		if (k < 0)
			return -1;
		if ((size_t)k < n)
			return rfail(r, r->offset, "truncated data");
		if (r->remain > 0)
			r->remain -= n;
		else
			r->pad = 0;
	}
	return 0;
}

ssize_t tar_read(struct tar_reader *r, void *buf, size_t n)
{
	ssize_t k;

	if (r->state == ST_ERROR)
		return -1;
	if (n > r->remain)
		n = (size_t)r->remain;
	if (n > SSIZE_MAX)
		n = SSIZE_MAX;
	if (n == 0)
		return 0;
	k = read_full(r, buf, n);
	if (k < 0)
		return -1;
	if ((size_t)k < n)
		return rfail(r, r->offset, "truncated data");
	r->remain -= n;
	return k;
}

static int is_zero_block(const uint8_t *b)
{
	return memcmp(b, zero_block, TAR_BLOCK) == 0;
}

/*
 * A numeric header field: octal digits after optional spaces, ended by
 * the field's end or by a NUL or space followed by nothing but NULs and
 * spaces; or GNU base-256, a big-endian two's complement number whose
 * first byte is 0x80 (positive) or 0xff (negative) before its sign bits.
 * 0, or -1 if it is malformed or outside [lo, hi].
 */
static int parse_number(const uint8_t *f, size_t n, int64_t lo, int64_t hi,
    int64_t *v)
{
	uint64_t acc;
	size_t i;

	if (f[0] & 0x80) {
		int neg = (f[0] & 0x40) != 0;

		acc = neg ? (uint8_t)~f[0] & 0x3f : f[0] & 0x3f;
		for (i = 1; i < n; i++) {
			if (acc > (UINT64_MAX >> 8))
				return -1;
			acc = (acc << 8) | (neg ? (uint8_t)~f[i] : f[i]);
		}
		/* negative: the value is -acc - 1 */
		if (neg) {
			if (lo >= 0 || acc > (uint64_t)(-(lo + 1)))
				return -1;
			*v = -(int64_t)acc - 1;
		} else {
			if (hi < 0 || acc > (uint64_t)hi)
				return -1;
			*v = (int64_t)acc;
		}
		return 0;
	}
	for (i = 0; i < n && f[i] == ' '; i++)
		;
	if (i == n || f[i] < '0' || f[i] > '7')
		return -1;
	for (acc = 0; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
		if (acc > (UINT64_MAX >> 3))
			return -1;
		acc = (acc << 3) | (uint64_t)(f[i] - '0');
	}
	for (; i < n; i++)
		if (f[i] != ' ' && f[i] != '\0')
			return -1;
	if (hi < 0 || acc > (uint64_t)hi || (int64_t)acc < lo)
		return -1;
	*v = (int64_t)acc;
	return 0;
}

/* A header field into *v, or an error naming the field. */
static int header_number(struct tar_reader *r, size_t off, size_t n,
    int64_t lo, int64_t hi, const char *name, int64_t *v)
{
	char msg[64];

	if (parse_number(r->block + off, n, lo, hi, v) == 0)
		return 0;
	snprintf(msg, sizeof msg, "bad %s field", name);
	return rfail(r, r->hdr_offset, msg);
}

static int header_u32(struct tar_reader *r, size_t off, size_t n,
    const char *name, uint32_t *v)
{
	int64_t x;

	if (header_number(r, off, n, 0, UINT32_MAX, name, &x) < 0)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

/*
 * The checksum: the header's bytes summed with the checksum field taken
 * as spaces.  Like GNU tar, a sum of signed chars (old Sun tar) is also
 * accepted.  A ustar or GNU magic is required: no v7.
 */
static int check_header(struct tar_reader *r)
{
	const uint8_t *b = r->block;
	uint64_t usum = 0;
	int64_t ssum = 0, want;
	size_t i;
	uint8_t c;

	for (i = 0; i < TAR_BLOCK; i++) {
		c = (i >= H_CHKSUM && i < H_CHKSUM + 8) ? ' ' : b[i];
		usum += c;
		ssum += (int8_t)c;
	}
	if (parse_number(b + H_CHKSUM, 8, 0, INT64_MAX, &want) < 0 ||
	    ((uint64_t)want != usum && want != ssum))
		return rfail(r, r->hdr_offset, "bad header checksum");
	if (memcmp(b + H_MAGIC, "ustar\0" "00", 8) != 0 &&
	    memcmp(b + H_MAGIC, "ustar  \0", 8) != 0)
		return rfail(r, r->hdr_offset, "not a ustar header");
	return 0;
}

static int is_posix_header(const uint8_t *b)
{
	return memcmp(b + H_MAGIC, "ustar\0", 6) == 0;
}

/* Extension data (pax records, GNU long names) read a block at a time
 * through r->block. */
struct ext {
	struct tar_reader *r;
	uint64_t unread;	/* bytes not yet read from the stream */
	size_t pos, len;	/* bytes r->block[pos..len) not yet used */
};

static uint64_t ext_left(const struct ext *x)
{
	return x->unread + (x->len - x->pos);
}

/* The next byte: 1, 0 at the end of the data, -1 on error. */
static int ext_byte(struct ext *x, uint8_t *c)
{
	int rc;

	if (x->pos == x->len) {
		if (x->unread == 0)
			return 0;
		rc = read_block(x->r, "extension header", x->r->hdr_offset);
		if (rc <= 0)
			return rc == 0 ? rfail(x->r, x->r->hdr_offset,
			    "truncated extension header") : -1;
		x->len = x->unread < TAR_BLOCK ? (size_t)x->unread : TAR_BLOCK;
		x->unread -= x->len;
		x->pos = 0;
	}
	*c = x->r->block[x->pos++];
	return 1;
}

/* n bytes into out (NULL: skip them); the caller checked they are there. */
static int ext_bytes(struct ext *x, char *out, uint64_t n)
{
	uint64_t i = 0;
	size_t k;
	uint8_t c;

	while (i < n) {
		if (ext_byte(x, &c) <= 0)
			return -1;
		if (out != NULL)
			out[i] = (char)c;
		i++;
		/* the rest of this block at once */
		k = x->len - x->pos;
		if (k > n - i)
			k = (size_t)(n - i);
		if (out != NULL)
			memcpy(out + i, x->r->block + x->pos, k);
		x->pos += k;
		i += k;
	}
	return 0;
}

/* Whatever is left, padding included. */
static int ext_drain(struct ext *x)
{
	return ext_bytes(x, NULL, ext_left(x));
}

static int skip_ext(struct tar_reader *r, uint64_t size)
{
	struct ext x = { r, size, 0, 0 };

	return ext_drain(&x);
}

/* A path from an extension must not hold a NUL. */
static int check_ext_path(struct tar_reader *r, const char *p, size_t n,
    int is_link)
{
	if (memchr(p, '\0', n) != NULL)
		return rfail(r, r->hdr_offset, is_link ?
		    "link target contains a NUL byte" :
		    "path contains a NUL byte");
	return 0;
}

static int too_long(struct tar_reader *r, int is_link)
{
	return rfail(r, r->hdr_offset, is_link ?
	    "link target longer than 4096 bytes" :
	    "path longer than 4096 bytes");
}

/* Decimal digits only, at most max. */
static int pax_uint(const char *p, size_t n, uint64_t max, uint64_t *v)
{
	uint64_t acc = 0;
	size_t i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		if (acc > (max - (uint64_t)(p[i] - '0')) / 10)
			return -1;
		acc = acc * 10 + (uint64_t)(p[i] - '0');
	}
	*v = acc;
	return 0;
}

/* [-]digits[.digits]: seconds and nanoseconds, the fraction cut to 9
 * digits; -1.25 is -2 s + 750000000 ns. */
static int pax_time(const char *p, size_t n, int64_t *sec, uint32_t *ns)
{
	uint64_t mag;
	uint32_t frac = 0;
	size_t i, dot, k;
	int neg = 0;

	if (n > 0 && p[0] == '-') {
		neg = 1;
		p++;
		n--;
	}
	for (dot = 0; dot < n && p[dot] != '.'; dot++)
		;
	/* down to INT64_MIN, whose magnitude is INT64_MAX + 1 */
	if (pax_uint(p, dot, (uint64_t)INT64_MAX + (uint64_t)neg, &mag) < 0)
		return -1;
	if (dot < n) {
		if (dot + 1 == n)
			return -1;
		for (i = dot + 1, k = 0; i < n; i++, k++) {
			if (p[i] < '0' || p[i] > '9')
				return -1;
			if (k < 9)
				frac = frac * 10 + (uint32_t)(p[i] - '0');
		}
		for (; k < 9; k++)
			frac *= 10;
	}
	if (!neg) {
		*sec = (int64_t)mag;
		*ns = frac;
	} else if (frac == 0) {
		*sec = mag > INT64_MAX ? INT64_MIN : -(int64_t)mag;
		*ns = 0;
	} else {
		if (mag > INT64_MAX)
			return -1;	/* below INT64_MIN */
		*sec = -(int64_t)mag - 1;
		*ns = 1000000000u - frac;
	}
	return 0;
}

/* The value of a numeric record: size, uid, gid or mtime. */
static int pax_number(struct tar_reader *r, struct ext *x, const char *key,
    uint64_t vlen, struct tar_pax *px)
{
	char v[64], msg[64];
	uint64_t u = 0;
	int ok;

	snprintf(msg, sizeof msg, "bad pax %s record", key);
	if (vlen >= sizeof v) {
		if (ext_bytes(x, NULL, vlen) < 0)
			return -1;
		return rfail(r, r->hdr_offset, msg);
	}
	if (ext_bytes(x, v, vlen) < 0)
		return -1;
	if (strcmp(key, "size") == 0) {
		ok = pax_uint(v, vlen, INT64_MAX, &px->size) == 0;
		px->have |= PAX_SIZE;
	} else if (strcmp(key, "uid") == 0) {
		ok = pax_uint(v, vlen, UINT32_MAX, &u) == 0;
		px->uid = (uint32_t)u;
		px->have |= PAX_UID;
	} else if (strcmp(key, "gid") == 0) {
		ok = pax_uint(v, vlen, UINT32_MAX, &u) == 0;
		px->gid = (uint32_t)u;
		px->have |= PAX_GID;
	} else {
		ok = pax_time(v, vlen, &px->mtime, &px->mtime_ns) == 0;
		px->have |= PAX_MTIME;
	}
	return ok ? 0 : rfail(r, r->hdr_offset, msg);
}

/* Where a pax header's path and link go, and what they override. */
struct pax_dest {
	struct tar_pax *px;
	char *path, *link;
	size_t *path_len, *link_len;
	int *path_src, *link_src;	/* NULL for a global header */
};

/* An empty value: a global header forgets the key; a per-file one
 * reverts this entry to its header field. */
static void pax_unset(struct pax_dest *d, unsigned bit)
{
	d->px->have &= ~bit;
	if (d->path_src != NULL)
		d->px->del |= bit;
	if (bit == PAX_PATH && d->path_src != NULL &&
	    *d->path_src == SRC_PAX)
		*d->path_src = SRC_HEADER;
	if (bit == PAX_LINK && d->link_src != NULL &&
	    *d->link_src == SRC_PAX)
		*d->link_src = SRC_HEADER;
}

static int pax_path(struct tar_reader *r, struct ext *x, uint64_t vlen,
    struct pax_dest *d, int is_link)
{
	char *out = is_link ? d->link : d->path;
	size_t *outlen = is_link ? d->link_len : d->path_len;
	int *src = is_link ? d->link_src : d->path_src;

	if (vlen > TAR_MAX_PATH)
		return too_long(r, is_link);
	if (ext_bytes(x, out, vlen) < 0 ||
	    check_ext_path(r, out, (size_t)vlen, is_link) < 0)
		return -1;
	out[vlen] = '\0';
	*outlen = (size_t)vlen;
	d->px->have |= is_link ? PAX_LINK : PAX_PATH;
	d->px->del &= ~(unsigned)(is_link ? PAX_LINK : PAX_PATH);
	if (src != NULL)
		*src = SRC_PAX;
	return 0;
}

static const char *const pax_numeric_keys[] = { "size", "mtime", "uid",
    "gid" };
static const unsigned pax_numeric_bits[] = { PAX_SIZE, PAX_MTIME, PAX_UID,
    PAX_GID };

/*
 * One record, "LEN KEY=VALUE\n", LEN counting the whole record: 1, or 0
 * at the end of the data, or -1.  Unknown keys are skipped.
 */
static int pax_record(struct tar_reader *r, struct ext *x,
    struct pax_dest *d)
{
	char key[32];
	uint64_t len = 0, used = 0, vlen;
	size_t klen = 0, i;
	int rc, digits = 0;
	uint8_t c;

	for (;;) {
		rc = ext_byte(x, &c);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			if (used == 0)
				return 0;
			return rfail(r, r->hdr_offset,
			    "pax record past the end of its header");
		}
		used++;
		if (c == ' ' && digits > 0)
			break;
		if (c < '0' || c > '9' || ++digits > 19)
			return rfail(r, r->hdr_offset,
			    "bad pax record length");
		len = len * 10 + (uint64_t)(c - '0');
	}
	if (len > used + ext_left(x))
		return rfail(r, r->hdr_offset,
		    "pax record past the end of its header");
	for (;;) {
		if (used >= len)
			return rfail(r, r->hdr_offset, "bad pax record length");
		if (ext_byte(x, &c) <= 0)
			return -1;
		used++;
		if (c == '=')
			break;
		if (klen < sizeof key - 1)
			key[klen] = (char)c;
		klen++;
	}
	if (klen == 0)
		return rfail(r, r->hdr_offset, "pax record without a keyword");
	if (used >= len)
		return rfail(r, r->hdr_offset, "bad pax record length");
	vlen = len - used - 1;
	if (klen >= sizeof key)
		klen = sizeof key - 1;	/* longer than any key we know */
	key[klen] = '\0';

	if (strncmp(key, "GNU.sparse.", 11) == 0)
		return rfail(r, r->hdr_offset, "sparse files are not supported");
	if (strcmp(key, "path") == 0 || strcmp(key, "linkpath") == 0) {
		int is_link = key[0] == 'l';

		if (vlen == 0)
			pax_unset(d, is_link ? PAX_LINK : PAX_PATH);
		else if (pax_path(r, x, vlen, d, is_link) < 0)
			return -1;
	} else {
		for (i = 0; i < 4; i++)
			if (strcmp(key, pax_numeric_keys[i]) == 0)
				break;
		rc = 0;
		if (i < 4 && vlen == 0)
			pax_unset(d, pax_numeric_bits[i]);
		else if (i < 4) {
			rc = pax_number(r, x, key, vlen, d->px);
			d->px->del &= ~pax_numeric_bits[i];
		}
		else
			rc = ext_bytes(x, NULL, vlen);
		if (rc < 0)
			return -1;
	}
	rc = ext_byte(x, &c);
	if (rc < 0)
		return -1;
	if (rc == 0 || c != '\n')
		return rfail(r, r->hdr_offset, "bad pax record length");
	return 1;
}

static int parse_pax(struct tar_reader *r, uint64_t size, struct pax_dest *d)
{
	struct ext x = { r, size, 0, 0 };
	int rc;

	while ((rc = pax_record(r, &x, d)) == 1)
		;
	if (rc < 0)
		return -1;
	return ext_drain(&x);
}

/* A GNU 'L' or 'K' name: the bytes up to a NUL, then only NULs. */
static int parse_long_name(struct tar_reader *r, uint64_t size, char *out,
    size_t *outlen, int is_link)
{
	struct ext x = { r, size, 0, 0 };
	size_t n;

	if (size > TAR_MAX_PATH + 1)
		return too_long(r, is_link);
	if (ext_bytes(&x, out, size) < 0 || ext_drain(&x) < 0)
		return -1;
	for (n = (size_t)size; n > 0 && out[n - 1] == '\0'; n--)
		;
	if (check_ext_path(r, out, n, is_link) < 0)
		return -1;
	if (n > TAR_MAX_PATH)
		return too_long(r, is_link);
	out[n] = '\0';
	*outlen = n;
	return 0;
}

/* A name field: up to its first NUL. */
static size_t field_len(const uint8_t *f, size_t n)
{
	const uint8_t *z = memchr(f, '\0', n);

	return z != NULL ? (size_t)(z - f) : n;
}

static void header_path(const uint8_t *b, struct tar_entry *e)
{
	size_t n = field_len(b + H_NAME, H_NAME_LEN), p = 0;

	if (is_posix_header(b))
		p = field_len(b + H_PREFIX, H_PREFIX_LEN);
	if (p > 0) {
		memcpy(e->path, b + H_PREFIX, p);
		e->path[p++] = '/';
	}
	memcpy(e->path + p, b + H_NAME, n);
	e->path_len = p + n;
	e->path[e->path_len] = '\0';
}

static void header_link(const uint8_t *b, struct tar_entry *e)
{
	e->link_len = field_len(b + H_LINK, H_LINK_LEN);
	memcpy(e->link, b + H_LINK, e->link_len);
	e->link[e->link_len] = '\0';
}

/* The header's type: TAR_* and whether data follows; -1 unsupported. */
static int entry_type(uint8_t tf, uint8_t *type, int *has_data)
{
	*has_data = 0;
	switch (tf) {
	case '0': case '\0': case '7':
		*type = TAR_FILE;
		*has_data = 1;
		return 0;
	case '1':
		*type = TAR_HARDLINK;
		*has_data = 1;
		return 0;
	case '2':
		*type = TAR_SYMLINK;
		*has_data = 1;
		return 0;
	case '5':
		*type = TAR_DIR;
		return 0;
	case 'D':	/* GNU dumpdir: a directory and a listing to skip */
		*type = TAR_DIR;
		*has_data = 1;
		return 0;
	case '3': case '4': case '6':
		*type = TAR_OTHER;
		return 0;
	}
	return -1;
}

/* Fill e from the header in r->block, under the pax values x and the
 * global ones. */
static int header_entry(struct tar_reader *r, struct tar_entry *e,
    const struct tar_pax *x, int path_src, int link_src)
{
	const uint8_t *b = r->block;
	struct tar_pax g = r->global;
	char msg[48];
	int64_t v;
	int has_data;

	e->tflag = b[H_TYPE];
	if (entry_type(e->tflag, &e->type, &has_data) < 0) {
		if (e->tflag == 'S')
			return rfail(r, r->hdr_offset,
			    "sparse files are not supported");
		if (e->tflag >= 0x20 && e->tflag < 0x7f)
			snprintf(msg, sizeof msg, "unsupported entry type '%c'",
			    e->tflag);
		else
			snprintf(msg, sizeof msg,
			    "unsupported entry type 0x%02x", e->tflag);
		return rfail(r, r->hdr_offset, msg);
	}

	g.have &= ~x->del;
	if (path_src == SRC_HEADER && (g.have & PAX_PATH)) {
		memcpy(e->path, r->gpath, g.path_len + 1);
		e->path_len = g.path_len;
	} else if (path_src == SRC_HEADER) {
		header_path(b, e);
	}
	if (link_src == SRC_HEADER && (g.have & PAX_LINK)) {
		memcpy(e->link, r->glink, g.link_len + 1);
		e->link_len = g.link_len;
	} else if (link_src == SRC_HEADER) {
		header_link(b, e);
	}
	if (e->path_len == 0)
		return rfail(r, r->hdr_offset, "entry without a path");
	if (e->type == TAR_SYMLINK || e->type == TAR_HARDLINK) {
		if (e->link_len == 0)
			return rfail(r, r->hdr_offset,
			    "link without a target");
	} else {
		e->link_len = 0;
		e->link[0] = '\0';
	}

	if (header_number(r, H_MODE, 8, 0, INT64_MAX, "mode", &v) < 0)
		return -1;
	e->mode = (uint32_t)(v & 07777);

	if (x->have & PAX_UID)
		e->uid = x->uid;
	else if (g.have & PAX_UID)
		e->uid = g.uid;
	else if (header_u32(r, H_UID, 8, "uid", &e->uid) < 0)
		return -1;

	if (x->have & PAX_GID)
		e->gid = x->gid;
	else if (g.have & PAX_GID)
		e->gid = g.gid;
	else if (header_u32(r, H_GID, 8, "gid", &e->gid) < 0)
		return -1;

	e->mtime_ns = 0;
	if (x->have & PAX_MTIME) {
		e->mtime = x->mtime;
		e->mtime_ns = x->mtime_ns;
	} else if (g.have & PAX_MTIME) {
		e->mtime = g.mtime;
		e->mtime_ns = g.mtime_ns;
	} else if (header_number(r, H_MTIME, 12, INT64_MIN, INT64_MAX,
	    "mtime", &e->mtime) < 0) {
		return -1;
	}

	if (x->have & PAX_SIZE)
		e->size = x->size;
	else if (g.have & PAX_SIZE)
		e->size = g.size;
	else if (header_number(r, H_SIZE, 12, 0, INT64_MAX, "size", &v) < 0)
		return -1;
	else
		e->size = (uint64_t)v;

	e->devmajor = e->devminor = 0;
	if (e->tflag == '3' || e->tflag == '4') {
		if (header_u32(r, H_DEVMAJOR, 8, "devmajor", &e->devmajor) < 0 ||
		    header_u32(r, H_DEVMINOR, 8, "devminor", &e->devminor) < 0)
			return -1;
	}

	r->remain = has_data ? e->size : 0;
	r->pad = (uint32_t)((TAR_BLOCK - r->remain % TAR_BLOCK) % TAR_BLOCK);
	if (!has_data || e->type == TAR_DIR)
		e->size = 0;
	return 0;
}

/* After a zero block: a second one, or end of input, ends the archive. */
static int end_of_archive(struct tar_reader *r)
{
	uint64_t off = r->offset;
	int rc;

	rc = read_block(r, "end-of-archive block", off);
	if (rc < 0)
		return -1;
	if (rc == 1 && !is_zero_block(r->block))
		return rfail(r, off, "data after a zero block");
	r->state = ST_END;
	return 0;
}

int tar_next(struct tar_reader *r, struct tar_entry *e)
{
	struct tar_pax x;
	struct pax_dest d;
	int path_src = SRC_HEADER, link_src = SRC_HEADER, pending = 0, rc;
	int64_t size;
	uint8_t tf;

	if (r->state == ST_ERROR)
		return -1;
	if (r->state == ST_END)
		return 0;
	if (skip_data(r) < 0)
		return -1;
	memset(&x, 0, sizeof x);
	e->path_len = e->link_len = 0;
	e->path[0] = e->link[0] = '\0';

	for (;;) {
		r->hdr_offset = r->offset;
		rc = read_block(r, "header", r->hdr_offset);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return rfail(r, r->offset, pending ?
			    "archive ends after an extension header" :
			    "archive ends without end-of-archive blocks");
		if (is_zero_block(r->block)) {
			if (pending)
				return rfail(r, r->hdr_offset,
				    "zero block after an extension header");
			return end_of_archive(r);
		}
		if (check_header(r) < 0)
			return -1;
		tf = r->block[H_TYPE];
		if (tf != 'L' && tf != 'K' && tf != 'x' && tf != 'X' &&
		    tf != 'g' && tf != 'V')
			break;

		if (header_number(r, H_SIZE, 12, 0, INT64_MAX, "size",
		    &size) < 0)
			return -1;
		pending = 1;
		memset(&d, 0, sizeof d);
		switch (tf) {
		case 'L':
			/* a pax path wins over a GNU one, in either order */
			if (path_src == SRC_PAX) {
				rc = skip_ext(r, (uint64_t)size);
				break;
			}
			rc = parse_long_name(r, (uint64_t)size, e->path,
			    &e->path_len, 0);
			path_src = SRC_GNU;
			break;
		case 'K':
			if (link_src == SRC_PAX) {
				rc = skip_ext(r, (uint64_t)size);
				break;
			}
			rc = parse_long_name(r, (uint64_t)size, e->link,
			    &e->link_len, 1);
			link_src = SRC_GNU;
			break;
		case 'x':
		case 'X':
			d.px = &x;
			d.path = e->path;
			d.link = e->link;
			d.path_len = &e->path_len;
			d.link_len = &e->link_len;
			d.path_src = &path_src;
			d.link_src = &link_src;
			rc = parse_pax(r, (uint64_t)size, &d);
			break;
		case 'g':
			d.px = &r->global;
			d.path = r->gpath;
			d.link = r->glink;
			d.path_len = &r->global.path_len;
			d.link_len = &r->global.link_len;
			rc = parse_pax(r, (uint64_t)size, &d);
			pending = path_src != SRC_HEADER ||
			    link_src != SRC_HEADER || x.have != 0;
			break;
		default:	/* 'V': a GNU volume label, skipped */
			rc = skip_ext(r, (uint64_t)size);
			pending = path_src != SRC_HEADER ||
			    link_src != SRC_HEADER || x.have != 0;
			break;
		}
		if (rc < 0)
			return -1;
	}
	if (header_entry(r, e, &x, path_src, link_src) < 0)
		return -1;
	return 1;
}

/* ---- writer ------------------------------------------------------------ */

void tar_writer_init(struct tar_writer *w, tar_writefn writefn, void *ctx)
{
	memset(w, 0, sizeof *w);
	w->writefn = writefn;
	w->ctx = ctx;
	w->state = ST_IDLE;
}

const char *tar_writer_error(const struct tar_writer *w)
{
	return w->err[0] != '\0' ? w->err : "tar: no error";
}

static int wfail(struct tar_writer *w, const char *what)
{
	snprintf(w->err, sizeof w->err, "tar: %s", what);
	w->state = ST_ERROR;
	return -1;
}

static int write_all(struct tar_writer *w, const uint8_t *p, size_t n)
{
	ssize_t k;

	while (n > 0) {
		k = w->writefn(w->ctx, p, n);
		if (k <= 0 || (size_t)k > n)
			return wfail(w, "write error");
		p += k;
		n -= (size_t)k;
		w->offset += (uint64_t)k;
	}
	return 0;
}

/* Bytes through the block buffer; whole blocks of a long run go
 * straight out. */
static int out_bytes(struct tar_writer *w, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	size_t k;

	while (n > 0) {
		if (w->fill == 0 && n >= TAR_BLOCK) {
			k = n - n % TAR_BLOCK;
			if (write_all(w, p, k) < 0)
				return -1;
		} else {
			k = TAR_BLOCK - w->fill < n ? TAR_BLOCK - w->fill : n;
			memcpy(w->block + w->fill, p, k);
			w->fill += k;
			if (w->fill == TAR_BLOCK) {
				if (write_all(w, w->block, TAR_BLOCK) < 0)
					return -1;
				w->fill = 0;
			}
		}
		p += k;
		n -= k;
	}
	return 0;
}

/* Zeros up to the next block boundary. */
static int out_pad(struct tar_writer *w)
{
	if (w->fill == 0)
		return 0;
	memset(w->block + w->fill, 0, TAR_BLOCK - w->fill);
	w->fill = 0;
	return write_all(w, w->block, TAR_BLOCK);
}

/* n-1 octal digits and a NUL; v must fit. */
static void put_octal(uint8_t *f, size_t n, uint64_t v)
{
	size_t i;

	f[n - 1] = '\0';
	for (i = n - 1; i > 0; i--) {
		f[i - 1] = (uint8_t)('0' + (v & 7));
		v >>= 3;
	}
}

/* GNU base-256: two's complement, first byte 0x80 or 0xff. */
static void put_base256(uint8_t *f, size_t n, int64_t v)
{
	uint64_t u = (uint64_t)v;
	size_t i;

	for (i = n; i > 1; i--) {
		f[i - 1] = (uint8_t)u;
		u = v < 0 ? (u >> 8) | (UINT64_C(0xff) << 56) : u >> 8;
	}
	f[0] = v < 0 ? 0xff : 0x80;
}

/* A number in the field of n bytes: octal if it fits, else base-256. */
static void put_number(uint8_t *f, size_t n, int64_t v)
{
	if (v >= 0 && (uint64_t)v <= OCTAL_MAX(n))
		put_octal(f, n, (uint64_t)v);
	else
		put_base256(f, n, v);
}

/* Decimal digits of v into out (20 bytes); returns their count. */
static size_t fmt_u64(char *out, uint64_t v)
{
	char tmp[20];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

/* A pax time, "[-]SEC[.FRACTION]", the fraction without trailing zeros:
 * a sign, 19 digits, a dot and 9 digits at most. */
#define TIME_MAX_LEN	30

static size_t fmt_time(char *out, int64_t sec, uint32_t ns)
{
	size_t n = 0;
	uint64_t mag;
	int i;

	if (sec < 0) {
		out[n++] = '-';
		mag = (uint64_t)0 - (uint64_t)sec;	/* |sec| */
		if (ns > 0) {
			mag--;	/* -2 s + 0.75 s is -1.25 */
			ns = 1000000000u - ns;
		}
	} else {
		mag = (uint64_t)sec;
	}
	n += fmt_u64(out + n, mag);
	if (ns > 0) {
		out[n++] = '.';
		for (i = 8; i >= 0; i--) {
			out[n + (size_t)i] = (char)('0' + ns % 10);
			ns /= 10;
		}
		n += 9;
		while (out[n - 1] == '0')
			n--;
	}
	return n;
}

/* The length of a pax record for a key and a value of vlen bytes; the
 * length counts its own digits. */
static size_t pax_record_len(const char *key, size_t vlen)
{
	size_t base = strlen(key) + vlen + 3, len = base + 1;
	char d[21];

	while (fmt_u64(d, len) + base != len)
		len = fmt_u64(d, len) + base;
	return len;
}

static int out_pax_record(struct tar_writer *w, const char *key,
    const char *v, size_t vlen)
{
	char d[21];
	size_t n = fmt_u64(d, pax_record_len(key, vlen));

	d[n++] = ' ';
	if (out_bytes(w, d, n) < 0 || out_bytes(w, key, strlen(key)) < 0 ||
	    out_bytes(w, "=", 1) < 0 || out_bytes(w, v, vlen) < 0 ||
	    out_bytes(w, "\n", 1) < 0)
		return -1;
	return 0;
}

/* The checksum over a header with its field full of spaces. */
static void seal_header(uint8_t *b)
{
	uint32_t sum = 0;
	size_t i;

	memset(b + H_CHKSUM, ' ', 8);
	for (i = 0; i < TAR_BLOCK; i++)
		sum += b[i];
	put_octal(b + H_CHKSUM, 7, sum);	/* six digits, NUL, space */
}

/* A header block with the fields every header has. */
static void start_header(uint8_t *b, uint8_t tflag, uint32_t mode,
    uint64_t size, int64_t mtime)
{
	memset(b, 0, TAR_BLOCK);
	put_octal(b + H_MODE, 8, mode);
	put_octal(b + H_UID, 8, 0);
	put_octal(b + H_GID, 8, 0);
	put_number(b + H_SIZE, 12, (int64_t)size);
	put_number(b + H_MTIME, 12, mtime);
	b[H_TYPE] = tflag;
	memcpy(b + H_MAGIC, "ustar\0" "00", 8);
	put_octal(b + H_DEVMAJOR, 8, 0);
	put_octal(b + H_DEVMINOR, 8, 0);
}

/*
 * Split a path into ustar's prefix and name: the name at most 100 bytes,
 * the prefix at most 155, joined by a '/' that neither keeps.  Returns
 * the prefix length (0 when the name alone holds it) or -1.
 */
static int ustar_split(const char *p, size_t n, size_t *name_off)
{
	size_t i;

	*name_off = 0;
	if (n <= H_NAME_LEN)
		return 0;
	/* the first '/' that leaves at most 100 bytes after it */
	for (i = n - H_NAME_LEN - 1; i < n - 1 && i <= H_PREFIX_LEN; i++) {
		if (p[i] == '/' && i > 0) {
			*name_off = i + 1;
			return (int)i;
		}
	}
	return -1;
}

static int check_path(struct tar_writer *w, const char *p, size_t n,
    int is_link)
{
	if (n == 0)
		return wfail(w, is_link ? "link without a target" :
		    "entry without a path");
	if (n > TAR_MAX_PATH)
		return wfail(w, is_link ? "link target longer than 4096 bytes" :
		    "path longer than 4096 bytes");
	if (memchr(p, '\0', n) != NULL)
		return wfail(w, is_link ? "link target contains a NUL byte" :
		    "path contains a NUL byte");
	return 0;
}

static int check_entry(struct tar_writer *w, const struct tar_entry *e)
{
	if (w->state == ST_ERROR)
		return -1;
	if (w->state != ST_IDLE)
		return wfail(w, w->state == ST_ENTRY ?
		    "header while an entry is open" :
		    "header after the end of the archive");
	if (e->type > TAR_OTHER)
		return wfail(w, "unknown entry type");
	if (e->type == TAR_OTHER && e->tflag != '3' && e->tflag != '4' &&
	    e->tflag != '6')
		return wfail(w, "unsupported entry type");
	if (e->type != TAR_FILE && e->size != 0)
		return wfail(w, "data on an entry that is not a file");
	if (e->size > INT64_MAX)
		return wfail(w, "size out of range");
	if (e->mtime_ns >= 1000000000u)
		return wfail(w, "mtime nanoseconds out of range");
	if (check_path(w, e->path, e->path_len, 0) < 0)
		return -1;
	if ((e->type == TAR_SYMLINK || e->type == TAR_HARDLINK) &&
	    check_path(w, e->link, e->link_len, 1) < 0)
		return -1;
	return 0;
}

static const uint8_t type_flags[] = { '0', '5', '2', '1' };

int tar_write_header(struct tar_writer *w, const struct tar_entry *e)
{
	static const char pax_name[] = "././@PaxHeader";
	char path[TAR_MAX_PATH + 1], num[20], tnum[TIME_MAX_LEN];
	size_t plen, name_off = 0, llen = 0, tlen = 0, paxlen = 0;
	int prefix = 0, pax_path = 0, pax_link = 0, pax_size, pax_mtime;
	int pax_uid, pax_gid;
	uint8_t *b = w->block;

	if (check_entry(w, e) < 0)
		return -1;
	plen = e->path_len;
	memcpy(path, e->path, plen);
	if (e->type == TAR_DIR && path[plen - 1] != '/' && plen < TAR_MAX_PATH)
		path[plen++] = '/';
	if (e->type == TAR_SYMLINK || e->type == TAR_HARDLINK)
		llen = e->link_len;

	prefix = ustar_split(path, plen, &name_off);
	if (prefix < 0) {
		pax_path = 1;
		prefix = 0;
	}
	pax_link = llen > H_LINK_LEN;
	pax_size = e->size > OCTAL_MAX(12);
	pax_mtime = e->mtime < 0 || (uint64_t)e->mtime > OCTAL_MAX(12) ||
	    e->mtime_ns != 0;
	pax_uid = e->uid > OCTAL_MAX(8);
	pax_gid = e->gid > OCTAL_MAX(8);

	if (pax_path)
		paxlen += pax_record_len("path", plen);
	if (pax_link)
		paxlen += pax_record_len("linkpath", llen);
	if (pax_size)
		paxlen += pax_record_len("size", fmt_u64(num, e->size));
	if (pax_mtime) {
		tlen = fmt_time(tnum, e->mtime, e->mtime_ns);
		paxlen += pax_record_len("mtime", tlen);
	}
	if (pax_uid)
		paxlen += pax_record_len("uid", fmt_u64(num, e->uid));
	if (pax_gid)
		paxlen += pax_record_len("gid", fmt_u64(num, e->gid));

	if (paxlen > 0) {
		start_header(b, 'x', 0644, paxlen, e->mtime < 0 ? 0 : e->mtime);
		memcpy(b + H_NAME, pax_name, sizeof pax_name - 1);
		seal_header(b);
		if (write_all(w, b, TAR_BLOCK) < 0)
			return -1;
		if ((pax_path && out_pax_record(w, "path", path, plen) < 0) ||
		    (pax_link &&
		    out_pax_record(w, "linkpath", e->link, llen) < 0) ||
		    (pax_size && out_pax_record(w, "size", num,
		    fmt_u64(num, e->size)) < 0) ||
		    (pax_mtime && out_pax_record(w, "mtime", tnum, tlen) < 0) ||
		    (pax_uid && out_pax_record(w, "uid", num,
		    fmt_u64(num, e->uid)) < 0) ||
		    (pax_gid && out_pax_record(w, "gid", num,
		    fmt_u64(num, e->gid)) < 0) ||
		    out_pad(w) < 0)
			return -1;
	}

	/* Where pax holds the real value, the ustar field gets what fits:
	 * the path's first 100 bytes, base-256 numbers, whole seconds. */
	start_header(b, e->type == TAR_OTHER ? e->tflag : type_flags[e->type],
	    e->mode & 07777, e->size, e->mtime);
	if (pax_path)
		memcpy(b + H_NAME, path, plen < H_NAME_LEN ? plen : H_NAME_LEN);
	else
		memcpy(b + H_NAME, path + name_off, plen - name_off);
	if (prefix > 0)
		memcpy(b + H_PREFIX, path, (size_t)prefix);
	memcpy(b + H_LINK, e->link, llen < H_LINK_LEN ? llen : H_LINK_LEN);
	put_number(b + H_UID, 8, e->uid);
	put_number(b + H_GID, 8, e->gid);
	if (e->type == TAR_OTHER && e->tflag != '6') {
		put_number(b + H_DEVMAJOR, 8, e->devmajor);
		put_number(b + H_DEVMINOR, 8, e->devminor);
	}
	seal_header(b);
	if (write_all(w, b, TAR_BLOCK) < 0)
		return -1;
	w->remain = e->size;
	w->state = ST_ENTRY;
	return 0;
}

int tar_write_data(struct tar_writer *w, const void *buf, size_t n)
{
	if (w->state == ST_ERROR)
		return -1;
	if (w->state != ST_ENTRY)
		return wfail(w, "data outside an entry");
	if (n > w->remain)
		return wfail(w, "more data than the entry's size");
	if (out_bytes(w, buf, n) < 0)
		return -1;
	w->remain -= n;
	return 0;
}

int tar_end_entry(struct tar_writer *w)
{
	char msg[64];

	if (w->state == ST_ERROR)
		return -1;
	if (w->state != ST_ENTRY)
		return wfail(w, "no entry to end");
	if (w->remain > 0) {
		snprintf(msg, sizeof msg, "entry ends %llu bytes short",
		    (unsigned long long)w->remain);
		return wfail(w, msg);
	}
	if (out_pad(w) < 0)
		return -1;
	w->state = ST_IDLE;
	return 0;
}

int tar_finish(struct tar_writer *w)
{
	if (w->state == ST_ERROR)
		return -1;
	if (w->state != ST_IDLE)
		return wfail(w, w->state == ST_ENTRY ?
		    "archive ended while an entry is open" :
		    "archive already ended");
	if (write_all(w, zero_block, TAR_BLOCK) < 0 ||
	    write_all(w, zero_block, TAR_BLOCK) < 0)
		return -1;
	w->state = ST_END;
	return 0;
}
