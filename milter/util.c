/*
 * util - allocation that cannot fail, bounded copies, clocks.
 */

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "util.h"

/* xmalloc - allocate or die; malloc(0) is made to return a real block */
void *
xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		panic("out of memory allocating %zu bytes", size);
	return p;
}

/* xcalloc - zeroed allocation or die */
void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		panic("out of memory allocating %zu x %zu bytes", nmemb, size);
	return p;
}

/* xrealloc - resize or die */
void *
xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (p == NULL)
		panic("out of memory reallocating %zu bytes", size);
	return p;
}

/* xstrdup - copy a string or die */
char *
xstrdup(const char *s)
{
	return s == NULL ? NULL : xstrndup(s, strlen(s));
}

/* xstrndup - copy a prefix or die */
char *
xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* xasprintf - format into fresh memory or die */
char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0)
		panic("out of memory formatting a string");
	va_end(ap);
	return p;
}

/* util_strlcpy - bounded copy, BSD semantics */
size_t
util_strlcpy(char *dst, const char *src, size_t dstsize)
{
	size_t len = strlen(src);

	if (dstsize > 0) {
		size_t n = len < dstsize - 1 ? len : dstsize - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

/* util_why - fill a reason buffer; always returns -1 */
int
util_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -1;
}

/* util_catf - append to a bounded text */
void
util_catf(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strnlen(buf, size);
	va_list ap;

	if (len + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

/* util_lower - ASCII lowercase in place */
char *
util_lower(char *s)
{
	for (char *p = s; *p; p++)
		*p = (char) tolower((unsigned char) *p);
	return s;
}

/* util_monotonic_ms - milliseconds on the monotonic clock */
int64_t
util_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* util_realtime_s - seconds since the epoch */
int64_t
util_realtime_s(void)
{
	return (int64_t) time(NULL);
}
