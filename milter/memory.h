#ifndef RELAYGATE_MEMORY_H
#define RELAYGATE_MEMORY_H

/*
 * memory - how the daemon's process uses the C library's allocator.
 *
 * MODEL
 *	Two habits of glibc's malloc keep memory resident that relaygate no
 *	longer uses.  Each milter session reads into a buffer of 64-128 KiB;
 *	in glibc's default the first frees raise the threshold above which
 *	an allocation gets its own mapping, so later buffers come from the
 *	thread arenas, and the pages they touched stay there.  And the
 *	small allocations of many sessions at once spread over the arenas;
 *	when the sessions end, glibc gives back only the free tops of the
 *	arenas, not the free pages between live allocations.  memory_setup()
 *	fixes the threshold at 64 KiB, so a buffer is its own mapping, given
 *	back when freed; memory_idle() hands the arenas' free pages back
 *	(malloc_trim) when the last session has ended, at most once a second.
 *
 * CONCURRENCY
 *	memory_setup() before any thread starts; memory_idle() from any
 *	thread.
 *
 * ERRORS
 *	None: only memory is at stake.  Where the allocator is not glibc's
 *	(a sanitizer's), the calls change nothing.
 */

/* memory_setup - the allocator's settings, once, at start */
void memory_setup(void);

/* memory_idle - no session is left: give free pages back (rate-limited) */
void memory_idle(void);

#endif
