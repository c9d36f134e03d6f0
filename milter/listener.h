#ifndef RELAYGATE_LISTENER_H
#define RELAYGATE_LISTENER_H

/*
 * listener - open the listening socket of a milter socket specification.
 *
 * MODEL
 *	A unix socket is created with mode 0600 (the caller then sets the
 *	configured mode and owner); a stale socket file is replaced, so the
 *	caller must first make sure no running process serves it.  An inet
 *	socket binds the address named (a host name is resolved once), with
 *	SO_REUSEADDR, and an inet6 one sets IPV6_V6ONLY.
 *
 * OWNERSHIP
 *	The descriptor returned is the caller's (close-on-exec).
 *
 * CONCURRENCY
 *	Call from one thread at start-up (it sets the umask for a moment).
 *
 * ERRORS
 *	-1 with a reason in "why"; nothing is logged.
 */

#include <stddef.h>

#include "sockspec.h"

/* listener_open - bind and listen; returns the socket or -1 */
int listener_open(const struct sockspec *spec, char *why, size_t whylen);

#endif
