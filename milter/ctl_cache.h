#ifndef RELAYGATE_CTL_CACHE_H
#define RELAYGATE_CTL_CACHE_H

/*
 * ctl_cache - "relaygatectl cache": the shared verdict table of a running
 * relaygate, for operators.
 *
 * MODEL
 *	The command attaches to the segment the configuration names
 *	(cache.name); it never creates one.  "list", "show" and "stats"
 *	attach read-only (CACHE_READONLY: they need only read access, as
 *	a member of cache.group, and leave no trace: no statistics, no
 *	CLOCK references); "flush" attaches writable and so needs write
 *	access (by default: root, who owns the segment).
 *	  list [--state STATE] [--sort domain|messages|checked]
 *	      one line per domain: state (configured, partial,
 *	      unconfigured, temporary; "-" for history without a verdict),
 *	      freshness, seconds to expiry, messages, first seen bad.
 *	      STATE may also be "none" (history only).
 *	  show DOMAIN
 *	      everything the table holds about one domain: the verdict's
 *	      SPF, DKIM and DMARC parts, times, claim, counters per action.
 *	  flush DOMAIN... | flush --all   [--forget]
 *	      drop verdicts so the next message re-checks now (the customer
 *	      fixed DNS); the grace period and counters stay unless
 *	      --forget.
 *	  stats
 *	      entries, capacity, memory, hit rate, lookups by outcome,
 *	      evictions, repairs, and entries by state.
 *	Exit status: 0 done; 1 a domain is not in the table (show, flush);
 *	2 usage error, or the segment cannot be opened (relaygate not
 *	running, no permission).
 *
 * OWNERSHIP
 *	cfg and argv are borrowed; argv holds the arguments after "cache".
 *
 * CONCURRENCY
 *	Command-line use only: single-threaded, uses getopt_long() (global
 *	state).  Safe while relaygate runs: the table is read lock-free and
 *	written under its own locks (cache.h).
 *
 * ERRORS
 *	Reports go to standard output, problems to standard error as
 *	"relaygatectl: ...".  Nothing is logged.
 *
 * SEE ALSO
 *	cache.h, judge.h, relaygatectl(8).
 */

#include "config.h"

/* ctl_cache - "relaygatectl cache list|show|flush|stats ..." */
int ctl_cache(const struct config *cfg, int argc, char **argv);

#endif
