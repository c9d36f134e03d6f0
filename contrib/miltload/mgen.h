#ifndef MILTLOAD_MGEN_H
#define MILTLOAD_MGEN_H

/*
 * mgen - the messages of a load run: sender domains, header set, body.
 *
 * MODEL
 *	A generator is built once from the options and then only read, by
 *	every worker thread.  Message number seq (counted over the whole
 *	run) gets its sender domain from the list, in turn (round robin) or
 *	at random; its envelope sender and From are "sender@DOMAIN".  The
 *	header set is From, To, Subject, Date, Message-ID, MIME-Version and
 *	Content-Type (only From and To with "bare"), then the extra headers
 *	given, in that order.  Header values start with the space that
 *	follows the colon, as in the message: an MTA sends the value
 *	without it unless the milter negotiated SMFIP_HDR_LEADSPC.  The body is
 *the same for every message: lines of text of at most 78 bytes, each ended by
 *CRLF, as an MTA hands a body to a milter, cut to the size asked for.
 *
 * OWNERSHIP
 *	mgen_new() returns a generator freed by mgen_free(); it copies the
 *	options' strings.  Pointers it returns point into the generator
 *	(valid until mgen_free()) or into the caller's struct mgen_message.
 *
 * CONCURRENCY
 *	After mgen_new(), all functions are thread-safe: nothing changes.
 *	Random choice uses the caller's seed.
 *
 * ERRORS
 *	mgen_new() returns NULL with a reason for a malformed extra header
 *	(no colon) or an empty domain list.  Nothing is printed.
 */

#include <stddef.h>

#define MGEN_MAX_HEADERS 64

struct mgen_opts {
	const char *const *domains; /* sender domains */
	size_t ndomains;
	int random;                 /* pick domains at random */
	const char *const *headers; /* extra "Name: value" lines */
	size_t nheaders;
	int bare;         /* only From and To before the extra headers */
	size_t body_size; /* bytes */
	const char *rcpt; /* recipient address, also the To header */
};

/* One message: envelope and headers, strings in its own storage. */
struct mgen_message {
	const char *domain;
	char mail_addr[300]; /* sender@domain */
	char sender[302];    /* <sender@domain> */
	size_t nheaders;
	const char *name[MGEN_MAX_HEADERS];
	const char *value[MGEN_MAX_HEADERS];
	char storage[2048]; /* values made for this message */
};

struct mgen;

/* mgen_new - a generator; NULL with a reason if the options are bad */
struct mgen *mgen_new(const struct mgen_opts *o, char *why, size_t whylen);

/* mgen_free - release it; NULL is fine */
void mgen_free(struct mgen *g);

/* mgen_message - message number seq; seed drives random domain choice */
void mgen_message(const struct mgen *g, unsigned long seq, unsigned *seed,
                  struct mgen_message *m);

/* mgen_rcpt - the recipient, with angle brackets */
const char *mgen_rcpt(const struct mgen *g);

/* mgen_body - the body every message carries, and its length */
const void *mgen_body(const struct mgen *g, size_t *len);

/* mgen_fill_body - n bytes of CRLF-ended text lines into buf */
void mgen_fill_body(char *buf, size_t n);

#endif
