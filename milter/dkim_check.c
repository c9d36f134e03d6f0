/*
 * dkim_check - selector delegation (customer side), key publication
 * (provider side) and the choice of the signing selector.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dkim_check.h"
#include "dkim_record.h"
#include "util.h"

/* Longest record text read: an RSA-4096 key record is about 800 bytes. */
#define DKIM_CHECK_TXT_MAX 4096

/* The RCODE a resolver answers a CNAME loop with. */
#define DKIM_CHECK_SERVFAIL 2

/* What the TXT record at the end of a chain holds, against our key. */
enum dkim_check_rec {
	DKIM_CHECK_REC_OURS,
	DKIM_CHECK_REC_OTHER,
	DKIM_CHECK_REC_REVOKED,
	DKIM_CHECK_REC_MALFORMED,
};

struct dkim_check_rec_info {
	enum dkim_check_rec kind;
	unsigned warn; /* DKIM_CHECK_WARN_* */
	char fingerprint[DKIM_CHECK_FP_SIZE];
	char why[DKIM_CHECK_TEXT / 2];
};

static const char *const dkim_check_state_names[] = {
    [DKIM_CHECK_DELEGATED] = "delegated",
    [DKIM_CHECK_TARGET_MISSING] = "delegated_target_missing",
    [DKIM_CHECK_COPIED] = "copied",
    [DKIM_CHECK_WRONG_TARGET] = "wrong_target",
    [DKIM_CHECK_KEY_MISMATCH] = "key_mismatch",
    [DKIM_CHECK_MISSING] = "missing",
    [DKIM_CHECK_DANGLING] = "dangling",
    [DKIM_CHECK_CNAME_LOOP] = "cname_loop",
    [DKIM_CHECK_REVOKED] = "revoked",
    [DKIM_CHECK_MALFORMED] = "malformed",
    [DKIM_CHECK_TEMPERROR] = "temperror",
};

static const char *const dkim_check_fix_names[] = {
    [DKIM_CHECK_FIX_NONE] = "none",
    [DKIM_CHECK_FIX_CUSTOMER] = "customer",
    [DKIM_CHECK_FIX_PROVIDER] = "provider",
    [DKIM_CHECK_FIX_RETRY] = "retry",
};

static const char *const dkim_check_overall_names[] = {
    [DKIM_CHECK_OK] = "ok",
    [DKIM_CHECK_WARN] = "warn",
    [DKIM_CHECK_FAIL] = "fail",
    [DKIM_CHECK_TEMPORARY] = "temperror",
};

static const char *const dkim_check_pub_names[] = {
    [DKIM_CHECK_PUB_PUBLISHED] = "published",
    [DKIM_CHECK_PUB_NOT_PUBLISHED] = "not_published",
    [DKIM_CHECK_PUB_OTHER_KEY] = "other_key",
    [DKIM_CHECK_PUB_MALFORMED] = "malformed",
    [DKIM_CHECK_PUB_TEMPERROR] = "temperror",
};

static const char *const dkim_check_sign_names[] = {
    [DKIM_CHECK_SIGN_ACTIVE] = "active",
    [DKIM_CHECK_SIGN_FALLBACK] = "fallback",
    [DKIM_CHECK_SIGN_UNVERIFIED] = "unverified",
    [DKIM_CHECK_SIGN_NONE] = "none",
};

/* dkim_check_state_name - reason code of a customer-side state */
const char *
dkim_check_state_name(enum dkim_check_state state)
{
	return dkim_check_state_names[state];
}

/* dkim_check_fix_name - who must act, as a word */
const char *
dkim_check_fix_name(enum dkim_check_fix fix)
{
	return dkim_check_fix_names[fix];
}

/* dkim_check_overall_name - the domain's combined state, as a word */
const char *
dkim_check_overall_name(enum dkim_check_overall overall)
{
	return dkim_check_overall_names[overall];
}

/* dkim_check_pub_state_name - reason code of a provider-side state */
const char *
dkim_check_pub_state_name(enum dkim_check_pub_state state)
{
	return dkim_check_pub_names[state];
}

/* dkim_check_sign_name - how the signing selector was chosen */
const char *
dkim_check_sign_name(enum dkim_check_sign how)
{
	return dkim_check_sign_names[how];
}

/*
 * dkim_check_fmt - format into a text field.  A helper rather than
 * snprintf() at each site: truncating a long name is fine here.
 */
static void dkim_check_fmt(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
dkim_check_fmt(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

/* dkim_check_name_copy - a DNS name as we show it: lower case, no dot */
static void
dkim_check_name_copy(char *dst, const char *src)
{
	size_t n = util_strlcpy(dst, src, DOMAIN_SIZE);

	if (n >= DOMAIN_SIZE)
		n = DOMAIN_SIZE - 1;
	if (n > 1 && dst[n - 1] == '.')
		dst[n - 1] = '\0';
	util_lower(dst);
}

/* dkim_check_name_eq - equal as DNS names (case and final dot aside) */
static int
dkim_check_name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 1 && a[la - 1] == '.')
		la--;
	if (lb > 1 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* dkim_check_target - the configured target, normalized if it can be */
static void
dkim_check_target(const struct config_selector *sel, char *out)
{
	if (domain_normalize(sel->target, out, DOMAIN_SIZE, NULL, 0) < 0)
		dkim_check_name_copy(out, sel->target);
}

/*
 * dkim_check_fp_from_why - the fingerprint keys_compare() names in its
 * reason for another key.  keys.h has no function for the fingerprint
 * of a published key, and only keys.c may use OpenSSL.
 */
static void
dkim_check_fp_from_why(const char *why, char *out)
{
	const char *p = strstr(why, "SHA256:");
	size_t n;

	out[0] = '\0';
	if (p == NULL)
		return;
	n = strspn(p + 7, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                  "0123456789+/");
	if (n > 0 && 7 + n < DKIM_CHECK_FP_SIZE)
		dkim_check_fmt(out, DKIM_CHECK_FP_SIZE, "%.*s", (int) (7 + n),
		               p);
}

/* dkim_check_match - keys_compare() of a parsed record, into ri */
static void
dkim_check_match(const struct dkim_record *rec, const struct keys_key *key,
                 struct dkim_check_rec_info *ri)
{
	unsigned warn = 0;

	switch (keys_compare(key, rec->key_type, rec->key, rec->key_len, &warn,
	                     ri->why, sizeof(ri->why))) {
	case KEYS_MATCH:
		ri->kind = DKIM_CHECK_REC_OURS;
		util_strlcpy(ri->fingerprint, keys_fingerprint(key),
		             sizeof(ri->fingerprint));
		if (warn & KEYS_WARN_PKCS1)
			ri->warn |= DKIM_CHECK_WARN_PKCS1;
		if (rec->flags & DKIM_RECORD_FLAG_TESTING)
			ri->warn |= DKIM_CHECK_WARN_TESTING;
		break;
	case KEYS_MISMATCH:
		ri->kind = DKIM_CHECK_REC_OTHER;
		dkim_check_fp_from_why(ri->why, ri->fingerprint);
		break;
	case KEYS_MALFORMED:
		ri->kind = DKIM_CHECK_REC_MALFORMED;
		break;
	}
}

/*
 * dkim_check_record - judge the TXT records of an answer against our
 * key: exactly one record, valid text, a key record, our key.
 */
static void
dkim_check_record(const struct dns_answer *a, const struct keys_key *key,
                  struct dkim_check_rec_info *ri)
{
	char text[DKIM_CHECK_TXT_MAX];
	struct dkim_record rec;
	long len;

	memset(ri, 0, sizeof(*ri));
	ri->kind = DKIM_CHECK_REC_MALFORMED;
	if (a->nrr != 1) {
		dkim_check_fmt(ri->why, sizeof(ri->why),
		               "%zu TXT records; receivers need exactly one",
		               a->nrr);
		return;
	}
	len = dns_rr_txt(&a->rr[0], text, sizeof(text));
	if (len < 0) {
		dkim_check_fmt(ri->why, sizeof(ri->why),
		               "the TXT record is not text of at most %d bytes",
		               DKIM_CHECK_TXT_MAX - 1);
		return;
	}
	switch (dkim_record_parse(text, (size_t) len, &rec, ri->why,
	                          sizeof(ri->why))) {
	case DKIM_RECORD_REVOKED:
		ri->kind = DKIM_CHECK_REC_REVOKED;
		return;
	case DKIM_RECORD_MALFORMED:
		return;
	case DKIM_RECORD_OK:
		break;
	}
	dkim_check_match(&rec, key, ri);
}

/* dkim_check_warn_text - the warnings of a matching key, for "found" */
static void
dkim_check_warn_text(unsigned warn, char *buf, size_t size)
{
	if (warn & DKIM_CHECK_WARN_PKCS1)
		util_catf(buf, size,
		          "; warning: p= is a bare PKCS#1 RSAPublicKey, "
		          "which OpenDKIM-based receivers reject: publish "
		          "the SubjectPublicKeyInfo");
	if (warn & DKIM_CHECK_WARN_TESTING)
		util_catf(buf, size,
		          "; warning: t=y (testing): receivers may ignore "
		          "the signatures");
}

/* dkim_check_rec_text - what a judged record is, as a phrase */
static void
dkim_check_rec_text(const struct dkim_check_rec_info *ri, char *buf,
                    size_t size)
{
	switch (ri->kind) {
	case DKIM_CHECK_REC_OURS:
		util_catf(buf, size, "our key %s", ri->fingerprint);
		dkim_check_warn_text(ri->warn, buf, size);
		break;
	case DKIM_CHECK_REC_OTHER:
		util_catf(buf, size, "a key that is not ours: %s", ri->why);
		break;
	case DKIM_CHECK_REC_REVOKED:
		util_catf(buf, size, "a revoked key (empty p=)");
		break;
	case DKIM_CHECK_REC_MALFORMED:
		util_catf(buf, size, "no usable key record: %s", ri->why);
		break;
	}
}

/*
 * dkim_check_begin - reset out and fill in the names and the
 * expectation.  -1 if domain or the selector name is invalid.
 */
static int
dkim_check_begin(const char *domain, const struct config_selector *sel,
                 struct dkim_check_result *out)
{
	char dom[DOMAIN_SIZE], why[256], *raw;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	dkim_check_name_copy(out->selector, sel->name);
	dkim_check_target(sel, out->target);
	raw = xasprintf("%s._domainkey.%s", sel->name, domain);
	if (domain_normalize(domain, dom, sizeof(dom), why, sizeof(why)) < 0 ||
	    domain_normalize(raw, out->name, sizeof(out->name), why,
	                     sizeof(why)) < 0) {
		dkim_check_fmt(out->name, sizeof(out->name), "%s", raw);
		out->state = DKIM_CHECK_MISSING;
		out->fix = DKIM_CHECK_FIX_CUSTOMER;
		dkim_check_fmt(out->found, sizeof(out->found),
		               "not a valid domain name: %s", why);
		dkim_check_fmt(out->reason, sizeof(out->reason),
		               "dkim=missing (invalid name %s)", raw);
		rc = -1;
	}
	dkim_check_fmt(out->expected, sizeof(out->expected), "%s CNAME %s.",
	               out->name, out->target);
	free(raw);
	return rc;
}

/* dkim_check_seen - is name already the start or a link of the chain? */
static int
dkim_check_seen(const struct dkim_check_result *out, const char *name)
{
	if (dkim_check_name_eq(out->name, name))
		return 1;
	for (size_t i = 0; i < out->nchain; i++)
		if (dkim_check_name_eq(out->chain[i], name))
			return 1;
	return 0;
}

/*
 * dkim_check_push - append a link to the chain.  Returns 1 if it closes
 * a loop or does not fit (the chain is then a loop), else 0.
 */
static int
dkim_check_push(struct dkim_check_result *out, const char *name)
{
	int seen = dkim_check_seen(out, name);

	if (out->nchain == DKIM_CHECK_CHAIN_MAX)
		return 1;
	dkim_check_name_copy(out->chain[out->nchain++], name);
	return seen;
}

/* dkim_check_take_chain - the answer's chain; 1 if it loops */
static int
dkim_check_take_chain(struct dkim_check_result *out, const struct dns_answer *a)
{
	for (size_t i = 0; i < a->ncnames; i++)
		if (dkim_check_push(out, a->cnames[i]))
			return 1;
	return 0;
}

/* dkim_check_end - the last name of the chain (the name if none) */
static const char *
dkim_check_end(const struct dkim_check_result *out)
{
	return out->nchain > 0 ? out->chain[out->nchain - 1] : out->name;
}

/* dkim_check_via_target - does the chain reach the configured target? */
static int
dkim_check_via_target(const struct dkim_check_result *out)
{
	for (size_t i = 0; i < out->nchain; i++)
		if (dkim_check_name_eq(out->chain[i], out->target))
			return 1;
	return 0;
}

/* dkim_check_chain_text - "a -> b -> c", appended to buf */
static void
dkim_check_chain_text(const struct dkim_check_result *out, char *buf,
                      size_t size)
{
	util_catf(buf, size, "%s", out->name);
	for (size_t i = 0; i < out->nchain; i++)
		util_catf(buf, size, " -> %s", out->chain[i]);
}

/* dkim_check_set - state, party and the start of the reason */
static void
dkim_check_set(struct dkim_check_result *out, enum dkim_check_state state,
               enum dkim_check_fix fix)
{
	out->state = state;
	out->fix = fix;
	out->found[0] = '\0';
	dkim_check_fmt(out->reason, sizeof(out->reason), "dkim=%s (",
	               dkim_check_state_name(state));
}

/* dkim_check_close - end the reason started by dkim_check_set() */
static void
dkim_check_close(struct dkim_check_result *out)
{
	util_catf(out->reason, sizeof(out->reason), ")");
}

/*
 * dkim_check_closes - does the last link repeat an earlier name?  If
 * not, the chain was cut at DKIM_CHECK_CHAIN_MAX links.
 */
static int
dkim_check_closes(const struct dkim_check_result *out)
{
	const char *last = dkim_check_end(out);

	if (out->nchain == 0)
		return 0;
	if (dkim_check_name_eq(out->name, last))
		return 1;
	for (size_t i = 0; i + 1 < out->nchain; i++)
		if (dkim_check_name_eq(out->chain[i], last))
			return 1;
	return 0;
}

/* dkim_check_loop - the chain never ends */
static void
dkim_check_loop(struct dkim_check_result *out, uint32_t ttl)
{
	int cut = !dkim_check_closes(out);

	dkim_check_set(out, DKIM_CHECK_CNAME_LOOP,
	               dkim_check_via_target(out) ? DKIM_CHECK_FIX_PROVIDER
	                                          : DKIM_CHECK_FIX_CUSTOMER);
	out->ttl = ttl;
	dkim_check_fmt(out->found, sizeof(out->found),
	               "%s: ", cut ? "CNAME chain without end" : "CNAME loop");
	dkim_check_chain_text(out, out->found, sizeof(out->found));
	if (cut)
		util_catf(out->found, sizeof(out->found), " -> ...");
	dkim_check_chain_text(out, out->reason, sizeof(out->reason));
	dkim_check_close(out);
}

/* dkim_check_temperror - no reliable answer now */
static void
dkim_check_temperror(struct dkim_check_result *out, const char *why)
{
	const char *w = why[0] != '\0' ? why : "no answer";

	dkim_check_set(out, DKIM_CHECK_TEMPERROR, DKIM_CHECK_FIX_RETRY);
	out->ttl = 0;
	if (out->nchain > 0) {
		util_catf(out->found, sizeof(out->found), "CNAME chain ");
		dkim_check_chain_text(out, out->found, sizeof(out->found));
		util_catf(out->found, sizeof(out->found), ", then ");
	}
	util_catf(out->found, sizeof(out->found), "DNS failure: %s", w);
	util_catf(out->reason, sizeof(out->reason), "%s: %s", out->name, w);
	dkim_check_close(out);
}

/* dkim_check_negative_what - NXDOMAIN/NODATA in words */
static const char *
dkim_check_negative_what(const struct dns_answer *a)
{
	return a->status == DNS_NXDOMAIN ? "does not exist (NXDOMAIN)"
	                                 : "has no TXT record (NODATA)";
}

/*
 * dkim_check_negative - NXDOMAIN or NODATA: missing, dangling, or our
 * target is empty (the provider's problem).
 */
static void
dkim_check_negative(struct dkim_check_result *out, const struct dns_answer *a)
{
	const char *code = a->status == DNS_NXDOMAIN ? "NXDOMAIN" : "NODATA";

	if (out->nchain == 0) {
		dkim_check_set(out, DKIM_CHECK_MISSING,
		               DKIM_CHECK_FIX_CUSTOMER);
		dkim_check_fmt(out->found, sizeof(out->found), "%s %s",
		               out->name, dkim_check_negative_what(a));
		util_catf(out->reason, sizeof(out->reason), "%s", out->name);
	} else {
		int ours = dkim_check_via_target(out);

		dkim_check_set(
		    out, ours ? DKIM_CHECK_TARGET_MISSING : DKIM_CHECK_DANGLING,
		    ours ? DKIM_CHECK_FIX_PROVIDER : DKIM_CHECK_FIX_CUSTOMER);
		util_catf(out->found, sizeof(out->found), "CNAME chain ");
		dkim_check_chain_text(out, out->found, sizeof(out->found));
		util_catf(out->found, sizeof(out->found), "; %s %s",
		          dkim_check_end(out), dkim_check_negative_what(a));
		if (ours)
			util_catf(out->reason, sizeof(out->reason), "%s",
			          dkim_check_end(out));
		else
			dkim_check_chain_text(out, out->reason,
			                      sizeof(out->reason));
		util_catf(out->reason, sizeof(out->reason), ": %s", code);
	}
	out->ttl = a->ttl;
	dkim_check_close(out);
}

/* dkim_check_direct - a TXT record at the selector name, no CNAME */
static void
dkim_check_direct(struct dkim_check_result *out,
                  const struct dkim_check_rec_info *ri)
{
	static const enum dkim_check_state states[] = {
	    [DKIM_CHECK_REC_OURS] = DKIM_CHECK_COPIED,
	    [DKIM_CHECK_REC_OTHER] = DKIM_CHECK_KEY_MISMATCH,
	    [DKIM_CHECK_REC_REVOKED] = DKIM_CHECK_REVOKED,
	    [DKIM_CHECK_REC_MALFORMED] = DKIM_CHECK_MALFORMED,
	};

	dkim_check_set(out, states[ri->kind], DKIM_CHECK_FIX_CUSTOMER);
	dkim_check_fmt(out->found, sizeof(out->found), "no CNAME; %s has ",
	               out->name);
	dkim_check_rec_text(ri, out->found, sizeof(out->found));
	util_catf(out->reason, sizeof(out->reason), "%s", out->name);
	if (ri->kind == DKIM_CHECK_REC_OURS)
		util_catf(out->reason, sizeof(out->reason),
		          ": a copy of the key, not a CNAME to %s",
		          out->target);
	else if (ri->kind == DKIM_CHECK_REC_OTHER && ri->fingerprint[0])
		util_catf(out->reason, sizeof(out->reason), ": %s",
		          ri->fingerprint);
	else if (ri->kind == DKIM_CHECK_REC_MALFORMED)
		util_catf(out->reason, sizeof(out->reason), ": %s", ri->why);
	dkim_check_close(out);
}

/*
 * dkim_check_via - the chain reaches our target: delegated if our key
 * is there; anything else at the target is the provider's to fix.
 */
static void
dkim_check_via(struct dkim_check_result *out,
               const struct dkim_check_rec_info *ri)
{
	static const enum dkim_check_state states[] = {
	    [DKIM_CHECK_REC_OURS] = DKIM_CHECK_DELEGATED,
	    [DKIM_CHECK_REC_OTHER] = DKIM_CHECK_KEY_MISMATCH,
	    [DKIM_CHECK_REC_REVOKED] = DKIM_CHECK_REVOKED,
	    [DKIM_CHECK_REC_MALFORMED] = DKIM_CHECK_MALFORMED,
	};
	int ok = ri->kind == DKIM_CHECK_REC_OURS && ri->warn == 0;
	const char *detail =
	    ri->kind == DKIM_CHECK_REC_MALFORMED ? ri->why : ri->fingerprint;

	dkim_check_set(out, states[ri->kind],
	               ok ? DKIM_CHECK_FIX_NONE : DKIM_CHECK_FIX_PROVIDER);
	util_catf(out->found, sizeof(out->found), "CNAME chain ");
	dkim_check_chain_text(out, out->found, sizeof(out->found));
	util_catf(out->found, sizeof(out->found), "; %s has ",
	          dkim_check_end(out));
	dkim_check_rec_text(ri, out->found, sizeof(out->found));
	if (ri->kind == DKIM_CHECK_REC_OURS)
		dkim_check_chain_text(out, out->reason, sizeof(out->reason));
	else
		util_catf(out->reason, sizeof(out->reason), "%s%s%s",
		          dkim_check_end(out), detail[0] != '\0' ? ": " : "",
		          detail);
	dkim_check_close(out);
}

/* dkim_check_wrong - the chain ends at a name that is not our target */
static void
dkim_check_wrong(struct dkim_check_result *out,
                 const struct dkim_check_rec_info *ri)
{
	dkim_check_set(out, DKIM_CHECK_WRONG_TARGET, DKIM_CHECK_FIX_CUSTOMER);
	util_catf(out->found, sizeof(out->found), "CNAME chain ");
	dkim_check_chain_text(out, out->found, sizeof(out->found));
	util_catf(out->found, sizeof(out->found), "; %s has ",
	          dkim_check_end(out));
	dkim_check_rec_text(ri, out->found, sizeof(out->found));
	if (ri->kind == DKIM_CHECK_REC_OURS)
		util_catf(out->found, sizeof(out->found),
		          " (verifies until the next key rotation)");
	util_catf(out->reason, sizeof(out->reason), "%s -> %s, not %s",
	          out->name, dkim_check_end(out), out->target);
	dkim_check_close(out);
}

/* dkim_check_answer - TXT records found at the end of the chain */
static void
dkim_check_answer(struct dkim_check_result *out, const struct dns_answer *a,
                  const struct keys_key *key)
{
	struct dkim_check_rec_info ri;

	dkim_check_record(a, key, &ri);
	out->usable = ri.kind == DKIM_CHECK_REC_OURS;
	out->warn = ri.warn;
	util_strlcpy(out->fingerprint, ri.fingerprint,
	             sizeof(out->fingerprint));
	if (out->nchain == 0)
		dkim_check_direct(out, &ri);
	else if (dkim_check_via_target(out))
		dkim_check_via(out, &ri);
	else
		dkim_check_wrong(out, &ri);
	out->ttl = a->ttl;
}

/*
 * dkim_check_hop - one CNAME question's answer: 1 and the target in
 * next, 0 if the name is no CNAME, -1 on failure.
 */
static int
dkim_check_hop(const struct dns_answer *a, char *next)
{
	if (a->status == DNS_TEMPFAIL)
		return -1;
	if (a->status != DNS_OK || a->nrr == 0)
		return 0;
	return dns_rr_name(&a->rr[0], DNS_T_CNAME, next, DOMAIN_SIZE) < 0 ? -1
	                                                                  : 1;
}

/*
 * dkim_check_walk - follow the chain from out->name with CNAME
 * questions, which a resolver answers without chasing.  Returns 1 if it
 * loops (out->chain shows it), 0 if it ends, -1 on a DNS failure.
 */
static int
dkim_check_walk(struct dns *dns, struct dkim_check_result *out,
                int64_t deadline_ms, uint32_t *ttl)
{
	char cur[DOMAIN_SIZE], next[DOMAIN_SIZE];

	util_strlcpy(cur, out->name, sizeof(cur));
	out->nchain = 0;
	*ttl = UINT32_MAX;
	for (;;) {
		struct dns_answer *a =
		    dns_query(dns, cur, DNS_T_CNAME, deadline_ms);
		int rc = dkim_check_hop(a, next);

		if (rc > 0 && a->ttl < *ttl)
			*ttl = a->ttl;
		dns_answer_free(a);
		if (rc <= 0)
			return rc;
		if (dkim_check_push(out, next))
			return 1;
		util_strlcpy(cur, next, sizeof(cur));
	}
}

/*
 * dkim_check_failed - the TXT question failed.  A resolver answers a
 * CNAME loop with a bare SERVFAIL, so a SERVFAIL (not a timeout, not
 * bogus) is looked into, even one that carries part of the chain (a
 * resolver with the CNAMEs cached sends them along): a loop is the
 * customer's error, not DNS trouble.  (If the dns module found the loop
 * already and returned its chain, dkim_check_take_chain() saw it.)
 */
static void
dkim_check_failed(struct dns *dns, struct dkim_check_result *out,
                  const struct dns_answer *a, int64_t deadline_ms)
{
	uint32_t ttl;

	if (a->rcode == DKIM_CHECK_SERVFAIL && a->security != DNS_BOGUS &&
	    dkim_check_walk(dns, out, deadline_ms, &ttl) == 1) {
		dkim_check_loop(out, ttl);
		return;
	}
	dkim_check_temperror(out, a->why);
}

/* dkim_check_selector - classify one selector of one domain */
int
dkim_check_selector(struct dns *dns, const char *domain,
                    const struct config_selector *sel,
                    const struct keys_key *key, int64_t deadline_ms,
                    struct dkim_check_result *out)
{
	struct dns_answer *a;

	if (dkim_check_begin(domain, sel, out) < 0)
		return -1;
	a = dns_query(dns, out->name, DNS_T_TXT, deadline_ms);
	if (dkim_check_take_chain(out, a))
		dkim_check_loop(out, a->ttl);
	else if (a->status == DNS_TEMPFAIL)
		dkim_check_failed(dns, out, a, deadline_ms);
	else if (a->status == DNS_OK && a->nrr > 0)
		dkim_check_answer(out, a, key);
	else
		dkim_check_negative(out, a);
	dns_answer_free(a);
	return 0;
}

/* dkim_check_index - index of the named selector, or of the active one */
static size_t
dkim_check_index(const struct config *cfg, const char *name)
{
	const struct config_selector *s = NULL;

	if (name != NULL)
		s = config_selector_find(cfg, name);
	if (s == NULL)
		s = config_selector_find(cfg, cfg->dkim_active_selector);
	return s != NULL ? (size_t) (s - cfg->dkim_selectors) : 0;
}

/* dkim_check_overall - the combined state from the counts */
static enum dkim_check_overall
dkim_check_overall(const struct dkim_check_summary *d,
                   const struct dkim_check_result *sig)
{
	if (sig->state == DKIM_CHECK_TEMPERROR)
		return DKIM_CHECK_TEMPORARY;
	if (!d->signing_usable)
		return DKIM_CHECK_FAIL;
	return d->rotation_ready ? DKIM_CHECK_OK : DKIM_CHECK_WARN;
}

/* dkim_check_summarize - the domain's selectors together */
void
dkim_check_summarize(const struct config *cfg,
                     const struct dkim_check_result *res, const char *signing,
                     struct dkim_check_summary *out)
{
	memset(out, 0, sizeof(*out));
	out->nselectors = cfg->dkim_nselectors;
	out->signing = dkim_check_index(cfg, signing);
	out->ttl = UINT32_MAX;
	for (size_t i = 0; i < out->nselectors; i++) {
		out->ndelegated += res[i].state == DKIM_CHECK_DELEGATED;
		out->temporary |= res[i].state == DKIM_CHECK_TEMPERROR;
		if (res[i].ttl < out->ttl)
			out->ttl = res[i].ttl;
	}
	if (out->nselectors == 0)
		out->ttl = 0;
	out->rotation_ready = out->ndelegated == out->nselectors;
	out->signing_usable =
	    out->nselectors > 0 && res[out->signing].usable != 0;
	out->overall = out->nselectors > 0
	                   ? dkim_check_overall(out, &res[out->signing])
	                   : DKIM_CHECK_FAIL;
	dkim_check_fmt(out->reason, sizeof(out->reason), "dkim=%s (",
	               dkim_check_overall_name(out->overall));
	for (size_t i = 0; i < out->nselectors; i++)
		util_catf(out->reason, sizeof(out->reason), "%s%s %s",
		          i > 0 ? ", " : "", res[i].selector,
		          dkim_check_state_name(res[i].state));
	if (out->nselectors > 0)
		util_catf(out->reason, sizeof(out->reason), "; signing with %s",
		          res[out->signing].selector);
	util_catf(out->reason, sizeof(out->reason), ")");
}

/* dkim_check_domain - every selector of a domain, then the summary */
int
dkim_check_domain(struct dns *dns, const struct config *cfg,
                  const struct keys_key *const *keys, const char *domain,
                  int64_t deadline_ms, struct dkim_check_result *res,
                  struct dkim_check_summary *out)
{
	int rc = 0;

	for (size_t i = 0; i < cfg->dkim_nselectors; i++)
		if (dkim_check_selector(dns, domain, &cfg->dkim_selectors[i],
		                        keys[i], deadline_ms, &res[i]) < 0)
			rc = -1;
	dkim_check_summarize(cfg, res, NULL, out);
	return rc;
}

/* dkim_check_pub_set - provider-side state and the start of the reason */
static void
dkim_check_pub_set(struct dkim_check_published *out,
                   enum dkim_check_pub_state state, const char *detail)
{
	out->state = state;
	dkim_check_fmt(out->reason, sizeof(out->reason), "dkim_key=%s (%s%s%s)",
	               dkim_check_pub_state_name(state), out->target,
	               detail[0] != '\0' ? ": " : "", detail);
}

/* dkim_check_pub_record - the target has TXT records: is ours there? */
static void
dkim_check_pub_record(struct dkim_check_published *out,
                      const struct dns_answer *a, const struct keys_key *key)
{
	static const enum dkim_check_pub_state states[] = {
	    [DKIM_CHECK_REC_OURS] = DKIM_CHECK_PUB_PUBLISHED,
	    [DKIM_CHECK_REC_OTHER] = DKIM_CHECK_PUB_OTHER_KEY,
	    [DKIM_CHECK_REC_REVOKED] = DKIM_CHECK_PUB_NOT_PUBLISHED,
	    [DKIM_CHECK_REC_MALFORMED] = DKIM_CHECK_PUB_MALFORMED,
	};
	struct dkim_check_rec_info ri;
	const char *detail = "";

	dkim_check_record(a, key, &ri);
	out->warn = ri.warn;
	util_strlcpy(out->fingerprint, ri.fingerprint,
	             sizeof(out->fingerprint));
	dkim_check_rec_text(&ri, out->found, sizeof(out->found));
	if (ri.kind == DKIM_CHECK_REC_OTHER)
		detail = ri.fingerprint;
	else if (ri.kind == DKIM_CHECK_REC_REVOKED)
		detail = "revoked (empty p=)";
	else if (ri.kind == DKIM_CHECK_REC_MALFORMED)
		detail = ri.why;
	dkim_check_pub_set(out, states[ri.kind], detail);
	out->ttl = a->ttl;
}

/* dkim_check_provider - is our key for sel published at its target? */
void
dkim_check_provider(struct dns *dns, const struct config_selector *sel,
                    const struct keys_key *key, int64_t deadline_ms,
                    struct dkim_check_published *out)
{
	struct dns_answer *a;

	memset(out, 0, sizeof(*out));
	dkim_check_name_copy(out->selector, sel->name);
	dkim_check_target(sel, out->target);
	a = dns_query(dns, out->target, DNS_T_TXT, deadline_ms);
	if (a->status == DNS_OK && a->nrr > 0) {
		dkim_check_pub_record(out, a, key);
	} else if (a->status == DNS_TEMPFAIL) {
		const char *w = a->why[0] != '\0' ? a->why : "no answer";

		dkim_check_fmt(out->found, sizeof(out->found),
		               "DNS failure: %s", w);
		dkim_check_pub_set(out, DKIM_CHECK_PUB_TEMPERROR, w);
	} else {
		dkim_check_fmt(out->found, sizeof(out->found), "%s %s",
		               out->target, dkim_check_negative_what(a));
		dkim_check_pub_set(out, DKIM_CHECK_PUB_NOT_PUBLISHED,
		                   a->status == DNS_NXDOMAIN ? "NXDOMAIN"
		                                             : "NODATA");
		out->ttl = a->ttl;
	}
	dns_answer_free(a);
}

/* dkim_check_published_first - first published selector but skip */
static size_t
dkim_check_published_first(const struct config *cfg,
                           const struct dkim_check_published *pub, size_t skip)
{
	for (size_t i = 0; i < cfg->dkim_nselectors; i++)
		if (i != skip && pub[i].state == DKIM_CHECK_PUB_PUBLISHED)
			return i;
	return cfg->dkim_nselectors;
}

/* dkim_check_sign_set - record the decision and start the reason */
static void
dkim_check_sign_set(const struct config *cfg, struct dkim_check_signing *out,
                    enum dkim_check_sign how, size_t index)
{
	out->how = how;
	out->index = index;
	if (how != DKIM_CHECK_SIGN_NONE)
		dkim_check_name_copy(out->selector,
		                     cfg->dkim_selectors[index].name);
	dkim_check_fmt(out->reason, sizeof(out->reason), "dkim_sign=%s (",
	               dkim_check_sign_name(how));
}

/* dkim_check_signing - the rotation-safety rule */
void
dkim_check_signing(const struct config *cfg,
                   const struct dkim_check_published *pub,
                   struct dkim_check_signing *out)
{
	size_t act = dkim_check_index(cfg, NULL), alt;
	const struct dkim_check_published *a = &pub[act];

	memset(out, 0, sizeof(*out));
	alt = dkim_check_published_first(cfg, pub, act);
	if (a->state == DKIM_CHECK_PUB_PUBLISHED) {
		dkim_check_sign_set(cfg, out, DKIM_CHECK_SIGN_ACTIVE, act);
		util_catf(out->reason, sizeof(out->reason),
		          "%s: key published at %s", a->selector, a->target);
	} else if (alt < cfg->dkim_nselectors) {
		dkim_check_sign_set(cfg, out, DKIM_CHECK_SIGN_FALLBACK, alt);
		util_catf(out->reason, sizeof(out->reason),
		          "%s instead of the active %s: %s", out->selector,
		          a->selector, a->reason);
	} else if (a->state == DKIM_CHECK_PUB_TEMPERROR) {
		dkim_check_sign_set(cfg, out, DKIM_CHECK_SIGN_UNVERIFIED, act);
		util_catf(out->reason, sizeof(out->reason),
		          "%s, not checked: %s", a->selector, a->reason);
	} else {
		dkim_check_sign_set(cfg, out, DKIM_CHECK_SIGN_NONE, 0);
		util_catf(out->reason, sizeof(out->reason),
		          "no selector's key is published:");
		for (size_t i = 0; i < cfg->dkim_nselectors; i++)
			util_catf(out->reason, sizeof(out->reason), "%s %s %s",
			          i > 0 ? "," : "", pub[i].selector,
			          dkim_check_pub_state_name(pub[i].state));
	}
	util_catf(out->reason, sizeof(out->reason), ")");
}

/* dkim_check_provider_run - every selector's target, then the decision */
struct dkim_check_provider *
dkim_check_provider_run(struct dns *dns, const struct config *cfg,
                        const struct keys_key *const *keys, int64_t deadline_ms)
{
	struct dkim_check_provider *p;
	size_t n = cfg->dkim_nselectors;

	p = xcalloc(1, sizeof(*p) + n * sizeof(p->pub[0]));
	p->n = n;
	for (size_t i = 0; i < n; i++)
		dkim_check_provider(dns, &cfg->dkim_selectors[i], keys[i],
		                    deadline_ms, &p->pub[i]);
	if (n > 0)
		dkim_check_signing(cfg, p->pub, &p->signing);
	else
		dkim_check_fmt(p->signing.reason, sizeof(p->signing.reason),
		               "dkim_sign=none (no selectors configured)");
	if (n == 0)
		p->signing.how = DKIM_CHECK_SIGN_NONE;
	return p;
}

/* dkim_check_provider_free - release a run's result */
void
dkim_check_provider_free(struct dkim_check_provider *p)
{
	free(p);
}
