#ifndef RELAYGATE_ORGDOMAIN_H
#define RELAYGATE_ORGDOMAIN_H

/*
 * orgdomain - the Organizational Domain of RFC 7489 section 3.2: the
 * registrable domain of a name by the Public Suffix List.
 *
 * MODEL
 *	The Organizational Domain of a name is its public suffix plus one
 *	label ("news.example.co.uk" -> "example.co.uk").  DMARC uses it twice:
 *	to find the policy of a subdomain (RFC 7489 section 6.6.3) and for
 *	relaxed alignment (section 3.1: two names align when their
 *	Organizational Domains are equal).  The whole list is used, ICANN and
 *	PRIVATE sections alike, with the list's implicit "*" rule, as
 *	receivers using the published list do: "a.blogspot.com" and
 *	"b.blogspot.com" are different organizations, and a name under a TLD
 *	the list does not know ("a.b.test") has the last two labels.
 *	Names are normalized first (domain.h: A-labels, lowercase, no final
 *	dot), so "news.bücher.example" and "NEWS.xn--bcher-kva.example." give
 *	the same answer, always in A-labels.  A name that is itself a public
 *	suffix ("co.uk", "blogspot.com", a single label such as "localhost")
 *	has no registrable domain; RFC 7489 leaves that case open, and here it
 *	is its own Organizational Domain, reported as such, so it aligns only
 *	with itself.
 *
 *	Which list: this module is the only user of libpsl.  Unless
 *	orgdomain_init() names a file, the newest list on the system is used:
 *	of libpsl's distribution file (psl_dist_filename(), on Debian
 *	/usr/share/publicsuffix/public_suffix_list.dafsa from the
 *	"publicsuffix" package, which stable updates refresh) and the file
 *	the built-in list was made from (psl_builtin_filename(), the .dat
 *	beside it), the one with the latest mtime that is newer than the
 *	built-in data and loads; otherwise the list compiled into libpsl
 *	(psl_builtin()).  This is psl_latest()'s rule, done here so that
 *	orgdomain_source() can say which list is in use.  The list is loaded
 *	once per process and never reloaded: a newer list takes a restart.
 *
 * OWNERSHIP
 *	Results are written into caller buffers of DOMAIN_SIZE bytes.
 *	orgdomain_source() returns a string that lives as long as the process.
 *	The loaded list is kept until exit (it is reachable, not leaked).
 *
 * CONCURRENCY
 *	orgdomain_init() runs once in the main thread before other threads
 *	use this module.  orgdomain_get() is thread-safe: if orgdomain_init()
 *	was not called, the first call loads the system's list under
 *	pthread_once(), and afterwards the list is only read.
 *
 * ERRORS
 *	orgdomain_init() returns -1 with a reason.  orgdomain_get() returns
 *	-1 for a name that is not a valid domain (callers validate names
 *	first) or when no list could be loaded.  Nothing is logged.
 *
 * SEE ALSO
 *	RFC 7489 sections 3.1 (alignment), 3.2 (Organizational Domain);
 *	https://publicsuffix.org/list/ (the algorithm); libpsl(3), psl(1).
 */

#include <stddef.h>

/*
 * orgdomain_init - load the Public Suffix List: the file "file" (PSL
 * text or DAFSA, as psl_load_file() reads), or with NULL the newest list
 * on the system (see above).  Returns 0, or -1 with a reason when a named
 * file does not load, no list is available at all, or a list is already
 * loaded from elsewhere (a second call with the same file is a no-op).
 */
int orgdomain_init(const char *file, char *why, size_t whylen);

/*
 * orgdomain_source - which list is in use, for logs and relaygatectl:
 * "/usr/share/publicsuffix/public_suffix_list.dafsa (2023-02-09)",
 * "built-in (2023-02-09)", or "none" before a list is loaded.
 */
const char *orgdomain_source(void);

/*
 * orgdomain_get - the Organizational Domain of "domain" into out (size >=
 * DOMAIN_SIZE, else panic), normalized.  Returns 0 when out is the
 * registrable domain (it may equal the normalized name), 1 when the name
 * is itself a public suffix or a single label and out is the name itself,
 * -1 (out empty) for an invalid name or when no list is loaded.
 */
int orgdomain_get(const char *domain, char *out, size_t size);

#endif
