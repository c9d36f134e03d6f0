#ifndef RELAYGATE_UTIL_H
#define RELAYGATE_UTIL_H

/*
 * util - memory allocation that cannot fail, bounded string copies and
 * clocks.
 *
 * MODEL
 *	Allocation failure is not a per-message condition the daemon can
 *	recover from, so the x* allocators never return NULL: they log and
 *	abort (panic).  Call sites therefore carry no NULL checks.
 *
 * OWNERSHIP
 *	Every returned pointer belongs to the caller and is released with
 *	free().  util_strlcpy() writes into the caller's buffer.
 *
 * CONCURRENCY
 *	All functions are thread-safe; none keeps state.
 *
 * ERRORS
 *	Allocation failure panics.  Nothing else fails.
 */

#include <stddef.h>
#include <stdint.h>

/* xmalloc - malloc() that panics instead of returning NULL */
void *xmalloc(size_t size);

/* xcalloc - zeroed array allocation; panics on overflow or failure */
void *xcalloc(size_t nmemb, size_t size);

/* xrealloc - realloc() that panics instead of returning NULL */
void *xrealloc(void *ptr, size_t size);

/* xstrdup - copy a string; xstrdup(NULL) returns NULL */
char *xstrdup(const char *s);

/* xstrndup - copy at most n bytes of s and terminate the copy */
char *xstrndup(const char *s, size_t n);

/* xasprintf - formatted string in fresh memory */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * util_strlcpy - copy src into dst of size dstsize, always terminated when
 * dstsize > 0.  Returns strlen(src), so a result >= dstsize means the copy
 * was truncated.
 */
size_t util_strlcpy(char *dst, const char *src, size_t dstsize);

/*
 * util_why - format a reason into a caller's why buffer (may be NULL or of
 * size 0, then nothing is written).  Returns -1 so that a failing function
 * can "return util_why(why, len, ...)".
 */
int util_why(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * util_catf - append formatted text to the terminated text in buf (size
 * bytes), cutting what does not fit; a full buffer is left alone.
 */
void util_catf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* util_lower - ASCII-lowercase s in place and return it */
char *util_lower(char *s);

/* util_monotonic_ms - CLOCK_MONOTONIC in milliseconds, for deadlines */
int64_t util_monotonic_ms(void);

/* util_realtime_s - wall clock in seconds since the epoch */
int64_t util_realtime_s(void);

#endif
