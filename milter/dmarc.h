#ifndef RELAYGATE_DMARC_H
#define RELAYGATE_DMARC_H

/*
 * dmarc - the DMARC policy of a From domain as receivers find it, and
 * whether a message of ours will align at receivers.
 *
 * MODEL
 *	DMARC is optional for customers: its absence is information, never
 *	a failure.  dmarc_lookup() does the policy discovery of RFC 7489
 *	section 6.6.3: TXT at _dmarc.<From domain>; when that holds no DMARC
 *	record (NXDOMAIN, NODATA, only other TXT), TXT at _dmarc.<its
 *	Organizational Domain> (orgdomain.h), whose sp= then applies.  The
 *	outcome is one of four states:
 *	  NONE       no DMARC record at either name (records that are not
 *	             DMARC, "v=dmarc1" ..., are skipped as receivers do; a
 *	             near miss is explained in "why");
 *	  FOUND      one record, parsed (dmarc_record.h): the policy that
 *	             applies to the From domain (p=, or sp= when the record is
 *	             the Organizational Domain's), where it was found, its tags;
 *	  INVALID    two or more DMARC records at the name that answered
 *	             (receivers then apply no DMARC), or one that receivers do
 *	             not all apply as written: the reason is in "why";
 *	  TEMPERROR  a DNS failure on the way (timeout, SERVFAIL, ...): never
 *	             taken for NONE, which would be a permanent answer.
 *	A record at the From domain, even an invalid one, ends discovery: the
 *	Organizational Domain is asked only when the From domain has none.
 *	The RFC 9091 np= policy (non-existent subdomains) is parsed and
 *	reported but not applied: a customer's From domain exists.  PSD DMARC
 *	(a record at a public suffix) is not looked up.
 *
 *	dmarc_align() is pure: given our signing domain (d=, relaygate signs
 *	as d=<From domain>), the MAIL FROM domain and whether SPF passes for
 *	the relay, it says whether DKIM and SPF align with the From domain
 *	under adkim=/aspf= (relaxed: same Organizational Domain; strict:
 *	identical; relaxed when no record applies), and so whether receivers'
 *	DMARC evaluation will pass, with a short text for headers and logs.
 *	It assumes our signature verifies at receivers.
 *
 * OWNERSHIP
 *	Results are written into caller structs (struct dmarc_result is about
 *	1.6 KiB) holding copies; nothing is allocated that outlives a call.
 *	Names are borrowed for the call.
 *
 * CONCURRENCY
 *	Thread-safe: dmarc_lookup() blocks its caller in dns_query() (at most
 *	two queries, both bounded by the deadline); dmarc_align() is pure.
 *	Both use the Public Suffix List (orgdomain.h), loaded once.
 *
 * ERRORS
 *	DNS and record problems are states with a reason, not errors.
 *	dmarc_lookup() returns -1 only for a From domain that is not a valid
 *	domain name (callers validate first).  Nothing is logged.
 *
 * SEE ALSO
 *	RFC 7489 sections 3.1 (identifier alignment), 3.2 (Organizational
 *	Domain), 6.3 (tags), 6.6.2 (evaluation), 6.6.3 (policy discovery),
 *	6.6.4 (pct); RFC 7208 section 2.4 (the null reverse-path); RFC 9091.
 */

#include <stdint.h>

#include "dmarc_record.h"
#include "dns.h"
#include "domain.h"

enum dmarc_state {
	DMARC_NONE,      /* no DMARC record: a fact, not a failure */
	DMARC_FOUND,     /* a usable record: see policy */
	DMARC_INVALID,   /* unusable or ambiguous record(s): see why */
	DMARC_TEMPERROR, /* DNS failure: try again later */
};

struct dmarc_result {
	enum dmarc_state state;
	char from_domain[DOMAIN_SIZE]; /* normalized (A-labels) */
	char org_domain[DOMAIN_SIZE];  /* its Organizational Domain */
	char
	    record_domain[DOMAIN_SIZE]; /* FOUND, INVALID: the domain whose
	                                   _dmarc held the record(s), else "" */
	int at_org;                     /* record_domain is the Organizational
	                                   Domain and the From domain is below it */
	enum dmarc_policy policy; /* FOUND: p=, or sp= when at_org; else none */
	int nrecords;             /* DMARC records at record_domain */
	struct dmarc_record record; /* FOUND: the record; INVALID with one
	                               record: as far as it was read */
	uint32_t ttl;  /* min TTL of the answers used (negative TTLs
	                  included); 0 for TEMPERROR */
	char why[256]; /* INVALID, TEMPERROR: the reason; NONE, FOUND: a note
	                  (a near miss, a fallback, a bad rua=) or "" */
};

/*
 * dmarc_lookup - policy discovery for from_domain (any spelling; it is
 * normalized), every query bounded by deadline_ms (as dns_query()).  out
 * is fully written.  Returns 0, or -1 (state NONE, why) when from_domain
 * is not a valid domain name.
 */
int dmarc_lookup(struct dns *dns, const char *from_domain, int64_t deadline_ms,
                 struct dmarc_result *out);

/* dmarc_state_name - "none", "found", "invalid" or "temperror" */
const char *dmarc_state_name(enum dmarc_state state);

struct dmarc_alignment {
	int dkim_aligned;      /* our d= aligns with the From domain */
	int spf_aligned;       /* SPF passes and MAIL FROM aligns */
	int pass;              /* FOUND and one of them aligned: receivers'
	                          DMARC result is pass */
	enum dmarc_mode adkim; /* the modes used */
	enum dmarc_mode aspf;
	char text[256]; /* "dmarc=reject (aligned via dkim)", "dmarc=none (no
	                   record)", "dmarc=quarantine (not aligned: dkim
	                   d=other.nl, spf bounces.example.com)" */
};

/*
 * dmarc_align - alignment of one message at receivers.  dkim_d_domain is
 * the d= we sign with (NULL if we do not sign), spf_domain the MAIL FROM
 * domain (NULL for the null sender: SPF then checks the HELO name, which
 * never aligns), spf_passes whether SPF passes for the relay.  Names in
 * any spelling; one that is not a valid domain aligns with nothing.
 * res is dmarc_lookup()'s result for from_domain.  out is fully written.
 */
void dmarc_align(const char *from_domain, const char *dkim_d_domain,
                 const char *spf_domain, int spf_passes,
                 const struct dmarc_result *res, struct dmarc_alignment *out);

#endif
