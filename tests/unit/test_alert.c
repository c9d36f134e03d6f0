/*
 * test_alert - standings as marks, every change between them named, and
 * the exact domain_state and domain_reminder lines (logfmt, captured from
 * stderr), with the grace period and an override in them.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "alert.h"
#include "dkim_check.h"
#include "log.h"
#include "spf_check.h"
#include "util.h"

#define T0 1700000000 /* 2023-11-14T22:13:20Z */

static const char test_conf[] =
    "dkim: { selectors = (\n"
    "  { name = \"sa\"; target = \"_a.p.test\"; key = \"/k/a.pem\"; },\n"
    "  { name = \"sb\"; target = \"_b.p.test\"; key = \"/k/b.pem\"; });\n"
    "  active_selector = \"sa\"; };\n"
    "policy: { grace_period = \"7d\";\n"
    "  overrides = ( { domain = \"over.test\"; action = \"monitor\"; } ); };\n";

/* a_verdict - a verdict: SPF passing or not, selectors delegated (bits) */
static struct verdict
a_verdict(int spf_pass, unsigned delegated)
{
	struct verdict v;

	memset(&v, 0, sizeof(v));
	v.version = VERDICT_VERSION;
	v.spf_result = spf_pass ? SPF_CHECK_PASS : SPF_CHECK_FAIL;
	v.nselectors = 2;
	for (int i = 0; i < 2; i++)
		v.dkim_state[i] = (delegated >> i) & 1 ? DKIM_CHECK_DELEGATED
		                                       : DKIM_CHECK_MISSING;
	v.dkim_usable = (uint8_t) delegated;
	v.dkim_worst = (delegated & 1) ? 1 : 0;
	snprintf(v.dkim_detail, sizeof(v.dkim_detail), "s%c._domainkey.x",
	         (delegated & 1) ? 'b' : 'a');
	if (spf_pass && delegated == 3)
		v.state = VERDICT_CONFIGURED;
	else if (spf_pass || delegated)
		v.state = VERDICT_PARTIAL;
	else
		v.state = VERDICT_UNCONFIGURED;
	return v;
}

/* Each standing has its own mark; DNS trouble has none. */
static void
test_marks(void **state)
{
	struct verdict good = a_verdict(1, 3), spf_only = a_verdict(1, 1);
	struct verdict dkim_only = a_verdict(0, 3), none = a_verdict(0, 0);
	struct verdict temp = a_verdict(1, 3);
	unsigned m[4];

	(void) state;
	temp.state = VERDICT_TEMPORARY;
	m[0] = alert_mark(&good);
	m[1] = alert_mark(&spf_only);
	m[2] = alert_mark(&dkim_only);
	m[3] = alert_mark(&none);
	for (int i = 0; i < 4; i++) {
		assert_true(m[i] > 0 && m[i] <= CACHE_MARK_MAX);
		for (int j = 0; j < i; j++)
			assert_int_not_equal(m[i], m[j]);
	}
	assert_int_equal(alert_mark(&temp), 0);
	assert_string_equal(alert_mark_name(m[0]), "configured");
	assert_string_equal(alert_mark_name(m[1]), "partial");
	assert_string_equal(alert_mark_name(m[2]), "partial");
	assert_string_equal(alert_mark_name(m[3]), "unconfigured");
	assert_string_equal(alert_mark_name(0), "none");
	assert_true(alert_mark_ready(m[0]) && alert_mark_ready(m[2]));
	assert_false(alert_mark_ready(m[1]) || alert_mark_ready(m[3]));
	assert_false(alert_mark_bad(m[0]) || alert_mark_bad(0));
	assert_true(alert_mark_bad(m[1]) && alert_mark_bad(m[3]));
}

/* Every change between standings, named. */
static void
test_changes(void **state)
{
	struct verdict v[4] = {a_verdict(1, 3), a_verdict(1, 1),
	                       a_verdict(0, 3), a_verdict(0, 0)};
	/* rows: from good, spf_only, dkim_only, none; columns: to */
	static const enum alert_change want[4][4] = {
	    {ALERT_NONE, ALERT_BROKEN, ALERT_BROKEN, ALERT_BROKEN},
	    {ALERT_FIXED, ALERT_NONE, ALERT_ROTATION_GAINED, ALERT_WORSE},
	    {ALERT_FIXED, ALERT_ROTATION_LOST, ALERT_NONE, ALERT_WORSE},
	    {ALERT_FIXED, ALERT_BETTER, ALERT_BETTER, ALERT_NONE},
	};

	(void) state;
	for (int f = 0; f < 4; f++) {
		assert_int_equal(alert_change_of(0, alert_mark(&v[f])),
		                 ALERT_FIRST_SEEN);
		for (int t = 0; t < 4; t++)
			assert_string_equal(
			    alert_change_name(alert_change_of(
			        alert_mark(&v[f]), alert_mark(&v[t]))),
			    alert_change_name(want[f][t]));
	}
}

/* The messages the misconfiguration touched: not signed, not passed. */
static void
test_affected(void **state)
{
	struct cache_record r;

	(void) state;
	memset(&r, 0, sizeof(r));
	for (unsigned a = 0; a < CACHE_COUNTERS; a++)
		r.counters[a] = 1U << a; /* pass 1, sign 2, tag 4, ... */
	assert_int_equal(alert_affected(&r), 4 + 8 + 16 + 32);
}

static struct config *emit_cfg;
static const struct alert_event *emit_ev;

/* emit - log the event under test at level debug, logfmt */
static void
emit(void)
{
	struct log_settings s = {LOG_DEST_STDERR, 0, LOG_LEVEL_DEBUG,
	                         LOG_FORMAT_LOGFMT};

	log_setup(&s);
	alert_log(emit_ev, NULL);
}

/* line - what alert_log() writes for e, without the timestamp */
static char *
line(const struct alert_event *e)
{
	char path[] = "/tmp/rgalertXXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	char *text = xcalloc(1, 4096), *nl;

	assert_true(fd >= 0);
	emit_ev = e;
	dup2(fd, 2);
	emit();
	dup2(saved, 2);
	close(saved);
	assert_true(pread(fd, text, 4095, 0) >= 0);
	close(fd);
	unlink(path);
	if ((nl = strchr(text, '\n')) != NULL)
		*nl = '\0';
	memmove(text, strchr(text, ' ') + 1, strlen(strchr(text, ' ')));
	return text;
}

/* The lines, field by field. */
static void
test_lines(void **state)
{
	struct verdict good = a_verdict(1, 3), half = a_verdict(1, 1);
	struct cache_record r;
	struct alert_event e = {
	    ALERT_STATE,       emit_cfg,          "x.test", &half,
	    alert_mark(&good), alert_mark(&half), &r,       T0};
	char *text;

	(void) state;
	memset(&r, 0, sizeof(r));
	r.first_seen_bad = T0 - 86400;
	r.counters[2] = 5;
	r.counters[1] = 9;
	text = line(&e);
	assert_string_equal(
	    text, "level=warning event=domain_state domain=x.test "
	          "from=configured to=partial change=broken rotation_ready=no "
	          "reason=\"spf=pass; dkim=missing (sb._domainkey.x)\" "
	          "messages_affected=5 since=2023-11-13T22:13:20Z "
	          "policy=\"grace until 2023-11-20\"");
	free(text);
	e.kind = ALERT_REMINDER;
	e.from = e.to;
	e.domain = "over.test";
	e.now = T0 + 8 * 86400;
	text = line(&e);
	assert_string_equal(
	    text, "level=warning event=domain_reminder domain=over.test "
	          "state=partial rotation_ready=no "
	          "reason=\"spf=pass; dkim=missing (sb._domainkey.x)\" "
	          "messages_affected=5 since=2023-11-13T22:13:20Z "
	          "policy=\"enforced; override monitor\"");
	free(text);
	/* Fixed: no since, no policy; notice. */
	e = (struct alert_event){
	    ALERT_STATE,       emit_cfg,          "x.test", &good,
	    alert_mark(&half), alert_mark(&good), &r,       T0};
	r.first_seen_bad = 0;
	text = line(&e);
	assert_string_equal(
	    text, "level=notice event=domain_state domain=x.test from=partial "
	          "to=configured change=fixed rotation_ready=yes "
	          "reason=\"spf=pass; dkim=ok\" messages_affected=5");
	free(text);
	/* First seen, configured: info, from none. */
	e.from = 0;
	text = line(&e);
	assert_non_null(strstr(text, "level=info event=domain_state "
	                             "domain=x.test from=none to=configured "
	                             "change=first_seen "));
	free(text);
}

static int
setup(void **state)
{
	char why[512];

	(void) state;
	emit_cfg = config_load_string(test_conf, "t.conf", why, sizeof(why));
	if (emit_cfg == NULL)
		fprintf(stderr, "setup: %s\n", why);
	return emit_cfg == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void) state;
	config_release(emit_cfg);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_marks),
	    cmocka_unit_test(test_changes),
	    cmocka_unit_test(test_affected),
	    cmocka_unit_test(test_lines),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
