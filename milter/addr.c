/*
 * addr - the domains relaygate judges: the MAIL FROM argument's and the
 * From header's.
 *
 * The From parser is a tokenizer (RFC 5322 section 3.2: atoms, quoted
 * strings, domain literals and specials, with CFWS skipped) under a small
 * parser.  A mailbox starts with a run of words, dots and '@'; only the
 * token after the run tells what the run was: a display name before '<',
 * a group name before ':', an addr-spec before ',', ';' or the end.  The
 * run is therefore scanned once to find that token and lexed again in
 * its role, which keeps the work linear without storing tokens.  Comment
 * nesting is counted, not recursed, and bounded.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "domain.h"
#include "log.h"
#include "util.h"

#define ADDR_COMMENT_DEPTH 64            /* deeper nesting is invalid */
#define ADDR_RAW_SIZE (4 * DOMAIN_SIZE)  /* a domain before normalizing */
#define ADDR_EXCERPT_SIZE 72             /* input quoted in a reason */
#define ADDR_NOTE_SIZE 160               /* why a mailbox has no domain */
#define ADDR_SPECIALS "<>@,;:."          /* one-byte tokens */
#define ADDR_ATEXT "!#$%&'*+-/=?^_`{|}~" /* besides letters and digits */

/* The tokens of a header value (RFC 5322 section 3.2). */
enum addr_kind {
	ADDR_T_END,
	ADDR_T_ERROR, /* the reason is in the lexer's why */
	ADDR_T_ATOM,
	ADDR_T_QUOTED,
	ADDR_T_LITERAL,
	ADDR_T_SPECIAL, /* one byte of ADDR_SPECIALS, in c */
};

struct addr_token {
	enum addr_kind kind;
	const char *s; /* first byte in the value */
	size_t n;      /* length, delimiters included */
	char c;        /* ADDR_T_SPECIAL: which */
	int has_at;    /* ADDR_T_QUOTED: the content holds '@' */
	int has_angle; /* ADDR_T_QUOTED: the content holds '<' or '>' */
	int cfws;      /* blanks or comments came before the token */
};

/* A lexer with one token of lookahead, over a value or a part of it. */
struct addr_cursor {
	const char *p;
	const char *end;      /* NULL: up to the NUL */
	const char *prev_end; /* just after the token before tok */
	unsigned flags;       /* ADDR_FROM_NAME_AT when a comment holds '@' */
	char *why;
	size_t whylen;
	struct addr_token tok;
};

/* The words, dots and '@' before the token that gives them a role. */
struct addr_run {
	const char *start; /* the first token */
	const char *end;   /* just after the last token */
	int nat;           /* unquoted '@' among them */
};

/* One mailbox's outcome. */
struct addr_mailbox {
	char domain[DOMAIN_SIZE];  /* normalized, "" when none */
	char note[ADDR_NOTE_SIZE]; /* why there is none */
};

struct addr_parser {
	struct addr_cursor cur;
	struct addr_from *out;
	int in_group;              /* between "name:" and ";" */
	int group_members;         /* mailboxes in the open group */
	struct addr_run group;     /* the open group's name */
	char note[ADDR_NOTE_SIZE]; /* the first reason a domain is missing */
	char *why;
	size_t whylen;
};

/*
 * addr_excerpt - a loggable copy of s[0..n) in buf: printable ASCII as is,
 * other bytes as \xNN, cut with "..." when it does not fit.
 */
static const char *
addr_excerpt(char *buf, size_t size, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char) s[i];

		if (o + 4 + 4 > size) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c >= 0x20 && c < 0x7f) {
			buf[o++] = (char) c;
		} else {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 0xf];
		}
	}
	buf[o] = '\0';
	return buf;
}

/* addr_atext - may c be part of an atom?  8-bit bytes may (RFC 6532). */
static int
addr_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c >= 0x80 ||
	       (c != '\0' && strchr(ADDR_ATEXT, c) != NULL);
}

/* addr_blank - folding white space; CR and LF stay from unfolding */
static int
addr_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* addr_normalize - normalize a domain text for a mailbox or a sender */
static int
addr_normalize(const char *raw, char *out, char *why, size_t whylen)
{
	char inner[128];

	if (domain_normalize(raw, out, DOMAIN_SIZE, inner, sizeof(inner)) < 0) {
		char ex[ADDR_EXCERPT_SIZE];

		return util_why(why, whylen, "invalid domain '%s': %s",
		                addr_excerpt(ex, sizeof(ex), raw, strlen(raw)),
		                inner);
	}
	return 0;
}

/* addr_lex_fail - end lexing with a reason */
static void
addr_lex_fail(struct addr_cursor *cur, const char *reason)
{
	cur->tok.kind = ADDR_T_ERROR;
	util_why(cur->why, cur->whylen, "%s", reason);
}

/* addr_at_end - has the cursor reached the end of its text? */
static int
addr_at_end(const struct addr_cursor *cur)
{
	return *cur->p == '\0' || (cur->end != NULL && cur->p >= cur->end);
}

/*
 * addr_skip_comment - skip the comment at cur->p.  Nesting is counted, at
 * most ADDR_COMMENT_DEPTH deep; a quoted pair hides the byte after '\\'.
 */
static int
addr_skip_comment(struct addr_cursor *cur)
{
	int depth = 0;

	for (const char *p = cur->p;; p++) {
		switch (*p) {
		case '\0':
			addr_lex_fail(cur, "unterminated comment");
			return -1;
		case '\\':
			if (*++p == '\0') {
				addr_lex_fail(cur, "unterminated comment");
				return -1;
			}
			break;
		case '@':
			cur->flags |= ADDR_FROM_NAME_AT;
			break;
		case '(':
			if (++depth > ADDR_COMMENT_DEPTH) {
				addr_lex_fail(cur, "comments nested too deep");
				return -1;
			}
			break;
		case ')':
			if (--depth == 0) {
				cur->p = p + 1;
				return 0;
			}
			break;
		default:
			break;
		}
	}
}

/* addr_skip_cfws - skip blanks and comments */
static int
addr_skip_cfws(struct addr_cursor *cur)
{
	while (!addr_at_end(cur)) {
		if (addr_blank(*cur->p))
			cur->p++;
		else if (*cur->p != '(')
			break;
		else if (addr_skip_comment(cur) < 0)
			return -1;
	}
	return 0;
}

/* addr_lex_quoted - a quoted string, noting the bytes that matter */
static void
addr_lex_quoted(struct addr_cursor *cur)
{
	const char *p;

	for (p = cur->p + 1; *p != '"'; p++) {
		if (*p == '\0' || (*p == '\\' && *++p == '\0')) {
			addr_lex_fail(cur, "unterminated quoted string");
			return;
		}
		if (*p == '@')
			cur->tok.has_at = 1;
		else if (*p == '<' || *p == '>')
			cur->tok.has_angle = 1;
	}
	cur->p = p + 1;
	cur->tok.kind = ADDR_T_QUOTED;
}

/* addr_lex_literal - a domain literal "[...]" */
static void
addr_lex_literal(struct addr_cursor *cur)
{
	const char *p;

	for (p = cur->p + 1; *p != ']'; p++) {
		if (*p == '\\' && p[1] != '\0') {
			p++; /* a quoted pair: the next byte is content */
		} else if (*p == '\0' || *p == '\\') {
			addr_lex_fail(cur, "unterminated domain literal");
			return;
		} else if (*p == '[') {
			addr_lex_fail(cur, "'[' inside a domain literal");
			return;
		}
	}
	cur->p = p + 1;
	cur->tok.kind = ADDR_T_LITERAL;
}

/* addr_lex_other - an atom, a special, or a byte that cannot start one */
static void
addr_lex_other(struct addr_cursor *cur)
{
	unsigned char c = (unsigned char) *cur->p;
	char reason[64];

	if (strchr(ADDR_SPECIALS, c) != NULL) {
		cur->tok.kind = ADDR_T_SPECIAL;
		cur->tok.c = (char) c;
		cur->p++;
	} else if (addr_atext(c)) {
		while (addr_atext((unsigned char) *cur->p))
			cur->p++;
		cur->tok.kind = ADDR_T_ATOM;
	} else if (c == ')') {
		addr_lex_fail(cur, "')' without '('");
	} else if (c == ']') {
		addr_lex_fail(cur, "']' without '['");
	} else if (c == '\\') {
		addr_lex_fail(cur, "backslash outside quotes");
	} else {
		snprintf(reason, sizeof(reason),
		         "control character 0x%02x outside quotes", c);
		addr_lex_fail(cur, reason);
	}
}

/* addr_next - advance the cursor to the next token */
static void
addr_next(struct addr_cursor *cur)
{
	const char *before = cur->p;

	cur->prev_end = cur->p;
	memset(&cur->tok, 0, sizeof(cur->tok));
	if (addr_skip_cfws(cur) < 0)
		return;
	cur->tok.cfws = cur->p != before;
	cur->tok.s = cur->p;
	if (addr_at_end(cur))
		cur->tok.kind = ADDR_T_END;
	else if (*cur->p == '"')
		addr_lex_quoted(cur);
	else if (*cur->p == '[')
		addr_lex_literal(cur);
	else
		addr_lex_other(cur);
	cur->tok.n = (size_t) (cur->p - cur->tok.s);
}

/* addr_cursor_init - a cursor on s..end (end NULL: the whole string) */
static void
addr_cursor_init(struct addr_cursor *cur, const char *s, const char *end,
                 char *why, size_t whylen)
{
	memset(cur, 0, sizeof(*cur));
	cur->p = s;
	cur->end = end;
	cur->why = why;
	cur->whylen = whylen;
	addr_next(cur);
}

/* addr_is - is the token the special c? */
static int
addr_is(const struct addr_token *tok, char c)
{
	return tok->kind == ADDR_T_SPECIAL && tok->c == c;
}

/* addr_is_word - is the token an atom or a quoted string? */
static int
addr_is_word(const struct addr_token *tok)
{
	return tok->kind == ADDR_T_ATOM || tok->kind == ADDR_T_QUOTED;
}

/* addr_unexpected - the reason for a token that does not belong */
static int
addr_unexpected(const struct addr_cursor *cur, const char *where)
{
	char ex[ADDR_EXCERPT_SIZE];

	if (cur->tok.kind == ADDR_T_ERROR)
		return -1; /* the lexer gave the reason */
	if (cur->tok.kind == ADDR_T_END)
		return util_why(cur->why, cur->whylen, "unexpected end %s",
		                where);
	return util_why(cur->why, cur->whylen, "unexpected '%s' %s",
	                addr_excerpt(ex, sizeof(ex), cur->tok.s, cur->tok.n),
	                where);
}

/* addr_since - the length from start to the end of the last token read */
static size_t
addr_since(const struct addr_cursor *cur, const char *start)
{
	return cur->prev_end > start ? (size_t) (cur->prev_end - start) : 0;
}

/* addr_run_text - a loggable excerpt of a run */
static const char *
addr_run_text(char *buf, size_t size, const struct addr_run *run)
{
	return addr_excerpt(buf, size, run->start,
	                    (size_t) (run->end - run->start));
}

/*
 * addr_local - the local part at the cursor: words and dots, up to the
 * token after them.  Stray, doubled or missing dots are tolerated (old
 * mobile carriers' "a..b@"); a quoted string that looks like an address
 * is not: naive parsers would take the domain inside it.
 */
static int
addr_local(struct addr_cursor *cur, unsigned *flags)
{
	int nwords = 0, prev_word = 0, odd = 0;

	for (; addr_is_word(&cur->tok) || addr_is(&cur->tok, '.');
	     addr_next(cur)) {
		int word = addr_is_word(&cur->tok);

		if (cur->tok.has_at || cur->tok.has_angle)
			return util_why(
			    cur->why, cur->whylen,
			    "quoted local part holds '@', '<' or '>': "
			    "receivers may read another address in it");
		/* CFWS inside, two words or two dots in a row, a lead dot */
		if ((nwords > 0 && cur->tok.cfws) || word == prev_word)
			odd = 1;
		prev_word = word;
		nwords += word;
	}
	if (cur->tok.kind == ADDR_T_ERROR)
		return -1;
	if (nwords == 0 && addr_is(&cur->tok, '@'))
		return util_why(cur->why, cur->whylen, "empty local part");
	if (odd || (nwords > 0 && !prev_word))
		*flags |= ADDR_FROM_OBSOLETE;
	return 0;
}

/*
 * addr_domain - the domain after '@': atoms and dots (CFWS around dots is
 * obsolete but allowed), or a domain literal, which leaves mb->domain ""
 * with a note.  Stops before an atom that follows an atom.
 */
static int
addr_domain(struct addr_cursor *cur, struct addr_mailbox *mb, unsigned *flags)
{
	char raw[ADDR_RAW_SIZE];
	size_t len = 0;
	int want_atom = 1;

	mb->domain[0] = '\0';
	if (cur->tok.kind == ADDR_T_LITERAL) {
		char ex[ADDR_EXCERPT_SIZE];

		snprintf(mb->note, sizeof(mb->note),
		         "address literal %s instead of a domain",
		         addr_excerpt(ex, sizeof(ex), cur->tok.s, cur->tok.n));
		addr_next(cur);
		return 0;
	}
	for (; (cur->tok.kind == ADDR_T_ATOM && want_atom) ||
	       addr_is(&cur->tok, '.');
	     addr_next(cur)) {
		if (len + cur->tok.n >= sizeof(raw))
			return util_why(cur->why, cur->whylen,
			                "domain longer than %d bytes",
			                DOMAIN_MAX);
		if (len > 0 && cur->tok.cfws)
			*flags |= ADDR_FROM_OBSOLETE;
		memcpy(raw + len, cur->tok.s, cur->tok.n);
		len += cur->tok.n;
		want_atom = cur->tok.kind != ADDR_T_ATOM;
	}
	if (cur->tok.kind == ADDR_T_ERROR)
		return -1;
	if (len == 0)
		return util_why(cur->why, cur->whylen, "no domain after '@'");
	raw[len] = '\0';
	return addr_normalize(raw, mb->domain, cur->why, cur->whylen);
}

/*
 * addr_spec - local-part "@" domain at the cursor (RFC 5322 section
 * 3.4.1).  Without '@' the mailbox has no domain and a note says so.
 */
static int
addr_spec(struct addr_cursor *cur, struct addr_mailbox *mb, unsigned *flags)
{
	const char *start = cur->tok.s;
	char ex[ADDR_EXCERPT_SIZE];

	if (addr_local(cur, flags) < 0)
		return -1;
	if (addr_is(&cur->tok, '@')) {
		addr_next(cur);
		return addr_domain(cur, mb, flags);
	}
	mb->domain[0] = '\0';
	snprintf(mb->note, sizeof(mb->note), "no domain in '%s'",
	         addr_excerpt(ex, sizeof(ex), start, addr_since(cur, start)));
	return 0;
}

/*
 * addr_route - an obsolete route in an angle address, "@a,@b:" (RFC 5322
 * section 4.4); its domains must be valid but are ignored.
 */
static int
addr_route(struct addr_cursor *cur, unsigned *flags)
{
	struct addr_mailbox hop;

	*flags |= ADDR_FROM_OBSOLETE;
	for (;;) {
		while (addr_is(&cur->tok, ','))
			addr_next(cur);
		if (!addr_is(&cur->tok, '@'))
			return addr_unexpected(cur, "in a route");
		addr_next(cur);
		if (addr_domain(cur, &hop, flags) < 0)
			return -1;
		if (addr_is(&cur->tok, ':')) {
			addr_next(cur);
			return 0;
		}
		if (!addr_is(&cur->tok, ','))
			return addr_unexpected(cur, "in a route");
	}
}

/* addr_angle - an angle address, the cursor on its '<' */
static int
addr_angle(struct addr_cursor *cur, struct addr_mailbox *mb, unsigned *flags)
{
	char ex[ADDR_EXCERPT_SIZE], ex2[ADDR_EXCERPT_SIZE];
	const char *start;

	addr_next(cur);
	start = cur->tok.s;
	if (addr_is(&cur->tok, '>'))
		return util_why(cur->why, cur->whylen,
		                "empty address '<>' in From");
	if ((addr_is(&cur->tok, '@') || addr_is(&cur->tok, ',')) &&
	    addr_route(cur, flags) < 0)
		return -1;
	if (addr_spec(cur, mb, flags) < 0)
		return -1;
	if (addr_is(&cur->tok, '>')) {
		addr_next(cur);
		return 0;
	}
	if (cur->tok.kind == ADDR_T_ERROR)
		return -1;
	if (cur->tok.kind == ADDR_T_END)
		return util_why(cur->why, cur->whylen, "'<' without '>'");
	return util_why(
	    cur->why, cur->whylen,
	    "unexpected '%s' after '<%s' in an angle address",
	    addr_excerpt(ex, sizeof(ex), cur->tok.s, cur->tok.n),
	    addr_excerpt(ex2, sizeof(ex2), start, addr_since(cur, start)));
}

/* addr_run_scan - collect words, dots and '@' up to any other token */
static int
addr_run_scan(struct addr_cursor *cur, struct addr_run *run)
{
	run->start = run->end = cur->tok.s;
	run->nat = 0;
	for (;; addr_next(cur)) {
		if (addr_is(&cur->tok, '@'))
			run->nat++;
		else if (!addr_is_word(&cur->tok) &&
		         cur->tok.kind != ADDR_T_LITERAL &&
		         !addr_is(&cur->tok, '.'))
			break;
		run->end = cur->tok.s + cur->tok.n;
	}
	return cur->tok.kind == ADDR_T_ERROR ? -1 : 0;
}

/*
 * addr_name_domain - the domain after an unquoted '@' in a display name.
 * Some parsers take it for the address, so if it is a plausible domain
 * (it has a dot and is valid) it must be the mailbox's own.
 */
static int
addr_name_domain(struct addr_parser *ps, struct addr_cursor *sub,
                 const struct addr_mailbox *mb)
{
	struct addr_mailbox shown;
	char scratch[ADDR_NOTE_SIZE];
	unsigned ignored = 0;

	sub->why = scratch;
	sub->whylen = sizeof(scratch);
	if (addr_domain(sub, &shown, &ignored) < 0 ||
	    strchr(shown.domain, '.') == NULL ||
	    strcmp(shown.domain, mb->domain) == 0)
		return 0;
	return util_why(ps->why, ps->whylen,
	                "display name shows an address in %s but the "
	                "mailbox is %s%s",
	                shown.domain,
	                mb->domain[0] ? "in " : "without a domain", mb->domain);
}

/*
 * addr_name_check - a display name: an '@' in it is noted, and an unquoted
 * one must not show another domain than the address's.
 */
static int
addr_name_check(struct addr_parser *ps, const struct addr_run *run,
                const struct addr_mailbox *mb)
{
	struct addr_cursor sub;

	addr_cursor_init(&sub, run->start, run->end, ps->why, ps->whylen);
	while (sub.tok.kind != ADDR_T_END && sub.tok.kind != ADDR_T_ERROR) {
		if (sub.tok.has_at)
			ps->out->flags |= ADDR_FROM_NAME_AT;
		if (!addr_is(&sub.tok, '@')) {
			addr_next(&sub);
			continue;
		}
		ps->out->flags |= ADDR_FROM_NAME_AT;
		addr_next(&sub);
		if (addr_name_domain(ps, &sub, mb) < 0)
			return -1;
	}
	return 0;
}

/*
 * addr_bare - a run that ended at ',', ';' or the end: an addr-spec.  A
 * run without '@' is a mailbox without a domain, whatever its shape
 * ("Doe, John <j@x>" splits into "Doe" and "John <j@x>").
 */
static int
addr_bare(struct addr_parser *ps, const struct addr_run *run,
          struct addr_mailbox *mb)
{
	struct addr_cursor sub;
	char ex[ADDR_EXCERPT_SIZE];

	mb->domain[0] = '\0';
	if (run->nat == 0) {
		snprintf(mb->note, sizeof(mb->note), "no domain in '%s'",
		         addr_run_text(ex, sizeof(ex), run));
		return 0;
	}
	if (run->nat > 1)
		return util_why(ps->why, ps->whylen,
		                "more than one '@' in '%s'",
		                addr_run_text(ex, sizeof(ex), run));
	addr_cursor_init(&sub, run->start, run->end, ps->why, ps->whylen);
	if (addr_spec(&sub, mb, &ps->out->flags) < 0)
		return -1;
	if (sub.tok.kind != ADDR_T_END)
		return util_why(ps->why, ps->whylen,
		                "text after the address in '%s'",
		                addr_run_text(ex, sizeof(ex), run));
	return 0;
}

/* addr_mailbox_add - count a mailbox and remember a new domain */
static int
addr_mailbox_add(struct addr_parser *ps, const struct addr_mailbox *mb)
{
	struct addr_from *out = ps->out;

	out->nmailboxes++;
	ps->group_members++;
	if (mb->domain[0] == '\0') {
		out->flags |= ADDR_FROM_NO_DOMAIN;
		if (ps->note[0] == '\0')
			util_strlcpy(ps->note, mb->note, sizeof(ps->note));
		return 0;
	}
	for (int i = 0; i < out->ndomains; i++)
		if (strcmp(out->domains[i], mb->domain) == 0)
			return 0;
	if (out->ndomains == ADDR_FROM_DOMAINS)
		return util_why(ps->why, ps->whylen,
		                "From names more than %d domains",
		                ADDR_FROM_DOMAINS);
	util_strlcpy(out->domains[out->ndomains++], mb->domain, DOMAIN_SIZE);
	return 0;
}

/* addr_group_open - "name:" starts a group (RFC 6854) */
static int
addr_group_open(struct addr_parser *ps, const struct addr_run *run)
{
	if (ps->in_group)
		return util_why(ps->why, ps->whylen, "group inside a group");
	if (run->nat > 0) {
		char ex[ADDR_EXCERPT_SIZE];

		return util_why(ps->why, ps->whylen, "'@' in group name '%s'",
		                addr_run_text(ex, sizeof(ex), run));
	}
	ps->in_group = 1;
	ps->group_members = 0;
	ps->group = *run;
	ps->out->flags |= ADDR_FROM_GROUP;
	addr_next(&ps->cur);
	return 0;
}

/* addr_group_close - ";" or the end of the field closes the open group */
static void
addr_group_close(struct addr_parser *ps)
{
	if (ps->group_members == 0 && ps->note[0] == '\0') {
		char ex[ADDR_EXCERPT_SIZE];

		snprintf(ps->note, sizeof(ps->note),
		         "group '%s' has no mailbox",
		         addr_run_text(ex, sizeof(ex), &ps->group));
	}
	ps->in_group = 0;
}

/*
 * addr_address - one mailbox, or the name that opens a group.  Returns 1
 * for a group name (mailboxes follow at once), 0 for a mailbox, -1.
 */
static int
addr_address(struct addr_parser *ps)
{
	struct addr_cursor *cur = &ps->cur;
	struct addr_mailbox mb;
	struct addr_run run;

	if (addr_run_scan(cur, &run) < 0)
		return -1;
	if (addr_is(&cur->tok, ':'))
		return addr_group_open(ps, &run) < 0 ? -1 : 1;
	if (addr_is(&cur->tok, '<')) {
		if (addr_angle(cur, &mb, &ps->out->flags) < 0 ||
		    addr_name_check(ps, &run, &mb) < 0)
			return -1;
	} else if (addr_is(&cur->tok, '>')) {
		return util_why(ps->why, ps->whylen, "'>' without '<'");
	} else if (run.start == run.end) {
		return addr_unexpected(cur, "in From");
	} else if (addr_bare(ps, &run, &mb) < 0) {
		return -1;
	}
	return addr_mailbox_add(ps, &mb);
}

/*
 * addr_list - a From field: a mailbox-list, or an address-list with
 * groups (RFC 6854).  Empty elements (",,") are obsolete but allowed.
 */
static int
addr_list(struct addr_parser *ps)
{
	struct addr_cursor *cur = &ps->cur;
	int rc;

	while (cur->tok.kind != ADDR_T_END) {
		if (addr_is(&cur->tok, ',')) {
			ps->out->flags |= ADDR_FROM_OBSOLETE;
			addr_next(cur);
			continue;
		}
		if (addr_is(&cur->tok, ';')) {
			if (!ps->in_group)
				return util_why(ps->why, ps->whylen,
				                "';' outside a group");
			addr_group_close(ps);
			addr_next(cur);
		} else if ((rc = addr_address(ps)) != 0) {
			if (rc < 0)
				return -1;
			continue;
		}
		if (addr_is(&cur->tok, ','))
			addr_next(cur);
		else if (cur->tok.kind != ADDR_T_END &&
		         !addr_is(&cur->tok, ';'))
			return addr_unexpected(cur, "after an address");
	}
	if (ps->in_group) {
		ps->out->flags |= ADDR_FROM_OBSOLETE;
		addr_group_close(ps);
	}
	return 0;
}

/* addr_header_from - parse one From field value */
enum addr_status
addr_header_from(const char *value, struct addr_from *out, char *why,
                 size_t whylen)
{
	struct addr_parser ps;

	if (value == NULL || out == NULL)
		panic("addr_header_from: NULL argument");
	memset(out, 0, sizeof(*out));
	memset(&ps, 0, sizeof(ps));
	ps.out = out;
	ps.why = why;
	ps.whylen = whylen;
	addr_cursor_init(&ps.cur, value, NULL, why, whylen);
	if (addr_list(&ps) < 0) {
		memset(out, 0, sizeof(*out));
		return ADDR_INVALID;
	}
	out->flags |= ps.cur.flags;
	if (out->ndomains > 0) {
		util_strlcpy(out->domain, out->domains[0], sizeof(out->domain));
		return ADDR_OK;
	}
	if (out->nmailboxes > 0 || (out->flags & ADDR_FROM_GROUP)) {
		util_why(why, whylen, "%s", ps.note);
		return ADDR_NO_DOMAIN;
	}
	memset(out, 0, sizeof(*out));
	util_why(why, whylen, "no address in From");
	return ADDR_INVALID;
}

/* addr_env_status - return st with a reason in why */
static enum addr_status addr_env_status(enum addr_status st, char *why,
                                        size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static enum addr_status
addr_env_status(enum addr_status st, char *why, size_t whylen, const char *fmt,
                ...)
{
	if (why != NULL && whylen > 0) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return st;
}

/* addr_env_trim - shrink s..e past blanks on both sides */
static void
addr_env_trim(const char **s, const char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
		(*e)--;
}

/* addr_env_hop_char - may c be part of a source route hop? */
static int
addr_env_hop_char(unsigned char c)
{
	return c > ' ' && c != 0x7f && strchr(",:@<>\"\\", c) == NULL;
}

/*
 * addr_env_route - skip a source route "@a,@b:" (RFC 5321 section 4.1.2:
 * accepted, ignored).  Returns the byte after ':' or NULL.
 */
static const char *
addr_env_route(const char *s, const char *e)
{
	const char *p = s;

	while (p < e && *p == '@') {
		const char *hop = ++p;

		while (p < e && addr_env_hop_char((unsigned char) *p))
			p++;
		if (p == hop || p == e)
			return NULL;
		if (*p == ':')
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
	return NULL;
}

/*
 * addr_env_local - the end of the Local-part at s: a Quoted-string or a
 * Dot-string, UTF-8 allowed (RFC 6531).  Dots are not checked: the local
 * part does not matter here.  Returns NULL on error.
 */
static const char *
addr_env_local(const char *s, const char *e, char *why, size_t whylen)
{
	const char *p = s;

	if (p < e && *p == '"') {
		for (p++; p < e && *p != '"'; p++) {
			if (*p == '\\' && ++p == e)
				break;
			if ((unsigned char) *p < ' ' || *p == 0x7f)
				break;
		}
		if (p < e && *p == '"')
			return p + 1;
		util_why(why, whylen, "malformed quoted local part");
		return NULL;
	}
	for (; p < e && *p != '@'; p++) {
		if (*p != '.' && !addr_atext((unsigned char) *p)) {
			util_why(why, whylen,
			         "invalid character 0x%02x in local part",
			         (unsigned char) *p);
			return NULL;
		}
	}
	return p;
}

/* addr_env_domain - the part after '@': a domain or an address literal */
static enum addr_status
addr_env_domain(const char *s, const char *e, char *domain, char *why,
                size_t whylen)
{
	char raw[ADDR_RAW_SIZE];
	size_t len = (size_t) (e - s);

	if (len == 0)
		return addr_env_status(ADDR_INVALID, why, whylen,
		                       "no domain after '@'");
	if (*s == '[') {
		char ex[ADDR_EXCERPT_SIZE];

		if (len < 3 || e[-1] != ']' || memchr(s + 1, '[', len - 1) ||
		    memchr(s + 1, ']', len - 2))
			return addr_env_status(ADDR_INVALID, why, whylen,
			                       "malformed address literal");
		return addr_env_status(ADDR_NO_DOMAIN, why, whylen,
		                       "address literal %s instead of a domain",
		                       addr_excerpt(ex, sizeof(ex), s, len));
	}
	if (memchr(s, '@', len) != NULL)
		return addr_env_status(ADDR_INVALID, why, whylen,
		                       "more than one '@'");
	if (len >= sizeof(raw))
		return addr_env_status(ADDR_INVALID, why, whylen,
		                       "domain longer than %d bytes",
		                       DOMAIN_MAX);
	memcpy(raw, s, len);
	raw[len] = '\0';
	if (addr_normalize(raw, domain, why, whylen) < 0)
		return ADDR_INVALID;
	return ADDR_OK;
}

/*
 * addr_env_path - the inside of a Reverse-path, brackets removed: an
 * optional source route, the local part, '@' and the domain.
 */
static enum addr_status
addr_env_path(const char *s, const char *e, char *domain, char *why,
              size_t whylen)
{
	const char *p;

	if (*s == '@' && (s = addr_env_route(s, e)) == NULL)
		return addr_env_status(ADDR_INVALID, why, whylen,
		                       "malformed source route");
	if (s == e)
		return addr_env_status(ADDR_INVALID, why, whylen,
		                       "no address after the source route");
	if ((p = addr_env_local(s, e, why, whylen)) == NULL)
		return ADDR_INVALID;
	if (p == e) {
		char ex[ADDR_EXCERPT_SIZE];

		return addr_env_status(
		    ADDR_NO_DOMAIN, why, whylen, "no domain in '%s'",
		    addr_excerpt(ex, sizeof(ex), s, (size_t) (e - s)));
	}
	if (*p != '@')
		return addr_env_status(ADDR_INVALID, why, whylen,
		                       "text after the quoted local part");
	if (p == s)
		return addr_env_status(ADDR_INVALID, why, whylen,
		                       "empty local part");
	return addr_env_domain(p + 1, e, domain, why, whylen);
}

/* addr_envelope - the domain of a MAIL FROM argument */
enum addr_status
addr_envelope(const char *arg, char domain[static DOMAIN_SIZE], char *why,
              size_t whylen)
{
	const char *s = arg, *e;
	enum addr_status st;

	if (arg == NULL)
		panic("addr_envelope: NULL argument");
	domain[0] = '\0';
	e = s + strlen(s);
	addr_env_trim(&s, &e);
	if (s == e)
		return addr_env_status(ADDR_INVALID, why, whylen,
		                       "empty MAIL FROM argument");
	if (e - s >= 2 && *s == '<' && e[-1] == '>') {
		s++;
		e--;
		addr_env_trim(&s, &e);
		if (s == e)
			return addr_env_status(ADDR_NULL, why, whylen,
			                       "null sender <>");
	} else if (*s == '<') {
		return addr_env_status(ADDR_INVALID, why, whylen,
		                       "'<' without '>'");
	} else if (e[-1] == '>') {
		return addr_env_status(ADDR_INVALID, why, whylen,
		                       memchr(s, '<', (size_t) (e - s))
		                           ? "text before '<'"
		                           : "'>' without '<'");
	}
	st = addr_env_path(s, e, domain, why, whylen);
	if (st != ADDR_OK)
		domain[0] = '\0';
	return st;
}
