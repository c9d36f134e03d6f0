/*
 * test_template - the operator's templates: variables, sections shown or
 * not, lines of section tags vanishing, multi-line values indented, and
 * every mistake an operator can make named with its line.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "template.h"

static const struct template_var vars[] = {
    {"domain", "example.nl"},
    {"yes", "yes"},
    {"no", ""},
    {"null", NULL},
    {"lines", "a. IN CNAME b.\nc. IN CNAME d."},
    {"braces", "{{domain}}"},
};

#define NVARS (sizeof(vars) / sizeof(vars[0]))

struct render_case {
	const char *in;
	const char *out; /* NULL: an error containing err */
	const char *err;
};

static const struct render_case cases[] = {
    {"plain text\n", "plain text\n", NULL},
    {"no newline at the end", "no newline at the end", NULL},
    {"Dear {{domain}},\n", "Dear example.nl,\n", NULL},
    {"{{ domain }}", "example.nl", NULL},
    /* sections, inline and on lines of their own */
    {"a{{#yes}}b{{/yes}}c{{#no}}d{{/no}}e\n", "abce\n", NULL},
    {"a{{^no}}b{{/no}}{{^yes}}c{{/yes}}\n", "ab\n", NULL},
    {"{{^null}}null is empty{{/null}}", "null is empty", NULL},
    {"1\n{{#yes}}\n2\n{{/yes}}\n3\n", "1\n2\n3\n", NULL},
    {"1\n  {{#no}}  \n2\n{{/no}}\n3\n", "1\n3\n", NULL},
    {"{{#yes}}\n{{#no}}\nhidden {{domain}}\n{{/no}}\nshown\n{{/yes}}\n",
     "shown\n", NULL},
    {"x\n{{! a comment line vanishes }}\ny {{! inline }}z\n", "x\ny z\n", NULL},
    /* a standalone variable indents every line of its value */
    {"records:\n    {{lines}}\nend\n",
     "records:\n    a. IN CNAME b.\n    c. IN CNAME d.\nend\n", NULL},
    {"inline {{lines}}\n", "inline a. IN CNAME b.\nc. IN CNAME d.\n", NULL},
    /* a value is not a template */
    {"{{braces}}", "{{domain}}", NULL},
    /* mistakes, with their line */
    {"ok\n{{domian}}\n", NULL, "line 2: unknown variable 'domian'"},
    {"{{#no}}\n{{typo}}\n{{/no}}\n", NULL, "line 2: unknown variable"},
    {"{{#yes}}\nnever closed\n", NULL, "line 1: section 'yes' is never closed"},
    {"{{#yes}}{{/no}}", NULL, "line 1: '{{/no}}' closes no open"},
    {"{{/yes}}", NULL, "closes no open"},
    {"x {{domain\n}}", NULL, "line 1: '{{' without '}}'"},
    {"{{Domain}}", NULL, "bad tag"},
    {"{{}}", NULL, "bad tag"},
    {"{{#}}", NULL, "bad tag"},
};

/* test_render - every row */
static void
test_render(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char why[256] = "";
		char *out = template_render(cases[i].in, strlen(cases[i].in),
		                            vars, NVARS, why, sizeof(why));

		if (cases[i].out != NULL) {
			if (out == NULL)
				fail_msg("case %zu: %s", i, why);
			assert_string_equal(out, cases[i].out);
		} else {
			if (out != NULL)
				fail_msg("case %zu: rendered '%s'", i, out);
			if (strstr(why, cases[i].err) == NULL)
				fail_msg("case %zu: '%s' lacks '%s'", i, why,
				         cases[i].err);
		}
		free(out);
	}
}

/* test_depth - nesting is bounded */
static void
test_depth(void **state)
{
	char text[(TEMPLATE_MAX_DEPTH + 1) * 16] = "";
	char why[256];
	char *out;

	(void) state;
	for (int i = 0; i <= TEMPLATE_MAX_DEPTH; i++)
		strcat(text, "{{#yes}}");
	out =
	    template_render(text, strlen(text), vars, NVARS, why, sizeof(why));
	assert_null(out);
	assert_non_null(strstr(why, "nested deeper"));
}

/* test_nul - a NUL byte inside the text is refused */
static void
test_nul(void **state)
{
	static const char text[] = "a\0b";
	char why[256];

	(void) state;
	assert_null(template_render(text, 3, vars, NVARS, why, sizeof(why)));
	assert_non_null(strstr(why, "NUL"));
}

/* test_names - a template name never leaves its directory */
static void
test_names(void **state)
{
	static const char *const good[] = {"nl", "en", "en-gb", "x"};
	static const char *const bad[] = {
	    "",    "..",     "../etc/passwd",    "NL",
	    "n/l", "nl.txt", "abcdefghijklmnopq"};
	char why[128];

	(void) state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(template_name_check(good[i], why, sizeof(why)),
		                 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(template_name_check(bad[i], why, sizeof(why)),
		                 -1);
		assert_non_null(strstr(why, "is not a language name"));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_render),
	    cmocka_unit_test(test_depth),
	    cmocka_unit_test(test_nul),
	    cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
