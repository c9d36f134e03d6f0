#ifndef RELAYGATE_CTL_ROTATION_H
#define RELAYGATE_CTL_ROTATION_H

/*
 * ctl_rotation - "relaygatectl rotation-check": which domains would lose
 * their signature at the next key rotation.
 *
 * MODEL
 *	A rotation switches dkim.active_selector to the next selector in the
 *	order of dkim.selectors (selectors that are another's "also" do not
 *	rotate on their own).  A domain loses its signature then if it is
 *	signed now (a selector of ours is delegated) but has not delegated
 *	that next selector.  Without arguments the domains are those in the
 *	running relaygate's verdict cache, most messages first, judged on
 *	their cached verdicts; with DOMAIN arguments each is checked live
 *	through DNS (the milter's own check).  One line per domain at risk:
 *	the domain, its messages (cache only), every selector's state, and
 *	the CNAME it must add.  Exit status: 0 no domain at risk, 1 some,
 *	2 usage error, no cache, or a domain that could not be checked.
 *
 * OWNERSHIP
 *	cfg and argv are borrowed; argv holds the arguments after the
 *	command name.
 *
 * CONCURRENCY
 *	Command-line use only.  Reads the cache without locks (cache.h).
 *
 * ERRORS
 *	Problems go to standard error as "relaygatectl: ..."; nothing is
 *	logged.
 */

#include "config.h"

/* ctl_rotation - "rotation-check [DOMAIN...]" */
int ctl_rotation(const struct config *cfg, int argc, char **argv);

#endif
