#ifndef RELAYGATE_SIGNER_H
#define RELAYGATE_SIGNER_H

/*
 * signer - DKIM signatures, streamed as the milter receives the message,
 * and their verification as a receiver does it.
 *
 * MODEL
 *	One struct signer per process holds the header fields to sign and
 *	those to oversign, what all signatures share (dkimsign), and
 *	libopendkim's DKIM_LIB for verifying, with a key-lookup hook so that
 *	the library never touches DNS.  One struct signer_msg per message:
 *	headers go in one at a time as the MTA delivers them, then the end
 *	of the headers, then body chunks (CRLF line ends, as the MTA sends
 *	them), and signer_end() returns the value of the DKIM-Signature
 *	field.  Nothing holds the whole message: the signed fields are kept
 *	until the end of the headers, the body only runs through the hash.
 *	Signing is relaygate's own (dkimsign, canon), not libopendkim's
 *	(DESIGN.md planned it so): libopendkim 2.11 takes the private key as
 *	PEM text and parses it again for every message, which with OpenSSL 3
 *	cost more than the RSA signature itself, and OpenSSL then set up the
 *	RSA blinding of the freshly parsed key again too; it has no way to
 *	take a parsed key.  dkimsign signs with the EVP_PKEY keys parsed once
 *	and writes the field libopendkim wrote, byte for byte (same tags,
 *	order, folding, h=), so receivers see no change.
 *	Signatures are relaxed/relaxed (robust against the whitespace and
 *	folding changes relays make), without l= (an l= signature lets
 *	anyone append content), rsa-sha256 or ed25519-sha256 by the key's
 *	algorithm.  Only the listed header fields are signed: every instance
 *	of a listed field (bottom-up, as RFC 6376 section 5.4.2 says), the
 *	oversigned names listed once more in h= so that nobody can add
 *	another instance afterwards (section 8.15); everything else
 *	(Received, Return-Path, other signatures, X- fields) is skipped.
 *	From must be present.  The names of the signed fields of one message
 *	may take at most 4000 bytes (h= grows with them).
 *
 *	Verifying, as a receiver does, uses the same handle type and
 *	libopendkim: every header field goes in (DKIM-Signature fields
 *	included), then the body; signer_verify_end() says, for each
 *	signature, pass, fail, temperror or permerror (RFC 8601 section
 *	2.7.1) and why.  libopendkim asks for each signature's key record
 *	(s=, d=) through the lookup function given to signer_verify_begin().
 *	A lookup that meets DNS trouble is reported to libopendkim as "no
 *	key", because its "try again" stops the whole message at the first
 *	such signature; the handle remembers what each lookup really found
 *	and classifies the signature from that.  libopendkim's traps are
 *	guarded here: no empty header text (assertion), no handle use after
 *	a failure, bare LF in header values made CRLF, a body without its
 *	final CRLF completed.
 *
 * OWNERSHIP
 *	signer_open() returns the library wrapper, released by
 *	signer_close() after the last message.  signer_begin() returns a
 *	message handle released by signer_free() (NULL is fine, and it is
 *	always safe exactly once, whatever happened before).  The key passed
 *	to signer_begin() is borrowed until signer_free() (the milter holds
 *	the runtime, and with it the key, for the message).  signer_end()
 *	stores a malloc()ed string the caller frees.  Header lists passed to
 *signer_open() are copied. signer_verify_begin() returns a handle released by
 *signer_free(); its lookup function and argument are borrowed until then.
 *	signer_verify_end() writes into caller storage (no pointers inside).
 *
 * CONCURRENCY
 *	signer_open() and signer_close() run before the milter's threads
 *	start and after they end.  In between any number of threads may
 *	sign and verify at once on the same struct signer and the same keys:
 *	all per-message state is in the handle, the shared parts are only
 *	read.  A struct signer_msg belongs to one thread at a time.
 *
 * ERRORS
 *	Nothing aborts and nothing logs.  signer_open() and signer_begin()
 *	return NULL with a reason.  signer_header(), signer_eoh() and
 *	signer_body() return 0 or -1; the first failure is remembered in the
 *	handle, later calls do nothing and return -1, and signer_end()
 *	returns -1 with that reason (the milter turns it into a tempfail).
 *	When verifying, a signature that does not verify is a result, not
 *	a failure: signer_verify_end() fails only when the message could not
 *	be processed at all (misuse, an internal libopendkim error).
 *
 * SEE ALSO
 *	RFC 6376 sections 3.4 (canonicalization), 3.5 (tags), 5.4 (which
 *	fields to sign), 6 (verifier actions), 8.2 (l=), 8.15 (oversigning);
 *	RFC 8463 (Ed25519); RFC 8058 (List-Unsubscribe-Post); RFC 8601
 *	section 2.7.1 (dkim results); dkimsign.h, canon.h;
 *	notes/libraries.md section 2.
 */

#include <stddef.h>

#include "config.h"
#include "domain.h"
#include "keys.h"

struct signer;
struct signer_msg;

/*
 * signer_default_headers - the fields signed by default, lowercase, NULL
 * terminated: RFC 6376 section 5.4.1's list plus Message-ID, Sender, the
 * MIME fields and List-Unsubscribe-Post.
 */
const char *const *signer_default_headers(void);

/*
 * signer_default_oversign - the fields oversigned by default: From,
 * Reply-To, Subject, To, Cc (the fields a reader sees and acts on).
 */
const char *const *signer_default_oversign(void);

/*
 * signer_open - set up signing and libopendkim.  sign and oversign are
 * NULL-terminated field-name lists (NULL: the defaults); names are
 * letters, digits, '-' and '_'.  From is always signed.  Fails if a name
 * is invalid or an oversigned name is not signed.
 */
struct signer *signer_open(const char *const *sign, const char *const *oversign,
                           char *why, size_t whylen);

/*
 * signer_open_config - signer_open() with the configuration's lists: the
 * default signed fields plus dkim.sign_headers, and
 * dkim.oversign_headers.  What the milter signs with, so that every
 * signature relaygate makes covers the same fields.
 */
struct signer *signer_open_config(const struct config *cfg, char *why,
                                  size_t whylen);

/* signer_close - release the library; no message may be in progress */
void signer_close(struct signer *s);

/*
 * signer_begin - start signing one message with key, as d=domain,
 * s=selector, t= now.  domain and selector must be ASCII DNS names
 * (A-labels).
 */
struct signer_msg *signer_begin(struct signer *s, const struct keys_key *key,
                                const char *selector, const char *domain,
                                char *why, size_t whylen);

/*
 * signer_header - one header field as the MTA passes it: the name and
 * the value with continuation lines joined by "\n" (CRLF is fine too).
 * A leading space in the value, present when the milter negotiated
 * SMFIP_HDR_LEADSPC, is kept; otherwise one is supplied.  When signing,
 * fields that are not to be signed are skipped without cost; when
 * verifying, every field counts.
 */
int signer_header(struct signer_msg *m, const char *name, const char *value);

/* signer_eoh - the end of the header fields */
int signer_eoh(struct signer_msg *m);

/* signer_body - a body chunk with CRLF line ends; len 0 is fine */
int signer_body(struct signer_msg *m, const unsigned char *chunk, size_t len);

/*
 * signer_end - finish and return in *value the DKIM-Signature field value
 * (no name, no leading space), folded with "\n\t" and without any CR, as
 * smfi_insheader() wants it, every line shorter than 998 bytes.  Calls
 * signer_eoh() first if the caller did not.  The handle is finished
 * afterwards either way: only signer_free() remains.
 */
int signer_end(struct signer_msg *m, char **value, char *why, size_t whylen);

/* signer_free - release a message handle; NULL is fine */
void signer_free(struct signer_msg *m);

/* What a key lookup found (signer_key_fn). */
enum signer_key {
	SIGNER_KEY_FOUND,    /* the record's text is in the buffer */
	SIGNER_KEY_NONE,     /* no key record: NXDOMAIN or NODATA */
	SIGNER_KEY_TEMPFAIL, /* DNS trouble: nothing known now */
	SIGNER_KEY_INVALID,  /* an answer no key can come from: several
	                        TXT records, one too long, ... */
};

/*
 * signer_key_fn - fetch the key record of selector in domain (the TXT at
 * "<selector>._domainkey.<domain>") into record, NUL-terminated, at most
 * size bytes with the NUL; why says what was found otherwise.  Called in
 * the verifying thread, from inside libopendkim.
 */
typedef enum signer_key (*signer_key_fn)(void *arg, const char *selector,
                                         const char *domain, char *record,
                                         size_t size, char *why, size_t whylen);

/* One signature's result (RFC 8601 section 2.7.1). */
enum signer_result {
	SIGNER_PASS,      /* verifies */
	SIGNER_FAIL,      /* does not verify: message or key changed */
	SIGNER_TEMPERROR, /* the key could not be fetched now */
	SIGNER_PERMERROR, /* no key, an unusable key or signature */
};

/* Signatures signer_verify_end() reports, at most. */
#define SIGNER_VERIFY_MAX 8

struct signer_sig {
	enum signer_result result;
	char domain[DOMAIN_SIZE];   /* d= */
	char selector[DOMAIN_SIZE]; /* s= */
	char algorithm[32];         /* a=, "" if unknown */
	int body_ok;                /* bh= matches: 1, does not: 0, -1 not
	                               computed (no key, bad signature) */
	unsigned key_bits;          /* the key's size; 0 if none was used */
	char reason[320];           /* why, unless it passed */
};

struct signer_verdict {
	size_t nsigs; /* DKIM-Signature fields found */
	size_t n;     /* reported in sig[], min(nsigs, SIGNER_VERIFY_MAX) */
	struct signer_sig sig[SIGNER_VERIFY_MAX];
};

/*
 * signer_verify_begin - start verifying one message; lookup fetches the
 * keys.  Then signer_header() for every field in order, exactly as
 * received (continuation lines included), signer_eoh(), signer_body().
 */
struct signer_msg *signer_verify_begin(struct signer *s, signer_key_fn lookup,
                                       void *arg, char *why, size_t whylen);

/*
 * signer_verify_end - finish and say what became of each signature, in
 * the order of the fields (a message without any: nsigs 0).  -1 with a
 * reason only if the message could not be processed.
 */
int signer_verify_end(struct signer_msg *m, struct signer_verdict *out,
                      char *why, size_t whylen);

/* signer_result_name - "pass", "fail", "temperror" or "permerror" */
const char *signer_result_name(enum signer_result result);

#endif
