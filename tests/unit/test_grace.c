/*
 * test_grace - a misconfigured domain's standing with enforcement, table
 * driven: before policy.enforce_from, in its grace period (from
 * first_seen_bad, or from now when not known), enforced; overrides exact
 * and by "*.", with and without expiry; and the texts.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "grace.h"

#define DAY 86400
#define T0 1767225600 /* 2026-01-01T00:00:00Z */

static const char base_conf[] =
    "dkim: { selectors = ( { name = \"sa\"; target = \"_a.p.test\";\n"
    "  key = \"/k/a.pem\"; } ); active_selector = \"sa\"; };\n";

/* load - base_conf plus a policy group */
static struct config *
load(const char *policy)
{
	char text[2048], why[512] = "";
	struct config *cfg;

	snprintf(text, sizeof(text), "%spolicy: { %s };\n", base_conf, policy);
	cfg = config_load_string(text, "t.conf", why, sizeof(why));
	if (cfg == NULL)
		fail_msg("config: %s", why);
	return cfg;
}

static void
test_phases(void **state)
{
	static const struct {
		const char *policy;
		int64_t first_bad, now;
		enum grace_phase phase;
		int64_t until;
		const char *text;
	} cases[] = {
	    {"grace_period = \"7d\";", T0, T0 + DAY, GRACE_PERIOD, T0 + 7 * DAY,
	     "grace until 2026-01-08"},
	    {"grace_period = \"7d\";", T0, T0 + 7 * DAY, GRACE_ENFORCED, 0,
	     "enforced"},
	    {"grace_period = \"7d\";", 0, T0, GRACE_PERIOD, T0 + 7 * DAY,
	     "grace until 2026-01-08"},
	    {"grace_period = 0;", T0, T0, GRACE_ENFORCED, 0, "enforced"},
	    {"grace_period = \"7d\"; enforce_from = \"2026-03-01\";", T0,
	     T0 + 30 * DAY, GRACE_NOT_YET, T0 + 59 * DAY,
	     "not enforced before 2026-03-01"},
	    {"grace_period = \"7d\"; enforce_from = \"2026-03-01\";", T0,
	     T0 + 59 * DAY, GRACE_ENFORCED, 0, "enforced"},
	    {"grace_period = \"90d\"; enforce_from = \"2026-01-15\";", T0,
	     T0 + 20 * DAY, GRACE_PERIOD, T0 + 90 * DAY,
	     "grace until 2026-04-01"},
	};
	struct grace g;
	char text[128];

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config *cfg = load(cases[i].policy);

		grace_of(cfg, "x.test", cases[i].first_bad, cases[i].now, &g);
		grace_text(&g, text, sizeof(text));
		assert_string_equal(grace_phase_name(g.phase),
		                    grace_phase_name(cases[i].phase));
		assert_int_equal(g.until, cases[i].until);
		assert_int_equal(g.override, -1);
		assert_string_equal(text, cases[i].text);
		config_release(cfg);
	}
}

static void
test_overrides(void **state)
{
	struct config *cfg =
	    load("grace_period = 0; overrides = (\n"
	         " { domain = \"ex.test\"; action = \"exempt\"; },\n"
	         " { domain = \"*.sub.test\"; action = \"defer\";\n"
	         "   expires = \"2026-02-01\"; } );");
	struct grace g;
	char text[128];

	(void) state;
	grace_of(cfg, "ex.test", T0, T0, &g);
	grace_text(&g, text, sizeof(text));
	assert_string_equal(text, "enforced; override exempt");
	assert_int_equal(g.expires, 0);
	grace_of(cfg, "a.sub.test", T0, T0, &g);
	grace_text(&g, text, sizeof(text));
	assert_string_equal(text, "enforced; override defer until 2026-02-01");
	assert_int_equal(g.expires, T0 + 31 * DAY);
	/* Lapsed at 00:00 UTC of its date. */
	grace_of(cfg, "a.sub.test", T0, T0 + 31 * DAY, &g);
	assert_int_equal(g.override, -1);
	grace_of(cfg, "sub.test", T0, T0, &g);
	assert_int_equal(g.override, -1);
	config_release(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_phases),
	    cmocka_unit_test(test_overrides),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
