/*
 * dkimsign - relaygate's own DKIM signatures: relaxed/relaxed,
 * rsa-sha256 or ed25519-sha256, with the key parsed once (keys).
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "canon.h"
#include "dkim_record.h"
#include "dkimsign.h"
#include "log.h"
#include "util.h"

/* libopendkim's default margin (DKIM_HDRMARGIN) and its first line's
   start, "DKIM-Signature: " */
#define DKIMSIGN_MARGIN 75
#define DKIMSIGN_INITIAL 16
#define DKIMSIGN_NAME "DKIM-Signature"

/* RFC 5322 section 2.1.1: lines of at most 998 characters. */
#define DKIMSIGN_LINE_MAX 998

/* Room for a signature: RSA-4096 has 512 bytes, Ed25519 64. */
#define DKIMSIGN_SIG_MAX 1024

struct dkimsign_conf {
	const char *const *oversign;
	EVP_MD *sha256; /* fetched once: no method lookup per message */
};

/* A field to sign, kept in the arena until the end of the headers. */
struct dkimsign_field {
	size_t name;    /* arena offset of the name as the message has it */
	size_t namelen; /* its length; the canonical form starts with the
	                   lowercase name and ':' */
	size_t canon;   /* arena offset of the canonical form, with CRLF */
	size_t canonlen;
	int taken; /* hashed already */
};

/* A growing string. */
struct dkimsign_str {
	char *p;
	size_t len, size;
};

struct dkimsign {
	const struct dkimsign_conf *conf;
	const struct keys_key *key;
	char *selector;
	char *domain;
	int64_t t;
	struct dkimsign_str arena; /* names and canonical fields */
	struct dkimsign_field *fields;
	size_t nfields, cap;
	int from;            /* a From field was given */
	char *hlist;         /* the value of h= */
	EVP_MD_CTX *hh, *bh; /* header hash, body hash */
	struct canon_body *body;
};

/* dkimsign_reserve - room for n more bytes in s */
static char *
dkimsign_reserve(struct dkimsign_str *s, size_t n)
{
	if (s->len + n + 1 > s->size) {
		s->size = s->size * 2 > s->len + n + 1 ? s->size * 2
		                                       : s->len + n + 1024;
		s->p = xrealloc(s->p, s->size);
	}
	return s->p + s->len;
}

/* dkimsign_cat - append n bytes (NUL-terminated after) */
static void
dkimsign_cat(struct dkimsign_str *s, const char *p, size_t n)
{
	memcpy(dkimsign_reserve(s, n), p, n);
	s->len += n;
	s->p[s->len] = '\0';
}

/* dkimsign_cats - append a C string */
static void
dkimsign_cats(struct dkimsign_str *s, const char *p)
{
	dkimsign_cat(s, p, strlen(p));
}

/* dkimsign_conf_new - fetch SHA-256 once */
struct dkimsign_conf *
dkimsign_conf_new(const char *const *oversign, char *why, size_t whylen)
{
	struct dkimsign_conf *c = xcalloc(1, sizeof(*c));

	c->oversign = oversign;
	c->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (c->sha256 == NULL) {
		ERR_clear_error();
		util_why(why, whylen, "OpenSSL offers no SHA-256");
		free(c);
		return NULL;
	}
	return c;
}

/* dkimsign_conf_free - release the shared part */
void
dkimsign_conf_free(struct dkimsign_conf *c)
{
	if (c == NULL)
		return;
	EVP_MD_free(c->sha256);
	free(c);
}

/* dkimsign_md_new - a SHA-256 context, started */
static EVP_MD_CTX *
dkimsign_md_new(const struct dkimsign_conf *c)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (ctx == NULL || EVP_DigestInit_ex(ctx, c->sha256, NULL) != 1)
		panic("SHA-256 context: %s",
		      ERR_reason_error_string(ERR_get_error()));
	return ctx;
}

/* dkimsign_body_sink - canonical body bytes into the body hash */
static void
dkimsign_body_sink(void *arg, const unsigned char *data, size_t len)
{
	if (EVP_DigestUpdate(arg, data, len) != 1)
		panic("EVP_DigestUpdate failed");
}

/* dkimsign_begin - a new signature */
struct dkimsign *
dkimsign_begin(const struct dkimsign_conf *c, const struct keys_key *key,
               const char *selector, const char *domain, int64_t t)
{
	struct dkimsign *d = xcalloc(1, sizeof(*d));

	d->conf = c;
	d->key = key;
	d->selector = xstrdup(selector);
	d->domain = xstrdup(domain);
	d->t = t;
	d->hh = dkimsign_md_new(c);
	d->bh = dkimsign_md_new(c);
	d->body = canon_body_new(dkimsign_body_sink, d->bh);
	return d;
}

/* dkimsign_header - keep a field: its name and its canonical form */
void
dkimsign_header(struct dkimsign *d, const char *name, const char *value)
{
	size_t nlen = strlen(name), vlen = strlen(value);
	struct dkimsign_field *f;
	char *out;

	if (d->nfields == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 16;
		d->fields = xrealloc(d->fields, d->cap * sizeof(*d->fields));
	}
	f = &d->fields[d->nfields++];
	f->name = d->arena.len;
	f->namelen = nlen;
	dkimsign_cat(&d->arena, name, nlen);
	f->canon = d->arena.len;
	out = dkimsign_reserve(&d->arena, canon_header_max(nlen, vlen));
	f->canonlen = canon_header(out, name, nlen, value, vlen, 1);
	d->arena.len += f->canonlen;
	f->taken = 0;
	if (nlen == 4 && strncasecmp(name, "from", 4) == 0)
		d->from = 1;
}

/* dkimsign_same_name - do two kept fields have the same name? */
static int
dkimsign_same_name(const struct dkimsign *d, const struct dkimsign_field *a,
                   const struct dkimsign_field *b)
{
	return a->namelen == b->namelen &&
	       memcmp(d->arena.p + a->canon, d->arena.p + b->canon,
	              a->namelen) == 0; /* lowercase in canonical form */
}

/*
 * dkimsign_hash_fields - the header hash over the fields in h= order:
 * each entry takes the bottom-most instance of its name not yet taken.
 */
static void
dkimsign_hash_fields(struct dkimsign *d)
{
	for (size_t i = 0; i < d->nfields; i++) {
		size_t j = d->nfields;

		while (j-- > 0)
			if (!d->fields[j].taken &&
			    dkimsign_same_name(d, &d->fields[i], &d->fields[j]))
				break;
		/* Found: as many instances of the name are left as entries
		   of it in h= still to come, this one included. */
		d->fields[j].taken = 1;
		if (EVP_DigestUpdate(d->hh, d->arena.p + d->fields[j].canon,
		                     d->fields[j].canonlen) != 1)
			panic("EVP_DigestUpdate failed");
	}
}

/* dkimsign_hlist - h=: the fields top to bottom, then the oversigned */
static char *
dkimsign_hlist(const struct dkimsign *d)
{
	struct dkimsign_str h = {0};
	const char *const *over = d->conf->oversign;

	for (size_t i = 0; i < d->nfields; i++) {
		if (i > 0)
			dkimsign_cat(&h, ":", 1);
		dkimsign_cat(&h, d->arena.p + d->fields[i].name,
		             d->fields[i].namelen);
	}
	for (size_t i = 0; over != NULL && over[i] != NULL; i++) {
		if (over[i][0] == '\0')
			continue;
		dkimsign_cat(&h, ":", 1);
		dkimsign_cats(&h, over[i]);
	}
	return h.p;
}

/* dkimsign_eoh - hash the fields, note h=, drop the copies */
int
dkimsign_eoh(struct dkimsign *d, char *why, size_t whylen)
{
	if (!d->from)
		return util_why(why, whylen,
		                "no From header field: a DKIM signature "
		                "must cover From");
	dkimsign_hash_fields(d);
	d->hlist = dkimsign_hlist(d);
	free(d->arena.p);
	free(d->fields);
	d->arena = (struct dkimsign_str){0};
	d->fields = NULL;
	d->nfields = d->cap = 0;
	return 0;
}

/* dkimsign_body - a chunk into the body hash */
void
dkimsign_body(struct dkimsign *d, const unsigned char *chunk, size_t len)
{
	canon_body_update(d->body, chunk, len);
}

/* dkimsign_tagname_is - is the tag at pv (up to '=') named name? */
static int
dkimsign_tagname_is(const char *pv, size_t whichlen, const char *name)
{
	return strlen(name) == whichlen && memcmp(pv, name, whichlen) == 0;
}

/* dkimsign_fold_h - a wrapped h= tag, broken after colons */
static size_t
dkimsign_fold_h(struct dkimsign_str *out, const char *pv, size_t pvlen,
                size_t len)
{
	const char *p = pv, *end = pv + pvlen;
	int first = 1;

	while (p < end) {
		const char *colon = memchr(p, ':', (size_t) (end - p));
		size_t n =
		    colon != NULL ? (size_t) (colon - p) : (size_t) (end - p);

		if (n > 0 && first) {
			dkimsign_cat(out, p, n);
			len += n;
			first = 0;
		} else if (n > 0 && len + n + 1 > DKIMSIGN_MARGIN) {
			dkimsign_cats(out, ":\n\t ");
			dkimsign_cat(out, p, n);
			len = 9 + n;
		} else if (n > 0) {
			dkimsign_cat(out, ":", 1);
			dkimsign_cat(out, p, n);
			len += 1 + n;
		}
		p += n + (colon != NULL);
	}
	return len;
}

/* dkimsign_fold_any - a wrapped b= or bh= tag, broken at the margin */
static size_t
dkimsign_fold_any(struct dkimsign_str *out, const char *pv, size_t pvlen,
                  size_t whichlen)
{
	size_t len = 8 + whichlen + 1, x = whichlen + 1;

	dkimsign_cat(out, pv, whichlen + 1);
	if (x < pvlen) /* the value's first byte, as libopendkim does */
		dkimsign_cat(out, pv + x, 1);
	len++;
	for (x++; x < pvlen;) {
		size_t n;

		if (len == DKIMSIGN_MARGIN) {
			dkimsign_cats(out, "\n\t ");
			len = 9;
		}
		n = DKIMSIGN_MARGIN - len < pvlen - x ? DKIMSIGN_MARGIN - len
		                                      : pvlen - x;
		dkimsign_cat(out, pv + x, n);
		x += n;
		len += n;
	}
	return len;
}

/*
 * dkimsign_fold_tag - one "tag=value" onto the field as libopendkim's
 * dkim_getsighdr_d() does with margin 75; returns the new line length.
 * An RSA b= always starts a line: libopendkim moves it when the whole
 * signature would pass the margin, always so from 2048 bits on.
 */
static size_t
dkimsign_fold_tag(struct dkimsign_str *out, const char *pv, size_t len, int rsa)
{
	size_t pvlen = strlen(pv), whichlen = strcspn(pv, "=");
	int b = dkimsign_tagname_is(pv, whichlen, "b");

	if (out->len == 0) {
		dkimsign_cat(out, pv, pvlen);
		return len + pvlen;
	}
	if (!(rsa && b) && len + pvlen <= DKIMSIGN_MARGIN) {
		dkimsign_cat(out, " ", 1);
		dkimsign_cat(out, pv, pvlen);
		return len + 1 + pvlen;
	}
	dkimsign_cats(out, "\n\t");
	if (dkimsign_tagname_is(pv, whichlen, "h"))
		return dkimsign_fold_h(out, pv, pvlen, 8);
	if (b || dkimsign_tagname_is(pv, whichlen, "bh"))
		return dkimsign_fold_any(out, pv, pvlen, whichlen);
	dkimsign_cat(out, pv, pvlen);
	return 8 + pvlen;
}

/* dkimsign_tag - "name=value" and end into tag, emptied first */
static const char *
dkimsign_tag(struct dkimsign_str *tag, const char *name, const char *value,
             const char *end)
{
	tag->len = 0;
	dkimsign_cats(tag, name);
	dkimsign_cat(tag, "=", 1);
	dkimsign_cats(tag, value);
	dkimsign_cats(tag, end);
	return tag->p;
}

/*
 * dkimsign_field - the folded DKIM-Signature value with b=b64 (empty:
 * the form that is hashed).  Returns it malloc()ed.  Each tag is built
 * in one reused buffer: this runs twice a message.
 */
static char *
dkimsign_field(const struct dkimsign *d, const char *bh, const char *b64)
{
	int rsa = keys_alg(d->key) == KEYS_ALG_RSA;
	struct dkimsign_str out = {0}, tag = {0};
	char t[24];
	const char *tags[][2] = {
	    {"v", "1"},
	    {"a", rsa ? "rsa-sha256" : "ed25519-sha256"},
	    {"c", "relaxed/relaxed"},
	    {"d", d->domain},
	    {"s", d->selector},
	    {"t", t},
	    {"bh", bh},
	    {"h", d->hlist},
	    {"b", b64},
	};
	size_t n = sizeof(tags) / sizeof(tags[0]), len = DKIMSIGN_INITIAL;

	snprintf(t, sizeof(t), "%" PRId64, d->t);
	for (size_t i = 0; i < n; i++) {
		const char *pv = dkimsign_tag(&tag, tags[i][0], tags[i][1],
		                              i + 1 < n ? ";" : "");

		len = dkimsign_fold_tag(&out, pv, len, rsa);
	}
	free(tag.p);
	return out.p;
}

/* dkimsign_ssl_why - a reason ending in OpenSSL's error; queue emptied */
static int
dkimsign_ssl_why(char *why, size_t whylen, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	const char *reason = e != 0 ? ERR_reason_error_string(e) : NULL;

	ERR_clear_error();
	return util_why(why, whylen, "%s%s%s", what, reason ? ": " : "",
	                reason ? reason : "");
}

/* dkimsign_rsa - RSASSA-PKCS1-v1_5 with SHA-256 over the digest */
static int
dkimsign_rsa(const struct dkimsign *d, const unsigned char *md,
             unsigned char *sig, size_t *siglen, char *why, size_t whylen)
{
	EVP_PKEY_CTX *ctx =
	    EVP_PKEY_CTX_new_from_pkey(NULL, keys_pkey(d->key), NULL);
	int ok = ctx != NULL && EVP_PKEY_sign_init(ctx) > 0 &&
	         EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0 &&
	         EVP_PKEY_CTX_set_signature_md(ctx, d->conf->sha256) > 0 &&
	         EVP_PKEY_sign(ctx, sig, siglen, md, 32) > 0;

	EVP_PKEY_CTX_free(ctx);
	return ok ? 0 : dkimsign_ssl_why(why, whylen, "RSA signing failed");
}

/* dkimsign_ed25519 - Ed25519 over the 32 bytes of the digest */
static int
dkimsign_ed25519(const struct dkimsign *d, const unsigned char *md,
                 unsigned char *sig, size_t *siglen, char *why, size_t whylen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx != NULL &&
	         EVP_DigestSignInit_ex(ctx, NULL, NULL, NULL, NULL,
	                               keys_pkey(d->key), NULL) == 1 &&
	         EVP_DigestSign(ctx, sig, siglen, md, 32) == 1;

	EVP_MD_CTX_free(ctx);
	return ok ? 0 : dkimsign_ssl_why(why, whylen, "Ed25519 signing failed");
}

/* dkimsign_final - finish a SHA-256 into md */
static void
dkimsign_final(EVP_MD_CTX *ctx, unsigned char md[EVP_MAX_MD_SIZE])
{
	unsigned n = 0;

	if (EVP_DigestFinal_ex(ctx, md, &n) != 1 || n != 32)
		panic("EVP_DigestFinal_ex failed");
}

/* dkimsign_lines_ok - every line shorter than 998 bytes */
static int
dkimsign_lines_ok(const char *value)
{
	size_t line = DKIMSIGN_INITIAL;

	for (const char *p = value; *p != '\0'; p++) {
		line = *p == '\n' ? 0 : line + 1;
		if (line >= DKIMSIGN_LINE_MAX)
			return 0;
	}
	return 1;
}

/*
 * dkimsign_header_hash - the header hash completed with the signature
 * field (b= empty) in relaxed form, no CRLF; the digest into md.
 */
static void
dkimsign_header_hash(struct dkimsign *d, const char *bh,
                     unsigned char md[EVP_MAX_MD_SIZE])
{
	char *field = dkimsign_field(d, bh, "");
	size_t flen = strlen(field), nlen = strlen(DKIMSIGN_NAME);
	char *c = xmalloc(canon_header_max(nlen, flen));
	size_t clen = canon_header(c, DKIMSIGN_NAME, nlen, field, flen, 0);

	if (EVP_DigestUpdate(d->hh, c, clen) != 1)
		panic("EVP_DigestUpdate failed");
	dkimsign_final(d->hh, md);
	free(c);
	free(field);
}

/* dkimsign_end - body hash, header hash, signature, the field */
int
dkimsign_end(struct dkimsign *d, char **value, char *why, size_t whylen)
{
	unsigned char md[EVP_MAX_MD_SIZE], sig[DKIMSIGN_SIG_MAX];
	char bh[64], b64[2 * DKIMSIGN_SIG_MAX];
	size_t siglen = sizeof(sig);
	int rc;

	*value = NULL;
	canon_body_final(d->body);
	dkimsign_final(d->bh, md);
	dkim_record_base64(md, 32, bh, sizeof(bh));
	dkimsign_header_hash(d, bh, md);
	rc = keys_alg(d->key) == KEYS_ALG_RSA
	         ? dkimsign_rsa(d, md, sig, &siglen, why, whylen)
	         : dkimsign_ed25519(d, md, sig, &siglen, why, whylen);
	if (rc < 0)
		return -1;
	dkim_record_base64(sig, siglen, b64, sizeof(b64));
	*value = dkimsign_field(d, bh, b64);
	if (dkimsign_lines_ok(*value))
		return 0;
	free(*value);
	*value = NULL;
	return util_why(why, whylen, "signature has a line of %d bytes or more",
	                DKIMSIGN_LINE_MAX);
}

/* dkimsign_free - release a handle */
void
dkimsign_free(struct dkimsign *d)
{
	if (d == NULL)
		return;
	canon_body_free(d->body);
	EVP_MD_CTX_free(d->hh);
	EVP_MD_CTX_free(d->bh);
	free(d->arena.p);
	free(d->fields);
	free(d->hlist);
	free(d->selector);
	free(d->domain);
	free(d);
}
