#ifndef RELAYGATE_DKIM_CHECK_H
#define RELAYGATE_DKIM_CHECK_H

/*
 * dkim_check - is DKIM signing by the provider set up right: on the
 * customer's side (are the selectors delegated?) and on the provider's
 * (are our public keys published at the targets?), and which selector
 * may we sign with.
 *
 * MODEL
 *	A customer delegates each selector S of the configuration with
 *	"S._domainkey.D CNAME <target>.", where the provider publishes the
 *	public half of S's key.  dkim_check_selector() asks TXT at
 *	S._domainkey.D through the dns module and classifies the answer
 *	into one state (enum dkim_check_state) with what was expected, what
 *	was found, the TTL the answer may be cached for and a reason
 *	("dkim=missing (prezent-a._domainkey.example.nl)").  The selector is
 *	delegated when the CNAME chain reaches the target (directly or
 *	through names of the customer's; what follows the target is the
 *	provider's business) and the key found is ours, compared as keys by
 *	keys_compare().  Which party must act is part of the result: a chain
 *	that reaches the target but finds no usable key there is the
 *	provider's problem, not the customer's.  A CNAME loop reaches us as
 *	a bare SERVFAIL from the resolver; the chain is then walked with
 *	CNAME questions to tell a loop (permanent) from a DNS failure
 *	(temporary).  DNS failures are temperror, never missing.
 *	dkim_check_summarize() combines the selectors of one domain: every
 *	selector delegated (rotation-ready), the signing selector usable.
 *
 *	The provider side: dkim_check_provider() asks TXT at one selector's
 *	target and says whether exactly our public key is there.
 *	dkim_check_signing() is the rotation-safety rule, a pure function:
 *	sign with the active selector if its key is published; otherwise
 *	with another selector whose key is published (never switch to a key
 *	the world cannot verify); if the active one could not be checked
 *	(temporary DNS failure) and no other is known to be published, keep
 *	the active one; else do not sign.  dkim_check_provider_run() runs
 *	the checks for every configured selector and decides.
 *
 * OWNERSHIP
 *	Results are written into caller storage (struct dkim_check_result is
 *	about 5 KiB, struct dkim_check_published about 2 KiB) and hold no
 *	pointers; dkim_check_provider_run() returns memory released with
 *	dkim_check_provider_free().  The configuration, keys and names are
 *	borrowed for the call.
 *
 * CONCURRENCY
 *	Every function is thread-safe and keeps no state: the selectors of
 *	one domain may be checked concurrently, each into its own result.
 *	The dns handle and the keys are shared read-only (dns.h, keys.h).
 *
 * ERRORS
 *	DNS failures are results (temperror), not errors.  Only an invalid
 *	domain name is refused (-1).  Nothing is logged; reasons are data.
 *
 * SEE ALSO
 *	RFC 6376 sections 3.6.1 (key record), 3.6.2.2 (one TXT record) and
 *	6.1.2 (key retrieval); RFC 1034 section 3.6.2 (CNAME); dns.h,
 *	keys.h, dkim_record.h.
 */

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "dns.h"
#include "domain.h"
#include "keys.h"

/* CNAME links a result reports; a longer chain is treated as a loop. */
#define DKIM_CHECK_CHAIN_MAX 8

/* Size of the text fields of the results. */
#define DKIM_CHECK_TEXT 640

/* "SHA256:" and 43 base64 characters, as keys_fingerprint(). */
#define DKIM_CHECK_FP_SIZE 64

/* Customer side: the state of one selector of one domain. */
enum dkim_check_state {
	DKIM_CHECK_DELEGATED,      /* chain reaches the target, our key */
	DKIM_CHECK_TARGET_MISSING, /* chain reaches the target, which has
	                              no record: the provider's problem */
	DKIM_CHECK_COPIED,         /* no CNAME, TXT with our current key:
	                              works until the next rotation */
	DKIM_CHECK_WRONG_TARGET,   /* CNAME chain ends elsewhere */
	DKIM_CHECK_KEY_MISMATCH,   /* resolves (no CNAME, or via the target)
	                              to a key that is not ours */
	DKIM_CHECK_MISSING,        /* no CNAME; NXDOMAIN or NODATA */
	DKIM_CHECK_DANGLING,       /* CNAME to a name without TXT record */
	DKIM_CHECK_CNAME_LOOP,     /* the chain never ends */
	DKIM_CHECK_REVOKED,        /* key record with an empty p= */
	DKIM_CHECK_MALFORMED,      /* unusable record, or several TXT */
	DKIM_CHECK_TEMPERROR,      /* DNS failure: ask again later */
};

/* Who must act on a state. */
enum dkim_check_fix {
	DKIM_CHECK_FIX_NONE,     /* delegated */
	DKIM_CHECK_FIX_CUSTOMER, /* the customer's DNS must change */
	DKIM_CHECK_FIX_PROVIDER, /* the record at our target must change */
	DKIM_CHECK_FIX_RETRY,    /* temperror */
};

/* Warnings on a key that matches (result field "warn"). */
#define DKIM_CHECK_WARN_PKCS1 0x01u   /* published as bare PKCS#1 */
#define DKIM_CHECK_WARN_TESTING 0x02u /* t=y: receivers may ignore it */

/* One selector of one domain, as the customer's DNS has it. */
struct dkim_check_result {
	enum dkim_check_state state;
	enum dkim_check_fix fix;
	int usable;    /* the key found is ours: signatures verify now */
	unsigned warn; /* DKIM_CHECK_WARN_* */
	uint32_t ttl;  /* seconds the result may be cached; 0: temperror */
	char selector[DOMAIN_SIZE]; /* "prezent-a" */
	char name[DOMAIN_SIZE];     /* "prezent-a._domainkey.example.nl" */
	char target[DOMAIN_SIZE];   /* "_dkim-a.prezent.nl" (configured) */
	/* The CNAME chain after name, in order (nchain <= CHAIN_MAX). */
	char chain[DKIM_CHECK_CHAIN_MAX][DOMAIN_SIZE];
	size_t nchain;
	char fingerprint[DKIM_CHECK_FP_SIZE]; /* key found, "" if none */
	/* "prezent-a._domainkey.example.nl CNAME _dkim-a.prezent.nl." */
	char expected[DKIM_CHECK_TEXT];
	char found[DKIM_CHECK_TEXT];  /* the chain, the key or the failure */
	char reason[DKIM_CHECK_TEXT]; /* "dkim=<code> (<detail>)" */
};

/*
 * dkim_check_selector - check selector sel of domain (a name or U-label
 * form) against our key for it, asking DNS with the deadline (as
 * dns_query).  Returns 0; or -1 if domain, or the selector name made
 * from it, is not a valid domain name (out then says missing, with the
 * reason).
 */
int dkim_check_selector(struct dns *dns, const char *domain,
                        const struct config_selector *sel,
                        const struct keys_key *key, int64_t deadline_ms,
                        struct dkim_check_result *out);

/* dkim_check_state_name - the reason code: "delegated", "missing", ... */
const char *dkim_check_state_name(enum dkim_check_state state);

/* dkim_check_fix_name - "none", "customer", "provider" or "retry" */
const char *dkim_check_fix_name(enum dkim_check_fix fix);

/* The combined customer-side state of a domain. */
enum dkim_check_overall {
	DKIM_CHECK_OK,        /* every selector delegated: rotation-ready */
	DKIM_CHECK_WARN,      /* signing selector usable, not rotation-ready */
	DKIM_CHECK_FAIL,      /* signing selector not usable */
	DKIM_CHECK_TEMPORARY, /* signing selector: temperror */
};

struct dkim_check_summary {
	enum dkim_check_overall overall;
	size_t nselectors;
	size_t ndelegated;
	int rotation_ready; /* every selector delegated */
	int signing_usable; /* the signing selector's key verifies now */
	int temporary;      /* some selector is temperror: not final */
	size_t signing;     /* index of the signing selector */
	uint32_t ttl;       /* minimum over the selectors */
	char reason[DKIM_CHECK_TEXT]; /* "dkim=ok (...)", "dkim=fail (...)" */
};

/*
 * dkim_check_summarize - combine the results of every configured
 * selector (res[i] for cfg->dkim_selectors[i]).  signing names the
 * selector mail is signed with (dkim_check_signing()), NULL for the
 * configured active one; a name that is not configured counts as NULL.
 */
void dkim_check_summarize(const struct config *cfg,
                          const struct dkim_check_result *res,
                          const char *signing, struct dkim_check_summary *out);

/* dkim_check_overall_name - "ok", "warn", "fail" or "temperror" */
const char *dkim_check_overall_name(enum dkim_check_overall overall);

/*
 * dkim_check_domain - check every configured selector of domain, one
 * after the other (keys[i] for cfg->dkim_selectors[i]; res has room
 * for cfg->dkim_nselectors), and summarize as above.  Returns -1 if the
 * domain is not valid.  For the CLI; the milter runs the selectors
 * concurrently and summarizes itself.
 */
int dkim_check_domain(struct dns *dns, const struct config *cfg,
                      const struct keys_key *const *keys, const char *domain,
                      int64_t deadline_ms, struct dkim_check_result *res,
                      struct dkim_check_summary *out);

/* Provider side: is our key for a selector published at its target? */
enum dkim_check_pub_state {
	DKIM_CHECK_PUB_PUBLISHED,     /* exactly our public key */
	DKIM_CHECK_PUB_NOT_PUBLISHED, /* NXDOMAIN, NODATA or revoked */
	DKIM_CHECK_PUB_OTHER_KEY,     /* a valid key, not ours */
	DKIM_CHECK_PUB_MALFORMED,     /* unusable record, or several TXT */
	DKIM_CHECK_PUB_TEMPERROR,     /* DNS failure */
};

struct dkim_check_published {
	enum dkim_check_pub_state state;
	unsigned warn; /* DKIM_CHECK_WARN_* (published, but ...) */
	uint32_t ttl;  /* seconds the result may be cached; 0: temperror */
	char selector[DOMAIN_SIZE];
	char target[DOMAIN_SIZE];
	char fingerprint[DKIM_CHECK_FP_SIZE]; /* key found, "" if none */
	char found[DKIM_CHECK_TEXT];          /* what the target has */
	char reason[DKIM_CHECK_TEXT];         /* "dkim_key=<code> (<detail>)" */
};

/*
 * dkim_check_provider - ask TXT at sel's target (following CNAMEs, which
 * are the provider's own) and compare with key.
 */
void dkim_check_provider(struct dns *dns, const struct config_selector *sel,
                         const struct keys_key *key, int64_t deadline_ms,
                         struct dkim_check_published *out);

/* dkim_check_pub_state_name - "published", "not_published", ... */
const char *dkim_check_pub_state_name(enum dkim_check_pub_state state);

/* How the signing selector was chosen. */
enum dkim_check_sign {
	DKIM_CHECK_SIGN_ACTIVE,     /* the active selector, published */
	DKIM_CHECK_SIGN_FALLBACK,   /* another selector: the active one's
	                               key is not known to be published */
	DKIM_CHECK_SIGN_UNVERIFIED, /* the active one, not checkable now
	                               (temperror), and no other published */
	DKIM_CHECK_SIGN_NONE,       /* no selector may sign */
};

struct dkim_check_signing {
	enum dkim_check_sign how;
	size_t index;               /* into cfg->dkim_selectors, unless NONE */
	char selector[DOMAIN_SIZE]; /* its name, "" for NONE */
	char reason[DKIM_CHECK_TEXT];
};

/*
 * dkim_check_signing - the rotation-safety rule (see MODEL) applied to
 * pub[i], the provider-side state of cfg->dkim_selectors[i].  A fallback
 * is the first published selector in configuration order.  Pure.
 */
void dkim_check_signing(const struct config *cfg,
                        const struct dkim_check_published *pub,
                        struct dkim_check_signing *out);

/* dkim_check_sign_name - "active", "fallback", "unverified" or "none" */
const char *dkim_check_sign_name(enum dkim_check_sign how);

/* Every selector's provider-side state and the decision. */
struct dkim_check_provider {
	struct dkim_check_signing signing;
	size_t n;                          /* cfg->dkim_nselectors */
	struct dkim_check_published pub[]; /* pub[i]: dkim_selectors[i] */
};

/*
 * dkim_check_provider_run - dkim_check_provider() for every configured
 * selector (keys[i] for cfg->dkim_selectors[i], one after the other),
 * then dkim_check_signing().  For the periodic re-check and the CLI.
 */
struct dkim_check_provider *
dkim_check_provider_run(struct dns *dns, const struct config *cfg,
                        const struct keys_key *const *keys,
                        int64_t deadline_ms);

/* dkim_check_provider_free - release a run's result; NULL is fine */
void dkim_check_provider_free(struct dkim_check_provider *p);

#endif
