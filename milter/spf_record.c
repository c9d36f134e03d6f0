/*
 * spf_record - strict RFC 7208 grammar check of one SPF record, and the
 * list of its terms.
 *
 * A recursive-descent parser with one function per ABNF rule of RFC 7208
 * section 12.  The input is split into terms at runs of SP first (no term
 * can contain SP), so every rule below works on a bounded (pointer,
 * length) slice and never relies on NUL termination.  The only tables are
 * constant; nothing is allocated.
 */

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "spf_record.h"

/*
 * What a macro-string may contain depends on where it occurs: the macros
 * c, r and t only in explanations (and never-expanded unknown modifiers),
 * SP only in explanations.
 */
#define SPF_RECORD_MS_CRT 0x01
#define SPF_RECORD_MS_SPACE 0x02

/* How much of a term a reason quotes. */
#define SPF_RECORD_QUOTE 48

/* The input being checked, for reasons that say where. */
struct spf_record_ctx {
	const char *txt; /* the whole text */
	size_t total;    /* its length */
	size_t off, len; /* the current term */
	int index;       /* 1-based number of the current term; 0: none */
	int macros;      /* macro-expands seen in the current argument */
	char *why;
	size_t whylen;
};

static const struct spf_record_mech {
	const char *name;
	enum spf_term_type type;
} spf_record_mechs[] = {
    {"all", SPF_TERM_ALL}, {"include", SPF_TERM_INCLUDE}, {"a", SPF_TERM_A},
    {"mx", SPF_TERM_MX},   {"ptr", SPF_TERM_PTR},         {"ip4", SPF_TERM_IP4},
    {"ip6", SPF_TERM_IP6}, {"exists", SPF_TERM_EXISTS},
};

/* spf_record_alpha - ASCII letter, without the locale games of ctype */
static int
spf_record_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* spf_record_digit - ASCII digit */
static int
spf_record_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* spf_record_alnum - RFC 7208 alphanum */
static int
spf_record_alnum(int c)
{
	return spf_record_alpha(c) || spf_record_digit(c);
}

/* spf_record_lower - ASCII lowercase of one byte */
static int
spf_record_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* spf_record_in - is byte c one of the characters of set (never NUL)? */
static int
spf_record_in(const char *set, int c)
{
	return c != 0 && strchr(set, c) != NULL;
}

/* spf_record_ieq - do s (n bytes) and the lowercase word equal, ignoring case?
 */
static int
spf_record_ieq(const char *s, size_t n, const char *word)
{
	if (strlen(word) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (spf_record_lower((unsigned char) s[i]) != word[i])
			return 0;
	return 1;
}

/*
 * spf_record_fail - write a reason, prefixed with the current term when
 * there is one, and return -1.  Terms are printable ASCII by the time any
 * reason quotes them (the byte check runs first).
 */
__attribute__((format(printf, 2, 3))) static int
spf_record_fail(const struct spf_record_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (ctx->why == NULL || ctx->whylen == 0)
		return -1;
	if (ctx->index > 0) {
		int q = ctx->len > SPF_RECORD_QUOTE ? SPF_RECORD_QUOTE
		                                    : (int) ctx->len;

		n = snprintf(ctx->why, ctx->whylen,
		             "term %d '%.*s%s': ", ctx->index, q,
		             ctx->txt + ctx->off,
		             ctx->len > SPF_RECORD_QUOTE ? "..." : "");
		if (n < 0 || (size_t) n >= ctx->whylen)
			return -1;
	}
	va_start(ap, fmt);
	vsnprintf(ctx->why + n, ctx->whylen - (size_t) n, fmt, ap);
	va_end(ap);
	return -1;
}

/* spf_record_byte_name - what a byte that may not appear is, for people */
static const char *
spf_record_byte_name(unsigned char c)
{
	if (c == 0)
		return "NUL byte";
	if (c == '\t')
		return "tab (terms are separated by spaces only)";
	if (c == '\r' || c == '\n')
		return "line break";
	if (c >= 0x80)
		return "non-ASCII byte (SPF records are 7-bit ASCII)";
	return "control character";
}

/*
 * spf_record_bytes - only printable ASCII and SP may appear (RFC 7208 3.1,
 * 4.6.1, 12).  The reason quotes the (valid) text before the bad byte.
 */
static int
spf_record_bytes(const struct spf_record_ctx *ctx)
{
	const unsigned char *s = (const unsigned char *) ctx->txt;

	for (size_t i = 0; i < ctx->total; i++) {
		size_t from = i > 24 ? i - 24 : 0;

		if (s[i] >= 0x20 && s[i] < 0x7f)
			continue;
		return spf_record_fail(
		    ctx, "%s 0x%02x at offset %zu, after '%s%.*s'",
		    spf_record_byte_name(s[i]), s[i], i, from > 0 ? "..." : "",
		    (int) (i - from), ctx->txt + from);
	}
	return 0;
}

/* spf_record_version - "v=spf1" (any case) then SP or the end (4.5) */
static int
spf_record_version(const char *txt, size_t len)
{
	if (len < 6 || !spf_record_ieq(txt, 6, "v=spf1"))
		return 0;
	return len == 6 || txt[6] == ' ';
}

/* spf_record_macro_letter - may this macro letter appear here (7.2)? */
static int
spf_record_macro_letter(unsigned char c, int flags)
{
	int l = spf_record_lower(c);

	if (spf_record_in("slodiphv", l))
		return 1;
	return (flags & SPF_RECORD_MS_CRT) && spf_record_in("crt", l);
}

/*
 * spf_record_macro_brace - "%{" macro-letter transformers *delimiter "}"
 * at s[*pos].  The digit transformer must be 1..128: RFC 7208 7.3 forbids
 * zero, a name has at most 127 labels, and libspf2 rejects more.
 */
static int
spf_record_macro_brace(struct spf_record_ctx *ctx, const char *s, size_t len,
                       size_t *pos, int flags)
{
	size_t i = *pos + 2, digits = 0;
	unsigned n = 0;

	if (i >= len)
		return spf_record_fail(ctx, "macro '%%{' is not closed by '}' "
		                            "(write e.g. %%{d} or %%{ir})");
	if (!spf_record_macro_letter((unsigned char) s[i], flags))
		return spf_record_fail(
		    ctx, "'%c' is not a macro letter %s", s[i],
		    (flags & SPF_RECORD_MS_CRT)
		        ? "(s l o d i p h v c r t)"
		        : "here (s l o d i p h v; c r t only in explanations)");
	for (i++; i < len && spf_record_digit((unsigned char) s[i]); i++) {
		digits++;
		if (n <= 128)
			n = n * 10 + (unsigned) (s[i] - '0');
	}
	if (digits > 0 && (n == 0 || n > 128))
		return spf_record_fail(ctx,
		                       "macro '%.*s': the number of labels "
		                       "must be 1 to 128",
		                       (int) (i - *pos), s + *pos);
	if (i < len && (s[i] == 'r' || s[i] == 'R'))
		i++;
	while (i < len && spf_record_in(".-+,/_=", s[i]))
		i++;
	if (i >= len || s[i] != '}')
		return spf_record_fail(ctx,
		                       "macro '%.*s' is not closed by '}' "
		                       "(write e.g. %%{d} or %%{ir})",
		                       (int) ((i < len ? i + 1 : len) - *pos),
		                       s + *pos);
	*pos = i + 1;
	return 0;
}

/*
 * spf_record_macro_expand - one macro-expand at s[*pos] == '%': "%{...}",
 * "%%", "%_" or "%-".  A '%' followed by anything else is an error (7.1),
 * not a literal as libspf2 would have it.
 */
static int
spf_record_macro_expand(struct spf_record_ctx *ctx, const char *s, size_t len,
                        size_t *pos, int flags)
{
	size_t i = *pos;

	if (++ctx->macros > SPF_RECORD_MAX_MACROS)
		return spf_record_fail(
		    ctx, "more than %d macros in %s", SPF_RECORD_MAX_MACROS,
		    ctx->index > 0 ? "one term" : "the explanation");
	if (i + 1 >= len)
		return spf_record_fail(ctx,
		                       "'%%' at the end: a literal percent "
		                       "sign is written '%%%%'");
	switch (s[i + 1]) {
	case '{':
		return spf_record_macro_brace(ctx, s, len, pos, flags);
	case '%':
	case '_':
	case '-':
		*pos = i + 2;
		return 0;
	default:
		return spf_record_fail(ctx,
		                       "'%%%c' is not a macro: a literal "
		                       "percent sign is written '%%%%'",
		                       s[i + 1]);
	}
}

/*
 * spf_record_macro_string - check s as a macro-string (or, with
 * SPF_RECORD_MS_SPACE, an explain-string) and set *tail to where its
 * final run of literal text starts (len if it ends in a macro-expand).
 * In explanations libspf2 also reads " {" as a macro, so that counts
 * against the macro limit too.
 */
static int
spf_record_macro_string(struct spf_record_ctx *ctx, const char *s, size_t len,
                        int flags, size_t *tail)
{
	size_t i = 0;

	*tail = 0;
	while (i < len) {
		unsigned char c = (unsigned char) s[i];

		if (c == '%') {
			if (spf_record_macro_expand(ctx, s, len, &i, flags) < 0)
				return -1;
			*tail = i;
			continue;
		}
		if (c == ' ' && (flags & SPF_RECORD_MS_SPACE) && i + 1 < len &&
		    s[i + 1] == '{' && ++ctx->macros > SPF_RECORD_MAX_MACROS)
			return spf_record_fail(ctx,
			                       "more than %d macros in the "
			                       "explanation (libspf2 reads "
			                       "' {' as one)",
			                       SPF_RECORD_MAX_MACROS);
		if (!(c > 0x20 && c < 0x7f) &&
		    !(c == ' ' && (flags & SPF_RECORD_MS_SPACE)))
			return spf_record_fail(ctx,
			                       "byte 0x%02x in a macro "
			                       "string",
			                       c);
		i++;
	}
	return 0;
}

/*
 * spf_record_toplabel - RFC 7208 toplabel: letters and digits, not all
 * digits (a dotted quad is no host name), or with hyphens inside only.
 */
static int
spf_record_toplabel(const char *s, size_t len)
{
	int alpha = 0, hyphen = 0;

	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char) s[i];

		if (spf_record_alpha(c))
			alpha = 1;
		else if (c == '-')
			hyphen = 1;
		else if (!spf_record_digit(c))
			return 0;
	}
	if (hyphen)
		return spf_record_alnum((unsigned char) s[0]) &&
		       spf_record_alnum((unsigned char) s[len - 1]);
	return alpha;
}

/*
 * spf_record_domain_spec - macro-string domain-end, where domain-end is
 * "." toplabel ["."] or a macro-expand (7.1): the name must end in a
 * top-level label or a macro.  "%{d}." therefore fails, as the ABNF says.
 */
static int
spf_record_domain_spec(struct spf_record_ctx *ctx, const char *s, size_t len)
{
	size_t tail, end, dot;

	if (len == 0)
		return spf_record_fail(ctx, "empty domain");
	if (len > SPF_RECORD_MAX_ARG)
		return spf_record_fail(ctx, "domain longer than %d bytes",
		                       SPF_RECORD_MAX_ARG);
	ctx->macros = 0;
	if (spf_record_macro_string(ctx, s, len, 0, &tail) < 0)
		return -1;
	if (tail == len)
		return 0;
	end = s[len - 1] == '.' ? len - 1 : len;
	for (dot = end; dot > tail && s[dot - 1] != '.'; dot--)
		;
	if (dot == tail)
		return spf_record_fail(ctx,
		                       "'%.*s' is not a domain: it must end "
		                       "in '.' and a top-level label, or in "
		                       "a macro",
		                       (int) len, s);
	if (!spf_record_toplabel(s + dot, end - dot))
		return spf_record_fail(ctx,
		                       "bad top-level label '%.*s' (letters, "
		                       "digits, inner hyphens; not all "
		                       "digits)",
		                       (int) (end - dot), s + dot);
	return 0;
}

/*
 * spf_record_cidr - "/" and 0..max without leading zeros (ABNF
 * ip4-cidr-length, ip6-cidr-length): the value, or -1.
 */
static int
spf_record_cidr(const char *s, size_t len, int max)
{
	int v = 0;

	if (len < 2 || len > 4 || s[0] != '/' || (s[1] == '0' && len > 2))
		return -1;
	for (size_t i = 1; i < len; i++) {
		if (!spf_record_digit((unsigned char) s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

/* spf_record_slash_digits - start of a trailing "/" 1*DIGIT in s, or len */
static size_t
spf_record_slash_digits(const char *s, size_t len)
{
	size_t i = len;

	while (i > 0 && spf_record_digit((unsigned char) s[i - 1]))
		i--;
	if (i == len || i == 0 || s[i - 1] != '/')
		return len;
	return i - 1;
}

/*
 * spf_record_cidr_start - where a trailing dual-cidr-length ("/n", "//m",
 * "/n//m") starts in s, or len.  A domain-spec never ends in "/" digits
 * (it ends in a toplabel or a macro), so the split is unambiguous.
 */
static size_t
spf_record_cidr_start(const char *s, size_t len)
{
	size_t i = spf_record_slash_digits(s, len);

	if (i == len || i == 0 || s[i - 1] != '/')
		return i;
	/* "//m", maybe after an ip4 length "/n" */
	return spf_record_slash_digits(s, i - 1);
}

/* spf_record_dual_cidr - [ ip4-cidr-length ] [ "/" ip6-cidr-length ] */
static int
spf_record_dual_cidr(const struct spf_record_ctx *ctx, const char *s,
                     size_t len, struct spf_term *t)
{
	size_t k = 0;

	while (k + 1 < len && !(s[k] == '/' && s[k + 1] == '/'))
		k++;
	if (k + 1 >= len)
		k = len;
	if (k > 0 && (t->cidr4 = (short) spf_record_cidr(s, k, 32)) < 0)
		return spf_record_fail(ctx,
		                       "bad IPv4 CIDR length '%.*s' "
		                       "(/0 to /32)",
		                       (int) k, s);
	if (k < len && (t->cidr6 = (short) spf_record_cidr(
	                    s + k + 1, len - k - 1, 128)) < 0)
		return spf_record_fail(ctx,
		                       "bad IPv6 CIDR length '%.*s' "
		                       "(//0 to //128)",
		                       (int) (len - k), s + k);
	return 0;
}

/* spf_record_set_arg - record where the argument of t lies in the text */
static void
spf_record_set_arg(const struct spf_record_ctx *ctx, struct spf_term *t,
                   const char *arg, size_t len)
{
	t->arg_off = (unsigned short) (arg - ctx->txt);
	t->arg_len = (unsigned short) len;
}

/*
 * spf_record_mech_domain - the rest of a, mx, ptr, include, exists:
 * [ ":" domain-spec ] [ dual-cidr-length ], with the domain required
 * (include, exists) or the CIDR allowed (a, mx) per mechanism.
 */
static int
spf_record_mech_domain(struct spf_record_ctx *ctx, const char *s, size_t len,
                       struct spf_term *t, int required, int cidr_ok)
{
	const char *name = spf_record_type_name(t->type);
	size_t end = spf_record_cidr_start(s, len);

	/* The name ended at ':', at '/' or at the end of the term. */
	if (len == 0 || s[0] != ':') {
		if (required)
			return spf_record_fail(
			    ctx, "'%s' needs ':' and a domain", name);
		end = 0;
	}
	if (end < len && !cidr_ok)
		return spf_record_fail(ctx, "'%s' takes no CIDR length", name);
	if (end > 0) {
		spf_record_set_arg(ctx, t, s + 1, end - 1);
		if (spf_record_domain_spec(ctx, s + 1, end - 1) < 0)
			return -1;
	}
	return end < len ? spf_record_dual_cidr(ctx, s + end, len - end, t) : 0;
}

/* spf_record_ip4_addr - ip4-network: four qnum, no leading zeros */
static int
spf_record_ip4_addr(const char *s, size_t len, unsigned char *addr)
{
	size_t i = 0;

	for (int q = 0; q < 4; q++) {
		size_t start;
		unsigned v = 0;

		if (q > 0 && (i >= len || s[i++] != '.'))
			return -1;
		for (start = i; i < len && i - start < 3 &&
		                spf_record_digit((unsigned char) s[i]);
		     i++)
			v = v * 10 + (unsigned) (s[i] - '0');
		if (i == start || v > 255 || (s[start] == '0' && i - start > 1))
			return -1;
		addr[q] = (unsigned char) v;
	}
	return i == len ? 0 : -1;
}

/* spf_record_ip6_addr - ip6-network as RFC 4291 2.2 (inet_pton is pure) */
static int
spf_record_ip6_addr(const char *s, size_t len, unsigned char *addr)
{
	char buf[INET6_ADDRSTRLEN];

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(AF_INET6, buf, addr) == 1 ? 0 : -1;
}

/*
 * spf_record_mech_ip - the rest of ip4/ip6: ":" address [ "/" length ].
 * Only the single CIDR length of the address family is allowed.
 */
static int
spf_record_mech_ip(struct spf_record_ctx *ctx, const char *s, size_t len,
                   struct spf_term *t)
{
	int v6 = t->type == SPF_TERM_IP6;
	const char *fam = v6 ? "IPv6" : "IPv4";
	const char *slash;
	size_t alen;
	int cidr;

	if (len < 2 || s[0] != ':')
		return spf_record_fail(ctx, "'%s' needs ':' and an %s address",
		                       spf_record_type_name(t->type), fam);
	slash = memchr(s + 1, '/', len - 1);
	alen = slash != NULL ? (size_t) (slash - s) - 1 : len - 1;
	spf_record_set_arg(ctx, t, s + 1, alen);
	if ((v6 ? spf_record_ip6_addr(s + 1, alen, t->addr)
	        : spf_record_ip4_addr(s + 1, alen, t->addr)) < 0)
		return spf_record_fail(ctx, "bad %s address '%.*s'", fam,
		                       (int) alen, s + 1);
	if (slash == NULL)
		return 0;
	cidr = spf_record_cidr(slash, len - 1 - alen, v6 ? 128 : 32);
	if (cidr < 0)
		return spf_record_fail(ctx,
		                       "bad %s CIDR length '%.*s' (/0 to "
		                       "/%d)",
		                       fam, (int) (len - 1 - alen), slash,
		                       v6 ? 128 : 32);
	if (v6)
		t->cidr6 = (short) cidr;
	else
		t->cidr4 = (short) cidr;
	return 0;
}

/* spf_record_mech_args - the text after a mechanism name, per mechanism */
static int
spf_record_mech_args(struct spf_record_ctx *ctx, const char *s, size_t len,
                     struct spf_term *t)
{
	switch (t->type) {
	case SPF_TERM_ALL:
		if (len > 0)
			return spf_record_fail(ctx, "'all' takes no argument");
		return 0;
	case SPF_TERM_INCLUDE:
	case SPF_TERM_EXISTS:
		return spf_record_mech_domain(ctx, s, len, t, 1, 0);
	case SPF_TERM_PTR:
		return spf_record_mech_domain(ctx, s, len, t, 0, 0);
	case SPF_TERM_A:
	case SPF_TERM_MX:
		return spf_record_mech_domain(ctx, s, len, t, 0, 1);
	case SPF_TERM_IP4:
	case SPF_TERM_IP6:
		return spf_record_mech_ip(ctx, s, len, t);
	default:
		return spf_record_fail(ctx, "not a mechanism");
	}
}

/* spf_record_unknown_mech - say why a directive names no mechanism */
static int
spf_record_unknown_mech(const struct spf_record_ctx *ctx, const char *name,
                        size_t len)
{
	if (len == 0)
		return spf_record_fail(ctx, "missing mechanism name");
	if (spf_record_ieq(name, len, "redirect") ||
	    spf_record_ieq(name, len, "exp"))
		return spf_record_fail(ctx,
		                       "'%.*s' is a modifier: write "
		                       "'%.*s=...'",
		                       (int) len, name, (int) len, name);
	return spf_record_fail(ctx, "unknown mechanism '%.*s'",
	                       len > 32 ? 32 : (int) len, name);
}

/*
 * spf_record_directive - [ qualifier ] mechanism, where the mechanism
 * name runs up to the first ':' or '/' (sep) and is case-insensitive.
 */
static int
spf_record_directive(struct spf_record_ctx *ctx, struct spf_term *t, size_t sep)
{
	const char *s = ctx->txt + ctx->off;
	size_t q = 0;

	t->qualifier = '+';
	if (spf_record_in("+-~?", s[0])) {
		t->qualifier = s[0];
		q = 1;
	}
	for (size_t i = 0;
	     i < sizeof(spf_record_mechs) / sizeof(spf_record_mechs[0]); i++) {
		if (spf_record_ieq(s + q, sep - q, spf_record_mechs[i].name)) {
			t->type = spf_record_mechs[i].type;
			return spf_record_mech_args(ctx, s + sep,
			                            ctx->len - sep, t);
		}
	}
	return spf_record_unknown_mech(ctx, s + q, sep - q);
}

/* spf_record_mod_name - name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ) */
static int
spf_record_mod_name(const struct spf_record_ctx *ctx, const char *s, size_t len)
{
	if (len == 0)
		return spf_record_fail(ctx, "modifier without a name");
	if (len > 1 && spf_record_in("+-~?", s[0]) &&
	    spf_record_alpha((unsigned char) s[1]))
		return spf_record_fail(ctx,
		                       "a modifier takes no qualifier "
		                       "'%c'",
		                       s[0]);
	if (!spf_record_alpha((unsigned char) s[0]))
		return spf_record_fail(ctx, "modifier name must start with a "
		                            "letter");
	if (len > SPF_RECORD_MAX_NAME)
		return spf_record_fail(ctx,
		                       "modifier name longer than %d bytes",
		                       SPF_RECORD_MAX_NAME);
	for (size_t i = 1; i < len; i++)
		if (!spf_record_alnum((unsigned char) s[i]) &&
		    !spf_record_in("-_.", s[i]))
			return spf_record_fail(ctx,
			                       "bad character '%c' in "
			                       "modifier name",
			                       s[i]);
	return 0;
}

/* spf_record_once - note where redirect/exp is; section 6 allows one each */
static int
spf_record_once(const struct spf_record_ctx *ctx, int *where, const char *name)
{
	if (*where >= 0)
		return spf_record_fail(ctx,
		                       "second '%s' modifier (term %d is "
		                       "the first; only one is allowed)",
		                       name, *where + 1);
	*where = ctx->index - 1;
	return 0;
}

/*
 * spf_record_modifier - name "=" value.  redirect and exp take a
 * domain-spec; an unknown modifier a macro-string, which may be empty and
 * is never expanded, so every macro letter is allowed in it.
 */
static int
spf_record_modifier(struct spf_record_ctx *ctx, struct spf_record *rec,
                    struct spf_term *t, size_t eq)
{
	const char *s = ctx->txt + ctx->off;
	const char *v = s + eq + 1;
	size_t vlen = ctx->len - eq - 1, tail;

	if (spf_record_mod_name(ctx, s, eq) < 0)
		return -1;
	spf_record_set_arg(ctx, t, v, vlen);
	t->qualifier = 0;
	if (spf_record_ieq(s, eq, "redirect")) {
		t->type = SPF_TERM_REDIRECT;
		if (spf_record_once(ctx, &rec->redirect, "redirect") < 0)
			return -1;
		return spf_record_domain_spec(ctx, v, vlen);
	}
	if (spf_record_ieq(s, eq, "exp")) {
		t->type = SPF_TERM_EXP;
		if (spf_record_once(ctx, &rec->exp, "exp") < 0)
			return -1;
		return spf_record_domain_spec(ctx, v, vlen);
	}
	t->type = SPF_TERM_UNKNOWN_MOD;
	if (vlen > SPF_RECORD_MAX_ARG)
		return spf_record_fail(ctx,
		                       "modifier value longer than %d "
		                       "bytes",
		                       SPF_RECORD_MAX_ARG);
	ctx->macros = 0;
	return spf_record_macro_string(ctx, v, vlen, SPF_RECORD_MS_CRT, &tail);
}

/*
 * spf_record_term - one term.  It is a modifier when '=' comes before any
 * ':' or '/' (those end a mechanism name), else a directive (4.6.1).
 */
static int
spf_record_term(struct spf_record_ctx *ctx, struct spf_record *rec,
                struct spf_term *t)
{
	const char *s = ctx->txt + ctx->off;
	size_t sep = 0;

	memset(t, 0, sizeof(*t));
	t->off = (unsigned short) ctx->off;
	t->len = (unsigned short) ctx->len;
	t->cidr4 = t->cidr6 = -1;
	while (sep < ctx->len && !spf_record_in("=:/", s[sep]))
		sep++;
	if (sep < ctx->len && s[sep] == '=')
		return spf_record_modifier(ctx, rec, t, sep);
	return spf_record_directive(ctx, t, sep);
}

/* spf_record_dns_type - does this term cost a DNS lookup (4.6.4)? */
static int
spf_record_dns_type(enum spf_term_type type)
{
	return type == SPF_TERM_INCLUDE || type == SPF_TERM_A ||
	       type == SPF_TERM_MX || type == SPF_TERM_PTR ||
	       type == SPF_TERM_EXISTS || type == SPF_TERM_REDIRECT;
}

/* spf_record_terms - split after the version at runs of SP; check each */
static int
spf_record_terms(struct spf_record_ctx *ctx, struct spf_record *rec)
{
	size_t i = 6;

	for (;;) {
		size_t start;
		struct spf_term *t;

		while (i < ctx->total && ctx->txt[i] == ' ')
			i++;
		if (i == ctx->total)
			return 0;
		if (rec->nterms == SPF_RECORD_MAX_TERMS)
			return spf_record_fail(ctx, "more than %d terms",
			                       SPF_RECORD_MAX_TERMS);
		for (start = i; i < ctx->total && ctx->txt[i] != ' '; i++)
			;
		ctx->off = start;
		ctx->len = i - start;
		ctx->index = rec->nterms + 1;
		t = &rec->term[rec->nterms];
		if (spf_record_term(ctx, rec, t) < 0)
			return -1;
		ctx->index = 0;
		if (t->type == SPF_TERM_ALL && rec->all < 0)
			rec->all = rec->nterms;
		rec->dns_terms += spf_record_dns_type(t->type);
		rec->nterms++;
	}
}

/* spf_record_parse - check one record and list its terms */
enum spf_record_status
spf_record_parse(const char *txt, size_t len, struct spf_record *out, char *why,
                 size_t whylen)
{
	struct spf_record_ctx ctx = {
	    .txt = txt, .total = len, .why = why, .whylen = whylen};

	out->nterms = 0;
	out->dns_terms = 0;
	out->all = out->redirect = out->exp = -1;
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (!spf_record_version(txt, len)) {
		spf_record_fail(&ctx,
		                "not an SPF record (no 'v=spf1' version)");
		return SPF_RECORD_NOT_SPF;
	}
	if (len > SPF_RECORD_MAX_LEN) {
		spf_record_fail(&ctx, "record is %zu bytes long, more than %d",
		                len, SPF_RECORD_MAX_LEN);
		return SPF_RECORD_INVALID;
	}
	if (spf_record_bytes(&ctx) < 0 || spf_record_terms(&ctx, out) < 0)
		return SPF_RECORD_INVALID;
	return SPF_RECORD_OK;
}

/* spf_record_explain_check - check an explain-string (6.2, 7.1) */
int
spf_record_explain_check(const char *txt, size_t len, char *why, size_t whylen)
{
	struct spf_record_ctx ctx = {
	    .txt = txt, .total = len, .why = why, .whylen = whylen};
	size_t tail;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (len > SPF_RECORD_MAX_ARG)
		return spf_record_fail(&ctx,
		                       "explanation is %zu bytes long, "
		                       "more than %d",
		                       len, SPF_RECORD_MAX_ARG);
	if (spf_record_bytes(&ctx) < 0)
		return -1;
	return spf_record_macro_string(
	    &ctx, txt, len, SPF_RECORD_MS_CRT | SPF_RECORD_MS_SPACE, &tail);
}

/* spf_record_arg_eq - names equal ignoring case and one trailing dot? */
static int
spf_record_arg_eq(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);

	if (alen > 0 && a[alen - 1] == '.')
		alen--;
	if (blen > 0 && b[blen - 1] == '.')
		blen--;
	if (alen != blen)
		return 0;
	for (size_t i = 0; i < alen; i++)
		if (spf_record_lower((unsigned char) a[i]) !=
		    spf_record_lower((unsigned char) b[i]))
			return 0;
	return 1;
}

/* spf_record_find - first term of a type with a given argument */
int
spf_record_find(const struct spf_record *rec, const char *txt,
                enum spf_term_type type, const char *arg)
{
	for (int i = 0; i < rec->nterms; i++) {
		const struct spf_term *t = &rec->term[i];

		if (t->type != type)
			continue;
		if (arg == NULL ||
		    spf_record_arg_eq(txt + t->arg_off, t->arg_len, arg))
			return i;
	}
	return -1;
}

/*
 * spf_record_append - add " " (unless first) and len bytes to out at *n;
 * on overflow *n becomes outsize, which stays an overflow.
 */
static void
spf_record_append(char *out, size_t outsize, size_t *n, const char *s,
                  size_t len)
{
	size_t need = len + (*n > 0);

	if (*n >= outsize || outsize - *n <= need) {
		*n = outsize;
		return;
	}
	if (*n > 0)
		out[(*n)++] = ' ';
	memcpy(out + *n, s, len);
	*n += len;
}

/* spf_record_format - the record, one space apart, maybe one term added */
int
spf_record_format(const struct spf_record *rec, const char *txt, int at,
                  const char *extra, char *out, size_t outsize)
{
	size_t n = 0;

	if (outsize == 0 || (extra != NULL && (at < 0 || at > rec->nterms)))
		return -1;
	spf_record_append(out, outsize, &n, "v=spf1", 6);
	for (int i = 0; i <= rec->nterms; i++) {
		if (extra != NULL && i == at)
			spf_record_append(out, outsize, &n, extra,
			                  strlen(extra));
		if (i < rec->nterms)
			spf_record_append(out, outsize, &n,
			                  txt + rec->term[i].off,
			                  rec->term[i].len);
	}
	if (n >= outsize) {
		out[0] = '\0';
		return -1;
	}
	out[n] = '\0';
	return (int) n;
}

/* spf_record_type_name - the name of a term type, for reasons and logs */
const char *
spf_record_type_name(enum spf_term_type type)
{
	switch (type) {
	case SPF_TERM_ALL:
		return "all";
	case SPF_TERM_INCLUDE:
		return "include";
	case SPF_TERM_A:
		return "a";
	case SPF_TERM_MX:
		return "mx";
	case SPF_TERM_PTR:
		return "ptr";
	case SPF_TERM_IP4:
		return "ip4";
	case SPF_TERM_IP6:
		return "ip6";
	case SPF_TERM_EXISTS:
		return "exists";
	case SPF_TERM_REDIRECT:
		return "redirect";
	case SPF_TERM_EXP:
		return "exp";
	case SPF_TERM_UNKNOWN_MOD:
		return "unknown modifier";
	}
	return "?";
}
