/*
 * stress_cache - the verdict table and the judge under threads, the way
 * milter sessions meet them: readers and writers of the same domains in
 * one segment, with evictions; and sessions judging a few busy domains
 * while their verdicts expire, are refreshed ahead in the background and
 * are flushed, their changes of standing announced once and messages
 * counted into the metrics.  Built against the ThreadSanitizer flavour of the
 * core: a data race, a lock-order problem or a use after free fails the test.
 * (Processes are test_cache's; TSan sees one process only.)
 */

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

#include "cache.h"
#include "config.h"
#include "judge.h"
#include "metrics.h"
#include "util.h"

#define T0 1700000000
#define THREADS 4
#define DOMAINS 120 /* in a table of 64: evictions */
#define ROUNDS 4000

static char stress_name[64];
static pthread_barrier_t stress_start;

/*
 * A writer's and reader's view of a record: payload = 1 + g % 16 copies
 * of g, so that with the long names of odd k a record moves between one
 * way of the table and a pair of them.
 */
struct stamp {
	uint64_t g[16];
};

/* stamp_len - payload bytes of generation g */
static size_t
stamp_len(uint64_t g)
{
	return 8 * (1 + (size_t) (g % 16));
}

/* stress_domain - the name of domain k; odd k have long names */
static void
stress_domain(char *buf, size_t len, int k)
{
	snprintf(buf, len, "d%d.%sexample", k,
	         k % 2 ? "a-long-label-so-that-the-record-needs-two-ways-"
	                 "of-the-table-when-its-payload-is-long-too."
	               : "");
}

/* stress_whole - is a copy consistent with the one put() that wrote it? */
static int
stress_whole(const struct cache_record *r)
{
	struct stamp s;

	if (!r->has_verdict)
		return 1;
	if (r->payload_len < 8)
		return 0;
	memcpy(&s.g[0], r->payload, 8);
	if (r->payload_len != stamp_len(s.g[0]))
		return 0;
	memcpy(&s, r->payload, r->payload_len);
	for (size_t i = 1; i < r->payload_len / 8; i++)
		if (s.g[i] != s.g[0])
			return 0;
	return r->state == s.g[0] % 256 &&
	       r->checked_at == T0 + (int64_t) s.g[0];
}

/* stress_table_thread - put, get, count and flush random domains */
static void *
stress_table_thread(void *arg)
{
	struct cache *c = arg;
	struct cache_record *r = malloc(sizeof(*r));
	unsigned seed = (unsigned) (uintptr_t) r;
	long bad = 0;
	char domain[128];

	pthread_barrier_wait(&stress_start);
	for (uint64_t i = 0; i < ROUNDS; i++) {
		int k = rand_r(&seed) % DOMAINS, op = rand_r(&seed) % 8;
		uint64_t g = (uint64_t) rand_r(&seed) % 100000;
		struct stamp s;
		struct cache_verdict v = {
		    &s,         stamp_len(g), (unsigned) (g % 256),
		    CACHE_GOOD, 100,          10};

		for (int j = 0; j < 16; j++)
			s.g[j] = g;
		stress_domain(domain, sizeof(domain), k);
		if (op < 3)
			bad += cache_put(c, domain, &v, T0 + (int64_t) g,
			                 NULL) != 0;
		else if (op == 3)
			bad += cache_count(c, domain, 0, T0) != 0;
		else if (op == 4)
			bad += cache_flush(c, domain, 0) < 0;
		else if (op == 5 && g % 2)
			bad += cache_mark(c, domain, (unsigned) g % 3,
			                  (unsigned) g % 3 + 1, T0, NULL) < -1;
		else if (op == 5)
			cache_metric_add(c, (unsigned) g % CACHE_METRICS, 1);
		else if (cache_get(c, domain, T0, r) != CACHE_MISS ||
		         r->domain[0])
			bad += !stress_whole(r);
	}
	free(r);
	return (void *) bad;
}

static void
test_table_threads(void **state)
{
	char why[256];
	struct cache *c =
	    cache_open(stress_name, 64, 0600, (gid_t) -1, 0, why, sizeof(why));
	pthread_t tid[THREADS];
	struct cache_stats st;

	(void) state;
	assert_non_null(c);
	pthread_barrier_init(&stress_start, NULL, THREADS);
	for (int i = 0; i < THREADS; i++)
		pthread_create(&tid[i], NULL, stress_table_thread, c);
	for (int i = 0; i < THREADS; i++) {
		void *bad;

		pthread_join(tid[i], &bad);
		assert_int_equal((long) bad, 0);
	}
	pthread_barrier_destroy(&stress_start);
	cache_stats(c, &st);
	assert_true(st.evictions > 0);
	assert_true(st.entries <= st.capacity);
	cache_close(c);
	cache_destroy(stress_name, why, sizeof(why));
}

/* The judge's side: a fake check, and its count; announcements. */
static int stress_checks;
static int stress_events;

/* stress_event - count an announcement (judge_set_events) */
static void
stress_event(const struct alert_event *e, void *arg)
{
	(void) arg;
	if (e->kind == ALERT_STATE && e->from == 0)
		__atomic_add_fetch(&stress_events, 1, __ATOMIC_RELAXED);
	else
		__atomic_add_fetch(&stress_events, 1000, __ATOMIC_RELAXED);
}

/* stress_check - answers configured with a short TTL, after a moment */
static int
stress_check(const struct config *cfg, const struct keys_key *const *keys,
             const char *domain, struct verdict *out, void *arg)
{
	(void) cfg;
	(void) keys;
	(void) domain;
	(void) arg;
	__atomic_add_fetch(&stress_checks, 1, __ATOMIC_RELAXED);
	memset(out, 0, sizeof(*out));
	out->version = VERDICT_VERSION;
	out->state = VERDICT_CONFIGURED;
	out->ttl = 20;
	usleep(500);
	return 0;
}

/* stress_acquire - background refreshes use the published config */
static int
stress_acquire(struct judge_env *env, void *arg)
{
	struct config *cfg = config_acquire();

	(void) arg;
	env->cfg = cfg;
	env->keys = NULL;
	env->pin = cfg;
	return cfg != NULL ? 0 : -1;
}

/* stress_release - give it back */
static void
stress_release(struct judge_env *env, void *arg)
{
	(void) arg;
	config_release(env->pin);
}

struct stress_judge {
	struct judge *j;
	struct cache *c;
	long bad;
};

/* stress_judge_thread - a session: judge, count, sometimes flush */
static void *
stress_judge_thread(void *arg)
{
	struct stress_judge *s = arg;
	struct config *cfg = config_acquire();
	unsigned seed = (unsigned) (uintptr_t) &seed;
	struct judge_result r;
	char domain[128];

	pthread_barrier_wait(&stress_start);
	for (int i = 0; i < 600; i++) {
		/* The clock runs 1 s per 10 lookups: 20 s verdicts expire,
		 * go stale and are refreshed ahead all the time. */
		int64_t now = T0 + i / 10;

		stress_domain(domain, sizeof(domain), rand_r(&seed) % 4);
		if (judge_domain(s->j, cfg, NULL, domain, now, &r) != 0 ||
		    r.verdict.state != VERDICT_CONFIGURED)
			s->bad++;
		judge_count(s->j, domain, 1, now);
		if (rand_r(&seed) % 50 == 0)
			cache_flush(s->c, domain, 0);
	}
	config_release(cfg);
	return NULL;
}

static void
test_judge_threads(void **state)
{
	char why[256];
	struct config *cfg =
	    config_load_string("cache: { ttl_min = 10; refresh_ahead = 8; };",
	                       "stress", why, sizeof(why));
	struct cache *c =
	    cache_open(stress_name, 64, 0600, (gid_t) -1, 0, why, sizeof(why));
	struct stress_judge s[THREADS];
	pthread_t tid[THREADS];
	struct metrics_values mv;
	struct metrics *m;
	struct judge *j;

	(void) state;
	assert_non_null(cfg);
	assert_non_null(c);
	config_publish(cfg);
	j = judge_open(NULL, NULL, c);
	judge_set_check(j, stress_check, NULL);
	judge_set_env(j, stress_acquire, stress_release, NULL);
	judge_set_events(j, stress_event, NULL);
	m = metrics_open(c);
	judge_set_metrics(j, m);
	pthread_barrier_init(&stress_start, NULL, THREADS);
	for (int i = 0; i < THREADS; i++) {
		s[i] = (struct stress_judge){j, c, 0};
		pthread_create(&tid[i], NULL, stress_judge_thread, &s[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(tid[i], NULL);
		assert_int_equal(s[i].bad, 0);
	}
	judge_close(j); /* waits for background refreshes */
	pthread_barrier_destroy(&stress_start);
	/* Far fewer checks than lookups: hits and shared checks. */
	assert_true(stress_checks > 4);
	assert_true(stress_checks < THREADS * 600 / 4);
	/* Each of the 4 domains first seen once; nothing else changed. */
	assert_int_equal(stress_events, 4);
	metrics_read(c, &mv);
	assert_int_equal(mv.messages[1], THREADS * 600);
	assert_int_equal(mv.checks[VERDICT_CONFIGURED], stress_checks);
	metrics_close(m);
	cache_close(c);
	cache_destroy(stress_name, why, sizeof(why));
	config_publish(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table_threads),
	    cmocka_unit_test(test_judge_threads),
	};
	int rc;

	snprintf(stress_name, sizeof(stress_name), "/rg-stress-cache-%d",
	         (int) getpid());
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	shm_unlink(stress_name);
	return rc;
}
