/*
 * metrics_prom - the shared segment's counters in the Prometheus text
 * exposition format.
 */

#include <inttypes.h>
#include <stdio.h>

#include "metrics.h"
#include "metrics_prom.h"
#include "policy.h"
#include "verdict.h"

/* Domains by state: the verdict states, then "none" (history only). */
#define METRICS_PROM_NONE METRICS_STATES

/* metrics_prom_family - the HELP and TYPE lines of a family */
static void
metrics_prom_family(FILE *out, const char *name, const char *type,
                    const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* metrics_prom_labeled - one sample with one label */
static void
metrics_prom_labeled(FILE *out, const char *name, const char *label,
                     const char *value, uint64_t n)
{
	fprintf(out, "%s{%s=\"%s\"} %" PRIu64 "\n", name, label, value, n);
}

/* metrics_prom_single - a family of one unlabeled sample */
static void
metrics_prom_single(FILE *out, const char *name, const char *type,
                    const char *help, uint64_t n)
{
	metrics_prom_family(out, name, type, help);
	fprintf(out, "%s %" PRIu64 "\n", name, n);
}

/* metrics_prom_seconds - microseconds as decimal seconds */
static void
metrics_prom_seconds(FILE *out, uint64_t us)
{
	fprintf(out, "%" PRIu64 ".%06" PRIu64, us / 1000000, us % 1000000);
}

/* metrics_prom_judged - messages by action, checks by result */
static void
metrics_prom_judged(FILE *out, const struct metrics_values *v)
{
	metrics_prom_family(out, "relaygate_messages_total", "counter",
	                    "Messages decided, by the action taken.");
	for (unsigned a = 0; a < METRICS_ACTIONS; a++)
		metrics_prom_labeled(out, "relaygate_messages_total", "action",
		                     policy_action_name(a), v->messages[a]);
	metrics_prom_family(out, "relaygate_checks_total", "counter",
	                    "Domain checks through DNS, by the state found.");
	for (unsigned s = 0; s < METRICS_STATES; s++)
		metrics_prom_labeled(out, "relaygate_checks_total", "result",
		                     verdict_state_name(s), v->checks[s]);
}

/* metrics_prom_dns_histogram - the latency histogram, cumulative */
static void
metrics_prom_dns_histogram(FILE *out, const struct metrics_values *v)
{
	const char *name = "relaygate_dns_query_duration_seconds";
	uint64_t total = 0;

	metrics_prom_family(out, name, "histogram",
	                    "Time from sending a DNS query to its answer or "
	                    "deadline.");
	for (unsigned i = 0; i <= METRICS_DNS_BOUNDS; i++) {
		total += v->dns_buckets[i];
		fprintf(out, "%s_bucket{le=\"", name);
		if (i < METRICS_DNS_BOUNDS)
			metrics_prom_seconds(
			    out, (uint64_t) metrics_dns_bound_us(i));
		else
			fputs("+Inf", out);
		fprintf(out, "\"} %" PRIu64 "\n", total);
	}
	fprintf(out, "%s_sum ", name);
	metrics_prom_seconds(out, v->dns_sum_us);
	fprintf(out, "\n%s_count %" PRIu64 "\n", name, total);
}

/* metrics_prom_dns - queries by outcome, timeouts, latency */
static void
metrics_prom_dns(FILE *out, const struct metrics_values *v)
{
	metrics_prom_family(out, "relaygate_dns_queries_total", "counter",
	                    "DNS queries, by outcome (tempfail includes "
	                    "timeouts).");
	for (unsigned o = 0; o < METRICS_DNS_OUTCOMES; o++)
		metrics_prom_labeled(out, "relaygate_dns_queries_total",
		                     "outcome", metrics_dns_outcome_name(o),
		                     v->dns[o]);
	metrics_prom_single(out, "relaygate_dns_timeouts_total", "counter",
	                    "DNS queries that reached their deadline.",
	                    v->dns_timeouts);
	metrics_prom_dns_histogram(out, v);
}

/* metrics_prom_cache - the cache's own statistics */
static void
metrics_prom_cache(FILE *out, const struct cache_stats *st)
{
	const char *lookups = "relaygate_cache_lookups_total";

	metrics_prom_family(out, lookups, "counter",
	                    "Verdict cache lookups, by result.");
	metrics_prom_labeled(out, lookups, "result", "hit", st->hits);
	metrics_prom_labeled(out, lookups, "result", "miss", st->misses);
	metrics_prom_labeled(out, lookups, "result", "stale", st->stale);
	metrics_prom_labeled(out, lookups, "result", "expired", st->expired);
	metrics_prom_single(out, "relaygate_cache_inserts_total", "counter",
	                    "Records created in the verdict cache.",
	                    st->inserts);
	metrics_prom_single(out, "relaygate_cache_evictions_total", "counter",
	                    "Records evicted to make room.", st->evictions);
	metrics_prom_single(out, "relaygate_cache_repairs_total", "counter",
	                    "Buckets rebuilt after a writer died.",
	                    st->repairs);
	metrics_prom_single(out, "relaygate_cache_entries", "gauge",
	                    "Records in use.", st->entries);
	metrics_prom_single(out, "relaygate_cache_capacity", "gauge",
	                    "Slots of the table; a record takes one or two.",
	                    st->capacity);
	metrics_prom_single(
	    out, "relaygate_cache_created_timestamp_seconds", "gauge",
	    "When the segment (and so every counter here) "
	    "started.",
	    (uint64_t) (st->created_at > 0 ? st->created_at : 0));
}

/* metrics_prom_count_state - domains by state (cache_foreach) */
static int
metrics_prom_count_state(const struct cache_record *r, void *arg)
{
	uint64_t *by = arg;

	if (!r->has_verdict || r->state >= METRICS_STATES)
		by[METRICS_PROM_NONE]++;
	else
		by[r->state]++;
	return 0;
}

/* metrics_prom_domains - the table's domains by state */
static void
metrics_prom_domains(FILE *out, struct cache *c)
{
	uint64_t by[METRICS_STATES + 1] = {0};

	cache_foreach(c, metrics_prom_count_state, by);
	metrics_prom_family(out, "relaygate_domains", "gauge",
	                    "Domains in the verdict cache, by the state of "
	                    "their verdict (none: history only).");
	for (unsigned s = 0; s < METRICS_STATES; s++)
		metrics_prom_labeled(out, "relaygate_domains", "state",
		                     verdict_state_name(s), by[s]);
	metrics_prom_labeled(out, "relaygate_domains", "state", "none",
	                     by[METRICS_PROM_NONE]);
}

/* metrics_prom_write - everything */
void
metrics_prom_write(struct cache *c, FILE *out)
{
	struct metrics_values v;
	struct cache_stats st;

	metrics_read(c, &v);
	cache_stats(c, &st);
	metrics_prom_judged(out, &v);
	metrics_prom_dns(out, &v);
	metrics_prom_cache(out, &st);
	metrics_prom_domains(out, c);
}
