#ifndef RELAYGATE_KEYS_H
#define RELAYGATE_KEYS_H

/*
 * keys - the provider's DKIM private keys: loading them safely, their
 * public halves, the record to publish, comparing a published key with
 * ours, and generating new ones.
 *
 * MODEL
 *	One key file holds one PEM private key (PKCS#1, PKCS#8 or the
 *	"traditional" format), RSA of 2048 to 4096 bits or Ed25519.  A
 *	selector publishes exactly one key record, so a selector has exactly
 *	one key; signing with RSA and Ed25519 side by side (RFC 8463 section
 *	3) needs two selectors, each with its own file.  A file is only read
 *	if it is safe, as OpenDKIM's RequireSafeKeys: a regular file, not a
 *	symbolic link (O_NOFOLLOW: the inode checked is the inode read, and
 *	the configuration names the real file), no permission bits for group
 *	or others, owned by root or by the user relaygate runs as.  The
 *	checks run with fstat(2) on the descriptor that is then read, so
 *	nothing can be swapped in between.  Encrypted keys are refused (the
 *	daemon has nobody to ask for a passphrase).
 *	A loaded key is immutable and carries what the other modules need:
 *	the algorithm and size; the private key parsed once, as an EVP_PKEY
 *	that signs every message (parsing PEM costs more than an RSA-2048
 *	signature with OpenSSL 3, and a freshly parsed RSA key sets up its
 *	blinding again); the key as PKCS#8 PEM text; the public half as DER
 *	SubjectPublicKeyInfo (RSA) or the raw 32 bytes (Ed25519); a
 *	fingerprint; the TXT record to publish.
 *	The fingerprint is "SHA256:" and the unpadded base64 of the SHA-256
 *	of the DER SubjectPublicKeyInfo, for both algorithms, like
 *	ssh-keygen -l.  To compute it by hand:
 *	  openssl pkey -in KEY -pubout -outform DER |
 *	  openssl dgst -sha256 -binary | base64 | tr -d =
 *	keys_compare() decides whether a published p= holds our key as keys,
 *	not as text: RSA p= is read as SubjectPublicKeyInfo, or as a bare
 *	PKCS#1 RSAPublicKey (which libopendkim verifiers reject and others
 *	accept, RFC 6376 erratum 3017; reported as a match with a warning),
 *	and compared with EVP_PKEY_eq(); Ed25519 p= must be the raw 32 bytes
 *	of RFC 8463.
 *	This module, dkim_record and dkimsign (which signs with keys_pkey())
 *	are relaygate's OpenSSL users (besides libopendkim inside signer).
 *
 * OWNERSHIP
 *	keys_load() and keys_generate() return a key the caller releases
 *	with keys_free() (NULL is fine); keys_free() wipes the private key
 *	text.  Every pointer a keys_*() accessor returns lives as long as
 *	the key.
 *
 * CONCURRENCY
 *	A loaded key is read-only and may be shared by any number of
 *	threads (OpenSSL 3 objects are safe for concurrent reads, see
 *	openssl-threads(7)); keys_compare() is thread-safe, and so is
 *	signing with keys_pkey() from many threads at once (OpenSSL keeps
 *	an RSA key's blinding under its own lock).  Loading and
 *	freeing are the caller's to serialize, normally at start-up and
 *	reload.
 *
 * ERRORS
 *	keys_load() and keys_generate() return NULL and a reason naming the
 *	file; permission problems show the mode in octal and the owner by
 *	name.  keys_compare() returns KEYS_MALFORMED with a reason.  Nothing
 *	logs.  OpenSSL's thread-local error queue is left empty.
 *
 * SEE ALSO
 *	RFC 6376 section 3.6.1 and erratum 3017 (p= format), RFC 8301
 *	(RSA sizes), RFC 8463 (Ed25519), dkim_record.h, opendkim.conf(5)
 *	RequireSafeKeys.
 */

#include <stddef.h>
#include <sys/types.h>

#include <openssl/types.h>

#include "dkim_record.h"

enum keys_alg {
	KEYS_ALG_RSA,
	KEYS_ALG_ED25519,
};

enum keys_match {
	KEYS_MATCH,     /* p= holds our public key */
	KEYS_MISMATCH,  /* p= holds a valid key of type k=, not ours */
	KEYS_MALFORMED, /* p= is not a key of type k= */
};

/* keys_compare() warnings */
#define KEYS_WARN_PKCS1 0x01u /* RSA published as bare RSAPublicKey */

#define KEYS_RSA_MIN_BITS 2048
#define KEYS_RSA_MAX_BITS 4096

struct keys_key;

/*
 * keys_load - read and check the private key at path.  The file must be
 * owned by root or by owner_uid (the user relaygate runs as) and have no
 * group or other permission bits.  RSA below 2048 or above 4096 bits and
 * any other key type are refused.
 */
struct keys_key *keys_load(const char *path, uid_t owner_uid, char *why,
                           size_t whylen);

/* keys_free - release a key, wiping the private parts; NULL is fine */
void keys_free(struct keys_key *key);

/* keys_alg - the key's algorithm */
enum keys_alg keys_alg(const struct keys_key *key);

/* keys_alg_name - "rsa" or "ed25519" (also the k= value) */
const char *keys_alg_name(enum keys_alg alg);

/* keys_bits - modulus size for RSA; 256 for Ed25519 */
unsigned keys_bits(const struct keys_key *key);

/* keys_path - the file the key was loaded from or written to */
const char *keys_path(const struct keys_key *key);

/* keys_pem - the private key as NUL-terminated PKCS#8 PEM text */
const char *keys_pem(const struct keys_key *key);

/*
 * keys_pkey - the private key, parsed once at load: sign with it, never
 * change or free it (it lives as long as the key).  Non-const because
 * OpenSSL's signing calls take it so; they only read it.
 */
EVP_PKEY *keys_pkey(const struct keys_key *key);

/*
 * keys_public - the public half as published in p=: DER
 * SubjectPublicKeyInfo for RSA, the raw 32 bytes for Ed25519.
 */
const unsigned char *keys_public(const struct keys_key *key, size_t *len);

/* keys_fingerprint - "SHA256:<base64, unpadded>" of the SPKI DER */
const char *keys_fingerprint(const struct keys_key *key);

/* keys_record - the TXT record text to publish for this key */
const char *keys_record(const struct keys_key *key);

/*
 * keys_compare - does the published key (p= bytes decoded by
 * dkim_record, of type k=) equal ours?  A key of the other algorithm is a
 * MISMATCH if it decodes, MALFORMED if not.  *warn (may be NULL) gets
 * KEYS_WARN_* bits; a reason goes to why unless the result is a clean
 * MATCH.
 */
enum keys_match keys_compare(const struct keys_key *key,
                             enum dkim_record_keytype type,
                             const unsigned char *p, size_t len, unsigned *warn,
                             char *why, size_t whylen);

/* What keys_generate() makes. */
struct keys_gen {
	enum keys_alg alg;
	unsigned bits; /* RSA: 2048, 3072 or 4096; ignored for Ed25519 */
	uid_t owner;   /* (uid_t) -1: the creating user */
	gid_t group;   /* (gid_t) -1: the creating user's group */
	int overwrite; /* replace an existing file at path */
};

/*
 * keys_generate - write a new private key to path, mode 0600, atomically:
 * the key goes to a fresh temporary file in the same directory
 * (O_CREAT|O_EXCL), is synced, and is then linked to path (which fails
 * if path exists) or, with overwrite, renamed over it.  Returns the new
 * key as keys_load() would, for its record and fingerprint.
 */
struct keys_key *keys_generate(const char *path, const struct keys_gen *gen,
                               char *why, size_t whylen);

#endif
