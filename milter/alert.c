/*
 * alert - domain_state and domain_reminder lines, and the marks that say
 * what was last announced about a domain.
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alert.h"
#include "grace.h"
#include "log.h"
#include "policy.h"
#include "util.h"

/* A mark is 1 + 2 * state + ready, for the three lasting states. */
#define ALERT_MARK(state, ready) (1U + 2U * (unsigned) (state) + (ready))

_Static_assert(ALERT_MARK(VERDICT_UNCONFIGURED, 1) <= CACHE_MARK_MAX,
               "marks fit the cache");

static const char *const alert_change_names[] = {
    [ALERT_FIRST_SEEN] = "first_seen",
    [ALERT_BROKEN] = "broken",
    [ALERT_FIXED] = "fixed",
    [ALERT_WORSE] = "worse",
    [ALERT_BETTER] = "better",
    [ALERT_ROTATION_LOST] = "rotation_lost",
    [ALERT_ROTATION_GAINED] = "rotation_gained",
    [ALERT_NONE] = "none",
};

/* alert_mark - the standing of a verdict */
unsigned
alert_mark(const struct verdict *v)
{
	if (v->state > VERDICT_UNCONFIGURED)
		return 0;
	return ALERT_MARK(v->state, verdict_rotation_ready(v) ? 1U : 0U);
}

/* alert_mark_state - the verdict state of a mark (not 0) */
static enum verdict_state
alert_mark_state(unsigned mark)
{
	return (enum verdict_state)((mark - 1) / 2);
}

/* alert_mark_ready - the rotation readiness of a mark */
int
alert_mark_ready(unsigned mark)
{
	return mark != 0 && (mark - 1) % 2 == 1;
}

/* alert_mark_bad - partial or unconfigured */
int
alert_mark_bad(unsigned mark)
{
	return mark != 0 && alert_mark_state(mark) != VERDICT_CONFIGURED;
}

/* alert_mark_name - the state of a mark as a word */
const char *
alert_mark_name(unsigned mark)
{
	if (mark == 0 || mark > ALERT_MARK(VERDICT_UNCONFIGURED, 1))
		return "none";
	return verdict_state_name(alert_mark_state(mark));
}

/* alert_change_of - classify a change of standing */
enum alert_change
alert_change_of(unsigned from, unsigned to)
{
	enum verdict_state fs, ts;

	if (from == to)
		return ALERT_NONE;
	if (from == 0)
		return ALERT_FIRST_SEEN;
	fs = alert_mark_state(from);
	ts = alert_mark_state(to);
	if (fs == ts)
		return alert_mark_ready(to) ? ALERT_ROTATION_GAINED
		                            : ALERT_ROTATION_LOST;
	if (ts == VERDICT_CONFIGURED)
		return ALERT_FIXED;
	if (fs == VERDICT_CONFIGURED)
		return ALERT_BROKEN;
	return ts == VERDICT_UNCONFIGURED ? ALERT_WORSE : ALERT_BETTER;
}

/* alert_change_name - the change as a word */
const char *
alert_change_name(enum alert_change change)
{
	return (unsigned) change <= ALERT_NONE ? alert_change_names[change]
	                                       : "?";
}

/* alert_affected - messages the misconfiguration touched */
uint64_t
alert_affected(const struct cache_record *r)
{
	return (uint64_t) r->counters[POLICY_TAG] + r->counters[POLICY_DEFER] +
	       r->counters[POLICY_REJECT] + r->counters[POLICY_MONITOR];
}

/* alert_reason - both halves of what is wrong (or right) */
void
alert_reason(const struct verdict *v, const struct config *cfg, char *buf,
             size_t size)
{
	char spf[160], dkim[200];

	verdict_spf_text(v, spf, sizeof(spf));
	verdict_dkim_text(v, cfg, dkim, sizeof(dkim));
	snprintf(buf, size, "%s; %s", spf, dkim);
}

/* alert_level - how loud a change is */
static enum log_level
alert_level(enum alert_change change, unsigned to)
{
	switch (change) {
	case ALERT_FIRST_SEEN:
		return alert_mark_bad(to) ? LOG_LEVEL_WARNING : LOG_LEVEL_INFO;
	case ALERT_FIXED:
	case ALERT_BETTER:
	case ALERT_ROTATION_GAINED:
		return LOG_LEVEL_NOTICE;
	default:
		return LOG_LEVEL_WARNING;
	}
}

/* The fields both lines share, rendered. */
struct alert_fields {
	char reason[400];
	char affected[24];
	char since[32];   /* "" unless misconfigured with a known start */
	char policy[128]; /* "" unless misconfigured */
};

/* alert_fields - render what both lines carry */
static void
alert_fields(const struct alert_event *e, struct alert_fields *f)
{
	struct grace g;
	time_t t = (time_t) e->rec->first_seen_bad;
	struct tm tm;

	memset(f, 0, sizeof(*f));
	alert_reason(e->verdict, e->cfg, f->reason, sizeof(f->reason));
	snprintf(f->affected, sizeof(f->affected), "%" PRIu64,
	         alert_affected(e->rec));
	if (!alert_mark_bad(e->to))
		return;
	if (t != 0 && gmtime_r(&t, &tm) != NULL)
		strftime(f->since, sizeof(f->since), "%Y-%m-%dT%H:%M:%SZ", &tm);
	grace_of(e->cfg, e->domain, e->rec->first_seen_bad, e->now, &g);
	grace_text(&g, f->policy, sizeof(f->policy));
}

/* alert_log - the line of an event */
void
alert_log(const struct alert_event *e, void *arg)
{
	enum alert_change change = alert_change_of(e->from, e->to);
	const char *ready = alert_mark_ready(e->to) ? "yes" : "no";
	struct alert_fields f;

	(void) arg;
	if (e->to == 0 || (e->kind == ALERT_STATE && change == ALERT_NONE))
		return;
	alert_fields(e, &f);
	if (e->kind == ALERT_REMINDER)
		log_event(LOG_LEVEL_WARNING, "domain_reminder", "domain",
		          e->domain, "state", alert_mark_name(e->to),
		          "rotation_ready", ready, "reason", f.reason,
		          "messages_affected", f.affected, "since",
		          f.since[0] ? f.since : NULL, "policy",
		          f.policy[0] ? f.policy : NULL, (const char *) NULL);
	else
		log_event(alert_level(change, e->to), "domain_state", "domain",
		          e->domain, "from", alert_mark_name(e->from), "to",
		          alert_mark_name(e->to), "change",
		          alert_change_name(change), "rotation_ready", ready,
		          "reason", f.reason, "messages_affected", f.affected,
		          "since", f.since[0] ? f.since : NULL, "policy",
		          f.policy[0] ? f.policy : NULL, (const char *) NULL);
}
