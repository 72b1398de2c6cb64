/*
 * fuzz_json.c - libFuzzer harness for the JSON reader and writer.
 *
 * The input is parsed as a JSON text.  When it is accepted, every token
 * must be consistent (containers hold exactly size values, end points
 * past them, spans lie inside the text), every string must decode into
 * at most its own length and be read back unchanged after json_bytes
 * writes it, and every integer must be what strtoll says.  Whatever the
 * input, its raw bytes written by json_bytes and by json_b64 must come
 * back exactly.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXTOK	4096

static struct json_tok tok[MAXTOK], tok2[8];
static uint8_t dec[1 << 17], dec2[1 << 17];

/* Write p[0..n) with json_bytes (or json_b64), read it back. */
static void write_read(const uint8_t *p, size_t n, int b64)
{
	struct json_doc d;
	char *text = NULL;
	size_t tlen = 0, m;
	FILE *f;

	if (n > sizeof dec2 / 8)
		return;
	if ((f = open_memstream(&text, &tlen)) == NULL)
		abort();
	if (b64)
		json_b64(f, p, n);
	else
		json_bytes(f, p, n);
	fclose(f);
	if (json_parse(&d, text, tlen, tok2, 8) != 0 || d.ntok != 1)
		abort();
	if ((b64 ? json_get_b64(&d, 0, dec2, sizeof dec2, &m) :
	    json_get_string(&d, 0, dec2, sizeof dec2, &m)) != 0)
		abort();
	if (m != n || memcmp(dec2, p, n) != 0)
		abort();
	free(text);
}

/* Containers hold exactly size values, and end points past them. */
static uint32_t check_value(const struct json_doc *d, uint32_t i)
{
	const struct json_tok *t = &d->tok[i];
	uint32_t k, c, j = i + 1;

	if (i >= d->ntok || t->end <= i || t->end > d->ntok ||
	    (size_t)t->pos + t->len > d->len)
		abort();
	if (t->type != JSON_ARRAY && t->type != JSON_OBJECT) {
		if (t->end != i + 1 || t->size != 0)
			abort();
		return t->end;
	}
	for (k = 0; k < t->size; k++) {
		if (t->type == JSON_OBJECT) {
			if (d->tok[j].type != JSON_STRING)
				abort();
			j = check_value(d, j);
		}
		c = check_value(d, j);
		if (json_next(d, j) != (c < d->ntok ? c : 0))
			abort();
		j = c;
	}
	if (j != t->end || (t->size == 0) != (json_first(d, i) == 0))
		abort();
	return t->end;
}

static void check_scalars(const struct json_doc *d)
{
	char num[32];
	uint32_t i;
	size_t n, m;
	int64_t v;

	for (i = 0; i < d->ntok; i++) {
		const struct json_tok *t = &d->tok[i];

		if (t->type == JSON_STRING && t->len <= sizeof dec) {
			if (json_get_string(d, i, dec, sizeof dec, &n) != 0 ||
			    n > t->len)
				abort();
			write_read(dec, n, 0);
			/* One byte short must fail. */
			if (n > 0 && json_get_string(d, i, dec, n - 1, &m) == 0)
				abort();
			if (json_get_b64(d, i, dec, sizeof dec, &m) == 0 &&
			    m > n)
				abort();
		} else if (t->type == JSON_NUMBER && t->is_int) {
			if (t->len >= sizeof num)
				abort();
			memcpy(num, d->text + t->pos, t->len);
			num[t->len] = '\0';
			if (json_get_int(d, i, &v) != 0 ||
			    v != strtoll(num, NULL, 10))
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_doc d;

	if (json_parse(&d, (const char *)data, size, tok, MAXTOK) == 0) {
		if (d.ntok == 0 || check_value(&d, 0) != d.ntok)
			abort();
		check_scalars(&d);
	} else if (d.err == NULL || d.err_pos > size) {
		abort();
	}
	write_read(data, size, 0);
	write_read(data, size, 1);
	return 0;
}
