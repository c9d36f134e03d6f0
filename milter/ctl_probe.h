#ifndef RELAYGATE_CTL_PROBE_H
#define RELAYGATE_CTL_PROBE_H

/*
 * ctl_probe - relaygatectl "probe": the onboarding workflow's test
 * message without a mailbox (probe.h), optionally submitted through the
 * local MTA.
 *
 * OWNERSHIP / CONCURRENCY / ERRORS
 *	A command function: it prints the result to stdout and problems to
 *	stderr, and returns the exit status.
 */

#include "config.h"

/*
 * ctl_probe - "relaygatectl probe DOMAIN [--json] [--from ADDRESS]
 * [--send ADDRESS [--sendmail PATH]] [--save FILE] [--resolver
 * ADDR[@PORT]] [-v]" (doc/relaygatectl-probe.md).  Exit 0 when a
 * receiver would pass DKIM and SPF (and DMARC where the domain publishes
 * it), 1 when it would fail, 2 on temporary DNS trouble, a usage error,
 * or a message that could not be submitted.
 */
int ctl_probe(const struct config *cfg, int argc, char **argv);

#endif
