/*
 * test_spf_merge - the record a customer publishes: their record with our
 * include placed where receivers reach it (before -all, ~all, ?all; before
 * a redirect=; after other hosts' includes), their terms kept, and the
 * DNS lookups of the result counted with the include targets' own terms.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "spf_merge.h"

#define OURS "spf.dmrmail.nl"

struct merge_case {
	const char *record;
	int lookups, lookups_exact;   /* the current record's, as measured */
	int include_lookups;          /* our include record's own */
	enum spf_merge_action action; /* expected */
	const char *want;             /* the record to publish */
	int want_lookups;
	unsigned want_notes;
};

/* Lookup figures: unknown, or measured exactly. */
#define UNKNOWN -1, 0
#define EXACT(n) (n), 1

static const struct merge_case cases[] = {
    /* the seed's example without our include: before -all */
    {"v=spf1 +mx +a -all", UNKNOWN, 0, SPF_MERGE_ADD,
     "v=spf1 +mx +a include:" OURS " -all", 3, 0},
    /* ~all and ?all are theirs and stay */
    {"v=spf1 a mx ~all", EXACT(2), 0, SPF_MERGE_ADD,
     "v=spf1 a mx include:" OURS " ~all", 3, 0},
    {"v=spf1 ip4:198.51.100.7 ?all", EXACT(0), 0, SPF_MERGE_ADD,
     "v=spf1 ip4:198.51.100.7 include:" OURS " ?all", 1, 0},
    /* an include of another host (a website hoster) is kept, ours after
     * it; its own terms count: _spf.google.com costs 3 more */
    {"v=spf1 mx include:_spf.google.com -all", EXACT(5), 0, SPF_MERGE_ADD,
     "v=spf1 mx include:_spf.google.com include:" OURS " -all", 6, 0},
    /* ours costs what its record needs, too */
    {"v=spf1 include:_spf.example.net ~all", EXACT(1), 2, SPF_MERGE_ADD,
     "v=spf1 include:_spf.example.net include:" OURS " ~all", 4, 0},
    /* redirect=: ours before it, the redirect kept */
    {"v=spf1 redirect=_spf.example.com", EXACT(2), 0, SPF_MERGE_ADD,
     "v=spf1 include:" OURS " redirect=_spf.example.com", 3,
     SPF_MERGE_N_REDIRECT},
    {"v=spf1 mx redirect=_spf.example.com", UNKNOWN, 0, SPF_MERGE_ADD,
     "v=spf1 mx include:" OURS " redirect=_spf.example.com", 3,
     SPF_MERGE_N_REDIRECT | SPF_MERGE_N_LOOKUPS_MIN},
    /* a redirect beside "all" is never followed (6.1): before the all */
    {"v=spf1 a -all redirect=_spf.example.com", EXACT(1), 0, SPF_MERGE_ADD,
     "v=spf1 a include:" OURS " -all redirect=_spf.example.com", 2,
     SPF_MERGE_N_REDIRECT_DEAD},
    /* without all or redirect: after the last mechanism, before exp= */
    {"v=spf1 mx exp=explain.example.com", EXACT(1), 0, SPF_MERGE_ADD,
     "v=spf1 mx include:" OURS " exp=explain.example.com", 2,
     SPF_MERGE_N_NO_ALL},
    {"v=spf1", EXACT(0), 0, SPF_MERGE_ADD, "v=spf1 include:" OURS, 1,
     SPF_MERGE_N_NO_ALL},
    /* terms after the all are dead but theirs; spacing is normalized */
    {"v=spf1   -all  mx", UNKNOWN, 0, SPF_MERGE_ADD,
     "v=spf1 include:" OURS " -all mx", 1, 0},
    /* already there (any case, trailing dot): unchanged */
    {"v=spf1 +mx INCLUDE:SPF.DMRMAIL.NL. -all", EXACT(3), 0, SPF_MERGE_KEEP,
     "v=spf1 +mx INCLUDE:SPF.DMRMAIL.NL. -all", 3, 0},
    /* no record: a new one, softfail for the unknown rest */
    {NULL, UNKNOWN, 0, SPF_MERGE_NEW, "v=spf1 include:" OURS " ~all", 1, 0},
    {"", UNKNOWN, 0, SPF_MERGE_NEW, "v=spf1 include:" OURS " ~all", 1, 0},
    /* +all and ptr are noted for the advice */
    {"v=spf1 ptr +all", EXACT(1), 0, SPF_MERGE_ADD,
     "v=spf1 ptr include:" OURS " +all", 2,
     SPF_MERGE_N_PASS_ALL | SPF_MERGE_N_PTR},
    /* the limit: 10 is allowed, 11 is not */
    {"v=spf1 include:a.example include:b.example -all", EXACT(9), 0,
     SPF_MERGE_ADD,
     "v=spf1 include:a.example include:b.example include:" OURS " -all", 10, 0},
    {"v=spf1 include:a.example include:b.example -all", EXACT(10), 0,
     SPF_MERGE_ADD,
     "v=spf1 include:a.example include:b.example include:" OURS " -all", 11,
     SPF_MERGE_N_OVER_LIMIT},
    /* the include targets' terms push it over: 2 written, 10 measured */
    {"v=spf1 include:big.example mx ~all", EXACT(10), 1, SPF_MERGE_ADD,
     "v=spf1 include:big.example mx include:" OURS " ~all", 12,
     SPF_MERGE_N_OVER_LIMIT},
    /* unknown cost: the written terms are a lower bound, already over */
    {"v=spf1 a mx ptr exists:%{i}.x.example include:a.example "
     "include:b.example include:c.example include:d.example "
     "include:e.example include:f.example -all",
     UNKNOWN, 0, SPF_MERGE_ADD,
     "v=spf1 a mx ptr exists:%{i}.x.example include:a.example "
     "include:b.example include:c.example include:d.example "
     "include:e.example include:f.example include:" OURS " -all",
     11, SPF_MERGE_N_OVER_LIMIT | SPF_MERGE_N_LOOKUPS_MIN | SPF_MERGE_N_PTR},
    /* a measurement below what the record shows is not believed */
    {"v=spf1 a mx include:x.example -all", 1, 1, 0, SPF_MERGE_ADD,
     "v=spf1 a mx include:x.example include:" OURS " -all", 4,
     SPF_MERGE_N_LOOKUPS_MIN},
    /* a record that already includes ours but is over the limit */
    {"v=spf1 include:l1.example include:" OURS " -all", 11, 0, 0,
     SPF_MERGE_KEEP, "v=spf1 include:l1.example include:" OURS " -all", 11,
     SPF_MERGE_N_OVER_LIMIT | SPF_MERGE_N_LOOKUPS_MIN},
};

/* test_cases - every row of the table */
static void
test_cases(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct merge_case *c = &cases[i];
		struct spf_merge_in in = {
		    .record = c->record,
		    .include = OURS,
		    .lookups = c->lookups,
		    .lookups_exact = c->lookups_exact,
		    .include_lookups = c->include_lookups,
		    .include_lookups_exact = 1,
		};
		struct spf_merge out;

		spf_merge(&in, &out);
		if (out.action != c->action || strcmp(out.record, c->want) ||
		    out.lookups != c->want_lookups ||
		    out.notes != c->want_notes)
			fail_msg("case %zu '%s': got %s '%s' lookups %d notes "
			         "%#x; want %s '%s' %d %#x (%s)",
			         i, c->record ? c->record : "(none)",
			         spf_merge_action_name(out.action), out.record,
			         out.lookups, out.notes,
			         spf_merge_action_name(c->action), c->want,
			         c->want_lookups, c->want_notes, out.why);
	}
}

/* test_all_kept - the all term is reported as written */
static void
test_all_kept(void **state)
{
	static const char *const alls[] = {"-all", "~all", "?all", "all"};
	char rec[64];

	(void) state;
	for (size_t i = 0; i < sizeof(alls) / sizeof(alls[0]); i++) {
		struct spf_merge_in in = {.record = rec,
		                          .include = OURS,
		                          .lookups = -1,
		                          .include_lookups = 0};
		struct spf_merge out;

		snprintf(rec, sizeof(rec), "v=spf1 mx %s", alls[i]);
		spf_merge(&in, &out);
		assert_string_equal(out.all, alls[i]);
		assert_int_equal(out.at, 1);
	}
}

/* test_unknown_include - our include's cost unknown: a lower bound */
static void
test_unknown_include(void **state)
{
	struct spf_merge_in in = {.record = "v=spf1 a -all",
	                          .include = OURS ".",
	                          .lookups = 1,
	                          .lookups_exact = 1,
	                          .include_lookups = -1};
	struct spf_merge out;

	(void) state;
	spf_merge(&in, &out);
	assert_int_equal(out.action, SPF_MERGE_ADD);
	/* the configured name's trailing dot is not written */
	assert_string_equal(out.record, "v=spf1 a include:" OURS " -all");
	assert_int_equal(out.lookups, 2);
	assert_int_equal(out.lookups_now, 1);
	assert_true(out.notes & SPF_MERGE_N_LOOKUPS_MIN);
}

/* test_invalid - their record does not parse: no proposal, the reason */
static void
test_invalid(void **state)
{
	static const char *const bad[] = {
	    "v=spf1 ip4:300.1.1.1 -all",
	    "v=spf1 include -all",
	    "spf1 mx -all",
	};

	(void) state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct spf_merge_in in = {
		    .record = bad[i], .include = OURS, .lookups = -1};
		struct spf_merge out;

		spf_merge(&in, &out);
		assert_int_equal(out.action, SPF_MERGE_INVALID);
		assert_string_equal(out.record, "");
		assert_true(out.why[0] != '\0');
	}
}

/* test_too_long - a record that the include would push over 2048 bytes */
static void
test_too_long(void **state)
{
	char rec[SPF_RECORD_MAX_LEN + 1];
	size_t n = (size_t) snprintf(rec, sizeof(rec), "v=spf1");
	struct spf_merge_in in = {
	    .record = rec, .include = OURS, .lookups = -1};
	struct spf_merge out;

	(void) state;
	while (n + 20 < SPF_RECORD_MAX_LEN - 8)
		n += (size_t) snprintf(rec + n, sizeof(rec) - n,
		                       " ip4:198.51.100.1");
	n += (size_t) snprintf(rec + n, sizeof(rec) - n, " -all");
	assert_true(n <= SPF_RECORD_MAX_LEN && n + 23 > SPF_RECORD_MAX_LEN);
	spf_merge(&in, &out);
	assert_int_equal(out.action, SPF_MERGE_INVALID);
	assert_non_null(strstr(out.why, "longer than"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cases),
	    cmocka_unit_test(test_all_kept),
	    cmocka_unit_test(test_unknown_include),
	    cmocka_unit_test(test_invalid),
	    cmocka_unit_test(test_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
