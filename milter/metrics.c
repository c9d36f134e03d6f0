/*
 * metrics - counters for monitoring, kept in the shared segment's metrics
 * area: the indices below are this module's layout of that area.
 */

#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "policy.h"
#include "util.h"
#include "verdict.h"

/* Indices into the cache's metrics area. */
enum metrics_index {
	METRICS_I_MESSAGES = 0,
	METRICS_I_CHECKS = METRICS_I_MESSAGES + METRICS_ACTIONS,
	METRICS_I_DNS = METRICS_I_CHECKS + METRICS_STATES,
	METRICS_I_DNS_TIMEOUTS = METRICS_I_DNS + METRICS_DNS_OUTCOMES,
	METRICS_I_DNS_SUM_US,
	METRICS_I_DNS_BUCKETS,
	METRICS_I_END = METRICS_I_DNS_BUCKETS + METRICS_DNS_BOUNDS + 1,
};

_Static_assert(METRICS_I_END <= CACHE_METRICS, "metrics fit the area");
_Static_assert(METRICS_ACTIONS == POLICY_MONITOR + 1, "one per action");
_Static_assert(METRICS_STATES == VERDICT_TEMPORARY + 1, "one per state");

/* Bucket bounds: Prometheus' habit of 1, 2.5, 5 per decade. */
static const int64_t metrics_bounds_us[METRICS_DNS_BOUNDS] = {
    500,    1000,   2500,   5000,    10000,   25000,   50000,
    100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
};

static const char *const metrics_dns_names[METRICS_DNS_OUTCOMES] = {
    [METRICS_DNS_OK] = "ok",
    [METRICS_DNS_NXDOMAIN] = "nxdomain",
    [METRICS_DNS_NODATA] = "nodata",
    [METRICS_DNS_TEMPFAIL] = "tempfail",
};

struct metrics {
	struct cache *cache; /* NULL: count nothing */
};

/* metrics_open - a handle over a borrowed cache */
struct metrics *
metrics_open(struct cache *c)
{
	struct metrics *m = xcalloc(1, sizeof(*m));

	m->cache = c;
	return m;
}

/* metrics_close - free the handle */
void
metrics_close(struct metrics *m)
{
	free(m);
}

/* metrics_add - one counter, if there is somewhere to count */
static void
metrics_add(struct metrics *m, unsigned index, uint64_t n)
{
	if (m != NULL && m->cache != NULL)
		cache_metric_add(m->cache, index, n);
}

/* metrics_message - a decided message */
void
metrics_message(struct metrics *m, unsigned action)
{
	if (action < METRICS_ACTIONS)
		metrics_add(m, METRICS_I_MESSAGES + action, 1);
}

/* metrics_check - a domain check */
void
metrics_check(struct metrics *m, unsigned state)
{
	if (state < METRICS_STATES)
		metrics_add(m, METRICS_I_CHECKS + state, 1);
}

/* metrics_bucket - the histogram bucket of a latency */
static unsigned
metrics_bucket(int64_t usec)
{
	unsigned i = 0;

	while (i < METRICS_DNS_BOUNDS && usec > metrics_bounds_us[i])
		i++;
	return i;
}

/* metrics_dns - a DNS query */
void
metrics_dns(struct metrics *m, enum metrics_dns outcome, int timedout,
            int64_t usec)
{
	if (usec < 0)
		usec = 0;
	if ((unsigned) outcome < METRICS_DNS_OUTCOMES)
		metrics_add(m, METRICS_I_DNS + outcome, 1);
	if (timedout)
		metrics_add(m, METRICS_I_DNS_TIMEOUTS, 1);
	metrics_add(m, METRICS_I_DNS_SUM_US, (uint64_t) usec);
	metrics_add(m, METRICS_I_DNS_BUCKETS + metrics_bucket(usec), 1);
}

/* metrics_read - the area, named */
void
metrics_read(struct cache *c, struct metrics_values *out)
{
	uint64_t n[CACHE_METRICS];

	cache_metrics(c, n);
	memcpy(out->messages, n + METRICS_I_MESSAGES, sizeof(out->messages));
	memcpy(out->checks, n + METRICS_I_CHECKS, sizeof(out->checks));
	memcpy(out->dns, n + METRICS_I_DNS, sizeof(out->dns));
	out->dns_timeouts = n[METRICS_I_DNS_TIMEOUTS];
	out->dns_sum_us = n[METRICS_I_DNS_SUM_US];
	memcpy(out->dns_buckets, n + METRICS_I_DNS_BUCKETS,
	       sizeof(out->dns_buckets));
}

/* metrics_dns_bound_us - a bucket's upper bound */
int64_t
metrics_dns_bound_us(unsigned i)
{
	return i < METRICS_DNS_BOUNDS ? metrics_bounds_us[i] : INT64_MAX;
}

/* metrics_dns_outcome_name - the outcome as a label value */
const char *
metrics_dns_outcome_name(enum metrics_dns outcome)
{
	return (unsigned) outcome < METRICS_DNS_OUTCOMES
	           ? metrics_dns_names[outcome]
	           : "?";
}
