/*
 * bench_cache - the hit path of the verdict cache: lookups per second
 * with 1 and 2 threads, for a hot set of domains and for random domains
 * of a full table, through cache_get() and through judge_domain() (what a
 * message pays); the bytes each entry costs; and whether a table of a
 * million domains works.  A benchmark, not a test: it prints numbers
 * (BENCHMARKS.md) and fails only if the table does not work.
 *
 *	bench_cache [-n CAPACITY] [-d DOMAINS] [-s SECONDS] [-H HOT]
 *
 * It creates its own segment (/rg-bench-cache-PID) and removes it.
 */

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "config.h"
#include "judge.h"
#include "util.h"
#include "verdict.h"

#define T0 1700000000

struct bench_opts {
	size_t capacity;
	size_t domains;
	size_t hot;
	double seconds;
};

/* What the threads of one run share. */
struct bench_run {
	struct cache *c;
	struct judge *j;
	const struct config *cfg;
	char (*names)[48];
	size_t n; /* look up names[0..n) at random */
	int64_t until_ms;
	pthread_barrier_t *start;
	uint64_t lookups; /* out */
	uint64_t found;   /* out */
	double cpu_s;     /* out: CPU time the thread used */
};

/* bench_check - the judge's check: never needed on the hit path */
static int
bench_check(const struct config *cfg, const struct keys_key *const *keys,
            const char *domain, struct verdict *out, void *arg)
{
	(void) cfg;
	(void) keys;
	(void) domain;
	(void) arg;
	memset(out, 0, sizeof(*out));
	out->version = VERDICT_VERSION;
	out->state = VERDICT_TEMPORARY;
	return 0;
}

/* bench_next - xorshift64 */
static inline uint64_t
bench_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* bench_cpu - this thread's CPU time in seconds */
static double
bench_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* bench_thread - random lookups until the deadline, checked in batches */
static void *
bench_thread(void *arg)
{
	struct bench_run *r = arg;
	struct cache_record rec;
	struct judge_result res;
	uint64_t seed = (uint64_t) (uintptr_t) &rec | 1, n = 0, found = 0;
	double cpu0;

	pthread_barrier_wait(r->start);
	cpu0 = bench_cpu();
	while (util_monotonic_ms() < r->until_ms) {
		for (int i = 0; i < 4096; i++, n++) {
			const char *d = r->names[bench_next(&seed) % r->n];

			if (r->j != NULL)
				found += judge_domain(r->j, r->cfg, NULL, d, T0,
				                      &res) == 0 &&
				         res.source == JUDGE_HIT;
			else
				found +=
				    cache_get(r->c, d, T0, &rec) == CACHE_FRESH;
		}
	}
	r->cpu_s = bench_cpu() - cpu0;
	r->lookups = n;
	r->found = found;
	return NULL;
}

/* What one run measured. */
struct bench_rate {
	double wall;  /* lookups per second of wall-clock time, all threads */
	double core;  /* lookups per second of CPU time: per core */
	double found; /* share of lookups that hit */
};

/* bench_lookups - run nthreads threads for a while */
static void
bench_lookups(struct bench_run *proto, int nthreads, double seconds,
              struct bench_rate *out)
{
	struct bench_run run[2];
	pthread_t tid[2];
	pthread_barrier_t start;
	uint64_t total = 0, found = 0;
	double cpu = 0;
	int64_t t0;

	pthread_barrier_init(&start, NULL, (unsigned) nthreads + 1);
	t0 = util_monotonic_ms();
	for (int i = 0; i < nthreads; i++) {
		run[i] = *proto;
		run[i].start = &start;
		run[i].until_ms = t0 + (int64_t) (seconds * 1000);
		pthread_create(&tid[i], NULL, bench_thread, &run[i]);
	}
	pthread_barrier_wait(&start);
	for (int i = 0; i < nthreads; i++) {
		pthread_join(tid[i], NULL);
		total += run[i].lookups;
		found += run[i].found;
		cpu += run[i].cpu_s;
	}
	pthread_barrier_destroy(&start);
	out->found = total ? (double) found / (double) total : 0;
	out->wall =
	    (double) total / ((double) (util_monotonic_ms() - t0) / 1000);
	out->core = cpu > 0 ? (double) total / cpu : 0;
}

/* bench_payload - a configured domain's verdict as judge stores it */
static struct cache_verdict
bench_payload(unsigned char *buf)
{
	struct verdict v;
	struct cache_verdict cv = {buf,        0,    VERDICT_CONFIGURED,
	                           CACHE_GOOD, 3600, 3600};

	memset(&v, 0, sizeof(v));
	v.version = VERDICT_VERSION;
	v.state = VERDICT_CONFIGURED;
	cv.len = verdict_encode(&v, buf);
	return cv;
}

/* bench_fill - put every domain; returns puts per second */
static double
bench_fill(struct cache *c, char (*names)[48], size_t n)
{
	unsigned char buf[VERDICT_ENCODED_MAX];
	struct cache_verdict cv = bench_payload(buf);
	int64_t t0 = util_monotonic_ms();

	for (size_t i = 0; i < n; i++)
		if (cache_put(c, names[i], &cv, T0, NULL) != 0) {
			perror("cache_put");
			exit(1);
		}
	return (double) n / ((double) (util_monotonic_ms() - t0 + 1) / 1000);
}

/* bench_present - how many of the domains the table still holds */
static size_t
bench_present(struct cache *c, char (*names)[48], size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += cache_peek(c, names[i], T0, NULL) == CACHE_FRESH;
	return k;
}

/* bench_report - one line per thread count */
static void
bench_report(const char *what, struct bench_run *proto, double seconds)
{
	for (int t = 1; t <= 2; t++) {
		struct bench_rate r;

		bench_lookups(proto, t, seconds, &r);
		printf("%-32s threads=%d  %6.2f M/s wall  %6.2f M/s per core "
		       "(%5.1f ns)  hits=%.1f%%\n",
		       what, t, r.wall / 1e6, r.core / 1e6, 1e9 / r.core,
		       100 * r.found);
	}
}

/* bench_opts - the command line */
static void
bench_opts(int argc, char **argv, struct bench_opts *o)
{
	int c;

	*o = (struct bench_opts){1000000, 1000000, 1000, 2.0};
	while ((c = getopt(argc, argv, "n:d:s:H:")) != -1) {
		if (c == 'n')
			o->capacity = strtoul(optarg, NULL, 10);
		else if (c == 'd')
			o->domains = strtoul(optarg, NULL, 10);
		else if (c == 's')
			o->seconds = strtod(optarg, NULL);
		else if (c == 'H')
			o->hot = strtoul(optarg, NULL, 10);
		else {
			fprintf(stderr, "usage: bench_cache [-n CAPACITY] "
			                "[-d DOMAINS] [-s SECONDS] [-H HOT]\n");
			exit(2);
		}
	}
	if (o->hot == 0 || o->hot > o->domains || o->domains == 0) {
		fprintf(stderr, "bench_cache: need 0 < HOT <= DOMAINS\n");
		exit(2);
	}
}

int
main(int argc, char **argv)
{
	struct bench_opts o;
	char name[64], why[256], (*names)[48];
	unsigned char buf[VERDICT_ENCODED_MAX];
	struct config *cfg = config_load_string("", "bench", why, sizeof(why));
	struct cache_stats st;
	struct bench_run proto;
	struct cache *c;
	double puts;
	size_t present;

	bench_opts(argc, argv, &o);
	snprintf(name, sizeof(name), "/rg-bench-cache-%d", (int) getpid());
	c = cache_open(name, o.capacity, 0600, (gid_t) -1, 0, why, sizeof(why));
	if (c == NULL || cfg == NULL) {
		fprintf(stderr, "bench_cache: %s\n", why);
		return 1;
	}
	names = xmalloc(o.domains * sizeof(*names));
	for (size_t i = 0; i < o.domains; i++)
		snprintf(names[i], sizeof(names[i]), "customer%zu.example.nl",
		         i);
	cache_stats(c, &st);
	printf("table: capacity %zu, segment %.1f MiB, %zu bytes per entry "
	       "(index and header included), verdict payload %zu bytes\n",
	       st.capacity, (double) st.segment_bytes / (1 << 20),
	       st.entry_bytes, bench_payload(buf).len);
	puts = bench_fill(c, names, o.domains);
	present = bench_present(c, names, o.domains);
	cache_stats(c, &st);
	printf("fill: %zu domains at %.2f M puts/s; %zu (%.1f%%) present, "
	       "%llu evicted, entries %zu\n",
	       o.domains, puts / 1e6, present, 100.0 * present / o.domains,
	       (unsigned long long) st.evictions, st.entries);
	/* The hot set goes in again: recently used, it must all be there. */
	bench_fill(c, names, o.hot);
	proto = (struct bench_run){.c = c, .cfg = cfg, .names = names};
	proto.n = o.hot;
	bench_report("cache_get, hot set", &proto, o.seconds);
	proto.n = o.domains;
	bench_report("cache_get, whole table (random)", &proto, o.seconds);
	proto.j = judge_open(NULL, NULL, c);
	judge_set_check(proto.j, bench_check, NULL);
	proto.n = o.hot;
	bench_report("judge_domain hit, hot set", &proto, o.seconds);
	judge_close(proto.j);
	cache_close(c);
	cache_destroy(name, why, sizeof(why));
	config_release(cfg);
	free(names);
	return present * 10 >= o.domains * 8 ? 0 : 1;
}
