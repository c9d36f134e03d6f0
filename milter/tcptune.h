#ifndef RELAYGATE_TCPTUNE_H
#define RELAYGATE_TCPTUNE_H

/*
 * tcptune - the TCP options of relaygate's milter sockets, which libmilter
 * opens and accepts without handing them out.
 *
 * MODEL
 *	Postfix sets no TCP_NODELAY on its milter connections, and several
 *	of its writes get no reply (the macros of RCPT TO and DATA, header
 *	fields and body chunks when relaygate leaves them unanswered).  Its
 *	next small write then waits for our ACK, which Linux delays by up to
 *	40 ms; our own small replies wait for its ACK the same way.  So:
 *	TCP_NODELAY on the listening socket (Linux copies it to every
 *	accepted one), and TCP_QUICKACK on a session's socket at each step
 *	relaygate does not answer.  Nothing here is needed on unix sockets.
 *	A session's socket is read from libmilter's session context (struct
 *	smfi_str of sendmail's libmilter.h begins with the thread id and the
 *	socket, from 8.14 to 8.18) and taken only if it is a connected TCP
 *	socket on our port.
 *
 * CONCURRENCY
 *	Thread-safe; no state.
 *
 * ERRORS
 *	Best effort: -1 when a socket cannot be found or tuned; nothing is
 *	logged here.  An untuned socket costs speed, never mail.
 */

/* tcptune_listener - TCP_NODELAY on our socket listening on port */
int tcptune_listener(int port);

/*
 * tcptune_session_fd - the socket of a libmilter session context (an
 * SMFICTX *) if it is a connected TCP socket on port; else -1.
 */
int tcptune_session_fd(const void *ctx, int port);

/* tcptune_quickack - acknowledge what fd received, now (fd < 0: no-op) */
void tcptune_quickack(int fd);

#endif
