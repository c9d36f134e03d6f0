/*
 * test_scope - which clients are subject to the policy: networks (IPv4 and
 * IPv6 prefixes of every length), SASL, and local submission.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "scope.h"

struct match_case {
	const char *network;
	const char *address;
	int match;
};

/* test_network_match - prefix arithmetic at and around byte boundaries */
static void
test_network_match(void **state)
{
	static const struct match_case cases[] = {
	    {"192.0.2.0/24", "192.0.2.0", 1},
	    {"192.0.2.0/24", "192.0.2.255", 1},
	    {"192.0.2.0/24", "192.0.3.0", 0},
	    {"192.0.2.0/23", "192.0.3.7", 1},
	    {"192.0.2.0/23", "192.0.4.1", 0},
	    {"10.0.0.0/8", "10.255.1.2", 1},
	    {"10.0.0.0/9", "10.128.0.1", 0},
	    {"10.0.0.0/9", "10.127.255.255", 1},
	    {"0.0.0.0/0", "203.0.113.9", 1},
	    {"203.0.113.9", "203.0.113.9", 1},
	    {"203.0.113.9", "203.0.113.8", 0},
	    {"203.0.113.9/32", "203.0.113.9", 1},
	    {"127.0.0.0/8", "::1", 0},
	    {"::1/128", "::1", 1},
	    {"::1/128", "::2", 0},
	    {"2001:db8::/32", "2001:db8:ffff::1", 1},
	    {"2001:db8::/32", "2001:db9::1", 0},
	    {"2001:db8::/33", "2001:db8:8000::1", 0},
	    {"2001:db8::/33", "2001:db8:7fff::1", 1},
	    {"::/0", "2001:db8::1", 1},
	    {"::/0", "192.0.2.1", 0},
	    {"2001:db8::/32", "not-an-address", 0},
	    {"192.0.2.0/33", "192.0.2.1", 0},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct match_case *c = &cases[i];

		if (scope_network_match(c->network, c->address) != c->match)
			fail_msg("%s in %s: expected %d", c->address,
			         c->network, c->match);
	}
}

/* scope_cfg - a configuration with these scope settings */
static struct config *
scope_cfg(const char *scope)
{
	char text[512], why[512] = "";
	struct config *cfg;

	snprintf(text, sizeof(text), "scope: { %s };\n", scope);
	cfg = config_load_string(text, "t.conf", why, sizeof(why));
	if (cfg == NULL)
		fail_msg("%s: %s", text, why);
	return cfg;
}

/* test_scope_in - networks, SASL and local submission */
static void
test_scope_in(void **state)
{
	struct config *def = scope_cfg("");
	struct config *nets = scope_cfg("networks = [ \"192.0.2.0/24\", "
	                                "\"2001:db8::/32\" ]; sasl = false;");
	struct config *none = scope_cfg("networks = [ ]; sasl = true;");

	(void) state;
	/* The defaults: loopback, and SASL logins. */
	assert_int_equal(scope_in(def, "127.0.0.1", NULL), 1);
	assert_int_equal(scope_in(def, "::1", ""), 1);
	assert_int_equal(scope_in(def, "local", NULL), 1);
	assert_int_equal(scope_in(def, "198.51.100.7", NULL), 0);
	assert_int_equal(scope_in(def, "198.51.100.7", ""), 0);
	assert_int_equal(scope_in(def, "198.51.100.7", "alice"), 1);
	/* Networks only: a login does not count. */
	assert_int_equal(scope_in(nets, "192.0.2.77", NULL), 1);
	assert_int_equal(scope_in(nets, "2001:db8::25", NULL), 1);
	assert_int_equal(scope_in(nets, "127.0.0.1", NULL), 0);
	assert_int_equal(scope_in(nets, "local", NULL), 0);
	assert_int_equal(scope_in(nets, "198.51.100.7", "alice"), 0);
	/* SASL only. */
	assert_int_equal(scope_in(none, "127.0.0.1", NULL), 0);
	assert_int_equal(scope_in(none, "127.0.0.1", "bob"), 1);
	config_release(def);
	config_release(nets);
	config_release(none);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_network_match),
	    cmocka_unit_test(test_scope_in),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
