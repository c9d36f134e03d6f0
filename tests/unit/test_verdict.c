/*
 * test_verdict - condensing a check into a verdict: the overall state of
 * every combination that decides it, the TTL as the minimum over the parts
 * (0 when temporary), detail texts and their cuts, the signing selector,
 * rotation readiness, the SPF and DKIM renderings and the DMARC facts
 * round trip through dmarc_align().  Every check_result is built by hand.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check.h"
#include "config.h"
#include "dmarc.h"
#include "util.h"
#include "verdict.h"

#define DEL DKIM_CHECK_DELEGATED
#define MIS DKIM_CHECK_MISSING
#define TMP DKIM_CHECK_TEMPERROR
#define NOSEL (-1) /* a row's selector that is not there */

/* load - the configuration of text, asserting success */
static struct config *
load(const char *text)
{
	char why[1024] = "";
	struct config *cfg =
	    config_load_string(text, "t.conf", why, sizeof(why));

	if (cfg == NULL)
		fail_msg("expected to load, got: %s", why);
	return cfg;
}

/* set_selector - selector i of a check: state, usability, TTL, reason */
static void
set_selector(struct check_result *r, size_t i, enum dkim_check_state state,
             int usable, uint32_t ttl)
{
	struct dkim_check_result *d = &r->dkim[i];
	char domain[64], name[96];

	util_strlcpy(domain, r->domain, sizeof(domain));
	snprintf(name, sizeof(name), "prezent-%c._domainkey.%s", 'a' + (int) i,
	         domain);
	d->state = state;
	d->usable = usable;
	/* Who must act, as dkim_check says: our target without our key is
	   the provider's to fix. */
	d->fix = state == DEL                         ? DKIM_CHECK_FIX_NONE
	         : state == DKIM_CHECK_TARGET_MISSING ? DKIM_CHECK_FIX_PROVIDER
	         : state == TMP                       ? DKIM_CHECK_FIX_RETRY
	                                              : DKIM_CHECK_FIX_CUSTOMER;
	d->ttl = state == TMP ? 0 : ttl;
	snprintf(d->selector, sizeof(d->selector), "prezent-%c", 'a' + (int) i);
	util_strlcpy(d->name, name, sizeof(d->name));
	snprintf(d->reason, sizeof(d->reason), "dkim=%s (%s)",
	         dkim_check_state_name(state), name);
}

/*
 * mkcheck - a check of example.nl with SPF passing through the include,
 * both selectors delegated and no DMARC record; every TTL 3600.
 */
static struct check_result *
mkcheck(void)
{
	struct check_result *r = xcalloc(1, sizeof(*r));

	util_strlcpy(r->domain, "example.nl", sizeof(r->domain));
	r->parts = CHECK_ALL;
	r->relay_ok = 1;
	r->relay.n = 1;
	r->spf.result = SPF_CHECK_PASS;
	r->spf.reason = SPF_CHECK_R_MATCH;
	r->spf.has_include = 1;
	r->spf.lookups = 3;
	r->spf.ttl = 3600;
	r->spf.ttl_known = 1;
	util_strlcpy(r->spf.summary, "spf=pass (include:spf.dmrmail.nl)",
	             sizeof(r->spf.summary));
	r->ndkim = 2;
	set_selector(r, 0, DEL, 1, 3600);
	set_selector(r, 1, DEL, 1, 3600);
	r->dmarc.state = DMARC_NONE;
	r->dmarc.ttl = 3600;
	return r;
}

/* set_spf - the SPF part's result, with a summary in spf_check's form */
static void
set_spf(struct check_result *r, enum spf_check_result result)
{
	r->spf.result = result;
	r->spf.has_include = result == SPF_CHECK_PASS;
	r->spf.reason =
	    result == SPF_CHECK_TEMPERROR ? SPF_CHECK_R_DNS : SPF_CHECK_R_MATCH;
	if (result == SPF_CHECK_PASS)
		snprintf(r->spf.summary, sizeof(r->spf.summary),
		         "spf=pass (include:spf.dmrmail.nl)");
	else
		snprintf(r->spf.summary, sizeof(r->spf.summary),
		         "spf=%s (include:spf.dmrmail.nl missing)",
		         spf_check_result_name(result));
}

/* The overall state of one combination of parts. */
struct state_case {
	const char *what;
	enum spf_check_result spf;
	int a, a_usable; /* selector a's state; NOSEL: not checked */
	int b, b_usable;
	enum verdict_state state;
	uint8_t usable;
	uint8_t worst;
};

static const struct state_case state_cases[] = {
    {"SPF passes, both delegated", SPF_CHECK_PASS, DEL, 1, DEL, 1,
     VERDICT_CONFIGURED, 3, 0},
    {"only one selector configured, delegated", SPF_CHECK_PASS, DEL, 1, NOSEL,
     0, VERDICT_CONFIGURED, 1, 0},
    {"SPF passes, b missing", SPF_CHECK_PASS, DEL, 1, MIS, 0, VERDICT_PARTIAL,
     1, 1},
    {"SPF passes, a missing", SPF_CHECK_PASS, MIS, 0, DEL, 1, VERDICT_PARTIAL,
     2, 0},
    {"SPF passes, both copied: usable, not delegated", SPF_CHECK_PASS,
     DKIM_CHECK_COPIED, 1, DKIM_CHECK_COPIED, 1, VERDICT_PARTIAL, 3, 0},
    {"SPF passes, no selector", SPF_CHECK_PASS, MIS, 0, MIS, 0, VERDICT_PARTIAL,
     0, 0},
    /* The customer's part is done when the chain reaches our target;
       whether our key is there is the provider check's business. */
    {"SPF passes, target missing at the provider", SPF_CHECK_PASS, DEL, 1,
     DKIM_CHECK_TARGET_MISSING, 0, VERDICT_CONFIGURED, 3, 1},
    {"SPF fails, both delegated", SPF_CHECK_FAIL, DEL, 1, DEL, 1,
     VERDICT_PARTIAL, 3, 0},
    {"SPF permerror, a delegated", SPF_CHECK_PERMERROR, DEL, 1, MIS, 0,
     VERDICT_PARTIAL, 1, 1},
    {"SPF neutral, a copied", SPF_CHECK_NEUTRAL, DKIM_CHECK_COPIED, 1, MIS, 0,
     VERDICT_PARTIAL, 1, 0},
    {"SPF fails, nothing delegated", SPF_CHECK_FAIL, MIS, 0, MIS, 0,
     VERDICT_UNCONFIGURED, 0, 0},
    {"SPF none, nothing delegated", SPF_CHECK_NONE, MIS, 0, MIS, 0,
     VERDICT_UNCONFIGURED, 0, 0},
    {"SPF softfail, wrong target and foreign key", SPF_CHECK_SOFTFAIL,
     DKIM_CHECK_WRONG_TARGET, 0, DKIM_CHECK_KEY_MISMATCH, 0,
     VERDICT_UNCONFIGURED, 0, 0},
    {"SPF fails, target missing and dangling", SPF_CHECK_FAIL,
     DKIM_CHECK_TARGET_MISSING, 0, DKIM_CHECK_DANGLING, 0, VERDICT_PARTIAL, 1,
     0},
    {"SPF temperror, both delegated", SPF_CHECK_TEMPERROR, DEL, 1, DEL, 1,
     VERDICT_TEMPORARY, 3, 0},
    {"SPF passes, both selectors temperror", SPF_CHECK_PASS, TMP, 0, TMP, 0,
     VERDICT_TEMPORARY, 0, 0},
    {"SPF passes, a temperror, b missing", SPF_CHECK_PASS, TMP, 0, MIS, 0,
     VERDICT_TEMPORARY, 0, 0},
    {"SPF fails, a missing, b temperror", SPF_CHECK_FAIL, MIS, 0, TMP, 0,
     VERDICT_TEMPORARY, 0, 0},
    {"SPF passes, a delegated, b temperror: a can sign", SPF_CHECK_PASS, DEL, 1,
     TMP, 0, VERDICT_PARTIAL, 1, 1},
    {"SPF fails, a copied, b temperror: a can sign", SPF_CHECK_FAIL,
     DKIM_CHECK_COPIED, 1, TMP, 0, VERDICT_PARTIAL, 1, 0},
};

/* mkstate - a check with a state row's parts */
static struct check_result *
mkstate(const struct state_case *c)
{
	struct check_result *r = mkcheck();

	set_spf(r, c->spf);
	r->ndkim = 0;
	if (c->a != NOSEL)
		set_selector(r, r->ndkim++, (enum dkim_check_state) c->a,
		             c->a_usable, 3600);
	if (c->b != NOSEL)
		set_selector(r, r->ndkim++, (enum dkim_check_state) c->b,
		             c->b_usable, 3600);
	return r;
}

/* Every row: the state, and what the verdict kept of the parts. */
static void
test_states(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(state_cases) / sizeof(state_cases[0]);
	     i++) {
		const struct state_case *c = &state_cases[i];
		struct check_result *r = mkstate(c);
		struct verdict v;

		memset(&v, 0xa5, sizeof(v));
		verdict_from_check(r, &v);
		print_message("%s\n", c->what);
		assert_int_equal(v.version, VERDICT_VERSION);
		assert_string_equal(verdict_state_name(v.state),
		                    verdict_state_name(c->state));
		assert_int_equal(v.spf_result, c->spf);
		assert_int_equal(v.nselectors, r->ndkim);
		for (size_t s = 0; s < r->ndkim; s++)
			assert_int_equal(v.dkim_state[s], r->dkim[s].state);
		for (size_t s = r->ndkim; s < CONFIG_MAX_SELECTORS; s++)
			assert_int_equal(v.dkim_state[s], 0);
		assert_int_equal(v.dkim_usable, c->usable);
		assert_int_equal(v.dkim_worst, c->worst);
		assert_int_equal(verdict_spf_ok(&v), c->spf == SPF_CHECK_PASS);
		assert_int_equal(verdict_spf_temporary(&v),
		                 c->spf == SPF_CHECK_TEMPERROR);
		assert_int_equal(verdict_dkim_temporary(&v),
		                 c->usable == 0 &&
		                     (c->a == TMP || c->b == TMP));
		free(r);
	}
}

/* The SPF facts: reason, flags, counters clamped to a byte. */
static void
test_spf_facts(void **state)
{
	struct check_result *r = mkcheck();
	struct verdict v;

	(void) state;
	r->spf.has_include = 0;
	r->spf.authorized_other = 1;
	r->spf.reason = SPF_CHECK_R_DEFAULT;
	r->spf.lookups = 11;
	r->spf.voids = 2;
	verdict_from_check(r, &v);
	assert_int_equal(v.spf_flags, VERDICT_SPF_OTHER);
	assert_int_equal(v.spf_reason, SPF_CHECK_R_DEFAULT);
	assert_int_equal(v.spf_lookups, 11);
	assert_int_equal(v.spf_voids, 2);

	r->spf.has_include = 1;
	r->spf.authorized_other = 0;
	r->spf.lookups = 300;
	r->spf.voids = 1000;
	verdict_from_check(r, &v);
	assert_int_equal(v.spf_flags, VERDICT_SPF_INCLUDE);
	assert_int_equal(v.spf_lookups, 255);
	assert_int_equal(v.spf_voids, 255);
	free(r);
}

/* The TTL of one combination: every part's TTL, and which count. */
struct ttl_case {
	const char *what;
	uint32_t spf_ttl;
	int spf_known;
	int relay_derived, relay_ok;
	uint32_t relay_ttl;
	uint32_t a_ttl, b_ttl;
	int b_state;
	enum dmarc_state dmarc;
	uint32_t dmarc_ttl;
	enum spf_check_result spf;
	uint32_t ttl;
};

static const struct ttl_case ttl_cases[] = {
    {"all alike", 3600, 1, 0, 1, 0, 3600, 3600, DEL, DMARC_NONE, 3600,
     SPF_CHECK_PASS, 3600},
    {"SPF lowest", 60, 1, 0, 1, 0, 3600, 3600, DEL, DMARC_FOUND, 3600,
     SPF_CHECK_PASS, 60},
    {"SPF TTL not known: not counted", 60, 0, 0, 1, 0, 3600, 1800, DEL,
     DMARC_NONE, 3600, SPF_CHECK_PASS, 1800},
    {"relay addresses from the include record", 3600, 1, 1, 1, 30, 3600, 3600,
     DEL, DMARC_NONE, 3600, SPF_CHECK_PASS, 30},
    {"relay addresses unknown: their TTL not counted", 3600, 1, 1, 0, 30, 3600,
     3600, DEL, DMARC_NONE, 3600, SPF_CHECK_FAIL, 3600},
    {"configured relay addresses: no TTL", 3600, 1, 0, 1, 5, 3600, 3600, DEL,
     DMARC_NONE, 3600, SPF_CHECK_PASS, 3600},
    {"selector a lowest", 3600, 1, 0, 1, 0, 120, 3600, DEL, DMARC_NONE, 3600,
     SPF_CHECK_PASS, 120},
    {"selector b lowest", 3600, 1, 0, 1, 0, 3600, 90, MIS, DMARC_NONE, 3600,
     SPF_CHECK_FAIL, 90},
    {"DMARC (a negative answer) lowest", 3600, 1, 0, 1, 0, 3600, 3600, DEL,
     DMARC_NONE, 900, SPF_CHECK_PASS, 900},
    {"DMARC temperror: not counted", 3600, 1, 0, 1, 0, 3600, 1200, DEL,
     DMARC_TEMPERROR, 0, SPF_CHECK_PASS, 1200},
    {"a temperror selector is part of the verdict: 0", 3600, 1, 0, 1, 0, 3600,
     0, TMP, DMARC_NONE, 3600, SPF_CHECK_PASS, 0},
    {"SPF temperror: temporary, 0", 300, 1, 0, 1, 0, 3600, 3600, DEL,
     DMARC_NONE, 3600, SPF_CHECK_TEMPERROR, 0},
    {"nothing known: 0, not forever", 0, 0, 0, 1, 0, 0, 0, NOSEL,
     DMARC_TEMPERROR, 0, SPF_CHECK_FAIL, 0},
};

/* The TTL is the minimum over what the verdict depends on. */
static void
test_ttl(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(ttl_cases) / sizeof(ttl_cases[0]); i++) {
		const struct ttl_case *c = &ttl_cases[i];
		struct check_result *r = mkcheck();
		struct verdict v;

		set_spf(r, c->spf);
		r->spf.ttl = c->spf_known ? c->spf_ttl : 0;
		r->spf.ttl_known = c->spf_known;
		r->relay.derived = c->relay_derived;
		r->relay_ok = c->relay_ok;
		r->relay.ttl = c->relay_ttl;
		set_selector(r, 0, DEL, 1, c->a_ttl);
		if (c->b_state == NOSEL) {
			r->ndkim = 0;
		} else {
			set_selector(r, 1, (enum dkim_check_state) c->b_state,
			             c->b_state == DEL, c->b_ttl);
			r->dkim[1].ttl = c->b_ttl;
		}
		r->dmarc.state = c->dmarc;
		r->dmarc.ttl = c->dmarc_ttl;
		verdict_from_check(r, &v);
		print_message("%s\n", c->what);
		assert_int_equal(v.ttl, c->ttl);
		free(r);
	}
}

/* One detail text: what the part said, what the verdict keeps. */
struct detail_case {
	const char *what;
	const char *text;
	const char *detail;
};

#define S52 "abcdefghij.abcdefghij.abcdefghij.abcdefghij.abcdefgh"

static const struct detail_case detail_cases[] = {
    {"between the parentheses", "spf=fail (include:spf.dmrmail.nl missing)",
     "include:spf.dmrmail.nl missing"},
    {"nested parentheses: first open, last close",
     "spf=permerror (x.nl: bad term (ip4:192.0.2.1/33))",
     "x.nl: bad term (ip4:192.0.2.1/33)"},
    {"no parentheses: all of it", "the check did not finish",
     "the check did not finish"},
    {"empty parentheses", "spf=none ()", ""},
    {"55 bytes: the most that fits", "spf=x (" S52 "xyz)", S52 "xyz"},
    {"56 bytes: cut and marked", "spf=x (" S52 "xyzw)", S52 "..."},
    {"much longer: cut and marked", "spf=x (" S52 S52 S52 ")", S52 "..."},
    {"cut before the close by the part itself: after the open, marked",
     "dkim=cname_loop (" S52 " -> " S52 " -> " S52, S52 "..."},
};

/* Detail texts are the inside of the parts' texts, cut with "...". */
static void
test_details(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(detail_cases) / sizeof(detail_cases[0]);
	     i++) {
		const struct detail_case *c = &detail_cases[i];
		struct check_result *r = mkcheck();
		struct verdict v;

		util_strlcpy(r->spf.summary, c->text, sizeof(r->spf.summary));
		set_selector(r, 1, MIS, 0, 3600);
		util_strlcpy(r->dkim[1].reason, c->text,
		             sizeof(r->dkim[1].reason));
		verdict_from_check(r, &v);
		print_message("%s\n", c->what);
		assert_true(strlen(c->detail) < VERDICT_DETAIL);
		assert_string_equal(v.spf_detail, c->detail);
		assert_string_equal(v.dkim_detail, c->detail);
		free(r);
	}
}

/* The DKIM detail is the first selector that is not delegated. */
static void
test_worst_selector(void **state)
{
	struct check_result *r = mkcheck();
	struct verdict v;

	(void) state;
	verdict_from_check(r, &v);
	assert_string_equal(v.dkim_detail, "");
	set_selector(r, 1, DKIM_CHECK_WRONG_TARGET, 0, 3600);
	verdict_from_check(r, &v);
	assert_int_equal(v.dkim_worst, 1);
	assert_string_equal(v.dkim_detail, "prezent-b._domainkey.example.nl");
	set_selector(r, 0, MIS, 0, 3600);
	verdict_from_check(r, &v);
	assert_int_equal(v.dkim_worst, 0);
	assert_string_equal(v.dkim_detail, "prezent-a._domainkey.example.nl");
	free(r);
}

/* The signing selector: the preferred one if usable, else the first. */
struct signing_case {
	uint8_t nselectors;
	uint8_t usable;
	int preferred;
	int selector;
};

static const struct signing_case signing_cases[] = {
    {2, 3, 0, 0}, {2, 3, 1, 1},  {2, 1, 0, 0},  {2, 1, 1, 0},  {2, 2, 0, 1},
    {2, 2, 1, 1}, {2, 0, 0, -1}, {2, 0, 1, -1}, {2, 3, -1, 0}, {2, 2, -1, 1},
    {2, 2, 5, 1}, {3, 6, 0, 1},  {3, 5, 1, 0},  {3, 4, 0, 2},  {0, 0, 0, -1},
    {1, 1, 1, 0}, {2, 3, 40, 0}, {2, 2, -7, 1},
};

static void
test_signing_selector(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(signing_cases) / sizeof(signing_cases[0]);
	     i++) {
		const struct signing_case *c = &signing_cases[i];
		struct verdict v = {.nselectors = c->nselectors,
		                    .dkim_usable = c->usable};

		print_message("n=%u usable=%u preferred=%d\n", c->nselectors,
		              c->usable, c->preferred);
		assert_int_equal(verdict_signing_selector(&v, c->preferred),
		                 c->selector);
	}
}

/* Rotation-ready: every selector delegated, and at least one. */
/*
 * test_restrict - a selector whose chain reaches our target counts as
 * delegated; restricted to the keys published now it cannot sign, and the
 * state follows.  A temporary verdict stays temporary.
 */
static void
test_restrict(void **state)
{
	struct check_result *r = mkcheck();
	struct verdict v, w;

	(void) state;
	set_selector(r, 1, DKIM_CHECK_TARGET_MISSING, 0, 3600);
	verdict_from_check(r, &v);
	assert_int_equal(v.state, VERDICT_CONFIGURED);
	assert_int_equal(v.dkim_usable, 3);
	w = v;
	verdict_restrict(&w, 3);
	assert_int_equal(w.state, VERDICT_CONFIGURED);
	assert_int_equal(w.dkim_usable, 3);
	w = v;
	verdict_restrict(&w, 1);
	assert_int_equal(w.state, VERDICT_PARTIAL);
	assert_int_equal(w.dkim_usable, 1);
	assert_int_equal(verdict_signing_selector(&w, 1), 0);
	w = v;
	verdict_restrict(&w, 0);
	assert_int_equal(w.state, VERDICT_PARTIAL);
	assert_int_equal(verdict_signing_selector(&w, 0), -1);
	set_spf(r, SPF_CHECK_TEMPERROR);
	verdict_from_check(r, &v);
	verdict_restrict(&v, 0);
	assert_int_equal(v.state, VERDICT_TEMPORARY);
	free(r);
}

static void
test_rotation_ready(void **state)
{
	struct verdict v = {.nselectors = 2};

	(void) state;
	assert_true(verdict_rotation_ready(&v));
	v.dkim_state[1] = DKIM_CHECK_COPIED;
	assert_false(verdict_rotation_ready(&v));
	v.dkim_state[1] = TMP;
	assert_false(verdict_rotation_ready(&v));
	v.nselectors = 1;
	assert_true(verdict_rotation_ready(&v));
	v.nselectors = 0;
	assert_false(verdict_rotation_ready(&v));
}

/* verdict_of - the verdict of a state row */
static void
verdict_of(size_t row, struct verdict *v)
{
	struct check_result *r = mkstate(&state_cases[row]);

	verdict_from_check(r, v);
	free(r);
}

/* The SPF and DKIM clauses of the status header. */
static void
test_texts(void **state)
{
	struct config *cfg = load("");
	struct check_result *r = mkcheck();
	struct verdict v;
	char buf[200];

	(void) state;
	verdict_from_check(r, &v);
	verdict_spf_text(&v, buf, sizeof(buf));
	assert_string_equal(buf, "spf=pass (include:spf.dmrmail.nl)");
	verdict_dkim_text(&v, cfg, buf, sizeof(buf));
	assert_string_equal(buf, "dkim=ok");
	verdict_dkim_states(&v, cfg, buf, sizeof(buf));
	assert_string_equal(buf, "prezent-a:delegated,prezent-b:delegated");

	set_spf(r, SPF_CHECK_SOFTFAIL);
	set_selector(r, 0, MIS, 0, 3600);
	set_selector(r, 1, TMP, 0, 3600);
	verdict_from_check(r, &v);
	verdict_spf_text(&v, buf, sizeof(buf));
	assert_string_equal(buf,
	                    "spf=softfail (include:spf.dmrmail.nl missing)");
	verdict_dkim_text(&v, cfg, buf, sizeof(buf));
	assert_string_equal(buf,
	                    "dkim=missing (prezent-a._domainkey.example.nl)");
	verdict_dkim_states(&v, cfg, buf, sizeof(buf));
	assert_string_equal(buf, "prezent-a:missing,prezent-b:temperror");

	set_selector(r, 0, DEL, 1, 3600);
	set_selector(r, 1, DKIM_CHECK_CNAME_LOOP, 0, 3600);
	verdict_from_check(r, &v);
	verdict_dkim_text(&v, cfg, buf, sizeof(buf));
	assert_string_equal(
	    buf, "dkim=cname_loop (prezent-b._domainkey.example.nl)");

	r->spf.summary[0] = '\0';
	verdict_from_check(r, &v);
	verdict_spf_text(&v, buf, sizeof(buf));
	assert_string_equal(buf, "spf=softfail");
	free(r);
	config_release(cfg);
}

/*
 * A verdict made without selectors: the one the judge stands in with when
 * a check does not finish (temporary), or one without the DKIM part.
 */
static void
test_texts_without_selectors(void **state)
{
	struct config *cfg = load("");
	struct verdict v = {.version = VERDICT_VERSION,
	                    .state = VERDICT_TEMPORARY,
	                    .spf_result = SPF_CHECK_TEMPERROR};
	char buf[200];

	(void) state;
	util_strlcpy(v.spf_detail, "the check did not finish in time",
	             sizeof(v.spf_detail));
	verdict_spf_text(&v, buf, sizeof(buf));
	assert_string_equal(buf,
	                    "spf=temperror (the check did not finish in time)");
	verdict_dkim_text(&v, cfg, buf, sizeof(buf));
	assert_string_equal(buf, "dkim=temperror");
	assert_true(verdict_dkim_temporary(&v));
	verdict_dkim_states(&v, cfg, buf, sizeof(buf));
	assert_string_equal(buf, "");

	v.state = VERDICT_PARTIAL;
	v.spf_result = SPF_CHECK_PASS;
	verdict_dkim_text(&v, cfg, buf, sizeof(buf));
	assert_string_equal(buf, "dkim=none");
	assert_false(verdict_dkim_temporary(&v));
	config_release(cfg);
}

/* A buffer too small: cut, terminated and marked with "...". */
static void
test_texts_cut(void **state)
{
	struct config *cfg = load("");
	struct verdict v;
	char buf[64];

	(void) state;
	verdict_of(10, &v); /* SPF fails, nothing delegated */
	memset(buf, 'x', sizeof(buf));
	verdict_spf_text(&v, buf, 12);
	assert_string_equal(buf, "spf=fail...");
	assert_int_equal(buf[12], 'x');
	verdict_dkim_text(&v, cfg, buf, 16);
	assert_string_equal(buf, "dkim=missing...");
	verdict_dkim_states(&v, cfg, buf, 24);
	assert_string_equal(buf, "prezent-a:missing,pr...");
	verdict_dkim_states(&v, cfg, buf, 36);
	assert_string_equal(buf, "prezent-a:missing,prezent-b:missing");
	verdict_dkim_states(&v, cfg, buf, 35);
	assert_string_equal(buf, "prezent-a:missing,prezent-b:mis...");
	verdict_spf_text(&v, buf, 1);
	assert_string_equal(buf, "");
	config_release(cfg);
}

/* The states line names only configured selectors. */
static void
test_states_fewer_configured(void **state)
{
	struct config *cfg =
	    load("dkim: { active_selector = \"s1\"; selectors = ( { name = "
	         "\"s1\"; target = \"_dkim-1.prezent.nl\"; key = "
	         "\"/k/s1.pem\"; } ); };");
	struct verdict v;
	char buf[100];

	(void) state;
	verdict_of(2, &v); /* a delegated, b missing */
	verdict_dkim_states(&v, cfg, buf, sizeof(buf));
	assert_string_equal(buf, "s1:delegated");
	config_release(cfg);
}

static void
test_state_names(void **state)
{
	(void) state;
	assert_string_equal(verdict_state_name(VERDICT_CONFIGURED),
	                    "configured");
	assert_string_equal(verdict_state_name(VERDICT_PARTIAL), "partial");
	assert_string_equal(verdict_state_name(VERDICT_UNCONFIGURED),
	                    "unconfigured");
	assert_string_equal(verdict_state_name(VERDICT_TEMPORARY), "temporary");
	assert_string_equal(verdict_state_name((enum verdict_state) 9),
	                    "unknown");
}

/* One DMARC result a check may hold. */
struct dmarc_case {
	const char *what;
	const char *from;
	enum dmarc_state state;
	enum dmarc_policy policy;
	enum dmarc_mode adkim, aspf;
	int pct;
	int at_org;
	const char *record_domain;
};

static const struct dmarc_case dmarc_cases[] = {
    {"record at the From domain, strict DKIM, pct", "example.nl", DMARC_FOUND,
     DMARC_POLICY_REJECT, DMARC_MODE_STRICT, DMARC_MODE_RELAXED, 50, 0,
     "example.nl"},
    {"record at the Organizational Domain", "mail.example.nl", DMARC_FOUND,
     DMARC_POLICY_QUARANTINE, DMARC_MODE_RELAXED, DMARC_MODE_STRICT, 100, 1,
     "example.nl"},
    {"record at the registrable domain of a public suffix",
     "shop.example.co.uk", DMARC_FOUND, DMARC_POLICY_NONE, DMARC_MODE_RELAXED,
     DMARC_MODE_RELAXED, 100, 1, "example.co.uk"},
    {"no record", "example.nl", DMARC_NONE, DMARC_POLICY_NONE,
     DMARC_MODE_RELAXED, DMARC_MODE_RELAXED, 100, 0, ""},
    {"unusable record", "example.nl", DMARC_INVALID, DMARC_POLICY_NONE,
     DMARC_MODE_RELAXED, DMARC_MODE_RELAXED, 100, 0, "example.nl"},
    {"DNS failure", "example.nl", DMARC_TEMPERROR, DMARC_POLICY_NONE,
     DMARC_MODE_RELAXED, DMARC_MODE_RELAXED, 100, 0, ""},
};

/* The identities a message may carry, for alignment. */
struct identities {
	const char *dkim;
	const char *spf;
	int spf_passes;
};

static const struct identities identities[] = {
    {NULL, NULL, 0},
    {"@from", NULL, 0},
    {"@org", NULL, 0},
    {"other.nl", "@from", 1},
    {NULL, "@org", 1},
    {NULL, "@org", 0},
    {"other.nl", "bounces.other.nl", 1},
};

/* identity - a name of the identities table for a case */
static const char *
identity(const char *name, const struct dmarc_case *c)
{
	if (name == NULL || name[0] != '@')
		return name;
	return strcmp(name, "@from") == 0 ? c->from
	       : c->record_domain[0]      ? c->record_domain
	                                  : c->from;
}

/* mkdmarc - the DMARC part of a check, as dmarc_lookup() fills it */
static void
mkdmarc(const struct dmarc_case *c, struct dmarc_result *d)
{
	memset(d, 0, sizeof(*d));
	d->state = c->state;
	util_strlcpy(d->from_domain, c->from, sizeof(d->from_domain));
	util_strlcpy(d->org_domain, c->at_org ? c->record_domain : c->from,
	             sizeof(d->org_domain));
	util_strlcpy(d->record_domain, c->record_domain,
	             sizeof(d->record_domain));
	d->at_org = c->at_org;
	d->policy = c->policy;
	d->nrecords = c->state == DMARC_FOUND || c->state == DMARC_INVALID;
	d->record.p = c->policy;
	d->record.sp = c->policy;
	d->record.np = c->policy;
	d->record.adkim = c->adkim;
	d->record.aspf = c->aspf;
	d->record.pct = c->pct;
	d->ttl = c->state == DMARC_TEMPERROR ? 0 : 600;
	if (c->state == DMARC_INVALID)
		util_strlcpy(d->why, "p=bogus: not a policy", sizeof(d->why));
	if (c->state == DMARC_TEMPERROR)
		util_strlcpy(d->why, "_dmarc.example.nl: timeout after 3000 ms",
		             sizeof(d->why));
}

/*
 * align_equal - the same alignment for the original and the round trip;
 * the same text, but for the reason of an unusable record or a DNS
 * failure, which the verdict does not keep.
 */
static void
align_equal(const struct dmarc_case *c, const struct dmarc_result *orig,
            const struct dmarc_result *back)
{
	for (size_t i = 0; i < sizeof(identities) / sizeof(identities[0]);
	     i++) {
		const struct identities *id = &identities[i];
		struct dmarc_alignment a, b;

		dmarc_align(c->from, identity(id->dkim, c),
		            identity(id->spf, c), id->spf_passes, orig, &a);
		dmarc_align(c->from, identity(id->dkim, c),
		            identity(id->spf, c), id->spf_passes, back, &b);
		print_message("  identities %zu: %s\n", i, a.text);
		assert_int_equal(a.dkim_aligned, b.dkim_aligned);
		assert_int_equal(a.spf_aligned, b.spf_aligned);
		assert_int_equal(a.pass, b.pass);
		assert_int_equal(a.adkim, b.adkim);
		assert_int_equal(a.aspf, b.aspf);
		if (c->state == DMARC_FOUND || c->state == DMARC_NONE)
			assert_string_equal(a.text, b.text);
		else
			assert_memory_equal(a.text, b.text,
			                    strcspn(a.text, "(") + 1);
	}
}

/* The DMARC facts survive the verdict: dmarc_align() judges alike. */
static void
test_dmarc_round_trip(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(dmarc_cases) / sizeof(dmarc_cases[0]);
	     i++) {
		const struct dmarc_case *c = &dmarc_cases[i];
		struct check_result *r = mkcheck();
		struct dmarc_result back;
		struct verdict v;

		print_message("%s\n", c->what);
		util_strlcpy(r->domain, c->from, sizeof(r->domain));
		mkdmarc(c, &r->dmarc);
		verdict_from_check(r, &v);
		memset(&back, 0xa5, sizeof(back));
		verdict_dmarc(&v, c->from, &back);
		assert_int_equal(back.state, c->state);
		assert_string_equal(back.from_domain, c->from);
		assert_string_equal(back.org_domain, r->dmarc.org_domain);
		assert_string_equal(back.record_domain, c->record_domain);
		assert_int_equal(back.at_org, c->at_org);
		assert_int_equal(back.policy, c->policy);
		if (c->state != DMARC_INVALID)
			assert_int_equal(back.nrecords, r->dmarc.nrecords);
		assert_int_equal(back.record.adkim, c->adkim);
		assert_int_equal(back.record.aspf, c->aspf);
		assert_int_equal(back.record.pct, c->pct);
		assert_int_equal(back.why[0] != '\0',
		                 c->state == DMARC_INVALID ||
		                     c->state == DMARC_TEMPERROR);
		align_equal(c, &r->dmarc, &back);
		free(r);
	}
}

/*
 * The stored form: round trip with empty, short and longest texts; its
 * length is the fixed part and the texts; damaged or foreign bytes are
 * refused.
 */
static void
test_encode(void **state)
{
	static const char *texts[] = {"", "include:spf.dmrmail.nl missing",
	                              NULL};
	char longest[VERDICT_DETAIL];
	unsigned char buf[VERDICT_ENCODED_MAX + 1];
	struct verdict v, back;
	size_t len;

	(void) state;
	memset(longest, 'x', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	for (int i = 0; i < 3; i++) {
		const char *t = texts[i] != NULL ? texts[i] : longest;

		memset(&v, 0, sizeof(v));
		v.version = VERDICT_VERSION;
		v.state = VERDICT_PARTIAL;
		v.dkim_usable = 2;
		v.ttl = 3600;
		util_strlcpy(v.spf_detail, t, sizeof(v.spf_detail));
		util_strlcpy(v.dkim_detail, "prezent-a._domainkey.x.nl",
		             sizeof(v.dkim_detail));
		len = verdict_encode(&v, buf);
		assert_int_equal(len, VERDICT_FIXED + strlen(t) + 1 + 26);
		memset(&back, 0xa5, sizeof(back));
		assert_int_equal(verdict_decode(buf, len, &back), 0);
		assert_memory_equal(&back, &v, sizeof(v));
		/* one byte short, one byte over, another version */
		assert_int_equal(verdict_decode(buf, len - 1, &back), -1);
		buf[len] = 'y';
		assert_int_equal(verdict_decode(buf, len + 1, &back), -1);
		buf[0] = VERDICT_VERSION + 1;
		assert_int_equal(verdict_decode(buf, len, &back), -1);
	}
	util_strlcpy(v.dkim_detail, longest, sizeof(v.dkim_detail));
	assert_int_equal(verdict_encode(&v, buf), VERDICT_ENCODED_MAX);
	/* a text without its NUL within VERDICT_DETAIL bytes */
	memset(buf, 'z', sizeof(buf));
	memcpy(buf, &v, VERDICT_FIXED);
	buf[VERDICT_ENCODED_MAX - 1] = '\0';
	assert_int_equal(verdict_decode(buf, VERDICT_ENCODED_MAX, &back), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_states),
	    cmocka_unit_test(test_spf_facts),
	    cmocka_unit_test(test_ttl),
	    cmocka_unit_test(test_details),
	    cmocka_unit_test(test_worst_selector),
	    cmocka_unit_test(test_signing_selector),
	    cmocka_unit_test(test_rotation_ready),
	    cmocka_unit_test(test_restrict),
	    cmocka_unit_test(test_texts),
	    cmocka_unit_test(test_texts_without_selectors),
	    cmocka_unit_test(test_texts_cut),
	    cmocka_unit_test(test_states_fewer_configured),
	    cmocka_unit_test(test_state_names),
	    cmocka_unit_test(test_dmarc_round_trip),
	    cmocka_unit_test(test_encode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
