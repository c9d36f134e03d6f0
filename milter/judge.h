#ifndef RELAYGATE_JUDGE_H
#define RELAYGATE_JUDGE_H

/*
 * judge - the verdict of a domain at the moment a message needs it.
 *
 * MODEL
 *	The milter asks for the verdict of each domain a message is judged
 *	on.  A verdict comes from the shared cache (cache.h) while it is
 *	fresh; otherwise the domain is checked (check.h: SPF, selectors and
 *	DMARC concurrently, under resolver.check_timeout) and the verdict
 *	stored, for its DNS TTL clamped per class: cache.ttl_min to
 *	cache.ttl_max when configured, to cache.ttl_bad_max when partial or
 *	unconfigured, cache.ttl_temp when DNS trouble left it temporary.
 *	Concurrent requests for one domain in this process share one check
 *	(flight.h), so a burst of mail from a new domain costs one set of
 *	DNS queries; the check's leader looks at the cache again first, as
 *	another process may have filled it.
 *	An expired verdict within its stale window (cache.max_stale) is
 *	re-checked by the one request that wins the cache's refresh claim;
 *	if that check meets DNS trouble, or while it runs, the old verdict
 *	stands in rather than deferring mail.  A fresh verdict used within
 *	cache.refresh_ahead of its expiry (at most half its TTL) is
 *	re-checked in a background thread, so busy domains never wait for
 *	DNS; that needs judge_set_env() (where the thread gets a current
 *	configuration and keys), and is skipped without it.  Without a cache
 *	every request checks (tests, and relaygatectl --fresh).
 *	The result says where the verdict came from, for the decision line,
 *	and carries the domain's first_seen_bad (the start of its grace
 *	period; 0 when not known to be misconfigured) and checked_at.
 *	Announcements (alert.h): whenever a verdict is used or stored, its
 *	standing (state and rotation readiness; a temporary verdict has
 *	none) is compared with the mark of the domain's record, which says
 *	what was last announced; on a difference the judge moves the mark
 *	with cache_mark(), a compare-and-set under the record's lock, and
 *	reports the change only if it won.  So each change is reported once
 *	across the threads of a process, across relaygate instances sharing
 *	the segment, and whoever stored the verdict: a verdict stored by a
 *	process that announces nothing (relaygatectl) is announced by the
 *	first relaygate that uses it, a flush keeps the mark (a re-check
 *	that finds the same standing says nothing), and a forgotten domain
 *	(flush --forget, a lost segment) is announced anew, "from none".
 *	A misconfigured domain in use is reminded of at most once per
 *	log.reminder_interval, claimed the same way (cache_remind()).
 *	Messages (judge_count) and checks by result are counted into the
 *	metrics set with judge_set_metrics().
 *
 * OWNERSHIP
 *	judge_open() borrows dns, spf and cache (may be NULL) for the
 *	judge's life; judge_close() releases only the judge (NULL is fine),
 *	after waiting for background refreshes; the metrics handle is
 *	borrowed for the judge's life too.  cfg and keys are borrowed
 *	for the call; a background refresh acquires its own through the
 *	judge_env functions.  Results go to caller storage and hold no
 *	pointers.
 *
 * CONCURRENCY
 *	judge_domain() and judge_count() are thread-safe; they block for
 *	at most the check deadline.  At most JUDGE_REFRESH_MAX background
 *	refreshes run at once (more are skipped, not queued).
 *	judge_set_check(), judge_set_env(), judge_set_events() and
 *	judge_set_metrics() must be called before the judge is shared.  The
 *	event function is called from whichever thread won the change, a
 *	background refresh's included, and must be thread-safe.
 *
 * ERRORS
 *	judge_domain() returns -1 only for a name that is not a valid
 *	domain; DNS trouble is a TEMPORARY verdict.  Cache write failures
 *	(a bucket lock lost to a failed recovery) only cost caching.
 *	Nothing is logged here; announcements go to the event function.
 *
 * SEE ALSO
 *	check.h, verdict.h, cache.h, flight.h, alert.h, metrics.h.
 */

#include <stdint.h>

#include "alert.h"
#include "cache.h"
#include "config.h"
#include "dns.h"
#include "keys.h"
#include "metrics.h"
#include "spf_check.h"
#include "verdict.h"

enum judge_source {
	JUDGE_HIT,     /* fresh from the cache */
	JUDGE_CHECKED, /* checked now, by this request */
	JUDGE_SHARED,  /* checked now, by a concurrent request */
	JUDGE_STALE,   /* expired: an older verdict stood in while another
	                * request re-checks, or its re-check met DNS trouble */
	JUDGE_TIMEOUT, /* a concurrent check outlasted the deadline */
};

struct judge_result {
	struct verdict verdict;
	enum judge_source source;
	int64_t first_seen_bad; /* seconds since the epoch; 0: not known bad */
	int64_t checked_at;     /* when the verdict was made; 0: unknown */
	int64_t duration_ms;    /* time spent checking; 0 for a hit */
};

struct judge;

/* Background refreshes running at once, at most. */
#define JUDGE_REFRESH_MAX 16

/*
 * The check behind the judge: fill out with the verdict of domain and
 * return 0, or -1 if it is not a valid domain.  The default runs
 * check_domain() (check.h) under resolver.check_timeout; tests put in
 * their own with judge_set_check().
 */
typedef int (*judge_check_fn)(const struct config *cfg,
                              const struct keys_key *const *keys,
                              const char *domain, struct verdict *out,
                              void *arg);

/* What a background refresh checks with, held for its duration. */
struct judge_env {
	const struct config *cfg;
	const struct keys_key *const *keys;
	void *pin; /* the acquirer's, for its release function */
};

/* Fill env with a held configuration and keys; 0, or -1 for none. */
typedef int (*judge_acquire_fn)(struct judge_env *env, void *arg);

/* Give back what the acquire function held. */
typedef void (*judge_release_fn)(struct judge_env *env, void *arg);

/* Where a change of standing or a reminder goes (alert_log()). */
typedef void (*judge_event_fn)(const struct alert_event *e, void *arg);

/* judge_open - a judge over these resources; cache may be NULL */
struct judge *judge_open(struct dns *dns, struct spf_check *spf,
                         struct cache *cache);

/* judge_set_check - replace the check (tests); fn NULL: the default */
void judge_set_check(struct judge *j, judge_check_fn fn, void *arg);

/*
 * judge_set_env - where background refreshes get a configuration and
 * keys (the current ones, e.g. runtime_acquire()); until it is called,
 * refresh-ahead is off.
 */
void judge_set_env(struct judge *j, judge_acquire_fn acquire,
                   judge_release_fn release, void *arg);

/*
 * judge_set_events - announce changes of standing and reminders through
 * fn (e.g. alert_log); until it is called, nothing is announced and no
 * mark changes.  Needs a cache.
 */
void judge_set_events(struct judge *j, judge_event_fn fn, void *arg);

/* judge_set_metrics - count messages and checks into m (may be NULL) */
void judge_set_metrics(struct judge *j, struct metrics *m);

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
 * judge_count - one more message of domain that met this action (enum
 * policy_action, < CACHE_COUNTERS): in the domain's record (without a
 * cache: not) and in the metrics.
 */
void judge_count(struct judge *j, const char *domain, unsigned action,
                 int64_t now);

/*
 * judge_put - store a verdict someone else checked (relaygatectl check)
 * at time now, as judge_domain() stores its own: the TTL clamped by
 * class, the grace period carried on.  Changes of standing are not
 * announced here (the next daemon that uses the verdict does).  Returns
 * -1 without a cache, or if the cache refused it.
 */
int judge_put(struct judge *j, const struct config *cfg, const char *domain,
              const struct verdict *v, int64_t now);

/* judge_source_name - "hit", "checked", "shared", "stale", "timeout" */
const char *judge_source_name(enum judge_source source);

#endif
