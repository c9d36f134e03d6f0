/*
 * test_report - the misconfigured domains of a table: which are listed
 * (first_seen_bad set, whatever the cached verdict is now), in which
 * order (messages affected), with which state (the verdict's, or the last
 * announced one when the verdict is temporary or flushed), phase and
 * reason; the text table and the JSON document.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "alert.h"
#include "dkim_check.h"
#include "policy.h"
#include "report.h"
#include "spf_check.h"
#include "util.h"
#include "verdict.h"

#define DAY 86400
#define T0 1767225600 /* 2026-01-01T00:00:00Z */

static const char test_conf[] =
    "dkim: { selectors = (\n"
    "  { name = \"sa\"; target = \"_a.p.test\"; key = \"/k/a.pem\"; },\n"
    "  { name = \"sb\"; target = \"_b.p.test\"; key = \"/k/b.pem\"; });\n"
    "  active_selector = \"sa\"; };\n"
    "policy: { grace_period = \"7d\"; };\n";

struct fixture {
	char name[64];
	struct cache *c;
	struct config *cfg;
};

static int
setup(void **state)
{
	static int n;
	struct fixture *fx = xcalloc(1, sizeof(*fx));
	char why[512];

	snprintf(fx->name, sizeof(fx->name), "/rg-test-report-%d-%d",
	         (int) getpid(), n++);
	fx->c = cache_open(fx->name, 64, 0600, (gid_t) -1, 0, why, sizeof(why));
	fx->cfg = config_load_string(test_conf, "t.conf", why, sizeof(why));
	if (fx->c == NULL || fx->cfg == NULL) {
		fprintf(stderr, "setup: %s\n", why);
		return -1;
	}
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	cache_close(fx->c);
	shm_unlink(fx->name);
	config_release(fx->cfg);
	free(fx);
	return 0;
}

/* store - a verdict (SPF passing or not, selectors delegated) at now */
static void
store(struct fixture *fx, const char *domain, int spf, unsigned delegated,
      int temporary, int64_t now)
{
	struct verdict v;
	unsigned char buf[VERDICT_ENCODED_MAX];
	struct cache_verdict cv = {buf, 0, 0, CACHE_BAD, 300, 0};

	memset(&v, 0, sizeof(v));
	v.version = VERDICT_VERSION;
	v.spf_result = spf ? SPF_CHECK_PASS : SPF_CHECK_FAIL;
	if (!spf)
		snprintf(v.spf_detail, sizeof(v.spf_detail),
		         "include:spf.x missing");
	v.nselectors = 2;
	for (int i = 0; i < 2; i++)
		v.dkim_state[i] = (delegated >> i) & 1 ? DKIM_CHECK_DELEGATED
		                                       : DKIM_CHECK_MISSING;
	v.dkim_usable = (uint8_t) delegated;
	v.dkim_worst = delegated & 1 ? 1 : 0;
	snprintf(v.dkim_detail, sizeof(v.dkim_detail), "%s._domainkey.%s",
	         delegated & 1 ? "sb" : "sa", domain);
	v.state = spf && delegated == 3 ? VERDICT_CONFIGURED
	          : spf || delegated    ? VERDICT_PARTIAL
	                                : VERDICT_UNCONFIGURED;
	cv.grade = v.state == VERDICT_CONFIGURED ? CACHE_GOOD : CACHE_BAD;
	if (temporary) {
		v.state = VERDICT_TEMPORARY;
		cv.grade = CACHE_TEMP;
	}
	cv.state = v.state;
	cv.len = verdict_encode(&v, buf);
	assert_int_equal(cache_put(fx->c, domain, &cv, now, NULL), 0);
	if (!temporary)
		cache_mark(fx->c, domain, 0, alert_mark(&v), now, NULL);
}

/* count - n messages of domain with this action */
static void
count(struct fixture *fx, const char *domain, unsigned action, int n)
{
	for (int i = 0; i < n; i++)
		assert_int_equal(cache_count(fx->c, domain, action, T0), 0);
}

/* output - a report of the table rendered as text or JSON */
static char *
output(struct fixture *fx, int64_t now, int json, size_t *rows)
{
	struct report *r = report_collect(fx->c, fx->cfg, now);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	if (json)
		report_json(r, f);
	else
		report_text(r, f);
	assert_int_equal(fclose(f), 0);
	*rows = report_count(r);
	report_free(r);
	return text;
}

/* before - does a come before b in text? */
static int
before(const char *text, const char *a, const char *b)
{
	const char *pa = strstr(text, a), *pb = strstr(text, b);

	return pa != NULL && pb != NULL && pa < pb;
}

static void
test_rows_and_order(void **state)
{
	struct fixture *fx = *state;
	size_t rows;
	char *text;

	store(fx, "good.test", 1, 3, 0, T0);
	count(fx, "good.test", POLICY_SIGN, 50);
	store(fx, "nodkim.test", 1, 0, 0, T0 - 10 * DAY);
	count(fx, "nodkim.test", POLICY_TAG, 3);
	count(fx, "nodkim.test", POLICY_DEFER, 2);
	store(fx, "bare.test", 0, 0, 0, T0 - DAY);
	count(fx, "bare.test", POLICY_TAG, 9);
	store(fx, "flushed.test", 0, 1, 0, T0 - DAY);
	count(fx, "flushed.test", POLICY_MONITOR, 1);
	cache_flush(fx->c, "flushed.test", 0);
	store(fx, "flaky.test", 1, 1, 0, T0 - DAY);
	store(fx, "flaky.test", 1, 1, 1, T0); /* DNS trouble now */
	text = output(fx, T0, 0, &rows);
	assert_int_equal(rows, 4);
	assert_null(strstr(text, "good.test"));
	assert_true(before(text, "bare.test", "nodkim.test"));
	assert_true(before(text, "nodkim.test", "flushed.test"));
	assert_true(before(text, "flushed.test", "flaky.test"));
	assert_non_null(strstr(
	    text, "bare.test                        unconfigured        9 "
	          "       9  2025-12-31 00:00Z  grace until 2026-01-07   "
	          "spf=fail (include:spf.x missing); dkim=missing "
	          "(sa._domainkey.bare.test)\n"));
	assert_non_null(strstr(
	    text, "nodkim.test                      partial             5 "
	          "       5  2025-12-22 00:00Z  enforced                 "
	          "spf=pass; dkim=missing (sa._domainkey.nodkim.test)\n"));
	/* flushed: the announced state; no verdict, no reason */
	assert_non_null(strstr(text, "flushed.test                     "
	                             "partial             1        1  "));
	assert_non_null(strstr(text, "(DNS trouble now)\n"));
	assert_non_null(strstr(
	    text, "4 domains not fully configured: 1 enforced, 3 in grace, "
	          "0 before enforcement; 15 messages affected\n"));
	assert_int_equal(strncmp(text, "DOMAIN ", 7), 0);
	free(text);
}

static void
test_json(void **state)
{
	struct fixture *fx = *state;
	size_t rows;
	char *text;

	store(fx, "nodkim.test", 1, 2, 0, T0 - 10 * DAY);
	count(fx, "nodkim.test", POLICY_REJECT, 2);
	count(fx, "nodkim.test", POLICY_SIGN, 1);
	text = output(fx, T0, 1, &rows);
	assert_int_equal(rows, 1);
	assert_non_null(strstr(text, "\"schema\": \"relaygate-report/1\""));
	assert_non_null(strstr(text, "\"generated_at\": "
	                             "\"2026-01-01T00:00:00Z\""));
	assert_non_null(strstr(text, "\"domain\": \"nodkim.test\""));
	assert_non_null(strstr(text, "\"state\": \"partial\""));
	assert_non_null(strstr(text, "\"rotation_ready\": false"));
	assert_non_null(strstr(text, "\"dns_trouble\": false"));
	assert_non_null(strstr(text, "\"cache\": \"expired\""));
	assert_non_null(strstr(text, "\"messages_affected\": 2"));
	assert_non_null(strstr(text, "\"messages\": 3"));
	assert_non_null(strstr(text, "\"reject\": 2"));
	assert_non_null(strstr(text, "\"first_seen_bad\": "
	                             "\"2025-12-22T00:00:00Z\""));
	assert_non_null(strstr(text, "\"phase\": \"enforced\""));
	assert_non_null(strstr(text, "\"until\": null"));
	assert_non_null(strstr(text, "\"override\": null"));
	assert_non_null(strstr(text, "\"spf\": \"spf=pass\""));
	assert_non_null(strstr(text, "\"dkim\": \"dkim=missing "
	                             "(sa._domainkey.nodkim.test)\""));
	assert_non_null(strstr(text, "\"summary\": {"));
	free(text);
}

static void
test_empty(void **state)
{
	struct fixture *fx = *state;
	size_t rows;
	char *text;

	store(fx, "good.test", 1, 3, 0, T0);
	text = output(fx, T0, 0, &rows);
	assert_int_equal(rows, 0);
	assert_string_equal(text, "every domain in the cache is configured\n");
	free(text);
	text = output(fx, T0, 1, &rows);
	assert_non_null(strstr(text, "\"domains\": []"));
	free(text);
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_rows_and_order),
	    T(test_json),
	    T(test_empty),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
