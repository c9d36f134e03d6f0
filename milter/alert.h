#ifndef RELAYGATE_ALERT_H
#define RELAYGATE_ALERT_H

/*
 * alert - the log lines operators alert on: a domain's change of standing
 * and the reminder that it is still misconfigured.
 *
 * MODEL
 *	A domain's standing is its verdict's state (configured, partial,
 *	unconfigured) and whether it is rotation-ready (every selector
 *	delegated), encoded as a small "mark" that the cache keeps per
 *	domain (cache_mark()).  A temporary verdict (DNS trouble) has no
 *	standing and changes nothing.  The judge (judge.h) compares the
 *	standing of the verdict it uses with the record's mark and, when it
 *	wins the compare-and-set in the shared table, reports the change;
 *	this module names it and writes the line:
 *	  event=domain_state domain=D from=F to=T change=C rotation_ready=R
 *	        reason="spf=...; dkim=..." messages_affected=N
 *	        [since=FIRST-SEEN-BAD policy="grace until ..."]
 *	F is "none" when nothing was announced for the domain before (first
 *	seen, or the table was lost); C is first_seen, broken (configured to
 *	partial or unconfigured), fixed (to configured), worse (partial to
 *	unconfigured), better (unconfigured to partial), rotation_lost or
 *	rotation_gained (same state, readiness changed).
 *	  event=domain_reminder domain=D state=S rotation_ready=R reason=...
 *	        messages_affected=N since=... policy=...
 *	is written for a misconfigured domain at most once per
 *	log.reminder_interval (the judge claims it in the table).
 *	messages_affected counts the domain's messages that were tagged,
 *	deferred, rejected or only monitored (the cache's counters, kept
 *	across restarts by the state file): the number relaygatectl report
 *	shows.  Levels: warning for first_seen to a misconfigured state,
 *	broken, worse, rotation_lost and reminders; notice for fixed,
 *	better and rotation_gained; info for first_seen to configured.
 *
 * OWNERSHIP
 *	Everything in struct alert_event is borrowed for the call.
 *
 * CONCURRENCY
 *	Thread-safe (log.h); the marks are pure.
 *
 * ERRORS
 *	None.
 *
 * SEE ALSO
 *	judge.h, cache.h, grace.h, doc/alerting.md.
 */

#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "config.h"
#include "verdict.h"

enum alert_change {
	ALERT_FIRST_SEEN,
	ALERT_BROKEN,
	ALERT_FIXED,
	ALERT_WORSE,
	ALERT_BETTER,
	ALERT_ROTATION_LOST,
	ALERT_ROTATION_GAINED,
	ALERT_NONE, /* the same standing */
};

enum alert_kind {
	ALERT_STATE,    /* the standing changed */
	ALERT_REMINDER, /* still misconfigured */
};

/* What the judge reports. */
struct alert_event {
	enum alert_kind kind;
	const struct config *cfg;
	const char *domain;
	const struct verdict *verdict;  /* the verdict now in use */
	unsigned from, to;              /* marks: from 0 is "none" */
	const struct cache_record *rec; /* the record: counters, since */
	int64_t now;                    /* seconds since the epoch */
};

/* alert_mark - a verdict's standing as a mark; 0 for a temporary one */
unsigned alert_mark(const struct verdict *v);

/* alert_mark_bad - is the standing partial or unconfigured? */
int alert_mark_bad(unsigned mark);

/* alert_mark_ready - is the standing rotation-ready? (0: no) */
int alert_mark_ready(unsigned mark);

/* alert_mark_name - "configured", "partial", "unconfigured"; 0: "none" */
const char *alert_mark_name(unsigned mark);

/* alert_change_of - what a change of mark from "from" to "to" is */
enum alert_change alert_change_of(unsigned from, unsigned to);

/* alert_change_name - "first_seen", "broken", "fixed", ... */
const char *alert_change_name(enum alert_change change);

/*
 * alert_affected - a record's messages that were tagged, deferred,
 * rejected or only monitored
 */
uint64_t alert_affected(const struct cache_record *r);

/* alert_reason - "spf=pass; dkim=missing (...)" of a verdict */
void alert_reason(const struct verdict *v, const struct config *cfg, char *buf,
                  size_t size);

/* alert_log - write the line of an event; arg is unused (judge_set_events) */
void alert_log(const struct alert_event *e, void *arg);

#endif
