/*
 * buf.h - bounds-checked byte buffers and the big-endian wire codec.
 *
 * One API for the SSH layer and the RPC layer, on the client and in the
 * agent.  A buffer never allocates: it wraps storage the caller owns.
 * Every getter and putter checks bounds and returns 0 on success or -1
 * when the data is short (get) or the storage is full (put); on failure
 * nothing is consumed or written.
 *
 *   data[0 .. pos)    already read
 *   data[pos .. len)  readable
 *   data[len .. cap)  free space for putters
 */
#ifndef REMOWT_BUF_H
#define REMOWT_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;
	size_t cap;
	size_t len;
	size_t pos;
};

/* An empty buffer for writing into mem[0..cap). */
void buf_init(struct buf *b, void *mem, size_t cap);
/* A read-only view of data[0..len); putters on it fail. */
void buf_view(struct buf *b, const void *data, size_t len);

static inline size_t buf_avail(const struct buf *b) { return b->len - b->pos; }
static inline size_t buf_room(const struct buf *b) { return b->cap - b->len; }
static inline const uint8_t *buf_ptr(const struct buf *b) { return b->data + b->pos; }

/* Drop everything already read, moving unread bytes to the front. */
void buf_compact(struct buf *b);
void buf_reset(struct buf *b);
/* Zero the whole storage (secrets) and reset. */
void buf_wipe(struct buf *b);

int buf_get_u8(struct buf *b, uint8_t *v);
int buf_get_u16(struct buf *b, uint16_t *v);
int buf_get_u32(struct buf *b, uint32_t *v);
int buf_get_u64(struct buf *b, uint64_t *v);
int buf_get_bool(struct buf *b, int *v);
int buf_get_bytes(struct buf *b, void *out, size_t n);
int buf_skip(struct buf *b, size_t n);
/* A uint32-length-prefixed string: *p points into the buffer. */
int buf_get_string(struct buf *b, const uint8_t **p, size_t *n);
/* The same, as a sub-buffer view. */
int buf_get_sub(struct buf *b, struct buf *sub);
/* A string copied out NUL-terminated; fails on embedded NUL or if it
 * does not fit in outsz bytes including the terminator. */
int buf_get_cstring(struct buf *b, char *out, size_t outsz);
/* An SSH mpint that must be non-negative and minimally encoded; the
 * returned magnitude has no leading zero byte. */
int buf_get_mpint(struct buf *b, const uint8_t **p, size_t *n);

int buf_put_u8(struct buf *b, uint8_t v);
int buf_put_u16(struct buf *b, uint16_t v);
int buf_put_u32(struct buf *b, uint32_t v);
int buf_put_u64(struct buf *b, uint64_t v);
int buf_put_bool(struct buf *b, int v);
int buf_put_bytes(struct buf *b, const void *p, size_t n);
int buf_put_string(struct buf *b, const void *p, size_t n);
int buf_put_cstring(struct buf *b, const char *s);
/* An unsigned big-endian magnitude as an SSH mpint. */
int buf_put_mpint(struct buf *b, const uint8_t *p, size_t n);
/* Reserve n bytes at the end and return where to write them. */
int buf_reserve(struct buf *b, size_t n, uint8_t **p);

static inline uint16_t load_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t load_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static inline uint64_t load_be64(const uint8_t *p)
{
	return ((uint64_t)load_be32(p) << 32) | load_be32(p + 4);
}

static inline void store_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void store_be64(uint8_t *p, uint64_t v)
{
	store_be32(p, (uint32_t)(v >> 32));
	store_be32(p + 4, (uint32_t)v);
}

/* Zero memory in a way the compiler may not elide.  Every secret is
 * wiped with this, nothing else. */
void wipe(void *p, size_t n);
/* Zero the stack below the caller, where library code that keeps
 * key-derived temporaries in locals left them (BearSSL's X25519 copies
 * the scalar, its AES-NI code the round keys).  Call it after the last
 * call that touched a secret. */
void wipe_stack(void);
/* Compare in time that depends only on n: 0 when equal. */
int ct_memcmp(const void *a, const void *b, size_t n);

#endif
