/*
 * decision - the one log line per message.
 */

#include <stdio.h>
#include <string.h>

#include "decision.h"
#include "dmarc.h"
#include "log.h"
#include "util.h"

/* decision_spf - "pass", "fail", ... of the envelope domain, or "none" */
static const char *
decision_spf(const struct decision_facts *f)
{
	if (f->env == NULL)
		return "none";
	return spf_check_result_name(
	    (enum spf_check_result) f->env->verdict.spf_result);
}

/* decision_dmarc - the From domain's DMARC and this message's alignment */
static void
decision_dmarc(const struct decision_facts *f, char *buf, size_t size)
{
	struct dmarc_result res;
	struct dmarc_alignment al;
	int spf_ok = f->env != NULL && verdict_spf_ok(&f->env->verdict);

	buf[0] = '\0';
	if (f->from == NULL)
		return;
	verdict_dmarc(&f->from->verdict, f->from_domain, &res);
	dmarc_align(f->from_domain,
	            f->d->sign_selector >= 0 ? f->from_domain : NULL,
	            f->env_domain[0] ? f->env_domain : NULL, spf_ok, &res, &al);
	util_strlcpy(buf, al.text, size);
}

/*
 * decision_cache - where the verdicts came from: one word when the
 * message was judged on one domain (or both are the same), else both.
 */
static void
decision_cache(const struct decision_facts *f, char *buf, size_t size, char *ms,
               size_t mssize)
{
	int64_t total = 0;

	buf[0] = '\0';
	if (f->env != NULL)
		total += f->env->duration_ms;
	if (f->from != NULL && f->from != f->env &&
	    !(f->env != NULL && strcmp(f->env_domain, f->from_domain) == 0))
		total += f->from->duration_ms;
	snprintf(ms, mssize, "%lld", (long long) total);
	if (f->from != NULL && f->env != NULL &&
	    strcmp(f->env_domain, f->from_domain) != 0)
		snprintf(buf, size, "%s,%s", judge_source_name(f->env->source),
		         judge_source_name(f->from->source));
	else if (f->from != NULL || f->env != NULL)
		util_strlcpy(
		    buf,
		    judge_source_name((f->from ? f->from : f->env)->source),
		    size);
}

/* decision_log - the line */
void
decision_log(const struct decision_facts *f)
{
	char dkim[160] = "", dmarc[256], cache[32], ms[24], selector[128] = "";

	if (f->from != NULL)
		verdict_dkim_states(&f->from->verdict, f->cfg, dkim,
		                    sizeof(dkim));
	decision_dmarc(f, dmarc, sizeof(dmarc));
	decision_cache(f, cache, sizeof(cache), ms, sizeof(ms));
	if (f->d->sign_selector >= 0 && !policy_refuses(f->d))
		snprintf(selector, sizeof(selector), "%s%s%s",
		         f->cfg->dkim_selectors[f->d->sign_selector].name,
		         f->also >= 0 ? "+" : "",
		         f->also >= 0 ? f->cfg->dkim_selectors[f->also].name
		                      : "");
	log_event(LOG_LEVEL_INFO, "message", "queue_id",
	          f->queue_id ? f->queue_id : "", "client", f->client, "scope",
	          f->in_scope ? "in" : "out", "env_domain", f->env_domain,
	          "from_domain", f->from_domain, "action",
	          policy_action_name(f->d->action), "selector",
	          selector[0] ? selector : NULL, "problem",
	          policy_problem_name(f->d->problem), "spf", decision_spf(f),
	          "dkim", dkim[0] ? dkim : NULL, "dmarc",
	          dmarc[0] ? dmarc : NULL, "reason",
	          f->failure[0] ? f->failure : f->d->reason, "cache",
	          cache[0] ? cache : NULL, "check_ms", cache[0] ? ms : NULL,
	          "reply", policy_refuses(f->d) ? f->d->reply : NULL,
	          "env_note", f->env_note[0] ? f->env_note : NULL, "from_note",
	          f->from_note[0] ? f->from_note : NULL, (const char *) NULL);
}
