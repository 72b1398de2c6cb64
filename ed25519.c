/*
 * ed25519.c - Ed25519 signatures (RFC 8032, PureEdDSA) over BearSSL SHA-512.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <bearssl.h>

#include "buf.h"
#include "ed25519.h"

/*
 * Field elements mod p = 2^255 - 19 in radix 2^25.5: ten unsigned limbs
 * alternately 26 and 25 bits wide, limb i weighing 2^ceil(25.5 * i).
 * Every operation leaves limbs below 2^26 (limb 1 below 2^25 + 2^18),
 * which keeps a full 10x10 product sum under 2^61 in 64 bits.
 */
typedef uint32_t fe[10];

/* The limb loops, unrolled: their bounds become constants, and the
 * field arithmetic runs two to three times as fast. */
#define UNROLL _Pragma("GCC unroll 10")

#define MASK26	0x3ffffffu
#define MASK25	0x1ffffffu

/* Extended twisted Edwards coordinates: x = X/Z, y = Y/Z, xy = T/Z. */
struct ge {
	fe X;
	fe Y;
	fe Z;
	fe T;
};

/* 2d, d = -121665/121666 */
static const fe fe_d2 = {
	0x2b2f159, 0x1a6e509, 0x22add7a, 0x0d4141d, 0x0038052,
	0x0f3d130, 0x3407977, 0x19ce331, 0x1c56dff, 0x0901b67
};

static const fe fe_d = {
	0x35978a3, 0x0d37284, 0x3156ebd, 0x06a0a0e, 0x001c029,
	0x179e898, 0x3a03cbb, 0x1ce7198, 0x2e2b6ff, 0x1480db3
};

/* 2^((p-1)/4), a square root of -1 */
static const fe fe_sqrtm1 = {
	0x20ea0b0, 0x186c9d2, 0x08f189d, 0x035697f, 0x0bd0c60,
	0x1fbd7a7, 0x2804c9e, 0x1e16569, 0x004fc1d, 0x0ae0c92
};

/* The base point B: y = 4/5, x even. */
static const struct ge ge_base = {
	{ 0x325d51a, 0x18b5823, 0x0f6592a, 0x104a92d, 0x1a4b31d,
	  0x1d6dc5c, 0x27118fe, 0x07fd814, 0x13cd6e5, 0x085a4db },
	{ 0x2666658, 0x1999999, 0x0cccccc, 0x1333333, 0x1999999,
	  0x0666666, 0x3333333, 0x0cccccc, 0x2666666, 0x1999999 },
	{ 1, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ 0x1b7dda3, 0x1a2ace9, 0x25eadbb, 0x003ba8a, 0x083c27e,
	  0x0abe37d, 0x1274732, 0x0ccacdd, 0x0fd78b7, 0x19e1d7c }
};

/* The group order L = 2^252 + 27742317777372353535851937790883648493,
 * as little-endian 32-bit words. */
static const uint32_t sc_L[8] = {
	0x5cf5d3ed, 0x5812631a, 0xa2f79cd6, 0x14def9de,
	0x00000000, 0x00000000, 0x00000000, 0x10000000
};

static unsigned
limb_width(int i)
{
	return 26 - (unsigned)(i & 1);
}

static void
fe_zero(fe h)
{
	memset(h, 0, sizeof(fe));
}

static void
fe_one(fe h)
{
	fe_zero(h);
	h[0] = 1;
}

static void
fe_copy(fe h, const fe f)
{
	memcpy(h, f, sizeof(fe));
}

/* Carry wide limbs back into range, folding 2^255 = 19 into limb 0. */
static void
fe_carry(fe h, uint64_t t[10])
{
	uint64_t c;
	int i;

	UNROLL
	for (i = 0; i < 9; i++) {
		c = t[i] >> limb_width(i);
		t[i] &= (i & 1) ? MASK25 : MASK26;
		t[i + 1] += c;
	}
	c = t[9] >> 25;
	t[9] &= MASK25;
	t[0] += 19 * c;
	c = t[0] >> 26;
	t[0] &= MASK26;
	t[1] += c;
	UNROLL
	for (i = 0; i < 10; i++)
		h[i] = (uint32_t)t[i];
}

static void
fe_add(fe h, const fe f, const fe g)
{
	uint64_t t[10];
	int i;

	UNROLL
	for (i = 0; i < 10; i++)
		t[i] = (uint64_t)f[i] + g[i];
	fe_carry(h, t);
}

/* f - g, computed as f + 2p - g so that no limb goes negative. */
static void
fe_sub(fe h, const fe f, const fe g)
{
	static const uint32_t two_p[10] = {
		0x7ffffda, 0x3fffffe, 0x7fffffe, 0x3fffffe, 0x7fffffe,
		0x3fffffe, 0x7fffffe, 0x3fffffe, 0x7fffffe, 0x3fffffe
	};
	uint64_t t[10];
	int i;

	UNROLL
	for (i = 0; i < 10; i++)
		t[i] = (uint64_t)f[i] + two_p[i] - g[i];
	fe_carry(h, t);
}

static void
fe_neg(fe h, const fe f)
{
	fe z;

	fe_zero(z);
	fe_sub(h, z, f);
}

/*
 * Schoolbook product.  Limb i times limb j lands at limb i + j, doubled
 * when both are odd (the two half bits), and wraps past limb 9 times 19.
 */
static void
fe_mul(fe h, const fe f, const fe g)
{
	uint32_t g19[10], g2[10], g2_19[10];
	uint64_t t[10];
	const uint32_t *lo, *hi;
	int i, j;

	UNROLL
	for (i = 0; i < 10; i++) {
		g2[i] = g[i] << (i & 1);
		g19[i] = 19 * g[i];
		g2_19[i] = 19 * g2[i];
		t[i] = 0;
	}
	UNROLL
	for (i = 0; i < 10; i++) {
		lo = (i & 1) ? g2 : g;
		hi = (i & 1) ? g2_19 : g19;
		UNROLL
		for (j = 0; j < 10 - i; j++)
			t[i + j] += (uint64_t)f[i] * lo[j];
		UNROLL
		for (; j < 10; j++)
			t[i + j - 10] += (uint64_t)f[i] * hi[j];
	}
	fe_carry(h, t);
}

/*
 * Squaring: the same sum as fe_mul, with each cross product i < j
 * counted once and doubled.
 */
static void
fe_sq(fe h, const fe f)
{
	uint32_t f2[10], f19[10];
	uint64_t t[10], fi, fj;
	int i, j, k;

	UNROLL
	for (i = 0; i < 10; i++) {
		f2[i] = 2 * f[i];
		f19[i] = 19 * f[i];
		t[i] = 0;
	}
	UNROLL
	for (i = 0; i < 10; i++) {
		/* Diagonal: i + i is even, doubled when i is odd. */
		k = 2 * i;
		fi = (uint64_t)f[i] << (i & 1);
		if (k < 10)
			t[k] += fi * f[i];
		else
			t[k - 10] += fi * f19[i];
		UNROLL
		for (j = i + 1; j < 10; j++) {
			k = i + j;
			fj = (uint64_t)f2[i] << (i & j & 1);
			if (k < 10)
				t[k] += fj * f[j];
			else
				t[k - 10] += fj * f19[j];
		}
	}
	fe_carry(h, t);
}

static void
fe_sq_n(fe h, const fe f, int n)
{
	fe_sq(h, f);
	while (--n > 0)
		fe_sq(h, h);
}

/* One carry pass over exact 32-bit limbs, folding the top carry. */
static void
fe_carry_exact(uint32_t t[10])
{
	uint32_t c;
	int i;

	for (i = 0; i < 9; i++) {
		c = t[i] >> limb_width(i);
		t[i] &= (i & 1) ? MASK25 : MASK26;
		t[i + 1] += c;
	}
	c = t[9] >> 25;
	t[9] &= MASK25;
	t[0] += 19 * c;
}

/* Canonical little-endian encoding of f mod p, top bit clear. */
static void
fe_tobytes(uint8_t s[32], const fe f)
{
	uint32_t t[10], q;
	uint64_t acc;
	unsigned bits;
	int i, n;

	/* Two passes bring every limb into range and the value below 2^255. */
	memcpy(t, f, sizeof(t));
	fe_carry_exact(t);
	fe_carry_exact(t);

	/* q = 1 exactly when t >= p, i.e. when t + 19 reaches 2^255. */
	q = (t[0] + 19) >> 26;
	for (i = 1; i < 10; i++)
		q = (t[i] + q) >> limb_width(i);

	/* t - q*p = t + 19q - q*2^255: add, carry, drop bit 255. */
	t[0] += 19 * q;
	for (i = 0; i < 9; i++) {
		t[i + 1] += t[i] >> limb_width(i);
		t[i] &= (i & 1) ? MASK25 : MASK26;
	}
	t[9] &= MASK25;

	acc = 0;
	bits = 0;
	n = 0;
	for (i = 0; i < 10; i++) {
		acc |= (uint64_t)t[i] << bits;
		bits += limb_width(i);
		while (bits >= 8) {
			s[n++] = (uint8_t)acc;
			acc >>= 8;
			bits -= 8;
		}
	}
	s[n] = (uint8_t)acc;
}

/* Load 255 bits; the top bit of s[31] is ignored. */
static void
fe_frombytes(fe h, const uint8_t s[32])
{
	uint64_t acc;
	unsigned bits, w;
	int i, n;

	acc = 0;
	bits = 0;
	n = 0;
	for (i = 0; i < 10; i++) {
		w = limb_width(i);
		while (bits < w) {
			acc |= (uint64_t)s[n++] << bits;
			bits += 8;
		}
		h[i] = (uint32_t)acc & ((1u << w) - 1);
		acc >>= w;
		bits -= w;
	}
}

static int
fe_isnegative(const fe f)
{
	uint8_t s[32];

	fe_tobytes(s, f);
	return s[0] & 1;
}

/* Public data only. */
static int
fe_equal(const fe f, const fe g)
{
	uint8_t a[32], b[32];

	fe_tobytes(a, f);
	fe_tobytes(b, g);
	return memcmp(a, b, sizeof(a)) == 0;
}

/* h = g when mask is all ones, unchanged when mask is zero. */
static void
fe_cmov(fe h, const fe g, uint32_t mask)
{
	int i;

	for (i = 0; i < 10; i++)
		h[i] ^= mask & (h[i] ^ g[i]);
}

/*
 * z^(2^250 - 1), and z^11 on the side; both exponents p - 2 and
 * (p - 5) / 8 are built from these.
 */
static void
fe_pow_2_250_1(fe out, fe z11, const fe z)
{
	fe z2, z9, e5, e10, e20, e50, e100, t;

	fe_sq(z2, z);
	fe_sq_n(t, z2, 2);
	fe_mul(z9, t, z);
	fe_mul(z11, z9, z2);
	fe_sq(t, z11);
	fe_mul(e5, t, z9);		/* 2^5 - 1 */
	fe_sq_n(t, e5, 5);
	fe_mul(e10, t, e5);		/* 2^10 - 1 */
	fe_sq_n(t, e10, 10);
	fe_mul(e20, t, e10);		/* 2^20 - 1 */
	fe_sq_n(t, e20, 20);
	fe_mul(t, t, e20);		/* 2^40 - 1 */
	fe_sq_n(t, t, 10);
	fe_mul(e50, t, e10);		/* 2^50 - 1 */
	fe_sq_n(t, e50, 50);
	fe_mul(e100, t, e50);		/* 2^100 - 1 */
	fe_sq_n(t, e100, 100);
	fe_mul(t, t, e100);		/* 2^200 - 1 */
	fe_sq_n(t, t, 50);
	fe_mul(out, t, e50);		/* 2^250 - 1 */
}

/* 1/z as z^(p - 2) = z^(2^255 - 21); maps 0 to 0. */
static void
fe_invert(fe out, const fe z)
{
	fe t, z11;

	fe_pow_2_250_1(t, z11, z);
	fe_sq_n(t, t, 5);
	fe_mul(out, t, z11);
}

/* z^((p - 5) / 8) = z^(2^252 - 3), the core of the square root. */
static void
fe_pow_p58(fe out, const fe z)
{
	fe t, z11;

	fe_pow_2_250_1(t, z11, z);
	fe_sq_n(t, t, 2);
	fe_mul(out, t, z);
}

static void
ge_identity(struct ge *p)
{
	fe_zero(p->X);
	fe_one(p->Y);
	fe_one(p->Z);
	fe_zero(p->T);
}

/*
 * Unified addition for a = -1 (Hisil, Wong, Carter, Dawson 2008).
 * With d not a square it is complete: it also doubles and handles the
 * identity, so the scalar multiplications need no special cases.
 */
static void
ge_add(struct ge *r, const struct ge *p, const struct ge *q)
{
	fe a, b, c, d, e, f, g, h, t;

	fe_sub(a, p->Y, p->X);
	fe_sub(t, q->Y, q->X);
	fe_mul(a, a, t);
	fe_add(b, p->Y, p->X);
	fe_add(t, q->Y, q->X);
	fe_mul(b, b, t);
	fe_mul(c, p->T, q->T);
	fe_mul(c, c, fe_d2);
	fe_mul(d, p->Z, q->Z);
	fe_add(d, d, d);
	fe_sub(e, b, a);
	fe_sub(f, d, c);
	fe_add(g, d, c);
	fe_add(h, b, a);
	fe_mul(r->X, e, f);
	fe_mul(r->Y, g, h);
	fe_mul(r->T, e, h);
	fe_mul(r->Z, f, g);
}

/* Dedicated doubling for a = -1; T of the input is not used. */
static void
ge_double(struct ge *r, const struct ge *p)
{
	fe a, b, c, e, f, g, h;

	fe_sq(a, p->X);
	fe_sq(b, p->Y);
	fe_sq(c, p->Z);
	fe_add(c, c, c);
	fe_add(e, p->X, p->Y);
	fe_sq(e, e);
	fe_sub(e, e, a);
	fe_sub(e, e, b);
	fe_sub(g, b, a);
	fe_sub(f, g, c);
	fe_neg(h, a);
	fe_sub(h, h, b);
	fe_mul(r->X, e, f);
	fe_mul(r->Y, g, h);
	fe_mul(r->T, e, h);
	fe_mul(r->Z, f, g);
}

static void
ge_neg(struct ge *p)
{
	fe_neg(p->X, p->X);
	fe_neg(p->T, p->T);
}

static void
ge_cmov(struct ge *p, const struct ge *q, uint32_t mask)
{
	fe_cmov(p->X, q->X, mask);
	fe_cmov(p->Y, q->Y, mask);
	fe_cmov(p->Z, q->Z, mask);
	fe_cmov(p->T, q->T, mask);
}

/* All ones when a == b, zero otherwise, without a branch. */
static uint32_t
ct_eq_mask(uint32_t a, uint32_t b)
{
	uint32_t x = a ^ b;

	return ((x | (0u - x)) >> 31) - 1;
}

/* table[idx] read by touching every entry, so idx stays secret. */
static void
ge_select(struct ge *r, const struct ge table[16], uint32_t idx)
{
	uint32_t i;

	*r = table[0];
	for (i = 1; i < 16; i++)
		ge_cmov(r, &table[i], ct_eq_mask(i, idx));
}

/* table[i] = [i]P for i = 0 .. 15. */
static void
ge_table(struct ge table[16], const struct ge *p)
{
	int i;

	ge_identity(&table[0]);
	table[1] = *p;
	for (i = 2; i < 16; i++) {
		if (i & 1)
			ge_add(&table[i], &table[i - 1], p);
		else
			ge_double(&table[i], &table[i / 2]);
	}
}

/* Nibble i of a little-endian 256-bit scalar. */
static uint32_t
nibble(const uint8_t s[32], int i)
{
	return (uint32_t)(s[i >> 1] >> ((i & 1) << 2)) & 15;
}

/*
 * r = [s]P in constant time: fixed 4-bit windows from the top, each
 * window a constant-time table read followed by an unconditional add.
 */
static void
ge_scalarmult(struct ge *r, const uint8_t s[32], const struct ge *p)
{
	struct ge table[16], t;
	int i;

	ge_table(table, p);
	ge_identity(r);
	for (i = 63; i >= 0; i--) {
		ge_double(r, r);
		ge_double(r, r);
		ge_double(r, r);
		ge_double(r, r);
		ge_select(&t, table, nibble(s, i));
		ge_add(r, r, &t);
	}
	wipe(&t, sizeof(t));
}

/* r = [a]B + [b]P, variable time: only for public scalars and points. */
static void
ge_double_scalarmult_vartime(struct ge *r, const uint8_t a[32],
    const uint8_t b[32], const struct ge *p)
{
	struct ge tb[16], tp[16];
	uint32_t na, nb;
	int i;

	ge_table(tb, &ge_base);
	ge_table(tp, p);
	ge_identity(r);
	for (i = 63; i >= 0; i--) {
		ge_double(r, r);
		ge_double(r, r);
		ge_double(r, r);
		ge_double(r, r);
		na = nibble(a, i);
		nb = nibble(b, i);
		if (na != 0)
			ge_add(r, r, &tb[na]);
		if (nb != 0)
			ge_add(r, r, &tp[nb]);
	}
}

static void
ge_encode(uint8_t s[32], const struct ge *p)
{
	fe zi, x, y;

	fe_invert(zi, p->Z);
	fe_mul(x, p->X, zi);
	fe_mul(y, p->Y, zi);
	fe_tobytes(s, y);
	s[31] |= (uint8_t)(fe_isnegative(x) << 7);
}

/* Whether the low 255 bits of s, as y, are below p. */
static int
fe_bytes_canonical(const uint8_t s[32])
{
	int i;

	if ((s[31] & 0x7f) != 0x7f)
		return 1;
	for (i = 30; i > 0; i--)
		if (s[i] != 0xff)
			return 1;
	return s[0] < 0xed;
}

/*
 * RFC 8032 5.1.3, strict: y must be below p, x^2 = (y^2 - 1)/(d y^2 + 1)
 * must have a root, and x = 0 must not come with the sign bit set.
 * Public data only.
 */
static int
ge_decode(struct ge *p, const uint8_t s[32])
{
	fe y, y2, u, v, v3, x, t;
	int sign;

	if (!fe_bytes_canonical(s))
		return -1;
	fe_frombytes(y, s);
	fe_sq(y2, y);
	fe_one(t);
	fe_sub(u, y2, t);
	fe_mul(v, y2, fe_d);
	fe_add(v, v, t);

	/* x = u v^3 (u v^7)^((p - 5) / 8) */
	fe_sq(v3, v);
	fe_mul(v3, v3, v);
	fe_sq(t, v3);
	fe_mul(t, t, v);
	fe_mul(t, t, u);
	fe_pow_p58(t, t);
	fe_mul(t, t, v3);
	fe_mul(x, t, u);

	fe_sq(t, x);
	fe_mul(t, t, v);
	if (!fe_equal(t, u)) {
		fe_neg(u, u);
		if (!fe_equal(t, u))
			return -1;
		fe_mul(x, x, fe_sqrtm1);
	}

	sign = s[31] >> 7;
	fe_zero(t);
	if (sign && fe_equal(x, t))
		return -1;
	if (fe_isnegative(x) != sign)
		fe_neg(x, x);

	fe_copy(p->X, x);
	fe_copy(p->Y, y);
	fe_one(p->Z);
	fe_mul(p->T, x, y);
	return 0;
}

static void
sc_load(uint32_t w[8], const uint8_t s[32])
{
	int i;

	for (i = 0; i < 8; i++)
		w[i] = (uint32_t)s[4 * i] | (uint32_t)s[4 * i + 1] << 8 |
		    (uint32_t)s[4 * i + 2] << 16 | (uint32_t)s[4 * i + 3] << 24;
}

static void
sc_store(uint8_t s[32], const uint32_t w[8])
{
	int i;

	for (i = 0; i < 8; i++) {
		s[4 * i] = (uint8_t)w[i];
		s[4 * i + 1] = (uint8_t)(w[i] >> 8);
		s[4 * i + 2] = (uint8_t)(w[i] >> 16);
		s[4 * i + 3] = (uint8_t)(w[i] >> 24);
	}
}

/*
 * A 512-bit little-endian number mod L, one bit at a time from the top:
 * r = 2r + bit, then subtract L when that does not borrow.  With r < L
 * on entry to each step, 2r + 1 < 2^254 fits in eight words.  Slow but
 * short, and constant time.
 */
static void
sc_reduce(uint8_t out[32], const uint8_t in[64])
{
	uint32_t r[8], t[8], bit, borrow, mask;
	uint64_t diff;
	int i, k;

	memset(r, 0, sizeof(r));
	for (k = 511; k >= 0; k--) {
		bit = (uint32_t)(in[k >> 3] >> (k & 7)) & 1;
		for (i = 7; i > 0; i--)
			r[i] = r[i] << 1 | r[i - 1] >> 31;
		r[0] = r[0] << 1 | bit;

		borrow = 0;
		for (i = 0; i < 8; i++) {
			diff = (uint64_t)r[i] - sc_L[i] - borrow;
			t[i] = (uint32_t)diff;
			borrow = (uint32_t)(diff >> 63);
		}
		mask = borrow - 1;
		for (i = 0; i < 8; i++)
			r[i] ^= mask & (r[i] ^ t[i]);
	}
	sc_store(out, r);
	wipe(r, sizeof(r));
	wipe(t, sizeof(t));
}

/* out = (a * b + c) mod L, constant time. */
static void
sc_muladd(uint8_t out[32], const uint8_t a[32], const uint8_t b[32],
    const uint8_t c[32])
{
	uint32_t x[8], y[8], z[8], prod[16];
	uint64_t acc;
	uint8_t wide[64];
	int i, j;

	sc_load(x, a);
	sc_load(y, b);
	sc_load(z, c);
	memset(prod, 0, sizeof(prod));
	for (i = 0; i < 8; i++) {
		acc = 0;
		for (j = 0; j < 8; j++) {
			acc += (uint64_t)x[i] * y[j] + prod[i + j];
			prod[i + j] = (uint32_t)acc;
			acc >>= 32;
		}
		prod[i + 8] = (uint32_t)acc;
	}
	acc = 0;
	for (i = 0; i < 16; i++) {
		acc += (uint64_t)prod[i] + (i < 8 ? z[i] : 0);
		prod[i] = (uint32_t)acc;
		acc >>= 32;
	}
	sc_store(wide, prod);
	sc_store(wide + 32, prod + 8);
	sc_reduce(out, wide);

	wipe(x, sizeof(x));
	wipe(y, sizeof(y));
	wipe(z, sizeof(z));
	wipe(prod, sizeof(prod));
	wipe(wide, sizeof(wide));
}

/* Whether s < L.  Public data only. */
static int
sc_canonical(const uint8_t s[32])
{
	uint32_t w[8];
	int i;

	sc_load(w, s);
	for (i = 7; i >= 0; i--) {
		if (w[i] < sc_L[i])
			return 1;
		if (w[i] > sc_L[i])
			return 0;
	}
	return 0;
}

/* SHA-512 of the seed: a clamped scalar in h[0..32), the nonce prefix
 * in h[32..64). */
static void
expand_seed(uint8_t h[64], const uint8_t seed[32])
{
	br_sha512_context ctx;

	br_sha512_init(&ctx);
	br_sha512_update(&ctx, seed, 32);
	br_sha512_out(&ctx, h);
	wipe(&ctx, sizeof(ctx));
	h[0] &= 248;
	h[31] &= 127;
	h[31] |= 64;
}

/* SHA-512(a || b || msg) mod L. */
static void
hash_to_scalar(uint8_t out[32], const uint8_t *a, size_t alen,
    const uint8_t *b, size_t blen, const uint8_t *msg, size_t len)
{
	br_sha512_context ctx;
	uint8_t h[64];

	br_sha512_init(&ctx);
	br_sha512_update(&ctx, a, alen);
	br_sha512_update(&ctx, b, blen);
	br_sha512_update(&ctx, msg, len);
	br_sha512_out(&ctx, h);
	sc_reduce(out, h);
	wipe(&ctx, sizeof(ctx));
	wipe(h, sizeof(h));
}

void
ed25519_public_key(uint8_t pk[32], const uint8_t seed[32])
{
	uint8_t h[64];
	struct ge a;

	expand_seed(h, seed);
	ge_scalarmult(&a, h, &ge_base);
	ge_encode(pk, &a);
	wipe(h, sizeof(h));
	wipe(&a, sizeof(a));
}

/*
 * pk is trusted to match seed, as in RFC 8032 where it is derived from
 * it: signing one message under two different pk values would leak the
 * secret scalar.
 */
void
ed25519_sign(uint8_t sig[64], const uint8_t *msg, size_t len,
    const uint8_t seed[32], const uint8_t pk[32])
{
	uint8_t h[64], r[32], k[32];
	struct ge rp;

	expand_seed(h, seed);
	hash_to_scalar(r, h + 32, 32, NULL, 0, msg, len);
	ge_scalarmult(&rp, r, &ge_base);
	ge_encode(sig, &rp);
	hash_to_scalar(k, sig, 32, pk, 32, msg, len);
	sc_muladd(sig + 32, k, h, r);

	wipe(h, sizeof(h));
	wipe(r, sizeof(r));
	wipe(&rp, sizeof(rp));
}

/*
 * RFC 8032 5.1.7 without the cofactor: accept when [S]B - [k]A encodes
 * to R.  Decoding is strict and encodings are canonical, so comparing
 * the bytes compares the points.  R is decoded only to reject it early.
 */
int
ed25519_verify(const uint8_t sig[64], const uint8_t *msg, size_t len,
    const uint8_t pk[32])
{
	struct ge a, r, check;
	uint8_t k[32], enc[32];

	if (!sc_canonical(sig + 32))
		return -1;
	if (ge_decode(&a, pk) != 0 || ge_decode(&r, sig) != 0)
		return -1;
	hash_to_scalar(k, sig, 32, pk, 32, msg, len);
	ge_neg(&a);
	ge_double_scalarmult_vartime(&check, sig + 32, k, &a);
	ge_encode(enc, &check);
	return ct_memcmp(enc, sig, 32) == 0 ? 0 : -1;
}
