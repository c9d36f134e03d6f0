#ifndef RELAYGATE_DMARC_RECORD_H
#define RELAYGATE_DMARC_RECORD_H

/*
 * dmarc_record - the DMARC policy record of RFC 7489 section 6.3, parsed.
 *
 * MODEL
 *	A DMARC record is a tag=value list (RFC 6376 section 3.2 syntax) that
 *	starts with exactly "v=DMARC1"; anything else at _dmarc is not DMARC
 *	and receivers discard it (section 6.6.3).  The parser works on the
 *	record text with the TXT strings already joined and decides one of:
 *
 *	OK: receivers apply the record as it is read here.  Defaults fill
 *	what is absent (sp= from p=, np= from sp=, adkim/aspf relaxed,
 *	pct=100, fo=0, rf=afrf, ri=86400).  Tolerated, with a note in "why":
 *	a missing or invalid p= or invalid sp= when rua= holds a valid URI
 *	(section 6.6.3: receivers act as if p=none; "fallback" is set); an
 *	invalid np= (RFC 9091; ignored, np follows sp); rua=/ruf= URIs
 *	that are not URIs ("rua=dmarc@example.com"): they only break reports.
 *
 *	INVALID: a DMARC record that receivers do not all apply as written,
 *	with the reason, so the customer is told to fix it.  RFC 7489 says
 *	to use defaults for bad values, but deployed receivers (OpenDMARC)
 *	discard the whole record, so a bad value of p/sp (without the rua=
 *	fallback), adkim, aspf, pct, fo, rf or ri, a duplicate tag, a
 *	known tag spelled in capitals ("P=": tag names are case-sensitive in
 *	RFC 6376, some receivers compare them without case), "v=dmarc1" (the
 *	version must match exactly; some receivers accept it), a tag without
 *	"=", a bad tag name, a byte outside printable ASCII and whitespace,
 *	or more than DMARC_RECORD_MAX_TAGS tags make it INVALID.
 *
 *	NOT_DMARC: the text does not start with a v=DMARC1 tag.  "near_miss"
 *	says it looks like an attempt ("v=DMARC1 p=reject" without ';',
 *	"v=DMARC2"), so a caller can explain why receivers ignore it.
 *
 *	Tolerated as receivers do: whitespace (SP, HTAB, CR, LF) around tags,
 *	'=' and ';'; empty tags (";;", a final ';'); p= not directly after v=;
 *	unknown tags; values of p, sp, np, adkim, aspf, fo without case.  The
 *	parser does not allocate and does no I/O; it is fuzzed.
 *
 * OWNERSHIP
 *	Everything is written into caller storage: a struct dmarc_record
 *	(about 600 bytes) holds copies, no pointers into the text.
 *
 * CONCURRENCY
 *	Pure functions without state; thread-safe.
 *
 * ERRORS
 *	dmarc_record_parse() returns the status; "why" holds the reason for
 *	INVALID and NOT_DMARC, a note or "" for OK.  Reasons contain only
 *	printable ASCII.  Nothing is logged.
 *
 * SEE ALSO
 *	RFC 7489 sections 6.3 (tags), 6.4 (ABNF), 6.6.3 (discovery and the
 *	p= fallback), 6.6.4 (pct), 7.1 (report URIs); RFC 9091 section 4.1
 *	(np); RFC 6376 section 3.2 (tag-list); RFC 3986 (URI).
 */

#include <stddef.h>
#include <stdint.h>

/* More tags than this make a record INVALID; DMARC defines twelve. */
#define DMARC_RECORD_MAX_TAGS 64
/* rua=/ruf= values are kept up to this size; longer ones end in "..." */
#define DMARC_RECORD_URI_SIZE 256

enum dmarc_record_status {
	DMARC_RECORD_OK = 0,
	DMARC_RECORD_NOT_DMARC = -1, /* no v=DMARC1 first: not a DMARC record */
	DMARC_RECORD_INVALID = -2,   /* a DMARC record with an error: see why */
};

/* Dispositions, in order of severity (RFC 7489 section 6.3, p=). */
enum dmarc_policy {
	DMARC_POLICY_NONE,
	DMARC_POLICY_QUARANTINE,
	DMARC_POLICY_REJECT,
};

/* Identifier alignment modes (adkim=, aspf=). */
enum dmarc_mode {
	DMARC_MODE_RELAXED, /* same Organizational Domain */
	DMARC_MODE_STRICT,  /* identical domain */
};

/* The tags a record set explicitly (struct dmarc_record.tags). */
#define DMARC_RECORD_TAG_P 0x001u
#define DMARC_RECORD_TAG_SP 0x002u
#define DMARC_RECORD_TAG_NP 0x004u
#define DMARC_RECORD_TAG_ADKIM 0x008u
#define DMARC_RECORD_TAG_ASPF 0x010u
#define DMARC_RECORD_TAG_PCT 0x020u
#define DMARC_RECORD_TAG_FO 0x040u
#define DMARC_RECORD_TAG_RF 0x080u
#define DMARC_RECORD_TAG_RI 0x100u
#define DMARC_RECORD_TAG_RUA 0x200u
#define DMARC_RECORD_TAG_RUF 0x400u

/* fo= failure reporting options */
#define DMARC_RECORD_FO_0 0x1u /* report when all mechanisms fail */
#define DMARC_RECORD_FO_1 0x2u /* report when any mechanism fails */
#define DMARC_RECORD_FO_D 0x4u /* DKIM failure report */
#define DMARC_RECORD_FO_S 0x8u /* SPF failure report */

struct dmarc_record {
	enum dmarc_record_status status;
	int near_miss;         /* NOT_DMARC: starts like "v=DMARC..." */
	int fallback;          /* OK: p=none by the RFC 7489 6.6.3 rule */
	unsigned tags;         /* DMARC_RECORD_TAG_*: valid tags present */
	enum dmarc_policy p;   /* policy for the domain itself */
	enum dmarc_policy sp;  /* for subdomains: sp=, else p */
	enum dmarc_policy np;  /* for non-existent subdomains: np=, else sp */
	enum dmarc_mode adkim; /* default relaxed */
	enum dmarc_mode aspf;  /* default relaxed */
	int pct;               /* 0..100, default 100 */
	unsigned fo;           /* DMARC_RECORD_FO_*, default FO_0 */
	uint32_t ri;           /* seconds, default 86400 */
	int rua_valid;         /* URIs in rua= that are syntactically valid */
	char rua[DMARC_RECORD_URI_SIZE]; /* raw rua= value, "" if absent */
	char ruf[DMARC_RECORD_URI_SIZE]; /* raw ruf= value, "" if absent */
};

/*
 * dmarc_record_parse - parse len bytes of record text (TXT strings
 * joined) into rec, which is fully written in every case.  For INVALID,
 * rec holds the defaults and what was read before the error: do not
 * apply it.  An embedded NUL makes the text INVALID (or NOT_DMARC when
 * it comes before the version is complete).
 */
enum dmarc_record_status dmarc_record_parse(const char *text, size_t len,
                                            struct dmarc_record *rec, char *why,
                                            size_t whylen);

/* dmarc_record_policy_name - "none", "quarantine" or "reject" */
const char *dmarc_record_policy_name(enum dmarc_policy policy);

/* dmarc_record_mode_name - "r" or "s", as in adkim=/aspf= */
const char *dmarc_record_mode_name(enum dmarc_mode mode);

#endif
