/*
 * test_sockspec - the socket forms relaygate accepts and those it refuses.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sockspec.h"

struct sock_case {
	const char *spec;
	int ok;
	enum sockspec_kind kind;
	const char *where; /* path or host when ok; reason substring if not */
	int port;
};

static void
test_forms(void **state)
{
	static const struct sock_case cases[] = {
	    {"unix:/run/relaygate/relaygate.sock", 1, SOCKSPEC_UNIX,
	     "/run/relaygate/relaygate.sock", 0},
	    {"local:/var/spool/postfix/rg.sock", 1, SOCKSPEC_UNIX,
	     "/var/spool/postfix/rg.sock", 0},
	    {"inet:8891@127.0.0.1", 1, SOCKSPEC_INET, "127.0.0.1", 8891},
	    {"inet:8891@0.0.0.0", 1, SOCKSPEC_INET, "0.0.0.0", 8891},
	    {"inet6:8891@[::1]", 1, SOCKSPEC_INET6, "[::1]", 8891},
	    {"inet:8891", 0, SOCKSPEC_INET, "names no address", 0},
	    {"inet:0@127.0.0.1", 0, SOCKSPEC_INET, "bad port", 0},
	    {"inet:65536@127.0.0.1", 0, SOCKSPEC_INET, "bad port", 0},
	    {"inet:88a1@127.0.0.1", 0, SOCKSPEC_INET, "bad port", 0},
	    {"inet:8891@", 0, SOCKSPEC_INET, "empty address", 0},
	    {"unix:rel.sock", 0, SOCKSPEC_UNIX, "not absolute", 0},
	    {"/run/x.sock", 0, SOCKSPEC_UNIX, "is not unix:/PATH", 0},
	    {"fd:3", 0, SOCKSPEC_UNIX, "is not unix:/PATH", 0},
	};
	struct sockspec s;
	char why[256];

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct sock_case *c = &cases[i];
		int rc = sockspec_parse(c->spec, &s, why, sizeof(why));

		if (!c->ok) {
			assert_int_equal(rc, -1);
			if (strstr(why, c->where) == NULL)
				fail_msg("%s: '%s' lacks '%s'", c->spec, why,
				         c->where);
			continue;
		}
		if (rc != 0)
			fail_msg("%s: %s", c->spec, why);
		assert_int_equal(s.kind, c->kind);
		assert_string_equal(c->kind == SOCKSPEC_UNIX ? s.path : s.host,
		                    c->where);
		assert_int_equal(s.port, c->port);
	}
}

/* A unix path longer than sun_path is refused, not cut. */
static void
test_long_path(void **state)
{
	char spec[200] = "unix:/";
	struct sockspec s;
	char why[128];

	(void) state;
	memset(spec + 6, 'x', 150);
	spec[156] = '\0';
	assert_int_equal(sockspec_parse(spec, &s, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "longer than 107"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_forms),
	    cmocka_unit_test(test_long_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
