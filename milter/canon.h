#ifndef RELAYGATE_CANON_H
#define RELAYGATE_CANON_H

/*
 * canon - the "relaxed" canonicalization of DKIM (RFC 6376 section 3.4),
 * for the header fields and the body relaygate signs.
 *
 * MODEL
 *	A header field becomes its name in lowercase (ASCII letters only;
 *	spaces and tabs after the name dropped), a colon, and its value
 *	unfolded (every CR and LF removed), each run of spaces and tabs made
 *	one space, none left at the start or the end; then CRLF, except for
 *	the DKIM-Signature field being signed (section 3.7).  Values come as
 *	the MTA passes them: continuation lines joined by "\n" or "\r\n",
 *	with or without the leading space.  Other bytes, 8-bit ones
 *	included, are kept as they are.
 *	The body is canonicalized as it streams in, a chunk at a time, and
 *	never held: spaces and tabs at the end of a line are dropped, other
 *	runs of them become one space, empty lines at the end of the body
 *	are dropped (written only once text follows them), and a last line
 *	without a line end gets CRLF (a lone CR at the very end is taken for
 *	CRLF, as the MTA completes such a line).  An empty body stays empty
 *(unlike "simple", relaxed adds no CRLF to it).  A line ends at CRLF and also
 *	at a bare LF: Postfix ends a line there itself, so a receiver sees
 *	CRLF where the milter saw the LF (python3-dkim reads it so too).  A
 *	bare CR is an ordinary character, as RFC 6376 says.  (libopendkim
 *	differs on both, see notes/libraries.md section 2: it keeps a bare LF
 *	inside the line and drops a bare CR.)  A chunk may end anywhere:
 *	between CR and LF, inside a run of spaces, among empty lines.
 *	The canonical body goes to a sink (the body hash) in pieces of at
 *	most CANON_PIECE bytes.
 *
 * OWNERSHIP
 *	canon_header() writes into the caller's buffer.  canon_body_new()
 *	returns a stream released by canon_body_free() (NULL is fine); the
 *	sink and its argument are borrowed until then.
 *
 * CONCURRENCY
 *	No shared state: a stream belongs to one thread at a time.
 *
 * ERRORS
 *	None: every byte string has a canonical form.  Nothing logs.
 *
 * SEE ALSO
 *	RFC 6376 sections 3.4.2 (relaxed header), 3.4.4 (relaxed body),
 *	3.4.5 (examples), 3.7 (what is hashed); RFC 5322 section 2.2.3
 *	(folding).
 */

#include <stddef.h>

/* The largest piece of canonical body handed to the sink at once. */
#define CANON_PIECE 4096

/* canon_header_max - the most bytes canon_header() writes */
size_t canon_header_max(size_t namelen, size_t valuelen);

/*
 * canon_header - the relaxed form of name and value (namelen and
 * valuelen bytes, no NUL needed) into out, which has room for
 * canon_header_max() bytes; with crlf, CRLF at the end.  Returns the
 * bytes written (no NUL is added).
 */
size_t canon_header(char *out, const char *name, size_t namelen,
                    const char *value, size_t valuelen, int crlf);

/* Where the canonical body goes: len > 0 bytes at a time. */
typedef void (*canon_sink)(void *arg, const unsigned char *data, size_t len);

struct canon_body;

/* canon_body_new - a body stream writing to sink(arg, ...) */
struct canon_body *canon_body_new(canon_sink sink, void *arg);

/* canon_body_update - the next chunk of the body; len 0 is fine */
void canon_body_update(struct canon_body *b, const unsigned char *chunk,
                       size_t len);

/*
 * canon_body_final - the end of the body: the last line ended, pending
 * output written to the sink.  Nothing may follow but canon_body_free().
 */
void canon_body_final(struct canon_body *b);

/* canon_body_free - release a stream; NULL is fine */
void canon_body_free(struct canon_body *b);

#endif
