#ifndef RELAYGATE_METRICS_H
#define RELAYGATE_METRICS_H

/*
 * metrics - what relaygate counts for monitoring, in the shared segment.
 *
 * MODEL
 *	Counters of things that happen in a process and are not about one
 *	domain: messages by action (one per decision line), domain checks by
 *	the state they found, and DNS queries by outcome with their latency
 *	as a histogram (bucket bounds from 0.5 ms to 10 s) and the timeouts
 *	among them.  They live in the metrics area of the shared cache
 *	segment (cache.h: per-CPU lines of atomic counters), not in the
 *	process: relaygatectl reads them without talking to the daemon, a
 *	restarted daemon counts on (the counters reset only when the segment
 *	is re-created), and the relaygate instances of one host add into the
 *	same counters, which is what a node-level exporter wants.  A
 *	read-only handle (relaygatectl) counts nothing.
 *	The indices into the area are this module's; metrics_read() turns
 *	them back into named values for rendering (metrics_prom.h).
 *
 * OWNERSHIP
 *	metrics_open() borrows the cache for the handle's life; NULL gives a
 *	handle that counts nothing.  metrics_close() accepts NULL.  Every
 *	counting function accepts a NULL handle (tests, relaygatectl).
 *
 * CONCURRENCY
 *	Counting is thread- and process-safe and never blocks (relaxed
 *	atomic adds in this CPU's line).  metrics_read() sums the lines
 *	without locking: each counter is exact, the set is not a snapshot of
 *	one instant.
 *
 * ERRORS
 *	None.  Nothing is logged.
 *
 * SEE ALSO
 *	cache.h, metrics_prom.h, doc/relaygatectl-metrics.md.
 */

#include <stdint.h>

#include "cache.h"

/* Counted per message (enum policy_action) and per check (verdict_state). */
#define METRICS_ACTIONS 6
#define METRICS_STATES 4

/* Upper bounds of the DNS latency histogram's buckets. */
#define METRICS_DNS_BOUNDS 14

/* How a DNS query ended (dns.h's status; a timeout is a TEMPFAIL). */
enum metrics_dns {
	METRICS_DNS_OK,
	METRICS_DNS_NXDOMAIN,
	METRICS_DNS_NODATA,
	METRICS_DNS_TEMPFAIL,
};
#define METRICS_DNS_OUTCOMES 4

/* The counters, summed over every process of the host. */
struct metrics_values {
	uint64_t messages[METRICS_ACTIONS];
	uint64_t checks[METRICS_STATES];
	uint64_t dns[METRICS_DNS_OUTCOMES];
	uint64_t dns_timeouts;
	uint64_t dns_sum_us; /* total latency, microseconds */
	/* queries per bucket, not cumulative: [i] took at most bound i and
	 * more than bound i - 1; [METRICS_DNS_BOUNDS] took longer */
	uint64_t dns_buckets[METRICS_DNS_BOUNDS + 1];
};

struct metrics;

/* metrics_open - a handle counting into c's metrics area (c may be NULL) */
struct metrics *metrics_open(struct cache *c);

/* metrics_close - release the handle, not the cache; NULL is fine */
void metrics_close(struct metrics *m);

/* metrics_message - one message decided with this enum policy_action */
void metrics_message(struct metrics *m, unsigned action);

/* metrics_check - one domain check that found this enum verdict_state */
void metrics_check(struct metrics *m, unsigned state);

/*
 * metrics_dns - one DNS query that ended so after usec microseconds;
 * timedout: it ended at its deadline (outcome is then TEMPFAIL).
 */
void metrics_dns(struct metrics *m, enum metrics_dns outcome, int timedout,
                 int64_t usec);

/* metrics_read - every counter of c's metrics area, named */
void metrics_read(struct cache *c, struct metrics_values *out);

/* metrics_dns_bound_us - the upper bound of bucket i < METRICS_DNS_BOUNDS */
int64_t metrics_dns_bound_us(unsigned i);

/* metrics_dns_outcome_name - "ok", "nxdomain", "nodata", "tempfail" */
const char *metrics_dns_outcome_name(enum metrics_dns outcome);

#endif
