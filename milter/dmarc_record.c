/*
 * dmarc_record - the DMARC policy record of RFC 7489 section 6.3.
 */

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dmarc_record.h"
#include "util.h"

/* The version tag's bit in the duplicate check (not a public tag bit). */
#define DMARC_RECORD_TAG_V 0x800u

/* One tag of the list: name and value without surrounding whitespace. */
struct dmarc_record_tag {
	const char *name;
	size_t nlen;
	const char *val;
	size_t vlen;
	size_t off; /* of the tag in the text, for reasons */
};

/* What a bad value of a tag makes of the record. */
enum dmarc_record_bad {
	DMARC_RECORD_BAD_INVALID, /* the record is INVALID */
	DMARC_RECORD_BAD_POLICY,  /* p=, sp=: the RFC 7489 6.6.3 fallback */
	DMARC_RECORD_BAD_NOTE,    /* tolerated, with a note */
};

/* Parse state beyond the record itself. */
struct dmarc_record_state {
	unsigned seen; /* tags met, valid or not: duplicates */
	size_t ntags;  /* v= included */
	const char *unknown[DMARC_RECORD_MAX_TAGS];
	size_t unknown_len[DMARC_RECORD_MAX_TAGS];
	size_t nunknown;
	char policy_why[200]; /* the first p=/sp= problem */
	char note[200];       /* the first tolerated problem */
};

/* A tag's value parser: 0, or -1 with a reason. */
typedef int (*dmarc_record_fn)(struct dmarc_record *rec,
                               const struct dmarc_record_tag *t, char *why,
                               size_t whylen);

struct dmarc_record_def {
	const char *name;
	unsigned bit;
	enum dmarc_record_bad bad;
	dmarc_record_fn parse; /* NULL for v=, which is parsed first */
};

/* dmarc_record_wsp - whitespace around tags (WSP, and FWS's CR LF) */
static int
dmarc_record_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* dmarc_record_alpha - an ASCII letter? */
static int
dmarc_record_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* dmarc_record_digit - an ASCII digit? */
static int
dmarc_record_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * dmarc_record_quote - n bytes of input for a reason: at most 48 of them,
 * whitespace as SP, other bytes outside printable ASCII as '?'.
 */
static const char *
dmarc_record_quote(const char *s, size_t n, char *buf, size_t size)
{
	size_t max = size - 4, i;

	for (i = 0; i < n && i < max && i < 48; i++) {
		unsigned char c = (unsigned char) s[i];

		if (dmarc_record_wsp((char) c))
			buf[i] = ' ';
		else
			buf[i] = (char) ((c < 0x20 || c > 0x7e) ? '?' : c);
	}
	if (i < n) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

/* dmarc_record_copy - a raw value for the record; "..." ends a cut one */
static void
dmarc_record_copy(char *dst, size_t size, const char *s, size_t n)
{
	size_t keep = n < size ? n : size - 4, i;

	for (i = 0; i < keep; i++)
		dst[i] = (char) (dmarc_record_wsp(s[i]) ? ' ' : s[i]);
	if (keep < n) {
		memcpy(dst + keep, "...", 3);
		keep += 3;
	}
	dst[keep] = '\0';
}

/*
 * dmarc_record_tag_check - name and value of a tag between b and e (with
 * '=' at eq) trimmed and checked: ALPHA *(ALPHA / DIGIT / "_") "=", a
 * value of printable ASCII and whitespace.  1, or -1 with a reason.
 */
static int
dmarc_record_tag_check(const char *s, size_t b, size_t eq, size_t e,
                       struct dmarc_record_tag *t, char *why, size_t whylen)
{
	size_t ne = eq, vb = eq + 1;
	char q[64];

	while (ne > b && dmarc_record_wsp(s[ne - 1]))
		ne--;
	while (vb < e && dmarc_record_wsp(s[vb]))
		vb++;
	*t = (struct dmarc_record_tag){s + b, ne - b, s + vb, e - vb, b};
	if (t->nlen == 0 || !dmarc_record_alpha(t->name[0]))
		return util_why(
		    why, whylen, "invalid tag name '%s' at offset %zu",
		    dmarc_record_quote(t->name, t->nlen, q, sizeof(q)), b);
	for (size_t i = 1; i < t->nlen; i++)
		if (!dmarc_record_alpha(t->name[i]) &&
		    !dmarc_record_digit(t->name[i]) && t->name[i] != '_')
			return util_why(
			    why, whylen, "invalid tag name '%s' at offset %zu",
			    dmarc_record_quote(t->name, t->nlen, q, sizeof(q)),
			    b);
	for (size_t i = 0; i < t->vlen; i++) {
		unsigned char c = (unsigned char) t->val[i];

		if ((c < 0x21 || c > 0x7e) && !dmarc_record_wsp((char) c))
			return util_why(
			    why, whylen,
			    "invalid character 0x%02x in the value of "
			    "'%s=' at offset %zu",
			    c,
			    dmarc_record_quote(t->name, t->nlen, q, sizeof(q)),
			    vb + i);
	}
	return 1;
}

/*
 * dmarc_record_split - the next non-empty tag from *pos on (empty tags
 * are tolerated).  1 with the tag, 0 at the end, -1 with a reason.
 */
static int
dmarc_record_split(const char *s, size_t len, size_t *pos,
                   struct dmarc_record_tag *t, char *why, size_t whylen)
{
	char q[64];

	while (*pos <= len) {
		size_t b = *pos, e = b, eq;

		while (e < len && s[e] != ';')
			e++;
		*pos = e + 1;
		while (b < e && dmarc_record_wsp(s[b]))
			b++;
		while (e > b && dmarc_record_wsp(s[e - 1]))
			e--;
		if (b == e)
			continue;
		for (eq = b; eq < e && s[eq] != '='; eq++)
			;
		if (eq == e)
			return util_why(
			    why, whylen, "tag '%s' at offset %zu has no '='",
			    dmarc_record_quote(s + b, e - b, q, sizeof(q)), b);
		return dmarc_record_tag_check(s, b, eq, e, t, why, whylen);
	}
	return 0;
}

/* dmarc_record_is - is the value, without case, this word? */
static int
dmarc_record_is(const struct dmarc_record_tag *t, const char *word)
{
	return t->vlen == strlen(word) &&
	       strncasecmp(t->val, word, t->vlen) == 0;
}

/* dmarc_record_policy - none, quarantine or reject */
static int
dmarc_record_policy(const struct dmarc_record_tag *t, enum dmarc_policy *out,
                    char *why, size_t whylen)
{
	char q[64], n[16];

	for (int p = DMARC_POLICY_NONE; p <= DMARC_POLICY_REJECT; p++)
		if (dmarc_record_is(t, dmarc_record_policy_name(p))) {
			*out = (enum dmarc_policy) p;
			return 0;
		}
	return util_why(why, whylen,
	                "%s=%s: the policy must be none, quarantine or reject",
	                dmarc_record_quote(t->name, t->nlen, n, sizeof(n)),
	                dmarc_record_quote(t->val, t->vlen, q, sizeof(q)));
}

/* dmarc_record_p - p= */
static int
dmarc_record_p(struct dmarc_record *rec, const struct dmarc_record_tag *t,
               char *why, size_t whylen)
{
	return dmarc_record_policy(t, &rec->p, why, whylen);
}

/* dmarc_record_sp - sp= */
static int
dmarc_record_sp(struct dmarc_record *rec, const struct dmarc_record_tag *t,
                char *why, size_t whylen)
{
	return dmarc_record_policy(t, &rec->sp, why, whylen);
}

/* dmarc_record_np - np= (RFC 9091) */
static int
dmarc_record_np(struct dmarc_record *rec, const struct dmarc_record_tag *t,
                char *why, size_t whylen)
{
	if (dmarc_record_policy(t, &rec->np, why, whylen) < 0) {
		size_t n = strlen(why);

		snprintf(why + n, whylen - n, " (np= ignored)");
		return -1;
	}
	return 0;
}

/* dmarc_record_mode - r or s */
static int
dmarc_record_mode(const struct dmarc_record_tag *t, enum dmarc_mode *out,
                  char *why, size_t whylen)
{
	char q[64], n[16];

	if (dmarc_record_is(t, "r") || dmarc_record_is(t, "s")) {
		*out = (t->val[0] | 0x20) == 's' ? DMARC_MODE_STRICT
		                                 : DMARC_MODE_RELAXED;
		return 0;
	}
	return util_why(why, whylen, "%s=%s: the alignment mode must be r or s",
	                dmarc_record_quote(t->name, t->nlen, n, sizeof(n)),
	                dmarc_record_quote(t->val, t->vlen, q, sizeof(q)));
}

/* dmarc_record_adkim - adkim= */
static int
dmarc_record_adkim(struct dmarc_record *rec, const struct dmarc_record_tag *t,
                   char *why, size_t whylen)
{
	return dmarc_record_mode(t, &rec->adkim, why, whylen);
}

/* dmarc_record_aspf - aspf= */
static int
dmarc_record_aspf(struct dmarc_record *rec, const struct dmarc_record_tag *t,
                  char *why, size_t whylen)
{
	return dmarc_record_mode(t, &rec->aspf, why, whylen);
}

/* dmarc_record_number - 1..maxdigits digits into *out; 0 or -1 */
static int
dmarc_record_number(const struct dmarc_record_tag *t, size_t maxdigits,
                    uint64_t *out)
{
	uint64_t v = 0;

	if (t->vlen == 0 || t->vlen > maxdigits)
		return -1;
	for (size_t i = 0; i < t->vlen; i++) {
		if (!dmarc_record_digit(t->val[i]))
			return -1;
		v = v * 10 + (uint64_t) (t->val[i] - '0');
	}
	*out = v;
	return 0;
}

/* dmarc_record_pct - pct=, 1*3DIGIT from 0 to 100 */
static int
dmarc_record_pct(struct dmarc_record *rec, const struct dmarc_record_tag *t,
                 char *why, size_t whylen)
{
	uint64_t v;
	char q[64];

	if (dmarc_record_number(t, 3, &v) < 0 || v > 100)
		return util_why(
		    why, whylen, "pct=%s: must be a number from 0 to 100",
		    dmarc_record_quote(t->val, t->vlen, q, sizeof(q)));
	rec->pct = (int) v;
	return 0;
}

/* dmarc_record_ri - ri=, seconds (32 bits) */
static int
dmarc_record_ri(struct dmarc_record *rec, const struct dmarc_record_tag *t,
                char *why, size_t whylen)
{
	uint64_t v;
	char q[64];

	if (dmarc_record_number(t, 10, &v) < 0 || v > UINT32_MAX)
		return util_why(
		    why, whylen,
		    "ri=%s: must be a number of seconds (at most "
		    "4294967295)",
		    dmarc_record_quote(t->val, t->vlen, q, sizeof(q)));
	rec->ri = (uint32_t) v;
	return 0;
}

/*
 * dmarc_record_item - the next item of a sep-separated list in v[0..n)
 * from *pos, trimmed; 1 with the item, 0 at the end.
 */
static int
dmarc_record_item(const char *v, size_t n, char sep, size_t *pos,
                  const char **item, size_t *ilen)
{
	size_t b = *pos, e = b;

	if (*pos > n)
		return 0;
	while (e < n && v[e] != sep)
		e++;
	*pos = e + 1;
	while (b < e && dmarc_record_wsp(v[b]))
		b++;
	while (e > b && dmarc_record_wsp(v[e - 1]))
		e--;
	*item = v + b;
	*ilen = e - b;
	return 1;
}

/* dmarc_record_fo - fo=, a ':' list of 0, 1, d, s */
static int
dmarc_record_fo(struct dmarc_record *rec, const struct dmarc_record_tag *t,
                char *why, size_t whylen)
{
	static const char opts[] = "01ds";
	unsigned fo = 0;
	size_t pos = 0, n;
	const char *it, *o;
	char q[64];

	while (dmarc_record_item(t->val, t->vlen, ':', &pos, &it, &n)) {
		if (n != 1 || it[0] == '\0' ||
		    (o = strchr(opts, it[0] | 0x20)) == NULL)
			return util_why(
			    why, whylen,
			    "fo=%s: options must be 0, 1, d or s, separated by "
			    "':'",
			    dmarc_record_quote(t->val, t->vlen, q, sizeof(q)));
		fo |= 1u << (o - opts);
	}
	rec->fo = fo;
	return 0;
}

/* dmarc_record_rf - rf=, a ':' list of report formats: only afrf exists */
static int
dmarc_record_rf(struct dmarc_record *rec, const struct dmarc_record_tag *t,
                char *why, size_t whylen)
{
	size_t pos = 0, n;
	const char *it;
	char q[64];

	(void) rec;
	while (dmarc_record_item(t->val, t->vlen, ':', &pos, &it, &n))
		if (n != 4 || strncasecmp(it, "afrf", 4) != 0)
			return util_why(
			    why, whylen,
			    "rf=%s: unknown report format (only afrf "
			    "is defined); receivers may ignore the "
			    "whole record",
			    dmarc_record_quote(t->val, t->vlen, q, sizeof(q)));
	return 0;
}

/* dmarc_record_uri_char - may c appear in a report URI unencoded? */
static int
dmarc_record_uri_char(char c)
{
	/* RFC 3986 unreserved and reserved, less ',' and '!' (RFC 7489) */
	return dmarc_record_alpha(c) || dmarc_record_digit(c) ||
	       (c != '\0' && strchr("-._~:/?#[]@$&'()*+;=", c) != NULL);
}

/* dmarc_record_hex - a hexadecimal digit? */
static int
dmarc_record_hex(char c)
{
	return dmarc_record_digit(c) ||
	       ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/*
 * dmarc_record_uri - is s[0..n) a dmarc-uri: scheme ":" at least one
 * URI character or %HH, then an optional size limit "!" 1*DIGIT [k/m/g/t]?
 */
static int
dmarc_record_uri(const char *s, size_t n)
{
	const char *bang = memchr(s, '!', n);
	size_t end = bang != NULL ? (size_t) (bang - s) : n, i = 1, j;

	if (bang != NULL) {
		for (j = end + 1; j < n && dmarc_record_digit(s[j]); j++)
			;
		if (j == end + 1 || j - end > 20)
			return 0;
		if (j < n && s[j] != '\0' && strchr("kmgtKMGT", s[j]) != NULL)
			j++;
		if (j != n)
			return 0;
	}
	if (end == 0 || !dmarc_record_alpha(s[0]))
		return 0;
	while (i < end &&
	       (dmarc_record_alpha(s[i]) || dmarc_record_digit(s[i]) ||
	        s[i] == '+' || s[i] == '-' || s[i] == '.'))
		i++;
	if (i == end || s[i] != ':' || ++i == end)
		return 0;
	for (; i < end; i++) {
		if (s[i] != '%') {
			if (!dmarc_record_uri_char(s[i]))
				return 0;
		} else if (i + 2 < end && dmarc_record_hex(s[i + 1]) &&
		           dmarc_record_hex(s[i + 2])) {
			i += 2;
		} else {
			return 0;
		}
	}
	return 1;
}

/*
 * dmarc_record_uris - a ',' list of report URIs into dst; counts the
 * valid ones into *valid.  An invalid one is -1 with a note.
 */
static int
dmarc_record_uris(const struct dmarc_record_tag *t, char *dst, size_t size,
                  int *valid, char *why, size_t whylen)
{
	size_t pos = 0, n;
	const char *it;
	char q[64];
	int bad = 0;

	dmarc_record_copy(dst, size, t->val, t->vlen);
	*valid = 0;
	while (dmarc_record_item(t->val, t->vlen, ',', &pos, &it, &n)) {
		if (dmarc_record_uri(it, n)) {
			(*valid)++;
		} else if (!bad++) {
			util_why(
			    why, whylen,
			    "%.3s=: '%s' is not a valid URI (a mailto: URI is "
			    "expected); reports to it are lost",
			    t->name, dmarc_record_quote(it, n, q, sizeof(q)));
		}
	}
	return bad ? -1 : 0;
}

/* dmarc_record_rua - rua= */
static int
dmarc_record_rua(struct dmarc_record *rec, const struct dmarc_record_tag *t,
                 char *why, size_t whylen)
{
	return dmarc_record_uris(t, rec->rua, sizeof(rec->rua), &rec->rua_valid,
	                         why, whylen);
}

/* dmarc_record_ruf - ruf= */
static int
dmarc_record_ruf(struct dmarc_record *rec, const struct dmarc_record_tag *t,
                 char *why, size_t whylen)
{
	int valid;

	return dmarc_record_uris(t, rec->ruf, sizeof(rec->ruf), &valid, why,
	                         whylen);
}

static const struct dmarc_record_def dmarc_record_defs[] = {
    {"v", DMARC_RECORD_TAG_V, DMARC_RECORD_BAD_INVALID, NULL},
    {"p", DMARC_RECORD_TAG_P, DMARC_RECORD_BAD_POLICY, dmarc_record_p},
    {"sp", DMARC_RECORD_TAG_SP, DMARC_RECORD_BAD_POLICY, dmarc_record_sp},
    {"np", DMARC_RECORD_TAG_NP, DMARC_RECORD_BAD_NOTE, dmarc_record_np},
    {"adkim", DMARC_RECORD_TAG_ADKIM, DMARC_RECORD_BAD_INVALID,
     dmarc_record_adkim},
    {"aspf", DMARC_RECORD_TAG_ASPF, DMARC_RECORD_BAD_INVALID,
     dmarc_record_aspf},
    {"pct", DMARC_RECORD_TAG_PCT, DMARC_RECORD_BAD_INVALID, dmarc_record_pct},
    {"fo", DMARC_RECORD_TAG_FO, DMARC_RECORD_BAD_INVALID, dmarc_record_fo},
    {"rf", DMARC_RECORD_TAG_RF, DMARC_RECORD_BAD_INVALID, dmarc_record_rf},
    {"ri", DMARC_RECORD_TAG_RI, DMARC_RECORD_BAD_INVALID, dmarc_record_ri},
    {"rua", DMARC_RECORD_TAG_RUA, DMARC_RECORD_BAD_NOTE, dmarc_record_rua},
    {"ruf", DMARC_RECORD_TAG_RUF, DMARC_RECORD_BAD_NOTE, dmarc_record_ruf},
};

/* dmarc_record_find - the definition of a tag, by name or without case */
static const struct dmarc_record_def *
dmarc_record_find(const struct dmarc_record_tag *t, int nocase)
{
	size_t n = sizeof(dmarc_record_defs) / sizeof(dmarc_record_defs[0]);

	for (size_t i = 0; i < n; i++) {
		const char *name = dmarc_record_defs[i].name;

		if (t->nlen == strlen(name) &&
		    (nocase ? strncasecmp(t->name, name, t->nlen)
		            : memcmp(t->name, name, t->nlen)) == 0)
			return &dmarc_record_defs[i];
	}
	return NULL;
}

/* dmarc_record_unknown - an unknown tag: ignored, but not twice */
static int
dmarc_record_unknown(struct dmarc_record_state *st,
                     const struct dmarc_record_tag *t, char *why, size_t whylen)
{
	char q[64];

	for (size_t i = 0; i < st->nunknown; i++)
		if (st->unknown_len[i] == t->nlen &&
		    memcmp(st->unknown[i], t->name, t->nlen) == 0)
			return util_why(
			    why, whylen, "duplicate tag '%s='",
			    dmarc_record_quote(t->name, t->nlen, q, sizeof(q)));
	st->unknown[st->nunknown] = t->name;
	st->unknown_len[st->nunknown++] = t->nlen;
	return 0;
}

/* dmarc_record_bad_value - a tag's bad value, by the tag's severity */
static int
dmarc_record_bad_value(struct dmarc_record_state *st,
                       const struct dmarc_record_def *d, const char *msg,
                       char *why, size_t whylen)
{
	if (d->bad == DMARC_RECORD_BAD_INVALID)
		return util_why(why, whylen, "%s", msg);
	if (d->bad == DMARC_RECORD_BAD_POLICY && st->policy_why[0] == '\0')
		util_strlcpy(st->policy_why, msg, sizeof(st->policy_why));
	if (d->bad == DMARC_RECORD_BAD_NOTE && st->note[0] == '\0')
		util_strlcpy(st->note, msg, sizeof(st->note));
	return 0;
}

/* dmarc_record_one - one tag after v=; 0, or -1 (INVALID) with a reason */
static int
dmarc_record_one(struct dmarc_record *rec, struct dmarc_record_state *st,
                 const struct dmarc_record_tag *t, char *why, size_t whylen)
{
	const struct dmarc_record_def *d;
	char msg[200], q[64];

	if (++st->ntags > DMARC_RECORD_MAX_TAGS)
		return util_why(why, whylen, "more than %d tags",
		                DMARC_RECORD_MAX_TAGS);
	if ((d = dmarc_record_find(t, 0)) == NULL) {
		if ((d = dmarc_record_find(t, 1)) == NULL)
			return dmarc_record_unknown(st, t, why, whylen);
		return util_why(
		    why, whylen,
		    "tag '%s=' at offset %zu: tag names are "
		    "case-sensitive, write '%s='",
		    dmarc_record_quote(t->name, t->nlen, q, sizeof(q)), t->off,
		    d->name);
	}
	if ((st->seen & d->bit) || d->parse == NULL)
		return util_why(why, whylen, "duplicate tag '%s='", d->name);
	st->seen |= d->bit;
	msg[0] = '\0';
	if (d->parse(rec, t, msg, sizeof(msg)) < 0)
		return dmarc_record_bad_value(st, d, msg, why, whylen);
	rec->tags |= d->bit;
	return 0;
}

/* dmarc_record_near_miss - does the text start like "v=DMARC"? */
static int
dmarc_record_near_miss(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && dmarc_record_wsp(s[i]))
		i++;
	if (i >= len || (s[i] | 0x20) != 'v')
		return 0;
	for (i++; i < len && dmarc_record_wsp(s[i]); i++)
		;
	if (i >= len || s[i] != '=')
		return 0;
	for (i++; i < len && dmarc_record_wsp(s[i]); i++)
		;
	return len - i >= 5 && strncasecmp(s + i, "DMARC", 5) == 0;
}

/*
 * dmarc_record_version - the first tag must be v=DMARC1: OK (and *pos
 * after it), NOT_DMARC, or INVALID for a version that matches only
 * without case (some receivers accept it, RFC 7489 ones do not).
 */
static enum dmarc_record_status
dmarc_record_version(const char *s, size_t len, size_t *pos,
                     struct dmarc_record *rec, char *why, size_t whylen)
{
	struct dmarc_record_tag t;
	size_t b = 0;
	char q[64];

	while (b < len && dmarc_record_wsp(s[b]))
		b++;
	rec->near_miss = dmarc_record_near_miss(s, len);
	if (b == len || s[b] == ';' ||
	    dmarc_record_split(s, len, pos, &t, NULL, 0) != 1 || t.nlen != 1 ||
	    (t.name[0] | 0x20) != 'v') {
		util_why(why, whylen,
		         "not a DMARC record: it does not start with v=DMARC1");
		return DMARC_RECORD_NOT_DMARC;
	}
	if (t.name[0] == 'v' && t.vlen == 6 && memcmp(t.val, "DMARC1", 6) == 0)
		return DMARC_RECORD_OK;
	dmarc_record_quote(t.val, t.vlen, q, sizeof(q));
	if (t.vlen == 6 && strncasecmp(t.val, "DMARC1", 6) == 0) {
		util_why(
		    why, whylen,
		    "%c=%s: the version must be exactly v=DMARC1; receivers "
		    "that follow RFC 7489 ignore this record",
		    t.name[0], q);
		return DMARC_RECORD_INVALID;
	}
	util_why(why, whylen, "not a DMARC record: the version is '%c=%s'%s",
	         t.name[0], q,
	         t.vlen > 6 && strncasecmp(t.val, "DMARC1", 6) == 0 &&
	                 dmarc_record_wsp(t.val[6])
	             ? " (a ';' missing after v=DMARC1?)"
	             : ", not v=DMARC1");
	return DMARC_RECORD_NOT_DMARC;
}

/*
 * dmarc_record_finish - defaults of absent tags, and the RFC 7489 6.6.3
 * rule for a missing or invalid p= or an invalid sp=.
 */
static enum dmarc_record_status
dmarc_record_finish(struct dmarc_record *rec, struct dmarc_record_state *st,
                    char *why, size_t whylen)
{
	if (!(st->seen & DMARC_RECORD_TAG_P))
		util_strlcpy(st->policy_why, "no p= tag",
		             sizeof(st->policy_why));
	if (st->policy_why[0] != '\0' && rec->rua_valid == 0) {
		util_why(why, whylen,
		         "%s, and no valid rua= URI: receivers apply no DMARC "
		         "policy (RFC 7489 6.6.3)",
		         st->policy_why);
		return DMARC_RECORD_INVALID;
	}
	if (st->policy_why[0] != '\0') {
		rec->p = rec->sp = rec->np = DMARC_POLICY_NONE;
		rec->tags &= ~(DMARC_RECORD_TAG_P | DMARC_RECORD_TAG_SP |
		               DMARC_RECORD_TAG_NP);
		rec->fallback = 1;
		util_why(why, whylen,
		         "%s: receivers act as if p=none because rua= is "
		         "valid (RFC 7489 6.6.3)",
		         st->policy_why);
		return DMARC_RECORD_OK;
	}
	if (!(rec->tags & DMARC_RECORD_TAG_SP))
		rec->sp = rec->p;
	if (!(rec->tags & DMARC_RECORD_TAG_NP))
		rec->np = rec->sp;
	util_why(why, whylen, "%s", st->note);
	return DMARC_RECORD_OK;
}

/* dmarc_record_defaults - a record with every default (RFC 7489 6.3) */
static void
dmarc_record_defaults(struct dmarc_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->status = DMARC_RECORD_INVALID;
	rec->p = rec->sp = rec->np = DMARC_POLICY_NONE;
	rec->adkim = rec->aspf = DMARC_MODE_RELAXED;
	rec->pct = 100;
	rec->fo = DMARC_RECORD_FO_0;
	rec->ri = 86400;
}

/* dmarc_record_parse - parse one record */
enum dmarc_record_status
dmarc_record_parse(const char *text, size_t len, struct dmarc_record *rec,
                   char *why, size_t whylen)
{
	struct dmarc_record_state st;
	struct dmarc_record_tag t;
	size_t pos = 0;
	int rc;

	dmarc_record_defaults(rec);
	util_why(why, whylen, "%s", "");
	rec->status = dmarc_record_version(text, len, &pos, rec, why, whylen);
	if (rec->status != DMARC_RECORD_OK)
		return rec->status;
	rec->near_miss = 0;
	memset(&st, 0, sizeof(st));
	st.seen = DMARC_RECORD_TAG_V;
	st.ntags = 1;
	while ((rc = dmarc_record_split(text, len, &pos, &t, why, whylen)) == 1)
		if (dmarc_record_one(rec, &st, &t, why, whylen) < 0)
			return rec->status = DMARC_RECORD_INVALID;
	if (rc < 0)
		return rec->status = DMARC_RECORD_INVALID;
	return rec->status = dmarc_record_finish(rec, &st, why, whylen);
}

/* dmarc_record_policy_name - the p= word */
const char *
dmarc_record_policy_name(enum dmarc_policy policy)
{
	switch (policy) {
	case DMARC_POLICY_NONE:
		return "none";
	case DMARC_POLICY_QUARANTINE:
		return "quarantine";
	case DMARC_POLICY_REJECT:
		return "reject";
	}
	return "?";
}

/* dmarc_record_mode_name - the adkim=/aspf= letter */
const char *
dmarc_record_mode_name(enum dmarc_mode mode)
{
	return mode == DMARC_MODE_STRICT ? "s" : "r";
}
