/*
 * test_pool - every input worked on once, results handed back in input
 * order whatever order the workers finish in, never more than "window"
 * results waiting, and no more threads at work than allowed.
 */

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "pool.h"
#include "util.h"

struct run {
	size_t n, window, next_done;
	atomic_int busy, most_busy;
	atomic_size_t worked, ahead;
	size_t most_ahead;
	int *calls;
};

/* work - note concurrency, sleep a little (later inputs less), echo i */
static void *
work(void *arg, size_t i)
{
	struct run *r = arg;
	int busy = atomic_fetch_add(&r->busy, 1) + 1;
	int most = atomic_load(&r->most_busy);
	struct timespec ts = {0, (long) ((r->n - i) % 7) * 200000L};
	size_t *out = xmalloc(sizeof(*out));

	while (busy > most &&
	       !atomic_compare_exchange_weak(&r->most_busy, &most, busy))
		;
	nanosleep(&ts, NULL);
	__atomic_add_fetch(&r->calls[i], 1, __ATOMIC_SEQ_CST);
	atomic_fetch_add(&r->worked, 1);
	atomic_fetch_sub(&r->busy, 1);
	*out = i;
	return out;
}

/* done - in order, and within the window of what was delivered */
static void
done(void *arg, size_t i, void *result)
{
	struct run *r = arg;
	size_t ahead = atomic_load(&r->worked) - (i + 1);

	assert_int_equal(i, r->next_done);
	assert_int_equal(*(size_t *) result, i);
	if (ahead > r->most_ahead)
		r->most_ahead = ahead;
	r->next_done++;
	free(result);
}

/* run_one - one pool run and its checks */
static void
run_one(size_t n, unsigned threads, size_t window)
{
	struct run r = {.n = n, .window = window};

	r.calls = xcalloc(n + 1, sizeof(*r.calls));
	pool_run(n, threads, window, work, done, &r);
	assert_int_equal(r.next_done, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(r.calls[i], 1);
	assert_true(atomic_load(&r.most_busy) <= (int) threads);
	/* results waiting at once: at most the window (itself >= threads) */
	assert_true(r.most_ahead <= (window < threads ? threads : window));
	free(r.calls);
}

/* test_runs - sizes around the thread count and the window */
static void
test_runs(void **state)
{
	(void) state;
	run_one(0, 4, 8);
	run_one(1, 4, 8);
	run_one(3, 8, 8);
	run_one(100, 1, 1);
	run_one(200, 4, 4);
	run_one(200, 8, 32);
	run_one(50, 4, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_runs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
