#ifndef RELAYGATE_JSON_H
#define RELAYGATE_JSON_H

/*
 * json - writing JSON (RFC 8259) for command output meant for scripts.
 *
 * MODEL
 *	A writer streams one JSON text to a FILE: objects and arrays are
 *	opened and closed explicitly, members are written with their key
 *	(inside an object) or without (inside an array, or the top value);
 *	commas, indentation (two spaces per level) and escaping are the
 *	writer's.  Strings are escaped as RFC 8259 section 7 requires;
 *	bytes that are not valid UTF-8 become U+FFFD, so the output is
 *	always valid JSON whatever a DNS answer held.  Only writing: nothing
 *	here parses JSON.
 *
 * OWNERSHIP
 *	json_open() returns a writer freed by json_close(), which does not
 *	close the FILE.  Keys and values are borrowed for the call.
 *
 * CONCURRENCY
 *	One writer per thread.
 *
 * ERRORS
 *	Nesting deeper than JSON_MAX_DEPTH, closing what is not open, or a
 *	key where none belongs are programming errors: panic.  Write errors
 *	are the FILE's (ferror()).
 */

#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json;

/* json_open - a writer of one JSON text to out */
struct json *json_open(FILE *out);

/* json_close - end the text with a newline and free; NULL is fine */
void json_close(struct json *j);

/* json_object, json_array - open one (key: NULL in an array or on top) */
void json_object(struct json *j, const char *key);
void json_array(struct json *j, const char *key);

/* json_end - close the innermost open object or array */
void json_end(struct json *j);

/* json_string - a string member; value NULL writes null */
void json_string(struct json *j, const char *key, const char *value);

/* json_int - a number member */
void json_int(struct json *j, const char *key, int64_t value);

/* json_bool - true or false */
void json_bool(struct json *j, const char *key, int value);

/* json_null - null */
void json_null(struct json *j, const char *key);

#endif
