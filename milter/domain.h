#ifndef RELAYGATE_DOMAIN_H
#define RELAYGATE_DOMAIN_H

/*
 * domain - DNS domain names in the one form relaygate stores and compares.
 *
 * MODEL
 *	A normalized domain is ASCII, lowercase, without a trailing dot, every
 *	label 1..63 bytes of letters, digits, hyphens and underscores (DKIM
 *	selectors and SPF includes use "_dkim-a", "_spf"), at most 253 bytes
 *	in all.  Internationalized names (U-labels, UTF-8) are converted to
 *	A-labels ("xn--...") with IDNA2008, so the same domain written either
 *	way is one cache key and one log value.  This module is the only user
 *	of libidn2.
 *
 * OWNERSHIP
 *	Results are written into caller buffers of DOMAIN_SIZE bytes.
 *
 * CONCURRENCY
 *	Pure functions; thread-safe.
 *
 * ERRORS
 *	Functions return 0 or -1 and fill "why"; they never log.
 *
 * SEE ALSO
 *	RFC 1035 section 2.3.4 (sizes), RFC 5890 (IDNA2008).
 */

#include <stddef.h>

#define DOMAIN_MAX 253
#define DOMAIN_SIZE (DOMAIN_MAX + 1)

/*
 * domain_normalize - validate "in" and write its normalized form to out
 * (size >= DOMAIN_SIZE).  One trailing dot is accepted and removed.
 */
int domain_normalize(const char *in, char *out, size_t outsize, char *why,
                     size_t whylen);

/* domain_check - is "in" a valid domain name?  Same rules, no output. */
int domain_check(const char *in, char *why, size_t whylen);

#endif
