/*
 * test_cache - the shared-memory verdict table and its state file, with a
 * clock the test controls: expiry and the stale window, first_seen_bad
 * across re-checks, counters, flush, refresh claims, the caller's mark and
 * reminders, the metrics area, CLOCK eviction at
 * capacity, incompatible segments, read-only handles, per-record
 * validation, repair after a dead lock owner, and snapshots good and bad.
 * Segment names carry the pid and are unlinked even when a test fails.
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cache.h"
#include "snapshot.h"
#include "util.h"

#define T0 1700000000 /* the test clock starts here */

/* White-box layout facts (cache.c, layout version 4, x86-64). */
#define RAW_PAGES 24576 /* header, statistics, metrics */
#define RAW_PAGE 2048
#define RAW_BUCKET 64
#define RAW_SLOT 248
#define RAW_DOMAIN                                                             \
	96 /* seqsum word + offset of the domain; the payload                  \
	      follows it */

struct fixture {
	char name[64];
	char dir[64];
	char path[128];
	struct cache *c;
};

static char test_names[64][64];
static int test_nnames;

/* test_unlink_all - remove every segment this run created */
static void
test_unlink_all(void)
{
	for (int i = 0; i < test_nnames; i++)
		shm_unlink(test_names[i]);
}

/* test_name - a fresh segment name, remembered for clean-up */
static void
test_name(char *buf, size_t len)
{
	static int n;

	snprintf(buf, len, "/rg-test-cache-%d-%d", (int) getpid(), n++);
	if (test_nnames < 64)
		snprintf(test_names[test_nnames++], sizeof(test_names[0]), "%s",
		         buf);
}

/* test_open - open a fixture's segment or fail */
static struct cache *
test_open(const char *name, size_t capacity, unsigned flags)
{
	char why[256] = "";
	struct cache *c = cache_open(name, capacity, 0600, (gid_t) -1, flags,
	                             why, sizeof(why));

	if (c == NULL)
		fail_msg("cache_open %s: %s", name, why);
	return c;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	test_name(f->name, sizeof(f->name));
	snprintf(f->dir, sizeof(f->dir), "/tmp/rg-cache-test-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/state", f->dir);
	f->c = test_open(f->name, 64, 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	cache_close(f->c);
	shm_unlink(f->name);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* verdict - a verdict whose payload is the text "v<n>" */
static struct cache_verdict
verdict(char *buf, int n, enum cache_grade grade, int64_t ttl, int64_t stale)
{
	int len = snprintf(buf, 16, "v%d", n);

	return (struct cache_verdict){buf,   (size_t) len, (unsigned) n % 256,
	                              grade, ttl,          stale};
}

/* put - store verdict n for domain at now or fail */
static void
put(struct cache *c, const char *domain, int n, enum cache_grade grade,
    int64_t now)
{
	char buf[16];
	struct cache_verdict v = verdict(buf, n, grade, 100, 50);

	if (cache_put(c, domain, &v, now, NULL) != 0)
		fail_msg("cache_put %s: %s", domain, strerror(errno));
}

static void
test_open_persists(void **state)
{
	struct fixture *f = *state;
	struct cache_record r;
	struct cache *c;

	assert_int_equal(cache_origin(f->c), CACHE_CREATED);
	put(f->c, "example.com", 1, CACHE_GOOD, T0);
	cache_close(f->c);
	/* A restart: the same name and capacity find the same table. */
	f->c = c = test_open(f->name, 64, 0);
	assert_int_equal(cache_origin(c), CACHE_ATTACHED);
	assert_int_equal(cache_get(c, "example.com", T0 + 1, &r), CACHE_FRESH);
	assert_string_equal(r.domain, "example.com");
	assert_memory_equal(r.payload, "v1", 2);
}

static void
test_expiry_and_stale_window(void **state)
{
	static const struct {
		int64_t at;
		enum cache_status want;
	} cases[] = {
	    {T0, CACHE_FRESH},         {T0 + 99, CACHE_FRESH},
	    {T0 + 100, CACHE_STALE},   {T0 + 149, CACHE_STALE},
	    {T0 + 150, CACHE_EXPIRED}, {T0 + 100000, CACHE_EXPIRED},
	};
	struct fixture *f = *state;
	struct cache_record r;

	put(f->c, "example.com", 7, CACHE_GOOD, T0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum cache_status st =
		    cache_get(f->c, "example.com", cases[i].at, &r);

		if (st != cases[i].want)
			fail_msg("at T0+%lld: status %d, want %d",
			         (long long) (cases[i].at - T0), st,
			         cases[i].want);
	}
	assert_int_equal(r.checked_at, T0);
	assert_int_equal(r.expires_at, T0 + 100);
	assert_int_equal(r.stale_until, T0 + 150);
	assert_int_equal(r.state, 7);
	assert_true(r.has_verdict);
	assert_int_equal(r.payload_len, 2);
	assert_int_equal(r.checks, 1);
}

static void
test_expiry_clamp(void **state)
{
	static const int64_t cases[][4] = {
	    /* ttl, min, max, want */
	    {300, 60, 3600, 300}, {5, 60, 3600, 60},       {-1, 60, 3600, 60},
	    {0, 0, 3600, 0},      {86400, 60, 3600, 3600}, {60, 60, 60, 60},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(
		    cache_expiry(cases[i][0], cases[i][1], cases[i][2]),
		    cases[i][3]);
}

static void
test_miss_and_invalid(void **state)
{
	struct fixture *f = *state;
	char long_name[300], buf[16], big[CACHE_PAYLOAD_MAX + 1];
	struct cache_verdict v = verdict(buf, 1, CACHE_GOOD, 10, 0);
	struct cache_record r;

	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	strcpy(r.domain, "junk");
	assert_int_equal(cache_get(f->c, "absent.example", T0, &r), CACHE_MISS);
	assert_string_equal(r.domain, "");
	assert_int_equal(cache_get(f->c, "", T0, NULL), CACHE_MISS);
	assert_int_equal(cache_get(f->c, long_name, T0, NULL), CACHE_MISS);
	assert_int_equal(cache_put(f->c, long_name, &v, T0, NULL), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(cache_put(f->c, "", &v, T0, NULL), -1);
	v.payload = big;
	v.len = sizeof(big);
	assert_int_equal(cache_put(f->c, "example.com", &v, T0, NULL), -1);
	assert_int_equal(errno, EINVAL);
	v.len = CACHE_PAYLOAD_MAX;
	memset(big, 'x', sizeof(big));
	assert_int_equal(cache_put(f->c, "example.com", &v, T0, NULL), 0);
	assert_int_equal(cache_get(f->c, "example.com", T0, &r), CACHE_FRESH);
	assert_int_equal(r.payload_len, CACHE_PAYLOAD_MAX);
	assert_memory_equal(r.payload, big, CACHE_PAYLOAD_MAX);
	assert_int_equal(cache_count(f->c, "example.com", CACHE_COUNTERS, T0),
	                 -1);
}

static void
test_longest_domain(void **state)
{
	struct fixture *f = *state;
	char name[DOMAIN_SIZE];
	struct cache_record r;

	/* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 bytes */
	memset(name, 'a', DOMAIN_MAX);
	name[63] = name[127] = name[191] = '.';
	name[DOMAIN_MAX] = '\0';
	put(f->c, name, 3, CACHE_GOOD, T0);
	assert_int_equal(cache_get(f->c, name, T0, &r), CACHE_FRESH);
	assert_string_equal(r.domain, name);
	name[DOMAIN_MAX - 1] = 'b';
	assert_int_equal(cache_get(f->c, name, T0, NULL), CACHE_MISS);
}

static void
test_first_seen_bad(void **state)
{
	static const struct {
		enum cache_grade grade;
		int64_t at, want;
	} steps[] = {
	    {CACHE_BAD, T0, T0},             /* first bad check */
	    {CACHE_BAD, T0 + 500, T0},       /* re-check: grace keeps running */
	    {CACHE_TEMP, T0 + 600, T0},      /* DNS trouble decides nothing */
	    {CACHE_GOOD, T0 + 700, 0},       /* fixed */
	    {CACHE_TEMP, T0 + 800, 0},       /* still nothing */
	    {CACHE_BAD, T0 + 900, T0 + 900}, /* broken again: a new start */
	};
	struct fixture *f = *state;
	struct cache_record r, stored;
	char buf[16];

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct cache_verdict v =
		    verdict(buf, (int) i, steps[i].grade, 100, 50);

		assert_int_equal(
		    cache_put(f->c, "grace.example", &v, steps[i].at, &stored),
		    0);
		/* What cache_put() stored is what the next reader gets. */
		assert_int_equal(stored.first_seen_bad, steps[i].want);
		assert_int_equal(stored.checked_at, steps[i].at);
		assert_string_equal(stored.domain, "grace.example");
		assert_int_equal(
		    cache_get(f->c, "grace.example", steps[i].at, &r),
		    CACHE_FRESH);
		if (r.first_seen_bad != steps[i].want)
			fail_msg("step %zu: first_seen_bad %lld, want %lld", i,
			         (long long) r.first_seen_bad,
			         (long long) steps[i].want);
		assert_int_equal(r.checks, i + 1);
	}
}

static void
test_counters(void **state)
{
	struct fixture *f = *state;
	struct cache_record r, h;

	put(f->c, "count.example", 1, CACHE_GOOD, T0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(cache_count(f->c, "count.example", 0, T0 + i),
		                 0);
	assert_int_equal(cache_count(f->c, "count.example", 5, T0 + 10), 0);
	put(f->c, "count.example", 2, CACHE_GOOD, T0 + 20); /* re-check */
	assert_int_equal(cache_get(f->c, "count.example", T0 + 20, &r),
	                 CACHE_FRESH);
	assert_int_equal(r.counters[0], 3);
	assert_int_equal(r.counters[5], 1);
	assert_int_equal(r.counters[1], 0);
	assert_int_equal(r.last_seen, T0 + 10);
	/* Counting an uncached domain keeps the count, without a verdict. */
	assert_int_equal(cache_count(f->c, "new.example", 2, T0 + 30), 0);
	assert_int_equal(cache_get(f->c, "new.example", T0 + 30, &r),
	                 CACHE_MISS);
	assert_string_equal(r.domain, "new.example");
	assert_false(r.has_verdict);
	assert_int_equal(r.counters[2], 1);
	/* Counters saturate instead of wrapping. */
	memset(&h, 0, sizeof(h));
	strcpy(h.domain, "new.example");
	h.counters[2] = UINT32_MAX;
	assert_int_equal(cache_merge(f->c, &h), 0);
	assert_int_equal(cache_count(f->c, "new.example", 2, T0 + 31), 0);
	cache_get(f->c, "new.example", T0 + 31, &r);
	assert_int_equal(r.counters[2], UINT32_MAX);
}

static void
test_flush(void **state)
{
	struct fixture *f = *state;
	struct cache_record r;

	put(f->c, "flush.example", 1, CACHE_BAD, T0);
	assert_int_equal(cache_count(f->c, "flush.example", 1, T0), 0);
	assert_int_equal(cache_flush(f->c, "flush.example", 0), 1);
	/* The next message re-checks, but the grace period goes on. */
	assert_int_equal(cache_get(f->c, "flush.example", T0 + 1, &r),
	                 CACHE_MISS);
	assert_false(r.has_verdict);
	assert_int_equal(r.first_seen_bad, T0);
	assert_int_equal(r.counters[1], 1);
	put(f->c, "flush.example", 2, CACHE_BAD, T0 + 2);
	assert_int_equal(cache_get(f->c, "flush.example", T0 + 2, &r),
	                 CACHE_FRESH);
	assert_int_equal(r.first_seen_bad, T0);
	assert_int_equal(cache_flush(f->c, "absent.example", 0), 0);
	assert_int_equal(cache_flush(f->c, "flush.example", CACHE_FORGET), 1);
	assert_int_equal(cache_get(f->c, "flush.example", T0 + 3, &r),
	                 CACHE_MISS);
	assert_string_equal(r.domain, "");
}

static void
test_flush_all(void **state)
{
	struct fixture *f = *state;
	struct cache_stats st;
	struct cache_record r;
	char name[64];

	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "d%d.example", i);
		put(f->c, name, i, CACHE_BAD, T0);
	}
	assert_int_equal(cache_flush_all(f->c, 0), 20);
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "d%d.example", i);
		assert_int_equal(cache_get(f->c, name, T0, &r), CACHE_MISS);
		assert_int_equal(r.first_seen_bad, T0);
	}
	cache_stats(f->c, &st);
	assert_int_equal(st.entries, 20);
	assert_int_equal(cache_flush_all(f->c, CACHE_FORGET), 20);
	cache_stats(f->c, &st);
	assert_int_equal(st.entries, 0);
}

static void
test_refresh_claim(void **state)
{
	struct fixture *f = *state;
	struct cache_record r;

	assert_int_equal(cache_claim(f->c, "busy.example", T0, 30), -1);
	assert_int_equal(errno, ENOENT);
	put(f->c, "busy.example", 1, CACHE_GOOD, T0);
	assert_int_equal(cache_claim(f->c, "busy.example", T0 + 90, 30), 1);
	assert_int_equal(cache_claim(f->c, "busy.example", T0 + 91, 30), 0);
	cache_get(f->c, "busy.example", T0 + 91, &r);
	assert_int_equal(r.refresh_until, T0 + 120);
	/* A claimer that died blocks only until its claim runs out. */
	assert_int_equal(cache_claim(f->c, "busy.example", T0 + 120, 30), 1);
	/* Storing the refreshed verdict releases the claim. */
	put(f->c, "busy.example", 2, CACHE_GOOD, T0 + 125);
	assert_int_equal(cache_claim(f->c, "busy.example", T0 + 126, 30), 1);
	/* A flushed domain has nothing to refresh: that is a miss. */
	cache_flush(f->c, "busy.example", 0);
	assert_int_equal(cache_claim(f->c, "busy.example", T0 + 200, 30), -1);
}

/*
 * The caller's mark is compared and set under the record's lock: of two
 * handles (two processes) wanting the same change, one wins; verdicts,
 * counting and a flush keep it, --forget drops it.
 */
static void
test_mark(void **state)
{
	struct fixture *f = *state;
	struct cache *other = test_open(f->name, 0, CACHE_ATTACH);
	struct cache_record r;

	assert_int_equal(cache_mark(f->c, "m.example", 0, 3, T0, &r), -1);
	assert_int_equal(errno, ENOENT);
	put(f->c, "m.example", 1, CACHE_BAD, T0);
	assert_int_equal(cache_mark(f->c, "m.example", 0, 3, T0 + 1, &r), 1);
	assert_int_equal(r.mark, 0); /* as it was before */
	assert_int_equal(cache_mark(other, "m.example", 0, 3, T0 + 1, &r), 0);
	assert_int_equal(r.mark, 3); /* the winner's */
	put(f->c, "m.example", 2, CACHE_BAD, T0 + 2);
	assert_int_equal(cache_count(f->c, "m.example", 2, T0 + 2), 0);
	assert_int_equal(cache_flush(f->c, "m.example", 0), 1);
	cache_get(f->c, "m.example", T0 + 3, &r);
	assert_int_equal(r.mark, 3);
	assert_int_equal(r.reminded_at, T0 + 1);
	assert_int_equal(cache_mark(other, "m.example", 3, 2, T0 + 4, NULL), 1);
	cache_get(f->c, "m.example", T0 + 4, &r);
	assert_int_equal(r.mark, 2);
	assert_true(r.first_seen_bad == T0 && r.counters[2] == 1);
	/* Bad arguments */
	assert_int_equal(cache_mark(f->c, "m.example", 2, 2, T0, NULL), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(
	    cache_mark(f->c, "m.example", 2, CACHE_MARK_MAX + 1, T0, NULL), -1);
	assert_int_equal(cache_flush(f->c, "m.example", CACHE_FORGET), 1);
	assert_int_equal(cache_mark(f->c, "m.example", 2, 3, T0, NULL), -1);
	cache_close(other);
}

/* A reminder is claimed once per interval, and only for the same mark. */
static void
test_remind(void **state)
{
	struct fixture *f = *state;
	struct cache *other = test_open(f->name, 0, CACHE_ATTACH);
	struct cache_record r;

	put(f->c, "r.example", 1, CACHE_BAD, T0);
	assert_int_equal(cache_mark(f->c, "r.example", 0, 5, T0, NULL), 1);
	assert_int_equal(cache_remind(f->c, "r.example", 5, T0 + 99, 100, &r),
	                 0);
	assert_int_equal(cache_remind(f->c, "r.example", 5, T0 + 100, 100, &r),
	                 1);
	assert_int_equal(r.reminded_at, T0);
	assert_int_equal(
	    cache_remind(other, "r.example", 5, T0 + 100, 100, NULL), 0);
	assert_int_equal(
	    cache_remind(other, "r.example", 5, T0 + 199, 100, NULL), 0);
	assert_int_equal(
	    cache_remind(other, "r.example", 5, T0 + 200, 100, NULL), 1);
	/* Another mark: not this reminder's domain state any more. */
	assert_int_equal(
	    cache_remind(other, "r.example", 3, T0 + 900, 100, NULL), 0);
	assert_int_equal(cache_remind(f->c, "none.example", 5, T0, 0, NULL),
	                 -1);
	assert_int_equal(errno, ENOENT);
	cache_close(other);
}

/*
 * The metrics area: per-CPU counters summed over every handle of the
 * segment; a read-only handle and a bad index count nothing.
 */
static void
test_metrics_area(void **state)
{
	struct fixture *f = *state;
	struct cache *other = test_open(f->name, 0, CACHE_ATTACH);
	struct cache *ro = test_open(f->name, 0, CACHE_READONLY);
	uint64_t n[CACHE_METRICS];

	cache_metrics(ro, n);
	for (int i = 0; i < CACHE_METRICS; i++)
		assert_int_equal(n[i], 0);
	cache_metric_add(f->c, 0, 2);
	cache_metric_add(other, 0, 3);
	cache_metric_add(other, CACHE_METRICS - 1, 7);
	cache_metric_add(ro, 1, 1);
	cache_metric_add(f->c, CACHE_METRICS, 1);
	cache_metrics(ro, n);
	assert_int_equal(n[0], 5);
	assert_int_equal(n[1], 0);
	assert_int_equal(n[CACHE_METRICS - 1], 7);
	cache_close(ro);
	cache_close(other);
}

static void
test_stats(void **state)
{
	struct fixture *f = *state;
	struct cache_stats st;

	put(f->c, "s.example", 1, CACHE_GOOD, T0);
	cache_get(f->c, "s.example", T0, NULL);       /* hit */
	cache_get(f->c, "s.example", T0 + 120, NULL); /* stale */
	cache_get(f->c, "s.example", T0 + 999, NULL); /* expired */
	cache_get(f->c, "x.example", T0, NULL);       /* miss */
	cache_get(f->c, "x.example", T0, NULL);       /* miss */
	/* A peek finds the same, and counts nothing. */
	assert_int_equal(cache_peek(f->c, "s.example", T0, NULL), CACHE_FRESH);
	assert_int_equal(cache_peek(f->c, "x.example", T0, NULL), CACHE_MISS);
	cache_stats(f->c, &st);
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.stale, 1);
	assert_int_equal(st.expired, 1);
	assert_int_equal(st.misses, 2);
	assert_int_equal(st.inserts, 1);
	assert_int_equal(st.entries, 1);
	assert_int_equal(st.capacity, 64);
	assert_int_equal(st.entry_bytes, 256 + RAW_PAGES / 64);
	assert_true(st.created_at > 0);
}

/*
 * fill - put domains prefix0..prefix<n-1> at now, checking through the
 * read-only handle ro (which sets no CLOCK bits) that each lands, and
 * reading the hot domains after each.
 */
static void
fill(struct cache *c, struct cache *ro, const char *prefix, int n, int64_t now,
     const char *const *hot, int nhot)
{
	char name[64];

	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s%d.example", prefix, i);
		put(c, name, i, CACHE_GOOD, now);
		/* The table is full, yet the new record is always there. */
		assert_int_equal(cache_get(ro, name, now, NULL), CACHE_FRESH);
		for (int j = 0; j < nhot; j++)
			cache_get(c, hot[j], now, NULL);
	}
}

static void
test_eviction_at_capacity(void **state)
{
	struct fixture *f = *state;
	struct cache *ro = test_open(f->name, 0, CACHE_READONLY);
	struct cache_stats st;

	fill(f->c, ro, "e", 640, T0, NULL, 0);
	cache_close(ro);
	cache_stats(f->c, &st);
	assert_int_equal(st.inserts, 640);
	assert_true(st.entries <= st.capacity);
	assert_true(st.entries >= st.capacity * 3 / 4);
	assert_int_equal(st.evictions, st.inserts - st.entries);
}

/* survivors - how many of the hot domains are still cached */
static int
survivors(struct cache *c, const char *const *hot, int nhot)
{
	int n = 0;

	for (int i = 0; i < nhot; i++)
		n += cache_get(c, hot[i], T0, NULL) == CACHE_FRESH;
	return n;
}

static void
test_clock_keeps_recent(void **state)
{
	static const char *const hot[] = {"hot0.example", "hot1.example",
	                                  "hot2.example", "hot3.example"};
	struct fixture *f = *state;
	struct cache *ro = test_open(f->name, 0, CACHE_READONLY);

	for (int i = 0; i < 4; i++)
		put(f->c, hot[i], i, CACHE_GOOD, T0);
	/* Read between inserts, the hot domains are never the victim:
	 * at most 4 of a bucket's 8 ways are referenced. */
	fill(f->c, ro, "cold", 640, T0, hot, 4);
	assert_int_equal(survivors(ro, hot, 4), 4);
	/* The control: not read, they go the way of the others. */
	fill(f->c, ro, "more", 640, T0, NULL, 0);
	assert_int_equal(survivors(ro, hot, 4), 0);
	cache_close(ro);
}

/* long_name - domain "p<i>.aaa...": labels of 60, len bytes in all */
static void
long_name(char *buf, int i, size_t len)
{
	int n = snprintf(buf, DOMAIN_SIZE, "p%d", i);

	memset(buf + n, 'a', len - (size_t) n);
	for (size_t at = (size_t) n; at < len - 1; at += 61)
		buf[at] = '.';
	buf[len] = '\0';
}

/* big - a verdict of len payload bytes (n + i) */
static struct cache_verdict
big(unsigned char *buf, size_t len, int n)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char) (n + (int) i);
	return (struct cache_verdict){buf,        len, (unsigned) n % 256,
	                              CACHE_GOOD, 100, 50};
}

/* big_equal - is r's payload big()'s of len bytes and n? */
static int
big_equal(const struct cache_record *r, size_t len, int n)
{
	unsigned char want[CACHE_PAYLOAD_MAX];

	big(want, len, n);
	return r->payload_len == len && memcmp(r->payload, want, len) == 0;
}

/* big_visit - count records whose payload is not big()'s of their "p<n>" */
static int
big_visit(const struct cache_record *r, void *arg)
{
	long *bad = arg;
	int n = -1;

	if (sscanf(r->domain, "p%d.", &n) != 1)
		return 0;
	if (n == 9999)
		n = 7; /* test_pairs_at_capacity's kept domain, as last put */
	*bad += r->has_verdict && !big_equal(r, r->payload_len, n);
	return 0;
}

/* each_visit - visit without looking (cache_foreach() counts) */
static int
each_visit(const struct cache_record *r, void *arg)
{
	(void) r;
	(void) arg;
	return 0;
}

/*
 * test_pair_round_trip - a record too long for one way (the longest
 * domain, the largest payload) takes two: read back whole, shrunk to one
 * way and grown again, flushed to its history, counted once, visited
 * once, beside records of one way in the same small table.
 */
static void
test_pair_round_trip(void **state)
{
	struct fixture *f = *state;
	unsigned char buf[CACHE_PAYLOAD_MAX];
	char name[DOMAIN_SIZE], other[DOMAIN_SIZE];
	struct cache_verdict v;
	struct cache_record r;
	struct cache_stats st;

	long_name(name, 0, DOMAIN_MAX);
	long_name(other, 1, 100);
	v = big(buf, CACHE_PAYLOAD_MAX, 1);
	assert_int_equal(cache_put(f->c, name, &v, T0, NULL), 0);
	assert_int_equal(cache_put(f->c, other, &v, T0, NULL), 0);
	for (int i = 0; i < 8; i++) {
		char s[32];

		snprintf(s, sizeof(s), "s%d.example", i);
		put(f->c, s, i, CACHE_GOOD, T0);
	}
	assert_int_equal(cache_count(f->c, name, 2, T0), 0);
	assert_int_equal(cache_get(f->c, name, T0, &r), CACHE_FRESH);
	assert_string_equal(r.domain, name);
	assert_true(big_equal(&r, CACHE_PAYLOAD_MAX, 1));
	assert_int_equal(r.counters[2], 1);
	/* shrinks into one way, grows back into two */
	for (int n = 2; n < 6; n++) {
		size_t len = n % 2 ? CACHE_PAYLOAD_MAX : 2;

		v = big(buf, len, n);
		assert_int_equal(cache_put(f->c, name, &v, T0, NULL), 0);
		assert_int_equal(cache_get(f->c, name, T0, &r), CACHE_FRESH);
		assert_true(big_equal(&r, len, n));
		assert_int_equal(r.checks, n);
		assert_int_equal(r.counters[2], 1);
	}
	assert_int_equal(cache_get(f->c, other, T0, &r), CACHE_FRESH);
	assert_true(big_equal(&r, CACHE_PAYLOAD_MAX, 1));
	cache_stats(f->c, &st);
	assert_int_equal(st.entries, 10);
	assert_int_equal(st.doubles, 2);
	assert_int_equal(st.inserts, 10);
	assert_int_equal(cache_foreach(f->c, each_visit, NULL), 10);
	/* flushed: the verdict goes, the history stays */
	assert_int_equal(cache_flush(f->c, name, 0), 1);
	assert_int_equal(cache_get(f->c, name, T0, &r), CACHE_MISS);
	assert_int_equal(cache_peek(f->c, name, T0, &r), CACHE_MISS);
	assert_string_equal(r.domain, name);
	assert_int_equal(r.counters[2], 1);
	assert_int_equal(cache_flush(f->c, other, CACHE_FORGET), 1);
	cache_stats(f->c, &st);
	assert_int_equal(st.entries, 9);
	assert_int_equal(st.doubles, 1); /* 253 bytes of name need two */
	for (int i = 0; i < 8; i++) {
		char s[32];

		snprintf(s, sizeof(s), "s%d.example", i);
		assert_int_equal(cache_get(f->c, s, T0, &r), CACHE_FRESH);
		snprintf(s, sizeof(s), "v%d", i);
		assert_memory_equal(r.payload, s, strlen(s));
	}
}

/*
 * test_pairs_at_capacity - a full table of records of one and two ways:
 * every new record is there right after its write, a record kept in use
 * survives growing into two ways (in place or moved), and evictions,
 * inserts and entries agree.
 */
static void
test_pairs_at_capacity(void **state)
{
	struct fixture *f = *state;
	struct cache *ro = test_open(f->name, 0, CACHE_READONLY);
	unsigned char buf[CACHE_PAYLOAD_MAX];
	char name[DOMAIN_SIZE], kept[DOMAIN_SIZE];
	struct cache_verdict v;
	struct cache_record r;
	struct cache_stats st;
	long bad = 0;

	long_name(kept, 9999, 120);
	put(f->c, kept, 1, CACHE_GOOD, T0);
	for (int i = 0; i < 640; i++) {
		long_name(name, i, i % 3 ? 12 : 40 + (size_t) i % 200);
		v = big(buf, i % 3 ? 2 : CACHE_PAYLOAD_MAX - (size_t) i % 60,
		        i);
		assert_int_equal(cache_put(f->c, name, &v, T0, NULL), 0);
		assert_int_equal(cache_get(ro, name, T0, &r), CACHE_FRESH);
		assert_true(big_equal(&r, v.len, i));
		assert_int_equal(cache_get(f->c, kept, T0, NULL), CACHE_FRESH);
	}
	v = big(buf, CACHE_PAYLOAD_MAX, 7);
	assert_int_equal(cache_put(f->c, kept, &v, T0, NULL), 0);
	assert_int_equal(cache_get(ro, kept, T0, &r), CACHE_FRESH);
	assert_true(big_equal(&r, CACHE_PAYLOAD_MAX, 7));
	assert_int_equal(r.checks, 2);
	cache_close(ro);
	cache_stats(f->c, &st);
	assert_int_equal(st.inserts, 641);
	assert_true(st.entries <= st.capacity);
	assert_true(st.entries >= st.capacity / 2);
	assert_int_equal(st.evictions, st.inserts - st.entries);
	assert_int_equal(cache_foreach(f->c, big_visit, &bad), st.entries);
	assert_int_equal(bad, 0);
}

/* raw_map - map a segment directly, to play a broken writer */
static unsigned char *
raw_map(const char *name, size_t *len)
{
	int fd = shm_open(name, O_RDWR, 0);
	struct stat st;
	void *m;

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	*len = (size_t) st.st_size;
	m = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	assert_true(m != MAP_FAILED);
	return m;
}

/*
 * raw_slot - the offset of the slot holding a domain (unique in its first
 * 64 bytes, which lie in the first way even of a pair)
 */
static size_t
raw_slot(unsigned char *m, size_t len, const char *domain)
{
	size_t n = strlen(domain) < 64 ? strlen(domain) : 64;
	unsigned char *p = memmem(m + RAW_PAGES, len - RAW_PAGES, domain, n);
	size_t off;

	assert_non_null(p);
	off = (size_t) (p - m) - RAW_DOMAIN;
	assert_int_equal(((off - RAW_PAGES) % RAW_PAGE - RAW_BUCKET) % RAW_SLOT,
	                 0);
	return off;
}

static void
test_layout_mismatch_recreates(void **state)
{
	static const struct {
		size_t offset; /* into the header */
		const char *reason;
	} cases[] = {
	    {8, "layout version"}, /* version */
	    {16, "record size"},   /* slot_bytes */
	    {0, "no relaygate cache header"},
	};
	struct fixture *f = *state;
	char why[256];
	unsigned char *m;
	size_t len;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cache *old = f->c;

		put(old, "old.example", 1, CACHE_GOOD, T0);
		m = raw_map(f->name, &len);
		m[cases[i].offset] ^= 0x40;
		munmap(m, len);
		f->c = cache_open(f->name, 64, 0600, (gid_t) -1, 0, why,
		                  sizeof(why));
		assert_non_null(f->c);
		assert_int_equal(cache_origin(f->c), CACHE_RECREATED);
		if (strstr(why, cases[i].reason) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, why,
			         cases[i].reason);
		assert_int_equal(cache_get(f->c, "old.example", T0, NULL),
		                 CACHE_MISS);
		/* The process still holding the old one can tell. */
		assert_true(cache_retired(old));
		assert_false(cache_retired(f->c));
		cache_close(old);
	}
	/* A different capacity is incompatible too. */
	cache_close(f->c);
	f->c = cache_open(f->name, 128, 0600, (gid_t) -1, 0, why, sizeof(why));
	assert_non_null(f->c);
	assert_int_equal(cache_origin(f->c), CACHE_RECREATED);
	assert_non_null(strstr(why, "capacity 64, configured 128"));
}

static void
test_foreign_segment(void **state)
{
	struct fixture *f = *state;
	char name[64], why[256];
	struct cache *c;
	int fd;

	(void) f;
	test_name(name, sizeof(name));
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "not a cache", 11), 11);
	close(fd);
	c = cache_open(name, 0, 0, (gid_t) -1, CACHE_READONLY, why,
	               sizeof(why));
	assert_null(c);
	assert_non_null(strstr(why, "too small"));
	c = cache_open(name, 16, 0600, (gid_t) -1, 0, why, sizeof(why));
	assert_non_null(c);
	assert_int_equal(cache_origin(c), CACHE_RECREATED);
	assert_non_null(strstr(why, "too small"));
	cache_close(c);
	assert_int_equal(cache_destroy(name, why, sizeof(why)), 0);
	c = cache_open(name, 0, 0, (gid_t) -1, CACHE_ATTACH, why, sizeof(why));
	assert_null(c);
	assert_non_null(strstr(why, "No such file"));
}

static void
test_readonly(void **state)
{
	struct fixture *f = *state;
	struct cache_stats before, after;
	struct cache_record r, h;
	char buf[16];
	struct cache_verdict v = verdict(buf, 1, CACHE_GOOD, 100, 0);
	struct cache *ro;

	put(f->c, "ro.example", 1, CACHE_GOOD, T0);
	cache_stats(f->c, &before);
	ro = test_open(f->name, 0, CACHE_READONLY);
	assert_int_equal(cache_get(ro, "ro.example", T0, &r), CACHE_FRESH);
	assert_int_equal(cache_put(ro, "ro.example", &v, T0, NULL), -1);
	assert_int_equal(errno, EROFS);
	assert_int_equal(cache_count(ro, "ro.example", 0, T0), -1);
	assert_int_equal(cache_claim(ro, "ro.example", T0, 10), -1);
	assert_int_equal(cache_flush(ro, "ro.example", 0), -1);
	assert_int_equal(cache_flush_all(ro, 0), -1);
	memset(&h, 0, sizeof(h));
	strcpy(h.domain, "ro.example");
	assert_int_equal(cache_merge(ro, &h), -1);
	assert_int_equal(errno, EROFS);
	cache_stats(ro, &after);
	assert_int_equal(after.hits, before.hits); /* reads leave no trace */
	assert_int_equal(cache_get(f->c, "ro.example", T0, &r), CACHE_FRESH);
	assert_int_equal(r.counters[0], 0);
	cache_close(ro);
}

static void
test_mode_and_group(void **state)
{
	struct fixture *f = *state;
	char name[64], why[256];
	struct cache *c;
	struct stat st;
	int fd;

	(void) f;
	test_name(name, sizeof(name));
	c = cache_open(name, 16, 0640, getegid(), 0, why, sizeof(why));
	assert_non_null(c);
	fd = shm_open(name, O_RDONLY, 0);
	assert_int_equal(fstat(fd, &st), 0);
	close(fd);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_gid, getegid());
	cache_close(c);
	shm_unlink(name);
}

static void
test_corrupt_record_dropped(void **state)
{
	struct fixture *f = *state;
	struct cache_stats st;
	struct cache_record r;
	unsigned char *m;
	size_t len, off;

	put(f->c, "corrupt.example", 1, CACHE_GOOD, T0);
	m = raw_map(f->name, &len);
	off = raw_slot(m, len, "corrupt.example");
	m[off + RAW_DOMAIN + strlen("corrupt.example")] ^=
	    0x01; /* "v1": "w1" */
	assert_int_equal(cache_get(f->c, "corrupt.example", T0, &r),
	                 CACHE_MISS);
	cache_stats(f->c, &st);
	assert_int_equal(st.unreadable, 1);
	/* Writing the domain again replaces the bad record. */
	put(f->c, "corrupt.example", 2, CACHE_GOOD, T0);
	assert_int_equal(cache_get(f->c, "corrupt.example", T0, &r),
	                 CACHE_FRESH);
	assert_memory_equal(r.payload, "v2", 2);
	munmap(m, len);
}

/*
 * die_mid_write - a child process takes the lock of the bucket holding
 * the slot at off, makes the sequence numbers of its first nways slots
 * odd (mid-update), flips the byte at off + junk (half the new record)
 * and dies holding the lock.
 */
static void
die_mid_write(unsigned char *m, size_t off, unsigned nways, size_t junk)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		size_t page =
		    RAW_PAGES + (off - RAW_PAGES) / RAW_PAGE * RAW_PAGE;

		pthread_mutex_lock((pthread_mutex_t *) (m + page));
		for (unsigned i = 0; i < nways; i++)
			m[off + i * RAW_SLOT] |= 1;
		m[off + junk] ^= 0x55;
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
}

/*
 * test_dead_writer_repaired - a child takes the bucket lock, leaves the
 * record half-written (odd sequence) and dies: readers get a miss in
 * bounded time, the bucket is repaired, and writes work again.
 */
static void
test_dead_writer_repaired(void **state)
{
	struct fixture *f = *state;
	struct cache_stats st;
	struct cache_record r;
	unsigned char *m;
	size_t len, off;

	put(f->c, "dead.example", 1, CACHE_GOOD, T0);
	put(f->c, "alive.example", 2, CACHE_GOOD, T0);
	m = raw_map(f->name, &len);
	off = raw_slot(m, len, "dead.example");
	die_mid_write(m, off, 1, RAW_DOMAIN + strlen("dead.example"));
	assert_int_equal(cache_get(f->c, "dead.example", T0, &r), CACHE_MISS);
	assert_int_equal(cache_get(f->c, "alive.example", T0, &r), CACHE_FRESH);
	cache_stats(f->c, &st);
	assert_int_equal(st.repairs, 1);
	put(f->c, "dead.example", 3, CACHE_GOOD, T0);
	assert_int_equal(cache_get(f->c, "dead.example", T0, &r), CACHE_FRESH);
	assert_memory_equal(r.payload, "v3", 2);
	munmap(m, len);
}

/*
 * test_dead_pair_writer_repaired - the same with a record of two ways,
 * both sequence numbers left odd: a miss, one repair, the record's
 * neighbours intact, and the domain can be written again.
 */
static void
test_dead_pair_writer_repaired(void **state)
{
	struct fixture *f = *state;
	unsigned char buf[CACHE_PAYLOAD_MAX];
	char name[DOMAIN_SIZE];
	struct cache_verdict v = big(buf, CACHE_PAYLOAD_MAX, 1);
	struct cache_record r;
	struct cache_stats st;
	unsigned char *m;
	size_t len, off;

	long_name(name, 0, 200);
	assert_int_equal(cache_put(f->c, name, &v, T0, NULL), 0);
	put(f->c, "alive.example", 2, CACHE_GOOD, T0);
	m = raw_map(f->name, &len);
	off = raw_slot(m, len, name);
	/* the first of a pair is an even way */
	assert_int_equal(
	    ((off - RAW_PAGES) % RAW_PAGE - RAW_BUCKET) / RAW_SLOT % 2, 0);
	die_mid_write(m, off, 2, RAW_SLOT + 8); /* a word of the second way */
	assert_int_equal(cache_get(f->c, name, T0, &r), CACHE_MISS);
	assert_int_equal(cache_get(f->c, "alive.example", T0, &r), CACHE_FRESH);
	cache_stats(f->c, &st);
	assert_int_equal(st.repairs, 1);
	assert_int_equal(st.entries, 1);
	v = big(buf, CACHE_PAYLOAD_MAX, 3);
	assert_int_equal(cache_put(f->c, name, &v, T0, NULL), 0);
	assert_int_equal(cache_get(f->c, name, T0, &r), CACHE_FRESH);
	assert_true(big_equal(&r, CACHE_PAYLOAD_MAX, 3));
	munmap(m, len);
}

/*
 * Self-checking records for the concurrency tests: every field of a
 * record written by stamp_put() follows from its generation, so a reader
 * can tell a torn copy (fields of two writes) from a whole one.
 */
#define HOT 24    /* domains every process fights over */
#define CHURN 400 /* domains that force evictions */

/*
 * stamp_len - payload bytes of generation g: 8 to CACHE_PAYLOAD_MAX, so
 * that with the long names of odd k a record moves between one way and a
 * pair from one write to the next.
 */
static size_t
stamp_len(uint64_t g)
{
	return 8 + (size_t) (g % (CACHE_PAYLOAD_MAX - 7));
}

/* stamp_byte - payload byte i of generation g of domain k */
static unsigned char
stamp_byte(uint64_t g, int k, size_t i)
{
	return (unsigned char) (g * 31 + i * 7 + (unsigned) k);
}

/* stamp_put - write generation g of hot or churn domain k */
static int
stamp_put(struct cache *c, const char *domain, int k, uint64_t g)
{
	unsigned char p[CACHE_PAYLOAD_MAX];
	struct cache_verdict v = {
	    p,          stamp_len(g),         (unsigned) (g % 256),
	    CACHE_GOOD, (int64_t) (g % 1000), 5};

	memcpy(p, &g, sizeof(g));
	for (size_t i = sizeof(g); i < v.len; i++)
		p[i] = stamp_byte(g, k, i);
	return cache_put(c, domain, &v, T0 + (int64_t) (g % 100000), NULL);
}

/* stamp_check - is a copy of domain k whole?  0 if so */
static int
stamp_check(const struct cache_record *r, int k)
{
	uint64_t g;

	if (!r->has_verdict)
		return 0; /* flushed: history only */
	if (r->payload_len < sizeof(g))
		return 1;
	memcpy(&g, r->payload, sizeof(g));
	if (r->payload_len != stamp_len(g))
		return 1;
	for (size_t i = sizeof(g); i < r->payload_len; i++)
		if (r->payload[i] != stamp_byte(g, k, i))
			return 2;
	if (r->state != g % 256 ||
	    r->checked_at != T0 + (int64_t) (g % 100000) ||
	    r->expires_at != r->checked_at + (int64_t) (g % 1000) ||
	    r->stale_until != r->expires_at + 5)
		return 3;
	return 0;
}

/* stamp_domain - the name of hot (k < HOT) or churn domain k; odd k long */
static void
stamp_domain(char *buf, size_t len, int k)
{
	snprintf(buf, len, "%s%d.%sexample", k < HOT ? "hot" : "churn", k,
	         k % 2 ? "a-name-long-enough-to-need-two-ways-now-and-then."
	               : "");
}

/* stamp_index - k of a hammer domain, or -1 */
static int
stamp_index(const char *domain)
{
	char name[128];
	int k = -1;

	if (sscanf(domain, "hot%d.", &k) != 1 &&
	    sscanf(domain, "churn%d.", &k) != 1)
		return -1;
	if (k < 0 || k >= HOT + CHURN)
		return -1;
	stamp_domain(name, sizeof(name), k);
	return strcmp(name, domain) == 0 ? k : -1;
}

/*
 * hammer_write - a writer process: put, count, claim and flush random
 * domains until killed or n operations are done.  Returns failures.
 */
static int
hammer_write(const char *name, int id, long n)
{
	char why[256], domain[128];
	struct cache *c =
	    cache_open(name, 0, 0, (gid_t) -1, CACHE_ATTACH, why, sizeof(why));
	unsigned seed = (unsigned) getpid();
	int bad = 0;

	if (c == NULL)
		return 1;
	for (long i = 0; n < 0 || i < n; i++) {
		int op = rand_r(&seed) % 16;
		int k =
		    op < 3 ? HOT + rand_r(&seed) % CHURN : rand_r(&seed) % HOT;
		uint64_t g = ((uint64_t) id << 40) | (uint64_t) i;

		stamp_domain(domain, sizeof(domain), k);
		if (op == 15)
			bad += cache_flush(c, domain, 0) < 0;
		else if (op == 14)
			bad +=
			    cache_count(c, domain, (unsigned) i % 6, T0) != 0;
		else if (op == 13)
			bad += cache_claim(c, domain, T0, 1) < -1;
		else
			bad += stamp_put(c, domain, k, g) != 0;
	}
	cache_close(c);
	return bad;
}

/* hammer_verify - read every domain; returns torn copies seen */
static long
hammer_verify(struct cache *c, long *reads)
{
	struct cache_record *r = malloc(sizeof(*r));
	char domain[128];
	long torn = 0;

	for (int k = 0; k < HOT + CHURN; k++) {
		stamp_domain(domain, sizeof(domain), k);
		if (cache_get(c, domain, T0, r) == CACHE_MISS && !r->domain[0])
			continue;
		(*reads)++;
		torn +=
		    strcmp(r->domain, domain) != 0 || stamp_check(r, k) != 0;
	}
	free(r);
	return torn;
}

/* hammer_read - a reader process: verify until the deadline */
static int
hammer_read(const char *name, int64_t until_ms)
{
	char why[256];
	struct cache *c = cache_open(name, 0, 0, (gid_t) -1, CACHE_READONLY,
	                             why, sizeof(why));
	long torn = 0, reads = 0;

	if (c == NULL)
		return 1;
	while (util_monotonic_ms() < until_ms)
		torn += hammer_verify(c, &reads);
	cache_close(c);
	if (torn > 0)
		fprintf(stderr, "reader %d: %ld torn of %ld\n", (int) getpid(),
		        torn, reads);
	return torn > 0 ? 2 : reads == 0 ? 3 : 0;
}

/* spawn_writer - fork a writer process doing n operations (-1: forever) */
static pid_t
spawn_writer(const char *name, int id, long n)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(hammer_write(name, id, n));
	return pid;
}

/*
 * test_processes_hammer - writer and reader processes on the same
 * domains at once, with evictions: no reader ever sees a torn record,
 * and every writer's operation succeeds.
 */
static void
test_processes_hammer(void **state)
{
	struct fixture *f = *state;
	pid_t pid[6];
	int status;
	long reads = 0;

	for (int i = 0; i < 3; i++)
		pid[i] = spawn_writer(f->name, i + 1, 30000);
	for (int i = 3; i < 6; i++)
		if ((pid[i] = fork()) == 0)
			_exit(hammer_read(f->name, util_monotonic_ms() + 1500));
	for (int i = 0; i < 6; i++) {
		assert_true(pid[i] > 0);
		assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fail_msg("%s %d exited with status %#x",
			         i < 3 ? "writer" : "reader", i, status);
	}
	assert_int_equal(hammer_verify(f->c, &reads), 0);
	assert_true(reads > HOT / 2);
}

/* check_visit - count records not whole or not ours (cache_foreach) */
static int
check_visit(const struct cache_record *r, void *arg)
{
	long *bad = arg;
	int k = stamp_index(r->domain);

	*bad += k < 0 || stamp_check(r, k) != 0;
	return 0;
}

/*
 * test_crash_rounds - writers SIGKILLed at random points, round after
 * round: after each, nothing torn is readable (read-only, before any
 * repair), every domain can be written and read back, and at the end
 * the bucket counts agree with the records.
 */
static void
test_crash_rounds(void **state)
{
	struct fixture *f = *state;
	struct cache *ro = test_open(f->name, 0, CACHE_READONLY);
	struct cache_record r;
	struct cache_stats st;
	char domain[128];
	unsigned seed = (unsigned) getpid();
	long torn = 0, reads = 0, bad = 0;

	for (int round = 0; round < 40; round++) {
		pid_t pid[3];

		for (int i = 0; i < 3; i++)
			assert_true(
			    (pid[i] = spawn_writer(f->name, i + 1, -1)) > 0);
		usleep(1000 + (useconds_t) (rand_r(&seed) % 20000));
		for (int i = 0; i < 3; i++) {
			kill(pid[i], SIGKILL);
			waitpid(pid[i], NULL, 0);
		}
		torn += hammer_verify(ro, &reads);
		cache_foreach(ro, check_visit, &bad);
		for (int k = 0; k < HOT; k++) {
			stamp_domain(domain, sizeof(domain), k);
			assert_int_equal(stamp_put(f->c, domain, k, 7), 0);
			assert_int_equal(cache_get(f->c, domain, T0 + 7, &r),
			                 CACHE_FRESH);
			assert_int_equal(stamp_check(&r, k), 0);
		}
	}
	cache_close(ro);
	assert_int_equal(torn, 0);
	assert_int_equal(bad, 0);
	assert_true(reads > 0);
	/* Locking every bucket repairs whatever a dead writer left. */
	assert_true(cache_flush_all(f->c, CACHE_FORGET) >= HOT);
	cache_stats(f->c, &st);
	assert_int_equal(st.entries, 0);
	assert_int_equal(cache_foreach(f->c, check_visit, &bad), 0);
	/* Many kills land inside a locked update. */
	assert_true(st.repairs > 0);
}

/* history - a record with history only */
static struct cache_record
history(const char *domain, int64_t bad, int64_t seen, uint32_t n0)
{
	struct cache_record h;

	memset(&h, 0, sizeof(h));
	snprintf(h.domain, sizeof(h.domain), "%s", domain);
	h.first_seen_bad = bad;
	h.last_seen = seen;
	h.counters[0] = n0;
	h.counters[CACHE_COUNTERS - 1] = n0 * 2;
	h.state = 4;
	return h;
}

static void
test_snapshot_round_trip(void **state)
{
	struct fixture *f = *state;
	struct snapshot_info info;
	struct cache_record r;
	char why[256], name[64];

	for (int i = 0; i < 50; i++) {
		struct cache_record h =
		    history("", i % 2 ? T0 - i : 0, T0 + i, (uint32_t) i + 1);

		snprintf(h.domain, sizeof(h.domain), "snap%d.example", i);
		assert_int_equal(cache_merge(f->c, &h), 0);
	}
	put(f->c, "nohistory.example", 1, CACHE_GOOD, T0); /* not saved */
	if (snapshot_save(f->c, f->path, T0 + 100, &info, why, sizeof(why)))
		fail_msg("%s", why);
	assert_int_equal(info.records, 50);
	/* A reboot: the segment is gone. */
	cache_close(f->c);
	assert_int_equal(cache_destroy(f->name, why, sizeof(why)), 0);
	f->c = test_open(f->name, 64, 0);
	assert_int_equal(snapshot_load(f->c, f->path, &info, why, sizeof(why)),
	                 0);
	assert_int_equal(info.records, 50);
	assert_int_equal(info.saved_at, T0 + 100);
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "snap%d.example", i);
		assert_int_equal(cache_get(f->c, name, T0, &r), CACHE_MISS);
		assert_string_equal(r.domain, name);
		assert_int_equal(r.first_seen_bad, i % 2 ? T0 - i : 0);
		assert_int_equal(r.last_seen, T0 + i);
		assert_int_equal(r.counters[0], i + 1);
		assert_int_equal(r.counters[CACHE_COUNTERS - 1], 2 * (i + 1));
		assert_int_equal(r.state, 4);
	}
	assert_int_equal(cache_get(f->c, "nohistory.example", T0, &r),
	                 CACHE_MISS);
	assert_string_equal(r.domain, "");
	/* The grace period does not restart with the first re-check. */
	put(f->c, "snap1.example", 1, CACHE_BAD, T0 + 200);
	cache_get(f->c, "snap1.example", T0 + 200, &r);
	assert_int_equal(r.first_seen_bad, T0 - 1);
}

static void
test_snapshot_merge_rules(void **state)
{
	struct fixture *f = *state;
	struct cache_record h, r;

	/* The table is newer: a good verdict stands, counts take the max. */
	put(f->c, "good.example", 1, CACHE_GOOD, T0);
	cache_count(f->c, "good.example", 0, T0);
	h = history("good.example", T0 - 50, T0 - 10, 7);
	assert_int_equal(cache_merge(f->c, &h), 0);
	assert_int_equal(cache_get(f->c, "good.example", T0, &r), CACHE_FRESH);
	assert_int_equal(r.first_seen_bad, 0);
	assert_int_equal(r.counters[0], 7);
	assert_int_equal(r.last_seen, T0);
	assert_int_equal(r.state, 1);
	/* A bad verdict keeps the earlier start of its grace period. */
	put(f->c, "bad.example", 2, CACHE_BAD, T0);
	h = history("bad.example", T0 - 50, T0 - 10, 1);
	assert_int_equal(cache_merge(f->c, &h), 0);
	cache_get(f->c, "bad.example", T0, &r);
	assert_int_equal(r.first_seen_bad, T0 - 50);
	/* A mark is taken only where the table has none. */
	h.mark = 4;
	assert_int_equal(cache_merge(f->c, &h), 0);
	cache_get(f->c, "bad.example", T0, &r);
	assert_int_equal(r.mark, 4);
	h.mark = 6;
	assert_int_equal(cache_merge(f->c, &h), 0);
	cache_get(f->c, "bad.example", T0, &r);
	assert_int_equal(r.mark, 4);
	h.mark = CACHE_MARK_MAX + 1;
	assert_int_equal(cache_merge(f->c, &h), -1);
}

/* write_file - replace a file's contents */
static void
write_file(const char *path, const void *p, size_t n)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fwrite(p, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}

static void
test_snapshot_bad_files(void **state)
{
	static const char *const reasons[] = {
	    "checksum mismatch",          "truncated",
	    "not a relaygate state file", "state file version 2",
	    "checksum mismatch",          "truncated",
	};
	struct fixture *f = *state;
	struct cache_record h = history("saved.example", T0, T0, 1);
	struct snapshot_info info;
	struct cache_stats st;
	unsigned char good[4096], bad[4096];
	char why[256];
	size_t len;
	FILE *fp;

	assert_int_equal(cache_merge(f->c, &h), 0);
	assert_int_equal(
	    snapshot_save(f->c, f->path, T0, NULL, why, sizeof(why)), 0);
	fp = fopen(f->path, "r");
	len = fread(good, 1, sizeof(good), fp);
	fclose(fp);
	cache_flush_all(f->c, CACHE_FORGET);
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		size_t n = len;

		memcpy(bad, good, len);
		switch (i) {
		case 0:
			bad[30] ^= 0x20;
			break; /* a flipped bit */
		case 1:
			n = len - 5;
			break; /* cut short */
		case 2:
			memcpy(bad, "# text\n\n", 8);
			break; /* foreign */
		case 3:
			bad[8] = 2;
			break; /* newer format */
		case 4:
			bad[len - 9] ^= 1;
			break; /* checksum itself */
		case 5:
			n = 10;
			break; /* a stub */
		}
		write_file(f->path, bad, n);
		memset(why, 0, sizeof(why));
		assert_int_equal(
		    snapshot_load(f->c, f->path, &info, why, sizeof(why)), -1);
		if (strstr(why, reasons[i]) == NULL ||
		    strstr(why, f->path) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, why,
			         reasons[i]);
		cache_stats(f->c, &st);
		assert_int_equal(st.entries, 0); /* nothing merged */
	}
	unlink(f->path);
	assert_int_equal(snapshot_load(f->c, f->path, &info, why, sizeof(why)),
	                 0);
	assert_true(info.absent);
	write_file(f->path, good, len);
	assert_int_equal(snapshot_load(f->c, f->path, &info, why, sizeof(why)),
	                 0);
	assert_int_equal(info.records, 1);
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_open_persists),
	    T(test_expiry_and_stale_window),
	    T(test_expiry_clamp),
	    T(test_miss_and_invalid),
	    T(test_longest_domain),
	    T(test_first_seen_bad),
	    T(test_counters),
	    T(test_flush),
	    T(test_flush_all),
	    T(test_refresh_claim),
	    T(test_mark),
	    T(test_remind),
	    T(test_metrics_area),
	    T(test_stats),
	    T(test_eviction_at_capacity),
	    T(test_clock_keeps_recent),
	    T(test_pair_round_trip),
	    T(test_pairs_at_capacity),
	    T(test_layout_mismatch_recreates),
	    T(test_foreign_segment),
	    T(test_readonly),
	    T(test_mode_and_group),
	    T(test_corrupt_record_dropped),
	    T(test_dead_writer_repaired),
	    T(test_dead_pair_writer_repaired),
	    T(test_processes_hammer),
	    T(test_crash_rounds),
	    T(test_snapshot_round_trip),
	    T(test_snapshot_merge_rules),
	    T(test_snapshot_bad_files),
	};
#undef T

	atexit(test_unlink_all);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
