/*
 * ctl_report - "relaygatectl report": the misconfigured domains of the
 * running relaygate's cache.
 */

#include <getopt.h>
#include <stdio.h>

#include "cache.h"
#include "ctl_report.h"
#include "report.h"
#include "util.h"

/* ctl_report_opts - parse the options; -1 on a usage error */
static int
ctl_report_opts(int argc, char **argv, int *json)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		if (c != 'j')
			return -1;
		*json = 1;
	}
	return optind < argc ? -1 : 0;
}

/* ctl_report - "report [--json]" */
int
ctl_report(const struct config *cfg, int argc, char **argv)
{
	struct report *r;
	struct cache *c;
	char why[512];
	int json = 0;
	size_t n;

	if (ctl_report_opts(argc + 1, argv - 1, &json) != 0) {
		fprintf(stderr, "usage: relaygatectl report [--json]\n");
		return 2;
	}
	if ((c = cache_open(cfg->cache_name, 0, 0, (gid_t) -1, CACHE_READONLY,
	                    why, sizeof(why))) == NULL) {
		fprintf(stderr, "relaygatectl: %s\n", why);
		return 2;
	}
	r = report_collect(c, cfg, util_realtime_s());
	cache_close(c);
	if (json)
		report_json(r, stdout);
	else
		report_text(r, stdout);
	n = report_count(r);
	report_free(r);
	return n > 0 ? 1 : 0;
}
