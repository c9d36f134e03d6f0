#ifndef RELAYGATE_RECEIVER_H
#define RELAYGATE_RECEIVER_H

/*
 * receiver - what a receiving mail server concludes about a message the
 * relay sends: DKIM, SPF and DMARC, through live DNS.
 *
 * MODEL
 *	A receiver gets the message as the relay delivers it, the envelope
 *	sender, and a connection from one of the relay's public addresses.
 *	receiver_judge() does what it does, independently of how relaygate
 *	judged the domain when it signed:
 *	- DKIM: every DKIM-Signature field is verified (signer.h's verify
 *	  path); each key is the TXT record at "<s>._domainkey.<d>" asked
 *	  through the dns module, CNAMEs followed as a receiver's resolver
 *	  follows them, so our signature verifies only if the customer's
 *	  CNAME leads to the key we publish.  The chain each answer took is
 *	  kept for the report.
 *	- SPF: check_host() for the envelope sender, once for every address
 *	  the relay may connect from (relay.h: relay.addresses, or those of
 *	  our include record), with spf_check, the milter's evaluator.  The
 *	  result is the worst over the addresses (spf_check_combine()), as
 *	  any of them may be the one a receiver sees.
 *	- DMARC: the From domain's policy (dmarc_lookup()) and whether a
 *	  passing signature or SPF aligns with it (dmarc_align()).
 *	Each part is a result with its reasons; what they mean together is
 *	the caller's business.
 *
 * OWNERSHIP
 *	The environment is borrowed for the call; results go into caller
 *	storage (struct receiver_result is large: allocate it) and hold no
 *	pointers.
 *
 * CONCURRENCY
 *	Thread-safe as the modules it uses (dns.h, spf_check.h, signer.h);
 *	no state of its own.
 *
 * ERRORS
 *	DNS trouble is a result (temperror) in the part it hit.
 *	receiver_judge() returns -1 only for input it cannot read as a
 *	message (why says what); nothing is logged.
 *
 * SEE ALSO
 *	RFC 6376 section 6 (verifier actions), RFC 7208 section 4
 *	(check_host), RFC 7489 sections 3.1 and 6.6 (alignment, policy),
 *	RFC 8601 (result names).
 */

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "dmarc.h"
#include "dns.h"
#include "domain.h"
#include "relay.h"
#include "signer.h"
#include "spf_check.h"

/* What a receiver needs; borrowed. */
struct receiver_env {
	struct dns *dns;
	struct spf_check *spf;
	struct signer *signer;    /* for its verify path */
	const struct config *cfg; /* the relay's addresses */
};

/* The message's DKIM result (RFC 8601 section 2.7.1). */
enum receiver_dkim {
	RECEIVER_DKIM_NONE,      /* no signature */
	RECEIVER_DKIM_PASS,      /* some signature verifies */
	RECEIVER_DKIM_FAIL,      /* none does: message or key changed */
	RECEIVER_DKIM_TEMPERROR, /* none does; a key could not be fetched */
	RECEIVER_DKIM_PERMERROR, /* none does; no usable key or signature */
};

/* How a signature's key record was found. */
struct receiver_key {
	char name[DOMAIN_SIZE]; /* "<s>._domainkey.<d>", as asked */
	enum signer_key status; /* what the lookup found */
	char chain[512];        /* the CNAMEs followed, "a -> b"; "" */
	char found[320];        /* the record (cut), or the failure */
};

struct receiver_result {
	char from_domain[DOMAIN_SIZE];      /* "" if From names none */
	char from_why[256];                 /* then why */
	char mail_from_domain[DOMAIN_SIZE]; /* "" for none */

	enum receiver_dkim dkim;
	struct signer_verdict sigs;
	struct receiver_key key[SIGNER_VERIFY_MAX]; /* key[i]: sigs.sig[i] */
	char dkim_why[256]; /* the message could not be verified at all */

	struct relay_addrs relay;
	int relay_ok; /* 0: the relay's addresses are unknown */
	struct spf_check_verdict spf;

	struct dmarc_result dmarc;
	struct dmarc_alignment align;
	char aligned_d[DOMAIN_SIZE]; /* the passing d= used for alignment */
};

/*
 * receiver_judge - judge message (len bytes, CRLF line ends, header and
 * body as on the wire) sent with envelope sender mail_from ("" for the
 * null sender), every DNS question bounded by deadline_ms (as
 * dns_query()).  out is fully written.
 */
int receiver_judge(const struct receiver_env *env, const char *message,
                   size_t len, const char *mail_from, int64_t deadline_ms,
                   struct receiver_result *out, char *why, size_t whylen);

/* receiver_dkim_name - "none", "pass", "fail", "temperror", "permerror" */
const char *receiver_dkim_name(enum receiver_dkim dkim);

#endif
