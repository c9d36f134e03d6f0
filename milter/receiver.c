/*
 * receiver - DKIM, SPF and DMARC of a message as a receiver judges it.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "receiver.h"
#include "util.h"

/* The key lookups of one message, for the hook and the report. */
struct receiver_lookups {
	const struct receiver_env *env;
	int64_t deadline_ms;
	size_t n;
	struct receiver_key key[SIGNER_VERIFY_MAX];
};

/* One header field, cut out of the message (copies). */
struct receiver_field {
	char *name;
	char *value; /* after the colon, leading space kept, folds "\n" as
	                the MTA passes them (signer.h, addr.h) */
};

/* receiver_dkim_name - RFC 8601's words */
const char *
receiver_dkim_name(enum receiver_dkim dkim)
{
	static const char *const names[] = {
	    [RECEIVER_DKIM_NONE] = "none",
	    [RECEIVER_DKIM_PASS] = "pass",
	    [RECEIVER_DKIM_FAIL] = "fail",
	    [RECEIVER_DKIM_TEMPERROR] = "temperror",
	    [RECEIVER_DKIM_PERMERROR] = "permerror",
	};

	return (unsigned) dkim <= RECEIVER_DKIM_PERMERROR ? names[dkim] : "?";
}

/* receiver_chain - "qname -> cname1 -> ..." if the answer had CNAMEs */
static void
receiver_chain(const struct dns_answer *a, char *buf, size_t size)
{
	buf[0] = '\0';
	if (a->ncnames == 0)
		return;
	util_catf(buf, size, "%s", a->qname);
	for (size_t i = 0; i < a->ncnames; i++)
		util_catf(buf, size, " -> %s", a->cnames[i]);
}

/* receiver_txt - the one TXT record of an OK answer into record */
static enum signer_key
receiver_txt(const struct dns_answer *a, char *record, size_t size, char *why,
             size_t whylen)
{
	if (a->nrr != 1) {
		snprintf(why, whylen, "%zu TXT records (RFC 6376 3.6.2.2: one)",
		         a->nrr);
		return SIGNER_KEY_INVALID;
	}
	if (dns_rr_txt(&a->rr[0], record, size) < 0) {
		snprintf(why, whylen,
		         "the TXT record is malformed or longer than %zu "
		         "bytes",
		         size - 1);
		return SIGNER_KEY_INVALID;
	}
	return SIGNER_KEY_FOUND;
}

/* receiver_answer - a key lookup's answer as a signer_key status */
static enum signer_key
receiver_answer(const struct dns_answer *a, char *record, size_t size,
                char *why, size_t whylen)
{
	switch (a->status) {
	case DNS_OK:
		return receiver_txt(a, record, size, why, whylen);
	case DNS_NXDOMAIN:
		snprintf(why, whylen, "%s does not exist (NXDOMAIN)",
		         a->canonname ? a->canonname : a->qname);
		return SIGNER_KEY_NONE;
	case DNS_NODATA:
		snprintf(why, whylen, "no TXT record at %s",
		         a->canonname ? a->canonname : a->qname);
		return SIGNER_KEY_NONE;
	default:
		snprintf(why, whylen, "%s", a->why);
		return SIGNER_KEY_TEMPFAIL;
	}
}

/*
 * receiver_key_lookup - the verify path's key lookup: TXT at
 * <selector>._domainkey.<domain> through our resolver.  The signature's
 * names come from the message, so they are checked before DNS sees them.
 */
static enum signer_key
receiver_key_lookup(void *arg, const char *selector, const char *domain,
                    char *record, size_t size, char *why, size_t whylen)
{
	struct receiver_lookups *l = arg;
	struct receiver_key k = {.status = SIGNER_KEY_INVALID};
	struct dns_answer *a;

	if ((size_t) snprintf(k.name, sizeof(k.name), "%s._domainkey.%s",
	                      selector, domain) >= sizeof(k.name) ||
	    domain_check(k.name, why, whylen) < 0) {
		util_strlcpy(k.found, "not a valid domain name",
		             sizeof(k.found));
		snprintf(why, whylen, "%s", k.found);
	} else {
		a = dns_query(l->env->dns, k.name, DNS_T_TXT, l->deadline_ms);
		receiver_chain(a, k.chain, sizeof(k.chain));
		k.status = receiver_answer(a, record, size, why, whylen);
		snprintf(k.found, sizeof(k.found), "%s",
		         k.status == SIGNER_KEY_FOUND ? record : why);
		dns_answer_free(a);
	}
	if (l->n < SIGNER_VERIFY_MAX)
		l->key[l->n++] = k;
	return k.status;
}

/* receiver_lf_copy - a copy of len bytes with every CRLF made LF */
static char *
receiver_lf_copy(const char *s, size_t len)
{
	char *out = xmalloc(len + 1);
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		if (!(s[i] == '\r' && i + 1 < len && s[i + 1] == '\n'))
			out[n++] = s[i];
	out[n] = '\0';
	return out;
}

/*
 * receiver_next_field - cut the field at *p (up to end) into f; *p moves
 * past it.  Returns 0, or -1 at the end of the header (the empty line,
 * or the end of the message).
 */
static int
receiver_next_field(const char **p, const char *end, struct receiver_field *f)
{
	const char *s = *p, *e = s, *colon;

	if (s >= end || (end - s >= 2 && s[0] == '\r' && s[1] == '\n'))
		return -1;
	for (;;) {
		const char *nl = memchr(e, '\n', (size_t) (end - e));

		e = nl != NULL ? nl + 1 : end;
		if (e >= end || (*e != ' ' && *e != '\t'))
			break;
	}
	*p = e;
	while (e > s && (e[-1] == '\n' || e[-1] == '\r'))
		e--;
	colon = memchr(s, ':', (size_t) (e - s));
	if (colon == NULL)
		colon = e; /* no colon: a nameless field, kept as is */
	f->name = xstrndup(s, (size_t) (colon - s));
	s = colon < e ? colon + 1 : e;
	f->value = receiver_lf_copy(s, (size_t) (e - s));
	return 0;
}

/* receiver_from - the From domain (one From field naming one domain) */
static void
receiver_from(struct receiver_result *out, const char *value, int nth)
{
	struct addr_from from;

	if (nth > 1) {
		out->from_domain[0] = '\0';
		snprintf(out->from_why, sizeof(out->from_why), "%d From fields",
		         nth);
		return;
	}
	if (addr_header_from(value, &from, out->from_why,
	                     sizeof(out->from_why)) != ADDR_OK)
		return;
	if (from.ndomains > 1) {
		snprintf(out->from_why, sizeof(out->from_why),
		         "From names %d domains", from.ndomains);
		return;
	}
	util_strlcpy(out->from_domain, from.domain, sizeof(out->from_domain));
}

/*
 * receiver_headers - every field into the verifier, the From field
 * looked at; *body is left at the body.  -1 if the verifier failed.
 */
static int
receiver_headers(struct signer_msg *vm, const char *message, size_t len,
                 struct receiver_result *out, const char **body)
{
	const char *p = message, *end = message + len;
	struct receiver_field f;
	int froms = 0, rc = 0;

	while (rc == 0 && receiver_next_field(&p, end, &f) == 0) {
		if (strcasecmp(f.name, "From") == 0)
			receiver_from(out, f.value, ++froms);
		rc = signer_header(vm, f.name, f.value);
		free(f.name);
		free(f.value);
	}
	if (froms == 0)
		util_strlcpy(out->from_why, "no From field",
		             sizeof(out->from_why));
	*body = end - p >= 2 ? p + 2 : end; /* past the empty line */
	return rc;
}

/* receiver_dkim_overall - the message's result from its signatures */
static enum receiver_dkim
receiver_dkim_overall(const struct signer_verdict *v)
{
	static const enum receiver_dkim map[] = {
	    [SIGNER_PASS] = RECEIVER_DKIM_PASS,
	    [SIGNER_FAIL] = RECEIVER_DKIM_FAIL,
	    [SIGNER_TEMPERROR] = RECEIVER_DKIM_TEMPERROR,
	    [SIGNER_PERMERROR] = RECEIVER_DKIM_PERMERROR,
	};
	/* Best first: a pass anywhere passes, DNS trouble may yet pass. */
	static const enum signer_result order[] = {
	    SIGNER_PASS, SIGNER_TEMPERROR, SIGNER_FAIL, SIGNER_PERMERROR};

	for (size_t o = 0; o < sizeof(order) / sizeof(order[0]); o++)
		for (size_t i = 0; i < v->n; i++)
			if (v->sig[i].result == order[o])
				return map[order[o]];
	return RECEIVER_DKIM_NONE;
}

/* receiver_keys - each reported signature's key lookup, by s= and d= */
static void
receiver_keys(const struct receiver_lookups *l, struct receiver_result *out)
{
	for (size_t i = 0; i < out->sigs.n; i++) {
		const struct signer_sig *s = &out->sigs.sig[i];
		char name[DOMAIN_SIZE * 2];

		snprintf(name, sizeof(name), "%s._domainkey.%s", s->selector,
		         s->domain);
		for (size_t j = 0; j < l->n; j++)
			if (strcasecmp(l->key[j].name, name) == 0)
				out->key[i] = l->key[j];
		if (out->key[i].name[0] == '\0')
			util_strlcpy(out->key[i].name, name,
			             sizeof(out->key[i].name));
	}
}

/* receiver_dkim - verify every signature; -1 if the message is unusable */
static int
receiver_dkim(const struct receiver_env *env, const char *message, size_t len,
              int64_t deadline_ms, struct receiver_result *out)
{
	struct receiver_lookups *l = xcalloc(1, sizeof(*l));
	struct signer_msg *vm;
	const char *body;
	int rc = -1;

	l->env = env;
	l->deadline_ms = deadline_ms;
	vm = signer_verify_begin(env->signer, receiver_key_lookup, l,
	                         out->dkim_why, sizeof(out->dkim_why));
	if (vm != NULL && receiver_headers(vm, message, len, out, &body) == 0 &&
	    signer_eoh(vm) == 0 &&
	    signer_body(vm, (const unsigned char *) body,
	                (size_t) (message + len - body)) == 0)
		rc = 0;
	if (vm != NULL && signer_verify_end(vm, &out->sigs, out->dkim_why,
	                                    sizeof(out->dkim_why)) < 0)
		rc = -1;
	signer_free(vm);
	out->dkim = receiver_dkim_overall(&out->sigs);
	receiver_keys(l, out);
	free(l);
	return rc;
}

/* receiver_spf_none - SPF without a domain to check */
static void
receiver_spf_none(struct receiver_result *out, const char *text)
{
	out->spf.result = SPF_CHECK_NONE;
	out->spf.reason = SPF_CHECK_R_BAD_DOMAIN;
	snprintf(out->spf.summary, sizeof(out->spf.summary), "spf=none (%s)",
	         text);
}

/* receiver_spf - check_host() for the sender from every relay address */
static void
receiver_spf(const struct receiver_env *env, const char *mail_from,
             int64_t deadline_ms, struct receiver_result *out)
{
	const char *addrs[RELAY_MAX];
	struct spf_check_eval *ev;
	char why[256] = "";

	if (addr_envelope(mail_from, out->mail_from_domain, why, sizeof(why)) !=
	    ADDR_OK) {
		receiver_spf_none(out, mail_from[0] ? why : "null sender");
		return;
	}
	out->relay_ok = relay_addresses(env->dns, env->cfg, deadline_ms,
	                                &out->relay, why, sizeof(why)) == 0;
	if (!out->relay_ok) {
		util_strlcpy(out->spf.domain, out->mail_from_domain,
		             sizeof(out->spf.domain));
		out->spf.result = SPF_CHECK_TEMPERROR;
		out->spf.reason = SPF_CHECK_R_DNS;
		snprintf(out->spf.summary, sizeof(out->spf.summary),
		         "spf=temperror (the relay's addresses: %s)", why);
		return;
	}
	ev = xcalloc(out->relay.n, sizeof(*ev));
	for (size_t i = 0; i < out->relay.n; i++) {
		addrs[i] = out->relay.addr[i];
		(void) spf_check_eval(env->spf, addrs[i], mail_from,
		                      out->mail_from_domain, deadline_ms,
		                      &ev[i]);
	}
	spf_check_combine(out->mail_from_domain, env->cfg->relay_spf_include,
	                  addrs, ev, out->relay.n, &out->spf);
	free(ev);
}

/*
 * receiver_dmarc - the From domain's policy and the alignment: DKIM
 * aligns through any passing signature whose d= aligns.
 */
static void
receiver_dmarc(const struct receiver_env *env, int64_t deadline_ms,
               struct receiver_result *out)
{
	int spf_pass = out->spf.result == SPF_CHECK_PASS;
	const char *spf_domain =
	    out->mail_from_domain[0] ? out->mail_from_domain : NULL;

	if (out->from_domain[0] == '\0' ||
	    dmarc_lookup(env->dns, out->from_domain, deadline_ms, &out->dmarc) <
	        0) {
		out->dmarc.state = DMARC_NONE;
		util_strlcpy(out->dmarc.why, out->from_why,
		             sizeof(out->dmarc.why));
	}
	dmarc_align(out->from_domain, NULL, spf_domain, spf_pass, &out->dmarc,
	            &out->align);
	for (size_t i = 0; i < out->sigs.n && !out->align.dkim_aligned; i++) {
		if (out->sigs.sig[i].result != SIGNER_PASS)
			continue;
		dmarc_align(out->from_domain, out->sigs.sig[i].domain,
		            spf_domain, spf_pass, &out->dmarc, &out->align);
		util_strlcpy(out->aligned_d, out->sigs.sig[i].domain,
		             sizeof(out->aligned_d));
	}
}

/* receiver_judge - DKIM, then SPF, then DMARC */
int
receiver_judge(const struct receiver_env *env, const char *message, size_t len,
               const char *mail_from, int64_t deadline_ms,
               struct receiver_result *out, char *why, size_t whylen)
{
	memset(out, 0, sizeof(*out));
	if (receiver_dkim(env, message, len, deadline_ms, out) < 0)
		return util_why(why, whylen,
		                "the message cannot be verified: %s",
		                out->dkim_why);
	receiver_spf(env, mail_from, deadline_ms, out);
	receiver_dmarc(env, deadline_ms, out);
	return 0;
}
