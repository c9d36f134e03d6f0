/*
 * check_report - a domain check as records, statuses and fixes.
 *
 * One function per item kind; each reads only the check's own results
 * (and, for the SPF fix, spf_merge), so nothing here judges DNS answers
 * a second time.
 */

#include <stdio.h>
#include <string.h>

#include "check_report.h"
#include "dkim_record.h"
#include "util.h"

/* The recommended DMARC record for a domain without one. */
#define CHECK_REPORT_DMARC_SUGGESTION "v=DMARC1; p=none"

static const char *const check_report_status_names[] = {
    [CHECK_REPORT_OK] = "ok",
    [CHECK_REPORT_WARNING] = "warning",
    [CHECK_REPORT_FAIL] = "fail",
    [CHECK_REPORT_TEMPORARY] = "temporary",
};

/* check_report_status_name - the status as a word */
const char *
check_report_status_name(enum check_report_status status)
{
	if ((unsigned) status > CHECK_REPORT_TEMPORARY)
		return "?";
	return check_report_status_names[status];
}

/* check_report_part_name - the part as a word */
const char *
check_report_part_name(enum check_report_part part)
{
	static const char *const names[] = {
	    [CHECK_REPORT_SPF] = "spf",
	    [CHECK_REPORT_DKIM] = "dkim",
	    [CHECK_REPORT_KEY] = "key",
	    [CHECK_REPORT_DMARC] = "dmarc",
	};

	return (unsigned) part > CHECK_REPORT_DMARC ? "?" : names[part];
}

/* check_report_actor_name - who acts, as a word */
const char *
check_report_actor_name(enum check_report_actor actor)
{
	static const char *const names[] = {
	    [CHECK_REPORT_NOBODY] = "",
	    [CHECK_REPORT_CUSTOMER] = "customer",
	    [CHECK_REPORT_PROVIDER] = "provider",
	    [CHECK_REPORT_RETRY] = "retry",
	};

	return (unsigned) actor > CHECK_REPORT_RETRY ? "?" : names[actor];
}

/* check_report_txt_line - a TXT record in zone-file syntax */
void
check_report_txt_line(const char *name, const char *text, char *buf,
                      size_t size)
{
	char zone[CHECK_REPORT_TEXT];

	dkim_record_zone(text, zone, sizeof(zone));
	buf[0] = '\0';
	util_catf(buf, size, "%s. IN TXT %s", name, zone);
}

/* check_report_add - the next item, its names set */
static struct check_report_item *
check_report_add(struct check_report *r, enum check_report_part part,
                 const char *selector, const char *name, const char *type)
{
	struct check_report_item *it = &r->item[r->nitems++];

	it->part = part;
	util_strlcpy(it->selector, selector, sizeof(it->selector));
	util_strlcpy(it->name, name, sizeof(it->name));
	util_strlcpy(it->type, type, sizeof(it->type));
	return it;
}

/* check_report_spf_found - the SPF record as found */
static void
check_report_spf_found(const struct spf_check_verdict *v, char *buf,
                       size_t size)
{
	switch (v->record_status) {
	case SPF_CHECK_REC_UNKNOWN:
		snprintf(buf, size, "unknown (not fetched)");
		break;
	case SPF_CHECK_REC_ABSENT:
		snprintf(buf, size, "no SPF record");
		break;
	case SPF_CHECK_REC_MULTIPLE:
		snprintf(buf, size, "several SPF records, the first: %s",
		         v->record);
		break;
	default:
		snprintf(buf, size, "%s", v->record);
	}
}

/*
 * check_report_by_address - pass, but not by our include and not by any
 * include or redirect that could hold it: the relay's addresses are
 * written in the record, which breaks when they change.
 */
static int
check_report_by_address(const struct check_result *c)
{
	struct spf_record rec;

	if (c->spf.result != SPF_CHECK_PASS || c->spf.has_include ||
	    c->spf.record_status != SPF_CHECK_REC_PRESENT)
		return 0;
	if (spf_record_parse(c->spf.record, strlen(c->spf.record), &rec, NULL,
	                     0) != SPF_RECORD_OK)
		return 0;
	return spf_record_find(&rec, c->spf.record, SPF_TERM_INCLUDE, NULL) <
	           0 &&
	       rec.redirect < 0;
}

/* check_report_spf_status - the SPF item's status and actor */
static void
check_report_spf_status(const struct check_result *c,
                        struct check_report_item *it)
{
	if (!c->relay_ok || c->spf.result == SPF_CHECK_TEMPERROR) {
		it->status = CHECK_REPORT_TEMPORARY;
		it->fix_by = CHECK_REPORT_RETRY;
	} else if (c->spf.result != SPF_CHECK_PASS) {
		it->status = CHECK_REPORT_FAIL;
		it->fix_by = CHECK_REPORT_CUSTOMER;
	} else if (check_report_by_address(c)) {
		it->status = CHECK_REPORT_WARNING;
		it->fix_by = CHECK_REPORT_CUSTOMER;
	}
}

/* check_report_limit_note - the lookup warning, as zone comments */
static void
check_report_limit_note(const struct spf_merge *m, char *fix, size_t size)
{
	if (!(m->notes & SPF_MERGE_N_OVER_LIMIT))
		return;
	util_catf(fix, size,
	          "%s; this record needs %s%d DNS lookups, receivers allow "
	          "%d: remove mechanisms that send no mail (ptr, a, mx of "
	          "other hosts), write your own servers as ip4:/ip6:, or ask "
	          "the owner of another include for a smaller record",
	          fix[0] ? "\n" : "",
	          (m->notes & SPF_MERGE_N_LOOKUPS_MIN) ? "at least " : "",
	          m->lookups, SPF_MERGE_LOOKUP_LIMIT);
}

/* check_report_spf_fix - the SPF record to publish, or what to do */
static void
check_report_spf_fix(const struct check_report *r, const struct check_result *c,
                     const char *include, struct check_report_item *it)
{
	const struct spf_merge *m = &r->merge;
	char line[CHECK_REPORT_TEXT];

	if (it->status == CHECK_REPORT_OK ||
	    it->status == CHECK_REPORT_TEMPORARY)
		return;
	if (c->spf.record_status == SPF_CHECK_REC_MULTIPLE)
		util_catf(it->fix, sizeof(it->fix),
		          "; delete every other SPF record at %s: only one "
		          "may exist\n",
		          r->domain);
	if (m->action == SPF_MERGE_INVALID) {
		util_catf(it->fix, sizeof(it->fix),
		          "; the record does not parse (%s): correct it and "
		          "put include:%s before its all",
		          m->why, include);
		return;
	}
	if (m->action == SPF_MERGE_KEEP)
		util_catf(it->fix, sizeof(it->fix),
		          "; the record has include:%s, but: %s", include,
		          c->spf.summary);
	else {
		check_report_txt_line(r->domain, m->record, line, sizeof(line));
		util_catf(it->fix, sizeof(it->fix), "%s", line);
	}
	check_report_limit_note(m, it->fix, sizeof(it->fix));
}

/* check_report_spf_item - the SPF record */
static void
check_report_spf_item(struct check_report *r, const struct config *cfg,
                      const struct check_result *c)
{
	struct check_report_item *it =
	    check_report_add(r, CHECK_REPORT_SPF, "", r->domain, "TXT");

	util_strlcpy(it->code, spf_check_result_name(c->spf.result),
	             sizeof(it->code));
	util_catf(it->expected, sizeof(it->expected),
	          "one SPF record with include:%s, passing the relay (%s)",
	          cfg->relay_spf_include, r->spf.relay);
	check_report_spf_found(&c->spf, it->found, sizeof(it->found));
	snprintf(it->detail, sizeof(it->detail),
	         "%s; %d DNS lookups (limit %d)", c->spf.summary,
	         c->spf.lookups, SPF_CHECK_MAX_TERMS);
	check_report_spf_status(c, it);
	check_report_spf_fix(r, c, cfg->relay_spf_include, it);
}

/* check_report_record_status - the SPF record's state as a word */
static const char *
check_report_record_status(enum spf_check_record status)
{
	static const char *const names[] = {
	    [SPF_CHECK_REC_UNKNOWN] = "unknown",
	    [SPF_CHECK_REC_ABSENT] = "absent",
	    [SPF_CHECK_REC_PRESENT] = "present",
	    [SPF_CHECK_REC_INVALID] = "invalid",
	    [SPF_CHECK_REC_UNSUPPORTED] = "unsupported",
	    [SPF_CHECK_REC_MULTIPLE] = "multiple",
	};

	return (unsigned) status > SPF_CHECK_REC_MULTIPLE ? "?" : names[status];
}

/* check_report_spf_facts - the evaluation's details */
static void
check_report_spf_facts(struct check_report *r, const struct check_result *c)
{
	struct check_report_spf *s = &r->spf;

	util_strlcpy(s->result, spf_check_result_name(c->spf.result),
	             sizeof(s->result));
	util_strlcpy(s->reason, spf_check_reason_name(c->spf.reason),
	             sizeof(s->reason));
	util_strlcpy(s->summary, c->spf.summary, sizeof(s->summary));
	util_strlcpy(s->record_status,
	             check_report_record_status(c->spf.record_status),
	             sizeof(s->record_status));
	if (c->spf.record_status != SPF_CHECK_REC_ABSENT &&
	    c->spf.record_status != SPF_CHECK_REC_UNKNOWN)
		util_strlcpy(s->record, c->spf.record, sizeof(s->record));
	s->has_include = c->spf.has_include;
	s->authorized_other = c->spf.authorized_other;
	s->lookups = c->spf.lookups;
	s->voids = c->spf.voids;
	for (size_t i = 0; c->relay_ok && i < c->relay.n; i++)
		util_catf(s->relay, sizeof(s->relay), "%s%s", i ? ", " : "",
		          c->relay.addr[i]);
	if (c->relay_ok)
		util_catf(s->relay, sizeof(s->relay), " from %s",
		          c->relay.source);
	else
		util_strlcpy(s->relay, "addresses unknown", sizeof(s->relay));
	for (size_t i = 0; i < c->spf.naddrs; i++) {
		const struct spf_check_addr *a = &c->spf.addr[i];

		util_strlcpy(s->addr[i].address, a->address,
		             sizeof(s->addr[i].address));
		util_strlcpy(s->addr[i].result,
		             spf_check_result_name(a->result),
		             sizeof(s->addr[i].result));
		util_strlcpy(s->addr[i].reason,
		             spf_check_reason_name(a->reason),
		             sizeof(s->addr[i].reason));
		util_strlcpy(s->addr[i].why, a->why, sizeof(s->addr[i].why));
	}
	s->naddrs = c->spf.naddrs;
}

/* check_report_merge - the SPF record to publish */
static void
check_report_merge(struct check_report *r, const struct check_report_in *in)
{
	const struct check_result *c = in->check;
	struct spf_merge_in m = in->merge;

	m.include = in->cfg->relay_spf_include;
	m.record = NULL;
	if (c->spf.record_status == SPF_CHECK_REC_PRESENT ||
	    c->spf.record_status == SPF_CHECK_REC_MULTIPLE ||
	    c->spf.record_status == SPF_CHECK_REC_INVALID ||
	    c->spf.record_status == SPF_CHECK_REC_UNSUPPORTED)
		m.record = c->spf.record;
	spf_merge(&m, &r->merge);
}

/*
 * check_report_via_target - does the selector's CNAME chain reach our
 * target?  Then the customer's side is right whatever is found there.
 */
static int
check_report_via_target(const struct dkim_check_result *d)
{
	return d->nchain > 0 && (d->fix == DKIM_CHECK_FIX_PROVIDER ||
	                         d->fix == DKIM_CHECK_FIX_NONE);
}

/* check_report_cname_status - the delegation item's status */
static enum check_report_status
check_report_cname_status(const struct dkim_check_result *d)
{
	if (d->state == DKIM_CHECK_TEMPERROR)
		return CHECK_REPORT_TEMPORARY;
	if (d->state == DKIM_CHECK_DELEGATED || check_report_via_target(d))
		return CHECK_REPORT_OK;
	return d->state == DKIM_CHECK_COPIED ? CHECK_REPORT_WARNING
	                                     : CHECK_REPORT_FAIL;
}

/* check_report_cname_fix - the CNAME the customer publishes */
static void
check_report_cname_fix(const struct dkim_check_result *d,
                       struct check_report_item *it)
{
	if (it->status != CHECK_REPORT_FAIL &&
	    it->status != CHECK_REPORT_WARNING)
		return;
	it->fix_by = CHECK_REPORT_CUSTOMER;
	it->remove_txt = d->nchain == 0 && d->state != DKIM_CHECK_MISSING;
	if (it->remove_txt)
		util_catf(it->fix, sizeof(it->fix),
		          "; remove the TXT record(s) at %s, then:\n", d->name);
	else if (d->nchain > 0)
		util_catf(it->fix, sizeof(it->fix),
		          "; replace the CNAME at %s by:\n", d->name);
	util_catf(it->fix, sizeof(it->fix), "%s. IN CNAME %s.", d->name,
	          d->target);
}

/* check_report_cname_item - one selector's delegation */
static void
check_report_cname_item(struct check_report *r,
                        const struct dkim_check_result *d)
{
	struct check_report_item *it = check_report_add(
	    r, CHECK_REPORT_DKIM, d->selector, d->name, "CNAME");

	util_strlcpy(it->code, dkim_check_state_name(d->state),
	             sizeof(it->code));
	util_strlcpy(it->expected, d->expected, sizeof(it->expected));
	util_strlcpy(it->found, d->found, sizeof(it->found));
	util_strlcpy(it->detail, d->reason, sizeof(it->detail));
	it->status = check_report_cname_status(d);
	if (it->status == CHECK_REPORT_TEMPORARY)
		it->fix_by = CHECK_REPORT_RETRY;
	check_report_cname_fix(d, it);
}

/* check_report_key_found - the key receivers find, in words */
static void
check_report_key_found(const struct dkim_check_result *d, char *buf,
                       size_t size)
{
	const char *where = check_report_via_target(d) ? ""
	                                               : " (not ours: "
	                                                 "not via the "
	                                                 "target)";

	if (d->state == DKIM_CHECK_TEMPERROR)
		snprintf(buf, size, "unknown (DNS failure)");
	else if (d->usable)
		snprintf(buf, size, "our key %s%s", d->fingerprint,
		         d->state == DKIM_CHECK_COPIED ? " (a copy at the "
		                                         "selector name)"
		                                       : "");
	else if (d->fingerprint[0] != '\0')
		snprintf(buf, size, "another key %s%s", d->fingerprint,
		         check_report_via_target(d) ? ""
		                                    : " (not at the "
		                                      "target)");
	else if (d->state == DKIM_CHECK_REVOKED)
		snprintf(buf, size, "a revoked key (empty p=)%s", where);
	else if (d->state == DKIM_CHECK_MALFORMED)
		snprintf(buf, size, "no usable key record%s", where);
	else if (d->state == DKIM_CHECK_TARGET_MISSING)
		snprintf(buf, size, "no key record at %s", d->target);
	else
		snprintf(buf, size, "no key reached through %s", d->name);
}

/* check_report_key_status - the key item's status and actor */
static void
check_report_key_status(const struct dkim_check_result *d,
                        struct check_report_item *it)
{
	if (d->state == DKIM_CHECK_TEMPERROR) {
		it->status = CHECK_REPORT_TEMPORARY;
		it->fix_by = CHECK_REPORT_RETRY;
	} else if (d->usable) {
		it->status = d->warn ? CHECK_REPORT_WARNING : CHECK_REPORT_OK;
		it->fix_by =
		    d->warn ? CHECK_REPORT_PROVIDER : CHECK_REPORT_NOBODY;
	} else {
		it->status = CHECK_REPORT_FAIL;
		it->fix_by = d->fix == DKIM_CHECK_FIX_PROVIDER
		                 ? CHECK_REPORT_PROVIDER
		                 : CHECK_REPORT_CUSTOMER;
	}
}

/* check_report_key_fix - the provider's record at its own target */
static void
check_report_key_fix(const struct dkim_check_result *d,
                     const struct keys_key *key, struct check_report_item *it)
{
	char line[CHECK_REPORT_TEXT];

	if (it->fix_by != CHECK_REPORT_PROVIDER)
		return;
	if (key == NULL) {
		snprintf(
		    it->fix, sizeof(it->fix),
		    "; for the provider: the key of %s is not loaded here, "
		    "so its record cannot be shown",
		    d->selector);
		return;
	}
	check_report_txt_line(d->target, keys_record(key), line, sizeof(line));
	util_catf(it->fix, sizeof(it->fix),
	          "; for the provider, not the customer: publish our key at "
	          "%s\n%s",
	          d->target, line);
}

/* check_report_key_item - the key behind one selector */
static void
check_report_key_item(struct check_report *r, const struct dkim_check_result *d,
                      const struct keys_key *key)
{
	struct check_report_item *it = check_report_add(
	    r, CHECK_REPORT_KEY, d->selector, d->target, "TXT");

	util_strlcpy(it->code, dkim_check_state_name(d->state),
	             sizeof(it->code));
	if (key != NULL)
		snprintf(it->expected, sizeof(it->expected), "our key %s",
		         keys_fingerprint(key));
	else
		snprintf(it->expected, sizeof(it->expected),
		         "our key for %s (not loaded: cannot be compared)",
		         d->selector);
	check_report_key_found(d, it->found, sizeof(it->found));
	if (check_report_via_target(d))
		util_strlcpy(it->detail, d->reason, sizeof(it->detail));
	check_report_key_status(d, it);
	check_report_key_fix(d, key, it);
}

/* check_report_dmarc_found - the DMARC record as found */
static void
check_report_dmarc_found(const struct dmarc_result *d, char *buf, size_t size)
{
	switch (d->state) {
	case DMARC_FOUND:
		snprintf(buf, size, "p=%s%s at _dmarc.%s",
		         dmarc_record_policy_name(d->policy),
		         d->at_org ? " (sp=, of the organizational domain)"
		                   : "",
		         d->record_domain);
		break;
	case DMARC_NONE:
		snprintf(buf, size, "no DMARC record");
		break;
	case DMARC_INVALID:
		snprintf(buf, size, "%d record(s) at _dmarc.%s, unusable",
		         d->nrecords, d->record_domain);
		break;
	case DMARC_TEMPERROR:
		snprintf(buf, size, "unknown (DNS failure)");
		break;
	}
}

/* check_report_dmarc_item - the DMARC record (optional) */
static void
check_report_dmarc_item(struct check_report *r, const struct dmarc_result *d)
{
	char name[DOMAIN_SIZE + 8], line[CHECK_REPORT_LINE];
	struct check_report_item *it;

	snprintf(name, sizeof(name), "_dmarc.%s", r->domain);
	it = check_report_add(r, CHECK_REPORT_DMARC, "", name, "TXT");
	util_strlcpy(it->code, dmarc_state_name(d->state), sizeof(it->code));
	util_strlcpy(it->expected, "optional: one valid DMARC record",
	             sizeof(it->expected));
	check_report_dmarc_found(d, it->found, sizeof(it->found));
	util_strlcpy(it->detail, d->why, sizeof(it->detail));
	if (d->state == DMARC_FOUND) {
		util_strlcpy(r->dmarc_policy,
		             dmarc_record_policy_name(d->policy),
		             sizeof(r->dmarc_policy));
		return;
	}
	it->status = d->state == DMARC_TEMPERROR ? CHECK_REPORT_TEMPORARY
	                                         : CHECK_REPORT_WARNING;
	it->fix_by = d->state == DMARC_TEMPERROR ? CHECK_REPORT_RETRY
	                                         : CHECK_REPORT_CUSTOMER;
	if (d->state == DMARC_TEMPERROR)
		return;
	check_report_txt_line(it->name, CHECK_REPORT_DMARC_SUGGESTION, line,
	                      sizeof(line));
	snprintf(it->fix, sizeof(it->fix), "; %s, for example:\n%s",
	         d->state == DMARC_NONE ? "recommended, not required"
	                                : "publish exactly one valid record",
	         line);
}

/* check_report_none_delegated - not one selector delegated? */
static int
check_report_none_delegated(const struct check_result *c)
{
	for (size_t i = 0; i < c->ndkim; i++)
		if (c->dkim[i].state == DKIM_CHECK_DELEGATED)
			return 0;
	return 1;
}

/* check_report_rotation - the rotation-readiness line */
static void
check_report_rotation(struct check_report *r, const struct check_result *c)
{
	char missing[CHECK_REPORT_LINE] = "", unknown[CHECK_REPORT_LINE] = "";

	for (size_t i = 0; i < c->ndkim; i++) {
		/* A chain to our target is delegated, whatever the provider
		   publishes there (that is the key item's business). */
		if (c->dkim[i].state == DKIM_CHECK_DELEGATED ||
		    c->dkim[i].fix == DKIM_CHECK_FIX_PROVIDER)
			continue;
		if (c->dkim[i].state == DKIM_CHECK_TEMPERROR)
			util_catf(unknown, sizeof(unknown), "%s%s",
			          unknown[0] ? ", " : "", c->dkim[i].selector);
		else
			util_catf(missing, sizeof(missing), "%s%s",
			          missing[0] ? ", " : "", c->dkim[i].selector);
	}
	r->rotation_ready = c->ndkim > 0 && !missing[0] && !unknown[0];
	if (r->rotation_ready)
		snprintf(r->rotation, sizeof(r->rotation),
		         "ready: every selector is delegated");
	else if (missing[0] && check_report_none_delegated(c))
		snprintf(r->rotation, sizeof(r->rotation),
		         "NOT ready: no selector is delegated (%s)", missing);
	else if (missing[0])
		snprintf(r->rotation, sizeof(r->rotation),
		         "NOT ready: %s not delegated; mail of %s loses its "
		         "DKIM signature when the provider rotates to %s",
		         missing, r->domain, missing);
	else
		snprintf(r->rotation, sizeof(r->rotation),
		         "unknown: DNS failure on %s", unknown);
}

/*
 * check_report_known_bad - does an SPF or DKIM item say for certain that
 * something must change (fail, or a copied key)?  A domain that is not
 * configured without one is only temporarily unknown.
 */
static int
check_report_known_bad(const struct check_report *r)
{
	for (size_t i = 0; i < r->nitems; i++) {
		const struct check_report_item *it = &r->item[i];

		if (it->part == CHECK_REPORT_DMARC)
			continue;
		if (it->status == CHECK_REPORT_FAIL ||
		    (it->part == CHECK_REPORT_DKIM &&
		     it->status == CHECK_REPORT_WARNING))
			return 1;
	}
	return 0;
}

/* check_report_state - state, exit status, worst item, signing */
static void
check_report_state(struct check_report *r, const struct config *cfg,
                   const struct check_result *c)
{
	struct verdict v;
	unsigned signable = 0;
	int active = -1, sel;

	verdict_from_check(c, &v);
	for (size_t i = 0; i < c->ndkim; i++)
		if (c->dkim[i].usable)
			signable |= 1u << i;
	verdict_restrict(&v, signable);
	r->state = (enum verdict_state) v.state;
	r->exit = r->state == VERDICT_CONFIGURED ? 0
	          : check_report_known_bad(r)    ? 1
	                                         : 2;
	for (size_t i = 0; i < cfg->dkim_nselectors; i++)
		if (strcmp(cfg->dkim_selectors[i].name,
		           cfg->dkim_active_selector) == 0)
			active = (int) i;
	sel = verdict_signing_selector(&v, active);
	if (sel >= 0 && (size_t) sel < c->ndkim)
		util_strlcpy(r->signing, c->dkim[sel].selector,
		             sizeof(r->signing));
	for (size_t i = 0; i < r->nitems; i++)
		if (r->item[i].status > r->status)
			r->status = r->item[i].status;
}

/* check_report_build - every item of a check */
void
check_report_build(const struct check_report_in *in, struct check_report *out)
{
	const struct check_result *c = in->check;

	memset(out, 0, sizeof(*out));
	util_strlcpy(out->domain, c->domain, sizeof(out->domain));
	out->duration_ms = c->duration_ms;
	check_report_spf_facts(out, c);
	check_report_merge(out, in);
	check_report_spf_item(out, in->cfg, c);
	for (size_t i = 0; i < c->ndkim; i++) {
		check_report_cname_item(out, &c->dkim[i]);
		check_report_key_item(out, &c->dkim[i],
		                      in->keys ? in->keys[i] : NULL);
	}
	check_report_dmarc_item(out, &c->dmarc);
	check_report_rotation(out, c);
	check_report_state(out, in->cfg, c);
}
