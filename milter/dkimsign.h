#ifndef RELAYGATE_DKIMSIGN_H
#define RELAYGATE_DKIMSIGN_H

/*
 * dkimsign - one DKIM signature made by relaygate itself: the header
 * fields it covers, the body hash streamed chunk by chunk, the
 * DKIM-Signature field and the signature by the selector's parsed key.
 *
 * MODEL
 *	The caller (signer) gives the fields to sign in the order of the
 *	message, each as the MTA passes it, then the end of the headers,
 *	the body chunks and the end.  Each field is kept in canonical form
 *	(canon) until the end of the headers, when the header hash takes
 *	them in the order of h=: h= names every field given, top to bottom
 *	in the message's own spelling, then the oversigned names once more;
 *	each name in h= takes the bottom-most instance of that name not yet
 *	taken (RFC 6376 section 5.4.2), so an oversigned name, finding none
 *	left, hashes nothing (section 8.15).  From must be among the fields.
 *	The body goes through canon into SHA-256 as it comes.  At the end
 *	the DKIM-Signature field is built with t= as given, bh=, h= and an
 *	empty b=, hashed in relaxed form without its CRLF (section 3.7), and
 *	signed: rsa-sha256 is RSASSA-PKCS1-v1_5 over that SHA-256 (RFC 8017
 *	section 8.2), ed25519-sha256 is Ed25519 over the 32 bytes of it (RFC
 *	8463 section 3).  The key is the EVP_PKEY keys parsed at load: no
 *	per-message key parsing, and an RSA key keeps its blinding.
 *	The field is what libopendkim 2.11 writes for the same message, key
 *	and time, byte for byte (tests/unit/test_signer.c compares them):
 *	tags v, a, c, d, s, t, bh, h, b in that order, folded as its
 *	dkim_getsighdr_d() folds at 75 columns (a tag moves to a new line
 *	when it would pass the margin; a long h= breaks after a colon, b=
 *	anywhere), with "\n\t" instead of CRLF as the MTA wants it.  So a
 *	switch between the two changes nothing a receiver sees.
 *
 * OWNERSHIP
 *	dkimsign_conf_new() returns what all signatures share, released by
 *	dkimsign_conf_free() after the last of them; the oversign list it is
 *	given is borrowed for its life.  dkimsign_begin() returns a handle
 *	released by dkimsign_free() (NULL is fine); the conf and the key are
 *	borrowed until then, selector and domain are copied.  Field names
 *	and values are copied.  dkimsign_end() stores a malloc()ed value the
 *	caller frees.
 *
 * CONCURRENCY
 *	A conf is read-only after dkimsign_conf_new(): any number of threads
 *	sign with it and with the same key at once.  A handle belongs to one
 *	thread at a time.
 *
 * ERRORS
 *	dkimsign_eoh() and dkimsign_end() return -1 with a reason: no From
 *	field, OpenSSL refusing to sign (its error text; its thread-local
 *	error queue is left empty), a line of 998 bytes or more.  The calls
 *	must come in order; signer checks that and refuses out-of-order use.
 *	Nothing logs.
 *
 * SEE ALSO
 *	RFC 6376 sections 3.4 (canonicalization), 3.5 (tags), 3.7 (hashes),
 *	5.4 (fields), 8.15 (oversigning); RFC 8463; RFC 8017 section 8.2;
 *	canon.h; signer.h (the interface the milter uses).
 */

#include <stddef.h>
#include <stdint.h>

#include "keys.h"

struct dkimsign_conf;
struct dkimsign;

/*
 * dkimsign_conf_new - what every signature shares: the names to
 * oversign (NULL-terminated, lowercase, borrowed) and SHA-256.  NULL
 * with a reason if OpenSSL has no SHA-256.
 */
struct dkimsign_conf *dkimsign_conf_new(const char *const *oversign, char *why,
                                        size_t whylen);

/* dkimsign_conf_free - release the shared part; NULL is fine */
void dkimsign_conf_free(struct dkimsign_conf *c);

/*
 * dkimsign_begin - a signature by key as d=domain, s=selector, with t=t
 * (seconds since the epoch).  The names must be valid DNS names (the
 * caller checks).
 */
struct dkimsign *dkimsign_begin(const struct dkimsign_conf *c,
                                const struct keys_key *key,
                                const char *selector, const char *domain,
                                int64_t t);

/*
 * dkimsign_header - a field to sign: every field given is signed.  The
 * value as the MTA passes it ("\n" or "\r\n" between lines).
 */
void dkimsign_header(struct dkimsign *d, const char *name, const char *value);

/* dkimsign_eoh - the end of the fields: hash them; -1 if From is absent */
int dkimsign_eoh(struct dkimsign *d, char *why, size_t whylen);

/* dkimsign_body - a body chunk (line ends as in canon.h) */
void dkimsign_body(struct dkimsign *d, const unsigned char *chunk, size_t len);

/*
 * dkimsign_end - the end of the body: sign, and return in *value the
 * DKIM-Signature value (no name, no leading space), folded with "\n\t",
 * every line (the first counted with "DKIM-Signature: ") shorter than
 * 998 bytes.  Only dkimsign_free() may follow.
 */
int dkimsign_end(struct dkimsign *d, char **value, char *why, size_t whylen);

/* dkimsign_free - release a handle; NULL is fine */
void dkimsign_free(struct dkimsign *d);

#endif
