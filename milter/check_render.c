/*
 * check_render - check reports as text or JSON.
 */

#include <string.h>

#include "check_render.h"

/* The column where an item's texts start in the text form. */
#define CHECK_RENDER_INDENT "             "

/* check_render_tally - count one domain by its exit status */
static void
check_render_tally(struct check_render *cr, int exit, int invalid)
{
	cr->domains++;
	if (invalid)
		cr->invalid++;
	else if (exit == 0)
		cr->configured++;
	else if (exit == 1)
		cr->misconfigured++;
	else
		cr->temporary++;
	if (exit > cr->exit)
		cr->exit = exit;
}

/* check_render_begin - the document's start */
void
check_render_begin(struct check_render *cr, FILE *out, int json)
{
	memset(cr, 0, sizeof(*cr));
	cr->out = out;
	cr->json = json;
	if (!json)
		return;
	cr->j = json_open(out);
	json_object(cr->j, NULL);
	json_string(cr->j, "schema", CHECK_RENDER_SCHEMA);
	json_array(cr->j, "domains");
}

/* check_render_lines - label and text; later lines of text indented */
static void
check_render_lines(FILE *out, const char *label, const char *text)
{
	const char *nl;

	fprintf(out, CHECK_RENDER_INDENT "%-10s ", label);
	while ((nl = strchr(text, '\n')) != NULL) {
		fprintf(out, "%.*s\n" CHECK_RENDER_INDENT "%-10s ",
		        (int) (nl - text), text, "");
		text = nl + 1;
	}
	fprintf(out, "%s\n", text);
}

/* check_render_text_item - one record in the text form */
static void
check_render_text_item(FILE *out, const struct check_report_item *it)
{
	fprintf(out, "  %-10s %-10s %s %s", check_report_part_name(it->part),
	        check_report_status_name(it->status), it->name, it->type);
	if (it->selector[0] != '\0')
		fprintf(out, " (%s)", it->selector);
	fputc('\n', out);
	check_render_lines(out, "expected", it->expected);
	check_render_lines(out, "found", it->found);
	if (it->detail[0] != '\0')
		check_render_lines(out, "result", it->detail);
	if (it->fix[0] != '\0')
		check_render_lines(
		    out,
		    it->fix_by == CHECK_REPORT_PROVIDER ? "fix (ours)" : "fix",
		    it->fix);
}

/* check_render_text - one domain in the text form */
static void
check_render_text(FILE *out, const struct check_report *r)
{
	fprintf(out, "%s: %s\n", r->domain, verdict_state_name(r->state));
	for (size_t i = 0; i < r->nitems; i++)
		check_render_text_item(out, &r->item[i]);
	fprintf(out, "  %-10s %s\n", "rotation", r->rotation);
	fprintf(out, "  %-10s %s\n", "signing",
	        r->signing[0] ? r->signing : "none: no selector is usable");
	fprintf(out, "  %-10s %lld ms\n\n", "checked in",
	        (long long) r->duration_ms);
}

/* check_render_or_null - a string member, null when empty */
static void
check_render_or_null(struct json *j, const char *key, const char *value)
{
	json_string(j, key, value[0] != '\0' ? value : NULL);
}

/* check_render_fix - the fix as an array of lines */
static void
check_render_fix(struct json *j, const char *fix)
{
	const char *nl;

	json_array(j, "fix");
	while (fix[0] != '\0') {
		char line[CHECK_REPORT_TEXT];
		size_t n = (nl = strchr(fix, '\n')) ? (size_t) (nl - fix)
		                                    : strlen(fix);

		snprintf(line, sizeof(line), "%.*s", (int) n, fix);
		json_string(j, NULL, line);
		fix += n + (nl != NULL);
	}
	json_end(j);
}

/* check_render_json_item - one record */
static void
check_render_json_item(struct json *j, const struct check_report_item *it)
{
	json_object(j, NULL);
	json_string(j, "part", check_report_part_name(it->part));
	check_render_or_null(j, "selector", it->selector);
	json_string(j, "name", it->name);
	json_string(j, "type", it->type);
	json_string(j, "status", check_report_status_name(it->status));
	json_string(j, "code", it->code);
	json_string(j, "expected", it->expected);
	json_string(j, "found", it->found);
	json_string(j, "detail", it->detail);
	check_render_fix(j, it->fix);
	check_render_or_null(j, "fix_by", check_report_actor_name(it->fix_by));
	json_end(j);
}

/* check_render_json_notes - the merge's notes as words */
static void
check_render_json_notes(struct json *j, unsigned notes)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
	    {SPF_MERGE_N_REDIRECT, "redirect"},
	    {SPF_MERGE_N_REDIRECT_DEAD, "redirect-ignored"},
	    {SPF_MERGE_N_NO_ALL, "no-all"},
	    {SPF_MERGE_N_OVER_LIMIT, "over-limit"},
	    {SPF_MERGE_N_LOOKUPS_MIN, "lookups-at-least"},
	    {SPF_MERGE_N_PASS_ALL, "pass-all"},
	    {SPF_MERGE_N_PTR, "ptr"},
	};

	json_array(j, "notes");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (notes & names[i].bit)
			json_string(j, NULL, names[i].name);
	json_end(j);
}

/* check_render_json_merge - the SPF record to publish */
static void
check_render_json_merge(struct json *j, const struct spf_merge *m)
{
	json_object(j, "merge");
	json_string(j, "action", spf_merge_action_name(m->action));
	check_render_or_null(j, "record", m->record);
	json_int(j, "lookups", m->lookups);
	json_bool(j, "lookups_exact", !(m->notes & SPF_MERGE_N_LOOKUPS_MIN));
	json_bool(j, "over_limit", (m->notes & SPF_MERGE_N_OVER_LIMIT) != 0);
	check_render_json_notes(j, m->notes);
	check_render_or_null(j, "error", m->why);
	json_end(j);
}

/* check_render_json_spf - the SPF evaluation's details */
static void
check_render_json_spf(struct json *j, const struct check_report *r)
{
	const struct check_report_spf *s = &r->spf;

	json_object(j, "spf");
	json_string(j, "result", s->result);
	json_string(j, "reason", s->reason);
	json_string(j, "summary", s->summary);
	json_string(j, "record_status", s->record_status);
	check_render_or_null(j, "record", s->record);
	json_bool(j, "has_include", s->has_include);
	json_bool(j, "authorized_other", s->authorized_other);
	json_int(j, "lookups", s->lookups);
	json_int(j, "voids", s->voids);
	json_string(j, "relay", s->relay);
	json_array(j, "addresses");
	for (size_t i = 0; i < s->naddrs; i++) {
		json_object(j, NULL);
		json_string(j, "address", s->addr[i].address);
		json_string(j, "result", s->addr[i].result);
		json_string(j, "reason", s->addr[i].reason);
		json_string(j, "why", s->addr[i].why);
		json_end(j);
	}
	json_end(j);
	check_render_json_merge(j, &r->merge);
	json_end(j);
}

/* check_render_json - one domain's object */
static void
check_render_json(struct json *j, const struct check_report *r)
{
	json_object(j, NULL);
	json_string(j, "domain", r->domain);
	json_string(j, "state", verdict_state_name(r->state));
	json_int(j, "exit", r->exit);
	json_string(j, "status", check_report_status_name(r->status));
	json_null(j, "error");
	json_bool(j, "rotation_ready", r->rotation_ready);
	json_string(j, "rotation", r->rotation);
	check_render_or_null(j, "signing_selector", r->signing);
	json_int(j, "duration_ms", r->duration_ms);
	check_render_json_spf(j, r);
	json_array(j, "records");
	for (size_t i = 0; i < r->nitems; i++)
		check_render_json_item(j, &r->item[i]);
	json_end(j);
	json_end(j);
}

/* check_render_domain - one report */
void
check_render_domain(struct check_render *cr, const struct check_report *r)
{
	check_render_tally(cr, r->exit, 0);
	if (cr->json)
		check_render_json(cr->j, r);
	else
		check_render_text(cr->out, r);
	fflush(cr->out);
}

/* check_render_invalid - a name that is not a domain */
void
check_render_invalid(struct check_render *cr, const char *name, const char *why)
{
	check_render_tally(cr, 2, 1);
	if (!cr->json) {
		fprintf(cr->out, "%s: invalid: %s\n\n", name, why);
		return;
	}
	json_object(cr->j, NULL);
	json_string(cr->j, "domain", name);
	json_string(cr->j, "state", "invalid");
	json_int(cr->j, "exit", 2);
	json_null(cr->j, "status");
	json_string(cr->j, "error", why);
	json_bool(cr->j, "rotation_ready", 0);
	json_null(cr->j, "rotation");
	json_null(cr->j, "signing_selector");
	json_int(cr->j, "duration_ms", 0);
	json_null(cr->j, "spf");
	json_array(cr->j, "records");
	json_end(cr->j);
	json_end(cr->j);
}

/* check_render_end - the summary and the exit status */
int
check_render_end(struct check_render *cr)
{
	if (!cr->json) {
		if (cr->domains > 1)
			fprintf(cr->out,
			        "%zu domains: %zu configured, %zu not "
			        "configured, %zu temporarily unknown, %zu "
			        "invalid\n",
			        cr->domains, cr->configured, cr->misconfigured,
			        cr->temporary, cr->invalid);
		return cr->exit;
	}
	json_end(cr->j);
	json_object(cr->j, "summary");
	json_int(cr->j, "domains", (int64_t) cr->domains);
	json_int(cr->j, "configured", (int64_t) cr->configured);
	json_int(cr->j, "misconfigured", (int64_t) cr->misconfigured);
	json_int(cr->j, "temporary", (int64_t) cr->temporary);
	json_int(cr->j, "invalid", (int64_t) cr->invalid);
	json_int(cr->j, "exit", cr->exit);
	json_end(cr->j);
	json_end(cr->j);
	json_close(cr->j);
	cr->j = NULL;
	return cr->exit;
}
