/*
 * judge - the verdict of a domain at the moment a message needs it: the
 * shared cache first, then one check per domain per process.
 */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "check.h"
#include "flight.h"
#include "judge.h"
#include "util.h"

/* Attempts at announcing a change that other processes keep changing. */
#define JUDGE_MARK_TRIES 3

_Static_assert(VERDICT_ENCODED_MAX <= CACHE_PAYLOAD_MAX,
               "a verdict fits a cache record");

struct judge {
	struct dns *dns;
	struct spf_check *spf;
	struct cache *cache;
	struct flight *flight;
	judge_check_fn check;
	void *check_arg;
	judge_acquire_fn acquire; /* NULL: no refresh ahead */
	judge_release_fn release;
	void *env_arg;
	judge_event_fn events; /* NULL: no announcements */
	void *events_arg;
	struct metrics *metrics; /* NULL: nothing counted */
	pthread_mutex_t lock;    /* guards refreshing */
	pthread_cond_t idle;     /* refreshing dropped to 0 */
	unsigned refreshing;     /* background refreshes running */
};

/* What a flight's leader hands to its followers. */
struct judge_flight {
	struct judge_result result;
	int valid; /* 0: the domain is not a valid name */
};

/* The leader's inputs. */
struct judge_call {
	const struct config *cfg;
	const struct keys_key *const *keys;
	struct judge *judge;
	int64_t now;
};

/* A background refresh's inputs; the thread frees it. */
struct judge_refresh {
	struct judge *judge;
	char domain[DOMAIN_SIZE];
	int64_t now;
};

static const char *const judge_source_names[] = {
    [JUDGE_HIT] = "hit",         [JUDGE_CHECKED] = "checked",
    [JUDGE_SHARED] = "shared",   [JUDGE_STALE] = "stale",
    [JUDGE_TIMEOUT] = "timeout",
};

/* judge_source_name - the source as a word */
const char *
judge_source_name(enum judge_source source)
{
	return (unsigned) source <= JUDGE_TIMEOUT ? judge_source_names[source]
	                                          : "?";
}

/* judge_check_live - the default check: every part, through DNS */
static int
judge_check_live(const struct config *cfg, const struct keys_key *const *keys,
                 const char *domain, struct verdict *out, void *arg)
{
	const struct judge *j = arg;
	struct check_env env = {
	    .dns = j->dns, .spf = j->spf, .cfg = cfg, .keys = keys};
	struct check_result *r = xmalloc(sizeof(*r));
	int64_t deadline = util_monotonic_ms() + cfg->resolver_check_timeout_ms;
	int rc = check_domain(&env, domain, CHECK_ALL, deadline, r);

	if (rc == 0)
		verdict_from_check(r, out);
	free(r);
	return rc;
}

/* judge_open - a judge over borrowed resources */
struct judge *
judge_open(struct dns *dns, struct spf_check *spf, struct cache *cache)
{
	struct judge *j = xcalloc(1, sizeof(*j));

	j->dns = dns;
	j->spf = spf;
	j->cache = cache;
	j->flight = flight_new(sizeof(struct judge_flight));
	j->check = judge_check_live;
	j->check_arg = j;
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->idle, NULL);
	return j;
}

/* judge_set_check - replace the check */
void
judge_set_check(struct judge *j, judge_check_fn fn, void *arg)
{
	j->check = fn != NULL ? fn : judge_check_live;
	j->check_arg = fn != NULL ? arg : j;
}

/* judge_set_env - where background refreshes get what they check with */
void
judge_set_env(struct judge *j, judge_acquire_fn acquire,
              judge_release_fn release, void *arg)
{
	j->acquire = acquire;
	j->release = release;
	j->env_arg = arg;
}

/* judge_set_events - who announces changes of standing */
void
judge_set_events(struct judge *j, judge_event_fn fn, void *arg)
{
	j->events = fn;
	j->events_arg = arg;
}

/* judge_set_metrics - where messages and checks are counted */
void
judge_set_metrics(struct judge *j, struct metrics *m)
{
	j->metrics = m;
}

/* judge_close - wait for background refreshes, release the judge */
void
judge_close(struct judge *j)
{
	if (j == NULL)
		return;
	pthread_mutex_lock(&j->lock);
	while (j->refreshing > 0)
		pthread_cond_wait(&j->idle, &j->lock);
	pthread_mutex_unlock(&j->lock);
	pthread_cond_destroy(&j->idle);
	pthread_mutex_destroy(&j->lock);
	flight_free(j->flight);
	free(j);
}

/* judge_temporary - the verdict of a domain nobody could check in time */
static void
judge_temporary(struct verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->version = VERDICT_VERSION;
	v->state = VERDICT_TEMPORARY;
	v->spf_result = SPF_CHECK_TEMPERROR;
	util_strlcpy(v->spf_detail, "the check did not finish in time",
	             sizeof(v->spf_detail));
}

/* judge_hold - seconds a refresh claim lasts: longer than one check */
static int64_t
judge_hold(const struct config *cfg)
{
	return (cfg->resolver_check_timeout_ms + 999) / 1000 + 1;
}

/*
 * judge_class - a verdict as the cache stores it (encoded into buf,
 * VERDICT_ENCODED_MAX bytes): how long it is cached, how long it may stand
 * in after that, and what it means for the grace period.
 */
static void
judge_class(const struct config *cfg, const struct verdict *v,
            unsigned char *buf, struct cache_verdict *cv)
{
	int64_t min = cfg->cache_ttl_min_ms / 1000;

	cv->payload = buf;
	cv->len = verdict_encode(v, buf);
	cv->state = v->state;
	cv->max_stale = cfg->cache_max_stale_ms / 1000;
	switch (v->state) {
	case VERDICT_CONFIGURED:
		cv->grade = CACHE_GOOD;
		cv->ttl =
		    cache_expiry(v->ttl, min, cfg->cache_ttl_max_ms / 1000);
		break;
	case VERDICT_TEMPORARY:
		cv->grade = CACHE_TEMP;
		cv->ttl = cfg->cache_ttl_temp_ms / 1000;
		cv->max_stale = 0;
		break;
	default:
		cv->grade = CACHE_BAD;
		cv->ttl =
		    cache_expiry(v->ttl, min, cfg->cache_ttl_bad_max_ms / 1000);
		break;
	}
}

/* judge_run_check - the check, counted by the state it found */
static int
judge_run_check(struct judge *j, const struct config *cfg,
                const struct keys_key *const *keys, const char *domain,
                struct verdict *v)
{
	int rc = j->check(cfg, keys, domain, v, j->check_arg);

	if (rc == 0)
		metrics_check(j->metrics, v->state);
	return rc;
}

/*
 * judge_announce - try to move the record's mark to "to" (or claim a
 * reminder when it is there already); report what this request won.
 * The compare-and-set runs under the record's lock, so of all threads
 * and processes using the verdict exactly one reports each change.
 */
static void
judge_announce(struct judge *j, const struct config *cfg,
               const struct cache_record *rec, const struct verdict *v,
               unsigned to, int64_t now)
{
	struct cache_record before;
	struct alert_event e = {ALERT_STATE, cfg, rec->domain, v,
	                        0,           to,  &before,     now};
	unsigned from = rec->mark;
	int won = 0, rc;

	for (int i = 0; i < JUDGE_MARK_TRIES && !won && from != to; i++) {
		if ((rc = cache_mark(j->cache, rec->domain, from, to, now,
		                     &before)) < 0)
			return; /* flushed with --forget meanwhile */
		won = rc == 1;
		from = before.mark;
	}
	if (!won && rec->mark == to) {
		e.kind = ALERT_REMINDER;
		won = cache_remind(j->cache, rec->domain, to, now,
		                   cfg->log_reminder_interval_ms / 1000,
		                   &before) == 1;
	}
	if (!won)
		return;
	e.from = before.mark;
	j->events(&e, j->events_arg);
}

/*
 * judge_watch - a verdict in use: announce a change of the domain's
 * standing, or a due reminder that it is still misconfigured.  A
 * temporary verdict has no standing.  Costs nothing more than a few
 * comparisons unless something is to be announced.
 */
static void
judge_watch(struct judge *j, const struct config *cfg,
            const struct cache_record *rec, const struct verdict *v,
            int64_t now)
{
	int64_t every = cfg->log_reminder_interval_ms / 1000;
	unsigned to;

	if (j->events == NULL || j->cache == NULL)
		return;
	to = alert_mark(v);
	if (to == 0 || (rec->mark == to && (!alert_mark_bad(to) || every <= 0 ||
	                                    now - rec->reminded_at < every)))
		return;
	judge_announce(j, cfg, rec, v, to, now);
}

/*
 * judge_store - a new verdict, checked at now: into the cache (if any)
 * and into out (may be NULL) with the record's grace-period start; a
 * change of standing is announced.
 */
static void
judge_store(struct judge *j, const struct config *cfg, const char *domain,
            const struct verdict *v, int64_t now, struct judge_result *out)
{
	unsigned char buf[VERDICT_ENCODED_MAX];
	struct cache_verdict cv;
	struct cache_record rec = {.first_seen_bad = 0};

	if (j->cache != NULL) {
		judge_class(cfg, v, buf, &cv);
		if (cache_put(j->cache, domain, &cv, now, &rec) != 0)
			rec.first_seen_bad = 0;
		else
			judge_watch(j, cfg, &rec, v, now);
	}
	if (out != NULL) {
		out->verdict = *v;
		out->source = JUDGE_CHECKED;
		out->first_seen_bad = rec.first_seen_bad;
		out->checked_at = now;
	}
}

/* judge_put - store a verdict checked elsewhere */
int
judge_put(struct judge *j, const struct config *cfg, const char *domain,
          const struct verdict *v, int64_t now)
{
	unsigned char buf[VERDICT_ENCODED_MAX];
	struct cache_verdict cv;

	if (j->cache == NULL)
		return -1;
	judge_class(cfg, v, buf, &cv);
	return cache_put(j->cache, domain, &cv, now, NULL) == 0 ? 0 : -1;
}

/* judge_usable - a record's verdict, if it holds one of this version */
static int
judge_usable(const struct cache_record *rec, struct verdict *v)
{
	return rec->has_verdict &&
	       verdict_decode(rec->payload, rec->payload_len, v) == 0;
}

/* judge_from_record - a result from a cached verdict (judge_usable()) */
static void
judge_from_record(const struct cache_record *rec, const struct verdict *v,
                  enum judge_source source, struct judge_result *out)
{
	out->verdict = *v;
	out->source = source;
	out->first_seen_bad = rec->first_seen_bad;
	out->checked_at = rec->checked_at;
}

/* judge_refresh_slot - take one of the background slots, if one is free */
static int
judge_refresh_slot(struct judge *j)
{
	int ok;

	pthread_mutex_lock(&j->lock);
	ok = j->refreshing < JUDGE_REFRESH_MAX;
	if (ok)
		j->refreshing++;
	pthread_mutex_unlock(&j->lock);
	return ok;
}

/* judge_refresh_done - give a background slot back */
static void
judge_refresh_done(struct judge *j)
{
	pthread_mutex_lock(&j->lock);
	if (--j->refreshing == 0)
		pthread_cond_broadcast(&j->idle);
	pthread_mutex_unlock(&j->lock);
}

/*
 * judge_refresh_main - a background refresh: check with the current
 * configuration and store the result, unless it is temporary (the fresh
 * verdict stays, and the claim holds off the next attempt until it
 * lapses).
 */
static void *
judge_refresh_main(void *arg)
{
	struct judge_refresh *r = arg;
	struct judge *j = r->judge;
	struct judge_env env = {NULL, NULL, NULL};
	struct verdict v;

	if (j->acquire(&env, j->env_arg) == 0) {
		if (judge_run_check(j, env.cfg, env.keys, r->domain, &v) == 0 &&
		    v.state != VERDICT_TEMPORARY)
			judge_store(j, env.cfg, r->domain, &v, r->now, NULL);
		j->release(&env, j->env_arg);
	}
	free(r);
	judge_refresh_done(j);
	return NULL;
}

/* judge_spawn - start a detached background refresh of domain */
static int
judge_spawn(struct judge *j, const char *domain, int64_t now)
{
	struct judge_refresh *r = xcalloc(1, sizeof(*r));
	pthread_attr_t attr;
	pthread_t t;
	int rc;

	r->judge = j;
	r->now = now;
	util_strlcpy(r->domain, domain, sizeof(r->domain));
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &attr, judge_refresh_main, r);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		free(r);
	return rc;
}

/*
 * judge_refresh_ahead - a fresh verdict used close to its expiry (within
 * cache.refresh_ahead, and in the second half of its TTL): the request
 * that wins the claim starts a background re-check and goes on.
 */
static void
judge_refresh_ahead(struct judge *j, const struct config *cfg,
                    const struct cache_record *rec, int64_t now)
{
	int64_t window = cfg->cache_refresh_ahead_ms / 1000;
	int64_t half = (rec->expires_at - rec->checked_at) / 2;

	if (half < window)
		window = half;
	if (j->acquire == NULL || rec->expires_at - now > window ||
	    rec->refresh_until > now || !judge_refresh_slot(j))
		return;
	if (cache_claim(j->cache, rec->domain, now, judge_hold(cfg)) != 1 ||
	    judge_spawn(j, rec->domain, now) != 0)
		judge_refresh_done(j);
}

/*
 * judge_stale - an expired verdict within its stale window: the request
 * that wins the refresh claim re-checks now and keeps the old verdict if
 * DNS is in trouble; the others use the old verdict meanwhile.  Returns
 * 0 if the record vanished (flushed): then it is a miss.
 */
static int
judge_stale(struct judge *j, const struct config *cfg,
            const struct keys_key *const *keys, const struct cache_record *rec,
            const struct verdict *cached, int64_t now, struct judge_result *out)
{
	struct verdict v;
	int64_t start = util_monotonic_ms();
	int won = cache_claim(j->cache, rec->domain, now, judge_hold(cfg));

	if (won < 0)
		return 0;
	if (won == 0 || judge_run_check(j, cfg, keys, rec->domain, &v) != 0 ||
	    v.state == VERDICT_TEMPORARY) {
		judge_from_record(rec, cached, JUDGE_STALE, out);
		judge_watch(j, cfg, rec, &out->verdict, now);
	} else
		judge_store(j, cfg, rec->domain, &v, now, out);
	out->duration_ms = util_monotonic_ms() - start;
	return 1;
}

/*
 * judge_cached - answer from the cache: a fresh verdict (refreshed ahead
 * when due), or a stale one.  Returns 0 when the check must run.
 */
static int
judge_cached(struct judge *j, const struct config *cfg,
             const struct keys_key *const *keys, const char *domain,
             int64_t now, struct judge_result *out)
{
	struct cache_record rec;
	struct verdict v;
	enum cache_status st = cache_get(j->cache, domain, now, &rec);

	if (st == CACHE_FRESH && judge_usable(&rec, &v)) {
		judge_from_record(&rec, &v, JUDGE_HIT, out);
		judge_watch(j, cfg, &rec, &out->verdict, now);
		judge_refresh_ahead(j, cfg, &rec, now);
		return 1;
	}
	if (st == CACHE_STALE && judge_usable(&rec, &v))
		return judge_stale(j, cfg, keys, &rec, &v, now, out);
	return 0;
}

/*
 * judge_lead - a flight's call: look at the cache once more (another
 * process may have stored the verdict since), else check and store.
 */
static void
judge_lead(const char *domain, void *result, void *arg)
{
	const struct judge_call *call = arg;
	struct judge *j = call->judge;
	struct judge_flight *out = result;
	struct cache_record rec;
	struct verdict v;

	memset(out, 0, sizeof(*out));
	out->valid = 1;
	if (j->cache != NULL &&
	    cache_peek(j->cache, domain, call->now, &rec) == CACHE_FRESH &&
	    judge_usable(&rec, &v)) {
		judge_from_record(&rec, &v, JUDGE_HIT, &out->result);
		judge_watch(j, call->cfg, &rec, &out->result.verdict,
		            call->now);
	} else if (judge_run_check(j, call->cfg, call->keys, domain, &v) == 0)
		judge_store(j, call->cfg, domain, &v, call->now, &out->result);
	else
		out->valid = 0;
}

/* judge_fly - check through the single flight */
static int
judge_fly(struct judge *j, const struct config *cfg,
          const struct keys_key *const *keys, const char *domain, int64_t now,
          struct judge_result *out)
{
	struct judge_call call = {cfg, keys, j, now};
	struct judge_flight res;
	int64_t deadline = util_monotonic_ms() + cfg->resolver_check_timeout_ms;

	switch (
	    flight_do(j->flight, domain, deadline, judge_lead, &call, &res)) {
	case FLIGHT_LEADER:
		break;
	case FLIGHT_FOLLOWER:
		if (res.result.source == JUDGE_CHECKED)
			res.result.source = JUDGE_SHARED;
		break;
	case FLIGHT_TIMEOUT:
		memset(&res, 0, sizeof(res));
		res.valid = 1;
		judge_temporary(&res.result.verdict);
		res.result.source = JUDGE_TIMEOUT;
		res.result.checked_at = now;
		break;
	}
	if (!res.valid)
		return -1;
	*out = res.result;
	return 0;
}

/* judge_domain - the cache, else the single flight */
int
judge_domain(struct judge *j, const struct config *cfg,
             const struct keys_key *const *keys, const char *domain,
             int64_t now, struct judge_result *out)
{
	int64_t start;
	int rc;

	memset(out, 0, sizeof(*out));
	/* A cached answer takes no measurable time: no clock reads. */
	if (j->cache != NULL && judge_cached(j, cfg, keys, domain, now, out))
		return 0;
	start = util_monotonic_ms();
	rc = judge_fly(j, cfg, keys, domain, now, out);
	out->duration_ms = util_monotonic_ms() - start;
	return rc;
}

/* judge_count - count a message of domain and of the host */
void
judge_count(struct judge *j, const char *domain, unsigned action, int64_t now)
{
	metrics_message(j->metrics, action);
	if (j->cache != NULL)
		(void) cache_count(j->cache, domain, action, now);
}
