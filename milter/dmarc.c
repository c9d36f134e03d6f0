/*
 * dmarc - DMARC policy discovery (RFC 7489 section 6.6.3) and alignment.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmarc.h"
#include "orgdomain.h"
#include "util.h"

/* "_dmarc." before a domain */
#define DMARC_PREFIX "_dmarc."
#define DMARC_PREFIX_LEN (sizeof(DMARC_PREFIX) - 1)

static void dmarc_vappend(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static void dmarc_append(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void dmarc_set(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* dmarc_vappend - append to a text, cutting what does not fit */
static void
dmarc_vappend(char *buf, size_t size, const char *fmt, va_list ap)
{
	size_t len = strlen(buf);

	if (len + 1 < size)
		vsnprintf(buf + len, size - len, fmt, ap);
}

/* dmarc_append - append to a human-readable text, cut when full */
static void
dmarc_append(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dmarc_vappend(buf, size, fmt, ap);
	va_end(ap);
}

/* dmarc_set - replace a human-readable text, cut when full */
static void
dmarc_set(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	buf[0] = '\0';
	va_start(ap, fmt);
	dmarc_vappend(buf, size, fmt, ap);
	va_end(ap);
}

/* dmarc_result_init - NONE, with a record of defaults and no TTL yet */
static void
dmarc_result_init(struct dmarc_result *out)
{
	memset(out, 0, sizeof(*out));
	out->state = DMARC_NONE;
	out->policy = DMARC_POLICY_NONE;
	out->ttl = UINT32_MAX;
	/* the empty text is NOT_DMARC with every default filled in */
	dmarc_record_parse("", 0, &out->record, NULL, 0);
}

/*
 * dmarc_scan - the DMARC records among the TXT records of an answer: the
 * first goes to out->record (its note or reason to why), a near miss
 * becomes a note in out->why.  Returns how many there are.
 */
static int
dmarc_scan(const struct dns_answer *ans, const char *name,
           struct dmarc_result *out, char *why, size_t whylen)
{
	struct dmarc_record rec;
	char rwhy[256];
	int n = 0;

	for (size_t i = 0; i < ans->nrr; i++) {
		size_t size = ans->rr[i].len + 1;
		char *text = xmalloc(size);
		long len = dns_rr_txt(&ans->rr[i], text, size);

		if (len >= 0 && dmarc_record_parse(text, (size_t) len, &rec,
		                                   rwhy, sizeof(rwhy)) !=
		                    DMARC_RECORD_NOT_DMARC) {
			if (n++ == 0) {
				out->record = rec;
				util_strlcpy(why, rwhy, whylen);
			}
		} else if (len >= 0 && rec.near_miss && out->why[0] == '\0') {
			dmarc_set(out->why, sizeof(out->why),
			          "TXT at %s ignored: %s", name, rwhy);
		}
		free(text);
	}
	return n;
}

/*
 * dmarc_at - the DMARC records at _dmarc.<domain>: NONE, FOUND, INVALID
 * (out->record_domain set) or TEMPERROR (out->why set).  The answer's
 * TTL joins out->ttl.
 */
static enum dmarc_state
dmarc_at(struct dns *dns, const char *domain, int64_t deadline_ms,
         struct dmarc_result *out)
{
	char name[DMARC_PREFIX_LEN + DOMAIN_SIZE], why[256] = "", before[256];
	struct dns_answer *ans;
	int n = 0;

	if (strlen(domain) + DMARC_PREFIX_LEN > DOMAIN_MAX)
		return DMARC_NONE; /* a name that long cannot exist */
	snprintf(name, sizeof(name), DMARC_PREFIX "%s", domain);
	ans = dns_query(dns, name, DNS_T_TXT, deadline_ms);
	if (ans->status == DNS_TEMPFAIL) {
		dmarc_set(out->why, sizeof(out->why), "%s: %s", name, ans->why);
		dns_answer_free(ans);
		return DMARC_TEMPERROR;
	}
	if (ans->ttl < out->ttl)
		out->ttl = ans->ttl;
	util_strlcpy(before, out->why, sizeof(before));
	if (ans->status == DNS_OK)
		n = dmarc_scan(ans, name, out, why, sizeof(why));
	dns_answer_free(ans);
	if (n == 0)
		return DMARC_NONE;
	/* a near miss beside the record found here is no news */
	util_strlcpy(out->why, before, sizeof(out->why));
	util_strlcpy(out->record_domain, domain, sizeof(out->record_domain));
	out->nrecords = n;
	if (n > 1) {
		dmarc_record_parse("", 0, &out->record, NULL, 0);
		dmarc_set(out->why, sizeof(out->why),
		          "%d DMARC records at %s: receivers apply no DMARC "
		          "policy (RFC 7489 6.6.3)",
		          n, name);
		return DMARC_INVALID;
	}
	if (why[0] != '\0' || out->record.status != DMARC_RECORD_OK)
		util_strlcpy(out->why, why, sizeof(out->why));
	return out->record.status == DMARC_RECORD_OK ? DMARC_FOUND
	                                             : DMARC_INVALID;
}

/* dmarc_lookup - policy discovery: the From domain, then its org domain */
int
dmarc_lookup(struct dns *dns, const char *from_domain, int64_t deadline_ms,
             struct dmarc_result *out)
{
	enum dmarc_state state;
	char why[200];

	dmarc_result_init(out);
	if (domain_normalize(from_domain, out->from_domain,
	                     sizeof(out->from_domain), why, sizeof(why)) < 0) {
		dmarc_set(out->why, sizeof(out->why), "From domain: %s", why);
		out->ttl = 0;
		return -1;
	}
	if (orgdomain_get(out->from_domain, out->org_domain,
	                  sizeof(out->org_domain)) < 0)
		util_strlcpy(out->org_domain, out->from_domain,
		             sizeof(out->org_domain));
	state = dmarc_at(dns, out->from_domain, deadline_ms, out);
	if (state == DMARC_NONE &&
	    strcmp(out->org_domain, out->from_domain) != 0) {
		state = dmarc_at(dns, out->org_domain, deadline_ms, out);
		out->at_org = state == DMARC_FOUND || state == DMARC_INVALID;
	}
	out->state = state;
	if (state == DMARC_FOUND)
		out->policy = out->at_org ? out->record.sp : out->record.p;
	if (state == DMARC_TEMPERROR || out->ttl == UINT32_MAX)
		out->ttl = 0;
	return 0;
}

/* dmarc_state_name - the state as a word */
const char *
dmarc_state_name(enum dmarc_state state)
{
	switch (state) {
	case DMARC_NONE:
		return "none";
	case DMARC_FOUND:
		return "found";
	case DMARC_INVALID:
		return "invalid";
	case DMARC_TEMPERROR:
		return "temperror";
	}
	return "?";
}

/*
 * dmarc_aligned - do two normalized names align in this mode?  The same
 * name aligns in both (RFC 7489 section 3.1), with no Public Suffix List
 * lookup: the common case, where From, MAIL FROM and d= all name the
 * customer's domain, costs a compare instead of four lookups a message.
 */
static int
dmarc_aligned(const char *a, const char *b, enum dmarc_mode mode)
{
	char oa[DOMAIN_SIZE], ob[DOMAIN_SIZE];

	if (strcmp(a, b) == 0)
		return 1;
	if (mode == DMARC_MODE_STRICT)
		return 0;
	return orgdomain_get(a, oa, sizeof(oa)) >= 0 &&
	       orgdomain_get(b, ob, sizeof(ob)) >= 0 && strcmp(oa, ob) == 0;
}

/* dmarc_name - normalize an optional name: 1 valid, 0 absent, -1 bad */
static int
dmarc_name(const char *in, char *out, size_t size)
{
	out[0] = '\0';
	if (in == NULL)
		return 0;
	if (domain_normalize(in, out, size, NULL, 0) < 0) {
		util_strlcpy(out, "(invalid)", size);
		return -1;
	}
	return 1;
}

/*
 * dmarc_found_text - the text of a FOUND result: policy, pct, where the
 * record is, and how the message aligns or why it does not.
 */
static void
dmarc_found_text(struct dmarc_alignment *out, const struct dmarc_result *res,
                 const char *dkim, const char *spf, const char *spf_fail)
{
	char *t = out->text;
	size_t size = sizeof(out->text);

	dmarc_set(t, size, "dmarc=%s", dmarc_record_policy_name(res->policy));
	if (res->record.pct < 100)
		dmarc_append(t, size, " pct=%d", res->record.pct);
	dmarc_append(t, size, " (");
	if (res->at_org)
		dmarc_append(t, size, "record at %s; ", res->record_domain);
	if (out->pass)
		dmarc_append(t, size, "aligned via %s",
		             out->dkim_aligned && out->spf_aligned
		                 ? "dkim and spf"
		             : out->dkim_aligned ? "dkim"
		                                 : "spf");
	else
		dmarc_append(t, size, "not aligned: dkim %s%s, spf %s%s",
		             dkim[0] != '\0' ? "d=" : "unsigned", dkim,
		             spf[0] != '\0' ? spf : "null sender", spf_fail);
	dmarc_append(t, size, ")");
}

/* dmarc_align - does a message align at receivers? */
void
dmarc_align(const char *from_domain, const char *dkim_d_domain,
            const char *spf_domain, int spf_passes,
            const struct dmarc_result *res, struct dmarc_alignment *out)
{
	char from[DOMAIN_SIZE], dkim[DOMAIN_SIZE], spf[DOMAIN_SIZE];
	int have_from = dmarc_name(from_domain, from, sizeof(from)) > 0;
	int have_dkim = dmarc_name(dkim_d_domain, dkim, sizeof(dkim)) > 0;
	int have_spf = dmarc_name(spf_domain, spf, sizeof(spf)) > 0;
	int spf_id;

	memset(out, 0, sizeof(*out));
	out->adkim = out->aspf = DMARC_MODE_RELAXED;
	if (res->state == DMARC_FOUND) {
		out->adkim = res->record.adkim;
		out->aspf = res->record.aspf;
	}
	out->dkim_aligned =
	    have_from && have_dkim && dmarc_aligned(from, dkim, out->adkim);
	spf_id = have_from && have_spf && dmarc_aligned(from, spf, out->aspf);
	out->spf_aligned = spf_id && spf_passes;
	out->pass = res->state == DMARC_FOUND &&
	            (out->dkim_aligned || out->spf_aligned);
	if (res->state == DMARC_FOUND)
		dmarc_found_text(out, res, dkim, spf,
		                 spf_id && !spf_passes ? " does not pass" : "");
	else if (res->state == DMARC_NONE)
		util_strlcpy(out->text, "dmarc=none (no record)",
		             sizeof(out->text));
	else
		dmarc_set(out->text, sizeof(out->text), "dmarc=%s (%s)",
		          dmarc_state_name(res->state), res->why);
}
