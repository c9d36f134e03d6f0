#ifndef RELAYGATE_METRICS_PROM_H
#define RELAYGATE_METRICS_PROM_H

/*
 * metrics_prom - the shared segment's counters as Prometheus text.
 *
 * MODEL
 *	One rendering serves both exposures: "relaygatectl metrics" (a file
 *	for node_exporter's textfile collector) and the daemon's optional
 *	HTTP listener (metrics_http.h).  It reads the segment only: the
 *	metrics area (metrics.h: messages by action, checks by result, DNS
 *	queries by outcome, their latency histogram and timeouts), the
 *	cache's own statistics (lookups by result, inserts, evictions,
 *	repairs, entries, capacity) and, walking the table, the domains by
 *	state ("none": history without a verdict).  The output is the text
 *	exposition format 0.0.4: for each family a HELP and a TYPE line,
 *	then its samples; label values are fixed words; no timestamps.  The
 *	metric names and their meaning are documented in
 *	doc/relaygatectl-metrics.md.
 *
 * OWNERSHIP
 *	The cache is borrowed for the call; nothing is retained.
 *
 * CONCURRENCY
 *	Thread-safe; reads the segment without locks (cache.h), so it never
 *	delays mail.  Walking the table costs time in proportion to
 *	cache.capacity (milliseconds for the default).
 *
 * ERRORS
 *	Write errors are the FILE's (ferror()).  Nothing is logged.
 *
 * SEE ALSO
 *	https://prometheus.io/docs/instrumenting/exposition_formats/
 */

#include <stdio.h>

#include "cache.h"

/* The media type of the output, for an HTTP Content-Type header. */
#define METRICS_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* metrics_prom_write - every metric of the segment c, as text, to out */
void metrics_prom_write(struct cache *c, FILE *out);

#endif
