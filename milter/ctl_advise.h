#ifndef RELAYGATE_CTL_ADVISE_H
#define RELAYGATE_CTL_ADVISE_H

/*
 * ctl_advise - "relaygatectl advise": the message to a domain's DNS
 * administrator, from a live check of the domain.
 *
 * OWNERSHIP / CONCURRENCY / ERRORS
 *	A command function: the message goes to stdout, problems to stderr;
 *	it returns the exit status.
 */

#include "config.h"

/*
 * ctl_advise - "advise DOMAIN [--lang LANG] [--resolver ADDR@PORT]":
 * check the domain and fill in advise.templates/LANG.txt (default
 * advise.language).  Exit 0 with the message written; 2 if it cannot be
 * written now (the domain's SPF record could not be fetched, DNS
 * trouble), for a template that does not load or render, and on a usage
 * error.  argv[-1] is the command's name, as relaygatectl passes it.
 */
int ctl_advise(const struct config *cfg, int argc, char **argv);

#endif
