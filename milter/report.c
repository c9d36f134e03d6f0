/*
 * report - the misconfigured domains of the shared cache, as a table or
 * JSON.
 */

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert.h"
#include "grace.h"
#include "json.h"
#include "policy.h"
#include "report.h"
#include "util.h"
#include "verdict.h"

/* The name of the JSON schema; a change that breaks it gets a new one. */
#define REPORT_SCHEMA "relaygate-report/1"

/* One listed domain, rendered as far as needs the configuration. */
struct report_row {
	char domain[DOMAIN_SIZE];
	const char *state; /* a static word */
	int ready;         /* rotation-ready: 1, 0, -1 not known */
	int dns_trouble;   /* the cached verdict is temporary */
	const char *cache; /* "fresh", "stale", "expired", "none" */
	uint64_t affected;
	uint64_t messages;
	uint32_t counters[CACHE_COUNTERS];
	int64_t first_seen_bad;
	int64_t last_seen;
	int64_t checked_at;
	struct grace grace;
	char policy[128];
	char spf[160]; /* "" without a lasting verdict */
	char dkim[200];
};

struct report {
	struct report_row *rows;
	size_t n, cap;
	const struct config *cfg; /* while collecting */
	int64_t now;
};

/* report_cache_name - a record's freshness as a word */
static const char *
report_cache_name(enum cache_status st)
{
	static const char *const names[] = {
	    [CACHE_MISS] = "none",
	    [CACHE_FRESH] = "fresh",
	    [CACHE_STALE] = "stale",
	    [CACHE_EXPIRED] = "expired",
	};

	return (unsigned) st <= CACHE_EXPIRED ? names[st] : "none";
}

/* report_state - state, readiness and reasons of a row */
static void
report_state(struct report *rep, const struct cache_record *rec,
             struct report_row *row)
{
	struct verdict v;
	int have = rec->has_verdict &&
	           verdict_decode(rec->payload, rec->payload_len, &v) == 0;

	row->dns_trouble = have && v.state == VERDICT_TEMPORARY;
	if (have && alert_mark(&v) != 0) {
		row->state = verdict_state_name(v.state);
		row->ready = verdict_rotation_ready(&v);
		verdict_spf_text(&v, row->spf, sizeof(row->spf));
		verdict_dkim_text(&v, rep->cfg, row->dkim, sizeof(row->dkim));
	} else if (rec->mark != 0) {
		row->state = alert_mark_name(rec->mark);
		row->ready = alert_mark_ready(rec->mark);
	} else {
		row->state = "unknown";
		row->ready = -1;
	}
}

/* report_visit - keep a misconfigured domain (cache_foreach) */
static int
report_visit(const struct cache_record *rec, void *arg)
{
	struct report *rep = arg;
	struct report_row *row;

	if (rec->first_seen_bad == 0)
		return 0;
	if (rep->n == rep->cap) {
		rep->cap = rep->cap ? rep->cap * 2 : 64;
		rep->rows = xrealloc(rep->rows, rep->cap * sizeof(*rep->rows));
	}
	row = memset(&rep->rows[rep->n++], 0, sizeof(*row));
	util_strlcpy(row->domain, rec->domain, sizeof(row->domain));
	report_state(rep, rec, row);
	row->cache = report_cache_name(cache_record_status(rec, rep->now));
	row->affected = alert_affected(rec);
	for (int i = 0; i < CACHE_COUNTERS; i++)
		row->messages += rec->counters[i];
	memcpy(row->counters, rec->counters, sizeof(row->counters));
	row->first_seen_bad = rec->first_seen_bad;
	row->last_seen = rec->last_seen;
	row->checked_at = rec->checked_at;
	grace_of(rep->cfg, rec->domain, rec->first_seen_bad, rep->now,
	         &row->grace);
	grace_text(&row->grace, row->policy, sizeof(row->policy));
	return 0;
}

/* report_order - qsort: most affected, most messages, then by name */
static int
report_order(const void *a, const void *b)
{
	const struct report_row *x = a, *y = b;

	if (x->affected != y->affected)
		return x->affected < y->affected ? 1 : -1;
	if (x->messages != y->messages)
		return x->messages < y->messages ? 1 : -1;
	return strcmp(x->domain, y->domain);
}

/* report_collect - walk the table */
struct report *
report_collect(struct cache *c, const struct config *cfg, int64_t now)
{
	struct report *rep = xcalloc(1, sizeof(*rep));

	rep->cfg = cfg;
	rep->now = now;
	cache_foreach(c, report_visit, rep);
	if (rep->n > 0)
		qsort(rep->rows, rep->n, sizeof(*rep->rows), report_order);
	rep->cfg = NULL;
	return rep;
}

/* report_count - rows */
size_t
report_count(const struct report *r)
{
	return r->n;
}

/* report_free - release */
void
report_free(struct report *r)
{
	if (r == NULL)
		return;
	free(r->rows);
	free(r);
}

/*
 * report_time - UTC: RFC 3339 to the second (iso), or "2026-01-02 03:04Z"
 * for the table; NULL for 0
 */
static const char *
report_time(int64_t t, int iso, char *buf, size_t size)
{
	time_t tt = (time_t) t;
	struct tm tm;
	size_t n;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL)
		return NULL;
	n = iso ? strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm)
	        : strftime(buf, size, "%Y-%m-%d %H:%MZ", &tm);
	return n > 0 ? buf : NULL;
}

/* report_summary - how many per phase, and the messages affected */
static void
report_summary(const struct report *r, size_t phase[3], uint64_t *affected)
{
	memset(phase, 0, 3 * sizeof(phase[0]));
	*affected = 0;
	for (size_t i = 0; i < r->n; i++) {
		phase[r->rows[i].grace.phase]++;
		*affected += r->rows[i].affected;
	}
}

/* report_text - the table */
void
report_text(const struct report *r, FILE *out)
{
	size_t phase[3];
	uint64_t affected;
	char since[32];

	report_summary(r, phase, &affected);
	if (r->n == 0) {
		fprintf(out, "every domain in the cache is configured\n");
		return;
	}
	fprintf(out, "%-32s %-12s %8s %8s  %-17s  %-24s %s\n", "DOMAIN",
	        "STATE", "AFFECTED", "MESSAGES", "SINCE", "POLICY", "REASON");
	for (size_t i = 0; i < r->n; i++) {
		const struct report_row *w = &r->rows[i];
		const char *s =
		    report_time(w->first_seen_bad, 0, since, sizeof(since));

		fprintf(out,
		        "%-32s %-12s %8" PRIu64 " %8" PRIu64
		        "  %-17s  %-24s %s%s%s%s\n",
		        w->domain, w->state, w->affected, w->messages,
		        s ? s : "-", w->policy, w->spf[0] ? w->spf : "-",
		        w->spf[0] ? "; " : "", w->dkim,
		        w->dns_trouble ? " (DNS trouble now)" : "");
	}
	fprintf(out,
	        "%zu domains not fully configured: %zu enforced, %zu in grace, "
	        "%zu before enforcement; %" PRIu64 " messages affected\n",
	        r->n, phase[GRACE_ENFORCED], phase[GRACE_PERIOD],
	        phase[GRACE_NOT_YET], affected);
}

/* report_json_time - a time member, null for 0 */
static void
report_json_time(struct json *j, const char *key, int64_t t)
{
	char buf[32];

	json_string(j, key, report_time(t, 1, buf, sizeof(buf)));
}

/* report_json_policy - where the domain stands with enforcement */
static void
report_json_policy(struct json *j, const struct report_row *w)
{
	json_object(j, "policy");
	json_string(j, "phase", grace_phase_name(w->grace.phase));
	report_json_time(j, "until", w->grace.until);
	json_string(j, "override",
	            w->grace.override >= 0
	                ? config_action_name(w->grace.override)
	                : NULL);
	report_json_time(j, "override_expires", w->grace.expires);
	json_string(j, "text", w->policy);
	json_end(j);
}

/* report_json_row - one domain */
static void
report_json_row(struct json *j, const struct report_row *w)
{
	json_object(j, NULL);
	json_string(j, "domain", w->domain);
	json_string(j, "state", w->state);
	if (w->ready < 0)
		json_null(j, "rotation_ready");
	else
		json_bool(j, "rotation_ready", w->ready);
	json_bool(j, "dns_trouble", w->dns_trouble);
	json_string(j, "cache", w->cache);
	json_int(j, "messages_affected", (int64_t) w->affected);
	json_int(j, "messages", (int64_t) w->messages);
	json_object(j, "counters");
	for (unsigned a = 0; a < CACHE_COUNTERS; a++)
		json_int(j, policy_action_name(a), w->counters[a]);
	json_end(j);
	report_json_time(j, "first_seen_bad", w->first_seen_bad);
	report_json_time(j, "last_seen", w->last_seen);
	report_json_time(j, "checked_at", w->checked_at);
	report_json_policy(j, w);
	if (w->spf[0] == '\0') {
		json_null(j, "reason");
	} else {
		json_object(j, "reason");
		json_string(j, "spf", w->spf);
		json_string(j, "dkim", w->dkim);
		json_end(j);
	}
	json_end(j);
}

/* report_json - the document */
void
report_json(const struct report *r, FILE *out)
{
	struct json *j = json_open(out);
	size_t phase[3];
	uint64_t affected;

	report_summary(r, phase, &affected);
	json_object(j, NULL);
	json_string(j, "schema", REPORT_SCHEMA);
	report_json_time(j, "generated_at", r->now);
	json_array(j, "domains");
	for (size_t i = 0; i < r->n; i++)
		report_json_row(j, &r->rows[i]);
	json_end(j);
	json_object(j, "summary");
	json_int(j, "domains", (int64_t) r->n);
	json_int(j, "enforced", (int64_t) phase[GRACE_ENFORCED]);
	json_int(j, "grace", (int64_t) phase[GRACE_PERIOD]);
	json_int(j, "not_yet", (int64_t) phase[GRACE_NOT_YET]);
	json_int(j, "messages_affected", (int64_t) affected);
	json_end(j);
	json_end(j);
	json_close(j);
}
