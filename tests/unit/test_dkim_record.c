/*
 * test_dkim_record - the DKIM key record: every rule that makes a record
 * malformed, the tolerated variants, revocation, rendering, zone-file
 * strings and base64.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dkim_record.h"

/* An RSA-2048 SubjectPublicKeyInfo (294 bytes) and an Ed25519 key. */
#define RSA_B64                                                                \
	"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAsfSBdTsOGOYuXXhE+qCGdnIB" \
	"jbbyYvTi5J8lJDujpgWlWRqhenL5hqdFPl2jQHx73mEwfQutp/RF6/Kyy8sKriRQwVgx" \
	"FyaXlDKfuzEyr0ORnO7nDwHKqqAgoGMvF9//7tG6gbEgdahAm1bn/VPV/lpEsOI5Rfnh" \
	"JNxk5hGM5n2bpuQ/WvnYuHwi43Al6pvDd/f+Xv8IvjJNH1NWZG5nvN+ILID8JM4B+J8L" \
	"7na0k5bWlIL+ZmiQ11sLvtJLI34/GWIo5RS/jQ7Pn+AiHHmQuUPr7Vi4DygwYBU6lSpc" \
	"0Hbqv6zHTRIN2EwkSKxXArUOn9ma54r0VhSKrbMyuXPlHQIDAQAB"
#define RSA_LEN 294
#define ED_B64 "L2DQ5oNNg/cpRBzxPAKykP3gUYhU9W/IBIZ9qUOla3Y="

#define ALLHASH (DKIM_RECORD_HASH_SHA1 | DKIM_RECORD_HASH_SHA256)

struct record_case {
	const char *text;
	enum dkim_record_status status;
	const char *reason; /* substring of why unless OK */
	enum dkim_record_keytype type;
	size_t key_len;
	unsigned flags;
	unsigned hashes;
};

/* A malformed record and a substring of its reason. */
#define BAD(t, r)                                                              \
	{                                                                      \
		.text = (t), .status = DKIM_RECORD_MALFORMED, .reason = (r)    \
	}

static const struct record_case record_cases[] = {
    /* accepted */
    {"v=DKIM1; k=rsa; p=" RSA_B64, DKIM_RECORD_OK, NULL, DKIM_RECORD_KEY_RSA,
     RSA_LEN, 0, ALLHASH},
    {"p=" RSA_B64, DKIM_RECORD_OK, NULL, DKIM_RECORD_KEY_RSA, RSA_LEN, 0,
     ALLHASH},
    {"v=DKIM1; k=ed25519; p=" ED_B64, DKIM_RECORD_OK, NULL,
     DKIM_RECORD_KEY_ED25519, 32, 0, ALLHASH},
    {"v=DKIM1;k=rsa;p=" RSA_B64 ";", DKIM_RECORD_OK, NULL, DKIM_RECORD_KEY_RSA,
     RSA_LEN, 0, ALLHASH},
    {" v = DKIM1 ;\tk=ed25519 ;\r\n\tp = L2DQ5oNNg/cpRBz xPAKykP3gUYh\r\n "
     "U9W/IBIZ9qUOla3Y = ; ",
     DKIM_RECORD_OK, NULL, DKIM_RECORD_KEY_ED25519, 32, 0, ALLHASH},
    {"x=1; foo_bar=baz qux; g=*; n=notes, with=signs; p=" ED_B64,
     DKIM_RECORD_OK, NULL, DKIM_RECORD_KEY_RSA, 32, 0, ALLHASH},
    {"t=y:s; p=" ED_B64, DKIM_RECORD_OK, NULL, DKIM_RECORD_KEY_RSA, 32,
     DKIM_RECORD_FLAG_TESTING | DKIM_RECORD_FLAG_STRICT, ALLHASH},
    {"t = y : future-flag ; p=" ED_B64, DKIM_RECORD_OK, NULL,
     DKIM_RECORD_KEY_RSA, 32, DKIM_RECORD_FLAG_TESTING, ALLHASH},
    {"h=sha256; p=" ED_B64, DKIM_RECORD_OK, NULL, DKIM_RECORD_KEY_RSA, 32, 0,
     DKIM_RECORD_HASH_SHA256},
    {"h = sha512 : sha256; p=" ED_B64, DKIM_RECORD_OK, NULL,
     DKIM_RECORD_KEY_RSA, 32, 0, DKIM_RECORD_HASH_SHA256},
    {"h=sha1:sha256; p=" ED_B64, DKIM_RECORD_OK, NULL, DKIM_RECORD_KEY_RSA, 32,
     0, ALLHASH},
    {"s=email; p=" ED_B64, DKIM_RECORD_OK, NULL, DKIM_RECORD_KEY_RSA, 32, 0,
     ALLHASH},
    {"s=*; p=" ED_B64, DKIM_RECORD_OK, NULL, DKIM_RECORD_KEY_RSA, 32, 0,
     ALLHASH},
    {"s=tlsrpt:email; p=" ED_B64, DKIM_RECORD_OK, NULL, DKIM_RECORD_KEY_RSA, 32,
     0, ALLHASH},
    {"p=Zg==", DKIM_RECORD_OK, NULL, DKIM_RECORD_KEY_RSA, 1, 0, ALLHASH},

    /* revoked */
    {"v=DKIM1; p=", DKIM_RECORD_REVOKED, "revoked", DKIM_RECORD_KEY_RSA, 0, 0,
     ALLHASH},
    {"v=DKIM1; k=ed25519; p= ;", DKIM_RECORD_REVOKED, "revoked",
     DKIM_RECORD_KEY_ED25519, 0, 0, ALLHASH},

    /* malformed */
    BAD("", "no p= tag"),
    BAD("v=DKIM1; k=rsa", "no p= tag"),
    BAD("v=DKIM1; P=" RSA_B64, "no p= tag"),
    BAD("k=rsa; v=DKIM1; p=" RSA_B64, "v= must be the first tag"),
    BAD("v=DKIM2; p=" RSA_B64, "v=DKIM2: the version must be DKIM1"),
    BAD("v=dkim1; p=" RSA_B64, "must be DKIM1"),
    BAD("p=" ED_B64 "; p=" ED_B64, "duplicate tag 'p='"),
    BAD("n=a; k=rsa; n=b; p=" ED_B64, "duplicate tag 'n='"),
    BAD("k=dsa; p=", "unknown key type k=dsa"),
    BAD("k=RSA; p=" RSA_B64, "unknown key type k=RSA"),
    BAD("k=; p=" RSA_B64, "unknown key type k="),
    BAD("p=MIIB!", "invalid base64 character '!'"),
    BAD("p=abc", "length 3 is not a multiple of 4"),
    BAD("p=ab=c", "continues after '=' padding"),
    BAD("p=a===", "too much '=' padding"),
    BAD("p===", "length 2 is not a multiple of 4"),
    BAD("h=sha1; p=" RSA_B64, "h= does not include sha256"),
    BAD("h=; p=" RSA_B64, "h=: invalid list member"),
    BAD("h=sha1::sha256; p=" RSA_B64, "invalid list member"),
    BAD("h=sha 256; p=" RSA_B64, "invalid list member"),
    BAD("s=tlsrpt; p=" RSA_B64, "does not include email or *"),
    BAD("t=y:; p=" RSA_B64, "t=y:: invalid list member"),
    BAD("v=DKIM1;; p=" RSA_B64, "empty tag at offset 8"),
    BAD(";", "empty tag at offset 0"),
    BAD("=DKIM1", "unexpected character '=' at the start of a tag"),
    BAD("1v=DKIM1", "at the start of a tag"),
    BAD("v DKIM1", "unexpected character 'D' in a tag name at offset 2"),
    BAD("ke-y=1; p=" RSA_B64, "unexpected character '-' in a tag name"),
    BAD("v", "tag 'v' has no '='"),
    BAD("p=MIIB\x80", "invalid character 0x80 in a value at offset 6"),
    BAD("p=MI\x01IB", "invalid character 0x01"),
    BAD("\xefv=DKIM1; p=", "invalid character 0xef"),
};

/* check_case - one table row */
static void
check_case(size_t i, const struct record_case *c)
{
	struct dkim_record rec;
	char why[256] = "";
	enum dkim_record_status st;

	st =
	    dkim_record_parse(c->text, strlen(c->text), &rec, why, sizeof(why));
	if (st != c->status)
		fail_msg("case %zu '%s': status %d, want %d (%s)", i, c->text,
		         st, c->status, why);
	assert_int_equal(rec.status, st);
	if (c->status != DKIM_RECORD_OK && strstr(why, c->reason) == NULL)
		fail_msg("case %zu: reason '%s' lacks '%s'", i, why, c->reason);
	if (c->status == DKIM_RECORD_MALFORMED) {
		assert_int_equal(rec.key_len, 0);
		return;
	}
	assert_int_equal(rec.key_type, c->type);
	assert_int_equal(rec.key_len, c->key_len);
	assert_int_equal(rec.flags, c->flags);
	assert_int_equal(rec.hashes, c->hashes);
}

static void
test_parse_table(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(record_cases) / sizeof(record_cases[0]);
	     i++)
		check_case(i, &record_cases[i]);
}

/* An embedded NUL is an invalid character, not the end of the text. */
static void
test_embedded_nul(void **state)
{
	static const char text[] = "p=Zg==\0; k=dsa";
	struct dkim_record rec;
	char why[128];

	(void) state;
	assert_int_equal(
	    dkim_record_parse(text, sizeof(text) - 1, &rec, why, sizeof(why)),
	    DKIM_RECORD_MALFORMED);
	assert_non_null(strstr(why, "invalid character 0x00"));
	/* The same bytes cut before the NUL are a fine record. */
	assert_int_equal(dkim_record_parse(text, 6, &rec, why, sizeof(why)),
	                 DKIM_RECORD_OK);
	assert_int_equal(rec.key_len, 1);
	assert_int_equal(rec.has_version, 0);
}

/* record_with_key_bytes - "p=" + base64 of n bytes, in fresh memory */
static char *
record_with_key_bytes(size_t n)
{
	unsigned char *raw = calloc(n, 1);
	size_t len = dkim_record_base64(raw, n, NULL, 0);
	char *text = malloc(len + 3);

	memcpy(text, "p=", 2);
	dkim_record_base64(raw, n, text + 2, len + 1);
	free(raw);
	return text;
}

/* The decoded key is bounded: 2048 bytes pass, 2049 do not. */
static void
test_key_bound(void **state)
{
	struct dkim_record rec;
	char why[128], *text;

	(void) state;
	text = record_with_key_bytes(DKIM_RECORD_KEY_MAX);
	assert_int_equal(
	    dkim_record_parse(text, strlen(text), &rec, why, sizeof(why)),
	    DKIM_RECORD_OK);
	assert_int_equal(rec.key_len, DKIM_RECORD_KEY_MAX);
	free(text);
	text = record_with_key_bytes(DKIM_RECORD_KEY_MAX + 1);
	assert_int_equal(
	    dkim_record_parse(text, strlen(text), &rec, why, sizeof(why)),
	    DKIM_RECORD_MALFORMED);
	assert_non_null(strstr(why, "longer than 2048 bytes"));
	free(text);
}

/* At most 64 tags; the duplicate check stays cheap. */
static void
test_tag_bound(void **state)
{
	char text[2048] = "", why[128];
	struct dkim_record rec;
	size_t n = 0;

	(void) state;
	for (int i = 0; i < 63; i++)
		n += (size_t) snprintf(text + n, sizeof(text) - n, "x%d=1;", i);
	snprintf(text + n, sizeof(text) - n, "p=Zg==");
	assert_int_equal(
	    dkim_record_parse(text, strlen(text), &rec, why, sizeof(why)),
	    DKIM_RECORD_OK);
	snprintf(text + n, sizeof(text) - n, "y=2; p=Zg==");
	assert_int_equal(
	    dkim_record_parse(text, strlen(text), &rec, why, sizeof(why)),
	    DKIM_RECORD_MALFORMED);
	assert_non_null(strstr(why, "more than 64 tags"));
}

/* parse_ok - parse text that must be OK */
static void
parse_ok(const char *text, struct dkim_record *rec)
{
	char why[256];

	if (dkim_record_parse(text, strlen(text), rec, why, sizeof(why)) !=
	    DKIM_RECORD_OK)
		fail_msg("'%s': %s", text, why);
}

/* Rendering gives the canonical text, which parses back to the key. */
static void
test_render_roundtrip(void **state)
{
	static const char *const texts[] = {
	    "v=DKIM1; k=rsa; p=" RSA_B64,
	    "v=DKIM1; k=ed25519; p=" ED_B64,
	};
	struct dkim_record rec, again;
	char out[1024];

	(void) state;
	for (size_t i = 0; i < 2; i++) {
		parse_ok(texts[i], &rec);
		assert_int_equal(dkim_record_render(rec.key_type, rec.key,
		                                    rec.key_len, out,
		                                    sizeof(out)),
		                 strlen(texts[i]));
		assert_string_equal(out, texts[i]);
		parse_ok(out, &again);
		assert_int_equal(again.key_len, rec.key_len);
		assert_memory_equal(again.key, rec.key, rec.key_len);
	}
}

/* A zero-length key renders the revocation record. */
static void
test_render_revoked(void **state)
{
	struct dkim_record rec;
	char out[64], why[64];

	(void) state;
	dkim_record_render(DKIM_RECORD_KEY_ED25519, NULL, 0, out, sizeof(out));
	assert_string_equal(out, "v=DKIM1; k=ed25519; p=");
	assert_int_equal(
	    dkim_record_parse(out, strlen(out), &rec, why, sizeof(why)),
	    DKIM_RECORD_REVOKED);
}

/* snprintf semantics: the full length is returned, output is cut. */
static void
test_render_truncates(void **state)
{
	static const unsigned char key[] = "foobar";
	char out[16];

	(void) state;
	memset(out, 'X', sizeof(out));
	assert_int_equal(
	    dkim_record_render(DKIM_RECORD_KEY_RSA, key, 6, out, sizeof(out)),
	    strlen("v=DKIM1; k=rsa; p=Zm9vYmFy"));
	assert_string_equal(out, "v=DKIM1; k=rsa;");
	assert_int_equal(
	    dkim_record_render(DKIM_RECORD_KEY_RSA, key, 6, NULL, 0), 26);
}

/* RFC 4648 section 10 test vectors. */
static void
test_base64_vectors(void **state)
{
	static const char *const vec[][2] = {
	    {"", ""},
	    {"f", "Zg=="},
	    {"fo", "Zm8="},
	    {"foo", "Zm9v"},
	    {"foob", "Zm9vYg=="},
	    {"fooba", "Zm9vYmE="},
	    {"foobar", "Zm9vYmFy"},
	};
	char out[16];

	(void) state;
	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		size_t n =
		    dkim_record_base64((const unsigned char *) vec[i][0],
		                       strlen(vec[i][0]), out, sizeof(out));

		assert_int_equal(n, strlen(vec[i][1]));
		assert_string_equal(out, vec[i][1]);
	}
}

/* zone_unquote - join the strings of zone text back into the content */
static void
zone_unquote(const char *zone, char *out, size_t *nstrings)
{
	int in = 0;

	*nstrings = 0;
	for (const char *p = zone; *p != '\0'; p++) {
		if (*p == '"') {
			*nstrings += in;
			in = !in;
		} else if (in && *p == '\\' && p[1] >= '0' && p[1] <= '9') {
			*out++ = (char) ((p[1] - '0') * 100 +
			                 (p[2] - '0') * 10 + (p[3] - '0'));
			p += 3;
		} else if (in && *p == '\\') {
			*out++ = *++p;
		} else if (in) {
			*out++ = *p;
		} else {
			assert_int_equal(*p, ' ');
		}
	}
	*out = '\0';
}

/* zone_check - split text; check the count and that content survives */
static void
zone_check(const char *text, size_t want_strings)
{
	char zone[4096], back[4096];
	size_t n, nstrings;

	n = dkim_record_zone(text, zone, sizeof(zone));
	assert_int_equal(n, strlen(zone));
	zone_unquote(zone, back, &nstrings);
	assert_string_equal(back, text);
	assert_int_equal(nstrings, want_strings);
}

static void
test_zone_split(void **state)
{
	char text[700], out[16];

	(void) state;
	zone_check("", 1);
	assert_int_equal(dkim_record_zone("", out, sizeof(out)), 2);
	assert_string_equal(out, "\"\"");
	zone_check("abc", 1);
	memset(text, 'x', 255);
	text[255] = '\0';
	zone_check(text, 1);
	text[255] = 'y';
	text[256] = '\0';
	zone_check(text, 2);
	memset(text, 'x', 600);
	text[600] = '\0';
	zone_check(text, 3);
	/* An escape counts as one content byte. */
	memset(text, 'x', 254);
	strcpy(text + 254, "\"");
	zone_check(text, 1);
	zone_check("v=DKIM1; k=rsa; p=" RSA_B64, 2);
}

static void
test_zone_escapes(void **state)
{
	char out[64];

	(void) state;
	dkim_record_zone("a\"b\\c\001\377", out, sizeof(out));
	assert_string_equal(out, "\"a\\\"b\\\\c\\001\\255\"");
	zone_check("a\"b\\c\001\377", 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_table),
	    cmocka_unit_test(test_embedded_nul),
	    cmocka_unit_test(test_key_bound),
	    cmocka_unit_test(test_tag_bound),
	    cmocka_unit_test(test_render_roundtrip),
	    cmocka_unit_test(test_render_revoked),
	    cmocka_unit_test(test_render_truncates),
	    cmocka_unit_test(test_base64_vectors),
	    cmocka_unit_test(test_zone_split),
	    cmocka_unit_test(test_zone_escapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
