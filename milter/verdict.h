#ifndef RELAYGATE_VERDICT_H
#define RELAYGATE_VERDICT_H

/*
 * verdict - what relaygate concludes about one domain, in the compact
 * form the cache stores.
 *
 * MODEL
 *	A check (check.h) finds out everything about a domain; the verdict
 *	keeps what decisions and messages need: SPF (result, reason, whether
 *	our include is there, lookups), the state of each DKIM selector and
 *	which may be signed with, the DMARC record's policy and modes, an
 *	overall state, the TTL, and two short detail texts.  Everything a
 *	human reads (status header, SMTP reply, decision line) is rendered
 *	from a verdict, so a fresh verdict and a cached one read alike.
 *
 *	Overall state: TEMPORARY when DNS trouble left SPF or DKIM unknown;
 *	CONFIGURED when SPF authorizes the relay and every selector is
 *	delegated; PARTIAL when SPF authorizes the relay or a selector can
 *	be signed with, but not both fully; UNCONFIGURED when neither.
 *
 *	A verdict is about one domain; a message may be judged on two: SPF
 *	on the envelope sender's domain, DKIM and DMARC on the From domain.
 *
 * OWNERSHIP
 *	Plain data without pointers (it is copied in and out of shared
 *	memory); text functions write into caller buffers.
 *
 * CONCURRENCY
 *	Pure functions; thread-safe.
 *
 * ERRORS
 *	None: texts are cut to fit, and a cut is marked with "...".
 */

#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "config.h"
#include "dmarc.h"

#define VERDICT_VERSION 2
#define VERDICT_DETAIL 56

enum verdict_state {
	VERDICT_CONFIGURED,
	VERDICT_PARTIAL,
	VERDICT_UNCONFIGURED,
	VERDICT_TEMPORARY,
};

#define VERDICT_SPF_INCLUDE 0x01 /* include:<relay.spf_include> present */
#define VERDICT_SPF_OTHER 0x02   /* relay authorized without it */

struct verdict {
	uint8_t version; /* VERDICT_VERSION */
	uint8_t state;   /* enum verdict_state */
	uint8_t spf_result;
	uint8_t spf_reason;
	uint8_t spf_flags;
	uint8_t spf_lookups;
	uint8_t spf_voids;
	uint8_t nselectors;
	uint8_t dkim_state[CONFIG_MAX_SELECTORS]; /* enum dkim_check_state */
	uint8_t dkim_usable; /* bit i: selector i reaches our key, or our
	                        target (whether our key is published there
	                        is the provider check's: runtime.h) */
	uint8_t dkim_worst;  /* the selector dkim_detail is about */
	uint8_t dmarc_state; /* enum dmarc_state */
	uint8_t dmarc_policy;
	uint8_t dmarc_adkim;
	uint8_t dmarc_aspf;
	uint8_t dmarc_pct;
	uint8_t dmarc_at_org;
	uint32_t ttl; /* seconds: min over what the verdict depends on */
	char spf_detail[VERDICT_DETAIL];  /* "include:spf.dmrmail.nl missing" */
	char dkim_detail[VERDICT_DETAIL]; /* "prezent-a._domainkey.x.nl" */
};

/*
 * The stored form: the fixed fields as they lie in struct verdict, then
 * each detail text with its NUL.  Most of a verdict's size is detail room
 * that short texts leave empty; a cache record is smaller without it.
 */
#define VERDICT_FIXED offsetof(struct verdict, spf_detail)
#define VERDICT_ENCODED_MAX (VERDICT_FIXED + 2 * VERDICT_DETAIL)

/*
 * verdict_encode - v in its stored form into buf (VERDICT_ENCODED_MAX
 * bytes); returns the length.
 */
size_t verdict_encode(const struct verdict *v, unsigned char *buf);

/*
 * verdict_decode - a verdict stored as len bytes (a cache payload) into
 * out; -1 if they are not a verdict of this version.
 */
int verdict_decode(const void *bytes, size_t len, struct verdict *out);

/* verdict_from_check - condense a check of all parts */
void verdict_from_check(const struct check_result *r, struct verdict *out);

/*
 * verdict_restrict - the verdict as it holds for signing now: of the
 * selectors the customer delegated, only those whose key the provider
 * publishes (bit i of signable) can sign; the overall state follows.  For
 * live reports; the cache keeps the customer's side alone.
 */
void verdict_restrict(struct verdict *v, unsigned signable);

/* verdict_state_name - "configured", "partial", ... */
const char *verdict_state_name(enum verdict_state state);

/* verdict_spf_ok - SPF authorizes the relay's addresses */
int verdict_spf_ok(const struct verdict *v);

/* verdict_spf_temporary - SPF unknown because of DNS trouble */
int verdict_spf_temporary(const struct verdict *v);

/*
 * verdict_signing_selector - the selector to sign with for this domain:
 * preferred (the provider's signing selector, an index into
 * dkim.selectors) if it resolves to our key here, else the first other
 * one that does; -1 if none.
 */
int verdict_signing_selector(const struct verdict *v, int preferred);

/* verdict_dkim_temporary - no selector usable, one unknown (DNS) */
int verdict_dkim_temporary(const struct verdict *v);

/* verdict_rotation_ready - every selector delegated */
int verdict_rotation_ready(const struct verdict *v);

/* verdict_spf_text - "spf=fail (include:spf.dmrmail.nl missing)" */
void verdict_spf_text(const struct verdict *v, char *buf, size_t size);

/* verdict_dkim_text - "dkim=ok", "dkim=missing (prezent-a._domainkey...)" */
void verdict_dkim_text(const struct verdict *v, const struct config *cfg,
                       char *buf, size_t size);

/* verdict_dkim_states - "prezent-a:delegated,prezent-b:missing" */
void verdict_dkim_states(const struct verdict *v, const struct config *cfg,
                         char *buf, size_t size);

/*
 * verdict_dmarc - the DMARC facts of a verdict of from_domain, as a result
 * dmarc_align() can judge a message by.
 */
void verdict_dmarc(const struct verdict *v, const char *from_domain,
                   struct dmarc_result *out);

#endif
