/*
 * fuzz_spf_merge - libFuzzer harness for spf_merge.
 *
 * Input: two bytes of lookup figures (the current record's and our
 * include's: low five bits minus one, so -1 = unknown; bit 7: exact),
 * then the record text.  Text that is not SPF is tried again behind
 * "v=spf1 " so the time goes into records.  Besides "no crash and no
 * sanitizer report" it checks the contract: no record gives NEW; a
 * record the grammar refuses gives INVALID with a reason and nothing to
 * publish; a record with our include is kept term for term; otherwise
 * our include is added exactly once, before the first "all" (else after
 * the last mechanism), every other term kept in order, the result parses,
 * and only a result too long or with too many terms is refused; the
 * lookup count is at least the terms an evaluation reaches, and the
 * over-limit note says whether it exceeds 10.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spf_merge.h"

#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "invariant broken: %s (%s:%d)\n",      \
			        #cond, __FILE__, __LINE__);                    \
			abort();                                               \
		}                                                              \
	} while (0)

#define FUZZ_OURS "spf.dmrmail.nl"
#define FUZZ_TERM "include:" FUZZ_OURS

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct spf_record fuzz_in, fuzz_out;
static struct spf_merge fuzz_merge;

/* fuzz_same_term - term i of a equals term j of b, as text */
static int
fuzz_same_term(const char *a, const struct spf_record *ra, int i, const char *b,
               const struct spf_record *rb, int j)
{
	return ra->term[i].len == rb->term[j].len &&
	       memcmp(a + ra->term[i].off, b + rb->term[j].off,
	              ra->term[i].len) == 0;
}

/* fuzz_at - where the include must go */
static int
fuzz_at(const struct spf_record *r)
{
	int at = 0;

	if (r->all >= 0)
		return r->all;
	for (int i = 0; i < r->nterms; i++)
		if (r->term[i].qualifier != 0)
			at = i + 1;
	return at;
}

/* fuzz_added - ADD: ours once at "at", the rest unchanged around it */
static void
fuzz_added(const char *txt, const struct spf_merge *m)
{
	const char *o = m->record;
	int at = fuzz_at(&fuzz_in);

	FUZZ_CHECK(spf_record_parse(o, strlen(o), &fuzz_out, NULL, 0) ==
	           SPF_RECORD_OK);
	FUZZ_CHECK(fuzz_out.nterms == fuzz_in.nterms + 1 && m->at == at);
	FUZZ_CHECK(fuzz_out.term[at].len == strlen(FUZZ_TERM) &&
	           memcmp(o + fuzz_out.term[at].off, FUZZ_TERM,
	                  strlen(FUZZ_TERM)) == 0);
	for (int i = 0; i < fuzz_in.nterms; i++)
		FUZZ_CHECK(fuzz_same_term(txt, &fuzz_in, i, o, &fuzz_out,
		                          i < at ? i : i + 1));
	FUZZ_CHECK(fuzz_out.dns_terms == fuzz_in.dns_terms + 1);
	FUZZ_CHECK(m->lookups >= 1);
}

/* fuzz_existing - a record the grammar accepted */
static void
fuzz_existing(const char *txt, size_t len, const struct spf_merge *m)
{
	int have = spf_record_find(&fuzz_in, txt, SPF_TERM_INCLUDE, FUZZ_OURS);

	if (have >= 0) {
		FUZZ_CHECK(m->action == SPF_MERGE_KEEP);
		FUZZ_CHECK(spf_record_parse(m->record, strlen(m->record),
		                            &fuzz_out, NULL,
		                            0) == SPF_RECORD_OK);
		FUZZ_CHECK(fuzz_out.nterms == fuzz_in.nterms);
		for (int i = 0; i < fuzz_in.nterms; i++)
			FUZZ_CHECK(fuzz_same_term(txt, &fuzz_in, i, m->record,
			                          &fuzz_out, i));
		return;
	}
	if (m->action == SPF_MERGE_INVALID) {
		FUZZ_CHECK(fuzz_in.nterms == SPF_RECORD_MAX_TERMS ||
		           len + strlen(FUZZ_TERM) + 1 > SPF_RECORD_MAX_LEN);
		FUZZ_CHECK(m->record[0] == '\0' && m->why[0] != '\0');
		return;
	}
	FUZZ_CHECK(m->action == SPF_MERGE_ADD);
	fuzz_added(txt, m);
}

/* fuzz_one - merge one record and check the result */
static void
fuzz_one(const char *txt, size_t len, const struct spf_merge_in *base)
{
	struct spf_merge_in in = *base;
	struct spf_merge *m = &fuzz_merge;
	int rc = spf_record_parse(txt, len, &fuzz_in, NULL, 0);

	in.record = txt;
	spf_merge(&in, m);
	FUZZ_CHECK(memchr(m->record, '\0', sizeof(m->record)) != NULL);
	FUZZ_CHECK(memchr(m->why, '\0', sizeof(m->why)) != NULL);
	FUZZ_CHECK(((m->notes & SPF_MERGE_N_OVER_LIMIT) != 0) ==
	               (m->lookups > SPF_MERGE_LOOKUP_LIMIT) ||
	           m->action == SPF_MERGE_INVALID);
	if (len == 0) {
		FUZZ_CHECK(m->action == SPF_MERGE_NEW);
		return;
	}
	if (rc != SPF_RECORD_OK) {
		FUZZ_CHECK(m->action == SPF_MERGE_INVALID && m->why[0] != '\0');
		FUZZ_CHECK(m->record[0] == '\0');
		return;
	}
	FUZZ_CHECK(m->lookups_now >= 0);
	fuzz_existing(txt, len, m);
}

/* fuzz_figure - a lookup figure from one byte */
static int
fuzz_figure(uint8_t b)
{
	return (int) (b & 0x1f) - 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[2 * SPF_RECORD_MAX_LEN + 16];
	struct spf_merge_in in = {.include = FUZZ_OURS};
	size_t len;

	if (size < 2 || size - 2 > SPF_RECORD_MAX_LEN + 64)
		return 0;
	in.lookups = fuzz_figure(data[0]);
	in.lookups_exact = data[0] >> 7;
	in.include_lookups = fuzz_figure(data[1]);
	in.include_lookups_exact = data[1] >> 7;
	memcpy(buf, data + 2, size - 2);
	buf[size - 2] = '\0';
	len = strlen(buf); /* spf_merge takes a string */
	fuzz_one(buf, len, &in);
	if (len >= 6 && strncmp(buf, "v=spf1", 6) == 0)
		return 0;
	memmove(buf + 7, buf, len + 1);
	memcpy(buf, "v=spf1 ", 7);
	fuzz_one(buf, len + 7, &in);
	return 0;
}
