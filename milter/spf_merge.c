/*
 * spf_merge - the customer's SPF record with the relay's include added.
 *
 * Everything works on spf_record's term list: where the include goes is
 * an index into it, and spf_record_format() writes the result, which is
 * parsed again before it is offered (a merge must never propose a record
 * our own grammar refuses).
 */

#include <stdio.h>
#include <string.h>

#include "domain.h"
#include "spf_merge.h"
#include "util.h"

/* The proposal for a domain without SPF (see the header for ~all). */
#define SPF_MERGE_NEW_ALL "~all"

/* "include:" and a domain name */
#define SPF_MERGE_TERM_SIZE (DOMAIN_SIZE + 8)

/* What the caller's counts and the record's own terms say. */
struct spf_merge_count {
	int n;
	int exact;
};

/* spf_merge_include_term - "include:<name>" without a trailing dot */
static void
spf_merge_include_term(const char *include, char *buf, size_t size)
{
	size_t len = strlen(include);

	if (len > 0 && include[len - 1] == '.')
		len--;
	snprintf(buf, size, "include:%.*s", (int) len, include);
}

/*
 * spf_merge_reached - the DNS-querying terms an evaluation can reach:
 * those before the first "all", and redirect= when there is no "all".
 * *nested says whether one of them (include, redirect) has terms of its
 * own that the record does not show.
 */
static int
spf_merge_reached(const struct spf_record *rec, int *nested)
{
	int n = 0;

	*nested = 0;
	for (int i = 0; i < rec->nterms; i++) {
		enum spf_term_type t = rec->term[i].type;

		if (rec->all >= 0 && i > rec->all)
			break;
		if (t == SPF_TERM_REDIRECT && rec->all >= 0)
			continue;
		if (t == SPF_TERM_INCLUDE || t == SPF_TERM_REDIRECT)
			*nested = 1;
		n += t == SPF_TERM_INCLUDE || t == SPF_TERM_A ||
		     t == SPF_TERM_MX || t == SPF_TERM_PTR ||
		     t == SPF_TERM_EXISTS || t == SPF_TERM_REDIRECT;
	}
	return n;
}

/*
 * spf_merge_now - the lookups of the current record: the caller's count
 * where known, never below what the record itself shows.
 */
static struct spf_merge_count
spf_merge_now(const struct spf_merge_in *in, const struct spf_record *rec)
{
	int nested, reached = spf_merge_reached(rec, &nested);
	struct spf_merge_count c = {reached, !nested};

	if (in->lookups >= 0) {
		c.n = in->lookups > reached ? in->lookups : reached;
		c.exact = in->lookups_exact && in->lookups >= reached;
	}
	return c;
}

/* spf_merge_ours - what our include adds: its term and its record's */
static struct spf_merge_count
spf_merge_ours(const struct spf_merge_in *in)
{
	struct spf_merge_count c = {1, 0};

	if (in->include_lookups >= 0) {
		c.n += in->include_lookups;
		c.exact = in->include_lookups_exact;
	}
	return c;
}

/* spf_merge_set_lookups - the result's count and its notes */
static void
spf_merge_set_lookups(struct spf_merge *out, struct spf_merge_count c)
{
	out->lookups = c.n;
	if (!c.exact)
		out->notes |= SPF_MERGE_N_LOOKUPS_MIN;
	if (c.n > SPF_MERGE_LOOKUP_LIMIT)
		out->notes |= SPF_MERGE_N_OVER_LIMIT;
}

/* spf_merge_notes - what the record's shape means for the advice */
static unsigned
spf_merge_notes(const struct spf_record *rec)
{
	unsigned notes = 0;

	if (rec->redirect >= 0)
		notes |= rec->all >= 0 ? SPF_MERGE_N_REDIRECT_DEAD
		                       : SPF_MERGE_N_REDIRECT;
	else if (rec->all < 0)
		notes |= SPF_MERGE_N_NO_ALL;
	if (rec->all >= 0 && rec->term[rec->all].qualifier == '+')
		notes |= SPF_MERGE_N_PASS_ALL;
	if (spf_record_find(rec, "", SPF_TERM_PTR, NULL) >= 0)
		notes |= SPF_MERGE_N_PTR;
	return notes;
}

/*
 * spf_merge_at - where our include goes: before the first "all", else
 * after the last mechanism (so before a trailing redirect= or exp=).
 */
static int
spf_merge_at(const struct spf_record *rec)
{
	int at = 0;

	if (rec->all >= 0)
		return rec->all;
	for (int i = 0; i < rec->nterms; i++)
		if (rec->term[i].qualifier != 0)
			at = i + 1;
	return at;
}

/*
 * spf_merge_write - format rec with extra at "at" into out->record and
 * parse the result again; INVALID with the reason if it does not fit or
 * does not parse.
 */
static int
spf_merge_write(const struct spf_record *rec, const char *txt, int at,
                const char *extra, struct spf_merge *out)
{
	struct spf_record again;
	int n = spf_record_format(rec, txt, at, extra, out->record,
	                          sizeof(out->record));

	if (n < 0 || spf_record_parse(out->record, (size_t) n, &again, out->why,
	                              sizeof(out->why)) != SPF_RECORD_OK) {
		if (n < 0)
			snprintf(out->why, sizeof(out->why),
			         "with %s added the record would be longer "
			         "than %d bytes",
			         extra, SPF_RECORD_MAX_LEN);
		out->action = SPF_MERGE_INVALID;
		out->record[0] = '\0';
		return -1;
	}
	return 0;
}

/* spf_merge_new - no record today: the proposal */
static void
spf_merge_new(const struct spf_merge_in *in, const char *term,
              struct spf_merge *out)
{
	out->action = SPF_MERGE_NEW;
	snprintf(out->record, sizeof(out->record), "v=spf1 %s %s", term,
	         SPF_MERGE_NEW_ALL);
	util_strlcpy(out->all, SPF_MERGE_NEW_ALL, sizeof(out->all));
	spf_merge_set_lookups(out, spf_merge_ours(in));
}

/* spf_merge_existing - their record, with ours added unless present */
static void
spf_merge_existing(const struct spf_merge_in *in, const char *term,
                   const struct spf_record *rec, struct spf_merge *out)
{
	struct spf_merge_count now = spf_merge_now(in, rec), ours;

	out->notes = spf_merge_notes(rec);
	out->lookups_now = now.n;
	if (rec->all >= 0)
		snprintf(out->all, sizeof(out->all), "%.*s",
		         (int) rec->term[rec->all].len,
		         in->record + rec->term[rec->all].off);
	if (spf_record_find(rec, in->record, SPF_TERM_INCLUDE, in->include) >=
	    0) {
		out->action = SPF_MERGE_KEEP;
		if (spf_merge_write(rec, in->record, -1, NULL, out) == 0)
			spf_merge_set_lookups(out, now);
		return;
	}
	out->action = SPF_MERGE_ADD;
	out->at = spf_merge_at(rec);
	if (spf_merge_write(rec, in->record, out->at, term, out) < 0)
		return;
	ours = spf_merge_ours(in);
	spf_merge_set_lookups(
	    out,
	    (struct spf_merge_count){now.n + ours.n, now.exact && ours.exact});
}

/* spf_merge - the record to publish */
void
spf_merge(const struct spf_merge_in *in, struct spf_merge *out)
{
	struct spf_record rec;
	char term[SPF_MERGE_TERM_SIZE];

	memset(out, 0, sizeof(*out));
	out->at = -1;
	spf_merge_include_term(in->include, term, sizeof(term));
	if (in->record == NULL || in->record[0] == '\0') {
		spf_merge_new(in, term, out);
		return;
	}
	if (spf_record_parse(in->record, strlen(in->record), &rec, out->why,
	                     sizeof(out->why)) != SPF_RECORD_OK) {
		out->action = SPF_MERGE_INVALID;
		return;
	}
	spf_merge_existing(in, term, &rec, out);
}

/* spf_merge_action_name - the action as a word, for JSON and logs */
const char *
spf_merge_action_name(enum spf_merge_action action)
{
	switch (action) {
	case SPF_MERGE_KEEP:
		return "keep";
	case SPF_MERGE_ADD:
		return "add";
	case SPF_MERGE_NEW:
		return "new";
	case SPF_MERGE_INVALID:
		return "invalid";
	}
	return "?";
}
