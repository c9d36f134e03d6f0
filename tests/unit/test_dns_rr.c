/*
 * test_dns_rr - the record data parsers of the dns module on hand-made
 * RDATA: TXT character-strings joined, CNAME/PTR/MX names as text, and
 * every malformation libunbound could hand over (length bytes and labels
 * past the end, compression pointers, extended label types, NUL inside
 * TXT, buffers too small).
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dns.h"
#include "domain.h"

/* RDATA from a string literal, which may hold NUL bytes. */
#define RD(s) (s), (sizeof(s) - 1)

struct txt_case {
	const char *name;
	const char *data;
	size_t len;
	size_t bufsize;   /* 0: a large buffer */
	long result;      /* -1: malformed or does not fit */
	const char *text; /* expected when result >= 0 */
};

static const struct txt_case txt_cases[] = {
    {"one string", RD("\x05hello"), 0, 5, "hello"},
    {"strings joined", RD("\x07v=spf1 \x04-all"), 0, 11, "v=spf1 -all"},
    {"empty string", RD("\x00"), 0, 0, ""},
    {"two empty strings", RD("\x00\x00"), 0, 0, ""},
    {"empty between",
     RD("\x01"
        "a"
        "\x00\x01"
        "b"),
     0, 2, "ab"},
    {"exact fit", RD("\x05hello"), 6, 5, "hello"},
    {"8-bit bytes kept", RD("\x02\xc3\xa9"), 0, 2, "\xc3\xa9"},
    {"one byte short", RD("\x05hello"), 5, -1, NULL},
    {"no rdata", "", 0, 0, -1, NULL},
    {"length past the end", RD("\x05hel"), 0, -1, NULL},
    {"second length past the end",
     RD("\x01"
        "a\x05"
        "bc"),
     0, -1, NULL},
    {"length byte alone",
     RD("\x01"
        "a\x01"),
     0, -1, NULL},
    {"NUL inside",
     RD("\x03"
        "a\x00"
        "b"),
     0, -1, NULL},
    {"NUL in the second string",
     RD("\x01"
        "a\x01\x00"),
     0, -1, NULL},
    {"joined too long",
     RD("\x03"
        "abc\x03"
        "def"),
     6, -1, NULL},
};

/* test_txt_table - every TXT case, with an exactly sized input copy */
static void
test_txt_table(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(txt_cases) / sizeof(txt_cases[0]); i++) {
		const struct txt_case *c = &txt_cases[i];
		unsigned char *copy = malloc(c->len ? c->len : 1);
		struct dns_rr rr = {copy, c->len};
		size_t size = c->bufsize ? c->bufsize : 1024;
		char *buf = malloc(size);
		long r;

		memcpy(copy, c->data, c->len);
		memset(buf, 'X', size);
		r = dns_rr_txt(&rr, buf, size);
		print_message("txt: %s\n", c->name);
		assert_int_equal(r, c->result);
		if (r >= 0) {
			assert_int_equal(strlen(buf), (size_t) r);
			assert_string_equal(buf, c->text);
		} else {
			assert_string_equal(buf, "");
		}
		free(buf);
		free(copy);
	}
}

/* test_txt_edges - NULL record, NULL data, a zero-sized buffer, 255 */
static void
test_txt_edges(void **state)
{
	unsigned char big[256];
	struct dns_rr rr = {big, sizeof(big)};
	struct dns_rr none = {NULL, 3};
	char buf[300], keep = 'K';

	(void) state;
	assert_int_equal(dns_rr_txt(NULL, buf, sizeof(buf)), -1);
	assert_string_equal(buf, "");
	assert_int_equal(dns_rr_txt(&none, buf, sizeof(buf)), -1);
	/* size 0: nothing may be written */
	assert_int_equal(dns_rr_txt(&rr, &keep, 0), -1);
	assert_int_equal(keep, 'K');
	big[0] = 255;
	memset(big + 1, 'z', 255);
	assert_int_equal(dns_rr_txt(&rr, buf, sizeof(buf)), 255);
	assert_int_equal(strspn(buf, "z"), 255);
	assert_int_equal(dns_rr_txt(&rr, buf, 255), -1);
}

struct name_case {
	const char *name;
	const char *data;
	size_t len;
	int qtype;
	size_t bufsize; /* 0: DOMAIN_SIZE */
	int result;
	const char *text;
};

#define WWW                                                                    \
	"\x03www\x07"                                                          \
	"example\x03"                                                          \
	"com\x00"
#define L63 "123456789012345678901234567890123456789012345678901234567890123"
#define L61 "1234567890123456789012345678901234567890123456789012345678901"
#define L62 "12345678901234567890123456789012345678901234567890123456789012"

static const struct name_case name_cases[] = {
    {"CNAME", RD(WWW), DNS_T_CNAME, 0, 0, "www.example.com"},
    {"PTR", RD(WWW), DNS_T_PTR, 0, 0, "www.example.com"},
    {"MX", RD("\x00\x0a\x04mail\x02nl\x00"), DNS_T_MX, 0, 0, "mail.nl"},
    {"lowercased", RD("\x03WwW\x02Nl\x00"), DNS_T_CNAME, 0, 0, "www.nl"},
    {"underscore",
     RD("\x06_dkim-\x01"
        "a\x00"),
     DNS_T_CNAME, 0, 0, "_dkim-.a"},
    {"root", RD("\x00"), DNS_T_CNAME, 0, 0, ""},
    {"null MX (RFC 7505)", RD("\x00\x00\x00"), DNS_T_MX, 0, 0, ""},
    {"dot in a label",
     RD("\x03"
        "a.b\x00"),
     DNS_T_PTR, 0, 0, "a\\.b"},
    {"backslash", RD("\x01\\\x00"), DNS_T_PTR, 0, 0, "\\\\"},
    {"control byte",
     RD("\x02"
        "a\x01\x00"),
     DNS_T_PTR, 0, 0, "a\\001"},
    {"space", RD("\x01 \x00"), DNS_T_PTR, 0, 0, "\\032"},
    {"NUL byte in a label", RD("\x01\x00\x00"), DNS_T_PTR, 0, 0, "\\000"},
    {"8-bit byte", RD("\x01\xe9\x00"), DNS_T_PTR, 0, 0, "\\233"},
    {"255 bytes", RD("\x3f" L63 "\x3f" L63 "\x3f" L63 "\x3d" L61 "\x00"),
     DNS_T_CNAME, 0, 0, L63 "." L63 "." L63 "." L61},
    {"255 bytes, text fits exactly",
     RD("\x3f" L63 "\x3f" L63 "\x3f" L63 "\x3d" L61 "\x00"), DNS_T_CNAME,
     DOMAIN_MAX + 1, 0, L63 "." L63 "." L63 "." L61},
    {"256 bytes", RD("\x3f" L63 "\x3f" L63 "\x3f" L63 "\x3e" L62 "\x00"),
     DNS_T_CNAME, 0, -1, NULL},
    {"254 bytes without the root",
     RD("\x3f" L63 "\x3f" L63 "\x3f" L63 "\x3d" L61), DNS_T_CNAME, 0, -1, NULL},
    {"buffer exact", RD(WWW), DNS_T_CNAME, 16, 0, "www.example.com"},
    {"buffer one short", RD(WWW), DNS_T_CNAME, 15, -1, NULL},
    {"escape does not fit", RD("\x01\x01\x00"), DNS_T_PTR, 4, -1, NULL},
    {"empty rdata", "", 0, DNS_T_CNAME, 0, -1, NULL},
    {"no terminator", RD("\x03www"), DNS_T_CNAME, 0, -1, NULL},
    {"label past the end", RD("\x05www\x00"), DNS_T_CNAME, 0, -1, NULL},
    {"trailing bytes", RD("\x03www\x00X"), DNS_T_CNAME, 0, -1, NULL},
    {"compression pointer", RD("\xc0\x0c"), DNS_T_CNAME, 0, -1, NULL},
    {"pointer after a label", RD("\x03www\xc0\x0c"), DNS_T_PTR, 0, -1, NULL},
    {"label type 01",
     RD("\x41"
        "a\x00"),
     DNS_T_CNAME, 0, -1, NULL},
    {"label type 10",
     RD("\x81"
        "a\x00"),
     DNS_T_CNAME, 0, -1, NULL},
    {"MX without name", RD("\x00\x0a"), DNS_T_MX, 0, -1, NULL},
    {"MX one byte", RD("\x00"), DNS_T_MX, 0, -1, NULL},
    {"MX with pointer", RD("\x00\x0a\xc0\x0c"), DNS_T_MX, 0, -1, NULL},
    {"TXT is not a name type", RD(WWW), DNS_T_TXT, 0, -1, NULL},
    {"A is not a name type", RD("\x7f\x00\x00\x01"), DNS_T_A, 0, -1, NULL},
};

/* test_name_table - every name case, with an exactly sized input copy */
static void
test_name_table(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(name_cases) / sizeof(name_cases[0]);
	     i++) {
		const struct name_case *c = &name_cases[i];
		unsigned char *copy = malloc(c->len ? c->len : 1);
		struct dns_rr rr = {copy, c->len};
		size_t size = c->bufsize ? c->bufsize : DOMAIN_SIZE;
		char *buf = malloc(size);
		int r;

		memcpy(copy, c->data, c->len);
		memset(buf, 'X', size);
		r = dns_rr_name(&rr, c->qtype, buf, size);
		print_message("name: %s\n", c->name);
		assert_int_equal(r, c->result);
		if (r == 0)
			assert_string_equal(buf, c->text);
		else
			assert_string_equal(buf, "");
		free(buf);
		free(copy);
	}
}

/* test_name_edges - NULL record or data, size 0 */
static void
test_name_edges(void **state)
{
	struct dns_rr none = {NULL, 0};
	struct dns_rr rr = {(const unsigned char *) WWW, sizeof(WWW) - 1};
	char buf[DOMAIN_SIZE], keep = 'K';

	(void) state;
	assert_int_equal(dns_rr_name(NULL, DNS_T_CNAME, buf, sizeof(buf)), -1);
	assert_int_equal(dns_rr_name(&none, DNS_T_CNAME, buf, sizeof(buf)), -1);
	assert_int_equal(dns_rr_name(&rr, DNS_T_CNAME, &keep, 0), -1);
	assert_int_equal(keep, 'K');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_txt_table),
	    cmocka_unit_test(test_txt_edges),
	    cmocka_unit_test(test_name_table),
	    cmocka_unit_test(test_name_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
