#ifndef RELAYGATE_CTL_CHECK_H
#define RELAYGATE_CTL_CHECK_H

/*
 * ctl_check - relaygatectl commands that check domains through live DNS,
 * with the milter's own check code (check.h).
 *
 * OWNERSHIP / CONCURRENCY / ERRORS
 *	Command functions: they print to stdout (results) and stderr
 *	(problems) and return the exit status.
 */

#include "config.h"

/*
 * ctl_spf - "relaygatectl spf DOMAIN...": does each domain's SPF authorize
 * the relay?  Exit 0 if it does for every domain, 1 if not for some, 2 on
 * a temporary failure or a usage error.
 */
int ctl_spf(const struct config *cfg, int argc, char **argv);

/*
 * ctl_check - "relaygatectl check [--json] [--resolver ADDR@PORT]
 * [-j N] [-f FILE] DOMAIN...": every record of each domain, expected
 * against found, with fixes (doc/relaygatectl-check.md).  Domains are
 * checked concurrently on at most N threads and reported in the order
 * given.  Exit 0 if every domain is configured, 2 if some is temporarily
 * unknown or not a domain name (or on a usage error), else 1.
 */
int ctl_check(const struct config *cfg, int argc, char **argv);

#endif
