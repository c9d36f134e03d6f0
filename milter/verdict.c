/*
 * verdict - what relaygate concludes about one domain, compactly.
 */

#include <stdio.h>
#include <string.h>

#include "orgdomain.h"
#include "util.h"
#include "verdict.h"

static const char *const verdict_state_names[] = {
    [VERDICT_CONFIGURED] = "configured",
    [VERDICT_PARTIAL] = "partial",
    [VERDICT_UNCONFIGURED] = "unconfigured",
    [VERDICT_TEMPORARY] = "temporary",
};

/* verdict_state_name - the state as a word */
const char *
verdict_state_name(enum verdict_state state)
{
	if ((unsigned) state > VERDICT_TEMPORARY)
		return "unknown";
	return verdict_state_names[state];
}

/*
 * verdict_cut - mark a text that snprintf() had to cut (n bytes wanted)
 * with "..." at its end.
 */
static void
verdict_cut(char *buf, size_t size, int n)
{
	if (n >= 0 && (size_t) n < size)
		return;
	if (size >= 4)
		memcpy(buf + size - 4, "...", 4);
}

/*
 * verdict_detail - copy the part of "name=word (detail)" between the first
 * "(" and the last ")" (or all of text without them), cut to fit.  A part
 * whose own text was cut before its ")" gives what follows the "(".
 */
static void
verdict_detail(const char *text, char *out, size_t size)
{
	const char *open = strchr(text, '(');
	const char *close = strrchr(text, ')');
	size_t len;

	if (open != NULL && (close == NULL || close < open))
		close = open + strlen(open);
	if (open != NULL)
		text = open + 1;
	else
		close = text + strlen(text);
	len = (size_t) (close - text);
	if (len < size) {
		memcpy(out, text, len);
		out[len] = '\0';
		return;
	}
	memcpy(out, text, size - 4);
	memcpy(out + size - 4, "...", 4);
}

/* verdict_min_ttl - fold one TTL into the minimum */
static void
verdict_min_ttl(uint32_t *ttl, uint32_t more)
{
	if (more < *ttl)
		*ttl = more;
}

/* verdict_spf - the SPF part */
static void
verdict_spf(const struct check_result *r, struct verdict *v)
{
	const struct spf_check_verdict *s = &r->spf;

	v->spf_result = (uint8_t) s->result;
	v->spf_reason = (uint8_t) s->reason;
	v->spf_flags =
	    (uint8_t) ((s->has_include ? VERDICT_SPF_INCLUDE : 0) |
	               (s->authorized_other ? VERDICT_SPF_OTHER : 0));
	v->spf_lookups = (uint8_t) (s->lookups > 255 ? 255 : s->lookups);
	v->spf_voids = (uint8_t) (s->voids > 255 ? 255 : s->voids);
	verdict_detail(s->summary, v->spf_detail, sizeof(v->spf_detail));
	if (s->ttl_known)
		verdict_min_ttl(&v->ttl, s->ttl);
	if (r->relay_ok && r->relay.derived)
		verdict_min_ttl(&v->ttl, r->relay.ttl);
}

/* verdict_dkim - the DKIM part: states, usable selectors, the worst */
static void
verdict_dkim(const struct check_result *r, struct verdict *v)
{
	int worst = -1;

	v->nselectors =
	    (uint8_t) (r->ndkim < CONFIG_MAX_SELECTORS ? r->ndkim
	                                               : CONFIG_MAX_SELECTORS);
	for (size_t i = 0; i < v->nselectors; i++) {
		v->dkim_state[i] = (uint8_t) r->dkim[i].state;
		/* A chain that reaches our target is the customer's part
		   done; whether our key is there is the provider check's
		   business (runtime.h), which changes without the domain. */
		if (r->dkim[i].usable ||
		    r->dkim[i].fix == DKIM_CHECK_FIX_PROVIDER)
			v->dkim_usable |= (uint8_t) (1u << i);
		if (worst < 0 && r->dkim[i].state != DKIM_CHECK_DELEGATED)
			worst = (int) i;
		verdict_min_ttl(&v->ttl, r->dkim[i].ttl);
	}
	v->dkim_worst = (uint8_t) (worst < 0 ? 0 : worst);
	if (worst >= 0)
		verdict_detail(r->dkim[worst].reason, v->dkim_detail,
		               sizeof(v->dkim_detail));
}

/* verdict_dmarc_part - the DMARC record's policy and modes */
static void
verdict_dmarc_part(const struct check_result *r, struct verdict *v)
{
	const struct dmarc_result *d = &r->dmarc;

	v->dmarc_state = (uint8_t) d->state;
	v->dmarc_policy = (uint8_t) d->policy;
	v->dmarc_adkim = (uint8_t) d->record.adkim;
	v->dmarc_aspf = (uint8_t) d->record.aspf;
	v->dmarc_pct = (uint8_t) d->record.pct;
	v->dmarc_at_org = (uint8_t) d->at_org;
	if (d->state != DMARC_TEMPERROR)
		verdict_min_ttl(&v->ttl, d->ttl);
}

/*
 * verdict_delegated - has the customer delegated selector i: a CNAME chain
 * to our target (a copy of the key does not count)?
 */
static int
verdict_delegated(const struct verdict *v, size_t i)
{
	return v->dkim_state[i] == DKIM_CHECK_DELEGATED ||
	       ((v->dkim_usable >> i) & 1u &&
	        v->dkim_state[i] != DKIM_CHECK_COPIED);
}

/* verdict_overall - the overall state from the parts */
static enum verdict_state
verdict_overall(const struct verdict *v)
{
	int all_delegated = v->nselectors > 0;

	for (size_t i = 0; i < v->nselectors; i++)
		if (!verdict_delegated(v, i))
			all_delegated = 0;
	if (verdict_spf_temporary(v) || verdict_dkim_temporary(v))
		return VERDICT_TEMPORARY;
	if (verdict_spf_ok(v) && all_delegated)
		return VERDICT_CONFIGURED;
	if (verdict_spf_ok(v) || v->dkim_usable != 0)
		return VERDICT_PARTIAL;
	return VERDICT_UNCONFIGURED;
}

/* verdict_encode - the fixed fields, then the two texts with their NULs */
size_t
verdict_encode(const struct verdict *v, unsigned char *buf)
{
	const char *text[2] = {v->spf_detail, v->dkim_detail};
	size_t len = VERDICT_FIXED;

	memcpy(buf, v, VERDICT_FIXED);
	for (int i = 0; i < 2; i++) {
		size_t n = strnlen(text[i], VERDICT_DETAIL - 1);

		memcpy(buf + len, text[i], n);
		buf[len + n] = '\0';
		len += n + 1;
	}
	return len;
}

/* verdict_decode - stored bytes back into a verdict */
int
verdict_decode(const void *bytes, size_t len, struct verdict *out)
{
	const unsigned char *b = bytes;
	char *text[2] = {out->spf_detail, out->dkim_detail};
	size_t at = VERDICT_FIXED;

	if (len < VERDICT_FIXED + 2 || len > VERDICT_ENCODED_MAX ||
	    b[0] != VERDICT_VERSION)
		return -1;
	memset(out, 0, sizeof(*out));
	memcpy(out, b, VERDICT_FIXED);
	for (int i = 0; i < 2; i++) {
		const unsigned char *nul = memchr(b + at, '\0', len - at);
		size_t n;

		if (nul == NULL ||
		    (n = (size_t) (nul - (b + at))) >= VERDICT_DETAIL)
			return -1;
		memcpy(text[i], b + at, n);
		at += n + 1;
	}
	return at == len ? 0 : -1;
}

/* verdict_restrict - only published keys can sign */
void
verdict_restrict(struct verdict *v, unsigned signable)
{
	v->dkim_usable &= (uint8_t) signable;
	if (v->state != VERDICT_TEMPORARY)
		v->state = (uint8_t) verdict_overall(v);
}

/* verdict_from_check - condense a check */
void
verdict_from_check(const struct check_result *r, struct verdict *out)
{
	memset(out, 0, sizeof(*out));
	out->version = VERDICT_VERSION;
	out->ttl = UINT32_MAX;
	verdict_spf(r, out);
	verdict_dkim(r, out);
	verdict_dmarc_part(r, out);
	out->state = (uint8_t) verdict_overall(out);
	if (out->state == VERDICT_TEMPORARY || out->ttl == UINT32_MAX)
		out->ttl = 0;
}

/* verdict_spf_ok - the relay's addresses pass */
int
verdict_spf_ok(const struct verdict *v)
{
	return v->spf_result == SPF_CHECK_PASS;
}

/* verdict_spf_temporary - SPF not known for DNS reasons */
int
verdict_spf_temporary(const struct verdict *v)
{
	return v->spf_result == SPF_CHECK_TEMPERROR;
}

/*
 * verdict_dkim_temporary - nothing usable and something unknown; a
 * temporary verdict without selectors (a check that did not finish) knows
 * nothing of DKIM.
 */
int
verdict_dkim_temporary(const struct verdict *v)
{
	if (v->dkim_usable != 0)
		return 0;
	if (v->nselectors == 0)
		return v->state == VERDICT_TEMPORARY;
	for (size_t i = 0; i < v->nselectors; i++)
		if (v->dkim_state[i] == DKIM_CHECK_TEMPERROR)
			return 1;
	return 0;
}

/* verdict_rotation_ready - every selector delegated */
int
verdict_rotation_ready(const struct verdict *v)
{
	for (size_t i = 0; i < v->nselectors; i++)
		if (!verdict_delegated(v, i))
			return 0;
	return v->nselectors > 0;
}

/* verdict_signing_selector - preferred if usable, else another */
int
verdict_signing_selector(const struct verdict *v, int preferred)
{
	if (preferred >= 0 && preferred < v->nselectors &&
	    (v->dkim_usable & (1u << preferred)))
		return preferred;
	for (int i = 0; i < v->nselectors; i++)
		if (v->dkim_usable & (1u << i))
			return i;
	return -1;
}

/* verdict_spf_text - one SPF clause */
void
verdict_spf_text(const struct verdict *v, char *buf, size_t size)
{
	int n = snprintf(
	    buf, size, "spf=%s%s%s%s",
	    spf_check_result_name((enum spf_check_result) v->spf_result),
	    v->spf_detail[0] ? " (" : "", v->spf_detail,
	    v->spf_detail[0] ? ")" : "");

	verdict_cut(buf, size, n);
}

/* verdict_dkim_text - one DKIM clause: ok, or the worst selector */
void
verdict_dkim_text(const struct verdict *v, const struct config *cfg, char *buf,
                  size_t size)
{
	enum dkim_check_state s;
	int n;

	(void) cfg;
	if (verdict_rotation_ready(v)) {
		n = snprintf(buf, size, "dkim=ok");
	} else if (v->nselectors == 0) {
		n = snprintf(buf, size, "dkim=%s",
		             verdict_dkim_temporary(v) ? "temperror" : "none");
	} else {
		s = (enum dkim_check_state) v->dkim_state[v->dkim_worst];
		n = snprintf(buf, size, "dkim=%s (%s)",
		             dkim_check_state_name(s), v->dkim_detail);
	}
	verdict_cut(buf, size, n);
}

/* verdict_dkim_states - every selector's state, for the decision line */
void
verdict_dkim_states(const struct verdict *v, const struct config *cfg,
                    char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < v->nselectors && i < cfg->dkim_nselectors; i++) {
		int n = snprintf(buf + len, size - len, "%s%s:%s", i ? "," : "",
		                 cfg->dkim_selectors[i].name,
		                 dkim_check_state_name(
		                     (enum dkim_check_state) v->dkim_state[i]));

		if (n < 0 || (size_t) n >= size - len) {
			verdict_cut(buf, size, -1);
			return;
		}
		len += (size_t) n;
	}
}

/* verdict_dmarc - a dmarc_result with the facts alignment needs */
void
verdict_dmarc(const struct verdict *v, const char *from_domain,
              struct dmarc_result *out)
{
	memset(out, 0, sizeof(*out));
	out->state = (enum dmarc_state) v->dmarc_state;
	util_strlcpy(out->from_domain, from_domain, sizeof(out->from_domain));
	out->policy = (enum dmarc_policy) v->dmarc_policy;
	out->at_org = v->dmarc_at_org;
	out->record.adkim = (enum dmarc_mode) v->dmarc_adkim;
	out->record.aspf = (enum dmarc_mode) v->dmarc_aspf;
	out->record.pct = v->dmarc_pct;
	out->record.p = out->policy;
	out->record.sp = out->policy;
	out->nrecords = v->dmarc_state == DMARC_FOUND;
	if (orgdomain_get(from_domain, out->org_domain,
	                  sizeof(out->org_domain)) < 0)
		util_strlcpy(out->org_domain, from_domain,
		             sizeof(out->org_domain));
	if (out->at_org)
		util_strlcpy(out->record_domain, out->org_domain,
		             sizeof(out->record_domain));
	else if (out->state == DMARC_FOUND || out->state == DMARC_INVALID)
		util_strlcpy(out->record_domain, from_domain,
		             sizeof(out->record_domain));
	if (out->state == DMARC_INVALID)
		util_strlcpy(out->why, "the record is unusable",
		             sizeof(out->why));
	else if (out->state == DMARC_TEMPERROR)
		util_strlcpy(out->why, "DNS failure", sizeof(out->why));
}
