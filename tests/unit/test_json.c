/*
 * test_json - the JSON writer: layout, escaping (RFC 8259 section 7) and
 * bytes that are not UTF-8 turned into U+FFFD, so the output always
 * parses.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"

/* test_document - nesting, commas, empty containers, every type */
static void
test_document(void **state)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	struct json *j = json_open(f);

	(void) state;
	json_object(j, NULL);
	json_string(j, "s", "x");
	json_int(j, "n", -42);
	json_bool(j, "t", 1);
	json_null(j, "z");
	json_string(j, "nul", NULL);
	json_array(j, "empty");
	json_end(j);
	json_array(j, "a");
	json_int(j, NULL, 1);
	json_object(j, NULL);
	json_end(j);
	json_end(j);
	json_end(j);
	json_close(j);
	fclose(f);
	assert_string_equal(buf, "{\n"
	                         "  \"s\": \"x\",\n"
	                         "  \"n\": -42,\n"
	                         "  \"t\": true,\n"
	                         "  \"z\": null,\n"
	                         "  \"nul\": null,\n"
	                         "  \"empty\": [],\n"
	                         "  \"a\": [\n"
	                         "    1,\n"
	                         "    {}\n"
	                         "  ]\n"
	                         "}\n");
	free(buf);
}

/* test_escape - quotes, controls, UTF-8 kept, broken UTF-8 replaced */
static void
test_escape(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"a\"b\\c", "\"a\\\"b\\\\c\""},
	    {"line\nnext\ttab\r\x01\x7f", "\"line\\nnext\\ttab\\u000d\\u0001"
	                                  "\\u007f\""},
	    {"v\xc3\xb3\xc3\xb3r \xe2\x82\xac \xf0\x9f\x98\x80",
	     "\"v\xc3\xb3\xc3\xb3r \xe2\x82\xac \xf0\x9f\x98\x80\""},
	    /* a lone continuation byte, an overlong, a surrogate, a cut */
	    {"a\x80z", "\"a\\ufffdz\""},
	    {"\xc0\xaf", "\"\\ufffd\\ufffd\""},
	    {"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""},
	    {"\xe2\x82", "\"\\ufffd\\ufffd\""},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *buf = NULL;
		size_t size = 0;
		FILE *f = open_memstream(&buf, &size);
		struct json *j = json_open(f);

		json_string(j, NULL, cases[i].in);
		json_close(j);
		fclose(f);
		buf[strlen(buf) - 1] = '\0'; /* the final newline */
		assert_string_equal(buf, cases[i].out);
		free(buf);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_document),
	    cmocka_unit_test(test_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
