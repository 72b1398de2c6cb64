/*
 * residue.h - for the unit tests: is a secret still somewhere the code
 * under test used and gave back?  Two places are searched:
 *
 *   the stack below the caller, where the frames of the functions it
 *   called were (and those of the libraries they called);
 *   the heap, where freed buffers still lie: glibc keeps the contents of
 *   small blocks, bar their first 16 bytes.
 *
 * Call residue_stack() from the function that called the code under
 * test, right after it, before another call reuses that stack.  Keep the
 * secret looked for in static storage or in the caller's frame, never
 * below it or on the heap.  Both searches have a positive control
 * (residue_selftest), so that a search that cannot see anything never
 * passes for a clean result.
 */
#ifndef REMOWT_TESTS_RESIDUE_H
#define REMOWT_TESTS_RESIDUE_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RESIDUE_STACK (64 * 1024)
#define RESIDUE_WINDOW 16      /* a secret is found by any 16 bytes of it */

#if defined(__SANITIZE_ADDRESS__)
#define RESIDUE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RESIDUE_ASAN 1
#endif
#endif
#ifndef RESIDUE_ASAN
#define RESIDUE_ASAN 0
#endif

/* Each test uses what it needs of these. */
#define RESIDUE_FN static __attribute__((unused))

/* Is s[0..n) at p?  By hand: ASan's memcmp would check the dead stack. */
RESIDUE_FN __attribute__((no_sanitize_address)) int
residue_at(const uint8_t *p, const uint8_t *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != s[i])
			return 0;
	return 1;
}

/* Is s[0..w) anywhere in p[0..len)?  By hand on the stack; memmem on
 * the heap, which is not searched under ASan. */
RESIDUE_FN __attribute__((no_sanitize_address)) int
residue_in(const uint8_t *p, size_t len, const uint8_t *s, size_t w,
    int by_hand)
{
	size_t i;

	if (!by_hand)
		return memmem(p, len, s, w) != NULL;
	for (i = 0; i + w <= len; i++)
		if (p[i] == s[0] && residue_at(p + i, s, w))
			return 1;
	return 0;
}

/* Does p[0..len) hold secret, or any RESIDUE_WINDOW bytes of it? */
RESIDUE_FN __attribute__((no_sanitize_address)) int
residue_find(const uint8_t *p, size_t len, const uint8_t *secret, size_t n,
    int by_hand)
{
	size_t off, w = n < RESIDUE_WINDOW ? n : RESIDUE_WINDOW;

	if (n == 0)
		return 0;
	for (off = 0;; off += RESIDUE_WINDOW / 2) {
		if (off > n - w)
			off = n - w;
		if (residue_in(p, len, secret + off, w, by_hand))
			return 1;
		if (off == n - w)
			return 0;
	}
}

/*
 * Is the secret in the RESIDUE_STACK bytes below the caller's frame?
 * The array is this frame, laid over the dead frames (not instrumented,
 * so that no ASan redzone hides the top of them); the barrier keeps the
 * compiler from reasoning about its (unwritten) contents.
 */
RESIDUE_FN __attribute__((noinline, no_sanitize_address)) int
residue_stack(const void *secret, size_t n)
{
	uint8_t area[RESIDUE_STACK];

	__asm__ volatile("" : : "r"(area) : "memory");
	return residue_find(area, sizeof area, secret, n, 1);
}

/* The heap's bounds: the break when the test started, and now. */
static uint8_t *residue_heap_start;

RESIDUE_FN void
residue_init(void)
{
	residue_heap_start = sbrk(0);
}

/*
 * Is the secret in the heap grown since residue_init()?  Only the brk
 * heap is seen (large blocks are mmap'd, and gone once freed).  ASan
 * has an allocator of its own: then nothing is searched and the answer
 * is -1.
 */
RESIDUE_FN int
residue_heap(const void *secret, size_t n)
{
	uint8_t *end = sbrk(0);

	if (RESIDUE_ASAN || residue_heap_start == NULL ||
	    end <= residue_heap_start)
		return -1;
	return residue_find(residue_heap_start,
	    (size_t)(end - residue_heap_start), secret, n, 0);
}

/* Leave pattern in a dead frame and in a freed block, without wiping. */
RESIDUE_FN __attribute__((noinline)) void
residue_leave_stack(const uint8_t *pattern, size_t n)
{
	uint8_t copy[256];

	memcpy(copy, pattern, n < sizeof copy ? n : sizeof copy);
	__asm__ volatile("" : : "r"(copy) : "memory");
}

RESIDUE_FN __attribute__((noinline)) void
residue_leave_heap(const uint8_t *pattern, size_t n)
{
	uint8_t *p = malloc(64 + n);

	if (p == NULL)
		return;
	memcpy(p + 32, pattern, n);
	__asm__ volatile("" : : "r"(p) : "memory");
	free(p);
}

/*
 * 0 if both searches find what was just left for them (the heap search
 * may be unavailable, see residue_heap), -1 if one cannot see it.
 */
RESIDUE_FN int
residue_selftest(void)
{
	static const uint8_t pattern[24] = "residue: positive ctrl";
	int r;

	residue_leave_stack(pattern, sizeof pattern);
	if (!residue_stack(pattern, sizeof pattern))
		return -1;
	residue_leave_heap(pattern, sizeof pattern);
	r = residue_heap(pattern, sizeof pattern);
	return r == 0 ? -1 : 0;
}

#endif
