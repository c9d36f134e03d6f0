/*
 * fuzz_dmarc_record - libFuzzer harness for dmarc_record.
 *
 * Besides "no crash and no sanitizer report" it checks the contract: the
 * status agrees with an independent reading of the version rule; a reason
 * is terminated printable ASCII and present unless the record is OK; an
 * accepted record consists of printable ASCII and whitespace only, its
 * fields lie in their ranges, defaults follow p= -> sp= -> np= unless the
 * RFC 7489 6.6.3 fallback made everything none (which needs a valid rua=
 * URI), and its URI copies are printable and bounded; parsing is
 * deterministic; an unknown tag appended to an accepted record changes
 * nothing.  Inputs that are not DMARC are tried again behind "v=DMARC1; "
 * so that the time goes into the tag grammar.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dmarc_record.h"

#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "invariant broken: %s (%s:%d)\n",      \
			        #cond, __FILE__, __LINE__);                    \
			abort();                                               \
		}                                                              \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_EXTRA "; zzq_fuzz=1"
#define FUZZ_ALL_TAGS 0x7ffu

static struct dmarc_record fuzz_rec, fuzz_again;
static char fuzz_buf[16384];

/* fuzz_wsp - whitespace as the parser tolerates it */
static int
fuzz_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* fuzz_printable - n bytes of printable ASCII (and whitespace if wsp)? */
static int
fuzz_printable(const char *s, size_t n, int wsp)
{
	for (size_t i = 0; i < n; i++)
		if (((unsigned char) s[i] < 0x20 ||
		     (unsigned char) s[i] > 0x7e) &&
		    !(wsp && fuzz_wsp(s[i])))
			return 0;
	return 1;
}

/*
 * fuzz_version - the version rule, independently: 2 for exactly
 * "v" *WSP "=" *WSP "DMARC1" *WSP (";" / end) after leading whitespace,
 * 1 for the same without case, else 0.
 */
static int
fuzz_version(const char *s, size_t len)
{
	size_t i = 0;
	int exact;

	while (i < len && fuzz_wsp(s[i]))
		i++;
	if (i == len || (s[i] != 'v' && s[i] != 'V'))
		return 0;
	exact = s[i++] == 'v';
	while (i < len && fuzz_wsp(s[i]))
		i++;
	if (i == len || s[i++] != '=')
		return 0;
	while (i < len && fuzz_wsp(s[i]))
		i++;
	if (len - i < 6 || strncasecmp(s + i, "DMARC1", 6) != 0)
		return 0;
	exact &= memcmp(s + i, "DMARC1", 6) == 0;
	for (i += 6; i < len && fuzz_wsp(s[i]); i++)
		;
	if (i < len && s[i] != ';')
		return 0;
	return exact ? 2 : 1;
}

/* fuzz_fields - an accepted record's fields */
static void
fuzz_fields(const struct dmarc_record *r)
{
	FUZZ_CHECK(r->p <= DMARC_POLICY_REJECT &&
	           r->sp <= DMARC_POLICY_REJECT &&
	           r->np <= DMARC_POLICY_REJECT);
	FUZZ_CHECK(r->adkim <= DMARC_MODE_STRICT &&
	           r->aspf <= DMARC_MODE_STRICT);
	FUZZ_CHECK(r->pct >= 0 && r->pct <= 100);
	FUZZ_CHECK(r->fo != 0 && r->fo <= 0xfu);
	FUZZ_CHECK((r->tags & ~FUZZ_ALL_TAGS) == 0);
	FUZZ_CHECK(r->near_miss == 0 && r->rua_valid >= 0);
	if (r->fallback) {
		FUZZ_CHECK(r->p == DMARC_POLICY_NONE &&
		           r->sp == DMARC_POLICY_NONE &&
		           r->np == DMARC_POLICY_NONE && r->rua_valid > 0);
		FUZZ_CHECK(
		    !(r->tags & (DMARC_RECORD_TAG_P | DMARC_RECORD_TAG_SP |
		                 DMARC_RECORD_TAG_NP)));
	} else {
		FUZZ_CHECK(r->tags & DMARC_RECORD_TAG_P);
		FUZZ_CHECK((r->tags & DMARC_RECORD_TAG_SP) || r->sp == r->p);
		FUZZ_CHECK((r->tags & DMARC_RECORD_TAG_NP) || r->np == r->sp);
	}
	FUZZ_CHECK(!(r->tags & DMARC_RECORD_TAG_RUA) || r->rua_valid > 0);
	FUZZ_CHECK(strlen(r->rua) < DMARC_RECORD_URI_SIZE &&
	           fuzz_printable(r->rua, strlen(r->rua), 0));
	FUZZ_CHECK(strlen(r->ruf) < DMARC_RECORD_URI_SIZE &&
	           fuzz_printable(r->ruf, strlen(r->ruf), 0));
	FUZZ_CHECK(r->rua[0] != '\0' || r->rua_valid == 0);
}

/* fuzz_extra - an unknown tag appended changes nothing */
static void
fuzz_extra(const char *s, size_t len, const char *why)
{
	char why2[256];
	size_t semis = 0;

	for (size_t i = 0; i < len; i++)
		semis += s[i] == ';';
	if (semis > DMARC_RECORD_MAX_TAGS - 4 ||
	    len + sizeof(FUZZ_EXTRA) > sizeof(fuzz_buf) ||
	    memmem(s, len, "zzq_fuzz", 8) != NULL)
		return;
	memcpy(fuzz_buf, s, len);
	memcpy(fuzz_buf + len, FUZZ_EXTRA, sizeof(FUZZ_EXTRA) - 1);
	FUZZ_CHECK(dmarc_record_parse(fuzz_buf, len + sizeof(FUZZ_EXTRA) - 1,
	                              &fuzz_again, why2,
	                              sizeof(why2)) == DMARC_RECORD_OK);
	FUZZ_CHECK(memcmp(&fuzz_rec, &fuzz_again, sizeof(fuzz_rec)) == 0);
	FUZZ_CHECK(strcmp(why, why2) == 0);
}

/* fuzz_one - parse one input and check everything that must hold */
static int
fuzz_one(const char *s, size_t len)
{
	char why[256], why2[256];
	int rc, v = fuzz_version(s, len);

	memset(why, 'X', sizeof(why));
	rc = dmarc_record_parse(s, len, &fuzz_rec, why, sizeof(why));
	FUZZ_CHECK(memchr(why, '\0', sizeof(why)) != NULL);
	FUZZ_CHECK(fuzz_printable(why, strlen(why), 0));
	FUZZ_CHECK(rc == fuzz_rec.status);
	FUZZ_CHECK(rc == DMARC_RECORD_OK || rc == DMARC_RECORD_INVALID ||
	           rc == DMARC_RECORD_NOT_DMARC);
	FUZZ_CHECK(rc == DMARC_RECORD_OK || why[0] != '\0');
	/* a clean version is never NOT_DMARC unless its segment is bad */
	if (rc != DMARC_RECORD_NOT_DMARC)
		FUZZ_CHECK(v > 0);
	if (rc == DMARC_RECORD_OK) {
		FUZZ_CHECK(v == 2 && fuzz_printable(s, len, 1));
		fuzz_fields(&fuzz_rec);
	}
	FUZZ_CHECK(
	    dmarc_record_parse(s, len, &fuzz_again, why2, sizeof(why2)) == rc);
	FUZZ_CHECK(memcmp(&fuzz_rec, &fuzz_again, sizeof(fuzz_rec)) == 0);
	FUZZ_CHECK(strcmp(why, why2) == 0);
	if (rc == DMARC_RECORD_OK)
		fuzz_extra(s, len, why);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char prefix[] = "v=DMARC1; ";
	const size_t plen = sizeof(prefix) - 1;
	static char buf[8192];

	if (fuzz_one((const char *) data, size) != DMARC_RECORD_NOT_DMARC ||
	    size > sizeof(buf) - plen)
		return 0;
	memcpy(buf, prefix, plen);
	memcpy(buf + plen, data, size);
	fuzz_one(buf, size + plen);
	return 0;
}
