#ifndef RELAYGATE_DNS_H
#define RELAYGATE_DNS_H

/*
 * dns - the only code in relaygate that talks DNS.
 *
 * MODEL
 *	One resolver per process: a libunbound context in threaded async
 *	mode, one pump thread that delivers answers, and a deadline on every
 *	query (libunbound has none: a dead forwarder costs 12-17 s per name).
 *	Questions go to the nameservers of the system's resolv.conf by
 *	default, or to configured forwarders ("127.0.0.1@5353"); libunbound's
 *	own default, full recursion from the root, is never used.  Names under
 *	RFC 6761 special-use domains such as .test are resolved through that
 *	resolver like any other name (libunbound would answer them itself).
 *	With a DNSSEC trust anchor every answer says secure, insecure or
 *	bogus; a bogus answer is a temporary failure.
 *
 *	An answer is classified once, here: OK (records of the asked type,
 *	possibly behind a CNAME chain), NXDOMAIN, NODATA (the name exists,
 *	no record of that type), or TEMPFAIL (timeout, SERVFAIL, REFUSED,
 *	bogus, any other failure) with the reason.  Callers never see
 *	libunbound's types.  Every query sent is counted, with its outcome
 *	and latency, into the metrics set with dns_set_metrics().
 *
 * OWNERSHIP
 *	dns_query() returns an answer the caller frees with
 *	dns_answer_free(); every pointer inside lives as long as the answer.
 *	Names are borrowed for the call.
 *
 * CONCURRENCY
 *	dns_query() is thread-safe and blocks only its caller, at most until
 *	its deadline; any number of threads may query at once (the pump
 *	thread multiplexes them).  dns_open() and dns_close() run once, in
 *	the main thread, before and after the queries.  Queries still
 *	waiting when dns_close() starts return at once (TEMPFAIL, "resolver
 *	closed"); none may start after it.
 *
 * ERRORS
 *	dns_open() returns NULL with a reason.  dns_query() always returns an
 *	answer: failures are a TEMPFAIL answer with a reason in "why".
 *	Nothing is logged here.
 *
 * SEE ALSO
 *	RFC 1035, RFC 2308 (negative TTL), RFC 6761, libunbound(3).
 */

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* RR types relaygate asks for (the numbers of RFC 1035 and successors). */
#define DNS_T_A 1
#define DNS_T_CNAME 5
#define DNS_T_PTR 12
#define DNS_T_MX 15
#define DNS_T_TXT 16
#define DNS_T_AAAA 28

enum dns_status {
	DNS_OK,       /* records of the asked type */
	DNS_NXDOMAIN, /* the name does not exist */
	DNS_NODATA,   /* the name exists, no record of this type */
	DNS_TEMPFAIL, /* no answer to rely on: see why */
};

enum dns_security {
	DNS_UNCHECKED, /* no trust anchor configured */
	DNS_INSECURE,  /* validated: not signed */
	DNS_SECURE,    /* validated: signed and correct */
	DNS_BOGUS,     /* validation failed (status is DNS_TEMPFAIL) */
};

/* One record's data, as on the wire (RFC 1035 RDATA, uncompressed). */
struct dns_rr {
	const unsigned char *data;
	size_t len;
};

struct dns_answer {
	enum dns_status status;
	enum dns_security security;
	int rcode;         /* the DNS RCODE, -1 if no response */
	char *qname;       /* the name asked, normalized, no trailing dot */
	int qtype;         /* the type asked */
	char *canonname;   /* the end of a CNAME chain, NULL if none */
	char **cnames;     /* the chain's names after qname, in order; a
	                      CNAME loop ends with the repeated name */
	size_t ncnames;    /* ncnames > 0 iff canonname != NULL */
	uint32_t ttl;      /* min TTL of what the answer depends on; for
	                      NXDOMAIN/NODATA the negative TTL (RFC 2308) */
	struct dns_rr *rr; /* the records of type qtype */
	size_t nrr;
	char why[160]; /* for DNS_TEMPFAIL: "timeout after 3000 ms", ... */
};

struct dns;

/*
 * dns_open - the resolver described by the resolver.* settings; starts
 * the pump thread.  Call after blocking signals (daemon.h) and before
 * dropping privileges if resolv.conf or the trust anchor need root.
 */
struct dns *dns_open(const struct config *cfg, char *why, size_t whylen);

/* dns_close - cancel outstanding queries, stop the pump; NULL is fine */
void dns_close(struct dns *dns);

/*
 * dns_query - ask name/type and wait for the answer, at most until the
 * earlier of deadline_ms (CLOCK_MONOTONIC milliseconds, as
 * util_monotonic_ms(); 0 for none) and now + resolver.timeout.  Never
 * NULL.  A name that is not a valid domain is a TEMPFAIL answer with the
 * reason: callers validate names first.
 */
struct dns_answer *dns_query(struct dns *dns, const char *name, int qtype,
                             int64_t deadline_ms);

/* dns_answer_free - free an answer; NULL is fine */
void dns_answer_free(struct dns_answer *answer);

/*
 * dns_rr_txt - the character-strings of a TXT record joined without
 * separators (RFC 7208 section 3.3, RFC 6376 section 3.6.2.2) into buf.
 * Returns the length, or -1 if the record is malformed or does not fit;
 * buf is always terminated.  A NUL inside the text makes it malformed.
 */
long dns_rr_txt(const struct dns_rr *rr, char *buf, size_t size);

/*
 * dns_rr_name - the domain name in a CNAME, PTR or (after the preference)
 * MX record, as lowercase text without trailing dot, into buf
 * (DOMAIN_SIZE).  The root, as in a null MX (RFC 7505), is "".  A '.' or
 * '\' inside a label and bytes outside printable ASCII are escaped as in
 * zone files ("\.", "\032").  Returns 0, or -1 if malformed or too long.
 */
int dns_rr_name(const struct dns_rr *rr, int qtype, char *buf, size_t size);

struct dns_stats {
	unsigned long queries;   /* dns_query() calls */
	unsigned long timeouts;  /* answers that hit their deadline */
	unsigned long tempfails; /* all TEMPFAIL answers, timeouts included */
};

/* dns_stats - counters since dns_open(), for logs and benchmarks */
void dns_stats(const struct dns *dns, struct dns_stats *out);

struct metrics;

/*
 * dns_set_metrics - count each query sent (outcome, latency, timeout)
 * into m (metrics.h; NULL: nowhere); m is borrowed until dns_close().
 * Call before queries run concurrently.
 */
void dns_set_metrics(struct dns *dns, struct metrics *m);

#endif
