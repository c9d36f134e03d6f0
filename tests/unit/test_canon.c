/*
 * test_canon - relaxed canonicalization: the examples of RFC 6376
 * section 3.4.5, header values as libmilter passes them (folded, tabs,
 * leading space, 8-bit), and bodies cut into chunks anywhere: every way
 * of cutting a body gives the same bytes as one chunk, and random bodies
 * of spaces, tabs, CRs, LFs, text and 8-bit bytes agree with a line-based
 * reference written independently from RFC 6376 section 3.4.4.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "canon.h"

/* What a body stream wrote: its sink appends here. */
struct out {
	unsigned char *p;
	size_t len;
	size_t calls;
};

/* out_sink - canon_sink that collects */
static void
out_sink(void *arg, const unsigned char *data, size_t len)
{
	struct out *o = arg;

	assert_true(len > 0 && len <= CANON_PIECE);
	o->p = realloc(o->p, o->len + len + 1);
	memcpy(o->p + o->len, data, len);
	o->len += len;
	o->p[o->len] = '\0';
	o->calls++;
}

/*
 * body_cut - canonicalize len bytes of text cut into chunks of the given
 * sizes (0-terminated, cycled; NULL: one chunk).  Returns malloc()ed
 * bytes (NUL-terminated) and their length.
 */
static unsigned char *
body_cut(const char *text, size_t len, const size_t *cuts, size_t *outlen)
{
	struct out o = {.p = calloc(1, 1)};
	struct canon_body *b = canon_body_new(out_sink, &o);
	size_t off = 0, c = 0;

	canon_body_update(b, (const unsigned char *) text, 0);
	while (off < len) {
		size_t n = cuts != NULL ? cuts[c++] : len;

		if (cuts != NULL && cuts[c] == 0)
			c = 0;
		if (n > len - off)
			n = len - off;
		canon_body_update(b, (const unsigned char *) text + off, n);
		off += n;
	}
	canon_body_final(b);
	canon_body_free(b);
	*outlen = o.len;
	return o.p;
}

/* assert_body - text (one chunk) canonicalizes to want */
static void
assert_body(const char *text, const char *want)
{
	size_t n;
	unsigned char *got = body_cut(text, strlen(text), NULL, &n);

	if (n != strlen(want) || memcmp(got, want, n) != 0)
		fail_msg("body [%s]: got [%s], want [%s]", text, got, want);
	free(got);
}

/* hdr - one field in relaxed form, as a C string in buf */
static const char *
hdr(char *buf, const char *name, const char *value, int crlf)
{
	size_t n =
	    canon_header(buf, name, strlen(name), value, strlen(value), crlf);

	assert_true(n <= canon_header_max(strlen(name), strlen(value)));
	buf[n] = '\0';
	return buf;
}

/* RFC 6376 section 3.4.5: the relaxed example, headers and body. */
static void
test_rfc_example(void **state)
{
	char buf[256];

	(void) state;
	/* "A: X" and "B : Y<HTAB>\r\n<HTAB>Z  " as libmilter splits them */
	assert_string_equal(hdr(buf, "A", "X", 1), "a:X\r\n");
	assert_string_equal(hdr(buf, "B ", "Y\t\r\n\tZ  ", 1), "b:Y Z\r\n");
	assert_body(" C \r\nD \t E\r\n\r\n\r\n", " C\r\nD E\r\n");
}

/* Header values: folding with "\n" or "\r\n", tabs, ends, 8-bit. */
static void
test_header_values(void **state)
{
	static const char *const cases[][3] = {
	    {"Subject", " leading space kept by LEADSPC",
	     "subject:leading "
	     "space kept by "
	     "LEADSPC\r\n"},
	    {"Subject", "a subject\n  folded  over   three\n\tlines\t ",
	     "subject:a subject folded over three lines\r\n"},
	    {"To", "first@example.org,\r\n    second@example.org",
	     "to:first@example.org, second@example.org\r\n"},
	    {"X-Tabs", "\t\ta\t\tb\t\t", "x-tabs:a b\r\n"},
	    {"Cc", "", "cc:\r\n"},
	    {"Cc", " \t \n\t ", "cc:\r\n"},
	    {"CONTENT-Type", "Text/Plain", "content-type:Text/Plain\r\n"},
	    {"Subject", "Caf\xc3\xa9 \xff\xfe \x80",
	     "subject:Caf\xc3\xa9 "
	     "\xff\xfe \x80\r\n"},
	    {"From", "=?utf-8?q?Ren=C3=A9?= <rene@example.nl>",
	     "from:=?utf-8?q?Ren=C3=A9?= <rene@example.nl>\r\n"},
	};
	char buf[512];

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(hdr(buf, cases[i][0], cases[i][1], 1),
		                    cases[i][2]);
	/* the signature field itself: no CRLF, folds gone */
	assert_string_equal(hdr(buf, "DKIM-Signature",
	                        "v=1; a=rsa-sha256;\n\th=From:To:\n\t "
	                        "Subject;\n\tb=",
	                        0),
	                    "dkim-signature:v=1; a=rsa-sha256; h=From:To: "
	                    "Subject; b=");
}

/* Bodies: the cases relaxed canonicalization is about. */
static void
test_bodies(void **state)
{
	static const char *const cases[][2] = {
	    {"", ""},
	    {"\r\n", ""},
	    {"\r\n\r\n \t \r\n", ""},
	    {"x", "x\r\n"},
	    {"x\r\n", "x\r\n"},
	    {"x  \t\r\n\r\n\r\n", "x\r\n"},
	    {"\r\n\r\nx\r\n\r\ny\r\n\r\n", "\r\n\r\nx\r\n\r\ny\r\n"},
	    {"  a  b\t\tc  \r\n", " a b c\r\n"},
	    {"a \r\n \r\nb\r\n", "a\r\n\r\nb\r\n"},
	    /* a bare LF ends a line; a bare CR is text */
	    {"a \nb\n\n", "a\r\nb\r\n"},
	    {"a\rb\r\n", "a\rb\r\n"},
	    {"a \rb\r\n", "a \rb\r\n"},
	    {"a\r b\r\n", "a\r b\r\n"},
	    {"a\r\r\n", "a\r\r\n"},
	    {"\r\r\n\r\n", "\r\r\n"},
	    {"a\r", "a\r\n"},
	    {"a \r", "a\r\n"},
	    {"\xff\xfe \x80\r\n", "\xff\xfe \x80\r\n"},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_body(cases[i][0], cases[i][1]);
}

/* Every cut into two chunks, and one byte at a time, changes nothing. */
static void
test_cuts(void **state)
{
	static const char *const texts[] = {
	    " C \r\nD \t E\r\n\r\n\r\n",
	    "line one   \r\n\t\tline  two\t\r\n\r\n\r\nthree\r\n\r\n",
	    "bare\nLF\n\nand bare\rCR\r\r\n \r\n",
	    "trailing  \t  ",
	    "a\r",
	};
	static const size_t one[] = {1, 0};

	(void) state;
	for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
		size_t len = strlen(texts[t]), wlen, n;
		unsigned char *want = body_cut(texts[t], len, NULL, &wlen);
		unsigned char *got = body_cut(texts[t], len, one, &n);

		assert_int_equal(n, wlen);
		assert_memory_equal(got, want, n);
		free(got);
		for (size_t cut = 1; cut < len; cut++) {
			size_t two[] = {cut, len, 0};

			got = body_cut(texts[t], len, two, &n);
			assert_int_equal(n, wlen);
			assert_memory_equal(got, want, n);
			free(got);
		}
		free(want);
	}
}

/* A body longer than the sink's pieces arrives whole, in pieces. */
static void
test_long_body(void **state)
{
	size_t len = 3 * CANON_PIECE + 17, n;
	char *text = malloc(len + 1);
	unsigned char *got;
	struct out o = {0};
	struct canon_body *b = canon_body_new(out_sink, &o);

	(void) state;
	for (size_t i = 0; i < len; i++)
		text[i] = i % 50 == 48 ? '\r' : i % 50 == 49 ? '\n' : 'x';
	text[len] = '\0';
	canon_body_update(b, (const unsigned char *) text, len);
	canon_body_final(b);
	canon_body_free(b);
	assert_true(o.calls >= 4);
	got = body_cut(text, len, NULL, &n);
	assert_int_equal(o.len, n);
	assert_memory_equal(o.p, got, n);
	free(got);
	free(o.p);
	free(text);
}

/*
 * reference - RFC 6376 section 3.4.4 worked line by line: split into
 * lines (CRLF or bare LF), drop trailing spaces and tabs, make runs of
 * them one space, drop empty lines at the end, end with CRLF.
 */
static size_t
reference(const char *in, size_t len, char *out)
{
	size_t n = 0, keep = 0, i = 0;

	while (i < len) {
		size_t end = i, stop;

		while (end < len && in[end] != '\n')
			end++;
		stop = end;
		if (stop > i && in[stop - 1] == '\r')
			stop--; /* CRLF; a CR at the very end ends it too */
		while (stop > i &&
		       (in[stop - 1] == ' ' || in[stop - 1] == '\t'))
			stop--;
		for (size_t k = i; k < stop; k++) {
			int ws = in[k] == ' ' || in[k] == '\t';

			if (ws && k > i &&
			    (in[k - 1] == ' ' || in[k - 1] == '\t'))
				continue;
			out[n++] = ws ? ' ' : in[k];
		}
		out[n++] = '\r';
		out[n++] = '\n';
		if (stop > i)
			keep =
			    n; /* the body ends after the last non-empty line */
		i = end + 1;
	}
	return keep;
}

/* Random bodies, randomly cut, against the reference. */
static void
test_random(void **state)
{
	static const char alphabet[] = {'a',  'b',  ' ',  '\t',   '\r',
	                                '\n', '\r', '\n', '\xff', '\0'};
	char text[64], want[256];
	unsigned seed = 12345;

	(void) state;
	for (int round = 0; round < 20000; round++) {
		size_t len = (seed = seed * 1103515245u + 12345u) % 40, n, wlen;
		size_t cuts[4] = {0};
		unsigned char *got;

		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			text[i] = alphabet[(seed >> 16) % sizeof(alphabet)];
		}
		for (int c = 0; c < 3; c++) {
			seed = seed * 1103515245u + 12345u;
			cuts[c] = 1 + (seed >> 16) % 7;
		}
		wlen = reference(text, len, want);
		got = body_cut(text, len, cuts, &n);
		if (n != wlen || memcmp(got, want, n) != 0)
			fail_msg(
			    "round %d: %zu bytes differ from the reference",
			    round, len);
		free(got);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc_example),
	    cmocka_unit_test(test_header_values),
	    cmocka_unit_test(test_bodies),
	    cmocka_unit_test(test_cuts),
	    cmocka_unit_test(test_long_body),
	    cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
