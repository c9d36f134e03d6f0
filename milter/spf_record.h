#ifndef RELAYGATE_SPF_RECORD_H
#define RELAYGATE_SPF_RECORD_H

/*
 * spf_record - strict RFC 7208 grammar check of one SPF record, and the
 * list of its terms.
 *
 * MODEL
 *	relaygate lets no TXT record reach libspf2 unless this module accepted
 *	it: Debian 12's libspf2 has an unfixed record-compiler bug
 *	(CVE-2023-42118) reachable by any record it compiles, including
 *	third-party records behind include:.  The check follows the
 *	collected ABNF of RFC 7208 section 12 to the letter (macro strings in
 *	full, domain-end, CIDR lengths without leading zeros, one or more SP
 *	between terms and nothing else), and adds length limits (below) that
 *	keep every accepted term far from the size limits inside libspf2's
 *	compiler where the bug lives.  A record that fails is a permerror
 *	whose reason a customer's DNS administrator can read.  libspf2 also
 *	compiles the TXT an exp= points to (Debian's build aborts the process
 *	on a crafted one: "stack smashing detected"), so explanation strings
 *	have a check of their own.  The term list
 *	(offsets into the caller's text) serves diagnostics and the merging
 *	of our include: into a customer's record.  Evaluation rules (lookup
 *	limits, loops, what a missing include target means) are not grammar
 *	and live in spf_check.
 *
 * OWNERSHIP
 *	Everything is written into caller storage; nothing is allocated.
 *	struct spf_record holds offsets, not pointers: the caller keeps the
 *	text and passes it again to the functions that read terms.
 *
 * CONCURRENCY
 *	Pure functions without state; thread-safe.  struct spf_record is
 *	about 5 KB: fine on a thread stack.
 *
 * ERRORS
 *	Return values are documented per function; reasons are written to
 *	"why" (may be NULL), never logged.  A reason never contains bytes of
 *	the input other than printable ASCII.
 *
 * SEE ALSO
 *	RFC 7208 sections 4.5 (record selection), 4.6 (terms), 5 (mechanisms),
 *	6 (modifiers), 7 (macros), 12 (collected ABNF); RFC 4291 section 2.2
 *	(IPv6 text form).
 */

#include <stddef.h>

/*
 * Limits.  A record (the TXT strings joined) above SPF_RECORD_MAX_LEN
 * bytes or with more than SPF_RECORD_MAX_TERMS terms is hostile or broken
 * and rejected, never truncated: a flattened record of /24 ip4 terms
 * reaches the byte limit at ~120 terms.  The argument of one term (a
 * domain-spec or modifier value) is at most SPF_RECORD_MAX_ARG bytes with
 * at most SPF_RECORD_MAX_MACROS macro-expands ("%{..}", "%%", "%_", "%-"):
 * longer domain-specs cannot name a DNS name (253 bytes), and these bounds
 * keep libspf2's compiled form of a term under 370 and of an explanation
 * under 480 of the 511 bytes (SPF_MAX_MECH_LEN, SPF_MAX_MOD_LEN) whose
 * near-exhaustion CVE-2023-42118 needs.  Explanation strings have the same
 * two limits, and there a '{' after SP counts as a macro too: libspf2
 * reads " {" in an explanation as "%{".
 */
#define SPF_RECORD_MAX_LEN 2048
#define SPF_RECORD_MAX_TERMS 128
#define SPF_RECORD_MAX_ARG 255
#define SPF_RECORD_MAX_MACROS 8
#define SPF_RECORD_MAX_NAME 63 /* unknown-modifier names */

/* The return values of spf_record_parse(). */
enum spf_record_status {
	SPF_RECORD_OK = 0,       /* a valid SPF record */
	SPF_RECORD_NOT_SPF = -1, /* no "v=spf1" version: not an SPF record */
	SPF_RECORD_INVALID = -2, /* an SPF record with an error: permerror */
};

enum spf_term_type {
	SPF_TERM_ALL,
	SPF_TERM_INCLUDE,
	SPF_TERM_A,
	SPF_TERM_MX,
	SPF_TERM_PTR,
	SPF_TERM_IP4,
	SPF_TERM_IP6,
	SPF_TERM_EXISTS,
	SPF_TERM_REDIRECT,
	SPF_TERM_EXP,
	SPF_TERM_UNKNOWN_MOD,
};

/*
 * One term.  Offsets are into the text given to spf_record_parse().
 * arg is the domain-spec (without ':' and CIDR lengths), the address of
 * ip4/ip6 (without the CIDR length), or the modifier value; arg_len is 0
 * when there is none (and for an empty unknown-modifier value).  The name
 * of a modifier is the text from off up to the '=' at arg_off - 1.
 */
struct spf_term {
	enum spf_term_type type;
	char qualifier; /* '+' '-' '~' '?' ('+' if implicit); 0: modifier */
	unsigned short off, len; /* the whole term */
	unsigned short arg_off, arg_len;
	short cidr4, cidr6;     /* a, mx, ip4 / a, mx, ip6; -1 if absent */
	unsigned char addr[16]; /* ip4: 4 bytes, ip6: 16, network order */
};

struct spf_record {
	struct spf_term term[SPF_RECORD_MAX_TERMS];
	int nterms;
	int dns_terms; /* include a mx ptr exists redirect (RFC 7208 4.6.4) */
	int all;       /* index of the first "all", -1 if none */
	int redirect;  /* index of the redirect modifier, -1 if none */
	int exp;       /* index of the exp modifier, -1 if none */
};

/*
 * spf_record_parse - check txt (len bytes, need not be NUL-terminated; the
 * TXT strings already joined without separators) and list its terms in
 * *out.  Returns an enum spf_record_status; on SPF_RECORD_INVALID, why
 * says where and what, e.g. "term 3 'ip4:300.1.1.1': bad IPv4 address".
 * The version test comes first, so any text not starting with "v=spf1"
 * and SP or end is SPF_RECORD_NOT_SPF whatever else it contains.  *out
 * describes the record only when SPF_RECORD_OK is returned.
 */
enum spf_record_status spf_record_parse(const char *txt, size_t len,
                                        struct spf_record *out, char *why,
                                        size_t whylen);

/*
 * spf_record_explain_check - is txt a valid explanation string (the TXT
 * an exp= modifier points to; RFC 7208 6.2)?  Unlike terms it may contain
 * spaces and the macros c, r and t.  Returns 0 or -1 with why.  An invalid
 * explanation is not an error of the record: the exp is ignored.
 */
int spf_record_explain_check(const char *txt, size_t len, char *why,
                             size_t whylen);

/*
 * spf_record_find - index of the first term of the given type whose
 * argument equals arg (ASCII case-insensitive, one trailing dot on either
 * side ignored; arg NULL matches any), or -1.  txt is the parsed text.
 */
int spf_record_find(const struct spf_record *rec, const char *txt,
                    enum spf_term_type type, const char *arg);

/*
 * spf_record_format - write "v=spf1" and the terms of rec, one space
 * apart, into out, NUL-terminated; with extra != NULL, that text is
 * written as a term before term index "at" (at == nterms appends).
 * extra is not checked: parse the result before publishing it.  Returns
 * the length written, or -1 if out is too small or at is out of range.
 */
int spf_record_format(const struct spf_record *rec, const char *txt, int at,
                      const char *extra, char *out, size_t outsize);

/* spf_record_type_name - "include", "ip4", "redirect", "unknown modifier" */
const char *spf_record_type_name(enum spf_term_type type);

#endif
