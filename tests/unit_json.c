/*
 * unit_json.c - the JSON reader and writer of json.c.
 *
 *  - documents that must parse, with their tokens, members, integers
 *    and decoded strings checked;
 *  - documents that must not, each with the byte where it goes wrong:
 *    grammar, numbers, escapes, lone surrogates, invalid UTF-8, depth,
 *    token limit, trailing garbage;
 *  - accessors given wrong indexes, types and sizes;
 *  - base64 in both directions;
 *  - bytes written by json_bytes / json_b64 and read back, for every
 *    single byte and for many random strings.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define MAXTOK	256

static int failures;
static struct json_tok tok[MAXTOK];

static void check(int cond, const char *name, const char *why)
{
	if (cond) {
		printf("ok - %s\n", name);
	} else {
		printf("not ok - %s: %s\n", name, why);
		failures++;
	}
	fflush(stdout);
}

static const char *fmt(const char *f, ...)
{
	static char buf[8][512];
	static int i;
	va_list ap;

	i = (i + 1) % 8;
	va_start(ap, f);
	vsnprintf(buf[i], sizeof buf[i], f, ap);
	va_end(ap);
	return buf[i];
}

/* Printable form of bytes, for names and messages. */
static const char *shown(const char *p, size_t n)
{
	static char buf[4][200];
	static int k;
	size_t i, o = 0;

	k = (k + 1) % 4;
	for (i = 0; i < n && o + 5 < sizeof buf[k]; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 0x20 && c < 0x7f)
			buf[k][o++] = (char)c;
		else
			o += (size_t)snprintf(buf[k] + o, sizeof buf[k] - o,
			    "\\x%02x", c);
	}
	buf[k][o] = '\0';
	return buf[k];
}

static int parse(struct json_doc *d, const char *s, size_t n)
{
	return json_parse(d, s, n, tok, MAXTOK);
}

/* A string that must decode to want[0..wn). */
static void t_string(const char *text, const char *want, size_t wn)
{
	struct json_doc d;
	char out[64];
	size_t n;
	const char *name = fmt("string %s", shown(text, strlen(text)));

	if (parse(&d, text, strlen(text)) != 0) {
		check(0, name, fmt("refused: %s at %zu", d.err, d.err_pos));
		return;
	}
	if (json_get_string(&d, 0, out, sizeof out, &n) != 0) {
		check(0, name, "json_get_string failed");
		return;
	}
	check(n == wn && memcmp(out, want, n) == 0, name,
	    fmt("got '%s'", shown(out, n)));
}

/* A text that must be refused at byte pos with a message holding why. */
static void t_bad(const char *text, size_t len, size_t pos, const char *why)
{
	struct json_doc d;
	const char *name = fmt("refused: %s", shown(text, len));

	if (parse(&d, text, len) == 0) {
		check(0, name, "accepted");
		return;
	}
	check(d.err_pos == pos && d.err != NULL && strstr(d.err, why) != NULL,
	    name, fmt("error '%s' at %zu, expected '%s' at %zu", d.err,
	    d.err_pos, why, pos));
}

static void t_bad0(const char *text, size_t pos, const char *why)
{
	t_bad(text, strlen(text), pos, why);
}

static void t_structure(void)
{
	static const char text[] =
	    " {\"a\": 1, \"b\" :[true,false, null ,[]], \"c\":{\"d\":\"e\"},"
	    "\"a\":2, \"\\u0061\\u0062\":-7}\r\n";
	struct json_doc d;
	uint32_t b, c, e, k;
	int64_t v = 0;
	int t = 0, f = 1;
	char out[8];
	size_t n = 0;

	if (parse(&d, text, strlen(text)) != 0) {
		check(0, "object parses", fmt("%s at %zu", d.err, d.err_pos));
		return;
	}
	check(json_type(&d, 0) == JSON_OBJECT && d.tok[0].size == 5 &&
	    d.tok[0].end == d.ntok, "root: an object of 5 members",
	    fmt("type %d size %u", json_type(&d, 0), d.tok[0].size));
	check(json_get_int(&d, json_member(&d, 0, "a"), &v) == 0 && v == 1,
	    "duplicate names: the first wins", fmt("a = %lld", (long long)v));
	check(json_get_int(&d, json_member(&d, 0, "ab"), &v) == 0 && v == -7,
	    "member names are compared decoded", fmt("ab = %lld",
	    (long long)v));
	b = json_member(&d, 0, "b");
	check(json_type(&d, b) == JSON_ARRAY && d.tok[b].size == 4,
	    "array of 4", fmt("type %d size %u", json_type(&d, b),
	    d.tok[b].size));
	e = json_first(&d, b);
	check(json_get_bool(&d, e, &t) == 0 && t == 1 &&
	    json_get_bool(&d, json_next(&d, e), &f) == 0 && f == 0,
	    "booleans", "true/false not read");
	e = json_next(&d, json_next(&d, e));
	check(json_type(&d, e) == JSON_NULL &&
	    json_type(&d, json_next(&d, e)) == JSON_ARRAY &&
	    json_first(&d, json_next(&d, e)) == 0, "null, then an empty array",
	    "wrong");
	c = json_member(&d, 0, "c");
	k = json_member(&d, c, "d");
	check(json_get_string(&d, k, out, sizeof out, &n) == 0 && n == 1 &&
	    out[0] == 'e', "nested member", "not found");
	check(json_member(&d, 0, "zz") == 0 && json_member(&d, b, "a") == 0 &&
	    json_member(&d, 0, "") == 0, "missing members and non-objects",
	    "found something");
	check(json_next(&d, c) == c + 3 && d.tok[c].end == c + 3,
	    "end skips a container", fmt("end %u", d.tok[c].end));
	check(d.tok[c].len == 9 && d.text[d.tok[c].pos] == '{',
	    "container text span", fmt("len %u", d.tok[c].len));
}

static void t_scalars(void)
{
	struct json_doc d;
	int64_t v;
	char s[4];
	size_t n;

	check(parse(&d, " null ", 6) == 0 && json_type(&d, 0) == JSON_NULL,
	    "top-level null", "refused");
	check(parse(&d, "\"\"", 2) == 0 &&
	    json_get_string(&d, 0, s, 0, &n) == 0 && n == 0,
	    "empty string, zero-size buffer", "refused");
	check(parse(&d, "42", 2) == 0 && json_get_int(&d, 0, &v) == 0 &&
	    v == 42, "top-level number", "refused");
	check(parse(&d, "[[[]]]", 6) == 0 && d.ntok == 3 &&
	    d.tok[0].end == 3 && d.tok[1].end == 3 && d.tok[2].end == 3,
	    "nested empty arrays", fmt("ntok %u", d.ntok));
}

struct num {
	const char *text;
	int is_int;
	int64_t v;
};

static void t_numbers(void)
{
	static const struct num nums[] = {
		{ "0", 1, 0 }, { "-0", 1, 0 }, { "7", 1, 7 },
		{ "-123", 1, -123 },
		{ "9223372036854775807", 1, INT64_MAX },
		{ "-9223372036854775808", 1, INT64_MIN },
		{ "9223372036854775808", 0, 0 },
		{ "-9223372036854775809", 0, 0 },
		{ "18446744073709551616", 0, 0 },
		{ "1.5", 0, 0 }, { "1e3", 0, 0 }, { "1E+3", 0, 0 },
		{ "-0.0e-2", 0, 0 }, { "10.0", 0, 0 },
	};
	static const char *bad[] = { "01", "-", "+1", ".5", "1.", "1e",
	    "1e+", "0x10", "--1", "-a", "1.e5", "NaN", "Infinity", "-01" };
	struct json_doc d;
	int64_t v;
	size_t k;
	int rc;

	for (k = 0; k < sizeof nums / sizeof nums[0]; k++) {
		v = -1;
		rc = parse(&d, nums[k].text, strlen(nums[k].text));
		check(rc == 0 && json_type(&d, 0) == JSON_NUMBER &&
		    d.tok[0].is_int == nums[k].is_int &&
		    (json_get_int(&d, 0, &v) == 0) == nums[k].is_int &&
		    (!nums[k].is_int || v == nums[k].v),
		    fmt("number %s", nums[k].text),
		    fmt("rc %d is_int %d v %lld", rc, d.tok[0].is_int,
		    (long long)v));
	}
	for (k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		rc = parse(&d, bad[k], strlen(bad[k]));
		check(rc != 0, fmt("bad number %s", bad[k]), "accepted");
	}
}

static void t_strings(void)
{
	t_string("\"abc\"", "abc", 3);
	t_string("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t", 8);
	t_string("\"\\u0041\\u00e9\"", "A\xc3\xa9", 3);
	t_string("\"\\u20AC\"", "\xe2\x82\xac", 3);
	t_string("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", 4);
	t_string("\"\\uDBFF\\uDFFF\"", "\xf4\x8f\xbf\xbf", 4);
	t_string("\"\\u0000\"", "\0", 1);
	t_string("\"\\udcff\\udc80x\"", "\xff\x80x", 3);
	t_string("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"",
	    "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9);
	t_string("\"\x7f\"", "\x7f", 1);
	/* A pair wins over the byte escape of its low half. */
	t_string("\"\\ud800\\udc80\"", "\xf0\x90\x82\x80", 4);

	t_bad0("\"\\ud800\"", 1, "unpaired surrogate");
	t_bad0("\"\\ud800x\"", 1, "unpaired surrogate");
	t_bad0("\"\\ud800\\u0041\"", 1, "unpaired surrogate");
	t_bad0("\"\\ud800\\ud800\"", 1, "unpaired surrogate");
	t_bad0("\"\\udc00\"", 1, "unpaired surrogate");
	t_bad0("\"\\udc7f\"", 1, "unpaired surrogate");
	t_bad0("\"\\ude00\"", 1, "unpaired surrogate");
	t_bad0("\"ab\\u12\"", 3, "bad \\u escape");
	t_bad0("\"\\uZZZZ\"", 1, "bad \\u escape");
	t_bad0("\"\\x\"", 1, "bad escape");
	t_bad0("\"\\", 1, "unterminated");
	t_bad0("\"abc", 4, "unterminated");
	t_bad0("\"a\x01\"", 2, "control character");
	t_bad0("\"a\tb\"", 2, "control character");
	t_bad0("\"a\nb\"", 2, "control character");
	t_bad("\"a\0b\"", 5, 2, "control character");
	t_bad0("\"\x80\"", 1, "invalid UTF-8");
	t_bad0("\"x\xc0\x80\"", 2, "invalid UTF-8");
	t_bad0("\"\xc1\xbf\"", 1, "invalid UTF-8");
	t_bad0("\"\xe0\x80\x80\"", 1, "invalid UTF-8");
	t_bad0("\"\xed\xa0\x80\"", 1, "invalid UTF-8");
	t_bad0("\"\xf0\x80\x80\x80\"", 1, "invalid UTF-8");
	t_bad0("\"\xf4\x90\x80\x80\"", 1, "invalid UTF-8");
	t_bad0("\"\xf5\x80\x80\x80\"", 1, "invalid UTF-8");
	t_bad0("\"\xff\"", 1, "invalid UTF-8");
	t_bad0("\"\xe2\x82\"", 1, "invalid UTF-8");
	t_bad0("\"\xe2\x82", 1, "invalid UTF-8");
}

static void t_grammar(void)
{
	t_bad0("", 0, "unexpected end");
	t_bad0("  ", 2, "unexpected end");
	t_bad0("{", 1, "expected a member name");
	t_bad0("[", 1, "unexpected end");
	t_bad0("[1,]", 3, "unexpected character");
	t_bad0("[,1]", 1, "unexpected character");
	t_bad0("{\"a\"}", 4, "expected ':'");
	t_bad0("{\"a\":}", 5, "unexpected character");
	t_bad0("{a:1}", 1, "expected a member name");
	t_bad0("{\"a\":1,}", 7, "expected a member name");
	t_bad0("{\"a\":1 \"b\":2}", 7, "expected ',' or '}'");
	t_bad0("[1 2]", 3, "expected ',' or ']'");
	t_bad0("[1}", 2, "expected ',' or ']'");
	t_bad0("{} {}", 3, "garbage after the value");
	t_bad0("{}x", 2, "garbage after the value");
	t_bad0("[1]]", 3, "garbage after the value");
	t_bad0("1 2", 2, "garbage after the value");
	t_bad0("tru", 0, "unexpected character");
	t_bad0("nul", 0, "unexpected character");
	t_bad0("True", 0, "unexpected character");
	t_bad0("'a'", 0, "unexpected character");
	t_bad0("truex", 4, "garbage after the value");
	t_bad0("\xef\xbb\xbf{}", 0, "unexpected character");
	t_bad0("{}\f", 2, "garbage after the value");
	t_bad("{}\0", 3, 2, "garbage after the value");
}

static void t_limits(void)
{
	char deep[2 * JSON_MAX_DEPTH + 8];
	struct json_doc d;
	size_t n;
	int rc;

	memset(deep, '[', JSON_MAX_DEPTH);
	memset(deep + JSON_MAX_DEPTH, ']', JSON_MAX_DEPTH);
	n = 2 * JSON_MAX_DEPTH;
	rc = parse(&d, deep, n);
	check(rc == 0, fmt("%d nested arrays", JSON_MAX_DEPTH),
	    rc == 0 ? "" : fmt("%s at %zu", d.err, d.err_pos));
	memset(deep, '[', JSON_MAX_DEPTH + 1);
	memset(deep + JSON_MAX_DEPTH + 1, ']', JSON_MAX_DEPTH + 1);
	t_bad(deep, n + 2, JSON_MAX_DEPTH, "nested too deep");
	memset(deep, '[', JSON_MAX_DEPTH);
	memcpy(deep + JSON_MAX_DEPTH, "{\"a\":", 5);
	t_bad(deep, JSON_MAX_DEPTH + 5, JSON_MAX_DEPTH, "nested too deep");

	check(json_parse(&d, "[1,2,3]", 7, tok, 4) == 0 && d.ntok == 4,
	    "exactly as many tokens as allowed", "refused");
	rc = json_parse(&d, "[1,2,3]", 7, tok, 3);
	check(rc != 0 && d.err_pos == 5 && strcmp(d.err, "too many values") ==
	    0, "one token too many", rc == 0 ? "accepted" : fmt("%s at %zu",
	    d.err, d.err_pos));
	check(json_parse(&d, "{}", 2, tok, 0) != 0, "no tokens at all",
	    "accepted");
	/* Refused before a byte is read. */
	check(json_parse(&d, "", (size_t)UINT32_MAX, tok, MAXTOK) != 0 &&
	    strcmp(d.err, "text too long") == 0, "a text over 4 GiB",
	    "accepted");
}

static void t_accessors(void)
{
	struct json_doc d;
	char out[8];
	size_t n;
	int64_t v;
	int bv;

	parse(&d, "{\"s\":\"abcdef\",\"n\":1.5,\"t\":true}", 31);
	check(json_type(&d, 99) == -1 && json_type(NULL, 0) == -1,
	    "type of a token that is not there", "not -1");
	check(json_get_string(&d, 99, out, sizeof out, &n) != 0 &&
	    json_get_string(&d, 0, out, sizeof out, &n) != 0 &&
	    json_get_string(&d, json_member(&d, 0, "n"), out, sizeof out,
	    &n) != 0, "string of a wrong index or type", "accepted");
	check(json_get_string(&d, json_member(&d, 0, "s"), out, 5, &n) != 0,
	    "string longer than the buffer", "accepted");
	check(json_get_string(&d, json_member(&d, 0, "s"), out, 6, &n) == 0 &&
	    n == 6, "string exactly the buffer", "refused");
	check(json_get_int(&d, json_member(&d, 0, "n"), &v) != 0 &&
	    json_get_int(&d, json_member(&d, 0, "s"), &v) != 0 &&
	    json_get_int(&d, 1000, &v) != 0, "int of a fraction, a string, "
	    "nothing", "accepted");
	check(json_get_bool(&d, json_member(&d, 0, "t"), &bv) == 0 && bv &&
	    json_get_bool(&d, json_member(&d, 0, "s"), &bv) != 0,
	    "bool of true and of a string", "wrong");
	check(json_first(&d, 1) == 0 && json_first(&d, 1000) == 0 &&
	    json_next(&d, 0) == 0 && json_next(&d, 1000) == 0 &&
	    json_next(&d, d.ntok - 1) == 0, "first and next out of range",
	    "not 0");
	check(json_member(&d, 1000, "s") == 0 && json_member(NULL, 0, "s") == 0,
	    "member of nothing", "not 0");
	check(!json_string_is(&d, json_member(&d, 0, "s"), "abcde") &&
	    !json_string_is(&d, json_member(&d, 0, "s"), "abcdefg") &&
	    json_string_is(&d, json_member(&d, 0, "s"), "abcdef"),
	    "string_is compares whole strings", "wrong");
}

static void t_base64(void)
{
	static const struct {
		const char *in, *out;
	} good[] = { { "", "" }, { "Zg==", "f" }, { "Zm8=", "fo" },
	    { "Zm9v", "foo" }, { "Zm9vYmFy", "foobar" },
	    { "Zm9vYg==", "foob" }, { "/+8=", "\xff\xef" } };
	static const char *bad[] = { "Zg=", "Zh==", "Zm9=", "Z===", "Zm9v\\n",
	    "Zm 9v", "=Zm9", "Zg==Zg==", "Zm9v=", "Zm-v", "Zm9v====" };
	struct json_doc d;
	char text[64], out[64];
	size_t k, n;

	for (k = 0; k < sizeof good / sizeof good[0]; k++) {
		snprintf(text, sizeof text, "\"%s\"", good[k].in);
		check(parse(&d, text, strlen(text)) == 0 &&
		    json_get_b64(&d, 0, out, sizeof out, &n) == 0 &&
		    n == strlen(good[k].out) &&
		    memcmp(out, good[k].out, n) == 0,
		    fmt("base64 %s", good[k].in), "wrong");
	}
	for (k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		snprintf(text, sizeof text, "\"%s\"", bad[k]);
		check(parse(&d, text, strlen(text)) == 0 &&
		    json_get_b64(&d, 0, out, sizeof out, &n) != 0,
		    fmt("bad base64 %s", bad[k]), "accepted");
	}
	parse(&d, "\"Zm9v\"", 6);
	check(json_get_b64(&d, 0, out, 3, &n) != 0, "base64: room for the "
	    "text is needed", "accepted");
}

/* json_bytes and json_b64 of p[0..n), read back. */
static int round_trip(const uint8_t *p, size_t n, const char **why)
{
	static uint8_t out[4096];
	struct json_doc d;
	char *text = NULL;
	size_t tlen = 0, m;
	FILE *f;
	int pass, ok = 1;

	for (pass = 0; pass < 2 && ok; pass++) {
		if ((f = open_memstream(&text, &tlen)) == NULL)
			abort();
		if (pass == 0)
			json_bytes(f, p, n);
		else
			json_b64(f, p, n);
		fclose(f);
		if (parse(&d, text, tlen) != 0) {
			*why = fmt("%s: '%s' refused: %s at %zu", pass ?
			    "b64" : "bytes", shown(text, tlen), d.err,
			    d.err_pos);
			ok = 0;
		} else if ((pass == 0 ? json_get_string(&d, 0, out, sizeof out,
		    &m) : json_get_b64(&d, 0, out, sizeof out, &m)) != 0 ||
		    m != n || memcmp(out, p, n) != 0) {
			*why = fmt("%s: '%s' came back different", pass ?
			    "b64" : "bytes", shown(text, tlen));
			ok = 0;
		}
		free(text);
		text = NULL;
	}
	return ok;
}

static void t_round_trips(void)
{
	static const char *samples[] = { "", "plain", "\"quoted\\\"",
	    "tab\there\nnl", "\xc3\xa9t\xc3\xa9", "\xed\xa0\x80",
	    "\xf0\x9f\x98\x80\xff", "\xc3", "a\0b", "\x7f\x1f" };
	uint8_t buf[300];
	const char *why = "";
	size_t k, i, n;
	int ok = 1;
	uint32_t seed = 12345;

	for (k = 0; k < 256 && ok; k++) {
		buf[0] = (uint8_t)k;
		ok = round_trip(buf, 1, &why);
	}
	check(ok, "every single byte makes the round trip", why);
	for (k = 0; k < sizeof samples / sizeof samples[0]; k++) {
		n = k == 8 ? 3 : strlen(samples[k]);
		check(round_trip((const uint8_t *)samples[k], n, &why),
		    fmt("round trip of '%s'", shown(samples[k], n)), why);
	}
	ok = 1;
	for (k = 0; k < 20000 && ok; k++) {
		seed = seed * 1103515245 + 12345;
		n = (seed >> 8) % sizeof buf;
		for (i = 0; i < n; i++) {
			seed = seed * 1103515245 + 12345;
			/* Mostly UTF-8-ish bytes, so that valid sequences
			 * and near misses both turn up. */
			buf[i] = (uint8_t)((seed >> 16) % 4 == 0 ?
			    0x80 + (seed >> 8) % 0x78 : (seed >> 16) & 0xff);
		}
		ok = round_trip(buf, n, &why);
	}
	check(ok, "20000 random byte strings make the round trip", why);
}

int main(void)
{
	t_structure();
	t_scalars();
	t_numbers();
	t_strings();
	t_grammar();
	t_limits();
	t_accessors();
	t_base64();
	t_round_trips();
	return failures != 0;
}
