/*
 * ctl_check - relaygatectl commands that check domains through live DNS.
 *
 * "check" runs check_domain() for each domain on a bounded pool of
 * threads, turns each result into a report (check_report.h) and writes
 * it (check_render.h) in the order the domains were given.  It always
 * asks DNS, never the cache; each fresh verdict is then stored in the
 * running relaygate's verdict cache (judge_put()), so that the milter
 * benefits from the check (the consultant checked right after the
 * customer fixed DNS), unless --no-store, or relaygatectl may not write
 * the segment (it is not running as root or relaygate's user).
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "check_render.h"
#include "check_report.h"
#include "ctl_check.h"
#include "ctl_env.h"
#include "judge.h"
#include "pool.h"
#include "util.h"

#define CTL_CHECK_JOBS 8      /* default -j */
#define CTL_CHECK_MAX_JOBS 64 /* most -j */

/* Options of "check". */
struct ctl_check_opts {
	int json;
	const char *resolver;
	const char *file;
	unsigned jobs;
	char **domains; /* from the arguments and the file, copies */
	size_t ndomains;
	int no_store; /* leave the verdict cache alone */
};

/* What "check" shares with its workers. */
struct ctl_check_run {
	struct ctl_env *env;
	const struct ctl_check_opts *opts;
	struct check_render render;
	struct judge *judge; /* stores verdicts in the cache; NULL: not */
};

/* One domain's outcome, from a worker to the writer. */
struct ctl_check_done {
	struct check_report *report; /* NULL: not a domain name */
	char why[256];
};

/* ctl_spf_print - the SPF part of a check, for a human */
static void
ctl_spf_print(const struct check_result *r)
{
	const struct spf_check_verdict *v = &r->spf;

	printf("%s\n  %s\n", r->domain, v->summary);
	if (!r->relay_ok)
		return;
	if (v->record_status == SPF_CHECK_REC_PRESENT)
		printf("  record      %s\n", v->record);
	printf("  include     %s%s\n", v->has_include ? "present" : "absent",
	       v->authorized_other ? " (the relay is authorized otherwise)"
	                           : "");
	for (size_t i = 0; i < v->naddrs; i++)
		printf("  %-15s %s (%s%s%s)\n", v->addr[i].address,
		       spf_check_result_name(v->addr[i].result),
		       spf_check_reason_name(v->addr[i].reason),
		       v->addr[i].why[0] ? ": " : "", v->addr[i].why);
	printf("  lookups     %d of %d, void lookups %d of %d\n", v->lookups,
	       SPF_CHECK_MAX_TERMS, v->voids, SPF_CHECK_MAX_VOIDS);
	if (v->ttl_known)
		printf("  ttl         %u s\n", (unsigned) v->ttl);
	printf("  relay       ");
	for (size_t i = 0; i < r->relay.n; i++)
		printf("%s%s", i ? ", " : "", r->relay.addr[i]);
	printf(" (%s)\n  checked in  %lld ms\n", r->relay.source,
	       (long long) r->duration_ms);
}

/* ctl_spf_status - the exit status a result contributes */
static int
ctl_spf_status(const struct check_result *r)
{
	if (!r->relay_ok || r->spf.result == SPF_CHECK_TEMPERROR)
		return 2;
	return r->spf.result == SPF_CHECK_PASS ? 0 : 1;
}

/* ctl_spf - "spf DOMAIN..." */
int
ctl_spf(const struct config *cfg, int argc, char **argv)
{
	struct check_result *r;
	struct ctl_env e;
	int status = 0, s;

	if (argc < 1 || argv[0][0] == '-') {
		fprintf(stderr, "usage: relaygatectl spf DOMAIN...\n");
		return 2;
	}
	if (ctl_env_open(cfg, NULL, CHECK_SPF, &e) < 0)
		return 2;
	r = xmalloc(sizeof(*r));
	for (int i = 0; i < argc; i++) {
		if (check_domain(&e.check, argv[i], CHECK_SPF, 0, r) < 0) {
			fprintf(stderr, "relaygatectl: %s: %s\n", argv[i],
			        r->spf.summary);
			s = 2;
		} else {
			ctl_spf_print(r);
			s = ctl_spf_status(r);
		}
		status = s > status ? s : status;
	}
	free(r);
	ctl_env_close(&e);
	return status;
}

/* ctl_check_add - one more domain to check */
static void
ctl_check_add(struct ctl_check_opts *o, const char *domain, size_t len)
{
	if ((o->ndomains & (o->ndomains - 1)) == 0)
		o->domains =
		    xrealloc(o->domains, (o->ndomains ? o->ndomains * 2 : 1) *
		                             sizeof(*o->domains));
	o->domains[o->ndomains++] = xstrndup(domain, len);
}

/*
 * ctl_check_file - the domains of a file ("-": standard input), one per
 * line; blank lines and '#' comments are skipped.
 */
static int
ctl_check_file(struct ctl_check_opts *o, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;

	if (f == NULL) {
		perror(path);
		return -1;
	}
	while (getline(&line, &cap, f) >= 0) {
		char *s = line + strspn(line, " \t");
		size_t n = strcspn(s, " \t\r\n#");

		if (n > 0)
			ctl_check_add(o, s, n);
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return 0;
}

/* ctl_check_free_opts - the domain copies */
static void
ctl_check_free_opts(struct ctl_check_opts *o)
{
	for (size_t i = 0; i < o->ndomains; i++)
		free(o->domains[i]);
	free(o->domains);
}

/* ctl_check_usage - the synopsis; returns 2 */
static int
ctl_check_usage(void)
{
	fprintf(stderr,
	        "usage: relaygatectl check [--json] [--resolver ADDR[@PORT]] "
	        "[-j N] [-f FILE] [--no-store] DOMAIN...\n");
	return 2;
}

/*
 * ctl_check_parse - the options; argv[-1] is the command's name (as
 * relaygatectl passes it), which getopt takes for the program name.
 */
static int
ctl_check_parse(int argc, char **argv, struct ctl_check_opts *o)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'J'},
	    {"resolver", required_argument, NULL, 'r'},
	    {"file", required_argument, NULL, 'f'},
	    {"jobs", required_argument, NULL, 'j'},
	    {"no-store", no_argument, NULL, 'N'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->jobs = CTL_CHECK_JOBS;
	optind = 0;
	while ((c = getopt_long(argc + 1, argv - 1, "f:j:", longopts, NULL)) !=
	       -1) {
		if (c == 'J')
			o->json = 1;
		else if (c == 'N')
			o->no_store = 1;
		else if (c == 'r')
			o->resolver = optarg;
		else if (c == 'f')
			o->file = optarg;
		else if (c == 'j' && atoi(optarg) >= 1 &&
		         atoi(optarg) <= CTL_CHECK_MAX_JOBS)
			o->jobs = (unsigned) atoi(optarg);
		else
			return -1;
	}
	for (int i = optind; i < argc + 1; i++)
		ctl_check_add(o, argv[i - 1], strlen(argv[i - 1]));
	if (o->file != NULL && ctl_check_file(o, o->file) < 0)
		return -1;
	return o->ndomains > 0 ? 0 : -1;
}

/* ctl_check_store - the fresh verdict into the milter's cache */
static void
ctl_check_store(struct ctl_check_run *run, const struct check_result *c)
{
	struct verdict v;

	if (run->judge == NULL)
		return;
	verdict_from_check(c, &v);
	(void) judge_put(run->judge, run->env->cfg, c->domain, &v,
	                 util_realtime_s());
}

/*
 * ctl_check_judge - a judge over the running relaygate's cache, to store
 * verdicts in; NULL when there is no segment or it may not be written
 * (then checking goes on without storing: it is a convenience).
 */
static struct judge *
ctl_check_judge(struct ctl_env *e, struct cache **cache)
{
	char why[512];

	*cache = cache_open(e->cfg->cache_name, 0, 0, (gid_t) -1, CACHE_ATTACH,
	                    why, sizeof(why));
	if (*cache == NULL)
		return NULL;
	return judge_open(e->dns, e->spf, *cache);
}

/* ctl_check_work - check one domain and build its report (a worker) */
static void *
ctl_check_work(void *arg, size_t i)
{
	struct ctl_check_run *run = arg;
	struct ctl_check_done *done = xcalloc(1, sizeof(*done));
	struct check_result *c = xmalloc(sizeof(*c));
	struct check_report_in in = {
	    .cfg = run->env->cfg, .check = c, .keys = run->env->check.keys};

	if (check_domain(&run->env->check, run->opts->domains[i], CHECK_ALL,
	                 ctl_env_deadline(run->env), c) < 0) {
		util_strlcpy(done->why, c->spf.summary, sizeof(done->why));
	} else {
		ctl_env_merge_in(run->env, c, &in.merge);
		done->report = xmalloc(sizeof(*done->report));
		check_report_build(&in, done->report);
		ctl_check_store(run, c);
	}
	free(c);
	return done;
}

/* ctl_check_write - one domain's outcome, in order (the main thread) */
static void
ctl_check_write(void *arg, size_t i, void *result)
{
	struct ctl_check_run *run = arg;
	struct ctl_check_done *done = result;

	if (done->report != NULL)
		check_render_domain(&run->render, done->report);
	else
		check_render_invalid(&run->render, run->opts->domains[i],
		                     done->why);
	free(done->report);
	free(done);
}

/* ctl_check - "check [options] DOMAIN..." */
int
ctl_check(const struct config *cfg, int argc, char **argv)
{
	struct ctl_check_opts o;
	struct ctl_check_run run = {.opts = &o};
	struct cache *cache = NULL;
	struct ctl_env e;
	int rc;

	if (ctl_check_parse(argc, argv, &o) < 0) {
		ctl_check_free_opts(&o);
		return ctl_check_usage();
	}
	if (ctl_env_open(cfg, o.resolver, CHECK_ALL, &e) < 0) {
		ctl_check_free_opts(&o);
		return 2;
	}
	ctl_env_measure(&e);
	run.env = &e;
	if (!o.no_store)
		run.judge = ctl_check_judge(&e, &cache);
	check_render_begin(&run.render, stdout, o.json);
	pool_run(o.ndomains, o.jobs, 4 * (size_t) o.jobs, ctl_check_work,
	         ctl_check_write, &run);
	rc = check_render_end(&run.render);
	judge_close(run.judge);
	cache_close(cache);
	ctl_env_close(&e);
	ctl_check_free_opts(&o);
	return rc;
}
