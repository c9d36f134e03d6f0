/*
 * test_judge - where a message's verdict comes from, with a fake check
 * (judge_set_check) and a clock the test controls: a miss checks once and
 * caches for the clamped TTL of its class; a fresh verdict is a hit; a
 * stale one stands in when the re-check meets DNS trouble, and only one
 * request re-checks; busy domains are refreshed ahead in the background;
 * 100 concurrent requests for a cold domain share one check; each change
 * of a domain's standing is announced once, also across judges (processes)
 * and through flushes, reminders once per interval; messages and checks
 * are counted into the metrics.
 * Segment names carry the pid; teardown unlinks them, failed or not.
 */

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "alert.h"
#include "cache.h"
#include "config.h"
#include "dkim_check.h"
#include "judge.h"
#include "metrics.h"
#include "util.h"

#define T0 1700000000 /* the test clock starts here */
#define BURST 100

/* The clamps every test runs with; the fake's TTLs are chosen around them. */
static const char test_conf[] =
    "resolver: { check_timeout = \"300ms\"; };\n"
    "log: { reminder_interval = 100; };\n"
    "cache: { ttl_min = 60; ttl_max = 3600; ttl_bad_max = 300;\n"
    "  ttl_temp = 30; max_stale = 600; refresh_ahead = 120; };\n";

/* What the fake check answers, and how often it was asked. */
struct fake {
	pthread_mutex_t lock;
	int state;      /* enum verdict_state of the next answer */
	int ready;      /* 1: both selectors delegated (rotation-ready) */
	uint32_t ttl;   /* DNS TTL of the next answer */
	int delay_ms;   /* how long a check takes */
	int calls;      /* checks run */
	int generation; /* stamped into each answer's spf_detail */
	int env_held;   /* judge_env acquisitions not yet released */
	int env_acquired;
};

struct fixture {
	char name[64];
	struct cache *c;
	struct config *cfg;
	struct judge *j;
	struct fake fake;
};

/* fake_check - the judge's check: counts, waits, answers as told */
static int
fake_check(const struct config *cfg, const struct keys_key *const *keys,
           const char *domain, struct verdict *out, void *arg)
{
	struct fake *f = arg;
	int delay;

	(void) cfg;
	(void) keys;
	if (strcmp(domain, "invalid..") == 0)
		return -1;
	pthread_mutex_lock(&f->lock);
	f->calls++;
	memset(out, 0, sizeof(*out));
	out->version = VERDICT_VERSION;
	out->state = (uint8_t) f->state;
	out->ttl = f->ttl;
	if (f->ready) {
		out->nselectors = 2;
		out->dkim_state[0] = out->dkim_state[1] = DKIM_CHECK_DELEGATED;
	}
	snprintf(out->spf_detail, sizeof(out->spf_detail), "gen %d",
	         ++f->generation);
	util_strlcpy(out->dkim_detail, domain, sizeof(out->dkim_detail));
	delay = f->delay_ms;
	pthread_mutex_unlock(&f->lock);
	if (delay > 0)
		usleep((useconds_t) delay * 1000);
	return 0;
}

/* fake_acquire - a background refresh gets the fixture's configuration */
static int
fake_acquire(struct judge_env *env, void *arg)
{
	struct fixture *fx = arg;

	pthread_mutex_lock(&fx->fake.lock);
	fx->fake.env_held++;
	fx->fake.env_acquired++;
	pthread_mutex_unlock(&fx->fake.lock);
	env->cfg = config_ref(fx->cfg);
	env->keys = NULL;
	env->pin = fx->cfg;
	return 0;
}

/* fake_release - give it back */
static void
fake_release(struct judge_env *env, void *arg)
{
	struct fixture *fx = arg;

	config_release(env->pin);
	pthread_mutex_lock(&fx->fake.lock);
	fx->fake.env_held--;
	pthread_mutex_unlock(&fx->fake.lock);
}

/* calls - how many checks ran */
static int
calls(struct fixture *fx)
{
	int n;

	pthread_mutex_lock(&fx->fake.lock);
	n = fx->fake.calls;
	pthread_mutex_unlock(&fx->fake.lock);
	return n;
}

/* answer - what the fake says next */
static void
answer(struct fixture *fx, int state, uint32_t ttl)
{
	pthread_mutex_lock(&fx->fake.lock);
	fx->fake.state = state;
	fx->fake.ttl = ttl;
	pthread_mutex_unlock(&fx->fake.lock);
}

static int
setup(void **state)
{
	static int n;
	struct fixture *fx = calloc(1, sizeof(*fx));
	char why[512] = "";

	pthread_mutex_init(&fx->fake.lock, NULL);
	snprintf(fx->name, sizeof(fx->name), "/rg-test-judge-%d-%d",
	         (int) getpid(), n++);
	fx->c =
	    cache_open(fx->name, 256, 0600, (gid_t) -1, 0, why, sizeof(why));
	fx->cfg = config_load_string(test_conf, "t.conf", why, sizeof(why));
	if (fx->c == NULL || fx->cfg == NULL) {
		fprintf(stderr, "setup: %s\n", why);
		return -1;
	}
	fx->j = judge_open(NULL, NULL, fx->c);
	judge_set_check(fx->j, fake_check, &fx->fake);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	judge_close(fx->j);
	cache_close(fx->c);
	shm_unlink(fx->name);
	config_release(fx->cfg);
	pthread_mutex_destroy(&fx->fake.lock);
	free(fx);
	return 0;
}

/* judge - judge_domain() that must succeed */
static struct judge_result
judge(struct fixture *fx, const char *domain, int64_t now)
{
	struct judge_result r;

	if (judge_domain(fx->j, fx->cfg, NULL, domain, now, &r) != 0)
		fail_msg("judge_domain %s failed", domain);
	return r;
}

/* generation - the fake's stamp in a verdict */
static int
generation(const struct judge_result *r)
{
	int g = -1;

	sscanf(r->verdict.spf_detail, "gen %d", &g);
	return g;
}

static void
test_miss_checks_then_hits(void **state)
{
	struct fixture *fx = *state;
	struct judge_result r;

	answer(fx, VERDICT_CONFIGURED, 600);
	r = judge(fx, "a.example", T0);
	assert_int_equal(r.source, JUDGE_CHECKED);
	assert_int_equal(r.verdict.state, VERDICT_CONFIGURED);
	assert_int_equal(r.checked_at, T0);
	assert_int_equal(r.first_seen_bad, 0);
	for (int i = 1; i < 600; i += 100) {
		r = judge(fx, "a.example", T0 + i);
		assert_int_equal(r.source, JUDGE_HIT);
		assert_int_equal(generation(&r), 1);
		assert_int_equal(r.checked_at, T0);
	}
	assert_int_equal(calls(fx), 1);
	/* Expired beyond the stale window: checked again. */
	r = judge(fx, "a.example", T0 + 600 + 600);
	assert_int_equal(r.source, JUDGE_CHECKED);
	assert_int_equal(generation(&r), 2);
	assert_int_equal(calls(fx), 2);
	assert_string_equal(judge_source_name(JUDGE_HIT), "hit");
	assert_string_equal(judge_source_name(JUDGE_STALE), "stale");
}

/*
 * The longest domain with the longest detail text: its record takes two
 * slots of the table, and the hit reads back the verdict as checked.
 */
static void
test_long_domain_hits_whole(void **state)
{
	struct fixture *fx = *state;
	struct judge_result checked, hit;
	struct cache_stats st;
	char name[DOMAIN_SIZE];

	memset(name, 'l', DOMAIN_MAX);
	name[63] = name[127] = name[191] = '.';
	name[DOMAIN_MAX] = '\0';
	answer(fx, VERDICT_UNCONFIGURED, 600);
	checked = judge(fx, name, T0);
	assert_int_equal(checked.source, JUDGE_CHECKED);
	assert_int_equal(strlen(checked.verdict.dkim_detail),
	                 VERDICT_DETAIL - 1);
	hit = judge(fx, name, T0 + 1);
	assert_int_equal(hit.source, JUDGE_HIT);
	assert_memory_equal(&hit.verdict, &checked.verdict,
	                    sizeof(checked.verdict));
	cache_stats(fx->c, &st);
	assert_int_equal(st.doubles, 1);
	assert_int_equal(calls(fx), 1);
}

/* TTLs per class: the DNS TTL clamped, temporary ones short, not stale. */
static void
test_ttl_per_class(void **state)
{
	static const struct {
		int state;
		uint32_t ttl;
		int64_t want_ttl, want_stale;
	} cases[] = {
	    {VERDICT_CONFIGURED, 600, 600, 600},
	    {VERDICT_CONFIGURED, 5, 60, 600},       /* raised to ttl_min */
	    {VERDICT_CONFIGURED, 86400, 3600, 600}, /* cut to ttl_max */
	    {VERDICT_PARTIAL, 3600, 300, 600},      /* cut to ttl_bad_max */
	    {VERDICT_UNCONFIGURED, 100, 100, 600},
	    {VERDICT_UNCONFIGURED, 0, 60, 600},
	    {VERDICT_TEMPORARY, 3600, 30, 0}, /* ttl_temp, never stale */
	};
	struct fixture *fx = *state;
	struct cache_record rec;
	char domain[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(domain, sizeof(domain), "ttl%zu.example", i);
		answer(fx, cases[i].state, cases[i].ttl);
		judge(fx, domain, T0);
		assert_int_equal(cache_get(fx->c, domain, T0, &rec),
		                 CACHE_FRESH);
		if (rec.expires_at != T0 + cases[i].want_ttl ||
		    rec.stale_until != rec.expires_at + cases[i].want_stale)
			fail_msg(
			    "case %zu: expires T0+%lld, stale until +%lld", i,
			    (long long) (rec.expires_at - T0),
			    (long long) (rec.stale_until - rec.expires_at));
		assert_int_equal(rec.state, cases[i].state);
	}
}

/*
 * An expired verdict within its stale window: the re-check meets DNS
 * trouble, so the old verdict stands in; while the winner's claim holds,
 * others use it without checking; a good re-check replaces it.
 */
static void
test_stale_stands_in(void **state)
{
	struct fixture *fx = *state;
	int64_t t = T0 + 600; /* expired, stale until T0 + 1200 */
	struct judge_result r;

	answer(fx, VERDICT_CONFIGURED, 600);
	judge(fx, "s.example", T0);
	answer(fx, VERDICT_TEMPORARY, 0);
	r = judge(fx, "s.example", t);
	assert_int_equal(r.source, JUDGE_STALE);
	assert_int_equal(r.verdict.state, VERDICT_CONFIGURED);
	assert_int_equal(generation(&r), 1);
	assert_int_equal(r.checked_at, T0);
	assert_int_equal(calls(fx), 2);
	/* The claim (check_timeout + 1 s) holds off other re-checks. */
	r = judge(fx, "s.example", t + 1);
	assert_int_equal(r.source, JUDGE_STALE);
	assert_int_equal(calls(fx), 2);
	/* After it lapses, the next request re-checks: DNS is back. */
	answer(fx, VERDICT_CONFIGURED, 600);
	r = judge(fx, "s.example", t + 10);
	assert_int_equal(r.source, JUDGE_CHECKED);
	assert_int_equal(generation(&r), 3);
	assert_int_equal(r.checked_at, t + 10);
	r = judge(fx, "s.example", t + 11);
	assert_int_equal(r.source, JUDGE_HIT);
	assert_int_equal(calls(fx), 3);
}

/* Beyond the stale window, DNS trouble is a short temporary verdict. */
static void
test_expired_temporary(void **state)
{
	struct fixture *fx = *state;
	struct judge_result r;

	answer(fx, VERDICT_CONFIGURED, 600);
	judge(fx, "e.example", T0);
	answer(fx, VERDICT_TEMPORARY, 0);
	r = judge(fx, "e.example", T0 + 1200);
	assert_int_equal(r.source, JUDGE_CHECKED);
	assert_int_equal(r.verdict.state, VERDICT_TEMPORARY);
	r = judge(fx, "e.example", T0 + 1229);
	assert_int_equal(r.source, JUDGE_HIT);
	assert_int_equal(r.verdict.state, VERDICT_TEMPORARY);
	/* Not stale-able: at its expiry it is checked again. */
	answer(fx, VERDICT_CONFIGURED, 600);
	r = judge(fx, "e.example", T0 + 1230);
	assert_int_equal(r.source, JUDGE_CHECKED);
	assert_int_equal(r.verdict.state, VERDICT_CONFIGURED);
}

/* The grace period starts at the first bad check and survives flushes. */
static void
test_grace_timestamps(void **state)
{
	static const struct {
		int state;
		int64_t at, want;
		int flush; /* flush before this step */
	} steps[] = {
	    {VERDICT_UNCONFIGURED, T0, T0, 0},
	    {VERDICT_PARTIAL, T0 + 400, T0, 0},
	    {VERDICT_PARTIAL, T0 + 401, T0, 1}, /* the customer "fixed" it */
	    {VERDICT_TEMPORARY, T0 + 800, T0, 1},
	    {VERDICT_CONFIGURED, T0 + 900, 0, 1},
	    {VERDICT_UNCONFIGURED, T0 + 1000, T0 + 1000, 1},
	};
	struct fixture *fx = *state;
	struct judge_result r;

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (steps[i].flush)
			assert_int_equal(cache_flush(fx->c, "g.example", 0), 1);
		answer(fx, steps[i].state, 60);
		r = judge(fx, "g.example", steps[i].at);
		assert_int_equal(r.source, JUDGE_CHECKED);
		if (r.first_seen_bad != steps[i].want)
			fail_msg("step %zu: first_seen_bad %lld, want %lld", i,
			         (long long) r.first_seen_bad,
			         (long long) steps[i].want);
		/* A hit carries the same start. */
		r = judge(fx, "g.example", steps[i].at);
		assert_int_equal(r.source, JUDGE_HIT);
		assert_int_equal(r.first_seen_bad, steps[i].want);
	}
}

/* wait_calls - until the fake ran n checks (background), or 5 s */
static int
wait_calls(struct fixture *fx, int n)
{
	for (int i = 0; i < 500 && calls(fx) < n; i++)
		usleep(10000);
	return calls(fx);
}

/*
 * A hit close to expiry refreshes in the background: the request itself
 * is a hit, and the refreshed verdict is there afterwards.
 */
static void
test_refresh_ahead(void **state)
{
	struct fixture *fx = *state;
	struct cache_record rec;
	struct judge_result r;

	answer(fx, VERDICT_CONFIGURED, 600);
	judge(fx, "busy.example", T0);
	/* Without an environment for the thread, nothing happens. */
	r = judge(fx, "busy.example", T0 + 590);
	assert_int_equal(r.source, JUDGE_HIT);
	assert_int_equal(calls(fx), 1);
	judge_set_env(fx->j, fake_acquire, fake_release, fx);
	/* Outside the window (120 s before expiry): nothing either. */
	r = judge(fx, "busy.example", T0 + 479);
	assert_int_equal(r.source, JUDGE_HIT);
	usleep(50000);
	assert_int_equal(calls(fx), 1);
	r = judge(fx, "busy.example", T0 + 481);
	assert_int_equal(r.source, JUDGE_HIT);
	assert_int_equal(generation(&r), 1);
	assert_int_equal(wait_calls(fx, 2), 2);
	for (int i = 0; i < 500; i++) {
		cache_get(fx->c, "busy.example", T0 + 482, &rec);
		if (rec.checked_at == T0 + 481)
			break;
		usleep(10000);
	}
	assert_int_equal(rec.checked_at, T0 + 481);
	assert_int_equal(rec.expires_at, T0 + 481 + 600);
	r = judge(fx, "busy.example", T0 + 482);
	assert_int_equal(generation(&r), 2);
	assert_int_equal(calls(fx), 2);
	/* A short TTL refreshes only in its second half. */
	answer(fx, VERDICT_CONFIGURED, 100);
	judge(fx, "short.example", T0);
	judge(fx, "short.example", T0 + 49);
	usleep(50000);
	assert_int_equal(calls(fx), 3);
	judge(fx, "short.example", T0 + 51);
	assert_int_equal(wait_calls(fx, 4), 4);
	judge_close(fx->j); /* waits for the thread */
	fx->j = NULL;
	assert_int_equal(fx->fake.env_held, 0);
	assert_int_equal(fx->fake.env_acquired, 2);
}

/* A background refresh that meets DNS trouble keeps the fresh verdict. */
static void
test_refresh_ahead_temporary(void **state)
{
	struct fixture *fx = *state;
	struct judge_result r;

	judge_set_env(fx->j, fake_acquire, fake_release, fx);
	answer(fx, VERDICT_CONFIGURED, 600);
	judge(fx, "r.example", T0);
	answer(fx, VERDICT_TEMPORARY, 0);
	judge(fx, "r.example", T0 + 500);
	assert_int_equal(wait_calls(fx, 2), 2);
	judge_close(fx->j);
	fx->j = judge_open(NULL, NULL, fx->c);
	judge_set_check(fx->j, fake_check, &fx->fake);
	r = judge(fx, "r.example", T0 + 501);
	assert_int_equal(r.source, JUDGE_HIT);
	assert_int_equal(r.verdict.state, VERDICT_CONFIGURED);
	assert_int_equal(generation(&r), 1);
}

struct burst {
	struct fixture *fx;
	pthread_barrier_t *start;
	struct judge_result r;
	int rc;
};

/* burst_one - one of the concurrent requests */
static void *
burst_one(void *arg)
{
	struct burst *b = arg;

	pthread_barrier_wait(b->start);
	b->rc =
	    judge_domain(b->fx->j, b->fx->cfg, NULL, "cold.example", T0, &b->r);
	return NULL;
}

/* 100 concurrent requests of one cold domain: one check, counted. */
static void
test_single_flight(void **state)
{
	struct fixture *fx = *state;
	struct burst b[BURST];
	pthread_t tid[BURST];
	pthread_barrier_t start;
	int checked = 0, shared = 0, hit = 0;

	answer(fx, VERDICT_PARTIAL, 600);
	fx->fake.delay_ms = 150;
	pthread_barrier_init(&start, NULL, BURST);
	for (int i = 0; i < BURST; i++) {
		b[i] = (struct burst){.fx = fx, .start = &start, .rc = -2};
		assert_int_equal(
		    pthread_create(&tid[i], NULL, burst_one, &b[i]), 0);
	}
	for (int i = 0; i < BURST; i++) {
		pthread_join(tid[i], NULL);
		assert_int_equal(b[i].rc, 0);
		assert_int_equal(generation(&b[i].r), 1);
		assert_int_equal(b[i].r.first_seen_bad, T0);
		checked += b[i].r.source == JUDGE_CHECKED;
		shared += b[i].r.source == JUDGE_SHARED;
		hit += b[i].r.source == JUDGE_HIT;
	}
	pthread_barrier_destroy(&start);
	assert_int_equal(calls(fx), 1);
	assert_int_equal(checked, 1);
	assert_int_equal(shared + hit, BURST - 1);
	assert_true(shared > 0);
}

/* A follower whose deadline passes gets a temporary verdict. */
static void
test_follower_timeout(void **state)
{
	struct fixture *fx = *state;
	struct burst leader = {.fx = fx, .rc = -2};
	pthread_barrier_t start;
	struct judge_result r;
	pthread_t tid;

	answer(fx, VERDICT_CONFIGURED, 600);
	fx->fake.delay_ms = 800; /* longer than check_timeout (300 ms) */
	pthread_barrier_init(&start, NULL, 2);
	leader.start = &start;
	pthread_create(&tid, NULL, burst_one, &leader);
	pthread_barrier_wait(&start);
	assert_int_equal(wait_calls(fx, 1), 1); /* the leader is checking */
	assert_int_equal(
	    judge_domain(fx->j, fx->cfg, NULL, "cold.example", T0, &r), 0);
	assert_int_equal(r.source, JUDGE_TIMEOUT);
	assert_int_equal(r.verdict.state, VERDICT_TEMPORARY);
	assert_true(r.duration_ms >= 290 && r.duration_ms < 2000);
	pthread_join(tid, NULL);
	pthread_barrier_destroy(&start);
	assert_int_equal(leader.r.source, JUDGE_CHECKED);
	assert_int_equal(calls(fx), 1);
}

/* Judges (processes) share the table: one checks, the other hits. */
static void
test_shared_between_judges(void **state)
{
	struct fixture *fx = *state;
	struct judge *other = judge_open(NULL, NULL, fx->c);
	struct judge_result r;

	judge_set_check(other, fake_check, &fx->fake);
	answer(fx, VERDICT_CONFIGURED, 600);
	assert_int_equal(
	    judge_domain(other, fx->cfg, NULL, "o.example", T0, &r), 0);
	assert_int_equal(r.source, JUDGE_CHECKED);
	judge_close(other);
	r = judge(fx, "o.example", T0 + 1);
	assert_int_equal(r.source, JUDGE_HIT);
	assert_int_equal(calls(fx), 1);
}

static void
test_count_and_invalid(void **state)
{
	struct fixture *fx = *state;
	struct cache_record rec;
	struct judge_result r;

	answer(fx, VERDICT_CONFIGURED, 600);
	judge(fx, "c.example", T0);
	judge_count(fx->j, "c.example", 1, T0 + 5);
	judge_count(fx->j, "c.example", 1, T0 + 6);
	judge_count(fx->j, "c.example", 3, T0 + 7);
	cache_get(fx->c, "c.example", T0 + 8, &rec);
	assert_int_equal(rec.counters[1], 2);
	assert_int_equal(rec.counters[3], 1);
	assert_int_equal(rec.last_seen, T0 + 7);
	assert_int_equal(
	    judge_domain(fx->j, fx->cfg, NULL, "invalid..", T0, &r), -1);
}

/* What the event function saw. */
struct recorded {
	enum alert_kind kind;
	unsigned from, to;
	char domain[64];
	uint64_t affected;
	int64_t now;
};

struct recorder {
	pthread_mutex_t lock;
	struct recorded ev[64];
	int n;
};

/* record - the judge's event function in these tests */
static void
record(const struct alert_event *e, void *arg)
{
	struct recorder *rc = arg;

	pthread_mutex_lock(&rc->lock);
	if (rc->n < 64) {
		struct recorded *r = &rc->ev[rc->n];

		r->kind = e->kind;
		r->from = e->from;
		r->to = e->to;
		snprintf(r->domain, sizeof(r->domain), "%s", e->domain);
		r->affected = alert_affected(e->rec);
		r->now = e->now;
	}
	rc->n++;
	pthread_mutex_unlock(&rc->lock);
}

/* answer_ready - the fake's next answer, with rotation readiness */
static void
answer_ready(struct fixture *fx, int state, int ready)
{
	answer(fx, state, 600);
	pthread_mutex_lock(&fx->fake.lock);
	fx->fake.ready = ready;
	pthread_mutex_unlock(&fx->fake.lock);
}

/* expect - event n is this change (or a reminder), made at now */
static void
expect(const struct recorder *rc, int n, enum alert_kind kind,
       enum alert_change change, int64_t now)
{
	const struct recorded *r = &rc->ev[n];

	assert_true(n < rc->n);
	assert_int_equal(r->kind, kind);
	if (kind == ALERT_STATE)
		assert_string_equal(
		    alert_change_name(alert_change_of(r->from, r->to)),
		    alert_change_name(change));
	assert_int_equal(r->now, now);
}

/*
 * The standing of a domain over its life, with the clock in hand: first
 * seen, hits say nothing, reminders once per log.reminder_interval (100 s)
 * while misconfigured, a fix after a flush once, DNS trouble nothing, a
 * re-check with the same standing nothing, rotation readiness lost, and a
 * forgotten domain announced anew.
 */
static void
test_events_state_changes(void **state)
{
	struct fixture *fx = *state;
	struct recorder rc = {.lock = PTHREAD_MUTEX_INITIALIZER};

	judge_set_events(fx->j, record, &rc);
	answer_ready(fx, VERDICT_PARTIAL, 0);
	judge(fx, "e.example", T0);
	assert_int_equal(rc.n, 1);
	expect(&rc, 0, ALERT_STATE, ALERT_FIRST_SEEN, T0);
	assert_string_equal(alert_mark_name(rc.ev[0].to), "partial");
	assert_string_equal(rc.ev[0].domain, "e.example");
	judge_count(fx->j, "e.example", 2, T0 + 1); /* tagged */
	for (int64_t t = T0 + 1; t < T0 + 100; t += 7)
		judge(fx, "e.example", t);
	assert_int_equal(rc.n, 1);
	judge(fx, "e.example", T0 + 100); /* due: one reminder */
	judge(fx, "e.example", T0 + 100);
	judge(fx, "e.example", T0 + 199);
	assert_int_equal(rc.n, 2);
	expect(&rc, 1, ALERT_REMINDER, ALERT_NONE, T0 + 100);
	assert_int_equal(rc.ev[1].affected, 1);
	judge(fx, "e.example", T0 + 200);
	assert_int_equal(rc.n, 3);
	/* The customer fixes DNS; the operator flushes. */
	answer_ready(fx, VERDICT_CONFIGURED, 1);
	assert_int_equal(cache_flush(fx->c, "e.example", 0), 1);
	for (int i = 0; i < 5; i++)
		judge(fx, "e.example", T0 + 210 + i);
	assert_int_equal(rc.n, 4);
	expect(&rc, 3, ALERT_STATE, ALERT_FIXED, T0 + 210);
	assert_int_equal(rc.ev[3].affected, 1);
	/* DNS trouble is no change; nor is the same standing again. */
	answer_ready(fx, VERDICT_TEMPORARY, 0);
	cache_flush(fx->c, "e.example", 0);
	judge(fx, "e.example", T0 + 300);
	answer_ready(fx, VERDICT_CONFIGURED, 1);
	cache_flush(fx->c, "e.example", 0);
	judge(fx, "e.example", T0 + 400);
	assert_int_equal(rc.n, 4);
	/* Configured to partial, then the second selector goes too. */
	answer_ready(fx, VERDICT_PARTIAL, 1);
	cache_flush(fx->c, "e.example", 0);
	judge(fx, "e.example", T0 + 500);
	answer_ready(fx, VERDICT_PARTIAL, 0);
	cache_flush(fx->c, "e.example", 0);
	judge(fx, "e.example", T0 + 501);
	assert_int_equal(rc.n, 6);
	expect(&rc, 4, ALERT_STATE, ALERT_BROKEN, T0 + 500);
	expect(&rc, 5, ALERT_STATE, ALERT_ROTATION_LOST, T0 + 501);
	/* Forgotten: announced anew, from none. */
	cache_flush(fx->c, "e.example", CACHE_FORGET);
	judge(fx, "e.example", T0 + 600);
	assert_int_equal(rc.n, 7);
	expect(&rc, 6, ALERT_STATE, ALERT_FIRST_SEEN, T0 + 600);
	assert_int_equal(rc.ev[6].affected, 0);
}

/* One request through one of two judges, released with the others. */
struct concurrent {
	struct fixture *fx;
	struct judge *j;
	pthread_barrier_t *start;
	int64_t now;
};

/* concurrent_one - the request */
static void *
concurrent_one(void *arg)
{
	struct concurrent *c = arg;
	struct judge_result r;

	pthread_barrier_wait(c->start);
	judge_domain(c->j, c->fx->cfg, NULL, "x.example", c->now, &r);
	return NULL;
}

/* burst_two - 32 requests through two judges at once */
static void
burst_two(struct fixture *fx, struct judge *other, int64_t now)
{
	struct concurrent c[32];
	pthread_t tid[32];
	pthread_barrier_t start;

	pthread_barrier_init(&start, NULL, 32);
	for (int i = 0; i < 32; i++) {
		c[i] =
		    (struct concurrent){fx, i % 2 ? other : fx->j, &start, now};
		assert_int_equal(
		    pthread_create(&tid[i], NULL, concurrent_one, &c[i]), 0);
	}
	for (int i = 0; i < 32; i++)
		pthread_join(tid[i], NULL);
	pthread_barrier_destroy(&start);
}

/*
 * Two judges (two relaygate processes) on one table, each checking on its
 * own (two single flights): each change is announced once, however many
 * requests race; a verdict stored by a judge that announces nothing (like
 * relaygatectl) is announced by the next judge that uses it, once.
 */
static void
test_events_once_across_judges(void **state)
{
	struct fixture *fx = *state;
	struct recorder rc = {.lock = PTHREAD_MUTEX_INITIALIZER};
	struct judge *other = judge_open(NULL, NULL, fx->c);
	struct judge *ctl = judge_open(NULL, NULL, fx->c);
	struct judge_result r;

	judge_set_check(other, fake_check, &fx->fake);
	judge_set_check(ctl, fake_check, &fx->fake);
	judge_set_events(fx->j, record, &rc);
	judge_set_events(other, record, &rc);
	fx->fake.delay_ms = 50;
	answer_ready(fx, VERDICT_UNCONFIGURED, 0);
	burst_two(fx, other, T0);
	assert_int_equal(rc.n, 1);
	expect(&rc, 0, ALERT_STATE, ALERT_FIRST_SEEN, T0);
	answer_ready(fx, VERDICT_CONFIGURED, 1);
	cache_flush(fx->c, "x.example", 0);
	burst_two(fx, other, T0 + 10);
	assert_int_equal(rc.n, 2);
	expect(&rc, 1, ALERT_STATE, ALERT_FIXED, T0 + 10);
	/* relaygatectl stores a new verdict; a daemon announces it. */
	answer_ready(fx, VERDICT_PARTIAL, 1);
	cache_flush(fx->c, "x.example", 0);
	assert_int_equal(
	    judge_domain(ctl, fx->cfg, NULL, "x.example", T0 + 20, &r), 0);
	assert_int_equal(rc.n, 2);
	burst_two(fx, other, T0 + 21);
	assert_int_equal(rc.n, 3);
	expect(&rc, 2, ALERT_STATE, ALERT_BROKEN, T0 + 21);
	/* Reminders, raced by both: one per interval. */
	burst_two(fx, other, T0 + 121);
	burst_two(fx, other, T0 + 122);
	assert_int_equal(rc.n, 4);
	expect(&rc, 3, ALERT_REMINDER, ALERT_NONE, T0 + 121);
	judge_close(ctl);
	judge_close(other);
}

/* Checks by state and messages by action are counted in the segment. */
static void
test_metrics_counted(void **state)
{
	struct fixture *fx = *state;
	struct metrics *m = metrics_open(fx->c);
	struct metrics_values v;

	judge_set_metrics(fx->j, m);
	answer(fx, VERDICT_PARTIAL, 600);
	judge(fx, "m1.example", T0);
	judge(fx, "m1.example", T0 + 1); /* a hit: no check */
	answer(fx, VERDICT_CONFIGURED, 600);
	judge(fx, "m2.example", T0);
	judge_count(fx->j, "m1.example", 2, T0);
	judge_count(fx->j, "m2.example", 1, T0);
	judge_count(fx->j, "m2.example", 1, T0);
	metrics_read(fx->c, &v);
	assert_int_equal(v.checks[VERDICT_PARTIAL], 1);
	assert_int_equal(v.checks[VERDICT_CONFIGURED], 1);
	assert_int_equal(v.checks[VERDICT_UNCONFIGURED], 0);
	assert_int_equal(v.messages[2], 1);
	assert_int_equal(v.messages[1], 2);
	metrics_close(m);
}

/* Without a cache, every request checks; nothing is counted. */
static void
test_without_cache(void **state)
{
	struct fixture *fx = *state;
	struct judge *j = judge_open(NULL, NULL, NULL);
	struct judge_result r;

	judge_set_check(j, fake_check, &fx->fake);
	answer(fx, VERDICT_UNCONFIGURED, 600);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(
		    judge_domain(j, fx->cfg, NULL, "n.example", T0, &r), 0);
		assert_int_equal(r.source, JUDGE_CHECKED);
		assert_int_equal(r.first_seen_bad, 0);
	}
	judge_count(j, "n.example", 0, T0);
	judge_close(j);
	assert_int_equal(calls(fx), 3);
	assert_int_equal(cache_get(fx->c, "n.example", T0, NULL), CACHE_MISS);
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_miss_checks_then_hits),   T(test_ttl_per_class),
	    T(test_stale_stands_in),         T(test_expired_temporary),
	    T(test_grace_timestamps),        T(test_refresh_ahead),
	    T(test_refresh_ahead_temporary), T(test_single_flight),
	    T(test_follower_timeout),        T(test_shared_between_judges),
	    T(test_count_and_invalid),       T(test_without_cache),
	    T(test_events_state_changes),    T(test_events_once_across_judges),
	    T(test_metrics_counted),         T(test_long_domain_hits_whole),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
