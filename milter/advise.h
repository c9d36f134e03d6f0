#ifndef RELAYGATE_ADVISE_H
#define RELAYGATE_ADVISE_H

/*
 * advise - the standard message to a customer's DNS administrator: what
 * to publish so that the relay may send and sign for their domain.
 *
 * MODEL
 *	The message is a template an operator edits, one file per language
 *	("<advise.templates>/<lang>.txt", e.g. nl.txt and en.txt), filled in
 *	from a domain's check report (check_report.h): the SPF record to
 *	publish (spf_merge: their record with our include added), the
 *	selectors' CNAMEs, what must be removed, a DMARC suggestion, and
 *	flags that choose the paragraphs that apply.  Which paragraphs and
 *	records apply is decided here, from the report; every word the
 *	customer reads is the template's.  The variables are listed in
 *	doc/relaygatectl-advise.md and at the top of the shipped templates;
 *	a flag is "yes" or "".
 *
 * OWNERSHIP
 *	advise_render() returns a string the caller frees; the template text,
 *	report and configuration are borrowed for the call.
 *
 * CONCURRENCY
 *	Pure; thread-safe.
 *
 * ERRORS
 *	NULL with a reason (template.h's, "line N: ...") for a broken
 *	template; -1 with a reason for a language that is not a plain name.
 *	Nothing is logged.
 */

#include <stddef.h>

#include "check_report.h"
#include "config.h"

/*
 * advise_render - the message for report r in template text (len
 * bytes).  r must be of a check of every part.
 */
char *advise_render(const char *text, size_t len, const struct check_report *r,
                    const struct config *cfg, char *why, size_t whylen);

/*
 * advise_template_path - "<advise.templates>/<lang>.txt" into buf; lang
 * must be 1 to 16 lowercase letters or '-' (no path tricks).
 */
int advise_template_path(const struct config *cfg, const char *lang, char *buf,
                         size_t size, char *why, size_t whylen);

#endif
