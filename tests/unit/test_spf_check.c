/*
 * test_spf_check - relay authorization by SPF over a fake DNS.
 *
 * Every case loads zone text into fake_dns (which stands in for dns.c
 * behind dns.h) and checks the verdict for the relay addresses
 * 192.0.2.25 and 2001:db8::25, whose provider include spf.dmrmail.nl
 * lists both.  Beyond results the cases check the reasons a customer's
 * DNS administrator reads, that hostile records never reach libspf2,
 * that the lookup limits hold over a whole evaluation and stop the
 * queries, that DNS trouble is never permanent, and the TTL.
 */

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "fake_dns.h"
#include "spf_check.h"
#include "util.h"

/* The provider's include, as the world's dmrmail.nl zone has it. */
#define PROVIDER                                                               \
	"spf.dmrmail.nl 300 TXT \"v=spf1 ip4:192.0.2.25 ip6:2001:db8::25 "     \
	"-all\"\n"

static struct config *cfg;
static struct dns *dns;
static struct spf_check *sc;
static struct spf_check_verdict verdict;
static struct spf_check_eval eval;

/* zone - load zone text into the fake DNS, on top of the provider's */
static void
zone(const char *text)
{
	char why[256];

	fake_dns_reset();
	if (fake_dns_load(PROVIDER, why, sizeof(why)) < 0 ||
	    fake_dns_load(text, why, sizeof(why)) < 0)
		fail_msg("zone: %s", why);
}

/* check - the verdict for domain, without a deadline */
static const struct spf_check_verdict *
check(const char *domain)
{
	assert_int_equal(spf_check_domain(sc, cfg, domain, 0, &verdict), 0);
	return &verdict;
}

/* contains - fail unless text contains part */
static void
contains(const char *text, const char *part)
{
	if (strstr(text, part) == NULL)
		fail_msg("'%s' does not contain '%s'", text, part);
}

static int
setup(void **state)
{
	char why[512];

	(void) state;
	cfg = config_load_string(
	    "relay: { addresses = [ \"192.0.2.25\", \"2001:db8::25\" ]; "
	    "spf_include = \"spf.dmrmail.nl\"; };",
	    "t.conf", why, sizeof(why));
	if (cfg == NULL)
		fail_msg("config: %s", why);
	dns = dns_open(cfg, why, sizeof(why));
	sc = spf_check_open(cfg, dns, why, sizeof(why));
	if (sc == NULL)
		fail_msg("spf_check_open: %s", why);
	return 0;
}

static int
teardown(void **state)
{
	(void) state;
	spf_check_close(sc);
	dns_close(dns);
	config_release(cfg);
	fake_dns_reset();
	return 0;
}

struct verdict_case {
	const char *name;
	const char *zone;
	const char *domain;
	enum spf_check_result result;
	enum spf_check_reason reason;
	const char *summary; /* a substring of the summary */
};

/* Results and reasons of ordinary records, one per row. */
static const struct verdict_case verdict_cases[] = {
    {"pass via include",
     "c.test TXT \"v=spf1 +mx +a include:spf.dmrmail.nl -all\"\n"
     "c.test MX 10 mail.c.test\nmail.c.test A 192.0.2.81\n"
     "c.test A 192.0.2.80\n",
     "c.test", SPF_CHECK_PASS, SPF_CHECK_R_MATCH,
     "spf=pass (include:spf.dmrmail.nl)"},
    {"pass via ip4 and ip6",
     "c.test TXT \"v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all\"\n",
     "c.test", SPF_CHECK_PASS, SPF_CHECK_R_MATCH,
     "spf=pass (relay authorized without include:spf.dmrmail.nl)"},
    {"pass via another include",
     "c.test TXT \"v=spf1 include:_spf.host.test -all\"\n"
     "_spf.host.test TXT \"v=spf1 ip4:192.0.2.25 ip6:2001:db8::25 ~all\"\n",
     "c.test", SPF_CHECK_PASS, SPF_CHECK_R_MATCH,
     "relay authorized without include"},
    {"ip4 only: IPv6 fails", "c.test TXT \"v=spf1 ip4:192.0.2.25 -all\"\n",
     "c.test", SPF_CHECK_FAIL, SPF_CHECK_R_MATCH,
     "spf=fail (include:spf.dmrmail.nl missing)"},
    {"fail without our include",
     "c.test TXT \"v=spf1 mx a -all\"\nc.test A 192.0.2.80\n"
     "c.test MX 10 c.test\n",
     "c.test", SPF_CHECK_FAIL, SPF_CHECK_R_MATCH,
     "spf=fail (include:spf.dmrmail.nl missing)"},
    {"include after -all",
     "c.test TXT \"v=spf1 -all include:spf.dmrmail.nl\"\n", "c.test",
     SPF_CHECK_FAIL, SPF_CHECK_R_MATCH,
     "spf=fail (include:spf.dmrmail.nl present, 192.0.2.25 not "
     "authorized)"},
    {"softfail", "c.test TXT \"v=spf1 ip4:198.51.100.1 ~all\"\n", "c.test",
     SPF_CHECK_SOFTFAIL, SPF_CHECK_R_MATCH, "spf=softfail (include:"},
    {"neutral", "c.test TXT \"v=spf1 ?all\"\n", "c.test", SPF_CHECK_NEUTRAL,
     SPF_CHECK_R_MATCH, "spf=neutral"},
    {"neutral by default", "c.test TXT \"v=spf1 ip4:198.51.100.1\"\n", "c.test",
     SPF_CHECK_NEUTRAL, SPF_CHECK_R_DEFAULT, "spf=neutral"},
    {"empty record (libspf2 needs \"v=spf1 \")", "c.test TXT \"v=spf1\"\n",
     "c.test", SPF_CHECK_NEUTRAL, SPF_CHECK_R_DEFAULT, "spf=neutral"},
    {"upper-case version and terms",
     "c.test TXT \"V=SPF1 INCLUDE:SPF.DMRMAIL.NL -ALL\"\n", "c.test",
     SPF_CHECK_PASS, SPF_CHECK_R_MATCH, "spf=pass (include:spf.dmrmail.nl)"},
    {"split strings",
     "c.test TXT \"v=spf1 include:spf.dm\" \"rmail.nl -all\"\n", "c.test",
     SPF_CHECK_PASS, SPF_CHECK_R_MATCH, "spf=pass"},
    {"record behind a CNAME",
     "c.test CNAME spf.host.test\n"
     "spf.host.test TXT \"v=spf1 include:spf.dmrmail.nl -all\"\n",
     "c.test", SPF_CHECK_PASS, SPF_CHECK_R_MATCH, "spf=pass"},
    {"none: NXDOMAIN", "", "c.test", SPF_CHECK_NONE, SPF_CHECK_R_NO_DOMAIN,
     "spf=none (the domain does not exist)"},
    {"none: NODATA", "c.test A 192.0.2.80\n", "c.test", SPF_CHECK_NONE,
     SPF_CHECK_R_NO_RECORD, "spf=none (no SPF record)"},
    {"none: TXT but no v=spf1",
     "c.test TXT \"google-site-verification=abc\"\n"
     "c.test TXT \"v=spf10 -all\"\nc.test TXT \"v=spf1-all\"\n",
     "c.test", SPF_CHECK_NONE, SPF_CHECK_R_NO_RECORD,
     "spf=none (no SPF record)"},
    {"none: not a domain", "", "not..a.domain", SPF_CHECK_NONE,
     SPF_CHECK_R_BAD_DOMAIN, "spf=none ("},
    {"none: single label", "", "localhost", SPF_CHECK_NONE,
     SPF_CHECK_R_BAD_DOMAIN, "multi-label"},
    {"two records",
     "c.test TXT \"v=spf1 include:spf.dmrmail.nl -all\"\n"
     "c.test TXT \"v=spf1 mx -all\"\n",
     "c.test", SPF_CHECK_PERMERROR, SPF_CHECK_R_MULTIPLE,
     "spf=permerror (2 SPF records at c.test)"},
    {"syntax error: our reason",
     "c.test TXT \"v=spf1 mx a ip4:300.1.1.1 -all\"\n", "c.test",
     SPF_CHECK_PERMERROR, SPF_CHECK_R_SYNTAX,
     "spf=permerror (term 3 'ip4:300.1.1.1': bad IPv4 address"},
    {"syntax error in an include: named",
     "c.test TXT \"v=spf1 include:x.test include:spf.dmrmail.nl -all\"\n"
     "x.test TXT \"v=spf1 a ptr ip4:300.1.1.1\"\n",
     "c.test", SPF_CHECK_PERMERROR, SPF_CHECK_R_SYNTAX,
     "(include:x.test: term 3 'ip4:300.1.1.1': bad IPv4 address"},
    {"syntax error behind redirect: named",
     "c.test TXT \"v=spf1 redirect=r.test\"\n"
     "r.test TXT \"v=spf1 foo:bar -all\"\n",
     "c.test", SPF_CHECK_PERMERROR, SPF_CHECK_R_SYNTAX,
     "(redirect=r.test: term 1 'foo:bar'"},
    {"include of a domain without SPF",
     "c.test TXT \"v=spf1 include:x.test include:spf.dmrmail.nl -all\"\n"
     "x.test A 192.0.2.1\n",
     "c.test", SPF_CHECK_PERMERROR, SPF_CHECK_R_TARGET_NONE,
     "(include:x.test: no SPF record)"},
    {"include of a nonexistent domain",
     "c.test TXT \"v=spf1 include:x.test -all\"\n", "c.test",
     SPF_CHECK_PERMERROR, SPF_CHECK_R_TARGET_NONE,
     "(include:x.test: the domain does not exist)"},
    {"redirect passes",
     "c.test TXT \"v=spf1 ip4:198.51.100.1 redirect=_spf.c.test\"\n"
     "_spf.c.test TXT \"v=spf1 include:spf.dmrmail.nl -all\"\n",
     "c.test", SPF_CHECK_PASS, SPF_CHECK_R_MATCH,
     "relay authorized without include"},
    {"redirect loop", "c.test TXT \"v=spf1 redirect=c.test\"\n", "c.test",
     SPF_CHECK_PERMERROR, SPF_CHECK_R_LOOP, "loop"},
    {"include loop hits the lookup limit",
     "c.test TXT \"v=spf1 include:d.test -all\"\n"
     "d.test TXT \"v=spf1 include:c.test -all\"\n",
     "c.test", SPF_CHECK_PERMERROR, SPF_CHECK_R_LOOKUP_LIMIT,
     "11 DNS lookups, limit 10"},
    {"RFC-valid, but libspf2 refuses mx/0", "c.test TXT \"v=spf1 mx/0 -all\"\n",
     "c.test", SPF_CHECK_PERMERROR, SPF_CHECK_R_UNSUPPORTED,
     "libspf2 cannot compile this RFC 7208 record"},
    {"ip4:0.0.0.0/0 and ip6:::/0 (libspf2 refuses /0: rewritten)",
     "c.test TXT \"v=spf1 ip4:0.0.0.0/0 ip6:::/0 -all\"\n", "c.test",
     SPF_CHECK_PASS, SPF_CHECK_R_MATCH, "relay authorized without"},
    {"a/0 for IPv4 is exists:, the //0 for IPv6 does not apply",
     "c.test TXT \"v=spf1 a:h.test/0 ip6:2001:db8::25 "
     "-all\"\nh.test A 198.51.100.1\n",
     "c.test", SPF_CHECK_PASS, SPF_CHECK_R_MATCH, "relay authorized"},
    {"\"R\" in a macro (libspf2 knows \"r\" only)",
     "c.test TXT \"v=spf1 exists:%{iR}.x.test -all\"\n"
     "25.2.0.192.x.test A 127.0.0.2\n"
     "5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.x.test "
     "A 127.0.0.2\n",
     "c.test", SPF_CHECK_PASS, SPF_CHECK_R_MATCH, "relay authorized"},
    {"modifiers act after the mechanisms; unknown ones are ignored",
     "c.test TXT \"v=spf1 redirect=c.test moo.cow-far_out=x "
     "include:spf.dmrmail.nl -all\"\n",
     "c.test", SPF_CHECK_PASS, SPF_CHECK_R_MATCH,
     "spf=pass (include:spf.dmrmail.nl)"},
    {"top-level TEMPFAIL", "c.test TEMPFAIL\n", "c.test", SPF_CHECK_TEMPERROR,
     SPF_CHECK_R_DNS, "spf=temperror (SERVFAIL on c.test TXT)"},
    {"TEMPFAIL inside include",
     "c.test TXT \"v=spf1 include:x.test include:spf.dmrmail.nl -all\"\n"
     "x.test TEMPFAIL TXT\n",
     "c.test", SPF_CHECK_TEMPERROR, SPF_CHECK_R_DNS,
     "(SERVFAIL on x.test TXT)"},
    {"TEMPFAIL of an a mechanism",
     "c.test TXT \"v=spf1 a:h.test include:spf.dmrmail.nl -all\"\n"
     "h.test TEMPFAIL\n",
     "c.test", SPF_CHECK_TEMPERROR, SPF_CHECK_R_DNS, "(SERVFAIL on h.test A)"},
    {"mx with 11 MX records",
     "c.test TXT \"v=spf1 mx include:spf.dmrmail.nl -all\"\n"
     "c.test MX 1 m1.test\nc.test MX 2 m2.test\nc.test MX 3 m3.test\n"
     "c.test MX 4 m4.test\nc.test MX 5 m5.test\nc.test MX 6 m6.test\n"
     "c.test MX 7 m7.test\nc.test MX 8 m8.test\nc.test MX 9 m9.test\n"
     "c.test MX 10 m10.test\nc.test MX 11 m11.test\n"
     "*.test A 198.51.100.9\n*.test AAAA 2001:db8:1::9\n",
     "c.test", SPF_CHECK_PERMERROR, SPF_CHECK_R_MX_LIMIT,
     "more than 10 MX records"},
};

/* test_verdicts - the table above */
static void
test_verdicts(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(verdict_cases) / sizeof(verdict_cases[0]);
	     i++) {
		const struct verdict_case *c = &verdict_cases[i];
		const struct spf_check_verdict *v;

		zone(c->zone);
		v = check(c->domain);
		if (v->result != c->result || v->reason != c->reason ||
		    strstr(v->summary, c->summary) == NULL)
			fail_msg("%s: got %s/%s '%s', want %s/%s '%s'", c->name,
			         spf_check_result_name(v->result),
			         spf_check_reason_name(v->reason), v->summary,
			         spf_check_result_name(c->result),
			         spf_check_reason_name(c->reason), c->summary);
	}
}

/* The verdict's details: both addresses, the record, the include. */
static void
test_details(void **state)
{
	const struct spf_check_verdict *v;

	(void) state;
	zone("c.test 600 TXT \"v=spf1 mx include:spf.dmrmail.nl -all\"\n"
	     "c.test MX 10 mail.c.test\nmail.c.test A 192.0.2.81\n");
	v = check("C.Test.");
	assert_string_equal(v->domain, "c.test");
	assert_int_equal(v->naddrs, 2);
	assert_string_equal(v->addr[0].address, "192.0.2.25");
	assert_string_equal(v->addr[1].address, "2001:db8::25");
	assert_int_equal(v->addr[0].result, SPF_CHECK_PASS);
	assert_int_equal(v->addr[1].result, SPF_CHECK_PASS);
	assert_int_equal(v->record_status, SPF_CHECK_REC_PRESENT);
	assert_string_equal(v->record, "v=spf1 mx include:spf.dmrmail.nl -all");
	assert_true(v->has_include);
	assert_false(v->authorized_other);
	assert_int_equal(v->lookups, 2); /* mx, include */
	/* IPv6: mail.c.test has no AAAA, but an MX target's address lookup
	 * is part of its term and never void. */
	assert_int_equal(v->voids, 0);
	assert_int_equal(v->addr[1].voids, 0);

	/* v4 passes by ip4, v6 fails: the worst counts, with its address */
	zone("c.test TXT \"v=spf1 ip4:192.0.2.25 -ip6:2001:db8::/32 "
	     "include:spf.dmrmail.nl -all\"\n");
	v = check("c.test");
	assert_int_equal(v->addr[0].result, SPF_CHECK_PASS);
	assert_int_equal(v->addr[1].result, SPF_CHECK_FAIL);
	assert_int_equal(v->result, SPF_CHECK_FAIL);
	assert_true(v->has_include);
	contains(v->summary, "2001:db8::25 not authorized");
}

/* The CVE-2023-42118 shape never reaches libspf2: our reason instead. */
static void
test_hostile(void **state)
{
	static char txt[1024];
	const struct spf_check_verdict *v;
	size_t n;

	(void) state;
	/* spf_record's invalid cases: a chain of macros in a domain-spec */
	zone("c.test TXT \"v=spf1 a:%{d}%{d}%{d}%{d}%{d}%{d}%{d}%{d}%{d} "
	     "-all\"\n");
	v = check("c.test");
	assert_int_equal(v->result, SPF_CHECK_PERMERROR);
	assert_int_equal(v->reason, SPF_CHECK_R_SYNTAX);
	contains(v->summary, "more than 8 macros");
	assert_int_equal(v->record_status, SPF_CHECK_REC_INVALID);

	/* ...and a long one: 60 macros with transformers in one term */
	n = (size_t) snprintf(txt, sizeof(txt), "v=spf1 exists:");
	for (int i = 0; i < 60; i++)
		n += (size_t) snprintf(txt + n, sizeof(txt) - n, "%%{l1r+-}");
	snprintf(txt + n, sizeof(txt) - n, ".x.test -all");
	zone("c.test TXT \"v=spf1 include:evil.test -all\"\n");
	fake_dns_add_txt("evil.test", 300, txt, strlen(txt));
	v = check("c.test");
	assert_int_equal(v->result, SPF_CHECK_PERMERROR);
	assert_int_equal(v->reason, SPF_CHECK_R_SYNTAX);
	contains(v->summary, "(include:evil.test: term 1 'exists:");
	/* the include's record was refused, so nothing it names was asked:
	 * two queries for each relay address */
	assert_int_equal(fake_dns_query_count(), 4);

	/* bytes a record may not have */
	zone("c.test TXT \"v=spf1 include:spf.dmrmail.nl\\009-all\"\n");
	v = check("c.test");
	assert_int_equal(v->reason, SPF_CHECK_R_SYNTAX);
	contains(v->summary, "tab");
	zone("c.test TXT \"v=spf1 -all\\000include:x.test\"\n");
	v = check("c.test");
	assert_int_equal(v->reason, SPF_CHECK_R_SYNTAX);
	contains(v->summary, "NUL byte");
	assert_int_equal(v->record_status, SPF_CHECK_REC_INVALID);
	assert_string_equal(v->record, "v=spf1 -all?include:x.test");
}

/*
 * 11 DNS-querying terms across an include: permerror, and the query of
 * the 11th (the 12th query with the top-level TXT) is never sent.
 */
static void
test_lookup_limit(void **state)
{
	struct spf_check_eval *e = &eval;

	(void) state;
	zone("c.test TXT \"v=spf1 a:h1.test include:i.test -all\"\n"
	     "i.test TXT \"v=spf1 a:h2.test a:h3.test a:h4.test a:h5.test "
	     "a:h6.test a:h7.test a:h8.test a:h9.test a:h10.test "
	     "include:spf.dmrmail.nl -all\"\n"
	     "*.test A 198.51.100.7\n");
	assert_int_equal(
	    spf_check_eval(sc, "192.0.2.25", "x@c.test", "c.test", 0, e), 0);
	assert_int_equal(e->result, SPF_CHECK_PERMERROR);
	assert_int_equal(e->reason, SPF_CHECK_R_LOOKUP_LIMIT);
	contains(e->why, "11 DNS lookups, limit 10 (not sent: h10.test A)");
	assert_int_equal(e->lookups, 11);
	assert_int_equal(e->queries, 11);
	assert_int_equal(fake_dns_query_count(), 11);
	assert_int_equal(fake_dns_queried("h9.test", DNS_T_A), 1);
	assert_int_equal(fake_dns_queried("h10.test", 0), 0);
	assert_int_equal(fake_dns_queried("spf.dmrmail.nl", 0), 0);

	/* exactly 10 terms pass (the 10th is our include) */
	zone("c.test TXT \"v=spf1 a:h1.test include:i.test -all\"\n"
	     "i.test TXT \"v=spf1 a:h2.test a:h3.test a:h4.test a:h5.test "
	     "a:h6.test a:h7.test a:h8.test include:spf.dmrmail.nl -all\"\n"
	     "*.test A 198.51.100.7\n");
	assert_int_equal(
	    spf_check_eval(sc, "192.0.2.25", "x@c.test", "c.test", 0, e), 0);
	assert_int_equal(e->result, SPF_CHECK_PASS);
	assert_int_equal(e->lookups, 10);

	/* MX targets' address lookups are not terms: 10 MX, 1 term */
	zone("c.test TXT \"v=spf1 mx a a a a a a a a include:spf.dmrmail.nl "
	     "-all\"\n"
	     "c.test MX 1 m1.test\nc.test MX 2 m2.test\nc.test MX 3 m3.test\n"
	     "c.test MX 4 m4.test\nc.test MX 5 m5.test\nc.test MX 6 m6.test\n"
	     "c.test MX 7 m7.test\nc.test MX 8 m8.test\nc.test MX 9 m9.test\n"
	     "c.test MX 10 m10.test\nc.test A 198.51.100.1\n"
	     "*.test A 198.51.100.9\n");
	assert_int_equal(
	    spf_check_eval(sc, "192.0.2.25", "x@c.test", "c.test", 0, e), 0);
	assert_int_equal(e->result, SPF_CHECK_PASS);
	assert_int_equal(e->lookups, 10);
	assert_int_equal(e->queries, 1 + 1 + 10 + 8 + 1 + 0);
}

/* Three void lookups: permerror; two are fine. */
static void
test_void_limit(void **state)
{
	const struct spf_check_verdict *v;

	(void) state;
	zone("c.test TXT \"v=spf1 a:e1.test a:e2.test a:e3.test "
	     "include:spf.dmrmail.nl -all\"\ne2.test MX 10 m.test\n");
	v = check("c.test");
	assert_int_equal(v->result, SPF_CHECK_PERMERROR);
	assert_int_equal(v->reason, SPF_CHECK_R_VOID_LIMIT);
	contains(v->summary, "3 void lookups, limit 2 (the last: e3.test A)");
	assert_int_equal(v->voids, 3);
	/* nothing after the third void answer */
	assert_int_equal(fake_dns_queried("spf.dmrmail.nl", 0), 0);

	zone("c.test TXT \"v=spf1 a:e1.test a:e2.test "
	     "include:spf.dmrmail.nl -all\"\n");
	v = check("c.test");
	assert_int_equal(v->result, SPF_CHECK_PASS);
	assert_int_equal(v->voids, 2);
}

/* The deadline covers the whole evaluation and every address. */
static void
test_deadline(void **state)
{
	const struct spf_check_verdict *v;
	int64_t start, took;

	(void) state;
	zone("c.test TXT \"v=spf1 a:slow.test include:spf.dmrmail.nl -all\"\n"
	     "slow.test DELAY 400\nslow.test A 198.51.100.1\n");
	start = util_monotonic_ms();
	assert_int_equal(
	    spf_check_domain(sc, cfg, "c.test", start + 150, &verdict), 0);
	took = util_monotonic_ms() - start;
	v = &verdict;
	assert_int_equal(v->result, SPF_CHECK_TEMPERROR);
	assert_true(took >= 140 && took < 400);
	/* IPv4 timed out on slow.test; IPv6 found the deadline passed */
	contains(v->addr[0].why, "timeout after");
	contains(v->addr[0].why, "on slow.test A");
	assert_int_equal(v->addr[1].reason, SPF_CHECK_R_DEADLINE);
	contains(v->addr[1].why, "deadline exceeded on c.test TXT");
	assert_int_equal(v->reason, SPF_CHECK_R_DNS);

	/* A resolver timeout without a deadline is temperror too. */
	zone("c.test TXT \"v=spf1 include:x.slow.test -all\"\n"
	     "*.slow.test TIMEOUT\n");
	fake_dns_set_timeout(30);
	v = check("c.test");
	assert_int_equal(v->result, SPF_CHECK_TEMPERROR);
	contains(v->summary, "timeout after 30 ms on x.slow.test TXT");
}

/* The TTL is the minimum over the answers the result depends on. */
static void
test_ttl(void **state)
{
	const struct spf_check_verdict *v;

	(void) state;
	zone("$NEGTTL 900\n"
	     "c.test 3600 TXT \"v=spf1 a:h.test mx include:_i.c.test -all\"\n"
	     "h.test 1800 A 198.51.100.1\nh.test 1800 AAAA 2001:db8:9::1\n"
	     "c.test 1200 MX 10 m.c.test\nm.c.test 700 A 198.51.100.2\n"
	     "m.c.test 700 AAAA 2001:db8:9::2\n"
	     "_i.c.test 2000 TXT \"v=spf1 include:spf.dmrmail.nl\"\n");
	v = check("c.test");
	assert_int_equal(v->result, SPF_CHECK_PASS);
	assert_true(v->ttl_known);
	assert_int_equal(v->ttl, 300); /* spf.dmrmail.nl */

	/* the include's record is not used once an earlier term matched */
	zone("c.test 3600 TXT \"v=spf1 ip4:192.0.2.25 ip6:2001:db8::25 "
	     "a:h.test -all\"\nh.test 10 A 198.51.100.1\n");
	v = check("c.test");
	assert_int_equal(v->result, SPF_CHECK_PASS);
	assert_int_equal(v->ttl, 3600);

	/* negative answers count with their negative TTL */
	zone("$NEGTTL 120\nc.test 3600 TXT \"v=spf1 a:none.test "
	     "include:spf.dmrmail.nl -all\"\n");
	v = check("c.test");
	assert_int_equal(v->ttl, 120);
	zone("$NEGTTL 240\n");
	v = check("c.test");
	assert_int_equal(v->result, SPF_CHECK_NONE);
	assert_int_equal(v->ttl, 240);
}

/* exp=: a valid explanation is expanded, a hostile one ignored. */
static void
test_explanation(void **state)
{
	struct spf_check_eval *e = &eval;

	(void) state;
	zone("c.test TXT \"v=spf1 -all exp=why.c.test\"\n"
	     "why.c.test TXT \"%{i} is not one of %{d}'s servers.\"\n");
	assert_int_equal(
	    spf_check_eval(sc, "192.0.2.25", "x@c.test", "c.test", 0, e), 0);
	assert_int_equal(e->result, SPF_CHECK_FAIL);
	assert_string_equal(e->explanation,
	                    "192.0.2.25 is not one of c.test's servers.");
	assert_int_equal(e->lookups, 0); /* exp= is not a term */

	/* more macros than the explanation check allows: ignored */
	zone("c.test TXT \"v=spf1 -all exp=why.c.test\"\n"
	     "why.c.test TXT \"x {d} {d} {d} {d} {d} {d} {d} {d} {d}\"\n");
	assert_int_equal(
	    spf_check_eval(sc, "192.0.2.25", "x@c.test", "c.test", 0, e), 0);
	assert_int_equal(e->result, SPF_CHECK_FAIL);
	assert_string_equal(e->explanation, "");

	/* an explanation's DNS trouble changes nothing either */
	zone(
	    "c.test TXT \"v=spf1 -all exp=why.c.test\"\nwhy.c.test TEMPFAIL\n");
	assert_int_equal(
	    spf_check_eval(sc, "192.0.2.25", "x@c.test", "c.test", 0, e), 0);
	assert_int_equal(e->result, SPF_CHECK_FAIL);
	assert_string_equal(e->explanation, "");

	/* includes that do not match ask for the same exp= only once */
	zone("c.test TXT \"v=spf1 include:a.test include:b.test -all "
	     "exp=why.c.test\"\nwhy.c.test TXT \"go away\"\n"
	     "a.test TXT \"v=spf1 -all\"\nb.test TXT \"v=spf1 -all\"\n");
	assert_int_equal(
	    spf_check_eval(sc, "192.0.2.25", "x@c.test", "c.test", 0, e), 0);
	assert_int_equal(e->result, SPF_CHECK_FAIL);
	assert_string_equal(e->explanation, "go away");
	assert_int_equal(fake_dns_queried("why.c.test", DNS_T_TXT), 1);
}

/* PTR answers beyond 10 names are ignored (libspf2 would permerror). */
static void
test_ptr(void **state)
{
	struct spf_check_eval *e = &eval;
	static char text[4096];
	size_t n = 0;

	(void) state;
	n += (size_t) snprintf(text + n, sizeof(text) - n,
	                       "c.test TXT \"v=spf1 ptr -all\"\n");
	for (int i = 1; i <= 11; i++)
		n +=
		    (size_t) snprintf(text + n, sizeof(text) - n,
		                      "25.2.0.192.in-addr.arpa PTR h%d.c.test\n"
		                      "h%d.c.test A 192.0.2.%d\n",
		                      i, i, i == 11 ? 25 : i);
	zone(text);
	assert_int_equal(
	    spf_check_eval(sc, "192.0.2.25", "x@c.test", "c.test", 0, e), 0);
	assert_int_equal(e->result, SPF_CHECK_FAIL); /* the 11th is ignored */
	assert_int_equal(e->lookups, 1);
	assert_int_equal(fake_dns_queried("h11.c.test", 0), 0);
	assert_int_equal(fake_dns_queried("h10.c.test", DNS_T_A), 1);
}

/* Relay addresses libspf2 would not evaluate are refused. */
static void
test_addresses(void **state)
{
	static const char *const bad[] = {
	    "127.0.0.1",        "127.1.2.3",   "::1", "0.0.0.0",      "::",
	    "::ffff:127.0.0.1", "192.0.2.256", "",    "example.test",
	};
	struct config *c;
	char why[256], text[256];

	(void) state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
		    spf_check_eval(sc, bad[i], "x@c.test", "c.test", 0, &eval),
		    -1);
		assert_true(eval.why[0] != '\0');
	}
	contains(
	    (spf_check_eval(sc, "127.0.0.2", "x@c.test", "c.test", 0, &eval),
	     eval.why),
	    "loopback");
	/* The config module refuses loopback addresses itself; patch a
	 * loaded snapshot to reach spf_check's own check. */
	snprintf(text, sizeof(text),
	         "relay: { addresses = [ \"192.0.2.25\", \"127.0.0.1\" ]; };");
	assert_null(config_load_string(text, "t.conf", why, sizeof(why)));
	contains(why, "loopback");
	snprintf(text, sizeof(text),
	         "relay: { addresses = [ \"192.0.2.25\", \"192.0.2.26\" ]; };");
	c = config_load_string(text, "t.conf", why, sizeof(why));
	assert_non_null(c);
	free(c->relay_addresses.v[1]);
	c->relay_addresses.v[1] = xstrdup("127.0.0.1");
	assert_int_equal(spf_check_validate(c, why, sizeof(why)), -1);
	contains(why, "127.0.0.1 is loopback");
	assert_null(spf_check_open(c, dns, why, sizeof(why)));
	assert_int_equal(spf_check_domain(sc, c, "c.test", 0, &verdict), -1);
	contains(verdict.summary, "loopback");
	config_release(c);
	c = config_load_string("", "t.conf", why, sizeof(why));
	assert_non_null(c);
	assert_int_equal(spf_check_validate(c, why, sizeof(why)), -1);
	contains(why, "relay.addresses is empty");
	config_release(c);
}

/* Sender and HELO identities, for the RFC 7208 suite's sake. */
static void
test_identities(void **state)
{
	struct spf_check_eval *e = &eval;

	(void) state;
	zone("helo.test TXT \"v=spf1 a -all\"\nhelo.test A 192.0.2.25\n"
	     "c.test TXT \"v=spf1 exists:%{l}.%{h}.x.test -all\"\n"
	     "bob.helo.test.x.test A 127.0.0.2\n");
	/* empty MAIL FROM: postmaster@helo (2.4) */
	assert_int_equal(
	    spf_check_eval(sc, "192.0.2.25", "", "helo.test", 0, e), 0);
	assert_int_equal(e->result, SPF_CHECK_PASS);
	assert_int_equal(
	    spf_check_eval(sc, "192.0.2.25", "bob@c.test", "helo.test", 0, e),
	    0);
	assert_int_equal(e->result, SPF_CHECK_PASS);
	assert_int_equal(
	    spf_check_eval(sc, "192.0.2.25", "eve@c.test", "helo.test", 0, e),
	    0);
	assert_int_equal(e->result, SPF_CHECK_FAIL);
	assert_int_equal(e->voids, 1);
	/* an IPv4-mapped IPv6 client is an IPv4 client (RFC 7208 5) */
	assert_int_equal(
	    spf_check_eval(sc, "::ffff:192.0.2.25", "", "helo.test", 0, e), 0);
	assert_int_equal(e->result, SPF_CHECK_PASS);
}

/*
 * libspf2's own error entry point: it calls the error handler and then
 * abort()s.  Declared here (and called from the fake DNS inside an
 * evaluation) only to prove that the handler brings the evaluation back;
 * no libspf2 bug is needed to get there.
 */
void SPF_errorx(const char *file, int line, const char *format, ...)
    __attribute__((noreturn, format(printf, 3, 4)));

/* hook_boom - a libspf2 internal error while boom.test is asked */
static void
hook_boom(const char *name, int qtype)
{
	(void) qtype;
	if (strcmp(name, "boom.test") == 0)
		SPF_errorx(__FILE__, __LINE__, "%s", "simulated assertion");
}

/* An internal error of libspf2 is a temperror, not the end of us. */
static void
test_abort(void **state)
{
	struct spf_check_stats before, after;

	(void) state;
	zone("good.test TXT \"v=spf1 include:spf.dmrmail.nl -all\"\n");
	fake_dns_set_hook(hook_boom);
	spf_check_stats(sc, &before);
	assert_int_equal(spf_check_eval(sc, "192.0.2.25", "x@boom.test",
	                                "boom.test", 0, &eval),
	                 0);
	assert_int_equal(eval.result, SPF_CHECK_TEMPERROR);
	assert_int_equal(eval.reason, SPF_CHECK_R_INTERNAL);
	assert_string_equal(eval.why,
	                    "libspf2 internal error: simulated assertion");
	spf_check_stats(sc, &after);
	assert_int_equal(after.aborts, before.aborts + 1);
	assert_int_equal(after.evaluations, before.evaluations + 1);
	/* and the next evaluation works as ever */
	assert_int_equal(check("good.test")->result, SPF_CHECK_PASS);
	fake_dns_set_hook(NULL);
}

/* source_path - a file of the source tree ($RELAYGATE_SOURCE_DIR) */
static const char *
source_path(const char *rel)
{
	static char path[4096];
	const char *dir = getenv("RELAYGATE_SOURCE_DIR");

	snprintf(path, sizeof(path), "%s/%s", dir != NULL ? dir : ".", rel);
	return path;
}

/*
 * The e2e world's zone files give what this file's fake gives: each
 * tests/world/zones/spf-*.test.zone with the result its comment states.
 */
static void
test_world_zones(void **state)
{
	static const struct {
		const char *domain;
		enum spf_check_result result;
		enum spf_check_reason reason;
		const char *summary;
	} cases[] = {
	    {"good.test", SPF_CHECK_PASS, SPF_CHECK_R_MATCH,
	     "spf=pass (include:spf.dmrmail.nl)"},
	    {"nospf.test", SPF_CHECK_NONE, SPF_CHECK_R_NO_RECORD,
	     "spf=none (no SPF record)"},
	    {"spf-pass-ip4.test", SPF_CHECK_PASS, SPF_CHECK_R_MATCH,
	     "spf=pass (relay authorized without include:spf.dmrmail.nl)"},
	    {"spf-pass-redirect.test", SPF_CHECK_PASS, SPF_CHECK_R_MATCH,
	     "spf=pass (relay authorized without include:spf.dmrmail.nl)"},
	    {"spf-softfail.test", SPF_CHECK_SOFTFAIL, SPF_CHECK_R_MATCH,
	     "spf=softfail (include:spf.dmrmail.nl missing)"},
	    {"spf-fail.test", SPF_CHECK_FAIL, SPF_CHECK_R_MATCH,
	     "spf=fail (include:spf.dmrmail.nl missing)"},
	    {"spf-neutral.test", SPF_CHECK_NEUTRAL, SPF_CHECK_R_MATCH,
	     "spf=neutral (include:spf.dmrmail.nl missing)"},
	    {"spf-permerror-lookups.test", SPF_CHECK_PERMERROR,
	     SPF_CHECK_R_LOOKUP_LIMIT,
	     "spf=permerror (11 DNS lookups, limit 10 (not sent: "
	     "spf.dmrmail.nl TXT))"},
	    {"spf-void.test", SPF_CHECK_PERMERROR, SPF_CHECK_R_VOID_LIMIT,
	     "spf=permerror (3 void lookups, limit 2 (the last: "
	     "old3.spf-void.test A))"},
	    {"spf-hostile.test", SPF_CHECK_PERMERROR, SPF_CHECK_R_SYNTAX,
	     "more than 8 macros in one term"},
	    {"spf-hostile-include.test", SPF_CHECK_PERMERROR,
	     SPF_CHECK_R_SYNTAX,
	     "spf=permerror (include:evil.spf-hostile-include.test: term 1 "
	     "'ip4:300.1.1.1': bad IPv4 address"},
	    {"spf-multiple.test", SPF_CHECK_PERMERROR, SPF_CHECK_R_MULTIPLE,
	     "spf=permerror (2 SPF records at spf-multiple.test)"},
	    {"spf-tempfail-include.test", SPF_CHECK_TEMPERROR, SPF_CHECK_R_DNS,
	     "spf=temperror (timeout after 50 ms on spf.slow.test TXT)"},
	};
	char path[64], why[256];

	(void) state;
	fake_dns_reset();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(path, sizeof(path), "tests/world/zones/%s.zone",
		         cases[i].domain);
		if (fake_dns_load_zone(source_path(path), why, sizeof(why)) < 0)
			fail_msg("%s", why);
	}
	if (fake_dns_load_zone(source_path("tests/world/zones/dmrmail.nl.zone"),
	                       why, sizeof(why)) < 0 ||
	    fake_dns_load("*.slow.test TIMEOUT\n", why, sizeof(why)) < 0)
		fail_msg("%s", why);
	fake_dns_set_timeout(50);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct spf_check_verdict *v = check(cases[i].domain);

		if (v->result != cases[i].result ||
		    v->reason != cases[i].reason ||
		    strstr(v->summary, cases[i].summary) == NULL)
			fail_msg("%s: got %s/%s '%s'", cases[i].domain,
			         spf_check_result_name(v->result),
			         spf_check_reason_name(v->reason), v->summary);
	}
}

/* thread_main - evaluations of one thread; counts wrong results */
static void *
thread_main(void *arg)
{
	static const char *const domains[] = {"good.test", "fail.test",
	                                      "perm.test", "none.test"};
	static const enum spf_check_result want[] = {
	    SPF_CHECK_PASS, SPF_CHECK_FAIL, SPF_CHECK_PERMERROR,
	    SPF_CHECK_NONE};
	struct spf_check_verdict *v = xmalloc(sizeof(*v));
	long *wrong = arg;

	for (int i = 0; i < 200; i++) {
		int d = i % 4;

		if (spf_check_domain(sc, cfg, domains[d], 0, v) != 0 ||
		    v->result != want[d])
			(*wrong)++;
	}
	free(v);
	return NULL;
}

/* One shared server, evaluations in several threads at once. */
static void
test_threads(void **state)
{
	pthread_t tid[4];
	long wrong[4] = {0, 0, 0, 0};

	(void) state;
	zone("good.test TXT \"v=spf1 a:h.test include:spf.dmrmail.nl -all\"\n"
	     "h.test A 198.51.100.1\n"
	     "fail.test TXT \"v=spf1 mx -all\"\nfail.test MX 10 h.test\n"
	     "perm.test TXT \"v=spf1 include:bad.test -all\"\n"
	     "bad.test TXT \"v=spf1 ip4:1.2.3.4/33\"\n"
	     "none.test A 198.51.100.1\n");
	for (int i = 0; i < 4; i++)
		assert_int_equal(
		    pthread_create(&tid[i], NULL, thread_main, &wrong[i]), 0);
	for (int i = 0; i < 4; i++) {
		pthread_join(tid[i], NULL);
		assert_int_equal(wrong[i], 0);
	}
}

/* The names of results and reasons cover every value. */
static void
test_names(void **state)
{
	(void) state;
	assert_string_equal(spf_check_result_name(SPF_CHECK_PASS), "pass");
	assert_string_equal(spf_check_result_name(SPF_CHECK_TEMPERROR),
	                    "temperror");
	assert_string_equal(spf_check_result_name((enum spf_check_result) 99),
	                    "?");
	for (int r = SPF_CHECK_R_MATCH; r <= SPF_CHECK_R_INTERNAL; r++)
		assert_string_not_equal(
		    spf_check_reason_name((enum spf_check_reason) r), "?");
	assert_string_equal(spf_check_reason_name(SPF_CHECK_R_VOID_LIMIT),
	                    "void-limit");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_verdicts),
	    cmocka_unit_test(test_details),
	    cmocka_unit_test(test_hostile),
	    cmocka_unit_test(test_lookup_limit),
	    cmocka_unit_test(test_void_limit),
	    cmocka_unit_test(test_deadline),
	    cmocka_unit_test(test_ttl),
	    cmocka_unit_test(test_explanation),
	    cmocka_unit_test(test_ptr),
	    cmocka_unit_test(test_addresses),
	    cmocka_unit_test(test_identities),
	    cmocka_unit_test(test_abort),
	    cmocka_unit_test(test_world_zones),
	    cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
