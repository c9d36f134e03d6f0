/*
 * check - everything relaygate finds out about one domain, at once.
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "domain.h"
#include "util.h"

/* One part of a check, run in a thread of its own. */
struct check_job {
	void (*run)(struct check_job *job);
	const struct check_env *env;
	struct check_result *out;
	int64_t deadline_ms;
	size_t index; /* the address or selector of this job */
	struct spf_check_eval *evals;
	pthread_t tid;
	int threaded;
};

/* check_job_main - a job's thread body */
static void *
check_job_main(void *arg)
{
	struct check_job *job = arg;

	job->run(job);
	return NULL;
}

/*
 * check_parallel - run jobs[0..n) concurrently: all but the first in new
 * threads, the first in this one.  A thread that cannot be created runs
 * its job here instead: slower, never wrong.
 */
static void
check_parallel(struct check_job *jobs, size_t n)
{
	for (size_t i = 1; i < n; i++)
		jobs[i].threaded =
		    pthread_create(&jobs[i].tid, NULL, check_job_main,
		                   &jobs[i]) == 0;
	if (n > 0)
		jobs[0].run(&jobs[0]);
	for (size_t i = 1; i < n; i++) {
		if (jobs[i].threaded)
			pthread_join(jobs[i].tid, NULL);
		else
			jobs[i].run(&jobs[i]);
	}
}

/* check_spf_addr - SPF of the domain for one relay address */
static void
check_spf_addr(struct check_job *job)
{
	char from[DOMAIN_SIZE + 16];

	snprintf(from, sizeof(from), "postmaster@%s", job->out->domain);
	spf_check_eval(job->env->spf, job->out->relay.addr[job->index], from,
	               job->out->domain, job->deadline_ms,
	               &job->evals[job->index]);
}

/*
 * check_spf - the relay's addresses (derived from the include record
 * when not configured), then SPF for each of them concurrently.
 */
static void
check_spf(struct check_job *job)
{
	struct check_result *out = job->out;
	struct check_job jobs[RELAY_MAX];
	struct spf_check_eval *evals;
	const char *addrs[RELAY_MAX];

	out->relay_ok =
	    relay_addresses(job->env->dns, job->env->cfg, job->deadline_ms,
	                    &out->relay, out->spf.summary,
	                    sizeof(out->spf.summary)) == 0;
	if (!out->relay_ok) {
		util_strlcpy(out->spf.domain, out->domain,
		             sizeof(out->spf.domain));
		out->spf.result = SPF_CHECK_TEMPERROR;
		return;
	}
	evals = xcalloc(out->relay.n, sizeof(*evals));
	for (size_t i = 0; i < out->relay.n; i++) {
		jobs[i] = *job;
		jobs[i].run = check_spf_addr;
		jobs[i].index = i;
		jobs[i].evals = evals;
		addrs[i] = out->relay.addr[i];
	}
	check_parallel(jobs, out->relay.n);
	spf_check_combine(out->domain, job->env->cfg->relay_spf_include, addrs,
	                  evals, out->relay.n, &out->spf);
	free(evals);
}

/* check_dkim_selector - one selector's delegation */
static void
check_dkim_selector(struct check_job *job)
{
	const struct check_env *env = job->env;

	dkim_check_selector(env->dns, job->out->domain,
	                    &env->cfg->dkim_selectors[job->index],
	                    env->keys ? env->keys[job->index] : NULL,
	                    job->deadline_ms, &job->out->dkim[job->index]);
}

/* check_dmarc - the domain's DMARC record */
static void
check_dmarc(struct check_job *job)
{
	dmarc_lookup(job->env->dns, job->out->domain, job->deadline_ms,
	             &job->out->dmarc);
}

/* check_jobs - the top-level jobs for the parts asked for */
static size_t
check_jobs(const struct check_env *env, struct check_result *out,
           unsigned parts, int64_t deadline_ms, struct check_job *jobs)
{
	struct check_job base = {
	    .env = env, .out = out, .deadline_ms = deadline_ms};
	size_t n = 0;

	if (parts & CHECK_SPF) {
		jobs[n] = base;
		jobs[n++].run = check_spf;
	}
	for (size_t i = 0; (parts & CHECK_DKIM) && i < out->ndkim; i++) {
		jobs[n] = base;
		jobs[n].run = check_dkim_selector;
		jobs[n++].index = i;
	}
	if (parts & CHECK_DMARC) {
		jobs[n] = base;
		jobs[n++].run = check_dmarc;
	}
	return n;
}

/* check_domain - all parts of a check, concurrently */
int
check_domain(const struct check_env *env, const char *domain, unsigned parts,
             int64_t deadline_ms, struct check_result *out)
{
	struct check_job jobs[CHECK_MAX_SELECTORS + 2];
	int64_t start = util_monotonic_ms();
	size_t n;

	memset(out, 0, sizeof(*out));
	if (domain_normalize(domain, out->domain, sizeof(out->domain),
	                     out->spf.summary, sizeof(out->spf.summary)) < 0)
		return -1;
	out->parts = parts;
	out->ndkim = env->cfg->dkim_nselectors < CHECK_MAX_SELECTORS
	                 ? env->cfg->dkim_nselectors
	                 : CHECK_MAX_SELECTORS;
	n = check_jobs(env, out, parts, deadline_ms, jobs);
	check_parallel(jobs, n);
	if (parts & CHECK_DKIM)
		dkim_check_summarize(env->cfg, out->dkim, NULL,
		                     &out->dkim_summary);
	out->duration_ms = util_monotonic_ms() - start;
	return 0;
}
