/*
 * json.h - JSON output for byte strings that may not be UTF-8.
 */
#ifndef REMOWT_JSON_H
#define REMOWT_JSON_H

#include <stddef.h>
#include <stdio.h>

/* A JSON string: valid UTF-8 as is, any other byte as \udcXX. */
void json_bytes(FILE *f, const void *data, size_t n);
void json_str(FILE *f, const char *s);

#endif
