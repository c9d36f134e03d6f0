#ifndef RELAYGATE_TCPTUNE_H
#define RELAYGATE_TCPTUNE_H

/*
 * tcptune - the TCP options of relaygate's milter sessions.
 *
 * MODEL
 *	Postfix sets no TCP_NODELAY on its milter connections, and several
 *	of its writes get no reply (the macros of RCPT TO and DATA, header
 *	fields and body chunks when relaygate leaves them unanswered).  Its
 *	next small write then waits for our ACK, which Linux delays by up to
 *	40 ms; our own small replies wait for its ACK the same way.  So:
 *	TCP_NODELAY on each accepted socket, and TCP_QUICKACK after each
 *	read (Linux clears it again by itself).  Nothing here is needed on
 *	unix sockets.
 *
 * CONCURRENCY
 *	Thread-safe; no state.
 *
 * ERRORS
 *	Best effort: -1 when a socket cannot be tuned; nothing is logged
 *	here.  An untuned socket costs speed, never mail.
 */

/* tcptune_nodelay - TCP_NODELAY on fd */
int tcptune_nodelay(int fd);

/* tcptune_quickack - acknowledge what fd received, now (fd < 0: no-op) */
void tcptune_quickack(int fd);

#endif
