#ifndef RELAYGATE_REPORT_H
#define RELAYGATE_REPORT_H

/*
 * report - the domains that are not fully configured, from the shared
 * cache, for "relaygatectl report".
 *
 * MODEL
 *	A domain is listed when its last lasting verdict was partial or
 *	unconfigured: the cache's first_seen_bad is set (a configured verdict
 *	clears it; DNS trouble and flushes keep it).  For each: the state
 *	(of the cached verdict, or what relaygate last announced when the
 *	verdict is temporary or flushed), rotation readiness, the messages
 *	affected (tagged, deferred, rejected or only monitored: alert.h) and
 *	all messages from the cache's counters, since when it is
 *	misconfigured, where it stands with enforcement (grace.h: before
 *	policy.enforce_from, in its grace period until when, or enforced;
 *	an override in force) and the reason (the SPF and DKIM halves of the
 *	verdict).  Rows are ordered by messages affected, most first.
 *	The text is a table with a summary line; the JSON schema is in
 *	doc/relaygatectl-report.md.
 *
 * OWNERSHIP
 *	report_collect() returns a report freed with report_free() (NULL is
 *	fine); it holds copies.  cfg and the cache are borrowed for calls.
 *
 * CONCURRENCY
 *	Reads the cache without locks (cache_foreach()); records changing
 *	meanwhile are seen old or new.  A report belongs to one thread.
 *
 * ERRORS
 *	None; write errors are the FILE's.  Nothing is logged.
 *
 * SEE ALSO
 *	cache.h, alert.h, grace.h, doc/relaygatectl-report.md.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cache.h"
#include "config.h"

struct report;

/* report_collect - the misconfigured domains of the table at time now */
struct report *report_collect(struct cache *c, const struct config *cfg,
                              int64_t now);

/* report_count - how many domains the report lists */
size_t report_count(const struct report *r);

/* report_text - the table and a summary line, for a human */
void report_text(const struct report *r, FILE *out);

/* report_json - one JSON document (doc/relaygatectl-report.md) */
void report_json(const struct report *r, FILE *out);

/* report_free - release a report; NULL is fine */
void report_free(struct report *r);

#endif
