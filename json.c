/*
 * json.c - JSON output for byte strings that may not be UTF-8, and a
 * strict reader (see json.h).
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

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void json_b64(FILE *f, const void *data, size_t n)
{
	const uint8_t *p = data;
	char out[256];
	size_t o = 0;
	uint32_t v;

	fputc('"', f);
	while (n > 0) {
		v = (uint32_t)p[0] << 16;
		if (n > 1)
			v |= (uint32_t)p[1] << 8;
		if (n > 2)
			v |= p[2];
		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = n > 1 ? b64_alphabet[(v >> 6) & 63] : '=';
		out[o++] = n > 2 ? b64_alphabet[v & 63] : '=';
		p += n > 3 ? 3 : n;
		n -= n > 3 ? 3 : n;
		if (o + 4 > sizeof out) {
			fwrite(out, 1, o, f);
			o = 0;
		}
	}
	fwrite(out, 1, o, f);
	fputc('"', f);
}

/* Reading. */

static size_t skip_ws(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
	    s[i] == '\r'))
		i++;
	return i;
}

static int parse_fail(struct json_doc *d, size_t pos, const char *why)
{
	d->err = why;
	d->err_pos = pos;
	return -1;
}

static int new_tok(struct json_doc *d, int type, size_t pos, uint32_t *out)
{
	struct json_tok *t;

	if (d->ntok >= d->maxtok)
		return parse_fail(d, pos, "too many values");
	t = &d->tok[d->ntok];
	memset(t, 0, sizeof *t);
	t->type = (uint8_t)type;
	t->pos = (uint32_t)pos;
	*out = d->ntok++;
	t->end = d->ntok;
	return 0;
}

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The four hex digits at s[i..i+4), if there are four. */
static int hex4(const uint8_t *s, size_t n, size_t i, uint32_t *v)
{
	size_t k;
	int h;

	if (i > n || n - i < 4)
		return -1;
	*v = 0;
	for (k = 0; k < 4; k++) {
		if ((h = hexval(s[i + k])) < 0)
			return -1;
		*v = (*v << 4) | (uint32_t)h;
	}
	return 0;
}

/* A \u escape at s[i] (the backslash), with its low half if it has one:
 * the code point (or 0xdc80..0xdcff for a byte) and its length. */
static int uescape(const uint8_t *s, size_t n, size_t i, uint32_t *cp,
    size_t *len)
{
	uint32_t u, lo;

	if (hex4(s, n, i + 2, &u) != 0)
		return -1;
	*len = 6;
	if (u >= 0xd800 && u <= 0xdbff) {
		if (n - i < 12 || s[i + 6] != '\\' || s[i + 7] != 'u' ||
		    hex4(s, n, i + 8, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
			return -1;
		u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
		*len = 12;
	} else if (u >= 0xdc00 && u <= 0xdfff && (u < 0xdc80 || u > 0xdcff)) {
		return -1;
	}
	*cp = u;
	return 0;
}

static int simple_escape(uint8_t c, uint8_t *out)
{
	switch (c) {
	case '"':
	case '\\':
	case '/':
		*out = c;
		return 0;
	case 'b':
		*out = '\b';
		return 0;
	case 'f':
		*out = '\f';
		return 0;
	case 'n':
		*out = '\n';
		return 0;
	case 'r':
		*out = '\r';
		return 0;
	case 't':
		*out = '\t';
		return 0;
	default:
		return -1;
	}
}

/* A string at text[*ip] == '"': checked, *ip moved past its end. */
static int parse_string(struct json_doc *d, size_t *ip, uint32_t *out)
{
	const uint8_t *s = (const uint8_t *)d->text;
	size_t i = *ip + 1, n = d->len, k;
	uint32_t cp;
	uint8_t c;

	if (new_tok(d, JSON_STRING, i, out) != 0)
		return -1;
	for (;;) {
		if (i >= n)
			return parse_fail(d, i, "unterminated string");
		if (s[i] == '"')
			break;
		if (s[i] < 0x20)
			return parse_fail(d, i, "control character in a string");
		if (s[i] >= 0x80) {
			if ((k = utf8_len(s + i, n - i)) == 0)
				return parse_fail(d, i, "invalid UTF-8");
			i += k;
		} else if (s[i] != '\\') {
			i++;
		} else if (i + 1 >= n) {
			return parse_fail(d, i, "unterminated string");
		} else if (simple_escape(s[i + 1], &c) == 0) {
			i += 2;
		} else if (s[i + 1] == 'u') {
			if (uescape(s, n, i, &cp, &k) != 0)
				return parse_fail(d, i, hex4(s, n, i + 2, &cp) ?
				    "bad \\u escape" : "unpaired surrogate");
			i += k;
		} else {
			return parse_fail(d, i, "bad escape");
		}
	}
	d->tok[*out].len = (uint32_t)(i - d->tok[*out].pos);
	*ip = i + 1;
	return 0;
}

static int is_digit(const char *s, size_t n, size_t i)
{
	return i < n && s[i] >= '0' && s[i] <= '9';
}

static size_t skip_digits(const char *s, size_t n, size_t i)
{
	while (is_digit(s, n, i))
		i++;
	return i;
}

/* int64 if the integer part fits and there is no fraction or exponent. */
static void number_value(struct json_tok *t, const char *s)
{
	uint64_t mag = 0, lim = INT64_MAX;
	uint32_t i = 0, d;

	if (s[0] == '-') {
		lim = (uint64_t)INT64_MAX + 1;
		i = 1;
	}
	for (; i < t->len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return;
		d = (uint32_t)(s[i] - '0');
		if (mag > (lim - d) / 10)
			return;
		mag = mag * 10 + d;
	}
	t->is_int = 1;
	if (s[0] != '-')
		t->ival = (int64_t)mag;
	else if (mag == (uint64_t)INT64_MAX + 1)
		t->ival = INT64_MIN;
	else
		t->ival = -(int64_t)mag;
}

static int parse_number(struct json_doc *d, size_t *ip, uint32_t *out)
{
	const char *s = d->text;
	size_t i = *ip, n = d->len;

	if (new_tok(d, JSON_NUMBER, i, out) != 0)
		return -1;
	if (s[i] == '-')
		i++;
	if (!is_digit(s, n, i))
		return parse_fail(d, i, "bad number");
	i = s[i] == '0' ? i + 1 : skip_digits(s, n, i);
	if (i < n && s[i] == '.') {
		if (!is_digit(s, n, ++i))
			return parse_fail(d, i, "bad number");
		i = skip_digits(s, n, i);
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (!is_digit(s, n, i))
			return parse_fail(d, i, "bad number");
		i = skip_digits(s, n, i);
	}
	d->tok[*out].len = (uint32_t)(i - *ip);
	number_value(&d->tok[*out], s + *ip);
	*ip = i;
	return 0;
}

static int parse_literal(struct json_doc *d, size_t *ip, uint32_t *out)
{
	static const struct {
		const char *word;
		int type;
	} lits[] = { { "null", JSON_NULL }, { "false", JSON_FALSE },
	    { "true", JSON_TRUE } };
	size_t k, wl;

	for (k = 0; k < sizeof lits / sizeof lits[0]; k++) {
		wl = strlen(lits[k].word);
		if (d->len - *ip >= wl &&
		    memcmp(d->text + *ip, lits[k].word, wl) == 0) {
			if (new_tok(d, lits[k].type, *ip, out) != 0)
				return -1;
			d->tok[*out].len = (uint32_t)wl;
			*ip += wl;
			return 0;
		}
	}
	return parse_fail(d, *ip, "unexpected character");
}

/* One value at text[*ip]; a container is only opened. */
static int parse_value(struct json_doc *d, size_t *ip, uint32_t *out)
{
	char c;

	if (*ip >= d->len)
		return parse_fail(d, *ip, "unexpected end");
	c = d->text[*ip];
	if (c == '{' || c == '[') {
		if (new_tok(d, c == '{' ? JSON_OBJECT : JSON_ARRAY, *ip,
		    out) != 0)
			return -1;
		++*ip;
		return 0;
	}
	if (c == '"')
		return parse_string(d, ip, out);
	if (c == '-' || (c >= '0' && c <= '9'))
		return parse_number(d, ip, out);
	return parse_literal(d, ip, out);
}

static char closer(const struct json_tok *t)
{
	return t->type == JSON_OBJECT ? '}' : ']';
}

/* The container t ends at text[i]. */
static void close_container(struct json_doc *d, uint32_t t, size_t i)
{
	d->tok[t].len = (uint32_t)(i + 1 - d->tok[t].pos);
	d->tok[t].end = d->ntok;
}

enum { WANT_VALUE, WANT_NAME, WANT_MORE };

/* A member name and its colon, in the object stack[depth - 1]. */
static int parse_name(struct json_doc *d, size_t *ip, uint32_t obj)
{
	uint32_t t;

	if (*ip >= d->len || d->text[*ip] != '"')
		return parse_fail(d, *ip, "expected a member name");
	if (parse_string(d, ip, &t) != 0)
		return -1;
	d->tok[obj].size++;
	*ip = skip_ws(d->text, d->len, *ip);
	if (*ip >= d->len || d->text[*ip] != ':')
		return parse_fail(d, *ip, "expected ':'");
	++*ip;
	return 0;
}

int json_parse(struct json_doc *d, const char *text, size_t len,
    struct json_tok *tok, size_t maxtok)
{
	uint32_t stack[JSON_MAX_DEPTH], t, top;
	size_t i = 0;
	int depth = 0, want = WANT_VALUE;

	memset(d, 0, sizeof *d);
	d->text = text;
	d->len = len;
	d->tok = tok;
	d->maxtok = maxtok > UINT32_MAX ? UINT32_MAX : (uint32_t)maxtok;
	if (len > JSON_MAX_TEXT)
		return parse_fail(d, 0, "text too long");
	for (;;) {
		i = skip_ws(text, len, i);
		if (want == WANT_NAME) {
			if (parse_name(d, &i, stack[depth - 1]) != 0)
				return -1;
			want = WANT_VALUE;
			continue;
		}
		if (want == WANT_VALUE) {
			if (parse_value(d, &i, &t) != 0)
				return -1;
			if (depth > 0 && tok[stack[depth - 1]].type == JSON_ARRAY)
				tok[stack[depth - 1]].size++;
			want = WANT_MORE;
			if (tok[t].type != JSON_ARRAY &&
			    tok[t].type != JSON_OBJECT)
				continue;
			if (depth == JSON_MAX_DEPTH)
				return parse_fail(d, i - 1, "nested too deep");
			stack[depth++] = t;
			i = skip_ws(text, len, i);
			if (i < len && text[i] == closer(&tok[t])) {
				close_container(d, t, i++);
				depth--;
			} else {
				want = tok[t].type == JSON_ARRAY ? WANT_VALUE :
				    WANT_NAME;
			}
			continue;
		}
		if (depth == 0) {
			if (i != len)
				return parse_fail(d, i, "garbage after the value");
			return 0;
		}
		top = stack[depth - 1];
		if (i < len && text[i] == ',') {
			i++;
			want = tok[top].type == JSON_ARRAY ? WANT_VALUE :
			    WANT_NAME;
		} else if (i < len && text[i] == closer(&tok[top])) {
			close_container(d, top, i++);
			depth--;
		} else {
			return parse_fail(d, i, tok[top].type == JSON_ARRAY ?
			    "expected ',' or ']'" : "expected ',' or '}'");
		}
	}
}

/* Accessors. */

static const struct json_tok *tok_at(const struct json_doc *d, uint32_t i,
    int type)
{
	if (d == NULL || i >= d->ntok || d->tok[i].type != type)
		return NULL;
	return &d->tok[i];
}

int json_type(const struct json_doc *d, uint32_t i)
{
	if (d == NULL || i >= d->ntok)
		return -1;
	return d->tok[i].type;
}

uint32_t json_first(const struct json_doc *d, uint32_t i)
{
	if (d == NULL || i >= d->ntok || (d->tok[i].type != JSON_ARRAY &&
	    d->tok[i].type != JSON_OBJECT) || d->tok[i].size == 0)
		return 0;
	return i + 1;
}

uint32_t json_next(const struct json_doc *d, uint32_t i)
{
	if (d == NULL || i == 0 || i >= d->ntok || d->tok[i].end >= d->ntok)
		return 0;
	return d->tok[i].end;
}

uint32_t json_member(const struct json_doc *d, uint32_t obj,
    const char *key)
{
	const struct json_tok *o = tok_at(d, obj, JSON_OBJECT);
	uint32_t k, m;

	if (o == NULL)
		return 0;
	for (k = obj + 1, m = 0; m < o->size && k + 1 < d->ntok; m++) {
		if (json_string_is(d, k, key))
			return k + 1;
		k = d->tok[k + 1].end;
	}
	return 0;
}

/* The next piece of a checked string at s[*i]: its bytes into out. */
static size_t str_unit(const uint8_t *s, size_t n, size_t *i, uint8_t out[4])
{
	uint32_t cp;
	size_t k;

	if (s[*i] != '\\') {
		if ((k = utf8_len(s + *i, n - *i)) == 0)
			k = 1;
		memcpy(out, s + *i, k);
		*i += k;
		return k;
	}
	if (*i + 1 < n && simple_escape(s[*i + 1], out) == 0) {
		*i += 2;
		return 1;
	}
	if (uescape(s, n, *i, &cp, &k) != 0) {
		out[0] = s[(*i)++];	/* not from json_parse: as is */
		return 1;
	}
	*i += k;
	if (cp >= 0xdc80 && cp <= 0xdcff) {
		out[0] = (uint8_t)(cp - 0xdc00);
		return 1;
	}
	if (cp < 0x80) {
		out[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (uint8_t)(0xc0 | (cp >> 6));
		out[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (uint8_t)(0xe0 | (cp >> 12));
		out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (uint8_t)(0xf0 | (cp >> 18));
	out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

int json_get_string(const struct json_doc *d, uint32_t i, void *out,
    size_t cap, size_t *n)
{
	const struct json_tok *t = tok_at(d, i, JSON_STRING);
	const uint8_t *s;
	uint8_t *o = out, u[4];
	size_t k = 0, len = 0, m;

	if (t == NULL)
		return -1;
	s = (const uint8_t *)d->text + t->pos;
	while (k < t->len) {
		m = str_unit(s, t->len, &k, u);
		if (cap - len < m)
			return -1;
		memcpy(o + len, u, m);
		len += m;
	}
	*n = len;
	return 0;
}

int json_string_is(const struct json_doc *d, uint32_t i, const char *str)
{
	const struct json_tok *t = tok_at(d, i, JSON_STRING);
	const uint8_t *s;
	size_t k = 0, len = 0, m, want = strlen(str);
	uint8_t u[4];

	if (t == NULL)
		return 0;
	s = (const uint8_t *)d->text + t->pos;
	while (k < t->len) {
		m = str_unit(s, t->len, &k, u);
		if (want - len < m || memcmp(str + len, u, m) != 0)
			return 0;
		len += m;
	}
	return len == want;
}

static int b64val(uint8_t c)
{
	const char *p;

	if (c == '\0' || (p = strchr(b64_alphabet, c)) == NULL)
		return -1;
	return (int)(p - b64_alphabet);
}

/* Decode base64 in place: canonical padding, zero spare bits. */
static int b64_decode(uint8_t *p, size_t n, size_t *outn)
{
	size_t i, o = 0, pad = 0;
	uint32_t v = 0;
	int k, x;

	if (n % 4 != 0)
		return -1;
	if (n > 0 && p[n - 1] == '=')
		pad = (n > 1 && p[n - 2] == '=') ? 2 : 1;
	for (i = 0; i < n; i += 4) {
		v = 0;
		for (k = 0; k < 4; k++) {
			if (i + 4 == n && k >= 4 - (int)pad) {
				v <<= 6;
				continue;
			}
			if ((x = b64val(p[i + k])) < 0)
				return -1;
			v = (v << 6) | (uint32_t)x;
		}
		p[o++] = (uint8_t)(v >> 16);
		if (i + 4 < n || pad < 2)
			p[o++] = (uint8_t)(v >> 8);
		if (i + 4 < n || pad < 1)
			p[o++] = (uint8_t)v;
	}
	if ((pad == 1 && (v & 0xff) != 0) || (pad == 2 && (v & 0xffff) != 0))
		return -1;
	*outn = o;
	return 0;
}

int json_get_b64(const struct json_doc *d, uint32_t i, void *out,
    size_t cap, size_t *n)
{
	size_t len;

	if (json_get_string(d, i, out, cap, &len) != 0)
		return -1;
	return b64_decode(out, len, n);
}

int json_get_int(const struct json_doc *d, uint32_t i, int64_t *v)
{
	const struct json_tok *t = tok_at(d, i, JSON_NUMBER);

	if (t == NULL || !t->is_int)
		return -1;
	*v = t->ival;
	return 0;
}

int json_get_bool(const struct json_doc *d, uint32_t i, int *v)
{
	if (d == NULL || i >= d->ntok || (d->tok[i].type != JSON_TRUE &&
	    d->tok[i].type != JSON_FALSE))
		return -1;
	*v = d->tok[i].type == JSON_TRUE;
	return 0;
}
