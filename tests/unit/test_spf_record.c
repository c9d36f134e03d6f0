/*
 * test_spf_record - the RFC 7208 grammar check: records real domains
 * publish must pass, every rule of the ABNF must reject what it forbids
 * with a reason that says where, and the term list must describe the
 * record exactly.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "spf_record.h"

struct record_case {
	const char *txt;
	int status;         /* enum spf_record_status */
	const char *reason; /* valid: nterms/dns as "N/D"; else a substring */
};

/* One-line constructors of table rows. */
// clang-format off
#define OK(txt, counts) {txt, SPF_RECORD_OK, counts}
#define BAD(txt, reason) {txt, SPF_RECORD_INVALID, reason}
#define NOTSPF(txt) {txt, SPF_RECORD_NOT_SPF, "not an SPF record"}
// clang-format on

/* Records as published, and the edges of each rule that must pass. */
static const struct record_case valid_cases[] = {
    OK("v=spf1 +mx +a include:spf.dmrmail.nl -all", "4/3"),
    OK("v=spf1 include:_spf.google.com ~all", "2/1"),
    OK("v=spf1 include:_netblocks.google.com include:_netblocks2.google.com "
       "include:_netblocks3.google.com ~all",
       "4/3"),
    OK("v=spf1 ip4:35.190.247.0/24 ip4:64.233.160.0/19 ip4:66.102.0.0/20 "
       "ip4:66.249.80.0/20 ip4:72.14.192.0/18 ip4:74.125.0.0/16 "
       "ip4:108.177.8.0/21 ip4:173.194.0.0/16 ip4:209.85.128.0/17 "
       "ip4:216.58.192.0/19 ip4:216.239.32.0/19 ~all",
       "12/0"),
    OK("v=spf1 ip6:2001:4860:4000::/36 ip6:2404:6800:4000::/36 "
       "ip6:2607:f8b0:4000::/36 ip6:2800:3f0:4000::/36 "
       "ip6:2a00:1450:4000::/36 ip6:2c0f:fb50:4000::/36 ~all",
       "7/0"),
    OK("v=spf1 include:spf.protection.outlook.com -all", "2/1"),
    OK("v=spf1 ip4:40.92.0.0/15 ip4:40.107.0.0/16 ip4:52.100.0.0/15 "
       "ip4:104.47.0.0/17 ip6:2a01:111:f400::/48 ip6:2a01:111:f403::/49 "
       "ip6:2a01:111:f403:8000::/51 -all",
       "8/0"),
    OK("v=spf1 include:servers.mcsv.net ?all", "2/1"),
    OK("v=spf1 include:amazonses.com include:sendgrid.net "
       "include:_spf.salesforce.com include:mail.zendesk.com ~all",
       "5/4"),
    OK("v=spf1 exists:%{i}._spf.%{d} -all", "2/1"),
    OK("v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} -all", "2/1"),
    OK("v=spf1 exists:_h.%{h}._l.%{l}._o.%{o}._i.%{i}._spf.%{d} ?all", "2/1"),
    OK("v=spf1 -include:ip4._spf.%{d} -include:ptr._spf.%{d} +all", "3/2"),
    OK("v=spf1 redirect=_spf.example.com", "1/1"),
    OK("v=spf1 mx -all exp=explain._spf.%{d}", "3/1"),
    OK("v=spf1 ip6:2001:db8::/32 ip6:::1 ip6:::ffff:192.0.2.1 -all", "4/0"),
    OK("v=spf1 a:mail.example.com/24//64 mx/30 mx:example.org/30 ?all", "4/3"),
    OK("v=spf1 a//64 a/0 a//0 a/32//128 ptr ptr:example.com -all", "7/6"),
    OK("v=spf1 ip4:0.0.0.0/0 ip4:255.255.255.255/32 ip4:192.0.2.1 -all", "4/0"),
    OK("v=spf1", "0/0"),
    OK("V=SPF1", "0/0"),
    OK("v=spf1 ", "0/0"),
    OK("v=spf1    -all   ", "1/0"),
    OK("V=Spf1 INCLUDE:SPF.PROTECTION.OUTLOOK.COM IP4:192.0.2.0/24 -ALL",
       "3/1"),
    OK("v=spf1 include:spf.protection.outlook.com. -all", "2/1"),
    OK("v=spf1 a:foo.example.xn--zckzah a:x.1-2 a:x.a1 -all", "4/3"),
    OK("v=spf1 a:foo:bar/baz.example.com", "1/1"),
    OK("v=spf1 a:macro%%percent%_%_space%-url-space.example.com -all", "2/1"),
    OK("v=spf1 a:%{H} a:%{d2}.%{D1R} a:%{l-+.,/_=}.x.org -all", "4/3"),
    OK("v=spf1 exists:%{l128r}.x.org exists:%{d002}.x.org", "2/2"),
    OK("v=spf1 exists:foo%- exists:x%% exists:x%_", "3/3"),
    OK("v=spf1 a:.com", "1/1"),
    OK("v=spf1 moo.cow-far_out=man:dog/cat ip4:1.2.3.4 -all", "3/0"),
    OK("v=spf1 default=pass ra=postmaster rp=100 rr=e:f:s:p x= -all", "6/0"),
    OK("v=spf1 unknown=%{c}%{r}%{t} -all", "2/0"),
    OK("v=spf1 redirect=%{d}.d.spf.example.com.", "1/1"),
    OK("v=spf1 REDIRECT=x.example.com EXP=y.example.com", "2/1"),
    OK("v=spf1 a=b all=x", "2/0"),
    OK("v=spf1 ip4:1.2.3.4 redirect=t2.example.com", "2/1"),
    OK("v=spf1 a mx a mx a mx a mx a ptr a ip4:1.2.3.4 -all", "13/11"),
};

/* Records each rule of the ABNF rejects, with the reason expected. */
static const struct record_case invalid_cases[] = {
    BAD("v=spf1 ip4:300.1.1.1", "term 1 'ip4:300.1.1.1': bad IPv4 address"),
    BAD("v=spf1 mx ip4:1.2.3", "term 2 'ip4:1.2.3': bad IPv4 address"),
    BAD("v=spf1 ip4:1.2.3.4:8080", "bad IPv4 address '1.2.3.4:8080'"),
    BAD("v=spf1 ip4:01.2.3.4", "bad IPv4 address"),
    BAD("v=spf1 ip4:1.2.3.4444", "bad IPv4 address"),
    BAD("v=spf1 ip4:1.2.3.4.", "bad IPv4 address"),
    BAD("v=spf1 ip4:", "needs ':' and an IPv4 address"),
    BAD("v=spf1 ip4", "needs ':' and an IPv4 address"),
    BAD("v=spf1 ip4:/24", "bad IPv4 address ''"),
    BAD("v=spf1 ip4:1.2.3.4/33", "bad IPv4 CIDR length '/33'"),
    BAD("v=spf1 ip4:1.2.3.4/032", "bad IPv4 CIDR length"),
    BAD("v=spf1 ip4:1.2.3.4//32", "bad IPv4 CIDR length '//32'"),
    BAD("v=spf1 ip4:1.2.3.4/", "bad IPv4 CIDR length"),
    BAD("v=spf1 ip4:1.2.3.4/-1", "bad IPv4 CIDR length"),
    BAD("v=spf1 ip6::CAFE::BABE", "bad IPv6 address"),
    BAD("v=spf1 ip6:1.2.3.4", "bad IPv6 address"),
    BAD("v=spf1 ip6:2001:db8::/129", "bad IPv6 CIDR length '/129'"),
    BAD("v=spf1 ip6:::1.1.1.1//33", "bad IPv6 CIDR length"),
    BAD("v=spf1 ip6:2001:db8::/064", "bad IPv6 CIDR length"),
    BAD("v=spf1 ip6:12345::", "bad IPv6 address"),
    BAD("v=spf1 -all ip6", "term 2 'ip6': 'ip6' needs ':'"),
    BAD("v=spf1 -all.", "unknown mechanism 'all.'"),
    BAD("v=spf1 -all:foobar", "'all' takes no argument"),
    BAD("v=spf1 -all/8", "'all' takes no argument"),
    BAD("v=spf1 ptr/0 -all", "'ptr' takes no CIDR length"),
    BAD("v=spf1 ptr:", "empty domain"),
    BAD("v=spf1 include", "'include' needs ':' and a domain"),
    BAD("v=spf1 include: -all", "term 1 'include:': empty domain"),
    BAD("v=spf1 include:ip5.example.com/24", "'include' takes no CIDR"),
    BAD("v=spf1 exists", "'exists' needs ':' and a domain"),
    BAD("v=spf1 exists:mail.example.com/24", "'exists' takes no CIDR"),
    BAD("v=spf1 a/33 -all", "bad IPv4 CIDR length '/33'"),
    BAD("v=spf1 a//129", "bad IPv6 CIDR length '//129'"),
    BAD("v=spf1 a/24/64", "bad IPv4 CIDR length '/24/64'"),
    BAD("v=spf1 a:foo.com/24/64", "bad top-level label 'com/24'"),
    BAD("v=spf1 a/", "bad IPv4 CIDR length '/'"),
    BAD("v=spf1 a//", "bad IPv6 CIDR length"),
    BAD("v=spf1 mx///24", "bad IPv6 CIDR length"),
    BAD("v=spf1 a:", "empty domain"),
    BAD("v=spf1 a:/24", "empty domain"),
    BAD("v=spf1 a:foo-bar", "'foo-bar' is not a domain"),
    BAD("v=spf1 a:museum", "is not a domain"),
    BAD("v=spf1 a:museum.", "is not a domain"),
    BAD("v=spf1 a:%{d}.", "is not a domain"),
    BAD("v=spf1 a:%{d}com", "is not a domain"),
    BAD("v=spf1 a:abc.123", "bad top-level label '123'"),
    BAD("v=spf1 a:111.222.33.44", "bad top-level label '44'"),
    BAD("v=spf1 a:example.-com", "bad top-level label '-com'"),
    BAD("v=spf1 a:example.com-", "bad top-level label 'com-'"),
    BAD("v=spf1 a:example._spf", "bad top-level label '_spf'"),
    BAD("v=spf1 a:example.com..", "bad top-level label ''"),
    BAD("v=spf1 mx:example.com:8080", "bad top-level label 'com:8080'"),
    BAD("v=spf1 foo", "unknown mechanism 'foo'"),
    BAD("v=spf1 ip4:1.2.3.4 -all moo", "term 3 'moo': unknown mechanism"),
    BAD("v=spf1 moo.cow/far_out=man:dog/cat", "unknown mechanism 'moo.cow'"),
    BAD("v=spf1 moo.cow:far_out=man:dog/cat", "unknown mechanism"),
    BAD("v=spf1 redirect:t2.example.com", "'redirect' is a modifier"),
    BAD("v=spf1 +", "missing mechanism name"),
    BAD("v=spf1 -:foo.com", "missing mechanism name"),
    BAD("v=spf1 !all", "unknown mechanism '!all'"),
    BAD("v=spf1 ++all", "unknown mechanism '+all'"),
    BAD("v=spf1 1up=foo", "modifier name must start with a letter"),
    BAD("v=spf1 =all", "modifier without a name"),
    BAD("v=spf1 -redirect=x.example.com", "takes no qualifier '-'"),
    BAD("v=spf1 a!b=c", "bad character '!' in modifier name"),
    BAD("v=spf1 redirect=", "empty domain"),
    BAD("v=spf1 exp= -all", "empty domain"),
    BAD("v=spf1 redirect=-all ?all", "'-all' is not a domain"),
    BAD("v=spf1 redirect=a.example.com -all redirect=a.example.com",
        "term 3 'redirect=a.example.com': second 'redirect' modifier (term 1"),
    BAD("v=spf1 exp=a.example.com -all Exp=b.example.com",
        "second 'exp' modifier"),
    BAD("v=spf1 -exists:%(ir).sbl.example.com ?all", "'%(' is not a macro"),
    BAD("v=spf1 exists:foo%.sbl.example.com", "'%.' is not a macro"),
    BAD("v=spf1 exists:foo.example.com%", "'%' at the end"),
    BAD("v=spf1 a:%{a}.example.com", "'a' is not a macro letter"),
    BAD("v=spf1 exp=%{r}.example.com", "'r' is not a macro letter here"),
    BAD("v=spf1 a:%{c}.example.com", "c r t only in explanations"),
    BAD("v=spf1 a:%{t}.example.com", "is not a macro letter"),
    BAD("v=spf1 a:%{d0}.example.com", "must be 1 to 128"),
    BAD("v=spf1 a:%{d129}.example.com", "must be 1 to 128"),
    BAD("v=spf1 a:%{d99999999999999999999}.x.com", "must be 1 to 128"),
    BAD("v=spf1 a:%{d", "macro '%{d' is not closed"),
    BAD("v=spf1 a:%{", "macro '%{' is not closed"),
    BAD("v=spf1 a:%{d2rr}.x.com", "macro '%{d2rr' is not closed"),
    BAD("v=spf1 a:%{d|}.x.com", "is not closed"),
    BAD("v=spf1 a:%{}.x.com", "'}' is not a macro letter"),
    BAD("v=spf1 foo=%abc", "'%a' is not a macro"),
    BAD("v=spf1 foo=%{x}", "'x' is not a macro letter"),
    BAD("v=spf1 a:%{d}%{d}%{d}%{d}%{d}%{d}%{d}%{d}%{d}", "more than 8 macros"),
    BAD("v=spf1 a:foo.example.com\t-all", "tab (terms are separated by "
                                          "spaces only) 0x09 at offset 24"),
    BAD("v=spf1 a:ctrl.example.com\rptr -all",
        "line break 0x0d at offset 25, after '...=spf1 a:ctrl.example.com'"),
    BAD("v=spf1 -all\n", "line break 0x0a"),
    BAD("v=spf1 a:\xEF\xBB\xBFgarbage.example.net -all",
        "non-ASCII byte (SPF records are 7-bit ASCII) 0xef at offset 9"),
    BAD("v=spf1 \x80"
        "a:example.net -all",
        "non-ASCII byte"),
    BAD("v=spf1 a:example.net \x96"
        "all",
        "non-ASCII byte"),
    BAD("v=spf1 -all\x7f", "control character 0x7f"),
    BAD("v=spf1 \x01", "control character 0x01"),
    NOTSPF("v=spf10"),
    NOTSPF("v=spf1mx"),
    NOTSPF("v=spf1\t-all"),
    NOTSPF("v=spf2.0/pra -all"),
    NOTSPF("spf1 -all"),
    NOTSPF(" v=spf1 -all"),
    NOTSPF("v=spfl am not an SPF record"),
    NOTSPF(""),
    NOTSPF("v=spf"),
    NOTSPF("\x96"),
    NOTSPF("google-site-verification=abc"),
};

/* check_case - parse one table row and compare */
static void
check_case(const struct record_case *c, size_t len)
{
	static struct spf_record rec;
	char why[256], counts[32];
	int rc = spf_record_parse(c->txt, len, &rec, why, sizeof(why));

	if (rc != c->status)
		fail_msg("'%s': status %d, want %d (%s)", c->txt, rc, c->status,
		         why);
	if (rc == SPF_RECORD_OK) {
		snprintf(counts, sizeof(counts), "%d/%d", rec.nterms,
		         rec.dns_terms);
		if (strcmp(counts, c->reason) != 0)
			fail_msg("'%s': terms/dns %s, want %s", c->txt, counts,
			         c->reason);
	} else if (strstr(why, c->reason) == NULL) {
		fail_msg("'%s': reason '%s' lacks '%s'", c->txt, why,
		         c->reason);
	}
}

static void
test_valid(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(valid_cases) / sizeof(valid_cases[0]);
	     i++)
		check_case(&valid_cases[i], strlen(valid_cases[i].txt));
}

static void
test_invalid(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(invalid_cases) / sizeof(invalid_cases[0]);
	     i++)
		check_case(&invalid_cases[i], strlen(invalid_cases[i].txt));
}

/* A NUL byte is data, not the end: the length decides. */
static void
test_nul(void **state)
{
	static const char txt[] = "v=spf1 a:foo.example.com\0 -all";
	static const struct record_case c = {txt, SPF_RECORD_INVALID,
	                                     "NUL byte 0x00 at offset 24"};
	static const struct record_case prefix = {txt, SPF_RECORD_OK, "1/1"};

	(void) state;
	check_case(&c, sizeof(txt) - 1);
	check_case(&prefix, 24);
}

struct term_case {
	const char *txt;
	int index;
	enum spf_term_type type;
	char qualifier;
	const char *arg;
	int cidr4, cidr6;
};

/* The term list: types, qualifiers, arguments and CIDR lengths. */
static void
test_terms(void **state)
{
	static const char txt[] =
	    "v=spf1 +mx ~a:Mail.Example.com/24//64 ?ip4:192.0.2.0/24 "
	    "-ip6:2001:db8::/32  include:spf.dmrmail.nl exists:%{i}.x.org "
	    "ptr a//0 redirect=_spf.example.com exp=e.%{d} foo=bar -all ";
	static const struct term_case want[] = {
	    {txt, 0, SPF_TERM_MX, '+', "", -1, -1},
	    {txt, 1, SPF_TERM_A, '~', "Mail.Example.com", 24, 64},
	    {txt, 2, SPF_TERM_IP4, '?', "192.0.2.0", 24, -1},
	    {txt, 3, SPF_TERM_IP6, '-', "2001:db8::", -1, 32},
	    {txt, 4, SPF_TERM_INCLUDE, '+', "spf.dmrmail.nl", -1, -1},
	    {txt, 5, SPF_TERM_EXISTS, '+', "%{i}.x.org", -1, -1},
	    {txt, 6, SPF_TERM_PTR, '+', "", -1, -1},
	    {txt, 7, SPF_TERM_A, '+', "", -1, 0},
	    {txt, 8, SPF_TERM_REDIRECT, 0, "_spf.example.com", -1, -1},
	    {txt, 9, SPF_TERM_EXP, 0, "e.%{d}", -1, -1},
	    {txt, 10, SPF_TERM_UNKNOWN_MOD, 0, "bar", -1, -1},
	    {txt, 11, SPF_TERM_ALL, '-', "", -1, -1},
	};
	static struct spf_record rec;
	char why[256];

	(void) state;
	assert_int_equal(
	    spf_record_parse(txt, strlen(txt), &rec, why, sizeof(why)),
	    SPF_RECORD_OK);
	assert_int_equal(rec.nterms, 12);
	assert_int_equal(rec.dns_terms, 7);
	assert_int_equal(rec.all, 11);
	assert_int_equal(rec.redirect, 8);
	assert_int_equal(rec.exp, 9);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct spf_term *t = &rec.term[want[i].index];
		size_t alen = strlen(want[i].arg);

		assert_int_equal(t->type, want[i].type);
		assert_int_equal(t->qualifier, want[i].qualifier);
		assert_int_equal(t->arg_len, alen);
		assert_memory_equal(txt + t->arg_off, want[i].arg, alen);
		assert_int_equal(t->cidr4, want[i].cidr4);
		assert_int_equal(t->cidr6, want[i].cidr6);
	}
	assert_memory_equal(txt + rec.term[1].off, "~a:Mail.Example.com/24//64",
	                    rec.term[1].len);
	assert_memory_equal(rec.term[2].addr, "\xc0\x00\x02\x00", 4);
	assert_memory_equal(rec.term[3].addr,
	                    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\0", 16);
}

/* The limits: length, terms, argument length, macros per term. */
static void
test_limits(void **state)
{
	static char txt[SPF_RECORD_MAX_LEN + 64];
	static struct spf_record rec;
	char why[256];
	size_t n;

	(void) state;
	/* 128 terms pass, 129 do not. */
	n = (size_t) sprintf(txt, "v=spf1");
	for (int i = 0; i < SPF_RECORD_MAX_TERMS; i++)
		n += (size_t) sprintf(txt + n, " a");
	assert_int_equal(spf_record_parse(txt, n, &rec, why, sizeof(why)),
	                 SPF_RECORD_OK);
	assert_int_equal(rec.nterms, SPF_RECORD_MAX_TERMS);
	n += (size_t) sprintf(txt + n, " a");
	assert_int_equal(spf_record_parse(txt, n, &rec, why, sizeof(why)),
	                 SPF_RECORD_INVALID);
	assert_non_null(strstr(why, "more than 128 terms"));

	/* 2048 bytes pass, 2049 do not, and the reason says so. */
	memset(txt, ' ', sizeof(txt));
	memcpy(txt, "v=spf1 -all", 11);
	assert_int_equal(
	    spf_record_parse(txt, SPF_RECORD_MAX_LEN, &rec, why, sizeof(why)),
	    SPF_RECORD_OK);
	assert_int_equal(spf_record_parse(txt, SPF_RECORD_MAX_LEN + 1, &rec,
	                                  why, sizeof(why)),
	                 SPF_RECORD_INVALID);
	assert_string_equal(why, "record is 2049 bytes long, more than 2048");

	/* A domain-spec of 255 bytes passes, 256 do not. */
	n = (size_t) sprintf(txt, "v=spf1 include:");
	memset(txt + n, 'a', SPF_RECORD_MAX_ARG - 4);
	n += SPF_RECORD_MAX_ARG - 4;
	n += (size_t) sprintf(txt + n, ".com");
	assert_int_equal(spf_record_parse(txt, n, &rec, why, sizeof(why)),
	                 SPF_RECORD_OK);
	memmove(txt + n - 3, "acom", 4);
	assert_int_equal(spf_record_parse(txt, n + 1, &rec, why, sizeof(why)),
	                 SPF_RECORD_INVALID);
	assert_non_null(strstr(why, "domain longer than 255 bytes"));
	/* ...and the quoted term is cut short. */
	assert_non_null(strstr(why, "aaaa...'"));
}

/* Reasons fit any buffer, and a NULL buffer is allowed. */
static void
test_why_buffers(void **state)
{
	static const char txt[] = "v=spf1 ip4:300.1.1.1";
	static struct spf_record rec;
	char why[8];

	(void) state;
	memset(why, 'x', sizeof(why));
	assert_int_equal(
	    spf_record_parse(txt, strlen(txt), &rec, why, sizeof(why)),
	    SPF_RECORD_INVALID);
	assert_string_equal(why, "term 1 ");
	assert_int_equal(spf_record_parse(txt, strlen(txt), &rec, NULL, 0),
	                 SPF_RECORD_INVALID);
	assert_int_equal(spf_record_parse("x", 1, &rec, why, 0),
	                 SPF_RECORD_NOT_SPF);
}

/* Explanation strings: spaces and c r t allowed, macros still strict. */
static void
test_explain(void **state)
{
	static const struct {
		const char *txt;
		const char *reason; /* NULL: valid */
	} cases[] = {
	    {"", NULL},
	    {"%{l}", NULL},
	    {"Connections from %{c} not authorized.", NULL},
	    {"http://example.com/why.html?l=%{L}", NULL},
	    {"Sender domain not allowed from this host. Please see "
	     "http://www.openspf.org/Why?s=mfrom&id=%{S}&ip=%{C}&r=%{R}",
	     NULL},
	    {"%{c} is queried as %{ir}.%{v}.arpa at %{t}", NULL},
	    {"Congratulations!  That was tricky.", NULL},
	    {"The %{x}-files.", "'x' is not a macro letter"},
	    {"100% sure", "'% ' is not a macro"},
	    {"\xEF\xBB\xBF"
	     "Explanation",
	     "non-ASCII byte"},
	    {"a\tb", "tab"},
	    {"x {d} {d} {d} {d} {d} {d} {d} {d} {d}", "more than 8 macros"},
	};
	char why[256];

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = spf_record_explain_check(
		    cases[i].txt, strlen(cases[i].txt), why, sizeof(why));

		if (cases[i].reason == NULL && rc != 0)
			fail_msg("'%s': %s", cases[i].txt, why);
		if (cases[i].reason != NULL &&
		    (rc != -1 || strstr(why, cases[i].reason) == NULL))
			fail_msg("'%s': rc %d '%s', want '%s'", cases[i].txt,
			         rc, why, cases[i].reason);
	}
}

/* find: our include, case and trailing dot ignored. */
static void
test_find(void **state)
{
	static const char txt[] =
	    "v=spf1 mx include:Spf.DMRmail.nl. include:_spf.google.com -all";
	static struct spf_record rec;

	(void) state;
	assert_int_equal(spf_record_parse(txt, strlen(txt), &rec, NULL, 0),
	                 SPF_RECORD_OK);
	assert_int_equal(
	    spf_record_find(&rec, txt, SPF_TERM_INCLUDE, "spf.dmrmail.nl"), 1);
	assert_int_equal(
	    spf_record_find(&rec, txt, SPF_TERM_INCLUDE, "_spf.google.com."),
	    2);
	assert_int_equal(
	    spf_record_find(&rec, txt, SPF_TERM_INCLUDE, "spf.dmrmail"), -1);
	assert_int_equal(spf_record_find(&rec, txt, SPF_TERM_A, NULL), -1);
	assert_int_equal(spf_record_find(&rec, txt, SPF_TERM_ALL, NULL), 3);
}

/*
 * format: the advise use case.  Our include goes before "all"; the
 * customer's terms and spelling stay; the result parses again.
 */
static void
test_format(void **state)
{
	static const char txt[] = "v=spf1  +mx +a   ~all";
	static struct spf_record rec, again;
	char out[128], small[12];

	(void) state;
	assert_int_equal(spf_record_parse(txt, strlen(txt), &rec, NULL, 0),
	                 SPF_RECORD_OK);
	assert_int_equal(
	    spf_record_format(&rec, txt, -1, NULL, out, sizeof(out)), 18);
	assert_string_equal(out, "v=spf1 +mx +a ~all");
	assert_int_equal(spf_record_format(&rec, txt, rec.all,
	                                   "include:spf.dmrmail.nl", out,
	                                   sizeof(out)),
	                 41);
	assert_string_equal(out, "v=spf1 +mx +a include:spf.dmrmail.nl ~all");
	assert_int_equal(spf_record_parse(out, strlen(out), &again, NULL, 0),
	                 SPF_RECORD_OK);
	assert_int_equal(again.dns_terms, rec.dns_terms + 1);
	assert_int_equal(
	    spf_record_format(&rec, txt, rec.nterms, "-all", out, sizeof(out)),
	    23);
	assert_string_equal(out, "v=spf1 +mx +a ~all -all");
	/* Too small, or a position that does not exist: -1, empty. */
	assert_int_equal(
	    spf_record_format(&rec, txt, -1, NULL, small, sizeof(small)), -1);
	assert_string_equal(small, "");
	assert_int_equal(spf_record_format(&rec, txt, 4, "a", out, sizeof(out)),
	                 -1);
	assert_int_equal(spf_record_format(&rec, txt, -1, NULL, out, 19), 18);
	assert_int_equal(spf_record_format(&rec, txt, -1, NULL, out, 18), -1);
}

static void
test_type_names(void **state)
{
	(void) state;
	assert_string_equal(spf_record_type_name(SPF_TERM_INCLUDE), "include");
	assert_string_equal(spf_record_type_name(SPF_TERM_UNKNOWN_MOD),
	                    "unknown modifier");
	assert_string_equal(spf_record_type_name((enum spf_term_type) 99), "?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),   cmocka_unit_test(test_invalid),
	    cmocka_unit_test(test_nul),     cmocka_unit_test(test_terms),
	    cmocka_unit_test(test_limits),  cmocka_unit_test(test_why_buffers),
	    cmocka_unit_test(test_explain), cmocka_unit_test(test_find),
	    cmocka_unit_test(test_format),  cmocka_unit_test(test_type_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
