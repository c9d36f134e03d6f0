#ifndef RELAYGATE_JUDGE_H
#define RELAYGATE_JUDGE_H

/*
 * judge - the verdict of a domain at the moment a message needs it.
 *
 * MODEL
 *	The milter asks for the verdict of each domain a message is judged
 *	on.  A verdict comes from the shared cache while it is fresh;
 *	otherwise the domain is checked (check.h: SPF, selectors and DMARC
 *	concurrently, under resolver.check_timeout) and the verdict stored.
 *	Concurrent requests for one domain in this process share one check
 *	(flight.h), so a burst of mail from a new domain costs one set of
 *	DNS queries.  When a check meets DNS trouble and an expired verdict
 *	is still within its stale window, the old verdict stands in rather
 *	than deferring mail.  Without a cache every request checks (tests,
 *	and relaygatectl --fresh).
 *	The result says where the verdict came from, for the decision line,
 *	and carries the domain's first_seen_bad (the start of its grace
 *	period; 0 when not known to be misconfigured).
 *
 * OWNERSHIP
 *	judge_open() borrows dns, spf and cache (may be NULL) for the
 *	judge's life; judge_close() releases only the judge (NULL is fine).
 *	cfg and keys are borrowed for the call.  Results go to caller
 *	storage and hold no pointers.
 *
 * CONCURRENCY
 *	judge_domain() and judge_count() are thread-safe; they block for
 *	at most the check deadline.
 *
 * ERRORS
 *	judge_domain() returns -1 only for a name that is not a valid
 *	domain; DNS trouble is a TEMPORARY verdict.  Nothing is logged.
 *
 * SEE ALSO
 *	check.h, verdict.h, cache.h, flight.h.
 */

#include <stdint.h>

#include "cache.h"
#include "config.h"
#include "dns.h"
#include "keys.h"
#include "spf_check.h"
#include "verdict.h"

enum judge_source {
	JUDGE_HIT,     /* fresh from the cache */
	JUDGE_CHECKED, /* checked now, by this request */
	JUDGE_SHARED,  /* checked now, by a concurrent request */
	JUDGE_STALE, /* the check met DNS trouble; an older verdict stood in */
	JUDGE_TIMEOUT, /* a concurrent check outlasted the deadline */
};

struct judge_result {
	struct verdict verdict;
	enum judge_source source;
	int64_t first_seen_bad; /* seconds since the epoch; 0: not known bad */
	int64_t checked_at;     /* when the verdict was made; 0: unknown */
	int64_t duration_ms;    /* time spent in judge_domain() */
};

struct judge;

/* judge_open - a judge over these resources; cache may be NULL */
struct judge *judge_open(struct dns *dns, struct spf_check *spf,
                         struct cache *cache);

/* judge_close - release the judge (not what it borrows); NULL is fine */
void judge_close(struct judge *j);

/*
 * judge_domain - the verdict of a normalized domain at time now (seconds
 * since the epoch), checked with cfg and the selectors' keys (keys[i] for
 * cfg->dkim_selectors[i], NULL entries allowed) when not cached.
 */
int judge_domain(struct judge *j, const struct config *cfg,
                 const struct keys_key *const *keys, const char *domain,
                 int64_t now, struct judge_result *out);

/*
 * judge_count - one more message of domain that met this action (an
 * index < CACHE_COUNTERS, the caller's); nothing without a cache.
 */
void judge_count(struct judge *j, const char *domain, unsigned action,
                 int64_t now);

/* judge_source_name - "hit", "checked", "shared", "stale", "timeout" */
const char *judge_source_name(enum judge_source source);

#endif
