/*
 * fuzz_addr - libFuzzer harness for the MAIL FROM and From parsers.
 *
 * Each input is tried as a MAIL FROM argument and as a From field value.
 * Besides not crashing, the results must keep the header's promises:
 * every returned domain is normalized (normalizing it again changes
 * nothing) and within DOMAIN_MAX, From domains are distinct and in range,
 * failures zero what they should, and reasons are printable ASCII
 * written only on failure.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "domain.h"
#include "log.h"

#define FUZZ_UNTOUCHED "\x01untouched"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_normalized - is d a normalized domain within the limits? */
static void
fuzz_normalized(const char *d)
{
	char again[DOMAIN_SIZE];

	if (d[0] == '\0' || strlen(d) > DOMAIN_MAX)
		panic("fuzz: domain empty or too long: '%s'", d);
	if (domain_normalize(d, again, sizeof(again), NULL, 0) < 0)
		panic("fuzz: returned domain '%s' does not normalize", d);
	if (strcmp(again, d) != 0)
		panic("fuzz: '%s' normalizes again to '%s'", d, again);
}

/* fuzz_why - a reason after a call: printable, or untouched on success */
static void
fuzz_why(const char *why, int ok)
{
	if (ok) {
		if (strcmp(why, FUZZ_UNTOUCHED) != 0)
			panic("fuzz: why written on success: %s", why);
		return;
	}
	if (why[0] == '\0' || strcmp(why, FUZZ_UNTOUCHED) == 0)
		panic("fuzz: failure without a reason");
	for (const char *p = why; *p; p++)
		if ((unsigned char) *p < 0x20 || (unsigned char) *p > 0x7e)
			panic("fuzz: unprintable byte 0x%02x in reason",
			      (unsigned char) *p);
}

/* fuzz_envelope - MAIL FROM */
static void
fuzz_envelope(const char *s)
{
	char domain[DOMAIN_SIZE], why[256] = FUZZ_UNTOUCHED;
	enum addr_status st = addr_envelope(s, domain, why, sizeof(why));

	fuzz_why(why, st == ADDR_OK);
	if (st == ADDR_OK)
		fuzz_normalized(domain);
	else if (domain[0] != '\0')
		panic("fuzz: envelope status %d with domain '%s'", st, domain);
	if (addr_envelope(s, domain, NULL, 0) != st)
		panic("fuzz: envelope status depends on why");
}

/* fuzz_from_ok - the results of a From field that has domains */
static void
fuzz_from_ok(const struct addr_from *f)
{
	if (f->ndomains < 1 || f->ndomains > ADDR_FROM_DOMAINS ||
	    f->nmailboxes < f->ndomains)
		panic("fuzz: %d mailboxes, %d domains", f->nmailboxes,
		      f->ndomains);
	if (strcmp(f->domain, f->domains[0]) != 0)
		panic("fuzz: domain '%s' is not domains[0]", f->domain);
	for (int i = 0; i < f->ndomains; i++) {
		fuzz_normalized(f->domains[i]);
		for (int j = 0; j < i; j++)
			if (strcmp(f->domains[i], f->domains[j]) == 0)
				panic("fuzz: domain '%s' repeated",
				      f->domains[i]);
	}
	for (int i = f->ndomains; i < ADDR_FROM_DOMAINS; i++)
		if (f->domains[i][0] != '\0')
			panic("fuzz: domains[%d] set beyond ndomains", i);
}

/* fuzz_from - the From field */
static void
fuzz_from(const char *s)
{
	static const struct addr_from zero;
	struct addr_from f;
	char why[256] = FUZZ_UNTOUCHED;
	enum addr_status st = addr_header_from(s, &f, why, sizeof(why));

	fuzz_why(why, st == ADDR_OK);
	switch (st) {
	case ADDR_OK:
		fuzz_from_ok(&f);
		break;
	case ADDR_NO_DOMAIN:
		if (f.ndomains != 0 || f.domain[0] != '\0' ||
		    (f.nmailboxes == 0 && !(f.flags & ADDR_FROM_GROUP)))
			panic("fuzz: no domain, yet %d/%d '%s'", f.nmailboxes,
			      f.ndomains, f.domain);
		break;
	case ADDR_INVALID:
		if (memcmp(&f, &zero, sizeof(f)) != 0)
			panic("fuzz: invalid From left results");
		break;
	default:
		panic("fuzz: From status %d", st);
	}
	if (addr_header_from(s, &f, NULL, 0) != st)
		panic("fuzz: From status depends on why");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	fuzz_envelope(s);
	fuzz_from(s);
	free(s);
	return 0;
}
