/*
 * test_dmarc_record - the DMARC record parser: accepted records and their
 * fields and defaults, tolerated problems (notes, the RFC 7489 6.6.3
 * fallback), every rule that makes a record INVALID, texts that are not
 * DMARC records, and the limits.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dmarc_record.h"

#define NONE DMARC_POLICY_NONE
#define QUAR DMARC_POLICY_QUARANTINE
#define REJ DMARC_POLICY_REJECT
#define R DMARC_MODE_RELAXED
#define S DMARC_MODE_STRICT

struct status_case {
	const char *text;
	enum dmarc_record_status status;
	const char *why; /* substring of why; NULL: why must be empty */
	int near_miss;
};

#define OK(t)                                                                  \
	{                                                                      \
		(t), DMARC_RECORD_OK, NULL, 0                                  \
	}
#define NOTE(t, w)                                                             \
	{                                                                      \
		(t), DMARC_RECORD_OK, (w), 0                                   \
	}
#define BAD(t, w)                                                              \
	{                                                                      \
		(t), DMARC_RECORD_INVALID, (w), 0                              \
	}
#define NOT(t, w, near)                                                        \
	{                                                                      \
		(t), DMARC_RECORD_NOT_DMARC, (w), (near)                       \
	}

static const struct status_case status_cases[] = {
    /* accepted as they are */
    OK("v=DMARC1; p=none"),
    OK("v=DMARC1;p=reject"),
    OK("v=DMARC1; p=reject;"),
    OK("v=DMARC1; p=quarantine; sp=none; np=reject; adkim=s; aspf=s; "
       "pct=50; fo=1:d:s; rf=afrf; ri=3600; "
       "rua=mailto:a@example.com; ruf=mailto:f@example.com"),
    OK("  v = DMARC1 ;\tp = reject ; "),
    OK("v=DMARC1\r\n\t; p=none"),
    OK("v=DMARC1; p=REJECT; sp=Quarantine; np=NONE; adkim=S; aspf=R"),
    OK("v=DMARC1; rua=mailto:x@example.com; p=none"),
    OK("v=DMARC1; p=none;; ;"),
    OK("v=DMARC1; p=none; x=1; foo_bar=baz qux; t=y; psd=n; Xy=Z"),
    OK("v=DMARC1; p=none; empty="),
    OK("v=DMARC1; p=reject; rua=mailto:a@example.com!10m, "
       "mailto:b@example.net"),
    OK("v=DMARC1; p=reject; rua=mailto:a@example.com!10"),
    OK("v=DMARC1; p=reject; rua=https://example.com/r?x=1&y=%2C"),
    OK("v=DMARC1; p=reject; rua=mailto:a%2Cb@example.com"),
    OK("v=DMARC1; p=none; pct=0"),
    OK("v=DMARC1; p=none; pct=007"),
    OK("v=DMARC1; p=none; ri=0; ri2=x"),
    OK("v=DMARC1; p=none; ri=4294967295"),
    OK("v=DMARC1; p=none; fo = d : s"),
    OK("v=DMARC1; p=none; fo=D"),
    OK("v=DMARC1; p=none; rf=AFRF"),
    OK("v=DMARC1; p=none; rf=afrf:afrf"),
    OK("v=DMARC1; p=none; v2=DMARC1"),
    OK("v =\tDMARC1; p=none"),

    /* accepted with a note */
    NOTE("v=DMARC1; p=reject; rua=dmarc@example.com",
         "rua=: 'dmarc@example.com' is not a valid URI"),
    NOTE("v=DMARC1; p=reject; ruf=mailto:a@example.com, nope",
         "ruf=: 'nope' is not a valid URI"),
    NOTE("v=DMARC1; p=reject; rua=mailto:", "'mailto:' is not a valid URI"),
    NOTE("v=DMARC1; p=reject; rua=mailto:a@b.c!", "is not a valid URI"),
    NOTE("v=DMARC1; p=reject; rua=mailto:a@b.c!1x", "is not a valid URI"),
    NOTE("v=DMARC1; p=reject; rua=mailto:a@b.c!m", "is not a valid URI"),
    NOTE("v=DMARC1; p=reject; rua=mailto:a@b.c%2", "is not a valid URI"),
    NOTE("v=DMARC1; p=reject; rua=mailto:a@b.c%zz", "is not a valid URI"),
    NOTE("v=DMARC1; p=reject; rua=mailto:a b@c", "is not a valid URI"),
    NOTE("v=DMARC1; p=reject; rua=mailto:a@b.c,", "'' is not a valid URI"),
    NOTE("v=DMARC1; p=reject; rua=1x:a", "'1x:a' is not a valid URI"),
    NOTE("v=DMARC1; p=reject; np=bogus", "np=bogus: the policy must be"),
    NOTE("v=DMARC1; p=reject; np=bogus", "(np= ignored)"),
    NOTE("v=DMARC1; rua=mailto:a@example.com",
         "no p= tag: receivers act as if p=none because rua= is valid"),
    NOTE("v=DMARC1; p=bogus; rua=mailto:a@example.com",
         "p=bogus: the policy must be none, quarantine or reject: "
         "receivers act as if p=none"),
    NOTE("v=DMARC1; p=reject; sp=bogus; rua=mailto:a@example.com", "sp=bogus"),
    NOTE("v=DMARC1; p=r; rua=mailto:a@example.com", "p=r: the policy"),
    NOTE("v=DMARC1; p=; rua=mailto:a@example.com", "p=: the policy"),
    NOTE("v=DMARC1; p=bogus; rua=nope, mailto:a@example.com",
         "act as if p=none"),

    /* invalid */
    BAD("v=DMARC1", "no p= tag, and no valid rua= URI: receivers apply no "
                    "DMARC policy"),
    BAD("v=DMARC1;", "no p= tag"),
    BAD("v=DMARC1; p=bogus", "p=bogus: the policy must be none, quarantine "
                             "or reject, and no valid rua="),
    BAD("v=DMARC1; p=reject; sp=bogus", "sp=bogus"),
    BAD("v=DMARC1; p=bogus; rua=dmarc@example.com", "no valid rua="),
    BAD("v=DMARC1; p=none; p=reject", "duplicate tag 'p='"),
    BAD("v=DMARC1; p=none; sp=bogus; sp=none", "duplicate tag 'sp='"),
    BAD("v=DMARC1; p=none; v=DMARC1", "duplicate tag 'v='"),
    BAD("v=DMARC1; p=none; x=1; x=2", "duplicate tag 'x='"),
    BAD("v=DMARC1; P=reject", "tag 'P=' at offset 10: tag names are "
                              "case-sensitive, write 'p='"),
    BAD("v=DMARC1; p=none; ADKIM=s", "write 'adkim='"),
    BAD("v=DMARC1; p=none; V=DMARC1", "write 'v='"),
    BAD("V=DMARC1; p=none", "V=DMARC1: the version must be exactly "
                            "v=DMARC1; receivers that follow RFC 7489 "
                            "ignore this record"),
    BAD("v=dmarc1; p=none", "v=dmarc1: the version must be exactly"),
    BAD("v=DMARC1; p=none; adkim=x",
        "adkim=x: the alignment mode must be r or s"),
    BAD("v=DMARC1; p=none; aspf=relaxed", "aspf=relaxed: the alignment"),
    BAD("v=DMARC1; p=none; aspf=", "aspf=: the alignment"),
    BAD("v=DMARC1; p=none; pct=101", "pct=101: must be a number from 0 to "
                                     "100"),
    BAD("v=DMARC1; p=none; pct=-1", "pct=-1"),
    BAD("v=DMARC1; p=none; pct=0100", "pct=0100"),
    BAD("v=DMARC1; p=none; pct=", "pct=:"),
    BAD("v=DMARC1; p=none; pct=5 0", "pct=5 0"),
    BAD("v=DMARC1; p=none; pct=50%", "pct=50%"),
    BAD("v=DMARC1; p=none; fo=2", "fo=2: options must be 0, 1, d or s"),
    BAD("v=DMARC1; p=none; fo=1::d", "fo=1::d"),
    BAD("v=DMARC1; p=none; fo=", "fo=:"),
    BAD("v=DMARC1; p=none; fo=1,d", "fo=1,d"),
    BAD("v=DMARC1; p=none; rf=iodef",
        "rf=iodef: unknown report format (only afrf is defined)"),
    BAD("v=DMARC1; p=none; rf=", "rf=: unknown report format"),
    BAD("v=DMARC1; p=none; ri=4294967296", "ri=4294967296: must be a "
                                           "number of seconds"),
    BAD("v=DMARC1; p=none; ri=1h", "ri=1h"),
    BAD("v=DMARC1; p=none; ri=", "ri=:"),
    BAD("v=DMARC1; p=none; foo", "tag 'foo' at offset 18 has no '='"),
    BAD("v=DMARC1; p=none foo", NULL),
    BAD("v=DMARC1; p=none; =x", "invalid tag name '' at offset 18"),
    BAD("v=DMARC1; p=none; 1x=2", "invalid tag name '1x'"),
    BAD("v=DMARC1; p=none; a-b=2", "invalid tag name 'a-b'"),
    BAD("v=DMARC1; p=none; a b=2", "invalid tag name 'a b'"),
    BAD("v=DMARC1; p=no\x80ne",
        "invalid character 0x80 in the value of 'p=' at offset 14"),
    BAD("v=DMARC1; p=none; x=\x01", "invalid character 0x01"),
    BAD("v=DMARC1; p=none; n\xc3\xa9=1", "invalid tag name 'n?"
                                         "?'"),
    BAD("v=DMARC1; p=none; x=\x7f", "invalid character 0x7f"),

    /* not DMARC records */
    NOT("", "not a DMARC record: it does not start with v=DMARC1", 0),
    NOT("   ", "does not start with v=DMARC1", 0),
    NOT("v=spf1 -all", "the version is 'v=spf1 -all', not v=DMARC1", 0),
    NOT("p=reject; v=DMARC1", "does not start with v=DMARC1", 0),
    NOT("; v=DMARC1; p=none", "does not start with v=DMARC1", 0),
    NOT("v=DMARC2; p=none", "the version is 'v=DMARC2', not v=DMARC1", 1),
    NOT("v=DMARC1 p=reject",
        "the version is 'v=DMARC1 p=reject' (a ';' missing after "
        "v=DMARC1?)",
        1),
    NOT("v=DMARC1p=reject", "not v=DMARC1", 1),
    NOT("v=DMARC", "the version is 'v=DMARC'", 1),
    NOT("v=dmarc1 p=none", "(a ';' missing", 1),
    NOT("v=", "the version is 'v='", 0),
    NOT("hello world", "does not start with v=DMARC1", 0),
    NOT("google-site-verification=abc", "does not start with v=DMARC1", 0),
    NOT("vv=DMARC1; p=none", "does not start", 0),
    NOT("v:DMARC1; p=none", "does not start", 0),
    NOT("v=DMARC1\x80; p=none", "does not start", 1),
};

/* test_status - status, reason and near miss of every table entry */
static void
test_status(void **state)
{
	struct dmarc_record rec;
	char why[256];

	(void) state;
	for (size_t i = 0; i < sizeof(status_cases) / sizeof(status_cases[0]);
	     i++) {
		const struct status_case *c = &status_cases[i];
		enum dmarc_record_status st = dmarc_record_parse(
		    c->text, strlen(c->text), &rec, why, sizeof(why));

		if (st != c->status || rec.status != st)
			fail_msg("\"%s\": status %d, want %d (%s)", c->text, st,
			         c->status, why);
		if (c->why == NULL && c->status == DMARC_RECORD_OK &&
		    why[0] != '\0')
			fail_msg("\"%s\": unexpected note \"%s\"", c->text,
			         why);
		if (c->why != NULL && strstr(why, c->why) == NULL)
			fail_msg("\"%s\": why \"%s\" lacks \"%s\"", c->text,
			         why, c->why);
		if (c->status != DMARC_RECORD_OK && why[0] == '\0')
			fail_msg("\"%s\": no reason", c->text);
		if (c->status == DMARC_RECORD_NOT_DMARC &&
		    rec.near_miss != c->near_miss)
			fail_msg("\"%s\": near_miss %d", c->text,
			         rec.near_miss);
	}
}

struct field_case {
	const char *text;
	enum dmarc_policy p, sp, np;
	enum dmarc_mode adkim, aspf;
	int pct;
	unsigned fo;
	uint32_t ri;
	unsigned tags;
	int fallback, rua_valid;
	const char *rua, *ruf;
};

#define T(x) DMARC_RECORD_TAG_##x
#define FO(x) DMARC_RECORD_FO_##x

static const struct field_case field_cases[] = {
    {"v=DMARC1; p=none", NONE, NONE, NONE, R, R, 100, FO(0), 86400, T(P), 0, 0,
     "", ""},
    {"v=DMARC1; p=reject", REJ, REJ, REJ, R, R, 100, FO(0), 86400, T(P), 0, 0,
     "", ""},
    {"v=DMARC1; p=reject; sp=none", REJ, NONE, NONE, R, R, 100, FO(0), 86400,
     T(P) | T(SP), 0, 0, "", ""},
    {"v=DMARC1; p=none; sp=quarantine", NONE, QUAR, QUAR, R, R, 100, FO(0),
     86400, T(P) | T(SP), 0, 0, "", ""},
    {"v=DMARC1; p=none; np=reject", NONE, NONE, REJ, R, R, 100, FO(0), 86400,
     T(P) | T(NP), 0, 0, "", ""},
    {"v=DMARC1; p=reject; np=bogus", REJ, REJ, REJ, R, R, 100, FO(0), 86400,
     T(P), 0, 0, "", ""},
    {"v=DMARC1; p=quarantine; sp=none; np=reject; adkim=s; aspf=s; "
     "pct=50; fo=1:d:s; rf=afrf; ri=3600; "
     "rua=mailto:a@example.com; ruf=mailto:f@example.com",
     QUAR, NONE, REJ, S, S, 50, FO(1) | FO(D) | FO(S), 3600,
     T(P) | T(SP) | T(NP) | T(ADKIM) | T(ASPF) | T(PCT) | T(FO) | T(RF) |
         T(RI) | T(RUA) | T(RUF),
     0, 1, "mailto:a@example.com", "mailto:f@example.com"},
    {"v=DMARC1; p=Reject; adkim=S; aspf=r", REJ, REJ, REJ, S, R, 100, FO(0),
     86400, T(P) | T(ADKIM) | T(ASPF), 0, 0, "", ""},
    {"v=DMARC1; p=none; pct=007; fo=0:1", NONE, NONE, NONE, R, R, 7,
     FO(0) | FO(1), 86400, T(P) | T(PCT) | T(FO), 0, 0, "", ""},
    {"v=DMARC1; p=none; pct=0; ri=0", NONE, NONE, NONE, R, R, 0, FO(0), 0,
     T(P) | T(PCT) | T(RI), 0, 0, "", ""},
    {"v=DMARC1; p=reject; rua = mailto:a@example.com!10m ,\tmailto:b@x.y", REJ,
     REJ, REJ, R, R, 100, FO(0), 86400, T(P) | T(RUA), 0, 2,
     "mailto:a@example.com!10m , mailto:b@x.y", ""},
    {"v=DMARC1; p=reject; rua=dmarc@example.com, mailto:ok@example.com", REJ,
     REJ, REJ, R, R, 100, FO(0), 86400, T(P), 0, 1,
     "dmarc@example.com, mailto:ok@example.com", ""},
    /* the RFC 7489 6.6.3 fallback: p=none everywhere */
    {"v=DMARC1; rua=mailto:a@example.com; sp=reject; np=reject", NONE, NONE,
     NONE, R, R, 100, FO(0), 86400, T(RUA), 1, 1, "mailto:a@example.com", ""},
    {"v=DMARC1; p=reject; sp=bogus; adkim=s; rua=mailto:a@example.com", NONE,
     NONE, NONE, S, R, 100, FO(0), 86400, T(ADKIM) | T(RUA), 1, 1,
     "mailto:a@example.com", ""},
};

/* test_fields - every field of accepted records */
static void
test_fields(void **state)
{
	struct dmarc_record rec;
	char why[256];

	(void) state;
	for (size_t i = 0; i < sizeof(field_cases) / sizeof(field_cases[0]);
	     i++) {
		const struct field_case *c = &field_cases[i];

		assert_int_equal(dmarc_record_parse(c->text, strlen(c->text),
		                                    &rec, why, sizeof(why)),
		                 DMARC_RECORD_OK);
		if (rec.p != c->p || rec.sp != c->sp || rec.np != c->np ||
		    rec.adkim != c->adkim || rec.aspf != c->aspf ||
		    rec.pct != c->pct || rec.fo != c->fo || rec.ri != c->ri ||
		    rec.tags != c->tags || rec.fallback != c->fallback ||
		    rec.rua_valid != c->rua_valid ||
		    strcmp(rec.rua, c->rua) != 0 ||
		    strcmp(rec.ruf, c->ruf) != 0)
			fail_msg("\"%s\": p=%d sp=%d np=%d adkim=%d aspf=%d "
			         "pct=%d fo=%x ri=%u tags=%x fallback=%d "
			         "rua_valid=%d rua=\"%s\" ruf=\"%s\"",
			         c->text, rec.p, rec.sp, rec.np, rec.adkim,
			         rec.aspf, rec.pct, rec.fo, rec.ri, rec.tags,
			         rec.fallback, rec.rua_valid, rec.rua, rec.ruf);
	}
}

/* test_nul - an embedded NUL is a byte like any other: not allowed */
static void
test_nul(void **state)
{
	static const char text[] = "v=DMARC1; p=none; x=a\0b";
	struct dmarc_record rec;
	char why[256];

	(void) state;
	assert_int_equal(
	    dmarc_record_parse(text, sizeof(text) - 1, &rec, why, sizeof(why)),
	    DMARC_RECORD_INVALID);
	assert_non_null(strstr(why, "invalid character 0x00"));
	assert_int_equal(dmarc_record_parse("v=DMARC1\0; p=none", 17, &rec, why,
	                                    sizeof(why)),
	                 DMARC_RECORD_NOT_DMARC);
	/* only len bytes are read: the rest may be anything */
	assert_int_equal(dmarc_record_parse("v=DMARC1; p=reject; adkim=x", 18,
	                                    &rec, why, sizeof(why)),
	                 DMARC_RECORD_OK);
	assert_int_equal(rec.p, DMARC_POLICY_REJECT);
}

/* test_limits - the tag limit, long URI lists, small why buffers */
static void
test_limits(void **state)
{
	char text[2048], why[256], tiny[8];
	struct dmarc_record rec;
	size_t n = (size_t) snprintf(text, sizeof(text), "v=DMARC1; p=none");

	(void) state;
	for (int i = 0; i < DMARC_RECORD_MAX_TAGS - 2; i++)
		n +=
		    (size_t) snprintf(text + n, sizeof(text) - n, "; x%d=1", i);
	assert_int_equal(dmarc_record_parse(text, n, &rec, why, sizeof(why)),
	                 DMARC_RECORD_OK);
	n += (size_t) snprintf(text + n, sizeof(text) - n, "; y=1");
	assert_int_equal(dmarc_record_parse(text, n, &rec, why, sizeof(why)),
	                 DMARC_RECORD_INVALID);
	assert_string_equal(why, "more than 64 tags");

	n = (size_t) snprintf(text, sizeof(text), "v=DMARC1; p=none; rua=");
	for (int i = 0; i < 40; i++)
		n += (size_t) snprintf(text + n, sizeof(text) - n,
		                       "%smailto:r%d@example.com", i ? "," : "",
		                       i);
	assert_int_equal(dmarc_record_parse(text, n, &rec, why, sizeof(why)),
	                 DMARC_RECORD_OK);
	assert_int_equal(rec.rua_valid, 40);
	assert_int_equal(strlen(rec.rua), DMARC_RECORD_URI_SIZE - 1);
	assert_string_equal(rec.rua + DMARC_RECORD_URI_SIZE - 4, "...");
	assert_int_equal(strncmp(rec.rua, "mailto:r0@example.com,", 22), 0);

	assert_int_equal(
	    dmarc_record_parse("v=DMARC1; p=x", 13, &rec, tiny, sizeof(tiny)),
	    DMARC_RECORD_INVALID);
	assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
	assert_int_equal(dmarc_record_parse("v=DMARC1; p=x", 13, &rec, NULL, 0),
	                 DMARC_RECORD_INVALID);
}

/* test_names - policy and mode names */
static void
test_names(void **state)
{
	(void) state;
	assert_string_equal(dmarc_record_policy_name(NONE), "none");
	assert_string_equal(dmarc_record_policy_name(QUAR), "quarantine");
	assert_string_equal(dmarc_record_policy_name(REJ), "reject");
	assert_string_equal(dmarc_record_mode_name(R), "r");
	assert_string_equal(dmarc_record_mode_name(S), "s");
}

/* test_defaults - a rejected text still leaves a record of defaults */
static void
test_defaults(void **state)
{
	struct dmarc_record rec;

	(void) state;
	memset(&rec, 0xa5, sizeof(rec));
	assert_int_equal(dmarc_record_parse("v=spf1", 6, &rec, NULL, 0),
	                 DMARC_RECORD_NOT_DMARC);
	assert_int_equal(rec.p, NONE);
	assert_int_equal(rec.adkim, R);
	assert_int_equal(rec.pct, 100);
	assert_int_equal(rec.ri, 86400);
	assert_int_equal(rec.fo, DMARC_RECORD_FO_0);
	assert_int_equal(rec.tags, 0);
	assert_string_equal(rec.rua, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status), cmocka_unit_test(test_fields),
	    cmocka_unit_test(test_nul),    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_names),  cmocka_unit_test(test_defaults),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
