/*
 * template - operator-edited texts with variables and sections.
 *
 * The text is handled line by line, because the two layout rules
 * (standalone section lines vanish, a standalone variable indents its
 * value) are about lines.  Tags never span lines.  Output goes to a
 * memory stream; a stack of open sections says whether text is shown.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "template.h"
#include "util.h"

#define TEMPLATE_TAG_MAX 63

/* One parsed tag. */
struct template_tag {
	char kind; /* 0 variable, '#', '^', '/', '!' */
	char name[TEMPLATE_TAG_MAX + 1];
	const char *end; /* just after "}}" */
};

struct template_ctx {
	const struct template_var *vars;
	size_t nvars;
	FILE *out;
	int line;
	int depth;
	struct {
		char name[TEMPLATE_TAG_MAX + 1];
		int shown; /* the section's text is shown */
		int line;
	} open[TEMPLATE_MAX_DEPTH];
	char *why;
	size_t whylen;
};

/* template_fail - "line N: ..." into why; returns -1 */
__attribute__((format(printf, 2, 3))) static int
template_fail(const struct template_ctx *ctx, const char *fmt, ...)
{
	char text[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return util_why(ctx->why, ctx->whylen, "line %d: %s", ctx->line, text);
}

/* template_shown - is text at the current position shown? */
static int
template_shown(const struct template_ctx *ctx)
{
	return ctx->depth == 0 || ctx->open[ctx->depth - 1].shown;
}

/* template_blank - space or tab */
static int
template_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* template_name_char - may c appear in a name? */
static int
template_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/*
 * template_parse_tag - the tag at s ("{{"), which must end before eol.
 * A comment's text is not checked.  Returns 0 or -1 with why.
 */
static int
template_parse_tag(struct template_ctx *ctx, const char *s, const char *eol,
                   struct template_tag *tag)
{
	const char *p = s + 2, *close = NULL, *name;
	size_t n;

	for (const char *q = p; q + 1 < eol; q++)
		if (q[0] == '}' && q[1] == '}') {
			close = q;
			break;
		}
	if (close == NULL)
		return template_fail(ctx, "'{{' without '}}'");
	tag->end = close + 2;
	tag->kind = strchr("#^/!", *p) != NULL && *p != '\0' ? *p++ : 0;
	if (tag->kind == '!')
		return 0;
	while (p < close && template_blank(*p))
		p++;
	for (name = p; p < close && template_name_char(*p); p++)
		;
	n = (size_t) (p - name);
	while (p < close && template_blank(*p))
		p++;
	if (n == 0 || p != close || n > TEMPLATE_TAG_MAX)
		return template_fail(ctx,
		                     "bad tag '%.*s' (names are a-z, "
		                     "0-9 and _)",
		                     (int) (tag->end - s), s);
	memcpy(tag->name, name, n);
	tag->name[n] = '\0';
	return 0;
}

/* template_value - a variable's value ("" for NULL), or NULL if unknown */
static const char *
template_value(const struct template_ctx *ctx, const char *name)
{
	for (size_t i = 0; i < ctx->nvars; i++)
		if (strcmp(ctx->vars[i].name, name) == 0)
			return ctx->vars[i].value ? ctx->vars[i].value : "";
	return NULL;
}

/* template_section - open or close a section */
static int
template_section(struct template_ctx *ctx, const struct template_tag *tag,
                 const char *value)
{
	if (tag->kind == '/') {
		if (ctx->depth == 0 ||
		    strcmp(ctx->open[ctx->depth - 1].name, tag->name) != 0)
			return template_fail(ctx,
			                     "'{{/%s}}' closes no open "
			                     "'{{#%s}}' or '{{^%s}}'",
			                     tag->name, tag->name, tag->name);
		ctx->depth--;
		return 0;
	}
	if (ctx->depth == TEMPLATE_MAX_DEPTH)
		return template_fail(ctx, "sections nested deeper than %d",
		                     TEMPLATE_MAX_DEPTH);
	util_strlcpy(ctx->open[ctx->depth].name, tag->name,
	             sizeof(ctx->open[0].name));
	ctx->open[ctx->depth].shown =
	    template_shown(ctx) && ((value[0] != '\0') == (tag->kind == '#'));
	ctx->open[ctx->depth].line = ctx->line;
	ctx->depth++;
	return 0;
}

/* template_apply - act on a parsed tag; variables are written */
static int
template_apply(struct template_ctx *ctx, const struct template_tag *tag)
{
	const char *value;

	if (tag->kind == '!')
		return 0;
	if ((value = template_value(ctx, tag->name)) == NULL)
		return template_fail(ctx, "unknown variable '%s'", tag->name);
	if (tag->kind != 0)
		return template_section(ctx, tag, value);
	if (template_shown(ctx))
		fputs(value, ctx->out);
	return 0;
}

/* template_indented - a value with every line after the first indented */
static void
template_indented(struct template_ctx *ctx, const char *value,
                  const char *indent, size_t n)
{
	fwrite(indent, 1, n, ctx->out);
	for (const char *p = value; *p != '\0'; p++) {
		fputc(*p, ctx->out);
		if (*p == '\n' && p[1] != '\0')
			fwrite(indent, 1, n, ctx->out);
	}
}

/*
 * template_standalone - a line of blanks and one tag: a section or
 * comment line vanishes, a variable line indents its value.  Returns 1
 * if handled, 0 if the line is not standalone, -1 on an error.
 */
static int
template_standalone(struct template_ctx *ctx, const char *s, const char *eol,
                    int newline)
{
	const char *p = s, *q;
	struct template_tag tag;
	const char *value;

	while (p < eol && template_blank(*p))
		p++;
	if (eol - p < 4 || p[0] != '{' || p[1] != '{')
		return 0;
	if (template_parse_tag(ctx, p, eol, &tag) < 0)
		return -1;
	for (q = tag.end; q < eol && template_blank(*q); q++)
		;
	if (q != eol)
		return 0;
	if (tag.kind != 0)
		return template_apply(ctx, &tag) < 0 ? -1 : 1;
	if ((value = template_value(ctx, tag.name)) == NULL)
		return template_fail(ctx, "unknown variable '%s'", tag.name);
	if (template_shown(ctx)) {
		template_indented(ctx, value, s, (size_t) (p - s));
		if (newline)
			fputc('\n', ctx->out);
	}
	return 1;
}

/* template_line - one line, without its line break */
static int
template_line(struct template_ctx *ctx, const char *s, const char *eol,
              int newline)
{
	int rc = template_standalone(ctx, s, eol, newline);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	while (s < eol) {
		const char *open = NULL;
		struct template_tag tag;

		for (const char *q = s; q + 1 < eol; q++)
			if (q[0] == '{' && q[1] == '{') {
				open = q;
				break;
			}
		if (template_shown(ctx))
			fwrite(s, 1, (size_t) ((open ? open : eol) - s),
			       ctx->out);
		if (open == NULL)
			break;
		if (template_parse_tag(ctx, open, eol, &tag) < 0 ||
		    template_apply(ctx, &tag) < 0)
			return -1;
		s = tag.end;
	}
	if (newline && template_shown(ctx))
		fputc('\n', ctx->out);
	return 0;
}

/* template_lines - every line of the text */
static int
template_lines(struct template_ctx *ctx, const char *text, size_t len)
{
	const char *s = text, *end = text + len;

	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t) (end - s));
		const char *eol = nl ? nl : end;

		ctx->line++;
		if (memchr(s, '\0', (size_t) (eol - s)) != NULL)
			return template_fail(ctx, "NUL byte");
		if (template_line(ctx, s, eol, nl != NULL) < 0)
			return -1;
		s = nl ? nl + 1 : end;
	}
	if (ctx->depth > 0) {
		ctx->line = ctx->open[ctx->depth - 1].line;
		return template_fail(ctx, "section '%s' is never closed",
		                     ctx->open[ctx->depth - 1].name);
	}
	return 0;
}

/* template_render - the text with variables and sections applied */
char *
template_render(const char *text, size_t len, const struct template_var *vars,
                size_t nvars, char *why, size_t whylen)
{
	struct template_ctx ctx = {
	    .vars = vars, .nvars = nvars, .why = why, .whylen = whylen};
	char *buf = NULL;
	size_t size = 0;
	int rc;

	if ((ctx.out = open_memstream(&buf, &size)) == NULL)
		panic("open_memstream: out of memory");
	rc = template_lines(&ctx, text, len);
	if (fclose(ctx.out) != 0)
		panic("template: cannot write to memory");
	if (rc < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* template_name_check - a template file's name stem */
int
template_name_check(const char *name, char *why, size_t whylen)
{
	size_t n = strlen(name);

	if (n == 0 || n > TEMPLATE_NAME_MAX ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz-") != n)
		return util_why(why, whylen,
		                "'%s' is not a language name like nl or en",
		                name);
	return 0;
}
