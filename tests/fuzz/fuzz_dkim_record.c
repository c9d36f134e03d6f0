/*
 * fuzz_dkim_record - libFuzzer harness for the DKIM key record parser and
 * the zone-file splitter.
 *
 * Invariants checked (a violation traps):
 *  - no crash, no read outside the len bytes given (the input is copied
 *    into an exactly sized, unterminated buffer for ASan);
 *  - the status is one of the three, rec.status agrees with it;
 *  - the decoded key fits DKIM_RECORD_KEY_MAX; OK implies key bytes,
 *    anything else implies none;
 *  - a record that is not OK has a terminated, non-empty reason;
 *  - an OK record renders to text that parses back to the same key;
 *  - zone-file strings unquote to the original text and none holds more
 *    than 255 content bytes.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dkim_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond))                                                   \
			__builtin_trap();                                      \
	} while (0)

/* fuzz_roundtrip - render an OK record and parse it again */
static void
fuzz_roundtrip(const struct dkim_record *rec)
{
	static struct dkim_record again;
	char text[4096], why[256];
	size_t n;

	n = dkim_record_render(rec->key_type, rec->key, rec->key_len, text,
	                       sizeof(text));
	FUZZ_CHECK(n < sizeof(text));
	FUZZ_CHECK(dkim_record_parse(text, n, &again, why, sizeof(why)) ==
	           DKIM_RECORD_OK);
	FUZZ_CHECK(again.key_type == rec->key_type);
	FUZZ_CHECK(again.key_len == rec->key_len);
	FUZZ_CHECK(memcmp(again.key, rec->key, rec->key_len) == 0);
}

/* fuzz_unquote_check - undo dkim_record_zone and compare */
static void
fuzz_unquote_check(const char *zone, const char *text)
{
	size_t used = 0;
	int in = 0;

	for (const char *p = zone; *p != '\0'; p++) {
		char c;

		if (*p == '"') {
			in = !in;
			used = 0;
			continue;
		}
		if (!in) {
			FUZZ_CHECK(*p == ' ');
			continue;
		}
		if (*p == '\\' && p[1] >= '0' && p[1] <= '9') {
			c = (char) ((p[1] - '0') * 100 + (p[2] - '0') * 10 +
			            (p[3] - '0'));
			p += 3;
		} else if (*p == '\\') {
			c = *++p;
		} else {
			c = *p;
		}
		FUZZ_CHECK(c == *text++);
		FUZZ_CHECK(++used <= 255);
	}
	FUZZ_CHECK(!in && *text == '\0');
}

/* fuzz_zone - split the input (up to its first NUL) into strings */
static void
fuzz_zone(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *zone;
	size_t n;

	memcpy(text, data, size);
	text[size] = '\0';
	n = dkim_record_zone(text, NULL, 0);
	zone = malloc(n + 1);
	FUZZ_CHECK(dkim_record_zone(text, zone, n + 1) == n);
	FUZZ_CHECK(strlen(zone) == n);
	fuzz_unquote_check(zone, text);
	free(zone);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dkim_record rec;
	char why[256];
	char *copy = malloc(size ? size : 1);
	enum dkim_record_status st;

	memcpy(copy, data, size);
	why[0] = '\0';
	st = dkim_record_parse(copy, size, &rec, why, sizeof(why));
	FUZZ_CHECK(st == DKIM_RECORD_OK || st == DKIM_RECORD_REVOKED ||
	           st == DKIM_RECORD_MALFORMED);
	FUZZ_CHECK(rec.status == st);
	FUZZ_CHECK(rec.key_len <= DKIM_RECORD_KEY_MAX);
	FUZZ_CHECK((st == DKIM_RECORD_OK) == (rec.key_len > 0));
	if (st != DKIM_RECORD_OK)
		FUZZ_CHECK(why[0] != '\0' && strlen(why) < sizeof(why));
	else
		fuzz_roundtrip(&rec);
	free(copy);
	if (size <= 4096)
		fuzz_zone(data, size);
	return 0;
}
