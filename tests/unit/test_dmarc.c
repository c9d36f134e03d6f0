/*
 * test_dmarc - DMARC policy discovery against a fake DNS (every function
 * of dns.h, fake_dns_dmarc.c): a record at the From domain, at the
 * Organizational Domain with sp=, none, two records, an invalid record,
 * DNS failures that must never read as none, CNAMEs, split strings, IDN,
 * TTLs and the names asked; then alignment, strict and relaxed for DKIM
 * and SPF, the null sender, subdomains, IDN and the texts.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dmarc.h"
#include "dns.h"
#include "orgdomain.h"

/* The fake's own interface (fake_dns_dmarc.c). */
void fake_dns_dmarc_add(struct dns *dns, const char *owner, int type,
                        uint32_t ttl, const char *data);
void fake_dns_dmarc_fail(struct dns *dns, const char *owner, int timeout);
void fake_dns_dmarc_negative_ttl(struct dns *dns, uint32_t ttl);
void fake_dns_dmarc_clear(struct dns *dns);
size_t fake_dns_dmarc_asked(const struct dns *dns, size_t i, char *buf,
                            size_t size);

/* A record of a test zone; type FAIL_TIMEOUT/FAIL_SERVFAIL: a failure. */
struct zrr {
	const char *owner;
	int type;
	uint32_t ttl;
	const char *data;
};

#define FAIL_TIMEOUT (-1)
#define FAIL_SERVFAIL (-2)
#define TXT DNS_T_TXT
#define MAXRR 6

struct lookup_case {
	const char *what;
	const char *from;
	struct zrr zone[MAXRR];
	uint32_t negative_ttl; /* 0: the fake's 900 */
	enum dmarc_state state;
	enum dmarc_policy policy;
	const char *record_domain;
	int at_org;
	int nrecords;
	uint32_t ttl;
	const char *why; /* substring of why; NULL: empty */
	const char *asked[3];
};

#define NONE DMARC_POLICY_NONE
#define QUAR DMARC_POLICY_QUARANTINE
#define REJ DMARC_POLICY_REJECT

static const struct lookup_case lookup_cases[] = {
    {"record at the From domain",
     "example.com",
     {{"_dmarc.example.com", TXT, 300, "v=DMARC1; p=reject"},
      {"example.com", TXT, 300, "v=spf1 include:spf.dmrmail.nl -all"}},
     0,
     DMARC_FOUND,
     REJ,
     "example.com",
     0,
     1,
     300,
     NULL,
     {"_dmarc.example.com"}},
    {"the org domain's sp= applies to a subdomain",
     "news.example.com",
     {{"_dmarc.example.com", TXT, 600, "v=DMARC1; p=none; sp=quarantine"}},
     60,
     DMARC_FOUND,
     QUAR,
     "example.com",
     1,
     1,
     60,
     NULL,
     {"_dmarc.news.example.com", "_dmarc.example.com"}},
    {"the org domain's p= when it has no sp=",
     "a.b.example.co.uk",
     {{"_dmarc.example.co.uk", TXT, 300, "v=DMARC1; p=reject"}},
     0,
     DMARC_FOUND,
     REJ,
     "example.co.uk",
     1,
     1,
     300,
     NULL,
     {"_dmarc.a.b.example.co.uk", "_dmarc.example.co.uk"}},
    {"a subdomain's own record wins, with its p=",
     "news.example.com",
     {{"_dmarc.news.example.com", TXT, 300, "v=DMARC1; p=none; sp=reject"},
      {"_dmarc.example.com", TXT, 300, "v=DMARC1; p=reject"}},
     0,
     DMARC_FOUND,
     NONE,
     "news.example.com",
     0,
     1,
     300,
     NULL,
     {"_dmarc.news.example.com"}},
    {"subdomain-only policy: the domain itself gets p=",
     "example.com",
     {{"_dmarc.example.com", TXT, 300, "v=DMARC1; p=none; sp=reject"}},
     0,
     DMARC_FOUND,
     NONE,
     "example.com",
     0,
     1,
     300,
     NULL,
     {"_dmarc.example.com"}},
    {"subdomain-only policy: a subdomain gets sp=",
     "shop.example.com",
     {{"_dmarc.example.com", TXT, 300, "v=DMARC1; p=none; sp=reject"},
      {"shop.example.com", DNS_T_A, 300, "\xc0\x00\x02\x01"}},
     0,
     DMARC_FOUND,
     REJ,
     "example.com",
     1,
     1,
     300,
     NULL,
     {"_dmarc.shop.example.com", "_dmarc.example.com"}},
    {"none anywhere: a fact, with the negative TTL",
     "news.example.com",
     {{"example.com", TXT, 300, "v=spf1 -all"}},
     120,
     DMARC_NONE,
     NONE,
     "",
     0,
     0,
     120,
     NULL,
     {"_dmarc.news.example.com", "_dmarc.example.com"}},
    {"none: only other TXT records at _dmarc",
     "example.com",
     {{"_dmarc.example.com", TXT, 200, "google-site-verification=abc"},
      {"_dmarc.example.com", TXT, 300, "v=spf1 -all"}},
     0,
     DMARC_NONE,
     NONE,
     "",
     0,
     0,
     200,
     NULL,
     {"_dmarc.example.com"}},
    {"two records: receivers apply no DMARC",
     "example.com",
     {{"_dmarc.example.com", TXT, 300, "v=DMARC1; p=reject"},
      {"_dmarc.example.com", TXT, 300, "v=DMARC1; p=none"}},
     0,
     DMARC_INVALID,
     NONE,
     "example.com",
     0,
     2,
     300,
     "2 DMARC records at _dmarc.example.com: receivers apply no DMARC "
     "policy (RFC 7489 6.6.3)",
     {"_dmarc.example.com"}},
    {"two records at the org domain",
     "news.example.com",
     {{"_dmarc.example.com", TXT, 300, "v=DMARC1; p=reject"},
      {"_dmarc.example.com", TXT, 300, "v=DMARC1; p=reject "}},
     0,
     DMARC_INVALID,
     NONE,
     "example.com",
     1,
     2,
     300,
     "2 DMARC records",
     {"_dmarc.news.example.com", "_dmarc.example.com"}},
    {"one DMARC record among other TXT",
     "example.com",
     {{"_dmarc.example.com", TXT, 300, "some text"},
      {"_dmarc.example.com", TXT, 300, "v=DMARC1; p=quarantine"},
      {"_dmarc.example.com", TXT, 300, "v=DMARC2; p=reject"}},
     0,
     DMARC_FOUND,
     QUAR,
     "example.com",
     0,
     1,
     300,
     NULL,
     {"_dmarc.example.com"}},
    {"an invalid record ends discovery",
     "news.example.com",
     {{"_dmarc.news.example.com", TXT, 300, "v=DMARC1; p=reject; adkim=x"},
      {"_dmarc.example.com", TXT, 300, "v=DMARC1; p=reject"}},
     0,
     DMARC_INVALID,
     NONE,
     "news.example.com",
     0,
     1,
     300,
     "adkim=x: the alignment mode must be r or s",
     {"_dmarc.news.example.com"}},
    {"a version in the wrong case is an invalid record",
     "example.com",
     {{"_dmarc.example.com", TXT, 300, "v=dmarc1; p=reject"}},
     0,
     DMARC_INVALID,
     NONE,
     "example.com",
     0,
     1,
     300,
     "the version must be exactly v=DMARC1",
     {"_dmarc.example.com"}},
    {"timeout at the From domain: temperror",
     "example.com",
     {{"_dmarc.example.com", FAIL_TIMEOUT, 0, NULL}},
     0,
     DMARC_TEMPERROR,
     NONE,
     "",
     0,
     0,
     0,
     "_dmarc.example.com: timeout after 3000 ms",
     {"_dmarc.example.com"}},
    {"failure at a subdomain: temperror, no org query",
     "news.example.com",
     {{"_dmarc.news.example.com", FAIL_SERVFAIL, 0, NULL},
      {"_dmarc.example.com", TXT, 300, "v=DMARC1; p=reject"}},
     0,
     DMARC_TEMPERROR,
     NONE,
     "",
     0,
     0,
     0,
     "_dmarc.news.example.com: SERVFAIL",
     {"_dmarc.news.example.com"}},
    {"none at the From domain, failure at the org: never none",
     "news.example.com",
     {{"_dmarc.example.com", FAIL_SERVFAIL, 0, NULL}},
     0,
     DMARC_TEMPERROR,
     NONE,
     "",
     0,
     0,
     0,
     "_dmarc.example.com: SERVFAIL",
     {"_dmarc.news.example.com", "_dmarc.example.com"}},
    {"failure behind a CNAME",
     "example.com",
     {{"_dmarc.example.com", DNS_T_CNAME, 300, "_dmarc.slow.test"},
      {"_dmarc.slow.test", FAIL_TIMEOUT, 0, NULL}},
     0,
     DMARC_TEMPERROR,
     NONE,
     "",
     0,
     0,
     0,
     "timeout",
     {"_dmarc.example.com"}},
    {"a near miss is explained",
     "example.com",
     {{"_dmarc.example.com", TXT, 300, "v=DMARC1 p=reject"}},
     0,
     DMARC_NONE,
     NONE,
     "",
     0,
     0,
     300,
     "TXT at _dmarc.example.com ignored: not a DMARC record: the version "
     "is 'v=DMARC1 p=reject' (a ';' missing after v=DMARC1?)",
     {"_dmarc.example.com"}},
    {"a near miss at the subdomain, the org's record applies",
     "news.example.com",
     {{"_dmarc.news.example.com", TXT, 300, "v=DMARC2; p=reject"},
      {"_dmarc.example.com", TXT, 300, "v=DMARC1; p=none"}},
     0,
     DMARC_FOUND,
     NONE,
     "example.com",
     1,
     1,
     300,
     "TXT at _dmarc.news.example.com ignored",
     {"_dmarc.news.example.com", "_dmarc.example.com"}},
    {"the p= fallback is noted",
     "example.com",
     {{"_dmarc.example.com", TXT, 300,
       "v=DMARC1; p=bogus; rua=mailto:d@example.com"}},
     0,
     DMARC_FOUND,
     NONE,
     "example.com",
     0,
     1,
     300,
     "receivers act as if p=none",
     {"_dmarc.example.com"}},
    {"a CNAME to a record elsewhere",
     "example.com",
     {{"_dmarc.example.com", DNS_T_CNAME, 100, "_dmarc.provider.net"},
      {"_dmarc.provider.net", TXT, 3600, "v=DMARC1; p=quarantine"}},
     0,
     DMARC_FOUND,
     QUAR,
     "example.com",
     0,
     1,
     100,
     NULL,
     {"_dmarc.example.com"}},
    {"TXT strings are joined",
     "example.com",
     {{"_dmarc.example.com", TXT, 300,
       "v=DMARC1; p=rej|ect; rua=mai|lto:d@x.y"}},
     0,
     DMARC_FOUND,
     REJ,
     "example.com",
     0,
     1,
     300,
     NULL,
     {"_dmarc.example.com"}},
    {"a malformed TXT record is skipped",
     "example.com",
     {{"_dmarc.example.com", TXT, 300, "\\bad"},
      {"_dmarc.example.com", TXT, 300, "v=DMARC1; p=reject"}},
     0,
     DMARC_FOUND,
     REJ,
     "example.com",
     0,
     1,
     300,
     NULL,
     {"_dmarc.example.com"}},
    {"IDN From domain, in U-labels",
     "Bücher.example",
     {{"_dmarc.xn--bcher-kva.example", TXT, 300, "v=DMARC1; p=quarantine"}},
     0,
     DMARC_FOUND,
     QUAR,
     "xn--bcher-kva.example",
     0,
     1,
     300,
     NULL,
     {"_dmarc.xn--bcher-kva.example"}},
    {"IDN subdomain: the org domain in A-labels",
     "Post.bücher.example.",
     {{"_dmarc.xn--bcher-kva.example", TXT, 300,
       "v=DMARC1; p=none; sp=reject"}},
     0,
     DMARC_FOUND,
     REJ,
     "xn--bcher-kva.example",
     1,
     1,
     300,
     NULL,
     {"_dmarc.post.xn--bcher-kva.example", "_dmarc.xn--bcher-kva.example"}},
    {"a From domain that is a public suffix is its own org domain",
     "co.uk",
     {{"co.uk", TXT, 300, "x"}},
     0,
     DMARC_NONE,
     NONE,
     "",
     0,
     0,
     900,
     NULL,
     {"_dmarc.co.uk"}},
    {"the PRIVATE section: blogspot.com is a suffix",
     "news.shop.blogspot.com",
     {{"_dmarc.blogspot.com", TXT, 300, "v=DMARC1; p=reject"}},
     0,
     DMARC_NONE,
     NONE,
     "",
     0,
     0,
     900,
     NULL,
     {"_dmarc.news.shop.blogspot.com", "_dmarc.shop.blogspot.com"}},
};

/* zone_load - a test zone into the fake */
static void
zone_load(struct dns *dns, const struct zrr *zone, uint32_t negative_ttl)
{
	fake_dns_dmarc_clear(dns);
	fake_dns_dmarc_negative_ttl(dns, negative_ttl ? negative_ttl : 900);
	for (int i = 0; i < MAXRR && zone[i].owner != NULL; i++) {
		if (zone[i].type < 0)
			fake_dns_dmarc_fail(dns, zone[i].owner,
			                    zone[i].type == FAIL_TIMEOUT);
		else
			fake_dns_dmarc_add(dns, zone[i].owner, zone[i].type,
			                   zone[i].ttl, zone[i].data);
	}
}

/* check_asked - the names asked, exactly */
static void
check_asked(const struct dns *dns, const char *what, const char *const *want)
{
	char got[300];
	size_t i;

	for (i = 0; i < 3 && want[i] != NULL; i++)
		if (fake_dns_dmarc_asked(dns, i, got, sizeof(got)) == 0 ||
		    strcmp(got, want[i]) != 0)
			fail_msg("%s: query %zu is \"%s\", want \"%s\"", what,
			         i,
			         fake_dns_dmarc_asked(dns, i, got, sizeof(got))
			             ? got
			             : "(none)",
			         want[i]);
	if (fake_dns_dmarc_asked(dns, i, got, sizeof(got)) != 0)
		fail_msg("%s: unexpected query %zu: %s", what, i, got);
}

/* check_lookup - one case's result */
static void
check_lookup(const struct lookup_case *c, const struct dmarc_result *r)
{
	if (r->state != c->state || r->policy != c->policy ||
	    strcmp(r->record_domain, c->record_domain) != 0 ||
	    r->at_org != c->at_org || r->nrecords != c->nrecords ||
	    r->ttl != c->ttl)
		fail_msg("%s: state %s policy %s record_domain \"%s\" at_org "
		         "%d nrecords %d ttl %u why \"%s\"",
		         c->what, dmarc_state_name(r->state),
		         dmarc_record_policy_name(r->policy), r->record_domain,
		         r->at_org, r->nrecords, r->ttl, r->why);
	if (c->why == NULL && r->why[0] != '\0')
		fail_msg("%s: unexpected why \"%s\"", c->what, r->why);
	if (c->why != NULL && strstr(r->why, c->why) == NULL)
		fail_msg("%s: why \"%s\" lacks \"%s\"", c->what, r->why,
		         c->why);
}

/* test_lookup - every case of the table */
static void
test_lookup(void **state)
{
	struct dns *dns = *state;
	struct dmarc_result r;

	for (size_t i = 0; i < sizeof(lookup_cases) / sizeof(lookup_cases[0]);
	     i++) {
		const struct lookup_case *c = &lookup_cases[i];

		zone_load(dns, c->zone, c->negative_ttl);
		assert_int_equal(dmarc_lookup(dns, c->from, 0, &r), 0);
		check_lookup(c, &r);
		check_asked(dns, c->what, c->asked);
	}
}

/* test_names - the From and org domains as stored, and the record */
static void
test_names(void **state)
{
	struct dns *dns = *state;
	struct dmarc_result r;

	zone_load(
	    dns,
	    (const struct zrr[]){{"_dmarc.xn--bcher-kva.example", TXT, 300,
	                          "v=DMARC1; p=reject; sp=none; "
	                          "adkim=s; pct=20; rua=mailto:d@x.y"},
	                         {NULL, 0, 0, NULL}},
	    0);
	assert_int_equal(dmarc_lookup(dns, "WWW.Bücher.Example", 0, &r), 0);
	assert_string_equal(r.from_domain, "www.xn--bcher-kva.example");
	assert_string_equal(r.org_domain, "xn--bcher-kva.example");
	assert_int_equal(r.state, DMARC_FOUND);
	assert_int_equal(r.policy, NONE);
	assert_int_equal(r.record.p, REJ);
	assert_int_equal(r.record.adkim, DMARC_MODE_STRICT);
	assert_int_equal(r.record.pct, 20);
	assert_string_equal(r.record.rua, "mailto:d@x.y");
}

/* test_bad_from - a From domain that is not a domain: -1, no query */
static void
test_bad_from(void **state)
{
	struct dns *dns = *state;
	struct dmarc_result r;
	char got[300];

	zone_load(dns, (const struct zrr[]){{NULL, 0, 0, NULL}}, 0);
	assert_int_equal(dmarc_lookup(dns, "bad domain", 0, &r), -1);
	assert_int_equal(r.state, DMARC_NONE);
	assert_int_equal(r.ttl, 0);
	assert_non_null(strstr(r.why, "From domain: "));
	assert_int_equal(dmarc_lookup(dns, "", 0, &r), -1);
	assert_int_equal(fake_dns_dmarc_asked(dns, 0, got, sizeof(got)), 0);
}

/* test_long_from - _dmarc.<From> would exceed 253 bytes: only the org */
static void
test_long_from(void **state)
{
	struct dns *dns = *state;
	struct dmarc_result r;
	char from[DOMAIN_SIZE], got[300];

	memset(from, 'a', DOMAIN_MAX);
	for (int i = 63; i < DOMAIN_MAX - 12; i += 64)
		from[i] = '.';
	memcpy(from + DOMAIN_MAX - 12, ".example.com", 12);
	from[DOMAIN_MAX] = '\0';
	zone_load(dns,
	          (const struct zrr[]){{"_dmarc.example.com", TXT, 300,
	                                "v=DMARC1; p=quarantine"},
	                               {NULL, 0, 0, NULL}},
	          0);
	assert_int_equal(dmarc_lookup(dns, from, 0, &r), 0);
	assert_int_equal(r.state, DMARC_FOUND);
	assert_int_equal(r.at_org, 1);
	assert_int_equal(r.policy, QUAR);
	assert_true(fake_dns_dmarc_asked(dns, 0, got, sizeof(got)) > 0);
	assert_string_equal(got, "_dmarc.example.com");
	assert_int_equal(fake_dns_dmarc_asked(dns, 1, got, sizeof(got)), 0);
}

struct align_case {
	const char *record; /* at _dmarc.<owner>; NULL: none; "TWO",
	                       "TIMEOUT": two records, a timeout */
	const char *owner;
	const char *from, *dkim, *spf;
	int spf_passes;
	int dkim_aligned, spf_aligned, pass;
	const char *text;
};

static const struct align_case align_cases[] = {
    {"v=DMARC1; p=reject", "example.com", "example.com", "example.com",
     "bounces.example.com", 1, 1, 1, 1,
     "dmarc=reject (aligned via dkim and spf)"},
    {"v=DMARC1; p=reject", "example.com", "example.com", "example.com", NULL, 1,
     1, 0, 1, "dmarc=reject (aligned via dkim)"},
    /* relaxed DKIM: a subdomain aligns with the org domain */
    {"v=DMARC1; p=reject", "example.com", "news.example.com", "example.com",
     NULL, 0, 1, 0, 1,
     "dmarc=reject (record at example.com; aligned via dkim)"},
    {"v=DMARC1; p=reject", "example.com", "example.com", "mail.example.com",
     NULL, 0, 1, 0, 1, "dmarc=reject (aligned via dkim)"},
    /* strict DKIM: identical only */
    {"v=DMARC1; p=reject; adkim=s", "example.com", "news.example.com",
     "example.com", NULL, 0, 0, 0, 0,
     "dmarc=reject (record at example.com; not aligned: dkim d=example.com, "
     "spf null sender)"},
    {"v=DMARC1; p=reject; adkim=s", "example.com", "news.example.com",
     "News.Example.com.", NULL, 0, 1, 0, 1,
     "dmarc=reject (record at example.com; aligned via dkim)"},
    /* relaxed and strict SPF */
    {"v=DMARC1; p=quarantine", "example.com", "example.com", NULL,
     "bounces.example.com", 1, 0, 1, 1, "dmarc=quarantine (aligned via spf)"},
    {"v=DMARC1; p=quarantine; aspf=s", "example.com", "example.com", NULL,
     "bounces.example.com", 1, 0, 0, 0,
     "dmarc=quarantine (not aligned: dkim unsigned, spf "
     "bounces.example.com)"},
    {"v=DMARC1; p=quarantine; aspf=s", "example.com", "example.com", NULL,
     "example.com", 1, 0, 1, 1, "dmarc=quarantine (aligned via spf)"},
    {"v=DMARC1; p=quarantine", "example.com", "example.com", NULL,
     "example.com", 0, 0, 0, 0,
     "dmarc=quarantine (not aligned: dkim unsigned, spf example.com does "
     "not pass)"},
    {"v=DMARC1; p=quarantine; aspf=s", "example.com", "example.com", "other.nl",
     "bounces.example.com", 1, 0, 0, 0,
     "dmarc=quarantine (not aligned: dkim d=other.nl, spf "
     "bounces.example.com)"},
    {"v=DMARC1; p=quarantine", "example.com", "example.com", "other.nl",
     "bounces.other.nl", 1, 0, 0, 0,
     "dmarc=quarantine (not aligned: dkim d=other.nl, spf "
     "bounces.other.nl)"},
    /* the null sender never aligns: SPF checks the HELO name */
    {"v=DMARC1; p=reject", "example.com", "example.com", NULL, NULL, 1, 0, 0, 0,
     "dmarc=reject (not aligned: dkim unsigned, spf null sender)"},
    /* no record: alignment still known, but no DMARC pass */
    {NULL, "example.com", "example.com", "example.com", NULL, 0, 1, 0, 0,
     "dmarc=none (no record)"},
    /* IDN: U-labels and A-labels are one name */
    {"v=DMARC1; p=reject; adkim=s; aspf=s", "xn--bcher-kva.example",
     "bücher.example", "xn--bcher-kva.example", "BÜCHER.example", 1, 1, 1, 1,
     "dmarc=reject (aligned via dkim and spf)"},
    /* the public suffix list decides what relaxed means */
    {"v=DMARC1; p=reject", "a.blogspot.com", "a.blogspot.com", "b.blogspot.com",
     "a.blogspot.com", 0, 0, 0, 0,
     "dmarc=reject (not aligned: dkim d=b.blogspot.com, spf a.blogspot.com "
     "does not pass)"},
    {"v=DMARC1; p=reject", "shop.co.uk", "news.shop.co.uk", "shop.co.uk",
     "other.co.uk", 1, 1, 0, 1,
     "dmarc=reject (record at shop.co.uk; aligned via dkim)"},
    /* pct, the p= fallback, invalid and temperror states */
    {"v=DMARC1; p=quarantine; pct=25", "example.com", "example.com",
     "example.com", NULL, 0, 1, 0, 1,
     "dmarc=quarantine pct=25 (aligned via dkim)"},
    {"v=DMARC1; rua=mailto:d@example.com", "example.com", "example.com",
     "example.com", NULL, 0, 1, 0, 1, "dmarc=none (aligned via dkim)"},
    {"TWO", "example.com", "example.com", "example.com", NULL, 0, 1, 0, 0,
     "dmarc=invalid (2 DMARC records at _dmarc.example.com: receivers "
     "apply no DMARC policy (RFC 7489 6.6.3))"},
    {"v=DMARC1; p=reject; aspf=x", "example.com", "example.com", "example.com",
     NULL, 0, 1, 0, 0,
     "dmarc=invalid (aspf=x: the alignment mode must be r or s)"},
    {"TIMEOUT", "example.com", "example.com", "example.com", NULL, 0, 1, 0, 0,
     "dmarc=temperror (_dmarc.example.com: timeout after 3000 ms)"},
    /* names that are not domains align with nothing */
    {"v=DMARC1; p=reject", "example.com", "example.com", "bad d!", "bad spf", 1,
     0, 0, 0, "dmarc=reject (not aligned: dkim d=(invalid), spf (invalid))"},
};

/* align_zone - the zone of an alignment case */
static void
align_zone(struct dns *dns, const struct align_case *c)
{
	char owner[300];

	fake_dns_dmarc_clear(dns);
	snprintf(owner, sizeof(owner), "_dmarc.%s", c->owner);
	if (c->record == NULL)
		return;
	if (strcmp(c->record, "TIMEOUT") == 0) {
		fake_dns_dmarc_fail(dns, owner, 1);
	} else if (strcmp(c->record, "TWO") == 0) {
		fake_dns_dmarc_add(dns, owner, TXT, 300, "v=DMARC1; p=reject");
		fake_dns_dmarc_add(dns, owner, TXT, 300, "v=DMARC1; p=none");
	} else {
		fake_dns_dmarc_add(dns, owner, TXT, 300, c->record);
	}
}

/* test_align - every alignment case */
static void
test_align(void **state)
{
	struct dns *dns = *state;
	struct dmarc_result r;
	struct dmarc_alignment a;

	for (size_t i = 0; i < sizeof(align_cases) / sizeof(align_cases[0]);
	     i++) {
		const struct align_case *c = &align_cases[i];

		align_zone(dns, c);
		assert_int_equal(dmarc_lookup(dns, c->from, 0, &r), 0);
		dmarc_align(c->from, c->dkim, c->spf, c->spf_passes, &r, &a);
		if (a.dkim_aligned != c->dkim_aligned ||
		    a.spf_aligned != c->spf_aligned || a.pass != c->pass ||
		    strcmp(a.text, c->text) != 0)
			fail_msg("case %zu (%s, d=%s, spf %s): dkim %d spf %d "
			         "pass %d \"%s\"",
			         i, c->from, c->dkim ? c->dkim : "-",
			         c->spf ? c->spf : "-", a.dkim_aligned,
			         a.spf_aligned, a.pass, a.text);
	}
}

/* test_align_modes - the modes used: the record's, or relaxed */
static void
test_align_modes(void **state)
{
	struct dns *dns = *state;
	struct dmarc_result r;
	struct dmarc_alignment a;
	static const struct align_case strict = {
	    "v=DMARC1; p=none; adkim=s; aspf=s",
	    "example.com",
	    "example.com",
	    NULL,
	    NULL,
	    0,
	    0,
	    0,
	    0,
	    NULL};
	static const struct align_case invalid = {
	    "v=DMARC1; p=none; adkim=s; aspf=s; pct=x",
	    "example.com",
	    "example.com",
	    NULL,
	    NULL,
	    0,
	    0,
	    0,
	    0,
	    NULL};

	(void) state;
	align_zone(dns, &strict);
	assert_int_equal(dmarc_lookup(dns, "example.com", 0, &r), 0);
	dmarc_align("example.com", NULL, NULL, 0, &r, &a);
	assert_int_equal(a.adkim, DMARC_MODE_STRICT);
	assert_int_equal(a.aspf, DMARC_MODE_STRICT);
	align_zone(dns, &invalid);
	assert_int_equal(dmarc_lookup(dns, "example.com", 0, &r), 0);
	assert_int_equal(r.state, DMARC_INVALID);
	dmarc_align("example.com", NULL, NULL, 0, &r, &a);
	assert_int_equal(a.adkim, DMARC_MODE_RELAXED);
	assert_int_equal(a.aspf, DMARC_MODE_RELAXED);
}

/*
 * The world's zones (tests/world/zones/dmarc-*.test.zone and good.test):
 * loaded into the fake and checked against the outcomes their comments
 * promise, so the zones and the code cannot drift apart.  slow.test is
 * the world's black hole: every question there times out.
 */
static const char *const world_zones[] = {
    "dmarc-strict.test",   "dmarc-subonly.test",   "dmarc-invalid.test",
    "dmarc-two.test",      "dmarc-none.test",      "dmarc-nearmiss.test",
    "dmarc-fallback.test", "dmarc-temperror.test", "dmarc-idn.test",
    "good.test",
};

struct world_case {
	const char *from, *mailfrom;
	const char *text;
	const char *why; /* substring of why; NULL: empty */
};

static const struct world_case world_cases[] = {
    {"dmarc-strict.test", "dmarc-strict.test",
     "dmarc=reject (aligned via dkim and spf)", NULL},
    {"news.dmarc-strict.test", "dmarc-strict.test",
     "dmarc=reject (record at dmarc-strict.test; aligned via dkim)", NULL},
    {"dmarc-subonly.test", "dmarc-subonly.test",
     "dmarc=none (aligned via dkim and spf)", NULL},
    {"news.dmarc-subonly.test", "dmarc-subonly.test",
     "dmarc=reject (record at dmarc-subonly.test; aligned via dkim and spf)",
     NULL},
    {"dmarc-invalid.test", "dmarc-invalid.test",
     "dmarc=invalid (adkim=x: the alignment mode must be r or s)", "adkim=x"},
    {"dmarc-two.test", "dmarc-two.test",
     "dmarc=invalid (2 DMARC records at _dmarc.dmarc-two.test: receivers "
     "apply no DMARC policy (RFC 7489 6.6.3))",
     "2 DMARC records"},
    {"dmarc-none.test", "dmarc-none.test", "dmarc=none (no record)", NULL},
    {"dmarc-nearmiss.test", "dmarc-nearmiss.test", "dmarc=none (no record)",
     "TXT at _dmarc.dmarc-nearmiss.test ignored: not a DMARC record: the "
     "version is 'v=DMARC1 p=quarantine' (a ';' missing after v=DMARC1?)"},
    {"dmarc-fallback.test", "dmarc-fallback.test",
     "dmarc=none (aligned via dkim and spf)",
     "sp=maybe: the policy must be none, quarantine or reject: receivers "
     "act as if p=none because rua= is valid (RFC 7489 6.6.3)"},
    {"dmarc-temperror.test", "dmarc-temperror.test",
     "dmarc=temperror (_dmarc.dmarc-temperror.test: timeout after 3000 ms)",
     "timeout"},
    {"bücher.dmarc-idn.test", "dmarc-idn.test",
     "dmarc=reject (record at dmarc-idn.test; aligned via dkim and spf)", NULL},
    {"dmarc-idn.test", "dmarc-idn.test",
     "dmarc=quarantine (aligned via dkim and spf)", NULL},
    {"good.test", "good.test", "dmarc=quarantine (aligned via dkim and spf)",
     NULL},
};

/* zone_strip - cut a zone-file line at a ';' outside quotes */
static void
zone_strip(char *line)
{
	int quoted = 0;

	for (char *p = line; *p != '\0'; p++) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		else if (*p == '"')
			quoted = !quoted;
		else if (*p == ';' && !quoted)
			*p = '\0';
	}
}

/* zone_txt - the quoted strings of TXT data, '|' between them (the fake's
 * notation) */
static void
zone_txt(const char *p, char *out, size_t size)
{
	size_t n = 0;

	while (*p != '\0') {
		if (*p++ != '"')
			continue;
		if (n > 0 && n + 1 < size)
			out[n++] = '|';
		for (; *p != '\0' && *p != '"'; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			if (n + 1 < size)
				out[n++] = *p;
		}
		if (*p == '"')
			p++;
	}
	out[n] = '\0';
}

/* zone_name - an owner or target relative to the zone, absolute */
static void
zone_name(const char *name, const char *zone, char *out, size_t size)
{
	size_t len = strlen(name);

	if (strcmp(name, "@") == 0)
		snprintf(out, size, "%s", zone);
	else if (len > 0 && name[len - 1] == '.')
		snprintf(out, size, "%.*s", (int) len - 1, name);
	else
		snprintf(out, size, "%s.%s", name, zone);
}

/* zone_line - one record line of a zone template into the fake */
static void
zone_line(struct dns *dns, const char *zone, char *line)
{
	char owner[300], name[300], type[16], target[300], text[2048];
	char *rest = line, *tok;
	int n;

	zone_strip(line);
	if (sscanf(rest, "%255s%n", owner, &n) != 1 || owner[0] == '$')
		return;
	rest += n;
	while (sscanf(rest, "%15s%n", type, &n) == 1 &&
	       (strspn(type, "0123456789") == strlen(type) ||
	        strcmp(type, "IN") == 0))
		rest += n;
	rest += n;
	zone_name(owner, zone, name, sizeof(name));
	if (strcmp(type, "TXT") == 0) {
		zone_txt(rest, text, sizeof(text));
		fake_dns_dmarc_add(dns, name, TXT, 300, text);
	} else if (strcmp(type, "CNAME") == 0 &&
	           (tok = strtok(rest, " \t\n")) != NULL) {
		zone_name(tok, zone, target, sizeof(target));
		fake_dns_dmarc_add(dns, name, DNS_T_CNAME, 300, target);
	} else {
		fake_dns_dmarc_add(dns, name, DNS_T_A, 300, "\x7f\x00\x00\x01");
	}
}

/* zone_load_file - a zone template of the world into the fake */
static void
zone_load_file(struct dns *dns, const char *zone)
{
	const char *dir = getenv("RELAYGATE_SOURCE_DIR");
	char path[1024], line[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/world/zones/%s.zone",
	         dir != NULL ? dir : ".", zone);
	if ((f = fopen(path, "r")) == NULL)
		fail_msg("cannot open %s (set RELAYGATE_SOURCE_DIR)", path);
	while (fgets(line, sizeof(line), f) != NULL)
		zone_line(dns, zone, line);
	fclose(f);
}

/* test_world_zones - the world's DMARC zones give what they promise */
static void
test_world_zones(void **state)
{
	struct dns *dns = *state;
	struct dmarc_result r;
	struct dmarc_alignment a;

	fake_dns_dmarc_clear(dns);
	for (size_t i = 0; i < sizeof(world_zones) / sizeof(world_zones[0]);
	     i++)
		zone_load_file(dns, world_zones[i]);
	fake_dns_dmarc_fail(dns, "_dmarc.slow.test", 1);
	for (size_t i = 0; i < sizeof(world_cases) / sizeof(world_cases[0]);
	     i++) {
		const struct world_case *c = &world_cases[i];

		assert_int_equal(dmarc_lookup(dns, c->from, 0, &r), 0);
		dmarc_align(c->from, c->from, c->mailfrom, 1, &r, &a);
		if (strcmp(a.text, c->text) != 0)
			fail_msg("%s: \"%s\", want \"%s\"", c->from, a.text,
			         c->text);
		if ((c->why == NULL && r.why[0] != '\0') ||
		    (c->why != NULL && strstr(r.why, c->why) == NULL))
			fail_msg("%s: why \"%s\"", c->from, r.why);
	}
}

/* test_state_names - the state words */
static void
test_state_names(void **state)
{
	(void) state;
	assert_string_equal(dmarc_state_name(DMARC_NONE), "none");
	assert_string_equal(dmarc_state_name(DMARC_FOUND), "found");
	assert_string_equal(dmarc_state_name(DMARC_INVALID), "invalid");
	assert_string_equal(dmarc_state_name(DMARC_TEMPERROR), "temperror");
}

/* setup - one fake resolver and the system's public suffix list */
static int
setup(void **state)
{
	char why[256];

	if (orgdomain_init(NULL, why, sizeof(why)) < 0)
		return -1;
	*state = dns_open(NULL, why, sizeof(why));
	return *state == NULL ? -1 : 0;
}

/* teardown - free the fake */
static int
teardown(void **state)
{
	dns_close(*state);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lookup),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_bad_from),
	    cmocka_unit_test(test_long_from),
	    cmocka_unit_test(test_align),
	    cmocka_unit_test(test_align_modes),
	    cmocka_unit_test(test_state_names),
	    cmocka_unit_test(test_world_zones),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
