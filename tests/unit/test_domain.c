/*
 * test_domain - normalization of domain names: case, trailing dot, IDNA,
 * and every rule that rejects a name.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "domain.h"

struct domain_case {
	const char *in;
	const char *out;    /* NULL: must be rejected */
	const char *reason; /* substring of the reason when rejected */
};

static void
test_normalize(void **state)
{
	static const struct domain_case cases[] = {
	    {"Example.NL", "example.nl", NULL},
	    {"example.nl.", "example.nl", NULL},
	    {"_dkim-a.prezent.nl", "_dkim-a.prezent.nl", NULL},
	    {"b\xc3\xbc"
	     "cher.example",
	     "xn--bcher-kva.example", NULL},
	    {"XN--BCHER-KVA.example", "xn--bcher-kva.example", NULL},
	    {"a", "a", NULL},
	    {"", NULL, "empty domain name"},
	    {".", NULL, "empty domain name"},
	    {"a..b", NULL, "empty label"},
	    {".a", NULL, "empty label"},
	    {"a.b..", NULL, "empty label"},
	    {"-a.nl", NULL, "starts or ends with '-'"},
	    {"a-.nl", NULL, "starts or ends with '-'"},
	    {"a b.nl", NULL, "invalid character 0x20"},
	    {"a@b.nl", NULL, "invalid character 0x40"},
	    {"[192.0.2.1]", NULL, "invalid character 0x5b"},
	    {"\xff\xfe.nl", NULL, "invalid internationalized"},
	};
	char out[DOMAIN_SIZE], why[256];

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = domain_normalize(cases[i].in, out, sizeof(out), why,
		                          sizeof(why));

		if (cases[i].out != NULL) {
			if (rc != 0)
				fail_msg("case %zu '%s': %s", i, cases[i].in,
				         why);
			assert_string_equal(out, cases[i].out);
		} else {
			assert_int_equal(rc, -1);
			if (strstr(why, cases[i].reason) == NULL)
				fail_msg("case %zu: '%s' lacks '%s'", i, why,
				         cases[i].reason);
		}
	}
}

/* The length limits: 63 per label, 253 in all. */
static void
test_limits(void **state)
{
	char name[300], why[128];

	(void) state;
	memset(name, 'a', 63);
	strcpy(name + 63, ".nl");
	assert_int_equal(domain_check(name, why, sizeof(why)), 0);
	memset(name, 'a', 64);
	strcpy(name + 64, ".nl");
	assert_int_equal(domain_check(name, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "longer than 63"));
	/* 4 labels of 63 and one of 1: 4*64 + 1 = 257 > 253 */
	for (int i = 0; i < 4; i++) {
		memset(name + 64 * i, 'b', 63);
		name[64 * i + 63] = '.';
	}
	strcpy(name + 256, "c");
	assert_int_equal(domain_check(name, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "longer than 253"));
	/* exactly 253: the last label is name[192..252] */
	name[253] = '\0';
	assert_int_equal(strlen(name), 253);
	assert_int_equal(domain_check(name, why, sizeof(why)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_normalize),
	    cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
