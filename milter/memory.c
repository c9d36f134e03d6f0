/*
 * memory - the daemon's allocator settings and trimming (memory.h).
 */

#include <malloc.h>
#include <stdint.h>

#include "memory.h"
#include "util.h"

#define MEMORY_MMAP_THRESHOLD (64 * 1024) /* a session's read buffer */
#define MEMORY_TRIM_EVERY_MS 1000

static int64_t memory_trimmed_at; /* atomic; monotonic ms */

/* memory_setup - see memory.h */
void
memory_setup(void)
{
	(void) mallopt(M_MMAP_THRESHOLD, MEMORY_MMAP_THRESHOLD);
}

/*
 * memory_idle - see memory.h.  The thread that moves the time forward
 * trims; the others, and every call within a second of the last trim,
 * return at once.
 */
void
memory_idle(void)
{
	int64_t now = util_monotonic_ms();
	int64_t last = __atomic_load_n(&memory_trimmed_at, __ATOMIC_RELAXED);

	if (now - last < MEMORY_TRIM_EVERY_MS && last != 0)
		return;
	if (!__atomic_compare_exchange_n(&memory_trimmed_at, &last, now, 0,
	                                 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;
	(void) malloc_trim(0);
}
