#ifndef RELAYGATE_POLICY_H
#define RELAYGATE_POLICY_H

/*
 * policy - what happens to a message, from the verdicts of its domains
 * and the configuration: a pure function.
 *
 * MODEL
 *	A message is judged on two domains: SPF on the envelope sender's
 *	(none for the null sender), DKIM on the From header's (that is d=).
 *	Each facet is ok, a problem, or unknown because of DNS trouble.  The
 *	problem class picks an action from policy.*: tag, defer, reject or
 *	monitor.  Classes rank: temporary (DNS trouble), both, SPF, a From
 *	header that cannot be signed (missing, several, unreadable: the
 *	policy.multiple_from action), DKIM; a From header that cannot be
 *	signed counts as DKIM failing when SPF fails too (both).  A
 *	per-domain override replaces the action (exempt: the policy does not
 *	apply) and is applied as written; otherwise, before
 *	policy.enforce_from and during a domain's grace period (grace.h),
 *	defer and reject become tag.  Whatever the action, mail that is not
 *	refused is signed when the From domain has a usable selector, the
 *	client is in scope and the From header is unambiguous.  Mail from
 *	outside the scope passes untouched (scope.outside = "pass") or is
 *	judged but never signed ("policy").
 *
 *	The decision carries everything the milter and the log need: the
 *	action, the selector to sign with, the status header, the SMTP reply
 *	(code, enhanced code and a one-line text saying what to fix) and a
 *	short reason.
 *
 * OWNERSHIP
 *	Inputs are borrowed; the decision is written into caller storage and
 *	holds no pointers.
 *
 * CONCURRENCY
 *	Pure; thread-safe.
 *
 * ERRORS
 *	None.
 *
 * SEE ALSO
 *	RFC 3463 and RFC 7372 (enhanced status codes), verdict.h.
 */

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "verdict.h"

enum policy_action {
	POLICY_PASS,    /* untouched: out of scope, or exempt and unsigned */
	POLICY_SIGN,    /* everything in order: signed */
	POLICY_TAG,     /* delivered with the status header */
	POLICY_DEFER,   /* 4xx */
	POLICY_REJECT,  /* 5xx */
	POLICY_MONITOR, /* delivered; logged only */
};

enum policy_problem {
	POLICY_OK,
	POLICY_SPF,       /* the envelope domain does not authorize us */
	POLICY_DKIM,      /* the From domain cannot be signed */
	POLICY_BOTH,      /* both */
	POLICY_TEMPORARY, /* DNS trouble: unknown */
	POLICY_FROM,      /* no From, several, or one we cannot read */
};

/* What the From header allows. */
enum policy_from {
	POLICY_FROM_OK,
	POLICY_FROM_MISSING,
	POLICY_FROM_MULTIPLE, /* several From headers */
	POLICY_FROM_INVALID,  /* unreadable, or several domains */
};

struct policy_input {
	int in_scope;               /* networks or SASL */
	const char *env_domain;     /* "" for the null sender */
	const struct verdict *env;  /* its verdict; NULL if env_domain "" */
	const char *from_domain;    /* "" if the From header gave none */
	const struct verdict *from; /* its verdict; NULL if none */
	enum policy_from from_state;
	int preferred_selector; /* the provider's signing selector, -1 none */
	unsigned published;     /* bit i: selector i's key is published at
	                           its target (0: the provider cannot sign;
	                           DKIM is then not held against anyone) */
	int64_t now;            /* seconds since the epoch */
	int64_t first_seen_bad; /* of the domain at fault, 0 if never */
};

/* Why the configured action was not the one taken. */
enum policy_why {
	POLICY_WHY_CONFIG,   /* the action of the problem class */
	POLICY_WHY_OVERRIDE, /* a per-domain override */
	POLICY_WHY_GRACE,    /* the domain's grace period */
	POLICY_WHY_ENFORCE,  /* before policy.enforce_from */
	POLICY_WHY_SCOPE,    /* the client is outside the scope */
};

#define POLICY_TEXT 512

struct policy_decision {
	enum policy_action action;
	enum policy_problem problem;
	enum policy_why why;
	int sign_selector; /* -1: no signature */
	int prefix_subject;
	char status[POLICY_TEXT]; /* the status header's value */
	char rcode[4];            /* "451", "550"; "" unless refused */
	char xcode[8];            /* "4.7.1" ... */
	char reply[POLICY_TEXT];  /* what to fix, one line */
	char reason[POLICY_TEXT]; /* for the decision line */
};

/* policy_decide - the decision for one message */
void policy_decide(const struct config *cfg, const struct policy_input *in,
                   struct policy_decision *out);

/*
 * policy_envelope - the decision at MAIL FROM, before any header: in->env
 * is known, in->from is not.  Returns 1 (out filled) when the message is
 * refused whatever its From header turns out to be, e.g. when the
 * envelope domain's SPF is missing and the SPF, "both" and temporary
 * actions all refuse (a From domain's DKIM may turn out unknown); 0 when
 * the decision must wait for the headers.  An
 * override of the envelope domain counts; one of a different From domain
 * cannot be known yet.
 */
int policy_envelope(const struct config *cfg, const struct policy_input *in,
                    struct policy_decision *out);

/* policy_refuses - does the decision refuse the message (4xx or 5xx)? */
static inline int
policy_refuses(const struct policy_decision *d)
{
	return d->action == POLICY_DEFER || d->action == POLICY_REJECT;
}

/* policy_action_name - "pass", "sign", "tag", ... */
const char *policy_action_name(enum policy_action action);

/* policy_problem_name - "ok", "spf", "dkim", "both", ... */
const char *policy_problem_name(enum policy_problem problem);

#endif
