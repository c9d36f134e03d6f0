#ifndef RELAYGATE_POOL_H
#define RELAYGATE_POOL_H

/*
 * pool - one job per input on a bounded number of threads, the results
 * handed back in input order.
 *
 * MODEL
 *	pool_run() starts at most "threads" worker threads that take inputs
 *	0, 1, 2, ... in turn and call work() on each; the calling thread
 *	receives each result through done() in input order, as soon as it
 *	and every earlier one are ready, so output streams in a stable
 *	order while slow inputs (a DNS timeout) delay only their own line.
 *	Workers run at most "window" inputs ahead of the one the caller
 *	waits for, which bounds the results held at once however many
 *	inputs there are.  A thread that cannot be created is one worker
 *	fewer; with none at all the calling thread does the work itself.
 *
 * OWNERSHIP
 *	A result belongs to done(), which frees it.  arg is borrowed.
 *
 * CONCURRENCY
 *	work() runs concurrently in the workers and must be thread-safe;
 *	done() runs only in the calling thread, one call at a time.  The
 *	pool's state is guarded by one mutex.
 *
 * ERRORS
 *	None.
 */

#include <stddef.h>

typedef void *(*pool_work_fn)(void *arg, size_t i);
typedef void (*pool_done_fn)(void *arg, size_t i, void *result);

/*
 * pool_run - work(arg, i) for every i < n on at most threads threads
 * (at least 1), done(arg, i, result) in order of i in this thread; at
 * most window (raised to threads if smaller) results wait at once.
 * Returns when every done() has returned.
 */
void pool_run(size_t n, unsigned threads, size_t window, pool_work_fn work,
              pool_done_fn done, void *arg);

#endif
