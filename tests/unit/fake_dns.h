#ifndef RELAYGATE_FAKE_DNS_H
#define RELAYGATE_FAKE_DNS_H

/*
 * fake_dns - every function of dns.h, answered from an in-memory table,
 * for unit tests, the RFC 7208 suite driver and fuzz harnesses.
 *
 * MODEL
 *	A test binary that links this file defines all of dns.h's symbols,
 *	so the linker never pulls the real dns.c out of the core library.
 *	Records are loaded from zone-file-like text, one per line:
 *
 *	    $TTL 300                     default TTL of later records
 *	    $NEGTTL 60                   TTL of NXDOMAIN/NODATA answers
 *	    $ORIGIN example.test         names without a final dot are
 *	                                 relative to it ("@" is the origin)
 *	    NAME [TTL] [IN] TYPE DATA    A, AAAA, TXT ("strings" with \" \\
 *	                                 \DDD, or one bare word), MX PREF
 *	                                 NAME, PTR NAME, CNAME NAME
 *	    NAME TEMPFAIL [TYPE]         SERVFAIL for the name (or one type)
 *	    NAME TIMEOUT [TYPE]          no answer: TEMPFAIL at the deadline
 *	    NAME DELAY MS [TYPE]         answer after MS ms (if in time)
 *
 *	";" starts a comment; a line starting with a blank continues the
 *	previous owner.  "*.NAME" matches any name below NAME that has no
 *	record of its own.  Answers follow CNAME chains (at most 8 links,
 *	TTL the minimum over the chain); a name with records of other types,
 *	or with names below it, is NODATA, any other NXDOMAIN.  The wait for
 *	TIMEOUT and DELAY is real (nanosleep), bounded by the earlier of the
 *	query's deadline and now + the fake resolver timeout (3000 ms unless
 *	fake_dns_set_timeout() says otherwise), like dns_query().  Every
 *	query is logged in order.
 *
 * OWNERSHIP
 *	The table and the log belong to this module; fake_dns_reset()
 *	empties both.  Answers are freed with dns_answer_free().
 *
 * CONCURRENCY
 *	Load records first; then any number of threads may query at once
 *	(a mutex guards the query log and the counters).  Loading, reset and
 *	the log readers are for one thread while no query runs.
 *
 * ERRORS
 *	Loaders return -1 with "LINE: problem" in why.  Nothing is logged.
 */

#include <stddef.h>
#include <stdint.h>

#include "dns.h"

/* fake_dns_reset - forget every record and the query log */
void fake_dns_reset(void);

/* fake_dns_load - add the records of zone text (see above) */
int fake_dns_load(const char *text, char *why, size_t whylen);

/*
 * fake_dns_load_zone - add a tests/world zone template: the origin is the
 * file name without directory and ".zone".
 */
int fake_dns_load_zone(const char *path, char *why, size_t whylen);

/* fake_dns_add - one record with raw RDATA (RFC 1035 wire form) */
void fake_dns_add(const char *name, int qtype, uint32_t ttl, const void *data,
                  size_t len);

/* fake_dns_add_txt - one TXT record of len bytes, cut into 255-byte strings */
void fake_dns_add_txt(const char *name, uint32_t ttl, const void *txt,
                      size_t len);

/* fake_dns_set_timeout - the fake resolver.timeout, in ms */
void fake_dns_set_timeout(int64_t ms);

/* A function fake_dns_set_hook() runs at the start of every query. */
typedef void (*fake_dns_hook_fn)(const char *name, int qtype);

/* fake_dns_set_hook - run hook first in every dns_query(); NULL: none */
void fake_dns_set_hook(fake_dns_hook_fn hook);

/* fake_dns_query_count - queries since the last reset */
size_t fake_dns_query_count(void);

/* fake_dns_queried - how often name (any case) was asked; qtype 0: any */
int fake_dns_queried(const char *name, int qtype);

/* fake_dns_query_name - the i-th query's name and type, NULL past the end */
const char *fake_dns_query_name(size_t i, int *qtype);

#endif
