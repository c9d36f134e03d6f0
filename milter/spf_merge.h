#ifndef RELAYGATE_SPF_MERGE_H
#define RELAYGATE_SPF_MERGE_H

/*
 * spf_merge - the SPF record a customer should publish: the record they
 * have, with the relay's include added.
 *
 * MODEL
 *	The customer's record is parsed with spf_record's strict grammar and
 *	written back term by term with "include:<relay.spf_include>" placed
 *	where receivers will reach it: before the first "all" (whose
 *	qualifier, -all, ~all or ?all, is kept); without an "all", right
 *	before a redirect= modifier, which stays and is still followed when
 *	nothing earlier matched (RFC 7208 6.1); with neither, after the last
 *	mechanism.  Every other term (their mechanisms, other includes,
 *	modifiers) is kept as written, in order.  A record that already
 *	includes ours is kept unchanged.  Without a record, a new one is
 *	proposed: "v=spf1 include:<ours> ~all" (softfail, because a domain
 *	that had no SPF may send from servers nobody listed yet).
 *
 *	The DNS lookups of the result (RFC 7208 4.6.4: at most 10
 *	DNS-querying terms over the whole evaluation, nested ones included)
 *	are counted from what the caller knows: the lookups a full
 *	evaluation of the current record costs (from spf_check, include
 *	targets' terms included) and the lookups our include's own record
 *	costs.  What is unknown is bounded from below by the terms written in
 *	the record, and the result says the count is a lower bound.  A merge
 *	over the limit is still written, flagged, so the caller can say what
 *	to remove.
 *
 * OWNERSHIP
 *	Everything is written into caller storage; no pointers are kept.
 *
 * CONCURRENCY
 *	Pure functions without state; thread-safe.  struct spf_merge is
 *	about 2.5 KiB, fine on a thread's stack.
 *
 * ERRORS
 *	spf_merge() always fills its result; a record that cannot be merged
 *	(invalid, too long) is an action with a reason, never logged.
 *
 * SEE ALSO
 *	RFC 7208 sections 4.6.4 (limits), 5.1 (all), 5.2 (include), 6.1
 *	(redirect); spf_record.h.
 */

#include <stddef.h>

#include "spf_record.h"

/* RFC 7208 4.6.4: DNS-querying terms over one evaluation. */
#define SPF_MERGE_LOOKUP_LIMIT 10

/* What the customer has to do with their SPF record. */
enum spf_merge_action {
	SPF_MERGE_KEEP,    /* it has our include: publish it unchanged */
	SPF_MERGE_ADD,     /* publish their record with our include added */
	SPF_MERGE_NEW,     /* no record: publish the proposed one */
	SPF_MERGE_INVALID, /* their record does not parse: fix it first */
};

/* Notes on a merge (struct spf_merge.notes), for the advice text. */
#define SPF_MERGE_N_REDIRECT 0x01u /* kept a redirect= that applies */
#define SPF_MERGE_N_REDIRECT_DEAD                                              \
	0x02u /* redirect= beside "all": ignored                               \
	         by receivers (6.1) */
#define SPF_MERGE_N_NO_ALL                                                     \
	0x04u                         /* neither all nor redirect: others      \
	                                 get neutral, as before */
#define SPF_MERGE_N_OVER_LIMIT 0x08u  /* lookups > SPF_MERGE_LOOKUP_LIMIT */
#define SPF_MERGE_N_LOOKUPS_MIN 0x10u /* lookups is a lower bound */
#define SPF_MERGE_N_PASS_ALL 0x20u    /* "+all": anyone may send */
#define SPF_MERGE_N_PTR 0x40u         /* ptr: slow, discouraged (5.5), costly */

/* What the caller knows about the lookups involved; -1: unknown. */
struct spf_merge_in {
	const char *record;  /* the current record text; NULL or "": none */
	const char *include; /* relay.spf_include, e.g. "spf.dmrmail.nl" */
	int lookups;         /* a full evaluation of record, include targets'
	                        terms included (spf_check's count) */
	int lookups_exact;   /* 0: lookups is a lower bound */
	int include_lookups; /* evaluating our include's record alone (its
	                        own nested terms; the include: term itself
	                        is counted here, not by the caller) */
	int include_lookups_exact;
};

struct spf_merge {
	enum spf_merge_action action;
	unsigned notes;                      /* SPF_MERGE_N_* */
	char record[SPF_RECORD_MAX_LEN + 1]; /* to publish; "" for INVALID */
	int at;          /* ADD: index of our include among the terms */
	int lookups;     /* of record (lower bound with N_LOOKUPS_MIN) */
	int lookups_now; /* of the current record, the same way; 0: none */
	char all[8];     /* the "all" term kept ("-all", "~all"), or "" */
	char why[256];   /* INVALID: the grammar's reason, or "too long" */
};

/*
 * spf_merge - the record to publish, given the current one (see MODEL).
 * in->include must be a valid domain name (the configuration checks it);
 * one trailing dot is dropped.  out is fully written.
 */
void spf_merge(const struct spf_merge_in *in, struct spf_merge *out);

/* spf_merge_action_name - "keep", "add", "new" or "invalid" */
const char *spf_merge_action_name(enum spf_merge_action action);

#endif
