/*
 * advise - the message to a customer's DNS administrator.
 *
 * advise_facts() reads a check report into the values of the template
 * variables; advise_render() hands them to the template module.  The
 * list of variables here is the contract with the template files.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "advise.h"
#include "template.h"
#include "util.h"

#define ADVISE_LIST (CHECK_MAX_SELECTORS * CHECK_REPORT_LINE)
#define ADVISE_FLAG(b) ((b) ? "yes" : "")

/* The values that need storage of their own. */
struct advise_facts {
	const struct check_report_item *spf, *dmarc;
	int spf_change, spf_broken, dkim_change, dkim_temporary, dkim_done;
	char selectors[ADVISE_LIST];
	char cname_records[ADVISE_LIST];
	char cname_todo[ADVISE_LIST];
	char dkim_remove[ADVISE_LIST];
	char spf_record[CHECK_REPORT_TEXT];
	char spf_lookups[16];
	char limit[16];
	char dmarc_record[CHECK_REPORT_LINE];
};

/* advise_line - append a line to a list: a name, or a name's CNAME */
static void
advise_line(char *list, const char *name, const char *target)
{
	util_catf(list, ADVISE_LIST, "%s%s", list[0] ? "\n" : "", name);
	if (target != NULL)
		util_catf(list, ADVISE_LIST, ". IN CNAME %s.", target);
}

/* advise_dkim - the selectors: every CNAME, those to publish, removals */
static void
advise_dkim(const struct check_report *r, const struct config *cfg,
            struct advise_facts *f)
{
	f->dkim_done = 1;
	for (size_t i = 0; i < r->nitems; i++) {
		const struct check_report_item *it = &r->item[i];
		const struct config_selector *sel;

		if (it->part != CHECK_REPORT_DKIM)
			continue;
		sel = config_selector_find(cfg, it->selector);
		util_catf(f->selectors, ADVISE_LIST, "%s%s",
		          f->selectors[0] ? ", " : "", it->selector);
		advise_line(f->cname_records, it->name,
		            sel ? sel->target : "?");
		f->dkim_done &= it->status == CHECK_REPORT_OK;
		f->dkim_temporary |= it->status == CHECK_REPORT_TEMPORARY;
		if (it->status != CHECK_REPORT_FAIL &&
		    it->status != CHECK_REPORT_WARNING)
			continue;
		f->dkim_change = 1;
		advise_line(f->cname_todo, it->name, sel ? sel->target : "?");
		if (it->remove_txt)
			advise_line(f->dkim_remove, it->name, NULL);
	}
}

/* advise_facts - everything the variables need, from the report */
static void
advise_facts(const struct check_report *r, const struct config *cfg,
             struct advise_facts *f)
{
	const struct spf_merge *m = &r->merge;

	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < r->nitems; i++) {
		if (r->item[i].part == CHECK_REPORT_SPF)
			f->spf = &r->item[i];
		else if (r->item[i].part == CHECK_REPORT_DMARC)
			f->dmarc = &r->item[i];
	}
	f->spf_change =
	    (f->spf->status == CHECK_REPORT_FAIL ||
	     f->spf->status == CHECK_REPORT_WARNING) &&
	    (m->action == SPF_MERGE_ADD || m->action == SPF_MERGE_NEW);
	f->spf_broken =
	    f->spf->status == CHECK_REPORT_FAIL && m->action == SPF_MERGE_KEEP;
	if (m->record[0] != '\0')
		check_report_txt_line(r->domain, m->record, f->spf_record,
		                      sizeof(f->spf_record));
	snprintf(f->spf_lookups, sizeof(f->spf_lookups), "%d", m->lookups);
	snprintf(f->limit, sizeof(f->limit), "%d", SPF_MERGE_LOOKUP_LIMIT);
	check_report_txt_line(f->dmarc->name, "v=DMARC1; p=none",
	                      f->dmarc_record, sizeof(f->dmarc_record));
	advise_dkim(r, cfg, f);
}

/* advise_spf_vars - the SPF variables; returns how many */
static size_t
advise_spf_vars(const struct check_report *r, const struct advise_facts *f,
                struct template_var *v)
{
	const struct spf_merge *m = &r->merge;
	int fail = f->spf->status == CHECK_REPORT_FAIL;
	size_t n = 0;

	v[n++] = (struct template_var){
	    "spf_done", ADVISE_FLAG(f->spf->status == CHECK_REPORT_OK)};
	v[n++] =
	    (struct template_var){"spf_change", ADVISE_FLAG(f->spf_change)};
	v[n++] = (struct template_var){
	    "spf_new",
	    ADVISE_FLAG(f->spf_change && m->action == SPF_MERGE_NEW)};
	v[n++] = (struct template_var){
	    "spf_add",
	    ADVISE_FLAG(f->spf_change && m->action == SPF_MERGE_ADD)};
	v[n++] = (struct template_var){
	    "spf_by_address",
	    ADVISE_FLAG(f->spf->status == CHECK_REPORT_WARNING)};
	v[n++] = (struct template_var){"spf_current", r->spf.record};
	v[n++] = (struct template_var){"spf_record", f->spf_record};
	v[n++] = (struct template_var){"spf_text", m->record};
	v[n++] = (struct template_var){"spf_all", m->all};
	v[n++] = (struct template_var){
	    "spf_redirect", ADVISE_FLAG(m->notes & SPF_MERGE_N_REDIRECT)};
	v[n++] = (struct template_var){
	    "spf_no_all", ADVISE_FLAG(m->notes & SPF_MERGE_N_NO_ALL)};
	v[n++] = (struct template_var){
	    "spf_multiple",
	    ADVISE_FLAG(!strcmp(r->spf.record_status, "multiple"))};
	v[n++] = (struct template_var){
	    "spf_invalid", ADVISE_FLAG(fail && m->action == SPF_MERGE_INVALID)};
	v[n++] = (struct template_var){"spf_why", m->why};
	v[n++] =
	    (struct template_var){"spf_broken", ADVISE_FLAG(f->spf_broken)};
	v[n++] = (struct template_var){"spf_problem", r->spf.summary};
	v[n++] = (struct template_var){
	    "spf_over_limit", ADVISE_FLAG((f->spf_change || f->spf_broken) &&
	                                  (m->notes & SPF_MERGE_N_OVER_LIMIT))};
	v[n++] = (struct template_var){"spf_lookups", f->spf_lookups};
	v[n++] = (struct template_var){
	    "spf_lookups_min", ADVISE_FLAG(m->notes & SPF_MERGE_N_LOOKUPS_MIN)};
	v[n++] = (struct template_var){
	    "spf_temporary",
	    ADVISE_FLAG(f->spf->status == CHECK_REPORT_TEMPORARY)};
	return n;
}

/* advise_other_vars - DKIM, DMARC and the rest; returns how many */
static size_t
advise_other_vars(const struct check_report *r, const struct config *cfg,
                  const struct advise_facts *f, struct template_var *v)
{
	const char *dmarc = f->dmarc->code;
	size_t n = 0;

	v[n++] = (struct template_var){"domain", r->domain};
	v[n++] = (struct template_var){"include", cfg->relay_spf_include};
	v[n++] = (struct template_var){"lookup_limit", f->limit};
	v[n++] = (struct template_var){
	    "all_done",
	    ADVISE_FLAG(f->spf->status == CHECK_REPORT_OK && f->dkim_done)};
	v[n++] = (struct template_var){"selectors", f->selectors};
	v[n++] = (struct template_var){"dkim_done", ADVISE_FLAG(f->dkim_done)};
	v[n++] =
	    (struct template_var){"dkim_change", ADVISE_FLAG(f->dkim_change)};
	v[n++] = (struct template_var){"dkim_temporary",
	                               ADVISE_FLAG(f->dkim_temporary)};
	v[n++] = (struct template_var){"cname_records", f->cname_records};
	v[n++] = (struct template_var){"cname_todo", f->cname_todo};
	v[n++] = (struct template_var){"dkim_remove", f->dkim_remove};
	v[n++] = (struct template_var){"dmarc_none",
	                               ADVISE_FLAG(!strcmp(dmarc, "none"))};
	v[n++] = (struct template_var){"dmarc_found",
	                               ADVISE_FLAG(!strcmp(dmarc, "found"))};
	v[n++] = (struct template_var){"dmarc_invalid",
	                               ADVISE_FLAG(!strcmp(dmarc, "invalid"))};
	v[n++] = (struct template_var){"dmarc_policy", r->dmarc_policy};
	v[n++] = (struct template_var){"dmarc_why", f->dmarc->detail};
	v[n++] = (struct template_var){"dmarc_record", f->dmarc_record};
	return n;
}

/* advise_render - the message */
char *
advise_render(const char *text, size_t len, const struct check_report *r,
              const struct config *cfg, char *why, size_t whylen)
{
	struct advise_facts *f = xmalloc(sizeof(*f));
	struct template_var v[48];
	size_t n;
	char *out;

	advise_facts(r, cfg, f);
	n = advise_spf_vars(r, f, v);
	n += advise_other_vars(r, cfg, f, v + n);
	out = template_render(text, len, v, n, why, whylen);
	free(f);
	return out;
}

/* advise_template_path - the template file of a language */
int
advise_template_path(const struct config *cfg, const char *lang, char *buf,
                     size_t size, char *why, size_t whylen)
{
	if (template_name_check(lang, why, whylen) < 0)
		return -1;
	if ((size_t) snprintf(buf, size, "%s/%s.txt", cfg->advise_templates,
	                      lang) >= size)
		return util_why(why, whylen, "template path too long");
	return 0;
}
