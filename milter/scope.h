#ifndef RELAYGATE_SCOPE_H
#define RELAYGATE_SCOPE_H

/*
 * scope - is a client subject to the policy (and may its mail be signed)?
 *
 * MODEL
 *	A client is in scope when its address lies in one of scope.networks,
 *	or when scope.sasl is on and the session authenticated (Postfix
 *	passes the SASL login as {auth_authen}).  A client without an IP
 *	address (mail submitted on the relay host itself, which Postfix
 *	presents as "local") counts as loopback.  Everything else is outside
 *	the scope; what happens to its mail is scope.outside's business.
 *
 * OWNERSHIP
 *	Arguments are borrowed for the call.
 *
 * CONCURRENCY
 *	Pure; thread-safe.
 *
 * ERRORS
 *	None: an address that does not parse is outside every network.  The
 *	configuration module validated the networks.
 */

#include "config.h"

/* scope_in - 1 if the client is in scope, else 0; auth may be NULL */
int scope_in(const struct config *cfg, const char *client_addr,
             const char *auth);

/*
 * scope_network_match - does address (text) lie in network ("ADDR" or
 * "ADDR/LEN")?  Addresses of different families never match.
 */
int scope_network_match(const char *network, const char *address);

#endif
