#ifndef MILTLOAD_MLOAD_H
#define MILTLOAD_MLOAD_H

/*
 * mload - a load run: N concurrent milter sessions, M messages each, as
 * Postfix's smtpd and cleanup would send them.
 *
 * MODEL
 *	One thread per connection, each with its own session (msession):
 *	connect and helo once per session, then for each message MAIL, RCPT,
 *	DATA, the headers, EOH, the body and end of message, then ABORT
 *	(Postfix ends every transaction with it).  A session carries
 *	per_session messages (0: all of them) and is then ended with QUIT and
 *	replaced.  A reply other than continue decides the message early, as
 *	in Postfix (accept: no more events for it; tempfail, reject, reply
 *	code, discard: the message is refused); a decision at connect or
 *	helo refuses the session's message and a new session is opened for
 *	the next.  A broken session (timeout, closed, protocol error) fails
 *	its message and is replaced.  All threads start together; the run
 *	time is from that start to the end of the last thread.
 *	With a hold stage every session stops once, after that stage of its
 *	first message, until all sessions have got there (or failed); the
 *	run then reports "miltload: holding N sessions" on the progress
 *	stream, waits hold_seconds and lets them go on.  That is how the
 *	milter's memory at N concurrent connections can be measured.
 *	Macros: j, {daemon_name}, {daemon_addr}, v and _ for the session, i
 *	(a new queue id), {mail_addr}, {rcpt_addr} per message; the
 *	milter's lists or Postfix's defaults decide which go out.
 *
 * OWNERSHIP
 *	The options and the generator are borrowed for the run.  The caller
 *	owns the struct mstats filled (mstats_free()).
 *
 * CONCURRENCY
 *	mload_run() starts and joins its threads; call it from one thread.
 *
 * ERRORS
 *	mload_run() returns -1 with a reason only when threads cannot be
 *	started; message failures are counted in the statistics.
 */

#include <stdio.h>

#include "mconn.h"
#include "mgen.h"
#include "msession.h"
#include "mstats.h"

/* Where every session may be held once. */
enum mload_hold {
	MLOAD_HOLD_NONE,
	MLOAD_HOLD_CONNECT, /* after connect and helo */
	MLOAD_HOLD_MAIL,    /* after MAIL of the first message */
	MLOAD_HOLD_EOH,     /* after its end of headers */
	MLOAD_HOLD_BODY     /* after its body, before end of message */
};

struct mload_opts {
	struct mconn_addr addr;
	struct msession_opts sess;
	unsigned connections;      /* concurrent sessions */
	unsigned long messages;    /* per connection */
	unsigned long per_session; /* messages per session; 0: all */
	const struct mgen *gen;
	enum mload_hold hold;
	double hold_seconds;
	FILE *progress; /* hold notices; NULL for none */
};

/*
 * mload_run - run it; fills *st (initialised here) and *seconds.  -1 with
 * a reason if the threads cannot be started.
 */
int mload_run(const struct mload_opts *o, struct mstats *st, double *seconds,
              char *why, size_t whylen);

/* mload_hold_parse - "connect", "mail", "eoh", "body"; -1 if unknown */
int mload_hold_parse(const char *s, enum mload_hold *h);

#endif
