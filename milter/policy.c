/*
 * policy - what happens to a message: a pure function.
 */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "grace.h"
#include "policy.h"
#include "util.h"

static const char *const policy_action_names[] = {
    [POLICY_PASS] = "pass",     [POLICY_SIGN] = "sign",
    [POLICY_TAG] = "tag",       [POLICY_DEFER] = "defer",
    [POLICY_REJECT] = "reject", [POLICY_MONITOR] = "monitor",
};

static const char *const policy_problem_names[] = {
    [POLICY_OK] = "ok",
    [POLICY_SPF] = "spf",
    [POLICY_DKIM] = "dkim",
    [POLICY_BOTH] = "both",
    [POLICY_TEMPORARY] = "temporary",
    [POLICY_FROM] = "from",
};

/* policy_action_name - the action as a word */
const char *
policy_action_name(enum policy_action action)
{
	return (unsigned) action <= POLICY_MONITOR ? policy_action_names[action]
	                                           : "?";
}

/* policy_problem_name - the problem class as a word */
const char *
policy_problem_name(enum policy_problem problem)
{
	return (unsigned) problem <= POLICY_FROM ? policy_problem_names[problem]
	                                         : "?";
}

/*
 * policy_selector - the selector to sign with: the preferred one if this
 * domain delegated it and its key is published, else another that is
 * both; -1 if none.
 */
static int
policy_selector(const struct verdict *v, int preferred, unsigned published)
{
	unsigned ok = v->dkim_usable & published;

	if (preferred >= 0 && preferred < 8 && (ok & (1u << preferred)))
		return preferred;
	for (int i = 0; i < v->nselectors; i++)
		if (ok & (1u << i))
			return i;
	return -1;
}

/*
 * policy_dkim_unknown - is a selector we could sign with unknown (DNS)?
 * Only published selectors count; a temporary verdict without selectors
 * (a check that did not finish) knows nothing of DKIM.
 */
static int
policy_dkim_unknown(const struct verdict *v, unsigned published)
{
	if (v->nselectors == 0)
		return verdict_dkim_temporary(v);
	for (int i = 0; i < v->nselectors; i++)
		if ((published & (1u << i)) &&
		    v->dkim_state[i] == DKIM_CHECK_TEMPERROR)
			return 1;
	return 0;
}

/* The two facets of a message, as policy_facets() finds them. */
struct policy_facets {
	int spf_bad, spf_temp;
	int dkim_bad, dkim_temp;
	int dkim_judged; /* 0: the provider can sign with no key at all */
	int from_ok;     /* one From header, with a domain and its verdict */
	int selector;
};

/* policy_facets - SPF of the envelope domain, DKIM of the From domain */
static void
policy_facets(const struct policy_input *in, unsigned published,
              struct policy_facets *f)
{
	memset(f, 0, sizeof(*f));
	f->selector = -1;
	if (in->env != NULL) {
		f->spf_temp = verdict_spf_temporary(in->env);
		f->spf_bad = !f->spf_temp && !verdict_spf_ok(in->env);
	}
	f->from_ok = in->from != NULL && in->from_state == POLICY_FROM_OK;
	f->dkim_judged = published != 0;
	if (!f->dkim_judged)
		return;
	if (!f->from_ok) {
		f->dkim_bad = 1;
		return;
	}
	f->selector =
	    policy_selector(in->from, in->preferred_selector, published);
	f->dkim_temp =
	    f->selector < 0 && policy_dkim_unknown(in->from, published);
	f->dkim_bad = f->selector < 0 && !f->dkim_temp;
}

/*
 * policy_classify - the problem class of a message.  A From header that
 * cannot be signed is its own class only when SPF is in order: otherwise
 * adding a second From header would turn "both" into a milder class, and
 * the decision at MAIL FROM would not hold.
 */
static enum policy_problem
policy_classify(const struct policy_facets *f)
{
	if (f->spf_temp || f->dkim_temp)
		return POLICY_TEMPORARY;
	if (f->spf_bad && f->dkim_bad)
		return POLICY_BOTH;
	if (f->spf_bad)
		return POLICY_SPF;
	if (!f->from_ok)
		return POLICY_FROM;
	if (f->dkim_bad)
		return POLICY_DKIM;
	return POLICY_OK;
}

/* policy_configured - the action policy.* gives a problem class */
static int
policy_configured(const struct config *cfg, enum policy_problem p)
{
	switch (p) {
	case POLICY_SPF:
		return cfg->policy_spf;
	case POLICY_DKIM:
		return cfg->policy_dkim;
	case POLICY_BOTH:
		return cfg->policy_both;
	case POLICY_TEMPORARY:
		return cfg->policy_temporary;
	case POLICY_FROM:
		return cfg->policy_multiple_from;
	case POLICY_OK:
		break;
	}
	return CONFIG_ACTION_MONITOR;
}

/* policy_of_config - a configured action as a decision action */
static enum policy_action
policy_of_config(int action)
{
	switch (action) {
	case CONFIG_ACTION_TAG:
		return POLICY_TAG;
	case CONFIG_ACTION_DEFER:
		return POLICY_DEFER;
	case CONFIG_ACTION_REJECT:
		return POLICY_REJECT;
	default:
		return POLICY_MONITOR;
	}
}

/* policy_refusing - defer or reject */
static int
policy_refusing(enum policy_action a)
{
	return a == POLICY_DEFER || a == POLICY_REJECT;
}

/*
 * policy_override - a per-domain override of the From domain, else of the
 * envelope domain; NULL if none.
 */
static const struct config_override *
policy_override(const struct config *cfg, const struct policy_input *in)
{
	const struct config_override *o = NULL;

	if (in->from_domain[0] != '\0')
		o = config_override_find(cfg, in->from_domain, in->now);
	if (o == NULL && in->env_domain[0] != '\0')
		o = config_override_find(cfg, in->env_domain, in->now);
	return o;
}

/* policy_date - "YYYY-MM-DD" of a time */
static void
policy_date(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t) t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, size, "%Y-%m-%d", &tm);
}

/*
 * policy_soften - before enforce_from, and during the grace period of a
 * misconfigured domain, defer and reject become tag (and lose the reply).
 */
static void
policy_soften(const struct config *cfg, const struct policy_input *in,
              struct policy_decision *out)
{
	int64_t until;
	enum grace_phase phase =
	    grace_phase_at(cfg, in->first_seen_bad, in->now, &until);
	char date[16];

	if (!policy_refusing(out->action))
		return;
	if (phase == GRACE_NOT_YET) {
		out->action = POLICY_TAG;
		out->why = POLICY_WHY_ENFORCE;
		util_catf(out->reason, sizeof(out->reason),
		          "; enforced from %s", cfg->policy_enforce_from);
	} else if (out->problem != POLICY_TEMPORARY &&
	           out->problem != POLICY_FROM && phase == GRACE_PERIOD) {
		out->action = POLICY_TAG;
		out->why = POLICY_WHY_GRACE;
		policy_date(until, date, sizeof(date));
		util_catf(out->reason, sizeof(out->reason),
		          "; grace period until %s", date);
	} else {
		return;
	}
	out->rcode[0] = out->xcode[0] = out->reply[0] = '\0';
}

/* policy_spf_fix - what the envelope domain must fix, by SPF reason */
static void
policy_spf_fix(const struct config *cfg, const struct verdict *v, char *buf,
               size_t size)
{
	const char *inc = cfg->relay_spf_include;

	switch ((enum spf_check_reason) v->spf_reason) {
	case SPF_CHECK_R_NO_RECORD:
		snprintf(buf, size,
		         "no SPF record, publish one with "
		         "include:%s",
		         inc);
		break;
	case SPF_CHECK_R_NO_DOMAIN:
	case SPF_CHECK_R_BAD_DOMAIN:
		snprintf(buf, size, "the domain does not exist in DNS");
		break;
	case SPF_CHECK_R_MULTIPLE:
		snprintf(buf, size,
		         "more than one SPF record, merge them into "
		         "one with include:%s",
		         inc);
		break;
	case SPF_CHECK_R_LOOKUP_LIMIT:
	case SPF_CHECK_R_VOID_LIMIT:
	case SPF_CHECK_R_MX_LIMIT:
	case SPF_CHECK_R_SYNTAX:
	case SPF_CHECK_R_UNSUPPORTED:
	case SPF_CHECK_R_TARGET_NONE:
	case SPF_CHECK_R_LOOP:
	case SPF_CHECK_R_PERMERROR:
		snprintf(buf, size, "the SPF record is invalid (%s)",
		         v->spf_detail);
		break;
	default:
		snprintf(buf, size,
		         "SPF does not authorize this relay, add "
		         "include:%s",
		         inc);
	}
}

/*
 * policy_fix_selector - the selector to ask the From domain for: the
 * preferred one if its key is published, else the first published one (a
 * delegation to an unpublished key would not let us sign).
 */
static int
policy_fix_selector(const struct config *cfg, const struct policy_input *in)
{
	int sel = in->preferred_selector;

	if (sel < 0 || !(in->published & (1u << sel)))
		for (sel = 0; sel < (int) cfg->dkim_nselectors; sel++)
			if (in->published & (1u << sel))
				break;
	return sel >= 0 && sel < (int) cfg->dkim_nselectors ? sel : 0;
}

/* policy_dkim_fix - what the From domain (or header) must fix */
static void
policy_dkim_fix(const struct config *cfg, const struct policy_input *in,
                const struct policy_facets *f, char *buf, size_t size)
{
	const struct config_selector *s =
	    &cfg->dkim_selectors[policy_fix_selector(cfg, in)];

	if (in->from_state == POLICY_FROM_MISSING)
		snprintf(buf, size,
		         "no From header, the message cannot be "
		         "signed");
	else if (in->from_state == POLICY_FROM_MULTIPLE)
		snprintf(buf, size,
		         "several From headers, the message cannot "
		         "be signed");
	else if (!f->from_ok)
		snprintf(buf, size,
		         "the From header cannot be read, the "
		         "message cannot be signed");
	else
		snprintf(buf, size,
		         "%s: DKIM is not delegated, make %s._domainkey.%s a "
		         "CNAME to %s.",
		         in->from_domain, s->name, in->from_domain, s->target);
}

/* policy_clauses - "spf=...; dkim=..." of the message's domains */
static void
policy_clauses(const struct config *cfg, const struct policy_input *in,
               char *buf, size_t size)
{
	char spf[160], dkim[160];

	if (in->env != NULL)
		verdict_spf_text(in->env, spf, sizeof(spf));
	else
		snprintf(spf, sizeof(spf), "spf=none (null sender)");
	if (in->from_state == POLICY_FROM_MULTIPLE)
		snprintf(dkim, sizeof(dkim),
		         "dkim=none (several From headers)");
	else if (in->from != NULL && in->from_state == POLICY_FROM_OK)
		verdict_dkim_text(in->from, cfg, dkim, sizeof(dkim));
	else
		snprintf(dkim, sizeof(dkim),
		         "dkim=none (no usable From "
		         "domain)");
	snprintf(buf, size, "%s; %s", spf, dkim);
}

/*
 * policy_fix - the one-line "what to fix" of a problem; a temporary one
 * names the domain whose records could not be checked.
 */
static void
policy_fix(const struct config *cfg, const struct policy_input *in,
           const struct policy_facets *f, enum policy_problem p, char *buf,
           size_t size)
{
	char spf[256], dkim[POLICY_TEXT];

	buf[0] = '\0';
	if (p == POLICY_SPF || p == POLICY_BOTH) {
		policy_spf_fix(cfg, in->env, spf, sizeof(spf));
		snprintf(buf, size, "%s: %s", in->env_domain, spf);
	}
	if (p == POLICY_DKIM || p == POLICY_BOTH || p == POLICY_FROM) {
		policy_dkim_fix(cfg, in, f, dkim, sizeof(dkim));
		util_catf(buf, size, "%s%s", buf[0] ? "; " : "", dkim);
	}
	if (p == POLICY_TEMPORARY)
		snprintf(buf, size,
		         "%s: the DNS records could not be checked, "
		         "try again later",
		         f->spf_temp ? in->env_domain : in->from_domain);
}

/* policy_texts - status header, reply and reason of a decision */
static void
policy_texts(const struct config *cfg, const struct policy_input *in,
             const struct policy_facets *f, struct policy_decision *out)
{
	static const char *const state[] = {
	    [POLICY_OK] = "configured",       [POLICY_SPF] = "partial",
	    [POLICY_DKIM] = "partial",        [POLICY_BOTH] = "unconfigured",
	    [POLICY_TEMPORARY] = "temporary", [POLICY_FROM] = "unsigned"};
	char clauses[336], fix[POLICY_TEXT];

	policy_clauses(cfg, in, clauses, sizeof(clauses));
	snprintf(out->status, sizeof(out->status), "%s; %s",
	         state[out->problem], clauses);
	policy_fix(cfg, in, f, out->problem, fix, sizeof(fix));
	util_strlcpy(out->reason, fix[0] ? fix : clauses, sizeof(out->reason));
	if (!policy_refusing(out->action))
		return;
	util_strlcpy(out->rcode, out->action == POLICY_DEFER ? "451" : "550",
	             sizeof(out->rcode));
	util_strlcpy(out->xcode,
	             out->problem == POLICY_TEMPORARY ? "4.4.3"
	             : out->action == POLICY_DEFER    ? "4.7.1"
	                                              : "5.7.1",
	             sizeof(out->xcode));
	snprintf(out->reply, sizeof(out->reply), "%s", fix);
	if (cfg->policy_help_url[0] != '\0')
		util_catf(out->reply, sizeof(out->reply), " (%s)",
		          cfg->policy_help_url);
}

/*
 * policy_action_for - the action for a problem: the configured one, or a
 * per-domain override's (exempt: as if there were no problem).  DNS
 * trouble is never a permanent refusal: an override's reject defers it,
 * as policy.temporary cannot be reject.
 */
static enum policy_action
policy_action_for(const struct config *cfg, const struct policy_input *in,
                  struct policy_decision *out, int *exempt)
{
	const struct config_override *o = policy_override(cfg, in);
	enum policy_action a;

	*exempt = 0;
	if (o == NULL)
		return policy_of_config(policy_configured(cfg, out->problem));
	out->why = POLICY_WHY_OVERRIDE;
	if (o->action == CONFIG_ACTION_EXEMPT)
		*exempt = 1;
	a = policy_of_config(o->action);
	if (out->problem == POLICY_TEMPORARY && a == POLICY_REJECT)
		a = POLICY_DEFER;
	return a;
}

/* policy_decide - the decision for one message */
void
policy_decide(const struct config *cfg, const struct policy_input *in,
              struct policy_decision *out)
{
	struct policy_facets f;
	int exempt = 0;

	memset(out, 0, sizeof(*out));
	out->sign_selector = -1;
	if (!in->in_scope && cfg->scope_outside == CONFIG_OUTSIDE_PASS) {
		out->action = POLICY_PASS;
		out->why = POLICY_WHY_SCOPE;
		util_strlcpy(out->reason, "client outside the scope",
		             sizeof(out->reason));
		return;
	}
	policy_facets(in, in->published, &f);
	out->problem = policy_classify(&f);
	if (out->problem != POLICY_OK) {
		out->action = policy_action_for(cfg, in, out, &exempt);
		policy_texts(cfg, in, &f, out);
		if (out->why != POLICY_WHY_OVERRIDE)
			policy_soften(cfg, in, out);
	} else {
		policy_texts(cfg, in, &f, out);
	}
	if (in->in_scope && !policy_refusing(out->action) && f.from_ok)
		out->sign_selector = f.selector;
	if (out->problem == POLICY_OK || exempt)
		out->action =
		    out->sign_selector >= 0 ? POLICY_SIGN : POLICY_PASS;
	if (!in->in_scope)
		out->why = POLICY_WHY_SCOPE;
	out->prefix_subject =
	    out->action == POLICY_TAG && cfg->policy_subject_prefix[0] != '\0';
}

/*
 * policy_envelope_case - the decision if the From domain were the
 * envelope domain with each configured selector in state (delegated,
 * missing, or unknown because of DNS trouble).
 */
static void
policy_envelope_case(const struct config *cfg, const struct policy_input *in,
                     enum dkim_check_state state, struct policy_decision *out)
{
	struct policy_input hypo = *in;
	struct verdict from = *in->env;
	size_t n = cfg->dkim_nselectors;

	from.nselectors =
	    (uint8_t) (n < CONFIG_MAX_SELECTORS ? n : CONFIG_MAX_SELECTORS);
	for (size_t i = 0; i < from.nselectors; i++)
		from.dkim_state[i] = (uint8_t) state;
	from.dkim_usable =
	    (uint8_t) (state == DKIM_CHECK_DELEGATED ? in->published : 0);
	hypo.from_domain = in->env_domain;
	hypo.from = &from;
	hypo.from_state = POLICY_FROM_OK;
	policy_decide(cfg, &hypo, out);
}

/* policy_envelope - refuse at MAIL FROM when the headers cannot help */
int
policy_envelope(const struct config *cfg, const struct policy_input *in,
                struct policy_decision *out)
{
	struct policy_decision other;

	if (in->env == NULL || in->env_domain[0] == '\0')
		return 0;
	policy_envelope_case(cfg, in, DKIM_CHECK_DELEGATED, out);
	if (!policy_refusing(out->action))
		return 0;
	policy_envelope_case(cfg, in, DKIM_CHECK_MISSING, &other);
	if (!policy_refusing(other.action))
		return 0;
	policy_envelope_case(cfg, in, DKIM_CHECK_TEMPERROR, &other);
	return policy_refusing(other.action);
}
