#ifndef RELAYGATE_ADDR_H
#define RELAYGATE_ADDR_H

/*
 * addr - the domains relaygate judges in a message: the envelope sender's
 * (MAIL FROM, judged by SPF) and the From header's (DKIM and DMARC).
 *
 * MODEL
 *	Both parsers take the text exactly as the MTA passes it and return
 *	domains normalized by domain_normalize() (lowercase A-labels), or a
 *	status and a reason.  They are generous where real mail is sloppy
 *	but a reader cannot be misled (no angle brackets, blanks around the
 *	address, odd dots in a local part, a From group without its ';'),
 *	and strict wherever two reasonable parsers could find different
 *	domains: unbalanced quotes, comments or brackets, two '@' in one
 *	address, an address-like quoted local part, a display name showing
 *	a different domain than the address.  Such input is ADDR_INVALID,
 *	never a guess.  A From field with several mailboxes reports every
 *	distinct domain; choosing among them is the policy's business
 *	(RFC 7489 section 6.6.1).
 *
 * OWNERSHIP
 *	Inputs are borrowed for the call.  Results are written into the
 *	caller's buffers and struct; nothing is allocated.
 *
 * CONCURRENCY
 *	Pure functions without state; thread-safe.
 *
 * ERRORS
 *	Every status but ADDR_OK comes with a reason in "why" (which may be
 *	NULL or of size 0); on ADDR_OK "why" is left alone.  Reasons quote
 *	at most a short excerpt of the input, with bytes outside printable
 *	ASCII written as \xNN, so they are safe to log.  Nothing is logged.
 *	A NULL input is a broken invariant and panics.
 *
 * SEE ALSO
 *	RFC 5321 section 4.1.2 (Reverse-path), RFC 6531 (SMTPUTF8),
 *	RFC 5322 sections 3.2-3.6 and 4.4 (obsolete syntax), RFC 6532 (UTF-8
 *	headers), RFC 6854 (groups in From), RFC 7489 section 6.6.1.
 */

#include <stddef.h>

#include "domain.h"

enum addr_status {
	ADDR_OK,        /* a domain was found */
	ADDR_NULL,      /* the null reverse-path "<>": a bounce, not an error */
	ADDR_NO_DOMAIN, /* well-formed, but no domain: local part only,
	                   address literal, group without mailboxes */
	ADDR_INVALID,   /* malformed or ambiguous */
};

/*
 * addr_envelope - the domain of a MAIL FROM argument ("<alice@example.nl>",
 * also without brackets).  A source route ("<@a,@b:x@example.nl>") is
 * ignored; an address literal ("x@[192.0.2.1]") is ADDR_NO_DOMAIN.  An
 * empty argument is ADDR_INVALID: MTAs pass the null sender as "<>".
 * On any status but ADDR_OK, domain is "".
 */
enum addr_status addr_envelope(const char *arg, char domain[static DOMAIN_SIZE],
                               char *why, size_t whylen);

/* The most distinct domains one From field may name. */
#define ADDR_FROM_DOMAINS 8

/* What addr_header_from() noticed besides the domains (addr_from.flags). */
enum addr_from_flag {
	ADDR_FROM_GROUP = 1 << 0,     /* group syntax (RFC 6854) was used */
	ADDR_FROM_NAME_AT = 1 << 1,   /* a display name or comment holds an
	                                 '@': maybe an address for show */
	ADDR_FROM_NO_DOMAIN = 1 << 2, /* some mailbox has no domain */
	ADDR_FROM_OBSOLETE = 1 << 3,  /* RFC 5322 section 4.4 forms: route,
	                                 CFWS or stray dots in an address,
	                                 empty list elements, open group */
};

/* What a From field says. */
struct addr_from {
	int nmailboxes;           /* mailboxes, with or without a domain */
	int ndomains;             /* distinct domains, 0..ADDR_FROM_DOMAINS */
	char domain[DOMAIN_SIZE]; /* of the first mailbox that has one,
	                             = domains[0]; "" when ndomains is 0 */
	char domains[ADDR_FROM_DOMAINS][DOMAIN_SIZE]; /* in order of
	                                                 appearance */
	unsigned flags; /* enum addr_from_flag bits */
};

/*
 * addr_header_from - parse one From field value (continuation lines
 * included).  ADDR_OK when at least one mailbox has a domain, even if
 * others have none (look at flags).  ADDR_NO_DOMAIN when none has one, or
 * for an empty group.  ADDR_INVALID, with *out zeroed, for malformed or
 * ambiguous input and for more than ADDR_FROM_DOMAINS distinct domains.
 * Never ADDR_NULL.
 */
enum addr_status addr_header_from(const char *value, struct addr_from *out,
                                  char *why, size_t whylen);

#endif
