/*
 * test_policy - the policy as a table: the cross product of every problem
 * class, configured action, scope, override, grace period, enforce_from
 * date, signing situation and the null sender, each decision compared
 * with the one the rules below give (written here, independently of
 * policy.c); policy_envelope() against every From header a message could
 * bring; then hand-written rows for the exact texts: status header, SMTP
 * reply codes, what the reply tells the customer to fix, the help URL.
 * Configurations are loaded from text, so defaults are the real ones.
 *
 * The rules, as policy.h and issue 5 state them:
 *	- Outside the scope with scope.outside = "pass": pass, untouched.
 *	- SPF is judged on the envelope domain (none for the null sender):
 *	  pass is good, temperror unknown, anything else bad.  DKIM on the
 *	  From domain, only when the provider publishes a key: good when a
 *	  selector is delegated there and published (the preferred one if it
 *	  is, else the first), unknown when none is and a published one is
 *	  temperror (or the check did not finish), else bad; a From header
 *	  that is missing, unreadable or repeated cannot be signed.
 *	- Class: temporary if a facet is unknown; both if both are bad; spf;
 *	  from (the From header); dkim; ok.
 *	- The class's policy.* action, unless an override of the From domain
 *	  (else of the envelope domain) is in force: it replaces the action
 *	  (exempt: no problem), and a temporary problem is never rejected.
 *	  Without an override, defer and reject become tag before
 *	  policy.enforce_from, and during the grace period (policy.grace_period
 *	  from first_seen_bad, or from now) for spf, dkim and both.
 *	- Mail not refused is signed with the selector above when the client
 *	  is in scope and the From header is fine; ok and exempt mail is then
 *	  "sign", else "pass".  Out of scope the reason is the scope.
 *	- Refused: 451 4.7.1 (defer), 550 5.7.1 (reject), 451 4.4.3 when
 *	  temporary; the reply says what to fix, then the help URL.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "config.h"
#include "dkim_check.h"
#include "policy.h"
#include "spf_check.h"
#include "util.h"
#include "verdict.h"

#define ENV "bounce.example.com"
#define FROM "shop.example.nl"
#define OTHER "shop.example.org" /* a From domain no override names */
#define HELP "https://help.example.net/relay"
#define DAY 86400
#define NO (-1) /* no override for a domain */
#define DEL DKIM_CHECK_DELEGATED
#define MIS DKIM_CHECK_MISSING
#define TMP DKIM_CHECK_TEMPERROR

static int64_t now; /* 2027-06-15 12:00:00 UTC */

/* date_of - "YYYY-MM-DD" of a time */
static void
date_of(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t) t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, size, "%Y-%m-%d", &tm);
}

/* time_of - UTC midnight of "YYYY-MM-DD" */
static int64_t
time_of(const char *date)
{
	struct tm tm = {0};

	assert_int_equal(
	    sscanf(date, "%d-%d-%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday), 3);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t) timegm(&tm);
}

/* setup - fix the clock of every row */
static int
setup(void **state)
{
	struct tm tm = {
	    .tm_year = 127, .tm_mon = 5, .tm_mday = 15, .tm_hour = 12};

	(void) state;
	now = (int64_t) timegm(&tm);
	return 0;
}

/* load - a configuration from text, asserting success */
static struct config *
load(const char *text)
{
	char why[1024] = "";
	struct config *cfg =
	    config_load_string(text, "t.conf", why, sizeof(why));

	if (cfg == NULL)
		fail_msg("expected to load, got: %s\n%s", why, text);
	return cfg;
}

/*
 * mkverdict - a verdict of domain by hand: SPF result and detail, the
 * state of selectors a and b (NO: none checked), usable when delegated or
 * copied.
 */
static void
mkverdict(struct verdict *v, const char *domain, enum spf_check_result spf,
          enum spf_check_reason reason, const char *spf_detail, int a, int b)
{
	int states[2] = {a, b};

	memset(v, 0, sizeof(*v));
	v->version = VERDICT_VERSION;
	v->spf_result = (uint8_t) spf;
	v->spf_reason = (uint8_t) reason;
	util_strlcpy(v->spf_detail, spf_detail, sizeof(v->spf_detail));
	v->ttl = 3600;
	for (int i = 0; i < 2 && states[i] != NO; i++) {
		v->nselectors++;
		v->dkim_state[i] = (uint8_t) states[i];
		if (states[i] == DEL || states[i] == DKIM_CHECK_COPIED)
			v->dkim_usable |= (uint8_t) (1u << i);
		if (states[i] != DEL && v->dkim_detail[0] == '\0') {
			v->dkim_worst = (uint8_t) i;
			snprintf(v->dkim_detail, sizeof(v->dkim_detail),
			         "prezent-%c._domainkey.%s", 'a' + i, domain);
		}
	}
	if (spf == SPF_CHECK_TEMPERROR ||
	    (v->dkim_usable == 0 && (a == TMP || b == TMP)))
		v->state = VERDICT_TEMPORARY;
	else if (spf == SPF_CHECK_PASS && a == DEL && b == DEL)
		v->state = VERDICT_CONFIGURED;
	else if (spf == SPF_CHECK_PASS || v->dkim_usable != 0)
		v->state = VERDICT_PARTIAL;
	else
		v->state = VERDICT_UNCONFIGURED;
}

/* The envelope sender of a row. */
struct env_kind {
	const char *name;
	int null;
	enum spf_check_result spf;
	enum spf_check_reason reason;
	const char *detail;
	struct verdict v;
};

static struct env_kind envs[] = {
    {"null sender", 1, SPF_CHECK_NONE, SPF_CHECK_R_NO_RECORD, "", {0}},
    {"spf pass",
     0,
     SPF_CHECK_PASS,
     SPF_CHECK_R_MATCH,
     "include:spf.dmrmail.nl",
     {0}},
    {"spf fail",
     0,
     SPF_CHECK_FAIL,
     SPF_CHECK_R_MATCH,
     "include:spf.dmrmail.nl missing",
     {0}},
    {"spf temperror",
     0,
     SPF_CHECK_TEMPERROR,
     SPF_CHECK_R_DNS,
     "timeout after 3000 ms on " ENV " TXT",
     {0}},
};

#define NENVS (sizeof(envs) / sizeof(envs[0]))

/* The From header of a row, and its domain's verdict. */
struct from_kind {
	const char *name;
	enum policy_from state;
	int has_domain; /* the header gave a domain */
	int has_verdict;
	int a, b;       /* selector states */
	int unfinished; /* the judge's stand-in: no selectors, temporary */
	struct verdict v;
};

static struct from_kind froms[] = {
    {"a+b delegated", POLICY_FROM_OK, 1, 1, DEL, DEL, 0, {0}},
    {"a delegated", POLICY_FROM_OK, 1, 1, DEL, MIS, 0, {0}},
    {"b delegated", POLICY_FROM_OK, 1, 1, MIS, DEL, 0, {0}},
    {"a copied", POLICY_FROM_OK, 1, 1, DKIM_CHECK_COPIED, MIS, 0, {0}},
    {"none delegated", POLICY_FROM_OK, 1, 1, MIS, MIS, 0, {0}},
    {"a temperror, b missing", POLICY_FROM_OK, 1, 1, TMP, MIS, 0, {0}},
    {"a delegated, b temperror", POLICY_FROM_OK, 1, 1, DEL, TMP, 0, {0}},
    {"check unfinished", POLICY_FROM_OK, 1, 1, NO, NO, 1, {0}},
    {"From missing", POLICY_FROM_MISSING, 0, 0, NO, NO, 0, {0}},
    {"several From (signable domain)",
     POLICY_FROM_MULTIPLE,
     1,
     1,
     DEL,
     DEL,
     0,
     {0}},
    {"From unreadable", POLICY_FROM_INVALID, 0, 0, NO, NO, 0, {0}},
};

#define NFROMS (sizeof(froms) / sizeof(froms[0]))

/* setup_kinds - the verdicts of the rows' domains */
static int
setup_kinds(void **state)
{
	setup(state);
	for (size_t i = 0; i < NENVS; i++)
		mkverdict(&envs[i].v, ENV, envs[i].spf, envs[i].reason,
		          envs[i].detail, MIS, MIS);
	for (size_t i = 0; i < NFROMS; i++) {
		struct from_kind *f = &froms[i];

		mkverdict(&f->v, FROM, SPF_CHECK_PASS, SPF_CHECK_R_MATCH,
		          "include:spf.dmrmail.nl", f->a, f->b);
		if (f->unfinished) {
			f->v.state = VERDICT_TEMPORARY;
			f->v.spf_result = SPF_CHECK_TEMPERROR;
			util_strlcpy(f->v.spf_detail,
			             "the check did not finish in time",
			             sizeof(f->v.spf_detail));
		}
	}
	return 0;
}

/* The actions policy.* gives the classes; NULL: the shipped defaults. */
struct actions {
	const char *spf, *dkim, *both, *temporary, *from;
};

static const struct actions default_actions = {"tag", "tag", "defer", "defer",
                                               "tag"};

static const struct actions *const action_sets[] = {
    NULL,
    &(const struct actions){"tag", "tag", "tag", "tag", "tag"},
    &(const struct actions){"defer", "defer", "defer", "defer", "reject"},
    &(const struct actions){"reject", "reject", "reject", "defer", "reject"},
    &(const struct actions){"monitor", "monitor", "monitor", "monitor",
                            "monitor"},
    &(const struct actions){"defer", "tag", "reject", "tag", "reject"},
    &(const struct actions){"reject", "defer", "tag", "monitor", "monitor"},
};

#define NACTIONS (sizeof(action_sets) / sizeof(action_sets[0]))

/* Overrides: the entries, and what they give FROM and ENV at now. */
struct overrides {
	const char *name;
	const char *entries;
	int from, env; /* enum config_action, or NO */
};

#define OVR(d, a) "{ domain = \"" d "\"; action = \"" a "\"; }"
#define OVRX(d, a, x)                                                          \
	"{ domain = \"" d "\"; action = \"" a "\"; expires = \"" x "\"; }"

static const struct overrides override_sets[] = {
    {"none", "", NO, NO},
    {"From exact tag", OVR(FROM, "tag"), CONFIG_ACTION_TAG, NO},
    {"From exact defer", OVR(FROM, "defer"), CONFIG_ACTION_DEFER, NO},
    {"From exact reject", OVR(FROM, "reject"), CONFIG_ACTION_REJECT, NO},
    {"From exact monitor", OVR(FROM, "monitor"), CONFIG_ACTION_MONITOR, NO},
    {"From wildcard defer", OVR("*.example.nl", "defer"), CONFIG_ACTION_DEFER,
     NO},
    {"From wildcard monitor", OVR("*.example.nl", "monitor"),
     CONFIG_ACTION_MONITOR, NO},
    {"envelope exact reject", OVR(ENV, "reject"), NO, CONFIG_ACTION_REJECT},
    {"envelope wildcard tag", OVR("*.example.com", "tag"), NO,
     CONFIG_ACTION_TAG},
    {"expired (today, and in January)",
     OVRX(FROM, "reject", "2027-06-15") ", " OVRX(ENV, "defer", "2027-01-01"),
     NO, NO},
    {"expires tomorrow", OVRX(FROM, "reject", "2027-06-16"),
     CONFIG_ACTION_REJECT, NO},
    {"From exempt", OVR(FROM, "exempt"), CONFIG_ACTION_EXEMPT, NO},
    {"envelope exempt", OVR(ENV, "exempt"), NO, CONFIG_ACTION_EXEMPT},
    {"exact beats wildcard",
     OVR("*.example.nl", "reject") ", " OVR(FROM, "monitor"),
     CONFIG_ACTION_MONITOR, NO},
    {"From's beats the envelope's", OVR(FROM, "defer") ", " OVR(ENV, "exempt"),
     CONFIG_ACTION_DEFER, CONFIG_ACTION_EXEMPT},
};

#define NOVERRIDES (sizeof(override_sets) / sizeof(override_sets[0]))

static const char *const enforce_dates[] = {"", "2020-01-01", "2099-01-01"};

/* One configuration of the cross product. */
struct world {
	const struct actions *actions; /* NULL: defaults */
	const struct overrides *ovr;
	const char *enforce;
	int outside_policy;
	int extras; /* help URL and subject prefix set */
	struct config *cfg;
};

/* world_load - the configuration text of a world, loaded */
static void
world_load(struct world *w)
{
	const struct actions *a = w->actions;
	char *acts = a == NULL ? xstrdup("")
	                       : xasprintf("spf_unauthorized = \"%s\"; "
	                                   "dkim_undelegated = \"%s\"; both = "
	                                   "\"%s\"; temporary = \"%s\"; "
	                                   "multiple_from = \"%s\";",
	                                   a->spf, a->dkim, a->both,
	                                   a->temporary, a->from);
	char *text = xasprintf(
	    "scope: { outside = \"%s\"; };\n"
	    "policy: { %s enforce_from = \"%s\"; help_url = \"%s\"; "
	    "subject_prefix = \"%s\"; overrides = ( %s ); };\n",
	    w->outside_policy ? "policy" : "pass", acts, w->enforce,
	    w->extras ? HELP : "", w->extras ? "[DNS] " : "", w->ovr->entries);

	w->cfg = load(text);
	free(text);
	free(acts);
}

/* action_of - a configured action's name as a decision's action */
static enum policy_action
action_of(const char *name)
{
	if (strcmp(name, "tag") == 0)
		return POLICY_TAG;
	if (strcmp(name, "defer") == 0)
		return POLICY_DEFER;
	if (strcmp(name, "reject") == 0)
		return POLICY_REJECT;
	assert_string_equal(name, "monitor");
	return POLICY_MONITOR;
}

/* class_action - what policy.* says for a class */
static enum policy_action
class_action(const struct world *w, enum policy_problem p)
{
	const struct actions *a = w->actions ? w->actions : &default_actions;

	switch (p) {
	case POLICY_SPF:
		return action_of(a->spf);
	case POLICY_DKIM:
		return action_of(a->dkim);
	case POLICY_BOTH:
		return action_of(a->both);
	case POLICY_TEMPORARY:
		return action_of(a->temporary);
	default:
		return action_of(a->from);
	}
}

/* override_action - a config_action as a decision's action */
static enum policy_action
override_action(int a)
{
	static const char *const names[] = {"tag", "defer", "reject",
	                                    "monitor"};

	return action_of(names[a]);
}

/* refusing - defer and reject refuse */
static int
refusing(enum policy_action a)
{
	return a == POLICY_DEFER || a == POLICY_REJECT;
}

/* pick - the preferred selector among ok, else the first; -1 if none */
static int
pick(unsigned ok, int preferred)
{
	if (preferred >= 0 && (ok & (1u << preferred)))
		return preferred;
	for (int i = 0; i < 8; i++)
		if (ok & (1u << i))
			return i;
	return -1;
}

/* dkim_unknown - a published selector (or the whole check) unknown */
static int
dkim_unknown(const struct verdict *v, unsigned published)
{
	if (v->nselectors == 0)
		return v->state == VERDICT_TEMPORARY;
	for (int i = 0; i < v->nselectors; i++)
		if ((published & (1u << i)) && v->dkim_state[i] == TMP)
			return 1;
	return 0;
}

/* What the rules say of one message. */
struct want {
	enum policy_action action;
	enum policy_problem problem;
	enum policy_why why;
	int sign;
	int prefix;
	const char *rcode, *xcode;
	char status[POLICY_TEXT];
	char reply[POLICY_TEXT];
	char reason[POLICY_TEXT];
};

/* A facet of a message: SPF of the envelope, DKIM of the From domain. */
enum facet { GOOD, BAD, UNKNOWN };

/* The facets of a message, as the rules read them. */
struct facets {
	enum facet spf, dkim;
	int from_ok; /* one readable From header, its domain judged */
	int sel;     /* the selector it can be signed with, -1 */
};

/* want_facets - SPF of the envelope domain, DKIM of the From domain */
static void
want_facets(const struct policy_input *in, struct facets *f)
{
	memset(f, 0, sizeof(*f));
	if (in->env != NULL && in->env->spf_result == SPF_CHECK_TEMPERROR)
		f->spf = UNKNOWN;
	else if (in->env != NULL && in->env->spf_result != SPF_CHECK_PASS)
		f->spf = BAD;
	f->from_ok = in->from_state == POLICY_FROM_OK && in->from != NULL;
	f->sel = -1;
	if (in->published == 0)
		return; /* nothing to sign with: DKIM held against no one */
	if (f->from_ok)
		f->sel = pick(in->from->dkim_usable & in->published,
		              in->preferred_selector);
	if (f->from_ok && f->sel < 0 && dkim_unknown(in->from, in->published))
		f->dkim = UNKNOWN;
	else if (f->sel < 0)
		f->dkim = BAD;
}

/*
 * want_class - the problem class: by the facets, then a From header that
 * cannot be signed where nothing worse is wrong.
 */
static enum policy_problem
want_class(const struct facets *f)
{
	static const enum policy_problem classes[3][3] = {
	    [GOOD] = {POLICY_OK, POLICY_DKIM, POLICY_TEMPORARY},
	    [BAD] = {POLICY_SPF, POLICY_BOTH, POLICY_TEMPORARY},
	    [UNKNOWN] = {POLICY_TEMPORARY, POLICY_TEMPORARY, POLICY_TEMPORARY},
	};
	enum policy_problem p = classes[f->spf][f->dkim];

	if (!f->from_ok && (p == POLICY_OK || p == POLICY_DKIM))
		return POLICY_FROM;
	return p;
}

/* want_override - the override in force: the From domain's, else the env's */
static int
want_override(const struct world *w, const struct policy_input *in)
{
	if (strcmp(in->from_domain, FROM) == 0 && w->ovr->from != NO)
		return w->ovr->from;
	if (strcmp(in->env_domain, ENV) == 0 && w->ovr->env != NO)
		return w->ovr->env;
	return NO;
}

/* all_delegated - every selector delegated: rotation-ready */
static int
all_delegated(const struct verdict *v)
{
	for (int i = 0; i < v->nselectors; i++)
		if (v->dkim_state[i] != DEL)
			return 0;
	return 1;
}

/* want_clauses - "spf=...; dkim=..." */
static void
want_clauses(const struct policy_input *in, char *buf, size_t size)
{
	const struct verdict *f = in->from;
	char spf[128], dkim[128];

	if (in->env == NULL)
		snprintf(spf, sizeof(spf), "spf=none (null sender)");
	else
		snprintf(spf, sizeof(spf), "spf=%s (%s)",
		         spf_check_result_name(in->env->spf_result),
		         in->env->spf_detail);
	if (in->from_state == POLICY_FROM_MULTIPLE)
		snprintf(dkim, sizeof(dkim),
		         "dkim=none (several From headers)");
	else if (in->from_state != POLICY_FROM_OK || f == NULL)
		snprintf(dkim, sizeof(dkim),
		         "dkim=none (no usable From domain)");
	else if (f->nselectors == 0)
		snprintf(dkim, sizeof(dkim), "dkim=%s",
		         f->state == VERDICT_TEMPORARY ? "temperror" : "none");
	else if (all_delegated(f))
		snprintf(dkim, sizeof(dkim), "dkim=ok");
	else
		snprintf(dkim, sizeof(dkim), "dkim=%s (%s)",
		         dkim_check_state_name(f->dkim_state[f->dkim_worst]),
		         f->dkim_detail);
	snprintf(buf, size, "%s; %s", spf, dkim);
}

/* want_from_text - why a From header cannot be signed */
static const char *
want_from_text(enum policy_from state)
{
	switch (state) {
	case POLICY_FROM_MISSING:
		return "no From header, the message cannot be signed";
	case POLICY_FROM_MULTIPLE:
		return "several From headers, the message cannot be signed";
	default:
		return "the From header cannot be read, the message cannot be "
		       "signed";
	}
}

/* want_dkim_text - what the From domain must delegate: a published one */
static void
want_dkim_text(const struct config *cfg, const struct policy_input *in,
               char *buf, size_t size)
{
	int sel = pick(in->published, in->preferred_selector);

	snprintf(buf, size,
	         "%s: DKIM is not delegated, make %s._domainkey.%s a CNAME to "
	         "%s.",
	         in->from_domain, cfg->dkim_selectors[sel].name,
	         in->from_domain, cfg->dkim_selectors[sel].target);
}

/* want_fix - the one-line "what to fix" of a class ("" for ok) */
static void
want_fix(const struct config *cfg, const struct policy_input *in,
         const struct facets *f, enum policy_problem p, char *buf, size_t size)
{
	char dkim[POLICY_TEXT];

	buf[0] = '\0';
	if (p == POLICY_SPF || p == POLICY_BOTH)
		snprintf(buf, size,
		         "%s: SPF does not authorize this relay, add "
		         "include:spf.dmrmail.nl",
		         in->env_domain);
	if (p == POLICY_BOTH && f->from_ok)
		want_dkim_text(cfg, in, dkim, sizeof(dkim));
	else if (p == POLICY_BOTH || p == POLICY_FROM)
		util_strlcpy(dkim, want_from_text(in->from_state),
		             sizeof(dkim));
	else if (p == POLICY_DKIM)
		want_dkim_text(cfg, in, dkim, sizeof(dkim));
	else
		dkim[0] = '\0';
	if (dkim[0] != '\0')
		util_catf(buf, size, "%s%s", buf[0] ? "; " : "", dkim);
	if (p == POLICY_TEMPORARY)
		snprintf(buf, size,
		         "%s: the DNS records could not be checked, try again "
		         "later",
		         f->spf == UNKNOWN ? in->env_domain : in->from_domain);
}

/* want_action - the action of a problem, and why; exempt: no problem */
static enum policy_action
want_action(const struct world *w, const struct policy_input *in,
            enum policy_problem p, struct want *x, int *exempt)
{
	int o = want_override(w, in);
	enum policy_action a;
	int64_t since = in->first_seen_bad ? in->first_seen_bad : in->now;
	char date[16];

	*exempt = o == CONFIG_ACTION_EXEMPT;
	if (o != NO) {
		x->why = POLICY_WHY_OVERRIDE;
		if (*exempt)
			return POLICY_PASS;
		a = override_action(o);
		return p == POLICY_TEMPORARY && a == POLICY_REJECT
		           ? POLICY_DEFER
		           : a;
	}
	a = class_action(w, p);
	if (!refusing(a))
		return a;
	if (w->enforce[0] != '\0' && in->now < time_of(w->enforce)) {
		x->why = POLICY_WHY_ENFORCE;
		util_catf(x->reason, sizeof(x->reason), "; enforced from %s",
		          w->enforce);
		return POLICY_TAG;
	}
	if ((p == POLICY_SPF || p == POLICY_DKIM || p == POLICY_BOTH) &&
	    in->now < since + 7 * DAY) {
		x->why = POLICY_WHY_GRACE;
		date_of(since + 7 * DAY, date, sizeof(date));
		util_catf(x->reason, sizeof(x->reason),
		          "; grace period until %s", date);
		return POLICY_TAG;
	}
	return a;
}

/* want_refusal - the codes and reply of a refused message */
static void
want_refusal(const struct world *w, const char *fix, struct want *x)
{
	if (!refusing(x->action))
		return;
	x->rcode = x->action == POLICY_DEFER ? "451" : "550";
	x->xcode = x->problem == POLICY_TEMPORARY ? "4.4.3"
	           : x->action == POLICY_DEFER    ? "4.7.1"
	                                          : "5.7.1";
	util_strlcpy(x->reply, fix, sizeof(x->reply));
	if (w->extras)
		util_catf(x->reply, sizeof(x->reply), " (%s)", HELP);
}

/* want - the decision the rules give */
static void
want(const struct world *w, const struct policy_input *in, struct want *x)
{
	static const char *const words[] = {"configured", "partial",
	                                    "partial",    "unconfigured",
	                                    "temporary",  "unsigned"};
	struct facets f;
	char fix[POLICY_TEXT], clauses[300], suffix[POLICY_TEXT];
	int exempt = 0;

	memset(x, 0, sizeof(*x));
	x->sign = -1;
	x->rcode = x->xcode = "";
	if (!in->in_scope && !w->outside_policy) {
		x->action = POLICY_PASS;
		x->why = POLICY_WHY_SCOPE;
		util_strlcpy(x->reason, "client outside the scope",
		             sizeof(x->reason));
		return;
	}
	want_facets(in, &f);
	x->problem = want_class(&f);
	if (x->problem != POLICY_OK)
		x->action = want_action(w, in, x->problem, x, &exempt);
	util_strlcpy(suffix, x->reason, sizeof(suffix));
	if (in->in_scope && f.from_ok && !refusing(x->action))
		x->sign = f.sel;
	if (x->problem == POLICY_OK || exempt)
		x->action = x->sign >= 0 ? POLICY_SIGN : POLICY_PASS;
	if (!in->in_scope)
		x->why = POLICY_WHY_SCOPE;
	x->prefix = x->action == POLICY_TAG && w->extras;
	want_clauses(in, clauses, sizeof(clauses));
	snprintf(x->status, sizeof(x->status), "%s; %s", words[x->problem],
	         clauses);
	want_fix(w->cfg, in, &f, x->problem, fix, sizeof(fix));
	util_strlcpy(x->reason, fix[0] ? fix : clauses, sizeof(x->reason));
	util_catf(x->reason, sizeof(x->reason), "%s", suffix);
	want_refusal(w, fix, x);
}

/* describe - a row, for a failure message */
static void
describe(const struct world *w, const struct policy_input *in,
         const char *from_name, char *buf, size_t size)
{
	snprintf(buf, size,
	         "actions=%s override=\"%s\" enforce=\"%s\" outside=%s "
	         "extras=%d | scope=%s env=%s(%s) from=%s(%s) published=%u "
	         "preferred=%d first_seen_bad=now%+lldd",
	         w->actions ? w->actions->spf : "defaults", w->ovr->name,
	         w->enforce, w->outside_policy ? "policy" : "pass", w->extras,
	         in->in_scope ? "in" : "out", in->env_domain,
	         in->env ? spf_check_result_name(in->env->spf_result) : "-",
	         from_name, in->from_domain, in->published,
	         in->preferred_selector,
	         (long long) ((in->first_seen_bad - in->now) / DAY));
}

/* compare - the decision against the rules; 0 if alike */
static int
compare(const struct want *x, const struct policy_decision *d, char *buf,
        size_t size)
{
	if (d->action != x->action || d->problem != x->problem ||
	    d->why != x->why || d->sign_selector != x->sign ||
	    d->prefix_subject != x->prefix)
		return snprintf(buf, size,
		                "action %s/%s problem %s/%s why %d/%d sign "
		                "%d/%d prefix %d/%d (got/want)",
		                policy_action_name(d->action),
		                policy_action_name(x->action),
		                policy_problem_name(d->problem),
		                policy_problem_name(x->problem), d->why, x->why,
		                d->sign_selector, x->sign, d->prefix_subject,
		                x->prefix);
	if (strcmp(d->rcode, x->rcode) != 0 || strcmp(d->xcode, x->xcode) != 0)
		return snprintf(buf, size, "codes \"%s %s\", want \"%s %s\"",
		                d->rcode, d->xcode, x->rcode, x->xcode);
	if (strcmp(d->reply, x->reply) != 0)
		return snprintf(buf, size, "reply\n  \"%s\", want\n  \"%s\"",
		                d->reply, x->reply);
	if (strcmp(d->status, x->status) != 0)
		return snprintf(buf, size, "status\n  \"%s\", want\n  \"%s\"",
		                d->status, x->status);
	if (strcmp(d->reason, x->reason) != 0)
		return snprintf(buf, size, "reason\n  \"%s\", want\n  \"%s\"",
		                d->reason, x->reason);
	return 0;
}

/* mkinput - a message of the cross product */
static void
mkinput(struct policy_input *in, int in_scope, const struct env_kind *e,
        const struct from_kind *f, const char *from_domain, unsigned published,
        int preferred, int64_t first_seen_bad)
{
	memset(in, 0, sizeof(*in));
	in->in_scope = in_scope;
	in->env_domain = e->null ? "" : ENV;
	in->env = e->null ? NULL : &e->v;
	in->from_domain = f->has_domain ? from_domain : "";
	in->from = f->has_verdict ? &f->v : NULL;
	in->from_state = f->state;
	in->preferred_selector = preferred;
	in->published = published;
	in->now = now;
	in->first_seen_bad = first_seen_bad;
}

/* Counters of the cross product, so a vacuous table shows. */
struct tally {
	unsigned long rows;
	unsigned long action[POLICY_MONITOR + 1];
	unsigned long problem[POLICY_FROM + 1];
	unsigned long why[POLICY_WHY_SCOPE + 1];
	unsigned long signed_rows;
	unsigned long envelope_refusals, envelope_rows;
};

/* check_row - one message: the decision is the rules' */
static void
check_row(const struct world *w, const struct policy_input *in,
          const char *from_name, struct tally *t)
{
	struct policy_decision d;
	struct want x;
	char diff[2 * POLICY_TEXT], row[512];

	memset(&d, 0x5a, sizeof(d));
	policy_decide(w->cfg, in, &d);
	want(w, in, &x);
	if (compare(&x, &d, diff, sizeof(diff)) != 0) {
		describe(w, in, from_name, row, sizeof(row));
		fail_msg("%s\n%s", row, diff);
	}
	t->rows++;
	t->action[d.action]++;
	t->problem[d.problem]++;
	t->why[d.why]++;
	t->signed_rows += d.sign_selector >= 0;
}

static const int64_t seen_days[] = {0, -1, -8}; /* now, within, after */

/* check_messages - every message of the cross product in one world */
static void
check_messages(const struct world *w, int in_scope, struct tally *t)
{
	struct policy_input in;

	for (size_t e = 0; e < NENVS; e++)
		for (size_t f = 0; f < NFROMS; f++)
			for (unsigned pub = 0; pub < 4; pub++)
				for (int pref = 0; pref < 2; pref++)
					for (size_t s = 0; s < 3; s++) {
						mkinput(
						    &in, in_scope, &envs[e],
						    &froms[f], FROM, pub, pref,
						    now + seen_days[s] * DAY);
						check_row(w, &in, froms[f].name,
						          t);
					}
}

/*
 * envelope_refused_always - is a message of this envelope refused whatever
 * From header comes: every kind, with the envelope's own domain or one no
 * override names?
 */
static int
envelope_refused_always(const struct world *w, const struct policy_input *env)
{
	static const char *const domains[] = {ENV, OTHER};
	struct policy_decision d;
	struct policy_input in;
	int all = 1;

	for (size_t dom = 0; dom < 2; dom++) {
		for (size_t f = 0; f < NFROMS; f++) {
			in = *env;
			in.from_domain =
			    froms[f].has_domain ? domains[dom] : "";
			in.from = froms[f].has_verdict ? &froms[f].v : NULL;
			in.from_state = froms[f].state;
			policy_decide(w->cfg, &in, &d);
			all &= d.rcode[0] != '\0';
		}
	}
	return all;
}

/* check_envelope - policy_envelope() refuses exactly when nothing helps */
static void
check_envelope(const struct world *w, int in_scope, struct tally *t)
{
	struct policy_decision d;
	struct policy_input in;
	char row[512];

	for (size_t e = 0; e < NENVS; e++)
		for (unsigned pub = 0; pub < 4; pub++)
			for (size_t s = 0; s < 3; s++) {
				int got, all;

				mkinput(&in, in_scope, &envs[e], &froms[8], "",
				        pub, 0, now + seen_days[s] * DAY);
				in.from_state =
				    POLICY_FROM_OK; /* not seen yet */
				memset(&d, 0, sizeof(d));
				got = policy_envelope(w->cfg, &in, &d);
				all = !envs[e].null &&
				      envelope_refused_always(w, &in);
				t->envelope_rows++;
				t->envelope_refusals += got != 0;
				if (got == all &&
				    (!got || (d.rcode[0] &&
				              strncmp(d.reply, ENV ": ",
				                      strlen(ENV) + 2) == 0)))
					continue;
				describe(w, &in, "(envelope)", row,
				         sizeof(row));
				fail_msg(
				    "%s\npolicy_envelope %d, refused whatever "
				    "the From: %d; reply \"%s %s %s\"",
				    row, got, all, d.rcode, d.xcode, d.reply);
			}
}

/* The cross product. */
static void
test_cross_product(void **state)
{
	struct tally t = {0};

	(void) state;
	for (size_t a = 0; a < NACTIONS; a++)
		for (size_t o = 0; o < NOVERRIDES; o++)
			for (size_t e = 0; e < 3; e++)
				for (int out = 0; out < 2; out++) {
					struct world w = {
					    .actions = action_sets[a],
					    .ovr = &override_sets[o],
					    .enforce = enforce_dates[e],
					    .outside_policy = out,
					    .extras = (int) ((a + o) % 2)};

					world_load(&w);
					if (!out)
						check_messages(&w, 1, &t);
					check_messages(&w, 0, &t);
					check_envelope(&w, !out, &t);
					config_release(w.cfg);
				}
	print_message("%lu decisions: pass %lu sign %lu tag %lu defer %lu "
	              "reject %lu monitor %lu; signed %lu; envelope %lu of "
	              "%lu refused\n",
	              t.rows, t.action[POLICY_PASS], t.action[POLICY_SIGN],
	              t.action[POLICY_TAG], t.action[POLICY_DEFER],
	              t.action[POLICY_REJECT], t.action[POLICY_MONITOR],
	              t.signed_rows, t.envelope_refusals, t.envelope_rows);
	for (int i = 0; i <= POLICY_MONITOR; i++)
		assert_true(t.action[i] > 1000);
	for (int i = 0; i <= POLICY_FROM; i++)
		assert_true(t.problem[i] > 1000);
	for (int i = 0; i <= POLICY_WHY_SCOPE; i++)
		assert_true(t.why[i] > 1000);
	assert_true(t.signed_rows > 1000);
	assert_true(t.envelope_refusals > 100);
	assert_true(t.envelope_refusals < t.envelope_rows / 2);
}

/* A message of a hand-written row: its domains and what they have. */
struct msg {
	const char *env; /* "" for the null sender */
	enum spf_check_result spf;
	enum spf_check_reason spf_reason;
	const char *spf_detail;
	const char *from; /* "" if none */
	enum policy_from from_state;
	int a, b; /* the From domain's selectors */
	unsigned published;
	int preferred;
	int out_of_scope;
	int seen_days; /* first_seen_bad: now + days; 1: never (0) */
};

/* What a hand-written row must give. */
struct outcome {
	enum policy_action action;
	int sign;
	const char *rcode, *xcode;
	const char *reply;  /* exact */
	const char *status; /* exact; NULL: not checked */
	const char *reason; /* exact; NULL: not checked */
	enum policy_why why;
};

struct text_case {
	const char *what;
	const char *config;
	struct msg m;
	struct outcome o;
};

/* The usual message: example.nl for both, nothing set up, past grace. */
#define SPF_FAIL                                                               \
	SPF_CHECK_FAIL, SPF_CHECK_R_MATCH, "include:spf.dmrmail.nl missing"
#define SPF_PASS SPF_CHECK_PASS, SPF_CHECK_R_MATCH, "include:spf.dmrmail.nl"
#define HELP_CFG "policy: { help_url = \"" HELP "\"; };"
#define SPF_FIX "SPF does not authorize this relay, add include:spf.dmrmail.nl"
#define A_FIX(d)                                                               \
	d ": DKIM is not delegated, make prezent-a._domainkey." d " a CNAME "  \
	  "to _dkim-a.prezent.nl."
#define B_FIX(d)                                                               \
	d ": DKIM is not delegated, make prezent-b._domainkey." d " a CNAME "  \
	  "to _dkim-b.prezent.nl."

static const struct text_case text_cases[] = {
    {"the issue's example: both missing, deferred with the help URL",
     HELP_CFG,
     {"example.nl", SPF_FAIL, "example.nl", POLICY_FROM_OK, MIS, MIS, 3, 0, 0,
      -30},
     {POLICY_DEFER, -1, "451", "4.7.1",
      "example.nl: " SPF_FIX "; " A_FIX("example.nl") " (" HELP ")",
      "unconfigured; spf=fail (include:spf.dmrmail.nl missing); "
      "dkim=missing (prezent-a._domainkey.example.nl)",
      "example.nl: " SPF_FIX "; " A_FIX("example.nl"), POLICY_WHY_CONFIG}},
    {"SPF only, deferred: the issue's reply",
     "policy: { spf_unauthorized = \"defer\"; help_url = \"" HELP "\"; };",
     {"example.nl", SPF_FAIL, "example.nl", POLICY_FROM_OK, DEL, DEL, 3, 0, 0,
      -30},
     {POLICY_DEFER, -1, "451", "4.7.1", "example.nl: " SPF_FIX " (" HELP ")",
      "partial; spf=fail (include:spf.dmrmail.nl missing); dkim=ok", NULL,
      POLICY_WHY_CONFIG}},
    {"SPF only, rejected: 550 5.7.1, no help URL configured",
     "policy: { spf_unauthorized = \"reject\"; };",
     {"example.nl", SPF_CHECK_SOFTFAIL, SPF_CHECK_R_MATCH,
      "include:spf.dmrmail.nl missing", "example.nl", POLICY_FROM_OK, DEL, DEL,
      3, 0, 0, -30},
     {POLICY_REJECT, -1, "550", "5.7.1", "example.nl: " SPF_FIX,
      "partial; spf=softfail (include:spf.dmrmail.nl missing); dkim=ok",
      "example.nl: " SPF_FIX, POLICY_WHY_CONFIG}},
    {"no SPF record",
     "policy: { spf_unauthorized = \"reject\"; };",
     {"example.nl", SPF_CHECK_NONE, SPF_CHECK_R_NO_RECORD, "no SPF record",
      "example.nl", POLICY_FROM_OK, DEL, DEL, 3, 0, 0, -30},
     {POLICY_REJECT, -1, "550", "5.7.1",
      "example.nl: no SPF record, publish one with include:spf.dmrmail.nl",
      "partial; spf=none (no SPF record); dkim=ok", NULL, POLICY_WHY_CONFIG}},
    {"two SPF records",
     "policy: { spf_unauthorized = \"reject\"; };",
     {"example.nl", SPF_CHECK_PERMERROR, SPF_CHECK_R_MULTIPLE, "2 SPF records",
      "example.nl", POLICY_FROM_OK, DEL, DEL, 3, 0, 0, -30},
     {POLICY_REJECT, -1, "550", "5.7.1",
      "example.nl: more than one SPF record, merge them into one with "
      "include:spf.dmrmail.nl",
      NULL, NULL, POLICY_WHY_CONFIG}},
    {"too many lookups",
     "policy: { spf_unauthorized = \"reject\"; };",
     {"example.nl", SPF_CHECK_PERMERROR, SPF_CHECK_R_LOOKUP_LIMIT,
      "11 DNS-querying terms, at most 10", "example.nl", POLICY_FROM_OK, DEL,
      DEL, 3, 0, 0, -30},
     {POLICY_REJECT, -1, "550", "5.7.1",
      "example.nl: the SPF record is invalid (11 DNS-querying terms, at "
      "most 10)",
      "partial; spf=permerror (11 DNS-querying terms, at most 10); dkim=ok",
      NULL, POLICY_WHY_CONFIG}},
    {"the domain does not exist",
     "policy: { spf_unauthorized = \"reject\"; };",
     {"example.nl", SPF_CHECK_NONE, SPF_CHECK_R_NO_DOMAIN, "NXDOMAIN",
      "example.nl", POLICY_FROM_OK, DEL, DEL, 3, 0, 0, -30},
     {POLICY_REJECT, -1, "550", "5.7.1",
      "example.nl: the domain does not exist in DNS", NULL, NULL,
      POLICY_WHY_CONFIG}},
    {"DKIM only, rejected, the preferred selector named",
     "policy: { dkim_undelegated = \"reject\"; };",
     {"example.nl", SPF_PASS, "example.nl", POLICY_FROM_OK, MIS, MIS, 3, 0, 0,
      -30},
     {POLICY_REJECT, -1, "550", "5.7.1", A_FIX("example.nl"),
      "partial; spf=pass (include:spf.dmrmail.nl); dkim=missing "
      "(prezent-a._domainkey.example.nl)",
      A_FIX("example.nl"), POLICY_WHY_CONFIG}},
    {"DKIM: b preferred, b named",
     "policy: { dkim_undelegated = \"defer\"; };",
     {"example.nl", SPF_PASS, "shop.example.nl", POLICY_FROM_OK, MIS, MIS, 3, 1,
      0, -30},
     {POLICY_DEFER, -1, "451", "4.7.1", B_FIX("shop.example.nl"), NULL, NULL,
      POLICY_WHY_CONFIG}},
    {"DKIM: a preferred but not published, b named",
     "policy: { dkim_undelegated = \"defer\"; };",
     {"example.nl", SPF_PASS, "shop.example.nl", POLICY_FROM_OK, DEL, MIS, 2, 0,
      0, -30},
     {POLICY_DEFER, -1, "451", "4.7.1", B_FIX("shop.example.nl"),
      "partial; spf=pass (include:spf.dmrmail.nl); dkim=missing "
      "(prezent-b._domainkey.shop.example.nl)",
      NULL, POLICY_WHY_CONFIG}},
    {"different domains, both bad: each named with its fix",
     HELP_CFG,
     {ENV, SPF_FAIL, FROM, POLICY_FROM_OK, MIS, MIS, 3, 0, 0, -30},
     {POLICY_DEFER, -1, "451", "4.7.1",
      ENV ": " SPF_FIX "; " A_FIX(FROM) " (" HELP ")", NULL, NULL,
      POLICY_WHY_CONFIG}},
    {"SPF unknown: 4.4.3 naming the envelope domain",
     HELP_CFG,
     {ENV, SPF_CHECK_TEMPERROR, SPF_CHECK_R_DNS, "timeout after 3000 ms", FROM,
      POLICY_FROM_OK, DEL, DEL, 3, 0, 0, -30},
     {POLICY_DEFER, -1, "451", "4.4.3",
      ENV ": the DNS records could not be checked, try again later (" HELP ")",
      "temporary; spf=temperror (timeout after 3000 ms); dkim=ok", NULL,
      POLICY_WHY_CONFIG}},
    {"DKIM unknown: 4.4.3 naming the From domain",
     "",
     {ENV, SPF_PASS, FROM, POLICY_FROM_OK, TMP, MIS, 1, 0, 0, -30},
     {POLICY_DEFER, -1, "451", "4.4.3",
      FROM ": the DNS records could not be checked, try again later",
      "temporary; spf=pass (include:spf.dmrmail.nl); dkim=temperror "
      "(prezent-a._domainkey.shop.example.nl)",
      NULL, POLICY_WHY_CONFIG}},
    {"an override's reject of DNS trouble defers",
     "policy: { overrides = ( " OVR(FROM, "reject") " ); };",
     {ENV, SPF_PASS, FROM, POLICY_FROM_OK, TMP, TMP, 3, 0, 0, -30},
     {POLICY_DEFER, -1, "451", "4.4.3",
      FROM ": the DNS records could not be checked, try again later", NULL,
      NULL, POLICY_WHY_OVERRIDE}},
    {"an override's reject of a misconfiguration rejects, in grace too",
     "policy: { overrides = ( " OVR(FROM, "reject") " ); };",
     {ENV, SPF_PASS, FROM, POLICY_FROM_OK, MIS, MIS, 3, 0, 0, 0},
     {POLICY_REJECT, -1, "550", "5.7.1", A_FIX(FROM), NULL, NULL,
      POLICY_WHY_OVERRIDE}},
    {"grace period: tagged, signed, no reply",
     "policy: { spf_unauthorized = \"defer\"; subject_prefix = \"[SPF] \"; };",
     {"example.nl", SPF_FAIL, "example.nl", POLICY_FROM_OK, DEL, DEL, 3, 0, 0,
      -1},
     {POLICY_TAG, 0, "", "", "",
      "partial; spf=fail (include:spf.dmrmail.nl missing); dkim=ok",
      "example.nl: " SPF_FIX "; grace period until 2027-06-21",
      POLICY_WHY_GRACE}},
    {"grace period of a domain first seen bad now",
     "policy: { both = \"reject\"; };",
     {"example.nl", SPF_FAIL, "example.nl", POLICY_FROM_OK, MIS, MIS, 3, 0, 0,
      1},
     {POLICY_TAG, -1, "", "", "", NULL,
      "example.nl: " SPF_FIX "; " A_FIX("example.nl") "; grace period until "
                                                      "2027-06-22",
      POLICY_WHY_GRACE}},
    {"grace period 0: no grace",
     "policy: { grace_period = 0; };",
     {"example.nl", SPF_FAIL, "example.nl", POLICY_FROM_OK, MIS, MIS, 3, 0, 0,
      1},
     {POLICY_DEFER, -1, "451", "4.7.1",
      "example.nl: " SPF_FIX "; " A_FIX("example.nl"), NULL, NULL,
      POLICY_WHY_CONFIG}},
    {"grace period of a day, seen bad 24 hours ago: over",
     "policy: { grace_period = \"1d\"; };",
     {"example.nl", SPF_FAIL, "example.nl", POLICY_FROM_OK, MIS, MIS, 3, 0, 0,
      -1},
     {POLICY_DEFER, -1, "451", "4.7.1",
      "example.nl: " SPF_FIX "; " A_FIX("example.nl"), NULL, NULL,
      POLICY_WHY_CONFIG}},
    {"before enforce_from: tagged, saying from when",
     "policy: { enforce_from = \"2027-06-16\"; };",
     {"example.nl", SPF_FAIL, "example.nl", POLICY_FROM_OK, MIS, MIS, 3, 0, 0,
      -30},
     {POLICY_TAG, -1, "", "", "", NULL,
      "example.nl: " SPF_FIX "; " A_FIX("example.nl") "; enforced from "
                                                      "2027-06-16",
      POLICY_WHY_ENFORCE}},
    {"enforce_from today: enforced",
     "policy: { enforce_from = \"2027-06-15\"; };",
     {"example.nl", SPF_FAIL, "example.nl", POLICY_FROM_OK, MIS, MIS, 3, 0, 0,
      -30},
     {POLICY_DEFER, -1, "451", "4.7.1",
      "example.nl: " SPF_FIX "; " A_FIX("example.nl"), NULL, NULL,
      POLICY_WHY_CONFIG}},
    {"configured: signed whatever the mode",
     "policy: { spf_unauthorized = \"reject\"; dkim_undelegated = "
     "\"reject\"; both = \"reject\"; multiple_from = \"reject\"; "
     "subject_prefix = \"[x] \"; };",
     {"example.nl", SPF_PASS, "example.nl", POLICY_FROM_OK, DEL, DEL, 3, 1, 0,
      -30},
     {POLICY_SIGN, 1, "", "", "",
      "configured; spf=pass (include:spf.dmrmail.nl); dkim=ok",
      "spf=pass (include:spf.dmrmail.nl); dkim=ok", POLICY_WHY_CONFIG}},
    {"configured, only b delegated, a preferred: signed with b",
     "",
     {"example.nl", SPF_PASS, "example.nl", POLICY_FROM_OK, MIS, DEL, 3, 0, 0,
      -30},
     {POLICY_SIGN, 1, "", "", "", NULL, NULL, POLICY_WHY_CONFIG}},
    {"the provider publishes no key: DKIM held against no one",
     "",
     {"example.nl", SPF_PASS, "example.nl", POLICY_FROM_OK, MIS, MIS, 0, 0, 0,
      -30},
     {POLICY_PASS, -1, "", "", "", NULL, NULL, POLICY_WHY_CONFIG}},
    {"outside the scope, pass: untouched",
     "",
     {"example.nl", SPF_PASS, "example.nl", POLICY_FROM_OK, DEL, DEL, 3, 0, 1,
      -30},
     {POLICY_PASS, -1, "", "", "", "", "client outside the scope",
      POLICY_WHY_SCOPE}},
    {"outside the scope, policy: configured but never signed",
     "scope: { outside = \"policy\"; };",
     {"example.nl", SPF_PASS, "example.nl", POLICY_FROM_OK, DEL, DEL, 3, 0, 1,
      -30},
     {POLICY_PASS, -1, "", "", "", NULL, NULL, POLICY_WHY_SCOPE}},
    {"outside the scope, policy: tagged, not signed",
     "scope: { outside = \"policy\"; }; policy: { subject_prefix = \"[x] \"; "
     "};",
     {"example.nl", SPF_FAIL, "example.nl", POLICY_FROM_OK, DEL, DEL, 3, 0, 1,
      -30},
     {POLICY_TAG, -1, "", "", "",
      "partial; spf=fail (include:spf.dmrmail.nl missing); dkim=ok", NULL,
      POLICY_WHY_SCOPE}},
    {"several From headers, tagged: never signed",
     "",
     {"example.nl", SPF_PASS, "example.nl", POLICY_FROM_MULTIPLE, DEL, DEL, 3,
      0, 0, -30},
     {POLICY_TAG, -1, "", "", "",
      "unsigned; spf=pass (include:spf.dmrmail.nl); dkim=none (several From "
      "headers)",
      "several From headers, the message cannot be signed", POLICY_WHY_CONFIG}},
    {"several From headers, rejected",
     "policy: { multiple_from = \"reject\"; help_url = \"" HELP "\"; };",
     {"example.nl", SPF_PASS, "example.nl", POLICY_FROM_MULTIPLE, DEL, DEL, 3,
      0, 0, 1},
     {POLICY_REJECT, -1, "550", "5.7.1",
      "several From headers, the message cannot be signed (" HELP ")", NULL,
      NULL, POLICY_WHY_CONFIG}},
    {"several From headers and SPF fails: both",
     "policy: { multiple_from = \"tag\"; both = \"reject\"; };",
     {"example.nl", SPF_FAIL, "example.nl", POLICY_FROM_MULTIPLE, DEL, DEL, 3,
      0, 0, -30},
     {POLICY_REJECT, -1, "550", "5.7.1",
      "example.nl: " SPF_FIX
      "; several From headers, the message cannot be signed",
      "unconfigured; spf=fail (include:spf.dmrmail.nl missing); dkim=none "
      "(several From headers)",
      NULL, POLICY_WHY_CONFIG}},
    {"no From header: the From class",
     "policy: { multiple_from = \"reject\"; };",
     {"example.nl", SPF_PASS, "", POLICY_FROM_MISSING, NO, NO, 3, 0, 0, -30},
     {POLICY_REJECT, -1, "550", "5.7.1",
      "no From header, the message cannot be signed",
      "unsigned; spf=pass (include:spf.dmrmail.nl); dkim=none (no usable "
      "From domain)",
      NULL, POLICY_WHY_CONFIG}},
    {"an unreadable From header, SPF failing",
     "policy: { spf_unauthorized = \"reject\"; };",
     {"example.nl", SPF_FAIL, "", POLICY_FROM_INVALID, NO, NO, 3, 0, 0, -30},
     {POLICY_DEFER, -1, "451", "4.7.1",
      "example.nl: " SPF_FIX "; the From header cannot be read, the message "
      "cannot be signed",
      NULL, NULL, POLICY_WHY_CONFIG}},
    {"null sender, From configured: signed",
     "",
     {"", SPF_PASS, "example.nl", POLICY_FROM_OK, DEL, DEL, 3, 0, 0, -30},
     {POLICY_SIGN, 0, "", "", "", "configured; spf=none (null sender); dkim=ok",
      "spf=none (null sender); dkim=ok", POLICY_WHY_CONFIG}},
    {"null sender, From not delegated: the DKIM class",
     "policy: { dkim_undelegated = \"defer\"; };",
     {"", SPF_PASS, "example.nl", POLICY_FROM_OK, MIS, MIS, 3, 0, 0, -30},
     {POLICY_DEFER, -1, "451", "4.7.1", A_FIX("example.nl"),
      "partial; spf=none (null sender); dkim=missing "
      "(prezent-a._domainkey.example.nl)",
      NULL, POLICY_WHY_CONFIG}},
    {"exempt, set up: still signed",
     "policy: { overrides = ( " OVR("*.example.nl", "exempt") " ); };",
     {"example.nl", SPF_FAIL, "shop.example.nl", POLICY_FROM_OK, DEL, MIS, 3, 0,
      0, -30},
     {POLICY_SIGN, 0, "", "", "", NULL, NULL, POLICY_WHY_OVERRIDE}},
    {"exempt, not set up: passes",
     "policy: { overrides = ( " OVR("example.nl", "exempt") " ); };",
     {"example.nl", SPF_FAIL, "example.nl", POLICY_FROM_OK, MIS, MIS, 3, 0, 0,
      -30},
     {POLICY_PASS, -1, "", "", "", NULL, NULL, POLICY_WHY_OVERRIDE}},
    {"exempt, several From headers: passes unsigned",
     "policy: { overrides = ( " OVR("example.nl", "exempt") " ); };",
     {"example.nl", SPF_PASS, "example.nl", POLICY_FROM_MULTIPLE, DEL, DEL, 3,
      0, 0, -30},
     {POLICY_PASS, -1, "", "", "", NULL, NULL, POLICY_WHY_OVERRIDE}},
};

/* run_text_case - the decision of a hand-written row */
static void
run_text_case(const struct text_case *c, struct policy_decision *d)
{
	const struct msg *m = &c->m;
	struct config *cfg = load(c->config);
	struct verdict env, from;
	struct policy_input in = {
	    .in_scope = !m->out_of_scope,
	    .env_domain = m->env,
	    .env = m->env[0] ? &env : NULL,
	    .from_domain = m->from,
	    .from = m->from_state == POLICY_FROM_OK ||
	                    m->from_state == POLICY_FROM_MULTIPLE
	                ? &from
	                : NULL,
	    .from_state = m->from_state,
	    .preferred_selector = m->preferred,
	    .published = m->published,
	    .now = now,
	    .first_seen_bad = m->seen_days == 1 ? 0 : now + m->seen_days * DAY};

	mkverdict(&env, m->env, m->spf, m->spf_reason, m->spf_detail, MIS, MIS);
	mkverdict(&from, m->from, SPF_CHECK_PASS, SPF_CHECK_R_MATCH,
	          "include:spf.dmrmail.nl", m->a, m->b);
	policy_decide(cfg, &in, d);
	assert_int_equal(d->prefix_subject,
	                 d->action == POLICY_TAG &&
	                     cfg->policy_subject_prefix[0] != '\0');
	config_release(cfg);
}

/* The texts, codes and selectors of hand-written rows. */
static void
test_texts(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(text_cases) / sizeof(text_cases[0]);
	     i++) {
		const struct text_case *c = &text_cases[i];
		const struct outcome *o = &c->o;
		struct policy_decision d;

		print_message("%s\n", c->what);
		run_text_case(c, &d);
		assert_string_equal(policy_action_name(d.action),
		                    policy_action_name(o->action));
		assert_int_equal(d.sign_selector, o->sign);
		assert_string_equal(d.rcode, o->rcode);
		assert_string_equal(d.xcode, o->xcode);
		assert_string_equal(d.reply, o->reply);
		if (o->status != NULL)
			assert_string_equal(d.status, o->status);
		if (o->reason != NULL)
			assert_string_equal(d.reason, o->reason);
		assert_int_equal(d.why, o->why);
	}
}

/* A row of policy_envelope(): an envelope alone. */
struct envelope_case {
	const char *what;
	const char *config;
	const char *env;
	enum spf_check_result spf;
	int out_of_scope;
	int seen_days;
	int refused;
	const char *rcode, *xcode, *reply;
};

/* both and temporary defer by default */
#define ALL_DEFER                                                              \
	"policy: { spf_unauthorized = \"defer\"; dkim_undelegated = "          \
	"\"defer\"; "

static const struct envelope_case envelope_cases[] = {
    {"defaults: SPF alone is tagged", "", "example.nl", SPF_CHECK_FAIL, 0, -30,
     0, "", "", ""},
    {"SPF and both defer: refused at MAIL FROM", ALL_DEFER "};", "example.nl",
     SPF_CHECK_FAIL, 0, -30, 1, "451", "4.7.1", "example.nl: " SPF_FIX},
    {"SPF rejects, both defers: the reply of a set-up From",
     "policy: { spf_unauthorized = \"reject\"; };", "example.nl",
     SPF_CHECK_FAIL, 0, -30, 1, "550", "5.7.1", "example.nl: " SPF_FIX},
    {"in the grace period: wait", ALL_DEFER "};", "example.nl", SPF_CHECK_FAIL,
     0, -1, 0, "", "", ""},
    {"both tags: wait", ALL_DEFER "both = \"tag\"; };", "example.nl",
     SPF_CHECK_FAIL, 0, -30, 0, "", "", ""},
    {"DNS trouble at the From domain would tag: wait",
     ALL_DEFER "temporary = \"tag\"; };", "example.nl", SPF_CHECK_FAIL, 0, -30,
     0, "", "", ""},
    {"SPF unknown: deferred at MAIL FROM", "", "example.nl",
     SPF_CHECK_TEMPERROR, 0, -30, 1, "451", "4.4.3",
     "example.nl: the DNS records could not be checked, try again later"},
    {"SPF unknown, temporary tags: wait", "policy: { temporary = \"tag\"; };",
     "example.nl", SPF_CHECK_TEMPERROR, 0, -30, 0, "", "", ""},
    {"SPF passes: wait", ALL_DEFER "};", "example.nl", SPF_CHECK_PASS, 0, -30,
     0, "", "", ""},
    {"null sender: wait", ALL_DEFER "};", "", SPF_CHECK_NONE, 0, -30, 0, "", "",
     ""},
    {"outside the scope: untouched", ALL_DEFER "};", "example.nl",
     SPF_CHECK_FAIL, 1, -30, 0, "", "", ""},
    {"outside the scope, judged: refused",
     "scope: { outside = \"policy\"; };"
     " " ALL_DEFER "};",
     "example.nl", SPF_CHECK_FAIL, 1, -30, 1, "451", "4.7.1",
     "example.nl: " SPF_FIX},
    {"the envelope domain rejected by an override, in its grace period",
     "policy: { overrides = ( " OVR("example.nl", "reject") " ); };",
     "example.nl", SPF_CHECK_FAIL, 0, 0, 1, "550", "5.7.1",
     "example.nl: " SPF_FIX},
    {"the envelope domain exempt",
     ALL_DEFER "overrides = ( " OVR("example.nl", "exempt") " ); };",
     "example.nl", SPF_CHECK_FAIL, 0, -30, 0, "", "", ""},
};

/* policy_envelope(): refused at MAIL FROM only when nothing can help. */
static void
test_envelope(void **state)
{
	(void) state;
	for (size_t i = 0;
	     i < sizeof(envelope_cases) / sizeof(envelope_cases[0]); i++) {
		const struct envelope_case *c = &envelope_cases[i];
		struct config *cfg = load(c->config);
		struct verdict env;
		struct policy_decision d;
		struct policy_input in = {.in_scope = !c->out_of_scope,
		                          .env_domain = c->env,
		                          .env = c->env[0] ? &env : NULL,
		                          .from_domain = "",
		                          .preferred_selector = 0,
		                          .published = 3,
		                          .now = now,
		                          .first_seen_bad =
		                              now + c->seen_days * DAY};

		print_message("%s\n", c->what);
		mkverdict(&env, c->env, c->spf, SPF_CHECK_R_MATCH,
		          "include:spf.dmrmail.nl missing", MIS, MIS);
		memset(&d, 0, sizeof(d));
		assert_int_equal(policy_envelope(cfg, &in, &d), c->refused);
		if (c->refused) {
			assert_string_equal(d.rcode, c->rcode);
			assert_string_equal(d.xcode, c->xcode);
			assert_string_equal(d.reply, c->reply);
			assert_int_equal(d.sign_selector, -1);
		}
		config_release(cfg);
	}
}

/* A boundary: the configuration, the clock and first_seen_bad. */
struct boundary_case {
	const char *what;
	const char *config;
	int64_t now;       /* seconds from 2027-06-15 00:00 UTC */
	int64_t seen_days; /* first_seen_bad: days and seconds from it */
	int64_t seen_secs;
	enum policy_action action;
};

#define EXPIRING                                                               \
	"policy: { overrides = ( " OVRX("example.nl", "monitor",               \
	                                "2027-06-15") " ); };"

static const struct boundary_case boundary_cases[] = {
    {"enforce_from, a second before",
     "policy: { enforce_from = "
     "\"2027-06-15\"; };",
     -1, -30, 0, POLICY_TAG},
    {"enforce_from, at midnight", "policy: { enforce_from = \"2027-06-15\"; };",
     0, -30, 0, POLICY_DEFER},
    {"grace, a second before its end", "", 0, -7, 1, POLICY_TAG},
    {"grace, at its end", "", 0, -7, 0, POLICY_DEFER},
    {"grace of 90 minutes, a minute left",
     "policy: { grace_period = "
     "\"1h30m\"; };",
     0, 0, -89 * 60, POLICY_TAG},
    {"override expiring, a second before", EXPIRING, -1, -30, 0,
     POLICY_MONITOR},
    {"override expiring, at midnight", EXPIRING, 0, -30, 0, POLICY_DEFER},
};

/* Dates are UTC midnights; periods end on the second. */
static void
test_boundaries(void **state)
{
	int64_t midnight = time_of("2027-06-15");

	(void) state;
	for (size_t i = 0;
	     i < sizeof(boundary_cases) / sizeof(boundary_cases[0]); i++) {
		const struct boundary_case *c = &boundary_cases[i];
		struct config *cfg = load(c->config);
		struct verdict v;
		struct policy_decision d;
		struct policy_input in = {.in_scope = 1,
		                          .env_domain = "example.nl",
		                          .env = &v,
		                          .from_domain = "example.nl",
		                          .from = &v,
		                          .preferred_selector = 0,
		                          .published = 3,
		                          .now = midnight + c->now,
		                          .first_seen_bad = midnight +
		                                            c->seen_days * DAY +
		                                            c->seen_secs};

		print_message("%s\n", c->what);
		mkverdict(&v, "example.nl", SPF_FAIL, MIS, MIS);
		policy_decide(cfg, &in, &d);
		assert_string_equal(policy_action_name(d.action),
		                    policy_action_name(c->action));
		assert_int_equal(d.rcode[0] != '\0', c->action == POLICY_DEFER);
		config_release(cfg);
	}
}

static void
test_names(void **state)
{
	static const char *const actions[] = {"pass",  "sign",   "tag",
	                                      "defer", "reject", "monitor"};
	static const char *const problems[] = {"ok",   "spf",       "dkim",
	                                       "both", "temporary", "from"};

	(void) state;
	for (int i = 0; i < 6; i++) {
		assert_string_equal(policy_action_name((enum policy_action) i),
		                    actions[i]);
		assert_string_equal(
		    policy_problem_name((enum policy_problem) i), problems[i]);
	}
	assert_string_equal(policy_action_name((enum policy_action) 6), "?");
	assert_string_equal(policy_problem_name((enum policy_problem) 6), "?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cross_product),
	    cmocka_unit_test(test_texts),
	    cmocka_unit_test(test_envelope),
	    cmocka_unit_test(test_boundaries),
	    cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, setup_kinds, NULL);
}
