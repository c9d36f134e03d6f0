/*
 * json - a streaming JSON writer.
 */

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "util.h"

struct json {
	FILE *out;
	int depth;
	char kind[JSON_MAX_DEPTH]; /* '{' or '[' per open level */
	int count[JSON_MAX_DEPTH]; /* members written per open level */
	int top_written;
};

/* json_open - a writer */
struct json *
json_open(FILE *out)
{
	struct json *j = xcalloc(1, sizeof(*j));

	j->out = out;
	return j;
}

/* json_close - the final newline */
void
json_close(struct json *j)
{
	if (j == NULL)
		return;
	if (j->depth != 0)
		panic("json: %d levels left open", j->depth);
	fputc('\n', j->out);
	free(j);
}

/* json_utf8_len - length of the valid UTF-8 sequence at s, or 0 */
static size_t
json_utf8_len(const unsigned char *s)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/* json_escape - a string literal */
static void
json_escape(FILE *out, const char *value)
{
	const unsigned char *s = (const unsigned char *) value;

	fputc('"', out);
	while (*s != '\0') {
		size_t n;

		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", out);
		else if (*s == '\t')
			fputs("\\t", out);
		else if (*s < 0x20 || *s == 0x7f)
			fprintf(out, "\\u%04x", *s);
		else if (*s < 0x80)
			fputc(*s, out);
		else if ((n = json_utf8_len(s)) > 0) {
			fwrite(s, 1, n, out);
			s += n;
			continue;
		} else
			fputs("\\ufffd", out);
		s++;
	}
	fputc('"', out);
}

/* json_indent - newline and two spaces per level */
static void
json_indent(struct json *j, int depth)
{
	fputc('\n', j->out);
	for (int i = 0; i < depth; i++)
		fputs("  ", j->out);
}

/* json_member - the comma, indentation and key before a value */
static void
json_member(struct json *j, const char *key)
{
	if (j->depth == 0) {
		if (j->top_written || key != NULL)
			panic("json: a second top-level value, or a key");
		j->top_written = 1;
		return;
	}
	if ((j->kind[j->depth - 1] == '{') != (key != NULL))
		panic("json: key %s in %s", key ? key : "(none)",
		      j->kind[j->depth - 1] == '{' ? "an object" : "an array");
	if (j->count[j->depth - 1]++ > 0)
		fputc(',', j->out);
	json_indent(j, j->depth);
	if (key != NULL) {
		json_escape(j->out, key);
		fputs(": ", j->out);
	}
}

/* json_open_level - "{" or "[" */
static void
json_open_level(struct json *j, const char *key, char kind)
{
	json_member(j, key);
	if (j->depth == JSON_MAX_DEPTH)
		panic("json: nested deeper than %d", JSON_MAX_DEPTH);
	fputc(kind, j->out);
	j->kind[j->depth] = kind;
	j->count[j->depth] = 0;
	j->depth++;
}

/* json_object - open an object */
void
json_object(struct json *j, const char *key)
{
	json_open_level(j, key, '{');
}

/* json_array - open an array */
void
json_array(struct json *j, const char *key)
{
	json_open_level(j, key, '[');
}

/* json_end - close the innermost level */
void
json_end(struct json *j)
{
	if (j->depth == 0)
		panic("json: nothing open to close");
	j->depth--;
	if (j->count[j->depth] > 0)
		json_indent(j, j->depth);
	fputc(j->kind[j->depth] == '{' ? '}' : ']', j->out);
}

/* json_string - a string or null */
void
json_string(struct json *j, const char *key, const char *value)
{
	json_member(j, key);
	if (value == NULL)
		fputs("null", j->out);
	else
		json_escape(j->out, value);
}

/* json_int - a number */
void
json_int(struct json *j, const char *key, int64_t value)
{
	json_member(j, key);
	fprintf(j->out, "%" PRId64, value);
}

/* json_bool - true or false */
void
json_bool(struct json *j, const char *key, int value)
{
	json_member(j, key);
	fputs(value ? "true" : "false", j->out);
}

/* json_null - null */
void
json_null(struct json *j, const char *key)
{
	json_member(j, key);
	fputs("null", j->out);
}
