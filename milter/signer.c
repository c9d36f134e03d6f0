/*
 * signer - DKIM signing (dkimsign) and verifying (libopendkim, its only
 * user in relaygate) behind one interface.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <opendkim/dkim.h>

#include "dkimsign.h"
#include "signer.h"
#include "util.h"

/*
 * The names of the fields a signature covers, at most: h= (folded) grows
 * with them.  Also what libopendkim, which signed before dkimsign, could
 * hold (its DKIM_MAXHEADER, 4096 bytes).
 */
#define SIGNER_NAMELIST_MAX 4000

/* Longest field name we accept in the lists (RFC 5322 allows any). */
#define SIGNER_NAME_MAX 64

/* libopendkim keeps the id pointer, so it must be static. */
static const unsigned char signer_id[] = "relaygate";

static const char *const signer_sign_default[] = {"from",
                                                  "sender",
                                                  "reply-to",
                                                  "subject",
                                                  "date",
                                                  "message-id",
                                                  "to",
                                                  "cc",
                                                  "mime-version",
                                                  "content-type",
                                                  "content-transfer-encoding",
                                                  "content-id",
                                                  "content-description",
                                                  "resent-date",
                                                  "resent-from",
                                                  "resent-sender",
                                                  "resent-to",
                                                  "resent-cc",
                                                  "resent-message-id",
                                                  "in-reply-to",
                                                  "references",
                                                  "list-id",
                                                  "list-help",
                                                  "list-unsubscribe",
                                                  "list-unsubscribe-post",
                                                  "list-subscribe",
                                                  "list-post",
                                                  "list-owner",
                                                  "list-archive",
                                                  NULL};

static const char *const signer_oversign_default[] = {
    "from", "reply-to", "subject", "to", "cc", NULL};

struct signer {
	DKIM_LIB *lib;              /* verifying */
	struct dkimsign_conf *conf; /* signing */
	char **sign;                /* lowercase copies, NULL-terminated */
	char **oversign;
};

/* One key lookup of a message being verified, as it really went. */
struct signer_lookup {
	char selector[DOMAIN_SIZE];
	char domain[DOMAIN_SIZE];
	enum signer_key status;
	char why[256];
};

enum signer_state {
	SIGNER_HEADERS,
	SIGNER_BODY,
	SIGNER_DONE, /* signer_end() ran: only signer_free() remains */
	SIGNER_FAILED,
};

struct signer_msg {
	const struct signer *s;
	struct dkimsign *sign; /* signing: non-NULL */
	DKIM *dkim;            /* verifying: non-NULL */
	enum signer_state state;
	size_t namelist; /* signing: bytes of signed names so far */
	char error[256]; /* the first failure */
	/* verifying only */
	char *buf; /* "Name: value" with CRLF, reused for every field */
	size_t bufsize;
	int last; /* the last body byte, -1 before any */
	signer_key_fn lookup;
	void *lookup_arg;
	int nosig; /* no DKIM-Signature field: nothing to hash */
	struct signer_lookup looked[SIGNER_VERIFY_MAX];
	size_t nlooked;
};

/* signer_default_headers - default signed fields */
const char *const *
signer_default_headers(void)
{
	return signer_sign_default;
}

/* signer_default_oversign - default oversigned fields */
const char *const *
signer_default_oversign(void)
{
	return signer_oversign_default;
}

/* signer_list_free - free a copied name list */
static void
signer_list_free(char **list)
{
	for (size_t i = 0; list != NULL && list[i] != NULL; i++)
		free(list[i]);
	free(list);
}

/* signer_list_has - is name (any case) in the list? */
static int
signer_list_has(char *const *list, const char *name)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strcasecmp(list[i], name) == 0)
			return 1;
	return 0;
}

/* signer_name_ok - a field name a list may hold */
static int
signer_name_ok(const char *name, char *why, size_t whylen)
{
	size_t len = strlen(name);

	if (len == 0 || len > SIGNER_NAME_MAX)
		return util_why(why, whylen,
		                "header field name '%.64s' is empty or longer "
		                "than %d bytes",
		                name, SIGNER_NAME_MAX);
	for (const char *p = name; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return util_why(why, whylen,
			                "header field name '%s' may only "
			                "contain letters, digits, '-' and '_'",
			                name);
	return 0;
}

/*
 * signer_list_copy - validated lowercase copy of a name list; with
 * must_have, that name is added if missing.
 */
static char **
signer_list_copy(const char *const *in, const char *must_have, char *why,
                 size_t whylen)
{
	size_t n = 0, i;
	char **out;

	while (in[n] != NULL)
		n++;
	out = xcalloc(n + 2, sizeof(*out));
	for (i = 0; i < n; i++) {
		if (signer_name_ok(in[i], why, whylen) < 0) {
			signer_list_free(out);
			return NULL;
		}
		out[i] = util_lower(xstrdup(in[i]));
	}
	if (must_have != NULL && !signer_list_has(out, must_have))
		out[i] = xstrdup(must_have);
	return out;
}

/*
 * signer_key_lookup - the key-lookup hook: a verifying handle asks its
 * lookup function and remembers the outcome; anything else (signing
 * never asks) gets "not found" instead of libopendkim's default resolver
 * (not thread-safe, notes 2.5).  Only a found key is passed on: a
 * "try again" would stop libopendkim at this signature (see the header).
 */
static DKIM_CBSTAT
signer_key_lookup(DKIM *dkim, DKIM_SIGINFO *sig, u_char *buf, size_t buflen)
{
	struct signer_msg *m = dkim_get_user_context(dkim);
	const char *sel = (const char *) dkim_sig_getselector(sig);
	const char *dom = (const char *) dkim_sig_getdomain(sig);
	struct signer_lookup l = {.status = SIGNER_KEY_NONE};

	if (m == NULL || m->lookup == NULL || sel == NULL || dom == NULL)
		return DKIM_CBSTAT_NOTFOUND;
	util_strlcpy(l.selector, sel, sizeof(l.selector));
	util_strlcpy(l.domain, dom, sizeof(l.domain));
	buf[0] = '\0';
	l.status = m->lookup(m->lookup_arg, sel, dom, (char *) buf, buflen,
	                     l.why, sizeof(l.why));
	if (m->nlooked < SIGNER_VERIFY_MAX)
		m->looked[m->nlooked++] = l;
	return l.status == SIGNER_KEY_FOUND ? DKIM_CBSTAT_CONTINUE
	                                    : DKIM_CBSTAT_NOTFOUND;
}

/*
 * signer_lib_options - configure the DKIM_LIB, which only verifies; -1
 * with a reason
 */
static int
signer_lib_options(struct signer *s, char *why, size_t whylen)
{
	DKIM_LIB *lib = s->lib;
	uint32_t flags = DKIM_LIBFLAGS_NONE; /* no temp files */

	if (!dkim_libfeature(lib, DKIM_FEATURE_SHA256) ||
	    !dkim_libfeature(lib, DKIM_FEATURE_ED25519))
		return util_why(why, whylen,
		                "libopendkim lacks SHA-256 or Ed25519 support");
	if (dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags,
	                 sizeof(flags)) != DKIM_STAT_OK)
		return util_why(why, whylen, "libopendkim: cannot set flags");
	dkim_set_key_lookup(lib, signer_key_lookup);
	return 0;
}

/*
 * signer_oversign_ok - every oversigned name must also be signed: an
 * extra h= entry for a present but unsigned field would make the
 * verifier hash that field where we hashed nothing.
 */
static int
signer_oversign_ok(const struct signer *s, char *why, size_t whylen)
{
	for (size_t i = 0; s->oversign[i] != NULL; i++)
		if (!signer_list_has(s->sign, s->oversign[i]))
			return util_why(
			    why, whylen,
			    "oversigned header field '%s' is not in "
			    "the list of fields to sign",
			    s->oversign[i]);
	return 0;
}

/* signer_open - the lists, dkimsign's shared part, one DKIM_LIB */
struct signer *
signer_open(const char *const *sign, const char *const *oversign, char *why,
            size_t whylen)
{
	struct signer *s = xcalloc(1, sizeof(*s));

	s->sign = signer_list_copy(sign != NULL ? sign : signer_sign_default,
	                           "from", why, whylen);
	s->oversign = signer_list_copy(
	    oversign != NULL ? oversign : signer_oversign_default, NULL, why,
	    whylen);
	if (s->sign == NULL || s->oversign == NULL ||
	    signer_oversign_ok(s, why, whylen) < 0 ||
	    (s->conf = dkimsign_conf_new((const char *const *) s->oversign, why,
	                                 whylen)) == NULL) {
		signer_close(s);
		return NULL;
	}
	if ((s->lib = dkim_init(NULL, NULL)) == NULL) {
		util_why(why, whylen, "dkim_init failed");
		signer_close(s);
		return NULL;
	}
	if (signer_lib_options(s, why, whylen) < 0) {
		signer_close(s);
		return NULL;
	}
	return s;
}

/* signer_open_config - the default fields plus the configured ones */
struct signer *
signer_open_config(const struct config *cfg, char *why, size_t whylen)
{
	const char *const *def = signer_default_headers();
	const struct config_strlist *add = &cfg->dkim_sign_headers;
	const struct config_strlist *over = &cfg->dkim_oversign_headers;
	const char **sign, **oversign;
	struct signer *s;
	size_t n = 0;

	while (def[n] != NULL)
		n++;
	sign = xcalloc(n + add->n + 1, sizeof(*sign));
	oversign = xcalloc(over->n + 1, sizeof(*oversign));
	memcpy(sign, def, n * sizeof(*sign));
	for (size_t i = 0; i < add->n; i++)
		sign[n + i] = add->v[i];
	for (size_t i = 0; i < over->n; i++)
		oversign[i] = over->v[i];
	s = signer_open(sign, oversign, why, whylen);
	free(sign);
	free(oversign);
	return s;
}

/* signer_close - release the library */
void
signer_close(struct signer *s)
{
	if (s == NULL)
		return;
	if (s->lib != NULL)
		dkim_close(s->lib);
	dkimsign_conf_free(s->conf);
	signer_list_free(s->sign);
	signer_list_free(s->oversign);
	free(s);
}

/* signer_dns_name_ok - a d= or s= value libopendkim and DNS accept */
static int
signer_dns_name_ok(const char *what, const char *name, char *why, size_t whylen)
{
	size_t len = strlen(name);

	if (len == 0 || len > 253 || name[0] == '.' || name[len - 1] == '.')
		return util_why(why, whylen, "invalid %s '%.253s'", what, name);
	for (const char *p = name; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		      *p == '.'))
			return util_why(why, whylen,
			                "invalid %s '%.253s': not an ASCII DNS "
			                "name",
			                what, name);
	return 0;
}

/* signer_stat_text - libopendkim's words for a status and handle */
static void
signer_stat_text(DKIM *dkim, DKIM_STAT st, char *out, size_t size)
{
	const char *res = dkim_getresultstr(st);
	const char *err = dkim != NULL ? dkim_geterror(dkim) : NULL;

	snprintf(out, size, "%s%s%s", res != NULL ? res : "unknown status",
	         err != NULL && err[0] != '\0' ? ": " : "",
	         err != NULL ? err : "");
}

/* signer_msg_new - a fresh handle */
static struct signer_msg *
signer_msg_new(const struct signer *s)
{
	struct signer_msg *m = xcalloc(1, sizeof(*m));

	m->s = s;
	m->state = SIGNER_HEADERS;
	m->last = -1;
	return m;
}

/* signer_begin - a signing handle for one message; t= is now */
struct signer_msg *
signer_begin(struct signer *s, const struct keys_key *key, const char *selector,
             const char *domain, char *why, size_t whylen)
{
	struct signer_msg *m;

	if (signer_dns_name_ok("selector", selector, why, whylen) < 0 ||
	    signer_dns_name_ok("domain", domain, why, whylen) < 0)
		return NULL;
	m = signer_msg_new(s);
	m->sign =
	    dkimsign_begin(s->conf, key, selector, domain, util_realtime_s());
	return m;
}

/* signer_fail - remember the first failure; returns -1 */
static int signer_fail(struct signer_msg *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
signer_fail(struct signer_msg *m, const char *fmt, ...)
{
	va_list ap;

	if (m->state != SIGNER_FAILED) {
		va_start(ap, fmt);
		vsnprintf(m->error, sizeof(m->error), fmt, ap);
		va_end(ap);
		m->state = SIGNER_FAILED;
	}
	return -1;
}

/* signer_dkim_fail - a libopendkim call failed */
static int
signer_dkim_fail(struct signer_msg *m, const char *call, DKIM_STAT st)
{
	char text[200];

	signer_stat_text(m->dkim, st, text, sizeof(text));
	return signer_fail(m, "%s: %s", call, text);
}

/* signer_usable - may this call go on in the current state? */
static int
signer_usable(struct signer_msg *m, enum signer_state want, const char *call)
{
	if (m->state == want)
		return 0;
	if (m->state == SIGNER_FAILED)
		return -1;
	return signer_fail(m, "%s called %s", call,
	                   m->state == SIGNER_DONE ? "after the end"
	                   : m->state == SIGNER_BODY
	                       ? "after the end of the headers"
	                       : "before the end of the headers");
}

/*
 * signer_build - "name: value" in m->buf, bare LF made CRLF (libopendkim
 * expects CRLF between the lines of a folded field).  Returns the length.
 */
static size_t
signer_build(struct signer_msg *m, const char *name, const char *value)
{
	size_t nlen = strlen(name), vlen = strlen(value), n = 0;
	size_t need = nlen + 2 + 2 * vlen + 1;

	if (need > m->bufsize) {
		m->bufsize = need < 1024 ? 1024 : need;
		m->buf = xrealloc(m->buf, m->bufsize);
	}
	memcpy(m->buf, name, nlen);
	n = nlen;
	m->buf[n++] = ':';
	if (value[0] != ' ' && value[0] != '\t')
		m->buf[n++] = ' ';
	for (const char *p = value; *p != '\0'; p++) {
		if (*p == '\n' && (p == value || p[-1] != '\r'))
			m->buf[n++] = '\r';
		m->buf[n++] = *p;
	}
	m->buf[n] = '\0';
	return n;
}

/* signer_sign_header - a field of a message being signed, if listed */
static int
signer_sign_header(struct signer_msg *m, const char *name, const char *value)
{
	if (!signer_list_has(m->s->sign, name))
		return 0;
	m->namelist += strlen(name) + 1;
	if (m->namelist > SIGNER_NAMELIST_MAX)
		return signer_fail(m,
		                   "too many header fields to sign "
		                   "(their names exceed %d bytes)",
		                   SIGNER_NAMELIST_MAX);
	dkimsign_header(m->sign, name, value);
	return 0;
}

/* signer_header - one field: signed if listed, or verified */
int
signer_header(struct signer_msg *m, const char *name, const char *value)
{
	DKIM_STAT st;
	size_t len;

	if (signer_usable(m, SIGNER_HEADERS, "signer_header") < 0)
		return -1;
	if (m->sign != NULL)
		return signer_sign_header(m, name, value);
	len = signer_build(m, name, value);
	st = dkim_header(m->dkim, (u_char *) m->buf, len);
	if (st != DKIM_STAT_OK)
		return signer_dkim_fail(m, "dkim_header", st);
	return 0;
}

/* signer_eoh - end of headers */
int
signer_eoh(struct signer_msg *m)
{
	DKIM_STAT st;
	char why[sizeof(m->error)];

	if (signer_usable(m, SIGNER_HEADERS, "signer_eoh") < 0)
		return -1;
	if (m->sign != NULL) {
		if (dkimsign_eoh(m->sign, why, sizeof(why)) < 0)
			return signer_fail(m, "%s", why);
		m->state = SIGNER_BODY;
		return 0;
	}
	st = dkim_eoh(m->dkim);
	/* Verifying a message without signatures: a result, not an error. */
	if (st == DKIM_STAT_NOSIG)
		m->nosig = 1;
	else if (st != DKIM_STAT_OK)
		return signer_dkim_fail(m, "dkim_eoh", st);
	m->state = SIGNER_BODY;
	return 0;
}

/* signer_body - one body chunk */
int
signer_body(struct signer_msg *m, const unsigned char *chunk, size_t len)
{
	DKIM_STAT st;

	if (signer_usable(m, SIGNER_BODY, "signer_body") < 0)
		return -1;
	if (m->sign != NULL) {
		dkimsign_body(m->sign, chunk, len);
		return 0;
	}
	if (len == 0 || m->nosig)
		return 0; /* dkim_body asserts on a NULL buffer */
	/* libopendkim's prototype lacks const; it does not write. */
	st = dkim_body(m->dkim, (u_char *) chunk, len);
	if (st != DKIM_STAT_OK)
		return signer_dkim_fail(m, "dkim_body", st);
	m->last = chunk[len - 1];
	return 0;
}

/*
 * signer_final_crlf - complete a last body line that lacks its CRLF.
 * libopendkim refuses such a body ("CRLF at end of body missing") unless
 * DKIM_LIBFLAGS_FIXCRLF, which would also turn bare CRs inside the body
 * into line ends and so hash something receivers do not; verifiers
 * treat a missing final CRLF as present (RFC 6376 3.4.3), as we do.
 */
static int
signer_final_crlf(struct signer_msg *m)
{
	if (m->last == -1 || m->last == '\n')
		return 0;
	if (m->last == '\r')
		return signer_body(m, (const unsigned char *) "\n", 1);
	return signer_body(m, (const unsigned char *) "\r\n", 2);
}

/* signer_finish - the end of the headers if need be, then sign */
static int
signer_finish(struct signer_msg *m, char **value)
{
	char why[sizeof(m->error)];

	if (m->state == SIGNER_HEADERS && signer_eoh(m) < 0)
		return -1;
	if (signer_usable(m, SIGNER_BODY, "signer_end") < 0)
		return -1;
	if (dkimsign_end(m->sign, value, why, sizeof(why)) < 0)
		return signer_fail(m, "%s", why);
	return 0;
}

/* signer_end - finish the message */
int
signer_end(struct signer_msg *m, char **value, char *why, size_t whylen)
{
	int rc;

	*value = NULL;
	if (m->sign == NULL)
		return util_why(why, whylen,
		                "signer_end called on a verifying handle");
	rc = signer_finish(m, value);
	if (rc < 0)
		util_why(why, whylen, "%s", m->error);
	if (m->state != SIGNER_FAILED)
		m->state = SIGNER_DONE;
	return rc;
}

/* signer_free - release a message handle */
void
signer_free(struct signer_msg *m)
{
	if (m == NULL)
		return;
	dkimsign_free(m->sign);
	if (m->dkim != NULL)
		dkim_free(m->dkim);
	free(m->buf);
	free(m);
}

/* signer_verify_begin - a verifying handle for one message */
struct signer_msg *
signer_verify_begin(struct signer *s, signer_key_fn lookup, void *arg,
                    char *why, size_t whylen)
{
	DKIM_STAT st = DKIM_STAT_OK;
	struct signer_msg *m;
	DKIM *dkim;
	char text[200];

	dkim = dkim_verify(s->lib, signer_id, NULL, &st);
	if (dkim == NULL) {
		signer_stat_text(NULL, st, text, sizeof(text));
		util_why(why, whylen, "dkim_verify: %s", text);
		return NULL;
	}
	m = signer_msg_new(s);
	m->dkim = dkim;
	m->lookup = lookup;
	m->lookup_arg = arg;
	/* The key-lookup hook finds its handle here. */
	(void) dkim_set_user_context(dkim, m);
	return m;
}

/* signer_lookup_of - what the lookup of a key found; NULL: not asked */
static const struct signer_lookup *
signer_lookup_of(const struct signer_msg *m, const struct signer_sig *sig)
{
	for (size_t i = 0; i < m->nlooked; i++)
		if (strcasecmp(m->looked[i].selector, sig->selector) == 0 &&
		    strcasecmp(m->looked[i].domain, sig->domain) == 0)
			return &m->looked[i];
	return NULL;
}

/*
 * signer_sig_key - a signature whose key lookup found no key: the
 * lookup's own outcome, which libopendkim only knows as "no key".
 * Returns 0 if the key was found (or never asked for).
 */
static int
signer_sig_key(const struct signer_msg *m, struct signer_sig *out)
{
	const struct signer_lookup *l = signer_lookup_of(m, out);
	static const char *const what[] = {
	    [SIGNER_KEY_NONE] = "no key record",
	    [SIGNER_KEY_TEMPFAIL] = "DNS failure",
	    [SIGNER_KEY_INVALID] = "unusable key record",
	};

	if (l == NULL || l->status == SIGNER_KEY_FOUND)
		return 0;
	out->result = l->status == SIGNER_KEY_TEMPFAIL ? SIGNER_TEMPERROR
	                                               : SIGNER_PERMERROR;
	snprintf(out->reason, sizeof(out->reason), "%s at %s._domainkey.%s%s%s",
	         what[l->status], out->selector, out->domain,
	         l->why[0] ? ": " : "", l->why);
	return 1;
}

/* signer_sig_result - pass, or what went wrong, for one signature */
static void
signer_sig_result(const struct signer_msg *m, DKIM_SIGINFO *sig,
                  struct signer_sig *out)
{
	unsigned flags = dkim_sig_getflags(sig);
	int err = dkim_sig_geterror(sig), bh = dkim_sig_getbh(sig);
	const char *text;

	out->body_ok = bh == DKIM_SIGBH_MATCH      ? 1
	               : bh == DKIM_SIGBH_MISMATCH ? 0
	                                           : -1;
	if ((flags & DKIM_SIGFLAG_PASSED) != 0 && bh == DKIM_SIGBH_MATCH) {
		out->result = SIGNER_PASS;
		return;
	}
	if (signer_sig_key(m, out))
		return;
	out->result = SIGNER_FAIL;
	if (bh == DKIM_SIGBH_MISMATCH) {
		util_strlcpy(out->reason,
		             "body hash mismatch: the body changed after "
		             "signing",
		             sizeof(out->reason));
	} else if (err == DKIM_SIGERROR_BADSIG ||
	           (flags & DKIM_SIGFLAG_PASSED) != 0) {
		util_strlcpy(out->reason,
		             "signature mismatch: a signed header field "
		             "changed after signing, or the published key "
		             "is not the signing key",
		             sizeof(out->reason));
	} else {
		out->result = SIGNER_PERMERROR;
		text = dkim_sig_geterrorstr((DKIM_SIGERROR) err);
		snprintf(out->reason, sizeof(out->reason), "%s",
		         text != NULL ? text : "signature not verified");
	}
}

/* signer_sig_describe - one signature's identity and result */
static void
signer_sig_describe(const struct signer_msg *m, DKIM_SIGINFO *sig,
                    struct signer_sig *out)
{
	const unsigned char *d = dkim_sig_getdomain(sig);
	const unsigned char *sel = dkim_sig_getselector(sig);
	const unsigned char *alg = dkim_sig_getalgorithm(sig);
	unsigned bits = 0;

	memset(out, 0, sizeof(*out));
	util_strlcpy(out->domain, d != NULL ? (const char *) d : "",
	             sizeof(out->domain));
	util_strlcpy(out->selector, sel != NULL ? (const char *) sel : "",
	             sizeof(out->selector));
	util_strlcpy(out->algorithm, alg != NULL ? (const char *) alg : "",
	             sizeof(out->algorithm));
	if (dkim_sig_getkeysize(sig, &bits) == DKIM_STAT_OK)
		out->key_bits = bits;
	signer_sig_result(m, sig, out);
}

/*
 * signer_verify_finish - the end of the message, then every signature.
 * eom's status is the library's summary of the signatures (no key, bad
 * signature, ...), which the list says better; only a failure to
 * process the message counts.
 */
static int
signer_verify_finish(struct signer_msg *m, struct signer_verdict *out)
{
	DKIM_SIGINFO **sigs = NULL;
	DKIM_STAT st;
	int n = 0;

	if (m->state == SIGNER_HEADERS && signer_eoh(m) < 0)
		return -1;
	if (signer_usable(m, SIGNER_BODY, "signer_verify_end") < 0)
		return -1;
	if (m->nosig)
		return 0;
	if (signer_final_crlf(m) < 0)
		return -1;
	st = dkim_eom(m->dkim, NULL);
	if (st == DKIM_STAT_INTERNAL || st == DKIM_STAT_NORESOURCE ||
	    st == DKIM_STAT_INVALID || st == DKIM_STAT_SYNTAX)
		return signer_dkim_fail(m, "dkim_eom", st);
	if (dkim_getsiglist(m->dkim, &sigs, &n) != DKIM_STAT_OK || n < 0)
		n = 0;
	out->nsigs = (size_t) n;
	out->n =
	    out->nsigs < SIGNER_VERIFY_MAX ? out->nsigs : SIGNER_VERIFY_MAX;
	for (size_t i = 0; i < out->n; i++)
		signer_sig_describe(m, sigs[i], &out->sig[i]);
	return 0;
}

/* signer_verify_end - finish verifying */
int
signer_verify_end(struct signer_msg *m, struct signer_verdict *out, char *why,
                  size_t whylen)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (m->sign != NULL)
		return util_why(why, whylen,
		                "signer_verify_end called on a signing handle");
	rc = signer_verify_finish(m, out);
	if (rc < 0)
		util_why(why, whylen, "%s", m->error);
	if (m->state != SIGNER_FAILED)
		m->state = SIGNER_DONE;
	return rc;
}

/* signer_result_name - RFC 8601's words */
const char *
signer_result_name(enum signer_result result)
{
	static const char *const names[] = {
	    [SIGNER_PASS] = "pass",
	    [SIGNER_FAIL] = "fail",
	    [SIGNER_TEMPERROR] = "temperror",
	    [SIGNER_PERMERROR] = "permerror",
	};

	return (unsigned) result <= SIGNER_PERMERROR ? names[result] : "?";
}
