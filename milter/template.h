#ifndef RELAYGATE_TEMPLATE_H
#define RELAYGATE_TEMPLATE_H

/*
 * template - texts an operator edits (the advice to a customer's DNS
 * administrator), with variables and conditional sections.
 *
 * MODEL
 *	A template is plain text with tags in double braces, a small subset
 *	of Mustache:
 *	  {{name}}              the value of variable name, as it is;
 *	  {{#name}} ... {{/name}}   the text between, if name is not empty;
 *	  {{^name}} ... {{/name}}   the text between, if name is empty;
 *	  {{! comment }}        nothing.
 *	Names are lowercase letters, digits and '_'.  Sections nest.  A line
 *	that holds nothing but one section or comment tag (and blanks)
 *	disappears with its line break, so sections can sit on lines of
 *	their own.  A line that holds nothing but one variable tag after
 *	blanks indents every line of a multi-line value by those blanks.
 *	Values are inserted literally: braces in a value are not tags.
 *	Every tag is checked, also in sections that are not shown, so a
 *	misspelt name fails every time, not only for some customers.
 *
 * OWNERSHIP
 *	template_render() returns a string the caller frees; variables are
 *	borrowed for the call.
 *
 * CONCURRENCY
 *	Pure; thread-safe.
 *
 * ERRORS
 *	NULL with "line N: ..." in why for an unknown variable, a bad or
 *	unclosed tag, a section closed by the wrong name or never closed.
 *	Nothing is logged.
 */

#include <stddef.h>

/* One variable: name and value (NULL counts as ""). */
struct template_var {
	const char *name;
	const char *value;
};

/* The longest template name (a file name stem, "nl", "en-gb"). */
#define TEMPLATE_NAME_MAX 16

/*
 * template_name_check - may name select a template file: 1 to
 * TEMPLATE_NAME_MAX lowercase letters or '-'?  Nothing else, so a name
 * never leaves its directory.  Returns 0, or -1 with why.
 */
int template_name_check(const char *name, char *why, size_t whylen);

/* Sections nested deeper than this are an error. */
#define TEMPLATE_MAX_DEPTH 16

/*
 * template_render - text (len bytes, need not be terminated) with the
 * variables vars[0..nvars) filled in; NULL with why on an error.
 */
char *template_render(const char *text, size_t len,
                      const struct template_var *vars, size_t nvars, char *why,
                      size_t whylen);

#endif
