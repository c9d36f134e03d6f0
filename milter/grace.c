/*
 * grace - a misconfigured domain's standing with enforcement.
 */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "grace.h"
#include "util.h"

static const char *const grace_phase_names[] = {
    [GRACE_NOT_YET] = "not_yet",
    [GRACE_PERIOD] = "grace",
    [GRACE_ENFORCED] = "enforced",
};

/* grace_phase_name - the phase as a word */
const char *
grace_phase_name(enum grace_phase phase)
{
	return (unsigned) phase <= GRACE_ENFORCED ? grace_phase_names[phase]
	                                          : "?";
}

/* grace_of - the phase, as policy_decide() would soften */
void
grace_of(const struct config *cfg, const char *domain, int64_t first_seen_bad,
         int64_t now, struct grace *out)
{
	const struct config_override *o =
	    config_override_find(cfg, domain, now);

	memset(out, 0, sizeof(*out));
	out->override = o != NULL ? o->action : -1;
	/* An override lapses at 00:00 UTC of its expiry date. */
	if (o != NULL)
		out->expires = config_date(o->expires);
	out->phase = grace_phase_at(cfg, first_seen_bad, now, &out->until);
}

/* grace_phase_at - before enforce_from, in the grace period, enforced */
enum grace_phase
grace_phase_at(const struct config *cfg, int64_t first_seen_bad, int64_t now,
               int64_t *until)
{
	int64_t enforce = config_date(cfg->policy_enforce_from);
	int64_t since = first_seen_bad ? first_seen_bad : now;
	int64_t end = since + cfg->policy_grace_ms / 1000;
	enum grace_phase phase = GRACE_ENFORCED;

	if (enforce > 0 && now < enforce) {
		phase = GRACE_NOT_YET;
		end = enforce;
	} else if (now < end) {
		phase = GRACE_PERIOD;
	} else {
		end = 0;
	}
	if (until != NULL)
		*until = end;
	return phase;
}

/* grace_date - "YYYY-MM-DD" (UTC) */
static void
grace_date(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t) t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, size, "%Y-%m-%d", &tm) == 0)
		util_strlcpy(buf, "?", size);
}

/* grace_text - the standing for a human */
void
grace_text(const struct grace *g, char *buf, size_t size)
{
	char date[16];

	buf[0] = '\0';
	grace_date(g->until, date, sizeof(date));
	if (g->phase == GRACE_NOT_YET)
		util_catf(buf, size, "not enforced before %s", date);
	else if (g->phase == GRACE_PERIOD)
		util_catf(buf, size, "grace until %s", date);
	else
		util_catf(buf, size, "enforced");
	if (g->override < 0)
		return;
	util_catf(buf, size, "; override %s", config_action_name(g->override));
	if (g->expires > 0) {
		grace_date(g->expires, date, sizeof(date));
		util_catf(buf, size, " until %s", date);
	}
}
