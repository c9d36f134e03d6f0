/*
 * test_advise - the message to a DNS administrator, from the shipped
 * templates (conf/advise/en.txt and nl.txt) and check results made by
 * hand: the SPF record to publish merged with theirs (-all, ~all,
 * redirect=, another host's include, over the lookup limit, none yet),
 * the CNAMEs, the removal of copied keys, DMARC, and "nothing to do".
 * Every expected record is written out here, not taken from the output.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "advise.h"
#include "check_report.h"
#include "util.h"

#define DOM "example.nl"
#define MAXS 6

/* A domain's DNS as the check found it, and what the message must say. */
struct advise_case {
	const char *name;
	const char *record; /* NULL: no SPF record */
	enum spf_check_result spf;
	int lookups;                /* a full evaluation's, -1 unknown */
	enum dkim_check_state dkim; /* both selectors */
	enum dmarc_state dmarc;
	const char *both[MAXS]; /* in both languages */
	const char *en[MAXS], *nl[MAXS];
	const char *not_en[MAXS], *not_nl[MAXS];
};

#define CNAME_A "prezent-a._domainkey." DOM ". IN CNAME _dkim-a.prezent.nl."
#define CNAME_B "prezent-b._domainkey." DOM ". IN CNAME _dkim-b.prezent.nl."
#define DMARC_SUGGESTION "_dmarc." DOM ". IN TXT \"v=DMARC1; p=none\""

static const struct advise_case cases[] = {
    {"-all kept, include before it",
     "v=spf1 +mx +a -all",
     SPF_CHECK_FAIL,
     2,
     DKIM_CHECK_MISSING,
     DMARC_NONE,
     {DOM ". IN TXT \"v=spf1 +mx +a include:spf.dmrmail.nl -all\"",
      "    v=spf1 +mx +a -all\n", "    " CNAME_A "\n    " CNAME_B "\n",
      DMARC_SUGGESTION},
     {"only adds include:spf.dmrmail.nl before \"-all\":",
      "has no DMARC record"},
     {"alleen include:spf.dmrmail.nl komt erbij, vóór \"-all\":",
      "heeft geen DMARC-record"},
     {"everything is in place", "redirect", "lookups"},
     {"alles is in orde", "redirect", "DNS-opvragingen"}},
    {"~all kept",
     "v=spf1 a mx ~all",
     SPF_CHECK_SOFTFAIL,
     2,
     DKIM_CHECK_DELEGATED,
     DMARC_FOUND,
     {DOM ". IN TXT \"v=spf1 a mx include:spf.dmrmail.nl ~all\""},
     {"before \"~all\":",
      "The DKIM records (prezent-a, prezent-b) are in "
      "place",
      "has a DMARC record (policy reject)"},
     {"vóór \"~all\":",
      "De DKIM-records (prezent-a, prezent-b) zijn in "
      "orde",
      "heeft een DMARC-record (beleid reject)"},
     {CNAME_A, DMARC_SUGGESTION},
     {CNAME_A, DMARC_SUGGESTION}},
    {"redirect= kept, include before it",
     "v=spf1 redirect=_spf." DOM,
     SPF_CHECK_FAIL,
     2,
     DKIM_CHECK_DELEGATED,
     DMARC_NONE,
     {DOM ". IN TXT \"v=spf1 include:spf.dmrmail.nl redirect=_spf." DOM "\""},
     {"Your record ends in a redirect=, which stays"},
     {"Uw record eindigt op een redirect=, die blijft staan"},
     {"before \"", NULL},
     {"vóór \"", NULL}},
    {"another host's include kept",
     "v=spf1 include:_spf.hoster.example -all",
     SPF_CHECK_FAIL,
     4,
     DKIM_CHECK_DELEGATED,
     DMARC_FOUND,
     {DOM ". IN TXT \"v=spf1 include:_spf.hoster.example "
          "include:spf.dmrmail.nl -all\""},
     {"It keeps everything your record"},
     {"Alles uit uw record"},
     {"lookups for an SPF record"},
     {"DNS-opvragingen"}},
    {"over the lookup limit: said, with what to do",
     "v=spf1 a mx include:_spf.hoster.example include:big.example -all",
     SPF_CHECK_FAIL,
     10,
     DKIM_CHECK_DELEGATED,
     DMARC_FOUND,
     {DOM ". IN TXT \"v=spf1 a mx include:_spf.hoster.example "
          "include:big.example include:spf.dmrmail.nl -all\""},
     {"receivers allow at most 10 DNS lookups for an SPF record",
      "this record needs 11.", "write the addresses of your own servers",
      "do not copy our addresses"},
     {"hoogstens 10\nDNS-opvragingen", "er 11 nodig", "als ip4:/ip6: schrijven",
      "Kopieer alstublieft niet onze adressen"},
     {"at least"},
     {"minstens"}},
    {"no SPF record: a new one",
     NULL,
     SPF_CHECK_NONE,
     -1,
     DKIM_CHECK_DELEGATED,
     DMARC_FOUND,
     {DOM ". IN TXT \"v=spf1 include:spf.dmrmail.nl ~all\""},
     {DOM " has no SPF record yet"},
     {DOM " heeft nog geen SPF-record"},
     {"Your current SPF record"},
     {"Uw huidige SPF-record"}},
    {"a copied key: remove the TXT records first",
     "v=spf1 include:spf.dmrmail.nl -all",
     SPF_CHECK_PASS,
     1,
     DKIM_CHECK_COPIED,
     DMARC_FOUND,
     {"    prezent-a._domainkey." DOM "\n    prezent-b._domainkey." DOM "\n",
      "    " CNAME_A "\n    " CNAME_B "\n"},
     {"Your SPF record already authorizes our relay",
      "First remove the TXT records"},
     {"Uw SPF-record staat onze relay al toe",
      "Verwijder eerst de TXT-records"},
     {"IN TXT \"v=spf1"},
     {"IN TXT \"v=spf1"}},
    {"everything in place",
     "v=spf1 +mx +a include:spf.dmrmail.nl -all",
     SPF_CHECK_PASS,
     3,
     DKIM_CHECK_DELEGATED,
     DMARC_FOUND,
     {"DMARC", NULL},
     {"everything is in place"},
     {"alles is in orde"},
     {"1. SPF", "2. DKIM", "IN CNAME", "please reply"},
     {"1. SPF", "2. DKIM", "IN CNAME", "antwoorden"}},
};

static struct config *cfg;

/* setup - the configuration with the source tree's templates */
static int
setup(void **state)
{
	const char *dir = getenv("RELAYGATE_SOURCE_DIR");
	char why[512], *text;

	(void) state;
	assert_non_null(dir);
	text = xasprintf("relay: { addresses = [ \"192.0.2.25\" ]; };\n"
	                 "advise: { templates = \"%s/conf/advise\"; };\n",
	                 dir);
	cfg = config_load_string(text, "t.conf", why, sizeof(why));
	free(text);
	if (cfg == NULL)
		fail_msg("%s", why);
	return 0;
}

/* teardown - release the configuration */
static int
teardown(void **state)
{
	(void) state;
	config_release(cfg);
	return 0;
}

/* fake_spf - the SPF part of a check */
static void
fake_spf(struct check_result *c, const struct advise_case *t)
{
	c->relay_ok = 1;
	c->relay.n = 1;
	util_strlcpy(c->relay.addr[0], "192.0.2.25", sizeof(c->relay.addr[0]));
	util_strlcpy(c->relay.source, "relay.addresses",
	             sizeof(c->relay.source));
	c->spf.result = t->spf;
	c->spf.record_status =
	    t->record ? SPF_CHECK_REC_PRESENT : SPF_CHECK_REC_ABSENT;
	util_strlcpy(c->spf.record, t->record ? t->record : "",
	             sizeof(c->spf.record));
	c->spf.has_include =
	    t->record && strstr(t->record, "include:spf.dmrmail.nl");
	snprintf(c->spf.summary, sizeof(c->spf.summary), "spf=%s (test)",
	         spf_check_result_name(t->spf));
}

/* fake_dkim - one selector in the given state */
static void
fake_dkim(struct check_result *c, size_t i, enum dkim_check_state st)
{
	const struct config_selector *sel = &cfg->dkim_selectors[i];
	struct dkim_check_result *d = &c->dkim[i];

	util_strlcpy(d->selector, sel->name, sizeof(d->selector));
	util_catf(d->name, sizeof(d->name), "%s._domainkey.%s", sel->name,
	          c->domain);
	util_strlcpy(d->target, sel->target, sizeof(d->target));
	d->state = st;
	d->usable = st == DKIM_CHECK_DELEGATED || st == DKIM_CHECK_COPIED;
	d->fix = st == DKIM_CHECK_DELEGATED ? DKIM_CHECK_FIX_NONE
	                                    : DKIM_CHECK_FIX_CUSTOMER;
	d->nchain = st == DKIM_CHECK_DELEGATED;
	util_strlcpy(d->chain[0], sel->target, sizeof(d->chain[0]));
	snprintf(d->expected, sizeof(d->expected), "%s CNAME %s.", d->name,
	         d->target);
	util_catf(d->reason, sizeof(d->reason), "dkim=%s (%s)",
	          dkim_check_state_name(st), d->name);
}

/* fake_report - the report of a check made by hand */
static void
fake_report(const struct advise_case *t, struct check_report *r)
{
	struct check_result *c = xcalloc(1, sizeof(*c));
	struct check_report_in in = {.cfg = cfg, .check = c};

	util_strlcpy(c->domain, DOM, sizeof(c->domain));
	c->parts = CHECK_ALL;
	fake_spf(c, t);
	c->ndkim = cfg->dkim_nselectors;
	for (size_t i = 0; i < c->ndkim; i++)
		fake_dkim(c, i, t->dkim);
	c->dmarc.state = t->dmarc;
	c->dmarc.policy = DMARC_POLICY_REJECT;
	util_strlcpy(c->dmarc.record_domain, DOM,
	             sizeof(c->dmarc.record_domain));
	in.merge.lookups = t->lookups;
	in.merge.lookups_exact = t->lookups >= 0;
	in.merge.include_lookups = 0;
	in.merge.include_lookups_exact = 1;
	check_report_build(&in, r);
	free(c);
}

/* render - one language's message for a report */
static char *
render(const struct check_report *r, const char *lang)
{
	char path[1024], why[512], *text, *msg;
	size_t len;
	FILE *f;

	if (advise_template_path(cfg, lang, path, sizeof(path), why,
	                         sizeof(why)) < 0)
		fail_msg("%s", why);
	f = fopen(path, "r");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	text = xmalloc(65536);
	len = fread(text, 1, 65536, f);
	fclose(f);
	msg = advise_render(text, len, r, cfg, why, sizeof(why));
	if (msg == NULL)
		fail_msg("%s: %s", path, why);
	free(text);
	return msg;
}

/* expect - every text of want in msg, none of unwanted */
static void
expect(const char *what, const char *lang, const char *msg,
       const char *const *want, const char *const *unwanted)
{
	for (size_t i = 0; i < MAXS && want[i] != NULL; i++)
		if (strstr(msg, want[i]) == NULL)
			fail_msg("%s (%s): lacks '%s':\n%s", what, lang,
			         want[i], msg);
	for (size_t i = 0; i < MAXS && unwanted[i] != NULL; i++)
		if (strstr(msg, unwanted[i]) != NULL)
			fail_msg("%s (%s): has '%s':\n%s", what, lang,
			         unwanted[i], msg);
}

/* test_messages - every case in both languages */
static void
test_messages(void **state)
{
	struct check_report *r = xmalloc(sizeof(*r));

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct advise_case *t = &cases[i];
		char *en, *nl;

		fake_report(t, r);
		en = render(r, "en");
		nl = render(r, "nl");
		expect(t->name, "en", en, t->both, t->not_en);
		expect(t->name, "nl", nl, t->both, t->not_nl);
		expect(t->name, "en", en, t->en, t->not_en);
		expect(t->name, "nl", nl, t->nl, t->not_nl);
		/* every tag was filled in */
		assert_null(strstr(en, "{{"));
		assert_null(strstr(nl, "{{"));
		free(en);
		free(nl);
	}
	free(r);
}

/* test_bad_language - no path tricks in --lang */
static void
test_bad_language(void **state)
{
	static const char *const bad[] = {"", "../etc/passwd", "NL", "n/l",
	                                  "abcdefghijklmnopq"};
	char path[1024], why[256];

	(void) state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(advise_template_path(cfg, bad[i], path,
		                                      sizeof(path), why,
		                                      sizeof(why)),
		                 -1);
}

/* test_broken_template - an operator's typo names the line */
static void
test_broken_template(void **state)
{
	static const char text[] = "Dear {{domain}},\n{{#spf_chnage}}\n";
	struct check_report *r = xmalloc(sizeof(*r));
	char why[256];

	(void) state;
	fake_report(&cases[0], r);
	assert_null(
	    advise_render(text, strlen(text), r, cfg, why, sizeof(why)));
	assert_string_equal(why, "line 2: unknown variable 'spf_chnage'");
	free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_messages),
	    cmocka_unit_test(test_bad_language),
	    cmocka_unit_test(test_broken_template),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
