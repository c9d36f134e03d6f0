#ifndef RELAYGATE_CTL_METRICS_H
#define RELAYGATE_CTL_METRICS_H

/*
 * ctl_metrics - "relaygatectl metrics": Prometheus text for node_exporter's
 * textfile collector.
 *
 * MODEL
 *	metrics [-o FILE]
 *	    attaches read-only to the segment cache.name names and writes
 *	    metrics_prom_write()'s text to standard output, or to FILE:
 *	    written to a temporary file in FILE's directory and renamed over
 *	    it, so the collector never reads half a file (run it from cron
 *	    or a systemd timer into the collector's directory, as
 *	    relaygate.prom).
 *	Exit status: 0 written; 2 usage error, the segment cannot be opened
 *	or FILE cannot be written.
 *
 * OWNERSHIP
 *	cfg and argv are borrowed; argv holds the arguments after "metrics".
 *
 * CONCURRENCY
 *	Command-line use only (getopt_long()).  Safe while relaygate runs.
 *
 * ERRORS
 *	Problems go to standard error as "relaygatectl: ..."; nothing is
 *	logged.
 *
 * SEE ALSO
 *	metrics_prom.h, doc/relaygatectl-metrics.md.
 */

#include "config.h"

/* ctl_metrics - "metrics [-o FILE]" */
int ctl_metrics(const struct config *cfg, int argc, char **argv);

#endif
