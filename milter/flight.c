/*
 * flight - single flight of one call per key within a process.
 */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flight.h"
#include "log.h"
#include "util.h"

/* The longest a follower sleeps before looking again. */
#define FLIGHT_SLICE_MS 100

/* One call in the air, shared by its leader and followers. */
struct flight_call {
	struct flight_call *next;
	char *key;
	int done;
	unsigned refs; /* leader and waiting followers */
	pthread_cond_t cond;
	unsigned char result[];
};

struct flight {
	pthread_mutex_t lock; /* guards calls, every call, waiting */
	struct flight_call *calls;
	size_t result_size;
	size_t waiting;
};

/* flight_new - see flight.h */
struct flight *
flight_new(size_t result_size)
{
	struct flight *f = xcalloc(1, sizeof(*f));

	pthread_mutex_init(&f->lock, NULL);
	f->result_size = result_size;
	return f;
}

/* flight_free - see flight.h */
void
flight_free(struct flight *f)
{
	if (f == NULL)
		return;
	if (f->calls != NULL)
		panic("flight_free with a call in the air");
	pthread_mutex_destroy(&f->lock);
	free(f);
}

/* flight_call_new - a call in the air for key, held by its leader */
static struct flight_call *
flight_call_new(struct flight *f, const char *key)
{
	struct flight_call *call = xcalloc(1, sizeof(*call) + f->result_size);
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&call->cond, &attr);
	pthread_condattr_destroy(&attr);
	call->key = xstrdup(key);
	call->refs = 1;
	call->next = f->calls;
	f->calls = call;
	return call;
}

/* flight_call_release - drop one reference (lock held) */
static void
flight_call_release(struct flight_call *call)
{
	if (--call->refs > 0)
		return;
	pthread_cond_destroy(&call->cond);
	free(call->key);
	free(call);
}

/* flight_find - the call in the air for key, or NULL (lock held) */
static struct flight_call *
flight_find(const struct flight *f, const char *key)
{
	for (struct flight_call *call = f->calls; call; call = call->next)
		if (strcmp(call->key, key) == 0)
			return call;
	return NULL;
}

/* flight_land - publish the leader's result and end the flight (locked) */
static void
flight_land(struct flight *f, struct flight_call *call, const void *result)
{
	struct flight_call **pp = &f->calls;

	while (*pp != call)
		pp = &(*pp)->next;
	*pp = call->next;
	memcpy(call->result, result, f->result_size);
	call->done = 1;
	pthread_cond_broadcast(&call->cond);
	flight_call_release(call);
}

/* flight_wait - follow a flight until it lands or the deadline passes */
static enum flight_role
flight_wait(struct flight *f, struct flight_call *call, int64_t deadline_ms,
            void *result)
{
	enum flight_role role = FLIGHT_TIMEOUT;
	int64_t now;

	call->refs++;
	f->waiting++;
	while (!call->done && (now = util_monotonic_ms()) < deadline_ms) {
		int64_t until = deadline_ms - now > FLIGHT_SLICE_MS
		                    ? now + FLIGHT_SLICE_MS
		                    : deadline_ms;
		struct timespec ts = {(time_t) (until / 1000),
		                      (long) (until % 1000) * 1000000};

		pthread_cond_timedwait(&call->cond, &f->lock, &ts);
	}
	if (call->done) {
		memcpy(result, call->result, f->result_size);
		role = FLIGHT_FOLLOWER;
	}
	f->waiting--;
	flight_call_release(call);
	return role;
}

/* flight_do - see flight.h */
enum flight_role
flight_do(struct flight *f, const char *key, int64_t deadline_ms, flight_fn fn,
          void *arg, void *result)
{
	struct flight_call *call;
	enum flight_role role;

	pthread_mutex_lock(&f->lock);
	if ((call = flight_find(f, key)) != NULL) {
		role = flight_wait(f, call, deadline_ms, result);
		pthread_mutex_unlock(&f->lock);
		return role;
	}
	call = flight_call_new(f, key);
	pthread_mutex_unlock(&f->lock);
	fn(key, result, arg);
	pthread_mutex_lock(&f->lock);
	flight_land(f, call, result);
	pthread_mutex_unlock(&f->lock);
	return FLIGHT_LEADER;
}

/* flight_waiting - see flight.h */
size_t
flight_waiting(struct flight *f)
{
	size_t n;

	pthread_mutex_lock(&f->lock);
	n = f->waiting;
	pthread_mutex_unlock(&f->lock);
	return n;
}
