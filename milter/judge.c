/*
 * judge - the verdict of a domain at the moment a message needs it.
 */

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "flight.h"
#include "judge.h"
#include "util.h"

struct judge {
	struct dns *dns;
	struct spf_check *spf;
	struct cache *cache;
	struct flight *flight;
};

/* What a flight's leader hands to its followers. */
struct judge_flight {
	struct verdict verdict;
	int valid; /* 0: the domain is not a valid name */
};

/* The leader's inputs. */
struct judge_call {
	const struct config *cfg;
	const struct keys_key *const *keys;
	struct judge *judge;
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

/* judge_open - a judge over borrowed resources */
struct judge *
judge_open(struct dns *dns, struct spf_check *spf, struct cache *cache)
{
	struct judge *j = xcalloc(1, sizeof(*j));

	j->dns = dns;
	j->spf = spf;
	j->cache = cache;
	j->flight = flight_new(sizeof(struct judge_flight));
	return j;
}

/* judge_close - release the judge */
void
judge_close(struct judge *j)
{
	if (j == NULL)
		return;
	flight_free(j->flight);
	free(j);
}

/* judge_check - a flight's call: check the domain, condense it */
static void
judge_check(const char *domain, void *result, void *arg)
{
	const struct judge_call *call = arg;
	struct judge_flight *out = result;
	struct check_env env = {.dns = call->judge->dns,
	                        .spf = call->judge->spf,
	                        .cfg = call->cfg,
	                        .keys = call->keys};
	struct check_result *r = xmalloc(sizeof(*r));
	int64_t deadline =
	    util_monotonic_ms() + call->cfg->resolver_check_timeout_ms;

	memset(out, 0, sizeof(*out));
	if (check_domain(&env, domain, CHECK_ALL, deadline, r) == 0) {
		verdict_from_check(r, &out->verdict);
		out->valid = 1;
	}
	free(r);
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

/* judge_domain - check through the single flight */
int
judge_domain(struct judge *j, const struct config *cfg,
             const struct keys_key *const *keys, const char *domain,
             int64_t now, struct judge_result *out)
{
	struct judge_call call = {.cfg = cfg, .keys = keys, .judge = j};
	struct judge_flight res;
	int64_t start = util_monotonic_ms();
	int64_t deadline = start + cfg->resolver_check_timeout_ms;

	memset(out, 0, sizeof(*out));
	switch (
	    flight_do(j->flight, domain, deadline, judge_check, &call, &res)) {
	case FLIGHT_LEADER:
		out->source = JUDGE_CHECKED;
		break;
	case FLIGHT_FOLLOWER:
		out->source = JUDGE_SHARED;
		break;
	case FLIGHT_TIMEOUT:
		out->source = JUDGE_TIMEOUT;
		res.valid = 1;
		judge_temporary(&res.verdict);
		break;
	}
	out->duration_ms = util_monotonic_ms() - start;
	if (!res.valid)
		return -1;
	out->verdict = res.verdict;
	out->checked_at = now;
	return 0;
}

/* judge_count - count a message of domain (needs the cache) */
void
judge_count(struct judge *j, const char *domain, unsigned action, int64_t now)
{
	if (j->cache != NULL)
		(void) cache_count(j->cache, domain, action, now);
}
