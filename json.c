/*
 * json.c - JSON output for byte strings that may not be UTF-8.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "json.h"

/* The length of the valid UTF-8 sequence at p, or 0 if there is none. */
static size_t utf8_len(const uint8_t *p, size_t n)
{
	uint32_t c;
	size_t len, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, c = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, c = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, c = p[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	return len;
}

/*
 * A JSON string for arbitrary bytes.  Valid UTF-8 is written as is;
 * each byte that is not part of valid UTF-8 becomes \udcXX (the
 * "surrogateescape" convention: Python's os.fsencode() restores it).
 */
void json_bytes(FILE *f, const void *data, size_t n)
{
	const uint8_t *p = data;
	size_t k;

	fputc('"', f);
	while (n > 0) {
		k = utf8_len(p, n);
		if (k == 0) {
			fprintf(f, "\\udc%02x", p[0]);
			k = 1;
		} else if (p[0] == '"' || p[0] == '\\') {
			fputc('\\', f);
			fputc(p[0], f);
		} else if (p[0] == '\n') {
			fputs("\\n", f);
		} else if (p[0] == '\t') {
			fputs("\\t", f);
		} else if (p[0] < 0x20 || p[0] == 0x7f) {
			fprintf(f, "\\u%04x", p[0]);
		} else {
			fwrite(p, 1, k, f);
		}
		p += k;
		n -= k;
	}
	fputc('"', f);
}

void json_str(FILE *f, const char *s)
{
	json_bytes(f, s, strlen(s));
}
