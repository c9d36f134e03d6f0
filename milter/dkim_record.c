/*
 * dkim_record - DKIM key record parsing and rendering (RFC 6376 3.6.1).
 */

#include <stdint.h>
#include <string.h>

#include "dkim_record.h"
#include "util.h"

/* More tags than this is not a key record; bounds the duplicate check. */
#define DKIM_RECORD_MAX_TAGS 64

/* Longest value quoted back in a reason. */
#define DKIM_RECORD_QUOTE 40

/* One tag-spec: name and value point into the record text. */
struct dkim_record_tag {
	const char *name;
	size_t nlen;
	const char *val;
	size_t vlen;
};

/* A cursor over the record text. */
struct dkim_record_scan {
	const char *s;
	size_t len;
	size_t pos;
};

/* An output buffer with snprintf semantics. */
struct dkim_record_out {
	char *buf;
	size_t size;
	size_t n; /* bytes the full output needs, without the NUL */
};

/* The 64 symbols, then the pad character at index 64. */
static const char dkim_record_b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
#define DKIM_RECORD_PAD 64

/* dkim_record_is_fws - whitespace allowed between and inside tags */
static int
dkim_record_is_fws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* dkim_record_is_alpha - ASCII letter, independent of the locale */
static int
dkim_record_is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* dkim_record_is_alnum - ASCII letter or digit */
static int
dkim_record_is_alnum(unsigned char c)
{
	return dkim_record_is_alpha(c) || (c >= '0' && c <= '9');
}

/* dkim_record_is_valchar - VALCHAR of RFC 6376 3.2: printable but ';' */
static int
dkim_record_is_valchar(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e && c != ';';
}

/* dkim_record_skip_fws - advance over whitespace */
static void
dkim_record_skip_fws(struct dkim_record_scan *sc)
{
	while (sc->pos < sc->len &&
	       dkim_record_is_fws((unsigned char) sc->s[sc->pos]))
		sc->pos++;
}

/* dkim_record_bad_char - reason for an unexpected byte at the cursor */
static int
dkim_record_bad_char(const struct dkim_record_scan *sc, const char *where,
                     char *why, size_t whylen)
{
	unsigned char c = (unsigned char) sc->s[sc->pos];

	if (c >= 0x21 && c <= 0x7e)
		return util_why(why, whylen,
		                "unexpected character '%c' %s at offset %zu", c,
		                where, sc->pos);
	return util_why(why, whylen,
	                "invalid character 0x%02x %s at offset %zu", c, where,
	                sc->pos);
}

/* dkim_record_scan_value - the value up to ';' or the end, trimmed */
static int
dkim_record_scan_value(struct dkim_record_scan *sc, struct dkim_record_tag *tag,
                       char *why, size_t whylen)
{
	size_t start = sc->pos;

	while (sc->pos < sc->len && sc->s[sc->pos] != ';') {
		unsigned char c = (unsigned char) sc->s[sc->pos];

		if (!dkim_record_is_valchar(c) && !dkim_record_is_fws(c))
			return dkim_record_bad_char(sc, "in a value", why,
			                            whylen);
		sc->pos++;
	}
	tag->val = sc->s + start;
	tag->vlen = sc->pos - start;
	while (tag->vlen > 0 &&
	       dkim_record_is_fws((unsigned char) tag->val[tag->vlen - 1]))
		tag->vlen--;
	if (sc->pos < sc->len)
		sc->pos++; /* the ';' */
	return 0;
}

/*
 * dkim_record_next_tag - scan one tag-spec.  Returns 1 with a tag, 0 at
 * the end of the list (a trailing ';' is allowed), -1 on a syntax error.
 */
static int
dkim_record_next_tag(struct dkim_record_scan *sc, struct dkim_record_tag *tag,
                     char *why, size_t whylen)
{
	dkim_record_skip_fws(sc);
	if (sc->pos == sc->len)
		return 0;
	if (sc->s[sc->pos] == ';')
		return util_why(why, whylen, "empty tag at offset %zu",
		                sc->pos);
	if (!dkim_record_is_alpha((unsigned char) sc->s[sc->pos]))
		return dkim_record_bad_char(sc, "at the start of a tag", why,
		                            whylen);
	tag->name = sc->s + sc->pos;
	while (sc->pos < sc->len &&
	       (dkim_record_is_alnum((unsigned char) sc->s[sc->pos]) ||
	        sc->s[sc->pos] == '_'))
		sc->pos++;
	tag->nlen = (size_t) (sc->s + sc->pos - tag->name);
	dkim_record_skip_fws(sc);
	if (sc->pos == sc->len)
		return util_why(why, whylen, "tag '%.*s' has no '='",
		                (int) tag->nlen, tag->name);
	if (sc->s[sc->pos] != '=')
		return dkim_record_bad_char(sc, "in a tag name", why, whylen);
	sc->pos++;
	dkim_record_skip_fws(sc);
	if (dkim_record_scan_value(sc, tag, why, whylen) < 0)
		return -1;
	return 1;
}

/* dkim_record_quote - how much of a value to quote back in a reason */
static int
dkim_record_quote(const struct dkim_record_tag *tag)
{
	return (int) (tag->vlen < DKIM_RECORD_QUOTE ? tag->vlen
	                                            : DKIM_RECORD_QUOTE);
}

/* dkim_record_tag_is - is this tag's name exactly "name"? (case matters) */
static int
dkim_record_tag_is(const struct dkim_record_tag *tag, const char *name)
{
	return tag->nlen == strlen(name) &&
	       memcmp(tag->name, name, tag->nlen) == 0;
}

/* dkim_record_val_is - is this tag's value exactly "value"? */
static int
dkim_record_val_is(const char *val, size_t vlen, const char *value)
{
	return vlen == strlen(value) && memcmp(val, value, vlen) == 0;
}

/* dkim_record_tags - split the text into tags, refusing duplicates */
static int
dkim_record_tags(const char *text, size_t len, struct dkim_record_tag *tags,
                 size_t *ntags, char *why, size_t whylen)
{
	struct dkim_record_scan sc = {.s = text, .len = len, .pos = 0};
	struct dkim_record_tag tag;
	int rc;

	*ntags = 0;
	while ((rc = dkim_record_next_tag(&sc, &tag, why, whylen)) > 0) {
		if (*ntags == DKIM_RECORD_MAX_TAGS)
			return util_why(why, whylen, "more than %d tags",
			                DKIM_RECORD_MAX_TAGS);
		for (size_t i = 0; i < *ntags; i++)
			if (tags[i].nlen == tag.nlen &&
			    memcmp(tags[i].name, tag.name, tag.nlen) == 0)
				return util_why(why, whylen,
				                "duplicate tag '%.*s='",
				                (int) tag.nlen, tag.name);
		tags[(*ntags)++] = tag;
	}
	return rc;
}

/* dkim_record_hash_bit - h= member to bit; unknown algorithms are 0 */
static unsigned
dkim_record_hash_bit(const char *tok, size_t len)
{
	if (dkim_record_val_is(tok, len, "sha256"))
		return DKIM_RECORD_HASH_SHA256;
	if (dkim_record_val_is(tok, len, "sha1"))
		return DKIM_RECORD_HASH_SHA1;
	return 0;
}

/* dkim_record_service_bit - s= member: 1 for "*" and "email" */
static unsigned
dkim_record_service_bit(const char *tok, size_t len)
{
	return dkim_record_val_is(tok, len, "*") ||
	       dkim_record_val_is(tok, len, "email");
}

/* dkim_record_flag_bit - t= member to bit; unknown flags are 0 */
static unsigned
dkim_record_flag_bit(const char *tok, size_t len)
{
	if (dkim_record_val_is(tok, len, "y"))
		return DKIM_RECORD_FLAG_TESTING;
	if (dkim_record_val_is(tok, len, "s"))
		return DKIM_RECORD_FLAG_STRICT;
	return 0;
}

/* dkim_record_token_ok - a list member: hyphenated word, or "*" */
static int
dkim_record_token_ok(const char *tok, size_t len)
{
	if (len == 1 && tok[0] == '*')
		return 1;
	if (len == 0 || !dkim_record_is_alnum((unsigned char) tok[0]))
		return 0;
	for (size_t i = 1; i < len; i++)
		if (!dkim_record_is_alnum((unsigned char) tok[i]) &&
		    tok[i] != '-')
			return 0;
	return 1;
}

/*
 * dkim_record_list - a colon-separated value (h=, s=, t=): OR the bits
 * the members map to.  Members must be words; unknown words are ignored.
 */
static int
dkim_record_list(const struct dkim_record_tag *tag,
                 unsigned (*bit)(const char *, size_t), unsigned *out,
                 char *why, size_t whylen)
{
	const char *p = tag->val, *end = tag->val + tag->vlen;

	*out = 0;
	for (;;) {
		const char *colon = memchr(p, ':', (size_t) (end - p));
		const char *e = colon != NULL ? colon : end;

		while (p < e && dkim_record_is_fws((unsigned char) *p))
			p++;
		while (e > p && dkim_record_is_fws((unsigned char) e[-1]))
			e--;
		if (!dkim_record_token_ok(p, (size_t) (e - p)))
			return util_why(why, whylen,
			                "%.*s=%.*s: invalid list member",
			                (int) tag->nlen, tag->name,
			                dkim_record_quote(tag), tag->val);
		*out |= bit(p, (size_t) (e - p));
		if (colon == NULL)
			return 0;
		p = colon + 1;
	}
}

/* dkim_record_b64val - value of a base64 symbol, or -1 */
static int
dkim_record_b64val(unsigned char c)
{
	/* the 64 symbols only, not the pad or the NUL */
	const char *p = memchr(dkim_record_b64chars, c, DKIM_RECORD_PAD);

	return p != NULL ? (int) (p - dkim_record_b64chars) : -1;
}

/*
 * dkim_record_decode - p= base64 with FWS anywhere, padding required,
 * into rec->key.
 */
static int
dkim_record_decode(const char *v, size_t vlen, struct dkim_record *rec,
                   char *why, size_t whylen)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t nsym = 0, npad = 0, out = 0;

	for (size_t i = 0; i < vlen; i++) {
		unsigned char c = (unsigned char) v[i];
		int val = dkim_record_b64val(c);

		if (dkim_record_is_fws(c))
			continue;
		if (c == '=') {
			if (++npad > 2)
				return util_why(why, whylen,
				                "p=: too much '=' padding");
			continue;
		}
		if (npad > 0)
			return util_why(why, whylen,
			                "p=: base64 continues "
			                "after '=' padding");
		if (val < 0)
			return util_why(why, whylen,
			                "p=: invalid base64 character '%c'", c);
		nsym++;
		acc = (acc << 6) | (uint32_t) val;
		if ((bits += 6) < 8)
			continue;
		bits -= 8;
		if (out == DKIM_RECORD_KEY_MAX)
			return util_why(why, whylen,
			                "p=: key longer than %d bytes",
			                DKIM_RECORD_KEY_MAX);
		rec->key[out++] = (unsigned char) (acc >> bits);
		acc &= (1u << bits) - 1;
	}
	if ((nsym + npad) % 4 != 0)
		return util_why(why, whylen,
		                "p=: base64 length %zu is not a multiple of 4",
		                nsym + npad);
	rec->key_len = out;
	return 0;
}

/* dkim_record_version - v=: first tag, exactly DKIM1 */
static int
dkim_record_version(const struct dkim_record_tag *tag, size_t index,
                    struct dkim_record *rec, char *why, size_t whylen)
{
	if (index != 0)
		return util_why(why, whylen, "v= must be the first tag");
	if (!dkim_record_val_is(tag->val, tag->vlen, "DKIM1"))
		return util_why(why, whylen,
		                "v=%.*s: the version must be DKIM1",
		                dkim_record_quote(tag), tag->val);
	rec->has_version = 1;
	return 0;
}

/* dkim_record_keytype - k=: rsa or ed25519, case-sensitive */
static int
dkim_record_keytype(const struct dkim_record_tag *tag, struct dkim_record *rec,
                    char *why, size_t whylen)
{
	if (dkim_record_val_is(tag->val, tag->vlen, "rsa"))
		rec->key_type = DKIM_RECORD_KEY_RSA;
	else if (dkim_record_val_is(tag->val, tag->vlen, "ed25519"))
		rec->key_type = DKIM_RECORD_KEY_ED25519;
	else
		return util_why(why, whylen,
		                "unknown key type k=%.*s (rsa or ed25519)",
		                dkim_record_quote(tag), tag->val);
	return 0;
}

/* dkim_record_services - s=: the key must be usable for email */
static int
dkim_record_services(const struct dkim_record_tag *tag, char *why,
                     size_t whylen)
{
	unsigned email;

	if (dkim_record_list(tag, dkim_record_service_bit, &email, why,
	                     whylen) < 0)
		return -1;
	if (!email)
		return util_why(why, whylen,
		                "s=%.*s does not include email or *: "
		                "the key is not for mail",
		                dkim_record_quote(tag), tag->val);
	return 0;
}

/* dkim_record_apply_tag - interpret one tag; unknown tags are ignored */
static int
dkim_record_apply_tag(const struct dkim_record_tag *tag, size_t index,
                      struct dkim_record *rec, char *why, size_t whylen)
{
	if (dkim_record_tag_is(tag, "v"))
		return dkim_record_version(tag, index, rec, why, whylen);
	if (dkim_record_tag_is(tag, "k"))
		return dkim_record_keytype(tag, rec, why, whylen);
	if (dkim_record_tag_is(tag, "h"))
		return dkim_record_list(tag, dkim_record_hash_bit, &rec->hashes,
		                        why, whylen);
	if (dkim_record_tag_is(tag, "s"))
		return dkim_record_services(tag, why, whylen);
	if (dkim_record_tag_is(tag, "t"))
		return dkim_record_list(tag, dkim_record_flag_bit, &rec->flags,
		                        why, whylen);
	return 0; /* n=, p= (later), g= of RFC 4871, unknown tags */
}

/* dkim_record_apply - interpret the tags, then decode p= */
static enum dkim_record_status
dkim_record_apply(const struct dkim_record_tag *tags, size_t ntags,
                  struct dkim_record *rec, char *why, size_t whylen)
{
	const struct dkim_record_tag *p = NULL;

	for (size_t i = 0; i < ntags; i++) {
		if (dkim_record_apply_tag(&tags[i], i, rec, why, whylen) < 0)
			return DKIM_RECORD_MALFORMED;
		if (dkim_record_tag_is(&tags[i], "p"))
			p = &tags[i];
	}
	if (p == NULL) {
		util_why(why, whylen, "no p= tag (the public key)");
		return DKIM_RECORD_MALFORMED;
	}
	if (!(rec->hashes & DKIM_RECORD_HASH_SHA256)) {
		util_why(why, whylen,
		         "h= does not include sha256: sha256 signatures "
		         "cannot verify with this key");
		return DKIM_RECORD_MALFORMED;
	}
	if (p->vlen == 0) {
		util_why(why, whylen, "p= is empty: the key is revoked");
		return DKIM_RECORD_REVOKED;
	}
	if (dkim_record_decode(p->val, p->vlen, rec, why, whylen) < 0)
		return DKIM_RECORD_MALFORMED;
	return DKIM_RECORD_OK;
}

/* dkim_record_parse - parse a key record */
enum dkim_record_status
dkim_record_parse(const char *text, size_t len, struct dkim_record *rec,
                  char *why, size_t whylen)
{
	struct dkim_record_tag tags[DKIM_RECORD_MAX_TAGS];
	size_t ntags;

	rec->status = DKIM_RECORD_MALFORMED;
	rec->key_type = DKIM_RECORD_KEY_RSA;
	rec->hashes = DKIM_RECORD_HASH_SHA1 | DKIM_RECORD_HASH_SHA256;
	rec->flags = 0;
	rec->has_version = 0;
	rec->key_len = 0;
	if (dkim_record_tags(text, len, tags, &ntags, why, whylen) < 0)
		return rec->status;
	rec->status = dkim_record_apply(tags, ntags, rec, why, whylen);
	if (rec->status != DKIM_RECORD_OK)
		rec->key_len = 0;
	return rec->status;
}

/* dkim_record_keytype_name - k= value of a key type */
const char *
dkim_record_keytype_name(enum dkim_record_keytype type)
{
	return type == DKIM_RECORD_KEY_ED25519 ? "ed25519" : "rsa";
}

/* dkim_record_put - append one byte, keeping the buffer terminated */
static void
dkim_record_put(struct dkim_record_out *o, char c)
{
	if (o->n + 1 < o->size) {
		o->buf[o->n] = c;
		o->buf[o->n + 1] = '\0';
	}
	o->n++;
}

/* dkim_record_puts - append a string */
static void
dkim_record_puts(struct dkim_record_out *o, const char *s)
{
	while (*s != '\0')
		dkim_record_put(o, *s++);
}

/* dkim_record_out_init - start an output; an empty result is "" */
static void
dkim_record_out_init(struct dkim_record_out *o, char *buf, size_t size)
{
	o->buf = buf;
	o->size = size;
	o->n = 0;
	if (size > 0)
		buf[0] = '\0';
}

/* dkim_record_put_base64 - append base64 of len bytes */
static void
dkim_record_put_base64(struct dkim_record_out *o, const unsigned char *in,
                       size_t len)
{
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t) in[i] << 16;
		size_t left = len - i;

		if (left > 1)
			v |= (uint32_t) in[i + 1] << 8;
		if (left > 2)
			v |= in[i + 2];
		dkim_record_put(o, dkim_record_b64chars[(v >> 18) & 63]);
		dkim_record_put(o, dkim_record_b64chars[(v >> 12) & 63]);
		dkim_record_put(
		    o, dkim_record_b64chars[left > 1 ? (v >> 6) & 63
		                                     : DKIM_RECORD_PAD]);
		dkim_record_put(
		    o,
		    dkim_record_b64chars[left > 2 ? v & 63 : DKIM_RECORD_PAD]);
	}
}

/* dkim_record_base64 - base64 into a caller buffer */
size_t
dkim_record_base64(const unsigned char *in, size_t len, char *out, size_t size)
{
	struct dkim_record_out o;

	dkim_record_out_init(&o, out, size);
	dkim_record_put_base64(&o, in, len);
	return o.n;
}

/* dkim_record_render - the record text for a public key */
size_t
dkim_record_render(enum dkim_record_keytype type, const unsigned char *key,
                   size_t len, char *out, size_t size)
{
	struct dkim_record_out o;

	dkim_record_out_init(&o, out, size);
	dkim_record_puts(&o, "v=DKIM1; k=");
	dkim_record_puts(&o, dkim_record_keytype_name(type));
	dkim_record_puts(&o, "; p=");
	dkim_record_put_base64(&o, key, len);
	return o.n;
}

/* dkim_record_put_escaped - one content byte in zone-file quoting */
static void
dkim_record_put_escaped(struct dkim_record_out *o, unsigned char c)
{
	if (c == '"' || c == '\\') {
		dkim_record_put(o, '\\');
		dkim_record_put(o, (char) c);
	} else if (c < 0x20 || c > 0x7e) {
		dkim_record_put(o, '\\');
		dkim_record_put(o, (char) ('0' + c / 100));
		dkim_record_put(o, (char) ('0' + c / 10 % 10));
		dkim_record_put(o, (char) ('0' + c % 10));
	} else {
		dkim_record_put(o, (char) c);
	}
}

/* dkim_record_zone - split text into quoted character-strings */
size_t
dkim_record_zone(const char *text, char *out, size_t size)
{
	struct dkim_record_out o;
	size_t used = 0;

	dkim_record_out_init(&o, out, size);
	dkim_record_put(&o, '"');
	for (const char *p = text; *p != '\0'; p++) {
		if (used == 255) {
			dkim_record_puts(&o, "\" \"");
			used = 0;
		}
		dkim_record_put_escaped(&o, (unsigned char) *p);
		used++;
	}
	dkim_record_put(&o, '"');
	return o.n;
}
