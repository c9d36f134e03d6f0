#ifndef RELAYGATE_MILTER_H
#define RELAYGATE_MILTER_H

/*
 * milter - relaygate's side of the milter protocol.
 *
 * MODEL
 *	The milter protocol engine (mserve.h) calls back for each step of
 *	each SMTP session; the callbacks are a few lines each that hand the
 *	data to the message module and turn its decision into protocol
 *	replies.  Each message holds a reference to the runtime
 *	(configuration and keys, runtime.h) that was current at its MAIL
 *	FROM, so a reload never changes the rules in the middle of a
 *	message, and no message that starts after a reload uses the old
 *	ones.  A message context is created at MAIL FROM and freed exactly
 *	once: at the end of the message, at an abort (RSET, or the MTA
 *	giving up) or when the connection closes.
 *
 * OWNERSHIP
 *	Session and message contexts are owned by this module.
 *
 * CONCURRENCY
 *	Callbacks run concurrently for different sessions; the counters are
 *	atomic.
 *
 * ERRORS
 *	milter_listen() returns -1 with a reason; a failure inside a session
 *	becomes a temporary failure reply to the MTA and a log line, never a
 *	crash.
 *
 * SEE ALSO
 *	mserve.h; Postfix MILTER_README.
 */

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "judge.h"
#include "signer.h"

struct milter_counts {
	long sessions;  /* sessions open now */
	long messages;  /* message contexts alive now */
	long completed; /* messages that reached the end, since start */
};

/*
 * milter_listen - open the socket the configuration names; a unix socket
 * gets its mode and group, and a stale socket file is replaced (one that
 * a running process serves is refused).  Call before dropping privileges.
 */
int milter_listen(const struct config *cfg, char *why, size_t whylen);

/*
 * milter_setup - the judge and the signer every message works with;
 * borrowed until milter_run() returned.  Call before milter_run().
 */
void milter_setup(struct judge *judge, struct signer *signer);

/*
 * milter_run - serve until milter_stop() (or accepting fails for good);
 * returns when every session has ended, 0 on an orderly stop.  It may
 * run in any thread.
 */
int milter_run(void);

/*
 * milter_refuse_new - from now on, new sessions get a temporary failure at
 * connect (the MTA defers their mail); sessions already open go on.  The
 * first step of an orderly stop, before milter_stop() cuts what is left.
 */
void milter_refuse_new(void);

/*
 * milter_stop - make milter_run() return, from any thread, at once.
 * Sessions still open are cut: the MTA defers their mail.
 */
void milter_stop(void);

/*
 * milter_close_socket - after milter_run() returned: close the socket and
 * remove a unix socket file; best effort.
 */
void milter_close_socket(void);

/* milter_counts - a snapshot of the counters */
void milter_counts(struct milter_counts *out);

#endif
