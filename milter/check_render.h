#ifndef RELAYGATE_CHECK_RENDER_H
#define RELAYGATE_CHECK_RENDER_H

/*
 * check_render - check reports (check_report.h) as text for a person or
 * as JSON for scripts, the two outputs of "relaygatectl check".
 *
 * MODEL
 *	Reports are written one domain at a time, as they are ready, so a
 *	long list of domains streams.  The text form is a block per domain
 *	(the domain and its state, then each record: status, name, expected,
 *	found, result, fix); the JSON form is one document whose schema,
 *	"relaygate-check/1", is documented in doc/relaygatectl-check.md:
 *	members are only ever added to it, never renamed or removed, and
 *	every member is always present (null where it does not apply).
 *	A tally of the domains written gives the summary and the exit
 *	status.
 *
 * OWNERSHIP
 *	struct check_render is the caller's; the FILE and the reports are
 *	borrowed.  Nothing is kept between calls but the tally and the JSON
 *	writer.
 *
 * CONCURRENCY
 *	One renderer per thread (the caller writes in domain order).
 *
 * ERRORS
 *	None; write errors are the FILE's.
 */

#include <stdio.h>

#include "check_report.h"
#include "json.h"

#define CHECK_RENDER_SCHEMA "relaygate-check/1"

struct check_render {
	FILE *out;
	int json;
	struct json *j;
	/* the tally */
	size_t domains, configured, misconfigured, temporary, invalid;
	int exit; /* the worst exit status so far */
};

/* check_render_begin - start the output (the JSON document) */
void check_render_begin(struct check_render *cr, FILE *out, int json);

/* check_render_domain - one domain's report */
void check_render_domain(struct check_render *cr, const struct check_report *r);

/*
 * check_render_invalid - a name that is not a domain (why says so):
 * counted as exit status 2.
 */
void check_render_invalid(struct check_render *cr, const char *name,
                          const char *why);

/* check_render_end - the summary; returns the exit status (0, 1 or 2) */
int check_render_end(struct check_render *cr);

#endif
