/*
 * json.h - JSON output for byte strings that may not be UTF-8, and a
 * strict reader for one JSON text held in memory.
 *
 * Byte strings travel as JSON strings: valid UTF-8 as itself, every
 * other byte X as the escape \udcXX (X in 80..ff), the "surrogateescape"
 * convention.  The reader maps a lone \udc80..\udcff back to that byte,
 * so any byte string makes the round trip.
 */
#ifndef REMOWT_JSON_H
#define REMOWT_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Writing. */

/* A JSON string: valid UTF-8 as is, any other byte as \udcXX. */
void json_bytes(FILE *f, const void *data, size_t n);
void json_str(FILE *f, const char *s);
/* A JSON string holding the base64 (RFC 4648, padded) of the bytes. */
void json_b64(FILE *f, const void *data, size_t n);

/*
 * Reading (RFC 8259), into an array of tokens the caller provides; it
 * never allocates.  Strict:
 *  - strings: all escapes, surrogate pairs; raw bytes must be valid
 *    UTF-8 (no overlong forms, no encoded surrogates, nothing above
 *    U+10FFFF) and control characters must be escaped.  A lone
 *    \udc80..\udcff is the byte 80..ff; any other lone surrogate is an
 *    error.
 *  - numbers: the RFC grammar (no leading zeros, no '+', no bare '.');
 *    one written without fraction or exponent that fits in int64 is an
 *    integer, others are numbers without an integer value.
 *  - at most JSON_MAX_DEPTH nested arrays and objects, at most the
 *    caller's number of tokens, and nothing but whitespace after the
 *    value.  Duplicate member names are kept; json_member finds the
 *    first.
 *  - texts longer than JSON_MAX_TEXT bytes are refused.
 */
#define JSON_MAX_DEPTH	32
#define JSON_MAX_TEXT	(UINT32_MAX - 1)

enum json_type {
	JSON_NULL = 1,
	JSON_FALSE,
	JSON_TRUE,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT
};

/*
 * One value.  Tokens are in document order; a container is followed by
 * its contents (an object's as name, value, name, value...), and end
 * is the index of the first token after all it holds.
 */
struct json_tok {
	uint8_t type;		/* enum json_type */
	uint8_t is_int;		/* JSON_NUMBER: ival holds it exactly */
	uint32_t pos, len;	/* its text; a string's without the quotes */
	uint32_t size;		/* elements of an array, members of an object */
	uint32_t end;
	int64_t ival;
};

struct json_doc {
	const char *text;
	size_t len;
	struct json_tok *tok;
	uint32_t ntok, maxtok;
	const char *err;	/* why parsing failed */
	size_t err_pos;		/* and at which byte of the text */
};

/* Parse text[0..len): 0, or -1 with err and err_pos set. */
int json_parse(struct json_doc *d, const char *text, size_t len,
    struct json_tok *tok, size_t maxtok);

/*
 * Accessors.  Indexes are checked: a token that is missing or of the
 * wrong type gives 0 (for indexes) or -1.  Index 0 is the whole text,
 * never an element or a member, so 0 also means "none".
 */
int json_type(const struct json_doc *d, uint32_t i);
/* The value of the first member called key of object obj. */
uint32_t json_member(const struct json_doc *d, uint32_t obj,
    const char *key);
/* The first element of an array, the first member name of an object. */
uint32_t json_first(const struct json_doc *d, uint32_t i);
/* The token after value i and all it holds: in a container, the next
 * element or member name while there is one (count them with size). */
uint32_t json_next(const struct json_doc *d, uint32_t i);
/* String i decoded into out[0..cap); the length in *n.  At most the
 * token's len bytes are ever needed. */
int json_get_string(const struct json_doc *d, uint32_t i, void *out,
    size_t cap, size_t *n);
/* String i holds exactly the bytes of s. */
int json_string_is(const struct json_doc *d, uint32_t i, const char *s);
/* String i holds base64 (RFC 4648, padded, no whitespace); decoded. */
int json_get_b64(const struct json_doc *d, uint32_t i, void *out,
    size_t cap, size_t *n);
int json_get_int(const struct json_doc *d, uint32_t i, int64_t *v);
int json_get_bool(const struct json_doc *d, uint32_t i, int *v);

#endif
