#ifndef RELAYGATE_SPF_CHECK_H
#define RELAYGATE_SPF_CHECK_H

/*
 * spf_check - does a customer domain's SPF authorize the relay's public
 * addresses, as receivers will evaluate it?
 *
 * MODEL
 *	For domain D, check_host() (RFC 7208 section 4) runs once per
 *	configured relay address with sender "postmaster@D".  libspf2 does
 *	the interpretation; everything it asks of the outside world goes
 *	through a DNS layer of ours on top of dns_query(), so libspf2's
 *	resolver and cache are never used, every query carries the
 *	evaluation's remaining deadline, and the layer repairs libspf2's
 *	gaps:
 *	- SPF records are fetched by our get_spf hook: the TXT answer is
 *	  selected (RFC 7208 4.5), and a record reaches libspf2's compiler
 *	  only after spf_record_parse() accepted it (CVE-2023-42118); a
 *	  refused record is a permerror whose reason is our grammar's, with
 *	  the domain that published it.  Non-SPF TXT never reaches libspf2.
 *	- Explanations (exp=) are fetched by our get_exp hook: exactly one
 *	  TXT record that spf_record_explain_check() accepts is compiled and
 *	  expanded; anything else is ignored (6.2), so libspf2's explanation
 *	  compiler, which a crafted TXT aborts, only sees checked text.
 *	- RFC 7208 4.6.4 over the whole evaluation: at most 10 DNS-querying
 *	  terms (include, a, mx, ptr, exists, redirect, nested ones included;
 *	  libspf2 counts per record) and at most 2 void lookups (a term's own
 *	  query answered NXDOMAIN or NODATA; the address lookups of MX and
 *	  PTR targets belong to their term and are not counted).  The query
 *	  that would exceed a limit is not sent, nor is any later one.
 *	- Results are mapped by us: libspf2's "invalid" becomes temperror
 *	  for a DNS failure and permerror for a broken record, and DNS
 *	  trouble is always temperror, never fail or none.
 *	- ptr: answers beyond 10 names are dropped (4.6.4: ignored), where
 *	  libspf2 would return permerror.
 *	The layer sees only names, so the evaluation it serves is found
 *	through a thread-local "current evaluation" (libspf2 is synchronous
 *	within its thread).
 *
 *	Results are ordered for the question "is the relay authorized for
 *	every address": pass < none < neutral < softfail < fail < permerror
 *	< temperror; a domain's overall result is the worst of its
 *	addresses.  temperror is worst because a retry may turn it into
 *	anything; permerror above fail because receivers treat a broken
 *	record as unusable for every sender.
 *
 *	Records reach libspf2 rewritten into what it compiles with the same
 *	meaning: version in lower case, modifiers after the mechanisms
 *	(libspf2 follows redirect= where it stands), unknown modifiers left
 *	out (ignored by 6; libspf2 refuses "moo.cow-far_out=..."), CIDR
 *	lengths of 0 as two /1 halves or exists:, "R" in macros as "r".
 *	Names longer than 253 bytes lose labels on the left (7.3), and
 *	explanations have each SP written "%_".
 *
 *	Deviations from RFC 7208, each named in the conformance driver's
 *	allow-list: mx/0, a//0 for an IPv6 client and the macro delimiters
 *	"," and "/" stay refused by libspf2 (permerror); names with bytes
 *	other than letters, digits, '-' and '_' are never asked (dns.h) and
 *	count as nonexistent; a DNS failure while validating ptr names is
 *	temperror where 5.5 would skip the name, because DNS trouble must not
 *	give a permanent verdict; the macro %{p} costs a term where no ptr
 *	mechanism is in play (the layer cannot tell their PTR queries
 *	apart).  A loopback client always passes in libspf2, so relay
 *	addresses in 127/8 or ::1 are refused as configuration.  The relay's
 *	HELO name is not configured, so %{h} expands to the domain.
 *
 * OWNERSHIP
 *	spf_check_open() returns a handle freed by spf_check_close(); it
 *	borrows the dns resolver, which must outlive it.  Results are
 *	written into caller structures and hold no pointers.  Configuration
 *	snapshots are borrowed for the call.
 *
 * CONCURRENCY
 *	spf_check_open() installs libspf2's process-global log handlers and
 *	creates the one SPF server; call it in the main thread before other
 *	threads start, and spf_check_close() after they stopped.  In between
 *	any number of threads may call spf_check_eval() and
 *	spf_check_domain() at once: per-evaluation state lives in a context
 *	of the call and in libspf2's per-request objects; the shared server
 *	is only read.  Counters are atomic.
 *
 * ERRORS
 *	Nothing is logged and nothing is printed: libspf2's warning, info and
 *	debug handlers are NULL, and its error handler (libspf2 abort()s
 *	after calling it) jumps back into the evaluation that hit it, which
 *	becomes temperror ("libspf2 internal error") and leaks what
 *	libspf2 had allocated for it; outside an evaluation it panics.  Bad
 *	input returns -1 with a reason; a verdict's reasons are enum codes
 *	plus text.
 *
 * SEE ALSO
 *	RFC 7208 sections 2.6 (results), 4 (check_host), 4.6.4 (limits),
 *	5 (mechanisms), 6.2 (exp), 7 (macros); dns.h; spf_record.h;
 *	notes/libraries.md section 1.
 */

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "dns.h"
#include "domain.h"
#include "spf_record.h"

/* Relay addresses one verdict covers; spf_check_validate() enforces it. */
#define SPF_CHECK_MAX_ADDRS 8

/* RFC 7208 4.6.4 */
#define SPF_CHECK_MAX_TERMS 10
#define SPF_CHECK_MAX_VOIDS 2

#define SPF_CHECK_WHY_SIZE 256
#define SPF_CHECK_ADDR_SIZE 46 /* INET6_ADDRSTRLEN */

/* RFC 7208 2.6 results, in the order "worst" uses: larger is worse. */
enum spf_check_result {
	SPF_CHECK_PASS,
	SPF_CHECK_NONE,
	SPF_CHECK_NEUTRAL,
	SPF_CHECK_SOFTFAIL,
	SPF_CHECK_FAIL,
	SPF_CHECK_PERMERROR,
	SPF_CHECK_TEMPERROR,
};

/* Why a result is what it is; the text in "why" gives the details. */
enum spf_check_reason {
	SPF_CHECK_R_MATCH,        /* a mechanism or "all" matched */
	SPF_CHECK_R_DEFAULT,      /* nothing matched: neutral (4.7) */
	SPF_CHECK_R_NO_RECORD,    /* none: no SPF record at the domain */
	SPF_CHECK_R_NO_DOMAIN,    /* none: the domain does not exist */
	SPF_CHECK_R_BAD_DOMAIN,   /* none: not a valid domain name (4.3) */
	SPF_CHECK_R_MULTIPLE,     /* permerror: two or more SPF records */
	SPF_CHECK_R_SYNTAX,       /* permerror: our grammar refused one */
	SPF_CHECK_R_UNSUPPORTED,  /* permerror: libspf2 refused a valid one */
	SPF_CHECK_R_TARGET_NONE,  /* permerror: include/redirect target has
	                             no SPF record */
	SPF_CHECK_R_LOOKUP_LIMIT, /* permerror: > 10 DNS-querying terms */
	SPF_CHECK_R_VOID_LIMIT,   /* permerror: > 2 void lookups */
	SPF_CHECK_R_MX_LIMIT,     /* permerror: mx with > 10 MX records */
	SPF_CHECK_R_LOOP,         /* permerror: include/redirect recursion */
	SPF_CHECK_R_PERMERROR,    /* permerror: other, libspf2's text */
	SPF_CHECK_R_DNS,          /* temperror: a DNS failure */
	SPF_CHECK_R_DEADLINE,     /* temperror: the deadline passed */
	SPF_CHECK_R_INTERNAL,     /* temperror: libspf2 internal error */
};

/* What the domain's own (top-level) SPF record is. */
enum spf_check_record {
	SPF_CHECK_REC_UNKNOWN,     /* not fetched (temperror, bad input) */
	SPF_CHECK_REC_ABSENT,      /* NXDOMAIN, NODATA or no v=spf1 TXT */
	SPF_CHECK_REC_PRESENT,     /* one record our grammar accepts */
	SPF_CHECK_REC_INVALID,     /* one record our grammar refuses */
	SPF_CHECK_REC_UNSUPPORTED, /* valid, but libspf2 cannot compile it */
	SPF_CHECK_REC_MULTIPLE,    /* more than one v=spf1 record */
};

/* One check_host() evaluation. */
struct spf_check_eval {
	enum spf_check_result result;
	enum spf_check_reason reason;
	char why[SPF_CHECK_WHY_SIZE]; /* "timeout after 3000 ms on x TXT" */
	char explanation[SPF_CHECK_WHY_SIZE]; /* fail only: the exp= text
	                                         (6.2); "" if none or ignored */
	int lookups;   /* DNS-querying terms, the refused one included */
	int voids;     /* void lookups */
	int queries;   /* questions sent to dns_query() */
	uint32_t ttl;  /* min TTL of the answers the result depends on */
	int ttl_known; /* 0: no answer was used (ttl is 0) */
	enum spf_check_record record_status;
	char record[SPF_RECORD_MAX_LEN + 1]; /* the top-level record text
	                                        (the first if several) */
};

/* One relay address's part of a domain's verdict. */
struct spf_check_addr {
	char address[SPF_CHECK_ADDR_SIZE];
	enum spf_check_result result;
	enum spf_check_reason reason;
	char why[SPF_CHECK_WHY_SIZE];
	int lookups;
	int voids;
};

/* The SPF side of a domain's verdict. */
struct spf_check_verdict {
	char domain[DOMAIN_SIZE];
	enum spf_check_result result; /* the worst over the addresses */
	enum spf_check_reason reason; /* of the first address with it */
	struct spf_check_addr addr[SPF_CHECK_MAX_ADDRS];
	size_t naddrs;
	enum spf_check_record record_status;
	char record[SPF_RECORD_MAX_LEN + 1];
	int has_include;      /* include:<relay.spf_include> at top level */
	int authorized_other; /* pass everywhere without that include */
	int lookups, voids;   /* the most any address needed */
	uint32_t ttl;         /* min over the addresses; 0 if !ttl_known */
	int ttl_known;
	char summary[SPF_CHECK_WHY_SIZE]; /* one line for a status header:
	                                     "spf=fail (include:x missing)" */
};

struct spf_check;

/*
 * spf_check_open - install libspf2's log handlers and create the shared
 * SPF server over our DNS layer on dns.  cfg is checked as by
 * spf_check_validate(); NULL with a reason if it fails.
 */
struct spf_check *spf_check_open(const struct config *cfg, struct dns *dns,
                                 char *why, size_t whylen);

/* spf_check_close - free the server and the layer; NULL is fine */
void spf_check_close(struct spf_check *sc);

/*
 * spf_check_validate - are cfg's relay addresses usable: 1 to
 * SPF_CHECK_MAX_ADDRS addresses, none loopback (libspf2 passes those
 * unconditionally) or unspecified?  For start-up and reload checks.
 */
int spf_check_validate(const struct config *cfg, char *why, size_t whylen);

/*
 * spf_check_eval - check_host() for client address ip (IPv4 or IPv6
 * text), sender mailfrom ("" or NULL: postmaster@helo, 2.4) and helo,
 * finishing by deadline_ms (CLOCK_MONOTONIC ms as util_monotonic_ms(); 0
 * for none).  Returns 0 with *out filled, or -1 if ip is not an address
 * to evaluate (why in out->why).
 */
int spf_check_eval(struct spf_check *sc, const char *ip, const char *mailfrom,
                   const char *helo, int64_t deadline_ms,
                   struct spf_check_eval *out);

/*
 * spf_check_domain - the verdict for domain: spf_check_eval() for each of
 * cfg's relay addresses in turn, all within deadline_ms, combined with
 * spf_check_combine().  An invalid domain is a verdict (none).  Returns 0,
 * or -1 if cfg fails spf_check_validate() (why in out->summary).
 */
int spf_check_domain(struct spf_check *sc, const struct config *cfg,
                     const char *domain, int64_t deadline_ms,
                     struct spf_check_verdict *out);

/*
 * spf_check_combine - build a verdict from one evaluation per address
 * (evals[i] for addrs[i], n <= SPF_CHECK_MAX_ADDRS), for callers that
 * evaluate the addresses concurrently.  include is relay.spf_include.
 */
void spf_check_combine(const char *domain, const char *include,
                       const char *const *addrs,
                       const struct spf_check_eval *evals, size_t n,
                       struct spf_check_verdict *out);

/* spf_check_result_name - "pass", "permerror", ... (RFC 7208 2.6) */
const char *spf_check_result_name(enum spf_check_result result);

/* spf_check_reason_name - "lookup-limit", "dns", ... for log lines */
const char *spf_check_reason_name(enum spf_check_reason reason);

struct spf_check_stats {
	unsigned long evaluations; /* spf_check_eval() calls */
	unsigned long aborts;      /* libspf2 internal errors recovered */
};

/* spf_check_stats - counters since spf_check_open() */
void spf_check_stats(const struct spf_check *sc, struct spf_check_stats *out);

#endif
