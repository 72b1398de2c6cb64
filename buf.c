/*
 * buf.c - bounds-checked byte buffers and the big-endian wire codec.
 */
#include <string.h>

#include "buf.h"

void buf_init(struct buf *b, void *mem, size_t cap)
{
	b->data = mem;
	b->cap = cap;
	b->len = 0;
	b->pos = 0;
}

void buf_view(struct buf *b, const void *data, size_t len)
{
	/* The view is never written: cap == len makes every putter fail. */
	b->data = (uint8_t *)(uintptr_t)data;
	b->cap = len;
	b->len = len;
	b->pos = 0;
}

void buf_compact(struct buf *b)
{
	if (b->pos == 0)
		return;
	memmove(b->data, b->data + b->pos, b->len - b->pos);
	b->len -= b->pos;
	b->pos = 0;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	b->pos = 0;
}

void buf_wipe(struct buf *b)
{
	wipe(b->data, b->cap);
	buf_reset(b);
}

int buf_get_bytes(struct buf *b, void *out, size_t n)
{
	if (buf_avail(b) < n)
		return -1;
	if (n > 0)
		memcpy(out, b->data + b->pos, n);
	b->pos += n;
	return 0;
}

int buf_skip(struct buf *b, size_t n)
{
	if (buf_avail(b) < n)
		return -1;
	b->pos += n;
	return 0;
}

int buf_get_u8(struct buf *b, uint8_t *v)
{
	return buf_get_bytes(b, v, 1);
}

int buf_get_u16(struct buf *b, uint16_t *v)
{
	if (buf_avail(b) < 2)
		return -1;
	*v = load_be16(b->data + b->pos);
	b->pos += 2;
	return 0;
}

int buf_get_u32(struct buf *b, uint32_t *v)
{
	if (buf_avail(b) < 4)
		return -1;
	*v = load_be32(b->data + b->pos);
	b->pos += 4;
	return 0;
}

int buf_get_u64(struct buf *b, uint64_t *v)
{
	if (buf_avail(b) < 8)
		return -1;
	*v = load_be64(b->data + b->pos);
	b->pos += 8;
	return 0;
}

int buf_get_bool(struct buf *b, int *v)
{
	uint8_t c;

	if (buf_get_u8(b, &c) != 0)
		return -1;
	*v = c != 0;
	return 0;
}

int buf_get_string(struct buf *b, const uint8_t **p, size_t *n)
{
	uint32_t len;

	if (buf_avail(b) < 4)
		return -1;
	len = load_be32(b->data + b->pos);
	if (buf_avail(b) - 4 < len)
		return -1;
	*p = b->data + b->pos + 4;
	*n = len;
	b->pos += 4 + (size_t)len;
	return 0;
}

int buf_get_sub(struct buf *b, struct buf *sub)
{
	const uint8_t *p;
	size_t n;

	if (buf_get_string(b, &p, &n) != 0)
		return -1;
	buf_view(sub, p, n);
	return 0;
}

int buf_get_cstring(struct buf *b, char *out, size_t outsz)
{
	size_t save = b->pos;
	const uint8_t *p;
	size_t n;

	if (buf_get_string(b, &p, &n) != 0)
		return -1;
	if (n >= outsz || memchr(p, 0, n) != NULL) {
		b->pos = save;
		return -1;
	}
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

int buf_get_mpint(struct buf *b, const uint8_t **p, size_t *n)
{
	size_t save = b->pos;
	const uint8_t *q;
	size_t len;

	if (buf_get_string(b, &q, &len) != 0)
		return -1;
	/* Negative numbers and non-minimal encodings are refused. */
	if (len > 0 && ((q[0] & 0x80) != 0 ||
	    (q[0] == 0 && (len == 1 || (q[1] & 0x80) == 0)))) {
		b->pos = save;
		return -1;
	}
	if (len > 0 && q[0] == 0) {
		q++;
		len--;
	}
	*p = q;
	*n = len;
	return 0;
}

int buf_reserve(struct buf *b, size_t n, uint8_t **p)
{
	if (buf_room(b) < n)
		return -1;
	*p = b->data + b->len;
	b->len += n;
	return 0;
}

int buf_put_bytes(struct buf *b, const void *p, size_t n)
{
	uint8_t *dst;

	if (buf_reserve(b, n, &dst) != 0)
		return -1;
	if (n > 0)
		memcpy(dst, p, n);
	return 0;
}

int buf_put_u8(struct buf *b, uint8_t v)
{
	return buf_put_bytes(b, &v, 1);
}

int buf_put_u16(struct buf *b, uint16_t v)
{
	uint8_t tmp[2];

	store_be16(tmp, v);
	return buf_put_bytes(b, tmp, sizeof tmp);
}

int buf_put_u32(struct buf *b, uint32_t v)
{
	uint8_t tmp[4];

	store_be32(tmp, v);
	return buf_put_bytes(b, tmp, sizeof tmp);
}

int buf_put_u64(struct buf *b, uint64_t v)
{
	uint8_t tmp[8];

	store_be64(tmp, v);
	return buf_put_bytes(b, tmp, sizeof tmp);
}

int buf_put_bool(struct buf *b, int v)
{
	return buf_put_u8(b, v ? 1 : 0);
}

int buf_put_string(struct buf *b, const void *p, size_t n)
{
	if (n > UINT32_MAX || buf_room(b) < 4 + n)
		return -1;
	buf_put_u32(b, (uint32_t)n);
	return buf_put_bytes(b, p, n);
}

int buf_put_cstring(struct buf *b, const char *s)
{
	return buf_put_string(b, s, strlen(s));
}

int buf_put_mpint(struct buf *b, const uint8_t *p, size_t n)
{
	size_t pad;

	while (n > 0 && p[0] == 0) {
		p++;
		n--;
	}
	pad = (n > 0 && (p[0] & 0x80) != 0) ? 1 : 0;
	if (n + pad > UINT32_MAX || buf_room(b) < 4 + pad + n)
		return -1;
	buf_put_u32(b, (uint32_t)(n + pad));
	if (pad)
		buf_put_u8(b, 0);
	return buf_put_bytes(b, p, n);
}

/*
 * Through a volatile pointer, a word at a time where aligned: no store
 * can be elided, and no call into libc either, whose first use through
 * the PLT would have the dynamic linker save every register, secrets
 * included, on the stack below.
 */
void wipe(void *p, size_t n)
{
	volatile uint8_t *v = p;
	volatile uint64_t *w;

	for (; n > 0 && ((uintptr_t)v & 7) != 0; n--)
		*v++ = 0;
	for (w = (volatile uint64_t *)(volatile void *)v; n >= 8; n -= 8)
		*w++ = 0;
	for (v = (volatile uint8_t *)w; n > 0; n--)
		*v++ = 0;
}

/* Deeper than the packet layer and its calls into BearSSL and mbedtls
 * ever go below a caller. */
#define WIPE_STACK_BYTES (64 * 1024)

/*
 * Not inlined, so that the array lies right below the caller's frame;
 * not instrumented, so that under ASan no redzone between the two is
 * left as it was.
 */
__attribute__((noinline, no_sanitize_address)) void wipe_stack(void)
{
	uint64_t frame[WIPE_STACK_BYTES / 8];
	volatile uint64_t *v = frame;
	size_t i;

	for (i = 0; i < WIPE_STACK_BYTES / 8; i++)
		v[i] = 0;
}

int ct_memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;
	uint8_t d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= (uint8_t)(x[i] ^ y[i]);
	return d != 0;
}
