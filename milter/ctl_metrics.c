/*
 * ctl_metrics - "relaygatectl metrics": the shared segment's counters as
 * Prometheus text, to standard output or atomically into a file.
 */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "ctl_metrics.h"
#include "metrics_prom.h"
#include "util.h"

/* ctl_metrics_opts - parse the options; -1 on a usage error */
static int
ctl_metrics_opts(int argc, char **argv, const char **file)
{
	static const struct option longopts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+o:", longopts, NULL)) != -1) {
		if (c != 'o' || optarg[0] == '\0')
			return -1;
		*file = optarg;
	}
	return optind < argc ? -1 : 0;
}

/*
 * ctl_metrics_file - write the text to a temporary file next to path and
 * rename it over path; 0, or -1 with a reason on standard error.
 */
static int
ctl_metrics_file(struct cache *c, const char *path)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long) getpid());
	FILE *f = fopen(tmp, "w");
	int rc = -1;

	if (f == NULL) {
		fprintf(stderr, "relaygatectl: %s: %s\n", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	metrics_prom_write(c, f);
	if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0)
		fprintf(stderr, "relaygatectl: %s: %s\n", tmp, strerror(errno));
	else if (rename(tmp, path) != 0)
		fprintf(stderr, "relaygatectl: %s: %s\n", path,
		        strerror(errno));
	else
		rc = 0;
	fclose(f);
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

/* ctl_metrics - "metrics [-o FILE]" */
int
ctl_metrics(const struct config *cfg, int argc, char **argv)
{
	const char *file = NULL;
	struct cache *c;
	char why[512];
	int rc = 0;

	if (ctl_metrics_opts(argc + 1, argv - 1, &file) != 0) {
		fprintf(stderr, "usage: relaygatectl metrics [-o FILE]\n");
		return 2;
	}
	if ((c = cache_open(cfg->cache_name, 0, 0, (gid_t) -1, CACHE_READONLY,
	                    why, sizeof(why))) == NULL) {
		fprintf(stderr, "relaygatectl: %s\n", why);
		return 2;
	}
	if (file != NULL) {
		rc = ctl_metrics_file(c, file) == 0 ? 0 : 2;
	} else {
		metrics_prom_write(c, stdout);
		if (fflush(stdout) != 0)
			rc = 2;
	}
	cache_close(c);
	return rc;
}
