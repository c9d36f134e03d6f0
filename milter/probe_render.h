#ifndef RELAYGATE_PROBE_RENDER_H
#define RELAYGATE_PROBE_RENDER_H

/*
 * probe_render - a probe's result (probe.h) as text for a person or as
 * JSON for scripts, the two outputs of "relaygatectl probe".
 *
 * MODEL
 *	The text is one block: the domain and the overall status, then one
 *	item per part (relay, dkim, spf, dmarc, and sent when the message was
 *	submitted), each with its status and detail lines, in the layout of
 *	"relaygatectl check".  The JSON is one document of the schema
 *	"relaygate-probe/1", documented in doc/relaygatectl-probe.md: members
 *	are only ever added, never renamed or removed, and every member is
 *	always present (null where it does not apply).
 *
 * OWNERSHIP
 *	Everything is borrowed for the call.
 *
 * CONCURRENCY
 *	No state; one FILE per thread.
 *
 * ERRORS
 *	None; write errors are the FILE's.
 */

#include <stdio.h>

#include "config.h"
#include "probe.h"

#define PROBE_RENDER_SCHEMA "relaygate-probe/1"

/* The submission of --send, as far as it went. */
struct probe_render_sent {
	const char *to;       /* the recipient */
	const char *sendmail; /* the program */
	int ok;               /* the program accepted the message */
	const char *why;      /* why not, "" if ok */
};

/*
 * probe_render - the result as text or JSON; sent NULL when the message
 * was not to be submitted; exit is the command's exit status.
 */
void probe_render(FILE *out, int json, const struct config *cfg,
                  const struct probe_result *r,
                  const struct probe_render_sent *sent, int exit_status);

#endif
