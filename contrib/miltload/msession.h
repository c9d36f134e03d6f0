#ifndef MILTLOAD_MSESSION_H
#define MILTLOAD_MSESSION_H

/*
 * msession - one milter session as Postfix's MTA side conducts it.
 *
 * MODEL
 *	msession_open() connects and negotiates: it offers a protocol
 *	version, actions and steps (by default Postfix 3.x's: 6, 0x1ff,
 *	0x1fffff) and keeps what the milter answers, including its macro
 *	lists.  Each event function then does what Postfix's milter8.c
 *	does for that event: send the macros of the event's stage, skip the
 *	event if the milter asked not to get it (SMFIP_NO*; the macros still
 *	go out, except for headers and body chunks, as in Postfix), send it,
 *	and unless the milter negotiated no reply (SMFIP_NR_*) read replies
 *	until a deciding one (continue, accept, reject, tempfail, discard,
 *	replycode, skip, shutdown).  Progress and quarantine replies, and at
 *	end of message the modification requests, come before it.  A reply
 *	that Postfix would refuse (a modification request outside end of
 *	message, an action the milter did not negotiate, a malformed reply
 *	code, discard at connect or helo) is a protocol error.
 *	Headers and body chunks are sent as given; msession_body() cuts the
 *	body into chunks of at most 65535 bytes and stops at a reply other
 *	than continue.  The session never decides what comes next: the
 *	caller (a script, the load generator) does, from the results.
 *	Writes are buffered and go out in one write before each read, or at
 *	msession_flush(), abort and quit, as with Postfix's VSTREAM.
 *
 * OWNERSHIP
 *	msession_open() returns a session freed by msession_close(), which
 *	closes the socket without a word (QUIT is msession_quit()).  The
 *	macro set and the negotiation result belong to the session.  The
 *	reply passed to the callback points into the session's input
 *	buffer: valid during the call only.  Strings passed in are borrowed
 *	for the call.
 *
 * CONCURRENCY
 *	A session belongs to one thread at a time.
 *
 * ERRORS
 *	Functions return an enum mconn_status (MCONN_OK, or why the session
 *	is dead: connect, timeout, closed, ioerror, protocol) and fill "why".
 *	After a failure every further call returns the same status at once.
 *	Nothing is printed.
 *
 * SEE ALSO
 *	Postfix milter8.c (milter8_connect, milter8_event, milter8_message);
 *	libmilter's engine.c; mproto.h for the wire format.
 */

#include <stddef.h>
#include <stdint.h>

#include "mconn.h"
#include "mmacro.h"
#include "mproto.h"

/* What the MTA offers, and its limits. */
struct msession_opts {
	uint32_t version;  /* MPROTO_VERSION */
	uint32_t actions;  /* MPROTO_POSTFIX_ACTIONS */
	uint32_t protocol; /* MPROTO_POSTFIX_PROTOCOL */
	int timeout_ms;    /* per connect and per reply */
	int nodelay;       /* TCP_NODELAY on TCP sockets */
};

/* The milter's side of the negotiation. */
struct msession_neg {
	uint32_t version;
	uint32_t actions;
	uint32_t protocol;
	char *macros[MPROTO_M_COUNT]; /* its lists; NULL: Postfix's default */
};

/* How an event went out. */
enum msession_how {
	MSESSION_REPLIED, /* sent; code holds the deciding reply */
	MSESSION_NOREPLY, /* sent; the milter negotiated no reply */
	MSESSION_SKIPPED  /* not sent: the milter asked not to get it */
};

/* The outcome of one event. */
struct msession_result {
	enum msession_how how;
	unsigned char code; /* MPROTO_R_*; 0 unless how is REPLIED */
	char text[512];     /* REPLYCODE text (cut), else "" */
	unsigned edits;     /* modification requests before the decision */
};

/* Called for every reply packet; event is the MPROTO_C_* code sent. */
typedef void (*msession_reply_fn)(void *arg, unsigned char event,
                                  const struct mproto_reply *r);

struct msession;

/* msession_opts_postfix - what Postfix 3.x offers; timeout 10 s, NODELAY */
void msession_opts_postfix(struct msession_opts *o);

/*
 * msession_open - connect and negotiate.  On failure *out is NULL and the
 * status says why (MCONN_CONNECT when the socket could not be reached).
 */
enum mconn_status msession_open(const struct mconn_addr *a,
                                const struct msession_opts *o,
                                struct msession **out, char *why,
                                size_t whylen);

/* msession_negotiated - the milter's answer to the negotiation */
const struct msession_neg *msession_negotiated(const struct msession *s);

/* msession_macros - the session's macro values, to set before events */
struct mmacro *msession_macros(struct msession *s);

/* msession_on_reply - call fn(arg, ...) for every reply packet */
void msession_on_reply(struct msession *s, msession_reply_fn fn, void *arg);

/* msession_connect - SMFIC_CONNECT (family MPROTO_FAMILY_*) */
enum mconn_status msession_connect(struct msession *s, const char *host,
                                   char family, uint16_t port, const char *addr,
                                   struct msession_result *res, char *why,
                                   size_t whylen);

/* msession_helo - SMFIC_HELO */
enum mconn_status msession_helo(struct msession *s, const char *name,
                                struct msession_result *res, char *why,
                                size_t whylen);

/*
 * msession_mail, msession_rcpt - SMFIC_MAIL, SMFIC_RCPT: argv[0] is the
 * address with its angle brackets, then ESMTP parameters.
 */
enum mconn_status msession_mail(struct msession *s, const char *const *argv,
                                size_t argc, struct msession_result *res,
                                char *why, size_t whylen);
enum mconn_status msession_rcpt(struct msession *s, const char *const *argv,
                                size_t argc, struct msession_result *res,
                                char *why, size_t whylen);

/* msession_data - SMFIC_DATA */
enum mconn_status msession_data(struct msession *s, struct msession_result *res,
                                char *why, size_t whylen);

/*
 * msession_header - SMFIC_HEADER.  value is sent as given: Postfix strips
 * one leading space unless the milter negotiated SMFIP_HDR_LEADSPC, and
 * so must the caller (msession_wants_leading_space()).
 */
enum mconn_status msession_header(struct msession *s, const char *name,
                                  const char *value,
                                  struct msession_result *res, char *why,
                                  size_t whylen);

/* msession_wants_leading_space - did the milter ask for SMFIP_HDR_LEADSPC */
int msession_wants_leading_space(const struct msession *s);

/* msession_eoh - SMFIC_EOH */
enum mconn_status msession_eoh(struct msession *s, struct msession_result *res,
                               char *why, size_t whylen);

/*
 * msession_body - body bytes in chunks of at most 65535 (none for len 0:
 * res->how is then SKIPPED); stops early at a reply other than continue,
 * which res then holds.  SMFIR_SKIP also ends the body.
 */
enum mconn_status msession_body(struct msession *s, const void *data,
                                size_t len, struct msession_result *res,
                                char *why, size_t whylen);

/* msession_eom - SMFIC_BODYEOB: edits, then the final decision */
enum mconn_status msession_eom(struct msession *s, struct msession_result *res,
                               char *why, size_t whylen);

/* msession_abort - SMFIC_ABORT (no reply): the message ends here */
enum mconn_status msession_abort(struct msession *s, char *why, size_t whylen);

/* msession_quit - SMFIC_QUIT (no reply); the caller then closes */
enum mconn_status msession_quit(struct msession *s, char *why, size_t whylen);

/*
 * msession_raw - send one packet as given (no macros, no checks); with
 * want_reply, read replies as for an unknown event: any deciding reply.
 */
enum mconn_status msession_raw(struct msession *s, unsigned char code,
                               const void *data, size_t len, int want_reply,
                               struct msession_result *res, char *why,
                               size_t whylen);

/*
 * msession_expect - send nothing, read replies until a deciding one (or
 * the milter closes the connection, or the timeout): to see what a milter
 * does after something unexpected.
 */
enum mconn_status msession_expect(struct msession *s,
                                  struct msession_result *res, char *why,
                                  size_t whylen);

/* msession_flush - write what is buffered */
enum mconn_status msession_flush(struct msession *s, char *why, size_t whylen);

/* msession_close - close without a word; NULL is fine */
void msession_close(struct msession *s);

#endif
