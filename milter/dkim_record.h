#ifndef RELAYGATE_DKIM_RECORD_H
#define RELAYGATE_DKIM_RECORD_H

/*
 * dkim_record - the DKIM public key record of RFC 6376 section 3.6.1: the
 * TXT text a selector publishes, parsed; and the text the provider must
 * publish for one of its keys, rendered.
 *
 * MODEL
 *	A key record is a tag=value list ("v=DKIM1; k=rsa; p=MIIB...").  The
 *	parser works on the record text with its character-strings already
 *	joined (RFC 6376 section 3.6.2.2: no separator) and is strict where a
 *	receiver would refuse the record or could read it differently: a
 *	duplicate tag, a v= that is not first or not "DKIM1", a missing p=,
 *	an unknown k=, bad base64 in p=, an h= without sha256 or an s=
 *	without email (our signatures could never verify), a character
 *	outside the tag-list grammar.  It is tolerant where the RFC says to
 *	ignore: unknown tags, unknown h=/s=/t= list members, whitespace
 *	(FWS) around tags and inside p=.  An empty p= is a revoked key.
 *	The decoded p= bytes are returned as they are; whether they form a
 *	key of type k= (SubjectPublicKeyInfo or raw Ed25519) is for the keys
 *	module, which compares keys, not text.
 *	Rendering produces "v=DKIM1; k=rsa; p=<base64 SPKI>" or, for
 *	RFC 8463, "v=DKIM1; k=ed25519; p=<base64 of the raw 32 bytes>", and
 *	splits long text into zone-file character-strings of at most 255
 *	bytes.  No function allocates or does I/O; the parser is fuzzed.
 *
 * OWNERSHIP
 *	Everything is written into caller storage: a struct dkim_record
 *	(about 2 KiB, fine on a thread's stack) or a caller's buffer.
 *
 * CONCURRENCY
 *	Pure functions without state; thread-safe.
 *
 * ERRORS
 *	dkim_record_parse() returns a status and, unless the record is OK,
 *	a reason in "why" naming the tag and the problem.  The render
 *	functions have snprintf semantics.  Nothing logs.
 *
 * SEE ALSO
 *	RFC 6376 sections 3.2 (tag-list), 3.6.1 (key record), 3.6.2.2 (TXT
 *	strings); RFC 8463 section 4.2 (Ed25519 keys); RFC 8301 (no sha1);
 *	RFC 1035 section 5.1 (character-strings in zone files).
 */

#include <stddef.h>

/* Decoded p= bytes we accept: an RSA-4096 SPKI is 550 bytes. */
#define DKIM_RECORD_KEY_MAX 2048

enum dkim_record_status {
	DKIM_RECORD_OK,
	DKIM_RECORD_REVOKED,   /* p= present and empty */
	DKIM_RECORD_MALFORMED, /* see why */
};

enum dkim_record_keytype {
	DKIM_RECORD_KEY_RSA, /* k=rsa, also the default */
	DKIM_RECORD_KEY_ED25519,
};

/* h= hash algorithms; both when h= is absent */
#define DKIM_RECORD_HASH_SHA1 0x01u
#define DKIM_RECORD_HASH_SHA256 0x02u

/* t= flags */
#define DKIM_RECORD_FLAG_TESTING 0x01u /* t=y */
#define DKIM_RECORD_FLAG_STRICT 0x02u  /* t=s: no subdomains in i= */

struct dkim_record {
	enum dkim_record_status status;
	enum dkim_record_keytype key_type;
	unsigned hashes; /* DKIM_RECORD_HASH_* */
	unsigned flags;  /* DKIM_RECORD_FLAG_* */
	int has_version; /* the record began with v=DKIM1 */
	size_t key_len;  /* bytes in key; > 0 exactly when status is OK */
	unsigned char key[DKIM_RECORD_KEY_MAX];
};

/*
 * dkim_record_parse - parse len bytes of record text into rec.  An
 * embedded NUL or any byte outside printable ASCII and whitespace makes
 * the record MALFORMED.  rec is fully written in every case.
 */
enum dkim_record_status dkim_record_parse(const char *text, size_t len,
                                          struct dkim_record *rec, char *why,
                                          size_t whylen);

/* dkim_record_keytype_name - "rsa" or "ed25519", the k= value */
const char *dkim_record_keytype_name(enum dkim_record_keytype type);

/*
 * dkim_record_render - the record text for a public key of that type:
 * "v=DKIM1; k=<type>; p=<base64>".  key is the SPKI DER for RSA and the
 * raw 32 bytes for Ed25519; len 0 renders a revocation ("p=").  Returns
 * the length of the full text; writes at most size bytes including the
 * NUL, like snprintf.
 */
size_t dkim_record_render(enum dkim_record_keytype type,
                          const unsigned char *key, size_t len, char *out,
                          size_t size);

/*
 * dkim_record_zone - text as zone-file character-strings, each at most
 * 255 bytes of content: "abc..." "xyz...".  '"' and '\' are escaped with
 * a backslash, other bytes outside printable ASCII as \DDD.  Empty text
 * gives "".  snprintf semantics, as above.
 */
size_t dkim_record_zone(const char *text, char *out, size_t size);

/*
 * dkim_record_base64 - standard base64 (RFC 4648 section 4, with
 * padding) of len bytes.  snprintf semantics, as above.
 */
size_t dkim_record_base64(const unsigned char *in, size_t len, char *out,
                          size_t size);

#endif
