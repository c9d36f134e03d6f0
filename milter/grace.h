#ifndef RELAYGATE_GRACE_H
#define RELAYGATE_GRACE_H

/*
 * grace - where a misconfigured domain stands with enforcement: not yet
 * (before policy.enforce_from), in its grace period, or enforced; and
 * whether a per-domain override changes its action.
 *
 * MODEL
 *	The policy (policy.h) turns defer and reject into tag before
 *	policy.enforce_from and during a domain's grace period, which starts
 *	when the domain was first seen misconfigured (the cache's
 *	first_seen_bad) and lasts policy.grace_period.  Reports and alerts
 *	need the same answer without a message: this module gives it for a
 *	domain, with the time the current phase ends, and the override in
 *	force for the domain (policy.overrides and overrides_file; exempt
 *	means the policy does not apply at all).  The rules are the
 *	policy's; policy_decide() stays the authority for a message.
 *
 * OWNERSHIP
 *	Inputs are borrowed for the call; results go to caller storage and
 *	point into nothing.
 *
 * CONCURRENCY
 *	Pure; thread-safe.
 *
 * ERRORS
 *	None.
 *
 * SEE ALSO
 *	policy.h, config.h (config_override_find).
 */

#include <stddef.h>
#include <stdint.h>

#include "config.h"

enum grace_phase {
	GRACE_NOT_YET,  /* before policy.enforce_from */
	GRACE_PERIOD,   /* within the domain's grace period */
	GRACE_ENFORCED, /* defer and reject apply */
};

struct grace {
	enum grace_phase phase;
	int64_t until;   /* when NOT_YET or PERIOD ends; 0 when ENFORCED */
	int override;    /* enum config_action of an override, -1: none */
	int64_t expires; /* when the override lapses, 0: never */
};

/*
 * grace_of - the standing of domain, first seen misconfigured at
 * first_seen_bad (0: not known; counts as now), at time now.
 */
void grace_of(const struct config *cfg, const char *domain,
              int64_t first_seen_bad, int64_t now, struct grace *out);

/*
 * grace_phase_at - the phase alone, for a domain first seen misconfigured
 * at first_seen_bad (0: counts as now); *until (may be NULL) receives when
 * the phase ends, 0 when enforced.  The one statement of the rule, which
 * the policy applies to each message.
 */
enum grace_phase grace_phase_at(const struct config *cfg,
                                int64_t first_seen_bad, int64_t now,
                                int64_t *until);

/* grace_phase_name - "not_yet", "grace" or "enforced" */
const char *grace_phase_name(enum grace_phase phase);

/*
 * grace_text - for a human: "grace until 2026-01-09", "enforced",
 * "not enforced before 2026-02-01", with "; override exempt" or
 * "; override tag until 2026-03-01" appended when one is in force.
 */
void grace_text(const struct grace *g, char *buf, size_t size);

#endif
