#ifndef RELAYGATE_METRICS_HTTP_H
#define RELAYGATE_METRICS_HTTP_H

/*
 * metrics_http - the daemon's optional HTTP listener for Prometheus:
 * GET /metrics, nothing else.
 *
 * MODEL
 *	One thread of its own serves one connection at a time: it accepts,
 *	reads the request head (at most METRICS_HTTP_REQUEST_MAX bytes,
 *	within METRICS_HTTP_TIMEOUT_MS for the whole exchange), answers
 *	"GET /metrics" (a query string is ignored; HEAD too) with the text
 *	of metrics_prom_write() and closes.  Anything else gets a short
 *	error (400, 404, 405, 431), a client that is too slow gets nothing.
 *	It only reads the shared segment, without locks, so a scrape never
 *	delays mail; a slow or hostile client delays only other scrapes,
 *	and by at most the timeout.
 *	The address is "IPV4:PORT" or "[IPV6]:PORT", numeric; the
 *	configuration (metrics.listen) refuses one that is not loopback
 *	unless metrics.allow_remote is set: the metrics name no domains, but
 *	there is no authentication.
 *
 * OWNERSHIP
 *	metrics_http_open() borrows the cache until metrics_http_close(),
 *	which stops the thread and closes the socket (NULL is fine).
 *
 * CONCURRENCY
 *	open, start and close run in the main thread.  The listener thread
 *	inherits the caller's signal mask (the daemon blocks every signal).
 *
 * ERRORS
 *	metrics_http_open() and metrics_http_start() return NULL or -1 with
 *	a reason (start-up: the caller makes them fatal).  Failures while
 *	serving (a client gone, a write error) end that connection only and
 *	are not logged.
 *
 * SEE ALSO
 *	RFC 9112 (HTTP/1.1), metrics_prom.h.
 */

#include <stddef.h>

#include "cache.h"

#define METRICS_HTTP_REQUEST_MAX 4096 /* bytes of request head */
#define METRICS_HTTP_TIMEOUT_MS 2000  /* per connection, all of it */

struct metrics_http;

/*
 * metrics_http_check - is spec a listen address ("" allowed: off)?  A
 * configuration validator: -1 with a reason, else 0.
 */
int metrics_http_check(const char *spec, char *why, size_t whylen);

/* metrics_http_loopback - is spec (valid) a loopback address? */
int metrics_http_loopback(const char *spec);

/*
 * metrics_http_open - bind and listen on spec (before privileges are
 * dropped, so that any port works); serving starts with
 * metrics_http_start().
 */
struct metrics_http *metrics_http_open(const char *spec, struct cache *c,
                                       char *why, size_t whylen);

/* metrics_http_start - start the listener thread */
int metrics_http_start(struct metrics_http *h, char *why, size_t whylen);

/* metrics_http_close - stop serving, close; NULL is fine */
void metrics_http_close(struct metrics_http *h);

#endif
