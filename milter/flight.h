#ifndef RELAYGATE_FLIGHT_H
#define RELAYGATE_FLIGHT_H

/*
 * flight - single flight: concurrent requests for one key share one call.
 *
 * MODEL
 *	When several threads of a process need the result of the same
 *	expensive call (the DNS check of a domain that is not cached), the
 *	first becomes the leader and runs it; the others wait for the
 *	leader's result and get a copy of it, each bounded by its own
 *	deadline.  A flight ends when its leader returns: a caller arriving
 *	after that starts a new one, so the call should look at the cache
 *	again first (another process may have filled it).  Results are
 *	opaque blocks of the size given to flight_new().  This is within one
 *	process; across processes the cache's refresh claim (cache.h) keeps
 *	busy domains from being checked twice.
 *
 * OWNERSHIP
 *	flight_new() returns an object released with flight_free() (NULL is
 *	fine) once no call is in progress.  Keys are copied while a flight is
 *	in the air; results are copied into the caller's buffer.
 *
 * CONCURRENCY
 *	flight_do() and flight_waiting() are thread-safe; one mutex guards
 *	the list of flights in the air (a handful: one per domain being
 *	checked) and is never held while the call runs.  A follower waits on
 *	its flight's condition variable in slices of at most 100 ms, so a
 *	lost wake-up costs a slice, not the deadline.  The call must not ask
 *	for its own key (it would wait for itself until its deadline).
 *
 * ERRORS
 *	None: a follower whose deadline passes gets FLIGHT_TIMEOUT and an
 *	untouched buffer; what a failed call means is in its result.
 */

#include <stddef.h>
#include <stdint.h>

/* The shared call: fill result (result_size bytes) for key. */
typedef void (*flight_fn)(const char *key, void *result, void *arg);

enum flight_role {
	FLIGHT_LEADER,   /* this caller ran fn; result is its own */
	FLIGHT_FOLLOWER, /* another caller ran fn; result is a copy */
	FLIGHT_TIMEOUT,  /* the deadline passed first; result untouched */
};

struct flight;

/* flight_new - a single-flight group for results of result_size bytes */
struct flight *flight_new(size_t result_size);

/* flight_free - release a group with no flight in the air */
void flight_free(struct flight *f);

/*
 * flight_do - run fn(key, result, arg), or wait for the flight already in
 * the air for key until deadline_ms (util_monotonic_ms() time) and copy
 * its result.  The leader's own call is not bounded here: fn must bound
 * itself (the DNS deadline).
 */
enum flight_role flight_do(struct flight *f, const char *key,
                           int64_t deadline_ms, flight_fn fn, void *arg,
                           void *result);

/* flight_waiting - how many callers are waiting for a leader right now */
size_t flight_waiting(struct flight *f);

#endif
