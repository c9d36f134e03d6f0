/*
 * test_relay - the relay's addresses derived from an SPF record.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "relay.h"

struct relay_case {
	const char *record;
	const char *want; /* comma-joined addresses, or NULL: refused */
};

static void
test_from_record(void **state)
{
	static const struct relay_case cases[] = {
	    {"v=spf1 ip4:192.0.2.25 ip6:2001:db8::25 -all",
	     "192.0.2.25,2001:db8::25"},
	    /* a range stands for its written address; duplicates once */
	    {"v=spf1 ip4:198.51.100.0/24 ip4:198.51.100.0/24 ~all",
	     "198.51.100.0"},
	    /* only '+' terms authorize */
	    {"v=spf1 -ip4:192.0.2.1 ?ip4:192.0.2.2 +ip4:192.0.2.3 -all",
	     "192.0.2.3"},
	    {"v=spf1 include:_spf.example.net -all", NULL},
	    {"v=spf1 a mx -all", NULL},
	    {"not an spf record", NULL},
	    {"v=spf1 ip4:300.1.1.1 -all", NULL},
	};
	char joined[512], why[256];

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct relay_addrs out = {0};
		int rc =
		    relay_from_record(cases[i].record, &out, why, sizeof(why));

		if (cases[i].want == NULL) {
			assert_int_equal(rc, -1);
			assert_true(why[0] != '\0');
			continue;
		}
		if (rc != 0)
			fail_msg("%s: %s", cases[i].record, why);
		joined[0] = '\0';
		for (size_t j = 0; j < out.n; j++) {
			strcat(joined, j ? "," : "");
			strcat(joined, out.addr[j]);
		}
		assert_string_equal(joined, cases[i].want);
	}
}

/* More terms than RELAY_MAX: the first RELAY_MAX count. */
static void
test_limit(void **state)
{
	char record[512] = "v=spf1";
	struct relay_addrs out = {0};
	char why[256];

	(void) state;
	for (int i = 1; i <= RELAY_MAX + 3; i++) {
		char term[32];

		snprintf(term, sizeof(term), " ip4:192.0.2.%d", i);
		strcat(record, term);
	}
	assert_int_equal(relay_from_record(record, &out, why, sizeof(why)), 0);
	assert_int_equal(out.n, RELAY_MAX);
	assert_string_equal(out.addr[0], "192.0.2.1");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_from_record),
	    cmocka_unit_test(test_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
