#ifndef RELAYGATE_CTL_REPORT_H
#define RELAYGATE_CTL_REPORT_H

/*
 * ctl_report - "relaygatectl report": the domains of the running
 * relaygate's cache that are not fully configured.
 *
 * MODEL
 *	report [--json]
 *	    attaches read-only to the segment cache.name names and prints
 *	    report.h's table (or JSON): each misconfigured domain with its
 *	    state, messages affected, since when, grace or enforced, and
 *	    why; most affected first.
 *	Exit status: 0 every domain in the cache is configured; 1 some are
 *	not (listed); 2 usage error, or the segment cannot be opened.
 *
 * OWNERSHIP
 *	cfg and argv are borrowed; argv holds the arguments after "report".
 *
 * CONCURRENCY
 *	Command-line use only (getopt_long()).  Safe while relaygate runs.
 *
 * ERRORS
 *	Problems go to standard error as "relaygatectl: ..."; nothing is
 *	logged.
 *
 * SEE ALSO
 *	report.h, doc/relaygatectl-report.md.
 */

#include "config.h"

/* ctl_report - "report [--json]" */
int ctl_report(const struct config *cfg, int argc, char **argv);

#endif
